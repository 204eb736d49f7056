/* snapshot.c - reference-counted configuration + engine, swapped on SIGHUP. */
#include "http/snapshot.h"

#include "util/config.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void snapshot_free(struct http_snapshot *snap)
{
    if (snap->owned) {
        myocds_engine_free(snap->engine);
        cfg_free(snap->cfg);
        free(snap->cfg);
    }
    free(snap);
}

int http_snapshots_init(struct http_snapshots *s, const struct cfg *cfg,
                        const struct myocds_engine *engine, struct myocds_err *err)
{
    struct http_snapshot *snap = calloc(1, sizeof *snap);
    if (snap == NULL)
        return myocds_err_set(err, 500, "out of memory");
    /* Borrowed: never freed through the snapshot, so dropping const here is safe. */
    snap->cfg = (struct cfg *)cfg;
    snap->engine = (struct myocds_engine *)engine;
    atomic_init(&snap->refs, 1); /* the server's reference */
    pthread_mutex_init(&s->lock, NULL);
    s->cur = snap;
    s->ready = true;
    return 0;
}

struct http_snapshot *http_snapshot_acquire(struct http_snapshots *s)
{
    pthread_mutex_lock(&s->lock);
    struct http_snapshot *snap = s->cur;
    atomic_fetch_add(&snap->refs, 1);
    pthread_mutex_unlock(&s->lock);
    return snap;
}

void http_snapshot_release(struct http_snapshot *snap)
{
    /* Once swapped out, nothing can take a new reference: the last one frees. */
    if (atomic_fetch_sub(&snap->refs, 1) == 1)
        snapshot_free(snap);
}

void http_snapshot_apply(const struct http_snapshot *snap, struct http_app *app)
{
    app->cfg = snap->cfg;
    app->engine = snap->engine;
    if (snap->base_url[0] != '\0')
        memcpy(app->base_url, snap->base_url, sizeof app->base_url);
}

int http_snapshots_swap(struct http_snapshots *s, struct cfg *cfg, struct myocds_engine *engine,
                        const char *listener_url, struct myocds_err *err)
{
    struct http_snapshot *snap = calloc(1, sizeof *snap);
    if (snap == NULL) {
        myocds_engine_free(engine);
        cfg_free(cfg);
        free(cfg);
        return myocds_err_set(err, 500, "out of memory");
    }
    snap->owned = true;
    snap->cfg = cfg;
    snap->engine = engine;
    snprintf(snap->base_url, sizeof snap->base_url, "%s",
             cfg->public_base_url != NULL ? cfg->public_base_url : listener_url);
    atomic_init(&snap->refs, 1);
    pthread_mutex_lock(&s->lock);
    struct http_snapshot *old = s->cur;
    s->cur = snap;
    pthread_mutex_unlock(&s->lock);
    http_snapshot_release(old);
    return 0;
}

void http_snapshots_destroy(struct http_snapshots *s)
{
    if (!s->ready)
        return;
    http_snapshot_release(s->cur);
    pthread_mutex_destroy(&s->lock);
    s->cur = NULL;
    s->ready = false;
}

static bool str_differs(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a != b;
    return strcmp(a, b) != 0;
}

static bool issuers_differ(const struct cfg *a, const struct cfg *b)
{
    if (a->n_issuers != b->n_issuers)
        return true;
    for (size_t i = 0; i < a->n_issuers; i++) {
        const struct cfg_issuer *x = &a->issuers[i];
        const struct cfg_issuer *y = &b->issuers[i];
        if (str_differs(x->iss, y->iss) || str_differs(x->jwks_uri, y->jwks_uri) ||
            str_differs(x->jwks_file, y->jwks_file))
            return true;
    }
    return false;
}

/* The JWT verifier is built once at start: any auth.* change waits for a restart. */
static bool auth_differs(const struct cfg *a, const struct cfg *b)
{
    if (issuers_differ(a, b) || a->auth_max_lifetime_s != b->auth_max_lifetime_s ||
        a->auth_clock_skew_s != b->auth_clock_skew_s ||
        str_differs(a->auth_jwks_ca_file, b->auth_jwks_ca_file) ||
        a->n_auth_allowed_algs != b->n_auth_allowed_algs)
        return true;
    for (size_t i = 0; i < a->n_auth_allowed_algs; i++) {
        if (str_differs(a->auth_allowed_algs[i], b->auth_allowed_algs[i]))
            return true;
    }
    return false;
}

static bool fhir_differs(const struct cfg *a, const struct cfg *b)
{
    if (a->n_fhir_allowed_servers != b->n_fhir_allowed_servers ||
        a->fhir_timeout_ms != b->fhir_timeout_ms)
        return true;
    for (size_t i = 0; i < a->n_fhir_allowed_servers; i++) {
        if (str_differs(a->fhir_allowed_servers[i], b->fhir_allowed_servers[i]))
            return true;
    }
    if (a->n_fhir_anonymous_servers != b->n_fhir_anonymous_servers)
        return true;
    for (size_t i = 0; i < a->n_fhir_anonymous_servers; i++) {
        if (str_differs(a->fhir_anonymous_servers[i], b->fhir_anonymous_servers[i]))
            return true;
    }
    return false;
}

void http_reload_warn(const struct cfg *old, const struct cfg *next)
{
    const struct {
        const char *key;
        bool changed;
    } keys[] = {
        {"data_dir", str_differs(old->data_dir, next->data_dir)},
        {"feedback.postgres_url", str_differs(old->postgres_url, next->postgres_url)},
        {"http.*", old->http_max_body_bytes != next->http_max_body_bytes ||
                       old->http_threads != next->http_threads ||
                       old->http_connection_limit != next->http_connection_limit ||
                       old->http_timeout_s != next->http_timeout_s ||
                       old->http_per_address_limit != next->http_per_address_limit ||
                       old->http_request_deadline_s != next->http_request_deadline_s ||
                       old->http_queue_max != next->http_queue_max},
        {"auth.*", auth_differs(old, next)},
        {"fhir.*", fhir_differs(old, next)},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (keys[i].changed)
            log_warnx("reload: %s changed; it takes effect at the next restart", keys[i].key);
    }
}

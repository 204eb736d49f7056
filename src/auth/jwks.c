/* jwks.c - one issuer's key set: pinned from a file, or fetched and refreshed by kid.
 *
 * Two locks: `keys` (rwlock) guards the set and is held only to copy a key out or swap in a
 * new set; `fetch` (mutex) serialises fetches and guards the refresh bookkeeping, so a slow
 * fetch delays only the callers that wait for a key the set does not have yet.
 */
#include "auth/jwks.h"

#include "util/config.h"
#include "util/file.h"
#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jwks_issuer {
    char *iss;   /* owned copies: a config reload may free the config */
    char *uri;   /* NULL, or the configured https URL; never one from a token */
    bool pinned; /* keys from jwks_file: never fetched */
    jwks_fetch_fn fetch;
    void *fetch_ctx;
    pthread_rwlock_t keys; /* guards set */
    struct jwk_set set;
    pthread_mutex_t fetch_lock; /* guards the three fields below; held during a fetch */
    bool tried;                 /* a fetch was attempted */
    bool fetched;               /* a fetch succeeded once */
    time_t last_try;
    unsigned long fetches;
};

/* Replaces ji's set with *fresh (ji takes it; *fresh is zeroed). */
static void swap_in(struct jwks_issuer *ji, struct jwk_set *fresh)
{
    struct jwk_set old;
    pthread_rwlock_wrlock(&ji->keys);
    old = ji->set;
    ji->set = *fresh;
    pthread_rwlock_unlock(&ji->keys);
    memset(fresh, 0, sizeof *fresh);
    jwk_set_free(&old);
}

static int load_file(struct jwks_issuer *ji, const char *path, struct myocds_err *err)
{
    struct jwk_set set;
    size_t len = 0;
    char *text = file_read(path, JWKS_MAX_BYTES, &len, err);
    int rc;
    if (text == NULL)
        return myocds_err_set(err, 400, "jwks_file %s: unreadable or over %zu bytes", path,
                              JWKS_MAX_BYTES);
    rc = jwk_set_parse(text, len, &set, err);
    free(text);
    if (rc != 0) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err != NULL ? err->msg : "");
        return myocds_err_set(err, 400, "jwks_file %s: %s", path, why);
    }
    if (set.n == 0) {
        jwk_set_free(&set);
        return myocds_err_set(err, 400, "jwks_file %s: no usable signing key", path);
    }
    swap_in(ji, &set);
    return 0;
}

/* Ownership: *out owned by the caller on success (jwks_issuer_free). */
int jwks_issuer_new(const struct cfg_issuer *is, jwks_fetch_fn fetch, void *ctx,
                    struct jwks_issuer **out, struct myocds_err *err)
{
    struct jwks_issuer *ji = calloc(1, sizeof *ji);
    *out = NULL;
    if (ji == NULL)
        return myocds_err_set(err, 500, "out of memory");
    if (pthread_rwlock_init(&ji->keys, NULL) != 0) {
        free(ji);
        return myocds_err_set(err, 500, "cannot create a lock");
    }
    if (pthread_mutex_init(&ji->fetch_lock, NULL) != 0) {
        pthread_rwlock_destroy(&ji->keys);
        free(ji);
        return myocds_err_set(err, 500, "cannot create a lock");
    }
    ji->iss = strdup(is->iss);
    ji->uri = is->jwks_uri != NULL ? strdup(is->jwks_uri) : NULL;
    ji->pinned = is->jwks_file != NULL;
    if (ji->iss == NULL || (is->jwks_uri != NULL && ji->uri == NULL)) {
        jwks_issuer_free(ji);
        return myocds_err_set(err, 500, "out of memory");
    }
    ji->fetch = fetch;
    ji->fetch_ctx = ctx;
    if (ji->pinned) {
        int rc = load_file(ji, is->jwks_file, err);
        if (rc != 0) {
            jwks_issuer_free(ji);
            return rc;
        }
    }
    *out = ji;
    return 0;
}

void jwks_issuer_free(struct jwks_issuer *ji)
{
    if (ji == NULL)
        return;
    jwk_set_free(&ji->set);
    free(ji->iss);
    free(ji->uri);
    pthread_mutex_destroy(&ji->fetch_lock);
    pthread_rwlock_destroy(&ji->keys);
    free(ji);
}

/* Copies key kid out of the set under the read lock. 0 found, 1 absent, -1 no memory. */
static int copy_key(struct jwks_issuer *ji, const char *kid, struct jwk_key *out)
{
    int rc = 1;
    pthread_rwlock_rdlock(&ji->keys);
    const struct jwk_key *k = jwk_set_find(&ji->set, kid);
    if (k != NULL) {
        *out = *k;
        out->pem = malloc(k->pem_len + 1);
        if (out->pem != NULL)
            memcpy(out->pem, k->pem, k->pem_len + 1);
        rc = out->pem != NULL ? 0 : -1;
    }
    pthread_rwlock_unlock(&ji->keys);
    return rc;
}

/* One fetch of the configured URL; swaps the set in on success. Caller holds fetch_lock. */
static void refresh(struct jwks_issuer *ji, time_t now)
{
    struct myocds_err err = {0};
    struct jwk_set set;
    char *body = NULL;
    size_t len = 0;
    ji->tried = true;
    ji->last_try = now;
    ji->fetches++;
    if (ji->fetch == NULL || ji->fetch(ji->fetch_ctx, ji->uri, &body, &len, &err) != 0 ||
        jwk_set_parse(body, len, &set, &err) != 0) {
        struct log_field f[] = {LOG_STR("iss", ji->iss), LOG_STR("error", err.msg)};
        log_fields(LOG_LEVEL_WARN, NULL, "jwks fetch failed", f, 2);
        free(body);
        return;
    }
    free(body);
    struct log_field f[] = {LOG_STR("iss", ji->iss), LOG_NUM("keys", set.n)};
    log_fields(LOG_LEVEL_INFO, NULL, "jwks fetched", f, 2);
    ji->fetched = true;
    swap_in(ji, &set);
}

/* True when a fetch may run at now: never tried, a minute since the last, or the clock
 * went back. */
static bool may_fetch(const struct jwks_issuer *ji, time_t now)
{
    return !ji->tried || now < ji->last_try || now - ji->last_try >= JWKS_REFRESH_S;
}

enum jwks_result jwks_issuer_key(struct jwks_issuer *ji, const char *kid, time_t now,
                                 struct jwk_key *out)
{
    int rc = copy_key(ji, kid, out);
    bool fetched;
    if (rc <= 0)
        return rc == 0 ? JWKS_FOUND : JWKS_UNAVAILABLE;
    if (ji->pinned || ji->uri == NULL)
        return JWKS_NO_KID;
    pthread_mutex_lock(&ji->fetch_lock);
    rc = copy_key(ji, kid, out); /* another caller may have fetched while we waited */
    if (rc > 0 && may_fetch(ji, now)) {
        refresh(ji, now);
        rc = copy_key(ji, kid, out);
    }
    fetched = ji->fetched;
    pthread_mutex_unlock(&ji->fetch_lock);
    if (rc == 0)
        return JWKS_FOUND;
    return rc > 0 && fetched ? JWKS_NO_KID : JWKS_UNAVAILABLE;
}

unsigned long jwks_issuer_fetches(struct jwks_issuer *ji)
{
    pthread_mutex_lock(&ji->fetch_lock);
    unsigned long n = ji->fetches;
    pthread_mutex_unlock(&ji->fetch_lock);
    return n;
}

const char *jwks_issuer_iss(const struct jwks_issuer *ji)
{
    return ji->iss;
}

const char *jwks_issuer_uri(const struct jwks_issuer *ji)
{
    return ji->uri;
}

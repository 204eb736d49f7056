/* snapshot.h - what SIGHUP replaces while requests run: the configuration and the engine
 * (hooks/), swapped in whole.
 *
 * Each request takes a reference to the current snapshot and drops it when routed; a
 * reload publishes a new snapshot and drops the server's own reference to the old one,
 * which is freed by whoever drops its last reference: requests in flight finish on the
 * set they started with, and no request ever sees half of each.
 *
 * Depends on http.h (struct http_app) and util/config.h only: server.c holds the
 * snapshots and reload.c feeds them through the server; nothing here calls either.
 */
#ifndef MYOCDS_HTTP_SNAPSHOT_H
#define MYOCDS_HTTP_SNAPSHOT_H

#include "http/http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct cfg;

struct http_snapshot {
    atomic_long refs;
    bool owned; /* cfg and engine are freed with the snapshot (false: the caller's) */
    struct cfg *cfg;
    struct myocds_engine *engine;
    char base_url[HTTP_BASE_URL_MAX]; /* "" keeps the listener's */
};

struct http_snapshots {
    pthread_mutex_t lock; /* held only to read cur and take a reference */
    struct http_snapshot *cur;
    bool ready;
};

/* Starts with cfg and engine, borrowed (they outlive the server). 0 or -500. */
int http_snapshots_init(struct http_snapshots *s, const struct cfg *cfg,
                        const struct myocds_engine *engine, struct myocds_err *err);

/* A reference to the current snapshot; give it back with http_snapshot_release(). */
struct http_snapshot *http_snapshot_acquire(struct http_snapshots *s);
void http_snapshot_release(struct http_snapshot *snap);

/* app with the snapshot's cfg, engine and base URL. */
void http_snapshot_apply(const struct http_snapshot *snap, struct http_app *app);

/* Publishes cfg and engine (taking ownership of both, and of cfg's struct, malloc'd);
 * listener_url is the base URL when cfg has no public_base_url. 0, or -500 when out of
 * memory (cfg and engine are then freed and the running set stays). */
int http_snapshots_swap(struct http_snapshots *s, struct cfg *cfg, struct myocds_engine *engine,
                        const char *listener_url, struct myocds_err *err);

/* Drops the server's reference; call once no request can run (after MHD_stop_daemon). A
 * zeroed struct is a no-op. */
void http_snapshots_destroy(struct http_snapshots *s);

/* Logs, for each key that a reload does not apply (data_dir, feedback.postgres_url,
 * http.*, auth.issuers, fhir.*), that it changed and waits for a restart. */
void http_reload_warn(const struct cfg *old, const struct cfg *next);

#endif

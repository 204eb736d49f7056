/* server.h - the HTTP server of `myocds serve` (libmicrohttpd, thread pool).
 *
 * server.c sits on top of src/http/: it uses the router, the auth seam, the snapshots,
 * the workers and the connection guard, and none of them calls it. The SIGHUP reload
 * (reload.h) is above the server and calls http_server_swap().
 */
#ifndef MYOCDS_HTTP_SERVER_H
#define MYOCDS_HTTP_SERVER_H

#include "myocds/myocds.h"

#include <stdbool.h>

#define HTTP_DRAIN_MS 5000 /* how long a stop waits for requests in flight */

struct cfg;
struct store;
struct fhir_client;
struct http_server;

struct http_server_opts {
    const struct cfg *cfg;              /* borrowed; outlives the server */
    const struct myocds_engine *engine; /* borrowed; outlives the server */
    struct store *store;                /* borrowed; outlives the server */
    struct fhir_client *fhir;           /* borrowed; outlives the server; NULL: no fetching */
    struct myocds_repeat *repeat;       /* borrowed; outlives the server; NULL: cards repeat */
    const char *bind;                   /* numeric address or "localhost" */
    unsigned port;                      /* 0: a free port */
    bool dev;                           /* accept calls without a JWT */
};

/* Starts listening and serving. Caller owns *out: http_server_stop() it. */
int http_server_start(const struct http_server_opts *opts, struct http_server **out,
                      struct myocds_err *err);

/* "http://ADDR:PORT" of the listener with the real port (borrowed from s). */
const char *http_server_url(const struct http_server *s);

/* Serves with cfg and engine from now on (taking ownership of both; cfg itself is
 * malloc'd). Requests in flight finish on the set they started with, which is freed after
 * the last of them. Keys a reload cannot apply (listener, store, auth, FHIR client) are
 * logged as waiting for a restart. 0, or -500 (the running set stays). */
int http_server_swap(struct http_server *s, struct cfg *cfg, struct myocds_engine *engine,
                     struct myocds_err *err);

/* Stops accepting, waits up to drain_ms for requests in flight, stops and frees. */
void http_server_stop(struct http_server *s, unsigned drain_ms);

/* True when addr (numeric or "localhost") is a loopback address: 127.0.0.0/8 or ::1. */
bool http_is_loopback(const char *addr);

#endif

/* server.c - libmicrohttpd glue ONLY: bytes <-> struct http_req / struct http_resp.
 *
 * Per request, on the polling thread:
 * - first call (the head is in): request id; a request that is not a POST to a known
 *   service or its feedback is never given a body (a POST of that kind is answered at
 *   once: 404/405); for a service POST, before any body byte is stored: no Bearer token
 *   is a 401 at once, a body declared too large a 413 at once (both close the
 *   connection, the body the client still sends read and dropped: linger.h); else the connection is
 * suspended while a pool thread verifies the token (a signature check, perhaps a JWKS fetch), and
 * libmicrohttpd repeats the first call: a refusal is then a 401 that closes the connection;
 * - body chunks (accumulated up to http.max_body_bytes, then dropped);
 * - final call: GET, HEAD and OPTIONS answered here, never behind queued calls; a service
 *   call suspended and queued for the pool (at most http.queue_max waiting: 503 beyond);
 * on a pool thread: a call whose client has gone, or that waited past http.timeout_s, is
 * not evaluated; the others routed (run_request), the answer copied into the connection's
 * kept buffer (body_keep.h says why), then resumed; on the polling thread again: the
 * answer sent, completion (access log, free). Every request's head and body must be in
 * within http.request_deadline_s (conn_guard.h).
 */
#include "http/server.h"

#include "auth/auth.h"
#include "http/body_keep.h"
#include "http/conn_guard.h"
#include "http/http.h"
#include "http/http_auth.h"
#include "http/linger.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/snapshot.h"
#include "http/workers.h"
#include "util/config.h"
#include "util/log.h"
#include "util/rand_uuid.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_CONN_MEMORY ((size_t)64 * 1024) /* headers incl. a 4 KB JWT fit easily */
#define HTTP_LOG_PATH_MAX 256                /* the path as logged, cut beyond */
#define HTTP_METHOD_MAX 16
#define HTTP_BODY_INITIAL 4096
#define HTTP_DRAIN_STEP_MS 10
#define HTTP_MHD_MSG_MAX 512
#define HTTP_ORIGIN_MAX 256
#define HTTP_SEND_GRACE_MS 1000 /* at a stop: for the last answers to go out */
#define HTTP_TRIM_EVERY_S 2     /* memory given back to the system when idle, at most this often */

/* The origins CORS allows in --dev when http.cors_origins says none: the public CDS Hooks
 * sandbox, and the same sandbox (github.com/cds-hooks/sandbox) built and served locally. */
static const char *const dev_origins[] = {"https://sandbox.cds-hooks.org", "http://localhost:8088",
                                          "http://127.0.0.1:8088"};

struct http_server {
    struct MHD_Daemon *d;
    struct http_app app;
    struct sockaddr_storage addr;
    char url[HTTP_BASE_URL_MAX];
    atomic_long in_flight;
    atomic_long busy;            /* jobs handed to the pool and not yet answered */
    atomic_long unsent;          /* answered by the pool, not yet completed */
    atomic_llong last_trim;      /* when memory was last given back (seconds) */
    atomic_bool trim_due;        /* freed since: give it back once idle */
    struct http_snapshots snaps; /* cfg + engine, replaced whole by http_server_swap */
    struct workers *pool;        /* http.threads threads: route and answer each request */
    struct conn_guard *guard;    /* the request deadline */
    struct linger_set *linger;   /* sockets closed after an early answer (linger.h) */
};

/* What the server keeps per connection (libmicrohttpd's socket context). */
struct conn_ctx {
    struct body_keep keep;
    struct conn_watch watch;
    bool watched;
    int fd;              /* the socket, -1 if unknown */
    bool linger;         /* answered on a head with a body to come: linger at the close */
    size_t linger_bytes; /* the body's declared length, 0 when unknown (chunked) */
};

/* Where a request stands with its JWT when it was verified before its body. */
enum early_auth {
    EARLY_NONE,    /* no such check pending */
    EARLY_QUEUED,  /* the connection suspended, a pool thread verifying the token */
    EARLY_RESUMED, /* verified; libmicrohttpd repeats the first call next */
};

/* One request's state, from its first handler call to its completion. */
struct conn_state {
    struct work_item item; /* first: the pool's link while queued */
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct http_req req;   /* set when queued; header values borrowed from MHD's pool */
    struct http_resp resp; /* the pool's answer, sent once the connection is resumed */
    bool queued;
    bool answered;   /* resp is ready (set by the pool thread before it resumes conn) */
    bool wants_body; /* a POST to a known service (id) or its feedback endpoint */
    bool feedback;
    bool verified;               /* who was accepted before the body */
    enum early_auth early;       /* see above */
    struct myocds_err early_err; /* http_status 0, or the pool check's refusal (401, 503) */
    struct http_identity who;
    char id[HTTP_SERVICE_ID_MAX];
    struct conn_ctx *ctx;   /* the connection's, NULL if none */
    struct body_keep *keep; /* ctx's, NULL if none */
    struct timespec start;
    struct timespec queued_at;
    char req_id[HTTP_REQ_ID_MAX + 1];
    char method[HTTP_METHOD_MAX];
    char path[HTTP_LOG_PATH_MAX]; /* printable copy for the access log */
    char origin[HTTP_ORIGIN_MAX]; /* the request's Origin header, "" when absent or too long */
    char *body;
    size_t len;
    size_t cap;
    bool too_large;
    const char *answer; /* resp's body, copied into keep (resp.body then NULL), or NULL */
    int status;         /* 0 until answered */
};

/* Copies src, cut to cap, with anything but printable ASCII shown as '?'. */
static void copy_printable(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src != NULL && src[i] != '\0' && i + 1 < cap; i++)
        dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[i] = '\0';
}

/* Echoes a sane client X-Request-Id (<= 64 chars of [A-Za-z0-9._-]), else makes one. */
static void set_req_id(struct conn_state *cs, struct MHD_Connection *c)
{
    const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    size_t n = id != NULL ? strlen(id) : 0;
    if (n > 0 && n <= HTTP_REQ_ID_MAX &&
        strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n) {
        memcpy(cs->req_id, id, n + 1);
        return;
    }
    rand_uuid(cs->req_id);
}

/* The proxy's id of one client request, the same on each replica it tries
 * (deploy/nginx.conf: $request_id): <= 64 chars of [A-Za-z0-9._-], else NULL. Borrowed
 * from MHD's pool. */
static const char *retry_key(struct MHD_Connection *c)
{
    const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Myocds-Retry-Key");
    size_t n = k != NULL ? strlen(k) : 0;
    return n > 0 && n <= HTTP_REQ_ID_MAX &&
                   strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
                       n
               ? k
               : NULL;
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000L + (now.tv_nsec - since->tv_nsec) / 1000000L;
}

/* Seconds since since, for the latency histogram. */
static double elapsed_s(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* The Access-Control-Allow-Origin to send: "*" when calls need a JWT (a browser page
 * cannot forge one); in --dev, where calls need none, the request's Origin only when
 * http.cors_origins (else dev_origins) lists it, else NULL (no header: the browser keeps
 * the answer from any other page). Borrowed from cs or static. */
static const char *cors_origin(const struct conn_state *cs)
{
    const struct cfg *cfg = cs->srv->app.cfg;
    if (!cs->srv->app.dev)
        return "*";
    if (cs->origin[0] == '\0')
        return NULL;
    const char *const *list =
        cfg->http_cors_origins != NULL ? (const char *const *)cfg->http_cors_origins : dev_origins;
    size_t n = cfg->http_cors_origins != NULL ? cfg->n_http_cors_origins
                                              : sizeof dev_origins / sizeof dev_origins[0];
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], cs->origin) == 0)
            return cs->origin;
    return NULL;
}

static void add_headers(struct MHD_Response *r, const struct conn_state *cs,
                        const struct http_resp *resp)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type != NULL ? resp->content_type : HTTP_CT_JSON);
    MHD_add_response_header(r, "X-Request-Id", cs->req_id);
    const char *allow = cors_origin(cs);
    if (allow != NULL)
        MHD_add_response_header(r, "Access-Control-Allow-Origin", allow);
    if (cs->srv->app.dev)
        MHD_add_response_header(r, "Vary", "Origin");
    MHD_add_response_header(r, "Access-Control-Expose-Headers", "X-Request-Id");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (resp->allow != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                resp->invalid_token ? "Bearer error=\"invalid_token\"" : "Bearer");
    if (resp->preflight) {
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, X-Request-Id");
        MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
    }
}

/* Queues resp (taking its body) on c; close_after asks MHD to drop the connection. */
static enum MHD_Result send_resp(struct conn_state *cs, struct MHD_Connection *c,
                                 struct http_resp *resp, bool close_after)
{
    struct MHD_Response *r;
    if (resp == &cs->resp && cs->answer != NULL) {
        r = MHD_create_response_from_buffer(resp->len, (void *)cs->answer,
                                            MHD_RESPMEM_PERSISTENT); /* kept by keep */
    } else if (resp->body != NULL) {
        r = MHD_create_response_from_buffer_with_free_callback(resp->len, resp->body, &free);
        if (r == NULL)
            free(resp->body);
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    resp->body = NULL;
    if (r == NULL)
        return MHD_NO;
    add_headers(r, cs, resp);
    if (close_after)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    cs->status = resp->status;
    metrics_request(resp->endpoint != NULL ? resp->endpoint : "other", resp->service, resp->status,
                    elapsed_s(&cs->start));
    return rc;
}

/* The request's declared Content-Length, 0 when it has none. */
static unsigned long long declared_length(struct MHD_Connection *c)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return cl != NULL ? strtoull(cl, NULL, 10) : 0;
}

/* Keeps a body chunk, or drops the whole body once it passes max. */
static void body_append(struct conn_state *cs, const char *data, size_t size, size_t max)
{
    if (cs->too_large)
        return;
    if (size > max - cs->len) {
        cs->too_large = true;
        free(cs->body);
        cs->body = NULL;
        cs->len = cs->cap = 0;
        return;
    }
    body_keep_lend(cs->keep, &cs->body, &cs->cap); /* until on_completed */
    if (cs->len + size + 1 > cs->cap) {
        size_t cap = cs->cap == 0 ? HTTP_BODY_INITIAL : cs->cap;
        while (cap < cs->len + size + 1)
            cap *= 2;
        char *b = realloc(cs->body, cap);
        if (b == NULL) {
            cs->too_large = true; /* best effort when out of memory: refuse the body */
            return;
        }
        cs->body = b;
        cs->cap = cap;
    }
    memcpy(cs->body + cs->len, data, size);
    cs->len += size;
    cs->body[cs->len] = '\0';
}

static struct conn_ctx *ctx_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

/* MHD_OPTION_NOTIFY_CONNECTION: the connection's context (none when out of memory), its
 * deadline watched from its start; freed, with its buffers, when it closes. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    struct conn_ctx *ctx = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ctx = calloc(1, sizeof *ctx);
        if (ctx != NULL)
            ctx->fd = ci != NULL ? ci->connect_fd : -1;
        if (ctx != NULL && ci != NULL && srv->guard != NULL) {
            conn_guard_open(srv->guard, &ctx->watch, ci->connect_fd);
            ctx->watched = true;
        }
        return;
    }
    if (ctx != NULL) {
        if (ctx->watched)
            conn_guard_close(srv->guard, &ctx->watch);
        if (ctx->linger && ctx->fd >= 0 && srv->linger != NULL)
            (void)linger_add(srv->linger, ctx->fd, ctx->linger_bytes);
        body_keep_release(&ctx->keep);
    }
    free(ctx);
    *socket_context = NULL;
    atomic_store(&srv->trim_due, true); /* its buffers are free now */
}

/* The sweeper's chore (conn_guard_tick_fn): once nothing is in flight, what bursts freed
 * goes back to the system (malloc_trim), at most every HTTP_TRIM_EVERY_S. */
static void idle_tick(void *arg)
{
    struct http_server *srv = arg;
    long long now = (long long)time(NULL);
    long long last = atomic_load(&srv->last_trim);
    if (!atomic_load(&srv->trim_due) || atomic_load(&srv->in_flight) != 0 ||
        (now - last < HTTP_TRIM_EVERY_S && now >= last))
        return;
    atomic_store(&srv->trim_due, false);
    atomic_store(&srv->last_trim, now);
    malloc_trim(0);
}

/* The request's head and body are in (armed false), or the connection waits for its next
 * request (true). */
static void watch_arm(struct conn_state *cs, bool armed)
{
    if (cs->ctx != NULL && cs->ctx->watched)
        conn_guard_arm(cs->srv->guard, &cs->ctx->watch, armed);
}

static struct conn_state *conn_begin(struct http_server *srv, struct MHD_Connection *c,
                                     const char *url, const char *method)
{
    struct conn_state *cs = calloc(1, sizeof *cs);
    if (cs == NULL)
        return NULL;
    cs->srv = srv;
    cs->ctx = ctx_of(c);
    cs->keep = cs->ctx != NULL ? &cs->ctx->keep : NULL;
    clock_gettime(CLOCK_MONOTONIC, &cs->start);
    set_req_id(cs, c);
    copy_printable(cs->method, sizeof cs->method, method);
    copy_printable(cs->path, sizeof cs->path, url);
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (origin != NULL && strlen(origin) < sizeof cs->origin)
        copy_printable(cs->origin, sizeof cs->origin, origin);
    atomic_fetch_add(&srv->in_flight, 1);
    metrics_in_flight(1);
    return cs;
}

/* Sends resp (taking its body) on the first call, before any body byte is read, and
 * closes the connection; a body the request declares (a length, or chunks) is read and
 * dropped at the close (linger.h), so a client writing it whole still reads resp. */
static enum MHD_Result send_early(struct conn_state *cs, struct MHD_Connection *c,
                                  struct http_resp *resp)
{
    unsigned long long len = declared_length(c);
    cs->too_large = true; /* keep no byte of the body */
    if (cs->ctx != NULL &&
        (len > 0 || MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)) {
        cs->ctx->linger = true;
        cs->ctx->linger_bytes = len < LINGER_MAX_BYTES ? (size_t)len : LINGER_MAX_BYTES;
    }
    return send_resp(cs, c, resp, true);
}

/* An error answer (msg copied, the caller's) given on the first call: send_early. */
static enum MHD_Result answer_early(struct conn_state *cs, struct MHD_Connection *c, int status,
                                    const char *msg, const char *endpoint)
{
    struct http_resp resp = {.status = status};
    resp.endpoint = endpoint;
    http_resp_error(&resp, status, msg);
    if (status == 401) {
        resp.www_authenticate = true;
        resp.invalid_token = http_auth_presented(&cs->req);
    }
    return send_early(cs, c, &resp);
}

/* Hands cs (its connection suspended) to the pool; on a refusal, cs is answered with a
 * 503 at once. Polling thread. */
static void hand_to_pool(struct conn_state *cs, struct MHD_Connection *c)
{
    struct http_server *srv = cs->srv;
    cs->conn = c;
    cs->queued = true;
    clock_gettime(CLOCK_MONOTONIC, &cs->queued_at);
    atomic_fetch_add(&srv->busy, 1);
    MHD_suspend_connection(c); /* before the pool can resume it */
    int rc = workers_push(srv->pool, &cs->item);
    if (rc == 0)
        return;
    atomic_fetch_sub(&srv->busy, 1);
    const char *msg = rc == WORKERS_FULL ? "too many calls waiting; retry" : "shutting down";
    if (rc == WORKERS_FULL)
        metrics_dropped(METRICS_DROP_QUEUE_FULL);
    if (cs->early == EARLY_QUEUED) {
        cs->early = EARLY_RESUMED;
        myocds_err_set(&cs->early_err, 503, "%s", msg);
    } else {
        cs->resp =
            (struct http_resp){.status = 503, .endpoint = cs->feedback ? "feedback" : "service"};
        snprintf(cs->resp.service, sizeof cs->resp.service, "%s", cs->id);
        http_resp_error(&cs->resp, 503, msg);
        cs->answered = true;
        atomic_fetch_add(&srv->unsent, 1);
    }
    MHD_resume_connection(c);
}

/* The first call: everything decided from the head alone (see the top of this file). */
static enum MHD_Result on_head(struct http_server *srv, struct conn_state *cs,
                               struct MHD_Connection *c, const char *url, const char *method)
{
    struct myocds_err err = {0};
    cs->req = (struct http_req){
        .method = method,
        .path = url,
        .authorization =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .retry_key = retry_key(c),
        .req_id = cs->req_id,
    };
    struct http_snapshot *snap = http_snapshot_acquire(&srv->snaps);
    struct http_app app = srv->app;
    http_snapshot_apply(snap, &app);
    enum MHD_Result res = MHD_YES;
    cs->wants_body = http_route_wants_body(&app, method, url, cs->id, &cs->feedback);
    const char *endpoint = cs->feedback ? "feedback" : "service";
    if (!cs->wants_body) {
        cs->too_large = true;              /* no body is ever stored for these */
        if (strcmp(method, "POST") == 0) { /* 404 or 405, known from the path alone */
            struct http_resp resp = {.status = 500};
            http_route(&app, &cs->req, &resp);
            res = send_early(cs, c, &resp);
        }
    } else if (http_auth_missing(&app, &cs->req, &err)) {
        res = answer_early(cs, c, 401, err.msg, endpoint);
    } else if (declared_length(c) > app.cfg->http_max_body_bytes) {
        res = answer_early(cs, c, 413, "request body too large", endpoint);
    } else if (!app.dev) {
        /* The token is checked on a request thread (a signature check, perhaps a JWKS
         * fetch: never on this one) with the body unread. */
        cs->early = EARLY_QUEUED;
        hand_to_pool(cs, c);
    }
    http_snapshot_release(snap);
    return res;
}

/* libmicrohttpd's repeat of the first call once a pool thread verified the token. */
static enum MHD_Result on_head_verified(struct conn_state *cs, struct MHD_Connection *c)
{
    cs->early = EARLY_NONE;
    cs->queued = false;
    if (cs->early_err.http_status != 0)
        return answer_early(cs, c, cs->early_err.http_status, cs->early_err.msg,
                            cs->feedback ? "feedback" : "service");
    cs->verified = true;
    return MHD_YES;
}

/* The final call of a request that needs no thread: routed here, on the polling thread. */
static enum MHD_Result answer_here(struct conn_state *cs, struct MHD_Connection *c, const char *url,
                                   const char *method)
{
    struct http_server *srv = cs->srv;
    struct http_resp resp = {.status = 500};
    struct http_req req = {.method = method, .path = url, .req_id = cs->req_id};
    struct http_snapshot *snap = http_snapshot_acquire(&srv->snaps);
    struct http_app app = srv->app;
    http_snapshot_apply(snap, &app);
    http_route(&app, &req, &resp);
    http_snapshot_release(snap);
    return send_resp(cs, c, &resp, false);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct http_server *srv = cls;
    struct conn_state *cs = *req_cls;
    (void)version;
    if (cs == NULL) {
        *req_cls = cs = conn_begin(srv, c, url, method);
        return cs != NULL ? on_head(srv, cs, c, url, method) : MHD_NO;
    }
    if (cs->early == EARLY_RESUMED)
        return on_head_verified(cs, c);
    if (*upload_data_size != 0) {
        if (cs->status == 0)
            body_append(cs, upload_data, *upload_data_size, srv->app.cfg->http_max_body_bytes);
        *upload_data_size = 0; /* consumed, or MHD calls again with the same bytes */
        return MHD_YES;
    }
    if (cs->status != 0)
        return MHD_YES;
    if (cs->answered)
        return send_resp(cs, c, &cs->resp, false);
    if (cs->queued)
        return MHD_YES;
    watch_arm(cs, false); /* head and body are in */
    if (!cs->wants_body)
        return answer_here(cs, c, url, method);
    cs->req = (struct http_req){
        .method = method,
        .path = url,
        .content_type =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .authorization =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .body = cs->body,
        .body_len = cs->len,
        .body_too_large = cs->too_large,
        .req_id = cs->req_id,
        .verified = cs->verified ? &cs->who : NULL,
    };
    hand_to_pool(cs, c);
    return MHD_YES;
}

/* True when the client of cs closed its end (or the socket broke) while its call waited. */
static bool client_gone(const struct conn_state *cs)
{
    if (cs->ctx == NULL || !cs->ctx->watched)
        return false;
    struct pollfd p = {.fd = cs->ctx->watch.fd, .events = POLLIN};
    char byte;
    if (poll(&p, 1, 0) != 1)
        return false;
    if ((p.revents & (POLLHUP | POLLERR)) != 0)
        return true;
    /* readable: end of stream (0), or the next pipelined request's bytes (kept) */
    return (p.revents & POLLIN) != 0 && recv(p.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Gives cs its answer (the pool's resp) and lets MHD send it. */
static void finish(struct conn_state *cs)
{
    struct http_server *srv = cs->srv;
    struct MHD_Connection *c = cs->conn;
    cs->answered = true;
    atomic_fetch_add(&srv->unsent, 1);
    atomic_fetch_sub(&srv->busy, 1);
    MHD_resume_connection(c); /* the last touch of cs here: MHD owns it again */
}

/* A pool thread verifying a call's token (its body not read yet). */
static void verify_queued(struct conn_state *cs)
{
    struct http_server *srv = cs->srv;
    struct MHD_Connection *c = cs->conn;
    struct http_snapshot *snap = http_snapshot_acquire(&srv->snaps);
    struct http_app app = srv->app;
    http_snapshot_apply(snap, &app);
    if (http_auth_early(&app, &cs->req, cs->id, cs->feedback, &cs->who, &cs->early_err) == 0)
        cs->early_err.http_status = 0;
    http_snapshot_release(snap);
    cs->early = EARLY_RESUMED;
    atomic_fetch_sub(&srv->busy, 1);
    MHD_resume_connection(c); /* MHD repeats the first call: on_head_verified */
}

/* A pool thread: routes one request, then lets MHD send the answer (on_request again). */
static void run_request(struct work_item *job, void *ctx)
{
    struct conn_state *cs = (struct conn_state *)job;
    struct http_server *srv = ctx;
    if (cs->early == EARLY_QUEUED) {
        verify_queued(cs);
        return;
    }
    cs->resp = (struct http_resp){.status = 500};
    cs->resp.endpoint = cs->feedback ? "feedback" : "service";
    snprintf(cs->resp.service, sizeof cs->resp.service, "%s", cs->id);
    if (client_gone(cs)) {
        metrics_dropped(METRICS_DROP_ABANDONED);
        http_resp_error(&cs->resp, 503, "the client closed the connection");
        finish(cs);
        return;
    }
    if (elapsed_ms(&cs->queued_at) > (long)srv->app.cfg->http_timeout_s * 1000L) {
        metrics_dropped(METRICS_DROP_STALE);
        http_resp_error(&cs->resp, 503, "waited too long for a request thread; retry");
        finish(cs);
        return;
    }
    /* The set this request started with, even if a reload swaps it meanwhile. */
    struct http_snapshot *snap = http_snapshot_acquire(&srv->snaps);
    struct http_app app = srv->app;
    http_snapshot_apply(snap, &app);
    http_route(&app, &cs->req, &cs->resp);
    http_snapshot_release(snap);
    /* Freed here, by the thread whose arena made it (body_keep.h says why). */
    cs->answer = body_keep_answer(cs->keep, cs->resp.body, cs->resp.len);
    if (cs->answer != NULL) {
        free(cs->resp.body);
        cs->resp.body = NULL;
    }
    finish(cs);
}

/* At a stop, for each call still queued once the drain time is over: 503, not evaluated. */
static void cancel_request(struct work_item *job, void *ctx)
{
    struct conn_state *cs = (struct conn_state *)job;
    (void)ctx;
    metrics_dropped(METRICS_DROP_SHUTDOWN);
    if (cs->early == EARLY_QUEUED) {
        myocds_err_set(&cs->early_err, 503, "shutting down");
        cs->early = EARLY_RESUMED;
        atomic_fetch_sub(&cs->srv->busy, 1);
        MHD_resume_connection(cs->conn);
        return;
    }
    cs->resp = (struct http_resp){.status = 503};
    cs->resp.endpoint = cs->feedback ? "feedback" : "service";
    http_resp_error(&cs->resp, 503, "shutting down");
    finish(cs);
}

/* The only reliable cleanup point: runs for completed and aborted requests alike. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct conn_state *cs = *req_cls;
    (void)c;
    if (cs == NULL)
        return;
    struct log_field f[] = {
        LOG_STR("method", cs->method),
        LOG_STR("path", cs->path),
        LOG_NUM("status", cs->status),
        LOG_NUM("ms", elapsed_ms(&cs->start)),
        LOG_STR("end", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted"),
    };
    log_fields(LOG_LEVEL_INFO, cs->req_id, "request", f, sizeof f / sizeof f[0]);
    metrics_in_flight(-1);
    if (cs->answered)
        atomic_fetch_sub(&srv->unsent, 1);
    watch_arm(cs, true); /* the next request on this connection, if any, starts now */
    body_keep_return(cs->keep, cs->body, cs->cap); /* for the connection's next request */
    free(cs->resp.body); /* an answer the client left before it was sent */
    free(cs);
    *req_cls = NULL;
    if (atomic_fetch_sub(&srv->in_flight, 1) == 1)
        atomic_store(&srv->trim_due, true); /* idle_tick gives it back */
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[HTTP_MHD_MSG_MAX];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\r\n")] = '\0';
    log_warnx("libmicrohttpd: %s", msg);
}

bool http_is_loopback(const char *addr)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (strcmp(addr, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, addr, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
    return false;
}

/* bind (numeric, or "localhost" meaning 127.0.0.1) + port -> srv->addr. */
static int resolve_bind(struct http_server *srv, const char *bind, unsigned port,
                        struct myocds_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *res = NULL;
    char service[16];
    if (port > 65535)
        return myocds_err_set(err, 400, "port must be 0..65535");
    snprintf(service, sizeof service, "%u", port);
    const char *host = strcmp(bind, "localhost") == 0 ? "127.0.0.1" : bind;
    if (getaddrinfo(host, service, &hints, &res) != 0 || res == NULL)
        return myocds_err_set(err, 400,
                              "cannot use bind address %s (numeric IPv4/IPv6 or localhost)", bind);
    memcpy(&srv->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* srv->url = http://ADDR:PORT with the port the kernel gave. */
static int set_url(struct http_server *srv, struct myocds_err *err)
{
    char host[INET6_ADDRSTRLEN];
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    socklen_t len =
        srv->addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (info == NULL || getnameinfo((struct sockaddr *)&srv->addr, len, host, sizeof host, NULL, 0,
                                    NI_NUMERICHOST) != 0)
        return myocds_err_set(err, 500, "cannot read the listening address");
    bool v6 = srv->addr.ss_family == AF_INET6;
    snprintf(srv->url, sizeof srv->url, "http://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
             (unsigned)info->port);
    const char *base = srv->app.cfg->public_base_url;
    snprintf(srv->app.base_url, sizeof srv->app.base_url, "%s", base != NULL ? base : srv->url);
    return 0;
}

static struct MHD_Daemon *start_daemon(struct http_server *srv)
{
    const struct cfg *cfg = srv->app.cfg;
    /* One thread polls every connection (epoll) and reads the requests; complete ones go
     * to the pool (srv->pool), their connection suspended until the answer is ready. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (srv->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* One address may take a share of the slots, well below all: a few slow clients cannot
     * keep the others (or a health check) out. Behind a proxy, set it to the total. */
    unsigned per_ip = cfg->http_per_address_limit != 0
                          ? cfg->http_per_address_limit
                          : cfg->http_connection_limit / CFG_PER_ADDRESS_SHARE;
    if (per_ip == 0)
        per_ip = 1;
    /* The logger goes first, or MHD prints early messages itself. */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, &on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&srv->addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->http_connection_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->http_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        &on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, &on_connection, srv, MHD_OPTION_END);
}

int http_server_start(const struct http_server_opts *opts, struct http_server **out,
                      struct myocds_err *err)
{
    struct http_server *srv = calloc(1, sizeof *srv);
    int rc = 0;
    *out = NULL;
    if (srv == NULL)
        return myocds_err_set(err, 500, "out of memory");
    srv->app = (struct http_app){.cfg = opts->cfg,
                                 .engine = opts->engine,
                                 .store = opts->store,
                                 .fhir = opts->fhir,
                                 .repeat = opts->repeat,
                                 .dev = opts->dev};
    atomic_init(&srv->in_flight, 0);
    atomic_init(&srv->last_trim, 0);
    atomic_init(&srv->trim_due, false);
    atomic_init(&srv->busy, 0);
    atomic_init(&srv->unsent, 0);
    if ((rc = resolve_bind(srv, opts->bind, opts->port, err)) != 0)
        goto fail;
    if (!opts->dev && (rc = auth_verifier_new(opts->cfg, &srv->app.auth, err)) != 0)
        goto fail;
    http_auth_share_replay(&srv->app);
    if ((rc = http_snapshots_init(&srv->snaps, opts->cfg, opts->engine, err)) != 0)
        goto fail;
    if (conn_guard_start(opts->cfg->http_request_deadline_s, idle_tick, srv, &srv->guard) != 0 ||
        linger_start(opts->cfg->http_request_deadline_s * 1000U, &srv->linger) != 0 ||
        workers_start(opts->cfg->http_threads, opts->cfg->http_queue_max, run_request, srv,
                      &srv->pool) != 0) {
        rc = myocds_err_set(err, 500, "cannot start the request threads");
        goto fail;
    }
    srv->d = start_daemon(srv);
    if (srv->d == NULL) {
        rc = myocds_err_set(err, 500, "cannot listen on %s port %u (in use, or not local?)",
                            opts->bind, opts->port);
        goto fail;
    }
    if ((rc = set_url(srv, err)) != 0)
        goto fail;
    *out = srv;
    return 0;
fail:
    http_server_stop(srv, 0);
    return rc;
}

const char *http_server_url(const struct http_server *s)
{
    return s->url;
}

int http_server_swap(struct http_server *s, struct cfg *cfg, struct myocds_engine *engine,
                     struct myocds_err *err)
{
    struct http_snapshot *cur = http_snapshot_acquire(&s->snaps);
    http_reload_warn(cur->cfg, cfg);
    http_snapshot_release(cur);
    return http_snapshots_swap(&s->snaps, cfg, engine, s->url, err);
}

/* Sleeps in steps until *counter is 0 or ms have passed (ms < 0: no bound). */
static void wait_zero(atomic_long *counter, long ms)
{
    struct timespec start;
    const struct timespec step = {.tv_sec = 0, .tv_nsec = HTTP_DRAIN_STEP_MS * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (atomic_load(counter) > 0 && (ms < 0 || elapsed_ms(&start) < ms))
        nanosleep(&step, NULL);
}

void http_server_stop(struct http_server *s, unsigned drain_ms)
{
    if (s == NULL)
        return;
    if (s->d != NULL) {
        MHD_socket ls = MHD_quiesce_daemon(s->d); /* no new connections from here on */
        wait_zero(&s->in_flight, (long)drain_ms);
        long left = atomic_load(&s->in_flight);
        if (left > 0)
            log_warnx("stopping with %ld request(s) still in flight", left);
        /* What still waits for a thread is answered 503 now; what runs finishes (bounded by
         * fhir.deadline_ms and the JWKS fetch timeout); then the answers go out. */
        workers_cancel(s->pool, cancel_request);
        wait_zero(&s->busy, -1);
        wait_zero(&s->unsent, HTTP_SEND_GRACE_MS);
        workers_drain(s->pool);
        MHD_stop_daemon(s->d);
        if (ls != MHD_INVALID_SOCKET)
            close(ls); /* only after MHD_stop_daemon in threaded modes */
    }
    workers_free(s->pool);
    conn_guard_free(s->guard);         /* after MHD_stop_daemon: every connection closed */
    linger_free(s->linger);            /* likewise: nothing adds to it any more */
    http_snapshots_destroy(&s->snaps); /* no request runs any more */
    auth_verifier_free(s->app.auth);
    free(s);
}

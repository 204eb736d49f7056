/* server.c - libmicrohttpd glue ONLY: bytes <-> struct http_req / struct http_resp.
 *
 * Per request, on the polling thread: headers (first call: request id, early 413), body
 * chunks (accumulated up to http.max_body_bytes, then dropped), final call (the
 * connection suspended and the request queued for the pool, never earlier: answering on
 * the first call costs keep-alive); on a pool thread: route (run_request), the answer
 * copied into the connection's kept buffer (body_keep.h says why), then resume; on the
 * polling thread again: the answer sent, completion (access log, free).
 */
#include "http/server.h"

#include "auth/auth.h"
#include "http/body_keep.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/snapshot.h"
#include "http/workers.h"
#include "util/config.h"
#include "util/log.h"
#include "util/rand_uuid.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HTTP_CONN_MEMORY ((size_t)64 * 1024) /* headers incl. a 4 KB JWT fit easily */
#define HTTP_LOG_PATH_MAX 256                /* the path as logged, cut beyond */
#define HTTP_METHOD_MAX 16
#define HTTP_BODY_INITIAL 4096
#define HTTP_DRAIN_STEP_MS 10
#define HTTP_MHD_MSG_MAX 512
#define HTTP_ORIGIN_MAX 256

/* The origins CORS allows in --dev when http.cors_origins says none: the public CDS Hooks
 * sandbox, and the sandbox built and served on this machine (shared/tools/sandbox). */
static const char *const dev_origins[] = {"https://sandbox.cds-hooks.org", "http://localhost:8088",
                                          "http://127.0.0.1:8088"};

struct http_server {
    struct MHD_Daemon *d;
    struct http_app app;
    struct sockaddr_storage addr;
    char url[HTTP_BASE_URL_MAX];
    atomic_long in_flight;
    struct http_snapshots snaps; /* cfg + engine, replaced whole by http_server_reload */
    struct workers *pool;        /* http.threads threads: route and answer each request */
};

/* One request's state, from its first handler call to its completion. */
struct conn_state {
    struct work_item item; /* first: the pool's link while queued */
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct http_req req;   /* set when queued; header values borrowed from MHD's pool */
    struct http_resp resp; /* the pool's answer, sent once the connection is resumed */
    bool queued;
    bool answered;          /* resp is ready (set by the pool thread before it resumes conn) */
    struct body_keep *keep; /* the connection's, NULL if none */
    struct timespec start;
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

static bool declared_too_large(struct MHD_Connection *c, size_t max)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return cl != NULL && strtoull(cl, NULL, 10) > max;
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

static struct conn_state *conn_begin(struct http_server *srv, struct MHD_Connection *c,
                                     const char *url, const char *method)
{
    struct conn_state *cs = calloc(1, sizeof *cs);
    if (cs == NULL)
        return NULL;
    cs->srv = srv;
    cs->keep = body_keep_of(c);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct http_server *srv = cls;
    struct conn_state *cs = *req_cls;
    struct http_resp resp = {.status = 500};
    (void)version;
    if (cs == NULL) {
        *req_cls = cs = conn_begin(srv, c, url, method);
        if (cs == NULL)
            return MHD_NO;
        struct myocds_err err = {0};
        struct http_req head = {
            .method = method,
            .path = url,
            .authorization =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
            .req_id = cs->req_id,
        };
        /* Early answers, read no body we will refuse, and close: a POST to a service with
         * no credential at all (authenticate before buffering), or a body declared too
         * large. */
        if (strcmp(method, "POST") == 0 && strncmp(url, "/cds-services/", 14) == 0 &&
            http_auth_missing(&srv->app, &head, &err)) {
            cs->too_large = true;
            resp.endpoint = "other";
            http_resp_error(&resp, 401, err.msg);
            resp.www_authenticate = true;
            return send_resp(cs, c, &resp, true);
        }
        if (!declared_too_large(c, srv->app.cfg->http_max_body_bytes))
            return MHD_YES; /* answer on the final call, not now */
        cs->too_large = true;
        resp.endpoint = "other";
        http_resp_error(&resp, 413, "request body too large");
        return send_resp(cs, c, &resp, true);
    }
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
    };
    cs->conn = c;
    cs->queued = true;
    MHD_suspend_connection(c);                     /* before the pool can resume it */
    if (workers_push(srv->pool, &cs->item) != 0) { /* stopping: no thread will route it */
        cs->resp = (struct http_resp){.status = 503};
        cs->resp.endpoint = "other";
        http_resp_error(&cs->resp, 503, "shutting down");
        cs->answered = true;
        MHD_resume_connection(c);
    }
    return MHD_YES;
}

/* A pool thread: routes one request, then lets MHD send the answer (on_request again). */
static void run_request(struct work_item *job, void *ctx)
{
    struct conn_state *cs = (struct conn_state *)job;
    struct http_server *srv = ctx;
    struct MHD_Connection *c = cs->conn;
    cs->resp = (struct http_resp){.status = 500};
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
    cs->answered = true;
    MHD_resume_connection(c); /* the last touch of cs here: MHD owns it again */
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
    atomic_fetch_sub(&srv->in_flight, 1);
    body_keep_return(cs->keep, cs->body, cs->cap); /* for the connection's next request */
    free(cs->resp.body); /* an answer the client left before it was sent */
    free(cs);
    *req_cls = NULL;
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
    /* One caller (an EHR behind one gateway IP) may take half the slots, not all. */
    unsigned per_ip = cfg->http_connection_limit / 2 > 0 ? cfg->http_connection_limit / 2 : 1;
    /* The logger goes first, or MHD prints early messages itself. */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, &on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&srv->addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->http_connection_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->http_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        &on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, &body_keep_notify, srv, MHD_OPTION_END);
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
    if ((rc = resolve_bind(srv, opts->bind, opts->port, err)) != 0)
        goto fail;
    if (!opts->dev && (rc = auth_verifier_new(opts->cfg, &srv->app.auth, err)) != 0)
        goto fail;
    if ((rc = http_snapshots_init(&srv->snaps, opts->cfg, opts->engine, err)) != 0)
        goto fail;
    if (workers_start(opts->cfg->http_threads, run_request, srv, &srv->pool) != 0) {
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

void http_server_stop(struct http_server *s, unsigned drain_ms)
{
    if (s == NULL)
        return;
    if (s->d != NULL) {
        MHD_socket ls = MHD_quiesce_daemon(s->d); /* no new connections from here on */
        struct timespec start;
        const struct timespec step = {.tv_sec = 0, .tv_nsec = HTTP_DRAIN_STEP_MS * 1000000L};
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (atomic_load(&s->in_flight) > 0 && elapsed_ms(&start) < (long)drain_ms)
            nanosleep(&step, NULL);
        long left = atomic_load(&s->in_flight);
        if (left > 0)
            log_warnx("stopping with %ld request(s) still in flight", left);
        workers_drain(s->pool); /* answers what is queued: no connection stays suspended */
        MHD_stop_daemon(s->d);
        if (ls != MHD_INVALID_SOCKET)
            close(ls); /* only after MHD_stop_daemon in threaded modes */
    }
    workers_free(s->pool);
    http_snapshots_destroy(&s->snaps); /* no request runs any more */
    auth_verifier_free(s->app.auth);
    free(s);
}

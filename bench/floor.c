/* floor.c - the benchmark's floor: HTTP plus JSON parsing, and nothing else.
 *
 * A minimal libmicrohttpd + json-c server that takes the same POST as `myocds serve`,
 * parses the body with the service's own parser (json_parse_strict: strict UTF-8, json-c
 * strict mode, the same depth limit) and answers {"cards":[]}. Same daemon mode, limits and
 * allocator settings as the service (one polling thread, bodies parsed by a pool of one
 * thread per CPU, the connection suspended meanwhile; 256 connections, 64 KiB per
 * connection, 15 s idle timeout, memory kept between requests, a body buffer kept per
 * connection), so myocds / floor is the share of
 * the time the service spends beyond HTTP and parsing.
 *
 * Usage: myocds_floor [--port N]   prints "listening on http://127.0.0.1:PORT" on stderr;
 * SIGTERM/SIGINT stop it (exit 0).
 */
#include "http/body_keep.h"
#include "http/workers.h"
#include "util/json.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLOOR_MAX_BODY ((size_t)1 << 20) /* the service's default http.max_body_bytes */
#define FLOOR_BODY_INITIAL 4096
#define FLOOR_CONN_LIMIT 256
#define FLOOR_TIMEOUT_S 15
#define FLOOR_CONN_MEMORY ((size_t)64 * 1024)

static struct workers *floor_pool; /* one thread per CPU: http.threads' default */

static const char floor_ok[] = "{\"cards\":[]}";
static const char floor_bad[] = "{\"error\":\"invalid JSON\",\"status\":400}";
static const char floor_big[] = "{\"error\":\"request body too large\",\"status\":413}";

/* One request's body, from the first handler call to completion (owned by MHD's slot). */
struct floor_req {
    struct work_item item; /* first: the pool's link while queued */
    struct MHD_Connection *conn;
    bool queued;
    int answer;             /* 0 until the pool parsed the body, then the HTTP status */
    struct body_keep *keep; /* the connection's body buffer, as in the service */
    char *body;
    size_t len;
    size_t cap;
    bool too_large;
};

/* Appends a chunk; past FLOOR_MAX_BODY the body is dropped and refused at the end. */
static void floor_append(struct floor_req *r, const char *data, size_t size)
{
    if (r->too_large || size > FLOOR_MAX_BODY - r->len) {
        r->too_large = true;
        return;
    }
    body_keep_lend(r->keep, &r->body, &r->cap); /* until floor_completed */
    if (r->len + size + 1 > r->cap) {
        size_t cap = r->cap == 0 ? FLOOR_BODY_INITIAL : r->cap;
        while (cap < r->len + size + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (b == NULL) {
            r->too_large = true;
            return;
        }
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, size);
    r->len += size;
    r->body[r->len] = '\0';
}

/* Parses the whole body with the service's own parser (json_parse_strict: UTF-8 checked,
 * json-c strict, the same depth limit); true when it is a JSON object. */
static bool floor_parse(const struct floor_req *r)
{
    json_object *root = r->body != NULL ? json_parse_strict(r->body, r->len, NULL) : NULL;
    bool ok = json_object_is_type(root, json_type_object);
    json_object_put(root);
    return ok;
}

static enum MHD_Result floor_answer(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static struct body_keep *floor_keep_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

static enum MHD_Result floor_request(void *cls, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **req_cls)
{
    struct floor_req *r = *req_cls;
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    if (r == NULL) {
        *req_cls = r = calloc(1, sizeof *r);
        if (r == NULL)
            return MHD_NO;
        r->keep = floor_keep_of(c);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        floor_append(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_large)
        return floor_answer(c, MHD_HTTP_CONTENT_TOO_LARGE, floor_big);
    if (r->answer != 0)
        return r->answer == MHD_HTTP_OK ? floor_answer(c, MHD_HTTP_OK, floor_ok)
                                        : floor_answer(c, MHD_HTTP_BAD_REQUEST, floor_bad);
    if (r->queued)
        return MHD_YES;
    /* As the service does: parsed by the pool, the connection suspended meanwhile. */
    r->conn = c;
    r->queued = true;
    MHD_suspend_connection(c);
    if (workers_push(floor_pool, &r->item) != 0) {
        r->answer = MHD_HTTP_BAD_REQUEST;
        MHD_resume_connection(c);
    }
    return MHD_YES;
}

/* A pool thread: parses one body, then lets MHD send the answer. */
static void floor_work(struct work_item *job, void *ctx)
{
    struct floor_req *r = (struct floor_req *)job;
    struct MHD_Connection *c = r->conn;
    (void)ctx;
    r->answer = floor_parse(r) ? MHD_HTTP_OK : MHD_HTTP_BAD_REQUEST;
    MHD_resume_connection(c);
}

/* Frees the request state MHD kept for us, completed or aborted. */
static void floor_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                            enum MHD_RequestTerminationCode toe)
{
    struct floor_req *r = *req_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (r != NULL)
        body_keep_return(r->keep, r->body, r->cap);
    free(r);
    *req_cls = NULL;
}

/* The connection's kept buffers (libmicrohttpd's socket context), as the service keeps
 * them. */
static void floor_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(struct body_keep)); /* NULL: nothing kept */
        return;
    }
    body_keep_release(*socket_context);
    free(*socket_context);
    *socket_context = NULL;
}

static struct MHD_Daemon *floor_start(unsigned port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_ALLOW_SUSPEND_RESUME;
    return MHD_start_daemon(flags, 0, NULL, NULL, &floor_request, NULL, MHD_OPTION_SOCK_ADDR,
                            (const struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)FLOOR_CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)FLOOR_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            FLOOR_CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, &floor_completed, NULL,
                            MHD_OPTION_NOTIFY_CONNECTION, &floor_connection, NULL, MHD_OPTION_END);
}

int main(int argc, char **argv)
{
    long port = 0;
    if (argc == 3 && strcmp(argv[1], "--port") == 0)
        port = strtol(argv[2], NULL, 10);
    if ((argc != 1 && argc != 3) || port < 0 || port > 65535) {
        fprintf(stderr, "usage: myocds_floor [--port N]\n");
        return 2;
    }
    sigset_t set;
    int sig = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before MHD starts its threads */
    mem_keep_heap();                        /* the allocator settings of `myocds serve` */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (workers_start(cpus > 0 ? (unsigned)cpus : 1, 0, floor_work, NULL, &floor_pool) != 0) {
        fprintf(stderr, "myocds_floor: cannot start its threads\n");
        return 1;
    }
    struct MHD_Daemon *d = floor_start((unsigned)port);
    const union MHD_DaemonInfo *info =
        d != NULL ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (info == NULL) {
        fprintf(stderr, "myocds_floor: cannot listen on 127.0.0.1 port %ld\n", port);
        return 1;
    }
    fprintf(stderr, "listening on http://127.0.0.1:%u\n", (unsigned)info->port);
    sigwait(&set, &sig);
    MHD_socket ls = MHD_quiesce_daemon(d);
    workers_drain(floor_pool); /* no connection stays suspended */
    MHD_stop_daemon(d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    workers_free(floor_pool);
    return 0;
}

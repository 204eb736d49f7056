/* router.c - the route table: method + path pattern -> handler, 404/405, and the small
 * GET handlers (discovery, health, metrics). The POSTs go to handlers.c, which never
 * calls back here. */
#include "http/router.h"

#include "http/handlers.h"
#include "http/metrics.h"

#include <stdio.h>
#include <string.h>

#define ROUTE_PATH_MAX 1024 /* a longer path matches nothing: 404 */
#define ALLOW_GET "GET, HEAD, OPTIONS"
#define ALLOW_POST "POST, OPTIONS"
#define CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

typedef void (*route_fn)(const struct http_app *app, const struct http_req *req, const char *id,
                         struct http_resp *resp);

struct route {
    const char *method;
    const char *pattern; /* "{id}" matches one segment naming a known service */
    const char *endpoint;
    const char *allow;
    route_fn fn;
};

static void h_discovery(const struct http_app *app, const struct http_req *req, const char *id,
                        struct http_resp *resp)
{
    size_t len = 0;
    (void)req;
    (void)id;
    const char *doc = myocds_discovery_json(app->engine, &len);
    if (doc == NULL) {
        http_resp_error(resp, 500, "discovery document unavailable");
        return;
    }
    http_resp_json(resp, 200, doc, len);
}

static void h_healthz(const struct http_app *app, const struct http_req *req, const char *id,
                      struct http_resp *resp)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    (void)app;
    (void)req;
    (void)id;
    http_resp_json(resp, 200, ok, sizeof ok - 1);
}

static void h_metrics(const struct http_app *app, const struct http_req *req, const char *id,
                      struct http_resp *resp)
{
    (void)req;
    (void)id;
    (void)app;
    resp->body = metrics_render(&resp->len);
    if (resp->body == NULL) {
        http_resp_error(resp, 500, "out of memory");
        return;
    }
    resp->status = 200;
    resp->content_type = CT_PROMETHEUS;
}

static void h_service(const struct http_app *app, const struct http_req *req, const char *id,
                      struct http_resp *resp)
{
    http_handle_service(app, req, id, resp);
}

static void h_feedback(const struct http_app *app, const struct http_req *req, const char *id,
                       struct http_resp *resp)
{
    http_handle_feedback(app, req, id, resp);
}

static const struct route routes[] = {
    {"GET", "/cds-services", "discovery", ALLOW_GET, h_discovery},
    {"POST", "/cds-services/{id}", "service", ALLOW_POST, h_service},
    {"POST", "/cds-services/{id}/feedback", "feedback", ALLOW_POST, h_feedback},
    {"GET", "/healthz", "healthz", ALLOW_GET, h_healthz},
    {"GET", "/metrics", "metrics", ALLOW_GET, h_metrics},
};

/* True when path fits pattern; a "{id}" segment is copied to id[HTTP_SERVICE_ID_MAX] and
 * must name a known service. */
static bool match(const struct http_app *app, const char *pattern, const char *path, char *id)
{
    const char *p = pattern;
    const char *s = path;
    while (*p != '\0') {
        if (strncmp(p, "{id}", 4) == 0) {
            size_t n = strcspn(s, "/");
            if (n == 0 || n >= HTTP_SERVICE_ID_MAX)
                return false;
            memcpy(id, s, n);
            id[n] = '\0';
            if (!myocds_service_exists(app->engine, id))
                return false;
            p += 4;
            s += n;
        } else if (*p++ != *s++) {
            return false;
        }
    }
    return *s == '\0';
}

static bool method_fits(const char *route_method, const char *method)
{
    /* HEAD is GET without a body (MHD drops the body). */
    return strcmp(route_method, method) == 0 ||
           (strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

bool http_route_wants_body(const struct http_app *app, const char *method, const char *path,
                           char *id, bool *feedback)
{
    char p[ROUTE_PATH_MAX];
    size_t n = strlen(path);
    if (strcmp(method, "POST") != 0 || n >= sizeof p)
        return false;
    memcpy(p, path, n + 1);
    if (n > 1 && p[n - 1] == '/')
        p[n - 1] = '\0';
    *feedback = match(app, "/cds-services/{id}/feedback", p, id);
    return *feedback || match(app, "/cds-services/{id}", p, id);
}

void http_route(const struct http_app *app, const struct http_req *req, struct http_resp *resp)
{
    char path[ROUTE_PATH_MAX];
    char id[HTTP_SERVICE_ID_MAX] = "";
    const struct route *found = NULL;
    size_t n = strlen(req->path);
    resp->endpoint = "other";
    if (strcmp(req->method, "OPTIONS") == 0) {
        resp->endpoint = "preflight";
        resp->status = 204;
        resp->preflight = true;
        return;
    }
    if (n >= sizeof path) {
        http_resp_error(resp, 404, "not found");
        return;
    }
    memcpy(path, req->path, n + 1);
    if (n > 1 && path[n - 1] == '/')
        path[n - 1] = '\0'; /* "/cds-services/" is "/cds-services" */
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char cand[HTTP_SERVICE_ID_MAX] = "";
        if (!match(app, routes[i].pattern, path, cand))
            continue;
        memcpy(id, cand, sizeof id);
        found = &routes[i];
        if (method_fits(found->method, req->method))
            break;
    }
    if (found == NULL) {
        bool svc = strncmp(path, "/cds-services/", 14) == 0;
        http_resp_error(resp, 404, svc ? "unknown service" : "not found");
        return;
    }
    resp->endpoint = found->endpoint;
    snprintf(resp->service, sizeof resp->service, "%s", id);
    if (!method_fits(found->method, req->method)) {
        resp->allow = found->allow;
        http_resp_error(resp, 405, "method not allowed");
        return;
    }
    found->fn(app, req, id, resp);
}

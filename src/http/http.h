/* http.h - what the HTTP pieces share: a request and an answer without MHD in them, the
 * application context, the router, the auth seam and the metrics.
 *
 * server.c turns MHD calls into struct http_req and struct http_resp into MHD answers;
 * everything else here is testable without sockets.
 */
#ifndef MYOCDS_HTTP_HTTP_H
#define MYOCDS_HTTP_HTTP_H

#include "myocds/myocds.h"

#include <stdbool.h>
#include <stddef.h>

#define HTTP_REQ_ID_MAX 64      /* an X-Request-Id we echo: at most this many safe chars */
#define HTTP_BASE_URL_MAX 512   /* public base URL, http://ADDR:PORT by default */
#define HTTP_SERVICE_ID_MAX 128 /* longest {id} segment we route */
#define HTTP_LABEL_MAX HTTP_SERVICE_ID_MAX /* metric label values */
#define HTTP_CT_JSON "application/json"

struct cfg;
struct http_identity;
struct store;
struct fhir_client;
struct auth_verifier;

/* One request, all strings borrowed from the server for the duration of the call. */
struct http_req {
    const char *method;
    const char *path;          /* decoded, without the query */
    const char *content_type;  /* NULL when absent */
    const char *authorization; /* NULL when absent; never logged */
    const char *body;          /* NUL-terminated; NULL when empty */
    size_t body_len;
    bool body_too_large; /* the body went over http.max_body_bytes and was dropped */
    const char *req_id;
    const struct http_identity *verified; /* NULL, or the caller http_auth_early accepted */
};

/* One answer: the router fills it, the server sends it. */
struct http_resp {
    int status;
    char *body; /* owned, malloc'd; NULL for no body */
    size_t len;
    const char *content_type;     /* NULL: application/json */
    const char *allow;            /* the Allow header of a 405 */
    bool www_authenticate;        /* add WWW-Authenticate: Bearer (401) */
    bool invalid_token;           /* ... with error="invalid_token": a bearer token failed */
    bool preflight;               /* add the CORS preflight headers */
    const char *endpoint;         /* metric label: discovery, service, feedback, ... */
    char service[HTTP_LABEL_MAX]; /* metric label: a known service id, or empty */
};

/* Everything a handler may use; immutable while the server runs (store and metrics are
 * thread-safe themselves). */
struct http_app {
    const struct cfg *cfg;
    const struct myocds_engine *engine;
    struct store *store;
    struct fhir_client *fhir;     /* fetches missing prefetch keys; NULL: none (412) */
    struct auth_verifier *auth;   /* JWT verification and its counters; NULL in --dev mode */
    struct myocds_repeat *repeat; /* cards shown lately (src/cds/repeat.h); NULL: none */
    bool dev;                     /* accept calls without a JWT */
    char base_url[HTTP_BASE_URL_MAX];
};

/* Routes req and fills resp (resp->body owned by the caller afterwards). */
void http_route(const struct http_app *app, const struct http_req *req, struct http_resp *resp);

/* Sets resp to the JSON error {"error": msg, "status": status}. msg must hold no value
 * taken from the request. */
void http_resp_error(struct http_resp *resp, int status, const char *msg);

/* Sets resp to status with a copy of the JSON text json. */
void http_resp_json(struct http_resp *resp, int status, const char *json, size_t len);

/* The service call and feedback handlers (handlers.c); id is a known service id. */
void http_handle_service(const struct http_app *app, const struct http_req *req, const char *id,
                         struct http_resp *resp);
void http_handle_feedback(const struct http_app *app, const struct http_req *req, const char *id,
                          struct http_resp *resp);

/* Who is calling: filled by http_auth_check (empty strings in --dev mode). */
struct http_identity {
    char iss[256];
    char tenant[128];
};

/* The auth seam: may the caller of req use the endpoint of service id (its feedback
 * endpoint when feedback)? Returns 0 and fills *who, or -401 with err set to the check that
 * failed. Without --dev the bearer JWT must pass app->auth (src/auth/); a request whose
 * caller was verified before its body (req->verified) is not verified again (its jti is
 * already spent). */
int http_auth_check(const struct http_app *app, const struct http_req *req, const char *id,
                    bool feedback, struct http_identity *who, struct myocds_err *err);

/* True when req carries an Authorization: Bearer credential (a refusal is then an
 * error="invalid_token", RFC 6750). */
bool http_auth_presented(const struct http_req *req);

/* Before any body byte is read: true (err set, the refusal logged and counted as
 * no_token) when the service requires a JWT (no --dev) and req carries no Bearer
 * credential at all; a present credential is verified later, with the body. */
bool http_auth_missing(const struct http_app *app, const struct http_req *req,
                       struct myocds_err *err);

/* The same check on the head of the POST, before any body byte is read (req's body is not
 * used); it may wait for the issuer's JWKS fetch and costs a signature check, so it runs
 * on a request thread. 0: accepted, *who filled; -401: refused, err set (logged and
 * counted). */
int http_auth_early(const struct http_app *app, const struct http_req *req, const char *id,
                    bool feedback, struct http_identity *who, struct myocds_err *err);

/* Whether a request of method on path needs a body and a JWT: true, with the service id
 * copied to id[HTTP_SERVICE_ID_MAX] and *feedback set, for a POST to a known service or
 * its feedback endpoint; every other request is answered without reading its body. */
bool http_route_wants_body(const struct http_app *app, const char *method, const char *path,
                           char *id, bool *feedback);

#endif

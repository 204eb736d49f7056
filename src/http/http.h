/* http.h - what the HTTP pieces share: a request and an answer without MHD in them, the
 * application context, and the two ways to fill an answer (resp.c): a JSON text, or an
 * error as a FHIR OperationOutcome.
 *
 * server.c turns MHD calls into struct http_req and struct http_resp into MHD answers;
 * everything else in src/http/ is testable without sockets.
 *
 * The bottom of src/http/: it includes no other header of src/http/, and the modules
 * above it point one way: server -> router -> handlers -> http_auth -> http (resp.c);
 * server also calls router (http_route_wants_body) and http_auth (the early check)
 * directly, and nothing below calls back up.
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
    const char *retry_key;     /* the proxy's X-Myocds-Retry-Key when sane, else NULL */
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

/* Sets resp to status with a FHIR R4 OperationOutcome body (CDS Hooks 3.0):
 * {"resourceType":"OperationOutcome","issue":[{"severity":"error",
 * "code":http_issue_code(status),"diagnostics":msg}]}. msg (the caller's, copied and
 * JSON-escaped) must hold no value taken from the request. */
void http_resp_error(struct http_resp *resp, int status, const char *msg);

/* The FHIR R4 IssueType code an error answer of this HTTP status carries (resp.c holds
 * the table); a status not in it: "exception" for 5xx, else "invalid". Static. */
const char *http_issue_code(int status);

/* Sets resp to status with a copy of the JSON text json. */
void http_resp_json(struct http_resp *resp, int status, const char *json, size_t len);

#endif

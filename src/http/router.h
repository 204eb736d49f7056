/* router.h - the route table: method + path -> handler.
 *
 * Depends on http.h and handlers.h (it calls the POST handlers); used by server.c only.
 */
#ifndef MYOCDS_HTTP_ROUTER_H
#define MYOCDS_HTTP_ROUTER_H

#include "http/http.h"

#include <stdbool.h>

/* Routes req and fills resp (resp->body owned by the caller afterwards). */
void http_route(const struct http_app *app, const struct http_req *req, struct http_resp *resp);

/* Whether a request of method on path needs a body and a JWT: true, with the service id
 * copied to id[HTTP_SERVICE_ID_MAX] and *feedback set, for a POST to a known service or
 * its feedback endpoint; every other request is answered without reading its body. */
bool http_route_wants_body(const struct http_app *app, const char *method, const char *path,
                           char *id, bool *feedback);

#endif

/* handlers.h - the POST handlers: a service call and its feedback.
 *
 * handlers.c depends on http.h and http_auth.h; the route table (router.c) calls it,
 * never the other way: an answer is filled with http_resp_error / http_resp_json
 * (resp.c, below both).
 */
#ifndef MYOCDS_HTTP_HANDLERS_H
#define MYOCDS_HTTP_HANDLERS_H

#include "http/http.h"

/* The service call and feedback handlers (handlers.c); id is a known service id. */
void http_handle_service(const struct http_app *app, const struct http_req *req, const char *id,
                         struct http_resp *resp);
void http_handle_feedback(const struct http_app *app, const struct http_req *req, const char *id,
                          struct http_resp *resp);

#endif

/* http_auth.h - the auth seam: may this caller use this endpoint?
 *
 * Depends on http.h (the request and application) and src/auth/; used by handlers.c (the
 * check with the body) and server.c (the checks before the body), never the other way.
 */
#ifndef MYOCDS_HTTP_HTTP_AUTH_H
#define MYOCDS_HTTP_HTTP_AUTH_H

#include "http/http.h"

#include <stdbool.h>

/* Who is calling: filled by http_auth_check (empty strings in --dev mode). */
struct http_identity {
    char iss[256];
    char tenant[128];
};

/* The auth seam: may the caller of req use the endpoint of service id (its feedback
 * endpoint when feedback)? Returns 0 and fills *who, or -401 with err set to the check that
 * failed, or -503 when the replicas' shared replay check could not be made. Without --dev the
 * bearer JWT must pass app->auth (src/auth/); a request whose caller was verified before its body
 * (req->verified) is not verified again (its jti is already spent). */
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
 * on a request thread. 0: accepted, *who filled; -401 (or -503: the shared replay check
 * could not be made): refused, err set (logged and counted). */
int http_auth_early(const struct http_app *app, const struct http_req *req, const char *id,
                    bool feedback, struct http_identity *who, struct myocds_err *err);

/* How long after a token's first use a second one with the same X-Myocds-Retry-Key is
 * taken for the proxy's retry of that request: deploy/nginx.conf gives up on a replica
 * after proxy_connect_timeout (2 s) or proxy_read_timeout (30 s), so its retry comes
 * sooner. */
#define HTTP_AUTH_RETRY_WINDOW_S 60

/* When app's store keeps the memory of JWT ids that replicas share (PostgreSQL), puts it
 * behind app->auth's own replay cache; a proxy's retry of one request (the same
 * X-Myocds-Retry-Key) within HTTP_AUTH_RETRY_WINDOW_S is not a replay. app (borrowed) must
 * outlive app->auth. No-op in --dev mode or with SQLite. */
void http_auth_share_replay(struct http_app *app);

#endif

/* http_auth.c - the one place that decides whether a caller may use an endpoint.
 *
 * The audience is this service's own URL: public_base_url (else http://ADDR:PORT) +
 * /cds-services/{id}; on the feedback endpoint the feedback URL is accepted too (the CDS
 * Hooks sandbox sends that). src/auth/ verifies the token; this file maps the outcome to a
 * 401 (a 503 when the replay check the replicas share in PostgreSQL cannot be made: the
 * token is neither accepted unchecked nor spent), a log line and a metric
 * (myocds_jwt_refusals_total by reason) that name the failed check, never a token or
 * claim value.
 */
#include "http/http_auth.h"

#include "auth/auth.h"
#include "http/metrics.h"
#include "store/store.h"
#include "util/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_AUD_MAX (HTTP_BASE_URL_MAX + HTTP_SERVICE_ID_MAX + 32)
#define BEARER_PREFIX "Bearer "

bool http_auth_presented(const struct http_req *req)
{
    const char *h = req->authorization;
    if (h == NULL)
        return false;
    h += strspn(h, " \t");
    return strncasecmp(h, BEARER_PREFIX, sizeof BEARER_PREFIX - 1) == 0;
}

static void log_outcome(const struct http_req *req, enum auth_reason r,
                        const struct auth_identity *id)
{
    if (r != AUTH_OK) {
        struct log_field f[] = {LOG_STR("reason", auth_reason_label(r))};
        log_fields(r == AUTH_R_REPLAY_UNCHECKED ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, req->req_id,
                   "jwt refused", f, 1);
        metrics_jwt_refusal(auth_reason_label(r));
        return;
    }
    struct log_field f[] = {LOG_STR("iss", id->iss), LOG_STR("tenant", id->tenant),
                            LOG_STR("jti", id->jti)};
    log_fields(LOG_LEVEL_DEBUG, req->req_id, "jwt accepted", f, 3);
}

bool http_auth_missing(const struct http_app *app, const struct http_req *req,
                       struct myocds_err *err)
{
    struct auth_identity ident;
    if (app->dev || http_auth_presented(req) || app->auth == NULL)
        return false;
    enum auth_reason r = auth_verify(app->auth, NULL, NULL, 0, time(NULL), &ident);
    log_outcome(req, r, &ident);
    myocds_err_set(err, 401, "%s", auth_reason_text(r));
    return true;
}

/* Verifies req's bearer token for service id's endpoint; 0 accepted (*who filled), -401
 * refused with err set. */
static int verify_for(const struct http_app *app, const struct http_req *req, const char *id,
                      bool feedback, struct http_identity *who, struct myocds_err *err)
{
    char aud[2][HTTP_AUD_MAX];
    const char *auds[2] = {aud[0], aud[1]};
    struct auth_identity ident;
    if (app->auth == NULL)
        return myocds_err_set(err, 401, "%s", auth_reason_text(AUTH_R_INTERNAL));
    int n0 = snprintf(aud[0], sizeof aud[0], "%s/cds-services/%s", app->base_url, id);
    int n1 = snprintf(aud[1], sizeof aud[1], "%s/feedback", aud[0]);
    if (n0 < 0 || n1 < 0 || (size_t)n1 >= sizeof aud[1])
        return myocds_err_set(err, 401, "%s", auth_reason_text(AUTH_R_INTERNAL));
    enum auth_reason r = auth_verify_ex(app->auth, req->authorization, req->retry_key, auds,
                                        feedback ? 2 : 1, time(NULL), &ident);
    log_outcome(req, r, &ident);
    if (r == AUTH_R_REPLAY_UNCHECKED)
        return myocds_err_set(err, 503, "%s", auth_reason_text(r));
    if (r != AUTH_OK)
        return myocds_err_set(err, 401, "%s", auth_reason_text(r));
    snprintf(who->iss, sizeof who->iss, "%s", ident.iss);
    snprintf(who->tenant, sizeof who->tenant, "%s", ident.tenant);
    return 0;
}

int http_auth_early(const struct http_app *app, const struct http_req *req, const char *id,
                    bool feedback, struct http_identity *who, struct myocds_err *err)
{
    memset(who, 0, sizeof *who);
    if (app->dev)
        return 0;
    if (http_auth_missing(app, req, err))
        return -401;
    return verify_for(app, req, id, feedback, who, err);
}

int http_auth_check(const struct http_app *app, const struct http_req *req, const char *id,
                    bool feedback, struct http_identity *who, struct myocds_err *err)
{
    memset(who, 0, sizeof *who);
    if (app->dev)
        return 0;
    if (req->verified != NULL) {
        *who = *req->verified;
        return 0;
    }
    return verify_for(app, req, id, feedback, who, err);
}

/* auth_shared_replay_fn on the store of ctx (a struct http_app, borrowed). */
static int shared_replay(void *ctx, const char *iss, const char *jti, time_t forget_at,
                         const char *retry_key, bool *seen)
{
    const struct http_app *app = ctx;
    struct myocds_err err = {0};
    return store_jti_claim(app->store, iss, jti, (long long)forget_at, retry_key,
                           HTTP_AUTH_RETRY_WINDOW_S, seen, &err) == 0
               ? 0
               : -1;
}

void http_auth_share_replay(struct http_app *app)
{
    if (app->auth == NULL || !store_shares_jtis(app->store))
        return;
    auth_verifier_share_replay(app->auth, shared_replay, app);
    log_notice("jwt replay check shared by the replicas (postgresql jwt_jtis)");
}

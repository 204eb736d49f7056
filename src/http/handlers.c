/* handlers.c - POST /cds-services/{id} and POST /cds-services/{id}/feedback.
 *
 * The checks every POST shares (413, 401, 415, empty body) come first, in that order;
 * then the engine or the feedback parser decides, and the store records.
 */
#include "http/handlers.h"

#include "cds/feedback.h"
#include "fhir/client.h"
#include "http/http_auth.h"
#include "http/metrics.h"
#include "store/store.h"
#include "util/config.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CARD_LOG_MAX 256 /* cards of one call recorded for feedback joins */

/* The cards the engine reports during one call, copied (the engine's strings are borrowed
 * only for the callback). */
struct card_log {
    struct store_card *v;
    size_t n;
    size_t cap;
    size_t given; /* every card the call gave, recorded or not */
    bool dropped; /* out of memory or over CARD_LOG_MAX */
};

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void on_card(void *ctx, const char *service_id, const char *card_uuid, const char *rule_id,
                    const char *indicator)
{
    struct card_log *cl = ctx;
    (void)service_id; /* the request's own id, already known */
    metrics_card(rule_id, indicator);
    cl->given++;
    if (card_uuid == NULL || rule_id == NULL || cl->n == CARD_LOG_MAX) {
        cl->dropped = true;
        return;
    }
    if (cl->n == cl->cap) {
        size_t cap = cl->cap == 0 ? 8 : cl->cap * 2;
        struct store_card *v = realloc(cl->v, cap * sizeof *v);
        if (v == NULL) {
            cl->dropped = true;
            return;
        }
        cl->v = v;
        cl->cap = cap;
    }
    char *uuid = dup_or_null(card_uuid);
    char *rule = dup_or_null(rule_id);
    if (uuid == NULL || rule == NULL) {
        free(uuid);
        free(rule);
        cl->dropped = true;
        return;
    }
    cl->v[cl->n++] = (struct store_card){.card_uuid = uuid, .rule_id = rule};
}

static void on_held(void *ctx, const char *service_id, const char *rule_id, const char *indicator)
{
    (void)ctx;
    (void)service_id;
    metrics_card_held(rule_id, indicator);
}

static void card_log_free(struct card_log *cl)
{
    for (size_t i = 0; i < cl->n; i++) {
        free((char *)cl->v[i].card_uuid);
        free((char *)cl->v[i].rule_id);
    }
    free(cl->v);
}

/* application/json or application/fhir+json, any parameters (; charset=utf-8). */
static bool is_json_type(const char *ct)
{
    static const char *const accepted[] = {"application/json", "application/fhir+json"};
    if (ct == NULL)
        return false;
    ct += strspn(ct, " \t");
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        if (strlen(accepted[i]) == n && strncasecmp(ct, accepted[i], n) == 0)
            return true;
    }
    return false;
}

/* Logs why a call was refused: the message never holds patient data. */
static void refuse(const struct http_req *req, struct http_resp *resp, int status, const char *msg)
{
    struct log_field f[] = {LOG_NUM("status", status), LOG_STR("error", msg)};
    log_fields(status >= 500 ? LOG_LEVEL_ERROR : LOG_LEVEL_INFO, req->req_id, "request refused", f,
               2);
    http_resp_error(resp, status, msg);
}

/* 0 when the POST may go on; else resp holds the answer. */
static int precheck(const struct http_app *app, const struct http_req *req, const char *id,
                    bool feedback, struct http_identity *who, struct http_resp *resp)
{
    struct myocds_err err = {0};
    if (req->body_too_large) {
        refuse(req, resp, 413, "request body too large");
        return -1;
    }
    if (http_auth_check(app, req, id, feedback, who, &err) != 0) {
        int status = err.http_status == 503 ? 503 : 401; /* 503: the replay check is down */
        http_resp_error(resp, status, err.msg);
        resp->www_authenticate = status == 401;
        resp->invalid_token = status == 401 && http_auth_presented(req);
        return -1;
    }
    if (!is_json_type(req->content_type)) {
        refuse(req, resp, 415, "Content-Type must be application/json");
        return -1;
    }
    if (req->body == NULL || req->body_len == 0) {
        refuse(req, resp, 400, "request body is empty");
        return -1;
    }
    return 0;
}

static int known_status(int status)
{
    switch (status) {
    case 400:
    case 404:
    case 412:
    case 500:
    case 503:
        return status;
    default:
        return 500;
    }
}

/* The servers the verified issuer is bound to (auth.issuers[].fhir_servers) into call;
 * none for an issuer bound to none, or a call without a JWT (--dev). */
static void issuer_servers(const struct cfg *cfg, const struct http_identity *who,
                           struct fhir_call *call)
{
    for (size_t i = 0; who->iss[0] != '\0' && i < cfg->n_issuers; i++) {
        const struct cfg_issuer *is = &cfg->issuers[i];
        if (strcmp(is->iss, who->iss) == 0 && is->fhir_servers != NULL) {
            call->servers = (const char *const *)is->fhir_servers;
            call->n_servers = is->n_fhir_servers;
        }
    }
}

void http_handle_service(const struct http_app *app, const struct http_req *req, const char *id,
                         struct http_resp *resp)
{
    struct http_identity who;
    struct card_log cards = {0};
    struct myocds_err err = {0};
    struct fhir_call call = {app->fhir, req->req_id, metrics_fhir_fetch, NULL, 0};
    struct myocds_eval_opts opts = {.fetch = app->fhir != NULL ? fhir_fetch : NULL,
                                    .fetch_ctx = &call,
                                    .on_card = on_card,
                                    .card_ctx = &cards,
                                    .on_held = on_held,
                                    .repeat = app->repeat,
                                    .repeat_window_s = app->cfg->cards_repeat_window_min * 60};
    char *out = NULL;
    size_t len = 0;
    if (precheck(app, req, id, false, &who, resp) != 0)
        return;
    issuer_servers(app->cfg, &who, &call);
    opts.client = cfg_client(app->cfg, who.iss[0] != '\0' ? who.iss : NULL);
    if (myocds_evaluate(app->engine, id, req->body, req->body_len, &opts, &out, &len, &err) != 0) {
        refuse(req, resp, known_status(err.http_status),
               err.msg[0] != '\0' ? err.msg : "internal error");
        goto out;
    }
    /* Cards are guidance the clinician needs now: a store failure is logged, not fatal. */
    const struct store_who ehr = {who.iss[0] != '\0' ? who.iss : NULL,
                                  who.tenant[0] != '\0' ? who.tenant : NULL};
    if (cards.n > 0 && store_cards_issued(app->store, id, &ehr, cards.v, cards.n, &err) != 0) {
        log_fields(LOG_LEVEL_ERROR, req->req_id, "cards not recorded", NULL, 0);
        metrics_cards_unrecorded(cards.n);
    }
    if (cards.dropped)
        log_fields(LOG_LEVEL_WARN, req->req_id, "some cards not recorded", NULL, 0);
    /* The alert burden's denominator: every answered call, with the cards it gave. */
    if (store_call_counted(app->store, id, cards.given, &err) != 0)
        log_fields(LOG_LEVEL_WARN, req->req_id, "call not counted", NULL, 0);
    free(resp->body);
    resp->body = out;
    resp->len = len;
    resp->status = 200;
    resp->content_type = NULL;
out:
    card_log_free(&cards);
}

void http_handle_feedback(const struct http_app *app, const struct http_req *req, const char *id,
                          struct http_resp *resp)
{
    static const char ok[] = "{}";
    struct http_identity who;
    struct feedback_batch batch;
    struct myocds_err err = {0};
    if (precheck(app, req, id, true, &who, resp) != 0)
        return;
    if (feedback_parse(req->body, req->body_len, &batch, &err) != 0) {
        refuse(req, resp, known_status(err.http_status), err.msg);
        return;
    }
    if (store_put_feedback(app->store, id, batch.items, batch.n,
                           who.iss[0] != '\0' ? who.iss : NULL,
                           who.tenant[0] != '\0' ? who.tenant : NULL, &err) != 0) {
        refuse(req, resp, known_status(err.http_status), "feedback not stored");
    } else {
        struct log_field f[] = {LOG_NUM("entries", batch.n)};
        log_fields(LOG_LEVEL_INFO, req->req_id, "feedback stored", f, 1);
        for (size_t i = 0; i < batch.n; i++)
            metrics_feedback(batch.items[i].outcome);
        http_resp_json(resp, 200, ok, sizeof ok - 1);
    }
    feedback_batch_free(&batch);
}

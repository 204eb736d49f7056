/* engine.c - the engine: request -> patient view -> rules -> cards.
 *
 * Loaded once (immutable afterwards) and shared by every thread; each evaluation owns
 * its request tree, its view and its cards, and frees them before returning.
 */
#include "cds/card.h"
#include "cds/repeat.h"
#include "cds/request.h"
#include "cds/rules_conf.h"
#include "cds/services.h"
#include "clinical/terminology.h"
#include "clinical/view.h"
#include "fhir/fhir.h"
#include "myocds/myocds.h"
#include "rules/rule.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENGINE_PATH_MAX 1024

/* A rule as one service runs it: on or off, and its cards' indicator (NULL: their own). */
struct rule_plan {
    bool on;
    const char *indicator;
};

struct myocds_engine {
    struct terminology *term;
    struct rules_conf *rules;
    struct service_registry *services;
    struct rule_plan *plan; /* [service index * rules_count + rule], owned */
};

/* Compiles every rule's per-service switches (rules.<id>.services) into e->plan; a switch
 * for a service that does not exist stops the load, naming it. */
static int plan_services(struct myocds_engine *e, const char *rules_path, struct myocds_err *err)
{
    int n = e->services->n;
    e->plan = calloc((size_t)(n > 0 ? n : 1) * (size_t)rules_count, sizeof *e->plan);
    if (e->plan == NULL)
        return myocds_err_set(err, 500, "out of memory");
    for (int r = 0; r < rules_count; r++) {
        const struct rule_conf *conf = &e->rules->rules[r];
        for (int s = 0; s < n; s++)
            e->plan[s * rules_count + r] = (struct rule_plan){conf->enabled, NULL};
        for (int k = 0; k < conf->n_switches; k++) {
            const struct rule_switch *sw = &conf->switches[k];
            const struct cds_service *svc = services_find(e->services, sw->service_id);
            if (svc == NULL)
                return myocds_err_set(err, 500, "%s: rules.%s.services.%s: no such service",
                                      rules_path, conf->id, sw->service_id);
            struct rule_plan *p = &e->plan[(svc - e->services->v) * rules_count + r];
            if (sw->enabled >= 0)
                p->on = sw->enabled != 0;
            p->indicator = sw->indicator;
        }
    }
    return 0;
}

int myocds_engine_load(const char *hooks_dir, struct myocds_engine **out, struct myocds_err *err)
{
    char path[ENGINE_PATH_MAX], rules_path[ENGINE_PATH_MAX];
    struct myocds_engine *e = calloc(1, sizeof *e);
    *out = NULL;
    if (e == NULL)
        return myocds_err_set(err, 500, "out of memory");
    snprintf(path, sizeof path, "%s/terminology.json", hooks_dir);
    e->term = term_load(path, err);
    if (e->term != NULL) {
        snprintf(rules_path, sizeof rules_path, "%s/rules.json", hooks_dir);
        e->rules = rules_conf_load(rules_path, err);
    }
    if (e->rules != NULL) {
        snprintf(path, sizeof path, "%s/services", hooks_dir);
        e->services = services_load(path, err);
    }
    if (e->services == NULL || plan_services(e, rules_path, err) != 0) {
        myocds_engine_free(e);
        return MYOCDS_E_INTERNAL;
    }
    *out = e;
    return MYOCDS_OK;
}

void myocds_engine_free(struct myocds_engine *e)
{
    if (e == NULL)
        return;
    term_free(e->term);
    rules_conf_free(e->rules);
    services_free(e->services);
    free(e->plan);
    free(e);
}

const char *myocds_discovery_json(const struct myocds_engine *e, size_t *len)
{
    if (len != NULL)
        *len = e->services->discovery_len;
    return e->services->discovery;
}

const char *myocds_reason_category(const struct myocds_engine *e, const char *rule_id,
                                   const char *system, const char *code)
{
    return rules_conf_reason_category(e->rules, rule_id, system, code);
}

int myocds_in_force(const struct myocds_engine *e, myocds_off_fn off, myocds_threshold_fn th,
                    void *ctx)
{
    for (int s = 0; s < e->services->n; s++) {
        const struct cds_service *svc = &e->services->v[s];
        for (int r = 0; r < rules_count; r++)
            if ((rules_table[r].hooks & (1u << svc->hook)) != 0 && !e->plan[s * rules_count + r].on)
                off(ctx, svc->id, rules_table[r].id);
    }
    json_object *t = json_get_obj(e->rules->root, "thresholds"); /* checked at load */
    if (t == NULL)
        return rules_count;
    json_object_object_foreach(t, name, v)
    {
        if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
            th(ctx, name, json_object_get_double(v));
            continue;
        }
        if (!json_object_is_type(v, json_type_object))
            continue;
        json_object_object_foreach(v, member, mv) /* a map: "name.member" */
        {
            char full[ENGINE_PATH_MAX];
            if ((json_object_is_type(mv, json_type_double) ||
                 json_object_is_type(mv, json_type_int)) &&
                snprintf(full, sizeof full, "%s.%s", name, member) < (int)sizeof full)
                th(ctx, full, json_object_get_double(mv));
        }
    }
    return rules_count;
}

int myocds_service_exists(const struct myocds_engine *e, const char *service_id)
{
    return services_find(e->services, service_id) != NULL;
}

/* Runs every rule the service has on over the view. A rule whose data is missing does not
 * run: it would guess. Sets *ran to the number of rules that ran. */
static int run_rules(const struct myocds_engine *e, const struct cds_service *svc,
                     const struct patient_view *v, struct card_list *cards, int *ran)
{
    const struct rule_plan *plan = &e->plan[(svc - e->services->v) * rules_count];
    *ran = 0;
    for (int i = 0; i < rules_count; i++) {
        const struct rule_ctx ctx = {v, &e->rules->rules[i], &e->rules->th, e->rules->rules[i].own,
                                     &e->rules->words};
        const char *indicator = plan[i].indicator;
        if (!plan[i].on || !(rules_table[i].hooks & (1u << v->hook)))
            continue;
        if (rules_table[i].needs & v->missing)
            continue;
        int before = cards->n;
        if (rules_table[i].fn(&ctx, cards) != 0)
            return -1;
        for (int c = before; indicator != NULL && c < cards->n; c++)
            cards->v[c].indicator = indicator;
        (*ran)++;
    }
    return 0;
}

/* Leaves out the cards shown lately for the same draft orders (src/cds/repeat.h), when
 * opts carries the memory. Returns how many were left out. */
static int hold_repeats(const struct cds_request *req, const char *service_id,
                        const struct myocds_eval_opts *opts, long long now, struct card_list *cards)
{
    if (opts == NULL || opts->repeat == NULL)
        return 0;
    const struct repeat_call call = {.memory = opts->repeat,
                                     .window_s = opts->repeat_window_s,
                                     .now = now,
                                     .hook = req->hook,
                                     .fhir_server = req->fhir_server,
                                     .patient_id = req->patient_id,
                                     .service_id = service_id,
                                     .on_held = opts->on_held,
                                     .held_ctx = opts->card_ctx};
    return repeat_hold(&call, cards);
}

static int respond(const char *service_id, struct card_list *cards, const char *patient_id,
                   const struct myocds_eval_opts *opts, char **out, size_t *len)
{
    char(*uuids)[37] = cards->n > 0 ? calloc((size_t)cards->n, sizeof *uuids) : NULL;
    const struct myocds_client_profile *client = opts != NULL ? opts->client : NULL;
    json_object *doc =
        cards->n == 0 || uuids != NULL ? cards_to_json(cards, patient_id, uuids, client) : NULL;
    *out = doc != NULL ? json_dump(doc, len) : NULL;
    json_object_put(doc);
    for (int i = 0; *out != NULL && opts != NULL && opts->on_card != NULL && i < cards->n; i++)
        opts->on_card(opts->card_ctx, service_id, uuids[i], cards->v[i].rule_id,
                      cards->v[i].indicator);
    free(uuids);
    return *out != NULL ? 0 : -1;
}

int myocds_evaluate(const struct myocds_engine *e, const char *service_id, const char *body,
                    size_t len, const struct myocds_eval_opts *opts, char **out_json,
                    size_t *out_len, struct myocds_err *err)
{
    struct cds_request req;
    struct patient_view view;
    struct card_list cards = {NULL, 0, 0};
    size_t n = 0;
    *out_json = NULL;
    const struct cds_service *svc = services_find(e->services, service_id);
    if (svc == NULL)
        return myocds_err_set(err, 404, "unknown service");
    int rc = cds_request_parse(body, len, svc, &req, err);
    if (rc != 0)
        return rc;
    rc = cds_request_resolve(&req, svc, opts, err);
    long long now = opts != NULL && opts->now != 0 ? opts->now : (long long)time(NULL);
    if (rc == 0)
        rc = view_build(&view, e->term, svc->hook, req.patient_id, req.prefetch, req.draft_orders,
                        req.selections, fhir_days_from_epoch(now), &e->rules->view, err);
    if (rc == 0) {
        int ran = 0;
        view.missing = req.missing;
        if (run_rules(e, svc, &view, &cards, &ran) != 0)
            rc = myocds_err_set(err, 500, "out of memory");
        else if (ran == 0 && req.missing != 0)
            rc = myocds_err_set(err, req.missing_err.http_status, "%s", req.missing_err.msg);
        else if (hold_repeats(&req, service_id, opts, now, &cards) < 0 ||
                 respond(service_id, &cards, req.patient_id, opts, out_json, &n) != 0)
            rc = myocds_err_set(err, 500, "out of memory");
        view_free(&view);
    }
    card_list_free(&cards);
    cds_request_free(&req);
    if (out_len != NULL)
        *out_len = n;
    return rc;
}

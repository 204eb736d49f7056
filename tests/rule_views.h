/* rule_views.h - hand-built patient views for the rule tests: a drug list, a patient, and
 * a runner that calls one rule of the table with the real hooks/rules.json.
 * Include after cmocka.h. */
#ifndef MYOCDS_TESTS_RULE_VIEWS_H
#define MYOCDS_TESTS_RULE_VIEWS_H

#include "cds/rules_conf.h"
#include "rules/rules.h"

#include <stdio.h>
#include <string.h>

static struct rules_conf *rc;

static const struct term_drug __attribute__((unused))
prednisone = {"prednisone", "prednisone", DC_GLUCOCORTICOID, 1.0, false, ROUTE_SYSTEMIC};
static const struct term_drug __attribute__((unused)) mtx = {
    "methotrexate", "methotrexate", DC_STEROID_SPARING | DC_IMMUNOSUPPRESSANT | DC_METHOTREXATE, -1,
    false,          ROUTE_SYSTEMIC};
static const struct term_drug __attribute__((unused))
ivig = {"immune globulin (IVIG)", "IVIG", DC_STEROID_SPARING | DC_IVIG, -1, true, ROUTE_SYSTEMIC};
static const struct term_drug __attribute__((unused))
tmp_smx = {"sulfamethoxazole-trimethoprim",
           "TMP-SMX",
           DC_PJP_PROPHYLAXIS | DC_SULFONAMIDE,
           -1,
           false,
           ROUTE_SYSTEMIC};

static const struct term_drug __attribute__((unused)) aza = {
    "azathioprine", "azathioprine", DC_STEROID_SPARING | DC_IMMUNOSUPPRESSANT | DC_AZATHIOPRINE, -1,
    false,          ROUTE_SYSTEMIC};
static const struct term_drug __attribute__((unused))
folic = {"folic acid", "folic acid", DC_FOLIC_ACID, -1, false, ROUTE_SYSTEMIC};
static const struct term_drug __attribute__((unused))
statin = {"atorvastatin", "atorvastatin", DC_STATIN, -1, false, ROUTE_SYSTEMIC};
static const struct term_drug __attribute__((unused))
tnf = {"adalimumab", "adalimumab", DC_TNF_INHIBITOR, -1, false, ROUTE_SYSTEMIC};
static const struct term_drug __attribute__((unused))
calcium = {"calcium", "calcium", DC_CALCIUM, -1, false, ROUTE_SYSTEMIC};
static const struct term_drug __attribute__((unused))
vit_d = {"vitamin D", "vitamin D", DC_VITAMIN_D, -1, false, ROUTE_SYSTEMIC};
static const struct term_drug __attribute__((unused)) methylpred = {
    "methylprednisolone", "methylprednisolone", DC_GLUCOCORTICOID, 1.25, false, ROUTE_SYSTEMIC};

static const struct term_drug __attribute__((unused)) rituximab = {
    "rituximab", "rituximab", DC_STEROID_SPARING | DC_IMMUNOSUPPRESSANT, -1, false, ROUTE_SYSTEMIC};
static const struct term_drug __attribute__((unused))
tacrolimus = {"tacrolimus", "tacrolimus", DC_STEROID_SPARING | DC_IMMUNOSUPPRESSANT,
              -1,           false,        ROUTE_UNKNOWN};
static const struct term_drug __attribute__((unused)) hydrocortisone = {
    "hydrocortisone", "hydrocortisone", DC_GLUCOCORTICOID, 0.25, false, ROUTE_SYSTEMIC};

static const struct term_drug __attribute__((unused))
mmf = {"mycophenolate mofetil",
       "mycophenolate mofetil",
       DC_STEROID_SPARING | DC_IMMUNOSUPPRESSANT | DC_TERATOGEN,
       -1,
       false,
       ROUTE_SYSTEMIC};

static inline struct view_med med(const struct term_drug *d, double mg, double days, bool trigger)
{
    struct view_med m = {0};
    m.drug = d;
    m.classes = d->classes;
    snprintf(m.label, sizeof m.label, "%s order", d->display);
    m.trigger = trigger;
    m.ordered = trigger;
    m.systemic = true;
    m.route = ROUTE_SYSTEMIC;
    m.mg_per_day = mg;
    m.pred_mg_per_day = (d->classes & DC_GLUCOCORTICOID) && mg >= 0 ? mg * d->potency : -1;
    m.duration_days = days;
    m.start_day = -1;
    m.course_start = -1;
    m.course_orders = 1;
    m.prev = -1;
    return m;
}

static inline void patient(struct patient_view *v, unsigned iim, struct view_med *meds, int n)
{
    memset(v, 0, sizeof *v);
    v->hook = HOOK_ORDER_SIGN;
    v->age_years = 55;
    v->sex = 'm';
    v->iim = iim;
    snprintf(v->iim_label, sizeof v->iim_label, "Polymyositis");
    v->meds = meds;
    v->n_meds = n;
}

/* Runs the rule with this id; returns how many cards it made; *first gets the first. */
static inline int run(const char *id, const struct patient_view *v, struct card_list *cards)
{
    for (int i = 0; i < rules_count; i++) {
        if (strcmp(rules_table[i].id, id) != 0)
            continue;
        const struct rule_ctx ctx = {v, &rc->rules[i], &rc->th, rc->rules[i].own, &rc->words};
        assert_int_equal(rules_table[i].fn(&ctx, cards), 0);
        return cards->n;
    }
    fail_msg("no rule %s", id);
    return -1;
}

static inline int setup(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    rc = rules_conf_load(MYOCDS_SOURCE_DIR "/hooks/rules.json", &err);
    if (rc == NULL)
        fprintf(stderr, "%s\n", err.msg);
    return rc == NULL;
}

static inline int teardown(void **state)
{
    (void)state;
    rules_conf_free(rc);
    return 0;
}

#endif

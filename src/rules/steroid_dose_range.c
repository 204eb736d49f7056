/* steroid_dose_range.c - the initial corticosteroid dose against the guidance's range.
 *
 * docs/RULES.md "The rules": adults (non-IBM IIM) start at 0.5-1 mg/kg/day, at most 80 mg/day;
 * juvenile DM (and children) at most 2 mg/kg/day and 60 mg/day. Info. Without a weight only the
 * ceiling is checked and the card says so. Not for IV pulses (planned <= pulse_max_days)
 * nor when a glucocorticoid is active or was given before (then it is not an initial dose).
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

struct dose_range {
    const char *verdict_low, *verdict_high, *verdict_cap; /* what is wrong with the dose */
    const char *range_adult, *range_child;                /* the range that applies */
    const char *no_weight;                                /* only the ceiling was checked */
    const char *mg_per_kg;                                /* {mgkg} */
    const char *weight_text;                              /* {kg} {mg_per_kg} */
    const char *age_known, *age_unknown;                  /* {age} */
    double dose_adult_min_mg_kg, dose_adult_max_mg_kg, dose_adult_max_mg;
    double dose_child_max_mg_kg, dose_child_max_mg;
    double pulse_max_days; /* a course this short is an IV pulse */
};

#define KEY(f) RULE_KEY(struct dose_range, f, RK_TEXT)
static const struct rule_key keys[] = {
    KEY(verdict_low), KEY(verdict_high), KEY(verdict_cap), KEY(range_adult), KEY(range_child),
    KEY(no_weight),   KEY(mg_per_kg),    KEY(weight_text), KEY(age_known),   KEY(age_unknown),
};
#define PARAM(f, lo, hi) RULE_PARAM(struct dose_range, f, lo, hi)
static const struct rule_param params[] = {
    PARAM(dose_adult_min_mg_kg, 0.1, 5), PARAM(dose_adult_max_mg_kg, 0.1, 5),
    PARAM(dose_adult_max_mg, 10, 200),   PARAM(dose_child_max_mg_kg, 0.1, 5),
    PARAM(dose_child_max_mg, 10, 200),   PARAM(pulse_max_days, 1, 14),
};
const struct rule_spec steroid_dose_range_spec = {keys, RULE_COUNT(keys), params,
                                                  RULE_COUNT(params), sizeof(struct dose_range)};

struct range {
    double min_kg, max_kg, cap; /* min_kg 0: no lower bound */
};

/* The verdict's text for this dose, or NULL when within the range. */
static const char *verdict(const struct dose_range *k, const struct range *r, double pred,
                           double kg, double *mgkg)
{
    *mgkg = kg > 0 ? pred / kg : -1;
    if (pred > r->cap)
        return k->verdict_cap;
    if (*mgkg >= 0 && *mgkg > r->max_kg)
        return k->verdict_high;
    if (*mgkg >= 0 && *mgkg < r->min_kg)
        return k->verdict_low;
    return NULL;
}

static bool initial_dose(const struct patient_view *v, const struct view_med *gc,
                         const struct dose_range *th)
{
    if (gc->duration_days >= 0 && gc->duration_days <= th->pulse_max_days)
        return false;
    if (v->past_glucocorticoid)
        return false; /* a restart: the start range is for treatment at diagnosis */
    for (int i = 0; i < v->n_meds; i++)
        if ((v->meds[i].classes & DC_GLUCOCORTICOID) && v->meds[i].systemic && !v->meds[i].ordered)
            return false;
    return true;
}

int rule_steroid_dose_range(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const struct dose_range *th = ctx->own;
    const struct view_med *gc = facts_trigger_gc(v);
    if ((v->iim & IIM_NON_IBM) == 0 || (v->iim & IIM_IBM) != 0 || gc == NULL ||
        !initial_dose(v, gc, th))
        return 0;
    double pred = view_pred_total(v);
    bool child = facts_is_child(v, ctx->th);
    const struct range r = child
                               ? (struct range){0, th->dose_child_max_mg_kg, th->dose_child_max_mg}
                               : (struct range){th->dose_adult_min_mg_kg, th->dose_adult_max_mg_kg,
                                                th->dose_adult_max_mg};
    const struct view_lab *w = &v->labs[LAB_WEIGHT];
    double kg = w->present && w->value > 0 ? w->value : -1;
    double mgkg = -1;
    const char *key = pred >= 0 ? verdict(th, &r, pred, kg, &mgkg) : NULL;
    if (key == NULL)
        return 0;

    char pred_s[48], mgkg_s[32], min_s[16], max_s[16], cap_s[16], weight[64], age[48];
    char dose_detail[FACT_MAX];
    rule_fmt_dose(ctx->words, pred, pred_s, sizeof pred_s);
    char num[32], kg_s[32], age_s[32];
    snprintf(num, sizeof num, "%.2g", mgkg);
    snprintf(kg_s, sizeof kg_s, "%.1f", kg);
    snprintf(age_s, sizeof age_s, "%.0f", v->age_years);
    const struct tvar figures[] = {
        {"mgkg", num}, {"kg", kg_s}, {"mg_per_kg", mgkg_s}, {"age", age_s}};
    tmpl_format(mgkg_s, sizeof mgkg_s, th->mg_per_kg, figures, 1);
    snprintf(min_s, sizeof min_s, "%g", r.min_kg);
    snprintf(max_s, sizeof max_s, "%g", r.max_kg);
    snprintf(cap_s, sizeof cap_s, "%g", r.cap);
    weight[0] = '\0';
    if (kg > 0)
        tmpl_format(weight, sizeof weight, th->weight_text, figures, 4);
    tmpl_format(age, sizeof age, v->age_years >= 0 ? th->age_known : th->age_unknown, figures, 4);
    facts_dose_detail(ctx, gc, dose_detail, sizeof dose_detail);
    struct tvar vars[] = {
        {"min", min_s},
        {"max", max_s},
        {"cap", cap_s},
        {"mgkg", mgkg_s},
        {"drug", gc->drug->display},
        {"pred", pred_s},
        {"order", gc->label},
        {"dose_detail", dose_detail},
        {"condition", v->iim_label},
        {"action", facts_action(ctx)},
        {"age_text", age},
        {"weight_text", weight},
        {"verdict", NULL},
        {"range_text", NULL},
        {"no_weight", NULL},
    };
    int n = (int)(sizeof vars / sizeof vars[0]);
    char *verdict_s = tmpl_fill(key, vars, n);
    char *range_s = tmpl_fill(child ? th->range_child : th->range_adult, vars, n);
    char *no_weight = kg > 0 ? NULL : tmpl_fill(th->no_weight, vars, n);
    vars[n - 3].value = verdict_s;
    vars[n - 2].value = range_s;
    vars[n - 1].value = no_weight != NULL ? no_weight : "";
    struct card *c = verdict_s != NULL && range_s != NULL ? card_add_main(out, ctx, vars, n) : NULL;
    free(verdict_s);
    free(range_s);
    free(no_weight);
    return card_about(c, gc) != NULL ? 0 : -1;
}

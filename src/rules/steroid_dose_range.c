/* steroid_dose_range.c - the initial corticosteroid dose against the guidance's range.
 *
 * RULES.md: adults (non-IBM IIM) start at 0.5-1 mg/kg/day, at most 80 mg/day; juvenile DM
 * (and children) at most 2 mg/kg/day and 60 mg/day. Info. Without a weight only the
 * ceiling is checked and the card says so. Not for IV pulses (planned <= pulse_max_days)
 * nor when a glucocorticoid is active or was given before (then it is not an initial dose).
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

struct range {
    double min_kg, max_kg, cap; /* min_kg 0: no lower bound */
};

/* The verdict key for this dose, or NULL when within the range. */
static const char *verdict(const struct range *r, double pred, double kg, double *mgkg)
{
    *mgkg = kg > 0 ? pred / kg : -1;
    if (pred > r->cap)
        return "verdict_cap";
    if (*mgkg >= 0 && *mgkg > r->max_kg)
        return "verdict_high";
    if (*mgkg >= 0 && *mgkg < r->min_kg)
        return "verdict_low";
    return NULL;
}

static bool initial_dose(const struct patient_view *v, const struct view_med *gc,
                         const struct rule_thresholds *th)
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
    const struct rule_thresholds *th = ctx->th;
    const struct view_med *gc = facts_trigger_gc(v);
    if ((v->iim & IIM_NON_IBM) == 0 || (v->iim & IIM_IBM) != 0 || gc == NULL ||
        !initial_dose(v, gc, th))
        return 0;
    double pred = view_pred_total(v);
    bool child = facts_is_child(v, th);
    const struct range r = child
                               ? (struct range){0, th->dose_child_max_mg_kg, th->dose_child_max_mg}
                               : (struct range){th->dose_adult_min_mg_kg, th->dose_adult_max_mg_kg,
                                                th->dose_adult_max_mg};
    const struct view_lab *w = &v->labs[LAB_WEIGHT];
    double kg = w->present && w->value > 0 ? w->value : -1;
    double mgkg = -1;
    const char *key = pred >= 0 ? verdict(&r, pred, kg, &mgkg) : NULL;
    if (key == NULL)
        return 0;

    char pred_s[48], mgkg_s[32], min_s[16], max_s[16], cap_s[16], weight[64], age[48];
    char dose_detail[FACT_MAX];
    rule_fmt_dose(pred, pred_s, sizeof pred_s);
    snprintf(mgkg_s, sizeof mgkg_s, "%.2g mg/kg/day", mgkg);
    snprintf(min_s, sizeof min_s, "%g", r.min_kg);
    snprintf(max_s, sizeof max_s, "%g", r.max_kg);
    snprintf(cap_s, sizeof cap_s, "%g", r.cap);
    weight[0] = '\0';
    if (kg > 0)
        snprintf(weight, sizeof weight, "; weight %.1f kg = %s", kg, mgkg_s);
    snprintf(age, sizeof age, v->age_years >= 0 ? "age %.0f" : "age unknown", v->age_years);
    facts_dose_detail(gc, dose_detail, sizeof dose_detail);
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
        {"action", facts_action(v)},
        {"age_text", age},
        {"weight_text", weight},
        {"verdict", NULL},
        {"range_text", NULL},
        {"no_weight", NULL},
    };
    int n = (int)(sizeof vars / sizeof vars[0]);
    char *verdict_s = tmpl_fill(rule_text(ctx->conf, key), vars, n);
    char *range_s = tmpl_fill(rule_text(ctx->conf, child ? "range_child" : "range_adult"), vars, n);
    char *no_weight = kg > 0 ? NULL : tmpl_fill(rule_text(ctx->conf, "no_weight"), vars, n);
    vars[n - 3].value = verdict_s;
    vars[n - 2].value = range_s;
    vars[n - 1].value = no_weight != NULL ? no_weight : "";
    struct card *c = verdict_s != NULL && range_s != NULL
                         ? card_add(out, ctx, "indicator", "summary", "detail", vars, n)
                         : NULL;
    free(verdict_s);
    free(range_s);
    free(no_weight);
    return card_about(c, gc) != NULL ? 0 : -1;
}

/* ibm_steroid.c - a corticosteroid for inclusion body myositis.
 *
 * docs/RULES.md "The rules": IBM is not steroid-responsive (Cochrane 2015; Dr.Oracle, "Treatment
 * for Inclusion Body Myositis" (2025); Dr.Oracle, "Inclusion Body Myositis: Steroid Tapering
 * Strategy" (2025)). Above 10 mg/day prednisone-equivalent the card adds the rapid 4-8 week taper.
 * A trial with methotrexate is offered as an override reason, not as a suggestion. At <= 10 mg/day
 * with methotrexate on board (the low-dose regimen the tapering strategy allows for active
 * inflammation) the card is info. A step of a taper that is already reducing (the order
 * before it in the course was higher, or a written taper past a higher step) does not
 * fire again.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

struct ibm {
    const char *indicator_low_mtx, *summary_low_mtx, *detail_low_mtx; /* <= taper dose + MTX */
    const char *taper;                                                /* the rapid taper */
    double ibm_taper_above_mg_per_day;
};

#define KEY(f, t) RULE_KEY(struct ibm, f, t)
static const struct rule_key keys[] = {
    KEY(indicator_low_mtx, RK_INDICATOR),
    KEY(summary_low_mtx, RK_TEXT),
    KEY(detail_low_mtx, RK_TEXT),
    KEY(taper, RK_TEXT),
};
static const struct rule_param params[] = {
    RULE_PARAM(struct ibm, ibm_taper_above_mg_per_day, 1, 100),
};
const struct rule_spec ibm_steroid_spec = {keys, RULE_COUNT(keys), params, RULE_COUNT(params),
                                           sizeof(struct ibm)};

/* True when gc is a reducing step of a taper: the order before it in its course gave more,
 * or its own written taper has come down from a higher step. */
static bool reducing(const struct patient_view *v, const struct view_med *gc)
{
    const struct view_med *p = view_course_prev(v, gc);
    if (gc->pred_mg_per_day >= 0 && p != NULL && p->pred_mg_per_day > gc->pred_mg_per_day)
        return true;
    int now = gc->current_step;
    return gc->steps > 1 && now > 0 && now < VIEW_STEPS_MAX && gc->step[now].pred_mg_per_day >= 0 &&
           gc->step[now].pred_mg_per_day < gc->step[0].pred_mg_per_day;
}

int rule_ibm_steroid(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct ibm *k = ctx->own;
    const struct patient_view *v = ctx->view;
    if ((v->iim & IIM_IBM) == 0)
        return 0;
    const struct view_med *gc = facts_trigger_gc(v);
    if (gc == NULL || reducing(v, gc))
        return 0;

    double total = view_pred_total(v);
    double pred = total >= 0 ? total : gc->pred_mg_per_day;
    char dose[48];
    char dose_detail[FACT_MAX];
    char taper_mg[32];
    rule_fmt_dose(ctx->words, gc->mg_per_day, dose, sizeof dose);
    facts_dose_detail(ctx, gc, dose_detail, sizeof dose_detail);
    snprintf(taper_mg, sizeof taper_mg, "%g", k->ibm_taper_above_mg_per_day);
    const struct tvar taper_vars[] = {{"taper_mg", taper_mg}};
    char *taper = pred > k->ibm_taper_above_mg_per_day ? tmpl_fill(k->taper, taper_vars, 1) : NULL;
    const struct tvar vars[] = {
        {"drug", gc->drug->display},   {"dose", dose},
        {"order", gc->label},          {"dose_detail", dose_detail},
        {"action", facts_action(ctx)}, {"taper", taper != NULL ? taper : ""},
    };
    /* the low-dose regimen with methotrexate: info at most */
    bool low_mtx = pred >= 0 && pred <= k->ibm_taper_above_mg_per_day &&
                   view_find(v, DC_METHOTREXATE, false) != NULL;
    struct card *c = low_mtx ? card_add(out, ctx, k->indicator_low_mtx, k->summary_low_mtx,
                                        k->detail_low_mtx, vars, RULE_COUNT(vars))
                             : card_add_main(out, ctx, vars, RULE_COUNT(vars));
    free(taper);
    return card_about(c, gc) != NULL ? 0 : -1;
}

/* ibm_steroid.c - a corticosteroid for inclusion body myositis.
 *
 * RULES.md: IBM is not steroid-responsive (Cochrane 2015; seeds 001, 004). Above
 * 10 mg/day prednisone-equivalent the card adds the rapid 4-8 week taper. A trial with
 * methotrexate is offered as an override reason, not as a suggestion.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

int rule_ibm_steroid(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    if ((v->iim & IIM_IBM) == 0)
        return 0;
    const struct view_med *gc = facts_trigger_gc(v);
    if (gc == NULL)
        return 0;

    double total = view_pred_total(v);
    double pred = total >= 0 ? total : gc->pred_mg_per_day;
    char dose[48];
    char dose_detail[FACT_MAX];
    char taper_mg[32];
    rule_fmt_dose(gc->mg_per_day, dose, sizeof dose);
    facts_dose_detail(gc, dose_detail, sizeof dose_detail);
    snprintf(taper_mg, sizeof taper_mg, "%g", ctx->th->ibm_taper_above_mg_per_day);
    const struct tvar taper_vars[] = {{"taper_mg", taper_mg}};
    char *taper = pred > ctx->th->ibm_taper_above_mg_per_day
                      ? tmpl_fill(rule_text(ctx->conf, "taper"), taper_vars, 1)
                      : NULL;
    const struct tvar vars[] = {
        {"drug", gc->drug->display}, {"dose", dose},
        {"order", gc->label},        {"dose_detail", dose_detail},
        {"action", facts_action(v)}, {"taper", taper != NULL ? taper : ""},
    };
    struct card *c = card_add(out, ctx, "indicator", "summary", "detail", vars,
                              (int)(sizeof vars / sizeof vars[0]));
    free(taper);
    return card_about(c, gc) != NULL ? 0 : -1;
}

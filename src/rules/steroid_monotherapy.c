/* steroid_monotherapy.c - a corticosteroid for non-IBM myositis with no steroid-sparing agent.
 *
 * RULES.md: fires when a systemic glucocorticoid is ordered (or active, on patient-view)
 * for a non-IBM IIM patient and no steroid-sparing agent is active or being ordered.
 * Critical for IMNM / anti-HMGCR ("never attempt corticosteroid monotherapy").
 */
#include "rules/facts.h"
#include "rules/rules.h"

/* Picks the suggestions: methotrexate first, except for children (SC dosing per m2),
 * ILD (mycophenolate) and women of child-bearing age (azathioprine: not teratogenic). */
static void suggest(struct card *c, const struct patient_view *v, const struct rule_thresholds *th)
{
    bool child = facts_is_child(v, th);
    bool ild = (v->cond_flags & COND_ILD) != 0;
    bool female = facts_female_childbearing(v, th);
    card_suggest(c, child ? "methotrexate_child" : "methotrexate", !child && !ild && !female);
    card_suggest(c, "azathioprine", female && !ild && !child);
    if (!child) /* its 500 mg twice daily is an adult dose */
        card_suggest(c, "mycophenolate", ild);
    else
        c->recommended = 0;
}

int rule_steroid_monotherapy(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    if ((v->iim & IIM_NON_IBM) == 0 || (v->iim & IIM_IBM) != 0)
        return 0;
    const struct view_med *gc = facts_trigger_gc(v);
    if (gc == NULL || view_find(v, DC_STEROID_SPARING, false) != NULL)
        return 0;

    bool imnm = (v->iim & IIM_IMNM) != 0;
    char dose[48];
    char dose_detail[FACT_MAX];
    rule_fmt_dose(gc->mg_per_day, dose, sizeof dose);
    facts_dose_detail(gc, dose_detail, sizeof dose_detail);
    const char *extra = imnm                                    ? "extra_imnm"
                        : facts_is_child(v, ctx->th)            ? "extra_child"
                        : (v->cond_flags & COND_ILD)            ? "extra_ild"
                        : facts_female_childbearing(v, ctx->th) ? "extra_female"
                                                                : NULL;
    const struct tvar vars[] = {
        {"drug", gc->drug->display},
        {"dose", dose},
        {"order", gc->label},
        {"dose_detail", dose_detail},
        {"condition", v->iim_label},
        {"action", facts_action(v)},
        {"extra", extra != NULL ? rule_text(ctx->conf, extra) : ""},
    };
    struct card *c =
        card_add(out, ctx, imnm ? "indicator_imnm" : "indicator", imnm ? "summary_imnm" : "summary",
                 "detail", vars, (int)(sizeof vars / sizeof vars[0]));
    if (c == NULL)
        return -1;
    suggest(c, v, ctx->th);
    return 0;
}

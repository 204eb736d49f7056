/* steroid_monotherapy.c - a corticosteroid for non-IBM myositis with no steroid-sparing agent.
 *
 * RULES.md: fires when a systemic glucocorticoid is ordered (or active, on patient-view)
 * for a non-IBM IIM patient and no steroid-sparing agent is active or being ordered.
 * Critical for IMNM / anti-HMGCR ("never attempt corticosteroid monotherapy"). An agent
 * counts when it reaches the whole body (facts_agent: an ointment or eye drops does not,
 * an agent given in cycles does while its effect lasts); one whose route and form say
 * nothing does not silence the card, which names it. A course for another condition or a
 * single dose is not myositis treatment (facts_trigger_gc). With TPMT low or deficient on
 * record, azathioprine is not suggested.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdlib.h>

/* Picks the suggestions: methotrexate first, except for children (SC dosing per m2),
 * ILD (mycophenolate) and women of child-bearing age (azathioprine: not teratogenic). */
static void suggest(struct card *c, const struct patient_view *v, const struct rule_thresholds *th,
                    bool tpmt_low)
{
    bool child = facts_is_child(v, th);
    bool ild = (v->cond_flags & COND_ILD) != 0;
    bool female = facts_female_childbearing(v, th);
    card_suggest(c, child ? "methotrexate_child" : "methotrexate", !child && !ild && !female);
    if (!tpmt_low)
        card_suggest(c, "azathioprine", female && !ild && !child);
    if (!child) /* its 500 mg twice daily is an adult dose */
        card_suggest(c, "mycophenolate", ild);
    else
        c->recommended = 0;
}

/* True when TPMT on record is low or deficient (view_lab_tpmt). */
static bool tpmt_low(const struct rule_ctx *ctx)
{
    enum lab_finding f = view_lab_tpmt(&ctx->view->labs[LAB_TPMT], ctx->th->tpmt_low_u_ml,
                                       ctx->th->tpmt_deficient_u_ml);
    return f == FINDING_ABNORMAL || f == FINDING_SEVERE;
}

/* The detail's extra paragraphs: the patient's circumstance (IMNM, child, ILD, a woman of
 * child-bearing age), an agent of unknown form, low TPMT. Owned by the caller; NULL when
 * out of memory. */
static char *extras(const struct rule_ctx *ctx, const struct view_med *unknown, bool low)
{
    const struct patient_view *v = ctx->view;
    const char *first = (v->iim & IIM_IMNM)                     ? "extra_imnm"
                        : facts_is_child(v, ctx->th)            ? "extra_child"
                        : (v->cond_flags & COND_ILD)            ? "extra_ild"
                        : facts_female_childbearing(v, ctx->th) ? "extra_female"
                                                                : NULL;
    const struct tvar vars[] = {
        {"first", first != NULL ? rule_text(ctx->conf, first) : ""},
        {"unknown", unknown != NULL ? rule_text(ctx->conf, "extra_agent_unknown") : ""},
        {"tpmt", low ? rule_text(ctx->conf, "extra_tpmt_low") : ""},
    };
    char *joined = tmpl_fill("{first}{unknown}{tpmt}", vars, 3);
    if (joined == NULL || unknown == NULL)
        return joined;
    const struct tvar agent[] = {{"agent", unknown->label}};
    char *filled = tmpl_fill(joined, agent, 1);
    free(joined);
    return filled;
}

int rule_steroid_monotherapy(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    if ((v->iim & IIM_NON_IBM) == 0 || (v->iim & IIM_IBM) != 0)
        return 0;
    const struct view_med *gc = facts_trigger_gc(v);
    if (gc == NULL || facts_agent(v) != NULL)
        return 0;

    bool imnm = (v->iim & IIM_IMNM) != 0;
    bool low = tpmt_low(ctx);
    char dose[48];
    char dose_detail[FACT_MAX];
    rule_fmt_dose(gc->mg_per_day, dose, sizeof dose);
    facts_dose_detail(gc, dose_detail, sizeof dose_detail);
    char *extra = extras(ctx, facts_agent_unknown(v), low);
    if (extra == NULL)
        return -1;
    const struct tvar vars[] = {
        {"drug", gc->drug->display},
        {"dose", dose},
        {"order", gc->label},
        {"dose_detail", dose_detail},
        {"condition", v->iim_label},
        {"action", facts_action(v)},
        {"extra", extra},
    };
    struct card *c =
        card_add(out, ctx, imnm ? "indicator_imnm" : "indicator", imnm ? "summary_imnm" : "summary",
                 "detail", vars, (int)(sizeof vars / sizeof vars[0]));
    free(extra);
    if (card_about(c, gc) == NULL)
        return -1;
    suggest(c, v, ctx->th, low);
    return 0;
}

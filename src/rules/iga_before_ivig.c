/* iga_before_ivig.c - serum IgA before the first IVIG; IgA deficiency before any IVIG.
 *
 * RULES.md: guards every IVIG order, myositis or not. Warning when the IVIG would be the
 * first and no serum IgA is on record; critical when the patient is IgA deficient (latest
 * IgA below the threshold, or an IgA-deficiency condition).
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>

static bool other_ivig_on_record(const struct patient_view *v, const struct view_med *ivig)
{
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if (m != ivig && (m->classes & DC_IVIG) && !m->ordered)
            return true;
    }
    return v->past_ivig;
}

static void iga_fact(const struct patient_view *v, bool low, char *buf, size_t cap)
{
    if (low)
        snprintf(buf, cap, "Latest serum IgA **%g %s**, below the deficiency threshold",
                 v->labs[LAB_IGA].raw_value, v->labs[LAB_IGA].unit);
    else
        snprintf(buf, cap, "**Selective IgA deficiency** is on the problem list");
}

int rule_iga_before_ivig(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const struct view_med *ivig = view_find(v, DC_IVIG, true);
    if (ivig == NULL)
        return 0;
    bool low = v->labs[LAB_IGA].present && v->labs[LAB_IGA].value >= 0 &&
               v->labs[LAB_IGA].value < ctx->th->iga_deficiency_mg_dl;
    bool deficient = low || (v->cond_flags & COND_IGA_DEFICIENCY);
    bool first_unscreened = !v->labs[LAB_IGA].present && !other_ivig_on_record(v, ivig);
    if (!deficient && !first_unscreened)
        return 0;

    char fact[FACT_MAX];
    char iga_short[64];
    char limit[16];
    iga_fact(v, low, fact, sizeof fact);
    if (low)
        snprintf(iga_short, sizeof iga_short, "IgA %g %s", v->labs[LAB_IGA].raw_value,
                 v->labs[LAB_IGA].unit);
    else
        snprintf(iga_short, sizeof iga_short, "IgA deficiency on problem list");
    snprintf(limit, sizeof limit, "%g", ctx->th->iga_deficiency_mg_dl);
    const struct tvar vars[] = {
        {"order", ivig->label},      {"order_short", ivig->drug->display},
        {"action", facts_action(v)}, {"iga_fact", fact},
        {"iga_short", iga_short},    {"iga_limit", limit},
    };
    int n = (int)(sizeof vars / sizeof vars[0]);
    struct card *c = deficient ? card_add(out, ctx, "indicator_deficient", "summary_deficient",
                                          "detail_deficient", vars, n)
                               : card_add(out, ctx, "indicator", "summary", "detail", vars, n);
    if (c == NULL)
        return -1;
    if (deficient)
        c->override_key = "override_reasons_deficient";
    else
        card_suggest(c, "iga_test", true);
    return 0;
}

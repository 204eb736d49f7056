/* mtx_baseline.c - before methotrexate: hepatitis B/C screening, baseline liver tests and,
 * for a woman of child-bearing age, contraception (methotrexate is teratogenic).
 *
 * RULES.md: info. Each missing test is offered as its own suggestion ("any").
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

int rule_mtx_baseline(const struct rule_ctx *ctx, struct card_list *out)
{
    static const struct {
        const char *key;
        enum lab_kind lab;
    } tests[] = {{"hbsag", LAB_HBSAG}, {"hbc", LAB_HBC}, {"hcv", LAB_HCV}, {"liver", LAB_LIVER}};
    const struct patient_view *v = ctx->view;
    const struct view_med *mtx = facts_trigger(v, DC_METHOTREXATE);
    if (v->iim == 0 || mtx == NULL)
        return 0;
    const char *missing[4];
    int n = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (!v->labs[tests[i].lab].present)
            missing[n++] = tests[i].key;
    bool female = facts_female_childbearing(v, ctx->th);
    if (n == 0 && !female)
        return 0;

    char list[FACT_MAX], short_list[FACT_MAX], age[16];
    facts_join(ctx->conf, "names", missing, n, list, sizeof list);
    facts_join(ctx->conf, "short_names", missing, n, short_list, sizeof short_list);
    snprintf(age, sizeof age, "%.0f", v->age_years);
    const struct tvar inner[] = {{"list", list}, {"age", age}};
    char *missing_text = n > 0 ? tmpl_fill(rule_text(ctx->conf, "missing_intro"), inner, 2) : NULL;
    char *contraception =
        female ? tmpl_fill(rule_text(ctx->conf, "contraception"), inner, 2) : NULL;
    const struct tvar vars[] = {
        {"order", mtx->label},
        {"condition", v->iim_label},
        {"action", facts_action(v)},
        {"missing_short", n > 0 ? short_list : rule_text(ctx->conf, "short_contraception")},
        {"missing_text", missing_text != NULL ? missing_text : ""},
        {"contraception", contraception != NULL ? contraception : ""},
    };
    struct card *c = card_add(out, ctx, "indicator", "summary", "detail", vars,
                              (int)(sizeof vars / sizeof vars[0]));
    free(missing_text);
    free(contraception);
    if (c == NULL)
        return -1;
    c->selection = "any";
    for (int i = 0; i < n; i++)
        card_suggest(c, missing[i], true);
    return 0;
}

/* aza_tpmt.c - azathioprine and the patient's TPMT.
 *
 * docs/RULES.md "The rules": azathioprine ordered with no TPMT result on record, nor a TPMT test
 * ordered with it (by LOINC or by the names under "test_names"): a warning that suggests the test.
 * A result read for its value (view_lab_tpmt): low activity or an intermediate metaboliser
 * is critical (start at a reduced dose, CPIC), deficient activity or a poor metaboliser is
 * critical (avoid azathioprine, CPIC); neither card offers titration to 2 mg/kg. A normal
 * result is silent. A result that cannot be read is no result: the card says it was found
 * and could not be read.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

struct aza {
    const char *indicator_low;                   /* a low or deficient result */
    const char *summary_low, *summary_deficient; /* low: reduce; deficient: avoid */
    const char *detail_low, *detail_deficient;
    const char *found_none, *found_unread;   /* no result, or one unread */
    const char *reads_low, *reads_deficient; /* how the result reads */
    const char *result_value, *result_text;  /* {value} {reads} {date}: a number, or not */
    struct rule_names test_names;            /* a TPMT test ordered by name */
    struct rule_sugg tpmt;
    struct rule_reasons override_reasons_low;
};

#define KEY(f, t) RULE_KEY(struct aza, f, t)
static const struct rule_key keys[] = {
    KEY(indicator_low, RK_INDICATOR), KEY(summary_low, RK_TEXT),
    KEY(summary_deficient, RK_TEXT),  KEY(detail_low, RK_TEXT),
    KEY(detail_deficient, RK_TEXT),   KEY(found_none, RK_TEXT),
    KEY(found_unread, RK_TEXT),       KEY(reads_low, RK_TEXT),
    KEY(reads_deficient, RK_TEXT),    KEY(test_names, RK_NAMES),
    KEY(tpmt, RK_SUGGESTION),         KEY(override_reasons_low, RK_REASONS),
    KEY(result_value, RK_TEXT),       KEY(result_text, RK_TEXT),
};
const struct rule_spec aza_tpmt_spec = {keys, RULE_COUNT(keys), NULL, 0, sizeof(struct aza)};

/* "TPMT activity 1 U/mL (flagged critically low) on 2026-11-20", or "TPMT genotype: poor
 * metabolizer on 2026-11-20" when the result has no number. */
static void result_phrase(const struct rule_ctx *ctx, const struct view_lab *lab,
                          enum lab_finding f, char *buf, size_t cap)
{
    char value[48], when[24];
    facts_lab_value(lab, value, sizeof value);
    facts_day(ctx, lab->day, when, sizeof when);
    const struct aza *k = ctx->own;
    const char *reads = f == FINDING_SEVERE ? k->reads_deficient : k->reads_low;
    const struct tvar vars[] = {{"value", value}, {"reads", reads}, {"date", when}};
    tmpl_format(buf, cap, value[0] != '\0' ? k->result_value : k->result_text, vars, 3);
}

int rule_aza_tpmt(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct aza *k = ctx->own;
    const struct patient_view *v = ctx->view;
    const struct view_med *aza = facts_trigger(v, DC_AZATHIOPRINE);
    if (v->iim == 0 || aza == NULL)
        return 0;
    const struct view_lab *lab = &v->labs[LAB_TPMT];
    enum lab_finding f = view_lab_tpmt(lab, ctx->th->tpmt_low_u_ml, ctx->th->tpmt_deficient_u_ml);
    bool low = f == FINDING_ABNORMAL || f == FINDING_SEVERE;
    if (f == FINDING_OK || (!low && facts_test_ordered(v, LAB_TPMT, &k->test_names, NULL)))
        return 0;

    char result[FACT_MAX], when[24];
    facts_day(ctx, lab->day, when, sizeof when);
    if (low)
        result_phrase(ctx, lab, f, result, sizeof result);
    bool deficient = f == FINDING_SEVERE;
    struct tvar vars[] = {
        {"drug", aza->drug->display},
        {"order", aza->label},
        {"condition", v->iim_label},
        {"action", facts_action(ctx)},
        {"result", low ? result : ""},
        {"date", when},
        {"found", NULL},
    };
    int n = (int)(sizeof vars / sizeof vars[0]);
    char *found = tmpl_fill(f == FINDING_UNREADABLE ? k->found_unread : k->found_none, vars, n);
    if (found == NULL)
        return -1;
    vars[n - 1].value = found;
    struct card *c =
        !low        ? card_add_main(out, ctx, vars, n)
        : deficient ? card_add(out, ctx, k->indicator_low, k->summary_deficient,
                               k->detail_deficient, vars, n)
                    : card_add(out, ctx, k->indicator_low, k->summary_low, k->detail_low, vars, n);
    free(found);
    if (card_about(c, aza) == NULL)
        return -1;
    if (low)
        card_reasons(c, &k->override_reasons_low);
    else
        card_suggest(c, &k->tpmt, true);
    return 0;
}

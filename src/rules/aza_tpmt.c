/* aza_tpmt.c - azathioprine and the patient's TPMT.
 *
 * RULES.md: azathioprine ordered with no TPMT result on record, nor a TPMT test ordered
 * with it (by LOINC or by the names under "test_names"): a warning that suggests the test.
 * A result read for its value (view_lab_tpmt): low activity or an intermediate metaboliser
 * is critical (start at a reduced dose, CPIC), deficient activity or a poor metaboliser is
 * critical (avoid azathioprine, CPIC); neither card offers titration to 2 mg/kg. A normal
 * result is silent. A result that cannot be read is no result: the card says it was found
 * and could not be read.
 */
#include "fhir/json.h"
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

/* "TPMT activity 1 U/mL (flagged critically low) on 2026-11-20", or "TPMT genotype: poor
 * metabolizer on 2026-11-20" when the result has no number. */
static void result_phrase(const struct rule_ctx *ctx, const struct view_lab *lab,
                          enum lab_finding f, char *buf, size_t cap)
{
    char value[48], when[24];
    facts_lab_value(lab, value, sizeof value);
    facts_day(lab->day, when, sizeof when);
    const char *reads = rule_text(ctx->conf, f == FINDING_SEVERE ? "reads_deficient" : "reads_low");
    if (value[0] != '\0')
        snprintf(buf, cap, "TPMT %s (%s) on %s", value, reads, when);
    else
        snprintf(buf, cap, "TPMT result: %s, on %s", reads, when);
}

int rule_aza_tpmt(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const struct view_med *aza = facts_trigger(v, DC_AZATHIOPRINE);
    if (v->iim == 0 || aza == NULL)
        return 0;
    const struct view_lab *lab = &v->labs[LAB_TPMT];
    enum lab_finding f = view_lab_tpmt(lab, ctx->th->tpmt_low_u_ml, ctx->th->tpmt_deficient_u_ml);
    bool low = f == FINDING_ABNORMAL || f == FINDING_SEVERE;
    json_object *names = json_get_arr(ctx->conf->obj, "test_names");
    if (f == FINDING_OK || (!low && facts_test_ordered(v, LAB_TPMT, names, NULL)))
        return 0;

    char result[FACT_MAX], when[24];
    facts_day(lab->day, when, sizeof when);
    if (low)
        result_phrase(ctx, lab, f, result, sizeof result);
    bool deficient = f == FINDING_SEVERE;
    struct tvar vars[] = {
        {"drug", aza->drug->display},
        {"order", aza->label},
        {"condition", v->iim_label},
        {"action", facts_action(v)},
        {"result", low ? result : ""},
        {"date", when},
        {"found", NULL},
    };
    int n = (int)(sizeof vars / sizeof vars[0]);
    char *found = tmpl_fill(
        rule_text(ctx->conf, f == FINDING_UNREADABLE ? "found_unread" : "found_none"), vars, n);
    if (found == NULL)
        return -1;
    vars[n - 1].value = found;
    struct card *c =
        !low ? card_add(out, ctx, "indicator", "summary", "detail", vars, n)
        : deficient
            ? card_add(out, ctx, "indicator_low", "summary_deficient", "detail_deficient", vars, n)
            : card_add(out, ctx, "indicator_low", "summary_low", "detail_low", vars, n);
    free(found);
    if (card_about(c, aza) == NULL)
        return -1;
    if (low)
        c->override_key = "override_reasons_low";
    else
        card_suggest(c, "tpmt", true);
    return 0;
}

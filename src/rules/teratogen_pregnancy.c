/* teratogen_pregnancy.c - methotrexate or mycophenolate ordered for a pregnant patient.
 *
 * docs/RULES.md "The rules": critical when a pregnancy is recorded (facts_pregnant: an active
 * pregnancy Condition, or a positive hCG result of the last pregnancy_hcg_days). Both drugs are
 * teratogenic (terminology class "teratogen"); a local form does not count.
 */
#include "rules/facts.h"
#include "rules/rules.h"

/* Nothing beyond what every rule has. */
const struct rule_spec teratogen_pregnancy_spec = {NULL, 0, NULL, 0, 0};

int rule_teratogen_pregnancy(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const struct view_med *drug = NULL;
    for (int i = 0; i < v->n_meds && drug == NULL; i++)
        if ((v->meds[i].classes & DC_TERATOGEN) && v->meds[i].trigger &&
            v->meds[i].route != ROUTE_LOCAL)
            drug = &v->meds[i];
    char evidence[FACT_MAX];
    if (v->iim == 0 || drug == NULL || !facts_pregnant(ctx, evidence, sizeof evidence))
        return 0;
    const struct tvar vars[] = {
        {"drug", drug->drug->display}, {"order", drug->label}, {"condition", v->iim_label},
        {"action", facts_action(ctx)}, {"evidence", evidence},
    };
    return card_about(card_add_main(out, ctx, vars, RULE_COUNT(vars)), drug) != NULL ? 0 : -1;
}

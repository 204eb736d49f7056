/* ivig_plasmapheresis.c - IVIG and plasmapheresis planned together: the exchange would
 * remove the IVIG (Dr.Oracle, "Treatment of Inclusion Body Myositis and Polymyositis" (2026), IVIG
 * administration errors). Warning. */
#include "rules/facts.h"
#include "rules/rules.h"

struct ivig_pe {
    const char *when_both, *when_ivig, *when_pe, *when_record; /* what is being done */
};

#define KEY(f) RULE_KEY(struct ivig_pe, f, RK_TEXT)
static const struct rule_key keys[] = {KEY(when_both), KEY(when_ivig), KEY(when_pe),
                                       KEY(when_record)};
const struct rule_spec ivig_plasmapheresis_spec = {keys, RULE_COUNT(keys), NULL, 0,
                                                   sizeof(struct ivig_pe)};

int rule_ivig_plasmapheresis(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct ivig_pe *k = ctx->own;
    const struct patient_view *v = ctx->view;
    const unsigned pe = 1u << PROC_PLASMAPHERESIS;
    const struct view_med *ivig = view_find(v, DC_IVIG, false);
    if (v->iim == 0 || ivig == NULL || ((v->proc_ordered | v->proc_active) & pe) == 0)
        return 0;
    bool ivig_now = ivig->trigger;
    bool pe_now = (v->proc_ordered & pe) != 0;
    if (!ivig_now && !pe_now)
        return 0; /* neither is being ordered in this hook */
    const char *when = v->hook == HOOK_PATIENT_VIEW ? k->when_record
                       : ivig_now && pe_now         ? k->when_both
                       : ivig_now                   ? k->when_ivig
                                                    : k->when_pe;
    const struct tvar vars[] = {
        {"order", ivig->label},
        {"condition", v->iim_label},
        {"when", when},
    };
    return card_about(card_add_main(out, ctx, vars, RULE_COUNT(vars)), ivig) != NULL ? 0 : -1;
}

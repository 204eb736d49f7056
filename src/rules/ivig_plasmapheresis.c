/* ivig_plasmapheresis.c - IVIG and plasmapheresis planned together: the exchange would
 * remove the IVIG (seed 000, IVIG administration errors). Warning. */
#include "rules/facts.h"
#include "rules/rules.h"

int rule_ivig_plasmapheresis(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const unsigned pe = 1u << PROC_PLASMAPHERESIS;
    const struct view_med *ivig = view_find(v, DC_IVIG, false);
    if (v->iim == 0 || ivig == NULL || ((v->proc_ordered | v->proc_active) & pe) == 0)
        return 0;
    bool ivig_now = ivig->trigger;
    bool pe_now = (v->proc_ordered & pe) != 0;
    if (!ivig_now && !pe_now)
        return 0; /* neither is being ordered in this hook */
    const char *when = v->hook == HOOK_PATIENT_VIEW ? "when_record"
                       : ivig_now && pe_now         ? "when_both"
                       : ivig_now                   ? "when_ivig"
                                                    : "when_pe";
    const struct tvar vars[] = {
        {"order", ivig->label},
        {"condition", v->iim_label},
        {"when", rule_text(ctx->conf, when)},
    };
    return card_about(card_add(out, ctx, "indicator", "summary", "detail", vars,
                               (int)(sizeof vars / sizeof vars[0])),
                      ivig) != NULL
               ? 0
               : -1;
}

/* med_checks.c - the one-order checks: a drug being ordered that the myositis guidance
 * says needs something else first or should not be given at all.
 *
 * mtx-folic-acid (warning): methotrexate without folic acid.
 * statin-imnm (critical): a statin ordered for IMNM / anti-HMGCR myopathy, or one active
 *   while a myositis treatment is being ordered (patient-view: active): stop it.
 * anti-tnf-myositis (warning): a TNF inhibitor for PM / DM (may worsen ILD and myositis);
 *   also for antisynthetase syndrome (ILD is its hallmark) and unspecified IIM (PM or DM
 *   not yet told apart), not for IBM or IMNM alone.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#define TNF_AT_RISK (IIM_PM | IIM_DM | IIM_JDM | IIM_ANTISYNTHETASE | IIM_UNSPECIFIED)

struct folic_acid {
    const char *summary_established, *detail_established; /* patient-view, weeks in */
    struct rule_sugg folic_acid;
};

static const struct rule_key folic_keys[] = {
    RULE_KEY(struct folic_acid, summary_established, RK_TEXT),
    RULE_KEY(struct folic_acid, detail_established, RK_TEXT),
    RULE_KEY(struct folic_acid, folic_acid, RK_SUGGESTION),
};
const struct rule_spec mtx_folic_acid_spec = {folic_keys, RULE_COUNT(folic_keys), NULL, 0,
                                              sizeof(struct folic_acid)};

struct statin {
    const char *summary_active, *detail_active; /* an active statin, not being ordered */
};

static const struct rule_key statin_keys[] = {
    RULE_KEY(struct statin, summary_active, RK_TEXT),
    RULE_KEY(struct statin, detail_active, RK_TEXT),
};
const struct rule_spec statin_imnm_spec = {statin_keys, RULE_COUNT(statin_keys), NULL, 0,
                                           sizeof(struct statin)};

/* Nothing beyond what every rule has. */
const struct rule_spec anti_tnf_myositis_spec = {NULL, 0, NULL, 0, 0};

/* The common card: the order, the condition, and optionally one suggestion (borrowed). */
static int order_card(const struct rule_ctx *ctx, struct card_list *out, const struct view_med *m,
                      const struct rule_sugg *suggestion)
{
    const struct tvar vars[] = {
        {"drug", m->drug->display},
        {"order", m->label},
        {"condition", ctx->view->iim_label},
        {"action", facts_action(ctx)},
    };
    struct card *c = card_about(card_add_main(out, ctx, vars, RULE_COUNT(vars)), m);
    if (c == NULL)
        return -1;
    if (suggestion != NULL)
        card_suggest(c, suggestion, true);
    return 0;
}

int rule_mtx_folic_acid(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct folic_acid *k = ctx->own;
    const struct patient_view *v = ctx->view;
    const struct view_med *mtx = facts_trigger(v, DC_METHOTREXATE);
    if (v->iim == 0 || mtx == NULL || view_find(v, DC_FOLIC_ACID, false) != NULL)
        return 0;
    char since[16];
    if (!facts_established(v, mtx, ctx->th, since, sizeof since, NULL))
        return order_card(ctx, out, mtx, &k->folic_acid);
    const struct tvar vars[] = {
        {"order", mtx->label},
        {"condition", v->iim_label},
        {"action", facts_action(ctx)},
        {"since", since},
    };
    struct card *c = card_about(card_add(out, ctx, ctx->conf->indicator, k->summary_established,
                                         k->detail_established, vars, RULE_COUNT(vars)),
                                mtx);
    if (c == NULL)
        return -1;
    card_suggest(c, &k->folic_acid, true);
    return 0;
}

/* An active statin (on the record, not being ordered) or NULL. */
static const struct view_med *active_statin(const struct patient_view *v)
{
    for (int i = 0; i < v->n_meds; i++)
        if ((v->meds[i].classes & DC_STATIN) && !v->meds[i].ordered && !v->meds[i].lasting)
            return &v->meds[i];
    return NULL;
}

int rule_statin_imnm(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct statin *k = ctx->own;
    const struct patient_view *v = ctx->view;
    if ((v->iim & IIM_IMNM) == 0)
        return 0;
    const struct view_med *statin = facts_trigger(v, DC_STATIN);
    if (statin != NULL && v->hook == HOOK_PATIENT_VIEW) { /* active, not ordered: stop it */
        const struct tvar vars[] = {
            {"drug", statin->drug->display},
            {"order", statin->label},
            {"condition", v->iim_label},
            {"action", facts_action(ctx)},
        };
        return card_about(card_add(out, ctx, ctx->conf->indicator, k->summary_active,
                                   ctx->conf->detail, vars, RULE_COUNT(vars)),
                          statin) != NULL
                   ? 0
                   : -1;
    }
    if (statin != NULL)
        return order_card(ctx, out, statin, NULL);
    const struct view_med *treatment = facts_myositis_treatment(v);
    statin = treatment != NULL ? active_statin(v) : NULL;
    if (statin == NULL)
        return 0;
    const struct tvar vars[] = {
        {"drug", statin->drug->display}, {"statin", statin->label},     {"order", treatment->label},
        {"condition", v->iim_label},     {"action", facts_action(ctx)},
    };
    return card_about(card_add(out, ctx, ctx->conf->indicator, k->summary_active, k->detail_active,
                               vars, RULE_COUNT(vars)),
                      treatment) != NULL
               ? 0
               : -1;
}

int rule_anti_tnf_myositis(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const struct view_med *tnf = facts_trigger(v, DC_TNF_INHIBITOR);
    if ((v->iim & TNF_AT_RISK) == 0 || tnf == NULL)
        return 0;
    return order_card(ctx, out, tnf, NULL);
}

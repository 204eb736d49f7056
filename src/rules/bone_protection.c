/* bone_protection.c - long-term corticosteroids: calcium + vitamin D, a baseline DXA, and
 * a bisphosphonate when osteoporosis is recorded (seed 000, mandatory preventive
 * measures). Info, each missing measure offered as a suggestion ("any").
 */
#include "fhir/json.h"
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

/* The long-course systemic glucocorticoid a rule may fire on, or NULL. */
static const struct view_med *long_course(const struct patient_view *v, double min_days)
{
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if ((m->classes & DC_GLUCOCORTICOID) && m->systemic && m->trigger &&
            (m->duration_days < 0 || m->duration_days >= min_days))
            return m;
    }
    return NULL;
}

int rule_bone_protection(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const struct view_med *gc = long_course(v, ctx->th->bone_min_days);
    if (v->iim == 0 || gc == NULL)
        return 0;
    const unsigned dxa = 1u << PROC_DXA;
    const char *missing[3];
    int n = 0;
    if (view_find(v, DC_CALCIUM, false) == NULL || view_find(v, DC_VITAMIN_D, false) == NULL)
        missing[n++] = "supplements";
    if (!v->labs[LAB_DXA].present && ((v->proc_done | v->proc_active | v->proc_ordered) & dxa) == 0)
        missing[n++] = "dxa";
    if ((v->cond_flags & COND_OSTEOPOROSIS) && view_find(v, DC_BISPHOSPHONATE, false) == NULL)
        missing[n++] = "bisphosphonate";
    if (n == 0)
        return 0;

    char list[FACT_MAX], short_list[FACT_MAX], duration[48], dose_detail[FACT_MAX];
    facts_join(ctx->conf, "names", missing, n, list, sizeof list);
    facts_join(ctx->conf, "short_names", missing, n, short_list, sizeof short_list);
    facts_duration(gc->duration_days, duration, sizeof duration);
    facts_dose_detail(gc, dose_detail, sizeof dose_detail);
    const struct tvar inner[] = {{"list", list}};
    char *missing_text = tmpl_fill(rule_text(ctx->conf, "missing_intro"), inner, 1);
    const struct tvar vars[] = {
        {"drug", gc->drug->display},   {"order", gc->label},
        {"dose_detail", dose_detail},  {"duration", duration},
        {"condition", v->iim_label},   {"action", facts_action(v)},
        {"missing_short", short_list}, {"missing_text", missing_text ? missing_text : ""},
    };
    struct card *c = card_add(out, ctx, "indicator", "summary", "detail", vars,
                              (int)(sizeof vars / sizeof vars[0]));
    free(missing_text);
    if (c == NULL)
        return -1;
    c->selection = "any";
    for (int i = 0; i < n; i++)
        if (json_get_obj(json_get_obj(ctx->conf->obj, "suggestions"), missing[i]) != NULL)
            card_suggest(c, missing[i], true);
    return 0;
}

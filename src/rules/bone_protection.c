/* bone_protection.c - long-term corticosteroids: calcium + vitamin D, a baseline DXA, and
 * a bisphosphonate when osteoporosis is recorded (Dr.Oracle, "Treatment of Inclusion Body Myositis
 * and Polymyositis" (2026), mandatory preventive measures). Info, each missing measure offered as a
 * suggestion ("any"). The course counts: consecutive orders of one glucocorticoid add up to its
 * length; a single dose is none. A DXA on record, planned, done or ordered with it (ServiceRequest
 * by code) is a baseline.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

struct bone {
    const char *missing_intro;          /* "{list}" of what is missing */
    struct rule_map names, short_names; /* each measure's name, long and short */
    struct rule_sugg supplements, dxa;  /* a bisphosphonate is for the prescriber to choose */
    double bone_min_days;               /* a course this long is long-term */
};

static const char *const measures[] = {"supplements", "dxa", "bisphosphonate", NULL};

static const struct rule_key keys[] = {
    RULE_KEY(struct bone, missing_intro, RK_TEXT),
    RULE_MAP(struct bone, names, RK_TEXT_MAP, measures),
    RULE_MAP(struct bone, short_names, RK_TEXT_MAP, measures),
    RULE_KEY(struct bone, supplements, RK_SUGGESTION),
    RULE_KEY(struct bone, dxa, RK_SUGGESTION),
};
static const struct rule_param params[] = {
    RULE_PARAM(struct bone, bone_min_days, 7, 365),
};
const struct rule_spec bone_protection_spec = {keys, RULE_COUNT(keys), params, RULE_COUNT(params),
                                               sizeof(struct bone)};

/* The planned length of m's course in days: from the start of the consecutive orders it
 * ends (a course) to its own end; < 0 open-ended. */
static double course_days(const struct view_med *m)
{
    if (m->duration_days < 0)
        return -1;
    bool course = m->course_orders > 1 && m->course_start >= 0 && m->start_day >= m->course_start;
    return m->duration_days + (course ? (double)(m->start_day - m->course_start) : 0);
}

/* The long-course systemic glucocorticoid a rule may fire on, or NULL. */
static const struct view_med *long_course(const struct patient_view *v, double min_days)
{
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if ((m->classes & DC_GLUCOCORTICOID) && m->systemic && m->trigger && !m->single_dose &&
            (course_days(m) < 0 || course_days(m) >= min_days))
            return m;
    }
    return NULL;
}

int rule_bone_protection(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct bone *k = ctx->own;
    const struct patient_view *v = ctx->view;
    const struct view_med *gc = long_course(v, k->bone_min_days);
    if (v->iim == 0 || gc == NULL)
        return 0;
    const unsigned dxa = 1u << PROC_DXA;
    const char *missing[3];
    const struct rule_sugg *offer[3];
    int n = 0;
    if (view_find(v, DC_CALCIUM, false) == NULL || view_find(v, DC_VITAMIN_D, false) == NULL) {
        offer[n] = &k->supplements;
        missing[n++] = measures[0];
    }
    if (!v->labs[LAB_DXA].present &&
        ((v->proc_done | v->proc_active | v->proc_ordered) & dxa) == 0) {
        offer[n] = &k->dxa;
        missing[n++] = measures[1];
    }
    if ((v->cond_flags & COND_OSTEOPOROSIS) && view_find(v, DC_BISPHOSPHONATE, false) == NULL) {
        offer[n] = NULL;
        missing[n++] = measures[2];
    }
    if (n == 0)
        return 0;

    char list[FACT_MAX], short_list[FACT_MAX], duration[48], dose_detail[FACT_MAX];
    facts_join(&k->names, missing, n, list, sizeof list);
    facts_join(&k->short_names, missing, n, short_list, sizeof short_list);
    facts_duration(ctx, course_days(gc), duration, sizeof duration);
    facts_dose_detail(ctx, gc, dose_detail, sizeof dose_detail);
    const struct tvar inner[] = {{"list", list}};
    char *missing_text = tmpl_fill(k->missing_intro, inner, 1);
    const struct tvar vars[] = {
        {"drug", gc->drug->display},   {"order", gc->label},
        {"dose_detail", dose_detail},  {"duration", duration},
        {"condition", v->iim_label},   {"action", facts_action(ctx)},
        {"missing_short", short_list}, {"missing_text", missing_text ? missing_text : ""},
    };
    struct card *c = card_add_main(out, ctx, vars, RULE_COUNT(vars));
    free(missing_text);
    if (card_about(c, gc) == NULL)
        return -1;
    c->selection = "any";
    for (int i = 0; i < n; i++)
        if (offer[i] != NULL)
            card_suggest(c, offer[i], true);
    return 0;
}

/* high_dose_duration.c - prednisone-equivalent >= 40 mg/day active for more than 4 weeks
 * with no taper below it yet: a single-step order, or a written taper whose every step so
 * far (up to the one in effect today) is still at that dose. Info. Dr.Oracle, "Treatment of
 * Inflammatory Myopathy" (2025), with "Treatment of Inclusion Body Myositis and Polymyositis"
 * (2026): never continue high-dose corticosteroids beyond 2-4 weeks. Not for IBM: ibm-steroid gives
 * its own rapid taper, and two taper plans on one screen would contradict each other. On order
 * hooks it fires when a high dose is being ordered again; on patient-view on the active record. The
 * high dose is counted from the start of the consecutive orders before it that were at that dose
 * too (a course, docs/RULES.md "How the facts are read"). A start date that is unknown means the
 * rule cannot tell, and it stays silent.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>

struct high_dose {
    const char *course_one, *course_many; /* one order, or consecutive orders */
    double high_dose_mg_per_day, high_dose_max_days;
};

static const struct rule_key keys[] = {
    RULE_KEY(struct high_dose, course_one, RK_TEXT),
    RULE_KEY(struct high_dose, course_many, RK_TEXT),
};
static const struct rule_param params[] = {
    RULE_PARAM(struct high_dose, high_dose_mg_per_day, 5, 200),
    RULE_PARAM(struct high_dose, high_dose_max_days, 7, 365),
};
const struct rule_spec high_dose_duration_spec = {keys, RULE_COUNT(keys), params,
                                                  RULE_COUNT(params), sizeof(struct high_dose)};

static bool high(const struct view_med *m, double mg)
{
    return (m->classes & DC_GLUCOCORTICOID) && m->systemic && m->pred_mg_per_day >= mg;
}

/* True when every step of m up to today's is at or above mg: the high dose has run since
 * the order's start. A single-step order trivially. */
static bool high_since_start(const struct view_med *m, double mg)
{
    if (m->steps <= 1)
        return true;
    if (m->current_step >= VIEW_STEPS_MAX)
        return false;
    for (int s = 0; s < m->current_step; s++)
        if (m->step[s].pred_mg_per_day < mg)
            return false;
    return true;
}

#define HIGH_HOPS_MAX 16 /* orders followed back along one course */

/* The day m's high dose began: its start, or that of the consecutive orders before it
 * (view_course_prev) that ran at the high dose all along; -1 when unknown. *orders gets
 * how many orders that stretch spans. */
static long high_since(const struct patient_view *v, const struct view_med *m, double mg,
                       int *orders)
{
    long start = m->start_day;
    *orders = 1;
    const struct view_med *p = view_course_prev(v, m);
    for (int hops = 0; p != NULL && hops < HIGH_HOPS_MAX && start >= 0; hops++) {
        if (!high(p, mg) || p->steps > 1 || p->start_day < 0)
            break;
        start = p->start_day;
        ++*orders;
        p = view_course_prev(v, p);
    }
    return start;
}

int rule_high_dose_duration(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const struct high_dose *th = ctx->own;
    const struct view_med *old = NULL;
    long old_start = -1;
    int old_orders = 1;
    bool ordering_high = v->hook == HOOK_PATIENT_VIEW;
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if (!high(m, th->high_dose_mg_per_day))
            continue;
        if (m->trigger)
            ordering_high = true;
        int orders = 1;
        long start = high_since(v, m, th->high_dose_mg_per_day, &orders);
        /* a draft's own dose has not run yet: only the orders before it count */
        if (old == NULL && (!m->ordered || orders > 1) &&
            high_since_start(m, th->high_dose_mg_per_day) && start >= 0 &&
            (double)(v->today - start) > th->high_dose_max_days) {
            old = m;
            old_start = start;
            old_orders = orders;
        }
    }
    if ((v->iim & IIM_NON_IBM) == 0 || (v->iim & IIM_IBM) != 0 || old == NULL || !ordering_high)
        return 0;

    char pred[48], days[16], start[16], dose_detail[FACT_MAX];
    facts_date(old_start, start, sizeof start);
    rule_fmt_dose(ctx->words, old->pred_mg_per_day, pred, sizeof pred);
    snprintf(days, sizeof days, "%ld", v->today - old_start);
    facts_dose_detail(ctx, old, dose_detail, sizeof dose_detail);
    const struct tvar vars[] = {
        {"drug", old->drug->display},
        {"pred", pred},
        {"days", days},
        {"start", start},
        {"order", old->label},
        {"dose_detail", dose_detail},
        {"condition", v->iim_label},
        {"course", old_orders > 1 ? th->course_many : th->course_one},
    };
    return card_about(card_add_main(out, ctx, vars, RULE_COUNT(vars)), old) != NULL ? 0 : -1;
}

/* high_dose_duration.c - prednisone-equivalent >= 40 mg/day active for more than 4 weeks
 * with no taper below it yet: a single-step order, or a written taper whose every step so
 * far (up to the one in effect today) is still at that dose. Info. Seeds 000/002: never continue
 * high-dose corticosteroids beyond 2-4 weeks. Not for IBM: ibm-steroid gives its own rapid taper,
 * and two taper plans on one screen would contradict each other. On order hooks it fires when a
 * high dose is being ordered again; on patient-view on the active record. A start date that is
 * unknown means the rule cannot tell, and it stays silent.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>

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

int rule_high_dose_duration(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const struct rule_thresholds *th = ctx->th;
    const struct view_med *old = NULL;
    bool ordering_high = v->hook == HOOK_PATIENT_VIEW;
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if (!high(m, th->high_dose_mg_per_day))
            continue;
        if (m->trigger)
            ordering_high = true;
        if (!m->ordered && high_since_start(m, th->high_dose_mg_per_day) && m->start_day >= 0 &&
            (double)(v->today - m->start_day) > th->high_dose_max_days && old == NULL)
            old = m;
    }
    if ((v->iim & IIM_NON_IBM) == 0 || (v->iim & IIM_IBM) != 0 || old == NULL || !ordering_high)
        return 0;

    char pred[48], days[16], start[16], dose_detail[FACT_MAX];
    facts_date(old->start_day, start, sizeof start);
    rule_fmt_dose(old->pred_mg_per_day, pred, sizeof pred);
    snprintf(days, sizeof days, "%ld", v->today - old->start_day);
    facts_dose_detail(old, dose_detail, sizeof dose_detail);
    const struct tvar vars[] = {
        {"drug", old->drug->display},
        {"pred", pred},
        {"days", days},
        {"start", start},
        {"order", old->label},
        {"dose_detail", dose_detail},
        {"condition", v->iim_label},
    };
    return card_add(out, ctx, "indicator", "summary", "detail", vars,
                    (int)(sizeof vars / sizeof vars[0])) != NULL
               ? 0
               : -1;
}

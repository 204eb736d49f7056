/* mtx_weekly.c - methotrexate for myositis on a daily or more-than-weekly schedule.
 *
 * RULES.md: critical; methotrexate for myositis is taken once weekly, and daily dosing is
 * a well-known fatal error. The schedule is the order's administrations per day (timing,
 * timing.code or the sig words the dose engine reads): more than one a week fires; an
 * unknown schedule stays silent (no guessing). Suggestion: the weekly order.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>

#define WEEKLY_PER_DAY (1.0 / 7.0)

struct mtx_weekly {
    struct rule_sugg methotrexate_weekly;
};

static const struct rule_key keys[] = {
    RULE_KEY(struct mtx_weekly, methotrexate_weekly, RK_SUGGESTION),
};
const struct rule_spec mtx_weekly_spec = {keys, RULE_COUNT(keys), NULL, 0,
                                          sizeof(struct mtx_weekly)};

/* "daily", "twice daily", "3 times a week": how often m is given, in words. */
static void schedule_words(const struct view_med *m, char *buf, size_t cap)
{
    double per_week = m->per_day * 7;
    if (m->per_day >= 0.999 && m->per_day <= 1.001)
        snprintf(buf, cap, "daily");
    else if (m->per_day > 1.001)
        snprintf(buf, cap, "%g times daily", m->per_day);
    else
        snprintf(buf, cap, "%g times a week", per_week);
}

int rule_mtx_weekly(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    if (v->iim == 0)
        return 0;
    const struct view_med *mtx = NULL;
    for (int i = 0; i < v->n_meds && mtx == NULL; i++) {
        const struct view_med *m = &v->meds[i];
        if ((m->classes & DC_METHOTREXATE) && m->trigger && m->route != ROUTE_LOCAL &&
            !m->single_dose && m->per_day > WEEKLY_PER_DAY * 1.001)
            mtx = m;
    }
    if (mtx == NULL)
        return 0;
    char schedule[48], dose[48], week[48];
    schedule_words(mtx, schedule, sizeof schedule);
    rule_fmt_dose(mtx->mg_per_day, dose, sizeof dose);
    if (mtx->mg_per_day >= 0)
        snprintf(week, sizeof week, "%g mg a week", mtx->mg_per_day * 7);
    else
        snprintf(week, sizeof week, "an unknown amount a week");
    const struct tvar vars[] = {
        {"order", mtx->label},
        {"condition", v->iim_label},
        {"action", facts_action(v)},
        {"schedule", schedule},
        {"dose", dose},
        {"week", week},
    };
    const struct mtx_weekly *k = ctx->own;
    struct card *c = card_about(card_add_main(out, ctx, vars, RULE_COUNT(vars)), mtx);
    if (c == NULL)
        return -1;
    card_suggest(c, &k->methotrexate_weekly, true);
    return 0;
}

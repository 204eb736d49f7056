/* mtx_weekly.c - methotrexate for myositis on a daily or more-than-weekly schedule.
 *
 * docs/RULES.md "The rules": critical; methotrexate for myositis is taken once weekly, and daily
 * dosing is a well-known fatal error. The schedule is the order's administrations per day (timing,
 * timing.code or the sig words the dose engine reads): more than one a week fires; an
 * unknown schedule stays silent (no guessing). Suggestion: the weekly order.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>

#define WEEKLY_PER_DAY (1.0 / 7.0)

struct mtx_weekly {
    const char *schedule_daily, *schedule_per_day, *schedule_per_week; /* {n} */
    const char *week_mg, *week_unknown;                                /* {mg} */
    struct rule_sugg methotrexate_weekly;
};

#define KEY(f, t) RULE_KEY(struct mtx_weekly, f, t)
static const struct rule_key keys[] = {
    KEY(schedule_daily, RK_TEXT),    KEY(schedule_per_day, RK_TEXT),
    KEY(schedule_per_week, RK_TEXT), KEY(week_mg, RK_TEXT),
    KEY(week_unknown, RK_TEXT),      KEY(methotrexate_weekly, RK_SUGGESTION),
};
const struct rule_spec mtx_weekly_spec = {keys, RULE_COUNT(keys), NULL, 0,
                                          sizeof(struct mtx_weekly)};

/* "daily", "2 times daily", "3 times a week": how often m is given, in words. */
static void schedule_words(const struct mtx_weekly *k, const struct view_med *m, char *buf,
                           size_t cap)
{
    char n[32];
    bool daily = m->per_day >= 0.999 && m->per_day <= 1.001;
    snprintf(n, sizeof n, "%g", m->per_day > 1.001 ? m->per_day : m->per_day * 7);
    const struct tvar vars[] = {{"n", n}};
    tmpl_format(buf, cap,
                daily                ? k->schedule_daily
                : m->per_day > 1.001 ? k->schedule_per_day
                                     : k->schedule_per_week,
                vars, 1);
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
    const struct mtx_weekly *k = ctx->own;
    char schedule[48], dose[48], week[48], mg[32];
    schedule_words(k, mtx, schedule, sizeof schedule);
    rule_fmt_dose(ctx->words, mtx->mg_per_day, dose, sizeof dose);
    snprintf(mg, sizeof mg, "%g", mtx->mg_per_day * 7);
    const struct tvar week_vars[] = {{"mg", mg}};
    tmpl_format(week, sizeof week, mtx->mg_per_day >= 0 ? k->week_mg : k->week_unknown, week_vars,
                1);
    const struct tvar vars[] = {
        {"order", mtx->label},
        {"condition", v->iim_label},
        {"action", facts_action(ctx)},
        {"schedule", schedule},
        {"dose", dose},
        {"week", week},
    };
    struct card *c = card_about(card_add_main(out, ctx, vars, RULE_COUNT(vars)), mtx);
    if (c == NULL)
        return -1;
    card_suggest(c, &k->methotrexate_weekly, true);
    return 0;
}

/* facts.c - phrases about the patient's own facts, shared by the rules' cards. */
#include "rules/facts.h"

#include "clinical/textmatch.h"
#include "fhir/fhir.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *facts_action(const struct rule_ctx *ctx)
{
    return ctx->view->hook == HOOK_PATIENT_VIEW ? ctx->words->action_active
                                                : ctx->words->action_ordered;
}

const struct view_med *facts_trigger_gc(const struct patient_view *v)
{
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        /* a single dose (a premedication, a one-off injection) is not a course, and an
         * order for another condition (a COPD exacerbation) is not myositis treatment */
        if ((m->classes & DC_GLUCOCORTICOID) && m->systemic && m->trigger && !m->single_dose &&
            m->reason != REASON_OTHER)
            return m;
    }
    return NULL;
}

/* How often, in words: "daily", "twice daily", "every 8 hours", "weekly". */
static void frequency_words(const struct rule_words *w, double per_day, char *buf, size_t cap)
{
    const struct {
        double per_day;
        const char *words;
    } named[] = {{1, w->freq_1}, {2, w->freq_2},      {3, w->freq_3},
                 {4, w->freq_4}, {0.5, w->freq_half}, {1.0 / 7, w->freq_weekly}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (fabs(per_day - named[i].per_day) < 1e-9) {
            snprintf(buf, cap, "%s", named[i].words);
            return;
        }
    double hours = 24 / per_day;
    char num[32];
    bool by_hours = per_day > 1 && fabs(hours - (double)(long)hours) < 1e-9;
    if (by_hours)
        snprintf(num, sizeof num, "%.0f", hours);
    else
        snprintf(num, sizeof num, "%g", per_day);
    const struct tvar vars[] = {{"hours", num}, {"n", num}};
    tmpl_format(buf, cap, by_hours ? w->freq_hours : w->freq_per_day, vars, 2);
}

/* The dose as the order gives it, with its arithmetic when there is any: "3 x 20 mg
 * daily = 60 mg/day", "20 mg twice daily = 40 mg/day", "up to 40 mg/day (as needed)". */
static void own_dose(const struct rule_words *w, const struct view_med *m, char *buf, size_t cap)
{
    char total[48], freq[32], each[96], units[32], unit_mg[32], mg[32];
    rule_fmt_dose(w, m->mg_per_day, total, sizeof total);
    freq[0] = '\0';
    if (m->per_day > 0)
        frequency_words(w, m->per_day, freq, sizeof freq);
    snprintf(units, sizeof units, "%g", m->units);
    snprintf(unit_mg, sizeof unit_mg, "%g", m->unit_mg);
    snprintf(mg, sizeof mg, "%g",
             m->single_dose || m->per_day <= 0 ? m->mg_per_day : m->mg_per_day / m->per_day);
    const struct tvar vars[] = {{"units", units}, {"unit_mg", unit_mg}, {"mg", mg}, {"freq", freq}};
    if (m->units > 0 && m->unit_mg > 0 && m->per_day > 0)
        tmpl_format(each, sizeof each, w->dose_units, vars, 4);
    else if (m->per_day > 0 && fabs(m->per_day - 1) > 1e-9 && m->mg_per_day > 0)
        tmpl_format(each, sizeof each, w->dose_each, vars, 4);
    else
        each[0] = '\0';
    if (m->single_dose)
        tmpl_format(buf, cap, w->dose_single, vars, 4);
    else
        snprintf(buf, cap, "%s%s%s", m->as_needed ? w->dose_as_needed : "", each, total);
}

/* A note on where the dose was read, or "": the ordered entry of several, the text. */
static const char *dose_source(const struct rule_words *w, const struct view_med *m)
{
    if (m->dose_from_text)
        return w->dose_from_text;
    if (m->dose_type != NULL && strcmp(m->dose_type, "ordered") == 0)
        return w->dose_ordered;
    return "";
}

void facts_dose_detail(const struct rule_ctx *ctx, const struct view_med *m, char *buf, size_t cap)
{
    const struct rule_words *w = ctx->words;
    char own[160], pred[48], shown[128];
    struct tvar vars[] = {{"drug", m->drug->display}, {"dose", own}, {"pred", pred}};
    if (m->mg_per_day < 0) {
        tmpl_format(buf, cap, w->dose_unreadable, vars, 1);
        return;
    }
    own_dose(w, m, shown, sizeof shown);
    snprintf(own, sizeof own, "%s%s", shown, dose_source(w, m));
    if (m->pred_mg_per_day < 0 || m->drug->potency == 1.0) {
        snprintf(buf, cap, "%s %s%s", m->drug->display, own,
                 m->pred_mg_per_day < 0 && (m->classes & DC_GLUCOCORTICOID) ? w->pred_unverified
                                                                            : "");
        return;
    }
    rule_fmt_dose(w, m->pred_mg_per_day, pred, sizeof pred);
    tmpl_format(buf, cap, w->pred_equivalent, vars, 3);
}

void facts_duration(const struct rule_ctx *ctx, double days, char *buf, size_t cap)
{
    char n[32];
    snprintf(n, sizeof n, "%.0f", days);
    const struct tvar vars[] = {{"days", n}};
    tmpl_format(buf, cap, days < 0 ? ctx->words->duration_open : ctx->words->duration_days, vars,
                1);
}

bool facts_is_child(const struct patient_view *v, const struct rule_thresholds *th)
{
    /* age, not codes: a juvenile-DM code on an adult's record does not make a child; it
     * decides only when the age is unknown (no adult doses then) */
    if (v->age_years >= 0)
        return v->age_years < th->adult_age_years;
    return (v->iim & IIM_JDM) != 0;
}

bool facts_pregnant(const struct rule_ctx *ctx, char *buf, size_t cap)
{
    const struct patient_view *v = ctx->view;
    const struct view_lab *hcg = &v->labs[LAB_HCG];
    char when[24];
    snprintf(buf, cap, "%s", "");
    if (v->cond_flags & COND_PREGNANCY) {
        snprintf(buf, cap, "%s", ctx->words->pregnancy_condition);
        return true;
    }
    if (view_lab_positive(hcg) == FINDING_ABNORMAL && hcg->day >= 0 && hcg->day <= v->today &&
        (double)(v->today - hcg->day) <= ctx->th->pregnancy_hcg_days) {
        facts_day(ctx, hcg->day, when, sizeof when);
        const struct tvar vars[] = {{"date", when}};
        tmpl_format(buf, cap, ctx->words->pregnancy_hcg, vars, 1);
        return true;
    }
    return false;
}

void facts_body_size(const struct rule_ctx *ctx, struct body_size *out)
{
    const struct patient_view *v = ctx->view;
    const struct rule_words *words = ctx->words;
    const struct view_lab *h = &v->labs[LAB_HEIGHT];
    const struct view_lab *w = &v->labs[LAB_WEIGHT];
    bool has_h = h->read == LAB_READ_EXACT && h->value > 0;
    bool has_w = w->read == LAB_READ_EXACT && w->value > 0;
    *out = (struct body_size){false, -1, -1, -1, NULL};
    if (!has_h || !has_w) {
        out->missing = !has_h && !has_w ? words->missing_height_weight
                       : !has_h         ? words->missing_height
                                        : words->missing_weight;
        return;
    }
    out->known = true;
    out->height_cm = round(h->value);
    out->weight_kg = round(w->value * 10) / 10;
    out->bsa_m2 = round(sqrt(h->value * w->value / 3600.0) * 100) / 100;
}

bool facts_female_childbearing(const struct patient_view *v, const struct rule_thresholds *th)
{
    return v->sex == 'f' && v->age_years >= th->childbearing_age_min_years &&
           v->age_years <= th->childbearing_age_max_years;
}

const struct view_med *facts_trigger(const struct patient_view *v, unsigned classes)
{
    return view_find(v, classes, true);
}

void facts_join(const struct rule_map *names, const char *const *keys, int n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < cap; i++) {
        const char *name = rule_map_text(names, keys[i]);
        int w = snprintf(buf + len, cap - len, "%s%s", i > 0 ? ", " : "",
                         name != NULL ? name : keys[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

void facts_date(long days, char *buf, size_t cap)
{
    long year = 0;
    int month = 0;
    int day = 0;
    fhir_civil_from_days(days, &year, &month, &day);
    snprintf(buf, cap, "%04ld-%02d-%02d", year, month, day);
}

bool facts_names_any(const struct rule_names *names, const char *lowered)
{
    for (int i = 0; names != NULL && i < names->n; i++) {
        char pattern[TEXT_MATCH_MAX];
        if (text_find(lowered, text_lower(names->v[i], pattern, sizeof pattern)) >= 0)
            return true;
    }
    return false;
}

bool facts_test_ordered(const struct patient_view *v, enum lab_kind kind,
                        const struct rule_names *names, const struct rule_names *names_not)
{
    if (v->lab_ordered & (1u << kind))
        return true;
    for (int i = 0; names != NULL && i < v->n_test_names; i++) {
        char lowered[TEXT_MATCH_MAX];
        text_lower(v->test_names[i], lowered, sizeof lowered);
        if (facts_names_any(names, lowered) && !facts_names_any(names_not, lowered))
            return true;
    }
    return false;
}

/* The first steroid-sparing agent on board whose route is route, or NULL. */
static const struct view_med *agent_by_route(const struct patient_view *v, enum route_class route)
{
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if ((m->classes & DC_STEROID_SPARING) && m->route == route)
            return m;
    }
    return NULL;
}

const struct view_med *facts_agent(const struct patient_view *v)
{
    return agent_by_route(v, ROUTE_SYSTEMIC);
}

const struct view_med *facts_agent_unknown(const struct patient_view *v)
{
    return agent_by_route(v, ROUTE_UNKNOWN);
}

const struct view_med *facts_myositis_treatment(const struct patient_view *v)
{
    const struct view_med *gc = facts_trigger_gc(v);
    if (gc != NULL)
        return gc;
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if ((m->classes & DC_STEROID_SPARING) && m->trigger && m->route != ROUTE_LOCAL)
            return m;
    }
    return NULL;
}

bool facts_established(const struct patient_view *v, const struct view_med *m,
                       const struct rule_thresholds *th, char *since, size_t cap, long *days)
{
    long start = m->course_start >= 0 ? m->course_start : m->start_day;
    snprintf(since, cap, "%s", "");
    if (days != NULL)
        *days = 0;
    if (v->hook != HOOK_PATIENT_VIEW || start < 0 || start > v->today ||
        (double)(v->today - start) < th->established_days)
        return false;
    facts_date(start, since, cap);
    if (days != NULL)
        *days = v->today - start;
    return true;
}

void facts_day(const struct rule_ctx *ctx, long day, char *buf, size_t cap)
{
    if (day < 0)
        snprintf(buf, cap, "%s", ctx->words->date_unknown);
    else
        facts_date(day, buf, cap);
}

void facts_lab_value(const struct view_lab *lab, char *buf, size_t cap)
{
    const char *sign = lab->read == LAB_READ_GT   ? ">"
                       : lab->read == LAB_READ_GE ? ">="
                       : lab->read == LAB_READ_LT ? "<"
                       : lab->read == LAB_READ_LE ? "<="
                                                  : "";
    if (lab->raw_value < 0)
        snprintf(buf, cap, "%s", "");
    else
        snprintf(buf, cap, "%s%g%s%s", sign, lab->raw_value, lab->unit[0] != '\0' ? " " : "",
                 lab->unit);
}

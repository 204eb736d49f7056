/* facts.c - phrases about the patient's own facts, shared by the rules' cards. */
#include "rules/facts.h"

#include "clinical/textmatch.h"
#include "fhir/fhir.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *facts_action(const struct patient_view *v)
{
    return v->hook == HOOK_PATIENT_VIEW ? "Active:" : "Being ordered:";
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
static void frequency_words(double per_day, char *buf, size_t cap)
{
    static const struct {
        double per_day;
        const char *words;
    } named[] = {{1, "daily"},
                 {2, "twice daily"},
                 {3, "three times daily"},
                 {4, "four times daily"},
                 {0.5, "every other day"},
                 {1.0 / 7, "weekly"}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (fabs(per_day - named[i].per_day) < 1e-9) {
            snprintf(buf, cap, "%s", named[i].words);
            return;
        }
    double hours = 24 / per_day;
    if (per_day > 1 && fabs(hours - (double)(long)hours) < 1e-9)
        snprintf(buf, cap, "every %.0f hours", hours);
    else
        snprintf(buf, cap, "%g times a day", per_day);
}

/* The dose as the order gives it, with its arithmetic when there is any: "3 x 20 mg
 * daily = 60 mg/day", "20 mg twice daily = 40 mg/day", "up to 40 mg/day (as needed)". */
static void own_dose(const struct view_med *m, char *buf, size_t cap)
{
    char total[48];
    char freq[32];
    char each[96];
    rule_fmt_dose(m->mg_per_day, total, sizeof total);
    freq[0] = '\0';
    if (m->per_day > 0)
        frequency_words(m->per_day, freq, sizeof freq);
    if (m->units > 0 && m->unit_mg > 0 && m->per_day > 0)
        snprintf(each, sizeof each, "%g x %g mg %s = ", m->units, m->unit_mg, freq);
    else if (m->per_day > 0 && fabs(m->per_day - 1) > 1e-9 && m->mg_per_day > 0)
        snprintf(each, sizeof each, "%g mg %s = ", m->mg_per_day / m->per_day, freq);
    else
        each[0] = '\0';
    if (m->single_dose)
        snprintf(buf, cap, "a single dose of %g mg", m->mg_per_day);
    else
        snprintf(buf, cap, "%s%s%s", m->as_needed ? "as needed, up to " : "", each, total);
}

/* A note on where the dose was read, or "": the ordered entry of several, the text. */
static const char *dose_source(const struct view_med *m)
{
    if (m->dose_from_text)
        return ", read from the instructions";
    if (m->dose_type != NULL && strcmp(m->dose_type, "ordered") == 0)
        return ", the ordered dose";
    return "";
}

void facts_dose_detail(const struct view_med *m, char *buf, size_t cap)
{
    char own[160];
    char pred[48];
    if (m->mg_per_day < 0) {
        snprintf(buf, cap, "%s, the order's dose is not in a form the service can read",
                 m->drug->display);
        return;
    }
    char shown[128];
    own_dose(m, shown, sizeof shown);
    snprintf(own, sizeof own, "%s%s", shown, dose_source(m));
    if (m->pred_mg_per_day < 0 || m->drug->potency == 1.0) {
        snprintf(buf, cap, "%s %s%s", m->drug->display, own,
                 m->pred_mg_per_day < 0 && (m->classes & DC_GLUCOCORTICOID)
                     ? " (no verified prednisone equivalence)"
                     : "");
        return;
    }
    rule_fmt_dose(m->pred_mg_per_day, pred, sizeof pred);
    snprintf(buf, cap, "%s %s = prednisone-equivalent %s", m->drug->display, own, pred);
}

void facts_duration(double days, char *buf, size_t cap)
{
    if (days < 0)
        snprintf(buf, cap, "no end date (long-term)");
    else
        snprintf(buf, cap, "%.0f days", days);
}

bool facts_is_child(const struct patient_view *v, const struct rule_thresholds *th)
{
    /* age, not codes: a juvenile-DM code on an adult's record does not make a child; it
     * decides only when the age is unknown (no adult doses then) */
    if (v->age_years >= 0)
        return v->age_years < th->adult_age_years;
    return (v->iim & IIM_JDM) != 0;
}

bool facts_pregnant(const struct patient_view *v, const struct rule_thresholds *th, char *buf,
                    size_t cap)
{
    const struct view_lab *hcg = &v->labs[LAB_HCG];
    char when[24];
    snprintf(buf, cap, "%s", "");
    if (v->cond_flags & COND_PREGNANCY) {
        snprintf(buf, cap, "a pregnancy on the problem list");
        return true;
    }
    if (view_lab_positive(hcg) == FINDING_ABNORMAL && hcg->day >= 0 && hcg->day <= v->today &&
        (double)(v->today - hcg->day) <= th->pregnancy_hcg_days) {
        facts_day(hcg->day, when, sizeof when);
        snprintf(buf, cap, "a positive pregnancy test (hCG) on %s", when);
        return true;
    }
    return false;
}

void facts_body_size(const struct patient_view *v, struct body_size *out)
{
    const struct view_lab *h = &v->labs[LAB_HEIGHT];
    const struct view_lab *w = &v->labs[LAB_WEIGHT];
    bool has_h = h->read == LAB_READ_EXACT && h->value > 0;
    bool has_w = w->read == LAB_READ_EXACT && w->value > 0;
    *out = (struct body_size){false, -1, -1, -1, NULL};
    if (!has_h || !has_w) {
        out->missing = !has_h && !has_w ? "height and weight" : !has_h ? "height" : "weight";
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

void facts_day(long day, char *buf, size_t cap)
{
    if (day < 0)
        snprintf(buf, cap, "an unknown date");
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

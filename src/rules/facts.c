/* facts.c - phrases about the patient's own facts, shared by the rules' cards. */
#include "rules/facts.h"

#include "fhir/fhir.h"
#include "fhir/json.h"

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
        if ((m->classes & DC_GLUCOCORTICOID) && m->systemic && m->trigger)
            return m;
    }
    return NULL;
}

void facts_dose_detail(const struct view_med *m, char *buf, size_t cap)
{
    char own[48];
    char pred[48];
    if (m->mg_per_day < 0) {
        snprintf(buf, cap, "%s, dose unknown: %s", m->drug->display,
                 m->dose_why != NULL ? m->dose_why : "not stated");
        return;
    }
    rule_fmt_dose(m->mg_per_day, own, sizeof own);
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
    return (v->age_years >= 0 && v->age_years < th->adult_age_years) || (v->iim & IIM_JDM);
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

void facts_join(const struct rule_conf *conf, const char *member, const char *const *keys, int n,
                char *buf, size_t cap)
{
    json_object *names = json_get_obj(conf->obj, member);
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < cap; i++) {
        const char *name = json_get_str(names, keys[i]);
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

/* facts.h - phrases about the patient's own facts, shared by the rules' cards. */
#ifndef MYOCDS_RULES_FACTS_H
#define MYOCDS_RULES_FACTS_H

#include "clinical/view.h"
#include "rules/rule.h"

#include <stddef.h>

#define FACT_MAX 200

/* "Being ordered:" (order hooks) or "Active:" (patient-view). Static text. */
const char *facts_action(const struct patient_view *v);

/* The first systemic glucocorticoid a rule may fire on, or NULL. */
const struct view_med *facts_trigger_gc(const struct patient_view *v);

/* "prednisone 60 mg/day", "methylprednisolone 1000 mg/day = prednisone-equivalent
 * 1250 mg/day", or "dose unknown: no dose quantity". */
void facts_dose_detail(const struct view_med *m, char *buf, size_t cap);

/* "28 days" or "no end date (long-term)". */
void facts_duration(double days, char *buf, size_t cap);

/* Under 18, or juvenile dermatomyositis. */
bool facts_is_child(const struct patient_view *v, const struct rule_thresholds *th);

/* Female aged 12-50 (child-bearing potential as the guidance puts it). */
bool facts_female_childbearing(const struct patient_view *v, const struct rule_thresholds *th);

#endif

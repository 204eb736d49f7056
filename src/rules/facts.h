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

/* First active medication with any of the classes that a rule may fire on, or NULL. */
const struct view_med *facts_trigger(const struct patient_view *v, unsigned classes);

/* Joins the texts of the named keys of a JSON object member of the rule's conf
 * ("names": {"hbv": "...", ...}) with ", " into buf. */
void facts_join(const struct rule_conf *conf, const char *member, const char *const *keys, int n,
                char *buf, size_t cap);

/* A day count since 1970-01-01 as YYYY-MM-DD. */
void facts_date(long days, char *buf, size_t cap);

#endif

/* facts.h - phrases about the patient's own facts, shared by the rules' cards. */
#ifndef MYOCDS_RULES_FACTS_H
#define MYOCDS_RULES_FACTS_H

#include "clinical/view.h"
#include "rules/rule.h"

#include <stddef.h>

#define FACT_MAX 200

/* The phrases below take their words from ctx->words (hooks/rules.json "words"). */

/* "Being ordered:" (order hooks) or "Active:" (patient-view). Borrowed. */
const char *facts_action(const struct rule_ctx *ctx);

/* The first systemic glucocorticoid a rule may fire on, or NULL. */
const struct view_med *facts_trigger_gc(const struct patient_view *v);

/* "prednisone 60 mg/day", "methylprednisolone 1000 mg/day = prednisone-equivalent
 * 1250 mg/day", or "dose unknown: no dose quantity". */
void facts_dose_detail(const struct rule_ctx *ctx, const struct view_med *m, char *buf, size_t cap);

/* "28 days" or "no end date (long-term)". */
void facts_duration(const struct rule_ctx *ctx, double days, char *buf, size_t cap);

/* Under 18 by birthDate (docs/RULES.md "How the facts are read", Age and body size); with no
 * age on record, juvenile dermatomyositis. */
bool facts_is_child(const struct patient_view *v, const struct rule_thresholds *th);

/* True when a pregnancy is recorded: an active pregnancy Condition, or a positive hCG result
 * (view_lab_positive) of the last pregnancy_hcg_days. buf gets the evidence ("a pregnancy
 * on the problem list", "a positive hCG on 2026-11-20"), "" when there is none. */
bool facts_pregnant(const struct rule_ctx *ctx, char *buf, size_t cap);

/* A body's size for doses per m2: the latest height and weight on record, and the body
 * surface area by Mosteller (the square root of cm x kg / 3600), rounded to 0.01 m2. */
struct body_size {
    bool known;                          /* both measures read */
    double height_cm, weight_kg, bsa_m2; /* height to 1 cm, weight to 0.1 kg; < 0 unknown */
    const char *missing;                 /* "height", "weight", "height and weight"; borrowed */
};
void facts_body_size(const struct rule_ctx *ctx, struct body_size *out);

/* Female aged 12-50 (child-bearing potential as the guidance puts it). */
bool facts_female_childbearing(const struct patient_view *v, const struct rule_thresholds *th);

/* First active medication with any of the classes that a rule may fire on, or NULL. */
const struct view_med *facts_trigger(const struct patient_view *v, unsigned classes);

/* Joins the texts of the members keys of names (a rule's map, "names": {"hbsag": "...",
 * ...}) with ", " into buf; a member the map lacks reads as its key. */
void facts_join(const struct rule_map *names, const char *const *keys, int n, char *buf,
                size_t cap);

/* True when a pattern of names (whole words, case-insensitive) occurs in lowered text.
 * names may be NULL. */
bool facts_names_any(const struct rule_names *names, const char *lowered);

/* True when a test of kind is in this hook's draft orders: by its code (v->lab_ordered), or
 * by a pattern of names in a test's code.text or a display with none of names_not there
 * too (both lists of the rule's, or NULL). */
bool facts_test_ordered(const struct patient_view *v, enum lab_kind kind,
                        const struct rule_names *names, const struct rule_names *names_not);

/* The first steroid-sparing agent on board (active, being ordered, or lasting) given by a
 * route that reaches the whole body, or NULL: tacrolimus ointment and cyclosporine eye
 * drops are not agents, nor one whose route and form say nothing (facts_agent_unknown). */
const struct view_med *facts_agent(const struct patient_view *v);

/* The first steroid-sparing agent on board whose route and form say nothing, or NULL. */
const struct view_med *facts_agent_unknown(const struct patient_view *v);

/* The myositis treatment being ordered (or, on patient-view, active): the glucocorticoid
 * course facts_trigger_gc gives, else the first steroid-sparing agent not given locally;
 * NULL when there is none. */
const struct view_med *facts_myositis_treatment(const struct patient_view *v);

/* "250 U/L" or ">500 U/L": the result's number as reported, with its comparator and unit;
 * "" when it has none. */
void facts_lab_value(const struct view_lab *lab, char *buf, size_t cap);

/* On patient-view, true when m's course began established_days or more before today;
 * since gets its first day and *days (when not NULL) the days since then. False on order
 * hooks and when the start is unknown (*days 0). */
bool facts_established(const struct patient_view *v, const struct view_med *m,
                       const struct rule_thresholds *th, char *since, size_t cap, long *days);

/* "2026-11-20", or "an unknown date". */
void facts_day(const struct rule_ctx *ctx, long day, char *buf, size_t cap);

/* A day count since 1970-01-01 as YYYY-MM-DD. */
void facts_date(long days, char *buf, size_t cap);

#endif

/* dose.h - the dose engine: mg/day and planned duration from a FHIR R4 MedicationRequest.
 *
 * Pure functions over borrowed json-c objects; nothing here knows a drug by name.
 * "Unknown" is a first-class answer: a rule never guesses a dose.
 */
#ifndef MYOCDS_CLINICAL_DOSE_H
#define MYOCDS_CLINICAL_DOSE_H

#include <json-c/json.h>
#include <stdbool.h>

#define DOSE_STEPS_MAX 16 /* steps of a taper read; an order with more is read as unknown */

/* One step of a schedule (a taper's `sequence`): its mg/day and days. */
struct dose_step {
    double mg_per_day; /* < 0 unknown */
    double days;       /* < 0 unbounded */
};

/* What the engine knows of the product and the day, beyond the order itself. */
struct dose_input {
    double strength_mg; /* mg per tablet/capsule/unit, or per mL; <= 0 unknown */
    bool solid;         /* the product is known to be a tablet or capsule: a dose with no
                           unit counts them */
    long today;         /* days since the epoch: which step is in effect; < 0 the first */
    long start_day;     /* the order's start (authoredOn) when no step gives one; < 0 */
};

struct dose_result {
    double mg_per_day;    /* of the drug itself (not prednisone-equivalent); < 0: unknown */
    double duration_days; /* planned duration; < 0: open-ended (no bound given) */
    const char *why;      /* when mg_per_day < 0: a static phrase, e.g. "no dose quantity" */
    /* how the dose was read, for the card ("3 x 20 mg tablets daily = 60 mg/day"): */
    double units;          /* one dose counted in tablets/mL (3), else < 0 */
    double unit_mg;        /* mg per unit used (20), else < 0 */
    double dose_mg;        /* one dose in mg, when the step has one entry; else < 0 */
    double per_day;        /* administrations per day, when the step has one entry; else < 0 */
    const char *dose_type; /* the doseAndRate type read ("ordered", "calculated"), or NULL */
    bool as_needed;        /* PRN: mg_per_day is a ceiling ("up to") */
    bool single_dose;      /* one administration only: not a course */
    bool from_text;        /* read from the instructions text, no structured dose */
    int n_steps;           /* steps of the schedule (1 for a plain order, 0 without any) */
    int current;           /* the step in effect today (the first for a future start) */
    struct dose_step steps[DOSE_STEPS_MAX];
};

/* Daily dose of one MedicationRequest.
 * strength_mg: mg in one tablet/capsule/unit of the product, or mg per mL for liquids
 * (<= 0 when not known; then a dose counted in tablets or mL is unknown).
 * Sums concurrent dosageInstruction entries (same or no `sequence`); when entries carry
 * different `sequence` numbers, only the lowest (the current step) counts, and an entry
 * without a `sequence` joins that step. out->duration_days is dose_duration_days(mr): the
 * whole schedule, not the current step (see dose_current_step_days).
 * Taper example: step 1 "40 mg daily for 2 wk", step 2 "30 mg daily" (no bound) gives
 * mg_per_day 40 and, without a dispenseRequest bound, an open-ended duration (< 0): the
 * order runs on after step 1. dose_current_step_days() gives that step's 14 days.
 * doseQuantity, else doseRange.high; units mg, g, ug/mcg; tablets/capsules/mL x strength.
 * Frequency from timing.repeat (frequency/period/periodUnit, dayOfWeek, when) or
 * timing.code (QD, BID, TID, QID, QOD, AM, PM, HS, Q4H, Q6H, Q8H, Q12H, WK, MO...).
 * Fills out and returns 0; returns -1 only when mr is not an object. */
int dose_evaluate(const json_object *mr, double strength_mg, struct dose_result *out);

/* dose_evaluate with what is known of the product and the day (dose_input): the step in
 * effect today is the current dose; every step's mg/day and days are in out->steps. */
int dose_evaluate_in(const json_object *mr, const struct dose_input *in, struct dose_result *out);

/* Days of the schedule at or above mg/day (the steps at that dose add up); < 0 when such a
 * step is unbounded; 0 when none reaches it. */
double dose_days_at_least(const struct dose_result *r, double mg_per_day);

/* Planned duration in days from timing.repeat.boundsDuration / boundsPeriod / count,
 * dispenseRequest.expectedSupplyDuration x (1 + numberOfRepeatsAllowed), or
 * dispenseRequest.validityPeriod. Returns < 0 when open-ended.
 * Timing bounds: a step lasts as long as its longest entry; the steps of a schedule
 * (taper) add up. When any step has no timing bound, the dispenseRequest decides. */
double dose_duration_days(const json_object *mr);

/* Number of dosageInstruction steps (distinct `sequence` values; entries without one join
 * the first). > 1 means a stepped schedule such as a taper; 0 without any entry. */
int dose_step_count(const json_object *mr);

/* Days of the current (first) step alone; < 0 when it has no timing bound. With a single
 * step this is dose_duration_days(mr) (the dispenseRequest may bound it). */
double dose_current_step_days(const json_object *mr);

/* Strength in mg per unit parsed from a clinical-drug text such as
 * "prednisone 20 MG Oral Tablet" (20), "predniSONE 5 mg tab" (5),
 * "prednisone 1 MG/ML Oral Solution" (1 per mL), "methylprednisolone 1 G Injection" (1000).
 * For a combination ("A 400 MG / B 80 MG ...") returns the first. < 0 when none. */
double dose_strength_from_text(const char *text);

/* Strength in mg per unit of the first ingredient of a Medication resource with an
 * ingredient[].strength ratio (numerator mg/g/ug over denominator 1 tablet/mL...). < 0: none. */
double dose_strength_from_medication(const json_object *medication);

/* A quantity in mg: value x unit factor for mg, g, ug, mcg, and 'kg' rejected. < 0: unknown. */
double dose_quantity_mg(const json_object *quantity);

/* Body weight in kg from a Quantity in kg, g or [lb_av]/lb. < 0 when unknown. */
double dose_weight_kg(const json_object *quantity);

/* A body height Quantity in cm (cm, m, mm, [in_i]); < 0 when the unit is unknown or the
 * value is not a plausible human height. */
double dose_height_cm(const json_object *quantity);

#endif

/* dose.h - the dose engine: mg/day and planned duration from a FHIR R4 MedicationRequest.
 *
 * Pure functions over borrowed json-c objects; nothing here knows a drug by name.
 * "Unknown" is a first-class answer: a rule never guesses a dose.
 */
#ifndef MYOCDS_CLINICAL_DOSE_H
#define MYOCDS_CLINICAL_DOSE_H

#include <json-c/json.h>
#include <stdbool.h>

struct dose_result {
    double mg_per_day;    /* of the drug itself (not prednisone-equivalent); < 0: unknown */
    double duration_days; /* planned duration; < 0: open-ended (no bound given) */
    const char *why;      /* when mg_per_day < 0: a static phrase, e.g. "no dose quantity" */
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

#endif

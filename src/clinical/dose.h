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
 * different `sequence` numbers, only the lowest (the current step) counts.
 * doseQuantity, else doseRange.high; units mg, g, ug/mcg; tablets/capsules/mL x strength.
 * Frequency from timing.repeat (frequency/period/periodUnit, dayOfWeek, when) or
 * timing.code (QD, BID, TID, QID, QOD, AM, PM, HS, Q4H, Q6H, Q8H, Q12H, WK, MO...).
 * Fills out and returns 0; returns -1 only when mr is not an object. */
int dose_evaluate(const json_object *mr, double strength_mg, struct dose_result *out);

/* Planned duration in days from timing.repeat.boundsDuration / boundsPeriod / count,
 * dispenseRequest.expectedSupplyDuration x (1 + numberOfRepeatsAllowed), or
 * dispenseRequest.validityPeriod. Returns < 0 when open-ended. */
double dose_duration_days(const json_object *mr);

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

/* dose_internal.h - helpers shared by the files of the dose engine (dose.c, dose_timing.c,
 * dose_units.c). Not part of the engine's API: include it only from src/clinical/dose*.c.
 *
 * Every function takes borrowed json-c pointers (NULL allowed) and keeps none of them;
 * every `why` it sets is a static phrase.
 */
#ifndef MYOCDS_CLINICAL_DOSE_INTERNAL_H
#define MYOCDS_CLINICAL_DOSE_INTERNAL_H

#include <json-c/json.h>

/* A single dose or a daily total above this is an entry error, never a dose. */
#define DOSE_MAX_MG 100000.0

/* Outcome of reading an optional member. */
enum dose_read {
    DOSE_READ_BAD = -1,   /* present but not a finite JSON number > 0 */
    DOSE_READ_ABSENT = 0, /* absent or JSON null */
    DOSE_READ_OK = 1,
};

/* Member `key` of obj as a finite JSON number > 0 into *out. A string such as "12" is
 * BAD: json-c would coerce it. */
enum dose_read dose_read_positive(const json_object *obj, const char *key, double *out);

/* Administrations per day of a Timing: timing.repeat when it carries a frequency, period,
 * dayOfWeek or when; else timing.code. < 0 when unknown, with *why set. */
double dose_timing_per_day(const json_object *timing, const char **why);

/* Days bounded by timing.repeat.boundsDuration, boundsPeriod, or count / frequency.
 * < 0 when the timing sets no (valid) bound. */
double dose_timing_bound_days(const json_object *timing);

/* Days covered by a MedicationRequest.dispenseRequest: expectedSupplyDuration x
 * (1 + numberOfRepeatsAllowed), else validityPeriod. < 0 when neither is usable. */
double dose_dispense_days(const json_object *dispense_request);

/* One dose (a Quantity) in mg: mg/g/ug/mcg directly; tablets, capsules and mL x
 * strength_mg (mg per unit or per mL; <= 0 when unknown). < 0 when unknown, *why set. */
double dose_amount_mg(const json_object *quantity, double strength_mg, const char **why);

#endif

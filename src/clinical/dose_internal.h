/* dose_internal.h - helpers shared by the files of the dose engine (dose.c, dose_timing.c,
 * dose_units.c). Not part of the engine's API: include it only from src/clinical/dose*.c.
 *
 * Every function takes borrowed json-c pointers (NULL allowed) and keeps none of them;
 * every `why` it sets is a static phrase.
 */
#ifndef MYOCDS_CLINICAL_DOSE_INTERNAL_H
#define MYOCDS_CLINICAL_DOSE_INTERNAL_H

#include <json-c/json.h>
#include <stdbool.h>

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

/* How one dose was counted. */
struct dose_amount {
    double mg;    /* the dose in mg; < 0 unknown */
    double units; /* the dose in tablets/capsules/mL when counted so, else -1 */
    double per;   /* mg per unit used, else -1 */
};

/* One dose (a Quantity) in mg: mg/g/ug/mcg directly; tablets, capsules (by name, UCUM
 * annotation alone such as {pill}, UCUM 1, v3 TAB/CAP) and mL x strength_mg (mg per unit
 * or per mL; <= 0 when unknown); a Quantity with a value and no unit counts units only when
 * solid (the product is known to be a tablet or capsule). The code is trusted when known,
 * else the unit text. Fills *a (mg < 0 when unknown, *why set) and returns a->mg. */
double dose_amount_read(const json_object *quantity, double strength_mg, bool solid,
                        struct dose_amount *a, const char **why);

/* dose_amount_read without the details, for a product of unknown form. */
double dose_amount_mg(const json_object *quantity, double strength_mg, const char **why);

/* Administrations per day named by sig words in text ("BID", "twice daily", "every 12
 * (twelve) hours", "every other day", "weekly", "Once"); < 0 when the text names none or
 * two different ones. *once: the text means a single dose; *as_needed is set (never
 * cleared) when it says PRN / as needed. */
double dose_sig_per_day(const char *text, bool *once, bool *as_needed);

/* True when a Timing means one administration only: count 1, a code or text "Once" /
 * "STAT", or a boundsPeriod whose start is its end with no count. */
bool dose_timing_single(const json_object *timing);

/* Parses an unsigned decimal at p ("20", "2.5", ".5") into *out; returns its end, or NULL
 * when there is none or it has more than 12 digits. */
const char *dose_parse_decimal(const char *p, double *out);

/* One dose in mg stated beyond doubt by instructions text (dose_text.c): one mg figure,
 * "N mg total", or one tablet/capsule count x strength_mg (<= 0 unknown); *units gets the
 * count when there is one. < 0 when the text is silent or in any doubt. */
double dose_text_mg(const char *text, double strength_mg, double *units);

/* A FHIR date or dateTime "YYYY-MM-DD[T...]" as days since the epoch; false otherwise. */
bool dose_date_days(const char *s, long *days);

#endif

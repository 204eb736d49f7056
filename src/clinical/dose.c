/* dose.c - the dose engine: mg/day of a MedicationRequest and its planned duration.
 *
 * dosageInstruction entries are grouped into steps by `sequence`; an entry without one
 * belongs to the first (lowest) step. The daily dose sums the entries of the current (first)
 * step; the planned duration adds up the steps (see dose.h for the taper rules).
 * Frequencies and bounds live in dose_timing.c, units and strengths in dose_units.c.
 * Every json-c pointer is borrowed from the caller; nothing is allocated or kept, and every
 * `why` is a static phrase.
 */
#include "clinical/dose.h"

#include "clinical/dose_internal.h"
#include "fhir/json.h"

#include <stdbool.h>
#include <stddef.h>

#define DOSE_MAX_ENTRIES 64 /* more dosage lines than any real order: refuse, don't scan */
#define MAX_PLANNED_DAYS 36525.0

/* The entry's `sequence` when it is a JSON integer. */
static bool entry_sequence(const json_object *di, long long *seq)
{
    json_object *s = json_get(di, "sequence", json_type_int);
    if (s == NULL)
        return false;
    *seq = (long long)json_object_get_int64(s);
    return true;
}

/* The step of entry i: its sequence, or `first` when it has none. */
static long long step_of(const json_object *dis, size_t i, long long first)
{
    long long seq = first;
    return entry_sequence(json_object_array_get_idx(dis, i), &seq) ? seq : first;
}

/* The lowest `sequence` among the entries (0 when none carries one). */
static long long first_step(const json_object *dis, size_t n)
{
    long long lowest = 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        long long seq = 0;
        if (entry_sequence(json_object_array_get_idx(dis, i), &seq) && (!any || seq < lowest)) {
            lowest = seq;
            any = true;
        }
    }
    return lowest;
}

/* The usable entries of mr.dosageInstruction (borrowed), or NULL; *n their count. */
static json_object *instructions(const json_object *mr, size_t *n)
{
    json_object *dis = json_get_arr(mr, "dosageInstruction");
    *n = dis != NULL ? json_object_array_length(dis) : 0;
    return *n > 0 && *n <= DOSE_MAX_ENTRIES ? dis : NULL;
}

/* One dose of an entry in mg: the first doseAndRate with a doseQuantity or doseRange
 * (its high end). A present but malformed dose is unknown, not skipped. */
static double entry_dose_mg(const json_object *di, double strength_mg, const char **why)
{
    json_object *dar = json_get_arr(di, "doseAndRate");
    size_t n = dar != NULL ? json_object_array_length(dar) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *rate = json_object_array_get_idx(dar, i);
        json_object *range = NULL;
        if (json_object_object_get_ex(rate, "doseQuantity", NULL))
            return dose_amount_mg(json_get_obj(rate, "doseQuantity"), strength_mg, why);
        if (!json_object_object_get_ex(rate, "doseRange", NULL))
            continue;
        range = json_get_obj(rate, "doseRange");
        if (json_get_obj(range, "high") == NULL) {
            *why = "dose range without a high end";
            return -1;
        }
        return dose_amount_mg(json_get_obj(range, "high"), strength_mg, why);
    }
    *why = "no dose quantity";
    return -1;
}

/* mg/day of one entry: one dose x administrations per day. */
static double entry_mg_per_day(const json_object *di, double strength_mg, const char **why)
{
    double dose = 0;
    double per_day = 0;
    if (di == NULL || !json_object_is_type(di, json_type_object)) {
        *why = "dosageInstruction entry is not an object";
        return -1;
    }
    dose = entry_dose_mg(di, strength_mg, why);
    if (dose < 0)
        return -1;
    per_day = dose_timing_per_day(json_get_obj(di, "timing"), why);
    return per_day < 0 ? -1 : dose * per_day;
}

int dose_evaluate(const json_object *mr, double strength_mg, struct dose_result *out)
{
    size_t n = 0;
    json_object *dis = NULL;
    long long first = 0;
    double total = 0;
    if (mr == NULL || out == NULL || !json_object_is_type(mr, json_type_object))
        return -1;
    out->mg_per_day = -1;
    out->duration_days = dose_duration_days(mr);
    out->why = NULL;
    dis = instructions(mr, &n);
    if (dis == NULL) {
        out->why = n == 0 ? "no dosage instruction" : "too many dosage instructions";
        return 0;
    }
    first = first_step(dis, n);
    for (size_t i = 0; i < n; i++) {
        double mg = 0;
        if (step_of(dis, i, first) != first)
            continue;
        mg = entry_mg_per_day(json_object_array_get_idx(dis, i), strength_mg, &out->why);
        if (mg < 0)
            return 0;
        total += mg;
    }
    if (total > DOSE_MAX_MG) {
        out->why = "daily dose implausibly large";
        return 0;
    }
    out->mg_per_day = total;
    return 0;
}

/* Days of one step: the longest bound among its entries; < 0 when any entry is unbounded. */
static double step_days(const json_object *dis, size_t n, long long step, long long first)
{
    double days = -1;
    for (size_t i = 0; i < n; i++) {
        double d = 0;
        if (step_of(dis, i, first) != step)
            continue;
        d = dose_timing_bound_days(json_get_obj(json_object_array_get_idx(dis, i), "timing"));
        if (d < 0)
            return -1;
        days = d > days ? d : days;
    }
    return days;
}

/* Whether entry i opens a step (no earlier entry shares its step). */
static bool opens_step(const json_object *dis, size_t i, long long first)
{
    long long step = step_of(dis, i, first);
    for (size_t j = 0; j < i; j++) {
        if (step_of(dis, j, first) == step)
            return false;
    }
    return true;
}

/* The sum of all steps' days; < 0 when any step is unbounded or there is no entry. */
static double steps_days(const json_object *mr)
{
    size_t n = 0;
    json_object *dis = instructions(mr, &n);
    long long first = dis != NULL ? first_step(dis, n) : 0;
    double total = dis != NULL ? 0 : -1;
    for (size_t i = 0; dis != NULL && i < n; i++) {
        double d = 0;
        if (!opens_step(dis, i, first))
            continue;
        d = step_days(dis, n, step_of(dis, i, first), first);
        if (d < 0)
            return -1;
        total += d;
    }
    return total > 0 && total <= MAX_PLANNED_DAYS ? total : -1;
}

double dose_duration_days(const json_object *mr)
{
    double days = steps_days(mr);
    if (days > 0)
        return days;
    return dose_dispense_days(json_get_obj(mr, "dispenseRequest"));
}

int dose_step_count(const json_object *mr)
{
    size_t n = 0;
    json_object *dis = instructions(mr, &n);
    long long first = dis != NULL ? first_step(dis, n) : 0;
    int steps = 0;
    for (size_t i = 0; dis != NULL && i < n; i++)
        steps += opens_step(dis, i, first) ? 1 : 0;
    return steps;
}

double dose_current_step_days(const json_object *mr)
{
    size_t n = 0;
    json_object *dis = instructions(mr, &n);
    long long first = 0;
    if (dis == NULL || dose_step_count(mr) <= 1)
        return dose_duration_days(mr);
    first = first_step(dis, n);
    return step_days(dis, n, first, first);
}

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
#include "util/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

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

/* The code (or text) of a doseAndRate entry's type: Epic's "ordered", "calculated",
 * "admin-amount"; HL7's dose-rate-type "ordered", "calculated". NULL when untyped. */
static const char *rate_type(const json_object *rate)
{
    json_object *type = json_get_obj(rate, "type");
    json_object *codings = json_get_arr(type, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *code = json_get_str(json_object_array_get_idx(codings, i), "code");
        if (code != NULL)
            return code;
    }
    return json_get_str(type, "text");
}

static bool has_dose(const json_object *rate)
{
    return json_object_object_get_ex(rate, "doseQuantity", NULL) ||
           json_object_object_get_ex(rate, "doseRange", NULL);
}

/* The doseAndRate entry to read (an array, or a lone object read as one): the one typed
 * "ordered" (Epic sends calculated, admin-amount and ordered together: never summed), else
 * "calculated", else the first with a dose. NULL when none carries a dose. */
static json_object *chosen_rate(const json_object *di, const char **type)
{
    json_object *dar = NULL;
    json_object *first = NULL;
    json_object *calculated = NULL;
    if (!json_object_object_get_ex(di, "doseAndRate", &dar) || dar == NULL)
        return NULL;
    bool lone = json_object_is_type(dar, json_type_object);
    size_t n = lone                                        ? 1
               : json_object_is_type(dar, json_type_array) ? json_object_array_length(dar)
                                                           : 0;
    for (size_t i = 0; i < n && i < DOSE_MAX_ENTRIES; i++) {
        json_object *rate = lone ? dar : json_object_array_get_idx(dar, i);
        const char *t = rate_type(rate);
        if (!has_dose(rate))
            continue;
        if (t != NULL && strcmp(t, "ordered") == 0) {
            *type = "ordered";
            return rate;
        }
        if (calculated == NULL && t != NULL && strcmp(t, "calculated") == 0)
            calculated = rate;
        if (first == NULL)
            first = rate;
    }
    *type = calculated != NULL ? "calculated" : first != NULL ? rate_type(first) : NULL;
    return calculated != NULL ? calculated : first;
}

/* Epic's STU3-era extension https://open.epic.com/fhir/extensions/ordered-dose on a
 * Dosage: its valueQuantity, or NULL. */
static json_object *epic_ordered_dose(const json_object *di)
{
    json_object *ext = json_get_arr(di, "extension");
    size_t n = ext != NULL ? json_object_array_length(ext) : 0;
    for (size_t i = 0; i < n && i < DOSE_MAX_ENTRIES; i++) {
        json_object *e = json_object_array_get_idx(ext, i);
        const char *url = json_get_str(e, "url");
        size_t len = url != NULL ? strlen(url) : 0;
        if (len > 13 && strcmp(url + len - 13, "/ordered-dose") == 0)
            return json_get_obj(e, "valueQuantity");
    }
    return NULL;
}

/* The dose Quantity of a holder (a doseAndRate entry, or a STU3-style Dosage): its
 * doseQuantity, else its doseRange's high end. NULL with *why when neither is usable. */
static json_object *dose_quantity(const json_object *holder, const char **why)
{
    if (json_object_object_get_ex(holder, "doseQuantity", NULL)) {
        json_object *q = json_get_obj(holder, "doseQuantity");
        if (q == NULL)
            *why = "dose quantity is not a Quantity";
        return q;
    }
    if (!json_object_object_get_ex(holder, "doseRange", NULL)) {
        *why = "no dose quantity";
        return NULL;
    }
    json_object *high = json_get_obj(json_get_obj(holder, "doseRange"), "high");
    if (high == NULL)
        *why = "dose range without a high end";
    return high;
}

/* One dose of an entry: the chosen doseAndRate; without doseAndRate, Epic's ordered-dose
 * extension, then Dosage.doseQuantity / doseRange (STU3 shapes on R4 calls). A present but
 * malformed dose is unknown, not skipped. */
static double entry_dose(const json_object *di, const struct dose_input *in, struct dose_amount *a,
                         const char **type, const char **why)
{
    json_object *rate = chosen_rate(di, type);
    json_object *q = NULL;
    *a = (struct dose_amount){-1, -1, -1};
    if (rate != NULL) {
        q = dose_quantity(rate, why);
    } else if ((q = epic_ordered_dose(di)) != NULL) {
        *type = "ordered";
    } else {
        *type = NULL;
        q = dose_quantity(di, why);
    }
    if (q == NULL)
        return -1;
    return dose_amount_read(q, in->strength_mg, in->solid, a, why);
}

/* True when the entry carries no structured dose at all (no doseAndRate, doseQuantity,
 * doseRange or ordered-dose extension): only then may its text be read. */
static bool no_structured_dose(const json_object *di)
{
    return !json_object_object_get_ex(di, "doseAndRate", NULL) &&
           !json_object_object_get_ex(di, "doseQuantity", NULL) &&
           !json_object_object_get_ex(di, "doseRange", NULL) && epic_ordered_dose(di) == NULL;
}

/* The dose and frequency of an entry's text (dosageInstruction.text, else
 * patientInstruction) when both are beyond doubt; the structured timing wins over the
 * text's frequency. < 0 when unknown. */
static double text_mg_per_day(const json_object *di, const struct dose_input *in,
                              struct dose_amount *a, double *per_day)
{
    const char *texts[] = {json_get_str(di, "text"), json_get_str(di, "patientInstruction")};
    const char *why = NULL;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        bool once = false;
        bool prn = false;
        double units = -1;
        double mg = dose_text_mg(texts[i], in->strength_mg, &units);
        if (mg <= 0)
            continue;
        double f = dose_timing_per_day(json_get_obj(di, "timing"), &why);
        if (f < 0)
            f = dose_sig_per_day(texts[i], &once, &prn);
        if (f <= 0)
            continue;
        *a = (struct dose_amount){mg, units, units > 0 ? in->strength_mg : -1};
        *per_day = f;
        return mg * f;
    }
    return -1;
}

static bool entry_as_needed(const json_object *di)
{
    json_object *b = json_get(di, "asNeededBoolean", json_type_boolean);
    return (b != NULL && json_object_get_boolean(b)) ||
           json_get_obj(di, "asNeededCodeableConcept") != NULL;
}

/* mg/day of one entry: one dose x administrations per day; the details into out when
 * `detail` (the step has this entry alone). */
static double entry_mg_per_day(const json_object *di, const struct dose_input *in,
                               struct dose_result *out, bool detail)
{
    struct dose_amount a;
    const char *type = NULL;
    const char **why = &out->why;
    if (di == NULL || !json_object_is_type(di, json_type_object)) {
        *why = "dosageInstruction entry is not an object";
        return -1;
    }
    if (entry_as_needed(di))
        out->as_needed = true;
    double per_day = -1;
    double dose = -1;
    if (no_structured_dose(di) && text_mg_per_day(di, in, &a, &per_day) > 0) {
        dose = a.mg;
        out->from_text = true;
    } else {
        dose = entry_dose(di, in, &a, &type, why);
        if (dose < 0)
            return -1;
        per_day = dose_timing_per_day(json_get_obj(di, "timing"), why);
        if (per_day < 0)
            return -1;
    }
    if (detail) {
        out->units = a.units;
        out->unit_mg = a.per;
        out->dose_mg = dose;
        out->per_day = per_day;
        out->dose_type = type;
    }
    return dose * per_day;
}

/* The distinct steps of the entries, ascending (entries without a sequence join the
 * lowest); returns their count, or -1 when there are more than DOSE_STEPS_MAX. */
static int step_values(const json_object *dis, size_t n, long long first, long long *vals)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        long long s = step_of(dis, i, first);
        int at = 0;
        while (at < k && vals[at] < s)
            at++;
        if (at < k && vals[at] == s)
            continue;
        if (k == DOSE_STEPS_MAX)
            return -1;
        memmove(vals + at + 1, vals + at, (size_t)(k - at) * sizeof *vals);
        vals[at] = s;
        k++;
    }
    return k;
}

static double step_days(const json_object *dis, size_t n, long long step, long long first);

/* The day a step starts: an entry's boundsPeriod.start, else `from`; < 0 when unknown. */
static long step_start(const json_object *dis, size_t n, long long step, long long first, long from)
{
    for (size_t i = 0; i < n; i++) {
        long day = 0;
        json_object *repeat =
            json_get_obj(json_get_obj(json_object_array_get_idx(dis, i), "timing"), "repeat");
        if (step_of(dis, i, first) == step &&
            dose_date_days(json_get_str(json_get_obj(repeat, "boundsPeriod"), "start"), &day))
            return day;
    }
    return from;
}

/* The step in effect on in->today: the last that has started (the first before any has,
 * or when the start dates are unknown). */
static int current_step(const json_object *dis, size_t n, long long first, const long long *vals,
                        int k, const struct dose_input *in, struct dose_result *out)
{
    long from = in->start_day;
    int cur = 0;
    for (int s = 0; s < k; s++) {
        long start = step_start(dis, n, vals[s], first, from);
        out->steps[s].days = step_days(dis, n, vals[s], first);
        if (start >= 0 && in->today >= 0 && start <= in->today)
            cur = s;
        from = start >= 0 && out->steps[s].days > 0 ? start + (long)out->steps[s].days : -1;
    }
    return cur;
}

/* The planned duration from the steps' days (current_step has read them: the first source
 * of dose_duration_days), else the dispenseRequest. */
static double planned_days(const struct dose_result *r, const json_object *mr)
{
    double total = 0;
    for (int s = 0; s < r->n_steps && total >= 0; s++)
        total = r->steps[s].days < 0 ? -1 : total + r->steps[s].days;
    if (total > 0 && total <= MAX_PLANNED_DAYS)
        return total;
    return dose_dispense_days(json_get_obj(mr, "dispenseRequest"));
}

int dose_evaluate(const json_object *mr, double strength_mg, struct dose_result *out)
{
    const struct dose_input in = {strength_mg, false, -1, -1};
    return dose_evaluate_in(mr, &in, out);
}

int dose_evaluate_in(const json_object *mr, const struct dose_input *in, struct dose_result *out)
{
    size_t n = 0;
    long long vals[DOSE_STEPS_MAX];
    if (mr == NULL || out == NULL || !json_object_is_type(mr, json_type_object))
        return -1;
    *out = (struct dose_result){
        .mg_per_day = -1, .units = -1, .unit_mg = -1, .dose_mg = -1, .per_day = -1};
    json_object *dis = instructions(mr, &n);
    long long first = dis != NULL ? first_step(dis, n) : 0;
    int k = dis != NULL ? step_values(dis, n, first, vals) : -1;
    if (k < 0) {
        out->duration_days = dose_duration_days(mr);
        out->why = dis == NULL ? (n == 0 ? "no dosage instruction" : "too many dosage instructions")
                               : "too many dosage steps";
        return 0;
    }
    out->n_steps = k;
    out->current = current_step(dis, n, first, vals, k, in, out);
    out->duration_days = planned_days(out, mr);
    for (int s = 0; s < k; s++) {
        const char *why = NULL;
        double total = 0;
        int entries = 0;
        for (size_t i = 0; i < n; i++)
            entries += step_of(dis, i, first) == vals[s];
        struct dose_result scratch = *out;
        struct dose_result *into = s == out->current ? out : &scratch;
        for (size_t i = 0; i < n && total >= 0; i++) {
            if (step_of(dis, i, first) != vals[s])
                continue;
            double mg = entry_mg_per_day(json_object_array_get_idx(dis, i), in, into, entries == 1);
            total = mg < 0 ? -1 : total + mg;
        }
        why = into->why;
        if (total > DOSE_MAX_MG) {
            total = -1;
            why = "daily dose implausibly large";
        }
        out->steps[s].mg_per_day = total;
        if (s == out->current) {
            out->mg_per_day = total;
            out->why = total < 0 ? why : NULL;
        }
    }
    out->single_dose =
        k == 1 && n == 1 &&
        dose_timing_single(json_get_obj(json_object_array_get_idx(dis, 0), "timing"));
    return 0;
}

double dose_days_at_least(const struct dose_result *r, double mg_per_day)
{
    double days = 0;
    for (int s = 0; s < r->n_steps; s++) {
        if (r->steps[s].mg_per_day < 0 || r->steps[s].mg_per_day < mg_per_day)
            continue;
        if (r->steps[s].days < 0)
            return -1;
        days += r->steps[s].days;
    }
    return days;
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

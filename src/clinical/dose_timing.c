/* dose_timing.c - how often and for how long: administrations per day of a FHIR Timing,
 * the days its bounds cover, and the days a dispenseRequest covers.
 *
 * Time units are the UCUM/FHIR codes s, min, h, d, wk, mo, a (plus English words for
 * Duration.unit). A month counts 30 days and a year 365: the clinical convention for
 * supplies, and no rule threshold sits between that and the calendar.
 * Every json-c pointer is borrowed from the caller; nothing is allocated or kept.
 */
#include "clinical/dose_internal.h"
#include "util/civil.h"
#include "util/json.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define GTS_SYSTEM "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
#define GTS_SYSTEM_OLD "http://hl7.org/fhir/v3/GTSAbbreviation"

#define SECONDS_PER_DAY 86400.0
#define MINUTES_PER_DAY 1440.0
#define HOURS_PER_DAY 24.0
#define DAYS_PER_WEEK 7.0
#define DAYS_PER_MONTH 30.0
#define DAYS_PER_YEAR 365.0
#define MAX_PER_DAY 1440.0        /* more than one administration a minute is no dosage */
#define MAX_DURATION_DAYS 36525.0 /* a century: anything longer is an entry error */
#define QNH_MAX_HOURS 72          /* Q1H..Q72H */
#define DECIMAL_BASE 10

struct time_unit {
    const char *name;
    double days;
};

static const struct time_unit time_units[] = {
    {"s", 1.0 / SECONDS_PER_DAY},
    {"sec", 1.0 / SECONDS_PER_DAY},
    {"second", 1.0 / SECONDS_PER_DAY},
    {"seconds", 1.0 / SECONDS_PER_DAY},
    {"min", 1.0 / MINUTES_PER_DAY},
    {"minute", 1.0 / MINUTES_PER_DAY},
    {"minutes", 1.0 / MINUTES_PER_DAY},
    {"h", 1.0 / HOURS_PER_DAY},
    {"hr", 1.0 / HOURS_PER_DAY},
    {"hour", 1.0 / HOURS_PER_DAY},
    {"hours", 1.0 / HOURS_PER_DAY},
    {"d", 1.0},
    {"day", 1.0},
    {"days", 1.0},
    {"wk", DAYS_PER_WEEK},
    {"week", DAYS_PER_WEEK},
    {"weeks", DAYS_PER_WEEK},
    {"mo", DAYS_PER_MONTH},
    {"month", DAYS_PER_MONTH},
    {"months", DAYS_PER_MONTH},
    {"a", DAYS_PER_YEAR},
    {"yr", DAYS_PER_YEAR},
    {"year", DAYS_PER_YEAR},
    {"years", DAYS_PER_YEAR},
};

struct timing_code {
    const char *code;
    double per_day;
};

/* v3-GTSAbbreviation codes (and the usual QAM/QPM/QHS); QnH is parsed, not listed. */
static const struct timing_code timing_codes[] = {
    {"QD", 1.0},
    {"BID", 2.0},
    {"TID", 3.0},
    {"QID", 4.0},
    {"QOD", 0.5},
    {"AM", 1.0},
    {"PM", 1.0},
    {"HS", 1.0},
    {"BED", 1.0},
    {"QHS", 1.0},
    {"QAM", 1.0},
    {"QPM", 1.0},
    {"WK", 1.0 / DAYS_PER_WEEK},
    {"MO", 1.0 / DAYS_PER_MONTH},
};

/* Days in one `name` unit, or a value <= 0 when unknown. */
static double unit_days(const char *name)
{
    size_t n = sizeof(time_units) / sizeof(time_units[0]);
    for (size_t i = 0; name != NULL && i < n; i++) {
        if (strcasecmp(name, time_units[i].name) == 0)
            return time_units[i].days;
    }
    return -1;
}

/* Entries of array member `key` of obj (0 when absent). */
static size_t arr_len(const json_object *obj, const char *key)
{
    json_object *arr = json_get_arr(obj, key);
    return arr != NULL ? json_object_array_length(arr) : 0;
}

/* Per day of "Q<n>H" (n in 1..QNH_MAX_HOURS), or < 0. */
static double qnh_per_day(const char *code)
{
    int hours = 0;
    const char *p = code + 1;
    if (code[0] != 'Q' && code[0] != 'q')
        return -1;
    for (; *p >= '0' && *p <= '9' && hours <= QNH_MAX_HOURS; p++)
        hours = hours * DECIMAL_BASE + (*p - '0');
    if (p == code + 1 || (*p != 'H' && *p != 'h') || p[1] != '\0')
        return -1;
    return hours >= 1 && hours <= QNH_MAX_HOURS ? HOURS_PER_DAY / hours : -1;
}

/* Per day of a timing abbreviation (code or text), or < 0 when not recognised. */
static double code_lookup(const char *code)
{
    size_t n = sizeof(timing_codes) / sizeof(timing_codes[0]);
    if (code == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(code, timing_codes[i].code) == 0)
            return timing_codes[i].per_day;
    }
    return qnh_per_day(code);
}

/* timing.code: the first GTS (or systemless) coding we know, else the text as an
 * abbreviation, else the sig words of the text and of each coding's display (tenant codes
 * such as Oracle Health's Millennium values mean something only by their display). */
static double code_per_day(const json_object *cc, const char **why)
{
    json_object *codings = json_get_arr(cc, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    double per_day = -1;
    bool once = false;
    bool prn = false;
    for (size_t i = 0; i < n && per_day < 0; i++) {
        json_object *coding = json_object_array_get_idx(codings, i);
        const char *system = json_get_str(coding, "system");
        if (system == NULL || strcmp(system, GTS_SYSTEM) == 0 ||
            strcmp(system, GTS_SYSTEM_OLD) == 0)
            per_day = code_lookup(json_get_str(coding, "code"));
    }
    if (per_day < 0)
        per_day = code_lookup(json_get_str(cc, "text"));
    if (per_day < 0)
        per_day = dose_sig_per_day(json_get_str(cc, "text"), &once, &prn);
    for (size_t i = 0; i < n && per_day < 0; i++)
        per_day = dose_sig_per_day(json_get_str(json_object_array_get_idx(codings, i), "display"),
                                   &once, &prn);
    if (per_day < 0)
        *why = "timing.code not recognised";
    return per_day;
}

/* True when a timing.code (its GTS code, text or a display) means a single dose. */
static bool code_once(const json_object *cc)
{
    json_object *codings = json_get_arr(cc, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    bool once = false;
    bool prn = false;
    if (dose_sig_per_day(json_get_str(cc, "text"), &once, &prn) > 0 && once)
        return true;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        if ((dose_sig_per_day(json_get_str(c, "display"), &once, &prn) > 0 && once) ||
            (dose_sig_per_day(json_get_str(c, "code"), &once, &prn) > 0 && once))
            return true;
    }
    return false;
}

/* The numbers of a timing.repeat, read once. */
struct repeat_fields {
    enum dose_read freq_read, period_read;
    double freq, period, unit_days; /* unit_days: 0 when no periodUnit */
    size_t n_dow, n_when;
};

/* Reads repeat into *f; DOSE_READ_BAD (with *why) when a present field is unusable.
 * frequencyMax, when given, wins over frequency: like doseRange.high, the upper bound. */
static enum dose_read repeat_read(const json_object *repeat, struct repeat_fields *f,
                                  const char **why)
{
    const char *unit = json_get_str(repeat, "periodUnit");
    *f = (struct repeat_fields){0};
    f->freq_read = dose_read_positive(repeat, "frequencyMax", &f->freq);
    if (f->freq_read == DOSE_READ_ABSENT)
        f->freq_read = dose_read_positive(repeat, "frequency", &f->freq);
    f->period_read = dose_read_positive(repeat, "period", &f->period);
    if (f->freq_read == DOSE_READ_BAD || f->period_read == DOSE_READ_BAD) {
        *why = "timing.repeat frequency or period is not a positive number";
        return DOSE_READ_BAD;
    }
    if (unit != NULL && (f->unit_days = unit_days(unit)) <= 0) {
        *why = "timing.repeat.periodUnit not recognised";
        return DOSE_READ_BAD;
    }
    if (f->period_read == DOSE_READ_OK && unit == NULL) {
        *why = "timing.repeat.period without a periodUnit";
        return DOSE_READ_BAD;
    }
    if (f->period_read == DOSE_READ_ABSENT && unit != NULL) {
        f->period = 1; /* "periodUnit d" alone reads as "every day" */
        f->period_read = DOSE_READ_OK;
    }
    f->n_dow = arr_len(repeat, "dayOfWeek");
    f->n_dow = f->n_dow < (size_t)DAYS_PER_WEEK ? f->n_dow : (size_t)DAYS_PER_WEEK;
    f->n_when = arr_len(repeat, "when");
    f->n_when = f->n_when > 0 ? f->n_when : arr_len(repeat, "timeOfDay");
    return DOSE_READ_OK;
}

/* Per day from repeat fields: frequency/period (x dayOfWeek share for sub-weekly periods),
 * else dayOfWeek count per week(s), else `when` count per period, else once per period.
 * Returns ABSENT when the repeat names no frequency at all, BAD with *why on nonsense. */
static enum dose_read repeat_per_day(const struct repeat_fields *f, double *out, const char **why)
{
    bool has_period = f->period_read == DOSE_READ_OK;
    double period_days = has_period ? f->period * f->unit_days : 0;
    double per_day = 0;
    if (f->freq_read == DOSE_READ_OK) {
        if (!has_period) {
            *why = "timing.repeat.frequency without a period";
            return DOSE_READ_BAD;
        }
        per_day = f->freq / period_days;
        if (f->n_dow > 0 && period_days < DAYS_PER_WEEK)
            per_day *= (double)f->n_dow / DAYS_PER_WEEK;
    } else if (f->n_dow > 0) {
        if (has_period && f->unit_days != DAYS_PER_WEEK) {
            *why = "timing.repeat.dayOfWeek with a period that is not in weeks";
            return DOSE_READ_BAD;
        }
        per_day = (double)f->n_dow * (double)(f->n_when > 0 ? f->n_when : 1) /
                  (DAYS_PER_WEEK * (has_period ? f->period : 1));
    } else if (f->n_when > 0) {
        per_day = (double)f->n_when / (has_period ? period_days : 1);
    } else if (has_period) {
        per_day = 1 / period_days;
    } else {
        return DOSE_READ_ABSENT;
    }
    if (!isfinite(per_day) || per_day <= 0 || per_day > MAX_PER_DAY) {
        *why = "implausible frequency";
        return DOSE_READ_BAD;
    }
    *out = per_day;
    return DOSE_READ_OK;
}

double dose_timing_per_day(const json_object *timing, const char **why)
{
    json_object *repeat = json_get_obj(timing, "repeat");
    json_object *code = json_get_obj(timing, "code");
    struct repeat_fields f;
    double per_day = -1;
    enum dose_read r = DOSE_READ_ABSENT;
    if (timing == NULL) {
        *why = "no timing (a dose without a frequency is unknown)";
        return -1;
    }
    if (repeat != NULL) {
        r = repeat_read(repeat, &f, why);
        if (r == DOSE_READ_OK)
            r = repeat_per_day(&f, &per_day, why);
    }
    if (r == DOSE_READ_OK)
        return per_day;
    if (r == DOSE_READ_BAD)
        return -1;
    if (code != NULL)
        return code_per_day(code, why);
    if (dose_timing_single(timing))
        return 1; /* count 1, or a point bound: given once */
    *why = "no frequency in timing";
    return -1;
}

/* Days of a Duration quantity (code, else unit), or < 0. */
static double duration_days(const json_object *duration)
{
    double value = 0;
    const char *unit = json_get_str(duration, "code");
    double days = unit_days(unit != NULL ? unit : json_get_str(duration, "unit"));
    if (days <= 0 || dose_read_positive(duration, "value", &value) != DOSE_READ_OK)
        return -1;
    days *= value;
    return days <= MAX_DURATION_DAYS ? days : -1;
}

/* The date part of a FHIR date/dateTime "YYYY-MM-DD[Thh:mm...]" as days since the epoch.
 * Partial dates ("2026", "2026-03") are not precise enough for a duration: false. */
static bool parse_date(const char *s, long *days)
{
    return civil_parse_date(s, false, days);
}

/* Days from start to end of a Period; < 0 when either end is missing or they are out of
 * order (an open start or end is open-ended). A point (start = end) is 0. */
static double period_span(const json_object *period)
{
    long start = 0;
    long end = 0;
    if (!parse_date(json_get_str(period, "start"), &start) ||
        !parse_date(json_get_str(period, "end"), &end) || end < start)
        return -1;
    return (double)(end - start);
}

static double period_days(const json_object *period)
{
    double d = period_span(period);
    return d > 0 ? d : -1;
}

bool dose_timing_single(const json_object *timing)
{
    json_object *repeat = json_get_obj(timing, "repeat");
    double count = 0;
    enum dose_read c = dose_read_positive(repeat, "count", &count);
    if (c == DOSE_READ_OK)
        return count == 1;
    if (c == DOSE_READ_ABSENT && period_span(json_get_obj(repeat, "boundsPeriod")) == 0)
        return true;
    return c == DOSE_READ_ABSENT && json_get_obj(timing, "code") != NULL &&
           code_once(json_get_obj(timing, "code"));
}

bool dose_date_days(const char *s, long *days)
{
    return parse_date(s, days);
}

double dose_timing_bound_days(const json_object *timing)
{
    json_object *repeat = json_get_obj(timing, "repeat");
    const char *why = NULL;
    double days = duration_days(json_get_obj(repeat, "boundsDuration"));
    double count = 0;
    double per_day = 0;
    if (days > 0)
        return days;
    days = period_days(json_get_obj(repeat, "boundsPeriod"));
    if (days > 0)
        return days;
    if (dose_timing_single(timing))
        return 1; /* a single dose: one day, never long-term */
    if (dose_read_positive(repeat, "count", &count) != DOSE_READ_OK)
        return -1;
    per_day = dose_timing_per_day(timing, &why);
    if (per_day <= 0)
        return -1;
    days = count / per_day;
    return days <= MAX_DURATION_DAYS ? days : -1;
}

double dose_dispense_days(const json_object *dispense_request)
{
    json_object *repeats = NULL;
    double supply = duration_days(json_get_obj(dispense_request, "expectedSupplyDuration"));
    double fills = 1;
    if (supply > 0 &&
        json_object_object_get_ex(dispense_request, "numberOfRepeatsAllowed", &repeats) &&
        repeats != NULL) {
        /* Not an integer >= 0: the number of fills is unknown, so is this bound. */
        if (!json_object_is_type(repeats, json_type_int) || json_object_get_int64(repeats) < 0)
            supply = -1;
        else
            fills += (double)json_object_get_int64(repeats);
    }
    if (supply > 0 && supply * fills <= MAX_DURATION_DAYS)
        return supply * fills;
    return period_days(json_get_obj(dispense_request, "validityPeriod"));
}

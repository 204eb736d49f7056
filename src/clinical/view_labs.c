/* view_labs.c - lab results (Observations) and lab tests being ordered, for the view.
 *
 * A result counts when its status, trimmed and lower-cased (Oracle Health sends
 * "entered-in-error " with a trailing space), is final, amended or corrected, and its
 * kind is found in any coding of its code (a tenant coding may come first; OID system
 * aliases are read by the terminology). Its value is read from valueQuantity (with its
 * comparator: "<7 mg/dL" is a bound, not 7), a number in valueString ("<0.07 g/L"), or
 * valueInteger; dataAbsentReason means no value ("error" and "not-performed": no result
 * at all). The latest result of each kind is kept: by effective[x], then issued; a result
 * whose value cannot be read counts only when no readable one is on record (it is no
 * result, and the rules say so). IgA is normalised to mg/dL by iga_units_to_mg_dl in
 * hooks/terminology.json. Every input is hostile: strings are bounded, numbers checked.
 */
#include "clinical/dose.h"
#include "clinical/textmatch.h"
#include "clinical/view.h"
#include "clinical/view_build.h"
#include "fhir/fhir.h"
#include "util/json.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define LAB_WORD_MAX 32     /* a status, a dataAbsentReason code */
#define LAB_TEXT_MAX 64     /* a valueString longer than this is not a number and unit */
#define LAB_DIGITS_MAX 15   /* digits of a number (exact in a double) */
#define LAB_LIMIT_EPS 1e-9  /* relative: 0.07 g/L x 100 is 7.000000000000001 mg/dL */
#define DAY_SECONDS 86400LL /* seconds in a day */

static bool word_in(const char *word, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(word, *list) == 0)
            return true;
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copies s, trimmed of ASCII white space, into dst[cap] (owned by the caller), lower-cased
 * when lower. False when s is NULL, empty once trimmed, or does not fit. */
static bool trim_copy(const char *s, bool lower, char *dst, size_t cap)
{
    if (s == NULL)
        return false;
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0 || n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    if (lower)
        text_lower(dst, dst, cap);
    return true;
}

/* True when the result's status counts: final, amended or corrected, once trimmed and
 * lower-cased. */
static bool status_counts(const json_object *obs)
{
    static const char *const counted[] = {"final", "amended", "corrected", NULL};
    char status[LAB_WORD_MAX];
    return trim_copy(json_get_str(obs, "status"), true, status, sizeof status) &&
           word_in(status, counted);
}

/* The kind of the first coding of code whose system and code the terminology knows. */
static enum lab_kind kind_of_code(const struct terminology *t, const json_object *code)
{
    json_object *codings = json_get_arr(code, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        enum lab_kind kind = term_lab_kind(t, json_get_str(c, "system"), json_get_str(c, "code"));
        if (kind != LAB_NONE)
            return kind;
    }
    return LAB_NONE;
}

/* Two decimal digits at s as a number, or -1. Reads s[1] only when s[0] is a digit. */
static int two_digits(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Seconds a "+hh:mm" / "-hh:mm" zone at p is ahead of UTC; 0 for "Z", none or a bad one. */
static long long zone_offset(const char *p)
{
    if (*p != '+' && *p != '-')
        return 0;
    int h = two_digits(p + 1);
    int m = h >= 0 && p[3] == ':' ? two_digits(p + 4) : -1;
    if (h < 0 || h > 14 || m < 0 || m > 59)
        return 0;
    return (*p == '+' ? 1 : -1) * (h * 3600LL + m * 60LL);
}

/* Seconds since midnight UTC of "hh:mm[:ss[.fff]][zone]" at s; 0 when unreadable. */
static long long time_of_day(const char *s)
{
    int h = two_digits(s);
    int m = h >= 0 && s[2] == ':' ? two_digits(s + 3) : -1;
    if (h < 0 || h > 23 || m < 0 || m > 59)
        return 0;
    const char *p = s + 5;
    int sec = *p == ':' ? two_digits(p + 1) : 0;
    if (sec < 0 || sec > 60)
        return 0;
    p += *p == ':' ? 3 : 0;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    return h * 3600LL + m * 60LL + sec - zone_offset(p);
}

/* A FHIR date, dateTime or instant as seconds since the epoch (UTC); a time without a
 * zone counts as UTC, a partial date as its first day. False when the date is unreadable;
 * *day gets its date part (days since the epoch). */
static bool lab_time(const char *s, long long *at, long *day)
{
    long days = 0;
    if (!fhir_date_days(s, &days))
        return false;
    long long secs = (long long)days * DAY_SECONDS;
    /* fhir_date_days checked the digits before each '-': s[7] and s[10] exist */
    if (s[4] == '-' && s[7] == '-' && s[10] == 'T')
        secs += time_of_day(s + 11);
    *at = secs;
    *day = days;
    return true;
}

/* effective[x] (dateTime, Period.start, instant), else issued, into lab->at and ->day;
 * issued into lab->issued. */
static void read_times(const json_object *obs, struct view_lab *lab)
{
    const char *effective[] = {json_get_str(obs, "effectiveDateTime"),
                               json_get_str(json_get_obj(obs, "effectivePeriod"), "start"),
                               json_get_str(obs, "effectiveInstant")};
    long day = -1;
    if (!lab_time(json_get_str(obs, "issued"), &lab->issued, &day))
        lab->issued = LLONG_MIN;
    lab->at = lab->issued;
    lab->day = lab->issued != LLONG_MIN ? day : -1;
    for (size_t i = 0; i < sizeof effective / sizeof effective[0]; i++)
        if (lab_time(effective[i], &lab->at, &lab->day))
            return;
}

/* The comparator of a valueQuantity, by its FHIR code; LAB_READ_UNKNOWN for another. */
static enum lab_read comparator_code(const char *s)
{
    static const struct {
        const char *code;
        enum lab_read read;
    } codes[] = {{"<", LAB_READ_LT}, {"<=", LAB_READ_LE}, {">=", LAB_READ_GE}, {">", LAB_READ_GT}};
    for (size_t i = 0; s != NULL && i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(s, codes[i].code) == 0)
            return codes[i].read;
    return LAB_READ_UNKNOWN;
}

/* The comparator a text starts with ("<", "<=", ">=", ">", and the signs U+2264 / U+2265),
 * advancing *p past it; LAB_READ_EXACT when there is none. */
static enum lab_read comparator_prefix(const char **p)
{
    static const struct {
        const char *sign;
        enum lab_read read;
    } signs[] = {{"<=", LAB_READ_LE},           {">=", LAB_READ_GE}, {"\xe2\x89\xa4", LAB_READ_LE},
                 {"\xe2\x89\xa5", LAB_READ_GE}, {"<", LAB_READ_LT},  {">", LAB_READ_GT}};
    for (size_t i = 0; i < sizeof signs / sizeof signs[0]; i++) {
        size_t n = strlen(signs[i].sign);
        if (strncmp(*p, signs[i].sign, n) == 0) {
            *p += n;
            return signs[i].read;
        }
    }
    return LAB_READ_EXACT;
}

/* A decimal number at *p ("7", "0.07", ".5", "7."; no sign, no exponent), advancing *p;
 * false when there is none or it has more than LAB_DIGITS_MAX digits. */
static bool read_number(const char **p, double *out)
{
    const char *s = *p;
    double mantissa = 0;
    double scale = 1;
    int digits = 0;
    bool dot = false;
    for (; (*s >= '0' && *s <= '9') || (*s == '.' && !dot); s++) {
        if (*s == '.') {
            dot = true;
            continue;
        }
        if (++digits > LAB_DIGITS_MAX)
            return false;
        mantissa = mantissa * 10 + (*s - '0');
        scale *= dot ? 10 : 1;
    }
    if (digits == 0)
        return false;
    *out = mantissa / scale; /* both exact: correctly rounded, as strtod would */
    *p = s;
    return true;
}

static void set_unknown(struct view_lab *lab, enum lab_why why)
{
    lab->read = LAB_READ_UNKNOWN;
    lab->why = why;
}

/* Sets lab's number: raw (>= 0) read with cmp in unit (trimmed; NULL or "" for none).
 * IgA is normalised when its unit is known, else counts as a number in no unit; the other
 * kinds keep the number as reported. */
static void set_number(const struct terminology *t, enum lab_kind kind, enum lab_read cmp,
                       double raw, const char *unit, struct view_lab *lab)
{
    static const char *const signs[] = {
        [LAB_READ_LT] = "<", [LAB_READ_LE] = "<=", [LAB_READ_GE] = ">=", [LAB_READ_GT] = ">"};
    double f = kind == LAB_IGA ? term_iga_factor(t, unit) : 1;
    lab->raw_value = raw;
    snprintf(lab->unit, sizeof lab->unit, "%s", unit != NULL ? unit : "");
    if (f <= 0) {
        lab->read = LAB_READ_NO_UNIT;
        return;
    }
    if (!isfinite(raw * f)) {
        set_unknown(lab, LAB_WHY_SHAPE);
        return;
    }
    lab->read = cmp;
    lab->value = raw * f;
    if (kind == LAB_IGA)
        snprintf(lab->shown, sizeof lab->shown, "%s%g %s",
                 (size_t)cmp < sizeof signs / sizeof signs[0] && signs[cmp] ? signs[cmp] : "", raw,
                 lab->unit);
}

/* A weight must be a plain number in a weight unit (dose_weight_kg): never a bound. */
static void read_weight(const json_object *q, enum lab_read cmp, enum lab_kind kind,
                        struct view_lab *lab)
{
    double kg = cmp != LAB_READ_EXACT ? -1
                : kind == LAB_HEIGHT  ? dose_height_cm(q)
                                      : dose_weight_kg(q);
    json_get_num(q, "value", &lab->raw_value);
    if (kg <= 0) {
        set_unknown(lab, LAB_WHY_SHAPE);
        return;
    }
    lab->read = LAB_READ_EXACT;
    lab->value = kg;
}

/* valueQuantity: its value, comparator and unit (code, else unit; for IgA the first that
 * names a known unit). */
static void read_quantity(const struct terminology *t, enum lab_kind kind, const json_object *q,
                          struct view_lab *lab)
{
    json_object *member = NULL;
    enum lab_read cmp = LAB_READ_EXACT;
    double raw = -1;
    char code[VIEW_LAB_UNIT_MAX];
    char unit[VIEW_LAB_UNIT_MAX];
    if (json_object_object_get_ex(q, "comparator", &member))
        cmp = json_object_is_type(member, json_type_string)
                  ? comparator_code(json_object_get_string(member))
                  : LAB_READ_UNKNOWN;
    if (cmp == LAB_READ_UNKNOWN || !json_get_num(q, "value", &raw) || !(raw >= 0) ||
        !isfinite(raw)) {
        set_unknown(lab, LAB_WHY_SHAPE);
        return;
    }
    if (kind == LAB_WEIGHT || kind == LAB_HEIGHT) {
        read_weight(q, cmp, kind, lab);
        return;
    }
    bool has_code = trim_copy(json_get_str(q, "code"), false, code, sizeof code);
    bool has_unit = trim_copy(json_get_str(q, "unit"), false, unit, sizeof unit);
    const char *use = has_code ? code : has_unit ? unit : NULL;
    if (kind == LAB_IGA && has_code && has_unit && term_iga_factor(t, code) <= 0)
        use = unit;
    set_number(t, kind, cmp, raw, use, lab);
}

/* valueString: "[comparator] number [unit]" with any spaces between ("<7", "< 7 mg/dL",
 * "6.5 mg/dl", "<0.07 g/L"). A number with nothing after it is a number in no unit; for
 * IgA, text after it that is not a known unit makes the value unknown ("7 see note"). */
static void read_string(const struct terminology *t, enum lab_kind kind, const char *s,
                        struct view_lab *lab)
{
    char text[LAB_TEXT_MAX];
    char unit[VIEW_LAB_UNIT_MAX];
    double raw = 0;
    bool body = kind == LAB_WEIGHT || kind == LAB_HEIGHT;
    if (body || !trim_copy(s, false, text, sizeof text)) {
        set_unknown(lab, s != NULL && !body ? LAB_WHY_TEXT : LAB_WHY_SHAPE);
        return;
    }
    const char *p = text;
    enum lab_read cmp = comparator_prefix(&p);
    while (is_space(*p))
        p++;
    if (!read_number(&p, &raw)) {
        set_unknown(lab, LAB_WHY_TEXT);
        return;
    }
    while (is_space(*p))
        p++;
    bool has_unit = *p != '\0';
    if (has_unit && (!trim_copy(p, false, unit, sizeof unit) ||
                     (kind == LAB_IGA && term_iga_factor(t, unit) <= 0))) {
        set_unknown(lab, LAB_WHY_TEXT); /* words, or a unit too long to be one */
        return;
    }
    set_number(t, kind, cmp, raw, has_unit ? unit : NULL, lab);
}

/* The code of dataAbsentReason, trimmed and lower-cased, into code[cap]; false when the
 * result has no dataAbsentReason. One with no readable code is still a reason. */
static bool absent_reason(const json_object *obs, char *code, size_t cap)
{
    json_object *dar = NULL;
    if (!json_object_object_get_ex(obs, "dataAbsentReason", &dar) || dar == NULL)
        return false;
    if (!trim_copy(fhir_status_code(obs, "dataAbsentReason"), true, code, cap))
        code[0] = '\0';
    return true;
}

/* Reads the value of obs into lab. */
static void read_value(const struct terminology *t, enum lab_kind kind, const json_object *obs,
                       struct view_lab *lab)
{
    json_object *q = json_get_obj(obs, "valueQuantity");
    json_object *member = NULL;
    if (q != NULL)
        read_quantity(t, kind, q, lab);
    else if (json_object_object_get_ex(obs, "valueString", &member))
        read_string(t, kind, json_get_str(obs, "valueString"), lab);
    else if (kind != LAB_WEIGHT && kind != LAB_HEIGHT &&
             json_object_object_get_ex(obs, "valueInteger", &member) &&
             json_object_is_type(member, json_type_int) && json_object_get_int64(member) >= 0)
        set_number(t, kind, LAB_READ_EXACT, (double)json_object_get_int64(member), NULL, lab);
    else
        set_unknown(lab, LAB_WHY_SHAPE);
}

/* A readable result (any number, a qualitative answer, an interpretation) ranks above one
 * that says nothing. */
static int rank(const struct view_lab *lab)
{
    return lab->read != LAB_READ_UNKNOWN || lab->answer != LAB_FLAG_NONE ||
           lab->interp != LAB_FLAG_NONE;
}

/* True when lab should replace slot: slot is empty, lab ranks higher, or at the same rank
 * it is later by effective[x] (else issued), then by issued. A tie keeps the first met. */
static bool replaces(const struct view_lab *lab, const struct view_lab *slot)
{
    if (!slot->present || rank(lab) != rank(slot))
        return !slot->present || rank(lab) > rank(slot);
    if (lab->at != slot->at)
        return lab->at > slot->at;
    return lab->issued > slot->issued;
}

void view_add_observation(struct patient_view *v, const struct terminology *t,
                          const json_object *obs)
{
    static const char *const no_result[] = {"error", "not-performed", NULL};
    char reason[LAB_WORD_MAX];
    enum lab_kind kind = kind_of_code(t, json_get_obj(obs, "code"));
    if (kind == LAB_NONE || !status_counts(obs))
        return;
    struct view_lab lab = {
        .present = true, .value = -1, .raw_value = -1, .ref_low = -1, .ref_high = -1};
    if (absent_reason(obs, reason, sizeof reason)) {
        if (word_in(reason, no_result))
            return;
        set_unknown(&lab, LAB_WHY_ABSENT); /* masked, unknown...: no value, even beside one */
    } else {
        read_value(t, kind, obs, &lab);
        view_lab_read_flags(t, kind, obs, &lab);
    }
    read_times(obs, &lab);
    if (replaces(&lab, &v->labs[kind]))
        v->labs[kind] = lab;
}

static void add_test_name(struct patient_view *v, const char *name)
{
    if (name != NULL && v->n_test_names < VIEW_TEST_NAMES_MAX)
        v->test_names[v->n_test_names++] = name;
}

void view_add_test_order(struct patient_view *v, const struct terminology *t, const json_object *sr)
{
    json_object *code = json_get_obj(sr, "code");
    json_object *codings = json_get_arr(code, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    add_test_name(v, json_get_str(code, "text"));
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        enum lab_kind kind = term_lab_kind(t, json_get_str(c, "system"), json_get_str(c, "code"));
        if (kind != LAB_NONE)
            v->lab_ordered |= 1u << kind;
        add_test_name(v, json_get_str(c, "display"));
    }
}

/* -1, 0 or 1: a against b, equal within LAB_LIMIT_EPS of b. */
static int cmp_limit(double a, double b)
{
    double tol = LAB_LIMIT_EPS * (fabs(b) > 1 ? fabs(b) : 1);
    return a < b - tol ? -1 : a > b + tol ? 1 : 0;
}

enum lab_verdict view_lab_below(const struct view_lab *lab, double limit)
{
    if (!lab->present)
        return LAB_NO_RESULT;
    if (lab->read == LAB_READ_NO_UNIT)
        return LAB_NOT_COMPARABLE;
    if (lab->read == LAB_READ_UNKNOWN || !(lab->value >= 0))
        return LAB_UNREADABLE;
    int c = cmp_limit(lab->value, limit);
    switch (lab->read) {
    case LAB_READ_EXACT:
        return c < 0 ? LAB_BELOW : LAB_NOT_BELOW;
    case LAB_READ_LT:
        return c <= 0 ? LAB_BELOW : LAB_UNREADABLE;
    case LAB_READ_LE:
        return c < 0 ? LAB_BELOW : LAB_UNREADABLE;
    case LAB_READ_GE:
    case LAB_READ_GT:
        return c >= 0 ? LAB_NOT_BELOW : LAB_UNREADABLE;
    default:
        return LAB_UNREADABLE;
    }
}

/* dose_units.c - quantities for the dose engine: one dose in mg, product strength (from a
 * Medication resource or from clinical-drug text) and body weight.
 *
 * A Quantity's unit is its `code` when that code is known, UCUM or systemless; otherwise
 * its human `unit`. Matching is case-insensitive. An unrecognised unit is unknown: the
 * engine never guesses. Numbers are JSON numbers only (json-c would coerce "12").
 * Every pointer is borrowed from the caller; nothing is allocated or kept.
 */
#include "clinical/dose.h"
#include "clinical/dose_internal.h"
#include "util/json.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define UCUM_SYSTEM "http://unitsofmeasure.org"
#define MG_PER_MG 1.0
#define MG_PER_G 1000.0
#define MG_PER_UG 0.001
#define KG_PER_KG 1.0
#define KG_PER_G 0.001
#define KG_PER_LB 0.45359237 /* the international avoirdupois pound */
#define WEIGHT_MAX_KG 700.0  /* above any recorded human weight: a unit or entry error */
#define HEIGHT_MIN_CM 20.0   /* below a newborn's length: a unit or entry error */
#define HEIGHT_MAX_CM 275.0  /* above any recorded human height */
#define TEXT_MAX_DIGITS 12   /* a longer digit run in drug text is not a strength */
#define DECIMAL_BASE 10.0

enum unit_kind {
    UNIT_MASS,  /* mg, g, ug: converts to mg by `factor` */
    UNIT_COUNT, /* tablets, capsules: x strength */
    UNIT_ML,    /* millilitres: x strength in mg/mL */
};

struct unit_alias {
    const char *name;
    enum unit_kind kind;
    double factor; /* mg per unit for UNIT_MASS; 1 otherwise */
};

/* Tablet and capsule names include UCUM annotations and v3-orderableDrugForm TAB/CAP. */
static const struct unit_alias dose_units[] = {
    {"mg", UNIT_MASS, MG_PER_MG},
    {"milligram", UNIT_MASS, MG_PER_MG},
    {"milligrams", UNIT_MASS, MG_PER_MG},
    {"g", UNIT_MASS, MG_PER_G},
    {"gram", UNIT_MASS, MG_PER_G},
    {"grams", UNIT_MASS, MG_PER_G},
    {"ug", UNIT_MASS, MG_PER_UG},
    {"mcg", UNIT_MASS, MG_PER_UG},
    {"microgram", UNIT_MASS, MG_PER_UG},
    {"micrograms", UNIT_MASS, MG_PER_UG},
    {"tablet", UNIT_COUNT, 1.0},
    {"tablets", UNIT_COUNT, 1.0},
    {"tab", UNIT_COUNT, 1.0},
    {"tabs", UNIT_COUNT, 1.0},
    {"{tbl}", UNIT_COUNT, 1.0},
    {"{tablet}", UNIT_COUNT, 1.0},
    {"{tablets}", UNIT_COUNT, 1.0},
    {"capsule", UNIT_COUNT, 1.0},
    {"capsules", UNIT_COUNT, 1.0},
    {"cap", UNIT_COUNT, 1.0},
    {"caps", UNIT_COUNT, 1.0},
    {"{capsule}", UNIT_COUNT, 1.0},
    {"{capsules}", UNIT_COUNT, 1.0},
    {"{cap}", UNIT_COUNT, 1.0},
    {"ml", UNIT_ML, 1.0},
    {"milliliter", UNIT_ML, 1.0},
    {"milliliters", UNIT_ML, 1.0},
    {"millilitre", UNIT_ML, 1.0},
    {"millilitres", UNIT_ML, 1.0},
};

struct weight_alias {
    const char *name;
    double kg; /* kg per unit */
};

static const struct weight_alias weight_units[] = {
    {"kg", KG_PER_KG},  {"kilogram", KG_PER_KG}, {"kilograms", KG_PER_KG}, {"g", KG_PER_G},
    {"gram", KG_PER_G}, {"grams", KG_PER_G},     {"[lb_av]", KG_PER_LB},   {"lb", KG_PER_LB},
    {"lbs", KG_PER_LB}, {"pound", KG_PER_LB},    {"pounds", KG_PER_LB},
};

struct height_alias {
    const char *name;
    double cm; /* cm per unit */
};

static const struct height_alias height_units[] = {
    {"cm", 1.0},      {"centimeter", 1.0}, {"centimeters", 1.0}, {"m", 100.0},     {"mm", 0.1},
    {"[in_i]", 2.54}, {"in", 2.54},        {"inch", 2.54},       {"inches", 2.54},
};

/* Mass words in drug text ("20 MG", "1 G", "100 MCG"); longest first. */
static const struct unit_alias text_units[] = {
    {"mcg", UNIT_MASS, MG_PER_UG},
    {"ug", UNIT_MASS, MG_PER_UG},
    {"mg", UNIT_MASS, MG_PER_MG},
    {"g", UNIT_MASS, MG_PER_G},
};

enum dose_read dose_read_positive(const json_object *obj, const char *key, double *out)
{
    json_object *n = NULL;
    double v = 0;
    if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &n) || n == NULL)
        return DOSE_READ_ABSENT;
    if (json_object_is_type(n, json_type_int))
        v = (double)json_object_get_int64(n);
    else if (json_object_is_type(n, json_type_double))
        v = json_object_get_double(n);
    else
        return DOSE_READ_BAD;
    if (!isfinite(v) || v <= 0)
        return DOSE_READ_BAD;
    *out = v;
    return DOSE_READ_OK;
}

/* The dose unit named `name`, or NULL. The result is a static table entry. */
static const struct unit_alias *dose_unit(const char *name)
{
    size_t n = sizeof(dose_units) / sizeof(dose_units[0]);
    for (size_t i = 0; name != NULL && i < n; i++) {
        if (strcasecmp(name, dose_units[i].name) == 0)
            return &dose_units[i];
    }
    return NULL;
}

static bool dose_unit_known(const char *name)
{
    return dose_unit(name) != NULL;
}

/* kg per unit `name`, or a value <= 0 when unknown. */
static double weight_unit_kg(const char *name)
{
    size_t n = sizeof(weight_units) / sizeof(weight_units[0]);
    for (size_t i = 0; name != NULL && i < n; i++) {
        if (strcasecmp(name, weight_units[i].name) == 0)
            return weight_units[i].kg;
    }
    return -1;
}

static bool weight_unit_known(const char *name)
{
    return weight_unit_kg(name) > 0;
}

/* The unit to trust in Quantity q (borrowed from q): its `code` when `known` accepts it or
 * when it is UCUM/systemless (then authoritative even if unknown); else its `unit`. */
static const char *unit_name(const json_object *q, bool (*known)(const char *))
{
    const char *code = json_get_str(q, "code");
    const char *system = json_get_str(q, "system");
    if (code != NULL && (known(code) || system == NULL || strcmp(system, UCUM_SYSTEM) == 0))
        return code;
    return json_get_str(q, "unit");
}

static const struct unit_alias count_unit = {"1", UNIT_COUNT, 1.0};

/* A unit that counts the product's units though no table names it: a UCUM annotation alone
 * ("{pill}", "{Capsule}": UCUM section 6, an annotation without a unit is the unity), UCUM
 * "1", or SNOMED CT 732936001 "Tablet (unit of presentation)". */
static bool counts_units(const char *name, const char *system)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n >= 3 && name[0] == '{' && name[n - 1] == '}' && memchr(name + 1, '}', n - 2) == NULL)
        return true;
    if (n == 1 && name[0] == '1')
        return true;
    return system != NULL && strcmp(system, "http://snomed.info/sct") == 0 &&
           strcmp(name, "732936001") == 0;
}

/* The unit of a dose Quantity: its code when known, else its unit text when known, else a
 * counting code or unit; NULL when none. *unitless: the Quantity names no unit at all. */
static const struct unit_alias *amount_unit(const json_object *q, bool *unitless)
{
    const char *code = json_get_str(q, "code");
    const char *unit = json_get_str(q, "unit");
    const char *system = json_get_str(q, "system");
    const struct unit_alias *u = dose_unit(code);
    *unitless = code == NULL && unit == NULL;
    if (u == NULL)
        u = dose_unit(unit);
    if (u == NULL && (counts_units(code, system) || counts_units(unit, NULL)))
        u = &count_unit;
    return u;
}

double dose_amount_read(const json_object *quantity, double strength_mg, bool solid,
                        struct dose_amount *a, const char **why)
{
    double value = 0;
    bool unitless = false;
    enum dose_read r = dose_read_positive(quantity, "value", &value);
    const struct unit_alias *u = amount_unit(quantity, &unitless);
    *a = (struct dose_amount){-1, -1, -1};
    if (quantity == NULL || r == DOSE_READ_ABSENT) {
        *why = "no dose quantity";
        return -1;
    }
    if (r == DOSE_READ_BAD) {
        *why = "dose value is not a positive JSON number";
        return -1;
    }
    if (u == NULL && unitless && solid)
        u = &count_unit; /* Synthea: a bare value counts tablets of a tablet */
    if (u == NULL) {
        *why = unitless ? "dose without a unit" : "dose unit not recognised";
        return -1;
    }
    if (u->kind == UNIT_MASS) {
        a->mg = value * u->factor;
    } else if (strength_mg > 0 && isfinite(strength_mg)) {
        a->units = value;
        a->per = strength_mg;
        a->mg = value * strength_mg;
    } else {
        *why = "dose in tablets, capsules or mL without a known strength";
        return -1;
    }
    if (!isfinite(a->mg) || a->mg > DOSE_MAX_MG) {
        *why = "dose implausibly large";
        a->mg = -1;
        return -1;
    }
    return a->mg;
}

double dose_amount_mg(const json_object *quantity, double strength_mg, const char **why)
{
    struct dose_amount a;
    return dose_amount_read(quantity, strength_mg, false, &a, why);
}

double dose_quantity_mg(const json_object *quantity)
{
    const char *why = NULL;
    const struct unit_alias *u = dose_unit(unit_name(quantity, dose_unit_known));
    if (quantity == NULL || u == NULL || u->kind != UNIT_MASS)
        return -1;
    return dose_amount_mg(quantity, -1, &why);
}

static double height_unit_cm(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof height_units / sizeof height_units[0]; i++)
        if (strcasecmp(name, height_units[i].name) == 0)
            return height_units[i].cm;
    return -1;
}

static bool height_unit_known(const char *name)
{
    return height_unit_cm(name) > 0;
}

/* A body measure of quantity in the unit factor() gives for its unit name (known() picks
 * the name, unit_name), or < 0 when the unit is unknown or the value outside [min, max]. */
static double body_measure(const json_object *quantity, double (*factor)(const char *),
                           bool (*known)(const char *), double min, double max)
{
    double value = 0;
    double per = factor(unit_name(quantity, known));
    if (quantity == NULL || per <= 0 ||
        dose_read_positive(quantity, "value", &value) != DOSE_READ_OK)
        return -1;
    value *= per;
    return value >= min && value <= max ? value : -1;
}

double dose_weight_kg(const json_object *quantity)
{
    return body_measure(quantity, weight_unit_kg, weight_unit_known, 0, WEIGHT_MAX_KG);
}

double dose_height_cm(const json_object *quantity)
{
    return body_measure(quantity, height_unit_cm, height_unit_known, HEIGHT_MIN_CM, HEIGHT_MAX_CM);
}

/* mg per tablet/capsule/mL of a Ratio: numerator in mg/g/ug over a denominator that is a
 * count, mL or unitless (absent: 1). < 0 for any other shape (e.g. mg per g of cream). */
static double ratio_mg_per_unit(const json_object *ratio)
{
    double mg = dose_quantity_mg(json_get_obj(ratio, "numerator"));
    json_object *den = json_get_obj(ratio, "denominator");
    double per = 1.0;
    const char *unit = NULL;
    const struct unit_alias *u = NULL;
    if (mg < 0)
        return -1;
    if (den == NULL)
        return mg;
    if (dose_read_positive(den, "value", &per) != DOSE_READ_OK)
        return -1;
    unit = unit_name(den, dose_unit_known);
    u = dose_unit(unit);
    if (unit != NULL && strcmp(unit, "1") != 0 && (u == NULL || u->kind == UNIT_MASS))
        return -1;
    return mg / per;
}

double dose_strength_from_medication(const json_object *medication)
{
    json_object *ingredients = json_get_arr(medication, "ingredient");
    size_t n = ingredients != NULL ? json_object_array_length(ingredients) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *strength = json_get_obj(json_object_array_get_idx(ingredients, i), "strength");
        if (strength != NULL)
            return ratio_mg_per_unit(strength);
    }
    return -1;
}

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

const char *dose_parse_decimal(const char *p, double *out)
{
    double v = 0;
    double scale = 1;
    int digits = 0;
    for (; isdigit((unsigned char)*p); p++, digits++)
        v = v * DECIMAL_BASE + (*p - '0');
    if (*p == '.' && isdigit((unsigned char)p[1])) {
        for (p++; isdigit((unsigned char)*p); p++, digits++) {
            scale /= DECIMAL_BASE;
            v += (*p - '0') * scale;
        }
    }
    if (digits == 0 || digits > TEXT_MAX_DIGITS)
        return NULL;
    *out = v;
    return p;
}

/* `word` as a whole word at p, case-insensitive: returns the end of it, or NULL. */
static const char *match_word(const char *p, const char *word)
{
    size_t n = strlen(word);
    if (strncasecmp(p, word, n) != 0 || isalpha((unsigned char)p[n]))
        return NULL;
    return p + n;
}

/* A number starts at p: a digit (or ".5") not glued to a word ("B12") or another number. */
static bool number_starts(const char *text, const char *p)
{
    bool digit = isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]));
    return digit && (p == text || (!isalnum((unsigned char)p[-1]) && p[-1] != '.'));
}

/* The strength once "<number> <unit>" gave mg and p points after the unit: "/ML" or
 * "/5 ML" divide by the volume; " / B 80 MG" separates a combination (the first counts);
 * any other denominator ("MG/HR", "MG/ACTUAT", "MG/G") is not a per-unit strength. */
static double per_unit(double mg, const char *p)
{
    double volume = 1;
    const char *q = NULL;
    const char *after = NULL;
    if (*p != '/')
        return mg;
    q = skip_spaces(p + 1);
    after = dose_parse_decimal(q, &volume);
    if (after == NULL) {
        after = q;
        volume = 1;
    }
    if (match_word(skip_spaces(after), "ml") != NULL)
        return volume > 0 ? mg / volume : -1;
    return isspace((unsigned char)p[1]) ? mg : -1;
}

/* Matches a mass unit at p; sets *mg to value in mg and returns the unit's end, or NULL. */
static const char *match_mass(const char *p, double value, double *mg)
{
    size_t n = sizeof(text_units) / sizeof(text_units[0]);
    for (size_t i = 0; i < n; i++) {
        const char *end = match_word(p, text_units[i].name);
        if (end != NULL) {
            *mg = value * text_units[i].factor;
            return end;
        }
    }
    return NULL;
}

double dose_strength_from_text(const char *text)
{
    if (text == NULL)
        return -1;
    for (const char *p = text; *p != '\0'; p++) {
        double value = 0;
        double mg = 0;
        const char *end = NULL;
        const char *unit_end = NULL;
        if (!number_starts(text, p))
            continue;
        end = dose_parse_decimal(p, &value);
        if (end == NULL)
            continue;
        unit_end = match_mass(skip_spaces(end), value, &mg);
        if (unit_end != NULL) {
            double s = per_unit(mg, unit_end);
            return s > 0 && s <= DOSE_MAX_MG ? s : -1;
        }
        p = end - 1;
    }
    return -1;
}

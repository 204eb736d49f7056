/* view_lab_flags.c - what a lab result says besides its number: the answer of a
 * qualitative test (valueCodeableConcept by code or words, the words of a valueString, a
 * TPMT diplotype), its interpretation flag, and its reference range. Every string is
 * bounded by the terminology's matcher (TEXT_MATCH_MAX); numbers are checked.
 */
#include "clinical/view_build.h"
#include "util/json.h"

#include <math.h>
#include <strings.h>

/* The answer of a TPMT text: its diplotype when it has one, else its words. */
static enum lab_flag tpmt_text(const struct terminology *t, const char *text)
{
    static const enum lab_flag by_count[] = {LAB_FLAG_NORMAL, LAB_FLAG_LOW, LAB_FLAG_CRIT_LOW};
    int none = term_tpmt_no_function(t, text);
    if (none >= 0 && none <= 2)
        return by_count[none];
    return term_lab_answer(t, LAB_TPMT, NULL, NULL, text);
}

static enum lab_flag text_answer(const struct terminology *t, enum lab_kind kind, const char *text)
{
    if (text == NULL)
        return LAB_FLAG_NONE;
    return kind == LAB_TPMT ? tpmt_text(t, text) : term_lab_answer(t, kind, NULL, NULL, text);
}

/* valueCodeableConcept: a known answer code of any coding, else the words of its text,
 * else of a display. */
static enum lab_flag concept_answer(const struct terminology *t, enum lab_kind kind,
                                    const json_object *cc)
{
    json_object *codings = json_get_arr(cc, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        enum lab_flag f =
            term_lab_answer(t, kind, json_get_str(c, "system"), json_get_str(c, "code"), NULL);
        if (f != LAB_FLAG_NONE)
            return f;
    }
    enum lab_flag f = text_answer(t, kind, json_get_str(cc, "text"));
    for (size_t i = 0; f == LAB_FLAG_NONE && i < n; i++)
        f = text_answer(t, kind, json_get_str(json_object_array_get_idx(codings, i), "display"));
    return f;
}

/* The first interpretation any coding or text of Observation.interpretation[] names. */
static enum lab_flag interpretation(const struct terminology *t, const json_object *obs)
{
    json_object *arr = json_get_arr(obs, "interpretation");
    size_t n = arr != NULL ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *cc = json_object_array_get_idx(arr, i);
        json_object *codings = json_get_arr(cc, "coding");
        size_t m = codings != NULL ? json_object_array_length(codings) : 0;
        for (size_t k = 0; k < m; k++) {
            json_object *c = json_object_array_get_idx(codings, k);
            enum lab_flag f =
                term_interpretation(t, json_get_str(c, "system"), json_get_str(c, "code"), NULL);
            if (f != LAB_FLAG_NONE)
                return f;
        }
        enum lab_flag f = term_interpretation(t, NULL, NULL, json_get_str(cc, "text"));
        for (size_t k = 0; f == LAB_FLAG_NONE && k < m; k++)
            f = term_interpretation(t, NULL, NULL,
                                    json_get_str(json_object_array_get_idx(codings, k), "display"));
        if (f != LAB_FLAG_NONE)
            return f;
    }
    return LAB_FLAG_NONE;
}

/* A bound of a reference range in the result's unit, or -1: no number, a negative or
 * infinite one, or a unit (code, else unit) that differs from the result's. */
static double bound(const json_object *q, const char *unit)
{
    double x = -1;
    const char *u = json_get_str(q, "code");
    if (u == NULL)
        u = json_get_str(q, "unit");
    if (q == NULL || !json_get_num(q, "value", &x) || !(x >= 0) || !isfinite(x))
        return -1;
    if (u != NULL && unit[0] != '\0' && strcasecmp(u, unit) != 0)
        return -1;
    return x;
}

void view_lab_read_flags(const struct terminology *t, enum lab_kind kind, const json_object *obs,
                         struct view_lab *lab)
{
    json_object *cc = json_get_obj(obs, "valueCodeableConcept");
    json_object *range = json_get_arr(obs, "referenceRange");
    json_object *first = range != NULL && json_object_array_length(range) > 0
                             ? json_object_array_get_idx(range, 0)
                             : NULL;
    if (cc != NULL)
        lab->answer = concept_answer(t, kind, cc);
    else if (lab->read == LAB_READ_UNKNOWN && lab->why == LAB_WHY_TEXT)
        lab->answer = text_answer(t, kind, json_get_str(obs, "valueString"));
    lab->interp = interpretation(t, obs);
    lab->ref_low = bound(json_get_obj(first, "low"), lab->unit);
    lab->ref_high = bound(json_get_obj(first, "high"), lab->unit);
}

/* fuzz_dose.c - the dose engine over any JSON a MedicationRequest could hold.
 *
 * The input is parsed with json-c; the root object (or, for a Bundle, each entry's
 * resource) goes through every dose_* reader, with and without a product strength. The
 * raw input also goes through the clinical-drug text parser as a NUL-terminated string.
 */
#include "clinical/dose.h"
#include "fuzz.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_DOSE_STRENGTH_MG 5.0 /* a 5 mg tablet, or 5 mg per mL */
#define FUZZ_DOSE_MAX_TEXT 4096   /* the text parser sees at most this many bytes */

static void fuzz_one(const json_object *mr)
{
    struct dose_result r;
    const double strengths[] = {-1, FUZZ_DOSE_STRENGTH_MG};
    for (size_t i = 0; i < sizeof strengths / sizeof strengths[0]; i++) {
        if (dose_evaluate(mr, strengths[i], &r) != 0)
            continue;
        if (isnan(r.mg_per_day) || isnan(r.duration_days) || (r.mg_per_day < 0 && r.why == NULL))
            abort(); /* unknown is a negative number with a reason, never NaN */
    }
    /* a tablet of known form, on a day inside or outside any taper's steps */
    const struct dose_input ins[] = {{FUZZ_DOSE_STRENGTH_MG, true, 20790, 20780},
                                     {FUZZ_DOSE_STRENGTH_MG, true, -1, -1}};
    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++) {
        if (dose_evaluate_in(mr, &ins[i], &r) != 0)
            continue;
        if (isnan(r.mg_per_day) || (r.mg_per_day < 0 && r.why == NULL) || r.n_steps < 0 ||
            r.n_steps > DOSE_STEPS_MAX || (r.n_steps > 0 && r.current >= r.n_steps))
            abort();
        (void)dose_days_at_least(&r, FUZZ_DOSE_STRENGTH_MG);
    }
    (void)dose_duration_days(mr);
    (void)dose_step_count(mr);
    (void)dose_current_step_days(mr);
    (void)dose_strength_from_medication(mr);
    json_object *mcc = NULL;
    if (json_object_object_get_ex(mr, "medicationCodeableConcept", &mcc) &&
        json_object_object_get_ex(mcc, "text", &mcc) && json_object_is_type(mcc, json_type_string))
        (void)dose_strength_from_text(json_object_get_string(mcc));
    json_object *q = NULL;
    if (json_object_object_get_ex(mr, "valueQuantity", &q)) {
        (void)dose_quantity_mg(q);
        (void)dose_weight_kg(q);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size < FUZZ_DOSE_MAX_TEXT ? size : FUZZ_DOSE_MAX_TEXT;
    char *text = malloc(n + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, n);
    text[n] = '\0';
    (void)dose_strength_from_text(text);
    free(text);

    json_tokener *tok = json_tokener_new();
    json_object *root =
        tok != NULL ? json_tokener_parse_ex(tok, (const char *)data, (int)size) : NULL;
    json_tokener_free(tok);
    if (json_object_is_type(root, json_type_object)) {
        fuzz_one(root);
        json_object *entries = NULL;
        if (json_object_object_get_ex(root, "entry", &entries) &&
            json_object_is_type(entries, json_type_array))
            for (size_t i = 0; i < json_object_array_length(entries); i++) {
                json_object *res = NULL;
                json_object *e = json_object_array_get_idx(entries, i);
                if (json_object_is_type(e, json_type_object) &&
                    json_object_object_get_ex(e, "resource", &res) &&
                    json_object_is_type(res, json_type_object))
                    fuzz_one(res);
            }
    }
    json_object_put(root);
    return 0;
}

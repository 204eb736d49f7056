/* view_route.c - is an order systemic? From the best evidence it carries, in this order:
 *
 *   1. its coded route (SNOMED CT route codes), then the route's words (text, a coding's
 *      display or code: Epic's route OIDs come with a display);
 *   2. the dose form in the drug's names (an SCD/SBD name such as "... Topical Cream");
 *   3. Medication.form;
 *   4. the instructions (dosageInstruction.text, patientInstruction);
 *   5. the drug's unstated_form (terminology.json): systemic for a drug made only in
 *      systemic forms (prednisone), unknown for one with local forms (hydrocortisone).
 * The first step that says anything decides; a local word wins over a systemic one met
 * in the same step.
 */
#include "clinical/view_build.h"
#include "util/json.h"

#include <string.h>

/* Folds what one text says into *acc: a local reading wins. */
static void fold(enum route_class *acc, enum route_class r)
{
    if (r == ROUTE_LOCAL || (r == ROUTE_SYSTEMIC && *acc == ROUTE_UNKNOWN))
        *acc = r;
}

/* The route CodeableConcept of the first dosage instruction that states one (a
 * MedicationAdministration: its dosage), or NULL. Borrowed. */
static json_object *route_of(const json_object *mr)
{
    json_object *dis = json_get_arr(mr, "dosageInstruction");
    size_t n = dis != NULL ? json_object_array_length(dis) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *route = json_get_obj(json_object_array_get_idx(dis, i), "route");
        if (route != NULL)
            return route;
    }
    return json_get_obj(json_get_obj(mr, "dosage"), "route");
}

/* Step 1: the coded route, else its words. Sets *iv when a word names the IV route. */
static enum route_class by_route(const struct terminology *t, const json_object *route, bool *iv)
{
    json_object *codings = json_get_arr(route, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    enum route_class words = term_route_by_text(t, json_get_str(route, "text"));
    *iv = term_route_intravenous(t, json_get_str(route, "text"));
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        enum route_class coded =
            term_route_by_code(t, json_get_str(c, "system"), json_get_str(c, "code"));
        if (coded != ROUTE_UNKNOWN)
            return coded;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        fold(&words, term_route_by_text(t, json_get_str(c, "display")));
        fold(&words, term_route_by_text(t, json_get_str(c, "code")));
        *iv = *iv || term_route_intravenous(t, json_get_str(c, "display")) ||
              term_route_intravenous(t, json_get_str(c, "code"));
    }
    return words;
}

/* The dose form named in a CodeableConcept's text and displays. */
static void form_of_cc(const struct terminology *t, const json_object *cc, enum route_class *acc)
{
    json_object *codings = json_get_arr(cc, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    fold(acc, term_form_by_text(t, json_get_str(cc, "text")));
    for (size_t i = 0; i < n; i++)
        fold(acc,
             term_form_by_text(t, json_get_str(json_object_array_get_idx(codings, i), "display")));
}

/* Step 4: the instructions' route and form words. */
static enum route_class by_instructions(const struct terminology *t, const json_object *mr)
{
    enum route_class acc = ROUTE_UNKNOWN;
    json_object *dis = json_get_arr(mr, "dosageInstruction");
    size_t n = dis != NULL ? json_object_array_length(dis) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(dis, i);
        const char *texts[] = {json_get_str(d, "text"), json_get_str(d, "patientInstruction")};
        for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
            fold(&acc, term_route_by_text(t, texts[k]));
            fold(&acc, term_form_by_text(t, texts[k]));
        }
    }
    return acc;
}

enum route_class view_med_route(const struct terminology *t, const json_object *mr,
                                const json_object *medication, const struct term_drug *drug,
                                bool *intravenous)
{
    enum route_class r = ROUTE_UNKNOWN;
    json_object *route = route_of(mr);
    *intravenous = false;
    if (route != NULL)
        r = by_route(t, route, intravenous);
    if (r == ROUTE_UNKNOWN) {
        form_of_cc(t, json_get_obj(mr, "medicationCodeableConcept"), &r);
        form_of_cc(t, json_get_obj(medication, "code"), &r);
        fold(&r, term_form_by_text(
                     t, json_get_str(json_get_obj(mr, "medicationReference"), "display")));
    }
    if (r == ROUTE_UNKNOWN)
        form_of_cc(t, json_get_obj(medication, "form"), &r);
    if (r == ROUTE_UNKNOWN)
        r = by_instructions(t, mr);
    return r != ROUTE_UNKNOWN ? r : drug->unstated;
}

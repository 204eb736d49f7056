/* view_reason.c - what an order says it treats: its reasonCode concepts, and the
 * Conditions its reasonReference points at (resolved among the request's resources, else
 * read by the reference's display). A reason naming an inflammatory myopathy makes it
 * myositis treatment; a reason naming anything else (a COPD exacerbation, asthma) makes it
 * treatment of that; none, or none the service can read, leaves it as ordered (myositis
 * treatment, for a myositis patient).
 */
#include "clinical/view_build.h"
#include "util/json.h"

/* What one CodeableConcept names: REASON_MYOSITIS by a code or words of an inflammatory
 * myopathy, REASON_OTHER when it has any code or text at all, else REASON_UNSTATED. */
static enum med_reason concept_reason(const struct terminology *t, const json_object *cc)
{
    json_object *codings = json_get_arr(cc, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    const char *text = json_get_str(cc, "text");
    bool any = text != NULL;
    unsigned sub = 0;
    unsigned flags = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        const char *code = json_get_str(c, "code");
        const char *display = json_get_str(c, "display");
        any |= code != NULL || display != NULL;
        if (term_condition_subtypes(t, json_get_str(c, "system"), code) != 0)
            return REASON_MYOSITIS;
        term_condition_by_text(t, display, &sub, &flags);
        if (sub != 0)
            return REASON_MYOSITIS;
    }
    term_condition_by_text(t, text, &sub, &flags);
    if (sub != 0)
        return REASON_MYOSITIS;
    return any ? REASON_OTHER : REASON_UNSTATED;
}

/* Keeps the strongest reason: myositis over another condition over none. */
static enum med_reason stronger(enum med_reason a, enum med_reason b)
{
    if (a == REASON_MYOSITIS || b == REASON_MYOSITIS)
        return REASON_MYOSITIS;
    return a == REASON_OTHER || b == REASON_OTHER ? REASON_OTHER : REASON_UNSTATED;
}

static enum med_reason reference_reason(const struct terminology *t, const json_object *mr,
                                        const json_object *r, const struct fhir_index *ix)
{
    struct fhir_ref ref;
    json_object *cond = NULL;
    if (fhir_ref_parse(json_get_str(r, "reference"), &ref))
        cond = fhir_ref_resolve(&ref, "Condition", mr, ix);
    if (cond != NULL)
        return concept_reason(t, json_get_obj(cond, "code"));
    const char *display = json_get_str(r, "display");
    unsigned sub = 0;
    unsigned flags = 0;
    term_condition_by_text(t, display, &sub, &flags);
    return sub != 0 ? REASON_MYOSITIS : display != NULL ? REASON_OTHER : REASON_UNSTATED;
}

enum med_reason view_med_reason(const struct terminology *t, const json_object *mr,
                                const struct fhir_index *ix)
{
    enum med_reason reason = REASON_UNSTATED;
    json_object *codes = json_get_arr(mr, "reasonCode");
    json_object *refs = json_get_arr(mr, "reasonReference");
    for (size_t i = 0; codes != NULL && i < json_object_array_length(codes); i++)
        reason = stronger(reason, concept_reason(t, json_object_array_get_idx(codes, i)));
    for (size_t i = 0; refs != NULL && i < json_object_array_length(refs); i++)
        reason = stronger(reason, reference_reason(t, mr, json_object_array_get_idx(refs, i), ix));
    return reason;
}

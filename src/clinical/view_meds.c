/* view_meds.c - classify one MedicationRequest into a struct view_med.
 *
 * The order of evidence for the drug: a code of medicationCodeableConcept (RxNorm by URL or
 * OID, any coding in any order); the referenced Medication's code and ingredients (found
 * by fhir_ref_resolve: contained, relative, absolute, versioned or urn:uuid); then names,
 * on word boundaries: the Medication's text, the concept's text and displays, and last
 * medicationReference.display (Epic often sends no Medication at all).
 */
#include "clinical/dose.h"
#include "clinical/view_build.h"
#include "fhir/fhir.h"
#include "fhir/json.h"

#include <stdio.h>
#include <string.h>

struct drug_match {
    const struct term_drug *drug;
    unsigned classes;
    double scd_mg;
    bool by_name;
};

/* Looks at every coding of a CodeableConcept; keeps the first drug, unions the classes. */
static void match_cc(const struct terminology *t, const json_object *cc, struct drug_match *m)
{
    json_object *codings = json_get_arr(cc, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        double mg = -1;
        const struct term_drug *d =
            term_drug_by_code(t, json_get_str(c, "system"), json_get_str(c, "code"), &mg);
        if (d == NULL)
            continue;
        m->classes |= d->classes;
        if (m->drug == NULL || (m->scd_mg < 0 && mg > 0 && d == m->drug)) {
            m->drug = d;
            m->scd_mg = mg;
        }
    }
}

static void match_text(const struct terminology *t, const json_object *cc, struct drug_match *m)
{
    const char *text = json_get_str(cc, "text");
    const struct term_drug *d = text != NULL ? term_drug_by_text(t, text) : NULL;
    json_object *codings = json_get_arr(cc, "coding");
    for (size_t i = 0; d == NULL && codings != NULL && i < json_object_array_length(codings); i++) {
        const char *display = json_get_str(json_object_array_get_idx(codings, i), "display");
        if (text == NULL || display == NULL || strcmp(display, text) != 0) /* else read above */
            d = term_drug_by_text(t, display);
    }
    if (d != NULL) {
        m->drug = d;
        m->classes |= d->classes;
        m->by_name = true;
    }
}

/* The Medication a MedicationRequest points at, wherever it travels; NULL when none. */
static json_object *referenced_medication(const json_object *mr, const struct fhir_index *ix)
{
    struct fhir_ref ref;
    if (!fhir_ref_parse(json_get_str(json_get_obj(mr, "medicationReference"), "reference"), &ref))
        return NULL;
    return fhir_ref_resolve(&ref, "Medication", mr, ix);
}

/* The drug named by text (a medicationReference.display), the last resort. */
static void match_words(const struct terminology *t, const char *text, struct drug_match *m)
{
    const struct term_drug *d = text != NULL ? term_drug_by_text(t, text) : NULL;
    if (d != NULL) {
        m->drug = d;
        m->classes |= d->classes;
        m->by_name = true;
    }
}

static void match_medication(const struct terminology *t, const json_object *med,
                             struct drug_match *m)
{
    json_object *code = json_get_obj(med, "code");
    json_object *ingredients = json_get_arr(med, "ingredient");
    match_cc(t, code, m);
    for (size_t i = 0; ingredients != NULL && i < json_object_array_length(ingredients); i++)
        match_cc(t, json_get_obj(json_object_array_get_idx(ingredients, i), "itemCodeableConcept"),
                 m);
    if (m->drug == NULL)
        match_text(t, code, m);
}

/* What the clinician ordered, for cards: the concept's text or first display with one,
 * else the reference's display, else the drug's name. */
static void copy_label(char *dst, const json_object *cc, const char *ref_display,
                       const struct term_drug *d)
{
    const char *text = json_get_str(cc, "text");
    json_object *codings = json_get_arr(cc, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    for (size_t i = 0; text == NULL && i < n; i++)
        text = json_get_str(json_object_array_get_idx(codings, i), "display");
    if (text == NULL)
        text = ref_display;
    snprintf(dst, VIEW_LABEL_MAX, "%s", text != NULL ? text : d->display);
}

/* Fills the dose fields of med from the request and the product's strength. */
static void fill_dose(struct view_med *med, const json_object *mr, const json_object *medication,
                      double scd_mg)
{
    struct dose_result dose;
    double strength = scd_mg;
    if (strength <= 0 && medication != NULL)
        strength = dose_strength_from_medication(medication);
    if (strength <= 0)
        strength = dose_strength_from_text(med->label);
    dose_evaluate(mr, strength, &dose);
    med->mg_per_day = dose.mg_per_day;
    med->duration_days = dose.duration_days;
    med->steps = dose_step_count(mr);
    med->dose_why = dose.why;
    med->pred_mg_per_day = -1;
    if ((med->classes & DC_GLUCOCORTICOID) && med->drug->potency > 0 && dose.mg_per_day >= 0)
        med->pred_mg_per_day = dose.mg_per_day * med->drug->potency;
}

int view_med_classify(const struct terminology *t, const json_object *mr,
                      const struct fhir_index *ix, struct view_med *med)
{
    struct drug_match m = {NULL, 0, -1, false};
    json_object *cc = json_get_obj(mr, "medicationCodeableConcept");
    json_object *medication = cc == NULL ? referenced_medication(mr, ix) : NULL;
    const char *ref_display =
        cc == NULL ? json_get_str(json_get_obj(mr, "medicationReference"), "display") : NULL;

    if (cc != NULL)
        match_cc(t, cc, &m);
    else if (medication != NULL)
        match_medication(t, medication, &m);
    if (m.drug == NULL && cc != NULL)
        match_text(t, cc, &m);
    if (m.drug == NULL)
        match_words(t, ref_display, &m);
    if (m.drug == NULL)
        return -1;
    memset(med, 0, sizeof *med);
    med->drug = m.drug;
    med->classes = m.classes;
    med->id = json_get_str(mr, "id");
    copy_label(med->label, cc != NULL ? cc : json_get_obj(medication, "code"), ref_display, m.drug);
    med->route = view_med_route(t, mr, medication, m.drug, &med->intravenous);
    med->systemic = med->route == ROUTE_SYSTEMIC;
    med->intravenous = med->intravenous || term_route_intravenous(t, med->label);
    if (m.drug->iv_only && m.by_name && !med->intravenous)
        return -1; /* "immune globulin" by name counts as IVIG only when given IV */
    med->start_day = -1;
    fhir_date_days(json_get_str(mr, "authoredOn"), &med->start_day);
    fill_dose(med, mr, medication, m.scd_mg);
    return 0;
}

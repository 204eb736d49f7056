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
#include "util/json.h"

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

/* True when the product is known to be a tablet or capsule: by the names it goes by or
 * Medication.form (text, display or code such as Epic's TABS). */
static bool solid_form(const struct terminology *t, const struct view_med *med,
                       const json_object *mr, const json_object *medication)
{
    json_object *form = json_get_obj(medication, "form");
    json_object *codings = json_get_arr(form, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    if (term_form_solid(t, med->label) ||
        term_form_solid(t, json_get_str(json_get_obj(mr, "medicationReference"), "display")) ||
        term_form_solid(t, json_get_str(json_get_obj(medication, "code"), "text")) ||
        term_form_solid(t, json_get_str(form, "text")))
        return true;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        if (term_form_solid(t, json_get_str(c, "display")) ||
            term_form_solid(t, json_get_str(c, "code")))
            return true;
    }
    return false;
}

/* Fills the dose fields of med from the request, the product's strength and form, and the
 * day (which step of a taper is in effect). */
static void fill_dose(const struct terminology *t, struct view_med *med, const json_object *mr,
                      const json_object *medication, double scd_mg, long today)
{
    struct dose_result dose;
    struct dose_input in = {scd_mg, solid_form(t, med, mr, medication), today, med->start_day};
    if (in.strength_mg <= 0 && medication != NULL)
        in.strength_mg = dose_strength_from_medication(medication);
    if (in.strength_mg <= 0)
        in.strength_mg = dose_strength_from_text(med->label);
    dose_evaluate_in(mr, &in, &dose);
    bool potent = (med->classes & DC_GLUCOCORTICOID) && med->drug->potency > 0;
    med->mg_per_day = dose.mg_per_day;
    med->duration_days = dose.duration_days;
    med->steps = dose.n_steps;
    med->current_step = dose.current;
    for (int s = 0; s < dose.n_steps && s < VIEW_STEPS_MAX; s++) {
        double mg = dose.steps[s].mg_per_day;
        med->step[s].pred_mg_per_day = potent && mg >= 0 ? mg * med->drug->potency : -1;
        med->step[s].days = dose.steps[s].days;
    }
    med->dose_why = dose.why;
    med->units = dose.units;
    med->unit_mg = dose.unit_mg;
    med->per_day = dose.per_day;
    med->dose_type = dose.dose_type;
    med->as_needed = dose.as_needed;
    med->single_dose = dose.single_dose;
    med->dose_from_text = dose.from_text;
    med->pred_mg_per_day =
        potent && dose.mg_per_day >= 0 ? dose.mg_per_day * med->drug->potency : -1;
}

int view_med_classify(const struct terminology *t, const json_object *mr,
                      const struct fhir_index *ix, long today, struct view_med *med)
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
    med->res = mr;
    copy_label(med->label, cc != NULL ? cc : json_get_obj(medication, "code"), ref_display, m.drug);
    med->route = view_med_route(t, mr, medication, m.drug, &med->intravenous);
    med->systemic = med->route == ROUTE_SYSTEMIC;
    med->intravenous = med->intravenous || term_route_intravenous(t, med->label);
    if (m.drug->iv_only && m.by_name && !med->intravenous)
        return -1; /* "immune globulin" by name counts as IVIG only when given IV */
    med->prior_ref = json_get_str(json_get_obj(mr, "priorPrescription"), "reference");
    med->start_day = -1;
    fhir_date_days(json_get_str(mr, "authoredOn"), &med->start_day);
    fill_dose(t, med, mr, medication, m.scd_mg, today);
    return 0;
}

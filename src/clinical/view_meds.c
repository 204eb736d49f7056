/* view_meds.c - classify one MedicationRequest into a struct view_med.
 *
 * A drug is found by RxNorm ingredient or clinical-drug code, by its (contained or
 * referenced) Medication's code and ingredients, or last by name in the text.
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

/* The Medication a MedicationRequest points at: contained ("#id") or from the index. */
static json_object *referenced_medication(const json_object *mr, struct lh_table *meds_by_id)
{
    const char *ref = json_get_str(json_get_obj(mr, "medicationReference"), "reference");
    const char *id = fhir_ref_id(ref, NULL);
    if (id != NULL) {
        json_object *contained = json_get_arr(mr, "contained");
        for (size_t i = 0; contained != NULL && i < json_object_array_length(contained); i++) {
            json_object *res = json_object_array_get_idx(contained, i);
            const char *rid = json_get_str(res, "id");
            if (rid != NULL && strcmp(rid, id) == 0 && fhir_type(res) != NULL &&
                strcmp(fhir_type(res), "Medication") == 0)
                return res;
        }
        return NULL;
    }
    id = fhir_ref_id(ref, "Medication");
    void *found = NULL;
    if (id != NULL && meds_by_id != NULL && lh_table_lookup_ex(meds_by_id, id, &found))
        return found;
    return NULL;
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

static void copy_label(char *dst, const json_object *cc, const struct term_drug *d)
{
    const char *text = json_get_str(cc, "text");
    json_object *codings = json_get_arr(cc, "coding");
    if (text == NULL && codings != NULL && json_object_array_length(codings) > 0)
        text = json_get_str(json_object_array_get_idx(codings, 0), "display");
    snprintf(dst, VIEW_LABEL_MAX, "%s", text != NULL ? text : d->display);
}

/* The route of the first dosage instruction (a MedicationAdministration: its dosage) as
 * text ("" when none stated). */
static void route_text(const json_object *mr, char *buf, size_t cap)
{
    json_object *dis = json_get_arr(mr, "dosageInstruction");
    json_object *route = dis != NULL && json_object_array_length(dis) > 0
                             ? json_get_obj(json_object_array_get_idx(dis, 0), "route")
                             : json_get_obj(json_get_obj(mr, "dosage"), "route");
    const char *text = json_get_str(route, "text");
    json_object *codings = json_get_arr(route, "coding");
    const char *display = NULL;
    const char *code = NULL;
    if (codings != NULL && json_object_array_length(codings) > 0) {
        display = json_get_str(json_object_array_get_idx(codings, 0), "display");
        code = json_get_str(json_object_array_get_idx(codings, 0), "code");
    }
    snprintf(buf, cap, "%s %s %s", text ? text : "", display ? display : "", code ? code : "");
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
                      struct lh_table *meds_by_id, struct view_med *med)
{
    struct drug_match m = {NULL, 0, -1, false};
    json_object *cc = json_get_obj(mr, "medicationCodeableConcept");
    json_object *medication = cc == NULL ? referenced_medication(mr, meds_by_id) : NULL;
    char route[VIEW_LABEL_MAX * 3];

    if (cc != NULL)
        match_cc(t, cc, &m);
    else if (medication != NULL)
        match_medication(t, medication, &m);
    if (m.drug == NULL && cc != NULL)
        match_text(t, cc, &m);
    if (m.drug == NULL)
        return -1;
    memset(med, 0, sizeof *med);
    med->drug = m.drug;
    med->classes = m.classes;
    med->id = json_get_str(mr, "id");
    copy_label(med->label, cc != NULL ? cc : json_get_obj(medication, "code"), m.drug);
    route_text(mr, route, sizeof route);
    med->systemic = term_route_systemic(t, route);
    med->intravenous = term_route_intravenous(t, route) || term_route_intravenous(t, med->label);
    if (m.drug->iv_only && m.by_name && !med->intravenous)
        return -1; /* "immune globulin" by name counts as IVIG only when given IV */
    med->start_day = -1;
    fhir_date_days(json_get_str(mr, "authoredOn"), &med->start_day);
    fill_dose(med, mr, medication, m.scd_mg);
    return 0;
}

/* view_build.h - the pieces view.c assembles the patient view from. */
#ifndef MYOCDS_CLINICAL_VIEW_BUILD_H
#define MYOCDS_CLINICAL_VIEW_BUILD_H

#include "clinical/view.h"
#include "fhir/ref.h"

#include <json-c/json.h>

/* Recognises the drug of a MedicationRequest (or MedicationAdministration) and fills med (borrowing
 * strings from mr). ix: the request's resources that references may point at (Medications;
 * borrowed), or NULL; today (days since the epoch) picks the step of a taper in effect.
 * Returns 0, or -1 when the drug is none the rules know. */
int view_med_classify(const struct terminology *t, const json_object *mr,
                      const struct fhir_index *ix, long today, struct view_med *med);

/* Systemic or not, from the best evidence mr carries (view_route.c): its route, the dose
 * form in the drug's names, medication's form (the resolved Medication, or NULL), the
 * instructions, then drug's unstated_form. Sets *intravenous when the route's words name
 * the IV route. */
enum route_class view_med_route(const struct terminology *t, const json_object *mr,
                                const json_object *medication, const struct term_drug *drug,
                                bool *intravenous);

/* Reads one Observation into v->labs (view_labs.c): kept when it is the latest counting
 * result of its kind (see view_labs.c). obs is borrowed; nothing of it is kept. */
void view_add_observation(struct patient_view *v, const struct terminology *t,
                          const json_object *obs);

/* Reads the answer, interpretation and reference range of obs into lab (view_lab_flags.c),
 * after its value: lab->unit is the unit its range must be in. obs is borrowed. */
void view_lab_read_flags(const struct terminology *t, enum lab_kind kind, const json_object *obs,
                         struct view_lab *lab);

/* Records a live draft ServiceRequest (view_labs.c): v->lab_ordered gets the kind of each
 * coding the terminology knows, v->test_names its code.text and coding displays (borrowed
 * from sr, which must outlive v). */
void view_add_test_order(struct patient_view *v, const struct terminology *t,
                         const json_object *sr);

/* Appends a copy of med to v->meds. Returns 0, or -1 when out of memory. */
int view_push_med(struct patient_view *v, const struct view_med *med);

/* The days s gives drug's effect after its last dose, or -1 when it lasts no longer. */
double view_lasting_days(const struct view_settings *s, const struct term_drug *drug);

/* After the walk (view_course.c): adds the lasting agents of v->past to v->meds, links the
 * consecutive orders of each glucocorticoid into courses. Returns 0, or -1 when out of
 * memory. */
int view_settle(struct patient_view *v, const struct view_settings *s);

/* What mr's reasonCode / reasonReference says it treats (view_reason.c): Conditions it
 * references are looked up in ix (borrowed, may be NULL). */
enum med_reason view_med_reason(const struct terminology *t, const json_object *mr,
                                const struct fhir_index *ix);

#endif

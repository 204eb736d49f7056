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

/* Records a live draft ServiceRequest (view_labs.c): v->lab_ordered gets the kind of each
 * coding the terminology knows, v->test_names its code.text and coding displays (borrowed
 * from sr, which must outlive v). */
void view_add_test_order(struct patient_view *v, const struct terminology *t,
                         const json_object *sr);

#endif

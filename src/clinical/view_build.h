/* view_build.h - the pieces view.c assembles the patient view from. */
#ifndef MYOCDS_CLINICAL_VIEW_BUILD_H
#define MYOCDS_CLINICAL_VIEW_BUILD_H

#include "clinical/view.h"

#include <json-c/json.h>
#include <json-c/linkhash.h>

/* Recognises the drug of a MedicationRequest (or MedicationAdministration) and fills med (borrowing
 * strings from mr). meds_by_id: Medication resources by id (borrowed keys and values), or NULL.
 * Returns 0, or -1 when the drug is none the rules know. */
int view_med_classify(const struct terminology *t, const json_object *mr,
                      struct lh_table *meds_by_id, struct view_med *med);

#endif

/* fhir.h - small readers for FHIR R4 JSON: codings, references, Bundles, dates.
 *
 * All of them take borrowed json-c pointers and return borrowed pointers or values.
 */
#ifndef MYOCDS_FHIR_FHIR_H
#define MYOCDS_FHIR_FHIR_H

#include <json-c/json.h>
#include <stdbool.h>

#define FHIR_SYS_SNOMED "http://snomed.info/sct"
#define FHIR_SYS_ICD10CM "http://hl7.org/fhir/sid/icd-10-cm"
#define FHIR_SYS_RXNORM "http://www.nlm.nih.gov/research/umls/rxnorm"
#define FHIR_SYS_LOINC "http://loinc.org"

/* resourceType of a resource, or NULL. */
const char *fhir_type(const json_object *res);

/* Where a resource was found: its Bundle entry's fullUrl and search.mode (each NULL when
 * absent, or for a resource that is not in a Bundle). Borrowed. */
struct fhir_entry {
    const char *full_url;
    const char *mode; /* "match", "include"; "outcome" entries are never passed */
};

/* Calls fn for each resource in v: v may be a single resource, a Bundle (entry[].resource),
 * or NULL; type is the resource's resourceType (borrowed from res), looked up once here.
 * Resources without one, entries without a resource and entries whose search.mode is
 * "outcome" (an OperationOutcome about the search, not a record) are skipped. Stops early
 * when fn returns non-zero and returns that value. */
typedef int (*fhir_each_fn)(json_object *res, const char *type, const struct fhir_entry *entry,
                            void *ctx);
int fhir_each_resource(json_object *v, fhir_each_fn fn, void *ctx);

/* The code of the first coding of a CodeableConcept (member `key` of res) whose system
 * is `system`; NULL when there is none. */
const char *fhir_cc_first_code(const json_object *cc, const char *system);

/* The first `code` in status-like CodeableConcept (e.g. Condition.clinicalStatus). */
const char *fhir_status_code(const json_object *res, const char *key);

/* Reads a FHIR date/dateTime's date part (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDT...) as
 * days since 1970-01-01 (missing month/day count as the first). False when unparseable or
 * not a real date (util/civil.h). */
bool fhir_date_days(const char *s, long *days);

/* The civil date (year, month 1-12, day 1-31) of a day count since 1970-01-01. */
void fhir_civil_from_days(long days, long *year, int *month, int *day);

/* Completed years between two day counts (an age on a given day); -1 when to < from. */
int fhir_whole_years(long from, long to);

/* Days since 1970-01-01 of a Unix time. */
long fhir_days_from_epoch(long long t);

/* The id part of a reference "Type/id" (or of "#id" for contained), or NULL. */
const char *fhir_ref_id(const char *ref, const char *type);

#endif

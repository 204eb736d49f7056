/* request.h - parse and validate one CDS Hooks 2.0 service call. */
#ifndef MYOCDS_CDS_REQUEST_H
#define MYOCDS_CDS_REQUEST_H

#include "cds/services.h"
#include "myocds/myocds.h"

#include <json-c/json.h>

struct cds_request {
    json_object *root; /* the parsed body, owned */
    enum cds_hook hook;
    const char *hook_instance; /* borrowed from root, like every pointer below */
    const char *fhir_server;   /* NULL when absent */
    const char *access_token;  /* fhirAuthorization.access_token, NULL when absent */
    const char *scope;         /* fhirAuthorization.scope, set whenever access_token is */
    const char *patient_id;
    const char *user_id;
    json_object *context;
    json_object *prefetch;         /* the prefetch object (created empty when absent) */
    json_object *draft_orders;     /* context.draftOrders, or NULL on patient-view */
    json_object *selections;       /* context.selections, or NULL unless order-select */
    long long expires_in;          /* fhirAuthorization.expires_in, -1 when absent */
    unsigned missing;              /* enum data_kind bits still missing after resolve */
    struct myocds_err missing_err; /* why the first of them is missing (412 or 503) */
};

/* Parses body and checks it against svc: 400 naming the field when invalid.
 * On success req->root is owned by req: free with cds_request_free(). */
int cds_request_parse(const char *body, size_t len, const struct cds_service *svc,
                      struct cds_request *req, struct myocds_err *err);
void cds_request_free(struct cds_request *req);

/* The reserved prefetch key under which cds_request_resolve puts the Medications it read
 * (a Bundle of type collection); no service template may use it. */
#define CDS_PREFETCH_MEDS "_medications"

/* Gives every prefetch key of svc data where it can, in one batch through opts->fetch from
 * the request's fhirServer. With an access token only what its scope permits is asked for
 * (fhir/scope.h: a read needs r, a search and its next pages s; a key not permitted is
 * missing without any request). An absent key, one holding an OperationOutcome, or a Bundle
 * with an error or fatal OperationOutcome entry is fetched whole; a Bundle with a next
 * link gets the rest of its pages appended (the next link must lie under fhirServer).
 * With an access token, the Medications that the MedicationRequests of the draft orders
 * and the prefetch point at and the request does not hold (relative, or absolute under
 * fhirServer; at most 16; when the scope permits Medication reads) are read too, into
 * prefetch[CDS_PREFETCH_MEDS]; a failed read marks nothing missing. A key that stays without (all
 * its) data sets its data kind in req->missing and req->missing_err says why (412: not obtainable;
 * 503: the FHIR server failed). Returns 0, or negative only on the service's own failure. */
int cds_request_resolve(struct cds_request *req, const struct cds_service *svc,
                        const struct myocds_eval_opts *opts, struct myocds_err *err);

/* Renders a prefetch template ({{context.x}}, {{userPractitionerId}}...) into buf with
 * URL-encoded values. Returns 0, or -1 when a token has no value or buf is too small. */
int cds_render_template(const struct cds_request *req, const char *tmpl, char *buf, size_t cap);

#endif

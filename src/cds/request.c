/* request.c - parse and validate one CDS Hooks 2.0 service call.
 *
 * Messages name the field, never its value: values may be patient data.
 */
#include "cds/request.h"

#include "fhir/fhir.h"
#include "util/json.h"

#include <string.h>
#include <strings.h>

#define HOOK_INSTANCE_MAX 128

static int need_str(json_object *obj, const char *key, const char *where, const char **out,
                    struct myocds_err *err)
{
    *out = json_get_str(obj, key);
    if (*out == NULL)
        return myocds_err_set(err, 400, "%s%s is required and must be a non-empty string", where,
                              key);
    return 0;
}

static int check_auth(struct cds_request *req, struct myocds_err *err)
{
    json_object *auth = NULL;
    if (!json_object_object_get_ex(req->root, "fhirAuthorization", &auth) || auth == NULL)
        return 0;
    const char *s = NULL;
    if (!json_object_is_type(auth, json_type_object))
        return myocds_err_set(err, 400, "fhirAuthorization must be an object");
    if (req->fhir_server == NULL)
        return myocds_err_set(err, 400, "fhirServer is required with fhirAuthorization");
    static const char *const fields[] = {"access_token", "token_type", "scope", "subject"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (need_str(auth, fields[i], "fhirAuthorization.", &s, err) != 0)
            return -400;
    if (strcasecmp(json_get_str(auth, "token_type"), "Bearer") != 0)
        return myocds_err_set(err, 400, "fhirAuthorization.token_type must be Bearer");
    if (json_get(auth, "expires_in", json_type_int) == NULL)
        return myocds_err_set(err, 400, "fhirAuthorization.expires_in must be an integer");
    req->access_token = json_get_str(auth, "access_token");
    req->scope = json_get_str(auth, "scope");
    req->expires_in = json_object_get_int64(json_get(auth, "expires_in", json_type_int));
    return 0;
}

static int check_context(struct cds_request *req, struct myocds_err *err)
{
    const char *s = NULL;
    req->context = json_get_obj(req->root, "context");
    if (req->context == NULL)
        return myocds_err_set(err, 400, "context is required and must be an object");
    if (need_str(req->context, "userId", "context.", &req->user_id, err) != 0 ||
        need_str(req->context, "patientId", "context.", &req->patient_id, err) != 0)
        return -400;
    if (req->hook == HOOK_PATIENT_VIEW)
        return 0;
    req->draft_orders = json_get_obj(req->context, "draftOrders");
    if (req->draft_orders == NULL || fhir_type(req->draft_orders) == NULL ||
        strcmp(fhir_type(req->draft_orders), "Bundle") != 0)
        return myocds_err_set(err, 400, "context.draftOrders is required and must be a Bundle");
    if (req->hook == HOOK_ORDER_SIGN)
        return 0;
    req->selections = json_get_arr(req->context, "selections");
    size_t n = req->selections != NULL ? json_object_array_length(req->selections) : 0;
    if (n == 0)
        return myocds_err_set(err, 400, "context.selections is required: a non-empty array");
    for (size_t i = 0; i < n; i++)
        if (!json_object_is_type(json_object_array_get_idx(req->selections, i), json_type_string))
            return myocds_err_set(err, 400, "context.selections[%zu] must be a string", i);
    (void)s;
    return 0;
}

static int check_prefetch(struct cds_request *req, struct myocds_err *err)
{
    json_object *p = NULL;
    if (!json_object_object_get_ex(req->root, "prefetch", &p) || p == NULL) {
        req->prefetch = json_object_new_object();
        if (req->prefetch == NULL)
            return myocds_err_set(err, 500, "out of memory");
        json_object_object_add(req->root, "prefetch", req->prefetch);
        return 0;
    }
    if (!json_object_is_type(p, json_type_object))
        return myocds_err_set(err, 400, "prefetch must be an object");
    json_object_object_foreach(p, key, value)
    {
        if (value != NULL && !json_object_is_type(value, json_type_object))
            return myocds_err_set(err, 400, "prefetch.%.40s must be a resource or null", key);
    }
    req->prefetch = p;
    return 0;
}

static int check_root(struct cds_request *req, const struct cds_service *svc,
                      struct myocds_err *err)
{
    const char *hook = NULL;
    json_object *fs = NULL;
    if (!json_object_is_type(req->root, json_type_object))
        return myocds_err_set(err, 400, "the request must be a JSON object");
    if (need_str(req->root, "hook", "", &hook, err) != 0 ||
        need_str(req->root, "hookInstance", "", &req->hook_instance, err) != 0)
        return -400;
    if (strlen(req->hook_instance) > HOOK_INSTANCE_MAX)
        return myocds_err_set(err, 400, "hookInstance is too long");
    if (cds_hook_from_name(hook) != (int)svc->hook)
        return myocds_err_set(err, 400, "hook does not match this service (it serves %s)",
                              cds_hook_name(svc->hook));
    req->hook = svc->hook;
    if (json_object_object_get_ex(req->root, "fhirServer", &fs) && fs != NULL &&
        (req->fhir_server = json_get_str(req->root, "fhirServer")) == NULL)
        return myocds_err_set(err, 400, "fhirServer must be a URL string");
    return 0;
}

int cds_request_parse(const char *body, size_t len, const struct cds_service *svc,
                      struct cds_request *req, struct myocds_err *err)
{
    memset(req, 0, sizeof *req);
    req->expires_in = -1;
    req->root = json_parse_strict(body, len, err);
    if (req->root == NULL)
        return err != NULL ? -err->http_status : MYOCDS_E_BAD_REQUEST;
    int rc = check_root(req, svc, err);
    if (rc == 0)
        rc = check_auth(req, err);
    if (rc == 0)
        rc = check_context(req, err);
    if (rc == 0)
        rc = check_prefetch(req, err);
    if (rc != 0)
        cds_request_free(req);
    return rc;
}

void cds_request_free(struct cds_request *req)
{
    json_object_put(req->root);
    req->root = NULL;
}

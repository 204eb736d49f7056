/* prefetch.c - make sure every prefetch key has data, fetching what the EHR left out.
 *
 * A key that is absent, or holds an OperationOutcome (the EHR's own fetch failed), is
 * missing. null means "no data" and is fine. Missing keys go through the fetcher seam
 * (opts->fetch); without one, or without a fhirServer, the answer is 412.
 */
#include "cds/request.h"
#include "fhir/fhir.h"
#include "fhir/json.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#define PREFETCH_URL_MAX 2048
#define PREFETCH_KEYS_MAX 16

/* The value of one template token, or NULL. */
static const char *token_value(const struct cds_request *req, const char *name, size_t n)
{
    static const struct {
        const char *token;
        const char *type;
    } user[] = {{"userPractitionerId", "Practitioner"},
                {"userPractitionerRoleId", "PractitionerRole"},
                {"userPatientId", "Patient"},
                {"userRelatedPersonId", "RelatedPerson"}};
    char key[64];
    if (n > 8 && strncmp(name, "context.", 8) == 0 && n - 8 < sizeof key) {
        memcpy(key, name + 8, n - 8);
        key[n - 8] = '\0';
        return json_get_str(req->context, key);
    }
    for (size_t i = 0; i < sizeof user / sizeof user[0]; i++)
        if (strlen(user[i].token) == n && strncmp(name, user[i].token, n) == 0)
            return fhir_ref_id(req->user_id, user[i].type);
    return NULL;
}

int cds_render_template(const struct cds_request *req, const char *tmpl, char *buf, size_t cap)
{
    size_t len = 0;
    for (const char *p = tmpl; *p != '\0';) {
        const char *open = strstr(p, "{{");
        const char *close = open != NULL ? strstr(open, "}}") : NULL;
        size_t lit = open != NULL && close != NULL ? (size_t)(open - p) : strlen(p);
        if (len + lit >= cap)
            return -1;
        memcpy(buf + len, p, lit);
        len += lit;
        if (open == NULL || close == NULL)
            break;
        const char *value = token_value(req, open + 2, (size_t)(close - open - 2));
        char *escaped = value != NULL ? curl_easy_escape(NULL, value, 0) : NULL;
        size_t n = escaped != NULL ? strlen(escaped) : 0;
        if (escaped == NULL || len + n >= cap) {
            curl_free(escaped);
            return -1;
        }
        memcpy(buf + len, escaped, n);
        len += n;
        curl_free(escaped);
        p = close + 2;
    }
    buf[len] = '\0';
    return 0;
}

static bool has_data(json_object *prefetch, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(prefetch, key, &v))
        return false;
    if (v == NULL)
        return true; /* null: the EHR found no data */
    const char *type = fhir_type(v);
    return type == NULL || strcmp(type, "OperationOutcome") != 0;
}

/* The kind of data a template asks for, from the resource type it starts with. */
static unsigned template_kind(const char *tmpl)
{
    static const struct {
        const char *prefix;
        unsigned kind;
    } kinds[] = {{"Patient/", DATA_PATIENT},
                 {"Condition?", DATA_CONDITIONS},
                 {"MedicationRequest?", DATA_MEDICATIONS},
                 {"Observation?", DATA_OBSERVATIONS},
                 {"AllergyIntolerance?", DATA_ALLERGIES},
                 {"Procedure?", DATA_PROCEDURES},
                 {"ServiceRequest?", DATA_PROCEDURES}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strncmp(tmpl, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
            return kinds[i].kind;
    return 0;
}

/* Records that key stays without data; the first reason is kept for the answer. */
static void mark_missing(struct cds_request *req, const char *tmpl, int status, const char *key,
                         const char *why)
{
    if (req->missing == 0 || (status == 503 && req->missing_err.http_status != 503))
        myocds_err_set(&req->missing_err, status, "prefetch '%.40s' %s", key, why);
    req->missing |= template_kind(tmpl);
}

/* Why nothing can be fetched for this request, or NULL when a fetch may be tried. */
static const char *no_fetch_reason(const struct cds_request *req,
                                   const struct myocds_eval_opts *opts)
{
    if (opts == NULL || opts->fetch == NULL)
        return "is missing and this run does not fetch";
    if (req->fhir_server == NULL)
        return "is missing and the request names no fhirServer";
    if (req->access_token != NULL && req->expires_in <= 0)
        return "is missing and the access token has expired";
    return NULL;
}

static void take_results(struct cds_request *req, const struct cds_service *svc,
                         struct myocds_fetch_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_object *tmpl = json_get(svc->prefetch, items[i].key, json_type_string);
        if (items[i].status == 0 && items[i].result != NULL) {
            json_object_object_add(req->prefetch, items[i].key, items[i].result);
            items[i].result = NULL;
            continue;
        }
        json_object_put(items[i].result);
        bool down = items[i].status == MYOCDS_E_UNAVAILABLE;
        char why[120];
        snprintf(why, sizeof why, "could not be fetched: %s",
                 items[i].reason != NULL ? items[i].reason
                 : down                  ? "the FHIR server failed"
                                         : "the FHIR server refused");
        mark_missing(req, json_object_get_string(tmpl), down ? 503 : 412, items[i].key, why);
    }
}

int cds_request_resolve(struct cds_request *req, const struct cds_service *svc,
                        const struct myocds_eval_opts *opts, struct myocds_err *err)
{
    struct myocds_fetch_item items[PREFETCH_KEYS_MAX];
    char urls[PREFETCH_KEYS_MAX][PREFETCH_URL_MAX];
    size_t n = 0;
    const char *no_fetch = no_fetch_reason(req, opts);
    if (svc->prefetch == NULL)
        return 0; /* json-c's foreach must not see NULL */
    json_object_object_foreach(svc->prefetch, key, tmpl)
    {
        const char *t = json_object_get_string(tmpl);
        if (has_data(req->prefetch, key))
            continue;
        if (no_fetch != NULL || n == PREFETCH_KEYS_MAX)
            mark_missing(req, t, 412, key, no_fetch != NULL ? no_fetch : "is one too many");
        else if (cds_render_template(req, t, urls[n], sizeof urls[n]) != 0)
            mark_missing(req, t, 412, key, "cannot be rendered from the context");
        else {
            items[n] = (struct myocds_fetch_item){key, urls[n], NULL, 0, NULL};
            n++;
        }
    }
    if (n == 0)
        return 0;
    struct myocds_fetch_batch batch = {req->fhir_server, req->access_token, req->expires_in, items,
                                       n};
    if (opts->fetch(opts->fetch_ctx, &batch, err) != 0) {
        for (size_t i = 0; i < n; i++)
            json_object_put(items[i].result);
        return err != NULL && err->http_status != 0 ? -err->http_status : MYOCDS_E_INTERNAL;
    }
    take_results(req, svc, items, n);
    return 0;
}

/* prefetch.c - make sure every prefetch key has data, fetching what the EHR left out.
 *
 * A key that is absent, or holds an OperationOutcome (the EHR's own fetch failed), is
 * missing. null means "no data" and is fine. Missing keys go through the fetcher seam
 * (opts->fetch); without one, or without a fhirServer, the answer is 412.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "cds/request.h"
#include "fhir/fhir.h"
#include "fhir/json.h"

#define PREFETCH_URL_MAX 2048

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

int cds_request_resolve(struct cds_request *req, const struct cds_service *svc,
                        const struct myocds_eval_opts *opts, struct myocds_err *err)
{
    json_object_object_foreach(svc->prefetch, key, tmpl)
    {
        char url[PREFETCH_URL_MAX];
        json_object *fetched = NULL;
        if (has_data(req->prefetch, key))
            continue;
        if (opts == NULL || opts->fetch == NULL || req->fhir_server == NULL)
            return myocds_err_set(err, 412,
                                  "prefetch '%.40s' is missing and no FHIR server can be asked",
                                  key);
        if (cds_render_template(req, json_object_get_string(tmpl), url, sizeof url) != 0)
            return myocds_err_set(err, 412, "prefetch '%.40s' cannot be rendered", key);
        int rc = opts->fetch(opts->fetch_ctx, req->fhir_server, req->access_token, url,
                             &fetched, err);
        if (rc != 0)
            return rc;
        json_object_object_add(req->prefetch, key, fetched);
    }
    return 0;
}

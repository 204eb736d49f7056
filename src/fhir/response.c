/* response.c - what a FHIR server's answer means, and Bundle paging.
 *
 * Fail quiet, not wrong: anything but a well-formed resource of the expected type is no
 * data. A refusal (the server will not give it) is 412; a failure (it could not) is 503.
 */
#include "fhir/client.h"
#include "fhir/fhir.h"
#include "fhir/ref.h"
#include "util/json.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool fhir_url_absolute(const char *url)
{
    return url != NULL &&
           (strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0);
}

/* An absolute URL without a query that ends in Type/id[/_history/v] is a read of that
 * type; any other (a search, a next page) answers a Bundle. */
static void abs_type(const char *url, char *buf, size_t cap)
{
    struct fhir_ref ref;
    if (strchr(url, '?') == NULL && fhir_ref_parse(url, &ref) && ref.kind == FHIR_REF_ABSOLUTE)
        snprintf(buf, cap, "%s", ref.type);
    else
        snprintf(buf, cap, "Bundle");
}

void fhir_rel_type(const char *rel, char *buf, size_t cap)
{
    size_t n = strcspn(rel, "/?");
    buf[0] = '\0';
    if (fhir_url_absolute(rel))
        abs_type(rel, buf, cap);
    else if (rel[n] == '?')
        snprintf(buf, cap, "Bundle");
    else if (rel[n] == '/' && n > 0 && n < cap)
        snprintf(buf, cap, "%.*s", (int)n, rel);
}

/* The outcome of a non-2xx status. */
static int classify_status(long code, const char **why)
{
    if (code == 429 || code >= 500) {
        *why = code == 429 ? "HTTP 429" : "HTTP 5xx";
        return MYOCDS_E_UNAVAILABLE;
    }
    if (code == 401 || code == 403)
        *why = "HTTP 401/403: not authorised";
    else if (code == 404 || code == 410)
        *why = "HTTP 404/410: not found";
    else if (code >= 300 && code < 400)
        *why = "HTTP 3xx: redirects are not followed";
    else
        *why = "HTTP 4xx: refused";
    return MYOCDS_E_PRECONDITION;
}

int fhir_response_classify(bool transport_ok, long code, const char *body, size_t len,
                           const char *want, json_object **out, const char **why)
{
    *out = NULL;
    if (!transport_ok) {
        *why = "transfer failed";
        return MYOCDS_E_UNAVAILABLE;
    }
    if (code < 200 || code > 299)
        return classify_status(code, why);
    json_object *res = body != NULL ? json_parse_strict(body, len, NULL) : NULL;
    const char *type = fhir_type(res);
    int rc = MYOCDS_E_UNAVAILABLE;
    if (res == NULL)
        *why = "invalid JSON";
    else if (type == NULL)
        *why = "not a FHIR resource";
    else if (strcmp(type, "OperationOutcome") == 0) {
        *why = "OperationOutcome";
        rc = MYOCDS_E_PRECONDITION;
    } else if (want != NULL && want[0] != '\0' && strcmp(type, want) != 0)
        *why = "unexpected resourceType";
    else if (strcmp(type, "Bundle") == 0 && json_object_object_get_ex(res, "entry", NULL) &&
             json_get_arr(res, "entry") == NULL)
        *why = "Bundle.entry is not an array";
    else
        rc = 0;
    if (rc == 0) {
        *why = "ok";
        *out = res;
    } else {
        json_object_put(res);
    }
    return rc;
}

const char *fhir_bundle_next(const json_object *bundle)
{
    json_object *links = json_get_arr(bundle, "link");
    size_t n = links != NULL ? json_object_array_length(links) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *l = json_object_array_get_idx(links, i);
        const char *rel = json_get_str(l, "relation");
        if (rel != NULL && strcmp(rel, "next") == 0)
            return json_get_str(l, "url");
    }
    return NULL;
}

int fhir_bundle_append(json_object *acc, json_object *page)
{
    json_object *from = json_get_arr(page, "entry");
    json_object *to = json_get_arr(acc, "entry");
    size_t n = from != NULL ? json_object_array_length(from) : 0;
    if (n == 0)
        return 0;
    if (to == NULL) {
        to = json_object_new_array_ext((int)n);
        if (to == NULL || json_object_object_add(acc, "entry", to) != 0) {
            json_object_put(to);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(from, i);
        if (json_object_array_add(to, json_object_get(e)) != 0) {
            json_object_put(e);
            return -1;
        }
    }
    return 0;
}

void fhir_bundle_merged(json_object *acc)
{
    json_object_object_del(acc, "link");
    json_object_object_del(acc, "total"); /* a page's total may count what was not sent */
}

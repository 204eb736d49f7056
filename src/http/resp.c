/* resp.c - the two ways to fill an answer: a JSON text, or an error as a FHIR R4
 * OperationOutcome (see http.h); and the one table from an HTTP status to its FHIR
 * IssueType code. */
#include "http/http.h"
#include "util/json.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* Every error status the service sends, and its code from the FHIR R4 IssueType value
 * set (http://hl7.org/fhir/R4/valueset-issue-type.html). docs/INSTALL.md shows the same
 * table. */
static const struct {
    int status;
    const char *code;
} issue_codes[] = {
    {400, "invalid"},       /* malformed JSON, a missing or wrong field */
    {401, "login"},         /* no bearer token, or one that failed a check */
    {403, "forbidden"},     /* not sent today; kept so it never falls to a guess */
    {404, "not-found"},     /* unknown path or service */
    {405, "not-supported"}, /* wrong method (Allow says which) */
    {412, "processing"},    /* prefetch data missing and not obtainable */
    {413, "too-costly"},    /* body over http.max_body_bytes */
    {415, "not-supported"}, /* not application/json */
    {429, "throttled"},     /* not sent today */
    {500, "exception"},     /* a fault of the service */
    {503, "transient"},     /* queue full, waited too long, client gone, shutting down */
};

const char *http_issue_code(int status)
{
    for (size_t i = 0; i < sizeof issue_codes / sizeof issue_codes[0]; i++)
        if (issue_codes[i].status == status)
            return issue_codes[i].code;
    return status >= 500 ? "exception" : "invalid";
}

void http_resp_json(struct http_resp *resp, int status, const char *json, size_t len)
{
    free(resp->body);
    resp->body = malloc(len + 1);
    if (resp->body == NULL) {
        resp->status = 500;
        resp->len = 0;
        return;
    }
    memcpy(resp->body, json, len);
    resp->body[len] = '\0';
    resp->len = len;
    resp->status = status;
    resp->content_type = NULL;
}

/* {"resourceType":"OperationOutcome","issue":[{"severity":"error","code":...,
 * "diagnostics":msg}]}, owned by the caller (json_object_put); NULL when out of memory. */
static json_object *outcome_new(int status, const char *msg)
{
    json_object *o = json_object_new_object();
    json_object *issues = json_object_new_array();
    json_object *issue = json_object_new_object();
    if (o == NULL || issues == NULL || issue == NULL) {
        json_object_put(o);
        json_object_put(issues);
        json_object_put(issue);
        return NULL;
    }
    json_object_object_add(issue, "severity", json_object_new_string("error"));
    json_object_object_add(issue, "code", json_object_new_string(http_issue_code(status)));
    json_object_object_add(issue, "diagnostics",
                           json_object_new_string(msg != NULL && msg[0] != '\0' ? msg : "error"));
    json_object_array_add(issues, issue);
    json_object_object_add(o, "resourceType", json_object_new_string("OperationOutcome"));
    json_object_object_add(o, "issue", issues);
    return o;
}

void http_resp_error(struct http_resp *resp, int status, const char *msg)
{
    json_object *o = outcome_new(status, msg);
    char *text = NULL;
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
    resp->status = status;
    resp->content_type = NULL;
    if (o != NULL) {
        text = json_dump(o, &resp->len);
        json_object_put(o);
    }
    resp->body = text; /* NULL when out of memory: the status alone still goes out */
    if (text == NULL)
        resp->len = 0;
}

/* test_resp.c - the error answer: a FHIR R4 OperationOutcome with the issue code of its
 * status, the message JSON-escaped as its diagnostics, nothing else in it. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "http/http.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* resp's body parsed (the caller puts it); fails unless it is one OperationOutcome of one
 * error issue with code and diagnostics. */
static json_object *outcome_of(const struct http_resp *resp, const char *code, const char *diag)
{
    assert_non_null(resp->body);
    assert_int_equal(strlen(resp->body), resp->len);
    json_object *o = json_tokener_parse(resp->body);
    json_object *v, *issue;
    assert_non_null(o);
    assert_int_equal(json_object_object_length(o), 2);
    assert_true(json_object_object_get_ex(o, "resourceType", &v));
    assert_string_equal(json_object_get_string(v), "OperationOutcome");
    assert_true(json_object_object_get_ex(o, "issue", &v));
    assert_int_equal(json_object_array_length(v), 1);
    issue = json_object_array_get_idx(v, 0);
    assert_int_equal(json_object_object_length(issue), 3);
    assert_true(json_object_object_get_ex(issue, "severity", &v));
    assert_string_equal(json_object_get_string(v), "error");
    assert_true(json_object_object_get_ex(issue, "code", &v));
    assert_string_equal(json_object_get_string(v), code);
    assert_true(json_object_object_get_ex(issue, "diagnostics", &v));
    assert_string_equal(json_object_get_string(v), diag);
    return o;
}

static void test_codes(void **state)
{
    static const struct {
        int status;
        const char *code;
    } table[] = {{400, "invalid"},    {401, "login"},         {403, "forbidden"},
                 {404, "not-found"},  {405, "not-supported"}, {412, "processing"},
                 {413, "too-costly"}, {415, "not-supported"}, {429, "throttled"},
                 {500, "exception"},  {503, "transient"},     {418, "invalid"},
                 {502, "exception"}};
    (void)state;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        struct http_resp resp = {0};
        http_resp_error(&resp, table[i].status, "what was wrong");
        assert_int_equal(resp.status, table[i].status);
        assert_null(resp.content_type);
        json_object_put(outcome_of(&resp, table[i].code, "what was wrong"));
        free(resp.body);
    }
}

static void test_escaped_and_replaced(void **state)
{
    static const char msg[] = "a \"quoted\" \\ field\n\x01</script>";
    struct http_resp resp = {0};
    (void)state;
    http_resp_json(&resp, 200, "{}", 2);
    http_resp_error(&resp, 400, msg); /* replaces the body it had */
    json_object_put(outcome_of(&resp, "invalid", msg));
    http_resp_error(&resp, 500, "");
    json_object_put(outcome_of(&resp, "exception", "error")); /* FHIR strings are never empty */
    free(resp.body);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_escaped_and_replaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

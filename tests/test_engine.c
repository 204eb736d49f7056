/* test_engine.c - the engine end to end in-process: validation answers, prefetch seam,
 * and the shape of the cards for a real request. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "fhir/json.h"
#include "myocds/myocds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct myocds_engine *engine;

#define PATIENT "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"birthDate\":\"1970-05-01\"}"
#define PM_CONDITIONS                                                                              \
    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":{"               \
    "\"resourceType\":\"Condition\",\"id\":\"c1\",\"code\":{\"coding\":[{\"system\":"              \
    "\"http://snomed.info/sct\",\"code\":\"31384009\",\"display\":\"Polymyositis\"}]}}}]}"
#define PRED60                                                                                     \
    "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":"                     \
    "\"MedicationRequest\",\"id\":\"d1\",\"status\":\"draft\",\"intent\":\"order\","               \
    "\"medicationCodeableConcept\":{\"coding\":[{\"system\":"                                      \
    "\"http://www.nlm.nih.gov/research/umls/rxnorm\",\"code\":\"8640\"}],\"text\":"                \
    "\"prednisone 60 mg daily\"},\"dosageInstruction\":[{\"timing\":{\"repeat\":{"                 \
    "\"frequency\":1,\"period\":1,\"periodUnit\":\"d\"}},\"doseAndRate\":[{\"doseQuantity\":{"     \
    "\"value\":60,\"unit\":\"mg\"}}]}]}}]}"

static char *request(const char *hook, const char *extra_prefetch, bool with_conditions)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "{\"hook\":\"%s\",\"hookInstance\":\"6a7c1f3e-0d5b-4c8e-9a53-2f4a7d1c6e01\","
             "\"context\":{\"userId\":\"Practitioner/u1\",\"patientId\":\"p1\","
             "\"draftOrders\":" PRED60 "},\"prefetch\":{\"patient\":" PATIENT
             ",%s\"medications\":null,\"observations\":null,\"allergies\":null,"
             "\"procedures\":null,\"serviceRequests\":null%s}}",
             hook, with_conditions ? "\"conditions\":" PM_CONDITIONS "," : "", extra_prefetch);
    return buf;
}

static int eval(const char *service, const char *body, char **out, struct myocds_err *err)
{
    memset(err, 0, sizeof *err);
    return myocds_evaluate(engine, service, body, strlen(body), NULL, out, NULL, err);
}

static void test_prednisone_alone_gives_three_cards(void **state)
{
    (void)state;
    char *out = NULL;
    struct myocds_err err;
    assert_int_equal(eval("myositis-order-sign", request("order-sign", "", true), &out, &err), 0);
    json_object *doc = json_parse_strict(out, strlen(out), &err);
    json_object *cards = json_get_arr(doc, "cards");
    assert_non_null(cards);
    /* steroid-monotherapy and pjp-prophylaxis (warnings), then bone-protection (info). */
    assert_int_equal(json_object_array_length(cards), 3);
    json_object *card = json_object_array_get_idx(cards, 0);
    assert_string_equal(json_get_str(json_get_obj(json_get_obj(card, "source"), "topic"), "code"),
                        "steroid-monotherapy");
    assert_int_equal(strlen(json_get_str(card, "uuid")), 36);
    assert_string_equal(json_get_str(card, "selectionBehavior"), "at-most-one");
    json_object *s = json_object_array_get_idx(json_get_arr(card, "suggestions"), 0);
    json_object *res =
        json_get_obj(json_object_array_get_idx(json_get_arr(s, "actions"), 0), "resource");
    assert_string_equal(json_get_str(json_get_obj(res, "subject"), "reference"), "Patient/p1");
    json_object_put(doc);
    free(out);
}

/* Suggestions are written from pre-rendered templates: the patient id must go in escaped,
 * once, and every suggestion still gets its own uuid and isRecommended. */
static void test_suggestions_carry_the_patient_id_escaped(void **state)
{
    (void)state;
    static const char odd[] = "q\\\"x\\\\y/{patientId}";   /* as it is in the JSON body */
    static const char odd_value[] = "q\"x\\y/{patientId}"; /* as the service reads it */
    const char *base = request("order-sign", "", true);
    const char *at = strstr(base, "\"patientId\":\"p1\"");
    char body[8192];
    assert_non_null(at);
    snprintf(body, sizeof body, "%.*s\"patientId\":\"%s\"%s", (int)(at - base), base, odd,
             at + strlen("\"patientId\":\"p1\""));
    char *out = NULL;
    struct myocds_err err;
    assert_int_equal(eval("myositis-order-sign", body, &out, &err), 0);
    json_object *doc = json_parse_strict(out, strlen(out), &err);
    assert_non_null(doc);
    char want[128];
    snprintf(want, sizeof want, "Patient/%s", odd_value);
    json_object *cards = json_get_arr(doc, "cards");
    int seen = 0;
    for (size_t i = 0; i < json_object_array_length(cards); i++) {
        json_object *sugg = json_get_arr(json_object_array_get_idx(cards, i), "suggestions");
        for (size_t j = 0; sugg != NULL && j < json_object_array_length(sugg); j++) {
            json_object *s = json_object_array_get_idx(sugg, j);
            json_object *res =
                json_get_obj(json_object_array_get_idx(json_get_arr(s, "actions"), 0), "resource");
            assert_string_equal(json_get_str(json_get_obj(res, "subject"), "reference"), want);
            assert_int_equal(strlen(json_get_str(s, "uuid")), 36);
            assert_non_null(json_get(s, "isRecommended", json_type_boolean));
            seen++;
        }
    }
    assert_true(seen >= 2);
    json_object_put(doc);
    free(out);
}

static void test_invalid_requests_name_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int status;
        const char *field;
    } cases[] = {
        {"{\"hook\":\"order-sign\"}", 400, "hookInstance"},
        {"{\"hookInstance\":\"x\",\"hook\":\"order-sign\",\"context\":[]}", 400, "context"},
        {"{\"hookInstance\":\"x\",\"hook\":\"order-sign\",\"context\":{\"userId\":\"a\"}}", 400,
         "patientId"},
        {"{\"hookInstance\":\"x\",\"hook\":\"order-sign\",\"context\":{\"userId\":\"a\","
         "\"patientId\":\"p\"}}",
         400, "draftOrders"},
        {"[1,2]", 400, "object"},
        {"{\"a\":1} x", 400, "invalid JSON"},
        {"{\"hook\":\"order-sign\",\"hookInstance\":\"x\",\"fhirAuthorization\":{}}", 400,
         "fhirServer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        struct myocds_err err;
        print_message("case %zu\n", i);
        assert_int_equal(eval("myositis-order-sign", cases[i].body, &out, &err), -cases[i].status);
        assert_null(out);
        assert_int_equal(err.http_status, cases[i].status);
        assert_non_null(strstr(err.msg, cases[i].field));
    }
}

static void test_hook_mismatch_and_unknown_service(void **state)
{
    (void)state;
    char *out = NULL;
    struct myocds_err err;
    assert_int_equal(eval("myositis-order-sign", request("order-select", "", true), &out, &err),
                     -400);
    assert_non_null(strstr(err.msg, "hook"));
    assert_int_equal(eval("no-such-service", request("order-sign", "", true), &out, &err), -404);
}

static void test_missing_prefetch_without_server_is_412(void **state)
{
    (void)state;
    char *out = NULL;
    struct myocds_err err;
    assert_int_equal(eval("myositis-order-sign", request("order-sign", "", false), &out, &err),
                     -412);
    assert_non_null(strstr(err.msg, "conditions"));
}

/* A fetcher that serves the conditions Bundle (or fails as told), recording the call. */
static char asked[256];
static int fetch_outcome;
static int fake_fetch(void *ctx, struct myocds_fetch_batch *batch, struct myocds_err *err)
{
    (void)ctx;
    snprintf(asked, sizeof asked, "%s %zu %s", batch->fhir_server, batch->n,
             batch->items[0].relative_url);
    for (size_t i = 0; i < batch->n; i++) {
        batch->items[i].status = fetch_outcome;
        if (fetch_outcome == 0)
            batch->items[i].result = json_parse_strict(PM_CONDITIONS, strlen(PM_CONDITIONS), err);
    }
    return 0;
}

static int eval_with_server(const char *auth, char **out, struct myocds_err *err)
{
    static char body[16384];
    const struct myocds_eval_opts opts = {fake_fetch, NULL, NULL, NULL, 0};
    snprintf(body, sizeof body, "{\"fhirServer\":\"https://ehr.example.org/r4\",%s%s", auth,
             request("order-sign", "", false) + 1);
    memset(err, 0, sizeof *err);
    asked[0] = '\0';
    return myocds_evaluate(engine, "myositis-order-sign", body, strlen(body), &opts, out, NULL,
                           err);
}

static void test_missing_prefetch_goes_through_the_fetcher(void **state)
{
    (void)state;
    char *out = NULL;
    struct myocds_err err;
    fetch_outcome = 0;
    assert_int_equal(eval_with_server("", &out, &err), 0);
    assert_string_equal(asked, "https://ehr.example.org/r4 1 Condition?patient=p1");
    assert_non_null(strstr(out, "steroid-monotherapy"));
    free(out);
}

static void test_fetch_failures_answer_412_or_503(void **state)
{
    (void)state;
    char *out = NULL;
    struct myocds_err err;
    fetch_outcome = MYOCDS_E_UNAVAILABLE;
    assert_int_equal(eval_with_server("", &out, &err), -503);
    assert_non_null(strstr(err.msg, "conditions"));
    fetch_outcome = MYOCDS_E_PRECONDITION;
    assert_int_equal(eval_with_server("", &out, &err), -412);
    assert_null(out);
}

static void test_expired_token_is_not_used(void **state)
{
    (void)state;
    char *out = NULL;
    struct myocds_err err;
    fetch_outcome = 0;
    assert_int_equal(eval_with_server("\"fhirAuthorization\":{\"access_token\":\"t\","
                                      "\"token_type\":\"Bearer\",\"expires_in\":0,"
                                      "\"scope\":\"s\",\"subject\":\"c\"},",
                                      &out, &err),
                     -412);
    assert_string_equal(asked, "");
    assert_non_null(strstr(err.msg, "expired"));
}

/* Without allergies pjp-prophylaxis cannot choose its suggestion: it does not run, and
 * the rules that can do without allergies still answer. */
static void test_rules_without_their_data_stay_silent(void **state)
{
    (void)state;
    char body[16384];
    char *out = NULL;
    struct myocds_err err = {0};
    snprintf(body, sizeof body, "%s", request("order-sign", "", true));
    char *allergies = strstr(body, ",\"allergies\":null");
    assert_non_null(allergies);
    memmove(allergies, allergies + strlen(",\"allergies\":null"),
            strlen(allergies + strlen(",\"allergies\":null")) + 1);
    assert_int_equal(eval("myositis-order-sign", body, &out, &err), 0);
    assert_non_null(strstr(out, "steroid-monotherapy"));
    assert_null(strstr(out, "pjp-prophylaxis"));
    free(out);
}

static void test_operation_outcome_counts_as_missing(void **state)
{
    (void)state;
    char *out = NULL;
    struct myocds_err err;
    const char *oo = ",\"conditions\":{\"resourceType\":\"OperationOutcome\",\"issue\":[]}";
    assert_int_equal(eval("myositis-order-sign", request("order-sign", oo, false), &out, &err),
                     -412);
}

/* hooks/ with one change to rules.json, in a temporary folder (caller frees the engine). */
static struct myocds_engine *engine_with_switch(const char *rule, const char *service,
                                                const char *switch_json)
{
    char dir[] = "/tmp/myocds-hooks-XXXXXX";
    char path[512];
    struct myocds_err err = {0};
    struct myocds_engine *e = NULL;
    assert_non_null(mkdtemp(dir));
    json_object *rules = json_object_from_file(MYOCDS_SOURCE_DIR "/hooks/rules.json");
    json_object *sw = json_object_new_object();
    json_object_object_add(sw, service, json_tokener_parse(switch_json));
    json_object_object_add(json_get_obj(json_get_obj(rules, "rules"), rule), "services", sw);
    snprintf(path, sizeof path, "%s/rules.json", dir);
    assert_int_equal(json_object_to_file(path, rules), 0);
    json_object_put(rules);
    snprintf(path, sizeof path, "%s/terminology.json", dir);
    assert_int_equal(symlink(MYOCDS_SOURCE_DIR "/hooks/terminology.json", path), 0);
    snprintf(path, sizeof path, "%s/services", dir);
    assert_int_equal(symlink(MYOCDS_SOURCE_DIR "/hooks/services", path), 0);
    int rc = myocds_engine_load(dir, &e, &err);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
    if (rc != 0)
        fail_msg("%s", err.msg);
    return e;
}

static void test_rules_switch_per_service(void **state)
{
    (void)state;
    const char *body = request("order-sign", "", true);
    char *out = NULL;
    struct myocds_err err = {0};
    struct myocds_engine *off =
        engine_with_switch("bone-protection", "myositis-order-sign", "{\"enabled\":false}");
    assert_int_equal(
        myocds_evaluate(off, "myositis-order-sign", body, strlen(body), NULL, &out, NULL, &err), 0);
    assert_null(strstr(out, "bone-protection"));
    assert_non_null(strstr(out, "steroid-monotherapy"));
    free(out);
    myocds_engine_free(off);

    struct myocds_engine *info = engine_with_switch("steroid-monotherapy", "myositis-order-sign",
                                                    "{\"indicator\":\"info\"}");
    assert_int_equal(
        myocds_evaluate(info, "myositis-order-sign", body, strlen(body), NULL, &out, NULL, &err),
        0);
    json_object *doc = json_tokener_parse(out);
    json_object *cards = json_get_arr(doc, "cards");
    for (size_t i = 0; i < json_object_array_length(cards); i++) {
        json_object *c = json_object_array_get_idx(cards, i);
        const char *rule = json_get_str(json_get_obj(json_get_obj(c, "source"), "topic"), "code");
        if (strcmp(rule, "steroid-monotherapy") == 0)
            assert_string_equal(json_get_str(c, "indicator"), "info");
    }
    json_object_put(doc);
    free(out);
    myocds_engine_free(info);
}

static int setup(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    int rc = myocds_engine_load(MYOCDS_SOURCE_DIR "/hooks", &engine, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    myocds_engine_free(engine);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prednisone_alone_gives_three_cards),
        cmocka_unit_test(test_suggestions_carry_the_patient_id_escaped),
        cmocka_unit_test(test_invalid_requests_name_the_field),
        cmocka_unit_test(test_hook_mismatch_and_unknown_service),
        cmocka_unit_test(test_missing_prefetch_without_server_is_412),
        cmocka_unit_test(test_missing_prefetch_goes_through_the_fetcher),
        cmocka_unit_test(test_fetch_failures_answer_412_or_503),
        cmocka_unit_test(test_expired_token_is_not_used),
        cmocka_unit_test(test_rules_without_their_data_stay_silent),
        cmocka_unit_test(test_rules_switch_per_service),
        cmocka_unit_test(test_operation_outcome_counts_as_missing),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("engine", tests, setup, teardown);
}

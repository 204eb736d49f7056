/* test_engine.c - the engine end to end in-process: validation answers, prefetch seam
 * (missing keys, searchset outcomes and next pages, Medications read when missing), and
 * the shape of the cards for a real request. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "myocds/myocds.h"
#include "util/json.h"

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
    const struct myocds_eval_opts opts = {.fetch = fake_fetch};
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
                                      "\"scope\":\"patient/*.read\",\"subject\":\"c\"},",
                                      &out, &err),
                     -412);
    assert_string_equal(asked, "");
    assert_non_null(strstr(err.msg, "expired"));
}

/* The token's scope decides what is fetched: a key it does not cover is missing as one
 * the server refused, and the fetcher never sees it. */
static void test_scope_limits_the_fetch(void **state)
{
    (void)state;
    static const struct {
        const char *scope;
        bool fetched;
    } cases[] = {{"patient/Condition.rs", true},
                 {"patient/Condition.read", true},
                 {"user/Condition.s", true},
                 {"openid fhirUser patient/*.s", true},
                 {"patient/Condition.r", false},
                 {"patient/Patient.read patient/MedicationRequest.rs launch openid", false},
                 {"patient/Condition.rs?clinical-status=active", false},
                 {"patient/Condition.sr", false},
                 {"openid", false}};
    char auth[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        struct myocds_err err;
        print_message("%s\n", cases[i].scope);
        snprintf(auth, sizeof auth,
                 "\"fhirAuthorization\":{\"access_token\":\"t\",\"token_type\":\"Bearer\","
                 "\"expires_in\":300,\"scope\":\"%s\",\"subject\":\"c\"},",
                 cases[i].scope);
        fetch_outcome = 0;
        int rc = eval_with_server(auth, &out, &err);
        if (cases[i].fetched) {
            assert_int_equal(rc, 0);
            assert_string_equal(asked, "https://ehr.example.org/r4 1 Condition?patient=p1");
            assert_non_null(strstr(out, "steroid-monotherapy"));
        } else {
            assert_int_equal(rc, -412);
            assert_string_equal(asked, "");
            assert_string_equal(err.msg, "prefetch 'conditions' is missing and the access "
                                         "token's scope does not permit it");
        }
        free(out);
    }
}

/* Cuts `,"key":null` out of body (a key the EHR did not send). */
static void drop_key(char *body, const char *member)
{
    char *at = strstr(body, member);
    assert_non_null(at);
    memmove(at, at + strlen(member), strlen(at + strlen(member)) + 1);
}

/* A rule needs only what its decision needs: without allergies pjp-prophylaxis still warns
 * (and says the allergy list could not be checked); without medications the rules that
 * need them do not run, and the others still answer. */
static void test_rules_without_their_data_stay_silent(void **state)
{
    (void)state;
    char body[16384];
    char *out = NULL;
    struct myocds_err err = {0};
    snprintf(body, sizeof body, "%s", request("order-sign", "", true));
    drop_key(body, ",\"allergies\":null");
    assert_int_equal(eval("myositis-order-sign", body, &out, &err), 0);
    assert_non_null(strstr(out, "steroid-monotherapy"));
    assert_non_null(strstr(out, "pjp-prophylaxis"));
    free(out);
    out = NULL;
    snprintf(body, sizeof body, "%s", request("order-sign", "", true));
    char *meds = strstr(body, ",\"medications\":");
    assert_non_null(meds);
    char *end = strstr(meds + 1, ",\"");
    assert_non_null(end);
    memmove(meds, end, strlen(end) + 1); /* the medications key and its value */
    assert_int_equal(eval("myositis-order-sign", body, &out, &err), 0);
    assert_null(strstr(out, "steroid-monotherapy"));
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

/* ---- searchsets as real servers write them, and Medications read when missing ---------- */

#define RXNORM "\"system\":\"http://www.nlm.nih.gov/research/umls/rxnorm\""
#define MTX_CODED                                                                                  \
    "{\"resourceType\":\"MedicationRequest\",\"id\":\"m1\",\"status\":\"active\",\"intent\":"      \
    "\"order\",\"medicationCodeableConcept\":{\"coding\":[{" RXNORM ",\"code\":\"6851\"}]}}"
#define MEDICATION(id)                                                                             \
    "{\"resourceType\":\"Medication\",\"id\":\"" id "\",\"code\":{\"coding\":[{" RXNORM            \
    ",\"code\":\"6851\"}]}}"
#define SEARCHSET(entries)                                                                         \
    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[" entries "]}"
#define OUTCOME_ENTRY(severity)                                                                    \
    "{\"search\":{\"mode\":\"outcome\"},\"resource\":{\"resourceType\":\"OperationOutcome\","      \
    "\"issue\":[{\"severity\":\"" severity "\",\"code\":\"processing\"}]}}"
#define MEDS_URL "MedicationRequest?patient=p1&_include=MedicationRequest:medication"
#define SERVER "https://ehr.example.org/r4"
#define TOKEN_AUTH                                                                                 \
    "\"fhirAuthorization\":{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":300,"  \
    "\"scope\":\"patient/*.read\",\"subject\":\"c\"},"

/* A methotrexate order pointing at ref (a JSON string's content). */
static const char *mtx_by_ref(const char *ref)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"resourceType\":\"MedicationRequest\",\"id\":\"m1\",\"status\":\"active\","
             "\"intent\":\"order\",\"medicationReference\":{\"reference\":\"%s\"}}",
             ref);
    return buf;
}

/* A fetcher answering by URL from a table (an unknown URL: refused), recording every URL
 * asked for, space-separated, in routed_asked. */
struct route {
    const char *url;
    const char *body; /* NULL: fails with status */
    int status;
};
static const struct route *routes;
static size_t n_routes;
static char routed_asked[4096];
static size_t routed_n;

static int route_fetch(void *ctx, struct myocds_fetch_batch *batch, struct myocds_err *err)
{
    (void)ctx;
    assert_string_equal(batch->fhir_server, SERVER);
    for (size_t i = 0; i < batch->n; i++) {
        struct myocds_fetch_item *it = &batch->items[i];
        size_t len = strlen(routed_asked);
        snprintf(routed_asked + len, sizeof routed_asked - len, "%s%s", len > 0 ? " " : "",
                 it->relative_url);
        routed_n++;
        it->status = MYOCDS_E_PRECONDITION;
        for (size_t r = 0; r < n_routes; r++) {
            if (strcmp(routes[r].url, it->relative_url) != 0)
                continue;
            it->status = routes[r].body != NULL ? 0 : routes[r].status;
            if (routes[r].body != NULL)
                it->result = json_parse_strict(routes[r].body, strlen(routes[r].body), err);
        }
    }
    return 0;
}

/* An order-sign call for prednisone 60 (draftOrders: PRED60, plus extra_drafts entries)
 * with medications = meds (JSON) and every other key given, against SERVER; with a token
 * when asked; fetching through route_fetch when fetch. Returns myocds_evaluate's status. */
/* The fhirAuthorization eval_meds sends with a token (a test may change it and put it back). */
static const char *token_auth = TOKEN_AUTH;

static int eval_meds(const char *meds, const char *extra_drafts, bool token, bool fetch, char **out,
                     struct myocds_err *err)
{
    static char body[65536];
    const struct myocds_eval_opts opts = {.fetch = route_fetch};
    char drafts[2048];
    snprintf(drafts, sizeof drafts, "%s", PRED60);
    if (extra_drafts != NULL) /* PRED60 ends in "}]}": add entries before "]}" */
        snprintf(drafts + strlen(drafts) - 2, sizeof drafts - strlen(drafts) + 2, ",%s]}",
                 extra_drafts);
    int n = snprintf(body, sizeof body,
                     "{\"hook\":\"order-sign\",\"hookInstance\":\"6a7c1f3e-0d5b-4c8e-9a53-"
                     "2f4a7d1c6e01\",\"fhirServer\":\"" SERVER "\",%s\"context\":{\"userId\":"
                     "\"Practitioner/u1\",\"patientId\":\"p1\",\"draftOrders\":%s},\"prefetch\":"
                     "{\"patient\":" PATIENT ",\"conditions\":" PM_CONDITIONS ",\"medications\":%s,"
                     "\"observations\":null,\"allergies\":null,\"procedures\":null,"
                     "\"serviceRequests\":null}}",
                     token ? token_auth : "", drafts, meds);
    assert_true(n > 0 && (size_t)n < sizeof body);
    memset(err, 0, sizeof *err);
    routed_asked[0] = '\0';
    routed_n = 0;
    *out = NULL;
    return myocds_evaluate(engine, "myositis-order-sign", body, strlen(body), fetch ? &opts : NULL,
                           out, NULL, err);
}

static void set_routes(const struct route *r, size_t n)
{
    routes = r;
    n_routes = n;
}

/* The rule ids of out, each followed by a space, in card order, into buf. */
static const char *fired(const char *out, char *buf, size_t cap)
{
    json_object *doc = json_tokener_parse(out);
    json_object *cards = json_get_arr(doc, "cards");
    buf[0] = '\0';
    for (size_t i = 0; cards != NULL && i < json_object_array_length(cards); i++) {
        json_object *c = json_object_array_get_idx(cards, i);
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, "%s ",
                 json_get_str(json_get_obj(json_get_obj(c, "source"), "topic"), "code"));
    }
    json_object_put(doc);
    return buf;
}

/* Evaluates and returns the rule ids fired (static), failing the test on an error. */
static const char *cards_of(const char *meds, const char *extra_drafts, bool token, bool fetch)
{
    static char ids[512];
    char *out = NULL;
    struct myocds_err err;
    int rc = eval_meds(meds, extra_drafts, token, fetch, &out, &err);
    if (rc != 0)
        fail_msg("evaluate: %d %s", rc, err.msg);
    fired(out, ids, sizeof ids);
    free(out);
    return ids;
}

#define WITH_MTX "pjp-prophylaxis bone-protection "                        /* mtx seen */
#define WITHOUT_MTX "steroid-monotherapy pjp-prophylaxis bone-protection " /* nothing active */
#define MEDS_MISSING ""                                                    /* no medications */

static void test_outcome_entries_of_a_searchset(void **state)
{
    (void)state;
    static const struct route refetch[] = {
        {MEDS_URL, SEARCHSET("{\"resource\":" MTX_CODED "}"), 0}};
    set_routes(refetch, 1);
    /* The whole list is known: the reference answers. */
    assert_string_equal(cards_of(SEARCHSET("{\"resource\":" MTX_CODED "}"), NULL, true, true),
                        WITH_MTX);
    assert_string_equal(routed_asked, "");
    assert_string_equal(cards_of(SEARCHSET(""), NULL, true, true), WITHOUT_MTX);
    /* An error or fatal outcome: the key failed, fetched again (or missing). */
    static const char *const failed[] = {
        SEARCHSET(OUTCOME_ENTRY("error")),
        SEARCHSET(OUTCOME_ENTRY("fatal")),
        SEARCHSET(OUTCOME_ENTRY("warning") "," OUTCOME_ENTRY("error")),
        /* an error outcome beside records: the list is still not the whole list */
        SEARCHSET("{\"resource\":" MEDICATION("z") "}," OUTCOME_ENTRY("error")),
        /* not marked as an outcome: still no record */
        SEARCHSET("{\"resource\":{\"resourceType\":\"OperationOutcome\",\"issue\":[{"
                  "\"severity\":\"error\",\"code\":\"exception\"}]}}"),
        "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"warning\","
        "\"code\":\"processing\"}]}",
    };
    for (size_t i = 0; i < sizeof failed / sizeof failed[0]; i++) {
        print_message("failed %zu\n", i);
        assert_string_equal(cards_of(failed[i], NULL, true, true), WITH_MTX);
        assert_string_equal(routed_asked, MEDS_URL);
        assert_string_equal(cards_of(failed[i], NULL, true, false), MEDS_MISSING);
    }
    /* The fetched answer holds an error outcome too: still missing. */
    static const struct route failing[] = {{MEDS_URL, SEARCHSET(OUTCOME_ENTRY("error")), 0}};
    set_routes(failing, 1);
    assert_string_equal(cards_of(failed[0], NULL, true, true), MEDS_MISSING);
    /* Warnings and information only (Epic's 4101 "no results"): data, not fetched. */
    static const char *const data[] = {
        SEARCHSET(OUTCOME_ENTRY("warning")),
        SEARCHSET(OUTCOME_ENTRY("information") "," OUTCOME_ENTRY("warning")),
        SEARCHSET("{\"search\":{\"mode\":\"outcome\"},\"resource\":{\"resourceType\":"
                  "\"OperationOutcome\",\"issue\":[{\"severity\":\"warning\",\"code\":"
                  "\"processing\",\"details\":{\"coding\":[{\"code\":\"4101\",\"display\":"
                  "\"Resource request returns no results.\"}]}}]}}"),
        SEARCHSET(OUTCOME_ENTRY("severe")), /* no such severity: not an error */
    };
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++) {
        print_message("data %zu\n", i);
        assert_string_equal(cards_of(data[i], NULL, true, true), WITHOUT_MTX);
        assert_string_equal(routed_asked, "");
    }
    assert_string_equal(
        cards_of(SEARCHSET(OUTCOME_ENTRY("warning") ",{\"resource\":" MTX_CODED "}"), NULL, true,
                 true),
        WITH_MTX);
    assert_string_equal(routed_asked, "");
}

#define NEXT_URL SERVER "/MedicationRequest?patient=p1&page=2"
#define PAGE_ONE(next)                                                                             \
    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":2,\"link\":[{\"relation\":"     \
    "\"self\",\"url\":\"" SERVER "/MedicationRequest?patient=p1\"},{\"relation\":\"next\","        \
    "\"url\":\"" next "\"}],\"entry\":[{\"resource\":{\"resourceType\":\"MedicationRequest\","     \
    "\"id\":\"f1\",\"status\":\"active\",\"intent\":\"order\",\"medicationCodeableConcept\":{"     \
    "\"text\":\"folic acid 1 mg tablet\"}}}]}"

static void test_next_page_is_fetched_and_appended(void **state)
{
    (void)state;
    static const struct route pages[] = {{NEXT_URL, SEARCHSET("{\"resource\":" MTX_CODED "}"), 0}};
    set_routes(pages, 1);
    assert_string_equal(cards_of(PAGE_ONE(NEXT_URL), NULL, true, true), WITH_MTX);
    assert_string_equal(routed_asked, NEXT_URL);
    /* Without a token too: like a missing key, the rest is read without one. */
    assert_string_equal(cards_of(PAGE_ONE(NEXT_URL), NULL, false, true), WITH_MTX);
    assert_string_equal(routed_asked, NEXT_URL);
    /* The first page alone would be wrong: without the fetch, medications are missing. */
    assert_string_equal(cards_of(PAGE_ONE(NEXT_URL), NULL, true, false), MEDS_MISSING);
}

static void test_next_page_that_cannot_be_had_is_missing(void **state)
{
    (void)state;
    static const struct route pages[] = {
        {NEXT_URL, SEARCHSET("{\"resource\":" MTX_CODED "}"), 0},
        {SERVER "/MedicationRequest?page=503", NULL, MYOCDS_E_UNAVAILABLE},
        {SERVER "/MedicationRequest?page=patient", PATIENT, 0},
        {SERVER "/MedicationRequest?page=oo", SEARCHSET(OUTCOME_ENTRY("error")), 0}};
    static const struct {
        const char *page;
        bool asked;
    } cases[] = {
        {PAGE_ONE("https://evil.example/r4/MedicationRequest?page=2"), false},
        {PAGE_ONE("https://ehr.example.org/r4evil/MedicationRequest?page=2"), false},
        {PAGE_ONE("http://ehr.example.org/r4/MedicationRequest?page=2"), false},
        {PAGE_ONE("https://user@ehr.example.org/r4/MedicationRequest?page=2"), false},
        {PAGE_ONE("MedicationRequest?patient=p1&page=2"), false},
        {PAGE_ONE("//ehr.example.org/r4/MedicationRequest?page=2"), false},
        {PAGE_ONE(""), false},
        {PAGE_ONE(SERVER "/MedicationRequest?page=503"), true},
        {PAGE_ONE(SERVER "/MedicationRequest?page=404"), true},
        {PAGE_ONE(SERVER "/MedicationRequest?page=patient"), true},
        {PAGE_ONE(SERVER "/MedicationRequest?page=oo"), true},
    };
    set_routes(pages, sizeof pages / sizeof pages[0]);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        assert_string_equal(cards_of(cases[i].page, NULL, true, true), MEDS_MISSING);
        assert_int_equal(routed_n, cases[i].asked ? 1 : 0);
    }
    /* An expired token: nothing is fetched. With the conditions incomplete too no rule
     * can run, and the answer says why. */
    char *out = NULL;
    struct myocds_err err;
    static char body[8192];
    snprintf(
        body, sizeof body,
        "{\"hook\":\"patient-view\",\"hookInstance\":\"x\",\"fhirServer\":\"" SERVER
        "\",\"fhirAuthorization\":{\"access_token\":\"t\",\"token_type\":\"Bearer\","
        "\"expires_in\":0,\"scope\":\"patient/*.read\",\"subject\":\"c\"},\"context\":{\"userId\":"
        "\"Practitioner/u1\",\"patientId\":\"p1\"},\"prefetch\":{\"patient\":" PATIENT
        ",\"conditions\":%s,\"medications\":%s,\"observations\":null,\"allergies\":"
        "null,\"procedures\":null,\"serviceRequests\":null}}",
        PAGE_ONE(NEXT_URL), PAGE_ONE(NEXT_URL));
    const struct myocds_eval_opts opts = {.fetch = route_fetch};
    routed_n = 0;
    assert_int_equal(myocds_evaluate(engine, "myositis-patient-view", body, strlen(body), &opts,
                                     &out, NULL, &err),
                     -412);
    assert_null(out);
    assert_string_equal(err.msg, "prefetch 'conditions' is incomplete (a next page) and could not "
                                 "be fetched: the access token has expired");
    assert_int_equal(routed_n, 0);
}

/* Next pages need the scope's MedicationRequest s, a Medication read Medication r. */
static void test_scope_limits_pages_and_medication_reads(void **state)
{
    (void)state;
    static const struct route routes_all[] = {
        {NEXT_URL, SEARCHSET("{\"resource\":" MTX_CODED "}"), 0},
        {"Medication/x", MEDICATION("x"), 0}};
#define AUTH(scope)                                                                                \
    "\"fhirAuthorization\":{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":300,"  \
    "\"scope\":\"" scope "\",\"subject\":\"c\"},"
    char list[2048];
    set_routes(routes_all, sizeof routes_all / sizeof routes_all[0]);
    token_auth = AUTH("patient/MedicationRequest.rs patient/Medication.rs");
    assert_string_equal(cards_of(PAGE_ONE(NEXT_URL), NULL, true, true), WITH_MTX);
    assert_string_equal(routed_asked, NEXT_URL);
    token_auth = AUTH("patient/MedicationRequest.r patient/Medication.rs");
    assert_string_equal(cards_of(PAGE_ONE(NEXT_URL), NULL, true, true), MEDS_MISSING);
    assert_int_equal(routed_n, 0);
    token_auth = AUTH("patient/MedicationRequest.s?status=active");
    assert_string_equal(cards_of(PAGE_ONE(NEXT_URL), NULL, true, true), MEDS_MISSING);
    assert_int_equal(routed_n, 0);
    snprintf(list, sizeof list, SEARCHSET("{\"resource\":%s}"), mtx_by_ref("Medication/x"));
    token_auth = AUTH("patient/MedicationRequest.rs patient/Medication.r");
    assert_string_equal(cards_of(list, NULL, true, true), WITH_MTX);
    assert_string_equal(routed_asked, "Medication/x");
    token_auth = AUTH("patient/MedicationRequest.rs patient/Medication.s");
    assert_string_equal(cards_of(list, NULL, true, true), WITHOUT_MTX);
    assert_int_equal(routed_n, 0);
    token_auth = AUTH("patient/MedicationRequest.rs");
    assert_string_equal(cards_of(list, NULL, true, true), WITHOUT_MTX);
    assert_int_equal(routed_n, 0);
#undef AUTH
    token_auth = TOKEN_AUTH;
}

static void test_missing_medication_is_read_with_a_token(void **state)
{
    (void)state;
    static const struct route meds[] = {{"Medication/x", MEDICATION("x"), 0},
                                        {SERVER "/Medication/x", MEDICATION("x"), 0},
                                        {SERVER "/Medication/x/_history/2", MEDICATION("x"), 0},
                                        {"Medication/y", MEDICATION("x"), 0},
                                        {"Medication/z", PATIENT, 0}};
    char list[2048];
    set_routes(meds, sizeof meds / sizeof meds[0]);
    snprintf(list, sizeof list, SEARCHSET("{\"resource\":%s}"), mtx_by_ref("Medication/x"));
    assert_string_equal(cards_of(list, NULL, true, true), WITH_MTX);
    assert_string_equal(routed_asked, "Medication/x");
    /* Never without a token, nor without a fetch. */
    assert_string_equal(cards_of(list, NULL, false, true), WITHOUT_MTX);
    assert_string_equal(routed_asked, "");
    assert_string_equal(cards_of(list, NULL, true, false), WITHOUT_MTX);
    /* Which references are read, and how. */
    static const struct {
        const char *ref;
        const char *asked;
        const char *cards;
    } cases[] = {
        {SERVER "/Medication/x", SERVER "/Medication/x", WITH_MTX},
        {SERVER "/Medication/x/_history/2", SERVER "/Medication/x/_history/2", WITH_MTX},
        {"Medication/x/_history/2", "Medication/x", WITH_MTX},
        {"https://evil.example/r4/Medication/x", "", WITHOUT_MTX},
        {SERVER "evil/Medication/x", "", WITHOUT_MTX},
        {"urn:uuid:4f2b8a3c-1d5e-4f6a-9b7c-8d9e0f1a2b3c", "", WITHOUT_MTX},
        {"#x", "", WITHOUT_MTX},
        {"Patient/x", "", WITHOUT_MTX},
        {"Medication/../Patient/1", "", WITHOUT_MTX},
        {"Medication/x%2F..", "", WITHOUT_MTX},
        {"", "", WITHOUT_MTX},
        /* The answer must be the Medication asked for: another id or type is dropped, and
         * a failed read marks nothing missing. */
        {"Medication/y", "Medication/y", WITHOUT_MTX},
        {"Medication/z", "Medication/z", WITHOUT_MTX},
        {"Medication/nope", "Medication/nope", WITHOUT_MTX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("reference %s\n", cases[i].ref);
        snprintf(list, sizeof list, SEARCHSET("{\"resource\":%s}"), mtx_by_ref(cases[i].ref));
        assert_string_equal(cards_of(list, NULL, true, true), cases[i].cards);
        assert_string_equal(routed_asked, cases[i].asked);
    }
    /* A Medication answered for another id must not stand in for that one: Medication/v
     * fails, and what came for Medication/w (id v) is not Medication/v. */
    static const struct route swapped[] = {{"Medication/w", MEDICATION("v"), 0}};
    char first[512];
    set_routes(swapped, 1);
    snprintf(first, sizeof first, "%s", mtx_by_ref("Medication/w"));
    memcpy(strstr(first, "\"m1\""), "\"m2\"", 4); /* two orders, not one twice */
    snprintf(list, sizeof list, SEARCHSET("{\"resource\":%s},{\"resource\":%s}"), first,
             mtx_by_ref("Medication/v"));
    assert_string_equal(cards_of(list, NULL, true, true), WITHOUT_MTX);
    assert_string_equal(routed_asked, "Medication/w Medication/v");
}

static void test_medication_in_the_request_is_not_read(void **state)
{
    (void)state;
    static const struct route meds[] = {{"Medication/x", MEDICATION("x"), 0}};
    char list[2048];
    set_routes(meds, 1);
    /* In the same searchset (included), by type/id and by fullUrl. */
    snprintf(
        list, sizeof list,
        SEARCHSET("{\"resource\":%s},{\"search\":{\"mode\":\"include\"},\"resource\":" MEDICATION(
            "x") "}"),
        mtx_by_ref("Medication/x"));
    assert_string_equal(cards_of(list, NULL, true, true), WITH_MTX);
    assert_string_equal(routed_asked, "");
    snprintf(list, sizeof list,
             SEARCHSET("{\"resource\":%s},{\"fullUrl\":\"urn:uuid:4f2b8a3c-1d5e-4f6a-9b7c-"
                       "8d9e0f1a2b3c\",\"resource\":" MEDICATION("q") "}"),
             mtx_by_ref("urn:uuid:4f2b8a3c-1d5e-4f6a-9b7c-8d9e0f1a2b3c"));
    cards_of(list, NULL, true, true);
    assert_string_equal(routed_asked, "");
    /* Beside the draft orders. */
    snprintf(list, sizeof list, SEARCHSET("{\"resource\":%s}"), mtx_by_ref("Medication/x"));
    assert_string_equal(cards_of(list, "{\"resource\":" MEDICATION("x") "}", true, true), WITH_MTX);
    assert_string_equal(routed_asked, "");
    /* A draft order's reference is read like the record's. */
    char draft[640];
    snprintf(draft, sizeof draft, "{\"resource\":%s}", mtx_by_ref("Medication/x"));
    assert_string_equal(cards_of(SEARCHSET(""), draft, true, true),
                        "pjp-prophylaxis mtx-folic-acid mtx-baseline bone-protection ");
    assert_string_equal(routed_asked, "Medication/x");
}

static void test_medication_reads_are_deduped_and_capped(void **state)
{
    (void)state;
    static char list[32768];
    size_t len = snprintf(list, sizeof list, "{\"resourceType\":\"Bundle\",\"entry\":[");
    for (int i = 0; i < 40; i++) {
        char ref[64];
        snprintf(ref, sizeof ref, i % 2 == 0 ? "Medication/m%d" : SERVER "/Medication/m%d", i / 2);
        len += snprintf(list + len, sizeof list - len, "%s{\"resource\":%s}", i > 0 ? "," : "",
                        mtx_by_ref(ref));
    }
    snprintf(list + len, sizeof list - len, "]}");
    set_routes(NULL, 0);
    cards_of(list, NULL, true, true);
    assert_int_equal(routed_n, 16); /* 20 distinct ids, each named twice: the first 16 */
    assert_non_null(strstr(routed_asked, "Medication/m0 "));
    assert_null(strstr(routed_asked, SERVER "/Medication/m0"));
    assert_null(strstr(routed_asked, "/m16"));
}

/* What the fetch of a missing key brings is not looked at again: no second round. */
static void test_fetched_medication_requests_are_not_scanned(void **state)
{
    (void)state;
    static char answer[1024];
    snprintf(answer, sizeof answer, SEARCHSET("{\"resource\":%s}"), mtx_by_ref("Medication/x"));
    const struct route meds[] = {{MEDS_URL, answer, 0}, {"Medication/x", MEDICATION("x"), 0}};
    set_routes(meds, 2);
    assert_string_equal(cards_of(SEARCHSET(OUTCOME_ENTRY("error")), NULL, true, true), WITHOUT_MTX);
    assert_string_equal(routed_asked, MEDS_URL);
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
        cmocka_unit_test(test_scope_limits_the_fetch),
        cmocka_unit_test(test_rules_without_their_data_stay_silent),
        cmocka_unit_test(test_rules_switch_per_service),
        cmocka_unit_test(test_operation_outcome_counts_as_missing),
        cmocka_unit_test(test_outcome_entries_of_a_searchset),
        cmocka_unit_test(test_next_page_is_fetched_and_appended),
        cmocka_unit_test(test_next_page_that_cannot_be_had_is_missing),
        cmocka_unit_test(test_scope_limits_pages_and_medication_reads),
        cmocka_unit_test(test_missing_medication_is_read_with_a_token),
        cmocka_unit_test(test_medication_in_the_request_is_not_read),
        cmocka_unit_test(test_medication_reads_are_deduped_and_capped),
        cmocka_unit_test(test_fetched_medication_requests_are_not_scanned),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("engine", tests, setup, teardown);
}

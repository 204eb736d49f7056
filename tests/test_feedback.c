/* test_feedback.c - feedback bodies: valid shapes, each invalid field named, limits. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "cds/feedback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CARD "5d3c1a4e-8f7b-4c2a-9e1d-2b6f0a9c7e33"
#define TS "2025-01-15T14:02:11Z"

static int parse(const char *body, struct feedback_batch *b, struct myocds_err *err)
{
    memset(err, 0, sizeof *err);
    return feedback_parse(body, strlen(body), b, err);
}

static void test_accepted(void **state)
{
    (void)state;
    struct feedback_batch b;
    struct myocds_err err;
    const char *body = "{\"feedback\":[{\"card\":\"" CARD "\",\"outcome\":\"accepted\","
                       "\"acceptedSuggestions\":[{\"id\":\"s-1\"},{\"id\":\"s/2\"}],"
                       "\"outcomeTimestamp\":\"" TS "\"}]}";
    assert_int_equal(parse(body, &b, &err), 0);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.items[0].card_uuid, CARD);
    assert_string_equal(b.items[0].outcome, "accepted");
    assert_string_equal(b.items[0].accepted_json, "[\"s-1\",\"s/2\"]");
    assert_null(b.items[0].reason_code);
    assert_string_equal(b.items[0].outcome_timestamp, TS);
    feedback_batch_free(&b);
    feedback_batch_free(&b); /* a freed batch is zeroed: freeing again is a no-op */
}

static void test_overridden_many(void **state)
{
    (void)state;
    struct feedback_batch b;
    struct myocds_err err;
    const char *body =
        "{\"feedback\":[{\"card\":\"c1\",\"outcome\":\"overridden\",\"overrideReason\":"
        "{\"reason\":{\"system\":\"http://example.org/r\",\"code\":\"pt-preference\"},"
        "\"userComment\":\"Patient prefers current regimen.\"},"
        "\"outcomeTimestamp\":\"2025-01-15T14:03:40.123+01:00\"},"
        "{\"card\":\"c2\",\"outcome\":\"overridden\",\"outcomeTimestamp\":\"" TS "\"}],"
        "\"extension\":{\"x\":1}}";
    assert_int_equal(parse(body, &b, &err), 0);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.items[0].reason_system, "http://example.org/r");
    assert_string_equal(b.items[0].reason_code, "pt-preference");
    assert_null(b.items[0].accepted_json);
    assert_null(b.items[1].reason_system);
    feedback_batch_free(&b);
}

/* An overridden card with an empty acceptedSuggestions (some clients always send the
 * member): stored, the list as absent; an accepted card still needs one. */
static void test_overridden_empty_suggestions(void **state)
{
    (void)state;
    struct feedback_batch b;
    struct myocds_err err;
    const char *body = "{\"feedback\":[{\"card\":\"c1\",\"outcome\":\"overridden\","
                       "\"acceptedSuggestions\":[],\"overrideReason\":{\"reason\":{\"system\":"
                       "\"http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes\","
                       "\"code\":\"patient-refuses\"}},\"outcomeTimestamp\":\"" TS "\"}]}";
    assert_int_equal(parse(body, &b, &err), 0);
    assert_int_equal(b.n, 1);
    assert_null(b.items[0].accepted_json);
    assert_string_equal(b.items[0].reason_code, "patient-refuses");
    feedback_batch_free(&b);
}

struct bad_case {
    const char *name;
    const char *body;
    const char *msg_has; /* the field the message must name */
};

#define ITEM(x) "{\"feedback\":[" x "]}"
#define OK_HEAD "\"card\":\"c1\","
#define OK_TS ",\"outcomeTimestamp\":\"" TS "\""

static const struct bad_case bad_cases[] = {
    {"not json", "{\"feedback\":", "invalid JSON"},
    {"not an object", "[1]", "feedback must be an array"},
    {"no feedback", "{}", "feedback must be an array"},
    {"empty feedback", "{\"feedback\":[]}", "feedback must hold"},
    {"item not object", ITEM("1"), "feedback[0] must be an object"},
    {"no card", ITEM("{\"outcome\":\"overridden\"" OK_TS "}"), "feedback[0].card"},
    {"card number", ITEM("{\"card\":7,\"outcome\":\"overridden\"" OK_TS "}"), "feedback[0].card"},
    {"card control", ITEM("{\"card\":\"a\\nb\",\"outcome\":\"overridden\"" OK_TS "}"),
     "feedback[0].card"},
    {"bad outcome", ITEM("{" OK_HEAD "\"outcome\":\"ignored\"" OK_TS "}"),
     "feedback[0].outcome must be accepted or overridden"},
    {"no outcome", ITEM("{" OK_HEAD "\"outcomeTimestamp\":\"" TS "\"}"), "feedback[0].outcome"},
    {"accepted without suggestions", ITEM("{" OK_HEAD "\"outcome\":\"accepted\"" OK_TS "}"),
     "feedback[0].acceptedSuggestions is required"},
    {"suggestions not array",
     ITEM("{" OK_HEAD "\"outcome\":\"accepted\",\"acceptedSuggestions\":{}" OK_TS "}"),
     "feedback[0].acceptedSuggestions must be an array"},
    {"suggestions empty",
     ITEM("{" OK_HEAD "\"outcome\":\"accepted\",\"acceptedSuggestions\":[]" OK_TS "}"),
     "feedback[0].acceptedSuggestions must hold"},
    {"suggestion without id",
     ITEM("{" OK_HEAD "\"outcome\":\"accepted\",\"acceptedSuggestions\":[{\"id\":\"a\"},{}]" OK_TS
          "}"),
     "feedback[0].acceptedSuggestions[1].id"},
    {"override not object",
     ITEM("{" OK_HEAD "\"outcome\":\"overridden\",\"overrideReason\":\"no\"" OK_TS "}"),
     "feedback[0].overrideReason must be an object"},
    {"reason not coding",
     ITEM("{" OK_HEAD "\"outcome\":\"overridden\",\"overrideReason\":{\"reason\":[]}" OK_TS "}"),
     "feedback[0].overrideReason.reason must be a Coding"},
    {"reason no system",
     ITEM("{" OK_HEAD
          "\"outcome\":\"overridden\",\"overrideReason\":{\"reason\":{\"code\":\"x\"}}" OK_TS "}"),
     "feedback[0].overrideReason.reason.system"},
    {"reason no code",
     ITEM("{" OK_HEAD "\"outcome\":\"overridden\",\"overrideReason\":{\"reason\":{\"system\":"
          "\"s\"}}" OK_TS "}"),
     "feedback[0].overrideReason.reason.code"},
    {"comment number",
     ITEM("{" OK_HEAD "\"outcome\":\"overridden\",\"overrideReason\":{\"userComment\":3}" OK_TS
          "}"),
     "feedback[0].overrideReason.userComment"},
    {"no timestamp", ITEM("{" OK_HEAD "\"outcome\":\"overridden\"}"),
     "feedback[0].outcomeTimestamp"},
    {"bad timestamp",
     ITEM("{" OK_HEAD "\"outcome\":\"overridden\",\"outcomeTimestamp\":\"2025-02-30T10:00:00Z\"}"),
     "feedback[0].outcomeTimestamp"},
    {"second item bad",
     ITEM("{" OK_HEAD "\"outcome\":\"overridden\"" OK_TS "},{\"card\":\"c2\",\"outcome\":1}"),
     "feedback[1].outcome"},
};

static void test_bad_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        struct feedback_batch b;
        struct myocds_err err;
        print_message("case %s\n", c->name);
        assert_int_equal(parse(c->body, &b, &err), -400);
        assert_int_equal(err.http_status, 400);
        assert_non_null(strstr(err.msg, c->msg_has));
        assert_null(b.items);
        assert_null(b.root);
    }
}

static void test_never_echoes(void **state)
{
    (void)state;
    struct feedback_batch b;
    struct myocds_err err;
    assert_int_equal(
        parse(ITEM("{\"card\":\"c1\",\"outcome\":\"SECRET-PATIENT-123\"" OK_TS "}"), &b, &err),
        -400);
    assert_null(strstr(err.msg, "SECRET"));
}

/* Builds {"feedback":[item x n]} in a malloc'd buffer. */
static char *many(size_t n)
{
    static const char item[] = "{\"card\":\"c\",\"outcome\":\"overridden\",\"outcomeTimestamp\":"
                               "\"" TS "\"}";
    size_t cap = 32 + n * sizeof item;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t len = (size_t)snprintf(s, cap, "{\"feedback\":[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "", item);
    snprintf(s + len, cap - len, "]}");
    return s;
}

static void test_limits(void **state)
{
    (void)state;
    struct feedback_batch b;
    struct myocds_err err;
    char *ok = many(FEEDBACK_MAX_ITEMS);
    char *over = many(FEEDBACK_MAX_ITEMS + 1);
    assert_int_equal(parse(ok, &b, &err), 0);
    assert_int_equal(b.n, FEEDBACK_MAX_ITEMS);
    feedback_batch_free(&b);
    assert_int_equal(parse(over, &b, &err), -400);
    assert_non_null(strstr(err.msg, "feedback must hold 1 to"));
    free(ok);
    free(over);

    char card[FEEDBACK_MAX_ID + 2];
    char body[512];
    memset(card, 'a', sizeof card - 1);
    card[sizeof card - 1] = '\0';
    snprintf(body, sizeof body, ITEM("{\"card\":\"%s\",\"outcome\":\"overridden\"" OK_TS "}"),
             card);
    assert_int_equal(parse(body, &b, &err), -400);
    assert_non_null(strstr(err.msg, "feedback[0].card"));
}

static void test_rfc3339(void **state)
{
    (void)state;
    static const char *const good[] = {"2021-12-11T10:05:31Z", "2024-02-29T23:59:60Z",
                                       "2021-12-11t10:05:31.5z", "2021-12-11T10:05:31-05:30",
                                       "2021-12-11T10:05:31.123456789+00:00"};
    static const char *const bad[] = {"",
                                      "2021-12-11",
                                      "2021-12-11T10:05:31",
                                      "2021-12-11 10:05:31Z",
                                      "2023-02-29T10:05:31Z",
                                      "2021-13-11T10:05:31Z",
                                      "2021-12-11T24:05:31Z",
                                      "2021-12-11T10:05:31.Z",
                                      "2021-12-11T10:05:31Zx",
                                      "2021-12-11T10:05:31+0100",
                                      "2021-12-11T10:05:31.1234567890Z"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        print_message("good %s\n", good[i]);
        assert_true(feedback_is_rfc3339(good[i]));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        print_message("bad %s\n", bad[i]);
        assert_false(feedback_is_rfc3339(bad[i]));
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_overridden_many),
        cmocka_unit_test(test_overridden_empty_suggestions),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_never_echoes),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_rfc3339),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("feedback", tests, NULL, NULL);
}

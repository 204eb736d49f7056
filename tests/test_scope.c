/* test_scope.c - the SMART scopes of fhirAuthorization.scope: v1 and v2 forms, mixed and
 * split, wildcards, the three contexts, "?" restrictions, what is skipped, hostile
 * strings, and what each permits. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "fhir/scope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct scopes parsed; /* large: kept out of the stack */

/* The grants of text, in the shared struct (borrowed until the next call). */
static const struct scopes *parse(const char *text)
{
    scope_parse(&parsed, text);
    return &parsed;
}

static bool can_read(const char *text, const char *type)
{
    return scope_permits(parse(text), type, false, NULL);
}

static bool can_search(const char *text, const char *type, const char *query)
{
    return scope_permits(parse(text), type, true, query);
}

/* The types the prefetch reads, and one it does not. */
static const char *const types[] = {"Patient",           "Condition",     "Observation",
                                    "MedicationRequest", "Medication",    "AllergyIntolerance",
                                    "Procedure",         "ServiceRequest"};
#define N_TYPES (sizeof types / sizeof types[0])

/* Asserts that a and b permit the same reads and searches of every type. */
static void assert_same(const char *a, const char *b)
{
    for (size_t i = 0; i < N_TYPES; i++) {
        print_message("%s / %s: %s\n", a, b, types[i]);
        assert_int_equal(can_read(a, types[i]), can_read(b, types[i]));
        assert_int_equal(can_search(a, types[i], "patient=p"),
                         can_search(b, types[i], "patient=p"));
    }
}

static void test_v1(void **state)
{
    (void)state;
    assert_true(can_read("patient/Observation.read", "Observation"));
    assert_true(can_search("patient/Observation.read", "Observation", "patient=p"));
    assert_false(can_read("patient/Observation.read", "Condition"));
    assert_false(can_search("patient/Observation.read", "Condition", NULL));
    assert_false(can_read("patient/Observation.write", "Observation"));
    assert_false(can_search("patient/Observation.write", "Observation", NULL));
    assert_true(can_read("patient/Observation.*", "Observation"));
    assert_true(can_search("patient/Observation.*", "Observation", NULL));
    assert_int_equal(parse("patient/Observation.write")->grant[0].perms,
                     SCOPE_C | SCOPE_U | SCOPE_D);
    assert_int_equal(parse("patient/Observation.*")->grant[0].perms,
                     SCOPE_C | SCOPE_R | SCOPE_U | SCOPE_D | SCOPE_S);
}

static void test_v2(void **state)
{
    (void)state;
    static const struct {
        const char *perms;
        unsigned bits;
    } cases[] = {{"c", SCOPE_C},
                 {"r", SCOPE_R},
                 {"s", SCOPE_S},
                 {"rs", SCOPE_R | SCOPE_S},
                 {"cud", SCOPE_C | SCOPE_U | SCOPE_D},
                 {"cruds", SCOPE_C | SCOPE_R | SCOPE_U | SCOPE_D | SCOPE_S},
                 {"ds", SCOPE_D | SCOPE_S},
                 {"crs", SCOPE_C | SCOPE_R | SCOPE_S}};
    char text[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, "patient/Condition.%s", cases[i].perms);
        print_message("%s\n", text);
        const struct scopes *s = parse(text);
        assert_int_equal(s->n, 1);
        assert_string_equal(s->pool + s->grant[0].type, "Condition");
        assert_int_equal(s->grant[0].query, 0);
        assert_int_equal(s->grant[0].perms, cases[i].bits);
    }
    assert_true(can_read("patient/Condition.r", "Condition"));
    assert_false(can_search("patient/Condition.r", "Condition", "patient=p"));
    assert_false(can_read("patient/Condition.s", "Condition"));
    assert_true(can_search("patient/Condition.s", "Condition", "patient=p"));
    /* v1 and v2 say the same. */
    assert_same("patient/Observation.rs patient/Condition.rs", "patient/Observation.read "
                                                               "patient/Condition.read");
    assert_same("patient/*.rs", "patient/*.read");
    assert_same("patient/*.cud", "patient/*.write");
    assert_same("patient/*.cruds", "patient/*.*");
}

static void test_mixed_and_split(void **state)
{
    (void)state;
    const char *mixed = "launch/patient openid fhirUser patient/Patient.read "
                        "patient/Condition.rs user/MedicationRequest.read system/Procedure.s";
    assert_true(can_read(mixed, "Patient"));
    assert_true(can_search(mixed, "Condition", "patient=p"));
    assert_true(can_search(mixed, "MedicationRequest", "patient=p"));
    assert_true(can_search(mixed, "Procedure", "patient=p"));
    assert_false(can_read(mixed, "Procedure"));
    assert_false(can_search(mixed, "Observation", "patient=p"));
    assert_int_equal(parse(mixed)->n, 4);
    /* .r and .s of one type are one grant, the same as .rs. */
    const struct scopes *s = parse("patient/Observation.r patient/Observation.s");
    assert_int_equal(s->n, 1);
    assert_int_equal(s->grant[0].perms, SCOPE_R | SCOPE_S);
    assert_same("patient/Observation.r patient/Observation.s", "patient/Observation.rs");
    assert_same("patient/Observation.s  patient/Observation.r", "patient/Observation.read");
    assert_int_equal(parse("patient/Observation.rs patient/Observation.read")->n, 1);
}

static void test_wildcard_and_contexts(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_TYPES; i++) {
        assert_true(can_read("patient/*.rs", types[i]));
        assert_true(can_search("user/*.read", types[i], NULL));
        assert_true(can_search("system/*.s", types[i], "x=1"));
        assert_false(can_read("system/*.s", types[i]));
    }
    assert_true(can_search("patient/*.r patient/Condition.s", "Condition", NULL));
    assert_false(can_search("patient/*.r patient/Condition.s", "Observation", NULL));
    assert_true(can_read("user/Patient.r", "Patient"));
    assert_true(can_read("system/Patient.read", "Patient"));
    /* The wildcard is the type "*", not a pattern. */
    assert_false(can_read("patient/Obs*.rs", "Observation"));
    assert_false(can_read("patient/Condition.rs", "*"));
    assert_true(can_read("patient/*.rs", "*"));
}

static void test_skipped_and_malformed(void **state)
{
    (void)state;
    static const char *const none[] = {
        "",
        "   ",
        "openid fhirUser launch launch/patient launch/encounter offline_access online_access",
        "profile smart/orchestrate_launch",
        "patient/Observation",
        "patient/Observation.",
        "patient/.rs",
        "/Observation.rs",
        "patient/*",
        "patient/**.rs",
        "Patient/Observation.rs",
        "PATIENT/Observation.rs",
        "practitioner/Observation.rs",
        "encounter/Observation.rs",
        "patient//Observation.rs",
        "patient/observation.rs",
        "patient/Obs-ervation.rs",
        "patient/Observation.sr",
        "patient/Observation.rr",
        "patient/Observation.rsr",
        "patient/Observation.rsx",
        "patient/Observation.Read",
        "patient/Observation.READ",
        "patient/Observation.reads",
        "patient/Observation.r*",
        "patient/Observation..rs",
        "patient/Observation.read?category=laboratory",
        "patient/Observation.*?category=laboratory",
        "patient/Observation.rs?",
        "patient/Observation.rs?category",
        "patient/Observation.rs?=laboratory",
        "patient/Observation.rs?category=",
        "patient/Observation.rs?category=laboratory&",
        "patient/Observation.rs?&category=laboratory",
        "patient/Observation.rs?a=1&&b=2",
        "patient/Observation.rs\tpatient/Condition.rs",
        "patient/Observation.rs\npatient/Condition.rs",
        "patient/Observ\xc3\xa9tion.rs",
        "patient/Observation.rs\x7f",
        "patient/Observation.r\x01s",
        "patient/Observation.rs?code=\xff",
        "patient/Abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd.rs", /* 64 letters
                                                                                        */
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        print_message("[%s]\n", none[i]);
        const struct scopes *s = parse(none[i]);
        assert_int_equal(s->n, 0);
        for (size_t t = 0; t < N_TYPES; t++) {
            assert_false(scope_permits(s, types[t], false, NULL));
            assert_false(scope_permits(s, types[t], true, "category=laboratory"));
        }
    }
    /* A malformed word costs only itself. */
    const char *some = "patient/Observation.sr patient/Condition.rs patient/Patient.rx";
    assert_int_equal(parse(some)->n, 1);
    assert_true(can_search(some, "Condition", NULL));
    assert_false(can_search(some, "Observation", NULL));
    /* A type name of 63 letters is still one. */
    assert_int_equal(
        parse("patient/Abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc.rs")->n, 1);
    /* Nothing at all. */
    assert_int_equal(parse(NULL)->n, 0);
    assert_false(scope_permits(parse("patient/*.rs"), NULL, false, NULL));
    assert_false(scope_permits(NULL, "Patient", false, NULL));
    assert_false(scope_permits_url(NULL, "Patient/p"));
}

static void test_restrictions(void **state)
{
    (void)state;
    const char *lab = "patient/Observation.rs?category=laboratory";
    const struct scopes *s = parse(lab);
    assert_int_equal(s->n, 1);
    assert_string_equal(s->pool + s->grant[0].query, "category=laboratory");
    /* Only a search carrying the restriction, never a read by id. */
    assert_false(can_read(lab, "Observation"));
    assert_false(can_search(lab, "Observation", NULL));
    assert_false(can_search(lab, "Observation", ""));
    assert_false(can_search(lab, "Observation", "patient=p1&code=http://loinc.org|2458-8"));
    assert_true(can_search(lab, "Observation", "patient=p1&category=laboratory"));
    assert_true(can_search(lab, "Observation", "category=laboratory&patient=p1"));
    assert_true(can_search(lab, "Observation", "category=laboratory"));
    assert_false(can_search(lab, "Condition", "category=laboratory"));
    /* No widening and no look-alikes: an OR list, a modifier, another value, a prefix. */
    assert_false(can_search(lab, "Observation", "patient=p1&category=laboratory,vital-signs"));
    assert_false(can_search(lab, "Observation", "category:not=laboratory"));
    assert_false(can_search(lab, "Observation", "category=laboratoryx"));
    assert_false(can_search(lab, "Observation", "xcategory=laboratory"));
    assert_false(can_search(lab, "Observation", "category=laboratory%20"));
    assert_false(can_search(lab, "Observation", "category=Laboratory"));
    /* Several pairs: every one, in any order. */
    const char *two = "patient/Observation.rs?category=laboratory&status=final";
    assert_true(can_search(two, "Observation", "status=final&patient=p&category=laboratory"));
    assert_false(can_search(two, "Observation", "category=laboratory"));
    assert_false(can_search(two, "Observation", "status=final"));
    /* Restricted and unrestricted grants of one type: each counts for its own perms. */
    const char *both = "patient/Observation.r patient/Observation.s?category=laboratory";
    assert_int_equal(parse(both)->n, 2);
    assert_true(can_read(both, "Observation"));
    assert_false(can_search(both, "Observation", "code=x"));
    assert_true(can_search(both, "Observation", "code=x&category=laboratory"));
    const char *wide = "patient/Observation.rs?category=laboratory patient/Observation.s";
    assert_true(can_search(wide, "Observation", "code=x"));
    assert_false(can_read(wide, "Observation"));
    /* Two restrictions stay two grants; either may cover a query. */
    const char *alt = "patient/Observation.s?category=laboratory patient/Observation.s?code=a|b";
    assert_int_equal(parse(alt)->n, 2);
    assert_true(can_search(alt, "Observation", "code=a|b"));
    assert_true(can_search(alt, "Observation", "category=laboratory"));
    assert_false(can_search(alt, "Observation", "code=a|c"));
    /* A restriction with a URL in it, and on the wildcard. */
    assert_true(can_search("user/*.rs?code=http://loinc.org|2458-8", "Observation",
                           "patient=p&code=http://loinc.org|2458-8"));
    assert_false(can_read("user/*.rs?code=http://loinc.org|2458-8", "Patient"));
}

static void test_urls(void **state)
{
    (void)state;
    static const struct {
        const char *scope;
        const char *url;
        bool permitted;
    } cases[] = {
        {"patient/Patient.r", "Patient/p1", true},
        {"patient/Patient.s", "Patient/p1", false},
        {"patient/Patient.read", "Patient/p1/_history/2", true},
        {"patient/Condition.s", "Condition?patient=p1", true},
        {"patient/Condition.r", "Condition?patient=p1", false},
        {"patient/Condition.s", "Condition", true},
        {"patient/MedicationRequest.s",
         "MedicationRequest?patient=p1&_include=MedicationRequest:medication", true},
        {"patient/Medication.rs",
         "MedicationRequest?patient=p1&_include=MedicationRequest:medication", false},
        {"patient/Medication.r", "Medication/x", true},
        {"patient/Observation.s?category=laboratory", "Observation?patient=p1&code=a|b", false},
        {"patient/Observation.s?category=laboratory", "Observation?patient=p1&category=laboratory",
         true},
        {"patient/*.rs", "Patient/../Condition", false},
        {"patient/*.rs", "Patient/p1/extra", false},
        {"patient/*.rs", "Patient/", false},
        {"patient/*.rs", "https://ehr.example.org/r4/Patient/p1", false},
        {"patient/*.rs", "https://ehr.example.org/r4/Condition?patient=p1", false},
        {"patient/*.rs", "", false},
        {"patient/*.rs", "?patient=p1", false},
        {"patient/*.rs", "/Patient/p1", false},
        {"patient/*.rs", "patient?x=1", false},
        {"patient/*.rs", "Patient/p1?x=1", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("%s %s\n", cases[i].scope, cases[i].url);
        assert_int_equal(scope_permits_url(parse(cases[i].scope), cases[i].url),
                         cases[i].permitted);
    }
    assert_false(scope_permits_url(parse("patient/*.rs"), NULL));
}

/* Appends text to buf[0..cap) at *len, failing the test when it does not fit. */
static void append(char *buf, size_t cap, size_t *len, const char *text)
{
    size_t n = strlen(text);
    assert_true(*len + n < cap);
    memcpy(buf + *len, text, n + 1);
    *len += n;
}

static void test_hostile(void **state)
{
    (void)state;
    size_t cap = 1u << 20, len = 0;
    char *big = malloc(cap);
    char word[64];
    assert_non_null(big);
    big[0] = '\0';
    /* A megabyte of one scope: one grant. */
    while (len + 32 < cap)
        append(big, cap, &len, "patient/Observation.rs ");
    assert_int_equal(parse(big)->n, 1);
    assert_true(can_search(big, "Observation", NULL));
    /* Thousands of distinct restricted scopes: bounded, the first ones kept. */
    len = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(word, sizeof word, "patient/Observation.s?code=%d ", i);
        append(big, cap, &len, word);
    }
    const struct scopes *s = parse(big);
    assert_true(s->n > 0 && s->n <= SCOPE_GRANTS_MAX);
    assert_true(s->used <= SCOPE_POOL_MAX);
    assert_true(can_search(big, "Observation", "code=0"));
    assert_false(can_search(big, "Observation", "code=4999"));
    /* Many types, past the grant cap: those after it grant nothing. */
    len = 0;
    for (int i = 0; i < 300; i++) {
        snprintf(word, sizeof word, "patient/T%c%c.rs ", 'a' + i / 26 % 26, 'a' + i % 26);
        append(big, cap, &len, word);
    }
    append(big, cap, &len, "patient/Condition.rs");
    assert_int_equal(parse(big)->n, SCOPE_GRANTS_MAX);
    assert_true(can_read(big, "Taa"));
    assert_false(can_read(big, "Condition"));
    /* Restrictions filling the pool: what does not fit is dropped whole. */
    len = 0;
    for (int i = 0; i < 8; i++) {
        append(big, cap, &len, i == 0 ? "" : " ");
        append(big, cap, &len, "patient/Observation.s?code=");
        for (int k = 0; k < 900; k++)
            append(big, cap, &len, i % 2 == 0 ? "a" : "b");
    }
    append(big, cap, &len, " patient/Condition.rs");
    s = parse(big); /* each takes "Observation" and "code=" + 900 bytes: four fit */
    assert_int_equal(s->n, 5);
    assert_int_equal(s->used, 1 + 4 * (12 + 906) + sizeof "Condition");
    assert_true(can_read(big, "Condition"));
    /* A word longer than SCOPE_WORD_MAX: ignored, the next one read. */
    len = 0;
    append(big, cap, &len, "patient/Observation.s?code=");
    for (int k = 0; k < SCOPE_WORD_MAX; k++)
        append(big, cap, &len, "x");
    append(big, cap, &len, " patient/Condition.rs");
    assert_int_equal(parse(big)->n, 1);
    assert_true(can_read(big, "Condition"));
    assert_false(can_search(big, "Observation", NULL));
    /* The SCOPE_TEXT_MAX limit: a word that ends at it is read, one it cuts is not, and
     * nothing after it. */
    const char *w = "patient/Condition.rs";
    memset(big, ' ', SCOPE_TEXT_MAX - strlen(w));
    strcpy(big + SCOPE_TEXT_MAX - strlen(w), w);
    strcat(big, " patient/Patient.rs");
    assert_true(can_read(big, "Condition"));
    assert_false(can_read(big, "Patient"));
    memset(big, ' ', SCOPE_TEXT_MAX - 4);
    strcpy(big + SCOPE_TEXT_MAX - 4, w);
    assert_false(can_read(big, "Condition"));
    /* Every byte, alone, inside a word and as a permission. */
    for (int b = 1; b < 256; b++) {
        char text[64];
        snprintf(text, sizeof text, "%c patient/Obs%cervation.r%cs patient/Condition.%c", b, b, b,
                 b);
        s = parse(text);
        assert_true(s->n <= 2); /* .rus and .rds are permissions */
        assert_false(scope_permits(s, "Observation", true, NULL));
        assert_int_equal(can_read(text, "Condition"), b == 'r' || b == '*');
    }
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1),
        cmocka_unit_test(test_v2),
        cmocka_unit_test(test_mixed_and_split),
        cmocka_unit_test(test_wildcard_and_contexts),
        cmocka_unit_test(test_skipped_and_malformed),
        cmocka_unit_test(test_restrictions),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

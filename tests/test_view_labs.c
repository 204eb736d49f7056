/* test_view_labs.c - lab results in the patient view (view_labs.c): comparators, numbers in
 * valueString, dataAbsentReason, statuses, codings, the latest result, IgA units, and IgA
 * tests in the draft orders; each shape with a near miss that stays unknown. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "view_harness.h"

#include <math.h>

#define LOINC_IGA "{\"system\":\"http://loinc.org\",\"code\":\"2458-8\"}"
#define IGA_LIMIT 7.0 /* hooks/rules.json iga_deficiency_mg_dl */

/* One Observation entry: status (a JSON value, "\"final\""), codings, then more members. */
static const char *obs(const char *status, const char *codings, const char *members)
{
    static char buf[4][2048];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0],
             "{\"resource\":{\"resourceType\":\"Observation\",\"status\":%s,\"code\":{"
             "\"coding\":[%s]},%s}}",
             status, codings, members);
    return b;
}

/* The view's IgA after a record of the given entries. */
static struct view_lab iga_of(const char *record)
{
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_ORDER_SIGN, record, NULL, &keep);
    struct view_lab lab = v.labs[LAB_IGA];
    view_free(&v);
    json_object_put(keep);
    return lab;
}

struct value_case {
    const char *members;
    enum lab_read read;
    double value; /* mg/dL; ignored when < 0 */
    enum lab_verdict verdict;
    const char *shown; /* NULL: not checked */
};

static void check_values(const struct value_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        print_message("case %zu: %s\n", i, cases[i].members);
        struct view_lab lab = iga_of(obs("\"final\"", LOINC_IGA, cases[i].members));
        assert_true(lab.present);
        assert_int_equal(lab.read, cases[i].read);
        if (cases[i].value >= 0)
            assert_true(lab.value > cases[i].value - 1e-6 && lab.value < cases[i].value + 1e-6);
        assert_int_equal(view_lab_below(&lab, IGA_LIMIT), cases[i].verdict);
        if (cases[i].shown != NULL)
            assert_string_equal(lab.shown, cases[i].shown);
    }
}

#define QTY(v, extra) "\"valueQuantity\":{\"value\":" v extra "}"
#define MGDL ",\"unit\":\"mg/dL\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"mg/dL\""

static void test_comparators_against_the_limit(void **state)
{
    (void)state;
    static const struct value_case cases[] = {
        /* "<" X with X <= 7: deficient; a limit above 7: unknown, never normal */
        {QTY("7", ",\"comparator\":\"<\"" MGDL), LAB_READ_LT, 7, LAB_BELOW, "<7 mg/dL"},
        {QTY("5", ",\"comparator\":\"<\"" MGDL), LAB_READ_LT, 5, LAB_BELOW, "<5 mg/dL"},
        {QTY("7.5", ",\"comparator\":\"<\"" MGDL), LAB_READ_LT, 7.5, LAB_UNREADABLE, NULL},
        {QTY("50", ",\"comparator\":\"<\"" MGDL), LAB_READ_LT, 50, LAB_UNREADABLE, NULL},
        /* "<=" X with X < 7: deficient; "<=7" itself: unknown */
        {QTY("6.9", ",\"comparator\":\"<=\"" MGDL), LAB_READ_LE, 6.9, LAB_BELOW, "<=6.9 mg/dL"},
        {QTY("7", ",\"comparator\":\"<=\"" MGDL), LAB_READ_LE, 7, LAB_UNREADABLE, "<=7 mg/dL"},
        {QTY("50", ",\"comparator\":\"<=\"" MGDL), LAB_READ_LE, 50, LAB_UNREADABLE, NULL},
        /* ">" / ">=" never below: X >= 7 is not deficient, a lower bound tells nothing */
        {QTY("7", ",\"comparator\":\">=\"" MGDL), LAB_READ_GE, 7, LAB_NOT_BELOW, ">=7 mg/dL"},
        {QTY("7", ",\"comparator\":\">\"" MGDL), LAB_READ_GT, 7, LAB_NOT_BELOW, NULL},
        {QTY("400", ",\"comparator\":\">\"" MGDL), LAB_READ_GT, 400, LAB_NOT_BELOW, NULL},
        {QTY("6.99", ",\"comparator\":\">=\"" MGDL), LAB_READ_GE, 6.99, LAB_UNREADABLE, NULL},
        {QTY("5", ",\"comparator\":\">\"" MGDL), LAB_READ_GT, 5, LAB_UNREADABLE, NULL},
        /* exact values on either side */
        {QTY("6.9", MGDL), LAB_READ_EXACT, 6.9, LAB_BELOW, "6.9 mg/dL"},
        {QTY("7", MGDL), LAB_READ_EXACT, 7, LAB_NOT_BELOW, "7 mg/dL"},
        /* a comparator that is not R4's, or not a string: the value is unknown */
        {QTY("5", ",\"comparator\":\"ad\"" MGDL), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {QTY("5", ",\"comparator\":1" MGDL), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {QTY("5", ",\"comparator\":\"\\u2264\"" MGDL), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
    };
    check_values(cases, sizeof cases / sizeof cases[0]);
}

static void test_iga_units(void **state)
{
    (void)state;
    static const struct value_case cases[] = {
        {QTY("0.05", ",\"code\":\"g/L\""), LAB_READ_EXACT, 5, LAB_BELOW, "0.05 g/L"},
        /* 0.07 g/L x 100 is 7.000000000000001 in a double: still at the limit */
        {QTY("0.07", ",\"comparator\":\"<\",\"code\":\"g/L\""), LAB_READ_LT, 7, LAB_BELOW, NULL},
        {QTY("0.07", ",\"code\":\"g/L\""), LAB_READ_EXACT, 7, LAB_NOT_BELOW, NULL},
        {QTY("65", ",\"code\":\"mg/L\""), LAB_READ_EXACT, 6.5, LAB_BELOW, "65 mg/L"},
        {QTY("70", ",\"code\":\"mg/L\""), LAB_READ_EXACT, 7, LAB_NOT_BELOW, NULL},
        /* upper case and spaces; the unit text when the code is a local one */
        {QTY("3", ",\"unit\":\" MG/DL \""), LAB_READ_EXACT, 3, LAB_BELOW, "3 MG/DL"},
        {QTY("3", ",\"unit\":\"mg/dL\",\"code\":\"MGDL-LOCAL\""), LAB_READ_EXACT, 3, LAB_BELOW,
         "3 mg/dL"},
        /* near misses: a unit the service does not convert, or none: on record, not low */
        {QTY("3", ",\"code\":\"g/dL\""), LAB_READ_NO_UNIT, -1, LAB_NOT_COMPARABLE, ""},
        {QTY("3", ""), LAB_READ_NO_UNIT, -1, LAB_NOT_COMPARABLE, ""},
        {QTY("3", ",\"code\":\"mg/dL mg/dL mg/dL mg/dL mg/dL\""), LAB_READ_NO_UNIT, -1,
         LAB_NOT_COMPARABLE, ""},
        /* a number that is no quantity: negative, a string, absent, too large once converted */
        {QTY("-3", MGDL), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {QTY("\"3\"", MGDL), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {"\"valueQuantity\":{\"code\":\"mg/dL\"}", LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {QTY("1e307", ",\"code\":\"g/L\""), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
    };
    check_values(cases, sizeof cases / sizeof cases[0]);
}

#define STR(s) "\"valueString\":\"" s "\""

static void test_numbers_in_value_string(void **state)
{
    (void)state;
    static const struct value_case cases[] = {
        {STR("< 7 mg/dL"), LAB_READ_LT, 7, LAB_BELOW, "<7 mg/dL"},
        {STR("6.5 mg/dl"), LAB_READ_EXACT, 6.5, LAB_BELOW, "6.5 mg/dl"},
        {STR("<0.07 g/L"), LAB_READ_LT, 7, LAB_BELOW, "<0.07 g/L"},
        {STR("  <=7mg/dL  "), LAB_READ_LE, 7, LAB_UNREADABLE, "<=7 mg/dL"},
        {STR("\\u2264 6 mg/dL"), LAB_READ_LE, 6, LAB_BELOW, "<=6 mg/dL"},
        {STR(">= 7 mg/dL"), LAB_READ_GE, 7, LAB_NOT_BELOW, NULL},
        {STR(".5 g/L"), LAB_READ_EXACT, 50, LAB_NOT_BELOW, NULL},
        {STR("150 MG/DL"), LAB_READ_EXACT, 150, LAB_NOT_BELOW, NULL},
        /* no unit: on record, not low */
        {STR("<7"), LAB_READ_NO_UNIT, -1, LAB_NOT_COMPARABLE, ""},
        {STR("6.5"), LAB_READ_NO_UNIT, -1, LAB_NOT_COMPARABLE, ""},
        /* words, or a number among words: on record, value unknown */
        {STR("undetectable"), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {STR("Negative"), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {STR("6.5 mg/dL see note"), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {STR("6.5 mg/dL mg/dL mg/dL mg/dL"), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {STR("7,0 mg/dL"), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {STR("-5 mg/dL"), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {STR("1.2.3 mg/dL"), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {STR("<"), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {STR("1234567890123456 mg/dL"), LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {STR("< 7 mg/dL, repeated on a second sample, confirmed by the reference lab"),
         LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        {"\"valueString\":7", LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
        /* valueInteger: a number without a unit */
        {"\"valueInteger\":150", LAB_READ_NO_UNIT, -1, LAB_NOT_COMPARABLE, ""},
        {"\"valueCodeableConcept\":{\"text\":\"undetectable\"}", LAB_READ_UNKNOWN, -1,
         LAB_UNREADABLE, ""},
        {"\"issued\":\"2026-11-20T10:00:00Z\"", LAB_READ_UNKNOWN, -1, LAB_UNREADABLE, ""},
    };
    check_values(cases, sizeof cases / sizeof cases[0]);
}

#define DAR(code)                                                                                  \
    "\"dataAbsentReason\":{\"coding\":[{\"system\":"                                               \
    "\"http://terminology.hl7.org/CodeSystem/data-absent-reason\",\"code\":\"" code "\"}]}"

static void test_data_absent_reason(void **state)
{
    (void)state;
    struct view_lab lab = iga_of(obs("\"final\"", LOINC_IGA, DAR("masked")));
    assert_true(lab.present); /* on record, value unknown: never a critical card */
    assert_int_equal(lab.read, LAB_READ_UNKNOWN);
    assert_int_equal(lab.why, LAB_WHY_ABSENT);
    assert_int_equal(view_lab_below(&lab, IGA_LIMIT), LAB_UNREADABLE);
    /* a reason beside a value (FHIR obs-6 forbids it): the reason wins */
    lab = iga_of(obs("\"final\"", LOINC_IGA, DAR("masked") "," QTY("3", MGDL)));
    assert_int_equal(lab.read, LAB_READ_UNKNOWN);
    lab = iga_of(obs("\"final\"", LOINC_IGA, "\"dataAbsentReason\":{\"text\":\"withheld\"}"));
    assert_int_equal(lab.why, LAB_WHY_ABSENT);
    /* error, not-performed: there is no result (Cerner sends error with entered-in-error) */
    assert_false(iga_of(obs("\"final\"", LOINC_IGA, DAR("error"))).present);
    assert_false(iga_of(obs("\"final\"", LOINC_IGA, DAR(" Error "))).present);
    assert_false(iga_of(obs("\"final\"", LOINC_IGA, DAR("not-performed"))).present);
}

static void test_status_trimmed_and_lower_cased(void **state)
{
    (void)state;
    static const struct {
        const char *status;
        bool counts;
    } cases[] = {
        {"\"final\"", true},
        {"\"amended\"", true},
        {"\"corrected\"", true},
        {"\" Final \"", true},
        {"\"preliminary\"", false},
        {"\"registered\"", false},
        {"\"cancelled\"", false},
        {"\"entered-in-error\"", false},
        {"\"entered-in-error \"", false},
        {"\"finalized\"", false},
        {"\"\"", false},
        {"7", false},
        {"null", false},
        {"\"final                                  \"", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("status %s\n", cases[i].status);
        struct view_lab lab = iga_of(obs(cases[i].status, LOINC_IGA, QTY("3", MGDL)));
        assert_int_equal(lab.present, cases[i].counts);
    }
}

static void test_loinc_in_any_coding(void **state)
{
    (void)state;
    static const struct {
        const char *codings;
        bool iga;
    } cases[] = {
        /* Cerner: the tenant's codeSet 72 coding first, LOINC second */
        {"{\"system\":\"https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/"
         "72\",\"code\":\"2700653\",\"display\":\"IgA\"}," LOINC_IGA,
         true},
        {"{\"system\":\"urn:oid:2.16.840.1.113883.6.1\",\"code\":\"2458-8\"}", true},
        /* near misses: the tenant coding alone, a neighbouring LOINC, LOINC's code elsewhere */
        {"{\"system\":\"https://fhir.cerner.com/x/codeSet/72\",\"code\":\"2700653\","
         "\"display\":\"IgA\"}",
         false},
        {"{\"system\":\"http://loinc.org\",\"code\":\"2465-3\"}", false},
        {"{\"system\":\"http://snomed.info/sct\",\"code\":\"2458-8\"}", false},
        {"{\"code\":\"2458-8\"}", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("codings %s\n", cases[i].codings);
        assert_int_equal(iga_of(obs("\"final\"", cases[i].codings, QTY("3", MGDL))).present,
                         cases[i].iga);
    }
}

/* The IgA value kept from two results a and b, in both orders of the record. */
static double latest_of(const char *a, const char *b)
{
    char record[4096];
    snprintf(record, sizeof record, "%s,%s", obs("\"final\"", LOINC_IGA, a),
             obs("\"final\"", LOINC_IGA, b));
    double first = iga_of(record).value;
    snprintf(record, sizeof record, "%s,%s", obs("\"final\"", LOINC_IGA, b),
             obs("\"final\"", LOINC_IGA, a));
    assert_true(iga_of(record).value == first); /* the order of the record does not matter */
    return first;
}

static void test_latest_by_effective_then_issued(void **state)
{
    (void)state;
    /* effective decides, not issued: the later-drawn result was issued earlier */
    assert_true(
        latest_of("\"effectiveDateTime\":\"2026-10-01\",\"issued\":\"2026-11-15T08:00:00Z\"," QTY(
                      "150", MGDL),
                  "\"effectiveDateTime\":\"2026-11-01\",\"issued\":\"2026-11-02T08:00:00Z\"," QTY(
                      "3", MGDL)) == 3);
    /* effectivePeriod.start and effectiveInstant count as effective */
    assert_true(latest_of("\"effectivePeriod\":{\"start\":\"2026-11-10\"}," QTY("3", MGDL),
                          "\"effectiveDateTime\":\"2026-11-01\"," QTY("150", MGDL)) == 3);
    assert_true(latest_of("\"effectiveInstant\":\"2026-11-10T10:00:00.000Z\"," QTY("3", MGDL),
                          "\"effectiveDateTime\":\"2026-11-01\"," QTY("150", MGDL)) == 3);
    /* issued: the fallback without effective[x], and the tie-break on the same effective */
    assert_true(latest_of("\"issued\":\"2026-11-10T10:00:00Z\"," QTY("3", MGDL),
                          "\"effectiveDateTime\":\"2026-11-01\"," QTY("150", MGDL)) == 3);
    assert_true(
        latest_of("\"effectiveDateTime\":\"2026-11-01\",\"issued\":\"2026-11-03\"," QTY("3", MGDL),
                  "\"effectiveDateTime\":\"2026-11-01\",\"issued\":\"2026-11-02\"," QTY(
                      "150", MGDL)) == 3);
    /* times and zones on the same day: 23:00 at -05:00 is 04:00Z the next day */
    assert_true(latest_of("\"effectiveDateTime\":\"2026-11-20T23:00:00-05:00\"," QTY("3", MGDL),
                          "\"effectiveDateTime\":\"2026-11-21T02:00:00Z\"," QTY("150", MGDL)) == 3);
    assert_true(latest_of("\"effectiveDateTime\":\"2026-11-20T09:30:00+01:00\"," QTY("3", MGDL),
                          "\"effectiveDateTime\":\"2026-11-20T08:00:00Z\"," QTY("150", MGDL)) == 3);
    /* a dated result beats an undated one; an unreadable date counts as none */
    assert_true(latest_of("\"effectiveDateTime\":\"2020-01-01\"," QTY("3", MGDL),
                          "\"effectiveDateTime\":\"yesterday\"," QTY("150", MGDL)) == 3);
}

static void test_unreadable_result_yields_to_a_readable_one(void **state)
{
    (void)state;
    /* a newer masked result is no result: the older value stands */
    char record[4096];
    snprintf(record, sizeof record, "%s,%s",
             obs("\"final\"", LOINC_IGA, "\"effectiveDateTime\":\"2026-11-01\"," DAR("masked")),
             obs("\"final\"", LOINC_IGA, "\"effectiveDateTime\":\"2026-01-01\"," QTY("3", MGDL)));
    struct view_lab lab = iga_of(record);
    assert_int_equal(lab.read, LAB_READ_EXACT);
    assert_int_equal(view_lab_below(&lab, IGA_LIMIT), LAB_BELOW);
    /* two unreadable results: on record, value unknown, the later one's date */
    snprintf(
        record, sizeof record, "%s,%s",
        obs("\"final\"", LOINC_IGA, "\"effectiveDateTime\":\"2026-11-01\"," DAR("masked")),
        obs("\"final\"", LOINC_IGA, "\"effectiveDateTime\":\"2026-01-01\"," STR("undetectable")));
    lab = iga_of(record);
    assert_true(lab.present);
    assert_int_equal(lab.why, LAB_WHY_ABSENT);
    long day = 0;
    fhir_date_days("2026-11-01", &day);
    assert_int_equal(lab.day, day);
}

static void test_weight_is_a_plain_number(void **state)
{
    (void)state;
    const char *w = "{\"system\":\"http://loinc.org\",\"code\":\"29463-7\"}";
    char record[4096];
    struct patient_view v;
    json_object *keep = NULL;
    snprintf(record, sizeof record, "%s,%s,%s",
             obs("\"final\"", w,
                 "\"effectiveDateTime\":\"2026-01-01\",\"valueQuantity\":{\"value\":185,"
                 "\"unit\":\"lbs\",\"code\":\"[lb_av]\"}"),
             obs("\"final\"", w,
                 "\"effectiveDateTime\":\"2026-11-01\",\"valueQuantity\":{\"value\":90,"
                 "\"comparator\":\"<\",\"code\":\"kg\"}"),
             obs("\"final\"", w, "\"effectiveDateTime\":\"2026-11-02\"," STR("90 kg")));
    build(&v, HOOK_ORDER_SIGN, record, NULL, &keep);
    /* a bound or a text is no weight: the older plain one stands */
    assert_int_equal(v.labs[LAB_WEIGHT].read, LAB_READ_EXACT);
    assert_true(v.labs[LAB_WEIGHT].value > 83.9 && v.labs[LAB_WEIGHT].value < 84.0);
    view_free(&v);
    json_object_put(keep);
}

static void test_other_labs_count_by_presence(void **state)
{
    (void)state;
    const char *tpmt = "{\"system\":\"http://loinc.org\",\"code\":\"21563-2\"}";
    const char *hbs = "{\"system\":\"http://loinc.org\",\"code\":\"5196-1\"}";
    char record[4096];
    struct patient_view v;
    json_object *keep = NULL;
    snprintf(
        record, sizeof record, "%s,%s,%s",
        obs("\"final\"", tpmt, "\"valueQuantity\":{\"value\":\"low\"}"),
        obs("\"corrected\"", hbs, STR("Negative")),
        obs("\"final\"", "{\"system\":\"http://loinc.org\",\"code\":\"1742-6\"}", DAR("error")));
    build(&v, HOOK_ORDER_SIGN, record, NULL, &keep);
    assert_true(v.labs[LAB_TPMT].present);
    assert_true(v.labs[LAB_HBSAG].present);
    assert_false(v.labs[LAB_LIVER].present); /* an error is no result */
    view_free(&v);
    json_object_put(keep);
}

#define SR(status, code)                                                                           \
    "{\"resource\":{\"resourceType\":\"ServiceRequest\",\"status\":\"" status "\",\"intent\":"     \
    "\"order\",\"code\":" code "}}"

static void test_iga_test_in_the_draft_orders(void **state)
{
    (void)state;
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_ORDER_SIGN, "",
          SR("draft", "{\"coding\":[{\"system\":\"https://fhir.cerner.com/x/codeSet/200\","
                      "\"code\":\"1\",\"display\":\"IgA Level\"}," LOINC_IGA
                      "]}") "," SR("draft", "{\"text\":\"Tissue transglutaminase IgA\"}"),
          &keep);
    assert_true(v.lab_ordered & (1u << LAB_IGA));
    assert_int_equal(v.n_test_names, 2);
    assert_string_equal(v.test_names[0], "IgA Level");
    assert_string_equal(v.test_names[1], "Tissue transglutaminase IgA");
    view_free(&v);
    json_object_put(keep);

    /* near misses: a cancelled draft, or an IgA order in the record, is not being ordered */
    build(&v, HOOK_ORDER_SIGN, SR("active", "{\"coding\":[" LOINC_IGA "]}"),
          SR("entered-in-error", "{\"coding\":[" LOINC_IGA "],\"text\":\"IgA\"}"), &keep);
    assert_int_equal(v.lab_ordered, 0);
    assert_int_equal(v.n_test_names, 0);
    view_free(&v);
    json_object_put(keep);
}

static void test_many_draft_tests_are_capped(void **state)
{
    (void)state;
    char drafts[8192] = "";
    size_t len = 0;
    for (int i = 0; i < 3 * VIEW_TEST_NAMES_MAX; i++)
        len += (size_t)snprintf(drafts + len, sizeof drafts - len,
                                "%s" SR("draft", "{\"text\":\"CBC\"}"), i > 0 ? "," : "");
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_ORDER_SIGN, "", drafts, &keep);
    assert_int_equal(v.n_test_names, VIEW_TEST_NAMES_MAX);
    view_free(&v);
    json_object_put(keep);
}

static void test_verdict_of_hand_made_results(void **state)
{
    (void)state;
    struct view_lab none = {0};
    assert_int_equal(view_lab_below(&none, IGA_LIMIT), LAB_NO_RESULT);
    struct view_lab bad = {.present = true, .read = LAB_READ_LT, .value = -1};
    assert_int_equal(view_lab_below(&bad, IGA_LIMIT), LAB_UNREADABLE);
    struct view_lab nan_value = {.present = true, .read = LAB_READ_EXACT, .value = NAN};
    assert_int_equal(view_lab_below(&nan_value, IGA_LIMIT), LAB_UNREADABLE);
    struct view_lab zero = {.present = true, .read = LAB_READ_EXACT, .value = 0};
    assert_int_equal(view_lab_below(&zero, IGA_LIMIT), LAB_BELOW);
    struct view_lab lt = {.present = true, .read = LAB_READ_LT, .value = 7};
    assert_int_equal(view_lab_below(&lt, 5), LAB_UNREADABLE); /* a site's lower threshold */
    assert_int_equal(view_lab_below(&lt, 10), LAB_BELOW);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comparators_against_the_limit),
        cmocka_unit_test(test_iga_units),
        cmocka_unit_test(test_numbers_in_value_string),
        cmocka_unit_test(test_data_absent_reason),
        cmocka_unit_test(test_status_trimmed_and_lower_cased),
        cmocka_unit_test(test_loinc_in_any_coding),
        cmocka_unit_test(test_latest_by_effective_then_issued),
        cmocka_unit_test(test_unreadable_result_yields_to_a_readable_one),
        cmocka_unit_test(test_weight_is_a_plain_number),
        cmocka_unit_test(test_other_labs_count_by_presence),
        cmocka_unit_test(test_iga_test_in_the_draft_orders),
        cmocka_unit_test(test_many_draft_tests_are_capped),
        cmocka_unit_test(test_verdict_of_hand_made_results),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("view_labs", tests, setup, teardown);
}

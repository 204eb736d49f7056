/* test_view_course.c - what the patient is really on, and what results say: courses of
 * consecutive orders, a draft replacing an active order, agents whose effect lasts, what
 * an order says it treats, local forms, and results read for their value. Each reading
 * has a near miss. Today is 2026-11-22 (view_harness.h). */
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

#define LOINC "\"system\":\"http://loinc.org\""
#define SCT "\"system\":\"http://snomed.info/sct\""

/* A prednisone MedicationRequest: id, status, authoredOn, mg daily, days (0: open-ended),
 * and extra members ("" or ",\"reasonCode\":..."). */
static const char *pred(char *buf, size_t cap, const char *id, const char *status, const char *when,
                        int mg, int days, const char *extra)
{
    char bounds[160] = "";
    if (days > 0)
        snprintf(bounds, sizeof bounds,
                 ",\"boundsDuration\":{\"value\":%d,\"unit\":\"d\",\"system\":"
                 "\"http://unitsofmeasure.org\",\"code\":\"d\"}",
                 days);
    snprintf(buf, cap,
             "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"%s\",\"status\":"
             "\"%s\",\"intent\":\"order\",\"authoredOn\":\"%s\",\"medicationCodeableConcept\":"
             "{\"coding\":[{" RX ",\"code\":\"8640\"}]},\"dosageInstruction\":[{\"route\":"
             "{\"text\":\"oral\"},\"timing\":{\"repeat\":{\"frequency\":1,\"period\":1,"
             "\"periodUnit\":\"d\"%s}},\"doseAndRate\":[{\"doseQuantity\":{\"value\":%d,"
             "\"unit\":\"mg\"}}]}]%s}}",
             id, status, when, bounds, mg, extra);
    return buf;
}

static const struct view_med *med_by_id(const struct patient_view *v, const char *id)
{
    for (int i = 0; i < v->n_meds; i++)
        if (v->meds[i].id != NULL && strcmp(v->meds[i].id, id) == 0)
            return &v->meds[i];
    return NULL;
}

static long day_of(const char *date)
{
    long d = -1;
    fhir_date_days(date, &d);
    return d;
}

/* 20 mg for 21 days, then another 21 days from today: one course of 42 days at 20 mg. */
static void test_consecutive_orders_are_one_course(void **state)
{
    (void)state;
    char a[1024], b[1024];
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_ORDER_SIGN, pred(a, sizeof a, "old", "completed", "2026-11-01", 20, 21, ""),
          pred(b, sizeof b, "new", "draft", "2026-11-22", 20, 21, ""), &keep);
    const struct view_med *m = med_by_id(&v, "new");
    assert_non_null(m);
    assert_int_equal(m->course_orders, 2);
    assert_int_equal(m->course_start, day_of("2026-11-01"));
    assert_true(fabs(view_course_days_at(&v, m, 20) - 42) < 1e-9);
    assert_true(fabs(view_course_days_at(&v, m, 25)) < 1e-9); /* never at 25 mg */
    view_free(&v);
    json_object_put(keep);

    /* near miss: the old order ended on 2026-11-09, a gap of 13 days */
    build(&v, HOOK_ORDER_SIGN, pred(a, sizeof a, "old", "completed", "2026-10-20", 20, 21, ""),
          pred(b, sizeof b, "new", "draft", "2026-11-22", 20, 21, ""), &keep);
    m = med_by_id(&v, "new");
    assert_int_equal(m->course_orders, 1);
    assert_int_equal(m->course_start, day_of("2026-11-22"));
    assert_true(fabs(view_course_days_at(&v, m, 20) - 21) < 1e-9);
    view_free(&v);
    json_object_put(keep);
}

/* A 60 mg draft replaces the active 40 mg order: today's dose is the draft's, and the
 * course began with the active order. */
static void test_draft_replaces_active_order(void **state)
{
    (void)state;
    char a[1024], b[1024];
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_ORDER_SIGN, pred(a, sizeof a, "act", "active", "2026-11-01", 40, 0, ""),
          pred(b, sizeof b, "new", "draft", "2026-11-22", 60, 14, ""), &keep);
    assert_true(med_by_id(&v, "act")->replaced);
    assert_false(med_by_id(&v, "new")->replaced);
    assert_true(fabs(view_pred_total(&v) - 60) < 1e-9);
    const struct view_med *m = med_by_id(&v, "new");
    assert_int_equal(m->course_start, day_of("2026-11-01"));
    assert_true(fabs(view_course_days_at(&v, m, 20) - 35) < 1e-9); /* 21 + 14 */
    view_free(&v);
    json_object_put(keep);
}

static const char *rituximab(char *buf, size_t cap, const char *id, const char *when)
{
    snprintf(buf, cap,
             "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"%s\",\"status\":"
             "\"completed\",\"intent\":\"order\",\"authoredOn\":\"%s\","
             "\"medicationCodeableConcept\":{\"coding\":[{" RX ",\"code\":\"121191\"}]},"
             "\"dosageInstruction\":[{\"route\":{\"text\":\"intravenous\"},\"timing\":{\"repeat\":"
             "{\"frequency\":1,\"period\":14,\"periodUnit\":\"d\",\"boundsDuration\":{\"value\":15,"
             "\"unit\":\"d\"}}},\"doseAndRate\":[{\"doseQuantity\":{\"value\":1000,\"unit\":"
             "\"mg\"}}]}]}}",
             id, when);
    return buf;
}

/* Rituximab completed in September still counts in November; last year's does not. */
static void test_rituximab_lasts_six_months(void **state)
{
    (void)state;
    char a[1024], b[1024], both[2100];
    struct patient_view v;
    json_object *keep = NULL;
    snprintf(both, sizeof both, "%s,%s", rituximab(a, sizeof a, "r1", "2026-09-01"),
             rituximab(b, sizeof b, "r0", "2025-09-01"));
    build(&v, HOOK_ORDER_SIGN, both, NULL, &keep);
    assert_int_equal(v.n_meds, 1);
    assert_true(v.meds[0].lasting);
    assert_false(v.meds[0].trigger);
    assert_int_equal(v.meds[0].last_day, day_of("2026-09-15"));
    assert_true(v.meds[0].classes & DC_IMMUNOSUPPRESSANT);
    view_free(&v);
    json_object_put(keep);

    build(&v, HOOK_ORDER_SIGN, rituximab(b, sizeof b, "r0", "2025-09-01"), NULL, &keep);
    assert_int_equal(v.n_meds, 0);
    view_free(&v);
    json_object_put(keep);
}

/* What an order says it treats: another condition, a myopathy by code or by a referenced
 * Condition, or nothing. */
static void test_what_an_order_treats(void **state)
{
    (void)state;
    static const struct {
        const char *extra;
        enum med_reason want;
    } cases[] = {
        {",\"reasonCode\":[{\"text\":\"COPD exacerbation\"}]", REASON_OTHER},
        {",\"reasonCode\":[{\"coding\":[{" SCT ",\"code\":\"396230008\"}]}]", REASON_MYOSITIS},
        {",\"reasonReference\":[{\"reference\":\"Condition/c1\"}]", REASON_MYOSITIS},
        {",\"reasonReference\":[{\"reference\":\"Condition/none\",\"display\":\"Asthma\"}]",
         REASON_OTHER},
        {"", REASON_UNSTATED},
    };
    const char *cond = "{\"resource\":{\"resourceType\":\"Condition\",\"id\":\"c1\",\"code\":"
                       "{\"coding\":[{" SCT ",\"code\":\"31384009\"}]}}}";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char b[1400];
        struct patient_view v;
        json_object *keep = NULL;
        build(&v, HOOK_ORDER_SIGN, cond,
              pred(b, sizeof b, "new", "draft", "2026-11-22", 40, 5, cases[i].extra), &keep);
        print_message("case %zu\n", i);
        assert_int_equal(med_by_id(&v, "new")->reason, cases[i].want);
        view_free(&v);
        json_object_put(keep);
    }
}

/* Tacrolimus as an ointment is local; with no route or form, unknown; by mouth, systemic. */
static void test_local_forms_of_agents(void **state)
{
    (void)state;
    static const struct {
        const char *route;
        enum route_class want;
    } cases[] = {
        {",\"route\":{\"text\":\"topical\"}", ROUTE_LOCAL},
        {"", ROUTE_UNKNOWN},
        {",\"route\":{\"text\":\"oral\"}", ROUTE_SYSTEMIC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char r[512];
        snprintf(r, sizeof r,
                 "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"t\",\"status\":"
                 "\"active\",\"intent\":\"order\",\"medicationCodeableConcept\":{\"coding\":[{" RX
                 ",\"code\":\"42316\"}]},\"dosageInstruction\":[{\"text\":\"as directed\"%s}]}}",
                 cases[i].route);
        struct patient_view v;
        json_object *keep = NULL;
        build(&v, HOOK_PATIENT_VIEW, r, NULL, &keep);
        assert_int_equal(v.n_meds, 1);
        assert_int_equal(v.meds[0].route, cases[i].want);
        view_free(&v);
        json_object_put(keep);
    }
}

/* One final Observation of LOINC code with the given value members. */
static const char *result(char *buf, size_t cap, const char *code, const char *value)
{
    snprintf(buf, cap,
             "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":"
             "{\"coding\":[{" LOINC ",\"code\":\"%s\"}]},\"effectiveDateTime\":\"2026-11-20\",%s}}",
             code, value);
    return buf;
}

#define QTY(v, u) "\"valueQuantity\":{\"value\":" #v ",\"unit\":\"" u "\"}"
#define RANGE(lo, hi, u)                                                                           \
    "\"referenceRange\":[{\"low\":{\"value\":" #lo ",\"unit\":\"" u "\"},\"high\":{\"value\":" #hi \
    ",\"unit\":\"" u "\"}}]"
#define FLAG(c)                                                                                    \
    "\"interpretation\":[{\"coding\":[{\"system\":"                                                \
    "\"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation\",\"code\":\"" c         \
    "\"}]}]"
#define ANSWER(c) "\"valueCodeableConcept\":{\"coding\":[{" SCT ",\"code\":\"" c "\"}]}"

/* The finding of one result of kind (code), by f. */
static enum lab_finding finding(const char *code, const char *value, enum lab_kind kind, int f)
{
    char r[1024];
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_PATIENT_VIEW, result(r, sizeof r, code, value), NULL, &keep);
    const struct view_lab *lab = &v.labs[kind];
    enum lab_finding out = f == 0   ? view_lab_positive(lab)
                           : f == 1 ? view_lab_above_uln(lab, 3, 40)
                                    : view_lab_tpmt(lab, 24, 17);
    view_free(&v);
    json_object_put(keep);
    return out;
}

static void test_serology_by_its_value(void **state)
{
    (void)state;
    assert_int_equal(finding("5196-1", ANSWER("10828004"), LAB_HBSAG, 0), FINDING_ABNORMAL);
    assert_int_equal(finding("5196-1", ANSWER("260385009"), LAB_HBSAG, 0), FINDING_OK);
    assert_int_equal(finding("16933-4", "\"valueString\":\"REACTIVE\"", LAB_HBC, 0),
                     FINDING_ABNORMAL);
    assert_int_equal(finding("16933-4", "\"valueString\":\"Non-Reactive\"", LAB_HBC, 0),
                     FINDING_OK);
    assert_int_equal(finding("16128-1",
                             QTY(8.2, "{s_co_ratio}") ",\"referenceRange\":[{\"high\":"
                                                      "{\"value\":0.99}}]",
                             LAB_HCV, 0),
                     FINDING_ABNORMAL);
    assert_int_equal(finding("16128-1", QTY(0.1, "{s_co_ratio}") "," FLAG("N"), LAB_HCV, 0),
                     FINDING_OK);
    assert_int_equal(finding("16128-1", "\"valueString\":\"See comment\"", LAB_HCV, 0),
                     FINDING_UNREADABLE);
    assert_int_equal(finding("16128-1", "\"valueString\":\"x\"," FLAG("POS"), LAB_HCV, 0),
                     FINDING_ABNORMAL);
}

static void test_liver_enzymes_against_three_times_the_limit(void **state)
{
    (void)state;
    assert_int_equal(finding("1742-6", QTY(250, "U/L") "," RANGE(7, 56, "U/L"), LAB_LIVER, 1),
                     FINDING_ABNORMAL);
    assert_int_equal(finding("1742-6", QTY(150, "U/L") "," RANGE(7, 56, "U/L"), LAB_LIVER, 1),
                     FINDING_OK);
    /* no range: the configured 40 U/L, in U/L only */
    assert_int_equal(finding("1742-6", QTY(150, "U/L"), LAB_LIVER, 1), FINDING_ABNORMAL);
    assert_int_equal(finding("1742-6", QTY(2.5, "ukat/L"), LAB_LIVER, 1), FINDING_UNREADABLE);
    /* AST is its own kind */
    assert_int_equal(finding("1920-8", QTY(200, "U/L") "," RANGE(10, 40, "U/L"), LAB_AST, 1),
                     FINDING_ABNORMAL);
}

static void test_tpmt_by_activity_and_genotype(void **state)
{
    (void)state;
    assert_int_equal(finding("21563-2", QTY(1, "U/mL") "," FLAG("LL"), LAB_TPMT, 2),
                     FINDING_SEVERE);
    assert_int_equal(finding("21563-2", QTY(20, "U/mL"), LAB_TPMT, 2), FINDING_ABNORMAL);
    assert_int_equal(finding("21563-2", QTY(30, "U/mL"), LAB_TPMT, 2), FINDING_OK);
    /* the laboratory's own range decides over the configured limit */
    assert_int_equal(finding("21563-2", QTY(20, "U/mL") "," RANGE(15, 40, "U/mL"), LAB_TPMT, 2),
                     FINDING_OK);
    assert_int_equal(finding("36922-3", "\"valueString\":\"*3A/*3A\"", LAB_TPMT, 2),
                     FINDING_SEVERE);
    assert_int_equal(finding("36922-3", "\"valueString\":\"*1/*3A\"", LAB_TPMT, 2),
                     FINDING_ABNORMAL);
    assert_int_equal(finding("36922-3", "\"valueString\":\"*1/*1\"", LAB_TPMT, 2), FINDING_OK);
    /* an allele CPIC does not list as no-function leaves it unread, never normal */
    assert_int_equal(finding("36922-3", "\"valueString\":\"*1/*8\"", LAB_TPMT, 2),
                     FINDING_UNREADABLE);
    assert_int_equal(finding("36922-3", "\"valueString\":\"Poor metabolizer\"", LAB_TPMT, 2),
                     FINDING_SEVERE);
}

/* Height in cm, m or inches; an implausible one is no height. */
static void test_height_units(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        double cm;
    } cases[] = {
        {QTY(138, "cm"), 138}, {QTY(1.38, "m"), 138}, {QTY(54, "[in_i]"), 137.16},
        {QTY(138, "kg"), -1},  {QTY(1380, "cm"), -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char r[1024];
        struct patient_view v;
        json_object *keep = NULL;
        build(&v, HOOK_PATIENT_VIEW, result(r, sizeof r, "8302-2", cases[i].value), NULL, &keep);
        print_message("case %zu\n", i);
        if (cases[i].cm > 0)
            assert_true(fabs(v.labs[LAB_HEIGHT].value - cases[i].cm) < 1e-6);
        else
            assert_true(v.labs[LAB_HEIGHT].read != LAB_READ_EXACT);
        view_free(&v);
        json_object_put(keep);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consecutive_orders_are_one_course),
        cmocka_unit_test(test_draft_replaces_active_order),
        cmocka_unit_test(test_rituximab_lasts_six_months),
        cmocka_unit_test(test_what_an_order_treats),
        cmocka_unit_test(test_local_forms_of_agents),
        cmocka_unit_test(test_serology_by_its_value),
        cmocka_unit_test(test_liver_enzymes_against_three_times_the_limit),
        cmocka_unit_test(test_tpmt_by_activity_and_genotype),
        cmocka_unit_test(test_height_units),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

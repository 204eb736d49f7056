/* test_view.c - the patient view from FHIR JSON: conditions, medications, labs, allergies,
 * with the real hooks/terminology.json. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "view_harness.h"

static void test_condition_status_and_subtypes(void **state)
{
    (void)state;
    static const struct {
        const char *resource;
        unsigned iim;
        unsigned flags;
    } cases[] = {
        {"{\"resource\":{\"resourceType\":\"Condition\",\"code\":{\"coding\":[{\"system\":"
         "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"M33.21\"}]}}}",
         IIM_PM, COND_ILD},
        {"{\"resource\":{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{"
         "\"code\":\"resolved\"}]},\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
         "\"code\":\"31384009\"}]}}}",
         0, 0},
        {"{\"resource\":{\"resourceType\":\"Condition\",\"verificationStatus\":{\"coding\":[{"
         "\"code\":\"refuted\"}]},\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
         "\"code\":\"72315009\"}]}}}",
         0, 0},
        {"{\"resource\":{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{"
         "\"code\":\"relapse\"}]},\"code\":{\"text\":\"Juvenile dermatomyositis\"}}}",
         IIM_JDM, 0},
        {"{\"resource\":{\"resourceType\":\"Condition\",\"code\":{\"coding\":[{\"system\":"
         "\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"D80.2\"}]}}}",
         0, COND_IGA_DEFICIENCY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct patient_view v;
        json_object *keep = NULL;
        print_message("case %zu\n", i);
        build(&v, HOOK_PATIENT_VIEW, cases[i].resource, NULL, &keep);
        assert_int_equal(v.iim, cases[i].iim);
        assert_int_equal(v.cond_flags, cases[i].flags);
        view_free(&v);
        json_object_put(keep);
    }
}

static void test_medications_by_code_text_and_contained(void **state)
{
    (void)state;
    const char *record =
        /* an SCD code, two tablets a day: 40 mg */
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"a\",\"status\":\"active\","
        "\"medicationCodeableConcept\":{\"coding\":[{" RX ",\"code\":\"312615\"}]},"
        "\"dosageInstruction\":[{" DAILY ",\"doseAndRate\":[{\"doseQuantity\":{\"value\":2,"
        "\"unit\":\"tablet\"}}]}]}},"
        /* tall-man text only, stopped: not active */
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"b\",\"status\":\"stopped\","
        "\"medicationCodeableConcept\":{\"text\":\"methotrexate 2.5 mg tablet\"}}},"
        /* contained Medication */
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"c\",\"status\":\"active\","
        "\"contained\":[{\"resourceType\":\"Medication\",\"id\":\"m1\",\"code\":{\"coding\":[{" RX
        ",\"code\":\"1256\"}]}}],\"medicationReference\":{\"reference\":\"#m1\"}}},"
        /* inhaled: not systemic */
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"d\",\"status\":\"active\","
        "\"medicationCodeableConcept\":{\"text\":\"fluticasone\"}}}";
    const char *drafts =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"e\",\"status\":\"draft\","
        "\"medicationCodeableConcept\":{\"text\":\"predniSONE 20 mg tablet\"},"
        "\"dosageInstruction\":[{\"route\":{\"text\":\"Inhalation\"}}]}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_ORDER_SIGN, record, drafts, &keep);
    assert_int_equal(v.n_meds, 3);
    const struct view_med *draft = &v.meds[0];
    assert_true(draft->ordered && draft->trigger && !draft->systemic);
    const struct view_med *pred = view_find(&v, DC_GLUCOCORTICOID, false);
    assert_ptr_equal(pred, draft);
    assert_true(v.meds[1].mg_per_day > 39.99 && v.meds[1].mg_per_day < 40.01);
    assert_false(v.meds[1].trigger);
    assert_non_null(view_find(&v, DC_AZATHIOPRINE, false));
    assert_null(view_find(&v, DC_METHOTREXATE, false));
    view_free(&v);
    json_object_put(keep);
}

/* A Medication read after the order that points at it, a draft order sent again in the
 * record, and orders kept in the order they came: the view is the same as if every
 * Medication had come first. */
static void test_references_forward_and_drafts_once(void **state)
{
    (void)state;
    const char *record =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"r1\",\"status\":\"active\","
        "\"medicationReference\":{\"reference\":\"Medication/m9\"}}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"d1\",\"status\":\"active\","
        "\"medicationCodeableConcept\":{\"coding\":[{" RX ",\"code\":\"8640\"}]}}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"r2\",\"status\":\"active\","
        "\"medicationCodeableConcept\":{\"coding\":[{" RX ",\"code\":\"1256\"}]}}},"
        "{\"resource\":{\"resourceType\":\"Medication\",\"id\":\"m9\",\"code\":{\"coding\":[{" RX
        ",\"code\":\"6851\"}]}}}";
    const char *drafts =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"d1\",\"status\":\"draft\","
        "\"medicationCodeableConcept\":{\"coding\":[{" RX ",\"code\":\"8640\"}]}}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_ORDER_SIGN, record, drafts, &keep);
    assert_int_equal(v.n_meds, 3); /* d1 once, as the draft it is */
    assert_string_equal(v.meds[0].id, "d1");
    assert_true(v.meds[0].ordered && (v.meds[0].classes & DC_GLUCOCORTICOID));
    assert_string_equal(v.meds[1].id, "r1");
    assert_true(v.meds[1].classes & DC_METHOTREXATE); /* by the Medication found after it */
    assert_false(v.meds[1].ordered);
    assert_string_equal(v.meds[2].id, "r2");
    assert_true(v.meds[2].classes & DC_AZATHIOPRINE);
    view_free(&v);
    json_object_put(keep);
}

static void test_ivig_by_name_needs_intravenous(void **state)
{
    (void)state;
    const char *drafts =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"i\",\"status\":\"draft\","
        "\"medicationCodeableConcept\":{\"text\":\"Privigen 10% solution\"},"
        "\"dosageInstruction\":[{\"route\":{\"text\":\"Intravenous\"}}]}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"j\",\"status\":\"draft\","
        "\"medicationCodeableConcept\":{\"text\":\"Hizentra immune globulin subcutaneous\"},"
        "\"dosageInstruction\":[{\"route\":{\"text\":\"Subcutaneous\"}}]}}";
    const char *record =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"k\",\"status\":"
        "\"completed\",\"medicationCodeableConcept\":{\"text\":\"Gamunex-C IV\"}}}";
    const char *given = "{\"resource\":{\"resourceType\":\"MedicationAdministration\",\"status\":"
                        "\"completed\",\"medicationCodeableConcept\":{\"text\":\"Privigen\"},"
                        "\"dosage\":{\"route\":{\"text\":\"intravenous\"}}}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_ORDER_SIGN, record, drafts, &keep);
    assert_int_equal(v.n_meds, 1);
    assert_true(v.meds[0].classes & DC_IVIG);
    assert_true(v.past_ivig);
    view_free(&v);
    json_object_put(keep);
    build(&v, HOOK_ORDER_SIGN, given, drafts, &keep); /* an administration counts too */
    assert_true(v.past_ivig);
    view_free(&v);
    json_object_put(keep);
}

static void test_labs_latest_and_units(void **state)
{
    (void)state;
    const char *record =
        "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{"
        "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"2458-8\"}]},"
        "\"effectiveDateTime\":\"2025-01-02\",\"valueQuantity\":{\"value\":150,\"code\":"
        "\"mg/dL\"}}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{"
        "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"2458-8\"}]},"
        "\"effectiveDateTime\":\"2026-03-04T10:00:00Z\",\"valueQuantity\":{\"value\":0.05,"
        "\"code\":\"g/L\"}}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"cancelled\",\"code\":{"
        "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"2458-8\"}]},"
        "\"effectiveDateTime\":\"2026-06-01\",\"valueQuantity\":{\"value\":300,\"code\":"
        "\"mg/dL\"}}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{"
        "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"29463-7\"}]},"
        "\"valueQuantity\":{\"value\":154,\"code\":\"[lb_av]\"}}},"
        "{\"resource\":{\"resourceType\":\"AllergyIntolerance\",\"code\":{\"text\":"
        "\"Sulfa drugs\"}}},"
        "{\"resource\":{\"resourceType\":\"Patient\",\"birthDate\":\"2016-01-01\","
        "\"gender\":\"female\"}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_PATIENT_VIEW, record, NULL, &keep);
    assert_true(v.labs[LAB_IGA].present);
    assert_true(v.labs[LAB_IGA].value > 4.99 &&
                v.labs[LAB_IGA].value < 5.01); /* 0.05 g/L = 5 mg/dL */
    assert_true(v.labs[LAB_WEIGHT].value > 69.8 && v.labs[LAB_WEIGHT].value < 69.9);
    assert_true(v.sulfonamide_allergy);
    assert_int_equal(v.sex, 'f');
    assert_true(v.age_years > 9 && v.age_years < 12);
    view_free(&v);
    json_object_put(keep);
}

static void test_hostile_shapes_do_not_count(void **state)
{
    (void)state;
    /* Strings where numbers belong, arrays where objects belong, a Bundle in a Bundle. */
    const char *record =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"status\":\"active\","
        "\"medicationCodeableConcept\":{\"coding\":[{" RX ",\"code\":\"8640\"}]},"
        "\"dosageInstruction\":[{\"timing\":\"daily\",\"doseAndRate\":[{\"doseQuantity\":{"
        "\"value\":\"60\",\"unit\":\"mg\"}}]}]}},"
        "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":[],"
        "\"valueQuantity\":{\"value\":\"3\"}}},"
        "{\"resource\":{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":"
        "\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Condition\",\"code\":{"
        "\"text\":\"polymyositis\"}}}]}}]}},"
        "{\"resource\":42}, {\"resource\":{\"resourceType\":7}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_PATIENT_VIEW, record, NULL, &keep);
    assert_int_equal(v.n_meds, 1);
    assert_true(v.meds[0].mg_per_day < 0);
    assert_true(v.meds[0].pred_mg_per_day < 0);
    assert_false(v.labs[LAB_IGA].present);
    assert_int_equal(v.iim, 0); /* nesting past the limit is not read */
    view_free(&v);
    json_object_put(keep);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_condition_status_and_subtypes),
        cmocka_unit_test(test_medications_by_code_text_and_contained),
        cmocka_unit_test(test_references_forward_and_drafts_once),
        cmocka_unit_test(test_ivig_by_name_needs_intravenous),
        cmocka_unit_test(test_labs_latest_and_units),
        cmocka_unit_test(test_hostile_shapes_do_not_count),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("view", tests, setup, teardown);
}

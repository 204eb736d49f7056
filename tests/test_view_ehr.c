/* test_view_ehr.c - the view over the shapes real EHRs send, as Epic's CDS Hooks
 * documentation (https://fhir.epic.com/Documentation?docId=cds-hooks), Oracle Health's FHIR
 * R4 examples (github.com/cerner/fhir.cerner.com, lib/resources/example_json/), the FHIR R4
 * and US Core examples (github.com/HL7/US-Core, input/examples/) and Synthea
 * (FhirR4.java in github.com/synthetichealth/synthea) show them: where the Medication
 * travels, how the drug is coded, systemic or not, problem lists and searchset entries. Each
 * reading has a near miss. */
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

#define RX_OID "\"system\":\"urn:oid:2.16.840.1.113883.6.88\""
#define SCT "\"system\":\"http://snomed.info/sct\""

/* A MedicationRequest (status, id) pointing at ref, with an optional display. */
#define MR_REF(id, status, ref)                                                                    \
    "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"" id "\",\"status\":\"" status \
    "\",\"medicationReference\":{\"reference\":\"" ref "\"}}}"
#define MTX_MED(id)                                                                                \
    "{\"resourceType\":\"Medication\",\"id\":\"" id "\",\"code\":{\"coding\":[{\"system\":"        \
    "\"http://www.whocc.no/atc\",\"code\":\"L01BA01\"},{" RX_OID ",\"code\":\"6851\"}]}}"

static unsigned classes_of(const struct patient_view *v, const char *id)
{
    for (int i = 0; i < v->n_meds; i++)
        if (v->meds[i].id != NULL && strcmp(v->meds[i].id, id) == 0)
            return v->meds[i].classes;
    return 0;
}

/* Epic, Synthea, the VA and the FHIR examples: every place a Medication is found. */
static void test_medication_wherever_it_travels(void **state)
{
    (void)state;
    const char *record =
        /* absolute URL, under another base than the entry's fullUrl, found by type + id */
        MR_REF("abs", "active", "https://fhir.example.com/api/FHIR/R4/Medication/eX1") ","
        /* versioned */
        MR_REF("ver", "active", "Medication/eX1/_history/3") ","
        /* urn:uuid = the entry's fullUrl (Synthea) */
        MR_REF("urn", "active", "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0") ","
        /* a _history/ with nothing after it: no reference */
        MR_REF("bad", "active", "Medication/eX1/_history/") ","
        /* a contained id is not looked for among the record's resources */
        MR_REF("cnt", "active",
               "#eX1") ","
                       /* the include entry */
                       "{\"fullUrl\":\"https://ehr.example.org/r4/Medication/"
                       "eX1\",\"search\":{\"mode\":"
                       "\"include\"},\"resource\":" MTX_MED(
                           "eX1") "},"
                                  "{\"fullUrl\":\"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0\","
                                  "\"resource\":"
                                  "{\"resourceType\":\"Medication\",\"code\":{\"coding\":[{" RX_OID
                                  ",\"code\":\"1256\"}]}}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_PATIENT_VIEW, record, NULL, &keep);
    assert_true(classes_of(&v, "abs") & DC_METHOTREXATE);
    assert_true(classes_of(&v, "ver") & DC_METHOTREXATE);
    assert_true(classes_of(&v, "urn") & DC_AZATHIOPRINE);
    assert_int_equal(classes_of(&v, "bad"), 0);
    assert_int_equal(classes_of(&v, "cnt"), 0);
    assert_int_equal(v.n_meds, 3);
    view_free(&v);
    json_object_put(keep);
}

/* Epic's draftOrders: the Medication is a sibling entry (no fullUrl) and is not an order. */
static void test_medication_beside_the_draft_orders(void **state)
{
    (void)state;
    const char *drafts =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"d\",\"status\":\"draft\","
        "\"medicationReference\":{\"reference\":\"Medication/eVBX\",\"display\":"
        "\"PREDNISONE 20 MG PO TABS\"}}},"
        "{\"resource\":{\"resourceType\":\"Medication\",\"id\":\"eVBX\",\"code\":{\"coding\":[{"
        "\"system\":\"urn:oid:2.16.840.1.113883.6.253\",\"code\":\"6379\"},{" RX
        ",\"code\":\"312615\"}]}}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_ORDER_SIGN, "", drafts, &keep);
    assert_int_equal(v.n_meds, 1);
    assert_true(v.meds[0].ordered && v.meds[0].systemic);
    assert_true(v.meds[0].classes & DC_GLUCOCORTICOID);
    assert_string_equal(v.meds[0].label, "PREDNISONE 20 MG PO TABS");
    view_free(&v);
    json_object_put(keep);
}

/* Epic 2020: no Medication anywhere, only the reference's display. */
static void test_display_is_the_last_evidence(void **state)
{
    (void)state;
    const char *record =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"m\",\"status\":\"active\","
        "\"medicationReference\":{\"reference\":\"Medication/gone\",\"display\":"
        "\"METHOTREXATE 2.5 MG PO TABS\"}}},"
        /* near miss: a display naming no drug the rules know */
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"i\",\"status\":\"active\","
        "\"medicationReference\":{\"reference\":\"Medication/gone2\",\"display\":"
        "\"IBUPROFEN 200 MG PO TABS\"}}},"
        /* the Medication's code outranks the display */
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"a\",\"status\":\"active\","
        "\"medicationReference\":{\"reference\":\"Medication/aza\",\"display\":"
        "\"METHOTREXATE 2.5 MG PO TABS\"}}},"
        "{\"resource\":{\"resourceType\":\"Medication\",\"id\":\"aza\",\"code\":{\"coding\":[{" RX
        ",\"code\":\"1256\"}]}}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_PATIENT_VIEW, record, NULL, &keep);
    assert_true(classes_of(&v, "m") & DC_METHOTREXATE);
    assert_int_equal(classes_of(&v, "i"), 0);
    assert_true(classes_of(&v, "a") & DC_AZATHIOPRINE);
    assert_false(classes_of(&v, "a") & DC_METHOTREXATE);
    view_free(&v);
    json_object_put(keep);
}

/* Drug identity: RxNorm by OID, a SNOMED-only product by its name, codings without
 * display in any order; the strength of "5mg" unspaced. */
static void test_drug_identity(void **state)
{
    (void)state;
    const char *record =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"oid\",\"status\":"
        "\"active\",\"medicationCodeableConcept\":{\"coding\":[{" RX_OID
        ",\"code\":\"312615\"}]},\"dosageInstruction\":[{" DAILY
        ",\"doseAndRate\":[{\"doseQuantity\":{\"value\":1,\"unit\":\"tablet\"}}]}]}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"sct\",\"status\":"
        "\"active\",\"medicationCodeableConcept\":{\"coding\":[{" SCT
        ",\"code\":\"373994007\",\"display\":\"Prednisone 5mg tablet (Product)\"}]},"
        "\"dosageInstruction\":[{" DAILY
        ",\"doseAndRate\":[{\"doseQuantity\":{\"value\":2,\"unit\":\"tablet\"}}]}]}},"
        /* near miss: an OID that is not RxNorm's */
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"no\",\"status\":"
        "\"active\",\"medicationCodeableConcept\":{\"coding\":[{\"system\":"
        "\"urn:oid:2.16.840.1.113883.6.89\",\"code\":\"8640\"}]}}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_PATIENT_VIEW, record, NULL, &keep);
    assert_int_equal(v.n_meds, 2);
    assert_string_equal(v.meds[0].id, "oid");
    assert_true(v.meds[0].mg_per_day > 19.99 && v.meds[0].mg_per_day < 20.01);
    assert_string_equal(v.meds[1].id, "sct");
    assert_true(v.meds[1].mg_per_day > 9.99 && v.meds[1].mg_per_day < 10.01);
    view_free(&v);
    json_object_put(keep);
}

/* A glucocorticoid order: route and form as given, and the view's reading of them. */
static enum route_class route_of(const char *drug_and_dosage)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"x\",\"status\":"
             "\"active\",%s}}",
             drug_and_dosage);
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_PATIENT_VIEW, buf, NULL, &keep);
    assert_int_equal(v.n_meds, 1);
    enum route_class r = v.meds[0].route;
    assert_int_equal(v.meds[0].systemic, r == ROUTE_SYSTEMIC);
    view_free(&v);
    json_object_put(keep);
    return r;
}

#define HC_CODE "\"medicationCodeableConcept\":{\"coding\":[{" RX ",\"code\":\"5492\"}]}"
#define PRED_CODE "\"medicationCodeableConcept\":{\"coding\":[{" RX ",\"code\":\"8640\"}]}"

static void test_systemic_or_not(void **state)
{
    (void)state;
    static const struct {
        const char *order;
        enum route_class want;
    } cases[] = {
        /* a coded route decides, whatever the words */
        {HC_CODE ",\"dosageInstruction\":[{\"route\":{\"coding\":[{" SCT
                 ",\"code\":\"26643006\"}],\"text\":\"topical\"}}]",
         ROUTE_SYSTEMIC},
        {HC_CODE ",\"dosageInstruction\":[{\"route\":{\"coding\":[{" SCT
                 ",\"code\":\"260548002\"}]}}]",
         ROUTE_SYSTEMIC},
        {PRED_CODE ",\"dosageInstruction\":[{\"route\":{\"coding\":[{" SCT
                   ",\"code\":\"45890007\"}]}}]",
         ROUTE_LOCAL},
        /* Epic's route OID is read by its display */
        {HC_CODE ",\"dosageInstruction\":[{\"route\":{\"coding\":[{\"system\":\"urn:oid:1.2.840."
                 "114350.1.13.861.1.7.4.798268.7025\",\"code\":\"11\",\"display\":"
                 "\"Intravenous\"}]}}]",
         ROUTE_SYSTEMIC},
        {HC_CODE ",\"dosageInstruction\":[{\"route\":{\"coding\":[{\"system\":\"urn:oid:1.2.840."
                 "114350.1.13.20.3.7.4.798268.7025\",\"code\":\"71\",\"display\":\"Inhaled\"}]}}]",
         ROUTE_LOCAL},
        /* near miss: the OID alone, no display: the route says nothing; hydrocortisone has
           local forms, so unknown */
        {HC_CODE ",\"dosageInstruction\":[{\"route\":{\"coding\":[{\"system\":\"urn:oid:1.2.840."
                 "114350.1.13.20.3.7.4.798268.7025\",\"code\":\"71\"}]}}]",
         ROUTE_UNKNOWN},
        /* no route: the dose form in the SCD name (Synthea) */
        {"\"medicationCodeableConcept\":{\"coding\":[{" RX ",\"code\":\"106258\",\"display\":"
         "\"Hydrocortisone 10 MG/ML Topical Cream\"}]}",
         ROUTE_LOCAL},
        {"\"medicationCodeableConcept\":{\"text\":\"Hydrocortisone 10 MG Oral Tablet\"}",
         ROUTE_SYSTEMIC},
        {"\"medicationCodeableConcept\":{\"text\":\"Dexamethasone 1 MG/ML Ophthalmic "
         "Suspension\"}",
         ROUTE_LOCAL},
        {"\"medicationCodeableConcept\":{\"text\":\"triamcinolone acetonide 40 MG/ML Injectable "
         "Suspension\"}",
         ROUTE_SYSTEMIC},
        {"\"medicationCodeableConcept\":{\"text\":\"Hydrocortisone 10 % Rectal Foam\"}",
         ROUTE_LOCAL},
        /* no route, no form: the drug's unstated form */
        {PRED_CODE, ROUTE_SYSTEMIC},
        {HC_CODE, ROUTE_UNKNOWN},
        {"\"medicationCodeableConcept\":{\"text\":\"dexamethasone\"}", ROUTE_UNKNOWN},
        /* the instructions, last before the default */
        {HC_CODE ",\"dosageInstruction\":[{\"text\":\"Apply a thin layer to the affected area "
                 "twice daily\"}]",
         ROUTE_LOCAL},
        {HC_CODE ",\"dosageInstruction\":[{\"text\":\"Take 1 tablet by mouth daily\"}]",
         ROUTE_SYSTEMIC},
        /* near miss: instructions that name neither */
        {HC_CODE ",\"dosageInstruction\":[{\"text\":\"as directed\"}]", ROUTE_UNKNOWN},
        /* a route's words outrank the form in the name */
        {"\"medicationCodeableConcept\":{\"text\":\"triamcinolone acetonide 40 MG/ML Injectable "
         "Suspension\"},\"dosageInstruction\":[{\"route\":{\"text\":\"Intra-articular\"}}]",
         ROUTE_LOCAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        assert_int_equal(route_of(cases[i].order), cases[i].want);
    }
}

/* Medication.form when the order and the Medication's name say nothing. */
static void test_medication_form(void **state)
{
    (void)state;
    const char *drafts =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"d\",\"status\":\"draft\","
        "\"contained\":[{\"resourceType\":\"Medication\",\"id\":\"m\",\"code\":{\"coding\":[{" RX
        ",\"code\":\"3264\"}]},\"form\":{\"text\":\"TABS\"}}],"
        "\"medicationReference\":{\"reference\":\"#m\"}}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"e\",\"status\":\"draft\","
        "\"contained\":[{\"resourceType\":\"Medication\",\"id\":\"m\",\"code\":{\"coding\":[{" RX
        ",\"code\":\"3264\"}]},\"form\":{\"coding\":[{\"display\":\"Ophthalmic solution\"}]}}],"
        "\"medicationReference\":{\"reference\":\"#m\"}}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_ORDER_SIGN, "", drafts, &keep);
    assert_int_equal(v.n_meds, 2);
    assert_int_equal(v.meds[0].route, ROUTE_SYSTEMIC);
    assert_int_equal(v.meds[1].route, ROUTE_LOCAL);
    view_free(&v);
    json_object_put(keep);
}

/* Problem lists as EHRs hold them. */
static void test_conditions_as_problem_lists_hold_them(void **state)
{
    (void)state;
    static const struct {
        const char *resource;
        unsigned iim;
    } cases[] = {
        /* US Core encounter diagnosis, SNOMED with a version */
        {"\"category\":[{\"coding\":[{\"code\":\"encounter-diagnosis\"}]}],\"code\":{\"coding\":"
         "[{" SCT ",\"code\":\"396230008\",\"version\":\"http://snomed.info/sct/731000124108\"}]}",
         IIM_DM},
        /* resolved with an abatement */
        {"\"clinicalStatus\":{\"coding\":[{\"code\":\"resolved\"}]},\"abatementDateTime\":"
         "\"2015-12-01\",\"code\":{\"coding\":[{" SCT ",\"code\":\"396230008\"}]}",
         0},
        /* no clinicalStatus, abated in the past: not active */
        {"\"abatementDateTime\":\"2020-01-01\",\"code\":{\"coding\":[{" SCT
         ",\"code\":\"396230008\"}]}",
         0},
        /* near miss: an abatement still to come */
        {"\"abatementDateTime\":\"2099-01-01\",\"code\":{\"coding\":[{" SCT
         ",\"code\":\"396230008\"}]}",
         IIM_DM},
        /* a health concern is not a diagnosis */
        {"\"category\":[{\"coding\":[{\"code\":\"health-concern\"}]}],\"code\":{\"text\":"
         "\"dermatomyositis\"}",
         0},
        /* near miss: a problem-list item that is also a concern */
        {"\"category\":[{\"coding\":[{\"code\":\"health-concern\"}]},{\"coding\":[{\"code\":"
         "\"problem-list-item\"}]}],\"code\":{\"text\":\"dermatomyositis\"}",
         IIM_DM},
        /* IMO coding first, SNOMED second; an OID for SNOMED */
        {"\"code\":{\"coding\":[{\"system\":\"http://e-imo.com/products/problem-it\",\"code\":"
         "\"123\"},{\"system\":\"urn:oid:2.16.840.1.113883.6.96\",\"code\":\"31384009\"}]}",
         IIM_PM},
        /* entered in error, no clinicalStatus */
        {"\"verificationStatus\":{\"coding\":[{\"code\":\"entered-in-error\"}]},\"code\":{"
         "\"coding\":[{" SCT ",\"code\":\"31384009\"}]}",
         0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[2048];
        snprintf(buf, sizeof buf, "{\"resource\":{\"resourceType\":\"Condition\",%s}}",
                 cases[i].resource);
        struct patient_view v;
        json_object *keep = NULL;
        print_message("case %zu\n", i);
        build(&v, HOOK_PATIENT_VIEW, buf, NULL, &keep);
        assert_int_equal(v.iim, cases[i].iim);
        view_free(&v);
        json_object_put(keep);
    }
}

/* Searchset entries: an outcome is no record, an entry without a resource is skipped, an
 * order met twice counts once. */
static void test_searchset_entries(void **state)
{
    (void)state;
    const char *record =
        "{\"search\":{\"mode\":\"outcome\"},\"resource\":{\"resourceType\":\"Condition\","
        "\"code\":{\"text\":\"polymyositis\"}}},"
        "{\"fullUrl\":\"https://ehr.example.org/r4/MedicationRequest/only-url\"},"
        "{\"search\":{\"mode\":\"match\"},\"resource\":{\"resourceType\":\"MedicationRequest\","
        "\"id\":\"twice\",\"status\":\"active\"," PRED_CODE "}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"twice\",\"status\":"
        "\"active\"," PRED_CODE "}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"status\":\"active\"," PRED_CODE
        "}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"status\":\"active\"," PRED_CODE
        "}}";
    struct patient_view v;
    json_object *keep = NULL;
    build(&v, HOOK_PATIENT_VIEW, record, NULL, &keep);
    assert_int_equal(v.iim, 0);
    assert_int_equal(v.n_meds, 3); /* "twice" once; two orders without an id both count */
    view_free(&v);
    json_object_put(keep);
}

/* Selections name orders by reference: relative, absolute or versioned, the same order. */
static void test_selections_by_reference(void **state)
{
    (void)state;
    json_object *keep = parse(
        "{\"drafts\":{\"resourceType\":\"Bundle\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"a\",\"status\":\"draft\","
        "" PRED_CODE "}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"b\",\"status\":\"draft\","
        "" PRED_CODE "}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"c\",\"status\":\"draft\","
        "" PRED_CODE "}}]},"
        "\"sel\":[\"https://ehr.example.org/r4/MedicationRequest/a\","
        "\"MedicationRequest/b/_history/1\",\"MedicationRequest/../MedicationRequest/c\",7]}");
    struct patient_view v;
    struct myocds_err err = {0};
    assert_int_equal(view_build(&v, term, HOOK_ORDER_SELECT, "p1", NULL,
                                json_get_obj(keep, "drafts"), json_get_arr(keep, "sel"), today,
                                NULL, &err),
                     0);
    assert_int_equal(v.n_meds, 3);
    assert_true(v.meds[0].trigger);
    assert_true(v.meds[1].trigger);
    assert_false(v.meds[2].trigger); /* a hostile selection names nothing */
    view_free(&v);
    json_object_put(keep);
}

/* A dose change is not a sum: the draft replaces the active order of the same drug (or the
 * one its priorPrescription names); another drug is not replaced. */
static void test_draft_replaces_active_order(void **state)
{
    (void)state;
    const char *record =
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"old\",\"status\":"
        "\"active\"," PRED_CODE ",\"dosageInstruction\":[{" DAILY
        ",\"doseAndRate\":[{\"doseQuantity\":{\"value\":30,\"code\":\"mg\"}}]}]}},"
        "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"hc\",\"status\":"
        "\"active\",\"medicationCodeableConcept\":{\"text\":\"hydrocortisone 10 MG Oral Tablet\"},"
        "\"dosageInstruction\":[{" DAILY ",\"doseAndRate\":[{\"doseQuantity\":{\"value\":20,"
        "\"code\":\"mg\"}}]}]}}";
#define DRAFT_60(prior)                                                                            \
    "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"new\",\"status\":"             \
    "\"draft\"," PRED_CODE "," prior "\"dosageInstruction\":[{" DAILY                              \
    ",\"doseAndRate\":[{\"doseQuantity\":{\"value\":60,\"code\":\"mg\"}}]}]}}"
    static const char *const drafts[] = {
        DRAFT_60(""),
        DRAFT_60("\"priorPrescription\":{\"reference\":\"MedicationRequest/other\"},")};
    for (int k = 0; k < 2; k++) {
        struct patient_view v;
        json_object *keep = NULL;
        build(&v, HOOK_ORDER_SIGN, record, drafts[k], &keep);
        assert_int_equal(v.n_meds, 3);
        /* without priorPrescription: 60 + hydrocortisone 5 = 65; naming another order: 95 */
        assert_true(fabs(view_pred_total(&v) - (k == 0 ? 65 : 95)) < 1e-6);
        view_free(&v);
        json_object_put(keep);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_medication_wherever_it_travels),
        cmocka_unit_test(test_medication_beside_the_draft_orders),
        cmocka_unit_test(test_display_is_the_last_evidence),
        cmocka_unit_test(test_drug_identity),
        cmocka_unit_test(test_systemic_or_not),
        cmocka_unit_test(test_medication_form),
        cmocka_unit_test(test_conditions_as_problem_lists_hold_them),
        cmocka_unit_test(test_searchset_entries),
        cmocka_unit_test(test_selections_by_reference),
        cmocka_unit_test(test_draft_replaces_active_order),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("view_ehr", tests, setup, teardown);
}

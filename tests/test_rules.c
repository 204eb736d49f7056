/* test_rules.c - each rule on hand-built patient views: fires on its case, silent on its
 * near-misses. Texts and thresholds come from the real hooks/rules.json. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "rule_views.h"

#include <stdio.h>
#include <string.h>

static void test_monotherapy_fires_on_prednisone_alone(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 60, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_PM, m, 1);
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "warning");
    assert_non_null(strstr(cards.v[0].summary, "prednisone 60 mg/day"));
    assert_non_null(strstr(cards.v[0].detail, "Polymyositis"));
    assert_non_null(strstr(cards.v[0].detail, "86%"));
    assert_int_equal(cards.v[0].n_suggestions, 3);
    /* no screening on record: each agent comes with its tests */
    assert_string_equal(cards.v[0].suggestions[cards.v[0].recommended]->key,
                        "methotrexate_with_tests");
    assert_string_equal(cards.v[0].suggestions[1]->key, "azathioprine_with_tpmt");
    card_list_free(&cards);
    /* screened: the agents alone */
    const enum lab_kind screened[] = {LAB_HBSAG, LAB_HBC, LAB_HCV, LAB_LIVER, LAB_TPMT};
    for (size_t i = 0; i < sizeof screened / sizeof screened[0]; i++)
        v.labs[screened[i]].present = true;
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 1);
    assert_string_equal(cards.v[0].suggestions[cards.v[0].recommended]->key, "methotrexate");
    assert_string_equal(cards.v[0].suggestions[1]->key, "azathioprine");
    card_list_free(&cards);
}

static void test_monotherapy_critical_for_imnm(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 60, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_IMNM, m, 1);
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    card_list_free(&cards);
}

static void test_monotherapy_silent_with_agent_or_ibm(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 60, -1, true), med(&mtx, 15.0 / 7, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_PM, m, 2);
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 0);
    patient(&v, IIM_IBM, m, 1);
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 0);
    patient(&v, 0, m, 1);
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 0);
    m[0].trigger = false; /* prednisone only in the record, nothing steroid being ordered */
    patient(&v, IIM_PM, m, 1);
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 0);
    card_list_free(&cards);
}

static void test_monotherapy_prefers_mmf_with_ild(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 60, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_DM, m, 1);
    v.cond_flags = COND_ILD;
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 1);
    assert_string_equal(cards.v[0].suggestions[cards.v[0].recommended]->key, "mycophenolate");
    assert_non_null(strstr(cards.v[0].detail, "Interstitial lung disease"));
    card_list_free(&cards);
}

static void test_pjp_dose_and_duration(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 20, 28, true)};
    struct card_list cards = {0};
    patient(&v, IIM_DM, m, 1);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].summary, "20 mg/day"));
    assert_string_equal(cards.v[0].suggestions[0]->key, "tmp_smx_ds");
    card_list_free(&cards);

    struct view_med near[][1] = {{med(&prednisone, 15, -1, true)},
                                 {med(&prednisone, 20, 27, true)},
                                 {med(&prednisone, -1, -1, true)}};
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        print_message("near miss %zu\n", i);
        patient(&v, IIM_DM, near[i], 1);
        assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
    }
}

static void test_pjp_combination_and_prophylaxis(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 15, 14, true), med(&mtx, 15.0 / 7, -1, false),
                           med(&tmp_smx, 800, -1, false)};
    struct card_list cards = {0};
    patient(&v, IIM_PM, m, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].summary, "methotrexate"));
    /* with methotrexate: the antifolate interaction, and atovaquone offered as well */
    assert_non_null(strstr(cards.v[0].detail, "antifolate"));
    assert_int_equal(cards.v[0].n_suggestions, 3);
    assert_string_equal(cards.v[0].suggestions[2]->key, "atovaquone_mtx");
    card_list_free(&cards);
    patient(&v, IIM_PM, m, 3);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
    /* IVIG is immunomodulatory, not a second immunosuppressant. */
    struct view_med with_ivig[] = {med(&prednisone, 15, 14, true), med(&ivig, -1, -1, false)};
    patient(&v, IIM_PM, with_ivig, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
}

static void test_pjp_combination_near_misses(void **state)
{
    (void)state;
    struct patient_view v;
    struct card_list cards = {0};
    /* maintenance prednisone 7.5 mg with methotrexate; 15 mg for 13 days */
    struct view_med low[] = {med(&prednisone, 7.5, -1, true), med(&mtx, 15.0 / 7, -1, false)};
    patient(&v, IIM_PM, low, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
    struct view_med brief[] = {med(&prednisone, 15, 13, true), med(&mtx, 15.0 / 7, -1, false)};
    patient(&v, IIM_PM, brief, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
    /* a single 100 mg hydrocortisone premedication, with methotrexate on board */
    struct view_med premed[] = {med(&hydrocortisone, 100, 1, true), med(&mtx, 15.0 / 7, -1, false)};
    premed[0].single_dose = true;
    patient(&v, IIM_DM, premed, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
    /* tacrolimus ointment is not a systemic partner */
    struct view_med topical[] = {med(&prednisone, 15, 28, true), med(&tacrolimus, -1, -1, false)};
    topical[1].systemic = false;
    topical[1].route = ROUTE_LOCAL;
    patient(&v, IIM_DM, topical, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
    assert_int_equal(cards.n, 0);
}

static void test_pjp_any_dose_with_lasting_rituximab(void **state)
{
    (void)state;
    struct patient_view v;
    struct card_list cards = {0};
    struct view_med m[] = {med(&prednisone, 5, -1, true), med(&rituximab, -1, -1, false)};
    m[1].lasting = true;
    m[1].last_day = 20500;
    patient(&v, IIM_DM, m, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].detail, "rituximab (last given"));
    card_list_free(&cards);
    /* a lasting agent alone is never this hook's risk: nothing being ordered takes part */
    m[0].trigger = false;
    m[0].ordered = false;
    patient(&v, IIM_DM, m, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
}

/* Six weeks at 20 mg over two consecutive orders of 21 days: the course, not the order. */
static void test_pjp_counts_the_course(void **state)
{
    (void)state;
    struct patient_view v;
    struct card_list cards = {0};
    struct view_med m[] = {med(&prednisone, 20, 21, false), med(&prednisone, 20, 21, true)};
    m[0].start_day = 20000;
    m[1].start_day = 20021;
    m[1].prev = 0;
    m[1].course_orders = 2;
    m[1].course_start = 20000;
    patient(&v, IIM_PM, m, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].summary, "42 days"));
    assert_non_null(strstr(cards.v[0].detail, "consecutive orders"));
    card_list_free(&cards);
    /* each order alone is 21 days: silent */
    m[1].prev = -1;
    patient(&v, IIM_PM, m, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
    /* a 5 mg maintenance order after that course: not at the dose itself */
    m[1].prev = 0;
    m[1].mg_per_day = m[1].pred_mg_per_day = 5;
    patient(&v, IIM_PM, m, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
}

static void test_children_get_no_adult_doses(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 40, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_JDM, m, 1);
    v.age_years = 10;
    v.cond_flags = COND_ILD;
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 1);
    assert_int_equal(cards.v[0].n_suggestions, 2); /* no adult mycophenolate dose */
    assert_string_equal(cards.v[0].suggestions[cards.v[0].recommended]->key, "methotrexate_child");
    card_list_free(&cards);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 1);
    assert_int_equal(cards.v[0].n_suggestions, 1);
    assert_string_equal(cards.v[0].suggestions[0]->key, "tmp_smx_child");
    card_list_free(&cards);
}

static void test_pjp_sulfa_allergy_suggests_atovaquone(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 60, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_PM, m, 1);
    v.sulfonamide_allergy = true;
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 1);
    assert_int_equal(cards.v[0].n_suggestions, 1);
    assert_string_equal(cards.v[0].suggestions[0]->key, "atovaquone");
    assert_non_null(strstr(cards.v[0].detail, "Sulfonamide allergy"));
    card_list_free(&cards);
}

static void test_iga_first_ivig(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&ivig, -1, -1, true)};
    struct card_list cards = {0};
    patient(&v, 0, m, 1); /* no myositis: the rule guards every IVIG order */
    assert_int_equal(run("iga-before-ivig", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "warning");
    assert_string_equal(cards.v[0].suggestions[0]->key, "iga_test");
    card_list_free(&cards);

    v.labs[LAB_IGA] = (struct view_lab){.present = true, .read = LAB_READ_EXACT, .value = 150};
    assert_int_equal(run("iga-before-ivig", &v, &cards), 0);
    v.labs[LAB_IGA] = (struct view_lab){0};
    v.past_ivig = true;
    assert_int_equal(run("iga-before-ivig", &v, &cards), 0);
}

static void test_iga_deficient_is_critical(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&ivig, -1, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_DM, m, 1);
    v.past_ivig = true;
    v.labs[LAB_IGA] =
        (struct view_lab){.present = true, .read = LAB_READ_EXACT, .value = 5, .shown = "0.05 g/L"};
    assert_int_equal(run("iga-before-ivig", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    assert_non_null(strstr(cards.v[0].summary, "0.05 g/L"));
    assert_string_equal(cards.v[0].reasons->key, "override_reasons_deficient");
    card_list_free(&cards);

    v.labs[LAB_IGA] = (struct view_lab){0};
    v.cond_flags = COND_IGA_DEFICIENCY;
    assert_int_equal(run("iga-before-ivig", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    card_list_free(&cards);
}

static void test_ibm_steroid_taper_above_10(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 40, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_IBM, m, 1);
    assert_int_equal(run("ibm-steroid", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].detail, "taper rapidly"));
    assert_int_equal(cards.v[0].n_suggestions, 0);
    card_list_free(&cards);

    m[0] = med(&prednisone, 10, 14, true);
    assert_int_equal(run("ibm-steroid", &v, &cards), 1);
    assert_null(strstr(cards.v[0].detail, "taper rapidly"));
    card_list_free(&cards);

    patient(&v, IIM_PM, m, 1);
    assert_int_equal(run("ibm-steroid", &v, &cards), 0);
}

static void test_summaries_stay_under_140_characters(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 60, -1, true)};
    struct card_list cards = {0};
    /* A very long order text reaches the summary only through {drug}: keep it bounded. */
    static const struct term_drug longname = {
        "x",
        "prednisone with an extraordinarily long product name that an EHR might send "
        "for a compounded oral solution in a pediatric strength",
        DC_GLUCOCORTICOID,
        1.0,
        false,
        ROUTE_SYSTEMIC};
    m[0].drug = &longname;
    patient(&v, IIM_IMNM, m, 1);
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 1);
    size_t chars = 0;
    for (const char *p = cards.v[0].summary; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    assert_true(chars < 140);
    card_list_free(&cards);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotherapy_fires_on_prednisone_alone),
        cmocka_unit_test(test_monotherapy_critical_for_imnm),
        cmocka_unit_test(test_monotherapy_silent_with_agent_or_ibm),
        cmocka_unit_test(test_monotherapy_prefers_mmf_with_ild),
        cmocka_unit_test(test_pjp_dose_and_duration),
        cmocka_unit_test(test_pjp_combination_and_prophylaxis),
        cmocka_unit_test(test_pjp_combination_near_misses),
        cmocka_unit_test(test_pjp_any_dose_with_lasting_rituximab),
        cmocka_unit_test(test_pjp_counts_the_course),
        cmocka_unit_test(test_pjp_sulfa_allergy_suggests_atovaquone),
        cmocka_unit_test(test_children_get_no_adult_doses),
        cmocka_unit_test(test_iga_first_ivig),
        cmocka_unit_test(test_iga_deficient_is_critical),
        cmocka_unit_test(test_ibm_steroid_taper_above_10),
        cmocka_unit_test(test_summaries_stay_under_140_characters),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("rules", tests, setup, teardown);
}

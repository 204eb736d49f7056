/* test_rules_more.c - the "beyond the three" rules on hand-built patient views: each fires
 * on its case and stays silent on its near-miss. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "rule_views.h"

#define TODAY 20414 /* 2025-11-22 as days since 1970-01-01 */

static void test_dose_range(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 30, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_PM, m, 1);
    v.labs[LAB_WEIGHT] = (struct view_lab){.present = true, .read = LAB_READ_EXACT, .value = 80};
    assert_int_equal(run("steroid-dose-range", &v, &cards), 1); /* 0.375 mg/kg */
    assert_non_null(strstr(cards.v[0].summary, "below"));
    assert_string_equal(cards.v[0].indicator, "info");
    card_list_free(&cards);

    m[0] = med(&prednisone, 60, -1, true); /* 0.75 mg/kg: within */
    assert_int_equal(run("steroid-dose-range", &v, &cards), 0);
    m[0] = med(&methylpred, 1000, 3, true); /* an IV pulse is not an initial oral dose */
    assert_int_equal(run("steroid-dose-range", &v, &cards), 0);

    v.labs[LAB_WEIGHT] = (struct view_lab){0}; /* no weight: only the ceiling */
    m[0] = med(&prednisone, 30, -1, true);
    assert_int_equal(run("steroid-dose-range", &v, &cards), 0);
    m[0] = med(&prednisone, 100, -1, true);
    assert_int_equal(run("steroid-dose-range", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].detail, "No body weight on record"));
    card_list_free(&cards);
}

static void test_dose_range_child_and_not_initial(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 60, -1, true), med(&prednisone, 20, -1, false)};
    struct card_list cards = {0};
    patient(&v, IIM_JDM, m, 1);
    v.age_years = 9;
    v.labs[LAB_WEIGHT] = (struct view_lab){.present = true, .read = LAB_READ_EXACT, .value = 25};
    assert_int_equal(run("steroid-dose-range", &v, &cards), 1); /* 2.4 mg/kg */
    assert_non_null(strstr(cards.v[0].summary, "above 2 mg/kg/day"));
    card_list_free(&cards);
    v.past_glucocorticoid = true; /* an earlier course: a restart, not an initial dose */
    assert_int_equal(run("steroid-dose-range", &v, &cards), 0);
    v.past_glucocorticoid = false;
    m[0].ordered = false; /* prednisone already active: a change, not an initial dose */
    v.n_meds = 2;
    assert_int_equal(run("steroid-dose-range", &v, &cards), 0);
}

static void test_methotrexate_checks(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&mtx, 15.0 / 7, -1, true), med(&folic, 1, -1, false)};
    struct card_list cards = {0};
    patient(&v, IIM_DM, m, 1);
    assert_int_equal(run("mtx-folic-acid", &v, &cards), 1);
    assert_string_equal(cards.v[0].suggestions[0]->key, "folic_acid");
    card_list_free(&cards);
    v.n_meds = 2;
    assert_int_equal(run("mtx-folic-acid", &v, &cards), 0);

    assert_int_equal(run("mtx-baseline", &v, &cards), 1);
    assert_int_equal(cards.v[0].n_suggestions, 4);
    assert_string_equal(cards.v[0].selection, "any");
    card_list_free(&cards);
    v.labs[LAB_HBSAG].present = v.labs[LAB_HCV].present = v.labs[LAB_LIVER].present = true;
    v.labs[LAB_HBSAG].answer = v.labs[LAB_HCV].answer = v.labs[LAB_HBC].answer = LAB_FLAG_NEGATIVE;
    v.labs[LAB_LIVER].read = LAB_READ_EXACT;
    v.labs[LAB_LIVER].value = 20;
    snprintf(v.labs[LAB_LIVER].unit, sizeof v.labs[LAB_LIVER].unit, "U/L");
    assert_int_equal(run("mtx-baseline", &v, &cards), 1); /* HBsAg alone is half a screen */
    assert_non_null(strstr(cards.v[0].summary, "anti-HBc"));
    card_list_free(&cards);
    v.labs[LAB_HBC].present = true;
    assert_int_equal(run("mtx-baseline", &v, &cards), 0);
    v.labs[LAB_LIVER].value = 250; /* over 3 x 40 U/L: a warning naming the result */
    assert_int_equal(run("mtx-baseline", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "warning");
    assert_non_null(strstr(cards.v[0].summary, "ALT"));
    card_list_free(&cards);
    v.labs[LAB_LIVER].value = 20;
    v.labs[LAB_HBC].answer = LAB_FLAG_NONE; /* on record, unreadable: said, not "missing" */
    assert_int_equal(run("mtx-baseline", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].detail, "could not be read"));
    assert_int_equal(cards.v[0].n_suggestions, 0);
    card_list_free(&cards);
    v.labs[LAB_HBC].answer = LAB_FLAG_NEGATIVE;
    v.sex = 'f';
    v.age_years = 50; /* up to and including 50 */
    assert_int_equal(run("mtx-baseline", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].detail, "contraception"));
    assert_int_equal(cards.v[0].n_suggestions, 0);
    card_list_free(&cards);
}

static void test_aza_statin_tnf(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med a[] = {med(&aza, 50, -1, true)};
    struct view_med s[] = {med(&statin, 20, -1, true)};
    struct view_med t[] = {med(&tnf, -1, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_PM, a, 1);
    assert_int_equal(run("aza-tpmt", &v, &cards), 1);
    card_list_free(&cards);
    v.lab_ordered = 1u << LAB_TPMT; /* the test ordered with it */
    assert_int_equal(run("aza-tpmt", &v, &cards), 0);
    v.lab_ordered = 0;
    v.labs[LAB_TPMT].present = true; /* on record, nothing in it readable */
    v.labs[LAB_TPMT].raw_value = v.labs[LAB_TPMT].value = -1;
    v.labs[LAB_TPMT].day = 20412;
    assert_int_equal(run("aza-tpmt", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].detail, "of 2025-11-20 is on record but could not be read"));
    assert_string_equal(cards.v[0].suggestions[0]->key, "tpmt");
    card_list_free(&cards);
    v.labs[LAB_TPMT].interp = LAB_FLAG_NORMAL;
    assert_int_equal(run("aza-tpmt", &v, &cards), 0);
    /* deficient: 1 U/mL, flagged LL */
    v.labs[LAB_TPMT].interp = LAB_FLAG_CRIT_LOW;
    v.labs[LAB_TPMT].read = LAB_READ_EXACT;
    v.labs[LAB_TPMT].raw_value = v.labs[LAB_TPMT].value = 1;
    snprintf(v.labs[LAB_TPMT].unit, sizeof v.labs[LAB_TPMT].unit, "U/mL");
    v.lab_ordered = 1u << LAB_TPMT; /* a repeat test ordered does not silence a result */
    assert_int_equal(run("aza-tpmt", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    assert_non_null(strstr(cards.v[0].summary, "deficient TPMT"));
    assert_non_null(strstr(cards.v[0].detail, "TPMT 1 U/mL (deficient"));
    assert_null(strstr(cards.v[0].detail, "then titrate toward"));
    assert_int_equal(cards.v[0].n_suggestions, 0);
    card_list_free(&cards);
    /* intermediate: 20 U/mL under the configured 24 */
    v.labs[LAB_TPMT].interp = LAB_FLAG_NONE;
    v.labs[LAB_TPMT].raw_value = v.labs[LAB_TPMT].value = 20;
    assert_int_equal(run("aza-tpmt", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].summary, "low TPMT"));
    assert_non_null(strstr(cards.v[0].detail, "30-80%"));
    card_list_free(&cards);
    v.labs[LAB_TPMT].raw_value = v.labs[LAB_TPMT].value = 30;
    assert_int_equal(run("aza-tpmt", &v, &cards), 0);

    patient(&v, IIM_IMNM, s, 1);
    assert_int_equal(run("statin-imnm", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    card_list_free(&cards);
    patient(&v, IIM_DM, s, 1);
    assert_int_equal(run("statin-imnm", &v, &cards), 0);
    /* an active statin while a myositis treatment is being ordered: stop it */
    struct view_med on[] = {med(&statin, 20, -1, false), med(&prednisone, 60, -1, true)};
    patient(&v, IIM_IMNM, on, 2);
    assert_int_equal(run("statin-imnm", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].summary, "stop atorvastatin"));
    assert_non_null(strstr(cards.v[0].detail, "while **atorvastatin order**"));
    card_list_free(&cards);
    on[1].trigger = on[1].ordered = false; /* nothing being ordered */
    assert_int_equal(run("statin-imnm", &v, &cards), 0);

    patient(&v, IIM_DM, t, 1);
    assert_int_equal(run("anti-tnf-myositis", &v, &cards), 1);
    card_list_free(&cards);
    patient(&v, IIM_ANTISYNTHETASE, t, 1);
    assert_int_equal(run("anti-tnf-myositis", &v, &cards), 1);
    card_list_free(&cards);
    patient(&v, IIM_IBM, t, 1);
    assert_int_equal(run("anti-tnf-myositis", &v, &cards), 0);
}

/* Methotrexate more often than weekly is critical; weekly, unknown or local is silent. */
static void test_mtx_weekly(void **state)
{
    (void)state;
    struct patient_view v;
    struct card_list cards = {0};
    struct view_med m[] = {med(&mtx, 15, -1, true)};
    m[0].per_day = 1;
    patient(&v, IIM_PM, m, 1);
    assert_int_equal(run("mtx-weekly", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    assert_non_null(strstr(cards.v[0].summary, "daily"));
    assert_non_null(strstr(cards.v[0].detail, "105 mg a week"));
    assert_string_equal(cards.v[0].suggestions[0]->key, "methotrexate_weekly");
    card_list_free(&cards);
    m[0].per_day = 2.0 / 7; /* twice a week: more than weekly */
    assert_int_equal(run("mtx-weekly", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].summary, "2 times a week"));
    card_list_free(&cards);
    const double silent[] = {1.0 / 7, -1};
    for (size_t i = 0; i < sizeof silent / sizeof silent[0]; i++) {
        m[0].per_day = silent[i];
        assert_int_equal(run("mtx-weekly", &v, &cards), 0);
    }
    m[0].per_day = 1;
    m[0].trigger = false; /* in the record only: not this order's error */
    assert_int_equal(run("mtx-weekly", &v, &cards), 0);
    m[0].trigger = true;
    patient(&v, 0, m, 1); /* no myositis */
    assert_int_equal(run("mtx-weekly", &v, &cards), 0);
}

/* Mycophenolate for a pregnant patient is critical; by condition or a recent positive hCG. */
static void test_teratogen_pregnancy(void **state)
{
    (void)state;
    struct patient_view v;
    struct card_list cards = {0};
    struct view_med m[] = {med(&mmf, 2000, -1, true)};
    patient(&v, IIM_DM, m, 1);
    v.sex = 'f';
    v.age_years = 29;
    v.today = 20790;
    assert_int_equal(run("teratogen-pregnancy", &v, &cards), 0); /* no pregnancy recorded */
    v.cond_flags = COND_PREGNANCY;
    assert_int_equal(run("teratogen-pregnancy", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    assert_non_null(strstr(cards.v[0].summary, "mycophenolate mofetil is teratogenic"));
    card_list_free(&cards);
    v.cond_flags = 0;
    v.labs[LAB_HCG].present = true;
    v.labs[LAB_HCG].answer = LAB_FLAG_POSITIVE;
    v.labs[LAB_HCG].day = 20790 - 10;
    assert_int_equal(run("teratogen-pregnancy", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].detail, "positive pregnancy test (hCG)"));
    card_list_free(&cards);
    v.labs[LAB_HCG].day = 20790 - 300; /* older than 280 days */
    assert_int_equal(run("teratogen-pregnancy", &v, &cards), 0);
    v.labs[LAB_HCG].day = 20790 - 10;
    v.labs[LAB_HCG].answer = LAB_FLAG_NEGATIVE;
    assert_int_equal(run("teratogen-pregnancy", &v, &cards), 0);
}

/* IBM: a reducing step is silent; <= 10 mg with methotrexate is info. */
static void test_ibm_low_dose_and_taper_steps(void **state)
{
    (void)state;
    struct patient_view v;
    struct card_list cards = {0};
    struct view_med m[] = {med(&prednisone, 7.5, -1, true), med(&mtx, 10.0 / 7, -1, false)};
    patient(&v, IIM_IBM, m, 2);
    assert_int_equal(run("ibm-steroid", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "info");
    card_list_free(&cards);
    patient(&v, IIM_IBM, m, 1); /* no methotrexate: the warning */
    assert_int_equal(run("ibm-steroid", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "warning");
    card_list_free(&cards);
    struct view_med step[] = {med(&prednisone, 30, -1, false), med(&prednisone, 20, 14, true)};
    step[0].replaced = true;
    step[1].prev = 0;
    patient(&v, IIM_IBM, step, 2);
    assert_int_equal(run("ibm-steroid", &v, &cards), 0); /* 30 -> 20: a reducing step */
    step[1].mg_per_day = step[1].pred_mg_per_day = 40;
    assert_int_equal(run("ibm-steroid", &v, &cards), 1); /* 30 -> 40: not */
    card_list_free(&cards);
}

/* Age, not codes: a juvenile-DM code on an adult's record gives adult suggestions. */
static void test_child_by_age(void **state)
{
    (void)state;
    struct patient_view v;
    struct card_list cards = {0};
    struct view_med m[] = {med(&prednisone, 40, -1, true)};
    patient(&v, IIM_JDM, m, 1);
    v.age_years = 32;
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 1);
    assert_int_equal(cards.v[0].n_suggestions, 3); /* mycophenolate offered: an adult */
    assert_null(strstr(cards.v[0].suggestions[0]->key, "child"));
    card_list_free(&cards);
    v.age_years = 12;
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 1);
    assert_string_equal(cards.v[0].suggestions[0]->key, "methotrexate_child");
    card_list_free(&cards);
    v.age_years = -1; /* no birthDate: the code decides, no adult doses */
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 1);
    assert_string_equal(cards.v[0].suggestions[0]->key, "methotrexate_child");
    card_list_free(&cards);
}

static void test_bone_protection(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 20, -1, true), med(&calcium, 1000, -1, false),
                           med(&vit_d, 1, -1, false)};
    struct card_list cards = {0};
    patient(&v, IIM_PM, m, 1);
    assert_int_equal(run("bone-protection", &v, &cards), 1);
    assert_int_equal(cards.v[0].n_suggestions, 2); /* supplements and DXA */
    card_list_free(&cards);
    v.n_meds = 3;
    v.labs[LAB_DXA].present = true;
    assert_int_equal(run("bone-protection", &v, &cards), 0);
    v.cond_flags = COND_OSTEOPOROSIS; /* no bisphosphonate */
    assert_int_equal(run("bone-protection", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].detail, "bisphosphonate"));
    card_list_free(&cards);
    v.cond_flags = 0;
    v.labs[LAB_DXA].present = false;
    v.proc_done = 1u << PROC_DXA; /* a DXA procedure counts as well */
    assert_int_equal(run("bone-protection", &v, &cards), 0);
    m[0] = med(&prednisone, 20, 30, true); /* a 30-day course is not long-term */
    v.proc_done = 0;
    assert_int_equal(run("bone-protection", &v, &cards), 0);
}

static void test_ivig_plasmapheresis(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&ivig, -1, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_DM, m, 1);
    assert_int_equal(run("ivig-plasmapheresis", &v, &cards), 0);
    v.proc_ordered = 1u << PROC_PLASMAPHERESIS;
    assert_int_equal(run("ivig-plasmapheresis", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].detail, "both being ordered"));
    card_list_free(&cards);
    m[0].trigger = m[0].ordered = false; /* IVIG active, exchange ordered now */
    assert_int_equal(run("ivig-plasmapheresis", &v, &cards), 1);
    card_list_free(&cards);
    v.proc_ordered = 0;
    v.proc_active = 1u << PROC_PLASMAPHERESIS; /* neither is being ordered now */
    assert_int_equal(run("ivig-plasmapheresis", &v, &cards), 0);
}

static void test_high_dose_duration(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 60, -1, false)};
    struct card_list cards = {0};
    patient(&v, IIM_PM, m, 1);
    v.hook = HOOK_PATIENT_VIEW;
    v.today = TODAY;
    m[0].trigger = true;
    m[0].steps = 1;
    m[0].start_day = TODAY - 42;
    assert_int_equal(run("high-dose-duration", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].summary, "42 days"));
    assert_non_null(strstr(cards.v[0].detail, "2025-10-11"));
    card_list_free(&cards);
    v.iim = IIM_IBM; /* ibm-steroid gives IBM its own taper */
    assert_int_equal(run("high-dose-duration", &v, &cards), 0);
    v.iim = IIM_PM;
    m[0].start_day = TODAY - 20; /* under 4 weeks */
    assert_int_equal(run("high-dose-duration", &v, &cards), 0);
    m[0].start_day = TODAY - 42;
    m[0].steps = 3; /* a taper is written, but its first steps are still high */
    m[0].current_step = 1;
    m[0].step[0] = (struct view_step){60, 28};
    m[0].step[1] = (struct view_step){60, 28};
    assert_int_equal(run("high-dose-duration", &v, &cards), 1);
    card_list_free(&cards);
    m[0].step[0] = (struct view_step){30, 14}; /* near miss: it went below 40 mg before */
    assert_int_equal(run("high-dose-duration", &v, &cards), 0);
    m[0].steps = 1;
    m[0].start_day = -1; /* unknown start: cannot tell */
    assert_int_equal(run("high-dose-duration", &v, &cards), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dose_range),
        cmocka_unit_test(test_dose_range_child_and_not_initial),
        cmocka_unit_test(test_methotrexate_checks),
        cmocka_unit_test(test_aza_statin_tnf),
        cmocka_unit_test(test_mtx_weekly),
        cmocka_unit_test(test_teratogen_pregnancy),
        cmocka_unit_test(test_ibm_low_dose_and_taper_steps),
        cmocka_unit_test(test_child_by_age),
        cmocka_unit_test(test_bone_protection),
        cmocka_unit_test(test_ivig_plasmapheresis),
        cmocka_unit_test(test_high_dose_duration),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("rules_more", tests, setup, teardown);
}

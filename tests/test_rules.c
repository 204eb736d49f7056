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

#include "rules/rules.h"
#include "rules/rules_conf.h"

#include <stdio.h>
#include <string.h>

static struct rules_conf *rc;

static const struct term_drug prednisone = {"prednisone", "prednisone", DC_GLUCOCORTICOID, 1.0,
                                            false};
static const struct term_drug mtx = {"methotrexate", "methotrexate",
                                     DC_STEROID_SPARING | DC_IMMUNOSUPPRESSANT | DC_METHOTREXATE,
                                     -1, false};
static const struct term_drug ivig = {"immune globulin (IVIG)", "IVIG",
                                      DC_STEROID_SPARING | DC_IVIG, -1, true};
static const struct term_drug tmp_smx = {"sulfamethoxazole-trimethoprim", "TMP-SMX",
                                         DC_PJP_PROPHYLAXIS | DC_SULFONAMIDE, -1, false};

static struct view_med med(const struct term_drug *d, double mg, double days, bool trigger)
{
    struct view_med m = {0};
    m.drug = d;
    m.classes = d->classes;
    snprintf(m.label, sizeof m.label, "%s order", d->display);
    m.trigger = trigger;
    m.ordered = trigger;
    m.systemic = true;
    m.mg_per_day = mg;
    m.pred_mg_per_day = (d->classes & DC_GLUCOCORTICOID) && mg >= 0 ? mg * d->potency : -1;
    m.duration_days = days;
    m.start_day = -1;
    return m;
}

static void patient(struct patient_view *v, unsigned iim, struct view_med *meds, int n)
{
    memset(v, 0, sizeof *v);
    v->hook = HOOK_ORDER_SIGN;
    v->age_years = 55;
    v->sex = 'm';
    v->iim = iim;
    snprintf(v->iim_label, sizeof v->iim_label, "Polymyositis");
    v->meds = meds;
    v->n_meds = n;
}

/* Runs the rule with this id; returns how many cards it made; *first gets the first. */
static int run(const char *id, const struct patient_view *v, struct card_list *cards)
{
    for (int i = 0; i < rules_count; i++) {
        if (strcmp(rules_table[i].id, id) != 0)
            continue;
        const struct rule_ctx ctx = {v, &rc->rules[i], &rc->th};
        assert_int_equal(rules_table[i].fn(&ctx, cards), 0);
        return cards->n;
    }
    fail_msg("no rule %s", id);
    return -1;
}

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
    assert_string_equal(cards.v[0].suggestions[cards.v[0].recommended], "methotrexate");
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
    assert_string_equal(cards.v[0].suggestions[cards.v[0].recommended], "mycophenolate");
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
    assert_string_equal(cards.v[0].suggestions[0], "tmp_smx_ds");
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
    struct view_med m[] = {med(&prednisone, 10, 14, true), med(&mtx, 15.0 / 7, -1, false),
                           med(&tmp_smx, 800, -1, false)};
    struct card_list cards = {0};
    patient(&v, IIM_PM, m, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 1);
    assert_non_null(strstr(cards.v[0].summary, "methotrexate"));
    card_list_free(&cards);
    patient(&v, IIM_PM, m, 3);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
    /* IVIG is immunomodulatory, not a second immunosuppressant. */
    struct view_med with_ivig[] = {med(&prednisone, 10, 14, true), med(&ivig, -1, -1, false)};
    patient(&v, IIM_PM, with_ivig, 2);
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 0);
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
    assert_string_equal(cards.v[0].suggestions[0], "atovaquone");
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
    assert_string_equal(cards.v[0].suggestions[0], "iga_test");
    card_list_free(&cards);

    v.labs[LAB_IGA] = (struct view_lab){true, 150, 150, "mg/dL", 1};
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
    v.labs[LAB_IGA] = (struct view_lab){true, 5, 0.05, "g/L", 1};
    assert_int_equal(run("iga-before-ivig", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    assert_non_null(strstr(cards.v[0].summary, "0.05 g/L"));
    assert_string_equal(cards.v[0].override_key, "override_reasons_deficient");
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
        DC_GLUCOCORTICOID, 1.0, false};
    m[0].drug = &longname;
    patient(&v, IIM_IMNM, m, 1);
    assert_int_equal(run("steroid-monotherapy", &v, &cards), 1);
    size_t chars = 0;
    for (const char *p = cards.v[0].summary; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    assert_true(chars < 140);
    card_list_free(&cards);
}

static int setup(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    rc = rules_conf_load(MYOCDS_SOURCE_DIR "/hooks/rules.json", &err);
    if (rc == NULL)
        fprintf(stderr, "%s\n", err.msg);
    return rc == NULL;
}

static int teardown(void **state)
{
    (void)state;
    rules_conf_free(rc);
    return 0;
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
        cmocka_unit_test(test_pjp_sulfa_allergy_suggests_atovaquone),
        cmocka_unit_test(test_iga_first_ivig),
        cmocka_unit_test(test_iga_deficient_is_critical),
        cmocka_unit_test(test_ibm_steroid_taper_above_10),
        cmocka_unit_test(test_summaries_stay_under_140_characters),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("rules", tests, setup, teardown);
}

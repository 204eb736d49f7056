/* test_rules_labs.c - iga-before-ivig on the ways a lab result reads (a bound, a masked or
 * unreadable value, a unit the service does not convert, an IgA test ordered with the
 * IVIG), and pjp-prophylaxis without the allergy list; with the real hooks/rules.json. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "fhir/fhir.h"
#include "rule_views.h"

#include <stdio.h>
#include <string.h>

/* A lab result read as read with value (normalised; the bound for a comparator), shown
 * as reported ("<7 mg/dL"), dated 2026-11-20. */
static struct view_lab lab_result(enum lab_read read, double value, const char *shown)
{
    struct view_lab l = {0};
    l.present = true;
    l.read = read;
    l.value = read == LAB_READ_NO_UNIT || read == LAB_READ_UNKNOWN ? -1 : value;
    l.raw_value = value;
    snprintf(l.shown, sizeof l.shown, "%s", shown);
    fhir_date_days("2026-11-20", &l.day);
    return l;
}

/* A patient (no myositis: the rule guards every IVIG) being ordered a first IVIG. */
static void first_ivig(struct patient_view *v, struct view_med *m)
{
    *m = med(&ivig, -1, -1, true);
    patient(v, 0, m, 1);
}

/* Runs iga-before-ivig into cards (emptied first): the number of cards. */
static int iga_cards(const struct patient_view *v, struct card_list *cards)
{
    card_list_free(cards);
    return run("iga-before-ivig", v, cards);
}

static void test_below_bound_is_deficient(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m;
    struct card_list cards = {0};
    first_ivig(&v, &m);
    v.past_ivig = true; /* not the first: only a deficiency speaks */
    v.labs[LAB_IGA] = lab_result(LAB_READ_LT, 7, "<7 mg/dL");
    assert_int_equal(iga_cards(&v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    assert_non_null(strstr(cards.v[0].summary, "IgA <7 mg/dL"));
    assert_non_null(strstr(cards.v[0].detail, "latest serum IgA **<7 mg/dL** (2026-11-20)"));
    assert_string_equal(cards.v[0].reasons->key, "override_reasons_deficient");
    assert_int_equal(cards.v[0].n_suggestions, 0);
    /* "<=" 6.9 too; near miss "<" 7.5: not deficient, and not the first IVIG: silent */
    v.labs[LAB_IGA] = lab_result(LAB_READ_LE, 6.9, "<=6.9 mg/dL");
    assert_int_equal(iga_cards(&v, &cards), 1);
    v.labs[LAB_IGA] = lab_result(LAB_READ_LT, 7.5, "<7.5 mg/dL");
    assert_int_equal(iga_cards(&v, &cards), 0);
    card_list_free(&cards);
}

static void test_bound_that_does_not_tell_is_no_result(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m;
    struct card_list cards = {0};
    first_ivig(&v, &m);
    v.labs[LAB_IGA] = lab_result(LAB_READ_LE, 7, "<=7 mg/dL");
    assert_int_equal(iga_cards(&v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "warning");
    assert_non_null(strstr(cards.v[0].summary, "could not be read"));
    assert_non_null(strstr(cards.v[0].detail, "only a limit (<=7 mg/dL)"));
    assert_non_null(strstr(cards.v[0].detail, "below 7 mg/dL"));
    assert_string_equal(cards.v[0].suggestions[0]->key, "iga_test");
    /* "<50": never normal; ">5": could still be 6 */
    v.labs[LAB_IGA] = lab_result(LAB_READ_LT, 50, "<50 mg/dL");
    assert_int_equal(iga_cards(&v, &cards), 1);
    v.labs[LAB_IGA] = lab_result(LAB_READ_GT, 5, ">5 mg/dL");
    assert_int_equal(iga_cards(&v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "warning");
    /* near miss: ">=7" is not deficient and is a result: silent */
    v.labs[LAB_IGA] = lab_result(LAB_READ_GE, 7, ">=7 mg/dL");
    assert_int_equal(iga_cards(&v, &cards), 0);
    /* not the first IVIG: an unreadable result earns nothing */
    v.labs[LAB_IGA] = lab_result(LAB_READ_LE, 7, "<=7 mg/dL");
    v.past_ivig = true;
    assert_int_equal(iga_cards(&v, &cards), 0);
    card_list_free(&cards);
}

static void test_unknown_values_say_why(void **state)
{
    (void)state;
    static const struct {
        enum lab_why why;
        const char *words;
    } cases[] = {
        {LAB_WHY_ABSENT, "no value (masked"},
        {LAB_WHY_TEXT, "reported as words"},
        {LAB_WHY_SHAPE, "not a number the service can read"},
    };
    struct patient_view v;
    struct view_med m;
    struct card_list cards = {0};
    first_ivig(&v, &m);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        v.labs[LAB_IGA] = lab_result(LAB_READ_UNKNOWN, -1, "");
        v.labs[LAB_IGA].why = cases[i].why;
        assert_int_equal(iga_cards(&v, &cards), 1);
        assert_string_equal(cards.v[0].indicator, "warning");
        assert_non_null(strstr(cards.v[0].detail, cases[i].words));
        assert_non_null(strstr(cards.v[0].detail, "(2026-11-20) could not be read"));
        assert_null(strstr(cards.v[0].detail, "LAB_")); /* no internal vocabulary */
        assert_null(strstr(cards.v[0].detail, "{"));    /* every placeholder filled */
    }
    card_list_free(&cards);
}

static void test_unconverted_unit_is_no_result_never_low(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m;
    struct card_list cards = {0};
    first_ivig(&v, &m);
    v.labs[LAB_IGA] = lab_result(LAB_READ_NO_UNIT, 3, "");
    v.labs[LAB_IGA].raw_value = 3;
    /* a first IVIG: the warning, saying why the number cannot be compared */
    assert_int_equal(iga_cards(&v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "warning");
    assert_non_null(strstr(cards.v[0].detail, "its number (3) is in no unit"));
    card_list_free(&cards);
    v.past_ivig = true; /* not the first: nothing to say */
    assert_int_equal(iga_cards(&v, &cards), 0);
    v.past_ivig = false;
    /* an IgA-deficiency condition still makes it critical */
    v.cond_flags = COND_IGA_DEFICIENCY;
    assert_int_equal(iga_cards(&v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    assert_non_null(strstr(cards.v[0].detail, "selective IgA deficiency"));
    card_list_free(&cards);
}

static void test_iga_test_ordered_with_the_ivig(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m;
    struct card_list cards = {0};
    first_ivig(&v, &m);
    v.lab_ordered = 1u << LAB_IGA; /* by LOINC 2458-8 */
    assert_int_equal(iga_cards(&v, &cards), 0);
    /* an unreadable result and the test ordered: the order fixes it */
    v.labs[LAB_IGA] = lab_result(LAB_READ_UNKNOWN, -1, "");
    assert_int_equal(iga_cards(&v, &cards), 0);
    /* a low result on record: critical whatever is ordered */
    v.labs[LAB_IGA] = lab_result(LAB_READ_EXACT, 3, "3 mg/dL");
    assert_int_equal(iga_cards(&v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "critical");
    card_list_free(&cards);
}

static void test_iga_test_by_name(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool iga;
    } cases[] = {
        {"IgA", true},
        {"IGA, SERUM", true},
        {"IgA [Mass/volume] in Serum or Plasma", true},
        {"Immunoglobulin A, quantitative", true},
        /* near misses: coeliac and antibody tests, other IgA products */
        {"Tissue transglutaminase IgA", false},
        {"tTG-IgA", false},
        {"Anti-IgA antibodies", false},
        {"Gliadin (deamidated) IgA Ab", false},
        {"IgA-depleted IVIG", false},
        {"IgA subclasses", false},
        {"IgG", false},
        {"Immunoglobulin A1", false},
        {"Vigabatrin level", false},
    };
    struct patient_view v;
    struct view_med m;
    struct card_list cards = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("test name %s\n", cases[i].name);
        first_ivig(&v, &m);
        v.test_names[0] = cases[i].name;
        v.n_test_names = 1;
        assert_int_equal(iga_cards(&v, &cards), cases[i].iga ? 0 : 1);
    }
    card_list_free(&cards);
}

static void test_pjp_without_the_allergy_list(void **state)
{
    (void)state;
    struct patient_view v;
    struct view_med m[] = {med(&prednisone, 60, -1, true)};
    struct card_list cards = {0};
    patient(&v, IIM_PM, m, 1);
    v.missing = DATA_ALLERGIES;
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 1);
    assert_string_equal(cards.v[0].indicator, "warning");
    assert_string_equal(cards.v[0].suggestions[cards.v[0].recommended]->key, "tmp_smx_ds");
    assert_non_null(strstr(cards.v[0].detail, "allergy list could not be checked"));
    assert_non_null(strstr(cards.v[0].detail, "sulfonamide allergy"));
    card_list_free(&cards);
    /* near miss: the list was read and is clean: no such sentence */
    v.missing = 0;
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 1);
    assert_null(strstr(cards.v[0].detail, "could not be checked"));
    card_list_free(&cards);
    /* an allergy found elsewhere in the record still decides the suggestion */
    v.missing = DATA_ALLERGIES;
    v.sulfonamide_allergy = true;
    assert_int_equal(run("pjp-prophylaxis", &v, &cards), 1);
    assert_string_equal(cards.v[0].suggestions[0]->key, "atovaquone");
    card_list_free(&cards);
}

static void test_rules_need_only_what_they_decide_on(void **state)
{
    (void)state;
    for (int i = 0; i < rules_count; i++) {
        if (strcmp(rules_table[i].id, "pjp-prophylaxis") == 0)
            assert_int_equal(rules_table[i].needs & DATA_ALLERGIES, 0);
        if (strcmp(rules_table[i].id, "iga-before-ivig") == 0)
            assert_int_not_equal(rules_table[i].needs & DATA_OBSERVATIONS, 0);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_below_bound_is_deficient),
        cmocka_unit_test(test_bound_that_does_not_tell_is_no_result),
        cmocka_unit_test(test_unknown_values_say_why),
        cmocka_unit_test(test_unconverted_unit_is_no_result_never_low),
        cmocka_unit_test(test_iga_test_ordered_with_the_ivig),
        cmocka_unit_test(test_iga_test_by_name),
        cmocka_unit_test(test_pjp_without_the_allergy_list),
        cmocka_unit_test(test_rules_need_only_what_they_decide_on),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("rules_labs", tests, setup, teardown);
}

/* test_civil.c - the one date parser: what FHIR dates, dose periods and the report's dates
 * accept and refuse, and days <-> civil dates around leap days and the epoch. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "fhir/fhir.h"
#include "util/civil.h"

static void test_days(void **state)
{
    (void)state;
    long y = 0;
    int m = 0;
    int d = 0;
    assert_int_equal(civil_days(1970, 1, 1), 0);
    assert_int_equal(civil_days(2000, 3, 1) - civil_days(2000, 2, 28), 2); /* 2000 leaps */
    assert_int_equal(civil_days(1900, 3, 1) - civil_days(1900, 2, 28), 1); /* 1900 does not */
    for (long day = civil_days(1899, 12, 25); day < civil_days(2101, 1, 5); day += 17) {
        civil_from_days(day, &y, &m, &d);
        assert_int_equal(civil_days(y, m, d), day);
    }
    assert_int_equal(civil_month_days(2024, 2), 29);
    assert_int_equal(civil_month_days(2025, 2), 28);
    assert_int_equal(civil_month_days(2025, 4), 30);
}

static void test_parse(void **state)
{
    (void)state;
    long days = 0;
    static const char *const good[] = {"2026-03-05", "2026-03-05T09:00:00Z", "2024-02-29",
                                       "2026-12-31T23:59:59+01:00"};
    static const char *const bad[] = {"2025-02-29", "2025-02-31", "2026-04-31", "2026-13-01",
                                      "2026-00-10", "2026-01-00", "2026-3-05",  "2026-03-05x",
                                      "2026/03/05", "",           "20260305"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        print_message("good %s\n", good[i]);
        assert_true(civil_parse_date(good[i], false, &days));
        assert_true(fhir_date_days(good[i], &days));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        print_message("bad %s\n", bad[i]);
        assert_false(civil_parse_date(bad[i], false, &days));
        assert_false(civil_parse_date(bad[i], true, &days));
        assert_false(fhir_date_days(bad[i], &days)); /* FHIR dates: the same refusals */
    }
    assert_false(civil_parse_date(NULL, true, &days));
    /* partial dates: their first day, only when allowed */
    assert_true(civil_parse_date("2026", true, &days));
    assert_int_equal(days, civil_days(2026, 1, 1));
    assert_true(civil_parse_date("2026-03", true, &days));
    assert_int_equal(days, civil_days(2026, 3, 1));
    assert_false(civil_parse_date("2026-03", false, &days));
    assert_true(civil_parse_date("2026-03-05T09:00:00Z", false, &days));
    assert_int_equal(days, civil_days(2026, 3, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests_name("civil", tests, NULL, NULL);
}

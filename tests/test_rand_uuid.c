/* test_rand_uuid.c - random UUIDs: text form, version 4 and RFC 9562 variant, all distinct,
 * and libuuid reads back the same bits; version 7: the millisecond it was made in, in
 * order, random below it, all distinct. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "util/rand_uuid.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#define N_UUIDS 4096

static int cmp_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_form_version_variant(void **state)
{
    (void)state;
    for (int i = 0; i < 256; i++) {
        char t[RAND_UUID_TEXT];
        uuid_t u;
        rand_uuid(t);
        assert_int_equal(strlen(t), 36);
        assert_int_equal(strspn(t, "0123456789abcdef-"), 36); /* lowercase hex */
        assert_true(t[8] == '-' && t[13] == '-' && t[18] == '-' && t[23] == '-');
        assert_int_equal(t[14], '4');           /* version 4 */
        assert_non_null(strchr("89ab", t[19])); /* variant 10 */
        assert_int_equal(uuid_parse(t, u), 0);
        assert_int_equal(uuid_type(u), UUID_TYPE_DCE_RANDOM);
        assert_int_equal(uuid_variant(u), UUID_VARIANT_DCE);
    }
}

static void test_all_distinct(void **state)
{
    (void)state;
    char(*v)[RAND_UUID_TEXT] = calloc(N_UUIDS, sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < N_UUIDS; i++)
        rand_uuid(v[i]);
    qsort(v, N_UUIDS, sizeof *v, cmp_text);
    for (int i = 1; i < N_UUIDS; i++)
        assert_string_not_equal(v[i - 1], v[i]);
    free(v);
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The 48-bit millisecond count of a version-7 UUID's text (its first 12 hex digits). */
static long long v7_ms(const char *t)
{
    char hex[13];
    memcpy(hex, t, 8);
    memcpy(hex + 8, t + 9, 4);
    hex[12] = '\0';
    return strtoll(hex, NULL, 16);
}

static void test_v7_time_ordered(void **state)
{
    (void)state;
    char(*v)[RAND_UUID_TEXT] = calloc(N_UUIDS, sizeof *v);
    assert_non_null(v);
    long long before = now_ms();
    for (int i = 0; i < N_UUIDS; i++)
        rand_uuid_v7(v[i]);
    long long after = now_ms();
    for (int i = 0; i < N_UUIDS; i++) {
        uuid_t u;
        assert_int_equal(strlen(v[i]), 36);
        assert_int_equal(strspn(v[i], "0123456789abcdef-"), 36);
        assert_int_equal(v[i][14], '7');           /* version 7 */
        assert_non_null(strchr("89ab", v[i][19])); /* variant 10 */
        assert_int_equal(uuid_parse(v[i], u), 0);
        assert_int_equal(uuid_variant(u), UUID_VARIANT_DCE);
        assert_in_range(v7_ms(v[i]), before, after); /* made now */
        if (i > 0)
            assert_true(v7_ms(v[i - 1]) <= v7_ms(v[i])); /* in the order made */
    }
    qsort(v, N_UUIDS, sizeof *v, cmp_text);
    for (int i = 1; i < N_UUIDS; i++)
        assert_string_not_equal(v[i - 1], v[i]); /* random within a millisecond */
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_version_variant),
        cmocka_unit_test(test_all_distinct),
        cmocka_unit_test(test_v7_time_ordered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

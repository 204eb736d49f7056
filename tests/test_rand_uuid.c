/* test_rand_uuid.c - random UUIDs: text form, version 4 and RFC 9562 variant, all distinct,
 * and libuuid reads back the same bits. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_version_variant),
        cmocka_unit_test(test_all_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_capbuf.c - the capped growing buffer: its bytes, its cap, its allocation. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "util/capbuf.h"

#include <stdlib.h>
#include <string.h>

/* Many small adds: the bytes in order, NUL-terminated, in a few allocations. */
static void test_adds_keep_every_byte(void **state)
{
    (void)state;
    struct capbuf b = {.max = SIZE_MAX};
    char want[4000];
    size_t reallocs = 0;
    size_t last_size = 0;
    for (size_t i = 0; i < sizeof want; i++) {
        want[i] = (char)('a' + i % 26);
        assert_true(capbuf_add(&b, &want[i], 1));
        if (b.size != last_size) {
            reallocs++;
            last_size = b.size;
        }
    }
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    assert_int_equal(b.data[b.len], '\0');
    assert_true(b.size > b.len);
    assert_true(reallocs <= 8); /* 64, 128, ... 4096: doubling, not one per add */
    size_t len = 0;
    char *data = capbuf_take(&b, &len);
    assert_int_equal(len, sizeof want);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.size, 0);
    free(data);
}

/* The cap holds for the bytes and for the allocation, even when doubling would pass it. */
static void test_cap(void **state)
{
    (void)state;
    struct capbuf b = {.max = 100};
    char chunk[60];
    memset(chunk, 'x', sizeof chunk);
    assert_true(capbuf_add(&b, chunk, sizeof chunk));
    assert_false(b.too_large);
    assert_false(capbuf_add(&b, chunk, sizeof chunk)); /* 120 > 100 */
    assert_true(b.too_large);
    assert_int_equal(b.len, sizeof chunk);  /* nothing of the refused add */
    assert_true(capbuf_add(&b, chunk, 40)); /* exactly the cap */
    assert_int_equal(b.len, 100);
    assert_true(b.size <= b.max + 1);
    assert_false(capbuf_add(&b, "y", 1));
    capbuf_free(&b);
    assert_null(b.data);
}

/* A reserve makes the room at once; the adds that fit in it move nothing. */
static void test_reserve(void **state)
{
    (void)state;
    struct capbuf b = {.max = SIZE_MAX};
    assert_true(capbuf_reserve(&b, 1000));
    assert_int_equal(b.len, 0);
    assert_true(b.size >= 1001);
    const char *data = b.data;
    for (int i = 0; i < 100; i++)
        assert_true(capbuf_add(&b, "0123456789", 10));
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.len, 1000);
    struct capbuf huge = {.max = SIZE_MAX}; /* len + n + 1 would wrap around */
    assert_false(capbuf_reserve(&huge, SIZE_MAX));
    assert_true(huge.too_large);
    assert_null(huge.data);
    struct capbuf small = {.max = 10};
    assert_false(capbuf_reserve(&small, 11));
    assert_true(small.too_large);
    assert_null(small.data);
    capbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adds_keep_every_byte),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

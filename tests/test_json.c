/* test_json.c - the typed member getters (json_get and friends) over json-c, with the
 * per-thread cache of member-name hashes: every answer equals json-c's own lookup,
 * whatever buffer the name is in, however long, in any thread. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "util/json.h"
#include "util/json_key.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define N_KEYS 1000 /* far more names than JSON_KEY_CACHE slots */
#define KEY_LEN 24
#define N_THREADS 4

static json_object *parse(const char *text)
{
    struct myocds_err err = {0};
    json_object *o = json_parse_strict(text, strlen(text), &err);
    assert_non_null(o);
    return o;
}

static void test_typed_getters(void **state)
{
    (void)state;
    json_object *o = parse("{\"a\":\"x\",\"b\":1.5,\"i\":7,\"c\":{\"d\":[1]},\"n\":null,"
                           "\"e\":\"\",\"z\":\"a\\u0000b\"}");
    double v = 0;
    assert_string_equal(json_get_str(o, "a"), "x");
    assert_true(json_get_num(o, "b", &v) && v == 1.5);
    assert_true(json_get_num(o, "i", &v) && v == 7);
    assert_non_null(json_get_arr(json_get_obj(o, "c"), "d"));
    assert_null(json_get_str(o, "b")); /* a number is no string */
    assert_null(json_get_obj(o, "a")); /* a string is no object */
    assert_null(json_get_str(o, "n")); /* null */
    assert_false(json_get_num(o, "n", &v));
    assert_false(json_get_num(o, "a", &v));
    assert_null(json_get_str(o, "e")); /* empty */
    assert_null(json_get_str(o, "z")); /* a NUL inside */
    assert_null(json_get_str(o, "missing"));
    assert_false(json_get_num(o, "missing", &v));
    assert_null(json_get_str(json_object_object_get(o, "a"), "a")); /* a string: no members */
    assert_null(json_get_str(NULL, "a"));
    assert_null(json_get(o, NULL, json_type_string));
    json_object_put(o);
}

/* The same buffer holding one name, then others: each lookup must see the text, not the
 * address, or "b" would be looked up with the hash of "a". The object is too large to be
 * scanned, so the names are hashed. */
static void test_name_in_a_reused_buffer(void **state)
{
    (void)state;
    json_object *o = parse("{\"a\":\"A\",\"b\":\"B\",\"ab\":\"AB\",\"p1\":1,\"p2\":2,\"p3\":3,"
                           "\"p4\":4,\"p5\":5,\"p6\":6,\"p7\":7}");
    assert_true(json_object_object_length(o) > JSON_SCAN_MEMBERS);
    char name[8];
    const char *const names[] = {"a", "b", "zz", "ab", "a", "ab", "b"};
    const char *const want[] = {"A", "B", NULL, "AB", "A", "AB", "B"};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            snprintf(name, sizeof name, "%s", names[i]);
            const char *got = json_get_str(o, name);
            if (want[i] == NULL)
                assert_null(got);
            else
                assert_string_equal(got, want[i]);
        }
    }
    json_object_put(o);
}

/* Objects on both sides of JSON_SCAN_MEMBERS (scanned, hashed), with a name sent twice
 * (json-c keeps the last value), a member deleted, names sharing their first byte and
 * the empty name: every lookup answers as json-c's own. */
static void test_scanned_and_hashed_objects(void **state)
{
    (void)state;
    for (int n = 0; n <= 2 * JSON_SCAN_MEMBERS + 2; n++) {
        char text[1024] = "{\"\":\"empty\"";
        size_t len = strlen(text);
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(text + len, sizeof text - len, ",\"m%d\":%d", i, i);
        snprintf(text + len, sizeof text - len, ",\"m0\":-1}");
        json_object *o = parse(text);
        if (n > 2)
            json_object_object_del(o, "m2");
        for (int i = -1; i < n + 3; i++) {
            char name[16] = "";
            if (i >= 0)
                snprintf(name, sizeof name, "m%d", i);
            json_object *want = NULL;
            bool has = json_object_object_get_ex(o, name, &want);
            json_object *got = json_get(o, name, json_object_get_type(want));
            assert_true(has ? got == want : got == NULL);
        }
        double v = 0;
        assert_true(json_get_num(o, "m0", &v) && v == -1);
        assert_string_equal(json_get_str(o, ""), "empty");
        assert_null(json_get(o, "m", json_type_int));
        json_object_put(o);
    }
    /* Names that differ only past their first, or second, byte, in a scanned object. */
    json_object *o = parse("{\"code\":1,\"coding\":2,\"co\":3,\"c\":4,\"cods\":5}");
    const char *const names[] = {"code", "coding", "co", "c", "cods", "cod", "codes", "d"};
    const double want[] = {1, 2, 3, 4, 5, -1, -1, -1};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        double v = -1;
        bool found = json_get_num(o, names[i], &v);
        assert_true(found == (want[i] >= 0));
        assert_true(v == want[i]);
    }
    json_object_put(o);
}

/* Builds {"k0":0,...} with N_KEYS names, some longer than the cache keeps. */
static json_object *many_keys(char names[][KEY_LEN + JSON_KEY_CACHED_MAX])
{
    json_object *o = json_object_new_object();
    for (int i = 0; i < N_KEYS; i++) {
        if (i % 7 == 0) /* longer than JSON_KEY_CACHED_MAX: hashed every time */
            snprintf(names[i], KEY_LEN + JSON_KEY_CACHED_MAX, "%0*d", JSON_KEY_CACHED_MAX + 3, i);
        else
            snprintf(names[i], KEY_LEN + JSON_KEY_CACHED_MAX, "k%d", i);
        json_object_object_add(o, names[i], json_object_new_int(i));
    }
    return o;
}

static char shared_names[N_KEYS][KEY_LEN + JSON_KEY_CACHED_MAX];

/* Every name, three times over (the later rounds from the cache), against json-c. */
static int check_all(json_object *o)
{
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N_KEYS; i++) {
            json_object *want = NULL;
            double v = -1;
            if (!json_object_object_get_ex(o, shared_names[i], &want) ||
                json_get(o, shared_names[i], json_type_int) != want ||
                !json_get_num(o, shared_names[i], &v) || v != i)
                return -1;
        }
    }
    return 0;
}

static void test_more_names_than_slots(void **state)
{
    (void)state;
    json_object *o = many_keys(shared_names);
    assert_int_equal(check_all(o), 0);
    /* A name not in o, in the address of one that was found. */
    char saved[KEY_LEN + JSON_KEY_CACHED_MAX];
    memcpy(saved, shared_names[1], sizeof saved);
    snprintf(shared_names[1], sizeof shared_names[1], "absent");
    assert_null(json_get(o, shared_names[1], json_type_int));
    memcpy(shared_names[1], saved, sizeof saved);
    assert_int_equal(check_all(o), 0);
    json_object_put(o);
}

static void *thread_check(void *arg)
{
    return (void *)(intptr_t)check_all(arg);
}

/* Each thread has its own cache; all read the same tree at once. */
static void test_threads(void **state)
{
    (void)state;
    json_object *o = many_keys(shared_names);
    pthread_t t[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_check, o), 0);
    for (int i = 0; i < N_THREADS; i++) {
        void *rc = NULL;
        assert_int_equal(pthread_join(t[i], &rc), 0);
        assert_int_equal((intptr_t)rc, 0);
    }
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_getters),
        cmocka_unit_test(test_name_in_a_reused_buffer),
        cmocka_unit_test(test_scanned_and_hashed_objects),
        cmocka_unit_test(test_more_names_than_slots),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

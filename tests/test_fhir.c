/* test_fhir.c - the FHIR readers: a Coding read in one pass answers as the getters do. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "fhir/fhir.h"
#include "fhir/json.h"

#include <string.h>

static void same(const char *got, const char *want)
{
    if (want == NULL)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

/* Every member as json_get_str() reads it, whatever else the Coding holds or lacks. */
static void test_coding_as_the_getters_read_it(void **state)
{
    (void)state;
    static const char *const codings[] = {
        "{\"system\":\"http://snomed.info/"
        "sct\",\"code\":\"31384009\",\"display\":\"Polymyositis\"}",
        "{\"display\":\"d\",\"code\":\"c\",\"system\":\"s\",\"version\":\"1\",\"userSelected\":"
        "true}",
        "{\"code\":\"c\"}",
        "{}",
        "{\"system\":\"\",\"code\":12,\"display\":null}",
        "{\"code\":\"a\\u0000b\",\"codes\":\"x\",\"cod\":\"y\",\"sys\":\"z\",\"d\":\"w\"}",
        "{\"code\":\"first\",\"code\":\"last\"}",
        "{\"system\":{\"code\":\"nested\"},\"display\":[\"x\"]}",
        "[\"code\"]",
        "\"code\"",
    };
    for (size_t i = 0; i < sizeof codings / sizeof codings[0]; i++) {
        struct myocds_err err = {0};
        json_object *c = json_parse_strict(codings[i], strlen(codings[i]), &err);
        assert_non_null(c);
        struct fhir_coding got;
        fhir_coding_read(c, &got);
        same(got.system, json_get_str(c, "system"));
        same(got.code, json_get_str(c, "code"));
        same(got.display, json_get_str(c, "display"));
        json_object_put(c);
    }
    struct fhir_coding none;
    fhir_coding_read(NULL, &none);
    assert_null(none.system);
    assert_null(none.code);
    assert_null(none.display);
}

/* The first code of a CodeableConcept, of any system or of one. */
static void test_first_code(void **state)
{
    (void)state;
    const char *text = "{\"coding\":[{\"system\":\"a\",\"code\":\"1\"},{\"display\":\"no code\"},"
                       "{\"system\":\"b\",\"code\":\"2\"}]}";
    struct myocds_err err = {0};
    json_object *cc = json_parse_strict(text, strlen(text), &err);
    assert_non_null(cc);
    assert_string_equal(fhir_cc_first_code(cc, NULL), "1");
    assert_string_equal(fhir_cc_first_code(cc, "b"), "2");
    assert_null(fhir_cc_first_code(cc, "c"));
    assert_null(fhir_cc_first_code(NULL, NULL));
    json_object_put(cc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coding_as_the_getters_read_it),
        cmocka_unit_test(test_first_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

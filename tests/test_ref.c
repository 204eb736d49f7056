/* test_ref.c - FHIR references: every form read, the hostile ones refused, resolution by
 * contained id, fullUrl and type + id. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "fhir/ref.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

static json_object *parse(const char *text)
{
    struct myocds_err err = {0};
    json_object *o = json_parse_strict(text, strlen(text), &err);
    if (o == NULL)
        fail_msg("fixture JSON: %s", err.msg);
    return o;
}

static void test_forms_read(void **state)
{
    (void)state;
    static const struct {
        const char *ref;
        enum fhir_ref_kind kind;
        const char *type;
        const char *id;
        size_t base_len;
    } cases[] = {
        {"Medication/eVBXvK3", FHIR_REF_RELATIVE, "Medication", "eVBXvK3", 0},
        {"Medication/m.1-a/_history/2", FHIR_REF_RELATIVE, "Medication", "m.1-a", 0},
        {"https://example.com/api/FHIR/R4/Medication/ehjM3", FHIR_REF_ABSOLUTE, "Medication",
         "ehjM3", 31},
        {"https://sandbox-api.va.gov/services/fhir/v0/r4/Medication/I2-4/_history/7",
         FHIR_REF_ABSOLUTE, "Medication", "I2-4", 46},
        {"HTTP://h/Medication/1", FHIR_REF_ABSOLUTE, "Medication", "1", 8},
        {"#med0310", FHIR_REF_CONTAINED, "", "med0310", 0},
        {"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", FHIR_REF_URN, "", "", 0},
        {"urn:oid:2.16.840.1.113883.6.88", FHIR_REF_URN, "", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fhir_ref r;
        assert_true(fhir_ref_parse(cases[i].ref, &r));
        assert_int_equal(r.kind, cases[i].kind);
        assert_string_equal(r.type, cases[i].type);
        assert_string_equal(r.id, cases[i].id);
        assert_ptr_equal(r.text, cases[i].ref);
        assert_int_equal(r.base_len, cases[i].base_len);
    }
}

static void test_hostile_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "#",
        "Medication",
        "Medication/",
        "/Medication/1",
        "Medication//1",
        "Medication/../Patient/1",
        "Medication/1/../../Patient/2",
        "https://h/r4/../Medication/1",
        "https://h/r4/./Medication/1",
        "Medication/..",
        "Medication/%2e%2e",
        "Medication/1?x=2",
        "Medication/1#x",
        "Medication/a b",
        "Medication/1\\x",
        "medication/1",
        "Medi-cation/1",
        "Patient/1/Medication/2",
        "Medication/1/_history/",
        "Medication/1/_history/2/x",
        "https://",
        "https://host",
        "https://host/",
        "https:///Medication/1",
        "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e",
        "urn:uuid:0c3151bd_1cbf-4d64-b04d-cd9187a4c6e0",
        "urn:oid:",
        "urn:oid:1..2",
        "urn:oid:1.2.",
        "urn:isbn:1",
        "#a/b",
        "Medication/0123456789012345678901234567890123456789012345678901234567890123456789",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fhir_ref r;
        if (fhir_ref_parse(bad[i], &r))
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(r.kind, FHIR_REF_NONE);
        assert_null(r.text);
    }
    struct fhir_ref r;
    assert_false(fhir_ref_parse(NULL, &r));
    /* 100 KB of a plausible reference: refused at the length cap, never read past it. */
    size_t n = 100 * 1024;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memcpy(big, "Medication/", 11);
    memset(big + 11, 'a', n - 11);
    big[n] = '\0';
    assert_false(fhir_ref_parse(big, &r));
    memcpy(big, "https://h/", 10);
    for (size_t i = 10; i < n; i++)
        big[i] = i % 2 == 0 ? 'a' : '/';
    assert_false(fhir_ref_parse(big, &r));
    free(big);
}

static void test_type_id(void **state)
{
    (void)state;
    struct fhir_ref r;
    char buf[FHIR_TYPE_ID_MAX];
    assert_true(fhir_ref_parse("https://e.org/r4/MedicationRequest/42/_history/3", &r));
    assert_true(fhir_ref_type_id(&r, buf, sizeof buf));
    assert_string_equal(buf, "MedicationRequest/42");
    assert_false(fhir_ref_type_id(&r, buf, 5));
    assert_true(fhir_ref_parse("#x", &r));
    assert_false(fhir_ref_type_id(&r, buf, sizeof buf));
}

static const char BUNDLE[] =
    "{\"resourceType\":\"Bundle\",\"entry\":["
    "{\"fullUrl\":\"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0\","
    " \"resource\":{\"resourceType\":\"Medication\",\"id\":\"syn\"}},"
    "{\"fullUrl\":\"https://ehr.example.org/r4/Medication/abs\","
    " \"resource\":{\"resourceType\":\"Medication\",\"id\":\"abs\"}},"
    "{\"resource\":{\"resourceType\":\"Medication\",\"id\":\"rel\"}},"
    "{\"resource\":{\"resourceType\":\"Medication\",\"id\":\"rel\",\"tag\":\"second\"}},"
    "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"rel\"}},"
    "{\"resource\":{\"resourceType\":\"MedicationRequest\",\"id\":\"mr\","
    "  \"contained\":[{\"resourceType\":\"Patient\",\"id\":\"c1\"},"
    "                {\"resourceType\":\"Medication\",\"id\":\"c1\"}]}}]}";

/* The index of BUNDLE's entries, as the view builds it. */
static struct fhir_index *index_of(json_object *bundle)
{
    struct fhir_index *ix = fhir_index_new();
    assert_non_null(ix);
    json_object *entries = json_get_arr(bundle, "entry");
    for (size_t i = 0; i < json_object_array_length(entries); i++) {
        json_object *e = json_object_array_get_idx(entries, i);
        json_object *res = json_get_obj(e, "resource");
        assert_int_equal(
            fhir_index_add(ix, res, json_get_str(res, "resourceType"), json_get_str(e, "fullUrl")),
            0);
    }
    return ix;
}

static const char *resolved_id(const char *text, const json_object *container,
                               const struct fhir_index *ix)
{
    struct fhir_ref r;
    if (!fhir_ref_parse(text, &r))
        return NULL;
    json_object *res = fhir_ref_resolve(&r, "Medication", container, ix);
    return res != NULL ? json_get_str(res, "id") : NULL;
}

static void test_resolve(void **state)
{
    (void)state;
    json_object *b = parse(BUNDLE);
    struct fhir_index *ix = index_of(b);
    json_object *entries = json_get_arr(b, "entry");
    json_object *mr = json_get_obj(json_object_array_get_idx(entries, 5), "resource");

    assert_string_equal(resolved_id("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", NULL, ix),
                        "syn");
    assert_null(resolved_id("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e1", NULL, ix));
    assert_string_equal(resolved_id("https://ehr.example.org/r4/Medication/abs", NULL, ix), "abs");
    /* Any base: by type and id once the fullUrl does not match. */
    assert_string_equal(resolved_id("https://other.example/fhir/Medication/rel", NULL, ix), "rel");
    assert_string_equal(resolved_id("Medication/abs/_history/9", NULL, ix), "abs");
    assert_string_equal(resolved_id("Medication/syn", NULL, ix), "syn");
    /* The first resource under a key wins. */
    json_object *rel = NULL;
    struct fhir_ref r;
    assert_true(fhir_ref_parse("Medication/rel", &r));
    rel = fhir_ref_resolve(&r, "Medication", NULL, ix);
    assert_null(json_get_str(rel, "tag"));
    /* The wanted type only: Patient/rel is not a Medication. */
    assert_true(fhir_ref_parse("Patient/rel", &r));
    assert_null(fhir_ref_resolve(&r, "Medication", NULL, ix));
    assert_non_null(fhir_ref_resolve(&r, "Patient", NULL, ix));
    /* Contained: only inside its container, and of the wanted type. */
    assert_string_equal(resolved_id("#c1", mr, ix), "c1");
    assert_true(fhir_ref_parse("#c1", &r));
    assert_string_equal(json_get_str(fhir_ref_resolve(&r, "Medication", mr, ix), "resourceType"),
                        "Medication");
    assert_null(resolved_id("#c1", NULL, ix));
    assert_null(resolved_id("#rel", mr, ix));
    assert_null(resolved_id("Medication/c1", mr, ix));
    /* Hostile forms resolve to nothing. */
    assert_null(resolved_id("Medication/../Medication/rel", mr, ix));
    assert_null(resolved_id("#", mr, ix));
    r.kind = FHIR_REF_NONE;
    assert_null(fhir_ref_resolve(&r, "Medication", mr, ix));
    assert_true(fhir_ref_parse("Medication/rel", &r));
    assert_null(fhir_ref_resolve(&r, "Medication", NULL, NULL));
    fhir_index_free(ix);
    fhir_index_free(NULL);
    json_object_put(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_read),
        cmocka_unit_test(test_hostile_refused),
        cmocka_unit_test(test_type_id),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

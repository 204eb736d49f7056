/* test_services.c - hooks/services/: each service's discovery entry carries the CDS Hooks
 * version it implements (CDS Hooks 3.0 "Discovery"); a file with no version, a version that
 * is not MAJOR.MINOR.PATCH, or an unknown key stops the load, naming the file and the key. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "cds/services.h"
#include "util/file.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHIPPED MYOCDS_SOURCE_DIR "/hooks/services"
#define SIGN_FILE "myositis-order-sign.json"

static char dir[64];
static char *sign; /* the shipped order-sign file */

static int setup(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    size_t len = 0;
    sign = file_read(SHIPPED "/" SIGN_FILE, 1u << 20, &len, &err);
    snprintf(dir, sizeof dir, "/tmp/myocds-services-XXXXXX");
    if (sign == NULL || mkdtemp(dir) == NULL)
        return -1;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cp '%s'/*.json '%s/'", SHIPPED, dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    free(sign);
    return system(cmd) == 0 ? 0 : -1;
}

/* The copy's order-sign file with its first `from` replaced by `to`. */
static void edit(const char *from, const char *to)
{
    char path[128];
    const char *at = strstr(sign, from);
    assert_non_null(at);
    snprintf(path, sizeof path, "%s/" SIGN_FILE, dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - sign), sign, to, at + strlen(from));
    assert_int_equal(fclose(f), 0);
}

static void test_discovery_has_version(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    struct service_registry *r = services_load(SHIPPED, &err);
    assert_non_null(r);
    json_object *doc = json_tokener_parse(r->discovery);
    json_object *services = json_get_arr(doc, "services");
    assert_int_equal(json_object_array_length(services), 3);
    for (size_t i = 0; i < json_object_array_length(services); i++)
        assert_string_equal(json_get_str(json_object_array_get_idx(services, i), "version"),
                            "3.0.0");
    json_object_put(doc);
    services_free(r);
}

static void refused(const char *from, const char *to, const char *what)
{
    struct myocds_err err = {0};
    edit(from, to);
    struct service_registry *r = services_load(dir, &err);
    print_message("%s -> %s: %s\n", from, to, err.msg);
    assert_null(r);
    assert_non_null(strstr(err.msg, SIGN_FILE));
    assert_non_null(strstr(err.msg, what));
}

static void test_bad_version_or_key(void **state)
{
    (void)state;
    refused("\"version\": \"3.0.0\"", "\"version\": \"3.0\"", "version:");
    refused("\"version\": \"3.0.0\"", "\"version\": \"3.0.0-ballot\"", "version:");
    refused("\"version\": \"3.0.0\"", "\"version\": 3", "version:");
    refused("\"version\": \"3.0.0\"", "\"versoin\": \"3.0.0\"", "versoin: unknown key");
    edit("\"version\": \"3.0.0\"", "\"version\": \"2.0.1\"");
    struct myocds_err err = {0};
    struct service_registry *r = services_load(dir, &err);
    assert_non_null(r); /* another version is the file's to say */
    services_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery_has_version),
        cmocka_unit_test(test_bad_version_or_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

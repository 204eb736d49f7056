/* test_config.c - the config file: defaults, every key, type errors naming the key. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "util/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse(const char *json, struct cfg *c, struct myocds_err *err)
{
    memset(err, 0, sizeof *err);
    return cfg_parse(json, strlen(json), c, err);
}

static void test_defaults(void **state)
{
    (void)state;
    struct cfg c;
    struct myocds_err err = {0};
    assert_int_equal(cfg_load(NULL, &c, &err), 0);
    assert_null(c.public_base_url);
    assert_string_equal(c.data_dir, CFG_DEFAULT_DATA_DIR);
    assert_int_equal(c.fhir_timeout_ms, CFG_DEFAULT_FHIR_TIMEOUT_MS);
    assert_int_equal(c.http_max_body_bytes, CFG_DEFAULT_MAX_BODY);
    assert_true(c.http_threads >= 1);
    assert_int_equal(c.n_issuers, 0);
    assert_int_equal(c.n_fhir_allowed_servers, 0);
    assert_int_equal(c.log_level, LOG_LEVEL_INFO);
    assert_int_equal(c.cards_repeat_window_min, 60);
    assert_non_null(c.hooks_dir);
    cfg_free(&c);
    cfg_free(&c); /* zeroed: a no-op */
}

static void test_hooks_dir_env(void **state)
{
    (void)state;
    struct cfg c;
    struct myocds_err err = {0};
    setenv(CFG_HOOKS_ENV, "/some/hooks", 1);
    assert_int_equal(cfg_load(NULL, &c, &err), 0);
    assert_string_equal(c.hooks_dir, "/some/hooks");
    cfg_free(&c);
    assert_int_equal(parse("{\"hooks_dir\":\"/other\"}", &c, &err), 0);
    assert_string_equal(c.hooks_dir, "/other"); /* the key wins over the environment */
    cfg_free(&c);
    unsetenv(CFG_HOOKS_ENV);
}

static const char full[] =
    "{\"public_base_url\":\"https://cds.example.org/\","
    " \"auth\":{\"issuers\":["
    "  {\"iss\":\"https://ehr.example.org\",\"jwks_uri\":\"https://ehr.example.org/jwks.json\"},"
    "  {\"iss\":\"https://sandbox.example\",\"jwks_file\":\"/etc/myocds/sandbox-jwks.json\","
    "   \"fhir_servers\":[\"http://localhost:8081/fhir\"]}]},"
    " \"fhir\":{\"allowed_servers\":[\"https://fhir.example.org/r4\",\"http://localhost:8081/"
    "fhir\"],"
    "  \"anonymous_servers\":[\"http://localhost:8081/fhir\"],\"timeout_ms\":2500},"
    " \"data_dir\":\"/var/lib/myocds\","
    " \"feedback\":{\"postgres_url\":\"postgresql://myocds@db/myocds\"},"
    " \"http\":{\"max_body_bytes\":2048,\"threads\":8,\"connection_limit\":100,\"timeout_s\":5,"
    "  \"cors_origins\":[\"http://localhost:3000\"]},"
    " \"cards\":{\"repeat_window_min\":15},"
    " \"log_level\":\"debug\"}";

static void test_full(void **state)
{
    (void)state;
    struct cfg c;
    struct myocds_err err;
    assert_int_equal(parse(full, &c, &err), 0);
    assert_string_equal(c.public_base_url, "https://cds.example.org"); /* '/' trimmed */
    assert_int_equal(c.n_issuers, 2);
    assert_string_equal(c.issuers[0].iss, "https://ehr.example.org");
    assert_string_equal(c.issuers[0].jwks_uri, "https://ehr.example.org/jwks.json");
    assert_null(c.issuers[0].jwks_file);
    assert_string_equal(c.issuers[1].jwks_file, "/etc/myocds/sandbox-jwks.json");
    assert_int_equal(c.n_fhir_allowed_servers, 2);
    assert_string_equal(c.fhir_allowed_servers[0], "https://fhir.example.org/r4");
    assert_int_equal(c.n_fhir_anonymous_servers, 1);
    assert_string_equal(c.fhir_anonymous_servers[0], "http://localhost:8081/fhir");
    assert_null(c.issuers[0].fhir_servers); /* bound to none: any allowed server */
    assert_int_equal(c.issuers[1].n_fhir_servers, 1);
    assert_string_equal(c.issuers[1].fhir_servers[0], "http://localhost:8081/fhir");
    assert_int_equal(c.fhir_timeout_ms, 2500);
    assert_string_equal(c.data_dir, "/var/lib/myocds");
    assert_string_equal(c.postgres_url, "postgresql://myocds@db/myocds");
    assert_int_equal(c.http_max_body_bytes, 2048);
    assert_int_equal(c.http_threads, 8);
    assert_int_equal(c.http_connection_limit, 100);
    assert_int_equal(c.http_timeout_s, 5);
    assert_int_equal(c.n_http_cors_origins, 1);
    assert_string_equal(c.http_cors_origins[0], "http://localhost:3000");
    assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
    assert_int_equal(c.cards_repeat_window_min, 15);
    cfg_free(&c);
    assert_int_equal(parse("{\"cards\":{\"repeat_window_min\":0}}", &c, &err), 0);
    assert_int_equal(c.cards_repeat_window_min, 0); /* 0: every card repeats */
    cfg_free(&c);
    assert_int_equal(parse("{\"cards\":{\"repeat_window_min\":1440}}", &c, &err), 0);
    assert_int_equal(c.cards_repeat_window_min, 1440);
    cfg_free(&c);
}

struct bad_case {
    const char *json;
    const char *msg_has;
};

static const struct bad_case bad_cases[] = {
    {"[]", "top level must be a JSON object"},
    {"{\"unknown\":{\"ignored\":[1,2]}}", "config: unknown key unknown"},
    {"{\"fhir\":{\"alowed_servers\":[\"https://x\"]}}", "config: unknown key fhir.alowed_servers"},
    {"{\"http\":{\"threads\":2,\"timeout\":5}}", "config: unknown key http.timeout"},
    {"{\"Data_dir\":\"/d\"}", "config: unknown key Data_dir"},
    {"{\"auth\":{\"issuers\":[{\"iss\":\"a\",\"jwks_file\":\"/k\",\"jwks_url\":\"x\"}]}}",
     "config: unknown key auth.issuers[0].jwks_url"},
    {"{\"data_dir\":", "config: invalid JSON"},
    {"{\"public_base_url\":3}", "public_base_url must be a non-empty string"},
    {"{\"public_base_url\":\"ftp://x\"}", "public_base_url must be an http(s) URL"},
    {"{\"data_dir\":\"\"}", "data_dir must be a non-empty string"},
    {"{\"fhir\":[]}", "fhir must be an object"},
    {"{\"fhir\":{\"timeout_ms\":\"3000\"}}", "fhir.timeout_ms must be an integer"},
    {"{\"fhir\":{\"timeout_ms\":0}}", "fhir.timeout_ms must be an integer in 1.."},
    {"{\"fhir\":{\"timeout_ms\":1.5}}", "fhir.timeout_ms must be an integer"},
    {"{\"fhir\":{\"allowed_servers\":\"https://x\"}}", "fhir.allowed_servers must be an array"},
    {"{\"fhir\":{\"allowed_servers\":[\"x\"]}}", "fhir.allowed_servers[0] must be an http(s)"},
    {"{\"fhir\":{\"anonymous_servers\":[3]}}", "fhir.anonymous_servers[0] must be an http(s)"},
    {"{\"auth\":{\"issuers\":[{\"iss\":\"a\",\"jwks_file\":\"/f\",\"fhir_servers\":[\"x\"]}]}}",
     "auth.issuers[0].fhir_servers must be an array of http(s) URLs"},
    {"{\"http\":{\"threads\":-1}}", "http.threads must be an integer"},
    {"{\"http\":{\"max_body_bytes\":99999999999999999999}}", "http.max_body_bytes"},
    {"{\"http\":{\"connection_limit\":true}}", "http.connection_limit"},
    {"{\"http\":{\"timeout_s\":0}}", "http.timeout_s"},
    {"{\"http\":{\"cors_origins\":[\"http://a.org/app\"]}}",
     "http.cors_origins[0] must be an origin"},
    {"{\"log_level\":\"loud\"}", "log_level must be debug, info, warn or error"},
    {"{\"feedback\":{\"postgres_url\":1}}", "feedback.postgres_url must be a non-empty string"},
    {"{\"cards\":[]}", "cards must be an object"},
    {"{\"cards\":{\"repeat_window_min\":-1}}",
     "cards.repeat_window_min must be an integer in 0..1440"},
    {"{\"cards\":{\"repeat_window_min\":1441}}", "cards.repeat_window_min must be an integer"},
    {"{\"cards\":{\"repeat_window_min\":\"60\"}}", "cards.repeat_window_min must be an integer"},
    {"{\"cards\":{\"repeat_window_min\":1.5}}", "cards.repeat_window_min must be an integer"},
    {"{\"auth\":{\"issuers\":{}}}", "auth.issuers must be an array"},
    {"{\"auth\":{\"issuers\":[1]}}", "auth.issuers[0] must be an object"},
    {"{\"auth\":{\"issuers\":[{\"jwks_file\":\"/k\"}]}}", "auth.issuers[0].iss is required"},
    {"{\"auth\":{\"issuers\":[{\"iss\":\"a\",\"jwks_file\":\"/k\"},{\"iss\":\"b\"}]}}",
     "auth.issuers[1] needs jwks_uri or jwks_file"},
    {"{\"auth\":{\"issuers\":[{\"iss\":\"a\",\"jwks_uri\":5}]}}",
     "auth.issuers[0].jwks_uri must be a non-empty string"},
    {"{\"auth\":{\"issuers\":[{\"iss\":\"a\",\"jwks_uri\":\"http://a/j\"}]}}",
     "auth.issuers[0].jwks_uri must be an https URL"},
    {"{\"clients\":{\"default\":{\"maxActionsPerSugestion\":1}}}",
     "unknown key clients.default.maxActionsPerSugestion"},
    {"{\"clients\":{\"default\":{\"selectionBehavior\":[\"any\",\"all\"]}}}",
     "clients.default.selectionBehavior"},
    {"{\"clients\":{\"default\":{\"selectionBehavior\":[]}}}", "clients.default.selectionBehavior"},
    {"{\"clients\":{\"x\":{\"maxActionsPerSuggestion\":0}}}", "clients.x.maxActionsPerSuggestion"},
    {"{\"clients\":{\"x\":{\"actionSelectionBehavior\":\"yes\"}}}",
     "clients.x.actionSelectionBehavior"},
    {"{\"clients\":[]}", "clients must be an object"},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        struct cfg c;
        struct myocds_err err;
        print_message("case %s\n", bad_cases[i].json);
        assert_int_equal(parse(bad_cases[i].json, &c, &err), -400);
        print_message("  -> %s\n", err.msg);
        assert_non_null(strstr(err.msg, bad_cases[i].msg_has));
        assert_null(c.data_dir); /* nothing left to free */
    }
}

/* clients: each issuer's profile, the default for the others and for calls without a JWT. */
static void test_clients(void **state)
{
    (void)state;
    struct cfg c;
    struct myocds_err err;
    assert_int_equal(parse("{\"clients\":{\"https://epic.example\":{\"selectionBehavior\":"
                           "[\"any\"],\"maxActionsPerSuggestion\":1,\"topicCodeAlphanumeric\":"
                           "true},\"default\":{\"actionSelectionBehavior\":true}}}",
                           &c, &err),
                     0);
    const struct myocds_client_profile *epic = cfg_client(&c, "https://epic.example");
    const struct myocds_client_profile *other = cfg_client(&c, "https://other.example");
    assert_non_null(epic);
    assert_true(epic->select_any && !epic->select_at_most_one);
    assert_int_equal(epic->max_actions, 1);
    assert_true(epic->topic_alphanumeric && !epic->action_selection);
    assert_ptr_equal(cfg_client(&c, NULL), other); /* no JWT: the default */
    assert_true(other->action_selection && other->select_any && other->select_at_most_one);
    assert_int_equal(other->max_actions, 0);
    cfg_free(&c);
    assert_int_equal(parse("{}", &c, &err), 0);
    assert_null(cfg_client(&c, "https://epic.example")); /* no entry: the engine's default */
    cfg_free(&c);
}

static void test_file(void **state)
{
    (void)state;
    char path[] = "/tmp/myocds-cfg-XXXXXX";
    struct cfg c;
    struct myocds_err err = {0};
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char body[] = "{\"http\":{\"threads\":\"many\"}}";
    assert_int_equal(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
    close(fd);
    assert_int_equal(cfg_load(path, &c, &err), -400);
    assert_non_null(strstr(err.msg, path)); /* the file is named */
    assert_non_null(strstr(err.msg, "http.threads"));
    unlink(path);
    assert_int_equal(cfg_load(path, &c, &err), -400);
    assert_non_null(strstr(err.msg, "cannot open"));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_hooks_dir_env),
        cmocka_unit_test(test_full),     cmocka_unit_test(test_bad),
        cmocka_unit_test(test_file),     cmocka_unit_test(test_clients),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}

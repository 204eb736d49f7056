/* test_rules_conf.c - hooks/rules.json held to the rules' declarations: the shipped file
 * compiles into every rule's struct; one edit at a time (a key misspelled, missing, of the
 * wrong type, unknown; a threshold out of range or unknown; a word of the shared phrases; a
 * switch for a service that does not exist) stops the load, naming the file and the key. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "cds/rules_conf.h"
#include "myocds/myocds.h"
#include "rules/rules.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RULES_PATH MYOCDS_SOURCE_DIR "/hooks/rules.json"
#define FILE_MAX (4u << 20)

static char *shipped; /* the shipped file's text */
static char dir[64];  /* a copy of hooks/ to edit */

static int setup(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    size_t len = 0;
    shipped = file_read(RULES_PATH, FILE_MAX, &len, &err);
    snprintf(dir, sizeof dir, "/tmp/myocds-rules-conf-XXXXXX");
    if (shipped == NULL || mkdtemp(dir) == NULL)
        return -1;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cp -r '%s/hooks/.' '%s/'", MYOCDS_SOURCE_DIR, dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    free(shipped);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes the shipped text with its first `from` replaced by `to` as the copy's rules.json
 * and returns its path (static). */
static const char *write_edit(const char *from, const char *to)
{
    static char path[128];
    const char *at = strstr(shipped, from);
    assert_non_null(at);
    snprintf(path, sizeof path, "%s/rules.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - shipped), shipped, to, at + strlen(from));
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Loads the edited copy: it must fail, and the message name the file and what. */
static void refused(const char *from, const char *to, const char *what)
{
    struct myocds_err err = {0};
    const char *path = write_edit(from, to);
    struct rules_conf *rc = rules_conf_load(path, &err);
    print_message("%s -> %s: %s\n", from, to, err.msg);
    assert_null(rc);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, what));
}

static const struct rule_conf *conf_of(const struct rules_conf *rc, const char *id)
{
    for (int i = 0; i < rules_count; i++)
        if (strcmp(rc->rules[i].id, id) == 0)
            return &rc->rules[i];
    fail_msg("no rule %s", id);
    return NULL;
}

/* The shipped file compiles: every rule has its texts, its source and reasons written. */
static void test_shipped_compiles(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    struct rules_conf *rc = rules_conf_load(RULES_PATH, &err);
    assert_non_null(rc);
    for (int i = 0; i < rules_count; i++) {
        const struct rule_conf *c = &rc->rules[i];
        assert_non_null(c->summary);
        assert_non_null(c->detail);
        assert_non_null(c->indicator);
        assert_non_null(strstr(c->source_json, c->id));
        assert_non_null(c->override_reasons.json);
        assert_true(rules_table[i].spec->size == 0 || c->own != NULL);
    }
    assert_true(conf_of(rc, "iga-before-ivig")->repeat_always);
    assert_false(conf_of(rc, "steroid-monotherapy")->repeat_always);
    assert_true(rc->th.adult_age_years == 18);
    rules_conf_free(rc);
}

/* The loaded texts are the file's: a changed wording reaches the rule's struct. */
static void test_text_reaches_rule(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    const char *path = write_edit("\"summary\": \"", "\"summary\": \"CHANGED ");
    struct rules_conf *rc = rules_conf_load(path, &err);
    assert_non_null(rc);
    int changed = 0;
    for (int i = 0; i < rules_count; i++)
        changed += strncmp(rc->rules[i].summary, "CHANGED ", 8) == 0;
    assert_int_equal(changed, 1);
    rules_conf_free(rc);
}

static void test_misspelled_text_key(void **state)
{
    (void)state;
    /* a caveat of steroid-monotherapy: unknown under its new name, and missing */
    refused("\"extra_imnm\"", "\"extra_imnn\"",
            "rules.steroid-monotherapy.extra_imnn: unknown key");
    refused("\"summary_deficient\"", "\"summary_deficent\"", "summary_deficent: unknown key");
}

/* A key taken away (its text kept under a name every rule may carry, a note). */
static void test_missing_key(void **state)
{
    (void)state;
    refused("\"extra_imnm\"", "\"repeat_why\"", "rules.steroid-monotherapy.extra_imnm: missing");
    refused("\"when_record\"", "\"repeat_why\"", "rules.ivig-plasmapheresis.when_record: missing");
    refused("\"source\"", "\"repeat_why\"", "source: missing");
}

static void test_wrong_type(void **state)
{
    (void)state;
    refused("\"enabled\": true", "\"enabled\": \"yes\"", "enabled: must be true or false");
    refused("\"indicator_imnm\": \"critical\"", "\"indicator_imnm\": \"urgent\"",
            "indicator_imnm: must be info, warning or critical");
    refused("\"any_dose_partners\": [", "\"any_dose_partners\": [3, ",
            "any_dose_partners: must be a list of non-empty strings");
    refused("\"repeat\": \"always\"", "\"repeat\": \"never\"", "repeat: must be");
}

static void test_suggestion_and_map_members(void **state)
{
    (void)state;
    refused("\"tmp_smx_ds\"", "\"tmp_smx_dss\"", "tmp_smx_dss: unknown suggestion");
    refused("\"supplements\": \"calcium", "\"supplement\": \"calcium",
            "names.supplement: unknown key");
}

static void test_thresholds(void **state)
{
    (void)state;
    refused("\"pjp_pred_mg_per_day\": 20", "\"pjp_pred_mg_per_day\": 2000",
            "thresholds.pjp_pred_mg_per_day: must be a number from");
    refused("\"pjp_min_days\": 28", "\"pjp_min_dayz\": 28", "thresholds.pjp_min_dayz: unknown key");
    refused("\"established_days\": 14", "\"established_days\": \"14\"",
            "thresholds.established_days");
}

/* The shared phrases' words: each read from the file, none unknown or missing. */
static void test_words(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    struct rules_conf *rc =
        rules_conf_load(write_edit("\"Being ordered:\"", "\"Ordered now:\""), &err);
    assert_non_null(rc);
    assert_string_equal(rc->words.action_ordered, "Ordered now:");
    rules_conf_free(rc);
    refused("\"action_active\"", "\"action_activ\"", "words.action_activ: unknown key");
    refused("\"date_unknown\"", "\"_about_date\"", "words._about_date: unknown key");
    refused("\"freq_weekly\": \"weekly\"", "\"freq_weekly\": \"\"",
            "words.freq_weekly: must be a non-empty string");
}

#define HL7_REASONS "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"

/* Override reasons: a standard code of the HL7 CodeSystem where one means the reason, else
 * our own code with its category; feedback's (system, code) maps to a category. */
static void test_override_reasons(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    struct rules_conf *rc = rules_conf_load(RULES_PATH, &err);
    assert_non_null(rc);
    const struct rule_conf *sm = conf_of(rc, "steroid-monotherapy");
    assert_non_null(strstr(sm->override_reasons.json,
                           "{\"system\":\"" HL7_REASONS "\",\"code\":\"patient-refuses\""));
    assert_non_null(
        strstr(sm->override_reasons.json,
               "{\"system\":\"urn:myocds:override-reason\",\"code\":\"agent-planned\""));
    int standard = 0;
    for (int i = 0; i < rules_count; i++)
        for (int k = 0; k < rc->rules[i].override_reasons.n; k++) {
            const struct rule_reason *r = &rc->rules[i].override_reasons.v[k];
            assert_non_null(r->category);
            assert_string_equal(rules_conf_reason_category(rc, rc->rules[i].id, r->system, r->code),
                                r->category);
            standard += strcmp(r->system, HL7_REASONS) == 0;
        }
    assert_true(standard > 20);
    assert_string_equal(
        rules_conf_reason_category(rc, "steroid-monotherapy", HL7_REASONS, "patient-refuses"),
        "does-not-align-preferences");
    assert_string_equal(rules_conf_reason_category(rc, "steroid-monotherapy",
                                                   "urn:myocds:override-reason", "agent-planned"),
                        "cds-suboptimal-context");
    /* a standard code the rule does not list still has its category; an unknown one none */
    assert_string_equal(
        rules_conf_reason_category(rc, "pjp-prophylaxis", HL7_REASONS, "too-costly-uncovered"),
        "not-convenient-feasible");
    assert_null(rules_conf_reason_category(rc, "pjp-prophylaxis", "urn:x", "patient-refuses"));
    assert_null(rules_conf_reason_category(rc, "pjp-prophylaxis", HL7_REASONS, "no-such-code"));
    /* an aza-tpmt reason of the low list is found too */
    assert_string_equal(
        rules_conf_reason_category(rc, "aza-tpmt", "urn:myocds:override-reason", "result-outdated"),
        "cds-not-applicable");
    rules_conf_free(rc);
    refused("\"code\": \"patient-refuses\"", "\"code\": \"patient-refused\"",
            "a standard reason is a code of override_codes");
    refused("specialist\",\n     \"category\": \"cds-suboptimal-context\"",
            "specialist\",\n     \"category\": \"cds-suboptimal\"",
            "names one of the six categories");
    refused("specialist\",\n     \"category\": \"cds-suboptimal-context\"",
            "specialist\",\n     \"category\": \"limited-time\"",
            "names one of the six categories");
    refused("specialist\",\n     \"category\": \"cds-suboptimal-context\"",
            "specialist\",\n     \"standard\": true",
            "a standard reason is a code of override_codes");
}

static void test_unknown_rule_and_top_key(void **state)
{
    (void)state;
    refused("\"rules\": {", "\"rules\": {\"steroid-monotherapie\": {}, ", "no such rule");
    refused("\"thresholds\": {", "\"threshold\": {}, \"thresholds\": {", "threshold: unknown key");
}

/* A per-service switch is compiled at load; one for a service that does not exist stops
 * the engine's load. */
static void test_service_switch(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    struct myocds_engine *e = NULL;
    write_edit("\"mtx-weekly\": {", "\"mtx-weekly\": {\"services\": {\"myositis-order-sing\": "
                                    "{\"enabled\": false}}, ");
    assert_int_not_equal(myocds_engine_load(dir, &e, &err), 0);
    print_message("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "rules.mtx-weekly.services.myositis-order-sing"));
    write_edit("\"mtx-weekly\": {", "\"mtx-weekly\": {\"services\": {\"myositis-order-sign\": "
                                    "{\"enabled\": false, \"indicatr\": \"info\"}}, ");
    assert_int_not_equal(myocds_engine_load(dir, &e, &err), 0);
    write_edit("\"mtx-weekly\": {", "\"mtx-weekly\": {\"services\": {\"myositis-order-sign\": "
                                    "{\"enabled\": false}}, ");
    assert_int_equal(myocds_engine_load(dir, &e, &err), 0);
    myocds_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_compiles),
        cmocka_unit_test(test_text_reaches_rule),
        cmocka_unit_test(test_misspelled_text_key),
        cmocka_unit_test(test_missing_key),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_suggestion_and_map_members),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_override_reasons),
        cmocka_unit_test(test_unknown_rule_and_top_key),
        cmocka_unit_test(test_service_switch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

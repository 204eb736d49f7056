/* test_store.c - what is SQLite's own (file, mode, data_dir), the card queue, and the
 * report's date range and formats. The suite both backends share is test_store_pg.c. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "store/report.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    char data_dir[96]; /* a subdirectory the store must create */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/myocds-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->data_dir, sizeof f->data_dir, "%s/a/b", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* One integer from a query on the store's file, through a separate connection. */
static long long query_int(const struct fixture *f, const char *sql)
{
    char path[160];
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    long long v = -1;
    snprintf(path, sizeof path, "%s/%s", f->data_dir, STORE_SQLITE_FILE);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void test_open_creates(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    struct stat sb;
    char path[160];
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), 0);
    assert_non_null(st);
    snprintf(path, sizeof path, "%s/%s", f->data_dir, STORE_SQLITE_FILE);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0); /* only the owner reads the store */
    store_close(st);
    assert_int_equal(query_int(f, "SELECT max(version) FROM schema_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(f, "SELECT count(*) FROM feedback"), 0);
}

static void test_bad_dir(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    char file[128];
    snprintf(file, sizeof file, "%s/plain-file", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(store_sqlite_open(file, &st, &err), -500);
    assert_null(st);
    assert_int_equal(err.http_status, 500);
    store_close(NULL);
}

/* A card the store cannot keep (its uuid is not one of ours) is dropped and counted. */
static void test_queue_refuses_foreign_rows(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    char long_uuid[STORE_UUID_MAX + 8];
    memset(long_uuid, 'a', sizeof long_uuid - 1);
    long_uuid[sizeof long_uuid - 1] = '\0';
    const struct store_card cards[] = {
        {"card-ok", "pjp-prophylaxis"}, {long_uuid, "pjp-prophylaxis"}, {"card-no-rule", NULL}};
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), 0);
    assert_int_equal(store_cards_issued(st, "svc", cards, 3, &err), -503);
    assert_int_equal(store_dropped(st), 2);
    store_flush(st);
    assert_int_equal(query_int(f, "SELECT count(*) FROM cards_issued"), 1);
    /* Stamped at issue time, in UTC with milliseconds. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM cards_issued WHERE issued_at "
                                  "GLOB '20[0-9][0-9]-[01][0-9]-[0-3][0-9]T*.[0-9][0-9][0-9]Z'"),
                     1);
    store_close(st);
}

struct range_case {
    const char *since;
    const char *until;
    int rc;
    const char *want_since;
    const char *want_until;
};

static const struct range_case range_cases[] = {
    {NULL, NULL, 0, "", ""},
    {"2025-01-01", "2025-03-31", 0, "2025-01-01T00:00:00.000Z", "2025-04-01T00:00:00.000Z"},
    {"2024-02-29", NULL, 0, "2024-02-29T00:00:00.000Z", ""},
    {NULL, "2025-06-30T12:00:00Z", 0, "", "2025-06-30T12:00:00.000Z"},
    {"2025-02-30", NULL, -400, NULL, NULL},
    {"2025-1-01", NULL, -400, NULL, NULL},
    {"yesterday", NULL, -400, NULL, NULL},
    {NULL, "2025-01-01T24:00:00Z", -400, NULL, NULL},
    {"2025-03-01", "2025-02-01", -400, NULL, NULL},
    {"2025-01-01T00:00:00+01:00", NULL, -400, NULL, NULL},
};

static void test_report_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof range_cases / sizeof range_cases[0]; i++) {
        const struct range_case *c = &range_cases[i];
        struct store_range r;
        struct myocds_err err = {0};
        print_message("case %zu: %s .. %s\n", i, c->since ? c->since : "-",
                      c->until ? c->until : "-");
        assert_int_equal(store_report_range(c->since, c->until, &r, &err), c->rc);
        if (c->rc != 0) {
            assert_non_null(strstr(err.msg, "--"));
            continue;
        }
        assert_string_equal(r.since, c->want_since);
        assert_string_equal(r.until, c->want_until);
    }
}

/* Text, CSV and JSON of a hand-made report: hostile reason codes stay harmless. */
static void test_report_render(void **state)
{
    (void)state;
    struct report_reason reasons[] = {{"=HYPERLINK(\"x\")", 2}, {"line\nbreak", 1}};
    struct report_rule rules[] = {
        {.rule = "ibm-steroid", .issued = 0},
        {.rule = "pjp-prophylaxis",
         .issued = 4,
         .accepted = 1,
         .overridden = 3,
         .reasons = reasons,
         .n_reasons = 2},
    };
    struct store_report rep = {
        .rules = rules, .n = 2, .feedback_total = 5, .feedback_unmatched = 1};
    size_t len = 0;
    char *text = store_report_render(&rep, REPORT_TEXT, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "25.0%"));
    assert_non_null(strstr(text, "line?break (1)"));
    assert_non_null(strstr(text, "Feedback entries received: 5 (1 "));
    free(text);
    char *csv = store_report_render(&rep, REPORT_CSV, &len);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "rule,issued,accepted,overridden,acceptance_rate,"
                                "top_override_reasons\r\n"));
    assert_non_null(strstr(csv, "\"ibm-steroid\",0,0,0,,\"\"\r\n"));
    assert_non_null(strstr(csv, "\"pjp-prophylaxis\",4,1,3,0.25,"
                                "\"'=HYPERLINK(\"\"x\"\")=2;line\nbreak=1\"\r\n"));
    free(csv);
    char *json = store_report_render(&rep, REPORT_JSON, &len);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"acceptance_rate\":null"));
    assert_non_null(strstr(json, "\"acceptance_rate\":0.25"));
    assert_non_null(strstr(json, "{\"code\":\"=HYPERLINK(\\\"x\\\")\",\"count\":2}"));
    free(json);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_refuses_foreign_rows, setup, teardown),
        cmocka_unit_test(test_report_range),
        cmocka_unit_test(test_report_render),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

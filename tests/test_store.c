/* test_store.c - the SQLite feedback store in a fresh temporary directory. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "store/store.h"

#include <pthread.h>
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

static const struct myocds_feedback fb_accepted = {
    .card_uuid = "card-1",
    .outcome = "accepted",
    .accepted_json = "[\"s-1\"]",
    .outcome_timestamp = "2025-01-15T14:02:11Z",
};

static const struct myocds_feedback fb_overridden = {
    .card_uuid = "card-1",
    .outcome = "overridden",
    .reason_system = "http://example.org/r",
    .reason_code = "pt-preference",
    .outcome_timestamp = "2025-01-15T14:03:40Z",
};

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

static void test_feedback_idempotent(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    const struct myocds_feedback both[] = {fb_accepted, fb_overridden};
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), 0);
    assert_int_equal(store_put_feedback(st, "svc", both, 2, "https://ehr", NULL, &err), 0);
    /* A resend of the same card uuid + outcome is the same row. */
    assert_int_equal(store_put_feedback(st, "svc", &fb_accepted, 1, NULL, NULL, &err), 0);
    assert_int_equal(store_put_feedback(st, "svc", both, 2, NULL, "t1", &err), 0);
    store_close(st);
    assert_int_equal(query_int(f, "SELECT count(*) FROM feedback"), 2);
    assert_int_equal(query_int(f, "SELECT count(*) FROM feedback WHERE outcome = 'overridden' "
                                  "AND reason_code = 'pt-preference' AND iss = 'https://ehr' "
                                  "AND tenant IS NULL AND accepted_suggestions IS NULL"),
                     1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM feedback WHERE accepted_suggestions = "
                                  "'[\"s-1\"]' AND received_at LIKE '20%Z'"),
                     1);
}

static void test_cards_issued_and_reopen(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    const struct store_card cards[] = {{"card-1", "steroid-monotherapy"},
                                       {"card-2", "pjp-prophylaxis"}};
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), 0);
    assert_int_equal(store_cards_issued(st, "svc", cards, 2, &err), 0);
    assert_int_equal(store_cards_issued(st, "svc", cards, 1, &err), 0);
    assert_int_equal(store_cards_issued(st, "svc", NULL, 0, &err), 0);
    store_close(st);

    /* Reopening keeps rows and schema; new writes still land. */
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), 0);
    assert_int_equal(store_put_feedback(st, "svc", &fb_overridden, 1, NULL, NULL, &err), 0);
    store_close(st);
    assert_int_equal(query_int(f, "SELECT count(*) FROM cards_issued"), 2);
    assert_int_equal(query_int(f, "SELECT count(*) FROM schema_version"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM feedback f JOIN cards_issued c "
                                  "ON c.card_uuid = f.card_uuid "
                                  "WHERE c.rule_id = 'steroid-monotherapy'"),
                     1);
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

static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    char path[160];
    sqlite3 *db = NULL;
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), 0);
    store_close(st);
    snprintf(path, sizeof path, "%s/%s", f->data_dir, STORE_SQLITE_FILE);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), -500);
    assert_non_null(strstr(err.msg, "newer"));
}

#define THREADS 4
#define PER_THREAD 50

struct worker {
    struct store *st;
    int id;
    int failures;
};

static void *put_many(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char uuid[48];
        struct myocds_err err = {0};
        struct myocds_feedback fb = fb_overridden;
        struct store_card card = {uuid, "pjp-prophylaxis"};
        snprintf(uuid, sizeof uuid, "card-%d-%d", w->id, i);
        fb.card_uuid = uuid;
        if (store_cards_issued(w->st, "svc", &card, 1, &err) != 0 ||
            store_put_feedback(w->st, "svc", &fb, 1, NULL, NULL, &err) != 0)
            w->failures++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    pthread_t t[THREADS];
    struct worker w[THREADS];
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), 0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.st = st, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, put_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    store_close(st);
    assert_int_equal(query_int(f, "SELECT count(*) FROM feedback"), THREADS * PER_THREAD);
    assert_int_equal(query_int(f, "SELECT count(*) FROM cards_issued"), THREADS * PER_THREAD);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feedback_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cards_issued_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

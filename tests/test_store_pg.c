/* test_store_pg.c - one suite, both feedback store backends: SQLite in a fresh temporary
 * directory, and PostgreSQL in a fresh database of the throw-away cluster that CTest
 * starts (tests/pg_cluster.sh; its URL is in the file named by MYOCDS_TEST_PG_URL_FILE). */
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
#include "store/store_pg_int.h" /* pg_jti_sweep: the sweeper's round, run here at once */

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define URL_MAX 512

struct fixture;

/* What differs between the backends: how to make an empty store and look inside it. */
struct backend {
    const char *name;
    int (*setup)(struct fixture *f);
    void (*teardown)(struct fixture *f);
    int (*open)(struct fixture *f, struct store **st, struct myocds_err *err);
    long long (*count)(struct fixture *f, const char *sql); /* first column of the first row */
    void (*exec)(struct fixture *f, const char *sql);
    const char *index_sql; /* counts the index feedback_received (schema version 2) */
};

struct fixture {
    const struct backend *be;
    char dir[64];
    char data_dir[96];
    char base[URL_MAX]; /* postgresql://user@host:port, no database */
    char db[64];
};

/* ---- SQLite ---- */

static int lite_setup(struct fixture *f)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/myocds-stpg-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->data_dir, sizeof f->data_dir, "%s/data", f->dir);
    return 0;
}

static void lite_teardown(struct fixture *f)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
}

static int lite_open(struct fixture *f, struct store **st, struct myocds_err *err)
{
    return store_sqlite_open(f->data_dir, st, err);
}

static sqlite3 *lite_db(struct fixture *f)
{
    char path[160];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/%s", f->data_dir, STORE_SQLITE_FILE);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static long long lite_count(struct fixture *f, const char *sql)
{
    sqlite3 *db = lite_db(f);
    sqlite3_stmt *q = NULL;
    long long v = -1;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void lite_exec(struct fixture *f, const char *sql)
{
    sqlite3 *db = lite_db(f);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static const struct backend sqlite_backend = {
    "sqlite",
    lite_setup,
    lite_teardown,
    lite_open,
    lite_count,
    lite_exec,
    "SELECT count(*) FROM sqlite_master WHERE name = 'feedback_received'",
};

/* ---- PostgreSQL ---- */

static PGconn *pg_conn(const struct fixture *f, const char *db)
{
    char url[URL_MAX + 64];
    snprintf(url, sizeof url, "%s/%s", f->base, db);
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to the test cluster: %s", PQerrorMessage(c));
    return c;
}

static void pg_admin(const struct fixture *f, const char *sql)
{
    PGconn *c = pg_conn(f, "postgres");
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static int pg_setup(struct fixture *f)
{
    static int serial;
    char sql[128];
    const char *file = getenv("MYOCDS_TEST_PG_URL_FILE");
    FILE *fp = file != NULL ? fopen(file, "r") : NULL;
    if (fp == NULL) {
        print_error("MYOCDS_TEST_PG_URL_FILE is not set or unreadable: run under CTest\n");
        return -1;
    }
    bool got = fgets(f->base, sizeof f->base, fp) != NULL;
    fclose(fp);
    if (!got)
        return -1;
    f->base[strcspn(f->base, "\r\n")] = '\0';
    snprintf(f->db, sizeof f->db, "t_%ld_%d", (long)getpid(), ++serial);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->db);
    pg_admin(f, sql);
    return 0;
}

static void pg_teardown(struct fixture *f)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->db);
    pg_admin(f, sql);
}

static int pg_open(struct fixture *f, struct store **st, struct myocds_err *err)
{
    char url[URL_MAX + 64];
    snprintf(url, sizeof url, "%s/%s", f->base, f->db);
    return store_pg_open(url, st, err);
}

static long long pg_count(struct fixture *f, const char *sql)
{
    PGconn *c = pg_conn(f, f->db);
    PGresult *r = PQexec(c, sql);
    long long v = -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

static void pg_exec_sql(struct fixture *f, const char *sql)
{
    PGconn *c = pg_conn(f, f->db);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static const struct backend pg_backend = {
    "postgres",
    pg_setup,
    pg_teardown,
    pg_open,
    pg_count,
    pg_exec_sql,
    "SELECT count(*) FROM pg_indexes WHERE indexname = 'feedback_received'",
};

/* ---- the suite ---- */

static int setup(void **state)
{
    const struct backend *be = *state;
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->be = be;
    if (be->setup(f) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    f->be->teardown(f);
    free(f);
    return 0;
}

static struct store *open_ok(struct fixture *f)
{
    struct store *st = NULL;
    struct myocds_err err = {0};
    if (f->be->open(f, &st, &err) != 0)
        fail_msg("%s store open: %s", f->be->name, err.msg);
    assert_non_null(st);
    return st;
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
    .reason_system = "urn:myocds:override-reason",
    .reason_code = "pt-preference",
    .outcome_timestamp = "2025-01-15T14:03:40Z",
};

static void test_migrate_empty(void **state)
{
    struct fixture *f = *state;
    store_close(open_ok(f));
    assert_int_equal(f->be->count(f, "SELECT max(version) FROM schema_version"),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM feedback"), 0);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_issued"), 0);
    store_close(open_ok(f)); /* a second open migrates nothing */
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM schema_version"), STORE_SCHEMA_VERSION);
}

/* Takes a store of the latest version back to version 3 (as a build before 4 made it). */
static void undo_v4(struct fixture *f)
{
    static const char *const sql[] = {
        "DROP INDEX IF EXISTS cards_issued_report", /* SQLite's */
        "DROP INDEX IF EXISTS cards_issued_at",     /* PostgreSQL's */
        "DROP INDEX feedback_unlinked",
        "ALTER TABLE cards_issued DROP COLUMN iss",
        "ALTER TABLE cards_issued DROP COLUMN tenant",
        "ALTER TABLE feedback DROP COLUMN card_rule",
        "ALTER TABLE feedback DROP COLUMN card_service",
        "ALTER TABLE feedback DROP COLUMN card_iss",
        "ALTER TABLE feedback DROP COLUMN card_tenant",
        "ALTER TABLE feedback DROP COLUMN card_issued_at",
        "CREATE INDEX cards_issued_rule ON cards_issued(rule_id, issued_at)",
        "DELETE FROM schema_version WHERE version = 4",
    };
    if (strcmp(f->be->name, "postgres") == 0) { /* statistics hold columns of version 4 */
        f->be->exec(f, "DROP STATISTICS cards_issued_day");
        f->be->exec(f, "DROP STATISTICS feedback_day");
        f->be->exec(f, "DROP TABLE calls_batches");
    }
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
        f->be->exec(f, sql[i]);
    assert_int_equal(f->be->count(f, "SELECT max(version) FROM schema_version"), 3);
}

static void test_migrate_from_v1(void **state)
{
    struct fixture *f = *state;
    store_close(open_ok(f));
    undo_v4(f);
    f->be->exec(f, "DROP INDEX feedback_received");
    f->be->exec(f, "DROP TABLE calls");
    f->be->exec(f, "DELETE FROM schema_version WHERE version >= 2");
    assert_int_equal(f->be->count(f, f->be->index_sql), 0);
    store_close(open_ok(f));
    assert_int_equal(f->be->count(f, "SELECT max(version) FROM schema_version"),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(f->be->count(f, f->be->index_sql), 1);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM calls"), 0);
}

/* A store of version 2 (no table calls) gets it when opened, its cards kept. */
static void test_migrate_from_v2(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    const struct store_card card = {"card-1", "pjp-prophylaxis"};
    struct store *st = open_ok(f);
    assert_int_equal(store_cards_issued(st, "svc", NULL, &card, 1, &err), 0);
    store_close(st);
    undo_v4(f);
    f->be->exec(f, "DROP TABLE calls");
    f->be->exec(f, "DELETE FROM schema_version WHERE version = 3");
    assert_int_equal(f->be->count(f, "SELECT max(version) FROM schema_version"), 2);
    st = open_ok(f);
    assert_int_equal(store_call_counted(st, "svc", 1, &err), 0);
    store_close(st);
    assert_int_equal(f->be->count(f, "SELECT max(version) FROM schema_version"),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_issued"), 1);
    assert_int_equal(f->be->count(f, "SELECT sum(calls) FROM calls"), 1);
}

/* A store of version 3 gets each card's EHR columns and each feedback entry its card's
 * facts, those of its earlier entries filled in from their cards. */
static void test_migrate_from_v3(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    const struct store_card card = {"card-1", "pjp-prophylaxis"};
    struct store *st = open_ok(f);
    assert_int_equal(store_cards_issued(st, "svc", NULL, &card, 1, &err), 0);
    store_close(st);
    undo_v4(f);
    f->be->exec(f, "INSERT INTO feedback (service_id, card_uuid, outcome, outcome_timestamp,"
                   " received_at) VALUES ('svc', 'card-1', 'accepted', '2026-01-01T00:00:00Z',"
                   " '2026-01-02T00:00:00.000Z')");
    st = open_ok(f);
    store_close(st);
    assert_int_equal(f->be->count(f, "SELECT max(version) FROM schema_version"), 4);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM feedback WHERE card_rule ="
                                     " 'pjp-prophylaxis' AND card_service = 'svc'"
                                     " AND card_issued_at IS NOT NULL"),
                     1);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_issued WHERE iss IS NULL"), 1);
}

/* Calls are summed per (service, hour) in the queue and added to the row in the store. */
static void test_calls_counted(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    char long_id[STORE_SERVICE_MAX + 1];
    memset(long_id, 's', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    struct store *st = open_ok(f);
    assert_int_equal(store_call_counted(st, "svc-a", 2, &err), 0);
    assert_int_equal(store_call_counted(st, "svc-a", 0, &err), 0); /* no card: a call too */
    assert_int_equal(store_call_counted(st, "svc-b", 1, &err), 0);
    assert_int_equal(store_call_counted(st, long_id, 1, &err), -503);
    assert_int_equal(store_call_counted(st, NULL, 1, &err), -503);
    store_flush(st);
    assert_int_equal(f->be->count(f, "SELECT sum(calls) FROM calls WHERE service_id = 'svc-a'"), 2);
    assert_int_equal(f->be->count(f, "SELECT sum(cards) FROM calls WHERE service_id = 'svc-a'"), 2);
    assert_int_equal(f->be->count(f, "SELECT sum(calls) FROM calls WHERE service_id = 'svc-b'"), 1);
    /* A later batch adds to the same hour's row (an hour may just have begun: two rows). */
    assert_int_equal(store_call_counted(st, "svc-a", 3, &err), 0);
    store_close(st); /* what is queued is written on close */
    assert_int_equal(f->be->count(f, "SELECT sum(calls) FROM calls WHERE service_id = 'svc-a'"), 3);
    assert_int_equal(f->be->count(f, "SELECT sum(cards) FROM calls WHERE service_id = 'svc-a'"), 5);
    assert_true(f->be->count(f, "SELECT count(*) FROM calls WHERE service_id = 'svc-a'") <= 2);
    /* Each row's hour is an hour's start, UTC. */
    const char *hour_sql =
        strcmp(f->be->name, "sqlite") == 0
            ? "SELECT count(*) FROM calls WHERE hour NOT GLOB"
              " '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:00:00.000Z'"
            : "SELECT count(*) FROM calls WHERE hour <> date_trunc('hour', hour)";
    assert_int_equal(f->be->count(f, hour_sql), 0);
}

/* A batch run again after its COMMIT's answer was lost (pg_run_tx's retry) carries the
 * same id: its cards are kept once, as ever, and now its calls too. */
static void test_pg_batch_once(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    struct store_issue card = {.service_id = "svc",
                               .card_uuid = "card-b1",
                               .rule_id = "pjp-prophylaxis",
                               .issued_at = "2026-12-04T10:15:00.000Z"};
    const struct store_calls calls = {"svc", "2026-12-04T10:00:00.000Z", 7, 1};
    struct store *st = open_ok(f);
    assert_int_equal(pg_put_batch(st, &card, 1, &calls, 1, "batch-1", &err), 0);
    assert_int_equal(pg_put_batch(st, &card, 1, &calls, 1, "batch-1", &err), 0); /* again */
    assert_int_equal(f->be->count(f, "SELECT sum(calls) FROM calls"), 7);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_issued"), 1);
    assert_int_equal(pg_put_batch(st, NULL, 0, &calls, 1, "batch-2", &err), 0); /* a new one */
    assert_int_equal(f->be->count(f, "SELECT sum(calls) FROM calls"), 14);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM calls_batches"), 2);
    store_close(st);
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    store_close(open_ok(f));
    f->be->exec(f, "INSERT INTO schema_version VALUES (99)");
    assert_int_equal(f->be->open(f, &st, &err), -500);
    assert_null(st);
    assert_non_null(strstr(err.msg, "newer"));
}

static void test_feedback_idempotent(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    const struct myocds_feedback both[] = {fb_accepted, fb_overridden};
    struct store *st = open_ok(f);
    assert_int_equal(store_put_feedback(st, "svc", both, 2, "https://ehr", NULL, &err), 0);
    /* A resend of the same card uuid + outcome is the same row. */
    assert_int_equal(store_put_feedback(st, "svc", &fb_accepted, 1, NULL, NULL, &err), 0);
    assert_int_equal(store_put_feedback(st, "svc", both, 2, NULL, "t1", &err), 0);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM feedback"), 2); /* committed */
    store_close(st);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM feedback WHERE outcome = 'overridden'"
                                     " AND reason_code = 'pt-preference' AND iss = 'https://ehr'"
                                     " AND tenant IS NULL AND accepted_suggestions IS NULL"),
                     1);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM feedback WHERE accepted_suggestions"
                                     " = '[\"s-1\"]' AND service_id = 'svc'"),
                     1);
}

static void test_cards_issued_and_reopen(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    const struct store_card cards[] = {{"card-1", "steroid-monotherapy"},
                                       {"card-2", "pjp-prophylaxis"}};
    struct store *st = open_ok(f);
    assert_int_equal(store_cards_issued(st, "svc", NULL, cards, 2, &err), 0);
    assert_int_equal(store_cards_issued(st, "svc", NULL, cards, 1, &err), 0); /* known uuid */
    assert_int_equal(store_cards_issued(st, "svc", NULL, NULL, 0, &err), 0);
    store_flush(st);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_issued"), 2);
    store_close(st);

    /* Reopening keeps rows and schema; new writes still land. */
    st = open_ok(f);
    assert_int_equal(store_put_feedback(st, "svc", &fb_overridden, 1, NULL, NULL, &err), 0);
    store_close(st);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_issued"), 2);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM feedback f JOIN cards_issued c"
                                     " ON c.card_uuid = f.card_uuid"
                                     " WHERE c.rule_id = 'steroid-monotherapy'"),
                     1);
}

/* The memory of cards shown: PostgreSQL shares it (a second store on the same database is
 * a second replica), SQLite keeps none. */
static void test_cards_shown(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    unsigned char key[32], other[32], s1[32], s2[32];
    bool seen = true;
    memset(key, 0xa5, sizeof key);
    memset(other, 0x5a, sizeof other);
    struct store *a = open_ok(f);
    if (strcmp(f->be->name, "sqlite") == 0) {
        assert_false(store_shares_cards_shown(a));
        assert_int_equal(store_shown_secret(a, s1, sizeof s1), -1);
        assert_true(store_card_shown(a, key, sizeof key, 3600, &seen, &err) < 0);
        assert_false(seen);
        store_close(a);
        return;
    }
    struct store *b = open_ok(f);
    assert_true(store_shares_cards_shown(a));
    assert_int_equal(store_shown_secret(a, s1, sizeof s1), 0);
    assert_int_equal(store_shown_secret(b, s2, sizeof s2), 0);
    assert_memory_equal(s1, s2, sizeof s1); /* one secret for every replica */
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM repeat_secret"), 1);
    assert_int_equal(store_card_shown(a, key, sizeof key, 3600, &seen, &err), 0);
    assert_false(seen); /* first sight: shown, and recorded */
    assert_int_equal(store_card_shown(b, key, sizeof key, 3600, &seen, &err), 0);
    assert_true(seen); /* the other replica sees it */
    assert_int_equal(store_card_shown(b, other, sizeof other, 3600, &seen, &err), 0);
    assert_false(seen);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_shown WHERE length(key) = 32"), 2);
    /* Once the window is over it shows again, and is stamped anew. */
    f->be->exec(f, "UPDATE cards_shown SET shown_at = now() - interval '2 hours'");
    assert_int_equal(store_card_shown(a, key, sizeof key, 3600, &seen, &err), 0);
    assert_false(seen);
    assert_int_equal(store_card_shown(b, key, sizeof key, 3600, &seen, &err), 0);
    assert_true(seen);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_shown"
                                     " WHERE shown_at > now() - interval '1 minute'"),
                     1);
    /* Without its table it fails, and says so; the caller shows the card. */
    f->be->exec(f, "DROP TABLE cards_shown");
    assert_true(store_card_shown(a, key, sizeof key, 3600, &seen, &err) < 0);
    assert_false(seen);
    store_close(b);
    store_close(a);
    store_close(open_ok(f)); /* reopening makes the table again */
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_shown"), 0);
}

static void put_one(struct store *st, const char *uuid, const char *outcome, const char *reason)
{
    struct myocds_err err = {0};
    struct myocds_feedback fb = {.card_uuid = uuid,
                                 .outcome = outcome,
                                 .reason_code = reason,
                                 .outcome_timestamp = "2025-01-15T14:03:40Z"};
    assert_int_equal(store_put_feedback(st, "svc", &fb, 1, NULL, NULL, &err), 0);
}

/* 3 steroid-monotherapy cards (1 accepted, 2 overridden for pt-preference), 2 pjp cards
 * (1 overridden, other-agent), and an accepted card the store never issued. */
static void fill(struct store *st)
{
    struct myocds_err err = {0};
    const struct store_card cards[] = {{"c1", "steroid-monotherapy"},
                                       {"c2", "steroid-monotherapy"},
                                       {"c3", "steroid-monotherapy"},
                                       {"p1", "pjp-prophylaxis"},
                                       {"p2", "pjp-prophylaxis"}};
    assert_int_equal(store_cards_issued(st, "svc", NULL, cards, 5, &err), 0);
    put_one(st, "c1", "accepted", NULL);
    put_one(st, "c2", "overridden", "pt-preference");
    put_one(st, "c3", "overridden", "pt-preference");
    put_one(st, "p1", "overridden", "other-agent");
    put_one(st, "x1", "accepted", NULL);
    assert_int_equal(store_call_counted(st, "svc", 3, &err), 0);
    assert_int_equal(store_call_counted(st, "svc", 2, &err), 0);
    assert_int_equal(store_call_counted(st, "svc", 0, &err), 0);
    assert_int_equal(store_call_counted(st, "other", 0, &err), 0);
}

static void test_report(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    struct store_range all;
    struct store_report rep;
    struct store *st = open_ok(f);
    fill(st);
    assert_int_equal(store_report_range(NULL, NULL, &all, &err), 0);
    assert_int_equal(store_report(st, &all, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.n, 2);
    assert_string_equal(rep.rules[0].rule, "pjp-prophylaxis");
    assert_int_equal(rep.rules[0].issued, 2);
    assert_int_equal(rep.rules[0].accepted, 0);
    assert_int_equal(rep.rules[0].overridden, 1);
    assert_string_equal(rep.rules[1].rule, "steroid-monotherapy");
    assert_int_equal(rep.rules[1].issued, 3);
    assert_int_equal(rep.rules[1].accepted, 1);
    assert_int_equal(rep.rules[1].overridden, 2);
    assert_int_equal(rep.rules[1].n_reasons, 1);
    assert_string_equal(rep.rules[1].reasons[0].code, "pt-preference");
    assert_int_equal(rep.rules[1].reasons[0].count, 2);
    assert_int_equal(rep.feedback_total, 5);
    assert_int_equal(rep.feedback_unmatched, 1);
    /* The burden: svc 3 calls with 5 cards, other 1 call without. */
    assert_int_equal(rep.n_services, 2);
    assert_string_equal(rep.services[0].service, "other");
    assert_int_equal(rep.services[0].calls, 1);
    assert_int_equal(rep.services[0].cards, 0);
    assert_true(rep.services[0].has_per_100);
    assert_string_equal(rep.services[1].service, "svc");
    assert_int_equal(rep.services[1].calls, 3);
    assert_int_equal(rep.services[1].cards, 5);
    assert_true(rep.services[1].cards_per_100_calls > 166.66 &&
                rep.services[1].cards_per_100_calls < 166.67);
    assert_int_equal(rep.calls_total, 4);
    assert_true(rep.rules[0].has_per_100);
    assert_true(rep.rules[0].cards_per_100_calls == 50.0); /* 2 cards, 4 calls */
    assert_true(rep.rules[1].cards_per_100_calls == 75.0);
    size_t len = 0;
    char *json = store_report_render(&rep, REPORT_JSON, &len);
    assert_non_null(strstr(json, "\"acceptance_rate\":0.3333"));
    assert_non_null(strstr(json, "\"feedback_total\":5"));
    assert_non_null(strstr(json, "{\"service\":\"svc\",\"calls\":3,\"cards\":5,"
                                 "\"cards_per_100_calls\":166.6667,\"issued\":5,"));
    free(json);
    store_report_free(&rep);

    /* Cards issued in another range count nowhere; feedback received in it neither. */
    struct store_range later;
    assert_int_equal(store_report_range("2999-01-01", NULL, &later, &err), 0);
    assert_int_equal(store_report(st, &later, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.n, 0);
    assert_int_equal(rep.feedback_total, 0);
    assert_int_equal(rep.n_services, 0);
    assert_int_equal(rep.calls_total, 0);
    store_report_free(&rep);
    store_close(st);
}

/* Per EHR, per service and per week; feedback that carries its card's facts (the card was
 * written first) and feedback that came before its card (joined when the report reads). */
static void test_report_ehrs(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    struct store_range all;
    struct store_report rep;
    const struct store_who a = {"https://a.example", "t1"};
    const struct store_who b = {"https://b.example", NULL};
    const struct store_card on_a[] = {{"a1", "pjp-prophylaxis"}, {"a2", "pjp-prophylaxis"}};
    const struct store_card on_b = {"b1", "pjp-prophylaxis"};
    const struct store_card late = {"a3", "steroid-monotherapy"};
    struct store *st = open_ok(f);
    assert_int_equal(store_cards_issued(st, "sign", &a, on_a, 2, &err), 0);
    assert_int_equal(store_cards_issued(st, "select", &b, &on_b, 1, &err), 0);
    store_flush(st);
    put_one(st, "a1", "accepted", NULL);
    put_one(st, "b1", "overridden", "pt-preference");
    put_one(st, "a3", "overridden", "other-agent"); /* before its card */
    assert_int_equal(store_cards_issued(st, "sign", &a, &late, 1, &err), 0);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM feedback WHERE card_rule IS NOT NULL"),
                     2);
    assert_int_equal(store_report_range(NULL, NULL, &all, &err), 0);
    assert_int_equal(store_report(st, &all, NULL, NULL, &rep, &err), 0);
    assert_int_equal(rep.n_ehrs, 2);
    assert_string_equal(rep.ehrs[0].iss, "https://a.example");
    assert_string_equal(rep.ehrs[0].tenant, "t1");
    assert_int_equal(rep.ehrs[0].out.issued, 3);
    assert_int_equal(rep.ehrs[0].out.accepted, 1);
    assert_int_equal(rep.ehrs[0].out.overridden, 1);
    assert_int_equal(rep.ehrs[0].out.no_feedback, 1);
    assert_true(rep.ehrs[0].out.has_ci);
    assert_string_equal(rep.ehrs[1].iss, "https://b.example");
    assert_null(rep.ehrs[1].tenant);
    assert_int_equal(rep.ehrs[1].out.issued, 1);
    assert_int_equal(rep.ehrs[1].out.overridden, 1);
    assert_int_equal(rep.n_services, 2);
    assert_string_equal(rep.services[0].service, "select");
    assert_int_equal(rep.services[0].out.issued, 1);
    assert_int_equal(rep.services[0].out.overridden, 1);
    assert_string_equal(rep.services[1].service, "sign");
    assert_int_equal(rep.services[1].out.issued, 3);
    assert_int_equal(rep.services[1].out.accepted, 1);
    assert_int_equal(rep.services[1].out.overridden, 1);
    assert_int_equal(rep.n, 2);
    assert_string_equal(rep.rules[1].rule, "steroid-monotherapy");
    assert_int_equal(rep.rules[1].overridden, 1);
    assert_string_equal(rep.rules[1].reasons[0].code, "other-agent");
    assert_int_equal(rep.rules[0].n_weeks, 1); /* all of it today */
    assert_int_equal(rep.rules[0].weeks[0].issued, 3);
    assert_int_equal(rep.rules[0].weeks[0].accepted, 1);
    assert_int_equal(rep.rules[0].weeks[0].overridden, 1);
    assert_int_equal(rep.feedback_total, 3);
    assert_int_equal(rep.feedback_unmatched, 0);
    store_report_free(&rep);
    store_close(st);
}

#define THREADS 4
#define PER_THREAD 40

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
        if (store_cards_issued(w->st, "svc", NULL, &card, 1, &err) != 0 ||
            store_put_feedback(w->st, "svc", &fb, 1, NULL, NULL, &err) != 0)
            w->failures++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct fixture *f = *state;
    pthread_t t[THREADS];
    struct worker w[THREADS];
    struct store *st = open_ok(f);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.st = st, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, put_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    store_close(st);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM feedback"), THREADS * PER_THREAD);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_issued"), THREADS * PER_THREAD);
}

/* PostgreSQL only: the server drops every session; the next write reconnects. */
static void test_jti_claim(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    bool seen = true;
    long long later = (long long)time(NULL) + 300;
    struct store *a = open_ok(f);
    if (strcmp(f->be->name, "sqlite") == 0) {
        assert_false(store_shares_jtis(a)); /* each process's cache is the only one */
        assert_true(store_jti_claim(a, "iss", "j1", later, NULL, 10, &seen, &err) < 0);
        assert_false(seen);
        store_close(a);
        return;
    }
    struct store *b = open_ok(f);
    assert_true(store_shares_jtis(a));
    assert_int_equal(store_jti_claim(a, "https://ehr", "j1", later, NULL, 10, &seen, &err), 0);
    assert_false(seen); /* first use */
    assert_int_equal(store_jti_claim(b, "https://ehr", "j1", later, NULL, 10, &seen, &err), 0);
    assert_true(seen); /* the other replica refuses the replay */
    assert_int_equal(store_jti_claim(b, "https://other", "j1", later, "", 10, &seen, &err), 0);
    assert_false(seen); /* another issuer's jti of the same text */
    /* The jti is kept as its SHA-256, never as it came. */
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM jwt_jtis WHERE length(jti) = 32"), 2);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM jwt_jtis WHERE jti = 'j1'::bytea"), 0);
    /* The proxy's retry of one request on another replica: the same key, within the
     * window, passes; another key, or none, is a replay. */
    assert_int_equal(store_jti_claim(a, "https://ehr", "j2", later, "req-1", 10, &seen, &err), 0);
    assert_false(seen);
    assert_int_equal(store_jti_claim(b, "https://ehr", "j2", later, "req-1", 10, &seen, &err), 0);
    assert_false(seen);
    assert_int_equal(store_jti_claim(b, "https://ehr", "j2", later, "req-2", 10, &seen, &err), 0);
    assert_true(seen);
    assert_int_equal(store_jti_claim(b, "https://ehr", "j2", later, NULL, 10, &seen, &err), 0);
    assert_true(seen);
    assert_int_equal(store_jti_claim(b, "https://ehr", "j1", later, "", 10, &seen, &err), 0);
    assert_true(seen); /* no key on either use: never a retry */
    f->be->exec(f, "UPDATE jwt_jtis SET used_at = now() - interval '1 minute'");
    assert_int_equal(store_jti_claim(b, "https://ehr", "j2", later, "req-1", 10, &seen, &err), 0);
    assert_true(seen); /* the window is over */
    /* An expired row not swept yet is a fresh pair; the sweep deletes expired rows. */
    f->be->exec(f, "UPDATE jwt_jtis SET expires_at = now() - interval '1 second'"
                   " WHERE iss = 'https://ehr'");
    assert_int_equal(store_jti_claim(b, "https://ehr", "j1", later, NULL, 10, &seen, &err), 0);
    assert_false(seen);
    f->be->exec(f, "UPDATE jwt_jtis SET expires_at = now() - interval '1 second'");
    long deleted = 0;
    assert_int_equal(pg_jti_sweep((struct pg_store *)a, &deleted, &err), 0);
    assert_int_equal(deleted, 3);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM jwt_jtis"), 0);
    /* Without its table it fails, and says so: the caller refuses the token. */
    f->be->exec(f, "DROP TABLE jwt_jtis");
    assert_true(store_jti_claim(a, "https://ehr", "j4", later, NULL, 10, &seen, &err) < 0);
    store_close(b);
    store_close(a);
    store_close(open_ok(f)); /* reopening makes the table again */
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM jwt_jtis"), 0);
}

static void test_pg_reconnect(void **state)
{
    struct fixture *f = *state;
    struct myocds_err err = {0};
    char sql[256];
    struct store *st = open_ok(f);
    put_one(st, "r1", "accepted", NULL);
    snprintf(sql, sizeof sql,
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'", f->db);
    pg_admin(f, sql);
    put_one(st, "r2", "accepted", NULL);
    const struct store_card card = {"r2", "ibm-steroid"};
    assert_int_equal(store_cards_issued(st, "svc", NULL, &card, 1, &err), 0);
    store_close(st);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM feedback"), 2);
    assert_int_equal(f->be->count(f, "SELECT count(*) FROM cards_issued"), 1);
}

/* The test on each backend, named sqlite/test_x and postgres/test_x. */
#define BOTH(fn)                                                                                   \
    {"sqlite/" #fn, fn, setup, teardown, (void *)&sqlite_backend},                                 \
    {                                                                                              \
        "postgres/" #fn, fn, setup, teardown, (void *)&pg_backend                                  \
    }

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_migrate_empty),
        BOTH(test_migrate_from_v1),
        BOTH(test_migrate_from_v2),
        BOTH(test_migrate_from_v3),
        BOTH(test_report_ehrs),
        BOTH(test_calls_counted),
        BOTH(test_newer_schema_refused),
        BOTH(test_feedback_idempotent),
        BOTH(test_cards_issued_and_reopen),
        BOTH(test_cards_shown),
        BOTH(test_jti_claim),
        BOTH(test_report),
        BOTH(test_threads),
        {"postgres/test_pg_reconnect", test_pg_reconnect, setup, teardown, (void *)&pg_backend},
        {"postgres/test_pg_batch_once", test_pg_batch_once, setup, teardown, (void *)&pg_backend},
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("store_backends", tests, NULL, NULL);
}

/* store_sqlite.c - the feedback store in one SQLite file (WAL, synchronous=FULL).
 *
 * One connection guarded by a mutex: every feedback write is one IMMEDIATE transaction
 * whose COMMIT has reached the disk (fsync of the WAL) before the call returns. Cards
 * issued arrive here in batches from the queue of store_queue.c, one transaction per batch,
 * committed with synchronous=NORMAL: a batch survives the process being killed, and only
 * a power loss may take the last ones. They are counts; not waiting for the disk there
 * keeps the fsyncs (and the file system's journal, which the access log shares) off the
 * requests' way. The calls counted per service and hour ride in the same transaction.
 */
#include "store/store_backend.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SQLITE_BUSY_MS 5000
#define STORE_PATH_MAX 4096
#define STORE_DIR_MODE 0700
#define STORE_FILE_MODE 0600
#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

struct sqlite_store {
    struct store base; /* first: a struct store * is a struct sqlite_store * */
    sqlite3 *db;
    pthread_mutex_t lock;
    sqlite3_stmt *ins_feedback;
    sqlite3_stmt *ins_card;
    sqlite3_stmt *add_calls;
};

/* migrations[k] takes the schema from version k to k + 1. */
static const char *const migrations[] = {
    "CREATE TABLE cards_issued ("
    " id INTEGER PRIMARY KEY, service_id TEXT NOT NULL, card_uuid TEXT NOT NULL,"
    " rule_id TEXT NOT NULL, issued_at TEXT NOT NULL);"
    "CREATE UNIQUE INDEX cards_issued_uuid ON cards_issued(card_uuid);"
    "CREATE INDEX cards_issued_rule ON cards_issued(rule_id, issued_at);"
    "CREATE TABLE feedback ("
    " id INTEGER PRIMARY KEY, service_id TEXT NOT NULL, card_uuid TEXT NOT NULL,"
    " outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),"
    " accepted_suggestions TEXT, reason_system TEXT, reason_code TEXT,"
    " outcome_timestamp TEXT NOT NULL, iss TEXT, tenant TEXT, received_at TEXT NOT NULL);"
    "CREATE UNIQUE INDEX feedback_card_outcome ON feedback(card_uuid, outcome);",
    /* 1 -> 2: the report selects feedback by the time it was received. */
    "CREATE INDEX feedback_received ON feedback(received_at);",
    /* 2 -> 3: the calls of each service per hour, for the alert burden (no patient data). */
    "CREATE TABLE calls ("
    " service_id TEXT NOT NULL, hour TEXT NOT NULL, calls INTEGER NOT NULL,"
    " cards INTEGER NOT NULL, PRIMARY KEY (service_id, hour));",
    /* 3 -> 4: the EHR of each card (for the report per EHR), and on each feedback entry the
     * facts of its card, copied when it is stored, so the report reads feedback without a
     * join (entries that came before their card, or before this version, are joined at
     * report time: index feedback_unlinked). cards_issued_report lets the report group the
     * cards by rule, service, EHR and day in one scan of an index. */
    "ALTER TABLE cards_issued ADD COLUMN iss TEXT;"
    "ALTER TABLE cards_issued ADD COLUMN tenant TEXT;"
    "ALTER TABLE feedback ADD COLUMN card_rule TEXT;"
    "ALTER TABLE feedback ADD COLUMN card_service TEXT;"
    "ALTER TABLE feedback ADD COLUMN card_iss TEXT;"
    "ALTER TABLE feedback ADD COLUMN card_tenant TEXT;"
    "ALTER TABLE feedback ADD COLUMN card_issued_at TEXT;"
    "UPDATE feedback SET card_rule = c.rule_id, card_service = c.service_id,"
    " card_issued_at = c.issued_at FROM cards_issued c WHERE c.card_uuid = feedback.card_uuid;"
    "DROP INDEX cards_issued_rule;"
    "CREATE INDEX cards_issued_report ON cards_issued"
    "(rule_id, service_id, iss, tenant, substr(issued_at, 1, 10), issued_at);"
    "CREATE INDEX feedback_unlinked ON feedback(card_uuid) WHERE card_rule IS NULL;",
};

/* The card's facts come along when the card is already stored (store_pg.c's too). */
static const char sql_ins_feedback[] =
    "INSERT OR IGNORE INTO feedback (service_id, card_uuid, outcome, accepted_suggestions,"
    " reason_system, reason_code, outcome_timestamp, iss, tenant, received_at,"
    " card_rule, card_service, card_iss, card_tenant, card_issued_at)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, " NOW_SQL ","
    " c.rule_id, c.service_id, c.iss, c.tenant, c.issued_at"
    " FROM (SELECT 1) LEFT JOIN cards_issued c ON c.card_uuid = ?2";

static const char sql_ins_card[] =
    "INSERT OR IGNORE INTO cards_issued (service_id, card_uuid, rule_id, issued_at, iss, tenant)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static const char sql_add_calls[] =
    "INSERT INTO calls (service_id, hour, calls, cards) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (service_id, hour) DO UPDATE SET calls = calls + excluded.calls,"
    " cards = cards + excluded.cards";

/* Logs the SQLite error once and answers the client with a message free of details. */
static int db_fail(sqlite3 *db, const char *what, struct myocds_err *err)
{
    log_error("store: %s: %s", what, db != NULL ? sqlite3_errmsg(db) : "no database");
    return myocds_err_set(err, 500, "feedback store failure");
}

/* mkdir -p with STORE_DIR_MODE for the directories it creates. */
static int make_dirs(const char *dir, struct myocds_err *err)
{
    char path[STORE_PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return myocds_err_set(err, 500, "data_dir path too long");
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, STORE_DIR_MODE) != 0 && errno != EEXIST) {
            log_warn("store: mkdir %s", path);
            return myocds_err_set(err, 500, "cannot create data_dir");
        }
        *p = saved;
        if (saved == '\0')
            return 0;
    }
}

static int db_exec(sqlite3 *db, const char *sql, struct myocds_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    log_error("store: %s", msg != NULL ? msg : "exec failed");
    sqlite3_free(msg);
    return myocds_err_set(err, 500, "feedback store failure");
}

static int schema_version(sqlite3 *db, int *version, struct myocds_err *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_version", -1, &q,
                           NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        return db_fail(db, "read schema_version", err);
    }
    *version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return 0;
}

static int migrate(sqlite3 *db, struct myocds_err *err)
{
    const int latest = (int)(sizeof migrations / sizeof migrations[0]);
    int version = 0;
    int rc =
        db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", err);
    if (rc != 0 || (rc = db_exec(db, "BEGIN IMMEDIATE", err)) != 0)
        return rc;
    if ((rc = schema_version(db, &version, err)) != 0)
        goto out;
    if (version > latest) {
        log_error("store: schema version %d is newer than this build (%d)", version, latest);
        rc = myocds_err_set(err, 500, "feedback store schema is newer than this build");
        goto out;
    }
    for (int k = version; k < latest && rc == 0; k++) {
        char bump[64];
        snprintf(bump, sizeof bump, "INSERT INTO schema_version VALUES (%d)", k + 1);
        rc = db_exec(db, migrations[k], err);
        if (rc == 0)
            rc = db_exec(db, bump, err);
    }
out:
    if (rc == 0)
        return db_exec(db, "COMMIT", err);
    db_exec(db, "ROLLBACK", NULL);
    return rc;
}

/* Creates the file with STORE_FILE_MODE first: SQLite gives its -wal/-shm the same mode. */
static int open_db(const char *data_dir, sqlite3 **db, struct myocds_err *err)
{
    char path[STORE_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", data_dir, STORE_SQLITE_FILE) >= (int)sizeof path)
        return myocds_err_set(err, 500, "data_dir path too long");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, STORE_FILE_MODE);
    if (fd < 0) {
        log_warn("store: open %s", path);
        return myocds_err_set(err, 500, "cannot open the feedback store");
    }
    close(fd);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK)
        return db_fail(*db, "open", err);
    sqlite3_busy_timeout(*db, SQLITE_BUSY_MS);
    sqlite3_stmt *q = NULL;
    int wal = sqlite3_prepare_v2(*db, "PRAGMA journal_mode=WAL", -1, &q, NULL) == SQLITE_OK &&
              sqlite3_step(q) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(q, 0), "wal") == 0;
    sqlite3_finalize(q);
    if (!wal)
        return db_fail(*db, "journal_mode=WAL", err);
    return db_exec(*db, "PRAGMA synchronous=FULL", err);
}

static void sqlite_close(struct store *base)
{
    struct sqlite_store *st = (struct sqlite_store *)base;
    sqlite3_finalize(st->ins_feedback);
    sqlite3_finalize(st->ins_card);
    sqlite3_finalize(st->add_calls);
    sqlite3_close(st->db);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static void bind_text(sqlite3_stmt *q, int col, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(q, col, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, col);
}

/* Runs one prepared insert to completion and resets it for the next use. */
static int step_insert(struct sqlite_store *st, sqlite3_stmt *q, struct myocds_err *err)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return rc == SQLITE_DONE ? 0 : db_fail(st->db, "insert", err);
}

/* Ends the transaction opened under st->lock: COMMIT when rc is 0, else ROLLBACK. */
static int finish(struct sqlite_store *st, int rc, struct myocds_err *err)
{
    if (rc == 0)
        rc = db_exec(st->db, "COMMIT", err);
    if (rc != 0)
        db_exec(st->db, "ROLLBACK", NULL);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static int sqlite_put_feedback(struct store *base, const char *service_id,
                               const struct myocds_feedback *items, size_t n, const char *iss,
                               const char *tenant, struct myocds_err *err)
{
    struct sqlite_store *st = (struct sqlite_store *)base;
    pthread_mutex_lock(&st->lock);
    /* FULL: the COMMIT waits for the WAL's fsync (a card batch may have left NORMAL). */
    int rc = db_exec(st->db, "PRAGMA synchronous=FULL", err);
    if (rc == 0)
        rc = db_exec(st->db, "BEGIN IMMEDIATE", err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct myocds_feedback *f = &items[i];
        sqlite3_stmt *q = st->ins_feedback;
        bind_text(q, 1, service_id);
        bind_text(q, 2, f->card_uuid);
        bind_text(q, 3, f->outcome);
        bind_text(q, 4, f->accepted_json);
        bind_text(q, 5, f->reason_system);
        bind_text(q, 6, f->reason_code);
        bind_text(q, 7, f->outcome_timestamp);
        bind_text(q, 8, iss);
        bind_text(q, 9, tenant);
        rc = step_insert(st, q, err);
    }
    return finish(st, rc, err);
}

static int sqlite_put_issues(struct store *base, const struct store_issue *rows, size_t n,
                             const struct store_calls *calls, size_t n_calls,
                             struct myocds_err *err)
{
    struct sqlite_store *st = (struct sqlite_store *)base;
    if (n == 0 && n_calls == 0)
        return 0;
    pthread_mutex_lock(&st->lock);
    int rc = db_exec(st->db, "PRAGMA synchronous=NORMAL", err);
    if (rc == 0)
        rc = db_exec(st->db, "BEGIN IMMEDIATE", err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        bind_text(st->ins_card, 1, rows[i].service_id);
        bind_text(st->ins_card, 2, rows[i].card_uuid);
        bind_text(st->ins_card, 3, rows[i].rule_id);
        bind_text(st->ins_card, 4, rows[i].issued_at);
        bind_text(st->ins_card, 5, rows[i].iss[0] != '\0' ? rows[i].iss : NULL);
        bind_text(st->ins_card, 6, rows[i].tenant[0] != '\0' ? rows[i].tenant : NULL);
        rc = step_insert(st, st->ins_card, err);
    }
    for (size_t i = 0; i < n_calls && rc == 0; i++) {
        bind_text(st->add_calls, 1, calls[i].service_id);
        bind_text(st->add_calls, 2, calls[i].hour);
        sqlite3_bind_int64(st->add_calls, 3, calls[i].calls);
        sqlite3_bind_int64(st->add_calls, 4, calls[i].cards);
        rc = step_insert(st, st->add_calls, err);
    }
    return finish(st, rc, err);
}

static int sqlite_query(struct store *base, const char *sql, const char *p1, const char *p2,
                        store_row_fn fn, void *ctx, struct myocds_err *err)
{
    struct sqlite_store *st = (struct sqlite_store *)base;
    sqlite3_stmt *q = NULL;
    int rc = 0;
    int step = SQLITE_ROW;
    pthread_mutex_lock(&st->lock);
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(st->db, "prepare report", err);
        goto out;
    }
    bind_text(q, 1, p1);
    bind_text(q, 2, p2);
    int n_cols = sqlite3_column_count(q);
    if (n_cols > STORE_ROW_COLS) {
        rc = db_fail(st->db, "report columns", err);
        goto out;
    }
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *col[STORE_ROW_COLS] = {NULL};
        for (int k = 0; k < n_cols; k++)
            col[k] = (const char *)sqlite3_column_text(q, k);
        rc = fn(ctx, col);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(st->db, "report", err);
out:
    sqlite3_finalize(q);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static const struct store_ops sqlite_ops = {
    .dialect = STORE_DIALECT_SQLITE,
    .put_feedback = sqlite_put_feedback,
    .put_issues = sqlite_put_issues,
    .query = sqlite_query,
    .close = sqlite_close,
};

int store_sqlite_open(const char *data_dir, struct store **out, struct myocds_err *err)
{
    *out = NULL;
    struct sqlite_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return myocds_err_set(err, 500, "out of memory");
    st->base.ops = &sqlite_ops; /* for sqlite_close on failure; store_base_init sets it too */
    pthread_mutex_init(&st->lock, NULL);
    int rc = make_dirs(data_dir, err);
    if (rc == 0)
        rc = open_db(data_dir, &st->db, err);
    if (rc == 0)
        rc = migrate(st->db, err);
    if (rc == 0 &&
        (sqlite3_prepare_v2(st->db, sql_ins_feedback, -1, &st->ins_feedback, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(st->db, sql_ins_card, -1, &st->ins_card, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(st->db, sql_add_calls, -1, &st->add_calls, NULL) != SQLITE_OK))
        rc = db_fail(st->db, "prepare", err);
    if (rc == 0)
        rc = store_base_init(&st->base, &sqlite_ops, err);
    if (rc != 0) {
        sqlite_close(&st->base);
        return rc;
    }
    *out = &st->base;
    return 0;
}

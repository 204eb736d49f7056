/* store_pg.c - the feedback store on PostgreSQL (libpq), for several replicas.
 *
 * A small pool of connections (opened on first need, reopened when the server dropped
 * them); one thread uses a connection at a time. Every write is one transaction with
 * synchronous_commit on, so COMMIT has reached the server's disk before the call
 * returns. Writes are idempotent (ON CONFLICT DO NOTHING), so a transaction cut by a lost
 * connection is simply run again on a fresh one (the call counts' upsert excepted: see
 * sql_add_calls). The schema is created or migrated at open under an advisory lock, so
 * replicas starting together do not race. The URL may hold a password: it is never
 * logged.
 */
#include "store/store_pg_int.h"
#include "util/log.h"
#include "util/rand_uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_CONNECT_TIMEOUT_S "5"
#define PG_APP_NAME "myocds"
#define PG_MIGRATION_LOCK 727360001 /* pg_advisory_xact_lock key of the schema migration */
#define PG_CARD_CHUNK 100           /* rows of one multi-row INSERT of cards issued */
#define PG_CARD_COLS 6
#define PG_SQL_MAX 8192
/* A write cut by a lost connection runs again, on another: after a server restart every
 * pooled connection is dead, each one found so is closed, and the last try opens a fresh
 * one. A server that cannot be reached ends the tries at the first failed connect. */
#define PG_ATTEMPTS (PG_POOL_SIZE + 1)
#define PG_COUNT_MAX 24 /* a long long as text */

static const char session_sql[] = "SET synchronous_commit = on; SET statement_timeout = '10s';"
                                  " SET client_min_messages = warning";

/* migrations[k] takes the schema from version k to k + 1 (as in store_sqlite.c). */
static const char *const migrations[] = {
    "CREATE TABLE cards_issued ("
    " id bigserial PRIMARY KEY, service_id text NOT NULL, card_uuid text NOT NULL,"
    " rule_id text NOT NULL, issued_at timestamptz NOT NULL);"
    "CREATE UNIQUE INDEX cards_issued_uuid ON cards_issued(card_uuid);"
    "CREATE INDEX cards_issued_rule ON cards_issued(rule_id, issued_at);"
    "CREATE TABLE feedback ("
    " id bigserial PRIMARY KEY, service_id text NOT NULL, card_uuid text NOT NULL,"
    " outcome text NOT NULL CHECK (outcome IN ('accepted', 'overridden')),"
    " accepted_suggestions text, reason_system text, reason_code text,"
    " outcome_timestamp text NOT NULL, iss text, tenant text,"
    " received_at timestamptz NOT NULL DEFAULT now());"
    "CREATE UNIQUE INDEX feedback_card_outcome ON feedback(card_uuid, outcome);",
    "CREATE INDEX feedback_received ON feedback(received_at);",
    "CREATE TABLE calls ("
    " service_id text NOT NULL, hour timestamptz NOT NULL, calls bigint NOT NULL,"
    " cards bigint NOT NULL, PRIMARY KEY (service_id, hour));",
    /* 3 -> 4: as in store_sqlite.c (the report's EHRs, and each feedback entry's card facts),
     * without its index for grouping: PostgreSQL groups the cards by hashing. */
    "ALTER TABLE cards_issued ADD COLUMN iss text, ADD COLUMN tenant text;"
    "ALTER TABLE feedback ADD COLUMN card_rule text, ADD COLUMN card_service text,"
    " ADD COLUMN card_iss text, ADD COLUMN card_tenant text,"
    " ADD COLUMN card_issued_at timestamptz;"
    "UPDATE feedback f SET card_rule = c.rule_id, card_service = c.service_id,"
    " card_issued_at = c.issued_at FROM cards_issued c WHERE c.card_uuid = f.card_uuid;"
    "DROP INDEX cards_issued_rule;"
    "CREATE INDEX cards_issued_at ON cards_issued(issued_at);"
    "CREATE INDEX feedback_unlinked ON feedback(card_uuid) WHERE card_rule IS NULL;"
    /* How few the report's groups are (rule, service, EHR, day): without them the planner
     * takes each row for a group and gives up hashing in parallel. */
    "CREATE STATISTICS cards_issued_day (ndistinct) ON rule_id, service_id, iss, tenant,"
    " ((issued_at AT TIME ZONE 'UTC')::date) FROM cards_issued;"
    "CREATE STATISTICS feedback_day (ndistinct) ON card_rule, card_service, card_iss,"
    " card_tenant, ((card_issued_at AT TIME ZONE 'UTC')::date), outcome, reason_system,"
    " reason_code FROM feedback;"
    /* The batches of call counts written (ids kept a day): a batch whose COMMIT was
     * answered by a lost connection is run again, and must not add its calls twice. */
    "CREATE TABLE calls_batches (id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());",
};

/* Adds a (service, hour)'s calls and cards to its row (store_sqlite.c's statement too).
 * Not idempotent by itself: tx_issues runs it only for a batch not yet in calls_batches. */
static const char sql_add_calls[] =
    "INSERT INTO calls (service_id, hour, calls, cards) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (service_id, hour) DO UPDATE SET calls = calls.calls + excluded.calls,"
    " cards = calls.cards + excluded.cards";

/* The card's facts come along when the card is already stored (store_sqlite.c's too). */
static const char sql_ins_feedback[] =
    "INSERT INTO feedback (service_id, card_uuid, outcome, accepted_suggestions,"
    " reason_system, reason_code, outcome_timestamp, iss, tenant,"
    " card_rule, card_service, card_iss, card_tenant, card_issued_at)"
    " SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text,"
    " $9::text, c.rule_id, c.service_id, c.iss, c.tenant, c.issued_at"
    " FROM (SELECT 1) AS one LEFT JOIN cards_issued c ON c.card_uuid = $2::text"
    " ON CONFLICT (card_uuid, outcome) DO NOTHING";

/* Logs libpq's message (first line only) and answers the client without details:
 * 503 when the server cannot be reached, else 500. */
int pg_fail(PGconn *c, const char *what, struct myocds_err *err)
{
    char msg[PG_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", c != NULL ? PQerrorMessage(c) : "out of memory");
    msg[strcspn(msg, "\r\n")] = '\0';
    log_error("store: postgres %s: %s", what, msg);
    if (c == NULL || PQstatus(c) != CONNECTION_OK)
        return myocds_err_set(err, 503, "feedback store unavailable");
    return myocds_err_set(err, 500, "feedback store failure");
}

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* client_min_messages = warning: nothing worth a log line */
}

int pg_exec(PGconn *c, const char *sql, const char *what, struct myocds_err *err)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    PQclear(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return 0;
    return pg_fail(c, what, err);
}

/* A new session on url with our settings; NULL with *rc and err set on failure. */
static PGconn *pg_connect(const char *url, int *rc, struct myocds_err *err)
{
    /* Later keywords win: the URL's own connect_timeout or application_name stay. */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {PG_CONNECT_TIMEOUT_S, PG_APP_NAME, url, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL || PQstatus(c) != CONNECTION_OK) {
        *rc = pg_fail(c, "connect", err);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, on_notice, NULL);
    if ((*rc = pg_exec(c, session_sql, "session settings", err)) != 0) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Takes a free connection (waiting for one), opening it when needed. NULL with *rc and
 * err set when the server cannot be reached. Give it back with release(). */
static struct pg_slot *acquire(struct pg_store *st, int *rc, struct myocds_err *err)
{
    struct pg_slot *s = NULL;
    pthread_mutex_lock(&st->lock);
    while (s == NULL) {
        for (size_t i = 0; i < PG_POOL_SIZE && s == NULL; i++)
            s = st->slots[i].busy ? NULL : &st->slots[i];
        if (s == NULL)
            pthread_cond_wait(&st->slot_free, &st->lock);
    }
    s->busy = true;
    pthread_mutex_unlock(&st->lock);
    if (s->conn != NULL && PQstatus(s->conn) != CONNECTION_OK) {
        PQfinish(s->conn);
        s->conn = NULL;
    }
    if (s->conn == NULL)
        s->conn = pg_connect(st->url, rc, err);
    if (s->conn != NULL)
        return s;
    pthread_mutex_lock(&st->lock);
    s->busy = false;
    pthread_cond_signal(&st->slot_free);
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

/* Gives s back; a connection in an unknown state (failed mid-transaction) is closed. */
static void release(struct pg_store *st, struct pg_slot *s, bool failed)
{
    if (failed && s->conn != NULL && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PQfinish(s->conn);
        s->conn = NULL;
    }
    pthread_mutex_lock(&st->lock);
    s->busy = false;
    pthread_cond_signal(&st->slot_free);
    pthread_mutex_unlock(&st->lock);
}

/* pg_run_tx, or with tx false pg_run_one (fn's one statement commits by itself). */
static int run(struct pg_store *st, pg_tx_fn fn, const void *arg, bool tx, struct myocds_err *err)
{
    int rc = -1;
    for (int attempt = 0; attempt < PG_ATTEMPTS; attempt++) {
        struct pg_slot *s = acquire(st, &rc, err);
        if (s == NULL)
            return rc;
        rc = tx ? pg_exec(s->conn, "BEGIN", "begin", err) : 0;
        if (rc == 0)
            rc = fn(s->conn, arg, err);
        if (rc == 0 && tx)
            rc = pg_exec(s->conn, "COMMIT", "commit", err);
        if (rc != 0 && tx && PQstatus(s->conn) == CONNECTION_OK)
            PQclear(PQexec(s->conn, "ROLLBACK"));
        bool lost = rc != 0 && PQstatus(s->conn) != CONNECTION_OK;
        release(st, s, rc != 0);
        if (!lost)
            break;
    }
    return rc;
}

int pg_run_tx(struct pg_store *st, pg_tx_fn fn, const void *arg, struct myocds_err *err)
{
    return run(st, fn, arg, true, err);
}

int pg_run_one(struct pg_store *st, pg_tx_fn fn, const void *arg, struct myocds_err *err)
{
    return run(st, fn, arg, false, err);
}

struct feedback_args {
    const char *service_id;
    const struct myocds_feedback *items;
    size_t n;
    const char *iss;
    const char *tenant;
};

static int tx_feedback(PGconn *c, const void *arg, struct myocds_err *err)
{
    const struct feedback_args *a = arg;
    for (size_t i = 0; i < a->n; i++) {
        const struct myocds_feedback *f = &a->items[i];
        const char *p[] = {a->service_id,        f->card_uuid,     f->outcome,
                           f->accepted_json,     f->reason_system, f->reason_code,
                           f->outcome_timestamp, a->iss,           a->tenant};
        PGresult *r = PQexecParams(c, sql_ins_feedback, 9, NULL, p, NULL, NULL, 0);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok)
            return pg_fail(c, "insert feedback", err);
    }
    return 0;
}

static int pg_put_feedback(struct store *base, const char *service_id,
                           const struct myocds_feedback *items, size_t n, const char *iss,
                           const char *tenant, struct myocds_err *err)
{
    const struct feedback_args a = {service_id, items, n, iss, tenant};
    return pg_run_tx((struct pg_store *)base, tx_feedback, &a, err);
}

struct issue_args {
    const struct store_issue *rows;
    size_t n;
    const struct store_calls *calls;
    size_t n_calls;
    char batch[RAND_UUID_TEXT]; /* the same for every attempt at this batch */
};

#define PG_BATCHES_PRUNE_EVERY 1000 /* batches between two prunings of calls_batches */

/* The batch's id in calls_batches: *fresh when new (its calls are to be added), false
 * when an earlier attempt committed it. Now and then forgets ids older than a day. */
static int batch_once(PGconn *c, const char *batch, bool *fresh, struct myocds_err *err)
{
    static atomic_uint every;
    const char *p[] = {batch};
    PGresult *r =
        PQexecParams(c, "INSERT INTO calls_batches (id) VALUES ($1) ON CONFLICT DO NOTHING", 1,
                     NULL, p, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    *fresh = ok && strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (!ok)
        return pg_fail(c, "calls batch", err);
    if (atomic_fetch_add(&every, 1) % PG_BATCHES_PRUNE_EVERY != 0)
        return 0;
    return pg_exec(c, "DELETE FROM calls_batches WHERE at < now() - interval '1 day'",
                   "prune calls_batches", err);
}

/* INSERT of rows[0..n) (n <= PG_CARD_CHUNK) as one multi-row statement. */
static int insert_chunk(PGconn *c, const struct store_issue *rows, size_t n, struct myocds_err *err)
{
    char sql[PG_SQL_MAX];
    const char *p[PG_CARD_CHUNK * PG_CARD_COLS];
    int len = snprintf(sql, sizeof sql,
                       "INSERT INTO cards_issued"
                       " (service_id, card_uuid, rule_id, issued_at, iss, tenant) VALUES ");
    for (size_t i = 0; i < n; i++) {
        int k = (int)i * PG_CARD_COLS;
        len += snprintf(sql + len, sizeof sql - (size_t)len, "%s($%d, $%d, $%d, $%d, $%d, $%d)",
                        i > 0 ? ", " : "", k + 1, k + 2, k + 3, k + 4, k + 5, k + 6);
        p[k] = rows[i].service_id;
        p[k + 1] = rows[i].card_uuid;
        p[k + 2] = rows[i].rule_id;
        p[k + 3] = rows[i].issued_at;
        p[k + 4] = rows[i].iss[0] != '\0' ? rows[i].iss : NULL;
        p[k + 5] = rows[i].tenant[0] != '\0' ? rows[i].tenant : NULL;
    }
    snprintf(sql + len, sizeof sql - (size_t)len, " ON CONFLICT (card_uuid) DO NOTHING");
    PGresult *r = PQexecParams(c, sql, (int)n * PG_CARD_COLS, NULL, p, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : pg_fail(c, "insert cards", err);
}

static int tx_issues(PGconn *c, const void *arg, struct myocds_err *err)
{
    const struct issue_args *a = arg;
    /* Card counts, as in SQLite: this transaction's commit does not wait for the WAL flush
     * (a server crash may lose the last batches, never an inconsistent one); feedback's
     * transactions keep the server's synchronous_commit. */
    PGresult *r = PQexec(c, "SET LOCAL synchronous_commit = off");
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_fail(c, "synchronous_commit", err);
    PQclear(r);
    for (size_t i = 0; i < a->n && rc == 0; i += PG_CARD_CHUNK)
        rc = insert_chunk(c, a->rows + i, a->n - i < PG_CARD_CHUNK ? a->n - i : PG_CARD_CHUNK, err);
    bool fresh = false;
    if (rc == 0 && a->n_calls > 0 && (rc = batch_once(c, a->batch, &fresh, err)) == 0 && !fresh)
        return 0; /* this batch's calls are counted already */
    for (size_t i = 0; i < a->n_calls && rc == 0; i++) {
        char calls[PG_COUNT_MAX];
        char cards[PG_COUNT_MAX];
        snprintf(calls, sizeof calls, "%lld", a->calls[i].calls);
        snprintf(cards, sizeof cards, "%lld", a->calls[i].cards);
        const char *p[] = {a->calls[i].service_id, a->calls[i].hour, calls, cards};
        PGresult *res = PQexecParams(c, sql_add_calls, 4, NULL, p, NULL, NULL, 0);
        rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(c, "count calls", err);
        PQclear(res);
    }
    return rc;
}

int pg_put_batch(struct store *base, const struct store_issue *rows, size_t n,
                 const struct store_calls *calls, size_t n_calls, const char *batch,
                 struct myocds_err *err)
{
    struct issue_args a = {rows, n, calls, n_calls, {0}};
    if (n == 0 && n_calls == 0)
        return 0;
    snprintf(a.batch, sizeof a.batch, "%s", batch);
    return pg_run_tx((struct pg_store *)base, tx_issues, &a, err);
}

static int pg_put_issues(struct store *base, const struct store_issue *rows, size_t n,
                         const struct store_calls *calls, size_t n_calls, struct myocds_err *err)
{
    char batch[RAND_UUID_TEXT];
    rand_uuid(batch);
    return pg_put_batch(base, rows, n, calls, n_calls, batch, err);
}

struct query_args {
    const char *sql;
    const char *params[2];
    store_row_fn fn;
    void *ctx;
};

/* For the report's queries only: memory to group in (one run of `myocds report`, not a
 * request), no JIT (its compilation costs more than it saves here), and dates written as
 * YYYY-MM-DD (report.c reads the day of issue so). */
static const char query_settings[] = "SET LOCAL work_mem = '256MB'; SET LOCAL jit = off;"
                                     " SET LOCAL DateStyle = 'ISO, YMD'";

static int tx_query(PGconn *c, const void *arg, struct myocds_err *err)
{
    const struct query_args *a = arg;
    int rc = pg_exec(c, query_settings, "report settings", err);
    if (rc != 0)
        return rc;
    PGresult *r = PQexecParams(c, a->sql, 2, NULL, a->params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQnfields(r) > STORE_ROW_COLS) {
        PQclear(r);
        return pg_fail(c, "report", err);
    }
    int nf = PQnfields(r);
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        const char *col[STORE_ROW_COLS] = {NULL};
        for (int k = 0; k < nf; k++)
            col[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
        rc = a->fn(a->ctx, col);
    }
    PQclear(r);
    return rc;
}

static int pg_query(struct store *base, const char *sql, const char *p1, const char *p2,
                    store_row_fn fn, void *ctx, struct myocds_err *err)
{
    const struct query_args a = {sql, {p1, p2}, fn, ctx};
    return pg_run_tx((struct pg_store *)base, tx_query, &a, err);
}

static int tx_migrate(PGconn *c, const void *arg, struct myocds_err *err)
{
    const int latest = (int)(sizeof migrations / sizeof migrations[0]);
    char sql[PG_MSG_MAX];
    (void)arg;
    snprintf(sql, sizeof sql,
             "SELECT pg_advisory_xact_lock(%d);"
             " CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)",
             PG_MIGRATION_LOCK);
    int rc = pg_exec(c, sql, "schema lock", err);
    if (rc != 0)
        return rc;
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_version");
    int version = PQresultStatus(r) == PGRES_TUPLES_OK ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    if (version < 0)
        return pg_fail(c, "read schema_version", err);
    if (version > latest) {
        log_error("store: schema version %d is newer than this build (%d)", version, latest);
        return myocds_err_set(err, 500, "feedback store schema is newer than this build");
    }
    for (int k = version; k < latest && rc == 0; k++) {
        snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d)", k + 1);
        rc = pg_exec(c, migrations[k], "migrate", err);
        if (rc == 0)
            rc = pg_exec(c, sql, "schema version", err);
    }
    return rc;
}

static void pg_close(struct store *base)
{
    struct pg_store *st = (struct pg_store *)base;
    pg_jti_close(st);
    for (size_t i = 0; i < PG_POOL_SIZE; i++)
        PQfinish(st->slots[i].conn);
    pthread_cond_destroy(&st->slot_free);
    pthread_mutex_destroy(&st->lock);
    free(st->url);
    free(st);
}

static const struct store_ops pg_ops = {
    .dialect = STORE_DIALECT_PG,
    .put_feedback = pg_put_feedback,
    .put_issues = pg_put_issues,
    .query = pg_query,
    .close = pg_close,
    .card_shown = pg_card_shown,
    .shown_secret = pg_shown_secret,
    .jti_claim = pg_jti_claim,
};

int store_pg_open(const char *url, struct store **out, struct myocds_err *err)
{
    *out = NULL;
    struct pg_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return myocds_err_set(err, 500, "out of memory");
    st->base.ops = &pg_ops; /* for pg_close on failure; store_base_init sets it too */
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->slot_free, NULL);
    st->url = strdup(url);
    int rc = st->url != NULL ? 0 : myocds_err_set(err, 500, "out of memory");
    if (rc == 0)
        rc = pg_run_tx(st, tx_migrate, NULL, err);
    if (rc == 0)
        rc = pg_shown_open(st, err);
    if (rc == 0)
        rc = pg_jti_open(st, err);
    if (rc == 0)
        rc = store_base_init(&st->base, &pg_ops, err);
    if (rc != 0) {
        pg_close(&st->base);
        return rc;
    }
    *out = &st->base;
    return 0;
}

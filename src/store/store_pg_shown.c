/* store_pg_shown.c - the memory of cards shown that replicas share, on PostgreSQL.
 *
 * Table cards_shown (key bytea PRIMARY KEY, shown_at timestamptz): a key is a keyed hash
 * (src/cds/repeat.h) that identifies no patient. One INSERT .. ON CONFLICT DO UPDATE .. WHERE
 * both asks and records: a row comes back when the key was absent or its window is over
 * (the card shows, stamped now by the server's clock, which every replica shares), none
 * when it was shown within the window. Rows older than the window are deleted at most once
 * a minute per replica, a bounded batch at a time. Table repeat_secret holds the one HMAC
 * secret of every replica, made by the first. A short statement timeout keeps a slow
 * server from holding the card up: the caller shows the card on any failure.
 */
#include "store/store_pg_int.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PG_SHOWN_SWEEP_S 60      /* a replica deletes expired rows at most this often */
#define PG_SHOWN_SWEEP_ROWS 1000 /* rows deleted by one sweep at most */

static const char shown_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS cards_shown ("
    " key bytea PRIMARY KEY, shown_at timestamptz NOT NULL);"
    "CREATE INDEX IF NOT EXISTS cards_shown_at ON cards_shown(shown_at);"
    "CREATE TABLE IF NOT EXISTS repeat_secret ("
    " id integer PRIMARY KEY CHECK (id = 1), secret bytea NOT NULL)";

static const char shown_sql[] =
    "INSERT INTO cards_shown AS c (key, shown_at) VALUES ($1, now())"
    " ON CONFLICT (key) DO UPDATE SET shown_at = excluded.shown_at"
    " WHERE c.shown_at <= excluded.shown_at - make_interval(secs => $2::integer)"
    " RETURNING 1";

static const char sweep_sql[] =
    "DELETE FROM cards_shown WHERE key IN (SELECT key FROM cards_shown"
    " WHERE shown_at < now() - make_interval(secs => $1::integer) LIMIT $2::integer)";

/* The session settings of one check: no wait for the WAL flush (a lost row only lets a
 * card show again), and a short timeout. */
static const char shown_local_sql[] =
    "SET LOCAL synchronous_commit = off; SET LOCAL statement_timeout = '1s'";

struct secret_args {
    struct pg_store *st;
    const unsigned char *fresh;
};

static int tx_secret(PGconn *c, const void *arg, struct myocds_err *err)
{
    const struct secret_args *a = arg;
    const char *p[] = {(const char *)a->fresh};
    const int lens[] = {PG_SHOWN_SECRET_BYTES};
    const int fmts[] = {1};
    int rc = pg_exec(c, shown_schema_sql, "create cards_shown", err);
    if (rc != 0)
        return rc;
    PGresult *r = PQexecParams(c,
                               "INSERT INTO repeat_secret (id, secret) VALUES (1, $1)"
                               " ON CONFLICT (id) DO NOTHING",
                               1, NULL, p, lens, fmts, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        return pg_fail(c, "insert repeat_secret", err);
    r = PQexecParams(c, "SELECT secret FROM repeat_secret WHERE id = 1", 0, NULL, NULL, NULL, NULL,
                     1);
    ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
         PQgetlength(r, 0, 0) == PG_SHOWN_SECRET_BYTES;
    if (ok)
        memcpy(a->st->shown_secret, PQgetvalue(r, 0, 0), PG_SHOWN_SECRET_BYTES);
    PQclear(r);
    return ok ? 0 : pg_fail(c, "read repeat_secret", err);
}

int pg_shown_open(struct pg_store *st, struct myocds_err *err)
{
    unsigned char fresh[PG_SHOWN_SECRET_BYTES];
    if (RAND_bytes(fresh, (int)sizeof fresh) != 1)
        return myocds_err_set(err, 500, "no randomness for the secret of cards shown");
    const struct secret_args a = {st, fresh};
    atomic_init(&st->shown_swept_at, 0);
    int rc = pg_run_tx(st, tx_secret, &a, err);
    OPENSSL_cleanse(fresh, sizeof fresh);
    return rc;
}

int pg_shown_secret(struct store *base, unsigned char *out, size_t len)
{
    struct pg_store *st = (struct pg_store *)base;
    if (len != PG_SHOWN_SECRET_BYTES)
        return -1;
    memcpy(out, st->shown_secret, len);
    return 0;
}

struct shown_args {
    const unsigned char *key;
    size_t key_len;
    long window_s;
    bool sweep;
    bool *seen;
};

/* Deletes a bounded batch of rows older than the window. */
static int sweep(PGconn *c, long window_s, struct myocds_err *err)
{
    char secs[24], rows[24];
    snprintf(secs, sizeof secs, "%ld", window_s);
    snprintf(rows, sizeof rows, "%d", PG_SHOWN_SWEEP_ROWS);
    const char *p[] = {secs, rows};
    PGresult *r = PQexecParams(c, sweep_sql, 2, NULL, p, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : pg_fail(c, "sweep cards_shown", err);
}

static int tx_shown(PGconn *c, const void *arg, struct myocds_err *err)
{
    const struct shown_args *a = arg;
    char secs[24];
    snprintf(secs, sizeof secs, "%ld", a->window_s);
    const char *p[] = {(const char *)a->key, secs};
    const int lens[] = {(int)a->key_len, 0};
    const int fmts[] = {1, 0};
    int rc = pg_exec(c, shown_local_sql, "cards_shown settings", err);
    if (rc == 0 && a->sweep)
        rc = sweep(c, a->window_s, err);
    if (rc != 0)
        return rc;
    PGresult *r = PQexecParams(c, shown_sql, 2, NULL, p, lens, fmts, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (ok)
        *a->seen = PQntuples(r) == 0;
    PQclear(r);
    return ok ? 0 : pg_fail(c, "cards_shown", err);
}

int pg_card_shown(struct store *base, const unsigned char *key, size_t key_len, long window_s,
                  bool *seen, struct myocds_err *err)
{
    struct pg_store *st = (struct pg_store *)base;
    long long now = (long long)time(NULL);
    long long last = atomic_load(&st->shown_swept_at);
    /* One thread of this replica sweeps, at most once a minute. */
    bool do_sweep = now - last >= PG_SHOWN_SWEEP_S &&
                    atomic_compare_exchange_strong(&st->shown_swept_at, &last, now);
    const struct shown_args a = {key, key_len, window_s, do_sweep, seen};
    *seen = false;
    if (key_len == 0 || key_len > 64 || window_s <= 0)
        return myocds_err_set(err, 500, "bad key of a card shown");
    return pg_run_tx(st, tx_shown, &a, err);
}

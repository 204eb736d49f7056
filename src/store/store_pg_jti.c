/* store_pg_jti.c - the memory of JWT ids (jti) that replicas share, on PostgreSQL.
 *
 * Table jwt_jtis (iss text, jti bytea, expires_at timestamptz, retry_key text, used_at
 * timestamptz; key (iss, jti)): jti is the SHA-256 of the token's jti, so no value of a
 * token is stored as it came and any jti fits. One INSERT .. ON CONFLICT DO UPDATE .. WHERE
 * both asks and records: a row comes back when the pair was absent (or its row expired but
 * was not swept yet), or when the second use carries the first use's retry key within
 * the retry window (the proxy's retry of one client request on another replica); none is
 * a replay. Replicas racing on one pair see one winner. Created at open outside the
 * versioned schema (as store_pg_shown.c), so a replica of an older build still opens the
 * database. A background thread of each replica deletes expired rows once a minute, a
 * bounded batch at a time. The check is one statement (one round trip) that skips the
 * wait for the WAL flush: a crash of the server (not a clean stop) may forget the pairs
 * of its last fraction of a second.
 */
#include "store/store_pg_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PG_JTI_SWEEP_S 60       /* each replica deletes expired rows this often */
#define PG_JTI_SWEEP_ROWS 1000  /* rows one DELETE removes at most */
#define PG_JTI_SWEEP_ROUNDS 100 /* DELETEs one sweep runs at most */
#define PG_JTI_HASH 32          /* SHA-256 */
#define PG_JTI_KEY_MAX 64       /* longest retry key kept (longer: none) */

static const char jti_schema_sql[] = "CREATE TABLE IF NOT EXISTS jwt_jtis ("
                                     " iss text NOT NULL, jti bytea NOT NULL,"
                                     " expires_at timestamptz NOT NULL,"
                                     " retry_key text NOT NULL DEFAULT '',"
                                     " used_at timestamptz NOT NULL DEFAULT now(),"
                                     " PRIMARY KEY (iss, jti));"
                                     "CREATE INDEX IF NOT EXISTS jwt_jtis_expires"
                                     " ON jwt_jtis(expires_at)";

/* One statement, one round trip, in a transaction of its own whose commit does not wait
 * for the WAL flush (set_config(.., true): for this transaction only). */
static const char claim_sql[] =
    "INSERT INTO jwt_jtis AS j (iss, jti, expires_at, retry_key, used_at)"
    " SELECT $1::text, $2::bytea, to_timestamp($3::bigint), $4::text, now()"
    " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS s"
    " ON CONFLICT (iss, jti) DO UPDATE SET expires_at = excluded.expires_at,"
    " retry_key = excluded.retry_key,"
    " used_at = CASE WHEN j.expires_at <= now() THEN now() ELSE j.used_at END"
    " WHERE j.expires_at <= now() OR (excluded.retry_key <> '' AND"
    " j.retry_key = excluded.retry_key AND"
    " j.used_at > now() - make_interval(secs => $5::integer))"
    " RETURNING 1";

static const char sweep_sql[] =
    "DELETE FROM jwt_jtis WHERE (iss, jti) IN (SELECT iss, jti FROM jwt_jtis"
    " WHERE expires_at < now() LIMIT $1::integer)";

static int tx_schema(PGconn *c, const void *arg, struct myocds_err *err)
{
    (void)arg;
    return pg_exec(c, jti_schema_sql, "create jwt_jtis", err);
}

/* One DELETE of a batch; *n: rows deleted. */
static int tx_sweep(PGconn *c, const void *arg, struct myocds_err *err)
{
    long *n = (long *)arg;
    char rows[24];
    snprintf(rows, sizeof rows, "%d", PG_JTI_SWEEP_ROWS);
    const char *p[] = {rows};
    PGresult *r = PQexecParams(c, sweep_sql, 1, NULL, p, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (ok)
        *n = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return ok ? 0 : pg_fail(c, "sweep jwt_jtis", err);
}

int pg_jti_sweep(struct pg_store *st, long *deleted, struct myocds_err *err)
{
    *deleted = 0;
    for (int i = 0; i < PG_JTI_SWEEP_ROUNDS; i++) {
        long n = 0;
        int rc = pg_run_tx(st, tx_sweep, &n, err);
        if (rc != 0)
            return rc;
        *deleted += n;
        if (n < PG_JTI_SWEEP_ROWS)
            break;
    }
    return 0;
}

/* The sweeper thread: st (borrowed) outlives it (pg_jti_close joins it). */
static void *sweeper(void *arg)
{
    struct pg_store *st = arg;
    pthread_mutex_lock(&st->jti_lock);
    while (!st->jti_stop) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += PG_JTI_SWEEP_S;
        while (!st->jti_stop && pthread_cond_timedwait(&st->jti_wake, &st->jti_lock, &t) == 0)
            ;
        if (st->jti_stop)
            break;
        pthread_mutex_unlock(&st->jti_lock);
        struct myocds_err err = {0};
        long n = 0;
        (void)pg_jti_sweep(st, &n, &err); /* a failure is logged by pg_fail; next round */
        pthread_mutex_lock(&st->jti_lock);
    }
    pthread_mutex_unlock(&st->jti_lock);
    return NULL;
}

int pg_jti_open(struct pg_store *st, struct myocds_err *err)
{
    int rc = pg_run_tx(st, tx_schema, NULL, err);
    if (rc != 0)
        return rc;
    pthread_mutex_init(&st->jti_lock, NULL);
    pthread_cond_init(&st->jti_wake, NULL);
    st->jti_stop = false;
    if (pthread_create(&st->jti_sweeper, NULL, sweeper, st) != 0) {
        pthread_cond_destroy(&st->jti_wake);
        pthread_mutex_destroy(&st->jti_lock);
        return myocds_err_set(err, 500, "cannot start the sweeper of jwt_jtis");
    }
    st->jti_running = true;
    return 0;
}

void pg_jti_close(struct pg_store *st)
{
    if (!st->jti_running)
        return;
    pthread_mutex_lock(&st->jti_lock);
    st->jti_stop = true;
    pthread_cond_signal(&st->jti_wake);
    pthread_mutex_unlock(&st->jti_lock);
    pthread_join(st->jti_sweeper, NULL);
    pthread_cond_destroy(&st->jti_wake);
    pthread_mutex_destroy(&st->jti_lock);
    st->jti_running = false;
}

struct claim_args {
    const char *iss;
    const unsigned char *hash;
    const char *forget_at;
    const char *retry_key;
    const char *window_s;
    bool *seen;
};

static int one_claim(PGconn *c, const void *arg, struct myocds_err *err)
{
    const struct claim_args *a = arg;
    const char *p[] = {a->iss, (const char *)a->hash, a->forget_at, a->retry_key, a->window_s};
    const int lens[] = {0, PG_JTI_HASH, 0, 0, 0};
    const int fmts[] = {0, 1, 0, 0, 0};
    PGresult *r = PQexecParams(c, claim_sql, 5, NULL, p, lens, fmts, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (ok)
        *a->seen = PQntuples(r) == 0;
    PQclear(r);
    return ok ? 0 : pg_fail(c, "jwt_jtis", err);
}

int pg_jti_claim(struct store *base, const char *iss, const char *jti, long long forget_at,
                 const char *retry_key, long window_s, bool *seen, struct myocds_err *err)
{
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    char until[24], secs[24];
    *seen = false;
    if (EVP_Digest(jti, strlen(jti), hash, &len, EVP_sha256(), NULL) != 1 || len != PG_JTI_HASH)
        return myocds_err_set(err, 500, "cannot hash a jti");
    /* A key that is not a proxy's id (too long) is none: its second use is a replay. */
    if (retry_key == NULL || strlen(retry_key) > PG_JTI_KEY_MAX)
        retry_key = "";
    snprintf(until, sizeof until, "%lld", forget_at);
    snprintf(secs, sizeof secs, "%ld", window_s > 0 ? window_s : 1);
    const struct claim_args a = {iss, hash, until, retry_key, secs, seen};
    return pg_run_one((struct pg_store *)base, one_claim, &a, err);
}

/* store_pg_int.h - what the PostgreSQL store's files share: the store, its pool, one
 * transaction with a retry, the memory of cards shown (store_pg_shown.c) and of JWT ids
 * (store_pg_jti.c). */
#ifndef MYOCDS_STORE_STORE_PG_INT_H
#define MYOCDS_STORE_STORE_PG_INT_H

#include "store/store_backend.h"

#include <libpq-fe.h>
#include <stdatomic.h>

#define PG_POOL_SIZE 4
#define PG_MSG_MAX 300
#define PG_SHOWN_SECRET_BYTES 32 /* the secret of table repeat_secret */

struct pg_slot {
    PGconn *conn;
    bool busy;
};

struct pg_store {
    struct store base; /* first: a struct store * is a struct pg_store * */
    char *url;
    pthread_mutex_t lock;
    pthread_cond_t slot_free;
    struct pg_slot slots[PG_POOL_SIZE];
    unsigned char shown_secret[PG_SHOWN_SECRET_BYTES]; /* read once at open */
    atomic_llong shown_swept_at; /* wall-clock second of the last sweep of cards_shown */
    pthread_t jti_sweeper;       /* deletes expired rows of jwt_jtis (store_pg_jti.c) */
    pthread_mutex_t jti_lock;    /* guards jti_stop */
    pthread_cond_t jti_wake;
    bool jti_stop;
    bool jti_running; /* the sweeper was started: pg_jti_close joins it */
};

/* One transaction body: runs on c inside BEGIN .. COMMIT (pg_run_one: one statement alone). */
typedef int (*pg_tx_fn)(PGconn *c, const void *arg, struct myocds_err *err);

/* Runs fn in a transaction, again on another connection when one was lost (after a server
 * restart each dead one is closed in turn, then a fresh one opened; every write here is
 * idempotent). 0, or negative with err set. */
int pg_run_tx(struct pg_store *st, pg_tx_fn fn, const void *arg, struct myocds_err *err);

/* store_ops.put_issues with the batch's id given (pg_put_issues makes a random one): the
 * calls of a batch whose id calls_batches already holds are not added again, so a batch
 * run again after its COMMIT's answer was lost counts once. Borrowed. */
int pg_put_batch(struct store *base, const struct store_issue *rows, size_t n,
                 const struct store_calls *calls, size_t n_calls, const char *batch,
                 struct myocds_err *err);

/* Runs fn, one statement that commits by itself (no BEGIN .. COMMIT: one round trip), with
 * the same retry. 0, or negative with err set. */
int pg_run_one(struct pg_store *st, pg_tx_fn fn, const void *arg, struct myocds_err *err);

/* Runs sql (no parameters) expecting no rows or rows; 0, or negative with err set (what
 * names the step in the log). */
int pg_exec(PGconn *c, const char *sql, const char *what, struct myocds_err *err);

/* Logs libpq's message (first line only) and answers the client without details:
 * 503 when the server cannot be reached, else 500. */
int pg_fail(PGconn *c, const char *what, struct myocds_err *err);

/* Creates the tables of the memory of cards shown when absent (cards_shown, repeat_secret;
 * outside the versioned schema, so a replica of an older build still opens the database)
 * and reads the secret, making it when it is the first replica. 0, or negative. */
int pg_shown_open(struct pg_store *st, struct myocds_err *err);

/* store_ops.card_shown and store_ops.shown_secret (store_backend.h). */
int pg_card_shown(struct store *base, const unsigned char *key, size_t key_len, long window_s,
                  bool *seen, struct myocds_err *err);
int pg_shown_secret(struct store *base, unsigned char *out, size_t len);

/* Creates table jwt_jtis when absent (outside the versioned schema, like cards_shown) and
 * starts the thread that sweeps its expired rows. 0, or negative. */
int pg_jti_open(struct pg_store *st, struct myocds_err *err);

/* Stops the sweeper (no-op when it was never started). Before the pool is closed. */
void pg_jti_close(struct pg_store *st);

/* Deletes every expired row of jwt_jtis, a batch at a time (the sweeper's round; tests).
 * *deleted: rows removed. 0, or negative. */
int pg_jti_sweep(struct pg_store *st, long *deleted, struct myocds_err *err);

/* store_ops.jti_claim (store_backend.h). */
int pg_jti_claim(struct store *base, const char *iss, const char *jti, long long forget_at,
                 const char *retry_key, long window_s, bool *seen, struct myocds_err *err);

#endif

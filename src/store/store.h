/* store.h - the feedback store: cards issued and feedback received.
 *
 * One interface, two backends (SQLite, PostgreSQL), which implement store_backend.h.
 * Every function is thread-safe. Feedback returns only after a durable commit. Cards issued are
 * stamped with the time of issue and queued in memory; a background thread writes them
 * in batches (every STORE_FLUSH_MS or STORE_FLUSH_ROWS rows) and store_close() writes
 * what is left, so counting a card costs no disk write on the request path. The calls each
 * service answered are summed per hour in the same queue and written with the cards.
 * Nothing stored identifies a patient, and no free-text comment is kept.
 *
 * The layers point one way: store.c (store_open, the dispatch) -> the backends
 * (store_sqlite.c, store_pg*.c) -> store_backend.h (struct store, its ops and the card
 * queue of store_queue.c) -> this header's types. Callers outside src/store/ see only
 * this header, where struct store is opaque.
 */
#ifndef MYOCDS_STORE_STORE_H
#define MYOCDS_STORE_STORE_H

#include "myocds/myocds.h"

#include <stdbool.h>
#include <stddef.h>

#define STORE_SQLITE_FILE "myocds.sqlite"
#define STORE_SCHEMA_VERSION 4
#define STORE_UUID_MAX 64     /* a card uuid we record (longer ones are not ours) */
#define STORE_RULE_MAX 64     /* a rule id */
#define STORE_SERVICE_MAX 128 /* a service id */
#define STORE_TS_MAX 32       /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
#define STORE_ISS_MAX 256     /* the issuer of the call's JWT (as http_auth.h keeps it) */
#define STORE_TENANT_MAX 128  /* the JWT's tenant claim */
#define STORE_HOUR_LEN 13     /* "YYYY-MM-DDTHH", the hour of a time stamp */
#define STORE_FLUSH_MS 1000   /* queued cards reach the store at least this often */
#define STORE_FLUSH_ROWS 4096 /* ... or as soon as this many are queued */
#define STORE_QUEUE_MAX 16384 /* queued cards beyond this are dropped (and counted) */
#define STORE_CALLS_SLOTS 64  /* (service, hour) call counts summed between two writes */
#define STORE_TOP_REASONS 3   /* override reasons listed per rule in a report */

struct cfg;

/* One card the engine issued (strings borrowed for the call). */
struct store_card {
    const char *card_uuid;
    const char *rule_id;
};

/* Which EHR a call came from: its JWT's iss and tenant claim, each NULL when absent (a
 * --dev call has neither). Borrowed. */
struct store_who {
    const char *iss;
    const char *tenant;
};

/* A report's time range: [since, until) as UTC timestamps; "" is unbounded (report.h). */
struct store_range {
    char since[STORE_TS_MAX];
    char until[STORE_TS_MAX];
};

struct store;

#define STORE_ROW_COLS 11 /* columns of a report query row (fewer: the rest are NULL) */

/* One row of a report query; 0 to go on, negative to stop with that status. */
typedef int (*store_row_fn)(void *ctx, const char *const col[STORE_ROW_COLS]);

/* Opens the backend the config asks for: PostgreSQL when feedback.postgres_url is set,
 * else SQLite under data_dir. Caller owns *out: store_close() it. */
int store_open(const struct cfg *cfg, struct store **out, struct myocds_err *err);

/* Opens (creating data_dir and the schema when needed) data_dir/STORE_SQLITE_FILE in WAL
 * mode with synchronous=FULL. Caller owns *out: store_close() it. */
int store_sqlite_open(const char *data_dir, struct store **out, struct myocds_err *err);

/* Connects to the PostgreSQL server of url (a libpq URI or key=value string, borrowed),
 * creating or migrating the schema. Caller owns *out: store_close() it. The url, which
 * may hold a password, is never logged. */
int store_pg_open(const char *url, struct store **out, struct myocds_err *err);

/* Stores n feedback entries in one transaction, durably, before returning. Idempotent on
 * (card uuid, outcome): a resend is the same row. iss and tenant (of the caller's JWT)
 * may be NULL. All borrowed. */
int store_put_feedback(struct store *st, const char *service_id,
                       const struct myocds_feedback *items, size_t n, const char *iss,
                       const char *tenant, struct myocds_err *err);

/* Counts n cards issued by service_id now, for the EHR who (NULL: none named): stamps and
 * queues them (no disk write here). Returns 0, or -503 when cards were dropped: all n when
 * the queue is full, else those whose uuid, rule id or service id does not fit the store's
 * columns (an iss or tenant that does not fit is stored as absent). Borrowed. */
int store_cards_issued(struct store *st, const char *service_id, const struct store_who *who,
                       const struct store_card *cards, size_t n, struct myocds_err *err);

/* Counts one successful call of service_id now, which gave n_cards cards: added to the
 * queue's sum for (service, hour) and written with the next batch (no disk write here).
 * No patient data. 0, or -503 when not counted (the id does not fit, or more than
 * STORE_CALLS_SLOTS (service, hour) pairs wait). Borrowed. */
int store_call_counted(struct store *st, const char *service_id, size_t n_cards,
                       struct myocds_err *err);

/* Writes every card (and call count) queued before the call; returns once they are committed (or
 * failed). */
void store_flush(struct store *st);

/* Cards issued that never reached the store (queue full, store down at close). */
unsigned long long store_dropped(struct store *st);

/* True when the backend keeps a memory of cards shown that every replica shares
 * (PostgreSQL: table cards_shown); SQLite keeps none (each process remembers its own). */
bool store_shares_cards_shown(const struct store *st);

/* Remembers the card of key (key_len bytes, a keyed hash that identifies no patient) as
 * shown now, unless it was shown within window_s seconds: *seen then. One statement, so
 * replicas racing on one key see one winner. 0, or negative with err set (the caller
 * shows the card). Only when store_shares_cards_shown(). */
int store_card_shown(struct store *st, const unsigned char *key, size_t key_len, long window_s,
                     bool *seen, struct myocds_err *err);

/* Copies the secret the replicas key that memory with (table repeat_secret, made by the
 * first replica to open the database) into out[len]. 0, or -1 without one. */
int store_shown_secret(struct store *st, unsigned char *out, size_t len);

/* True when the backend keeps a memory of JWT ids (iss, jti) that every replica shares
 * (PostgreSQL: table jwt_jtis); SQLite keeps none (each process's cache is the only one). */
bool store_shares_jtis(const struct store *st);

/* Remembers the pair (iss, jti) (borrowed; the jti is kept as its SHA-256) until forget_at
 * (seconds since the epoch) unless another call used it: *seen then. A second use whose
 * retry_key (borrowed; NULL or "": none) is the first use's, within window_s seconds of it,
 * is not seen: the proxy retried one client request on another replica. One statement, so
 * replicas racing on one pair see one winner. 0, or negative with err set (-503: the
 * server cannot be reached): the caller refuses the token. Only when store_shares_jtis(). */
int store_jti_claim(struct store *st, const char *iss, const char *jti, long long forget_at,
                    const char *retry_key, long window_s, bool *seen, struct myocds_err *err);

/* Runs one read-only query of report.c whose parameters $1 and $2 are bound to p1 and p2
 * (borrowed), calling fn for each row (columns as text, NULL for SQL NULL). 0, or
 * negative with err set (or fn's status). */
int store_query(struct store *st, const char *sql, const char *p1, const char *p2, store_row_fn fn,
                void *ctx, struct myocds_err *err);

/* The SQL dialect of the backend, for the few expressions report.c writes twice. */
enum store_dialect { STORE_DIALECT_SQLITE = 0, STORE_DIALECT_PG };
enum store_dialect store_dialect(const struct store *st);

/* Flushes the queue, closes and frees; store_close(NULL) is a no-op. */
void store_close(struct store *st);

#endif

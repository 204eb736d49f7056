/* store_backend.h - what a backend of the store implements and what it is given: struct
 * store with its ops, and the queue of cards issued (store_queue.c).
 *
 * Private to src/store/. A backend embeds struct store as its first member, fills ops and
 * calls store_base_init() / store_base_close(). Depends on store.h (the types callers
 * see) only; store.c dispatches to the backends through ops, and the backends call
 * store_queue.c, never store.c.
 */
#ifndef MYOCDS_STORE_STORE_BACKEND_H
#define MYOCDS_STORE_STORE_BACKEND_H

#include "store/store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* The calls of one service in one hour, summed in the queue until written (table calls). */
struct store_calls {
    char service_id[STORE_SERVICE_MAX];
    char hour[STORE_TS_MAX]; /* the hour's start, UTC: "YYYY-MM-DDTHH:00:00.000Z" */
    long long calls;
    long long cards; /* cards given in those calls */
};

/* One queued card issue, a self-contained copy. */
struct store_issue {
    char service_id[STORE_SERVICE_MAX];
    char card_uuid[STORE_UUID_MAX];
    char rule_id[STORE_RULE_MAX];
    char issued_at[STORE_TS_MAX];  /* UTC, stamped when the card was issued */
    char iss[STORE_ISS_MAX];       /* "": none */
    char tenant[STORE_TENANT_MAX]; /* "": none */
};

struct store_ops {
    enum store_dialect dialect;
    int (*put_feedback)(struct store *st, const char *service_id,
                        const struct myocds_feedback *items, size_t n, const char *iss,
                        const char *tenant, struct myocds_err *err);
    /* Writes n queued issues and n_calls call counts in one durable transaction; a known
     * uuid is kept as is, a known (service, hour) has the counts added. */
    int (*put_issues)(struct store *st, const struct store_issue *rows, size_t n,
                      const struct store_calls *calls, size_t n_calls, struct myocds_err *err);
    /* Runs one read-only query of report.c whose parameters $1 and $2 are bound to p1
     * and p2, calling fn for each row (columns as text, NULL for SQL NULL). */
    int (*query)(struct store *st, const char *sql, const char *p1, const char *p2, store_row_fn fn,
                 void *ctx, struct myocds_err *err);
    void (*close)(struct store *st);
    /* The memory of cards shown that replicas share (NULL: the backend keeps none). */
    int (*card_shown)(struct store *st, const unsigned char *key, size_t key_len, long window_s,
                      bool *seen, struct myocds_err *err);
    /* The secret replicas key that memory with (NULL with card_shown). */
    int (*shown_secret)(struct store *st, unsigned char *out, size_t len);
    /* The memory of JWT ids that replicas share (NULL: the backend keeps none). */
    int (*jti_claim)(struct store *st, const char *iss, const char *jti, long long forget_at,
                     const char *retry_key, long window_s, bool *seen, struct myocds_err *err);
};

/* The issue queue: filled by request threads, drained by the flusher thread. */
struct store_queue {
    pthread_mutex_t lock;
    pthread_cond_t wake;         /* the flusher waits here */
    pthread_cond_t done;         /* store_flush() waits here for completed rounds */
    struct store_issue *pending; /* STORE_QUEUE_MAX slots */
    size_t n;
    struct store_issue *writing; /* the batch being written (owned by the flusher) */
    size_t n_writing;
    unsigned long long dropped; /* issues lost: queue full, or the store failed on close */
    struct store_calls calls[STORE_CALLS_SLOTS]; /* summed calls not taken yet */
    size_t n_calls;
    struct store_calls calls_writing[STORE_CALLS_SLOTS]; /* the batch's (the flusher's) */
    size_t n_calls_writing;
    unsigned long long calls_dropped; /* calls not counted: no slot free, or lost on close */
    bool stop;
    bool flush_now;
    bool running;
    unsigned long long flushes; /* completed flush rounds, for store_flush() */
    pthread_t thread;
};

struct store {
    const struct store_ops *ops;
    struct store_queue q;
};

/* For backends: sets ops and starts the flusher. 0, or -500 with err set. */
int store_base_init(struct store *st, const struct store_ops *ops, struct myocds_err *err);

/* For backends' close: stops the flusher after a last flush (no-op when not started). */
void store_base_close(struct store *st);

/* Formats the current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out[STORE_TS_MAX]. */
void store_now(char *out);

#endif

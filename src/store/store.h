/* store.h - the feedback store: cards issued and feedback received, durably.
 *
 * One interface, several backends (SQLite now, PostgreSQL later): a backend embeds
 * struct store as its first member and fills ops. Every function is thread-safe and
 * returns only after a durable commit. Nothing stored identifies a patient, and no
 * free-text comment is kept.
 */
#ifndef MYOCDS_STORE_STORE_H
#define MYOCDS_STORE_STORE_H

#include "myocds/myocds.h"

#include <stddef.h>

#define STORE_SQLITE_FILE "myocds.sqlite"
#define STORE_SCHEMA_VERSION 1

struct cfg;

/* One card the engine issued (strings borrowed for the call). */
struct store_card {
    const char *card_uuid;
    const char *rule_id;
};

struct store;

struct store_ops {
    int (*put_feedback)(struct store *st, const char *service_id,
                        const struct myocds_feedback *items, size_t n, const char *iss,
                        const char *tenant, struct myocds_err *err);
    int (*cards_issued)(struct store *st, const char *service_id, const struct store_card *cards,
                        size_t n, struct myocds_err *err);
    void (*close)(struct store *st);
};

struct store {
    const struct store_ops *ops;
};

/* Opens the backend the config asks for. Caller owns *out: store_close() it. */
int store_open(const struct cfg *cfg, struct store **out, struct myocds_err *err);

/* Opens (creating data_dir and the schema when needed) data_dir/STORE_SQLITE_FILE in WAL
 * mode with synchronous=FULL. Caller owns *out: store_close() it. */
int store_sqlite_open(const char *data_dir, struct store **out, struct myocds_err *err);

/* Stores n feedback entries in one transaction. Idempotent on (card uuid, outcome): a
 * resend is the same row. iss and tenant (of the caller's JWT) may be NULL. All borrowed. */
int store_put_feedback(struct store *st, const char *service_id,
                       const struct myocds_feedback *items, size_t n, const char *iss,
                       const char *tenant, struct myocds_err *err);

/* Records n cards issued by service_id in one transaction (a known uuid is kept as is). */
int store_cards_issued(struct store *st, const char *service_id, const struct store_card *cards,
                       size_t n, struct myocds_err *err);

/* Closes and frees; store_close(NULL) is a no-op. */
void store_close(struct store *st);

#endif

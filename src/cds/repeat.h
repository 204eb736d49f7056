/* repeat.h - the memory of warning and info cards shown for draft orders.
 *
 * A warning or info card shown for a draft order (at order-select) is not shown again for
 * the same unchanged order of the same patient (at order-sign) within a window. An entry
 * holds no patient identifier: it is an HMAC-SHA256, under a secret of REPEAT_SECRET_BYTES,
 * of the FHIR server, the patient id, the rule id, the card's indicator and the digest of
 * the order's content (repeat_order_digest), with the time the card was shown. The secret
 * is random per process, or the one every replica reads from PostgreSQL, so that replicas
 * compute the same key.
 *
 * In memory: at most max entries in insertion order, the oldest forgotten first when full
 * (such a card may then show again: the memory fails open). With a shared memory
 * (repeat_set_shared: PostgreSQL), a card another replica showed is held back too; when the
 * shared memory fails, the card shows and the failure is logged, without patient data.
 * Thread-safe: one mutex around the table; hashing and the shared memory run outside it.
 */
#ifndef MYOCDS_CDS_REPEAT_H
#define MYOCDS_CDS_REPEAT_H

#include "clinical/view.h"
#include "myocds/myocds.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define REPEAT_KEY_BYTES 32       /* an entry's key: HMAC-SHA256 */
#define REPEAT_SECRET_BYTES 32    /* the HMAC secret */
#define REPEAT_DEFAULT_MAX 100000 /* entries kept in memory at most */
#define REPEAT_SHARED_PAUSE_S 30  /* after a shared-memory failure, memory only this long */

enum repeat_verdict {
    REPEAT_SHOW = 0, /* not shown lately: shown now, and remembered from now */
    REPEAT_HOLD,     /* shown within the window: leave it out */
};

/* What a card is about. All borrowed. */
struct repeat_subject {
    const char *fhir_server; /* the request's fhirServer, or NULL */
    const char *patient_id;
    const char *rule_id;
    const char *indicator;
    const unsigned char *order_digest; /* REPEAT_KEY_BYTES from repeat_order_digest() */
};

/* A memory other replicas share. Remembers key as shown now unless it was shown within
 * window_s seconds, and sets *seen to which. Returns 0, or negative when it failed (the
 * card then shows). Thread-safe. */
typedef int (*repeat_shared_fn)(void *ctx, const unsigned char key[REPEAT_KEY_BYTES], long window_s,
                                bool *seen);

/* A memory of at most max entries (max >= 1) keyed with secret (REPEAT_SECRET_BYTES,
 * copied), or with random bytes when secret is NULL. Caller owns it: repeat_free().
 * NULL when out of memory or without randomness. */
struct myocds_repeat *repeat_new(size_t max, const unsigned char *secret);
void repeat_free(struct myocds_repeat *m);

/* Consults fn(ctx, ...) after the memory itself from now on; ctx is borrowed and must
 * outlive m. Call before the memory is shared between threads. */
void repeat_set_shared(struct myocds_repeat *m, repeat_shared_fn fn, void *ctx);

/* The key of s under m's secret. 0, or -1 when a field is missing or hashing failed. */
int repeat_key(const struct myocds_repeat *m, const struct repeat_subject *s,
               unsigned char key[REPEAT_KEY_BYTES]);

/* The same with the secret given (REPEAT_SECRET_BYTES): HMAC-SHA256 over a version tag and
 * each field length-prefixed, so no two subjects share a message (repeat_key.c). */
int repeat_hmac(const unsigned char *secret, const struct repeat_subject *s,
                unsigned char key[REPEAT_KEY_BYTES]);

/* The digest of a draft order's content: its id, medication[x] and dosageInstruction, in a
 * canonical form (members sorted, 20 and 20.0 alike), and drug_id, the drug the service
 * read from it (a changed contained Medication changes it). mr is borrowed. 0, or -1 when
 * the order cannot be digested (too deep, no memory): the card then always shows. */
int repeat_order_digest(const json_object *mr, const char *drug_id,
                        unsigned char out[REPEAT_KEY_BYTES]);

/* Whether the card of key shows: REPEAT_HOLD when it was shown within window_s seconds
 * before now (here, or in the shared memory), else REPEAT_SHOW and it is remembered as
 * shown at now. window_s <= 0: always REPEAT_SHOW, nothing remembered. */
enum repeat_verdict repeat_check(struct myocds_repeat *m, const unsigned char key[REPEAT_KEY_BYTES],
                                 long window_s, long long now);

/* Entries held in memory (live, or expired but not yet forgotten). */
size_t repeat_size(struct myocds_repeat *m);

/* Copies up to cap of the keys held in memory (each as stored: REPEAT_KEY_BYTES) into keys,
 * oldest first; returns how many. For tests and inspection. */
size_t repeat_keys(struct myocds_repeat *m, unsigned char (*keys)[REPEAT_KEY_BYTES], size_t cap);

/* One evaluation, as repeat_hold needs it. All borrowed. */
struct repeat_call {
    struct myocds_repeat *memory; /* NULL: every card shows */
    long window_s;                /* <= 0: every card shows */
    long long now;
    enum cds_hook hook;
    const char *fhir_server; /* NULL when absent */
    const char *patient_id;
    const char *service_id;
    myocds_held_fn on_held; /* told of each card left out, or NULL */
    void *held_ctx;
};

struct card_list;

/* Leaves out of cards (freeing them) each warning or info card about a draft order, on
 * order-select or order-sign, whose rule does not say "repeat": "always" in
 * hooks/rules.json, and which was shown for the same unchanged order of the same patient
 * within the window; the others are remembered as shown now (repeat_filter.c). Two cards of
 * one answer with the same key share one verdict. Returns how many were left out. */
int repeat_hold(const struct repeat_call *call, struct card_list *cards);

#endif

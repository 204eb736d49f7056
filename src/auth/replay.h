/* replay.h - a bounded, thread-safe memory of (iss, jti) pairs until their tokens expire.
 *
 * A pair is kept as 128 bits of its SHA-256, with the time it may be forgotten. The cache
 * is split into partitions (one per trusted issuer), each holding at most max / parts live
 * entries: when a partition is full, expired entries are swept; if none has expired, that
 * partition's new pairs are refused (fail closed) rather than forgetting live ones, and the
 * other partitions are untouched.
 */
#ifndef MYOCDS_AUTH_REPLAY_H
#define MYOCDS_AUTH_REPLAY_H

#include <stddef.h>
#include <time.h>

#define REPLAY_DEFAULT_MAX 100000 /* live jtis remembered at once */

enum replay_result {
    REPLAY_NEW = 0, /* first sight: now remembered until forget_at */
    REPLAY_SEEN,    /* seen before and not yet forgotten */
    REPLAY_FULL,    /* max live entries: not remembered, refuse the token */
    REPLAY_ERROR,   /* out of memory */
};

struct replay_cache;

/* A cache of at most max entries in parts partitions (1 <= parts <= max). Caller owns it:
 * replay_free(). NULL: no memory or bad sizes. */
struct replay_cache *replay_new(size_t max, size_t parts);
void replay_free(struct replay_cache *rc);

/* Remembers (iss, jti) in partition part (< parts) until forget_at unless it is already
 * remembered at now. */
enum replay_result replay_check_add(struct replay_cache *rc, size_t part, const char *iss,
                                    const char *jti, time_t forget_at, time_t now);

/* Forgets (iss, jti) at once, so the token may be checked again (a shared check behind
 * this cache could not be made). Borrowed strings. */
void replay_forget(struct replay_cache *rc, const char *iss, const char *jti);

/* Entries held (live or expired but not yet swept). */
size_t replay_size(struct replay_cache *rc);

#endif

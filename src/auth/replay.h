/* replay.h - a bounded, thread-safe memory of (iss, jti) pairs until their tokens expire.
 *
 * A pair is kept as 128 bits of its SHA-256, with the time it may be forgotten. When the
 * table holds max live entries, expired ones are swept; if none has expired, new pairs are
 * refused (fail closed) rather than forgetting live ones.
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

/* A cache of at most max entries (max >= 1). Caller owns it: replay_free(). NULL: no memory. */
struct replay_cache *replay_new(size_t max);
void replay_free(struct replay_cache *rc);

/* Remembers (iss, jti) until forget_at unless it is already remembered at now. */
enum replay_result replay_check_add(struct replay_cache *rc, const char *iss, const char *jti,
                                    time_t forget_at, time_t now);

/* Entries held (live or expired but not yet swept). */
size_t replay_size(struct replay_cache *rc);

#endif

/* replay.c - jti replay cache: open addressing over 128-bit SHA-256 prefixes, one mutex.
 *
 * The table has at least twice as many slots as entries allowed, so probes stay short.
 * Entries are only removed by a sweep (a rebuild keeping the live ones), run when a
 * partition is full and at most once per second, so a flood of valid tokens costs one
 * sweep a second. Each partition (an issuer) holds at most max / parts live entries: one
 * issuer's flood fills its own share, never another's.
 */
#include "auth/replay.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_MIN_SLOTS 16

struct replay_slot {
    uint64_t h[2];
    int64_t forget_at; /* 0: empty slot */
    size_t part;       /* the partition that holds it */
};

struct replay_cache {
    pthread_mutex_t lock; /* guards everything below */
    struct replay_slot *slots;
    size_t cap; /* a power of two */
    size_t used;
    size_t max;
    size_t parts;      /* partitions, >= 1 */
    size_t quota;      /* live entries one partition may hold: max / parts, >= 1 */
    size_t *part_used; /* per partition */
    time_t last_sweep;
};

struct replay_cache *replay_new(size_t max, size_t parts)
{
    struct replay_cache *rc;
    size_t cap = REPLAY_MIN_SLOTS;
    if (max == 0 || parts == 0 || parts > max || max > SIZE_MAX / 4 / sizeof(struct replay_slot))
        return NULL;
    while (cap < 2 * max)
        cap *= 2;
    rc = calloc(1, sizeof *rc);
    if (rc == NULL)
        return NULL;
    rc->slots = calloc(cap, sizeof *rc->slots);
    rc->part_used = calloc(parts, sizeof *rc->part_used);
    if (rc->slots == NULL || rc->part_used == NULL || pthread_mutex_init(&rc->lock, NULL) != 0) {
        free(rc->slots);
        free(rc->part_used);
        free(rc);
        return NULL;
    }
    rc->cap = cap;
    rc->max = max;
    rc->parts = parts;
    rc->quota = max / parts;
    return rc;
}

void replay_free(struct replay_cache *rc)
{
    if (rc == NULL)
        return;
    pthread_mutex_destroy(&rc->lock);
    free(rc->slots);
    free(rc->part_used);
    free(rc);
}

/* SHA-256(iss NUL jti), first 128 bits. */
static int pair_hash(const char *iss, const char *jti, uint64_t h[2])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, iss, strlen(iss) + 1) == 1 &&
             EVP_DigestUpdate(ctx, jti, strlen(jti)) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &len) == 1 && len >= sizeof(uint64_t) * 2;
    EVP_MD_CTX_free(ctx);
    if (ok)
        memcpy(h, md, sizeof(uint64_t) * 2);
    return ok ? 0 : -1;
}

/* The slot holding h, else the empty slot where it would go. */
static size_t probe(const struct replay_slot *slots, size_t cap, const uint64_t h[2])
{
    size_t i = (size_t)h[0] & (cap - 1);
    while (slots[i].forget_at != 0 && (slots[i].h[0] != h[0] || slots[i].h[1] != h[1]))
        i = (i + 1) & (cap - 1);
    return i;
}

/* Rebuilds the table without the entries forgotten by now. Caller holds the lock. */
static int sweep(struct replay_cache *rc, time_t now)
{
    struct replay_slot *fresh = calloc(rc->cap, sizeof *fresh);
    size_t used = 0;
    if (fresh == NULL)
        return -1;
    memset(rc->part_used, 0, rc->parts * sizeof *rc->part_used);
    for (size_t i = 0; i < rc->cap; i++) {
        const struct replay_slot *s = &rc->slots[i];
        if (s->forget_at == 0 || s->forget_at <= (int64_t)now)
            continue;
        fresh[probe(fresh, rc->cap, s->h)] = *s;
        rc->part_used[s->part]++;
        used++;
    }
    free(rc->slots);
    rc->slots = fresh;
    rc->used = used;
    return 0;
}

enum replay_result replay_check_add(struct replay_cache *rc, size_t part, const char *iss,
                                    const char *jti, time_t forget_at, time_t now)
{
    uint64_t h[2];
    enum replay_result res = REPLAY_NEW;
    if (part >= rc->parts || pair_hash(iss, jti, h) != 0)
        return REPLAY_ERROR;
    int64_t until = forget_at > 0 ? (int64_t)forget_at : 1;
    pthread_mutex_lock(&rc->lock);
    size_t i = probe(rc->slots, rc->cap, h);
    if (rc->slots[i].forget_at != 0) {
        if (rc->slots[i].forget_at > (int64_t)now)
            res = REPLAY_SEEN;
        else
            rc->slots[i].forget_at = until; /* expired: remembered afresh */
        goto out;
    }
    if (rc->part_used[part] >= rc->quota && rc->last_sweep != now) {
        rc->last_sweep = now;
        if (sweep(rc, now) != 0) {
            res = REPLAY_ERROR;
            goto out;
        }
        i = probe(rc->slots, rc->cap, h);
    }
    if (rc->part_used[part] >= rc->quota) {
        res = REPLAY_FULL;
        goto out;
    }
    rc->slots[i] = (struct replay_slot){.h = {h[0], h[1]}, .forget_at = until, .part = part};
    rc->used++;
    rc->part_used[part]++;
out:
    pthread_mutex_unlock(&rc->lock);
    return res;
}

void replay_forget(struct replay_cache *rc, const char *iss, const char *jti)
{
    uint64_t h[2];
    if (pair_hash(iss, jti, h) != 0)
        return;
    pthread_mutex_lock(&rc->lock);
    size_t i = probe(rc->slots, rc->cap, h);
    if (rc->slots[i].forget_at != 0)
        rc->slots[i].forget_at = 1; /* expired: the slot stays (probes go on) until a sweep */
    pthread_mutex_unlock(&rc->lock);
}

size_t replay_size(struct replay_cache *rc)
{
    pthread_mutex_lock(&rc->lock);
    size_t n = rc->used;
    pthread_mutex_unlock(&rc->lock);
    return n;
}

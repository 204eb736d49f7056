/* repeat.c - the memory of cards shown: a ring of entries in insertion order, chained
 * into hash buckets, one mutex.
 *
 * The ring holds at most max entries: a new one goes after the newest; when the ring is
 * full the oldest is forgotten, and expired ones are forgotten from the oldest on before
 * each insertion, so the memory never grows past max. A key shown again after its window
 * gets a fresh entry; its old one is unlinked from its bucket at once and leaves the ring
 * when its turn as the oldest comes.
 */
#include "cds/repeat.h"

#include "util/log.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPEAT_NONE UINT32_MAX       /* end of a bucket's chain */
#define REPEAT_DEAD (UINT32_MAX - 1) /* an entry unlinked, waiting to leave the ring */

struct repeat_entry {
    unsigned char key[REPEAT_KEY_BYTES];
    int64_t shown_at;
    uint32_t next; /* the next entry of its bucket, REPEAT_NONE, or REPEAT_DEAD */
};

struct myocds_repeat {
    pthread_mutex_t lock; /* guards ring, bucket, head and n */
    struct repeat_entry *ring;
    uint32_t *bucket; /* nbucket heads, REPEAT_NONE when empty */
    size_t nbucket;   /* a power of two, >= max */
    size_t max;
    size_t head; /* the oldest entry */
    size_t n;
    unsigned char secret[REPEAT_SECRET_BYTES];
    repeat_shared_fn shared;
    void *shared_ctx;
    atomic_llong shared_paused_until; /* wall-clock second: memory only until then */
};

struct myocds_repeat *repeat_new(size_t max, const unsigned char *secret)
{
    size_t nb = 16;
    if (max == 0 || max >= REPEAT_DEAD || max > SIZE_MAX / 4 / sizeof(struct repeat_entry))
        return NULL;
    while (nb < max)
        nb *= 2;
    struct myocds_repeat *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->ring = calloc(max, sizeof *m->ring);
    m->bucket = malloc(nb * sizeof *m->bucket);
    bool keyed = true;
    if (secret != NULL)
        memcpy(m->secret, secret, sizeof m->secret);
    else
        keyed = RAND_bytes(m->secret, (int)sizeof m->secret) == 1;
    if (m->ring == NULL || m->bucket == NULL || !keyed || pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m->ring);
        free(m->bucket);
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < nb; i++)
        m->bucket[i] = REPEAT_NONE;
    m->nbucket = nb;
    m->max = max;
    atomic_init(&m->shared_paused_until, 0);
    return m;
}

void repeat_free(struct myocds_repeat *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->ring);
    free(m->bucket);
    OPENSSL_cleanse(m->secret, sizeof m->secret);
    free(m);
}

void repeat_set_shared(struct myocds_repeat *m, repeat_shared_fn fn, void *ctx)
{
    m->shared = fn;
    m->shared_ctx = ctx;
}

int repeat_key(const struct myocds_repeat *m, const struct repeat_subject *s,
               unsigned char key[REPEAT_KEY_BYTES])
{
    return repeat_hmac(m->secret, s, key);
}

static size_t bucket_of(const struct myocds_repeat *m, const unsigned char *key)
{
    uint64_t h;
    memcpy(&h, key, sizeof h); /* the key is an HMAC: any 8 bytes are uniform */
    return (size_t)h & (m->nbucket - 1);
}

/* The entry holding key, or REPEAT_NONE. Caller holds the lock. */
static uint32_t find(const struct myocds_repeat *m, const unsigned char *key)
{
    uint32_t i = m->bucket[bucket_of(m, key)];
    while (i != REPEAT_NONE && memcmp(m->ring[i].key, key, REPEAT_KEY_BYTES) != 0)
        i = m->ring[i].next;
    return i;
}

/* Takes entry i out of its bucket's chain and marks it dead. Caller holds the lock. */
static void unlink_entry(struct myocds_repeat *m, uint32_t i)
{
    uint32_t *link = &m->bucket[bucket_of(m, m->ring[i].key)];
    while (*link != REPEAT_NONE && *link != i)
        link = &m->ring[*link].next;
    if (*link == i)
        *link = m->ring[i].next;
    m->ring[i].next = REPEAT_DEAD;
}

/* Forgets the oldest entry. Caller holds the lock; m->n > 0. */
static void pop_oldest(struct myocds_repeat *m)
{
    uint32_t i = (uint32_t)m->head;
    if (m->ring[i].next != REPEAT_DEAD)
        unlink_entry(m, i);
    m->head = (m->head + 1) % m->max;
    m->n--;
}

/* Remembers key as shown at now, forgetting expired entries (and the oldest when full)
 * first. Caller holds the lock. */
static void remember(struct myocds_repeat *m, const unsigned char *key, long window_s,
                     long long now)
{
    uint32_t old = find(m, key);
    if (old != REPEAT_NONE)
        unlink_entry(m, old);
    while (m->n > 0 && (m->ring[m->head].next == REPEAT_DEAD ||
                        now - m->ring[m->head].shown_at >= (long long)window_s))
        pop_oldest(m);
    if (m->n == m->max)
        pop_oldest(m);
    uint32_t i = (uint32_t)((m->head + m->n) % m->max);
    size_t b = bucket_of(m, key);
    memcpy(m->ring[i].key, key, REPEAT_KEY_BYTES);
    m->ring[i].shown_at = now;
    m->ring[i].next = m->bucket[b];
    m->bucket[b] = i;
    m->n++;
}

/* True when the memory itself holds key shown within window_s before now. */
static bool seen_here(struct myocds_repeat *m, const unsigned char *key, long window_s,
                      long long now)
{
    pthread_mutex_lock(&m->lock);
    uint32_t i = find(m, key);
    bool seen = i != REPEAT_NONE && now - m->ring[i].shown_at < (long long)window_s &&
                now >= m->ring[i].shown_at;
    pthread_mutex_unlock(&m->lock);
    return seen;
}

/* Asks the shared memory; false (show) when there is none, it is paused or it fails. */
static bool seen_shared(struct myocds_repeat *m, const unsigned char *key, long window_s)
{
    bool seen = false;
    long long wall = (long long)time(NULL);
    if (m->shared == NULL || wall < atomic_load(&m->shared_paused_until))
        return false;
    if (m->shared(m->shared_ctx, key, window_s, &seen) == 0)
        return seen;
    /* Fail open: the card shows. One line per pause, never a key or patient datum. */
    atomic_store(&m->shared_paused_until, wall + REPEAT_SHARED_PAUSE_S);
    log_error("repeat: the shared memory of cards shown failed; for %d s only cards this "
              "replica showed are held back",
              REPEAT_SHARED_PAUSE_S);
    return false;
}

enum repeat_verdict repeat_check(struct myocds_repeat *m, const unsigned char key[REPEAT_KEY_BYTES],
                                 long window_s, long long now)
{
    if (m == NULL || window_s <= 0)
        return REPEAT_SHOW;
    if (seen_here(m, key, window_s, now) || seen_shared(m, key, window_s))
        return REPEAT_HOLD;
    pthread_mutex_lock(&m->lock);
    remember(m, key, window_s, now);
    pthread_mutex_unlock(&m->lock);
    return REPEAT_SHOW;
}

size_t repeat_size(struct myocds_repeat *m)
{
    pthread_mutex_lock(&m->lock);
    size_t n = m->n;
    pthread_mutex_unlock(&m->lock);
    return n;
}

size_t repeat_keys(struct myocds_repeat *m, unsigned char (*keys)[REPEAT_KEY_BYTES], size_t cap)
{
    size_t k = 0;
    pthread_mutex_lock(&m->lock);
    for (size_t j = 0; j < m->n && k < cap; j++) {
        const struct repeat_entry *e = &m->ring[(m->head + j) % m->max];
        if (e->next != REPEAT_DEAD)
            memcpy(keys[k++], e->key, REPEAT_KEY_BYTES);
    }
    pthread_mutex_unlock(&m->lock);
    return k;
}

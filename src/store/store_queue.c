/* store_queue.c - the queue of cards issued and of calls counted, and its flusher thread
 * (store_backend.h).
 *
 * Request threads stamp and copy each card into q.pending under q.lock (a memcpy, no
 * I/O); the flusher thread swaps pending for an empty buffer and writes the batch in one
 * transaction outside the lock. A batch the store refused is kept and retried on the next
 * round; while it waits, new cards still queue up to STORE_QUEUE_MAX. Calls are summed
 * per (service, hour) in q.calls (a few slots) and written in the same transaction.
 */
#include "store/store_backend.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_MS 1000000L
#define NS_PER_S 1000000000L

void store_now(char *out)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, STORE_TS_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, STORE_TS_MAX - n, ".%03ldZ", ts.tv_nsec / NS_PER_MS);
}

/* Copies src into dst[cap]; false when it does not fit (the row is not ours to keep). */
static bool copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;
    if (n == 0 || n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* Copies an optional src into dst[cap]: "" when absent or too long. */
static void copy_optional(char *dst, size_t cap, const char *src)
{
    if (src == NULL || !copy_field(dst, cap, src))
        dst[0] = '\0';
}

int store_cards_issued(struct store *st, const char *service_id, const struct store_who *who,
                       const struct store_card *cards, size_t n, struct myocds_err *err)
{
    struct store_queue *q = &st->q;
    char now[STORE_TS_MAX];
    size_t lost = 0;
    if (n == 0)
        return 0;
    store_now(now);
    pthread_mutex_lock(&q->lock);
    bool full = n > STORE_QUEUE_MAX - q->n; /* all of a call's cards, or none */
    for (size_t i = 0; i < n; i++) {
        struct store_issue *r = &q->pending[q->n];
        if (full || !copy_field(r->service_id, sizeof r->service_id, service_id) ||
            !copy_field(r->card_uuid, sizeof r->card_uuid, cards[i].card_uuid) ||
            !copy_field(r->rule_id, sizeof r->rule_id, cards[i].rule_id)) {
            lost++;
            continue;
        }
        memcpy(r->issued_at, now, sizeof now);
        copy_optional(r->iss, sizeof r->iss, who != NULL ? who->iss : NULL);
        copy_optional(r->tenant, sizeof r->tenant, who != NULL ? who->tenant : NULL);
        q->n++;
    }
    q->dropped += lost;
    if (q->n >= STORE_FLUSH_ROWS)
        pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
    return lost == 0 ? 0 : myocds_err_set(err, 503, "%zu card(s) not recorded", lost);
}

/* Adds calls and cards to the slot of (service_id, hour) in v[*n], taking a new slot when
 * needed; false when all STORE_CALLS_SLOTS are taken by other pairs. */
static bool add_calls(struct store_calls *v, size_t *n, const char *service_id, const char *hour,
                      long long calls, long long cards)
{
    size_t i = 0;
    while (i < *n && (strcmp(v[i].hour, hour) != 0 || strcmp(v[i].service_id, service_id) != 0))
        i++;
    if (i == *n) {
        if (*n == STORE_CALLS_SLOTS)
            return false;
        memset(&v[i], 0, sizeof v[i]);
        memcpy(v[i].service_id, service_id, strlen(service_id) + 1);
        memcpy(v[i].hour, hour, strlen(hour) + 1);
        (*n)++;
    }
    v[i].calls += calls;
    v[i].cards += cards;
    return true;
}

int store_call_counted(struct store *st, const char *service_id, size_t n_cards,
                       struct myocds_err *err)
{
    struct store_queue *q = &st->q;
    char hour[STORE_TS_MAX];
    size_t n = service_id != NULL ? strlen(service_id) : 0;
    if (n == 0 || n >= STORE_SERVICE_MAX)
        return myocds_err_set(err, 503, "call not counted");
    store_now(hour);
    memcpy(hour + STORE_HOUR_LEN, ":00:00.000Z", sizeof ":00:00.000Z"); /* the hour's start */
    pthread_mutex_lock(&q->lock);
    bool ok = add_calls(q->calls, &q->n_calls, service_id, hour, 1, (long long)n_cards);
    if (!ok)
        q->calls_dropped++;
    pthread_mutex_unlock(&q->lock);
    return ok ? 0 : myocds_err_set(err, 503, "call not counted");
}

/* Moves the summed calls into the batch's (merged with a failed batch's); a pair that finds
 * no slot there stays for the next round. Under q->lock. */
static void take_calls(struct store_queue *q)
{
    size_t kept = 0;
    for (size_t i = 0; i < q->n_calls; i++) {
        const struct store_calls *c = &q->calls[i];
        if (!add_calls(q->calls_writing, &q->n_calls_writing, c->service_id, c->hour, c->calls,
                       c->cards))
            q->calls[kept++] = *c;
    }
    q->n_calls = kept;
}

/* Moves pending into writing (appending when a failed batch waits there). Under q->lock. */
static void take_pending(struct store_queue *q)
{
    size_t room = STORE_QUEUE_MAX - q->n_writing;
    size_t k = q->n < room ? q->n : room;
    memcpy(q->writing + q->n_writing, q->pending, k * sizeof *q->pending);
    q->n_writing += k;
    memmove(q->pending, q->pending + k, (q->n - k) * sizeof *q->pending);
    q->n -= k;
}

/* One round: write what is queued. Called by the flusher only, without q->lock. False
 * when the store refused the batch (kept for the next round unless last). */
static bool flush_round(struct store *st, bool last)
{
    struct store_queue *q = &st->q;
    struct myocds_err err = {0};
    pthread_mutex_lock(&q->lock);
    take_pending(q);
    take_calls(q);
    size_t n = q->n_writing;
    size_t n_calls = q->n_calls_writing;
    pthread_mutex_unlock(&q->lock);
    if ((n > 0 || n_calls > 0) &&
        st->ops->put_issues(st, q->writing, n, q->calls_writing, n_calls, &err) != 0) {
        log_error("store: %zu card(s) issued, %zu call count(s) not written yet: %s", n, n_calls,
                  err.msg);
        if (!last)
            return false; /* kept for the next round */
        pthread_mutex_lock(&q->lock);
        q->dropped += n;
        for (size_t i = 0; i < n_calls; i++)
            q->calls_dropped += (unsigned long long)q->calls_writing[i].calls;
        pthread_mutex_unlock(&q->lock);
    }
    q->n_writing = 0;
    q->n_calls_writing = 0;
    return true;
}

/* *t = now + ms on the realtime clock (pthread_cond_timedwait's). */
static void deadline_in(struct timespec *t, long ms)
{
    clock_gettime(CLOCK_REALTIME, t);
    t->tv_nsec += ms * NS_PER_MS;
    if (t->tv_nsec >= NS_PER_S) {
        t->tv_sec += t->tv_nsec / NS_PER_S;
        t->tv_nsec %= NS_PER_S;
    }
}

static void *flusher(void *arg)
{
    struct store *st = arg;
    struct store_queue *q = &st->q;
    bool failed = false; /* after a refused batch, wait a full period before retrying */
    pthread_mutex_lock(&q->lock);
    while (!q->stop) {
        struct timespec until;
        deadline_in(&until, STORE_FLUSH_MS);
        while (!q->stop && (failed || (!q->flush_now && q->n < STORE_FLUSH_ROWS))) {
            if (pthread_cond_timedwait(&q->wake, &q->lock, &until) == ETIMEDOUT)
                break;
        }
        q->flush_now = false;
        pthread_mutex_unlock(&q->lock);
        failed = !flush_round(st, false);
        pthread_mutex_lock(&q->lock);
        q->flushes++;
        pthread_cond_broadcast(&q->done);
    }
    pthread_mutex_unlock(&q->lock);
    flush_round(st, true);
    return NULL;
}

int store_base_init(struct store *st, const struct store_ops *ops, struct myocds_err *err)
{
    struct store_queue *q = &st->q;
    st->ops = ops;
    q->pending = calloc(STORE_QUEUE_MAX, sizeof *q->pending);
    q->writing = calloc(STORE_QUEUE_MAX, sizeof *q->writing);
    if (q->pending == NULL || q->writing == NULL)
        goto fail;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    pthread_cond_init(&q->done, NULL);
    if (pthread_create(&q->thread, NULL, flusher, st) != 0) {
        pthread_cond_destroy(&q->done);
        pthread_cond_destroy(&q->wake);
        pthread_mutex_destroy(&q->lock);
        goto fail;
    }
    q->running = true;
    return 0;
fail:
    free(q->pending);
    free(q->writing);
    q->pending = q->writing = NULL;
    return myocds_err_set(err, 500, "cannot start the card queue");
}

void store_base_close(struct store *st)
{
    struct store_queue *q = &st->q;
    if (!q->running)
        return;
    pthread_mutex_lock(&q->lock);
    q->stop = true;
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->thread, NULL);
    q->running = false;
    if (q->n > 0 || q->dropped > 0)
        log_error("store: %llu card(s) issued were never written",
                  q->dropped + (unsigned long long)q->n);
    if (q->n_calls > 0 || q->calls_dropped > 0)
        log_error("store: some calls were never counted (%llu known)", q->calls_dropped);
    pthread_cond_destroy(&q->done);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
    free(q->pending);
    free(q->writing);
    q->pending = q->writing = NULL;
}

void store_flush(struct store *st)
{
    struct store_queue *q = &st->q;
    pthread_mutex_lock(&q->lock);
    /* Two completed rounds: the one running now may have taken its batch before the call. */
    unsigned long long target = q->flushes + 2;
    q->flush_now = true;
    pthread_cond_broadcast(&q->wake);
    while (q->running && !q->stop && q->flushes < target) {
        pthread_cond_wait(&q->done, &q->lock);
        if (q->flushes < target) {
            q->flush_now = true;
            pthread_cond_broadcast(&q->wake);
        }
    }
    pthread_mutex_unlock(&q->lock);
}

unsigned long long store_dropped(struct store *st)
{
    pthread_mutex_lock(&st->q.lock);
    unsigned long long n = st->q.dropped;
    pthread_mutex_unlock(&st->q.lock);
    return n;
}

/* conn_guard.c - the request deadline's sweeper (see conn_guard.h). */
#include "http/conn_guard.h"

#include "http/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

#define GUARD_SWEEP_MS 250L /* how often the sweeper looks: the deadline's precision */

struct conn_guard {
    pthread_mutex_t lock; /* guards the list, every watch's armed/due and stop */
    pthread_cond_t wake;  /* signalled to stop */
    struct conn_watch *head;
    unsigned deadline_s;
    bool stop;
    pthread_t thread;
    conn_guard_tick_fn tick;
    void *tick_ctx;
};

static bool past(const struct timespec *now, const struct timespec *due)
{
    return now->tv_sec > due->tv_sec ||
           (now->tv_sec == due->tv_sec && now->tv_nsec >= due->tv_nsec);
}

/* Shuts down every armed connection past its deadline. Caller holds g->lock. */
static void sweep(struct conn_guard *g)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    for (struct conn_watch *w = g->head; w != NULL; w = w->next) {
        if (!w->armed || !past(&now, &w->due))
            continue;
        w->armed = false;
        (void)shutdown(w->fd, SHUT_RDWR); /* MHD sees the error and closes it */
        metrics_dropped(METRICS_DROP_DEADLINE);
    }
}

static void *sweeper(void *arg)
{
    struct conn_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until); /* pthread_cond_timedwait's clock */
        until.tv_nsec += GUARD_SWEEP_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc = pthread_cond_timedwait(&g->wake, &g->lock, &until);
        if (rc == ETIMEDOUT && !g->stop)
            sweep(g);
        if (rc == ETIMEDOUT && !g->stop && g->tick != NULL) {
            pthread_mutex_unlock(&g->lock);
            g->tick(g->tick_ctx);
            pthread_mutex_lock(&g->lock);
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int conn_guard_start(unsigned deadline_s, conn_guard_tick_fn tick, void *tick_ctx,
                     struct conn_guard **out)
{
    struct conn_guard *g = calloc(1, sizeof *g);
    *out = NULL;
    if (g == NULL)
        return -1;
    g->deadline_s = deadline_s > 0 ? deadline_s : 1;
    g->tick = tick;
    g->tick_ctx = tick_ctx;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    if (pthread_create(&g->thread, NULL, sweeper, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return -1;
    }
    *out = g;
    return 0;
}

void conn_guard_free(struct conn_guard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    g->stop = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

/* Arms or disarms w. Caller holds g->lock. */
static void set_armed(struct conn_guard *g, struct conn_watch *w, bool armed)
{
    w->armed = armed;
    if (armed) {
        clock_gettime(CLOCK_MONOTONIC, &w->due);
        w->due.tv_sec += (time_t)g->deadline_s;
    }
}

void conn_guard_open(struct conn_guard *g, struct conn_watch *w, int fd)
{
    w->fd = fd;
    w->prev = NULL;
    pthread_mutex_lock(&g->lock);
    w->next = g->head;
    if (g->head != NULL)
        g->head->prev = w;
    g->head = w;
    set_armed(g, w, true);
    pthread_mutex_unlock(&g->lock);
}

void conn_guard_close(struct conn_guard *g, struct conn_watch *w)
{
    pthread_mutex_lock(&g->lock);
    if (w->prev != NULL)
        w->prev->next = w->next;
    else if (g->head == w)
        g->head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->armed = false;
    pthread_mutex_unlock(&g->lock);
}

void conn_guard_arm(struct conn_guard *g, struct conn_watch *w, bool armed)
{
    pthread_mutex_lock(&g->lock);
    set_armed(g, w, armed);
    pthread_mutex_unlock(&g->lock);
}

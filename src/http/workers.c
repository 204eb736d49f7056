/* workers.c - a fixed pool of threads that run queued jobs in order (see workers.h). */
#include "http/workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct workers {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct work_item *head;
    struct work_item *tail;
    unsigned queued;     /* jobs in the list */
    unsigned max_queued; /* 0: no bound */
    bool stop;
    bool joined;
    work_fn fn;
    void *ctx;
    unsigned n;
    pthread_t threads[]; /* n */
};

static void *worker(void *arg)
{
    struct workers *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->head == NULL && !w->stop)
            pthread_cond_wait(&w->ready, &w->lock);
        struct work_item *job = w->head;
        if (job == NULL)
            break; /* stopping, and nothing left to run */
        w->head = job->next;
        if (w->head == NULL)
            w->tail = NULL;
        w->queued--;
        pthread_mutex_unlock(&w->lock);
        job->next = NULL;
        w->fn(job, w->ctx);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int workers_start(unsigned n, unsigned max_queued, work_fn fn, void *ctx, struct workers **out)
{
    if (n == 0)
        n = 1;
    struct workers *w = calloc(1, sizeof *w + n * sizeof w->threads[0]);
    *out = NULL;
    if (w == NULL)
        return -1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->ready, NULL);
    w->fn = fn;
    w->ctx = ctx;
    w->max_queued = max_queued;
    for (; w->n < n; w->n++) {
        if (pthread_create(&w->threads[w->n], NULL, worker, w) != 0) {
            workers_free(w);
            return -1;
        }
    }
    *out = w;
    return 0;
}

int workers_push(struct workers *w, struct work_item *job)
{
    job->next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->stop || (w->max_queued != 0 && w->queued >= w->max_queued)) {
        int rc = w->stop ? WORKERS_STOPPING : WORKERS_FULL;
        pthread_mutex_unlock(&w->lock);
        return rc;
    }
    w->queued++;
    if (w->tail != NULL)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    pthread_cond_signal(&w->ready);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

void workers_cancel(struct workers *w, work_fn cancel)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    struct work_item *job = w->head;
    w->head = w->tail = NULL;
    w->queued = 0;
    pthread_cond_broadcast(&w->ready);
    pthread_mutex_unlock(&w->lock);
    while (job != NULL) {
        struct work_item *next = job->next;
        job->next = NULL;
        cancel(job, w->ctx);
        job = next;
    }
}

void workers_drain(struct workers *w)
{
    if (w == NULL || w->joined)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->ready);
    pthread_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    w->joined = true;
}

void workers_free(struct workers *w)
{
    if (w == NULL)
        return;
    workers_drain(w);
    pthread_cond_destroy(&w->ready);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

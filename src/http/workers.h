/* workers.h - a fixed pool of threads that run queued jobs, first in first out.
 *
 * The HTTP server reads requests in one polling thread and hands each complete one to
 * this pool (suspending its connection until the answer is ready): a request is parsed and
 * evaluated by one of N threads, however many connections are open. So only N threads
 * ever build a request's JSON tree, and glibc keeps N malloc arenas busy instead of one
 * per connection's thread; requests wait their turn in arrival order instead of sharing
 * the CPUs among as many threads as there are connections.
 */
#ifndef MYOCDS_HTTP_WORKERS_H
#define MYOCDS_HTTP_WORKERS_H

/* A job's link in the queue: the first member of the caller's job struct. */
struct work_item {
    struct work_item *next;
};

/* Runs one job, on a pool thread; ctx is workers_start's. */
typedef void (*work_fn)(struct work_item *job, void *ctx);

struct workers;

/* Starts n (at least 1) threads running fn, with at most max_queued jobs waiting (0: no
 * bound). Returns 0, or -1 (nothing started). *out owned: workers_free() it. */
int workers_start(unsigned n, unsigned max_queued, work_fn fn, void *ctx, struct workers **out);

/* Queues job (borrowed until fn, or workers_cancel's cancel, has run it). Thread-safe.
 * Returns 0, WORKERS_FULL when max_queued jobs wait already, or WORKERS_STOPPING once
 * workers_cancel() or workers_drain() has begun (job not queued either way). */
#define WORKERS_FULL (-2)
#define WORKERS_STOPPING (-1)
int workers_push(struct workers *w, struct work_item *job);

/* Refuses new jobs and hands every job still waiting to cancel(job, ctx) instead of fn,
 * on the calling thread; jobs running go on. NULL w: no-op. */
void workers_cancel(struct workers *w, work_fn cancel);

/* Refuses new jobs, runs every job still queued, and joins the threads (NULL: no-op). */
void workers_drain(struct workers *w);

/* Frees w, drained first if it was not (NULL: no-op). */
void workers_free(struct workers *w);

#endif

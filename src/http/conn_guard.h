/* conn_guard.h - a deadline for the whole head and body of each request.
 *
 * libmicrohttpd's own timeout is an idle timeout: a client sending one byte every
 * http.timeout_s - 1 seconds keeps a connection (and its slot) for ever. The guard gives
 * each request http.request_deadline_s from the connection's opening (or from the previous
 * answer on a kept-alive connection) until its head and body are in; past it, a sweeper
 * thread shuts the socket down (shutdown(2), SHUT_RDWR) and libmicrohttpd closes the
 * connection as it would any broken one. A call being evaluated, or its answer being
 * sent, is not under the deadline.
 *
 * A watch is registered when libmicrohttpd reports the connection started and removed when
 * it reports it closed, which it does before it closes the socket: the sweeper holds the
 * guard's lock while it shuts a socket down, so it never touches a descriptor that was
 * closed and reused.
 */
#ifndef MYOCDS_HTTP_CONN_GUARD_H
#define MYOCDS_HTTP_CONN_GUARD_H

#include <stdbool.h>
#include <time.h>

struct conn_guard;

/* One connection's entry: embedded in the caller's per-connection struct. */
struct conn_watch {
    struct conn_watch *prev;
    struct conn_watch *next;
    int fd;
    bool armed;          /* reading a request's head or body */
    struct timespec due; /* CLOCK_MONOTONIC, when armed */
};

/* Called by the sweeper on every round (about every 250 ms), without the guard's lock: the
 * server's periodic chores (memory given back when idle). */
typedef void (*conn_guard_tick_fn)(void *ctx);

/* Starts the sweeper (deadline_s >= 1), calling tick (when not NULL) with tick_ctx on every
 * round. 0, or -1 (nothing started). *out owned: conn_guard_free(). */
int conn_guard_start(unsigned deadline_s, conn_guard_tick_fn tick, void *tick_ctx,
                     struct conn_guard **out);

/* Stops the sweeper and frees g; every watch must be closed first. NULL: no-op. */
void conn_guard_free(struct conn_guard *g);

/* Registers w for socket fd, armed (the first request's deadline runs from now). */
void conn_guard_open(struct conn_guard *g, struct conn_watch *w, int fd);

/* Unregisters w (the connection closes). */
void conn_guard_close(struct conn_guard *g, struct conn_watch *w);

/* The request's head and body are in (disarm), or its answer went out and the next
 * request's deadline starts now (arm). */
void conn_guard_arm(struct conn_guard *g, struct conn_watch *w, bool armed);

#endif

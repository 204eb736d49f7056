/* linger.c - the lingering close's thread (see linger.h). */
#include "http/linger.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINGER_READ 65536 /* bytes dropped per read */
#define LINGER_TICK_MS 100

struct linger_sock {
    int fd;
    size_t left;         /* bytes still to drop */
    struct timespec due; /* CLOCK_MONOTONIC */
};

struct linger_set {
    pthread_mutex_t lock; /* guards added, n_added and stop */
    struct linger_sock added[LINGER_MAX];
    size_t n_added;
    size_t n_live; /* the thread's own count (socks), read under lock by linger_add */
    bool stop;
    unsigned ms;
    int wake; /* eventfd: a socket added, or stop */
    pthread_t thread;
};

static bool past(const struct timespec *due)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > due->tv_sec || (now.tv_sec == due->tv_sec && now.tv_nsec >= due->tv_nsec);
}

/* Drops what s's socket has to read; false when s is done (end, error, bytes, time). */
static bool drain(struct linger_sock *s, char *buf)
{
    for (;;) {
        ssize_t n = recv(s->fd, buf, LINGER_READ, MSG_DONTWAIT);
        if (n > 0) {
            s->left = (size_t)n >= s->left ? 0 : s->left - (size_t)n;
            if (s->left == 0)
                return false;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return !past(&s->due);
        if (n < 0 && errno == EINTR)
            continue;
        return false; /* end of stream, or an error */
    }
}

/* Moves what linger_add queued into socks. Caller holds l->lock. */
static size_t take_added(struct linger_set *l, struct linger_sock *socks, size_t n)
{
    for (size_t i = 0; i < l->n_added && n < LINGER_MAX; i++)
        socks[n++] = l->added[i];
    l->n_added = 0;
    l->n_live = n;
    return n;
}

static void *run(void *arg)
{
    struct linger_set *l = arg;
    struct linger_sock socks[LINGER_MAX];
    struct pollfd p[LINGER_MAX + 1];
    char *buf = malloc(LINGER_READ);
    size_t n = 0;
    for (;;) {
        pthread_mutex_lock(&l->lock);
        bool stop = l->stop;
        n = take_added(l, socks, n);
        pthread_mutex_unlock(&l->lock);
        if (stop || buf == NULL)
            break;
        p[0] = (struct pollfd){.fd = l->wake, .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            p[i + 1] = (struct pollfd){.fd = socks[i].fd, .events = POLLIN};
        if (poll(p, (nfds_t)n + 1, LINGER_TICK_MS) < 0 && errno != EINTR)
            break;
        if (p[0].revents != 0) {
            uint64_t v;
            (void)!read(l->wake, &v, sizeof v);
        }
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            bool on = p[i + 1].revents != 0 ? drain(&socks[i], buf) : !past(&socks[i].due);
            if (on)
                socks[kept++] = socks[i];
            else
                close(socks[i].fd);
        }
        n = kept;
    }
    for (size_t i = 0; i < n; i++)
        close(socks[i].fd);
    free(buf);
    return NULL;
}

int linger_start(unsigned ms, struct linger_set **out)
{
    struct linger_set *l = calloc(1, sizeof *l);
    *out = NULL;
    if (l == NULL)
        return -1;
    l->ms = ms > 0 ? ms : 1;
    l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&l->lock, NULL);
    if (l->wake < 0 || pthread_create(&l->thread, NULL, run, l) != 0) {
        if (l->wake >= 0)
            close(l->wake);
        pthread_mutex_destroy(&l->lock);
        free(l);
        return -1;
    }
    *out = l;
    return 0;
}

/* Wakes the thread. */
static void wake(struct linger_set *l)
{
    uint64_t one = 1;
    (void)!write(l->wake, &one, sizeof one);
}

void linger_free(struct linger_set *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    pthread_mutex_unlock(&l->lock);
    wake(l);
    pthread_join(l->thread, NULL);
    for (size_t i = 0; i < l->n_added; i++)
        close(l->added[i].fd);
    close(l->wake);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

bool linger_add(struct linger_set *l, int fd, size_t bytes)
{
    struct linger_sock s = {.left =
                                bytes == 0 || bytes > LINGER_MAX_BYTES ? LINGER_MAX_BYTES : bytes};
    clock_gettime(CLOCK_MONOTONIC, &s.due);
    s.due.tv_sec += (time_t)(l->ms / 1000U);
    s.due.tv_nsec += (long)(l->ms % 1000U) * 1000000L;
    if (s.due.tv_nsec >= 1000000000L) {
        s.due.tv_sec++;
        s.due.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&l->lock);
    bool room = !l->stop && l->n_live + l->n_added < LINGER_MAX;
    if (room && (s.fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) >= 0)
        l->added[l->n_added++] = s;
    else
        room = false;
    pthread_mutex_unlock(&l->lock);
    if (room)
        wake(l);
    return room;
}

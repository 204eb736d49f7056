/* body_keep.h - a connection's buffers, kept between its requests: the request body and
 * the answer.
 *
 * The next body on a keep-alive connection is written into memory already faulted in,
 * instead of a fresh allocation grown by doubling and freed again after every request.
 * The answer is copied into the connection's answer buffer by the pool thread that made
 * it, which then frees its own allocation: a free from libmicrohttpd's thread into a pool
 * thread's malloc arena would contend for that arena's lock and, once the freed block
 * coalesces past 64 KiB, make glibc consolidate the whole arena from the other CPU.
 * Both buffers are owned by the connection (its struct body_keep lives in the server's
 * per-connection context, made and freed on libmicrohttpd's connection notifications); the
 * body is lent to the request in flight.
 */
#ifndef MYOCDS_HTTP_BODY_KEEP_H
#define MYOCDS_HTTP_BODY_KEEP_H

#include <stddef.h>

#define BODY_KEEP_MAX ((size_t)256 * 1024) /* a larger buffer is freed, not kept */

struct body_keep {
    char *body;
    size_t cap;
    char *answer; /* the last answer sent on the connection, or NULL */
    size_t answer_cap;
};

/* Frees k's buffers (k itself is the caller's: part of its per-connection struct). */
void body_keep_release(struct body_keep *k);

/* Lends the kept buffer to a request that has none yet (*body NULL): the request owns it
 * until body_keep_return. k may be NULL. */
void body_keep_lend(struct body_keep *k, char **body, size_t *cap);

/* Takes a request's buffer (owned, may be NULL) back for the connection's next request,
 * or frees it (too large, or k NULL). */
void body_keep_return(struct body_keep *k, char *body, size_t cap);

/* Copies answer (len bytes, the caller's: it still frees it) into k's answer buffer, grown
 * as needed, and returns that copy: borrowed, valid until the connection's next answer
 * or its close, so it suits MHD_RESPMEM_PERSISTENT. NULL (k NULL, len 0 or over
 * BODY_KEEP_MAX, out of memory): send answer itself. */
const char *body_keep_answer(struct body_keep *k, const char *answer, size_t len);

#endif

/* linger.h - a lingering close: the body a client still sends after an early answer is
 * read and dropped before its socket closes.
 *
 * An answer given on a request's head (401 without a bearer token, 413 on a declared
 * Content-Length over http.max_body_bytes, 404/405 for a POST to no service) makes
 * libmicrohttpd 0.9.75 shut the socket for writing and close it without reading the body.
 * A client that writes its whole body before it reads (no Expect: 100-continue: Python's
 * urllib, curl -H 'Expect:') would then be reset by the close, with the answer unread.
 * Instead the server hands a duplicate of the socket here when libmicrohttpd reports the
 * connection closed (before it closes its own descriptor): a thread reads and drops what
 * comes, and closes the duplicate at the client's end of stream, once the body's bytes
 * (at most LINGER_MAX_BYTES) are in, or after the time bound given at the start, whichever
 * comes first. At most LINGER_MAX sockets linger; beyond that one closes at once.
 */
#ifndef MYOCDS_HTTP_LINGER_H
#define MYOCDS_HTTP_LINGER_H

#include <stdbool.h>
#include <stddef.h>

#define LINGER_MAX 64                              /* sockets lingering at once */
#define LINGER_MAX_BYTES ((size_t)8 * 1024 * 1024) /* dropped per socket, at most */

struct linger_set;

/* Starts the thread; each socket lingers at most ms (>= 1). 0, or -1 (nothing started).
 * *out owned: linger_free(). */
int linger_start(unsigned ms, struct linger_set **out);

/* Closes every socket still lingering, stops the thread and frees l. NULL: no-op. */
void linger_free(struct linger_set *l);

/* Lingers on a duplicate of fd (the caller keeps fd and closes it as before) until the
 * end of stream, bytes more bytes (0 or over LINGER_MAX_BYTES: LINGER_MAX_BYTES), or the
 * time bound. False when it cannot (full, out of descriptors): fd closes as it would. */
bool linger_add(struct linger_set *l, int fd, size_t bytes);

#endif

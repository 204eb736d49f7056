/* body_keep.h - a connection's body buffer, kept between its requests.
 *
 * The next body on a keep-alive connection is written into memory already faulted in,
 * instead of a fresh allocation grown by doubling and freed again after every request.
 * The buffer is owned by the connection (made and freed by body_keep_notify, installed as
 * libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION), or lent to the request in flight.
 */
#ifndef MYOCDS_HTTP_BODY_KEEP_H
#define MYOCDS_HTTP_BODY_KEEP_H

#include <microhttpd.h>
#include <stddef.h>

#define BODY_KEEP_MAX ((size_t)256 * 1024) /* a larger buffer is freed, not kept */

struct body_keep {
    char *body;
    size_t cap;
};

/* MHD_OPTION_NOTIFY_CONNECTION: makes a connection's struct body_keep when it starts
 * (none when out of memory) and frees it, with its buffer, when it closes. */
void body_keep_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe);

/* The struct body_keep of connection c, or NULL. Borrowed: valid while c is open. */
struct body_keep *body_keep_of(struct MHD_Connection *c);

/* Lends the kept buffer to a request that has none yet (*body NULL): the request owns it
 * until body_keep_return. k may be NULL. */
void body_keep_lend(struct body_keep *k, char **body, size_t *cap);

/* Takes a request's buffer (owned, may be NULL) back for the connection's next request,
 * or frees it (too large, or k NULL). */
void body_keep_return(struct body_keep *k, char *body, size_t cap);

#endif

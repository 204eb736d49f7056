/* capbuf.h - a growing byte buffer with a size cap, the target of libcurl's write callback.
 *
 * Every answer read from the network goes through one of these, so no peer can make the
 * service hold more than the cap (curl's own CURLOPT_MAXFILESIZE misses chunked answers).
 */
#ifndef MYOCDS_UTIL_CAPBUF_H
#define MYOCDS_UTIL_CAPBUF_H

#include <stdbool.h>
#include <stddef.h>

struct capbuf {
    char *data; /* NUL-terminated once anything was added; owned */
    size_t len;
    size_t size;    /* bytes allocated for data: at most max + 1 */
    size_t max;     /* the cap: set it before the first add */
    bool too_large; /* an add would have passed the cap */
};

/* Appends n bytes; the allocation at least doubles when it grows, never past the cap.
 * False when the cap would be passed (too_large set) or memory ran out. */
bool capbuf_add(struct capbuf *b, const char *p, size_t n);

/* Makes room for n more bytes at once (a caller that knows the size ahead). Same
 * return as capbuf_add; adds nothing. */
bool capbuf_reserve(struct capbuf *b, size_t n);

/* A CURLOPT_WRITEFUNCTION for a struct capbuf (CURLOPT_WRITEDATA): a short count makes
 * curl fail the transfer. */
size_t capbuf_curl_write(char *ptr, size_t size, size_t nmemb, void *userdata);

/* Empties b for reuse under the cap max, keeping its allocation (data stays owned by b). */
void capbuf_clear(struct capbuf *b, size_t max);

/* Hands the data to the caller (who frees it) and empties b. */
char *capbuf_take(struct capbuf *b, size_t *len);

void capbuf_free(struct capbuf *b);

#endif

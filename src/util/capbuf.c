/* capbuf.c - a growing byte buffer with a size cap. */
#include "util/capbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CAPBUF_MIN 64

bool capbuf_reserve(struct capbuf *b, size_t n)
{
    if (n > b->max - b->len || n >= SIZE_MAX - b->len) { /* past the cap, or no size_t */
        b->too_large = true;
        return false;
    }
    size_t need = b->len + n + 1;
    if (need <= b->size)
        return true;
    size_t limit = b->max < SIZE_MAX ? b->max + 1 : SIZE_MAX;
    size_t size = b->size < limit / 2 ? b->size * 2 : limit;
    if (size < CAPBUF_MIN)
        size = CAPBUF_MIN < limit ? CAPBUF_MIN : limit;
    if (size < need)
        size = need;
    char *grown = realloc(b->data, size);
    if (grown == NULL)
        return false;
    b->data = grown;
    b->size = size;
    return true;
}

bool capbuf_add(struct capbuf *b, const char *p, size_t n)
{
    if (!capbuf_reserve(b, n))
        return false;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

size_t capbuf_curl_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    size_t n = size * nmemb;
    return capbuf_add(userdata, ptr, n) ? n : 0;
}

void capbuf_clear(struct capbuf *b, size_t max)
{
    b->len = 0;
    b->max = max;
    b->too_large = false;
    if (b->data != NULL)
        b->data[0] = '\0';
}

char *capbuf_take(struct capbuf *b, size_t *len)
{
    char *data = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->size = 0;
    return data;
}

void capbuf_free(struct capbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
}

/* capbuf.c - a growing byte buffer with a size cap. */
#include "util/capbuf.h"

#include <stdlib.h>
#include <string.h>

bool capbuf_add(struct capbuf *b, const char *p, size_t n)
{
    if (n > b->max - b->len) {
        b->too_large = true;
        return false;
    }
    char *grown = realloc(b->data, b->len + n + 1);
    if (grown == NULL)
        return false;
    memcpy(grown + b->len, p, n);
    b->data = grown;
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

size_t capbuf_curl_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    size_t n = size * nmemb;
    return capbuf_add(userdata, ptr, n) ? n : 0;
}

char *capbuf_take(struct capbuf *b, size_t *len)
{
    char *data = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    return data;
}

void capbuf_free(struct capbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

/* body_keep.c - a connection's buffers, kept between its requests (see body_keep.h). */
#include "http/body_keep.h"

#include <stdlib.h>
#include <string.h>

void body_keep_release(struct body_keep *k)
{
    if (k == NULL)
        return;
    free(k->body);
    free(k->answer);
    k->body = k->answer = NULL;
    k->cap = k->answer_cap = 0;
}

void body_keep_lend(struct body_keep *k, char **body, size_t *cap)
{
    if (k == NULL || k->body == NULL || *body != NULL)
        return;
    *body = k->body;
    *cap = k->cap;
    k->body = NULL;
}

void body_keep_return(struct body_keep *k, char *body, size_t cap)
{
    if (k != NULL && k->body == NULL && body != NULL && cap <= BODY_KEEP_MAX) {
        k->body = body;
        k->cap = cap;
        return;
    }
    free(body);
}

const char *body_keep_answer(struct body_keep *k, const char *answer, size_t len)
{
    if (k == NULL || answer == NULL || len == 0 || len > BODY_KEEP_MAX)
        return NULL;
    if (len > k->answer_cap) {
        char *grown = realloc(k->answer, len);
        if (grown == NULL)
            return NULL;
        k->answer = grown;
        k->answer_cap = len;
    }
    memcpy(k->answer, answer, len);
    return k->answer;
}

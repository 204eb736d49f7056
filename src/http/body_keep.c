/* body_keep.c - a connection's buffers, kept between its requests (see body_keep.h). */
#include "http/body_keep.h"

#include <stdlib.h>
#include <string.h>

void body_keep_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(struct body_keep)); /* NULL: nothing kept */
        return;
    }
    struct body_keep *k = *socket_context;
    if (k != NULL) {
        free(k->body);
        free(k->answer);
    }
    free(k);
    *socket_context = NULL;
}

struct body_keep *body_keep_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
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

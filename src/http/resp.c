/* resp.c - the two ways to fill an answer: a JSON text, or a JSON error (see http.h). */
#include "http/http.h"
#include "util/json.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

void http_resp_json(struct http_resp *resp, int status, const char *json, size_t len)
{
    free(resp->body);
    resp->body = malloc(len + 1);
    if (resp->body == NULL) {
        resp->status = 500;
        resp->len = 0;
        return;
    }
    memcpy(resp->body, json, len);
    resp->body[len] = '\0';
    resp->len = len;
    resp->status = status;
    resp->content_type = NULL;
}

void http_resp_error(struct http_resp *resp, int status, const char *msg)
{
    json_object *o = json_object_new_object();
    char *text = NULL;
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
    resp->status = status;
    resp->content_type = NULL;
    if (o != NULL) {
        json_object_object_add(o, "error", json_object_new_string(msg));
        json_object_object_add(o, "status", json_object_new_int(status));
        text = json_dump(o, &resp->len);
        json_object_put(o);
    }
    resp->body = text; /* NULL when out of memory: the status alone still goes out */
    if (text == NULL)
        resp->len = 0;
}

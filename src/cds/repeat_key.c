/* repeat_key.c - what identifies a card shown: the keyed hash of its subject, and the
 * canonical digest of the draft order it is about.
 *
 * An order is the same order when its id, medication[x] and dosageInstruction are the
 * same: what the clinician chose (drug, dose, route, timing) and the id the EHR gives the
 * draft, which order-select's selections and order-sign's draftOrders share. Members that
 * change between the two hooks without changing the order (status, authoredOn, meta,
 * dispenseRequest filled in at signing, extensions) are left out; a changed dose, drug or
 * schedule is a new order and its cards show again.
 */
#include "cds/repeat.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPEAT_TAG "myocds-repeat-1"
#define REPEAT_DEPTH_MAX 64 /* the request parser allows no deeper JSON */
#define REPEAT_NUM_MAX 40

static void put_len(unsigned char *p, size_t n)
{
    p[0] = (unsigned char)(n >> 24);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
}

int repeat_hmac(const unsigned char *secret, const struct repeat_subject *s,
                unsigned char key[REPEAT_KEY_BYTES])
{
    const char *fields[] = {s->fhir_server != NULL ? s->fhir_server : "", s->patient_id, s->rule_id,
                            s->indicator};
    const size_t nf = sizeof fields / sizeof fields[0];
    size_t total = sizeof REPEAT_TAG + REPEAT_KEY_BYTES;
    if (s->patient_id == NULL || s->patient_id[0] == '\0' || s->rule_id == NULL ||
        s->indicator == NULL || s->order_digest == NULL)
        return -1;
    for (size_t i = 0; i < nf; i++)
        total += 4 + strlen(fields[i]);
    unsigned char *msg = malloc(total);
    if (msg == NULL)
        return -1;
    size_t at = sizeof REPEAT_TAG; /* the tag with its NUL */
    memcpy(msg, REPEAT_TAG, sizeof REPEAT_TAG);
    for (size_t i = 0; i < nf; i++) {
        size_t n = strlen(fields[i]);
        put_len(msg + at, n);
        memcpy(msg + at + 4, fields[i], n);
        at += 4 + n;
    }
    memcpy(msg + at, s->order_digest, REPEAT_KEY_BYTES);
    unsigned len = 0;
    unsigned char *ok = HMAC(EVP_sha256(), secret, REPEAT_SECRET_BYTES, msg, total, key, &len);
    OPENSSL_cleanse(msg, total); /* it held the patient id */
    free(msg);
    return ok != NULL && len == REPEAT_KEY_BYTES ? 0 : -1;
}

/* Feeds a type tag and n bytes with their length. */
static int feed(EVP_MD_CTX *ctx, char tag, const void *p, size_t n)
{
    unsigned char head[5] = {(unsigned char)tag};
    put_len(head + 1, n);
    return EVP_DigestUpdate(ctx, head, sizeof head) == 1 && EVP_DigestUpdate(ctx, p, n) == 1 ? 0
                                                                                             : -1;
}

/* Feeds a type tag and a count (of members, of items) with no bytes after it. */
static int feed_count(EVP_MD_CTX *ctx, char tag, size_t n)
{
    unsigned char head[5] = {(unsigned char)tag};
    put_len(head + 1, n);
    return EVP_DigestUpdate(ctx, head, sizeof head) == 1 ? 0 : -1;
}

/* A number as one text whatever its JSON spelling: an integral double reads as the
 * integer it is (20.0 and 20 alike), any other with 17 significant digits. */
static int feed_number(EVP_MD_CTX *ctx, const json_object *v)
{
    char buf[REPEAT_NUM_MAX];
    if (json_object_is_type(v, json_type_int)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_object_get_int64(v));
    } else {
        double d = json_object_get_double(v);
        if (d == (double)(long long)d && d > -9e15 && d < 9e15)
            snprintf(buf, sizeof buf, "%lld", (long long)d);
        else
            snprintf(buf, sizeof buf, "%.17g", d);
    }
    return feed(ctx, 'n', buf, strlen(buf));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int feed_value(EVP_MD_CTX *ctx, const json_object *v, int depth);

/* An object's members in the order of their names. */
static int feed_object(EVP_MD_CTX *ctx, const json_object *v, int depth)
{
    size_t n = (size_t)json_object_object_length(v), k = 0;
    const char **names = n > 0 ? malloc(n * sizeof *names) : NULL;
    if (n > 0 && names == NULL)
        return -1;
    json_object_object_foreach((json_object *)v, name, val)
    {
        (void)val;
        if (k < n)
            names[k++] = name;
    }
    if (k > 1) /* qsort wants a non-NULL base even for no element */
        qsort(names, k, sizeof *names, cmp_str);
    int rc = feed_count(ctx, '{', k);
    for (size_t i = 0; rc == 0 && i < k; i++) {
        json_object *member = NULL;
        json_object_object_get_ex(v, names[i], &member);
        rc = feed(ctx, 'k', names[i], strlen(names[i]));
        if (rc == 0)
            rc = feed_value(ctx, member, depth + 1);
    }
    free(names);
    return rc;
}

static int feed_value(EVP_MD_CTX *ctx, const json_object *v, int depth)
{
    if (depth > REPEAT_DEPTH_MAX)
        return -1;
    switch (json_object_get_type(v)) {
    case json_type_null:
        return feed(ctx, '0', "", 0);
    case json_type_boolean:
        return feed(ctx, json_object_get_boolean(v) ? 't' : 'f', "", 0);
    case json_type_int:
    case json_type_double:
        return feed_number(ctx, v);
    case json_type_string:
        return feed(ctx, 's', json_object_get_string((json_object *)v),
                    (size_t)json_object_get_string_len(v));
    case json_type_array: {
        size_t n = json_object_array_length(v);
        int rc = feed_count(ctx, '[', n);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = feed_value(ctx, json_object_array_get_idx(v, i), depth + 1);
        return rc;
    }
    case json_type_object:
        return feed_object(ctx, v, depth);
    }
    return -1;
}

int repeat_order_digest(const json_object *mr, const char *drug_id,
                        unsigned char out[REPEAT_KEY_BYTES])
{
    static const char *const members[] = {"id", "medicationCodeableConcept", "medicationReference",
                                          "dosageInstruction"};
    unsigned len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
                     json_object_is_type(mr, json_type_object)
                 ? 0
                 : -1;
    for (size_t i = 0; rc == 0 && i < sizeof members / sizeof members[0]; i++) {
        json_object *v = NULL;
        rc = feed(ctx, 'k', members[i], strlen(members[i]));
        if (rc == 0 && json_object_object_get_ex(mr, members[i], &v))
            rc = feed_value(ctx, v, 1);
        else if (rc == 0)
            rc = feed(ctx, '-', "", 0); /* absent, told apart from null */
    }
    if (rc == 0)
        rc = feed(ctx, 'd', drug_id != NULL ? drug_id : "", drug_id != NULL ? strlen(drug_id) : 0);
    if (rc == 0 && (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != REPEAT_KEY_BYTES))
        rc = -1;
    EVP_MD_CTX_free(ctx);
    return rc;
}

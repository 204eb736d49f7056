/* jwk_export.c - an OpenSSL public (or private) key -> its public JWK and RFC 7638 thumbprint.
 *
 * Used by `myocds call` (a default kid) and by tests that publish generated keys.
 */
#include "auth/jwk.h"

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWK_GROUP_MAX 64
#define JWK_MEMBERS 3 /* kty-specific members: crv, x, y or n, e */
#define THUMB_JSON_MAX (2 * JWK_RSA_MAX_BITS / 6 + 128)

/* The public members of one key, base64url; names sorted as RFC 7638 wants them. */
struct jwk_pub {
    const char *kty;
    const char *name[JWK_MEMBERS];
    char *value[JWK_MEMBERS]; /* owned, except value[0] of EC (the crv constant) */
    size_t n;
    bool ec;
};

enum jwk_kind jwk_kind_of(EVP_PKEY *pkey, int *bits)
{
    char group[JWK_GROUP_MAX];
    const struct jwk_curve *c;
    *bits = EVP_PKEY_get_bits(pkey);
    if (EVP_PKEY_is_a(pkey, "RSA"))
        return JWK_KIND_RSA;
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       NULL) != 1)
        return JWK_KIND_NONE;
    c = jwk_curve_find(NULL, group);
    return c != NULL ? c->kind : JWK_KIND_NONE;
}

/* BN param name of pkey as base64url, left-padded with zeros to pad bytes (0: minimal).
 * Ownership: returns a malloc'd string, or NULL. */
static char *bn_param_b64(EVP_PKEY *pkey, const char *name, int pad)
{
    BIGNUM *bn = NULL;
    unsigned char *buf = NULL;
    char *s = NULL;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return NULL;
    int len = pad > 0 ? pad : BN_num_bytes(bn);
    buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf != NULL && BN_bn2binpad(bn, buf, len) == len)
        s = jwk_b64url_encode(buf, (size_t)len);
    free(buf);
    BN_free(bn);
    return s;
}

static void pub_free(struct jwk_pub *p)
{
    for (size_t i = p->ec ? 1 : 0; i < p->n; i++)
        free(p->value[i]);
}

/* Fills *p with pkey's public members; pub_free() it (also after a failure). */
static int pub_members(EVP_PKEY *pkey, struct jwk_pub *p)
{
    int bits = 0;
    enum jwk_kind kind = jwk_kind_of(pkey, &bits);
    memset(p, 0, sizeof *p);
    if (kind == JWK_KIND_RSA) {
        *p = (struct jwk_pub){.kty = "RSA", .name = {"e", "n"}, .n = 2};
        p->value[0] = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        p->value[1] = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        return p->value[0] != NULL && p->value[1] != NULL ? 0 : -1;
    }
    char group[JWK_GROUP_MAX];
    const struct jwk_curve *c = NULL;
    if (kind == JWK_KIND_NONE ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       NULL) != 1 ||
        (c = jwk_curve_find(NULL, group)) == NULL)
        return -1;
    *p = (struct jwk_pub){.kty = "EC", .name = {"crv", "x", "y"}, .n = 3, .ec = true};
    p->value[0] = (char *)c->crv;
    p->value[1] = bn_param_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_X, (int)c->len);
    p->value[2] = bn_param_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, (int)c->len);
    return p->value[1] != NULL && p->value[2] != NULL ? 0 : -1;
}

static int add_str(json_object *o, const char *key, const char *val)
{
    json_object *v = json_object_new_string(val);
    if (v == NULL || json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

/* Ownership: returns a malloc'd string for the caller, or NULL. */
char *jwk_public_json(EVP_PKEY *pkey, const char *kid, const char *alg)
{
    struct jwk_pub p;
    json_object *o = json_object_new_object();
    char *out = NULL;
    int bad = o == NULL || pub_members(pkey, &p) != 0 || add_str(o, "kty", p.kty) != 0;
    for (size_t i = 0; !bad && i < p.n; i++)
        bad = add_str(o, p.name[i], p.value[i]);
    if (!bad && kid != NULL)
        bad = add_str(o, "kid", kid);
    if (!bad && alg != NULL)
        bad = add_str(o, "alg", alg);
    if (!bad)
        bad = add_str(o, "use", "sig");
    if (!bad) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
        out = s != NULL ? strdup(s) : NULL;
    }
    if (o != NULL)
        pub_free(&p);
    json_object_put(o);
    return out;
}

int jwk_thumbprint(EVP_PKEY *pkey, char out[44])
{
    struct jwk_pub p;
    char json[THUMB_JSON_MAX];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    char *b64 = NULL;
    int rc = -1;
    if (pub_members(pkey, &p) != 0)
        goto out;
    /* RFC 7638: the required members only, sorted, no whitespace; values are base64url or
     * a curve name, so they need no escaping. */
    int n = p.ec ? snprintf(json, sizeof json,
                            "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\","
                            "\"y\":\"%s\"}",
                            p.value[0], p.value[1], p.value[2])
                 : snprintf(json, sizeof json, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                            p.value[0], p.value[1]);
    if (n < 0 || (size_t)n >= sizeof json ||
        EVP_Digest(json, (size_t)n, md, &md_len, EVP_sha256(), NULL) != 1 ||
        (b64 = jwk_b64url_encode(md, md_len)) == NULL || strlen(b64) >= 44)
        goto out;
    memcpy(out, b64, strlen(b64) + 1);
    rc = 0;
out:
    free(b64);
    pub_free(&p);
    return rc;
}

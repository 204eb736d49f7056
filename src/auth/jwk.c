/* jwk.c - a JWK Set document -> verification keys as PEM, with OpenSSL 3 (EVP_PKEY_fromdata).
 *
 * Every member is type-checked; coordinates must have their full length; a built key must
 * pass EVP_PKEY_public_check (an EC point on its curve, a sane RSA modulus).
 */
#include "auth/jwk.h"

#include "util/json.h"
#include "util/log.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWK_RSA_E_MAX 8 /* bytes of an RSA public exponent */
#define EC_POINT_MAX (1 + 2 * 66)

static const struct jwk_curve jwk_curves[] = {
    {"P-256", "prime256v1", 32, JWK_KIND_P256, 256},
    {"P-384", "secp384r1", 48, JWK_KIND_P384, 384},
    {"P-521", "secp521r1", 66, JWK_KIND_P521, 521},
};

/* Members that only a private (or symmetric) key has: such a JWK must never be published. */
static const char *const jwk_private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

const struct jwk_curve *jwk_curve_find(const char *crv, const char *group)
{
    for (size_t i = 0; i < sizeof jwk_curves / sizeof jwk_curves[0]; i++) {
        if ((crv != NULL && strcmp(crv, jwk_curves[i].crv) == 0) ||
            (group != NULL && strcmp(group, jwk_curves[i].group) == 0))
            return &jwk_curves[i];
    }
    return NULL;
}

/* A base64url member of jwk decoded into a malloc'd buffer (caller frees *out). */
static int member_bytes(json_object *jwk, const char *name, size_t max, unsigned char **out,
                        size_t *len)
{
    json_object *v = json_get(jwk, name, json_type_string);
    if (v == NULL)
        return -1;
    return jwk_b64url_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), max,
                             out, len);
}

/* Builds a public key of type ("RSA"/"EC") from params; NULL unless it passes the check.
 * Ownership: returns an EVP_PKEY the caller frees. */
static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY_CTX *chk = NULL;
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (chk == NULL || EVP_PKEY_public_check(chk) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
out:
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* {kty:"RSA", n, e} -> *pkey (caller frees); -1 on bad members, 1 when too small to use. */
static int rsa_import(json_object *jwk, EVP_PKEY **pkey, int *bits)
{
    unsigned char *n_raw = NULL, *e_raw = NULL;
    size_t n_len = 0, e_len = 0;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    int rc = -1;
    if (member_bytes(jwk, "n", JWK_RSA_MAX_BITS / 8, &n_raw, &n_len) != 0 ||
        member_bytes(jwk, "e", JWK_RSA_E_MAX, &e_raw, &e_len) != 0)
        goto out;
    n = BN_bin2bn(n_raw, (int)n_len, NULL);
    e = BN_bin2bn(e_raw, (int)e_len, NULL);
    if (n == NULL || e == NULL)
        goto out;
    *bits = BN_num_bits(n);
    if (*bits < JWK_RSA_MIN_BITS) {
        rc = 1;
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto out;
    *pkey = pkey_fromdata("RSA", params);
    rc = *pkey != NULL ? 0 : -1;
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(n_raw);
    free(e_raw);
    return rc;
}

/* {kty:"EC", crv, x, y} -> *pkey (caller frees); -1 on bad members, 1 on another curve. */
static int ec_import(json_object *jwk, EVP_PKEY **pkey, enum jwk_kind *kind, int *bits)
{
    const char *crv = json_get_str(jwk, "crv");
    const struct jwk_curve *c = crv != NULL ? jwk_curve_find(crv, NULL) : NULL;
    unsigned char *x = NULL, *y = NULL;
    unsigned char pt[EC_POINT_MAX];
    size_t x_len = 0, y_len = 0;
    int rc = -1;
    if (c == NULL)
        return crv != NULL ? 1 : -1;
    if (member_bytes(jwk, "x", c->len, &x, &x_len) != 0 ||
        member_bytes(jwk, "y", c->len, &y, &y_len) != 0 || x_len != c->len || y_len != c->len)
        goto out;
    pt[0] = POINT_CONVERSION_UNCOMPRESSED;
    memcpy(pt + 1, x, c->len);
    memcpy(pt + 1 + c->len, y, c->len);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)c->group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * c->len),
        OSSL_PARAM_construct_end(),
    };
    *pkey = pkey_fromdata("EC", params);
    *kind = c->kind;
    *bits = c->bits;
    rc = *pkey != NULL ? 0 : -1;
out:
    free(x);
    free(y);
    return rc;
}

/* key->pem = the SubjectPublicKeyInfo PEM of pkey (owned by key). */
static int to_pem(EVP_PKEY *pkey, struct jwk_key *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len = 0;
    int rc = -1;
    if (b != NULL && PEM_write_bio_PUBKEY(b, pkey) == 1 && (len = BIO_get_mem_data(b, &data)) > 0 &&
        (key->pem = malloc((size_t)len + 1)) != NULL) {
        memcpy(key->pem, data, (size_t)len);
        key->pem[len] = '\0';
        key->pem_len = (size_t)len;
        rc = 0;
    }
    BIO_free(b);
    return rc;
}

/* One JWK -> *key. Returns 0 (usable), 1 (skip it) or -1 (the set is invalid). */
static int jwk_import(json_object *jwk, struct jwk_key *key, struct myocds_err *err, size_t i)
{
    const char *kty = json_get_str(jwk, "kty");
    const char *kid = json_get_str(jwk, "kid");
    const char *use = json_get_str(jwk, "use");
    json_object *alg = NULL;
    EVP_PKEY *pkey = NULL;
    int rc;
    if (!json_object_is_type(jwk, json_type_object) || kty == NULL)
        return myocds_err_set(err, 400, "jwks: keys[%zu] is not a JWK", i);
    for (size_t m = 0; m < sizeof jwk_private_members / sizeof jwk_private_members[0]; m++) {
        if (json_object_object_get_ex(jwk, jwk_private_members[m], NULL))
            return myocds_err_set(err, 400, "jwks: keys[%zu] holds private key material", i);
    }
    if (json_object_object_get_ex(jwk, "alg", &alg) &&
        (!json_object_is_type(alg, json_type_string) ||
         (size_t)json_object_get_string_len(alg) >= sizeof key->alg))
        return myocds_err_set(err, 400, "jwks: keys[%zu].alg is not a known algorithm", i);
    if (kid == NULL || strlen(kid) > JWK_KID_MAX || (use != NULL && strcmp(use, "sig") != 0))
        return 1;
    if (strcmp(kty, "RSA") == 0) {
        key->kind = JWK_KIND_RSA;
        rc = rsa_import(jwk, &pkey, &key->bits);
    } else if (strcmp(kty, "EC") == 0) {
        rc = ec_import(jwk, &pkey, &key->kind, &key->bits);
    } else {
        return 1; /* "oct" (symmetric), "OKP", ...: never used to verify */
    }
    if (rc == 0 && to_pem(pkey, key) != 0)
        rc = myocds_err_set(err, 500, "out of memory");
    else if (rc < 0)
        rc = myocds_err_set(err, 400, "jwks: keys[%zu] has bad %s parameters", i, kty);
    EVP_PKEY_free(pkey);
    snprintf(key->kid, sizeof key->kid, "%s", kid);
    snprintf(key->alg, sizeof key->alg, "%s", alg != NULL ? json_object_get_string(alg) : "");
    return rc;
}

static int import_all(json_object *keys, struct jwk_set *set, struct myocds_err *err)
{
    size_t n = json_object_array_length(keys);
    for (size_t i = 0; i < n; i++) {
        struct jwk_key *k = &set->keys[set->n];
        int rc = jwk_import(json_object_array_get_idx(keys, i), k, err, i);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            log_warnx("jwks: keys[%zu] skipped (no kid, not for signatures, or unsupported)", i);
            memset(k, 0, sizeof *k);
            continue;
        }
        set->n++;
        if (jwk_set_find(set, k->kid) != k)
            return myocds_err_set(err, 400, "jwks: keys[%zu] repeats a kid", i);
    }
    return 0;
}

/* Ownership: *out is owned by the caller on success; zeroed on failure. */
int jwk_set_parse(const char *json, size_t len, struct jwk_set *out, struct myocds_err *err)
{
    json_object *root = NULL;
    json_object *keys = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    if (len > JWKS_MAX_BYTES)
        return myocds_err_set(err, 400, "jwks: document over %zu bytes", JWKS_MAX_BYTES);
    root = json_parse_strict(json, len, err);
    if (root == NULL)
        return myocds_err_set(err, 400, "jwks: not JSON");
    keys = json_get_arr(root, "keys");
    if (keys == NULL || json_object_array_length(keys) > JWKS_MAX_KEYS) {
        rc = myocds_err_set(err, 400, "jwks: \"keys\" must be an array of at most %d keys",
                            JWKS_MAX_KEYS);
        goto out;
    }
    out->keys = calloc(json_object_array_length(keys) + 1, sizeof *out->keys);
    if (out->keys == NULL) {
        rc = myocds_err_set(err, 500, "out of memory");
        goto out;
    }
    rc = import_all(keys, out, err);
out:
    json_object_put(root);
    if (rc != 0)
        jwk_set_free(out);
    return rc;
}

const struct jwk_key *jwk_set_find(const struct jwk_set *set, const char *kid)
{
    for (size_t i = 0; set != NULL && i < set->n; i++) {
        if (strcmp(set->keys[i].kid, kid) == 0)
            return &set->keys[i];
    }
    return NULL;
}

void jwk_set_free(struct jwk_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; set->keys != NULL && i <= set->n; i++)
        free(set->keys[i].pem);
    free(set->keys);
    memset(set, 0, sizeof *set);
}

/* client.c - `myocds call`: a signed JWT (libjwt) and one POST (libcurl). */
#include "auth/client.h"

#include "auth/jwk.h"
#include "auth/token.h"
#include "util/capbuf.h"
#include "util/file.h"

#include <curl/curl.h>
#include <jwt.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#define UUID_TEXT 37
#define THUMB_TEXT 44
#define AUTH_HEADER_MAX (AUTH_TOKEN_MAX + 32)
#define FEEDBACK_SUFFIX "/feedback"

/* Never prompt for a pass phrase: an encrypted key is refused. */
static int no_pass(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static const char *default_alg(enum jwk_kind kind)
{
    switch (kind) {
    case JWK_KIND_RSA:
        return "RS384";
    case JWK_KIND_P256:
        return "ES256";
    case JWK_KIND_P384:
        return "ES384";
    case JWK_KIND_P521:
        return "ES512";
    default:
        return NULL;
    }
}

/* The algorithm for this key (checked against its type) and, without o->kid, the key's
 * thumbprint in kid[THUMB_TEXT]. */
static int key_params(const char *key, size_t len, const struct auth_sign_opts *o,
                      const struct token_alg **alg, char *kid, struct myocds_err *err)
{
    BIO *b = BIO_new_mem_buf(key, (int)len);
    EVP_PKEY *pkey = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, no_pass, NULL) : NULL;
    int bits = 0;
    int rc = 0;
    enum jwk_kind kind = pkey != NULL ? jwk_kind_of(pkey, &bits) : JWK_KIND_NONE;
    const char *name = o->alg != NULL ? o->alg : default_alg(kind);
    *alg = token_alg_find(name, NULL);
    if (pkey == NULL)
        rc = myocds_err_set(err, 400, "the key is not an unencrypted PEM private key");
    else if (kind == JWK_KIND_NONE)
        rc = myocds_err_set(err, 400, "the key must be RSA or EC P-256, P-384 or P-521");
    else if (*alg == NULL)
        rc = myocds_err_set(err, 400, "--alg must be ES256, ES384, ES512, RS256, RS384 or RS512");
    else if ((*alg)->kind != kind || (kind == JWK_KIND_RSA && bits < JWK_RSA_MIN_BITS))
        rc = myocds_err_set(err, 400, "--alg %s does not fit this key", (*alg)->name);
    else if (o->kid == NULL && jwk_thumbprint(pkey, kid) != 0)
        rc = myocds_err_set(err, 500, "cannot compute the key's thumbprint");
    EVP_PKEY_free(pkey);
    BIO_free(b);
    return rc;
}

/* Ownership: *token is malloc'd for the caller on success. */
int auth_sign_token(const char *key, size_t key_len, const struct auth_sign_opts *o, char **token,
                    struct myocds_err *err)
{
    const struct token_alg *alg = NULL;
    char thumb[THUMB_TEXT] = "";
    char jti[UUID_TEXT];
    uuid_t u;
    jwt_t *jwt = NULL;
    int rc;
    *token = NULL;
    if (key_len == 0 || key_len > INT_MAX)
        return myocds_err_set(err, 400, "the key is empty or too large");
    if ((rc = key_params(key, key_len, o, &alg, thumb, err)) != 0)
        return rc;
    uuid_generate_random(u);
    uuid_unparse_lower(u, jti);
    if (jwt_new(&jwt) != 0)
        return myocds_err_set(err, 500, "out of memory");
    int bad = jwt_add_grant(jwt, "iss", o->iss) | jwt_add_grant(jwt, "aud", o->aud) |
              jwt_add_grant_int(jwt, "exp", (long)o->now + AUTH_CALL_LIFETIME_S) |
              jwt_add_grant_int(jwt, "iat", (long)o->now) | jwt_add_grant(jwt, "jti", jti) |
              jwt_add_header(jwt, "kid", o->kid != NULL ? o->kid : thumb) |
              jwt_add_header(jwt, "typ", "JWT") |
              jwt_set_alg(jwt, alg->jalg, (const unsigned char *)key, (int)key_len);
    if (bad == 0)
        *token = jwt_encode_str(jwt);
    jwt_free(jwt);
    if (*token == NULL)
        return myocds_err_set(err, 400, "cannot sign with this key and algorithm");
    return 0;
}

/* The request headers; NULL when out of memory. Ownership: curl_slist_free_all() it. */
static struct curl_slist *call_headers(const char *auth)
{
    const char *lines[] = {"Content-Type: application/json", "Accept: application/json", auth};
    struct curl_slist *h = NULL;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct curl_slist *t = curl_slist_append(h, lines[i]);
        if (t == NULL) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = t;
    }
    return h;
}

/* POSTs o->body with the bearer token; fills *status and *b. */
static int post(const struct auth_call_opts *o, const char *token, long *status, struct capbuf *b,
                struct myocds_err *err)
{
    char auth[AUTH_HEADER_MAX];
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    int rc = 0;
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    if (c == NULL || (h = call_headers(auth)) == NULL) {
        rc = myocds_err_set(err, 500, "out of memory");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, AUTH_CALL_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, capbuf_curl_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        rc = myocds_err_set(err, 502, "%s: %s", o->url, curl_easy_strerror(cc));
    else
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

/* Ownership: *resp is malloc'd for the caller on success. */
int auth_call(const struct auth_call_opts *o, long *status, char **resp, size_t *resp_len,
              struct myocds_err *err)
{
    struct auth_sign_opts so = {
        .iss = o->iss, .aud = o->aud, .kid = o->kid, .alg = o->alg, .now = time(NULL)};
    struct capbuf b = {.max = AUTH_CALL_RESP_MAX};
    char aud[AUTH_URL_MAX + 1];
    char *token = NULL;
    size_t key_len = 0;
    int rc;
    char *key = file_read(o->key_path, AUTH_CALL_KEY_MAX, &key_len, err);
    if (key == NULL)
        return myocds_err_set(err, 400, "cannot read the key %s", o->key_path);
    if (so.aud == NULL) {
        size_t n = strlen(o->url), sfx = sizeof FEEDBACK_SUFFIX - 1;
        if (n >= sfx && strcmp(o->url + n - sfx, FEEDBACK_SUFFIX) == 0)
            n -= sfx;
        snprintf(aud, sizeof aud, "%.*s", (int)n, o->url);
        so.aud = aud;
    }
    rc = auth_sign_token(key, key_len, &so, &token, err);
    OPENSSL_cleanse(key, key_len);
    free(key);
    if (rc == 0)
        rc = post(o, token, status, &b, err);
    free(token);
    if (rc != 0) {
        capbuf_free(&b);
        return rc;
    }
    bool empty = b.data == NULL;
    *resp = empty ? calloc(1, 1) : capbuf_take(&b, resp_len);
    if (empty)
        *resp_len = 0;
    return *resp != NULL ? 0 : myocds_err_set(err, 500, "out of memory");
}

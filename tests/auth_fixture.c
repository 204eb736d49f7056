/* auth_fixture.c - keys, JWKS file, config and token builder shared by the auth tests. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "auth_fixture.h"

#include "auth/jwk.h"

#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const fx_kid_of[K_COUNT] = {"ec-a", "ec-b", "rsa-1", "ec256", "ec-a"};
static const char *const alg_of[K_COUNT] = {"ES384", "ES384", "RS384", "ES256", NULL};
struct fx_state fx;

static EVP_PKEY *keygen(enum key_id k)
{
    if (k == K_RSA)
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", k == K_EC256 ? "P-256" : "P-384");
}

/* The public key's PEM text (caller frees). */
char *fx_public_pem(EVP_PKEY *k, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
    long n = BIO_get_mem_data(b, &data);
    char *out = strndup(data, (size_t)n);
    *len = (size_t)n;
    BIO_free(b);
    return out;
}

int fx_group_setup(void **state)
{
    (void)state;
    char json[1024];
    fx.now = time(NULL);
    snprintf(fx.dir, sizeof fx.dir, "/tmp/myocds-auth-XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    snprintf(fx.jwks, sizeof fx.jwks, "%s/jwks.json", fx.dir);
    FILE *f = fopen(fx.jwks, "w");
    assert_non_null(f);
    fputs("{\"keys\":[", f);
    for (int k = 0; k < K_COUNT; k++) {
        fx.keys[k] = keygen((enum key_id)k);
        assert_non_null(fx.keys[k]);
        if (k == K_ROGUE)
            continue;
        char *jwk = jwk_public_json(fx.keys[k], fx_kid_of[k], alg_of[k]);
        fprintf(f, "%s%s", k > 0 ? "," : "", jwk);
        free(jwk);
    }
    fputs("]}", f);
    fclose(f);
    snprintf(json, sizeof json,
             "{\"auth\":{\"issuers\":[{\"iss\":\"%s\",\"jwks_file\":\"%s\",\"jwks_uri\":\"%s\"},"
             "{\"iss\":\"%s\",\"jwks_file\":\"%s\"}]}}",
             ISS, fx.jwks, PINNED_URI, ISS_FILE_ONLY, fx.jwks);
    struct myocds_err err = {0};
    assert_int_equal(cfg_parse(json, strlen(json), &fx.cfg, &err), 0);
    return 0;
}

int fx_group_teardown(void **state)
{
    (void)state;
    for (int k = 0; k < K_COUNT; k++)
        EVP_PKEY_free(fx.keys[k]);
    cfg_free(&fx.cfg);
    unlink(fx.jwks);
    rmdir(fx.dir);
    return 0;
}

int fx_verifier_setup(void **state)
{
    struct myocds_err err = {0};
    struct auth_verifier *v = NULL;
    assert_int_equal(auth_verifier_new_ex(&fx.cfg, NULL, NULL, 1000, &v, &err), 0);
    *state = v;
    return 0;
}

int fx_verifier_teardown(void **state)
{
    auth_verifier_free(*state);
    return 0;
}

static const EVP_MD *md_of(const char *alg)
{
    const char *bits = alg + strlen(alg) - 3;
    return strcmp(bits, "256") == 0   ? EVP_sha256()
           : strcmp(bits, "384") == 0 ? EVP_sha384()
                                      : EVP_sha512();
}

/* The JWS signature of in[0..len) by key as alg does it (ES: raw R || S). */
static size_t sign_bytes(const struct spec *s, const char *alg, const char *in, size_t len,
                         unsigned char *sig)
{
    EVP_PKEY *key = fx.keys[s->key];
    size_t n = 1024;
    if (s->hmac) {
        size_t pem_len = 0;
        char *pem = fx_public_pem(key, &pem_len);
        unsigned out = 0;
        HMAC(md_of(alg), pem, (int)pem_len, (const unsigned char *)in, len, sig, &out);
        free(pem);
        return out;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[1024];
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md_of(alg), NULL, key), 1);
    assert_int_equal(
        EVP_DigestSign(ctx, alg[0] == 'E' ? der : sig, &n, (const unsigned char *)in, len), 1);
    EVP_MD_CTX_free(ctx);
    if (alg[0] != 'E')
        return n;
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
    int size = (EVP_PKEY_get_bits(key) + 7) / 8;
    assert_non_null(es);
    BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, size);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + size, size);
    ECDSA_SIG_free(es);
    return (size_t)size * 2;
}

/* header.claims.signature from raw JSON texts (caller frees). */
static char *assemble(const struct spec *s, const char *alg, const char *hdr, const char *claims)
{
    char *h = jwk_b64url_encode((const unsigned char *)hdr, strlen(hdr));
    char *c = jwk_b64url_encode((const unsigned char *)claims, strlen(claims));
    char *tok = malloc(TOK_MAX);
    unsigned char sig[1024];
    int n = snprintf(tok, TOK_MAX, "%s.%s", h, c);
    size_t sig_len = s->unsigned_ ? 0 : sign_bytes(s, alg, tok, (size_t)n, sig);
    char *sig64 = sig_len > 0 ? jwk_b64url_encode(sig, sig_len) : strdup("");
    snprintf(tok + n, TOK_MAX - (size_t)n, ".%s", sig64);
    free(h);
    free(c);
    free(sig64);
    return tok;
}

static void member(char *buf, size_t cap, const char *name, const char *raw, long def)
{
    size_t n = strlen(buf);
    if (raw != NULL && strcmp(raw, "-") == 0)
        return;
    if (raw != NULL)
        snprintf(buf + n, cap - n, ",\"%s\":%s", name, raw);
    else
        snprintf(buf + n, cap - n, ",\"%s\":%ld", name, def);
}

/* A token as s says, valid at now (caller frees). */
char *fx_token(const struct spec *s, time_t now)
{
    char hdr[512], claims[1024], jti[64];
    const char *alg = s->alg != NULL ? s->alg : "ES384";
    const char *kid = s->kid != NULL ? s->kid : fx_kid_of[s->key];
    long exp = s->exp == 0 && s->iat == 0 ? 300 : s->exp;
    snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\"", alg);
    if (strcmp(kid, "-") != 0)
        snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), ",\"kid\":\"%s\"", kid);
    if (s->typ == NULL || strcmp(s->typ, "-") != 0)
        snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), ",\"typ\":\"%s\"",
                 s->typ != NULL ? s->typ : "JWT");
    snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "%s}",
             s->hdr_extra != NULL ? s->hdr_extra : "");
    snprintf(claims, sizeof claims, "{\"iss\":\"%s\",\"aud\":%s", s->iss != NULL ? s->iss : ISS,
             s->aud != NULL ? s->aud : "\"" AUD "\"");
    member(claims, sizeof claims, "exp", s->exp_raw, (long)now + exp);
    member(claims, sizeof claims, "iat", s->iat_raw, (long)now + s->iat);
    snprintf(jti, sizeof jti, "\"jti-%u-%ld\"", ++fx.jti_seq, (long)now);
    member(claims, sizeof claims, "jti", s->jti != NULL ? s->jti : jti, 0);
    snprintf(claims + strlen(claims), sizeof claims - strlen(claims), "%s}",
             s->claims_extra != NULL ? s->claims_extra : "");
    return assemble(s, s->sign_alg != NULL ? s->sign_alg : alg, hdr, claims);
}

enum auth_reason fx_verify_tok(struct auth_verifier *v, const char *tok, size_t n_auds,
                               struct auth_identity *who)
{
    static const char *const auds[] = {AUD, AUD_FEEDBACK};
    char header[TOK_MAX + 16];
    snprintf(header, sizeof header, "Bearer %s", tok);
    return auth_verify(v, header, auds, n_auds, fx.now, who);
}

enum auth_reason fx_verify_spec(struct auth_verifier *v, const struct spec *s)
{
    struct auth_identity who;
    char *tok = fx_token(s, fx.now);
    enum auth_reason r = fx_verify_tok(v, tok, 1, &who);
    free(tok);
    return r;
}

/* The private key's PEM text (caller frees). */
char *fx_private_pem(EVP_PKEY *k, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
    long n = BIO_get_mem_data(b, &data);
    char *out = strndup(data, (size_t)n);
    *len = (size_t)n;
    BIO_free(b);
    return out;
}

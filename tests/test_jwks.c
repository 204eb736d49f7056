/* test_jwks.c - JWK import/export, base64url, the per-issuer key cache (a fake fetch and a
 * fake clock: refresh on an unknown kid at most once a minute) and the jti replay cache.
 */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "auth/jwk.h"
#include "auth/jwks.h"
#include "auth/replay.h"
#include "util/config.h"
#include "util/file.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SANDBOX_JWKS MYOCDS_SOURCE_DIR "/config/cds-hooks-sandbox-jwks.json"
#define SANDBOX_KID "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"
#define SANDBOX_X "dw_JGR8nB2I6XveNxUOl2qk699ZPLM2nYI5STSdiEl9avAkrm3CkfYMbrrjr8laB"
#define SANDBOX_Y "Sm3mLE-n1zYNla_aiE3cb3nZsL51RbC7ysw3q8aJLxGm-hx79RPMYpITDjp7kgzy"
/* RFC 7638 section 3.1: a key and its thumbprint. */
#define RFC7638_N                                                                                  \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP" \
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY" \
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f" \
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_THUMB "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
#define URI "https://ehr.test/jwks.json"
#define T0 1700000000
#define RACE_THREADS 4
#define RACE_JTIS 500

static int parse(const char *json, struct jwk_set *set)
{
    struct myocds_err err = {0};
    int rc = jwk_set_parse(json, strlen(json), set, &err);
    if (rc != 0)
        print_message("jwks: %s\n", err.msg);
    return rc;
}

static EVP_PKEY *pem_key(const struct jwk_key *k)
{
    BIO *b = BIO_new_mem_buf(k->pem, (int)k->pem_len);
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(pkey);
    return pkey;
}

static void test_b64url(void **state)
{
    (void)state;
    unsigned char *out = NULL;
    size_t len = 0;
    static const unsigned char bin[] = {0xfb, 0xff, 0x00, 0x3e};
    char *s = jwk_b64url_encode(bin, sizeof bin);
    assert_string_equal(s, "-_8APg"); /* base64 "+/8APg==": url alphabet, no padding */
    assert_int_equal(jwk_b64url_decode(s, strlen(s), 16, &out, &len), 0);
    assert_int_equal(len, sizeof bin);
    assert_memory_equal(out, bin, sizeof bin);
    free(out);
    free(s);
    static const char *const bad[] = {"", "a", "abcde", "-_8APg==", "ab+/", "ab c", "ab\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jwk_b64url_decode(bad[i], strlen(bad[i]), 16, &out, &len), -1);
    assert_int_equal(jwk_b64url_decode("QUJDREVGRw", 10, 6, &out, &len), -1); /* 7 > 6 bytes */
    assert_int_equal(jwk_b64url_decode("QUJDREVGRw", 10, 7, &out, &len), 0);
    assert_string_equal((char *)out, "ABCDEFG");
    free(out);
}

/* The public CDS Hooks sandbox's key: imported, and its PEM holds the same point. */
static void test_sandbox_key(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    struct jwk_set set;
    size_t len = 0;
    char *doc = file_read(SANDBOX_JWKS, JWKS_MAX_BYTES, &len, &err);
    assert_non_null(doc);
    assert_int_equal(jwk_set_parse(doc, len, &set, &err), 0);
    free(doc);
    assert_int_equal(set.n, 1);
    const struct jwk_key *k = jwk_set_find(&set, SANDBOX_KID);
    assert_non_null(k);
    assert_int_equal(k->kind, JWK_KIND_P384);
    assert_string_equal(k->alg, "ES384");
    assert_non_null(strstr(k->pem, "-----BEGIN PUBLIC KEY-----"));
    EVP_PKEY *pkey = pem_key(k);
    char *jwk = jwk_public_json(pkey, NULL, NULL);
    assert_non_null(strstr(jwk, "\"x\":\"" SANDBOX_X "\""));
    assert_non_null(strstr(jwk, "\"y\":\"" SANDBOX_Y "\""));
    assert_non_null(strstr(jwk, "\"crv\":\"P-384\""));
    free(jwk);
    EVP_PKEY_free(pkey);
    assert_null(jwk_set_find(&set, "other"));
    jwk_set_free(&set);
    jwk_set_free(&set); /* zeroed: a no-op */
}

static void test_rfc7638_thumbprint(void **state)
{
    (void)state;
    struct jwk_set set;
    char thumb[44];
    assert_int_equal(parse("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"2011-04-29\",\"alg\":\"RS256\","
                           "\"e\":\"AQAB\",\"n\":\"" RFC7638_N "\"}]}",
                           &set),
                     0);
    assert_int_equal(set.n, 1);
    assert_int_equal(set.keys[0].kind, JWK_KIND_RSA);
    assert_int_equal(set.keys[0].bits, 2048);
    EVP_PKEY *pkey = pem_key(&set.keys[0]);
    assert_int_equal(jwk_thumbprint(pkey, thumb), 0);
    assert_string_equal(thumb, RFC7638_THUMB);
    EVP_PKEY_free(pkey);
    jwk_set_free(&set);
}

/* Generated keys -> JWK -> PEM: byte-identical to OpenSSL's own PEM of the public key. */
static void test_roundtrip(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        const char *param;
        enum jwk_kind kind;
    } kinds[] = {{"EC", "P-256", JWK_KIND_P256},
                 {"EC", "P-384", JWK_KIND_P384},
                 {"EC", "P-521", JWK_KIND_P521},
                 {"RSA", NULL, JWK_KIND_RSA}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        EVP_PKEY *k = kinds[i].param != NULL ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", kinds[i].param)
                                             : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        char doc[4096], *pem = NULL;
        char *jwk = jwk_public_json(k, "k1", NULL);
        struct jwk_set set;
        BIO *b = BIO_new(BIO_s_mem());
        snprintf(doc, sizeof doc, "{\"keys\":[%s]}", jwk);
        assert_int_equal(parse(doc, &set), 0);
        assert_int_equal(set.keys[0].kind, kinds[i].kind);
        PEM_write_bio_PUBKEY(b, k);
        long n = BIO_get_mem_data(b, &pem);
        assert_int_equal(set.keys[0].pem_len, (size_t)n);
        assert_memory_equal(set.keys[0].pem, pem, (size_t)n);
        BIO_free(b);
        jwk_set_free(&set);
        free(jwk);
        EVP_PKEY_free(k);
    }
}

#define EC_MEMBERS                                                                                 \
    "\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"k\",\"x\":\"" SANDBOX_X "\",\"y\":\"" SANDBOX_Y "\""
#define EC_KEY "{" EC_MEMBERS "}"
#define EC(extra) "{\"keys\":[{" EC_MEMBERS extra "}]}"

static void test_refused_sets(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[]",
        "{\"keys\":{}}",
        "{\"keys\":[1]}",
        "{\"keys\":[{\"kid\":\"k\"}]}",
        EC(",\"d\":\"AAAA\""), /* a private key */
        "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0\"}]}",
        EC(",\"alg\":5"),
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"k\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]"
        "}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"k\",\"x\":\"" SANDBOX_X
        "\",\"y\":\"" SANDBOX_X "\"}]}", /* not on the curve */
        "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"k\",\"x\":\"" SANDBOX_X "\",\"y\":\"" SANDBOX_Y
        "\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k\",\"e\":\"AQABAQABAQAB\",\"n\":\"" RFC7638_N
        "\"}]}",
    };
    struct jwk_set set;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        print_message("bad set %zu\n", i);
        assert_int_not_equal(parse(bad[i], &set), 0);
        assert_null(set.keys);
    }
    assert_int_equal(parse("{\"keys\":[" EC_KEY "," EC_KEY "]}", &set), -400); /* kid twice */
    char *big = malloc(JWKS_MAX_BYTES + 2);
    memset(big, ' ', JWKS_MAX_BYTES + 1);
    big[JWKS_MAX_BYTES + 1] = '\0';
    assert_int_equal(parse(big, &set), -400);
    free(big);
}

/* Keys the service cannot use are skipped, not fatal: the usable ones stay. */
static void test_skipped_keys(void **state)
{
    (void)state;
    struct jwk_set set;
    const char doc[] =
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"kid\":\"a\",\"x\":\"AA\",\"y\":\"AA\"},"
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"b\",\"x\":\"AA\"},"
        "{\"kty\":\"EC\",\"crv\":\"P-384\",\"use\":\"enc\",\"kid\":\"c\",\"x\":\"" SANDBOX_X
        "\",\"y\":\"" SANDBOX_Y "\"},"
        "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" SANDBOX_X "\",\"y\":\"" SANDBOX_Y "\"},"
        "{\"kty\":\"RSA\",\"kid\":\"rsa\",\"e\":\"AQAB\",\"n\":\"" RFC7638_N "\"},"
        "{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"good\",\"x\":\"" SANDBOX_X
        "\",\"y\":\"" SANDBOX_Y "\"}]}";
    assert_int_equal(parse(doc, &set), 0);
    assert_int_equal(set.n, 2); /* the 2048-bit RSA key and "good"; the rest skipped */
    assert_non_null(jwk_set_find(&set, "good"));
    assert_non_null(jwk_set_find(&set, "rsa"));
    assert_null(jwk_set_find(&set, "c"));
    jwk_set_free(&set);
    /* An RSA modulus under 2048 bits is skipped. */
    char small[1024];
    snprintf(small, sizeof small,
             "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"s\",\"e\":\"AQAB\","
             "\"n\":\"%.171s\"}]}",
             RFC7638_N);
    assert_int_equal(parse(small, &set), 0);
    assert_int_equal(set.n, 0);
    jwk_set_free(&set);
}

/* A fake JWKS URL: serves doc (NULL: fails) and records what was asked. */
struct fake {
    const char *doc;
    int calls;
    char uri[256];
};

static int fake_fetch(void *ctx, const char *uri, char **body, size_t *len, struct myocds_err *err)
{
    struct fake *f = ctx;
    f->calls++;
    snprintf(f->uri, sizeof f->uri, "%s", uri);
    if (f->doc == NULL)
        return myocds_err_set(err, 502, "jwks: HTTP 503");
    *body = strdup(f->doc);
    *len = strlen(f->doc);
    return 0;
}

static enum jwks_result lookup(struct jwks_issuer *ji, const char *kid, time_t now)
{
    struct jwk_key k = {0};
    enum jwks_result r = jwks_issuer_key(ji, kid, now, &k);
    if (r == JWKS_FOUND) {
        assert_string_equal(k.kid, kid);
        assert_non_null(k.pem); /* a copy the caller owns */
    }
    free(k.pem);
    return r;
}

#define SET1 EC("")
#define SET2                                                                                       \
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"k2\",\"x\":\"" SANDBOX_X "\","         \
    "\"y\":\"" SANDBOX_Y "\"}]}"

static void test_refresh(void **state)
{
    (void)state;
    struct fake f = {.doc = SET1};
    struct cfg_issuer is = {.iss = "https://ehr.test", .jwks_uri = URI};
    struct jwks_issuer *ji = NULL;
    struct myocds_err err = {0};
    assert_int_equal(jwks_issuer_new(&is, fake_fetch, &f, &ji, &err), 0);
    assert_int_equal(f.calls, 0); /* nothing fetched before a token needs it */
    assert_int_equal(lookup(ji, "k", T0), JWKS_FOUND);
    assert_int_equal(f.calls, 1);
    assert_string_equal(f.uri, URI);
    assert_int_equal(lookup(ji, "k", T0 + 5), JWKS_FOUND); /* cached */
    f.doc = SET2;                                          /* the EHR rotates to k2 */
    assert_int_equal(lookup(ji, "k2", T0 + 10), JWKS_NO_KID);
    assert_int_equal(lookup(ji, "k2", T0 + 59), JWKS_NO_KID);
    assert_int_equal(f.calls, 1); /* at most one fetch a minute */
    assert_int_equal(lookup(ji, "k2", T0 + 60), JWKS_FOUND);
    assert_int_equal(f.calls, 2);
    assert_int_equal(lookup(ji, "k", T0 + 61), JWKS_NO_KID); /* k was rotated out */
    f.doc = NULL;                                            /* the EHR is down */
    assert_int_equal(lookup(ji, "k3", T0 + 200), JWKS_NO_KID);
    assert_int_equal(f.calls, 3);
    assert_int_equal(lookup(ji, "k2", T0 + 201), JWKS_FOUND); /* the last good set stays */
    f.doc = EC(",\"d\":\"AAAA\"");                            /* a set with a private key */
    assert_int_equal(lookup(ji, "k", T0 + 300), JWKS_NO_KID);
    assert_int_equal(lookup(ji, "k2", T0 + 301), JWKS_FOUND);
    f.doc = SET1;
    assert_int_equal(lookup(ji, "k", T0 + 100), JWKS_FOUND); /* the clock went back */
    assert_int_equal(jwks_issuer_fetches(ji), 5);
    jwks_issuer_free(ji);
}

static void test_unavailable_and_pinned(void **state)
{
    (void)state;
    struct fake f = {.doc = NULL};
    struct cfg_issuer is = {.iss = "https://ehr.test", .jwks_uri = URI};
    struct jwks_issuer *ji = NULL;
    struct myocds_err err = {0};
    assert_int_equal(jwks_issuer_new(&is, fake_fetch, &f, &ji, &err), 0);
    assert_int_equal(lookup(ji, "k", T0), JWKS_UNAVAILABLE);
    assert_int_equal(lookup(ji, "k", T0 + 1), JWKS_UNAVAILABLE);
    assert_int_equal(f.calls, 1); /* a failing EHR is not hammered either */
    f.doc = SET1;
    assert_int_equal(lookup(ji, "k", T0 + 60), JWKS_FOUND);
    jwks_issuer_free(ji);
    /* jwks_file pins the keys: the URL is never fetched. */
    is.jwks_file = SANDBOX_JWKS;
    f.calls = 0;
    assert_int_equal(jwks_issuer_new(&is, fake_fetch, &f, &ji, &err), 0);
    assert_int_equal(lookup(ji, SANDBOX_KID, T0), JWKS_FOUND);
    assert_int_equal(lookup(ji, "k", T0), JWKS_NO_KID);
    assert_int_equal(f.calls, 0);
    jwks_issuer_free(ji);
    is.jwks_file = "/nonexistent.json";
    assert_int_equal(jwks_issuer_new(&is, fake_fetch, &f, &ji, &err), -400);
    assert_null(ji);
}

static void test_replay_basics(void **state)
{
    (void)state;
    struct replay_cache *rc = replay_new(4, 1);
    assert_non_null(rc);
    assert_int_equal(replay_check_add(rc, 0, "i", "a", T0 + 100, T0), REPLAY_NEW);
    assert_int_equal(replay_check_add(rc, 0, "i", "a", T0 + 100, T0 + 50), REPLAY_SEEN);
    assert_int_equal(replay_check_add(rc, 0, "j", "a", T0 + 100, T0), REPLAY_NEW); /* other iss */
    assert_int_equal(replay_check_add(rc, 0, "i", "a", T0 + 300, T0 + 100), REPLAY_NEW);
    assert_int_equal(replay_check_add(rc, 0, "i", "a", T0 + 300, T0 + 101), REPLAY_SEEN);
    assert_int_equal(replay_check_add(rc, 0, "i", "b", T0 + 10, T0), REPLAY_NEW);
    assert_int_equal(replay_check_add(rc, 0, "i", "c", T0 + 500, T0), REPLAY_NEW);
    assert_int_equal(replay_size(rc), 4);
    /* Full of live entries: refused, not forgotten (once a second a sweep is tried). */
    assert_int_equal(replay_check_add(rc, 0, "i", "d", T0 + 500, T0 + 5), REPLAY_FULL);
    assert_int_equal(replay_check_add(rc, 0, "i", "b", T0 + 10, T0 + 5), REPLAY_SEEN);
    /* Later "b" and "j/a" have expired: the sweep makes room. */
    assert_int_equal(replay_check_add(rc, 0, "i", "d", T0 + 500, T0 + 200), REPLAY_NEW);
    assert_int_equal(replay_size(rc), 3);
    assert_int_equal(replay_check_add(rc, 0, "i", "a", T0 + 300, T0 + 200), REPLAY_SEEN);
    assert_int_equal(replay_check_add(rc, 0, "i", "c", T0 + 500, T0 + 200), REPLAY_SEEN);
    replay_free(rc);
    assert_null(replay_new(0, 1));
    assert_null(replay_new(4, 0));
    replay_free(NULL);
}

/* One issuer's flood fills its own share: another issuer's tokens are still remembered. */
static void test_replay_fair_to_every_issuer(void **state)
{
    (void)state;
    struct replay_cache *rc = replay_new(4, 2);
    assert_non_null(rc);
    assert_int_equal(replay_check_add(rc, 0, "flood", "a", T0 + 100, T0), REPLAY_NEW);
    assert_int_equal(replay_check_add(rc, 0, "flood", "b", T0 + 100, T0), REPLAY_NEW);
    assert_int_equal(replay_check_add(rc, 0, "flood", "c", T0 + 100, T0), REPLAY_FULL);
    assert_int_equal(replay_check_add(rc, 0, "flood", "d", T0 + 100, T0 + 1), REPLAY_FULL);
    assert_int_equal(replay_check_add(rc, 1, "other", "a", T0 + 100, T0 + 1), REPLAY_NEW);
    assert_int_equal(replay_check_add(rc, 1, "other", "b", T0 + 100, T0 + 1), REPLAY_NEW);
    assert_int_equal(replay_check_add(rc, 1, "other", "a", T0 + 100, T0 + 2), REPLAY_SEEN);
    assert_int_equal(replay_check_add(rc, 2, "x", "a", T0 + 100, T0), REPLAY_ERROR); /* no such */
    /* the flood's tokens expire: its share has room again */
    assert_int_equal(replay_check_add(rc, 0, "flood", "c", T0 + 300, T0 + 150), REPLAY_NEW);
    replay_free(rc);
}

struct race {
    struct replay_cache *rc;
    int fresh;
};

static void *race_run(void *arg)
{
    struct race *r = arg;
    char jti[32];
    for (int i = 0; i < RACE_JTIS; i++) {
        snprintf(jti, sizeof jti, "jti-%d", i);
        r->fresh += replay_check_add(r->rc, 0, "iss", jti, T0 + 100, T0) == REPLAY_NEW;
    }
    return NULL;
}

/* Threads offering the same jtis: each is new exactly once. */
static void test_replay_threads(void **state)
{
    (void)state;
    pthread_t t[RACE_THREADS];
    struct race r[RACE_THREADS];
    struct replay_cache *rc = replay_new(REPLAY_DEFAULT_MAX, 1);
    for (int i = 0; i < RACE_THREADS; i++) {
        r[i] = (struct race){.rc = rc};
        assert_int_equal(pthread_create(&t[i], NULL, race_run, &r[i]), 0);
    }
    int fresh = 0;
    for (int i = 0; i < RACE_THREADS; i++) {
        pthread_join(t[i], NULL);
        fresh += r[i].fresh;
    }
    assert_int_equal(fresh, RACE_JTIS);
    assert_int_equal(replay_size(rc), RACE_JTIS);
    replay_free(rc);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_sandbox_key),
        cmocka_unit_test(test_rfc7638_thumbprint),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_refused_sets),
        cmocka_unit_test(test_skipped_keys),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_unavailable_and_pinned),
        cmocka_unit_test(test_replay_basics),
        cmocka_unit_test(test_replay_fair_to_every_issuer),
        cmocka_unit_test(test_replay_threads),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("jwks", tests, NULL, NULL);
}

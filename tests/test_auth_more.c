/* test_auth_more.c - JWT verification beyond the table: identity and jti replay, other
 * allowed algorithms, bad key files, concurrent callers, and the tokens `myocds call` signs.
 */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "auth/client.h"
#include "auth/jwk.h"
#include "auth_fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define PER_THREAD 25

static void test_identity_and_replay(void **state)
{
    struct auth_verifier *v = *state;
    struct auth_identity who;
    struct spec s = {.claims_extra = ",\"tenant\":\"org-17\"", .jti = "\"same-jti\""};
    char *tok = fx_token(&s, fx.now);
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_OK);
    assert_string_equal(who.iss, ISS);
    assert_string_equal(who.tenant, "org-17");
    assert_string_equal(who.jti, "same-jti");
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_R_REPLAY);
    assert_string_equal(who.iss, ""); /* nothing filled on a refusal */
    free(tok);
    /* The same jti from another issuer is another token. */
    s.iss = ISS_FILE_ONLY;
    tok = fx_token(&s, fx.now);
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_OK);
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_R_REPLAY);
    free(tok);
    assert_int_equal(auth_count(v, AUTH_OK), 2);
    assert_int_equal(auth_count(v, AUTH_R_REPLAY), 2);
}

/* A stand-in for the replicas' shared check (the store's jwt_jtis). */
struct fake_shared {
    int rc;       /* what it answers: 0, or -1 (the server cannot be reached) */
    bool seen;    /* ... and whether another replica used the pair */
    int calls;    /* how often it was asked */
    char key[64]; /* the retry key it was given */
    time_t forget_at;
};

static int fake_shared_fn(void *ctx, const char *iss, const char *jti, time_t forget_at,
                          const char *retry_key, bool *seen)
{
    struct fake_shared *f = ctx;
    assert_string_equal(iss, ISS);
    assert_non_null(jti);
    f->calls++;
    f->forget_at = forget_at;
    snprintf(f->key, sizeof f->key, "%s", retry_key);
    *seen = f->seen;
    return f->rc;
}

/* The shared check comes after this process's cache: a replay here never reaches it, a
 * replay elsewhere is refused, and a check that cannot be made refuses the token without
 * spending it (the cache forgets it again). */
static void test_shared_replay(void **state)
{
    struct auth_verifier *v = *state;
    struct auth_identity who;
    struct fake_shared f = {0};
    static const char *const auds[] = {AUD};
    char header[TOK_MAX + 16];
    auth_verifier_share_replay(v, fake_shared_fn, &f);
    char *tok = fx_token(&(struct spec){.jti = "\"shared-1\""}, fx.now);
    snprintf(header, sizeof header, "Bearer %s", tok);
    f.rc = -1;
    assert_int_equal(auth_verify_ex(v, header, "try-1", auds, 1, fx.now, &who),
                     AUTH_R_REPLAY_UNCHECKED);
    assert_string_equal(who.iss, "");
    assert_string_equal(f.key, "try-1");
    assert_true(f.forget_at > fx.now);
    f.rc = 0;
    assert_int_equal(auth_verify_ex(v, header, NULL, auds, 1, fx.now, &who), AUTH_OK);
    assert_string_equal(f.key, ""); /* no key: an empty one */
    assert_int_equal(f.calls, 2);
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_R_REPLAY);
    assert_int_equal(f.calls, 2); /* refused by the cache in front */
    free(tok);
    f.seen = true; /* another replica used this one */
    tok = fx_token(&(struct spec){.jti = "\"shared-2\""}, fx.now);
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_R_REPLAY);
    free(tok);
    assert_int_equal(auth_count(v, AUTH_R_REPLAY_UNCHECKED), 1);
    assert_string_equal(auth_reason_label(AUTH_R_REPLAY_UNCHECKED), "replay_unavailable");
}

static void test_es256_allowed(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    struct auth_verifier *v = NULL;
    struct cfg c = fx.cfg;
    char *algs[] = {"ES256"};
    c.auth_allowed_algs = algs;
    c.n_auth_allowed_algs = 1;
    assert_int_equal(auth_verifier_new_ex(&c, NULL, NULL, 10, &v, &err), 0);
    assert_int_equal(fx_verify_spec(v, &(struct spec){.alg = "ES256", .key = K_EC256}), AUTH_OK);
    assert_int_equal(fx_verify_spec(v, &(struct spec){0}), AUTH_R_ALG);
    /* ES256 naming a P-384 key: the curve must fit the algorithm. */
    assert_int_equal(fx_verify_spec(v, &(struct spec){.alg = "ES256", .sign_alg = "ES384"}),
                     AUTH_R_KEY_TYPE);
    auth_verifier_free(v);
    char *bad[] = {"HS256"};
    c.auth_allowed_algs = bad;
    assert_int_equal(auth_verifier_new_ex(&c, NULL, NULL, 10, &v, &err), -400);
    assert_null(v);
}

static void test_bad_jwks_file(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    struct auth_verifier *v = NULL;
    struct cfg c = fx.cfg;
    struct cfg_issuer is = {.iss = ISS, .jwks_file = "/nonexistent/jwks.json"};
    c.issuers = &is;
    c.n_issuers = 1;
    assert_int_equal(auth_verifier_new_ex(&c, NULL, NULL, 10, &v, &err), -400);
    assert_non_null(strstr(err.msg, "/nonexistent/jwks.json"));
    assert_null(v);
}

/* Tokens of `myocds call` (libjwt signing) pass the verifier. */
static void test_client_tokens(void **state)
{
    struct auth_verifier *v = *state;
    struct myocds_err err = {0};
    struct auth_identity who;
    struct auth_sign_opts o = {.iss = ISS, .aud = AUD, .kid = "ec-a", .now = fx.now};
    size_t len = 0;
    char *tok = NULL;
    char *pem = fx_private_pem(fx.keys[K_EC_A], &len);
    assert_int_equal(auth_sign_token(pem, len, &o, &tok, &err), 0);
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_OK); /* ES384 from the P-384 key */
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_R_REPLAY);
    free(tok);
    /* Without --kid: the RFC 7638 thumbprint, which this JWKS does not use. */
    o.kid = NULL;
    assert_int_equal(auth_sign_token(pem, len, &o, &tok, &err), 0);
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_R_KID_UNKNOWN);
    char thumb[44], hdr_json[256];
    unsigned char *hdr = NULL;
    size_t hdr_len = 0;
    assert_int_equal(jwk_thumbprint(fx.keys[K_EC_A], thumb), 0);
    assert_int_equal(jwk_b64url_decode(tok, (size_t)(strchr(tok, '.') - tok), 200, &hdr, &hdr_len),
                     0);
    snprintf(hdr_json, sizeof hdr_json, "\"kid\":\"%s\"", thumb);
    assert_non_null(strstr((char *)hdr, hdr_json));
    assert_non_null(strstr((char *)hdr, "\"typ\":\"JWT\""));
    free(hdr);
    free(tok);
    o.alg = "RS384"; /* does not fit an EC key */
    assert_int_equal(auth_sign_token(pem, len, &o, &tok, &err), -400);
    assert_non_null(strstr(err.msg, "does not fit"));
    o.alg = "HS256";
    assert_int_equal(auth_sign_token(pem, len, &o, &tok, &err), -400);
    free(pem);
    pem = fx_private_pem(fx.keys[K_RSA], &len);
    o = (struct auth_sign_opts){.iss = ISS, .aud = AUD, .kid = "rsa-1", .now = fx.now};
    assert_int_equal(auth_sign_token(pem, len, &o, &tok, &err), 0); /* RS384 */
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_OK);
    free(tok);
    free(pem);
    assert_int_equal(auth_sign_token("not a key", 9, &o, &tok, &err), -400);
    assert_null(tok);
}

struct race {
    struct auth_verifier *v;
    const char *shared; /* the same token for every thread: exactly one may pass */
    int own_ok;
    int shared_ok;
};

static void *race_run(void *arg)
{
    struct race *r = arg;
    static const char *const auds[] = {AUD};
    struct auth_identity who;
    char header[TOK_MAX];
    snprintf(header, sizeof header, "Bearer %s", r->shared);
    r->shared_ok = auth_verify(r->v, header, auds, 1, fx.now, &who) == AUTH_OK;
    return NULL;
}

static void test_threads(void **state)
{
    struct auth_verifier *v = *state;
    pthread_t t[THREADS];
    struct race r[THREADS];
    char *shared = fx_token(&(struct spec){.key = K_RSA, .alg = "RS384"}, fx.now);
    for (int i = 0; i < THREADS; i++) {
        r[i] = (struct race){.v = v, .shared = shared};
        assert_int_equal(pthread_create(&t[i], NULL, race_run, &r[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < PER_THREAD; i++)
        ok += fx_verify_spec(v, &(struct spec){.key = i % 2 ? K_EC_B : K_EC_A}) == AUTH_OK;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ok += r[i].shared_ok * 1000;
    }
    assert_int_equal(ok, PER_THREAD + 1000);
    free(shared);
}

/* One issuer's flood fills its own share of the replay cache only: with room for 6 live
 * tokens in 3 shares (2 issuers and the rest), ISS's third token is refused and the other
 * issuer's next one is still accepted. */
static void test_issuer_flood(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    struct auth_verifier *v = NULL;
    struct auth_identity who;
    assert_int_equal(auth_verifier_new_ex(&fx.cfg, NULL, NULL, 6, &v, &err), 0);
    assert_int_equal(fx_verify_spec(v, &(struct spec){0}), AUTH_OK);
    assert_int_equal(fx_verify_spec(v, &(struct spec){0}), AUTH_OK);
    assert_int_equal(fx_verify_spec(v, &(struct spec){0}), AUTH_R_REPLAY_FULL);
    char *tok = fx_token(&(struct spec){.iss = ISS_FILE_ONLY}, fx.now);
    assert_int_equal(fx_verify_tok(v, tok, 1, &who), AUTH_OK);
    free(tok);
    auth_verifier_free(v);
}

/* The auth.* config keys: defaults, ranges, and no symmetric or unknown algorithm. */
static void test_config_keys(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"auth\":{\"allowed_algs\":[\"HS256\"]}}",
        "{\"auth\":{\"allowed_algs\":[\"none\"]}}",
        "{\"auth\":{\"allowed_algs\":[\"es384\"]}}",
        "{\"auth\":{\"allowed_algs\":[]}}",
        "{\"auth\":{\"allowed_algs\":\"ES384\"}}",
        "{\"auth\":{\"max_lifetime_s\":0}}",
        "{\"auth\":{\"max_lifetime_s\":3601}}",
        "{\"auth\":{\"clock_skew_s\":-1}}",
        "{\"auth\":{\"issuers\":[{\"iss\":\"x\",\"jwks_uri\":\"http://ehr/jwks\"}]}}",
    };
    struct cfg c;
    struct myocds_err err = {0};
    assert_int_equal(cfg_parse("{}", 2, &c, &err), 0);
    assert_int_equal(c.n_auth_allowed_algs, 2);
    assert_string_equal(c.auth_allowed_algs[0], "ES384");
    assert_string_equal(c.auth_allowed_algs[1], "RS384");
    assert_int_equal(c.auth_max_lifetime_s, 300);
    assert_int_equal(c.auth_clock_skew_s, 60);
    assert_null(c.auth_jwks_ca_file);
    cfg_free(&c);
    const char ok[] = "{\"auth\":{\"allowed_algs\":[\"ES256\",\"RS512\"],\"max_lifetime_s\":60,"
                      "\"clock_skew_s\":0,\"jwks_ca_file\":\"/etc/ca.pem\"}}";
    assert_int_equal(cfg_parse(ok, sizeof ok - 1, &c, &err), 0);
    assert_int_equal(c.n_auth_allowed_algs, 2);
    assert_string_equal(c.auth_allowed_algs[1], "RS512");
    assert_int_equal(c.auth_max_lifetime_s, 60);
    assert_int_equal(c.auth_clock_skew_s, 0);
    assert_string_equal(c.auth_jwks_ca_file, "/etc/ca.pem");
    cfg_free(&c);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        print_message("bad config %zu\n", i);
        assert_int_equal(cfg_parse(bad[i], strlen(bad[i]), &c, &err), -400);
        assert_non_null(strstr(err.msg, "auth."));
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity_and_replay, fx_verifier_setup,
                                        fx_verifier_teardown),
        cmocka_unit_test_setup_teardown(test_shared_replay, fx_verifier_setup,
                                        fx_verifier_teardown),
        cmocka_unit_test_setup_teardown(test_client_tokens, fx_verifier_setup,
                                        fx_verifier_teardown),
        cmocka_unit_test(test_es256_allowed),
        cmocka_unit_test(test_bad_jwks_file),
        cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_issuer_flood),
        cmocka_unit_test_setup_teardown(test_threads, fx_verifier_setup, fx_verifier_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("auth_more", tests, fx_group_setup, fx_group_teardown);
}

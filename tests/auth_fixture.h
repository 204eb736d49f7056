/* auth_fixture.h - keys made at test time, a JWKS file and config that publish them, and
 * JWTs built and signed with OpenSSL (independently of libjwt) in any shape a test needs.
 */
#ifndef MYOCDS_TESTS_AUTH_FIXTURE_H
#define MYOCDS_TESTS_AUTH_FIXTURE_H

#include "auth/auth.h"
#include "util/config.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define ISS "https://ehr.test"
#define ISS_FILE_ONLY "https://ehr-file-only.test"
#define PINNED_URI "https://ehr.test/.well-known/jwks.json"
#define AUD "https://cds.test/cds-services/myositis-order-sign"
#define AUD_FEEDBACK AUD "/feedback"
#define TOK_MAX 16384

enum key_id { K_EC_A, K_EC_B, K_RSA, K_EC256, K_ROGUE, K_COUNT };
extern const char *const fx_kid_of[K_COUNT];

/* The keys, their JWKS file and a config naming it; set up once per test group. */
struct fx_state {
    EVP_PKEY *keys[K_COUNT];
    char dir[64];
    char jwks[96];
    struct cfg cfg;
    time_t now;
    unsigned jti_seq;
};
extern struct fx_state fx;

/* What a test token looks like; zero fields take the defaults of a good ES384 token. */
struct spec {
    const char *alg;      /* header alg; NULL: ES384 */
    const char *sign_alg; /* how it is signed; NULL: as alg */
    enum key_id key;      /* signing key */
    const char *kid;      /* NULL: the key's kid; "-": omitted */
    const char *typ;      /* NULL: "JWT"; "-": omitted */
    const char *hdr_extra;
    const char *iss;     /* NULL: ISS */
    const char *aud;     /* raw JSON; NULL: AUD */
    long exp, iat;       /* offsets from now; both 0: +300 and 0 */
    const char *exp_raw; /* raw JSON for exp; "-": omitted */
    const char *iat_raw; /* raw JSON for iat; "-": omitted */
    const char *jti;     /* NULL: a fresh one; "-": omitted */
    const char *claims_extra;
    bool hmac;      /* HS*: keyed with the public PEM text of key */
    bool unsigned_; /* empty signature */
};

/* cmocka group setup/teardown: keys, JWKS file (every key but K_ROGUE), fx.cfg. */
int fx_group_setup(void **state);
int fx_group_teardown(void **state);
/* cmocka test setup/teardown: *state = a verifier of fx.cfg (replay bound 1000). */
int fx_verifier_setup(void **state);
int fx_verifier_teardown(void **state);

/* A token as s says, valid at now (caller frees). */
char *fx_token(const struct spec *s, time_t now);
/* Verifies tok at fx.now as "Bearer tok" for AUD (and AUD_FEEDBACK when n_auds is 2). */
enum auth_reason fx_verify_tok(struct auth_verifier *v, const char *tok, size_t n_auds,
                               struct auth_identity *who);
/* fx_token(s, fx.now) through fx_verify_tok with AUD. */
enum auth_reason fx_verify_spec(struct auth_verifier *v, const struct spec *s);
/* PEM texts of k (caller frees). */
char *fx_public_pem(EVP_PKEY *k, size_t *len);
char *fx_private_pem(EVP_PKEY *k, size_t *len);

#endif

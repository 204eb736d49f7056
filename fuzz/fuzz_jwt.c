/* fuzz_jwt.c - the service call's JWT: the compact token taken apart under limits
 * (token_peek), its claims checked (token_claims, the input read as claims JSON too), and
 * the whole verification (auth_verify, with libjwt) by a verifier that trusts one issuer
 * and the keys of a pinned JWKS file: the one MYOCDS_FUZZ_JWKS names (fuzz/run.py writes
 * it with the key that signed its seed tokens), else one made at start from a fresh key.
 */
#include "auth/auth.h"
#include "auth/jwk.h"
#include "auth/token.h"
#include "fuzz.h"
#include "util/config.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_ISS "https://ehr.example.org"
#define FUZZ_AUD "https://cds.example.org/cds-services/myositis-order-sign"
#define FUZZ_NOW 1773655200LL /* 2026-03-16, the seed tokens' day */
#define FUZZ_SKEW_S 60
#define FUZZ_LIFETIME_S 3600
#define FUZZ_REPLAY_MAX 64
#define FUZZ_CFG_MAX 1024
#define FUZZ_BEARER "Bearer "

static volatile size_t fuzz_sink; /* keeps what was read observable */

/* A JWKS file with one fresh P-384 key, at path[cap] (the caller unlinks it). */
static int fuzz_own_jwks(char *path, size_t cap)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    char *jwk = key != NULL ? jwk_public_json(key, "fuzz-1", "ES384") : NULL;
    int fd = -1;
    snprintf(path, cap, "/tmp/myocds-fuzz-jwks-XXXXXX");
    if (jwk != NULL)
        fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int rc = f != NULL && fprintf(f, "{\"keys\":[%s]}", jwk) > 0 ? 0 : -1;
    if (f != NULL)
        fclose(f);
    free(jwk);
    EVP_PKEY_free(key);
    return rc;
}

/* The verifier, made once: one issuer, every asymmetric algorithm allowed. */
static struct auth_verifier *fuzz_verifier(void)
{
    static struct auth_verifier *v;
    char own[64] = "";
    char json[FUZZ_CFG_MAX];
    struct cfg cfg;
    struct myocds_err err = {0};
    if (v != NULL)
        return v;
    const char *jwks = getenv("MYOCDS_FUZZ_JWKS");
    if (jwks == NULL && fuzz_own_jwks(own, sizeof own) == 0)
        jwks = own;
    snprintf(json, sizeof json,
             "{\"auth\":{\"issuers\":[{\"iss\":\"%s\",\"jwks_file\":\"%s\"}],\"allowed_algs\":"
             "[\"ES256\",\"ES384\",\"ES512\",\"RS256\",\"RS384\",\"RS512\"]}}",
             FUZZ_ISS, jwks != NULL ? jwks : "");
    if (cfg_parse(json, strlen(json), &cfg, &err) != 0 ||
        auth_verifier_new_ex(&cfg, NULL, NULL, FUZZ_REPLAY_MAX, &v, &err) != 0) {
        fprintf(stderr, "fuzz_jwt: no verifier: %s\n", err.msg);
        abort(); /* a broken setup, not a finding */
    }
    cfg_free(&cfg);
    if (own[0] != '\0')
        unlink(own);
    return v;
}

static unsigned fuzz_all_algs(void)
{
    static const char *const names[] = {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512"};
    unsigned all = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        unsigned bit = 0;
        if (token_alg_find(names[i], &bit) != NULL)
            all |= bit;
    }
    return all;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const auds[] = {FUZZ_AUD};
    struct auth_verifier *v = fuzz_verifier();
    struct token_head head;
    struct claim_values vals;
    struct auth_identity who;
    const struct claim_rules rules = {FUZZ_ISS,         auds,        1,
                                      (time_t)FUZZ_NOW, FUZZ_SKEW_S, FUZZ_LIFETIME_S};
    size_t n = strlen(FUZZ_BEARER);
    char *hdr = malloc(n + size + 1);
    if (hdr == NULL)
        return 0;
    memcpy(hdr, FUZZ_BEARER, n);
    memcpy(hdr + n, data, size);
    hdr[n + size] = '\0';
    enum auth_reason r1 = token_peek((const char *)data, size, fuzz_all_algs(), &head);
    enum auth_reason r2 = token_claims(hdr + n, &rules, &vals);
    enum auth_reason r3 = auth_verify(v, hdr, auds, 1, (time_t)FUZZ_NOW, &who);
    if (r1 >= AUTH_REASON_COUNT || r2 >= AUTH_REASON_COUNT || r3 >= AUTH_REASON_COUNT)
        abort(); /* every outcome is a known reason */
    fuzz_sink = strlen(auth_reason_text(r3)) + (r3 == AUTH_OK ? strlen(who.iss) : 0);
    free(hdr);
    return 0;
}

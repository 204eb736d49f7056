/* token.h - the compact JWT taken apart under limits: the JOSE header checked before any
 * key is chosen, and the claims checked after libjwt verified the signature.
 */
#ifndef MYOCDS_AUTH_TOKEN_H
#define MYOCDS_AUTH_TOKEN_H

#include "auth/auth.h"
#include "auth/jwk.h"

#include <jwt.h>
#include <stdbool.h>
#include <time.h>

/* One asymmetric algorithm the service can verify, and the key it needs. */
struct token_alg {
    const char *name;
    jwt_alg_t jalg;
    enum jwk_kind kind;
};

/* The algorithm named name (exact, case-sensitive) and its bit for allow masks; NULL for
 * anything else (none, HS*, PS*, unknown). */
const struct token_alg *token_alg_find(const char *name, unsigned *bit);

/* What the header says, and the unverified iss: used only to choose the key. */
struct token_head {
    const struct token_alg *alg;
    char kid[JWK_KID_MAX + 1];
    char jku[AUTH_URL_MAX + 1];
    bool has_jku;
    char iss[AUTH_ISS_MAX + 1];
};

/* Checks tok[0..len) (three base64url segments) and its header: alg in allowed (a mask of
 * token_alg_find bits), typ "JWT", kid present, no crit. Fills *out. */
enum auth_reason token_peek(const char *tok, size_t len, unsigned allowed, struct token_head *out);

/* What the claims must satisfy. */
struct claim_rules {
    const char *iss;
    const char *const *auds;
    size_t n_auds;
    time_t now;
    long skew_s;
    long max_lifetime_s;
};

struct claim_values {
    long long exp;
    char jti[AUTH_JTI_MAX + 1];
    char tenant[AUTH_TENANT_MAX + 1];
};

/* Checks the verified claims (a JSON object text) against *r; fills *out. */
enum auth_reason token_claims(const char *claims_json, const struct claim_rules *r,
                              struct claim_values *out);

#endif

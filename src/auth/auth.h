/* auth.h - who is calling? Verification of the CDS client's JWT (CDS Hooks 2.0, section
 * "Trusting CDS Clients") against the configured issuers, and the refusal counters.
 *
 * The token's JOSE header is read and checked here (alg allow-list, typ, kid, jku) before
 * libjwt 1.10 sees it with a key, because libjwt takes the algorithm from the token and
 * would verify an HMAC keyed with a public key's PEM text. libjwt then checks the signature
 * with the PEM of the key chosen by (iss, kid); every claim is checked here.
 */
#ifndef MYOCDS_AUTH_AUTH_H
#define MYOCDS_AUTH_AUTH_H

#include "auth/jwks.h"
#include "myocds/myocds.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define AUTH_TOKEN_MAX 8192 /* longest compact JWT accepted, in bytes */
#define AUTH_ISS_MAX 255    /* longest iss, in bytes */
#define AUTH_TENANT_MAX 127 /* longest tenant recorded */
#define AUTH_JTI_MAX 256    /* longest jti */
#define AUTH_URL_MAX 1024   /* longest jku */

/* Every outcome of a verification: enum name, metric label, the message the 401 carries
 * (a fixed text: never a value from the token). */
#define AUTH_REASONS(X)                                                                            \
    X(AUTH_OK, "accepted", "ok")                                                                   \
    X(AUTH_R_NO_TOKEN, "no_token", "jwt: missing Authorization: Bearer token")                     \
    X(AUTH_R_MALFORMED, "malformed", "jwt: malformed token")                                       \
    X(AUTH_R_ALG, "alg", "jwt: algorithm not allowed")                                             \
    X(AUTH_R_TYP, "typ", "jwt: typ missing or not JWT")                                            \
    X(AUTH_R_KID, "kid_missing", "jwt: kid missing")                                               \
    X(AUTH_R_CRIT, "crit", "jwt: unsupported critical header")                                     \
    X(AUTH_R_ISSUER, "issuer", "jwt: unknown issuer")                                              \
    X(AUTH_R_JKU, "jku", "jwt: jku not allowed for this issuer")                                   \
    X(AUTH_R_KID_UNKNOWN, "kid_unknown", "jwt: unknown kid")                                       \
    X(AUTH_R_KEYS, "keys_unavailable", "jwt: the issuer's keys are unavailable")                   \
    X(AUTH_R_KEY_TYPE, "key_type", "jwt: alg does not match the key")                              \
    X(AUTH_R_SIGNATURE, "signature", "jwt: bad signature")                                         \
    X(AUTH_R_CLAIMS, "claims", "jwt: malformed claims")                                            \
    X(AUTH_R_AUD, "audience", "jwt: audience mismatch")                                            \
    X(AUTH_R_EXP, "exp", "jwt: exp missing or not a number")                                       \
    X(AUTH_R_EXPIRED, "expired", "jwt: expired")                                                   \
    X(AUTH_R_IAT, "iat", "jwt: iat missing or not a number")                                       \
    X(AUTH_R_IAT_FUTURE, "iat_future", "jwt: iat in the future")                                   \
    X(AUTH_R_LIFETIME, "lifetime", "jwt: lifetime over the maximum")                               \
    X(AUTH_R_NBF, "nbf", "jwt: not valid yet (nbf)")                                               \
    X(AUTH_R_JTI, "jti", "jwt: jti missing")                                                       \
    X(AUTH_R_REPLAY, "replay", "jwt: jti replayed")                                                \
    X(AUTH_R_REPLAY_FULL, "replay_full", "jwt: too many live tokens")                              \
    X(AUTH_R_REPLAY_UNCHECKED, "replay_unavailable", "jwt: the replay check is unavailable")       \
    X(AUTH_R_INTERNAL, "internal", "jwt: verification failed")

#define AUTH_ENUM(name, label, text) name,
enum auth_reason { AUTH_REASONS(AUTH_ENUM) AUTH_REASON_COUNT };
#undef AUTH_ENUM

struct cfg;
struct auth_verifier;

/* Who called, once verified (strings empty when absent). */
struct auth_identity {
    char iss[AUTH_ISS_MAX + 1];
    char tenant[AUTH_TENANT_MAX + 1];
    char jti[AUTH_JTI_MAX + 1];
};

/* A verifier for cfg's issuers and auth.* settings (copied: cfg may be freed afterwards);
 * every jwks_file is read now. JWKS URLs are fetched with jwks_fetch_https, trusting
 * auth.jwks_ca_file or else the system's CAs. Caller owns *out. */
int auth_verifier_new(const struct cfg *cfg, struct auth_verifier **out, struct myocds_err *err);

/* Same, with fetch(ctx, ...) for JWKS URLs (tests; ctx must outlive the verifier) and
 * replay_max live jtis remembered. */
int auth_verifier_new_ex(const struct cfg *cfg, jwks_fetch_fn fetch, void *ctx, size_t replay_max,
                         struct auth_verifier **out, struct myocds_err *err);
void auth_verifier_free(struct auth_verifier *v);

/* Verifies the Authorization header value (NULL when absent) at time now: the token's aud
 * must hold one of auds[0..n_auds). AUTH_OK fills *who; anything else is a refusal. */
enum auth_reason auth_verify(struct auth_verifier *v, const char *authorization,
                             const char *const *auds, size_t n_auds, time_t now,
                             struct auth_identity *who);

/* The replay check every replica shares, asked after this process's own cache found the
 * pair new: remembers (iss, jti) until forget_at unless another call used it, and sets
 * *seen then. A second use carrying the first use's retry_key (non-empty, the proxy's id
 * of one client request) within the retry window is its proxy's retry, not a replay. 0, or
 * -1 when it cannot answer (the call is refused: AUTH_R_REPLAY_UNCHECKED). All borrowed. */
typedef int (*auth_shared_replay_fn)(void *ctx, const char *iss, const char *jti, time_t forget_at,
                                     const char *retry_key, bool *seen);

/* Puts fn(ctx, ...) behind v's replay cache (ctx borrowed: it must outlive v). Call before
 * any auth_verify. */
void auth_verifier_share_replay(struct auth_verifier *v, auth_shared_replay_fn fn, void *ctx);

/* auth_verify with the proxy's retry key of the request (NULL or "": none), given to the
 * shared replay check. */
enum auth_reason auth_verify_ex(struct auth_verifier *v, const char *authorization,
                                const char *retry_key, const char *const *auds, size_t n_auds,
                                time_t now, struct auth_identity *who);

/* The fixed message and the metric label of a reason. */
const char *auth_reason_text(enum auth_reason r);
const char *auth_reason_label(enum auth_reason r);

/* How many verifications ended with r (AUTH_OK: accepted) since v was made. */
unsigned long auth_count(struct auth_verifier *v, enum auth_reason r);

#endif

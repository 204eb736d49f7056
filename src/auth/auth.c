/* auth.c - the verifier: bearer token -> header checks -> issuer and key -> libjwt signature
 * check -> claims -> replay cache (then the replicas' shared check, when one is set); one
 * counter per outcome.
 */
#include "auth/auth.h"

#include "auth/replay.h"
#include "auth/token.h"
#include "util/config.h"

#include <jwt.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BEARER "Bearer"

struct auth_issuer {
    const char *iss;      /* borrowed from keys */
    const char *jwks_uri; /* borrowed from keys; NULL: no jku is allowed */
    struct jwks_issuer *keys;
};

struct auth_verifier {
    struct auth_issuer *issuers;
    size_t n_issuers;
    unsigned allowed; /* token_alg_find bits */
    long skew_s;
    long max_lifetime_s;
    struct replay_cache *replay;
    auth_shared_replay_fn shared; /* NULL: this process's cache alone */
    void *shared_ctx;
    char *ca_file; /* owned copy of auth.jwks_ca_file, the real fetch's context */
    atomic_ulong counts[AUTH_REASON_COUNT];
};

#define AUTH_TEXT(name, label, text) text,
#define AUTH_LABEL(name, label, text) label,
static const char *const auth_texts[] = {AUTH_REASONS(AUTH_TEXT)};
static const char *const auth_labels[] = {AUTH_REASONS(AUTH_LABEL)};

const char *auth_reason_text(enum auth_reason r)
{
    return (unsigned)r < AUTH_REASON_COUNT ? auth_texts[r] : auth_texts[AUTH_R_INTERNAL];
}

const char *auth_reason_label(enum auth_reason r)
{
    return (unsigned)r < AUTH_REASON_COUNT ? auth_labels[r] : auth_labels[AUTH_R_INTERNAL];
}

static int allowed_mask(const struct cfg *cfg, unsigned *mask, struct myocds_err *err)
{
    *mask = 0;
    for (size_t i = 0; i < cfg->n_auth_allowed_algs; i++) {
        unsigned bit = 0;
        if (token_alg_find(cfg->auth_allowed_algs[i], &bit) == NULL)
            return myocds_err_set(err, 400, "auth.allowed_algs: %s is not supported",
                                  cfg->auth_allowed_algs[i]);
        *mask |= bit;
    }
    return *mask != 0 ? 0 : myocds_err_set(err, 400, "auth.allowed_algs is empty");
}

/* With own_ca the fetch context is a copy of auth.jwks_ca_file instead of ctx.
 * Ownership: *out owned by the caller on success (auth_verifier_free). */
static int build(const struct cfg *cfg, jwks_fetch_fn fetch, void *ctx, bool own_ca,
                 size_t replay_max, struct auth_verifier **out, struct myocds_err *err)
{
    struct auth_verifier *v = calloc(1, sizeof *v);
    int rc = 0;
    *out = NULL;
    if (v == NULL)
        return myocds_err_set(err, 500, "out of memory");
    if (own_ca && cfg->auth_jwks_ca_file != NULL &&
        (ctx = v->ca_file = strdup(cfg->auth_jwks_ca_file)) == NULL) {
        free(v);
        return myocds_err_set(err, 500, "out of memory");
    }
    v->skew_s = cfg->auth_clock_skew_s;
    v->max_lifetime_s = cfg->auth_max_lifetime_s;
    for (size_t i = 0; i < AUTH_REASON_COUNT; i++)
        atomic_init(&v->counts[i], 0);
    if ((rc = allowed_mask(cfg, &v->allowed, err)) != 0)
        goto fail;
    /* one share of the replay cache per trusted issuer (and one for the rest) */
    size_t parts = cfg->n_issuers + 1;
    v->replay = replay_new(replay_max >= parts ? replay_max : parts, parts);
    v->issuers = calloc(cfg->n_issuers + 1, sizeof *v->issuers);
    if (v->replay == NULL || v->issuers == NULL) {
        rc = myocds_err_set(err, 500, "out of memory");
        goto fail;
    }
    for (; v->n_issuers < cfg->n_issuers; v->n_issuers++) {
        const struct cfg_issuer *is = &cfg->issuers[v->n_issuers];
        struct auth_issuer *ai = &v->issuers[v->n_issuers];
        if ((rc = jwks_issuer_new(is, fetch, ctx, &ai->keys, err)) != 0)
            goto fail;
        ai->iss = jwks_issuer_iss(ai->keys);
        ai->jwks_uri = jwks_issuer_uri(ai->keys);
    }
    *out = v;
    return 0;
fail:
    auth_verifier_free(v);
    return rc;
}

int auth_verifier_new_ex(const struct cfg *cfg, jwks_fetch_fn fetch, void *ctx, size_t replay_max,
                         struct auth_verifier **out, struct myocds_err *err)
{
    return build(cfg, fetch, ctx, false, replay_max, out, err);
}

int auth_verifier_new(const struct cfg *cfg, struct auth_verifier **out, struct myocds_err *err)
{
    return build(cfg, jwks_fetch_https, NULL, true, REPLAY_DEFAULT_MAX, out, err);
}

void auth_verifier_free(struct auth_verifier *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n_issuers; i++)
        jwks_issuer_free(v->issuers[i].keys);
    free(v->issuers);
    replay_free(v->replay);
    free(v->ca_file);
    free(v);
}

/* The token of "Bearer <token>" (scheme case-insensitive) copied into tok[AUTH_TOKEN_MAX+1]. */
static enum auth_reason bearer_token(const char *h, char *tok, size_t *len)
{
    size_t n;
    if (h == NULL)
        return AUTH_R_NO_TOKEN;
    h += strspn(h, " \t");
    if (strncasecmp(h, BEARER, sizeof BEARER - 1) != 0 ||
        (h[sizeof BEARER - 1] != ' ' && h[sizeof BEARER - 1] != '\t'))
        return AUTH_R_NO_TOKEN;
    h += sizeof BEARER - 1;
    h += strspn(h, " \t");
    n = strlen(h);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n == 0)
        return AUTH_R_NO_TOKEN;
    if (n > AUTH_TOKEN_MAX)
        return AUTH_R_MALFORMED;
    memcpy(tok, h, n);
    tok[n] = '\0';
    *len = n;
    return AUTH_OK;
}

static const struct auth_issuer *find_issuer(const struct auth_verifier *v, const char *iss)
{
    for (size_t i = 0; i < v->n_issuers; i++) {
        if (strcmp(v->issuers[i].iss, iss) == 0)
            return &v->issuers[i];
    }
    return NULL;
}

/* The issuer's key for the header's kid, of the type its alg demands; key->pem owned by the
 * caller afterwards (also on a refusal). */
static enum auth_reason choose_key(const struct auth_issuer *ai, const struct token_head *h,
                                   time_t now, struct jwk_key *key)
{
    /* jku is never fetched: it is only allowed when it names the configured JWKS URL. */
    if (h->has_jku && (ai->jwks_uri == NULL || strcmp(h->jku, ai->jwks_uri) != 0))
        return AUTH_R_JKU;
    switch (jwks_issuer_key(ai->keys, h->kid, now, key)) {
    case JWKS_FOUND:
        break;
    case JWKS_NO_KID:
        return AUTH_R_KID_UNKNOWN;
    default:
        return AUTH_R_KEYS;
    }
    if (key->kind != h->alg->kind || (key->kind == JWK_KIND_RSA && key->bits < JWK_RSA_MIN_BITS) ||
        (key->alg[0] != '\0' && strcmp(key->alg, h->alg->name) != 0))
        return AUTH_R_KEY_TYPE;
    return AUTH_OK;
}

/* libjwt checks the signature with the chosen key; *claims (caller frees) is what it verified. */
static enum auth_reason check_signature(const char *tok, const struct token_head *h,
                                        const struct jwk_key *key, char **claims)
{
    jwt_t *jwt = NULL;
    enum auth_reason r = AUTH_R_SIGNATURE;
    const char *alg;
    const char *kid;
    /* A key_len of 0 would make libjwt skip the signature check altogether. */
    if (key->pem == NULL || key->pem_len == 0 || key->pem_len > INT_MAX)
        return AUTH_R_INTERNAL;
    if (jwt_decode(&jwt, tok, (const unsigned char *)key->pem, (int)key->pem_len) != 0)
        goto out;
    alg = jwt_get_header(jwt, "alg");
    kid = jwt_get_header(jwt, "kid");
    /* libjwt parsed the header again (with jansson): it must have seen what we checked. */
    r = AUTH_R_ALG;
    if (jwt_get_alg(jwt) != h->alg->jalg || alg == NULL || strcmp(alg, h->alg->name) != 0)
        goto out;
    r = AUTH_R_MALFORMED;
    if (kid == NULL || strcmp(kid, h->kid) != 0)
        goto out;
    *claims = jwt_get_grants_json(jwt, NULL);
    r = *claims != NULL ? AUTH_OK : AUTH_R_CLAIMS;
out:
    jwt_free(jwt);
    return r;
}

void auth_verifier_share_replay(struct auth_verifier *v, auth_shared_replay_fn fn, void *ctx)
{
    v->shared = fn;
    v->shared_ctx = ctx;
}

/* The shared check of a pair this process's cache found new; on a failure the cache
 * forgets the pair again, so the token is not spent by a check that was never made. */
static enum auth_reason shared_jti(struct auth_verifier *v, const char *iss, const char *jti,
                                   time_t forget_at, const char *retry_key)
{
    bool seen = false;
    if (v->shared == NULL)
        return AUTH_OK;
    if (v->shared(v->shared_ctx, iss, jti, forget_at, retry_key != NULL ? retry_key : "", &seen) !=
        0) {
        replay_forget(v->replay, iss, jti);
        return AUTH_R_REPLAY_UNCHECKED;
    }
    return seen ? AUTH_R_REPLAY : AUTH_OK;
}

static enum auth_reason remember_jti(struct auth_verifier *v, const char *iss,
                                     const struct claim_values *cv, const char *retry_key,
                                     time_t now)
{
    size_t part = v->n_issuers; /* the share of an issuer not in the list */
    time_t forget_at = (time_t)(cv->exp + v->skew_s);
    for (size_t i = 0; i < v->n_issuers; i++)
        if (strcmp(v->issuers[i].iss, iss) == 0)
            part = i;
    switch (replay_check_add(v->replay, part, iss, cv->jti, forget_at, now)) {
    case REPLAY_NEW:
        return shared_jti(v, iss, cv->jti, forget_at, retry_key);
    case REPLAY_SEEN:
        return AUTH_R_REPLAY;
    case REPLAY_FULL:
        return AUTH_R_REPLAY_FULL;
    default:
        return AUTH_R_INTERNAL;
    }
}

static enum auth_reason verify(struct auth_verifier *v, const char *authorization,
                               const char *retry_key, const struct claim_rules *rules,
                               struct auth_identity *who)
{
    char tok[AUTH_TOKEN_MAX + 1];
    struct token_head h;
    struct jwk_key key = {0};
    struct claim_values cv = {0};
    struct claim_rules r = *rules;
    const struct auth_issuer *ai;
    char *claims = NULL;
    size_t len = 0;
    enum auth_reason res = bearer_token(authorization, tok, &len);
    if (res != AUTH_OK || (res = token_peek(tok, len, v->allowed, &h)) != AUTH_OK)
        return res;
    if ((ai = find_issuer(v, h.iss)) == NULL)
        return AUTH_R_ISSUER;
    if ((res = choose_key(ai, &h, r.now, &key)) == AUTH_OK &&
        (res = check_signature(tok, &h, &key, &claims)) == AUTH_OK) {
        r.iss = ai->iss;
        res = token_claims(claims, &r, &cv);
    }
    if (res == AUTH_OK)
        res = remember_jti(v, ai->iss, &cv, retry_key, r.now);
    if (res == AUTH_OK) {
        memcpy(who->iss, ai->iss, strnlen(ai->iss, AUTH_ISS_MAX));
        memcpy(who->tenant, cv.tenant, sizeof who->tenant);
        memcpy(who->jti, cv.jti, sizeof who->jti);
    }
    free(claims);
    free(key.pem);
    return res;
}

enum auth_reason auth_verify(struct auth_verifier *v, const char *authorization,
                             const char *const *auds, size_t n_auds, time_t now,
                             struct auth_identity *who)
{
    return auth_verify_ex(v, authorization, NULL, auds, n_auds, now, who);
}

enum auth_reason auth_verify_ex(struct auth_verifier *v, const char *authorization,
                                const char *retry_key, const char *const *auds, size_t n_auds,
                                time_t now, struct auth_identity *who)
{
    struct claim_rules rules = {.auds = auds,
                                .n_auds = n_auds,
                                .now = now,
                                .skew_s = v->skew_s,
                                .max_lifetime_s = v->max_lifetime_s};
    memset(who, 0, sizeof *who);
    enum auth_reason r = verify(v, authorization, retry_key, &rules, who);
    atomic_fetch_add_explicit(&v->counts[r], 1, memory_order_relaxed);
    return r;
}

unsigned long auth_count(struct auth_verifier *v, enum auth_reason r)
{
    return (unsigned)r < AUTH_REASON_COUNT ? atomic_load(&v->counts[r]) : 0;
}

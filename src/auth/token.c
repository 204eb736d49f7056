/* token.c - compact JWT: segments, the JOSE header (json-c), and the claims of CDS Hooks 2.0.
 *
 * The header decides nothing but the key: alg must be on the allow-list (exact strings) and
 * typ must be "JWT" before libjwt is ever called with a key. Claims are read only from what
 * libjwt verified, with strict JSON types (libjwt's typed getters coerce silently).
 */
#include "auth/token.h"

#include "util/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NUMERIC_DATE_MAX (1LL << 40) /* seconds; far beyond any real exp */

static const struct token_alg token_algs[] = {
    {"RS256", JWT_ALG_RS256, JWK_KIND_RSA},  {"RS384", JWT_ALG_RS384, JWK_KIND_RSA},
    {"RS512", JWT_ALG_RS512, JWK_KIND_RSA},  {"ES256", JWT_ALG_ES256, JWK_KIND_P256},
    {"ES384", JWT_ALG_ES384, JWK_KIND_P384}, {"ES512", JWT_ALG_ES512, JWK_KIND_P521},
};

const struct token_alg *token_alg_find(const char *name, unsigned *bit)
{
    for (unsigned i = 0; name != NULL && i < sizeof token_algs / sizeof token_algs[0]; i++) {
        if (strcmp(name, token_algs[i].name) == 0) {
            if (bit != NULL)
                *bit = 1U << i;
            return &token_algs[i];
        }
    }
    return NULL;
}

/* A base64url segment -> a JSON object (owned by the caller), or NULL. */
static json_object *segment_json(const char *seg, size_t len)
{
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    json_object *o;
    if (jwk_b64url_decode(seg, len, AUTH_TOKEN_MAX, &raw, &raw_len) != 0)
        return NULL;
    o = json_parse_strict((const char *)raw, raw_len, NULL);
    free(raw);
    if (o != NULL && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

/* Copies a string member of at most max bytes into out; -1 when absent, empty, another
 * type or too long. */
static int copy_str(const json_object *o, const char *key, char *out, size_t max)
{
    json_object *v = json_get(o, key, json_type_string);
    size_t n = v != NULL ? (size_t)json_object_get_string_len(v) : 0;
    if (n == 0 || n > max)
        return -1;
    memcpy(out, json_object_get_string(v), n);
    out[n] = '\0';
    return 0;
}

static enum auth_reason check_header(const json_object *h, unsigned allowed, struct token_head *out)
{
    unsigned bit = 0;
    const char *typ = json_get_str(h, "typ");
    out->alg = token_alg_find(json_get_str(h, "alg"), &bit);
    if (out->alg == NULL || (bit & allowed) == 0)
        return AUTH_R_ALG;
    if (typ == NULL || strcasecmp(typ, "JWT") != 0)
        return AUTH_R_TYP;
    if (copy_str(h, "kid", out->kid, JWK_KID_MAX) != 0)
        return AUTH_R_KID;
    if (json_object_object_get_ex(h, "crit", NULL))
        return AUTH_R_CRIT;
    if (json_object_object_get_ex(h, "jku", NULL)) {
        if (copy_str(h, "jku", out->jku, AUTH_URL_MAX) != 0)
            return AUTH_R_MALFORMED;
        out->has_jku = true;
    }
    return AUTH_OK;
}

enum auth_reason token_peek(const char *tok, size_t len, unsigned allowed, struct token_head *out)
{
    const char *dot1 = memchr(tok, '.', len);
    const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - tok)) : NULL;
    json_object *head = NULL;
    json_object *body = NULL;
    enum auth_reason r = AUTH_R_MALFORMED;
    memset(out, 0, sizeof *out);
    if (len > AUTH_TOKEN_MAX || dot2 == NULL ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - tok)))
        return AUTH_R_MALFORMED;
    head = segment_json(tok, (size_t)(dot1 - tok));
    body = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (head == NULL || body == NULL)
        goto out;
    if ((r = check_header(head, allowed, out)) != AUTH_OK)
        goto out;
    r = AUTH_R_MALFORMED;
    if ((size_t)(dot2 + 1 - tok) == len) /* no signature */
        goto out;
    r = copy_str(body, "iss", out->iss, AUTH_ISS_MAX) == 0 ? AUTH_OK : AUTH_R_ISSUER;
out:
    json_object_put(head);
    json_object_put(body);
    return r;
}

/* A NumericDate claim (integer or fraction, truncated) into *out; -1 when absent or bad. */
static int numeric_date(const json_object *o, const char *key, long long *out)
{
    json_object *v = NULL;
    double d;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return -1;
    if (json_object_is_type(v, json_type_int)) {
        int64_t n = json_object_get_int64(v);
        if (n < 0 || n > NUMERIC_DATE_MAX)
            return -1;
        *out = (long long)n;
        return 0;
    }
    if (!json_object_is_type(v, json_type_double))
        return -1;
    d = json_object_get_double(v);
    if (!isfinite(d) || d < 0 || d > (double)NUMERIC_DATE_MAX)
        return -1;
    *out = (long long)floor(d);
    return 0;
}

/* aud is a string or an array of strings; true when one equals one of r->auds. */
static bool aud_matches(const json_object *claims, const struct claim_rules *r)
{
    json_object *aud = NULL;
    size_t n = 1;
    if (!json_object_object_get_ex(claims, "aud", &aud) || aud == NULL)
        return false;
    bool is_arr = json_object_is_type(aud, json_type_array);
    if (is_arr)
        n = json_object_array_length(aud);
    for (size_t i = 0; i < n; i++) {
        json_object *v = is_arr ? json_object_array_get_idx(aud, i) : aud;
        if (!json_object_is_type(v, json_type_string))
            continue;
        for (size_t k = 0; k < r->n_auds; k++) {
            if (strcmp(json_object_get_string(v), r->auds[k]) == 0)
                return true;
        }
    }
    return false;
}

/* exp, iat, nbf against now with the skew, and the lifetime. */
static enum auth_reason check_times(const json_object *c, const struct claim_rules *r,
                                    long long *exp_out)
{
    long long exp = 0, iat = 0, nbf = 0;
    long long now = (long long)r->now;
    if (numeric_date(c, "exp", &exp) != 0)
        return AUTH_R_EXP;
    if (exp + r->skew_s <= now)
        return AUTH_R_EXPIRED;
    if (numeric_date(c, "iat", &iat) != 0)
        return AUTH_R_IAT;
    if (iat > now + r->skew_s)
        return AUTH_R_IAT_FUTURE;
    if (exp <= iat || exp - iat > r->max_lifetime_s)
        return AUTH_R_LIFETIME;
    if (json_object_object_get_ex(c, "nbf", NULL) &&
        (numeric_date(c, "nbf", &nbf) != 0 || nbf > now + r->skew_s))
        return AUTH_R_NBF;
    *exp_out = exp;
    return AUTH_OK;
}

/* tenant: absent, or a short string of printable ASCII (it goes to logs and the store). */
static bool tenant_ok(const json_object *c, char *out)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(c, "tenant", &v) || v == NULL)
        return true;
    if (copy_str(c, "tenant", out, AUTH_TENANT_MAX) != 0)
        return false;
    for (const char *p = out; *p != '\0'; p++) {
        if (*p < ' ' || *p > '~')
            return false;
    }
    return true;
}

static enum auth_reason check_claims(const json_object *c, const struct claim_rules *r,
                                     struct claim_values *out)
{
    const char *iss = json_get_str(c, "iss");
    enum auth_reason res;
    if (iss == NULL || strcmp(iss, r->iss) != 0)
        return AUTH_R_ISSUER;
    if (!aud_matches(c, r))
        return AUTH_R_AUD;
    if ((res = check_times(c, r, &out->exp)) != AUTH_OK)
        return res;
    if (copy_str(c, "jti", out->jti, AUTH_JTI_MAX) != 0)
        return AUTH_R_JTI;
    return tenant_ok(c, out->tenant) ? AUTH_OK : AUTH_R_CLAIMS;
}

enum auth_reason token_claims(const char *claims_json, const struct claim_rules *r,
                              struct claim_values *out)
{
    json_object *c = json_parse_strict(claims_json, strlen(claims_json), NULL);
    enum auth_reason res = AUTH_R_CLAIMS;
    memset(out, 0, sizeof *out);
    if (c != NULL && json_object_is_type(c, json_type_object))
        res = check_claims(c, r, out);
    json_object_put(c);
    return res;
}

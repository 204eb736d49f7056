/* jwk.h - JSON Web Keys (RFC 7517/7518) <-> OpenSSL 3 public keys, and base64url.
 *
 * A JWK Set is parsed under limits into verification keys: RSA (n, e; 2048..8192 bits) and
 * EC P-256/P-384/P-521 (x, y at full length), each converted once to a PEM public key for
 * libjwt. A key carrying private members ("d", "p", "k", ...) makes the whole set invalid.
 */
#ifndef MYOCDS_AUTH_JWK_H
#define MYOCDS_AUTH_JWK_H

#include "myocds/myocds.h"

#include <openssl/evp.h>
#include <stddef.h>

#define JWK_KID_MAX 256                  /* longest kid accepted, in bytes */
#define JWK_ALG_MAX 16                   /* room for "ES384" and the like */
#define JWKS_MAX_KEYS 32                 /* keys in one set */
#define JWKS_MAX_BYTES ((size_t)1 << 18) /* a JWK Set document larger than this is refused */
#define JWK_RSA_MIN_BITS 2048
#define JWK_RSA_MAX_BITS 8192

enum jwk_kind {
    JWK_KIND_NONE = 0,
    JWK_KIND_RSA,
    JWK_KIND_P256,
    JWK_KIND_P384,
    JWK_KIND_P521,
};

/* An EC curve a JWK may name. */
struct jwk_curve {
    const char *crv;   /* JWK name: "P-384" */
    const char *group; /* OpenSSL group name: "secp384r1" */
    size_t len;        /* bytes per coordinate */
    enum jwk_kind kind;
    int bits;
};

/* The supported curve with JWK name crv or OpenSSL group name group (either may be NULL);
 * NULL when unsupported. Borrowed from a static table. */
const struct jwk_curve *jwk_curve_find(const char *crv, const char *group);

/* One usable verification key. */
struct jwk_key {
    char kid[JWK_KID_MAX + 1];
    char alg[JWK_ALG_MAX]; /* the JWK's own "alg", or "" */
    enum jwk_kind kind;
    int bits;  /* RSA modulus or curve size */
    char *pem; /* owned: SubjectPublicKeyInfo PEM, NUL-terminated */
    size_t pem_len;
};

struct jwk_set {
    struct jwk_key *keys; /* owned */
    size_t n;
};

/* Decodes unpadded base64url in[0..len) (alphabet checked) with OpenSSL. At most max_out
 * bytes are accepted. On success *out is malloc'd and NUL-terminated (caller frees). */
int jwk_b64url_decode(const char *in, size_t len, size_t max_out, unsigned char **out,
                      size_t *out_len);

/* Encodes in[0..len) as unpadded base64url. Returns a malloc'd string (caller frees) or NULL. */
char *jwk_b64url_encode(const unsigned char *in, size_t len);

/* Parses a JWK Set document. Unusable keys (other kty or curve, "use" other than "sig", no
 * kid, RSA under 2048 bits) are skipped; private members, duplicate kids, bad coordinates
 * or a malformed document fail the whole set. *out owned by the caller: jwk_set_free(). */
int jwk_set_parse(const char *json, size_t len, struct jwk_set *out, struct myocds_err *err);

/* The key with this kid, borrowed from set; NULL when absent. */
const struct jwk_key *jwk_set_find(const struct jwk_set *set, const char *kid);

/* Frees what set owns and zeroes it; a zeroed set is a no-op. */
void jwk_set_free(struct jwk_set *set);

/* The kind of a public or private key (RSA, or EC on a supported curve), and its size. */
enum jwk_kind jwk_kind_of(EVP_PKEY *pkey, int *bits);

/* The public JWK of pkey as JSON text ({"kty",...,"kid","alg","use":"sig"}); kid and alg
 * may be NULL. Returns a malloc'd string (caller frees) or NULL. */
char *jwk_public_json(EVP_PKEY *pkey, const char *kid, const char *alg);

/* RFC 7638 SHA-256 thumbprint of pkey's public JWK, base64url, into out[44]. */
int jwk_thumbprint(EVP_PKEY *pkey, char out[44]);

#endif

/* client.h - `myocds call`: sign a CDS client JWT with a private key and POST a request with
 * it, the way an EHR calls a CDS service.
 */
#ifndef MYOCDS_AUTH_CLIENT_H
#define MYOCDS_AUTH_CLIENT_H

#include "myocds/myocds.h"

#include <stddef.h>
#include <time.h>

#define AUTH_CALL_LIFETIME_S 300L           /* exp - iat of the tokens signed here */
#define AUTH_CALL_KEY_MAX ((size_t)1 << 16) /* a private key file larger than this is refused */
#define AUTH_CALL_RESP_MAX ((size_t)16 << 20)
#define AUTH_CALL_TIMEOUT_MS 30000L

/* What the token says. kid NULL: the RFC 7638 thumbprint of the key; alg NULL: from the key
 * (RSA RS384, P-384 ES384, P-256 ES256, P-521 ES512). */
struct auth_sign_opts {
    const char *iss;
    const char *aud;
    const char *kid;
    const char *alg;
    time_t now;
};

/* Signs a JWT (header alg, kid, typ JWT; claims iss, aud, exp now+300, iat now, jti random)
 * with the PEM private key key[0..key_len). *token is malloc'd for the caller. */
int auth_sign_token(const char *key, size_t key_len, const struct auth_sign_opts *o, char **token,
                    struct myocds_err *err);

struct auth_call_opts {
    const char *url;      /* the service (or its feedback) endpoint */
    const char *key_path; /* PEM private key */
    const char *iss;
    const char *kid; /* NULL: thumbprint */
    const char *alg; /* NULL: from the key */
    const char *aud; /* NULL: url without a trailing /feedback */
    const char *body;
    size_t body_len;
};

/* Signs a token and POSTs body as application/json to url with it. On success (any HTTP
 * answer) *status is the HTTP status and *resp (malloc'd, NUL-terminated; caller frees)
 * the answer's body. */
int auth_call(const struct auth_call_opts *o, long *status, char **resp, size_t *resp_len,
              struct myocds_err *err);

#endif

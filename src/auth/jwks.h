/* jwks.h - the verification keys of one trusted issuer, by kid.
 *
 * Keys come from the issuer's jwks_file (pinned: read once at start, never fetched) or its
 * jwks_uri (fetched over https when a kid is first needed and refreshed when a token names
 * an unknown kid, at most once per JWKS_REFRESH_S whatever the outcome). Lookups may run on
 * any thread; one fetch per issuer runs at a time.
 */
#ifndef MYOCDS_AUTH_JWKS_H
#define MYOCDS_AUTH_JWKS_H

#include "auth/jwk.h"
#include "myocds/myocds.h"

#include <stdbool.h>
#include <time.h>

#define JWKS_REFRESH_S 60           /* at most one fetch per issuer per this many seconds */
#define JWKS_FETCH_TIMEOUT_MS 5000L /* the whole fetch */
#define JWKS_CONNECT_TIMEOUT_MS 2000L

struct cfg_issuer;

/* Fetches uri; on success *body (malloc'd, NUL-terminated, caller frees) holds at most
 * JWKS_MAX_BYTES bytes. */
typedef int (*jwks_fetch_fn)(void *ctx, const char *uri, char **body, size_t *len,
                             struct myocds_err *err);

/* The real fetch: libcurl, https only, no redirects, TLS >= 1.2 with peer and host checks;
 * ctx is a CA bundle file (const char *) to use instead of the system's, or NULL. */
int jwks_fetch_https(void *ctx, const char *uri, char **body, size_t *len, struct myocds_err *err);

enum jwks_result {
    JWKS_FOUND = 0,
    JWKS_NO_KID,      /* the issuer's keys have no such kid */
    JWKS_UNAVAILABLE, /* no key set could be fetched yet */
};

struct jwks_issuer;

/* Keys of issuer is (its strings are copied); a jwks_file is read now. Fetches go through
 * fetch(ctx, ...); ctx must outlive the result. Caller owns *out: jwks_issuer_free(). */
int jwks_issuer_new(const struct cfg_issuer *is, jwks_fetch_fn fetch, void *ctx,
                    struct jwks_issuer **out, struct myocds_err *err);
void jwks_issuer_free(struct jwks_issuer *ji);

/* Copies the key kid into *out (out->pem malloc'd: the caller frees it) when found;
 * may fetch (see above) at time now. */
enum jwks_result jwks_issuer_key(struct jwks_issuer *ji, const char *kid, time_t now,
                                 struct jwk_key *out);

/* Fetches attempted so far (for tests and metrics). */
unsigned long jwks_issuer_fetches(struct jwks_issuer *ji);

/* The issuer's iss and configured JWKS URL (NULL: none), borrowed from ji. */
const char *jwks_issuer_iss(const struct jwks_issuer *ji);
const char *jwks_issuer_uri(const struct jwks_issuer *ji);

#endif

/* fuzz_jwks.c - a JWK Set document as an issuer's jwks_uri or jwks_file would give it:
 * parsed under limits into PEM keys (jwk_set_parse, OpenSSL 3), each key looked up by kid
 * and read; the raw input also goes through the base64url decoder.
 */
#include "auth/jwk.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_B64_MAX 4096 /* decoded bytes accepted from the raw input */

static volatile size_t fuzz_sink; /* keeps what was read observable */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jwk_set set;
    struct myocds_err err = {0};
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    size_t total = 0;
    if (jwk_set_parse((const char *)data, size, &set, &err) == 0) {
        for (size_t i = 0; i < set.n; i++) {
            const struct jwk_key *k = &set.keys[i];
            if (k->pem == NULL || strlen(k->pem) != k->pem_len ||
                jwk_set_find(&set, k->kid) == NULL)
                abort(); /* every key has its PEM and is found by its kid */
            total += k->pem_len + strlen(k->alg) + (size_t)k->bits;
        }
        jwk_set_free(&set);
    }
    if (jwk_b64url_decode((const char *)data, size, FUZZ_B64_MAX, &raw, &raw_len) == 0) {
        total += raw_len;
        free(raw);
    }
    fuzz_sink = total;
    return 0;
}

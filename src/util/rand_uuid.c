/* rand_uuid.c - random (version 4) UUIDs as lowercase text (see rand_uuid.h).
 *
 * Each thread keeps RAND_UUID_POOL bytes from one RAND_bytes() call and takes 16 per UUID,
 * wiping what it took: one call to OpenSSL per 32 UUIDs instead of one each (a call costs
 * about as much as 30 UUIDs' worth of copying and formatting).
 */
#include "util/rand_uuid.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>
#include <uuid/uuid.h>

#define RAND_UUID_POOL 512

static _Thread_local unsigned char pool[RAND_UUID_POOL];
static _Thread_local size_t pool_left; /* unused bytes at the end of pool */

/* 16 random bytes into u; false when OpenSSL had none to give. */
static int take_random(uuid_t u)
{
    if (pool_left < sizeof(uuid_t)) {
        if (RAND_bytes(pool, (int)sizeof pool) != 1)
            return 0;
        pool_left = sizeof pool;
    }
    unsigned char *p = pool + (sizeof pool - pool_left);
    memcpy(u, p, sizeof(uuid_t));
    OPENSSL_cleanse(p, sizeof(uuid_t)); /* never handed out twice, nor left in memory */
    pool_left -= sizeof(uuid_t);
    return 1;
}

void rand_uuid(char out[RAND_UUID_TEXT])
{
    uuid_t u;
    if (take_random(u)) {
        u[6] = (unsigned char)((u[6] & 0x0F) | 0x40); /* version 4: random (RFC 9562 5.4) */
        u[8] = (unsigned char)((u[8] & 0x3F) | 0x80); /* variant 10: RFC 9562 */
    } else {
        uuid_generate_random(u);
    }
    uuid_unparse_lower(u, out);
}

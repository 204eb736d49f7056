/* rand_uuid.c - version 4 and version 7 UUIDs as lowercase text (see rand_uuid.h).
 *
 * Each thread keeps RAND_UUID_POOL bytes from one RAND_bytes() call and takes 16 per UUID,
 * wiping what it took: one call to OpenSSL per 32 UUIDs instead of one each (a call costs
 * about as much as 30 UUIDs' worth of copying and formatting).
 */
#include "util/rand_uuid.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#define RAND_UUID_POOL 512
#define RAND_UUID_MS_BYTES 6 /* version 7: a 48-bit big-endian millisecond count */

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

/* 16 random bytes into u, from OpenSSL or else from libuuid. */
static void random_bytes(uuid_t u)
{
    if (!take_random(u))
        uuid_generate_random(u);
}

/* Sets u's version (4 bits of byte 6) and the RFC 9562 variant (10 in byte 8). */
static void stamp(uuid_t u, unsigned version)
{
    u[6] = (unsigned char)((u[6] & 0x0F) | (version << 4));
    u[8] = (unsigned char)((u[8] & 0x3F) | 0x80);
}

void rand_uuid(char out[RAND_UUID_TEXT])
{
    uuid_t u;
    random_bytes(u);
    stamp(u, 4); /* RFC 9562 5.4: random */
    uuid_unparse_lower(u, out);
}

void rand_uuid_v7(char out[RAND_UUID_TEXT])
{
    uuid_t u;
    struct timespec now;
    random_bytes(u);
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    for (int i = RAND_UUID_MS_BYTES - 1; i >= 0; i--, ms >>= 8)
        u[i] = (unsigned char)(ms & 0xFF);
    stamp(u, 7); /* RFC 9562 5.7: Unix time, then random */
    uuid_unparse_lower(u, out);
}

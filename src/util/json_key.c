/* json_key.c - member-name hashes remembered per thread (see json_key.h). */
#include "util/json_key.h"

#include <stdint.h>
#include <string.h>

#define JSON_KEY_SLOT_SHIFT 57                  /* 64 - log2(JSON_KEY_CACHE) */
#define JSON_KEY_SLOT_MUL 0x9E3779B97F4A7C15ULL /* Fibonacci hashing of the address */

struct key_hash {
    const char *key; /* the address last hashed in this slot */
    lh_hash_fn *fn;  /* with this function */
    unsigned long hash;
    char text[JSON_KEY_CACHED_MAX]; /* and the text it held then */
};

_Static_assert(JSON_KEY_CACHE == 1 << (64 - JSON_KEY_SLOT_SHIFT), "slot bits match the cache");

static _Thread_local struct key_hash cache[JSON_KEY_CACHE];

unsigned long json_key_hash(const struct lh_table *t, const char *key)
{
    struct key_hash *e =
        &cache[((uint64_t)(uintptr_t)key * JSON_KEY_SLOT_MUL) >> JSON_KEY_SLOT_SHIFT];
    if (e->key == key && e->fn == t->hash_fn && strcmp(e->text, key) == 0)
        return e->hash;
    unsigned long h = lh_get_hash(t, key);
    size_t n = strlen(key);
    if (n < sizeof e->text) {
        e->key = key;
        e->fn = t->hash_fn;
        e->hash = h;
        memcpy(e->text, key, n + 1);
    }
    return h;
}

/* json_key.h - the hash of a member name, remembered per thread for json_get() on
 * objects too large to scan.
 *
 * json-c hashes the name of every member lookup (its seeded hashlittle, with a strlen):
 * about a third of the engine's cost beyond the parse, over the ~2,000 lookups of a
 * request, nearly all with a few dozen literal names. json_key_hash() gives the same
 * hash as lh_get_hash(), from a small per-thread cache when it can.
 */
#ifndef MYOCDS_UTIL_JSON_KEY_H
#define MYOCDS_UTIL_JSON_KEY_H

#include <json-c/linkhash.h>

#define JSON_KEY_CACHE 128     /* cache entries per thread (a power of two) */
#define JSON_KEY_CACHED_MAX 32 /* a longer name (with its NUL) is hashed every time */

/* lh_get_hash(t, key) for a lookup in table t. key (borrowed, NUL-terminated) need not
 * be a literal: a cached hash is used only for the same address holding the same text,
 * and for the same hash function as t's. Thread-safe: each thread has its own cache. */
unsigned long json_key_hash(const struct lh_table *t, const char *key);

#endif

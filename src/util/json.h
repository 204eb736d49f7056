/* json.h - strict, bounded JSON parsing and typed getters over json-c.
 *
 * Every getter checks the JSON type first: json-c would silently turn "12" into 12.
 * Returned pointers are borrowed from the tree and live as long as its root.
 */
#ifndef MYOCDS_UTIL_JSON_H
#define MYOCDS_UTIL_JSON_H

#include "myocds/myocds.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 64 /* FHIR Bundles nest about 12 levels */
/* The getters compare the names of an object of up to this many members in turn and
 * look a larger one's up by hash. */
#define JSON_SCAN_MEMBERS 8
/* How every JSON text we send is written (json_dump, pre-rendered card parts). */
#define JSON_DUMP_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Parses buf[0..len) strictly (UTF-8 checked, no trailing data, no NUL bytes) under
 * JSON_MAX_DEPTH. Returns an owned object (json_object_put it) or NULL with err set (400). */
json_object *json_parse_strict(const char *buf, size_t len, struct myocds_err *err);

/* Member of an object with the given type, or NULL (absent, null or another type). */
json_object *json_get(const json_object *obj, const char *key, json_type type);
const char *json_get_str(const json_object *obj, const char *key); /* non-empty, no NUL inside */
json_object *json_get_obj(const json_object *obj, const char *key);
json_object *json_get_arr(const json_object *obj, const char *key);
/* A JSON number (int or double) as a double; false when absent or not a number. */
bool json_get_num(const json_object *obj, const char *key, double *out);

/* Serializes compactly, without escaping '/'. Returns a malloc'd copy (caller frees). */
char *json_dump(json_object *obj, size_t *len);

#endif

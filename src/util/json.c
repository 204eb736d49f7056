/* json.c - strict, bounded JSON parsing and typed getters over json-c. */
#include "util/json.h"

#include "util/json_key.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define UTF8_ASCII_WORD 0x8080808080808080ULL /* the high bit of each byte of a word */
#define UTF8_CONT_LO 0x80                     /* a continuation byte is 10xxxxxx */
#define UTF8_CONT_HI 0xBF

/* Length of the UTF-8 sequence at s[0..left) as RFC 3629 (Unicode table 3-7) allows it,
 * or 0: no overlong forms, no surrogates (U+D800..DFFF), nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
    unsigned char lo = UTF8_CONT_LO;
    unsigned char hi = UTF8_CONT_HI;
    size_t n = 0;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        n = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 4;
    if (n == 0 || left < n)
        return 0;
    if (s[0] == 0xE0)
        lo = 0xA0; /* below: overlong */
    else if (s[0] == 0xED)
        hi = 0x9F; /* above: surrogates */
    else if (s[0] == 0xF0)
        lo = 0x90; /* below: overlong */
    else if (s[0] == 0xF4)
        hi = 0x8F; /* above: past U+10FFFF */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if (s[k] < UTF8_CONT_LO || s[k] > UTF8_CONT_HI)
            return 0;
    return n;
}

/* Offset of the first byte that is not strict UTF-8, or len. json-c's own check lets
 * overlong forms, surrogates and code points past U+10FFFF through, and the service would
 * echo them into answers that must be UTF-8. ASCII is skipped a word at a time. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint64_t w;
        if (len - i >= sizeof w) {
            memcpy(&w, s + i, sizeof w);
            if ((w & UTF8_ASCII_WORD) == 0) {
                i += sizeof w;
                continue;
            }
        }
        if (s[i] < UTF8_CONT_LO) {
            i++;
            continue;
        }
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

json_object *json_parse_strict(const char *buf, size_t len, struct myocds_err *err)
{
    if (len >= INT_MAX) {
        myocds_err_set(err, 413, "body too large");
        return NULL;
    }
    if (memchr(buf, '\0', len) != NULL) {
        myocds_err_set(err, 400, "body holds a NUL byte");
        return NULL;
    }
    size_t bad = utf8_invalid_at((const unsigned char *)buf, len);
    if (bad < len) {
        myocds_err_set(err, 400, "invalid JSON at byte %zu: invalid utf-8 string", bad);
        return NULL;
    }
    json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH + 1);
    if (tok == NULL) {
        myocds_err_set(err, 500, "out of memory");
        return NULL;
    }
    /* No JSON_TOKENER_VALIDATE_UTF8: utf8_invalid_at() above already refused every body
     * json-c's weaker check would (about a tenth of json-c's parse time). */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    /* json-c wants the terminating NUL inside the length and buf may not have one: it gets
     * buf, then (when it still waits for more: a bare number, a cut document) a NUL of its
     * own. No copy of the body. */
    size_t base = 0;
    json_object *root = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    if (e == json_tokener_continue) {
        base = len;
        root = json_tokener_parse_ex(tok, "", 1);
        e = json_tokener_get_error(tok);
    }
    size_t end = base + json_tokener_get_parse_end(tok);
    if (e != json_tokener_success) {
        myocds_err_set(err, 400, "invalid JSON at byte %zu: %s", end, json_tokener_error_desc(e));
        json_object_put(root);
        root = NULL;
    } else if (end < len) {
        myocds_err_set(err, 400, "invalid JSON: trailing data at byte %zu", end);
        json_object_put(root);
        root = NULL;
    }
    json_tokener_free(tok);
    return root;
}

/* Member key of obj (any type; NULL for a JSON null), or NULL when obj is no object or
 * has no such member. A small object's members are compared in order (most FHIR
 * objects: a Coding, a CodeableConcept, a Quantity), which costs less than hashing the
 * name; a larger one's are looked up by the name's hash from json_key. */
static json_object *member(const json_object *obj, const char *key, bool *found)
{
    *found = false;
    struct lh_table *t = obj != NULL && key != NULL ? json_object_get_object(obj) : NULL;
    if (t == NULL)
        return NULL;
    if (lh_table_length(t) <= JSON_SCAN_MEMBERS) {
        json_object_object_foreach((json_object *)obj, name, value)
        {
            /* Most FHIR names share their first byte with another ("code", "coding",
             * "category"): the second is compared before a call to strcmp. */
            if (name[0] == key[0] &&
                (key[0] == '\0' || (name[1] == key[1] && strcmp(name + 1, key + 1) == 0))) {
                *found = true;
                return value;
            }
        }
        return NULL;
    }
    struct lh_entry *e = lh_table_lookup_entry_w_hash(t, key, json_key_hash(t, key));
    *found = e != NULL;
    return e != NULL ? (json_object *)lh_entry_v(e) : NULL;
}

json_object *json_get(const json_object *obj, const char *key, json_type type)
{
    bool found = false;
    json_object *child = member(obj, key, &found);
    if (!found || !json_object_is_type(child, type))
        return NULL;
    return child;
}

const char *json_get_str(const json_object *obj, const char *key)
{
    json_object *s = json_get(obj, key, json_type_string);
    int len = s != NULL ? json_object_get_string_len(s) : 0;
    const char *str = len > 0 ? json_object_get_string(s) : NULL;
    /* "\u0000" inside: as a C string it would say less than was sent ("pat\u0000x" would
     * name patient "pat"), so such a string is no string at all. */
    if (str == NULL || memchr(str, '\0', (size_t)len) != NULL)
        return NULL;
    return str;
}

json_object *json_get_obj(const json_object *obj, const char *key)
{
    return json_get(obj, key, json_type_object);
}

json_object *json_get_arr(const json_object *obj, const char *key)
{
    return json_get(obj, key, json_type_array);
}

bool json_get_num(const json_object *obj, const char *key, double *out)
{
    bool found = false;
    json_object *n = member(obj, key, &found);
    if (!found)
        return false;
    if (json_object_is_type(n, json_type_int)) {
        *out = (double)json_object_get_int64(n);
        return true;
    }
    if (json_object_is_type(n, json_type_double)) {
        *out = json_object_get_double(n);
        return *out == *out; /* NaN is not a number here */
    }
    return false;
}

char *json_dump(json_object *obj, size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(obj, JSON_DUMP_FLAGS, &n);
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, n + 1);
    if (len != NULL)
        *len = n;
    return copy;
}

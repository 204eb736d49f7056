/* ref.c - read FHIR references and resolve them among the resources of one request. */
#include "fhir/ref.h"

#include "util/json.h"

#include <json-c/linkhash.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REF_INDEX_SIZE 64
#define REF_SEGS 4 /* Type/id/_history/v: the most segments read from the end */

struct fhir_index {
    struct lh_table *by_type_id;  /* "Type/id" (owned copy) -> resource */
    struct lh_table *by_full_url; /* fullUrl (borrowed) -> resource */
};

static bool id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

/* A FHIR id ([A-Za-z0-9-.]{1,64}) that is not a dot segment. */
static bool valid_id(const char *s, size_t n)
{
    if (n == 0 || n > FHIR_ID_MAX || (n == 1 && s[0] == '.') ||
        (n == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!id_char(s[i]))
            return false;
    return true;
}

/* A resource type name (ref.h): an upper-case letter, then letters. */
bool fhir_type_valid(const char *s, size_t n)
{
    if (n == 0 || n >= FHIR_TYPE_MAX || s[0] < 'A' || s[0] > 'Z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
            return false;
    return true;
}

static bool contained(const char *ref, size_t len, struct fhir_ref *out)
{
    if (!valid_id(ref + 1, len - 1))
        return false;
    memcpy(out->id, ref + 1, len - 1);
    out->id[len - 1] = '\0';
    out->kind = FHIR_REF_CONTAINED;
    return true;
}

static bool hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* urn:uuid:8-4-4-4-12 hex, or urn:oid: digits in dot-separated components. */
static bool urn(const char *ref, size_t len, struct fhir_ref *out)
{
    if (len == 45 && strncmp(ref, "urn:uuid:", 9) == 0) {
        for (size_t i = 9; i < len; i++) {
            bool dash = i == 17 || i == 22 || i == 27 || i == 32;
            if (dash ? ref[i] != '-' : !hex(ref[i]))
                return false;
        }
    } else if (len > 8 && strncmp(ref, "urn:oid:", 8) == 0) {
        for (size_t i = 8; i < len; i++) {
            bool dot = ref[i] == '.';
            if (!dot && (ref[i] < '0' || ref[i] > '9'))
                return false;
            if (dot && (i == 8 || i + 1 == len || ref[i - 1] == '.'))
                return false;
        }
    } else {
        return false;
    }
    out->kind = FHIR_REF_URN;
    return true;
}

/* No byte a reference to follow may carry (space, control, '%', '\\', '?', '#'), and no
 * empty, "." or ".." segment anywhere in path (the part after the host). */
static bool clean(const char *s, size_t len, size_t path)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '%' || c == '\\' || c == '?' || c == '#')
            return false;
    }
    for (size_t i = path; i <= len; i++) {
        size_t start = i;
        while (i < len && s[i] != '/')
            i++;
        size_t n = i - start;
        if (n == 0 || (n == 1 && s[start] == '.') ||
            (n == 2 && s[start] == '.' && s[start + 1] == '.'))
            return false;
    }
    return true;
}

/* The last (up to REF_SEGS) segments of s[from..len), last first; returns how many. The
 * segments before them are not split (clean() has checked them). */
static int last_segments(const char *s, size_t from, size_t len, const char **p, size_t *n)
{
    int k = 0;
    size_t end = len;
    while (k < REF_SEGS && end > from) {
        size_t start = end;
        while (start > from && s[start - 1] != '/')
            start--;
        p[k] = s + start;
        n[k] = end - start;
        k++;
        end = start > from ? start - 1 : from;
        if (start == from)
            break;
    }
    return k;
}

bool fhir_ref_parse(const char *ref, struct fhir_ref *out)
{
    memset(out, 0, sizeof *out);
    size_t len = ref != NULL ? strnlen(ref, FHIR_REF_MAX + 1) : 0;
    if (len == 0 || len > FHIR_REF_MAX)
        return false;
    bool ok = false;
    if (ref[0] == '#')
        ok = contained(ref, len, out);
    else if (strncmp(ref, "urn:", 4) == 0)
        ok = urn(ref, len, out);
    else {
        size_t scheme = strncasecmp(ref, "https://", 8) == 0  ? 8
                        : strncasecmp(ref, "http://", 7) == 0 ? 7
                                                              : 0;
        const char *slash = scheme > 0 ? memchr(ref + scheme, '/', len - scheme) : NULL;
        size_t path = scheme == 0 ? 0 : slash != NULL ? (size_t)(slash - ref) + 1 : len + 1;
        const char *p[REF_SEGS];
        size_t n[REF_SEGS];
        if (path > len || (scheme > 0 && path == scheme + 1) || !clean(ref, len, path))
            return false;
        int k = last_segments(ref, path, len, p, n);
        int at = k >= 4 && n[1] == 8 && strncmp(p[1], "_history", 8) == 0 && valid_id(p[0], n[0])
                     ? 2
                     : 0;                       /* a version: the type and id come before it */
        bool whole = scheme > 0 || k == at + 2; /* a relative reference is only Type/id[/_h/v] */
        if (k < at + 2 || !whole || (scheme == 0 && p[at + 1] != ref) || !valid_id(p[at], n[at]) ||
            !fhir_type_valid(p[at + 1], n[at + 1]))
            return false;
        memcpy(out->type, p[at + 1], n[at + 1]);
        out->type[n[at + 1]] = '\0';
        memcpy(out->id, p[at], n[at]);
        out->id[n[at]] = '\0';
        out->kind = scheme > 0 ? FHIR_REF_ABSOLUTE : FHIR_REF_RELATIVE;
        out->base_len = scheme > 0 ? (size_t)(p[at + 1] - ref) - 1 : 0;
        ok = true;
    }
    if (!ok) {
        out->kind = FHIR_REF_NONE;
        return false;
    }
    out->text = ref;
    return true;
}

bool fhir_ref_type_id(const struct fhir_ref *ref, char *buf, size_t cap)
{
    if (ref->kind != FHIR_REF_RELATIVE && ref->kind != FHIR_REF_ABSOLUTE)
        return false;
    size_t nt = strlen(ref->type);
    size_t ni = strlen(ref->id);
    if (nt + 1 + ni + 1 > cap)
        return false;
    memcpy(buf, ref->type, nt);
    buf[nt] = '/';
    memcpy(buf + nt + 1, ref->id, ni + 1);
    return true;
}

static void free_key(struct lh_entry *e)
{
    free(lh_entry_k(e));
}

struct fhir_index *fhir_index_new(void)
{
    struct fhir_index *ix = calloc(1, sizeof *ix);
    if (ix == NULL)
        return NULL;
    ix->by_type_id = lh_kchar_table_new(REF_INDEX_SIZE, free_key);
    ix->by_full_url = lh_kchar_table_new(REF_INDEX_SIZE, NULL);
    if (ix->by_type_id == NULL || ix->by_full_url == NULL) {
        fhir_index_free(ix);
        return NULL;
    }
    return ix;
}

void fhir_index_free(struct fhir_index *ix)
{
    if (ix == NULL)
        return;
    if (ix->by_type_id != NULL)
        lh_table_free(ix->by_type_id);
    if (ix->by_full_url != NULL)
        lh_table_free(ix->by_full_url);
    free(ix);
}

int fhir_index_add(struct fhir_index *ix, json_object *res, const char *type, const char *full_url)
{
    const char *id = json_get_str(res, "id");
    struct fhir_ref r = {.kind = FHIR_REF_RELATIVE};
    char key[FHIR_TYPE_ID_MAX];
    if (full_url != NULL && strnlen(full_url, FHIR_REF_MAX + 1) <= FHIR_REF_MAX &&
        lh_table_lookup_entry(ix->by_full_url, full_url) == NULL &&
        lh_table_insert(ix->by_full_url, full_url, res) != 0)
        return -1;
    size_t nt = type != NULL ? strlen(type) : 0;
    size_t ni = id != NULL ? strlen(id) : 0;
    if (!fhir_type_valid(type, nt) || !valid_id(id, ni))
        return 0; /* no reference could name it by type and id */
    memcpy(r.type, type, nt + 1);
    memcpy(r.id, id, ni + 1);
    if (!fhir_ref_type_id(&r, key, sizeof key) || lh_table_lookup_entry(ix->by_type_id, key))
        return 0;
    char *owned = strdup(key);
    if (owned == NULL || lh_table_insert(ix->by_type_id, owned, res) != 0) {
        free(owned);
        return -1;
    }
    return 0;
}

static json_object *in_contained(const json_object *container, const char *id, const char *want)
{
    json_object *list = json_get_arr(container, "contained");
    size_t n = list != NULL ? json_object_array_length(list) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *res = json_object_array_get_idx(list, i);
        const char *rid = json_get_str(res, "id");
        const char *type = json_get_str(res, "resourceType");
        if (rid != NULL && type != NULL && strcmp(rid, id) == 0 && strcmp(type, want) == 0)
            return res;
    }
    return NULL;
}

static json_object *typed(json_object *res, const char *want)
{
    const char *type = res != NULL ? json_get_str(res, "resourceType") : NULL;
    return type != NULL && strcmp(type, want) == 0 ? res : NULL;
}

json_object *fhir_ref_resolve(const struct fhir_ref *ref, const char *want,
                              const json_object *container, const struct fhir_index *ix)
{
    void *found = NULL;
    char key[FHIR_TYPE_ID_MAX];
    switch (ref->kind) {
    case FHIR_REF_CONTAINED:
        return container != NULL ? in_contained(container, ref->id, want) : NULL;
    case FHIR_REF_URN:
    case FHIR_REF_ABSOLUTE:
        if (ix != NULL && lh_table_lookup_ex(ix->by_full_url, ref->text, &found) &&
            typed(found, want) != NULL)
            return found;
        if (ref->kind == FHIR_REF_URN)
            return NULL;
        /* an absolute reference not found by fullUrl: by type and id */
        /* fall through */
    case FHIR_REF_RELATIVE:
        if (ix == NULL || strcmp(ref->type, want) != 0 || !fhir_ref_type_id(ref, key, sizeof key) ||
            !lh_table_lookup_ex(ix->by_type_id, key, &found))
            return NULL;
        return typed(found, want);
    case FHIR_REF_NONE:
        break;
    }
    return NULL;
}

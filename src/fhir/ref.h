/* ref.h - FHIR references: one reader and one resolver, wherever a reference is followed
 * (medicationReference, context.selections, a prefetch Medication to fetch).
 *
 * The forms read (FHIR R4 "Literal references"):
 *   "#id"                                 contained, resolved only inside its container
 *   "Type/id", "Type/id/_history/v"       relative
 *   "https://base/Type/id[/_history/v]"   absolute, under any base
 *   "urn:uuid:<uuid>", "urn:oid:<oid>"    a Bundle entry's fullUrl
 * Anything else (empty, "#", "Medication/../Patient/1", a dot segment, a percent sign, a
 * reference longer than FHIR_REF_MAX) is no reference and resolves to nothing.
 */
#ifndef MYOCDS_FHIR_REF_H
#define MYOCDS_FHIR_REF_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define FHIR_REF_MAX 4096 /* longest reference read */
#define FHIR_TYPE_MAX 64  /* resource type names are at most this long, NUL included */
#define FHIR_ID_MAX 64    /* FHIR id: [A-Za-z0-9-.]{1,64} */
#define FHIR_TYPE_ID_MAX (FHIR_TYPE_MAX + 1 + FHIR_ID_MAX + 1) /* "Type/id" and its NUL */

enum fhir_ref_kind {
    FHIR_REF_NONE = 0,  /* not a reference this reader accepts */
    FHIR_REF_CONTAINED, /* "#id": id set, type "" */
    FHIR_REF_RELATIVE,  /* "Type/id": type and id set */
    FHIR_REF_ABSOLUTE,  /* "http(s)://.../Type/id": type and id set */
    FHIR_REF_URN,       /* "urn:uuid:..." or "urn:oid:...": only text (a fullUrl) */
};

struct fhir_ref {
    enum fhir_ref_kind kind;
    char type[FHIR_TYPE_MAX];
    char id[FHIR_ID_MAX + 1];
    const char *text; /* the whole reference (borrowed); NULL when kind is NONE */
    size_t base_len;  /* ABSOLUTE: length of the base URL before "/Type/id" */
};

/* Reads ref (borrowed; may be NULL) into *out. False, with out->kind FHIR_REF_NONE, when
 * ref is none of the forms above. */
bool fhir_ref_parse(const char *ref, struct fhir_ref *out);

/* True when s[0..n) is a resource type name: an upper-case letter, then letters, shorter
 * than FHIR_TYPE_MAX. s is borrowed and need not be NUL-terminated. */
bool fhir_type_valid(const char *s, size_t n);

/* "Type/id" of a RELATIVE or ABSOLUTE reference into buf (cap >= FHIR_TYPE_ID_MAX);
 * false for the other kinds. */
bool fhir_ref_type_id(const struct fhir_ref *ref, char *buf, size_t cap);

/* An index of resources by "Type/id" and by Bundle fullUrl, for resolving references
 * among the resources of one request. Resources and fullUrls are borrowed from the
 * request's tree: the index must be freed before it. */
struct fhir_index;

/* A new empty index (owned: fhir_index_free it), or NULL when out of memory. */
struct fhir_index *fhir_index_new(void);
void fhir_index_free(struct fhir_index *ix);

/* Adds res (of resourceType type, with its entry's fullUrl or NULL). The first resource
 * added under a key wins. Returns 0, or -1 when out of memory. */
int fhir_index_add(struct fhir_index *ix, json_object *res, const char *type, const char *full_url);

/* The resource of type want that ref points at, or NULL: a CONTAINED ref among
 * container's contained[] (and only there), a URN by exact fullUrl, an ABSOLUTE ref by
 * exact fullUrl and then by type and id, a RELATIVE ref by type and id. container and ix
 * may be NULL. Borrowed. */
json_object *fhir_ref_resolve(const struct fhir_ref *ref, const char *want,
                              const json_object *container, const struct fhir_index *ix);

#endif

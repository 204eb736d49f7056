/* scope.h - the SMART App Launch scopes of fhirAuthorization.scope, and what they permit.
 *
 * The scope is a space-separated list. The resource scopes read, SMART v1 and v2:
 *   (patient|user|system)/(Type|*).(read|write|*)                   v1
 *   (patient|user|system)/(Type|*).<perms>[?name=value[&name=value]...]   v2
 * where <perms> is a non-empty subset of "cruds" in that order (c create, r read, u update,
 * d delete, s search). v1 ".read" is ".rs", ".write" ".cud", ".*" ".cruds"; a v1 scope
 * takes no "?" part. "Observation.rs" is the same as "Observation.r Observation.s".
 * Every other word (openid, fhirUser, launch, launch/patient, offline_access, ...) grants
 * no data and is skipped, and so is a malformed one: a wrong context, type or permission,
 * perms out of order or repeated, a byte outside printable ASCII, a word longer than
 * SCOPE_WORD_MAX. Only the first SCOPE_TEXT_MAX bytes are read, and at most
 * SCOPE_GRANTS_MAX grants kept: what lies past either limit grants nothing.
 *
 * A "?" part restricts the scope to searches that carry each of its name=value pairs,
 * compared byte for byte (no decoding) with the &-separated parameters of the query. A
 * restricted scope never permits a read by id, and permits a search only when its query
 * carries every pair: a query without them might return records outside the restriction.
 */
#ifndef MYOCDS_FHIR_SCOPE_H
#define MYOCDS_FHIR_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#define SCOPE_TEXT_MAX 16384 /* bytes of the scope string read */
#define SCOPE_WORD_MAX 1024  /* a longer word is ignored */
#define SCOPE_GRANTS_MAX 128 /* grants kept; the words after are ignored */
#define SCOPE_POOL_MAX 4096  /* bytes of type names and restrictions kept */

/* Permission bits of a grant. */
enum {
    SCOPE_C = 1u << 0,
    SCOPE_R = 1u << 1,
    SCOPE_U = 1u << 2,
    SCOPE_D = 1u << 3,
    SCOPE_S = 1u << 4,
};

/* One resource scope: its type ("*" for all) and restriction, as offsets into the pool. */
struct scope_grant {
    unsigned short type;  /* offset of the NUL-terminated type name */
    unsigned short query; /* offset of the restriction ("name=value&..."), or 0: none */
    unsigned char perms;  /* SCOPE_* bits */
};

/* The grants of one scope string. A plain value: it holds copies and borrows nothing, so
 * it may live anywhere and needs no freeing. */
struct scopes {
    struct scope_grant grant[SCOPE_GRANTS_MAX];
    size_t n;
    char pool[SCOPE_POOL_MAX]; /* pool[0] is "": offset 0 names nothing */
    size_t used;
};

/* Reads text (borrowed; NULL or empty: no grants) into *s, replacing what it held.
 * Unrestricted grants of one type are merged into one. Never fails: what cannot be read
 * is skipped. */
void scope_parse(struct scopes *s, const char *text);

/* True when s permits reading resources of type (borrowed): by id (search false: needs
 * r) or by a search (needs s) whose query (borrowed: the part after "?", NULL or "" for
 * none) is checked against a grant's restriction. */
bool scope_permits(const struct scopes *s, const char *type, bool search, const char *query);

/* scope_permits for a relative FHIR URL (borrowed): "Type/id" or "Type/id/_history/v" is
 * a read, "Type" or "Type?query" a search; any other URL is permitted by no scope. */
bool scope_permits_url(const struct scopes *s, const char *rel);

#endif

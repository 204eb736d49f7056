/* scope.c - the SMART App Launch scopes of fhirAuthorization.scope (scope.h). */
#include "fhir/scope.h"

#include "fhir/ref.h"

#include <string.h>

#define SCOPE_ALL (SCOPE_C | SCOPE_R | SCOPE_U | SCOPE_D | SCOPE_S)

/* True when every byte of w[0..n) is printable ASCII other than the space. */
static bool printable(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)w[i] < 0x21 || (unsigned char)w[i] > 0x7e)
            return false;
    return true;
}

static bool word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

/* The permission bits of p[0..n): the v1 words (*v1 set) or a v2 "cruds" subset in order;
 * 0 when it is neither. */
static unsigned perms_of(const char *p, size_t n, bool *v1)
{
    static const char order[] = "cruds";
    unsigned bits = 0;
    size_t at = 0;
    *v1 = true;
    if (word_is(p, n, "read"))
        return SCOPE_R | SCOPE_S;
    if (word_is(p, n, "write"))
        return SCOPE_C | SCOPE_U | SCOPE_D;
    if (word_is(p, n, "*"))
        return SCOPE_ALL;
    *v1 = false;
    for (size_t i = 0; i < n; i++) {
        const char *hit = memchr(order + at, p[i], sizeof order - 1 - at);
        if (hit == NULL)
            return 0; /* not a permission, out of order, or repeated */
        at = (size_t)(hit - order) + 1;
        bits |= 1u << (at - 1);
    }
    return bits;
}

/* True when q[0..n) is name=value pairs joined by "&", each name and value non-empty. */
static bool restriction_valid(const char *q, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return false;
    while (i <= n) {
        size_t end = i;
        while (end < n && q[end] != '&')
            end++;
        const char *eq = memchr(q + i, '=', end - i);
        if (eq == NULL || eq == q + i || eq == q + end - 1)
            return false;
        i = end + 1;
    }
    return true;
}

/* Copies w[0..n) and a NUL into the pool: its offset, or 0 when it does not fit. */
static unsigned short pool_add(struct scopes *s, const char *w, size_t n)
{
    if (n + 1 > SCOPE_POOL_MAX - s->used)
        return 0;
    size_t at = s->used;
    memcpy(s->pool + at, w, n);
    s->pool[at + n] = '\0';
    s->used += n + 1;
    return (unsigned short)at;
}

/* Adds a grant of type[0..nt) with perms and the restriction q[0..nq) (nq 0: none); an
 * unrestricted one joins an unrestricted grant of the same type. Dropped when full. */
static void grant_add(struct scopes *s, const char *type, size_t nt, unsigned perms, const char *q,
                      size_t nq)
{
    for (size_t i = 0; nq == 0 && i < s->n; i++)
        if (s->grant[i].query == 0 && word_is(type, nt, s->pool + s->grant[i].type)) {
            s->grant[i].perms |= (unsigned char)perms;
            return;
        }
    if (s->n == SCOPE_GRANTS_MAX)
        return;
    size_t used = s->used;
    unsigned short t = pool_add(s, type, nt);
    unsigned short r = t != 0 && nq > 0 ? pool_add(s, q, nq) : 0;
    if (t == 0 || (nq > 0 && r == 0)) {
        s->used = used; /* give back the type when the restriction did not fit */
        return;
    }
    s->grant[s->n++] = (struct scope_grant){t, r, (unsigned char)perms};
}

/* One word of the scope string, w[0..n): a grant when it is a resource scope. */
static void word_add(struct scopes *s, const char *w, size_t n)
{
    const char *slash = memchr(w, '/', n);
    if (!printable(w, n) || slash == NULL)
        return;
    size_t nc = (size_t)(slash - w);
    if (!word_is(w, nc, "patient") && !word_is(w, nc, "user") && !word_is(w, nc, "system"))
        return;
    const char *type = slash + 1;
    const char *end = w + n;
    const char *dot = memchr(type, '.', (size_t)(end - type));
    if (dot == NULL)
        return;
    size_t nt = (size_t)(dot - type);
    if (!word_is(type, nt, "*") && !fhir_type_valid(type, nt))
        return;
    const char *perms = dot + 1;
    const char *q = memchr(perms, '?', (size_t)(end - perms));
    size_t np = (size_t)((q != NULL ? q : end) - perms);
    size_t nq = q != NULL ? (size_t)(end - q - 1) : 0;
    bool v1 = false;
    unsigned bits = perms_of(perms, np, &v1);
    if (bits == 0 || (q != NULL && (v1 || !restriction_valid(q + 1, nq))))
        return;
    grant_add(s, type, nt, bits, q != NULL ? q + 1 : NULL, nq);
}

void scope_parse(struct scopes *s, const char *text)
{
    s->n = 0;
    s->pool[0] = '\0';
    s->used = 1;
    size_t len = text != NULL ? strnlen(text, SCOPE_TEXT_MAX + 1) : 0;
    bool cut = len > SCOPE_TEXT_MAX;
    if (cut)
        len = SCOPE_TEXT_MAX;
    for (size_t i = 0; i < len;) {
        while (i < len && text[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && text[i] != ' ')
            i++;
        if (i == start || (cut && i == len && text[len] != ' '))
            break; /* the end, or a word the limit cuts */
        if (i - start <= SCOPE_WORD_MAX)
            word_add(s, text + start, i - start);
    }
}

/* True when the &-separated parameters of query include the pair p[0..n) exactly. */
static bool query_has(const char *query, const char *p, size_t n)
{
    for (const char *at = query; *at != '\0';) {
        size_t len = strcspn(at, "&");
        if (len == n && memcmp(at, p, n) == 0)
            return true;
        at += len + (at[len] == '&');
    }
    return false;
}

/* True when query (NULL: none) carries every pair of the restriction r. */
static bool query_within(const char *r, const char *query)
{
    if (query == NULL)
        return false;
    for (const char *at = r; *at != '\0';) {
        size_t len = strcspn(at, "&");
        if (!query_has(query, at, len))
            return false;
        at += len + (at[len] == '&');
    }
    return true;
}

bool scope_permits(const struct scopes *s, const char *type, bool search, const char *query)
{
    unsigned need = search ? SCOPE_S : SCOPE_R;
    if (s == NULL || type == NULL)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        const struct scope_grant *g = &s->grant[i];
        const char *gt = s->pool + g->type;
        if ((g->perms & need) == 0 || (strcmp(gt, "*") != 0 && strcmp(gt, type) != 0))
            continue;
        if (g->query == 0 || (search && query_within(s->pool + g->query, query)))
            return true;
    }
    return false;
}

bool scope_permits_url(const struct scopes *s, const char *rel)
{
    struct fhir_ref ref;
    char type[FHIR_TYPE_MAX];
    size_t n = rel != NULL ? strcspn(rel, "/?") : 0;
    if (rel == NULL)
        return false;
    if (rel[n] == '/')
        return fhir_ref_parse(rel, &ref) && ref.kind == FHIR_REF_RELATIVE &&
               scope_permits(s, ref.type, false, NULL);
    if (!fhir_type_valid(rel, n))
        return false;
    memcpy(type, rel, n);
    type[n] = '\0';
    return scope_permits(s, type, true, rel[n] == '?' ? rel + n + 1 : NULL);
}

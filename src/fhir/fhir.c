/* fhir.c - small readers for FHIR R4 JSON: resources, Bundles, codings, dates. */
#include "fhir/fhir.h"

#include "util/civil.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FHIR_MAX_BUNDLE_DEPTH 2 /* a Bundle inside a Bundle entry, no deeper */

const char *fhir_type(const json_object *res)
{
    return json_get_str(res, "resourceType");
}

static int each_in(json_object *v, const struct fhir_entry *at, fhir_each_fn fn, void *ctx,
                   int depth)
{
    const char *type = fhir_type(v);
    if (type == NULL)
        return 0;
    if (strcmp(type, "Bundle") != 0)
        return fn(v, type, at, ctx);
    if (depth >= FHIR_MAX_BUNDLE_DEPTH)
        return 0;
    json_object *entries = json_get_arr(v, "entry");
    size_t n = entries != NULL ? json_object_array_length(entries) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(entries, i);
        json_object *res = json_get_obj(e, "resource");
        struct fhir_entry where = {json_get_str(e, "fullUrl"),
                                   json_get_str(json_get_obj(e, "search"), "mode")};
        if (res == NULL || (where.mode != NULL && strcmp(where.mode, "outcome") == 0))
            continue;
        int rc = each_in(res, &where, fn, ctx, depth + 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int fhir_each_resource(json_object *v, fhir_each_fn fn, void *ctx)
{
    if (v == NULL || !json_object_is_type(v, json_type_object))
        return 0;
    static const struct fhir_entry alone = {NULL, NULL};
    return each_in(v, &alone, fn, ctx, 0);
}

const char *fhir_cc_first_code(const json_object *cc, const char *system)
{
    json_object *codings = json_get_arr(cc, "coding");
    size_t n = codings != NULL ? json_object_array_length(codings) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        const char *sys = json_get_str(c, "system");
        const char *code = json_get_str(c, "code");
        if (code != NULL && (system == NULL || (sys != NULL && strcmp(sys, system) == 0)))
            return code;
    }
    return NULL;
}

const char *fhir_status_code(const json_object *res, const char *key)
{
    return fhir_cc_first_code(json_get_obj(res, key), NULL);
}

bool fhir_date_days(const char *s, long *days)
{
    return civil_parse_date(s, true, days);
}

void fhir_civil_from_days(long days, long *year, int *month, int *day)
{
    civil_from_days(days, year, month, day);
}

int fhir_whole_years(long from, long to)
{
    long fy = 0;
    long ty = 0;
    int fm = 0;
    int fd = 0;
    int tm = 0;
    int td = 0;
    if (to < from)
        return -1;
    fhir_civil_from_days(from, &fy, &fm, &fd);
    fhir_civil_from_days(to, &ty, &tm, &td);
    long years = ty - fy - (tm < fm || (tm == fm && td < fd));
    return (int)years;
}

long fhir_days_from_epoch(long long t)
{
    return (long)(t / 86400);
}

const char *fhir_ref_id(const char *ref, const char *type)
{
    if (ref == NULL)
        return NULL;
    if (type == NULL)
        return ref[0] == '#' ? ref + 1 : NULL;
    size_t n = strlen(type);
    if (strncmp(ref, type, n) == 0 && ref[n] == '/' && ref[n + 1] != '\0')
        return ref + n + 1;
    return NULL;
}

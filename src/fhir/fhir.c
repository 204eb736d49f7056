/* fhir.c - small readers for FHIR R4 JSON: resources, Bundles, codings, dates. */
#include "fhir/fhir.h"

#include "fhir/json.h"

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

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static bool read_digits(const char *s, int n, long *out)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool fhir_date_days(const char *s, long *days)
{
    long y = 0;
    long m = 1;
    long d = 1;
    if (s == NULL || !read_digits(s, 4, &y))
        return false;
    if (s[4] == '-') {
        if (!read_digits(s + 5, 2, &m) || m < 1 || m > 12)
            return false;
        if (s[7] == '-' && (!read_digits(s + 8, 2, &d) || d < 1 || d > 31))
            return false;
    }
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

void fhir_civil_from_days(long days, long *year, int *month, int *day)
{
    /* H. Hinnant's civil_from_days, proleptic Gregorian. */
    long z = days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
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

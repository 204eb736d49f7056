/* report_tally.c - the report's entries (rules, services, EHRs, weeks, reasons), each list
 * kept sorted and searched by bisection, so a row of the store costs a few comparisons
 * however many rows there are (report.h).
 */
#include "store/report.h"
#include "util/civil.h"

#include <stdlib.h>
#include <string.h>

#define DAYS_PER_WEEK 7
#define MONDAY_OFFSET 3 /* 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays */

/* Makes room for one element at index at of *v (n elements of size sz); false when out of
 * memory. */
static bool insert_at(void **v, size_t *n, size_t sz, size_t at)
{
    char *p = realloc(*v, (*n + 1) * sz);
    if (p == NULL)
        return false;
    memmove(p + (at + 1) * sz, p + at * sz, (*n - at) * sz);
    memset(p + at * sz, 0, sz);
    *v = p;
    (*n)++;
    return true;
}

struct report_rule *report_rule_entry(struct store_report *rep, const char *rule)
{
    size_t lo = 0;
    size_t hi = rep->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rep->rules[mid].rule, rule);
        if (c == 0)
            return &rep->rules[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!insert_at((void **)&rep->rules, &rep->n, sizeof *rep->rules, lo))
        return NULL;
    snprintf(rep->rules[lo].rule, sizeof rep->rules[lo].rule, "%s", rule);
    return &rep->rules[lo];
}

struct report_service *report_service_entry(struct store_report *rep, const char *service)
{
    size_t lo = 0;
    size_t hi = rep->n_services;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rep->services[mid].service, service);
        if (c == 0)
            return &rep->services[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!insert_at((void **)&rep->services, &rep->n_services, sizeof *rep->services, lo))
        return NULL;
    snprintf(rep->services[lo].service, sizeof rep->services[lo].service, "%s", service);
    return &rep->services[lo];
}

/* NULL (none) sorts first. */
static int cmp_opt(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_ehr(const struct report_ehr *e, const char *iss, const char *tenant)
{
    if (e->other)
        return 1; /* last */
    int c = cmp_opt(e->iss, iss);
    return c != 0 ? c : cmp_opt(e->tenant, tenant);
}

static bool dup_opt(const char *s, char **out)
{
    *out = s != NULL ? strdup(s) : NULL;
    return s == NULL || *out != NULL;
}

struct report_ehr *report_ehr_entry(struct store_report *rep, const char *iss, const char *tenant)
{
    size_t lo = 0;
    size_t hi = rep->n_ehrs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_ehr(&rep->ehrs[mid], iss, tenant);
        if (c == 0)
            return &rep->ehrs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    bool full = rep->n_ehrs >= REPORT_EHRS_MAX;
    if (full && rep->n_ehrs > 0 && rep->ehrs[rep->n_ehrs - 1].other)
        return &rep->ehrs[rep->n_ehrs - 1];
    size_t at = full ? rep->n_ehrs : lo;
    if (!insert_at((void **)&rep->ehrs, &rep->n_ehrs, sizeof *rep->ehrs, at))
        return NULL;
    struct report_ehr *e = &rep->ehrs[at];
    e->other = full;
    if (!full && (!dup_opt(iss, &e->iss) || !dup_opt(tenant, &e->tenant)))
        return NULL; /* the entry stays, half named: store_report_free() frees it */
    return e;
}

/* "YYYY-MM-DD" -> the days since 1970-01-01 of its week's Monday. */
static bool monday_of(const char *day, long *out)
{
    long days = 0;
    if (day == NULL || strlen(day) != REPORT_WEEK_LEN - 1 || !civil_parse_date(day, false, &days))
        return false;
    long into = (days + MONDAY_OFFSET) % DAYS_PER_WEEK;
    *out = days - (into < 0 ? into + DAYS_PER_WEEK : into);
    return true;
}

static void week_init(struct report_week *w, long monday)
{
    long y = 0;
    int m = 0;
    int d = 0;
    civil_from_days(monday, &y, &m, &d);
    w->monday = monday;
    snprintf(w->start, sizeof w->start, "%04ld-%02d-%02d", y, m, d);
}

/* The week of monday in r->weeks, added in sorted place when new. */
static struct report_week *week_at(struct report_rule *r, long monday)
{
    size_t lo = 0;
    size_t hi = r->n_weeks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->weeks[mid].monday == monday)
            return &r->weeks[mid];
        if (r->weeks[mid].monday < monday)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!insert_at((void **)&r->weeks, &r->n_weeks, sizeof *r->weeks, lo))
        return NULL;
    week_init(&r->weeks[lo], monday);
    return &r->weeks[lo];
}

struct report_week *report_week_entry(struct report_rule *r, const char *day)
{
    long monday = 0;
    return monday_of(day, &monday) ? week_at(r, monday) : NULL;
}

int report_weeks_fill(struct store_report *rep)
{
    long first = 0;
    long last = 0;
    bool any = false;
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_rule *r = &rep->rules[i];
        if (r->n_weeks == 0)
            continue;
        if (!any || r->weeks[0].monday < first)
            first = r->weeks[0].monday;
        if (!any || r->weeks[r->n_weeks - 1].monday > last)
            last = r->weeks[r->n_weeks - 1].monday;
        any = true;
    }
    long span = any ? (last - first) / DAYS_PER_WEEK + 1 : 0;
    if (span == 0 || span > REPORT_WEEKS_MAX)
        return 0;
    for (size_t i = 0; i < rep->n; i++) {
        struct report_rule *r = &rep->rules[i];
        struct report_week *v = calloc((size_t)span, sizeof *v);
        if (v == NULL)
            return -1;
        for (long k = 0; k < span; k++)
            week_init(&v[k], first + k * DAYS_PER_WEEK);
        for (size_t k = 0; k < r->n_weeks; k++) {
            struct report_week *w = &v[(r->weeks[k].monday - first) / DAYS_PER_WEEK];
            w->issued = r->weeks[k].issued;
            w->accepted = r->weeks[k].accepted;
            w->overridden = r->weeks[k].overridden;
        }
        free(r->weeks);
        r->weeks = v;
        r->n_weeks = (size_t)span;
    }
    return 0;
}

static int cmp_reason(const struct report_reason *x, const char *system, const char *code)
{
    int c = strcmp(x->system, system);
    return c != 0 ? c : strcmp(x->code, code);
}

int report_reason_add(struct report_rule *r, const char *system, const char *code, long long count)
{
    const char *sys = system != NULL ? system : "";
    size_t lo = 0;
    size_t hi = r->n_reasons;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_reason(&r->reasons[mid], sys, code);
        if (c == 0) {
            r->reasons[mid].count += count;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (r->n_reasons >= REPORT_REASONS_MAX) {
        r->reasons_other += count;
        return 0;
    }
    if (!insert_at((void **)&r->reasons, &r->n_reasons, sizeof *r->reasons, lo))
        return -1;
    struct report_reason *x = &r->reasons[lo];
    x->system = strdup(sys);
    x->code = strdup(code);
    x->count = count;
    return x->system != NULL && x->code != NULL ? 0 : -1;
}

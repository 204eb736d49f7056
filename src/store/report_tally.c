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

/* An element compared with a key: < 0, 0 or > 0 as the element sorts before, with or
 * after it. */
typedef int (*cmp_fn)(const void *elem, const void *key);

/* The index of key in v (n sorted elements of size sz), *found; else where it would go. */
static size_t bisect(const void *v, size_t n, size_t sz, cmp_fn cmp, const void *key, bool *found)
{
    size_t lo = 0;
    size_t hi = n;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp((const char *)v + mid * sz, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_rule(const void *elem, const void *key)
{
    return strcmp(((const struct report_rule *)elem)->rule, key);
}

static int cmp_service(const void *elem, const void *key)
{
    return strcmp(((const struct report_service *)elem)->service, key);
}

struct report_rule *report_rule_entry(struct store_report *rep, const char *rule)
{
    bool found = false;
    size_t at = bisect(rep->rules, rep->n, sizeof *rep->rules, cmp_rule, rule, &found);
    if (found)
        return &rep->rules[at];
    if (!insert_at((void **)&rep->rules, &rep->n, sizeof *rep->rules, at))
        return NULL;
    snprintf(rep->rules[at].rule, sizeof rep->rules[at].rule, "%s", rule);
    return &rep->rules[at];
}

struct report_service *report_service_entry(struct store_report *rep, const char *service)
{
    bool found = false;
    size_t at =
        bisect(rep->services, rep->n_services, sizeof *rep->services, cmp_service, service, &found);
    if (found)
        return &rep->services[at];
    if (!insert_at((void **)&rep->services, &rep->n_services, sizeof *rep->services, at))
        return NULL;
    snprintf(rep->services[at].service, sizeof rep->services[at].service, "%s", service);
    return &rep->services[at];
}

/* NULL (none) sorts first. */
static int cmp_opt(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

struct ehr_key {
    const char *iss;
    const char *tenant;
};

static int cmp_ehr(const void *elem, const void *key)
{
    const struct report_ehr *e = elem;
    const struct ehr_key *k = key;
    if (e->other)
        return 1; /* last */
    int c = cmp_opt(e->iss, k->iss);
    return c != 0 ? c : cmp_opt(e->tenant, k->tenant);
}

static bool dup_opt(const char *s, char **out)
{
    *out = s != NULL ? strdup(s) : NULL;
    return s == NULL || *out != NULL;
}

struct report_ehr *report_ehr_entry(struct store_report *rep, const char *iss, const char *tenant)
{
    const struct ehr_key key = {iss, tenant};
    bool found = false;
    size_t lo = bisect(rep->ehrs, rep->n_ehrs, sizeof *rep->ehrs, cmp_ehr, &key, &found);
    if (found)
        return &rep->ehrs[lo];
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

static int cmp_week(const void *elem, const void *key)
{
    long a = ((const struct report_week *)elem)->monday;
    long b = *(const long *)key;
    return (a > b) - (a < b);
}

/* The week of monday in r->weeks, added in sorted place when new. */
static struct report_week *week_at(struct report_rule *r, long monday)
{
    bool found = false;
    size_t at = bisect(r->weeks, r->n_weeks, sizeof *r->weeks, cmp_week, &monday, &found);
    if (found)
        return &r->weeks[at];
    if (!insert_at((void **)&r->weeks, &r->n_weeks, sizeof *r->weeks, at))
        return NULL;
    week_init(&r->weeks[at], monday);
    return &r->weeks[at];
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

struct reason_key {
    const char *system;
    const char *code;
};

static int cmp_reason(const void *elem, const void *key)
{
    const struct report_reason *x = elem;
    const struct reason_key *k = key;
    int c = strcmp(x->system, k->system);
    return c != 0 ? c : strcmp(x->code, k->code);
}

int report_reason_add(struct report_rule *r, const char *system, const char *code, long long count)
{
    const struct reason_key key = {system != NULL ? system : "", code};
    bool found = false;
    size_t lo = bisect(r->reasons, r->n_reasons, sizeof *r->reasons, cmp_reason, &key, &found);
    if (found) {
        r->reasons[lo].count += count;
        return 0;
    }
    if (r->n_reasons >= REPORT_REASONS_MAX) {
        r->reasons_other += count;
        return 0;
    }
    if (!insert_at((void **)&r->reasons, &r->n_reasons, sizeof *r->reasons, lo))
        return -1;
    struct report_reason *x = &r->reasons[lo];
    x->system = strdup(key.system);
    x->code = strdup(code);
    x->count = count;
    return x->system != NULL && x->code != NULL ? 0 : -1;
}

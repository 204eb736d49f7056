/* report.c - the report's queries (one SQL text for both backends: SQLite reads $1/$2 as
 * parameters 1 and 2, PostgreSQL infers their type from the column) and its date range.
 */
#include "store/report.h"

#include "util/civil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RANGE_MIN "0001-01-01T00:00:00.000Z"
#define RANGE_MAX "9999-12-31T23:59:59.999Z"
#define DATE_LEN 10     /* YYYY-MM-DD */
#define DATETIME_LEN 20 /* YYYY-MM-DDTHH:MM:SSZ */
#define YEAR_MIN 1970
#define YEAR_MAX 9998
#define SECONDS_PER_DAY 86400

/* Every query answers (rule, key, count, system): system only for the reasons. */
static const char sql_issued[] = "SELECT rule_id, NULL, count(*), NULL FROM cards_issued"
                                 " WHERE issued_at >= $1 AND issued_at < $2 GROUP BY rule_id";
static const char sql_outcomes[] =
    "SELECT c.rule_id, f.outcome, count(*), NULL FROM feedback f"
    " JOIN cards_issued c ON c.card_uuid = f.card_uuid"
    " WHERE c.issued_at >= $1 AND c.issued_at < $2 GROUP BY c.rule_id, f.outcome";
static const char sql_reasons[] =
    "SELECT c.rule_id, f.reason_code, count(*), f.reason_system FROM feedback f"
    " JOIN cards_issued c ON c.card_uuid = f.card_uuid"
    " WHERE c.issued_at >= $1 AND c.issued_at < $2 AND f.outcome = 'overridden'"
    " AND f.reason_code IS NOT NULL GROUP BY c.rule_id, f.reason_system, f.reason_code";
static const char sql_totals[] =
    "SELECT NULL, coalesce(sum(CASE WHEN c.card_uuid IS NULL THEN 1 ELSE 0 END), 0), count(*),"
    " NULL"
    " FROM feedback f LEFT JOIN cards_issued c ON c.card_uuid = f.card_uuid"
    " WHERE f.received_at >= $1 AND f.received_at < $2";

/* (NULL, service, calls, cards): the hours whose start is in the range. */
static const char sql_calls[] =
    "SELECT NULL, service_id, sum(calls), sum(cards) FROM calls"
    " WHERE hour >= $1 AND hour < $2 GROUP BY service_id ORDER BY service_id";

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" -> seconds since the epoch; false when not a
 * real date-time of that shape (the date read by util/civil.h, as everywhere). */
static bool parse_when(const char *s, bool *date_only, time_t *out)
{
    size_t n = strlen(s);
    long days = 0;
    int f[3] = {0};
    if ((n != DATE_LEN && n != DATETIME_LEN) || !civil_parse_date(s, false, &days))
        return false;
    if (n == DATETIME_LEN) {
        static const char shape[] = "Tdd:dd:ddZ"; /* after the date */
        for (size_t i = 0, k = 0; i < sizeof shape - 1; i++) {
            char c = s[DATE_LEN + i];
            if (shape[i] != 'd') {
                if (c != shape[i])
                    return false;
                k += i > 0;
            } else if (c < '0' || c > '9') {
                return false;
            } else {
                f[k] = f[k] * 10 + (c - '0');
            }
        }
        if (f[0] > 23 || f[1] > 59 || f[2] > 59)
            return false; /* 25:00 is no moment */
    }
    long y = 0;
    int m = 0;
    int d = 0;
    civil_from_days(days, &y, &m, &d);
    if (y < YEAR_MIN || y > YEAR_MAX)
        return false;
    *date_only = n == DATE_LEN;
    *out = (time_t)days * 86400 + f[0] * 3600 + f[1] * 60 + f[2];
    return true;
}

static void format_ts(time_t t, char *out)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, STORE_TS_MAX, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

int store_report_range(const char *since, const char *until, struct store_range *out,
                       struct myocds_err *err)
{
    bool date_only = false;
    time_t t = 0;
    time_t from = 0;
    out->since[0] = out->until[0] = '\0';
    if (since != NULL) {
        if (!parse_when(since, &date_only, &from))
            return myocds_err_set(err, 400, "--since must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
        format_ts(from, out->since);
    }
    if (until != NULL) {
        if (!parse_when(until, &date_only, &t))
            return myocds_err_set(err, 400, "--until must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
        if (date_only)
            t += SECONDS_PER_DAY; /* the whole day */
        if (since != NULL && t <= from)
            return myocds_err_set(err, 400, "--until must be after --since");
        format_ts(t, out->until);
    }
    return 0;
}

/* The rule's entry in rep, added (in sorted place) when new; NULL when out of memory. */
static struct report_rule *rule_entry(struct store_report *rep, const char *rule)
{
    size_t i = 0;
    for (; i < rep->n; i++) {
        int c = strcmp(rep->rules[i].rule, rule);
        if (c == 0)
            return &rep->rules[i];
        if (c > 0)
            break;
    }
    struct report_rule *v = realloc(rep->rules, (rep->n + 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    rep->rules = v;
    memmove(&v[i + 1], &v[i], (rep->n - i) * sizeof *v);
    memset(&v[i], 0, sizeof *v);
    snprintf(v[i].rule, sizeof v[i].rule, "%s", rule);
    rep->n++;
    return &v[i];
}

static int add_reason(struct report_rule *r, const char *system, const char *code, long long count)
{
    struct report_reason *v = realloc(r->reasons, (r->n_reasons + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    r->reasons = v;
    v[r->n_reasons] =
        (struct report_reason){strdup(system != NULL ? system : ""), strdup(code), NULL, count};
    r->n_reasons++;
    return v[r->n_reasons - 1].system != NULL && v[r->n_reasons - 1].code != NULL ? 0 : -1;
}

struct row_ctx {
    struct store_report *rep;
    const char *sql; /* which query the rows answer */
};

static bool parse_count(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    *out = s != NULL ? strtoll(s, &end, 10) : -1;
    return s != NULL && errno == 0 && end != s && *end == '\0' && *out >= 0;
}

/* A service's row of sql_calls, appended (the query sorts them). */
static int on_calls(struct store_report *rep, const char *const col[STORE_ROW_COLS])
{
    long long calls = 0;
    long long cards = 0;
    if (col[1] == NULL || !parse_count(col[2], &calls) || !parse_count(col[3], &cards))
        return MYOCDS_E_INTERNAL;
    struct report_service *v = realloc(rep->services, (rep->n_services + 1) * sizeof *v);
    if (v == NULL)
        return MYOCDS_E_INTERNAL;
    rep->services = v;
    v += rep->n_services++;
    memset(v, 0, sizeof *v);
    snprintf(v->service, sizeof v->service, "%s", col[1]);
    v->calls = calls;
    v->cards = cards;
    return 0;
}

static int on_row(void *arg, const char *const col[STORE_ROW_COLS])
{
    struct row_ctx *c = arg;
    long long n = 0;
    if (c->sql == sql_calls)
        return on_calls(c->rep, col);
    if (!parse_count(col[2], &n))
        return MYOCDS_E_INTERNAL;
    if (c->sql == sql_totals) {
        long long unmatched = 0;
        if (!parse_count(col[1], &unmatched))
            return MYOCDS_E_INTERNAL;
        c->rep->feedback_total = n;
        c->rep->feedback_unmatched = unmatched;
        return 0;
    }
    struct report_rule *r = col[0] != NULL ? rule_entry(c->rep, col[0]) : NULL;
    if (r == NULL)
        return MYOCDS_E_INTERNAL;
    if (c->sql == sql_issued)
        r->issued += n;
    else if (c->sql == sql_reasons)
        return col[1] != NULL && add_reason(r, col[3], col[1], n) == 0 ? 0 : MYOCDS_E_INTERNAL;
    else if (col[1] != NULL && strcmp(col[1], "accepted") == 0)
        r->accepted += n;
    else if (col[1] != NULL && strcmp(col[1], "overridden") == 0)
        r->overridden += n;
    return 0;
}

static int by_count(const void *a, const void *b)
{
    const struct report_reason *x = a;
    const struct report_reason *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    int c = strcmp(x->code, y->code);
    return c != 0 ? c : strcmp(x->system, y->system);
}

bool report_same_category(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* Each reason's category (categorize, when given), and the counts per category. */
static void categorize_reasons(struct report_rule *r, report_category_fn categorize, void *ctx)
{
    for (size_t k = 0; k < r->n_reasons; k++) {
        struct report_reason *x = &r->reasons[k];
        const char *cat = categorize != NULL ? categorize(ctx, r->rule, x->system, x->code) : NULL;
        x->category = cat;
        size_t c = 0;
        while (c < r->n_categories && !report_same_category(r->categories[c].category, cat))
            c++;
        if (c == r->n_categories && c < REPORT_CATEGORIES_MAX)
            r->categories[r->n_categories++] = (struct report_category){cat, 0};
        if (c < REPORT_CATEGORIES_MAX)
            r->categories[c].count += x->count;
    }
}

static int by_category_count(const void *a, const void *b)
{
    const struct report_category *x = a;
    const struct report_category *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    if (x->category == NULL || y->category == NULL) /* unknown last */
        return (x->category == NULL) - (y->category == NULL);
    return strcmp(x->category, y->category);
}

int store_report(struct store *st, const struct store_range *range, report_category_fn categorize,
                 void *cat_ctx, struct store_report *out, struct myocds_err *err)
{
    static const char *const queries[] = {sql_issued, sql_outcomes, sql_reasons, sql_totals,
                                          sql_calls};
    struct row_ctx ctx = {out, NULL};
    const char *since = range->since[0] != '\0' ? range->since : RANGE_MIN;
    const char *until = range->until[0] != '\0' ? range->until : RANGE_MAX;
    int rc = 0;
    memset(out, 0, sizeof *out);
    out->range = *range;
    store_flush(st); /* cards issued until now count */
    for (size_t i = 0; i < sizeof queries / sizeof queries[0] && rc == 0; i++) {
        ctx.sql = queries[i];
        rc = store_query(st, queries[i], since, until, on_row, &ctx, err);
    }
    if (rc != 0) {
        store_report_free(out);
        return myocds_err_set(err, 500, "cannot read the feedback store");
    }
    for (size_t i = 0; i < out->n; i++) {
        struct report_rule *r = &out->rules[i];
        if (r->n_reasons > 1) /* reasons is NULL when there are none */
            qsort(r->reasons, r->n_reasons, sizeof *r->reasons, by_count);
        categorize_reasons(r, categorize, cat_ctx);
        qsort(r->categories, r->n_categories, sizeof *r->categories, by_category_count);
    }
    store_report_derive(out);
    format_ts(time(NULL), out->made_at);
    return 0;
}

void store_report_free(struct store_report *rep)
{
    for (size_t i = 0; i < rep->n; i++) {
        for (size_t k = 0; k < rep->rules[i].n_reasons; k++) {
            free(rep->rules[i].reasons[k].code);
            free(rep->rules[i].reasons[k].system);
        }
        free(rep->rules[i].reasons);
    }
    free(rep->rules);
    free(rep->services);
    memset(rep, 0, sizeof *rep);
}

/* report.c - the report's queries (SQLite reads $1/$2 as parameters 1 and 2, PostgreSQL
 * infers their type from the column) and its date range.
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

/* The report reads the store in five passes, each one scan (report.h): the cards; the
 * feedback entries that carry their card's facts; those that do not (stored before their
 * card was written: joined to it here); the feedback received; the calls. A row of the
 * first three has the columns of enum col. SQLite streams the feedback rows ungrouped (its
 * sort for a GROUP BY costs more than the rows), PostgreSQL groups them; either way the
 * tally adds each row's count. The dialects differ only in the day of a time stamp
 * (PostgreSQL's is a date, written YYYY-MM-DD under the DateStyle store_pg.c sets). */
enum col {
    C_RULE,
    C_SERVICE,
    C_ISS,
    C_TENANT,
    C_DAY,     /* the card's day of issue, "YYYY-MM-DD" (UTC) */
    C_COUNT,   /* the rows this row stands for */
    C_OUTCOME, /* feedback only, as the rest */
    C_SYSTEM,
    C_CODE,
    C_IN_ISSUE,  /* unlinked only: "1" when the card was issued in the range */
    C_IN_RECEIPT /* unlinked only: "1" when the feedback was received in the range */
};

#define DAY_SQLITE(col) "substr(" col ", 1, 10)"
#define DAY_PG(col) "((" col " AT TIME ZONE 'UTC')::date)"
#define IN_RANGE(col) "CASE WHEN " col " >= $1 AND " col " < $2 THEN 1 ELSE 0 END"

/* SQLite groups by the index cards_issued_report, in one scan; PostgreSQL by hashing (its
 * statistics cards_issued_day tell the planner how few groups there are). */
/* clang-format off */
#define SQL_CARDS(DAY)                                                                             \
    "SELECT rule_id, service_id, iss, tenant, " DAY("issued_at") ", count(*)"                    \
    " FROM cards_issued WHERE issued_at >= $1 AND issued_at < $2"                                  \
    " GROUP BY rule_id, service_id, iss, tenant, " DAY("issued_at")

#define SQL_LINKED(DAY, COUNT, GROUP)                                                              \
    "SELECT card_rule, card_service, card_iss, card_tenant, " DAY("card_issued_at") ", "         \
    COUNT ", outcome, reason_system, reason_code FROM feedback"                                    \
    " WHERE card_rule IS NOT NULL AND card_issued_at >= $1 AND card_issued_at < $2" GROUP

#define SQL_UNLINKED(DAY)                                                                          \
    "SELECT c.rule_id, c.service_id, c.iss, c.tenant, " DAY("c.issued_at") ", 1,"                \
    " f.outcome, f.reason_system, f.reason_code, "                                                 \
    IN_RANGE("c.issued_at") ", " IN_RANGE("f.received_at")                                         \
    " FROM feedback f LEFT JOIN cards_issued c ON c.card_uuid = f.card_uuid"                       \
    " WHERE f.card_rule IS NULL AND"                                                               \
    " ((c.issued_at >= $1 AND c.issued_at < $2) OR (f.received_at >= $1 AND f.received_at < $2))"
/* clang-format on */

/* (count): every feedback entry received in the range. */
static const char sql_received[] =
    "SELECT count(*) FROM feedback WHERE received_at >= $1 AND received_at < $2";

/* (NULL, service, calls, cards): the hours whose start is in the range. */
static const char sql_calls[] =
    "SELECT NULL, service_id, sum(calls), sum(cards) FROM calls"
    " WHERE hour >= $1 AND hour < $2 GROUP BY service_id ORDER BY service_id";

enum pass { PASS_CARDS, PASS_LINKED, PASS_UNLINKED, PASS_RECEIVED, PASS_CALLS, PASS_COUNT };

static const char *const passes[2][PASS_COUNT] = {
    [STORE_DIALECT_SQLITE] = {SQL_CARDS(DAY_SQLITE), SQL_LINKED(DAY_SQLITE, "1", ""),
                              SQL_UNLINKED(DAY_SQLITE), sql_received, sql_calls},
    [STORE_DIALECT_PG] = {SQL_CARDS(DAY_PG),
                          SQL_LINKED(DAY_PG, "count(*)", " GROUP BY 1, 2, 3, 4, 5, 7, 8, 9"),
                          SQL_UNLINKED(DAY_PG), sql_received, sql_calls},
};

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

struct row_ctx {
    struct store_report *rep;
    enum pass pass; /* which query the rows answer */
};

static bool parse_count(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    *out = s != NULL ? strtoll(s, &end, 10) : -1;
    return s != NULL && errno == 0 && end != s && *end == '\0' && *out >= 0;
}

/* A service's row of sql_calls. */
static int on_calls(struct store_report *rep, const char *const col[STORE_ROW_COLS])
{
    long long calls = 0;
    long long cards = 0;
    struct report_service *v = NULL;
    if (col[1] == NULL || !parse_count(col[2], &calls) || !parse_count(col[3], &cards) ||
        (v = report_service_entry(rep, col[1])) == NULL)
        return MYOCDS_E_INTERNAL;
    v->calls += calls;
    v->cards += cards;
    return 0;
}

static void add_outcome(struct report_outcomes *o, const char *outcome, long long n)
{
    if (outcome == NULL)
        o->issued += n;
    else if (strcmp(outcome, "accepted") == 0)
        o->accepted += n;
    else if (strcmp(outcome, "overridden") == 0)
        o->overridden += n;
}

/* n cards of the row's rule, service, EHR and week issued in the range (outcome NULL), or
 * n feedback entries of that outcome on such cards. */
static int tally(struct store_report *rep, const char *const col[STORE_ROW_COLS],
                 const char *outcome, long long n)
{
    struct report_rule *r = report_rule_entry(rep, col[C_RULE]);
    struct report_service *s =
        col[C_SERVICE] != NULL ? report_service_entry(rep, col[C_SERVICE]) : NULL;
    struct report_ehr *e = report_ehr_entry(rep, col[C_ISS], col[C_TENANT]);
    struct report_week *w = r != NULL ? report_week_entry(r, col[C_DAY]) : NULL;
    if (r == NULL || s == NULL || e == NULL || w == NULL)
        return MYOCDS_E_INTERNAL;
    struct report_outcomes o = {0};
    add_outcome(&o, outcome, n);
    r->issued += o.issued;
    r->accepted += o.accepted;
    r->overridden += o.overridden;
    w->issued += o.issued;
    w->accepted += o.accepted;
    w->overridden += o.overridden;
    add_outcome(&s->out, outcome, n);
    add_outcome(&e->out, outcome, n);
    if (o.overridden > 0 && col[C_CODE] != NULL &&
        report_reason_add(r, col[C_SYSTEM], col[C_CODE], n) != 0)
        return MYOCDS_E_INTERNAL;
    return 0;
}

static bool is_one(const char *s)
{
    return s != NULL && strcmp(s, "1") == 0;
}

static int on_row(void *arg, const char *const col[STORE_ROW_COLS])
{
    struct row_ctx *c = arg;
    long long n = 0;
    if (c->pass == PASS_CALLS)
        return on_calls(c->rep, col);
    if (c->pass == PASS_RECEIVED)
        return parse_count(col[0], &c->rep->feedback_total) ? 0 : MYOCDS_E_INTERNAL;
    if (!parse_count(col[C_COUNT], &n))
        return MYOCDS_E_INTERNAL;
    if (c->pass == PASS_CARDS)
        return col[C_RULE] != NULL ? tally(c->rep, col, NULL, n) : MYOCDS_E_INTERNAL;
    if (col[C_OUTCOME] == NULL)
        return MYOCDS_E_INTERNAL;
    if (c->pass == PASS_UNLINKED && col[C_RULE] == NULL && is_one(col[C_IN_RECEIPT]))
        c->rep->feedback_unmatched += n; /* no such card in the store */
    if (col[C_RULE] == NULL || (c->pass == PASS_UNLINKED && !is_one(col[C_IN_ISSUE])))
        return 0;
    return tally(c->rep, col, col[C_OUTCOME], n);
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
    if (r->reasons_other == 0)
        return;
    size_t c = 0; /* the codes beyond REPORT_REASONS_MAX: unknown */
    while (c < r->n_categories && r->categories[c].category != NULL)
        c++;
    if (c == r->n_categories && c < REPORT_CATEGORIES_MAX)
        r->categories[r->n_categories++] = (struct report_category){NULL, 0};
    if (c < REPORT_CATEGORIES_MAX)
        r->categories[c].count += r->reasons_other;
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
    const char *const *queries = passes[store_dialect(st)];
    struct row_ctx ctx = {out, PASS_CARDS};
    const char *since = range->since[0] != '\0' ? range->since : RANGE_MIN;
    const char *until = range->until[0] != '\0' ? range->until : RANGE_MAX;
    int rc = 0;
    memset(out, 0, sizeof *out);
    out->range = *range;
    store_flush(st); /* cards issued until now count */
    for (int i = 0; i < PASS_COUNT && rc == 0; i++) {
        ctx.pass = (enum pass)i;
        rc = store_query(st, queries[i], since, until, on_row, &ctx, err);
    }
    if (rc == 0)
        rc = report_weeks_fill(out);
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
        free(rep->rules[i].weeks);
    }
    free(rep->rules);
    free(rep->services);
    for (size_t i = 0; i < rep->n_ehrs; i++) {
        free(rep->ehrs[i].iss);
        free(rep->ehrs[i].tenant);
    }
    free(rep->ehrs);
    memset(rep, 0, sizeof *rep);
}

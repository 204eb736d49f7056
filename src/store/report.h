/* report.h - what the CDS governance committee asks: per rule, cards issued, accepted,
 * overridden, acceptance rate with its 95 % Wilson interval and top override reasons,
 * over a date range.
 *
 * The range selects cards by the time they were issued; accepted and overridden count
 * the feedback on those cards, so acceptance_rate = accepted / issued is the share of the
 * cards issued in the range that were accepted. feedback_total counts every feedback
 * entry received in the range, including entries for cards this store never issued
 * (feedback_unmatched).
 *
 * Alert burden: the calls each service answered (table calls, per hour; an hour counts
 * when its start is in the range) and the cards they gave; a service's
 * cards_per_100_calls = its cards * 100 / its calls, and a rule's = the rule's cards issued
 * in the range * 100 / the calls of all services in the range (every call could have
 * given the rule's card).
 *
 * The same outcomes per week of issue (per rule), per service and per EHR (the iss and
 * tenant of the calls that got the cards), and what was in force when the report was
 * made (given by the caller). One tally (report_tally.c) fills all of it from the store's
 * rows, and every format renders that one struct.
 */
#ifndef MYOCDS_STORE_REPORT_H
#define MYOCDS_STORE_REPORT_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define REPORT_DATE_MAX 64 /* longest --since / --until value */

enum report_format {
    REPORT_TEXT = 0,
    REPORT_JSON,
    REPORT_CSV,
    REPORT_HTML, /* the committee's page: report_html.c */
};

#define REPORT_HEADLINE_MIN_ISSUED 10 /* cards a rule needs to be named most ignored */
#define REPORT_WEEK_LEN 11            /* "YYYY-MM-DD" and its NUL */
#define REPORT_WEEKS_MAX 1100         /* weeks a report fills in (about 21 years) */
#define REPORT_EHRS_MAX 1000          /* EHRs broken down; the rest are one "other" entry */
#define REPORT_REASONS_MAX 1000       /* distinct reasons kept per rule; the rest "other" */

/* The category of the HL7 Non-Adherence Reason Codes a reason (system, code) given for a
 * card of rule counts in, or NULL when unknown; borrowed, outliving the report. */
typedef const char *(*report_category_fn)(void *ctx, const char *rule, const char *system,
                                          const char *code);

struct report_reason {
    char *system;         /* owned; "" when the feedback gave none */
    char *code;           /* owned */
    const char *category; /* borrowed from the categorizer, or NULL: unknown */
    long long count;
};

#define REPORT_CATEGORIES_MAX 8 /* the six, unknown, and one to spare */

struct report_category {
    const char *category; /* borrowed, or NULL: unknown */
    long long count;
};

/* True when categories a and b are the same (NULL, unknown, equals only NULL). */
bool report_same_category(const char *a, const char *b);

/* The cards of one rule issued in one week (Monday to Sunday, UTC), and the feedback on
 * them. */
struct report_week {
    long monday;                 /* the week's Monday, days since 1970-01-01 */
    char start[REPORT_WEEK_LEN]; /* that Monday, "YYYY-MM-DD" */
    long long issued;
    long long accepted;
    long long overridden;
};

/* Outcomes of a group of cards (a service's, an EHR's): issued in the range, and the
 * feedback on them. */
struct report_outcomes {
    long long issued;
    long long accepted;
    long long overridden;
    long long no_feedback; /* issued - accepted - overridden, never negative */
    bool has_ci;           /* issued > 0: the rate and interval below mean something */
    double rate;           /* accepted / issued (accepted counted up to issued) */
    double ci_low;         /* its 95 % Wilson interval */
    double ci_high;
};

struct report_rule {
    char rule[STORE_RULE_MAX];
    long long issued;
    long long accepted;
    long long overridden;
    long long no_feedback; /* issued - accepted - overridden, never negative */
    bool has_ci;           /* issued > 0: the interval below means something */
    double ci_low;         /* 95 % Wilson score interval of accepted / issued */
    double ci_high;
    struct report_reason *reasons; /* owned, sorted by count (desc) then code */
    size_t n_reasons;
    long long reasons_other; /* overrides whose code came beyond REPORT_REASONS_MAX */
    struct report_category categories[REPORT_CATEGORIES_MAX]; /* by count (desc) */
    size_t n_categories;
    struct report_week *weeks; /* owned, by week; every week from the report's first to
                                * its last (zeros between) when they are few enough */
    size_t n_weeks;
    bool has_per_100;           /* the range has calls: the figure below means something */
    double cards_per_100_calls; /* issued * 100 / store_report.calls_total */
};

struct report_service {
    char service[STORE_SERVICE_MAX];
    long long calls;
    long long cards;            /* cards given in those calls */
    bool has_per_100;           /* calls > 0 */
    double cards_per_100_calls; /* cards * 100 / calls */
    struct report_outcomes out; /* the cards of this service recorded as issued */
};

/* One EHR: the iss and tenant of the JWTs of the calls that got the cards. */
struct report_ehr {
    char *iss;    /* owned; NULL: none (a --dev call) */
    char *tenant; /* owned; NULL: none */
    bool other;   /* every EHR beyond REPORT_EHRS_MAX, together (iss, tenant NULL) */
    struct report_outcomes out;
};

/* What was in force when the report was made, from the hooks loaded with it: the rules
 * switched off for a service, and every threshold of hooks/rules.json. Owned by whoever
 * made it (src/cli/in_force.c); the report only reads it. */
struct report_switch {
    const char *service;
    const char *rule;
};
struct report_threshold {
    const char *name; /* "name", or "name.member" of a map */
    double value;
};
struct report_in_force {
    const char *hooks_dir;
    struct report_switch *off; /* by service, then rule */
    size_t n_off;
    size_t n_rules;                      /* rules loaded */
    struct report_threshold *thresholds; /* in the file's order */
    size_t n_thresholds;
};

struct store_report {
    struct store_range range;
    struct report_rule *rules; /* owned, sorted by rule id */
    size_t n;
    long long feedback_total;
    long long feedback_unmatched;
    struct report_service *services; /* owned, sorted by service id */
    size_t n_services;
    long long calls_total;   /* calls of all services in the range */
    struct report_ehr *ehrs; /* owned, by iss then tenant (none first), "other" last */
    size_t n_ehrs;
    char made_at[STORE_TS_MAX];             /* when the report was read from the store (UTC) */
    const struct report_in_force *in_force; /* borrowed, NULL: not known */
};

/* since/until (NULL: unbounded) -> range. A DATE is YYYY-MM-DD (until includes that whole
 * day) or YYYY-MM-DDTHH:MM:SSZ (UTC; until is exclusive). -400 with err naming the bad
 * option otherwise. */
int store_report_range(const char *since, const char *until, struct store_range *out,
                       struct myocds_err *err);

/* Flushes queued cards, then fills *out for range, each override reason's category from
 * categorize (with ctx; NULL: all unknown). Free with store_report_free(). */
int store_report(struct store *st, const struct store_range *range, report_category_fn categorize,
                 void *ctx, struct store_report *out, struct myocds_err *err);

/* The 95 % Wilson score interval of k successes in n trials, in [0, 1]; false (and 0, 0)
 * when n is 0 or k is not in 0..n. */
bool report_wilson(long long k, long long n, double *low, double *high);

/* Fills each rule's derived figures (no_feedback, the Wilson interval, cards per 100
 * calls) and each service's cards per 100 calls from the counts;
 * store_report() calls it, a hand-made report needs it once before rendering. */
void store_report_derive(struct store_report *rep);

/* The rule the committee's headline names: the lowest acceptance rate among rules with at
 * least REPORT_HEADLINE_MIN_ISSUED cards (ties: more issued, then the first by id);
 * borrowed from rep, NULL when no rule has enough cards. */
const struct report_rule *store_report_most_ignored(const struct store_report *rep);

#define REPORT_NUM_MAX 32 /* a figure as text */

/* v as every format shows a figure ("0.4" style, 4 decimals at most) in buf[cap]; returns
 * buf. */
const char *store_report_num(double v, char *buf, size_t cap);

/* Frees what rep owns and zeroes it. */
void store_report_free(struct store_report *rep);

/* The report as text (a table), JSON, CSV or the HTML page: malloc'd, NUL-terminated,
 * caller frees. NULL when out of memory. */
char *store_report_render(const struct store_report *rep, enum report_format fmt, size_t *len);

/* The committee's page (one self-contained HTML5 file, inline SVG charts, no script):
 * malloc'd, NUL-terminated, caller frees; NULL when out of memory. rep is only read. */
char *store_report_html(const struct store_report *rep, size_t *len);

/* The whole `myocds report`: range from since/until (see store_report_range), report,
 * render, write to out. 0, or -400 (bad date) / -500 with err set. */
int store_report_print(struct store *st, const char *since, const char *until,
                       enum report_format fmt, report_category_fn categorize, void *ctx,
                       const struct report_in_force *in_force, FILE *out, struct myocds_err *err);

/* ---- The tally (report_tally.c): the report's entries, found or added in sorted place.
 * Each returns NULL when out of memory. */
struct report_rule *report_rule_entry(struct store_report *rep, const char *rule);
struct report_service *report_service_entry(struct store_report *rep, const char *service);
/* iss and tenant may be NULL; beyond REPORT_EHRS_MAX EHRs, the "other" entry. */
struct report_ehr *report_ehr_entry(struct store_report *rep, const char *iss, const char *tenant);
/* The week of day (a "YYYY-MM-DD" date; NULL when not one) in r->weeks. */
struct report_week *report_week_entry(struct report_rule *r, const char *day);
/* Adds count overrides for reason (system, code) to r (system "" when none); beyond
 * REPORT_REASONS_MAX distinct reasons, to r->reasons_other. -1 when out of memory. */
int report_reason_add(struct report_rule *r, const char *system, const char *code, long long count);
/* Fills every rule's weeks from the report's first week to its last (zeros between), when
 * the span is at most REPORT_WEEKS_MAX weeks. -1 when out of memory. */
int report_weeks_fill(struct store_report *rep);

#endif

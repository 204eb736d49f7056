/* metrics.c - lock-free counters and their Prometheus text.
 *
 * The only process-wide mutable state besides the configuration: plain counters, each an
 * atomic added to with relaxed order (a scrape may see one family a request ahead of
 * another; totals are exact). Label tables (struct label_set) fill their slots in order:
 * a slot goes EMPTY -> BUSY -> READY once, by compare-and-swap, so a value has exactly one
 * slot and readers never see a half-written name.
 */
#include "http/metrics.h"

#include "myocds/myocds.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OTHER METRICS_LABELS_MAX /* the extra row of every labelled table */
#define US_PER_S 1e6

enum slot_state { SLOT_EMPTY = 0, SLOT_BUSY, SLOT_READY };

struct label_set {
    atomic_int state[METRICS_LABELS_MAX];
    char name[METRICS_LABELS_MAX][METRICS_LABEL_MAX];
};

static const char *const endpoints[] = {"discovery", "service",   "feedback", "healthz",
                                        "metrics",   "preflight", "other"};
#define N_ENDPOINTS (sizeof endpoints / sizeof endpoints[0])
static const int statuses[] = {200, 204, 400, 401, 403, 404, 405, 412, 413, 415, 500, 503, 0};
#define N_STATUSES (sizeof statuses / sizeof statuses[0]) /* the last, 0, is any other */
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
#define N_BOUNDS (sizeof bounds / sizeof bounds[0])
static const char *const indicators[] = {"info", "warning", "critical", "other"};
#define N_INDICATORS (sizeof indicators / sizeof indicators[0])
static const char *const outcomes[] = {"accepted", "overridden", "other"};
#define N_OUTCOMES (sizeof outcomes / sizeof outcomes[0])

struct histogram {
    atomic_ullong bucket[N_BOUNDS + 1]; /* not cumulative; the last is +Inf */
    atomic_ullong count;
    atomic_ullong sum_us;
};

static struct {
    struct label_set services;
    struct label_set rules;
    struct label_set reasons;
    atomic_ullong requests[N_ENDPOINTS][METRICS_LABELS_MAX + 1][N_STATUSES];
    struct histogram latency[N_ENDPOINTS];
    atomic_long in_flight;
    atomic_ullong cards[METRICS_LABELS_MAX + 1][N_INDICATORS];
    atomic_ullong cards_held[METRICS_LABELS_MAX + 1][N_INDICATORS];
    atomic_ullong cards_unrecorded;
    atomic_ullong feedback[N_OUTCOMES];
    atomic_ullong fhir_ok;
    atomic_ullong fhir_failed;
    atomic_ullong jwt[METRICS_LABELS_MAX + 1];
    atomic_ullong dropped[METRICS_DROP_COUNT];
} m; /* zero-initialised: every slot EMPTY, every counter 0 */

static void add(atomic_ullong *c, unsigned long long n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static unsigned long long get(atomic_ullong *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* The slot of name in s, claiming a new one when needed; OTHER when s is full or name
 * does not fit. Slots fill in order, so every caller meets an existing name first. */
static size_t intern(struct label_set *s, const char *name)
{
    size_t n = strlen(name);
    if (n >= METRICS_LABEL_MAX)
        return OTHER;
    for (size_t i = 0; i < METRICS_LABELS_MAX; i++) {
        int st = atomic_load_explicit(&s->state[i], memory_order_acquire);
        if (st == SLOT_EMPTY) {
            int expected = SLOT_EMPTY;
            if (atomic_compare_exchange_strong(&s->state[i], &expected, SLOT_BUSY)) {
                memcpy(s->name[i], name, n + 1);
                atomic_store_explicit(&s->state[i], SLOT_READY, memory_order_release);
                return i;
            }
            st = expected;
        }
        while (st == SLOT_BUSY) { /* another thread is writing this slot's name: a moment */
            sched_yield();
            st = atomic_load_explicit(&s->state[i], memory_order_acquire);
        }
        if (strcmp(s->name[i], name) == 0)
            return i;
    }
    return OTHER;
}

/* The name of slot i, or NULL while it is not READY; OTHER is "other". */
static const char *slot_name(struct label_set *s, size_t i)
{
    if (i == OTHER)
        return "other";
    return atomic_load_explicit(&s->state[i], memory_order_acquire) == SLOT_READY ? s->name[i]
                                                                                  : NULL;
}

/* Index of s in a fixed vocabulary whose last entry is the catch-all. */
static size_t word_index(const char *const *words, size_t n, const char *s)
{
    for (size_t i = 0; s != NULL && i + 1 < n; i++) {
        if (strcmp(words[i], s) == 0)
            return i;
    }
    return n - 1;
}

static size_t status_index(int status)
{
    size_t i = 0;
    while (i + 1 < N_STATUSES && statuses[i] != status)
        i++;
    return i;
}

void metrics_request(const char *endpoint, const char *service, int status, double seconds)
{
    size_t e = word_index(endpoints, N_ENDPOINTS, endpoint);
    size_t s = intern(&m.services, service != NULL ? service : "");
    add(&m.requests[e][s][status_index(status)], 1);
    if (seconds < 0)
        return;
    size_t b = 0;
    while (b < N_BOUNDS && seconds > bounds[b])
        b++;
    add(&m.latency[e].bucket[b], 1);
    add(&m.latency[e].count, 1);
    add(&m.latency[e].sum_us, (unsigned long long)(seconds * US_PER_S + 0.5));
}

void metrics_in_flight(int delta)
{
    atomic_fetch_add_explicit(&m.in_flight, delta, memory_order_relaxed);
}

void metrics_card(const char *rule_id, const char *indicator)
{
    size_t r = intern(&m.rules, rule_id != NULL ? rule_id : "");
    add(&m.cards[r][word_index(indicators, N_INDICATORS, indicator)], 1);
}

void metrics_card_held(const char *rule_id, const char *indicator)
{
    size_t r = intern(&m.rules, rule_id != NULL ? rule_id : "");
    add(&m.cards_held[r][word_index(indicators, N_INDICATORS, indicator)], 1);
}

void metrics_cards_unrecorded(size_t n)
{
    add(&m.cards_unrecorded, n);
}

void metrics_feedback(const char *outcome)
{
    add(&m.feedback[word_index(outcomes, N_OUTCOMES, outcome)], 1);
}

void metrics_fhir_fetch(bool ok)
{
    add(ok ? &m.fhir_ok : &m.fhir_failed, 1);
}

void metrics_jwt_refusal(const char *reason)
{
    add(&m.jwt[intern(&m.reasons, reason != NULL ? reason : "unknown")], 1);
}

/* A label value with \, " and newline escaped as the text format asks. */
static void put_label(FILE *f, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(f, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_requests(FILE *f)
{
    head(f, "myocds_http_requests_total", "counter",
         "Requests answered, by endpoint, service and status.");
    for (size_t e = 0; e < N_ENDPOINTS; e++) {
        for (size_t s = 0; s <= OTHER; s++) {
            const char *svc = slot_name(&m.services, s);
            for (size_t k = 0; svc != NULL && k < N_STATUSES; k++) {
                unsigned long long n = get(&m.requests[e][s][k]);
                if (n == 0)
                    continue;
                fprintf(f, "myocds_http_requests_total{endpoint=\"%s\",service=\"", endpoints[e]);
                put_label(f, svc);
                if (statuses[k] != 0)
                    fprintf(f, "\",status=\"%d\"} %llu\n", statuses[k], n);
                else
                    fprintf(f, "\",status=\"other\"} %llu\n", n);
            }
        }
    }
}

static void render_latency(FILE *f)
{
    head(f, "myocds_http_request_duration_seconds", "histogram",
         "Time from a request's first byte to its answer, by endpoint.");
    for (size_t e = 0; e < N_ENDPOINTS; e++) {
        struct histogram *h = &m.latency[e];
        unsigned long long count = get(&h->count);
        unsigned long long cum = 0;
        if (count == 0)
            continue;
        for (size_t b = 0; b <= N_BOUNDS; b++) {
            cum += get(&h->bucket[b]);
            if (b < N_BOUNDS)
                fprintf(f,
                        "myocds_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"}"
                        " %llu\n",
                        endpoints[e], bounds[b], cum);
            else
                fprintf(f,
                        "myocds_http_request_duration_seconds_bucket{endpoint=\"%s\","
                        "le=\"+Inf\"} %llu\n",
                        endpoints[e], cum);
        }
        fprintf(f, "myocds_http_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n", endpoints[e],
                (double)get(&h->sum_us) / US_PER_S);
        fprintf(f, "myocds_http_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                endpoints[e], cum);
    }
}

/* One family of cards by rule and indicator: only the series counted at least once. */
static void render_by_rule(FILE *f, const char *name, const char *help,
                           atomic_ullong (*counts)[N_INDICATORS])
{
    head(f, name, "counter", help);
    for (size_t r = 0; r <= OTHER; r++) {
        const char *rule = slot_name(&m.rules, r);
        for (size_t i = 0; rule != NULL && i < N_INDICATORS; i++) {
            unsigned long long n = get(&counts[r][i]);
            if (n == 0)
                continue;
            fprintf(f, "%s{rule=\"", name);
            put_label(f, rule);
            fprintf(f, "\",indicator=\"%s\"} %llu\n", indicators[i], n);
        }
    }
}

static void render_cards(FILE *f)
{
    render_by_rule(f, "myocds_cards_total", "Cards issued, by rule and indicator.", m.cards);
    render_by_rule(f, "myocds_cards_held_total",
                   "Cards left out of an answer: shown lately for the same draft order.",
                   m.cards_held);
    head(f, "myocds_cards_unrecorded_total", "counter",
         "Cards issued that could not be queued for the feedback store.");
    fprintf(f, "myocds_cards_unrecorded_total %llu\n", get(&m.cards_unrecorded));
}

static void render_rest(FILE *f)
{
    head(f, "myocds_feedback_total", "counter", "Feedback entries stored, by outcome.");
    for (size_t i = 0; i < N_OUTCOMES; i++)
        fprintf(f, "myocds_feedback_total{outcome=\"%s\"} %llu\n", outcomes[i],
                get(&m.feedback[i]));
    head(f, "myocds_fhir_fetches_total", "counter", "FHIR reads of missing prefetch keys.");
    fprintf(f, "myocds_fhir_fetches_total %llu\n", get(&m.fhir_ok) + get(&m.fhir_failed));
    head(f, "myocds_fhir_fetch_failures_total", "counter", "FHIR reads that failed.");
    fprintf(f, "myocds_fhir_fetch_failures_total %llu\n", get(&m.fhir_failed));
    head(f, "myocds_jwt_refusals_total", "counter", "Calls refused for their JWT, by reason.");
    for (size_t r = 0; r <= OTHER; r++) {
        const char *reason = slot_name(&m.reasons, r);
        unsigned long long n = get(&m.jwt[r]);
        if (reason == NULL || n == 0)
            continue;
        fputs("myocds_jwt_refusals_total{reason=\"", f);
        put_label(f, reason);
        fprintf(f, "\"} %llu\n", n);
    }
}

static const char *const drop_reasons[METRICS_DROP_COUNT] = {"deadline", "queue_full", "abandoned",
                                                             "stale", "shutdown"};

void metrics_dropped(enum metrics_drop why)
{
    if ((unsigned)why < METRICS_DROP_COUNT)
        add(&m.dropped[why], 1);
}

static void render_dropped(FILE *f)
{
    head(f, "myocds_http_dropped_total", "counter",
         "Connections closed or calls answered 503 without evaluation, by reason.");
    for (size_t i = 0; i < METRICS_DROP_COUNT; i++)
        fprintf(f, "myocds_http_dropped_total{reason=\"%s\"} %llu\n", drop_reasons[i],
                get(&m.dropped[i]));
}

char *metrics_render(size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL)
        return NULL;
    head(f, "myocds_build_info", "gauge", "The running version.");
    fprintf(f, "myocds_build_info{version=\"%s\"} 1\n", MYOCDS_VERSION);
    head(f, "myocds_http_requests_in_flight", "gauge", "Requests being served.");
    fprintf(f, "myocds_http_requests_in_flight %ld\n",
            atomic_load_explicit(&m.in_flight, memory_order_relaxed));
    render_requests(f);
    render_latency(f);
    render_cards(f);
    render_rest(f);
    render_dropped(f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

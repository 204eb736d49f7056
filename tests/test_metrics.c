/* test_metrics.c - the counters behind /metrics: every family, labels, the histogram,
 * escaping, the label overflow and exact totals under concurrent writers. The counters
 * are process-wide, so each test uses labels of its own. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "http/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rendered text must hold line (a whole line). */
static void assert_line(const char *text, const char *line)
{
    char want[512];
    snprintf(want, sizeof want, "\n%s\n", line);
    if (strstr(text, want) == NULL)
        fail_msg("missing line: %s\n--- got:\n%s", line, text);
}

static char *render(void)
{
    size_t len = 0;
    char *text = metrics_render(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

static void test_requests_and_latency(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        metrics_request("service", "svc-a", 200, 0.003);
    metrics_request("service", "svc-a", 412, 0.2);
    metrics_request("feedback", "svc-a", 599, -1.0); /* an odd status, not timed */
    metrics_request("no-such-endpoint", "", 404, 20.0);
    char *t = render();
    assert_line(t, "myocds_http_requests_total{endpoint=\"service\",service=\"svc-a\","
                   "status=\"200\"} 3");
    assert_line(t, "myocds_http_requests_total{endpoint=\"service\",service=\"svc-a\","
                   "status=\"412\"} 1");
    assert_line(t, "myocds_http_requests_total{endpoint=\"feedback\",service=\"svc-a\","
                   "status=\"other\"} 1");
    assert_line(t, "myocds_http_requests_total{endpoint=\"other\",service=\"\","
                   "status=\"404\"} 1");
    assert_line(t, "# TYPE myocds_http_request_duration_seconds histogram");
    assert_line(t, "myocds_http_request_duration_seconds_bucket{endpoint=\"service\","
                   "le=\"0.0025\"} 0");
    assert_line(t, "myocds_http_request_duration_seconds_bucket{endpoint=\"service\","
                   "le=\"0.005\"} 3");
    assert_line(t, "myocds_http_request_duration_seconds_bucket{endpoint=\"service\","
                   "le=\"0.1\"} 3");
    assert_line(t, "myocds_http_request_duration_seconds_bucket{endpoint=\"service\","
                   "le=\"0.25\"} 4");
    assert_line(t, "myocds_http_request_duration_seconds_bucket{endpoint=\"service\","
                   "le=\"+Inf\"} 4");
    assert_line(t, "myocds_http_request_duration_seconds_count{endpoint=\"service\"} 4");
    assert_line(t, "myocds_http_request_duration_seconds_sum{endpoint=\"service\"} 0.209000");
    assert_line(t, "myocds_http_request_duration_seconds_bucket{endpoint=\"other\","
                   "le=\"10\"} 0");
    assert_line(t, "myocds_http_request_duration_seconds_bucket{endpoint=\"other\","
                   "le=\"+Inf\"} 1");
    assert_null(strstr(t, "endpoint=\"feedback\",le=")); /* untimed: no histogram */
    free(t);
}

static void test_other_families(void **state)
{
    (void)state;
    metrics_card("rule-x", "warning");
    metrics_card("rule-x", "warning");
    metrics_card("rule-x", "critical");
    metrics_card("rule-y", "bogus");
    metrics_cards_unrecorded(2);
    metrics_card_held("rule-x", "warning");
    metrics_card_held("rule-x", "info");
    metrics_card_held("rule-x", "info");
    metrics_feedback("accepted");
    metrics_feedback("overridden");
    metrics_feedback("overridden");
    metrics_fhir_fetch(true);
    metrics_fhir_fetch(true);
    metrics_fhir_fetch(false);
    metrics_jwt_refusal("expired");
    metrics_jwt_refusal("expired");
    metrics_jwt_refusal(NULL);
    metrics_in_flight(1);
    char *t = render();
    assert_line(t, "myocds_cards_total{rule=\"rule-x\",indicator=\"warning\"} 2");
    assert_line(t, "myocds_cards_total{rule=\"rule-x\",indicator=\"critical\"} 1");
    assert_line(t, "myocds_cards_total{rule=\"rule-y\",indicator=\"other\"} 1");
    assert_line(t, "myocds_cards_unrecorded_total 2");
    assert_line(t, "myocds_cards_held_total{rule=\"rule-x\",indicator=\"warning\"} 1");
    assert_line(t, "myocds_cards_held_total{rule=\"rule-x\",indicator=\"info\"} 2");
    assert_line(t, "# TYPE myocds_cards_held_total counter");
    assert_null(strstr(t, "myocds_cards_held_total{rule=\"rule-y\"")); /* none held */
    assert_line(t, "myocds_feedback_total{outcome=\"accepted\"} 1");
    assert_line(t, "myocds_feedback_total{outcome=\"overridden\"} 2");
    assert_line(t, "myocds_fhir_fetches_total 3");
    assert_line(t, "myocds_fhir_fetch_failures_total 1");
    assert_line(t, "myocds_jwt_refusals_total{reason=\"expired\"} 2");
    assert_line(t, "myocds_jwt_refusals_total{reason=\"unknown\"} 1");
    assert_line(t, "myocds_http_requests_in_flight 1");
    assert_line(t, "# TYPE myocds_cards_total counter");
    metrics_in_flight(-1);
    free(t);
}

static void test_escaping_and_overflow(void **state)
{
    (void)state;
    char name[METRICS_LABEL_MAX + 8];
    metrics_jwt_refusal("a\"b\\c\nd");
    memset(name, 'r', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    metrics_jwt_refusal(name); /* too long for a label: "other" */
    for (int i = 0; i < METRICS_LABELS_MAX + 5; i++) {
        snprintf(name, sizeof name, "many-%02d", i);
        metrics_card(name, "info");
    }
    char *t = render();
    assert_line(t, "myocds_jwt_refusals_total{reason=\"a\\\"b\\\\c\\nd\"} 1");
    assert_line(t, "myocds_jwt_refusals_total{reason=\"other\"} 1");
    assert_line(t, "myocds_cards_total{rule=\"many-00\",indicator=\"info\"} 1");
    assert_null(strstr(t, "many-34"));
    assert_non_null(strstr(t, "myocds_cards_total{rule=\"other\",indicator=\"info\"}"));
    free(t);
}

#define THREADS 4
#define PER_THREAD 20000

static void *hammer(void *arg)
{
    int id = *(int *)arg;
    char svc[32];
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(svc, sizeof svc, "race-%d", i % 3); /* the same new labels from all threads */
        metrics_request("healthz", svc, 200, 0.0001);
        metrics_fhir_fetch(id % 2 == 0);
    }
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    int ids[THREADS];
    char *before = render();
    char *p = strstr(before, "\nmyocds_fhir_fetches_total ");
    assert_non_null(p);
    unsigned long long fetches0 = strtoull(p + strlen("\nmyocds_fhir_fetches_total "), NULL, 10);
    free(before);
    for (int i = 0; i < THREADS; i++) {
        ids[i] = i;
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &ids[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = render();
    char line[256];
    for (int k = 0; k < 3; k++) {
        int per = (PER_THREAD / 3 + (k < PER_THREAD % 3 ? 1 : 0)) * THREADS;
        snprintf(line, sizeof line,
                 "myocds_http_requests_total{endpoint=\"healthz\",service=\"race-%d\","
                 "status=\"200\"} %d",
                 k, per);
        assert_line(text, line);
        snprintf(line, sizeof line, "service=\"race-%d\"", k);
        char *first = strstr(text, line);
        assert_non_null(first);
        assert_null(strstr(first + 1, line)); /* one series per label value */
    }
    snprintf(line, sizeof line, "myocds_fhir_fetches_total %llu",
             fetches0 + (unsigned long long)THREADS * PER_THREAD);
    assert_line(text, line);
    assert_line(text, "myocds_http_request_duration_seconds_count{endpoint=\"healthz\"} 80000");
    free(text);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_and_latency),
        cmocka_unit_test(test_other_families),
        cmocka_unit_test(test_escaping_and_overflow),
        cmocka_unit_test(test_concurrent_writers),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}

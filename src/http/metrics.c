/* metrics.c - request counters by endpoint, service and status, in Prometheus text. */
#include "http/http.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_SERIES_MAX 256 /* distinct (endpoint, service, status); later ones pool */
#define METRICS_LINE_MAX 256   /* one rendered series */
#define METRICS_HEAD_MAX 1024  /* HELP/TYPE lines and the gauges */

struct series {
    char endpoint[HTTP_LABEL_MAX];
    char service[HTTP_LABEL_MAX];
    int status;
    unsigned long long count;
};

struct http_metrics {
    pthread_mutex_t lock;
    struct series v[METRICS_SERIES_MAX];
    size_t n;
    unsigned long long overflow; /* requests of series beyond METRICS_SERIES_MAX */
    long in_flight;
};

struct http_metrics *http_metrics_new(void)
{
    struct http_metrics *m = calloc(1, sizeof *m);
    if (m != NULL)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

void http_metrics_free(struct http_metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void http_metrics_count(struct http_metrics *m, const char *endpoint, const char *service,
                        int status)
{
    size_t i;
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->n; i++) {
        const struct series *s = &m->v[i];
        if (s->status == status && strcmp(s->endpoint, endpoint) == 0 &&
            strcmp(s->service, service) == 0)
            break;
    }
    if (i == m->n && m->n < METRICS_SERIES_MAX) {
        struct series *s = &m->v[m->n++];
        snprintf(s->endpoint, sizeof s->endpoint, "%s", endpoint);
        snprintf(s->service, sizeof s->service, "%s", service);
        s->status = status;
    }
    if (i < m->n)
        m->v[i].count++;
    else
        m->overflow++;
    pthread_mutex_unlock(&m->lock);
}

void http_metrics_in_flight(struct http_metrics *m, int delta)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->in_flight += delta;
    pthread_mutex_unlock(&m->lock);
}

/* Appends with snprintf semantics; *len never passes cap - 1. */
__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t cap, size_t *len,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

char *http_metrics_render(struct http_metrics *m, size_t *len)
{
    pthread_mutex_lock(&m->lock);
    size_t cap = METRICS_HEAD_MAX + (m->n + 1) * METRICS_LINE_MAX;
    char *buf = malloc(cap);
    size_t n = 0;
    if (buf == NULL) {
        pthread_mutex_unlock(&m->lock);
        return NULL;
    }
    put(buf, cap, &n,
        "# HELP myocds_build_info The running version.\n"
        "# TYPE myocds_build_info gauge\n"
        "myocds_build_info{version=\"%s\"} 1\n",
        MYOCDS_VERSION);
    put(buf, cap, &n,
        "# HELP myocds_http_requests_in_flight Requests being served.\n"
        "# TYPE myocds_http_requests_in_flight gauge\n"
        "myocds_http_requests_in_flight %ld\n",
        m->in_flight);
    put(buf, cap, &n,
        "# HELP myocds_http_requests_total Requests answered, by endpoint, "
        "service and status.\n"
        "# TYPE myocds_http_requests_total counter\n");
    for (size_t i = 0; i < m->n; i++) {
        const struct series *s = &m->v[i];
        put(buf, cap, &n,
            "myocds_http_requests_total{endpoint=\"%s\",service=\"%s\",status=\"%d\"} %llu\n",
            s->endpoint, s->service, s->status, s->count);
    }
    if (m->overflow > 0)
        put(buf, cap, &n, "myocds_http_requests_total{endpoint=\"overflow\"} %llu\n", m->overflow);
    pthread_mutex_unlock(&m->lock);
    *len = n;
    return buf;
}

/* metrics.h - the service's counters, served as Prometheus text on GET /metrics.
 *
 * Process-wide and lock-free: every call is a few relaxed atomic additions, safe from
 * any thread (HTTP workers, the FHIR client, JWT verification). Label values are kept in
 * small tables filled on first use; past METRICS_LABELS_MAX distinct values (or a value
 * longer than METRICS_LABEL_MAX - 1 bytes) a series counts under the label "other".
 * Label values are never taken from request data other than known service ids.
 */
#ifndef MYOCDS_HTTP_METRICS_H
#define MYOCDS_HTTP_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#define METRICS_LABEL_MAX 64  /* bytes of one label value, NUL included */
#define METRICS_LABELS_MAX 32 /* distinct values of one label (services, rules, reasons) */

/* One answered request: endpoint (discovery, service, feedback, healthz, metrics,
 * preflight, other), a known service id or "", the status, and the seconds from the
 * first byte to the answer (negative: not timed). */
void metrics_request(const char *endpoint, const char *service, int status, double seconds);

/* Requests being served: +1 when one starts, -1 when it ends. */
void metrics_in_flight(int delta);

/* One card issued by rule_id with its indicator (info, warning, critical). */
void metrics_card(const char *rule_id, const char *indicator);

/* One card left out of an answer because it was shown lately for the same draft order
 * (cards.repeat_window_min), by rule_id and indicator. */
void metrics_card_held(const char *rule_id, const char *indicator);

/* Cards issued that could not be queued for the feedback store. */
void metrics_cards_unrecorded(size_t n);

/* One feedback entry stored, by outcome (accepted, overridden). */
void metrics_feedback(const char *outcome);

/* One FHIR read of a missing prefetch key: ok is false when it failed (refused, 4xx/5xx,
 * timeout, network, over the size cap). For src/fhir/client.c. */
void metrics_fhir_fetch(bool ok);

/* One call refused for its JWT, by reason: a short constant of the caller's vocabulary
 * ("missing", "bad_signature", "expired", "audience", "issuer", "replay", ...), never a
 * value taken from the token. For src/auth/. */
void metrics_jwt_refusal(const char *reason);

/* Why a connection or request was given up without its evaluation (the metric
 * myocds_http_dropped_total{reason}). */
enum metrics_drop {
    METRICS_DROP_DEADLINE,   /* head and body not in within http.request_deadline_s: closed */
    METRICS_DROP_QUEUE_FULL, /* http.queue_max calls waiting already: 503 */
    METRICS_DROP_ABANDONED,  /* the client closed while its call waited: not evaluated */
    METRICS_DROP_STALE,      /* waited past http.timeout_s in the queue: 503, not evaluated */
    METRICS_DROP_SHUTDOWN,   /* still queued when the drain time ran out: 503 */
    METRICS_DROP_COUNT
};
void metrics_dropped(enum metrics_drop why);

/* The Prometheus text exposition of every family (malloc'd, caller frees); NULL when out
 * of memory. */
char *metrics_render(size_t *len);

#endif

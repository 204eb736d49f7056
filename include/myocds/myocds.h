/* myocds.h - the public face of the engine: load hooks/, answer CDS Hooks calls.
 *
 * The engine is request -> patient view -> rules -> cards. It knows nothing of HTTP:
 * `myocds serve`, `myocds eval`, the tests and the fuzz targets all call it the same way.
 */
#ifndef MYOCDS_MYOCDS_H
#define MYOCDS_MYOCDS_H

#include "myocds/version.h" /* MYOCDS_VERSION */

#include <stdbool.h>
#include <stddef.h>

/* Statuses returned by every engine function: 0 is success. */
enum myocds_status {
    MYOCDS_OK = 0,
    MYOCDS_E_BAD_REQUEST = -400,  /* malformed or invalid request */
    MYOCDS_E_NOT_FOUND = -404,    /* unknown service */
    MYOCDS_E_PRECONDITION = -412, /* prefetch data missing and not obtainable */
    MYOCDS_E_UNAVAILABLE = -503,  /* a dependency (FHIR server) failed */
    MYOCDS_E_INTERNAL = -500,     /* a fault of the service itself */
};

/* An error for the client: an HTTP status and a message that never holds patient data. */
struct myocds_err {
    int http_status;
    char msg[200];
};

/* Sets err (may be NULL) and returns -http_status. */
int myocds_err_set(struct myocds_err *err, int http_status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct myocds_engine; /* opaque: services, terminology, rule settings (immutable once loaded) */

/* Loads and validates every JSON file under hooks_dir. On failure *out is NULL and err
 * names the file and the field. Caller owns *out: free with myocds_engine_free(). */
int myocds_engine_load(const char *hooks_dir, struct myocds_engine **out, struct myocds_err *err);
void myocds_engine_free(struct myocds_engine *engine);

/* The discovery document {"services":[...]}, built once at load. Borrowed from engine. */
const char *myocds_discovery_json(const struct myocds_engine *engine, size_t *len);

/* 1 when a service with this id exists, else 0. */
int myocds_service_exists(const struct myocds_engine *engine, const char *service_id);

/* The category of the HL7 Non-Adherence Reason Codes ("cds-not-applicable", ...) that an
 * override reason (system, code) fed back for a card of rule_id counts in; NULL when the
 * rules do not know it. Borrowed from engine. */
const char *myocds_reason_category(const struct myocds_engine *engine, const char *rule_id,
                                   const char *system, const char *code);

/* What the loaded rules put in force, for the governance report: off(ctx, service, rule)
 * for each rule switched off for a service whose hook it runs on (strings borrowed from
 * engine), then th(ctx, name, value) for each threshold of hooks/rules.json in the file's
 * order, a map's members as "name.member" (name valid during the call only). Returns the
 * number of rules loaded. */
typedef void (*myocds_off_fn)(void *ctx, const char *service_id, const char *rule_id);
typedef void (*myocds_threshold_fn)(void *ctx, const char *name, double value);
int myocds_in_force(const struct myocds_engine *engine, myocds_off_fn off, myocds_threshold_fn th,
                    void *ctx);

/* One prefetch key the EHR did not send (or sent as an OperationOutcome). */
struct json_object;
struct myocds_fetch_item {
    const char *key;            /* the prefetch key, e.g. "conditions" */
    const char *relative_url;   /* the rendered template, e.g. "Condition?patient=123" */
    struct json_object *result; /* set by the fetcher: an owned resource or Bundle */
    int status;                 /* set by the fetcher: 0, or MYOCDS_E_PRECONDITION (the
                                   server refused: 401/403/404, not allowed, no token) or
                                   MYOCDS_E_UNAVAILABLE (5xx, timeout, network) */
    const char *reason;         /* set by the fetcher on failure, or NULL: a static phrase
                                   without patient data, e.g. "timeout" */
};

/* What the fetcher needs from the request. Strings are borrowed for the call only. */
struct myocds_fetch_batch {
    const char *fhir_server;  /* the request's fhirServer */
    const char *access_token; /* fhirAuthorization.access_token, or NULL */
    long long expires_in;     /* fhirAuthorization.expires_in (seconds), -1 when absent */
    struct myocds_fetch_item *items;
    size_t n;
};

/* Fetches every item of the batch (concurrently), filling result or status of each.
 * Returns 0 when it ran (items carry their own outcome), negative on its own failure. */
typedef int (*myocds_fetch_fn)(void *ctx, struct myocds_fetch_batch *batch, struct myocds_err *err);

/* Called once per card issued, so a store can later join feedback to the rule and the
 * metrics count cards by rule and indicator ("info" | "warning" | "critical"). */
typedef void (*myocds_card_fn)(void *ctx, const char *service_id, const char *card_uuid,
                               const char *rule_id, const char *indicator);

/* Called once per card held back because it was shown lately (card_ctx as on_card). */
typedef void (*myocds_held_fn)(void *ctx, const char *service_id, const char *rule_id,
                               const char *indicator);

/* The memory of warning and info cards shown for draft orders, shared by every thread of
 * `myocds serve` (src/cds/repeat.h). */
struct myocds_repeat;

/* What one EHR's CDS client can show (config "clients"): cards are shaped to fit it. CDS
 * Hooks 3.0 lets a service send suggestion.actionSelectionBehavior only to a client known
 * to support it. */
struct myocds_client_profile {
    bool action_selection;   /* suggestion.actionSelectionBehavior understood */
    bool select_any;         /* card selectionBehavior "any" accepted */
    bool select_at_most_one; /* card selectionBehavior "at-most-one" accepted */
    int max_actions;         /* actions per suggestion; 0: no limit */
    bool topic_alphanumeric; /* source.topic.code without hyphens ("pjpprophylaxis") */
};

struct myocds_eval_opts {
    myocds_fetch_fn fetch; /* NULL: no fetching; a missing needed key answers 412 */
    void *fetch_ctx;
    myocds_card_fn on_card; /* NULL: nobody is told */
    void *card_ctx;
    myocds_held_fn on_held; /* NULL: nobody is told */
    long long now;          /* seconds since the epoch; 0 means the real clock */
    /* A warning or info card about a draft order (order-select, order-sign) that repeat
     * remembers as shown for the same unchanged order of the same patient within
     * repeat_window_s seconds is left out of the answer. NULL or 0: every card shows
     * (`myocds eval`). Borrowed. */
    struct myocds_repeat *repeat;
    long repeat_window_s;
    /* The calling client's profile; NULL: a CDS Hooks 2.0 client that shows everything the
     * specification defines but actionSelectionBehavior. Borrowed. */
    const struct myocds_client_profile *client;
};

/* Evaluates one CDS Hooks request body (not necessarily NUL-terminated) for service_id.
 * On success *out_json is a malloc'd NUL-terminated {"cards":[...]} that the caller frees.
 * On failure returns a negative status, *out_json is NULL and err says why. */
int myocds_evaluate(const struct myocds_engine *engine, const char *service_id, const char *body,
                    size_t len, const struct myocds_eval_opts *opts, char **out_json,
                    size_t *out_len, struct myocds_err *err);

/* Feedback: one parsed entry of {"feedback":[...]} (strings borrowed from the parse). */
struct myocds_feedback {
    const char *card_uuid;
    const char *outcome;       /* "accepted" | "overridden" */
    const char *accepted_json; /* JSON array of accepted suggestion ids, or NULL */
    const char *reason_system; /* overrideReason.reason, or NULL */
    const char *reason_code;
    const char *outcome_timestamp;
};

#endif

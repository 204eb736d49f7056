/* config.h - struct cfg, loaded once at start-up from the JSON config file.
 *
 * Every key is optional; an unknown key, or one of the wrong type or out of range, is an
 * error naming the key. The loaded struct is immutable afterwards.
 */
#ifndef MYOCDS_UTIL_CONFIG_H
#define MYOCDS_UTIL_CONFIG_H

#include "myocds/myocds.h"
#include "util/log.h"

#include <json-c/json.h>
#include <stddef.h>

#define CFG_FILE_MAX (1 << 20) /* a config file larger than this is refused */
#define CFG_DEFAULT_DATA_DIR "./data"
#define CFG_DEFAULT_FHIR_TIMEOUT_MS 3000L
#define CFG_DEFAULT_FHIR_DEADLINE_MS 1500L /* the whole fetch of one request */
#define CFG_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define CFG_DEFAULT_CONN_LIMIT 256U
#define CFG_DEFAULT_TIMEOUT_S 15U
#define CFG_DEFAULT_REQUEST_DEADLINE_S 10U /* head and body of one request, in all */
#define CFG_DEFAULT_QUEUE_MAX 64U          /* calls waiting for a request thread */
#define CFG_PER_ADDRESS_SHARE 8U /* by default one address may hold 1/8 of the connections */
#define CFG_DEFAULT_JWT_MAX_LIFETIME_S 300L /* exp - iat of a client JWT, at most */
#define CFG_DEFAULT_JWT_CLOCK_SKEW_S 60L    /* leeway on exp, iat and nbf */
#define CFG_DEFAULT_REPEAT_WINDOW_MIN 60L   /* a warning or info card is not repeated within */
#define CFG_MAX_REPEAT_WINDOW_MIN 1440L     /* a day */
#define CFG_HOOKS_ENV "MYOCDS_HOOKS"

/* One trusted JWT issuer: jwks_uri, jwks_file or both (the other is NULL). */
struct cfg_issuer {
    char *iss;
    char *jwks_uri;
    char *jwks_file;
    char **fhir_servers; /* the only FHIR bases its calls may use; NULL: any allowed one */
    size_t n_fhir_servers;
};

/* One entry of "clients": the profile of the CDS client of one JWT iss ("default": calls
 * without a JWT and issuers not listed). */
struct cfg_client {
    char *iss;
    struct myocds_client_profile profile;
};

struct cfg {
    char *public_base_url; /* no trailing '/'; NULL: http://ADDR:PORT of the listener */
    struct cfg_issuer *issuers;
    size_t n_issuers;
    char **auth_allowed_algs; /* JWT algorithms accepted; default ES384, RS384 */
    size_t n_auth_allowed_algs;
    long auth_max_lifetime_s;
    long auth_clock_skew_s;
    char *auth_jwks_ca_file;     /* CA bundle for jwks_uri fetches instead of the system's */
    char **fhir_allowed_servers; /* FHIR base URLs the service may call */
    size_t n_fhir_allowed_servers;
    char **fhir_anonymous_servers; /* of those, the ones read without the call's token */
    size_t n_fhir_anonymous_servers;
    /* One FHIR transfer; every FHIR transfer of one request together. */
    long fhir_timeout_ms;
    long fhir_deadline_ms;
    char *fhir_ca_file; /* CA certificates for the FHIR servers; NULL: the system's */
    char *data_dir;     /* SQLite feedback store directory */
    char *postgres_url; /* NULL unless feedback.postgres_url */
    char *hooks_dir;    /* key hooks_dir, else $MYOCDS_HOOKS, else the install prefix's */
    size_t http_max_body_bytes;
    unsigned http_threads; /* default: online CPUs */
    unsigned http_connection_limit;
    unsigned http_timeout_s; /* idle connection timeout; also the longest a call waits queued */
    unsigned http_per_address_limit;  /* connections from one address; 0: connection_limit / 8 */
    unsigned http_request_deadline_s; /* a request's whole head and body */
    unsigned http_queue_max;          /* calls waiting for a thread; more get 503 */
    char **http_cors_origins;         /* --dev: the origins CORS allows; NULL: the sandbox's */
    size_t n_http_cors_origins;
    enum log_level log_level;
    /* Minutes within which a warning or info card shown for a draft order is not shown again
     * for the same unchanged order of the same patient; 0: every card repeats. */
    long cards_repeat_window_min;
    struct cfg_client *clients; /* "clients", in file order */
    size_t n_clients;
};

/* Fills *out with the defaults, then the file at path (NULL: defaults only). On failure
 * *out holds nothing to free and err names the file and key. Free with cfg_free(). */
int cfg_load(const char *path, struct cfg *out, struct myocds_err *err);

/* Same from a JSON text of len bytes (the file's content). */
int cfg_parse(const char *json, size_t len, struct cfg *out, struct myocds_err *err);

/* "clients" of root into c (config_clients.c); err names the key. */
int cfg_load_clients(struct cfg *c, json_object *root, struct myocds_err *err);

/* The profile of the client of verified issuer iss (NULL: no JWT): its entry, else the
 * "default" entry, else NULL (the engine's default). Borrowed from cfg. */
const struct myocds_client_profile *cfg_client(const struct cfg *cfg, const char *iss);

/* Frees what cfg owns and zeroes it; cfg_free on a zeroed struct is a no-op. */
void cfg_free(struct cfg *cfg);

#endif

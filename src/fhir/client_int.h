/* client_int.h - what client.c (the fetch of one request) and transfer.c (curl handles,
 * the pool, the client's life) share. Private to src/fhir/.
 */
#ifndef MYOCDS_FHIR_CLIENT_INT_H
#define MYOCDS_FHIR_CLIENT_INT_H

#include "fhir/client.h"
#include "util/capbuf.h"

#include <curl/curl.h>
#include <pthread.h>

#define FHIR_IDLE_MULTI_MAX 16   /* idle multi handles (with their connections) kept */
#define FHIR_HOST_CONNECTIONS 8L /* parallel connections to one FHIR server */
#define FHIR_CONNECT_TIMEOUT_MS 1000L
#define FHIR_POLL_MS 100 /* longest wait before the deadline is looked at again */
#define FHIR_KEY_BYTES_MAX ((size_t)32 << 20) /* all pages of one key together */

struct fhir_client {
    char **allowed; /* owned copies */
    size_t n_allowed;
    char **anonymous; /* owned copies: servers read without the call's token */
    size_t n_anonymous;
    long timeout_ms;
    long deadline_ms;
    char *ca_file;        /* owned; NULL: the system's CA store */
    pthread_mutex_t lock; /* guards idle */
    CURLM *idle[FHIR_IDLE_MULTI_MAX];
    size_t n_idle;
};

/* One key being fetched, possibly over several pages. */
struct fhir_xfer {
    struct myocds_fetch_item *item;
    CURL *easy;        /* the transfer in flight, or NULL */
    char want[64];     /* resourceType expected of the first page */
    struct capbuf buf; /* the answer so far (this page), capped at FHIR_BODY_MAX */
    size_t total;      /* bytes of every page */
    bool oversize;     /* the write callback refused more */
    json_object *acc;  /* pages merged so far (owned) */
    unsigned pages;
    bool done;
};

/* One call of fhir_fetch. */
struct fhir_run {
    struct fhir_client *c;
    const char *req_id;
    void (*counted)(bool ok); /* metrics, or NULL */
    const char *base;         /* the request's fhirServer */
    const char *proto;        /* "https", or "http" when the server is listed with http:// */
    CURLM *m;
    struct curl_slist *hdrs;
    long long start;
    long long deadline;
    struct fhir_xfer *x;
    size_t n;
};

/* Milliseconds of the monotonic clock. */
long long fhir_now_ms(void);

/* Starts the transfer of url for x in r's multi (the deadline bounds its timeout); -1 when
 * curl could not set it up. */
int fhir_xfer_start(struct fhir_run *r, struct fhir_xfer *x, const char *url);

/* Removes x's transfer from r's multi and frees it; no-op when none. */
void fhir_xfer_drop(struct fhir_run *r, struct fhir_xfer *x);

/* A multi handle from the pool (or a new one); NULL when out of memory. Give it back with
 * fhir_multi_release once no transfer is left in it. */
CURLM *fhir_multi_acquire(struct fhir_client *c);
void fhir_multi_release(struct fhir_client *c, CURLM *m);

/* The Accept and (with a token) Authorization headers; caller frees (curl_slist_free_all).
 * NULL when out of memory. */
struct curl_slist *fhir_headers(const char *token);

#endif

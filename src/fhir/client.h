/* client.h - the FHIR client: fetches the prefetch keys an EHR left out from its FHIR
 * server, all at once, only from servers on the allow list.
 *
 * Three parts, each in its own file:
 *   allow.c     which URLs the service may call (scheme + host + port + path prefix)
 *   response.c  what an answer means: a resource, a refusal (412) or a failure (503);
 *               Bundle paging helpers
 *   client.c    the libcurl transfers (one curl multi per call, reused between calls)
 */
#ifndef MYOCDS_FHIR_CLIENT_H
#define MYOCDS_FHIR_CLIENT_H

#include "myocds/myocds.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define FHIR_URL_MAX 4096               /* longest URL the client builds or follows */
#define FHIR_BODY_MAX ((size_t)8 << 20) /* one answer (one page) larger than this fails */
#define FHIR_PAGE_MAX 100               /* Bundle pages followed per key */
#define FHIR_TOKEN_MAX 8192             /* longest access token sent */

/* ---- allow.c -------------------------------------------------------------------------- */

/* True when url is a usable FHIR base: http or https, a host, and no user info, query or
 * fragment. */
bool fhir_base_valid(const char *url);

/* True when url lies under base: the same scheme, host (case-insensitive) and port
 * (default ports filled in), and url's path is base's path or continues it after a '/'
 * ("https://a.org/r4" covers ".../r4/Patient/1", never ".../r4evil"). url may carry a
 * query; neither may carry user info or a fragment; a path with an encoded '.', '/', '\'
 * or NUL, or any '\', is refused. Both strings are borrowed. */
bool fhir_url_under(const char *base, const char *url);

/* The index of the first entry of allowed[0..n) that url lies under, or -1. */
int fhir_allow_find(const char *const *allowed, size_t n, const char *url);

/* True when token can go into "Authorization: Bearer" (RFC 6750 b64token syntax, at most
 * FHIR_TOKEN_MAX characters): no spaces, no line breaks, nothing to inject. */
bool fhir_token_valid(const char *token);

/* ---- response.c ----------------------------------------------------------------------- */

/* True when url starts with "http://" or "https://" (any case): an absolute URL, used as
 * it is (still only under the fhirServer), not appended to the fhirServer. */
bool fhir_url_absolute(const char *url);

/* The resourceType a URL asks for, written into buf. A relative URL: "Bundle" for a
 * search ("Condition?..."), "Patient" for a read ("Patient/123"), "" when it cannot tell.
 * An absolute URL: the type of a read ("https://b/r4/Medication/1[/_history/2]", no
 * query), else "Bundle" (a search, a next page). */
void fhir_rel_type(const char *url, char *buf, size_t cap);

/* What one answer means. transport_ok: the transfer completed (no timeout, network error
 * or size cap); code: the HTTP status; body[0..len): the answer; want: the resourceType
 * expected ("" for any). Returns 0 with *out an owned resource (json_object_put it), or
 * MYOCDS_E_PRECONDITION (401/403/404 and other refusals, an OperationOutcome body) or
 * MYOCDS_E_UNAVAILABLE (5xx, 429, transport failures, invalid JSON, another resource
 * type), *out NULL. *why is a static reason for the log, never data from the answer. */
int fhir_response_classify(bool transport_ok, long code, const char *body, size_t len,
                           const char *want, json_object **out, const char **why);

/* The URL of bundle's link with relation "next", or NULL. Borrowed from bundle. */
const char *fhir_bundle_next(const json_object *bundle);

/* Moves the entries of page to the end of acc's entry array (both Bundles; page keeps
 * nothing it owns twice). Returns 0, or -1 when out of memory. */
int fhir_bundle_append(json_object *acc, json_object *page);

/* Drops acc's links: after merging it is one searchset holding every page. */
void fhir_bundle_merged(json_object *acc);

/* ---- client.c ------------------------------------------------------------------------- */

struct fhir_client; /* allow list, timeouts, a pool of idle curl multi handles */

struct fhir_client_opts {
    const char *const *allowed_servers; /* copied */
    size_t n_allowed;
    const char *const *anonymous_servers; /* of those, read without a token (copied) */
    size_t n_anonymous;
    long timeout_ms;     /* one transfer */
    long deadline_ms;    /* the whole fetch of one request */
    const char *ca_file; /* CA certificates to verify servers with (copied); NULL: system's */
};

/* Checks and copies opts. Caller owns *out: fhir_client_free() it. curl_global_init must
 * have run. Fails (400) when an allowed server is not a usable base URL or the CA file
 * cannot be read. */
int fhir_client_new(const struct fhir_client_opts *opts, struct fhir_client **out,
                    struct myocds_err *err);
void fhir_client_free(struct fhir_client *client);

/* The context of one fetch: the client, the request id for the log (may be NULL), and
 * who is told of each key's outcome (the metrics; may be NULL). */
struct fhir_call {
    struct fhir_client *client;
    const char *req_id;
    void (*counted)(bool ok);
    /* the caller's issuer's own servers (auth.issuers[].fhir_servers, borrowed), or NULL
     * when it is bound to none: then any allowed server */
    const char *const *servers;
    size_t n_servers;
};

/* A myocds_fetch_fn: ctx is a struct fhir_call. Fetches every item of batch concurrently
 * from batch->fhir_server and fills each item's result or status; items unfinished at the
 * deadline fail as MYOCDS_E_UNAVAILABLE. An item's URL is relative to the fhirServer
 * ("Condition?patient=1"), or an absolute http(s) URL (a next page, a Medication read)
 * used as it is when it lies under the fhirServer, else the item fails as
 * MYOCDS_E_PRECONDITION without a connection. A server not on the allow list is never
 * contacted (every item MYOCDS_E_PRECONDITION). Returns 0, or -500 when it could not run. */
int fhir_fetch(void *ctx, struct myocds_fetch_batch *batch, struct myocds_err *err);

#endif

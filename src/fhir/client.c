/* client.c - every missing prefetch key fetched at once from the EHR's FHIR server.
 *
 * One curl multi runs the whole batch: one transfer per item (a missing key, the rest of
 * a prefetched searchset from its next link, a Medication read), all concurrent (HTTP/1.1
 * keep-alive connections, HTTP/2 multiplexing where a TLS server offers it), a search
 * Bundle followed page by page through link[relation=next] while the next URL stays under
 * the request's fhirServer. The overall deadline is this loop's own: what is not done by
 * then fails as UNAVAILABLE, and the engine answers with what it can decide safely.
 */
#include "fhir/client_int.h"
#include "fhir/fhir.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Logs one key that stays without data: status, key, ms, reason; never URL or body. */
static void log_failure(const struct fhir_run *r, const struct fhir_xfer *x, int status,
                        const char *why)
{
    struct log_field f[] = {LOG_NUM("status", -status), LOG_STR("key", x->item->key),
                            LOG_NUM("ms", fhir_now_ms() - r->start), LOG_STR("reason", why)};
    log_fields(LOG_LEVEL_WARN, r->req_id, "FHIR fetch failed", f, sizeof f / sizeof f[0]);
}

/* Ends x: on status 0 the merged result goes to the item, else it is dropped. */
static void finish(struct fhir_run *r, struct fhir_xfer *x, int status, const char *why)
{
    x->done = true;
    x->item->status = status;
    x->item->reason = status != 0 ? why : NULL;
    if (r->counted != NULL)
        r->counted(status == 0);
    if (status == 0) {
        if (x->pages > 1)
            fhir_bundle_merged(x->acc);
        x->item->result = x->acc;
    } else {
        json_object_put(x->acc);
        log_failure(r, x, status, why);
    }
    x->acc = NULL;
}

/* Takes one page into x->acc and copies its next link (if any) into next[0..cap), else
 * next[0] = '\0'. Returns the status of the key so far. */
static int take_page(struct fhir_xfer *x, CURLcode res, char *next, size_t cap, const char **why)
{
    long code = 0;
    json_object *page = NULL;
    next[0] = '\0';
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    int rc = fhir_response_classify(res == CURLE_OK, code, x->buf.data, x->buf.len,
                                    x->pages == 1 ? x->want : "Bundle", &page, why);
    if (res == CURLE_OPERATION_TIMEDOUT)
        *why = "timeout";
    else if (x->oversize || res == CURLE_FILESIZE_EXCEEDED)
        *why = "answer over the size cap";
    else if (res != CURLE_OK)
        *why = "network error";
    if (rc != 0)
        return rc;
    /* The next link of this page, read before the page is merged and released. */
    const char *link = strcmp(fhir_type(page), "Bundle") == 0 ? fhir_bundle_next(page) : NULL;
    if (link != NULL && strlen(link) >= cap)
        rc = MYOCDS_E_UNAVAILABLE;
    else if (link != NULL)
        memcpy(next, link, strlen(link) + 1);
    if (x->acc == NULL) {
        x->acc = page;
        page = NULL;
    } else if (rc == 0 && fhir_bundle_append(x->acc, page) != 0) {
        rc = MYOCDS_E_UNAVAILABLE;
    }
    json_object_put(page);
    if (rc != 0)
        *why = "next link too long, or out of memory";
    return rc;
}

/* One transfer of x ended with res: the key is done, or its next page starts. */
static void on_done(struct fhir_run *r, struct fhir_xfer *x, CURLcode res)
{
    const char *why = NULL;
    char next[FHIR_URL_MAX];
    int rc = take_page(x, res, next, sizeof next, &why);
    bool more = rc == 0 && next[0] != '\0';
    if (more && !fhir_url_under(r->base, next)) {
        rc = MYOCDS_E_PRECONDITION;
        why = "next page outside the fhirServer: not followed";
    } else if (more && x->pages >= FHIR_PAGE_MAX) {
        rc = MYOCDS_E_UNAVAILABLE;
        why = "more pages than the page cap";
    }
    fhir_xfer_drop(r, x);
    if (rc == 0 && more && fhir_xfer_start(r, x, next) != 0) {
        rc = MYOCDS_E_UNAVAILABLE;
        why = "could not start a transfer";
    }
    if (rc != 0 || !more)
        finish(r, x, rc, why);
}

static size_t pending(const struct fhir_run *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += !r->x[i].done;
    return n;
}

/* Runs the transfers until all are done or the deadline passes. */
static void run_loop(struct fhir_run *r)
{
    int running = 0;
    while (pending(r) > 0) {
        if (curl_multi_perform(r->m, &running) != CURLM_OK)
            break;
        CURLMsg *msg;
        int left = 0;
        while ((msg = curl_multi_info_read(r->m, &left)) != NULL) {
            struct fhir_xfer *x = NULL;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            on_done(r, x, msg->data.result);
        }
        long long wait = r->deadline - fhir_now_ms();
        if (pending(r) == 0 || wait <= 0)
            break;
        if (curl_multi_poll(r->m, NULL, 0, (int)(wait < FHIR_POLL_MS ? wait : FHIR_POLL_MS),
                            NULL) != CURLM_OK)
            break;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (r->x[i].done)
            continue;
        fhir_xfer_drop(r, &r->x[i]);
        finish(r, &r->x[i], MYOCDS_E_UNAVAILABLE, "deadline passed");
    }
}

/* Why nothing of the batch may be fetched (every key then fails as PRECONDITION without
 * any connection), or NULL. Data is read only with the EHR's authority: the call's token,
 * unless the server is listed as readable without one (a local test server); and a call
 * of an issuer bound to its own servers uses only those. */
static const char *refusal(const struct fhir_call *call, const struct myocds_fetch_batch *b)
{
    const struct fhir_client *c = call->client;
    if (!fhir_base_valid(b->fhir_server))
        return "fhirServer is not a usable base URL";
    if (fhir_allow_find((const char *const *)c->allowed, c->n_allowed, b->fhir_server) < 0)
        return "fhirServer is not in fhir.allowed_servers";
    if (call->servers != NULL &&
        fhir_allow_find(call->servers, call->n_servers, b->fhir_server) < 0)
        return "fhirServer is not one of the calling issuer's fhir_servers";
    if (b->access_token == NULL &&
        fhir_allow_find((const char *const *)c->anonymous, c->n_anonymous, b->fhir_server) < 0)
        return "no fhirAuthorization: the service reads FHIR data only with the EHR's token";
    if (b->access_token != NULL && b->expires_in <= 0)
        return "the access token has expired";
    if (b->access_token != NULL && !fhir_token_valid(b->access_token))
        return "the access token is not a bearer token";
    return NULL;
}

/* The URL of item u into url[0..cap): an absolute URL as it is, a relative one after the
 * fhirServer. -1 when it does not fit. */
static int item_url(const struct fhir_run *r, const char *u, char *url, size_t cap)
{
    size_t blen = strlen(r->base);
    bool slash = blen > 0 && r->base[blen - 1] == '/';
    int len = 0;
    if (fhir_url_absolute(u)) {
        len = snprintf(url, cap, "%s", u);
    } else {
        u += *u == '/';
        len = snprintf(url, cap, "%s%s%s", r->base, slash ? "" : "/", u);
    }
    return len < 0 || (size_t)len >= cap ? -1 : 0;
}

/* Starts the first transfer of every key; a key whose URL does not lie under the
 * fhirServer fails as PRECONDITION. */
static void start_all(struct fhir_run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct fhir_xfer *x = &r->x[i];
        char url[FHIR_URL_MAX];
        if (item_url(r, x->item->relative_url, url, sizeof url) != 0 ||
            !fhir_url_under(r->base, url))
            finish(r, x, MYOCDS_E_PRECONDITION, "query URL outside the fhirServer");
        else if (fhir_xfer_start(r, x, url) != 0)
            finish(r, x, MYOCDS_E_UNAVAILABLE, "could not start a transfer");
    }
}

int fhir_fetch(void *ctx, struct myocds_fetch_batch *b, struct myocds_err *err)
{
    const struct fhir_call *call = ctx;
    struct fhir_run r = {.c = call->client,
                         .req_id = call->req_id,
                         .counted = call->counted,
                         .base = b->fhir_server};
    int rc = 0;
    r.start = fhir_now_ms();
    r.deadline = r.start + r.c->deadline_ms;
    r.x = calloc(b->n > 0 ? b->n : 1, sizeof *r.x);
    if (r.x == NULL)
        return myocds_err_set(err, 500, "out of memory");
    r.n = b->n;
    for (size_t i = 0; i < r.n; i++) {
        r.x[i].item = &b->items[i];
        b->items[i].result = NULL;
        b->items[i].status = 0;
        b->items[i].reason = NULL;
        fhir_rel_type(b->items[i].relative_url, r.x[i].want, sizeof r.x[i].want);
    }
    const char *no = refusal(call, b);
    for (size_t i = 0; no != NULL && i < r.n; i++)
        finish(&r, &r.x[i], MYOCDS_E_PRECONDITION, no);
    if (no != NULL || r.n == 0)
        goto out;
    r.proto = strncasecmp(r.base, "https:", 6) == 0 ? "https" : "http";
    r.hdrs = fhir_headers(b->access_token);
    r.m = r.hdrs != NULL ? fhir_multi_acquire(r.c) : NULL;
    if (r.m == NULL) {
        rc = myocds_err_set(err, 500, "FHIR client: out of memory");
        goto out;
    }
    start_all(&r);
    run_loop(&r);
out:
    for (size_t i = 0; i < r.n; i++) {
        fhir_xfer_drop(&r, &r.x[i]);
        json_object_put(r.x[i].acc); /* only left on the out-of-memory path */
        capbuf_free(&r.x[i].buf);
    }
    if (r.m != NULL)
        fhir_multi_release(r.c, r.m);
    curl_slist_free_all(r.hdrs);
    free(r.x);
    return rc;
}

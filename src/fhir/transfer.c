/* transfer.c - the libcurl side of the FHIR client: one easy handle per transfer with
 * every safety option set, the pool of idle multi handles (their open connections are
 * reused by the next call), and the client's own life.
 */
#include "fhir/client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FHIR_AUTH_PREFIX "Authorization: Bearer "
#define FHIR_ACCEPT "Accept: application/fhir+json"
#define FHIR_USER_AGENT "myocds/" MYOCDS_VERSION
#define FHIR_BUF_FIRST 16384 /* first allocation of an answer buffer */

long long fhir_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The write callback: appends to the xfer's buffer up to the caps; returning less than
 * given makes curl fail the transfer (CURLE_WRITE_ERROR). */
static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct fhir_xfer *x = ud;
    size_t n = size * nmemb;
    if (n > FHIR_BODY_MAX - x->buf.len || x->total + n > FHIR_KEY_BYTES_MAX) {
        x->oversize = true;
        return 0;
    }
    if (x->buf.size == 0 && !capbuf_reserve(&x->buf, FHIR_BUF_FIRST - 1))
        return 0;
    if (!capbuf_add(&x->buf, data, n))
        return 0; /* out of memory: the caps were checked above */
    x->total += n;
    return n;
}

void fhir_xfer_drop(struct fhir_run *r, struct fhir_xfer *x)
{
    if (x->easy == NULL)
        return;
    curl_multi_remove_handle(r->m, x->easy);
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
}

/* Starts the transfer of url for x; -1 when curl could not set it up. */
int fhir_xfer_start(struct fhir_run *r, struct fhir_xfer *x, const char *url)
{
    long left = (long)(r->deadline - fhir_now_ms());
    long timeout = left < r->c->timeout_ms ? left : r->c->timeout_ms;
    if (timeout < 1)
        timeout = 1;
    CURL *e = curl_easy_init();
    if (e == NULL)
        return -1;
    capbuf_clear(&x->buf, FHIR_BODY_MAX);
    x->oversize = false;
    bool tls = strcmp(r->proto, "https") == 0;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, url);
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, r->proto);
    bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, r->proto);
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    bad |= curl_easy_setopt(e, CURLOPT_PROXY, ""); /* never hand the token to a proxy */
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (r->c->ca_file != NULL)
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, r->c->ca_file);
    bad |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    bad |= curl_easy_setopt(e, CURLOPT_PIPEWAIT, tls ? 1L : 0L);
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                            timeout < FHIR_CONNECT_TIMEOUT_MS ? timeout : FHIR_CONNECT_TIMEOUT_MS);
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FHIR_BODY_MAX);
    bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, FHIR_USER_AGENT);
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    if (bad != 0 || curl_multi_add_handle(r->m, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        return -1;
    }
    x->easy = e;
    x->pages++;
    return 0;
}

CURLM *fhir_multi_acquire(struct fhir_client *c)
{
    CURLM *m = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->n_idle > 0)
        m = c->idle[--c->n_idle];
    pthread_mutex_unlock(&c->lock);
    if (m == NULL && (m = curl_multi_init()) != NULL &&
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, FHIR_HOST_CONNECTIONS) != CURLM_OK) {
        curl_multi_cleanup(m);
        m = NULL;
    }
    return m;
}

/* Puts m (no transfers left in it) back in the pool, or frees it when the pool is full. */
void fhir_multi_release(struct fhir_client *c, CURLM *m)
{
    bool kept = false;
    pthread_mutex_lock(&c->lock);
    if (c->n_idle < FHIR_IDLE_MULTI_MAX) {
        c->idle[c->n_idle++] = m;
        kept = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (!kept)
        curl_multi_cleanup(m);
}

/* The Accept and (with a token) Authorization headers of every transfer of the call. */
struct curl_slist *fhir_headers(const char *token)
{
    struct curl_slist *h = curl_slist_append(NULL, FHIR_ACCEPT);
    if (h == NULL || token == NULL)
        return h;
    size_t n = sizeof FHIR_AUTH_PREFIX + strlen(token);
    char *line = malloc(n);
    struct curl_slist *more = NULL;
    if (line != NULL) {
        snprintf(line, n, "%s%s", FHIR_AUTH_PREFIX, token);
        more = curl_slist_append(h, line);
        explicit_bzero(line, n);
        free(line);
    }
    if (more == NULL) {
        curl_slist_free_all(h);
        return NULL;
    }
    return more;
}

/* Copies the n base URLs of from into *to (NULL-terminated, owned; *n_to counts what is
 * copied so far, for the caller's cleanup). 400 naming key[i] when one is not a usable
 * FHIR base URL. */
static int copy_bases(const char *const *from, size_t n, const char *key, char ***to, size_t *n_to,
                      struct myocds_err *err)
{
    *to = calloc(n + 1, sizeof **to);
    if (*to == NULL)
        return myocds_err_set(err, 500, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!fhir_base_valid(from[i]))
            return myocds_err_set(err, 400,
                                  "%s[%zu] is not a usable FHIR base URL "
                                  "(http(s), a host, no user info, query or fragment)",
                                  key, i);
        if (((*to)[i] = strdup(from[i])) == NULL)
            return myocds_err_set(err, 500, "out of memory");
        *n_to = i + 1;
    }
    return 0;
}

int fhir_client_new(const struct fhir_client_opts *o, struct fhir_client **out,
                    struct myocds_err *err)
{
    int rc = 0;
    *out = NULL;
    struct fhir_client *c = calloc(1, sizeof *c);
    if (c == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return myocds_err_set(err, 500, "out of memory");
    }
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 1;
    c->deadline_ms = o->deadline_ms > 0 ? o->deadline_ms : 1;
    if ((rc = copy_bases(o->allowed_servers, o->n_allowed, "fhir.allowed_servers", &c->allowed,
                         &c->n_allowed, err)) != 0 ||
        (rc = copy_bases(o->anonymous_servers, o->n_anonymous, "fhir.anonymous_servers",
                         &c->anonymous, &c->n_anonymous, err)) != 0)
        goto fail;
    if (o->ca_file != NULL && access(o->ca_file, R_OK) != 0) {
        rc = myocds_err_set(err, 400, "fhir.ca_file cannot be read");
        goto fail;
    }
    if (o->ca_file != NULL && (c->ca_file = strdup(o->ca_file)) == NULL) {
        rc = myocds_err_set(err, 500, "out of memory");
        goto fail;
    }
    *out = c;
    return 0;
fail:
    fhir_client_free(c);
    return rc;
}

void fhir_client_free(struct fhir_client *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_idle; i++)
        curl_multi_cleanup(c->idle[i]);
    for (size_t i = 0; i < c->n_allowed; i++)
        free(c->allowed[i]);
    free(c->allowed);
    for (size_t i = 0; i < c->n_anonymous; i++)
        free(c->anonymous[i]);
    free(c->anonymous);
    free(c->ca_file);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

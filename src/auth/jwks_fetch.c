/* jwks_fetch.c - GET a configured JWKS URL with libcurl: https only, verified, bounded. */
#include "auth/jwks.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_OK 200L

struct fetch_buf {
    char *data;
    size_t len;
    bool too_large;
};

/* Appends a chunk under JWKS_MAX_BYTES; returning less than asked aborts the transfer. */
static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct fetch_buf *b = userdata;
    size_t n = size * nmemb;
    if (n > JWKS_MAX_BYTES - b->len) {
        b->too_large = true;
        return 0;
    }
    char *grown = realloc(b->data, b->len + n + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + b->len, ptr, n);
    b->data = grown;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static void set_options(CURL *c, const char *uri, const char *ca_file, struct fetch_buf *b)
{
    curl_easy_setopt(c, CURLOPT_URL, uri);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, JWKS_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, JWKS_FETCH_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)JWKS_MAX_BYTES);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "myocds/" MYOCDS_VERSION);
}

/* Ownership: *body is malloc'd for the caller on success. */
int jwks_fetch_https(void *ctx, const char *uri, char **body, size_t *len, struct myocds_err *err)
{
    struct fetch_buf b = {0};
    long status = 0;
    int rc = 0;
    CURL *c = curl_easy_init();
    if (c == NULL)
        return myocds_err_set(err, 500, "jwks: cannot create a transfer");
    set_options(c, uri, ctx, &b);
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (b.too_large)
        rc = myocds_err_set(err, 502, "jwks: document over %zu bytes", JWKS_MAX_BYTES);
    else if (cc != CURLE_OK)
        rc = myocds_err_set(err, 502, "jwks: %s", curl_easy_strerror(cc));
    else if (status != HTTP_OK || b.data == NULL)
        rc = myocds_err_set(err, 502, "jwks: HTTP %ld", status);
    if (rc != 0) {
        free(b.data);
        return rc;
    }
    *body = b.data;
    *len = b.len;
    return 0;
}

/* jwks_fetch.c - GET a configured JWKS URL with libcurl: https only, verified, bounded. */
#include "auth/jwks.h"
#include "util/capbuf.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_OK 200L

static void set_options(CURL *c, const char *uri, const char *ca_file, struct capbuf *b)
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
    curl_easy_setopt(c, CURLOPT_PROXY,
                     ""); /* no proxy from the environment: straight to the issuer */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, JWKS_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, JWKS_FETCH_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)JWKS_MAX_BYTES);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, capbuf_curl_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "myocds/" MYOCDS_VERSION);
}

/* Ownership: *body is malloc'd for the caller on success. */
int jwks_fetch_https(void *ctx, const char *uri, char **body, size_t *len, struct myocds_err *err)
{
    struct capbuf b = {.max = JWKS_MAX_BYTES};
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
        capbuf_free(&b);
        return rc;
    }
    *body = capbuf_take(&b, len);
    return 0;
}

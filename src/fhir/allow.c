/* allow.c - which URLs the FHIR client may call: a prefix match on scheme, host, port
 * and path, with URLs taken apart by libcurl's own parser (the one that will connect). */
#include "fhir/client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The parts of a URL that decide where a request goes. Owned by curl (curl_free). */
struct url_parts {
    char *scheme; /* lower case */
    char *host;
    char *port; /* the default port filled in */
    char *path; /* dot segments already removed */
    bool has_query;
};

static void parts_free(struct url_parts *p)
{
    curl_free(p->scheme);
    curl_free(p->host);
    curl_free(p->port);
    curl_free(p->path);
    memset(p, 0, sizeof *p);
}

/* True when part of u is absent (curl says "no such part"). */
static bool absent(CURLU *u, CURLUPart part, CURLUcode none)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, part, &v, 0);
    curl_free(v);
    return rc == none;
}

/* An encoded '.', '/', '\', '%' or NUL in a path could be decoded by a server after our
 * prefix check ("/r4/%2e%2e/admin", "/r4/%252e%252e/"); a ';' starts the path parameters
 * Tomcat and Jetty strip before they normalise ("/r4/..;/admin"); a byte that is not ASCII
 * may be folded by a server's decoder. Such paths are refused: no FHIR path needs them. */
static bool path_suspicious(const char *path)
{
    static const char *const bad[] = {"%2e", "%2f", "%5c", "%00", "%25"};
    for (const unsigned char *c = (const unsigned char *)path; *c != '\0'; c++)
        if (*c == ';' || *c >= 0x80)
            return true;
    for (const char *p = strchr(path, '%'); p != NULL; p = strchr(p + 1, '%'))
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            if (strncasecmp(p, bad[i], 3) == 0)
                return true;
    return false;
}

/* Takes url apart into *p (caller frees with parts_free). -1 when it is no http(s) URL
 * with a host, or carries user info, a fragment, a zone id or a suspicious path. */
static int url_split(const char *url, struct url_parts *p)
{
    int rc = -1;
    memset(p, 0, sizeof *p);
    if (url == NULL || strlen(url) >= FHIR_URL_MAX || strchr(url, '\\') != NULL)
        return -1;
    for (const unsigned char *c = (const unsigned char *)url; *c != '\0'; c++)
        if (*c >= 0x80) /* not ASCII: a server's decoder may fold it */
            return -1;
    CURLU *u = curl_url();
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    if (!absent(u, CURLUPART_USER, CURLUE_NO_USER) ||
        !absent(u, CURLUPART_PASSWORD, CURLUE_NO_PASSWORD) ||
        !absent(u, CURLUPART_OPTIONS, CURLUE_NO_OPTIONS) ||
        !absent(u, CURLUPART_FRAGMENT, CURLUE_NO_FRAGMENT) ||
        !absent(u, CURLUPART_ZONEID, CURLUE_NO_ZONEID))
        goto out;
    p->has_query = !absent(u, CURLUPART_QUERY, CURLUE_NO_QUERY);
    if (curl_url_get(u, CURLUPART_SCHEME, &p->scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &p->host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &p->port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &p->path, 0) != CURLUE_OK)
        goto out;
    if ((strcmp(p->scheme, "https") != 0 && strcmp(p->scheme, "http") != 0) || p->host[0] == '\0' ||
        path_suspicious(p->path))
        goto out;
    rc = 0;
out:
    curl_url_cleanup(u);
    if (rc != 0)
        parts_free(p);
    return rc;
}

bool fhir_base_valid(const char *url)
{
    struct url_parts p;
    if (url_split(url, &p) != 0)
        return false;
    bool ok = !p.has_query;
    parts_free(&p);
    return ok;
}

/* True when path continues base_path at a segment boundary. */
static bool path_under(const char *base_path, const char *path)
{
    size_t n = strlen(base_path);
    while (n > 0 && base_path[n - 1] == '/')
        n--;
    return strncmp(path, base_path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool fhir_url_under(const char *base, const char *url)
{
    struct url_parts b;
    struct url_parts u;
    bool ok = false;
    if (url_split(base, &b) != 0)
        return false;
    if (url_split(url, &u) == 0) {
        ok = !b.has_query && strcmp(b.scheme, u.scheme) == 0 && strcasecmp(b.host, u.host) == 0 &&
             strcmp(b.port, u.port) == 0 && path_under(b.path, u.path);
        parts_free(&u);
    }
    parts_free(&b);
    return ok;
}

int fhir_allow_find(const char *const *allowed, size_t n, const char *url)
{
    for (size_t i = 0; i < n; i++)
        if (fhir_url_under(allowed[i], url))
            return (int)i;
    return -1;
}

bool fhir_token_valid(const char *token)
{
    static const char extra[] = "-._~+/";
    size_t n = token != NULL ? strlen(token) : 0;
    if (n == 0 || n > FHIR_TOKEN_MAX)
        return false;
    size_t i = 0;
    for (; i < n; i++) {
        unsigned char ch = (unsigned char)token[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && strchr(extra, ch) == NULL)
            break;
    }
    if (i == 0)
        return false;
    while (i < n && token[i] == '=') /* only trailing padding */
        i++;
    return i == n;
}

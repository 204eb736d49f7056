/* config.c - the JSON config file -> struct cfg, through one table of scalar options. */
#include "util/config.h"

#include "util/json.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CFG_MAX_ITEMS 64 /* entries of auth.issuers or fhir.allowed_servers */
#define CFG_KEY_MAX 64   /* longest dotted key of the table */

enum cfg_type { CFG_T_STR, CFG_T_URL, CFG_T_UINT, CFG_T_SIZE, CFG_T_LONG, CFG_T_LEVEL };

/* One scalar option: its dotted path in the file, its field in struct cfg, its bounds. */
struct cfg_option {
    const char *key;
    enum cfg_type type;
    size_t offset;
    long long min;
    long long max;
};

#define OPT(k, t, field, lo, hi)                                                                   \
    {                                                                                              \
        (k), (t), offsetof(struct cfg, field), (lo), (hi)                                          \
    }

static const struct cfg_option cfg_options[] = {
    OPT("public_base_url", CFG_T_URL, public_base_url, 0, 0),
    OPT("data_dir", CFG_T_STR, data_dir, 0, 0),
    OPT("hooks_dir", CFG_T_STR, hooks_dir, 0, 0),
    OPT("feedback.postgres_url", CFG_T_STR, postgres_url, 0, 0),
    OPT("fhir.timeout_ms", CFG_T_LONG, fhir_timeout_ms, 1, 600000),
    OPT("fhir.deadline_ms", CFG_T_LONG, fhir_deadline_ms, 1, 600000),
    OPT("fhir.ca_file", CFG_T_STR, fhir_ca_file, 0, 0),
    OPT("http.max_body_bytes", CFG_T_SIZE, http_max_body_bytes, 1024, 256LL << 20),
    OPT("http.threads", CFG_T_UINT, http_threads, 1, 1024),
    OPT("http.connection_limit", CFG_T_UINT, http_connection_limit, 1, 65536),
    OPT("http.timeout_s", CFG_T_UINT, http_timeout_s, 1, 3600),
    OPT("http.per_address_limit", CFG_T_UINT, http_per_address_limit, 1, 65536),
    OPT("http.request_deadline_s", CFG_T_UINT, http_request_deadline_s, 1, 3600),
    OPT("http.queue_max", CFG_T_UINT, http_queue_max, 1, 65536),
    OPT("log_level", CFG_T_LEVEL, log_level, 0, 0),
    OPT("auth.max_lifetime_s", CFG_T_LONG, auth_max_lifetime_s, 1, 3600),
    OPT("auth.clock_skew_s", CFG_T_LONG, auth_clock_skew_s, 0, 600),
    OPT("auth.jwks_ca_file", CFG_T_STR, auth_jwks_ca_file, 0, 0),
    OPT("cards.repeat_window_min", CFG_T_LONG, cards_repeat_window_min, 0,
        CFG_MAX_REPEAT_WINDOW_MIN),
};

/* The keys read by their own loaders (lists), beside the table's. */
static const char *const cfg_list_keys[] = {"auth.issuers",           "auth.allowed_algs",
                                            "http.cors_origins",      "fhir.allowed_servers",
                                            "fhir.anonymous_servers", "clients"};
/* The members of one auth.issuers[] entry. */
static const char *const cfg_issuer_keys[] = {"iss", "jwks_uri", "jwks_file", "fhir_servers"};

/* The JWT algorithms auth.allowed_algs may name (asymmetric only), and the default. */
static const char *const cfg_jwt_algs[] = {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512"};
static const char *const cfg_default_algs[] = {"ES384", "RS384"};

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1U : (n > 1024 ? 1024U : (unsigned)n);
}

/* PREFIX/share/myocds/hooks for the running executable PREFIX/bin/myocds (found through
 * /proc/self/exe, so an installed tree may be moved); "hooks" when it cannot be read. */
static char *installed_hooks_dir(void)
{
    char exe[PATH_MAX];
    char dir[PATH_MAX + sizeof MYOCDS_HOOKS_SUBDIR + 1];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return strdup("hooks");
    exe[n] = '\0';
    char *slash = strrchr(exe, '/'); /* PREFIX/bin */
    if (slash != NULL)
        *slash = '\0';
    size_t bin = strlen(MYOCDS_BINDIR);
    size_t len = strlen(exe);
    if (len > bin && strcmp(exe + len - bin, MYOCDS_BINDIR) == 0 && exe[len - bin - 1] == '/')
        exe[len - bin - 1] = '\0'; /* PREFIX */
    snprintf(dir, sizeof dir, "%s/%s", exe, MYOCDS_HOOKS_SUBDIR);
    return strdup(dir);
}

/* $MYOCDS_HOOKS, else the installed hooks. */
static char *default_hooks_dir(void)
{
    const char *env = getenv(CFG_HOOKS_ENV);
    if (env != NULL && env[0] != '\0')
        return strdup(env);
    return installed_hooks_dir();
}

static int set_defaults(struct cfg *c, struct myocds_err *err)
{
    memset(c, 0, sizeof *c);
    c->fhir_timeout_ms = CFG_DEFAULT_FHIR_TIMEOUT_MS;
    c->fhir_deadline_ms = CFG_DEFAULT_FHIR_DEADLINE_MS;
    c->http_max_body_bytes = CFG_DEFAULT_MAX_BODY;
    c->http_threads = online_cpus();
    c->http_connection_limit = CFG_DEFAULT_CONN_LIMIT;
    c->http_timeout_s = CFG_DEFAULT_TIMEOUT_S;
    c->http_request_deadline_s = CFG_DEFAULT_REQUEST_DEADLINE_S;
    c->http_queue_max = CFG_DEFAULT_QUEUE_MAX;
    c->log_level = LOG_LEVEL_INFO;
    c->auth_max_lifetime_s = CFG_DEFAULT_JWT_MAX_LIFETIME_S;
    c->auth_clock_skew_s = CFG_DEFAULT_JWT_CLOCK_SKEW_S;
    c->cards_repeat_window_min = CFG_DEFAULT_REPEAT_WINDOW_MIN;
    c->data_dir = strdup(CFG_DEFAULT_DATA_DIR);
    c->hooks_dir = default_hooks_dir();
    c->auth_allowed_algs = calloc(2 + 1, sizeof *c->auth_allowed_algs);
    for (size_t i = 0; c->auth_allowed_algs != NULL && i < 2; i++) {
        if ((c->auth_allowed_algs[i] = strdup(cfg_default_algs[i])) == NULL)
            break;
        c->n_auth_allowed_algs = i + 1;
    }
    if (c->data_dir == NULL || c->hooks_dir == NULL || c->n_auth_allowed_algs != 2)
        return myocds_err_set(err, 500, "out of memory");
    return 0;
}

/* The member at a dotted path, or NULL when absent; err when a parent is not an object. */
static int lookup(json_object *root, const char *key, json_object **out, struct myocds_err *err)
{
    char path[CFG_KEY_MAX];
    json_object *cur = root;
    snprintf(path, sizeof path, "%s", key);
    *out = NULL;
    for (char *seg = path, *dot; seg != NULL; seg = dot) {
        dot = strchr(seg, '.');
        if (dot != NULL)
            *dot++ = '\0';
        if (!json_object_is_type(cur, json_type_object)) {
            return myocds_err_set(err, 400, "config: %.*s must be an object", (int)(seg - path - 1),
                                  key);
        }
        if (!json_object_object_get_ex(cur, seg, &cur) || cur == NULL)
            return 0; /* absent, or null: keep the default */
    }
    *out = cur;
    return 0;
}

static bool is_http_url(const char *s)
{
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static int set_string(struct cfg *c, const struct cfg_option *o, json_object *v,
                      struct myocds_err *err)
{
    void *field = (char *)c + o->offset;
    const char *s = json_object_get_string(v);
    if (!json_object_is_type(v, json_type_string) || s[0] == '\0')
        return myocds_err_set(err, 400, "config: %s must be a non-empty string", o->key);
    if (o->type == CFG_T_URL && !is_http_url(s))
        return myocds_err_set(err, 400, "config: %s must be an http(s) URL", o->key);
    if (o->type == CFG_T_LEVEL) {
        if (!log_level_parse(s, (enum log_level *)field))
            return myocds_err_set(err, 400, "config: %s must be debug, info, warn or error",
                                  o->key);
        return 0;
    }
    char *copy = strdup(s);
    if (copy == NULL)
        return myocds_err_set(err, 500, "out of memory");
    if (o->type == CFG_T_URL) {
        for (size_t n = strlen(copy); n > 0 && copy[n - 1] == '/'; n--)
            copy[n - 1] = '\0';
    }
    free(*(char **)field);
    *(char **)field = copy;
    return 0;
}

static int set_number(struct cfg *c, const struct cfg_option *o, json_object *v,
                      struct myocds_err *err)
{
    void *field = (char *)c + o->offset;
    int64_t n = json_object_get_int64(v);
    if (!json_object_is_type(v, json_type_int) || n < o->min || n > o->max)
        return myocds_err_set(err, 400, "config: %s must be an integer in %lld..%lld", o->key,
                              o->min, o->max);
    if (o->type == CFG_T_UINT)
        *(unsigned *)field = (unsigned)n;
    else if (o->type == CFG_T_SIZE)
        *(size_t *)field = (size_t)n;
    else
        *(long *)field = (long)n;
    return 0;
}

/* 1 when key is a known key, 2 when it is the section of known keys (key + "."), else 0. */
static int known_key(const char *key)
{
    enum { N_OPT = sizeof cfg_options / sizeof cfg_options[0] };
    enum { N_ALL = N_OPT + sizeof cfg_list_keys / sizeof cfg_list_keys[0] };
    size_t n = strlen(key);
    int found = 0;
    for (size_t i = 0; i < N_ALL; i++) {
        const char *k = i < N_OPT ? cfg_options[i].key : cfg_list_keys[i - N_OPT];
        if (strcmp(k, key) == 0)
            return 1;
        if (strncmp(k, key, n) == 0 && k[n] == '.')
            found = 2;
    }
    return found;
}

/* Every member of obj (the section prefix, "" at the top) must be a known key or a section
 * of them: a misspelled key stops start-up instead of being ignored. */
static int check_keys(json_object *obj, const char *prefix, struct myocds_err *err)
{
    json_object_object_foreach(obj, name, val)
    {
        char key[CFG_KEY_MAX];
        int n = snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] != '\0' ? "." : "", name);
        int kind = n > 0 && (size_t)n < sizeof key ? known_key(key) : 0;
        if (kind == 0)
            return myocds_err_set(err, 400, "config: unknown key %.*s", (int)(sizeof key - 1),
                                  n > 0 && (size_t)n < sizeof key ? key : name);
        if (kind == 2 && json_object_is_type(val, json_type_object)) {
            int rc = check_keys(val, key, err);
            if (rc != 0)
                return rc;
        } else if (kind == 2 && val != NULL) {
            return myocds_err_set(err, 400, "config: %s must be an object", key);
        }
    }
    return 0;
}

/* Every member of issuer entry i must be one of cfg_issuer_keys. */
static int check_issuer_keys(json_object *it, size_t i, struct myocds_err *err)
{
    json_object_object_foreach(it, name, val)
    {
        bool ok = false;
        (void)val;
        for (size_t k = 0; k < sizeof cfg_issuer_keys / sizeof cfg_issuer_keys[0]; k++)
            ok = ok || strcmp(name, cfg_issuer_keys[k]) == 0;
        if (!ok)
            return myocds_err_set(err, 400, "config: unknown key auth.issuers[%zu].%.64s", i, name);
    }
    return 0;
}

/* A string member of issuer i, or NULL; err when present and not a non-empty string. */
static int issuer_str(json_object *it, size_t i, const char *name, char **out,
                      struct myocds_err *err)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(it, name, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
        return myocds_err_set(err, 400, "config: auth.issuers[%zu].%s must be a non-empty string",
                              i, name);
    *out = strdup(json_object_get_string(v));
    return *out == NULL ? myocds_err_set(err, 500, "out of memory") : 0;
}

/* The array at key, checked for type and size; *arr NULL when absent. */
static int get_list(json_object *root, const char *key, json_object **arr, struct myocds_err *err)
{
    int rc = lookup(root, key, arr, err);
    if (rc != 0 || *arr == NULL)
        return rc;
    if (!json_object_is_type(*arr, json_type_array) ||
        json_object_array_length(*arr) > CFG_MAX_ITEMS)
        return myocds_err_set(err, 400, "config: %s must be an array of at most %d entries", key,
                              CFG_MAX_ITEMS);
    return 0;
}

/* The list of http(s) URLs at key into *out (n entries, NULL-terminated; cfg_free frees
 * it); *out stays NULL when the key is absent. */
static int load_urls(json_object *root, const char *key, char ***out, size_t *n_out,
                     struct myocds_err *err)
{
    json_object *arr = NULL;
    int rc = get_list(root, key, &arr, err);
    if (rc != 0 || arr == NULL)
        return rc;
    size_t n = json_object_array_length(arr);
    *out = calloc(n + 1, sizeof **out);
    if (*out == NULL)
        return myocds_err_set(err, 500, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(arr, i);
        const char *s = json_object_get_string(it);
        if (!json_object_is_type(it, json_type_string) || !is_http_url(s))
            return myocds_err_set(err, 400, "config: %s[%zu] must be an http(s) URL", key, i);
        (*out)[i] = strdup(s);
        if ((*out)[i] == NULL)
            return myocds_err_set(err, 500, "out of memory");
        *n_out = i + 1;
    }
    return 0;
}

static int load_issuers(struct cfg *c, json_object *root, struct myocds_err *err)
{
    json_object *arr = NULL;
    int rc = get_list(root, "auth.issuers", &arr, err);
    if (rc != 0 || arr == NULL)
        return rc;
    size_t n = json_object_array_length(arr);
    c->issuers = calloc(n + 1, sizeof *c->issuers);
    if (c->issuers == NULL)
        return myocds_err_set(err, 500, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(arr, i);
        struct cfg_issuer *is = &c->issuers[i];
        c->n_issuers = i + 1; /* so cfg_free releases what is filled so far */
        if (!json_object_is_type(it, json_type_object))
            return myocds_err_set(err, 400, "config: auth.issuers[%zu] must be an object", i);
        if ((rc = check_issuer_keys(it, i, err)) != 0)
            return rc;
        if ((rc = issuer_str(it, i, "iss", &is->iss, err)) != 0 ||
            (rc = issuer_str(it, i, "jwks_uri", &is->jwks_uri, err)) != 0 ||
            (rc = issuer_str(it, i, "jwks_file", &is->jwks_file, err)) != 0)
            return rc;
        if (is->iss == NULL)
            return myocds_err_set(err, 400, "config: auth.issuers[%zu].iss is required", i);
        if (is->jwks_uri == NULL && is->jwks_file == NULL)
            return myocds_err_set(err, 400, "config: auth.issuers[%zu] needs jwks_uri or jwks_file",
                                  i);
        if (is->jwks_uri != NULL && strncmp(is->jwks_uri, "https://", 8) != 0)
            return myocds_err_set(err, 400,
                                  "config: auth.issuers[%zu].jwks_uri must be an https URL", i);
        char key[48];
        snprintf(key, sizeof key, "auth.issuers[%zu].fhir_servers", i);
        if ((rc = load_urls(it, "fhir_servers", &is->fhir_servers, &is->n_fhir_servers, err)) != 0)
            return rc == -400 ? myocds_err_set(err, 400,
                                               "config: %s must be an array of http(s) URLs", key)
                              : rc;
    }
    return 0;
}

/* http.cors_origins: browser origins ("scheme://host[:port]", no path) CORS allows in
 * --dev. */
static int load_origins(struct cfg *c, json_object *root, struct myocds_err *err)
{
    int rc =
        load_urls(root, "http.cors_origins", &c->http_cors_origins, &c->n_http_cors_origins, err);
    for (size_t i = 0; rc == 0 && i < c->n_http_cors_origins; i++) {
        const char *o = c->http_cors_origins[i];
        const char *host = strstr(o, "://");
        if (host == NULL || strchr(host + 3, '/') != NULL)
            rc = myocds_err_set(err, 400,
                                "config: http.cors_origins[%zu] must be an origin, "
                                "scheme://host[:port] with no path",
                                i);
    }
    return rc;
}

static int load_servers(struct cfg *c, json_object *root, struct myocds_err *err)
{
    int rc = load_urls(root, "fhir.allowed_servers", &c->fhir_allowed_servers,
                       &c->n_fhir_allowed_servers, err);
    if (rc == 0)
        rc = load_urls(root, "fhir.anonymous_servers", &c->fhir_anonymous_servers,
                       &c->n_fhir_anonymous_servers, err);
    return rc;
}

static bool known_alg(const char *s)
{
    for (size_t i = 0; i < sizeof cfg_jwt_algs / sizeof cfg_jwt_algs[0]; i++) {
        if (strcmp(s, cfg_jwt_algs[i]) == 0)
            return true;
    }
    return false;
}

static void free_algs(struct cfg *c)
{
    for (size_t i = 0; i < c->n_auth_allowed_algs; i++)
        free(c->auth_allowed_algs[i]);
    free(c->auth_allowed_algs);
    c->auth_allowed_algs = NULL;
    c->n_auth_allowed_algs = 0;
}

/* auth.allowed_algs replaces the default list; none, HS* and unknown names are errors. */
static int load_algs(struct cfg *c, json_object *root, struct myocds_err *err)
{
    json_object *arr = NULL;
    int rc = get_list(root, "auth.allowed_algs", &arr, err);
    if (rc != 0 || arr == NULL)
        return rc;
    size_t n = json_object_array_length(arr);
    free_algs(c);
    if (n == 0)
        return myocds_err_set(err, 400, "config: auth.allowed_algs must name an algorithm");
    c->auth_allowed_algs = calloc(n + 1, sizeof *c->auth_allowed_algs);
    if (c->auth_allowed_algs == NULL)
        return myocds_err_set(err, 500, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(it, json_type_string) || !known_alg(json_object_get_string(it)))
            return myocds_err_set(err, 400,
                                  "config: auth.allowed_algs[%zu] must be one of ES256, ES384, "
                                  "ES512, RS256, RS384, RS512",
                                  i);
        c->auth_allowed_algs[i] = strdup(json_object_get_string(it));
        if (c->auth_allowed_algs[i] == NULL)
            return myocds_err_set(err, 500, "out of memory");
        c->n_auth_allowed_algs = i + 1;
    }
    return 0;
}

static int apply(struct cfg *c, json_object *root, struct myocds_err *err)
{
    if (!json_object_is_type(root, json_type_object))
        return myocds_err_set(err, 400, "config: the top level must be a JSON object");
    int krc = check_keys(root, "", err);
    if (krc != 0)
        return krc;
    for (size_t i = 0; i < sizeof cfg_options / sizeof cfg_options[0]; i++) {
        const struct cfg_option *o = &cfg_options[i];
        json_object *v = NULL;
        int rc = lookup(root, o->key, &v, err);
        if (rc == 0 && v != NULL) {
            if (o->type == CFG_T_STR || o->type == CFG_T_URL || o->type == CFG_T_LEVEL)
                rc = set_string(c, o, v, err);
            else
                rc = set_number(c, o, v, err);
        }
        if (rc != 0)
            return rc;
    }
    int rc = load_issuers(c, root, err);
    if (rc == 0)
        rc = load_algs(c, root, err);
    if (rc == 0)
        rc = load_origins(c, root, err);
    if (rc == 0)
        rc = cfg_load_clients(c, root, err);
    return rc != 0 ? rc : load_servers(c, root, err);
}

int cfg_parse(const char *json, size_t len, struct cfg *out, struct myocds_err *err)
{
    struct cfg c;
    json_object *root = NULL;
    int rc = set_defaults(&c, err);
    if (rc == 0 && json != NULL) {
        root = json_parse_strict(json, len, err);
        if (root == NULL) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err != NULL ? err->msg : "");
            rc = myocds_err_set(err, 400, "config: %s", why);
        } else {
            rc = apply(&c, root, err);
        }
    }
    json_object_put(root);
    if (rc != 0) {
        cfg_free(&c);
        memset(out, 0, sizeof *out);
        return rc;
    }
    *out = c;
    return 0;
}

/* Reads a whole file of at most CFG_FILE_MAX bytes; caller frees *buf. */
static int read_file(const char *path, char **buf, size_t *len, struct myocds_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return myocds_err_set(err, 400, "config %s: cannot open", path);
    char *b = malloc(CFG_FILE_MAX + 1);
    size_t n = b != NULL ? fread(b, 1, CFG_FILE_MAX + 1, f) : 0;
    int bad = b == NULL || ferror(f) || n > CFG_FILE_MAX;
    fclose(f);
    if (bad) {
        free(b);
        return myocds_err_set(err, 400, "config %s: unreadable or larger than %d bytes", path,
                              CFG_FILE_MAX);
    }
    *buf = b;
    *len = n;
    return 0;
}

int cfg_load(const char *path, struct cfg *out, struct myocds_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    if (path == NULL)
        return cfg_parse(NULL, 0, out, err);
    int rc = read_file(path, &buf, &len, err);
    if (rc == 0)
        rc = cfg_parse(buf, len, out, err);
    free(buf);
    if (rc != 0 && err != NULL && strncmp(err->msg, "config: ", 8) == 0) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg + 8);
        myocds_err_set(err, err->http_status, "config %s: %s", path, why);
    }
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

void cfg_free(struct cfg *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_issuers; i++) {
        free(cfg->issuers[i].iss);
        free(cfg->issuers[i].jwks_uri);
        free(cfg->issuers[i].jwks_file);
        for (size_t k = 0; k < cfg->issuers[i].n_fhir_servers; k++)
            free(cfg->issuers[i].fhir_servers[k]);
        free(cfg->issuers[i].fhir_servers);
    }
    for (size_t i = 0; i < cfg->n_fhir_allowed_servers; i++)
        free(cfg->fhir_allowed_servers[i]);
    for (size_t i = 0; i < cfg->n_fhir_anonymous_servers; i++)
        free(cfg->fhir_anonymous_servers[i]);
    free(cfg->fhir_anonymous_servers);
    for (size_t i = 0; i < cfg->n_http_cors_origins; i++)
        free(cfg->http_cors_origins[i]);
    free(cfg->http_cors_origins);
    free(cfg->issuers);
    for (size_t i = 0; i < cfg->n_clients; i++)
        free(cfg->clients[i].iss);
    free(cfg->clients);
    free_algs(cfg);
    free(cfg->auth_jwks_ca_file);
    free(cfg->fhir_allowed_servers);
    free(cfg->fhir_ca_file);
    free(cfg->public_base_url);
    free(cfg->data_dir);
    free(cfg->postgres_url);
    free(cfg->hooks_dir);
    memset(cfg, 0, sizeof *cfg);
}

/* main.c - the myocds command line: serve, eval, services.
 *
 * argv -> struct cfg, engine, store; start and stop; signal handling. Nothing else.
 */
#include "auth/client.h"
#include "fhir/client.h"
#include "http/server.h"
#include "myocds/myocds.h"
#include "store/report.h"
#include "store/store.h"
#include "util/config.h"
#include "util/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2                      /* bad arguments, config, hooks or input */
#define EVAL_INPUT_MAX ((size_t)16 << 20) /* the largest request `eval` reads */
#define DEFAULT_BIND "127.0.0.1"
#define DEFAULT_PORT 8080U

static const char usage[] =
    "usage: myocds serve [--bind ADDR] [--port N] [--config FILE] [--dev]\n"
    "       myocds eval --service ID [--config FILE] [--fetch] [FILE|-]\n"
    "       myocds services [--config FILE]\n"
    "       myocds report [--config FILE] [--json|--csv] [--since DATE] [--until DATE]\n"
    "       myocds call --url URL --key KEY.pem --iss ISS [--kid KID] [--alg ALG] [--aud AUD]\n"
    "                   FILE|-\n"
    "       myocds --help | --version\n"
    "\n"
    "  serve     answer CDS Hooks calls over HTTP (default 127.0.0.1:8080; --port 0 takes a\n"
    "            free port). --dev accepts calls without a JWT, on a loopback address only.\n"
    "  eval      evaluate one CDS Hooks request (a file, or stdin) offline; print the cards.\n"
    "            --fetch reads the prefetch keys it lacks from its fhirServer (only servers\n"
    "            listed in the config's fhir.allowed_servers)\n"
    "  services  print the discovery document\n"
    "  call      sign a JWT with KEY.pem as issuer ISS (alg from the key, kid its RFC 7638\n"
    "            thumbprint, aud URL without /feedback) and POST FILE to URL as an EHR\n"
    "            would; print the answer; exit 0 on HTTP 200, else 1\n"
    "  report    per rule: cards issued, accepted, overridden, acceptance rate, top override\n"
    "            reasons, from the feedback store; a table, or --json / --csv. DATE is\n"
    "            YYYY-MM-DD (--until includes that day) or YYYY-MM-DDTHH:MM:SSZ\n";

/* Command-line options of every command; each command reads the ones it knows. */
struct args {
    const char *bind;
    unsigned port;
    const char *config;
    const char *service;
    const char *input;
    const char *since;
    const char *until;
    bool dev;
    bool fetch;
    bool json;
    bool csv;
};

static int usage_error(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "myocds %s: %s%s%s (see myocds --help)\n", cmd, what, arg != NULL ? " " : "",
            arg != NULL ? arg : "");
    return EXIT_USAGE;
}

static bool parse_port(const char *s, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > 65535)
        return false;
    *out = (unsigned)v;
    return true;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past a separate value. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

static int parse_args(const char *cmd, int argc, char **argv, struct args *a)
{
    static const char *const names[] = {"--bind",    "--port",  "--config",
                                        "--service", "--since", "--until"};
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int k = 0;
        int got = 0;
        for (; k < 6 && got == 0; k++)
            got = opt_value(argc, argv, &i, names[k], &v);
        if (got < 0)
            return usage_error(cmd, "missing value after", argv[i]);
        if (got > 0) {
            const char **dst[] = {&a->bind, NULL, &a->config, &a->service, &a->since, &a->until};
            if (k - 1 == 1 && !parse_port(v, &a->port))
                return usage_error(cmd, "--port must be 0..65535, not", v);
            if (dst[k - 1] != NULL)
                *dst[k - 1] = v;
        } else if (strcmp(argv[i], "--dev") == 0) {
            a->dev = true;
        } else if (strcmp(argv[i], "--fetch") == 0) {
            a->fetch = true;
        } else if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--csv") == 0) {
            *(argv[i][2] == 'j' ? &a->json : &a->csv) = true;
        } else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && a->input == NULL) {
            a->input = argv[i];
        } else {
            return usage_error(cmd, "unknown argument", argv[i]);
        }
    }
    return 0;
}

/* Config and engine for any command; prints why and returns EXIT_USAGE on failure. */
static int load(const char *cmd, const struct args *a, struct cfg *cfg,
                struct myocds_engine **engine)
{
    struct myocds_err err = {0};
    if (cfg_load(a->config, cfg, &err) != 0) {
        fprintf(stderr, "myocds %s: %s\n", cmd, err.msg);
        return EXIT_USAGE;
    }
    log_set_level(cfg->log_level);
    if (myocds_engine_load(cfg->hooks_dir, engine, &err) != 0) {
        fprintf(stderr, "myocds %s: hooks %s: %s\n", cmd, cfg->hooks_dir, err.msg);
        cfg_free(cfg);
        return EXIT_USAGE;
    }
    return 0;
}

/* The FHIR client of cfg (allow list, timeouts); prints why and returns EXIT_USAGE on
 * failure. Caller owns *out: fhir_client_free() it. */
static int fhir_open(const char *cmd, const struct cfg *cfg, struct fhir_client **out)
{
    struct myocds_err err = {0};
    const struct fhir_client_opts o = {.allowed_servers =
                                           (const char *const *)cfg->fhir_allowed_servers,
                                       .n_allowed = cfg->n_fhir_allowed_servers,
                                       .timeout_ms = cfg->fhir_timeout_ms,
                                       .deadline_ms = cfg->fhir_deadline_ms,
                                       .ca_file = cfg->fhir_ca_file};
    if (fhir_client_new(&o, out, &err) != 0) {
        fprintf(stderr, "myocds %s: config: %s\n", cmd, err.msg);
        return EXIT_USAGE;
    }
    return 0;
}

/* Blocks SIGINT/SIGTERM here and in every thread started later, so sigwait gets them. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int run_server(const struct args *a, const struct cfg *cfg,
                      const struct myocds_engine *engine, struct store *store,
                      struct fhir_client *fhir)
{
    struct myocds_err err = {0};
    struct http_server *srv = NULL;
    sigset_t set;
    int sig = 0;
    block_signals(&set); /* again: cmd_serve blocked them already, this fills set */
    struct http_server_opts o = {.cfg = cfg,
                                 .engine = engine,
                                 .store = store,
                                 .fhir = fhir,
                                 .bind = a->bind,
                                 .port = a->port,
                                 .dev = a->dev};
    if (http_server_start(&o, &srv, &err) != 0) {
        fprintf(stderr, "myocds serve: %s\n", err.msg);
        return err.http_status == 400 ? EXIT_USAGE : EXIT_FAILURE;
    }
    if (a->dev)
        log_warnx("DEV MODE: calls are accepted WITHOUT a JWT. Never expose this listener; "
                  "never use it with real patient data.");
    log_notice("listening on %s", http_server_url(srv));
    while (sigwait(&set, &sig) != 0 || sig == SIGHUP) {
        if (sig == SIGHUP)
            http_server_reload(srv, a->config);
        sig = 0;
    }
    log_notice("signal %d: no new connections, draining requests in flight", sig);
    http_server_stop(srv, HTTP_DRAIN_MS);
    log_notice("stopped");
    return EXIT_SUCCESS;
}

static int cmd_serve(int argc, char **argv)
{
    struct args a = {.bind = DEFAULT_BIND, .port = DEFAULT_PORT};
    struct cfg cfg;
    struct myocds_engine *engine = NULL;
    struct store *store = NULL;
    struct fhir_client *fhir = NULL;
    struct myocds_err err = {0};
    sigset_t set;
    int rc = parse_args("serve", argc, argv, &a);
    if (rc != 0)
        return rc;
    block_signals(&set); /* a SIGTERM during start-up waits for sigwait: a clean stop */
    if (a.service != NULL || a.input != NULL || a.fetch)
        return usage_error("serve", "takes only --bind, --port, --config, --dev", NULL);
    if (a.dev && !http_is_loopback(a.bind)) {
        fprintf(stderr,
                "myocds serve: --dev is refused on %s: it accepts calls without a JWT, "
                "so it binds only to a loopback address (127.0.0.0/8, ::1, localhost)\n",
                a.bind);
        return EXIT_USAGE;
    }
    if ((rc = load("serve", &a, &cfg, &engine)) != 0)
        return rc;
    rc = fhir_open("serve", &cfg, &fhir);
    if (rc == 0 && store_open(&cfg, &store, &err) != 0) {
        fprintf(stderr, "myocds serve: feedback store in %s: %s\n", cfg.data_dir, err.msg);
        rc = EXIT_FAILURE;
    } else if (rc == 0) {
        rc = run_server(&a, &cfg, engine, store, fhir);
    }
    store_close(store);
    fhir_client_free(fhir);
    myocds_engine_free(engine);
    cfg_free(&cfg);
    return rc;
}

/* Reads all of path ("-" or NULL: stdin) up to EVAL_INPUT_MAX; caller frees *out. */
static int read_input(const char *cmd, const char *path, char **out, size_t *len)
{
    bool std = path == NULL || strcmp(path, "-") == 0;
    FILE *f = std ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "myocds %s: cannot open %s: %s\n", cmd, path, strerror(errno));
        return EXIT_USAGE;
    }
    char *buf = malloc(EVAL_INPUT_MAX + 1);
    size_t n = buf != NULL ? fread(buf, 1, EVAL_INPUT_MAX + 1, f) : 0;
    bool bad = buf == NULL || ferror(f) != 0;
    if (!std)
        fclose(f);
    if (bad || n > EVAL_INPUT_MAX) {
        fprintf(stderr, "myocds %s: input unreadable or larger than %zu bytes\n", cmd,
                EVAL_INPUT_MAX);
        free(buf);
        return EXIT_USAGE;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int cmd_eval(int argc, char **argv)
{
    struct args a = {0};
    struct cfg cfg;
    struct myocds_engine *engine = NULL;
    struct myocds_err err = {0};
    struct myocds_eval_opts opts = {0};
    struct fhir_call call = {NULL, NULL, NULL};
    char *in = NULL;
    char *out = NULL;
    size_t in_len = 0;
    size_t out_len = 0;
    int rc = parse_args("eval", argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.service == NULL)
        return usage_error("eval", "--service ID is required", NULL);
    if ((rc = load("eval", &a, &cfg, &engine)) != 0)
        return rc;
    if (a.fetch && (rc = fhir_open("eval", &cfg, &call.client)) == 0) {
        opts.fetch = fhir_fetch;
        opts.fetch_ctx = &call;
    }
    if (rc == 0 && (rc = read_input("eval", a.input, &in, &in_len)) == 0) {
        if (myocds_evaluate(engine, a.service, in, in_len, &opts, &out, &out_len, &err) != 0) {
            fprintf(stderr, "myocds eval: %s (HTTP %d)\n", err.msg, err.http_status);
            rc = err.http_status >= 500 ? EXIT_FAILURE : EXIT_USAGE;
        } else {
            fwrite(out, 1, out_len, stdout);
            fputc('\n', stdout);
            rc = fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
        }
    }
    free(out);
    free(in);
    fhir_client_free(call.client);
    myocds_engine_free(engine);
    cfg_free(&cfg);
    return rc;
}

static int cmd_services(int argc, char **argv)
{
    struct args a = {0};
    struct cfg cfg;
    struct myocds_engine *engine = NULL;
    size_t len = 0;
    int rc = parse_args("services", argc, argv, &a);
    if (rc != 0)
        return rc;
    if ((rc = load("services", &a, &cfg, &engine)) != 0)
        return rc;
    const char *doc = myocds_discovery_json(engine, &len);
    fwrite(doc, 1, len, stdout);
    fputc('\n', stdout);
    rc = fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    myocds_engine_free(engine);
    cfg_free(&cfg);
    return rc;
}

static int cmd_report(int argc, char **argv)
{
    struct args a = {0};
    struct cfg cfg;
    struct store *store = NULL;
    struct myocds_err err = {0};
    int rc = parse_args("report", argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.bind != NULL || a.service != NULL || a.input != NULL || a.dev || a.fetch)
        return usage_error("report", "takes only --config, --json, --csv, --since, --until", NULL);
    if (a.json && a.csv)
        return usage_error("report", "--json and --csv exclude each other", NULL);
    if (cfg_load(a.config, &cfg, &err) != 0) {
        fprintf(stderr, "myocds report: %s\n", err.msg);
        return EXIT_USAGE;
    }
    log_set_level(cfg.log_level);
    if (store_open(&cfg, &store, &err) != 0) {
        fprintf(stderr, "myocds report: feedback store: %s\n", err.msg);
        rc = EXIT_FAILURE;
    } else if (store_report_print(store, a.since, a.until,
                                  a.json  ? REPORT_JSON
                                  : a.csv ? REPORT_CSV
                                          : REPORT_TEXT,
                                  stdout, &err) != 0) {
        fprintf(stderr, "myocds report: %s\n", err.msg);
        rc = err.http_status == 400 ? EXIT_USAGE : EXIT_FAILURE;
    }
    store_close(store);
    cfg_free(&cfg);
    return rc;
}

/* --url, --key, --iss, --kid, --alg, --aud into v[0..5], the request file into *input. */
static int parse_call(int argc, char **argv, const char *v[6], const char **input)
{
    static const char *const names[] = {"--url", "--key", "--iss", "--kid", "--alg", "--aud"};
    for (int i = 2; i < argc; i++) {
        int got = 0;
        for (size_t k = 0; k < 6 && got == 0; k++)
            got = opt_value(argc, argv, &i, names[k], &v[k]);
        if (got < 0)
            return usage_error("call", "missing value after", argv[i]);
        if (got == 0 && *input == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
            *input = argv[i];
        else if (got == 0)
            return usage_error("call", "unknown argument", argv[i]);
    }
    if (v[0] == NULL || v[1] == NULL || v[2] == NULL || *input == NULL)
        return usage_error("call", "--url, --key, --iss and a request FILE are required", NULL);
    return 0;
}

static int cmd_call(int argc, char **argv)
{
    const char *v[6] = {NULL};
    const char *input = NULL;
    struct myocds_err err = {0};
    char *body = NULL, *resp = NULL;
    size_t len = 0, resp_len = 0;
    long status = 0;
    int rc = parse_call(argc, argv, v, &input);
    if (rc != 0 || (rc = read_input("call", input, &body, &len)) != 0)
        return rc;
    struct auth_call_opts o = {.url = v[0],
                               .key_path = v[1],
                               .iss = v[2],
                               .kid = v[3],
                               .alg = v[4],
                               .aud = v[5],
                               .body = body,
                               .body_len = len};
    if (auth_call(&o, &status, &resp, &resp_len, &err) != 0) {
        fprintf(stderr, "myocds call: %s\n", err.msg);
        rc = err.http_status == 400 ? EXIT_USAGE : EXIT_FAILURE;
    } else {
        fwrite(resp, 1, resp_len, stdout);
        if (resp_len > 0 && resp[resp_len - 1] != '\n')
            fputc('\n', stdout);
        if (status != 200)
            fprintf(stderr, "myocds call: HTTP %ld\n", status);
        rc = fflush(stdout) == 0 && status == 200 ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    free(resp);
    free(body);
    return rc;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc < 2)
        return usage_error("", "a command is required", NULL);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return EXIT_SUCCESS;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("myocds %s\n", MYOCDS_VERSION);
        return EXIT_SUCCESS;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "myocds: libcurl initialisation failed\n");
        return EXIT_FAILURE;
    }
    if (strcmp(argv[1], "serve") == 0)
        rc = cmd_serve(argc, argv);
    else if (strcmp(argv[1], "eval") == 0)
        rc = cmd_eval(argc, argv);
    else if (strcmp(argv[1], "services") == 0)
        rc = cmd_services(argc, argv);
    else if (strcmp(argv[1], "call") == 0)
        rc = cmd_call(argc, argv);
    else if (strcmp(argv[1], "report") == 0)
        rc = cmd_report(argc, argv);
    else
        rc = usage_error(argv[1], "unknown command", NULL);
    curl_global_cleanup();
    return rc;
}

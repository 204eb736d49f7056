/* args.c - each command's options (getopt_long) and usage, and how a command loads what
 * it needs. */
#include "cli/cli.h"
#include "util/file.h"
#include "util/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_INPUT_MAX ((size_t)16 << 20) /* the largest request `eval` or `call` reads */

#define CLI_EXIT_CODES                                                                             \
    "\nexit status: 0 success; 1 a failure of the service or of what it called (for call:\n"       \
    "an answer other than HTTP 200); 2 bad arguments, config, hooks or input.\n"

#define USAGE_SERVE "myocds serve [--bind ADDR] [--port N] [--config FILE] [--dev]\n"
#define USAGE_EVAL "myocds eval --service ID [--config FILE] [--fetch] [FILE|-]\n"
#define USAGE_SERVICES "myocds services [--config FILE]\n"
#define USAGE_REPORT                                                                               \
    "myocds report [--config FILE] [--json|--csv|--html FILE] [--since DATE] [--until DATE]\n"
#define USAGE_CALL                                                                                 \
    "myocds call --url URL --key KEY.pem --iss ISS [--kid KID] [--alg ALG] [--aud AUD] FILE|-\n"

#define HELP_SERVE                                                                                 \
    "  serve     answer CDS Hooks calls over HTTP (default 127.0.0.1:8080; --port 0 takes a\n"     \
    "            free port). --dev accepts calls without a JWT, on a loopback address only.\n"
#define HELP_EVAL                                                                                  \
    "  eval      evaluate one CDS Hooks request (a file, or stdin) offline; print the cards.\n"    \
    "            --fetch reads the prefetch keys it lacks from its fhirServer (only servers\n"     \
    "            listed in the config's fhir.allowed_servers)\n"
#define HELP_SERVICES "  services  print the discovery document\n"
#define HELP_REPORT                                                                                \
    "  report    per rule: cards issued, accepted, overridden, no feedback, acceptance rate\n"     \
    "            and its 95 % Wilson interval, top override reasons and their categories,\n"       \
    "            cards per 100 calls; per service calls, cards and cards per 100 calls;\n"         \
    "            from the feedback store; a table, or --json / --csv. --html FILE\n"               \
    "            (- for stdout) writes the governance committee's page: one HTML file\n"           \
    "            with charts, no script. DATE is YYYY-MM-DD (--until includes that day)\n"         \
    "            or YYYY-MM-DDTHH:MM:SSZ\n"
#define HELP_CALL                                                                                  \
    "  call      sign a JWT with KEY.pem as issuer ISS (alg from the key, kid its RFC 7638\n"      \
    "            thumbprint, aud URL without /feedback) and POST FILE to URL as an EHR\n"          \
    "            would; print the answer; exit 0 on HTTP 200, else 1\n"

const char cli_usage[] =
    "usage: " USAGE_SERVE "       " USAGE_EVAL "       " USAGE_SERVICES "       " USAGE_REPORT
    "       " USAGE_CALL "       myocds CMD --help | myocds --help | myocds --version\n"
    "\n" HELP_SERVE HELP_EVAL HELP_SERVICES HELP_CALL HELP_REPORT CLI_EXIT_CODES;

/* Every option of every command: getopt_long's table; the short codes name them. */
static const struct option cli_options[] = {
    {"bind", required_argument, NULL, 'b'},
    {"port", required_argument, NULL, 'p'},
    {"config", required_argument, NULL, 'c'},
    {"dev", no_argument, NULL, 'd'},
    {"service", required_argument, NULL, 's'},
    {"fetch", no_argument, NULL, 'f'},
    {"json", no_argument, NULL, 'j'},
    {"csv", no_argument, NULL, 'v'},
    {"since", required_argument, NULL, 'S'},
    {"until", required_argument, NULL, 'U'},
    {"url", required_argument, NULL, 'u'},
    {"key", required_argument, NULL, 'k'},
    {"iss", required_argument, NULL, 'i'},
    {"kid", required_argument, NULL, 'K'},
    {"alg", required_argument, NULL, 'a'},
    {"aud", required_argument, NULL, 'A'},
    {"html", required_argument, NULL, 'H'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* What each command takes: its option codes, whether it reads a FILE, its usage. */
static const struct cli_spec {
    const char *name;
    const char *takes;
    bool input;
    const char *usage;
} cli_specs[] = {
    {"serve", "bpcdh", false, "usage: " USAGE_SERVE "\n" HELP_SERVE CLI_EXIT_CODES},
    {"eval", "scfh", true, "usage: " USAGE_EVAL "\n" HELP_EVAL CLI_EXIT_CODES},
    {"services", "ch", false, "usage: " USAGE_SERVICES "\n" HELP_SERVICES CLI_EXIT_CODES},
    {"report", "cjvHSUh", false, "usage: " USAGE_REPORT "\n" HELP_REPORT CLI_EXIT_CODES},
    {"call", "ukiKaAh", true, "usage: " USAGE_CALL "\n" HELP_CALL CLI_EXIT_CODES},
};

int cli_usage_error(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "myocds %s: %s%s%s (see myocds %s%s--help)\n", cmd, what,
            arg != NULL ? " " : "", arg != NULL ? arg : "", cmd, cmd[0] != '\0' ? " " : "");
    return CLI_EXIT_USAGE;
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

static const struct cli_spec *spec_of(const char *cmd)
{
    for (size_t i = 0; i < sizeof cli_specs / sizeof cli_specs[0]; i++)
        if (strcmp(cli_specs[i].name, cmd) == 0)
            return &cli_specs[i];
    return NULL;
}

/* The long name of option code c. */
static const char *name_of(int c)
{
    for (const struct option *o = cli_options; o->name != NULL; o++)
        if (o->val == c)
            return o->name;
    return "?";
}

/* Stores option c's value v in a; 0, or CLI_EXIT_USAGE. */
static int store_opt(const char *cmd, int c, const char *v, struct args *a)
{
    const char **dst = NULL;
    switch (c) {
    case 'p':
        return parse_port(v, &a->port) ? 0
                                       : cli_usage_error(cmd, "--port must be 0..65535, not", v);
    case 'd':
        a->dev = true;
        return 0;
    case 'f':
        a->fetch = true;
        return 0;
    case 'j':
        a->json = true;
        return 0;
    case 'v':
        a->csv = true;
        return 0;
    case 'b':
        dst = &a->bind;
        break;
    case 'c':
        dst = &a->config;
        break;
    case 's':
        dst = &a->service;
        break;
    case 'H':
        dst = &a->html;
        break;
    case 'S':
        dst = &a->since;
        break;
    case 'U':
        dst = &a->until;
        break;
    case 'u':
        dst = &a->url;
        break;
    case 'k':
        dst = &a->key;
        break;
    case 'i':
        dst = &a->iss;
        break;
    case 'K':
        dst = &a->kid;
        break;
    case 'a':
        dst = &a->alg;
        break;
    case 'A':
        dst = &a->aud;
        break;
    default:
        return cli_usage_error(cmd, "unknown option", NULL);
    }
    *dst = v;
    return 0;
}

int cli_parse_args(const char *cmd, int argc, char **argv, struct args *a)
{
    const struct cli_spec *spec = spec_of(cmd);
    char *const *args = argv + 1; /* args[0] is the command: getopt starts after it */
    int n = argc - 1;
    int c;
    if (spec == NULL)
        return cli_usage_error(cmd, "unknown command", NULL);
    opterr = 0;
    optind = 0; /* glibc: start afresh */
    while ((c = getopt_long(n, args, ":h", cli_options, NULL)) != -1) {
        const char *bad = args[optind - 1];
        if (c == '?')
            return cli_usage_error(cmd, "unknown option", bad);
        if (c == ':')
            return cli_usage_error(cmd, "missing value after", bad);
        if (strchr(spec->takes, c) == NULL) {
            fprintf(stderr, "myocds %s: --%s is not an option of %s (see myocds %s --help)\n", cmd,
                    name_of(c), cmd, cmd);
            return CLI_EXIT_USAGE;
        }
        if (c == 'h') {
            fputs(spec->usage, stdout);
            return CLI_HELP;
        }
        int rc = store_opt(cmd, c, optarg, a);
        if (rc != 0)
            return rc;
    }
    for (int i = optind; i < n; i++) {
        if (!spec->input || a->input != NULL)
            return cli_usage_error(cmd, "unexpected argument", args[i]);
        a->input = args[i];
    }
    return 0;
}

/* Config and engine for any command; prints why and returns CLI_EXIT_USAGE on failure. */
int cli_load(const char *cmd, const struct args *a, struct cfg *cfg, struct myocds_engine **engine)
{
    struct myocds_err err = {0};
    if (cfg_load(a->config, cfg, &err) != 0) {
        fprintf(stderr, "myocds %s: %s\n", cmd, err.msg);
        return CLI_EXIT_USAGE;
    }
    log_set_level(cfg->log_level);
    if (myocds_engine_load(cfg->hooks_dir, engine, &err) != 0) {
        fprintf(stderr, "myocds %s: hooks %s: %s\n", cmd, cfg->hooks_dir, err.msg);
        cfg_free(cfg);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* The FHIR client of cfg (allow list, timeouts); prints why and returns CLI_EXIT_USAGE on
 * failure. Caller owns *out: fhir_client_free() it. */
int cli_fhir_open(const char *cmd, const struct cfg *cfg, struct fhir_client **out)
{
    struct myocds_err err = {0};
    const struct fhir_client_opts o = {
        .allowed_servers = (const char *const *)cfg->fhir_allowed_servers,
        .n_allowed = cfg->n_fhir_allowed_servers,
        .anonymous_servers = (const char *const *)cfg->fhir_anonymous_servers,
        .n_anonymous = cfg->n_fhir_anonymous_servers,
        .timeout_ms = cfg->fhir_timeout_ms,
        .deadline_ms = cfg->fhir_deadline_ms,
        .ca_file = cfg->fhir_ca_file};
    if (fhir_client_new(&o, out, &err) != 0) {
        fprintf(stderr, "myocds %s: config: %s\n", cmd, err.msg);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_read_input(const char *cmd, const char *path, char **out, size_t *len)
{
    struct myocds_err err = {0};
    *out = file_read(path != NULL ? path : "-", CLI_INPUT_MAX, len, &err);
    if (*out == NULL) {
        fprintf(stderr, "myocds %s: %s\n", cmd, err.msg);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

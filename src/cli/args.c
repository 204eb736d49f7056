/* args.c - the options every command shares, and how a command loads what it needs. */
#include "cli/cli.h"
#include "util/file.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_INPUT_MAX ((size_t)16 << 20) /* the largest request `eval` or `call` reads */

const char cli_usage[] =
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

int cli_usage_error(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "myocds %s: %s%s%s (see myocds --help)\n", cmd, what, arg != NULL ? " " : "",
            arg != NULL ? arg : "");
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

/* "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past a separate value. */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **out)
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

int cli_parse_args(const char *cmd, int argc, char **argv, struct args *a)
{
    static const char *const names[] = {"--bind",    "--port",  "--config",
                                        "--service", "--since", "--until"};
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int k = 0;
        int got = 0;
        for (; k < 6 && got == 0; k++)
            got = cli_opt_value(argc, argv, &i, names[k], &v);
        if (got < 0)
            return cli_usage_error(cmd, "missing value after", argv[i]);
        if (got > 0) {
            const char **dst[] = {&a->bind, NULL, &a->config, &a->service, &a->since, &a->until};
            if (k - 1 == 1 && !parse_port(v, &a->port))
                return cli_usage_error(cmd, "--port must be 0..65535, not", v);
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
            return cli_usage_error(cmd, "unknown argument", argv[i]);
        }
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

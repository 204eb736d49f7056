/* cli.h - what the commands of the myocds executable share: their options, how a
 * command loads the config and the engine, and the commands themselves.
 *
 * Each command returns the process exit status: 0, 1 (a failure of the service or of
 * what it calls) or CLI_EXIT_USAGE (bad arguments, config, hooks or input).
 */
#ifndef MYOCDS_CLI_CLI_H
#define MYOCDS_CLI_CLI_H

#include "fhir/client.h"
#include "myocds/myocds.h"
#include "store/report.h"
#include "util/config.h"

#include <stdbool.h>
#include <stddef.h>

#define CLI_EXIT_USAGE 2 /* bad arguments, config, hooks or input */

extern const char cli_usage[]; /* every command, and the exit statuses */

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
    const char *html; /* report --html FILE ("-": stdout) */
    const char *url;  /* call */
    const char *key;
    const char *iss;
    const char *kid;
    const char *alg;
    const char *aud;
};

#define CLI_HELP (-1) /* cli_parse_args printed the command's usage: exit 0 */

/* Prints "myocds CMD: WHAT ARG" and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *what, const char *arg);

/* Parses argv[2..] (argv[1] is cmd) with getopt_long into a (strings borrowed from argv):
 * only the options cmd takes ("--name VALUE" or "--name=VALUE"), and a FILE for eval and
 * call. 0; CLI_HELP when --help printed cmd's usage on stdout; else CLI_EXIT_USAGE, the
 * reason printed. */
int cli_parse_args(const char *cmd, int argc, char **argv, struct args *a);

/* Config and engine for any command; prints why on failure. On success the caller owns
 * both: cfg_free() and myocds_engine_free(). */
int cli_load(const char *cmd, const struct args *a, struct cfg *cfg, struct myocds_engine **engine);

/* The FHIR client of cfg; prints why on failure. Caller owns *out: fhir_client_free(). */
int cli_fhir_open(const char *cmd, const struct cfg *cfg, struct fhir_client **out);

/* All of path ("-" or NULL: stdin) up to CLI_INPUT_MAX bytes; caller frees *out. */
int cli_read_input(const char *cmd, const char *path, char **out, size_t *len);

int cmd_serve(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_services(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_call(int argc, char **argv);

/* Fills *out with what engine (loaded from hooks_dir, borrowed) puts in force: the rules
 * switched off and the thresholds; its strings are borrowed from engine. 0, or -1 when out
 * of memory. Free with cli_in_force_free(). */
int cli_in_force(const struct myocds_engine *engine, const char *hooks_dir,
                 struct report_in_force *out);
void cli_in_force_free(struct report_in_force *f);

#endif

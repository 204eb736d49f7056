/* commands.c - the one-shot commands: eval, services, report and call. */
#include "auth/client.h"
#include "cli/cli.h"
#include "store/report.h"
#include "store/store.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_eval(int argc, char **argv)
{
    struct args a = {0};
    struct cfg cfg;
    struct myocds_engine *engine = NULL;
    struct myocds_err err = {0};
    struct myocds_eval_opts opts = {0};
    struct fhir_call call = {NULL, NULL, NULL, NULL, 0};
    char *in = NULL;
    char *out = NULL;
    size_t in_len = 0;
    size_t out_len = 0;
    int rc = cli_parse_args("eval", argc, argv, &a);
    if (rc != 0)
        return rc == CLI_HELP ? EXIT_SUCCESS : rc;
    if (a.service == NULL)
        return cli_usage_error("eval", "--service ID is required", NULL);
    if ((rc = cli_load("eval", &a, &cfg, &engine)) != 0)
        return rc;
    opts.client = cfg_client(&cfg, NULL); /* no JWT: the "default" client */
    if (a.fetch && (rc = cli_fhir_open("eval", &cfg, &call.client)) == 0) {
        opts.fetch = fhir_fetch;
        opts.fetch_ctx = &call;
    }
    if (rc == 0 && (rc = cli_read_input("eval", a.input, &in, &in_len)) == 0) {
        if (myocds_evaluate(engine, a.service, in, in_len, &opts, &out, &out_len, &err) != 0) {
            fprintf(stderr, "myocds eval: %s (HTTP %d)\n", err.msg, err.http_status);
            rc = err.http_status >= 500 ? EXIT_FAILURE : CLI_EXIT_USAGE;
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

int cmd_services(int argc, char **argv)
{
    struct args a = {0};
    struct cfg cfg;
    struct myocds_engine *engine = NULL;
    size_t len = 0;
    int rc = cli_parse_args("services", argc, argv, &a);
    if (rc != 0)
        return rc == CLI_HELP ? EXIT_SUCCESS : rc;
    if ((rc = cli_load("services", &a, &cfg, &engine)) != 0)
        return rc;
    const char *doc = myocds_discovery_json(engine, &len);
    fwrite(doc, 1, len, stdout);
    fputc('\n', stdout);
    rc = fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    myocds_engine_free(engine);
    cfg_free(&cfg);
    return rc;
}

/* report_category_fn over the engine's rules. */
static const char *reason_category(void *ctx, const char *rule, const char *system,
                                   const char *code)
{
    return myocds_reason_category(ctx, rule, system, code);
}

/* Where the report goes: stdout, or --html's FILE opened for writing (the caller closes
 * it). NULL, the reason printed, when it cannot be opened. */
static FILE *report_out(const struct args *a)
{
    if (a->html == NULL || strcmp(a->html, "-") == 0)
        return stdout;
    FILE *f = fopen(a->html, "w");
    if (f == NULL)
        fprintf(stderr, "myocds report: cannot write %s: %s\n", a->html, strerror(errno));
    return f;
}

int cmd_report(int argc, char **argv)
{
    struct args a = {0};
    struct cfg cfg;
    struct myocds_engine *engine = NULL;
    struct store *store = NULL;
    struct myocds_err err = {0};
    FILE *out = NULL;
    int rc = cli_parse_args("report", argc, argv, &a);
    if (rc != 0)
        return rc == CLI_HELP ? EXIT_SUCCESS : rc;
    if ((int)a.json + (int)a.csv + (int)(a.html != NULL) > 1)
        return cli_usage_error("report", "--json, --csv and --html exclude each other", NULL);
    if ((rc = cli_load("report", &a, &cfg, &engine)) != 0) /* the reasons' categories */
        return rc;
    enum report_format fmt = a.json   ? REPORT_JSON
                             : a.csv  ? REPORT_CSV
                             : a.html ? REPORT_HTML
                                      : REPORT_TEXT;
    struct report_in_force in_force = {0};
    if (cli_in_force(engine, cfg.hooks_dir, &in_force) != 0) {
        fprintf(stderr, "myocds report: out of memory\n");
        rc = EXIT_FAILURE;
    } else if (store_open(&cfg, &store, &err) != 0) {
        fprintf(stderr, "myocds report: feedback store: %s\n", err.msg);
        rc = EXIT_FAILURE;
    } else if ((out = report_out(&a)) == NULL) {
        rc = EXIT_FAILURE;
    } else if (store_report_print(store, a.since, a.until, fmt, reason_category, engine, &in_force,
                                  out, &err) != 0) {
        fprintf(stderr, "myocds report: %s\n", err.msg);
        rc = err.http_status == 400 ? CLI_EXIT_USAGE : EXIT_FAILURE;
    }
    if (out != NULL && out != stdout) {
        if (fclose(out) != 0 && rc == 0) {
            fprintf(stderr, "myocds report: cannot write %s: %s\n", a.html, strerror(errno));
            rc = EXIT_FAILURE;
        }
        if (rc != 0)
            unlink(a.html); /* no half-written page left behind */
    }
    store_close(store);
    cli_in_force_free(&in_force);
    myocds_engine_free(engine);
    cfg_free(&cfg);
    return rc;
}

int cmd_call(int argc, char **argv)
{
    struct args a = {0};
    struct myocds_err err = {0};
    char *body = NULL, *resp = NULL;
    size_t len = 0, resp_len = 0;
    long status = 0;
    int rc = cli_parse_args("call", argc, argv, &a);
    if (rc != 0)
        return rc == CLI_HELP ? EXIT_SUCCESS : rc;
    if (a.url == NULL || a.key == NULL || a.iss == NULL || a.input == NULL)
        return cli_usage_error("call", "--url, --key, --iss and a request FILE are required", NULL);
    if ((rc = cli_read_input("call", a.input, &body, &len)) != 0)
        return rc;
    struct auth_call_opts o = {.url = a.url,
                               .key_path = a.key,
                               .iss = a.iss,
                               .kid = a.kid,
                               .alg = a.alg,
                               .aud = a.aud,
                               .body = body,
                               .body_len = len};
    if (auth_call(&o, &status, &resp, &resp_len, &err) != 0) {
        fprintf(stderr, "myocds call: %s\n", err.msg);
        rc = err.http_status == 400 ? CLI_EXIT_USAGE : EXIT_FAILURE;
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

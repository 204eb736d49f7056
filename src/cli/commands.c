/* commands.c - the one-shot commands: eval, services, report and call. */
#include "auth/client.h"
#include "cli/cli.h"
#include "store/report.h"
#include "store/store.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        return rc;
    if (a.service == NULL)
        return cli_usage_error("eval", "--service ID is required", NULL);
    if ((rc = cli_load("eval", &a, &cfg, &engine)) != 0)
        return rc;
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
        return rc;
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

int cmd_report(int argc, char **argv)
{
    struct args a = {0};
    struct cfg cfg;
    struct store *store = NULL;
    struct myocds_err err = {0};
    int rc = cli_parse_args("report", argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.bind != NULL || a.service != NULL || a.input != NULL || a.dev || a.fetch)
        return cli_usage_error("report", "takes only --config, --json, --csv, --since, --until",
                               NULL);
    if (a.json && a.csv)
        return cli_usage_error("report", "--json and --csv exclude each other", NULL);
    if (cfg_load(a.config, &cfg, &err) != 0) {
        fprintf(stderr, "myocds report: %s\n", err.msg);
        return CLI_EXIT_USAGE;
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
        rc = err.http_status == 400 ? CLI_EXIT_USAGE : EXIT_FAILURE;
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
            got = cli_opt_value(argc, argv, &i, names[k], &v[k]);
        if (got < 0)
            return cli_usage_error("call", "missing value after", argv[i]);
        if (got == 0 && *input == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
            *input = argv[i];
        else if (got == 0)
            return cli_usage_error("call", "unknown argument", argv[i]);
    }
    if (v[0] == NULL || v[1] == NULL || v[2] == NULL || *input == NULL)
        return cli_usage_error("call", "--url, --key, --iss and a request FILE are required", NULL);
    return 0;
}

int cmd_call(int argc, char **argv)
{
    const char *v[6] = {NULL};
    const char *input = NULL;
    struct myocds_err err = {0};
    char *body = NULL, *resp = NULL;
    size_t len = 0, resp_len = 0;
    long status = 0;
    int rc = parse_call(argc, argv, v, &input);
    if (rc != 0 || (rc = cli_read_input("call", input, &body, &len)) != 0)
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

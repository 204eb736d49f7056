/* main.c - the myocds command line: the table of commands, --help and --version. */
#include "cli/cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"serve", cmd_serve},   {"eval", cmd_eval}, {"services", cmd_services},
    {"report", cmd_report}, {"call", cmd_call},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(cli_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(cli_usage, stdout);
        return EXIT_SUCCESS;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("myocds %s\n", MYOCDS_VERSION);
        return EXIT_SUCCESS;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "myocds: libcurl initialisation failed\n");
            return EXIT_FAILURE;
        }
        int rc = commands[i].run(argc, argv);
        curl_global_cleanup();
        return rc;
    }
    fprintf(stderr, "myocds: unknown command %s (see myocds --help)\n", argv[1]);
    return CLI_EXIT_USAGE;
}

/* serve.c - `myocds serve`: start the HTTP server, wait for signals, drain and stop. */
#include "cds/repeat.h"
#include "cli/cli.h"
#include "http/reload.h"
#include "http/server.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BIND "127.0.0.1"
#define DEFAULT_PORT 8080U

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

/* repeat_shared_fn over the store: the memory of cards shown that replicas share. */
static int shown_in_store(void *ctx, const unsigned char key[REPEAT_KEY_BYTES], long window_s,
                          bool *seen)
{
    struct myocds_err err = {0};
    return store_card_shown(ctx, key, REPEAT_KEY_BYTES, window_s, seen, &err);
}

/* The memory of cards shown: keyed with the replicas' secret and backed by the store when
 * it is shared (PostgreSQL), else with a random secret, in memory only. Caller owns it
 * (repeat_free); NULL when out of memory. */
static struct myocds_repeat *open_repeat(struct store *store)
{
    unsigned char secret[REPEAT_SECRET_BYTES];
    bool shared =
        store_shares_cards_shown(store) && store_shown_secret(store, secret, sizeof secret) == 0;
    struct myocds_repeat *m = repeat_new(REPEAT_DEFAULT_MAX, shared ? secret : NULL);
    OPENSSL_cleanse(secret, sizeof secret);
    if (m != NULL && shared)
        repeat_set_shared(m, shown_in_store, store);
    return m;
}

static int run_server(const struct args *a, const struct cfg *cfg,
                      const struct myocds_engine *engine, struct store *store,
                      struct fhir_client *fhir, struct myocds_repeat *repeat)
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
                                 .repeat = repeat,
                                 .bind = a->bind,
                                 .port = a->port,
                                 .dev = a->dev};
    if (http_server_start(&o, &srv, &err) != 0) {
        fprintf(stderr, "myocds serve: %s\n", err.msg);
        return err.http_status == 400 ? CLI_EXIT_USAGE : EXIT_FAILURE;
    }
    if (a->dev)
        log_warnx("DEV MODE: calls are accepted WITHOUT a JWT. Never expose this listener; "
                  "never use it with real patient data.");
    for (size_t i = 0; i < cfg->n_fhir_anonymous_servers; i++)
        log_warnx("fhir.anonymous_servers: FHIR data is read from %s WITHOUT the EHR's token. "
                  "Only for a local test server; never with real patient data.",
                  cfg->fhir_anonymous_servers[i]);
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

int cmd_serve(int argc, char **argv)
{
    struct args a = {.bind = DEFAULT_BIND, .port = DEFAULT_PORT};
    struct cfg cfg;
    struct myocds_engine *engine = NULL;
    struct store *store = NULL;
    struct fhir_client *fhir = NULL;
    struct myocds_repeat *repeat = NULL;
    struct myocds_err err = {0};
    sigset_t set;
    int rc = cli_parse_args("serve", argc, argv, &a);
    if (rc != 0)
        return rc == CLI_HELP ? EXIT_SUCCESS : rc;
    block_signals(&set); /* a SIGTERM during start-up waits for sigwait: a clean stop */
    mem_keep_heap();     /* before any thread: memory kept between requests */
    if (a.dev && !http_is_loopback(a.bind)) {
        fprintf(stderr,
                "myocds serve: --dev is refused on %s: it accepts calls without a JWT, "
                "so it binds only to a loopback address (127.0.0.0/8, ::1, localhost)\n",
                a.bind);
        return CLI_EXIT_USAGE;
    }
    if ((rc = cli_load("serve", &a, &cfg, &engine)) != 0)
        return rc;
    rc = cli_fhir_open("serve", &cfg, &fhir);
    if (rc == 0 && store_open(&cfg, &store, &err) != 0) {
        fprintf(stderr, "myocds serve: feedback store in %s: %s\n", cfg.data_dir, err.msg);
        rc = EXIT_FAILURE;
    } else if (rc == 0 && (repeat = open_repeat(store)) == NULL) {
        fprintf(stderr, "myocds serve: cannot make the memory of cards shown\n");
        rc = EXIT_FAILURE;
    } else if (rc == 0) {
        rc = run_server(&a, &cfg, engine, store, fhir, repeat);
    }
    repeat_free(repeat);
    store_close(store);
    fhir_client_free(fhir);
    myocds_engine_free(engine);
    cfg_free(&cfg);
    return rc;
}

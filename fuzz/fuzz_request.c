/* fuzz_request.c - the request parser and the whole rule evaluation, as `serve` runs them.
 *
 * Each input is a request body, evaluated for every service (so an order-select body meets
 * the order-select service whatever its hook), with a fetcher that answers missing
 * prefetch keys in one of three ways chosen by the input's length: data, refusals, or a
 * failure of the fetcher itself. The engine is loaded once from $MYOCDS_HOOKS (else ./hooks);
 * one small memory of cards shown (as `serve` keeps) runs across the inputs.
 */
#include "cds/repeat.h"
#include "fuzz.h"
#include "myocds/myocds.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NOW 1773655200LL /* 2026-03-16, the fixtures' signing day */
#define FUZZ_REPEAT_MAX 64    /* small: inputs keep forgetting the oldest */
#define FUZZ_REPEAT_WINDOW_S 3600L
#define FUZZ_FETCH_MODES 3

static const char *const fuzz_services[] = {"myositis-order-sign", "myositis-order-select",
                                            "myositis-patient-view"};

/* The fetcher: mode 0 gives an empty searchset (a Patient for "patient"), mode 1 refuses
 * or fails item by item, mode 2 fails as a whole. Results are owned by the engine. */
static int fuzz_fetch(void *ctx, struct myocds_fetch_batch *batch, struct myocds_err *err)
{
    size_t mode = *(const size_t *)ctx % FUZZ_FETCH_MODES;
    if (mode == 2)
        return myocds_err_set(err, 503, "fetcher down");
    for (size_t i = 0; i < batch->n; i++) {
        struct myocds_fetch_item *it = &batch->items[i];
        if (mode == 1) {
            it->status = i % 2 == 0 ? MYOCDS_E_PRECONDITION : MYOCDS_E_UNAVAILABLE;
            continue;
        }
        bool patient = strcmp(it->key, "patient") == 0;
        it->result = json_tokener_parse(patient ? "{\"resourceType\":\"Patient\",\"id\":\"p\"}"
                                                : "{\"resourceType\":\"Bundle\",\"type\":"
                                                  "\"searchset\",\"entry\":[]}");
    }
    return 0;
}

/* Counts cards, and reads every string the engine hands out. */
static void fuzz_on_card(void *ctx, const char *service_id, const char *card_uuid,
                         const char *rule_id, const char *indicator)
{
    *(size_t *)ctx += strlen(service_id) + strlen(card_uuid) + strlen(rule_id) + strlen(indicator);
}

static struct myocds_engine *fuzz_engine(void)
{
    static struct myocds_engine *engine;
    struct myocds_err err = {0};
    const char *dir = getenv("MYOCDS_HOOKS");
    if (engine == NULL && myocds_engine_load(dir != NULL ? dir : "hooks", &engine, &err) != 0) {
        fprintf(stderr, "fuzz_request: cannot load hooks: %s\n", err.msg);
        abort(); /* no rules to fuzz: a broken setup, not a finding */
    }
    return engine;
}

/* The memory of cards shown, kept across inputs (each draft order's content digested, the
 * ring full and forgetting). Lives as long as the process. */
static struct myocds_repeat *fuzz_repeat(void)
{
    static struct myocds_repeat *m;
    static const unsigned char secret[REPEAT_SECRET_BYTES] = "fuzz-secret-fuzz-secret-fuzz-12";
    if (m == NULL && (m = repeat_new(FUZZ_REPEAT_MAX, secret)) == NULL)
        abort(); /* a broken setup, not a finding */
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct myocds_engine *engine = fuzz_engine();
    size_t cards = 0;
    struct myocds_eval_opts opts = {.fetch = fuzz_fetch,
                                    .fetch_ctx = &size,
                                    .on_card = fuzz_on_card,
                                    .card_ctx = &cards,
                                    .now = FUZZ_NOW,
                                    .repeat = fuzz_repeat(),
                                    .repeat_window_s = FUZZ_REPEAT_WINDOW_S};
    for (size_t i = 0; i < sizeof fuzz_services / sizeof fuzz_services[0]; i++) {
        struct myocds_err err = {0};
        char *out = NULL;
        size_t len = 0;
        int rc = myocds_evaluate(engine, fuzz_services[i], (const char *)data, size, &opts, &out,
                                 &len, &err);
        if (rc == 0 && (out == NULL || strlen(out) != len))
            abort(); /* an answer must be the NUL-terminated JSON of its length */
        if (rc != 0 && (out != NULL || err.http_status < 400 || err.http_status > 599))
            abort(); /* a refusal carries a 4xx/5xx and no answer */
        free(out);
    }
    return 0;
}

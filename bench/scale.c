/* scale.c - in-process cost of one CDS Hooks request: parse + evaluate + serialize.
 *
 * Usage: myocds_scale HOOKS_DIR FILE...  (requests for myositis-order-sign, e.g. with 10,
 * 100, 1,000 and 10,000 history resources from bench/gen_request.py). For each file it
 * times myocds_evaluate() (what `myocds serve` does for a POST, without HTTP) and, for
 * reference, json-c's strict parse of the same bytes alone; it times every call and
 * prints the fastest. Then the ratio
 * time(last) / time(the one before): 10x the resources should cost about 10x, not 100x.
 *
 * Or: myocds_scale --once HOOKS_DIR FILE  evaluates FILE once to warm up, then once more
 * inside scale_counted(), for valgrind --tool=callgrind --collect-atstart=no
 * --toggle-collect=scale_counted: the instructions of one evaluation, which neither the
 * machine's caches nor its other jobs change.
 */
#include "myocds/myocds.h"
#include "util/file.h"
#include "util/json.h"
#include "util/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCALE_SERVICE "myositis-order-sign"
#define SCALE_MAX_BYTES ((size_t)64 << 20) /* a request file, 64 MiB */
#define SCALE_SECONDS 2.0                  /* time spent on each measurement */
#define SCALE_MIN_RUNS 10                  /* and at least this many calls */
#define SCALE_NOW 1773655200LL             /* 2026-03-16: the requests' signing day */
#define SCALE_FILES_MAX 16

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One full evaluation; returns its status and the number of cards' bytes in *out_len. */
static int eval_once(const struct myocds_engine *e, const char *body, size_t len, size_t *out_len)
{
    struct myocds_err err = {0};
    const struct myocds_eval_opts opts = {.now = SCALE_NOW};
    char *out = NULL;
    int rc = myocds_evaluate(e, SCALE_SERVICE, body, len, &opts, &out, out_len, &err);
    if (rc != 0)
        fprintf(stderr, "myocds_scale: evaluate: %s (HTTP %d)\n", err.msg, err.http_status);
    free(out);
    return rc;
}

/* json-c's strict parse alone, the floor of any evaluation. */
static int parse_once(const struct myocds_engine *e, const char *body, size_t len, size_t *out_len)
{
    struct myocds_err err = {0};
    json_object *root = json_parse_strict(body, len, &err);
    (void)e;
    *out_len = 0;
    json_object_put(root);
    return root != NULL ? 0 : -1;
}

typedef int (*scale_fn)(const struct myocds_engine *, const char *, size_t, size_t *);

/* The evaluation callgrind counts (--toggle-collect=scale_counted); called through a
 * volatile pointer so that it stays a function of its own. */
int scale_counted(const struct myocds_engine *e, const char *body, size_t len, size_t *out_len);
int scale_counted(const struct myocds_engine *e, const char *body, size_t len, size_t *out_len)
{
    return eval_once(e, body, len, out_len);
}

/* The request file at path (owned), or NULL after a message on stderr. */
static char *read_request(const char *path, size_t *len)
{
    struct myocds_err err = {0};
    char *body = file_read(path, SCALE_MAX_BYTES, len, &err);
    if (body == NULL)
        fprintf(stderr, "myocds_scale: %s: %s\n", path, err.msg);
    return body;
}

/* --once: a warm-up evaluation (the first one seeds OpenSSL's generator), then the
 * counted one. */
static int once(const struct myocds_engine *e, const char *path)
{
    static scale_fn volatile counted = scale_counted;
    size_t len = 0;
    size_t out_len = 0;
    char *body = read_request(path, &len);
    if (body == NULL)
        return -1;
    int rc = eval_once(e, body, len, &out_len);
    if (rc == 0)
        rc = counted(e, body, len, &out_len);
    free(body);
    return rc;
}

/* Seconds per call of fn over body: the fastest of the calls made in SCALE_SECONDS (at
 * least SCALE_MIN_RUNS), or < 0 when a call fails. The work is the same every call, so
 * the fastest is its cost; other jobs on the machine (and the hypervisor's steal) only
 * ever slow a call down, and a 200 ms call meets them more often than a 20 ms one. */
static double time_per_call(scale_fn fn, const struct myocds_engine *e, const char *body,
                            size_t len, size_t *out_len)
{
    double best = -1;
    if (fn(e, body, len, out_len) != 0) /* warm-up, and a check that it answers */
        return -1;
    double until = now_s() + SCALE_SECONDS;
    for (long runs = 0; runs < SCALE_MIN_RUNS || now_s() < until; runs++) {
        double start = now_s();
        if (fn(e, body, len, out_len) != 0)
            return -1;
        double took = now_s() - start;
        if (best < 0 || took < best)
            best = took;
    }
    return best;
}

/* Times one request file and prints its line; *per_req gets the evaluation seconds. */
static int measure_file(const struct myocds_engine *e, const char *path, double *per_req)
{
    size_t len = 0;
    size_t out_len = 0;
    char *body = read_request(path, &len);
    if (body == NULL)
        return -1;
    double t_eval = time_per_call(eval_once, e, body, len, &out_len);
    size_t unused = 0;
    double t_parse = time_per_call(parse_once, e, body, len, &unused);
    free(body);
    if (t_eval < 0 || t_parse < 0)
        return -1;
    printf("%-28s %10zu bytes  %10.3f ms/request  (json-c parse alone %8.3f ms, "
           "engine beyond the parse %8.3f ms; answer %zu bytes)\n",
           path, len, t_eval * 1e3, t_parse * 1e3, (t_eval - t_parse) * 1e3, out_len);
    *per_req = t_eval;
    return 0;
}

int main(int argc, char **argv)
{
    struct myocds_engine *engine = NULL;
    struct myocds_err err = {0};
    double t[SCALE_FILES_MAX];
    bool counting = argc == 4 && strcmp(argv[1], "--once") == 0;
    int n = argc - 2;
    if (!counting && (argc < 3 || n > SCALE_FILES_MAX)) {
        fprintf(stderr,
                "usage: myocds_scale HOOKS_DIR FILE... (at most %d files)\n"
                "       myocds_scale --once HOOKS_DIR FILE\n",
                SCALE_FILES_MAX);
        return 2;
    }
    mem_keep_heap(); /* the allocator settings of `myocds serve` */
    if (myocds_engine_load(argv[counting ? 2 : 1], &engine, &err) != 0) {
        fprintf(stderr, "myocds_scale: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (counting) {
        rc = once(engine, argv[3]);
        myocds_engine_free(engine);
        return rc == 0 ? 0 : 1;
    }
    for (int i = 0; i < n && rc == 0; i++)
        rc = measure_file(engine, argv[i + 2], &t[i]);
    if (rc == 0 && n >= 2)
        printf("ratio time(%s) / time(%s) = %.2f\n", argv[n + 1], argv[n], t[n - 1] / t[n - 2]);
    myocds_engine_free(engine);
    return rc == 0 ? 0 : 1;
}

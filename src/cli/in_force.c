/* in_force.c - what the loaded hooks put in force, gathered for the governance report
 * (report.h struct report_in_force) from the engine (myocds_in_force).
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

struct gather {
    struct report_in_force *out;
    bool failed; /* out of memory */
};

static void on_off(void *ctx, const char *service_id, const char *rule_id)
{
    struct gather *g = ctx;
    struct report_in_force *f = g->out;
    struct report_switch *v = realloc(f->off, (f->n_off + 1) * sizeof *v);
    if (v == NULL) {
        g->failed = true;
        return;
    }
    f->off = v;
    f->off[f->n_off++] = (struct report_switch){service_id, rule_id};
}

static void on_threshold(void *ctx, const char *name, double value)
{
    struct gather *g = ctx;
    struct report_in_force *f = g->out;
    struct report_threshold *v = realloc(f->thresholds, (f->n_thresholds + 1) * sizeof *v);
    if (v == NULL) {
        g->failed = true;
        return;
    }
    f->thresholds = v;
    char *own = strdup(name);
    if (own == NULL) {
        g->failed = true;
        return;
    }
    f->thresholds[f->n_thresholds++] = (struct report_threshold){own, value};
}

int cli_in_force(const struct myocds_engine *engine, const char *hooks_dir,
                 struct report_in_force *out)
{
    struct gather g = {out, false};
    memset(out, 0, sizeof *out);
    out->hooks_dir = hooks_dir;
    out->n_rules = (size_t)myocds_in_force(engine, on_off, on_threshold, &g);
    if (g.failed) {
        cli_in_force_free(out);
        return -1;
    }
    return 0;
}

void cli_in_force_free(struct report_in_force *f)
{
    free(f->off);
    for (size_t i = 0; i < f->n_thresholds; i++)
        free((char *)f->thresholds[i].name); /* strdup'd by on_threshold */
    free(f->thresholds);
    memset(f, 0, sizeof *f);
}

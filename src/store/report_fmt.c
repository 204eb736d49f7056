/* report_fmt.c - a report as a text table, JSON or CSV (the HTML page: report_html.c).
 *
 * Override reason codes come from clients: the table shows them printable-only and cut,
 * the CSV quotes every field and defuses spreadsheet formulas.
 */
#include "store/report.h"
#include "util/json.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE_TEXT_MAX REPORT_NUM_MAX
#define TABLE_CODE_MAX 40 /* a reason code as shown in the table */
#define RULE_COL_WIDTH 24

const char *store_report_num(double v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.4f", v);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '0' && buf[n - 2] != '.')
        buf[--n] = '\0';
    return buf;
}

/* The rate as text, or NULL when nothing was issued. */
static const char *rate_text(const struct report_rule *r, char *buf, size_t cap)
{
    return r->issued > 0 ? store_report_num((double)r->accepted / (double)r->issued, buf, cap)
                         : NULL;
}

/* A number of the report as JSON: 4 decimals at most, as the CSV shows it. */
static json_object *json_num(double v)
{
    char buf[RATE_TEXT_MAX];
    return json_object_new_double_s(v, store_report_num(v, buf, sizeof buf));
}

static json_object *rule_json(const struct report_rule *r)
{
    char rate[RATE_TEXT_MAX];
    const char *rt = rate_text(r, rate, sizeof rate);
    json_object *o = json_object_new_object();
    json_object *top = json_object_new_array();
    if (o == NULL || top == NULL) {
        json_object_put(o);
        json_object_put(top);
        return NULL;
    }
    json_object_object_add(o, "rule", json_object_new_string(r->rule));
    json_object_object_add(o, "issued", json_object_new_int64(r->issued));
    json_object_object_add(o, "accepted", json_object_new_int64(r->accepted));
    json_object_object_add(o, "overridden", json_object_new_int64(r->overridden));
    json_object_object_add(o, "acceptance_rate",
                           rt != NULL ? json_object_new_double_s(strtod(rt, NULL), rt) : NULL);
    json_object_object_add(o, "acceptance_ci_low", r->has_ci ? json_num(r->ci_low) : NULL);
    json_object_object_add(o, "acceptance_ci_high", r->has_ci ? json_num(r->ci_high) : NULL);
    json_object_object_add(o, "no_feedback", json_object_new_int64(r->no_feedback));
    for (size_t k = 0; k < r->n_reasons && k < STORE_TOP_REASONS; k++) {
        json_object *e = json_object_new_object();
        if (e == NULL)
            continue;
        const struct report_reason *x = &r->reasons[k];
        json_object_object_add(e, "system",
                               x->system[0] != '\0' ? json_object_new_string(x->system) : NULL);
        json_object_object_add(e, "code", json_object_new_string(x->code));
        json_object_object_add(e, "category",
                               x->category != NULL ? json_object_new_string(x->category) : NULL);
        json_object_object_add(e, "count", json_object_new_int64(x->count));
        json_object_array_add(top, e);
    }
    json_object_object_add(o, "top_override_reasons", top);
    json_object *cats = json_object_new_array();
    for (size_t k = 0; cats != NULL && k < r->n_categories; k++) {
        json_object *e = json_object_new_object();
        if (e == NULL)
            continue;
        json_object_object_add(e, "category",
                               r->categories[k].category != NULL
                                   ? json_object_new_string(r->categories[k].category)
                                   : NULL);
        json_object_object_add(e, "count", json_object_new_int64(r->categories[k].count));
        json_object_array_add(cats, e);
    }
    json_object_object_add(o, "override_categories", cats);
    json_object_object_add(o, "cards_per_100_calls",
                           r->has_per_100 ? json_num(r->cards_per_100_calls) : NULL);
    json_object *weeks = json_object_new_array();
    for (size_t k = 0; weeks != NULL && k < r->n_weeks; k++) {
        const struct report_week *w = &r->weeks[k];
        json_object *e = json_object_new_object();
        if (e == NULL)
            continue;
        json_object_object_add(e, "week", json_object_new_string(w->start));
        json_object_object_add(e, "issued", json_object_new_int64(w->issued));
        json_object_object_add(e, "accepted", json_object_new_int64(w->accepted));
        json_object_object_add(e, "overridden", json_object_new_int64(w->overridden));
        json_object_array_add(weeks, e);
    }
    json_object_object_add(o, "weeks", weeks);
    return o;
}

/* issued, accepted, overridden, no_feedback, acceptance_rate and its interval, into o. */
static void outcomes_json(json_object *o, const struct report_outcomes *v)
{
    json_object_object_add(o, "issued", json_object_new_int64(v->issued));
    json_object_object_add(o, "accepted", json_object_new_int64(v->accepted));
    json_object_object_add(o, "overridden", json_object_new_int64(v->overridden));
    json_object_object_add(o, "no_feedback", json_object_new_int64(v->no_feedback));
    json_object_object_add(o, "acceptance_rate", v->has_ci ? json_num(v->rate) : NULL);
    json_object_object_add(o, "acceptance_ci_low", v->has_ci ? json_num(v->ci_low) : NULL);
    json_object_object_add(o, "acceptance_ci_high", v->has_ci ? json_num(v->ci_high) : NULL);
}

static json_object *opt_string(const char *s)
{
    return s != NULL ? json_object_new_string(s) : NULL;
}

/* ehrs: [{iss, tenant, other, issued, ...}]; NULL when out of memory. */
static json_object *ehrs_json(const struct store_report *rep)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; a != NULL && i < rep->n_ehrs; i++) {
        const struct report_ehr *v = &rep->ehrs[i];
        json_object *e = json_object_new_object();
        if (e == NULL)
            continue;
        json_object_object_add(e, "iss", opt_string(v->iss));
        json_object_object_add(e, "tenant", opt_string(v->tenant));
        if (v->other)
            json_object_object_add(e, "other", json_object_new_boolean(1));
        outcomes_json(e, &v->out);
        json_object_array_add(a, e);
    }
    return a;
}

/* in_force: {hooks, rules_loaded, switched_off: [{service, rule}], thresholds: {name: v}}. */
static json_object *in_force_json(const struct report_in_force *f)
{
    json_object *o = json_object_new_object();
    json_object *off = json_object_new_array();
    json_object *th = json_object_new_object();
    if (o == NULL || off == NULL || th == NULL) {
        json_object_put(o);
        json_object_put(off);
        json_object_put(th);
        return NULL;
    }
    for (size_t i = 0; i < f->n_off; i++) {
        json_object *e = json_object_new_object();
        if (e == NULL)
            continue;
        json_object_object_add(e, "service", json_object_new_string(f->off[i].service));
        json_object_object_add(e, "rule", json_object_new_string(f->off[i].rule));
        json_object_array_add(off, e);
    }
    for (size_t i = 0; i < f->n_thresholds; i++)
        json_object_object_add(th, f->thresholds[i].name, json_num(f->thresholds[i].value));
    json_object_object_add(o, "hooks", opt_string(f->hooks_dir));
    json_object_object_add(o, "rules_loaded", json_object_new_int64((int64_t)f->n_rules));
    json_object_object_add(o, "switched_off", off);
    json_object_object_add(o, "thresholds", th);
    return o;
}

/* services: [{service, calls, cards, cards_per_100_calls, issued, ...}]; NULL when out of
 * memory. */
static json_object *services_json(const struct store_report *rep)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; a != NULL && i < rep->n_services; i++) {
        const struct report_service *v = &rep->services[i];
        json_object *e = json_object_new_object();
        if (e == NULL)
            continue;
        json_object_object_add(e, "service", json_object_new_string(v->service));
        json_object_object_add(e, "calls", json_object_new_int64(v->calls));
        json_object_object_add(e, "cards", json_object_new_int64(v->cards));
        json_object_object_add(e, "cards_per_100_calls",
                               v->has_per_100 ? json_num(v->cards_per_100_calls) : NULL);
        outcomes_json(e, &v->out);
        json_object_array_add(a, e);
    }
    return a;
}

static char *render_json(const struct store_report *rep, size_t *len)
{
    json_object *doc = json_object_new_object();
    json_object *rules = json_object_new_array();
    json_object *range = json_object_new_object();
    char *out = NULL;
    if (doc == NULL || rules == NULL || range == NULL)
        goto out;
    for (size_t i = 0; i < rep->n; i++)
        json_object_array_add(rules, rule_json(&rep->rules[i]));
    json_object_object_add(range, "since",
                           rep->range.since[0] != '\0' ? json_object_new_string(rep->range.since)
                                                       : NULL);
    json_object_object_add(range, "until",
                           rep->range.until[0] != '\0' ? json_object_new_string(rep->range.until)
                                                       : NULL);
    json_object_object_add(doc, "range", range);
    json_object_object_add(doc, "rules", rules);
    json_object_object_add(doc, "feedback_total", json_object_new_int64(rep->feedback_total));
    json_object_object_add(doc, "feedback_unmatched",
                           json_object_new_int64(rep->feedback_unmatched));
    json_object_object_add(doc, "services", services_json(rep));
    json_object_object_add(doc, "calls_total", json_object_new_int64(rep->calls_total));
    json_object_object_add(doc, "ehrs", ehrs_json(rep));
    json_object_object_add(doc, "in_force",
                           rep->in_force != NULL ? in_force_json(rep->in_force) : NULL);
    rules = range = NULL;
    out = json_dump(doc, len);
out:
    json_object_put(rules);
    json_object_put(range);
    json_object_put(doc);
    return out;
}

/* Writes s cut to cap - 1 bytes with anything but printable ASCII shown as '?'. */
static void put_printable(FILE *f, const char *s, size_t cap)
{
    for (size_t i = 0; s[i] != '\0' && i + 1 < cap; i++)
        fputc(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?', f);
}

static void table_row(FILE *f, const struct report_rule *r)
{
    char rate[RATE_TEXT_MAX];
    char pct[RATE_TEXT_MAX] = "-";
    if (rate_text(r, rate, sizeof rate) != NULL)
        snprintf(pct, sizeof pct, "%.1f%%", 100.0 * (double)r->accepted / (double)r->issued);
    fprintf(f, "%-*s %8lld %9lld %11lld %11s  ", RULE_COL_WIDTH, r->rule, r->issued, r->accepted,
            r->overridden, pct);
    for (size_t k = 0; k < r->n_reasons && k < STORE_TOP_REASONS; k++) {
        fputs(k > 0 ? ", " : "", f);
        put_printable(f, r->reasons[k].code, TABLE_CODE_MAX);
        fprintf(f, " (%lld)", r->reasons[k].count);
    }
    fputs(r->n_reasons == 0 ? "-\n" : "\n", f);
}

/* The alert burden: calls and cards per service, cards per 100 calls. */
static void render_calls(FILE *f, const struct store_report *rep)
{
    fputs("\nCalls per service\n", f);
    fprintf(f, "%-*s %8s %8s %19s\n", RULE_COL_WIDTH, "service", "calls", "cards",
            "cards per 100 calls");
    for (size_t i = 0; i < rep->n_services; i++) {
        const struct report_service *v = &rep->services[i];
        char per[RATE_TEXT_MAX] = "-";
        if (v->has_per_100)
            snprintf(per, sizeof per, "%.1f", v->cards_per_100_calls);
        size_t w = strlen(v->service);
        put_printable(f, v->service, RULE_COL_WIDTH + 1);
        fprintf(f, "%*s %8lld %8lld %19s\n", w < RULE_COL_WIDTH ? (int)(RULE_COL_WIDTH - w) : 0, "",
                v->calls, v->cards, per);
    }
    if (rep->n_services == 0)
        fputs("(no calls counted in this range)\n", f);
}

/* Cards and their feedback per EHR (the iss and tenant of the calls' JWTs). */
static void render_ehrs(FILE *f, const struct store_report *rep)
{
    fputs("\nCards per EHR\n", f);
    fprintf(f, "%8s %9s %11s %11s  %s\n", "issued", "accepted", "overridden", "acceptance",
            "EHR (iss, tenant)");
    for (size_t i = 0; i < rep->n_ehrs; i++) {
        const struct report_ehr *v = &rep->ehrs[i];
        char pct[RATE_TEXT_MAX] = "-";
        if (v->out.issued > 0)
            snprintf(pct, sizeof pct, "%.1f%%",
                     100.0 * (double)v->out.accepted / (double)v->out.issued);
        fprintf(f, "%8lld %9lld %11lld %11s  ", v->out.issued, v->out.accepted, v->out.overridden,
                pct);
        if (v->other)
            fprintf(f, "(every EHR beyond the first %d)", REPORT_EHRS_MAX);
        else
            put_printable(f, v->iss != NULL ? v->iss : "(none: a call without a JWT)", 200);
        if (v->tenant != NULL) {
            fputs(", ", f);
            put_printable(f, v->tenant, 130);
        }
        fputc('\n', f);
    }
    if (rep->n_ehrs == 0)
        fputs("(no cards issued in this range)\n", f);
}

/* The rules switched off and the thresholds the report was made with. */
static void render_in_force(FILE *f, const struct report_in_force *in)
{
    if (in == NULL)
        return;
    fprintf(f, "\nIn force (hooks %s): %zu rules loaded\n",
            in->hooks_dir != NULL ? in->hooks_dir : "?", in->n_rules);
    for (size_t i = 0; i < in->n_off; i++)
        fprintf(f, "switched off: %s on %s\n", in->off[i].rule, in->off[i].service);
    if (in->n_off == 0)
        fputs("switched off: none\n", f);
    for (size_t i = 0; i < in->n_thresholds; i++) {
        char num[RATE_TEXT_MAX];
        fprintf(f, "threshold %s = %s\n", in->thresholds[i].name,
                store_report_num(in->thresholds[i].value, num, sizeof num));
    }
}

static void render_table(FILE *f, const struct store_report *rep)
{
    fprintf(f, "Cards issued from %s to %s (UTC)\n\n",
            rep->range.since[0] != '\0' ? rep->range.since : "the start",
            rep->range.until[0] != '\0' ? rep->range.until : "now");
    fprintf(f, "%-*s %8s %9s %11s %11s  %s\n", RULE_COL_WIDTH, "rule", "issued", "accepted",
            "overridden", "acceptance", "top override reasons");
    for (size_t i = 0; i < rep->n; i++)
        table_row(f, &rep->rules[i]);
    if (rep->n == 0)
        fputs("(no cards issued in this range)\n", f);
    bool any = false;
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_rule *r = &rep->rules[i];
        if (r->n_categories == 0)
            continue;
        if (!any)
            fputs("\nOverride reasons by category (HL7 Non-Adherence Reason Codes)\n", f);
        any = true;
        fprintf(f, "%-*s ", RULE_COL_WIDTH, r->rule);
        for (size_t k = 0; k < r->n_categories; k++)
            fprintf(f, "%s%s (%lld)", k > 0 ? ", " : "",
                    r->categories[k].category != NULL ? r->categories[k].category : "unknown",
                    r->categories[k].count);
        fputc('\n', f);
    }
    fprintf(f, "\nFeedback entries received: %lld (%lld for cards this store did not issue)\n",
            rep->feedback_total, rep->feedback_unmatched);
    render_calls(f, rep);
    render_ehrs(f, rep);
    render_in_force(f, rep->in_force);
}

/* One CSV field, always quoted; a leading = + - @ is defused with a quote mark. */
static void csv_field(FILE *f, const char *s)
{
    fputc('"', f);
    if (s[0] != '\0' && strchr("=+-@", s[0]) != NULL)
        fputc('\'', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* "code=count;code=count" of the top reasons, or "category=count;..." of the categories;
 * malloc'd, NULL when out of memory. */
static char *reasons_text(const struct report_rule *r, bool categories)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL)
        return NULL;
    for (size_t k = 0; !categories && k < r->n_reasons && k < STORE_TOP_REASONS; k++)
        fprintf(f, "%s%s=%lld", k > 0 ? ";" : "", r->reasons[k].code, r->reasons[k].count);
    for (size_t k = 0; categories && k < r->n_categories; k++)
        fprintf(f, "%s%s=%lld", k > 0 ? ";" : "",
                r->categories[k].category != NULL ? r->categories[k].category : "unknown",
                r->categories[k].count);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ,issued,accepted,overridden,no_feedback,acceptance_rate,ci_low,ci_high (empty: none) */
static void csv_outcomes(FILE *f, const struct report_outcomes *v)
{
    char a[RATE_TEXT_MAX] = "";
    char lo[RATE_TEXT_MAX] = "";
    char hi[RATE_TEXT_MAX] = "";
    if (v->has_ci) {
        store_report_num(v->rate, a, sizeof a);
        store_report_num(v->ci_low, lo, sizeof lo);
        store_report_num(v->ci_high, hi, sizeof hi);
    }
    fprintf(f, ",%lld,%lld,%lld,%lld,%s,%s,%s", v->issued, v->accepted, v->overridden,
            v->no_feedback, a, lo, hi);
}

#define CSV_OUTCOMES                                                                               \
    "issued,accepted,overridden,no_feedback,acceptance_rate,acceptance_ci_low,acceptance_ci_high"

/* After the rules, one table per section, each after an empty line and its own header
 * row, whose first column names it: service, iss (the EHRs), week, switched_off_service,
 * threshold. */
static void csv_sections(FILE *f, const struct store_report *rep)
{
    char num[RATE_TEXT_MAX];
    fputs("\r\nservice,calls,cards,cards_per_100_calls," CSV_OUTCOMES "\r\n", f);
    for (size_t i = 0; i < rep->n_services; i++) {
        const struct report_service *v = &rep->services[i];
        csv_field(f, v->service);
        fprintf(f, ",%lld,%lld,%s", v->calls, v->cards,
                v->has_per_100 ? store_report_num(v->cards_per_100_calls, num, sizeof num) : "");
        csv_outcomes(f, &v->out);
        fputs("\r\n", f);
    }
    fputs("\r\niss,tenant,other," CSV_OUTCOMES "\r\n", f);
    for (size_t i = 0; i < rep->n_ehrs; i++) {
        const struct report_ehr *v = &rep->ehrs[i];
        csv_field(f, v->iss != NULL ? v->iss : "");
        fputc(',', f);
        csv_field(f, v->tenant != NULL ? v->tenant : "");
        fputs(v->other ? ",true" : ",false", f);
        csv_outcomes(f, &v->out);
        fputs("\r\n", f);
    }
    fputs("\r\nweek,rule,issued,accepted,overridden\r\n", f);
    for (size_t i = 0; i < rep->n; i++)
        for (size_t k = 0; k < rep->rules[i].n_weeks; k++) {
            const struct report_week *w = &rep->rules[i].weeks[k];
            fprintf(f, "%s,", w->start);
            csv_field(f, rep->rules[i].rule);
            fprintf(f, ",%lld,%lld,%lld\r\n", w->issued, w->accepted, w->overridden);
        }
    if (rep->in_force == NULL)
        return;
    fputs("\r\nswitched_off_service,rule\r\n", f);
    for (size_t i = 0; i < rep->in_force->n_off; i++) {
        csv_field(f, rep->in_force->off[i].service);
        fputc(',', f);
        csv_field(f, rep->in_force->off[i].rule);
        fputs("\r\n", f);
    }
    fputs("\r\nthreshold,value\r\n", f);
    for (size_t i = 0; i < rep->in_force->n_thresholds; i++) {
        csv_field(f, rep->in_force->thresholds[i].name);
        fprintf(f, ",%s\r\n",
                store_report_num(rep->in_force->thresholds[i].value, num, sizeof num));
    }
}

static int render_csv(FILE *f, const struct store_report *rep)
{
    fputs("rule,issued,accepted,overridden,acceptance_rate,top_override_reasons,"
          "override_categories,no_feedback,acceptance_ci_low,acceptance_ci_high,"
          "cards_per_100_calls\r\n",
          f);
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_rule *r = &rep->rules[i];
        char rate[RATE_TEXT_MAX];
        const char *rt = rate_text(r, rate, sizeof rate);
        char *reasons = reasons_text(r, false);
        char *cats = reasons_text(r, true);
        if (reasons == NULL || cats == NULL) {
            free(reasons);
            free(cats);
            return -1;
        }
        csv_field(f, r->rule);
        fprintf(f, ",%lld,%lld,%lld,%s,", r->issued, r->accepted, r->overridden,
                rt != NULL ? rt : "");
        csv_field(f, reasons);
        fputc(',', f);
        csv_field(f, cats);
        fprintf(f, ",%lld,", r->no_feedback);
        if (r->has_ci) {
            char lo[RATE_TEXT_MAX];
            char hi[RATE_TEXT_MAX];
            fprintf(f, "%s,%s", store_report_num(r->ci_low, lo, sizeof lo),
                    store_report_num(r->ci_high, hi, sizeof hi));
        } else {
            fputc(',', f);
        }
        fputc(',', f);
        if (r->has_per_100) {
            char per[RATE_TEXT_MAX];
            fputs(store_report_num(r->cards_per_100_calls, per, sizeof per), f);
        }
        fputs("\r\n", f);
        free(reasons);
        free(cats);
    }
    csv_sections(f, rep);
    return 0;
}

char *store_report_render(const struct store_report *rep, enum report_format fmt, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    if (fmt == REPORT_JSON)
        return render_json(rep, len);
    if (fmt == REPORT_HTML)
        return store_report_html(rep, len);
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL)
        return NULL;
    int rc = 0;
    if (fmt == REPORT_CSV)
        rc = render_csv(f, rep);
    else
        render_table(f, rep);
    if (fclose(f) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int store_report_print(struct store *st, const char *since, const char *until,
                       enum report_format fmt, report_category_fn categorize, void *ctx,
                       const struct report_in_force *in_force, FILE *out, struct myocds_err *err)
{
    struct store_range range;
    struct store_report rep;
    size_t len = 0;
    int rc = store_report_range(since, until, &range, err);
    if (rc != 0 || (rc = store_report(st, &range, categorize, ctx, &rep, err)) != 0)
        return rc;
    rep.in_force = in_force;
    char *text = store_report_render(&rep, fmt, &len);
    store_report_free(&rep);
    if (text == NULL)
        return myocds_err_set(err, 500, "out of memory");
    bool ok = fwrite(text, 1, len, out) == len && (fmt != REPORT_JSON || fputc('\n', out) != EOF);
    free(text);
    return ok && fflush(out) == 0 ? 0 : myocds_err_set(err, 500, "cannot write the report");
}

/* report_groups.c - the committee page's sections per service and per EHR (what became of
 * their cards) and what was in force (the rules switched off, the thresholds as loaded).
 * EHR names (iss, tenant) come from verified JWTs but are still escaped (html_put).
 */
#include "store/report_page.h"
#include "util/html.h"

#include <stdlib.h>
#include <string.h>

#define EHR_LABEL_MAX 40 /* an EHR's name as drawn left of its bar */
#define EHR_NAME_MAX (STORE_ISS_MAX + STORE_TENANT_MAX + 8)

/* The table head of a group's outcomes, after its first column(s). */
static const char outcome_heads[] =
    "<th scope=\"col\">Issued</th><th scope=\"col\">Accepted</th>"
    "<th scope=\"col\">Overridden</th><th scope=\"col\">No feedback</th>"
    "<th scope=\"col\">Acceptance rate</th><th scope=\"col\">95 % interval, low</th>"
    "<th scope=\"col\">95 % interval, high</th></tr></thead>\n<tbody>\n";

static void put_outcome_cells(FILE *f, const struct report_outcomes *o)
{
    fprintf(f,
            "<td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
            "<td class=\"n\">%lld</td>",
            o->issued, o->accepted, o->overridden, o->no_feedback);
    if (!o->has_ci) {
        fputs("<td class=\"n\">-</td><td class=\"n\">-</td><td class=\"n\">-</td></tr>\n", f);
        return;
    }
    fputs("<td class=\"n\">", f);
    page_pct(f, o->rate);
    fputs("</td><td class=\"n\">", f);
    page_pct(f, o->ci_low);
    fputs("</td><td class=\"n\">", f);
    page_pct(f, o->ci_high);
    fputs("</td></tr>\n", f);
}

/* "iss, tenant" of e into buf[cap] (the words for none or the rest). */
static const char *ehr_name(const struct report_ehr *e, char *buf, size_t cap)
{
    if (e->other)
        snprintf(buf, cap, "every EHR beyond the first %d", REPORT_EHRS_MAX);
    else
        snprintf(buf, cap, "%s%s%s", e->iss != NULL ? e->iss : "no issuer (a call without a JWT)",
                 e->tenant != NULL ? ", " : "", e->tenant != NULL ? e->tenant : "");
    return buf;
}

/* The chart of shares per EHR; labels drawn without the scheme and cut to fit. */
static void put_ehrs_chart(FILE *f, const struct store_report *rep)
{
    struct page_share *rows = calloc(rep->n_ehrs, sizeof *rows);
    char(*names)[EHR_NAME_MAX] = calloc(rep->n_ehrs, sizeof *names);
    char(*shorts)[EHR_LABEL_MAX + 4] = calloc(rep->n_ehrs, sizeof *shorts);
    if (rows != NULL && names != NULL && shorts != NULL) {
        for (size_t i = 0; i < rep->n_ehrs; i++) {
            const struct report_ehr *e = &rep->ehrs[i];
            const char *name = ehr_name(e, names[i], sizeof names[i]);
            const char *bare = strstr(name, "://");
            bare = bare != NULL && !e->other ? bare + 3 : name;
            size_t n = strlen(bare);
            if (n > EHR_LABEL_MAX)
                snprintf(shorts[i], sizeof shorts[i], "%.*s\u2026", EHR_LABEL_MAX - 1, bare);
            else
                snprintf(shorts[i], sizeof shorts[i], "%s", bare);
            rows[i] = (struct page_share){name,
                                          shorts[i],
                                          e->out.issued,
                                          e->out.accepted,
                                          e->out.overridden,
                                          e->out.no_feedback,
                                          e->out.has_ci,
                                          e->out.ci_low,
                                          e->out.ci_high};
        }
        page_chart_shares(f,
                          "Accepted, overridden and no feedback per EHR, as shares of its cards, "
                          "with the 95 % interval of the acceptance rate",
                          rows, rep->n_ehrs);
    }
    free(rows);
    free(names);
    free(shorts);
}

void page_section_groups(FILE *f, const struct store_report *rep)
{
    fputs("<section id=\"groups\">\n<h2>Per EHR and per service</h2>\n", f);
    if (rep->n_ehrs > 0)
        put_ehrs_chart(f, rep);
    fputs("<p class=\"how\">An EHR is the issuer (<code>iss</code>) and <code>tenant</code> of "
          "the signed calls that got the cards.</p>\n<table id=\"ehrs-table\">\n<caption>Cards "
          "per EHR</caption>\n<thead><tr><th scope=\"col\">EHR (issuer)</th>"
          "<th scope=\"col\">Tenant</th>",
          f);
    fputs(outcome_heads, f);
    for (size_t i = 0; i < rep->n_ehrs; i++) {
        const struct report_ehr *e = &rep->ehrs[i];
        char name[EHR_NAME_MAX];
        fputs("<tr><th scope=\"row\">", f);
        if (e->other || e->iss == NULL)
            html_put(f, ehr_name(e, name, sizeof name));
        else {
            fputs("<code>", f);
            html_put(f, e->iss);
            fputs("</code>", f);
        }
        fputs("</th><td>", f);
        html_put(f, e->tenant != NULL ? e->tenant : "-");
        fputs("</td>", f);
        put_outcome_cells(f, &e->out);
    }
    if (rep->n_ehrs == 0)
        fputs("<tr><td colspan=\"9\">No cards issued in this range.</td></tr>\n", f);
    fputs("</tbody>\n</table>\n<table id=\"services-table\">\n<caption>Cards per service "
          "(hook)</caption>\n<thead><tr><th scope=\"col\">Service</th>",
          f);
    fputs(outcome_heads, f);
    size_t shown = 0;
    for (size_t i = 0; i < rep->n_services; i++) {
        const struct report_service *v = &rep->services[i];
        if (v->out.issued == 0 && v->out.accepted == 0 && v->out.overridden == 0)
            continue; /* calls without cards: the burden's table has them */
        fputs("<tr><th scope=\"row\"><code>", f);
        html_put(f, v->service);
        fputs("</code></th>", f);
        put_outcome_cells(f, &v->out);
        shown++;
    }
    if (shown == 0)
        fputs("<tr><td colspan=\"8\">No cards issued in this range.</td></tr>\n", f);
    fputs("</tbody>\n</table>\n</section>\n", f);
}

void page_section_in_force(FILE *f, const struct store_report *rep)
{
    const struct report_in_force *in = rep->in_force;
    fputs("<section id=\"in-force\">\n<h2>In force when this page was made</h2>\n", f);
    if (in == NULL) {
        fputs("<p>Not known: the page was made without the service's rules.</p>\n</section>\n", f);
        return;
    }
    fprintf(f, "<p>%zu rules loaded from <code>", in->n_rules);
    html_put(f, in->hooks_dir != NULL ? in->hooks_dir : "?");
    fputs("</code>. The counts above are of the cards issued in the range, whatever was in "
          "force then.</p>\n<table id=\"off-table\">\n<caption>Rules switched off</caption>\n"
          "<thead><tr><th scope=\"col\">Service</th><th scope=\"col\">Rule</th></tr></thead>\n"
          "<tbody>\n",
          f);
    for (size_t i = 0; i < in->n_off; i++) {
        fputs("<tr><td><code>", f);
        html_put(f, in->off[i].service);
        fputs("</code></td><td><code>", f);
        html_put(f, in->off[i].rule);
        fputs("</code></td></tr>\n", f);
    }
    if (in->n_off == 0)
        fputs("<tr><td colspan=\"2\">None: every rule runs on every service of its hooks."
              "</td></tr>\n",
              f);
    fputs("</tbody>\n</table>\n<table id=\"thresholds-table\">\n<caption>Thresholds as loaded"
          "</caption>\n<thead><tr><th scope=\"col\">Threshold</th><th scope=\"col\">Value</th>"
          "</tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < in->n_thresholds; i++) {
        char num[REPORT_NUM_MAX];
        fputs("<tr><th scope=\"row\"><code>", f);
        html_put(f, in->thresholds[i].name);
        fprintf(f, "</code></th><td class=\"n\">%s</td></tr>\n",
                store_report_num(in->thresholds[i].value, num, sizeof num));
    }
    fputs("</tbody>\n</table>\n</section>\n", f);
}

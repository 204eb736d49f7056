/* report_html.c - the governance committee's page: one self-contained HTML5 file (no
 * script, no network: style and charts inline), readable on screen and on paper.
 *
 * First the answer to "which alert is ignored most, and why?", then per rule what became
 * of its cards and why they were overridden, the trend by week, per service and per EHR,
 * the alert burden (cards per 100 calls), the totals and what was in force, each chart
 * with the table of its numbers.
 * Everything from the store (rule ids, codes, systems: they come from clients) goes
 * through html_put().
 */
#include "store/report_page.h"
#include "util/html.h"

#include <stdlib.h>
#include <string.h>

static const char page_style[] =
    "<style>\n"
    ":root{color-scheme:light}\n"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "body{font-family:system-ui,\"Segoe UI\",\"DejaVu Sans\",Arial,sans-serif;color:#111;"
    "background:#fff;max-width:960px;margin:1.5em auto;padding:0 1em;line-height:1.4}\n"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em}\n"
    ".meta,.how{color:#444;font-size:.92em}\n"
    ".headline{border-left:6px solid " PAGE_OVERRIDDEN ";background:#f6f6f6;"
    "padding:.6em 1em;font-size:1.1em}\n"
    ".headline .big{font-size:1.35em;font-weight:bold}\n"
    "svg{max-width:100%;height:auto;display:block;margin:.6em 0}\n"
    "svg text{font-family:inherit;font-size:13px;fill:#111}\n"
    "svg .label{text-anchor:end}svg .tick{text-anchor:middle;fill:#444;font-size:11px}\n"
    "svg .grid{stroke:#ddd;stroke-width:1}svg .seg{stroke:#fff;stroke-width:1}\n"
    "svg rect[fill=\"" PAGE_NO_REASON "\"]{stroke:#777}\n"
    "svg .ci{stroke:#000;stroke-width:2;fill:none}"
    "svg .halo{stroke:#fff;stroke-width:5;fill:none}\n"
    ".legend{list-style:none;padding:0;margin:.4em 0;display:flex;flex-wrap:wrap;gap:.3em 1.2em}\n"
    ".legend svg{display:inline;margin:0 .3em 0 0;vertical-align:-2px}\n"
    "table{border-collapse:collapse;margin:.6em 0;font-size:.95em}\n"
    "caption{text-align:left;font-weight:bold;padding-bottom:.3em}\n"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "th code{white-space:nowrap}\n"
    "thead th{background:#eee}\n"
    "code{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:.95em}\n"
    "summary{cursor:pointer;margin:.6em 0;color:#0072B2}\n"
    "@page{size:A4;margin:14mm}\n"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}"
    "section{break-inside:avoid-page}tr{break-inside:avoid}"
    ".headline{border:1px solid #000;border-left:6px solid " PAGE_OVERRIDDEN "}"
    "details::details-content{content-visibility:visible;display:block}}\n"
    "</style>\n";

void page_pct(FILE *f, double v)
{
    fprintf(f, "%.1f %%", 100.0 * v);
}

void page_legend_item(FILE *f, const char *colour, const char *name)
{
    fprintf(f,
            "<li><svg width=\"14\" height=\"14\" aria-hidden=\"true\"><rect x=\"0.5\" "
            "y=\"0.5\" width=\"13\" height=\"13\" fill=\"%s\" stroke=\"#777\"/></svg>",
            colour);
    html_put(f, name);
    fputs("</li>", f);
}

/* ts (a store time stamp) as a <time>, or the words when there is none. */
static void put_time(FILE *f, const char *ts, const char *none, const char *id)
{
    if (ts[0] == '\0') {
        fputs(none, f);
        return;
    }
    fputs(id != NULL ? "<time id=\"" : "<time", f);
    if (id != NULL) {
        fputs(id, f);
        fputc('"', f);
    }
    fputc('>', f);
    html_put(f, ts);
    fputs("</time>", f);
}

static void put_range(FILE *f, const struct store_report *rep)
{
    fputs("<p class=\"meta\" id=\"range\">Cards issued from ", f);
    put_time(f, rep->range.since, "the start", NULL);
    fputs(" to ", f);
    put_time(f, rep->range.until, "now", NULL);
    fputs(" (UTC). Page made ", f);
    put_time(f, rep->made_at, "now", "made");
    fputs(" by <code>myocds report --html</code>.</p>\n", f);
}

/* The most frequent reason of r whose category is cat (NULL: unknown), or NULL. */
static const struct report_reason *top_reason_of(const struct report_rule *r, const char *cat)
{
    for (size_t k = 0; k < r->n_reasons; k++) {
        if (report_same_category(r->reasons[k].category, cat))
            return &r->reasons[k];
    }
    return NULL;
}

static void put_headline(FILE *f, const struct store_report *rep)
{
    const struct report_rule *r = store_report_most_ignored(rep);
    fputs("<section class=\"headline\" id=\"headline\" aria-label=\"Ignored most\">\n", f);
    if (r == NULL) {
        fprintf(f,
                "<p class=\"big\">No rule had %d or more cards issued in this range: too few"
                " to name the alert ignored most.</p>\n",
                REPORT_HEADLINE_MIN_ISSUED);
    } else {
        fputs("<p class=\"big\">Ignored most: <code id=\"headline-rule\">", f);
        html_put(f, r->rule);
        fprintf(f, "</code></p>\n<p>%lld of %lld cards accepted (", r->accepted, r->issued);
        page_pct(f, (double)r->accepted / (double)r->issued);
        fputs("; 95 % interval ", f);
        page_pct(f, r->ci_low);
        fputs(" to ", f);
        page_pct(f, r->ci_high);
        fprintf(f, "), %lld overridden, %lld with no feedback.", r->overridden, r->no_feedback);
        if (r->n_categories > 0) {
            const char *cat = r->categories[0].category;
            const struct report_reason *top = top_reason_of(r, cat);
            fprintf(f, " Why: most overrides (%lld) gave a reason of the category <strong>",
                    r->categories[0].count);
            html_put(f, cat != NULL ? cat : "unknown");
            fputs("</strong>", f);
            if (top != NULL) {
                fputs(", most often <code>", f);
                html_put(f, top->code);
                fprintf(f, "</code> (%lld)", top->count);
            }
            if (r->n_reasons > 0 && &r->reasons[0] != top) {
                fputs("; the most frequent reason of all is <code>", f);
                html_put(f, r->reasons[0].code);
                fprintf(f, "</code> (%lld)", r->reasons[0].count);
            }
            fputs(".", f);
        } else if (r->overridden > 0) {
            fputs(" Its overrides gave no reason.", f);
        }
        fputs("</p>\n", f);
    }
    fprintf(f,
            "<p class=\"how\">How this is chosen: among the rules with at least %d cards "
            "issued in this range, the one with the lowest acceptance rate (cards accepted / "
            "cards issued; a card with no feedback counts as not accepted). Fewer cards say "
            "too little to rank a rule.</p>\n</section>\n",
            REPORT_HEADLINE_MIN_ISSUED);
}

static void put_outcomes_table(FILE *f, const struct store_report *rep)
{
    fputs("<table id=\"outcomes-table\">\n<caption>Cards per rule</caption>\n<thead><tr>"
          "<th scope=\"col\">Rule</th><th scope=\"col\">Issued</th>"
          "<th scope=\"col\">Accepted</th><th scope=\"col\">Overridden</th>"
          "<th scope=\"col\">No feedback</th><th scope=\"col\">Acceptance rate</th>"
          "<th scope=\"col\">95 % interval, low</th><th scope=\"col\">95 % interval, high</th>"
          "</tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_rule *r = &rep->rules[i];
        fputs("<tr><th scope=\"row\"><code>", f);
        html_put(f, r->rule);
        fprintf(f,
                "</code></th><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>",
                r->issued, r->accepted, r->overridden, r->no_feedback);
        if (r->has_ci) {
            fputs("<td class=\"n\">", f);
            page_pct(f, (double)r->accepted / (double)r->issued);
            fputs("</td><td class=\"n\">", f);
            page_pct(f, r->ci_low);
            fputs("</td><td class=\"n\">", f);
            page_pct(f, r->ci_high);
            fputs("</td></tr>\n", f);
        } else {
            fputs("<td class=\"n\">-</td><td class=\"n\">-</td><td class=\"n\">-</td></tr>\n", f);
        }
    }
    if (rep->n == 0)
        fputs("<tr><td colspan=\"8\">No cards issued in this range.</td></tr>\n", f);
    fputs("</tbody>\n</table>\n", f);
}

static void put_outcomes(FILE *f, const struct store_report *rep)
{
    fputs("<section id=\"outcomes\">\n<h2>What became of each rule's cards</h2>\n"
          "<ul class=\"legend\">",
          f);
    page_legend_item(f, PAGE_ACCEPTED, "accepted");
    page_legend_item(f, PAGE_OVERRIDDEN, "overridden");
    page_legend_item(f, PAGE_NO_FEEDBACK, "no feedback");
    fputs("<li><svg width=\"22\" height=\"14\" aria-hidden=\"true\"><path d=\"M2 7 H20 M2 2 V12 "
          "M20 2 V12\" stroke=\"#000\" stroke-width=\"2\" fill=\"none\"/></svg>"
          "95 % interval of the acceptance rate</li></ul>\n",
          f);
    page_chart_outcomes(f, rep);
    fputs("<p class=\"how\">Each bar is the cards a rule issued in the range (100 %). The "
          "acceptance rate is accepted / issued. Its 95 % interval (Wilson score) is the range "
          "of rates these counts are consistent with: wide when a rule issued few cards; two "
          "rules whose intervals overlap may not differ at all.</p>\n",
          f);
    put_outcomes_table(f, rep);
    fputs("</section>\n", f);
}

/* The codes of r whose category is cat (NULL: unknown), most frequent first, at most
 * STORE_TOP_REASONS, each with its system as a tooltip. */
static void put_top_codes(FILE *f, const struct report_rule *r, const char *cat)
{
    size_t shown = 0;
    for (size_t k = 0; k < r->n_reasons && shown < STORE_TOP_REASONS; k++) {
        const struct report_reason *x = &r->reasons[k];
        if (!report_same_category(x->category, cat))
            continue;
        fputs(shown > 0 ? ", <code" : "<code", f);
        if (x->system[0] != '\0') {
            fputs(" title=\"", f);
            html_put(f, x->system);
            fputc('"', f);
        }
        fputc('>', f);
        html_put(f, x->code);
        fprintf(f, "</code> (%lld)", x->count);
        shown++;
    }
}

static void put_reasons_row(FILE *f, const struct report_rule *r, const char *cat, long long n,
                            bool codes)
{
    fputs("<tr><th scope=\"row\"><code>", f);
    html_put(f, r->rule);
    fputs("</code></th><td>", f);
    html_put(f, cat);
    fprintf(f, "</td><td class=\"n\">%lld</td><td>", n);
    if (codes)
        put_top_codes(f, r, strcmp(cat, "unknown") == 0 ? NULL : cat);
    fputs("</td></tr>\n", f);
}

static void put_reasons(FILE *f, const struct store_report *rep)
{
    fputs("<section id=\"reasons\">\n<h2>Why cards were overridden</h2>\n<ul class=\"legend\">", f);
    for (size_t i = 0; i < PAGE_CATEGORIES; i++)
        page_legend_item(f, page_category_colour(page_categories[i]), page_categories[i]);
    page_legend_item(f, PAGE_UNKNOWN, "unknown");
    page_legend_item(f, PAGE_NO_REASON, PAGE_NO_REASON_LABEL);
    fputs("</ul>\n", f);
    page_chart_categories(f, rep);
    fputs("<p class=\"how\">Each override's reason counts in its category of the HL7 "
          "Non-Adherence Reason Codes (as the rules name it; <em>unknown</em>: a code the rules "
          "do not know).</p>\n<table id=\"reasons-table\">\n<caption>Overrides per rule and "
          "category, with the top codes</caption>\n<thead><tr><th scope=\"col\">Rule</th>"
          "<th scope=\"col\">Category</th><th scope=\"col\">Overrides</th>"
          "<th scope=\"col\">Top codes (count)</th></tr></thead>\n<tbody>\n",
          f);
    bool any = false;
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_rule *r = &rep->rules[i];
        for (size_t k = 0; k < r->n_categories; k++) {
            const char *cat = r->categories[k].category;
            put_reasons_row(f, r, cat != NULL ? cat : "unknown", r->categories[k].count, true);
            any = true;
        }
        long long none = page_no_reason(r);
        if (none > 0) {
            put_reasons_row(f, r, PAGE_NO_REASON_LABEL, none, false);
            any = true;
        }
    }
    if (!any)
        fputs("<tr><td colspan=\"4\">No card was overridden in this range.</td></tr>\n", f);
    fputs("</tbody>\n</table>\n</section>\n", f);
}

/* n as the JSON and the CSV give it (store_report_num); "-" when !has. */
static void put_num(FILE *f, bool has, double n)
{
    char buf[REPORT_NUM_MAX];
    fputs(has ? store_report_num(n, buf, sizeof buf) : "-", f);
}

/* The alert burden: cards per 100 calls per service (chart and table) and per rule. */
static void put_burden(FILE *f, const struct store_report *rep)
{
    fputs("<section id=\"burden\">\n<h2>Alert burden</h2>\n", f);
    page_chart_burden(f, rep);
    fputs("<table id=\"burden-services\">\n<caption>Calls per service</caption>\n<thead><tr>"
          "<th scope=\"col\">Service</th><th scope=\"col\">Calls</th>"
          "<th scope=\"col\">Cards</th><th scope=\"col\">Cards per 100 calls</th>"
          "</tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < rep->n_services; i++) {
        const struct report_service *v = &rep->services[i];
        fputs("<tr><th scope=\"row\"><code>", f);
        html_put(f, v->service);
        fprintf(f, "</code></th><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">",
                v->calls, v->cards);
        put_num(f, v->has_per_100, v->cards_per_100_calls);
        fputs("</td></tr>\n", f);
    }
    if (rep->n_services == 0)
        fputs("<tr><td colspan=\"4\">No calls counted in this range.</td></tr>\n", f);
    fputs("</tbody>\n</table>\n<table id=\"burden-rules\">\n<caption>Cards per 100 calls per "
          "rule</caption>\n<thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Issued</th>"
          "<th scope=\"col\">Cards per 100 calls</th></tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_rule *r = &rep->rules[i];
        fputs("<tr><th scope=\"row\"><code>", f);
        html_put(f, r->rule);
        fprintf(f, "</code></th><td class=\"n\">%lld</td><td class=\"n\">", r->issued);
        put_num(f, r->has_per_100, r->cards_per_100_calls);
        fputs("</td></tr>\n", f);
    }
    if (rep->n == 0)
        fputs("<tr><td colspan=\"3\">No cards issued in this range.</td></tr>\n", f);
    fprintf(
        f,
        "</tbody>\n</table>\n<p class=\"how\">A service's figure is its cards given &times; 100 / "
        "its calls answered; a rule's is its cards issued &times; 100 / the calls of all "
        "services (%lld), since any call could have given its card. Calls are counted "
        "per hour: an hour counts when it starts in the range.</p>\n</section>\n",
        rep->calls_total);
}

static void put_totals(FILE *f, const struct store_report *rep)
{
    long long issued = 0;
    for (size_t i = 0; i < rep->n; i++)
        issued += rep->rules[i].issued;
    fprintf(f,
            "<section id=\"totals\">\n<h2>Totals</h2>\n<table id=\"totals-table\">\n<tbody>\n"
            "<tr><th scope=\"row\">Cards issued</th><td class=\"n\">%lld</td></tr>\n"
            "<tr><th scope=\"row\">Feedback entries received</th><td class=\"n\">%lld</td></tr>\n"
            "<tr><th scope=\"row\">of them for cards this store did not issue</th>"
            "<td class=\"n\">%lld</td></tr>\n</tbody>\n</table>\n",
            issued, rep->feedback_total, rep->feedback_unmatched);
    fputs("<p class=\"how\">Cards are counted by when they were issued, feedback entries by "
          "when they were received.</p>\n</section>\n",
          f);
}

char *store_report_html(const struct store_report *rep, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL)
        return NULL;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>What our alerts do: CDS report</title>\n",
          f);
    fputs(page_style, f);
    fputs("</head>\n<body>\n<header>\n<h1>What our alerts do</h1>\n", f);
    put_range(f, rep);
    fputs("</header>\n<main>\n", f);
    put_headline(f, rep);
    put_outcomes(f, rep);
    put_reasons(f, rep);
    page_section_weeks(f, rep);
    page_section_groups(f, rep);
    put_burden(f, rep);
    put_totals(f, rep);
    page_section_in_force(f, rep);
    fputs("</main>\n</body>\n</html>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

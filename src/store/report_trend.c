/* report_trend.c - the committee page's trend by week: one small chart per rule with
 * cards (issued, accepted, overridden per week; its own scale, stated), lines told apart by
 * colour and by dash, each week a column whose tooltip gives its three numbers; then the
 * table of every week that had any.
 */
#include "store/report_page.h"
#include "util/html.h"

#define TREND_W 900
#define TREND_H 96
#define TREND_LABEL_RIGHT 230
#define TREND_X 240
#define TREND_PLOT_W 600
#define TREND_TOP 14
#define TREND_PLOT_H 56
#define TREND_DOTS_MAX 60 /* weeks up to which each point is also drawn as a dot */
#define PAGE_ISSUED "#000000"

enum series { S_ISSUED, S_ACCEPTED, S_OVERRIDDEN, S_COUNT };

static const char *const series_colour[S_COUNT] = {PAGE_ISSUED, PAGE_ACCEPTED, PAGE_OVERRIDDEN};
static const char *const series_dash[S_COUNT] = {"", "", " stroke-dasharray=\"5 3\""};

static long long value_of(const struct report_week *w, enum series s)
{
    return s == S_ISSUED ? w->issued : s == S_ACCEPTED ? w->accepted : w->overridden;
}

static double x_of(size_t k, size_t n)
{
    return n > 1 ? TREND_X + (double)TREND_PLOT_W * (double)k / (double)(n - 1)
                 : TREND_X + TREND_PLOT_W / 2.0;
}

static double y_of(long long v, long long max)
{
    return TREND_TOP + TREND_PLOT_H - (double)TREND_PLOT_H * (double)v / (double)max;
}

/* One line of series s over r's weeks (a dot per week when they are few). */
static void put_series(FILE *f, const struct report_rule *r, enum series s, long long max)
{
    fprintf(f, "<path d=\"");
    for (size_t k = 0; k < r->n_weeks; k++)
        fprintf(f, "%s%.1f %.1f", k == 0 ? "M" : " L", x_of(k, r->n_weeks),
                y_of(value_of(&r->weeks[k], s), max));
    if (r->n_weeks == 1) /* a line needs two points: a short tick instead */
        fprintf(f, " h0.1");
    fprintf(f, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", series_colour[s],
            series_dash[s]);
    for (size_t k = 0; r->n_weeks <= TREND_DOTS_MAX && k < r->n_weeks; k++)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", x_of(k, r->n_weeks),
                y_of(value_of(&r->weeks[k], s), max), series_colour[s]);
}

/* A transparent column per week, whose tooltip is "rule, week of D: I issued, A accepted,
 * O overridden". */
static void put_columns(FILE *f, const struct report_rule *r)
{
    double w = r->n_weeks > 1 ? (double)TREND_PLOT_W / (double)(r->n_weeks - 1) : 24.0;
    for (size_t k = 0; k < r->n_weeks; k++) {
        const struct report_week *wk = &r->weeks[k];
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#000\" "
                "fill-opacity=\"0\"><title>",
                x_of(k, r->n_weeks) - w / 2, TREND_TOP, w, TREND_PLOT_H);
        html_put(f, r->rule);
        fprintf(f, ", week of %s: %lld issued, %lld accepted, %lld overridden</title></rect>\n",
                wk->start, wk->issued, wk->accepted, wk->overridden);
    }
}

static void put_rule_chart(FILE *f, const struct report_rule *r)
{
    long long max = 1;
    for (size_t k = 0; k < r->n_weeks; k++)
        max = r->weeks[k].issued > max ? r->weeks[k].issued : max;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\" role=\"img\" aria-label=\"",
            TREND_W, TREND_H, TREND_W, TREND_H);
    html_put(f, r->rule);
    fputs(": cards issued, accepted and overridden per week\">\n", f);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"label\">", TREND_LABEL_RIGHT,
            TREND_TOP + TREND_PLOT_H / 2 + 4);
    html_put(f, r->rule);
    fprintf(f,
            "</text>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"grid\"/>"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"grid\"/>\n"
            "<text x=\"%d\" y=\"%d\" class=\"tick\">%lld</text>"
            "<text x=\"%d\" y=\"%d\" class=\"tick\">0</text>\n",
            TREND_X, TREND_TOP, TREND_X + TREND_PLOT_W, TREND_TOP, TREND_X,
            TREND_TOP + TREND_PLOT_H, TREND_X + TREND_PLOT_W, TREND_TOP + TREND_PLOT_H,
            TREND_X + TREND_PLOT_W + 24, TREND_TOP + 4, max, TREND_X + TREND_PLOT_W + 24,
            TREND_TOP + TREND_PLOT_H + 4);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"tick\">%s</text>\n", x_of(0, r->n_weeks),
            TREND_H - 6, r->weeks[0].start);
    if (r->n_weeks > 1)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"tick\">%s</text>\n",
                x_of(r->n_weeks - 1, r->n_weeks), TREND_H - 6, r->weeks[r->n_weeks - 1].start);
    for (int s = 0; s < S_COUNT; s++)
        put_series(f, r, (enum series)s, max);
    put_columns(f, r);
    fputs("</svg>\n", f);
}

/* The table, folded under a summary that says how long it is (it has a row per rule and
 * week: a year of fifteen rules is some 800 rows). */
static void put_weeks_table(FILE *f, const struct store_report *rep)
{
    size_t rows = 0;
    for (size_t i = 0; i < rep->n; i++)
        for (size_t k = 0; k < rep->rules[i].n_weeks; k++)
            rows += rep->rules[i].weeks[k].issued > 0 || rep->rules[i].weeks[k].accepted > 0 ||
                    rep->rules[i].weeks[k].overridden > 0;
    fprintf(f,
            "<details><summary>The numbers of each week (%zu rows)</summary>\n"
            "<table id=\"weeks-table\">\n<caption>Cards per rule and week (weeks not listed had "
            "none)</caption>\n<thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Week of"
            "</th><th scope=\"col\">Issued</th><th scope=\"col\">Accepted</th>"
            "<th scope=\"col\">Overridden</th></tr></thead>\n<tbody>\n",
            rows);
    bool any = false;
    for (size_t i = 0; i < rep->n; i++)
        for (size_t k = 0; k < rep->rules[i].n_weeks; k++) {
            const struct report_week *w = &rep->rules[i].weeks[k];
            if (w->issued == 0 && w->accepted == 0 && w->overridden == 0)
                continue;
            fputs("<tr><th scope=\"row\"><code>", f);
            html_put(f, rep->rules[i].rule);
            fprintf(f,
                    "</code></th><td><time>%s</time></td><td class=\"n\">%lld</td>"
                    "<td class=\"n\">%lld</td><td class=\"n\">%lld</td></tr>\n",
                    w->start, w->issued, w->accepted, w->overridden);
            any = true;
        }
    if (!any)
        fputs("<tr><td colspan=\"5\">No cards issued in this range.</td></tr>\n", f);
    fputs("</tbody>\n</table>\n</details>\n", f);
}

void page_section_weeks(FILE *f, const struct store_report *rep)
{
    fputs("<section id=\"weeks\">\n<h2>Trend by week</h2>\n<ul class=\"legend\">", f);
    page_legend_item(f, PAGE_ISSUED, "issued");
    page_legend_item(f, PAGE_ACCEPTED, "accepted");
    page_legend_item(f, PAGE_OVERRIDDEN, "overridden (dashed)");
    fputs("</ul>\n", f);
    for (size_t i = 0; i < rep->n; i++)
        if (rep->rules[i].n_weeks > 0 && rep->rules[i].issued > 0)
            put_rule_chart(f, &rep->rules[i]);
    fputs("<p class=\"how\">Weeks run Monday to Sunday (UTC). Each chart has its own scale, "
          "from 0 to the most cards its rule issued in a week (right). Accepted and overridden "
          "count the feedback on the cards issued that week.</p>\n",
          f);
    put_weeks_table(f, rep);
    fputs("</section>\n", f);
}

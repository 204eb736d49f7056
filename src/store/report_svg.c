/* report_svg.c - the committee page's two charts, inline SVG: one horizontal bar per rule,
 * its label left of it and its total right of it, a scale on top. Every shape carries a
 * <title> with its numbers; the tables under the charts carry them all.
 */
#include "store/report_page.h"
#include "util/html.h"

#include <stdlib.h>
#include <string.h>

#define SVG_WIDTH 900
#define SVG_LABEL_RIGHT 230 /* rule ids end here (right-aligned) */
#define SVG_BAR_X 240
#define SVG_BAR_W 520
#define SVG_TOP 34 /* the scale's labels above */
#define SVG_ROW 30
#define SVG_BAR_H 18
#define SVG_TICKS 4
#define SVG_WHISKER 6   /* half the height of the interval's end marks */
#define SVG_TEXT_MAX 64 /* a bar's tooltip or note */

const char *const page_categories[PAGE_CATEGORIES] = {
    "cds-not-applicable",      "cds-suboptimal-context",      "does-not-align-preferences",
    "not-convenient-feasible", "recipient-concerns-outcomes", "recipient-disagrees-evidence",
};

static const char *const category_colours[PAGE_CATEGORIES] = {
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#CC79A7", "#D55E00",
};

const char *page_category_colour(const char *category)
{
    for (size_t i = 0; category != NULL && i < PAGE_CATEGORIES; i++)
        if (strcmp(page_categories[i], category) == 0)
            return category_colours[i];
    return PAGE_UNKNOWN;
}

long long page_no_reason(const struct report_rule *r)
{
    long long n = r->overridden;
    for (size_t k = 0; k < r->n_categories; k++)
        n -= r->categories[k].count;
    return n > 0 ? n : 0;
}

/* <svg> with its size, an accessible name, and the scale: SVG_TICKS + 1 grid lines
 * labelled by label(t of SVG_TICKS). */
static void svg_open(FILE *f, size_t rows, const char *name, long long tick_step, bool percent)
{
    int h = SVG_TOP + (int)(rows > 0 ? rows : 1) * SVG_ROW + 4;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\" role=\"img\" aria-label=\"%s\">\n",
            SVG_WIDTH, h, SVG_WIDTH, h, name);
    for (int t = 0; t <= SVG_TICKS; t++) {
        double x = SVG_BAR_X + (double)SVG_BAR_W * t / SVG_TICKS;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>"
                "<text x=\"%.1f\" y=\"%d\" class=\"tick\">",
                x, SVG_TOP - 4, x, h - 4, x, SVG_TOP - 10);
        if (percent)
            fprintf(f, "%d %%", 100 * t / SVG_TICKS);
        else
            fprintf(f, "%lld", tick_step * t);
        fputs("</text>\n", f);
    }
}

/* The rule's label left of its bar, at row i. */
static void svg_label(FILE *f, size_t i, const char *rule)
{
    fprintf(f, "<text x=\"%d\" y=\"%zu\" class=\"label\">", SVG_LABEL_RIGHT,
            SVG_TOP + i * SVG_ROW + SVG_ROW / 2 + 4);
    html_put(f, rule);
    fputs("</text>\n", f);
}

/* Text right of the bar (or in its place when there is none), at row i. */
static void svg_note(FILE *f, size_t i, double x, const char *what, long long n)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%zu\" class=\"note\">", x,
            SVG_TOP + i * SVG_ROW + SVG_ROW / 2 + 4);
    if (n >= 0)
        fprintf(f, "%lld ", n);
    fprintf(f, "%s</text>\n", what);
}

/* One segment of row i from *x, w wide, its tooltip "rule: n what"; *x moves past it. */
static void svg_segment(FILE *f, size_t i, double *x, double w, const char *fill, const char *rule,
                        long long n, const char *what)
{
    if (n <= 0 || w <= 0)
        return;
    if (*x + w > SVG_BAR_X + SVG_BAR_W)
        w = SVG_BAR_X + SVG_BAR_W - *x;
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"%d\" fill=\"%s\" "
            "class=\"seg\"><title>",
            *x, SVG_TOP + i * SVG_ROW + (SVG_ROW - SVG_BAR_H) / 2, w, SVG_BAR_H, fill);
    html_put(f, rule);
    fprintf(f, ": %lld ", n);
    html_put(f, what);
    fputs("</title></rect>\n", f);
    *x += w;
}

/* The 95 % interval of row i's rate: a line between two end marks, on a white halo. */
static void svg_interval(FILE *f, size_t i, const struct page_share *r)
{
    double x1 = SVG_BAR_X + SVG_BAR_W * r->ci_low;
    double x2 = SVG_BAR_X + SVG_BAR_W * r->ci_high;
    size_t y = SVG_TOP + i * SVG_ROW + SVG_ROW / 2;
    for (int halo = 1; halo >= 0; halo--) {
        fprintf(f, "<path d=\"M%.1f %zu H%.1f M%.1f %zu V%zu M%.1f %zu V%zu\" class=\"%s\">", x1, y,
                x2, x1, y - SVG_WHISKER, y + SVG_WHISKER, x2, y - SVG_WHISKER, y + SVG_WHISKER,
                halo ? "halo" : "ci");
        if (!halo) {
            fputs("<title>", f);
            html_put(f, r->label);
            fprintf(f, ": 95 %% interval %.1f %% to %.1f %%</title>", 100 * r->ci_low,
                    100 * r->ci_high);
        }
        fputs("</path>\n", f);
    }
}

void page_chart_shares(FILE *f, const char *name, const struct page_share *rows, size_t n)
{
    svg_open(f, n, name, 0, true);
    for (size_t i = 0; i < n; i++) {
        const struct page_share *r = &rows[i];
        svg_label(f, i, r->short_label != NULL ? r->short_label : r->label);
        if (r->issued <= 0) {
            svg_note(f, i, SVG_BAR_X + 4, "no cards issued", -1);
            continue;
        }
        double x = SVG_BAR_X;
        double per = (double)SVG_BAR_W / (double)r->issued;
        svg_segment(f, i, &x, per * (double)r->accepted, PAGE_ACCEPTED, r->label, r->accepted,
                    "accepted");
        svg_segment(f, i, &x, per * (double)r->overridden, PAGE_OVERRIDDEN, r->label, r->overridden,
                    "overridden");
        svg_segment(f, i, &x, per * (double)r->no_feedback, PAGE_NO_FEEDBACK, r->label,
                    r->no_feedback, "no feedback");
        if (r->has_ci)
            svg_interval(f, i, r);
        svg_note(f, i, SVG_BAR_X + SVG_BAR_W + 8, "issued", r->issued);
    }
    fputs("</svg>\n", f);
}

void page_chart_outcomes(FILE *f, const struct store_report *rep)
{
    struct page_share *rows = calloc(rep->n > 0 ? rep->n : 1, sizeof *rows);
    if (rows == NULL)
        return; /* the table under it still has every number */
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_rule *r = &rep->rules[i];
        rows[i] =
            (struct page_share){r->rule,        NULL,      r->issued, r->accepted, r->overridden,
                                r->no_feedback, r->has_ci, r->ci_low, r->ci_high};
    }
    page_chart_shares(f,
                      "Accepted, overridden and no feedback per rule, as shares of the cards"
                      " issued, with the 95 % interval of the acceptance rate",
                      rows, rep->n);
    free(rows);
}

void page_chart_categories(FILE *f, const struct store_report *rep)
{
    long long max = 1;
    for (size_t i = 0; i < rep->n; i++)
        max = rep->rules[i].overridden > max ? rep->rules[i].overridden : max;
    long long step = (max + SVG_TICKS - 1) / SVG_TICKS; /* the scale ends at a round tick */
    double per = (double)SVG_BAR_W / (double)(step * SVG_TICKS);
    svg_open(f, rep->n, "Overrides per rule by category of the reason given", step, false);
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_rule *r = &rep->rules[i];
        svg_label(f, i, r->rule);
        if (r->overridden <= 0) {
            svg_note(f, i, SVG_BAR_X + 4, "no overrides", -1);
            continue;
        }
        double x = SVG_BAR_X;
        for (size_t k = 0; k < r->n_categories; k++) {
            const char *cat = r->categories[k].category;
            svg_segment(f, i, &x, per * (double)r->categories[k].count, page_category_colour(cat),
                        r->rule, r->categories[k].count, cat != NULL ? cat : "unknown");
        }
        long long none = page_no_reason(r);
        svg_segment(f, i, &x, per * (double)none, PAGE_NO_REASON, r->rule, none,
                    PAGE_NO_REASON_LABEL);
        svg_note(f, i, x + 8, "overridden", r->overridden);
    }
    fputs("</svg>\n", f);
}

void page_chart_burden(FILE *f, const struct store_report *rep)
{
    double max = 1.0;
    for (size_t i = 0; i < rep->n_services; i++)
        if (rep->services[i].cards_per_100_calls > max)
            max = rep->services[i].cards_per_100_calls;
    long long step = ((long long)max + SVG_TICKS) / SVG_TICKS; /* ends past the longest bar */
    double per = (double)SVG_BAR_W / (double)(step * SVG_TICKS);
    svg_open(f, rep->n_services, "Cards per 100 calls of each service", step, false);
    for (size_t i = 0; i < rep->n_services; i++) {
        const struct report_service *v = &rep->services[i];
        char what[SVG_TEXT_MAX];
        double x = SVG_BAR_X;
        svg_label(f, i, v->service);
        snprintf(what, sizeof what, "cards in %lld calls", v->calls);
        svg_segment(f, i, &x, per * v->cards_per_100_calls, PAGE_ACCEPTED, v->service, v->cards,
                    what);
        snprintf(what, sizeof what, "%.1f per 100 calls", v->cards_per_100_calls);
        svg_note(f, i, x + 8, v->cards > 0 ? what : "no cards", -1);
    }
    fputs("</svg>\n", f);
}

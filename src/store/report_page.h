/* report_page.h - what the committee's page (report_html.c) and its SVG charts
 * (report_svg.c) share: the palette and the charts. Internal to src/store. */
#ifndef MYOCDS_STORE_REPORT_PAGE_H
#define MYOCDS_STORE_REPORT_PAGE_H

#include "store/report.h"

#include <stdbool.h>
#include <stdio.h>

/* Okabe-Ito: told apart with every common colour-vision deficiency. */
#define PAGE_ACCEPTED "#0072B2"
#define PAGE_OVERRIDDEN "#D55E00"
#define PAGE_NO_FEEDBACK "#BBBBBB"
#define PAGE_UNKNOWN "#999999"   /* a reason of a category the rules do not name */
#define PAGE_NO_REASON "#FFFFFF" /* an override that gave no reason (outlined) */

#define PAGE_NO_REASON_LABEL "no reason given"

#define PAGE_CATEGORIES 6
/* The six categories of the HL7 Non-Adherence Reason Codes, in the legend's order. */
extern const char *const page_categories[PAGE_CATEGORIES];

/* The colour of a category of the HL7 Non-Adherence Reason Codes (NULL: unknown); a
 * static string. */
const char *page_category_colour(const char *category);

/* The overrides of r that gave no reason: overridden less those counted per category. */
long long page_no_reason(const struct report_rule *r);

/* One bar of a chart of shares: what became of a group's cards. Borrowed. */
struct page_share {
    const char *label;       /* in tooltips, and drawn unless short_label is set */
    const char *short_label; /* drawn left of the bar; NULL: label */
    long long issued, accepted, overridden, no_feedback;
    bool has_ci;
    double ci_low, ci_high;
};

/* Writes the inline SVG chart (accessible name name) of accepted / overridden / no
 * feedback of each row, as shares of its cards issued, with each rate's 95 % interval. */
void page_chart_shares(FILE *f, const char *name, const struct page_share *rows, size_t n);

/* page_chart_shares() of every rule; rep is only read. */
void page_chart_outcomes(FILE *f, const struct store_report *rep);

/* The section "Trend by week": a small chart per rule of its cards issued, accepted and
 * overridden each week, and the table of the weeks that had any (report_trend.c). */
void page_section_weeks(FILE *f, const struct store_report *rep);

/* The section per service and per EHR: a chart of shares per EHR and the tables of both
 * (report_groups.c). */
void page_section_groups(FILE *f, const struct store_report *rep);

/* The section "In force": the rules switched off and the thresholds the report was made
 * with, when known (report_groups.c). */
void page_section_in_force(FILE *f, const struct store_report *rep);

/* Shared helpers of the page's sections (report_html.c). */
void page_legend_item(FILE *f, const char *colour, const char *name);
void page_pct(FILE *f, double v); /* 100 * v with one decimal and " %" */

/* Writes the inline SVG chart of each rule's overrides stacked by category; rep is only
 * read. */
void page_chart_categories(FILE *f, const struct store_report *rep);

/* Writes the inline SVG chart of each service's cards per 100 calls; rep is only read. */
void page_chart_burden(FILE *f, const struct store_report *rep);

#endif

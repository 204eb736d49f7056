/* report_page.h - what the committee's page (report_html.c) and its SVG charts
 * (report_svg.c) share: the palette and the charts. Internal to src/store. */
#ifndef MYOCDS_STORE_REPORT_PAGE_H
#define MYOCDS_STORE_REPORT_PAGE_H

#include "store/report.h"

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

/* Writes the inline SVG chart of accepted / overridden / no feedback per rule, as shares
 * of the cards issued, with each rate's 95 % interval; rep is only read. */
void page_chart_outcomes(FILE *f, const struct store_report *rep);

/* Writes the inline SVG chart of each rule's overrides stacked by category; rep is only
 * read. */
void page_chart_categories(FILE *f, const struct store_report *rep);

/* Writes the inline SVG chart of each service's cards per 100 calls; rep is only read. */
void page_chart_burden(FILE *f, const struct store_report *rep);

#endif

/* dose_text.c - a dose from the instructions text, only where it is beyond doubt.
 *
 * Read only when a dosage entry carries no structured dose: "Take 3 tablets (60 mg total)
 * by mouth daily", "prednisone 40 mg PO BID", "Take 2 tablets by mouth twice daily" (with a
 * known strength). The text must state one amount (one mg figure, or "N mg total", or one
 * tablet/capsule count with the strength) and one frequency; two figures that disagree, a
 * range ("1-2 tablets", "2 to 3"), or a schedule that changes ("then", "taper", "followed
 * by", "decrease", "increase", "alternate", "as directed") is unknown. Every pointer is
 * borrowed; nothing is allocated or kept.
 */
#include "clinical/dose_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define TEXT_MAX 512      /* longer instructions are not read */
#define TEXT_DIGITS_MAX 6 /* a longer figure is no dose */
#define SAME_MG 1e-6

/* What the text states, figure by figure. */
struct text_dose {
    double mg;    /* the one mg figure (or "N mg total"); < 0 none */
    double total; /* "N mg total"; < 0 none */
    double count; /* the one tablet/capsule count; < 0 none */
    bool doubt;   /* two different figures, a range, or a changing schedule */
};

static bool word_at(const char *p, const char *w)
{
    size_t n = strlen(w);
    return strncasecmp(p, w, n) == 0 && !isalpha((unsigned char)p[n]);
}

/* True when text holds a word that makes a schedule change or defer to the prescriber. */
static bool changes(const char *text)
{
    static const char *const words[] = {"then",     "taper",     "followed", "decrease",
                                        "increase", "alternate", "directed", "reduce",
                                        "until",    "sliding",   "or"};
    for (const char *p = text; *p != '\0'; p++) {
        if (p != text && isalpha((unsigned char)p[-1]))
            continue;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            if (word_at(p, words[i]))
                return true;
    }
    return false;
}

static const char *skip_blank(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Keeps one value per slot; a second, different one is doubt. */
static void keep(double *slot, double v, bool *doubt)
{
    if (*slot >= 0 && fabs(*slot - v) > SAME_MG)
        *doubt = true;
    *slot = v;
}

/* The unit after a figure: mass in mg per unit (mg 1, g 1000, mcg 0.001), or 0 for a
 * tablet/capsule count, or < 0 for anything else; *end past it. */
static double unit_after(const char *p, const char **end)
{
    static const struct {
        const char *w;
        double mg;
    } units[] = {{"mg", 1},       {"milligrams", 1}, {"g", 1000}, {"mcg", 0.001},
                 {"tablets", 0},  {"tablet", 0},     {"tabs", 0}, {"tab", 0},
                 {"capsules", 0}, {"capsule", 0},    {"caps", 0}, {"cap", 0}};
    p = skip_blank(p);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (word_at(p, units[i].w)) {
            *end = p + strlen(units[i].w);
            return units[i].mg;
        }
    *end = p;
    return -1;
}

/* Walks the figures of text into *d. */
static void read_figures(const char *text, struct text_dose *d)
{
    for (const char *p = text; *p != '\0'; p++) {
        double v = 0;
        const char *end = NULL;
        if (!isdigit((unsigned char)*p) ||
            (p != text && (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
            continue;
        const char *after = dose_parse_decimal(p, &v);
        if (after == NULL) {
            d->doubt = true;
            return;
        }
        const char *next = skip_blank(after);
        if (*next == '-' || *next == '/' || word_at(next, "to"))
            d->doubt = true; /* "1-2 tablets", "2 to 3", "5 mg/mL" */
        double mg = unit_after(after, &end);
        if (mg > 0 && word_at(skip_blank(end), "total"))
            keep(&d->total, v * mg, &d->doubt);
        else if (mg > 0)
            keep(&d->mg, v * mg, &d->doubt);
        else if (mg == 0)
            keep(&d->count, v, &d->doubt);
        p = end > after ? end - 1 : after - 1;
    }
}

double dose_text_mg(const char *text, double strength_mg, double *units)
{
    struct text_dose d = {-1, -1, -1, false};
    *units = -1;
    if (text == NULL || strnlen(text, TEXT_MAX + 1) > TEXT_MAX || changes(text))
        return -1;
    read_figures(text, &d);
    if (d.doubt)
        return -1;
    double by_count = d.count > 0 && strength_mg > 0 ? d.count * strength_mg : -1;
    double mg = d.total > 0 ? d.total : d.mg;
    if (mg > 0 && d.total > 0 && d.mg > 0 && fabs(d.mg - d.total) > SAME_MG &&
        fabs(d.mg * (d.count > 0 ? d.count : 1) - d.total) > SAME_MG)
        return -1; /* "20 mg ... 60 mg total" without a count to join them */
    if (mg > 0 && by_count > 0 && fabs(mg - by_count) > SAME_MG)
        return -1; /* the count and the figure disagree */
    if (mg <= 0)
        mg = by_count;
    if (mg <= 0 || mg > DOSE_MAX_MG)
        return -1;
    if (d.count > 0 && strength_mg > 0)
        *units = d.count;
    return mg;
}

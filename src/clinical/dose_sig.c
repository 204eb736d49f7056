/* dose_sig.c - the common sig words of a timing's text ("BID", "twice daily", "every 12
 * (twelve) hours", "Once", "every other day", "weekly") as administrations per day.
 *
 * Read only where a Timing carries no structured repeat, from timing.code.text and its
 * codings' displays (Oracle Health's Millennium codes are tenant-local: only their display
 * means anything), and from instruction text. A text naming two different frequencies, or
 * none, is unknown: the engine never guesses. Parenthesised words are skipped ("every 12
 * (twelve) hours"). Every pointer is borrowed; nothing is allocated or kept.
 */
#include "clinical/dose_internal.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define SIG_TEXT_MAX 256 /* longer text is not a sig: unknown */
#define SIG_WORDS_MAX 48
#define SIG_WORD_MAX 24
#define HOURS_PER_DAY 24.0
#define DAYS_PER_WEEK 7.0
#define EVERY_MAX 72 /* every 1..72 hours, every 1..72 days, every 1..72 weeks */

struct sig_words {
    char w[SIG_WORDS_MAX][SIG_WORD_MAX];
    int n;
};

/* Lower-cased words of text, without parenthesised parts; false when text is too long. */
static bool split(const char *text, struct sig_words *s)
{
    int depth = 0;
    size_t len = 0;
    s->n = 0;
    if (strnlen(text, SIG_TEXT_MAX + 1) > SIG_TEXT_MAX)
        return false;
    for (const char *p = text;; p++) {
        unsigned char c = (unsigned char)*p;
        depth += c == '(';
        bool word = isalnum(c) && depth == 0;
        if (word && len + 1 < SIG_WORD_MAX && s->n < SIG_WORDS_MAX)
            s->w[s->n][len++] = (char)tolower(c);
        if (!word && len > 0) {
            s->w[s->n++][len] = '\0';
            len = 0;
        }
        depth -= c == ')' && depth > 0;
        if (c == '\0')
            return true;
    }
}

static bool is(const struct sig_words *s, int i, const char *word)
{
    return i >= 0 && i < s->n && strcmp(s->w[i], word) == 0;
}

/* A small count: digits, or a number word. 0 when none. */
static int count_at(const struct sig_words *s, int i)
{
    static const char *const words[] = {"zero",  "one",   "two",  "three", "four",   "five",  "six",
                                        "seven", "eight", "nine", "ten",   "eleven", "twelve"};
    if (i < 0 || i >= s->n)
        return 0;
    const char *w = s->w[i];
    if (isdigit((unsigned char)w[0])) {
        int v = 0;
        for (; isdigit((unsigned char)*w) && v <= EVERY_MAX; w++)
            v = v * 10 + (*w - '0');
        return *w == '\0' && v <= EVERY_MAX ? v : 0;
    }
    for (int k = 1; k < (int)(sizeof words / sizeof words[0]); k++)
        if (strcmp(w, words[k]) == 0)
            return k;
    return 0;
}

/* "q<n>h" / "q<n>d" in one word: per day, else < 0. */
static double q_word(const char *w)
{
    int v = 0;
    const char *p = w + 1;
    if (w[0] != 'q' || !isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p) && v <= EVERY_MAX; p++)
        v = v * 10 + (*p - '0');
    if (v < 1 || v > EVERY_MAX || p[1] != '\0')
        return -1;
    return *p == 'h' ? HOURS_PER_DAY / v : *p == 'd' ? 1.0 / v : -1;
}

static bool day_word(const struct sig_words *s, int i)
{
    return is(s, i, "daily") || is(s, i, "day") || is(s, i, "days") || is(s, i, "d");
}

static bool hour_word(const struct sig_words *s, int i)
{
    return is(s, i, "hours") || is(s, i, "hour") || is(s, i, "hrs") || is(s, i, "hr") ||
           is(s, i, "h");
}

static bool week_word(const struct sig_words *s, int i)
{
    return is(s, i, "weeks") || is(s, i, "week") || is(s, i, "weekly") || is(s, i, "wk");
}

/* "every N hours|days|weeks", "every other day", "every day|week|morning|evening":
 * per day for the phrase starting at word i ("every" or "q"), else < 0. */
static double every_at(const struct sig_words *s, int i)
{
    int n = count_at(s, i + 1);
    if (n > 0 && hour_word(s, i + 2))
        return HOURS_PER_DAY / n;
    if (n > 0 && day_word(s, i + 2))
        return 1.0 / n;
    if (n > 0 && week_word(s, i + 2))
        return 1.0 / (DAYS_PER_WEEK * n);
    if (is(s, i, "every") && is(s, i + 1, "other") && day_word(s, i + 2))
        return 0.5;
    if (is(s, i, "every") && (day_word(s, i + 1) || is(s, i + 1, "morning") ||
                              is(s, i + 1, "evening") || is(s, i + 1, "night")))
        return 1;
    if (is(s, i, "every") && week_word(s, i + 1))
        return 1.0 / DAYS_PER_WEEK;
    return -1;
}

/* "<n> times daily|a day|per day|weekly", "twice ...", "once ...": per day, else < 0. */
static double times_at(const struct sig_words *s, int i, int *used)
{
    int n = is(s, i, "once") ? 1 : is(s, i, "twice") ? 2 : 0;
    int at = i + 1;
    if (n == 0 && (n = count_at(s, i)) > 0 && (is(s, i + 1, "times") || is(s, i + 1, "time")))
        at = i + 2;
    else if (n == 0 || (!is(s, i, "once") && !is(s, i, "twice")))
        return -1;
    if (is(s, at, "a") || is(s, at, "per") || is(s, at, "each") || is(s, at, "every"))
        at++;
    *used = at - i + 1;
    if (day_word(s, at))
        return n;
    if (week_word(s, at))
        return n / DAYS_PER_WEEK;
    *used = 0;
    return -1;
}

/* The frequency of one word on its own (abbreviations and single words), else < 0. */
static double word_alone(const char *w, bool *once)
{
    static const struct {
        const char *word;
        double per_day;
    } words[] = {{"qd", 1},
                 {"qday", 1},
                 {"daily", 1},
                 {"nightly", 1},
                 {"qhs", 1},
                 {"qam", 1},
                 {"qpm", 1},
                 {"bid", 2},
                 {"tid", 3},
                 {"qid", 4},
                 {"qod", 0.5},
                 {"weekly", 1.0 / DAYS_PER_WEEK},
                 {"qwk", 1.0 / DAYS_PER_WEEK}};
    if (strcmp(w, "once") == 0 || strcmp(w, "stat") == 0 || strcmp(w, "x1") == 0) {
        *once = true;
        return 1;
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(w, words[i].word) == 0)
            return words[i].per_day;
    return q_word(w);
}

/* Records one frequency found; a second, different one makes the text ambiguous. */
static void found(double *per_day, bool *clash, double f)
{
    if (*per_day > 0 && (*per_day - f > 1e-9 || f - *per_day > 1e-9))
        *clash = true;
    *per_day = f;
}

double dose_sig_per_day(const char *text, bool *once, bool *as_needed)
{
    struct sig_words s;
    double per_day = -1;
    bool clash = false;
    bool single = false;
    *once = false;
    if (text == NULL || !split(text, &s))
        return -1;
    for (int i = 0; i < s.n; i++) {
        int used = 0;
        double f = -1;
        if (is(&s, i, "prn") || (is(&s, i, "as") && is(&s, i + 1, "needed")))
            *as_needed = true;
        if (is(&s, i, "every") || is(&s, i, "q"))
            f = every_at(&s, i);
        if (f < 0 && (f = times_at(&s, i, &used)) > 0) {
            found(&per_day, &clash, f);
            i += used - 1;
            continue;
        }
        if (f < 0)
            f = word_alone(s.w[i], &single);
        if (f > 0)
            found(&per_day, &clash, f);
    }
    /* "once" beside a frequency ("once daily") is that frequency, not a single dose */
    if (single && per_day == 1)
        *once = true;
    if (single && per_day != 1)
        clash = true;
    if (clash)
        *once = false;
    return clash ? -1 : per_day;
}

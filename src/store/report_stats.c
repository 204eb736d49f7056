/* report_stats.c - what a report derives from its counts, once for every format: cards
 * with no feedback, the 95 % Wilson score interval of the acceptance rate, the cards per
 * 100 calls (report.h defines them), and the rule the committee's headline names.
 */
#include "store/report.h"

#include <math.h>
#include <string.h>

#define WILSON_Z 1.959963984540054 /* the normal quantile of 0.975: a 95 % interval */

bool report_wilson(long long k, long long n, double *low, double *high)
{
    *low = *high = 0.0;
    if (n <= 0 || k < 0 || k > n)
        return false;
    double nn = (double)n;
    double p = (double)k / nn;
    double z2 = WILSON_Z * WILSON_Z;
    double denom = 1.0 + z2 / nn;
    double centre = (p + z2 / (2.0 * nn)) / denom;
    double half = WILSON_Z * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
    *low = k == 0 ? 0.0 : fmax(0.0, centre - half); /* exact at the ends */
    *high = k == n ? 1.0 : fmin(1.0, centre + half);
    return true;
}

#define PER_100 100.0

/* No feedback and the interval of issued / accepted / overridden (a rule's, a group's). */
static void derive_counts(long long issued, long long accepted, long long overridden,
                          long long *no_feedback, bool *has_ci, double *low, double *high)
{
    long long rest = issued - accepted - overridden;
    *no_feedback = rest > 0 ? rest : 0;
    *has_ci = report_wilson(accepted < issued ? accepted : issued, issued, low, high);
}

static void derive_outcomes(struct report_outcomes *o)
{
    derive_counts(o->issued, o->accepted, o->overridden, &o->no_feedback, &o->has_ci, &o->ci_low,
                  &o->ci_high);
    o->rate = o->has_ci
                  ? (double)(o->accepted < o->issued ? o->accepted : o->issued) / (double)o->issued
                  : 0;
}

void store_report_derive(struct store_report *rep)
{
    rep->calls_total = 0;
    for (size_t i = 0; i < rep->n_ehrs; i++)
        derive_outcomes(&rep->ehrs[i].out);
    for (size_t i = 0; i < rep->n_services; i++) {
        struct report_service *v = &rep->services[i];
        rep->calls_total += v->calls;
        v->has_per_100 = v->calls > 0;
        v->cards_per_100_calls = v->has_per_100 ? PER_100 * (double)v->cards / (double)v->calls : 0;
        derive_outcomes(&v->out);
    }
    for (size_t i = 0; i < rep->n; i++) {
        struct report_rule *r = &rep->rules[i];
        derive_counts(r->issued, r->accepted, r->overridden, &r->no_feedback, &r->has_ci,
                      &r->ci_low, &r->ci_high);
        r->has_per_100 = rep->calls_total > 0;
        r->cards_per_100_calls =
            r->has_per_100 ? PER_100 * (double)r->issued / (double)rep->calls_total : 0;
    }
}

const struct report_rule *store_report_most_ignored(const struct store_report *rep)
{
    const struct report_rule *best = NULL;
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_rule *r = &rep->rules[i];
        if (r->issued < REPORT_HEADLINE_MIN_ISSUED)
            continue;
        /* r is lower than best when accepted/issued < best's: cross-multiplied, exact */
        if (best == NULL) {
            best = r;
            continue;
        }
        long double a = (long double)r->accepted * (long double)best->issued;
        long double b = (long double)best->accepted * (long double)r->issued;
        if (a < b || (a == b && r->issued > best->issued))
            best = r;
    }
    return best;
}

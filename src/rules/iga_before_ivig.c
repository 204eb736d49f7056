/* iga_before_ivig.c - serum IgA before the first IVIG; IgA deficiency before any IVIG.
 *
 * docs/RULES.md "The rules": guards every IVIG order, myositis or not. Critical when the patient is
 * IgA deficient: the latest IgA below the threshold ("<7 mg/dL" counts, view_lab_below), or an
 * IgA-deficiency condition. Warning when the IVIG would be the first and no IgA result can
 * be read: none on record, or one whose value is unknown (masked, text, a bound that does
 * not tell), which the card says (fail safe: such a result is no result). An IgA test in
 * the same draft orders answers the warning, never the critical card. A number in a unit
 * the service does not convert is never counted as low, and before a first IVIG it is no
 * result either: the warning says so.
 */
#include "clinical/textmatch.h"
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

#define IGA_SHORT_MAX 64

struct iga {
    const char *indicator_deficient, *summary_deficient, *detail_deficient;
    const char *summary_unread, *detail_unread; /* a result on record that cannot be read */
    const char *unread_absent, *unread_text, *unread_shape, *unread_limit, *unread_unit;
    const char *fact_low, *fact_condition;   /* the deficiency: by the result, the condition */
    const char *short_low, *short_condition; /* the same, for the summary */
    struct rule_names test_names, test_names_not;
    struct rule_sugg iga_test;
    struct rule_reasons override_reasons_deficient;
    double iga_deficiency_mg_dl;
};

#define KEY(f, t) RULE_KEY(struct iga, f, t)
static const struct rule_key keys[] = {
    KEY(indicator_deficient, RK_INDICATOR),
    KEY(summary_deficient, RK_TEXT),
    KEY(detail_deficient, RK_TEXT),
    KEY(summary_unread, RK_TEXT),
    KEY(detail_unread, RK_TEXT),
    KEY(unread_absent, RK_TEXT),
    KEY(unread_text, RK_TEXT),
    KEY(unread_shape, RK_TEXT),
    KEY(unread_limit, RK_TEXT),
    KEY(unread_unit, RK_TEXT),
    KEY(fact_low, RK_TEXT),
    KEY(fact_condition, RK_TEXT),
    KEY(short_low, RK_TEXT),
    KEY(short_condition, RK_TEXT),
    RULE_NOTE("test_names_about"),
    KEY(test_names, RK_NAMES),
    KEY(test_names_not, RK_NAMES),
    KEY(iga_test, RK_SUGGESTION),
    KEY(override_reasons_deficient, RK_REASONS),
};
static const struct rule_param params[] = {
    RULE_PARAM(struct iga, iga_deficiency_mg_dl, 1, 50),
};
const struct rule_spec iga_before_ivig_spec = {keys, RULE_COUNT(keys), params, RULE_COUNT(params),
                                               sizeof(struct iga)};

/* True when an IVIG other than the one being ordered is in the record (any status). */
static bool other_ivig_on_record(const struct patient_view *v, const struct view_med *ivig)
{
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if (m != ivig && (m->classes & DC_IVIG) && !m->ordered)
            return true;
    }
    return v->past_ivig;
}

/* True when an IgA test is in the draft orders: by its code, or by a name of the rule's
 * "test_names" in a test's text or display, none of "test_names_not" with it ("tTG IgA" is
 * a coeliac test, not a serum IgA). */
static bool iga_test_ordered(const struct rule_ctx *ctx)
{
    const struct iga *k = ctx->own;
    return facts_test_ordered(ctx->view, LAB_IGA, &k->test_names, &k->test_names_not);
}

/* The text saying why the IgA result on record cannot be read. */
static const char *unread_text(const struct iga *k, const struct view_lab *lab)
{
    switch (lab->read) {
    case LAB_READ_NO_UNIT:
        return k->unread_unit;
    case LAB_READ_LT:
    case LAB_READ_LE:
    case LAB_READ_GE:
    case LAB_READ_GT:
        return k->unread_limit;
    default:
        break;
    }
    return lab->why == LAB_WHY_ABSENT ? k->unread_absent
           : lab->why == LAB_WHY_TEXT ? k->unread_text
                                      : k->unread_shape;
}

/* What the card says of the patient's IgA: its facts filled from the rule's texts. */
struct iga_words {
    char when[24];  /* " (2026-11-20)" or "" */
    char limit[16]; /* the threshold, "7" */
    char *fact;     /* owned: the deficiency, or why the result cannot be read */
    char *headline; /* owned: for the summary */
};

/* Fills w from the rule's texts: the deficiency (low: by the result, else by the
 * condition) or, when unread, why the result cannot be read. w->fact and w->headline are
 * the caller's to free, also when it returns -1 (out of memory). */
static int words_fill(const struct rule_ctx *ctx, bool low, bool unread, struct iga_words *w)
{
    const struct iga *k = ctx->own;
    const struct view_lab *lab = &ctx->view->labs[LAB_IGA];
    char date[16];
    w->when[0] = '\0';
    if (lab->present && lab->day >= 0) {
        facts_date(lab->day, date, sizeof date);
        snprintf(w->when, sizeof w->when, " (%s)", date);
    }
    snprintf(w->limit, sizeof w->limit, "%g", k->iga_deficiency_mg_dl);
    char raw[48];
    facts_lab_value(lab, raw, sizeof raw);
    const struct tvar vars[] = {{"iga_shown", lab->shown},
                                {"iga_when", w->when},
                                {"iga_limit", w->limit},
                                {"iga_raw", raw}};
    const char *fact = low ? k->fact_low : unread ? unread_text(k, lab) : k->fact_condition;
    w->fact = tmpl_fill(fact, vars, 4);
    w->headline = tmpl_fill(low ? k->short_low : k->short_condition, vars, 4);
    return w->fact != NULL && w->headline != NULL ? 0 : -1;
}

/* Appends the card (owned by out): critical when deficient, else the first-IVIG warning,
 * worded for an unreadable result when unread. -1 when out of memory. */
static int card(const struct rule_ctx *ctx, struct card_list *out, const struct view_med *ivig,
                bool low, bool deficient, bool unread)
{
    const struct iga *k = ctx->own;
    struct iga_words w = {0};
    int rc = words_fill(ctx, low, unread, &w);
    const struct tvar vars[] = {
        {"order", ivig->label},        {"order_short", ivig->drug->display},
        {"action", facts_action(ctx)}, {"iga_fact", w.fact},
        {"iga_short", w.headline},     {"iga_limit", w.limit},
        {"iga_when", w.when},          {"unread", w.fact},
    };
    int n = (int)(sizeof vars / sizeof vars[0]);
    struct card *c = NULL;
    if (rc == 0 && deficient)
        c = card_add(out, ctx, k->indicator_deficient, k->summary_deficient, k->detail_deficient,
                     vars, n);
    else if (rc == 0)
        c = card_add(out, ctx, ctx->conf->indicator,
                     unread ? k->summary_unread : ctx->conf->summary,
                     unread ? k->detail_unread : ctx->conf->detail, vars, n);
    free(w.fact);
    free(w.headline);
    if (card_about(c, ivig) == NULL)
        return -1;
    if (deficient)
        card_reasons(c, &k->override_reasons_deficient);
    else
        card_suggest(c, &k->iga_test, true);
    return 0;
}

int rule_iga_before_ivig(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct iga *k = ctx->own;
    const struct patient_view *v = ctx->view;
    const struct view_med *ivig = view_find(v, DC_IVIG, true);
    if (ivig == NULL)
        return 0;
    enum lab_verdict iga = view_lab_below(&v->labs[LAB_IGA], k->iga_deficiency_mg_dl);
    bool low = iga == LAB_BELOW;
    bool deficient = low || (v->cond_flags & COND_IGA_DEFICIENCY);
    /* a result that cannot be read is no result: the first IVIG still needs one; so is a
     * number in no unit the service converts (it cannot tell 4 mg/dL from 4 mg/L) */
    bool unreadable = iga == LAB_UNREADABLE || iga == LAB_NOT_COMPARABLE;
    bool unscreened = iga == LAB_NO_RESULT || unreadable;
    bool first_unscreened = unscreened && !other_ivig_on_record(v, ivig) && !iga_test_ordered(ctx);
    if (!deficient && !first_unscreened)
        return 0;
    return card(ctx, out, ivig, low, deficient, unreadable && !deficient);
}

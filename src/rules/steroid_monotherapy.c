/* steroid_monotherapy.c - a corticosteroid for non-IBM myositis with no steroid-sparing agent.
 *
 * docs/RULES.md "The rules": fires when a systemic glucocorticoid is ordered (or active, on
 * patient-view) for a non-IBM IIM patient and no steroid-sparing agent is active or being ordered.
 * Critical for IMNM / anti-HMGCR ("never attempt corticosteroid monotherapy"). An agent
 * counts when it reaches the whole body (facts_agent: an ointment or eye drops does not,
 * an agent given in cycles does while its effect lasts); one whose route and form say
 * nothing does not silence the card, which names it. A course for another condition or a
 * single dose is not myositis treatment (facts_trigger_gc). With TPMT low or deficient on
 * record, azathioprine is not suggested; with a pregnancy recorded, neither methotrexate nor
 * mycophenolate; a woman of child-bearing age offered either is told they are teratogenic.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Its entry in hooks/rules.json (the summary, detail and indicator every rule has are in
 * struct rule_conf) and its threshold. */
struct monotherapy {
    const char *indicator_imnm;
    const char *summary_imnm, *summary_established, *summary_imnm_established;
    const char *detail_established;
    const char *extra_imnm, *extra_ild, *extra_child, *extra_female, *extra_pregnant;
    const char *extra_agent_unknown, *extra_tpmt_low;
    const char *child_dose_computed, *child_dose_missing;
    struct rule_sugg methotrexate, methotrexate_with_tests, methotrexate_child,
        methotrexate_child_dosed, azathioprine, azathioprine_with_tpmt, mycophenolate;
    double child_mtx_mg_m2; /* a child's weekly methotrexate per m2 */
};

#define KEY(f, t) RULE_KEY(struct monotherapy, f, t)
static const struct rule_key keys[] = {
    KEY(indicator_imnm, RK_INDICATOR),
    KEY(summary_imnm, RK_TEXT),
    KEY(summary_established, RK_TEXT),
    KEY(summary_imnm_established, RK_TEXT),
    KEY(detail_established, RK_TEXT),
    KEY(extra_imnm, RK_TEXT),
    KEY(extra_ild, RK_TEXT),
    KEY(extra_child, RK_TEXT),
    KEY(extra_female, RK_TEXT),
    KEY(extra_pregnant, RK_TEXT),
    KEY(extra_agent_unknown, RK_TEXT),
    KEY(extra_tpmt_low, RK_TEXT),
    KEY(child_dose_computed, RK_TEXT),
    KEY(child_dose_missing, RK_TEXT),
    KEY(methotrexate, RK_SUGGESTION),
    KEY(methotrexate_with_tests, RK_SUGGESTION),
    KEY(methotrexate_child, RK_SUGGESTION),
    KEY(methotrexate_child_dosed, RK_SUGGESTION),
    KEY(azathioprine, RK_SUGGESTION),
    KEY(azathioprine_with_tpmt, RK_SUGGESTION),
    KEY(mycophenolate, RK_SUGGESTION),
};
static const struct rule_param params[] = {
    RULE_PARAM(struct monotherapy, child_mtx_mg_m2, 1, 30),
};
const struct rule_spec steroid_monotherapy_spec = {keys, RULE_COUNT(keys), params,
                                                   RULE_COUNT(params), sizeof(struct monotherapy)};

/* A child's weekly methotrexate: child_mtx_mg_m2 (hooks/rules.json) of body surface area
 * (facts_body_size), rounded to 0.5 mg; mg < 0 when the body's size is not known. */
struct child_dose {
    struct body_size body;
    double mg;
};

static void child_dose(const struct rule_ctx *ctx, struct child_dose *d)
{
    facts_body_size(ctx, &d->body);
    const struct monotherapy *k = ctx->own;
    d->mg = d->body.known ? round(k->child_mtx_mg_m2 * d->body.bsa_m2 * 2) / 2 : -1;
}

/* The sentence on a child's dose: computed, or what is missing. Owned; NULL when out of
 * memory. */
static char *child_dose_text(const struct rule_ctx *ctx, const struct child_dose *d)
{
    const struct monotherapy *k = ctx->own;
    char bsa[16], mg[16], h[16], w[16];
    snprintf(bsa, sizeof bsa, "%g", d->body.bsa_m2);
    snprintf(mg, sizeof mg, "%g", d->mg);
    snprintf(h, sizeof h, "%g", d->body.height_cm);
    snprintf(w, sizeof w, "%g", d->body.weight_kg);
    const struct tvar vars[] = {{"bsa_m2", bsa},
                                {"mtx_child_mg", mg},
                                {"height_cm", h},
                                {"weight_kg", w},
                                {"missing", d->body.missing != NULL ? d->body.missing : ""}};
    return tmpl_fill(d->body.known ? k->child_dose_computed : k->child_dose_missing, vars, 5);
}

/* True when a test of kind is neither on record nor ordered with the drug. */
static bool missing(const struct patient_view *v, enum lab_kind kind)
{
    return !v->labs[kind].present && !(v->lab_ordered & (1u << kind));
}

/* Picks the suggestions: methotrexate first, except for children (SC dosing per m2),
 * ILD (mycophenolate) and women of child-bearing age (azathioprine: not teratogenic).
 * With a pregnancy recorded neither methotrexate nor mycophenolate is offered; with TPMT
 * low or deficient, azathioprine is not. An agent whose screening is not on record comes
 * with its tests (hepatitis B/C and liver tests; TPMT). */
static void suggest(struct card *c, const struct rule_ctx *ctx, bool tpmt_low, bool pregnant,
                    const struct child_dose *d)
{
    const struct monotherapy *k = ctx->own;
    const struct patient_view *v = ctx->view;
    bool child = d != NULL;
    bool ild = (v->cond_flags & COND_ILD) != 0;
    bool female = facts_female_childbearing(v, ctx->th);
    bool unscreened = missing(v, LAB_HBSAG) || missing(v, LAB_HBC) || missing(v, LAB_HCV) ||
                      (missing(v, LAB_LIVER) && missing(v, LAB_AST));
    const struct rule_sugg *mtx =
        child        ? (d->body.known ? &k->methotrexate_child_dosed : &k->methotrexate_child)
        : unscreened ? &k->methotrexate_with_tests
                     : &k->methotrexate;
    if (!pregnant)
        card_suggest(c, mtx, child || (!ild && !female));
    if (!pregnant && child && d->body.known) {
        card_suggest_var(c, "mtx_child_mg", d->mg);
        card_suggest_var(c, "bsa_m2", d->body.bsa_m2);
        card_suggest_var(c, "height_cm", d->body.height_cm);
        card_suggest_var(c, "weight_kg", d->body.weight_kg);
    }
    if (!tpmt_low)
        card_suggest(c, missing(v, LAB_TPMT) ? &k->azathioprine_with_tpmt : &k->azathioprine,
                     !child && (pregnant || (female && !ild)));
    if (!child && !pregnant) /* its 500 mg twice daily is an adult dose */
        card_suggest(c, &k->mycophenolate, ild);
}

/* True when TPMT on record is low or deficient (view_lab_tpmt). */
static bool tpmt_low(const struct rule_ctx *ctx)
{
    enum lab_finding f = view_lab_tpmt(&ctx->view->labs[LAB_TPMT], ctx->th->tpmt_low_u_ml,
                                       ctx->th->tpmt_deficient_u_ml);
    return f == FINDING_ABNORMAL || f == FINDING_SEVERE;
}

/* The detail's extra paragraphs: the patient's circumstance (IMNM, child, ILD), the
 * teratogens offered to a woman of child-bearing age or a recorded pregnancy, an agent of
 * unknown form, low TPMT. pregnancy: the evidence, or ""; child: a child's dose, or NULL for
 * an adult. Owned by the caller; NULL when out of memory. */
static char *extras(const struct rule_ctx *ctx, const struct view_med *unknown, bool low,
                    const char *pregnancy, const struct child_dose *child)
{
    const struct monotherapy *k = ctx->own;
    const struct patient_view *v = ctx->view;
    const char *first = (v->iim & IIM_IMNM)          ? k->extra_imnm
                        : child != NULL              ? k->extra_child
                        : (v->cond_flags & COND_ILD) ? k->extra_ild
                                                     : "";
    const char *women = pregnancy[0] != '\0'                    ? k->extra_pregnant
                        : facts_female_childbearing(v, ctx->th) ? k->extra_female
                                                                : "";
    const struct tvar vars[] = {
        {"first", first},
        {"women", women},
        {"unknown", unknown != NULL ? k->extra_agent_unknown : ""},
        {"tpmt", low ? k->extra_tpmt_low : ""},
    };
    char *joined = tmpl_fill("{first}{women}{unknown}{tpmt}", vars, 4);
    if (joined == NULL)
        return NULL;
    /* the dose sentence only where the child's paragraph asks for it */
    bool says_dose = first == k->extra_child;
    char *dose = says_dose ? child_dose_text(ctx, child) : NULL;
    const struct tvar facts[] = {{"agent", unknown != NULL ? unknown->label : ""},
                                 {"pregnancy", pregnancy},
                                 {"child_dose", dose != NULL ? dose : ""}};
    char *filled = !says_dose || dose != NULL ? tmpl_fill(joined, facts, 3) : NULL;
    free(joined);
    free(dose);
    return filled;
}

int rule_steroid_monotherapy(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct monotherapy *k = ctx->own;
    const struct patient_view *v = ctx->view;
    if ((v->iim & IIM_NON_IBM) == 0 || (v->iim & IIM_IBM) != 0)
        return 0;
    const struct view_med *gc = facts_trigger_gc(v);
    if (gc == NULL || facts_agent(v) != NULL)
        return 0;

    bool imnm = (v->iim & IIM_IMNM) != 0;
    bool low = tpmt_low(ctx);
    char pregnancy[FACT_MAX];
    bool pregnant = facts_pregnant(ctx, pregnancy, sizeof pregnancy);
    char dose[48];
    char dose_detail[FACT_MAX];
    rule_fmt_dose(ctx->words, gc->mg_per_day, dose, sizeof dose);
    facts_dose_detail(ctx, gc, dose_detail, sizeof dose_detail);
    char since[16], days[16];
    long for_days = 0;
    bool established = facts_established(v, gc, ctx->th, since, sizeof since, &for_days);
    snprintf(days, sizeof days, "%ld", for_days);
    struct child_dose child;
    bool is_child = facts_is_child(v, ctx->th);
    if (is_child)
        child_dose(ctx, &child);
    char *extra = extras(ctx, facts_agent_unknown(v), low, pregnancy, is_child ? &child : NULL);
    if (extra == NULL)
        return -1;
    const struct tvar vars[] = {
        {"drug", gc->drug->display},
        {"dose", dose},
        {"order", gc->label},
        {"dose_detail", dose_detail},
        {"condition", v->iim_label},
        {"action", facts_action(ctx)},
        {"extra", extra},
        {"since", since},
        {"days", days},
    };
    /* on patient-view, a course of weeks: "add one now", not "start on day one" */
    const char *summary = imnm ? (established ? k->summary_imnm_established : k->summary_imnm)
                               : (established ? k->summary_established : ctx->conf->summary);
    struct card *c =
        card_add(out, ctx, imnm ? k->indicator_imnm : ctx->conf->indicator, summary,
                 established ? k->detail_established : ctx->conf->detail, vars, RULE_COUNT(vars));
    free(extra);
    if (card_about(c, gc) == NULL)
        return -1;
    suggest(c, ctx, low, pregnant, is_child ? &child : NULL);
    return 0;
}

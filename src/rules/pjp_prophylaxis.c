/* pjp_prophylaxis.c - high-dose or combined immunosuppression with no PJP prophylaxis.
 *
 * docs/RULES.md "The rules": an IIM patient on prednisone-equivalent >= pjp_pred_mg_per_day for
 * >= pjp_min_days, counted over the course (consecutive orders of one drug add up, a
 * taper's steps at the dose add up), or on a glucocorticoid course plus another systemic
 * immunosuppressant (IVIG excluded; an agent given in cycles counts while its effect
 * lasts), the course at >= pjp_combo_min_mg_per_day for >= pjp_combo_min_days, or of any
 * dose with a partner of "any_dose_partners" (cyclophosphamide, rituximab); a single dose
 * (premedication) never. No PJP agent may be active or being ordered. A glucocorticoid of
 * unknown dose adds nothing (no guessing). On order hooks it fires only when an order
 * being placed takes part in the risk. The allergy list changes only the suggestion: when
 * the EHR could not provide it, the card still fires, suggests TMP-SMX and says the list
 * could not be checked. With methotrexate on board the card notes the TMP-SMX interaction
 * and offers atovaquone as well.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pjp {
    const char *extra_sulfa, *extra_allergies_unknown, *extra_mtx; /* the detail's notes */
    const char *extra_child_dosed, *extra_child_missing;           /* a child's dose */
    const char *why_dose, *why_combo;                              /* which arm holds */
    const char *facts;              /* {action} {order} {dose_detail} {course} {partner} */
    const char *course_dose;        /* {days} {mg} {consecutive} */
    const char *course_plain;       /* {days} */
    const char *course_consecutive; /* the course is of consecutive orders */
    const char *with_partner;       /* {partner} */
    const char *partner_lasting;    /* {drug} {date} */
    const char *at_least;           /* before a dose that is a floor */
    const char *duration_open, *duration_days; /* {days}: for the summary */
    struct rule_names any_dose_partners;       /* terminology drug ids: a partner at any dose */
    struct rule_sugg tmp_smx_ds, tmp_smx_ss, atovaquone, tmp_smx_child, tmp_smx_child_dosed,
        atovaquone_mtx;
    double pjp_pred_mg_per_day, pjp_min_days;            /* the dose arm */
    double pjp_combo_min_mg_per_day, pjp_combo_min_days; /* the combination arm; 0: any */
    double child_tmp_mg_m2_day, child_tmp_max_mg_day;    /* a child's trimethoprim */
};

#define KEY(f, t) RULE_KEY(struct pjp, f, t)
static const struct rule_key keys[] = {
    KEY(extra_sulfa, RK_TEXT),
    KEY(extra_allergies_unknown, RK_TEXT),
    KEY(extra_mtx, RK_TEXT),
    KEY(extra_child_dosed, RK_TEXT),
    KEY(extra_child_missing, RK_TEXT),
    KEY(why_dose, RK_TEXT),
    KEY(why_combo, RK_TEXT),
    KEY(facts, RK_TEXT),
    KEY(course_dose, RK_TEXT),
    KEY(course_plain, RK_TEXT),
    KEY(course_consecutive, RK_TEXT),
    KEY(with_partner, RK_TEXT),
    KEY(partner_lasting, RK_TEXT),
    KEY(at_least, RK_TEXT),
    KEY(duration_open, RK_TEXT),
    KEY(duration_days, RK_TEXT),
    KEY(any_dose_partners, RK_NAMES),
    KEY(tmp_smx_ds, RK_SUGGESTION),
    KEY(tmp_smx_ss, RK_SUGGESTION),
    KEY(atovaquone, RK_SUGGESTION),
    KEY(tmp_smx_child, RK_SUGGESTION),
    KEY(tmp_smx_child_dosed, RK_SUGGESTION),
    KEY(atovaquone_mtx, RK_SUGGESTION),
};
#define PARAM(f, lo, hi) RULE_PARAM(struct pjp, f, lo, hi)
static const struct rule_param params[] = {
    PARAM(pjp_pred_mg_per_day, 5, 100),      PARAM(pjp_min_days, 7, 180),
    PARAM(pjp_combo_min_mg_per_day, 0, 100), PARAM(pjp_combo_min_days, 0, 180),
    PARAM(child_tmp_mg_m2_day, 50, 300),     PARAM(child_tmp_max_mg_day, 80, 640),
};
const struct rule_spec pjp_prophylaxis_spec = {keys, RULE_COUNT(keys), params, RULE_COUNT(params),
                                               sizeof(struct pjp)};

struct pjp_risk {
    double pred;                  /* prednisone-equivalent mg/day named on the card */
    double days;                  /* the course's days at the dose; < 0 open-ended */
    const struct view_med *gc;    /* the glucocorticoid named on the card */
    const struct view_med *other; /* the systemic partner of the combination, or NULL */
    bool by_dose;                 /* the dose arm holds */
    bool by_combo;                /* the combination arm holds */
    bool at_least;                /* pred is a floor: a taper whose steps reach the dose */
};

/* A systemic glucocorticoid course that may count: not a draft's replaced order, not a
 * lasting agent, not a single dose. */
static bool course_counts(const struct view_med *m)
{
    return (m->classes & DC_GLUCOCORTICOID) && m->systemic && !m->replaced && !m->lasting &&
           !m->single_dose;
}

/* True when m's own schedule reaches mg prednisone-equivalent per day (today's dose, or a
 * step of its taper): a maintenance dose after a high-dose course does not. */
static bool reaches(const struct view_med *m, double mg)
{
    if (m->steps <= 1)
        return m->pred_mg_per_day >= 0 && m->pred_mg_per_day >= mg;
    return view_med_days_at(m, mg) != 0;
}

/* True when days (< 0 open-ended) reach min. */
static bool long_enough(double days, double min)
{
    return days < 0 || days >= min;
}

/* True when m's drug is one of the rule's "any_dose_partners". */
static bool any_dose_partner(const struct rule_ctx *ctx, const struct view_med *m)
{
    const struct rule_names *ids = &((const struct pjp *)ctx->own)->any_dose_partners;
    for (int i = 0; i < ids->n; i++)
        if (strcmp(ids->v[i], m->drug->id) == 0)
            return true;
    return false;
}

/* The dose arm: the course of one glucocorticoid at the dose long enough (the one being
 * ordered first), else the concurrent courses of known dose whose sum reaches it. */
static void assess_dose(const struct patient_view *v, const struct pjp *th, struct pjp_risk *r)
{
    double sum = 0, sum_days = 0;
    const struct view_med *sum_gc = NULL;
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if (!course_counts(m))
            continue;
        double at = view_course_days_at(v, m, th->pjp_pred_mg_per_day);
        if (reaches(m, th->pjp_pred_mg_per_day) && at != 0 && long_enough(at, th->pjp_min_days) &&
            (!r->by_dose || (m->trigger && !r->gc->trigger))) {
            r->by_dose = true;
            r->gc = m;
            r->days = at;
            r->at_least = m->pred_mg_per_day < th->pjp_pred_mg_per_day;
            r->pred = r->at_least ? th->pjp_pred_mg_per_day : m->pred_mg_per_day;
        }
        /* the course's days at today's dose: each summand held for long enough */
        double all = m->pred_mg_per_day > 0 ? view_course_days_at(v, m, m->pred_mg_per_day) : 0;
        if (m->steps <= 1 && all != 0 && long_enough(all, th->pjp_min_days)) {
            sum += m->pred_mg_per_day;
            if (sum_gc == NULL || (m->trigger && !sum_gc->trigger))
                sum_gc = m;
            if (sum_days >= 0 && (all < 0 || all > sum_days))
                sum_days = all;
        }
    }
    if (!r->by_dose && sum_gc != NULL && sum >= th->pjp_pred_mg_per_day) {
        r->by_dose = true;
        r->gc = sum_gc;
        r->pred = sum;
        r->days = sum_days;
    }
}

/* The glucocorticoid courses the combination arm may pair with a partner: the first of
 * any dose (for an any-dose partner) and the first at the combination's dose for long
 * enough, each the first being ordered and the first at all. */
struct combo_courses {
    const struct view_med *any, *any_ordered, *dosed, *dosed_ordered;
};

static void combo_courses(const struct patient_view *v, const struct pjp *th,
                          struct combo_courses *c)
{
    *c = (struct combo_courses){NULL, NULL, NULL, NULL};
    double mg = th->pjp_combo_min_mg_per_day;
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if (!course_counts(m) || m->pred_mg_per_day < 0)
            continue;
        double at = view_course_days_at(v, m, mg);
        bool dosed = reaches(m, mg) && at != 0 && long_enough(at, th->pjp_combo_min_days);
        if (c->any == NULL)
            c->any = m;
        if (c->any_ordered == NULL && m->trigger)
            c->any_ordered = m;
        if (dosed && c->dosed == NULL)
            c->dosed = m;
        if (dosed && c->dosed_ordered == NULL && m->trigger)
            c->dosed_ordered = m;
    }
}

/* The combination arm: a systemic partner (not IVIG) and a glucocorticoid course at the
 * combination's dose long enough, or of any dose with an any-dose partner. On order hooks
 * the glucocorticoid or the partner must be being ordered. Linear in the medications. */
static void assess_combo(const struct rule_ctx *ctx, struct pjp_risk *r)
{
    const struct patient_view *v = ctx->view;
    struct combo_courses c;
    combo_courses(v, ctx->own, &c);
    for (int k = 0; k < v->n_meds && !r->by_combo; k++) {
        const struct view_med *p = &v->meds[k];
        if (!(p->classes & DC_IMMUNOSUPPRESSANT) || !p->systemic)
            continue;
        const struct view_med *m = any_dose_partner(ctx, p) ? (p->trigger ? c.any : c.any_ordered)
                                   : p->trigger             ? c.dosed
                                                            : c.dosed_ordered;
        if (m == NULL)
            continue;
        r->by_combo = true;
        r->other = p;
        if (!r->by_dose) {
            r->gc = m;
            r->pred = m->pred_mg_per_day;
            r->days = view_course_days_at(v, m, 0);
        }
    }
}

static void assess(const struct rule_ctx *ctx, struct pjp_risk *r)
{
    *r = (struct pjp_risk){0, 0, NULL, NULL, false, false, false};
    assess_dose(ctx->view, ctx->own, r);
    if (r->by_dose && !r->gc->trigger)
        r->by_dose = false; /* nothing being ordered takes part: not this hook's risk */
    assess_combo(ctx, r);
    if (r->by_dose && r->other == NULL) {
        /* name a partner on the card when there is one */
        for (int k = 0; k < ctx->view->n_meds && r->other == NULL; k++)
            if ((ctx->view->meds[k].classes & DC_IMMUNOSUPPRESSANT) && ctx->view->meds[k].systemic)
                r->other = &ctx->view->meds[k];
    }
}

/* The detail's note on allergies: a sulfonamide allergy on record, an allergy list the EHR
 * could not provide, or nothing. Borrowed from the rule's conf. */
static const char *allergy_note(const struct rule_ctx *ctx)
{
    const struct pjp *k = ctx->own;
    if (ctx->view->sulfonamide_allergy)
        return k->extra_sulfa;
    if (ctx->view->missing & DATA_ALLERGIES)
        return k->extra_allergies_unknown;
    return "";
}

/* "methotrexate 15 mg weekly", or "rituximab (last given 2026-09-01, its effect outlasts
 * the order)" for a partner whose effect lasts. */
static void partner_phrase(const struct rule_ctx *ctx, const struct view_med *p, char *buf,
                           size_t cap)
{
    const struct pjp *k = ctx->own;
    char when[24];
    if (!p->lasting) {
        snprintf(buf, cap, "%s", p->label);
        return;
    }
    facts_day(ctx, p->last_day, when, sizeof when);
    const struct tvar vars[] = {{"drug", p->drug->display}, {"date", when}};
    tmpl_format(buf, cap, k->partner_lasting, vars, 2);
}

/* The facts sentence: "Being ordered: **prednisone 20 mg daily** (prednisone 20 mg/day,
 * course: 42 days at >= 20 mg/day, 2 orders) together with methotrexate". */
static void facts_sentence(const struct rule_ctx *ctx, const struct pjp_risk *r, char *buf,
                           size_t cap)
{
    const struct pjp *k = ctx->own;
    char dose_detail[FACT_MAX], course[160], partner[VIEW_LABEL_MAX + 64], days[48], mg[16];
    char with[VIEW_LABEL_MAX + 96];
    facts_dose_detail(ctx, r->gc, dose_detail, sizeof dose_detail);
    facts_duration(ctx, r->days, days, sizeof days);
    snprintf(mg, sizeof mg, "%g", k->pjp_pred_mg_per_day);
    partner[0] = with[0] = '\0';
    if (r->other != NULL)
        partner_phrase(ctx, r->other, partner, sizeof partner);
    const struct tvar parts[] = {
        {"days", days},
        {"mg", mg},
        {"consecutive", r->gc->course_orders > 1 ? k->course_consecutive : ""},
        {"partner", partner},
    };
    tmpl_format(course, sizeof course, r->by_dose ? k->course_dose : k->course_plain, parts, 4);
    if (r->other != NULL)
        tmpl_format(with, sizeof with, k->with_partner, parts, 4);
    const struct tvar vars[] = {{"action", facts_action(ctx)},
                                {"order", r->gc->label},
                                {"dose_detail", dose_detail},
                                {"course", course},
                                {"partner", with}};
    tmpl_format(buf, cap, k->facts, vars, 5);
}

/* A child's TMP-SMX: trimethoprim child_tmp_mg_m2_day in two doses (at most
 * child_tmp_max_mg_day; hooks/rules.json), from the body surface area; mg per dose rounded
 * to 1 mg. */
struct child_tmp {
    struct body_size body;
    double tmp_mg, smx_mg; /* per dose; < 0 unknown */
};

static void child_tmp(const struct rule_ctx *ctx, const struct pjp *th, struct child_tmp *c)
{
    facts_body_size(ctx, &c->body);
    c->tmp_mg = c->smx_mg = -1;
    if (!c->body.known)
        return;
    double day = th->child_tmp_mg_m2_day * c->body.bsa_m2;
    c->tmp_mg = round((day < th->child_tmp_max_mg_day ? day : th->child_tmp_max_mg_day) / 2);
    c->smx_mg = c->tmp_mg * 5;
}

/* The detail's closing notes: the allergy list, methotrexate's interaction with TMP-SMX,
 * and a child's dose (c, or NULL for an adult). Owned by the caller; NULL when out of
 * memory. */
static char *extra_notes(const struct rule_ctx *ctx, bool mtx, const struct child_tmp *c)
{
    const struct pjp *k = ctx->own;
    char bsa[16], h[16], w[16], tmp[16];
    const char *child = "";
    if (c != NULL) {
        snprintf(bsa, sizeof bsa, "%g", c->body.bsa_m2);
        snprintf(h, sizeof h, "%g", c->body.height_cm);
        snprintf(w, sizeof w, "%g", c->body.weight_kg);
        snprintf(tmp, sizeof tmp, "%g", c->tmp_mg);
        child = c->body.known ? k->extra_child_dosed : k->extra_child_missing;
    }
    const struct tvar vars[] = {
        {"allergy", allergy_note(ctx)},
        {"mtx", mtx ? k->extra_mtx : ""},
        {"child", child},
    };
    char *joined = tmpl_fill("{allergy}{mtx}{child}", vars, 3);
    if (joined == NULL || c == NULL)
        return joined;
    const struct tvar figures[] = {{"bsa_m2", bsa},
                                   {"height_cm", h},
                                   {"weight_kg", w},
                                   {"tmp_dose_mg", tmp},
                                   {"missing", c->body.missing != NULL ? c->body.missing : ""}};
    char *filled = tmpl_fill(joined, figures, 5);
    free(joined);
    return filled;
}

static void suggest(struct card *c, const struct rule_ctx *ctx, bool mtx,
                    const struct child_tmp *child)
{
    const struct pjp *k = ctx->own;
    const struct patient_view *v = ctx->view;
    if (v->sulfonamide_allergy) {
        card_suggest(c, &k->atovaquone, true);
    } else if (child != NULL && child->body.known) {
        card_suggest(c, &k->tmp_smx_child_dosed, true); /* adult tablet regimens do not fit */
        card_suggest_var(c, "tmp_dose_mg", child->tmp_mg);
        card_suggest_var(c, "smx_dose_mg", child->smx_mg);
        card_suggest_var(c, "bsa_m2", child->body.bsa_m2);
    } else if (child != NULL) {
        card_suggest(c, &k->tmp_smx_child, true);
    } else {
        card_suggest(c, &k->tmp_smx_ds, true);
        card_suggest(c, &k->tmp_smx_ss, false);
        if (mtx)
            card_suggest(c, &k->atovaquone_mtx, false);
    }
}

int rule_pjp_prophylaxis(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const struct pjp *th = ctx->own;
    struct pjp_risk r;
    if (v->iim == 0 || view_find(v, DC_PJP_PROPHYLAXIS, false) != NULL)
        return 0;
    assess(ctx, &r);
    if (!r.by_dose && !r.by_combo)
        return 0;

    char pred[48], dur_short[32], mg[16], weeks[16], combo_mg[16], combo_days[16];
    char facts[FACT_MAX * 6];
    snprintf(pred, sizeof pred, "%s", r.at_least ? th->at_least : "");
    rule_fmt_dose(ctx->words, r.pred, pred + strlen(pred), sizeof pred - strlen(pred));
    char n_days[32];
    snprintf(n_days, sizeof n_days, "%.0f", r.days);
    const struct tvar dur[] = {{"days", n_days}};
    tmpl_format(dur_short, sizeof dur_short, r.days < 0 ? th->duration_open : th->duration_days,
                dur, 1);
    snprintf(mg, sizeof mg, "%g", th->pjp_pred_mg_per_day);
    snprintf(weeks, sizeof weeks, "%g", th->pjp_min_days / 7);
    snprintf(combo_mg, sizeof combo_mg, "%g", th->pjp_combo_min_mg_per_day);
    snprintf(combo_days, sizeof combo_days, "%g", th->pjp_combo_min_days);
    facts_sentence(ctx, &r, facts, sizeof facts);
    bool mtx = view_find(v, DC_METHOTREXATE, false) != NULL;
    struct child_tmp child;
    bool is_child = facts_is_child(v, ctx->th);
    if (is_child)
        child_tmp(ctx, th, &child);
    char *extra = extra_notes(ctx, mtx, is_child && !v->sulfonamide_allergy ? &child : NULL);
    if (extra == NULL)
        return -1;
    struct tvar vars[] = {
        {"pred_dose", pred},
        {"drug", r.gc->drug->display},
        {"duration_short", dur_short},
        {"other", r.other != NULL ? r.other->drug->display : ""},
        {"condition", v->iim_label},
        {"facts", facts},
        {"pjp_mg", mg},
        {"pjp_weeks", weeks},
        {"combo_mg", combo_mg},
        {"combo_days", combo_days},
        {"why_short", NULL},
        {"extra", extra},
    };
    int n = (int)(sizeof vars / sizeof vars[0]);
    char *why = tmpl_fill(r.by_dose ? th->why_dose : th->why_combo, vars, n);
    vars[10].value = why;
    struct card *c = why != NULL ? card_add_main(out, ctx, vars, n) : NULL;
    free(why);
    free(extra);
    /* the draft that brings the risk: the glucocorticoid, else the partner being ordered */
    const struct view_med *about = r.gc != NULL && r.gc->ordered ? r.gc : r.other;
    if (card_about(c, about != NULL ? about : r.gc) == NULL)
        return -1;
    suggest(c, ctx, mtx, is_child ? &child : NULL);
    return 0;
}

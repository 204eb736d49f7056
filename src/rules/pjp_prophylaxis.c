/* pjp_prophylaxis.c - high-dose or combined immunosuppression with no PJP prophylaxis.
 *
 * RULES.md: an IIM patient on prednisone-equivalent >= 20 mg/day for >= 4 weeks, or on a
 * glucocorticoid plus another immunosuppressant (IVIG excluded), with no PJP agent active
 * or being ordered. A glucocorticoid of unknown dose adds nothing to the sum (no guessing).
 * On order hooks it fires only when an order being placed creates the risk. The allergy
 * list changes only the suggestion: when the EHR could not provide it, the card still
 * fires, suggests TMP-SMX and says the list could not be checked.
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>

struct pjp_risk {
    double pred;                  /* long-course prednisone-equivalent mg/day */
    double days;                  /* longest planned course among them; < 0 open-ended */
    const struct view_med *gc;    /* the glucocorticoid named on the card */
    const struct view_med *other; /* another immunosuppressant, or NULL */
    bool ordered;                 /* an order being placed creates the risk */
    const struct view_med *taper; /* a taper whose steps at the threshold dose last long
                                     enough, or NULL */
    double taper_days;            /* its days at that dose; < 0 open-ended */
    bool by_taper;                /* the taper alone reaches the dose: pred is a floor */
};

static void assess(const struct patient_view *v, const struct rule_thresholds *th,
                   struct pjp_risk *r)
{
    *r = (struct pjp_risk){0, 0, NULL, NULL, false, NULL, 0, false};
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        bool gc = (m->classes & DC_GLUCOCORTICOID) && m->systemic;
        bool is = (m->classes & DC_IMMUNOSUPPRESSANT) != 0;
        if (m->trigger && (gc || is))
            r->ordered = true;
        if (is && r->other == NULL)
            r->other = m;
        if (!gc || m->replaced) /* a draft of the same drug replaces it: not a sum */
            continue;
        if (r->gc == NULL || (m->trigger && !r->gc->trigger))
            r->gc = m;
        bool long_course = m->duration_days < 0 || m->duration_days >= th->pjp_min_days;
        /* a taper is judged by its steps below, not by today's step over the whole plan */
        if (long_course && m->steps <= 1 && m->pred_mg_per_day >= 0) {
            r->pred += m->pred_mg_per_day;
            if (r->days >= 0 && (m->duration_days < 0 || m->duration_days > r->days))
                r->days = m->duration_days;
        }
        /* a taper: its steps at the threshold dose add up, wherever today falls */
        double at = m->steps > 1 ? view_med_days_at(m, th->pjp_pred_mg_per_day) : 0;
        if (r->taper == NULL && (at < 0 || at >= th->pjp_min_days)) {
            r->taper = m;
            r->taper_days = at;
        }
    }
    if (r->taper != NULL && r->pred < th->pjp_pred_mg_per_day) {
        r->gc = r->taper;
        r->days = r->taper_days;
        /* today's step when it is at the dose, else "at least that dose" over those days */
        r->by_taper = r->taper->pred_mg_per_day < th->pjp_pred_mg_per_day;
        r->pred = r->by_taper ? th->pjp_pred_mg_per_day : r->taper->pred_mg_per_day;
    }
}

/* The detail's note on allergies: a sulfonamide allergy on record, an allergy list the EHR
 * could not provide, or nothing. Borrowed from the rule's conf. */
static const char *allergy_note(const struct rule_ctx *ctx)
{
    if (ctx->view->sulfonamide_allergy)
        return rule_text(ctx->conf, "extra_sulfa");
    if (ctx->view->missing & DATA_ALLERGIES)
        return rule_text(ctx->conf, "extra_allergies_unknown");
    return "";
}

int rule_pjp_prophylaxis(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    struct pjp_risk r;
    if (v->iim == 0 || view_find(v, DC_PJP_PROPHYLAXIS, false) != NULL)
        return 0;
    assess(v, ctx->th, &r);
    bool by_dose = r.gc != NULL && r.pred >= ctx->th->pjp_pred_mg_per_day;
    bool by_combo = r.gc != NULL && r.other != NULL;
    if (!r.ordered || (!by_dose && !by_combo))
        return 0;

    char pred[48], duration[48], dur_short[32], dose_detail[FACT_MAX], mg[16], weeks[16];
    char facts[FACT_MAX * 2];
    if (r.by_taper) {
        pred[0] = '>';
        pred[1] = '=';
        pred[2] = ' ';
        rule_fmt_dose(r.pred, pred + 3, sizeof pred - 3);
    } else {
        rule_fmt_dose(r.pred, pred, sizeof pred);
    }
    facts_duration(r.days, duration, sizeof duration);
    snprintf(dur_short, sizeof dur_short, r.days < 0 ? "long-term" : "%.0f days", r.days);
    snprintf(mg, sizeof mg, "%g", ctx->th->pjp_pred_mg_per_day);
    if (r.taper != NULL && r.gc == r.taper) /* a taper: its days at the dose, not its length */
        snprintf(duration, sizeof duration, "%.12s at >= %.8s mg/day", dur_short, mg);
    facts_dose_detail(r.gc, dose_detail, sizeof dose_detail);
    snprintf(mg, sizeof mg, "%g", ctx->th->pjp_pred_mg_per_day);
    snprintf(weeks, sizeof weeks, "%g", ctx->th->pjp_min_days / 7);
    const char *other = r.other != NULL ? r.other->drug->display : "";
    snprintf(facts, sizeof facts, "%s **%s** (%s%s%s)%s%s", facts_action(v), r.gc->label,
             dose_detail, by_dose ? ", planned: " : "", by_dose ? duration : "",
             r.other != NULL ? " together with " : "", other);
    struct tvar vars[] = {
        {"pred_dose", pred},
        {"duration", duration},
        {"drug", r.gc->drug->display},
        {"duration_short", dur_short},
        {"other", other},
        {"condition", v->iim_label},
        {"facts", facts},
        {"pjp_mg", mg},
        {"pjp_weeks", weeks},
        {"why_short", NULL},
        {"extra", allergy_note(ctx)},
    };
    int n = (int)(sizeof vars / sizeof vars[0]);
    char *why = tmpl_fill(rule_text(ctx->conf, by_dose ? "why_dose" : "why_combo"), vars, n);
    vars[9].value = why;
    struct card *c =
        why != NULL ? card_add(out, ctx, "indicator", "summary", "detail", vars, n) : NULL;
    free(why);
    if (c == NULL)
        return -1;
    if (v->sulfonamide_allergy) {
        card_suggest(c, "atovaquone", true);
    } else if (facts_is_child(v, ctx->th)) {
        card_suggest(c, "tmp_smx_child", true); /* adult tablet regimens do not fit */
    } else {
        card_suggest(c, "tmp_smx_ds", true);
        card_suggest(c, "tmp_smx_ss", false);
    }
    return 0;
}

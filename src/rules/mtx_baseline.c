/* mtx_baseline.c - before methotrexate: hepatitis B/C screening, baseline liver tests and,
 * for a woman of child-bearing age, contraception (methotrexate is teratogenic).
 *
 * RULES.md: info for what is missing; a warning naming the result when one on record is
 * abnormal: HBsAg, anti-HBc or HCV antibody positive (view_lab_positive), ALT or AST over
 * liver_uln_multiple x the upper limit (view_lab_above_uln). A test ordered with the
 * methotrexate (by LOINC or by the names under "test_names") is neither missing nor
 * suggested again. A result that cannot be read is no result: the card says it was found
 * and could not be read, never that it is not on record. Each missing test is offered as
 * its own suggestion ("any").
 */
#include "fhir/json.h"
#include "rules/facts.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MTX_TESTS 4
#define MTX_LIST_MAX 480

/* What the baseline found, as phrases for the card. */
struct baseline {
    const char *missing[MTX_TESTS]; /* keys of the tests neither on record nor ordered */
    int n_missing;
    char abnormal[MTX_LIST_MAX];       /* "HBsAg positive on 2026-11-20; ALT ..." */
    char abnormal_short[MTX_LIST_MAX]; /* "HBsAg positive, ALT 250 U/L" */
    char unread[MTX_LIST_MAX];         /* "HCV antibody of 2026-11-20" */
};

/* Appends text to buf[cap] after sep when buf is not empty. */
static void append(char *buf, size_t cap, const char *sep, const char *text)
{
    size_t len = strlen(buf);
    if (len < cap)
        snprintf(buf + len, cap - len, "%s%s", len > 0 ? sep : "", text);
}

/* The short name of a result under key ("HBsAg"), from the rule's "short_names". */
static const char *short_name(const struct rule_ctx *ctx, const char *key)
{
    const char *name = json_get_str(json_get_obj(ctx->conf->obj, "short_names"), key);
    return name != NULL ? name : key;
}

static void add_unread(struct baseline *b, const char *name, const struct view_lab *lab)
{
    char when[24];
    char phrase[96];
    facts_day(lab->day, when, sizeof when);
    snprintf(phrase, sizeof phrase, "%s of %s", name, when);
    append(b->unread, sizeof b->unread, "; ", phrase);
}

/* A hepatitis screening result: positive, negative, unreadable or none. Returns true when
 * it is missing. */
static bool check_serology(const struct rule_ctx *ctx, const char *key, enum lab_kind kind,
                           struct baseline *b)
{
    const struct view_lab *lab = &ctx->view->labs[kind];
    enum lab_finding f = view_lab_positive(lab);
    const char *name = short_name(ctx, key);
    char when[24];
    char phrase[128];
    if (f == FINDING_ABNORMAL) {
        facts_day(lab->day, when, sizeof when);
        snprintf(phrase, sizeof phrase, "**%s positive** on %s", name, when);
        append(b->abnormal, sizeof b->abnormal, "; ", phrase);
        snprintf(phrase, sizeof phrase, "%s positive", name);
        append(b->abnormal_short, sizeof b->abnormal_short, ", ", phrase);
    } else if (f == FINDING_UNREADABLE) {
        add_unread(b, name, lab);
    }
    return f == FINDING_NONE;
}

/* ALT and AST: either over the limit is abnormal; either readable and within it is a
 * baseline. Returns true when neither is on record. */
static bool check_liver(const struct rule_ctx *ctx, struct baseline *b)
{
    static const struct {
        const char *key;
        enum lab_kind kind;
    } enzymes[] = {{"alt", LAB_LIVER}, {"ast", LAB_AST}};
    const struct rule_thresholds *th = ctx->th;
    bool none = true;
    for (size_t i = 0; i < sizeof enzymes / sizeof enzymes[0]; i++) {
        const struct view_lab *lab = &ctx->view->labs[enzymes[i].kind];
        enum lab_finding f = view_lab_above_uln(lab, th->liver_uln_multiple, th->liver_uln_u_l);
        const char *name = short_name(ctx, enzymes[i].key);
        char value[48], when[24], phrase[192];
        none = none && f == FINDING_NONE;
        if (f == FINDING_UNREADABLE)
            add_unread(b, name, lab);
        if (f != FINDING_ABNORMAL)
            continue;
        facts_lab_value(lab, value, sizeof value);
        facts_day(lab->day, when, sizeof when);
        snprintf(phrase, sizeof phrase, "**%s %s** on %s, over %g x the upper limit of normal (%g)",
                 name, value, when, th->liver_uln_multiple,
                 lab->ref_high > 0 ? lab->ref_high : th->liver_uln_u_l);
        append(b->abnormal, sizeof b->abnormal, "; ", phrase);
        snprintf(phrase, sizeof phrase, "%s %s", name, value);
        append(b->abnormal_short, sizeof b->abnormal_short, ", ", phrase);
    }
    return none;
}

/* True when the test under key is in the draft orders (its codes, or its test_names). */
static bool ordered(const struct rule_ctx *ctx, const char *key, enum lab_kind kind)
{
    json_object *names = json_get_obj(ctx->conf->obj, "test_names");
    bool by_code = kind == LAB_LIVER && (ctx->view->lab_ordered & (1u << LAB_AST));
    return by_code || facts_test_ordered(ctx->view, kind, json_get_arr(names, key), NULL);
}

static void assess(const struct rule_ctx *ctx, struct baseline *b)
{
    static const struct {
        const char *key;
        enum lab_kind lab;
    } tests[MTX_TESTS] = {
        {"hbsag", LAB_HBSAG}, {"hbc", LAB_HBC}, {"hcv", LAB_HCV}, {"liver", LAB_LIVER}};
    memset(b, 0, sizeof *b);
    for (size_t i = 0; i < MTX_TESTS; i++) {
        bool missing = tests[i].lab == LAB_LIVER
                           ? check_liver(ctx, b)
                           : check_serology(ctx, tests[i].key, tests[i].lab, b);
        if (missing && !ordered(ctx, tests[i].key, tests[i].lab))
            b->missing[b->n_missing++] = tests[i].key;
    }
}

/* The detail's paragraph from the template under key with {list}, or NULL when list is
 * empty. Owned by the caller. */
static char *paragraph(const struct rule_ctx *ctx, const char *key, const char *list,
                       const char *age)
{
    const struct tvar inner[] = {{"list", list}, {"age", age}};
    return list[0] != '\0' ? tmpl_fill(rule_text(ctx->conf, key), inner, 2) : NULL;
}

int rule_mtx_baseline(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct patient_view *v = ctx->view;
    const struct view_med *mtx = facts_trigger(v, DC_METHOTREXATE);
    struct baseline b;
    if (v->iim == 0 || mtx == NULL)
        return 0;
    assess(ctx, &b);
    char pregnancy[FACT_MAX];
    /* pregnant: teratogen-pregnancy speaks; contraception is no longer the point */
    bool female = facts_female_childbearing(v, ctx->th) &&
                  !facts_pregnant(v, ctx->th, pregnancy, sizeof pregnancy);
    bool abnormal = b.abnormal[0] != '\0';
    if (b.n_missing == 0 && !female && !abnormal && b.unread[0] == '\0')
        return 0;

    char list[FACT_MAX], short_list[FACT_MAX], age[16], uln[16];
    facts_join(ctx->conf, "names", b.missing, b.n_missing, list, sizeof list);
    facts_join(ctx->conf, "short_names", b.missing, b.n_missing, short_list, sizeof short_list);
    snprintf(age, sizeof age, "%.0f", v->age_years);
    snprintf(uln, sizeof uln, "%g", ctx->th->liver_uln_multiple);
    char *texts[4] = {
        paragraph(ctx, "abnormal_intro", b.abnormal, age),
        paragraph(ctx, "missing_intro", list, age),
        paragraph(ctx, "unread_intro", b.unread, age),
        female ? paragraph(ctx, "contraception", age, age) : NULL,
    };
    const char *summary_short = b.n_missing > 0    ? short_list
                                : b.unread[0] != 0 ? rule_text(ctx->conf, "short_unread")
                                                   : rule_text(ctx->conf, "short_contraception");
    const struct tvar vars[] = {
        {"order", mtx->label},
        {"condition", v->iim_label},
        {"action", facts_action(v)},
        {"missing_short", summary_short},
        {"abnormal_short", b.abnormal_short},
        {"abnormal_text", texts[0] != NULL ? texts[0] : ""},
        {"missing_text", texts[1] != NULL ? texts[1] : ""},
        {"unread_text", texts[2] != NULL ? texts[2] : ""},
        {"contraception", texts[3] != NULL ? texts[3] : ""},
        {"uln_multiple", uln},
    };
    struct card *c =
        card_add(out, ctx, abnormal ? "indicator_abnormal" : "indicator",
                 abnormal ? "summary_abnormal" : "summary", abnormal ? "detail_abnormal" : "detail",
                 vars, (int)(sizeof vars / sizeof vars[0]));
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        free(texts[i]);
    if (card_about(c, mtx) == NULL)
        return -1;
    c->selection = "any";
    for (int i = 0; i < b.n_missing; i++)
        card_suggest(c, b.missing[i], true);
    if (abnormal)
        c->override_key = "override_reasons_abnormal";
    return 0;
}

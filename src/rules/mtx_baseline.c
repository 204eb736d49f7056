/* mtx_baseline.c - before methotrexate: hepatitis B/C screening, baseline liver tests and,
 * for a woman of child-bearing age, contraception (methotrexate is teratogenic).
 *
 * docs/RULES.md "The rules": info for what is missing; a warning naming the result when one on
 * record is abnormal: HBsAg, anti-HBc or HCV antibody positive (view_lab_positive), ALT or AST over
 * liver_uln_multiple x the upper limit (view_lab_above_uln). A test ordered with the
 * methotrexate (by LOINC or by the names under "test_names") is neither missing nor
 * suggested again. A result that cannot be read is no result: the card says it was found
 * and could not be read, never that it is not on record. Each missing test is offered as
 * its own suggestion ("any").
 */
#include "rules/facts.h"
#include "rules/rules.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MTX_TESTS 4
#define MTX_LIST_MAX 480

struct mtx_baseline {
    const char *indicator_abnormal, *summary_abnormal, *detail_abnormal; /* a result is */
    const char *missing_intro, *abnormal_intro, *unread_intro;           /* "{list}" */
    const char *contraception, *short_contraception, *short_unread;
    const char *unread_item;                    /* {name} {date} */
    const char *positive_item, *positive_short; /* {name} {date} */
    const char *enzyme_item, *enzyme_short;     /* {name} {value} {date} {multiple} {uln} */
    struct rule_map names;                      /* each test's name: hbsag, hbc, hcv, liver */
    struct rule_map short_names;                /* short, and for alt and ast */
    struct rule_map test_names;                 /* each test ordered by name */
    struct rule_sugg hbsag, hbc, hcv, liver;
    struct rule_reasons override_reasons_abnormal;
    double liver_uln_multiple; /* ALT/AST over this x the upper limit: a warning */
    double liver_uln_u_l;      /* the upper limit when a result gives no range */
};

static const char *const tests_keys[] = {"hbsag", "hbc", "hcv", "liver", NULL};
static const char *const short_keys[] = {"hbsag", "hbc", "hcv", "liver", "alt", "ast", NULL};

#define KEY(f, t) RULE_KEY(struct mtx_baseline, f, t)
static const struct rule_key keys[] = {
    KEY(indicator_abnormal, RK_INDICATOR),
    KEY(summary_abnormal, RK_TEXT),
    KEY(detail_abnormal, RK_TEXT),
    KEY(missing_intro, RK_TEXT),
    KEY(abnormal_intro, RK_TEXT),
    KEY(unread_intro, RK_TEXT),
    KEY(contraception, RK_TEXT),
    KEY(short_contraception, RK_TEXT),
    KEY(short_unread, RK_TEXT),
    KEY(unread_item, RK_TEXT),
    KEY(positive_item, RK_TEXT),
    KEY(positive_short, RK_TEXT),
    KEY(enzyme_item, RK_TEXT),
    KEY(enzyme_short, RK_TEXT),
    RULE_MAP(struct mtx_baseline, names, RK_TEXT_MAP, tests_keys),
    RULE_MAP(struct mtx_baseline, short_names, RK_TEXT_MAP, short_keys),
    RULE_NOTE("test_names_about"),
    RULE_MAP(struct mtx_baseline, test_names, RK_NAMES_MAP, tests_keys),
    KEY(hbsag, RK_SUGGESTION),
    KEY(hbc, RK_SUGGESTION),
    KEY(hcv, RK_SUGGESTION),
    KEY(liver, RK_SUGGESTION),
    KEY(override_reasons_abnormal, RK_REASONS),
};
static const struct rule_param params[] = {
    RULE_PARAM(struct mtx_baseline, liver_uln_multiple, 1, 20),
    RULE_PARAM(struct mtx_baseline, liver_uln_u_l, 10, 200),
};
const struct rule_spec mtx_baseline_spec = {keys, RULE_COUNT(keys), params, RULE_COUNT(params),
                                            sizeof(struct mtx_baseline)};

/* What the baseline found, as phrases for the card. */
struct baseline {
    const char *missing[MTX_TESTS];           /* keys of the tests neither on record nor ordered */
    const struct rule_sugg *offer[MTX_TESTS]; /* and their suggestions */
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
    const struct mtx_baseline *k = ctx->own;
    const char *name = rule_map_text(&k->short_names, key);
    return name != NULL ? name : key;
}

/* Appends template tmpl filled with the result's name, date and figures to buf[cap]. */
static void add_phrase(const struct rule_ctx *ctx, char *buf, size_t cap, const char *sep,
                       const char *tmpl, const char *name, const struct view_lab *lab)
{
    const struct mtx_baseline *k = ctx->own;
    char when[24], value[48], multiple[16], uln[16], phrase[192];
    facts_day(ctx, lab->day, when, sizeof when);
    facts_lab_value(lab, value, sizeof value);
    snprintf(multiple, sizeof multiple, "%g", k->liver_uln_multiple);
    snprintf(uln, sizeof uln, "%g", lab->ref_high > 0 ? lab->ref_high : k->liver_uln_u_l);
    const struct tvar vars[] = {
        {"name", name}, {"date", when}, {"value", value}, {"multiple", multiple}, {"uln", uln}};
    tmpl_format(phrase, sizeof phrase, tmpl, vars, RULE_COUNT(vars));
    append(buf, cap, sep, phrase);
}

static void add_unread(const struct rule_ctx *ctx, struct baseline *b, const char *name,
                       const struct view_lab *lab)
{
    const struct mtx_baseline *k = ctx->own;
    add_phrase(ctx, b->unread, sizeof b->unread, "; ", k->unread_item, name, lab);
}

/* A hepatitis screening result: positive, negative, unreadable or none. Returns true when
 * it is missing. */
static bool check_serology(const struct rule_ctx *ctx, const char *key, enum lab_kind kind,
                           struct baseline *b)
{
    const struct mtx_baseline *k = ctx->own;
    const struct view_lab *lab = &ctx->view->labs[kind];
    enum lab_finding f = view_lab_positive(lab);
    const char *name = short_name(ctx, key);
    if (f == FINDING_ABNORMAL) {
        add_phrase(ctx, b->abnormal, sizeof b->abnormal, "; ", k->positive_item, name, lab);
        add_phrase(ctx, b->abnormal_short, sizeof b->abnormal_short, ", ", k->positive_short, name,
                   lab);
    } else if (f == FINDING_UNREADABLE) {
        add_unread(ctx, b, name, lab);
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
    const struct mtx_baseline *th = ctx->own;
    bool none = true;
    for (size_t i = 0; i < sizeof enzymes / sizeof enzymes[0]; i++) {
        const struct view_lab *lab = &ctx->view->labs[enzymes[i].kind];
        enum lab_finding f = view_lab_above_uln(lab, th->liver_uln_multiple, th->liver_uln_u_l);
        const char *name = short_name(ctx, enzymes[i].key);
        none = none && f == FINDING_NONE;
        if (f == FINDING_UNREADABLE)
            add_unread(ctx, b, name, lab);
        if (f != FINDING_ABNORMAL)
            continue;
        add_phrase(ctx, b->abnormal, sizeof b->abnormal, "; ", th->enzyme_item, name, lab);
        add_phrase(ctx, b->abnormal_short, sizeof b->abnormal_short, ", ", th->enzyme_short, name,
                   lab);
    }
    return none;
}

/* True when the test under key is in the draft orders (its codes, or its test_names). */
static bool ordered(const struct rule_ctx *ctx, const char *key, enum lab_kind kind)
{
    const struct mtx_baseline *k = ctx->own;
    bool by_code = kind == LAB_LIVER && (ctx->view->lab_ordered & (1u << LAB_AST));
    return by_code ||
           facts_test_ordered(ctx->view, kind, rule_map_names(&k->test_names, key), NULL);
}

static void assess(const struct rule_ctx *ctx, struct baseline *b)
{
    const struct mtx_baseline *k = ctx->own;
    const struct {
        const char *key;
        enum lab_kind lab;
        const struct rule_sugg *offer;
    } tests[MTX_TESTS] = {{tests_keys[0], LAB_HBSAG, &k->hbsag},
                          {tests_keys[1], LAB_HBC, &k->hbc},
                          {tests_keys[2], LAB_HCV, &k->hcv},
                          {tests_keys[3], LAB_LIVER, &k->liver}};
    memset(b, 0, sizeof *b);
    for (size_t i = 0; i < MTX_TESTS; i++) {
        bool missing = tests[i].lab == LAB_LIVER
                           ? check_liver(ctx, b)
                           : check_serology(ctx, tests[i].key, tests[i].lab, b);
        if (missing && !ordered(ctx, tests[i].key, tests[i].lab)) {
            b->offer[b->n_missing] = tests[i].offer;
            b->missing[b->n_missing++] = tests[i].key;
        }
    }
}

/* The detail's paragraph from the template tmpl with {list}, or NULL when list is empty.
 * Owned by the caller. */
static char *paragraph(const char *tmpl, const char *list, const char *age)
{
    const struct tvar inner[] = {{"list", list}, {"age", age}};
    return list[0] != '\0' ? tmpl_fill(tmpl, inner, 2) : NULL;
}

int rule_mtx_baseline(const struct rule_ctx *ctx, struct card_list *out)
{
    const struct mtx_baseline *k = ctx->own;
    const struct patient_view *v = ctx->view;
    const struct view_med *mtx = facts_trigger(v, DC_METHOTREXATE);
    struct baseline b;
    if (v->iim == 0 || mtx == NULL)
        return 0;
    assess(ctx, &b);
    char pregnancy[FACT_MAX];
    /* pregnant: teratogen-pregnancy speaks; contraception is no longer the point */
    bool female =
        facts_female_childbearing(v, ctx->th) && !facts_pregnant(ctx, pregnancy, sizeof pregnancy);
    bool abnormal = b.abnormal[0] != '\0';
    if (b.n_missing == 0 && !female && !abnormal && b.unread[0] == '\0')
        return 0;

    char list[FACT_MAX], short_list[FACT_MAX], age[16], uln[16];
    facts_join(&k->names, b.missing, b.n_missing, list, sizeof list);
    facts_join(&k->short_names, b.missing, b.n_missing, short_list, sizeof short_list);
    snprintf(age, sizeof age, "%.0f", v->age_years);
    snprintf(uln, sizeof uln, "%g", k->liver_uln_multiple);
    char *texts[4] = {
        paragraph(k->abnormal_intro, b.abnormal, age),
        paragraph(k->missing_intro, list, age),
        paragraph(k->unread_intro, b.unread, age),
        female ? paragraph(k->contraception, age, age) : NULL,
    };
    const char *summary_short = b.n_missing > 0    ? short_list
                                : b.unread[0] != 0 ? k->short_unread
                                                   : k->short_contraception;
    const struct tvar vars[] = {
        {"order", mtx->label},
        {"condition", v->iim_label},
        {"action", facts_action(ctx)},
        {"missing_short", summary_short},
        {"abnormal_short", b.abnormal_short},
        {"abnormal_text", texts[0] != NULL ? texts[0] : ""},
        {"missing_text", texts[1] != NULL ? texts[1] : ""},
        {"unread_text", texts[2] != NULL ? texts[2] : ""},
        {"contraception", texts[3] != NULL ? texts[3] : ""},
        {"uln_multiple", uln},
    };
    struct card *c =
        card_add(out, ctx, abnormal ? k->indicator_abnormal : ctx->conf->indicator,
                 abnormal ? k->summary_abnormal : ctx->conf->summary,
                 abnormal ? k->detail_abnormal : ctx->conf->detail, vars, RULE_COUNT(vars));
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        free(texts[i]);
    if (card_about(c, mtx) == NULL)
        return -1;
    c->selection = "any";
    for (int i = 0; i < b.n_missing; i++)
        card_suggest(c, b.offer[i], true);
    if (abnormal)
        card_reasons(c, &k->override_reasons_abnormal);
    return 0;
}

/* rule.h - what a rule is: the patient view in, zero or more cards out.
 *
 * Rules read struct patient_view only. Their numbers (thresholds) and words (card texts,
 * suggestions, override reasons) come from hooks/rules.json through struct rule_conf.
 * Adding a rule = one file in src/rules/ + one row in rules_table (rules.c) + its entry in
 * hooks/rules.json + fixtures.
 */
#ifndef MYOCDS_RULES_RULE_H
#define MYOCDS_RULES_RULE_H

#include "clinical/view.h"

#include <json-c/json.h>
#include <stdbool.h>

#define CARD_SUMMARY_MAX_CHARS 139 /* CDS Hooks: "<140 characters"; counted in characters */
#define CARD_SUMMARY_BYTES 600
#define CARD_MAX_SUGGESTIONS 4

/* Thresholds shared by the rules (hooks/rules.json "thresholds"). */
struct rule_thresholds {
    double pjp_pred_mg_per_day;
    double pjp_min_days;
    double ibm_taper_above_mg_per_day;
    double iga_deficiency_mg_dl;
    double adult_age_years;
    double childbearing_age_min_years;
    double childbearing_age_max_years;
    double dose_adult_min_mg_kg;
    double dose_adult_max_mg_kg;
    double dose_adult_max_mg;
    double dose_child_max_mg_kg;
    double dose_child_max_mg;
    double pulse_max_days;
    double bone_min_days;
    double high_dose_mg_per_day;
    double high_dose_max_days;
    double pjp_combo_min_mg_per_day; /* the combination arm's glucocorticoid course; 0: any */
    double pjp_combo_min_days;       /* 0: any length */
    double liver_uln_multiple;       /* ALT/AST over this x the upper limit: a warning */
    double liver_uln_u_l;            /* the upper limit when a result gives no range */
    double tpmt_low_u_ml;            /* TPMT activity under this (U/mL): low, reduce */
    double tpmt_deficient_u_ml;      /* under this: deficient, avoid */
    double pregnancy_hcg_days;       /* a positive hCG this recent is a pregnancy */
    double established_days;         /* patient-view: a therapy this old is established */
    double child_mtx_mg_m2;          /* a child's weekly methotrexate per m2 */
    double child_tmp_mg_m2_day;      /* a child's PJP trimethoprim per m2 and day */
    double child_tmp_max_mg_day;     /* at most this a day */
};

/* One rule's settings: its entry in hooks/rules.json (borrowed from the loaded tree). */
struct rule_conf {
    const char *id;
    bool enabled;
    json_object *obj;
};

#define CARD_VARS_MAX 4
#define CARD_VAR_NAME 24
#define CARD_VAR_VALUE 24

struct card {
    const char *rule_id;
    const char *indicator; /* "info" | "warning" | "critical" */
    char summary[CARD_SUMMARY_BYTES];
    char *detail;                                  /* owned markdown */
    const char *suggestions[CARD_MAX_SUGGESTIONS]; /* keys of the rule's "suggestions" */
    int n_suggestions;
    int recommended;          /* index into suggestions, or -1 */
    const char *override_key; /* key of the override reasons list */
    const char *selection;    /* selectionBehavior: at-most-one | any */
    /* figures of this patient for the suggestions' "{name}" placeholders (a child's dose):
     * "{name}" as a whole JSON string becomes the bare value (a number), inside a string
     * the value's text (card_suggest_var) */
    struct {
        char name[CARD_VAR_NAME];
        char value[CARD_VAR_VALUE];
    } vars[CARD_VARS_MAX];
    int n_vars;
    const struct rule_conf *conf;
    /* The order the card is about (borrowed from the view), or NULL: a card about a draft
     * order may be held back when it was shown for the same order lately (src/cds/repeat.h) */
    const struct view_med *order;
};

struct card_list {
    struct card *v;
    int n;
    int cap;
};

struct rule_ctx {
    const struct patient_view *view;
    const struct rule_conf *conf;
    const struct rule_thresholds *th;
};

/* A rule appends its cards to out; returns 0 or -1 when out of memory. */
typedef int (*rule_fn)(const struct rule_ctx *ctx, struct card_list *out);

struct rule {
    const char *id;
    unsigned hooks; /* bits (1u << enum cds_hook) of the hooks it runs on */
    unsigned needs; /* enum data_kind bits without which it must not run */
    rule_fn fn;
};

#define RULE_ALL_HOOKS                                                                             \
    ((1u << HOOK_PATIENT_VIEW) | (1u << HOOK_ORDER_SELECT) | (1u << HOOK_ORDER_SIGN))

extern const struct rule rules_table[];
extern const int rules_count;

/* A template variable: {name} in a text becomes value. */
struct tvar {
    const char *name;
    const char *value;
};

/* The string member key of the rule's conf, or "" when absent. Borrowed. */
const char *rule_text(const struct rule_conf *conf, const char *key);

/* Fills {name} placeholders; unknown names stay as they are. Returns malloc'd text. */
char *tmpl_fill(const char *tmpl, const struct tvar *vars, int n);

/* Appends a card for ctx's rule with the indicator stored under indicator_key in its conf,
 * the summary and detail filled from the templates under summary_key and detail_key.
 * Returns the card (owned by out) or NULL when out of memory. */
struct card *card_add(struct card_list *out, const struct rule_ctx *ctx, const char *indicator_key,
                      const char *summary_key, const char *detail_key, const struct tvar *vars,
                      int n);

/* Records that c is about order m (the order that triggered it) and returns c; NULL stays
 * NULL, so it wraps card_add. m is borrowed from the view. */
struct card *card_about(struct card *c, const struct view_med *m);

/* Adds a suggestion key to a card; recommended marks it isRecommended. */
void card_suggest(struct card *c, const char *key, bool recommended);

/* Sets the suggestions' placeholder "{name}" to the number value (%g); a name too long or
 * a full table is ignored, and the placeholder stays (the caller offers such suggestions
 * only with their figures). */
void card_suggest_var(struct card *c, const char *name, double value);

void card_list_free(struct card_list *list);

/* Formats mg/day for cards: "60 mg/day", "2.1 mg/day", or "dose unknown". */
void rule_fmt_dose(double mg_per_day, char *buf, size_t cap);

#endif

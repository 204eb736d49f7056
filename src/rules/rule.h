/* rule.h - what a rule is: the patient view in, zero or more cards out.
 *
 * Rules read struct patient_view and their own struct only. Their numbers (thresholds) and
 * words (card texts, suggestions, override reasons) come from hooks/rules.json, compiled at
 * load into struct rule_conf and the rule's struct (struct rule_spec says what it holds).
 * Adding a rule = one file in src/rules/ (its function, its struct and its spec) + one row
 * in rules_table (rules.c) + its entry in hooks/rules.json + fixtures (docs/HACKING.md).
 */
#ifndef MYOCDS_RULES_RULE_H
#define MYOCDS_RULES_RULE_H

#include "clinical/view.h"

#include <stdbool.h>
#include <stddef.h>

#define CARD_SUMMARY_MAX_CHARS 139 /* CDS Hooks: "<140 characters"; counted in characters */
#define CARD_SUMMARY_BYTES 600
#define CARD_MAX_SUGGESTIONS 4

/* Thresholds shared by several rules and the facts they read (hooks/rules.json
 * "thresholds"); a threshold of one rule lives in that rule's own struct. */
struct rule_thresholds {
    double adult_age_years;
    double childbearing_age_min_years;
    double childbearing_age_max_years;
    double tpmt_low_u_ml;       /* TPMT activity under this (U/mL): low, reduce */
    double tpmt_deficient_u_ml; /* under this: deficient, avoid */
    double pregnancy_hcg_days;  /* a positive hCG this recent is a pregnancy */
    double established_days;    /* patient-view: a therapy this old is established */
};

/* The words of the phrases the rules share (facts.h), from hooks/rules.json "words"; each
 * a template whose {name} placeholders the phrase fills. Borrowed from the loaded rules. */
struct rule_words {
    const char *action_active, *action_ordered; /* before the order: patient-view, orders */
    const char *freq_1, *freq_2, *freq_3, *freq_4, *freq_half, *freq_weekly;
    const char *freq_hours, *freq_per_day;           /* {hours}, {n} */
    const char *dose_units, *dose_each;              /* {units} {unit_mg} {mg} {freq} */
    const char *dose_single, *dose_as_needed;        /* {mg} */
    const char *dose_from_text, *dose_ordered;       /* where the dose was read */
    const char *dose_unreadable;                     /* {drug} */
    const char *pred_unverified, *pred_equivalent;   /* {drug} {dose} {pred} */
    const char *mg_per_day, *dose_unknown;           /* {mg} */
    const char *duration_open, *duration_days;       /* {days} */
    const char *pregnancy_condition, *pregnancy_hcg; /* {date} */
    const char *missing_height_weight, *missing_height, *missing_weight;
    const char *date_unknown;
};

/* ---- What a rule declares: its keys in hooks/rules.json and its thresholds ----
 *
 * Each rule file has one static table of the keys of its entry in hooks/rules.json
 * (rules.<id>) beyond the ones every rule has (enabled, indicator, summary, detail, source,
 * override_reasons, suggestions, repeat, repeat_why, services), and one of its thresholds
 * (in "thresholds"). The loader (src/cds/rules_conf.c) compiles the entry into the rule's
 * own struct, whose fields are named as the keys, and refuses a key missing, unknown or of
 * the wrong type, naming file and key. Rules read their struct and the patient view only. */

enum rule_key_type {
    RK_TEXT,       /* const char *: a non-empty string (a template or a sentence) */
    RK_INDICATOR,  /* const char *: "info", "warning" or "critical" */
    RK_REASONS,    /* struct rule_reasons: an override reasons list [{code, display}] */
    RK_SUGGESTION, /* struct rule_sugg: a member of "suggestions" {label, actions} */
    RK_NAMES,      /* struct rule_names: a list of strings */
    RK_TEXT_MAP,   /* struct rule_map: {member: string}, the declared members */
    RK_NAMES_MAP,  /* struct rule_map: {member: [string, ...]}, the declared members */
    RK_NOTE,       /* a string for the reader of the file; not kept */
};

struct rule_key {
    const char *name; /* the JSON key, and the name of its field */
    enum rule_key_type type;
    bool optional;              /* may be absent (a text then reads "") */
    size_t offset;              /* of the field in the rule's struct */
    const char *const *members; /* RK_TEXT_MAP, RK_NAMES_MAP: NULL-terminated */
};

struct rule_param {
    const char *name; /* the key in "thresholds", and the name of its double field */
    double min, max;  /* the values accepted, inclusive */
    size_t offset;
};

/* A rule's declarations and the size of the struct they fill. */
struct rule_spec {
    const struct rule_key *keys;
    int n_keys;
    const struct rule_param *params;
    int n_params;
    size_t size;
};

#define RULE_KEY(S, f, t)                                                                          \
    {                                                                                              \
#f, t, false, offsetof(S, f), NULL                                                         \
    }
#define RULE_KEY_OPT(S, f, t)                                                                      \
    {                                                                                              \
#f, t, true, offsetof(S, f), NULL                                                          \
    }
#define RULE_MAP(S, f, t, members)                                                                 \
    {                                                                                              \
#f, t, false, offsetof(S, f), members                                                      \
    }
#define RULE_NOTE(name)                                                                            \
    {                                                                                              \
        name, RK_NOTE, true, 0, NULL                                                               \
    }
#define RULE_PARAM(S, f, lo, hi)                                                                   \
    {                                                                                              \
#f, lo, hi, offsetof(S, f)                                                                 \
    }
#define RULE_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* One override reason as loaded: the Coding feedback names it by, and the category of the
 * HL7 Non-Adherence Reason Codes it counts in. Borrowed from the loaded rules. */
struct rule_reason {
    const char *system; /* that CodeSystem's URL for a standard code, else override_system */
    const char *code;
    const char *category;
};

/* An override reasons list: its key, its overrideReasons JSON array (NULL when the list is
 * empty: the card then has none) and its reasons. Borrowed from the loaded rules. */
struct rule_reasons {
    const char *key;
    const char *json;
    const struct rule_reason *v;
    int n;
};

/* A suggestion: its key and its template as JSON text (NULL when an optional one is
 * absent). Borrowed from the loaded rules. */
struct rule_sugg {
    const char *key;
    const char *json;
    int n_actions;
};

struct rule_names {
    const char *const *v;
    int n;
};

/* {member: text} or {member: names}: keys[i] goes with texts[i] or names[i]. */
struct rule_map {
    const char *const *keys;
    const char *const *texts;
    const struct rule_names *names;
    int n;
};

/* The text of map member key, or NULL. */
const char *rule_map_text(const struct rule_map *m, const char *key);

/* The names of map member key, or NULL. */
const struct rule_names *rule_map_names(const struct rule_map *m, const char *key);

/* A rule's switch for one service: rules.<id>.services.<service id>. */
struct rule_switch {
    const char *service_id;
    int enabled;           /* 1, 0, or -1: the rule's own */
    const char *indicator; /* or NULL: the card's own */
};
#define RULE_SWITCHES_MAX 8

/* One rule as loaded: what every rule has, and its own struct. All borrowed from the
 * loaded rules (src/cds/rules_conf.h), which outlive every evaluation. */
struct rule_conf {
    const char *id;
    bool enabled;
    bool repeat_always; /* "repeat": "always": never held as a repeat */
    const char *indicator;
    const char *summary;
    const char *detail;
    const char *source_json;       /* the card's source {label, topic} as JSON text */
    const char *source_json_alnum; /* the same with the topic code's hyphens left out */
    struct rule_reasons override_reasons;
    struct rule_switch switches[RULE_SWITCHES_MAX];
    int n_switches;
    const void *own; /* the rule's struct (struct rule_spec.size bytes) */
};

#define CARD_VARS_MAX 4
#define CARD_VAR_NAME 24
#define CARD_VAR_VALUE 24

struct card {
    const char *rule_id;
    const char *indicator; /* "info" | "warning" | "critical" */
    char summary[CARD_SUMMARY_BYTES];
    char *detail;                                              /* owned markdown */
    const struct rule_sugg *suggestions[CARD_MAX_SUGGESTIONS]; /* the rule's, borrowed */
    int n_suggestions;
    int recommended;                    /* index into suggestions, or -1 */
    const struct rule_reasons *reasons; /* the rule's override reasons list, borrowed */
    const char *selection;              /* selectionBehavior: at-most-one | any */
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
    const void *own;                /* conf->own: the rule's struct */
    const struct rule_words *words; /* the shared phrases' words */
};

/* A rule appends its cards to out; returns 0 or -1 when out of memory. */
typedef int (*rule_fn)(const struct rule_ctx *ctx, struct card_list *out);

struct rule {
    const char *id;
    unsigned hooks; /* bits (1u << enum cds_hook) of the hooks it runs on */
    unsigned needs; /* enum data_kind bits without which it must not run */
    rule_fn fn;
    const struct rule_spec *spec;
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

/* Fills {name} placeholders; unknown names stay as they are. Returns malloc'd text. */
char *tmpl_fill(const char *tmpl, const struct tvar *vars, int n);

/* tmpl_fill() into buf[cap], cut to fit (always NUL-terminated when cap > 0); returns the
 * length the whole text needs, as snprintf does. */
size_t tmpl_format(char *buf, size_t cap, const char *tmpl, const struct tvar *vars, int n);

/* Appends a card for ctx's rule with the indicator (borrowed, from the rule's texts), the
 * summary and detail filled from the templates summary and detail (NULL reads ""), and
 * the rule's override reasons. Returns the card (owned by out) or NULL when out of
 * memory. */
struct card *card_add(struct card_list *out, const struct rule_ctx *ctx, const char *indicator,
                      const char *summary, const char *detail, const struct tvar *vars, int n);

/* card_add() with the rule's own indicator, summary and detail. */
struct card *card_add_main(struct card_list *out, const struct rule_ctx *ctx,
                           const struct tvar *vars, int n);

/* Sets the card's override reasons list (r borrowed); NULL c stays NULL. */
struct card *card_reasons(struct card *c, const struct rule_reasons *r);

/* Records that c is about order m (the order that triggered it) and returns c; NULL stays
 * NULL, so it wraps card_add. m is borrowed from the view. */
struct card *card_about(struct card *c, const struct view_med *m);

/* Adds a suggestion (borrowed) to a card; recommended marks it isRecommended. An absent
 * optional suggestion (no JSON) is not added. */
void card_suggest(struct card *c, const struct rule_sugg *s, bool recommended);

/* Sets the suggestions' placeholder "{name}" to the number value (%g); a name too long or
 * a full table is ignored, and the placeholder stays (the caller offers such suggestions
 * only with their figures). */
void card_suggest_var(struct card *c, const char *name, double value);

void card_list_free(struct card_list *list);

/* Formats mg/day for cards with the words w: "60 mg/day", "2.1 mg/day", or "dose
 * unknown". */
void rule_fmt_dose(const struct rule_words *w, double mg_per_day, char *buf, size_t cap);

#endif

/* rules_conf.c - load hooks/rules.json, check every key against the rules' declarations
 * (src/rules/rule.h) and compile it into struct rule_conf and each rule's own struct. */
#include "cds/rules_conf.h"

#include "util/file.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_FILE_MAX (4u << 20)
#define TOPIC_CODE_MAX 101 /* a topic code: Epic takes at most 100 characters */

/* The thresholds the facts and several rules share; each rule declares its own. The
 * ranges only catch a typo (7 for 70); the values are the guidance's. */
#define SHARED(f, lo, hi)                                                                          \
    {                                                                                              \
#f, lo, hi, offsetof(struct rule_thresholds, f)                                            \
    }
static const struct rule_param shared[] = {
    SHARED(adult_age_years, 10, 25),
    SHARED(childbearing_age_min_years, 8, 20),
    SHARED(childbearing_age_max_years, 35, 60),
    SHARED(tpmt_low_u_ml, 1, 100),
    SHARED(tpmt_deficient_u_ml, 0, 100),
    SHARED(pregnancy_hcg_days, 1, 300),
    SHARED(established_days, 1, 90),
};

/* What the view reads of "thresholds" (load_view). */
static const char *const view_keys[] = {"course_gap_days", "lasting_effect_days"};

static const char *const top_keys[] = {"_about",         "topic_system", "override_system",
                                       "override_codes", "thresholds",   "thresholds_sources",
                                       "words",          "rules"};

/* "words": every member of struct rule_words, no other ("_about" aside). */
#define WORD(f)                                                                                    \
    {                                                                                              \
#f, RK_TEXT, false, offsetof(struct rule_words, f), NULL                                   \
    }
static const struct rule_key words[] = {
    WORD(action_active),   WORD(action_ordered),
    WORD(freq_1),          WORD(freq_2),
    WORD(freq_3),          WORD(freq_4),
    WORD(freq_half),       WORD(freq_weekly),
    WORD(freq_hours),      WORD(freq_per_day),
    WORD(dose_units),      WORD(dose_each),
    WORD(dose_single),     WORD(dose_as_needed),
    WORD(dose_from_text),  WORD(dose_ordered),
    WORD(dose_unreadable), WORD(pred_unverified),
    WORD(pred_equivalent), WORD(mg_per_day),
    WORD(dose_unknown),    WORD(duration_open),
    WORD(duration_days),   WORD(pregnancy_condition),
    WORD(pregnancy_hcg),   WORD(missing_height_weight),
    WORD(missing_height),  WORD(missing_weight),
    WORD(date_unknown),
};

static int bad(struct myocds_err *err, const char *path, const char *rule, const char *field,
               const char *what)
{
    return myocds_err_set(err, 500, "%s: rules.%s.%s: %s", path, rule, field, what);
}

static bool in_list(const char *const *list, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

/* A block of n bytes, zeroed, owned by rc; NULL when out of memory (or n is 0). */
static void *keep_alloc(struct rules_conf *rc, size_t n)
{
    if (n == 0)
        return NULL;
    if (rc->n_allocs == rc->cap_allocs) {
        int cap = rc->cap_allocs == 0 ? 32 : rc->cap_allocs * 2;
        void **grown = realloc(rc->allocs, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        rc->allocs = grown;
        rc->cap_allocs = cap;
    }
    void *p = calloc(1, n);
    if (p != NULL)
        rc->allocs[rc->n_allocs++] = p;
    return p;
}

/* value (owned, dropped here) written as JSON text kept by rc; NULL when out of memory. */
static const char *keep_json(struct rules_conf *rc, json_object *value)
{
    const char *text =
        value != NULL ? json_object_to_json_string_ext(value, JSON_DUMP_FLAGS) : NULL;
    json_object *s = text != NULL ? json_object_new_string(text) : NULL;
    json_object_put(value);
    if (s == NULL || json_object_array_add(rc->store, s) != 0) {
        json_object_put(s);
        return NULL;
    }
    return json_object_get_string(s);
}

static bool valid_indicator(json_object *v)
{
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    return s != NULL &&
           (strcmp(s, "info") == 0 || strcmp(s, "warning") == 0 || strcmp(s, "critical") == 0);
}

static bool nonempty_string(json_object *v)
{
    return json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0;
}

/* One reason {code, display, standard: true} or {code, display, category} into *out. */
static int compile_reason(const struct rules_conf *rc, json_object *o, struct rule_reason *out,
                          const char *path, const char *id, const char *key, struct myocds_err *err)
{
    const char *code = json_get_str(o, "code");
    json_object *standard = NULL, *category = NULL;
    json_object_object_get_ex(o, "standard", &standard);
    json_object_object_get_ex(o, "category", &category);
    int members = 2 + (standard != NULL) + (category != NULL);
    if (code == NULL || json_get_str(o, "display") == NULL ||
        json_object_object_length(o) != members)
        return bad(err, path, id, key, "each reason is {code, display} and standard or category");
    if (standard != NULL) {
        json_object *known = json_get_obj(rc->standard_codes, code);
        if (category != NULL || !json_object_is_type(standard, json_type_boolean) ||
            !json_object_get_boolean(standard) || known == NULL)
            return bad(err, path, id, key,
                       "a standard reason is a code of override_codes, without a category");
        *out = (struct rule_reason){rc->standard_system, code, json_get_str(known, "category")};
        return 0;
    }
    const char *cat =
        json_object_is_type(category, json_type_string) ? json_object_get_string(category) : NULL;
    const char *of =
        cat != NULL ? json_get_str(json_get_obj(rc->standard_codes, cat), "category") : NULL;
    if (of == NULL || strcmp(of, cat) != 0)
        return bad(err, path, id, key, "a reason of our own names one of the six categories");
    *out = (struct rule_reason){rc->override_system, code, cat};
    return 0;
}

/* An override reasons list as overrideReasons: [{system, code, display}, ...], kept by rc
 * (r->json NULL for an empty list), and its reasons in r->v. -1 when malformed (err set) or
 * out of memory. */
static int compile_reasons(struct rules_conf *rc, json_object *list, const char *key,
                           struct rule_reasons *r, const char *path, const char *id,
                           struct myocds_err *err)
{
    if (!json_object_is_type(list, json_type_array))
        return bad(err, path, id, key, "must be a list of reasons");
    size_t n = json_object_array_length(list);
    struct rule_reason *v = keep_alloc(rc, (n > 0 ? n : 1) * sizeof *v);
    *r = (struct rule_reasons){key, NULL, v, 0};
    if (v == NULL)
        return myocds_err_set(err, 500, "out of memory");
    if (n == 0)
        return 0;
    json_object *arr = json_object_new_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        json_object *o = json_object_array_get_idx(list, i);
        for (size_t k = 0; k < i; k++)
            if (strcmp(json_get_str(o, "code") != NULL ? json_get_str(o, "code") : "", v[k].code) ==
                0) {
                json_object_put(arr);
                return bad(err, path, id, key, "a code twice in one list");
            }
        if (compile_reason(rc, o, &v[i], path, id, key, err) != 0) {
            json_object_put(arr);
            return -1;
        }
        json_object *coding = json_object_new_object();
        if (coding == NULL || json_object_array_add(arr, coding) != 0) {
            json_object_put(coding);
            json_object_put(arr);
            return myocds_err_set(err, 500, "out of memory");
        }
        json_object_object_add(coding, "system", json_object_new_string(v[i].system));
        json_object_object_add(coding, "code", json_object_new_string(v[i].code));
        json_object_object_add(coding, "display",
                               json_object_new_string(json_get_str(o, "display")));
    }
    r->n = (int)n;
    r->json = arr != NULL ? keep_json(rc, arr) : NULL;
    return r->json != NULL ? 0 : myocds_err_set(err, 500, "out of memory");
}

/* A suggestion {label, actions: [{type, description, resource}]}, its JSON text kept. */
static int compile_suggestion(struct rules_conf *rc, json_object *s, const char *key,
                              struct rule_sugg *out, const char *path, const char *id,
                              struct myocds_err *err)
{
    json_object *actions = json_get_arr(s, "actions");
    if (json_get_str(s, "label") == NULL || actions == NULL ||
        json_object_array_length(actions) == 0)
        return bad(err, path, id, key, "a suggestion needs a label and actions");
    for (size_t i = 0; i < json_object_array_length(actions); i++) {
        json_object *a = json_object_array_get_idx(actions, i);
        if (json_get_str(a, "type") == NULL || json_get_str(a, "description") == NULL ||
            json_get_str(json_get_obj(a, "resource"), "resourceType") == NULL)
            return bad(err, path, id, key, "an action needs type, description, resource");
    }
    out->key = key;
    out->n_actions = (int)json_object_array_length(actions);
    out->json = keep_json(rc, json_object_get(s));
    return out->json != NULL ? 0 : myocds_err_set(err, 500, "out of memory");
}

/* A list of non-empty strings, borrowed from the tree. */
static int compile_names(struct rules_conf *rc, json_object *v, struct rule_names *out,
                         const char *path, const char *id, const char *key, struct myocds_err *err)
{
    if (!json_object_is_type(v, json_type_array))
        return bad(err, path, id, key, "must be a list of strings");
    size_t n = json_object_array_length(v);
    const char **names = keep_alloc(rc, (n > 0 ? n : 1) * sizeof *names);
    if (names == NULL)
        return myocds_err_set(err, 500, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(v, i);
        if (!nonempty_string(s))
            return bad(err, path, id, key, "must be a list of non-empty strings");
        names[i] = json_object_get_string(s);
    }
    *out = (struct rule_names){names, (int)n};
    return 0;
}

/* {member: text} or {member: [names]} with exactly the declared members. */
static int compile_map(struct rules_conf *rc, json_object *v, const struct rule_key *k,
                       struct rule_map *out, const char *path, const char *id,
                       struct myocds_err *err)
{
    char field[128];
    size_t want = 0;
    while (k->members != NULL && k->members[want] != NULL)
        want++;
    if (!json_object_is_type(v, json_type_object))
        return bad(err, path, id, k->name, "must be an object");
    const char **keys = keep_alloc(rc, (want > 0 ? want : 1) * sizeof *keys);
    const char **texts = k->type == RK_TEXT_MAP ? keep_alloc(rc, (want + 1) * sizeof *texts) : NULL;
    struct rule_names *names =
        k->type == RK_NAMES_MAP ? keep_alloc(rc, (want + 1) * sizeof *names) : NULL;
    if (keys == NULL || (texts == NULL && names == NULL))
        return myocds_err_set(err, 500, "out of memory");
    json_object_object_foreach(v, member, member_val)
    {
        (void)member_val;
        snprintf(field, sizeof field, "%s.%s", k->name, member);
        if (!in_list(k->members, want, member))
            return bad(err, path, id, field, "unknown key");
    }
    for (size_t i = 0; i < want; i++) {
        json_object *val = NULL;
        snprintf(field, sizeof field, "%s.%s", k->name, k->members[i]);
        if (!json_object_object_get_ex(v, k->members[i], &val))
            return bad(err, path, id, field, "missing");
        keys[i] = k->members[i];
        if (texts != NULL && !nonempty_string(val))
            return bad(err, path, id, field, "must be a non-empty string");
        if (texts != NULL)
            texts[i] = json_object_get_string(val);
        else if (compile_names(rc, val, &names[i], path, id, field, err) != 0)
            return -1;
    }
    *out = (struct rule_map){keys, texts, names, (int)want};
    return 0;
}

/* The declared key of spec named name (suggestions: only RK_SUGGESTION), or NULL. */
static const struct rule_key *find_key(const struct rule_spec *spec, const char *name,
                                       bool suggestion)
{
    for (int i = 0; i < spec->n_keys; i++)
        if ((spec->keys[i].type == RK_SUGGESTION) == suggestion &&
            strcmp(spec->keys[i].name, name) == 0)
            return &spec->keys[i];
    return NULL;
}

/* One declared key's value into the rule's struct own. */
static int compile_key(struct rules_conf *rc, const struct rule_key *k, json_object *val, char *own,
                       const char *path, const char *id, struct myocds_err *err)
{
    void *field = own + k->offset;
    switch (k->type) {
    case RK_TEXT:
    case RK_NOTE:
        if (!nonempty_string(val))
            return bad(err, path, id, k->name, "must be a non-empty string");
        if (k->type == RK_TEXT)
            *(const char **)field = json_object_get_string(val);
        return 0;
    case RK_INDICATOR:
        if (!valid_indicator(val))
            return bad(err, path, id, k->name, "must be info, warning or critical");
        *(const char **)field = json_object_get_string(val);
        return 0;
    case RK_REASONS:
        return compile_reasons(rc, val, k->name, field, path, id, err);
    case RK_SUGGESTION:
        return compile_suggestion(rc, val, k->name, field, path, id, err);
    case RK_NAMES:
        return compile_names(rc, val, field, path, id, k->name, err);
    case RK_TEXT_MAP:
    case RK_NAMES_MAP:
        return compile_map(rc, val, k, field, path, id, err);
    }
    return bad(err, path, id, k->name, "unknown type");
}

/* "services": {"<service id>": {enabled: bool, indicator}}; the ids are checked against
 * the services when the engine loads them. */
static int compile_switches(json_object *services, struct rule_conf *conf, const char *path,
                            struct myocds_err *err)
{
    if (!json_object_is_type(services, json_type_object))
        return bad(err, path, conf->id, "services", "must be an object");
    json_object_object_foreach(services, svc, sw)
    {
        json_object *ind = NULL, *on = NULL;
        if (conf->n_switches == RULE_SWITCHES_MAX)
            return bad(err, path, conf->id, "services", "too many services");
        if (!json_object_is_type(sw, json_type_object) ||
            (json_object_object_get_ex(sw, "indicator", &ind) && !valid_indicator(ind)) ||
            (json_object_object_get_ex(sw, "enabled", &on) &&
             !json_object_is_type(on, json_type_boolean)) ||
            json_object_object_length(sw) != (ind != NULL) + (on != NULL))
            return bad(err, path, conf->id, svc, "services: {enabled: bool, indicator}");
        conf->switches[conf->n_switches++] =
            (struct rule_switch){svc, on != NULL ? json_object_get_boolean(on) : -1,
                                 ind != NULL ? json_object_get_string(ind) : NULL};
    }
    return 0;
}

/* A card's source: {"label": the rule's "source", "topic": {system, code: the rule id, or
 * without its hyphens when alnum (clients that take only letters and digits)}}. */
static const char *source_json(struct rules_conf *rc, const char *id, const char *label, bool alnum)
{
    char code[TOPIC_CODE_MAX];
    size_t n = 0;
    for (const char *p = id; *p != '\0' && n + 1 < sizeof code; p++)
        if (!alnum || *p != '-')
            code[n++] = *p;
    code[n] = '\0';
    json_object *source = json_object_new_object();
    json_object *topic = json_object_new_object();
    if (source == NULL || topic == NULL) {
        json_object_put(source);
        json_object_put(topic);
        return NULL;
    }
    json_object_object_add(source, "label", json_object_new_string(label));
    json_object_object_add(topic, "system", json_object_new_string(rc->topic_system));
    json_object_object_add(topic, "code", json_object_new_string(code));
    json_object_object_add(source, "topic", topic);
    return keep_json(rc, source);
}

/* A key every rule has; 1 when key is one (handled), 0 when not, -1 on error. */
static int compile_common(struct rules_conf *rc, struct rule_conf *conf, const char *key,
                          json_object *val, const char *path, struct myocds_err *err)
{
    const char *id = conf->id;
    if (strcmp(key, "enabled") == 0) {
        if (!json_object_is_type(val, json_type_boolean))
            return bad(err, path, id, key, "must be true or false");
        conf->enabled = json_object_get_boolean(val);
    } else if (strcmp(key, "indicator") == 0) {
        if (!valid_indicator(val))
            return bad(err, path, id, key, "must be info, warning or critical");
        conf->indicator = json_object_get_string(val);
    } else if (strcmp(key, "summary") == 0 || strcmp(key, "detail") == 0 ||
               strcmp(key, "source") == 0 || strcmp(key, "repeat_why") == 0) {
        if (!nonempty_string(val))
            return bad(err, path, id, key, "must be a non-empty string");
        const char *text = json_object_get_string(val);
        if (strcmp(key, "summary") == 0)
            conf->summary = text;
        else if (strcmp(key, "detail") == 0)
            conf->detail = text;
        else if (strcmp(key, "source") == 0 &&
                 ((conf->source_json = source_json(rc, id, text, false)) == NULL ||
                  (conf->source_json_alnum = source_json(rc, id, text, true)) == NULL))
            return myocds_err_set(err, 500, "out of memory");
    } else if (strcmp(key, "override_reasons") == 0) {
        return compile_reasons(rc, val, key, &conf->override_reasons, path, id, err) == 0 ? 1 : -1;
    } else if (strcmp(key, "repeat") == 0) {
        const char *s =
            json_object_is_type(val, json_type_string) ? json_object_get_string(val) : "";
        if (strcmp(s, "always") != 0 && strcmp(s, "window") != 0)
            return bad(err, path, id, key, "must be \"always\" or \"window\"");
        conf->repeat_always = strcmp(s, "always") == 0;
    } else if (strcmp(key, "services") == 0) {
        return compile_switches(val, conf, path, err) == 0 ? 1 : -1;
    } else {
        return 0;
    }
    return 1;
}

/* rules.<id>: every key known, every required one present, compiled into conf. */
static int compile_rule(struct rules_conf *rc, const struct rule *rule, json_object *r,
                        struct rule_conf *conf, const char *path, struct myocds_err *err)
{
    const struct rule_spec *spec = rule->spec;
    const char *id = rule->id;
    bool seen[64] = {false};
    *conf = (struct rule_conf){.id = id, .enabled = true};
    if (!json_object_is_type(r, json_type_object))
        return bad(err, path, id, "", "missing");
    if (spec->n_keys > (int)(sizeof seen / sizeof seen[0]))
        return bad(err, path, id, "", "too many keys declared");
    char *own = keep_alloc(rc, spec->size);
    if (spec->size > 0 && own == NULL)
        return myocds_err_set(err, 500, "out of memory");
    conf->own = own;
    json_object_object_foreach(r, key, val)
    {
        int common = compile_common(rc, conf, key, val, path, err);
        if (common < 0)
            return -1;
        if (common > 0)
            continue;
        if (strcmp(key, "suggestions") == 0) {
            if (!json_object_is_type(val, json_type_object))
                return bad(err, path, id, key, "must be an object");
            json_object_object_foreach(val, skey, sval)
            {
                const struct rule_key *k = find_key(spec, skey, true);
                if (k == NULL)
                    return bad(err, path, id, skey, "unknown suggestion");
                seen[k - spec->keys] = true;
                if (compile_key(rc, k, sval, own, path, id, err) != 0)
                    return -1;
            }
            continue;
        }
        const struct rule_key *k = find_key(spec, key, false);
        if (k == NULL)
            return bad(err, path, id, key, "unknown key");
        seen[k - spec->keys] = true;
        if (compile_key(rc, k, val, own, path, id, err) != 0)
            return -1;
    }
    static const char *const required[] = {"indicator", "summary", "detail", "source",
                                           "override_reasons"};
    const void *have[] = {conf->indicator, conf->summary, conf->detail, conf->source_json,
                          conf->override_reasons.key};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (have[i] == NULL)
            return bad(err, path, id, required[i], "missing");
    for (int i = 0; i < spec->n_keys; i++) {
        char field[128];
        snprintf(field, sizeof field, "%s%s",
                 spec->keys[i].type == RK_SUGGESTION ? "suggestions." : "", spec->keys[i].name);
        if (!seen[i] && !spec->keys[i].optional)
            return bad(err, path, id, field, "missing");
    }
    return 0;
}

/* thresholds.lasting_effect_days: {"<terminology drug id>": days, ...}, at most
 * VIEW_LASTING_MAX; the ids are borrowed from rc->root. */
static int load_lasting(struct rules_conf *rc, json_object *lasting, const char *path,
                        struct myocds_err *err)
{
    if (!json_object_is_type(lasting, json_type_object))
        return myocds_err_set(err, 500, "%s: thresholds.lasting_effect_days: must be an object",
                              path);
    json_object_object_foreach(lasting, id, days)
    {
        int n = rc->view.n_lasting;
        if (n >= VIEW_LASTING_MAX ||
            !(json_object_is_type(days, json_type_int) ||
              json_object_is_type(days, json_type_double)) ||
            json_object_get_double(days) <= 0)
            return myocds_err_set(err, 500,
                                  "%s: thresholds.lasting_effect_days: at most %d drugs, each a "
                                  "positive number of days",
                                  path, VIEW_LASTING_MAX);
        rc->view.lasting[n].drug_id = id;
        rc->view.lasting[n].days = json_object_get_double(days);
        rc->view.n_lasting++;
    }
    return 0;
}

/* One threshold of table p into the struct at base: present, a number in its range. */
static int load_param(json_object *t, const struct rule_param *p, char *base, const char *path,
                      struct myocds_err *err)
{
    double *field = (double *)(void *)(base + p->offset);
    if (!json_get_num(t, p->name, field) || !(*field >= p->min && *field <= p->max))
        return myocds_err_set(err, 500, "%s: thresholds.%s: must be a number from %g to %g", path,
                              p->name, p->min, p->max);
    return 0;
}

/* True when name is a threshold someone reads: shared, the view's, or a rule's. */
static bool known_threshold(const char *name)
{
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
        if (strcmp(shared[i].name, name) == 0)
            return true;
    if (in_list(view_keys, sizeof view_keys / sizeof view_keys[0], name))
        return true;
    for (int r = 0; r < rules_count; r++)
        for (int i = 0; i < rules_table[r].spec->n_params; i++)
            if (strcmp(rules_table[r].spec->params[i].name, name) == 0)
                return true;
    return false;
}

/* "thresholds" (every key read by someone, each in range) and "thresholds_sources" (each
 * about a threshold). The rules' own thresholds go into their structs (compiled first). */
static int load_thresholds(struct rules_conf *rc, const char *path, struct myocds_err *err)
{
    json_object *t = json_get_obj(rc->root, "thresholds");
    json_object *sources = json_get(rc->root, "thresholds_sources", json_type_object);
    if (t == NULL)
        return myocds_err_set(err, 500, "%s: thresholds: must be an object", path);
    json_object_object_foreach(t, key, val)
    {
        (void)val;
        if (!known_threshold(key))
            return myocds_err_set(err, 500, "%s: thresholds.%s: unknown key", path, key);
    }
    if (sources != NULL) {
        json_object_object_foreach(sources, about, why)
        {
            (void)why;
            if (!known_threshold(about))
                return myocds_err_set(err, 500, "%s: thresholds_sources.%s: unknown key", path,
                                      about);
        }
    }
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
        if (load_param(t, &shared[i], (char *)&rc->th, path, err) != 0)
            return -1;
    for (int r = 0; r < rules_count; r++)
        for (int i = 0; i < rules_table[r].spec->n_params; i++)
            if (load_param(t, &rules_table[r].spec->params[i], (char *)rc->rules[r].own, path,
                           err) != 0)
                return -1;
    if (!json_get_num(t, "course_gap_days", &rc->view.course_gap_days) ||
        !(rc->view.course_gap_days >= 0 && rc->view.course_gap_days <= 30))
        return myocds_err_set(
            err, 500, "%s: thresholds.course_gap_days: must be a number from 0 to 30", path);
    return load_lasting(rc, json_get_obj(t, "lasting_effect_days"), path, err);
}

/* "words": each member a non-empty string, none unknown, none missing. */
static int load_words(struct rules_conf *rc, const char *path, struct myocds_err *err)
{
    json_object *w = json_get_obj(rc->root, "words");
    size_t n = sizeof words / sizeof words[0];
    if (w == NULL)
        return myocds_err_set(err, 500, "%s: words: must be an object", path);
    json_object_object_foreach(w, key, val)
    {
        const struct rule_key *k = NULL;
        for (size_t i = 0; i < n && k == NULL; i++)
            k = strcmp(words[i].name, key) == 0 ? &words[i] : NULL;
        if (k == NULL && strcmp(key, "_about") != 0)
            return myocds_err_set(err, 500, "%s: words.%s: unknown key", path, key);
        if (!nonempty_string(val))
            return myocds_err_set(err, 500, "%s: words.%s: must be a non-empty string", path, key);
        if (k != NULL)
            *(const char **)(void *)((char *)&rc->words + k->offset) = json_object_get_string(val);
    }
    for (size_t i = 0; i < n; i++)
        if (*(const char **)(void *)((char *)&rc->words + words[i].offset) == NULL)
            return myocds_err_set(err, 500, "%s: words.%s: missing", path, words[i].name);
    return 0;
}

/* "override_codes": {system, codes: {code: {category, display}}}, each category a code of
 * its own category. */
static int load_standard_codes(struct rules_conf *rc, const char *path, struct myocds_err *err)
{
    json_object *oc = json_get_obj(rc->root, "override_codes");
    rc->standard_system = json_get_str(oc, "system");
    rc->standard_codes = json_get_obj(oc, "codes");
    if (rc->standard_system == NULL || rc->standard_codes == NULL)
        return myocds_err_set(err, 500, "%s: override_codes: {system, codes} needed", path);
    json_object_object_foreach(oc, key, val)
    {
        (void)val;
        if (strcmp(key, "_about") != 0 && strcmp(key, "system") != 0 && strcmp(key, "codes") != 0)
            return myocds_err_set(err, 500, "%s: override_codes.%s: unknown key", path, key);
    }
    json_object_object_foreach(rc->standard_codes, code, entry)
    {
        const char *cat = json_get_str(entry, "category");
        const char *of =
            cat != NULL ? json_get_str(json_get_obj(rc->standard_codes, cat), "category") : NULL;
        if (json_get_str(entry, "display") == NULL || json_object_object_length(entry) != 2 ||
            of == NULL || strcmp(of, cat) != 0)
            return myocds_err_set(err, 500,
                                  "%s: override_codes.codes.%s: {category, display}, the "
                                  "category a code of its own category",
                                  path, code);
    }
    return 0;
}

const char *rules_conf_reason_category(const struct rules_conf *rc, const char *rule_id,
                                       const char *system, const char *code)
{
    if (system == NULL || code == NULL)
        return NULL;
    for (int i = 0; rule_id != NULL && i < rules_count; i++) {
        if (strcmp(rc->rules[i].id, rule_id) != 0)
            continue;
        const struct rule_spec *spec = rules_table[i].spec;
        for (int l = -1; l < spec->n_keys; l++) {
            const struct rule_reasons *list =
                l < 0 ? &rc->rules[i].override_reasons
                : spec->keys[l].type == RK_REASONS
                    ? (const struct rule_reasons *)(const void *)((const char *)rc->rules[i].own +
                                                                  spec->keys[l].offset)
                    : NULL;
            for (int k = 0; list != NULL && k < list->n; k++)
                if (strcmp(list->v[k].system, system) == 0 && strcmp(list->v[k].code, code) == 0)
                    return list->v[k].category;
        }
    }
    return strcmp(system, rc->standard_system) == 0
               ? json_get_str(json_get_obj(rc->standard_codes, code), "category")
               : NULL;
}

/* The file's own keys, and rules.<id> only for rules that exist. */
static int check_top(json_object *root, const char *path, struct myocds_err *err)
{
    json_object_object_foreach(root, key, val)
    {
        (void)val;
        if (!in_list(top_keys, sizeof top_keys / sizeof top_keys[0], key))
            return myocds_err_set(err, 500, "%s: %s: unknown key", path, key);
    }
    json_object *rules = json_get_obj(root, "rules");
    if (rules == NULL)
        return myocds_err_set(err, 500, "%s: rules: must be an object", path);
    json_object_object_foreach(rules, id, r)
    {
        (void)r;
        bool found = false;
        for (int i = 0; i < rules_count && !found; i++)
            found = strcmp(rules_table[i].id, id) == 0;
        if (!found)
            return myocds_err_set(err, 500, "%s: rules.%s: no such rule", path, id);
    }
    return 0;
}

struct rules_conf *rules_conf_load(const char *path, struct myocds_err *err)
{
    size_t len = 0;
    char *text = file_read(path, RULES_FILE_MAX, &len, err);
    struct rules_conf *rc = calloc(1, sizeof *rc);
    int status = text != NULL && rc != NULL ? 0 : -1;
    if (status == 0) {
        rc->root = json_parse_strict(text, len, err);
        rc->store = json_object_new_array();
        rc->rules = calloc((size_t)rules_count, sizeof *rc->rules);
        status = rc->root != NULL && rc->store != NULL && rc->rules != NULL ? 0 : -1;
        if (rc->root == NULL)
            myocds_err_set(err, 500, "%s: not valid JSON", path);
    }
    if (status == 0)
        status = check_top(rc->root, path, err);
    if (status == 0)
        status = load_standard_codes(rc, path, err);
    if (status == 0) {
        rc->topic_system = json_get_str(rc->root, "topic_system");
        rc->override_system = json_get_str(rc->root, "override_system");
        if (rc->topic_system == NULL || rc->override_system == NULL)
            status = myocds_err_set(err, 500, "%s: topic_system and override_system needed", path);
    }
    json_object *rules = json_get_obj(rc != NULL ? rc->root : NULL, "rules");
    for (int i = 0; status == 0 && i < rules_count; i++)
        status = compile_rule(rc, &rules_table[i], json_get_obj(rules, rules_table[i].id),
                              &rc->rules[i], path, err);
    if (status == 0)
        status = load_thresholds(rc, path, err);
    if (status == 0)
        status = load_words(rc, path, err);
    free(text);
    if (status != 0) {
        rules_conf_free(rc);
        return NULL;
    }
    return rc;
}

void rules_conf_free(struct rules_conf *rc)
{
    if (rc == NULL)
        return;
    json_object_put(rc->root);
    json_object_put(rc->store);
    for (int i = 0; i < rc->n_allocs; i++)
        free(rc->allocs[i]);
    free(rc->allocs);
    free(rc->rules);
    free(rc);
}

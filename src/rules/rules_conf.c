/* rules_conf.c - load and validate hooks/rules.json against the rule table. */
#include "rules/rules_conf.h"

#include "fhir/json.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_FILE_MAX (4u << 20)

static int bad(struct myocds_err *err, const char *path, const char *rule, const char *field,
               const char *what)
{
    return myocds_err_set(err, 500, "%s: rules.%s.%s: %s", path, rule, field, what);
}

/* "override_reasons" or a variant of it ("override_reasons_deficient"). */
static bool is_reasons_key(const char *key)
{
    return strncmp(key, "override_reasons", 16) == 0;
}

static bool valid_indicator(const char *s)
{
    return s != NULL &&
           (strcmp(s, "info") == 0 || strcmp(s, "warning") == 0 || strcmp(s, "critical") == 0);
}

static int check_actions(json_object *sugg, const char *path, const char *id,
                         struct myocds_err *err)
{
    json_object_object_foreach(sugg, key, s)
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
    }
    return 0;
}

/* Checks the per-service switches: {"<service id>": {enabled: bool, indicator}}. */
static int check_services(json_object *services, const char *path, const char *id,
                          struct myocds_err *err)
{
    if (services == NULL)
        return 0; /* json-c's foreach must not see NULL */
    json_object_object_foreach(services, svc, sw)
    {
        json_object *ind = NULL;
        json_object *on = NULL;
        if (!json_object_is_type(sw, json_type_object) ||
            (json_object_object_get_ex(sw, "indicator", &ind) &&
             !valid_indicator(json_object_get_string(ind))) ||
            (json_object_object_get_ex(sw, "enabled", &on) &&
             !json_object_is_type(on, json_type_boolean)))
            return bad(err, path, id, svc, "services: {enabled: bool, indicator}");
    }
    return 0;
}

/* Checks one rule's entry: indicators valid, texts present, suggestions and reasons whole. */
static int check_rule(json_object *r, const char *path, const char *id, struct myocds_err *err)
{
    if (r == NULL)
        return bad(err, path, id, "", "missing");
    json_object_object_foreach(r, key, val)
    {
        if (strncmp(key, "indicator", 9) == 0 && !valid_indicator(json_object_get_string(val)))
            return bad(err, path, id, key, "must be info, warning or critical");
        if (is_reasons_key(key)) {
            for (size_t i = 0;
                 json_object_is_type(val, json_type_array) && i < json_object_array_length(val);
                 i++) {
                json_object *o = json_object_array_get_idx(val, i);
                if (json_get_str(o, "code") == NULL || json_get_str(o, "display") == NULL)
                    return bad(err, path, id, key, "each reason needs code and display");
            }
        }
    }
    json_object *repeat = NULL;
    if (json_object_object_get_ex(r, "repeat", &repeat) &&
        (!json_object_is_type(repeat, json_type_string) ||
         (strcmp(json_object_get_string(repeat), "always") != 0 &&
          strcmp(json_object_get_string(repeat), "window") != 0)))
        return bad(err, path, id, "repeat", "must be \"always\" or \"window\"");
    int rc = check_services(json_get(r, "services", json_type_object), path, id, err);
    if (rc != 0)
        return rc;
    static const char *const required[] = {"indicator", "summary", "detail", "source"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (json_get_str(r, required[i]) == NULL)
            return bad(err, path, id, required[i], "must be a non-empty string");
    json_object *sugg = json_get_obj(r, "suggestions");
    return sugg != NULL ? check_actions(sugg, path, id, err) : 0;
}

/* thresholds.lasting_effect_days: {"<terminology drug id>": days, ...}, at most
 * VIEW_LASTING_MAX; the ids are borrowed from rc->root. */
static int load_lasting(struct rules_conf *rc, json_object *lasting, const char *path,
                        struct myocds_err *err)
{
    if (lasting == NULL)
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

static int load_thresholds(struct rules_conf *rc, const char *path, struct myocds_err *err)
{
    json_object *t = json_get_obj(rc->root, "thresholds");
    const struct {
        const char *key;
        double *field;
    } fields[] = {
        {"pjp_pred_mg_per_day", &rc->th.pjp_pred_mg_per_day},
        {"pjp_min_days", &rc->th.pjp_min_days},
        {"ibm_taper_above_mg_per_day", &rc->th.ibm_taper_above_mg_per_day},
        {"iga_deficiency_mg_dl", &rc->th.iga_deficiency_mg_dl},
        {"adult_age_years", &rc->th.adult_age_years},
        {"childbearing_age_min_years", &rc->th.childbearing_age_min_years},
        {"childbearing_age_max_years", &rc->th.childbearing_age_max_years},
        {"dose_adult_min_mg_kg", &rc->th.dose_adult_min_mg_kg},
        {"dose_adult_max_mg_kg", &rc->th.dose_adult_max_mg_kg},
        {"dose_adult_max_mg", &rc->th.dose_adult_max_mg},
        {"dose_child_max_mg_kg", &rc->th.dose_child_max_mg_kg},
        {"dose_child_max_mg", &rc->th.dose_child_max_mg},
        {"pulse_max_days", &rc->th.pulse_max_days},
        {"bone_min_days", &rc->th.bone_min_days},
        {"high_dose_mg_per_day", &rc->th.high_dose_mg_per_day},
        {"high_dose_max_days", &rc->th.high_dose_max_days},
        {"liver_uln_multiple", &rc->th.liver_uln_multiple},
        {"liver_uln_u_l", &rc->th.liver_uln_u_l},
        {"tpmt_low_u_ml", &rc->th.tpmt_low_u_ml},
        {"tpmt_deficient_u_ml", &rc->th.tpmt_deficient_u_ml},
        {"pregnancy_hcg_days", &rc->th.pregnancy_hcg_days},
        {"established_days", &rc->th.established_days},
        {"child_mtx_mg_m2", &rc->th.child_mtx_mg_m2},
        {"child_tmp_mg_m2_day", &rc->th.child_tmp_mg_m2_day},
        {"child_tmp_max_mg_day", &rc->th.child_tmp_max_mg_day},
    };
    const struct {
        const char *key;
        double *field;
    } zero_ok[] = {
        {"pjp_combo_min_mg_per_day", &rc->th.pjp_combo_min_mg_per_day},
        {"pjp_combo_min_days", &rc->th.pjp_combo_min_days},
        {"course_gap_days", &rc->view.course_gap_days},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!json_get_num(t, fields[i].key, fields[i].field) || *fields[i].field <= 0)
            return myocds_err_set(err, 500, "%s: thresholds.%s: must be a positive number", path,
                                  fields[i].key);
    for (size_t i = 0; i < sizeof zero_ok / sizeof zero_ok[0]; i++)
        if (!json_get_num(t, zero_ok[i].key, zero_ok[i].field) || *zero_ok[i].field < 0)
            return myocds_err_set(err, 500, "%s: thresholds.%s: must be a number >= 0", path,
                                  zero_ok[i].key);
    return load_lasting(rc, json_get_obj(t, "lasting_effect_days"), path, err);
}

/* Fills rc->rendered from every rule's "suggestions" (checked already). */
static int render_suggestions(struct rules_conf *rc, struct myocds_err *err)
{
    rc->rendered = json_object_new_object();
    for (int i = 0; rc->rendered != NULL && i < rules_count; i++) {
        json_object *sugg = json_get_obj(rc->rules[i].obj, "suggestions");
        json_object *texts = json_object_new_object();
        if (texts == NULL)
            break;
        json_object_object_add(rc->rendered, rc->rules[i].id, texts);
        if (sugg == NULL)
            continue;
        json_object_object_foreach(sugg, key, tmpl)
        {
            const char *text = json_object_to_json_string_ext(tmpl, JSON_DUMP_FLAGS);
            json_object *t = text != NULL ? json_object_new_string(text) : NULL;
            if (t == NULL)
                return myocds_err_set(err, 500, "out of memory");
            json_object_object_add(texts, key, t);
        }
    }
    return rc->rendered != NULL ? 0 : myocds_err_set(err, 500, "out of memory");
}

/* Adds value's JSON text under key to texts and drops value; 0, or -1 out of memory. */
static int add_text(json_object *texts, const char *key, json_object *value)
{
    const char *text =
        value != NULL ? json_object_to_json_string_ext(value, JSON_DUMP_FLAGS) : NULL;
    json_object *t = text != NULL ? json_object_new_string(text) : NULL;
    json_object_put(value);
    return t != NULL && json_object_object_add(texts, key, t) == 0 ? 0 : -1;
}

/* A card's source: {"label": the rule's "source", "topic": {system, code: the rule id}}.
 * Owned by the caller; NULL when out of memory. */
static json_object *source_tree(const struct rules_conf *rc, const struct rule_conf *r)
{
    json_object *source = json_object_new_object();
    json_object *topic = json_object_new_object();
    if (source == NULL || topic == NULL) {
        json_object_put(source);
        json_object_put(topic);
        return NULL;
    }
    json_object_object_add(source, "label", json_object_new_string(json_get_str(r->obj, "source")));
    json_object_object_add(topic, "system", json_object_new_string(rc->topic_system));
    json_object_object_add(topic, "code", json_object_new_string(r->id));
    json_object_object_add(source, "topic", topic);
    return source;
}

/* An override reasons list as overrideReasons: [{system, code, display}, ...]. Owned by
 * the caller; NULL when out of memory. */
static json_object *reasons_tree(const struct rules_conf *rc, json_object *list)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; arr != NULL && i < json_object_array_length(list); i++) {
        json_object *r = json_object_array_get_idx(list, i);
        json_object *coding = json_object_new_object();
        if (coding == NULL || json_object_array_add(arr, coding) != 0) {
            json_object_put(coding);
            json_object_put(arr);
            return NULL;
        }
        json_object_object_add(coding, "system", json_object_new_string(rc->override_system));
        json_object_object_add(coding, "code", json_object_new_string(json_get_str(r, "code")));
        json_object_object_add(coding, "display",
                               json_object_new_string(json_get_str(r, "display")));
    }
    return arr;
}

/* Fills rc->parts from every rule's "source" and override reasons (checked already). */
static int render_parts(struct rules_conf *rc, struct myocds_err *err)
{
    rc->parts = json_object_new_object();
    int status = rc->parts != NULL ? 0 : -1;
    for (int i = 0; status == 0 && i < rules_count; i++) {
        const struct rule_conf *r = &rc->rules[i];
        json_object *texts = json_object_new_object();
        if (texts == NULL || json_object_object_add(rc->parts, r->id, texts) != 0) {
            json_object_put(texts);
            return myocds_err_set(err, 500, "out of memory");
        }
        status = add_text(texts, "source", source_tree(rc, r));
        json_object_object_foreach(r->obj, key, list)
        {
            if (status == 0 && is_reasons_key(key) && json_object_is_type(list, json_type_array) &&
                json_object_array_length(list) > 0)
                status = add_text(texts, key, reasons_tree(rc, list));
        }
    }
    return status == 0 ? 0 : myocds_err_set(err, 500, "out of memory");
}

struct rules_conf *rules_conf_load(const char *path, struct myocds_err *err)
{
    size_t len = 0;
    char *text = file_read(path, RULES_FILE_MAX, &len, err);
    struct rules_conf *rc = calloc(1, sizeof *rc);
    int status = text != NULL && rc != NULL ? 0 : -1;
    if (status == 0) {
        rc->root = json_parse_strict(text, len, err);
        rc->rules = calloc((size_t)rules_count, sizeof *rc->rules);
        status = rc->root != NULL && rc->rules != NULL ? 0 : -1;
        if (rc->root == NULL)
            myocds_err_set(err, 500, "%s: not valid JSON", path);
    }
    if (status == 0) {
        rc->topic_system = json_get_str(rc->root, "topic_system");
        rc->override_system = json_get_str(rc->root, "override_system");
        if (rc->topic_system == NULL || rc->override_system == NULL)
            status = myocds_err_set(err, 500, "%s: topic_system and override_system needed", path);
    }
    if (status == 0)
        status = load_thresholds(rc, path, err);
    json_object *rules = json_get_obj(rc != NULL ? rc->root : NULL, "rules");
    for (int i = 0; status == 0 && i < rules_count; i++) {
        json_object *r = json_get_obj(rules, rules_table[i].id);
        json_object *enabled = json_get(r, "enabled", json_type_boolean);
        status = check_rule(r, path, rules_table[i].id, err);
        rc->rules[i] = (struct rule_conf){rules_table[i].id,
                                          enabled == NULL || json_object_get_boolean(enabled), r};
    }
    if (status == 0)
        status = render_suggestions(rc, err);
    if (status == 0)
        status = render_parts(rc, err);
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
    json_object_put(rc->rendered);
    json_object_put(rc->parts);
    free(rc->rules);
    free(rc);
}

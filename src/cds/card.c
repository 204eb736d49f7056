/* card.c - cards (from the rules) to the CDS Hooks 2.0 response JSON.
 *
 * Optional members with no value are left out, never sent as null, "" or [].
 */
#include "cds/card.h"

#include "fhir/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#define UUID_TEXT 37

static void new_uuid(char out[UUID_TEXT])
{
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

static int rank(const char *indicator)
{
    return strcmp(indicator, "critical") == 0 ? 0 : strcmp(indicator, "warning") == 0 ? 1 : 2;
}

static int cmp_cards(const void *a, const void *b)
{
    const struct card *x = a;
    const struct card *y = b;
    return rank(x->indicator) - rank(y->indicator);
}

/* Adds value under a string-literal key: json-c keeps the pointer instead of a copy. */
static void add_lit(json_object *obj, const char *literal_key, json_object *value)
{
    json_object_object_add_ex(obj, literal_key, value, JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

/* Adds a non-empty string under a string-literal key. */
static void add_str(json_object *obj, const char *literal_key, const char *value)
{
    if (value != NULL && value[0] != '\0')
        add_lit(obj, literal_key, json_object_new_string(value));
}

/* Replaces "{patientId}" in every string of a (copied) resource, in place. */
static void fill_patient(json_object *o, const char *patient_id)
{
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, child)
        {
            if (json_object_is_type(child, json_type_string) &&
                strstr(json_object_get_string(child), "{patientId}") != NULL) {
                const struct tvar var = {"patientId", patient_id};
                char *filled = tmpl_fill(json_object_get_string(child), &var, 1);
                if (filled != NULL)
                    json_object_object_add(o, key, json_object_new_string(filled));
                free(filled);
            } else {
                fill_patient(child, patient_id);
            }
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            fill_patient(json_object_array_get_idx(o, i), patient_id);
    }
}

static json_object *suggestions(const struct card *c, const char *patient_id)
{
    json_object *all = json_get_obj(c->conf->obj, "suggestions");
    json_object *arr = json_object_new_array();
    for (int i = 0; i < c->n_suggestions; i++) {
        json_object *tmpl = json_get_obj(all, c->suggestions[i]);
        json_object *s = NULL;
        char uuid[UUID_TEXT];
        if (tmpl == NULL || json_object_deep_copy(tmpl, &s, NULL) != 0)
            continue;
        fill_patient(s, patient_id);
        new_uuid(uuid);
        add_lit(s, "uuid", json_object_new_string(uuid));
        bool any = strcmp(c->selection, "any") == 0; /* every suggestion stands on its own */
        add_lit(s, "isRecommended", json_object_new_boolean(any || i == c->recommended));
        json_object_array_add(arr, s);
    }
    return arr;
}

static json_object *override_reasons(const struct card *c, const struct rules_conf *rc)
{
    json_object *list = json_get_arr(c->conf->obj, c->override_key);
    json_object *arr = json_object_new_array();
    for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
        json_object *r = json_object_array_get_idx(list, i);
        json_object *coding = json_object_new_object();
        add_str(coding, "system", rc->override_system);
        add_str(coding, "code", json_get_str(r, "code"));
        add_str(coding, "display", json_get_str(r, "display"));
        json_object_array_add(arr, coding);
    }
    return arr;
}

static json_object *card_json(const struct card *c, const struct rules_conf *rc,
                              const char *patient_id, const char *uuid)
{
    json_object *o = json_object_new_object();
    json_object *source = json_object_new_object();
    json_object *topic = json_object_new_object();
    add_str(o, "uuid", uuid);
    add_str(o, "summary", c->summary);
    add_str(o, "detail", c->detail);
    add_str(o, "indicator", c->indicator);
    add_str(source, "label", c->source_label);
    add_str(topic, "system", rc->topic_system);
    add_str(topic, "code", c->rule_id);
    add_lit(source, "topic", topic);
    add_lit(o, "source", source);
    if (c->n_suggestions > 0) {
        json_object *s = suggestions(c, patient_id);
        if (json_object_array_length(s) > 0) {
            add_lit(o, "suggestions", s);
            add_str(o, "selectionBehavior", c->selection);
        } else {
            json_object_put(s);
        }
    }
    json_object *reasons = override_reasons(c, rc);
    if (json_object_array_length(reasons) > 0)
        add_lit(o, "overrideReasons", reasons);
    else
        json_object_put(reasons);
    return o;
}

json_object *cards_to_json(struct card_list *cards, const struct rules_conf *rc,
                           const char *patient_id, char (*uuids)[37])
{
    json_object *doc = json_object_new_object();
    json_object *arr = json_object_new_array();
    if (doc == NULL || arr == NULL) {
        json_object_put(doc);
        json_object_put(arr);
        return NULL;
    }
    /* A stable sort keeps the rule table's order within one indicator. */
    for (int i = 1; i < cards->n; i++)
        for (int j = i; j > 0 && cmp_cards(&cards->v[j - 1], &cards->v[j]) > 0; j--) {
            struct card tmp = cards->v[j];
            cards->v[j] = cards->v[j - 1];
            cards->v[j - 1] = tmp;
        }
    for (int i = 0; i < cards->n; i++) {
        char uuid[UUID_TEXT];
        new_uuid(uuid);
        if (uuids != NULL)
            memcpy(uuids[i], uuid, UUID_TEXT);
        json_object_array_add(arr, card_json(&cards->v[i], rc, patient_id, uuid));
    }
    add_lit(doc, "cards", arr);
    return doc;
}

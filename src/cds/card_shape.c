/* card_shape.c - a card shaped to what the calling client can show (card_shape.h). */
#include "cds/card_shape.h"

#include "util/rand_uuid.h"

#include <stdio.h>
#include <string.h>

#define PART_LABEL_MAX 512

/* A 2.0 client: both selection behaviors, any number of actions, no actionSelectionBehavior. */
static const struct myocds_client_profile default_profile = {false, true, true, 0, false};

static bool accepts(const struct myocds_client_profile *p, const char *selection)
{
    return strcmp(selection, "any") == 0 ? p->select_any : p->select_at_most_one;
}

void card_shape_plan(const struct card *c, const struct myocds_client_profile *p,
                     struct card_shape *out)
{
    if (p == NULL)
        p = &default_profile;
    bool over = false, multi = false;
    for (int i = 0; i < c->n_suggestions; i++) {
        over = over || (p->max_actions > 0 && c->suggestions[i]->n_actions > p->max_actions);
        multi = multi || c->suggestions[i]->n_actions > 1;
    }
    const char *selection = strcmp(c->selection, "any") == 0 ? "any" : "at-most-one";
    bool split = over && p->select_any;
    if (split)
        selection = "any"; /* the parts of one suggestion are taken together */
    if (!accepts(p, selection))
        selection = strcmp(selection, "any") == 0 ? "at-most-one" : "any";
    *out = (struct card_shape){
        .selection = selection,
        .split = split,
        .max_actions = over ? p->max_actions : 0,
        .all_actions = p->action_selection && multi,
        .one_recommended = strcmp(selection, "at-most-one") == 0,
    };
    out->plain = !over && !out->all_actions && strcmp(selection, c->selection) == 0;
}

/* A new object with s's members but actions, uuid and label; then label, uuid, the actions
 * [from, to) of actions, and actionSelectionBehavior when there are several and all
 * wants it. Owned by the caller; NULL when out of memory. */
static json_object *part(json_object *s, json_object *actions, size_t from, size_t to,
                         const char *label, bool all)
{
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    char uuid[RAND_UUID_TEXT];
    if (o == NULL || arr == NULL) {
        json_object_put(o);
        json_object_put(arr);
        return NULL;
    }
    rand_uuid(uuid);
    json_object_object_add(o, "label", json_object_new_string(label));
    json_object_object_add(o, "uuid", json_object_new_string(uuid));
    json_object_object_foreach(s, key, val)
    {
        if (strcmp(key, "actions") != 0 && strcmp(key, "uuid") != 0 && strcmp(key, "label") != 0)
            json_object_object_add(o, key, json_object_get(val));
    }
    for (size_t i = from; i < to; i++)
        json_object_array_add(arr, json_object_get(json_object_array_get_idx(actions, i)));
    json_object_object_add(o, "actions", arr);
    if (all && to - from > 1)
        json_object_object_add(o, "actionSelectionBehavior", json_object_new_string("all"));
    return o;
}

/* The label of the part [from, to) of the n actions: when split, the suggestion's label with
 * the action's description (one action) or "(part k of m)"; when cut, the kept actions'
 * descriptions; else the label. Borrowed from s, or written into buf. */
static const char *part_label(json_object *s, json_object *actions, size_t from, size_t to,
                              size_t n, size_t max, bool split, char *buf, size_t cap)
{
    const char *label = json_object_get_string(json_object_object_get(s, "label"));
    size_t len = 0;
    if (to - from == n)
        return label;
    if (split && to - from == 1) { /* "<the suggestion>: <its action>", so a test says
                                      which agent it goes with */
        json_object *desc =
            json_object_object_get(json_object_array_get_idx(actions, from), "description");
        snprintf(buf, cap, "%s: %s", label != NULL ? label : "",
                 desc != NULL ? json_object_get_string(desc) : "");
        return buf;
    }
    if (split && to - from > 1) {
        snprintf(buf, cap, "%s (part %zu of %zu)", label != NULL ? label : "", from / max + 1,
                 (n + max - 1) / max);
        return buf;
    }
    buf[0] = '\0';
    for (size_t i = from; i < to && len < cap; i++) {
        json_object *desc =
            json_object_object_get(json_object_array_get_idx(actions, i), "description");
        int w = snprintf(buf + len, cap - len, "%s%s", i > from ? "; " : "",
                         desc != NULL ? json_object_get_string(desc) : "");
        len += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

int card_shape_suggestion(json_object *s, const struct card_shape *sh, json_object *arr)
{
    json_object *actions = json_object_object_get(s, "actions");
    size_t n =
        json_object_is_type(actions, json_type_array) ? json_object_array_length(actions) : 0;
    size_t max = sh->max_actions > 0 ? (size_t)sh->max_actions : n;
    int rc = 0;
    if (n <= max) {
        if (sh->all_actions && n > 1)
            json_object_object_add(s, "actionSelectionBehavior", json_object_new_string("all"));
        return json_object_array_add(arr, s) == 0 ? 0 : (json_object_put(s), -1);
    }
    for (size_t from = 0; rc == 0 && from < n; from += max) {
        size_t to = from + max < n ? from + max : n;
        char buf[PART_LABEL_MAX];
        json_object *p = part(s, actions, from, to,
                              part_label(s, actions, from, to, n, max, sh->split, buf, sizeof buf),
                              sh->all_actions);
        if (p == NULL || json_object_array_add(arr, p) != 0) {
            json_object_put(p);
            rc = -1;
        }
        if (!sh->split)
            break; /* cut: the first max actions only */
    }
    json_object_put(s);
    return rc;
}

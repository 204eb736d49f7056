/* card.c - cards (from the rules) to the CDS Hooks 2.0 response JSON.
 *
 * Optional members with no value are left out, never sent as null, "" or [].
 */
#include "cds/card.h"

#include "cds/card_shape.h"
#include "util/capbuf.h"
#include "util/json.h"
#include "util/rand_uuid.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A json-c value written out as JSON text: owned by it when drop is given (called on the
 * text when the value goes, or at once when there is no value), else borrowed and
 * outliving it (rules_conf's). NULL for a NULL text or out of memory. */
static json_object *raw_text(const char *text, json_object_delete_fn *drop)
{
    json_object *o = text != NULL ? json_object_new_boolean(0) : NULL;
    if (o == NULL) {
        if (drop != NULL && text != NULL)
            drop(NULL, (void *)text);
        return NULL;
    }
    json_object_set_serializer(o, json_object_userdata_to_json_string, (void *)text, drop);
    return o;
}

/* raw_text() of an owned text. */
static json_object *raw_json(char *text)
{
    return raw_text(text, json_object_free_userdata);
}

/* The patient id as it goes inside a JSON string: escaped, without the quotes. Owned. */
static char *card_patient_json(const char *patient_id)
{
    json_object *s = json_object_new_string(patient_id != NULL ? patient_id : "");
    size_t n = 0;
    const char *text = s != NULL ? json_object_to_json_string_length(s, JSON_DUMP_FLAGS, &n) : NULL;
    char *out = text != NULL && n >= 2 ? malloc(n - 1) : NULL;
    if (out != NULL) {
        memcpy(out, text + 1, n - 2);
        out[n - 2] = '\0';
    }
    json_object_put(s);
    return out;
}

/* One suggestion: the rule's pre-rendered template (rules_conf "rendered") with every
 * "{patientId}" replaced and its uuid and isRecommended added at the end. Owned text. */
static char *suggestion_text(const char *tmpl, const char *patient_json, const char *uuid,
                             bool recommended)
{
    static const char var[] = "{patientId}";
    struct capbuf b = {.max = SIZE_MAX};
    size_t len = strlen(tmpl);
    bool ok = len >= 2 && tmpl[len - 1] == '}';
    const char *end = tmpl + len - 1; /* the closing brace: uuid and isRecommended go first */
    ok = ok && capbuf_reserve(&b, len + strlen(patient_json) + RAND_UUID_TEXT + 48);
    for (const char *p = tmpl; ok && p < end;) {
        const char *hit = strstr(p, var);
        const char *stop = hit != NULL && hit < end ? hit : end;
        ok = capbuf_add(&b, p, (size_t)(stop - p));
        p = stop;
        if (ok && p < end) {
            ok = capbuf_add(&b, patient_json, strlen(patient_json));
            p += sizeof var - 1;
        }
    }
    char tail[RAND_UUID_TEXT + 48];
    int n = snprintf(tail, sizeof tail, "%s\"uuid\":\"%s\",\"isRecommended\":%s}",
                     b.len > 1 ? "," : "", uuid, recommended ? "true" : "false");
    if (ok && (n < 0 || (size_t)n >= sizeof tail || !capbuf_add(&b, tail, (size_t)n)))
        ok = false;
    if (!ok) {
        capbuf_free(&b);
        return NULL;
    }
    return capbuf_take(&b, NULL);
}

/* text with every occurrence of pattern replaced by value. Owned; NULL when out of memory. */
static char *replace_all(const char *text, const char *pattern, const char *value)
{
    struct capbuf b = {.max = SIZE_MAX};
    size_t plen = strlen(pattern);
    bool ok = capbuf_reserve(&b, strlen(text) + 1);
    for (const char *p = text; ok && *p != '\0';) {
        const char *hit = strstr(p, pattern);
        size_t keep = hit != NULL ? (size_t)(hit - p) : strlen(p);
        ok = capbuf_add(&b, p, keep);
        p += keep;
        if (ok && hit != NULL) {
            ok = capbuf_add(&b, value, strlen(value));
            p += plen;
        }
    }
    ok = ok && capbuf_add(&b, "", 0); /* NUL-terminated even when text was empty */
    if (!ok || b.data == NULL) {
        capbuf_free(&b);
        return NULL;
    }
    return capbuf_take(&b, NULL);
}

/* The suggestion text with the card's figures in place: "\"{name}\"" (a whole JSON string)
 * becomes the bare number, "{name}" inside a string its text. Owned; NULL when out of
 * memory. */
static char *with_vars(const struct card *c, char *text)
{
    for (int i = 0; text != NULL && i < c->n_vars; i++) {
        char quoted[CARD_VAR_NAME + 4], bare[CARD_VAR_NAME + 2];
        snprintf(quoted, sizeof quoted, "\"{%s}\"", c->vars[i].name);
        snprintf(bare, sizeof bare, "{%s}", c->vars[i].name);
        char *a = replace_all(text, quoted, c->vars[i].value);
        char *b = a != NULL ? replace_all(a, bare, c->vars[i].value) : NULL;
        free(text);
        free(a);
        text = b;
    }
    return text;
}

/* The card's suggestions as shape sh wants them: the written text as it is (plain), else
 * parsed and reshaped (card_shape.c). isRecommended: every suggestion of an "any" card, else
 * the rule's pick; at most one where the card goes out "at-most-one". */
static json_object *suggestions(const struct card *c, const char *patient_json,
                                const struct card_shape *sh)
{
    json_object *arr = json_object_new_array();
    bool any = strcmp(c->selection, "any") == 0; /* every suggestion stands on its own */
    bool recommended_one = false;
    for (int i = 0; arr != NULL && i < c->n_suggestions; i++) {
        const char *tmpl = c->suggestions[i]->json;
        char uuid[RAND_UUID_TEXT];
        bool rec = (any || i == c->recommended) && !(sh->one_recommended && recommended_one);
        recommended_one = recommended_one || rec;
        if (tmpl == NULL)
            continue;
        rand_uuid(uuid);
        char *text = with_vars(c, suggestion_text(tmpl, patient_json, uuid, rec));
        if (sh->plain) {
            json_object *s = raw_json(text);
            if (s != NULL)
                json_object_array_add(arr, s);
            continue;
        }
        json_object *s = text != NULL ? json_tokener_parse(text) : NULL;
        free(text);
        if (s != NULL)
            card_shape_suggestion(s, sh, arr);
    }
    return arr;
}

static json_object *card_json(const struct card *c, const char *patient_json, const char *uuid,
                              const struct myocds_client_profile *client)
{
    struct card_shape sh;
    card_shape_plan(c, client, &sh);
    json_object *o = json_object_new_object();
    add_str(o, "uuid", uuid);
    add_str(o, "summary", c->summary);
    add_str(o, "detail", c->detail);
    add_str(o, "indicator", c->indicator);
    add_lit(o, "source",
            raw_text(client != NULL && client->topic_alphanumeric ? c->conf->source_json_alnum
                                                                  : c->conf->source_json,
                     NULL));
    if (c->n_suggestions > 0) {
        json_object *s = suggestions(c, patient_json, &sh);
        if (json_object_array_length(s) > 0) {
            add_lit(o, "suggestions", s);
            add_str(o, "selectionBehavior", sh.selection);
        } else {
            json_object_put(s);
        }
    }
    /* Absent when the list is empty: rules_conf renders only non-empty ones. */
    json_object *reasons = raw_text(c->reasons != NULL ? c->reasons->json : NULL, NULL);
    if (reasons != NULL)
        add_lit(o, "overrideReasons", reasons);
    return o;
}

json_object *cards_to_json(struct card_list *cards, const char *patient_id, char (*uuids)[37],
                           const struct myocds_client_profile *client)
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
    char *patient_json = card_patient_json(patient_id);
    for (int i = 0; patient_json != NULL && i < cards->n; i++) {
        char uuid[RAND_UUID_TEXT];
        rand_uuid_v7(uuid); /* time-ordered: the card store indexes them */
        if (uuids != NULL)
            memcpy(uuids[i], uuid, RAND_UUID_TEXT);
        json_object_array_add(arr, card_json(&cards->v[i], patient_json, uuid, client));
    }
    free(patient_json);
    if (patient_json == NULL) {
        json_object_put(doc);
        json_object_put(arr);
        return NULL;
    }
    add_lit(doc, "cards", arr);
    return doc;
}

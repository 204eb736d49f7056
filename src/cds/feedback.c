/* feedback.c - CDS Hooks 2.0 feedback bodies -> struct myocds_feedback entries. */
#include "cds/feedback.h"

#include "util/json.h"

#include <stdlib.h>
#include <string.h>

#define RFC3339_MAX_FRACTION 9 /* digits after the seconds' point */

/* An identifier-like string: 1..max bytes of printable ASCII. */
static bool is_token(json_object *v, size_t max)
{
    if (v == NULL || !json_object_is_type(v, json_type_string))
        return false;
    size_t n = (size_t)json_object_get_string_len(v);
    const char *s = json_object_get_string(v);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    }
    return true;
}

static json_object *member(json_object *obj, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* The time-offset and the end: "Z" or +hh:mm / -hh:mm, then nothing. */
static bool offset_ok(const char *p)
{
    int oh = 0;
    int om = 0;
    if (*p == 'Z' || *p == 'z')
        return p[1] == '\0';
    if (*p != '+' && *p != '-')
        return false;
    return digits(p + 1, 2, &oh) && p[3] == ':' && digits(p + 4, 2, &om) && p[6] == '\0' &&
           oh <= 23 && om <= 59;
}

bool feedback_is_rfc3339(const char *s)
{
    int y, mo, d, h, mi, sec;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            n++;
        if (n == 0 || n > RFC3339_MAX_FRACTION)
            return false;
    }
    return offset_ok(p);
}

/* acceptedSuggestions -> an owned JSON array text of the ids in *out. */
static int parse_accepted(json_object *arr, size_t i, char **out, struct myocds_err *err)
{
    size_t n = json_object_array_length(arr);
    if (n == 0 || n > FEEDBACK_MAX_SUGGESTIONS)
        return myocds_err_set(err, 400,
                              "feedback[%zu].acceptedSuggestions must hold 1 to %d entries", i,
                              FEEDBACK_MAX_SUGGESTIONS);
    json_object *ids = json_object_new_array_ext((int)n);
    if (ids == NULL)
        return myocds_err_set(err, 500, "out of memory");
    for (size_t k = 0; k < n; k++) {
        json_object *s = json_object_array_get_idx(arr, k);
        json_object *id = json_object_is_type(s, json_type_object) ? member(s, "id") : NULL;
        if (!is_token(id, FEEDBACK_MAX_ID)) {
            json_object_put(ids);
            return myocds_err_set(err, 400,
                                  "feedback[%zu].acceptedSuggestions[%zu].id must be a "
                                  "non-empty string of at most %d printable characters",
                                  i, k, FEEDBACK_MAX_ID);
        }
        json_object_array_add(ids, json_object_get(id));
    }
    *out = json_dump(ids, NULL);
    json_object_put(ids);
    return *out == NULL ? myocds_err_set(err, 500, "out of memory") : 0;
}

/* overrideReason {reason: Coding {system, code, display?}, userComment?}. */
static int parse_override(json_object *o, size_t i, struct myocds_feedback *fb,
                          struct myocds_err *err)
{
    if (!json_object_is_type(o, json_type_object))
        return myocds_err_set(err, 400, "feedback[%zu].overrideReason must be an object", i);
    json_object *comment = member(o, "userComment");
    if (comment != NULL && !json_object_is_type(comment, json_type_string))
        return myocds_err_set(err, 400, "feedback[%zu].overrideReason.userComment must be a string",
                              i);
    json_object *reason = member(o, "reason");
    if (reason == NULL)
        return 0;
    if (!json_object_is_type(reason, json_type_object))
        return myocds_err_set(err, 400, "feedback[%zu].overrideReason.reason must be a Coding", i);
    static const char *const parts[] = {"system", "code"};
    for (size_t k = 0; k < 2; k++) {
        if (!is_token(member(reason, parts[k]), FEEDBACK_MAX_CODE))
            return myocds_err_set(err, 400,
                                  "feedback[%zu].overrideReason.reason.%s must be a non-empty "
                                  "string of at most %d printable characters",
                                  i, parts[k], FEEDBACK_MAX_CODE);
    }
    json_object *display = member(reason, "display");
    if (display != NULL && !json_object_is_type(display, json_type_string))
        return myocds_err_set(err, 400,
                              "feedback[%zu].overrideReason.reason.display must be a string", i);
    fb->reason_system = json_object_get_string(member(reason, "system"));
    fb->reason_code = json_object_get_string(member(reason, "code"));
    return 0;
}

static int parse_item(json_object *it, size_t i, struct myocds_feedback *fb, char **accepted,
                      struct myocds_err *err)
{
    if (!json_object_is_type(it, json_type_object))
        return myocds_err_set(err, 400, "feedback[%zu] must be an object", i);
    json_object *card = member(it, "card");
    if (!is_token(card, FEEDBACK_MAX_ID))
        return myocds_err_set(err, 400,
                              "feedback[%zu].card must be a non-empty string of at most %d "
                              "printable characters",
                              i, FEEDBACK_MAX_ID);
    fb->card_uuid = json_object_get_string(card);
    const char *outcome = json_get_str(it, "outcome");
    if (outcome == NULL || (strcmp(outcome, "accepted") != 0 && strcmp(outcome, "overridden") != 0))
        return myocds_err_set(err, 400, "feedback[%zu].outcome must be accepted or overridden", i);
    fb->outcome = outcome;
    json_object *sugg = member(it, "acceptedSuggestions");
    if (sugg != NULL && !json_object_is_type(sugg, json_type_array))
        return myocds_err_set(err, 400, "feedback[%zu].acceptedSuggestions must be an array", i);
    if (sugg == NULL && strcmp(outcome, "accepted") == 0)
        return myocds_err_set(err, 400,
                              "feedback[%zu].acceptedSuggestions is required when accepted", i);
    /* an overridden card's empty list says nothing: stored as if absent, not refused */
    if (sugg != NULL && strcmp(outcome, "overridden") == 0 && json_object_array_length(sugg) == 0)
        sugg = NULL;
    if (sugg != NULL) {
        int rc = parse_accepted(sugg, i, accepted, err);
        if (rc != 0)
            return rc;
        fb->accepted_json = *accepted;
    }
    json_object *over = member(it, "overrideReason");
    if (over != NULL) {
        int rc = parse_override(over, i, fb, err);
        if (rc != 0)
            return rc;
    }
    const char *ts = json_get_str(it, "outcomeTimestamp");
    if (ts == NULL || !feedback_is_rfc3339(ts))
        return myocds_err_set(err, 400,
                              "feedback[%zu].outcomeTimestamp must be an RFC 3339 date-time", i);
    fb->outcome_timestamp = ts;
    return 0;
}

int feedback_parse(const char *body, size_t len, struct feedback_batch *out, struct myocds_err *err)
{
    struct feedback_batch b = {0};
    int rc = 0;
    *out = b; /* nothing to free on any failure */
    b.root = json_parse_strict(body, len, err);
    if (b.root == NULL)
        return err != NULL ? -err->http_status : -400;
    json_object *arr = json_get_arr(b.root, "feedback");
    if (arr == NULL) {
        rc = myocds_err_set(err, 400, "feedback must be an array");
        goto fail;
    }
    b.n = json_object_array_length(arr);
    if (b.n == 0 || b.n > FEEDBACK_MAX_ITEMS) {
        rc = myocds_err_set(err, 400, "feedback must hold 1 to %d entries", FEEDBACK_MAX_ITEMS);
        goto fail;
    }
    b.items = calloc(b.n, sizeof *b.items);
    b.accepted = calloc(b.n, sizeof *b.accepted);
    if (b.items == NULL || b.accepted == NULL) {
        rc = myocds_err_set(err, 500, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < b.n; i++) {
        rc = parse_item(json_object_array_get_idx(arr, i), i, &b.items[i], &b.accepted[i], err);
        if (rc != 0)
            goto fail;
    }
    *out = b;
    return 0;
fail:
    feedback_batch_free(&b);
    memset(out, 0, sizeof *out);
    return rc;
}

void feedback_batch_free(struct feedback_batch *batch)
{
    if (batch == NULL)
        return;
    for (size_t i = 0; batch->accepted != NULL && i < batch->n; i++)
        free(batch->accepted[i]);
    free(batch->accepted);
    free(batch->items);
    json_object_put(batch->root);
    memset(batch, 0, sizeof *batch);
}

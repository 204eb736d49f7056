/* card_build.c - how rules make cards: templates filled with the patient's own facts. */
#include "fhir/json.h"
#include "rules/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMPL_NAME_MAX 32

const char *rule_text(const struct rule_conf *conf, const char *key)
{
    const char *s = json_get_str(conf->obj, key);
    return s != NULL ? s : "";
}

/* A growing string; NULL data after a failed allocation. */
struct sbuf {
    char *data;
    size_t len;
    size_t cap;
};

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->data == NULL)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            free(b->data);
            b->data = NULL;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static const char *lookup_var(const struct tvar *vars, int n, const char *name, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(vars[i].name) == len && strncmp(vars[i].name, name, len) == 0)
            return vars[i].value != NULL ? vars[i].value : "";
    return NULL;
}

char *tmpl_fill(const char *tmpl, const struct tvar *vars, int n)
{
    struct sbuf b = {malloc(64), 0, 64};
    if (b.data != NULL)
        b.data[0] = '\0';
    for (const char *p = tmpl; b.data != NULL && *p != '\0';) {
        const char *open = strchr(p, '{');
        const char *close = open != NULL ? strchr(open, '}') : NULL;
        if (open == NULL || close == NULL) {
            sbuf_add(&b, p, strlen(p));
            break;
        }
        const char *value = close - open - 1 <= TMPL_NAME_MAX
                                ? lookup_var(vars, n, open + 1, (size_t)(close - open - 1))
                                : NULL;
        sbuf_add(&b, p, (size_t)(open - p));
        if (value != NULL)
            sbuf_add(&b, value, strlen(value));
        else
            sbuf_add(&b, open, (size_t)(close - open + 1));
        p = close + 1;
    }
    return b.data;
}

/* Cuts s to at most max UTF-8 characters, ending with "..." when cut. */
static void cut_chars(char *s, int max)
{
    int chars = 0;
    size_t last_ok = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue; /* continuation byte */
        if (chars == max - 3)
            last_ok = i;
        if (++chars > max) {
            memcpy(s + last_ok, "...", 4);
            return;
        }
    }
}

struct card *card_add(struct card_list *out, const struct rule_ctx *ctx, const char *indicator_key,
                      const char *summary_key, const char *detail_key, const struct tvar *vars,
                      int n)
{
    if (out->n == out->cap) {
        int cap = out->cap == 0 ? 4 : out->cap * 2;
        struct card *grown = realloc(out->v, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        out->v = grown;
        out->cap = cap;
    }
    struct card *c = &out->v[out->n];
    memset(c, 0, sizeof *c);
    char *summary = tmpl_fill(rule_text(ctx->conf, summary_key), vars, n);
    c->detail = tmpl_fill(rule_text(ctx->conf, detail_key), vars, n);
    if (summary == NULL || c->detail == NULL) {
        free(summary);
        free(c->detail);
        return NULL;
    }
    snprintf(c->summary, sizeof c->summary, "%s", summary);
    free(summary);
    cut_chars(c->summary, CARD_SUMMARY_MAX_CHARS);
    c->rule_id = ctx->conf->id;
    c->indicator = rule_text(ctx->conf, indicator_key);
    c->override_key = "override_reasons";
    c->selection = "at-most-one";
    c->recommended = -1;
    c->conf = ctx->conf;
    out->n++;
    return c;
}

struct card *card_about(struct card *c, const struct view_med *m)
{
    if (c != NULL)
        c->order = m;
    return c;
}

void card_suggest(struct card *c, const char *key, bool recommended)
{
    if (c->n_suggestions == CARD_MAX_SUGGESTIONS)
        return;
    if (recommended)
        c->recommended = c->n_suggestions;
    c->suggestions[c->n_suggestions++] = key;
}

void card_list_free(struct card_list *list)
{
    for (int i = 0; i < list->n; i++)
        free(list->v[i].detail);
    free(list->v);
    list->v = NULL;
    list->n = list->cap = 0;
}

void rule_fmt_dose(double mg_per_day, char *buf, size_t cap)
{
    if (mg_per_day < 0)
        snprintf(buf, cap, "dose unknown");
    else if (mg_per_day == (double)(long)mg_per_day)
        snprintf(buf, cap, "%.0f mg/day", mg_per_day);
    else
        snprintf(buf, cap, "%.1f mg/day", mg_per_day);
}

void card_suggest_var(struct card *c, const char *name, double value)
{
    if (c->n_vars >= CARD_VARS_MAX || strlen(name) >= CARD_VAR_NAME)
        return;
    snprintf(c->vars[c->n_vars].name, CARD_VAR_NAME, "%s", name);
    snprintf(c->vars[c->n_vars].value, CARD_VAR_VALUE, "%g", value);
    c->n_vars++;
}

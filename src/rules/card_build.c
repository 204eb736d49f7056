/* card_build.c - how rules make cards: templates filled with the patient's own facts. */
#include "rules/rule.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMPL_NAME_MAX 32

const char *rule_map_text(const struct rule_map *m, const char *key)
{
    for (int i = 0; m->texts != NULL && i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0)
            return m->texts[i];
    return NULL;
}

const struct rule_names *rule_map_names(const struct rule_map *m, const char *key)
{
    for (int i = 0; m->names != NULL && i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0)
            return &m->names[i];
    return NULL;
}

static const char *lookup_var(const struct tvar *vars, int n, const char *name, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(vars[i].name) == len && strncmp(vars[i].name, name, len) == 0)
            return vars[i].value != NULL ? vars[i].value : "";
    return NULL;
}

/* Appends n bytes of s to buf[cap] at *len (cut to fit), counting them all in *len. */
static void put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    if (*len + 1 < cap) {
        size_t room = cap - 1 - *len;
        memcpy(buf + *len, s, n < room ? n : room);
    }
    *len += n;
}

size_t tmpl_format(char *buf, size_t cap, const char *tmpl, const struct tvar *vars, int n)
{
    size_t len = 0;
    for (const char *p = tmpl != NULL ? tmpl : ""; *p != '\0';) {
        const char *open = strchr(p, '{');
        const char *close = open != NULL ? strchr(open, '}') : NULL;
        if (open == NULL || close == NULL) {
            put(buf, cap, &len, p, strlen(p));
            break;
        }
        const char *value = close - open - 1 <= TMPL_NAME_MAX
                                ? lookup_var(vars, n, open + 1, (size_t)(close - open - 1))
                                : NULL;
        put(buf, cap, &len, p, (size_t)(open - p));
        if (value != NULL)
            put(buf, cap, &len, value, strlen(value));
        else
            put(buf, cap, &len, open, (size_t)(close - open + 1));
        p = close + 1;
    }
    if (cap > 0)
        buf[len < cap ? len : cap - 1] = '\0';
    return len;
}

char *tmpl_fill(const char *tmpl, const struct tvar *vars, int n)
{
    size_t need = tmpl_format(NULL, 0, tmpl, vars, n);
    char *out = need < SIZE_MAX ? malloc(need + 1) : NULL;
    if (out != NULL)
        tmpl_format(out, need + 1, tmpl, vars, n);
    return out;
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

struct card *card_add(struct card_list *out, const struct rule_ctx *ctx, const char *indicator,
                      const char *summary_tmpl, const char *detail_tmpl, const struct tvar *vars,
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
    char *summary = tmpl_fill(summary_tmpl, vars, n);
    c->detail = tmpl_fill(detail_tmpl, vars, n);
    if (summary == NULL || c->detail == NULL) {
        free(summary);
        free(c->detail);
        return NULL;
    }
    snprintf(c->summary, sizeof c->summary, "%s", summary);
    free(summary);
    cut_chars(c->summary, CARD_SUMMARY_MAX_CHARS);
    c->rule_id = ctx->conf->id;
    c->indicator = indicator;
    c->reasons = &ctx->conf->override_reasons;
    c->selection = "at-most-one";
    c->recommended = -1;
    c->conf = ctx->conf;
    out->n++;
    return c;
}

struct card *card_add_main(struct card_list *out, const struct rule_ctx *ctx,
                           const struct tvar *vars, int n)
{
    return card_add(out, ctx, ctx->conf->indicator, ctx->conf->summary, ctx->conf->detail, vars, n);
}

struct card *card_reasons(struct card *c, const struct rule_reasons *r)
{
    if (c != NULL)
        c->reasons = r;
    return c;
}

struct card *card_about(struct card *c, const struct view_med *m)
{
    if (c != NULL)
        c->order = m;
    return c;
}

void card_suggest(struct card *c, const struct rule_sugg *s, bool recommended)
{
    if (c->n_suggestions == CARD_MAX_SUGGESTIONS || s->json == NULL)
        return;
    if (recommended)
        c->recommended = c->n_suggestions;
    c->suggestions[c->n_suggestions++] = s;
}

void card_list_free(struct card_list *list)
{
    for (int i = 0; i < list->n; i++)
        free(list->v[i].detail);
    free(list->v);
    list->v = NULL;
    list->n = list->cap = 0;
}

void rule_fmt_dose(const struct rule_words *w, double mg_per_day, char *buf, size_t cap)
{
    char mg[32];
    snprintf(mg, sizeof mg, mg_per_day == (double)(long)mg_per_day ? "%.0f" : "%.1f", mg_per_day);
    const struct tvar vars[] = {{"mg", mg}};
    tmpl_format(buf, cap, mg_per_day < 0 ? w->dose_unknown : w->mg_per_day, vars, 1);
}

void card_suggest_var(struct card *c, const char *name, double value)
{
    if (c->n_vars >= CARD_VARS_MAX || strlen(name) >= CARD_VAR_NAME)
        return;
    snprintf(c->vars[c->n_vars].name, CARD_VAR_NAME, "%s", name);
    snprintf(c->vars[c->n_vars].value, CARD_VAR_VALUE, "%g", value);
    c->n_vars++;
}

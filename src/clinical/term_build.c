/* term_build.c - the loader's tools: the code table, name lists, and errors that name the
 * file and the field. Used by term_load.c while hooks/terminology.json is read. */
#include "clinical/term_build.h"

#include "clinical/textmatch.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bit named s in table t, or 0. */
unsigned term_find_bit(const struct name_bit *t, size_t n, const char *s)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (strcmp(t[i].name, s) == 0)
            return t[i].bit;
    return 0;
}

int term_fail(struct term_loader *l, const char *field, int idx, const char *what)
{
    if (idx >= 0)
        return myocds_err_set(l->err, 500, "%s: %s[%d]: %s", l->file, field, idx, what);
    return myocds_err_set(l->err, 500, "%s: %s: %s", l->file, field, what);
}

/* The entry for system|code, created when absent. NULL when out of memory or too long. */
struct code_entry *term_entry_for(struct terminology *t, const char *system, const char *code)
{
    char key[TERM_KEY_MAX];
    void *v = NULL;
    if ((size_t)snprintf(key, sizeof key, "%s|%s", system, code) >= sizeof key)
        return NULL;
    if (lh_table_lookup_ex(t->codes, key, &v))
        return v;
    struct code_entry *e = calloc(1, sizeof *e);
    char *k = strdup(key);
    if (e == NULL || k == NULL || lh_table_insert(t->codes, k, e) != 0) {
        free(e);
        free(k);
        return NULL;
    }
    e->scd_mg = -1;
    return e;
}

/* Calls fn on each {system, code} of arr; fails naming field when one is malformed. */
int term_each_code(struct term_loader *l, json_object *arr, const char *field,
                   int (*fn)(struct code_entry *, const void *), const void *arg)
{
    size_t n = arr != NULL ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(arr, i);
        const char *sys = json_get_str(c, "system");
        const char *code = json_get_str(c, "code");
        if (sys == NULL || code == NULL)
            return term_fail(l, field, (int)i, "needs string system and code");
        struct code_entry *e = term_entry_for(l->t, sys, code);
        if (e == NULL)
            return term_fail(l, field, (int)i, "cannot be stored");
        int rc = fn(e, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Appends a name pattern (copied) to a list. */
static int push_name(struct term_name **list, int *n, const char *pattern,
                     const struct term_name *meaning)
{
    struct term_name *grown = realloc(*list, (size_t)(*n + 1) * sizeof **list);
    if (grown == NULL)
        return -1;
    *list = grown;
    grown[*n] = *meaning;
    grown[*n].pattern = malloc(strlen(pattern) + 1);
    if (grown[*n].pattern == NULL)
        return -1;
    text_lower(pattern, grown[*n].pattern, strlen(pattern) + 1);
    (*n)++;
    return 0;
}

int term_push_names(struct term_loader *l, json_object *arr, const char *field,
                    struct term_name **list, int *n, const struct term_name *meaning)
{
    size_t count = arr != NULL ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < count; i++) {
        json_object *s = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(s, json_type_string) || json_object_get_string_len(s) == 0)
            return term_fail(l, field, (int)i, "must be a non-empty string");
        if (push_name(list, n, json_object_get_string(s), meaning) != 0)
            return term_fail(l, field, (int)i, "out of memory");
    }
    return 0;
}

/* term_answers.c - load what results say besides their numbers: the answers of qualitative
 * tests (lab_answers), the interpretation flags (interpretations) and the TPMT alleles
 * (tpmt_alleles) of hooks/terminology.json. All three are optional: a file without them
 * reads no answer, no flag and no diplotype.
 */
#include "clinical/term_build.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

static const struct name_bit flags[] = {
    {"normal", LAB_FLAG_NORMAL},
    {"negative", LAB_FLAG_NEGATIVE},
    {"positive", LAB_FLAG_POSITIVE},
    {"indeterminate", LAB_FLAG_INDETERMINATE},
    {"low", LAB_FLAG_LOW},
    {"critically_low", LAB_FLAG_CRIT_LOW},
    {"high", LAB_FLAG_HIGH},
    {"critically_high", LAB_FLAG_CRIT_HIGH},
    {"abnormal", LAB_FLAG_ABNORMAL},
    /* TPMT's words for its phenotypes */
    {"deficient", LAB_FLAG_CRIT_LOW},
};

static int set_answer(struct code_entry *e, const void *arg)
{
    e->answer = *(const enum lab_flag *)arg;
    return 0;
}

/* One group of lab_answers ("serology" or "tpmt"): [{means, codes?, names}] into list. */
static int load_group(struct term_loader *l, json_object *arr, const char *field,
                      enum term_list list)
{
    for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
        json_object *a = json_object_array_get_idx(arr, i);
        struct term_name m = {
            .flag = (enum lab_flag)term_find_bit(flags, COUNT(flags), json_get_str(a, "means"))};
        if (m.flag == LAB_FLAG_NONE)
            return term_fail(l, field, (int)i, "unknown meaning");
        int rc = term_each_code(l, json_get_arr(a, "codes"), field, set_answer, &m.flag);
        if (rc == 0)
            rc = term_push_names(l, json_get_arr(a, "names"), field, &l->t->names[list],
                                 &l->t->n_names[list], &m);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A NULL-terminated, owned copy of the strings of arr (NULL for none); -1 on a bad one. */
static int copy_strings(struct term_loader *l, json_object *arr, const char *field, char ***out)
{
    size_t n = arr != NULL ? json_object_array_length(arr) : 0;
    *out = calloc(n + 1, sizeof **out);
    if (*out == NULL)
        return term_fail(l, field, -1, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(s, json_type_string))
            return term_fail(l, field, (int)i, "must be a string");
        (*out)[i] = strdup(json_object_get_string(s));
        if ((*out)[i] == NULL)
            return term_fail(l, field, (int)i, "out of memory");
    }
    return 0;
}

static int load_interpretations(struct term_loader *l, json_object *interp)
{
    json_object *codes = json_get_obj(interp, "codes");
    json_object *names = json_get_obj(interp, "names");
    int rc = copy_strings(l, json_get_arr(interp, "systems"), "interpretations.systems",
                          &l->t->interp_systems);
    size_t n = codes != NULL ? (size_t)json_object_object_length(codes) : 0;
    l->t->interp_codes = rc == 0 ? calloc(n + 1, sizeof *l->t->interp_codes) : NULL;
    if (rc == 0 && l->t->interp_codes == NULL)
        return term_fail(l, "interpretations.codes", -1, "out of memory");
    for (struct lh_entry *e = codes != NULL ? json_object_get_object(codes)->head : NULL;
         rc == 0 && e != NULL; e = e->next) {
        struct interp_code *c = &l->t->interp_codes[l->t->n_interp_codes];
        const char *code = lh_entry_k(e);
        c->flag = (enum lab_flag)term_find_bit(
            flags, COUNT(flags), json_object_get_string((json_object *)lh_entry_v(e)));
        if (c->flag == LAB_FLAG_NONE || strlen(code) >= sizeof c->code)
            return term_fail(l, "interpretations.codes", l->t->n_interp_codes, "bad entry");
        memcpy(c->code, code, strlen(code) + 1);
        l->t->n_interp_codes++;
    }
    for (struct lh_entry *e = names != NULL ? json_object_get_object(names)->head : NULL;
         rc == 0 && e != NULL; e = e->next) {
        struct term_name m = {
            .flag = (enum lab_flag)term_find_bit(
                flags, COUNT(flags), json_object_get_string((json_object *)lh_entry_v(e)))};
        json_object *one = json_object_new_array();
        if (one == NULL)
            return term_fail(l, "interpretations.names", -1, "out of memory");
        json_object_array_add(one, json_object_new_string(lh_entry_k(e)));
        rc = m.flag == LAB_FLAG_NONE
                 ? term_fail(l, "interpretations.names", -1, "unknown meaning")
                 : term_push_names(l, one, "interpretations.names", &l->t->names[TL_INTERP],
                                   &l->t->n_names[TL_INTERP], &m);
        json_object_put(one);
    }
    return rc;
}

int term_load_answers(struct term_loader *l, json_object *root)
{
    json_object *answers = json_get_obj(root, "lab_answers");
    json_object *alleles = json_get_obj(root, "tpmt_alleles");
    int rc = load_group(l, json_get_arr(answers, "serology"), "lab_answers.serology",
                        TL_ANSWER_SEROLOGY);
    if (rc == 0)
        rc = load_group(l, json_get_arr(answers, "tpmt"), "lab_answers.tpmt", TL_ANSWER_TPMT);
    if (rc == 0)
        rc = load_interpretations(l, json_get_obj(root, "interpretations"));
    if (rc == 0)
        rc = copy_strings(l, json_get_arr(alleles, "normal"), "tpmt_alleles.normal",
                          &l->t->tpmt_normal);
    if (rc == 0)
        rc = copy_strings(l, json_get_arr(alleles, "no_function"), "tpmt_alleles.no_function",
                          &l->t->tpmt_null);
    return rc;
}

static void free_strings(char **list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        free(list[i]);
    free(list);
}

void term_free_answers(struct terminology *t)
{
    free(t->interp_codes);
    free_strings(t->interp_systems);
    free_strings(t->tpmt_normal);
    free_strings(t->tpmt_null);
}

/* term_load.c - parse and validate hooks/terminology.json into struct terminology.
 *
 * A bad file stops start-up with a message naming the file and the field.
 */
#include "clinical/term_build.h"
#include "util/file.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TERM_FILE_MAX (8u << 20)
#define TERM_TABLE_SIZE 1024

static const struct name_bit drug_classes[] = {
    {"glucocorticoid", DC_GLUCOCORTICOID},
    {"steroid_sparing", DC_STEROID_SPARING},
    {"immunosuppressant", DC_IMMUNOSUPPRESSANT},
    {"pjp_prophylaxis", DC_PJP_PROPHYLAXIS},
    {"ivig", DC_IVIG},
    {"statin", DC_STATIN},
    {"tnf_inhibitor", DC_TNF_INHIBITOR},
    {"folic_acid", DC_FOLIC_ACID},
    {"calcium", DC_CALCIUM},
    {"vitamin_d", DC_VITAMIN_D},
    {"bisphosphonate", DC_BISPHOSPHONATE},
    {"methotrexate", DC_METHOTREXATE},
    {"azathioprine", DC_AZATHIOPRINE},
    {"sulfonamide", DC_SULFONAMIDE},
    {"teratogen", DC_TERATOGEN},
};

static const struct name_bit subtypes[] = {
    {"PM", IIM_PM},
    {"DM", IIM_DM},
    {"JDM", IIM_JDM},
    {"IMNM", IIM_IMNM},
    {"IBM", IIM_IBM},
    {"ANTISYNTHETASE", IIM_ANTISYNTHETASE},
    {"UNSPECIFIED", IIM_UNSPECIFIED},
};

static const struct name_bit cond_flags[] = {
    {"ILD", COND_ILD},
    {"IGA_DEFICIENCY", COND_IGA_DEFICIENCY},
    {"OSTEOPOROSIS", COND_OSTEOPOROSIS},
    {"PREGNANCY", COND_PREGNANCY},
};

static int set_condition(struct code_entry *e, const void *arg)
{
    const struct term_name *m = arg;
    e->subtypes |= m->subtypes;
    e->flags |= m->flags;
    return 0;
}

static int load_conditions(struct term_loader *l, json_object *root, const char *key, bool flags)
{
    json_object *arr = json_get_arr(root, key);
    if (arr == NULL)
        return term_fail(l, key, -1, "must be an array");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *c = json_object_array_get_idx(arr, i);
        const char *name = json_get_str(c, flags ? "flag" : "subtype");
        struct term_name m = {0};
        if (flags)
            m.flags = term_find_bit(cond_flags, COUNT(cond_flags), name);
        else
            m.subtypes = term_find_bit(subtypes, COUNT(subtypes), name);
        if (m.flags == 0 && m.subtypes == 0)
            return term_fail(l, key, (int)i, flags ? "unknown flag" : "unknown subtype");
        int rc = term_each_code(l, json_get_arr(c, "codes"), key, set_condition, &m);
        if (rc == 0)
            rc = term_push_names(l, json_get_arr(c, "names"), key, &l->t->names[TL_COND],
                                 &l->t->n_names[TL_COND], &m);
        if (rc != 0)
            return rc;
    }
    return 0;
}

struct drug_code {
    const struct term_drug *drug;
    double mg;
};

static int set_drug(struct code_entry *e, const void *arg)
{
    const struct drug_code *dc = arg;
    e->drug = dc->drug;
    e->scd_mg = dc->mg;
    return 0;
}

static int load_drug_codes(struct term_loader *l, json_object *d, const struct term_drug *drug)
{
    json_object *rx = json_get_arr(d, "rxnorm");
    for (size_t i = 0; rx != NULL && i < json_object_array_length(rx); i++) {
        json_object *s = json_object_array_get_idx(rx, i);
        struct code_entry *e =
            json_object_is_type(s, json_type_string)
                ? term_entry_for(l->t, "http://www.nlm.nih.gov/research/umls/rxnorm",
                                 json_object_get_string(s))
                : NULL;
        if (e == NULL)
            return term_fail(l, "drugs.rxnorm", (int)i, "must be a code string");
        e->drug = drug;
    }
    json_object *scd = json_get_arr(d, "clinical_drugs");
    for (size_t i = 0; scd != NULL && i < json_object_array_length(scd); i++) {
        json_object *c = json_object_array_get_idx(scd, i);
        struct drug_code dc = {drug, -1};
        const char *code = json_get_str(c, "code");
        if (code == NULL || !json_get_num(c, "mg", &dc.mg) || dc.mg <= 0)
            return term_fail(l, "drugs.clinical_drugs", (int)i, "needs code and a positive mg");
        struct code_entry *e =
            term_entry_for(l->t, "http://www.nlm.nih.gov/research/umls/rxnorm", code);
        if (e == NULL)
            return term_fail(l, "drugs.clinical_drugs", (int)i, "cannot be stored");
        set_drug(e, &dc);
    }
    return term_each_code(l, json_get_arr(d, "codes"), "drugs.codes", set_drug,
                          &(struct drug_code){drug, -1});
}

static int load_drug(struct term_loader *l, json_object *d, struct term_drug *drug, int idx)
{
    const char *id = json_get_str(d, "id");
    json_object *classes = json_get_arr(d, "classes");
    if (id == NULL || classes == NULL)
        return term_fail(l, "drugs", idx, "needs id and classes");
    drug->id = strdup(id);
    drug->display = strdup(json_get_str(d, "display") ? json_get_str(d, "display") : id);
    if (drug->id == NULL || drug->display == NULL)
        return term_fail(l, "drugs", idx, "out of memory");
    for (size_t i = 0; i < json_object_array_length(classes); i++) {
        const char *c = json_object_get_string(json_object_array_get_idx(classes, i));
        unsigned bit = 0;
        bit = term_find_bit(drug_classes, COUNT(drug_classes), c);
        if (bit == 0)
            return term_fail(l, "drugs.classes", idx, "unknown class");
        drug->classes |= bit;
    }
    drug->potency = -1;
    json_get_num(d, "potency", &drug->potency);
    drug->iv_only = json_get(d, "iv_only", json_type_boolean) != NULL &&
                    json_object_get_boolean(json_get(d, "iv_only", json_type_boolean));
    const char *unstated = json_get_str(d, "unstated_form");
    drug->unstated = ROUTE_SYSTEMIC;
    if (unstated != NULL && strcmp(unstated, "unknown") == 0)
        drug->unstated = ROUTE_UNKNOWN;
    else if (unstated != NULL && strcmp(unstated, "systemic") != 0)
        return term_fail(l, "drugs.unstated_form", idx, "must be \"systemic\" or \"unknown\"");
    return load_drug_codes(l, d, drug);
}

static int load_drugs(struct term_loader *l, json_object *root)
{
    json_object *arr = json_get_arr(root, "drugs");
    if (arr == NULL || json_object_array_length(arr) == 0)
        return term_fail(l, "drugs", -1, "must be a non-empty array");
    size_t n = json_object_array_length(arr);
    l->t->drugs = calloc(n, sizeof *l->t->drugs);
    if (l->t->drugs == NULL)
        return term_fail(l, "drugs", -1, "out of memory");
    l->t->n_drugs = (int)n;
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(arr, i);
        struct term_drug *drug = &l->t->drugs[i];
        struct term_name m = {.drug = drug};
        int rc = load_drug(l, d, drug, (int)i);
        if (rc == 0)
            rc = term_push_names(l, json_get_arr(d, "names"), "drugs.names", &l->t->names[TL_DRUG],
                                 &l->t->n_names[TL_DRUG], &m);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int set_lab(struct code_entry *e, const void *arg)
{
    e->lab = *(const enum lab_kind *)arg;
    return 0;
}

static int set_sulfa(struct code_entry *e, const void *arg)
{
    (void)arg;
    e->sulfa_allergy = true;
    return 0;
}

static const struct name_bit lab_kinds[] = {
    {"iga", LAB_IGA}, {"weight", LAB_WEIGHT}, {"tpmt", LAB_TPMT},     {"hbsag", LAB_HBSAG},
    {"hbc", LAB_HBC}, {"hcv", LAB_HCV},       {"liver", LAB_LIVER},   {"dxa", LAB_DXA},
    {"ast", LAB_AST}, {"hcg", LAB_HCG},       {"height", LAB_HEIGHT},
};

static const struct name_bit proc_kinds[] = {{"plasmapheresis", PROC_PLASMAPHERESIS},
                                             {"dxa", PROC_DXA}};

static int load_labs(struct term_loader *l, json_object *root)
{
    json_object *arr = json_get_arr(root, "labs");
    for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
        json_object *lab = json_object_array_get_idx(arr, i);
        unsigned k = 0;
        k = term_find_bit(lab_kinds, COUNT(lab_kinds), json_get_str(lab, "kind"));
        if (k == 0)
            return term_fail(l, "labs", (int)i, "unknown kind");
        enum lab_kind kind = (enum lab_kind)k;
        int rc = term_each_code(l, json_get_arr(lab, "codes"), "labs.codes", set_lab, &kind);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int set_proc(struct code_entry *e, const void *arg)
{
    e->proc = *(const enum proc_kind *)arg;
    return 0;
}

static int load_procedures(struct term_loader *l, json_object *root)
{
    json_object *arr = json_get_arr(root, "procedures");
    for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
        json_object *p = json_object_array_get_idx(arr, i);
        unsigned k = 0;
        k = term_find_bit(proc_kinds, COUNT(proc_kinds), json_get_str(p, "kind"));
        if (k == 0)
            return term_fail(l, "procedures", (int)i, "unknown kind");
        struct term_name m = {.proc = (enum proc_kind)k};
        int rc = term_each_code(l, json_get_arr(p, "codes"), "procedures.codes", set_proc, &m.proc);
        if (rc == 0)
            rc = term_push_names(l, json_get_arr(p, "names"), "procedures.names",
                                 &l->t->names[TL_PROC], &l->t->n_names[TL_PROC], &m);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int load_units(struct term_loader *l, json_object *root)
{
    json_object *units = json_get_obj(root, "iga_units_to_mg_dl");
    if (units == NULL)
        return term_fail(l, "iga_units_to_mg_dl", -1, "must be an object");
    l->t->iga_units = calloc((size_t)json_object_object_length(units) + 1, sizeof *l->t->iga_units);
    if (l->t->iga_units == NULL)
        return term_fail(l, "iga_units_to_mg_dl", -1, "out of memory");
    json_object_object_foreach(units, unit, factor)
    {
        struct iga_unit *u = &l->t->iga_units[l->t->n_iga_units];
        if (!json_object_is_type(factor, json_type_int) &&
            !json_object_is_type(factor, json_type_double))
            return term_fail(l, "iga_units_to_mg_dl", -1, "factors must be numbers");
        if ((size_t)snprintf(u->unit, sizeof u->unit, "%s", unit) >= sizeof u->unit)
            return term_fail(l, "iga_units_to_mg_dl", -1, "unit too long");
        u->factor = json_object_get_double(factor);
        l->t->n_iga_units++;
    }
    return 0;
}

static int set_route(struct code_entry *e, const void *arg)
{
    e->route = *(const enum route_class *)arg;
    return 0;
}

/* One name list of an object in the file: obj.key, required, into list l. */
static int push_list(struct term_loader *l, json_object *obj, const char *key, const char *field,
                     enum term_list list)
{
    static const struct term_name none = {0};
    json_object *arr = json_get_arr(obj, key);
    if (arr == NULL)
        return term_fail(l, field, -1, "must be an array");
    return term_push_names(l, arr, field, &l->t->names[list], &l->t->n_names[list], &none);
}

static int load_routes(struct term_loader *l, json_object *root)
{
    static const enum route_class systemic = ROUTE_SYSTEMIC;
    static const enum route_class local = ROUTE_LOCAL;
    json_object *routes = json_get_obj(root, "routes");
    json_object *forms = json_get_obj(root, "dose_forms");
    json_object *allergy = json_get_obj(root, "sulfonamide_allergy");
    if (routes == NULL || forms == NULL || allergy == NULL)
        return term_fail(l, "routes/dose_forms/sulfonamide_allergy", -1, "must be objects");
    int rc = push_list(l, routes, "not_systemic", "routes.not_systemic", TL_ROUTE_LOCAL);
    if (rc == 0)
        rc = push_list(l, routes, "systemic", "routes.systemic", TL_ROUTE_SYSTEMIC);
    if (rc == 0)
        rc = push_list(l, routes, "intravenous", "routes.intravenous", TL_ROUTE_IV);
    if (rc == 0)
        rc = term_each_code(l, json_get_arr(routes, "systemic_codes"), "routes.systemic_codes",
                            set_route, &systemic);
    if (rc == 0)
        rc = term_each_code(l, json_get_arr(routes, "not_systemic_codes"),
                            "routes.not_systemic_codes", set_route, &local);
    if (rc == 0)
        rc = push_list(l, forms, "not_systemic", "dose_forms.not_systemic", TL_FORM_LOCAL);
    if (rc == 0)
        rc = push_list(l, forms, "systemic", "dose_forms.systemic", TL_FORM_SYSTEMIC);
    if (rc == 0)
        rc = push_list(l, forms, "solid", "dose_forms.solid", TL_FORM_SOLID);
    if (rc == 0)
        rc = push_list(l, allergy, "names", "sulfonamide_allergy.names", TL_SULFA);
    if (rc == 0)
        rc = term_each_code(l, json_get_arr(allergy, "codes"), "sulfonamide_allergy.codes",
                            set_sulfa, NULL);
    return rc;
}

/* system_aliases: {"urn:oid:...": "http://...", ...}, optional. */
static int load_aliases(struct term_loader *l, json_object *root)
{
    json_object *obj = json_get(root, "system_aliases", json_type_object);
    size_t n = obj != NULL ? (size_t)json_object_object_length(obj) : 0;
    if (n == 0)
        return 0;
    l->t->aliases = calloc(n, sizeof *l->t->aliases);
    if (l->t->aliases == NULL)
        return term_fail(l, "system_aliases", -1, "out of memory");
    json_object_object_foreach(obj, oid, system)
    {
        struct system_alias *a = &l->t->aliases[l->t->n_aliases];
        if (!json_object_is_type(system, json_type_string) || strncmp(oid, "urn:oid:", 8) != 0)
            return term_fail(l, "system_aliases", l->t->n_aliases,
                             "must map a urn:oid: to a system URL");
        a->oid = strdup(oid);
        a->system = strdup(json_object_get_string(system));
        l->t->n_aliases++;
        if (a->oid == NULL || a->system == NULL)
            return term_fail(l, "system_aliases", -1, "out of memory");
    }
    return 0;
}

static void free_entry(struct lh_entry *e)
{
    free((void *)lh_entry_k(e));
    free(lh_entry_v(e));
}

struct terminology *term_load(const char *path, struct myocds_err *err)
{
    struct term_loader l = {calloc(1, sizeof(struct terminology)), path, err};
    size_t len = 0;
    char *text = file_read(path, TERM_FILE_MAX, &len, err);
    json_object *root = text != NULL ? json_parse_strict(text, len, err) : NULL;
    int rc = -1;
    if (root != NULL && l.t != NULL) {
        l.t->codes = lh_kchar_table_new(TERM_TABLE_SIZE, free_entry);
        rc = l.t->codes == NULL ? term_fail(&l, "codes", -1, "out of memory") : 0;
        if (rc == 0)
            rc = load_aliases(&l, root);
        if (rc == 0)
            rc = load_conditions(&l, root, "conditions", false);
        if (rc == 0)
            rc = load_conditions(&l, root, "condition_flags", true);
        if (rc == 0)
            rc = load_drugs(&l, root);
        if (rc == 0)
            rc = load_labs(&l, root);
        if (rc == 0)
            rc = load_procedures(&l, root);
        if (rc == 0)
            rc = load_units(&l, root);
        if (rc == 0)
            rc = load_routes(&l, root);
        if (rc == 0)
            rc = term_load_answers(&l, root);
    } else if (text != NULL && root == NULL) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err != NULL ? err->msg : "invalid JSON");
        myocds_err_set(err, 500, "%s: %s", path, why);
    }
    json_object_put(root);
    free(text);
    if (rc != 0) {
        term_free(l.t);
        return NULL;
    }
    term_index_names(l.t);
    return l.t;
}

static void free_names(struct term_name *names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i].pattern);
    free(names);
}

void term_free(struct terminology *t)
{
    if (t == NULL)
        return;
    if (t->codes != NULL)
        lh_table_free(t->codes);
    for (int i = 0; i < t->n_drugs; i++) {
        free(t->drugs[i].id);
        free(t->drugs[i].display);
    }
    free(t->drugs);
    for (int i = 0; i < TL_COUNT; i++)
        free_names(t->names[i], t->n_names[i]);
    for (int i = 0; i < t->n_aliases; i++) {
        free(t->aliases[i].oid);
        free(t->aliases[i].system);
    }
    free(t->aliases);
    free(t->iga_units);
    term_free_answers(t);
    free(t);
}

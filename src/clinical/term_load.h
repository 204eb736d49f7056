/* term_load.h - the inside of struct terminology, shared by its loader and its lookups. */
#ifndef MYOCDS_CLINICAL_TERM_LOAD_H
#define MYOCDS_CLINICAL_TERM_LOAD_H

#include "clinical/terminology.h"

#include <json-c/linkhash.h>

#define TERM_KEY_MAX 256

/* What one "system|code" means; a code may be a drug and an allergen at once. */
struct code_entry {
    const struct term_drug *drug;
    double scd_mg;     /* strength of a clinical-drug code, -1 for an ingredient */
    unsigned subtypes; /* enum iim_subtype bits */
    unsigned flags;    /* enum cond_flag bits */
    enum lab_kind lab;
    enum proc_kind proc;
    bool sulfa_allergy;
};

/* A name pattern and what it means. Patterns are owned by the terminology. */
struct term_name {
    char *pattern;
    const struct term_drug *drug;
    unsigned subtypes;
    unsigned flags;
    enum proc_kind proc;
};

struct iga_unit {
    char unit[16];
    double factor;
};

struct terminology {
    struct lh_table *codes; /* "system|code" -> struct code_entry (both owned) */
    struct term_drug *drugs;
    int n_drugs;
    struct term_name *drug_names, *cond_names, *route_local, *route_iv, *sulfa_names, *proc_names;
    int n_drug_names, n_cond_names, n_route_local, n_route_iv, n_sulfa_names, n_proc_names;
    struct iga_unit *iga_units;
    int n_iga_units;
};

/* Orders every name list for the lookups (terminology.c); term_load() calls it last. */
void term_index_names(struct terminology *t);

#endif

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
    enum route_class route; /* a route code's meaning */
    bool sulfa_allergy;
    enum lab_flag answer; /* a serology answer code's meaning (lab_answers) */
};

/* A name pattern and what it means. Patterns are owned by the terminology. */
struct term_name {
    char *pattern;
    const struct term_drug *drug;
    unsigned subtypes;
    unsigned flags;
    enum proc_kind proc;
    enum lab_flag flag; /* an answer's or an interpretation's meaning */
};

struct iga_unit {
    char unit[16];
    double factor;
};

/* An interpretation code and its meaning. */
struct interp_code {
    char code[8];
    enum lab_flag flag;
};

/* The name lists, for term_index_names()'s index of each. */
enum term_list {
    TL_DRUG,
    TL_COND,
    TL_ROUTE_LOCAL,
    TL_ROUTE_SYSTEMIC,
    TL_ROUTE_IV,
    TL_FORM_LOCAL,
    TL_FORM_SYSTEMIC,
    TL_FORM_SOLID,
    TL_SULFA,
    TL_PROC,
    TL_ANSWER_SEROLOGY, /* lab_answers.serology names */
    TL_ANSWER_TPMT,     /* lab_answers.tpmt names */
    TL_INTERP,          /* interpretations.names */
    TL_COUNT
};

/* An OID naming a code system that also has a URL (system_aliases). Both owned. */
struct system_alias {
    char *oid;
    char *system;
};
#define TERM_FIRST_BYTES 256

struct terminology {
    struct lh_table *codes; /* "system|code" -> struct code_entry (both owned) */
    struct term_drug *drugs;
    int n_drugs;
    /* the name lists, in enum term_list order, and their lengths */
    struct term_name *names[TL_COUNT];
    int n_names[TL_COUNT];
    struct system_alias *aliases;
    int n_aliases;
    struct iga_unit *iga_units;
    int n_iga_units;
    struct interp_code *interp_codes; /* interpretations.codes */
    int n_interp_codes;
    char **interp_systems; /* interpretations.systems (owned), NULL-terminated */
    char **tpmt_normal;    /* tpmt_alleles.normal (owned), NULL-terminated */
    char **tpmt_null;      /* tpmt_alleles.no_function (owned), NULL-terminated */
    /* by_first[list][c]: the index of the list's first name whose pattern starts with byte
     * c or a later one; by_first[list][TERM_FIRST_BYTES] is the list's length. */
    int by_first[TL_COUNT][TERM_FIRST_BYTES + 1];
};

/* The best whole-word match of text in name list l (terminology.c), or -1. */
int term_find_name(const struct terminology *t, enum term_list l, const char *text);

/* Loads lab_answers, interpretations and tpmt_alleles (term_answers.c); frees them. */
struct term_loader;
int term_load_answers(struct term_loader *l, json_object *root);
void term_free_answers(struct terminology *t);

/* Orders every name list by first byte and indexes it (terminology.c); term_load() calls
 * it last. */
void term_index_names(struct terminology *t);

#endif

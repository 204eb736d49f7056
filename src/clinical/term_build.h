/* term_build.h - the loader's tools shared by term_load.c and term_build.c. */
#ifndef MYOCDS_CLINICAL_TERM_BUILD_H
#define MYOCDS_CLINICAL_TERM_BUILD_H

#include "clinical/term_load.h"

#include <json-c/json.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The file being loaded and where errors go. */
struct term_loader {
    struct terminology *t;
    const char *file;
    struct myocds_err *err;
};

/* A name in hooks/terminology.json and the enum bit it stands for. */
struct name_bit {
    const char *name;
    unsigned bit;
};

/* The bit named s in table t of n rows, or 0. */
unsigned term_find_bit(const struct name_bit *t, size_t n, const char *s);

/* Fills l->err with "FILE: FIELD[IDX]: WHAT" (no index when idx < 0); returns -500. */
int term_fail(struct term_loader *l, const char *field, int idx, const char *what);

/* The entry for system|code, created when absent (owned by the table). NULL when out of
 * memory or the key is too long. */
struct code_entry *term_entry_for(struct terminology *t, const char *system, const char *code);

/* Calls fn on the entry of each {system, code} of arr; fails naming field. */
int term_each_code(struct term_loader *l, json_object *arr, const char *field,
                   int (*fn)(struct code_entry *, const void *), const void *arg);

/* Appends each string of arr (lower-cased copies) to a name list with the meaning given. */
int term_push_names(struct term_loader *l, json_object *arr, const char *field,
                    struct term_name **list, int *n, const struct term_name *meaning);

#endif

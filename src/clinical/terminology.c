/* terminology.c - load hooks/terminology.json into lookup tables.
 *
 * Codes go into one json-c hash table keyed "system|code"; names into small lists
 * scanned with whole-word matching. Everything is immutable after term_load().
 */
#include "clinical/terminology.h"

#include "clinical/term_load.h"
#include "clinical/textmatch.h"
#include "util/json.h"

#include <json-c/linkhash.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *term_system(const struct terminology *t, const char *system)
{
    if (system == NULL || t->n_aliases == 0 || strncmp(system, "urn:oid:", 8) != 0)
        return system;
    for (int i = 0; i < t->n_aliases; i++)
        if (strcmp(system, t->aliases[i].oid) == 0)
            return t->aliases[i].system;
    return system;
}

static struct code_entry *lookup(const struct terminology *t, const char *system, const char *code)
{
    char key[TERM_KEY_MAX];
    void *v = NULL;
    if (system == NULL || code == NULL)
        return NULL;
    system = term_system(t, system);
    size_t ns = strlen(system);
    size_t nc = strlen(code);
    if (ns + 1 + nc >= sizeof key)
        return NULL;
    /* "system|code", without snprintf: one per coding of every resource */
    memcpy(key, system, ns);
    key[ns] = '|';
    memcpy(key + ns + 1, code, nc + 1);
    if (!lh_table_lookup_ex(t->codes, key, &v))
        return NULL;
    return v;
}

const struct term_drug *term_drug_by_code(const struct terminology *t, const char *system,
                                          const char *code, double *scd_mg)
{
    const struct code_entry *e = lookup(t, system, code);
    if (scd_mg != NULL)
        *scd_mg = e != NULL && e->drug != NULL ? e->scd_mg : -1;
    return e != NULL ? e->drug : NULL;
}

/* Orders a name list by first byte, keeping the list's order among names with the same
 * first byte (a stable insertion sort of a few hundred names, once at load). */
static void sort_names(struct term_name *v, int n)
{
    for (int i = 1; i < n; i++) {
        struct term_name x = v[i];
        int j = i;
        for (; j > 0 && (unsigned char)v[j - 1].pattern[0] > (unsigned char)x.pattern[0]; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* start[c] for every byte c: the first name of v[0..n) (sorted by first byte) whose
 * pattern starts with c or a later byte. */
static void index_names(const struct term_name *v, int n, int *start)
{
    int i = 0;
    for (int c = 0; c <= TERM_FIRST_BYTES; c++) {
        while (i < n && (int)(unsigned char)v[i].pattern[0] < c)
            i++;
        start[c] = i;
    }
}

void term_index_names(struct terminology *t)
{
    for (int l = 0; l < TL_COUNT; l++) {
        sort_names(t->names[l], t->n_names[l]);
        index_names(t->names[l], t->n_names[l], t->by_first[l]);
    }
}

static int best_name(const struct term_name *names, const int *start, const char *text);

int term_find_name(const struct terminology *t, enum term_list l, const char *text)
{
    return best_name(t->names[l], t->by_first[l], text);
}

static int find(const struct terminology *t, enum term_list l, const char *text)
{
    return term_find_name(t, l, text);
}

/* The best whole-word match of any pattern in the list, or -1: the earliest match, then
 * the longest pattern, then the first listed (what text_find() gives for each pattern,
 * compared in turn). One pass over the word starts, trying only the names that begin with
 * the byte there (start: the list's index by first byte, term_index_names). */
static int best_name(const struct term_name *names, const int *start, const char *text)
{
    if (names == NULL)
        return -1;
    char low[TEXT_MATCH_MAX];
    if (text == NULL || start[TERM_FIRST_BYTES] == 0)
        return -1;
    text_lower(text, low, sizeof low);
    for (size_t pos = 0; low[pos] != '\0'; pos++) {
        unsigned char c = (unsigned char)low[pos];
        size_t best_len = 0;
        int best = -1;
        if (!text_word_start(low, pos))
            continue;
        for (int i = start[c]; i < start[c + 1]; i++) {
            if (!text_match_at(low + pos, names[i].pattern))
                continue;
            size_t len = strlen(names[i].pattern);
            if (best < 0 || len > best_len) {
                best_len = len;
                best = i;
            }
        }
        if (best >= 0)
            return best;
    }
    return -1;
}

const struct term_drug *term_drug_by_text(const struct terminology *t, const char *text)
{
    int i = find(t, TL_DRUG, text);
    return i >= 0 ? t->names[TL_DRUG][i].drug : NULL;
}

unsigned term_condition_subtypes(const struct terminology *t, const char *system, const char *code)
{
    const struct code_entry *e = lookup(t, system, code);
    return e != NULL ? e->subtypes : 0;
}

unsigned term_condition_flags(const struct terminology *t, const char *system, const char *code)
{
    const struct code_entry *e = lookup(t, system, code);
    return e != NULL ? e->flags : 0;
}

void term_condition_by_text(const struct terminology *t, const char *text, unsigned *subtypes,
                            unsigned *flags)
{
    int i = find(t, TL_COND, text);
    *subtypes = i >= 0 ? t->names[TL_COND][i].subtypes : 0;
    *flags = i >= 0 ? t->names[TL_COND][i].flags : 0;
}

enum proc_kind term_proc_kind(const struct terminology *t, const char *system, const char *code,
                              const char *text)
{
    const struct code_entry *e = lookup(t, system, code);
    if (e != NULL && e->proc != PROC_NONE)
        return e->proc;
    int i = find(t, TL_PROC, text);
    return i >= 0 ? t->names[TL_PROC][i].proc : PROC_NONE;
}

enum lab_flag term_lab_answer(const struct terminology *t, enum lab_kind kind, const char *system,
                              const char *code, const char *text)
{
    enum term_list list = kind == LAB_TPMT ? TL_ANSWER_TPMT : TL_ANSWER_SEROLOGY;
    if (kind != LAB_TPMT && kind != LAB_HBSAG && kind != LAB_HBC && kind != LAB_HCV &&
        kind != LAB_HCG)
        return LAB_FLAG_NONE;
    const struct code_entry *e = kind != LAB_TPMT ? lookup(t, system, code) : NULL;
    if (e != NULL && e->answer != LAB_FLAG_NONE)
        return e->answer;
    int i = text != NULL ? find(t, list, text) : -1;
    return i >= 0 ? t->names[list][i].flag : LAB_FLAG_NONE;
}

/* True when s is one of the NULL-terminated list. */
static bool in_list(char *const *list, const char *s)
{
    for (; list != NULL && s != NULL && *list != NULL; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

enum lab_flag term_interpretation(const struct terminology *t, const char *system, const char *code,
                                  const char *text)
{
    if (code != NULL && (system == NULL || in_list(t->interp_systems, system)))
        for (int i = 0; i < t->n_interp_codes; i++)
            if (strcmp(t->interp_codes[i].code, code) == 0)
                return t->interp_codes[i].flag;
    int i = text != NULL ? find(t, TL_INTERP, text) : -1;
    return i >= 0 ? t->names[TL_INTERP][i].flag : LAB_FLAG_NONE;
}

/* Reads the allele after a '*' at s ("3A" of "*3A/") into out[cap]; returns the length read. */
static size_t allele_at(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap && text_word_char(s[n])) {
        out[n] = s[n] >= 'a' && s[n] <= 'z' ? (char)(s[n] - 'a' + 'A') : s[n];
        n++;
    }
    out[n] = '\0';
    return text_word_char(s[n]) ? 0 : n;
}

int term_tpmt_no_function(const struct terminology *t, const char *text)
{
    const char *star = text != NULL ? strchr(text, '*') : NULL;
    char a[8];
    char b[8];
    size_t na = star != NULL ? allele_at(star + 1, a, sizeof a) : 0;
    const char *slash = na > 0 ? star + 1 + na : NULL;
    if (slash == NULL || slash[0] != '/' || slash[1] != '*' ||
        allele_at(slash + 2, b, sizeof b) == 0)
        return -1;
    int none = 0;
    const char *alleles[] = {a, b};
    for (size_t i = 0; i < 2; i++) {
        if (in_list(t->tpmt_null, alleles[i]))
            none++;
        else if (!in_list(t->tpmt_normal, alleles[i]))
            return -1;
    }
    return none;
}

enum lab_kind term_lab_kind(const struct terminology *t, const char *system, const char *code)
{
    const struct code_entry *e = lookup(t, system, code);
    return e != NULL ? e->lab : LAB_NONE;
}

double term_iga_factor(const struct terminology *t, const char *unit)
{
    for (int i = 0; unit != NULL && i < t->n_iga_units; i++) {
        if (strcasecmp(t->iga_units[i].unit, unit) == 0) /* "MG/DL" is mg/dL */
            return t->iga_units[i].factor;
    }
    return -1;
}

enum route_class term_route_by_code(const struct terminology *t, const char *system,
                                    const char *code)
{
    const struct code_entry *e = lookup(t, system, code);
    return e != NULL ? e->route : ROUTE_UNKNOWN;
}

/* A local word wins over a systemic one ("intra-articular injection"). */
static enum route_class by_words(const struct terminology *t, enum term_list local,
                                 enum term_list systemic, const char *text)
{
    if (text == NULL)
        return ROUTE_UNKNOWN;
    if (find(t, local, text) >= 0)
        return ROUTE_LOCAL;
    return find(t, systemic, text) >= 0 ? ROUTE_SYSTEMIC : ROUTE_UNKNOWN;
}

enum route_class term_route_by_text(const struct terminology *t, const char *text)
{
    return by_words(t, TL_ROUTE_LOCAL, TL_ROUTE_SYSTEMIC, text);
}

enum route_class term_form_by_text(const struct terminology *t, const char *text)
{
    return by_words(t, TL_FORM_LOCAL, TL_FORM_SYSTEMIC, text);
}

bool term_form_solid(const struct terminology *t, const char *text)
{
    return text != NULL && find(t, TL_FORM_SOLID, text) >= 0;
}

bool term_route_intravenous(const struct terminology *t, const char *text)
{
    return find(t, TL_ROUTE_IV, text) >= 0;
}

bool term_is_sulfonamide_allergy(const struct terminology *t, const char *system, const char *code,
                                 const char *text)
{
    const struct code_entry *e = lookup(t, system, code);
    if (e != NULL && e->sulfa_allergy)
        return true;
    return find(t, TL_SULFA, text) >= 0;
}

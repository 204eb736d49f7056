/* rules_conf.h - hooks/rules.json compiled: thresholds, card texts, suggestions, override
 * reasons, each rule's own struct (src/rules/rule.h says what a rule declares).
 *
 * The loader is the one reader of the file's JSON: it refuses a key missing, unknown,
 * misspelled or of the wrong type, naming file and key, so a caveat cannot drop out of a
 * card unseen. The rules then read plain C structs.
 */
#ifndef MYOCDS_CDS_RULES_CONF_H
#define MYOCDS_CDS_RULES_CONF_H

#include "myocds/myocds.h"
#include "rules/rule.h"

#include <json-c/json.h>

struct rules_conf {
    json_object *root;  /* the parsed file, owned: every text is borrowed from it */
    json_object *store; /* owned: the JSON texts written at load (sources, reasons, ...) */
    void **allocs;      /* owned: the rules' structs, lists and maps */
    int n_allocs, cap_allocs;
    struct rule_thresholds th;
    struct rule_words words;     /* the words of the shared phrases ("words") */
    struct view_settings view;   /* what the patient view needs of the thresholds */
    const char *topic_system;    /* source.topic.system of every card */
    const char *override_system; /* system of the override reasons of our own */
    const char *standard_system; /* the HL7 Non-Adherence Reason Codes CodeSystem's URL */
    json_object *standard_codes; /* {code: {category, display}}, borrowed from root */
    struct rule_conf *rules;     /* one per rules_table row, same order */
};

/* The category (borrowed) an override reason (system, code) of rule rule_id counts in: the
 * rule's own reasons first, then any code of the standard CodeSystem; NULL when unknown. */
const char *rules_conf_reason_category(const struct rules_conf *rc, const char *rule_id,
                                       const char *system, const char *code);

/* Loads, checks and compiles path. Owned result: free with rules_conf_free(). */
struct rules_conf *rules_conf_load(const char *path, struct myocds_err *err);
void rules_conf_free(struct rules_conf *rc);

#endif

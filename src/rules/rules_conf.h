/* rules_conf.h - hooks/rules.json: thresholds, card texts, suggestions, override reasons. */
#ifndef MYOCDS_RULES_RULES_CONF_H
#define MYOCDS_RULES_RULES_CONF_H

#include "myocds/myocds.h"
#include "rules/rule.h"

struct rules_conf {
    json_object *root; /* the parsed file, owned */
    struct rule_thresholds th;
    struct view_settings view;   /* what the patient view needs of the thresholds */
    const char *topic_system;    /* source.topic.system of every card */
    const char *override_system; /* system of every override reason */
    struct rule_conf *rules;     /* one per rules_table row, same order */
    /* Each rule's suggestion templates as JSON text, written once at load so a card copies
     * text instead of a tree: {"<rule id>": {"<suggestion key>": "<JSON text>"}}. Owned. */
    json_object *rendered;
    /* Each rule's card parts that never change, as JSON text written once at load: its
     * "source" ({label, topic}) and every non-empty override reasons list under its key
     * ("override_reasons", ...): {"<rule id>": {"source": "<JSON text>", ...}}. Owned. */
    json_object *parts;
};

/* Loads and validates path. Owned result: free with rules_conf_free(). */
struct rules_conf *rules_conf_load(const char *path, struct myocds_err *err);
void rules_conf_free(struct rules_conf *rc);

#endif

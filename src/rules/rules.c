/* rules.c - the rule table: id, the hooks it runs on, its function. */
#include "rules/rules.h"

const struct rule rules_table[] = {
    {"steroid-monotherapy", RULE_ALL_HOOKS, rule_steroid_monotherapy},
    {"pjp-prophylaxis", RULE_ALL_HOOKS, rule_pjp_prophylaxis},
    {"iga-before-ivig", RULE_ALL_HOOKS, rule_iga_before_ivig},
    {"ibm-steroid", RULE_ALL_HOOKS, rule_ibm_steroid},
};

const int rules_count = (int)(sizeof rules_table / sizeof rules_table[0]);

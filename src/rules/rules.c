/* rules.c - the rule table: id, the hooks it runs on, its function. */
#include "rules/rules.h"

#define COND_MEDS (DATA_CONDITIONS | DATA_MEDICATIONS)

/* needs: an agent in the record silences steroid-monotherapy; the patient's age picks its
 * suggestion; a sulfonamide allergy changes pjp-prophylaxis's; an IgA result or an
 * IgA-deficiency condition decides iga-before-ivig. */
const struct rule rules_table[] = {
    {"steroid-monotherapy", RULE_ALL_HOOKS, COND_MEDS | DATA_PATIENT, rule_steroid_monotherapy},
    {"pjp-prophylaxis", RULE_ALL_HOOKS, COND_MEDS | DATA_ALLERGIES, rule_pjp_prophylaxis},
    {"iga-before-ivig", RULE_ALL_HOOKS, COND_MEDS | DATA_OBSERVATIONS, rule_iga_before_ivig},
    {"ibm-steroid", RULE_ALL_HOOKS, COND_MEDS, rule_ibm_steroid},
};

const int rules_count = (int)(sizeof rules_table / sizeof rules_table[0]);

/* rules.c - the rule table: id, the hooks it runs on, its function. */
#include "rules/rules.h"

#define COND_MEDS (DATA_CONDITIONS | DATA_MEDICATIONS)

/* needs: the data whose absence could make a rule say something wrong. An agent in the
 * record silences steroid-monotherapy and the patient's age picks its suggestion; an IgA
 * result or an IgA-deficiency condition decides iga-before-ivig; weight, labs and DXA
 * records decide the others. A rule needs only what its decision needs: a sulfonamide
 * allergy changes only pjp-prophylaxis's suggestion, so without the allergy list it still
 * fires and says the list could not be checked (Epic sites often refuse that scope). A
 * rule that can only fire on what it finds (a statin for IMNM, IVIG with plasmapheresis)
 * needs only the condition that makes it apply. */
const struct rule rules_table[] = {
    {"steroid-monotherapy", RULE_ALL_HOOKS, COND_MEDS | DATA_PATIENT, rule_steroid_monotherapy},
    {"pjp-prophylaxis", RULE_ALL_HOOKS, COND_MEDS, rule_pjp_prophylaxis},
    {"iga-before-ivig", RULE_ALL_HOOKS, COND_MEDS | DATA_OBSERVATIONS, rule_iga_before_ivig},
    {"ibm-steroid", RULE_ALL_HOOKS, COND_MEDS, rule_ibm_steroid},
    {"steroid-dose-range", RULE_ALL_HOOKS, COND_MEDS | DATA_PATIENT | DATA_OBSERVATIONS,
     rule_steroid_dose_range},
    {"mtx-folic-acid", RULE_ALL_HOOKS, COND_MEDS, rule_mtx_folic_acid},
    {"mtx-weekly", RULE_ALL_HOOKS, DATA_CONDITIONS, rule_mtx_weekly},
    {"teratogen-pregnancy", RULE_ALL_HOOKS, DATA_CONDITIONS, rule_teratogen_pregnancy},
    {"mtx-baseline", RULE_ALL_HOOKS, COND_MEDS | DATA_PATIENT | DATA_OBSERVATIONS,
     rule_mtx_baseline},
    {"aza-tpmt", RULE_ALL_HOOKS, COND_MEDS | DATA_OBSERVATIONS, rule_aza_tpmt},
    {"statin-imnm", RULE_ALL_HOOKS, DATA_CONDITIONS, rule_statin_imnm},
    {"anti-tnf-myositis", RULE_ALL_HOOKS, DATA_CONDITIONS, rule_anti_tnf_myositis},
    {"bone-protection", RULE_ALL_HOOKS,
     COND_MEDS | DATA_CONDITIONS | DATA_OBSERVATIONS | DATA_PROCEDURES, rule_bone_protection},
    {"ivig-plasmapheresis", RULE_ALL_HOOKS, DATA_CONDITIONS, rule_ivig_plasmapheresis},
    {"high-dose-duration", RULE_ALL_HOOKS, COND_MEDS, rule_high_dose_duration},
};

const int rules_count = (int)(sizeof rules_table / sizeof rules_table[0]);

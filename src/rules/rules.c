/* rules.c - the rule table: id, the hooks it runs on, the data it needs, its function, its
 * declarations (keys and thresholds in hooks/rules.json). */
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
    {"steroid-monotherapy", RULE_ALL_HOOKS, COND_MEDS | DATA_PATIENT, rule_steroid_monotherapy,
     &steroid_monotherapy_spec},
    {"pjp-prophylaxis", RULE_ALL_HOOKS, COND_MEDS, rule_pjp_prophylaxis, &pjp_prophylaxis_spec},
    {"iga-before-ivig", RULE_ALL_HOOKS, COND_MEDS | DATA_OBSERVATIONS, rule_iga_before_ivig,
     &iga_before_ivig_spec},
    {"ibm-steroid", RULE_ALL_HOOKS, COND_MEDS, rule_ibm_steroid, &ibm_steroid_spec},
    {"steroid-dose-range", RULE_ALL_HOOKS, COND_MEDS | DATA_PATIENT | DATA_OBSERVATIONS,
     rule_steroid_dose_range, &steroid_dose_range_spec},
    {"mtx-folic-acid", RULE_ALL_HOOKS, COND_MEDS, rule_mtx_folic_acid, &mtx_folic_acid_spec},
    {"mtx-weekly", RULE_ALL_HOOKS, DATA_CONDITIONS, rule_mtx_weekly, &mtx_weekly_spec},
    {"teratogen-pregnancy", RULE_ALL_HOOKS, DATA_CONDITIONS, rule_teratogen_pregnancy,
     &teratogen_pregnancy_spec},
    {"mtx-baseline", RULE_ALL_HOOKS, COND_MEDS | DATA_PATIENT | DATA_OBSERVATIONS,
     rule_mtx_baseline, &mtx_baseline_spec},
    {"aza-tpmt", RULE_ALL_HOOKS, COND_MEDS | DATA_OBSERVATIONS, rule_aza_tpmt, &aza_tpmt_spec},
    {"statin-imnm", RULE_ALL_HOOKS, DATA_CONDITIONS, rule_statin_imnm, &statin_imnm_spec},
    {"anti-tnf-myositis", RULE_ALL_HOOKS, DATA_CONDITIONS, rule_anti_tnf_myositis,
     &anti_tnf_myositis_spec},
    {"bone-protection", RULE_ALL_HOOKS,
     COND_MEDS | DATA_CONDITIONS | DATA_OBSERVATIONS | DATA_PROCEDURES, rule_bone_protection,
     &bone_protection_spec},
    {"ivig-plasmapheresis", RULE_ALL_HOOKS, DATA_CONDITIONS, rule_ivig_plasmapheresis,
     &ivig_plasmapheresis_spec},
    {"high-dose-duration", RULE_ALL_HOOKS, COND_MEDS, rule_high_dose_duration,
     &high_dose_duration_spec},
};

const int rules_count = (int)(sizeof rules_table / sizeof rules_table[0]);

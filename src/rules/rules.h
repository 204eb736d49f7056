/* rules.h - every rule's entry point and declarations; the table lives in rules.c. */
#ifndef MYOCDS_RULES_RULES_H
#define MYOCDS_RULES_RULES_H

#include "rules/rule.h"

int rule_steroid_monotherapy(const struct rule_ctx *ctx, struct card_list *out);
int rule_pjp_prophylaxis(const struct rule_ctx *ctx, struct card_list *out);
int rule_iga_before_ivig(const struct rule_ctx *ctx, struct card_list *out);
int rule_ibm_steroid(const struct rule_ctx *ctx, struct card_list *out);
int rule_steroid_dose_range(const struct rule_ctx *ctx, struct card_list *out);
int rule_mtx_folic_acid(const struct rule_ctx *ctx, struct card_list *out);
int rule_mtx_baseline(const struct rule_ctx *ctx, struct card_list *out);
int rule_aza_tpmt(const struct rule_ctx *ctx, struct card_list *out);
int rule_statin_imnm(const struct rule_ctx *ctx, struct card_list *out);
int rule_mtx_weekly(const struct rule_ctx *ctx, struct card_list *out);
int rule_teratogen_pregnancy(const struct rule_ctx *ctx, struct card_list *out);
int rule_anti_tnf_myositis(const struct rule_ctx *ctx, struct card_list *out);
int rule_bone_protection(const struct rule_ctx *ctx, struct card_list *out);
int rule_ivig_plasmapheresis(const struct rule_ctx *ctx, struct card_list *out);
int rule_high_dose_duration(const struct rule_ctx *ctx, struct card_list *out);

/* Each rule's declarations (its file). */
extern const struct rule_spec steroid_monotherapy_spec;
extern const struct rule_spec pjp_prophylaxis_spec;
extern const struct rule_spec iga_before_ivig_spec;
extern const struct rule_spec ibm_steroid_spec;
extern const struct rule_spec steroid_dose_range_spec;
extern const struct rule_spec mtx_folic_acid_spec;
extern const struct rule_spec mtx_baseline_spec;
extern const struct rule_spec aza_tpmt_spec;
extern const struct rule_spec statin_imnm_spec;
extern const struct rule_spec mtx_weekly_spec;
extern const struct rule_spec teratogen_pregnancy_spec;
extern const struct rule_spec anti_tnf_myositis_spec;
extern const struct rule_spec bone_protection_spec;
extern const struct rule_spec ivig_plasmapheresis_spec;
extern const struct rule_spec high_dose_duration_spec;

#endif

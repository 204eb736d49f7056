/* rules.h - every rule's entry point; the table lives in rules.c. */
#ifndef MYOCDS_RULES_RULES_H
#define MYOCDS_RULES_RULES_H

#include "rules/rule.h"

int rule_steroid_monotherapy(const struct rule_ctx *ctx, struct card_list *out);
int rule_pjp_prophylaxis(const struct rule_ctx *ctx, struct card_list *out);
int rule_iga_before_ivig(const struct rule_ctx *ctx, struct card_list *out);
int rule_ibm_steroid(const struct rule_ctx *ctx, struct card_list *out);

#endif

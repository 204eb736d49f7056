/* view_results.c - what a result on record says about the patient, read for its value
 * rather than its presence (docs/RULES.md "How the facts are read", Results are read for
 * their value): hepatitis screening positive or negative, ALT/AST against 3x the upper limit
 * of normal, TPMT activity or genotype normal, low or deficient. A result none of whose parts can
 * be read is unreadable: the rules treat it as no result and say what they found.
 */
#include "clinical/view.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* True when the result is surely under limit: 5, "<7" or "<=6" against 7. */
static bool under(const struct view_lab *lab, double limit)
{
    if (!(lab->value >= 0))
        return false;
    switch (lab->read) {
    case LAB_READ_EXACT:
    case LAB_READ_LE:
        return lab->value < limit;
    case LAB_READ_LT:
        return lab->value <= limit;
    default:
        return false;
    }
}

/* True when the result is surely over limit: 9, ">7" or ">=8" against 7. */
static bool over(const struct view_lab *lab, double limit)
{
    if (!(lab->value >= 0))
        return false;
    switch (lab->read) {
    case LAB_READ_EXACT:
    case LAB_READ_GE:
        return lab->value > limit;
    case LAB_READ_GT:
        return lab->value >= limit;
    default:
        return false;
    }
}

/* True when the result is surely at most limit: 7, "<7" or "<=7" against 7. */
static bool at_most(const struct view_lab *lab, double limit)
{
    return lab->value >= 0 && lab->value <= limit &&
           (lab->read == LAB_READ_EXACT || lab->read == LAB_READ_LT || lab->read == LAB_READ_LE);
}

/* True when the result is surely at least limit: 7, ">7" or ">=7" against 7. */
static bool at_least(const struct view_lab *lab, double limit)
{
    return lab->value >= limit &&
           (lab->read == LAB_READ_EXACT || lab->read == LAB_READ_GT || lab->read == LAB_READ_GE);
}

enum lab_finding view_lab_positive(const struct view_lab *lab)
{
    if (!lab->present)
        return FINDING_NONE;
    enum lab_flag a = lab->answer;
    enum lab_flag i = lab->interp;
    bool high = lab->ref_high > 0;
    if (a == LAB_FLAG_POSITIVE || i == LAB_FLAG_POSITIVE || i == LAB_FLAG_ABNORMAL ||
        i == LAB_FLAG_HIGH || i == LAB_FLAG_CRIT_HIGH || (high && over(lab, lab->ref_high)))
        return FINDING_ABNORMAL;
    if (a == LAB_FLAG_INDETERMINATE || i == LAB_FLAG_INDETERMINATE)
        return FINDING_UNREADABLE;
    if (a == LAB_FLAG_NEGATIVE || i == LAB_FLAG_NEGATIVE || i == LAB_FLAG_NORMAL ||
        (high && at_most(lab, lab->ref_high)))
        return FINDING_OK;
    return FINDING_UNREADABLE;
}

/* True when unit is one of the names of units per litre (U/L, IU/L, [IU]/L). */
static bool per_litre(const char *unit)
{
    static const char *const units[] = {"U/L", "IU/L", "[IU]/L", "U/L (37C)"};
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
        if (strcasecmp(unit, units[k]) == 0)
            return true;
    return false;
}

enum lab_finding view_lab_above_uln(const struct view_lab *lab, double multiple, double default_uln)
{
    if (!lab->present)
        return FINDING_NONE;
    double uln = lab->ref_high > 0                         ? lab->ref_high
                 : default_uln > 0 && per_litre(lab->unit) ? default_uln
                                                           : -1;
    if (uln <= 0 || lab->read == LAB_READ_NO_UNIT)
        return lab->interp == LAB_FLAG_NORMAL ? FINDING_OK : FINDING_UNREADABLE;
    double limit = multiple * uln;
    if (over(lab, limit))
        return FINDING_ABNORMAL;
    return at_most(lab, limit) ? FINDING_OK : FINDING_UNREADABLE;
}

/* True when unit is U/mL (of red cells), the unit of the configured TPMT limits. */
static bool per_ml(const char *unit)
{
    return strcasecmp(unit, "U/mL") == 0 || strcasecmp(unit, "U/mL RBC") == 0 ||
           strcasecmp(unit, "U/mL{RBC}") == 0;
}

enum lab_finding view_lab_tpmt(const struct view_lab *lab, double low_u_ml, double deficient_u_ml)
{
    if (!lab->present)
        return FINDING_NONE;
    enum lab_flag a = lab->answer;
    enum lab_flag i = lab->interp;
    bool ml = per_ml(lab->unit) && lab->read != LAB_READ_NO_UNIT;
    if (a == LAB_FLAG_CRIT_LOW || i == LAB_FLAG_CRIT_LOW || (ml && under(lab, deficient_u_ml)))
        return FINDING_SEVERE;
    double low = lab->ref_low > 0 ? lab->ref_low : ml ? low_u_ml : -1;
    if (a == LAB_FLAG_LOW || i == LAB_FLAG_LOW || (low > 0 && under(lab, low)))
        return FINDING_ABNORMAL;
    if (a == LAB_FLAG_NORMAL || i == LAB_FLAG_NORMAL || i == LAB_FLAG_HIGH ||
        (low > 0 && at_least(lab, low)))
        return FINDING_OK;
    return FINDING_UNREADABLE;
}

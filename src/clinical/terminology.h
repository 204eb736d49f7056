/* terminology.h - value sets, drug classes and potency factors, loaded from hooks/.
 *
 * Nothing clinical is a C literal: conditions, drugs, labs, allergies, units and
 * thresholds all come from hooks/terminology.json (a site may add local codes there).
 * The loaded terminology is immutable and shared by every request.
 */
#ifndef MYOCDS_CLINICAL_TERMINOLOGY_H
#define MYOCDS_CLINICAL_TERMINOLOGY_H

#include "myocds/myocds.h"

#include <json-c/json.h>
#include <stdbool.h>

/* Drug classes: one drug may belong to several. */
enum drug_class {
    DC_GLUCOCORTICOID = 1u << 0,
    DC_STEROID_SPARING = 1u << 1,   /* methotrexate, azathioprine, MMF, ... and IVIG */
    DC_IMMUNOSUPPRESSANT = 1u << 2, /* steroid-sparing agents except IVIG */
    DC_PJP_PROPHYLAXIS = 1u << 3,
    DC_IVIG = 1u << 4,
    DC_STATIN = 1u << 5,
    DC_TNF_INHIBITOR = 1u << 6,
    DC_FOLIC_ACID = 1u << 7,
    DC_CALCIUM = 1u << 8,
    DC_VITAMIN_D = 1u << 9,
    DC_BISPHOSPHONATE = 1u << 10,
    DC_METHOTREXATE = 1u << 11,
    DC_AZATHIOPRINE = 1u << 12,
    DC_SULFONAMIDE = 1u << 13,
    DC_TERATOGEN = 1u << 14, /* methotrexate, mycophenolate: contraindicated in pregnancy */
};

/* Subtypes of inflammatory myopathy, as bits. */
enum iim_subtype {
    IIM_PM = 1u << 0,
    IIM_DM = 1u << 1,
    IIM_JDM = 1u << 2,
    IIM_IMNM = 1u << 3,
    IIM_IBM = 1u << 4,
    IIM_ANTISYNTHETASE = 1u << 5,
    IIM_UNSPECIFIED = 1u << 6,
};
#define IIM_ANY 0x7fu
#define IIM_NON_IBM (IIM_ANY & ~(unsigned)IIM_IBM)

/* Other conditions the rules care about, as bits. */
enum cond_flag {
    COND_ILD = 1u << 0,
    COND_IGA_DEFICIENCY = 1u << 1,
    COND_OSTEOPOROSIS = 1u << 2,
    COND_PREGNANCY = 1u << 3,
};

enum lab_kind {
    LAB_NONE = 0,
    LAB_IGA,    /* serum IgA */
    LAB_WEIGHT, /* body weight */
    LAB_TPMT,   /* TPMT activity or genotype */
    LAB_HBSAG,  /* hepatitis B surface antigen */
    LAB_HBC,    /* hepatitis B core antibody */
    LAB_HCV,    /* hepatitis C screening */
    LAB_LIVER,  /* ALT ("liver" in terminology.json) */
    LAB_DXA,    /* bone density (DXA T-score) */
    LAB_AST,    /* AST */
    LAB_HCG,    /* hCG (pregnancy test) */
    LAB_HEIGHT, /* body height */
    LAB_KIND_COUNT
};

/* What a result says besides its number: a qualitative answer (valueCodeableConcept, the
 * words of a valueString), or its interpretation flag. */
enum lab_flag {
    LAB_FLAG_NONE = 0,
    LAB_FLAG_NORMAL,        /* N; a normal-metabolizer TPMT */
    LAB_FLAG_NEGATIVE,      /* NEG, ND; negative, non-reactive, not detected */
    LAB_FLAG_POSITIVE,      /* POS, DET; positive, reactive, detected */
    LAB_FLAG_INDETERMINATE, /* IND, E; equivocal, borderline */
    LAB_FLAG_LOW,           /* L, LU; an intermediate-metabolizer TPMT */
    LAB_FLAG_CRIT_LOW,      /* LL; a poor-metabolizer (deficient) TPMT */
    LAB_FLAG_HIGH,          /* H, HU */
    LAB_FLAG_CRIT_HIGH,     /* HH */
    LAB_FLAG_ABNORMAL,      /* A, AA */
};

/* Procedures and service requests the rules look for. */
enum proc_kind { PROC_NONE = 0, PROC_PLASMAPHERESIS, PROC_DXA, PROC_KIND_COUNT };

/* Whether a drug reaches the whole body: by its route, or its dose form. */
enum route_class {
    ROUTE_UNKNOWN = 0, /* nothing says which */
    ROUTE_SYSTEMIC,    /* oral, IV, IM, SC ... */
    ROUTE_LOCAL,       /* topical, ophthalmic, otic, nasal, inhaled, rectal, intra-articular */
};

struct term_drug {
    char *id;         /* e.g. "prednisone" */
    char *display;    /* e.g. "prednisone" */
    unsigned classes; /* enum drug_class bits */
    double potency;   /* prednisone-equivalent factor; <= 0: unknown (dose counts as unknown) */
    bool iv_only;     /* recognised by name only when the order is intravenous (IVIG) */
    enum route_class unstated; /* when neither route nor form is known: ROUTE_SYSTEMIC for a
                                  drug made only in systemic forms (prednisone), else
                                  ROUTE_UNKNOWN ("unstated_form" in terminology.json) */
};

struct terminology; /* opaque */

/* Loads hooks_dir/terminology.json. Owned result, free with term_free(). */
struct terminology *term_load(const char *path, struct myocds_err *err);
void term_free(struct terminology *t);

/* A drug by (system, code): an ingredient code or a clinical-drug code. For a clinical
 * drug, *scd_mg gets its strength in mg per unit (else -1). NULL when unknown. */
const struct term_drug *term_drug_by_code(const struct terminology *t, const char *system,
                                          const char *code, double *scd_mg);
/* A drug whose name occurs in text (case-insensitive, on word boundaries). */
const struct term_drug *term_drug_by_text(const struct terminology *t, const char *text);

/* IIM subtype bits / condition flag bits of a coded condition (0 when none). */
unsigned term_condition_subtypes(const struct terminology *t, const char *system, const char *code);
unsigned term_condition_flags(const struct terminology *t, const char *system, const char *code);
/* Condition by name (free text), for Condition.code.text with no known coding: fills
 * the subtype and flag bits of the best match (zero when none). */
void term_condition_by_text(const struct terminology *t, const char *text, unsigned *subtypes,
                            unsigned *flags);

/* The kind of a procedure / service request, by code or by name in its text. */
enum proc_kind term_proc_kind(const struct terminology *t, const char *system, const char *code,
                              const char *text);

/* The kind of a LOINC (or site) lab code. */
enum lab_kind term_lab_kind(const struct terminology *t, const char *system, const char *code);

/* Factor to convert an IgA value in `unit` (matched case-insensitively) to mg/dL; < 0 when
 * the unit is unknown. */
double term_iga_factor(const struct terminology *t, const char *unit);

/* The canonical system of an OID alias ("urn:oid:2.16.840.1.113883.6.88" is RxNorm's URL,
 * system_aliases in terminology.json); system itself otherwise. Borrowed. */
const char *term_system(const struct terminology *t, const char *system);

/* What a coded route (SNOMED CT route codes) says; ROUTE_UNKNOWN for any other code. */
enum route_class term_route_by_code(const struct terminology *t, const char *system,
                                    const char *code);
/* What a route's words say ("Oral", "IV", "Inhaled", "topical"): a local route named
 * anywhere wins; ROUTE_UNKNOWN when the text names none. */
enum route_class term_route_by_text(const struct terminology *t, const char *text);
/* What the dose-form words of a drug name, a Medication.form or the instructions say
 * ("Oral Tablet", "Topical Cream", "Ophthalmic Solution", "apply to the affected area"):
 * a local form wins; ROUTE_UNKNOWN when the text names none. */
enum route_class term_form_by_text(const struct terminology *t, const char *text);
/* True when text names a solid unit dose form (tablet, capsule: dose_forms.solid), whose
 * units a dose may count. */
bool term_form_solid(const struct terminology *t, const char *text);
/* True when the text names the intravenous route or an IV form. */
bool term_route_intravenous(const struct terminology *t, const char *text);

/* What a qualitative result of lab kind says (lab_answers in terminology.json): by a code of
 * its valueCodeableConcept (system, code: may be NULL) or, when text is not NULL, by its
 * words. LAB_FLAG_NONE when nothing is known; kinds without answers always give it. */
enum lab_flag term_lab_answer(const struct terminology *t, enum lab_kind kind, const char *system,
                              const char *code, const char *text);

/* What an interpretation coding (system and code, either may be NULL) or text says
 * (interpretations in terminology.json); LAB_FLAG_NONE for anything else. */
enum lab_flag term_interpretation(const struct terminology *t, const char *system, const char *code,
                                  const char *text);

/* Counts the no-function alleles of the first TPMT diplotype in text (tpmt_alleles): the
 * alleles "*1" and "*3A" written with a slash between them give 1. Returns 0, 1 or 2; -1
 * when text has no diplotype or names an allele of unknown function. */
int term_tpmt_no_function(const struct terminology *t, const char *text);

/* True when an allergy code/text means a sulfonamide allergy. */
bool term_is_sulfonamide_allergy(const struct terminology *t, const char *system, const char *code,
                                 const char *text);

#endif

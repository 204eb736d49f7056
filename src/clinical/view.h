/* view.h - the typed, read-only view of one patient that every rule reads.
 *
 * Built once per request from the prefetch data and the hook's draft orders. Rules never
 * see JSON: all they know of the patient is in struct patient_view. Strings in the view
 * are borrowed from the request's JSON tree or copied into fixed buffers.
 */
#ifndef MYOCDS_CLINICAL_VIEW_H
#define MYOCDS_CLINICAL_VIEW_H

#include "clinical/terminology.h"

#include <json-c/json.h>
#include <stdbool.h>

enum cds_hook { HOOK_PATIENT_VIEW = 0, HOOK_ORDER_SELECT, HOOK_ORDER_SIGN, HOOK_COUNT };

/* The kinds of record data a rule may need; a prefetch key carries one kind. */
enum data_kind {
    DATA_PATIENT = 1u << 0,
    DATA_CONDITIONS = 1u << 1,
    DATA_MEDICATIONS = 1u << 2,
    DATA_OBSERVATIONS = 1u << 3,
    DATA_ALLERGIES = 1u << 4,
    DATA_PROCEDURES = 1u << 5, /* Procedure and ServiceRequest history */
};

#define VIEW_LABEL_MAX 96
#define VIEW_STEPS_MAX 8 /* taper steps kept per order; later steps count as unknown */

/* One step of an order's schedule, prednisone-equivalent where the drug has a potency. */
struct view_step {
    double pred_mg_per_day; /* < 0 unknown */
    double days;            /* < 0 unbounded */
};

/* What an order's reasonCode / reasonReference says it treats. */
enum med_reason {
    REASON_UNSTATED = 0, /* no reason the service can read: myositis treatment, as ordered */
    REASON_MYOSITIS,     /* an inflammatory myopathy */
    REASON_OTHER,        /* another condition (a COPD exacerbation, asthma...): not myositis
                            treatment */
};

struct view_med {
    const char *id;               /* MedicationRequest.id (borrowed) or NULL */
    const json_object *res;       /* the MedicationRequest (or MedicationAdministration) read,
                                     borrowed from the request */
    const struct term_drug *drug; /* the recognised drug */
    unsigned classes;             /* enum drug_class bits of all recognised ingredients */
    char label[VIEW_LABEL_MAX];   /* what the clinician ordered, for cards */
    bool ordered;                 /* in this hook's draft orders (being ordered now) */
    bool trigger;                 /* a rule may fire on it: selected (order-select),
                                     drafted (order-sign), active (patient-view) */
    enum route_class route;       /* systemic, local or unknown, from the best evidence */
    bool systemic;                /* route == ROUTE_SYSTEMIC: the rules fire only on it */
    bool intravenous;             /* IV route or IV form stated */
    double mg_per_day;            /* of the drug; < 0 unknown */
    double pred_mg_per_day;       /* prednisone-equivalent, glucocorticoids only; < 0 unknown */
    double duration_days;         /* planned; < 0 open-ended */
    int steps;                    /* dosage steps: > 1 is a stepped schedule (a taper) */
    int current_step;             /* the step in effect today (mg_per_day is its dose) */
    struct view_step step[VIEW_STEPS_MAX]; /* the first min(steps, VIEW_STEPS_MAX) */
    long start_day;       /* authoredOn / bounds start, days since epoch; -1 unknown */
    const char *dose_why; /* why mg_per_day is unknown (static text) */
    /* how the dose was read, for the card's arithmetic ("3 x 20 mg tablets daily") */
    double units;           /* one dose counted in tablets/mL, else < 0 */
    double unit_mg;         /* mg per unit, else < 0 */
    double per_day;         /* administrations per day (one entry), else < 0 */
    const char *dose_type;  /* "ordered" / "calculated" doseAndRate read, or NULL (static or
                               borrowed from the request) */
    bool as_needed;         /* PRN: the dose is a ceiling */
    bool single_dose;       /* one administration only */
    bool dose_from_text;    /* read from the instructions text */
    const char *prior_ref;  /* priorPrescription.reference (borrowed), or NULL */
    bool replaced;          /* an active order a draft of the same glucocorticoid replaces:
                               today's dose is the draft's (a dose change is not a sum) */
    enum med_reason reason; /* what the order says it treats */
    bool lasting;      /* not an active order: a completed or stopped one (or an administration)
                          of an agent whose effect lasts (rituximab, IVIG, cyclophosphamide),
                          still within that time; it counts as on board, never triggers */
    long last_day;     /* lasting: the day of its last dose (days since epoch) */
    long course_start; /* the start of the course of consecutive orders this one ends (its
                          own start when alone); -1 unknown */
    int course_orders; /* orders in that course: 1 alone */
    int prev;          /* the order before it in its course: >= 0 an index of meds, <= -2
                          the index -prev-2 of past; -1 none (view_course.c) */
};

/* What the view needs of hooks/rules.json "thresholds" (view_settings_default gives the
 * defaults the rules file ships with). */
#define VIEW_LASTING_MAX 8
struct view_settings {
    struct {
        const char *drug_id; /* a terminology drug id ("rituximab"); borrowed */
        double days;         /* its effect lasts this long after the last dose */
    } lasting[VIEW_LASTING_MAX];
    int n_lasting;
    double course_gap_days; /* consecutive orders: the next starts within this many days of
                               the end of the one before */
};

/* How a lab result's value reads: a number, a bound (valueQuantity.comparator or the
 * comparator of a number in valueString), or no usable number. */
enum lab_read {
    LAB_READ_NONE = 0, /* no result on record */
    LAB_READ_EXACT,    /* value is the result */
    LAB_READ_LT,       /* "<": the result is under value */
    LAB_READ_LE,       /* "<=": at most value */
    LAB_READ_GE,       /* ">=": at least value */
    LAB_READ_GT,       /* ">": over value */
    LAB_READ_NO_UNIT,  /* a number in no unit the service converts (or none): on record, the
                          value not comparable (raw_value holds it) */
    LAB_READ_UNKNOWN,  /* on record, value unknown (lab_why says why) */
};

/* Why a result on record has no usable value. */
enum lab_why {
    LAB_WHY_NONE = 0,
    LAB_WHY_ABSENT, /* dataAbsentReason (masked, not asked...) */
    LAB_WHY_TEXT,   /* a text that is not a number and unit ("undetectable", "see note") */
    LAB_WHY_SHAPE,  /* no value, another value type, an unknown comparator or a bad number */
};

/* What a result says against a limit, in the result's normalised unit (view_lab_below). */
enum lab_verdict {
    LAB_NO_RESULT = 0,  /* none on record */
    LAB_BELOW,          /* under the limit: 5, "<7" or "<=6" against 7 */
    LAB_NOT_BELOW,      /* at or over it: 7, ">=7" against 7 */
    LAB_NOT_COMPARABLE, /* LAB_READ_NO_UNIT: on record, never counted as low */
    LAB_UNREADABLE,     /* on record, but nothing tells which side of the limit it is: no
                           value, or a bound on the wrong side ("<=7", "<50", ">5" against 7) */
};

#define VIEW_LAB_SHOWN_MAX 40
#define VIEW_LAB_UNIT_MAX 24

/* The latest result of one kind that counts (final, amended or corrected). */
struct view_lab {
    bool present;
    enum lab_read read;
    double value;     /* normalised (IgA in mg/dL, weight in kg, the others as reported); for
                         a bound, the bound; < 0 unknown */
    double raw_value; /* the number as reported; < 0 none */
    char unit[VIEW_LAB_UNIT_MAX];   /* the unit as reported, trimmed */
    char shown[VIEW_LAB_SHOWN_MAX]; /* IgA: the value as reported, rebuilt from what was
                                       read ("<7 mg/dL"); "" without a number in a known
                                       unit, and for the other kinds */
    enum lab_why why;               /* for LAB_READ_UNKNOWN */
    enum lab_flag answer;           /* what a qualitative value says (hepatitis serology, a TPMT
                                       phenotype or diplotype), else LAB_FLAG_NONE */
    enum lab_flag interp;           /* the result's interpretation flag, else LAB_FLAG_NONE */
    double ref_low;                 /* referenceRange low and high in the result's unit; < 0 none */
    double ref_high;
    long day;         /* effective (else issued) date, days since epoch; -1 unknown */
    long long at;     /* effective[x] (else issued), seconds since epoch (UTC); LLONG_MIN unknown */
    long long issued; /* issued, seconds since epoch; LLONG_MIN unknown */
};

#define VIEW_TEST_NAMES_MAX 16

struct patient_view {
    enum cds_hook hook;
    long today;             /* days since epoch */
    const char *patient_id; /* from context (borrowed) */
    double age_years;       /* completed years; < 0 unknown */
    char sex;               /* 'f', 'm' or 'u' */

    unsigned iim;                   /* enum iim_subtype bits of active, confirmed conditions */
    unsigned cond_flags;            /* enum cond_flag bits */
    char iim_label[VIEW_LABEL_MAX]; /* display of the first myositis condition */

    struct view_med *meds; /* active (or being ordered) medications, owned */
    int n_meds;
    struct view_med *past; /* completed or stopped orders of glucocorticoids and of agents
                              with a lasting effect: earlier orders of a course (owned) */
    int n_past;
    bool past_ivig;
    bool past_glucocorticoid;       /* an earlier systemic glucocorticoid course (completed
                                       or stopped): a new one is not an initial dose */ /* an earlier IVIG request or administration */

    struct view_lab labs[LAB_KIND_COUNT]; /* latest of each kind (view_labs.c; one with a
                                             number before one without): IgA in mg/dL,
                                             weight in kg, the others as reported */
    unsigned lab_ordered; /* (1u << enum lab_kind) of tests in this hook's draft orders (a
                             live ServiceRequest with the lab's code in any coding) */
    const char *test_names[VIEW_TEST_NAMES_MAX]; /* the code.text and coding displays of the
                                                    live draft ServiceRequests, for rules that
                                                    know a test by name (borrowed); the first
                                                    VIEW_TEST_NAMES_MAX only */
    int n_test_names;
    unsigned proc_ordered; /* (1u << enum proc_kind): being ordered in this hook */
    unsigned proc_active;  /* planned or under way in the record */
    unsigned proc_done;    /* completed in the record */
    bool sulfonamide_allergy;
    unsigned missing; /* enum data_kind bits the EHR could not provide: rules
                         needing them do not run (they would guess) */
};

/* Builds the view. prefetch: the (possibly fetched) prefetch object, key -> resource or
 * Bundle; draft_orders: context.draftOrders (or NULL); selections: context.selections
 * (or NULL). All borrowed: the view borrows strings from them, so it must be freed before
 * their root. Returns 0, or a negative status with err set. */
int view_build(struct patient_view *v, const struct terminology *t, enum cds_hook hook,
               const char *patient_id, json_object *prefetch, json_object *draft_orders,
               json_object *selections, long today, const struct view_settings *settings,
               struct myocds_err *err);
void view_free(struct patient_view *v);

/* The settings hooks/rules.json ships with: rituximab 183 days, IVIG and cyclophosphamide
 * 56, consecutive orders within 1 day. */
void view_settings_default(struct view_settings *s);

/* Days of m's course (m and the consecutive orders of the same drug before it, each
 * counted until the next began) at or above pred_mg prednisone-equivalent per day; < 0 when
 * m's own such step is open-ended; 0 when none reaches it (view_course.c). */
double view_course_days_at(const struct patient_view *v, const struct view_med *m, double pred_mg);

/* The order before m in its course (an active or a past one), or NULL (view_course.c). */
const struct view_med *view_course_prev(const struct patient_view *v, const struct view_med *m);

/* Sums of the prednisone-equivalent dose of active systemic glucocorticoids.
 * Returns < 0 when any of them has an unknown dose (the sum would be a guess). */
double view_pred_total(const struct patient_view *v);

/* Days of m's schedule at or above pred_mg prednisone-equivalent per day (its steps at that
 * dose add up); < 0 when such a step is unbounded (open-ended); 0 when none reaches it. */
double view_med_days_at(const struct view_med *m, double pred_mg);

/* Where lab's value lies against limit (in the lab's normalised unit): "<" X counts as
 * below when X <= limit, "<=" X when X < limit; ">" and ">=" X never count as below and
 * count as not below when X >= limit; any other bound is unreadable. */
enum lab_verdict view_lab_below(const struct view_lab *lab, double limit);

/* What a result on record says about the patient, read for its value (view_results.c). */
enum lab_finding {
    FINDING_NONE = 0,   /* no result on record */
    FINDING_OK,         /* negative, normal, within the limit */
    FINDING_ABNORMAL,   /* positive; over the limit; low TPMT activity (intermediate) */
    FINDING_SEVERE,     /* deficient TPMT (poor metabolizer, critically low, under the
                           deficiency limit) */
    FINDING_UNREADABLE, /* on record, but nothing in it tells which: a result the rules
                           treat as no result and say so */
};

/* A hepatitis screening result: positive by its answer (positive, reactive, detected), its
 * interpretation (POS, DET, A, AA, H, HH) or a number over its reference range's high;
 * negative by its answer, its interpretation (N, NEG, ND) or a number within the range.
 * Positive wins when parts disagree; an indeterminate one is unreadable. */
enum lab_finding view_lab_positive(const struct view_lab *lab);

/* An ALT or AST: abnormal over multiple x the upper limit of normal, which is the result's
 * referenceRange.high, else default_uln when the result is in U/L (or IU/L); OK at or under
 * it; unreadable when no number or no limit can be compared. */
enum lab_finding view_lab_above_uln(const struct view_lab *lab, double multiple,
                                    double default_uln);

/* A TPMT result: severe for a poor-metabolizer phenotype or diplotype, interpretation LL,
 * or an activity under deficient_u_ml (a result in U/mL); abnormal for an intermediate
 * one, interpretation L, or an activity under the referenceRange low (else low_u_ml);
 * OK for a normal one; unreadable otherwise. */
enum lab_finding view_lab_tpmt(const struct view_lab *lab, double low_u_ml, double deficient_u_ml);

/* First active med with any of the class bits (optionally only triggers), or NULL. */
const struct view_med *view_find(const struct patient_view *v, unsigned classes, bool trigger_only);

#endif

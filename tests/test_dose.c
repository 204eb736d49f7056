/* test_dose.c - the dose engine on hand-worked dosage shapes: mg/day, planned duration,
 * strength from text and from a Medication, body weight.
 *
 * JSON literals are written with single quotes for legibility; parse_sq() turns them into
 * double quotes and parses strictly. Every case prints its name before asserting.
 * Usage: test_dose [cmocka test filter]
 */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "clinical/dose.h"
#include "util/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN (-1.0)    /* expected mg/day or strength: unknown */
#define OPEN (-1.0)       /* expected duration: open-ended */
#define TOLERANCE 1e-6    /* absolute, for exact hand-worked values */
#define LB_TOLERANCE 0.01 /* kg, for the pound conversion */

/* A MedicationRequest around dosage entries, and one with a dispenseRequest too. */
#define MR(di)                                                                                     \
    "{'resourceType':'MedicationRequest','status':'active','intent':'order',"                      \
    "'dosageInstruction':[" di "]}"
#define MR_DISPENSE(di, dr)                                                                        \
    "{'resourceType':'MedicationRequest','dosageInstruction':[" di "],'dispenseRequest':" dr "}"
/* A dose entry: a doseQuantity of value/unit and a timing. */
#define ENTRY(value, unit, timing)                                                                 \
    "{'doseAndRate':[{'doseQuantity':{'value':" value ",'unit':'" unit "'}}],'timing':" timing "}"
#define EVERY(freq, period, unit)                                                                  \
    "{'repeat':{'frequency':" freq ",'period':" period ",'periodUnit':'" unit "'}}"
#define DAILY EVERY("1", "1", "d")
#define GTS "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
#define CODE(c) "{'code':{'coding':[{'system':'" GTS "','code':'" c "'}]}}"

struct dose_case {
    const char *name;
    const char *json; /* a MedicationRequest, single-quoted */
    double strength_mg;
    double mg_per_day; /* or UNKNOWN */
    double days;       /* or OPEN */
};

static const struct dose_case dose_cases[] = {
    {"prednisone 60 mg once daily", MR(ENTRY("60", "mg", DAILY)), 0, 60, OPEN},
    {"20 mg BID (timing.code)", MR(ENTRY("20", "mg", CODE("BID"))), 0, 40, OPEN},
    {"10 mg TID (repeat 3 per 1 d)", MR(ENTRY("10", "mg", EVERY("3", "1", "d"))), 0, 30, OPEN},
    {"5 mg QID (timing.code)", MR(ENTRY("5", "mg", CODE("QID"))), 0, 20, OPEN},
    {"40 mg QOD = 20/day", MR(ENTRY("40", "mg", CODE("QOD"))), 0, 20, OPEN},
    {"methotrexate 15 mg weekly", MR(ENTRY("15", "mg", EVERY("1", "1", "wk"))), 0, 15.0 / 7, OPEN},
    {"methylprednisolone 1 g daily x 3 (boundsDuration)",
     MR("{'doseAndRate':[{'doseQuantity':{'value':1,'unit':'g','system':"
        "'http://unitsofmeasure.org','code':'g'}}],'timing':{'repeat':{'frequency':1,"
        "'period':1,'periodUnit':'d','boundsDuration':{'value':3,'unit':'days','code':'d'}}}}"),
     0, 1000, 3},
    {"2 tablets (v3 TAB) of 20 mg",
     MR("{'doseAndRate':[{'doseQuantity':{'value':2,'unit':'tablet','system':"
        "'http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm','code':'TAB'}}],"
        "'timing':" DAILY "}"),
     20, 40, OPEN},
    {"doseRange 40..60 counts the high end",
     MR("{'doseAndRate':[{'doseRange':{'low':{'value':40,'unit':'mg'},'high':{'value':60,"
        "'unit':'mg'}}}],'timing':" DAILY "}"),
     0, 60, OPEN},
    {"doseRange without high",
     MR("{'doseAndRate':[{'doseRange':{'low':{'value':40,'unit':'mg'"
        "}}}],'timing':" DAILY "}"),
     0, UNKNOWN, OPEN},
    {"missing doseQuantity", MR("{'doseAndRate':[{'type':{'text':'ordered'}}],'timing':" DAILY "}"),
     0, UNKNOWN, OPEN},
    {"missing timing", MR("{'doseAndRate':[{'doseQuantity':{'value':20,'unit':'mg'}}]}"), 0,
     UNKNOWN, OPEN},
    {"timing with bounds only",
     MR(ENTRY("20", "mg",
              "{'repeat':{'boundsDuration':{'value':5,"
              "'code':'d'}}}")),
     0, UNKNOWN, 5},
    {"5 mL of a 1 mg/mL solution", MR(ENTRY("5", "mL", DAILY)), 1, 5, OPEN},
    {"mL without a strength", MR(ENTRY("5", "mL", DAILY)), 0, UNKNOWN, OPEN},
    {"unknown unit puff", MR(ENTRY("2", "puff", DAILY)), 0, UNKNOWN, OPEN},
    {"per-kg unit mg/kg", MR(ENTRY("1", "mg/kg", DAILY)), 0, UNKNOWN, OPEN},
    {"dose value as a string", MR(ENTRY("'20'", "mg", DAILY)), 0, UNKNOWN, OPEN},
    {"negative dose", MR(ENTRY("-20", "mg", DAILY)), 0, UNKNOWN, OPEN},
    {"zero dose", MR(ENTRY("0", "mg", DAILY)), 0, UNKNOWN, OPEN},
    {"absurd dose 200000 mg", MR(ENTRY("200000", "mg", DAILY)), 0, UNKNOWN, OPEN},
    {"20 mg AM + 10 mg PM concurrent",
     MR(ENTRY("20", "mg", CODE("AM")) "," ENTRY("10", "mg", CODE("PM"))), 0, 30, OPEN},
    {"taper: 40 mg x 2 wk then 30 mg open",
     MR("{'sequence':1,'doseAndRate':[{'doseQuantity':{'value':40,'unit':'mg'}}],'timing':{"
        "'repeat':{'frequency':1,'period':1,'periodUnit':'d','boundsDuration':{'value':2,"
        "'code':'wk'}}}},{'sequence':2,'doseAndRate':[{'doseQuantity':{'value':30,'unit':"
        "'mg'}}],'timing':" DAILY "}"),
     0, 40, OPEN},
    {"taper: 30 mg x 2 wk after 40 mg x 2 wk (listed backwards)",
     MR("{'sequence':2,'doseAndRate':[{'doseQuantity':{'value':30,'unit':'mg'}}],'timing':{"
        "'repeat':{'frequency':1,'period':1,'periodUnit':'d','boundsDuration':{'value':14,"
        "'code':'d'}}}},{'sequence':1,'doseAndRate':[{'doseQuantity':{'value':40,'unit':'mg'"
        "}}],'timing':{'repeat':{'frequency':1,'period':1,'periodUnit':'d','boundsDuration':{"
        "'value':2,'code':'wk'}}}}"),
     0, 40, 28},
    {"10 mg every 12 h = 2/day", MR(ENTRY("10", "mg", EVERY("1", "12", "h"))), 0, 20, OPEN},
    {"5 mg Q8H (timing.code text)", MR(ENTRY("5", "mg", "{'code':{'text':'Q8H'}}")), 0, 15, OPEN},
    {"4 mg Q6H (coding)", MR(ENTRY("4", "mg", CODE("Q6H"))), 0, 16, OPEN},
    {"1 tablet of 800 on mon/wed/fri",
     MR(ENTRY("1", "tablet",
              "{'repeat':{'dayOfWeek':['mon','wed','fri'],'period':1,"
              "'periodUnit':'wk'}}")),
     800, 800.0 * 3 / 7, OPEN},
    {"when [MORN, EVE] = 2/day", MR(ENTRY("5", "mg", "{'repeat':{'when':['MORN','EVE']}}")), 0, 10,
     OPEN},
    {"supply 30 d with 2 repeats = 90 d",
     MR_DISPENSE(ENTRY("10", "mg", DAILY), "{'numberOfRepeatsAllowed':2,"
                                           "'expectedSupplyDuration':{'value':30,'unit':"
                                           "'days','system':'http://unitsofmeasure.org',"
                                           "'code':'d'}}"),
     0, 10, 90},
    {"repeats as a string: supply unusable, validity decides",
     MR_DISPENSE(ENTRY("10", "mg", DAILY), "{'numberOfRepeatsAllowed':'2',"
                                           "'expectedSupplyDuration':{'value':30,'code':'d'},"
                                           "'validityPeriod':{'start':'2026-01-01','end':"
                                           "'2026-01-11'}}"),
     0, 10, 10},
    {"validityPeriod 2026-01-01..2026-03-01 = 59 d",
     MR_DISPENSE(ENTRY("10", "mg", DAILY), "{'validityPeriod':{'start':'2026-01-01',"
                                           "'end':'2026-03-01T00:00:00Z'}}"),
     0, 10, 59},
    {"boundsPeriod 2024-02-01..2024-03-01 (leap year) = 29 d",
     MR(ENTRY("20", "mg",
              "{'repeat':{'frequency':1,'period':1,'periodUnit':'d','boundsPeriod'"
              ":{'start':'2024-02-01','end':'2024-03-01'}}}")),
     0, 20, 29},
    {"boundsPeriod across a year end = 31 d",
     MR(ENTRY("20", "mg",
              "{'repeat':{'frequency':1,'period':1,'periodUnit':'d','boundsPeriod'"
              ":{'start':'2025-12-01T08:00:00+01:00','end':'2026-01-01'}}}")),
     0, 20, 31},
    {"boundsPeriod with an impossible date is open-ended",
     MR(ENTRY("20", "mg",
              "{'repeat':{'frequency':1,'period':1,'periodUnit':'d','boundsPeriod'"
              ":{'start':'2026-02-01','end':'2026-02-30'}}}")),
     0, 20, OPEN},
    {"boundsPeriod with only a start is open-ended",
     MR(ENTRY("20", "mg",
              "{'repeat':{'frequency':1,'period':1,'periodUnit':'d','boundsPeriod'"
              ":{'start':'2024-02-01'}}}")),
     0, 20, OPEN},
    {"count 3, 1 per 1 d = 3 d",
     MR(ENTRY("500", "mg", "{'repeat':{'count':3,'frequency':1,'period':1,'periodUnit':'d'}}")), 0,
     500, 3},
    {"0.5 g = 500 mg", MR(ENTRY("0.5", "g", DAILY)), 0, 500, OPEN},
    {"500 mcg = 0.5 mg", MR(ENTRY("500", "mcg", DAILY)), 0, 0.5, OPEN},
    {"tablets without a strength", MR(ENTRY("2", "{tbl}", DAILY)), 0, UNKNOWN, OPEN},
    {"no dosageInstruction", "{'resourceType':'MedicationRequest','status':'active'}", 0, UNKNOWN,
     OPEN},
    {"code BID with repeat bounds: 10 d",
     MR(ENTRY("10", "mg",
              "{'repeat':{'boundsDuration':{'value':10,'unit':'d'}},'code':{"
              "'coding':[{'system':'" GTS "','code':'BID'}]}}")),
     0, 20, 10},
    {"unrecognised timing code", MR(ENTRY("10", "mg", "{'code':{'text':'as directed'}}")), 0,
     UNKNOWN, OPEN},
    {"frequency as a string", MR(ENTRY("10", "mg", EVERY("'2'", "1", "d"))), 0, UNKNOWN, OPEN},
    {"UCUM code wins over unit text",
     MR("{'doseAndRate':[{'doseQuantity':{'value':7.5,'unit':'milligram(s)','system':"
        "'http://unitsofmeasure.org','code':'mg'}}],'timing':" DAILY "}"),
     0, 7.5, OPEN},
    {"boundsDuration 1 mo = 30 d",
     MR(ENTRY("15", "mg",
              "{'repeat':{'frequency':1,'period':1,'periodUnit':'wk',"
              "'boundsDuration':{'value':1,'code':'mo'}}}")),
     0, 15.0 / 7, 30},
};

/* Parses a single-quoted JSON literal (no apostrophes inside strings). Owned: put it. */
static json_object *parse_sq(const char *sq)
{
    size_t len = strlen(sq);
    char *buf = malloc(len + 1);
    json_object *obj = NULL;
    assert_non_null(buf);
    memcpy(buf, sq, len + 1);
    for (char *q = strchr(buf, '\''); q != NULL; q = strchr(q + 1, '\''))
        *q = '"';
    obj = json_parse_strict(buf, len, NULL);
    free(buf);
    assert_non_null(obj);
    return obj;
}

static void assert_near(double expected, double actual, double tolerance)
{
    if (fabs(expected - actual) > tolerance)
        fail_msg("expected %.6f, got %.6f", expected, actual);
}

static void test_dose_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(dose_cases) / sizeof(dose_cases[0]); i++) {
        const struct dose_case *c = &dose_cases[i];
        struct dose_result r = {0};
        json_object *mr = NULL;
        print_message("case %s\n", c->name);
        mr = parse_sq(c->json);
        assert_int_equal(dose_evaluate(mr, c->strength_mg, &r), 0);
        if (c->mg_per_day < 0) {
            assert_true(r.mg_per_day < 0);
            assert_non_null(r.why);
            print_message("  unknown: %s\n", r.why);
        } else {
            assert_null(r.why);
            assert_near(c->mg_per_day, r.mg_per_day, TOLERANCE);
        }
        if (c->days < 0)
            assert_true(r.duration_days < 0);
        else
            assert_near(c->days, r.duration_days, TOLERANCE);
        assert_near(r.duration_days, dose_duration_days(mr), 0);
        json_object_put(mr);
    }
}

/* Malformed shapes: each must come out unknown (with a why), never crash or guess. */
static const char *const malformed[] = {
    MR("1,'x'"),
    MR("{'doseAndRate':'x','timing':" DAILY "}"),
    MR("{'doseAndRate':[{'doseQuantity':'20 mg'}],'timing':" DAILY "}"),
    MR(ENTRY("20", "mg", "[]")),
    MR(ENTRY("20", "mg", "{'repeat':[]}")),
    MR(ENTRY("20", "mg", EVERY("1e308", "1", "s"))),
    MR(ENTRY("99999999999999999999", "mg", DAILY)),
    MR(ENTRY("20", "mg", EVERY("1", "1", "fortnight"))),
    MR(ENTRY("20", "mg", "{'repeat':{'frequency':2}}")),
    MR(ENTRY("20", "mg", "{'repeat':{'dayOfWeek':['mon'],'period':1,'periodUnit':'d'}}")),
    MR(ENTRY("20", "mg", "{'code':{'coding':[{'system':'http://snomed.info/sct','code':'BID'}]}}")),
    MR(ENTRY("20", "mg", CODE("Q0H"))),
    MR(ENTRY("20", "mg", CODE("Q999H"))),
    MR(ENTRY("20", "mg", DAILY) "," ENTRY("2", "puff", DAILY)),
};

static void test_dose_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        struct dose_result r = {0};
        json_object *mr = parse_sq(malformed[i]);
        print_message("case malformed %zu\n", i);
        assert_int_equal(dose_evaluate(mr, 20, &r), 0);
        assert_true(r.mg_per_day < 0);
        assert_non_null(r.why);
        print_message("  unknown: %s\n", r.why);
        json_object_put(mr);
    }
}

static void test_dose_not_an_object(void **state)
{
    struct dose_result r = {0};
    json_object *arr = json_object_new_array();
    (void)state;
    assert_int_equal(dose_evaluate(NULL, 0, &r), -1);
    assert_int_equal(dose_evaluate(arr, 0, &r), -1);
    assert_true(dose_duration_days(NULL) < 0);
    json_object_put(arr);
}

/* The JSON of the dose case whose name starts with `name`. */
static const char *case_json(const char *name)
{
    for (size_t i = 0; i < sizeof(dose_cases) / sizeof(dose_cases[0]); i++) {
        if (strncmp(dose_cases[i].name, name, strlen(name)) == 0)
            return dose_cases[i].json;
    }
    fail_msg("no dose case %s", name);
    return NULL;
}

static void test_dose_steps(void **state)
{
    json_object *taper = parse_sq(case_json("taper: 40 mg x 2 wk then 30 mg open"));
    json_object *backwards = parse_sq(case_json("taper: 30 mg x 2 wk after 40 mg x 2 wk"));
    json_object *concurrent = parse_sq(case_json("20 mg AM + 10 mg PM concurrent"));
    (void)state;
    print_message("case taper step count and current step\n");
    assert_int_equal(dose_step_count(taper), 2);
    assert_near(14, dose_current_step_days(taper), TOLERANCE);
    assert_int_equal(dose_step_count(backwards), 2);
    assert_near(14, dose_current_step_days(backwards), TOLERANCE);
    print_message("case concurrent entries are one step\n");
    assert_int_equal(dose_step_count(concurrent), 1);
    assert_true(dose_current_step_days(concurrent) < 0);
    assert_int_equal(dose_step_count(NULL), 0);
    json_object_put(taper);
    json_object_put(backwards);
    json_object_put(concurrent);
}

struct text_case {
    const char *text;
    double strength_mg; /* or UNKNOWN */
};

static const struct text_case text_cases[] = {
    {"prednisone 20 MG Oral Tablet", 20},
    {"predniSONE 5 mg tab", 5},
    {"prednisone 1 MG/ML Oral Solution", 1},
    {"methylprednisolone 1 G Injection", 1000},
    {"sulfamethoxazole 800 MG / trimethoprim 160 MG Oral Tablet", 800},
    {"prednisone 2.5 MG Oral Tablet [Deltasone]", 2.5},
    {"prednisolone 15 MG/5ML Oral Solution", 3},
    {"fludrocortisone acetate 100 MCG Oral Tablet", 0.1},
    {"dexamethasone .5 mg tablet", 0.5},
    {"vitamin B12 1000 MCG Oral Tablet", 1},
    {"methotrexate 2.5MG tablet", 2.5},
    {"fentanyl 0.025 MG/HR Transdermal System", UNKNOWN},
    {"prednisolone acetate 1 % Ophthalmic Suspension", UNKNOWN},
    {"prednisone tablet", UNKNOWN},
    {"", UNKNOWN},
    {NULL, UNKNOWN},
};

static void test_strength_from_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
        const struct text_case *c = &text_cases[i];
        double s = dose_strength_from_text(c->text);
        print_message("case text \"%s\"\n", c->text != NULL ? c->text : "(null)");
        if (c->strength_mg < 0)
            assert_true(s < 0);
        else
            assert_near(c->strength_mg, s, TOLERANCE);
    }
}

struct json_case {
    const char *name;
    const char *json; /* single-quoted */
    double expected;  /* or UNKNOWN */
};

#define RATIO(num, den)                                                                            \
    "{'resourceType':'Medication','ingredient':[{'itemCodeableConcept':{"                          \
    "'text':'x'},'strength':{'numerator':" num ",'denominator':" den "}}]}"

static const struct json_case medication_cases[] = {
    {"20 mg per 1 tablet",
     RATIO("{'value':20,'unit':'mg','system':'http://unitsofmeasure.org','code':'mg'}",
           "{'value':1,'unit':'tablet','code':'TAB'}"),
     20},
    {"1 g per 16 mL vial", RATIO("{'value':1,'code':'g'}", "{'value':16,'code':'mL'}"), 62.5},
    {"500 ug per 1", RATIO("{'value':500,'code':'ug'}", "{'value':1}"), 0.5},
    {"first ingredient with a strength",
     "{'ingredient':[{'itemCodeableConcept':{'text':'lactose'}},{'strength':{'numerator':"
     "{'value':4,'unit':'mg'},'denominator':{'value':1,'unit':'{tbl}'}}}]}",
     4},
    {"mg per g of cream is no per-unit strength",
     RATIO("{'value':10,'code':'mg'}", "{'value':1,'code':'g'}"), UNKNOWN},
    {"numerator in IU", RATIO("{'value':1000,'code':'[iU]'}", "{'value':1,'code':'{tbl}'}"),
     UNKNOWN},
    {"denominator value as a string", RATIO("{'value':20,'code':'mg'}", "{'value':'1'}"), UNKNOWN},
    {"no ingredient", "{'resourceType':'Medication'}", UNKNOWN},
};

static const struct json_case weight_cases[] = {
    {"70 kg", "{'value':70,'unit':'kg','system':'http://unitsofmeasure.org','code':'kg'}", 70},
    {"70000 g", "{'value':70000,'unit':'g'}", 70},
    {"154 [lb_av]",
     "{'value':154,'unit':'lb','system':'http://unitsofmeasure.org',"
     "'code':'[lb_av]'}",
     69.85},
    {"154 lbs (text unit)", "{'value':154,'unit':'lbs'}", 69.85},
    {"weight as a string", "{'value':'70','unit':'kg'}", UNKNOWN},
    {"weight in stones", "{'value':11,'unit':'st'}", UNKNOWN},
    {"zero weight", "{'value':0,'unit':'kg'}", UNKNOWN},
    {"absurd weight 7000 kg", "{'value':7000,'unit':'kg'}", UNKNOWN},
};

static const struct json_case quantity_cases[] = {
    {"20 mg", "{'value':20,'unit':'mg'}", 20},
    {"1.5 G (case-insensitive)", "{'value':1.5,'unit':'G'}", 1500},
    {"250 mcg", "{'value':250,'unit':'mcg'}", 0.25},
    {"1 kg is not a dose", "{'value':1,'unit':'kg'}", UNKNOWN},
    {"2 tablets are not mg", "{'value':2,'unit':'tablet'}", UNKNOWN},
    {"no unit", "{'value':20}", UNKNOWN},
    {"value null", "{'value':null,'unit':'mg'}", UNKNOWN},
};

static void run_json_cases(const struct json_case *cases, size_t n,
                           double (*fn)(const json_object *), double tolerance)
{
    for (size_t i = 0; i < n; i++) {
        json_object *obj = parse_sq(cases[i].json);
        double v = fn(obj);
        print_message("case %s\n", cases[i].name);
        if (cases[i].expected < 0)
            assert_true(v < 0);
        else
            assert_near(cases[i].expected, v, tolerance);
        json_object_put(obj);
    }
    assert_true(fn(NULL) < 0);
}

static void test_strength_from_medication(void **state)
{
    (void)state;
    run_json_cases(medication_cases, sizeof(medication_cases) / sizeof(medication_cases[0]),
                   dose_strength_from_medication, TOLERANCE);
}

static void test_weight(void **state)
{
    (void)state;
    run_json_cases(weight_cases, sizeof(weight_cases) / sizeof(weight_cases[0]), dose_weight_kg,
                   LB_TOLERANCE);
}

static void test_quantity_mg(void **state)
{
    (void)state;
    run_json_cases(quantity_cases, sizeof(quantity_cases) / sizeof(quantity_cases[0]),
                   dose_quantity_mg, TOLERANCE);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dose_table),
        cmocka_unit_test(test_dose_malformed),
        cmocka_unit_test(test_dose_not_an_object),
        cmocka_unit_test(test_dose_steps),
        cmocka_unit_test(test_strength_from_text),
        cmocka_unit_test(test_strength_from_medication),
        cmocka_unit_test(test_weight),
        cmocka_unit_test(test_quantity_mg),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("dose", tests, NULL, NULL);
}

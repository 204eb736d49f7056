/* test_dose_ehr.c - the dose engine on the shapes real EHRs send: the CDS Hooks sandbox's
 * {pill} (medication-reducers.js in github.com/cds-hooks/sandbox), Epic's typed
 * doseAndRate and STU3 doseQuantity (Epic's CDS Hooks documentation,
 * https://fhir.epic.com/Documentation?docId=cds-hooks), Synthea's bare values
 * (its FHIR R4 exporter FhirR4.java in github.com/synthetichealth/synthea), sig text,
 * single doses, PRN, tapers (the FHIR R4 MedicationRequest examples, e.g.
 * http://hl7.org/fhir/R4/medicationrequest0303.json.html), instructions text. Every reading
 * has a near miss that stays unknown.
 *
 * JSON literals use single quotes; parse_sq() turns them into double quotes.
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
#include "fhir/fhir.h"
#include "util/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN (-1.0)
#define OPEN (-1.0)
#define TOL 1e-6

#define MR(di) "{'resourceType':'MedicationRequest','status':'draft','dosageInstruction':[" di "]}"
#define DAILY "{'repeat':{'frequency':1,'period':1,'periodUnit':'d'}}"
#define QTY(v, rest) "{'doseAndRate':[{'doseQuantity':{'value':" v rest "}}],'timing':" DAILY "}"
#define TYPED(code, v, unit)                                                                       \
    "{'type':{'coding':[{'system':'http://epic.com/CodeSystem/dose-rate-type','code':'" code       \
    "'}]},'doseQuantity':{'value':" v ",'code':'" unit "'}}"
#define TEXT_CODE(text) "{'code':{'text':'" text "'}}"

static json_object *parse_sq(const char *sq)
{
    size_t len = strlen(sq);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    memcpy(buf, sq, len + 1);
    for (char *q = strchr(buf, '\''); q != NULL; q = strchr(q + 1, '\''))
        *q = '"';
    json_object *obj = json_parse_strict(buf, len, NULL);
    free(buf);
    if (obj == NULL)
        fail_msg("bad JSON: %s", sq);
    return obj;
}

struct ehr_case {
    const char *name;
    const char *json;
    double strength_mg;
    bool solid;
    double mg_per_day; /* or UNKNOWN */
    double days;       /* or OPEN */
};

static const struct ehr_case cases[] = {
    /* 3. dose quantities */
    {"sandbox 3 {pill} x 20 mg",
     MR(QTY("3", ",'system':'http://unitsofmeasure.org','code':'{pill}'")), 20, false, 60, OPEN},
    {"{Capsule} with unit cap", MR(QTY("2", ",'unit':'cap','code':'{Capsule}'")), 5, false, 10,
     OPEN},
    {"UCUM 1", MR(QTY("2", ",'system':'http://unitsofmeasure.org','code':'1'")), 10, false, 20,
     OPEN},
    {"near miss: {pill} without a strength", MR(QTY("3", ",'code':'{pill}'")), 0, false, UNKNOWN,
     OPEN},
    {"near miss: '{}' is no annotation", MR(QTY("3", ",'code':'{}'")), 20, false, UNKNOWN, OPEN},
    {"tbl code, unit tabs", MR(QTY("2", ",'unit':'tabs','code':'tbl'")), 20, false, 40, OPEN},
    {"near miss: tbl code, no unit", MR(QTY("2", ",'code':'tbl'")), 20, false, UNKNOWN, OPEN},
    {"v3 TAB",
     MR(QTY("2",
            ",'system':'http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm','code':'TAB'")),
     5, false, 10, OPEN},
    {"SNOMED tablet (unit of presentation)",
     MR(QTY("1", ",'system':'http://snomed.info/sct','code':'732936001'")), 20, false, 20, OPEN},
    {"Synthea bare value of a tablet", MR(QTY("2", "")), 20, true, 40, OPEN},
    {"near miss: bare value, form unknown", MR(QTY("2", "")), 20, false, UNKNOWN, OPEN},
    {"Epic triple: the ordered entry",
     MR("{'doseAndRate':[" TYPED("calculated", "80", "mg") "," TYPED(
         "admin-amount", "1", "{tbl}") "," TYPED("ordered", "4", "mg") "],'timing':" DAILY "}"),
     4, false, 4, OPEN},
    {"calculated before an untyped entry",
     MR("{'doseAndRate':[{'doseQuantity':{'value':9,'code':'mg'}}," TYPED(
         "calculated", "8", "mg") "],'timing':" DAILY "}"),
     0, false, 8, OPEN},
    {"doseAndRate as an object",
     MR("{'doseAndRate':{'doseQuantity':{'value':30,'code':'mg'}},'timing':" DAILY "}"), 0, false,
     30, OPEN},
    {"STU3 Dosage.doseQuantity", MR("{'doseQuantity':{'value':40,'unit':'mg'},'timing':" DAILY "}"),
     0, false, 40, OPEN},
    {"STU3 Epic ordered-dose extension",
     MR("{'extension':[{'url':'https://open.epic.com/fhir/extensions/ordered-dose','valueQuantity':"
        "{'value':400,'unit':'mg'}}],'doseQuantity':{'value':2,'code':'{tbl}'},'timing':" DAILY
        "}"),
     0, false, 400, OPEN},
    {"doseRange high",
     MR("{'doseAndRate':[{'doseRange':{'low':{'value':1,'code':'TAB'},'high':{'value':2,'code':'"
        "TAB'}}}],'timing':" DAILY "}"),
     5, false, 10, OPEN},
    /* 4. timing */
    {"code text every 12 (twelve) hours",
     MR("{'doseAndRate':[{'doseQuantity':{'value':10,'code':'mg'}}],'timing':" TEXT_CODE(
         "every 12 (twelve) hours") "}"),
     0, false, 20, OPEN},
    {"code text BID",
     MR("{'doseAndRate':[{'doseQuantity':{'value':10,'code':'mg'}}],'timing':" TEXT_CODE(
         "BID") "}"),
     0, false, 20, OPEN},
    {"code text twice daily",
     MR("{'doseAndRate':[{'doseQuantity':{'value':10,'code':'mg'}}],'timing':" TEXT_CODE(
         "twice daily") "}"),
     0, false, 20, OPEN},
    {"code text every other day",
     MR("{'doseAndRate':[{'doseQuantity':{'value':40,'code':'mg'}}],'timing':" TEXT_CODE(
         "every other day") "}"),
     0, false, 20, OPEN},
    {"Millennium display every 4 hr",
     MR("{'doseAndRate':[{'doseQuantity':{'value':1,'code':'mg'}}],'timing':{'code':{'coding':[{'"
        "system':"
        "'https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/"
        "4003','code':'696547','display':"
        "'every 4 hr'}]}}}"),
     0, false, 6, OPEN},
    {"near miss: two frequencies in one text",
     MR("{'doseAndRate':[{'doseQuantity':{'value':10,'code':'mg'}}],'timing':" TEXT_CODE(
         "daily or BID") "}"),
     0, false, UNKNOWN, OPEN},
    {"near miss: '0800, 2000' as text",
     MR("{'doseAndRate':[{'doseQuantity':{'value':10,'code':'mg'}}],'timing':" TEXT_CODE(
         "0800, 2000") "}"),
     0, false, UNKNOWN, OPEN},
    {"timeOfDay only",
     MR("{'doseAndRate':[{'doseQuantity':{'value':10,'code':'mg'}}],'timing':{'repeat':{'timeOfDay'"
        ":['08:00:00','20:00:00']}}}"),
     0, false, 20, OPEN},
    {"count 365 with a start, timeOfDay",
     MR("{'doseAndRate':[{'doseQuantity':{'value':5,'code':'mg'}}],'timing':{'repeat':{'"
        "boundsPeriod':{'start':'2026-12-01'},'count':365,'timeOfDay':['09:00:00']}}}"),
     0, false, 5, 365},
    {"period 4, periodMax 6 h: the upper bound",
     MR("{'doseAndRate':[{'doseQuantity':{'value':1,'code':'mg'}}],'timing':{'repeat':{'frequency':"
        "1,'period':4,'periodMax':6,'periodUnit':'h'}}}"),
     0, false, 6, OPEN},
    {"once: a single dose is one day",
     MR("{'doseAndRate':[{'doseQuantity':{'value':4,'code':'mg'}}],'timing':" TEXT_CODE(
         "Once") "}"),
     0, false, 4, 1},
    {"count 1",
     MR("{'doseAndRate':[{'doseQuantity':{'value':40,'code':'mg'}}],'timing':{'repeat':{'count':1,'"
        "frequency':1,'period':1,'periodUnit':'d'}}}"),
     0, false, 40, 1},
    {"start = end: a point bound",
     MR("{'doseAndRate':[{'doseQuantity':{'value':4,'code':'mg'}}],'timing':{'repeat':{'"
        "boundsPeriod':{'start':'2023-10-04T13:30:00Z','end':'2023-10-04T13:30:00Z'},'frequency':1,"
        "'period':1,'periodUnit':'d'}}}"),
     0, false, 4, 1},
    {"start = end with count 60 q12h: the plan",
     MR("{'doseAndRate':[{'doseQuantity':{'value':10,'code':'mg'}}],'timing':{'repeat':{'"
        "boundsPeriod':{'start':'2024-07-18','end':'2024-07-18'},'count':60,'frequency':1,'period':"
        "12,'periodUnit':'h'}}}"),
     0, false, 20, 30},
    {"near miss: once daily is a course",
     MR("{'doseAndRate':[{'doseQuantity':{'value':4,'code':'mg'}}],'timing':" TEXT_CODE(
         "once daily") "}"),
     0, false, 4, OPEN},
    /* 5. instructions text when no structured dose */
    {"text: 3 tablets (60 mg total) daily",
     MR("{'text':'Take 3 tablets (60 mg total) by mouth daily.'}"), 20, false, 60, OPEN},
    {"text: 40 mg PO BID", MR("{'text':'prednisone 40 mg PO BID'}"), 0, false, 80, OPEN},
    {"text: structured timing wins",
     MR("{'text':'Take 20 mg by "
        "mouth','timing':{'code':{'coding':[{'system':'http://terminology.hl7.org/CodeSystem/"
        "v3-GTSAbbreviation','code':'TID'}]}}}"),
     0, false, 60, OPEN},
    {"near miss: a range of tablets", MR("{'text':'Take 1-2 tablets by mouth daily'}"), 20, false,
     UNKNOWN, OPEN},
    {"near miss: a taper in words", MR("{'text':'40 mg daily for 7 days then 30 mg daily'}"), 0,
     false, UNKNOWN, OPEN},
    {"near miss: count and figure disagree", MR("{'text':'Take 2 tablets (60 mg total) daily'}"),
     20, false, UNKNOWN, OPEN},
    {"near miss: no frequency", MR("{'text':'Take 40 mg by mouth'}"), 0, false, UNKNOWN, OPEN},
    {"near miss: as directed", MR("{'text':'40 mg as directed'}"), 0, false, UNKNOWN, OPEN},
    {"near miss: a structured dose present, text ignored",
     MR("{'text':'40 mg "
        "daily','doseAndRate':[{'doseQuantity':{'value':2,'code':'puff'}}],'timing':" DAILY "}"),
     0, false, UNKNOWN, OPEN},
};

static void test_ehr_doses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct ehr_case *c = &cases[i];
        struct dose_input in = {c->strength_mg, c->solid, -1, -1};
        struct dose_result r;
        print_message("case %s\n", c->name);
        json_object *mr = parse_sq(c->json);
        assert_int_equal(dose_evaluate_in(mr, &in, &r), 0);
        if (c->mg_per_day < 0) {
            if (r.mg_per_day >= 0)
                fail_msg("read %.3f mg/day", r.mg_per_day);
        } else if (fabs(r.mg_per_day - c->mg_per_day) > TOL) {
            fail_msg("expected %.3f mg/day, got %.3f (%s)", c->mg_per_day, r.mg_per_day,
                     r.why != NULL ? r.why : "");
        }
        if (c->days < 0)
            assert_true(r.duration_days < 0);
        else if (fabs(r.duration_days - c->days) > TOL)
            fail_msg("expected %.1f days, got %.1f", c->days, r.duration_days);
        json_object_put(mr);
    }
}

/* The card's arithmetic: count, strength, frequency, the entry read. */
static void test_details(void **state)
{
    (void)state;
    struct dose_input in = {20, false, -1, -1};
    struct dose_result r;
    json_object *mr = parse_sq(MR("{'doseAndRate':[" TYPED(
        "calculated", "60", "mg") ","
                                  "{'type':{'coding':[{'code':'ordered'}]},'doseQuantity':{'value':"
                                  "3,'code':'{pill}'}}],"
                                  "'timing':{'code':{'text':'BID'}},'asNeededBoolean':true}"));
    assert_int_equal(dose_evaluate_in(mr, &in, &r), 0);
    assert_true(fabs(r.mg_per_day - 120) < TOL);
    assert_true(fabs(r.units - 3) < TOL && fabs(r.unit_mg - 20) < TOL);
    assert_true(fabs(r.per_day - 2) < TOL && fabs(r.dose_mg - 60) < TOL);
    assert_string_equal(r.dose_type, "ordered");
    assert_true(r.as_needed);
    assert_false(r.single_dose);
    assert_false(r.from_text);
    json_object_put(mr);
    mr = parse_sq(MR("{'text':'Take 3 tablets (60 mg total) by mouth daily.'}"));
    assert_int_equal(dose_evaluate_in(mr, &in, &r), 0);
    assert_true(r.from_text);
    assert_true(fabs(r.units - 3) < TOL);
    json_object_put(mr);
}

/* The FHIR R4 0303 taper: three steps, 4, 2 and 1 tablets of 5 mg, each with bounds. */
#define STEP(seq, n, start, end)                                                                   \
    "{'sequence':" seq ",'doseAndRate':[{'doseQuantity':{'value':" n ",'code':'TAB'}}],"           \
    "'timing':{'repeat':{'frequency':1,'period':1,'periodUnit':'d','boundsPeriod':{'start':"       \
    "'" start "','end':'" end "'}}}}"
static const char TAPER[] = MR(STEP("1", "4", "2026-11-16", "2026-11-30") "," STEP(
    "2", "2", "2026-11-30", "2026-12-14") "," STEP("3", "1", "2026-12-14", "2026-12-28"));

static void test_taper(void **state)
{
    (void)state;
    long today = 0;
    struct dose_result r;
    json_object *mr = parse_sq(TAPER);
    struct dose_input in = {5, true, -1, -1};
    assert_true(fhir_date_days("2026-12-03", &today));
    in.today = today;
    assert_int_equal(dose_evaluate_in(mr, &in, &r), 0);
    assert_int_equal(r.n_steps, 3);
    assert_int_equal(r.current, 1); /* 2026-12-03 is in the second step */
    assert_true(fabs(r.mg_per_day - 10) < TOL);
    assert_true(fabs(r.steps[0].mg_per_day - 20) < TOL && fabs(r.steps[0].days - 14) < TOL);
    assert_true(fabs(r.duration_days - 42) < TOL);
    assert_true(fabs(dose_days_at_least(&r, 20) - 14) < TOL);
    assert_true(fabs(dose_days_at_least(&r, 10) - 28) < TOL);
    assert_true(fabs(dose_days_at_least(&r, 30)) < TOL);
    /* before it starts: the first step; after it ends: the last */
    assert_true(fhir_date_days("2026-10-01", &in.today));
    dose_evaluate_in(mr, &in, &r);
    assert_int_equal(r.current, 0);
    assert_true(fabs(r.mg_per_day - 20) < TOL);
    assert_true(fhir_date_days("2027-02-01", &in.today));
    dose_evaluate_in(mr, &in, &r);
    assert_int_equal(r.current, 2);
    /* unknown today: the first step, as before */
    in.today = -1;
    dose_evaluate_in(mr, &in, &r);
    assert_int_equal(r.current, 0);
    json_object_put(mr);
    /* an open last step makes the days at its dose open-ended */
    mr = parse_sq(MR(STEP("1", "4", "2026-11-16",
                          "2026-11-30") ",{'sequence':2,'doseAndRate':[{"
                                        "'doseQuantity':{'value':4,'code':'TAB'}}],'timing':" DAILY
                                        "}"));
    dose_evaluate_in(mr, &in, &r);
    assert_true(dose_days_at_least(&r, 20) < 0);
    json_object_put(mr);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ehr_doses),
        cmocka_unit_test(test_details),
        cmocka_unit_test(test_taper),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("dose_ehr", tests, NULL, NULL);
}

/* view_harness.h - what the view tests share: the real hooks/terminology.json, a fixed
 * today, and a builder of a view from resource texts. Include after cmocka.h. */
#ifndef MYOCDS_TESTS_VIEW_HARNESS_H
#define MYOCDS_TESTS_VIEW_HARNESS_H

#include "clinical/terminology.h"
#include "clinical/view.h"
#include "fhir/fhir.h"
#include "util/json.h"

#include <stdio.h>
#include <string.h>

static struct terminology *term;
static long today;

#define RX "\"system\":\"http://www.nlm.nih.gov/research/umls/rxnorm\""
#define DAILY "\"timing\":{\"repeat\":{\"frequency\":1,\"period\":1,\"periodUnit\":\"d\"}}"

static json_object *parse(const char *text)
{
    struct myocds_err err = {0};
    json_object *o = json_parse_strict(text, strlen(text), &err);
    if (o == NULL)
        fail_msg("fixture JSON: %s", err.msg);
    return o;
}

/* Builds a view of one prefetch Bundle holding the given resources (comma-separated). */
static void build(struct patient_view *v, enum cds_hook hook, const char *resources,
                  const char *drafts, json_object **keep)
{
    char buf[16384];
    snprintf(buf, sizeof buf,
             "{\"prefetch\":{\"record\":{\"resourceType\":\"Bundle\",\"entry\":[%s]}},"
             "\"drafts\":{\"resourceType\":\"Bundle\",\"entry\":[%s]}}",
             resources, drafts != NULL ? drafts : "");
    *keep = parse(buf);
    struct myocds_err err = {0};
    assert_int_equal(view_build(v, term, hook, "p1", json_get_obj(*keep, "prefetch"),
                                json_get_obj(*keep, "drafts"), NULL, today, NULL, &err),
                     0);
}

static int setup(void **state)
{
    (void)state;
    struct myocds_err err = {0};
    term = term_load(MYOCDS_SOURCE_DIR "/hooks/terminology.json", &err);
    if (term == NULL)
        fprintf(stderr, "%s\n", err.msg);
    fhir_date_days("2026-11-22", &today);
    return term == NULL;
}

static int teardown(void **state)
{
    (void)state;
    term_free(term);
    return 0;
}

#endif

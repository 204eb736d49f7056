/* test_store.c - what is SQLite's own (file, mode, data_dir, which writes wait for the
 * disk), the card queue, and the report's date range and formats. The suite both backends
 * share is test_store_pg.c. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "store/report.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    char data_dir[96]; /* a subdirectory the store must create */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/myocds-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->data_dir, sizeof f->data_dir, "%s/a/b", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* One integer from a query on the store's file, through a separate connection. */
static long long query_int(const struct fixture *f, const char *sql)
{
    char path[160];
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    long long v = -1;
    snprintf(path, sizeof path, "%s/%s", f->data_dir, STORE_SQLITE_FILE);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void test_open_creates(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    struct stat sb;
    char path[160];
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), 0);
    assert_non_null(st);
    snprintf(path, sizeof path, "%s/%s", f->data_dir, STORE_SQLITE_FILE);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0); /* only the owner reads the store */
    store_close(st);
    assert_int_equal(query_int(f, "SELECT max(version) FROM schema_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(f, "SELECT count(*) FROM feedback"), 0);
}

static void test_bad_dir(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    char file[128];
    snprintf(file, sizeof file, "%s/plain-file", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(store_sqlite_open(file, &st, &err), -500);
    assert_null(st);
    assert_int_equal(err.http_status, 500);
    store_close(NULL);
}

/* A card the store cannot keep (its uuid is not one of ours) is dropped and counted. */
static void test_queue_refuses_foreign_rows(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    char long_uuid[STORE_UUID_MAX + 8];
    memset(long_uuid, 'a', sizeof long_uuid - 1);
    long_uuid[sizeof long_uuid - 1] = '\0';
    const struct store_card cards[] = {
        {"card-ok", "pjp-prophylaxis"}, {long_uuid, "pjp-prophylaxis"}, {"card-no-rule", NULL}};
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), 0);
    assert_int_equal(store_cards_issued(st, "svc", NULL, cards, 3, &err), -503);
    assert_int_equal(store_dropped(st), 2);
    store_flush(st);
    assert_int_equal(query_int(f, "SELECT count(*) FROM cards_issued"), 1);
    /* Stamped at issue time, in UTC with milliseconds. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM cards_issued WHERE issued_at "
                                  "GLOB '20[0-9][0-9]-[01][0-9]-[0-3][0-9]T*.[0-9][0-9][0-9]Z'"),
                     1);
    store_close(st);
}

/* A VFS over the default one that counts the syncs of every file it opens: which writes
 * wait for the disk. */
struct sync_file {
    sqlite3_file base; /* first: SQLite sees a sqlite3_file */
    sqlite3_file *real;
};

static sqlite3_vfs *real_vfs;
static atomic_long syncs; /* the flusher thread commits the cards */

static int sf_close(sqlite3_file *f)
{
    struct sync_file *s = (struct sync_file *)f;
    int rc = s->real->pMethods != NULL ? s->real->pMethods->xClose(s->real) : SQLITE_OK;
    free(s->real);
    return rc;
}

static int sf_sync(sqlite3_file *f, int flags)
{
    struct sync_file *s = (struct sync_file *)f;
    syncs++;
    return s->real->pMethods->xSync(s->real, flags);
}

/* The other methods pass through to the real file. */
static sqlite3_io_methods sf_methods;

#define SF_PASS(name, proto, args)                                                                 \
    static int sf_##name proto                                                                     \
    {                                                                                              \
        sqlite3_file *r = ((struct sync_file *)f)->real;                                           \
        return r->pMethods->x##name args;                                                          \
    }
SF_PASS(Read, (sqlite3_file * f, void *b, int n, sqlite3_int64 o), (r, b, n, o))
SF_PASS(Write, (sqlite3_file * f, const void *b, int n, sqlite3_int64 o), (r, b, n, o))
SF_PASS(Truncate, (sqlite3_file * f, sqlite3_int64 n), (r, n))
SF_PASS(FileSize, (sqlite3_file * f, sqlite3_int64 *n), (r, n))
SF_PASS(Lock, (sqlite3_file * f, int l), (r, l))
SF_PASS(Unlock, (sqlite3_file * f, int l), (r, l))
SF_PASS(CheckReservedLock, (sqlite3_file * f, int *o), (r, o))
SF_PASS(FileControl, (sqlite3_file * f, int op, void *a), (r, op, a))
SF_PASS(SectorSize, (sqlite3_file * f), (r))
SF_PASS(DeviceCharacteristics, (sqlite3_file * f), (r))
SF_PASS(ShmMap, (sqlite3_file * f, int i, int sz, int ext, void volatile **p), (r, i, sz, ext, p))
SF_PASS(ShmLock, (sqlite3_file * f, int o, int n, int fl), (r, o, n, fl))
SF_PASS(ShmUnmap, (sqlite3_file * f, int del), (r, del))

static void sf_barrier(sqlite3_file *f)
{
    sqlite3_file *r = ((struct sync_file *)f)->real;
    r->pMethods->xShmBarrier(r);
}

static int sf_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    struct sync_file *s = (struct sync_file *)f;
    (void)vfs;
    s->real = calloc(1, (size_t)real_vfs->szOsFile);
    if (s->real == NULL)
        return SQLITE_NOMEM;
    int rc = real_vfs->xOpen(real_vfs, name, s->real, flags, out);
    if (rc != SQLITE_OK) {
        free(s->real);
        f->pMethods = NULL;
        return rc;
    }
    sf_methods = (sqlite3_io_methods){
        .iVersion = 2, /* with the WAL's shared memory, without memory mapping */
        .xClose = sf_close,
        .xRead = sf_Read,
        .xWrite = sf_Write,
        .xTruncate = sf_Truncate,
        .xSync = sf_sync,
        .xFileSize = sf_FileSize,
        .xLock = sf_Lock,
        .xUnlock = sf_Unlock,
        .xCheckReservedLock = sf_CheckReservedLock,
        .xFileControl = sf_FileControl,
        .xSectorSize = sf_SectorSize,
        .xDeviceCharacteristics = sf_DeviceCharacteristics,
        .xShmMap = sf_ShmMap,
        .xShmLock = sf_ShmLock,
        .xShmBarrier = sf_barrier,
        .xShmUnmap = sf_ShmUnmap};
    f->pMethods = &sf_methods;
    return SQLITE_OK;
}

/* Feedback waits for the disk before its call returns (synchronous=FULL: the WAL is
 * synced at COMMIT); a batch of cards does not (NORMAL), before or after feedback. */
static void test_feedback_syncs_cards_do_not(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    struct myocds_err err = {0};
    static sqlite3_vfs counting;
    real_vfs = sqlite3_vfs_find(NULL);
    counting = *real_vfs;
    counting.zName = "myocds-count-syncs";
    counting.szOsFile = (int)sizeof(struct sync_file);
    counting.xOpen = sf_open;
    assert_int_equal(sqlite3_vfs_register(&counting, 1), SQLITE_OK);
    assert_int_equal(store_sqlite_open(f->data_dir, &st, &err), 0);
    const struct store_card card[] = {{"card-a", "pjp-prophylaxis"}, {"card-b", "pjp-prophylaxis"}};
    for (int i = 0; i < 2; i++) {
        const struct myocds_feedback fb = {.card_uuid = card[i].card_uuid,
                                           .outcome = "accepted",
                                           .outcome_timestamp = "2026-01-01T00:00:00Z"};
        long before = syncs;
        assert_int_equal(store_cards_issued(st, "svc", NULL, &card[i], 1, &err), 0);
        store_flush(st);
        assert_int_equal(syncs, before); /* committed without a sync */
        assert_int_equal(store_put_feedback(st, "svc", &fb, 1, NULL, NULL, &err), 0);
        assert_true(syncs > before); /* committed, synced (a new row: a write) */
    }
    assert_int_equal(query_int(f, "SELECT count(*) FROM cards_issued"), 2);
    assert_int_equal(query_int(f, "SELECT count(*) FROM feedback"), 2);
    store_close(st);
    sqlite3_vfs_register(real_vfs, 1);
    sqlite3_vfs_unregister(&counting);
}

struct range_case {
    const char *since;
    const char *until;
    int rc;
    const char *want_since;
    const char *want_until;
};

static const struct range_case range_cases[] = {
    {NULL, NULL, 0, "", ""},
    {"2025-01-01", "2025-03-31", 0, "2025-01-01T00:00:00.000Z", "2025-04-01T00:00:00.000Z"},
    {"2024-02-29", NULL, 0, "2024-02-29T00:00:00.000Z", ""},
    {NULL, "2025-06-30T12:00:00Z", 0, "", "2025-06-30T12:00:00.000Z"},
    {"2025-02-30", NULL, -400, NULL, NULL},
    {"2025-1-01", NULL, -400, NULL, NULL},
    {"yesterday", NULL, -400, NULL, NULL},
    {NULL, "2025-01-01T24:00:00Z", -400, NULL, NULL},
    {"2025-03-01", "2025-02-01", -400, NULL, NULL},
    {"2025-01-01T00:00:00+01:00", NULL, -400, NULL, NULL},
};

static void test_report_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof range_cases / sizeof range_cases[0]; i++) {
        const struct range_case *c = &range_cases[i];
        struct store_range r;
        struct myocds_err err = {0};
        print_message("case %zu: %s .. %s\n", i, c->since ? c->since : "-",
                      c->until ? c->until : "-");
        assert_int_equal(store_report_range(c->since, c->until, &r, &err), c->rc);
        if (c->rc != 0) {
            assert_non_null(strstr(err.msg, "--"));
            continue;
        }
        assert_string_equal(r.since, c->want_since);
        assert_string_equal(r.until, c->want_until);
    }
}

/* Text, CSV and JSON of a hand-made report: hostile reason codes stay harmless. */
static void test_report_render(void **state)
{
    (void)state;
    struct report_reason reasons[] = {{"", "=HYPERLINK(\"x\")", "cds-not-applicable", 2},
                                      {"", "line\nbreak", NULL, 1}};
    struct report_rule rules[] = {
        {.rule = "ibm-steroid", .issued = 0},
        {.rule = "pjp-prophylaxis",
         .issued = 4,
         .accepted = 1,
         .overridden = 3,
         .reasons = reasons,
         .n_reasons = 2,
         .categories = {{"cds-not-applicable", 2}, {NULL, 1}},
         .n_categories = 2},
    };
    struct report_service services[] = {{.service = "drug-order", .calls = 8, .cards = 4},
                                        {.service = "idle", .calls = 0, .cards = 0}};
    struct store_report rep = {.rules = rules,
                               .n = 2,
                               .feedback_total = 5,
                               .feedback_unmatched = 1,
                               .services = services,
                               .n_services = 2};
    size_t len = 0;
    store_report_derive(&rep);
    assert_int_equal(rep.calls_total, 8);
    assert_true(services[0].has_per_100 && services[0].cards_per_100_calls == 50.0);
    assert_false(services[1].has_per_100); /* no calls: no figure */
    assert_true(rules[1].has_per_100 && rules[1].cards_per_100_calls == 50.0); /* 4 / 8 calls */
    char *text = store_report_render(&rep, REPORT_TEXT, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "25.0%"));
    assert_non_null(strstr(text, "line?break (1)"));
    assert_non_null(strstr(text, "Feedback entries received: 5 (1 "));
    assert_non_null(strstr(text, "Override reasons by category"));
    assert_non_null(strstr(text, "cds-not-applicable (2), unknown (1)"));
    assert_non_null(strstr(text, "Calls per service\n"));
    assert_non_null(
        strstr(text, "drug-order                      8        4                50.0\n"));
    assert_non_null(
        strstr(text, "idle                            0        0                   -\n"));
    free(text);
    char *csv = store_report_render(&rep, REPORT_CSV, &len);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "rule,issued,accepted,overridden,acceptance_rate,"
                                "top_override_reasons,override_categories,no_feedback,"
                                "acceptance_ci_low,acceptance_ci_high,cards_per_100_calls\r\n"));
    assert_non_null(strstr(csv, "\"ibm-steroid\",0,0,0,,\"\",\"\",0,,,0.0\r\n"));
    assert_non_null(strstr(csv, "\"pjp-prophylaxis\",4,1,3,0.25,"
                                "\"'=HYPERLINK(\"\"x\"\")=2;line\nbreak=1\","
                                "\"cds-not-applicable=2;unknown=1\",0,0.0456,0.6994,50.0\r\n"));
    free(csv);
    char *json = store_report_render(&rep, REPORT_JSON, &len);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"acceptance_rate\":null"));
    assert_non_null(strstr(json, "\"acceptance_rate\":0.25,\"acceptance_ci_low\":0.0456,"
                                 "\"acceptance_ci_high\":0.6994,\"no_feedback\":0"));
    assert_non_null(strstr(json, "\"acceptance_rate\":null,\"acceptance_ci_low\":null,"
                                 "\"acceptance_ci_high\":null,\"no_feedback\":0"));
    assert_non_null(strstr(json, "{\"system\":null,\"code\":\"=HYPERLINK(\\\"x\\\")\","
                                 "\"category\":\"cds-not-applicable\",\"count\":2}"));
    assert_non_null(strstr(json, "\"override_categories\":[{\"category\":\"cds-not-applicable\","
                                 "\"count\":2},{\"category\":null,\"count\":1}]"));
    assert_non_null(strstr(json, "\"cards_per_100_calls\":50.0,\"weeks\":[]}"));
    assert_non_null(strstr(json, "\"services\":[{\"service\":\"drug-order\",\"calls\":8,"
                                 "\"cards\":4,\"cards_per_100_calls\":50.0,\"issued\":0,"));
    assert_non_null(strstr(json, "{\"service\":\"idle\",\"calls\":0,\"cards\":0,"
                                 "\"cards_per_100_calls\":null,\"issued\":0,\"accepted\":0,"
                                 "\"overridden\":0,\"no_feedback\":0,\"acceptance_rate\":null,"
                                 "\"acceptance_ci_low\":null,\"acceptance_ci_high\":null}],"
                                 "\"calls_total\":8,\"ehrs\":[],\"in_force\":null"));
    free(json);
    rep.n_services = 0; /* no calls counted: no rule has a figure either */
    store_report_derive(&rep);
    assert_false(rules[1].has_per_100);
    csv = store_report_render(&rep, REPORT_CSV, &len);
    assert_non_null(strstr(csv, ",0,0.0456,0.6994,\r\n"));
    free(csv);
}

/* The 95 % Wilson score interval against figures worked by hand (z = 1.96). */
/* The tally: weeks from Monday, filled in between; EHRs and reasons past their caps. */
static void test_report_tally(void **state)
{
    (void)state;
    struct store_report rep = {0};
    struct report_rule *a = report_rule_entry(&rep, "pjp-prophylaxis");
    assert_non_null(a);
    assert_ptr_equal(report_rule_entry(&rep, "pjp-prophylaxis"), a);
    assert_non_null(report_rule_entry(&rep, "aza-tpmt")); /* sorted in before */
    a = report_rule_entry(&rep, "pjp-prophylaxis");
    assert_string_equal(rep.rules[0].rule, "aza-tpmt");
    struct report_week *w = report_week_entry(a, "2026-12-03"); /* a Thursday */
    assert_non_null(w);
    assert_string_equal(w->start, "2026-11-30");
    w->issued = 2;
    assert_ptr_equal(report_week_entry(a, "2026-12-06"), w); /* Sunday: the same week */
    w = report_week_entry(a, "2026-11-09");
    assert_string_equal(w->start, "2026-11-09");
    w->issued = 1;
    assert_null(report_week_entry(a, "2026-13-01"));
    assert_null(report_week_entry(a, NULL));
    assert_int_equal(report_weeks_fill(&rep), 0);
    assert_int_equal(a->n_weeks, 4); /* 11-09, 11-16, 11-23, 11-30 */
    assert_string_equal(a->weeks[1].start, "2026-11-16");
    assert_int_equal(a->weeks[1].issued, 0);
    assert_int_equal(a->weeks[3].issued, 2);
    assert_int_equal(rep.rules[0].n_weeks, 4); /* every rule on the same weeks */

    char name[32];
    for (int i = 0; i < REPORT_EHRS_MAX + 5; i++) {
        snprintf(name, sizeof name, "t%04d", i);
        struct report_ehr *e = report_ehr_entry(&rep, "https://ehr", name);
        assert_non_null(e);
        e->out.issued++;
    }
    assert_non_null(report_ehr_entry(&rep, NULL, NULL)); /* beyond the cap too */
    assert_int_equal(rep.n_ehrs, REPORT_EHRS_MAX + 1);
    assert_true(rep.ehrs[REPORT_EHRS_MAX].other);
    assert_int_equal(rep.ehrs[REPORT_EHRS_MAX].out.issued, 5);
    assert_string_equal(rep.ehrs[0].tenant, "t0000");
    assert_ptr_equal(report_ehr_entry(&rep, "https://ehr", "t0000"), &rep.ehrs[0]);

    for (int i = 0; i < REPORT_REASONS_MAX + 3; i++) {
        snprintf(name, sizeof name, "code-%04d", i);
        assert_int_equal(report_reason_add(a, "urn:x", name, 2), 0);
    }
    assert_int_equal(report_reason_add(a, "urn:x", "code-0000", 1), 0);
    assert_int_equal(a->n_reasons, REPORT_REASONS_MAX);
    assert_int_equal(a->reasons[0].count, 3);
    assert_int_equal(a->reasons_other, 6);
    store_report_free(&rep);
}

static void test_report_wilson(void **state)
{
    (void)state;
    double lo = -1;
    double hi = -1;
    assert_true(report_wilson(1, 4, &lo, &hi));
    assert_float_equal(lo, 0.04558, 1e-5);
    assert_float_equal(hi, 0.69936, 1e-5);
    assert_false(report_wilson(0, 0, &lo, &hi)); /* no cards: no interval */
    assert_true(lo == 0.0 && hi == 0.0);
    assert_true(report_wilson(10, 10, &lo, &hi));
    assert_float_equal(lo, 0.72246, 1e-5);
    assert_true(hi == 1.0); /* exactly, not 0.9999... */
    assert_true(report_wilson(0, 10, &lo, &hi));
    assert_true(lo == 0.0);
    assert_float_equal(hi, 0.27754, 1e-5);
    assert_true(report_wilson(50, 100, &lo, &hi));
    assert_float_equal(lo, 0.40383, 1e-5);
    assert_float_equal(hi, 0.59617, 1e-5);
    assert_false(report_wilson(5, 4, &lo, &hi));
    assert_false(report_wilson(-1, 4, &lo, &hi));
}

/* One rule's counts, derived figures filled by store_report_derive(). */
#define RULE(id, i, a, o)                                                                          \
    {                                                                                              \
        .rule = id, .issued = i, .accepted = a, .overridden = o                                    \
    }

/* The headline names the lowest acceptance among rules with enough cards. */
static void test_report_most_ignored(void **state)
{
    (void)state;
    struct report_rule rules[] = {
        RULE("few-cards", 3, 0, 3),      /* lowest rate, but too few cards */
        RULE("half", 20, 10, 5),         /* 50 % */
        RULE("tenth", 10, 1, 9),         /* 10 %: the one */
        RULE("tenth-of-more", 30, 3, 2), /* 10 % too, more cards: wins the tie */
        RULE("all", 12, 12, 0),
    };
    struct store_report rep = {.rules = rules, .n = 4};
    store_report_derive(&rep);
    assert_ptr_equal(store_report_most_ignored(&rep), &rules[3]);
    rep.n = 3;
    assert_ptr_equal(store_report_most_ignored(&rep), &rules[2]);
    rep.n = 1;
    assert_null(store_report_most_ignored(&rep));
    assert_int_equal(rules[3].no_feedback, 25);
    struct report_rule over = RULE("more-feedback-than-cards", 2, 2, 1);
    struct store_report one = {.rules = &over, .n = 1};
    store_report_derive(&one);
    assert_int_equal(over.no_feedback, 0); /* never negative */
    assert_true(over.has_ci && over.ci_high == 1.0);
}

/* The page: valid HTML5 head, hostile codes escaped, the headline's rule, the numbers. */
static void test_report_html(void **state)
{
    (void)state;
    struct report_reason reasons[] = {
        {"urn:x\"><script>alert(1)</script>", "<script>alert('x')</script>", "cds-not-applicable",
         6},
        {"", "a&b \"q\" 'q'", "cds-not-applicable", 2},
        {"", "bad\x01\xff", NULL, 1},
    };
    struct report_rule rules[] = {
        {.rule = "<b>rule</b>",
         .issued = 40,
         .accepted = 4,
         .overridden = 10,
         .reasons = reasons,
         .n_reasons = 3,
         .categories = {{"cds-not-applicable", 8}, {NULL, 1}},
         .n_categories = 2},
        RULE("pjp-prophylaxis", 4, 1, 3),
        RULE("quiet", 0, 0, 0),
    };
    struct store_report rep = {.rules = rules,
                               .n = 3,
                               .feedback_total = 17,
                               .feedback_unmatched = 2,
                               .range = {"2025-01-01T00:00:00.000Z", ""},
                               .made_at = "2025-04-01T08:00:00.000Z"};
    struct report_service services[] = {{.service = "<i>svc</i>", .calls = 200, .cards = 3}};
    rep.services = services;
    rep.n_services = 1;
    size_t len = 0;
    store_report_derive(&rep);
    char *html = store_report_render(&rep, REPORT_HTML, &len);
    assert_non_null(html);
    assert_int_equal(strlen(html), len);
    assert_true(
        strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">",
                strlen("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")) ==
        0);
    assert_non_null(strstr(html, "<title>"));
    assert_null(strstr(html, "<script")); /* nothing from the store runs */
    assert_null(strstr(html, "<b>rule"));
    assert_null(strstr(html, "href=")); /* nothing fetched, nothing linked */
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "url("));
    assert_null(strstr(html, "@import"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert_non_null(strstr(html, "title=\"urn:x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert_non_null(strstr(html, "a&amp;b &quot;q&quot; &#39;q&#39;"));
    assert_non_null(strstr(html, "bad\xef\xbf\xbd\xef\xbf\xbd</code> (1)"));
    assert_non_null(strstr(html, "Ignored most: <code id=\"headline-rule\">&lt;b&gt;rule&lt;/b&gt;"
                                 "</code>"));
    assert_non_null(strstr(html, "4 of 40 cards accepted (10.0 %; 95 % interval 4.0 % to 23.1 %)"
                                 ", 10 overridden, 26 with no feedback."));
    assert_non_null(strstr(html, "<strong>cds-not-applicable</strong>"));
    assert_non_null(strstr(html, "<td class=\"n\">25.0 %</td><td class=\"n\">4.6 %</td>"
                                 "<td class=\"n\">69.9 %</td>"));
    assert_non_null(strstr(html, "<td class=\"n\">-</td><td class=\"n\">-</td>"));
    assert_non_null(strstr(html, "<td>no reason given</td><td class=\"n\">1</td>"));
    assert_non_null(strstr(html, "<td class=\"n\">17</td>"));
    assert_non_null(strstr(html, "2025-04-01T08:00:00.000Z"));
    assert_non_null(strstr(html, "@media print"));
    assert_non_null(strstr(html, "<svg "));
    assert_non_null(strstr(html, "</html>\n"));
    assert_non_null(strstr(html, "<h2>Alert burden</h2>"));
    assert_null(strstr(html, "<i>svc"));
    assert_non_null(strstr(html, "<code>&lt;i&gt;svc&lt;/i&gt;</code></th><td class=\"n\">200</td>"
                                 "<td class=\"n\">3</td><td class=\"n\">1.5</td>"));
    assert_non_null(strstr(html, "<code>pjp-prophylaxis</code></th><td class=\"n\">4</td>"
                                 "<td class=\"n\">2.0</td></tr>")); /* 4 cards in 200 calls */
    assert_non_null(strstr(html, "&lt;i&gt;svc&lt;/i&gt;: 3 cards in 200 calls</title>"));
    free(html);
    rep.n_services = 0;
    rep.n = 0; /* an empty range still makes a page */
    html = store_report_render(&rep, REPORT_HTML, &len);
    assert_non_null(html);
    assert_non_null(strstr(html, "No rule had 10 or more cards"));
    assert_non_null(strstr(html, "No cards issued in this range."));
    assert_non_null(strstr(html, "No calls counted in this range."));
    free(html);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_refuses_foreign_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feedback_syncs_cards_do_not, setup, teardown),
        cmocka_unit_test(test_report_range),
        cmocka_unit_test(test_report_render),
        cmocka_unit_test(test_report_tally),
        cmocka_unit_test(test_report_wilson),
        cmocka_unit_test(test_report_most_ignored),
        cmocka_unit_test(test_report_html),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

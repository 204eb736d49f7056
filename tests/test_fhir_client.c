/* test_fhir_client.c - the FHIR client without sockets: the allow list against hostile
 * URLs, bearer token syntax, what an answer means, Bundle paging, and a fetch that must
 * not connect at all (server not allowed, token expired, an absolute URL elsewhere). */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "fhir/client.h"
#include "fhir/fhir.h"
#include "util/config.h"
#include "util/json.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Outcomes reported through fhir_call.counted. */
static int counted_ok;
static int counted_failed;

static void count_outcome(bool ok)
{
    (*(ok ? &counted_ok : &counted_failed))++;
}

struct url_case {
    const char *base;
    const char *url;
    bool under;
};

static void test_url_under_hostile_urls(void **state)
{
    (void)state;
    static const struct url_case cases[] = {
        {"https://a.org/r4", "https://a.org/r4", true},
        {"https://a.org/r4", "https://a.org/r4/", true},
        {"https://a.org/r4", "https://a.org/r4/Patient/1", true},
        {"https://a.org/r4", "https://a.org/r4/Condition?patient=1&_count=50", true},
        {"https://a.org/r4", "https://a.org/r4?_getpages=abc", true},
        {"https://a.org/r4", "https://A.ORG/r4/Patient/1", true},
        {"https://a.org/r4", "HTTPS://a.org/r4/Patient/1", true},
        {"https://a.org/r4", "https://a.org:443/r4/Patient/1", true},
        {"https://a.org/r4/", "https://a.org/r4", true},
        {"https://a.org/r4/", "https://a.org/r4/Patient/1", true},
        {"https://a.org", "https://a.org/anything/below", true},
        {"https://a.org/", "https://a.org/r4", true},
        {"http://127.0.0.1:8080/fhir", "http://127.0.0.1:8080/fhir/case-1/Patient/p", true},
        {"https://[::1]:8443/fhir", "https://[::1]:8443/fhir/Patient/1", true},
        /* The path boundary. */
        {"https://a.org/r4", "https://a.org/r4evil", false},
        {"https://a.org/r4", "https://a.org/r4evil/Patient/1", false},
        {"https://a.org/r4", "https://a.org/r", false},
        {"https://a.org/r4", "https://a.org/", false},
        {"https://a.org/r4", "https://a.org/R4/Patient/1", false},
        {"https://a.org/r4", "https://a.org/other/r4", false},
        {"https://a.org/r4/", "https://a.org/r4evil", false},
        /* The host. */
        {"https://a.org/r4", "https://a.org.evil.com/r4", false},
        {"https://a.org/r4", "https://evil.com/a.org/r4", false},
        {"https://a.org/r4", "https://a.org@evil.com/r4", false},
        {"https://a.org/r4", "https://evil.com?https://a.org/r4", false},
        {"https://a.org/r4", "https://evil.com#https://a.org/r4", false},
        {"https://a.org/r4", "https://xa.org/r4", false},
        {"https://a.org/r4", "https://a.org./r4", false},
        {"https://a.org", "https://a.org.evil.com", false},
        /* Scheme and port. */
        {"https://a.org/r4", "http://a.org/r4", false},
        {"https://a.org/r4", "http://a.org:443/r4", false},
        {"https://a.org/r4", "https://a.org:8443/r4", false},
        {"https://a.org/r4", "ftp://a.org/r4", false},
        {"https://a.org/r4", "file:///r4", false},
        {"http://127.0.0.1:8080/fhir", "http://127.0.0.1:8081/fhir", false},
        {"http://127.0.0.1:8080/fhir", "https://127.0.0.1:8080/fhir", false},
        {"http://127.0.0.1:8080/fhir", "http://127.0.0.1/fhir", false},
        /* User info, fragments, traversal, encodings. */
        {"https://a.org/r4", "https://user:pw@a.org/r4", false},
        {"https://a.org/r4", "https://user@a.org/r4/Patient/1", false},
        {"https://a.org/r4", "https://a.org/r4/Patient/1#x", false},
        {"https://a.org/r4", "https://a.org/r4/../admin", false},
        {"https://a.org/r4", "https://a.org/r4/..", false},
        {"https://a.org/r4", "https://a.org/r4/%2e%2e/admin", false},
        {"https://a.org/r4", "https://a.org/r4/%2E%2E/admin", false},
        {"https://a.org/r4", "https://a.org/r4%2fevil", false},
        {"https://a.org/r4", "https://a.org/r4/Patient/1%00", false},
        {"https://a.org/r4", "https://a.org/r4/..%5cadmin", false},
        {"https://a.org/r4", "https://a.org/r4\\..\\admin", false},
        {"https://a.org/r4", "https://a.org/r4/Patient 1", false},
        /* what Tomcat/Jetty FHIR servers normalise outside the base */
        {"https://a.org/r4", "https://a.org/r4/..;/admin", false},
        {"https://a.org/r4", "https://a.org/r4/Patient;jsessionid=1", false},
        {"https://a.org/r4", "https://a.org/r4/%252e%252e/admin", false},
        {"https://a.org/r4", "https://a.org/r4/Pati\xc3\xa9nt/1", false},
        {"https://a.org/r4", "https://a.org/r4/Patient/1?_id=a;b", true}, /* query, not path */
        {"https://a.org/r4", "https://a.org/r4/\r\nX: y", false},
        {"https://a.org/r4", "//a.org/r4", false},
        {"https://a.org/r4", "a.org/r4", false},
        {"https://a.org/r4", "", false},
        {"https://a.org/r4", "not a url", false},
        /* A base itself must be a plain base. */
        {"https://a.org/r4?x=1", "https://a.org/r4?x=1", false},
        {"https://user@a.org/r4", "https://a.org/r4", false},
        {"", "https://a.org/r4", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct url_case *c = &cases[i];
        print_message("case %zu: %s under %s\n", i, c->url, c->base);
        assert_int_equal(fhir_url_under(c->base, c->url), c->under);
    }
    assert_false(fhir_url_under(NULL, "https://a.org/r4"));
    assert_false(fhir_url_under("https://a.org/r4", NULL));
}

static void test_allow_find_picks_the_listed_server(void **state)
{
    (void)state;
    const char *const allowed[] = {"https://ehr.example.org/fhir/r4", "http://127.0.0.1:9999/fhir"};
    assert_int_equal(fhir_allow_find(allowed, 2, "https://ehr.example.org/fhir/r4/Patient/1"), 0);
    assert_int_equal(fhir_allow_find(allowed, 2, "http://127.0.0.1:9999/fhir/case"), 1);
    /* Plain http only for the server listed with http://. */
    assert_int_equal(fhir_allow_find(allowed, 2, "http://ehr.example.org/fhir/r4"), -1);
    assert_int_equal(fhir_allow_find(allowed, 2, "https://ehr.example.org/fhir/r4evil"), -1);
    assert_int_equal(fhir_allow_find(allowed, 0, "https://ehr.example.org/fhir/r4"), -1);
}

static void test_base_valid(void **state)
{
    (void)state;
    assert_true(fhir_base_valid("https://ehr.example.org/fhir/r4"));
    assert_true(fhir_base_valid("http://127.0.0.1:8080"));
    assert_false(fhir_base_valid("https://ehr.example.org/fhir/r4?x=1"));
    assert_false(fhir_base_valid("https://u:p@ehr.example.org/fhir"));
    assert_false(fhir_base_valid("https://ehr.example.org/fhir#f"));
    assert_false(fhir_base_valid("ftp://ehr.example.org/fhir"));
    assert_false(fhir_base_valid("ehr.example.org/fhir"));
    assert_false(fhir_base_valid(NULL));
}

static void test_token_syntax(void **state)
{
    (void)state;
    assert_true(fhir_token_valid("abc.DEF-123_~+/"));
    assert_true(fhir_token_valid("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln=="));
    assert_false(fhir_token_valid(""));
    assert_false(fhir_token_valid(NULL));
    assert_false(fhir_token_valid("abc def"));
    assert_false(fhir_token_valid("abc\r\nX-Evil: 1"));
    assert_false(fhir_token_valid("abc\n"));
    assert_false(fhir_token_valid("=abc"));
    assert_false(fhir_token_valid("ab=c"));
    assert_false(fhir_token_valid("abc\"d"));
    char *big = malloc(FHIR_TOKEN_MAX + 2);
    assert_non_null(big);
    memset(big, 'a', FHIR_TOKEN_MAX + 1);
    big[FHIR_TOKEN_MAX + 1] = '\0';
    assert_false(fhir_token_valid(big));
    big[FHIR_TOKEN_MAX] = '\0';
    assert_true(fhir_token_valid(big));
    free(big);
}

static void test_rel_type(void **state)
{
    (void)state;
    char t[64];
    fhir_rel_type("Patient/123", t, sizeof t);
    assert_string_equal(t, "Patient");
    fhir_rel_type("Condition?patient=123", t, sizeof t);
    assert_string_equal(t, "Bundle");
    fhir_rel_type("Observation?patient=1&code=http://loinc.org|2458-8", t, sizeof t);
    assert_string_equal(t, "Bundle");
    fhir_rel_type("metadata", t, sizeof t);
    assert_string_equal(t, "");
}

/* Absolute URLs: a read ends in Type/id without a query; anything else is a page. */
static void test_rel_type_of_absolute_urls(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *type;
    } cases[] = {
        {"https://a.org/r4/Medication/x", "Medication"},
        {"https://a.org/r4/Medication/x/_history/2", "Medication"},
        {"HTTP://a.org/Patient/1", "Patient"},
        {"https://a.org/r4/MedicationRequest?patient=1&page=2", "Bundle"},
        {"https://a.org/r4/Medication/x?_format=json", "Bundle"},
        {"https://a.org/r4?_getpages=abc&_getpagesoffset=20", "Bundle"},
        {"https://a.org/r4/page/2", "Bundle"},
        {"https://a.org/r4/Medication/../Patient/1", "Bundle"},
        {"https://a.org", "Bundle"},
    };
    char t[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %s\n", cases[i].url);
        fhir_rel_type(cases[i].url, t, sizeof t);
        assert_string_equal(t, cases[i].type);
    }
    assert_true(fhir_url_absolute("https://a.org/r4"));
    assert_true(fhir_url_absolute("Http://a.org/r4"));
    assert_false(fhir_url_absolute("Medication/x"));
    assert_false(fhir_url_absolute("httpx://a.org"));
    assert_false(fhir_url_absolute("//a.org/r4"));
    assert_false(fhir_url_absolute("http:/a.org"));
    assert_false(fhir_url_absolute(""));
    assert_false(fhir_url_absolute(NULL));
}

struct answer_case {
    const char *name;
    bool transport_ok;
    long code;
    const char *body;
    const char *want;
    int status;
};

#define PATIENT "{\"resourceType\":\"Patient\",\"id\":\"p1\"}"
#define BUNDLE "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[]}"
#define OUTCOME                                                                                    \
    "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":"          \
    "\"forbidden\"}]}"

static void test_answer_classification(void **state)
{
    (void)state;
    enum { OK = 0, E412 = MYOCDS_E_PRECONDITION, E503 = MYOCDS_E_UNAVAILABLE };
    static const struct answer_case cases[] = {
        {"patient read", true, 200, PATIENT, "Patient", OK},
        {"search bundle", true, 200, BUNDLE, "Bundle", OK},
        {"any type", true, 200, PATIENT, "", OK},
        {"outcome in a 200", true, 200, OUTCOME, "Bundle", E412},
        {"401", true, 401, OUTCOME, "Bundle", E412},
        {"403", true, 403, "", "Bundle", E412},
        {"404", true, 404, OUTCOME, "Patient", E412},
        {"410", true, 410, "", "Patient", E412},
        {"400", true, 400, OUTCOME, "Bundle", E412},
        {"302 not followed", true, 302, "", "Bundle", E412},
        {"500", true, 500, OUTCOME, "Bundle", E503},
        {"502", true, 502, "<html>", "Bundle", E503},
        {"503", true, 503, "", "Bundle", E503},
        {"429", true, 429, "", "Bundle", E503},
        {"timeout", false, 0, NULL, "Bundle", E503},
        {"transfer cut by the size cap", false, 200, "{\"resourceType\":", "Bundle", E503},
        {"invalid JSON", true, 200, "{\"resourceType\":\"Bundle\",}", "Bundle", E503},
        {"trailing data", true, 200, BUNDLE " x", "Bundle", E503},
        {"empty body", true, 200, "", "Bundle", E503},
        {"array", true, 200, "[]", "Bundle", E503},
        {"no resourceType", true, 200, "{\"id\":\"1\"}", "Patient", E503},
        {"patient for a search", true, 200, PATIENT, "Bundle", E503},
        {"bundle for a read", true, 200, BUNDLE, "Patient", E503},
        {"entry not an array", true, 200, "{\"resourceType\":\"Bundle\",\"entry\":{}}", "Bundle",
         E503},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct answer_case *c = &cases[i];
        json_object *out = (json_object *)1;
        const char *why = NULL;
        print_message("case %s\n", c->name);
        int rc = fhir_response_classify(c->transport_ok, c->code, c->body,
                                        c->body != NULL ? strlen(c->body) : 0, c->want, &out, &why);
        assert_int_equal(rc, c->status);
        assert_non_null(why);
        if (rc == 0) {
            assert_non_null(out);
            json_object_put(out);
        } else {
            assert_null(out);
        }
    }
}

static json_object *parse(const char *s)
{
    json_object *o = json_parse_strict(s, strlen(s), NULL);
    assert_non_null(o);
    return o;
}

static int count_resource(json_object *res, const char *type, const struct fhir_entry *entry,
                          void *ctx)
{
    assert_string_equal(type, fhir_type(res));
    assert_non_null(entry);
    (*(int *)ctx)++;
    return 0;
}

static void test_bundle_paging(void **state)
{
    (void)state;
    json_object *p1 = parse("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":3,"
                            "\"link\":[{\"relation\":\"self\",\"url\":\"https://a.org/r4/C?p=1\"},"
                            "{\"relation\":\"next\",\"url\":\"https://a.org/r4?page=2\"}],"
                            "\"entry\":[{\"resource\":{\"resourceType\":\"Condition\"}}]}");
    json_object *p2 = parse("{\"resourceType\":\"Bundle\",\"type\":\"searchset\","
                            "\"entry\":[{\"resource\":{\"resourceType\":\"Condition\"}},"
                            "{\"resource\":{\"resourceType\":\"Condition\"}}]}");
    json_object *p3 = parse("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}");
    json_object *empty = parse("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}");
    assert_string_equal(fhir_bundle_next(p1), "https://a.org/r4?page=2");
    assert_null(fhir_bundle_next(p2));
    assert_null(fhir_bundle_next(NULL));
    assert_int_equal(fhir_bundle_append(p1, p2), 0);
    assert_int_equal(fhir_bundle_append(p1, p3), 0);
    json_object_put(p2); /* p1 holds its own references to the moved entries */
    json_object_put(p3);
    assert_int_equal(fhir_bundle_append(empty, p1), 0);
    fhir_bundle_merged(p1);
    assert_null(fhir_bundle_next(p1));
    assert_null(json_get(p1, "link", json_type_array));
    int n = 0;
    assert_int_equal(fhir_each_resource(p1, count_resource, &n), 0);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(fhir_each_resource(empty, count_resource, &n), 0);
    assert_int_equal(n, 3);
    json_object_put(p1);
    json_object_put(empty);
}

#define TEST_TEMPLATES 3

/* A batch of three keys for fhir_server, with the given token. */
struct test_batch {
    struct myocds_fetch_item items[TEST_TEMPLATES];
    struct myocds_fetch_batch b;
};

static void batch_init(struct test_batch *t, const char *server, const char *token,
                       long long expires_in)
{
    static const char *const keys[] = {"patient", "conditions", "medications"};
    static const char *const urls[] = {"Patient/p1", "Condition?patient=p1",
                                       "MedicationRequest?patient=p1"};
    for (size_t i = 0; i < TEST_TEMPLATES; i++)
        t->items[i] = (struct myocds_fetch_item){keys[i], urls[i], NULL, 0, NULL};
    t->b = (struct myocds_fetch_batch){server, token, expires_in, t->items, TEST_TEMPLATES};
}

/* A client allowed to call allowed (NULL: nothing), also without a token when anonymous. */
static struct fhir_client *client_of(const char *allowed, bool anonymous, long deadline_ms)
{
    const char *const list[] = {allowed};
    const struct fhir_client_opts o = {list, allowed != NULL, list, anonymous && allowed != NULL,
                                       3000, deadline_ms,     NULL};
    struct fhir_client *c = NULL;
    struct myocds_err err = {0};
    assert_int_equal(fhir_client_new(&o, &c, &err), 0);
    return c;
}

/* The local test servers of these tests read without a token. */
static struct fhir_client *client(const char *allowed, long deadline_ms)
{
    return client_of(allowed, true, deadline_ms);
}

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void assert_all(const struct test_batch *t, int status)
{
    for (size_t i = 0; i < TEST_TEMPLATES; i++) {
        print_message("key %s\n", t->items[i].key);
        assert_int_equal(t->items[i].status, status);
        assert_null(t->items[i].result);
    }
}

/* Refused before any connection: the answer comes at once, every key PRECONDITION. */
static void test_fetch_refused_without_connecting(void **state)
{
    (void)state;
    static const struct {
        const char *server;
        const char *token;
        long long expires_in;
    } cases[] = {
        {"https://evil.example/fhir/r4", "tok", 300},
        {"https://ehr.example.org/fhir/r4evil", "tok", 300},
        {"https://ehr.example.org.evil.example/fhir/r4", "tok", 300},
        {"http://ehr.example.org/fhir/r4", "tok", 300},
        {"https://ehr.example.org/fhir/r4?x=1", "tok", 300},
        {"https://ehr.example.org/fhir/r4", "tok", 0},
        {"https://ehr.example.org/fhir/r4", "tok\r\nX-Evil: 1", 300},
    };
    struct fhir_client *c = client("https://ehr.example.org/fhir/r4", 1500);
    struct fhir_call call = {c, "test", count_outcome, NULL, 0};
    counted_ok = counted_failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct test_batch t;
        struct myocds_err err = {0};
        print_message("case %zu\n", i);
        batch_init(&t, cases[i].server, cases[i].token, cases[i].expires_in);
        long long t0 = ms_now();
        assert_int_equal(fhir_fetch(&call, &t.b, &err), 0);
        assert_true(ms_now() - t0 < 100);
        assert_all(&t, MYOCDS_E_PRECONDITION);
    }
    assert_int_equal(counted_failed, TEST_TEMPLATES * (sizeof cases / sizeof cases[0]));
    assert_int_equal(counted_ok, 0);
    fhir_client_free(c);
}

/* No allow list at all: nothing is ever fetched. */
static void test_fetch_with_empty_allow_list(void **state)
{
    (void)state;
    struct fhir_client *c = client(NULL, 1500);
    struct fhir_call call = {c, NULL, NULL, NULL, 0};
    struct test_batch t;
    struct myocds_err err = {0};
    batch_init(&t, "https://ehr.example.org/fhir/r4", "tok", 300);
    assert_int_equal(fhir_fetch(&call, &t.b, &err), 0);
    assert_all(&t, MYOCDS_E_PRECONDITION);
    fhir_client_free(c);
}

/* No data without the EHR's authority: without a token a server not listed as readable
 * without one is never contacted; an issuer bound to its own servers uses only those. */
static void test_fetch_needs_the_token(void **state)
{
    (void)state;
    struct fhir_client *c = client_of("https://ehr.example.org/fhir/r4", false, 1500);
    struct fhir_call call = {c, NULL, NULL, NULL, 0};
    struct test_batch t;
    struct myocds_err err = {0};
    batch_init(&t, "https://ehr.example.org/fhir/r4", NULL, -1);
    assert_int_equal(fhir_fetch(&call, &t.b, &err), 0);
    assert_all(&t, MYOCDS_E_PRECONDITION);
    assert_non_null(strstr(t.items[0].reason, "only with the EHR's token"));
    const char *const other[] = {"https://other.example.org/fhir"};
    call.servers = other;
    call.n_servers = 1;
    batch_init(&t, "https://ehr.example.org/fhir/r4", "tok", 300);
    assert_int_equal(fhir_fetch(&call, &t.b, &err), 0);
    assert_all(&t, MYOCDS_E_PRECONDITION);
    assert_non_null(strstr(t.items[0].reason, "issuer's fhir_servers"));
    fhir_client_free(c);
}

/* A loopback listener that never answers: the deadline ends the fetch on time, every
 * key UNAVAILABLE. */
static void test_fetch_deadline_against_a_silent_server(void **state)
{
    (void)state;
    enum { DEADLINE_MS = 200, SLACK_MS = 300 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof sa;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u/fhir", (unsigned)ntohs(sa.sin_port));
    struct fhir_client *c = client(base, DEADLINE_MS);
    struct fhir_call call = {c, "test", NULL, NULL, 0};
    struct test_batch t;
    struct myocds_err err = {0};
    batch_init(&t, base, "tok", 300);
    long long t0 = ms_now();
    assert_int_equal(fhir_fetch(&call, &t.b, &err), 0);
    long long took = ms_now() - t0;
    print_message("silent server: %lld ms for a %d ms deadline\n", took, DEADLINE_MS);
    assert_true(took >= DEADLINE_MS - 20 && took < DEADLINE_MS + SLACK_MS);
    assert_all(&t, MYOCDS_E_UNAVAILABLE);
    fhir_client_free(c);
    close(fd);
}

/* An item with an absolute URL is used as it is, but only under the fhirServer: the
 * others fail at once and never connect (the listener sees one connection, the item under
 * the server's, which the silence then ends at the deadline). */
static void test_fetch_absolute_urls_only_under_the_server(void **state)
{
    (void)state;
    enum { DEADLINE_MS = 200, N = 5 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof sa;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    unsigned port = ntohs(sa.sin_port);
    char base[64];
    char urls[N][160];
    snprintf(base, sizeof base, "http://127.0.0.1:%u/fhir", port);
    snprintf(urls[0], sizeof urls[0], "HTTP://127.0.0.1:%u/fhir/MedicationRequest?page=2", port);
    snprintf(urls[1], sizeof urls[1], "http://127.0.0.1:%u/fhirevil/MedicationRequest?page=2",
             port);
    snprintf(urls[2], sizeof urls[2], "http://localhost:%u/fhir/MedicationRequest?page=2", port);
    snprintf(urls[3], sizeof urls[3], "http://127.0.0.1:%u/fhir/%%2e%%2e/admin", port);
    snprintf(urls[4], sizeof urls[4], "http://u@127.0.0.1:%u/fhir/Medication/x", port);
    struct myocds_fetch_item items[N];
    for (size_t i = 0; i < N; i++)
        items[i] = (struct myocds_fetch_item){"medications", urls[i], NULL, 0, NULL};
    struct myocds_fetch_batch b = {base, "tok", 300, items, N};
    struct fhir_client *c = client(base, DEADLINE_MS);
    struct fhir_call call = {c, "test", NULL, NULL, 0};
    struct myocds_err err = {0};
    assert_int_equal(fhir_fetch(&call, &b, &err), 0);
    assert_int_equal(items[0].status, MYOCDS_E_UNAVAILABLE); /* under: tried, no answer */
    for (size_t i = 1; i < N; i++) {
        print_message("url %s\n", urls[i]);
        assert_int_equal(items[i].status, MYOCDS_E_PRECONDITION);
        assert_null(items[i].result);
        assert_string_equal(items[i].reason, "query URL outside the fhirServer");
    }
    int accepted = 0;
    int conn;
    assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    while ((conn = accept(fd, NULL, NULL)) >= 0 || errno == EINTR) {
        if (conn >= 0) {
            accepted++;
            close(conn);
        }
    }
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(accepted, 1);
    fhir_client_free(c);
    close(fd);
}

static void test_client_refuses_bad_allow_list(void **state)
{
    (void)state;
    static const char *const bad[] = {"https://u:p@a.org/r4", "https://a.org/r4?x=1",
                                      "ftp://a.org/r4", "a.org/r4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *const list[] = {"https://ok.example/r4", bad[i]};
        const struct fhir_client_opts o = {list, 2, NULL, 0, 3000, 1500, NULL};
        struct fhir_client *c = (struct fhir_client *)1;
        struct myocds_err err = {0};
        assert_int_equal(fhir_client_new(&o, &c, &err), -400);
        assert_null(c);
        assert_non_null(strstr(err.msg, "fhir.allowed_servers[1]"));
    }
}

static void test_client_refuses_unreadable_ca_file(void **state)
{
    (void)state;
    const char *const list[] = {"https://ok.example/r4"};
    const struct fhir_client_opts o = {list, 1, NULL, 0, 3000, 1500, "/nonexistent/ca.pem"};
    struct fhir_client *c = NULL;
    struct myocds_err err = {0};
    assert_int_equal(fhir_client_new(&o, &c, &err), -400);
    assert_null(c);
    assert_non_null(strstr(err.msg, "fhir.ca_file"));
}

static void test_config_deadline(void **state)
{
    (void)state;
    static const char json[] = "{\"fhir\":{\"allowed_servers\":[\"https://a.org/r4\"],"
                               "\"timeout_ms\":900,\"deadline_ms\":700,"
                               "\"ca_file\":\"/etc/myocds/ehr-ca.pem\"}}";
    struct cfg c;
    struct myocds_err err = {0};
    assert_int_equal(cfg_load(NULL, &c, &err), 0);
    assert_int_equal(c.fhir_deadline_ms, CFG_DEFAULT_FHIR_DEADLINE_MS);
    assert_true(c.fhir_deadline_ms < c.fhir_timeout_ms);
    cfg_free(&c);
    assert_int_equal(cfg_parse(json, sizeof json - 1, &c, &err), 0);
    assert_int_equal(c.fhir_deadline_ms, 700);
    assert_int_equal(c.fhir_timeout_ms, 900);
    assert_string_equal(c.fhir_ca_file, "/etc/myocds/ehr-ca.pem");
    cfg_free(&c);
    static const char zero[] = "{\"fhir\":{\"deadline_ms\":0}}";
    assert_int_not_equal(cfg_parse(zero, sizeof zero - 1, &c, &err), 0);
    assert_non_null(strstr(err.msg, "fhir.deadline_ms"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_under_hostile_urls),
        cmocka_unit_test(test_allow_find_picks_the_listed_server),
        cmocka_unit_test(test_base_valid),
        cmocka_unit_test(test_token_syntax),
        cmocka_unit_test(test_rel_type),
        cmocka_unit_test(test_rel_type_of_absolute_urls),
        cmocka_unit_test(test_answer_classification),
        cmocka_unit_test(test_bundle_paging),
        cmocka_unit_test(test_fetch_refused_without_connecting),
        cmocka_unit_test(test_fetch_with_empty_allow_list),
        cmocka_unit_test(test_fetch_needs_the_token),
        cmocka_unit_test(test_fetch_deadline_against_a_silent_server),
        cmocka_unit_test(test_fetch_absolute_urls_only_under_the_server),
        cmocka_unit_test(test_client_refuses_bad_allow_list),
        cmocka_unit_test(test_client_refuses_unreadable_ca_file),
        cmocka_unit_test(test_config_deadline),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = cmocka_run_group_tests_name("fhir_client", tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}

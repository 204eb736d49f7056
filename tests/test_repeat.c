/* test_repeat.c - the memory of cards shown (src/cds/repeat*.c): held within the window,
 * shown after it, a changed order is a new one, critical cards and window 0 always show,
 * the cap forgets the oldest, the stored key is a keyed hash without the patient id, the
 * shared memory (PostgreSQL's seam) and four threads. */
/* cmocka.h needs these four first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "cds/repeat.h"
#include "rules/rule.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1767225600LL /* 2026-01-01T00:00:00Z */
#define HOUR 3600L
#define PATIENT "pat-pm-027"

static const char order_40[] =
    "{\"resourceType\":\"MedicationRequest\",\"id\":\"mr-pred\",\"status\":\"draft\","
    "\"authoredOn\":\"2026-03-16T10:20:00Z\","
    "\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"http://www.nlm.nih.gov/research/"
    "umls/rxnorm\",\"code\":\"8640\",\"display\":\"prednisone\"}]},"
    "\"dosageInstruction\":[{\"timing\":{\"repeat\":{\"frequency\":1,\"period\":1,"
    "\"periodUnit\":\"d\"}},\"doseAndRate\":[{\"doseQuantity\":{\"value\":40,\"unit\":\"mg\"}}]}]}";

/* The same order as sent at order-sign: members in another order, 40.0 for 40, another
 * status and authoredOn, a dispenseRequest filled in. */
static const char order_40_signed[] =
    "{\"dosageInstruction\":[{\"doseAndRate\":[{\"doseQuantity\":{\"unit\":\"mg\",\"value\":40.0}}]"
    ","
    "\"timing\":{\"repeat\":{\"periodUnit\":\"d\",\"period\":1,\"frequency\":1}}}],"
    "\"status\":\"active\",\"authoredOn\":\"2026-03-16T10:24:00Z\",\"id\":\"mr-pred\","
    "\"dispenseRequest\":{\"quantity\":{\"value\":30}},\"resourceType\":\"MedicationRequest\","
    "\"medicationCodeableConcept\":{\"coding\":[{\"code\":\"8640\",\"display\":\"prednisone\","
    "\"system\":\"http://www.nlm.nih.gov/research/umls/rxnorm\"}]}}";

static const unsigned char secret_a[REPEAT_SECRET_BYTES] = "secret-a-secret-a-secret-a-1234";
static const unsigned char secret_b[REPEAT_SECRET_BYTES] = "secret-b-secret-b-secret-b-1234";

static void digest_of(const char *json, const char *drug, unsigned char out[REPEAT_KEY_BYTES])
{
    json_object *mr = json_tokener_parse(json);
    assert_non_null(mr);
    assert_int_equal(repeat_order_digest(mr, drug, out), 0);
    json_object_put(mr);
}

/* A key for patient pid, rule and indicator about the order of json. */
static void key_of(struct myocds_repeat *m, const char *pid, const char *rule, const char *ind,
                   const char *json, unsigned char key[REPEAT_KEY_BYTES])
{
    unsigned char d[REPEAT_KEY_BYTES];
    digest_of(json, "prednisone", d);
    const struct repeat_subject s = {"https://ehr.example.org/fhir", pid, rule, ind, d};
    assert_int_equal(repeat_key(m, &s, key), 0);
}

static void test_held_within_window_then_shown(void **state)
{
    (void)state;
    unsigned char k[REPEAT_KEY_BYTES];
    struct myocds_repeat *m = repeat_new(16, secret_a);
    assert_non_null(m);
    key_of(m, PATIENT, "steroid-monotherapy", "warning", order_40, k);
    assert_int_equal(repeat_check(m, k, HOUR, T0), REPEAT_SHOW);        /* order-select */
    assert_int_equal(repeat_check(m, k, HOUR, T0 + 60), REPEAT_HOLD);   /* order-sign */
    assert_int_equal(repeat_check(m, k, HOUR, T0 + 3599), REPEAT_HOLD); /* last second */
    assert_int_equal(repeat_check(m, k, HOUR, T0 + 3600), REPEAT_SHOW); /* window over */
    assert_int_equal(repeat_check(m, k, HOUR, T0 + 3601), REPEAT_HOLD); /* remembered anew */
    assert_int_equal(repeat_size(m), 1); /* the expired entry forgotten, not kept twice */
    assert_int_equal(repeat_check(m, k, 60, T0 + 3661), REPEAT_SHOW); /* a shorter window */
    repeat_free(m);
}

/* Empty objects and arrays inside an order are digested (and told apart from absent or
 * one-member ones) without handing qsort a NULL list. */
static void test_empty_members_digested(void **state)
{
    (void)state;
    static const char *const orders[] = {
        "{\"resourceType\":\"MedicationRequest\",\"id\":\"a\",\"dosageInstruction\":[{}]}",
        "{\"resourceType\":\"MedicationRequest\",\"id\":\"a\",\"dosageInstruction\":[]}",
        "{\"resourceType\":\"MedicationRequest\",\"id\":\"a\","
        "\"dosageInstruction\":[{\"timing\":{}}]}",
        "{\"resourceType\":\"MedicationRequest\",\"id\":\"a\"}",
    };
    unsigned char d[4][REPEAT_KEY_BYTES];
    for (size_t i = 0; i < 4; i++)
        digest_of(orders[i], "prednisone", d[i]);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = i + 1; j < 4; j++)
            assert_memory_not_equal(d[i], d[j], REPEAT_KEY_BYTES);
}

static void test_same_order_as_signed(void **state)
{
    (void)state;
    unsigned char a[REPEAT_KEY_BYTES], b[REPEAT_KEY_BYTES];
    digest_of(order_40, "prednisone", a);
    digest_of(order_40_signed, "prednisone", b);
    assert_memory_equal(a, b, REPEAT_KEY_BYTES); /* what changes between the hooks is left out */
}

/* Each changes what was ordered: a new order, a new key. */
static const struct {
    const char *from;
    const char *to;
} changes[] = {
    {"\"value\":40", "\"value\":60"},              /* the dose */
    {"\"frequency\":1", "\"frequency\":2"},        /* the schedule */
    {"\"code\":\"8640\"", "\"code\":\"8638\""},    /* the drug */
    {"\"id\":\"mr-pred\"", "\"id\":\"mr-other\""}, /* another draft */
    {"\"unit\":\"mg\"", "\"unit\":\"g\""},         /* the unit */
};

static void test_changed_order_is_new(void **state)
{
    (void)state;
    unsigned char base[REPEAT_KEY_BYTES], other[REPEAT_KEY_BYTES];
    struct myocds_repeat *m = repeat_new(16, secret_a);
    key_of(m, PATIENT, "steroid-monotherapy", "warning", order_40, base);
    assert_int_equal(repeat_check(m, base, HOUR, T0), REPEAT_SHOW);
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        char json[sizeof order_40 + 16];
        const char *at = strstr(order_40, changes[i].from);
        assert_non_null(at);
        snprintf(json, sizeof json, "%.*s%s%s", (int)(at - order_40), order_40, changes[i].to,
                 at + strlen(changes[i].from));
        key_of(m, PATIENT, "steroid-monotherapy", "warning", json, other);
        print_message("change %s -> %s\n", changes[i].from, changes[i].to);
        assert_memory_not_equal(base, other, REPEAT_KEY_BYTES);
        assert_int_equal(repeat_check(m, other, HOUR, T0 + 60), REPEAT_SHOW);
    }
    unsigned char d1[REPEAT_KEY_BYTES], d2[REPEAT_KEY_BYTES];
    digest_of(order_40, "prednisone", d1);
    digest_of(order_40, "prednisolone", d2); /* a contained Medication read otherwise */
    assert_memory_not_equal(d1, d2, REPEAT_KEY_BYTES);
    /* Another patient, rule, indicator or FHIR server: another key. */
    key_of(m, "pat-other", "steroid-monotherapy", "warning", order_40, other);
    assert_memory_not_equal(base, other, REPEAT_KEY_BYTES);
    key_of(m, PATIENT, "pjp-prophylaxis", "warning", order_40, other);
    assert_memory_not_equal(base, other, REPEAT_KEY_BYTES);
    key_of(m, PATIENT, "steroid-monotherapy", "info", order_40, other);
    assert_memory_not_equal(base, other, REPEAT_KEY_BYTES);
    const struct repeat_subject s = {"https://other.example/fhir", PATIENT, "steroid-monotherapy",
                                     "warning", d1};
    assert_int_equal(repeat_key(m, &s, other), 0);
    assert_memory_not_equal(base, other, REPEAT_KEY_BYTES);
    assert_int_equal(repeat_check(m, base, HOUR, T0 + 60), REPEAT_HOLD); /* still held */
    repeat_free(m);
}

static void test_window_zero_always_shows(void **state)
{
    (void)state;
    unsigned char k[REPEAT_KEY_BYTES];
    struct myocds_repeat *m = repeat_new(16, secret_a);
    key_of(m, PATIENT, "steroid-monotherapy", "warning", order_40, k);
    for (int i = 0; i < 3; i++)
        assert_int_equal(repeat_check(m, k, 0, T0 + i), REPEAT_SHOW);
    assert_int_equal(repeat_size(m), 0); /* nothing remembered */
    assert_int_equal(repeat_check(NULL, k, HOUR, T0), REPEAT_SHOW);
    repeat_free(m);
}

static void test_cap_forgets_oldest(void **state)
{
    (void)state;
    unsigned char k[6][REPEAT_KEY_BYTES];
    struct myocds_repeat *m = repeat_new(4, secret_a);
    for (int i = 0; i < 6; i++) {
        char pid[16];
        snprintf(pid, sizeof pid, "pat-%d", i);
        key_of(m, pid, "steroid-monotherapy", "warning", order_40, k[i]);
    }
    for (int i = 0; i < 5; i++)
        assert_int_equal(repeat_check(m, k[i], HOUR, T0 + i), REPEAT_SHOW);
    assert_int_equal(repeat_size(m), 4); /* never past the cap */
    assert_int_equal(repeat_check(m, k[4], HOUR, T0 + 10), REPEAT_HOLD);
    assert_int_equal(repeat_check(m, k[1], HOUR, T0 + 10), REPEAT_HOLD);
    /* The oldest was forgotten: it shows again (failing open), and takes k[1]'s place. */
    assert_int_equal(repeat_check(m, k[0], HOUR, T0 + 10), REPEAT_SHOW);
    assert_int_equal(repeat_check(m, k[1], HOUR, T0 + 11), REPEAT_SHOW);
    assert_int_equal(repeat_size(m), 4);
    /* Once every window is over, a new entry forgets the expired ones. */
    assert_int_equal(repeat_check(m, k[5], HOUR, T0 + 2 * HOUR), REPEAT_SHOW);
    assert_int_equal(repeat_size(m), 1);
    assert_null(repeat_new(0, secret_a));
    repeat_free(m);
    repeat_free(NULL);
}

static bool contains(const unsigned char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

static void test_stored_key_is_keyed_hash(void **state)
{
    (void)state;
    unsigned char k[REPEAT_KEY_BYTES], d[REPEAT_KEY_BYTES], again[REPEAT_KEY_BYTES];
    unsigned char stored[4][REPEAT_KEY_BYTES];
    unsigned char plain[EVP_MAX_MD_SIZE];
    unsigned plain_len = 0;
    struct myocds_repeat *m = repeat_new(16, secret_a);
    struct myocds_repeat *other = repeat_new(16, secret_b);
    struct myocds_repeat *random1 = repeat_new(16, NULL);
    struct myocds_repeat *random2 = repeat_new(16, NULL);
    key_of(m, PATIENT, "steroid-monotherapy", "warning", order_40, k);
    assert_int_equal(repeat_check(m, k, HOUR, T0), REPEAT_SHOW);
    assert_int_equal(repeat_keys(m, stored, 4), 1);
    assert_memory_equal(stored[0], k, REPEAT_KEY_BYTES);
    assert_false(contains(stored[0], REPEAT_KEY_BYTES, PATIENT));
    assert_false(contains(stored[0], REPEAT_KEY_BYTES, "pat-"));
    /* Not a plain hash of the patient id... */
    EVP_Digest(PATIENT, strlen(PATIENT), plain, &plain_len, EVP_sha256(), NULL);
    assert_memory_not_equal(stored[0], plain, REPEAT_KEY_BYTES);
    /* ...but HMAC-SHA256 under the memory's secret: another secret, another key. */
    digest_of(order_40, "prednisone", d);
    const struct repeat_subject s = {"https://ehr.example.org/fhir", PATIENT, "steroid-monotherapy",
                                     "warning", d};
    assert_int_equal(repeat_hmac(secret_a, &s, again), 0);
    assert_memory_equal(again, k, REPEAT_KEY_BYTES);
    assert_int_equal(repeat_key(other, &s, again), 0);
    assert_memory_not_equal(again, k, REPEAT_KEY_BYTES);
    unsigned char r1[REPEAT_KEY_BYTES], r2[REPEAT_KEY_BYTES];
    assert_int_equal(repeat_key(random1, &s, r1), 0);
    assert_int_equal(repeat_key(random2, &s, r2), 0);
    assert_memory_not_equal(r1, r2, REPEAT_KEY_BYTES); /* each process its own secret */
    const struct repeat_subject no_patient = {NULL, "", "steroid-monotherapy", "warning", d};
    assert_int_equal(repeat_key(m, &no_patient, again), -1);
    repeat_free(m);
    repeat_free(other);
    repeat_free(random1);
    repeat_free(random2);
}

/* ---- repeat_hold over a card list: which cards may be held at all ---- */

static struct term_drug prednisone = {.id = "prednisone", .display = "prednisone"};

struct hold_env {
    json_object *mr;
    struct rule_conf conf;
    struct rule_conf conf_always;
    struct view_med draft;
    struct view_med active;
};

static void env_init(struct hold_env *e)
{
    memset(e, 0, sizeof *e);
    e->mr = json_tokener_parse(order_40);
    e->conf = (struct rule_conf){.id = "steroid-monotherapy", .enabled = true};
    e->conf_always =
        (struct rule_conf){.id = "iga-before-ivig", .enabled = true, .repeat_always = true};
    e->draft = (struct view_med){.id = "mr-pred", .res = e->mr, .drug = &prednisone};
    e->draft.ordered = true;
    e->active = e->draft;
    e->active.ordered = false;
}

static void env_free(struct hold_env *e)
{
    json_object_put(e->mr);
}

/* A list of n cards (indicators ind[i], about orders about[i], confs conf[i]). */
static void make_cards(struct card_list *l, int n, const char *const *ind,
                       const struct view_med *const *about, const struct rule_conf *const *conf)
{
    l->v = calloc((size_t)n, sizeof *l->v);
    assert_non_null(l->v);
    l->n = l->cap = n;
    for (int i = 0; i < n; i++) {
        l->v[i].rule_id = conf[i]->id;
        l->v[i].indicator = ind[i];
        l->v[i].order = about[i];
        l->v[i].conf = conf[i];
        l->v[i].detail = strdup("detail");
    }
}

static int hold(struct myocds_repeat *m, enum cds_hook hook, long window, long long now,
                struct card_list *l)
{
    const struct repeat_call call = {
        m,    window, now, hook, "https://ehr.example.org/fhir", PATIENT, "myositis-order-sign",
        NULL, NULL};
    return repeat_hold(&call, l);
}

static void test_hold_only_warnings_about_drafts(void **state)
{
    (void)state;
    struct hold_env e;
    env_init(&e);
    struct myocds_repeat *m = repeat_new(64, secret_a);
    const char *const ind[] = {"warning", "critical", "info", "warning", "warning"};
    const struct view_med *const about[] = {&e.draft, &e.draft, &e.draft, &e.active, NULL};
    const struct rule_conf *const conf[] = {&e.conf, &e.conf, &e.conf, &e.conf, &e.conf_always};
    for (int round = 0; round < 3; round++) {
        struct card_list l;
        make_cards(&l, 5, ind, about, conf);
        int held = hold(m, HOOK_ORDER_SIGN, HOUR, T0 + round, &l);
        print_message("round %d: %d held\n", round, held);
        if (round == 0) {
            assert_int_equal(held, 0); /* first sight: every card */
            assert_int_equal(l.n, 5);
        } else {
            /* the warning and the info about the draft are held; critical, the card about
             * an active order and the card with no order stay */
            assert_int_equal(held, 2);
            assert_int_equal(l.n, 3);
            assert_string_equal(l.v[0].indicator, "critical");
            assert_ptr_equal(l.v[1].order, &e.active);
            assert_null(l.v[2].order);
        }
        card_list_free(&l);
    }
    /* patient-view never holds; neither does window 0 */
    for (int k = 0; k < 2; k++) {
        struct card_list l;
        make_cards(&l, 5, ind, about, conf);
        assert_int_equal(
            hold(m, k == 0 ? HOOK_PATIENT_VIEW : HOOK_ORDER_SIGN, k == 0 ? HOUR : 0, T0 + 10, &l),
            0);
        assert_int_equal(l.n, 5);
        card_list_free(&l);
    }
    repeat_free(m);
    env_free(&e);
}

static void test_hold_rule_always(void **state)
{
    (void)state;
    struct hold_env e;
    env_init(&e);
    struct myocds_repeat *m = repeat_new(64, secret_a);
    const char *const ind[] = {"warning", "warning"};
    const struct view_med *const about[] = {&e.draft, &e.draft};
    const struct rule_conf *const conf[] = {&e.conf, &e.conf_always};
    for (int round = 0; round < 2; round++) {
        struct card_list l;
        make_cards(&l, 2, ind, about, conf);
        int held = hold(m, round == 0 ? HOOK_ORDER_SELECT : HOOK_ORDER_SIGN, HOUR, T0 + round, &l);
        assert_int_equal(held, round == 0 ? 0 : 1);
        assert_string_equal(l.v[l.n - 1].rule_id, "iga-before-ivig"); /* "repeat": "always" */
        card_list_free(&l);
    }
    /* Two cards of one answer with the same key share one verdict: both show at first. */
    const char *const same_ind[] = {"warning", "warning"};
    const struct rule_conf *const same_conf[] = {&e.conf, &e.conf};
    struct myocds_repeat *m2 = repeat_new(64, secret_a);
    struct card_list l;
    make_cards(&l, 2, same_ind, about, same_conf);
    assert_int_equal(hold(m2, HOOK_ORDER_SELECT, HOUR, T0, &l), 0);
    card_list_free(&l);
    repeat_free(m2);
    repeat_free(m);
    env_free(&e);
}

/* ---- the shared memory (PostgreSQL's seam) ---- */

struct fake_shared {
    int calls;
    int fail;  /* answer failure */
    bool seen; /* answer seen */
};

static int fake_shared_fn(void *ctx, const unsigned char key[REPEAT_KEY_BYTES], long window_s,
                          bool *seen)
{
    struct fake_shared *f = ctx;
    (void)key;
    (void)window_s;
    f->calls++;
    *seen = f->seen;
    return f->fail ? -1 : 0;
}

static void test_shared_memory(void **state)
{
    (void)state;
    unsigned char k1[REPEAT_KEY_BYTES], k2[REPEAT_KEY_BYTES], k3[REPEAT_KEY_BYTES];
    struct fake_shared f = {0, 0, true};
    struct myocds_repeat *m = repeat_new(16, secret_a);
    repeat_set_shared(m, fake_shared_fn, &f);
    key_of(m, "pat-1", "steroid-monotherapy", "warning", order_40, k1);
    key_of(m, "pat-2", "steroid-monotherapy", "warning", order_40, k2);
    key_of(m, "pat-3", "steroid-monotherapy", "warning", order_40, k3);
    /* Another replica showed it: held, and not copied into this memory. */
    assert_int_equal(repeat_check(m, k1, HOUR, T0), REPEAT_HOLD);
    assert_int_equal(f.calls, 1);
    assert_int_equal(repeat_size(m), 0);
    /* Nobody showed it: shown, remembered here too; the next check stays local. */
    f.seen = false;
    assert_int_equal(repeat_check(m, k2, HOUR, T0), REPEAT_SHOW);
    assert_int_equal(repeat_check(m, k2, HOUR, T0 + 1), REPEAT_HOLD);
    assert_int_equal(f.calls, 2);
    /* The shared memory fails: the card shows (fail open), and for a while only this
     * memory is asked. */
    f.fail = 1;
    f.seen = true;
    assert_int_equal(repeat_check(m, k3, HOUR, T0 + 2), REPEAT_SHOW);
    assert_int_equal(f.calls, 3);
    assert_int_equal(repeat_check(m, k1, HOUR, T0 + 3), REPEAT_SHOW);
    assert_int_equal(f.calls, 3);                                     /* paused */
    assert_int_equal(repeat_check(m, k3, HOUR, T0 + 4), REPEAT_HOLD); /* shown here */
    repeat_free(m);
}

/* ---- four threads ---- */

#define THREADS 4
#define PER_THREAD 2000

struct worker {
    struct myocds_repeat *m;
    int id;
    int shown;
    int held;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < PER_THREAD; i++) {
            unsigned char k[REPEAT_KEY_BYTES] = {0};
            int v = w->id * PER_THREAD + i;
            memcpy(k, &v, sizeof v); /* distinct keys, spread over the buckets */
            k[8] = (unsigned char)w->id;
            if (repeat_check(w->m, k, HOUR, T0 + round) == REPEAT_SHOW)
                w->shown++;
            else
                w->held++;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    struct worker w[THREADS];
    struct myocds_repeat *m = repeat_new(THREADS * PER_THREAD, secret_a);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){m, i, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].shown, PER_THREAD); /* each key shown once... */
        assert_int_equal(w[i].held, PER_THREAD);  /* ...and held the second time */
    }
    assert_int_equal(repeat_size(m), THREADS * PER_THREAD);
    repeat_free(m);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_held_within_window_then_shown),
        cmocka_unit_test(test_same_order_as_signed),
        cmocka_unit_test(test_empty_members_digested),
        cmocka_unit_test(test_changed_order_is_new),
        cmocka_unit_test(test_window_zero_always_shows),
        cmocka_unit_test(test_cap_forgets_oldest),
        cmocka_unit_test(test_stored_key_is_keyed_hash),
        cmocka_unit_test(test_hold_only_warnings_about_drafts),
        cmocka_unit_test(test_hold_rule_always),
        cmocka_unit_test(test_shared_memory),
        cmocka_unit_test(test_threads),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("repeat", tests, NULL, NULL);
}

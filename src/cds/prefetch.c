/* prefetch.c - make sure every prefetch key has data, fetching what the EHR left out.
 *
 * A key is missing when it is absent, holds an OperationOutcome (the EHR's own fetch
 * failed) or a searchset with an error or fatal OperationOutcome entry; a searchset with
 * a next link is incomplete. null means "no data", and a searchset whose outcome has only
 * warnings or information (Epic's 4101 "no results") is data. Then the Medications that
 * the request's MedicationRequests point at and the request does not hold are read too.
 * Everything goes out in one batch through the fetcher seam (opts->fetch): the missing
 * keys, the rest of each incomplete searchset from its next link (appended to it) and the
 * Medications (into the reserved key CDS_PREFETCH_MEDS). A key that stays without data,
 * or incomplete, is missing: the rules that need its kind of data do not run.
 *
 * With an access token, only what its scope permits is asked for (fhir/scope.h): a key's
 * template read needs the type's r, a search and the next pages of a searchset its s (an
 * _include'd type needs nothing more), a Medication read Medication r. A key the scope
 * does not cover is missing, as one the server refused, with no request made; a
 * Medication it does not cover is not read. Prefetched data is used as the EHR sent it,
 * whatever the scope. Without a token (a server readable without one) no scope applies.
 */
#include "cds/request.h"
#include "fhir/client.h"
#include "fhir/fhir.h"
#include "fhir/ref.h"
#include "fhir/scope.h"
#include "util/json.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFETCH_URL_MAX 2048
#define PREFETCH_KEYS_MAX 16 /* keys fetched or completed per call */
#define PREFETCH_MEDS_MAX 16 /* Medications read per call (distinct ids) */
#define PREFETCH_ITEMS_MAX (PREFETCH_KEYS_MAX + PREFETCH_MEDS_MAX)
#define PREFETCH_WHY_MAX 160
#define PREFETCH_NOT_IN_SCOPE "the access token's scope does not permit it"

/* The value of one template token, or NULL. */
static const char *token_value(const struct cds_request *req, const char *name, size_t n)
{
    static const struct {
        const char *token;
        const char *type;
    } user[] = {{"userPractitionerId", "Practitioner"},
                {"userPractitionerRoleId", "PractitionerRole"},
                {"userPatientId", "Patient"},
                {"userRelatedPersonId", "RelatedPerson"}};
    char key[64];
    if (n > 8 && strncmp(name, "context.", 8) == 0 && n - 8 < sizeof key) {
        memcpy(key, name + 8, n - 8);
        key[n - 8] = '\0';
        return json_get_str(req->context, key);
    }
    for (size_t i = 0; i < sizeof user / sizeof user[0]; i++)
        if (strlen(user[i].token) == n && strncmp(name, user[i].token, n) == 0)
            return fhir_ref_id(req->user_id, user[i].type);
    return NULL;
}

int cds_render_template(const struct cds_request *req, const char *tmpl, char *buf, size_t cap)
{
    size_t len = 0;
    for (const char *p = tmpl; *p != '\0';) {
        const char *open = strstr(p, "{{");
        const char *close = open != NULL ? strstr(open, "}}") : NULL;
        size_t lit = open != NULL && close != NULL ? (size_t)(open - p) : strlen(p);
        if (len + lit >= cap)
            return -1;
        memcpy(buf + len, p, lit);
        len += lit;
        if (open == NULL || close == NULL)
            break;
        const char *value = token_value(req, open + 2, (size_t)(close - open - 2));
        char *escaped = value != NULL ? curl_easy_escape(NULL, value, 0) : NULL;
        size_t n = escaped != NULL ? strlen(escaped) : 0;
        if (escaped == NULL || len + n >= cap) {
            curl_free(escaped);
            return -1;
        }
        memcpy(buf + len, escaped, n);
        len += n;
        curl_free(escaped);
        p = close + 2;
    }
    buf[len] = '\0';
    return 0;
}

/* What a prefetch key holds. */
enum key_state {
    KEY_DATA,    /* data (null included) */
    KEY_ABSENT,  /* not sent */
    KEY_OUTCOME, /* an OperationOutcome: the EHR's own read failed */
    KEY_FAILED,  /* a Bundle with an error or fatal OperationOutcome entry */
    KEY_PARTIAL, /* a Bundle with a next link: more pages on the server */
};

/* True when res is an OperationOutcome with an issue of severity error or fatal. */
static bool outcome_failed(const json_object *res)
{
    const char *type = fhir_type(res);
    json_object *issues = json_get_arr(res, "issue");
    size_t n = issues != NULL ? json_object_array_length(issues) : 0;
    if (type == NULL || strcmp(type, "OperationOutcome") != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *sev = json_get_str(json_object_array_get_idx(issues, i), "severity");
        if (sev != NULL && (strcmp(sev, "error") == 0 || strcmp(sev, "fatal") == 0))
            return true;
    }
    return false;
}

/* True when an entry of bundle holds a failed OperationOutcome (search.mode "outcome" or
 * not: an error about the search is no record either way). */
static bool bundle_failed(const json_object *bundle)
{
    json_object *entries = json_get_arr(bundle, "entry");
    size_t n = entries != NULL ? json_object_array_length(entries) : 0;
    for (size_t i = 0; i < n; i++)
        if (outcome_failed(json_get_obj(json_object_array_get_idx(entries, i), "resource")))
            return true;
    return false;
}

/* True when bundle has a link of relation "next", whatever its url. */
static bool has_next(const json_object *bundle)
{
    json_object *links = json_get_arr(bundle, "link");
    size_t n = links != NULL ? json_object_array_length(links) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *rel = json_get_str(json_object_array_get_idx(links, i), "relation");
        if (rel != NULL && strcmp(rel, "next") == 0)
            return true;
    }
    return false;
}

/* The state of the value v (borrowed; NULL for json null). */
static enum key_state value_state(const json_object *v)
{
    const char *type = v != NULL ? fhir_type(v) : NULL;
    if (type == NULL)
        return KEY_DATA; /* null: the EHR found no data */
    if (strcmp(type, "OperationOutcome") == 0)
        return KEY_OUTCOME;
    if (strcmp(type, "Bundle") != 0)
        return KEY_DATA;
    if (bundle_failed(v))
        return KEY_FAILED;
    return has_next(v) ? KEY_PARTIAL : KEY_DATA;
}

/* The state of key in prefetch; *value is its value (borrowed), NULL when absent. */
static enum key_state key_state(json_object *prefetch, const char *key, json_object **value)
{
    *value = NULL;
    if (!json_object_object_get_ex(prefetch, key, value))
        return KEY_ABSENT;
    return value_state(*value);
}

static const char *state_phrase(enum key_state st)
{
    switch (st) {
    case KEY_OUTCOME:
        return "is an OperationOutcome";
    case KEY_FAILED:
        return "holds an error OperationOutcome";
    case KEY_PARTIAL:
        return "is incomplete (a next page)";
    default:
        return "is missing";
    }
}

/* The kind of data a template asks for, from the resource type it starts with. */
static unsigned template_kind(const char *tmpl)
{
    static const struct {
        const char *prefix;
        unsigned kind;
    } kinds[] = {{"Patient/", DATA_PATIENT},
                 {"Condition?", DATA_CONDITIONS},
                 {"MedicationRequest?", DATA_MEDICATIONS},
                 {"Observation?", DATA_OBSERVATIONS},
                 {"AllergyIntolerance?", DATA_ALLERGIES},
                 {"Procedure?", DATA_PROCEDURES},
                 {"ServiceRequest?", DATA_PROCEDURES}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strncmp(tmpl, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
            return kinds[i].kind;
    return 0;
}

/* Records that key stays without (all its) data; the first reason is kept for the answer,
 * unless a failure (503) comes after refusals. key and why are borrowed. */
static void mark_missing(struct cds_request *req, const char *tmpl, int status, const char *key,
                         const char *why)
{
    if (req->missing == 0 || (status == 503 && req->missing_err.http_status != 503))
        myocds_err_set(&req->missing_err, status, "prefetch '%.40s' %s", key, why);
    req->missing |= template_kind(tmpl);
}

/* mark_missing with the reason "<state> and <how>" or "<state> and could not be fetched:
 * <how>". */
static void mark_state(struct cds_request *req, const char *tmpl, int status, const char *key,
                       enum key_state st, bool tried, const char *how)
{
    char why[PREFETCH_WHY_MAX];
    snprintf(why, sizeof why, "%s and %s%s", state_phrase(st),
             tried || st == KEY_PARTIAL ? "could not be fetched: " : "", how);
    mark_missing(req, tmpl, status, key, why);
}

/* Why nothing can be fetched for this request, or NULL when a fetch may be tried. */
static const char *no_fetch_reason(const struct cds_request *req,
                                   const struct myocds_eval_opts *opts)
{
    if (opts == NULL || opts->fetch == NULL)
        return "this run does not fetch";
    if (req->fhir_server == NULL)
        return "the request names no fhirServer";
    if (req->access_token != NULL && req->expires_in <= 0)
        return "the access token has expired";
    return NULL;
}

/* ---- the batch ------------------------------------------------------------------------ */

enum item_kind {
    ITEM_KEY,  /* a missing key, fetched whole from its template */
    ITEM_REST, /* the pages after an incomplete searchset's first, from its next link */
    ITEM_MED,  /* one Medication read */
};

struct item_meta {
    enum item_kind kind;
    enum key_state state;         /* ITEM_KEY: why the key is fetched */
    bool absolute;                /* ITEM_MED: read by the reference's absolute URL */
    char med_id[FHIR_ID_MAX + 1]; /* ITEM_MED: the id asked for */
};

/* Every item of one call. URLs are rendered into urls/med_urls, or borrowed from the
 * request's tree (next links, absolute references), which outlives the batch. scopes is
 * what the access token permits, when scoped (a request with a token). */
struct pf_batch {
    struct myocds_fetch_item items[PREFETCH_ITEMS_MAX];
    struct item_meta meta[PREFETCH_ITEMS_MAX];
    char urls[PREFETCH_KEYS_MAX][PREFETCH_URL_MAX];
    char med_urls[PREFETCH_MEDS_MAX][FHIR_TYPE_ID_MAX + sizeof "Medication/"];
    size_t n;      /* items */
    size_t n_keys; /* ITEM_KEY and ITEM_REST items */
    size_t n_meds; /* ITEM_MED items */
    bool scoped;
    struct scopes scopes;
};

static void add_item(struct pf_batch *pf, const char *key, const char *url, struct item_meta m)
{
    pf->items[pf->n] = (struct myocds_fetch_item){key, url, NULL, 0, NULL};
    pf->meta[pf->n] = m;
    pf->n++;
    if (m.kind == ITEM_MED)
        pf->n_meds++;
    else
        pf->n_keys++;
}

/* A missing key: fetched from its rendered template when possible, else missing. */
static void plan_key(struct cds_request *req, struct pf_batch *pf, const char *key,
                     const char *tmpl, enum key_state st, const char *no_fetch)
{
    if (no_fetch != NULL || pf->n_keys == PREFETCH_KEYS_MAX) {
        mark_state(req, tmpl, 412, key, st, false,
                   no_fetch != NULL ? no_fetch : "it is one key too many to fetch");
        return;
    }
    char *url = pf->urls[pf->n_keys];
    if (cds_render_template(req, tmpl, url, PREFETCH_URL_MAX) != 0)
        mark_state(req, tmpl, 412, key, st, false, "cannot be rendered from the context");
    else if (pf->scoped && !scope_permits_url(&pf->scopes, url))
        mark_state(req, tmpl, 412, key, st, false, PREFETCH_NOT_IN_SCOPE);
    else
        add_item(pf, key, url, (struct item_meta){.kind = ITEM_KEY, .state = st});
}

/* True when the scope permits the next page next (borrowed) of the search tmpl (borrowed):
 * a search of the template's type, with the next link's query. */
static bool next_permitted(const struct pf_batch *pf, const char *tmpl, const char *next)
{
    char type[FHIR_TYPE_MAX];
    size_t n = strcspn(tmpl, "/?");
    const char *q = strchr(next, '?');
    if (!pf->scoped)
        return true;
    if (n >= sizeof type)
        return false;
    memcpy(type, tmpl, n);
    type[n] = '\0';
    return scope_permits(&pf->scopes, type, true, q != NULL ? q + 1 : NULL);
}

/* An incomplete searchset: the rest fetched from its next link when possible (an absolute
 * URL under the fhirServer, a search the scope permits), else the key is missing. */
static void plan_rest(struct cds_request *req, struct pf_batch *pf, const char *key,
                      const char *tmpl, const json_object *bundle, const char *no_fetch)
{
    const char *next = fhir_bundle_next(bundle);
    const char *why = no_fetch;
    if (why == NULL && pf->n_keys == PREFETCH_KEYS_MAX)
        why = "it is one key too many to fetch";
    else if (why == NULL && (next == NULL || !fhir_url_absolute(next)))
        why = "the next link is not an absolute URL";
    else if (why == NULL &&
             (strlen(next) >= FHIR_URL_MAX || !fhir_url_under(req->fhir_server, next)))
        why = "the next page lies outside the fhirServer";
    else if (why == NULL && !next_permitted(pf, tmpl, next))
        why = PREFETCH_NOT_IN_SCOPE;
    if (why != NULL)
        mark_state(req, tmpl, 412, key, KEY_PARTIAL, true, why);
    else
        add_item(pf, key, next, (struct item_meta){.kind = ITEM_REST, .state = KEY_PARTIAL});
}

/* Plans every prefetch key of svc that is missing or incomplete. */
static void plan_keys(struct cds_request *req, const struct cds_service *svc, struct pf_batch *pf,
                      const char *no_fetch)
{
    if (svc->prefetch == NULL)
        return; /* json-c's foreach must not see NULL */
    json_object_object_foreach(svc->prefetch, key, tmpl)
    {
        const char *t = json_object_get_string(tmpl);
        json_object *v = NULL;
        enum key_state st = key_state(req->prefetch, key, &v);
        if (st == KEY_PARTIAL)
            plan_rest(req, pf, key, t, v, no_fetch);
        else if (st != KEY_DATA)
            plan_key(req, pf, key, t, st, no_fetch);
    }
}

/* ---- Medications the request points at but does not hold ------------------------------ */

struct med_scan {
    const struct cds_request *req;
    struct pf_batch *pf;
    struct fhir_index *ix; /* every Medication of the request, by type/id and fullUrl */
};

static int index_med(json_object *res, const char *type, const struct fhir_entry *entry, void *ctx)
{
    struct med_scan *s = ctx;
    if (strcmp(type, "Medication") != 0)
        return 0;
    return fhir_index_add(s->ix, res, type, entry->full_url);
}

static bool med_planned(const struct pf_batch *pf, const char *id)
{
    for (size_t i = 0; i < pf->n; i++)
        if (pf->meta[i].kind == ITEM_MED && strcmp(pf->meta[i].med_id, id) == 0)
            return true;
    return false;
}

/* Plans the read of the Medication ref names: "Medication/<id>" for a relative
 * reference, the reference itself for an absolute one under the fhirServer; nothing for
 * any other, one already planned, past the cap, or when the scope permits no Medication
 * read. */
static void plan_med(struct med_scan *s, const struct fhir_ref *ref)
{
    struct pf_batch *pf = s->pf;
    bool absolute = ref->kind == FHIR_REF_ABSOLUTE;
    if ((ref->kind != FHIR_REF_RELATIVE && !absolute) || strcmp(ref->type, "Medication") != 0 ||
        pf->n_meds == PREFETCH_MEDS_MAX || med_planned(pf, ref->id) ||
        (pf->scoped && !scope_permits(&pf->scopes, "Medication", false, NULL)))
        return;
    if (absolute &&
        (strlen(ref->text) >= FHIR_URL_MAX || !fhir_url_under(s->req->fhir_server, ref->text)))
        return;
    char *url = pf->med_urls[pf->n_meds];
    snprintf(url, sizeof pf->med_urls[0], "Medication/%s", ref->id);
    struct item_meta m = {.kind = ITEM_MED, .absolute = absolute};
    memcpy(m.med_id, ref->id, sizeof m.med_id);
    add_item(pf, CDS_PREFETCH_MEDS, absolute ? ref->text : url, m);
}

/* A MedicationRequest whose medicationReference resolves to no Medication of the request
 * (not contained in it, none by fullUrl or type/id anywhere) gets its Medication read. */
static int want_med(json_object *res, const char *type, const struct fhir_entry *entry, void *ctx)
{
    struct med_scan *s = ctx;
    struct fhir_ref ref;
    (void)entry;
    if (strcmp(type, "MedicationRequest") == 0 &&
        fhir_ref_parse(json_get_str(json_get_obj(res, "medicationReference"), "reference"), &ref) &&
        fhir_ref_resolve(&ref, "Medication", res, s->ix) == NULL)
        plan_med(s, &ref);
    return 0;
}

/* Runs fn over the draft orders and every prefetch value that holds data (a value to be
 * fetched again is not looked at: the fetch replaces it). Stops at a non-zero return. */
static int each_known(const struct cds_request *req, fhir_each_fn fn, struct med_scan *s)
{
    int rc = fhir_each_resource(req->draft_orders, fn, s);
    json_object_object_foreach(req->prefetch, key, v)
    {
        enum key_state st = value_state(v);
        (void)key;
        if (rc == 0 && st != KEY_OUTCOME && st != KEY_FAILED)
            rc = fhir_each_resource(v, fn, s);
    }
    return rc;
}

/* Plans the Medication reads of the MedicationRequests in the draft orders and in the
 * prefetch values (what the fetch brings is not looked at: no second round). Only with
 * an access token: a Medication is never read without one. -1 when out of memory. */
static int plan_meds(const struct cds_request *req, struct pf_batch *pf)
{
    struct med_scan s = {req, pf, fhir_index_new()};
    int rc = s.ix != NULL ? each_known(req, index_med, &s) : -1;
    if (rc == 0)
        each_known(req, want_med, &s);
    fhir_index_free(s.ix);
    return rc;
}

/* ---- the answers ---------------------------------------------------------------------- */

/* Appends {fullUrl?, resource: med} to *entries (created on first use); med is taken.
 * full_url (borrowed) may be NULL. A failure only loses med. */
static void add_med_entry(json_object **entries, json_object *med, const char *full_url)
{
    json_object *e = json_object_new_object();
    if (*entries == NULL)
        *entries = json_object_new_array();
    if (e == NULL || *entries == NULL ||
        (full_url != NULL &&
         json_object_object_add(e, "fullUrl", json_object_new_string(full_url)) != 0) ||
        json_object_object_add(e, "resource", med) != 0) {
        json_object_put(med);
        json_object_put(e);
        return;
    }
    if (json_object_array_add(*entries, e) != 0)
        json_object_put(e);
}

/* The Medications read go into req->prefetch[CDS_PREFETCH_MEDS], a collection Bundle
 * (replacing whatever the EHR sent under that name). Only a Medication with the id asked
 * for is kept; a failed read marks nothing missing. Runs before take_keys: the absolute
 * URLs it copies are borrowed from the request's tree. */
static void take_meds(struct cds_request *req, struct pf_batch *pf)
{
    json_object *entries = NULL;
    for (size_t i = 0; i < pf->n; i++) {
        struct myocds_fetch_item *it = &pf->items[i];
        json_object *res = it->result;
        const char *type = fhir_type(res);
        const char *id = json_get_str(res, "id");
        if (pf->meta[i].kind != ITEM_MED)
            continue;
        it->result = NULL;
        if (it->status == 0 && type != NULL && strcmp(type, "Medication") == 0 && id != NULL &&
            strcmp(id, pf->meta[i].med_id) == 0)
            add_med_entry(&entries, res, pf->meta[i].absolute ? it->relative_url : NULL);
        else
            json_object_put(res);
    }
    if (entries == NULL)
        return;
    json_object *b = json_object_new_object();
    if (b == NULL ||
        json_object_object_add(b, "resourceType", json_object_new_string("Bundle")) != 0 ||
        json_object_object_add(b, "type", json_object_new_string("collection")) != 0 ||
        json_object_object_add(b, "entry", entries) != 0) {
        json_object_put(b);
        json_object_put(entries);
        return;
    }
    if (json_object_object_add(req->prefetch, CDS_PREFETCH_MEDS, b) != 0)
        json_object_put(b);
}

/* The reason of a failed item. */
static const char *fail_reason(const struct myocds_fetch_item *it)
{
    if (it->reason != NULL)
        return it->reason;
    return it->status == MYOCDS_E_UNAVAILABLE ? "the FHIR server failed"
                                              : "the FHIR server refused";
}

/* The rest of an incomplete searchset: appended to the prefetched Bundle, which then holds
 * every page; else the key is missing. */
static void take_rest(struct cds_request *req, const char *tmpl, struct myocds_fetch_item *it)
{
    json_object *acc = NULL;
    const char *type = fhir_type(it->result);
    int status = it->status == MYOCDS_E_UNAVAILABLE ? 503 : 412;
    const char *why = it->status != 0 ? fail_reason(it) : NULL;
    json_object_object_get_ex(req->prefetch, it->key, &acc);
    if (why == NULL && (type == NULL || strcmp(type, "Bundle") != 0)) {
        status = 503;
        why = "the next page is not a Bundle";
    } else if (why == NULL && bundle_failed(it->result)) {
        status = 503;
        why = "a next page holds an error OperationOutcome";
    } else if (why == NULL && fhir_bundle_append(acc, it->result) != 0) {
        status = 503;
        why = "out of memory";
    }
    json_object_put(it->result);
    it->result = NULL;
    if (why == NULL)
        fhir_bundle_merged(acc);
    else
        mark_state(req, tmpl, status, it->key, KEY_PARTIAL, true, why);
}

/* The missing keys and the rests of the incomplete ones. */
static void take_keys(struct cds_request *req, const struct cds_service *svc, struct pf_batch *pf)
{
    for (size_t i = 0; i < pf->n; i++) {
        struct myocds_fetch_item *it = &pf->items[i];
        const char *tmpl =
            json_object_get_string(json_get(svc->prefetch, it->key, json_type_string));
        if (pf->meta[i].kind == ITEM_REST) {
            take_rest(req, tmpl, it);
        } else if (pf->meta[i].kind == ITEM_KEY && it->status == 0 && it->result != NULL &&
                   value_state(it->result) != KEY_FAILED) {
            json_object_object_add(req->prefetch, it->key, it->result);
            it->result = NULL;
        } else if (pf->meta[i].kind == ITEM_KEY) {
            bool failed = it->status == 0 && it->result != NULL; /* an error outcome inside */
            json_object_put(it->result);
            it->result = NULL;
            mark_state(req, tmpl, failed || it->status == MYOCDS_E_UNAVAILABLE ? 503 : 412, it->key,
                       pf->meta[i].state, true,
                       failed ? "the answer holds an error OperationOutcome" : fail_reason(it));
        }
    }
}

int cds_request_resolve(struct cds_request *req, const struct cds_service *svc,
                        const struct myocds_eval_opts *opts, struct myocds_err *err)
{
    const char *no_fetch = no_fetch_reason(req, opts);
    struct pf_batch *pf = calloc(1, sizeof *pf);
    int rc = 0;
    if (pf == NULL)
        return myocds_err_set(err, 500, "out of memory");
    pf->scoped = req->access_token != NULL;
    if (pf->scoped)
        scope_parse(&pf->scopes, req->scope);
    plan_keys(req, svc, pf, no_fetch);
    if (no_fetch == NULL && req->access_token != NULL && plan_meds(req, pf) != 0)
        rc = myocds_err_set(err, 500, "out of memory");
    if (rc == 0 && pf->n > 0) {
        struct myocds_fetch_batch batch = {req->fhir_server, req->access_token, req->expires_in,
                                           pf->items, pf->n};
        if (opts->fetch(opts->fetch_ctx, &batch, err) != 0)
            rc = err != NULL && err->http_status != 0 ? -err->http_status : MYOCDS_E_INTERNAL;
    }
    if (rc == 0) {
        take_meds(req, pf);
        take_keys(req, svc, pf);
    }
    for (size_t i = 0; i < pf->n; i++)
        json_object_put(pf->items[i].result);
    free(pf);
    return rc;
}

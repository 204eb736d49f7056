/* view.c - build the typed patient view from prefetch data and draft orders.
 *
 * One walk over the resources (draft orders first, then every prefetch value) indexes
 * Medication resources (by type + id and by their entry's fullUrl, wherever they travel:
 * beside the draft orders, included in a searchset, under any key) and the ids of the
 * draft orders, and reads every other fact at once; medication orders and
 * administrations, which may point at a Medication further on or be a draft order again,
 * are kept in walk order and classified after it. An order met twice counts once. Lab
 * results, and lab tests ordered in the draft orders, are read by view_labs.c.
 */
#include "clinical/view.h"

#include "clinical/view_build.h"
#include "fhir/fhir.h"
#include "fhir/ref.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIEW_INDEX_SIZE 64

struct later {
    json_object *res; /* borrowed from the request */
    bool drafts;      /* found among the draft orders */
    bool given;       /* a MedicationAdministration, else a MedicationRequest */
};

struct builder {
    struct patient_view *v;
    const struct terminology *t;
    struct fhir_index *meds;    /* Medications by type + id and fullUrl (borrowed) */
    struct lh_table *draft_ids; /* MedicationRequest ids in the draft orders */
    struct lh_table *seen_ids;  /* MedicationRequest ids met in the record */
    struct lh_table *selected;  /* context.selections as "Type/id" (owned keys), or NULL */
    bool drafts;                /* walking the draft orders */
    int failed;
    struct later *later; /* owned: medication resources, classified after the walk */
    size_t n_later;
    const struct view_settings *settings;
};

static bool status_in(const char *status, const char *const *list)
{
    for (; status != NULL && *list != NULL; list++)
        if (strcmp(status, *list) == 0)
            return true;
    return false;
}

static const char *const active_med_status[] = {"active", "on-hold", "draft", NULL};
static const char *const past_ivig_status[] = {"active",  "on-hold", "completed",
                                               "stopped", "unknown", NULL};
static const char *const past_course_status[] = {"completed", "stopped", NULL};
static const char *const dead_draft_status[] = {"entered-in-error", "cancelled", "stopped",
                                                "completed", NULL};

/* arr (n elements of size bytes, owned by the caller), or it reallocated with room for
 * one more: it grows at powers of two, from 8. NULL when out of memory (arr still valid). */
static void *room_for_one(void *arr, size_t n, size_t size)
{
    return (n & (n - 1)) != 0 ? arr : realloc(arr, (n == 0 ? 8 : n * 2) * size);
}

int view_push_med(struct patient_view *v, const struct view_med *med)
{
    struct view_med *meds = room_for_one(v->meds, (size_t)v->n_meds, sizeof *meds);
    if (meds == NULL)
        return -1;
    v->meds = meds;
    v->meds[v->n_meds++] = *med;
    return 0;
}

static int push_med(struct builder *b, const struct view_med *med)
{
    return view_push_med(b->v, med);
}

/* Keeps a completed or stopped order (or a given administration) for courses and lasting
 * effects: glucocorticoids not given locally, and agents whose effect lasts. */
static int push_past(struct builder *b, const struct view_med *med)
{
    struct patient_view *v = b->v;
    bool gc = (med->classes & DC_GLUCOCORTICOID) && med->route != ROUTE_LOCAL;
    if (!gc && view_lasting_days(b->settings, med->drug) < 0)
        return 0;
    struct view_med *past = room_for_one(v->past, (size_t)v->n_past, sizeof *past);
    if (past == NULL)
        return -1;
    v->past = past;
    v->past[v->n_past++] = *med;
    return 0;
}

static bool selected(const struct builder *b, const char *id, const char *type)
{
    char ref[VIEW_LABEL_MAX];
    if (id == NULL || b->selected == NULL ||
        snprintf(ref, sizeof ref, "%s/%s", type, id) >= (int)sizeof ref)
        return false;
    return lh_table_lookup_entry(b->selected, ref) != NULL;
}

static void free_key(struct lh_entry *e)
{
    free(lh_entry_k(e));
}

/* The set of context.selections, each read by fhir_ref_parse and kept as "Type/id" (an
 * absolute or versioned selection names the same order); NULL without any. One lookup
 * per draft order, however many orders and selections there are. */
static struct lh_table *selection_set(json_object *selections, int *failed)
{
    size_t n = selections != NULL ? json_object_array_length(selections) : 0;
    struct lh_table *set = n > 0 ? lh_kchar_table_new(VIEW_INDEX_SIZE, free_key) : NULL;
    *failed = n > 0 && set == NULL;
    for (size_t i = 0; set != NULL && i < n; i++) {
        json_object *sel = json_object_array_get_idx(selections, i);
        struct fhir_ref ref;
        char key[FHIR_TYPE_ID_MAX];
        if (!json_object_is_type(sel, json_type_string) ||
            !fhir_ref_parse(json_object_get_string(sel), &ref) ||
            !fhir_ref_type_id(&ref, key, sizeof key) || lh_table_lookup_entry(set, key) != NULL)
            continue;
        char *owned = strdup(key);
        if (owned == NULL || lh_table_insert(set, owned, sel) != 0) {
            free(owned);
            *failed = 1;
        }
    }
    return set;
}

/* True when the record's order id was met before (and remembers it); an order without an
 * id is never a duplicate. *failed on out of memory. */
static bool seen_before(struct builder *b, const char *id)
{
    if (id == NULL)
        return false;
    if (lh_table_lookup_entry(b->seen_ids, id) != NULL)
        return true;
    if (lh_table_insert(b->seen_ids, id, NULL) != 0)
        b->failed = 1;
    return false;
}

static int add_request(struct builder *b, json_object *mr)
{
    struct view_med med;
    const char *status = json_get_str(mr, "status");
    const char *id = json_get_str(mr, "id");
    if (!b->drafts && id != NULL && lh_table_lookup_entry(b->draft_ids, id) != NULL)
        return 0; /* the same order is in the draft orders: counted there */
    if (!b->drafts && seen_before(b, id))
        return 0; /* in two keys, or twice in one searchset */
    if (view_med_classify(b->t, mr, b->meds, b->v->today, &med) != 0)
        return 0;
    med.reason = view_med_reason(b->t, mr, b->meds);
    if (!b->drafts && !status_in(status, active_med_status)) {
        if ((med.classes & DC_IVIG) && status_in(status, past_ivig_status))
            b->v->past_ivig = true;
        if (!status_in(status, past_course_status))
            return 0;
        /* an earlier course of unknown route may have been systemic: not an initial dose */
        if ((med.classes & DC_GLUCOCORTICOID) && med.route != ROUTE_LOCAL)
            b->v->past_glucocorticoid = true;
        return push_past(b, &med);
    }
    if (b->drafts && status_in(status, dead_draft_status))
        return 0;
    if (b->drafts && med.start_day < 0)
        med.start_day = b->v->today; /* a draft without a date starts now */
    med.ordered = b->drafts;
    if (b->v->hook == HOOK_PATIENT_VIEW)
        med.trigger = true;
    else if (b->v->hook == HOOK_ORDER_SIGN)
        med.trigger = b->drafts;
    else
        med.trigger = b->drafts && selected(b, id, "MedicationRequest");
    return push_med(b, &med);
}

/* Subtype and flags named in the text or a display of a CodeableConcept; keeps what the
 * codes said when the words name nothing more specific. */
static void by_text(const struct terminology *t, const json_object *code, unsigned *sub,
                    unsigned *flags)
{
    json_object *codings = json_get_arr(code, "coding");
    unsigned s = 0;
    unsigned f = 0;
    term_condition_by_text(t, json_get_str(code, "text"), &s, &f);
    for (size_t i = 0; s == 0 && f == 0 && codings != NULL && i < json_object_array_length(codings);
         i++)
        term_condition_by_text(t, json_get_str(json_object_array_get_idx(codings, i), "display"),
                               &s, &f);
    if (s != 0 && s != IIM_UNSPECIFIED)
        *sub = s;
    else if (*sub == 0)
        *sub = s;
    *flags |= f;
}

/* An IVIG given (completed or under way) is an earlier IVIG: the next is not the first.
 * An administration of an agent whose effect lasts is kept, a single dose on its day
 * (effectiveDateTime, else the end or start of effectivePeriod). */
static int add_administration(struct builder *b, const json_object *ma)
{
    static const char *const given[] = {"completed", "in-progress", NULL};
    struct view_med med;
    if (!status_in(json_get_str(ma, "status"), given) ||
        view_med_classify(b->t, ma, b->meds, b->v->today, &med) != 0)
        return 0;
    if (med.classes & DC_IVIG)
        b->v->past_ivig = true;
    json_object *period = json_get_obj(ma, "effectivePeriod");
    const char *when = json_get_str(ma, "effectiveDateTime");
    if (when == NULL)
        when = json_get_str(period, "end");
    if (when == NULL)
        when = json_get_str(period, "start");
    med.start_day = -1;
    if (!fhir_date_days(when, &med.start_day) || (med.classes & DC_GLUCOCORTICOID))
        return 0;
    med.single_dose = true;
    med.duration_days = 1;
    return push_past(b, &med);
}

/* True when a category of cond says health-concern and none says problem-list-item or
 * encounter-diagnosis: a concern is not a diagnosis. */
static bool only_a_concern(const json_object *cond)
{
    static const char *const diagnosis[] = {"problem-list-item", "encounter-diagnosis", NULL};
    json_object *cats = json_get_arr(cond, "category");
    size_t n = cats != NULL ? json_object_array_length(cats) : 0;
    bool concern = false;
    for (size_t i = 0; i < n; i++) {
        json_object *codings = json_get_arr(json_object_array_get_idx(cats, i), "coding");
        for (size_t k = 0; codings != NULL && k < json_object_array_length(codings); k++) {
            const char *code = json_get_str(json_object_array_get_idx(codings, k), "code");
            if (status_in(code, diagnosis))
                return false;
            concern |= code != NULL && strcmp(code, "health-concern") == 0;
        }
    }
    return concern;
}

/* Cuts SNOMED CT's semantic tag from a display ("Polymyositis (disorder)" -> "Polymyositis"):
 * a clinician never says it. label is edited in place. */
static void drop_semantic_tag(char *label)
{
    static const char *const tags[] = {" (disorder)", " (finding)", " (situation)",
                                       " (morphologic abnormality)"};
    size_t len = strlen(label);
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        size_t n = strlen(tags[i]);
        if (len > n && strcmp(label + len - n, tags[i]) == 0) {
            label[len - n] = '\0';
            return;
        }
    }
}

/* True when the condition abated on or before today (abatementDateTime, or the end of
 * abatementPeriod); a future or unreadable date says nothing. */
static bool abated(const json_object *cond, long today)
{
    long day = 0;
    const char *when = json_get_str(cond, "abatementDateTime");
    if (when == NULL)
        when = json_get_str(json_get_obj(cond, "abatementPeriod"), "end");
    return fhir_date_days(when, &day) && day <= today;
}

static void add_condition(struct builder *b, const json_object *cond)
{
    static const char *const live[] = {"active", "recurrence", "relapse", NULL};
    static const char *const dead[] = {"refuted", "entered-in-error", NULL};
    const char *clinical = fhir_status_code(cond, "clinicalStatus");
    if ((clinical != NULL && !status_in(clinical, live)) ||
        status_in(fhir_status_code(cond, "verificationStatus"), dead) || only_a_concern(cond) ||
        abated(cond, b->v->today))
        return;
    json_object *code = json_get_obj(cond, "code");
    json_object *codings = json_get_arr(code, "coding");
    unsigned sub = 0;
    unsigned flags = 0;
    const char *label = json_get_str(code, "text");
    for (size_t i = 0; codings != NULL && i < json_object_array_length(codings); i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        const char *sys = json_get_str(c, "system");
        const char *cd = json_get_str(c, "code");
        unsigned s = term_condition_subtypes(b->t, sys, cd);
        sub |= s;
        flags |= term_condition_flags(b->t, sys, cd);
        if (s != 0 && label == NULL)
            label = json_get_str(c, "display");
    }
    if ((sub == 0 && flags == 0) || sub == IIM_UNSPECIFIED)
        by_text(b->t, code, &sub, &flags); /* free text, or a subtype behind a generic code */
    if (sub != 0 && b->v->iim == 0) {
        snprintf(b->v->iim_label, sizeof b->v->iim_label, "%s",
                 label != NULL ? label : "inflammatory myopathy");
        drop_semantic_tag(b->v->iim_label);
    }
    b->v->iim |= sub;
    b->v->cond_flags |= flags;
}

/* A Procedure or ServiceRequest the rules look for (plasmapheresis, DXA). */
static void add_procedure(struct builder *b, const json_object *res, bool request)
{
    static const char *const planned[] = {"draft",       "active",      "on-hold",
                                          "preparation", "in-progress", NULL};
    json_object *code = json_get_obj(res, "code");
    json_object *codings = json_get_arr(code, "coding");
    enum proc_kind kind = term_proc_kind(b->t, NULL, NULL, json_get_str(code, "text"));
    for (size_t i = 0;
         kind == PROC_NONE && codings != NULL && i < json_object_array_length(codings); i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        kind = term_proc_kind(b->t, json_get_str(c, "system"), json_get_str(c, "code"),
                              json_get_str(c, "display"));
    }
    const char *status = json_get_str(res, "status");
    unsigned bit = 1u << kind;
    if (kind == PROC_NONE)
        return;
    if (b->drafts && request) {
        bool live = !status_in(status, dead_draft_status);
        bool trig = b->v->hook != HOOK_ORDER_SELECT ||
                    selected(b, json_get_str(res, "id"), "ServiceRequest");
        b->v->proc_ordered |= live && trig ? bit : 0;
        b->v->proc_active |= live && !trig ? bit : 0;
    } else if (status_in(status, planned)) {
        b->v->proc_active |= bit;
    } else if (status != NULL && strcmp(status, "completed") == 0) {
        b->v->proc_done |= bit;
    }
}

static void add_allergy(struct builder *b, const json_object *ai)
{
    static const char *const dead[] = {"refuted", "entered-in-error", NULL};
    static const char *const gone[] = {"inactive", "resolved", NULL};
    if (status_in(fhir_status_code(ai, "verificationStatus"), dead) ||
        status_in(fhir_status_code(ai, "clinicalStatus"), gone))
        return;
    json_object *code = json_get_obj(ai, "code");
    json_object *codings = json_get_arr(code, "coding");
    bool sulfa = term_is_sulfonamide_allergy(b->t, NULL, NULL, json_get_str(code, "text"));
    for (size_t i = 0; !sulfa && codings != NULL && i < json_object_array_length(codings); i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        sulfa = term_is_sulfonamide_allergy(b->t, json_get_str(c, "system"),
                                            json_get_str(c, "code"), json_get_str(c, "display"));
    }
    b->v->sulfonamide_allergy |= sulfa;
}

static void add_patient(struct builder *b, const json_object *p)
{
    long born = 0;
    const char *gender = json_get_str(p, "gender");
    if (fhir_date_days(json_get_str(p, "birthDate"), &born) && born <= b->v->today)
        b->v->age_years = fhir_whole_years(born, b->v->today);
    if (gender != NULL)
        b->v->sex = strcmp(gender, "female") == 0 ? 'f' : strcmp(gender, "male") == 0 ? 'm' : 'u';
}

static int index_id(struct lh_table *index, json_object *res)
{
    const char *id = json_get_str(res, "id");
    return id != NULL && lh_table_insert(index, id, res) != 0 ? -1 : 0;
}

/* Keeps res for after the walk; -1 when out of memory. */
static int defer(struct builder *b, json_object *res, bool given)
{
    struct later *later = room_for_one(b->later, b->n_later, sizeof *later);
    if (later == NULL)
        return -1;
    b->later = later;
    b->later[b->n_later++] = (struct later){res, b->drafts, given};
    return 0;
}

/* The resource types the view reads. */
enum res_kind {
    RK_OTHER,
    RK_MEDICATION,
    RK_MED_REQUEST,
    RK_MED_ADMIN,
    RK_SERVICE_REQUEST,
    RK_PROCEDURE,
    RK_CONDITION,
    RK_OBSERVATION,
    RK_ALLERGY,
    RK_PATIENT
};

/* One string compare for most types: only those sharing their first byte are tried. */
static enum res_kind kind_of(const char *type)
{
    static const struct {
        const char *name;
        enum res_kind kind;
    } kinds[] = {
        {"Medication", RK_MEDICATION},
        {"MedicationRequest", RK_MED_REQUEST},
        {"MedicationAdministration", RK_MED_ADMIN},
        {"ServiceRequest", RK_SERVICE_REQUEST},
        {"Procedure", RK_PROCEDURE},
        {"Condition", RK_CONDITION},
        {"Observation", RK_OBSERVATION},
        {"AllergyIntolerance", RK_ALLERGY},
        {"Patient", RK_PATIENT},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (type[0] == kinds[i].name[0] && strcmp(type, kinds[i].name) == 0)
            return kinds[i].kind;
    return RK_OTHER;
}

/* Reads one resource into the view, or indexes or defers it. */
static int walk_one(json_object *res, const char *type, const struct fhir_entry *entry, void *ctx)
{
    struct builder *b = ctx;
    enum res_kind kind = kind_of(type);
    switch (kind) {
    case RK_MEDICATION:
        return fhir_index_add(b->meds, res, type, entry->full_url);
    case RK_MED_REQUEST:
        if (b->drafts && index_id(b->draft_ids, res) != 0)
            return -1;
        return defer(b, res, false);
    case RK_SERVICE_REQUEST:
        if (b->drafts && !status_in(json_get_str(res, "status"), dead_draft_status))
            view_add_test_order(b->v, b->t, res); /* a lab test ordered with the drug */
        add_procedure(b, res, true);
        return 0;
    case RK_PROCEDURE:
        add_procedure(b, res, false);
        return 0;
    default:
        break;
    }
    if (b->drafts)
        return 0; /* draft orders add orders, never facts */
    switch (kind) {
    case RK_MED_ADMIN:
        return defer(b, res, true);
    case RK_CONDITION:
        add_condition(b, res);
        return fhir_index_add(b->meds, res, type, entry->full_url); /* reasons name them */
    case RK_OBSERVATION:
        view_add_observation(b->v, b->t, res);
        break;
    case RK_ALLERGY:
        add_allergy(b, res);
        break;
    case RK_PATIENT:
        add_patient(b, res);
        break;
    default:
        break;
    }
    return 0;
}

/* True when record order r is the one draft d replaces: the order its priorPrescription
 * names (named: prior parsed from it), or, without one, any active order of the same
 * glucocorticoid. */
static bool replaces(const struct view_med *d, bool named, const struct fhir_ref *prior,
                     const struct view_med *r)
{
    if (!named)
        return r->drug == d->drug;
    return strcmp(prior->type, "MedicationRequest") == 0 && r->id != NULL &&
           strcmp(prior->id, r->id) == 0;
}

/* docs/RULES.md "How the facts are read", What the patient is really on: a draft glucocorticoid
 * replaces an active order of the same drug for today's dose; the record order stays in the view
 * (the course began with it) but adds nothing to a sum. Returns 0, or -1 when out of memory. */
static int mark_replaced(struct patient_view *v)
{
    int *record = malloc(sizeof *record * (size_t)(v->n_meds + 1));
    if (record == NULL)
        return -1;
    int n = 0;
    for (int k = 0; k < v->n_meds; k++)
        if (!v->meds[k].ordered && (v->meds[k].classes & DC_GLUCOCORTICOID))
            record[n++] = k;
    for (int i = 0; i < v->n_meds && n > 0; i++) {
        const struct view_med *d = &v->meds[i];
        if (!d->ordered || !(d->classes & DC_GLUCOCORTICOID))
            continue;
        struct fhir_ref prior;
        bool named = fhir_ref_parse(d->prior_ref, &prior) && prior.kind != FHIR_REF_CONTAINED &&
                     prior.kind != FHIR_REF_URN;
        for (int k = 0; k < n; k++)
            if (replaces(d, named, &prior, &v->meds[record[k]]))
                v->meds[record[k]].replaced = true;
    }
    free(record);
    return 0;
}

/* Walks the draft orders, then every prefetch value; then classifies what was deferred. */
static int walk(struct builder *b, json_object *prefetch, json_object *drafts)
{
    b->drafts = true;
    if (fhir_each_resource(drafts, walk_one, b) != 0)
        return -1;
    b->drafts = false;
    if (prefetch != NULL) {
        json_object_object_foreach(prefetch, key, value)
        {
            (void)key;
            if (fhir_each_resource(value, walk_one, b) != 0)
                return -1;
        }
    }
    for (size_t i = 0; i < b->n_later; i++) {
        b->drafts = b->later[i].drafts;
        int rc = b->later[i].given ? add_administration(b, b->later[i].res)
                                   : add_request(b, b->later[i].res);
        if (rc != 0)
            return -1;
    }
    if (mark_replaced(b->v) != 0)
        return -1;
    return view_settle(b->v, b->settings);
}

int view_build(struct patient_view *v, const struct terminology *t, enum cds_hook hook,
               const char *patient_id, json_object *prefetch, json_object *draft_orders,
               json_object *selections, long today, const struct view_settings *settings,
               struct myocds_err *err)
{
    struct view_settings defaults;
    if (settings == NULL) {
        view_settings_default(&defaults);
        settings = &defaults;
    }
    memset(v, 0, sizeof *v);
    v->hook = hook;
    v->today = today;
    v->patient_id = patient_id;
    v->age_years = -1;
    v->sex = 'u';
    struct builder b = {.v = v,
                        .t = t,
                        .settings = settings,
                        .meds = fhir_index_new(),
                        .draft_ids = lh_kchar_table_new(VIEW_INDEX_SIZE, NULL),
                        .seen_ids = lh_kchar_table_new(VIEW_INDEX_SIZE, NULL)};
    b.selected = selection_set(selections, &b.failed);
    int rc = b.meds != NULL && b.draft_ids != NULL && b.seen_ids != NULL && !b.failed ? 0 : -1;
    if (rc == 0)
        rc = walk(&b, prefetch, draft_orders);
    if (b.failed)
        rc = -1;
    free(b.later);
    fhir_index_free(b.meds);
    if (b.draft_ids != NULL)
        lh_table_free(b.draft_ids);
    if (b.seen_ids != NULL)
        lh_table_free(b.seen_ids);
    if (b.selected != NULL)
        lh_table_free(b.selected);
    if (rc != 0) {
        view_free(v);
        return myocds_err_set(err, 500, "out of memory building the patient view");
    }
    return 0;
}

void view_free(struct patient_view *v)
{
    free(v->meds);
    v->meds = NULL;
    v->n_meds = 0;
    free(v->past);
    v->past = NULL;
    v->n_past = 0;
}

double view_pred_total(const struct patient_view *v)
{
    double sum = 0;
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if (!(m->classes & DC_GLUCOCORTICOID) || !m->systemic || m->replaced)
            continue;
        if (m->pred_mg_per_day < 0)
            return -1;
        sum += m->pred_mg_per_day;
    }
    return sum;
}

double view_med_days_at(const struct view_med *m, double pred_mg)
{
    double days = 0;
    int n = m->steps < VIEW_STEPS_MAX ? m->steps : VIEW_STEPS_MAX;
    for (int s = 0; s < n; s++) {
        if (m->step[s].pred_mg_per_day < pred_mg)
            continue;
        if (m->step[s].days < 0)
            return -1;
        days += m->step[s].days;
    }
    return days;
}

const struct view_med *view_find(const struct patient_view *v, unsigned classes, bool trigger_only)
{
    for (int i = 0; i < v->n_meds; i++) {
        const struct view_med *m = &v->meds[i];
        if ((m->classes & classes) && (!trigger_only || m->trigger))
            return m;
    }
    return NULL;
}

/* view_course.c - what the patient is really on, over time (docs/RULES.md "How the facts are
 * read", What the patient is really on): the consecutive orders of one glucocorticoid that make one
 * course, and the agents given in cycles whose effect outlasts their last order.
 *
 * A course: an order's predecessor is the latest-starting order of the same drug that a
 * draft replaces, an active one that ends within course_gap_days of its start, or a
 * completed or stopped one that ran until then (within the gap). The course's start is the
 * first order's; its days at a dose add each order's days until the next began. A lasting
 * agent (rituximab, IVIG, cyclophosphamide: view_settings) completed or given within its
 * time counts as on board: it joins the medications as lasting, never a trigger.
 */
#include "clinical/view_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define COURSE_HOPS_MAX 16 /* orders followed back along one course */
#define COURSE_SCAN_MAX 32 /* orders of one drug looked at for a predecessor */

void view_settings_default(struct view_settings *s)
{
    memset(s, 0, sizeof *s);
    s->lasting[0].drug_id = "rituximab";
    s->lasting[0].days = 183;
    s->lasting[1].drug_id = "immune globulin (IVIG)";
    s->lasting[1].days = 56;
    s->lasting[2].drug_id = "cyclophosphamide";
    s->lasting[2].days = 56;
    s->n_lasting = 3;
    s->course_gap_days = 1;
}

double view_lasting_days(const struct view_settings *s, const struct term_drug *drug)
{
    for (int i = 0; i < s->n_lasting; i++)
        if (s->lasting[i].drug_id != NULL && strcmp(s->lasting[i].drug_id, drug->id) == 0)
            return s->lasting[i].days;
    return -1;
}

/* The last day m's plan gives a dose on: its start for a single dose or an unknown length,
 * else start + days - 1; -1 when its start is unknown or it has no end. */
static long last_dose_day(const struct view_med *m)
{
    if (m->start_day < 0)
        return -1;
    if (m->single_dose || m->duration_days == 0)
        return m->start_day;
    if (m->duration_days < 0)
        return -1;
    return m->start_day + (long)m->duration_days - 1;
}

/* The day after m's plan ends, or -1 when it has none (open-ended) or no start. */
static long end_day(const struct view_med *m)
{
    if (m->start_day < 0 || m->duration_days < 0)
        return -1;
    return m->start_day + (long)(m->duration_days > 0 ? m->duration_days : 1);
}

const struct view_med *view_course_prev(const struct patient_view *v, const struct view_med *m)
{
    if (m->prev >= 0 && m->prev < v->n_meds)
        return &v->meds[m->prev];
    if (m->prev <= -2 && -m->prev - 2 < v->n_past)
        return &v->past[-m->prev - 2];
    return NULL;
}

/* True when p comes just before m in a course of one drug. past: p is a completed or
 * stopped order. */
static bool precedes(const struct view_med *p, const struct view_med *m, bool past, double gap)
{
    if (p == m || p->drug != m->drug || p->start_day < 0 || m->start_day < 0 || p->lasting)
        return false;
    if (p->replaced && m->ordered && !p->ordered)
        return p->start_day <= m->start_day;
    long end = end_day(p);
    if (p->start_day >= m->start_day || end < 0)
        return false;
    if (past)
        return (double)end >= (double)m->start_day - gap;
    return (double)end >= (double)m->start_day - gap && (double)end <= (double)m->start_day + gap;
}

/* One glucocorticoid order among those linked: i is its place in meds then past. */
struct course_slot {
    struct view_med *m;
    int i;
};

/* Orders of one drug together, by start, then by place: the order the scan needs. */
static int slot_cmp(const void *a, const void *b)
{
    const struct course_slot *x = a, *y = b;
    uintptr_t dx = (uintptr_t)x->m->drug, dy = (uintptr_t)y->m->drug;
    if (dx != dy)
        return dx < dy ? -1 : 1;
    if (x->m->start_day != y->m->start_day)
        return x->m->start_day < y->m->start_day ? -1 : 1;
    return x->i < y->i ? -1 : (x->i > y->i);
}

/* Links slot k's order to its predecessor: the latest-starting order of the same drug
 * that precedes it (the first in place among equals), looked for among the
 * COURSE_SCAN_MAX orders of that drug that start nearest before or with it, so that a
 * record of thousands of orders of one drug stays linear. last: the last slot that starts
 * with k's order (a draft may replace a record order of the same start). */
static void link_course(const struct patient_view *v, struct course_slot *slots, int k, int last,
                        double gap)
{
    struct view_med *m = slots[k].m;
    const struct view_med *best = NULL;
    int best_i = -1;
    for (int j = last, seen = 0; j >= 0 && seen < COURSE_SCAN_MAX; j--) {
        const struct view_med *p = slots[j].m;
        if (p->drug != m->drug)
            break;
        if (j == k)
            continue;
        seen++;
        bool past = slots[j].i >= v->n_meds;
        if (!precedes(p, m, past, gap))
            continue;
        if (best == NULL || p->start_day > best->start_day ||
            (p->start_day == best->start_day && slots[j].i < best_i)) {
            best = p;
            best_i = slots[j].i;
        }
    }
    if (best_i < 0)
        m->prev = -1;
    else
        m->prev = best_i >= v->n_meds ? -(best_i - v->n_meds) - 2 : best_i;
}

/* Days of p's schedule at or above pred_mg among its first span days. */
static double days_at_until(const struct view_med *p, double pred_mg, double span)
{
    double days = 0;
    int n = p->steps < VIEW_STEPS_MAX ? p->steps : VIEW_STEPS_MAX;
    if (n <= 1) {
        double d = p->duration_days < 0 || p->duration_days > span ? span : p->duration_days;
        return p->pred_mg_per_day >= pred_mg ? d : 0;
    }
    for (int s = 0; s < n && span > 0; s++) {
        double d = p->step[s].days < 0 || p->step[s].days > span ? span : p->step[s].days;
        if (p->step[s].pred_mg_per_day >= pred_mg)
            days += d;
        span -= d;
    }
    return days;
}

double view_course_days_at(const struct patient_view *v, const struct view_med *m, double pred_mg)
{
    double days = view_med_days_at(m, pred_mg);
    if (m->steps <= 1)
        days = m->pred_mg_per_day >= pred_mg ? m->duration_days : 0;
    if (days < 0)
        return -1;
    const struct view_med *cur = m;
    const struct view_med *p = view_course_prev(v, cur);
    for (int hops = 0; p != NULL && hops < COURSE_HOPS_MAX; hops++) {
        days += days_at_until(p, pred_mg, (double)(cur->start_day - p->start_day));
        cur = p;
        p = view_course_prev(v, cur);
    }
    return days;
}

/* Adds each lasting agent of the record (v->past) to the medications once: its latest
 * dose, when recent enough and no active order of it is there already. Linear in the
 * orders. Returns 0, or -1 when out of memory. */
static int add_lasting(struct patient_view *v, const struct view_settings *s)
{
    const struct view_med *latest[VIEW_LASTING_MAX] = {NULL};
    long latest_day[VIEW_LASTING_MAX];
    for (int k = 0; k < s->n_lasting; k++)
        latest_day[k] = -1;
    for (int i = 0; i < v->n_past; i++) {
        const struct view_med *p = &v->past[i];
        long last = last_dose_day(p);
        for (int k = 0; k < s->n_lasting; k++)
            if (s->lasting[k].drug_id != NULL && strcmp(s->lasting[k].drug_id, p->drug->id) == 0 &&
                last >= 0 && last <= v->today && last > latest_day[k]) {
                latest[k] = p;
                latest_day[k] = last;
            }
    }
    bool active[VIEW_LASTING_MAX] = {false};
    for (int i = 0; i < v->n_meds; i++)
        for (int k = 0; k < s->n_lasting; k++)
            if (latest[k] != NULL && v->meds[i].drug == latest[k]->drug)
                active[k] = true; /* an active order of it already counts */
    for (int k = 0; k < s->n_lasting; k++) {
        if (latest[k] == NULL || active[k] ||
            (double)(v->today - latest_day[k]) > s->lasting[k].days)
            continue;
        struct view_med m = *latest[k];
        m.lasting = true;
        m.trigger = false;
        m.ordered = false;
        m.last_day = latest_day[k];
        m.prev = -1;
        if (view_push_med(v, &m) != 0)
            return -1;
    }
    return 0;
}

int view_settle(struct patient_view *v, const struct view_settings *s)
{
    if (add_lasting(v, s) != 0)
        return -1;
    for (int i = 0; i < v->n_meds + v->n_past; i++) {
        struct view_med *m = i < v->n_meds ? &v->meds[i] : &v->past[i - v->n_meds];
        m->prev = -1;
        m->course_start = m->start_day;
        m->course_orders = 1;
    }
    struct course_slot *slots = malloc(sizeof *slots * (size_t)(v->n_meds + v->n_past + 1));
    if (slots == NULL)
        return -1;
    int n = 0;
    for (int i = 0; i < v->n_meds + v->n_past; i++) {
        struct view_med *m = i < v->n_meds ? &v->meds[i] : &v->past[i - v->n_meds];
        if ((m->classes & DC_GLUCOCORTICOID) && !m->lasting && m->start_day >= 0)
            slots[n++] = (struct course_slot){m, i};
    }
    qsort(slots, (size_t)n, sizeof *slots, slot_cmp);
    for (int k = 0, last = 0; k < n; k++) {
        if (last < k)
            last = k;
        while (last + 1 < n && slots[last + 1].m->drug == slots[k].m->drug &&
               slots[last + 1].m->start_day == slots[k].m->start_day)
            last++;
        link_course(v, slots, k, last, s->course_gap_days);
    }
    free(slots);
    for (int i = 0; i < v->n_meds; i++) {
        struct view_med *m = &v->meds[i];
        const struct view_med *p = view_course_prev(v, m);
        for (int hops = 0; p != NULL && hops < COURSE_HOPS_MAX; hops++) {
            m->course_start = p->start_day;
            m->course_orders++;
            p = view_course_prev(v, p);
        }
    }
    return 0;
}

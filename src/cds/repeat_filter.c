/* repeat_filter.c - which cards of one answer the memory of cards shown holds back.
 *
 * Only a warning or info card about a draft order (the order the rule named with
 * card_about), on order-select or order-sign, and only when its rule does not say
 * "repeat": "always" in hooks/rules.json. A critical card, a card about an active order,
 * and every card of patient-view always show.
 */
#include "cds/repeat.h"
#include "rules/rule.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

/* True when c may be held back at all; fills its key then. */
static bool candidate(const struct repeat_call *call, const struct card *c,
                      unsigned char key[REPEAT_KEY_BYTES])
{
    unsigned char digest[REPEAT_KEY_BYTES];
    const struct view_med *m = c->order;
    bool always = c->conf != NULL && c->conf->repeat_always;
    if (c->indicator == NULL ||
        (strcmp(c->indicator, "warning") != 0 && strcmp(c->indicator, "info") != 0))
        return false;
    if (always)
        return false;
    if (m == NULL || !m->ordered || m->res == NULL || m->drug == NULL)
        return false;
    if (repeat_order_digest(m->res, m->drug->id, digest) != 0)
        return false;
    const struct repeat_subject s = {call->fhir_server, call->patient_id, c->rule_id, c->indicator,
                                     digest};
    return repeat_key(call->memory, &s, key) == 0;
}

int repeat_hold(const struct repeat_call *call, struct card_list *cards)
{
    if (call->memory == NULL || call->window_s <= 0 ||
        (call->hook != HOOK_ORDER_SELECT && call->hook != HOOK_ORDER_SIGN) || cards->n == 0)
        return 0;
    unsigned char(*keys)[REPEAT_KEY_BYTES] = calloc((size_t)cards->n, sizeof *keys);
    enum repeat_verdict *verdict = calloc((size_t)cards->n, sizeof *verdict);
    bool *keyed = calloc((size_t)cards->n, sizeof *keyed);
    int kept = 0;
    if (keys == NULL || verdict == NULL || keyed == NULL) {
        kept = cards->n; /* out of memory: every card shows */
        goto out;
    }
    for (int i = 0; i < cards->n; i++) {
        struct card *c = &cards->v[i];
        keyed[i] = candidate(call, c, keys[i]);
        int same = -1;
        for (int j = 0; keyed[i] && j < i && same < 0; j++)
            same = keyed[j] && memcmp(keys[i], keys[j], REPEAT_KEY_BYTES) == 0 ? j : -1;
        if (keyed[i])
            verdict[i] = same >= 0 ? verdict[same]
                                   : repeat_check(call->memory, keys[i], call->window_s, call->now);
        if (keyed[i] && verdict[i] == REPEAT_HOLD) {
            if (call->on_held != NULL)
                call->on_held(call->held_ctx, call->service_id, c->rule_id, c->indicator);
            free(c->detail);
            continue;
        }
        cards->v[kept++] = *c;
    }
out:
    free(keys);
    free(verdict);
    free(keyed);
    int held = cards->n - kept;
    cards->n = kept;
    return held;
}

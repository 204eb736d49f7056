/* card_shape.h - a card shaped to what the calling client can show.
 *
 * A client profile (config "clients") may accept only one card selectionBehavior, take at
 * most N actions per suggestion, understand suggestion.actionSelectionBehavior (CDS Hooks
 * 3.0: sent only to a client known to support it) and want topic codes without hyphens.
 * A suggestion over the limit is split into suggestions of at most N actions each, and the
 * card then lets the clinician take any of them (so methotrexate and its folic acid are both
 * offered to a one-action client); a client that takes no "any" gets each such suggestion's
 * first N actions instead. Depends on rules/rule.h (the card) and json-c only.
 */
#ifndef MYOCDS_CDS_CARD_SHAPE_H
#define MYOCDS_CDS_CARD_SHAPE_H

#include "myocds/myocds.h"
#include "rules/rule.h"

#include <json-c/json.h>
#include <stdbool.h>

struct card_shape {
    const char *selection; /* the card's selectionBehavior as sent (static) */
    bool split;            /* suggestions over max_actions split, else cut */
    int max_actions;       /* 0: no limit */
    bool all_actions;      /* "actionSelectionBehavior": "all" on multi-action suggestions */
    bool one_recommended;  /* at most one suggestion isRecommended */
    bool plain;            /* nothing to reshape: the suggestions go out as written */
};

/* The shape of card c for client p (NULL: a CDS Hooks 2.0 client). */
void card_shape_plan(const struct card *c, const struct myocds_client_profile *p,
                     struct card_shape *out);

/* Appends suggestion s (owned, taken: dropped here) to arr as shape sh wants it: as it is,
 * with actionSelectionBehavior, split (each part with a new uuid) or cut. 0, or -1 when out
 * of memory. */
int card_shape_suggestion(json_object *s, const struct card_shape *sh, json_object *arr);

#endif

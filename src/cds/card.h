/* card.h - cards (from the rules) to the CDS Hooks 2.0 response JSON. */
#ifndef MYOCDS_CDS_CARD_H
#define MYOCDS_CDS_CARD_H

#include "myocds/myocds.h"
#include "rules/rule.h"

#include <json-c/json.h>

/* Builds {"cards":[...]}: cards sorted critical > warning > info, each with a random v4
 * uuid, its source and topic, suggestions (uuid'd, {patientId} filled in) and coded
 * override reasons (all borrowed from the loaded rules, which outlive the result's
 * writing out: json-c keeps their texts by pointer). Returns an owned json-c object (NULL when out
 * of memory). The uuid of card i is written to uuids[i] (37 bytes each) when uuids is not NULL.
 * Each card is shaped to client (NULL: a CDS Hooks 2.0 client; card_shape.h). */
json_object *cards_to_json(struct card_list *cards, const char *patient_id, char (*uuids)[37],
                           const struct myocds_client_profile *client);

#endif

/* feedback.h - parse and validate a CDS Hooks 2.0 feedback body {"feedback":[...]}.
 *
 * Errors name the field ("feedback[0].outcome must be accepted or overridden") and never
 * echo a value from the body.
 */
#ifndef MYOCDS_CDS_FEEDBACK_H
#define MYOCDS_CDS_FEEDBACK_H

#include "myocds/myocds.h"

#include <stdbool.h>
#include <stddef.h>

#define FEEDBACK_MAX_ITEMS 1000      /* entries in one POST */
#define FEEDBACK_MAX_SUGGESTIONS 100 /* acceptedSuggestions of one entry */
#define FEEDBACK_MAX_ID 128          /* card and suggestion ids, in bytes */
#define FEEDBACK_MAX_CODE 512        /* overrideReason.reason system and code, in bytes */

struct json_object;

/* A parsed body. items[i] borrow their strings from root and accepted[i]. */
struct feedback_batch {
    struct json_object *root;      /* owned parse tree */
    struct myocds_feedback *items; /* n entries, owned */
    char **accepted;               /* n owned JSON arrays of ids (NULL entries allowed) */
    size_t n;
};

/* Parses body[0..len). On success fills *out (free with feedback_batch_free) and returns
 * 0; otherwise returns a negative status, *out holds nothing and err says why (400, or
 * 500 when out of memory). */
int feedback_parse(const char *body, size_t len, struct feedback_batch *out,
                   struct myocds_err *err);

/* Frees what the batch owns and zeroes it; a zeroed batch is a no-op. */
void feedback_batch_free(struct feedback_batch *batch);

/* True when s is an RFC 3339 date-time (e.g. 2021-12-11T10:05:31Z, +01:00, fractions). */
bool feedback_is_rfc3339(const char *s);

#endif

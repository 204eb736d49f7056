/* fuzz_feedback.c - the feedback body parser (POST /cds-services/{id}/feedback).
 *
 * Every parsed entry is read back in full, and the RFC 3339 checker sees the raw input as
 * a string too.
 */
#include "cds/feedback.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_FEEDBACK_MAX_TEXT 256 /* the timestamp checker sees at most this many bytes */

static volatile size_t fuzz_sink; /* keeps what was read observable */

static size_t fuzz_len(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feedback_batch batch;
    struct myocds_err err = {0};
    size_t total = 0;
    if (feedback_parse((const char *)data, size, &batch, &err) == 0) {
        for (size_t i = 0; i < batch.n; i++) {
            const struct myocds_feedback *f = &batch.items[i];
            if (f->card_uuid == NULL || f->outcome == NULL)
                abort(); /* a parsed entry always has both */
            total += fuzz_len(f->card_uuid) + fuzz_len(f->outcome) + fuzz_len(f->accepted_json) +
                     fuzz_len(f->reason_system) + fuzz_len(f->reason_code) +
                     fuzz_len(f->outcome_timestamp);
        }
        feedback_batch_free(&batch);
    } else if (batch.root != NULL || batch.items != NULL || batch.n != 0 || err.http_status < 400) {
        abort(); /* a failure leaves an empty batch and a 4xx/5xx */
    }
    size_t n = size < FUZZ_FEEDBACK_MAX_TEXT ? size : FUZZ_FEEDBACK_MAX_TEXT;
    char *text = malloc(n + 1);
    if (text != NULL) {
        memcpy(text, data, n);
        text[n] = '\0';
        total += feedback_is_rfc3339(text);
        free(text);
    }
    fuzz_sink = total;
    return 0;
}

/* file.c - read a whole file under a size cap. */
#include "util/file.h"

#include "util/capbuf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_CHUNK 16384 /* bytes read at a time */

char *file_read(const char *path, size_t max, size_t *len, struct myocds_err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        myocds_err_set(err, 500, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct capbuf b = {.max = max};
    char chunk[FILE_CHUNK];
    bool ok = capbuf_add(&b, "", 0); /* an empty file is "" */
    size_t got = 0;
    while (ok && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        ok = capbuf_add(&b, chunk, got);
    bool failed = !ok || ferror(f) || !feof(f);
    if (f != stdin)
        fclose(f);
    if (failed) {
        bool too_large = b.too_large;
        capbuf_free(&b);
        myocds_err_set(err, too_large ? 413 : 500, "%s: %s", path,
                       too_large ? "larger than the limit" : "cannot be read");
        return NULL;
    }
    return capbuf_take(&b, len);
}

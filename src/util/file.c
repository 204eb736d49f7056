/* file.c - read a whole file under a size cap. */
#include "util/file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_CHUNK 65536

char *file_read(const char *path, size_t max, size_t *len, struct myocds_err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        myocds_err_set(err, 500, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = FILE_CHUNK;
    size_t n = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        if (n == cap) {
            char *grown = cap < max + 1 ? realloc(buf, cap * 2 + 1) : NULL;
            if (grown == NULL)
                break;
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > max || got == 0)
            break;
    }
    bool failed = buf == NULL || ferror(f) || n > max || !feof(f);
    if (f != stdin)
        fclose(f);
    if (failed) {
        free(buf);
        myocds_err_set(err, n > max ? 413 : 500, "%s: %s", path,
                       n > max ? "larger than the limit" : "cannot be read");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

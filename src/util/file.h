/* file.h - read a whole file under a size cap. */
#ifndef MYOCDS_UTIL_FILE_H
#define MYOCDS_UTIL_FILE_H

#include "myocds/myocds.h"

#include <stddef.h>

/* Reads path (or stdin for "-") into a malloc'd NUL-terminated buffer the caller frees.
 * Fails (NULL, err set) when it cannot be read or is larger than max bytes. */
char *file_read(const char *path, size_t max, size_t *len, struct myocds_err *err);

#endif

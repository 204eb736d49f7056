/* err.c - the error struct every layer fills for the one that answers the client. */
#include "myocds/myocds.h"

#include <stdarg.h>
#include <stdio.h>

int myocds_err_set(struct myocds_err *err, int http_status, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        err->http_status = http_status;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -http_status;
}

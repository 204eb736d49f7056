/* html.h - text from outside written safely into an HTML5 page (element text or a quoted
 * attribute value, inline SVG included). */
#ifndef MYOCDS_UTIL_HTML_H
#define MYOCDS_UTIL_HTML_H

#include <stdio.h>

/* Writes s (borrowed) to f with & < > " ' as character references, a control character
 * or a byte that is not part of well-formed UTF-8 as U+FFFD, the rest as it is. */
void html_put(FILE *f, const char *s);

#endif

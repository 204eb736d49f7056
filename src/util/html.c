/* html.c - escaping for HTML5 text and attribute values. */
#include "util/html.h"

#include <stddef.h>

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong form, no
 * surrogate, nothing past U+10FFFF), or 0 when there is none. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || c > 0xf4)
        return 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

void html_put(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        unsigned char c = *p;
        size_t n = 1;
        if (c == '&')
            fputs("&amp;", f);
        else if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c == '\'')
            fputs("&#39;", f);
        else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            fputs(REPLACEMENT, f);
        else if (c < 0x80)
            fputc(c, f);
        else if ((n = utf8_len(p)) == 0 || (c == 0xc2 && p[1] < 0xa0)) {
            fputs(REPLACEMENT, f); /* a stray byte, or a C1 control character */
            n = n == 0 ? 1 : n;
        } else {
            fwrite(p, 1, n, f);
        }
        p += n;
    }
}

/* textmatch.c - whole-word, case-insensitive name matching. */
#include "clinical/textmatch.h"

#include <ctype.h>
#include <string.h>

char *text_lower(const char *src, char *dst, size_t cap)
{
    size_t i = 0;
    for (; src != NULL && src[i] != '\0' && i + 1 < cap; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
    return dst;
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) != 0;
}

long text_find(const char *lowered, const char *pattern)
{
    size_t n = strlen(pattern);
    bool prefix = n > 0 && pattern[n - 1] == '*';
    if (prefix)
        n--;
    if (n == 0)
        return -1;
    for (const char *p = strchr(lowered, pattern[0]); p != NULL; p = strchr(p + 1, pattern[0])) {
        if (strncmp(p, pattern, n) != 0)
            continue;
        bool starts = p == lowered || !is_word_char(p[-1]);
        bool ends = prefix || !is_word_char(p[n]);
        if (starts && ends)
            return (long)(p - lowered);
    }
    return -1;
}

bool text_better(long pos, size_t len, long best_pos, size_t best_len)
{
    if (pos < 0)
        return false;
    if (best_pos < 0 || pos < best_pos)
        return true;
    return pos == best_pos && len > best_len;
}

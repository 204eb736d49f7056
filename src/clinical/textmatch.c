/* textmatch.c - whole-word, case-insensitive name matching. */
#include "clinical/textmatch.h"

#include <string.h>

char *text_lower(const char *src, char *dst, size_t cap)
{
    size_t i = 0;
    for (; src != NULL && src[i] != '\0' && i + 1 < cap; i++)
        dst[i] = src[i] >= 'A' && src[i] <= 'Z' ? (char)(src[i] - 'A' + 'a') : src[i];
    dst[i] = '\0';
    return dst;
}

bool text_match_at(const char *lowered, const char *pattern)
{
    size_t i = 0;
    /* A '*' is a wildcard only as the last byte of the pattern. */
    while (pattern[i] != '\0' && !(pattern[i] == '*' && pattern[i + 1] == '\0') &&
           lowered[i] == pattern[i])
        i++;
    if (pattern[i] == '\0')
        return i > 0 && !text_word_char(lowered[i]);
    return i > 0 && pattern[i] == '*' && pattern[i + 1] == '\0';
}

long text_find(const char *lowered, const char *pattern)
{
    for (size_t i = 0; lowered[i] != '\0'; i++)
        if (text_word_start(lowered, i) && text_match_at(lowered + i, pattern))
            return (long)i;
    return -1;
}

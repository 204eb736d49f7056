/* textmatch.h - whole-word, case-insensitive name matching for free-text FHIR fields.
 *
 * EHRs send "predniSONE 20 mg tablet" with no coding; terminology names are matched on
 * word boundaries so "prednisolone" never matches inside "methylprednisolone".
 * A pattern ending in '*' matches any word that starts with it ("inhal*").
 */
#ifndef MYOCDS_CLINICAL_TEXTMATCH_H
#define MYOCDS_CLINICAL_TEXTMATCH_H

#include <stdbool.h>
#include <stddef.h>

#define TEXT_MATCH_MAX 512 /* longer texts are matched on their first 512 bytes */

/* Lower-cases src (ASCII) into dst[cap]. Returns dst. */
char *text_lower(const char *src, char *dst, size_t cap);

/* Position of the first whole-word occurrence of pattern in lowered text, or -1.
 * pattern is lower-case; a trailing '*' allows the word to continue. */
long text_find(const char *lowered, const char *pattern);

/* True when pattern matches lowered text at its start and the word ends there (or the
 * pattern ends in '*'). The caller checks that a word starts at lowered. */
bool text_match_at(const char *lowered, const char *pattern);

/* An ASCII letter or digit (what isalnum() says in the C locale, without its call). */
static inline bool text_word_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* True when a word may start at position i of lowered text (i == 0 or after a non-word
 * character): the only places text_find() accepts a match. Inline: called per byte. */
static inline bool text_word_start(const char *lowered, size_t i)
{
    return i == 0 || !text_word_char(lowered[i - 1]);
}

#endif

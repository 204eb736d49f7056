/* fuzz.h - what every fuzz target defines, for libFuzzer and for the replay driver. */
#ifndef MYOCDS_FUZZ_FUZZ_H
#define MYOCDS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One input, borrowed for the call. Returns 0 (libFuzzer's contract); a bug shows as a
 * sanitizer report or a crash. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

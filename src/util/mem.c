/* mem.c - glibc allocator settings for a long-running server (see mem.h). */
#include "util/mem.h"

#include <malloc.h>

int mem_keep_heap(void)
{
    /* Setting any of these also stops glibc's own threshold adjustments: all three. */
    int ok = mallopt(M_MMAP_THRESHOLD, MEM_MMAP_THRESHOLD);
    ok &= mallopt(M_TRIM_THRESHOLD, MEM_TRIM_THRESHOLD);
    ok &= mallopt(M_TOP_PAD, MEM_TOP_PAD);
    ok &= mallopt(M_MXFAST, 0); /* no fastbins: see mem.h */
    return ok == 1 ? 0 : -1;
}

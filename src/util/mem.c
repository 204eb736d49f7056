/* mem.c - glibc allocator settings for a long-running server (see mem.h). */
#include "util/mem.h"

#include <malloc.h>
#include <unistd.h>

int mem_keep_heap(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* Setting any of these also stops glibc's own threshold adjustments: all three. */
    int ok = mallopt(M_MMAP_THRESHOLD, MEM_MMAP_THRESHOLD);
    ok &= mallopt(M_TRIM_THRESHOLD, MEM_TRIM_THRESHOLD);
    ok &= mallopt(M_TOP_PAD, MEM_TOP_PAD);
    /* One arena per CPU: a thread per connection would otherwise spread the same work
     * over up to 8 arenas per CPU, each keeping its own high-water mark. */
    ok &= mallopt(M_ARENA_MAX, cpus > 0 && cpus < MEM_ARENAS_MAX ? (int)cpus : MEM_ARENAS_MAX);
    return ok == 1 ? 0 : -1;
}

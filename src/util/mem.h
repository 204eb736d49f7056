/* mem.h - how the process's allocator keeps memory between requests. */
#ifndef MYOCDS_UTIL_MEM_H
#define MYOCDS_UTIL_MEM_H

#define MEM_MMAP_THRESHOLD ((int)32 << 20) /* blocks below this come from the heap */
#define MEM_TRIM_THRESHOLD ((int)32 << 20) /* free heap kept before giving it back */
#define MEM_TOP_PAD ((int)16 << 20)        /* the heap grows in steps of at least this */

/* Lets glibc keep freed memory for the next request instead of returning it to the
 * kernel after each one. A request's JSON tree is thousands of small blocks (about 16
 * times the body's size) and its body one large block; by default a body over 128 KiB is
 * mmap'ed and unmapped, and the heap trimmed, at every request, and the next request
 * faults the same pages in again. Resident memory stays at the high-water mark instead.
 * Fastbins are off: a freed tree's blocks would wait in them unmerged, and the next large
 * request (a growing array or string) makes glibc merge them all at once, walking every
 * block of the old tree (malloc_consolidate was 43 % of a 10,000-resource request's time;
 * without fastbins that request costs 0.6 of it, the 100-resource one no more). Freed
 * blocks merge as they are freed, back into the heap's top, and the next tree is laid out
 * in order again.
 * The heap is trimmed only past MEM_TRIM_THRESHOLD free at its top, at the free that
 * passes it: the server's idle malloc_trim gives back what sits in any arena's free lists,
 * but a thread's arena (where the request threads and the connection thread allocate) has
 * its top trimmed only this way, so a burst of large bodies leaves at most this much, plus
 * MEM_TOP_PAD, behind in each. 32 MiB is above any one request of the benchmark's realistic
 * size (a 10,000-resource request costs no more than with 256 MiB).
 * Call once, before threads start. Returns 0, or -1 when glibc refused a setting. */
int mem_keep_heap(void);

#endif

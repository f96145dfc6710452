/* The failing allocator of `make failalloc` (tests/failalloc/README.md).
 * In that build every malloc, calloc, realloc and strdup of the library's
 * objects (stack/, link/, ip/, tcp/) is renamed to fa_* by objcopy, so only
 * the stack's own allocations can fail: Check, libc and the tests allocate
 * as usual. */
#ifndef TAPSTACK_FAILALLOC_H
#define TAPSTACK_FAILALLOC_H

#include <stddef.h>

void *fa_malloc(size_t n);
void *fa_calloc(size_t k, size_t n);
void *fa_realloc(void *p, size_t n);
char *fa_strdup(const char *s);

/* Deterministic mode for regression tests: the nth allocation from now
 * (1 = the next one) fails, and only that one; 0 turns it off. It turns
 * the seeded rule off for the rest of the process (with CK_FORK=yes, the
 * rest of the test). */
void fa_fail_nth(unsigned long n);
/* The library's allocations counted so far in this process, and those failed. */
unsigned long fa_count(void);
unsigned long fa_failed(void);

#endif

/* The failing allocator: see failalloc.h and README.md.
 *
 * The seeded rule: each allocation of the library fails with probability
 * 1/RATE once AFTER of them have succeeded in the process, from a
 * pseudo-random stream seeded by TAPSTACK_FAILALLOC_SEED. Check forks a
 * child per test (CK_FORK=yes), and every child starts from the parent's
 * state, so a test's failures replay from the seed alone. The totals of
 * every child are kept in a shared page and printed by the parent at exit. */
#include "tests/failalloc/failalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct fa_totals {
	unsigned long allocs, failed;
};

static struct fa_totals *totals;  /* shared by every forked test */
static pid_t parent;
static uint64_t state;            /* the seeded stream */
static unsigned long seed, rate, after;
static unsigned long count, nfailed, nth;

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoul(v, NULL, 0) : dflt;
}

__attribute__((constructor)) static void fa_init(void)
{
	seed = env_ul("TAPSTACK_FAILALLOC_SEED", 1);
	rate = env_ul("TAPSTACK_FAILALLOC_RATE", 50);
	after = env_ul("TAPSTACK_FAILALLOC_AFTER", 10);
	state = seed * 0x9e3779b97f4a7c15ull + 1;
	parent = getpid();
	void *m = mmap(NULL, sizeof(*totals), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	totals = m == MAP_FAILED ? NULL : m;
	fprintf(stderr, "failalloc: seed %lu rate 1/%lu after %lu\n", seed, rate, after);
}

__attribute__((destructor)) static void fa_fini(void)
{
	if (getpid() != parent || !totals)
		return;
	fprintf(stderr, "failalloc: seed %lu: %lu allocations, %lu failed\n", seed,
		__atomic_load_n(&totals->allocs, __ATOMIC_RELAXED) + count,
		__atomic_load_n(&totals->failed, __ATOMIC_RELAXED) + nfailed);
}

/* splitmix64 */
static uint64_t fa_next(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Counts one allocation and says whether it fails. */
static int fa_fail(void)
{
	int fail;
	count++;
	if (nth) {
		fail = --nth == 0;
		(void)fa_next();
	} else {
		uint64_t r = fa_next();
		fail = rate && count > after && r % rate == 0;
	}
	if (fail)
		nfailed++;
	if (totals && getpid() != parent) {
		__atomic_fetch_add(&totals->allocs, 1, __ATOMIC_RELAXED);
		if (fail)
			__atomic_fetch_add(&totals->failed, 1, __ATOMIC_RELAXED);
	}
	return fail;
}

void fa_fail_nth(unsigned long n)
{
	nth = n;
	rate = 0; /* the seeded rule off for good: the test decides alone */
}
unsigned long fa_count(void) { return count; }
unsigned long fa_failed(void) { return nfailed; }

void *fa_malloc(size_t n) { return fa_fail() ? NULL : malloc(n); }
void *fa_calloc(size_t k, size_t n) { return fa_fail() ? NULL : calloc(k, n); }
void *fa_realloc(void *p, size_t n) { return fa_fail() ? NULL : realloc(p, n); }
char *fa_strdup(const char *s) { return fa_fail() ? NULL : strdup(s); }

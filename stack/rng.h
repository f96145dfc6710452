/* A seeded pseudo-random generator (xoshiro256**, seeded through splitmix64).
 * Every random choice in the stack (ISNs, ephemeral ports, DNS ids,
 * impairment dice) comes from one of these, so a fixed seed replays a run
 * exactly (stack/README.md, decision 2). Not for cryptographic keys: a
 * production host seeds it from getrandom(). */
#ifndef TAPSTACK_RNG_H
#define TAPSTACK_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Seeds the generator; any seed (including 0) is fine. */
void rng_seed(struct rng *r, uint64_t seed);

/* Next 64 random bits. */
uint64_t rng_next(struct rng *r);

/* Fills len bytes of buf with the next draws, 8 bytes a draw (a key for
 * siphash: ISNs, stable IPv6 identifiers, IPv4 identifications). */
void rng_fill(struct rng *r, void *buf, size_t len);

/* A uniform integer in [0, n); n == 0 returns 0. */
uint64_t rng_below(struct rng *r, uint64_t n);

/* A uniform double in [0, 1). */
double rng_double(struct rng *r);

/* True with probability p (p <= 0 never, p >= 1 always). */
bool rng_chance(struct rng *r, double p);

#endif

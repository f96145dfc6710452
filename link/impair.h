/* Impairments: the deterministic dice shared by the simlink and by the
 * impair device (loss, duplication, reordering, corruption, delay, jitter
 * and a rate limit with a bounded queue). There is no netem on the lab
 * machines: this is how labs and tests make a bad network. */
#ifndef TAPSTACK_IMPAIR_H
#define TAPSTACK_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link/netdev.h"
#include "stack/rng.h"

struct impair_cfg {
	double loss;          /* probability a frame is dropped, 0..1 */
	double dup;           /* probability a frame is sent twice */
	double reorder;       /* probability a frame is held back behind later ones */
	double corrupt;       /* probability one random bit of a frame is flipped */
	int64_t delay_us;     /* fixed one-way delay */
	int64_t jitter_us;    /* extra delay, uniform in [0, jitter] */
	uint64_t rate_bps;    /* link rate in bits/s; 0 = unlimited */
	size_t queue_limit;   /* most frames on their way (waiting for the link or
			       * delayed); 0 = default (1000) */
};

/* Parses "loss=P,dup=P,reorder=P,corrupt=P,delay=MS,jitter=MS,rate=BPS,queue=N"
 * (any subset, any order). P is a fraction (0.2) or a percentage (20%);
 * delay and jitter are milliseconds (decimals allowed); rate takes a
 * k/M/G suffix (10M = 10,000,000 bit/s). Returns 0, or -1 with a one-line
 * explanation in err. cfg is zeroed first. */
int impair_parse(const char *spec, struct impair_cfg *cfg, char *err, size_t errlen);

/* True if cfg changes nothing (all zero). */
bool impair_is_none(const struct impair_cfg *cfg);

/* A delay line: one direction of an impaired link. Frames go in with
 * delayline_push() and come out, in delivery-time order, with
 * delayline_pop() once their time has come. */
struct delayline {
	struct impair_cfg cfg;
	struct rng rng;
	struct pkt *head;       /* frames in flight, sorted by p->time */
	size_t count;
	int64_t link_free_at;   /* when the rate-limited link finishes its last frame */
	int64_t last_due;       /* when the last frame not reordered is due (jitter keeps order) */
	struct stats **stats;   /* where to count drops (points at the device's stats pointer) */
};

void delayline_init(struct delayline *dl, const struct impair_cfg *cfg, uint64_t seed, struct stats **stats);

/* Rolls the dice for p at time now: drops it ("impair.loss", or
 * "impair.queue_full" when the rate limit's queue is full), maybe corrupts a
 * bit ("impair.corrupt"), maybe duplicates it ("impair.dup"), maybe reorders
 * it ("impair.reorder"), and schedules delivery. Consumes p. */
void delayline_push(struct delayline *dl, struct pkt *p, int64_t now);

/* The first frame due at or before now, or NULL. The caller owns it. */
struct pkt *delayline_pop(struct delayline *dl, int64_t now);

/* When the next frame is due, or NETDEV_NO_DEADLINE. */
int64_t delayline_next(const struct delayline *dl);

/* Frees every frame still in flight. */
void delayline_purge(struct delayline *dl);

/* Wraps inner with the dice in both directions (independent streams
 * derived from seed). Closing the result closes inner. Returns NULL if out
 * of memory. */
struct netdev *impair_wrap(struct netdev *inner, const struct impair_cfg *cfg, uint64_t seed);

#endif

/* The simulated link: an in-memory wire between two stacks in one process,
 * on virtual time, with the impairment dice of link/impair.h in each
 * direction. Simulated tests join two hosts with one of these. */
#ifndef TAPSTACK_SIMLINK_H
#define TAPSTACK_SIMLINK_H

#include "link/impair.h"
#include "link/netdev.h"

struct simlink;

/* Creates a link whose two directions both use cfg (NULL: a perfect wire),
 * with dice seeded from seed. Returns NULL if out of memory. */
struct simlink *simlink_new(const struct impair_cfg *cfg, uint64_t seed);

/* End 0 or 1 of the link: a frame sent on one end is received on the
 * other. The ends belong to the link (their close op does nothing). */
struct netdev *simlink_end(struct simlink *l, int end);

/* Changes the impairments of the direction that leaves end `from`. */
void simlink_set_cfg(struct simlink *l, int from, const struct impair_cfg *cfg);

/* A test's hand-picked drops: called for every frame sent on one end
 * (before the impairment dice) with the time; true = drop it (counted as
 * "simlink.filtered"). It only looks: the frame stays the link's. */
typedef bool (*simlink_filter_fn)(void *ctx, const struct pkt *p, int64_t now);

/* Installs fn for the frames sent on end `from` (fn NULL: none). */
void simlink_set_filter(struct simlink *l, int from, simlink_filter_fn fn, void *ctx);

/* Frees the link and every frame still on it. */
void simlink_free(struct simlink *l);

#endif

/* The simulated link: two device ends joined by two delay lines. A frame
 * sent on end 0 goes through line 0 and is received on end 1; a frame sent
 * on end 1 goes through line 1 and is received on end 0. Time is virtual:
 * the ends only see the `now` their hosts pass in. */
#include <stdio.h>
#include <stdlib.h>

#include "link/simlink.h"
#include "stack/pkt.h"
#include "stack/stats.h"

/* The seed of direction 1, derived from the seed of direction 0 (the same
 * constant as impair.c uses for an impair device's rx dice). */
#define SIMLINK_SEED_OTHER_DIRECTION 0x5851f42d4c957f2dULL

struct simlink_end {
	struct netdev dev;      /* first, so a struct netdev * is a struct simlink_end * */
	struct simlink *link;
	int index;              /* 0 or 1 */
};

struct simlink {
	struct simlink_end end[2];
	struct delayline line[2];   /* line[i] carries frames sent on end i */
	simlink_filter_fn filter[2]; /* filter[i] may drop frames sent on end i; NULL = none */
	void *filter_ctx[2];
};

static struct simlink_end *sim_end(struct netdev *d)
{
	return (struct simlink_end *)d;
}

/* Puts p on the line that leaves this end, unless the end's filter drops
 * it ("simlink.filtered", in the sending end's stats). Consumes p. Returns
 * 0 (the line counts its own drops in the sending end's stats too). */
static int simlink_send(struct netdev *d, struct pkt *p, int64_t now)
{
	struct simlink_end *e = sim_end(d);
	struct simlink *l = e->link;

	if (l->filter[e->index] && l->filter[e->index](l->filter_ctx[e->index], p, now)) {
		if (e->dev.stats)
			stats_inc(e->dev.stats, "simlink.filtered");
		pkt_free(p);
		return 0;
	}
	delayline_push(&l->line[e->index], p, now);
	return 0;
}

/* The next frame from the other end due at now, or NULL. The caller owns it. */
static struct pkt *simlink_recv(struct netdev *d, int64_t now)
{
	struct simlink_end *e = sim_end(d);

	return delayline_pop(&e->link->line[!e->index], now);
}

/* When the next frame for this end is due. */
static int64_t simlink_next_deadline(struct netdev *d)
{
	struct simlink_end *e = sim_end(d);

	return delayline_next(&e->link->line[!e->index]);
}

static const struct netdev_ops simlink_ops = {
	.send = simlink_send,
	.recv = simlink_recv,
	.next_deadline = simlink_next_deadline,
	.fd = NULL,             /* nothing to poll: the host's deadline covers it */
	.close = NULL,          /* the ends belong to the link: simlink_free() */
	.flush = NULL,
};

/* Creates a link with cfg (NULL: a perfect wire) both ways; direction 0
 * rolls dice seeded with seed, direction 1 with a seed derived from it.
 * Returns NULL if out of memory. */
struct simlink *simlink_new(const struct impair_cfg *cfg, uint64_t seed)
{
	static unsigned links;  /* numbers the links in device names: sim0.a, sim1.a, ... */
	struct simlink *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	for (int i = 0; i < 2; i++) {
		struct simlink_end *e = &l->end[i];
		e->dev.ops = &simlink_ops;
		snprintf(e->dev.name, sizeof(e->dev.name), "sim%u.%c", links, "ab"[i]);
		e->dev.mtu = 1500;
		e->dev.stats = NULL;
		e->link = l;
		e->index = i;
	}
	links++;
	delayline_init(&l->line[0], cfg, seed, &l->end[0].dev.stats);
	delayline_init(&l->line[1], cfg, seed ^ SIMLINK_SEED_OTHER_DIRECTION, &l->end[1].dev.stats);
	return l;
}

/* End 0 or 1 of the link (any other value is taken as 1). */
struct netdev *simlink_end(struct simlink *l, int end)
{
	return &l->end[end ? 1 : 0].dev;
}

/* Changes the impairments of the direction that leaves end `from` (NULL:
 * none). Frames already on the line keep their times; the dice go on with
 * the same generator. */
void simlink_set_cfg(struct simlink *l, int from, const struct impair_cfg *cfg)
{
	struct delayline *dl = &l->line[from ? 1 : 0];
	static const struct impair_cfg none;

	dl->cfg = cfg ? *cfg : none;
}

/* Installs fn (NULL: none) to look at every frame sent on end `from`
 * before the dice; a true answer drops the frame. */
void simlink_set_filter(struct simlink *l, int from, simlink_filter_fn fn, void *ctx)
{
	l->filter[from ? 1 : 0] = fn;
	l->filter_ctx[from ? 1 : 0] = ctx;
}

/* Frees the link and every frame still on it. NULL is ignored. */
void simlink_free(struct simlink *l)
{
	if (!l)
		return;
	delayline_purge(&l->line[0]);
	delayline_purge(&l->line[1]);
	free(l);
}

/* Impairments: the spec parser, the delay line (one direction of a bad
 * link) and the impair device that wraps any other device with two of them.
 *
 * What the dice do to a frame pushed into a delay line, in this order:
 *
 *   loss     the frame is dropped ("impair.loss").
 *   queue    queue_limit frames are already on their way: dropped
 *            ("impair.queue_full"). Like netem's limit, a frame counts
 *            whether it waits for the rate-limited link or is in flight
 *            (delayed); frames already due, waiting only for the receiver
 *            to read them, do not.
 *   dup      a copy (pkt_clone) is sent as well, right behind the original
 *            ("impair.dup"). The copy is never lost, corrupted or reordered.
 *   corrupt  one random bit is flipped ("impair.corrupt"): past the 14-byte
 *            Ethernet header when the frame is longer than that, so the
 *            damage reaches the checksums students look at.
 *   rate     the frame waits for the link, then takes len * 8 / rate seconds
 *            to serialize (Ethernet preamble, FCS and gap are not counted).
 *   delay    the fixed one-way delay is added,
 *   jitter   and a uniform extra in [0, jitter]. Jitter never changes the
 *            order of frames: a frame is never delivered before the frame in
 *            front of it (its time is raised to that frame's time).
 *   reorder  the frame is held back an extra delay + jitter + 1 ms
 *            ("impair.reorder"), so frames sent just after it overtake it.
 *            This is the only dice that reorders.
 *
 * Frames due at the same time come out in the order they went in. All dice
 * come from the line's own generator, so one seed replays the same run. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/impair.h"

#define IMPAIR_DEFAULT_QUEUE 1000
#define IMPAIR_REORDER_EXTRA_US 1000   /* hold-back of a reordered frame beyond delay + jitter */
#define IMPAIR_MAX_DELAY_MS 3600000.0  /* an hour: longer is surely a typo */
#define IMPAIR_MAX_RATE_BPS 1e12       /* 1 Tbit/s */
#define IMPAIR_MAX_QUEUE 1000000
#define IMPAIR_RX_BURST 64             /* frames read from the wrapped device per recv() */

/* The seed of the second direction, derived from the first (simlink.c uses
 * the same constant, so direction 0 of a simlink and the tx side of an
 * impair device seeded alike roll the same dice). */
#define IMPAIR_SEED_OTHER_DIRECTION 0x5851f42d4c957f2dULL

static const char impair_form[] =
	"loss=P,dup=P,reorder=P,corrupt=P,delay=MS,jitter=MS,rate=BPS,queue=N";

/* ---- the spec parser ------------------------------------------------- */

/* True if s is digits with at most one '.', and at least one digit. */
static bool is_decimal(const char *s, size_t n)
{
	size_t digits = 0, dots = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.')
			dots++;
		else
			return false;
	}
	return digits > 0 && dots <= 1;
}

/* Parses a probability "0.2" or "20%" into 0..1. Returns 0 or -1. */
static int parse_prob(const char *val, double *out)
{
	size_t n = strlen(val);
	double scale = 1.0;

	if (n > 0 && val[n - 1] == '%') {
		n--;
		scale = 100.0;
	}
	if (!is_decimal(val, n))
		return -1;
	double v = strtod(val, NULL) / scale;
	if (!(v >= 0.0 && v <= 1.0))
		return -1;
	*out = v;
	return 0;
}

/* Parses milliseconds "20" or "2.5" into microseconds. Returns 0 or -1. */
static int parse_ms(const char *val, int64_t *out_us)
{
	if (!is_decimal(val, strlen(val)))
		return -1;
	double ms = strtod(val, NULL);
	if (!(ms >= 0.0 && ms <= IMPAIR_MAX_DELAY_MS))
		return -1;
	*out_us = llround(ms * 1000.0);
	return 0;
}

/* Parses a rate "64000", "512k", "10M" or "1.5G" into bits/s. Returns 0 or -1. */
static int parse_rate(const char *val, uint64_t *out_bps)
{
	size_t n = strlen(val);
	double mult = 1.0;

	if (n > 0) {
		switch (val[n - 1]) {
		case 'k': case 'K': mult = 1e3; n--; break;
		case 'M': case 'm': mult = 1e6; n--; break;
		case 'G': case 'g': mult = 1e9; n--; break;
		}
	}
	if (!is_decimal(val, n))
		return -1;
	double bps = strtod(val, NULL) * mult;
	if (!(bps <= IMPAIR_MAX_RATE_BPS) || (bps > 0.0 && bps < 1.0))
		return -1;
	*out_bps = (uint64_t)llround(bps);
	return 0;
}

/* Parses a queue length "50": a whole number 1..IMPAIR_MAX_QUEUE. Returns 0 or -1. */
static int parse_count(const char *val, size_t *out)
{
	size_t n = strlen(val);

	if (n == 0 || n > 7 || strspn(val, "0123456789") != n)
		return -1;
	unsigned long v = strtoul(val, NULL, 10);
	if (v < 1 || v > IMPAIR_MAX_QUEUE)
		return -1;
	*out = v;
	return 0;
}

/* Parses one "key=value" item into cfg. seen has a bit per key already
 * given. Returns 0, or -1 with the reason in err. */
static int parse_item(const char *item, struct impair_cfg *cfg, unsigned *seen,
		      char *err, size_t errlen)
{
	static const char *const keys[] = {
		"loss", "dup", "reorder", "corrupt", "delay", "jitter", "rate", "queue",
	};
	const char *eq = strchr(item, '=');
	size_t klen = eq ? (size_t)(eq - item) : strlen(item);
	int k;

	for (k = 0; k < 8; k++)
		if (strlen(keys[k]) == klen && strncmp(item, keys[k], klen) == 0)
			break;
	if (k == 8) {
		snprintf(err, errlen, "unknown impairment \"%s\": use %s", item, impair_form);
		return -1;
	}
	if (!eq) {
		snprintf(err, errlen, "impairment \"%s\" has no value: write %s=VALUE (%s)",
			 item, keys[k], impair_form);
		return -1;
	}
	if (*seen & (1u << k)) {
		snprintf(err, errlen, "impairment \"%s\": %s is given twice", item, keys[k]);
		return -1;
	}
	*seen |= 1u << k;

	const char *val = eq + 1;
	switch (k) {
	case 0: if (parse_prob(val, &cfg->loss) == 0) return 0; break;
	case 1: if (parse_prob(val, &cfg->dup) == 0) return 0; break;
	case 2: if (parse_prob(val, &cfg->reorder) == 0) return 0; break;
	case 3: if (parse_prob(val, &cfg->corrupt) == 0) return 0; break;
	case 4: if (parse_ms(val, &cfg->delay_us) == 0) return 0; break;
	case 5: if (parse_ms(val, &cfg->jitter_us) == 0) return 0; break;
	case 6: if (parse_rate(val, &cfg->rate_bps) == 0) return 0; break;
	case 7: if (parse_count(val, &cfg->queue_limit) == 0) return 0; break;
	}
	if (k <= 3)
		snprintf(err, errlen, "bad impairment \"%s\": %s is a probability, a fraction "
			 "0..1 or a percentage 0%%..100%% (e.g. %s=0.2 or %s=20%%)",
			 item, keys[k], keys[k], keys[k]);
	else if (k <= 5)
		snprintf(err, errlen, "bad impairment \"%s\": %s is milliseconds, 0 to %.0f, "
			 "decimals allowed (e.g. %s=20 or %s=2.5)",
			 item, keys[k], IMPAIR_MAX_DELAY_MS, keys[k], keys[k]);
	else if (k == 6)
		snprintf(err, errlen, "bad impairment \"%s\": rate is bits per second with an "
			 "optional k, M or G (e.g. rate=512k or rate=10M; 0 = unlimited)", item);
	else
		snprintf(err, errlen, "bad impairment \"%s\": queue is a number of frames, "
			 "1 to %d (e.g. queue=100)", item, IMPAIR_MAX_QUEUE);
	return -1;
}

/* Parses an impairment spec (see impair.h) into cfg. "" and "none" mean no
 * impairment. Returns 0, or -1 with a one-line explanation in err. */
int impair_parse(const char *spec, struct impair_cfg *cfg, char *err, size_t errlen)
{
	unsigned seen = 0;
	char item[96];

	memset(cfg, 0, sizeof(*cfg));
	if (errlen > 0)
		err[0] = '\0';
	if (spec[0] == '\0' || strcmp(spec, "none") == 0)
		return 0;

	const char *p = spec;
	for (;;) {
		size_t n = strcspn(p, ",");
		if (n == 0) {
			snprintf(err, errlen, "empty item in impairment \"%s\": use %s",
				 spec, impair_form);
			goto fail;
		}
		if (n >= sizeof(item)) {
			snprintf(err, errlen, "impairment item \"%.20s...\" is too long: use %s",
				 p, impair_form);
			goto fail;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (parse_item(item, cfg, &seen, err, errlen) < 0)
			goto fail;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
fail:
	memset(cfg, 0, sizeof(*cfg));
	return -1;
}

/* True if cfg changes nothing (every field zero). */
bool impair_is_none(const struct impair_cfg *cfg)
{
	return cfg->loss == 0 && cfg->dup == 0 && cfg->reorder == 0 && cfg->corrupt == 0 &&
	       cfg->delay_us == 0 && cfg->jitter_us == 0 && cfg->rate_bps == 0 &&
	       cfg->queue_limit == 0;
}

/* ---- the delay line -------------------------------------------------- */

/* Counts an event of the line in its owner's stats, if it has any. */
static void dl_count(struct delayline *dl, const char *name)
{
	if (dl->stats && *dl->stats)
		stats_inc(*dl->stats, name);
}

/* Prepares an empty line with these impairments (NULL: none) and dice seeded from seed. */
void delayline_init(struct delayline *dl, const struct impair_cfg *cfg, uint64_t seed,
		    struct stats **stats)
{
	memset(dl, 0, sizeof(*dl));
	if (cfg)
		dl->cfg = *cfg;
	rng_seed(&dl->rng, seed);
	dl->link_free_at = INT64_MIN;
	dl->last_due = INT64_MIN;
	dl->stats = stats;
}

/* Flips one random bit of p: past the Ethernet header when there is
 * anything past it, else anywhere. p stays with the caller. */
static void dl_corrupt(struct delayline *dl, struct pkt *p)
{
	size_t from = p->len > 14 ? 14 : 0;
	size_t nbits = (p->len - from) * 8;

	if (nbits == 0)
		return;
	uint64_t bit = rng_below(&dl->rng, nbits);
	p->data[from + bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

/* Links p into the line after every frame due at or before p->time, so
 * frames due together keep their order. Takes p. */
static void dl_insert(struct delayline *dl, struct pkt *p)
{
	struct pkt **pp = &dl->head;

	while (*pp && (*pp)->time <= p->time)
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
	dl->count++;
}

/* Number of frames on the line not yet due at now (waiting for the link
 * or in flight). */
static size_t dl_on_the_way(const struct delayline *dl, int64_t now)
{
	size_t due = 0;

	for (const struct pkt *p = dl->head; p && p->time <= now; p = p->next)
		due++;
	return dl->count - due;
}

/* Works out when p, sent at now, arrives (rate, delay, jitter, and the
 * reorder hold-back if reordered) and links it in. Consumes p: drops it
 * with "impair.queue_full" when queue_limit frames are on their way. */
static void dl_schedule(struct delayline *dl, struct pkt *p, int64_t now, bool reordered)
{
	const struct impair_cfg *c = &dl->cfg;
	size_t limit = c->queue_limit ? c->queue_limit : IMPAIR_DEFAULT_QUEUE;
	int64_t t = now;

	if (dl_on_the_way(dl, now) >= limit) {
		dl_count(dl, "impair.queue_full");
		pkt_free(p);
		return;
	}
	if (c->rate_bps) {
		/* The frame waits for the frames ahead of it, then serializes. */
		uint64_t bits = (uint64_t)p->len * 8;
		int64_t tx_us = (int64_t)((bits * 1000000 + c->rate_bps - 1) / c->rate_bps);
		int64_t start = dl->link_free_at > now ? dl->link_free_at : now;
		dl->link_free_at = start + tx_us;
		t = dl->link_free_at;
	}
	t += c->delay_us;
	if (c->jitter_us > 0)
		t += (int64_t)rng_below(&dl->rng, (uint64_t)c->jitter_us + 1);
	if (reordered) {
		t += c->delay_us + c->jitter_us + IMPAIR_REORDER_EXTRA_US;
	} else {
		if (t < dl->last_due)
			t = dl->last_due;   /* jitter does not reorder */
		dl->last_due = t;
	}
	p->time = t;
	dl_insert(dl, p);
}

/* Rolls the dice for p at time now and schedules its delivery (see the
 * top of this file for what each dice does). Consumes p. */
void delayline_push(struct delayline *dl, struct pkt *p, int64_t now)
{
	const struct impair_cfg *c = &dl->cfg;
	struct pkt *copy = NULL;

	p->next = NULL;
	if (rng_chance(&dl->rng, c->loss)) {
		dl_count(dl, "impair.loss");
		pkt_free(p);
		return;
	}
	if (rng_chance(&dl->rng, c->dup)) {
		copy = pkt_clone(p);    /* out of buffers: no duplicate this time */
		if (copy)
			dl_count(dl, "impair.dup");
	}
	if (rng_chance(&dl->rng, c->corrupt)) {
		dl_corrupt(dl, p);
		dl_count(dl, "impair.corrupt");
	}
	bool reordered = rng_chance(&dl->rng, c->reorder);
	if (reordered)
		dl_count(dl, "impair.reorder");
	dl_schedule(dl, p, now, reordered);
	if (copy)
		dl_schedule(dl, copy, now, false);
}

/* Unlinks and returns the first frame due at or before now, or NULL. The
 * caller owns it; p->time holds its delivery time. */
struct pkt *delayline_pop(struct delayline *dl, int64_t now)
{
	struct pkt *p = dl->head;

	if (!p || p->time > now)
		return NULL;
	dl->head = p->next;
	p->next = NULL;
	dl->count--;
	return p;
}

/* When the next frame is due, or NETDEV_NO_DEADLINE. */
int64_t delayline_next(const struct delayline *dl)
{
	return dl->head ? dl->head->time : NETDEV_NO_DEADLINE;
}

/* Frees every frame still in flight. */
void delayline_purge(struct delayline *dl)
{
	pkt_free_chain(dl->head);
	dl->head = NULL;
	dl->count = 0;
}

/* ---- the impair device ----------------------------------------------- */

struct impair_dev {
	struct netdev dev;      /* first, so a struct netdev * is a struct impair_dev * */
	struct netdev *inner;
	struct delayline tx;    /* frames on their way to inner */
	struct delayline rx;    /* frames from inner on their way up */
	bool none;              /* no impairments: a plain pass-through */
};

static struct impair_dev *impair_dev(struct netdev *d)
{
	return (struct impair_dev *)d;
}

/* The wrapped device counts in the same table as the wrapper (the owner
 * sets the stats pointer on the outermost device only). */
static void impair_sync_stats(struct impair_dev *w)
{
	w->inner->stats = w->dev.stats;
}

/* Sends every tx frame due at or before now down to the wrapped device,
 * each stamped with its own delivery time. */
static void impair_tx_due(struct impair_dev *w, int64_t now)
{
	struct pkt *p;

	while ((p = delayline_pop(&w->tx, now)) != NULL)
		netdev_send(w->inner, p, p->time);
}

/* Puts p into the tx line, then sends what is due. Consumes p. Returns 0
 * (the wrapped device's answer when there are no impairments). */
static int impair_send(struct netdev *d, struct pkt *p, int64_t now)
{
	struct impair_dev *w = impair_dev(d);

	impair_sync_stats(w);
	if (w->none)
		return netdev_send(w->inner, p, now);
	impair_tx_due(w, now);
	delayline_push(&w->tx, p, now);
	impair_tx_due(w, now);
	return 0;
}

/* Sends what is due on tx, then returns the next rx frame due at now:
 * reads the wrapped device (at most IMPAIR_RX_BURST frames) into the rx
 * line until one comes out. The caller owns the frame. */
static struct pkt *impair_recv(struct netdev *d, int64_t now)
{
	struct impair_dev *w = impair_dev(d);
	struct pkt *p;

	impair_sync_stats(w);
	if (w->none)
		return netdev_recv(w->inner, now);
	impair_tx_due(w, now);
	p = delayline_pop(&w->rx, now);
	for (int i = 0; !p && i < IMPAIR_RX_BURST; i++) {
		struct pkt *in = netdev_recv(w->inner, now);
		if (!in)
			break;
		delayline_push(&w->rx, in, now);
		p = delayline_pop(&w->rx, now);
	}
	return p;
}

/* The earliest of: the next tx frame due to the wrapped device, the next
 * rx frame due up, and the wrapped device's own deadline. */
static int64_t impair_next_deadline(struct netdev *d)
{
	struct impair_dev *w = impair_dev(d);
	int64_t t = delayline_next(&w->tx);
	int64_t r = delayline_next(&w->rx);
	int64_t i = netdev_next_deadline(w->inner);

	if (r < t)
		t = r;
	if (i < t)
		t = i;
	return t;
}

/* The wrapped device's descriptor. */
static int impair_fd(struct netdev *d)
{
	return netdev_fd(impair_dev(d)->inner);
}

/* Passes the flush on to the wrapped device. */
static void impair_flush(struct netdev *d)
{
	netdev_flush(impair_dev(d)->inner);
}

/* Frees the frames still in both lines, closes the wrapped device, frees d. */
static void impair_close(struct netdev *d)
{
	struct impair_dev *w = impair_dev(d);

	delayline_purge(&w->tx);
	delayline_purge(&w->rx);
	netdev_close(w->inner);
	free(w);
}

static const struct netdev_ops impair_ops = {
	.send = impair_send,
	.recv = impair_recv,
	.next_deadline = impair_next_deadline,
	.fd = impair_fd,
	.close = impair_close,
	.flush = impair_flush,
};

/* Wraps inner with cfg in both directions: tx dice seeded with seed, rx
 * dice with a seed derived from it. The result has inner's name and MTU.
 * Closing it closes inner. Returns NULL if out of memory (inner left open). */
struct netdev *impair_wrap(struct netdev *inner, const struct impair_cfg *cfg, uint64_t seed)
{
	struct impair_dev *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->dev.ops = &impair_ops;
	snprintf(w->dev.name, sizeof(w->dev.name), "%s", inner->name);
	w->dev.mtu = inner->mtu;
	w->dev.stats = inner->stats;
	w->inner = inner;
	delayline_init(&w->tx, cfg, seed, &w->dev.stats);
	delayline_init(&w->rx, cfg, seed ^ IMPAIR_SEED_OTHER_DIRECTION, &w->dev.stats);
	w->none = !cfg || impair_is_none(cfg);
	return &w->dev;
}

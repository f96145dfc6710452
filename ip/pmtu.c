/* The path MTU cache (RFC 8201, RFC 1191). See pmtu.h.
 *
 * A small table of (destination, MTU, expiry). Nothing runs when an entry
 * expires: a lookup after its time simply does not see it (RFC 8201 5.3:
 * after 10 minutes the estimate goes back to the link MTU, which "probes"
 * the path again with the next large datagram). */
#include "ip/pmtu.h"

#include <string.h>

#include "stack/stack.h"

/* Empties the cache. */
void pmtu_init(struct pmtu_cache *c)
{
	memset(c, 0, sizeof(*c));
}

/* The live entry for dst at now, or NULL. An expired one is freed. */
static struct pmtu_entry *pmtu_find(struct pmtu_cache *c, const struct ipaddr *dst, int64_t now)
{
	for (int i = 0; i < PMTU_MAX_ENTRIES; i++) {
		struct pmtu_entry *e = &c->e[i];
		if (e->dst.family == 0 || !ipaddr_eq(&e->dst, dst))
			continue;
		if (e->expires <= now) {
			memset(e, 0, sizeof(*e));
			c->used--;
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* See pmtu.h. Every datagram sent asks, so an empty cache answers at once. */
unsigned pmtu_get(struct stack *s, const struct ipaddr *dst, unsigned link_mtu)
{
	if (s->pmtu.used == 0)
		return link_mtu;
	const struct pmtu_entry *e = pmtu_find(&s->pmtu, dst, s->now);

	return e && e->mtu < link_mtu ? e->mtu : link_mtu;
}

/* A slot for a new entry: a free or expired one, else the one that would
 * expire first (it is the oldest news). */
static struct pmtu_entry *pmtu_slot(struct pmtu_cache *c, int64_t now)
{
	struct pmtu_entry *best = &c->e[0];

	for (int i = 0; i < PMTU_MAX_ENTRIES; i++) {
		struct pmtu_entry *e = &c->e[i];
		if (e->dst.family == 0 || e->expires <= now)
			return e;
		if (e->expires < best->expires)
			best = e;
	}
	return best;
}

/* See pmtu.h. */
unsigned pmtu_update(struct stack *s, const struct ipaddr *dst, uint32_t mtu, unsigned link_mtu)
{
	char a[IPADDR_STRLEN];
	unsigned floor = dst->family == AF_INET6 ? PMTU_MIN_V6 : PMTU_MIN_V4;
	unsigned now_mtu = pmtu_get(s, dst, link_mtu);

	/* RFC 8201 4: never below the minimum link MTU (1280; and RFC 8021:
	 * no atomic fragments either, so a smaller one just means 1280) */
	if (mtu < floor) {
		stats_inc(&s->stats, "pmtu.clamped");
		mtu = floor;
	}
	/* RFC 8201 4: a Packet Too Big never increases the estimate */
	if (mtu >= now_mtu) {
		stats_inc(&s->stats, "pmtu.not_lower");
		return 0;
	}
	struct pmtu_entry *e = pmtu_find(&s->pmtu, dst, s->now);
	if (!e) {
		e = pmtu_slot(&s->pmtu, s->now);
		if (e->dst.family == 0)
			s->pmtu.used++;
	}
	e->dst = *dst;
	e->mtu = mtu;
	e->expires = s->now + PMTU_AGE_US;
	stats_inc(&s->stats, "pmtu.lowered");
	TRACE(s, "pmtu %s: %u -> %u", ipaddr_ntop(dst, a, sizeof(a)), now_mtu, mtu);
	return mtu;
}

/* See pmtu.h. Entries past their time are not shown (nor freed: a dump
 * changes nothing). */
void pmtu_dump(const struct pmtu_cache *c, int64_t now, FILE *out)
{
	char a[IPADDR_STRLEN];

	for (int i = 0; i < PMTU_MAX_ENTRIES; i++) {
		const struct pmtu_entry *e = &c->e[i];
		if (e->dst.family == 0 || e->expires <= now)
			continue;
		fprintf(out, "cache %s mtu %u expires %llds\n", ipaddr_ntop(&e->dst, a, sizeof(a)),
			e->mtu, (long long)((e->expires - now + 999999) / 1000000));
	}
}

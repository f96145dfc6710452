/* The routing table: one array of routes of either family, searched by
 * longest prefix match. See route.h.
 *
 * A host's table is small (a connected route per interface, a default route,
 * a few static ones), so a linear scan is both the fastest and the clearest
 * choice; a router would use a trie. */
#include "ip/route.h"

#include <errno.h>
#include <string.h>

/* Empties the table. */
void route_table_init(struct route_table *t)
{
	memset(t, 0, sizeof(*t));
}

/* True if two next hops are the same: both unset (on-link), or equal. */
static bool route_gw_eq(const struct ipaddr *x, const struct ipaddr *y)
{
	if (x->family == 0 || y->family == 0)
		return x->family == y->family;
	return ipaddr_eq(x, y);
}

/* The index of the route with exactly this prefix, length and gateway
 * (prefix already masked; gw NULL means on-link), or -1. */
static int route_find(const struct route_table *t, const struct ipaddr *prefix, int len,
		      const struct ipaddr *gw)
{
	static const struct ipaddr on_link;

	if (!gw)
		gw = &on_link;
	for (int i = 0; i < t->n; i++) {
		const struct route *r = &t->r[i];
		if (r->len == len && ipaddr_eq(&r->prefix, prefix) && route_gw_eq(&r->gw, gw))
			return i;
	}
	return -1;
}

/* Adds a copy of *r with its prefix masked to r->len. Returns 0, -EINVAL
 * (unknown family, length out of range, gateway of the other family),
 * -EEXIST (same prefix, length and gateway) or -ENOSPC (table full). */
int route_add(struct route_table *t, const struct route *r)
{
	int bits = ipaddr_bits(&r->prefix);
	if (bits == 0 || r->len < 0 || r->len > bits)
		return -EINVAL;
	if (r->gw.family != 0 && r->gw.family != r->prefix.family)
		return -EINVAL;

	struct route nr = *r;
	ipaddr_mask(&nr.prefix, nr.len);
	if (nr.gw.family == 0)
		memset(&nr.gw, 0, sizeof(nr.gw));
	if (!nr.origin)
		nr.origin = "static";
	if (route_find(t, &nr.prefix, nr.len, &nr.gw) >= 0)
		return -EEXIST;
	if (t->n >= ROUTE_MAX)
		return -ENOSPC;
	t->r[t->n++] = nr;
	return 0;
}

/* Removes the route with this prefix (masked here), length and gateway
 * (NULL or family 0: the on-link route). Keeps the order of the others, so
 * equal routes keep their tie-break. Returns 0 or -ENOENT. */
int route_del(struct route_table *t, const struct ipaddr *prefix, int len, const struct ipaddr *gw)
{
	int bits = ipaddr_bits(prefix);
	if (bits == 0 || len < 0 || len > bits)
		return -ENOENT;

	struct ipaddr masked = *prefix;
	ipaddr_mask(&masked, len);
	int i = route_find(t, &masked, len, gw);
	if (i < 0)
		return -ENOENT;
	memmove(&t->r[i], &t->r[i + 1], (size_t)(t->n - i - 1) * sizeof(t->r[0]));
	t->n--;
	return 0;
}

/* Longest prefix match: of the routes whose prefix covers dst (same family),
 * the longest one; between equally long ones the lowest metric; between
 * equal metrics the one added first. NULL if none covers dst. */
const struct route *route_lookup(const struct route_table *t, const struct ipaddr *dst)
{
	/* LAB check2 BEGIN stub: (void)t; (void)dst; return NULL; */
	const struct route *best = NULL;

	for (int i = 0; i < t->n; i++) {
		const struct route *r = &t->r[i];
		if (!ipaddr_prefix_match(dst, &r->prefix, r->len))
			continue;
		if (!best || r->len > best->len ||
		    (r->len == best->len && r->metric < best->metric))
			best = r;
	}
	return best;
	/* LAB check2 END */
}

/* The neighbor to resolve for dst through r: its gateway, or dst itself when
 * the route is on-link (RFC 1122 3.3.1.1: a destination on a connected
 * network is reached directly). */
struct ipaddr route_nexthop(const struct route *r, const struct ipaddr *dst)
{
	return r->gw.family != 0 ? r->gw : *dst;
}

/* Writes the table like `ip route`: "default via 10.0.0.1 dev eth0 metric 0
 * static" for a /0 prefix, "10.0.0.0/24 dev eth0 metric 0 connected"
 * otherwise. Without ifname an interface prints as "if<N>". */
void route_dump(const struct route_table *t, FILE *out, ifname_fn ifname, void *ctx)
{
	for (int i = 0; i < t->n; i++) {
		const struct route *r = &t->r[i];
		char pfx[IPADDR_STRLEN], gw[IPADDR_STRLEN], dev[16];
		const char *name;

		if (ifname) {
			name = ifname(ctx, r->ifindex);
		} else {
			snprintf(dev, sizeof(dev), "if%d", r->ifindex);
			name = dev;
		}
		if (r->len == 0)
			fprintf(out, "default");
		else
			fprintf(out, "%s/%d", ipaddr_ntop(&r->prefix, pfx, sizeof(pfx)), r->len);
		if (r->gw.family != 0)
			fprintf(out, " via %s", ipaddr_ntop(&r->gw, gw, sizeof(gw)));
		fprintf(out, " dev %s metric %d %s\n", name ? name : "?", r->metric,
			r->origin ? r->origin : "static");
	}
}

/* The routing table: connected routes and gateways for IPv4 and IPv6 (the
 * prefixes SLAAC and router advertisements add) with one longest-prefix-match
 * rule. */
#ifndef TAPSTACK_ROUTE_H
#define TAPSTACK_ROUTE_H

#include <stdio.h>

#include "ip/addr.h"

/* Names an interface for the dump functions (ctx is the caller's). */
typedef const char *(*ifname_fn)(void *ctx, int ifindex);

#define ROUTE_MAX 64

struct route {
	struct ipaddr prefix;   /* masked to len bits */
	int len;                /* prefix length */
	struct ipaddr gw;       /* next hop; family 0 = destination is on-link */
	int ifindex;            /* outgoing interface */
	int metric;             /* lower wins between equal prefixes */
	const char *origin;     /* "connected" or "static" (string literal) */
};

struct route_table {
	struct route r[ROUTE_MAX];
	int n;
};

void route_table_init(struct route_table *t);

/* Adds a route (prefix is masked to len). Returns 0, -EEXIST for the same
 * prefix/len/gateway, -ENOSPC when full, -EINVAL for a bad length or mixed
 * families. */
int route_add(struct route_table *t, const struct route *r);

/* Removes the route with this prefix, length and gateway. 0 or -ENOENT. */
int route_del(struct route_table *t, const struct ipaddr *prefix, int len, const struct ipaddr *gw);

/* The route for dst: the longest matching prefix of dst's family, then the
 * lowest metric. NULL if none matches. */
const struct route *route_lookup(const struct route_table *t, const struct ipaddr *dst);

/* The address to resolve on the link for dst via r: the gateway, or dst
 * itself for an on-link route. */
struct ipaddr route_nexthop(const struct route *r, const struct ipaddr *dst);

/* Writes one line per route in the style of `ip route`, e.g.
 * "default via 10.0.0.1 dev 0 metric 0 static" and
 * "10.0.0.0/24 dev 0 metric 0 connected". ifname maps ifindex to a name
 * (may be NULL: then "if<N>"). */
void route_dump(const struct route_table *t, FILE *out, ifname_fn ifname, void *ctx);

#endif

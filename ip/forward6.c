/* IPv6 forwarding: the router's path through a host started with --forward
 * (RFC 8200 3, 5; RFC 4443 3). See forward.h; the IPv4 half is forward.c.
 *
 * A unicast datagram for none of the addresses of the interface it came
 * in by comes here from ipv6_input after the checks every datagram gets
 * (version, lengths, source not multicast). The walk, step by step:
 *
 *   1. ours after all (an address of another interface): back to the caller
 *   2. refused: link-layer multicast, unspecified, loopback, link-local or
 *      our own addresses (each its own counter, no ICMPv6 error)
 *   3. hop limit: would reach 0 -> time exceeded
 *   4. route: longest prefix match -> else destination unreachable
 *   5. size: larger than the next link -> packet too big with its MTU
 *      (a router never fragments IPv6)
 *   6. hop limit decremented (the IPv6 header has no checksum)
 *   7. out: to neighbor discovery for the next hop (ip/ndp.c)
 *
 * The extension headers are not looked at: the hop-by-hop options are
 * processed only by a router configured to (RFC 8200 4.3), and the rest
 * only by the destination (RFC 8200 4). */
#include "ip/forward.h"

#include <string.h>

#include "ip/icmpv6.h"
#include "ip/ipv6.h"
#include "ip/ndp.h"
#include "ip/route.h"
#include "stack/pkt.h"
#include "stack/stack.h"

enum {
	FWD6_OFF_HOP_LIMIT = 7, /* RFC 8200 3: the eighth byte of the fixed header */
};

#define ICMP6_UNREACH_NO_ROUTE 0 /* RFC 4443 3.1: no route to destination */

/* True if a is ::1 (RFC 4291 2.5.3). */
static bool ip6_is_loopback(const struct ipaddr *a)
{
	static const uint8_t one[16] = { [15] = 1 };
	return memcmp(a->a, one, 16) == 0;
}

/* The interface one of whose usable addresses is a, or NULL. Never for a
 * link-local address: it means something only on its own link (RFC 4007
 * 6), and another interface's one came in by the wrong link. */
static struct netif *fwd6_owner(struct stack *s, const struct ipaddr *a)
{
	if (ip6_is_linklocal(a))
		return NULL;
	for (int i = 0; i < s->nifs; i++) {
		struct netif *ifp = &s->ifs[i];
		struct ip6_ifaddr *ia = ifp->ip6.on ? ndp_addr_find(ifp, a) : NULL;
		if (ia && ndp_addr_usable(ia))
			return ifp;
	}
	return NULL;
}

/* The reason a datagram must not be forwarded at all, or NULL (step 2). */
static const char *fwd6_refused(struct stack *s, const struct pkt *p, const struct ipv6_hdr *h)
{
	/* RFC 1812 5.3.4's rule, kept for IPv6 too (Linux does the same): a
	 * unicast datagram that came to a link-layer group is not passed on */
	if (p->flags & PKT_LINK_BCAST)
		return "ip6.fwd_link_multicast";
	/* RFC 4291 2.5.2: the unspecified address "must never be forwarded
	 * by an IPv6 router" as a source */
	if (ip6_is_unspecified(&h->src))
		return "ip6.fwd_unspecified_source";
	/* RFC 4291 2.5.3: a datagram with the loopback address as its source
	 * or destination is never sent outside a node, nor forwarded */
	if (ip6_is_loopback(&h->src) || ip6_is_loopback(&h->dst))
		return "ip6.fwd_loopback";
	/* RFC 4291 2.5.6: "Routers must not forward any packets with
	 * Link-Local source or destination addresses to other links" (the
	 * destination unreachable code 2 RFC 4443 3.1 suggests for the
	 * source is not sent: see the conformance table) */
	if (ip6_is_linklocal(&h->src) || ip6_is_linklocal(&h->dst))
		return "ip6.fwd_link_local";
	/* one of our own addresses as the source came from outside: spoofed */
	if (fwd6_owner(s, &h->src))
		return "ip6.fwd_martian_source";
	return NULL;
}

/* See forward.h. Consumes p unless it returns an interface. */
struct netif *ipv6_forward(struct stack *s, struct netif *in, struct pkt *p,
			   const struct ipv6_hdr *h)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN], c[IPADDR_STRLEN];
	const char *reason;
	bool link_mcast = p->flags & PKT_LINK_BCAST;

	/* 1. the weak end system model a router follows (RFC 1122 3.3.4.2,
	 *    RFC 1812 5.2.3 for IPv4; Linux does the same for IPv6): a
	 *    datagram for any of the router's addresses is for the router */
	struct netif *owner = fwd6_owner(s, &h->dst);
	if (owner)
		return owner;

	/* 2. refused outright, with no ICMPv6 error */
	reason = fwd6_refused(s, p, h);
	if (reason)
		goto drop;

	/* 3. RFC 8200 3: the hop limit is decremented by each node that
	 *    forwards; one that would reach zero is discarded, and RFC 4443
	 *    3.3 has the router send time exceeded, code 0 (hop limit
	 *    exceeded in transit): the reply traceroute -6 counts hops by */
	if (h->hop_limit <= 1) {
		icmpv6_send_error(s, p->data, p->len, link_mcast, ICMP6_TIME_EXCEEDED,
				  ICMP6_TIME_HOP_LIMIT, 0);
		reason = "ip6.fwd_hop_limit_exceeded";
		goto drop;
	}

	/* 4. the longest prefix match over the connected prefixes of the
	 *    interfaces and the static routes. None: RFC 4443 3.1, destination
	 *    unreachable, code 0 (no route to destination) */
	const struct route *r = route_lookup(&s->routes, &h->dst);
	struct netif *out = r ? stack_netif(s, r->ifindex) : NULL;
	if (!out || !out->ip6.on) {
		icmpv6_send_error(s, p->data, p->len, link_mcast, ICMP6_DEST_UNREACH,
				  ICMP6_UNREACH_NO_ROUTE, 0);
		reason = "ip6.fwd_no_route";
		goto drop;
	}
	struct ipaddr nh = route_nexthop(r, &h->dst);

	/* 5. RFC 8200 5: only the source fragments; a datagram larger than
	 *    the next link carries is discarded and RFC 4443 3.2 has the
	 *    router send packet too big with that link's MTU (what path MTU
	 *    discovery, RFC 8201, learns from) */
	unsigned mtu = ndp_link_mtu(out);
	if (p->len > mtu) {
		icmpv6_send_error(s, p->data, p->len, link_mcast, ICMP6_PACKET_TOO_BIG, 0, mtu);
		TRACE(s, "fwd6 %s -> %s: %zu bytes, next mtu %u",
		      ipaddr_ntop(&h->src, a, sizeof(a)), ipaddr_ntop(&h->dst, b, sizeof(b)), p->len,
		      mtu);
		reason = "ip6.fwd_packet_too_big";
		goto drop;
	}

	/* 6. RFC 8200 3: hop limit decremented by one; there is no header
	 *    checksum to update (and the upper-layer checksums do not cover
	 *    the hop limit, RFC 8200 8.1) */
	p->data[FWD6_OFF_HOP_LIMIT]--;

	/* 7. Out: what it carried of the device it came in by (offload marks)
	 *    is forgotten; neighbor discovery finds the next hop's MAC (RFC
	 *    4861 7.2.2), holding the datagram meanwhile */
	p->flags = 0;
	memset(&p->off, 0, sizeof(p->off));
	stats_inc(&s->stats, "ip6.forwarded");
	TRACE(s, "fwd6 %s -> %s hops %u via %s dev %s", ipaddr_ntop(&h->src, a, sizeof(a)),
	      ipaddr_ntop(&h->dst, b, sizeof(b)), (unsigned)h->hop_limit - 1,
	      ipaddr_ntop(&nh, c, sizeof(c)), out->dev->name);
	(void)in;
	ndp_output(s, out, p, &nh);
	return NULL;

drop:
	stack_drop(s, p, reason, "from %s to %s hops %u", ipaddr_ntop(&h->src, a, sizeof(a)),
		   ipaddr_ntop(&h->dst, b, sizeof(b)), h->hop_limit);
	return NULL;
}

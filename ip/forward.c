/* IPv4 forwarding: the router's path through a host started with --forward
 * (RFC 1812 5.2, 5.3). See forward.h.
 *
 * A datagram not addressed to this host comes here from ipv4_input after
 * the header checks every datagram gets (version, lengths, checksum,
 * source not broadcast, multicast or loopback). The walk, step by step:
 *
 *   1. ours after all (an address of another interface): back to the caller
 *   2. refused: link-layer broadcast, directed broadcast, martian or
 *      link-local addresses, bad options (each its own counter)
 *   3. TTL: would reach 0 -> ICMP time exceeded
 *   4. route: longest prefix match over every interface's connected prefix
 *      and the static routes -> else ICMP net unreachable
 *   5. size: larger than the next link with DF -> ICMP fragmentation
 *      needed with that link's MTU
 *   6. TTL decremented, the checksum updated for that one word (RFC 1624)
 *   7. redirect when it leaves by the interface it came in by
 *   8. out: to ARP for the next hop, in fragments if it must be cut */
#include "ip/forward.h"

#include <string.h>

#include "ip/addr.h"
#include "ip/icmp.h"
#include "ip/ipv4.h"
#include "ip/ipv4_frag.h"
#include "ip/ipv4_opts.h"
#include "ip/route.h"
#include "link/arp.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/pkt.h"
#include "stack/stack.h"

enum {
	FWD_OFF_TTL = 8,        /* the TTL, and the protocol beside it in one 16-bit word */
	FWD_OFF_CHECKSUM = 10,
};

/* True if a is in prefix/len (both host order). */
static bool in_prefix(uint32_t a, uint32_t prefix, int len)
{
	return (a & ip4_mask(len)) == (prefix & ip4_mask(len));
}

/* True if a is the directed broadcast of one of the host's subnets (/31
 * and /32 have none, RFC 3021). */
static bool fwd_is_directed_broadcast(const struct stack *s, uint32_t a)
{
	for (int i = 0; i < s->nifs; i++) {
		const struct netif *ifp = &s->ifs[i];
		if (ifp->ip4 && ifp->ip4_prefix < 31 && a == (ifp->ip4 | ~ip4_mask(ifp->ip4_prefix)))
			return true;
	}
	return false;
}

/* The reason a datagram must not be forwarded at all, or NULL (step 2). */
static const char *fwd_refused(struct stack *s, const struct pkt *p, const struct ipv4_hdr *h)
{
	/* RFC 1812 5.3.4: a datagram that came as a link-layer broadcast or
	 * multicast but is addressed to one IP host is not forwarded (it is
	 * a misconfiguration, and forwarding it makes storms) */
	if (p->flags & PKT_LINK_BCAST)
		return "ip.fwd_link_broadcast";
	/* RFC 1812 5.3.5.2, RFC 2644: directed broadcasts are not forwarded
	 * by default (smurf amplification) */
	if (fwd_is_directed_broadcast(s, h->dst))
		return "ip.fwd_directed_broadcast";
	/* RFC 1812 5.3.7: never forward a source of {0, any} ("this
	 * network"), class E (240/4), a directed broadcast; 127/8, multicast
	 * and the limited broadcast were refused by ipv4_input already. One of
	 * our own addresses as the source is spoofed (Linux calls these
	 * martians too) */
	if ((h->src >> 24) == 0 || (h->src >> 28) == 0xf || fwd_is_directed_broadcast(s, h->src) ||
	    stack_netif_by_ip4(s, h->src))
		return "ip.fwd_martian_source";
	/* RFC 1812 5.3.7, 4.2.2.11: nor a destination in 0/8, 127/8 or class E */
	if ((h->dst >> 24) == 0 || (h->dst >> 24) == 127 || (h->dst >> 28) == 0xf)
		return "ip.fwd_martian_destination";
	/* RFC 3927 2.7, 7: a router MUST NOT forward a datagram with a
	 * link-local (169.254/16) source or destination */
	if (in_prefix(h->src, 0xa9fe0000u, 16) || in_prefix(h->dst, 0xa9fe0000u, 16))
		return "ip.fwd_link_local";
	return NULL;
}

/* True if the options (len bytes, already checked by ipv4_options_check)
 * hold a source route, loose (131) or strict (137) (RFC 791 3.1). */
static bool fwd_source_routed(const uint8_t *opts, size_t len)
{
	size_t i = 0;
	while (i < len && opts[i] != 0) {      /* 0: end of option list */
		if (opts[i] == 1) {               /* no operation, one byte */
			i++;
			continue;
		}
		if (opts[i] == 131 || opts[i] == 137)
			return true;
		if (i + 1 >= len || opts[i + 1] < 2)
			break;
		i += opts[i + 1];
	}
	return false;
}

/* See forward.h. Consumes p unless it returns an interface. */
struct netif *ipv4_forward(struct stack *s, struct netif *in, struct pkt *p,
			   const struct ipv4_hdr *h)
{
	char a[IP4_STRLEN], b[IP4_STRLEN], c[IP4_STRLEN];
	const char *reason;

	/* 1. RFC 1812 5.2.3 (and RFC 1122 3.3.4.2, the weak end system model
	 *    a router follows): a datagram for any of the router's addresses
	 *    is for the router, whatever interface it came in by */
	struct netif *owner = stack_netif_by_ip4(s, h->dst);
	if (owner)
		return owner;

	/* 2. refused outright, with no ICMP error */
	reason = fwd_refused(s, p, h);
	if (reason)
		goto drop;
	/* RFC 1812 5.2.1.2 (3), RFC 791 3.1: the options are checked as for
	 * a datagram to us; a bad one gets a Parameter Problem pointing at it
	 * (RFC 1812 4.3.3.5), with every ICMP error's rules */
	if (h->ihl > 5) {
		int bad = ipv4_options_check(p->data + IPV4_HDR_LEN, (size_t)h->ihl * 4 - IPV4_HDR_LEN);
		if (bad >= 0) {
			icmp_send_param_problem(s, p->data, p->len, (uint8_t)(IPV4_HDR_LEN + bad));
			reason = "ip.bad_options";
			goto drop;
		}
	}

	/* 3. RFC 1812 5.3.1: a datagram whose TTL would reach zero is not
	 *    forwarded; the router sends ICMP time exceeded, code 0 (TTL
	 *    exceeded in transit). This is the reply traceroute counts hops by */
	if (h->ttl <= 1) {
		icmp_send_error(s, p->data, p->len, ICMP_TIME_EXCEEDED, 0);
		reason = "ip.fwd_ttl_exceeded";
		goto drop;
	}

	/* 4. RFC 1812 5.2.1.2 (5), 5.2.4: the longest prefix match over every route, the
	 *    connected prefix of each interface and the static ones. No route:
	 *    destination unreachable, code 0 (net unreachable; RFC 1812
	 *    5.2.7.1) */
	struct ipaddr d = ipaddr_v4(h->dst);
	const struct route *r = route_lookup(&s->routes, &d);
	struct netif *out = r ? stack_netif(s, r->ifindex) : NULL;
	if (!out) {
		icmp_send_error(s, p->data, p->len, ICMP_DEST_UNREACH, ICMP_NET_UNREACH);
		reason = "ip.fwd_no_route";
		goto drop;
	}
	struct ipaddr nh = route_nexthop(r, &d);
	uint32_t nexthop = ipaddr_to_v4(&nh);

	/* 5. RFC 1812 4.2.2.7, RFC 791 3.2: larger than the next link
	 *    carries and Don't Fragment set: destination unreachable, code 4
	 *    (fragmentation needed, RFC 1812 4.3.3.1), with the next link's
	 *    MTU in the low 16 bits (RFC 1191 4) */
	if (p->len > out->mtu && (h->frag & IPV4_FLAG_DF)) {
		icmp_send_error_rest(s, p->data, p->len, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
				     out->mtu & 0xffff);
		TRACE(s, "fwd %s -> %s: %zu bytes with DF, next mtu %u", ip4_ntop(h->src, a),
		      ip4_ntop(h->dst, b), p->len, out->mtu);
		reason = "ip.fwd_frag_needed";
		goto drop;
	}

	/* 6. RFC 1812 5.3.1: TTL decremented by one; RFC 1624 eqn. 3: the
	 *    checksum updated for the one 16-bit word (TTL, protocol) that
	 *    changed, not summed again (RFC 1812 5.2.2 allows it) */
	uint16_t old_word = be16_get(p->data + FWD_OFF_TTL);
	p->data[FWD_OFF_TTL]--;
	uint16_t new_word = be16_get(p->data + FWD_OFF_TTL);
	be16_put(p->data + FWD_OFF_CHECKSUM,
		 csum_update16(be16_get(p->data + FWD_OFF_CHECKSUM), old_word, new_word));

	/* 7. RFC 1812 5.2.7.2: leaving by the interface it came in by, to a
	 *    sender on that interface's subnet, the datagram is forwarded and
	 *    the sender told of the better first hop: a redirect for the host
	 *    (code 1; RFC 1812 4.3.3.2: routers MUST NOT send network
	 *    redirects), rate-limited
	 *    with every ICMP error; never for a source-routed datagram. The
	 *    quote is of the datagram as it came (TTL put back for it) */
	if (out == in && in->ip4 && in_prefix(h->src, in->ip4, in->ip4_prefix) &&
	    nexthop != h->src &&
	    !fwd_source_routed(p->data + IPV4_HDR_LEN, (size_t)h->ihl * 4 - IPV4_HDR_LEN)) {
		p->data[FWD_OFF_TTL]++;
		be16_put(p->data + FWD_OFF_CHECKSUM, csum_update16(be16_get(p->data + FWD_OFF_CHECKSUM),
								   new_word, old_word));
		icmp_send_error_rest(s, p->data, p->len, ICMP_REDIRECT, ICMP_REDIRECT_HOST, nexthop);
		p->data[FWD_OFF_TTL]--;
		be16_put(p->data + FWD_OFF_CHECKSUM, csum_update16(be16_get(p->data + FWD_OFF_CHECKSUM),
								   old_word, new_word));
		stats_inc(&s->stats, "ip.fwd_redirect");
		TRACE(s, "fwd redirect %s: %s is reached by %s", ip4_ntop(h->src, a),
		      ip4_ntop(h->dst, b), ip4_ntop(nexthop, c));
	}

	/* 8. Out: what it carried of the device it came in by (offload marks)
	 *    is forgotten; a datagram larger than the next link leaves in
	 *    fragments (RFC 1812 4.2.2.7, 5.2.1.2 (9); a fragment cut again keeps its offset
	 *    and MF, ip/ipv4_frag.c), else whole to ARP for the next hop */
	p->flags = 0;
	memset(&p->off, 0, sizeof(p->off));
	stats_inc(&s->stats, "ip.forwarded");
	TRACE(s, "fwd %s -> %s ttl %u via %s dev %s%s", ip4_ntop(h->src, a), ip4_ntop(h->dst, b),
	      (unsigned)h->ttl - 1, ip4_ntop(nexthop, c), out->dev->name,
	      p->len > out->mtu ? " (fragmented)" : "");
	if (p->len > out->mtu) {
		stats_inc(&s->stats, "ip.fwd_fragmented");
		ipv4_fragment_output(s, out, p, nexthop, out->mtu);
		return NULL;
	}
	arp_output(s, out, p, nexthop);
	return NULL;

drop:
	stack_drop(s, p, reason, "from %s to %s ttl %u", ip4_ntop(h->src, a), ip4_ntop(h->dst, b),
		   h->ttl);
	return NULL;
}

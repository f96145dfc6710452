/* The family-neutral network layer: what UDP, TCP and ICMP errors call
 * without caring whether an address is IPv4 or IPv6. Each function
 * looks at the family and passes the work to ipv4.c or ipv6.c. See ip.h. */
#include "ip/ip.h"

#include <errno.h>

#include "ip/ipv4.h"
#include "ip/ipv6.h"
#include "ip/ndp.h"
#include "ip/pmtu.h"
#include "ip/route.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/pkt.h"
#include "stack/stack.h"


/* True if src names no particular address: unset, or all zeros
 * (0.0.0.0 / ::, "any"). */
static bool ip_is_unspecified(const struct ipaddr *a)
{
	if (!a || a->family == 0)
		return true;
	for (int i = 0; i < ipaddr_bits(a) / 8; i++)
		if (a->a[i] != 0)
			return false;
	return true;
}

/* True if IPv6 is on for one of the interfaces of s. */
static bool ip6_enabled(const struct stack *s)
{
	for (int i = 0; i < s->nifs; i++)
		if (s->ifs[i].ip6.on)
			return true;
	return false;
}

/* Sends the transport payload p from src (or the route's choice) to dst by
 * the protocol of dst's family (IPv6 ignores df: it never fragments on the
 * way, RFC 8200 5). Consumes p. Returns 0 or a negative errno;
 * -EAFNOSUPPORT ("ip.family_unsupported") for IPv6 on a host without it. */
int ip_output(struct stack *s, struct pkt *p, const struct ipaddr *src, const struct ipaddr *dst,
	      uint8_t proto, uint8_t ttl, enum ip_df df)
{
	char a[IPADDR_STRLEN];

	if (dst->family == AF_INET) {
		uint32_t from = 0;
		if (!ip_is_unspecified(src) && src->family == AF_INET)
			from = ipaddr_to_v4(src);
		struct ipv4_tx h = {
			.src = from, .dst = ipaddr_to_v4(dst), .proto = proto, .ttl = ttl, .df = df,
		};
		return ipv4_output(s, p, &h);
	}
	if (dst->family == AF_INET6 && ip6_enabled(s))
		return ipv6_output(s, p, src, dst, proto, ttl);
	stack_drop(s, p, "ip.family_unsupported", "to %s", ipaddr_ntop(dst, a, sizeof(a)));
	return -EAFNOSUPPORT;
}

/* The interface of s that has dst as its limited or directed broadcast
 * (RFC 1122 3.2.1.3 (c), (d); /31 and /32 have none, RFC 3021), or NULL.
 * The limited broadcast goes out of the first interface with an address,
 * as ipv4_output sends it. */
static struct netif *ip4_broadcast_netif(struct stack *s, uint32_t dst)
{
	for (int i = 0; i < s->nifs; i++) {
		struct netif *ifp = &s->ifs[i];
		if (ifp->ip4 == 0)
			continue;
		if (dst == IP4_BROADCAST)
			return ifp;
		if (ifp->ip4_prefix < 31 && dst == (ifp->ip4 | ~ip4_mask(ifp->ip4_prefix)))
			return ifp;
	}
	return NULL;
}

/* The interface a datagram to dst leaves by: the one of a broadcast's
 * subnet, else the interface of the longest matching route. NULL if none. */
static struct netif *ip_out_netif(struct stack *s, const struct ipaddr *dst)
{
	/* as ipv6_output sends them: link-local and multicast IPv6
	 * destinations are on the link of the first IPv6 interface */
	if (dst->family == AF_INET6 && (ip6_is_linklocal(dst) || ip6_is_multicast(dst))) {
		for (int i = 0; i < s->nifs; i++)
			if (s->ifs[i].ip6.on)
				return &s->ifs[i];
		return NULL;
	}
	if (dst->family == AF_INET) {
		struct netif *ifp = ip4_broadcast_netif(s, ipaddr_to_v4(dst));
		if (ifp)
			return ifp;
	}
	const struct route *r = route_lookup(&s->routes, dst);
	return r ? stack_netif(s, r->ifindex) : NULL;
}

/* RFC 1122 3.3.4.3: the source of a datagram we originate is the address of
 * the interface it leaves by (a host with one address per interface has
 * nothing else to choose). For IPv6 the interface has several (link-local,
 * global): ipv6_select_source applies a simplified RFC 6724 5 (scope
 * first, so the link-local address for a link-local destination, else the
 * longest common prefix). Returns 0 with *src set, or -ENETUNREACH when no
 * route leads to dst or that interface has no address of dst's family. */
int ip_select_source(struct stack *s, const struct ipaddr *dst, struct ipaddr *src)
{
	struct netif *ifp = ip_out_netif(s, dst);

	if (ifp && dst->family == AF_INET6)
		return ifp->ip6.on ? ipv6_select_source(s, ifp, dst, src) : -ENETUNREACH;
	if (!ifp || dst->family != AF_INET || ifp->ip4 == 0)
		return -ENETUNREACH;
	*src = ipaddr_v4(ifp->ip4);
	return 0;
}

/* See ip.h. */
bool ip_source_tentative(struct stack *s, const struct ipaddr *dst)
{
	struct netif *ifp = dst->family == AF_INET6 ? ip_out_netif(s, dst) : NULL;

	return ifp && ifp->ip6.on && ipv6_source_tentative(ifp, dst);
}

/* True if a is the address of one of our interfaces. */
bool ip_is_local(struct stack *s, const struct ipaddr *a)
{
	if (a->family == AF_INET6) {
		for (int i = 0; i < s->nifs; i++) {
			struct ip6_ifaddr *ia = ndp_addr_find(&s->ifs[i], a);
			if (ia && ndp_addr_usable(ia))
				return true;
		}
		return false;
	}
	if (a->family != AF_INET)
		return false;
	uint32_t v4 = ipaddr_to_v4(a);
	return v4 != 0 && stack_netif_by_ip4(s, v4) != NULL;
}

/* True if a is the limited broadcast, the directed broadcast of one of our
 * subnets (RFC 1122 3.2.1.3) or a multicast address (224.0.0.0/4, RFC 1112). */
bool ip_is_broadcast(struct stack *s, const struct ipaddr *a)
{
	if (a->family != AF_INET)
		return false;
	uint32_t v4 = ipaddr_to_v4(a);
	if (v4 == IP4_BROADCAST || (v4 & 0xf0000000u) == 0xe0000000u)
		return true;
	return ip4_broadcast_netif(s, v4) != NULL;
}

/* The path MTU to dst (the outgoing interface's MTU, or less when a
 * Packet Too Big or "fragmentation needed" said so: RFC 8201, RFC 1191,
 * ip/pmtu.h) minus the IP header (20 bytes for IPv4, 40 for IPv6, no
 * options): the most a transport can send in one unfragmented datagram to
 * dst. 0 when no route leads there. */
size_t ip_max_payload(struct stack *s, const struct ipaddr *dst)
{
	struct netif *ifp = ip_out_netif(s, dst);
	size_t hdr = dst->family == AF_INET6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;

	if (!ifp)
		return 0;
	/* an IPv6 link's MTU may be lowered by an RA (RFC 4861 6.3.4) */
	unsigned link_mtu = dst->family == AF_INET6 ? ndp_link_mtu(ifp) : ifp->mtu;
	unsigned mtu = pmtu_get(s, dst, link_mtu);
	if (mtu <= hdr)
		return 0;
	return mtu - hdr;
}

/* The unfolded sum of the pseudo-header the UDP and TCP checksums cover:
 *   IPv4 (RFC 768, RFC 9293 3.1): source, destination, zero, protocol,
 *        16-bit transport length;
 *   IPv6 (RFC 8200 8.1): source, destination, 32-bit upper-layer length,
 *        three zero bytes, next header. */
uint32_t ip_pseudo_sum(const struct ipaddr *src, const struct ipaddr *dst, uint8_t proto,
		       uint32_t len)
{
	if (src->family == AF_INET)
		return ipv4_pseudo_sum(ipaddr_to_v4(src), ipaddr_to_v4(dst), proto, (uint16_t)len);

	uint8_t tail[8];
	be32_put(tail, len);
	tail[4] = tail[5] = tail[6] = 0;
	tail[7] = proto;
	uint32_t sum = csum_partial(src->a, 16, 0);
	sum = csum_partial(dst->a, 16, sum);
	return csum_partial(tail, sizeof(tail), sum);
}

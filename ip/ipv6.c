/* IPv6 (RFC 8200) for a host: the header codec, the walk over extension
 * headers, the input checks, dispatch to ICMPv6, and output through the
 * routing table and neighbor discovery. See ipv6.h.
 *
 * The fixed header, RFC 8200 3 (offsets in bytes):
 *
 *     0               1               2               3
 *     |version| traffic class |           flow label                  |
 *     |        payload length         |  next header  |   hop limit   |
 *     |                 source address (16 bytes) ...                 |
 *     |              destination address (16 bytes) ...               |
 *
 * Every extension header but the fragment header starts with
 *     | next header | hdr ext len (8-byte units, not counting the first 8) |
 */
#include "ip/ipv6.h"

#include <errno.h>
#include <string.h>

#include "ip/firewall.h"
#include "ip/forward.h"
#include "ip/icmpv6.h"
#include "ip/ip.h"
#include "ip/ipv6_frag.h"
#include "ip/ndp.h"
#include "ip/pmtu.h"
#include "ip/route.h"
#include "ip/udp.h"
#include "tcp/tcp.h"
#include "stack/byteorder.h"
#include "stack/pkt.h"
#include "stack/stack.h"

/* Field offsets in the fixed header. */
enum {
	IP6_OFF_VER_TC_FLOW = 0,
	IP6_OFF_PAYLOAD_LEN = 4,
	IP6_OFF_NEXT = 6,
	IP6_OFF_HOPS = 7,
	IP6_OFF_SRC = 8,
	IP6_OFF_DST = 24,
};

/* Offsets inside an extension header. */
enum {
	EXT_OFF_NEXT = 0,
	EXT_OFF_LEN = 1,
	RH_OFF_TYPE = 2,
	RH_OFF_SEGLEFT = 3,
	FH_OFF_FRAG = 2,          /* fragment offset (13 bits), res, M */
};

#define OPT_PAD1 0
#define OPT_PADN 1

/* Parses the fixed header at buf. Every field is read before the checks so
 * a drop can name the source whenever len >= 40. Returns NULL or the reason
 * (see ipv6.h). */
const char *ipv6_parse(const uint8_t *buf, size_t len, struct ipv6_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < IPV6_HDR_LEN)
		return "ip6.short_packet";
	uint32_t w = be32_get(buf + IP6_OFF_VER_TC_FLOW);
	h->version = (uint8_t)(w >> 28);
	h->tclass = (uint8_t)(w >> 20);
	h->flow = w & 0xfffff;
	h->payload_len = be16_get(buf + IP6_OFF_PAYLOAD_LEN);
	h->next = buf[IP6_OFF_NEXT];
	h->hop_limit = buf[IP6_OFF_HOPS];
	h->src.family = h->dst.family = AF_INET6;
	memcpy(h->src.a, buf + IP6_OFF_SRC, 16);
	memcpy(h->dst.a, buf + IP6_OFF_DST, 16);

	/* RFC 8200 3: version 6 */
	if (h->version != 6)
		return "ip6.bad_version";
	/* RFC 8200 3: the payload length counts everything after the fixed
	 * header; a jumbogram (0, RFC 2675) is for links we do not have */
	if ((size_t)IPV6_HDR_LEN + h->payload_len > len)
		return "ip6.truncated";
	return NULL;
}

/* Writes the fixed header h at buf. */
void ipv6_emit(const struct ipv6_hdr *h, uint8_t *buf)
{
	be32_put(buf + IP6_OFF_VER_TC_FLOW,
		 (uint32_t)6 << 28 | (uint32_t)h->tclass << 20 | (h->flow & 0xfffff));
	be16_put(buf + IP6_OFF_PAYLOAD_LEN, h->payload_len);
	buf[IP6_OFF_NEXT] = h->next;
	buf[IP6_OFF_HOPS] = h->hop_limit;
	memcpy(buf + IP6_OFF_SRC, h->src.a, 16);
	memcpy(buf + IP6_OFF_DST, h->dst.a, 16);
}

/* Asks for a parameter problem about the byte at pointer in c and returns
 * reason (a helper for the walk's drop exits). */
static const char *ext_fail(struct ipv6_chain *c, const char *reason, uint8_t code,
			    size_t pointer)
{
	c->send_param_problem = true;
	c->code = code;
	c->pointer = (uint32_t)pointer;
	return reason;
}

/* Walks the options of a hop-by-hop or destination options header at buf +
 * off (hlen bytes). RFC 8200 4.2: Pad1 and PadN are skipped; an unknown
 * option is handled by the two high-order bits of its type: 00 skip it,
 * 01 discard, 10 discard and send a parameter problem (code 2) even to a
 * multicast destination, 11 the same only for a unicast destination.
 * Returns NULL or the drop reason. */
static const char *ipv6_walk_options(const uint8_t *buf, size_t off, size_t hlen,
				     struct ipv6_chain *c)
{
	size_t i = off + 2, end = off + hlen;

	while (i < end) {
		uint8_t type = buf[i];
		if (type == OPT_PAD1) {
			i++;
			continue;
		}
		/* RFC 4443 3.4: the pointer names the byte where the error
		 * was found: the option's length, or, when the header ends
		 * before its length byte, the option's type (one past it
		 * would point past the datagram) */
		if (i + 2 > end)
			return ext_fail(c, "ip6.bad_option_length", ICMP6_PARAM_HEADER, i);
		if (i + 2 + buf[i + 1] > end)
			return ext_fail(c, "ip6.bad_option_length", ICMP6_PARAM_HEADER, i + 1);
		if (type != OPT_PADN) {
			switch (type >> 6) {
			case 0:
				break;
			case 1:
				return "ip6.unknown_option";
			case 2:
				c->multicast_ok = true;
				return ext_fail(c, "ip6.unknown_option", ICMP6_PARAM_OPTION, i);
			default:
				c->unless_multicast = true;
				return ext_fail(c, "ip6.unknown_option", ICMP6_PARAM_OPTION, i);
			}
		}
		i += 2 + (size_t)buf[i + 1];
	}
	return NULL;
}

/* Walks the extension headers of the datagram at buf (len = 40 + payload
 * length) starting with next header first, up to the upper-layer header.
 * Bounds are checked before each read; at most IPV6_MAX_EXT headers are
 * walked. Returns NULL with c->proto and c->off, or the drop reason (and
 * c->send_param_problem when RFC 8200 asks for an ICMPv6 error). */
const char *ipv6_walk_ext(const uint8_t *buf, size_t len, uint8_t first, struct ipv6_chain *c)
{
	size_t off = IPV6_HDR_LEN, nh_at = IP6_OFF_NEXT;
	uint8_t nh = first;
	const char *reason;

	memset(c, 0, sizeof(*c));
	for (int n = 0; n <= IPV6_MAX_EXT; n++) {
		size_t hlen;
		switch (nh) {
		case IP6_NH_HOPOPT:
		case IP6_NH_DSTOPTS:
			/* RFC 8200 4.3: hop-by-hop options only right after
			 * the fixed header (param problem code 1) */
			if (nh == IP6_NH_HOPOPT && off != IPV6_HDR_LEN)
				return ext_fail(c, "ip6.hopopt_not_first", ICMP6_PARAM_NEXT_HEADER,
						nh_at);
			if (off + 2 > len)
				return "ip6.ext_truncated";
			hlen = ((size_t)buf[off + EXT_OFF_LEN] + 1) * 8;
			if (off + hlen > len)
				return "ip6.ext_truncated";
			reason = ipv6_walk_options(buf, off, hlen, c);
			if (reason)
				return reason;
			break;
		case IP6_NH_ROUTING:
			if (off + 8 > len)
				return "ip6.ext_truncated";
			hlen = ((size_t)buf[off + EXT_OFF_LEN] + 1) * 8;
			if (off + hlen > len)
				return "ip6.ext_truncated";
			/* RFC 8200 4.4: a routing header with no segments left
			 * is ignored; we are the last hop. RFC 5095 3: type 0
			 * is processed as an unrecognized type: with segments
			 * left, discard and point at the type (code 0). A host
			 * forwards nothing, so every other type goes the same way */
			if (buf[off + RH_OFF_SEGLEFT] != 0)
				return ext_fail(c, buf[off + RH_OFF_TYPE] == 0 ?
						   "ip6.routing_type0" : "ip6.routing_unsupported",
						ICMP6_PARAM_HEADER, off + RH_OFF_TYPE);
			break;
		case IP6_NH_FRAGMENT:
			if (off + 8 > len)
				return "ip6.ext_truncated";
			hlen = 8;
			/* RFC 6946: an atomic fragment (offset 0, M clear) is
			 * a whole datagram, processed in isolation: the walk
			 * goes on. Any other fragment waits for reassembly:
			 * the walk stops at its fragment header */
			if (be16_get(buf + off + FH_OFF_FRAG) != 0) {
				c->proto = IP6_NH_FRAGMENT;
				c->off = off;
				c->nh_at = nh_at;
				return NULL;
			}
			c->atomic_frag = true;
			break;
		case IP6_NH_NONE:
			/* RFC 8200 4.7: nothing follows; the packet is ignored */
			return "ip6.no_next_header";
		default:
			c->proto = nh;
			c->off = off;
			c->nh_at = nh_at;
			return NULL;
		}
		nh_at = off + EXT_OFF_NEXT;
		nh = buf[nh_at];
		off += hlen;
	}
	return "ip6.too_many_ext";
}

/* ---- Addresses ---- */

/* True for ff00::/8 (RFC 4291 2.7). */
bool ip6_is_multicast(const struct ipaddr *a)
{
	return a->family == AF_INET6 && a->a[0] == 0xff;
}

/* True for fe80::/10 (RFC 4291 2.5.6). */
bool ip6_is_linklocal(const struct ipaddr *a)
{
	return a->family == AF_INET6 && a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80;
}

/* True for :: (RFC 4291 2.5.2). */
bool ip6_is_unspecified(const struct ipaddr *a)
{
	for (int i = 0; i < 16; i++)
		if (a->a[i])
			return false;
	return true;
}

/* ff02::1:ff + the last 24 bits of a (RFC 4291 2.7.1). */
struct ipaddr ip6_solicited_node(const struct ipaddr *a)
{
	struct ipaddr g = { .family = AF_INET6 };

	g.a[0] = 0xff;
	g.a[1] = 0x02;
	g.a[11] = 0x01;
	g.a[12] = 0xff;
	memcpy(g.a + 13, a->a + 13, 3);
	return g;
}

/* RFC 2464 7: 33:33 followed by the last four bytes of the group. */
void ip6_mcast_mac(const struct ipaddr *g, uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, g->a + 12, 4);
}

/* ---- Input ---- */

/* True if dst is a preferred address of ifp, or (tentative ok) any of its
 * addresses still being checked. */
static bool ipv6_is_ours(struct netif *ifp, const struct ipaddr *dst, bool tentative_ok)
{
	struct ip6_ifaddr *ia = ndp_addr_find(ifp, dst);

	if (!ia)
		return false;
	/* RFC 4862 5.5.4: a deprecated address still receives */
	return ndp_addr_usable(ia) || (tentative_ok && ia->state == IP6_ADDR_TENTATIVE);
}

/* True if the datagram p (walked into c) carries a neighbor solicitation or
 * advertisement, the only messages a tentative address may receive. */
static bool ipv6_is_nd(const struct pkt *p, const struct ipv6_chain *c)
{
	if (c->proto != IP6_NH_ICMPV6 || c->off >= p->len)
		return false;
	uint8_t type = p->data[c->off];
	return type == ICMP6_NEIGHBOR_SOLICIT || type == ICMP6_NEIGHBOR_ADVERT;
}

/* Hands a datagram that passed every check to its upper layer (p->data at
 * the IPv6 header, p->len the whole datagram, c from the walk). Consumes p. */
static void ipv6_deliver(struct stack *s, struct netif *ifp, struct pkt *p,
			 const struct ipv6_hdr *h, const struct ipv6_chain *c, bool mcast)
{
	char src[IPADDR_STRLEN];
	struct ip_rx rx = {
		.src = h->src,
		.dst = h->dst,
		.proto = c->proto,
		.ttl = h->hop_limit,
		.bcast = mcast,
		.hdr = p->data,
		.hdr_len = c->off,
		.dgram_len = p->len,
	};

	switch (c->proto) {
	case IP6_NH_ICMPV6:
		pkt_pull(p, c->off);
		stats_inc(&s->stats, "ip6.delivered");
		icmpv6_input(s, ifp, p, &rx);
		return;
	case IP6_NH_TCP:
	case IP6_NH_UDP:
		/* the transports check their own checksum over the IPv6
		 * pseudo-header (RFC 8200 8.1, ip_pseudo_sum) and find AF_INET6
		 * sockets; the IPv6 header (rx.hdr) stays in the headroom for
		 * a port unreachable to quote */
		pkt_pull(p, c->off);
		stats_inc(&s->stats, "ip6.delivered");
		if (c->proto == IP6_NH_TCP)
			tcp_input(s, ifp, p, &rx);
		else
			udp_input(s, ifp, p, &rx);
		return;
	default:
		/* RFC 8200 4: an unrecognized next header is answered with a
		 * parameter problem, code 1, pointing at the field */
		icmpv6_send_error(s, p->data, p->len, p->flags & PKT_LINK_BCAST,
				  ICMP6_PARAM_PROBLEM, ICMP6_PARAM_NEXT_HEADER,
				  (uint32_t)c->nh_at);
		stack_drop(s, p, "ip6.unknown_next_header", "proto %u from %s", c->proto,
			   ipaddr_ntop(&h->src, src, sizeof(src)));
		return;
	}
}

/* Receives one datagram on ifp (p->data at the IPv6 header). Checks the
 * header, trims link padding, keeps what is for one of our addresses or a
 * group we joined (a host does not forward, RFC 8200 1), walks the
 * extension headers and passes the rest up. Consumes p. */
void ipv6_input(struct stack *s, struct netif *ifp, struct pkt *p)
{
	struct ipv6_hdr h;
	struct ipv6_chain c;
	const char *reason;
	char src[IPADDR_STRLEN], dst[IPADDR_STRLEN];

	stats_inc(&s->stats, "ip6.rx");
	if (!ifp->ip6.on) {
		stack_drop(s, p, "ip6.disabled", "len %zu", p->len);
		return;
	}
	reason = ipv6_parse(p->data, p->len, &h);
	if (reason) {
		if (p->len < IPV6_HDR_LEN) {
			stack_drop(s, p, reason, "len %zu", p->len);
			return;
		}
		goto drop;
	}
	/* RFC 8200 3: what follows the payload length is link padding */
	pkt_trim(p, IPV6_HDR_LEN + (size_t)h.payload_len);

	/* RFC 4291 2.7: a multicast address is never a source */
	if (ip6_is_multicast(&h.src)) {
		reason = "ip6.bad_source";
		goto drop;
	}
	bool mcast = ip6_is_multicast(&h.dst);
	/* RFC 4862 5.4: a tentative address receives only what DAD needs
	 * (neighbor discovery, checked in ndp.c); the rest is dropped below */
	bool ours = mcast ? ndp_joined(ifp, &h.dst) :
			    ipv6_is_ours(ifp, &h.dst, h.next == IP6_NH_ICMPV6);
	if (!ours) {
		/* RFC 8200 1, 3: a router (--forward) passes a unicast datagram
		 * on (ip/forward6.c), or takes it as for another of its
		 * addresses; multicast is never routed here (no multicast
		 * routing, ip/README.md) */
		if (mcast || !s->ip_forward) {
			reason = mcast ? "ip6.group_not_joined" : "ip6.not_for_us";
			goto drop;
		}
		ifp = ipv6_forward(s, ifp, p, &h);
		if (!ifp)
			return;
	}
	reason = ipv6_walk_ext(p->data, p->len, h.next, &c);
	if (!reason && c.proto == IP6_NH_FRAGMENT) {
		/* RFC 8200 4.5: a fragment waits for the others; the one
		 * that completes the datagram gives all of it back, in a new
		 * packet whose header chain is walked again */
		p = ipv6_reasm_input(s, p, &h, c.off, c.nh_at);
		if (!p)
			return;
		reason = ipv6_parse(p->data, p->len, &h);
		if (!reason)
			reason = ipv6_walk_ext(p->data, p->len, h.next, &c);
		/* a fragment header inside a reassembled datagram: a second
		 * round of reassembly is not done (the sender would have cut
		 * an already cut datagram, which RFC 8200 4.5 does not do) */
		if (!reason && c.proto == IP6_NH_FRAGMENT)
			reason = "ip6.frag_nested";
	}
	if (reason) {
		bool link_mcast = p->flags & PKT_LINK_BCAST;
		if (c.send_param_problem && (!c.unless_multicast || !mcast))
			icmpv6_send_error(s, p->data, p->len, link_mcast && !c.multicast_ok,
					  ICMP6_PARAM_PROBLEM, c.code, c.pointer);
		goto drop;
	}
	if (c.atomic_frag)
		stats_inc(&s->stats, "ip6.atomic_fragments_rx"); /* RFC 6946 */
	if (!mcast && !ipv6_is_ours(ifp, &h.dst, false) && !ipv6_is_nd(p, &c)) {
		reason = "ip6.to_tentative";
		goto drop;
	}
	/* the stateful filter (ip/firewall.c) decides what goes up */
	if (s->fw && !fw_input(s, p, c.proto, c.off))
		return;
	ipv6_deliver(s, ifp, p, &h, &c, mcast || (p->flags & PKT_LINK_BCAST));
	return;

drop:
	stack_drop(s, p, reason, "from %s to %s", ipaddr_ntop(&h.src, src, sizeof(src)),
		   ipaddr_ntop(&h.dst, dst, sizeof(dst)));
}

/* ---- Output ---- */

/* The first interface with IPv6 on, or NULL. */
static struct netif *ipv6_first_netif(struct stack *s)
{
	for (int i = 0; i < s->nifs; i++)
		if (s->ifs[i].ip6.on)
			return &s->ifs[i];
	return NULL;
}

/* How well ia suits as the source for dst (RFC 6724 5, simplified): rule
 * 2 (scope: the link-local address for a link-local or multicast
 * destination, else not) first, then rule 3 (avoid deprecated addresses),
 * then rule 8 (the longest common prefix). Higher is better. */
static int ipv6_source_score(const struct ip6_ifaddr *ia, const struct ipaddr *dst)
{
	bool want_ll = ip6_is_linklocal(dst) || ip6_is_multicast(dst);
	int score = ip6_is_linklocal(&ia->addr) == want_ll ? 512 : 0;
	if (ia->state != IP6_ADDR_DEPRECATED)
		score += 256;
	int common = 0;
	while (common < 128 && ipaddr_prefix_match(&ia->addr, dst, common + 1))
		common++;
	return score + common;
}

/* See ipv6.h. Among the usable (preferred or deprecated) addresses of ifp
 * the one with the best ipv6_source_score; the first of equals. */
int ipv6_select_source(struct stack *s, struct netif *ifp, const struct ipaddr *dst,
		       struct ipaddr *src)
{
	const struct ip6_ifaddr *best = NULL;
	int best_score = -1;

	(void)s;
	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		const struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (!ndp_addr_usable(ia))
			continue;
		int score = ipv6_source_score(ia, dst);
		if (score > best_score) {
			best = ia;
			best_score = score;
		}
	}
	if (!best)
		return -ENETUNREACH;
	*src = best->addr;
	return 0;
}

/* See ipv6.h. RFC 4862 5.4: a tentative address is not a candidate (RFC
 * 6724 4), so it is asked whether one would beat every candidate. */
bool ipv6_source_tentative(const struct netif *ifp, const struct ipaddr *dst)
{
	int usable = -1, tentative = -1;

	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		const struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->state == IP6_ADDR_TENTATIVE) {
			int sc = ipv6_source_score(ia, dst);
			tentative = sc > tentative ? sc : tentative;
		} else if (ndp_addr_usable(ia)) {
			int sc = ipv6_source_score(ia, dst);
			usable = sc > usable ? sc : usable;
		}
	}
	return tentative > usable;
}

/* Hands one finished frame (p->data at its IPv6 header) to the link: to
 * the group MAC for a multicast destination, else through neighbor
 * discovery to nexthop. Consumes p. */
static int ipv6_send_frame(struct stack *s, struct netif *ifp, struct pkt *p,
			   const struct ipaddr *dst, const struct ipaddr *nexthop)
{
	if (ip6_is_multicast(dst)) {
		uint8_t mac[6];
		ip6_mcast_mac(dst, mac);
		return eth_output(s, ifp, p, mac, ETH_TYPE_IPV6);
	}
	return ndp_output(s, ifp, p, nexthop);
}

/* See ipv6.h: prepends the fixed header and sends p to dst on ifp, in
 * fragments when it is larger than the path MTU. Consumes p. */
static int ipv6_send(struct stack *s, struct netif *ifp, struct pkt *p, const struct ipaddr *src,
		     const struct ipaddr *dst, const struct ipaddr *nexthop, uint8_t proto,
		     uint8_t hops)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	size_t plen = p->len;
	/* RFC 8201: unicast datagrams fit the path MTU learned from Packet
	 * Too Big messages (ip/pmtu.h), multicast ones the link's (which an
	 * RA's MTU option may lower, RFC 4861 6.3.4) */
	unsigned link_mtu = ndp_link_mtu(ifp);
	unsigned mtu = ip6_is_multicast(dst) ? link_mtu : pmtu_get(s, dst, link_mtu);
	/* it fits if it is no larger than the path takes, or if it is a TCP
	 * segment for the device to cut (TSO, pkt.h) and the device takes
	 * one that large, as for IPv4 (ipv4_output) */
	bool fits = plen + IPV6_HDR_LEN <= mtu ||
		    (p->off.gso_size && plen + IPV6_HDR_LEN <= ifp->dev->tso_max);

	/* RFC 8200 3: the payload length has 16 bits (no jumbograms) */
	if (plen > 65535) {
		stack_drop(s, p, "ip6.tx_too_big", "%zu bytes to %s, mtu %u",
			   plen + IPV6_HDR_LEN, ipaddr_ntop(dst, a, sizeof(a)), mtu);
		return -EMSGSIZE;
	}
	uint8_t *hdr = pkt_push(p, IPV6_HDR_LEN);
	if (!hdr) {
		stack_drop(s, p, "ip6.no_headroom", "to %s", ipaddr_ntop(dst, a, sizeof(a)));
		return -ENOBUFS;
	}
	struct ipv6_hdr h = {
		.version = 6,
		.payload_len = (uint16_t)plen,
		.next = proto,
		.hop_limit = hops ? hops : ndp_hop_limit(ifp), /* RFC 4861 6.3.4 CurHopLimit */
		.src = *src,
		.dst = *dst,
	};
	h.src.family = AF_INET6;
	ipv6_emit(&h, hdr);
	p->flags = 0;
	/* the stateful filter (ip/firewall.c) notes the flow the host opens */
	if (s->fw)
		fw_output(s, p, proto, IPV6_HDR_LEN);
	stats_inc(&s->stats, "ip6.tx");
	TRACE(s, "tx IPv6 %s -> %s next %u len %zu", ipaddr_ntop(src, a, sizeof(a)),
	      ipaddr_ntop(dst, b, sizeof(b)), proto, plen);
	if (fits)
		return ipv6_send_frame(s, ifp, p, dst, nexthop);

	/* RFC 8200 4.5, 5: larger than the path takes: the source cuts it.
	 * A checksum left partial for the device (pkt.h) is finished first,
	 * as ipv4_output does: the device sees only fragments, and sums none
	 * of them (RFC 8200 8.1: the checksum covers the whole datagram) */
	pkt_csum_complete(p);
	struct pkt *f = ipv6_fragment(s, p, mtu);
	if (!f)
		return -ENOBUFS;
	int err = 0;
	while (f) {
		struct pkt *next = f->next;
		f->next = NULL;
		int r = ipv6_send_frame(s, ifp, f, dst, nexthop);
		if (r < 0 && err == 0)
			err = r;
		f = next;
	}
	return err;
}

/* See ipv6.h. Consumes p. */
int ipv6_output_if(struct stack *s, struct netif *ifp, struct pkt *p, const struct ipaddr *src,
		   const struct ipaddr *dst, uint8_t proto, uint8_t hops)
{
	return ipv6_send(s, ifp, p, src, dst, dst, proto, hops);
}

/* See ipv6.h. Link-local and multicast destinations are on the link of the
 * first IPv6 interface (one link per host in the lab); the rest follow the
 * longest matching route. Consumes p. */
int ipv6_output(struct stack *s, struct pkt *p, const struct ipaddr *src, const struct ipaddr *dst,
		uint8_t proto, uint8_t hops)
{
	char a[IPADDR_STRLEN];
	struct netif *ifp;
	struct ipaddr nexthop = *dst, from;

	if (ip6_is_linklocal(dst) || ip6_is_multicast(dst)) {
		ifp = ipv6_first_netif(s);
	} else {
		const struct route *r = route_lookup(&s->routes, dst);
		ifp = r ? stack_netif(s, r->ifindex) : NULL;
		if (r)
			nexthop = route_nexthop(r, dst);
	}
	if (!ifp || !ifp->ip6.on) {
		stack_drop(s, p, "ip6.no_route", "to %s", ipaddr_ntop(dst, a, sizeof(a)));
		return -ENETUNREACH;
	}
	if (src && src->family == AF_INET6 && !ip6_is_unspecified(src)) {
		from = *src;
	} else if (ipv6_select_source(s, ifp, dst, &from) < 0) {
		stack_drop(s, p, "ip6.no_source", "to %s", ipaddr_ntop(dst, a, sizeof(a)));
		return -ENETUNREACH;
	}
	return ipv6_send(s, ifp, p, &from, dst, &nexthop, proto, hops);
}

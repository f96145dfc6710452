/* IPv4 (RFC 791, RFC 1122 3.2.1): the header codec, the input checks of a
 * host, dispatch to ICMP, UDP and TCP, and output through the
 * routing table and ARP. See ipv4.h.
 *
 * The header, RFC 791 3.1 (offsets in bytes):
 *
 *     0               1               2               3
 *     |version| IHL   |     TOS       |         total length          |
 *     |        identification         |flags|    fragment offset      |
 *     |     TTL       |   protocol    |        header checksum        |
 *     |                        source address                         |
 *     |                     destination address                       |
 *     |                 options (IHL > 5) ...                         |
 */
#include "ip/ipv4.h"

#include <errno.h>
#include <string.h>

#include "ip/addr.h"
#include "ip/firewall.h"
#include "ip/forward.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "ip/ipv4_frag.h"
#include "ip/ipv4_opts.h"
#include "ip/pmtu.h"
#include "ip/udp.h"
#include "tcp/tcp.h"
#include "ip/route.h"
#include "link/arp.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/pkt.h"
#include "stack/rng.h"
#include "stack/siphash.h"
#include "stack/stack.h"

/* Field offsets in the header. */
enum {
	IP_OFF_VER_IHL = 0,
	IP_OFF_TOS = 1,
	IP_OFF_TOTAL_LEN = 2,
	IP_OFF_ID = 4,
	IP_OFF_FRAG = 6,
	IP_OFF_TTL = 8,
	IP_OFF_PROTO = 9,
	IP_OFF_CHECKSUM = 10,
	IP_OFF_SRC = 12,
	IP_OFF_DST = 16,
};

/* Parses and checks the header at buf (len bytes after the Ethernet
 * header). Every field is read before the checks, so a caller can name the
 * source in its drop trace whenever len >= 20. Returns NULL or the reason of
 * the first failed check, in the order listed in ipv4.h. */
const char *ipv4_parse(const uint8_t *buf, size_t len, struct ipv4_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < IPV4_HDR_LEN)
		return "ip.short_packet";

	h->version = buf[IP_OFF_VER_IHL] >> 4;
	h->ihl = buf[IP_OFF_VER_IHL] & 0x0f;
	h->tos = buf[IP_OFF_TOS];
	h->total_len = be16_get(buf + IP_OFF_TOTAL_LEN);
	h->id = be16_get(buf + IP_OFF_ID);
	h->frag = be16_get(buf + IP_OFF_FRAG);
	h->ttl = buf[IP_OFF_TTL];
	h->proto = buf[IP_OFF_PROTO];
	h->checksum = be16_get(buf + IP_OFF_CHECKSUM);
	h->src = be32_get(buf + IP_OFF_SRC);
	h->dst = be32_get(buf + IP_OFF_DST);

	/* RFC 1122 3.2.1.1: a datagram whose version is not 4 MUST be discarded */
	if (h->version != 4)
		return "ip.bad_version";
	/* RFC 791 3.1: the minimum value for a correct header is 5 words */
	if (h->ihl < 5)
		return "ip.short_header";
	if ((size_t)h->ihl * 4 > len)
		return "ip.header_exceeds_packet";
	/* RFC 791 3.1: the total length counts the header and the data */
	if (h->total_len < h->ihl * 4)
		return "ip.bad_total_length";
	if (h->total_len > len)
		return "ip.truncated";
	/* RFC 1122 3.2.1.2: a host MUST verify the header checksum and silently
	 * discard a datagram that has a bad one (summed with the checksum
	 * field itself, a correct header gives 0) */
	if (inet_csum(buf, (size_t)h->ihl * 4) != 0)
		return "ip.bad_checksum";
	return NULL;
}

/* Writes a 20-byte header (version 4, IHL 5, no options) from h at buf and
 * fills in its checksum (RFC 791 3.1: computed with the field at zero). */
void ipv4_emit(const struct ipv4_hdr *h, uint8_t *buf)
{
	buf[IP_OFF_VER_IHL] = 4 << 4 | 5;
	buf[IP_OFF_TOS] = h->tos;
	be16_put(buf + IP_OFF_TOTAL_LEN, h->total_len);
	be16_put(buf + IP_OFF_ID, h->id);
	be16_put(buf + IP_OFF_FRAG, h->frag);
	buf[IP_OFF_TTL] = h->ttl;
	buf[IP_OFF_PROTO] = h->proto;
	be16_put(buf + IP_OFF_CHECKSUM, 0);
	be32_put(buf + IP_OFF_SRC, h->src);
	be32_put(buf + IP_OFF_DST, h->dst);
	be16_put(buf + IP_OFF_CHECKSUM, inet_csum(buf, IPV4_HDR_LEN));
}

/* The unfolded sum of the pseudo-header that the TCP and UDP checksums
 * cover (RFC 793 3.1, RFC 768):
 *     source address, destination address, zero, protocol, TCP/UDP length */
uint32_t ipv4_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint8_t ph[12];

	be32_put(ph, src);
	be32_put(ph + 4, dst);
	ph[8] = 0;
	ph[9] = proto;
	be16_put(ph + 10, len);
	return csum_partial(ph, sizeof(ph), 0);
}

/* True for 224.0.0.0/4 (RFC 1112 4). */
static bool ipv4_is_multicast(uint32_t a)
{
	return (a & 0xf0000000u) == 0xe0000000u;
}

/* True for 127.0.0.0/8 (RFC 1122 3.2.1.3 (g)). */
static bool ipv4_is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

/* True if a is the limited broadcast 255.255.255.255 or the directed
 * broadcast of ifp's subnet (RFC 1122 3.2.1.3 (c), (d)). Prefixes /31 and
 * /32 have no broadcast address (RFC 3021). */
static bool ipv4_is_broadcast(const struct netif *ifp, uint32_t a)
{
	if (a == IP4_BROADCAST)
		return true;
	if (ifp->ip4 == 0 || ifp->ip4_prefix >= 31)
		return false;
	return a == (ifp->ip4 | ~ip4_mask(ifp->ip4_prefix));
}

/* RFC 1122 3.2.1.3: a source address must name one host. A broadcast,
 * multicast or loopback (127/8, which never appears on a wire) source is
 * discarded. 0.0.0.0 ("this host", RFC 1122 3.2.1.3 (a)) is only used by a
 * host that is still learning its address, and it can then only be sent to
 * the limited broadcast (DHCP, RFC 2131 4.1); Linux rules the same way. */
static bool ipv4_source_ok(const struct netif *ifp, uint32_t src, uint32_t dst)
{
	if (src == 0)
		return dst == IP4_BROADCAST;
	return !ipv4_is_broadcast(ifp, src) && !ipv4_is_multicast(src) && !ipv4_is_loopback(src);
}

/* Hands a datagram that passed every check to its protocol (p->data at the
 * IP header, p->len the total length). bcast says it came to a broadcast
 * address, IP or link layer: no ICMP error may answer it. Consumes p. */
static void ipv4_deliver(struct stack *s, struct netif *ifp, struct pkt *p,
			 const struct ipv4_hdr *h, bool bcast)
{
	char src[IP4_STRLEN];

	switch (h->proto) {
	case IP_PROTO_ICMP:
		pkt_pull(p, (size_t)h->ihl * 4);
		stats_inc(&s->stats, "ip.delivered");
		icmp_input(s, ifp, p, h);
		return;
	case IP_PROTO_TCP:
	case IP_PROTO_UDP: {
		struct ip_rx rx = {
			.src = ipaddr_v4(h->src),
			.dst = ipaddr_v4(h->dst),
			.proto = h->proto,
			.ttl = h->ttl,
			.bcast = bcast,
			.hdr = p->data,
			.hdr_len = (size_t)h->ihl * 4,
			.dgram_len = p->len,
		};
		pkt_pull(p, rx.hdr_len);
		stats_inc(&s->stats, "ip.delivered");
		if (h->proto == IP_PROTO_TCP)
			tcp_input(s, ifp, p, &rx);
		else
			udp_input(s, ifp, p, &rx);
		return;
	}
	default:
		/* RFC 1122 3.2.2.1: a host SHOULD answer a datagram for a
		 * protocol it does not implement with protocol unreachable;
		 * RFC 1122 3.2.2: never about a broadcast (icmp_send_error
		 * checks the IP destination, the link layer is known only here) */
		if (!bcast)
			icmp_send_error(s, p->data, p->len, ICMP_DEST_UNREACH, ICMP_PROTO_UNREACH);
		stack_drop(s, p, "ip.unknown_protocol", "proto %u from %s", h->proto,
			   ip4_ntop(h->src, src));
		return;
	}
}

/* Receives one datagram on ifp (p->data at the IP header; p->len may include
 * Ethernet padding). Checks the header, trims the padding, keeps what is
 * addressed to this host (RFC 1122 3.2.1.3; a host does not forward, RFC
 * 1122 3.3.1) and passes it up. Consumes p. */
void ipv4_input(struct stack *s, struct netif *ifp, struct pkt *p)
{
	struct ipv4_hdr h;
	const char *reason;
	char src[IP4_STRLEN], dst[IP4_STRLEN];

	stats_inc(&s->stats, "ip.rx");
	reason = ipv4_parse(p->data, p->len, &h);
	if (reason) {
		/* the source is known only when the fixed header is there */
		if (p->len < IPV4_HDR_LEN) {
			stack_drop(s, p, reason, "len %zu", p->len);
			return;
		}
		goto drop;
	}
	/* RFC 791 3.1: the total length says where the datagram ends; the
	 * rest is link-layer padding (frames shorter than 60 bytes) */
	pkt_trim(p, h.total_len);

	if (!ipv4_source_ok(ifp, h.src, h.dst)) {
		reason = "ip.bad_source";
		goto drop;
	}
	if (ipv4_is_multicast(h.dst)) {
		reason = "ip.multicast_unsupported";
		goto drop;
	}
	/* RFC 1122 3.3.4.2 (strong model): our address on this interface, or
	 * a broadcast on it; RFC 1122 3.3.1: a host silently drops the rest */
	bool ip_bcast = ipv4_is_broadcast(ifp, h.dst);
	if (!ip_bcast && (ifp->ip4 == 0 || h.dst != ifp->ip4)) {
		if (!s->ip_forward) {
			reason = "ip.not_for_us";
			goto drop;
		}
		/* RFC 1812 5.2.1: a router (--forward) passes the rest on
		 * (ip/forward.c), or takes it as for another of its addresses */
		ifp = ipv4_forward(s, ifp, p, &h);
		if (!ifp)
			return;
	}
	/* RFC 791 3.1: options laid out as they must be (ip/ipv4_opts.c);
	 * RFC 1122 3.2.2.5: a host SHOULD say which byte is wrong with a
	 * Parameter Problem (icmp_send_error applies 3.2.2's rules: never
	 * about a broadcast, an ICMP error, a later fragment) */
	if (h.ihl > 5) {
		int bad = ipv4_options_check(p->data + IPV4_HDR_LEN, (size_t)h.ihl * 4 - IPV4_HDR_LEN);
		if (bad >= 0) {
			if (!ip_bcast && !(p->flags & PKT_LINK_BCAST))
				icmp_send_param_problem(s, p->data, p->len, (uint8_t)(IPV4_HDR_LEN + bad));
			reason = "ip.bad_options";
			goto drop;
		}
	}
	/* RFC 791 3.2: a fragment has MF set or a nonzero offset. It waits
	 * for the others; the one that completes the datagram gives the whole
	 * of it back, in a new (large) packet, with its header to parse again */
	if (h.frag & (IPV4_FLAG_MF | IPV4_FRAG_MASK)) {
		p = ipv4_reasm_input(s, p, &h);
		if (!p)
			return;
		reason = ipv4_parse(p->data, p->len, &h);
		if (reason)
			goto drop;
	}
	/* the stateful filter (ip/firewall.c) decides what goes up */
	if (s->fw && !fw_input(s, p, h.proto, (size_t)h.ihl * 4))
		return;
	ipv4_deliver(s, ifp, p, &h, ip_bcast || (p->flags & PKT_LINK_BCAST));
	return;

drop:
	stack_drop(s, p, reason, "from %s to %s", ip4_ntop(h.src, src), ip4_ntop(h.dst, dst));
}

/* Chooses the interface and the link-layer next hop for dst. Broadcasts are
 * on-link and need no route: the limited broadcast goes out of the first
 * interface, a directed broadcast out of the interface of its subnet.
 * Everything else follows the longest matching route. Returns 0 or
 * -ENETUNREACH. */
static int ipv4_route(struct stack *s, uint32_t dst, struct netif **ifp, uint32_t *nexthop)
{
	for (int i = 0; i < s->nifs; i++) {
		if (ipv4_is_broadcast(&s->ifs[i], dst)) {
			*ifp = &s->ifs[i];
			*nexthop = dst;
			return 0;
		}
	}

	struct ipaddr d = ipaddr_v4(dst);
	const struct route *r = route_lookup(&s->routes, &d);
	if (!r)
		return -ENETUNREACH;
	*ifp = stack_netif(s, r->ifindex);
	if (!*ifp)
		return -ENETUNREACH;
	struct ipaddr nh = route_nexthop(r, &d);
	*nexthop = ipaddr_to_v4(&nh);
	return 0;
}

/* The bucket of (src, dst, proto) in *bucket, and its offset. */
static uint16_t ipv4_ident_hash(const struct ipv4_ident *id, uint32_t src, uint32_t dst,
				uint8_t proto, size_t *bucket)
{
	uint8_t m[9];
	be32_put(m, src);
	be32_put(m + 4, dst);
	m[8] = proto;
	uint64_t h = siphash24(id->key, m, sizeof(m));
	*bucket = (size_t)(h % IPV4_IDENT_BUCKETS);
	return (uint16_t)(h >> 48);
}

/* See ipv4.h. The key comes from its own generator, so the host's draws
 * (ports, sequence numbers) stay what they were. */
void ipv4_ident_init(struct ipv4_ident *id, uint64_t seed)
{
	struct rng r;
	rng_seed(&r, seed ^ 0x6864773964867739ull);
	rng_fill(&r, id->key, sizeof(id->key));
	memset(id->next, 0, sizeof(id->next));
}

/* See ipv4.h. */
uint16_t ipv4_ident_peek(const struct ipv4_ident *id, uint32_t src, uint32_t dst, uint8_t proto)
{
	size_t b;
	uint16_t off = ipv4_ident_hash(id, src, dst, proto, &b);
	return (uint16_t)(off + id->next[b]);
}

/* Takes the identification of the next datagram src -> dst (RFC 6864
 * 4.1, RFC 7739 5.3: per destination, unpredictable from outside). */
static uint16_t ipv4_ident_take(struct ipv4_ident *id, uint32_t src, uint32_t dst, uint8_t proto)
{
	size_t b;
	uint16_t off = ipv4_ident_hash(id, src, dst, proto, &b);
	return (uint16_t)(off + id->next[b]++);
}

/* See ipv4.h. The walk a datagram takes on its way out, step by step.
 * Consumes p. */
int ipv4_output(struct stack *s, struct pkt *p, const struct ipv4_tx *tx)
{
	struct netif *ifp;
	uint32_t nexthop;
	char a[IP4_STRLEN], b[IP4_STRLEN];

	/* 1. Route (RFC 1122 3.3.1): the interface and the next hop, the
	 *    destination itself when it is on-link, else a gateway */
	if (ipv4_route(s, tx->dst, &ifp, &nexthop) < 0) {
		stack_drop(s, p, "ip.no_route", "to %s", ip4_ntop(tx->dst, a));
		return -ENETUNREACH;
	}

	/* 2. Source (RFC 1122 3.3.4.3): the one asked for, else the address
	 *    of the interface the datagram leaves by */
	uint32_t src = tx->src ? tx->src : ifp->ip4;

	/* 3. Size (RFC 791 3.1: options in 4-byte words, at most 40 bytes;
	 *    the total length field has 16 bits). RFC 1191: no larger than
	 *    the path MTU "fragmentation needed" taught us (ip/pmtu.h), when
	 *    it is below the link's. It fits if it is no larger than the path
	 *    takes, or if it is a TCP segment for the device to cut (TSO,
	 *    pkt.h) and the device takes one that large. RFC 791 3.2: with
	 *    Don't Fragment set, one that does not fit is not sent */
	if (tx->optlen > IPV4_OPT_MAX || tx->optlen % 4) {
		stack_drop(s, p, "ip.tx_bad_options", "%zu bytes of options", tx->optlen);
		return -EINVAL;
	}
	size_t hlen = IPV4_HDR_LEN + tx->optlen;
	size_t total = p->len + hlen;
	struct ipaddr d = ipaddr_v4(tx->dst);
	unsigned mtu = pmtu_get(s, &d, ifp->mtu);
	bool fits = total <= mtu || (p->off.gso_size && total <= ifp->dev->tso_max);
	if (total > 65535 || (tx->df == IP_DF_DO && !fits)) {
		stack_drop(s, p, "ip.tx_too_big", "%zu bytes to %s, mtu %u%s", total,
			   ip4_ntop(tx->dst, a), mtu, tx->df == IP_DF_DO ? " DF" : "");
		return -EMSGSIZE;
	}
	bool set_df = tx->df == IP_DF_DO || (tx->df == IP_DF_WANT && fits);

	/* 4. Header (RFC 791 3.1): a fresh identification per datagram (its
	 *    fragments share it; RFC 6864 4.1, RFC 7739: from the counter of
	 *    its source, destination and protocol, ipv4.h), DF as step 3 chose, the TTL asked for or
	 *    IPV4_DEFAULT_TTL (RFC 1122 3.2.1.7), and the checksum */
	uint8_t *hdr = pkt_push(p, hlen);
	if (!hdr) {
		stack_drop(s, p, "ip.no_headroom", "to %s", ip4_ntop(tx->dst, a));
		return -ENOBUFS;
	}
	struct ipv4_hdr h = {
		.version = 4,
		.ihl = 5,
		.total_len = (uint16_t)total,
		.id = ipv4_ident_take(&s->ip_ident, src, tx->dst, tx->proto),
		.frag = set_df ? IPV4_FLAG_DF : 0,
		.ttl = tx->ttl ? tx->ttl : IPV4_DEFAULT_TTL,
		.proto = tx->proto,
		.src = src,
		.dst = tx->dst,
	};
	ipv4_emit(&h, hdr);

	/* 5. Options (RFC 791 3.1): after the fixed header; IHL covers them
	 *    and the checksum is summed again */
	if (tx->optlen) {
		memcpy(hdr + IPV4_HDR_LEN, tx->opts, tx->optlen);
		hdr[IP_OFF_VER_IHL] = (uint8_t)(4 << 4 | hlen / 4);
		be16_put(hdr + IP_OFF_CHECKSUM, 0);
		be16_put(hdr + IP_OFF_CHECKSUM, inet_csum(hdr, hlen));
	}
	p->flags = 0;
	/* the stateful filter (ip/firewall.c) notes the flow the host opens */
	if (s->fw)
		fw_output(s, p, tx->proto, hlen);
	stats_inc(&s->stats, "ip.tx");
	TRACE(s, "tx IP %s -> %s proto %u len %zu", ip4_ntop(src, a), ip4_ntop(tx->dst, b),
	      tx->proto, total);

	/* 6. Fragment or send (RFC 791 3.2): larger than the path takes (the
	 *    link's MTU or a smaller one learned, ip/pmtu.h), in fragments
	 *    (ip/ipv4_frag.c); else whole, to ARP for the next hop's MAC
	 *    (link/arp.c) */
	if (!fits) {
		pkt_csum_complete(p); /* fragments carry a finished checksum */
		return ipv4_fragment_output(s, ifp, p, nexthop, mtu);
	}
	return arp_output(s, ifp, p, nexthop);
}

/* ICMPv6 (RFC 4443): the codec with the pseudo-header checksum, echo reply,
 * error messages with the rules of RFC 4443 2.4, and dispatch of neighbor
 * discovery messages to ndp.c. See icmpv6.h.
 *
 * Every message starts the same way (RFC 4443 2.1):
 *
 *     |     type      |     code      |           checksum            |
 *     |  identifier (echo) / unused, pointer or MTU (errors)  ...     |
 */
#include "ip/icmpv6.h"

#include <errno.h>
#include <string.h>

#include "ip/ip.h"
#include "ip/ipv6.h"
#include "ip/ipv6_frag.h"
#include "ip/mld.h"
#include "ip/ndp.h"
#include "ip/route.h"
#include "ip/pmtu.h"
#include "ip/udp.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/pkt.h"
#include "stack/stack.h"
#include "tcp/tcp.h"

/* Field offsets in the ICMPv6 header. */
enum {
	ICMP6_OFF_TYPE = 0,
	ICMP6_OFF_CODE = 1,
	ICMP6_OFF_CHECKSUM = 2,
	ICMP6_OFF_REST = 4,
};

/* RFC 4443 2.4 (c): an error holds as much of the offending packet as fits
 * without the error exceeding the minimum IPv6 MTU. */
#define ICMP6_ERR_MAX_QUOTE (IPV6_MIN_MTU - IPV6_HDR_LEN - ICMP6_HDR_LEN)

/* Parses the message at buf. RFC 4443 2.3: the checksum covers the
 * pseudo-header (RFC 8200 8.1) and the whole message, so a correct one sums
 * to 0. Returns NULL, "icmp6.short" or "icmp6.bad_checksum". */
const char *icmpv6_parse(const uint8_t *buf, size_t len, const struct ipaddr *src,
			 const struct ipaddr *dst, struct icmpv6_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < ICMP6_HDR_LEN)
		return "icmp6.short";
	h->type = buf[ICMP6_OFF_TYPE];
	h->code = buf[ICMP6_OFF_CODE];
	h->checksum = be16_get(buf + ICMP6_OFF_CHECKSUM);
	h->rest = be32_get(buf + ICMP6_OFF_REST);
	uint32_t sum = ip_pseudo_sum(src, dst, IP6_NH_ICMPV6, (uint32_t)len);
	if (csum_fold(csum_partial(buf, len, sum)) != 0)
		return "icmp6.bad_checksum";
	return NULL;
}

/* Writes h at the front of the len-byte message at buf and fills in the
 * checksum over the pseudo-header and the message (RFC 4443 2.3). */
void icmpv6_emit(const struct icmpv6_hdr *h, uint8_t *buf, size_t len, const struct ipaddr *src,
		 const struct ipaddr *dst)
{
	buf[ICMP6_OFF_TYPE] = h->type;
	buf[ICMP6_OFF_CODE] = h->code;
	be16_put(buf + ICMP6_OFF_CHECKSUM, 0);
	be32_put(buf + ICMP6_OFF_REST, h->rest);
	uint32_t sum = ip_pseudo_sum(src, dst, IP6_NH_ICMPV6, (uint32_t)len);
	be16_put(buf + ICMP6_OFF_CHECKSUM, csum_fold(csum_partial(buf, len, sum)));
}

/* Starts with a full bucket of error tokens. */
void icmpv6_init(struct icmpv6_state *st)
{
	memset(st, 0, sizeof(*st));
	st->err_tokens = ICMP6_ERR_BURST;
}

/* Answers an echo request (p->data at the ICMPv6 header) with the same
 * identifier, sequence and data (RFC 4443 4.2). To a unicast request the
 * reply comes from the address it was sent to; to a multicast one, from an
 * address of ours chosen as for any other packet (RFC 4443 4.2). Consumes p. */
static void icmpv6_echo_request(struct stack *s, struct pkt *p, const struct ip_rx *rx,
				const struct icmpv6_hdr *h)
{
	char a[IPADDR_STRLEN];
	uint16_t id = (uint16_t)(h->rest >> 16), seq = (uint16_t)h->rest;
	struct ipaddr from = { .family = 0 };

	stats_inc(&s->stats, "icmp6.rx_echo_request");
	TRACE(s, "rx ICMPv6 echo request from %s id %u seq %u len %zu",
	      ipaddr_ntop(&rx->src, a, sizeof(a)), id, seq, p->len - ICMP6_HDR_LEN);
	if (!ip6_is_multicast(&rx->dst))
		from = rx->dst;
	else if (ipv6_select_source(s, stack_netif(s, p->ifindex), &rx->src, &from) < 0) {
		stack_drop(s, p, "icmp6.no_source", "for the reply to %s",
			   ipaddr_ntop(&rx->src, a, sizeof(a)));
		return;
	}
	struct icmpv6_hdr r = { .type = ICMP6_ECHO_REPLY, .code = 0, .rest = h->rest };
	icmpv6_emit(&r, p->data, p->len, &from, &rx->src);
	stats_inc(&s->stats, "icmp6.tx_echo_reply");
	TRACE(s, "tx ICMPv6 echo reply to %s id %u seq %u", ipaddr_ntop(&rx->src, a, sizeof(a)),
	      id, seq);
	ipv6_output(s, p, &from, &rx->src, IP6_NH_ICMPV6, 0);
}

/* A name for an error type, for trace lines. */
static const char *icmpv6_error_name(uint8_t type)
{
	switch (type) {
	case ICMP6_DEST_UNREACH:
		return "destination unreachable";
	case ICMP6_PACKET_TOO_BIG:
		return "packet too big";
	case ICMP6_TIME_EXCEEDED:
		return "time exceeded";
	case ICMP6_PARAM_PROBLEM:
		return "parameter problem";
	default:
		return "error";
	}
}

/* The errno an ICMPv6 error means for the socket it is about, as Linux's
 * icmpv6_err_convert: RFC 4443 3.1 destination unreachable by code (4, port
 * unreachable, is ECONNREFUSED: a hard error for a connecting TCP), 3.3
 * time exceeded, 3.4 parameter problem (code 1, an unrecognized next
 * header, is the IPv6 form of "protocol unreachable"). 0: nothing to report
 * (packet too big is path MTU discovery's, RFC 8201; unknown types). */
static int icmpv6_error_errno(uint8_t type, uint8_t code)
{
	switch (type) {
	case ICMP6_DEST_UNREACH:
		switch (code) {
		case 0: /* no route to destination */
			return ENETUNREACH;
		case 1: /* communication administratively prohibited */
		case 5: /* source address failed ingress/egress policy */
		case 6: /* reject route to destination */
			return EACCES;
		case ICMP6_UNREACH_PORT:
			return ECONNREFUSED;
		default: /* 2 beyond scope, 3 address unreachable, others */
			return EHOSTUNREACH;
		}
	case ICMP6_TIME_EXCEEDED:
		return EHOSTUNREACH;
	case ICMP6_PARAM_PROBLEM:
		return code == ICMP6_PARAM_NEXT_HEADER ? ENOPROTOOPT : EPROTO;
	default:
		return 0;
	}
}

/* Reads what the ICMPv6 error p (p->data at its header) quotes: the IPv6
 * header of the datagram it is about, into *qh, then, walking its
 * extension headers, the transport header: *l4 at its first 8 bytes (the
 * ports, and TCP's sequence number) and *proto its protocol, or *l4 NULL
 * if the quote is cut short of them. The quote may end before its payload
 * length says (RFC 4443 2.4 (c)), so the header is read without
 * ipv6_parse's checks. Returns NULL, or the reason p cannot be about a
 * datagram of ours: "icmp6.error_short_quote" (less than an IPv6 header,
 * not version 6, or, with need_l4, no transport header's first 8 bytes),
 * "icmp6.error_not_ours" (the quoted source is not one of our addresses).
 * Counts nothing: the caller does. */
static const char *icmpv6_quote(struct stack *s, const struct pkt *p, bool need_l4,
				struct ipv6_hdr *qh, const uint8_t **l4, uint8_t *proto)
{
	const uint8_t *q = p->data + ICMP6_HDR_LEN;
	size_t qlen = p->len - ICMP6_HDR_LEN;
	struct ipv6_chain c;

	*l4 = NULL;
	*proto = 0;
	if (qlen < IPV6_HDR_LEN || (q[0] >> 4) != 6)
		return "icmp6.error_short_quote";
	ipv6_parse(q, qlen, qh); /* fills every field first; its verdict is not wanted */
	if (ipv6_walk_ext(q, qlen, qh->next, &c) == NULL && c.off + 8 <= qlen) {
		*l4 = q + c.off;
		*proto = c.proto;
	}
	if (need_l4 && !*l4)
		return "icmp6.error_short_quote";
	if (!ip_is_local(s, &qh->src))
		return "icmp6.error_not_ours";
	return NULL;
}

/* Passes a received ICMPv6 error (p->data at its header, h parsed) to the
 * transport of the datagram it quotes (RFC 4443 2.4 (a); RFC 1122 4.1.3.3
 * and 4.2.3.9 as for IPv4): the quoted IPv6 header and its extension
 * headers are walked to the UDP or TCP header, whose ports (and TCP
 * sequence number) name the socket. Only errors about datagrams we sent
 * (the quoted source is one of our addresses) are passed. The caller
 * keeps p. */
static void icmpv6_error_to_transport(struct stack *s, const struct pkt *p,
				      const struct ip_rx *rx, const struct icmpv6_hdr *h)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	struct ipv6_hdr qh;
	const uint8_t *l4;
	uint8_t proto;

	const char *reason = icmpv6_quote(s, p, true, &qh, &l4, &proto);
	if (reason) {
		stats_inc(&s->stats, reason);
		TRACE(s, "ICMPv6 %s from %s not passed up: %s", icmpv6_error_name(h->type),
		      ipaddr_ntop(&rx->src, a, sizeof(a)), reason);
		return;
	}
	uint16_t sport = be16_get(l4), dport = be16_get(l4 + 2);
	int err = icmpv6_error_errno(h->type, h->code);
	TRACE(s, "rx ICMPv6 %s code %u about proto %u [%s]:%u -> [%s]:%u",
	      icmpv6_error_name(h->type), h->code, proto, ipaddr_ntop(&qh.src, a, sizeof(a)),
	      sport, ipaddr_ntop(&qh.dst, b, sizeof(b)), dport);
	if (!err)
		return;
	if (proto == IP6_NH_UDP)
		udp_error(s, &qh.src, sport, &qh.dst, dport, err);
	else if (proto == IP6_NH_TCP)
		tcp_icmp_error(s, &qh.src, sport, &qh.dst, dport, be32_get(l4 + 4), err, 0);
}

/* RFC 4443 3.2: a Packet Too Big says the datagram it quotes (p->data +
 * 8, from its IPv6 header) did not fit a link on the way of h->rest bytes.
 * RFC 8201 4: only about a datagram we sent, the path MTU to its
 * destination is lowered (never below 1280, ip/pmtu.h), and a TCP
 * connection named by the quoted ports lowers its MSS as for IPv4's
 * "fragmentation needed" (tcp_icmp_error). Consumes p. */
static void icmpv6_packet_too_big(struct stack *s, struct netif *ifp, struct pkt *p,
				  const struct ip_rx *rx, const struct icmpv6_hdr *h)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	struct ipv6_hdr qh;
	const uint8_t *l4;
	uint8_t proto;

	stats_inc(&s->stats, "icmp6.rx_packet_too_big");
	/* the quote is cut at 1280 bytes: the ports are used if they are there */
	const char *reason = icmpv6_quote(s, p, false, &qh, &l4, &proto);
	if (reason) {
		stack_drop(s, p, reason, "packet too big from %s", ipaddr_ntop(&rx->src, a, sizeof(a)));
		return;
	}
	TRACE(s, "rx ICMPv6 packet too big from %s: mtu %u to %s", ipaddr_ntop(&rx->src, a, sizeof(a)),
	      h->rest, ipaddr_ntop(&qh.dst, b, sizeof(b)));
	/* RFC 5927 4.1, 7: a TCP quote lowers the path MTU only when TCP
	 * finds it valid (the connection, a sequence number in flight); TCP
	 * is told the smaller of the new MTU and the one cached, at least
	 * 1280. Any other quote (UDP, ICMPv6, a non-first
	 * fragment) is taken because its source is ours (RFC 8201 5.2,
	 * checked above) */
	if (l4 && proto == IP6_NH_TCP) {
		unsigned cur = pmtu_get(s, &qh.dst, ifp->mtu);
		uint32_t tmtu = h->rest < cur ? h->rest : cur;
		tmtu = tmtu < PMTU_MIN_V6 ? PMTU_MIN_V6 : tmtu; /* RFC 8201 4, as pmtu_update */
		if (!tcp_icmp_error(s, &qh.src, be16_get(l4), &qh.dst, be16_get(l4 + 2),
				    be32_get(l4 + 4), EMSGSIZE, (uint16_t)(tmtu > 65535 ? 65535 : tmtu))) {
			stats_inc(&s->stats, "pmtu.unvalidated");
			TRACE(s, "pmtu %s: mtu %u not taken, the quote is not valid",
			      ipaddr_ntop(&qh.dst, b, sizeof(b)), h->rest);
			pkt_free(p);
			return;
		}
	}
	pmtu_update(s, &qh.dst, h->rest, ifp->mtu);
	pkt_free(p);
}

/* Handles an ICMPv6 message for this host (p->data at its header, p->len
 * its length, rx the datagram it came in): echo requests are answered, echo
 * replies counted, NS, NA and RA passed to neighbor discovery, MLD queries
 * and reports to ip/mld.c, packet too big to the path MTU cache, other
 * errors counted and passed to the socket they are about, the rest
 * dropped (RFC 4443 2.4 (a), (b)). Consumes p. */
void icmpv6_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *rx)
{
	struct icmpv6_hdr h;
	const char *reason;
	char src[IPADDR_STRLEN];

	reason = icmpv6_parse(p->data, p->len, &rx->src, &rx->dst, &h);
	if (reason)
		goto drop;
	stats_inc(&s->stats, "icmp6.rx");

	switch (h.type) {
	case ICMP6_ECHO_REQUEST:
		icmpv6_echo_request(s, p, rx, &h);
		return;
	case ICMP6_ECHO_REPLY:
		stats_inc(&s->stats, "icmp6.rx_echo_reply");
		TRACE(s, "rx ICMPv6 echo reply from %s id %u seq %u",
		      ipaddr_ntop(&rx->src, src, sizeof(src)), h.rest >> 16, h.rest & 0xffff);
		pkt_free(p);
		return;
	case ICMP6_NEIGHBOR_SOLICIT:
	case ICMP6_NEIGHBOR_ADVERT:
	case ICMP6_ROUTER_ADVERT:
		ndp_input(s, ifp, p, rx);
		return;
	case MLD_QUERY:
	case MLD_V1_REPORT:
	case MLD_V1_DONE:
	case MLD_V2_REPORT:
		mld_input(s, ifp, p, rx);
		return;
	case ICMP6_ROUTER_SOLICIT:
		/* RFC 4861 6.2.6: only routers answer them */
		reason = "ndp.rs_ignored";
		goto drop;
	case ICMP6_REDIRECT:
		/* RFC 4861 8: a host MAY ignore redirects; we do by default */
		reason = "ndp.redirect_ignored";
		goto drop;
	case ICMP6_PACKET_TOO_BIG:
		icmpv6_packet_too_big(s, ifp, p, rx, &h);
		return;
	default:
		if (h.type < 128) {
			/* RFC 4443 2.4 (a): unknown errors go up too */
			stats_inc(&s->stats, "icmp6.rx_error");
			TRACE(s, "rx ICMPv6 %s from %s (type %u code %u)",
			      icmpv6_error_name(h.type), ipaddr_ntop(&rx->src, src, sizeof(src)),
			      h.type, h.code);
			icmpv6_error_to_transport(s, p, rx, &h);
			pkt_free(p);
			return;
		}
		/* RFC 4443 2.4 (b): unknown informational messages are
		 * silently discarded */
		reason = "icmp6.unknown_type";
		goto drop;
	}

drop:
	stack_drop(s, p, reason, "type %u from %s", h.type,
		   ipaddr_ntop(&rx->src, src, sizeof(src)));
}

/* RFC 4443 2.4 (e): the reason an error about the datagram at d (len bytes,
 * from its IPv6 header) must not be sent, or NULL. (e.1) an ICMPv6 error
 * message; (e.2, e.3) a packet to a multicast address or link-layer group,
 * except packet too big and parameter problem code 2; (e.6) a source that
 * does not name one node. */
static const char *icmpv6_error_forbidden(const uint8_t *d, size_t len, bool link_mcast,
					  uint8_t type, uint8_t code)
{
	struct ipv6_hdr h;
	struct ipv6_chain c;

	if (len < IPV6_HDR_LEN || (d[0] >> 4) != 6)
		return "icmp6.error_bad_quote";
	ipv6_parse(d, len, &h);
	/* the upper-layer protocol, when the chain can be walked; in a first
	 * fragment, the header right after the fragment header */
	if (ipv6_walk_ext(d, len, h.next, &c) == NULL && c.proto == IP6_NH_FRAGMENT &&
	    c.off + IP6_FRAG_HDR_LEN <= len) {
		struct ipv6_frag_hdr f;
		ipv6_frag_parse(d + c.off, &f);
		if (f.offset == 0) {
			c.proto = f.next;
			c.off += IP6_FRAG_HDR_LEN;
		}
	}
	if (c.proto == IP6_NH_ICMPV6 && (c.off >= len || d[c.off] < 128))
		return "icmp6.error_about_error";
	bool exception = type == ICMP6_PACKET_TOO_BIG ||
			 (type == ICMP6_PARAM_PROBLEM && code == ICMP6_PARAM_OPTION);
	if ((ip6_is_multicast(&h.dst) || link_mcast) && !exception)
		return "icmp6.error_about_multicast";
	if (ip6_is_unspecified(&h.src) || ip6_is_multicast(&h.src))
		return "icmp6.error_bad_source";
	return NULL;
}

/* Takes one token from the error bucket, refilled at ICMP6_ERR_RATE per
 * second up to ICMP6_ERR_BURST (RFC 4443 2.4 (f)). False when empty. */
static bool icmpv6_error_rate_ok(struct icmpv6_state *st, int64_t now)
{
	if (now > st->err_last) {
		st->err_tokens += (double)(now - st->err_last) * ICMP6_ERR_RATE / 1e6;
		if (st->err_tokens > ICMP6_ERR_BURST)
			st->err_tokens = ICMP6_ERR_BURST;
		st->err_last = now;
	}
	if (st->err_tokens < 1.0)
		return false;
	st->err_tokens -= 1.0;
	return true;
}

/* See icmpv6.h. The error goes to the source of the datagram, from its
 * destination when that is one of our unicast addresses (RFC 4443 2.2).
 * The caller keeps dgram. */
/* The interface an error to dst leaves by: the one its route names (on a
 * router, where the datagram came from; RFC 4443 2.2: the source is an
 * address of the node, and one on that interface makes traceroute -6 show
 * the hop the prober sees), else the first. */
static struct netif *icmpv6_error_netif(struct stack *s, const struct ipaddr *dst)
{
	const struct route *r = ip6_is_linklocal(dst) ? NULL : route_lookup(&s->routes, dst);
	struct netif *ifp = r ? stack_netif(s, r->ifindex) : NULL;
	return ifp && ifp->ip6.on ? ifp : &s->ifs[0];
}

void icmpv6_send_error(struct stack *s, const uint8_t *dgram, size_t len, bool link_mcast,
		       uint8_t type, uint8_t code, uint32_t param)
{
	char a[IPADDR_STRLEN];
	struct ipv6_hdr h;
	const char *reason = icmpv6_error_forbidden(dgram, len, link_mcast, type, code);

	if (reason) {
		stack_drop(s, NULL, reason, "%s not sent", icmpv6_error_name(type));
		return;
	}
	ipv6_parse(dgram, len, &h);
	if (!icmpv6_error_rate_ok(&s->icmp6, s->now)) {
		stack_drop(s, NULL, "icmp6.error_rate_limited", "%s to %s",
			   icmpv6_error_name(type), ipaddr_ntop(&h.src, a, sizeof(a)));
		return;
	}
	size_t qlen = len < ICMP6_ERR_MAX_QUOTE ? len : ICMP6_ERR_MAX_QUOTE;
	struct pkt *p = pkt_alloc(ICMP6_HDR_LEN + qlen);
	if (!p) {
		stats_inc(&s->stats, "icmp6.no_buffer");
		return;
	}
	struct ipaddr from = { .family = 0 };
	if (!ip6_is_multicast(&h.dst) && ip_is_local(s, &h.dst))
		from = h.dst;
	else if (ipv6_select_source(s, icmpv6_error_netif(s, &h.src), &h.src, &from) < 0) {
		stack_drop(s, p, "icmp6.no_source", "%s to %s", icmpv6_error_name(type),
			   ipaddr_ntop(&h.src, a, sizeof(a)));
		return;
	}
	uint8_t *buf = pkt_put(p, ICMP6_HDR_LEN + qlen);
	memcpy(buf + ICMP6_HDR_LEN, dgram, qlen);
	struct icmpv6_hdr e = { .type = type, .code = code, .rest = param };
	icmpv6_emit(&e, buf, ICMP6_HDR_LEN + qlen, &from, &h.src);
	stats_inc(&s->stats, "icmp6.tx_error");
	TRACE(s, "tx ICMPv6 %s code %u to %s", icmpv6_error_name(type), code,
	      ipaddr_ntop(&h.src, a, sizeof(a)));
	ipv6_output(s, p, &from, &h.src, IP6_NH_ICMPV6, 0);
}

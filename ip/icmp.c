/* ICMP for IPv4 (RFC 792, RFC 1122 3.2.2): the message codec, echo reply,
 * echo requests, and error messages with the rules that keep them from
 * making storms. See icmp.h.
 *
 * Every message starts the same way (RFC 792):
 *
 *     |     type      |     code      |           checksum            |
 *     |   identifier (echo) / unused (errors) |  sequence (echo)      |
 *     |   data (echo) / quoted IP header + payload (errors) ...       |
 */
#include "ip/icmp.h"

#include <errno.h>
#include <string.h>

#include "ip/addr.h"
#include "ip/ip.h"
#include "ip/ipv4.h"
#include "ip/ipv4_opts.h"
#include "ip/pmtu.h"
#include "ip/udp.h"
#include "tcp/tcp.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/pkt.h"
#include "stack/stack.h"

/* Field offsets in the ICMP header. */
enum {
	ICMP_OFF_TYPE = 0,
	ICMP_OFF_CODE = 1,
	ICMP_OFF_CHECKSUM = 2,
	ICMP_OFF_REST = 4,      /* echo: identifier at 4, sequence at 6 */
};

/* Offsets in the quoted IP header of an error (see ipv4.c). */
enum {
	QIP_OFF_TOTAL_LEN = 2,
	QIP_OFF_FRAG = 6,
	QIP_OFF_PROTO = 9,
	QIP_OFF_SRC = 12,
	QIP_OFF_DST = 16,
};

/* RFC 1122 3.2.2: an error quotes the header and at least 8 bytes of data,
 * and MAY quote more. We quote as much as keeps the whole error datagram
 * within 576 bytes, the size every host accepts (RFC 1812 4.3.2.3; Linux
 * does the same). */
#define ICMP_ERR_MAX_DGRAM 576
#define ICMP_ERR_MAX_QUOTE (ICMP_ERR_MAX_DGRAM - IPV4_HDR_LEN - ICMP_HDR_LEN)

/* Parses the ICMP message at buf, len bytes long. RFC 792: the checksum
 * covers the whole message, so a correct one sums to 0. Returns NULL,
 * "icmp.short" or "icmp.bad_checksum". */
const char *icmp_parse(const uint8_t *buf, size_t len, struct icmp_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < ICMP_HDR_LEN)
		return "icmp.short";
	h->type = buf[ICMP_OFF_TYPE];
	h->code = buf[ICMP_OFF_CODE];
	h->checksum = be16_get(buf + ICMP_OFF_CHECKSUM);
	h->rest = be32_get(buf + ICMP_OFF_REST);
	if (inet_csum(buf, len) != 0)
		return "icmp.bad_checksum";
	return NULL;
}

/* Writes the header h at buf, at the front of a len-byte message whose body
 * is already in place, and fills in the checksum over all of it. */
static void icmp_emit(const struct icmp_hdr *h, uint8_t *buf, size_t len)
{
	buf[ICMP_OFF_TYPE] = h->type;
	buf[ICMP_OFF_CODE] = h->code;
	be16_put(buf + ICMP_OFF_CHECKSUM, 0);
	be32_put(buf + ICMP_OFF_REST, h->rest);
	be16_put(buf + ICMP_OFF_CHECKSUM, inet_csum(buf, len));
}

/* Starts with a full bucket of error tokens and no echo callback. */
void icmp_init(struct icmp_state *st)
{
	memset(st, 0, sizeof(*st));
	st->err_tokens = ICMP_ERR_BURST;
	st->err_last = 0;
}

/* A name for an error type and code, for trace lines. */
static const char *icmp_error_name(uint8_t type, uint8_t code)
{
	static const char *const unreach[] = {
		[ICMP_NET_UNREACH] = "net unreachable",
		[ICMP_HOST_UNREACH] = "host unreachable",
		[ICMP_PROTO_UNREACH] = "protocol unreachable",
		[ICMP_PORT_UNREACH] = "port unreachable",
		[ICMP_FRAG_NEEDED] = "fragmentation needed",
	};

	switch (type) {
	case ICMP_DEST_UNREACH:
		return code <= ICMP_FRAG_NEEDED ? unreach[code] : "destination unreachable";
	case ICMP_TIME_EXCEEDED:
		return "time exceeded";
	case ICMP_PARAM_PROBLEM:
		return "parameter problem";
	default:
		return "error";
	}
}

/* True if type is an ICMP error message rather than a query: destination
 * unreachable, source quench, redirect, time exceeded, parameter problem
 * (RFC 792). Types after 18 (the last query, RFC 950) are unknown and taken
 * as errors, so we never answer them with an error; Linux does the same. */
static bool icmp_type_is_error(uint8_t type)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
	case 4: /* source quench */
	case 5: /* redirect */
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAM_PROBLEM:
		return true;
	default:
		return type > 18;
	}
}

/* The time an IPv4 Timestamp option records (RFC 791): milliseconds since
 * midnight UT, or, where the stack has no wall clock (a simulation), its
 * own milliseconds with the high bit set, as RFC 791 allows for a time that
 * is not. */
static uint32_t icmp_timestamp_ms(const struct stack *s)
{
	const int64_t day_ms = 86400000;
	if (!s->wall_offset)
		return (uint32_t)((s->now / 1000) % day_ms) | IPV4_TS_NONSTANDARD;
	return (uint32_t)(((s->now + s->wall_offset) / 1000) % day_ms);
}

/* Answers an echo request in place (p->data at the ICMP header): RFC 792
 * and RFC 1122 3.2.2.6 say the reply carries the same identifier, sequence
 * number and data, from the address the request was sent to. Requests to a
 * broadcast are ignored (RFC 1122 3.2.2.6 allows it; Linux does too by
 * default). Consumes p. */
static void icmp_echo_request(struct stack *s, struct netif *ifp, struct pkt *p,
			      const struct ipv4_hdr *ip, const struct icmp_hdr *h)
{
	/* LAB check2 BEGIN stub: (void)s; (void)ifp; (void)ip; (void)h; (void)icmp_timestamp_ms; pkt_free(p); */
	char src[IP4_STRLEN];
	uint16_t id = (uint16_t)(h->rest >> 16), seq = (uint16_t)h->rest;

	stats_inc(&s->stats, "icmp.rx_echo_request");
	TRACE(s, "rx ICMP echo request from %s id %u seq %u len %zu", ip4_ntop(ip->src, src), id,
	      seq, p->len - ICMP_HDR_LEN);
	/* ipv4_input accepted it, so a destination other than our address is
	 * a broadcast; so is anything that came to the link broadcast */
	if (ip->dst != ifp->ip4 || (p->flags & PKT_LINK_BCAST)) {
		stack_drop(s, p, "icmp.echo_broadcast_ignored", "from %s", ip4_ntop(ip->src, src));
		return;
	}
	/* Only the type changes (8 -> 0), so the checksum is updated for that
	 * one 16-bit word (type, code) instead of summed again (RFC 1624) */
	uint16_t old_word = be16_get(p->data + ICMP_OFF_TYPE);
	p->data[ICMP_OFF_TYPE] = ICMP_ECHO_REPLY;
	uint16_t new_word = be16_get(p->data + ICMP_OFF_TYPE);
	be16_put(p->data + ICMP_OFF_CHECKSUM,
		 csum_update16(be16_get(p->data + ICMP_OFF_CHECKSUM), old_word, new_word));

	/* RFC 1122 3.2.2.6: Record Route and Timestamp options come back in
	 * the reply, with this host added (ip/ipv4_opts.c); the request's
	 * header is still in the headroom, just before p->data */
	uint8_t opts[IPV4_OPT_MAX];
	int optlen = 0;
	if (ip->ihl > 5) {
		optlen = ipv4_echo_options(p->data - (size_t)ip->ihl * 4 + IPV4_HDR_LEN,
					   (size_t)(ip->ihl - 5) * 4, ip->dst, icmp_timestamp_ms(s), opts);
		if (optlen < 0) {
			stack_drop(s, p, "icmp.echo_bad_options", "from %s", ip4_ntop(ip->src, src));
			return;
		}
		if (optlen)
			stats_inc(&s->stats, "icmp.echo_options_returned");
	}
	stats_inc(&s->stats, "icmp.tx_echo_reply");
	TRACE(s, "tx ICMP echo reply to %s id %u seq %u%s", ip4_ntop(ip->src, src), id, seq,
	      optlen ? " with the request's route/timestamp options" : "");
	struct ipv4_tx tx = { .src = ip->dst, .dst = ip->src, .proto = IP_PROTO_ICMP,
			      .opts = opts, .optlen = (size_t)optlen };
	ipv4_output(s, p, &tx);
	/* LAB check2 END */
}

/* Passes an echo reply's identifier, sequence and data to the callback, if
 * one is set. Consumes p. */
static void icmp_echo_reply(struct stack *s, struct pkt *p, const struct ipv4_hdr *ip,
			    const struct icmp_hdr *h)
{
	char src[IP4_STRLEN];
	uint16_t id = (uint16_t)(h->rest >> 16), seq = (uint16_t)h->rest;

	stats_inc(&s->stats, "icmp.rx_echo_reply");
	TRACE(s, "rx ICMP echo reply from %s id %u seq %u len %zu", ip4_ntop(ip->src, src), id, seq,
	      p->len - ICMP_HDR_LEN);
	if (s->icmp.on_echo_reply)
		s->icmp.on_echo_reply(s->icmp.ctx, ip->src, id, seq, p->data + ICMP_HDR_LEN,
				      p->len - ICMP_HDR_LEN);
	pkt_free(p);
}

/* The errno an ICMP error reports to the transport that sent the datagram
 * it quotes, or 0 for messages that report nothing (source quench,
 * redirect, unknown types). The table is Linux's (icmp_err_convert): RFC 1122
 * 4.1.3.3 asks UDP to pass every error up, and gives no numbers. */
static int icmp_error_errno(uint8_t type, uint8_t code)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
		switch (code) {
		case ICMP_NET_UNREACH:
		case 6:  /* destination network unknown */
		case 9:  /* network administratively prohibited */
		case 11: /* network unreachable for TOS */
			return ENETUNREACH;
		case ICMP_PROTO_UNREACH:
			return ENOPROTOOPT;
		case ICMP_PORT_UNREACH:
			return ECONNREFUSED;
		case ICMP_FRAG_NEEDED:
			return EMSGSIZE;
		case 5: /* source route failed */
			return EOPNOTSUPP;
		default: /* host unreachable and the rest */
			return EHOSTUNREACH;
		}
	case ICMP_TIME_EXCEEDED:
		return EHOSTUNREACH;
	case ICMP_PARAM_PROBLEM:
		return EPROTO;
	default:
		return 0;
	}
}

/* Handles a received ICMP error (p->data at the ICMP header, h parsed): the
 * message quotes the IP header and at least 8 bytes of the datagram that
 * caused it (RFC 792), which names the socket it is about. RFC 1122
 * 3.2.2.1: the error is passed to the transport protocol of that datagram.
 * Only errors about datagrams we sent (the quoted source is ours) are.
 * Consumes p. */
static void icmp_error_input(struct stack *s, struct pkt *p, const struct ipv4_hdr *ip,
			     const struct icmp_hdr *h)
{
	char src[IP4_STRLEN], qs[IP4_STRLEN], qd[IP4_STRLEN];
	const char *reason;
	const uint8_t *q = p->data + ICMP_HDR_LEN;
	size_t qlen = p->len - ICMP_HDR_LEN;

	/* the quoted header, and the 8 bytes after it that hold the ports */
	if (qlen < IPV4_HDR_LEN || (q[0] >> 4) != 4 || (q[0] & 0x0f) < 5 ||
	    qlen < (size_t)(q[0] & 0x0f) * 4 + 8) {
		reason = "icmp.error_short_quote";
		goto drop;
	}
	const uint8_t *l4 = q + (size_t)(q[0] & 0x0f) * 4;
	uint32_t qsrc = be32_get(q + QIP_OFF_SRC), qdst = be32_get(q + QIP_OFF_DST);
	struct ipaddr local = ipaddr_v4(qsrc), remote = ipaddr_v4(qdst);
	if (!ip_is_local(s, &local)) {
		reason = "icmp.error_not_ours";
		goto drop;
	}
	uint16_t sport = be16_get(l4), dport = be16_get(l4 + 2);
	int err = icmp_error_errno(h->type, h->code);
	/* whether the quote may lower the path MTU: a TCP quote only when TCP
	 * finds it valid (below); any other only because its source is ours
	 * (checked above: RFC 8201 5.2, RFC 1191 as a host) */
	bool valid = true;

	switch (q[QIP_OFF_PROTO]) {
	case IP_PROTO_UDP:
		TRACE(s, "rx ICMP %s from %s about UDP %s:%u -> %s:%u",
		      icmp_error_name(h->type, h->code), ip4_ntop(ip->src, src), ip4_ntop(qsrc, qs),
		      sport, ip4_ntop(qdst, qd), dport);
		if (err)
			udp_error(s, &local, sport, &remote, dport, err);
		break;
	case IP_PROTO_TCP:
		/* RFC 1122 4.2.3.9, RFC 5927: TCP checks the quoted sequence
		 * number and decides; frag needed carries the next-hop MTU */
		TRACE(s, "rx ICMP %s from %s about TCP %s:%u -> %s:%u",
		      icmp_error_name(h->type, h->code), ip4_ntop(ip->src, src), ip4_ntop(qsrc, qs),
		      sport, ip4_ntop(qdst, qd), dport);
		if (err)
			valid = tcp_icmp_error(s, &local, sport, &remote, dport, be32_get(l4 + 4),
					       err, (uint16_t)h->rest);
		break;
	default:
		TRACE(s, "rx ICMP %s from %s about proto %u %s -> %s (type %u code %u)",
		      icmp_error_name(h->type, h->code), ip4_ntop(ip->src, src), q[QIP_OFF_PROTO],
		      ip4_ntop(qsrc, qs), ip4_ntop(qdst, qd), h->type, h->code);
		break;
	}
	/* RFC 1191 4: "fragmentation needed" carries the next-hop MTU in the
	 * low 16 bits; it lowers the path MTU to the quoted destination
	 * (ip/pmtu.h). 0 is an old router that does not say (RFC 1191 5:
	 * plateau guessing is not done, the transport's own value stays).
	 * RFC 5927 4.1, 7: only after the transport has found the quote
	 * valid; a forged one about a TCP segment not in flight, or about no
	 * connection, changes nothing ("pmtu.unvalidated") */
	if (h->type == ICMP_DEST_UNREACH && h->code == ICMP_FRAG_NEEDED && (h->rest & 0xffff)) {
		struct netif *ifp = stack_netif(s, p->ifindex);
		if (valid) {
			pmtu_update(s, &remote, h->rest & 0xffff, ifp ? ifp->mtu : 65535);
		} else {
			stats_inc(&s->stats, "pmtu.unvalidated");
			TRACE(s, "pmtu %s: mtu %u from %s not taken, the quote is not valid",
			      ip4_ntop(qdst, qd), h->rest & 0xffff, ip4_ntop(ip->src, src));
		}
	}
	pkt_free(p);
	return;

drop:
	stack_drop(s, p, reason, "%s from %s", icmp_error_name(h->type, h->code),
		   ip4_ntop(ip->src, src));
}

/* Handles an ICMP message for this host (p->data at the ICMP header, p->len
 * its length, ip the header it came in): echo requests are answered, echo
 * replies reported, errors passed to the protocol they concern, other types
 * dropped. Consumes p. */
void icmp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ipv4_hdr *ip)
{
	struct icmp_hdr h;
	const char *reason;
	char src[IP4_STRLEN];

	reason = icmp_parse(p->data, p->len, &h);
	if (reason)
		goto drop;
	stats_inc(&s->stats, "icmp.rx");

	switch (h.type) {
	case ICMP_ECHO_REQUEST:
		icmp_echo_request(s, ifp, p, ip, &h);
		return;
	case ICMP_ECHO_REPLY:
		icmp_echo_reply(s, p, ip, &h);
		return;
	default:
		if (!icmp_type_is_error(h.type)) {
			reason = "icmp.unknown_type";
			goto drop;
		}
		stats_inc(&s->stats, "icmp.rx_error");
		icmp_error_input(s, p, ip, &h);
		return;
	}

drop:
	stack_drop(s, p, reason, "type %u from %s", h.type, ip4_ntop(ip->src, src));
}

/* Sends an echo request to dst with this identifier, sequence number and
 * data, from the outgoing interface's address. Returns 0 or a negative
 * errno (-ENOBUFS when no buffer is free, or what ipv4_output says). */
int icmp_send_echo(struct stack *s, uint32_t dst, uint16_t id, uint16_t seq, const uint8_t *data,
		   size_t len)
{
	char a[IP4_STRLEN];
	struct pkt *p = pkt_alloc(ICMP_HDR_LEN + len);
	if (!p) {
		stats_inc(&s->stats, "icmp.no_buffer");
		return -ENOBUFS;
	}
	uint8_t *buf = pkt_put(p, ICMP_HDR_LEN + len);
	if (len)
		memcpy(buf + ICMP_HDR_LEN, data, len);
	struct icmp_hdr h = {
		.type = ICMP_ECHO_REQUEST,
		.code = 0,
		.rest = (uint32_t)id << 16 | seq,
	};
	icmp_emit(&h, buf, ICMP_HDR_LEN + len);

	stats_inc(&s->stats, "icmp.tx_echo_request");
	TRACE(s, "tx ICMP echo request to %s id %u seq %u len %zu", ip4_ntop(dst, a), id, seq, len);
	struct ipv4_tx tx = { .dst = dst, .proto = IP_PROTO_ICMP };
	return ipv4_output(s, p, &tx);
}

/* True if a is a broadcast on any of the host's interfaces (the limited
 * broadcast, or a subnet's directed broadcast) or a multicast address. */
static bool icmp_addr_is_group(const struct stack *s, uint32_t a)
{
	if (a == IP4_BROADCAST || (a & 0xf0000000u) == 0xe0000000u)
		return true;
	for (int i = 0; i < s->nifs; i++) {
		const struct netif *ifp = &s->ifs[i];
		if (ifp->ip4 != 0 && ifp->ip4_prefix < 31 &&
		    a == (ifp->ip4 | ~ip4_mask(ifp->ip4_prefix)))
			return true;
	}
	return false;
}

/* RFC 1122 3.2.2: the reason an error about the datagram at d (len bytes)
 * must not be sent, or NULL if it may be. */
static const char *icmp_error_forbidden(const struct stack *s, const uint8_t *d, size_t len)
{
	if (len < IPV4_HDR_LEN || (d[0] >> 4) != 4 || (d[0] & 0x0f) < 5 ||
	    (size_t)(d[0] & 0x0f) * 4 > len)
		return "icmp.error_bad_quote";

	size_t hlen = (size_t)(d[0] & 0x0f) * 4;
	uint16_t frag = be16_get(d + QIP_OFF_FRAG);
	uint32_t src = be32_get(d + QIP_OFF_SRC), dst = be32_get(d + QIP_OFF_DST);

	/* "a datagram fragment other than the first fragment" */
	if (frag & IPV4_FRAG_MASK)
		return "icmp.error_about_fragment";
	/* "an ICMP error message" (but echo and other queries may have one);
	 * without the type byte we cannot tell, so we stay quiet */
	if (d[QIP_OFF_PROTO] == IP_PROTO_ICMP && (len <= hlen || icmp_type_is_error(d[hlen])))
		return "icmp.error_about_error";
	/* "a datagram destined to an IP broadcast or IP multicast address" */
	if (icmp_addr_is_group(s, dst))
		return "icmp.error_about_broadcast";
	/* "a datagram whose source address does not define a single host --
	 * e.g., a zero address, a loopback address, a broadcast address, a
	 * multicast address" */
	if (src == 0 || (src >> 24) == 127 || icmp_addr_is_group(s, src))
		return "icmp.error_bad_source";
	return NULL;
}

/* Takes one token from the error bucket, refilled at ICMP_ERR_RATE per
 * second of s->now up to ICMP_ERR_BURST (RFC 1812 4.3.2.8, RFC 1122 3.2.2:
 * limit the rate of errors). False when the bucket is empty. */
static bool icmp_error_rate_ok(struct icmp_state *st, int64_t now)
{
	if (now > st->err_last) {
		st->err_tokens += (double)(now - st->err_last) * ICMP_ERR_RATE / 1e6;
		if (st->err_tokens > ICMP_ERR_BURST)
			st->err_tokens = ICMP_ERR_BURST;
		st->err_last = now;
	}
	if (st->err_tokens < 1.0)
		return false;
	st->err_tokens -= 1.0;
	return true;
}

/* Sends an error of this type and code to the source of the datagram at
 * dgram (len bytes), quoting its header and as much of its data as fits
 * in 576 bytes (at least 8, RFC 792). Sends nothing when RFC 1122 3.2.2
 * forbids it or the rate limit is reached, counting why. The caller keeps
 * dgram. */
void icmp_send_error_rest(struct stack *s, const uint8_t *dgram, size_t len, uint8_t type,
			  uint8_t code, uint32_t rest)
{
	char a[IP4_STRLEN];
	const char *reason = icmp_error_forbidden(s, dgram, len);
	if (reason) {
		stack_drop(s, NULL, reason, "%s not sent", icmp_error_name(type, code));
		return;
	}
	uint32_t src = be32_get(dgram + QIP_OFF_SRC), dst = be32_get(dgram + QIP_OFF_DST);
	if (!icmp_error_rate_ok(&s->icmp, s->now)) {
		stack_drop(s, NULL, "icmp.error_rate_limited", "%s to %s",
			   icmp_error_name(type, code), ip4_ntop(src, a));
		return;
	}

	/* Quote what the datagram holds, without any link padding */
	size_t qlen = len;
	if (be16_get(dgram + QIP_OFF_TOTAL_LEN) < qlen)
		qlen = be16_get(dgram + QIP_OFF_TOTAL_LEN);
	if (qlen > ICMP_ERR_MAX_QUOTE)
		qlen = ICMP_ERR_MAX_QUOTE;

	struct pkt *p = pkt_alloc(ICMP_HDR_LEN + qlen);
	if (!p) {
		stats_inc(&s->stats, "icmp.no_buffer");
		return;
	}
	uint8_t *buf = pkt_put(p, ICMP_HDR_LEN + qlen);
	memcpy(buf + ICMP_HDR_LEN, dgram, qlen);
	struct icmp_hdr h = { .type = type, .code = code, .rest = rest };
	icmp_emit(&h, buf, ICMP_HDR_LEN + qlen);

	stats_inc(&s->stats, "icmp.tx_error");
	TRACE(s, "tx ICMP %s to %s (proto %u)", icmp_error_name(type, code), ip4_ntop(src, a),
	      dgram[QIP_OFF_PROTO]);
	/* From the address the datagram was sent to, when it is ours */
	struct ipv4_tx tx = { .src = stack_netif_by_ip4(s, dst) ? dst : 0, .dst = src,
			      .proto = IP_PROTO_ICMP };
	ipv4_output(s, p, &tx);
}

void icmp_send_error(struct stack *s, const uint8_t *dgram, size_t len, uint8_t type, uint8_t code)
{
	icmp_send_error_rest(s, dgram, len, type, code, 0);
}

/* RFC 792: the pointer is the first byte after the checksum */
void icmp_send_param_problem(struct stack *s, const uint8_t *dgram, size_t len, uint8_t pointer)
{
	icmp_send_error_rest(s, dgram, len, ICMP_PARAM_PROBLEM, 0, (uint32_t)pointer << 24);
}

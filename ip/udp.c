/* UDP (RFC 768, RFC 1122 4.1): the header codec, delivery of received
 * datagrams to sockets, the socket operations that net_sendto/net_recvfrom
 * end up in, and the ICMP errors that concern a UDP socket. See udp.h.
 *
 * The header, RFC 768 (offsets in bytes):
 *
 *     0               1               2               3
 *     |          source port          |       destination port        |
 *     |            length             |           checksum            |
 *     |                          data ...                             |
 *
 * The length counts the header and the data. The checksum covers a
 * pseudo-header (addresses, protocol, length: ip_pseudo_sum), the header
 * and the data; 0 means "no checksum" (IPv4 only).
 *
 * Bound sockets live in s->udp, hashed by local port and chained through
 * so->hash_next; every socket of one port is in the same bucket, so a
 * lookup only walks one short list. */
#include "ip/udp.h"

#include <errno.h>
#include <string.h>

#include "ip/addr.h"
#include "ip/dhcp.h"
#include "ip/icmp.h"
#include "ip/icmpv6.h"
#include "ip/ip.h"
#include "ip/ipv4.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/pkt.h"
#include "stack/socket.h"
#include "stack/stack.h"

/* Field offsets in the header. */
enum {
	UDP_OFF_SPORT = 0,
	UDP_OFF_DPORT = 2,
	UDP_OFF_LEN = 4,
	UDP_OFF_CHECKSUM = 6,
};

/* Most datagrams one socket may hold unread, whatever their size: each holds
 * a whole packet buffer, so a flood of empty datagrams must not take the
 * pool even though it adds no bytes. */
#define UDP_MAX_QUEUED 256

#define IP_PORT_STRLEN (IPADDR_STRLEN + 8)

/* "10.0.0.1:5353" or "[fd00::1]:5353" into buf (IP_PORT_STRLEN bytes), for
 * trace lines. */
static const char *ip_port_str(const struct ipaddr *a, uint16_t port, char *buf)
{
	return ipaddr_port_str(a, port, buf, IP_PORT_STRLEN);
}

/* True if a names no particular address (family 0, 0.0.0.0 or ::): a
 * socket bound to it receives on any of the host's addresses. */
static bool udp_addr_is_any(const struct ipaddr *a)
{
	for (int i = 0; i < ipaddr_bits(a) / 8; i++)
		if (a->a[i] != 0)
			return false;
	return true;
}

/* ---- Codec ------------------------------------------------------------ */

/* Parses the header at buf, where len is the payload length IP gave.
 * RFC 768: the length field counts header and data, so it is at least 8,
 * and it cannot promise more bytes than the datagram carries. Returns NULL,
 * "udp.short" or "udp.bad_length". */
const char *udp_parse(const uint8_t *buf, size_t len, struct udp_hdr *h)
{
	/* LAB check3 BEGIN stub: (void)buf; (void)len; memset(h, 0, sizeof(*h)); return "udp.short"; */
	memset(h, 0, sizeof(*h));
	if (len < UDP_HDR_LEN)
		return "udp.short";
	h->sport = be16_get(buf + UDP_OFF_SPORT);
	h->dport = be16_get(buf + UDP_OFF_DPORT);
	h->len = be16_get(buf + UDP_OFF_LEN);
	h->checksum = be16_get(buf + UDP_OFF_CHECKSUM);
	if (h->len < UDP_HDR_LEN || h->len > len)
		return "udp.bad_length";
	return NULL;
	/* LAB check3 END */
}

/* Writes the header h at buf (8 bytes), the checksum field as given. */
void udp_emit(const struct udp_hdr *h, uint8_t *buf)
{
	be16_put(buf + UDP_OFF_SPORT, h->sport);
	be16_put(buf + UDP_OFF_DPORT, h->dport);
	be16_put(buf + UDP_OFF_LEN, h->len);
	be16_put(buf + UDP_OFF_CHECKSUM, h->checksum);
}

/* The checksum of the UDP datagram at buf (len bytes, header included, its
 * checksum field as it is) from src to dst: 0 when the field in buf is
 * correct, or, with the field at 0, the value to write there. */
static uint16_t udp_csum(const struct ipaddr *src, const struct ipaddr *dst, const uint8_t *buf,
			 size_t len)
{
	return csum_fold(csum_partial(buf, len, ip_pseudo_sum(src, dst, IP_PROTO_UDP,
							       (uint32_t)len)));
}

/* ---- The table of bound sockets --------------------------------------- */

/* Empties the table. */
void udp_init(struct udp_table *t)
{
	memset(t, 0, sizeof(*t));
}

static struct socket **udp_bucket(struct udp_table *t, uint16_t port)
{
	return &t->bucket[port % UDP_HASH_SIZE];
}

/* Adds so (bound, so->lport set) to its bucket. */
static void udp_hash(struct stack *s, struct socket *so)
{
	struct socket **b = udp_bucket(&s->udp, so->lport);

	so->hash_next = *b;
	*b = so;
	s->udp.count++;
}

/* Takes so out of its bucket, if it is there. */
static void udp_unhash(struct stack *s, struct socket *so)
{
	for (struct socket **pp = udp_bucket(&s->udp, so->lport); *pp; pp = &(*pp)->hash_next) {
		if (*pp == so) {
			*pp = so->hash_next;
			so->hash_next = NULL;
			s->udp.count--;
			return;
		}
	}
}

/* True if some UDP socket of s is bound to port (the test that
 * socket_ephemeral_port() uses). */
static bool udp_port_in_use(struct stack *s, uint16_t port)
{
	for (struct socket *so = *udp_bucket(&s->udp, port); so; so = so->hash_next)
		if (so->lport == port)
			return true;
	return false;
}

/* True if binding so to laddr:port would clash with another socket: the
 * same port and overlapping addresses (equal, or either one the wildcard),
 * unless both sockets set SO_REUSEADDR. (Linux is a bit finer: it lets a
 * specific address and the wildcard share a port in some cases; one rule
 * for all is easier to follow.) */
static bool udp_bind_conflict(struct stack *s, const struct socket *so, const struct ipaddr *laddr,
			      uint16_t port)
{
	for (struct socket *o = *udp_bucket(&s->udp, port); o; o = o->hash_next) {
		/* IPV6_V6ONLY: the families have separate port spaces */
		if (o == so || o->lport != port || o->family != so->family)
			continue;
		bool overlap = udp_addr_is_any(laddr) || udp_addr_is_any(&o->laddr) ||
			       ipaddr_eq(laddr, &o->laddr);
		if (overlap && !(so->reuseaddr && o->reuseaddr))
			return true;
	}
	return false;
}

/* The socket that should receive a datagram from src:sport to dst:dport,
 * or NULL. RFC 1122 4.1.3.5 leaves the choice to the host; like BSD and
 * Linux, the most specific socket of the port wins:
 *   3. connected to src:sport (and bound to dst or the wildcard),
 *   2. bound to dst,
 *   1. bound to the wildcard.
 * A connected socket never takes a datagram from anyone but its peer, and
 * a socket only datagrams of its own family (IPV6_V6ONLY, see net.h). */
static struct socket *udp_lookup(struct stack *s, const struct ipaddr *dst, uint16_t dport,
				 const struct ipaddr *src, uint16_t sport)
{
	/* LAB check3 BEGIN stub: (void)s; (void)dst; (void)dport; (void)src; (void)sport; return NULL; */
	struct socket *best = NULL;
	int best_score = 0;

	for (struct socket *so = *udp_bucket(&s->udp, dport); so; so = so->hash_next) {
		if (so->lport != dport || so->family != dst->family)
			continue;
		if (!udp_addr_is_any(&so->laddr) && !ipaddr_eq(&so->laddr, dst))
			continue;
		int score;
		if (so->connected) {
			if (so->rport != sport || !ipaddr_eq(&so->raddr, src))
				continue;
			score = 3;
		} else {
			score = udp_addr_is_any(&so->laddr) ? 1 : 2;
		}
		if (score > best_score) {
			best = so;
			best_score = score;
		}
	}
	return best;
	/* LAB check3 END */
}

/* ---- Input ------------------------------------------------------------ */

/* Verifies the checksum of the datagram at p (p->len trimmed to the UDP
 * length), summed with the pseudo-header of ip->src and ip->dst (udp_csum:
 * a datagram with a correct field sums to 0). A field of 0 means the
 * sender sent none: accepted on IPv4 (RFC 768, RFC 1122 4.1.3.4), dropped
 * on IPv6 where it is mandatory (RFC 8200 8.1). Returns NULL, or the reason
 * to drop it: "udp.zero_checksum" or "udp.bad_checksum". */
static const char *udp_check_sum(struct pkt *p, const struct udp_hdr *h, const struct ip_rx *ip)
{
	/* LAB check3 BEGIN stub: (void)p; (void)h; (void)ip; (void)udp_csum; return NULL; */
	if (h->checksum == 0) {
		/* RFC 768, RFC 1122 4.1.3.4: on IPv4 a zero field means the
		 * sender computed no checksum, and the datagram is accepted;
		 * RFC 8200 8.1: on IPv6 the checksum is mandatory */
		return ip->src.family == AF_INET6 ? "udp.zero_checksum" : NULL;
	}
	/* RFC 1122 4.1.3.4: a datagram with a bad checksum MUST be silently
	 * discarded; summed with its own field, a correct one gives 0 */
	if (udp_csum(&ip->src, &ip->dst, p->data, p->len) != 0)
		return "udp.bad_checksum";
	return NULL;
	/* LAB check3 END */
}

/* Queues the datagram p (p->data at the UDP header, p->len the UDP length)
 * on so: p->data moves to the payload, the addresses go into p->cb. Drops
 * it as "udp.rcvbuf_full" when so already holds rcvbuf bytes of buffers (or
 * UDP_MAX_QUEUED datagrams): UDP has no flow control, a slow reader loses
 * datagrams. The buffers' real size is what counts, as Linux counts it: a
 * 3000-byte datagram sits in a 64 KB buffer, and a socket that does not read
 * must not take the whole pool. Consumes p. */
static void udp_queue(struct stack *s, struct socket *so, struct pkt *p, const struct udp_hdr *h,
		      const struct ip_rx *ip)
{
	char from[IP_PORT_STRLEN];

	if (so->rxq.truesize + p->cap > so->rcvbuf || so->rxq.count >= UDP_MAX_QUEUED) {
		stack_drop(s, p, "udp.rcvbuf_full", "port %u, %zu bytes queued, from %s", so->lport,
			   so->rxq.bytes, ip_port_str(&ip->src, h->sport, from));
		return;
	}
	struct udp_cb cb = { .src = ip->src, .sport = h->sport, .dst = ip->dst };
	pkt_pull(p, UDP_HDR_LEN);
	memcpy(p->cb, &cb, sizeof(cb));
	pktq_push(&so->rxq, p);
	socket_wake(so); /* readable */
	stats_inc(&s->stats, "udp.delivered");
}

/* Answers a datagram that no socket wants (RFC 1122 4.1.3.1: a host SHOULD
 * send ICMP port unreachable; over IPv6, RFC 4443 3.1: destination
 * unreachable code 4, port unreachable), except one sent to a broadcast or
 * multicast address (RFC 1122 3.2.2, 4.1.3.1; RFC 4443 2.4 (e.2, e.3)):
 * those are dropped quietly. icmp_send_error / icmpv6_send_error apply the
 * other rules (RFC 1122 3.2.2, RFC 4443 2.4) and the rate limit. Consumes p. */
static void udp_no_socket(struct stack *s, struct pkt *p, const struct udp_hdr *h,
			  const struct ip_rx *ip)
{
	char from[IP_PORT_STRLEN];

	if (!ip->bcast) {
		TRACE(s, "udp no socket for port %u: port unreachable", h->dport);
		/* quote the datagram from its IP header, which is still in
		 * front of p->data */
		if (ip->src.family == AF_INET6)
			icmpv6_send_error(s, ip->hdr, ip->dgram_len, p->flags & PKT_LINK_BCAST,
					  ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0);
		else
			icmp_send_error(s, ip->hdr, ip->dgram_len, ICMP_DEST_UNREACH,
					ICMP_PORT_UNREACH);
	}
	stack_drop(s, p, "udp.no_port", "port %u from %s%s", h->dport,
		   ip_port_str(&ip->src, h->sport, from), ip->bcast ? " (broadcast)" : "");
}

/* Receives one UDP datagram for this host (p->data at the UDP header, p->len
 * the IP payload length, ip what the IP layer knows about it): checks the
 * length and checksum, finds the socket and queues the data, or answers
 * port unreachable. Consumes p. */
void udp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *ip)
{
	struct udp_hdr h;
	const char *reason;
	char src[IP_PORT_STRLEN], dst[IP_PORT_STRLEN];

	stats_inc(&s->stats, "udp.rx");
	reason = udp_parse(p->data, p->len, &h);
	if (reason)
		goto drop;
	/* RFC 768: the length field says where the datagram ends; IP may carry
	 * more (it never should, but the field rules) */
	pkt_trim(p, h.len);
	reason = udp_check_sum(p, &h, ip);
	if (reason)
		goto drop;

	TRACE(s, "rx UDP %s -> %s len %zu", ip_port_str(&ip->src, h.sport, src),
	      ip_port_str(&ip->dst, h.dport, dst), p->len - UDP_HDR_LEN);
	/* RFC 2131 4.1: a reply to the client port goes to the interface's
	 * DHCP client (ip/dhcp.c), which has no socket and may have no address */
	if (h.dport == DHCP_CLIENT_PORT && h.sport == DHCP_SERVER_PORT && ip->src.family == AF_INET &&
	    dhcp_wants(ifp)) {
		pkt_pull(p, UDP_HDR_LEN);
		dhcp_input(s, ifp, p, ip);
		return;
	}
	struct socket *so = udp_lookup(s, &ip->dst, h.dport, &ip->src, h.sport);
	if (!so) {
		udp_no_socket(s, p, &h, ip);
		return;
	}
	udp_queue(s, so, p, &h, ip);
	return;

drop:
	stack_drop(s, p, reason, "from %s to %s", ip_port_str(&ip->src, h.sport, src),
		   ip_port_str(&ip->dst, h.dport, dst));
}

/* ---- Errors reported by ICMP ------------------------------------------ */

/* An ICMP error about a datagram we sent from local:lport to remote:rport.
 * RFC 1122 4.1.3.3 says UDP MUST pass every such error up to the
 * application; a BSD socket API can only do that for a connected socket
 * (the error is about one peer, and an unconnected socket has many), so,
 * like BSD and Linux by default, only a socket connected to remote:rport
 * gets err as its pending error, returned by its next call. Others ignore
 * it. */
void udp_error(struct stack *s, const struct ipaddr *local, uint16_t lport,
	       const struct ipaddr *remote, uint16_t rport, int err)
{
	char l[IP_PORT_STRLEN], r[IP_PORT_STRLEN];

	stats_inc(&s->stats, "udp.icmp_error");
	for (struct socket *so = *udp_bucket(&s->udp, lport); so; so = so->hash_next) {
		if (so->lport != lport || !so->connected || so->family != remote->family)
			continue;
		if (!udp_addr_is_any(&so->laddr) && !ipaddr_eq(&so->laddr, local))
			continue;
		if (so->rport != rport || !ipaddr_eq(&so->raddr, remote))
			continue;
		so->error = err;
		socket_wake(so); /* POLLERR */
		TRACE(s, "udp error %s for socket %s -> %s", strerror(err),
		      ip_port_str(local, lport, l), ip_port_str(remote, rport, r));
		return;
	}
	TRACE(s, "udp error %s about %s -> %s: no connected socket, ignored", strerror(err),
	      ip_port_str(local, lport, l), ip_port_str(remote, rport, r));
}

/* ---- Socket operations ------------------------------------------------ */

/* Binds so to laddr:lport (laddr NULL or family 0 = any; lport 0 = an
 * ephemeral port, RFC 6056). Returns 0, -EINVAL (already bound),
 * -EADDRNOTAVAIL (not one of our addresses), -EADDRINUSE (no free
 * ephemeral port, or the port is taken and SO_REUSEADDR is not set on both
 * sockets). */
static int udp_bind(struct socket *so, const struct ipaddr *laddr, uint16_t lport)
{
	struct stack *s = so->s;
	struct ipaddr any = { 0 };

	if (so->bound)
		return -EINVAL;
	if (!laddr || udp_addr_is_any(laddr))
		laddr = &any;
	else if (!ip_is_local(s, laddr))
		return -EADDRNOTAVAIL;
	if (lport == 0) {
		lport = socket_ephemeral_port(s, udp_port_in_use);
		if (lport == 0)
			return -EADDRINUSE;
	} else if (udp_bind_conflict(s, so, laddr, lport)) {
		return -EADDRINUSE;
	}
	so->laddr = *laddr;
	so->lport = lport;
	so->bound = true;
	udp_hash(s, so);
	return 0;
}

/* Binds so to an ephemeral port on any address if it is not bound yet
 * (connect and sendto on a fresh socket, as BSD does). Returns 0 or what
 * udp_bind says. */
static int udp_autobind(struct socket *so)
{
	return so->bound ? 0 : udp_bind(so, NULL, 0);
}

/* Fixes the peer of so to raddr:rport, or dissolves the association when
 * raddr's family is 0 (POSIX connect(2) with AF_UNSPEC). Binds an ephemeral
 * port first if needed, and, like Linux, sets the local address to the one
 * the route gives when it was the wildcard (getsockname then shows it; the
 * socket stays hashed by port). After a dissolve the local address stays
 * what connect chose. Returns 0, -ENETUNREACH, or a bind error. */
static int udp_connect(struct socket *so, const struct ipaddr *raddr, uint16_t rport)
{
	struct ipaddr src;
	int err;

	if (raddr->family == 0) {
		memset(&so->raddr, 0, sizeof(so->raddr));
		so->rport = 0;
		so->connected = false;
		return 0;
	}
	err = ip_select_source(so->s, raddr, &src);
	if (err < 0)
		return err;
	err = udp_autobind(so);
	if (err < 0)
		return err;
	if (udp_addr_is_any(&so->laddr))
		so->laddr = src;
	so->raddr = *raddr;
	so->rport = rport;
	so->connected = true;
	return 0;
}

/* Returns and clears the socket's pending error (an ICMP error about its
 * peer, RFC 1122 4.1.3.3), as a negative errno, or 0 if there is none. */
static int udp_take_error(struct socket *so)
{
	int err = so->error;

	so->error = 0;
	return -err;
}

/* Builds the datagram of len bytes of buf from src:sport to dst:dport in a
 * new packet (pkt_alloc, pkt_put), header (udp_emit) and checksum included:
 * RFC 1122 4.1.3.4 says the default MUST be to send one; it is udp_csum
 * over the datagram with the field at 0, and RFC 768 sends a sum that comes
 * out as 0 as all ones (0 means "no checksum"). Returns it, or NULL when the
 * pool is out. */
static struct pkt *udp_build(const struct ipaddr *src, uint16_t sport, const struct ipaddr *dst,
			     uint16_t dport, const uint8_t *buf, size_t len)
{
	/* LAB check3 BEGIN stub: (void)src; (void)sport; (void)dst; (void)dport; (void)buf; (void)len; (void)udp_csum; return NULL; */
	struct pkt *p = pkt_alloc(UDP_HDR_LEN + len);
	if (!p)
		return NULL;
	uint8_t *u = pkt_put(p, UDP_HDR_LEN + len);
	struct udp_hdr h = {
		.sport = sport,
		.dport = dport,
		.len = (uint16_t)(UDP_HDR_LEN + len),
		.checksum = 0,
	};
	udp_emit(&h, u);
	if (len)
		memcpy(u + UDP_HDR_LEN, buf, len);
	/* RFC 1122 4.1.3.4: an application MAY choose to send no checksum,
	 * but the default MUST be to send one; we always do. RFC 768: a sum
	 * that comes out as 0 is sent as all ones (0 means "none") */
	uint16_t sum = udp_csum(src, dst, u, UDP_HDR_LEN + len);
	be16_put(u + UDP_OFF_CHECKSUM, sum == 0 ? 0xffff : sum);
	return p;
	/* LAB check3 END */
}

/* Sends one datagram of len bytes from so to to:tport, or to the connected
 * peer when to is NULL. Like Linux, a connected socket may still name
 * another destination (POSIX allows -EISCONN instead; we do not return it).
 * A pending error is returned first, and cleared. Binds an ephemeral port
 * if needed. Returns len or a negative errno: -EDESTADDRREQ, -EINVAL (port
 * 0), -EMSGSIZE, -ENETUNREACH, -ENOBUFS, or what IP says. */
static ssize_t udp_sendto(struct socket *so, const uint8_t *buf, size_t len, int flags,
			  const struct ipaddr *to, uint16_t tport)
{
	struct stack *s = so->s;
	struct ipaddr src;
	char a[IP_PORT_STRLEN], b[IP_PORT_STRLEN];
	int err;

	(void)flags;
	if (so->error)
		return udp_take_error(so);
	if (!to) {
		if (!so->connected)
			return -EDESTADDRREQ;
		to = &so->raddr;
		tport = so->rport;
	}
	/* Linux refuses a destination port of 0 the same way */
	if (tport == 0)
		return -EINVAL;
	/* larger than the path MTU is fine: IP fragments it (RFC 791, RFC
	 * 8200 4.5); larger than the length fields is not */
	if (len > (to->family == AF_INET6 ? UDP6_MAX_PAYLOAD : UDP_MAX_PAYLOAD))
		return -EMSGSIZE;
	err = udp_autobind(so);
	if (err < 0)
		return err;
	/* the checksum covers the source address, so it is chosen now */
	if (!udp_addr_is_any(&so->laddr))
		src = so->laddr;
	else if ((err = ip_select_source(s, to, &src)) < 0)
		return err;

	struct pkt *p = udp_build(&src, so->lport, to, tport, buf, len);
	if (!p) {
		stats_inc(&s->stats, "udp.no_buffer");
		return -ENOBUFS;
	}
	stats_inc(&s->stats, "udp.tx");
	TRACE(s, "tx UDP %s -> %s len %zu", ip_port_str(&src, so->lport, a),
	      ip_port_str(to, tport, b), len);
	/* IP_MTU_DISCOVER (WANT by default, as Linux: DF when it fits the
	 * path MTU, so a router says when it does not, RFC 1191 3) */
	err = ip_output(s, p, &src, to, IP_PROTO_UDP, 0, socket_ip_df(so));
	return err < 0 ? err : (ssize_t)len;
}

/* Takes the oldest datagram of so: copies at most len bytes of it to buf,
 * the sender to from/fport, and frees it unless MSG_PEEK. A pending error
 * comes first (returned once, then cleared). Returns the bytes copied (the
 * datagram's full length with MSG_TRUNC, as Linux), or -EAGAIN when
 * nothing is queued. */
static ssize_t udp_recvfrom(struct socket *so, uint8_t *buf, size_t len, int flags,
			    struct ipaddr *from, uint16_t *fport)
{
	if (so->error)
		return udp_take_error(so);
	struct pkt *p = so->rxq.first;
	if (!p)
		return -EAGAIN;

	struct udp_cb cb;
	memcpy(&cb, p->cb, sizeof(cb));
	size_t n = len < p->len ? len : p->len;
	size_t full = p->len;
	if (n)
		memcpy(buf, p->data, n);
	if (from)
		*from = cb.src;
	if (fport)
		*fport = cb.sport;
	if (!(flags & MSG_PEEK))
		pkt_free(pktq_pop(&so->rxq));
	return (flags & MSG_TRUNC) ? (ssize_t)full : (ssize_t)n;
}

/* POLLIN when a datagram or an error waits, POLLERR with an error, POLLOUT
 * always (a send never waits: UDP has no send buffer). */
static short udp_poll(struct socket *so)
{
	short ev = POLLOUT;

	if (so->rxq.count || so->error)
		ev |= POLLIN;
	if (so->error)
		ev |= POLLERR;
	return ev;
}

/* Unhashes so and frees the datagrams it still holds. */
static void udp_close(struct socket *so)
{
	if (so->bound)
		udp_unhash(so->s, so);
	so->bound = false;
	so->connected = false;
	pktq_purge(&so->rxq);
}

/* FIONREAD: the length of the next datagram, 0 if none. */
static ssize_t udp_readable(struct socket *so)
{
	return so->rxq.first ? (ssize_t)so->rxq.first->len : 0;
}

static const struct sock_ops udp_ops = {
	.bind = udp_bind,
	.connect = udp_connect,
	.sendto = udp_sendto,
	.recvfrom = udp_recvfrom,
	.poll = udp_poll,
	.close = udp_close,
	.readable = udp_readable,
};

/* Makes so a UDP socket: its operations, and the default receive buffer
 * when the socket layer set none. Returns 0. */
int udp_socket_init(struct socket *so)
{
	so->ops = &udp_ops;
	if (so->rcvbuf == 0)
		so->rcvbuf = UDP_DEFAULT_RCVBUF;
	return 0;
}

/* AF_INET6 sockets: UDP both ways with the exact bytes on the wire and a
 * checksum computed here by hand (not by the stack's ip_pseudo_sum), port
 * unreachable as ICMPv6, the IPV6_V6ONLY split between families, source
 * address selection, ICMPv6 errors reaching a socket, a TCP handshake over
 * IPv6 with MSS 1440 in both SYNs, RST for a closed port, hostile input
 * dropped under named counters; UDP datagrams up to 65,527 bytes in
 * fragments; a Packet Too Big lowering a connection's MSS to 1240 and its
 * data resent at that size; blocking sends and connects waiting for DAD
 * (RFC 4862 5.4) while non-blocking ones fail; then two stacks that find
 * each other by neighbor discovery alone and move 10 MB each way over
 * TCP/IPv6 on a lossy simlink. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip/icmpv6.h"
#include "ip/ip.h"
#include "ip/ipv6.h"
#include "ip/ipv6_frag.h"
#include "ip/ndp.h"
#include "ip/udp.h"
#include "stack/byteorder.h"
#include "stack/net.h"
#include "stack/rng.h"
#include "tcp/tcp.h"
#include "tcp/tcp_codec.h"
#include "tests/harness.h"
#include "tests/sim.h"

#define L3 ETH_HDR_LEN
#define L4 (ETH_HDR_LEN + IPV6_HDR_LEN)

static uint64_t count(struct harness *h, const char *name)
{
	return stats_get(&h->s.stats, name);
}

static struct sockaddr_in6 sin6(const char *text, uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct ipaddr a = v6(text);
	memcpy(&sa.sin6_addr, a.a, 16);
	return sa;
}

/* The Internet checksum of the IPv6 pseudo-header (RFC 8200 8.1) and the
 * len bytes at l4, written out here word by word so the test does not
 * trust the code it tests: 0 when the transport checksum in l4 is right. */
static uint16_t hand_sum6(const struct ipaddr *src, const struct ipaddr *dst, uint8_t nh,
			  const uint8_t *l4, size_t len)
{
	uint32_t sum = 0;
	for (int i = 0; i < 16; i += 2)
		sum += (uint32_t)(src->a[i] << 8 | src->a[i + 1]) + (uint32_t)(dst->a[i] << 8 | dst->a[i + 1]);
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + nh;
	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)(l4[i] << 8 | (i + 1 < len ? l4[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Builds Ethernet + IPv6 (src -> dst, next header nh, hop limit 64) with
 * payload after it, from the peer's MAC to dst_mac. Returns the length. */
static size_t build6(uint8_t *buf, const uint8_t *dst_mac, const char *src, const char *dst,
		     uint8_t nh, const uint8_t *payload, size_t plen)
{
	struct eth_hdr e = { .type = ETH_TYPE_IPV6 };
	memcpy(e.dst, dst_mac, ETH_ALEN);
	memcpy(e.src, t_mac_peer, ETH_ALEN);
	eth_emit(&e, buf);
	struct ipv6_hdr h = {
		.version = 6, .payload_len = (uint16_t)plen, .next = nh, .hop_limit = 64,
		.src = v6(src), .dst = v6(dst),
	};
	ipv6_emit(&h, buf + L3);
	memcpy(buf + L4, payload, plen);
	return L4 + plen;
}

enum csum_mode { CSUM_GOOD, CSUM_BAD, CSUM_ZERO };

/* A UDP datagram src:sport -> dst:dport with data, its checksum as mode
 * says, in an IPv6 frame to the host (or to dst_mac). */
static size_t build_udp6(uint8_t *f, const uint8_t *dst_mac, const char *src, uint16_t sport,
			 const char *dst, uint16_t dport, const char *data, enum csum_mode mode)
{
	uint8_t u[1500];
	size_t n = strlen(data);
	struct udp_hdr h = { .sport = sport, .dport = dport, .len = (uint16_t)(UDP_HDR_LEN + n) };
	udp_emit(&h, u);
	memcpy(u + UDP_HDR_LEN, data, n);
	struct ipaddr s = v6(src), d = v6(dst);
	uint16_t c = hand_sum6(&s, &d, IP6_NH_UDP, u, UDP_HDR_LEN + n);
	if (mode == CSUM_BAD)
		c ^= 0x0101;
	if (mode == CSUM_ZERO)
		c = 0;
	be16_put(u + 6, c);
	return build6(f, dst_mac ? dst_mac : t_mac_host, src, dst, IP6_NH_UDP, u, UDP_HDR_LEN + n);
}

/* The harness host with fd00::2/64 (and its link-local address) preferred
 * after DAD, sockets attached to it, and fd00::1's MAC learned from an NS
 * it sent (RFC 4861 7.2.3: STALE), the NA answer taken off the wire. */
static void harness6(struct harness *h)
{
	harness_init(h, "10.0.0.2/24", NULL);
	struct ipaddr a = v6("fd00::2");
	ck_assert_int_eq(ndp_addr_add(&h->s, h->ifp, &a, 64), 0);
	h->ifp->ip6.solicit_routers = false;
	advance(h, 0);
	pkt_free(expect_tx(h)); /* DAD for fe80::ff:fe00:2 */
	pkt_free(expect_tx(h)); /* DAD for fd00::2 */
	advance(h, NDP_RETRANS_US);
	expect_no_tx(h);
	ck_assert_uint_eq(count(h, "ndp.dad_ok"), 2);

	uint8_t f[256], ns[32];
	struct ipaddr t = v6("fd00::2");
	memcpy(ns + 4, t.a, 16);
	memset(ns, 0, 4);
	ns[20] = NDP_OPT_SLLA;
	ns[21] = 1;
	memcpy(ns + 22, t_mac_peer, 6);
	uint8_t msg[40] = { 0 };
	memcpy(msg + ICMP6_HDR_LEN, ns + 4, 24);
	struct icmpv6_hdr ih = { .type = ICMP6_NEIGHBOR_SOLICIT };
	struct ipaddr src = v6("fd00::1");
	icmpv6_emit(&ih, msg, ICMP6_HDR_LEN + 24, &src, &t);
	/* hop limit 255 (RFC 4861 7.1.1): patched after build6 */
	size_t n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_ICMPV6, msg, ICMP6_HDR_LEN + 24);
	f[L3 + 7] = 255;
	inject(h, f, n);
	pkt_free(expect_tx(h)); /* the NA */
	net_attach(&h->s, NULL);
}

static void harness6_fini(struct harness *h)
{
	net_close_all(&h->s);
	harness_fini(h);
}

/* Takes the host's next frame, checks it is IPv6 with next header nh and a
 * transport checksum that sums right by hand; returns it (caller frees). */
static struct pkt *expect_v6(struct harness *h, uint8_t nh)
{
	struct pkt *p = expect_tx(h);
	struct ipv6_hdr ip;
	ck_assert_uint_eq(be16_get(p->data + 12), ETH_TYPE_IPV6);
	ck_assert_ptr_null(ipv6_parse(p->data + L3, p->len - L3, &ip));
	ck_assert_uint_eq(ip.next, nh);
	ck_assert_uint_eq(p->len, L4 + ip.payload_len);
	ck_assert_msg(hand_sum6(&ip.src, &ip.dst, nh, p->data + L4, ip.payload_len) == 0,
		      "bad checksum from the host");
	return p;
}

static int udp6_socket(uint16_t port)
{
	int fd = net_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in6 me = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	ck_assert_int_eq(net_bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	return fd;
}

START_TEST(test_udp_both_ways_exact)
{
	struct harness h;
	uint8_t f[256];
	harness6(&h);
	int fd = udp6_socket(5000);

	inject(&h, f, build_udp6(f, NULL, "fd00::1", 40000, "fd00::2", 5000, "ping?", CSUM_GOOD));
	char buf[64];
	struct sockaddr_in6 from;
	socklen_t flen = sizeof(from);
	ck_assert_int_eq(net_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen), 5);
	ck_assert_mem_eq(buf, "ping?", 5);
	ck_assert_int_eq(flen, sizeof(struct sockaddr_in6));
	ck_assert_int_eq(from.sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(from.sin6_port), 40000);
	struct sockaddr_in6 peer = sin6("fd00::1", 40000);
	ck_assert_mem_eq(&from.sin6_addr, &peer.sin6_addr, 16);

	ck_assert_int_eq(net_sendto(fd, "pong!", 5, 0, (struct sockaddr *)&from, flen), 5);
	struct pkt *p = expect_v6(&h, IP6_NH_UDP);
	/* the whole frame, checksum 0x5630 worked out by hand for these bytes */
	static const uint8_t want[] = {
		0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x86, 0xdd,
		0x60, 0, 0, 0, 0, 13, 17, 64,
		0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x13, 0x88, 0x9c, 0x40, 0, 13, 0x56, 0x30, 'p', 'o', 'n', 'g', '!',
	};
	ck_assert_uint_eq(p->len, sizeof(want));
	ck_assert_mem_eq(p->data, want, sizeof(want));
	pkt_free(p);
	ck_assert_uint_eq(count(&h, "udp.delivered"), 1);
	ck_assert_uint_eq(count(&h, "udp.tx"), 1);

	/* connect: getsockname shows the source chosen for the peer */
	struct sockaddr_in6 me;
	socklen_t mlen = sizeof(me);
	int c = net_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(net_connect(c, (struct sockaddr *)&peer, sizeof(peer)), 0);
	ck_assert_int_eq(net_getsockname(c, (struct sockaddr *)&me, &mlen), 0);
	struct sockaddr_in6 host = sin6("fd00::2", 0);
	ck_assert_mem_eq(&me.sin6_addr, &host.sin6_addr, 16);
	ck_assert_uint_ge(ntohs(me.sin6_port), 49152);
	ck_assert_int_eq(net_getpeername(c, (struct sockaddr *)&me, &mlen), 0);
	ck_assert_mem_eq(&me.sin6_addr, &peer.sin6_addr, 16);
	harness6_fini(&h);
}
END_TEST

/* RFC 6724 5 (simplified): a link-local destination gets the link-local
 * source, a global one the global address. */
START_TEST(test_source_selection)
{
	struct harness h;
	harness6(&h);
	const char *dst[] = { "fe80::1", "fd00::1", "fd00::99" };
	const char *want[] = { "fe80::ff:fe00:2", "fd00::2", "fd00::2" };
	for (int i = 0; i < 3; i++) {
		int c = net_socket(AF_INET6, SOCK_DGRAM, 0);
		struct sockaddr_in6 to = sin6(dst[i], 9), me, w = sin6(want[i], 0);
		socklen_t mlen = sizeof(me);
		ck_assert_int_eq(net_connect(c, (struct sockaddr *)&to, sizeof(to)), 0);
		ck_assert_int_eq(net_getsockname(c, (struct sockaddr *)&me, &mlen), 0);
		ck_assert_msg(memcmp(&me.sin6_addr, &w.sin6_addr, 16) == 0, "source for %s", dst[i]);
		net_close(c);
	}
	/* no route to a global address off the link */
	int c = net_socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 far = sin6("2001:db8::1", 9);
	ck_assert_int_eq(net_connect(c, (struct sockaddr *)&far, sizeof(far)), -ENETUNREACH);
	harness6_fini(&h);
}
END_TEST

/* IPV6_V6ONLY: both families bind the same port; each gets its own. */
START_TEST(test_v6only_split)
{
	struct harness h;
	uint8_t f[256];
	harness6(&h);
	int f6 = udp6_socket(5000);
	int f4 = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me4 = { .sin_family = AF_INET, .sin_port = htons(5000) };
	ck_assert_int_eq(net_bind(f4, (struct sockaddr *)&me4, sizeof(me4)), 0);
	/* but not twice in one family */
	int again = net_socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons(5000) };
	ck_assert_int_eq(net_bind(again, (struct sockaddr *)&any, sizeof(any)), -EADDRINUSE);
	/* an IPv4-mapped address is not a way into IPv4 */
	struct sockaddr_in6 mapped = sin6("::ffff:10.0.0.1", 9);
	ck_assert_int_eq(net_sendto(again, "x", 1, 0, (struct sockaddr *)&mapped, sizeof(mapped)),
			 -EAFNOSUPPORT);
	int v = 0;
	socklen_t vl = sizeof(v);
	ck_assert_int_eq(net_getsockopt(f6, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl), 0);
	ck_assert_int_eq(v, 1);
	v = 0;
	ck_assert_int_eq(net_setsockopt(f6, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)), -EOPNOTSUPP);

	inject(&h, f, build_udp6(f, NULL, "fd00::1", 40000, "fd00::2", 5000, "six", CSUM_GOOD));
	char buf[16];
	ck_assert_int_eq(net_recv(f4, buf, sizeof(buf), 0), -EAGAIN);
	ck_assert_int_eq(net_recv(f6, buf, sizeof(buf), 0), 3);
	/* a TCP listener of each family on one port, too */
	int l6 = net_socket(AF_INET6, SOCK_STREAM, 0), l4 = net_socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	net_setsockopt(l6, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	net_setsockopt(l4, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(80) };
	ck_assert_int_eq(net_bind(l4, (struct sockaddr *)&a4, sizeof(a4)), 0);
	ck_assert_int_eq(net_listen(l4, 4), 0);
	ck_assert_int_eq(net_bind(l6, (struct sockaddr *)&a6, sizeof(a6)), 0);
	ck_assert_int_eq(net_listen(l6, 4), 0);
	int l6b = net_socket(AF_INET6, SOCK_STREAM, 0);
	ck_assert_int_eq(net_bind(l6b, (struct sockaddr *)&a6, sizeof(a6)), -EADDRINUSE);
	harness6_fini(&h);
}
END_TEST

START_TEST(test_port_unreachable)
{
	struct harness h;
	uint8_t f[256];
	harness6(&h);
	size_t n = build_udp6(f, NULL, "fd00::1", 40000, "fd00::2", 9999, "anyone?", CSUM_GOOD);
	inject(&h, f, n);
	struct pkt *p = expect_v6(&h, IP6_NH_ICMPV6);
	/* RFC 4443 3.1: type 1 code 4, unused 0, then the datagram as sent */
	ck_assert_uint_eq(p->data[L4], ICMP6_DEST_UNREACH);
	ck_assert_uint_eq(p->data[L4 + 1], ICMP6_UNREACH_PORT);
	ck_assert_uint_eq(be32_get(p->data + L4 + 4), 0);
	ck_assert_uint_eq(p->len, L4 + ICMP6_HDR_LEN + (n - L3));
	ck_assert_mem_eq(p->data + L4 + ICMP6_HDR_LEN, f + L3, n - L3);
	struct pkt *q = p;
	struct ipv6_hdr ip;
	ipv6_parse(q->data + L3, q->len - L3, &ip);
	struct ipaddr host = v6("fd00::2"), peer = v6("fd00::1");
	ck_assert(ipaddr_eq(&ip.src, &host));
	ck_assert(ipaddr_eq(&ip.dst, &peer));
	pkt_free(p);
	ck_assert_uint_eq(count(&h, "udp.no_port"), 1);
	ck_assert_uint_eq(count(&h, "icmp6.tx_error"), 1);

	/* to the all-nodes group: no error (RFC 4443 2.4 (e.2)) */
	const uint8_t all_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	inject(&h, f, build_udp6(f, all_mac, "fd00::1", 40000, "ff02::1", 9999, "all?", CSUM_GOOD));
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "udp.no_port"), 2);
	ck_assert_uint_eq(count(&h, "icmp6.tx_error"), 1);
	harness6_fini(&h);
}
END_TEST

/* A port unreachable about a datagram a connected socket sent comes back
 * as ECONNREFUSED (RFC 1122 4.1.3.3); one about another peer is ignored. */
START_TEST(test_icmp6_error_to_socket)
{
	struct harness h;
	uint8_t f[1600];
	harness6(&h);
	int c = net_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 to = sin6("fd00::1", 53);
	ck_assert_int_eq(net_connect(c, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(net_send(c, "q", 1, 0), 1);
	struct pkt *sent = expect_v6(&h, IP6_NH_UDP);
	uint8_t msg[1500];
	size_t qlen = sent->len - L3;
	memcpy(msg + ICMP6_HDR_LEN, sent->data + L3, qlen);
	pkt_free(sent);
	struct icmpv6_hdr e = { .type = ICMP6_DEST_UNREACH, .code = ICMP6_UNREACH_PORT };
	struct ipaddr s = v6("fd00::1"), d = v6("fd00::2");
	icmpv6_emit(&e, msg, ICMP6_HDR_LEN + qlen, &s, &d);
	inject(&h, f, build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_ICMPV6, msg,
			     ICMP6_HDR_LEN + qlen));
	ck_assert_uint_eq(count(&h, "udp.icmp_error"), 1);
	char buf[8];
	ck_assert_int_eq(net_recv(c, buf, sizeof(buf), 0), -ECONNREFUSED);
	ck_assert_int_eq(net_recv(c, buf, sizeof(buf), 0), -EAGAIN);

	/* a quote whose source is not ours is not passed up */
	msg[ICMP6_HDR_LEN + 8 + 15] = 0x77;
	icmpv6_emit(&e, msg, ICMP6_HDR_LEN + qlen, &s, &d);
	inject(&h, f, build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_ICMPV6, msg,
			     ICMP6_HDR_LEN + qlen));
	ck_assert_uint_eq(count(&h, "icmp6.error_not_ours"), 1);
	ck_assert_uint_eq(count(&h, "udp.icmp_error"), 1);
	/* a quote cut short of the ports */
	icmpv6_emit(&e, msg, ICMP6_HDR_LEN + IPV6_HDR_LEN + 4, &s, &d);
	inject(&h, f, build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_ICMPV6, msg,
			     ICMP6_HDR_LEN + IPV6_HDR_LEN + 4));
	ck_assert_uint_eq(count(&h, "icmp6.error_short_quote"), 1);
	harness6_fini(&h);
}
END_TEST

/* RFC 8200 8.1: UDP over IPv6 must carry a checksum; a wrong one or none
 * is dropped under its counter and never reaches the socket (and gets no
 * port unreachable either). */
/* Takes the frames of one UDP datagram the host sent to fd00::1 (one
 * frame, or fragments up to the one with M clear), checks each fragment
 * against RFC 8200 4.5 (one identification, offsets without gaps, 8-byte
 * multiples of data, at most 1500 bytes) and puts the UDP datagram (header
 * and data) together in out. Returns its length; *frames the frame count. */
static size_t take_udp6(struct harness *h, uint8_t *out, size_t cap, int *frames)
{
	size_t len = 0;
	uint32_t id = 0;
	bool more = true;
	*frames = 0;
	while (more) {
		struct pkt *p = expect_tx(h);
		struct ipv6_hdr ip;
		ck_assert_uint_le(p->len, ETH_HDR_LEN + 1500);
		ck_assert_ptr_null(ipv6_parse(p->data + L3, p->len - L3, &ip));
		ck_assert_uint_eq(p->len, L4 + ip.payload_len);
		if (*frames == 0 && ip.next == IP6_NH_UDP) {
			ck_assert_uint_le(ip.payload_len, cap);
			memcpy(out, p->data + L4, ip.payload_len);
			len = ip.payload_len;
			more = false;
		} else {
			ck_assert_uint_eq(ip.next, IP6_NH_FRAGMENT);
			struct ipv6_frag_hdr fh;
			ipv6_frag_parse(p->data + L4, &fh);
			ck_assert_uint_eq(fh.next, IP6_NH_UDP);
			if (*frames == 0)
				id = fh.id;
			ck_assert_uint_eq(fh.id, id);
			ck_assert_uint_eq(fh.offset, len);
			size_t d = ip.payload_len - IP6_FRAG_HDR_LEN;
			if (fh.more)
				ck_assert_uint_eq(d % 8, 0);
			ck_assert_uint_le(len + d, cap);
			memcpy(out + len, p->data + L4 + IP6_FRAG_HDR_LEN, d);
			len += d;
			more = fh.more;
		}
		(*frames)++;
		pkt_free(p);
	}
	return len;
}

/* UDP over IPv6 larger than the MTU leaves in fragments (RFC 8200 4.5),
 * up to the most the payload length allows: 65535 - 8 bytes of data. One
 * byte more is refused with EMSGSIZE, as over IPv4 at 65535 - 20 - 8. */
START_TEST(test_udp_big_fragmented)
{
	static uint8_t data[65536], got[65536];
	static const size_t sizes[] = { 1452, 1453, 8000, 65000, UDP6_MAX_PAYLOAD };
	struct harness h;
	harness6(&h);
	int fd = udp6_socket(5000);
	struct sockaddr_in6 to = sin6("fd00::1", 40000);
	struct ipaddr s6 = v6("fd00::2"), d6 = v6("fd00::1");
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ i >> 8);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		ck_assert_int_eq(net_sendto(fd, data, n, 0, (struct sockaddr *)&to, sizeof(to)),
				 (int)n);
		int frames;
		size_t len = take_udp6(&h, got, sizeof(got), &frames);
		expect_no_tx(&h);
		ck_assert_uint_eq(len, UDP_HDR_LEN + n);
		/* 1448 bytes of the datagram per fragment at MTU 1500 */
		ck_assert_int_eq(frames, n + UDP_HDR_LEN + IPV6_HDR_LEN <= 1500
					 ? 1 : (int)((len + 1447) / 1448));
		ck_assert_uint_eq(be16_get(got + 2), 40000);
		ck_assert_uint_eq(be16_get(got + 4), UDP_HDR_LEN + n);
		ck_assert_msg(hand_sum6(&s6, &d6, IP6_NH_UDP, got, len) == 0,
			      "bad checksum in %zu bytes", n);
		ck_assert_mem_eq(got + UDP_HDR_LEN, data, n);
	}
	ck_assert_int_eq(net_sendto(fd, data, UDP6_MAX_PAYLOAD + 1, 0, (struct sockaddr *)&to,
				    sizeof(to)), -EMSGSIZE);
	ck_assert_uint_eq(UDP6_MAX_PAYLOAD + 1, 65528);
	expect_no_tx(&h);
	/* an IPv4 socket keeps IPv4's limit */
	int fd4 = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to4 = { .sin_family = AF_INET, .sin_port = htons(7),
				   .sin_addr.s_addr = htonl(0x0a000001) };
	ck_assert_int_eq(net_sendto(fd4, data, UDP_MAX_PAYLOAD + 1, 0, (struct sockaddr *)&to4,
				    sizeof(to4)), -EMSGSIZE);
	harness6_fini(&h);
}
END_TEST

START_TEST(test_hostile_udp_dropped)
{
	struct harness h;
	uint8_t f[256];
	harness6(&h);
	int fd = udp6_socket(5000);
	inject(&h, f, build_udp6(f, NULL, "fd00::1", 40000, "fd00::2", 5000, "bad", CSUM_BAD));
	ck_assert_uint_eq(count(&h, "udp.bad_checksum"), 1);
	inject(&h, f, build_udp6(f, NULL, "fd00::1", 40000, "fd00::2", 5000, "none", CSUM_ZERO));
	ck_assert_uint_eq(count(&h, "udp.zero_checksum"), 1);
	inject(&h, f, build_udp6(f, NULL, "fd00::1", 40000, "fd00::2", 9999, "bad", CSUM_BAD));
	ck_assert_uint_eq(count(&h, "udp.bad_checksum"), 2);
	/* a length field past the datagram */
	size_t n = build_udp6(f, NULL, "fd00::1", 40000, "fd00::2", 5000, "long", CSUM_GOOD);
	be16_put(f + L4 + 4, 200);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "udp.bad_length"), 1);
	expect_no_tx(&h);
	char buf[16];
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);
	ck_assert_uint_eq(count(&h, "udp.delivered"), 0);
	harness6_fini(&h);
}
END_TEST

/* A TCP segment from [fd00::1]:40000 to the host's port, in a frame. */
static size_t build_tcp6(uint8_t *f, uint16_t dport, struct tcp_seg seg, bool bad_sum)
{
	uint8_t t[256];
	seg.sport = 40000;
	seg.dport = dport;
	seg.wnd = seg.wnd ? seg.wnd : 65535;
	size_t hl = tcp_emit(&seg, t);
	struct ipaddr s = v6("fd00::1"), d = v6("fd00::2");
	be16_put(t + 16, 0);
	uint16_t c = hand_sum6(&s, &d, IP6_NH_TCP, t, hl);
	be16_put(t + 16, bad_sum ? c ^ 1 : c);
	return build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_TCP, t, hl);
}

/* The next TCP segment of the host, parsed (checksum checked by hand). */
static void expect_tcp6(struct harness *h, struct tcp_seg *seg, uint8_t *keep)
{
	struct pkt *p = expect_v6(h, IP6_NH_TCP);
	size_t len = p->len - L4;
	memcpy(keep, p->data + L4, len);
	pkt_free(p);
	ck_assert_ptr_null(tcp_parse(keep, len, seg));
}

START_TEST(test_tcp_handshake_mss_1440)
{
	struct harness h;
	uint8_t f[256], keep[256];
	struct tcp_seg out;
	harness6(&h);
	int l = net_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(7000),
				  .sin6_addr = IN6ADDR_ANY_INIT };
	ck_assert_int_eq(net_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(net_listen(l, 4), 0);
	/* an IPv4 SYN to that port finds no IPv4 listener (V6ONLY) */
	ck_assert_ptr_null(tcp_lookup_listener(&h.s, &(struct ipaddr){ .family = AF_INET }, 7000));

	struct tcp_seg syn = { .seq = 5000, .flags = TCP_FLAG_SYN,
			       .opt = { .mss_ok = true, .mss = 1440 } };
	inject(&h, f, build_tcp6(f, 7000, syn, false));
	expect_tcp6(&h, &out, keep);
	ck_assert_uint_eq(out.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	ck_assert_uint_eq(out.ack, 5001);
	ck_assert(out.opt.mss_ok);
	/* RFC 8200 5 / RFC 9293 3.7.1: 1500 - 40 - 20 */
	ck_assert_uint_eq(out.opt.mss, 1440);
	uint32_t iss = out.seq;
	struct tcp_seg ack = { .seq = 5001, .ack = iss + 1, .flags = TCP_FLAG_ACK };
	inject(&h, f, build_tcp6(f, 7000, ack, false));
	struct sockaddr_in6 from;
	socklen_t flen = sizeof(from);
	int c = net_accept(l, (struct sockaddr *)&from, &flen);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(flen, sizeof(struct sockaddr_in6));
	struct sockaddr_in6 peer = sin6("fd00::1", 40000);
	ck_assert_mem_eq(&from.sin6_addr, &peer.sin6_addr, 16);
	ck_assert_uint_eq(ntohs(from.sin6_port), 40000);
	/* data both ways */
	struct tcp_seg data = { .seq = 5001, .ack = iss + 1, .flags = TCP_FLAG_ACK | TCP_FLAG_PSH,
				.data = (const uint8_t *)"hello", .len = 5 };
	uint8_t t[256];
	size_t hl = tcp_emit(&data, t);
	(void)hl;
	/* build by hand: emit the header, then the payload, then the sum */
	data.sport = 40000;
	data.dport = 7000;
	data.wnd = 65535;
	hl = tcp_emit(&data, t);
	memcpy(t + hl, "hello", 5);
	struct ipaddr s6 = v6("fd00::1"), d6 = v6("fd00::2");
	be16_put(t + 16, hand_sum6(&s6, &d6, IP6_NH_TCP, t, hl + 5));
	inject(&h, f, build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_TCP, t, hl + 5));
	char buf[16];
	ck_assert_int_eq(net_recv(c, buf, sizeof(buf), 0), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_int_eq(net_send(c, "world", 5, 0), 5);
	for (;;) { /* the ACK of hello may come first, or ride on the data */
		expect_tcp6(&h, &out, keep);
		if (out.len)
			break;
	}
	ck_assert_uint_eq(out.len, 5);
	ck_assert_mem_eq(out.data, "world", 5);

	/* an active open: the SYN offers 1440 too, from fd00::2 */
	int a2 = net_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 to = sin6("fd00::1", 80);
	ck_assert_int_eq(net_connect(a2, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
	struct pkt *p = expect_v6(&h, IP6_NH_TCP);
	struct ipv6_hdr ip;
	ipv6_parse(p->data + L3, p->len - L3, &ip);
	ck_assert(ipaddr_eq(&ip.src, &d6));
	ck_assert_ptr_null(tcp_parse(p->data + L4, p->len - L4, &out));
	ck_assert_uint_eq(out.flags, TCP_FLAG_SYN);
	ck_assert_uint_eq(out.opt.mss, 1440);
	pkt_free(p);
	harness6_fini(&h);
}
END_TEST

START_TEST(test_tcp_rst_closed_port)
{
	struct harness h;
	uint8_t f[256], keep[256];
	struct tcp_seg out;
	harness6(&h);
	struct tcp_seg syn = { .seq = 777, .flags = TCP_FLAG_SYN };
	inject(&h, f, build_tcp6(f, 8000, syn, false));
	expect_tcp6(&h, &out, keep);
	/* RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
	ck_assert_uint_eq(out.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	ck_assert_uint_eq(out.seq, 0);
	ck_assert_uint_eq(out.ack, 778);
	ck_assert_uint_eq(out.sport, 8000);
	ck_assert_uint_eq(out.dport, 40000);
	/* with a bad checksum: dropped, no RST */
	inject(&h, f, build_tcp6(f, 8000, syn, true));
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "tcp.bad_checksum"), 1);
	/* an IPv4 listener does not take IPv6 SYNs */
	int l4 = net_socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(8000) };
	ck_assert_int_eq(net_bind(l4, (struct sockaddr *)&a4, sizeof(a4)), 0);
	ck_assert_int_eq(net_listen(l4, 4), 0);
	inject(&h, f, build_tcp6(f, 8000, syn, false));
	expect_tcp6(&h, &out, keep);
	ck_assert_uint_eq(out.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	harness6_fini(&h);
}
END_TEST

/* The address helpers apps use: either family, brackets for IPv6. */
START_TEST(test_sockaddr_helpers)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[NET_ADDRSTRLEN];
	ck_assert_int_eq(net_sockaddr_pton("fd00::2", 7, &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_int_eq(len, sizeof(struct sockaddr_in6));
	ck_assert_str_eq(net_sockaddr_ntop((struct sockaddr *)&ss, 1, buf, sizeof(buf)), "[fd00::2]:7");
	ck_assert_str_eq(net_sockaddr_ntop((struct sockaddr *)&ss, 0, buf, sizeof(buf)), "fd00::2");
	ck_assert_int_eq(net_sockaddr_pton("[fe80::1]", 80, &ss, &len), 0);
	ck_assert_str_eq(net_sockaddr_ntop((struct sockaddr *)&ss, 1, buf, sizeof(buf)), "[fe80::1]:80");
	ck_assert_int_eq(net_sockaddr_pton("10.0.0.2", 53, &ss, &len), 0);
	ck_assert_int_eq(len, sizeof(struct sockaddr_in));
	ck_assert_str_eq(net_sockaddr_ntop((struct sockaddr *)&ss, 1, buf, sizeof(buf)), "10.0.0.2:53");
	const char *bad[] = { "", "[10.0.0.2]", "fd00::2::1", "[fd00::2", "10.0.0.256", "host" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(net_sockaddr_pton(bad[i], 1, &ss, &len) == -EINVAL, "'%s'", bad[i]);
	struct ipaddr a6 = v6("fd00::1"), a4 = ipaddr_v4(0x0a000001);
	ck_assert_str_eq(ipaddr_port_str(&a6, 5, buf, sizeof(buf)), "[fd00::1]:5");
	ck_assert_str_eq(ipaddr_port_str(&a4, 5, buf, sizeof(buf)), "10.0.0.1:5");
}
END_TEST

/* An ICMPv6 error quoting our SYN reaches the connection: no route (code
 * 0) is soft, port unreachable (code 4) aborts the connect with
 * ECONNREFUSED (RFC 1122 4.2.3.9, RFC 5927 4.2 as for IPv4). */
START_TEST(test_icmp6_error_to_tcp)
{
	struct harness h;
	uint8_t f[400], msg[300];
	harness6(&h);
	int fd = net_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 to = sin6("fd00::1", 80);
	ck_assert_int_eq(net_connect(fd, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
	struct pkt *syn = expect_v6(&h, IP6_NH_TCP);
	size_t qlen = syn->len - L3;
	memcpy(msg + ICMP6_HDR_LEN, syn->data + L3, qlen);
	pkt_free(syn);
	struct ipaddr s6 = v6("fd00::1"), d6 = v6("fd00::2");
	for (int code = 0; code <= ICMP6_UNREACH_PORT; code += ICMP6_UNREACH_PORT) {
		struct icmpv6_hdr e = { .type = ICMP6_DEST_UNREACH, .code = (uint8_t)code };
		icmpv6_emit(&e, msg, ICMP6_HDR_LEN + qlen, &s6, &d6);
		inject(&h, f, build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_ICMPV6, msg,
				     ICMP6_HDR_LEN + qlen));
		if (code == 0) {
			ck_assert_uint_eq(count(&h, "tcp.icmp_soft"), 1);
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			ck_assert_int_eq(net_poll(&p, 1, 0), 0); /* still connecting */
		}
	}
	ck_assert_uint_eq(count(&h, "tcp.icmp_hard"), 1);
	int err = 0;
	socklen_t el = sizeof(err);
	ck_assert_int_eq(net_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	ck_assert_int_eq(err, ECONNREFUSED);
	harness6_fini(&h);
}
END_TEST

/* ---- Waiting for duplicate address detection (RFC 4862 5.4) ---- */

/* A driver for blocking calls on the harness: each wait runs the host to
 * its next deadline (at most max_us), on virtual time. */
static void harness_wait(void *ctx, int64_t max_us)
{
	struct harness *h = ctx;
	int64_t d = stack_next_deadline(&h->s) - h->now;
	advance(h, d < 1 ? 1 : d < max_us ? d : max_us);
}

static int64_t harness_now(void *ctx)
{
	return ((struct harness *)ctx)->now;
}

/* The NA of fd00::1 (solicited, its MAC as target link-layer address). */
static void inject_na_peer(struct harness *h, const char *peer_text)
{
	uint8_t na[32], f[128];
	struct ipaddr peer = v6(peer_text), host = v6("fd00::2");
	memset(na, 0, sizeof(na));
	memcpy(na + ICMP6_HDR_LEN, peer.a, 16);
	na[24] = NDP_OPT_TLLA;
	na[25] = 1;
	memcpy(na + 26, t_mac_peer, ETH_ALEN);
	struct icmpv6_hdr ih = { .type = ICMP6_NEIGHBOR_ADVERT, .rest = NDP_NA_SOLICITED };
	icmpv6_emit(&ih, na, sizeof(na), &peer, &host);
	size_t n = build6(f, t_mac_host, peer_text, "fd00::2", IP6_NH_ICMPV6, na, sizeof(na));
	f[L3 + 7] = 255;
	inject(h, f, n);
}

/* Right after the host starts, its addresses are tentative for a second:
 * a non-blocking sendto over IPv6 fails with ENETUNREACH (no candidate
 * source, RFC 6724 4), a blocking one waits until DAD has passed and then
 * leaves from fd00::2. Later a new address fd00:1::5 in DAD is waited for
 * only by a destination it is the better source for (rule 8). */
START_TEST(test_blocking_send_waits_for_dad)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	struct ipaddr a = v6("fd00::2"), peer = v6("fd00::1");
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &a, 64), 0);
	h.ifp->ip6.solicit_routers = false;
	advance(&h, 0);
	pkt_free(expect_tx(&h)); /* DAD for the link-local address */
	pkt_free(expect_tx(&h)); /* DAD for fd00::2 */
	struct net_driver d = { .wait = harness_wait, .now = harness_now, .ctx = &h };
	net_attach(&h.s, &d);
	ck_assert(ip_source_tentative(&h.s, &peer));

	struct sockaddr_in6 to = sin6("fd00::1", 7);
	int nb = net_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(net_sendto(nb, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)),
			 -ENETUNREACH);
	int fd = net_socket(AF_INET6, SOCK_DGRAM, 0);
	ck_assert_int_eq(net_sendto(fd, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)),
			 -ENETUNREACH);
	ck_assert_int_eq(h.now, 0);
	ck_assert_int_eq(net_sendto(fd, "hi", 2, 0, (struct sockaddr *)&to, sizeof(to)), 2);
	/* it waited for DAD, no longer */
	ck_assert_uint_eq(count(&h, "ndp.dad_ok"), 2);
	ck_assert_int_ge(h.now, NDP_RETRANS_US);
	ck_assert_int_lt(h.now, NDP_RETRANS_US + 100000);
	ck_assert(!ip_source_tentative(&h.s, &peer));
	/* the datagram waits for fd00::1's address; the NA lets it go */
	drop_tx(&h); /* the NS, MLD reports */
	inject_na_peer(&h, "fd00::1");
	struct pkt *p = expect_v6(&h, IP6_NH_UDP);
	struct ipv6_hdr ip;
	ipv6_parse(p->data + L3, p->len - L3, &ip);
	ck_assert(ipaddr_eq(&ip.src, &a));
	ck_assert_mem_eq(p->data + L4 + UDP_HDR_LEN, "hi", 2);
	pkt_free(p);

	/* a second address, tentative: fd00::1 keeps fd00::2 (the longer
	 * prefix), fd00:1::1 would take fd00:1::5 */
	struct ipaddr b = v6("fd00:1::5"), far = v6("fd00:1::1");
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &b, 64), 0);
	ck_assert(!ip_source_tentative(&h.s, &peer));
	ck_assert(ip_source_tentative(&h.s, &far));
	int64_t t0 = h.now;
	ck_assert_int_eq(net_sendto(fd, "ok", 2, 0, (struct sockaddr *)&to, sizeof(to)), 2);
	ck_assert_int_eq(h.now, t0); /* no wait */
	struct sockaddr_in6 to_far = sin6("fd00:1::1", 7);
	ck_assert_int_eq(net_sendto(fd, "far", 3, 0, (struct sockaddr *)&to_far, sizeof(to_far)), 3);
	ck_assert_int_ge(h.now, t0 + NDP_RETRANS_US);
	ck_assert_uint_eq(count(&h, "ndp.dad_ok"), 3);
	drop_tx(&h);
	inject_na_peer(&h, "fd00:1::1");
	p = expect_v6(&h, IP6_NH_UDP);
	ipv6_parse(p->data + L3, p->len - L3, &ip);
	ck_assert(ipaddr_eq(&ip.src, &b));
	ck_assert(ipaddr_eq(&ip.dst, &far));
	ck_assert_mem_eq(p->data + L4 + UDP_HDR_LEN, "far", 3);
	pkt_free(p);
	harness6_fini(&h);
}
END_TEST

/* The same for a blocking TCP connect: it waits for DAD, then the SYN
 * (held until fd00::1 is found) leaves from fd00::2; SO_SNDTIMEO bounds
 * the handshake as usual. */
START_TEST(test_blocking_connect_waits_for_dad)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	struct ipaddr a = v6("fd00::2");
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &a, 64), 0);
	h.ifp->ip6.solicit_routers = false;
	advance(&h, 0);
	struct net_driver d = { .wait = harness_wait, .now = harness_now, .ctx = &h };
	net_attach(&h.s, &d);
	int fd = net_socket(AF_INET6, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 2 };
	ck_assert_int_eq(net_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	struct sockaddr_in6 to = sin6("fd00::1", 80);
	ck_assert_int_eq(net_connect(fd, (struct sockaddr *)&to, sizeof(to)), -ETIMEDOUT);
	ck_assert_uint_eq(count(&h, "ndp.dad_ok"), 2);
	/* DAD (1 s), then the handshake's 2 s */
	ck_assert_int_ge(h.now, NDP_RETRANS_US + 2000000);
	ck_assert_int_lt(h.now, NDP_RETRANS_US + 2100000);
	drop_tx(&h); /* DAD, MLD, the NSes for fd00::1 */
	inject_na_peer(&h, "fd00::1");
	struct pkt *p = expect_v6(&h, IP6_NH_TCP);
	struct ipv6_hdr ip;
	struct tcp_seg seg;
	ipv6_parse(p->data + L3, p->len - L3, &ip);
	ck_assert(ipaddr_eq(&ip.src, &a));
	ck_assert_ptr_null(tcp_parse(p->data + L4, p->len - L4, &seg));
	ck_assert_uint_eq(seg.flags, TCP_FLAG_SYN);
	pkt_free(p);
	drop_tx(&h);
	harness6_fini(&h);
}
END_TEST

/* A connection accepted on [fd00::2]:7000 from [fd00::1]:40000 (MSS 1440
 * both ways, no options but MSS); sets *iss to the host's ISS. */
static int tcp6_accepted(struct harness *h, uint32_t *iss)
{
	uint8_t f[256], keep[256];
	struct tcp_seg out;
	int l = net_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(7000) };
	ck_assert_int_eq(net_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(net_listen(l, 4), 0);
	struct tcp_seg syn = { .seq = 5000, .flags = TCP_FLAG_SYN,
			       .opt = { .mss_ok = true, .mss = 1440 } };
	inject(h, f, build_tcp6(f, 7000, syn, false));
	expect_tcp6(h, &out, keep);
	ck_assert_uint_eq(out.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	*iss = out.seq;
	struct tcp_seg ack = { .seq = 5001, .ack = *iss + 1, .flags = TCP_FLAG_ACK };
	inject(h, f, build_tcp6(f, 7000, ack, false));
	int c = net_accept(l, NULL, NULL);
	ck_assert_int_ge(c, 0);
	return c;
}

/* A Packet Too Big from the router fd00::ff quoting q bytes of quote. */
static void inject_ptb6(struct harness *h, uint32_t mtu, const uint8_t *quote, size_t q)
{
	static uint8_t msg[1400], f[1500];
	struct ipaddr s6 = v6("fd00::ff"), d6 = v6("fd00::2");
	memcpy(msg + ICMP6_HDR_LEN, quote, q);
	struct icmpv6_hdr e = { .type = ICMP6_PACKET_TOO_BIG, .rest = mtu };
	icmpv6_emit(&e, msg, ICMP6_HDR_LEN + q, &s6, &d6);
	inject(h, f, build6(f, t_mac_host, "fd00::ff", "fd00::2", IP6_NH_ICMPV6, msg,
			    ICMP6_HDR_LEN + q));
}

/* RFC 4443 3.2, RFC 8201 4 with TCP: a Packet Too Big of 1300 bytes
 * quoting one of our full-size segments in flight lowers the connection's
 * MSS from 1440 to 1300 - 40 - 20 = 1240, and what is unacknowledged goes
 * again from snd_una in segments of 1240 bytes that fit the path, none
 * fragmented. One quoting a datagram whose source is not ours is dropped
 * and counted, and changes nothing. */
START_TEST(test_tcp_packet_too_big)
{
	struct harness h;
	uint8_t f[256], keep[1600];
	static uint8_t data[3 * 1440], quote[1232];
	struct tcp_seg out;
	uint32_t iss;
	harness6(&h);
	int c = tcp6_accepted(&h, &iss);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	ck_assert_int_eq(net_send(c, data, sizeof(data), 0), (int)sizeof(data));
	struct ipaddr peer = v6("fd00::1"), host = v6("fd00::2");
	struct tcb *tp = tcp_lookup(&h.s, &host, 7000, &peer, 40000);
	ck_assert_ptr_nonnull(tp);
	ck_assert_uint_eq(tp->opt.snd_mss, 1440);
	for (int i = 0; i < 3; i++) {
		struct pkt *p = expect_v6(&h, IP6_NH_TCP);
		ck_assert_uint_eq(p->len, L4 + TCP_HDR_LEN + 1440);
		if (i == 1) /* RFC 4443 3.2: as much of it as fits in 1280 bytes */
			memcpy(quote, p->data + L3, sizeof(quote));
		pkt_free(p);
	}
	expect_no_tx(&h);

	/* someone else's datagram: its quoted source is fd00::3 */
	quote[8 + 15] = 3;
	inject_ptb6(&h, 1300, quote, sizeof(quote));
	ck_assert_uint_eq(count(&h, "icmp6.error_not_ours"), 1);
	ck_assert_uint_eq(tp->opt.snd_mss, 1440);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 1460);
	expect_no_tx(&h);

	/* ours (the second segment): the MSS drops, the data goes again */
	quote[8 + 15] = 2;
	uint32_t cwnd = tp->cwnd;
	inject_ptb6(&h, 1300, quote, sizeof(quote));
	ck_assert_uint_eq(tp->cwnd, cwnd); /* not a congestion signal (RFC 8201 5.4) */
	ck_assert_uint_eq(count(&h, "pmtu.lowered"), 1);
	ck_assert_uint_eq(count(&h, "tcp.icmp_frag_needed"), 1);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 1260);
	ck_assert_uint_eq(tp->opt.snd_mss, 1240);
	uint32_t seq = iss + 1;
	while (seq != iss + 1 + sizeof(data)) {
		expect_tcp6(&h, &out, keep);
		ck_assert_uint_eq(out.seq, seq);
		size_t want = sizeof(data) - (seq - iss - 1);
		ck_assert_uint_eq(out.len, want < 1240 ? want : 1240);
		ck_assert_mem_eq(out.data, data + (seq - iss - 1), out.len);
		seq += out.len;
	}
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "tcp.retransmitted_bytes"), sizeof(data));
	/* the peer has it all */
	struct tcp_seg ack = { .seq = 5001, .ack = seq, .flags = TCP_FLAG_ACK };
	inject(&h, f, build_tcp6(f, 7000, ack, false));
	ck_assert_uint_eq(tp->snd.una, tp->snd.max);
	/* new data leaves at the new size */
	ck_assert_int_eq(net_send(c, data, 2000, 0), 2000);
	expect_tcp6(&h, &out, keep);
	ck_assert_uint_eq(out.len, 1240);
	ck_assert_uint_eq(count(&h, "ip6.fragmented"), 0);
	harness6_fini(&h);
}
END_TEST

/* A Packet Too Big quoting our SYN (MTU 1280): nothing to resend (the
 * MSS is still the 536 of RFC 9293 3.7.1 until the peer's SYN-ACK), the
 * SYN-ACK that follows is taken (no RST), and the MSS is the path's,
 * 1280 - 40 - 20 = 1220, although the peer offers 1440. */
START_TEST(test_tcp_packet_too_big_syn)
{
	struct harness h;
	uint8_t f[256], keep[256];
	struct tcp_seg out;
	harness6(&h);
	int fd = net_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 to = sin6("fd00::1", 40000);
	ck_assert_int_eq(net_connect(fd, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
	struct pkt *syn = expect_v6(&h, IP6_NH_TCP);
	size_t qlen = syn->len - L3;
	uint8_t quote[128];
	memcpy(quote, syn->data + L3, qlen);
	pkt_free(syn);
	inject_ptb6(&h, 1280, quote, qlen);
	ck_assert_uint_eq(count(&h, "tcp.icmp_frag_needed"), 1);
	expect_no_tx(&h);
	struct tcp_seg first;
	ck_assert_ptr_null(tcp_parse(quote + IPV6_HDR_LEN, qlen - IPV6_HDR_LEN, &first));
	uint32_t iss = first.seq;
	uint16_t lport = first.sport;
	/* the peer answers [fd00::1]:40000 -> the host's port */
	struct tcp_seg sa = { .seq = 9000, .ack = iss + 1, .flags = TCP_FLAG_SYN | TCP_FLAG_ACK,
			      .opt = { .mss_ok = true, .mss = 1440 } };
	inject(&h, f, build_tcp6(f, lport, sa, false));
	expect_tcp6(&h, &out, keep);
	ck_assert_uint_eq(out.flags, TCP_FLAG_ACK);
	ck_assert_uint_eq(out.ack, 9001);
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	ck_assert_int_eq(net_poll(&pf, 1, 0), 1);
	struct ipaddr peer = v6("fd00::1"), host = v6("fd00::2");
	struct tcb *tp = tcp_lookup(&h.s, &host, lport, &peer, 40000);
	ck_assert_ptr_nonnull(tp);
	ck_assert_uint_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(tp->opt.snd_mss, 1220);
	harness6_fini(&h);
}
END_TEST

/* Hostile frames into the IPv6 transports: valid UDP, TCP and ICMPv6 error
 * frames with random bytes changed, cut short or grown, with their
 * checksums made right again half of the time (so the damage gets past the
 * checksum into the parsers and sockets). Nothing may crash or leak (the
 * harness checks the pool), and every frame is counted. */
START_TEST(test_hostile_mutations)
{
	struct harness h;
	uint8_t base[3][256], f[400];
	size_t blen[3];
	harness6(&h);
	int u = udp6_socket(5000);
	int l = net_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(7000) };
	ck_assert_int_eq(net_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(net_listen(l, 64), 0);
	int c = net_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 to = sin6("fd00::1", 53);
	ck_assert_int_eq(net_connect(c, (struct sockaddr *)&to, sizeof(to)), 0);
	blen[0] = build_udp6(base[0], NULL, "fd00::1", 40000, "fd00::2", 5000, "payload!", CSUM_GOOD);
	struct tcp_seg syn = { .seq = 1, .flags = TCP_FLAG_SYN, .opt = { .mss_ok = true, .mss = 1440 } };
	blen[1] = build_tcp6(base[1], 7000, syn, false);
	/* a port unreachable quoting a datagram of c's */
	ck_assert_int_eq(net_send(c, "q", 1, 0), 1);
	struct pkt *sent = expect_v6(&h, IP6_NH_UDP);
	uint8_t msg[200];
	size_t qlen = sent->len - L3;
	memcpy(msg + ICMP6_HDR_LEN, sent->data + L3, qlen);
	pkt_free(sent);
	struct icmpv6_hdr e = { .type = ICMP6_DEST_UNREACH, .code = ICMP6_UNREACH_PORT };
	struct ipaddr s6 = v6("fd00::1"), d6 = v6("fd00::2");
	icmpv6_emit(&e, msg, ICMP6_HDR_LEN + qlen, &s6, &d6);
	blen[2] = build6(base[2], t_mac_host, "fd00::1", "fd00::2", IP6_NH_ICMPV6, msg,
			 ICMP6_HDR_LEN + qlen);

	uint64_t frames0 = count(&h, "eth.rx_frames");
	struct rng r;
	rng_seed(&r, 42);
	const int rounds = 6000;
	for (int n = 0; n < rounds; n++) {
		int k = (int)rng_below(&r, 3);
		size_t len = blen[k];
		memcpy(f, base[k], len);
		int flips = 1 + (int)rng_below(&r, 4);
		for (int i = 0; i < flips; i++)
			f[L3 + rng_below(&r, len - L3)] = (uint8_t)rng_next(&r);
		if (rng_chance(&r, 0.2))
			len = L3 + rng_below(&r, len - L3 + 1); /* cut short */
		else if (rng_chance(&r, 0.1))
			len += rng_below(&r, 64);               /* trailing bytes */
		if (len >= L4 && rng_chance(&r, 0.5)) {
			/* the payload length as given, the checksum made right */
			struct ipv6_hdr ip;
			ipv6_parse(f + L3, len - L3, &ip);
			size_t pl = ip.payload_len <= len - L4 ? ip.payload_len : len - L4;
			size_t at = ip.next == IP6_NH_UDP ? 6 : ip.next == IP6_NH_TCP ? 16 : 2;
			if (pl >= at + 2) {
				be16_put(f + L4 + at, 0);
				uint16_t sum = hand_sum6(&ip.src, &ip.dst, ip.next, f + L4, pl);
				be16_put(f + L4 + at, ip.next == IP6_NH_UDP && sum == 0 ? 0xffff : sum);
			}
		}
		inject(&h, f, len);
		drop_tx(&h);
		char buf[64];
		while (net_recv(u, buf, sizeof(buf), 0) >= 0)
			;
		int cfd;
		while ((cfd = net_accept(l, NULL, NULL)) >= 0)
			net_close(cfd);
		if (n % 1000 == 999)
			advance(&h, 2000000);
	}
	ck_assert_uint_eq(count(&h, "eth.rx_frames") - frames0, (uint64_t)rounds);
	/* some got through to each transport, some were dropped by each check */
	ck_assert_uint_gt(count(&h, "udp.delivered"), 0);
	ck_assert_uint_gt(count(&h, "udp.bad_checksum"), 0);
	ck_assert_uint_gt(count(&h, "tcp.bad_checksum"), 0);
	ck_assert_uint_gt(count(&h, "udp.icmp_error"), 0);
	harness6_fini(&h);
}
END_TEST

/* ---- Simulated: two hosts, NDP only, 10 MB each way over TCP/IPv6 ---- */

#define SIM6_BYTES (10 * 1024 * 1024)
#define SIM6_SEEDS 8
#define SIM6_PORT 5001

START_TEST(test_sim_tcp6_transfer)
{
	static struct sim sim;
	const struct impair_cfg cfg = { .loss = 0.03, .reorder = 0.02, .dup = 0.01,
					.corrupt = 0.005, .delay_us = 2000, .jitter_us = 500 };
	uint64_t seed = 600 + (uint64_t)_i;
	sim_init(&sim, &cfg, seed);
	struct ipaddr a6 = v6("fd00::1"), b6 = v6("fd00::2");
	ck_assert_int_eq(ndp_addr_add(&sim.a, &sim.a.ifs[0], &a6, 64), 0);
	ck_assert_int_eq(ndp_addr_add(&sim.b, &sim.b.ifs[0], &b6, 64), 0);
	/* DAD (each probe may be lost: that only means it passes sooner) */
	sim_run_until(&sim, 3 * 1000000);
	ck_assert(ip_is_local(&sim.a, &a6));
	ck_assert(ip_is_local(&sim.b, &b6));
	ck_assert_ptr_null(ndp_cache_lookup(&sim.a.ndp, &b6));
	uint64_t arp_before = stats_get(&sim.a.stats, "arp.rx") + stats_get(&sim.b.stats, "arp.rx");

	sim_attach(&sim, &sim.b);
	int lfd = net_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 me = { .sin6_family = AF_INET6, .sin6_port = htons(SIM6_PORT) };
	ck_assert_int_eq(net_bind(lfd, (struct sockaddr *)&me, sizeof(me)), 0);
	ck_assert_int_eq(net_listen(lfd, 4), 0);
	sim_attach(&sim, &sim.a);
	static struct sim_side a, b;
	a = (struct sim_side){ .who = 0, .total = SIM6_BYTES };
	b = (struct sim_side){ .who = 1, .total = SIM6_BYTES, .fd = -1 };
	a.fd = net_socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 to = sin6("fd00::2", SIM6_PORT);
	ck_assert_int_eq(net_connect(a.fd, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
	while (!(a.closed && b.closed)) {
		ck_assert_msg(sim.now < 1800LL * 1000000, "seed %llu: not done in 30 min virtual: "
			      "A sent %llu got %llu, B sent %llu got %llu", (unsigned long long)seed,
			      (unsigned long long)a.sent, (unsigned long long)a.received,
			      (unsigned long long)b.sent, (unsigned long long)b.received);
		if (b.fd < 0)
			b.fd = sim_accept(lfd);
		if (!a.closed)
			sim_side_step(&a);
		if (b.fd >= 0 && !b.closed)
			sim_side_step(&b);
		ck_assert_msg(!a.bad && !b.bad, "seed %llu: damaged bytes", (unsigned long long)seed);
		sim_step(&sim, 1000);
	}
	ck_assert_uint_eq(a.received, SIM6_BYTES);
	ck_assert_uint_eq(b.received, SIM6_BYTES);
	/* found by neighbor discovery, and every segment went over IPv6 */
	struct ndp_entry *e = ndp_cache_lookup(&sim.a.ndp, &b6);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_gt(stats_get(&sim.a.stats, "ndp.tx_ns"), 0);
	ck_assert_uint_gt(stats_get(&sim.b.stats, "ip6.delivered"), SIM6_BYTES / 1440);
	ck_assert_uint_eq(stats_get(&sim.a.stats, "arp.rx") + stats_get(&sim.b.stats, "arp.rx"),
			  arp_before);
	ck_assert_uint_gt(stats_get(&sim.a.stats, "tcp.retransmitted_bytes"), 0); /* the loss bit */
	net_close(lfd);
	sim_run_until(&sim, sim.now + 5 * 60 * 1000000LL);
	ck_assert_uint_eq(sim.a.tcp.count, 0);
	ck_assert_uint_eq(sim.b.tcp.count, 0);
	sim_fini(&sim);
}
END_TEST

Suite *ipv6_sock_suite(void)
{
	Suite *s = suite_create("ipv6_sock");
	TCase *c = tcase_create("udp");
	tcase_add_test(c, test_udp_both_ways_exact);
	tcase_add_test(c, test_source_selection);
	tcase_add_test(c, test_v6only_split);
	tcase_add_test(c, test_port_unreachable);
	tcase_add_test(c, test_icmp6_error_to_socket);
	tcase_add_test(c, test_hostile_udp_dropped);
	tcase_add_test(c, test_udp_big_fragmented);
	tcase_add_test(c, test_blocking_send_waits_for_dad);
	tcase_add_test(c, test_sockaddr_helpers);
	suite_add_tcase(s, c);
	c = tcase_create("tcp");
	tcase_add_test(c, test_tcp_handshake_mss_1440);
	tcase_add_test(c, test_tcp_rst_closed_port);
	tcase_add_test(c, test_icmp6_error_to_tcp);
	tcase_add_test(c, test_tcp_packet_too_big);
	tcase_add_test(c, test_tcp_packet_too_big_syn);
	tcase_add_test(c, test_blocking_connect_waits_for_dad);
	tcase_add_test(c, test_hostile_mutations);
	suite_add_tcase(s, c);
	c = tcase_create("sim");
	tcase_set_timeout(c, 300);
	int seeds = SIM6_SEEDS;
	if (getenv("TAPSTACK_IPV6_SIM_SEEDS"))
		seeds = atoi(getenv("TAPSTACK_IPV6_SIM_SEEDS"));
	tcase_add_loop_test(c, test_sim_tcp6_transfer, 0, seeds);
	suite_add_tcase(s, c);
	return s;
}

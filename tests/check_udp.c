/* UDP: the codec on captured frames, the input checks, delivery to the most
 * specific socket, port unreachable byte for byte against Linux's, the
 * receive queue bound, datagrams the host sends, the socket calls over UDP
 * with their error paths, ICMP errors reaching connected sockets, and the
 * family-neutral IP helpers they use. Sockets are non-blocking: no driver
 * runs, the tests inject frames and read what the host sent. */
#include <check.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip/icmp.h"
#include "ip/ip.h"
#include "ip/ipv4.h"
#include "ip/udp.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/net.h"
#include "stack/socket.h"
#include "tests/harness.h"

#define PEER 0x0a000001u  /* 10.0.0.1 */
#define HOST 0x0a000002u  /* 10.0.0.2 */
#define BCAST 0x0a0000ffu /* 10.0.0.255, the subnet's broadcast */
#define IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define L3 ETH_HDR_LEN                  /* IP header offset in a frame */
#define L4 (ETH_HDR_LEN + IPV4_HDR_LEN) /* UDP or ICMP offset, no IP options */

static uint64_t count(struct harness *h, const char *name)
{
	return stats_get(&h->s.stats, name);
}

/* The UDP checksum of the datagram at u (len bytes) from src to dst, summed
 * over the pseudo-header: 0 when the field in u is right. */
static uint16_t sum_udp(uint32_t src, uint32_t dst, const uint8_t *u, size_t len)
{
	struct ipaddr s = ipaddr_v4(src), d = ipaddr_v4(dst);
	return csum_fold(csum_partial(u, len, ip_pseudo_sum(&s, &d, IP_PROTO_UDP, (uint32_t)len)));
}

/* Builds an Ethernet + IPv4 + UDP frame from the peer's MAC to the host's:
 * src:sport to dst:dport with len bytes of data (the pattern i * 7 + 3 when
 * data is NULL) and a correct checksum. Returns the frame length. */
static size_t udp_frame(uint8_t *f, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
			const void *data, size_t len)
{
	static uint8_t u[1600];
	ck_assert_uint_le(len, sizeof(u) - UDP_HDR_LEN);
	struct udp_hdr h = { .sport = sport, .dport = dport, .len = (uint16_t)(UDP_HDR_LEN + len) };
	udp_emit(&h, u);
	for (size_t i = 0; i < len; i++)
		u[UDP_HDR_LEN + i] = data ? ((const uint8_t *)data)[i] : (uint8_t)(i * 7 + 3);
	uint16_t c = sum_udp(src, dst, u, UDP_HDR_LEN + len);
	be16_put(u + 6, c == 0 ? 0xffff : c);
	return build_ipv4_frame(f, t_mac_host, t_mac_peer, src, dst, IP_PROTO_UDP, u,
				UDP_HDR_LEN + len);
}

/* A datagram from the peer to the host, "hi" unless data is given. */
static void inject_udp(struct harness *h, uint16_t sport, uint32_t dst, uint16_t dport,
		       const char *data)
{
	uint8_t f[1600];
	data = data ? data : "hi";
	size_t n = udp_frame(f, PEER, sport, dst, dport, data, strlen(data));
	inject(h, f, n);
}

static struct sockaddr_in sin4(uint32_t addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(addr);
	return a;
}

/* A non-blocking UDP socket on the harness's host. */
static int udp_socket(struct harness *h)
{
	net_use_stack(&h->s);
	int fd = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(fd, NET_FD_BASE);
	return fd;
}

static int bind4(int fd, uint32_t addr, uint16_t port)
{
	struct sockaddr_in a = sin4(addr, port);
	return net_bind(fd, (struct sockaddr *)&a, sizeof(a));
}

static int connect4(int fd, uint32_t addr, uint16_t port)
{
	struct sockaddr_in a = sin4(addr, port);
	return net_connect(fd, (struct sockaddr *)&a, sizeof(a));
}

static ssize_t sendto4(int fd, const void *buf, size_t len, uint32_t addr, uint16_t port)
{
	struct sockaddr_in a = sin4(addr, port);
	return net_sendto(fd, buf, len, 0, (struct sockaddr *)&a, sizeof(a));
}

static void set_int(int fd, int name, int v)
{
	ck_assert_int_eq(net_setsockopt(fd, SOL_SOCKET, name, &v, sizeof(v)), 0);
}

/* The socket's local address (host order) and port. */
static void local_of(int fd, uint32_t *addr, uint16_t *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	ck_assert_int_eq(net_getsockname(fd, (struct sockaddr *)&a, &len), 0);
	ck_assert_int_eq(len, sizeof(a));
	*addr = ntohl(a.sin_addr.s_addr);
	*port = ntohs(a.sin_port);
}

/* Receives one datagram on fd, expecting exactly want from 10.0.0.1:sport. */
static void expect_recv(int fd, const char *want, uint16_t sport)
{
	char buf[1600];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n = net_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert_mem_eq(buf, want, strlen(want));
	ck_assert_int_eq(flen, sizeof(from));
	ck_assert_int_eq(from.sin_family, AF_INET);
	ck_assert_uint_eq(ntohl(from.sin_addr.s_addr), PEER);
	ck_assert_uint_eq(ntohs(from.sin_port), sport);
}

static void expect_empty(int fd)
{
	char buf[16];
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);
}

/* Takes the next frame the host sent and checks it is a well-formed UDP
 * datagram from 10.0.0.2 to the peer, checksum verified by summing again.
 * Returns it (the caller frees it), with its IP and UDP headers. */
static struct pkt *expect_udp_tx(struct harness *h, struct ipv4_hdr *ip, struct udp_hdr *u)
{
	struct pkt *r = expect_tx(h);
	ck_assert_mem_eq(r->data, t_mac_peer, ETH_ALEN);
	ck_assert_uint_eq(be16_get(r->data + 12), ETH_TYPE_IPV4);
	ck_assert_ptr_null(ipv4_parse(r->data + L3, r->len - L3, ip));
	ck_assert_uint_eq(ip->src, HOST);
	ck_assert_uint_eq(ip->dst, PEER);
	ck_assert_uint_eq(ip->proto, IP_PROTO_UDP);
	ck_assert_uint_eq(ip->ttl, IPV4_DEFAULT_TTL);
	/* IP_MTU_DISCOVER's default, WANT, as Linux: DF on what fits */
	ck_assert_uint_eq(ip->frag & IPV4_FLAG_DF, IPV4_FLAG_DF);
	ck_assert_ptr_null(udp_parse(r->data + L4, ip->total_len - IPV4_HDR_LEN, u));
	ck_assert_uint_eq(u->len, ip->total_len - IPV4_HDR_LEN);
	ck_assert_uint_ne(u->checksum, 0);
	ck_assert_uint_eq(sum_udp(HOST, PEER, r->data + L4, u->len), 0);
	return r;
}

/* Builds the ICMP error type/code that the peer would send about the IP
 * datagram at dgram (qlen bytes quoted), to the host. Returns the frame
 * length. */
static size_t icmp_error_frame(uint8_t *f, uint8_t type, uint8_t code, const uint8_t *dgram,
			       size_t qlen)
{
	uint8_t m[600];
	ck_assert_uint_le(qlen, sizeof(m) - ICMP_HDR_LEN);
	memset(m, 0, ICMP_HDR_LEN);
	m[0] = type;
	m[1] = code;
	memcpy(m + ICMP_HDR_LEN, dgram, qlen);
	be16_put(m + 2, inet_csum(m, ICMP_HDR_LEN + qlen));
	return build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, IP_PROTO_ICMP, m,
				ICMP_HDR_LEN + qlen);
}

/* ---- Codec ---- */

START_TEST(test_parse_captured)
{
	uint8_t f[256], out[UDP_HDR_LEN];
	struct udp_hdr h;
	size_t n = vector_frame("udp-port-unreachable.pcap", 1, f, sizeof(f));

	ck_assert_ptr_null(udp_parse(f + L4, n - L4, &h));
	ck_assert_uint_eq(h.sport, 34586);
	ck_assert_uint_eq(h.dport, 4444);
	ck_assert_uint_eq(h.len, 11);
	ck_assert_uint_eq(h.checksum, 0xe0f5);
	ck_assert_uint_eq(sum_udp(PEER, HOST, f + L4, h.len), 0);
	udp_emit(&h, out);
	ck_assert_mem_eq(out, f + L4, UDP_HDR_LEN);

	/* dig's queries and dnsmasq's answers: every checksum verifies over
	 * the pseudo-header, in both directions */
	for (int i = 3; i <= 14; i++) {
		n = vector_frame("dns.pcap", i, f, sizeof(f));
		struct ipv4_hdr ip;
		ck_assert_ptr_null(ipv4_parse(f + L3, n - L3, &ip));
		ck_assert_uint_eq(ip.proto, IP_PROTO_UDP);
		ck_assert_ptr_null(udp_parse(f + L4, ip.total_len - IPV4_HDR_LEN, &h));
		ck_assert_uint_eq(h.len, ip.total_len - IPV4_HDR_LEN);
		ck_assert_uint_eq(i % 2 ? h.dport : h.sport, 53);
		ck_assert_uint_eq(sum_udp(ip.src, ip.dst, f + L4, h.len), 0);
		/* one bit changed anywhere breaks it */
		f[n - 1] ^= 0x20;
		ck_assert_uint_ne(sum_udp(ip.src, ip.dst, f + L4, h.len), 0);
		udp_emit(&h, out);
		ck_assert_mem_eq(out, f + L4, UDP_HDR_LEN);
	}
}
END_TEST

START_TEST(test_parse_malformed)
{
	uint8_t u[16] = { 0x87, 0x1a, 0x11, 0x5c, 0x00, 0x0b, 0xe0, 0xf5, 'h', 'i', '\n' };
	struct udp_hdr h;

	ck_assert_ptr_null(udp_parse(u, 11, &h));
	ck_assert_str_eq(udp_parse(u, 7, &h), "udp.short");
	ck_assert_str_eq(udp_parse(u, 0, &h), "udp.short");
	/* the length field promises more than IP carries */
	ck_assert_str_eq(udp_parse(u, 10, &h), "udp.bad_length");
	/* IP carries more than the length field: fine, the field rules */
	ck_assert_ptr_null(udp_parse(u, 16, &h));
	ck_assert_uint_eq(h.len, 11);
	/* shorter than its own header */
	be16_put(u + 4, 7);
	ck_assert_str_eq(udp_parse(u, 11, &h), "udp.bad_length");
	be16_put(u + 4, 0);
	ck_assert_str_eq(udp_parse(u, 11, &h), "udp.bad_length");
	be16_put(u + 4, 8);
	ck_assert_ptr_null(udp_parse(u, 11, &h));
}
END_TEST

/* RFC 8200 8.1: the IPv6 pseudo-header, checked on a captured ICMPv6 echo
 * (ICMPv6 covers the same pseudo-header as UDP over IPv6). */
START_TEST(test_pseudo_sum_ipv6)
{
	uint8_t f[256];
	size_t n = vector_frame("ipv6-ndp-echo.pcap", 3, f, sizeof(f));
	struct ipaddr src = { .family = AF_INET6 }, dst = { .family = AF_INET6 };
	memcpy(src.a, f + L3 + 8, 16);
	memcpy(dst.a, f + L3 + 24, 16);
	size_t plen = be16_get(f + L3 + 4);
	ck_assert_uint_eq(plen, n - L3 - 40);

	uint32_t ph = ip_pseudo_sum(&src, &dst, IP_PROTO_ICMPV6, (uint32_t)plen);
	ck_assert_uint_eq(csum_fold(csum_partial(f + L3 + 40, plen, ph)), 0);
	ph = ip_pseudo_sum(&src, &dst, IP_PROTO_UDP, (uint32_t)plen);
	ck_assert_uint_ne(csum_fold(csum_partial(f + L3 + 40, plen, ph)), 0);

	/* and the IPv4 form is ipv4_pseudo_sum's */
	struct ipaddr a = ipaddr_v4(PEER), b = ipaddr_v4(HOST);
	ck_assert_uint_eq(ip_pseudo_sum(&a, &b, IP_PROTO_UDP, 11),
			  ipv4_pseudo_sum(PEER, HOST, IP_PROTO_UDP, 11));
}
END_TEST

/* ---- The IP glue ---- */

START_TEST(test_ip_helpers)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", "10.0.0.1");
	struct ipaddr a, src;

	a = ipaddr_v4(HOST);
	ck_assert(ip_is_local(&h.s, &a));
	a = ipaddr_v4(PEER);
	ck_assert(!ip_is_local(&h.s, &a));
	a = ipaddr_v4(0);
	ck_assert(!ip_is_local(&h.s, &a));

	uint32_t bc[] = { IP4_BROADCAST, BCAST, IP(224, 0, 0, 1), IP(239, 1, 2, 3) };
	for (size_t i = 0; i < sizeof(bc) / sizeof(bc[0]); i++) {
		a = ipaddr_v4(bc[i]);
		ck_assert(ip_is_broadcast(&h.s, &a));
	}
	uint32_t not_bc[] = { HOST, PEER, IP(10, 0, 1, 255), IP(8, 8, 8, 8) };
	for (size_t i = 0; i < sizeof(not_bc) / sizeof(not_bc[0]); i++) {
		a = ipaddr_v4(not_bc[i]);
		ck_assert(!ip_is_broadcast(&h.s, &a));
	}

	/* RFC 1122 3.3.4.3: the outgoing interface's address, on-link or
	 * through the gateway, broadcasts included */
	uint32_t dsts[] = { PEER, IP(8, 8, 8, 8), IP4_BROADCAST, BCAST };
	for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		a = ipaddr_v4(dsts[i]);
		memset(&src, 0, sizeof(src));
		ck_assert_int_eq(ip_select_source(&h.s, &a, &src), 0);
		ck_assert_uint_eq(src.family, AF_INET);
		ck_assert_uint_eq(ipaddr_to_v4(&src), HOST);
		ck_assert_uint_eq(ip_max_payload(&h.s, &a), 1480);
	}
	harness_fini(&h);

	/* no gateway: off-link destinations have no source and no payload */
	harness_init(&h, "10.0.0.2/24", NULL);
	a = ipaddr_v4(IP(8, 8, 8, 8));
	ck_assert_int_eq(ip_select_source(&h.s, &a, &src), -ENETUNREACH);
	ck_assert_uint_eq(ip_max_payload(&h.s, &a), 0);

	/* IPv6 is not there yet: refused and counted, the packet freed */
	struct ipaddr v6 = { .family = AF_INET6, .a = { 0xfd, [15] = 1 } };
	struct pkt *p = pkt_alloc(8);
	pkt_put(p, 8);
	ck_assert_int_eq(ip_output(&h.s, p, NULL, &v6, IP_PROTO_UDP, 0, IP_DF_DONT), -EAFNOSUPPORT);
	ck_assert_uint_eq(count(&h, "ip.family_unsupported"), 1);
	ck_assert_int_eq(ip_select_source(&h.s, &v6, &src), -ENETUNREACH);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Input ---- */

START_TEST(test_input_delivers)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	int fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, 0, 4444), 0);

	/* Linux's datagram from the capture, to the port we now listen on */
	uint8_t f[128];
	size_t n = vector_frame("udp-port-unreachable.pcap", 1, f, sizeof(f));
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "udp.rx"), 1);
	ck_assert_uint_eq(count(&h, "udp.delivered"), 1);
	expect_recv(fd, "hi\n", 34586);
	expect_empty(fd);
	expect_no_tx(&h);

	net_close(fd);
	harness_fini(&h);
}
END_TEST

START_TEST(test_input_malformed)
{
	uint8_t f[128];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, 0, 4444), 0);
	size_t n;

	/* 7 bytes of UDP */
	static const uint8_t u[7] = { 0x03, 0xe8, 0x11, 0x5c, 0x00, 0x07, 0x00 };
	n = build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, IP_PROTO_UDP, u, sizeof(u));
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "udp.short"), 1);

	/* the length field says more than the datagram holds, or less than 8 */
	n = udp_frame(f, PEER, 1000, HOST, 4444, "abc", 3);
	be16_put(f + L4 + 4, 12);
	inject(&h, f, n);
	be16_put(f + L4 + 4, 7);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "udp.bad_length"), 2);

	/* a damaged byte: the checksum says so */
	n = udp_frame(f, PEER, 1000, HOST, 4444, "abc", 3);
	f[n - 1] ^= 0x01;
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "udp.bad_checksum"), 1);
	/* ... and so does a changed pseudo-header field (another source) */
	n = udp_frame(f, PEER, 1000, HOST, 4444, "abc", 3);
	be32_put(f + L3 + 12, IP(10, 0, 0, 3));
	be16_put(f + L3 + 10, 0);
	be16_put(f + L3 + 10, inet_csum(f + L3, IPV4_HDR_LEN));
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "udp.bad_checksum"), 2);

	/* none of them reached the socket, none was answered */
	expect_empty(fd);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "udp.delivered"), 0);

	/* RFC 768: checksum 0 means none was computed: accepted as it is */
	n = udp_frame(f, PEER, 1000, HOST, 4444, "abc", 3);
	be16_put(f + L4 + 6, 0);
	f[n - 1] = 'x';
	inject(&h, f, n);
	expect_recv(fd, "abx", 1000);

	/* IP carries 10 bytes of data, UDP's length says 3: the length rules
	 * (and the checksum covers those 3) */
	uint8_t d[18];
	struct udp_hdr uh = { .sport = 1000, .dport = 4444, .len = 11 };
	udp_emit(&uh, d);
	memcpy(d + 8, "xyz-padding", 10);
	be16_put(d + 6, sum_udp(PEER, HOST, d, 11));
	n = build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, IP_PROTO_UDP, d, 18);
	inject(&h, f, n);
	expect_recv(fd, "xyz", 1000);

	/* Ethernet padding of a short frame is not data either */
	n = udp_frame(f, PEER, 1000, HOST, 4444, "p", 1);
	memset(f + n, 0xee, 60 - n);
	inject(&h, f, 60);
	expect_recv(fd, "p", 1000);

	expect_no_tx(&h);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* RFC 1122 4.1.3.5 leaves it to the host; like BSD and Linux the most
 * specific socket of the port gets the datagram. The sockets are created in
 * the order that would fool a "first one found" lookup. */
START_TEST(test_demux_precedence)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int conn = udp_socket(&h), spec = udp_socket(&h), wild = udp_socket(&h);
	int other = udp_socket(&h);
	set_int(conn, SO_REUSEADDR, 1);
	set_int(spec, SO_REUSEADDR, 1);
	set_int(wild, SO_REUSEADDR, 1);
	ck_assert_int_eq(bind4(conn, 0, 5000), 0);
	ck_assert_int_eq(connect4(conn, PEER, 6000), 0);
	ck_assert_int_eq(bind4(spec, HOST, 5000), 0);
	ck_assert_int_eq(bind4(wild, 0, 5000), 0);
	/* same hash bucket (5000 + 256), another port */
	ck_assert_int_eq(bind4(other, 0, 5000 + UDP_HASH_SIZE), 0);

	inject_udp(&h, 6000, HOST, 5000, "to conn");
	inject_udp(&h, 6001, HOST, 5000, "to spec");
	inject_udp(&h, 6000, HOST, 5000 + UDP_HASH_SIZE, "to other");
	expect_recv(conn, "to conn", 6000);
	expect_recv(spec, "to spec", 6001);
	expect_recv(other, "to other", 6000);
	expect_empty(conn);
	expect_empty(spec);
	expect_empty(wild);
	expect_empty(other);

	/* a broadcast is not for the socket bound to 10.0.0.2 */
	inject_udp(&h, 6001, BCAST, 5000, "bcast");
	expect_recv(wild, "bcast", 6001);
	expect_empty(spec);

	/* without the specific socket, the wildcard one takes the rest */
	net_close(spec);
	inject_udp(&h, 6001, HOST, 5000, "to wild");
	inject_udp(&h, 6000, HOST, 5000, "to conn");
	expect_recv(wild, "to wild", 6001);
	expect_recv(conn, "to conn", 6000);

	/* a connected socket alone on its port takes only its peer's */
	net_close(wild);
	inject_udp(&h, 6001, HOST, 5000, "stranger");
	expect_empty(conn);
	ck_assert_uint_eq(count(&h, "udp.no_port"), 1);
	struct pkt *r = expect_tx(&h); /* port unreachable, as Linux answers */
	ck_assert_uint_eq(r->data[L4], ICMP_DEST_UNREACH);
	ck_assert_uint_eq(r->data[L4 + 1], ICMP_PORT_UNREACH);
	pkt_free(r);

	expect_no_tx(&h);
	net_close(conn);
	net_close(other);
	harness_fini(&h);
}
END_TEST

/* RFC 1122 4.1.3.1: a datagram for a port nobody listens on gets ICMP port
 * unreachable, the same bytes as Linux sends for the same datagram. */
START_TEST(test_port_unreachable_like_linux)
{
	uint8_t f[128], want[128];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	char *trace = NULL;
	size_t trace_len = 0;
	h.s.trace = open_memstream(&trace, &trace_len);

	size_t n = vector_frame("udp-port-unreachable.pcap", 1, f, sizeof(f));
	size_t wn = vector_frame("udp-port-unreachable.pcap", 2, want, sizeof(want));
	inject(&h, f, n);

	struct pkt *r = expect_tx(&h);
	struct ipv4_hdr ip;
	ck_assert_mem_eq(r->data, want, ETH_HDR_LEN);
	ck_assert_ptr_null(ipv4_parse(r->data + L3, r->len - L3, &ip));
	ck_assert_uint_eq(ip.src, HOST);
	ck_assert_uint_eq(ip.dst, PEER);
	ck_assert_uint_eq(ip.proto, IP_PROTO_ICMP);
	ck_assert_uint_eq(r->len, wn);
	/* type 3 code 3, checksum, the quoted IP header, UDP header and data */
	ck_assert_mem_eq(r->data + L4, want + L4, wn - L4);
	pkt_free(r);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "udp.no_port"), 1);
	ck_assert_uint_eq(count(&h, "icmp.tx_error"), 1);

	fclose(h.s.trace);
	h.s.trace = NULL;
	ck_assert_ptr_nonnull(strstr(trace, "rx UDP 10.0.0.1:34586 -> 10.0.0.2:4444 len 3\n"));
	ck_assert_ptr_nonnull(strstr(trace, "udp no socket for port 4444: port unreachable\n"));
	ck_assert_ptr_nonnull(strstr(trace, "drop udp.no_port"));
	free(trace);
	harness_fini(&h);
}
END_TEST

/* The error quotes as much of the datagram as fits in 576 bytes, as Linux
 * (RFC 1812 4.3.2.3). */
START_TEST(test_port_unreachable_quote_limit)
{
	static uint8_t f[1600];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);

	size_t n = udp_frame(f, PEER, 40000, HOST, 9999, NULL, 1000);
	inject(&h, f, n);
	struct pkt *r = expect_tx(&h);
	struct ipv4_hdr ip;
	struct icmp_hdr ih;
	ck_assert_ptr_null(ipv4_parse(r->data + L3, r->len - L3, &ip));
	ck_assert_uint_eq(ip.total_len, 576);
	ck_assert_ptr_null(icmp_parse(r->data + L4, ip.total_len - IPV4_HDR_LEN, &ih));
	ck_assert_uint_eq(ih.type, ICMP_DEST_UNREACH);
	ck_assert_uint_eq(ih.code, ICMP_PORT_UNREACH);
	ck_assert_uint_eq(ih.rest, 0);
	ck_assert_mem_eq(r->data + L4 + ICMP_HDR_LEN, f + L3, 576 - IPV4_HDR_LEN - ICMP_HDR_LEN);
	pkt_free(r);
	harness_fini(&h);
}
END_TEST

/* RFC 1122 4.1.3.1 / 3.2.2: never an error about a broadcast, IP or link. */
START_TEST(test_no_port_unreachable_for_broadcast)
{
	uint8_t f[128];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);

	inject_udp(&h, 68, BCAST, 9999, NULL);
	inject_udp(&h, 68, IP4_BROADCAST, 9999, NULL);
	size_t n = udp_frame(f, PEER, 68, HOST, 9999, "x", 1);
	memset(f, 0xff, ETH_ALEN); /* to us, but as a link broadcast */
	inject(&h, f, n);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "udp.rx"), 3);
	ck_assert_uint_eq(count(&h, "udp.no_port"), 3);
	ck_assert_uint_eq(count(&h, "icmp.tx_error"), 0);

	/* but a socket on the port gets the broadcast */
	int fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, 0, 9999), 0);
	inject_udp(&h, 68, IP4_BROADCAST, 9999, "dhcp?");
	expect_recv(fd, "dhcp?", 68);
	expect_no_tx(&h);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* UDP has no flow control: a full receive buffer loses datagrams, counted.
 * The buffer counts the memory datagrams hold (a small datagram takes one
 * PKT_SMALL_CAP buffer), as Linux counts skb truesize. */
START_TEST(test_rcvbuf_full)
{
	uint8_t f[1600], buf[1600];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, 0, 7), 0);
	set_int(fd, SO_RCVBUF, 2 * PKT_SMALL_CAP); /* room for two datagrams */

	size_t n = udp_frame(f, PEER, 1000, HOST, 7, NULL, 1000);
	for (int i = 0; i < 3; i++)
		inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "udp.delivered"), 2);
	ck_assert_uint_eq(count(&h, "udp.rcvbuf_full"), 1);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 1000);
	inject(&h, f, n);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "udp.delivered"), 3);
	ck_assert_uint_eq(count(&h, "udp.rcvbuf_full"), 2);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 1000);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 1000);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);

	/* with a huge buffer, the number of datagrams is bounded too */
	set_int(fd, SO_RCVBUF, 16 * 1024 * 1024);
	n = udp_frame(f, PEER, 1000, HOST, 7, NULL, 0);
	for (int i = 0; i < 300; i++)
		inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "udp.rcvbuf_full"), 2 + 300 - 256);
	ck_assert_uint_eq(pkt_in_use(), 256);
	expect_no_tx(&h);

	net_close(fd); /* frees what is queued */
	harness_fini(&h);
}
END_TEST

/* ---- Output ---- */

/* IP_MTU_DISCOVER on a UDP socket (as Linux's, ip(7)): the Don't Fragment
 * flag of what it sends (RFC 1191 3). */
START_TEST(test_ip_mtu_discover)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int fd = udp_socket(&h), v = -1;
	socklen_t vl = sizeof(v);
	static char big[3000];

	ck_assert_int_eq(net_getsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, &vl), 0);
	ck_assert_int_eq(v, IP_PMTUDISC_WANT);
	/* WANT: what fits goes with DF (expect_udp_tx checks it) ... */
	ck_assert_int_eq(sendto4(fd, "x", 1, PEER, 7), 1);
	struct ipv4_hdr ip;
	struct udp_hdr u;
	pkt_free(expect_udp_tx(&h, &ip, &u));
	/* ... what does not fit goes in fragments, without DF */
	ck_assert_int_eq(sendto4(fd, big, sizeof(big), PEER, 7), (int)sizeof(big));
	for (int i = 0; i < 3; i++) {
		struct pkt *r = expect_tx(&h);
		ck_assert_uint_eq(be16_get(r->data + L3 + 6) & IPV4_FLAG_DF, 0);
		pkt_free(r);
	}
	expect_no_tx(&h);

	/* DONT: never DF */
	v = IP_PMTUDISC_DONT;
	ck_assert_int_eq(net_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)), 0);
	ck_assert_int_eq(sendto4(fd, "x", 1, PEER, 7), 1);
	struct pkt *r = expect_tx(&h);
	ck_assert_uint_eq(be16_get(r->data + L3 + 6), 0);
	pkt_free(r);

	/* DO: DF always, and too big for the path is refused */
	v = IP_PMTUDISC_DO;
	ck_assert_int_eq(net_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)), 0);
	vl = sizeof(v);
	ck_assert_int_eq(net_getsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, &vl), 0);
	ck_assert_int_eq(v, IP_PMTUDISC_DO);
	ck_assert_int_eq(sendto4(fd, big, sizeof(big), PEER, 7), -EMSGSIZE);
	ck_assert_uint_eq(count(&h, "ip.tx_too_big"), 1);
	expect_no_tx(&h);

	/* what is not implemented says so; nonsense is invalid */
	v = IP_PMTUDISC_PROBE;
	ck_assert_int_eq(net_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)), -EOPNOTSUPP);
	v = 42;
	ck_assert_int_eq(net_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)), -EINVAL);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

START_TEST(test_sendto_builds_datagram)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	char *trace = NULL;
	size_t trace_len = 0;
	h.s.trace = open_memstream(&trace, &trace_len);
	int fd = udp_socket(&h);

	ck_assert_int_eq(sendto4(fd, "hello", 5, PEER, 7), 5);
	struct ipv4_hdr ip;
	struct udp_hdr u;
	struct pkt *r = expect_udp_tx(&h, &ip, &u);
	ck_assert_uint_eq(ip.total_len, IPV4_HDR_LEN + UDP_HDR_LEN + 5);
	ck_assert_uint_eq(u.dport, 7);
	ck_assert_uint_ge(u.sport, 49152); /* RFC 6056, RFC 6335 6 */
	ck_assert_uint_eq(u.len, UDP_HDR_LEN + 5);
	ck_assert_mem_eq(r->data + L4 + UDP_HDR_LEN, "hello", 5);
	pkt_free(r);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "udp.tx"), 1);

	/* the send bound the socket to that port, on any address */
	uint32_t la;
	uint16_t lp;
	local_of(fd, &la, &lp);
	ck_assert_uint_eq(la, 0);
	ck_assert_uint_eq(lp, u.sport);

	/* and the reply comes back to it */
	inject_udp(&h, 7, HOST, lp, "hello");
	expect_recv(fd, "hello", 7);

	/* an empty datagram is a datagram */
	ck_assert_int_eq(sendto4(fd, "", 0, PEER, 7), 0);
	r = expect_udp_tx(&h, &ip, &u);
	ck_assert_uint_eq(u.len, UDP_HDR_LEN);
	ck_assert_uint_eq(u.sport, lp);
	pkt_free(r);

	fclose(h.s.trace);
	h.s.trace = NULL;
	char line[96];
	snprintf(line, sizeof(line), "tx UDP 10.0.0.2:%u -> 10.0.0.1:7 len 5\n", lp);
	ck_assert_ptr_nonnull(strstr(trace, line));
	free(trace);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* RFC 768: a checksum that sums to 0 is sent as all ones (0 means "none"). */
START_TEST(test_sendto_zero_checksum_sent_as_ffff)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, 0, 5555), 0);

	uint8_t data[2] = { 0, 0 };
	ck_assert_int_eq(sendto4(fd, data, 2, PEER, 7), 2);
	struct ipv4_hdr ip;
	struct udp_hdr u;
	struct pkt *r = expect_udp_tx(&h, &ip, &u);
	pkt_free(r);
	/* data equal to that checksum makes the sum come out as zero */
	be16_put(data, u.checksum);
	ck_assert_int_eq(sendto4(fd, data, 2, PEER, 7), 2);
	r = expect_udp_tx(&h, &ip, &u);
	ck_assert_uint_eq(u.checksum, 0xffff);
	pkt_free(r);

	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* Binds n sockets to port 0 and writes their ports to ports[]. */
static void ephemeral_ports(struct harness *h, int *fds, uint16_t *ports, int n)
{
	uint32_t la;
	for (int i = 0; i < n; i++) {
		fds[i] = udp_socket(h);
		ck_assert_int_eq(bind4(fds[i], 0, 0), 0);
		local_of(fds[i], &la, &ports[i]);
		ck_assert_uint_eq(la, 0);
	}
}

/* RFC 6056: random ports from 49152-65535, from the host's seeded
 * generator, so a seed replays the same ones. */
START_TEST(test_ephemeral_ports)
{
	enum { N = 32 };
	int fds[N];
	uint16_t a[N], b[N], c[N];
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	ephemeral_ports(&h, fds, a, N);
	int consecutive = 0;
	for (int i = 0; i < N; i++) {
		ck_assert_uint_ge(a[i], 49152);
		for (int j = 0; j < i; j++)
			ck_assert_uint_ne(a[i], a[j]);
		if (i && a[i] == a[i - 1] + 1)
			consecutive++;
	}
	ck_assert_int_lt(consecutive, 4);
	for (int i = 0; i < N; i++)
		net_close(fds[i]);
	harness_fini(&h);

	/* the same seed, the same ports */
	harness_init(&h, "10.0.0.2/24", NULL);
	ephemeral_ports(&h, fds, b, N);
	ck_assert_mem_eq(a, b, sizeof(a));
	for (int i = 0; i < N; i++)
		net_close(fds[i]);
	harness_fini(&h);

	/* another seed, other ports */
	harness_init(&h, "10.0.0.2/24", NULL);
	rng_seed(&h.s.rng, 2);
	ephemeral_ports(&h, fds, c, N);
	ck_assert_int_ne(memcmp(a, c, sizeof(a)), 0);
	for (int i = 0; i < N; i++)
		net_close(fds[i]);
	harness_fini(&h);
}
END_TEST

/* An ephemeral port is never one already bound, even when the random start
 * falls on it. */
START_TEST(test_ephemeral_port_skips_bound)
{
	struct harness h;
	uint16_t port;
	uint32_t la;
	int fd, fd2;

	harness_init(&h, "10.0.0.2/24", NULL);
	fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, 0, 0), 0);
	local_of(fd, &la, &port);
	net_close(fd);
	harness_fini(&h);

	/* the same seed picks the same start: now that port is taken */
	harness_init(&h, "10.0.0.2/24", NULL);
	fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, 0, port), 0);
	fd2 = udp_socket(&h);
	ck_assert_int_eq(bind4(fd2, 0, 0), 0);
	uint16_t port2;
	local_of(fd2, &la, &port2);
	ck_assert_uint_ne(port2, port);
	ck_assert_uint_ge(port2, 49152);
	net_close(fd);
	net_close(fd2);
	harness_fini(&h);
}
END_TEST

/* ---- Socket calls ---- */

START_TEST(test_recv_peek_trunc_short)
{
	char buf[64];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	int fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, 0, 7), 0);

	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
	ck_assert_int_eq(net_poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(pfd.revents, POLLOUT);

	inject_udp(&h, 1000, HOST, 7, "hello world");
	inject_udp(&h, 1001, HOST, 7, "second");
	ck_assert_int_eq(net_poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(pfd.revents, POLLIN | POLLOUT);

	/* MSG_PEEK leaves it queued */
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(net_recv(fd, buf, 5, MSG_PEEK), 5);
	ck_assert_str_eq(buf, "hello");
	/* MSG_TRUNC tells the real length */
	ck_assert_int_eq(net_recv(fd, buf, 5, MSG_PEEK | MSG_TRUNC), 11);
	/* a short buffer gets the start; the rest of the datagram is gone */
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(net_recv(fd, buf, 4, 0), 4);
	ck_assert_str_eq(buf, "hell");
	expect_recv(fd, "second", 1001);

	/* MSG_TRUNC without PEEK consumes it too */
	inject_udp(&h, 1000, HOST, 7, "truncated");
	ck_assert_int_eq(net_recv(fd, buf, 2, MSG_TRUNC), 9);
	/* an empty datagram reads as 0 bytes, not "nothing" */
	inject_udp(&h, 1000, HOST, 7, "");
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 0);
	ck_assert_int_eq(net_recv(fd, NULL, 0, 0), -EAGAIN);

	ck_assert_int_eq(net_poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(pfd.revents, POLLOUT);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

START_TEST(test_fionread_next_datagram)
{
	char buf[64];
	int v = -1;
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	int fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, 0, 7), 0);
	ck_assert_int_eq(net_ioctl(fd, FIONREAD, &v), 0);
	ck_assert_int_eq(v, 0);
	inject_udp(&h, 1000, HOST, 7, "hello world");
	inject_udp(&h, 1001, HOST, 7, "second");
	/* the next datagram's length, not the sum (as Linux) */
	ck_assert_int_eq(net_ioctl(fd, FIONREAD, &v), 0);
	ck_assert_int_eq(v, 11);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 11);
	ck_assert_int_eq(net_ioctl(fd, FIONREAD, &v), 0);
	ck_assert_int_eq(v, 6);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

START_TEST(test_bind_errors)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	int a = udp_socket(&h), b = udp_socket(&h), c = udp_socket(&h);

	ck_assert_int_eq(bind4(a, 0, 7), 0);
	ck_assert_int_eq(bind4(a, 0, 8), -EINVAL); /* already bound */
	/* the same port, overlapping addresses */
	ck_assert_int_eq(bind4(b, 0, 7), -EADDRINUSE);
	ck_assert_int_eq(bind4(b, HOST, 7), -EADDRINUSE);
	/* SO_REUSEADDR on one of them is not enough, on both it is */
	set_int(b, SO_REUSEADDR, 1);
	ck_assert_int_eq(bind4(b, HOST, 7), -EADDRINUSE);
	set_int(a, SO_REUSEADDR, 1);
	ck_assert_int_eq(bind4(b, HOST, 7), 0);
	/* a failed bind left c free to bind elsewhere */
	ck_assert_int_eq(bind4(c, HOST, 7), -EADDRINUSE);
	ck_assert_int_eq(bind4(c, HOST, 8), 0);
	net_close(a);
	net_close(b);
	net_close(c);

	/* closing frees the port */
	a = udp_socket(&h);
	ck_assert_int_eq(bind4(a, HOST, 7), 0);
	net_close(a);

	/* not one of our addresses */
	a = udp_socket(&h);
	ck_assert_int_eq(bind4(a, PEER, 7), -EADDRNOTAVAIL);
	ck_assert_int_eq(bind4(a, BCAST, 7), -EADDRNOTAVAIL);
	ck_assert_int_eq(bind4(a, HOST, 7), 0);
	uint32_t la;
	uint16_t lp;
	local_of(a, &la, &lp);
	ck_assert_uint_eq(la, HOST);
	ck_assert_uint_eq(lp, 7);
	net_close(a);
	harness_fini(&h);
}
END_TEST

START_TEST(test_sendto_errors)
{
	static uint8_t big[70000];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int fd = udp_socket(&h);

	/* nowhere to send */
	ck_assert_int_eq(net_send(fd, "x", 1, 0), -EDESTADDRREQ);
	/* RFC 768: the length field is 16 bits; 65535 - 20 - 8 is the most */
	ck_assert_int_eq(sendto4(fd, big, UDP_MAX_PAYLOAD + 1, PEER, 7), -EMSGSIZE);
	ck_assert_int_eq(sendto4(fd, big, sizeof(big), PEER, 7), -EMSGSIZE);
	/* no route (no gateway) */
	ck_assert_int_eq(sendto4(fd, "x", 1, IP(8, 8, 8, 8), 7), -ENETUNREACH);
	ck_assert_int_eq(connect4(fd, IP(8, 8, 8, 8), 7), -ENETUNREACH);
	expect_no_tx(&h);
	ck_assert_int_eq(net_send(-1, "x", 1, 0), -EBADF);
	ck_assert_uint_eq(pkt_in_use(), 0);

	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* A bound socket sends from its address; sending from an unbound one to a
 * broadcast uses the interface's. */
START_TEST(test_sendto_source_address)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, HOST, 2000), 0);

	ck_assert_int_eq(sendto4(fd, "x", 1, BCAST, 7), 1);
	struct pkt *r = expect_tx(&h);
	ck_assert_mem_eq(r->data, "\xff\xff\xff\xff\xff\xff", ETH_ALEN);
	struct ipv4_hdr ip;
	ck_assert_ptr_null(ipv4_parse(r->data + L3, r->len - L3, &ip));
	ck_assert_uint_eq(ip.src, HOST);
	ck_assert_uint_eq(ip.dst, BCAST);
	ck_assert_uint_eq(be16_get(r->data + L4), 2000);
	ck_assert_uint_eq(sum_udp(HOST, BCAST, r->data + L4, UDP_HDR_LEN + 1), 0);
	pkt_free(r);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

START_TEST(test_connected_socket)
{
	char buf[64];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int fd = udp_socket(&h);

	ck_assert_int_eq(connect4(fd, PEER, 9), 0);
	/* connect bound an ephemeral port and chose the source address */
	uint32_t la;
	uint16_t lp;
	local_of(fd, &la, &lp);
	ck_assert_uint_eq(la, HOST);
	ck_assert_uint_ge(lp, 49152);
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	ck_assert_int_eq(net_getpeername(fd, (struct sockaddr *)&peer, &plen), 0);
	ck_assert_uint_eq(ntohl(peer.sin_addr.s_addr), PEER);
	ck_assert_uint_eq(ntohs(peer.sin_port), 9);

	/* send() goes to the peer */
	ck_assert_int_eq(net_send(fd, "abc", 3, 0), 3);
	struct ipv4_hdr ip;
	struct udp_hdr u;
	struct pkt *r = expect_udp_tx(&h, &ip, &u);
	ck_assert_uint_eq(u.sport, lp);
	ck_assert_uint_eq(u.dport, 9);
	pkt_free(r);
	/* sendto another address still works, as on Linux */
	ck_assert_int_eq(sendto4(fd, "d", 1, PEER, 10), 1);
	r = expect_udp_tx(&h, &ip, &u);
	ck_assert_uint_eq(u.dport, 10);
	pkt_free(r);

	/* only the peer's datagrams come in */
	inject_udp(&h, 9, HOST, lp, "from peer");
	inject_udp(&h, 10, HOST, lp, "other port");
	expect_recv(fd, "from peer", 9);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);
	pkt_free(expect_tx(&h)); /* the other one got port unreachable */
	expect_no_tx(&h);

	/* AF_UNSPEC dissolves the association: everyone's datagrams come in */
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	ck_assert_int_eq(net_connect(fd, &unspec, sizeof(unspec)), 0);
	ck_assert_int_eq(net_getpeername(fd, (struct sockaddr *)&peer, &plen), -ENOTCONN);
	ck_assert_int_eq(net_send(fd, "x", 1, 0), -EDESTADDRREQ);
	inject_udp(&h, 10, HOST, lp, "other port");
	expect_recv(fd, "other port", 10);

	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* Sends "probe" from fd to the peer's port 9, and makes the peer answer
 * with the ICMP error type/code quoting it. */
static void send_and_refuse(struct harness *h, int fd, uint8_t type, uint8_t code)
{
	ck_assert_int_eq(sendto4(fd, "probe", 5, PEER, 9), 5);
	struct ipv4_hdr ip;
	struct udp_hdr u;
	struct pkt *r = expect_udp_tx(h, &ip, &u);
	uint8_t f[256];
	size_t n = icmp_error_frame(f, type, code, r->data + L3, ip.total_len);
	pkt_free(r);
	inject(h, f, n);
}

/* RFC 1122 4.1.3.3: ICMP errors go up to the application; a connected
 * socket gets port unreachable as -ECONNREFUSED, once. */
START_TEST(test_connected_gets_refused)
{
	char buf[64];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	char *trace = NULL;
	size_t trace_len = 0;
	h.s.trace = open_memstream(&trace, &trace_len);
	int fd = udp_socket(&h);
	ck_assert_int_eq(connect4(fd, PEER, 9), 0);
	uint32_t la;
	uint16_t lp;
	local_of(fd, &la, &lp);

	send_and_refuse(&h, fd, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	ck_assert_uint_eq(count(&h, "icmp.rx_error"), 1);
	ck_assert_uint_eq(count(&h, "udp.icmp_error"), 1);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ck_assert_int_eq(net_poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(pfd.revents, POLLIN | POLLERR);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -ECONNREFUSED);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);

	/* the next send reports it instead, and sends nothing */
	send_and_refuse(&h, fd, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	ck_assert_int_eq(net_send(fd, "x", 1, 0), -ECONNREFUSED);
	expect_no_tx(&h);
	ck_assert_int_eq(net_send(fd, "x", 1, 0), 1);
	pkt_free(expect_tx(&h));

	/* SO_ERROR reads and clears it too */
	send_and_refuse(&h, fd, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	int err = 0;
	socklen_t elen = sizeof(err);
	ck_assert_int_eq(net_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen), 0);
	ck_assert_int_eq(err, ECONNREFUSED);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);

	/* other errors, other numbers */
	send_and_refuse(&h, fd, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EHOSTUNREACH);
	send_and_refuse(&h, fd, ICMP_DEST_UNREACH, ICMP_PROTO_UNREACH);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -ENOPROTOOPT);
	send_and_refuse(&h, fd, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EMSGSIZE);
	send_and_refuse(&h, fd, ICMP_TIME_EXCEEDED, 0);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EHOSTUNREACH);
	send_and_refuse(&h, fd, ICMP_PARAM_PROBLEM, 0);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EPROTO);
	ck_assert_uint_eq(count(&h, "udp.icmp_error"), 8);

	fclose(h.s.trace);
	h.s.trace = NULL;
	char line[128];
	snprintf(line, sizeof(line),
		 "rx ICMP port unreachable from 10.0.0.1 about UDP 10.0.0.2:%u -> 10.0.0.1:9\n",
		 lp);
	ck_assert_ptr_nonnull(strstr(trace, line));
	free(trace);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* An unconnected socket does not see ICMP errors (as on BSD and Linux: the
 * error names one peer, the socket talks to many); nor does a socket
 * connected to someone else. */
START_TEST(test_unconnected_ignores_icmp_error)
{
	char buf[64];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int fd = udp_socket(&h);

	send_and_refuse(&h, fd, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	ck_assert_uint_eq(count(&h, "udp.icmp_error"), 1);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);
	ck_assert_int_eq(sendto4(fd, "x", 1, PEER, 9), 1);
	pkt_free(expect_tx(&h));

	/* connected to port 10: the error about port 9 is not its own */
	ck_assert_int_eq(connect4(fd, PEER, 10), 0);
	send_and_refuse(&h, fd, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);
	ck_assert_uint_eq(count(&h, "udp.icmp_error"), 2);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* ICMP errors that cannot concern one of our sockets are dropped by name. */
START_TEST(test_icmp_error_checks)
{
	uint8_t f[256];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int fd = udp_socket(&h);
	ck_assert_int_eq(connect4(fd, PEER, 9), 0);
	ck_assert_int_eq(net_send(fd, "probe", 5, 0), 5);
	struct pkt *r = expect_tx(&h);
	uint8_t dgram[64];
	size_t dlen = r->len - L3;
	memcpy(dgram, r->data + L3, dlen);
	pkt_free(r);

	/* the quote must hold the IP header and 8 bytes after it */
	size_t n = icmp_error_frame(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, dgram, 27);
	inject(&h, f, n);
	n = icmp_error_frame(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, dgram, 12);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp.error_short_quote"), 2);

	/* about a datagram someone else sent */
	be32_put(dgram + 12, IP(10, 0, 0, 3));
	n = icmp_error_frame(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, dgram, dlen);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp.error_not_ours"), 1);
	be32_put(dgram + 12, HOST);

	/* exactly header + 8 bytes is enough */
	n = icmp_error_frame(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, dgram, 28);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "udp.icmp_error"), 1);
	ck_assert_uint_eq(count(&h, "icmp.rx_error"), 4);
	char buf[8];
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -ECONNREFUSED);
	expect_no_tx(&h);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* A datagram larger than the MTU leaves as IPv4 fragments (RFC 791 3.2)
 * that put back together give the datagram sent. */
START_TEST(test_sendto_fragments)
{
	static uint8_t data[8000], whole[8100];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	int fd = udp_socket(&h);
	ck_assert_int_eq(bind4(fd, 0, 4000), 0);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);

	ck_assert_int_eq(sendto4(fd, data, sizeof(data), PEER, 7), (ssize_t)sizeof(data));
	size_t got = 0, frames = 0;
	uint16_t id = 0;
	bool last = false;
	while (!last) {
		struct pkt *r = expect_tx(&h);
		struct ipv4_hdr ip;
		ck_assert_uint_le(r->len, ETH_MAX_FRAME);
		ck_assert_ptr_null(ipv4_parse(r->data + L3, r->len - L3, &ip));
		if (frames == 0)
			id = ip.id;
		ck_assert_uint_eq(ip.id, id);
		ck_assert_uint_eq(ip.proto, IP_PROTO_UDP);
		size_t off = (size_t)(ip.frag & IPV4_FRAG_MASK) * 8;
		size_t len = ip.total_len - (size_t)ip.ihl * 4;
		ck_assert_uint_eq(off, got);
		ck_assert_uint_le(off + len, sizeof(whole));
		memcpy(whole + off, r->data + L3 + (size_t)ip.ihl * 4, len);
		got += len;
		last = !(ip.frag & IPV4_FLAG_MF);
		if (!last)
			ck_assert_uint_eq(len % 8, 0);
		frames++;
		pkt_free(r);
	}
	expect_no_tx(&h);
	ck_assert_uint_eq(got, UDP_HDR_LEN + sizeof(data));
	ck_assert_uint_eq(frames, 6); /* 5 x 1480 + 608 */
	ck_assert_uint_eq(be16_get(whole + 4), UDP_HDR_LEN + sizeof(data));
	ck_assert_uint_eq(sum_udp(HOST, PEER, whole, got), 0);
	ck_assert_mem_eq(whole + UDP_HDR_LEN, data, sizeof(data));
	net_close(fd);
	harness_fini(&h);
}
END_TEST

Suite *udp_suite(void)
{
	Suite *s = suite_create("udp");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, test_parse_captured);
	tcase_add_test(tc, test_parse_malformed);
	tcase_add_test(tc, test_pseudo_sum_ipv6);
	tcase_add_test(tc, test_ip_helpers);
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_add_test(tc, test_input_delivers);
	tcase_add_test(tc, test_input_malformed);
	tcase_add_test(tc, test_demux_precedence);
	tcase_add_test(tc, test_port_unreachable_like_linux);
	tcase_add_test(tc, test_port_unreachable_quote_limit);
	tcase_add_test(tc, test_no_port_unreachable_for_broadcast);
	tcase_add_test(tc, test_rcvbuf_full);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, test_sendto_builds_datagram);
	tcase_add_test(tc, test_ip_mtu_discover);
	tcase_add_test(tc, test_sendto_zero_checksum_sent_as_ffff);
	tcase_add_test(tc, test_ephemeral_ports);
	tcase_add_test(tc, test_ephemeral_port_skips_bound);
	tcase_add_test(tc, test_sendto_source_address);
	tcase_add_test(tc, test_sendto_fragments);
	suite_add_tcase(s, tc);

	tc = tcase_create("sockets");
	tcase_add_test(tc, test_recv_peek_trunc_short);
	tcase_add_test(tc, test_fionread_next_datagram);
	tcase_add_test(tc, test_bind_errors);
	tcase_add_test(tc, test_sendto_errors);
	tcase_add_test(tc, test_connected_socket);
	tcase_add_test(tc, test_connected_gets_refused);
	tcase_add_test(tc, test_unconnected_ignores_icmp_error);
	tcase_add_test(tc, test_icmp_error_checks);
	suite_add_tcase(s, tc);
	return s;
}

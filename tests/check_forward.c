/* IPv4 forwarding (ip/forward.c, RFC 1812): one host with two interfaces on
 * virtual time, each a recording device, as a router between two LANs:
 *
 *     A 10.1.0.1 --- if0 10.1.0.2 [router] 10.2.0.1 if1 --- R2 10.2.0.2 --- 10.3.0.0/24
 *
 * Each test injects a frame from A on if0 and looks at what leaves by
 * each interface: the datagram passed on with its TTL one less and a
 * header checksum that still verifies, or the ICMP error A should get. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip/icmp.h"
#include "ip/icmpv6.h"
#include "ip/ipv4.h"
#include "ip/ipv6.h"
#include "ip/ndp.h"
#include "ip/route.h"
#include "link/arp.h"
#include "link/eth.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/host.h"
#include "stack/rng.h"
#include "tests/harness.h"

#define IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define A IP(10, 1, 0, 1)    /* a host on LAN 1 */
#define R_IF0 IP(10, 1, 0, 2)
#define R_IF1 IP(10, 2, 0, 1)
#define R2 IP(10, 2, 0, 2)   /* the next router, towards 10.3.0.0/24 */
#define B IP(10, 3, 0, 2)    /* a host beyond R2 */
#define L3 ETH_HDR_LEN

static const uint8_t mac_a[6] = { 0x02, 0, 0x0a, 1, 0, 1 };
static const uint8_t mac_r0[6] = { 0x02, 0, 0x0a, 1, 0, 2 };
static const uint8_t mac_r1[6] = { 0x02, 0, 0x0a, 2, 0, 1 };
static const uint8_t mac_r2[6] = { 0x02, 0, 0x0a, 2, 0, 2 };

struct router {
	struct stack s;
	struct netdev *dev[2];
	struct netif *ifp[2];
	int64_t now;
};

static uint64_t count(struct router *r, const char *name)
{
	return stats_get(&r->s.stats, name);
}

/* A neighbor on interface i asks who has tpa: the router learns it (RFC
 * 826's merge), and its answer is thrown away. */
static void learn(struct router *r, int i, const uint8_t mac[6], uint32_t ip, uint32_t tpa)
{
	uint8_t f[ETH_MIN_FRAME];
	struct eth_hdr eh = { .type = ETH_TYPE_ARP };
	struct arp_msg m = {
		.htype = ARP_HTYPE_ETHERNET, .ptype = ETH_TYPE_IPV4, .hlen = 6, .plen = 4,
		.op = ARP_OP_REQUEST, .spa = ip, .tpa = tpa,
	};
	memcpy(eh.dst, eth_broadcast, 6);
	memcpy(eh.src, mac, 6);
	memcpy(m.sha, mac, 6);
	memset(f, 0, sizeof(f));
	eth_emit(&eh, f);
	arp_emit(&m, f + ETH_HDR_LEN);
	testdev_inject(r->dev[i], f, sizeof(f));
	stack_poll(&r->s, r->now);
	pkt_free(testdev_take_sent(r->dev[i]));
}

/* The router of the picture, forwarding on (or off), its neighbors A and
 * R2 known, a route to 10.3.0.0/24 via R2. */
static void router_init(struct router *r, bool forward)
{
	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(pkt_in_use(), 0);
	stack_init(&r->s, "", 1);
	if (getenv("TAPSTACK_TEST_TRACE"))
		r->s.trace = stderr;
	const uint8_t *macs[2] = { mac_r0, mac_r1 };
	const uint32_t addrs[2] = { R_IF0, R_IF1 };
	for (int i = 0; i < 2; i++) {
		r->dev[i] = testdev_new();
		snprintf(r->dev[i]->name, sizeof(r->dev[i]->name), "if%d", i);
		r->ifp[i] = stack_add_netif(&r->s, r->dev[i], macs[i]);
		ck_assert_ptr_nonnull(r->ifp[i]);
		r->ifp[i]->ip6.mld.off = true;
		ck_assert_int_eq(stack_set_ipv4(&r->s, r->ifp[i], addrs[i], 24), 0);
	}
	struct route rt = { .prefix = ipaddr_v4(IP(10, 3, 0, 0)), .len = 24,
			    .gw = ipaddr_v4(R2), .ifindex = 1 };
	ck_assert_int_eq(route_add(&r->s.routes, &rt), 0);
	r->s.ip_forward = forward;
	stack_start(&r->s, r->now);
	for (int i = 0; i < 2; i++) {
		while (testdev_sent_count(r->dev[i])) /* the gratuitous ARPs */
			pkt_free(testdev_take_sent(r->dev[i]));
		r->ifp[i]->arp_announces_left = 0;
	}
	learn(r, 0, mac_a, A, R_IF0);
	learn(r, 1, mac_r2, R2, R_IF1);
}

static void router_fini(struct router *r)
{
	stack_fini(&r->s);
	for (int i = 0; i < 2; i++)
		netdev_close(r->dev[i]);
	ck_assert_int_eq(pkt_in_use(), 0);
}

/* A datagram from src to dst, as A sends it to the router's MAC on if0:
 * TTL ttl, DF if df, plen bytes of UDP-looking payload (a pattern).
 * Returns the frame length. */
static size_t dgram(uint8_t *f, uint32_t src, uint32_t dst, uint8_t ttl, bool df, size_t plen)
{
	uint8_t payload[2000];
	ck_assert_uint_le(plen, sizeof(payload));
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	size_t n = build_ipv4_frame(f, mac_r0, mac_a, src, dst, IP_PROTO_UDP, payload, plen);
	uint8_t *ip = f + L3;
	ip[8] = ttl;
	if (df)
		be16_put(ip + 6, IPV4_FLAG_DF);
	be16_put(ip + 10, 0);
	be16_put(ip + 10, inet_csum(ip, IPV4_HDR_LEN));
	return n;
}

static void from_a(struct router *r, const uint8_t *f, size_t n)
{
	testdev_inject(r->dev[0], f, n);
	stack_poll(&r->s, r->now);
}

/* The next frame interface i sent, or NULL. */
static struct pkt *sent(struct router *r, int i)
{
	return testdev_take_sent(r->dev[i]);
}

/* Checks that p is an ICMP error to A from the router's if0 address with
 * this type and code; returns the ICMP header (p->data + L3 + 20). */
static const uint8_t *expect_icmp_to_a(struct pkt *p, uint8_t type, uint8_t code)
{
	struct ipv4_hdr ip;
	ck_assert_ptr_nonnull(p);
	ck_assert_mem_eq(p->data, mac_a, 6);
	ck_assert_ptr_null(ipv4_parse(p->data + L3, p->len - L3, &ip));
	ck_assert_uint_eq(ip.proto, IP_PROTO_ICMP);
	ck_assert_uint_eq(ip.src, R_IF0); /* RFC 1812 4.3.2.4: the interface it leaves by */
	ck_assert_uint_eq(ip.dst, A);
	const uint8_t *icmp = p->data + L3 + IPV4_HDR_LEN;
	ck_assert_uint_eq(icmp[0], type);
	ck_assert_uint_eq(icmp[1], code);
	ck_assert_uint_eq(inet_csum(icmp, ip.total_len - IPV4_HDR_LEN), 0);
	return icmp;
}

/* ---- Forwarded ---- */

START_TEST(test_crosses_with_ttl_decremented)
{
	struct router r;
	router_init(&r, true);
	uint8_t f[200];
	size_t n = dgram(f, A, B, 64, false, 100);

	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 0));
	struct pkt *p = sent(&r, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->len, n);
	ck_assert_mem_eq(p->data, mac_r2, 6);      /* to the next router */
	ck_assert_mem_eq(p->data + 6, mac_r1, 6);  /* from if1 */
	const uint8_t *ip = p->data + L3;
	ck_assert_uint_eq(ip[8], 63);
	ck_assert_uint_eq(inet_csum(ip, IPV4_HDR_LEN), 0); /* RFC 1624's update is right */
	/* every other byte as A sent it: header (but TTL, checksum) and payload */
	ck_assert_mem_eq(ip, f + L3, 8);
	ck_assert_uint_eq(ip[9], f[L3 + 9]);
	ck_assert_mem_eq(ip + 12, f + L3 + 12, n - L3 - 12);
	pkt_free(p);
	ck_assert_uint_eq(count(&r, "ip.forwarded"), 1);
	/* and to a host on the other LAN itself (connected route): its own MAC
	 * is asked for on if1 */
	n = dgram(f, A, IP(10, 2, 0, 9), 64, false, 10);
	from_a(&r, f, n);
	p = sent(&r, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(be16_get(p->data + 12), ETH_TYPE_ARP);
	pkt_free(p);
	ck_assert_uint_eq(count(&r, "ip.forwarded"), 2);
	router_fini(&r);
}
END_TEST

START_TEST(test_ttl_checksum_wraps)
{
	/* a header whose checksum is 0xffff - x for the TTL word: the
	 * incremental update must give what a full sum gives, for many TTLs */
	struct router r;
	router_init(&r, true);
	for (unsigned ttl = 2; ttl < 256; ttl += 17) {
		uint8_t f[100];
		size_t n = dgram(f, A, B, (uint8_t)ttl, true, 20);
		from_a(&r, f, n);
		struct pkt *p = sent(&r, 1);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(p->data[L3 + 8], ttl - 1);
		ck_assert_uint_eq(inet_csum(p->data + L3, IPV4_HDR_LEN), 0);
		pkt_free(p);
	}
	router_fini(&r);
}
END_TEST

START_TEST(test_our_other_address_is_ours)
{
	/* A pings the router's address on the far side: the router answers
	 * from that address, by if0 (RFC 1812 5.2.3) */
	struct router r;
	router_init(&r, true);
	uint8_t f[200];
	size_t n = build_icmp_frame(f, ICMP_ECHO_REQUEST, A, R_IF1, 7, 1, 16);
	memcpy(f, mac_r0, 6);
	memcpy(f + 6, mac_a, 6);
	from_a(&r, f, n);
	struct pkt *p = sent(&r, 0);
	ck_assert_ptr_nonnull(p);
	struct ipv4_hdr ip;
	ck_assert_ptr_null(ipv4_parse(p->data + L3, p->len - L3, &ip));
	ck_assert_uint_eq(ip.src, R_IF1);
	ck_assert_uint_eq(ip.dst, A);
	ck_assert_uint_eq(p->data[L3 + IPV4_HDR_LEN], ICMP_ECHO_REPLY);
	pkt_free(p);
	ck_assert_ptr_null(sent(&r, 1));
	ck_assert_uint_eq(count(&r, "ip.forwarded"), 0);
	router_fini(&r);
}
END_TEST

/* ---- ICMP errors ---- */

START_TEST(test_ttl_1_time_exceeded)
{
	struct router r;
	router_init(&r, true);
	uint8_t f[200];
	size_t n = dgram(f, A, B, 1, false, 100);

	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 1));
	struct pkt *p = sent(&r, 0);
	const uint8_t *icmp = expect_icmp_to_a(p, ICMP_TIME_EXCEEDED, 0);
	/* it quotes the datagram as it came: header (TTL 1) and its data */
	ck_assert_mem_eq(icmp + ICMP_HDR_LEN, f + L3, n - L3);
	pkt_free(p);
	ck_assert_uint_eq(count(&r, "ip.fwd_ttl_exceeded"), 1);
	ck_assert_uint_eq(count(&r, "ip.forwarded"), 0);
	/* TTL 0 the same */
	n = dgram(f, A, B, 0, false, 8);
	from_a(&r, f, n);
	pkt_free(sent(&r, 0));
	ck_assert_uint_eq(count(&r, "ip.fwd_ttl_exceeded"), 2);
	router_fini(&r);
}
END_TEST

START_TEST(test_no_route_net_unreachable)
{
	struct router r;
	router_init(&r, true);
	uint8_t f[200];
	size_t n = dgram(f, A, IP(192, 168, 9, 9), 64, false, 30);

	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 1));
	struct pkt *p = sent(&r, 0);
	const uint8_t *icmp = expect_icmp_to_a(p, ICMP_DEST_UNREACH, ICMP_NET_UNREACH);
	ck_assert_mem_eq(icmp + ICMP_HDR_LEN, f + L3, n - L3);
	pkt_free(p);
	ck_assert_uint_eq(count(&r, "ip.fwd_no_route"), 1);
	router_fini(&r);
}
END_TEST

START_TEST(test_df_too_big_frag_needed)
{
	struct router r;
	router_init(&r, true);
	r.ifp[1]->mtu = 1000;
	uint8_t f[1400];
	size_t n = dgram(f, A, B, 64, true, 1200);

	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 1));
	struct pkt *p = sent(&r, 0);
	const uint8_t *icmp = expect_icmp_to_a(p, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED);
	ck_assert_uint_eq(be16_get(icmp + 6), 1000); /* RFC 1191 4: the next-hop MTU */
	ck_assert_mem_eq(icmp + ICMP_HDR_LEN, f + L3, IPV4_HDR_LEN + 8);
	pkt_free(p);
	ck_assert_uint_eq(count(&r, "ip.fwd_frag_needed"), 1);
	router_fini(&r);
}
END_TEST

START_TEST(test_too_big_without_df_fragmented)
{
	struct router r;
	router_init(&r, true);
	r.ifp[1]->mtu = 1000;
	uint8_t f[1400];
	size_t n = dgram(f, A, B, 64, false, 1200);

	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 0));
	/* the payload arrives whole across the fragments, each within 1000 */
	uint8_t got[1200];
	size_t total = 0;
	struct pkt *p;
	int frags = 0;
	while ((p = sent(&r, 1)) != NULL) {
		struct ipv4_hdr ip;
		ck_assert_ptr_null(ipv4_parse(p->data + L3, p->len - L3, &ip));
		ck_assert_uint_le(ip.total_len, 1000);
		ck_assert_uint_eq(ip.ttl, 63);
		size_t off = (size_t)(ip.frag & IPV4_FRAG_MASK) * 8, len = ip.total_len - IPV4_HDR_LEN;
		ck_assert_uint_le(off + len, sizeof(got));
		memcpy(got + off, p->data + L3 + IPV4_HDR_LEN, len);
		total += len;
		frags++;
		pkt_free(p);
	}
	ck_assert_int_eq(frags, 2);
	ck_assert_uint_eq(total, 1200);
	ck_assert_mem_eq(got, f + L3 + IPV4_HDR_LEN, 1200);
	ck_assert_uint_eq(count(&r, "ip.fwd_fragmented"), 1);
	router_fini(&r);
}
END_TEST

START_TEST(test_redirect_same_interface)
{
	/* a route back out of if0, via another router on LAN 1: A is told
	 * that 10.1.0.99 is the better first hop, and the datagram still goes */
	struct router r;
	router_init(&r, true);
	struct route rt = { .prefix = ipaddr_v4(IP(10, 9, 0, 0)), .len = 24,
			    .gw = ipaddr_v4(IP(10, 1, 0, 99)), .ifindex = 0 };
	ck_assert_int_eq(route_add(&r.s.routes, &rt), 0);
	uint8_t f[200];
	size_t n = dgram(f, A, IP(10, 9, 0, 1), 64, false, 20);

	from_a(&r, f, n);
	struct pkt *p = sent(&r, 0);
	const uint8_t *icmp = expect_icmp_to_a(p, ICMP_REDIRECT, ICMP_REDIRECT_HOST);
	ck_assert_uint_eq(be32_get(icmp + 4), IP(10, 1, 0, 99));
	ck_assert_mem_eq(icmp + ICMP_HDR_LEN, f + L3, n - L3); /* as it came, TTL 64 */
	pkt_free(p);
	p = sent(&r, 0); /* then the ARP request for 10.1.0.99 it waits on */
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(be16_get(p->data + 12), ETH_TYPE_ARP);
	pkt_free(p);
	ck_assert_uint_eq(count(&r, "ip.fwd_redirect"), 1);
	ck_assert_uint_eq(count(&r, "ip.forwarded"), 1);
	router_fini(&r);
}
END_TEST

START_TEST(test_errors_rate_limited)
{
	/* a flood of TTL 1 at one instant: the first ICMP_ERR_BURST get their
	 * time exceeded, the rest are counted (RFC 1812 4.3.2.8); a second
	 * later the bucket has refilled */
	struct router r;
	router_init(&r, true);
	uint8_t f[100];
	size_t n = dgram(f, A, B, 1, false, 8);
	for (int i = 0; i < ICMP_ERR_BURST + 10; i++)
		from_a(&r, f, n);
	ck_assert_uint_eq(testdev_sent_count(r.dev[0]), ICMP_ERR_BURST);
	ck_assert_uint_eq(count(&r, "icmp.error_rate_limited"), 10);
	ck_assert_uint_eq(count(&r, "ip.fwd_ttl_exceeded"), ICMP_ERR_BURST + 10);
	while (testdev_sent_count(r.dev[0]))
		pkt_free(sent(&r, 0));
	r.now += 1000000;
	from_a(&r, f, n);
	ck_assert_uint_eq(testdev_sent_count(r.dev[0]), 1);
	pkt_free(sent(&r, 0));
	router_fini(&r);
}
END_TEST

START_TEST(test_no_redirect_when_source_routed)
{
	/* RFC 1812 5.2.7.2: not for a datagram with a source route option
	 * (here a loose one, with no address left): forwarded, no redirect */
	struct router r;
	router_init(&r, true);
	struct route rt = { .prefix = ipaddr_v4(IP(10, 9, 0, 0)), .len = 24,
			    .gw = ipaddr_v4(IP(10, 1, 0, 99)), .ifindex = 0 };
	ck_assert_int_eq(route_add(&r.s.routes, &rt), 0);
	static const uint8_t lsrr[4] = { 131, 3, 4, 0 }; /* type, length, pointer, end */
	uint8_t payload[24];
	memcpy(payload, lsrr, 4);
	memset(payload + 4, 0x5a, 20);
	uint8_t f[100];
	size_t n = build_ipv4_frame(f, mac_r0, mac_a, A, IP(10, 9, 0, 1), IP_PROTO_UDP, payload, 24);
	f[L3] = 0x46; /* IHL 6: the first 4 bytes are options */
	be16_put(f + L3 + 10, 0);
	be16_put(f + L3 + 10, inet_csum(f + L3, 24));
	from_a(&r, f, n);
	struct pkt *p = sent(&r, 0); /* only the ARP request for 10.1.0.99 */
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(be16_get(p->data + 12), ETH_TYPE_ARP);
	pkt_free(p);
	ck_assert_ptr_null(sent(&r, 0));
	ck_assert_uint_eq(count(&r, "ip.fwd_redirect"), 0);
	ck_assert_uint_eq(count(&r, "ip.forwarded"), 1);
	router_fini(&r);
}
END_TEST

/* ---- Never forwarded ---- */

START_TEST(test_martians_dropped)
{
	static const struct {
		uint32_t src, dst;
		const char *counter;
	} cases[] = {
		{ IP(0, 1, 2, 3), B, "ip.fwd_martian_source" },
		{ IP(240, 0, 0, 1), B, "ip.fwd_martian_source" },
		{ R_IF1, B, "ip.fwd_martian_source" },          /* our own address, spoofed */
		{ IP(10, 2, 0, 255), B, "ip.fwd_martian_source" }, /* a directed broadcast */
		{ A, IP(127, 0, 0, 1), "ip.fwd_martian_destination" },
		{ A, IP(0, 0, 0, 9), "ip.fwd_martian_destination" },
		{ A, IP(240, 0, 0, 9), "ip.fwd_martian_destination" },
		{ IP(169, 254, 3, 4), B, "ip.fwd_link_local" },
		{ A, IP(169, 254, 3, 4), "ip.fwd_link_local" },
		{ A, IP(10, 2, 0, 255), "ip.fwd_directed_broadcast" },
		{ IP(127, 0, 0, 1), B, "ip.bad_source" },       /* refused before forwarding */
		{ A, IP(224, 0, 0, 5), "ip.multicast_unsupported" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct router r;
		router_init(&r, true);
		uint8_t f[100];
		size_t n = dgram(f, cases[i].src, cases[i].dst, 64, false, 20);
		from_a(&r, f, n);
		ck_assert_msg(sent(&r, 1) == NULL, "case %zu (%s) was forwarded", i, cases[i].counter);
		ck_assert_msg(sent(&r, 0) == NULL, "case %zu (%s) was answered", i, cases[i].counter);
		ck_assert_msg(count(&r, cases[i].counter) == 1, "case %zu: %s not counted", i,
			      cases[i].counter);
		ck_assert_uint_eq(count(&r, "ip.forwarded"), 0);
		router_fini(&r);
	}
}
END_TEST

START_TEST(test_link_broadcast_not_forwarded)
{
	struct router r;
	router_init(&r, true);
	uint8_t f[100];
	size_t n = dgram(f, A, B, 64, false, 20);
	memcpy(f, eth_broadcast, 6);
	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 1));
	ck_assert_ptr_null(sent(&r, 0));
	ck_assert_uint_eq(count(&r, "ip.fwd_link_broadcast"), 1);
	router_fini(&r);
}
END_TEST

START_TEST(test_no_forwarding_without_the_flag)
{
	struct router r;
	router_init(&r, false);
	uint8_t f[200];
	size_t n = dgram(f, A, B, 64, false, 100);
	from_a(&r, f, n);
	n = dgram(f, A, B, 1, false, 100); /* nor a time exceeded: a host is silent */
	from_a(&r, f, n);
	n = build_icmp_frame(f, ICMP_ECHO_REQUEST, A, R_IF1, 7, 1, 16); /* strong host model */
	memcpy(f, mac_r0, 6);
	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 1));
	ck_assert_ptr_null(sent(&r, 0));
	ck_assert_uint_eq(count(&r, "ip.not_for_us"), 3);
	ck_assert_uint_eq(count(&r, "ip.forwarded"), 0);
	router_fini(&r);
}
END_TEST

START_TEST(test_hostile_headers)
{
	/* 3000 datagrams, each a good one with a few header bytes changed at
	 * random (a fixed seed): whatever the router does, nothing leaks
	 * (router_fini), and whatever it forwards has a header that verifies,
	 * with a TTL one less than it came with */
	struct router r;
	router_init(&r, true);
	struct rng g;
	rng_seed(&g, 7);
	for (int i = 0; i < 3000; i++) {
		uint8_t f[200];
		size_t n = dgram(f, A, B, 64, false, 60);
		for (int k = 0; k < 3; k++)
			f[L3 + rng_next(&g) % 24] = (uint8_t)rng_next(&g);
		if (rng_next(&g) % 2) { /* half with a checksum that fits the damage */
			be16_put(f + L3 + 10, 0);
			size_t hl = (size_t)(f[L3] & 0x0f) * 4;
			if (hl >= IPV4_HDR_LEN && hl <= n - L3)
				be16_put(f + L3 + 10, inet_csum(f + L3, hl));
		}
		uint8_t ttl_in = f[L3 + 8];
		from_a(&r, f, n);
		struct pkt *p;
		while ((p = sent(&r, 1)) != NULL) {
			if (be16_get(p->data + 12) == ETH_TYPE_IPV4) {
				size_t hl = (size_t)(p->data[L3] & 0x0f) * 4;
				ck_assert_uint_eq(inet_csum(p->data + L3, hl), 0);
				if (!(be16_get(p->data + L3 + 6) & (IPV4_FLAG_MF | IPV4_FRAG_MASK)))
					ck_assert_uint_eq(p->data[L3 + 8], (uint8_t)(ttl_in - 1));
			}
			pkt_free(p);
		}
		while ((p = sent(&r, 0)) != NULL)
			pkt_free(p);
		r.now += 20000; /* the error bucket refills: errors keep going out */
	}
	ck_assert_uint_gt(count(&r, "ip.forwarded"), 100);
	router_fini(&r);
}
END_TEST

/* ---- The router's command line (stack/host.c) ---- */

/* Parses argv (NULL-ended) as a program does: 0 when every word is a host
 * flag and host_opts_check agrees, else -1. */
static int parse_line(struct host_opts *o, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	host_opts_init(o);
	for (int i = 1; i < argc; i++)
		if (host_opts_parse(o, "test", argc, argv, &i) != 1)
			return -1;
	return host_opts_check(o, "test");
}

START_TEST(test_flags_several_interfaces)
{
	struct host_opts o;
	char *argv[] = { "tapstack", "--tap", "r1a", "--ip", "10.1.0.2/24", "--tap", "r1b",
			 "--ip", "10.2.0.1/24", "--mac", "02:00:00:00:02:01", "--forward",
			 "--route", "10.3.0.0/24", "via", "10.2.0.2", "--route", "10.4.0.0/16 via 10.2.0.3",
			 "--route", "default", "via", "10.1.0.1", "dev", "r1a", "--seed", "1", NULL };
	ck_assert_int_eq(parse_line(&o, argv), 0);
	ck_assert_str_eq(o.tap, "r1a");
	ck_assert_uint_eq(o.ip4, R_IF0);
	ck_assert_int_eq(o.nmore, 1);
	ck_assert_str_eq(o.more[0].tap, "r1b");
	ck_assert_uint_eq(o.more[0].ip4, R_IF1);
	ck_assert_int_eq(o.more[0].ip4_prefix, 24);
	static const uint8_t mac1[6] = { 2, 0, 0, 0, 2, 1 };
	ck_assert_mem_eq(o.more[0].mac, mac1, 6);       /* --mac after the second --tap */
	ck_assert_mem_eq(o.mac, mac_r0, 6);             /* the first's default: 02:00 + its address */
	ck_assert(o.forward);
	ck_assert_int_eq(o.nroutes, 3);
	ck_assert_uint_eq(o.routes[0].prefix, IP(10, 3, 0, 0));
	ck_assert_int_eq(o.routes[0].len, 24);
	ck_assert_uint_eq(o.routes[0].gw, R2);
	ck_assert_uint_eq(o.routes[1].prefix, IP(10, 4, 0, 0)); /* one word with spaces */
	ck_assert_int_eq(o.routes[1].len, 16);
	ck_assert_int_eq(o.routes[2].len, 0);
	ck_assert_str_eq(o.routes[2].dev, "r1a");
}
END_TEST

START_TEST(test_flags_ipv6_routes)
{
	/* --route takes IPv6 prefixes: the gateway on an --ip6 prefix, or
	 * link-local with its dev; default is ::/0 for an IPv6 gateway */
	struct host_opts o;
	char *argv[] = { "tapstack", "--tap", "r1a", "--ip", "10.1.0.2/24", "--ip6", "fd00:1::2/64",
			 "--tap", "r1b", "--ip", "10.2.0.1/24", "--ip6", "fd00:2::1/64", "--forward",
			 "--route", "fd00:3::1/64", "via", "fd00:2::2", "--route", "default via fd00:1::1",
			 "--route", "fd00:4::/48", "via", "fe80::1", "dev", "r1b",
			 "--route", "10.3.0.0/24", "via", "10.2.0.2", "--seed", "1", NULL };
	ck_assert_int_eq(parse_line(&o, argv), 0);
	ck_assert_int_eq(o.nroutes, 4);
	struct ipaddr p3 = v6("fd00:3::"), g2 = v6("fd00:2::2"), g1 = v6("fd00:1::1");
	ck_assert(o.routes[0].v6);
	ck_assert(ipaddr_eq(&o.routes[0].prefix6, &p3)); /* masked to its length */
	ck_assert_int_eq(o.routes[0].len, 64);
	ck_assert(ipaddr_eq(&o.routes[0].gw6, &g2));
	ck_assert(o.routes[1].v6);
	ck_assert_int_eq(o.routes[1].len, 0);
	ck_assert(ipaddr_eq(&o.routes[1].gw6, &g1));
	ck_assert(o.routes[2].v6);
	ck_assert_str_eq(o.routes[2].dev, "r1b");
	ck_assert(!o.routes[3].v6);
	ck_assert_uint_eq(o.routes[3].gw, R2);

	static char *bad[][16] = {
		/* the gateway on no --ip6 prefix */
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--ip6", "fd00:1::2/64", "--route",
		  "fd00:3::/64", "via", "fd00:9::1", NULL },
		/* families mixed */
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--ip6", "fd00:1::2/64", "--route",
		  "10.3.0.0/24", "via", "fd00:1::1", NULL },
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--route", "fd00:3::/64", "via", "10.1.0.1", NULL },
		/* a link-local gateway without its dev */
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--ip6", "fd00:1::2/64", "--route",
		  "fd00:3::/64", "via", "fe80::1", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_line(&o, bad[i]) < 0, "bad line %zu accepted", i);
}
END_TEST

START_TEST(test_flags_one_interface_unchanged)
{
	/* the command line every lab uses still means one interface */
	struct host_opts o;
	char *argv[] = { "tapstack", "--tap", "tap0", "--ip", "10.0.0.2/24", "--gw", "10.0.0.1",
			 "--mac", "02:00:00:00:00:02", "--seed", "1", NULL };
	ck_assert_int_eq(parse_line(&o, argv), 0);
	ck_assert_int_eq(o.nmore, 0);
	ck_assert_int_eq(o.nroutes, 0);
	ck_assert(!o.forward);
	ck_assert_mem_eq(o.mac, t_mac_host, 6);
}
END_TEST

START_TEST(test_flags_refused)
{
	static char *bad[][16] = {
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--tap", "b", NULL }, /* no --ip */
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--tap", "a", "--ip", "10.2.0.1/24", NULL },
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--route", "10.3.0.0/24", "via", "10.9.9.9", NULL },
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--route", "10.3.0.0/24", "gw", "10.1.0.1", NULL },
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--route", "10.3.0.0", "via", "10.1.0.1", NULL },
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--route", "10.3.0.0/24", "via", NULL },
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--tap", "b", "--ip", "10.2.0.1/24", "--route",
		  "10.3.0.0/24", "via", "10.2.0.2", "dev", "a", NULL },   /* gw not on that dev */
		{ "p", "--tap", "a", "--ip", "10.1.0.2/24", "--gw", "10.2.0.1", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct host_opts o;
		ck_assert_msg(parse_line(&o, bad[i]) < 0, "bad line %zu accepted", i);
	}
}
END_TEST

/* ---- IPv6 (ip/forward6.c, RFC 8200, RFC 4443) ----
 *
 * The same router with IPv6 addresses beside the IPv4 ones:
 *
 *     A fd00:1::1 --- if0 fd00:1::2 [router] fd00:2::1 if1 --- R2 fd00:2::2 --- fd00:3::/64
 */
#define A6 "fd00:1::1"
#define R6_IF0 "fd00:1::2"
#define R6_IF1 "fd00:2::1"
#define R2_6 "fd00:2::2"
#define B6 "fd00:3::2"
#define L4_6 (ETH_HDR_LEN + IPV6_HDR_LEN)

/* Ethernet + IPv6 from src to dst (next header nh, hop limit hops) with
 * payload after it, from mac to the router's if i. Returns the length. */
static size_t build6(uint8_t *f, int i, const uint8_t *mac, const char *src, const char *dst,
		     uint8_t nh, uint8_t hops, const uint8_t *payload, size_t plen)
{
	struct eth_hdr e = { .type = ETH_TYPE_IPV6 };
	memcpy(e.dst, i ? mac_r1 : mac_r0, 6);
	memcpy(e.src, mac, 6);
	eth_emit(&e, f);
	struct ipv6_hdr h = {
		.version = 6, .payload_len = (uint16_t)plen, .next = nh, .hop_limit = hops,
		.src = v6(src), .dst = v6(dst),
	};
	ipv6_emit(&h, f + L3);
	memcpy(f + L4_6, payload, plen);
	return L4_6 + plen;
}

/* A neighbor (mac, ip) on interface i asks for the router's address
 * target with its link-layer address: the router learns it (RFC 4861
 * 7.2.3), and its answer is thrown away. */
static void learn6(struct router *r, int i, const uint8_t mac[6], const char *ip, const char *target)
{
	uint8_t msg[ICMP6_HDR_LEN + 24], f[200];
	struct ipaddr t = v6(target), src = v6(ip);
	memcpy(msg + ICMP6_HDR_LEN, t.a, 16);
	msg[ICMP6_HDR_LEN + 16] = NDP_OPT_SLLA;
	msg[ICMP6_HDR_LEN + 17] = 1;
	memcpy(msg + ICMP6_HDR_LEN + 18, mac, 6);
	struct icmpv6_hdr ih = { .type = ICMP6_NEIGHBOR_SOLICIT };
	icmpv6_emit(&ih, msg, sizeof(msg), &src, &t);
	size_t n = build6(f, i, mac, ip, target, IP6_NH_ICMPV6, 255, msg, sizeof(msg));
	testdev_inject(r->dev[i], f, n);
	stack_poll(&r->s, r->now);
	pkt_free(testdev_take_sent(r->dev[i]));
}

/* The router of the picture with IPv6 too: both static addresses past
 * duplicate address detection, a route to fd00:3::/64 via R2, A and R2 in
 * the neighbor cache. */
static void router6_init(struct router *r, bool forward)
{
	router_init(r, forward);
	const char *addrs[2] = { R6_IF0, R6_IF1 };
	for (int i = 0; i < 2; i++) {
		struct ipaddr a = v6(addrs[i]);
		ck_assert_int_eq(ndp_addr_add(&r->s, r->ifp[i], &a, 64), 0);
		r->ifp[i]->ip6.solicit_routers = false;
	}
	struct route rt = { .prefix = v6("fd00:3::"), .len = 64, .gw = v6(R2_6), .ifindex = 1 };
	ck_assert_int_eq(route_add(&r->s.routes, &rt), 0);
	stack_poll(&r->s, r->now);
	r->now += 2 * NDP_RETRANS_US; /* duplicate address detection passes */
	stack_poll(&r->s, r->now);
	for (int i = 0; i < 2; i++)
		while (testdev_sent_count(r->dev[i])) /* the DAD probes */
			pkt_free(testdev_take_sent(r->dev[i]));
	ck_assert_uint_eq(count(r, "ndp.dad_ok"), 4);
	learn6(r, 0, mac_a, A6, R6_IF0);
	learn6(r, 1, mac_r2, R2_6, R6_IF1);
}

/* A datagram from src to dst as a neighbor on if0 (A's MAC) sends it: hop
 * limit hops, plen bytes of UDP-looking payload (a pattern). */
static size_t dgram6(uint8_t *f, const char *src, const char *dst, uint8_t hops, size_t plen)
{
	uint8_t payload[2000];
	ck_assert_uint_le(plen, sizeof(payload));
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	return build6(f, 0, mac_a, src, dst, IP6_NH_UDP, hops, payload, plen);
}

/* Checks that p is an ICMPv6 error to A from the router's if0 address with
 * this type and code and a checksum that verifies; returns the ICMPv6
 * header (p->data + L4_6). */
static const uint8_t *expect_icmp6_to_a(struct pkt *p, uint8_t type, uint8_t code)
{
	struct ipv6_hdr ip;
	struct icmpv6_hdr ih;
	struct ipaddr a = v6(A6), r0 = v6(R6_IF0);
	ck_assert_ptr_nonnull(p);
	ck_assert_mem_eq(p->data, mac_a, 6);
	ck_assert_ptr_null(ipv6_parse(p->data + L3, p->len - L3, &ip));
	ck_assert_uint_eq(ip.next, IP6_NH_ICMPV6);
	ck_assert(ipaddr_eq(&ip.src, &r0)); /* the interface towards A */
	ck_assert(ipaddr_eq(&ip.dst, &a));
	ck_assert_ptr_null(icmpv6_parse(p->data + L4_6, ip.payload_len, &ip.src, &ip.dst, &ih));
	ck_assert_uint_eq(ih.type, type);
	ck_assert_uint_eq(ih.code, code);
	return p->data + L4_6;
}

START_TEST(test6_crosses_with_hop_limit_decremented)
{
	struct router r;
	router6_init(&r, true);
	uint8_t f[300];
	size_t n = dgram6(f, A6, B6, 64, 100);

	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 0));
	struct pkt *p = sent(&r, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->len, n);
	ck_assert_mem_eq(p->data, mac_r2, 6);      /* to the next router */
	ck_assert_mem_eq(p->data + 6, mac_r1, 6);  /* from if1 */
	ck_assert_uint_eq(be16_get(p->data + 12), ETH_TYPE_IPV6);
	const uint8_t *ip = p->data + L3;
	ck_assert_uint_eq(ip[7], 63);
	/* every other byte as A sent it */
	ck_assert_mem_eq(ip, f + L3, 7);
	ck_assert_mem_eq(ip + 8, f + L3 + 8, n - L3 - 8);
	pkt_free(p);
	ck_assert_uint_eq(count(&r, "ip6.forwarded"), 1);
	/* to a host on the other LAN itself (connected route): neighbor
	 * discovery asks for it on if1, and the datagram follows the answer */
	n = dgram6(f, A6, "fd00:2::9", 64, 10);
	from_a(&r, f, n);
	p = sent(&r, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(be16_get(p->data + 12), ETH_TYPE_IPV6);
	ck_assert_uint_eq(p->data[L3 + 6], IP6_NH_ICMPV6);
	ck_assert_uint_eq(p->data[L4_6], ICMP6_NEIGHBOR_SOLICIT);
	pkt_free(p);
	ck_assert_ptr_null(sent(&r, 1));
	ck_assert_uint_eq(count(&r, "ip6.forwarded"), 2);
	router_fini(&r);
}
END_TEST

START_TEST(test6_our_other_address_is_ours)
{
	/* A pings the router's address on the far side: the reply comes from
	 * that address, by if0 */
	struct router r;
	router6_init(&r, true);
	uint8_t msg[ICMP6_HDR_LEN + 16] = { 0 }, f[200];
	struct ipaddr a = v6(A6), d = v6(R6_IF1);
	struct icmpv6_hdr ih = { .type = ICMP6_ECHO_REQUEST, .rest = 0x00070001 };
	icmpv6_emit(&ih, msg, sizeof(msg), &a, &d);
	size_t n = build6(f, 0, mac_a, A6, R6_IF1, IP6_NH_ICMPV6, 64, msg, sizeof(msg));
	from_a(&r, f, n);
	struct pkt *p = sent(&r, 0);
	ck_assert_ptr_nonnull(p);
	struct ipv6_hdr ip;
	ck_assert_ptr_null(ipv6_parse(p->data + L3, p->len - L3, &ip));
	ck_assert(ipaddr_eq(&ip.src, &d));
	ck_assert(ipaddr_eq(&ip.dst, &a));
	ck_assert_uint_eq(p->data[L4_6], ICMP6_ECHO_REPLY);
	pkt_free(p);
	ck_assert_ptr_null(sent(&r, 1));
	ck_assert_uint_eq(count(&r, "ip6.forwarded"), 0);
	router_fini(&r);
}
END_TEST

START_TEST(test6_hop_limit_1_time_exceeded)
{
	struct router r;
	router6_init(&r, true);
	uint8_t f[300];
	size_t n = dgram6(f, A6, B6, 1, 100);

	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 1));
	struct pkt *p = sent(&r, 0);
	const uint8_t *icmp = expect_icmp6_to_a(p, ICMP6_TIME_EXCEEDED, ICMP6_TIME_HOP_LIMIT);
	/* it quotes the datagram as it came (hop limit 1) */
	ck_assert_mem_eq(icmp + ICMP6_HDR_LEN, f + L3, n - L3);
	pkt_free(p);
	ck_assert_uint_eq(count(&r, "ip6.fwd_hop_limit_exceeded"), 1);
	ck_assert_uint_eq(count(&r, "ip6.forwarded"), 0);
	/* hop limit 0 as well */
	n = dgram6(f, A6, B6, 0, 10);
	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 1));
	p = sent(&r, 0);
	expect_icmp6_to_a(p, ICMP6_TIME_EXCEEDED, ICMP6_TIME_HOP_LIMIT);
	pkt_free(p);
	/* and 2 crosses, with 1 left */
	n = dgram6(f, A6, B6, 2, 10);
	from_a(&r, f, n);
	p = sent(&r, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->data[L3 + 7], 1);
	pkt_free(p);
	router_fini(&r);
}
END_TEST

START_TEST(test6_too_big_packet_too_big)
{
	/* the next link carries 1280 bytes: a 1400-byte datagram is not cut
	 * (RFC 8200 5) but answered with packet too big, MTU 1280 */
	struct router r;
	router6_init(&r, true);
	r.ifp[1]->mtu = 1280;
	uint8_t f[1600];
	size_t n = dgram6(f, A6, B6, 64, 1400 - IPV6_HDR_LEN);

	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 1));
	struct pkt *p = sent(&r, 0);
	const uint8_t *icmp = expect_icmp6_to_a(p, ICMP6_PACKET_TOO_BIG, 0);
	ck_assert_uint_eq(be32_get(icmp + 4), 1280);
	/* RFC 4443 2.4 (c): as much of the datagram as fits in 1280 bytes */
	ck_assert_uint_eq(p->len - L3, IPV6_MIN_MTU);
	ck_assert_mem_eq(icmp + ICMP6_HDR_LEN, f + L3, IPV6_MIN_MTU - IPV6_HDR_LEN - ICMP6_HDR_LEN);
	pkt_free(p);
	ck_assert_uint_eq(count(&r, "ip6.fwd_packet_too_big"), 1);
	/* exactly 1280 bytes cross */
	n = dgram6(f, A6, B6, 64, 1280 - IPV6_HDR_LEN);
	from_a(&r, f, n);
	p = sent(&r, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->len - L3, 1280);
	pkt_free(p);
	router_fini(&r);
}
END_TEST

START_TEST(test6_no_route_unreachable)
{
	struct router r;
	router6_init(&r, true);
	uint8_t f[300];
	size_t n = dgram6(f, A6, "fd00:9::1", 64, 50);

	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 1));
	struct pkt *p = sent(&r, 0);
	const uint8_t *icmp = expect_icmp6_to_a(p, ICMP6_DEST_UNREACH, 0); /* no route */
	ck_assert_mem_eq(icmp + ICMP6_HDR_LEN, f + L3, n - L3);
	pkt_free(p);
	ck_assert_uint_eq(count(&r, "ip6.fwd_no_route"), 1);
	router_fini(&r);
}
END_TEST

START_TEST(test6_errors_rate_limited)
{
	/* a burst of expiring datagrams at one instant: errors up to the
	 * bucket's burst (RFC 4443 2.4 (f)), the rest counted */
	struct router r;
	router6_init(&r, true);
	uint8_t f[300];
	size_t n = dgram6(f, A6, B6, 1, 20);
	int errors = 0;

	for (int i = 0; i < 3 * ICMP6_ERR_BURST; i++) {
		from_a(&r, f, n);
		struct pkt *p;
		while ((p = sent(&r, 0)) != NULL) {
			errors++;
			pkt_free(p);
		}
	}
	ck_assert_int_le(errors, ICMP6_ERR_BURST);
	ck_assert_int_gt(errors, 0);
	ck_assert_uint_eq(count(&r, "icmp6.error_rate_limited"), 3 * ICMP6_ERR_BURST - errors);
	ck_assert_uint_eq(count(&r, "ip6.fwd_hop_limit_exceeded"), 3 * ICMP6_ERR_BURST);
	router_fini(&r);
}
END_TEST

START_TEST(test6_never_forwarded)
{
	/* RFC 4291 2.5.2, 2.5.3, 2.5.6: link-local, loopback and unspecified
	 * addresses never cross; nor our own address as the source. Nothing
	 * leaves, not even an error */
	static const struct {
		const char *src, *dst, *reason;
	} bad[] = {
		{ "fe80::1", B6, "ip6.fwd_link_local" },
		{ A6, "fe80::99", "ip6.fwd_link_local" },
		{ "fe80::1", "fe80::99", "ip6.fwd_link_local" },
		{ "::", B6, "ip6.fwd_unspecified_source" },
		{ A6, "::1", "ip6.fwd_loopback" },
		{ "::1", B6, "ip6.fwd_loopback" },
		{ R6_IF1, B6, "ip6.fwd_martian_source" },
	};
	struct router r;
	router6_init(&r, true);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t f[300];
		size_t n = dgram6(f, bad[i].src, bad[i].dst, 64, 20);
		uint64_t before = count(&r, bad[i].reason);
		from_a(&r, f, n);
		ck_assert_msg(count(&r, bad[i].reason) == before + 1, "%s -> %s not counted as %s",
			      bad[i].src, bad[i].dst, bad[i].reason);
		ck_assert_ptr_null(sent(&r, 0));
		ck_assert_ptr_null(sent(&r, 1));
	}
	/* the link-local address of the router's other interface, asked for
	 * on this one: not the router's here (RFC 4007 6), nor forwarded */
	char ll1[IPADDR_STRLEN];
	ipaddr_ntop(&r.ifp[1]->ip6.addr[0].addr, ll1, sizeof(ll1));
	ck_assert(ip6_is_linklocal(&r.ifp[1]->ip6.addr[0].addr));
	uint8_t msg[ICMP6_HDR_LEN + 8] = { 0 }, g[200];
	struct ipaddr src = v6(A6), dst = r.ifp[1]->ip6.addr[0].addr;
	struct icmpv6_hdr ih = { .type = ICMP6_ECHO_REQUEST, .rest = 0x00070001 };
	icmpv6_emit(&ih, msg, sizeof(msg), &src, &dst);
	size_t gn = build6(g, 0, mac_a, A6, ll1, IP6_NH_ICMPV6, 64, msg, sizeof(msg));
	uint64_t ll_before = count(&r, "ip6.fwd_link_local");
	from_a(&r, g, gn);
	ck_assert_uint_eq(count(&r, "ip6.fwd_link_local"), ll_before + 1);
	ck_assert_ptr_null(sent(&r, 0));
	ck_assert_ptr_null(sent(&r, 1));
	/* a unicast destination in a link-layer multicast frame */
	uint8_t f[300];
	size_t n = dgram6(f, A6, B6, 64, 20);
	memcpy(f, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	from_a(&r, f, n);
	ck_assert_uint_eq(count(&r, "ip6.fwd_link_multicast"), 1);
	ck_assert_ptr_null(sent(&r, 0));
	ck_assert_ptr_null(sent(&r, 1));
	ck_assert_uint_eq(count(&r, "ip6.forwarded"), 0);
	router_fini(&r);
}
END_TEST

START_TEST(test6_no_forwarding_without_the_flag)
{
	/* a host (no --forward) drops what is not for it (RFC 8200 2) */
	struct router r;
	router6_init(&r, false);
	uint8_t f[300];
	size_t n = dgram6(f, A6, B6, 64, 20);
	from_a(&r, f, n);
	n = dgram6(f, A6, B6, 1, 20);
	from_a(&r, f, n);
	ck_assert_ptr_null(sent(&r, 0));
	ck_assert_ptr_null(sent(&r, 1));
	ck_assert_uint_eq(count(&r, "ip6.not_for_us"), 2);
	ck_assert_uint_eq(count(&r, "ip6.forwarded"), 0);
	router_fini(&r);
}
END_TEST

Suite *forward_suite(void)
{
	Suite *s = suite_create("forward");
	TCase *tc = tcase_create("forwarded");
	tcase_add_test(tc, test_crosses_with_ttl_decremented);
	tcase_add_test(tc, test_ttl_checksum_wraps);
	tcase_add_test(tc, test_our_other_address_is_ours);
	tcase_add_test(tc, test_too_big_without_df_fragmented);
	tcase_add_test(tc, test_redirect_same_interface);
	tcase_add_test(tc, test_no_redirect_when_source_routed);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_ttl_1_time_exceeded);
	tcase_add_test(tc, test_no_route_net_unreachable);
	tcase_add_test(tc, test_df_too_big_frag_needed);
	tcase_add_test(tc, test_errors_rate_limited);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused");
	tcase_add_test(tc, test_martians_dropped);
	tcase_add_test(tc, test_link_broadcast_not_forwarded);
	tcase_add_test(tc, test_no_forwarding_without_the_flag);
	tcase_add_test(tc, test_hostile_headers);
	suite_add_tcase(s, tc);

	tc = tcase_create("ipv6");
	tcase_add_test(tc, test6_crosses_with_hop_limit_decremented);
	tcase_add_test(tc, test6_our_other_address_is_ours);
	tcase_add_test(tc, test6_hop_limit_1_time_exceeded);
	tcase_add_test(tc, test6_too_big_packet_too_big);
	tcase_add_test(tc, test6_no_route_unreachable);
	tcase_add_test(tc, test6_errors_rate_limited);
	tcase_add_test(tc, test6_never_forwarded);
	tcase_add_test(tc, test6_no_forwarding_without_the_flag);
	suite_add_tcase(s, tc);

	tc = tcase_create("flags");
	tcase_add_test(tc, test_flags_several_interfaces);
	tcase_add_test(tc, test_flags_ipv6_routes);
	tcase_add_test(tc, test_flags_one_interface_unchanged);
	tcase_add_test(tc, test_flags_refused);
	suite_add_tcase(s, tc);
	return s;
}

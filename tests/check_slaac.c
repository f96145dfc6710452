/* SLAAC (RFC 4862 5.4, 5.5), interface identifiers (RFC 7217, RFC 4291
 * appendix A), the router advertisement's parameters (RFC 4861 6.3.4) and
 * MLDv2 (RFC 3810): identifiers against values computed by hand, DAD
 * conflicts that move DAD_Counter on, lifetimes on virtual time with the
 * 2-hour rule, the MTU option's bounds, report bytes against a Linux
 * capture, queries answered within their delay, and malformed RAs and MLD
 * messages dropped under their own counters. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ip/icmpv6.h"
#include "ip/ip.h"
#include "ip/ipv6.h"
#include "ip/mld.h"
#include "ip/ndp.h"
#include "stack/byteorder.h"
#include "stack/siphash.h"
#include "tests/harness.h"

#define L3 ETH_HDR_LEN
#define L4 (ETH_HDR_LEN + IPV6_HDR_LEN)

static const uint8_t key16[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };

static uint64_t count(struct harness *h, const char *name)
{
	return stats_get(&h->s.stats, name);
}

static void assert_addr(const struct ipaddr *a, const char *want)
{
	char t[IPADDR_STRLEN];
	ck_assert_str_eq(ipaddr_ntop(a, t, sizeof(t)), want);
}

/* Ethernet + IPv6 (+ ext, elen bytes of extension headers, first nh) +
 * ICMPv6 message (type, code, rest, body) with a good checksum, from the
 * peer's MAC. Returns the frame length. */
static size_t frame6(uint8_t *f, const uint8_t *dst_mac, const char *src, const char *dst,
		     uint8_t hops, const uint8_t *ext, size_t elen, uint8_t type, uint8_t code,
		     uint32_t rest, const uint8_t *body, size_t blen)
{
	struct eth_hdr e = { .type = ETH_TYPE_IPV6 };
	memcpy(e.dst, dst_mac, ETH_ALEN);
	memcpy(e.src, t_mac_peer, ETH_ALEN);
	eth_emit(&e, f);
	struct ipaddr s = v6(src), d = v6(dst);
	struct ipv6_hdr h = { .version = 6, .payload_len = (uint16_t)(elen + ICMP6_HDR_LEN + blen),
			      .next = elen ? IP6_NH_HOPOPT : IP6_NH_ICMPV6, .hop_limit = hops,
			      .src = s, .dst = d };
	ipv6_emit(&h, f + L3);
	if (elen)
		memcpy(f + L4, ext, elen);
	uint8_t *m = f + L4 + elen;
	memcpy(m + ICMP6_HDR_LEN, body, blen);
	struct icmpv6_hdr ih = { .type = type, .code = code, .rest = rest };
	icmpv6_emit(&ih, m, ICMP6_HDR_LEN + blen, &s, &d);
	return L4 + elen + ICMP6_HDR_LEN + blen;
}

/* An RA body builder: reachable and retrans times, then options. */
struct ra {
	uint8_t b[256];
	size_t n;
};

static void ra_init(struct ra *r, uint32_t reachable_ms, uint32_t retrans_ms)
{
	memset(r, 0, sizeof(*r));
	be32_put(r->b, reachable_ms);
	be32_put(r->b + 4, retrans_ms);
	r->n = 8;
}

/* A prefix information option (RFC 4861 4.6.2). */
static void ra_pio(struct ra *r, const char *prefix, uint8_t len, uint8_t flags, uint32_t valid,
		   uint32_t preferred)
{
	uint8_t *o = r->b + r->n;
	struct ipaddr p = v6(prefix);
	o[0] = NDP_OPT_PREFIX;
	o[1] = 4;
	o[2] = len;
	o[3] = flags;
	be32_put(o + 4, valid);
	be32_put(o + 8, preferred);
	memcpy(o + 16, p.a, 16);
	r->n += 32;
}

/* The MTU option (RFC 4861 4.6.4). */
static void ra_mtu(struct ra *r, uint32_t mtu)
{
	uint8_t *o = r->b + r->n;
	o[0] = NDP_OPT_MTU;
	o[1] = 1;
	be32_put(o + 4, mtu);
	r->n += 8;
}

/* The source link-layer address option with the peer's MAC. */
static void ra_slla(struct ra *r)
{
	uint8_t *o = r->b + r->n;
	o[0] = NDP_OPT_SLLA;
	o[1] = 1;
	memcpy(o + 2, t_mac_peer, 6);
	r->n += 8;
}

/* Injects the RA r from the router fe80::ff:fe00:1 to all nodes, hop limit
 * 255, with this cur hop limit and router lifetime 0 (not a default router:
 * the tests here are about prefixes and parameters). */
static void inject_ra(struct harness *h, const struct ra *r, uint8_t cur_hops)
{
	uint8_t f[400];
	inject(h, f, frame6(f, all_nodes_mac, "fe80::ff:fe00:1", "ff02::1", 255, NULL, 0,
			    ICMP6_ROUTER_ADVERT, 0, (uint32_t)cur_hops << 24, r->b, r->n));
}

/* The harness host with IPv6 on, its link-local address preferred, no
 * router solicitation, the RFC 7217 key set to 00 01 .. 0f, MLD as asked. */
static void harness_slaac(struct harness *h, bool mld)
{
	harness_init(h, "10.0.0.2/24", NULL);
	h->ifp->ip6.mld.off = !mld;
	memcpy(h->s.ndp.iid_key, key16, 16);
	ck_assert_int_eq(ndp_if_enable(&h->s, h->ifp), 0);
	h->ifp->ip6.solicit_routers = false;
	if (!mld) {
		advance(h, 0);
		pkt_free(expect_tx(h)); /* DAD for fe80::ff:fe00:2 */
		advance(h, NDP_RETRANS_US);
		expect_no_tx(h);
	}
}

/* The SLAAC address of ifp, or NULL. */
static struct ip6_ifaddr *slaac_addr(struct harness *h)
{
	for (int i = 0; i < NDP_IF_ADDRS; i++)
		if (h->ifp->ip6.addr[i].state != IP6_ADDR_NONE &&
		    h->ifp->ip6.addr[i].origin == IP6_ORIGIN_SLAAC)
			return &h->ifp->ip6.addr[i];
	return NULL;
}

/* Takes the next frame and checks it is a DAD probe (NS from ::) for want. */
static void expect_dad(struct harness *h, const char *want)
{
	struct pkt *p = expect_tx(h);
	struct ipv6_hdr ip;
	ck_assert_ptr_null(ipv6_parse(p->data + L3, p->len - L3, &ip));
	ck_assert(ip6_is_unspecified(&ip.src));
	ck_assert_uint_eq(p->data[L4], ICMP6_NEIGHBOR_SOLICIT);
	struct ipaddr t = { .family = AF_INET6 };
	memcpy(t.a, p->data + L4 + 8, 16);
	assert_addr(&t, want);
	struct ipaddr sn = ip6_solicited_node(&t);
	ck_assert(ipaddr_eq(&ip.dst, &sn));
	pkt_free(p);
}

/* Injects an NA from another node (its own MAC) claiming target. */
static void inject_conflict(struct harness *h, const struct ipaddr *target)
{
	uint8_t f[200], b[24];
	const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	memcpy(b, target->a, 16);
	b[16] = NDP_OPT_TLLA;
	b[17] = 1;
	memcpy(b + 18, other, 6);
	char t[IPADDR_STRLEN];
	ipaddr_ntop(target, t, sizeof(t));
	inject(h, f, frame6(f, all_nodes_mac, t, "ff02::1", 255, NULL, 0, ICMP6_NEIGHBOR_ADVERT,
			    0, NDP_NA_OVERRIDE, b, sizeof(b)));
}

/* SipHash-2-4 on the reference vector of its paper (appendix A): key 00 01
 * .. 0f, message 00 01 .. 0e (15 bytes). */
START_TEST(test_siphash_vector)
{
	uint8_t m[15];
	for (int i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	ck_assert_uint_eq(siphash24(key16, m, sizeof(m)), 0xa129ca6149be45e5ull);
}
END_TEST

/* RFC 4291 appendix A by hand:
 *   MAC 02:00:00:00:00:02: 02 xor 02 = 00; 00 00 00 | ff fe | 00 00 02
 *     -> identifier 0000:00ff:fe00:0002, in fd00:1::/64: fd00:1::ff:fe00:2
 *   MAC 00:1b:21:0a:0b:0c (universal): 00 xor 02 = 02; 02 1b 21 | ff fe |
 *     0a 0b 0c -> 021b:21ff:fe0a:0b0c
 * RFC 7217 by hand (ndp_addr_stable's layout), key 00 01 .. 0f:
 *   m = fd 00 00 01 00 00 00 00 (the prefix's 64 bits)
 *       74 65 73 74 30          ("test0", the harness's device)
 *       00                      (DAD_Counter)
 *   SipHash-2-4(key, m) = 0x840f0c0857869771 -> fd00:1::840f:c08:5786:9771
 *   with DAD_Counter 1: 0xe51c243f64a4c9ae, 2: 0x6e09a0ef63e52aa7,
 *   3: 0x80ea3c3b3bd18d46 (worked out with a separate SipHash written from
 *   the paper, checked on the vector above). */
START_TEST(test_identifiers)
{
	const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x02 }, uni[6] = { 0x00, 0x1b, 0x21, 0x0a,
								      0x0b, 0x0c };
	struct ipaddr p = v6("fd00:1::");
	struct ipaddr a = ndp_addr_eui64(&p, mac);
	assert_addr(&a, "fd00:1::ff:fe00:2");
	a = ndp_addr_eui64(&p, uni);
	assert_addr(&a, "fd00:1::21b:21ff:fe0a:b0c");
	a = ndp_linklocal(mac);
	assert_addr(&a, "fe80::ff:fe00:2");

	a = ndp_addr_stable(key16, &p, "test0", 0);
	assert_addr(&a, "fd00:1::840f:c08:5786:9771");
	a = ndp_addr_stable(key16, &p, "test0", 1);
	assert_addr(&a, "fd00:1::e51c:243f:64a4:c9ae");
	a = ndp_addr_stable(key16, &p, "test0", 3);
	assert_addr(&a, "fd00:1::80ea:3c3b:3bd1:8d46");
	/* stable: the same inputs give the same address; another prefix,
	 * interface or key another one */
	struct ipaddr b = ndp_addr_stable(key16, &p, "test0", 0), q = v6("fd00:2::");
	ck_assert(ipaddr_eq(&b, &(struct ipaddr){ .family = AF_INET6, .a = { 0xfd, 0, 0, 1, 0, 0, 0,
			0, 0x84, 0x0f, 0x0c, 0x08, 0x57, 0x86, 0x97, 0x71 } }));
	b = ndp_addr_stable(key16, &q, "test0", 0);
	ck_assert_mem_ne(b.a + 8, a.a + 8, 8);
	b = ndp_addr_stable(key16, &p, "tap0", 0);
	ck_assert_mem_ne(b.a + 8, a.a + 8, 8);

	/* RFC 5453 reserved identifiers */
	struct ipaddr r = v6("fd00:1::");
	ck_assert(ndp_iid_reserved(&r));
	r = v6("fd00:1::fdff:ffff:ffff:ff80");
	ck_assert(ndp_iid_reserved(&r));
	r = v6("fd00:1::fdff:ffff:ffff:ff7f");
	ck_assert(!ndp_iid_reserved(&r));
	r = v6("fd00:1::200:5eff:fe00:5213");
	ck_assert(ndp_iid_reserved(&r));
	r = v6("fd00:1::ff:fe00:2");
	ck_assert(!ndp_iid_reserved(&r));
}
END_TEST

/* An RA with prefix fd00:1::/64 (L and A) gives the RFC 7217 address,
 * tentative with its DAD probe on the wire, preferred one RetransTimer
 * later; tapctl addrs shows it. */
START_TEST(test_slaac_from_ra)
{
	struct harness h;
	struct ra r;
	harness_slaac(&h, false);
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_ONLINK | NDP_PREFIX_AUTO, 86400, 14400);
	inject_ra(&h, &r, 0);
	struct ip6_ifaddr *ia = slaac_addr(&h);
	ck_assert_ptr_nonnull(ia);
	assert_addr(&ia->addr, "fd00:1::840f:c08:5786:9771");
	ck_assert_int_eq(ia->state, IP6_ADDR_TENTATIVE);
	ck_assert(!ip_is_local(&h.s, &ia->addr));
	expect_dad(&h, "fd00:1::840f:c08:5786:9771");
	advance(&h, NDP_RETRANS_US);
	ck_assert_int_eq(ia->state, IP6_ADDR_PREFERRED);
	ck_assert(ip_is_local(&h.s, &ia->addr));
	ck_assert_uint_eq(count(&h, "slaac.formed"), 1);

	/* the same RA again forms nothing new */
	inject_ra(&h, &r, 0);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "slaac.formed"), 1);

	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	ck_assert_int_eq(stack_report(&h.s, "addrs", out), 0);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(buf, "test0 fd00:1::840f:c08:5786:9771/64 slaac stable "
					  "dad_counter 0 preferred valid 86400s preferred 14400s\n"));
	ck_assert_ptr_nonnull(strstr(buf, "test0 fe80::ff:fe00:2/64 link-local preferred valid "
					  "forever preferred forever\n"));
	free(buf);
	harness_fini(&h);
}
END_TEST

/* RFC 7217 6: a DAD conflict makes the address again with DAD_Counter + 1,
 * up to IDGEN_RETRIES = 3 times; then it stays a duplicate. With --eui64
 * there is no second identifier (RFC 4862 5.4.5). */
START_TEST(test_dad_conflict_next_counter)
{
	static const char *const want[] = { "fd00:1::840f:c08:5786:9771",
					     "fd00:1::e51c:243f:64a4:c9ae",
					     "fd00:1::6e09:a0ef:63e5:2aa7",
					     "fd00:1::80ea:3c3b:3bd1:8d46" };
	struct harness h;
	struct ra r;
	harness_slaac(&h, false);
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, 86400, 14400);
	inject_ra(&h, &r, 0);
	for (int c = 0; c <= NDP_IDGEN_RETRIES; c++) {
		struct ip6_ifaddr *ia = slaac_addr(&h);
		ck_assert_ptr_nonnull(ia);
		ck_assert_uint_eq(ia->dad_counter, c);
		assert_addr(&ia->addr, want[c]);
		expect_dad(&h, want[c]);
		struct ipaddr a = ia->addr;
		inject_conflict(&h, &a);
	}
	struct ip6_ifaddr *ia = slaac_addr(&h);
	ck_assert_int_eq(ia->state, IP6_ADDR_DUPLICATE);
	ck_assert_uint_eq(count(&h, "slaac.idgen_retry"), 3);
	ck_assert_uint_eq(count(&h, "slaac.idgen_gave_up"), 1);
	ck_assert_uint_eq(count(&h, "ndp.dad_duplicate"), 4);
	advance(&h, 5 * NDP_RETRANS_US);
	expect_no_tx(&h);
	ck_assert_int_eq(ia->state, IP6_ADDR_DUPLICATE);
	harness_fini(&h);

	harness_init(&h, "10.0.0.2/24", NULL);
	h.ifp->ip6.mld.off = true;
	h.ifp->ip6.eui64 = true;
	ndp_if_enable(&h.s, h.ifp);
	h.ifp->ip6.solicit_routers = false;
	advance(&h, 0);
	pkt_free(expect_tx(&h));
	advance(&h, NDP_RETRANS_US);
	inject_ra(&h, &r, 0);
	expect_dad(&h, "fd00:1::ff:fe00:2");
	struct ipaddr e = v6("fd00:1::ff:fe00:2");
	inject_conflict(&h, &e);
	ck_assert_int_eq(slaac_addr(&h)->state, IP6_ADDR_DUPLICATE);
	ck_assert_uint_eq(count(&h, "slaac.idgen_retry"), 0);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* RFC 4862 5.5.4: preferred 10 s, valid 20 s: deprecated at 10 s (still
 * ours, but a preferred address is chosen first as a source), removed at
 * 20 s. */
START_TEST(test_lifetimes)
{
	struct harness h;
	struct ra r;
	harness_slaac(&h, false);
	struct ipaddr stat = v6("fd00:1::2");
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &stat, 64), 0);
	advance(&h, 0);
	pkt_free(expect_tx(&h));
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, 20, 10);
	inject_ra(&h, &r, 0);
	expect_dad(&h, "fd00:1::840f:c08:5786:9771");
	advance(&h, NDP_RETRANS_US);
	struct ip6_ifaddr *ia = slaac_addr(&h);
	struct ipaddr a = ia->addr, src, peer = v6("fd00:1::840f:c08:5786:9700");
	ck_assert_int_eq(ia->state, IP6_ADDR_PREFERRED);
	/* the longest match (RFC 6724 rule 8) while both are preferred */
	ck_assert_int_eq(ipv6_select_source(&h.s, h.ifp, &peer, &src), 0);
	ck_assert(ipaddr_eq(&src, &a));

	advance(&h, 9 * 1000000 - 1);
	ck_assert_int_eq(ia->state, IP6_ADDR_PREFERRED);
	advance(&h, 1);
	ck_assert_int_eq(ia->state, IP6_ADDR_DEPRECATED);
	ck_assert_uint_eq(count(&h, "slaac.deprecated"), 1);
	ck_assert(ip_is_local(&h.s, &a));
	/* rule 3: avoid the deprecated one */
	ck_assert_int_eq(ipv6_select_source(&h.s, h.ifp, &peer, &src), 0);
	ck_assert(ipaddr_eq(&src, &stat));

	advance(&h, 10 * 1000000 - 1);
	ck_assert_int_eq(ia->state, IP6_ADDR_DEPRECATED);
	advance(&h, 1);
	ck_assert_ptr_null(slaac_addr(&h));
	ck_assert(!ip_is_local(&h.s, &a));
	ck_assert_uint_eq(count(&h, "slaac.expired"), 1);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* RFC 4862 5.5.3 e): the valid lifetime of an address formed earlier. */
START_TEST(test_two_hour_rule)
{
	struct harness h;
	struct ra r;
	const int64_t S = 1000000;
	harness_slaac(&h, false);
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, 3 * 3600, 3600);
	inject_ra(&h, &r, 0);
	expect_dad(&h, "fd00:1::840f:c08:5786:9771");
	advance(&h, NDP_RETRANS_US);
	struct ip6_ifaddr *ia = slaac_addr(&h);
	int64_t t0 = h.now - NDP_RETRANS_US;
	ck_assert_int_eq(ia->valid_until, t0 + 3 * 3600 * S);

	/* 3 h left, 60 s advertised: cut to 2 hours, not to 60 s (3.) */
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, 60, 30);
	inject_ra(&h, &r, 0);
	ck_assert_int_eq(ia->valid_until, h.now + 7200 * S);
	ck_assert_int_eq(ia->preferred_until, h.now + 30 * S);
	ck_assert_uint_eq(count(&h, "slaac.two_hour_rule"), 1);

	/* 2 h or less left: a short one is ignored (2.), even 0 */
	advance(&h, 600 * S);
	int64_t kept = ia->valid_until;
	inject_ra(&h, &r, 0);
	ck_assert_int_eq(ia->valid_until, kept);
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, 0, 0);
	inject_ra(&h, &r, 0);
	ck_assert_int_eq(ia->valid_until, kept);
	ck_assert_int_eq(ia->state, IP6_ADDR_DEPRECATED);
	ck_assert_uint_eq(count(&h, "slaac.two_hour_rule"), 3);

	/* longer than what is left: taken (1.), and preferred again */
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, 7000, 100);
	inject_ra(&h, &r, 0);
	ck_assert_int_eq(ia->valid_until, h.now + 7000 * S);
	ck_assert_int_eq(ia->state, IP6_ADDR_PREFERRED);
	/* over two hours: taken; infinite: for ever */
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, NDP_LIFETIME_INFINITE, NDP_LIFETIME_INFINITE);
	inject_ra(&h, &r, 0);
	ck_assert_int_eq(ia->valid_until, INT64_MAX);
	ck_assert_int_eq(ia->preferred_until, INT64_MAX);

	/* a new prefix with valid lifetime 0 forms nothing (d) */
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:2::", 64, NDP_PREFIX_AUTO, 0, 0);
	inject_ra(&h, &r, 0);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "slaac.formed"), 1);
	harness_fini(&h);
}
END_TEST

/* RFC 4861 6.3.4: Cur Hop Limit, Reachable Time, Retrans Timer and the
 * MTU option (4.6.4) at least 1280 and at most the link's MTU. */
START_TEST(test_ra_parameters)
{
	struct harness h;
	struct ra r;
	uint8_t f[200], body[8] = { 0, 1, 0, 1, 'a', 'b', 'c', 'd' };
	harness_slaac(&h, false);
	ck_assert_uint_eq(ndp_link_mtu(h.ifp), 1500);
	ck_assert_uint_eq(ndp_hop_limit(h.ifp), 64);

	ra_init(&r, 10000, 500);
	ra_mtu(&r, 1400);
	ra_slla(&r);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, 86400, 14400);
	inject_ra(&h, &r, 42);
	ck_assert_uint_eq(ndp_link_mtu(h.ifp), 1400);
	ck_assert_uint_eq(ndp_hop_limit(h.ifp), 42);
	ck_assert_int_eq(h.ifp->ip6.reachable_us, 10000000);
	ck_assert_int_eq(h.ifp->ip6.retrans_us, 500000);
	/* the new RetransTimer paces DAD: preferred after 500 ms */
	expect_dad(&h, "fd00:1::840f:c08:5786:9771");
	advance(&h, 500000);
	ck_assert_int_eq(slaac_addr(&h)->state, IP6_ADDR_PREFERRED);

	/* an echo reply to the router (known from the RA's SLLA) goes with hop
	 * limit 42 */
	inject(&h, f, frame6(f, t_mac_host, "fe80::ff:fe00:1", "fe80::ff:fe00:2", 64, NULL, 0,
			     ICMP6_ECHO_REQUEST, 0, 0x00070001, body, sizeof(body)));
	struct pkt *p = expect_tx(&h);
	ck_assert_uint_eq(p->data[L4], ICMP6_ECHO_REPLY);
	ck_assert_uint_eq(p->data[L3 + 7], 42);
	pkt_free(p);

	/* bounds: 1279 and 1501 ignored, 1280 and 1500 taken */
	ra_init(&r, 0, 0);
	ra_mtu(&r, 1279);
	inject_ra(&h, &r, 0);
	ck_assert_uint_eq(ndp_link_mtu(h.ifp), 1400);
	ra_init(&r, 0, 0);
	ra_mtu(&r, 1501);
	inject_ra(&h, &r, 0);
	ck_assert_uint_eq(ndp_link_mtu(h.ifp), 1400);
	ck_assert_uint_eq(count(&h, "ndp.ra_bad_mtu"), 2);
	ra_init(&r, 0, 0);
	ra_mtu(&r, 1280);
	inject_ra(&h, &r, 0);
	ck_assert_uint_eq(ndp_link_mtu(h.ifp), 1280);
	ra_init(&r, 0, 0);
	ra_mtu(&r, 1500);
	inject_ra(&h, &r, 0);
	ck_assert_uint_eq(ndp_link_mtu(h.ifp), 1500);
	/* zeros leave the hop limit and the times as they were */
	ck_assert_uint_eq(ndp_hop_limit(h.ifp), 42);
	ck_assert_int_eq(h.ifp->ip6.retrans_us, 500000);
	harness_fini(&h);
}
END_TEST

/* Options that RFC 4861 and 4862 say to ignore, each counted. */
START_TEST(test_ra_malformed)
{
	struct harness h;
	struct ra r;
	harness_slaac(&h, false);
	ra_init(&r, NDP_MAX_REACHABLE_MS + 1, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, 100, 200);  /* 5.5.3 c) */
	ra_pio(&r, "fd00:2::", 48, NDP_PREFIX_AUTO, 100, 50);   /* 5.5.3 d) */
	ra_pio(&r, "fe80::", 64, NDP_PREFIX_AUTO, 100, 50);     /* 5.5.3 b) */
	ra_pio(&r, "fd00:3::", 64, NDP_PREFIX_ONLINK, 100, 50); /* 5.5.3 a) */
	inject_ra(&h, &r, 0);
	expect_no_tx(&h);
	ck_assert_ptr_null(slaac_addr(&h));
	ck_assert_uint_eq(count(&h, "ndp.ra_bad_reachable"), 1);
	ck_assert_uint_eq(count(&h, "slaac.preferred_over_valid"), 1);
	ck_assert_uint_eq(count(&h, "slaac.bad_prefix_len"), 1);
	ck_assert_uint_eq(count(&h, "slaac.linklocal_prefix"), 1);
	ck_assert_int_eq(h.ifp->ip6.reachable_us, 0);
	/* an option running past the end drops the whole RA */
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, 100, 50);
	r.b[8 + 1] = 5;
	inject_ra(&h, &r, 0);
	ck_assert_uint_eq(count(&h, "ndp.bad_option"), 1);
	ck_assert_ptr_null(slaac_addr(&h));
	harness_fini(&h);
}
END_TEST

/* ---- MLDv2 ---- */

/* Checks that p is an MLDv2 report from src to ff02::16 as RFC 3810 5
 * wants it (group MAC, hop limit 1, Router Alert, good checksum) with one
 * record of type rec for group; frees p. */
static void expect_report(struct pkt *p, const char *src, uint8_t rec, const char *group)
{
	const uint8_t mac16[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };
	struct ipv6_hdr ip;
	struct icmpv6_hdr ih;
	int n;
	ck_assert_mem_eq(p->data, mac16, 6);
	ck_assert_ptr_null(ipv6_parse(p->data + L3, p->len - L3, &ip));
	assert_addr(&ip.src, src);
	assert_addr(&ip.dst, "ff02::16");
	ck_assert_uint_eq(ip.hop_limit, 1);
	ck_assert_uint_eq(ip.next, IP6_NH_HOPOPT);
	ck_assert(mld_has_router_alert(p->data + L3, IPV6_HDR_LEN + MLD_HBH_LEN));
	const uint8_t *m = p->data + L4 + MLD_HBH_LEN;
	size_t mlen = ip.payload_len - MLD_HBH_LEN;
	ck_assert_ptr_null(icmpv6_parse(m, mlen, &ip.src, &ip.dst, &ih));
	ck_assert_uint_eq(ih.type, MLD_V2_REPORT);
	ck_assert_ptr_null(mld_parse_report(m, mlen, &n));
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(m[8], rec);
	struct ipaddr g = { .family = AF_INET6 };
	memcpy(g.a, m + 12, 16);
	assert_addr(&g, group);
	pkt_free(p);
}

/* The report Linux sent in ipv6-router-advert.pcap (frame 2: three
 * CHANGE_TO_EXCLUDE records from fe80::ff:fe00:2), rebuilt byte for byte:
 * hop-by-hop header 3a 00 05 02 00 00 01 00, type 143, checksum 0x6bd0. */
START_TEST(test_report_bytes)
{
	uint8_t v[256], out[256];
	size_t n = vector_frame("ipv6-router-advert.pcap", 2, v, sizeof(v));
	struct mld_record r[3] = {
		{ MLD_CHANGE_TO_EXCLUDE, v6("ff02::1:ff00:0") },
		{ MLD_CHANGE_TO_EXCLUDE, v6("ff05::2") },
		{ MLD_CHANGE_TO_EXCLUDE, v6("ff02::2") },
	};
	struct ipaddr src = v6("fe80::ff:fe00:2");
	size_t len = mld_build_report(out, sizeof(out), r, 3, &src);
	ck_assert_uint_eq(len, 76);
	ck_assert_uint_eq(n, L4 + 76);
	ck_assert_mem_eq(out, v + L4, 76);
	ck_assert_uint_eq(be16_get(out + MLD_HBH_LEN + 2), 0x6bd0);
	ck_assert_uint_eq(mld_build_report(out, 75, r, 3, &src), 0);
	/* the codec reads the captured one back */
	int nrec;
	ck_assert_ptr_null(mld_parse_report(v + L4 + 8, 68, &nrec));
	ck_assert_int_eq(nrec, 3);
	ck_assert(mld_has_router_alert(v + L3, IPV6_HDR_LEN + 8));
	/* RFC 3810 5.1.3: the Maximum Response Code */
	ck_assert_uint_eq(mld_max_resp_ms(10000), 10000);
	ck_assert_uint_eq(mld_max_resp_ms(0x8000), 0x1000 << 3);
	ck_assert_uint_eq(mld_max_resp_ms(0xffff), 0x1fffu << 10);
}
END_TEST

/* RFC 3810 6.1 and 5.2.13, RFC 4862 5.4.2: a host that turns IPv6 on
 * reports its link-local address's solicited-node group from :: before
 * the DAD probe, once more within a second, and nothing after. */
START_TEST(test_join_reports)
{
	struct harness h;
	harness_slaac(&h, true);
	advance(&h, 0);
	expect_report(expect_tx(&h), "::", MLD_CHANGE_TO_EXCLUDE, "ff02::1:ff00:2");
	expect_dad(&h, "fe80::ff:fe00:2");
	expect_no_tx(&h);
	int64_t t0 = h.now;
	advance(&h, MLD_UNSOLICITED_US);
	/* the second report goes within the interval; DAD ends at 1 s */
	struct pkt *p = expect_tx(&h);
	ck_assert_int_le(h.now - t0, MLD_UNSOLICITED_US);
	struct ipv6_hdr ip;
	ipv6_parse(p->data + L3, p->len - L3, &ip);
	expect_report(p, ip6_is_unspecified(&ip.src) ? "::" : "fe80::ff:fe00:2",
		      MLD_CHANGE_TO_EXCLUDE, "ff02::1:ff00:2");
	expect_no_tx(&h);
	advance(&h, 10 * MLD_UNSOLICITED_US);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "mld.tx_report"), 2);
	ck_assert(mld_listening(h.ifp, &(struct ipaddr){ .family = AF_INET6, .a = { 0xff, 2,
			[11] = 1, 0xff, 0, 0, 2 } }));
	harness_fini(&h);
}
END_TEST

/* A query built with the router alert hop-by-hop header. */
static size_t query(uint8_t *f, const char *src, const char *dst, uint8_t hops, bool alert,
		    uint16_t max_resp, const char *group, size_t len)
{
	uint8_t hbh[8] = { IP6_NH_ICMPV6, 0, 5, 2, 0, 0, 1, 0 }, body[64] = { 0 };
	struct ipaddr g = v6(group);
	memcpy(body, g.a, 16);
	body[16] = MLD_ROBUSTNESS;
	body[17] = 125;
	uint8_t dmac[6] = { 0x33, 0x33 };
	struct ipaddr d = v6(dst);
	memcpy(dmac + 2, d.a + 12, 4);
	return frame6(f, dmac, src, dst, hops, alert ? hbh : NULL, alert ? 8 : 0, MLD_QUERY, 0,
		      (uint32_t)max_resp << 16, body, len - ICMP6_HDR_LEN);
}

/* RFC 3810 6.2: a general query is answered with every group (not ff02::1)
 * MODE_IS_EXCLUDE {} within Maximum Response Delay, a specific one for a
 * group of ours likewise, one for another group not at all. */
START_TEST(test_query_answered)
{
	struct harness h;
	uint8_t f[200];
	harness_slaac(&h, true);
	advance(&h, 3 * MLD_UNSOLICITED_US);
	drop_tx(&h);

	int64_t t0 = h.now;
	inject(&h, f, query(f, "fe80::ff:fe00:1", "ff02::1", 1, true, 1000, "::", 28));
	advance(&h, 1000000);
	struct pkt *p = expect_tx(&h);
	expect_report(p, "fe80::ff:fe00:2", MLD_MODE_IS_EXCLUDE, "ff02::1:ff00:2");
	expect_no_tx(&h);
	ck_assert_int_le(h.now - t0, 1000000);
	ck_assert_uint_eq(count(&h, "mld.rx_query"), 1);

	inject(&h, f, query(f, "fe80::ff:fe00:1", "ff02::1:ff00:2", 1, true, 500,
			    "ff02::1:ff00:2", 28));
	advance(&h, 500000);
	expect_report(expect_tx(&h), "fe80::ff:fe00:2", MLD_MODE_IS_EXCLUDE, "ff02::1:ff00:2");
	/* a group we are not in (sent to all nodes so that it gets in) */
	inject(&h, f, query(f, "fe80::ff:fe00:1", "ff02::1", 1, true, 500, "ff02::1:ff00:99", 28));
	advance(&h, 1000000);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "mld.query_other_group"), 1);
	/* Maximum Response Code 0: at once */
	inject(&h, f, query(f, "fe80::ff:fe00:1", "ff02::1", 1, true, 0, "::", 28));
	expect_report(expect_tx(&h), "fe80::ff:fe00:2", MLD_MODE_IS_EXCLUDE, "ff02::1:ff00:2");
	harness_fini(&h);
}
END_TEST

/* RFC 3810 6.1: when the last address in a solicited-node group goes (its
 * valid lifetime ends), CHANGE_TO_INCLUDE {} is reported twice. */
START_TEST(test_leave_reports)
{
	struct harness h;
	struct ra r;
	harness_slaac(&h, true);
	advance(&h, 3 * MLD_UNSOLICITED_US);
	drop_tx(&h);
	ra_init(&r, 0, 0);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_AUTO, 10, 10);
	inject_ra(&h, &r, 0);
	expect_report(expect_tx(&h), "fe80::ff:fe00:2", MLD_CHANGE_TO_EXCLUDE, "ff02::1:ff86:9771");
	expect_dad(&h, "fd00:1::840f:c08:5786:9771");
	advance(&h, 10 * 1000000 - 1);
	expect_report(expect_tx(&h), "fe80::ff:fe00:2", MLD_CHANGE_TO_EXCLUDE, "ff02::1:ff86:9771");
	expect_no_tx(&h);
	advance(&h, 1);
	ck_assert_ptr_null(slaac_addr(&h));
	expect_report(expect_tx(&h), "fe80::ff:fe00:2", MLD_CHANGE_TO_INCLUDE, "ff02::1:ff86:9771");
	advance(&h, MLD_UNSOLICITED_US);
	expect_report(expect_tx(&h), "fe80::ff:fe00:2", MLD_CHANGE_TO_INCLUDE, "ff02::1:ff86:9771");
	advance(&h, 5 * MLD_UNSOLICITED_US);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "mld.leave"), 1);
	harness_fini(&h);
}
END_TEST

/* Malformed or unwanted MLD messages, each under its own counter, and none
 * answered. */
START_TEST(test_mld_malformed)
{
	struct harness h;
	uint8_t f[300];
	harness_slaac(&h, true);
	advance(&h, 3 * MLD_UNSOLICITED_US);
	drop_tx(&h);
	static const struct {
		const char *src;
		uint8_t hops;
		bool alert;
		const char *group;
		size_t len;
		const char *reason;
	} bad[] = {
		{ "fd00::1", 1, true, "::", 28, "mld.bad_source" },
		{ "fe80::ff:fe00:1", 2, true, "::", 28, "mld.bad_hop_limit" },
		{ "fe80::ff:fe00:1", 1, false, "::", 28, "mld.no_router_alert" },
		{ "fe80::ff:fe00:1", 1, true, "::", 24, "mld.v1_query" },
		{ "fe80::ff:fe00:1", 1, true, "::", 20, "mld.short" },
		{ "fe80::ff:fe00:1", 1, true, "fd00::5", 28, "mld.bad_group" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		inject(&h, f, query(f, bad[i].src, "ff02::1", bad[i].hops, bad[i].alert, 100,
				    bad[i].group, bad[i].len));
		ck_assert_msg(count(&h, bad[i].reason) == 1, "%s", bad[i].reason);
	}
	/* a source list longer than the message */
	size_t n = query(f, "fe80::ff:fe00:1", "ff02::1", 1, true, 100, "::", 28);
	uint8_t *m = f + L4 + 8;
	be16_put(m + 26, 1);
	struct icmpv6_hdr ih = { .type = MLD_QUERY, .rest = be32_get(m + 4) };
	struct ipaddr s = v6("fe80::ff:fe00:1"), d = v6("ff02::1");
	icmpv6_emit(&ih, m, 28, &s, &d);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "mld.bad_sources"), 1);

	/* reports: one with a record past the end, one fine (ignored), and
	 * an MLDv1 report */
	uint8_t rep[64];
	struct mld_record r = { MLD_CHANGE_TO_EXCLUDE, v6("ff02::1:ff00:7") };
	size_t rl = mld_build_report(rep, sizeof(rep), &r, 1, &s);
	inject(&h, f, frame6(f, all_nodes_mac, "fe80::ff:fe00:1", "ff02::1", 1, rep, 8,
			     MLD_V2_REPORT, 0, 2, rep + 16, rl - 16));
	ck_assert_uint_eq(count(&h, "mld.bad_record"), 1);
	inject(&h, f, frame6(f, all_nodes_mac, "fe80::ff:fe00:1", "ff02::1", 1, rep, 8,
			     MLD_V2_REPORT, 0, 1, rep + 16, rl - 16));
	ck_assert_uint_eq(count(&h, "mld.report_ignored"), 1);
	rep[16 + 0] = 9; /* record type 9 */
	inject(&h, f, frame6(f, all_nodes_mac, "fe80::ff:fe00:1", "ff02::1", 1, rep, 8,
			     MLD_V2_REPORT, 0, 1, rep + 16, rl - 16));
	ck_assert_uint_eq(count(&h, "mld.bad_record"), 2);
	inject(&h, f, frame6(f, all_nodes_mac, "fe80::ff:fe00:1", "ff02::1", 1, rep, 8,
			     MLD_V1_REPORT, 0, 0, rep + 16, 16));
	ck_assert_uint_eq(count(&h, "mld.v1_ignored"), 1);
	advance(&h, 2 * MLD_UNSOLICITED_US);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* Mangled queries, reports and RAs (bytes flipped, lengths cut, half of
 * them with a good ICMPv6 checksum) neither crash the host, nor leak a
 * buffer, nor grow its tables past their bounds. */
START_TEST(test_mangled_mld_and_ra)
{
	struct harness h;
	struct ra r;
	uint8_t base[4][400], f[400], rep[64];
	size_t len[4];
	uint32_t x = 7217;
	harness_slaac(&h, true);
	len[0] = query(base[0], "fe80::ff:fe00:1", "ff02::1", 1, true, 1000, "::", 28);
	len[1] = query(base[1], "fe80::ff:fe00:1", "ff02::1:ff00:2", 1, true, 100,
		       "ff02::1:ff00:2", 28);
	struct mld_record rec = { MLD_CHANGE_TO_EXCLUDE, v6("ff02::1:ff00:7") };
	struct ipaddr s = v6("fe80::ff:fe00:1");
	size_t rl = mld_build_report(rep, sizeof(rep), &rec, 1, &s);
	len[2] = frame6(base[2], all_nodes_mac, "fe80::ff:fe00:1", "ff02::1", 1, rep, 8,
			MLD_V2_REPORT, 0, 1, rep + 16, rl - 16);
	ra_init(&r, 1000, 1000);
	ra_mtu(&r, 1400);
	ra_pio(&r, "fd00:1::", 64, NDP_PREFIX_ONLINK | NDP_PREFIX_AUTO, 30, 20);
	ra_slla(&r);
	len[3] = frame6(base[3], all_nodes_mac, "fe80::ff:fe00:1", "ff02::1", 255, NULL, 0,
			ICMP6_ROUTER_ADVERT, 0, 64u << 24, r.b, r.n);
	for (int n = 0; n < 4000; n++) {
		int k = n % 4;
		memcpy(f, base[k], len[k]);
		size_t flen = len[k];
		for (int j = 0; j < 3; j++) {
			x = x * 1103515245u + 12345u;
			f[L3 + (x >> 8) % (flen - L3)] ^= (uint8_t)(1u << ((x >> 4) & 7));
		}
		x = x * 1103515245u + 12345u;
		if ((x >> 16) % 5 == 0)
			flen = L3 + (x >> 4) % (flen - L3);
		size_t plen = flen >= L4 ? be16_get(f + L3 + 4) : 0;
		size_t at = L4;
		if (flen >= L4 + 8 && f[L3 + 6] == IP6_NH_HOPOPT)
			at = L4 + ((size_t)f[L4 + 1] + 1) * 8;
		if ((n / 4) % 2 && flen >= L4 && L4 + plen <= flen && at + ICMP6_HDR_LEN <= L4 + plen) {
			struct ipv6_hdr ip;
			ipv6_parse(f + L3, flen - L3, &ip);
			struct icmpv6_hdr ih = { .type = f[at], .code = f[at + 1],
						 .rest = be32_get(f + at + 4) };
			icmpv6_emit(&ih, f + at, L4 + plen - at, &ip.src, &ip.dst);
		}
		inject(&h, f, flen);
		drop_tx(&h);
		if (n % 400 == 0)
			advance(&h, 2000000);
	}
	advance(&h, 60 * 1000000);
	drop_tx(&h);
	ck_assert_uint_eq(count(&h, "ip6.rx"), 4000);
	ck_assert_uint_gt(count(&h, "mld.rx_query"), 0);
	harness_fini(&h);
}
END_TEST

Suite *slaac_suite(void)
{
	Suite *s = suite_create("slaac");
	TCase *c = tcase_create("identifiers");
	tcase_add_test(c, test_siphash_vector);
	tcase_add_test(c, test_identifiers);
	suite_add_tcase(s, c);
	c = tcase_create("slaac");
	tcase_add_test(c, test_slaac_from_ra);
	tcase_add_test(c, test_dad_conflict_next_counter);
	tcase_add_test(c, test_lifetimes);
	tcase_add_test(c, test_two_hour_rule);
	tcase_add_test(c, test_ra_parameters);
	tcase_add_test(c, test_ra_malformed);
	suite_add_tcase(s, c);
	c = tcase_create("mld");
	tcase_add_test(c, test_report_bytes);
	tcase_add_test(c, test_join_reports);
	tcase_add_test(c, test_query_answered);
	tcase_add_test(c, test_leave_reports);
	tcase_add_test(c, test_mld_malformed);
	tcase_add_test(c, test_mangled_mld_and_ra);
	suite_add_tcase(s, c);
	return s;
}

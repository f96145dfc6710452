/* IPv6, ICMPv6 and neighbor discovery: the codecs on the frames of a real
 * `ping -6` (tests/vectors/ipv6-ndp-echo.pcap), duplicate address detection,
 * the answer to a neighbor solicitation and to an echo request byte for byte
 * against Linux's, the NUD states on virtual time, and every malformed
 * datagram dropped under its own counter. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "ip/icmpv6.h"
#include "ip/ip.h"
#include "ip/ipv6.h"
#include "ip/ndp.h"
#include "ip/route.h"
#include "stack/byteorder.h"
#include "tests/harness.h"

#define PCAP "ipv6-ndp-echo.pcap"
#define L3 ETH_HDR_LEN
#define L4 (ETH_HDR_LEN + IPV6_HDR_LEN)

static uint64_t count(struct harness *h, const char *name)
{
	return stats_get(&h->s.stats, name);
}

/* Builds Ethernet + IPv6 (src -> dst, next header nh, hop limit hops) with
 * payload after it. Returns the frame length. */
static size_t build6(uint8_t *buf, const uint8_t *dst_mac, const char *src, const char *dst,
		     uint8_t nh, uint8_t hops, const uint8_t *payload, size_t plen)
{
	struct eth_hdr e = { .type = ETH_TYPE_IPV6 };
	memcpy(e.dst, dst_mac, ETH_ALEN);
	memcpy(e.src, t_mac_peer, ETH_ALEN);
	eth_emit(&e, buf);
	struct ipv6_hdr h = {
		.version = 6, .payload_len = (uint16_t)plen, .next = nh, .hop_limit = hops,
		.src = v6(src), .dst = v6(dst),
	};
	ipv6_emit(&h, buf + L3);
	memcpy(buf + L4, payload, plen);
	return L4 + plen;
}

/* Builds an ICMPv6 message (type, code, rest, then body) in an IPv6 frame
 * with a correct checksum. */
static size_t build_icmp6(uint8_t *buf, const uint8_t *dst_mac, const char *src, const char *dst,
			  uint8_t hops, uint8_t type, uint8_t code, uint32_t rest,
			  const uint8_t *body, size_t blen)
{
	uint8_t msg[1500];
	memcpy(msg + ICMP6_HDR_LEN, body, blen);
	struct icmpv6_hdr ih = { .type = type, .code = code, .rest = rest };
	struct ipaddr s = v6(src), d = v6(dst);
	icmpv6_emit(&ih, msg, ICMP6_HDR_LEN + blen, &s, &d);
	return build6(buf, dst_mac, src, dst, IP6_NH_ICMPV6, hops, msg, ICMP6_HDR_LEN + blen);
}

/* An NS or NA body: target, then (if mac) the link-layer address option. */
static size_t nd_body(uint8_t *b, const char *target, uint8_t opt, const uint8_t *mac)
{
	struct ipaddr t = v6(target);
	memcpy(b, t.a, 16);
	if (!mac)
		return 16;
	b[16] = opt;
	b[17] = 1;
	memcpy(b + 18, mac, ETH_ALEN);
	return 24;
}

/* An NA from fd00::1 to the host with these flags and target MAC. */
static size_t peer_na(uint8_t *f, uint8_t *b, uint32_t flags, const uint8_t *mac)
{
	return build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 255, ICMP6_NEIGHBOR_ADVERT, 0,
			   flags, b, nd_body(b, "fd00::1", NDP_OPT_TLLA, mac));
}

/* The harness host with IPv6 on, fd00::2/64 added, both DAD probes taken
 * off the wire and one second passed, so both addresses are preferred. */
static void harness6(struct harness *h)
{
	harness_init(h, "10.0.0.2/24", NULL);
	struct ipaddr a = v6("fd00::2");
	ck_assert_int_eq(ndp_addr_add(&h->s, h->ifp, &a, 64), 0);
	h->ifp->ip6.solicit_routers = false; /* test_router_discovery covers them */
	advance(h, 0);
	pkt_free(expect_tx(h)); /* DAD for fe80::ff:fe00:2 */
	pkt_free(expect_tx(h)); /* DAD for fd00::2 */
	advance(h, NDP_RETRANS_US);
	expect_no_tx(h);
	ck_assert_uint_eq(count(h, "ndp.dad_ok"), 2);
}

/* The state of fd00::1 in the neighbor cache (NDP_FREE if absent). */
static enum ndp_state peer_state(struct harness *h)
{
	struct ipaddr p = v6("fd00::1");
	struct ndp_entry *e = ndp_cache_lookup(&h->s.ndp, &p);
	return e ? e->state : NDP_FREE;
}

START_TEST(test_codec_on_capture)
{
	uint8_t f[256];
	size_t n = vector_frame(PCAP, 1, f, sizeof(f));
	struct ipv6_hdr h;
	struct icmpv6_hdr ih;
	struct ndp_msg m;

	ck_assert_ptr_null(ipv6_parse(f + L3, n - L3, &h));
	ck_assert_uint_eq(h.version, 6);
	ck_assert_uint_eq(h.payload_len, 32);
	ck_assert_uint_eq(h.next, IP6_NH_ICMPV6);
	ck_assert_uint_eq(h.hop_limit, 255);
	struct ipaddr peer = v6("fd00::1"), sn = v6("ff02::1:ff00:2"), host = v6("fd00::2");
	ck_assert(ipaddr_eq(&h.src, &peer));
	ck_assert(ipaddr_eq(&h.dst, &sn));
	ck_assert_ptr_null(icmpv6_parse(f + L4, 32, &h.src, &h.dst, &ih));
	ck_assert_uint_eq(ih.type, ICMP6_NEIGHBOR_SOLICIT);
	ck_assert_ptr_null(ndp_parse(f + L4, 32, ih.code, &m));
	ck_assert(ipaddr_eq(&m.target, &host));
	ck_assert(m.has_lla);
	ck_assert_mem_eq(m.lla, t_mac_peer, ETH_ALEN);

	n = vector_frame(PCAP, 2, f, sizeof(f));
	ck_assert_ptr_null(ipv6_parse(f + L3, n - L3, &h));
	ck_assert_ptr_null(icmpv6_parse(f + L4, 32, &h.src, &h.dst, &ih));
	ck_assert_ptr_null(ndp_parse(f + L4, 32, ih.code, &m));
	ck_assert_uint_eq(m.flags, NDP_NA_SOLICITED | NDP_NA_OVERRIDE);
	ck_assert_mem_eq(m.lla, t_mac_host, ETH_ALEN);

	n = vector_frame(PCAP, 3, f, sizeof(f));
	ck_assert_ptr_null(ipv6_parse(f + L3, n - L3, &h));
	ck_assert_uint_eq(h.flow, 0xb5674);
	ck_assert_ptr_null(icmpv6_parse(f + L4, h.payload_len, &h.src, &h.dst, &ih));
	ck_assert_uint_eq(ih.type, ICMP6_ECHO_REQUEST);
	ck_assert_uint_eq(ih.rest, 0x1a090001);
	/* one bit flipped: the checksum catches it */
	f[L4 + 20] ^= 1;
	ck_assert_str_eq(icmpv6_parse(f + L4, h.payload_len, &h.src, &h.dst, &ih),
			 "icmp6.bad_checksum");

	/* emit gives back the same bytes */
	uint8_t out[IPV6_HDR_LEN];
	ipv6_emit(&h, out);
	ck_assert_mem_eq(out, f + L3, IPV6_HDR_LEN);
}
END_TEST

START_TEST(test_addresses)
{
	struct ipaddr ll = ndp_linklocal(t_mac_host), want = v6("fe80::ff:fe00:2");
	ck_assert(ipaddr_eq(&ll, &want));
	/* RFC 4291 appendix A: the universal/local bit is inverted */
	const uint8_t mac[6] = { 0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e };
	ll = ndp_linklocal(mac);
	want = v6("fe80::21b:21ff:fe3c:4d5e");
	ck_assert(ipaddr_eq(&ll, &want));

	struct ipaddr a = v6("fd00::1234:5678"), sn = ip6_solicited_node(&a);
	want = v6("ff02::1:ff34:5678");
	ck_assert(ipaddr_eq(&sn, &want));
	uint8_t m[6], m_want[6] = { 0x33, 0x33, 0xff, 0x34, 0x56, 0x78 };
	ip6_mcast_mac(&sn, m);
	ck_assert_mem_eq(m, m_want, 6);
	ck_assert(ip6_is_linklocal(&ll));
	ck_assert(!ip6_is_linklocal(&a));
	ck_assert(ip6_is_multicast(&sn));
}
END_TEST

START_TEST(test_dad)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	struct ipaddr a = v6("fd00::2"), sn = v6("ff02::1:ff00:2");
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &a, 64), 0);
	h.ifp->ip6.solicit_routers = false;
	ck_assert_int_eq(ndp_addr_find(h.ifp, &a)->state, IP6_ADDR_TENTATIVE);
	advance(&h, 0);
	pkt_free(expect_tx(&h)); /* the link-local address's */
	struct pkt *r = expect_tx(&h);
	/* RFC 4862 5.4.2: from ::, to the solicited-node group, no option */
	const uint8_t gmac[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x02 };
	ck_assert_mem_eq(r->data, gmac, 6);
	struct ipv6_hdr ip;
	ck_assert_ptr_null(ipv6_parse(r->data + L3, r->len - L3, &ip));
	ck_assert(ip6_is_unspecified(&ip.src));
	ck_assert(ipaddr_eq(&ip.dst, &sn));
	ck_assert_uint_eq(ip.hop_limit, 255);
	ck_assert_uint_eq(ip.payload_len, 24);
	struct icmpv6_hdr ih;
	ck_assert_ptr_null(icmpv6_parse(r->data + L4, 24, &ip.src, &ip.dst, &ih));
	ck_assert_uint_eq(ih.type, ICMP6_NEIGHBOR_SOLICIT);
	ck_assert_mem_eq(r->data + L4 + 8, a.a, 16);
	pkt_free(r);

	/* tentative: an echo request to it is not answered */
	uint8_t f[256], body[64] = { 0 };
	inject(&h, f, build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 64, ICMP6_ECHO_REQUEST, 0,
				  0x10001, body, 8));
	ck_assert_uint_eq(count(&h, "ip6.to_tentative"), 1);
	expect_no_tx(&h);

	advance(&h, NDP_RETRANS_US - 1);
	ck_assert_int_eq(ndp_addr_find(h.ifp, &a)->state, IP6_ADDR_TENTATIVE);
	advance(&h, 1);
	ck_assert_int_eq(ndp_addr_find(h.ifp, &a)->state, IP6_ADDR_PREFERRED);
	ck_assert(ip_is_local(&h.s, &a));
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_dad_conflicts)
{
	struct harness h;
	uint8_t f[256], b[64];
	const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	harness_init(&h, "10.0.0.2/24", NULL);
	struct ipaddr a = v6("fd00::2"), c = v6("fd00::3");
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &a, 64), 0);
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &c, 64), 0);
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &c, 64), -EEXIST);
	h.ifp->ip6.solicit_routers = false;
	advance(&h, 0);
	for (int i = 0; i < 3; i++)
		pkt_free(expect_tx(&h));

	/* RFC 4862 5.4.4: an NA for a tentative address: a duplicate */
	const uint8_t all_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	inject(&h, f, build_icmp6(f, all_mac, "fd00::1", "ff02::1", 255, ICMP6_NEIGHBOR_ADVERT, 0,
				  NDP_NA_OVERRIDE, b, nd_body(b, "fd00::2", NDP_OPT_TLLA, other)));
	ck_assert_int_eq(ndp_addr_find(h.ifp, &a)->state, IP6_ADDR_DUPLICATE);
	/* RFC 4862 5.4.3: another node's DAD probe for it: a duplicate too */
	const uint8_t sn3[6] = { 0x33, 0x33, 0xff, 0, 0, 3 };
	inject(&h, f, build_icmp6(f, sn3, "::", "ff02::1:ff00:3", 255, ICMP6_NEIGHBOR_SOLICIT, 0, 0,
				  b, nd_body(b, "fd00::3", 0, NULL)));
	ck_assert_int_eq(ndp_addr_find(h.ifp, &c)->state, IP6_ADDR_DUPLICATE);
	ck_assert_uint_eq(count(&h, "ndp.dad_duplicate"), 2);
	advance(&h, NDP_RETRANS_US);
	ck_assert_uint_eq(count(&h, "ndp.dad_ok"), 1); /* only the link-local one */
	ck_assert(!ip_is_local(&h.s, &a));
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* The interface's multicast filter (link/eth.c) follows the addresses: all
 * nodes and each address's solicited-node MAC are in it, one reference per
 * address; an address found a duplicate leaves, and frames to a MAC no
 * address needs any more are dropped as "eth.not_for_us". */
/* RFC 4443 3.4: the parameter problem's pointer names a byte of the
 * datagram. An option type as the last byte of its header has no length
 * byte: the pointer names the type (it named the byte after it, past the
 * datagram: found by tests/fuzz/fuzz_ipv6). */
START_TEST(test_option_pointer_in_datagram)
{
	uint8_t d[IPV6_HDR_LEN + 8];
	struct ipv6_chain c;

	memset(d, 0, sizeof(d));
	d[IPV6_HDR_LEN] = IP6_NH_NONE;      /* next header; length 0: 8 bytes */
	d[IPV6_HDR_LEN + 7] = 1;            /* PadN's type, its length cut off */
	ck_assert_str_eq(ipv6_walk_ext(d, sizeof(d), IP6_NH_DSTOPTS, &c), "ip6.bad_option_length");
	ck_assert(c.send_param_problem);
	ck_assert_uint_eq(c.pointer, IPV6_HDR_LEN + 7);
	/* a length byte that runs past the header: the pointer names it */
	d[IPV6_HDR_LEN + 6] = 1;
	d[IPV6_HDR_LEN + 7] = 2;
	ck_assert_str_eq(ipv6_walk_ext(d, sizeof(d), IP6_NH_DSTOPTS, &c), "ip6.bad_option_length");
	ck_assert_uint_eq(c.pointer, IPV6_HDR_LEN + 7);
}
END_TEST

START_TEST(test_mcast_filter_follows_addresses)
{
	struct harness h;
	uint8_t f[256], b[64];
	const uint8_t all_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	const uint8_t sn2[6] = { 0x33, 0x33, 0xff, 0, 0, 2 }; /* link-local's and fd00::2's */
	const uint8_t sn3[6] = { 0x33, 0x33, 0xff, 0, 0, 3 };
	harness_init(&h, "10.0.0.2/24", NULL);
	ck_assert(!netif_mcast_has(h.ifp, all_mac));
	struct ipaddr a = v6("fd00::2"), c = v6("fd00::3");
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &a, 64), 0);
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &c, 64), 0);
	h.ifp->ip6.solicit_routers = false;
	advance(&h, 0);
	for (int i = 0; i < 3; i++)
		pkt_free(expect_tx(&h));
	ck_assert(netif_mcast_has(h.ifp, all_mac));
	ck_assert(netif_mcast_has(h.ifp, sn2));
	ck_assert(netif_mcast_has(h.ifp, sn3));

	/* another node's DAD probe for fd00::3: a duplicate, its group left */
	inject(&h, f, build_icmp6(f, sn3, "::", "ff02::1:ff00:3", 255, ICMP6_NEIGHBOR_SOLICIT, 0, 0,
				  b, nd_body(b, "fd00::3", 0, NULL)));
	ck_assert_int_eq(ndp_addr_find(h.ifp, &c)->state, IP6_ADDR_DUPLICATE);
	ck_assert(!netif_mcast_has(h.ifp, sn3));
	uint64_t not_for_us = count(&h, "eth.not_for_us");
	inject(&h, f, build_icmp6(f, sn3, "::", "ff02::1:ff00:3", 255, ICMP6_NEIGHBOR_SOLICIT, 0, 0,
				  b, nd_body(b, "fd00::3", 0, NULL)));
	ck_assert_uint_eq(count(&h, "eth.not_for_us"), not_for_us + 1);

	/* an NA for fd00::2: a duplicate too, but the link-local address
	 * still needs 33:33:ff:00:00:02 */
	inject(&h, f, build_icmp6(f, all_mac, "fd00::1", "ff02::1", 255, ICMP6_NEIGHBOR_ADVERT, 0,
				  NDP_NA_OVERRIDE, b, nd_body(b, "fd00::2", NDP_OPT_TLLA, t_mac_peer)));
	ck_assert_int_eq(ndp_addr_find(h.ifp, &a)->state, IP6_ADDR_DUPLICATE);
	ck_assert(netif_mcast_has(h.ifp, sn2));
	ck_assert_uint_eq(count(&h, "eth.not_for_us"), not_for_us + 1);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_ns_gets_exact_na)
{
	struct harness h;
	uint8_t f[256];
	harness6(&h);
	inject(&h, f, vector_frame(PCAP, 1, f, sizeof(f)));
	struct pkt *r = expect_tx(&h);
	size_t n = vector_frame(PCAP, 2, f, sizeof(f));
	ck_assert_uint_eq(r->len, n);
	ck_assert_mem_eq(r->data, f, n);
	pkt_free(r);
	ck_assert_uint_eq(count(&h, "ndp.rx_ns"), 1);
	ck_assert_uint_eq(count(&h, "ndp.tx_na"), 1);
	/* RFC 4861 7.2.3: the asker was learned STALE; our NA used it: DELAY */
	ck_assert_int_eq(peer_state(&h), NDP_DELAY);

	/* a DAD probe for our address is answered to all nodes, S clear */
	uint8_t b[64];
	const uint8_t sn[6] = { 0x33, 0x33, 0xff, 0, 0, 2 };
	inject(&h, f, build_icmp6(f, sn, "::", "ff02::1:ff00:2", 255, ICMP6_NEIGHBOR_SOLICIT, 0, 0,
				  b, nd_body(b, "fd00::2", 0, NULL)));
	r = expect_tx(&h);
	const uint8_t all_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	ck_assert_mem_eq(r->data, all_mac, 6);
	ck_assert_uint_eq(be32_get(r->data + L4 + 4), NDP_NA_OVERRIDE);
	pkt_free(r);
	harness_fini(&h);
}
END_TEST

START_TEST(test_echo_gets_exact_reply)
{
	struct harness h;
	uint8_t f[256], want[256];
	harness6(&h);
	inject(&h, f, vector_frame(PCAP, 1, f, sizeof(f)));
	pkt_free(expect_tx(&h));
	for (int i = 3; i <= 5; i += 2) {
		inject(&h, f, vector_frame(PCAP, i, f, sizeof(f)));
		struct pkt *r = expect_tx(&h);
		size_t n = vector_frame(PCAP, i + 1, want, sizeof(want));
		ck_assert_uint_eq(r->len, n);
		/* all but the flow label, which Linux picks at random (RFC 6437);
		 * we send 0 */
		ck_assert_mem_eq(r->data, want, L3 + 1);
		ck_assert_uint_eq(r->data[L3 + 1] & 0x0f, 0);
		ck_assert_mem_eq(r->data + L3 + 4, want + L3 + 4, n - L3 - 4);
		pkt_free(r);
	}
	ck_assert_uint_eq(count(&h, "icmp6.rx_echo_request"), 2);
	ck_assert_uint_eq(count(&h, "icmp6.tx_echo_reply"), 2);

	/* to the all-nodes group: answered from our address */
	uint8_t body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const uint8_t all_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	inject(&h, f, build_icmp6(f, all_mac, "fd00::1", "ff02::1", 64, ICMP6_ECHO_REQUEST, 0,
				  0x20003, body, 8));
	struct pkt *r = expect_tx(&h);
	struct ipv6_hdr ip;
	struct ipaddr host = v6("fd00::2");
	ck_assert_ptr_null(ipv6_parse(r->data + L3, r->len - L3, &ip));
	ck_assert(ipaddr_eq(&ip.src, &host));
	pkt_free(r);
	harness_fini(&h);
}
END_TEST

START_TEST(test_nud_states)
{
	struct harness h;
	uint8_t f[256], b[64];
	harness6(&h);

	/* RFC 4861 7.2.2: unknown neighbor: INCOMPLETE, multicast NS, wait */
	struct ipaddr peer = v6("fd00::1");
	struct pkt *p = pkt_alloc(8);
	memset(pkt_put(p, 8), 0, 8);
	ck_assert_int_eq(ip_output(&h.s, p, NULL, &peer, IP6_NH_NONE, 0, IP_DF_DONT), 0);
	ck_assert_int_eq(peer_state(&h), NDP_INCOMPLETE);
	struct pkt *r = expect_tx(&h);
	const uint8_t sn1[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	ck_assert_mem_eq(r->data, sn1, 6);
	ck_assert_uint_eq(r->data[L4], ICMP6_NEIGHBOR_SOLICIT);
	ck_assert_uint_eq(r->data[L3 + 7], 255);
	pkt_free(r);

	/* the solicited NA: REACHABLE, the packet goes out */
	inject(&h, f, peer_na(f, b, NDP_NA_SOLICITED | NDP_NA_OVERRIDE, t_mac_peer));
	ck_assert_int_eq(peer_state(&h), NDP_REACHABLE);
	r = expect_tx(&h);
	ck_assert_mem_eq(r->data, t_mac_peer, 6);
	ck_assert_uint_eq(r->data[L3 + 6], IP6_NH_NONE);
	pkt_free(r);

	/* 30 s without confirmation: STALE; a packet: DELAY; 5 s: PROBE */
	advance(&h, NDP_REACHABLE_US);
	ck_assert_int_eq(peer_state(&h), NDP_STALE);
	p = pkt_alloc(8);
	memset(pkt_put(p, 8), 0, 8);
	ck_assert_int_eq(ip_output(&h.s, p, NULL, &peer, IP6_NH_NONE, 0, IP_DF_DONT), 0);
	pkt_free(expect_tx(&h));
	ck_assert_int_eq(peer_state(&h), NDP_DELAY);
	advance(&h, NDP_DELAY_US);
	ck_assert_int_eq(peer_state(&h), NDP_PROBE);
	r = expect_tx(&h); /* a unicast NS */
	ck_assert_mem_eq(r->data, t_mac_peer, 6);
	ck_assert_uint_eq(r->data[L4], ICMP6_NEIGHBOR_SOLICIT);
	pkt_free(r);
	/* answered: REACHABLE again */
	inject(&h, f, peer_na(f, b, NDP_NA_SOLICITED | NDP_NA_OVERRIDE, t_mac_peer));
	ck_assert_int_eq(peer_state(&h), NDP_REACHABLE);

	/* an unsolicited NA with another MAC and no override: REACHABLE ->
	 * STALE, the MAC kept (RFC 4861 7.2.5) */
	const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	inject(&h, f, peer_na(f, b, 0, other));
	ck_assert_int_eq(peer_state(&h), NDP_STALE);
	ck_assert_mem_eq(ndp_cache_lookup(&h.s.ndp, &peer)->mac, t_mac_peer, 6);

	/* STALE, used, no answer to 3 probes: gone */
	p = pkt_alloc(8);
	memset(pkt_put(p, 8), 0, 8);
	ip_output(&h.s, p, NULL, &peer, IP6_NH_NONE, 0, IP_DF_DONT);
	pkt_free(expect_tx(&h));
	advance(&h, NDP_DELAY_US + 3 * NDP_RETRANS_US);
	for (int i = 0; i < NDP_MAX_UNICAST_SOLICIT; i++)
		pkt_free(expect_tx(&h));
	expect_no_tx(&h);
	ck_assert_int_eq(peer_state(&h), NDP_FREE);
	ck_assert_uint_eq(count(&h, "ndp.unreachable"), 1);
	harness_fini(&h);
}
END_TEST

START_TEST(test_unresolved_and_bounded_queue)
{
	struct harness h;
	harness6(&h);
	struct ipaddr peer = v6("fd00::1");
	for (int i = 0; i < NDP_PENDING_MAX + 2; i++) {
		struct pkt *p = pkt_alloc(8);
		memset(pkt_put(p, 8), 0, 8);
		ck_assert_int_eq(ip_output(&h.s, p, NULL, &peer, IP6_NH_NONE, 0, IP_DF_DONT), 0);
	}
	ck_assert_uint_eq(count(&h, "ndp.pending_overflow"), 2);
	ck_assert_uint_eq(ndp_cache_lookup(&h.s.ndp, &peer)->pending.count, NDP_PENDING_MAX);
	advance(&h, NDP_MAX_MULTICAST_SOLICIT * NDP_RETRANS_US);
	for (int i = 0; i < NDP_MAX_MULTICAST_SOLICIT; i++)
		pkt_free(expect_tx(&h));
	expect_no_tx(&h);
	ck_assert_int_eq(peer_state(&h), NDP_FREE);
	ck_assert_uint_eq(count(&h, "ndp.unresolved"), NDP_PENDING_MAX);
	harness_fini(&h);
}
END_TEST

/* Injects the frame and checks that it was dropped under reason, and that
 * nothing went out unless reply is set. */
static void expect_drop(struct harness *h, uint8_t *f, size_t n, const char *reason, bool reply)
{
	uint64_t before = count(h, reason);
	inject(h, f, n);
	ck_assert_msg(count(h, reason) == before + 1, "%s not counted", reason);
	if (reply)
		pkt_free(expect_tx(h));
	else
		expect_no_tx(h);
}

START_TEST(test_malformed_dropped)
{
	struct harness h;
	uint8_t f[512], pl[256], b[64];
	size_t n;
	harness6(&h);
	/* learn the peer so that errors can go out */
	inject(&h, f, vector_frame(PCAP, 1, f, sizeof(f)));
	pkt_free(expect_tx(&h));

	memset(pl, 0, sizeof(pl));
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_NONE, 64, pl, 8);
	expect_drop(&h, f, L3 + 39, "ip6.short_packet", false);
	f[L3] = 0x40;
	expect_drop(&h, f, n, "ip6.bad_version", false);
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_NONE, 64, pl, 8);
	be16_put(f + L3 + 4, 9);
	expect_drop(&h, f, n, "ip6.truncated", false);
	n = build6(f, t_mac_host, "ff02::1", "fd00::2", IP6_NH_NONE, 64, pl, 8);
	expect_drop(&h, f, n, "ip6.bad_source", false);
	n = build6(f, t_mac_host, "fd00::1", "fd00::99", IP6_NH_NONE, 64, pl, 8);
	expect_drop(&h, f, n, "ip6.not_for_us", false);
	const uint8_t all_routers[6] = { 0x33, 0x33, 0, 0, 0, 2 };
	n = build6(f, all_routers, "fd00::1", "ff02::2", IP6_NH_NONE, 64, pl, 8);
	expect_drop(&h, f, n, "eth.not_for_us", false);
	n = build6(f, t_mac_host, "fd00::1", "ff02::2", IP6_NH_NONE, 64, pl, 8);
	expect_drop(&h, f, n, "ip6.group_not_joined", false);
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_NONE, 64, pl, 8);
	expect_drop(&h, f, n, "ip6.no_next_header", false);

	/* extension headers: a destination options header, then hop-by-hop */
	pl[0] = IP6_NH_HOPOPT;
	pl[1] = 0;
	pl[2] = 1; /* PadN of 4 */
	pl[3] = 4;
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_DSTOPTS, 64, pl, 16);
	expect_drop(&h, f, n, "ip6.hopopt_not_first", true);
	/* a length past the end */
	pl[0] = IP6_NH_NONE;
	pl[1] = 4;
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_DSTOPTS, 64, pl, 16);
	expect_drop(&h, f, n, "ip6.ext_truncated", false);
	/* an option running past its header */
	pl[1] = 0;
	pl[2] = 1;
	pl[3] = 9;
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_DSTOPTS, 64, pl, 8);
	expect_drop(&h, f, n, "ip6.bad_option_length", true);
	/* unknown options by their top two bits: 00 skipped, 01 silent,
	 * 10 and 11 with a parameter problem (11 not to a group) */
	pl[2] = 0x05;
	pl[3] = 4;
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_DSTOPTS, 64, pl, 8);
	expect_drop(&h, f, n, "ip6.no_next_header", false);
	pl[2] = 0x41;
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_DSTOPTS, 64, pl, 8);
	expect_drop(&h, f, n, "ip6.unknown_option", false);
	pl[2] = 0x81;
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_DSTOPTS, 64, pl, 8);
	expect_drop(&h, f, n, "ip6.unknown_option", true);
	pl[2] = 0xc1;
	const uint8_t all_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	n = build6(f, all_mac, "fd00::1", "ff02::1", IP6_NH_DSTOPTS, 64, pl, 8);
	expect_drop(&h, f, n, "ip6.unknown_option", false);
	pl[2] = 0x81; /* 10 to a group: the error goes out (RFC 4443 2.4 (e.3)) */
	n = build6(f, all_mac, "fd00::1", "ff02::1", IP6_NH_DSTOPTS, 64, pl, 8);
	expect_drop(&h, f, n, "ip6.unknown_option", true);

	/* routing header type 0 with segments left (RFC 5095) */
	memset(pl, 0, 24);
	pl[0] = IP6_NH_NONE;
	pl[1] = 2;
	pl[2] = 0;
	pl[3] = 1;
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_ROUTING, 64, pl, 24);
	expect_drop(&h, f, n, "ip6.routing_type0", true);
	pl[3] = 0; /* no segments left: ignored */
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_ROUTING, 64, pl, 24);
	expect_drop(&h, f, n, "ip6.no_next_header", false);

	/* a fragment with M set and 5 bytes of data (RFC 8200 4.5): param
	 * problem; tests/check_ipv6_frag.c covers reassembly */
	memset(pl, 0, 16);
	pl[0] = IP6_NH_NONE;
	be16_put(pl + 2, 1); /* M set */
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_FRAGMENT, 64, pl, 13);
	expect_drop(&h, f, n, "ip6.frag_bad_length", true);
	ck_assert_uint_eq(count(&h, "ip6.fragments_rx"), 1);

	/* a chain of nine destination options headers */
	for (int i = 0; i < 9; i++) {
		memset(pl + i * 8, 0, 8);
		pl[i * 8] = i < 8 ? IP6_NH_DSTOPTS : IP6_NH_NONE;
		pl[i * 8 + 2] = 1;
		pl[i * 8 + 3] = 4;
	}
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", IP6_NH_DSTOPTS, 64, pl, 72);
	expect_drop(&h, f, n, "ip6.too_many_ext", false);

	/* an unknown next header: parameter problem code 1 pointing at it */
	n = build6(f, t_mac_host, "fd00::1", "fd00::2", 253, 64, pl, 8);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "ip6.unknown_next_header"), 1);
	struct pkt *r = expect_tx(&h);
	ck_assert_uint_eq(r->data[L4], ICMP6_PARAM_PROBLEM);
	ck_assert_uint_eq(r->data[L4 + 1], ICMP6_PARAM_NEXT_HEADER);
	ck_assert_uint_eq(be32_get(r->data + L4 + 4), 6);
	ck_assert_mem_eq(r->data + L4 + 8, f + L3, n - L3);
	pkt_free(r);
	/* ... but not about a group */
	n = build6(f, all_mac, "fd00::1", "ff02::1", 253, 64, pl, 8);
	expect_drop(&h, f, n, "icmp6.error_about_multicast", false);
	/* ... nor about an ICMPv6 error */
	pl[0] = ICMP6_DEST_UNREACH;
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 64, ICMP6_DEST_UNREACH, 0, 0, pl, 8);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp6.rx_error"), 1);
	expect_no_tx(&h);

	/* ICMPv6 and ND */
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 64, ICMP6_ECHO_REQUEST, 0, 1, pl, 8);
	f[n - 1] ^= 0xff;
	expect_drop(&h, f, n, "icmp6.bad_checksum", false);
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 64, 200, 0, 1, pl, 8);
	expect_drop(&h, f, n, "icmp6.unknown_type", false);
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 64, ICMP6_NEIGHBOR_SOLICIT, 0, 0, b,
			nd_body(b, "fd00::2", NDP_OPT_SLLA, t_mac_peer));
	expect_drop(&h, f, n, "ndp.bad_hop_limit", false);
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 255, ICMP6_NEIGHBOR_SOLICIT, 1, 0, b,
			nd_body(b, "fd00::2", NDP_OPT_SLLA, t_mac_peer));
	expect_drop(&h, f, n, "ndp.bad_code", false);
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 255, ICMP6_NEIGHBOR_SOLICIT, 0, 0, b,
			nd_body(b, "ff02::1", NDP_OPT_SLLA, t_mac_peer));
	expect_drop(&h, f, n, "ndp.target_multicast", false);
	size_t bl = nd_body(b, "fd00::2", NDP_OPT_SLLA, t_mac_peer);
	b[17] = 0;
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 255, ICMP6_NEIGHBOR_SOLICIT, 0, 0, b,
			bl);
	expect_drop(&h, f, n, "ndp.bad_option", false);
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 255, ICMP6_NEIGHBOR_SOLICIT, 0, 0, b,
			12);
	expect_drop(&h, f, n, "ndp.short", false);
	const uint8_t sn[6] = { 0x33, 0x33, 0xff, 0, 0, 2 };
	n = build_icmp6(f, sn, "::", "ff02::1:ff00:2", 255, ICMP6_NEIGHBOR_SOLICIT, 0, 0, b,
			nd_body(b, "fd00::2", NDP_OPT_SLLA, t_mac_peer));
	expect_drop(&h, f, n, "ndp.bad_dad_probe", false);
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 255, ICMP6_NEIGHBOR_SOLICIT, 0, 0, b,
			nd_body(b, "fd00::77", NDP_OPT_SLLA, t_mac_peer));
	expect_drop(&h, f, n, "ndp.not_our_target", false);
	n = build_icmp6(f, all_mac, "fd00::1", "ff02::1", 255, ICMP6_NEIGHBOR_ADVERT, 0,
			NDP_NA_SOLICITED, b, nd_body(b, "fd00::1", NDP_OPT_TLLA, t_mac_peer));
	expect_drop(&h, f, n, "ndp.solicited_to_multicast", false);
	n = build_icmp6(f, t_mac_host, "fd00::5", "fd00::2", 255, ICMP6_NEIGHBOR_ADVERT, 0,
			NDP_NA_SOLICITED, b, nd_body(b, "fd00::5", NDP_OPT_TLLA, t_mac_peer));
	expect_drop(&h, f, n, "ndp.unsolicited_na", false);
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 255, ICMP6_NEIGHBOR_ADVERT, 0,
			NDP_NA_OVERRIDE, b, nd_body(b, "fd00::2", NDP_OPT_TLLA, t_mac_peer));
	expect_drop(&h, f, n, "ndp.address_conflict", false);
	n = build_icmp6(f, t_mac_host, "fd00::1", "fd00::2", 255, ICMP6_REDIRECT, 0, 0, pl, 32);
	expect_drop(&h, f, n, "ndp.redirect_ignored", false);
	harness_fini(&h);
}
END_TEST

START_TEST(test_error_rate_limit)
{
	struct harness h;
	uint8_t f[256], pl[8] = { 0 };
	harness6(&h);
	inject(&h, f, vector_frame(PCAP, 1, f, sizeof(f)));
	pkt_free(expect_tx(&h));
	size_t n = build6(f, t_mac_host, "fd00::1", "fd00::2", 253, 64, pl, 8);
	for (int i = 0; i < ICMP6_ERR_BURST + 10; i++)
		inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp6.tx_error"), ICMP6_ERR_BURST);
	ck_assert_uint_eq(count(&h, "icmp6.error_rate_limited"), 10);
	drop_tx(&h);
	advance(&h, 1000000 / ICMP6_ERR_RATE);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp6.tx_error"), ICMP6_ERR_BURST + 1);
	pkt_free(expect_tx(&h));
	harness_fini(&h);
}
END_TEST

START_TEST(test_neigh_dump)
{
	struct harness h;
	uint8_t f[256];
	char buf[512];
	harness6(&h);
	inject(&h, f, vector_frame(PCAP, 1, f, sizeof(f)));
	pkt_free(expect_tx(&h));
	FILE *out = fmemopen(buf, sizeof(buf), "w");
	stack_report(&h.s, "neigh", out);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(buf, "fd00::1 dev "));
	ck_assert_ptr_nonnull(strstr(buf, "lladdr 02:00:00:00:00:01 DELAY"));
	harness_fini(&h);
}
END_TEST

/* The RA of ipv6-router-advert.pcap (radvd: prefix fd00:0:0:1::/64 with L
 * and A, router lifetime 12 s), sent from the peer (fe80::ff:fe00:1 and
 * its MAC) instead of the captured sender, which has the host's MAC. */
static size_t peer_ra(uint8_t *f, uint8_t hops, const char *src)
{
	uint8_t v[256], body[128];
	size_t n = vector_frame("ipv6-router-advert.pcap", 1, v, sizeof(v));
	size_t blen = n - L4 - ICMP6_HDR_LEN;
	memcpy(body, v + L4 + ICMP6_HDR_LEN, blen);
	ck_assert_uint_eq(body[blen - 8], NDP_OPT_SLLA);
	memcpy(body + blen - 6, t_mac_peer, 6);
	const uint8_t all_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	return build_icmp6(f, all_mac, src, "ff02::1", hops, ICMP6_ROUTER_ADVERT, 0,
			   be32_get(v + L4 + 4), body, blen);
}

START_TEST(test_router_discovery)
{
	struct harness h;
	uint8_t f[256];
	harness_init(&h, "10.0.0.2/24", NULL);
	ck_assert_int_eq(ndp_if_enable(&h.s, h.ifp), 0);
	advance(&h, 0);
	pkt_free(expect_tx(&h)); /* DAD */
	expect_no_tx(&h);
	/* RFC 4861 6.3.7: once the link-local address is usable */
	advance(&h, NDP_RETRANS_US);
	struct pkt *r = expect_tx(&h);
	const uint8_t routers_mac[6] = { 0x33, 0x33, 0, 0, 0, 2 };
	struct ipaddr ll = v6("fe80::ff:fe00:2"), routers = v6("ff02::2");
	struct ipv6_hdr ip;
	struct icmpv6_hdr ih;
	ck_assert_mem_eq(r->data, routers_mac, 6);
	ck_assert_ptr_null(ipv6_parse(r->data + L3, r->len - L3, &ip));
	ck_assert(ipaddr_eq(&ip.src, &ll));
	ck_assert(ipaddr_eq(&ip.dst, &routers));
	ck_assert_uint_eq(ip.hop_limit, 255);
	ck_assert_ptr_null(icmpv6_parse(r->data + L4, ip.payload_len, &ip.src, &ip.dst, &ih));
	ck_assert_uint_eq(ih.type, ICMP6_ROUTER_SOLICIT);
	ck_assert_uint_eq(r->data[L4 + 8], NDP_OPT_SLLA);
	ck_assert_mem_eq(r->data + L4 + 10, t_mac_host, 6);
	pkt_free(r);
	advance(&h, NDP_RTR_SOLICIT_US);
	pkt_free(expect_tx(&h)); /* the second */

	/* a hop limit under 255, or a source that is not link-local: dropped */
	inject(&h, f, peer_ra(f, 64, "fe80::ff:fe00:1"));
	ck_assert_uint_eq(count(&h, "ndp.bad_hop_limit"), 1);
	inject(&h, f, peer_ra(f, 255, "fd00::1"));
	ck_assert_uint_eq(count(&h, "ndp.ra_bad_source"), 1);
	struct ipaddr global = v6("2001:db8::1"), onlink = v6("fd00:0:0:1::5");
	ck_assert_ptr_null(route_lookup(&h.s.routes, &global));

	inject(&h, f, peer_ra(f, 255, "fe80::ff:fe00:1"));
	pkt_free(expect_tx(&h)); /* DAD for the SLAAC address (A flag; tests/check_slaac.c) */
	/* the one with hop limit 64 never got that far */
	ck_assert_uint_eq(count(&h, "ndp.rx_ra"), 2);
	const struct route *rt = route_lookup(&h.s.routes, &global);
	struct ipaddr router = v6("fe80::ff:fe00:1");
	ck_assert_ptr_nonnull(rt);
	ck_assert_int_eq(rt->len, 0);
	ck_assert(ipaddr_eq(&rt->gw, &router));
	rt = route_lookup(&h.s.routes, &onlink);
	ck_assert_ptr_nonnull(rt);
	ck_assert_int_eq(rt->len, 64);
	ck_assert_int_eq(rt->gw.family, 0);
	struct ndp_entry *e = ndp_cache_lookup(&h.s.ndp, &router);
	ck_assert_ptr_nonnull(e);
	ck_assert(e->router);
	ck_assert_int_eq(e->state, NDP_STALE);
	ck_assert_mem_eq(e->mac, t_mac_peer, 6);

	/* answered: no third solicitation; the router lifetime (12 s) runs
	 * out, the prefix (valid 86400 s) stays */
	advance(&h, 12 * 1000000);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "ndp.tx_rs"), 2);
	ck_assert_ptr_null(route_lookup(&h.s.routes, &global));
	ck_assert_ptr_nonnull(route_lookup(&h.s.routes, &onlink));
	ck_assert_uint_eq(count(&h, "ndp.ra_route_expired"), 1);
	harness_fini(&h);
}
END_TEST

/* Mangled copies of the captured frames (bytes flipped, lengths cut) do
 * not crash the host, leak a buffer or grow its tables past their bounds. */
START_TEST(test_mangled_frames)
{
	struct harness h;
	uint8_t base[4][256], f[256];
	size_t len[4];
	uint32_t x = 12345;
	harness6(&h);
	uint8_t b[64];
	len[0] = vector_frame(PCAP, 1, base[0], sizeof(base[0]));
	len[1] = vector_frame(PCAP, 3, base[1], sizeof(base[1]));
	len[2] = peer_na(base[2], b, NDP_NA_SOLICITED, t_mac_peer);
	len[3] = peer_ra(base[3], 255, "fe80::ff:fe00:1");
	for (int n = 0; n < 5000; n++) {
		int k = n % 4;
		memcpy(f, base[k], len[k]);
		size_t flen = len[k];
		for (int j = 0; j < 3; j++) {
			x = x * 1103515245u + 12345u;
			size_t at = L3 + (x >> 8) % (flen - L3);
			f[at] ^= (uint8_t)(1u << ((x >> 4) & 7));
		}
		x = x * 1103515245u + 12345u;
		if ((x >> 16) % 5 == 0)
			flen = L3 + (x >> 4) % (flen - L3);
		/* half of them with a good ICMPv6 checksum, to get past it */
		if ((n / 4) % 2 && flen >= L4 + ICMP6_HDR_LEN && f[L3 + 6] == IP6_NH_ICMPV6 &&
		    L4 + (size_t)be16_get(f + L3 + 4) <= flen) {
			struct ipv6_hdr ip;
			struct icmpv6_hdr ih = { 0 };
			size_t plen = be16_get(f + L3 + 4);
			ipv6_parse(f + L3, flen - L3, &ip);
			if (plen >= ICMP6_HDR_LEN) {
				ih.type = f[L4];
				ih.code = f[L4 + 1];
				ih.rest = be32_get(f + L4 + 4);
				icmpv6_emit(&ih, f + L4, plen, &ip.src, &ip.dst);
			}
		}
		inject(&h, f, flen);
		drop_tx(&h);
		if (n % 500 == 0)
			advance(&h, 3000000);
	}
	ck_assert_uint_eq(count(&h, "ip6.rx"), 5000);
	harness_fini(&h);
}
END_TEST

Suite *ipv6_suite(void)
{
	Suite *s = suite_create("ipv6");
	TCase *c = tcase_create("codec");
	tcase_add_test(c, test_codec_on_capture);
	tcase_add_test(c, test_addresses);
	suite_add_tcase(s, c);
	c = tcase_create("ndp");
	tcase_add_test(c, test_dad);
	tcase_add_test(c, test_dad_conflicts);
	tcase_add_test(c, test_mcast_filter_follows_addresses);
	tcase_add_test(c, test_option_pointer_in_datagram);
	tcase_add_test(c, test_ns_gets_exact_na);
	tcase_add_test(c, test_nud_states);
	tcase_add_test(c, test_unresolved_and_bounded_queue);
	tcase_add_test(c, test_neigh_dump);
	tcase_add_test(c, test_router_discovery);
	suite_add_tcase(s, c);
	c = tcase_create("input");
	tcase_add_test(c, test_echo_gets_exact_reply);
	tcase_add_test(c, test_malformed_dropped);
	tcase_add_test(c, test_error_rate_limit);
	tcase_add_test(c, test_mangled_frames);
	suite_add_tcase(s, c);
	return s;
}

/* IPv4: the header codec on captured frames, every malformed header named in
 * ipv4.h, the host's input checks, output through routes and ARP, and the
 * routing table itself. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip/icmp.h"
#include "ip/ipv4.h"
#include "ip/route.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "tests/harness.h"

#define PEER 0x0a000001u /* 10.0.0.1 */
#define HOST 0x0a000002u /* 10.0.0.2 */
#define IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static uint64_t count(struct harness *h, const char *name)
{
	return stats_get(&h->s.stats, name);
}

/* Recomputes the IP header checksum of an Ethernet + IPv4 frame. */
static void fix_ip_csum(uint8_t *frame)
{
	uint8_t *ip = frame + ETH_HDR_LEN;
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
	be16_put(ip + 10, 0);
	be16_put(ip + 10, inet_csum(ip, hlen));
}

/* ---- Codec ---- */

START_TEST(test_parse_captured_echo)
{
	uint8_t f[128];
	struct ipv4_hdr h;
	size_t n = vector_frame("icmp-echo.pcap", 3, f, sizeof(f));

	ck_assert_ptr_null(ipv4_parse(f + ETH_HDR_LEN, n - ETH_HDR_LEN, &h));
	ck_assert_uint_eq(h.version, 4);
	ck_assert_uint_eq(h.ihl, 5);
	ck_assert_uint_eq(h.tos, 0);
	ck_assert_uint_eq(h.total_len, 84);
	ck_assert_uint_eq(h.id, 0xaec3);
	ck_assert_uint_eq(h.frag, IPV4_FLAG_DF);
	ck_assert_uint_eq(h.ttl, 64);
	ck_assert_uint_eq(h.proto, IP_PROTO_ICMP);
	ck_assert_uint_eq(h.checksum, 0x77e3);
	ck_assert_uint_eq(h.src, PEER);
	ck_assert_uint_eq(h.dst, HOST);

	/* emit writes back the same 20 bytes, checksum included */
	uint8_t out[IPV4_HDR_LEN];
	ipv4_emit(&h, out);
	ck_assert_mem_eq(out, f + ETH_HDR_LEN, IPV4_HDR_LEN);

	n = vector_frame("icmp-echo.pcap", 4, f, sizeof(f));
	ck_assert_ptr_null(ipv4_parse(f + ETH_HDR_LEN, n - ETH_HDR_LEN, &h));
	ck_assert_uint_eq(h.src, HOST);
	ck_assert_uint_eq(h.frag, 0);
	ipv4_emit(&h, out);
	ck_assert_mem_eq(out, f + ETH_HDR_LEN, IPV4_HDR_LEN);
}
END_TEST

START_TEST(test_parse_captured_fragments)
{
	static const uint16_t frag[] = { IPV4_FLAG_MF | 0, IPV4_FLAG_MF | 185, 370 };
	static const uint16_t total[] = { 1500, 1500, 1068 };
	uint8_t f[1600];
	struct ipv4_hdr h;

	for (int i = 0; i < 3; i++) {
		size_t n = vector_frame("ipv4-fragments.pcap", i + 1, f, sizeof(f));
		ck_assert_ptr_null(ipv4_parse(f + ETH_HDR_LEN, n - ETH_HDR_LEN, &h));
		ck_assert_uint_eq(h.frag, frag[i]);
		ck_assert_uint_eq(h.total_len, total[i]);
		ck_assert_uint_eq(h.id, 0xb021);
	}
}
END_TEST

START_TEST(test_pseudo_sum_udp_capture)
{
	uint8_t f[128];
	size_t n = vector_frame("udp-port-unreachable.pcap", 1, f, sizeof(f));
	const uint8_t *udp = f + ETH_HDR_LEN + IPV4_HDR_LEN;
	size_t ulen = n - ETH_HDR_LEN - IPV4_HDR_LEN;

	ck_assert_uint_eq(ulen, 11);
	/* a correct UDP checksum sums to 0 over the pseudo-header and datagram */
	uint32_t sum = ipv4_pseudo_sum(PEER, HOST, IP_PROTO_UDP, (uint16_t)ulen);
	ck_assert_uint_eq(csum_fold(csum_partial(udp, ulen, sum)), 0);
	sum = ipv4_pseudo_sum(PEER, HOST, IP_PROTO_TCP, (uint16_t)ulen);
	ck_assert_uint_ne(csum_fold(csum_partial(udp, ulen, sum)), 0);
}
END_TEST

/* Each malformed header named in ipv4.h: the codec's reason, then the same
 * frame injected is dropped under that counter, with no reply. */
struct bad_case {
	const char *reason;
	size_t iplen;        /* bytes after the Ethernet header (0: all) */
	int ver_ihl;         /* new first byte, or -1 */
	int total_len;       /* new total length, or -1 */
	int keep_csum;       /* do not fix the checksum after the change */
};

static const struct bad_case bad_cases[] = {
	{ "ip.short_packet", 19, -1, -1, 1 },
	{ "ip.bad_version", 0, 0x65, -1, 0 },
	{ "ip.short_header", 0, 0x44, -1, 0 },
	{ "ip.header_exceeds_packet", 0, 0x4f, -1, 0 },
	{ "ip.bad_total_length", 0, -1, 19, 0 },
	{ "ip.truncated", 0, -1, 47, 0 },
	{ "ip.bad_checksum", 0, -1, 30, 1 },
};

START_TEST(test_malformed)
{
	const struct bad_case *c = &bad_cases[_i];
	struct harness h;
	struct ipv4_hdr hdr;
	uint8_t f[128];
	uint8_t data[12] = "hello world";

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	/* a 60-byte frame: 14 + 20 + 12 + 14 bytes of padding (46 after Ethernet) */
	size_t n = build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, IP_PROTO_ICMP, data, 12);
	memset(f + n, 0, 60 - n);
	n = 60;
	uint8_t *ip = f + ETH_HDR_LEN;
	if (c->ver_ihl >= 0)
		ip[0] = (uint8_t)c->ver_ihl;
	if (c->total_len >= 0)
		be16_put(ip + 2, (uint16_t)c->total_len);
	if (!c->keep_csum && (ip[0] & 0x0f) * 4 <= 46)
		fix_ip_csum(f);
	if (c->iplen)
		n = ETH_HDR_LEN + c->iplen;

	ck_assert_str_eq(ipv4_parse(ip, n - ETH_HDR_LEN, &hdr), c->reason);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, c->reason), 1);
	ck_assert_uint_eq(count(&h, "ip.rx"), 1);
	ck_assert_uint_eq(count(&h, "ip.delivered"), 0);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Input ---- */

START_TEST(test_options_still_answered)
{
	struct harness h;
	uint8_t f[256], plain[256];
	/* IHL 6: a Router Alert option (RFC 2113), 4 bytes, before the ICMP */
	static const uint8_t opt[4] = { 0x94, 0x04, 0x00, 0x00 };

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	size_t n = build_icmp_frame(plain, ICMP_ECHO_REQUEST, PEER, HOST, 0x77, 3, 24);
	memcpy(f, plain, ETH_HDR_LEN + IPV4_HDR_LEN);
	memcpy(f + ETH_HDR_LEN + IPV4_HDR_LEN, opt, sizeof(opt));
	memcpy(f + ETH_HDR_LEN + IPV4_HDR_LEN + 4, plain + ETH_HDR_LEN + IPV4_HDR_LEN,
	       n - ETH_HDR_LEN - IPV4_HDR_LEN);
	f[ETH_HDR_LEN] = 0x46;
	be16_put(f + ETH_HDR_LEN + 2, (uint16_t)(n - ETH_HDR_LEN + 4));
	fix_ip_csum(f);
	inject(&h, f, n + 4);

	struct pkt *r = expect_tx(&h);
	ck_assert_uint_eq(r->len, n);
	ck_assert_uint_eq(r->data[ETH_HDR_LEN], 0x45); /* no options in the reply */
	ck_assert_uint_eq(r->data[ETH_HDR_LEN + IPV4_HDR_LEN], ICMP_ECHO_REPLY);
	/* identifier, sequence and data unchanged */
	size_t skip = ETH_HDR_LEN + IPV4_HDR_LEN + 4;
	ck_assert_mem_eq(r->data + skip, plain + skip, n - skip);
	pkt_free(r);
	ck_assert_uint_eq(count(&h, "ip.delivered"), 1);
	harness_fini(&h);
}
END_TEST

START_TEST(test_ethernet_padding_trimmed)
{
	struct harness h;
	uint8_t f[128];

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	/* echo with 4 data bytes: 14 + 20 + 12 = 46, padded to 60 with bytes
	 * that would break the ICMP checksum if they were kept */
	size_t n = build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, HOST, 9, 9, 4);
	ck_assert_uint_eq(n, 46);
	memset(f + n, 0xa5, 60 - n);
	inject(&h, f, 60);

	struct pkt *r = expect_tx(&h);
	ck_assert_uint_eq(r->len, 60); /* padded again on the way out */
	ck_assert_uint_eq(be16_get(r->data + ETH_HDR_LEN + 2), 32);
	ck_assert_uint_eq(inet_csum(r->data + ETH_HDR_LEN + IPV4_HDR_LEN, 12), 0);
	size_t skip = ETH_HDR_LEN + IPV4_HDR_LEN + 4;
	ck_assert_mem_eq(r->data + skip, f + skip, 8);
	pkt_free(r);
	ck_assert_uint_eq(count(&h, "icmp.bad_checksum"), 0);
	harness_fini(&h);
}
END_TEST

/* Datagrams that are not for this host, or come from no single host. */
struct addr_case {
	uint32_t src, dst;
	const char *reason;
};

static const struct addr_case addr_cases[] = {
	{ PEER, IP(10, 0, 0, 3), "ip.not_for_us" },
	{ PEER, IP(10, 0, 1, 2), "ip.not_for_us" },
	{ PEER, IP(192, 168, 0, 2), "ip.not_for_us" },
	{ PEER, IP(10, 0, 0, 0), "ip.not_for_us" },
	{ PEER, IP(224, 0, 0, 1), "ip.multicast_unsupported" },
	{ PEER, IP(239, 1, 2, 3), "ip.multicast_unsupported" },
	{ IP(255, 255, 255, 255), HOST, "ip.bad_source" },
	{ IP(10, 0, 0, 255), HOST, "ip.bad_source" },
	{ IP(224, 0, 0, 5), HOST, "ip.bad_source" },
	{ IP(127, 0, 0, 1), HOST, "ip.bad_source" },
	{ IP(127, 9, 9, 9), HOST, "ip.bad_source" },
	{ IP(0, 0, 0, 0), HOST, "ip.bad_source" },
};

START_TEST(test_address_checks)
{
	const struct addr_case *c = &addr_cases[_i];
	struct harness h;
	uint8_t f[128];

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	size_t n = build_icmp_frame(f, ICMP_ECHO_REQUEST, c->src, c->dst, 1, 1, 8);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, c->reason), 1);
	ck_assert_uint_eq(count(&h, "ip.delivered"), 0);
	expect_no_tx(&h);
	/* the same datagram with a proper source and destination is answered */
	n = build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, HOST, 1, 1, 8);
	inject(&h, f, n);
	pkt_free(expect_tx(&h));
	harness_fini(&h);
}
END_TEST

START_TEST(test_broadcast_destinations_accepted)
{
	struct harness h;
	uint8_t f[128];

	harness_init(&h, "10.0.0.2/24", NULL);
	size_t n = build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, IP4_BROADCAST, 1, 1, 8);
	memcpy(f, eth_broadcast, ETH_ALEN);
	inject(&h, f, n);
	n = build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, IP(10, 0, 0, 255), 1, 2, 8);
	memcpy(f, eth_broadcast, ETH_ALEN);
	inject(&h, f, n);
	/* delivered to ICMP, which does not answer pings to a broadcast */
	ck_assert_uint_eq(count(&h, "ip.delivered"), 2);
	ck_assert_uint_eq(count(&h, "icmp.echo_broadcast_ignored"), 2);
	ck_assert_uint_eq(count(&h, "ip.not_for_us"), 0);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* Linux's three fragments of a 4008-byte echo request (ping -s 4000) are
 * put back together and answered; the reply is cut the way Linux cut its
 * own: same lengths, flags and offsets, and the same ICMP bytes. */
START_TEST(test_fragments_like_linux)
{
	static uint8_t f[1600], want[1600];
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	for (int i = 1; i <= 3; i++) {
		size_t n = vector_frame("ipv4-fragments.pcap", i, f, sizeof(f));
		inject(&h, f, n);
		ck_assert_uint_eq(count(&h, "ip.delivered"), i == 3);
	}
	ck_assert_uint_eq(count(&h, "ip.fragments_rx"), 3);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	ck_assert_uint_eq(count(&h, "icmp.tx_echo_reply"), 1);
	ck_assert_uint_eq(h.s.reasm.count, 0);

	uint16_t id = 0;
	for (int i = 4; i <= 6; i++) {
		struct ipv4_hdr mine, theirs;
		size_t wn = vector_frame("ipv4-fragments.pcap", i, want, sizeof(want));
		ck_assert_ptr_null(ipv4_parse(want + ETH_HDR_LEN, wn - ETH_HDR_LEN, &theirs));
		struct pkt *r = expect_tx(&h);
		ck_assert_uint_eq(r->len, wn);
		ck_assert_mem_eq(r->data, want, ETH_HDR_LEN);
		ck_assert_ptr_null(ipv4_parse(r->data + ETH_HDR_LEN, r->len - ETH_HDR_LEN, &mine));
		ck_assert_uint_eq(mine.total_len, theirs.total_len);
		ck_assert_uint_eq(mine.frag, theirs.frag);
		ck_assert_uint_eq(mine.src, HOST);
		ck_assert_uint_eq(mine.dst, PEER);
		if (i == 4)
			id = mine.id;
		ck_assert_uint_eq(mine.id, id);
		/* the data: the ICMP reply, cut at the same places */
		size_t l4 = ETH_HDR_LEN + IPV4_HDR_LEN;
		ck_assert_mem_eq(r->data + l4, want + l4, wn - l4);
		pkt_free(r);
	}
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "ip.fragments_tx"), 3);
	harness_fini(&h);
}
END_TEST

START_TEST(test_unknown_protocol_counted)
{
	struct harness h;
	uint8_t f[128];
	uint8_t data[8] = { 0 };

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	size_t n = build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, 253, data, sizeof(data));
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "ip.unknown_protocol"), 1);
	ck_assert_uint_eq(count(&h, "ip.delivered"), 0);
	pkt_free(expect_tx(&h)); /* protocol unreachable: see check_icmp.c */
	harness_fini(&h);
}
END_TEST

/* ---- Output ---- */

static struct pkt *payload(size_t len)
{
	struct pkt *p = pkt_alloc(len);
	ck_assert_ptr_nonnull(p);
	uint8_t *d = pkt_put(p, len);
	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)i;
	return p;
}

START_TEST(test_output_header)
{
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	uint16_t id = ipv4_ident_peek(&h.s.ip_ident, HOST, PEER, 253);
	uint16_t id_udp = ipv4_ident_peek(&h.s.ip_ident, HOST, PEER, IP_PROTO_UDP);
	ck_assert_int_eq(ipv4_output(&h.s, payload(100),
				&(struct ipv4_tx){ .dst = PEER, .proto = 253 }), 0);
	ck_assert_int_eq(ipv4_output(&h.s, payload(10),
				&(struct ipv4_tx){ .dst = PEER, .proto = IP_PROTO_UDP, .ttl = 7 }), 0);

	struct pkt *r = expect_tx(&h);
	const uint8_t *ip = r->data + ETH_HDR_LEN;
	struct ipv4_hdr hd;
	ck_assert_mem_eq(r->data, t_mac_peer, ETH_ALEN);
	ck_assert_mem_eq(r->data + ETH_ALEN, t_mac_host, ETH_ALEN);
	ck_assert_uint_eq(be16_get(r->data + 12), ETH_TYPE_IPV4);
	ck_assert_ptr_null(ipv4_parse(ip, r->len - ETH_HDR_LEN, &hd));
	ck_assert_uint_eq(ip[0], 0x45);
	ck_assert_uint_eq(hd.total_len, 120);
	ck_assert_uint_eq(hd.id, id);
	ck_assert_uint_eq(hd.frag, 0);
	ck_assert_uint_eq(hd.ttl, IPV4_DEFAULT_TTL);
	ck_assert_uint_eq(hd.proto, 253);
	ck_assert_uint_eq(hd.src, HOST);
	ck_assert_uint_eq(hd.dst, PEER);
	ck_assert_uint_eq(ip[IPV4_HDR_LEN + 99], 99);
	pkt_free(r);

	r = expect_tx(&h);
	ip = r->data + ETH_HDR_LEN;
	ck_assert_ptr_null(ipv4_parse(ip, r->len - ETH_HDR_LEN, &hd));
	ck_assert_uint_eq(hd.total_len, 30);
	ck_assert_uint_eq(hd.id, id_udp); /* its own sequence (RFC 6864 4.1) */
	ck_assert_uint_eq(hd.ttl, 7);
	ck_assert_uint_eq(hd.proto, IP_PROTO_UDP);
	pkt_free(r);
	ck_assert_uint_eq(count(&h, "ip.tx"), 2);
	ck_assert_uint_eq(ipv4_ident_peek(&h.s.ip_ident, HOST, PEER, 253), (uint16_t)(id + 1));
	ck_assert_uint_eq(ipv4_ident_peek(&h.s.ip_ident, HOST, PEER, IP_PROTO_UDP),
			  (uint16_t)(id_udp + 1));
	harness_fini(&h);
}
END_TEST

/* Sends a 40-byte UDP-numbered datagram to dst (by the gateway) and
 * returns the identification of the frame that leaves (one frame). */
static uint16_t sent_id(struct harness *h, uint32_t dst, uint16_t df)
{
	struct pkt *p = pkt_alloc(40);
	memset(pkt_put(p, 40), 0, 40);
	ck_assert_int_eq(ipv4_output(&h->s, p,
				&(struct ipv4_tx){ .dst = dst, .proto = IP_PROTO_UDP,
						   .df = df ? IP_DF_DO : IP_DF_DONT }), 0);
	struct pkt *r = expect_tx(h);
	struct ipv4_hdr hd;
	ck_assert_ptr_null(ipv4_parse(r->data + ETH_HDR_LEN, r->len - ETH_HDR_LEN, &hd));
	ck_assert_uint_eq(hd.dst, dst);
	ck_assert_uint_eq(hd.frag & IPV4_FLAG_DF, df);
	pkt_free(r);
	return hd.id;
}

/* Issue 20: one global sequential identification lets anyone who talks
 * to the host count what it sends to others (the idle scan). RFC 6864
 * 4.1, RFC 7739 5.3: the sequence destination A sees does not advance
 * when the host sends to B, and B's identifications are not the next
 * numbers of A's. (That fragments of one datagram share theirs:
 * check_frag.c's take_datagram checks it of every datagram cut.) */
START_TEST(test_output_ids_per_destination)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", "10.0.0.1");
	harness_learn_peer(&h);
	const uint32_t a = IP(192, 0, 2, 1), b = IP(198, 51, 100, 7);
	uint16_t a0 = sent_id(&h, a, 0);
	uint16_t b0 = sent_id(&h, b, 0);
	uint16_t b1 = sent_id(&h, b, IPV4_FLAG_DF);
	uint16_t a1 = sent_id(&h, a, IPV4_FLAG_DF);
	ck_assert_msg(a1 == (uint16_t)(a0 + 1),
		      "A saw ids %u then %u: the datagrams to B moved its sequence", a0, a1);
	ck_assert_uint_eq(b1, (uint16_t)(b0 + 1)); /* B has a sequence of its own */
	ck_assert_uint_ne(b0, (uint16_t)(a0 + 1));
	for (int i = 0; i < 100; i++)
		sent_id(&h, b, 0);
	ck_assert_uint_eq(sent_id(&h, a, 0), (uint16_t)(a0 + 2));
	harness_fini(&h);
}
END_TEST

START_TEST(test_output_given_source)
{
	struct harness h;
	struct ipv4_hdr hd;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	ck_assert_int_eq(ipv4_output(&h.s, payload(4),
				&(struct ipv4_tx){ .src = IP(10, 0, 0, 9), .dst = PEER, .proto = 253 }), 0);
	struct pkt *r = expect_tx(&h);
	ck_assert_ptr_null(ipv4_parse(r->data + ETH_HDR_LEN, r->len - ETH_HDR_LEN, &hd));
	ck_assert_uint_eq(hd.src, IP(10, 0, 0, 9));
	pkt_free(r);
	harness_fini(&h);
}
END_TEST

START_TEST(test_output_no_route)
{
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	int err = ipv4_output(&h.s, payload(20),
				&(struct ipv4_tx){ .dst = IP(192, 168, 1, 1), .proto = 253 });
	ck_assert_int_eq(err, -ENETUNREACH);
	ck_assert_uint_eq(count(&h, "ip.no_route"), 1);
	ck_assert_uint_eq(count(&h, "ip.tx"), 0);
	expect_no_tx(&h);
	ck_assert_int_eq(icmp_send_echo(&h.s, IP(8, 8, 8, 8), 1, 1, NULL, 0), -ENETUNREACH);
	ck_assert_uint_eq(count(&h, "ip.no_route"), 2);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_output_too_big)
{
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	/* 1473 bytes of echo data: 8 + 1473 + 20 = 1501 > 1500. With DF it is
	 * refused (RFC 791 3.2) ... */
	ck_assert_int_eq(ipv4_output(&h.s, payload(ICMP_HDR_LEN + 1473),
				&(struct ipv4_tx){ .dst = PEER, .proto = IP_PROTO_ICMP, .df = IP_DF_DO }),
			 -EMSGSIZE);
	ck_assert_uint_eq(count(&h, "ip.tx_too_big"), 1);
	expect_no_tx(&h);
	/* ... without, it goes in two fragments (see check_frag.c) */
	static const uint8_t data[1473];
	ck_assert_int_eq(icmp_send_echo(&h.s, PEER, 1, 1, data, sizeof(data)), 0);
	struct pkt *r = expect_tx(&h);
	ck_assert_uint_eq(r->len, ETH_MAX_FRAME);
	ck_assert_uint_eq(be16_get(r->data + ETH_HDR_LEN + 6), IPV4_FLAG_MF | 0);
	pkt_free(r);
	r = expect_tx(&h);
	ck_assert_uint_eq(be16_get(r->data + ETH_HDR_LEN + 2), IPV4_HDR_LEN + 1);
	ck_assert_uint_eq(be16_get(r->data + ETH_HDR_LEN + 6), 1480 / 8);
	pkt_free(r);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "ip.fragmented"), 1);
	/* RFC 791 3.1: more than 65535 bytes cannot be said in a header */
	ck_assert_int_eq(ipv4_output(&h.s, payload(65535 - IPV4_HDR_LEN + 1),
				&(struct ipv4_tx){ .dst = PEER, .proto = 253 }),
			 -EMSGSIZE);
	ck_assert_uint_eq(count(&h, "ip.tx_too_big"), 2);
	expect_no_tx(&h);
	/* exactly the MTU goes whole, DF or not */
	ck_assert_int_eq(ipv4_output(&h.s, payload(1480),
				&(struct ipv4_tx){ .dst = PEER, .proto = 253, .df = IP_DF_DO }), 0);
	r = expect_tx(&h);
	ck_assert_uint_eq(r->len, ETH_MAX_FRAME);
	ck_assert_uint_eq(be16_get(r->data + ETH_HDR_LEN + 6), IPV4_FLAG_DF);
	pkt_free(r);
	ck_assert_int_eq(ipv4_output(&h.s, payload(1480),
				&(struct ipv4_tx){ .dst = PEER, .proto = 253 }), 0);
	r = expect_tx(&h);
	ck_assert_uint_eq(r->len, ETH_MAX_FRAME);
	pkt_free(r);
	ck_assert_uint_eq(count(&h, "ip.fragmented"), 1);
	harness_fini(&h);
}
END_TEST

START_TEST(test_output_via_gateway)
{
	struct harness h;

	harness_init(&h, "10.0.0.2/24", "10.0.0.1");
	/* off-link: ARP asks for the gateway, not for the destination */
	ck_assert_int_eq(ipv4_output(&h.s, payload(8),
				&(struct ipv4_tx){ .dst = IP(8, 8, 8, 8), .proto = 253 }), 0);
	struct pkt *r = expect_tx(&h);
	ck_assert_uint_eq(be16_get(r->data + 12), ETH_TYPE_ARP);
	ck_assert_uint_eq(be32_get(r->data + ETH_HDR_LEN + 24), PEER); /* target protocol address */
	pkt_free(r);
	expect_no_tx(&h);
	/* on-link: asks for the destination itself */
	ck_assert_int_eq(ipv4_output(&h.s, payload(8),
				&(struct ipv4_tx){ .dst = IP(10, 0, 0, 7), .proto = 253 }), 0);
	r = expect_tx(&h);
	ck_assert_uint_eq(be32_get(r->data + ETH_HDR_LEN + 24), IP(10, 0, 0, 7));
	pkt_free(r);
	harness_fini(&h); /* the queued datagrams are freed with the ARP cache */
}
END_TEST

START_TEST(test_output_broadcast)
{
	static const uint32_t dst[] = { IP4_BROADCAST, IP(10, 0, 0, 255) };
	struct harness h;
	struct ipv4_hdr hd;

	harness_init(&h, "10.0.0.2/24", NULL);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(ipv4_output(&h.s, payload(8),
					&(struct ipv4_tx){ .dst = dst[i], .proto = 253 }), 0);
		struct pkt *r = expect_tx(&h);
		ck_assert_mem_eq(r->data, eth_broadcast, ETH_ALEN);
		ck_assert_uint_eq(be16_get(r->data + 12), ETH_TYPE_IPV4);
		ck_assert_ptr_null(ipv4_parse(r->data + ETH_HDR_LEN, r->len - ETH_HDR_LEN, &hd));
		ck_assert_uint_eq(hd.dst, dst[i]);
		ck_assert_uint_eq(hd.src, HOST);
		pkt_free(r);
	}
	harness_fini(&h);
}
END_TEST

/* ---- Routes ---- */

static struct route mkroute(const char *prefix, int len, const char *gw, int ifindex, int metric)
{
	struct route r = { .len = len, .ifindex = ifindex, .metric = metric, .origin = "static" };
	ck_assert_int_eq(ipaddr_pton(prefix, &r.prefix), 0);
	if (gw)
		ck_assert_int_eq(ipaddr_pton(gw, &r.gw), 0);
	return r;
}

static const struct route *lookup(const struct route_table *t, const char *dst)
{
	struct ipaddr a;
	ck_assert_int_eq(ipaddr_pton(dst, &a), 0);
	return route_lookup(t, &a);
}

START_TEST(test_route_longest_prefix)
{
	struct route_table t;
	route_table_init(&t);
	struct route r0 = mkroute("0.0.0.0", 0, "10.0.0.1", 0, 0);
	struct route r8 = mkroute("10.0.0.0", 8, "10.0.0.254", 1, 0);
	struct route r24 = mkroute("10.0.0.0", 24, NULL, 2, 0);
	struct route r32 = mkroute("10.0.0.77", 32, "10.0.0.3", 3, 0);

	ck_assert_ptr_null(lookup(&t, "10.0.0.5"));
	/* added out of order: the order must not matter */
	ck_assert_int_eq(route_add(&t, &r24), 0);
	ck_assert_int_eq(route_add(&t, &r0), 0);
	ck_assert_int_eq(route_add(&t, &r32), 0);
	ck_assert_int_eq(route_add(&t, &r8), 0);

	ck_assert_int_eq(lookup(&t, "10.0.0.5")->ifindex, 2);
	ck_assert_int_eq(lookup(&t, "10.0.0.77")->ifindex, 3);
	ck_assert_int_eq(lookup(&t, "10.0.0.78")->ifindex, 2);
	ck_assert_int_eq(lookup(&t, "10.9.0.1")->ifindex, 1);
	ck_assert_int_eq(lookup(&t, "11.0.0.1")->ifindex, 0);
	ck_assert_int_eq(lookup(&t, "255.255.255.254")->ifindex, 0);

	/* next hop: the gateway, or the destination for an on-link route */
	struct ipaddr d, nh;
	ipaddr_pton("10.0.0.5", &d);
	nh = route_nexthop(lookup(&t, "10.0.0.5"), &d);
	ck_assert(ipaddr_eq(&nh, &d));
	ipaddr_pton("11.0.0.1", &d);
	nh = route_nexthop(lookup(&t, "11.0.0.1"), &d);
	ck_assert_uint_eq(ipaddr_to_v4(&nh), PEER);

	/* without the default route, nothing outside 10/8 */
	ck_assert_int_eq(route_del(&t, &r0.prefix, 0, &r0.gw), 0);
	ck_assert_ptr_null(lookup(&t, "11.0.0.1"));
	ck_assert_int_eq(lookup(&t, "10.200.0.1")->ifindex, 1);
}
END_TEST

START_TEST(test_route_metric_tiebreak)
{
	struct route_table t;
	route_table_init(&t);
	struct route a = mkroute("0.0.0.0", 0, "10.0.0.1", 0, 20);
	struct route b = mkroute("0.0.0.0", 0, "10.0.0.254", 1, 10);
	struct route c = mkroute("0.0.0.0", 0, "10.0.0.253", 2, 10);

	ck_assert_int_eq(route_add(&t, &a), 0);
	ck_assert_int_eq(lookup(&t, "1.2.3.4")->ifindex, 0);
	ck_assert_int_eq(route_add(&t, &b), 0);
	ck_assert_int_eq(route_add(&t, &c), 0);
	/* lowest metric wins; between equal metrics the first added */
	ck_assert_int_eq(lookup(&t, "1.2.3.4")->ifindex, 1);
	ck_assert_int_eq(route_del(&t, &b.prefix, 0, &b.gw), 0);
	ck_assert_int_eq(lookup(&t, "1.2.3.4")->ifindex, 2);
	/* a longer prefix beats any metric */
	struct route d = mkroute("1.2.3.0", 24, NULL, 3, 1000);
	ck_assert_int_eq(route_add(&t, &d), 0);
	ck_assert_int_eq(lookup(&t, "1.2.3.4")->ifindex, 3);
}
END_TEST

START_TEST(test_route_add_del_errors)
{
	struct route_table t;
	route_table_init(&t);
	struct route r = mkroute("10.0.0.9", 24, NULL, 0, 0);

	ck_assert_int_eq(route_add(&t, &r), 0);
	/* stored masked, so the same prefix written another way is a duplicate */
	ck_assert_uint_eq(ipaddr_to_v4(&t.r[0].prefix), IP(10, 0, 0, 0));
	struct route same = mkroute("10.0.0.200", 24, NULL, 1, 5);
	ck_assert_int_eq(route_add(&t, &same), -EEXIST);
	/* a different gateway is another route */
	struct route gw = mkroute("10.0.0.0", 24, "10.0.0.1", 0, 0);
	ck_assert_int_eq(route_add(&t, &gw), 0);
	ck_assert_int_eq(route_add(&t, &gw), -EEXIST);

	struct route bad = mkroute("10.0.0.0", 33, NULL, 0, 0);
	ck_assert_int_eq(route_add(&t, &bad), -EINVAL);
	bad.len = -1;
	ck_assert_int_eq(route_add(&t, &bad), -EINVAL);
	struct route mixed = mkroute("10.0.0.0", 8, "fd00::1", 0, 0);
	ck_assert_int_eq(route_add(&t, &mixed), -EINVAL);
	struct route unset = { .len = 0 };
	ck_assert_int_eq(route_add(&t, &unset), -EINVAL);

	/* delete matches prefix (masked), length and gateway */
	struct ipaddr p;
	ipaddr_pton("10.0.0.5", &p);
	ck_assert_int_eq(route_del(&t, &p, 16, NULL), -ENOENT);
	ck_assert_int_eq(route_del(&t, &p, 24, &same.gw), 0);
	ck_assert_int_eq(route_del(&t, &p, 24, NULL), -ENOENT);
	ck_assert_int_eq(t.n, 1);
	ck_assert_int_eq(route_del(&t, &p, 24, &gw.gw), 0);
	ck_assert_int_eq(t.n, 0);

	/* full */
	for (int i = 0; i < ROUTE_MAX; i++) {
		struct route x = { .prefix = ipaddr_v4(IP(20, i, 0, 0)), .len = 16 };
		ck_assert_int_eq(route_add(&t, &x), 0);
	}
	ck_assert_int_eq(route_add(&t, &r), -ENOSPC);
}
END_TEST

START_TEST(test_route_ipv6)
{
	struct route_table t;
	route_table_init(&t);
	struct route v4 = mkroute("0.0.0.0", 0, "10.0.0.1", 0, 0);
	struct route v6def = mkroute("::", 0, "fd00::1", 1, 0);
	struct route v6net = mkroute("fd00::", 64, NULL, 2, 0);
	struct route v6host = mkroute("fd00::77", 128, NULL, 3, 0);

	ck_assert_int_eq(route_add(&t, &v4), 0);
	ck_assert_ptr_null(lookup(&t, "fd00::5")); /* families never mix */
	ck_assert_int_eq(route_add(&t, &v6def), 0);
	ck_assert_int_eq(route_add(&t, &v6net), 0);
	ck_assert_int_eq(route_add(&t, &v6host), 0);
	ck_assert_int_eq(lookup(&t, "fd00::5")->ifindex, 2);
	ck_assert_int_eq(lookup(&t, "fd00::77")->ifindex, 3);
	ck_assert_int_eq(lookup(&t, "fd00:0:0:1::5")->ifindex, 1);
	ck_assert_int_eq(lookup(&t, "10.1.1.1")->ifindex, 0);
	struct route bad = mkroute("fd00::", 129, NULL, 0, 0);
	ck_assert_int_eq(route_add(&t, &bad), -EINVAL);
}
END_TEST

static const char *test_ifname(void *ctx, int ifindex)
{
	(void)ctx;
	return ifindex == 0 ? "tap0" : "tap1";
}

START_TEST(test_route_dump)
{
	struct route_table t;
	char *text = NULL;
	size_t size = 0;

	route_table_init(&t);
	struct route c = mkroute("10.0.0.0", 24, NULL, 0, 0);
	c.origin = "connected";
	struct route d = mkroute("0.0.0.0", 0, "10.0.0.1", 0, 0);
	struct route s6 = mkroute("fd00::", 64, NULL, 1, 256);
	ck_assert_int_eq(route_add(&t, &c), 0);
	ck_assert_int_eq(route_add(&t, &d), 0);
	ck_assert_int_eq(route_add(&t, &s6), 0);

	FILE *out = open_memstream(&text, &size);
	route_dump(&t, out, test_ifname, NULL);
	fclose(out);
	ck_assert_str_eq(text, "10.0.0.0/24 dev tap0 metric 0 connected\n"
			       "default via 10.0.0.1 dev tap0 metric 0 static\n"
			       "fd00::/64 dev tap1 metric 256 static\n");
	free(text);

	out = open_memstream(&text, &size);
	route_dump(&t, out, NULL, NULL);
	fclose(out);
	ck_assert_str_eq(text, "10.0.0.0/24 dev if0 metric 0 connected\n"
			       "default via 10.0.0.1 dev if0 metric 0 static\n"
			       "fd00::/64 dev if1 metric 256 static\n");
	free(text);
}
END_TEST

START_TEST(test_stack_routes)
{
	struct harness h;

	harness_init(&h, "10.0.0.2/24", "10.0.0.1");
	/* the connected route and the default route the harness set up */
	ck_assert_int_eq(lookup(&h.s.routes, "10.0.0.9")->len, 24);
	ck_assert_int_eq(lookup(&h.s.routes, "8.8.8.8")->len, 0);
	harness_fini(&h);
}
END_TEST

Suite *ipv4_suite(void)
{
	Suite *s = suite_create("ipv4");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, test_parse_captured_echo);
	tcase_add_test(tc, test_parse_captured_fragments);
	tcase_add_test(tc, test_pseudo_sum_udp_capture);
	tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_add_test(tc, test_options_still_answered);
	tcase_add_test(tc, test_ethernet_padding_trimmed);
	tcase_add_loop_test(tc, test_address_checks, 0,
			    (int)(sizeof(addr_cases) / sizeof(addr_cases[0])));
	tcase_add_test(tc, test_broadcast_destinations_accepted);
	tcase_add_test(tc, test_fragments_like_linux);
	tcase_add_test(tc, test_unknown_protocol_counted);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, test_output_header);
	tcase_add_test(tc, test_output_ids_per_destination);
	tcase_add_test(tc, test_output_given_source);
	tcase_add_test(tc, test_output_no_route);
	tcase_add_test(tc, test_output_too_big);
	tcase_add_test(tc, test_output_via_gateway);
	tcase_add_test(tc, test_output_broadcast);
	suite_add_tcase(s, tc);

	tc = tcase_create("route");
	tcase_add_test(tc, test_route_longest_prefix);
	tcase_add_test(tc, test_route_metric_tiebreak);
	tcase_add_test(tc, test_route_add_del_errors);
	tcase_add_test(tc, test_route_ipv6);
	tcase_add_test(tc, test_route_dump);
	tcase_add_test(tc, test_stack_routes);
	suite_add_tcase(s, tc);
	return s;
}

/* IPv6 fragmentation, reassembly and path MTU: fragments in order,
 * reversed, shuffled and duplicated; overlaps that drop the whole datagram
 * (RFC 5722); the 60 s timeout and its time exceeded; the memory budget
 * shared with IPv4; bad lengths, datagrams over 65535 bytes, atomic
 * fragments (RFC 6946), first fragments without the header chain (RFC
 * 7112), fragments inside fragments; Linux's `ping -6 -s 4000`
 * (tests/vectors/ipv6-fragments.pcap) reassembled and answered like Linux
 * does; echo replies cut as RFC 8200 4.5 says; Packet Too Big lowering the
 * path MTU (RFC 8201), clamped at 1280, aging out after 10 minutes; and
 * IPv4's "fragmentation needed" in the same cache (RFC 1191). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip/icmp.h"
#include "ip/icmpv6.h"
#include "ip/ip.h"
#include "ip/ipv4.h"
#include "ip/ipv4_frag.h"
#include "ip/ipv6.h"
#include "ip/ipv6_frag.h"
#include "ip/ndp.h"
#include "ip/pmtu.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/rng.h"
#include "tests/harness.h"
#include "tests/tcp_harness.h"
#include "stack/ring.h"
#include "tcp/tcp_codec.h"

#define PCAP "ipv6-fragments.pcap"
#define L3 ETH_HDR_LEN
#define L4 (ETH_HDR_LEN + IPV6_HDR_LEN)
#define LF (L4 + IP6_FRAG_HDR_LEN)        /* fragment data in a frame */
#define MTU 1500
#define PIECE 1448                        /* floor((1500 - 48) / 8) * 8 */
#define ID 0xf9242676u
#define MAX_PIECES 8192

static uint8_t msg[65536];   /* the ICMPv6 message the peer sends */
static uint8_t want[65536];  /* the reply the host should send */
static uint8_t got[65536];   /* the reply as the test put it back together */

static uint64_t count(struct harness *h, const char *name)
{
	return stats_get(&h->s.stats, name);
}

/* Writes Ethernet + the IPv6 header fd00::1 -> fd00::2 (next nh, payload
 * plen) at buf. */
static void head6(uint8_t *buf, const char *src, uint8_t nh, size_t plen)
{
	struct eth_hdr e = { .type = ETH_TYPE_IPV6 };
	memcpy(e.dst, t_mac_host, ETH_ALEN);
	memcpy(e.src, t_mac_peer, ETH_ALEN);
	eth_emit(&e, buf);
	struct ipv6_hdr h = {
		.version = 6, .payload_len = (uint16_t)plen, .next = nh, .hop_limit = 64,
		.src = v6(src), .dst = v6("fd00::2"),
	};
	ipv6_emit(&h, buf + L3);
}

/* Builds a fragment from fd00::1 to the host: fragment header (next nh,
 * byte offset off, M more, identification id), then len bytes of data.
 * Returns the frame length. */
static size_t frag_frame(uint8_t *buf, uint8_t nh, uint32_t id, size_t off, bool more,
			 const uint8_t *data, size_t len)
{
	head6(buf, "fd00::1", IP6_NH_FRAGMENT, IP6_FRAG_HDR_LEN + len);
	struct ipv6_frag_hdr f = { .next = nh, .offset = (uint16_t)off, .more = more, .id = id };
	ipv6_frag_emit(&f, buf + L4);
	memcpy(buf + LF, data, len);
	return LF + len;
}

/* Injects one ICMPv6 fragment of datagram id. */
static void inject_frag(struct harness *h, uint32_t id, size_t off, bool more, const uint8_t *data,
			size_t len)
{
	static uint8_t f[2048];
	ck_assert_uint_le(len, sizeof(f) - LF);
	inject(h, f, frag_frame(f, IP6_NH_ICMPV6, id, off, more, data, len));
}

/* Builds in msg an echo request fd00::1 -> fd00::2 with datalen bytes of a
 * pattern that depends on seq, and in want the reply the host owes.
 * Returns the ICMPv6 message length. */
static size_t make_echo(uint16_t seq, size_t datalen)
{
	size_t len = ICMP6_HDR_LEN + datalen;
	struct ipaddr peer = v6("fd00::1"), host = v6("fd00::2");
	ck_assert_uint_le(len, sizeof(msg));
	for (size_t i = 0; i < datalen; i++)
		msg[ICMP6_HDR_LEN + i] = (uint8_t)(i * 13 + 1 + seq);
	memcpy(want, msg, len);
	struct icmpv6_hdr q = { .type = ICMP6_ECHO_REQUEST, .rest = 0xbeef0000u | seq };
	icmpv6_emit(&q, msg, len, &peer, &host);
	struct icmpv6_hdr r = { .type = ICMP6_ECHO_REPLY, .rest = 0xbeef0000u | seq };
	icmpv6_emit(&r, want, len, &host, &peer);
	return len;
}

/* Sends msg (len bytes) as datagram id in pieces of piece bytes, in the
 * order given (NULL: in order). Returns the number of pieces. */
static size_t send_pieces(struct harness *h, uint32_t id, size_t len, size_t piece,
			  const size_t *order)
{
	size_t k = (len + piece - 1) / piece;
	ck_assert_uint_le(k, MAX_PIECES);
	for (size_t i = 0; i < k; i++) {
		size_t j = order ? order[i] : i;
		size_t off = j * piece, n = len - off < piece ? len - off : piece;
		inject_frag(h, id, off, j + 1 < k, msg + off, n);
	}
	return k;
}

/* True if the frame r is a neighbor solicitation (NUD probes its way
 * when time passes; the tests here do not care). */
static bool is_ns(const struct pkt *r)
{
	return r->len > L4 && be16_get(r->data + 12) == ETH_TYPE_IPV6 &&
	       r->data[L3 + 6] == IP6_NH_ICMPV6 && r->data[L4] == ICMP6_NEIGHBOR_SOLICIT;
}

/* The next frame the host sent that is not a neighbor solicitation. */
static struct pkt *next_tx(struct harness *h)
{
	for (;;) {
		struct pkt *r = expect_tx(h);
		if (!is_ns(r))
			return r;
		pkt_free(r);
	}
}

/* Fails the test if the host sent anything but neighbor solicitations. */
static void expect_quiet(struct harness *h)
{
	while (testdev_sent_count(h->dev)) {
		struct pkt *r = testdev_take_sent(h->dev);
		bool ns = is_ns(r);
		size_t len = r->len;
		pkt_free(r);
		ck_assert_msg(ns, "expected silence, the host sent a %zu-byte frame", len);
	}
}

/* What take_datagram saw. */
struct taken {
	size_t len;           /* payload bytes (the ICMPv6 message) */
	size_t frames;
	uint32_t id;          /* the fragments' identification */
	size_t lens[64];      /* each frame's length */
};

/* Takes the frames of one datagram the host sent to fd00::1 (one frame,
 * or fragments up to the one with M clear) and checks them against RFC
 * 8200 4.5 for pieces of piece bytes: a valid IPv6 header, next header 44,
 * the same identification, offsets in order without gaps, M on all but the
 * last, piece bytes of data in all but the last. Copies the payload to out. */
static struct taken take_datagram(struct harness *h, uint8_t *out, size_t piece)
{
	struct taken t = { 0 };
	struct ipaddr host = v6("fd00::2"), peer = v6("fd00::1");
	bool more = true;

	while (more) {
		struct pkt *r = next_tx(h);
		struct ipv6_hdr ip;
		ck_assert_uint_le(r->len, ETH_HDR_LEN + MTU);
		ck_assert_mem_eq(r->data, t_mac_peer, ETH_ALEN);
		ck_assert_uint_eq(be16_get(r->data + 12), ETH_TYPE_IPV6);
		ck_assert_ptr_null(ipv6_parse(r->data + L3, r->len - L3, &ip));
		ck_assert_uint_eq(r->len, L4 + ip.payload_len);
		ck_assert(ipaddr_eq(&ip.src, &host));
		ck_assert(ipaddr_eq(&ip.dst, &peer));
		if (t.frames < 64)
			t.lens[t.frames] = r->len;
		if (t.frames == 0 && ip.next == IP6_NH_ICMPV6) { /* not cut */
			memcpy(out, r->data + L4, ip.payload_len);
			t.len = ip.payload_len;
			t.frames = 1;
			pkt_free(r);
			return t;
		}
		ck_assert_uint_eq(ip.next, IP6_NH_FRAGMENT);
		struct ipv6_frag_hdr f;
		ipv6_frag_parse(r->data + L4, &f);
		ck_assert_uint_eq(f.next, IP6_NH_ICMPV6);
		ck_assert_uint_eq(r->data[L4 + 1], 0); /* reserved */
		if (t.frames == 0)
			t.id = f.id;
		ck_assert_uint_eq(f.id, t.id);
		ck_assert_uint_eq(f.offset, t.len);
		size_t dlen = ip.payload_len - IP6_FRAG_HDR_LEN;
		more = f.more;
		if (more)
			ck_assert_uint_eq(dlen, piece);
		else
			ck_assert_uint_le(dlen, piece);
		memcpy(out + t.len, r->data + LF, dlen);
		t.len += dlen;
		t.frames++;
		pkt_free(r);
	}
	return t;
}

/* Expects the host's echo reply to the len-byte message in msg: the bytes
 * of want, in ceil(len / piece) fragments (one frame if it fits). */
static struct taken expect_reply(struct harness *h, size_t len, size_t piece, unsigned mtu)
{
	struct taken t = take_datagram(h, got, piece);
	ck_assert_uint_eq(t.len, len);
	ck_assert_uint_eq(t.frames, len + IPV6_HDR_LEN <= mtu ? 1 : (len + piece - 1) / piece);
	ck_assert_mem_eq(got, want, len);
	return t;
}

/* Nothing is left in the IPv6 reassembly table. */
static void expect_table_empty(struct harness *h)
{
	ck_assert_uint_eq(h->s.reasm6.count, 0);
	ck_assert_uint_eq(h->s.reasm6.bytes, 0);
	ck_assert_ptr_null(h->s.reasm6.list);
}

/* The harness host with IPv6 on, fd00::2/64 preferred, and fd00::1 known
 * from its neighbor solicitation (ipv6-ndp-echo.pcap frame 1). */
static void start(struct harness *h)
{
	uint8_t f[256];
	harness_init(h, "10.0.0.2/24", NULL);
	struct ipaddr a = v6("fd00::2");
	ck_assert_int_eq(ndp_addr_add(&h->s, h->ifp, &a, 64), 0);
	h->ifp->ip6.solicit_routers = false;
	advance(h, 0);
	pkt_free(expect_tx(h)); /* DAD for the link-local address */
	pkt_free(expect_tx(h)); /* DAD for fd00::2 */
	advance(h, NDP_RETRANS_US);
	inject(h, f, vector_frame("ipv6-ndp-echo.pcap", 1, f, sizeof(f)));
	pkt_free(expect_tx(h)); /* the NA */
	/* sending the NA took the entry to DELAY; answer the probe, so that
	 * fd00::1 is REACHABLE, then STALE: quiet however long a test waits */
	advance(h, NDP_DELAY_US);
	pkt_free(expect_tx(h)); /* the unicast NS */
	uint8_t na[32];
	struct ipaddr peer = v6("fd00::1"), host = v6("fd00::2");
	memset(na, 0, sizeof(na));
	memcpy(na + ICMP6_HDR_LEN, peer.a, 16);
	na[24] = NDP_OPT_TLLA;
	na[25] = 1;
	memcpy(na + 26, t_mac_peer, ETH_ALEN);
	struct icmpv6_hdr ih = { .type = ICMP6_NEIGHBOR_ADVERT, .rest = NDP_NA_SOLICITED };
	icmpv6_emit(&ih, na, sizeof(na), &peer, &host);
	head6(f, "fd00::1", IP6_NH_ICMPV6, sizeof(na));
	f[L3 + 7] = NDP_HOP_LIMIT;
	memcpy(f + L4, na, sizeof(na));
	inject(h, f, L4 + sizeof(na));
	ck_assert_int_eq(ndp_cache_lookup(&h->s.ndp, &peer)->state, NDP_REACHABLE);
	expect_no_tx(h);
}

/* Takes the host's next frame and checks it is an ICMPv6 error of type and
 * code with param (pointer or MTU) to fd00::1, quoting a datagram that
 * starts with the IPv6 header of frame (from L3). */
static void expect_icmp6_error(struct harness *h, uint8_t type, uint8_t code, uint32_t param,
			       const uint8_t *frame)
{
	struct pkt *r = next_tx(h);
	struct ipv6_hdr ip;
	struct icmpv6_hdr ih;
	ck_assert_ptr_null(ipv6_parse(r->data + L3, r->len - L3, &ip));
	ck_assert_uint_eq(ip.next, IP6_NH_ICMPV6);
	struct ipaddr peer = v6("fd00::1");
	ck_assert(ipaddr_eq(&ip.dst, &peer));
	ck_assert_ptr_null(icmpv6_parse(r->data + L4, ip.payload_len, &ip.src, &ip.dst, &ih));
	ck_assert_uint_eq(ih.type, type);
	ck_assert_uint_eq(ih.code, code);
	ck_assert_uint_eq(ih.rest, param);
	ck_assert_mem_eq(r->data + L4 + ICMP6_HDR_LEN, frame + L3, IPV6_HDR_LEN);
	pkt_free(r);
}

/* Fisher-Yates over order[0..k). */
static void shuffle(size_t *order, size_t k, struct rng *r)
{
	for (size_t i = 0; i < k; i++)
		order[i] = i;
	for (size_t i = k - 1; i > 0; i--) {
		size_t j = rng_below(r, i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/* ---- Reassembly: order ---- */

START_TEST(test_in_order)
{
	struct harness h;
	start(&h);
	size_t len = make_echo(1, 4000);
	ck_assert_uint_eq(send_pieces(&h, ID, len, PIECE, NULL), 3);
	ck_assert_uint_eq(count(&h, "ip6.fragments_rx"), 3);
	ck_assert_uint_eq(count(&h, "ip6.reassembled"), 1);
	ck_assert_uint_eq(count(&h, "icmp6.rx_echo_request"), 1);
	expect_reply(&h, len, PIECE, MTU);
	expect_quiet(&h);
	ck_assert_uint_eq(count(&h, "ip6.fragmented"), 1);
	ck_assert_uint_eq(count(&h, "ip6.fragments_tx"), 3);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_reverse)
{
	static size_t order[MAX_PIECES];
	struct harness h;
	start(&h);
	size_t len = make_echo(2, 4000);
	size_t k = (len + 63) / 64;
	for (size_t i = 0; i < k; i++)
		order[i] = k - 1 - i;
	send_pieces(&h, ID, len, 64, order);
	ck_assert_uint_eq(count(&h, "ip6.fragments_rx"), k);
	ck_assert_uint_eq(count(&h, "ip6.reassembled"), 1);
	expect_reply(&h, len, PIECE, MTU);
	expect_quiet(&h);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_shuffled)
{
	static size_t order[MAX_PIECES];
	struct harness h;
	struct rng r;
	start(&h);
	rng_seed(&r, (uint64_t)_i + 1);
	size_t len = make_echo((uint16_t)_i, 1000 + rng_below(&r, 8000));
	size_t piece = 8 * (4 + rng_below(&r, 178)); /* 32 .. 1448 bytes */
	size_t k = (len + piece - 1) / piece;
	shuffle(order, k, &r);
	send_pieces(&h, ID + (uint32_t)_i, len, piece, order);
	ck_assert_uint_eq(count(&h, "ip6.reassembled"), 1);
	ck_assert_uint_eq(count(&h, "ip6.frag_duplicate") + count(&h, "ip6.frag_overlap"), 0);
	expect_reply(&h, len, PIECE, MTU);
	expect_quiet(&h);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_largest_shuffled)
{
	static size_t order[MAX_PIECES];
	struct harness h;
	struct rng r;
	start(&h);
	rng_seed(&r, 7);
	/* the largest payload: 65535 bytes of ICMPv6 */
	size_t len = make_echo(3, 65535 - ICMP6_HDR_LEN);
	size_t k = (len + PIECE - 1) / PIECE;
	shuffle(order, k, &r);
	send_pieces(&h, ID, len, PIECE, order);
	ck_assert_uint_eq(count(&h, "ip6.reassembled"), 1);
	struct taken t = expect_reply(&h, len, PIECE, MTU);
	ck_assert_uint_eq(t.frames, 46);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Reassembly: duplicates and overlaps ---- */

START_TEST(test_exact_duplicates)
{
	struct harness h;
	start(&h);
	size_t len = make_echo(4, 4000); /* [0,1448) [1448,2896) [2896,4008) */
	inject_frag(&h, ID, 2896, false, msg + 2896, len - 2896);
	inject_frag(&h, ID, 2896, false, msg + 2896, len - 2896);
	inject_frag(&h, ID, 0, true, msg, PIECE);
	inject_frag(&h, ID, 0, true, msg, PIECE);
	/* RFC 8200 4.5: exact duplicates are dropped alone */
	ck_assert_uint_eq(count(&h, "ip6.frag_duplicate"), 2);
	ck_assert_uint_eq(h.s.reasm6.list->nfrags, 2);
	expect_quiet(&h);
	inject_frag(&h, ID, PIECE, true, msg + PIECE, PIECE);
	ck_assert_uint_eq(count(&h, "ip6.reassembled"), 1);
	expect_reply(&h, len, PIECE, MTU);
	expect_table_empty(&h);
	ck_assert_uint_eq(count(&h, "ip6.frag_overlap"), 0);
	harness_fini(&h);
}
END_TEST

/* Fragments that share bytes with the held [1448, 2896) M of a 4008-byte
 * message without being an exact copy of it. */
static const struct {
	size_t off, len;
	bool more, other_data;
} overlaps[] = {
	{ 1440, 1448, true, false },  /* across its start */
	{ 1456, 1448, true, false },  /* across its end */
	{ 1456, 8, true, false },     /* inside it */
	{ 1448, 1448, true, true },   /* same place, other bytes */
	{ 1448, 1448, false, false }, /* same place and bytes, but M clear */
};

START_TEST(test_overlap_drops_datagram)
{
	static uint8_t other[2048];
	struct harness h;
	start(&h);
	size_t len = make_echo(5, 4000);
	inject_frag(&h, ID, PIECE, true, msg + PIECE, PIECE);
	const uint8_t *data = msg + overlaps[_i].off;
	if (overlaps[_i].other_data) {
		memcpy(other, data, overlaps[_i].len);
		other[100] ^= 0xff;
		data = other;
	}
	inject_frag(&h, ID, overlaps[_i].off, overlaps[_i].more, data, overlaps[_i].len);
	/* RFC 5722 3: the whole datagram goes, silently */
	ck_assert_uint_eq(count(&h, "ip6.frag_overlap") + count(&h, "ip6.frag_inconsistent"), 1);
	ck_assert_uint_eq(h.s.reasm6.bytes, 0);
	ck_assert_uint_eq(h.s.reasm6.list->nfrags, 0);
	/* ... and the fragments still to come */
	send_pieces(&h, ID, len, PIECE, NULL);
	ck_assert_uint_eq(count(&h, "ip6.frag_after_overlap"), 3);
	ck_assert_uint_eq(count(&h, "ip6.reassembled"), 0);
	expect_quiet(&h);
	/* at the deadline the dead entry goes without a time exceeded */
	advance(&h, REASM6_TIMEOUT_US);
	expect_quiet(&h);
	ck_assert_uint_eq(count(&h, "ip6.frag_timeout"), 0);
	expect_table_empty(&h);
	/* the same identification later is a new datagram */
	send_pieces(&h, ID, len, PIECE, NULL);
	expect_reply(&h, len, PIECE, MTU);
	harness_fini(&h);
}
END_TEST

/* ---- Reassembly: time ---- */

START_TEST(test_timeout_with_first_fragment)
{
	uint8_t first[2048];
	struct harness h;
	start(&h);
	make_echo(6, 4000);
	size_t n = frag_frame(first, IP6_NH_ICMPV6, ID, 0, true, msg, PIECE);
	inject(&h, first, n);
	inject_frag(&h, ID, 2 * PIECE, false, msg + 2 * PIECE, 1112);
	ck_assert_int_eq(ipv6_reasm_next_deadline(&h.s.reasm6), h.now + REASM6_TIMEOUT_US);
	/* RFC 8200 4.5: 60 seconds, not IPv4's 30 */
	advance(&h, REASM6_TIMEOUT_US - 1);
	expect_quiet(&h);
	ck_assert_uint_eq(h.s.reasm6.count, 1);
	advance(&h, 1);
	ck_assert_uint_eq(count(&h, "ip6.frag_timeout"), 1);
	expect_icmp6_error(&h, ICMP6_TIME_EXCEEDED, ICMP6_TIME_REASSEMBLY, 0, first);
	expect_quiet(&h);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

/* RFC 4443 2.4 (e.1): no time exceeded about a fragmented ICMPv6 error. */
START_TEST(test_timeout_of_an_error)
{
	struct harness h;
	start(&h);
	make_echo(6, 4000);
	msg[0] = ICMP6_DEST_UNREACH;
	inject_frag(&h, ID, 0, true, msg, PIECE);
	advance(&h, REASM6_TIMEOUT_US);
	ck_assert_uint_eq(count(&h, "ip6.frag_timeout"), 1);
	ck_assert_uint_eq(count(&h, "icmp6.error_about_error"), 1);
	expect_quiet(&h);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_timeout_without_first_fragment)
{
	struct harness h;
	start(&h);
	make_echo(7, 4000);
	inject_frag(&h, ID, PIECE, true, msg + PIECE, PIECE);
	inject_frag(&h, ID, 2 * PIECE, false, msg + 2 * PIECE, 1112);
	advance(&h, REASM6_TIMEOUT_US);
	ck_assert_uint_eq(count(&h, "ip6.frag_timeout"), 1);
	ck_assert_uint_eq(count(&h, "icmp6.tx_error"), 0);
	expect_quiet(&h);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Reassembly: limits ---- */

/* Injects an IPv4 fragment of 8 bytes with MF set from 10.0.0.1. */
static void inject_frag4(struct harness *h, uint16_t id, size_t off)
{
	uint8_t f[128], d[8] = { 0 };
	size_t n = build_ipv4_frame(f, t_mac_host, t_mac_peer, 0x0a000001u, 0x0a000002u,
				    IP_PROTO_ICMP, d, sizeof(d));
	uint8_t *ip = f + L3;
	be16_put(ip + 4, id);
	be16_put(ip + 6, (uint16_t)(IPV4_FLAG_MF | off / 8));
	be16_put(ip + 10, 0);
	be16_put(ip + 10, inet_csum(ip, IPV4_HDR_LEN));
	inject(h, f, n);
}

START_TEST(test_memory_shared_with_ipv4)
{
	struct harness h;
	start(&h);
	harness_learn_peer(&h);
	make_echo(8, 4000);
	/* IPv4 fragments take half the budget, IPv6 ones the other half */
	unsigned per = REASM_MAX_BYTES / PKT_SMALL_CAP / REASM_MAX_DATAGRAMS / 2;
	for (uint16_t id = 0; id < REASM_MAX_DATAGRAMS; id++)
		for (unsigned k = 0; k < per; k++)
			inject_frag4(&h, id, k * 16);
	ck_assert_uint_eq(h.s.reasm.bytes, REASM_MAX_BYTES / 2);
	for (uint32_t id = 0; id < REASM6_MAX_DATAGRAMS; id++)
		for (unsigned k = 0; k < per; k++)
			inject_frag(&h, id, k * 16, true, msg, 8);
	ck_assert_uint_eq(h.s.reasm6.bytes, REASM_MAX_BYTES / 2);
	ck_assert_uint_eq(reasm_bytes_held(&h.s), REASM_MAX_BYTES);
	ck_assert_uint_eq(count(&h, "ip.frag_memory_limit") + count(&h, "ip6.frag_memory_limit"), 0);
	/* one budget: neither family may take more */
	inject_frag(&h, 1, per * 16, true, msg, 8);
	inject_frag4(&h, 1, per * 16);
	ck_assert_uint_eq(count(&h, "ip6.frag_memory_limit"), 1);
	ck_assert_uint_eq(count(&h, "ip.frag_memory_limit"), 1);
	ck_assert_uint_eq(reasm_bytes_held(&h.s), REASM_MAX_BYTES);
	ck_assert_uint_eq(h.s.reasm6.count, REASM6_MAX_DATAGRAMS);
	expect_quiet(&h);
	/* everything times out (no first fragment... offset 0 was there:
	 * the IPv6 ones answer with time exceeded, rate limited) */
	advance(&h, REASM6_TIMEOUT_US);
	ck_assert_uint_eq(reasm_bytes_held(&h.s), 0);
	drop_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_datagram_limit_evicts_oldest)
{
	struct harness h;
	start(&h);
	make_echo(9, 4000);
	for (uint32_t id = 1; id <= REASM6_MAX_DATAGRAMS; id++)
		inject_frag(&h, id, PIECE, true, msg, 8);
	ck_assert_uint_eq(h.s.reasm6.count, REASM6_MAX_DATAGRAMS);
	inject_frag(&h, 1000, PIECE, true, msg, 8);
	ck_assert_uint_eq(count(&h, "ip6.frag_evicted"), 1);
	ck_assert_uint_eq(h.s.reasm6.count, REASM6_MAX_DATAGRAMS);
	ck_assert_uint_eq(h.s.reasm6.list->id, 2); /* the oldest went */
	expect_quiet(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_fragment_limit)
{
	struct harness h;
	start(&h);
	make_echo(10, 4000);
	for (unsigned k = 0; k <= REASM6_MAX_FRAGMENTS; k++)
		inject_frag(&h, ID, (k + 1) * 16, true, msg, 8);
	ck_assert_uint_eq(count(&h, "ip6.frag_too_many"), 1);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Reassembly: malformed fragments ---- */

START_TEST(test_not_multiple_of_8)
{
	uint8_t f[2048];
	struct harness h;
	start(&h);
	make_echo(11, 4000);
	size_t n = frag_frame(f, IP6_NH_ICMPV6, ID, 0, true, msg, 1001);
	inject(&h, f, n);
	/* RFC 8200 4.5: parameter problem code 0 at the payload length */
	ck_assert_uint_eq(count(&h, "ip6.frag_bad_length"), 1);
	expect_icmp6_error(&h, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER, 4, f);
	/* the last fragment may have any length; an empty one is dropped */
	inject_frag(&h, ID, PIECE, false, msg, 1001);
	ck_assert_uint_eq(count(&h, "ip6.frag_bad_length"), 1);
	inject_frag(&h, ID + 1, PIECE, true, msg, 0);
	ck_assert_uint_eq(count(&h, "ip6.frag_bad_length"), 2);
	expect_quiet(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_over_65535)
{
	uint8_t f[2048];
	struct harness h;
	start(&h);
	make_echo(12, 4000);
	/* 65528 + 16 > 65535 */
	size_t n = frag_frame(f, IP6_NH_ICMPV6, ID, 65528, false, msg, 16);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "ip6.frag_too_big"), 1);
	/* RFC 8200 4.5: code 0, pointing at the fragment offset (40 + 2) */
	expect_icmp6_error(&h, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER, 42, f);
	/* 65528 + 7 = 65535 exactly is fine */
	inject_frag(&h, ID, 65528, false, msg, 7);
	ck_assert_uint_eq(count(&h, "ip6.frag_too_big"), 1);
	ck_assert_uint_eq(h.s.reasm6.count, 1);
	expect_quiet(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_atomic_fragment)
{
	uint8_t f[2048];
	struct harness h;
	start(&h);
	size_t len = make_echo(13, 1000);
	/* a reassembly is going on for ID ... */
	inject_frag(&h, ID, PIECE, true, msg, 8);
	/* ... an atomic fragment (offset 0, M clear) with the same
	 * identification is a whole datagram on its own (RFC 6946 4) */
	inject(&h, f, frag_frame(f, IP6_NH_ICMPV6, ID, 0, false, msg, len));
	expect_reply(&h, len, PIECE, MTU);
	ck_assert_uint_eq(count(&h, "ip6.atomic_fragments_rx"), 1);
	ck_assert_uint_eq(count(&h, "ip6.fragments_rx"), 1);
	ck_assert_uint_eq(h.s.reasm6.count, 1);
	ck_assert_uint_eq(h.s.reasm6.list->nfrags, 1);
	ck_assert_uint_eq(count(&h, "ip6.frag_overlap"), 0);
	harness_fini(&h);
}
END_TEST

START_TEST(test_first_fragment_without_chain)
{
	uint8_t f[2048], d[64];
	struct harness h;
	start(&h);
	memset(d, 0, sizeof(d));
	/* RFC 7112 5: a first fragment of a TCP segment with only 8 bytes of
	 * its 20-byte header */
	size_t n = frag_frame(f, IP6_NH_TCP, ID, 0, true, d, 8);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "ip6.frag_incomplete_chain"), 1);
	expect_icmp6_error(&h, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_INCOMPLETE_CHAIN, 0, f);
	/* a destination options header of 16 bytes cut after 8 */
	d[0] = IP6_NH_ICMPV6;
	d[1] = 1;
	n = frag_frame(f, IP6_NH_DSTOPTS, ID + 1, 0, true, d, 8);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "ip6.frag_incomplete_chain"), 2);
	expect_icmp6_error(&h, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_INCOMPLETE_CHAIN, 0, f);
	/* the same header whole (PadN over its 14 option bytes) and 8 bytes
	 * of ICMPv6 after it is fine */
	d[2] = 1;
	d[3] = 12;
	n = frag_frame(f, IP6_NH_DSTOPTS, ID + 1, 0, true, d, 24);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "ip6.frag_incomplete_chain"), 2);
	ck_assert_uint_eq(h.s.reasm6.count, 1);
	expect_quiet(&h);
	harness_fini(&h);
}
END_TEST

/* Sends data (len bytes) as datagram id whose fragment headers name a
 * fragment header (44) as what follows, in PIECE-byte pieces. */
static void send_outer(struct harness *h, uint32_t id, const uint8_t *data, size_t len)
{
	static uint8_t f[2048];
	for (size_t off = 0; off < len; off += PIECE) {
		size_t n = len - off < PIECE ? len - off : PIECE;
		inject(h, f, frag_frame(f, IP6_NH_FRAGMENT, id, off, off + n < len, data + off, n));
	}
}

START_TEST(test_fragment_inside_fragments)
{
	static uint8_t inner[4096];
	struct harness h;
	start(&h);
	size_t len = make_echo(14, 2000);
	/* the reassembled payload starts with a second, real fragment header */
	struct ipv6_frag_hdr in = { .next = IP6_NH_ICMPV6, .offset = 0, .more = true, .id = 7 };
	ipv6_frag_emit(&in, inner);
	memcpy(inner + IP6_FRAG_HDR_LEN, msg, len);
	send_outer(&h, ID, inner, IP6_FRAG_HDR_LEN + len);
	ck_assert_uint_eq(count(&h, "ip6.reassembled"), 1);
	ck_assert_uint_eq(count(&h, "ip6.frag_nested"), 1);
	expect_quiet(&h);
	expect_table_empty(&h);
	/* an atomic fragment header inside is just walked over (RFC 6946) */
	in.more = false;
	ipv6_frag_emit(&in, inner);
	send_outer(&h, ID + 1, inner, IP6_FRAG_HDR_LEN + len);
	ck_assert_uint_eq(count(&h, "ip6.reassembled"), 2);
	expect_reply(&h, len, PIECE, MTU);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Linux's ping -6 -s 4000 ---- */

START_TEST(test_capture)
{
	static uint8_t f[3][2048], linux_reply[8192];
	size_t n[3], at = 0;
	char *buf = NULL;
	size_t size = 0;
	struct harness h;
	start(&h);
	h.s.trace = open_memstream(&buf, &size);
	for (int i = 0; i < 3; i++) {
		n[i] = vector_frame(PCAP, i + 1, f[i], sizeof(f[i]));
		inject(&h, f[i], n[i]);
	}
	fclose(h.s.trace);
	h.s.trace = NULL;
	ck_assert_uint_eq(count(&h, "ip6.reassembled"), 1);
	ck_assert_uint_eq(count(&h, "icmp6.rx_echo_request"), 1);
	ck_assert_msg(strstr(buf, "ip6 reassembled fd00::1 id 4179895926: 3 fragments, 4048 bytes\n"),
		      "no reassembly trace line in:\n%s", buf);
	free(buf);
	/* Linux's reply, frames 4 to 6, put together */
	size_t lens[3];
	for (int i = 0; i < 3; i++) {
		uint8_t r[2048];
		lens[i] = vector_frame(PCAP, i + 4, r, sizeof(r));
		memcpy(linux_reply + at, r + LF, lens[i] - LF);
		at += lens[i] - LF;
	}
	ck_assert_uint_eq(at, 4008);
	/* ours: the same bytes, cut the same way (only the identification,
	 * unpredictable on both sides, differs) */
	struct taken t = take_datagram(&h, got, PIECE);
	ck_assert_uint_eq(t.len, at);
	ck_assert_mem_eq(got, linux_reply, at);
	ck_assert_uint_eq(t.frames, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(t.lens[i], lens[i]);
	expect_quiet(&h);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_trace_lines)
{
	char *buf = NULL;
	size_t size = 0;
	struct harness h;
	start(&h);
	h.s.trace = open_memstream(&buf, &size);
	size_t len = make_echo(15, 8000); /* 6 pieces of 1448 and 1768... */
	send_pieces(&h, 5, len, PIECE, NULL);
	fclose(h.s.trace);
	h.s.trace = NULL;
	const char *const lines[] = {
		"rx IPv6 fragment fd00::1 -> fd00::2 id 5 offset 0 len 1448 M\n",
		"rx IPv6 fragment fd00::1 -> fd00::2 id 5 offset 7240 len 768\n",
		"ip6 reassembled fd00::1 id 5: 6 fragments, 8048 bytes\n",
		"offset 7240 len 768\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		ck_assert_msg(strstr(buf, lines[i]) != NULL, "no trace line \"%s\"", lines[i]);
	ck_assert_ptr_nonnull(strstr(buf, "tx IPv6 fragment fd00::2 -> fd00::1 id "));
	free(buf);
	expect_reply(&h, len, PIECE, MTU);
	harness_fini(&h);
}
END_TEST

/* ---- Fragmentation ---- */

static const size_t ping_sizes[] = { 0, 1452, 1453, 2896, 8000, 65000, 65527 };

START_TEST(test_big_ping_reply)
{
	struct harness h;
	start(&h);
	size_t len = make_echo(16, ping_sizes[_i]);
	if (len + IPV6_HDR_LEN <= MTU) {
		struct ipaddr a = v6("fd00::1"), b = v6("fd00::2");
		struct icmpv6_hdr q = { .type = ICMP6_ECHO_REQUEST, .rest = 0xbeef0010u };
		uint8_t f[2048];
		head6(f, "fd00::1", IP6_NH_ICMPV6, len);
		memcpy(f + L4, msg, len);
		icmpv6_emit(&q, f + L4, len, &a, &b);
		inject(&h, f, L4 + len);
	} else {
		send_pieces(&h, ID, len, PIECE, NULL);
	}
	/* 1452 bytes of data: 40 + 8 + 1452 = 1500 fits; one more does not */
	struct taken t = expect_reply(&h, len, PIECE, MTU);
	if (ping_sizes[_i] == 1452)
		ck_assert_uint_eq(t.frames, 1);
	if (ping_sizes[_i] == 1453) {
		ck_assert_uint_eq(t.frames, 2);
		ck_assert_uint_eq(t.lens[1], LF + 13);
	}
	expect_quiet(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_ids_differ)
{
	struct harness h;
	uint32_t ids[8];
	start(&h);
	for (int i = 0; i < 8; i++) {
		size_t len = make_echo((uint16_t)(20 + i), 3000);
		send_pieces(&h, ID + (uint32_t)i, len, PIECE, NULL);
		ids[i] = expect_reply(&h, len, PIECE, MTU).id;
	}
	/* RFC 7739: from the generator, not a counter */
	int steps_of_one = 0;
	for (int i = 1; i < 8; i++) {
		for (int j = 0; j < i; j++)
			ck_assert_uint_ne(ids[i], ids[j]);
		steps_of_one += ids[i] == ids[i - 1] + 1;
	}
	ck_assert_int_lt(steps_of_one, 7);
	harness_fini(&h);
}
END_TEST

/* ---- Path MTU ---- */

/* Injects a Packet Too Big from fd00::1 (the router here) quoting the
 * first q bytes of quote. */
static void inject_ptb(struct harness *h, uint32_t mtu, const uint8_t *quote, size_t q)
{
	static uint8_t f[2048];
	struct ipaddr a = v6("fd00::1"), b = v6("fd00::2");
	head6(f, "fd00::1", IP6_NH_ICMPV6, ICMP6_HDR_LEN + q);
	memcpy(f + L4 + ICMP6_HDR_LEN, quote, q);
	struct icmpv6_hdr e = { .type = ICMP6_PACKET_TOO_BIG, .rest = mtu };
	icmpv6_emit(&e, f + L4, ICMP6_HDR_LEN + q, &a, &b);
	inject(h, f, L4 + ICMP6_HDR_LEN + q);
}

/* A datagram fd00::2 -> dst as the host would have sent it (40-byte
 * header and 64 bytes of ICMPv6), for a Packet Too Big to quote. */
static size_t our_datagram(uint8_t *d, const char *dst)
{
	struct ipv6_hdr ip = {
		.version = 6, .payload_len = 64, .next = IP6_NH_ICMPV6, .hop_limit = 64,
		.src = v6("fd00::2"), .dst = v6(dst),
	};
	memset(d, 0, 104);
	ipv6_emit(&ip, d);
	d[IPV6_HDR_LEN] = ICMP6_ECHO_REPLY;
	return 104;
}

START_TEST(test_packet_too_big)
{
	uint8_t d[128];
	struct harness h;
	start(&h);
	struct ipaddr peer = v6("fd00::1");
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 1460);
	inject_ptb(&h, 1400, d, our_datagram(d, "fd00::1"));
	ck_assert_uint_eq(count(&h, "pmtu.lowered"), 1);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 1360);
	/* tapctl routes shows it */
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	ck_assert_int_eq(stack_report(&h.s, "routes", out), 0);
	fclose(out);
	ck_assert_msg(strstr(buf, "cache fd00::1 mtu 1400 expires 600s\n"), "routes:\n%s", buf);
	free(buf);
	/* the next big reply is cut to 1400-byte frames */
	size_t len = make_echo(30, 4000);
	send_pieces(&h, ID, len, PIECE, NULL);
	struct taken t = expect_reply(&h, len, 1352, 1400); /* floor((1400 - 48) / 8) * 8 */
	ck_assert_uint_eq(t.frames, 3);
	ck_assert_uint_eq(t.lens[0], ETH_HDR_LEN + 1400);
	/* a larger MTU never raises it (RFC 8201 4) */
	inject_ptb(&h, 1450, d, our_datagram(d, "fd00::1"));
	ck_assert_uint_eq(count(&h, "pmtu.not_lower"), 1);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 1360);
	/* a Packet Too Big about someone else's datagram changes nothing */
	our_datagram(d, "fd00::1");
	d[8 + 15] ^= 1; /* the quoted source is fd00::3 now */
	inject_ptb(&h, 1300, d, 104);
	ck_assert_uint_eq(count(&h, "icmp6.error_not_ours"), 1);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 1360);
	/* a quote shorter than a header is dropped */
	inject_ptb(&h, 1300, d, 20);
	ck_assert_uint_eq(count(&h, "icmp6.error_short_quote"), 1);
	/* RFC 8201 5.3: after 10 minutes the estimate goes back to the link */
	advance(&h, PMTU_AGE_US - 1);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 1360);
	advance(&h, 1);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 1460);
	drop_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_packet_too_big_clamped)
{
	uint8_t d[128];
	struct harness h;
	start(&h);
	struct ipaddr peer = v6("fd00::1"), other = v6("fd00::9");
	/* RFC 8201 4: a PTB below 1280 means 1280 (and no atomic fragments,
	 * RFC 8021) */
	inject_ptb(&h, 600, d, our_datagram(d, "fd00::1"));
	ck_assert_uint_eq(count(&h, "pmtu.clamped"), 1);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 1240);
	ck_assert_uint_eq(pmtu_get(&h.s, &other, MTU), MTU); /* per destination */
	size_t len = make_echo(31, 1300);
	send_pieces(&h, ID, len, PIECE, NULL);
	struct taken t = expect_reply(&h, len, 1232, 1280);
	ck_assert_uint_eq(t.frames, 2);
	ck_assert_uint_eq(t.lens[0], ETH_HDR_LEN + 1280);
	harness_fini(&h);
}
END_TEST

START_TEST(test_cache_bounded)
{
	struct harness h;
	start(&h);
	char name[64];
	for (int i = 0; i < PMTU_MAX_ENTRIES + 10; i++) {
		snprintf(name, sizeof(name), "fd00::1:%x", i + 1);
		struct ipaddr a = v6(name);
		h.s.now += 1;
		ck_assert_uint_eq(pmtu_update(&h.s, &a, 1400, MTU), 1400);
	}
	int live = 0;
	for (int i = 0; i < PMTU_MAX_ENTRIES + 10; i++) {
		snprintf(name, sizeof(name), "fd00::1:%x", i + 1);
		struct ipaddr a = v6(name);
		live += pmtu_get(&h.s, &a, MTU) == 1400;
	}
	ck_assert_int_eq(live, PMTU_MAX_ENTRIES);
	/* the newest are kept */
	struct ipaddr last = v6(name);
	ck_assert_uint_eq(pmtu_get(&h.s, &last, MTU), 1400);
	ck_assert_uint_eq(h.s.pmtu.used, PMTU_MAX_ENTRIES);
	/* 10 minutes later every entry is forgotten as it is looked at */
	h.s.now += PMTU_AGE_US;
	for (int i = 0; i < PMTU_MAX_ENTRIES + 10; i++) {
		snprintf(name, sizeof(name), "fd00::1:%x", i + 1);
		struct ipaddr a = v6(name);
		ck_assert_uint_eq(pmtu_get(&h.s, &a, MTU), MTU);
	}
	ck_assert_uint_eq(h.s.pmtu.used, 0);
	harness_fini(&h);
}
END_TEST

/* RFC 1191: IPv4's "fragmentation needed" feeds the same cache. */
START_TEST(test_ipv4_frag_needed)
{
	uint8_t f[256], body[64];
	struct harness h;
	start(&h);
	harness_learn_peer(&h);
	struct ipaddr peer = ipaddr_v4(0x0a000001u);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 1480);
	/* the quote: a datagram 10.0.0.2 -> 10.0.0.1 and 8 bytes of it */
	uint8_t *q = body + ICMP_HDR_LEN;
	memset(body, 0, sizeof(body));
	struct ipv4_hdr ip = { .version = 4, .ihl = 5, .total_len = 1500, .ttl = 64,
			       .proto = IP_PROTO_UDP, .src = 0x0a000002u, .dst = 0x0a000001u };
	ipv4_emit(&ip, q);
	body[0] = ICMP_DEST_UNREACH;
	body[1] = ICMP_FRAG_NEEDED;
	be16_put(body + 6, 1000);
	be16_put(body + 2, inet_csum(body, ICMP_HDR_LEN + 28));
	size_t n = build_ipv4_frame(f, t_mac_host, t_mac_peer, 0x0a000001u, 0x0a000002u,
				    IP_PROTO_ICMP, body, ICMP_HDR_LEN + 28);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "pmtu.lowered"), 1);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 980);
	/* below 552 is taken as 552 */
	be16_put(body + 6, 300);
	be16_put(body + 2, 0);
	be16_put(body + 2, inet_csum(body, ICMP_HDR_LEN + 28));
	n = build_ipv4_frame(f, t_mac_host, t_mac_peer, 0x0a000001u, 0x0a000002u, IP_PROTO_ICMP,
			     body, ICMP_HDR_LEN + 28);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "pmtu.clamped"), 1);
	ck_assert_uint_eq(ip_max_payload(&h.s, &peer), 532);
	/* and a big IPv4 datagram leaves in 552-byte fragments */
	struct pkt *p = pkt_alloc(2000);
	memset(pkt_put(p, 2000), 0, 2000);
	ck_assert_int_eq(ipv4_output(&h.s, p,
				&(struct ipv4_tx){ .dst = 0x0a000001u, .proto = IP_PROTO_UDP }), 0);
	for (int i = 0; i < 4; i++) {
		struct pkt *r = expect_tx(&h);
		ck_assert_uint_le(r->len, ETH_HDR_LEN + 552);
		pkt_free(r);
	}
	expect_quiet(&h);
	harness_fini(&h);
}
END_TEST

/* RFC 1191 end to end: "fragmentation needed" about a segment in flight
 * lowers both the path MTU and the connection's MSS, and the oldest
 * segment goes again at the new size. */
/* Injects an IPv4 "fragmentation needed" with next-hop MTU mtu from the
 * peer, quoting a TCP segment 10.0.0.2:TH_HOST_PORT -> the peer with
 * sequence number seq. */
static void inject_frag_needed_tcp_from(struct tcp_harness *t, uint16_t sport, uint32_t seq,
					uint16_t mtu);

static void inject_frag_needed_tcp(struct tcp_harness *t, uint32_t seq, uint16_t mtu)
{
	inject_frag_needed_tcp_from(t, TH_HOST_PORT, seq, mtu);
}

/* The same, quoting a segment from port sport. */
static void inject_frag_needed_tcp_from(struct tcp_harness *t, uint16_t sport, uint32_t seq,
					uint16_t mtu)
{
	uint8_t f[256], body[64];
	memset(body, 0, sizeof(body));
	uint8_t *q = body + ICMP_HDR_LEN;
	struct ipv4_hdr ip = { .version = 4, .ihl = 5, .total_len = 1500, .ttl = 64,
			       .proto = IP_PROTO_TCP, .src = TH_HOST_IP, .dst = TH_PEER_IP };
	ipv4_emit(&ip, q);
	be16_put(q + 20, sport);
	be16_put(q + 22, TH_PEER_PORT);
	be32_put(q + 24, seq);
	body[0] = ICMP_DEST_UNREACH;
	body[1] = ICMP_FRAG_NEEDED;
	be16_put(body + 6, mtu);
	be16_put(body + 2, inet_csum(body, ICMP_HDR_LEN + 28));
	inject(&t->h, f, build_ipv4_frame(f, t_mac_host, t_mac_peer, TH_PEER_IP, TH_HOST_IP,
					  IP_PROTO_ICMP, body, ICMP_HDR_LEN + 28));
}

/* "Fragmentation needed" about our SYN: the SYN goes again, alone (not
 * go-back-N from SND.UNA, which would leave SND.NXT at the ISS), and the
 * SYN-ACK that follows is taken, not answered with a RST; the
 * connection's MSS is the path's: 1000 - 20 - 20 = 960. */
START_TEST(test_ipv4_frag_needed_syn)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	inject_frag_needed_tcp(&t, t.iss, 1000);
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "tcp.icmp_frag_needed"), 1);
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_SYN);
	ck_assert_uint_eq(out.seq, t.iss);
	ck_assert_uint_eq(tp->snd.nxt, t.iss + 1);
	th_inject(&t, SEG(.seq = t.irs, .ack = t.iss + 1, .flags = TCP_FLAG_SYN | TCP_FLAG_ACK,
			  .opt = { .mss_ok = true, .mss = 1460 }));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_ACK);
	ck_assert_uint_eq(out.ack, t.irs + 1);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(tp->opt.snd_mss, 960);
	th_fini(&t);
}
END_TEST

START_TEST(test_ipv4_frag_needed_tcp)
{
	uint8_t f[256], body[64];
	static uint8_t data[2000];
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	ring_write(&tp->sndbuf, data, sizeof(data));
	tp->snd.nxt = tp->snd.max = t.iss + 1461;
	memset(body, 0, sizeof(body));
	uint8_t *q = body + ICMP_HDR_LEN;
	struct ipv4_hdr ip = { .version = 4, .ihl = 5, .total_len = 1500, .ttl = 64,
			       .proto = IP_PROTO_TCP, .src = TH_HOST_IP, .dst = TH_PEER_IP };
	ipv4_emit(&ip, q);
	be16_put(q + 20, TH_HOST_PORT);
	be16_put(q + 22, TH_PEER_PORT);
	be32_put(q + 24, t.iss + 1);
	body[0] = ICMP_DEST_UNREACH;
	body[1] = ICMP_FRAG_NEEDED;
	be16_put(body + 6, 1000);
	be16_put(body + 2, inet_csum(body, ICMP_HDR_LEN + 28));
	inject(&t.h, f, build_ipv4_frame(f, t_mac_host, t_mac_peer, TH_PEER_IP, TH_HOST_IP,
					 IP_PROTO_ICMP, body, ICMP_HDR_LEN + 28));
	struct ipaddr peer = ipaddr_v4(TH_PEER_IP);
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "pmtu.lowered"), 1);
	ck_assert_uint_eq(ip_max_payload(&t.h.s, &peer), 980);
	ck_assert_uint_eq(tp->opt.snd_mss, 960);
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.seq, t.iss + 1);
	ck_assert_uint_eq(out.len, 960);
	/* RFC 1191 3: the smaller segment still goes with DF, so that a router
	 * further on can lower the path MTU again */
	ck_assert_uint_eq(t.last_ip_frag, IPV4_FLAG_DF);
	th_fini(&t);
}
END_TEST

/* Defect 5 (issue 20): a TCP segment whose checksum is left partial for a
 * device that offloads (tso_max, as tests/check_offload.c builds one),
 * larger than the path MTU a Packet Too Big taught: it leaves in
 * fragments, which the device never sums, so the checksum must be
 * finished in software first (as ipv4_output does). The datagram put back
 * together from its fragments carries a TCP checksum that verifies. */
START_TEST(test_partial_checksum_fragmented)
{
	struct harness h;
	start(&h);
	h.dev->tso_max = 65535;
	struct ipaddr host = v6("fd00::2"), peer = v6("fd00::1");
	ck_assert_uint_eq(pmtu_update(&h.s, &peer, 1280, MTU), 1280);
	size_t len = TCP_HDR_LEN + 1400;
	struct pkt *p = pkt_alloc(len);
	uint8_t *b = pkt_put(p, len);
	struct tcp_seg seg = { .sport = 80, .dport = 40000, .seq = 1000, .ack = 2000,
			       .flags = TCP_FLAG_ACK, .wnd = 65535 };
	ck_assert_uint_eq(tcp_emit(&seg, b), TCP_HDR_LEN);
	for (size_t i = TCP_HDR_LEN; i < len; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	tcp_set_checksum_partial(&host, &peer, b, len);
	p->off.csum_start = (uint16_t)pkt_headroom(p);
	p->off.csum_offset = TCP_CSUM_OFFSET;
	ck_assert_int_eq(ipv6_output(&h.s, p, &host, &peer, IP_PROTO_TCP, 0), 0);
	size_t at = 0, frames = 0;
	bool more = true;
	while (more) {
		struct pkt *r = next_tx(&h);
		struct ipv6_hdr ip;
		struct ipv6_frag_hdr f;
		ck_assert_uint_le(r->len, ETH_HDR_LEN + 1280);
		ck_assert_ptr_null(ipv6_parse(r->data + L3, r->len - L3, &ip));
		ck_assert_uint_eq(ip.next, IP6_NH_FRAGMENT);
		ck_assert_uint_eq(r->off.csum_start, 0); /* nothing left to the device */
		ipv6_frag_parse(r->data + L4, &f);
		ck_assert_uint_eq(f.next, IP_PROTO_TCP);
		ck_assert_uint_eq(f.offset, at);
		size_t dlen = ip.payload_len - IP6_FRAG_HDR_LEN;
		memcpy(got + at, r->data + LF, dlen);
		at += dlen;
		more = f.more;
		frames++;
		pkt_free(r);
	}
	ck_assert_uint_eq(frames, 2);
	ck_assert_uint_eq(at, len);
	ck_assert_msg(tcp_checksum_ok(&host, &peer, got, len),
		      "the reassembled segment's TCP checksum 0x%04x does not verify",
		      be16_get(got + TCP_CSUM_OFFSET));
	expect_quiet(&h);
	harness_fini(&h);
}
END_TEST

/* The path MTU cache as `tapctl routes` shows it. */
static char *routes_report(struct stack *st)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	ck_assert_int_eq(stack_report(st, "routes", out), 0);
	fclose(out);
	return buf;
}

/* Defect 6 (issue 20), RFC 5927 4.1, 7: "fragmentation needed" quoting a
 * TCP segment whose sequence number is not in flight, or a connection
 * that does not exist, is a forgery (or stale): it lowers neither the
 * connection's MSS nor the path MTU ("pmtu.unvalidated"); one quoting a
 * segment in flight lowers both, as before. */
START_TEST(test_ipv4_frag_needed_tcp_unvalidated)
{
	static uint8_t data[2000];
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	ring_write(&tp->sndbuf, data, sizeof(data));
	tp->snd.nxt = tp->snd.max = t.iss + 1461;
	struct ipaddr peer = ipaddr_v4(TH_PEER_IP);
	char *before = routes_report(&t.h.s);

	/* past SND.NXT, and before SND.UNA */
	inject_frag_needed_tcp(&t, t.iss + 1461, 600);
	inject_frag_needed_tcp(&t, t.iss, 600);
	ck_assert_uint_eq(pmtu_get(&t.h.s, &peer, MTU), MTU);
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "tcp.icmp_out_of_window"), 2);
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "pmtu.unvalidated"), 2);
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "pmtu.lowered"), 0);
	ck_assert_uint_eq(ip_max_payload(&t.h.s, &peer), 1480);
	ck_assert_uint_eq(tp->opt.snd_mss, 1460);
	char *after = routes_report(&t.h.s);
	ck_assert_str_eq(after, before);
	ck_assert_msg(!strstr(after, "cache "), "routes:\n%s", after);
	free(after);
	th_expect_none(&t);

	/* no such connection: another local port */
	inject_frag_needed_tcp_from(&t, TH_HOST_PORT + 1, t.iss + 1, 600);
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "tcp.icmp_no_connection"), 1);
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "pmtu.unvalidated"), 3);
	ck_assert_uint_eq(pmtu_get(&t.h.s, &peer, MTU), MTU);
	th_expect_none(&t);

	/* in flight: taken */
	inject_frag_needed_tcp(&t, t.iss + 1, 1000);
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "pmtu.lowered"), 1);
	ck_assert_uint_eq(pmtu_get(&t.h.s, &peer, MTU), 1000);
	ck_assert_uint_eq(tp->opt.snd_mss, 960);
	after = routes_report(&t.h.s);
	ck_assert_msg(strstr(after, "cache 10.0.0.1 mtu 1000 expires 600s\n"), "routes:\n%s", after);
	free(after);
	free(before);
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.seq, t.iss + 1);
	ck_assert_uint_eq(out.len, 960);
	th_fini(&t);
}
END_TEST

/* The same for IPv6: a Packet Too Big quoting a TCP segment of no
 * connection leaves the path MTU alone; one quoting our UDP datagram
 * (no sequence number to check: its source is ours) lowers it. */
START_TEST(test_packet_too_big_tcp_unvalidated)
{
	uint8_t d[128];
	struct harness h;
	start(&h);
	struct ipaddr peer = v6("fd00::1");
	our_datagram(d, "fd00::1");
	d[6] = IP6_NH_TCP;
	memset(d + IPV6_HDR_LEN, 0, 64);
	be16_put(d + IPV6_HDR_LEN, 40000);
	be16_put(d + IPV6_HDR_LEN + 2, 80);
	be32_put(d + IPV6_HDR_LEN + 4, 12345);
	d[IPV6_HDR_LEN + 12] = 5 << 4;
	inject_ptb(&h, 1280, d, 104);
	ck_assert_uint_eq(pmtu_get(&h.s, &peer, MTU), MTU);
	ck_assert_uint_eq(count(&h, "tcp.icmp_no_connection"), 1);
	ck_assert_uint_eq(count(&h, "pmtu.unvalidated"), 1);
	ck_assert_uint_eq(count(&h, "pmtu.lowered"), 0);
	char *r = routes_report(&h.s);
	ck_assert_msg(!strstr(r, "cache "), "routes:\n%s", r);
	free(r);
	/* a UDP datagram of ours: taken */
	d[6] = IP6_NH_UDP;
	inject_ptb(&h, 1280, d, 104);
	ck_assert_uint_eq(count(&h, "pmtu.lowered"), 1);
	ck_assert_uint_eq(pmtu_get(&h.s, &peer, MTU), 1280);
	ck_assert_uint_eq(count(&h, "pmtu.unvalidated"), 1);
	expect_quiet(&h);
	harness_fini(&h);
}
END_TEST

/* A TCP segment for the device to cut (TSO: gso_size set, tso_max) is not
 * the source's to fragment: it leaves whole, its checksum and its cutting
 * left to the device, as ipv4_output leaves one (RFC 8200 5: the
 * segments the device makes each fit the path). */
START_TEST(test_tso_segment_not_fragmented)
{
	struct harness h;
	start(&h);
	h.dev->tso_max = 65535;
	struct ipaddr host = v6("fd00::2"), peer = v6("fd00::1");
	size_t len = TCP_HDR_LEN + 2 * 1440;
	struct pkt *p = pkt_alloc(len);
	uint8_t *b = pkt_put(p, len);
	struct tcp_seg seg = { .sport = 80, .dport = 40000, .seq = 1000, .ack = 2000,
			       .flags = TCP_FLAG_ACK, .wnd = 65535 };
	ck_assert_uint_eq(tcp_emit(&seg, b), TCP_HDR_LEN);
	for (size_t i = TCP_HDR_LEN; i < len; i++)
		b[i] = (uint8_t)(i * 5 + 1);
	tcp_set_checksum_partial(&host, &peer, b, len);
	p->off.csum_start = (uint16_t)pkt_headroom(p);
	p->off.csum_offset = TCP_CSUM_OFFSET;
	p->off.gso_size = 1440;
	ck_assert_int_eq(ipv6_output(&h.s, p, &host, &peer, IP_PROTO_TCP, 0), 0);
	struct pkt *r = next_tx(&h);
	struct ipv6_hdr ip;
	ck_assert_ptr_null(ipv6_parse(r->data + L3, r->len - L3, &ip));
	ck_assert_msg(ip.next == IP_PROTO_TCP, "next header %u: the TSO segment was fragmented",
		      ip.next);
	ck_assert_uint_eq(r->len, L4 + len);
	ck_assert_uint_eq(r->off.gso_size, 1440);
	ck_assert_ptr_eq(r->head + r->off.csum_start, r->data + L4);
	ck_assert(!tcp_checksum_ok(&host, &peer, r->data + L4, len)); /* the device's to finish */
	pkt_csum_complete(r);
	ck_assert(tcp_checksum_ok(&host, &peer, r->data + L4, len));
	ck_assert_uint_eq(count(&h, "ip6.fragmented"), 0);
	pkt_free(r);
	expect_quiet(&h);
	harness_fini(&h);
}
END_TEST

Suite *ipv6_frag_suite(void)
{
	Suite *s = suite_create("ipv6_frag");
	TCase *tc = tcase_create("reassembly");
	tcase_add_test(tc, test_in_order);
	tcase_add_test(tc, test_reverse);
	tcase_add_loop_test(tc, test_shuffled, 0, 20);
	tcase_add_test(tc, test_exact_duplicates);
	tcase_add_loop_test(tc, test_overlap_drops_datagram, 0,
			    (int)(sizeof(overlaps) / sizeof(overlaps[0])));
	tcase_add_test(tc, test_timeout_with_first_fragment);
	tcase_add_test(tc, test_timeout_without_first_fragment);
	tcase_add_test(tc, test_timeout_of_an_error);
	tcase_add_test(tc, test_not_multiple_of_8);
	tcase_add_test(tc, test_over_65535);
	tcase_add_test(tc, test_atomic_fragment);
	tcase_add_test(tc, test_first_fragment_without_chain);
	tcase_add_test(tc, test_fragment_inside_fragments);
	tcase_add_test(tc, test_capture);
	tcase_add_test(tc, test_trace_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("fragmentation");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_big_ping_reply, 0,
			    (int)(sizeof(ping_sizes) / sizeof(ping_sizes[0])));
	tcase_add_test(tc, test_ids_differ);
	tcase_add_test(tc, test_partial_checksum_fragmented);
	tcase_add_test(tc, test_tso_segment_not_fragmented);
	suite_add_tcase(s, tc);

	tc = tcase_create("pmtu");
	tcase_add_test(tc, test_packet_too_big);
	tcase_add_test(tc, test_packet_too_big_clamped);
	tcase_add_test(tc, test_cache_bounded);
	tcase_add_test(tc, test_ipv4_frag_needed);
	tcase_add_test(tc, test_ipv4_frag_needed_tcp);
	tcase_add_test(tc, test_ipv4_frag_needed_syn);
	tcase_add_test(tc, test_ipv4_frag_needed_tcp_unvalidated);
	tcase_add_test(tc, test_packet_too_big_tcp_unvalidated);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_largest_shuffled);
	tcase_add_test(tc, test_memory_shared_with_ipv4);
	tcase_add_test(tc, test_datagram_limit_evicts_oldest);
	tcase_add_test(tc, test_fragment_limit);
	suite_add_tcase(s, tc);
	return s;
}

/* IPv4 fragmentation and reassembly: fragments in order, reversed and
 * shuffled; exact duplicates; overlaps that drop the whole datagram and the
 * fragments after it (RFC 5722); bad lengths and datagrams over 65535
 * bytes; the timeout and its ICMP time exceeded; the limits on datagrams,
 * memory and fragments; echo replies to big pings cut as RFC 791 3.2 says;
 * and the reassembly insert on its own. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip/icmp.h"
#include "ip/ipv4.h"
#include "ip/ipv4_frag.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/rng.h"
#include "tests/harness.h"

#define PEER 0x0a000001u /* 10.0.0.1 */
#define HOST 0x0a000002u /* 10.0.0.2 */
#define L3 ETH_HDR_LEN                   /* IP header offset in a frame */
#define L4 (ETH_HDR_LEN + IPV4_HDR_LEN)  /* payload offset, no IP options */
#define MTU 1500
#define PIECE 1480                       /* floor((1500 - 20) / 8) * 8 */
#define ID 0x1234                        /* 4660 */
#define MAX_PIECES 8192

static uint8_t msg[65536];   /* the ICMP message the peer sends */
static uint8_t want[65536];  /* the reply the host should send */
static uint8_t got[65536];   /* the reply as the test put it back together */

static uint64_t count(struct harness *h, const char *name)
{
	return stats_get(&h->s.stats, name);
}

/* Builds an Ethernet + IPv4 fragment from the peer to the host into buf:
 * identification id, protocol proto, data at byte offset off, MF as given.
 * Returns the frame length. */
static size_t frag_frame(uint8_t *buf, uint8_t proto, uint16_t id, size_t off, bool mf,
			 const uint8_t *data, size_t len)
{
	size_t n = build_ipv4_frame(buf, t_mac_host, t_mac_peer, PEER, HOST, proto, data, len);
	uint8_t *ip = buf + L3;
	be16_put(ip + 4, id);
	be16_put(ip + 6, (uint16_t)((mf ? IPV4_FLAG_MF : 0) | off / 8));
	be16_put(ip + 10, 0);
	be16_put(ip + 10, inet_csum(ip, IPV4_HDR_LEN));
	return n;
}

/* Injects one ICMP fragment of datagram id. */
static void inject_frag(struct harness *h, uint16_t id, size_t off, bool mf, const uint8_t *data,
			size_t len)
{
	static uint8_t f[2048];
	ck_assert_uint_le(len, sizeof(f) - L4);
	inject(h, f, frag_frame(f, IP_PROTO_ICMP, id, off, mf, data, len));
}

/* Builds in msg an echo request with datalen bytes of a pattern that
 * depends on seq, and in want the reply the host owes (type 0, checksum
 * summed anew). Returns the ICMP message length. */
static size_t make_echo(uint16_t seq, size_t datalen)
{
	size_t len = ICMP_HDR_LEN + datalen;
	ck_assert_uint_le(len, sizeof(msg));
	msg[0] = ICMP_ECHO_REQUEST;
	msg[1] = 0;
	be16_put(msg + 2, 0);
	be16_put(msg + 4, 0xbeef);
	be16_put(msg + 6, seq);
	for (size_t i = 0; i < datalen; i++)
		msg[ICMP_HDR_LEN + i] = (uint8_t)(i * 13 + 1 + seq);
	be16_put(msg + 2, inet_csum(msg, len));
	memcpy(want, msg, len);
	want[0] = ICMP_ECHO_REPLY;
	be16_put(want + 2, 0);
	be16_put(want + 2, inet_csum(want, len));
	return len;
}

/* Cuts a len-byte payload into pieces of piece bytes: offsets and lengths
 * into off[] and n[]. Returns the number of pieces. */
static size_t cut(size_t len, size_t piece, size_t *off, size_t *n)
{
	size_t k = 0;
	for (size_t at = 0; at < len; at += piece, k++) {
		ck_assert_uint_lt(k, MAX_PIECES);
		off[k] = at;
		n[k] = len - at < piece ? len - at : piece;
	}
	return k;
}

/* Sends msg (len bytes) as datagram id in pieces of piece bytes, in the
 * order given (order[i] is the index of the i-th piece to send; NULL: in
 * order). Returns the number of pieces. */
static size_t send_pieces(struct harness *h, uint16_t id, size_t len, size_t piece,
			  const size_t *order)
{
	static size_t off[MAX_PIECES], n[MAX_PIECES];
	size_t k = cut(len, piece, off, n);
	for (size_t i = 0; i < k; i++) {
		size_t j = order ? order[i] : i;
		inject_frag(h, id, off[j], j + 1 < k, msg + off[j], n[j]);
	}
	return k;
}

/* Takes the frames of one datagram the host sent to the peer (one frame,
 * or fragments up to the one with MF clear) and checks them against RFC
 * 791 3.2 for a 1500-byte MTU: each a valid IPv4 header of 20 bytes, same
 * identification, offsets in order with no gap, MF on all but the last,
 * PIECE bytes of data in all but the last, DF clear. Copies the payload to
 * out; returns its length, and the number of frames in *nframes. */
static size_t take_datagram(struct harness *h, uint8_t *out, size_t *nframes)
{
	size_t at = 0, k = 0;
	bool more = true;
	uint16_t id = 0;

	while (more) {
		struct pkt *r = expect_tx(h);
		struct ipv4_hdr ip;
		ck_assert_uint_le(r->len, ETH_HDR_LEN + MTU);
		ck_assert_mem_eq(r->data, t_mac_peer, ETH_ALEN);
		ck_assert_uint_eq(be16_get(r->data + 12), ETH_TYPE_IPV4);
		ck_assert_ptr_null(ipv4_parse(r->data + L3, r->len - L3, &ip));
		ck_assert_uint_eq(ip.ihl, 5);
		ck_assert_uint_eq(ip.src, HOST);
		ck_assert_uint_eq(ip.dst, PEER);
		ck_assert_uint_eq(ip.proto, IP_PROTO_ICMP);
		ck_assert_uint_eq(ip.frag & IPV4_FLAG_DF, 0);
		if (k == 0)
			id = ip.id;
		ck_assert_uint_eq(ip.id, id);
		ck_assert_uint_eq((size_t)(ip.frag & IPV4_FRAG_MASK) * 8, at);
		size_t dlen = ip.total_len - IPV4_HDR_LEN;
		more = ip.frag & IPV4_FLAG_MF;
		if (more)
			ck_assert_uint_eq(dlen, PIECE);
		else
			ck_assert_uint_le(dlen, PIECE);
		memcpy(out + at, r->data + L4, dlen);
		at += dlen;
		k++;
		pkt_free(r);
	}
	*nframes = k;
	return at;
}

/* Expects the host's echo reply to the len-byte message in msg: the bytes
 * of want, in ceil(len / PIECE) fragments (one frame if it fits). */
static void expect_reply(struct harness *h, size_t len)
{
	size_t frames;
	ck_assert_uint_eq(take_datagram(h, got, &frames), len);
	ck_assert_uint_eq(frames, (len + PIECE - 1) / PIECE);
	ck_assert_mem_eq(got, want, len);
}

/* Nothing is left in the reassembly table. */
static void expect_table_empty(struct harness *h)
{
	ck_assert_uint_eq(h->s.reasm.count, 0);
	ck_assert_uint_eq(h->s.reasm.bytes, 0);
	ck_assert_ptr_null(h->s.reasm.list);
}

static void start(struct harness *h)
{
	harness_init(h, "10.0.0.2/24", NULL);
	harness_learn_peer(h);
}

/* ---- Reassembly: order ---- */

START_TEST(test_in_order)
{
	struct harness h;
	start(&h);
	size_t len = make_echo(1, 4000);
	ck_assert_uint_eq(send_pieces(&h, ID, len, PIECE, NULL), 3);
	ck_assert_uint_eq(count(&h, "ip.fragments_rx"), 3);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	ck_assert_uint_eq(count(&h, "icmp.rx_echo_request"), 1);
	expect_reply(&h, len);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "ip.fragmented"), 1);
	ck_assert_uint_eq(count(&h, "ip.fragments_tx"), 3);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_reverse)
{
	static size_t order[MAX_PIECES];
	struct harness h;
	start(&h);
	/* small pieces: many fragments, each one a new first in the list */
	size_t len = make_echo(2, 4000);
	size_t k = (len + 63) / 64;
	for (size_t i = 0; i < k; i++)
		order[i] = k - 1 - i;
	send_pieces(&h, ID, len, 64, order);
	ck_assert_uint_eq(count(&h, "ip.fragments_rx"), k);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	expect_reply(&h, len);
	expect_no_tx(&h);
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
	size_t len = make_echo((uint16_t)_i, 1000 + rng_below(&r, 5000)); /* <= 6008 bytes */
	size_t piece = 8 * (3 + rng_below(&r, 38)); /* 24 .. 320 bytes: <= 251 fragments */
	size_t k = (len + piece - 1) / piece;
	for (size_t i = 0; i < k; i++)
		order[i] = i;
	for (size_t i = k - 1; i > 0; i--) { /* Fisher-Yates */
		size_t j = rng_below(&r, i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	send_pieces(&h, ID, len, piece, order);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	ck_assert_uint_eq(count(&h, "ip.frag_duplicate") + count(&h, "ip.frag_overlap"), 0);
	expect_reply(&h, len);
	expect_no_tx(&h);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Reassembly: duplicates and overlaps ---- */

START_TEST(test_exact_duplicates)
{
	struct harness h;
	start(&h);
	size_t len = make_echo(3, 4000); /* pieces [0,1480) [1480,2960) [2960,4008) */
	inject_frag(&h, ID, 2960, false, msg + 2960, len - 2960);
	inject_frag(&h, ID, 2960, false, msg + 2960, len - 2960);
	inject_frag(&h, ID, 0, true, msg, PIECE);
	inject_frag(&h, ID, 0, true, msg, PIECE);
	ck_assert_uint_eq(count(&h, "ip.frag_duplicate"), 2);
	ck_assert_uint_eq(h.s.reasm.list->nfrags, 2);
	expect_no_tx(&h);
	inject_frag(&h, ID, PIECE, true, msg + PIECE, PIECE);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	expect_reply(&h, len);
	expect_table_empty(&h);

	/* a copy that comes after the datagram is complete starts a new one,
	 * which times out; it is not the first fragment, so no ICMP error */
	inject_frag(&h, ID, PIECE, true, msg + PIECE, PIECE);
	ck_assert_uint_eq(h.s.reasm.count, 1);
	advance(&h, REASM_TIMEOUT_US);
	ck_assert_uint_eq(count(&h, "ip.frag_timeout"), 1);
	expect_no_tx(&h);
	expect_table_empty(&h);
	ck_assert_uint_eq(count(&h, "ip.frag_overlap"), 0);
	harness_fini(&h);
}
END_TEST

/* Fragments that share bytes with the held fragment [1480, 2960) MF of a
 * 4008-byte message without being an exact copy of it. */
struct overlap_case {
	size_t off, len;
	bool mf;
	bool other_data;
};

static const struct overlap_case overlaps[] = {
	{ 1472, 1480, true, false },  /* across its start */
	{ 1488, 1480, true, false },  /* across its end */
	{ 1488, 8, true, false },     /* inside it */
	{ 1480, 8, true, false },     /* same start, shorter */
	{ 1480, 1488, true, false },  /* same start, longer */
	{ 1472, 1496, true, false },  /* covering it */
	{ 1480, 1480, true, true },   /* same place, other bytes */
	{ 1480, 1480, false, false }, /* same place and bytes, but MF clear */
	{ 2952, 1056, false, false }, /* the last fragment, starting 8 bytes early */
};

START_TEST(test_overlap_drops_datagram)
{
	static uint8_t other[2048];
	const struct overlap_case *c = &overlaps[_i];
	struct harness h;
	start(&h);
	size_t len = make_echo(4, 4000);
	inject_frag(&h, ID, PIECE, true, msg + PIECE, PIECE);
	ck_assert_uint_ne(h.s.reasm.bytes, 0);

	const uint8_t *data = msg + c->off;
	if (c->other_data) {
		memcpy(other, data, c->len);
		other[100] ^= 0xff;
		data = other;
	}
	inject_frag(&h, ID, c->off, c->mf, data, c->len);
	/* RFC 5722 3: the whole datagram goes, its buffers with it */
	ck_assert_uint_eq(count(&h, "ip.frag_overlap"), 1);
	ck_assert_uint_eq(count(&h, "ip.frag_duplicate"), 0);
	ck_assert_uint_eq(h.s.reasm.bytes, 0);
	ck_assert_uint_eq(h.s.reasm.list->nfrags, 0);

	/* ... and so do the fragments that were still to come */
	inject_frag(&h, ID, 0, true, msg, PIECE);
	inject_frag(&h, ID, 2960, false, msg + 2960, len - 2960);
	inject_frag(&h, ID, PIECE, true, msg + PIECE, PIECE);
	ck_assert_uint_eq(count(&h, "ip.frag_after_overlap"), 3);
	ck_assert_uint_eq(count(&h, "ip.frag_overlap"), 1);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 0);
	ck_assert_uint_eq(count(&h, "icmp.rx"), 0);
	ck_assert_uint_eq(h.s.reasm.bytes, 0);
	expect_no_tx(&h);

	/* until the deadline: then the key is forgotten, without a timeout
	 * count or an ICMP error, and the same id can be used again */
	advance(&h, REASM_TIMEOUT_US);
	expect_table_empty(&h);
	ck_assert_uint_eq(count(&h, "ip.frag_timeout"), 0);
	expect_no_tx(&h);
	harness_learn_peer(&h); /* so ARP does not probe when the reply goes out */
	send_pieces(&h, ID, len, PIECE, NULL);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	expect_reply(&h, len);
	harness_fini(&h);
}
END_TEST

/* Only the datagram that overlapped is dropped: another one in progress
 * from the same peer (another id) completes. */
START_TEST(test_overlap_spares_others)
{
	struct harness h;
	start(&h);
	size_t len = make_echo(5, 4000);
	inject_frag(&h, ID + 1, 0, true, msg, PIECE);
	inject_frag(&h, ID, 0, true, msg, PIECE);
	inject_frag(&h, ID, 8, true, msg + 8, PIECE);
	ck_assert_uint_eq(count(&h, "ip.frag_overlap"), 1);
	inject_frag(&h, ID + 1, PIECE, true, msg + PIECE, PIECE);
	inject_frag(&h, ID + 1, 2960, false, msg + 2960, len - 2960);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	expect_reply(&h, len);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_inconsistent_end)
{
	struct harness h;
	start(&h);
	make_echo(6, 4000);
	/* two last fragments that end in different places */
	inject_frag(&h, ID, PIECE, false, msg + PIECE, 520);
	inject_frag(&h, ID, 2960, false, msg + 2960, 1048);
	ck_assert_uint_eq(count(&h, "ip.frag_inconsistent"), 1);
	ck_assert_uint_eq(h.s.reasm.bytes, 0);
	/* a fragment past the end already known */
	inject_frag(&h, ID + 1, PIECE, false, msg + PIECE, 520);
	inject_frag(&h, ID + 1, 2960, true, msg + 2960, 1040);
	ck_assert_uint_eq(count(&h, "ip.frag_inconsistent"), 2);
	/* a last fragment that ends before data already received */
	inject_frag(&h, ID + 2, 2960, true, msg + 2960, 1040);
	inject_frag(&h, ID + 2, PIECE, false, msg + PIECE, 520);
	ck_assert_uint_eq(count(&h, "ip.frag_inconsistent"), 3);
	ck_assert_uint_eq(h.s.reasm.bytes, 0);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 0);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Reassembly: bad fragments ---- */

START_TEST(test_bad_length)
{
	struct harness h;
	start(&h);
	make_echo(7, 4000);
	/* RFC 791 3.2: with MF set the data is a multiple of 8 bytes */
	inject_frag(&h, ID, 0, true, msg, 1001);
	inject_frag(&h, ID, PIECE, true, msg + PIECE, 4);
	/* an empty fragment fills nothing, last or not */
	inject_frag(&h, ID, PIECE, true, msg, 0);
	inject_frag(&h, ID, PIECE, false, msg, 0);
	ck_assert_uint_eq(count(&h, "ip.frag_bad_length"), 4);
	expect_table_empty(&h);
	/* the last fragment may have any length */
	inject_frag(&h, ID, PIECE, false, msg + PIECE, 1001);
	ck_assert_uint_eq(count(&h, "ip.frag_bad_length"), 4);
	ck_assert_uint_eq(h.s.reasm.count, 1);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_too_big)
{
	struct harness h;
	start(&h);
	make_echo(8, 100);
	/* offset 65512 + 20-byte header + 24 bytes = 65556 > 65535 */
	inject_frag(&h, ID, 65512, false, msg, 24);
	inject_frag(&h, ID, 65512, true, msg, 8 * 2);
	inject_frag(&h, ID, 8191 * 8, true, msg, 8);
	ck_assert_uint_eq(count(&h, "ip.frag_too_big"), 3);
	expect_table_empty(&h);
	/* 65512 + 20 + 3 = 65535 is the largest that fits */
	inject_frag(&h, ID, 65512, false, msg, 3);
	ck_assert_uint_eq(count(&h, "ip.frag_too_big"), 3);
	ck_assert_uint_eq(h.s.reasm.count, 1);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Reassembly: timeout ---- */

START_TEST(test_timeout_with_first_fragment)
{
	static uint8_t first[2048];
	struct harness h;
	start(&h);
	size_t len = make_echo(9, 4000);
	size_t fn = frag_frame(first, IP_PROTO_ICMP, ID, 0, true, msg, PIECE);
	inject(&h, first, fn);
	ck_assert_int_eq(ipv4_reasm_next_deadline(&h.s.reasm), h.now + REASM_TIMEOUT_US);
	/* later fragments do not move the deadline (RFC 1122 3.3.2 counts
	 * from the first one to arrive) */
	advance(&h, REASM_TIMEOUT_US / 2);
	harness_learn_peer(&h); /* so ARP does not probe when the error goes out */
	inject_frag(&h, ID, 2960, false, msg + 2960, len - 2960);
	advance(&h, REASM_TIMEOUT_US / 2 - 1);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "ip.frag_timeout"), 0);
	advance(&h, 1);
	ck_assert_uint_eq(count(&h, "ip.frag_timeout"), 1);
	expect_table_empty(&h);
	ck_assert_int_eq(ipv4_reasm_next_deadline(&h.s.reasm), INT64_MAX);

	/* RFC 792: time exceeded, code 1 (fragment reassembly time exceeded),
	 * quoting the first fragment's header and the start of its data, in
	 * a datagram of at most 576 bytes */
	struct pkt *r = expect_tx(&h);
	struct ipv4_hdr ip;
	struct icmp_hdr ic;
	ck_assert_mem_eq(r->data, t_mac_peer, ETH_ALEN);
	ck_assert_ptr_null(ipv4_parse(r->data + L3, r->len - L3, &ip));
	ck_assert_uint_eq(ip.src, HOST);
	ck_assert_uint_eq(ip.dst, PEER);
	ck_assert_uint_eq(ip.proto, IP_PROTO_ICMP);
	ck_assert_uint_eq(ip.total_len, 576);
	size_t ilen = ip.total_len - IPV4_HDR_LEN;
	ck_assert_ptr_null(icmp_parse(r->data + L4, ilen, &ic));
	ck_assert_uint_eq(ic.type, ICMP_TIME_EXCEEDED);
	ck_assert_uint_eq(ic.code, 1);
	ck_assert_uint_eq(ic.rest, 0);
	ck_assert_mem_eq(r->data + L4 + ICMP_HDR_LEN, first + L3, ilen - ICMP_HDR_LEN);
	pkt_free(r);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_timeout_without_first_fragment)
{
	struct harness h;
	start(&h);
	size_t len = make_echo(10, 4000);
	inject_frag(&h, ID, PIECE, true, msg + PIECE, PIECE);
	inject_frag(&h, ID, 2960, false, msg + 2960, len - 2960);
	advance(&h, REASM_TIMEOUT_US);
	ck_assert_uint_eq(count(&h, "ip.frag_timeout"), 1);
	/* RFC 1122 3.3.2: no error unless fragment zero came */
	ck_assert_uint_eq(count(&h, "icmp.tx_error"), 0);
	expect_no_tx(&h);
	expect_table_empty(&h);
	/* the first fragment alone now starts a new datagram */
	inject_frag(&h, ID, 0, true, msg, PIECE);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 0);
	ck_assert_uint_eq(h.s.reasm.count, 1);
	harness_fini(&h);
}
END_TEST

/* ---- Reassembly: limits ---- */

START_TEST(test_datagram_limit_evicts_oldest)
{
	struct harness h;
	start(&h);
	size_t len = make_echo(11, 8); /* 16 bytes: [0,8) MF and [8,16) */
	for (uint16_t id = 1; id <= REASM_MAX_DATAGRAMS; id++) {
		inject_frag(&h, id, 0, true, msg, 8);
		h.now++;
	}
	ck_assert_uint_eq(h.s.reasm.count, REASM_MAX_DATAGRAMS);
	ck_assert_uint_eq(count(&h, "ip.frag_evicted"), 0);
	inject_frag(&h, REASM_MAX_DATAGRAMS + 1, 0, true, msg, 8);
	ck_assert_uint_eq(count(&h, "ip.frag_evicted"), 1);
	ck_assert_uint_eq(h.s.reasm.count, REASM_MAX_DATAGRAMS);

	/* id 2, now the oldest, is still there and completes */
	inject_frag(&h, 2, 8, false, msg + 8, len - 8);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	expect_reply(&h, len);
	/* id 1 was dropped: its last fragment starts a new datagram */
	inject_frag(&h, 1, 8, false, msg + 8, len - 8);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	ck_assert_uint_eq(h.s.reasm.count, REASM_MAX_DATAGRAMS);
	ck_assert_uint_eq(count(&h, "ip.frag_evicted"), 1);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_memory_limit)
{
	struct harness h;
	start(&h);
	make_echo(12, 4000);
	/* small fragments in 2 KB buffers: the limit counts buffers, not data */
	unsigned per = REASM_MAX_BYTES / PKT_SMALL_CAP / REASM_MAX_DATAGRAMS;
	for (uint16_t id = 0; id < REASM_MAX_DATAGRAMS; id++)
		for (unsigned k = 0; k < per; k++)
			inject_frag(&h, id, k * 16, true, msg, 8);
	ck_assert_uint_eq(h.s.reasm.bytes, REASM_MAX_BYTES);
	ck_assert_uint_eq(count(&h, "ip.frag_memory_limit"), 0);
	inject_frag(&h, 0, per * 16, true, msg, 8);
	inject_frag(&h, 1000, 0, true, msg, 8);
	ck_assert_uint_eq(count(&h, "ip.frag_memory_limit"), 2);
	ck_assert_uint_eq(h.s.reasm.bytes, REASM_MAX_BYTES);
	ck_assert_uint_eq(h.s.reasm.count, REASM_MAX_DATAGRAMS);
	ck_assert_uint_eq(count(&h, "ip.frag_evicted"), 0);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_fragment_limit)
{
	struct harness h;
	start(&h);
	/* REASM_MAX_FRAGMENTS fragments of 8 bytes make a datagram... */
	size_t len = make_echo(13, REASM_MAX_FRAGMENTS * 8 - ICMP_HDR_LEN);
	ck_assert_uint_eq(send_pieces(&h, ID, len, 8, NULL), REASM_MAX_FRAGMENTS);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	expect_reply(&h, len);
	/* ... one more is too many: the datagram is dropped */
	len = make_echo(14, REASM_MAX_FRAGMENTS * 8 + 8 - ICMP_HDR_LEN);
	send_pieces(&h, ID + 1, len, 8, NULL);
	ck_assert_uint_eq(count(&h, "ip.frag_too_many"), 1);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	expect_table_empty(&h);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_interleaved)
{
	enum { N = 20 };
	static size_t off[N][8], n[N][8], k[N];
	static uint8_t msgs[N][7000];
	static size_t lens[N];
	struct harness h;
	start(&h);
	for (int d = 0; d < N; d++) {
		lens[d] = make_echo((uint16_t)d, 1500 + 250 * (size_t)d); /* 2 to 5 fragments */
		memcpy(msgs[d], msg, lens[d]);
		k[d] = cut(lens[d], PIECE, off[d], n[d]);
	}
	/* round r sends the r-th fragment of every datagram; odd datagrams
	 * send theirs back to front */
	for (size_t r = 0; r < 5; r++) {
		for (int d = 0; d < N; d++) {
			if (r >= k[d])
				continue;
			size_t j = d % 2 ? k[d] - 1 - r : r;
			inject_frag(&h, (uint16_t)(100 + d), off[d][j], j + 1 < k[d],
				    msgs[d] + off[d][j], n[d][j]);
		}
	}
	ck_assert_uint_eq(count(&h, "ip.reassembled"), N);
	/* the replies come out as the datagrams complete: by size, then d */
	for (size_t r = 1; r <= 5; r++) {
		for (int d = 0; d < N; d++) {
			if (k[d] != r)
				continue;
			make_echo((uint16_t)d, lens[d] - ICMP_HDR_LEN);
			expect_reply(&h, lens[d]);
		}
	}
	expect_no_tx(&h);
	expect_table_empty(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Echo replies to big pings ---- */

static const size_t ping_sizes[] = { 1473, 4000, 8000, 65000, 65507 /* the largest */ };

START_TEST(test_big_ping_reply)
{
	struct harness h;
	start(&h);
	size_t datalen = ping_sizes[_i];
	size_t len = make_echo((uint16_t)_i, datalen);
	send_pieces(&h, ID, len, PIECE, NULL);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	ck_assert_uint_eq(count(&h, "icmp.tx_echo_reply"), 1);
	/* the reply: offsets in order, MF on all but the last, every frame
	 * within the MTU, and the fragments put together are the reply */
	expect_reply(&h, len);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "ip.fragments_tx"), (len + PIECE - 1) / PIECE);
	harness_fini(&h);
}
END_TEST

/* The largest datagram, 65535 bytes, in shuffled fragments. */
START_TEST(test_largest_datagram_shuffled)
{
	static size_t order[MAX_PIECES];
	struct harness h;
	struct rng r;
	start(&h);
	size_t len = make_echo(15, 65535 - IPV4_HDR_LEN - ICMP_HDR_LEN);
	size_t k = (len + PIECE - 1) / PIECE;
	rng_seed(&r, 7);
	for (size_t i = 0; i < k; i++)
		order[i] = i;
	for (size_t i = k - 1; i > 0; i--) {
		size_t j = rng_below(&r, i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	send_pieces(&h, ID, len, PIECE, order);
	ck_assert_uint_eq(count(&h, "ip.reassembled"), 1);
	expect_reply(&h, len);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Fragmentation ---- */

static struct pkt *payload(size_t len)
{
	struct pkt *p = pkt_alloc(len);
	ck_assert_ptr_nonnull(p);
	uint8_t *d = pkt_put(p, len);
	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(i * 7 + 3);
	return p;
}

START_TEST(test_output_fragments)
{
	struct harness h;
	start(&h);
	uint16_t id = ipv4_ident_peek(&h.s.ip_ident, HOST, PEER, IP_PROTO_ICMP);
	/* 1481 bytes: one byte more than fits */
	ck_assert_int_eq(ipv4_output(&h.s, payload(1481),
				&(struct ipv4_tx){ .dst = PEER, .proto = IP_PROTO_ICMP }), 0);
	struct pkt *want_p = payload(1481);
	size_t frames;
	ck_assert_uint_eq(take_datagram(&h, got, &frames), 1481);
	ck_assert_uint_eq(frames, 2);
	ck_assert_mem_eq(got, want_p->data, 1481);
	pkt_free(want_p);
	ck_assert_uint_eq(ipv4_ident_peek(&h.s.ip_ident, HOST, PEER, IP_PROTO_ICMP),
			  (uint16_t)(id + 1));
	ck_assert_uint_eq(count(&h, "ip.tx"), 1);
	ck_assert_uint_eq(count(&h, "ip.fragmented"), 1);
	ck_assert_uint_eq(count(&h, "ip.fragments_tx"), 2);

	/* RFC 791 3.2: with DF set it is refused instead */
	ck_assert_int_eq(ipv4_output(&h.s, payload(1481),
				&(struct ipv4_tx){ .dst = PEER, .proto = IP_PROTO_ICMP, .df = IP_DF_DO }),
			 -EMSGSIZE);
	ck_assert_uint_eq(count(&h, "ip.tx_too_big"), 1);
	expect_no_tx(&h);
	/* with DF set and fitting, it goes whole with DF on the wire */
	ck_assert_int_eq(ipv4_output(&h.s, payload(1480),
				&(struct ipv4_tx){ .dst = PEER, .proto = IP_PROTO_ICMP, .df = IP_DF_DO }), 0);
	struct pkt *r = expect_tx(&h);
	ck_assert_uint_eq(be16_get(r->data + L3 + 6), IPV4_FLAG_DF);
	pkt_free(r);
	/* IP_DF_WANT (as TCP sends): DF when it fits, fragments without DF
	 * when not (RFC 1191 3; Linux's IP_PMTUDISC_WANT) */
	ck_assert_int_eq(ipv4_output(&h.s, payload(1480),
				&(struct ipv4_tx){ .dst = PEER, .proto = IP_PROTO_ICMP, .df = IP_DF_WANT }), 0);
	r = expect_tx(&h);
	ck_assert_uint_eq(be16_get(r->data + L3 + 6), IPV4_FLAG_DF);
	pkt_free(r);
	ck_assert_int_eq(ipv4_output(&h.s, payload(1481),
				&(struct ipv4_tx){ .dst = PEER, .proto = IP_PROTO_ICMP, .df = IP_DF_WANT }), 0);
	r = expect_tx(&h);
	ck_assert_uint_eq(be16_get(r->data + L3 + 6), IPV4_FLAG_MF); /* first fragment: MF, no DF */
	pkt_free(r);
	r = expect_tx(&h);
	ck_assert_uint_eq(be16_get(r->data + L3 + 6) & IPV4_FLAG_DF, 0);
	pkt_free(r);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "ip.tx_too_big"), 1);
	/* over 65535 bytes is never sent */
	ck_assert_int_eq(ipv4_output(&h.s, payload(65535 - IPV4_HDR_LEN + 1),
				&(struct ipv4_tx){ .dst = PEER, .proto = IP_PROTO_ICMP }), -EMSGSIZE);
	ck_assert_uint_eq(count(&h, "ip.tx_too_big"), 2);
	ck_assert_int_eq(ipv4_output(&h.s, payload(65535 - IPV4_HDR_LEN),
				&(struct ipv4_tx){ .dst = PEER, .proto = IP_PROTO_ICMP }), 0);
	ck_assert_uint_eq(take_datagram(&h, got, &frames), 65535 - IPV4_HDR_LEN);
	ck_assert_uint_eq(frames, 45);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* A datagram with options, cut directly: the first fragment keeps them
 * all, later ones only those with the copy flag (RFC 791 3.1, 3.2). */
START_TEST(test_output_options)
{
	static const uint8_t opts[12] = {
		7, 7, 4, 0, 0, 0, 0,      /* record route: not copied */
		1,                        /* no-operation */
		0x88, 4, 0x12, 0x34,      /* stream identifier: copied */
	};
	struct harness h;
	start(&h);
	size_t hlen = IPV4_HDR_LEN + sizeof(opts), dlen = 3000;
	struct pkt *p = payload(hlen + dlen);
	uint8_t *d = p->data;
	uint8_t data[3000];
	memcpy(data, d + hlen, dlen);
	memset(d, 0, IPV4_HDR_LEN);
	d[0] = (uint8_t)(0x40 | hlen / 4);
	be16_put(d + 2, (uint16_t)(hlen + dlen));
	be16_put(d + 4, 0x4321);
	d[8] = 64;
	d[9] = 253;
	be32_put(d + 12, HOST);
	be32_put(d + 16, PEER);
	memcpy(d + IPV4_HDR_LEN, opts, sizeof(opts));
	ck_assert_int_eq(ipv4_fragment_output(&h.s, h.ifp, p, PEER, MTU), 0);

	/* data: (1500 - 32) / 8 * 8 = 1464, then (1500 - 24) / 8 * 8 = 1472, then 64 */
	static const size_t flen[] = { 1464, 1472, 64 };
	size_t at = 0;
	for (int i = 0; i < 3; i++) {
		struct pkt *r = expect_tx(&h);
		struct ipv4_hdr ip;
		ck_assert_ptr_null(ipv4_parse(r->data + L3, r->len - L3, &ip));
		size_t fh = (size_t)ip.ihl * 4;
		ck_assert_uint_eq(fh, i == 0 ? 32 : 24);
		if (i == 0)
			ck_assert_mem_eq(r->data + L4, opts, sizeof(opts));
		else
			ck_assert_mem_eq(r->data + L4, opts + 8, 4);
		ck_assert_uint_eq(ip.id, 0x4321);
		ck_assert_uint_eq(ip.total_len, fh + flen[i]);
		ck_assert_uint_le(ip.total_len, MTU);
		ck_assert_uint_eq(ip.frag, (i < 2 ? IPV4_FLAG_MF : 0) | at / 8);
		ck_assert_mem_eq(r->data + L3 + fh, data + at, flen[i]);
		at += flen[i];
		pkt_free(r);
	}
	expect_no_tx(&h);

	/* DF, a header that lies about its length, an MTU with no room */
	p = payload(100);
	memcpy(p->data, (const uint8_t[]){ 0x45, 0, 0, 100, 0, 0, 0x40, 0 }, 8);
	ck_assert_int_eq(ipv4_fragment_output(&h.s, h.ifp, p, PEER, 68), -EMSGSIZE);
	p = payload(100);
	memcpy(p->data, (const uint8_t[]){ 0x45, 0, 0, 99, 0, 0, 0, 0 }, 8);
	ck_assert_int_eq(ipv4_fragment_output(&h.s, h.ifp, p, PEER, 68), -EINVAL);
	p = payload(100);
	memcpy(p->data, (const uint8_t[]){ 0x45, 0, 0, 100, 0, 0, 0, 0 }, 8);
	ck_assert_int_eq(ipv4_fragment_output(&h.s, h.ifp, p, PEER, 27), -EMSGSIZE);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* When buffers run out midway, the fragments already made are sent and
 * the rest are dropped with a count. */
START_TEST(test_output_out_of_buffers)
{
	struct harness h;
	start(&h);
	struct pkt *big = payload(4000); /* a large buffer: made before the small ones run out */
	struct pkt *hold = NULL, *q;
	while ((q = pkt_alloc(1)) != NULL) {
		q->next = hold;
		hold = q;
	}
	for (int i = 0; i < 2; i++) {
		q = hold->next;
		pkt_free(hold);
		hold = q;
	}
	ck_assert_int_eq(ipv4_output(&h.s, big,
				&(struct ipv4_tx){ .dst = PEER, .proto = IP_PROTO_ICMP }), -ENOBUFS);
	ck_assert_uint_eq(count(&h, "ip.frag_no_buffer"), 1);
	ck_assert_uint_eq(count(&h, "ip.fragments_tx"), 2);
	pkt_free_chain(hold);
	pkt_free(expect_tx(&h));
	pkt_free(expect_tx(&h));
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* ---- The reassembly insert on its own ---- */

/* A fragment as the table holds it: p->data at the IP header. */
static struct pkt *frag_pkt(size_t off, bool mf, const uint8_t *data, size_t len)
{
	static uint8_t f[2048];
	size_t n = frag_frame(f, IP_PROTO_ICMP, ID, off, mf, data, len);
	struct pkt *p = pkt_alloc(n);
	ck_assert_ptr_nonnull(p);
	memcpy(pkt_put(p, n), f, n);
	pkt_pull(p, L3);
	return p;
}

/* The offsets of the fragments held by e, in list order, into off. */
static size_t list_offsets(const struct reasm_entry *e, size_t *off)
{
	size_t k = 0;
	for (const struct pkt *p = e->frags; p; p = p->next)
		off[k++] = (size_t)(be16_get(p->data + 6) & IPV4_FRAG_MASK) * 8;
	return k;
}

START_TEST(test_insert)
{
	struct reasm_entry e;
	size_t off[8];
	memset(&e, 0, sizeof(e));
	make_echo(16, 4000);

	struct pkt *b = frag_pkt(1480, true, msg + 1480, 1480);
	ck_assert_ptr_null(ipv4_reasm_insert(&e, b));
	struct pkt *a = frag_pkt(0, true, msg, 1480);
	ck_assert_ptr_null(ipv4_reasm_insert(&e, a));
	ck_assert_uint_eq(list_offsets(&e, off), 2);
	ck_assert_uint_eq(off[0], 0);
	ck_assert_uint_eq(off[1], 1480);
	ck_assert_uint_eq(e.nfrags, 2);
	ck_assert_uint_eq(e.received, 2960);
	ck_assert_uint_eq(e.bytes, a->cap + b->cap);

	/* an exact copy, and copies that differ: nothing changes */
	struct pkt *dup = frag_pkt(0, true, msg, 1480);
	ck_assert_str_eq(ipv4_reasm_insert(&e, dup), "ip.frag_duplicate");
	dup->data[L4 - L3 + 5] ^= 1;
	ck_assert_str_eq(ipv4_reasm_insert(&e, dup), "ip.frag_overlap");
	struct pkt *x = frag_pkt(2952, false, msg + 2952, 1056);
	ck_assert_str_eq(ipv4_reasm_insert(&e, x), "ip.frag_overlap");
	struct pkt *y = frag_pkt(1000, true, msg + 1000, 8);
	ck_assert_str_eq(ipv4_reasm_insert(&e, y), "ip.frag_overlap");
	ck_assert_uint_eq(e.nfrags, 2);
	ck_assert_uint_eq(e.received, 2960);

	/* the last one goes at the end; a gap-filler between two */
	struct pkt *c = frag_pkt(3000, false, msg + 3000, 1008);
	ck_assert_ptr_null(ipv4_reasm_insert(&e, c));
	struct pkt *g = frag_pkt(2960, true, msg + 2960, 40);
	ck_assert_ptr_null(ipv4_reasm_insert(&e, g));
	ck_assert_uint_eq(list_offsets(&e, off), 4);
	ck_assert_uint_eq(off[2], 2960);
	ck_assert_uint_eq(off[3], 3000);
	ck_assert_uint_eq(e.nfrags, 4);
	ck_assert_uint_eq(e.received, 4008);

	pkt_free_chain(e.frags);
	pkt_free(dup);
	pkt_free(x);
	pkt_free(y);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

/* ---- What a student sees ---- */

START_TEST(test_trace_lines)
{
	char *buf = NULL;
	size_t size = 0;
	struct harness h;
	start(&h);
	h.s.trace = open_memstream(&buf, &size);
	ck_assert_ptr_nonnull(h.s.trace);
	size_t len = make_echo(17, 4000);
	/* the reply's identification */
	unsigned id = ipv4_ident_peek(&h.s.ip_ident, HOST, PEER, IP_PROTO_ICMP);
	send_pieces(&h, ID, len, PIECE, NULL);
	fclose(h.s.trace);
	h.s.trace = NULL;
	char tx[3][80];
	for (int i = 0; i < 3; i++)
		snprintf(tx[i], sizeof(tx[i]),
			 "tx IP fragment 10.0.0.2 -> 10.0.0.1 id %u offset %d len %s\n", id,
			 i * PIECE, i < 2 ? "1480 MF" : "1048");
	const char *const lines[] = {
		"rx IP fragment 10.0.0.1 -> 10.0.0.2 id 4660 offset 0 len 1480 MF\n",
		"rx IP fragment 10.0.0.1 -> 10.0.0.2 id 4660 offset 1480 len 1480 MF\n",
		"rx IP fragment 10.0.0.1 -> 10.0.0.2 id 4660 offset 2960 len 1048\n",
		"ip reassembled 10.0.0.1 id 4660: 3 fragments, 4028 bytes\n",
		tx[0], tx[1], tx[2],
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		ck_assert_msg(strstr(buf, lines[i]) != NULL, "no trace line \"%s\"", lines[i]);
	free(buf);
	expect_reply(&h, len);
	harness_fini(&h);
}
END_TEST

Suite *frag_suite(void)
{
	Suite *s = suite_create("frag");
	TCase *tc = tcase_create("reassembly");
	tcase_add_test(tc, test_in_order);
	tcase_add_test(tc, test_reverse);
	tcase_add_loop_test(tc, test_shuffled, 0, 20);
	tcase_add_test(tc, test_exact_duplicates);
	tcase_add_loop_test(tc, test_overlap_drops_datagram, 0,
			    (int)(sizeof(overlaps) / sizeof(overlaps[0])));
	tcase_add_test(tc, test_overlap_spares_others);
	tcase_add_test(tc, test_inconsistent_end);
	tcase_add_test(tc, test_bad_length);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_timeout_with_first_fragment);
	tcase_add_test(tc, test_timeout_without_first_fragment);
	tcase_add_test(tc, test_insert);
	tcase_add_test(tc, test_trace_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_datagram_limit_evicts_oldest);
	tcase_add_test(tc, test_memory_limit);
	tcase_add_test(tc, test_fragment_limit);
	tcase_add_test(tc, test_interleaved);
	suite_add_tcase(s, tc);

	tc = tcase_create("fragmentation");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_big_ping_reply, 0,
			    (int)(sizeof(ping_sizes) / sizeof(ping_sizes[0])));
	tcase_add_test(tc, test_largest_datagram_shuffled);
	tcase_add_test(tc, test_output_fragments);
	tcase_add_test(tc, test_output_options);
	tcase_add_test(tc, test_output_out_of_buffers);
	suite_add_tcase(s, tc);
	return s;
}

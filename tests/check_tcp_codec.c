/* The TCP segment codec and sequence arithmetic: every field and option of
 * the captured Linux segments (SYN, SYN-ACK, data, FIN, RST) as tshark
 * decodes them, their checksums over the IPv4 pseudo-header, emitting
 * headers byte for byte like Linux, SACK blocks, every malformed header and
 * option, flag names, and SEQ_* across 0, 2^31 and the 2^32 wrap. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ip/ipv4.h"
#include "link/eth.h"
#include "stack/byteorder.h"
#include "stack/rng.h"
#include "tcp/tcp_codec.h"
#include "tcp/tcp_seq.h"
#include "tests/harness.h"

#define PEER 0x0a000001u  /* 10.0.0.1 */
#define HOST 0x0a000002u  /* 10.0.0.2 */
#define L3 ETH_HDR_LEN

/* A captured segment: where it is, and tshark's decoding of it
 * (tshark -r FILE -T fields -e tcp.seq_raw -e tcp.options.mss_val ...). */
struct captured {
	const char *file;
	int frame;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hlen, flags;
	uint16_t wnd, checksum;
	bool syn_opts;           /* MSS 1460, SACK-permitted, WS 10 */
	bool ts_ok;
	uint32_t tsval, tsecr;
	size_t len;
};

static const struct captured segs[] = {
	/* curl's SYN and nginx's SYN-ACK */
	{ "tcp-http.pcap", 1, PEER, HOST, 47906, 80, 3012517917u, 0, 40, TCP_FLAG_SYN, 64240,
	  0xcfda, true, true, 2322010024u, 0, 0 },
	{ "tcp-http.pcap", 2, HOST, PEER, 80, 47906, 2148452959u, 3012517918u, 40,
	  TCP_FLAG_SYN | TCP_FLAG_ACK, 65160, 0x22e8, true, true, 1362562468u, 2322010024u, 0 },
	/* the handshake's last ACK, the GET and the first 1448 bytes of the page */
	{ "tcp-http.pcap", 3, PEER, HOST, 47906, 80, 3012517918u, 2148452960u, 32, TCP_FLAG_ACK,
	  63, 0x5001, false, true, 2322010024u, 1362562468u, 0 },
	{ "tcp-http.pcap", 4, PEER, HOST, 47906, 80, 3012517918u, 2148452960u, 32,
	  TCP_FLAG_PSH | TCP_FLAG_ACK, 63, 0x79e4, false, true, 2322010024u, 1362562468u, 72 },
	{ "tcp-http.pcap", 6, HOST, PEER, 80, 47906, 2148452960u, 3012517990u, 32, TCP_FLAG_ACK,
	  64, 0x29c3, false, true, 1362562468u, 2322010024u, 1448 },
	/* both FINs */
	{ "tcp-http.pcap", 34, PEER, HOST, 47906, 80, 3012517990u, 2148473201u, 32,
	  TCP_FLAG_FIN | TCP_FLAG_ACK, 77, 0x0099, false, true, 2322010024u, 1362562468u, 0 },
	{ "tcp-http.pcap", 35, HOST, PEER, 80, 47906, 2148473201u, 3012517991u, 32,
	  TCP_FLAG_FIN | TCP_FLAG_ACK, 64, 0x00a3, false, true, 1362562470u, 2322010024u, 0 },
	/* a SYN to a closed port and Linux's RST */
	{ "tcp-rst-closed-port.pcap", 2, PEER, HOST, 53580, 81, 3110551849u, 0, 40, TCP_FLAG_SYN,
	  64240, 0x1f3f, true, true, 1242694538u, 0, 0 },
	{ "tcp-rst-closed-port.pcap", 3, HOST, PEER, 81, 53580, 0, 3110551850u, 20,
	  TCP_FLAG_RST | TCP_FLAG_ACK, 0, 0xcf9e, false, false, 0, 0, 0 },
};

/* Loads a captured segment: the TCP bytes (as many as the IP total length
 * says) at *tcp. Returns their length. */
static size_t load(const struct captured *c, uint8_t *f, size_t cap, uint8_t **tcp)
{
	struct ipv4_hdr ip;
	size_t n = vector_frame(c->file, c->frame, f, cap);

	ck_assert_ptr_null(ipv4_parse(f + L3, n - L3, &ip));
	ck_assert_uint_eq(ip.proto, IP_PROTO_TCP);
	*tcp = f + L3 + ip.ihl * 4;
	return ip.total_len - ip.ihl * 4u;
}

/* True if the segment at t (len bytes) has a right checksum from src to dst. */
static bool csum_ok(uint32_t src, uint32_t dst, const uint8_t *t, size_t len)
{
	struct ipaddr s = ipaddr_v4(src), d = ipaddr_v4(dst);
	return tcp_checksum_ok(&s, &d, t, len);
}

/* Fills the checksum of the segment at t (len bytes) from src to dst. */
static void set_csum(uint32_t src, uint32_t dst, uint8_t *t, size_t len)
{
	struct ipaddr s = ipaddr_v4(src), d = ipaddr_v4(dst);
	tcp_set_checksum(&s, &d, t, len);
}

/* ---- Parsing captured segments ---- */

START_TEST(test_parse_captured)
{
	const struct captured *c = &segs[_i];
	uint8_t f[2048], *t;
	struct tcp_seg seg;
	size_t len = load(c, f, sizeof(f), &t);

	ck_assert_ptr_null(tcp_parse(t, len, &seg));
	ck_assert_uint_eq(seg.sport, c->sport);
	ck_assert_uint_eq(seg.dport, c->dport);
	ck_assert_uint_eq(seg.seq, c->seq);
	ck_assert_uint_eq(seg.ack, c->ack);
	ck_assert_uint_eq(seg.hlen, c->hlen);
	ck_assert_uint_eq(seg.flags, c->flags);
	ck_assert_uint_eq(seg.wnd, c->wnd);
	ck_assert_uint_eq(seg.checksum, c->checksum);
	ck_assert_uint_eq(seg.urp, 0);
	ck_assert_uint_eq(seg.opt.mss_ok, c->syn_opts);
	ck_assert_uint_eq(seg.opt.mss, c->syn_opts ? 1460 : 0);
	ck_assert_uint_eq(seg.opt.ws_ok, c->syn_opts);
	ck_assert_uint_eq(seg.opt.ws, c->syn_opts ? 10 : 0);  /* tshark: WS=1024 */
	ck_assert_uint_eq(seg.opt.sack_perm, c->syn_opts);
	ck_assert_uint_eq(seg.opt.nsack, 0);
	ck_assert_uint_eq(seg.opt.ts_ok, c->ts_ok);
	ck_assert_uint_eq(seg.opt.tsval, c->tsval);
	ck_assert_uint_eq(seg.opt.tsecr, c->tsecr);
	ck_assert_uint_eq(seg.len, c->len);
	ck_assert_ptr_eq(seg.data, t + c->hlen);
	ck_assert_uint_eq(tcp_seg_len(&seg),
			  c->len + !!(c->flags & TCP_FLAG_SYN) + !!(c->flags & TCP_FLAG_FIN));
	if (c->frame == 4 && c->len)
		ck_assert_mem_eq(seg.data, "GET / HTTP/1.1\r\n", 16);

	/* RFC 9293 3.1: the checksum covers the IPv4 pseudo-header */
	ck_assert(csum_ok(c->src, c->dst, t, len));
	ck_assert(!csum_ok(c->src + 1, c->dst, t, len));   /* another source address */
	ck_assert(!csum_ok(c->src, c->dst, t, len - 1));   /* another length */
	t[len - 1] ^= 0x01;                                /* one bit of the last byte */
	ck_assert(!csum_ok(c->src, c->dst, t, len));
	t[len - 1] ^= 0x01;
	/* set_checksum writes the value Linux wrote */
	be16_put(t + 16, 0x1234);
	set_csum(c->src, c->dst, t, len);
	ck_assert_uint_eq(be16_get(t + 16), c->checksum);
}
END_TEST

/* Emitting what was parsed gives back Linux's header, byte for byte, and
 * with the checksum filled in over header and data the whole segment. */
START_TEST(test_emit_captured)
{
	const struct captured *c = &segs[_i];
	uint8_t f[2048], *t, out[2048];
	struct tcp_seg seg;
	size_t len = load(c, f, sizeof(f), &t);

	ck_assert_ptr_null(tcp_parse(t, len, &seg));
	ck_assert_uint_eq(tcp_opts_len(&seg.opt), c->hlen);
	memset(out, 0xee, sizeof(out));
	ck_assert_uint_eq(tcp_emit(&seg, out), c->hlen);
	ck_assert_uint_eq(be16_get(out + 16), 0);
	ck_assert_mem_eq(out, t, 16);
	ck_assert_mem_eq(out + 18, t + 18, c->hlen - 18u);
	ck_assert_uint_eq(out[c->hlen], 0xee);   /* nothing written past the header */
	memcpy(out + c->hlen, seg.data, seg.len);
	set_csum(c->src, c->dst, out, len);
	ck_assert_mem_eq(out, t, len);
}
END_TEST

/* The layouts Linux uses: a SYN's 20 option bytes, NOP NOP TS on data. */
START_TEST(test_emit_layout)
{
	static const uint8_t syn_opts[20] = {
		0x02, 0x04, 0x05, 0xb4,                                /* MSS 1460 */
		0x04, 0x02,                                            /* SACK-permitted */
		0x08, 0x0a, 0x8a, 0x67, 0x0f, 0xa8, 0, 0, 0, 0,        /* TS 2322010024 0 */
		0x01, 0x03, 0x03, 0x0a,                                /* NOP, WS 10 */
	};
	struct tcp_seg seg = { .sport = 47906, .dport = 80, .seq = 1, .flags = TCP_FLAG_SYN,
			       .wnd = 64240 };
	uint8_t out[TCP_MAX_HDR_LEN];

	seg.opt = (struct tcp_opts){ .mss_ok = true, .mss = 1460, .sack_perm = true, .ts_ok = true,
				     .tsval = 2322010024u, .ws_ok = true, .ws = 10 };
	ck_assert_uint_eq(tcp_emit(&seg, out), 40);
	ck_assert_uint_eq(out[12], 0xa0);
	ck_assert_mem_eq(out + 20, syn_opts, 20);

	/* timestamps alone: NOP NOP TS */
	seg.opt = (struct tcp_opts){ .ts_ok = true, .tsval = 1, .tsecr = 2 };
	ck_assert_uint_eq(tcp_emit(&seg, out), 32);
	ck_assert_mem_eq(out + 20, "\x01\x01\x08\x0a\0\0\0\x01\0\0\0\x02", 12);
	ck_assert_uint_eq(out[12], 0x80);
	/* SACK-permitted without timestamps: NOP NOP SACKOK */
	seg.opt = (struct tcp_opts){ .sack_perm = true };
	ck_assert_uint_eq(tcp_emit(&seg, out), 24);
	ck_assert_mem_eq(out + 20, "\x01\x01\x04\x02", 4);
	/* MSS alone, window scale alone */
	seg.opt = (struct tcp_opts){ .mss_ok = true, .mss = 536 };
	ck_assert_uint_eq(tcp_emit(&seg, out), 24);
	ck_assert_mem_eq(out + 20, "\x02\x04\x02\x18", 4);
	seg.opt = (struct tcp_opts){ .ws_ok = true, .ws = 7 };
	ck_assert_uint_eq(tcp_emit(&seg, out), 24);
	ck_assert_mem_eq(out + 20, "\x01\x03\x03\x07", 4);
	/* no options: 20 bytes, data offset 5 */
	seg.opt = (struct tcp_opts){ 0 };
	ck_assert_uint_eq(tcp_emit(&seg, out), 20);
	ck_assert_uint_eq(tcp_opts_len(&seg.opt), 20);
	ck_assert_uint_eq(out[12], 0x50);
	/* the urgent pointer and every flag bit go out as given */
	seg.urp = 0xbeef;
	seg.flags = 0xff;
	tcp_emit(&seg, out);
	ck_assert_uint_eq(be16_get(out + 18), 0xbeef);
	ck_assert_uint_eq(out[13], 0xff);
}
END_TEST

/* RFC 2018: 1 to 4 SACK blocks go out as NOP NOP SACK and parse back. */
START_TEST(test_sack_round_trip)
{
	int n = _i + 1;
	struct tcp_seg seg = { .sport = 1, .dport = 2, .flags = TCP_FLAG_ACK }, back;
	uint8_t out[TCP_MAX_HDR_LEN];

	seg.opt.nsack = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		seg.opt.sack[i][0] = 0xfffffff0u + 1000u * (uint32_t)i;  /* across the wrap */
		seg.opt.sack[i][1] = 0xfffffff0u + 1000u * (uint32_t)i + 500u;
	}
	size_t hlen = tcp_emit(&seg, out);
	ck_assert_uint_eq(hlen, 20u + 4u + 8u * (size_t)n);
	ck_assert_uint_eq(tcp_opts_len(&seg.opt), hlen);
	ck_assert_uint_eq(out[20], TCP_OPT_NOP);
	ck_assert_uint_eq(out[21], TCP_OPT_NOP);
	ck_assert_uint_eq(out[22], TCP_OPT_SACK);
	ck_assert_uint_eq(out[23], 2 + 8 * n);
	ck_assert_uint_eq(be32_get(out + 24), 0xfffffff0u);
	ck_assert_ptr_null(tcp_parse(out, hlen, &back));
	ck_assert_uint_eq(back.opt.nsack, n);
	ck_assert_mem_eq(back.opt.sack, seg.opt.sack, sizeof(seg.opt.sack[0]) * n);

	/* with timestamps: NOP NOP TS NOP NOP SACK, at most 3 blocks fit in 40 bytes */
	seg.opt.ts_ok = true;
	seg.opt.tsval = 7;
	int fit = n < 3 ? n : 3;
	hlen = tcp_emit(&seg, out);
	ck_assert_uint_eq(hlen, 20u + 12u + 4u + 8u * (size_t)fit);
	ck_assert_uint_eq(tcp_opts_len(&seg.opt), hlen);
	ck_assert_mem_eq(out + 20, "\x01\x01\x08\x0a", 4);
	ck_assert_mem_eq(out + 32, "\x01\x01\x05", 3);
	ck_assert_ptr_null(tcp_parse(out, hlen, &back));
	ck_assert(back.opt.ts_ok);
	ck_assert_uint_eq(back.opt.tsval, 7);
	ck_assert_uint_eq(back.opt.nsack, fit);
	ck_assert_mem_eq(back.opt.sack, seg.opt.sack, sizeof(seg.opt.sack[0]) * fit);

	/* with every option: 20 bytes left, 2 blocks */
	seg.opt.mss_ok = seg.opt.ws_ok = seg.opt.sack_perm = true;
	fit = n < 2 ? n : 2;
	hlen = tcp_emit(&seg, out);
	ck_assert_uint_eq(hlen, 40u + 4u + 8u * (size_t)fit);
	ck_assert_uint_le(hlen, TCP_MAX_HDR_LEN);
	ck_assert_ptr_null(tcp_parse(out, hlen, &back));
	ck_assert_uint_eq(back.opt.nsack, fit);
	ck_assert(back.opt.mss_ok && back.opt.ws_ok && back.opt.sack_perm && back.opt.ts_ok);
}
END_TEST

/* ---- Malformed segments ---- */

/* A header with data offset doff and the option bytes given after it (up
 * to 40), then 3 bytes of data. Returns its length. */
static size_t with_opts(uint8_t *t, unsigned doff, const uint8_t *opts, size_t olen)
{
	memset(t, 0, 80);
	be16_put(t, 1234);
	be16_put(t + 2, 80);
	t[12] = (uint8_t)(doff << 4);
	t[13] = TCP_FLAG_ACK;
	memcpy(t + 20, opts, olen);
	size_t hlen = doff * 4;
	memcpy(t + hlen, "abc", 3);
	return hlen + 3;
}

struct bad_opt {
	const char *what;
	uint8_t opts[40];
	size_t olen;             /* a multiple of 4 */
	const char *reason;      /* NULL: parses */
};

static const struct bad_opt bad_opts[] = {
	{ "option length 0", { 2, 0, 0, 0 }, 4, "tcp.bad_option" },
	{ "option length 1", { 8, 1, 0, 0 }, 4, "tcp.bad_option" },
	{ "unknown kind, length 0", { 0xfe, 0, 1, 1 }, 4, "tcp.bad_option" },
	{ "unknown kind, length 1", { 0xfe, 1, 1, 1 }, 4, "tcp.bad_option" },
	{ "runs past the header", { 1, 1, 8, 10, 0, 0, 0, 1 }, 8, "tcp.bad_option" },
	{ "unknown runs past the header", { 0xfe, 5, 0, 0 }, 4, "tcp.bad_option" },
	{ "kind without a length byte", { 1, 1, 1, 2 }, 4, "tcp.bad_option" },
	{ "MSS length 3", { 2, 3, 5, 1 }, 4, "tcp.bad_option" },
	{ "MSS length 5", { 2, 5, 5, 0xb4, 0, 1, 1, 1 }, 8, "tcp.bad_option" },
	{ "WS length 4", { 3, 4, 7, 0 }, 4, "tcp.bad_option" },
	{ "WS length 2", { 3, 2, 1, 1 }, 4, "tcp.bad_option" },
	{ "SACK-permitted length 3", { 4, 3, 0, 1 }, 4, "tcp.bad_option" },
	{ "SACK length 9", { 5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1 }, 12, "tcp.bad_option" },
	{ "SACK length 2 (no block)", { 5, 2, 1, 1 }, 4, "tcp.bad_option" },
	/* 5 blocks take 42 bytes: more than any header has */
	{ "SACK with 5 blocks", { 5, 42 }, 40, "tcp.bad_option" },
	{ "TS length 9", { 8, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1 }, 12, "tcp.bad_option" },
	{ "TS length 11", { 8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1 }, 12, "tcp.bad_option" },
	/* a bad option after a good one still fails the segment */
	{ "good MSS then bad WS", { 2, 4, 5, 0xb4, 3, 4, 7, 0 }, 8, "tcp.bad_option" },
	/* RFC 9293 3.2: unknown options are skipped by their length */
	{ "unknown skipped", { 0xfe, 6, 0xaa, 0xbb, 0xcc, 0xdd, 2, 4, 5, 0xb4, 1, 1 }, 12, NULL },
	{ "unknown length 2 skipped", { 30, 2, 2, 4, 5, 0xb4, 1, 1 }, 8, NULL },
	/* RFC 9293 3.2: EOL ends the list; what follows is not looked at */
	{ "EOL stops", { 2, 4, 5, 0xb4, 0, 8, 0, 3, 4, 0, 0, 0 }, 12, NULL },
	{ "NOPs only", { 1, 1, 1, 1, 1, 1, 1, 1 }, 8, NULL },
	{ "SACK 4 blocks exactly", { 5, 34 }, 36, NULL },
};

START_TEST(test_parse_bad_option)
{
	const struct bad_opt *b = &bad_opts[_i];
	uint8_t t[80];
	struct tcp_seg seg;
	size_t len = with_opts(t, 5 + (unsigned)b->olen / 4, b->opts, b->olen);
	const char *reason = tcp_parse(t, len, &seg);

	/* the same header with nothing after it, in a buffer of exactly its
	 * size: the parser reads no byte past the header (ASan sees it) */
	uint8_t *exact = malloc(seg.hlen);
	ck_assert_ptr_nonnull(exact);
	memcpy(exact, t, seg.hlen);
	struct tcp_seg seg2;
	const char *reason2 = tcp_parse(exact, seg.hlen, &seg2);
	free(exact);
	ck_assert_msg((reason == NULL) == (reason2 == NULL) && (!reason || !strcmp(reason, reason2)),
		      "%s: %s alone", b->what, reason2 ? reason2 : "NULL");

	if (b->reason) {
		ck_assert_msg(reason && strcmp(reason, b->reason) == 0, "%s: got %s", b->what,
			      reason ? reason : "NULL");
		return;
	}
	ck_assert_msg(reason == NULL, "%s: got %s", b->what, reason);
	ck_assert_uint_eq(seg.hlen, 20 + b->olen);
	ck_assert_uint_eq(seg.len, 3);
	ck_assert_mem_eq(seg.data, "abc", 3);
	ck_assert(!seg.opt.ws_ok && !seg.opt.ts_ok && !seg.opt.sack_perm);
	if (b->opts[0] == 5) {
		ck_assert_uint_eq(seg.opt.nsack, 4);
	} else if (b->opts[0] != 1) {
		ck_assert(seg.opt.mss_ok);
		ck_assert_uint_eq(seg.opt.mss, 1460);
	}
}
END_TEST

START_TEST(test_parse_malformed_header)
{
	uint8_t t[80];
	struct tcp_seg seg;
	size_t len = with_opts(t, 5, (const uint8_t *)"", 0);

	ck_assert_ptr_null(tcp_parse(t, len, &seg));
	ck_assert_ptr_null(tcp_parse(t, 20, &seg));       /* no data at all */
	ck_assert_uint_eq(seg.len, 0);
	ck_assert_str_eq(tcp_parse(t, 19, &seg), "tcp.short");
	ck_assert_str_eq(tcp_parse(t, 0, &seg), "tcp.short");
	/* RFC 9293 3.1: data offset in words, 5 at least */
	for (unsigned doff = 0; doff < 5; doff++) {
		t[12] = (uint8_t)(doff << 4);
		ck_assert_str_eq(tcp_parse(t, len, &seg), "tcp.bad_offset");
	}
	/* past the end of the segment: 24 bytes of header in 23 */
	t[12] = 6 << 4;
	memset(t + 20, TCP_OPT_NOP, 4);
	ck_assert_str_eq(tcp_parse(t, 23, &seg), "tcp.bad_offset");
	ck_assert_ptr_null(tcp_parse(t, 24, &seg));
	t[12] = 15 << 4;
	memset(t + 20, TCP_OPT_NOP, 40);
	ck_assert_str_eq(tcp_parse(t, 59, &seg), "tcp.bad_offset");
	ck_assert_ptr_null(tcp_parse(t, 60, &seg));
	ck_assert_uint_eq(seg.hlen, 60);
	/* the 4 reserved bits do not change the offset */
	t[12] = 5 << 4 | 0x0f;
	ck_assert_ptr_null(tcp_parse(t, 20, &seg));
	ck_assert_uint_eq(seg.hlen, 20);
}
END_TEST

/* Fails unless b holds the options of a, except SACK blocks that did not
 * fit next to MSS and window scale (a SYN does not carry SACK blocks). */
static void same_opts(const struct tcp_opts *b, const struct tcp_opts *a)
{
	ck_assert(b->mss_ok == a->mss_ok && b->mss == a->mss);
	ck_assert(b->ws_ok == a->ws_ok && b->ws == a->ws);
	ck_assert(b->sack_perm == a->sack_perm);
	ck_assert(b->ts_ok == a->ts_ok && b->tsval == a->tsval && b->tsecr == a->tsecr);
	ck_assert_uint_le(b->nsack, a->nsack);
	if (!a->mss_ok && !a->ws_ok)
		ck_assert_uint_eq(b->nsack, a->nsack);
	for (int i = 0; i < b->nsack; i++)
		ck_assert(b->sack[i][0] == a->sack[i][0] && b->sack[i][1] == a->sack[i][1]);
}

/* Random headers, biased towards known option kinds and small lengths, in
 * buffers of exactly their size: the parser never reads outside them (ASan
 * sees it), and what it accepts is consistent. */
START_TEST(test_parse_random)
{
	static const uint8_t kinds[] = { 0, 1, 1, 2, 3, 4, 5, 8, 8, 0xfe };
	static const uint8_t good_len[256] = { [2] = 4, [3] = 3, [4] = 2, [5] = 10, [8] = 10,
					       [0xfe] = 6 };
	struct rng r;

	rng_seed(&r, 9293);
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)rng_below(&r, 80);
		uint8_t *t = malloc(len ? len : 1);
		ck_assert_ptr_nonnull(t);
		for (size_t k = 0; k < len; k++)
			t[k] = (uint8_t)rng_next(&r);
		if (len > 12)
			t[12] = (uint8_t)((5 + rng_below(&r, 11)) << 4);
		if (len > 20 && rng_chance(&r, 0.5))
			t[12] = (uint8_t)((len / 4 < 15 ? len / 4 : 15) << 4); /* options to the end */
		for (size_t k = 20; k + 1 < len;) {
			uint8_t kind = kinds[rng_below(&r, sizeof(kinds))];
			t[k] = kind;
			if (kind <= TCP_OPT_NOP && rng_chance(&r, 0.8)) {
				k++;
				continue;
			}
			t[k + 1] = (uint8_t)(rng_chance(&r, 0.9) ? good_len[kind] : rng_below(&r, 12));
			if (kind == TCP_OPT_SACK && t[k + 1] == 10)
				t[k + 1] = (uint8_t)(2 + 8 * (1 + rng_below(&r, 4)));
			k += t[k + 1] > 2 ? t[k + 1] : 2;
		}
		struct tcp_seg seg;
		const char *reason = tcp_parse(t, len, &seg);
		if (!reason) {
			ck_assert_uint_ge(seg.hlen, TCP_HDR_LEN);
			ck_assert_uint_le(seg.hlen, len);
			ck_assert_ptr_eq(seg.data + seg.len, t + len);
			ck_assert_uint_le(seg.opt.nsack, TCP_MAX_SACK);
			/* what parses emits to the same options */
			uint8_t out[TCP_MAX_HDR_LEN];
			struct tcp_seg back;
			size_t hlen = tcp_emit(&seg, out);
			ck_assert_uint_eq(hlen, tcp_opts_len(&seg.opt));
			ck_assert_ptr_null(tcp_parse(out, hlen, &back));
			same_opts(&back.opt, &seg.opt);
		}
		free(t);
	}
}
END_TEST

/* ---- Flags and sequence numbers ---- */

START_TEST(test_flags_str)
{
	char buf[32];

	ck_assert_str_eq(tcp_flags_str(0, buf), "none");
	ck_assert_str_eq(tcp_flags_str(TCP_FLAG_SYN, buf), "SYN");
	ck_assert_str_eq(tcp_flags_str(TCP_FLAG_SYN | TCP_FLAG_ACK, buf), "SYN,ACK");
	ck_assert_str_eq(tcp_flags_str(TCP_FLAG_FIN | TCP_FLAG_ACK, buf), "FIN,ACK");
	ck_assert_str_eq(tcp_flags_str(TCP_FLAG_RST | TCP_FLAG_ACK, buf), "RST,ACK");
	ck_assert_str_eq(tcp_flags_str(TCP_FLAG_PSH | TCP_FLAG_ACK | TCP_FLAG_ECE, buf),
			 "PSH,ACK,ECE");
	ck_assert_str_eq(tcp_flags_str(0xff, buf), "FIN,SYN,RST,PSH,ACK,URG,ECE,CWR");
	ck_assert_uint_eq(strlen(buf), 31);
}
END_TEST

START_TEST(test_seq_macros)
{
	/* ordinary numbers */
	ck_assert(SEQ_LT(1, 2) && SEQ_LEQ(1, 2) && !SEQ_GT(1, 2) && !SEQ_GEQ(1, 2));
	ck_assert(!SEQ_LT(5, 5) && SEQ_LEQ(5, 5) && !SEQ_GT(5, 5) && SEQ_GEQ(5, 5));
	/* around 0: 2^32 - 1 comes just before 0 */
	ck_assert(SEQ_LT(0xffffffffu, 0));
	ck_assert(SEQ_GT(0, 0xffffffffu));
	ck_assert(SEQ_LT(0xfffffff0u, 0x10));
	ck_assert(SEQ_GEQ(0x10, 0xfffffff0u));
	ck_assert(!SEQ_LEQ(0x10, 0xfffffff0u));
	/* an expression that wraps is taken mod 2^32 */
	uint32_t x = 0xffffffffu;
	ck_assert(SEQ_GT(x + 1, x));
	ck_assert(SEQ_LT(x, x + 1));
	ck_assert(SEQ_LT(x - 1, x));
	ck_assert_uint_eq(SEQ_MAX(x, x + 5), 4);
	ck_assert_uint_eq(SEQ_MIN(x, x + 5), x);
	ck_assert_uint_eq(SEQ_MAX(3u, 0xfffffffeu), 3);
	ck_assert_uint_eq(SEQ_MIN(3u, 0xfffffffeu), 0xfffffffeu);
	/* around 2^31: 2^31 - 1 apart still compares as numbers do ... */
	ck_assert(SEQ_LT(0, 0x7fffffffu));
	ck_assert(SEQ_GT(0x7fffffffu, 0));
	ck_assert(SEQ_LT(0x7fffffffu, 0x80000000u));
	ck_assert(SEQ_LT(0x80000000u, 0xfffffffeu));
	ck_assert(SEQ_GT(0x80000001u, 0x80000000u));
	/* ... 2^31 + 1 apart it is the other way round (the shorter way round
	 * the circle), and exactly 2^31 apart each is before the other */
	ck_assert(SEQ_GT(0, 0x80000001u));
	ck_assert(SEQ_LT(0, 0x80000000u) && SEQ_LT(0x80000000u, 0));
	/* windows across the wrap */
	ck_assert(SEQ_IN(0xfffffff0u, 0xfffffff0u, 0x10));
	ck_assert(SEQ_IN(0xffffffffu, 0xfffffff0u, 0x10));
	ck_assert(SEQ_IN(0, 0xfffffff0u, 0x10));
	ck_assert(SEQ_IN(0xf, 0xfffffff0u, 0x10));
	ck_assert(!SEQ_IN(0x10, 0xfffffff0u, 0x10));
	ck_assert(!SEQ_IN(0xffffffefu, 0xfffffff0u, 0x10));
	ck_assert(!SEQ_IN(5, 5, 5));                       /* empty window */

	/* anywhere on the circle, a + d is after a for 0 < d < 2^31 */
	struct rng r;
	rng_seed(&r, 4);
	for (int i = 0; i < 100000; i++) {
		uint32_t a = (uint32_t)rng_next(&r);
		uint32_t d = 1 + (uint32_t)rng_below(&r, 0x7fffffffu);
		uint32_t b = a + d;
		ck_assert(SEQ_LT(a, b) && SEQ_LEQ(a, b) && SEQ_GT(b, a) && SEQ_GEQ(b, a));
		ck_assert(!SEQ_LT(b, a) && !SEQ_GEQ(a, b));
		ck_assert(SEQ_IN(a, a, b) && !SEQ_IN(b, a, b) && SEQ_IN(b - 1, a, b));
		ck_assert_uint_eq(SEQ_MAX(a, b), b);
		ck_assert_uint_eq(SEQ_MIN(a, b), a);
	}
}
END_TEST

START_TEST(test_seg_len)
{
	struct tcp_seg seg = { .len = 5 };

	ck_assert_uint_eq(tcp_seg_len(&seg), 5);
	seg.flags = TCP_FLAG_SYN | TCP_FLAG_ACK;
	ck_assert_uint_eq(tcp_seg_len(&seg), 6);
	seg.flags = TCP_FLAG_SYN | TCP_FLAG_FIN;
	ck_assert_uint_eq(tcp_seg_len(&seg), 7);
	seg.len = 0;
	seg.flags = TCP_FLAG_ACK | TCP_FLAG_RST;
	ck_assert_uint_eq(tcp_seg_len(&seg), 0);
}
END_TEST

Suite *tcp_codec_suite(void)
{
	int nsegs = (int)(sizeof(segs) / sizeof(segs[0]));
	int nbad = (int)(sizeof(bad_opts) / sizeof(bad_opts[0]));
	Suite *s = suite_create("tcp_codec");
	TCase *tc = tcase_create("codec");
	tcase_add_loop_test(tc, test_parse_captured, 0, nsegs);
	tcase_add_loop_test(tc, test_emit_captured, 0, nsegs);
	tcase_add_test(tc, test_emit_layout);
	tcase_add_loop_test(tc, test_sack_round_trip, 0, TCP_MAX_SACK);
	tcase_add_loop_test(tc, test_parse_bad_option, 0, nbad);
	tcase_add_test(tc, test_parse_malformed_header);
	tcase_add_test(tc, test_parse_random);
	tcase_add_test(tc, test_flags_str);
	suite_add_tcase(s, tc);

	tc = tcase_create("seq");
	tcase_add_test(tc, test_seq_macros);
	tcase_add_test(tc, test_seg_len);
	suite_add_tcase(s, tc);
	return s;
}

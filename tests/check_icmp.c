/* ICMP: the codec on captured frames, echo replies byte for byte against
 * Linux's, echo requests and their replies, and error messages with the
 * RFC 1122 3.2.2 rules and the rate limit. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "ip/icmp.h"
#include "ip/ipv4.h"
#include "ip/ipv4_opts.h"
#include "link/arp.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "tests/harness.h"

#define PEER 0x0a000001u /* 10.0.0.1 */
#define HOST 0x0a000002u /* 10.0.0.2 */
#define IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define L3 ETH_HDR_LEN                   /* IP header offset in a frame */
#define L4 (ETH_HDR_LEN + IPV4_HDR_LEN)  /* ICMP offset, no IP options */

static uint64_t count(struct harness *h, const char *name)
{
	return stats_get(&h->s.stats, name);
}

/* Checks that frame r is a well-formed IPv4 datagram from the host to the
 * peer carrying ICMP, and returns its parsed IP header. */
static struct ipv4_hdr expect_icmp_to_peer(struct pkt *r)
{
	struct ipv4_hdr ip;
	ck_assert_mem_eq(r->data, t_mac_peer, ETH_ALEN);
	ck_assert_mem_eq(r->data + ETH_ALEN, t_mac_host, ETH_ALEN);
	ck_assert_uint_eq(be16_get(r->data + 12), ETH_TYPE_IPV4);
	ck_assert_ptr_null(ipv4_parse(r->data + L3, r->len - L3, &ip));
	ck_assert_uint_eq(ip.src, HOST);
	ck_assert_uint_eq(ip.dst, PEER);
	ck_assert_uint_eq(ip.proto, IP_PROTO_ICMP);
	ck_assert_uint_eq(ip.ttl, IPV4_DEFAULT_TTL);
	ck_assert_uint_eq(ip.ihl, 5);
	ck_assert_uint_le(ip.total_len, r->len - L3);
	return ip;
}

/* ---- Codec ---- */

START_TEST(test_parse_captured)
{
	uint8_t f[128];
	struct icmp_hdr h;
	size_t n = vector_frame("icmp-echo.pcap", 3, f, sizeof(f));

	ck_assert_ptr_null(icmp_parse(f + L4, n - L4, &h));
	ck_assert_uint_eq(h.type, ICMP_ECHO_REQUEST);
	ck_assert_uint_eq(h.code, 0);
	ck_assert_uint_eq(h.checksum, 0x3c3a);
	ck_assert_uint_eq(h.rest, 0x19c20001u);

	n = vector_frame("icmp-echo.pcap", 4, f, sizeof(f));
	ck_assert_ptr_null(icmp_parse(f + L4, n - L4, &h));
	ck_assert_uint_eq(h.type, ICMP_ECHO_REPLY);
	ck_assert_uint_eq(h.rest, 0x19c20001u);

	n = vector_frame("udp-port-unreachable.pcap", 2, f, sizeof(f));
	ck_assert_ptr_null(icmp_parse(f + L4, n - L4, &h));
	ck_assert_uint_eq(h.type, ICMP_DEST_UNREACH);
	ck_assert_uint_eq(h.code, ICMP_PORT_UNREACH);
	ck_assert_uint_eq(h.rest, 0);

	ck_assert_str_eq(icmp_parse(f + L4, 7, &h), "icmp.short");
	f[L4 + 20] ^= 0x01;
	ck_assert_str_eq(icmp_parse(f + L4, n - L4, &h), "icmp.bad_checksum");
	/* the checksum covers the data too: a shorter message no longer sums */
	n = vector_frame("icmp-echo.pcap", 3, f, sizeof(f));
	ck_assert_str_eq(icmp_parse(f + L4, n - L4 - 2, &h), "icmp.bad_checksum");
}
END_TEST

/* ---- Echo ---- */

/* Injects frame req of file, expects a reply whose ICMP bytes equal those of
 * Linux's reply in frame rep of the same file. */
static void echo_like_linux(const char *file, int req, int rep)
{
	static uint8_t f[1600], want[1600];
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	size_t n = vector_frame(file, req, f, sizeof(f));
	size_t wn = vector_frame(file, rep, want, sizeof(want));
	inject(&h, f, n);

	struct pkt *r = expect_tx(&h);
	struct ipv4_hdr ip = expect_icmp_to_peer(r);
	ck_assert_uint_eq(r->len, wn);
	ck_assert_uint_eq(ip.total_len, wn - L3);
	ck_assert_mem_eq(r->data + L4, want + L4, wn - L4);
	pkt_free(r);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "icmp.tx_echo_reply"), 1);
	ck_assert_uint_eq(count(&h, "ip.delivered"), 1);
	ck_assert_uint_eq(count(&h, "ip.tx"), 1);
	harness_fini(&h);
}

START_TEST(test_echo_reply_like_linux)
{
	echo_like_linux("icmp-echo.pcap", 3, 4);
	echo_like_linux("icmp-echo.pcap", 5, 6);
}
END_TEST

START_TEST(test_echo_reply_1472_like_linux)
{
	echo_like_linux("icmp-echo-1472.pcap", 1, 2);
}
END_TEST

/* ---- Echo options (RFC 1122 3.2.2.6): ping -R, ping -T ---- */

/* Injects frame req of icmp-echo-options.pcap (Linux's ping -R / -T) and
 * expects a reply with the same IP options and ICMP bytes as Linux's reply
 * in frame rep, except the timestamps the host writes: at the option
 * offsets ts_at (from the first option byte) it must have written its own
 * time, which the harness, with no wall clock, gives as its milliseconds
 * with the high bit set (RFC 791: "not in milliseconds since midnight"). */
static void echo_options_like_linux(int req, int rep, const size_t *ts_at, size_t nts)
{
	static uint8_t f[1600], want[1600];
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	h.now = 5000000;
	size_t n = vector_frame("icmp-echo-options.pcap", req, f, sizeof(f));
	size_t wn = vector_frame("icmp-echo-options.pcap", rep, want, sizeof(want));
	inject(&h, f, n);

	struct pkt *r = expect_tx(&h);
	struct ipv4_hdr ip;
	ck_assert_ptr_null(ipv4_parse(r->data + L3, r->len - L3, &ip)); /* checksum over the options */
	ck_assert_uint_eq(ip.src, HOST);
	ck_assert_uint_eq(ip.dst, PEER);
	size_t hl = (size_t)ip.ihl * 4;
	ck_assert_uint_eq(hl, (size_t)(want[L3] & 0x0f) * 4);
	ck_assert_uint_gt(hl, IPV4_HDR_LEN);
	ck_assert_uint_eq(r->len, wn);
	uint8_t *opt = r->data + L3 + IPV4_HDR_LEN, *wopt = want + L3 + IPV4_HDR_LEN;
	for (size_t i = 0; i < nts; i++) {
		ck_assert_uint_eq(be32_get(opt + ts_at[i]), (5000u % 86400000u) | IPV4_TS_NONSTANDARD);
		memcpy(wopt + ts_at[i], opt + ts_at[i], 4);
	}
	ck_assert_mem_eq(opt, wopt, hl - IPV4_HDR_LEN);
	ck_assert_mem_eq(r->data + L3 + hl, want + L3 + hl, wn - L3 - hl);
	pkt_free(r);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "icmp.echo_options_returned"), 1);
	harness_fini(&h);
}

START_TEST(test_echo_record_route_like_linux)
{
	/* ping -R: RR 10.0.0.1, 10.0.0.2, 10.0.0.2 (the host twice: it
	 * received the request, it sends the reply), as Linux answers */
	echo_options_like_linux(1, 2, NULL, 0);
}
END_TEST

START_TEST(test_echo_timestamp_like_linux)
{
	/* ping -T tsandaddr: entries of 8 bytes, the host's two at 12 and 20 */
	static const size_t tsandaddr[] = { 4 + 8 + 4, 4 + 16 + 4 };
	echo_options_like_linux(3, 4, tsandaddr, 2);
	/* ping -T tsonly: entries of 4 bytes, the host's two at 8 and 12 */
	static const size_t tsonly[] = { 4 + 4, 4 + 8 };
	echo_options_like_linux(5, 6, tsonly, 2);
}
END_TEST

/* The edge cases of RFC 791's rules, on the option bytes alone. */
START_TEST(test_echo_options_rules)
{
	uint8_t out[IPV4_OPT_MAX];
	const uint32_t self = 0x0a000002, ts = 1234;

	/* RR with room for one address only: filled once, then full */
	uint8_t rr1[] = { IPV4_OPT_RR, 7, 4, 0, 0, 0, 0, IPV4_OPT_EOL };
	ck_assert_int_eq(ipv4_echo_options(rr1, sizeof(rr1), self, ts, out), 8);
	ck_assert_uint_eq(out[2], 8);
	ck_assert_uint_eq(be32_get(out + 3), self);
	ck_assert_uint_eq(out[7], IPV4_OPT_EOL);
	/* RR full already: returned as it came */
	uint8_t rrfull[] = { IPV4_OPT_RR, 7, 8, 1, 2, 3, 4, IPV4_OPT_EOL };
	ck_assert_int_eq(ipv4_echo_options(rrfull, sizeof(rrfull), self, ts, out), 8);
	ck_assert_mem_eq(out, rrfull, 7);
	/* some room but not a whole address: in error */
	uint8_t rrpart[] = { IPV4_OPT_RR, 9, 8, 1, 2, 3, 4, 0, 0, IPV4_OPT_EOL, 0, 0 };
	ck_assert_int_eq(ipv4_echo_options(rrpart, sizeof(rrpart), self, ts, out), -1);
	/* a pointer under the smallest legal value (4) */
	uint8_t rrlow[] = { IPV4_OPT_RR, 7, 3, 0, 0, 0, 0, IPV4_OPT_EOL };
	ck_assert_int_eq(ipv4_echo_options(rrlow, sizeof(rrlow), self, ts, out), -1);

	/* a full timestamp option: the overflow count goes up, once per visit */
	uint8_t tsfull[] = { IPV4_OPT_TS, 8, 9, 0x20 | IPV4_TS_ONLY, 0, 0, 0, 7 };
	ck_assert_int_eq(ipv4_echo_options(tsfull, sizeof(tsfull), self, ts, out), 8);
	ck_assert_uint_eq(out[3], 0x40 | IPV4_TS_ONLY);
	ck_assert_uint_eq(be32_get(out + 4), 7);
	/* ... and an overflow count that overflows is an error */
	tsfull[3] = 0xf0 | IPV4_TS_ONLY;
	ck_assert_int_eq(ipv4_echo_options(tsfull, sizeof(tsfull), self, ts, out), -1);
	/* prespecified addresses: only the one that is ours gets a time */
	uint8_t pre[] = { IPV4_OPT_TS, 20, 5, IPV4_TS_PRESPEC, 10, 0, 0, 2, 0, 0, 0, 0,
			  10, 0, 0, 9, 0, 0, 0, 0 };
	ck_assert_int_eq(ipv4_echo_options(pre, sizeof(pre), self, ts, out), 20);
	ck_assert_uint_eq(out[2], 13);          /* past ours, stopped at 10.0.0.9's */
	ck_assert_uint_eq(be32_get(out + 8), ts);
	ck_assert_uint_eq(be32_get(out + 16), 0);
	/* an unknown flag */
	uint8_t badflag[] = { IPV4_OPT_TS, 8, 5, 2, 0, 0, 0, 0 };
	ck_assert_int_eq(ipv4_echo_options(badflag, sizeof(badflag), self, ts, out), -1);

	/* other options are left out of the reply; NOPs skipped */
	uint8_t other[] = { IPV4_OPT_NOP, 148, 4, 0, 0, IPV4_OPT_EOL, 0, 0 };
	ck_assert_int_eq(ipv4_echo_options(other, sizeof(other), self, ts, out), 0);
	/* a length under 2, or running past the options: malformed */
	uint8_t short_len[] = { 148, 1, 0, 0 };
	ck_assert_int_eq(ipv4_echo_options(short_len, sizeof(short_len), self, ts, out), -1);
	uint8_t past[] = { IPV4_OPT_RR, 11, 4, 0, 0, 0, 0, 0 };
	ck_assert_int_eq(ipv4_echo_options(past, sizeof(past), self, ts, out), -1);
	uint8_t lone[] = { IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_RR };
	ck_assert_int_eq(ipv4_echo_options(lone, sizeof(lone), self, ts, out), -1);

	/* the same cases through the receive check: the offset of the bad byte */
	ck_assert_int_eq(ipv4_options_check(rr1, sizeof(rr1)), -1);
	ck_assert_int_eq(ipv4_options_check(rrfull, sizeof(rrfull)), -1);
	ck_assert_int_eq(ipv4_options_check(rrpart, sizeof(rrpart)), 2);
	ck_assert_int_eq(ipv4_options_check(rrlow, sizeof(rrlow)), 2);
	ck_assert_int_eq(ipv4_options_check(pre, sizeof(pre)), -1);
	ck_assert_int_eq(ipv4_options_check(badflag, sizeof(badflag)), 3);
	ck_assert_int_eq(ipv4_options_check(other, sizeof(other)), -1);
	ck_assert_int_eq(ipv4_options_check(short_len, sizeof(short_len)), 1);
	ck_assert_int_eq(ipv4_options_check(past, sizeof(past)), 1);
	ck_assert_int_eq(ipv4_options_check(lone, sizeof(lone)), 3);
}
END_TEST

/* A datagram with malformed options is dropped (ip.bad_options) and
 * answered with a Parameter Problem whose pointer names the bad byte (RFC
 * 792, RFC 1122 3.2.2.5); an echo request so is not answered. */
START_TEST(test_bad_options_parameter_problem)
{
	static uint8_t f[1600];
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	size_t n = vector_frame("icmp-echo-options.pcap", 1, f, sizeof(f));
	/* ping -R's options: a NOP, then Record Route (type, length, pointer
	 * at header bytes 21, 22, 23): the pointer to 3, under its smallest
	 * legal value, 4 */
	ck_assert_uint_eq(f[L3 + IPV4_HDR_LEN + 1], IPV4_OPT_RR);
	f[L3 + IPV4_HDR_LEN + 3] = 3;
	size_t hl = (size_t)(f[L3] & 0x0f) * 4;
	be16_put(f + L3 + 10, 0);
	be16_put(f + L3 + 10, inet_csum(f + L3, hl));
	inject(&h, f, n);
	struct pkt *r = expect_tx(&h);
	expect_icmp_to_peer(r);
	struct icmp_hdr ih;
	ck_assert_ptr_null(icmp_parse(r->data + L4, r->len - L4, &ih));
	ck_assert_uint_eq(ih.type, ICMP_PARAM_PROBLEM);
	ck_assert_uint_eq(ih.code, 0);
	ck_assert_uint_eq(ih.rest, (uint32_t)(IPV4_HDR_LEN + 3) << 24);
	ck_assert_mem_eq(r->data + L4 + ICMP_HDR_LEN, f + L3, hl + 8); /* the header quoted */
	pkt_free(r);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "ip.bad_options"), 1);
	ck_assert_uint_eq(count(&h, "icmp.rx_echo_request"), 0);

	/* an option running past the header: the pointer names its length */
	n = vector_frame("icmp-echo-options.pcap", 1, f, sizeof(f));
	f[L3 + IPV4_HDR_LEN + 2] = 40; /* RR at 21 claims 40 bytes, 39 are left */
	be16_put(f + L3 + 10, 0);
	be16_put(f + L3 + 10, inet_csum(f + L3, hl));
	inject(&h, f, n);
	r = expect_tx(&h);
	ck_assert_ptr_null(icmp_parse(r->data + L4, r->len - L4, &ih));
	ck_assert_uint_eq(ih.type, ICMP_PARAM_PROBLEM);
	ck_assert_uint_eq(ih.rest, (uint32_t)(IPV4_HDR_LEN + 2) << 24);
	pkt_free(r);
	ck_assert_uint_eq(count(&h, "ip.bad_options"), 2);
	harness_fini(&h);
}
END_TEST

static const size_t echo_sizes[] = { 0, 1, 2, 55, 56, 1000, 1471, 1472 };

START_TEST(test_echo_sizes)
{
	static uint8_t f[1600];
	size_t len = echo_sizes[_i];
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	size_t n = build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, HOST, 0xbeef, (uint16_t)_i, len);
	inject(&h, f, n);

	/* the expected reply: the same message with type 0, checksum summed anew */
	uint8_t want[1600];
	memcpy(want, f + L4, ICMP_HDR_LEN + len);
	want[0] = ICMP_ECHO_REPLY;
	be16_put(want + 2, 0);
	be16_put(want + 2, inet_csum(want, ICMP_HDR_LEN + len));

	struct pkt *r = expect_tx(&h);
	struct ipv4_hdr ip = expect_icmp_to_peer(r);
	ck_assert_uint_eq(ip.total_len, IPV4_HDR_LEN + ICMP_HDR_LEN + len);
	ck_assert_mem_eq(r->data + L4, want, ICMP_HDR_LEN + len);
	pkt_free(r);
	harness_fini(&h);
}
END_TEST

START_TEST(test_echo_waits_for_arp)
{
	uint8_t f[128];
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	size_t n = vector_frame("icmp-echo.pcap", 3, f, sizeof(f));
	inject(&h, f, n);

	/* the host does not know 10.0.0.1's MAC yet: it asks */
	struct pkt *r = expect_tx(&h);
	ck_assert_uint_eq(be16_get(r->data + 12), ETH_TYPE_ARP);
	struct arp_msg m;
	ck_assert_ptr_null(arp_parse(r->data + L3, r->len - L3, &m));
	ck_assert_uint_eq(m.op, ARP_OP_REQUEST);
	ck_assert_uint_eq(m.tpa, PEER);
	ck_assert_uint_eq(m.spa, HOST);
	pkt_free(r);
	expect_no_tx(&h);

	/* 10.0.0.1 answers; the queued echo reply goes out */
	struct arp_msg ans = {
		.htype = ARP_HTYPE_ETHERNET, .ptype = ETH_TYPE_IPV4, .hlen = 6, .plen = 4,
		.op = ARP_OP_REPLY, .spa = PEER, .tpa = HOST,
	};
	memcpy(ans.sha, t_mac_peer, ETH_ALEN);
	memcpy(ans.tha, t_mac_host, ETH_ALEN);
	uint8_t a[60] = { 0 };
	memcpy(a, t_mac_host, ETH_ALEN);
	memcpy(a + ETH_ALEN, t_mac_peer, ETH_ALEN);
	be16_put(a + 12, ETH_TYPE_ARP);
	arp_emit(&ans, a + L3);
	h.now += 1000;
	inject(&h, a, sizeof(a));

	uint8_t want[128];
	size_t wn = vector_frame("icmp-echo.pcap", 4, want, sizeof(want));
	r = expect_tx(&h);
	expect_icmp_to_peer(r);
	ck_assert_mem_eq(r->data + L4, want + L4, wn - L4);
	pkt_free(r);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_echo_broadcast_ignored)
{
	uint8_t f[128];
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	/* to the limited and the subnet broadcast */
	size_t n = build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, IP4_BROADCAST, 1, 1, 56);
	memcpy(f, eth_broadcast, ETH_ALEN);
	inject(&h, f, n);
	n = build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, IP(10, 0, 0, 255), 1, 2, 56);
	memcpy(f, eth_broadcast, ETH_ALEN);
	inject(&h, f, n);
	/* our address, but sent to the link broadcast (RFC 1122 3.3.6) */
	n = build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, HOST, 1, 3, 56);
	memcpy(f, eth_broadcast, ETH_ALEN);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp.echo_broadcast_ignored"), 3);
	ck_assert_uint_eq(count(&h, "icmp.tx_echo_reply"), 0);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* What the echo reply callback saw. */
struct seen {
	int calls;
	uint32_t src;
	uint16_t id, seq;
	uint8_t data[256];
	size_t len;
};

static void on_reply(void *ctx, uint32_t src, uint16_t id, uint16_t seq, const uint8_t *data,
		     size_t len)
{
	struct seen *s = ctx;
	s->calls++;
	s->src = src;
	s->id = id;
	s->seq = seq;
	ck_assert_uint_le(len, sizeof(s->data));
	memcpy(s->data, data, len);
	s->len = len;
}

START_TEST(test_echo_round_trip)
{
	static const uint8_t data[] = "tapstack ping payload";
	struct harness h;
	struct seen seen = { 0 };

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	h.s.icmp.on_echo_reply = on_reply;
	h.s.icmp.ctx = &seen;

	ck_assert_int_eq(icmp_send_echo(&h.s, PEER, 0x4242, 17, data, sizeof(data)), 0);
	struct pkt *r = expect_tx(&h);
	expect_icmp_to_peer(r);
	struct icmp_hdr ih;
	size_t ilen = be16_get(r->data + L3 + 2) - IPV4_HDR_LEN;
	ck_assert_uint_eq(ilen, ICMP_HDR_LEN + sizeof(data));
	ck_assert_ptr_null(icmp_parse(r->data + L4, ilen, &ih));
	ck_assert_uint_eq(ih.type, ICMP_ECHO_REQUEST);
	ck_assert_uint_eq(ih.code, 0);
	ck_assert_uint_eq(ih.rest, 0x42420011u);
	ck_assert_mem_eq(r->data + L4 + ICMP_HDR_LEN, data, sizeof(data));

	/* the peer answers the way RFC 792 says: same message, type 0 */
	uint8_t f[128];
	uint8_t *icmp = r->data + L4;
	icmp[0] = ICMP_ECHO_REPLY;
	be16_put(icmp + 2, 0);
	be16_put(icmp + 2, inet_csum(icmp, ilen));
	size_t n = build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, IP_PROTO_ICMP, icmp,
				    ilen);
	pkt_free(r);
	inject(&h, f, n);

	ck_assert_int_eq(seen.calls, 1);
	ck_assert_uint_eq(seen.src, PEER);
	ck_assert_uint_eq(seen.id, 0x4242);
	ck_assert_uint_eq(seen.seq, 17);
	ck_assert_uint_eq(seen.len, sizeof(data));
	ck_assert_mem_eq(seen.data, data, sizeof(data));
	ck_assert_uint_eq(count(&h, "icmp.rx_echo_reply"), 1);
	expect_no_tx(&h);

	/* the captured Linux reply reaches the callback too */
	n = vector_frame("icmp-echo.pcap", 4, f, sizeof(f));
	memcpy(f, t_mac_host, ETH_ALEN);
	memcpy(f + ETH_ALEN, t_mac_peer, ETH_ALEN);
	be32_put(f + L3 + 12, PEER);
	be32_put(f + L3 + 16, HOST);
	inject(&h, f, n); /* addresses swapped: the IP checksum still sums (RFC 1071) */
	ck_assert_int_eq(seen.calls, 2);
	ck_assert_uint_eq(seen.id, 0x19c2);
	ck_assert_uint_eq(seen.seq, 1);
	ck_assert_uint_eq(seen.len, 56);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_echo_reply_without_callback)
{
	uint8_t f[128];
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	size_t n = build_icmp_frame(f, ICMP_ECHO_REPLY, PEER, HOST, 1, 1, 8);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp.rx_echo_reply"), 1);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* Received messages that are not answered: each counted under its name. */
START_TEST(test_rx_not_answered)
{
	uint8_t f[128];
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);

	/* an error about something we sent: counted, nothing sent back */
	size_t n = vector_frame("udp-port-unreachable.pcap", 2, f, sizeof(f));
	memcpy(f, t_mac_host, ETH_ALEN);
	memcpy(f + ETH_ALEN, t_mac_peer, ETH_ALEN);
	be32_put(f + L3 + 12, PEER);
	be32_put(f + L3 + 16, HOST);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp.rx_error"), 1);

	n = build_icmp_frame(f, ICMP_TIME_EXCEEDED, PEER, HOST, 0, 0, 28);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp.rx_error"), 2);

	/* a timestamp request (13): not implemented */
	n = build_icmp_frame(f, 13, PEER, HOST, 1, 1, 12);
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp.unknown_type"), 1);

	/* a bad checksum and a 4-byte message */
	n = build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, HOST, 1, 1, 8);
	f[n - 1] ^= 0xff;
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp.bad_checksum"), 1);
	static const uint8_t tiny[4] = { 8, 0, 0xf7, 0xff };
	n = build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, IP_PROTO_ICMP, tiny,
			     sizeof(tiny));
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "icmp.short"), 1);

	ck_assert_uint_eq(count(&h, "icmp.tx_error"), 0);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Errors ---- */

/* Checks that r is a protocol unreachable quoting exactly quote[0..qlen). */
static void expect_proto_unreach(struct pkt *r, const uint8_t *quote, size_t qlen)
{
	struct icmp_hdr ih;
	struct ipv4_hdr ip = expect_icmp_to_peer(r);
	size_t ilen = ip.total_len - IPV4_HDR_LEN;

	ck_assert_uint_eq(ilen, ICMP_HDR_LEN + qlen);
	ck_assert_ptr_null(icmp_parse(r->data + L4, ilen, &ih));
	ck_assert_uint_eq(ih.type, ICMP_DEST_UNREACH);
	ck_assert_uint_eq(ih.code, ICMP_PROTO_UNREACH);
	ck_assert_uint_eq(ih.rest, 0);
	ck_assert_mem_eq(r->data + L4 + ICMP_HDR_LEN, quote, qlen);
}

START_TEST(test_proto_unreach_unknown_protocol)
{
	uint8_t f[128];
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	/* the captured UDP datagram, relabelled as protocol 253: protocol
	 * unreachable, quoting the whole (small) datagram */
	size_t n = vector_frame("udp-port-unreachable.pcap", 1, f, sizeof(f));
	f[L3 + 9] = 253;
	be16_put(f + L3 + 10, 0);
	be16_put(f + L3 + 10, inet_csum(f + L3, IPV4_HDR_LEN));
	inject(&h, f, n);

	struct pkt *r = expect_tx(&h);
	expect_proto_unreach(r, f + L3, n - L3);
	pkt_free(r);
	ck_assert_uint_eq(count(&h, "ip.unknown_protocol"), 1);
	ck_assert_uint_eq(count(&h, "icmp.tx_error"), 1);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_proto_unreach_quote_length)
{
	static uint8_t f[1600], data[1480];
	struct harness h;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);

	/* proto 253 with 100 bytes: all of it quoted */
	size_t n = build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, 253, data, 100);
	inject(&h, f, n);
	struct pkt *r = expect_tx(&h);
	expect_proto_unreach(r, f + L3, IPV4_HDR_LEN + 100);
	pkt_free(r);

	/* 1480 bytes: the error stays within 576 bytes (RFC 1812 4.3.2.3) */
	n = build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, 253, data, sizeof(data));
	inject(&h, f, n);
	r = expect_tx(&h);
	expect_proto_unreach(r, f + L3, 576 - IPV4_HDR_LEN - ICMP_HDR_LEN);
	ck_assert_uint_eq(be16_get(r->data + L3 + 2), 576);
	pkt_free(r);

	/* 0 bytes of payload: just the header */
	n = build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, 253, NULL, 0);
	memset(f + n, 0x77, 60 - n); /* padding is not quoted */
	inject(&h, f, 60);
	r = expect_tx(&h);
	expect_proto_unreach(r, f + L3, IPV4_HDR_LEN);
	pkt_free(r);
	harness_fini(&h);
}
END_TEST

START_TEST(test_proto_unreach_not_for_broadcast)
{
	uint8_t f[128];
	uint8_t data[16] = { 0 };
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	static const uint32_t dst[] = { IP4_BROADCAST, IP(10, 0, 0, 255), HOST };
	for (int i = 0; i < 3; i++) {
		size_t n = build_ipv4_frame(f, eth_broadcast, t_mac_peer, PEER, dst[i],
					    253, data, sizeof(data));
		inject(&h, f, n);
	}
	ck_assert_uint_eq(count(&h, "ip.unknown_protocol"), 3);
	ck_assert_uint_eq(count(&h, "icmp.tx_error"), 0);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* Calls icmp_send_error on a 28-byte datagram (src, dst, proto, frag,
 * first payload byte) and returns whether an error went out. */
static int error_sent(struct harness *h, uint32_t src, uint32_t dst, uint8_t proto, uint16_t frag,
		      uint8_t first)
{
	uint8_t d[28] = { 0 };
	d[0] = 0x45;
	be16_put(d + 2, sizeof(d));
	be16_put(d + 6, frag);
	d[8] = 64;
	d[9] = proto;
	be32_put(d + 12, src);
	be32_put(d + 16, dst);
	be16_put(d + 10, inet_csum(d, 20));
	d[20] = first;
	icmp_send_error(&h->s, d, sizeof(d), ICMP_DEST_UNREACH, ICMP_PROTO_UNREACH);
	struct pkt *r = testdev_take_sent(h->dev);
	if (!r)
		return 0;
	expect_proto_unreach(r, d, sizeof(d));
	pkt_free(r);
	return 1;
}

START_TEST(test_error_rules)
{
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	ck_assert(error_sent(&h, PEER, HOST, 253, 0, 0));
	/* about ICMP: queries may get an error, errors never */
	ck_assert(error_sent(&h, PEER, HOST, IP_PROTO_ICMP, 0, ICMP_ECHO_REQUEST));
	ck_assert(error_sent(&h, PEER, HOST, IP_PROTO_ICMP, 0, ICMP_ECHO_REPLY));
	ck_assert(!error_sent(&h, PEER, HOST, IP_PROTO_ICMP, 0, ICMP_DEST_UNREACH));
	ck_assert(!error_sent(&h, PEER, HOST, IP_PROTO_ICMP, 0, ICMP_TIME_EXCEEDED));
	ck_assert(!error_sent(&h, PEER, HOST, IP_PROTO_ICMP, 0, ICMP_PARAM_PROBLEM));
	ck_assert_uint_eq(count(&h, "icmp.error_about_error"), 3);
	/* the first fragment may get one, later fragments never */
	ck_assert(error_sent(&h, PEER, HOST, 253, IPV4_FLAG_MF, 0));
	ck_assert(!error_sent(&h, PEER, HOST, 253, IPV4_FLAG_MF | 185, 0));
	ck_assert(!error_sent(&h, PEER, HOST, 253, 370, 0));
	ck_assert_uint_eq(count(&h, "icmp.error_about_fragment"), 2);
	/* not about a broadcast or multicast destination */
	ck_assert(!error_sent(&h, PEER, IP4_BROADCAST, 253, 0, 0));
	ck_assert(!error_sent(&h, PEER, IP(10, 0, 0, 255), 253, 0, 0));
	ck_assert(!error_sent(&h, PEER, IP(224, 0, 0, 1), 253, 0, 0));
	ck_assert_uint_eq(count(&h, "icmp.error_about_broadcast"), 3);
	/* not to a source that is not one host */
	ck_assert(!error_sent(&h, 0, HOST, 253, 0, 0));
	ck_assert(!error_sent(&h, IP(127, 0, 0, 1), HOST, 253, 0, 0));
	ck_assert(!error_sent(&h, IP4_BROADCAST, HOST, 253, 0, 0));
	ck_assert(!error_sent(&h, IP(10, 0, 0, 255), HOST, 253, 0, 0));
	ck_assert(!error_sent(&h, IP(239, 0, 0, 1), HOST, 253, 0, 0));
	ck_assert_uint_eq(count(&h, "icmp.error_bad_source"), 5);
	ck_assert_uint_eq(count(&h, "icmp.tx_error"), 4);
	ck_assert_uint_eq(count(&h, "icmp.error_rate_limited"), 0);

	/* too short to be an IP header: nothing sent, nothing read past it */
	uint8_t tiny[12] = { 0x45 };
	icmp_send_error(&h.s, tiny, sizeof(tiny), ICMP_DEST_UNREACH, ICMP_PROTO_UNREACH);
	ck_assert_uint_eq(count(&h, "icmp.error_bad_quote"), 1);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_error_rate_limit)
{
	uint8_t f[128];
	uint8_t data[8] = { 0 };
	struct harness h;

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	size_t n = build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, 253, data, sizeof(data));

	/* a burst at one instant: ICMP_ERR_BURST answered, the rest not */
	for (int i = 0; i < ICMP_ERR_BURST + 10; i++)
		inject(&h, f, n);
	ck_assert_uint_eq(testdev_sent_count(h.dev), ICMP_ERR_BURST);
	ck_assert_uint_eq(count(&h, "icmp.error_rate_limited"), 10);
	ck_assert_uint_eq(count(&h, "ip.unknown_protocol"), ICMP_ERR_BURST + 10);
	while (testdev_sent_count(h.dev))
		pkt_free(expect_tx(&h));

	/* 1/ICMP_ERR_RATE s later one token is back, not two */
	advance(&h, 1000000 / ICMP_ERR_RATE);
	inject(&h, f, n);
	inject(&h, f, n);
	pkt_free(expect_tx(&h));
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "icmp.error_rate_limited"), 11);

	/* after a long quiet time the bucket is full again, and no fuller */
	advance(&h, 60 * 1000000LL);
	while (testdev_sent_count(h.dev))
		pkt_free(expect_tx(&h)); /* whatever ARP said meanwhile */
	harness_learn_peer(&h);
	for (int i = 0; i < ICMP_ERR_BURST + 1; i++)
		inject(&h, f, n);
	ck_assert_uint_eq(testdev_sent_count(h.dev), ICMP_ERR_BURST);
	ck_assert_uint_eq(count(&h, "icmp.error_rate_limited"), 12);
	while (testdev_sent_count(h.dev))
		pkt_free(expect_tx(&h));
	harness_fini(&h);
}
END_TEST

Suite *icmp_suite(void)
{
	Suite *s = suite_create("icmp");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, test_parse_captured);
	suite_add_tcase(s, tc);

	tc = tcase_create("echo");
	tcase_add_test(tc, test_echo_reply_like_linux);
	tcase_add_test(tc, test_echo_reply_1472_like_linux);
	tcase_add_loop_test(tc, test_echo_sizes, 0,
			    (int)(sizeof(echo_sizes) / sizeof(echo_sizes[0])));
	tcase_add_test(tc, test_echo_waits_for_arp);
	tcase_add_test(tc, test_echo_broadcast_ignored);
	tcase_add_test(tc, test_echo_round_trip);
	tcase_add_test(tc, test_echo_reply_without_callback);
	tcase_add_test(tc, test_rx_not_answered);
	tcase_add_test(tc, test_echo_record_route_like_linux);
	tcase_add_test(tc, test_echo_timestamp_like_linux);
	tcase_add_test(tc, test_echo_options_rules);
	tcase_add_test(tc, test_bad_options_parameter_problem);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_proto_unreach_unknown_protocol);
	tcase_add_test(tc, test_proto_unreach_quote_length);
	tcase_add_test(tc, test_proto_unreach_not_for_broadcast);
	tcase_add_test(tc, test_error_rules);
	tcase_add_test(tc, test_error_rate_limit);
	suite_add_tcase(s, tc);
	return s;
}

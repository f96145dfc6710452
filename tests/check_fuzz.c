/* Fuzz tests: a host fed many thousands of hostile frames (captured frames
 * with random damage, and random bytes) must never crash, leak a buffer, or
 * send a malformed frame; every codec must stay inside the bytes it is
 * given. Run under AddressSanitizer and UndefinedBehaviorSanitizer by
 * `make test`, which turns any stray read into a failure. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ip/icmp.h"
#include "ip/icmpv6.h"
#include "ip/ipv4.h"
#include "ip/ipv6.h"
#include "ip/ipv6_frag.h"
#include "ip/ndp.h"
#include "link/arp.h"
#include "link/eth.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "tests/harness.h"

#define FUZZ_FRAMES 150000
#define SEED_MAX 64

struct corpus {
	uint8_t frame[SEED_MAX][1600];
	size_t len[SEED_MAX];
	int n;
};

/* Adds every frame of a capture, readdressed to the harness host so the
 * damage reaches deep into the stack instead of stopping at "not for us". */
static void corpus_add(struct corpus *c, const char *file, int frames)
{
	for (int i = 1; i <= frames && c->n < SEED_MAX; i++) {
		uint8_t *f = c->frame[c->n];
		size_t len = vector_frame(file, i, f, sizeof(c->frame[0]));
		if (len >= 14 && !mac_is_broadcast(f))
			memcpy(f, t_mac_host, 6);
		if (len >= 34 && be16_get(f + 12) == ETH_TYPE_IPV4) {
			be32_put(f + 14 + 16, 0x0a000002);
			be16_put(f + 14 + 10, 0);
			be16_put(f + 14 + 10, inet_csum(f + 14, (size_t)(f[14] & 0xf) * 4 > len - 14
								 ? 20 : (size_t)(f[14] & 0xf) * 4));
		}
		c->len[c->n++] = len;
	}
}

/* Damages a copy of a corpus frame (or makes random bytes) into out. */
static size_t mutate(struct rng *r, const struct corpus *c, uint8_t *out, size_t cap)
{
	size_t len;
	if (rng_chance(r, 0.05)) {
		len = rng_below(r, 1515);
		for (size_t i = 0; i < len; i++)
			out[i] = (uint8_t)rng_next(r);
		if (len >= 14 && rng_chance(r, 0.5))
			memcpy(out, t_mac_host, 6);
		return len;
	}
	int k = (int)rng_below(r, (uint64_t)c->n);
	len = c->len[k];
	memcpy(out, c->frame[k], len);
	int edits = 1 + (int)rng_below(r, 4);
	for (int e = 0; e < edits; e++) {
		size_t at = len > 14 ? 14 + rng_below(r, len - 14) : rng_below(r, len + 1);
		switch (rng_below(r, 6)) {
		case 0: /* flip a bit */
			if (at < len)
				out[at] ^= (uint8_t)(1u << rng_below(r, 8));
			break;
		case 1: /* an interesting byte */
			if (at < len) {
				static const uint8_t vals[] = { 0, 1, 0x05, 0x0f, 0x40, 0x45, 0x4f, 0x7f, 0x80, 0xff };
				out[at] = vals[rng_below(r, sizeof(vals))];
			}
			break;
		case 2: /* an interesting 16-bit length */
			if (at + 1 < len) {
				static const uint16_t vals[] = { 0, 1, 19, 20, 28, 60, 1500, 1501, 0xffff };
				be16_put(out + at, vals[rng_below(r, sizeof(vals) / 2)]);
			}
			break;
		case 3: /* truncate */
			len = at < len ? at : len;
			break;
		case 4: /* extend with garbage */
			while (len < cap && len < 1514 && rng_chance(r, 0.9))
				out[len++] = (uint8_t)rng_next(r);
			break;
		default: /* fix the IP header checksum, so the damage gets past it */
			if (len >= 34 && be16_get(out + 12) == ETH_TYPE_IPV4) {
				size_t ihl = (size_t)(out[14] & 0xf) * 4;
				if (ihl >= 20 && 14 + ihl <= len) {
					be16_put(out + 24, 0);
					be16_put(out + 24, inet_csum(out + 14, ihl));
				}
			}
			break;
		}
	}
	return len;
}

/* Asserts that a frame the host sent is well formed. */
static void check_sent(const struct pkt *p)
{
	struct eth_hdr eh;
	ck_assert_ptr_null(eth_parse(p->data, p->len, &eh));
	ck_assert_uint_ge(p->len, ETH_MIN_FRAME);
	ck_assert_uint_le(p->len, ETH_MAX_FRAME);
	ck_assert_mem_eq(eh.src, t_mac_host, 6);
	const uint8_t *l3 = p->data + ETH_HDR_LEN;
	size_t l3len = p->len - ETH_HDR_LEN;
	if (eh.type == ETH_TYPE_ARP) {
		struct arp_msg m;
		ck_assert_ptr_null(arp_parse(l3, l3len, &m));
	} else {
		ck_assert_uint_eq(eh.type, ETH_TYPE_IPV4);
		struct ipv4_hdr ih;
		ck_assert_ptr_null(ipv4_parse(l3, l3len, &ih));
		ck_assert_uint_eq(ih.src, 0x0a000002);
		if (ih.proto == IP_PROTO_ICMP) {
			struct icmp_hdr ic;
			size_t hl = (size_t)ih.ihl * 4;
			ck_assert_ptr_null(icmp_parse(l3 + hl, ih.total_len - hl, &ic));
		}
	}
}

START_TEST(fuzz_host_input)
{
	static struct corpus c;
	static uint8_t f[2048];
	struct harness h;
	struct rng r;
	c.n = 0;
	corpus_add(&c, "icmp-echo.pcap", 7);
	corpus_add(&c, "icmp-echo-1472.pcap", 3);
	corpus_add(&c, "arp.pcap", 10);
	corpus_add(&c, "ipv4-fragments.pcap", 6);
	corpus_add(&c, "udp-port-unreachable.pcap", 2);
	corpus_add(&c, "tcp-rst-closed-port.pcap", 3);
	corpus_add(&c, "dns.pcap", 4);
	corpus_add(&c, "ipv6-ndp-echo.pcap", 4);
	rng_seed(&r, (uint64_t)_i + 1);
	harness_init(&h, "10.0.0.2/24", "10.0.0.1");
	uint64_t sent = 0;
	for (int i = 0; i < FUZZ_FRAMES; i++) {
		size_t len = mutate(&r, &c, f, sizeof(f));
		/* Each frame in a buffer of its exact size: ASan sees any overread. */
		uint8_t *exact = malloc(len ? len : 1);
		memcpy(exact, f, len);
		inject(&h, exact, len);
		free(exact);
		if (i % 500 == 0)
			advance(&h, 700000); /* let ARP and rate-limit timers run */
		struct pkt *p;
		while ((p = testdev_take_sent(h.dev)) != NULL) {
			check_sent(p);
			pkt_free(p);
			sent++;
		}
	}
	ck_assert_uint_gt(sent, 100); /* the damage did not stop every answer */
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.rx_frames"), FUZZ_FRAMES);
	if (getenv("TAPSTACK_FUZZ_STATS"))
		stats_dump(&h.s.stats, stderr);
	harness_fini(&h); /* asserts pkt_in_use() == 0 */
}
END_TEST

/* Every codec, on random bytes of every short length in exact-size buffers. */
START_TEST(fuzz_codecs)
{
	struct rng r;
	rng_seed(&r, 99);
	for (int i = 0; i < 200000; i++) {
		size_t len = rng_below(&r, 100);
		uint8_t *b = malloc(len ? len : 1);
		for (size_t k = 0; k < len; k++)
			b[k] = (uint8_t)rng_next(&r);
		if (len > 0 && rng_chance(&r, 0.5))
			b[0] = 0x45;
		struct eth_hdr eh;
		struct arp_msg am;
		struct ipv4_hdr ih;
		struct icmp_hdr ic;
		(void)eth_parse(b, len, &eh);
		(void)arp_parse(b, len, &am);
		(void)ipv4_parse(b, len, &ih);
		(void)icmp_parse(b, len, &ic);
		free(b);
	}
}
END_TEST

/* Random IPv6 fragment chains (RFC 8200 4.5) into a host with IPv6 on:
 * pieces of real echo requests in random order with duplicates, overlaps,
 * bad lengths and offsets, odd next headers, extension headers before the
 * fragment header, fragment headers inside, and time passing over the
 * 60 s timeout. The host must not crash, leak or send a malformed frame,
 * its byte count must match what it holds, and some datagrams must still
 * be put back together. */
START_TEST(fuzz_fragment_chains)
{
	static uint8_t msg[9000], f[2048];
	static const uint8_t nexts[] = { IP6_NH_ICMPV6, IP6_NH_ICMPV6, IP6_NH_UDP, IP6_NH_TCP,
					 IP6_NH_FRAGMENT, IP6_NH_DSTOPTS, IP6_NH_NONE, 99 };
	struct harness h;
	struct rng r;
	struct ipaddr peer, host;
	rng_seed(&r, (uint64_t)_i + 11);
	ipaddr_pton("fd00::1", &peer);
	ipaddr_pton("fd00::2", &host);
	harness_init(&h, "10.0.0.2/24", NULL);
	ck_assert_int_eq(ndp_addr_add(&h.s, h.ifp, &host, 64), 0);
	h.ifp->ip6.solicit_routers = false;
	advance(&h, 2 * NDP_RETRANS_US);
	drop_tx(&h);

	for (int i = 0; i < 20000; i++) {
		/* a fresh echo request every 50 frames, to cut in pieces */
		static size_t mlen;
		if (i % 50 == 0) {
			mlen = ICMP6_HDR_LEN + 1000 + rng_below(&r, 7000);
			for (size_t k = ICMP6_HDR_LEN; k < mlen; k++)
				msg[k] = (uint8_t)rng_next(&r);
			struct icmpv6_hdr q = { .type = ICMP6_ECHO_REQUEST, .rest = (uint32_t)i };
			icmpv6_emit(&q, msg, mlen, &peer, &host);
		}
		/* half the time the next piece of a clean chain of 1024-byte
		 * pieces (id 100 + i / 50: it completes unless damage hits it),
		 * else a random piece of a random datagram */
		uint32_t id = (uint32_t)rng_below(&r, 6);
		size_t piece = 8 * (1 + rng_below(&r, 181));
		size_t off = 8 * rng_below(&r, (mlen + 7) / 8);
		bool clean = rng_chance(&r, 0.5);
		if (clean) {
			id = 100 + (uint32_t)(i / 50);
			piece = 1024;
			off = 1024 * rng_below(&r, (mlen + 1023) / 1024);
		}
		if (!clean && rng_chance(&r, 0.1))
			off = 8 * rng_below(&r, 8192); /* up to 65528 */
		size_t len = off < mlen ? mlen - off : 0;
		if (len > piece)
			len = piece;
		if (!clean && rng_chance(&r, 0.1))
			len = rng_below(&r, 1449);
		bool more = off + len < mlen;
		if (!clean && rng_chance(&r, 0.1))
			more = !more;
		uint8_t nh = clean || rng_chance(&r, 0.8) ? IP6_NH_ICMPV6 :
							    nexts[rng_below(&r, sizeof(nexts))];
		/* sometimes a destination options header in front */
		size_t pre = !clean && rng_chance(&r, 0.1) ? 8 : 0;
		struct eth_hdr e = { .type = ETH_TYPE_IPV6 };
		memcpy(e.dst, t_mac_host, 6);
		memcpy(e.src, t_mac_peer, 6);
		eth_emit(&e, f);
		struct ipv6_hdr ip = { .version = 6, .hop_limit = 64, .src = peer, .dst = host,
				       .payload_len = (uint16_t)(pre + IP6_FRAG_HDR_LEN + len),
				       .next = pre ? IP6_NH_DSTOPTS : IP6_NH_FRAGMENT };
		ipv6_emit(&ip, f + ETH_HDR_LEN);
		uint8_t *x = f + ETH_HDR_LEN + IPV6_HDR_LEN;
		if (pre) {
			memset(x, 0, 8);
			x[0] = IP6_NH_FRAGMENT;
			x[2] = 1; /* PadN over the rest */
			x[3] = 4;
		}
		struct ipv6_frag_hdr fh = { .next = nh, .offset = (uint16_t)off, .more = more, .id = id };
		ipv6_frag_emit(&fh, x + pre);
		for (size_t k = 0; k < len; k++)
			x[pre + IP6_FRAG_HDR_LEN + k] = off + k < mlen ? msg[off + k] : (uint8_t)k;
		if (!clean && rng_chance(&r, 0.02) && len)
			x[pre + IP6_FRAG_HDR_LEN + rng_below(&r, len)] ^= 0x55;
		size_t n = ETH_HDR_LEN + IPV6_HDR_LEN + pre + IP6_FRAG_HDR_LEN + len;
		uint8_t *exact = malloc(n);
		memcpy(exact, f, n);
		inject(&h, exact, n);
		free(exact);
		if (i % 1000 == 999)
			advance(&h, 7 * 1000000); /* the 60 s timeout comes now and then */
		struct pkt *p;
		while ((p = testdev_take_sent(h.dev)) != NULL) {
			struct eth_hdr eh;
			struct ipv6_hdr oh;
			ck_assert_ptr_null(eth_parse(p->data, p->len, &eh));
			ck_assert_uint_le(p->len, ETH_MAX_FRAME);
			if (eh.type == ETH_TYPE_IPV6)
				ck_assert_ptr_null(ipv6_parse(p->data + ETH_HDR_LEN,
							      p->len - ETH_HDR_LEN, &oh));
			pkt_free(p);
		}
		size_t held = 0;
		for (const struct reasm_entry *en = h.s.reasm6.list; en; en = en->next)
			held += en->bytes;
		ck_assert_uint_eq(held, h.s.reasm6.bytes);
	}
	ck_assert_uint_gt(stats_get(&h.s.stats, "ip6.reassembled"), 0);
	if (getenv("TAPSTACK_FUZZ_STATS"))
		stats_dump(&h.s.stats, stderr);
	harness_fini(&h);
}
END_TEST

Suite *fuzz_suite(void)
{
	Suite *s = suite_create("fuzz");
	TCase *tc = tcase_create("fuzz");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, fuzz_host_input, 0, 3);
	tcase_add_test(tc, fuzz_codecs);
	tcase_add_loop_test(tc, fuzz_fragment_chains, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

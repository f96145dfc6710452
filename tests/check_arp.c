/* ARP: the codec on frames captured from Linux, and the cache driven frame
 * by frame on virtual time (RFC 826 reception, RFC 1122 2.3.2 timeouts and
 * queueing, RFC 5227 announcements, probes and conflicts). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/arp.h"
#include "stack/byteorder.h"
#include "stack/stack.h"
#include "tests/harness.h"

#define IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define IP_PEER IP(10, 0, 0, 1)
#define IP_HOST IP(10, 0, 0, 2)

static const uint8_t mac_zero[6];
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_other[6] = { 0x02, 0, 0, 0, 0, 0x99 };

static uint64_t count(struct harness *h, const char *name)
{
	return stats_get(&h->s.stats, name);
}

/* Builds an Ethernet + ARP frame padded to 60 bytes, as it arrives from a
 * real NIC. Returns its length. */
static size_t arp_frame(uint8_t *buf, const uint8_t eth_dst[6], const uint8_t eth_src[6],
			uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
			uint32_t tpa)
{
	struct eth_hdr eh = { .type = ETH_TYPE_ARP };
	struct arp_msg m = {
		.htype = ARP_HTYPE_ETHERNET, .ptype = ETH_TYPE_IPV4, .hlen = 6, .plen = 4,
		.op = op, .spa = spa, .tpa = tpa,
	};
	memcpy(eh.dst, eth_dst, 6);
	memcpy(eh.src, eth_src, 6);
	memcpy(m.sha, sha, 6);
	memcpy(m.tha, tha, 6);
	memset(buf, 0, ETH_MIN_FRAME);
	eth_emit(&eh, buf);
	arp_emit(&m, buf + ETH_HDR_LEN);
	return ETH_MIN_FRAME;
}

/* The peer asks (broadcast) who has tpa. */
static void inject_request(struct harness *h, const uint8_t sha[6], uint32_t spa, uint32_t tpa)
{
	uint8_t f[ETH_MIN_FRAME];
	inject(h, f, arp_frame(f, mac_bcast, sha, ARP_OP_REQUEST, sha, spa, mac_zero, tpa));
}

/* The peer answers us: spa is at sha. */
static void inject_reply(struct harness *h, const uint8_t sha[6], uint32_t spa)
{
	uint8_t f[ETH_MIN_FRAME];
	inject(h, f, arp_frame(f, t_mac_host, sha, ARP_OP_REPLY, sha, spa, t_mac_host, IP_HOST));
}

/* Hands ARP a 20-byte "IP packet" filled with marker for nexthop, at h->now. */
static int send_ip(struct harness *h, uint32_t nexthop, uint8_t marker)
{
	struct pkt *p = pkt_alloc(64);
	ck_assert_ptr_nonnull(p);
	memset(pkt_put(p, 20), marker, 20);
	h->s.now = h->now;
	return arp_output(&h->s, h->ifp, p, nexthop);
}

/* Takes the next frame, checks it is ARP from us to eth_dst, parses it. */
static void expect_arp(struct harness *h, const uint8_t eth_dst[6], struct arp_msg *m)
{
	struct pkt *p = expect_tx(h);
	ck_assert_uint_eq(p->len, ETH_MIN_FRAME);
	ck_assert_mem_eq(p->data, eth_dst, 6);
	ck_assert_mem_eq(p->data + 6, t_mac_host, 6);
	ck_assert_uint_eq(be16_get(p->data + 12), ETH_TYPE_ARP);
	ck_assert_ptr_null(arp_parse(p->data + ETH_HDR_LEN, p->len - ETH_HDR_LEN, m));
	pkt_free(p);
}

/* Checks m is our broadcast or unicast request for tpa. */
static void check_request(const struct arp_msg *m, uint32_t tpa)
{
	ck_assert_uint_eq(m->op, ARP_OP_REQUEST);
	ck_assert_mem_eq(m->sha, t_mac_host, 6);
	ck_assert_uint_eq(m->spa, IP_HOST);
	ck_assert_mem_eq(m->tha, mac_zero, 6);
	ck_assert_uint_eq(m->tpa, tpa);
}

/* Takes the next frame and checks it is the IPv4 packet with marker sent to mac. */
static void expect_ip(struct harness *h, const uint8_t mac[6], uint8_t marker)
{
	struct pkt *p = expect_tx(h);
	ck_assert_mem_eq(p->data, mac, 6);
	ck_assert_mem_eq(p->data + 6, t_mac_host, 6);
	ck_assert_uint_eq(be16_get(p->data + 12), ETH_TYPE_IPV4);
	ck_assert_uint_eq(p->data[ETH_HDR_LEN], marker);
	ck_assert_uint_eq(p->data[ETH_HDR_LEN + 19], marker);
	pkt_free(p);
}

/* Drops every frame sent so far. */
static void drain(struct harness *h)
{
	struct pkt *p;
	while ((p = testdev_take_sent(h->dev)) != NULL)
		pkt_free(p);
}

static enum arp_state state_of(struct harness *h, uint32_t ip)
{
	struct arp_entry *e = arp_cache_lookup(&h->s.arp, ip);
	return e ? e->state : ARP_FREE;
}

/* ---- Codec ---- */

START_TEST(test_codec_linux_frames)
{
	static const struct {
		const char *file;
		int frame;
		uint16_t op;
		const uint8_t *sha;
		uint32_t spa;
		const uint8_t *tha;
		uint32_t tpa;
	} v[] = {
		{ "arp.pcap", 4, ARP_OP_REQUEST, t_mac_peer, IP_PEER, mac_bcast, IP_HOST },
		{ "arp.pcap", 5, ARP_OP_REPLY, t_mac_host, IP_HOST, t_mac_peer, IP_PEER },
		{ "arp.pcap", 8, ARP_OP_REQUEST, t_mac_peer, IP_PEER, t_mac_host, IP_HOST },
		{ "icmp-echo.pcap", 1, ARP_OP_REQUEST, t_mac_peer, IP_PEER, mac_zero, IP_HOST },
		{ "icmp-echo.pcap", 2, ARP_OP_REPLY, t_mac_host, IP_HOST, t_mac_peer, IP_PEER },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t f[2048], out[ARP_MSG_LEN];
		struct arp_msg m;
		size_t len = vector_frame(v[i].file, v[i].frame, f, sizeof(f));
		ck_assert_uint_eq(len, 42);
		ck_assert_ptr_null(arp_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &m));
		ck_assert_uint_eq(m.htype, 1);
		ck_assert_uint_eq(m.ptype, 0x0800);
		ck_assert_uint_eq(m.hlen, 6);
		ck_assert_uint_eq(m.plen, 4);
		ck_assert_uint_eq(m.op, v[i].op);
		ck_assert_mem_eq(m.sha, v[i].sha, 6);
		ck_assert_uint_eq(m.spa, v[i].spa);
		ck_assert_mem_eq(m.tha, v[i].tha, 6);
		ck_assert_uint_eq(m.tpa, v[i].tpa);
		/* byte-exact round trip */
		memset(out, 0xaa, sizeof(out));
		arp_emit(&m, out);
		ck_assert_mem_eq(out, f + ETH_HDR_LEN, ARP_MSG_LEN);
	}
}
END_TEST

START_TEST(test_codec_trailing_padding)
{
	uint8_t f[ETH_MIN_FRAME];
	struct arp_msg m;
	arp_frame(f, mac_bcast, t_mac_peer, ARP_OP_REQUEST, t_mac_peer, IP_PEER, mac_zero, IP_HOST);
	ck_assert_ptr_null(arp_parse(f + ETH_HDR_LEN, ETH_MIN_FRAME - ETH_HDR_LEN, &m));
	ck_assert_ptr_null(arp_parse(f + ETH_HDR_LEN, ARP_MSG_LEN, &m));
	ck_assert_str_eq(arp_parse(f + ETH_HDR_LEN, ARP_MSG_LEN - 1, &m), "arp.short");
	ck_assert_str_eq(arp_parse(f + ETH_HDR_LEN, 0, &m), "arp.short");
}
END_TEST

/* One malformed variant of the peer's request for our address. */
static const struct {
	size_t off;      /* byte in the ARP message to change */
	uint8_t value;
	size_t len;      /* ARP bytes in the frame (0: padded 46) */
	const char *reason;
} malformed[] = {
	{ 0, 0, 27, "arp.short" },
	{ 1, 6, 0, "arp.bad_htype" },          /* IEEE 802 */
	{ 2, 0x86, 0, "arp.bad_ptype" },       /* 0x8600 */
	{ 3, 0xdd, 0, "arp.bad_ptype" },       /* 0x08dd */
	{ 4, 8, 0, "arp.bad_hlen_plen" },
	{ 5, 16, 0, "arp.bad_hlen_plen" },
	{ 7, 3, 0, "arp.bad_op" },             /* RARP request */
	{ 7, 0, 0, "arp.bad_op" },
};

START_TEST(test_malformed_dropped)
{
	struct harness h;
	uint8_t f[ETH_MIN_FRAME];
	struct arp_msg m;
	harness_init(&h, "10.0.0.2/24", NULL);
	arp_frame(f, mac_bcast, t_mac_peer, ARP_OP_REQUEST, t_mac_peer, IP_PEER, mac_zero, IP_HOST);
	f[ETH_HDR_LEN + malformed[_i].off] = malformed[_i].value;
	size_t arplen = malformed[_i].len ? malformed[_i].len : ETH_MIN_FRAME - ETH_HDR_LEN;
	ck_assert_str_eq(arp_parse(f + ETH_HDR_LEN, arplen, &m), malformed[_i].reason);

	inject(&h, f, ETH_HDR_LEN + arplen);
	ck_assert_uint_eq(count(&h, malformed[_i].reason), 1);
	ck_assert_uint_eq(count(&h, "arp.rx"), 1);
	expect_no_tx(&h);
	ck_assert_ptr_null(arp_cache_lookup(&h.s.arp, IP_PEER));
	ck_assert_uint_eq(count(&h, "arp.learned"), 0);
	ck_assert_uint_eq(pkt_in_use(), 0);
	harness_fini(&h);
}
END_TEST

/* ---- Answering and learning ---- */

START_TEST(test_request_for_us_exact_reply)
{
	struct harness h;
	uint8_t req[2048], want[2048];
	harness_init(&h, "10.0.0.2/24", NULL);
	size_t n = vector_frame("arp.pcap", 4, req, sizeof(req));
	size_t wn = vector_frame("arp.pcap", 5, want, sizeof(want));
	inject(&h, req, n);

	struct pkt *p = expect_tx(&h);
	const uint8_t *b = p->data;
	ck_assert_uint_eq(p->len, 60);
	ck_assert_mem_eq(b, t_mac_peer, 6);                 /* Ethernet dst: the asker */
	ck_assert_mem_eq(b + 6, t_mac_host, 6);             /* Ethernet src: us */
	ck_assert_uint_eq(be16_get(b + 12), 0x0806);
	ck_assert_uint_eq(be16_get(b + 14), 1);             /* htype */
	ck_assert_uint_eq(be16_get(b + 16), 0x0800);        /* ptype */
	ck_assert_uint_eq(b[18], 6);
	ck_assert_uint_eq(b[19], 4);
	ck_assert_uint_eq(be16_get(b + 20), ARP_OP_REPLY);
	ck_assert_mem_eq(b + 22, t_mac_host, 6);            /* sha: our MAC */
	ck_assert_uint_eq(be32_get(b + 28), IP_HOST);       /* spa: our address */
	ck_assert_mem_eq(b + 32, t_mac_peer, 6);            /* tha: the asker */
	ck_assert_uint_eq(be32_get(b + 38), IP_PEER);       /* tpa: the asker */
	for (size_t i = 42; i < 60; i++)
		ck_assert_uint_eq(b[i], 0);                 /* padding */
	/* ... which is what Linux answered in the same capture */
	ck_assert_uint_eq(wn, 42);
	ck_assert_mem_eq(b, want, 42);
	pkt_free(p);
	expect_no_tx(&h);

	ck_assert_uint_eq(count(&h, "arp.rx"), 1);
	ck_assert_uint_eq(count(&h, "arp.tx_reply"), 1);
	/* RFC 826: the asker addressed us, so it was learned */
	struct arp_entry *e = arp_cache_lookup(&h.s.arp, IP_PEER);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->state, ARP_REACHABLE);
	ck_assert_mem_eq(e->mac, t_mac_peer, 6);
	ck_assert_int_eq(e->confirmed, h.now);
	ck_assert_uint_eq(count(&h, "arp.learned"), 1);
	harness_fini(&h);
}
END_TEST

START_TEST(test_learned_entry_used_without_asking)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	inject_request(&h, t_mac_peer, IP_PEER, IP_HOST);
	drain(&h);
	ck_assert_int_eq(send_ip(&h, IP_PEER, 7), 0);
	expect_ip(&h, t_mac_peer, 7);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "arp.tx_request"), 0);
	harness_fini(&h);
}
END_TEST

START_TEST(test_request_for_other_not_learned)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	inject_request(&h, t_mac_peer, IP_PEER, IP(10, 0, 0, 3));
	expect_no_tx(&h);
	ck_assert_ptr_null(arp_cache_lookup(&h.s.arp, IP_PEER));
	ck_assert_uint_eq(count(&h, "arp.not_for_us"), 1);
	ck_assert_uint_eq(count(&h, "arp.learned"), 0);
	ck_assert_uint_eq(count(&h, "arp.tx_reply"), 0);
	/* and a reply between two other hosts teaches nothing either */
	uint8_t f[ETH_MIN_FRAME];
	inject(&h, f, arp_frame(f, mac_bcast, mac_other, ARP_OP_REPLY, mac_other, IP(10, 0, 0, 9),
				t_mac_peer, IP_PEER));
	expect_no_tx(&h);
	ck_assert_ptr_null(arp_cache_lookup(&h.s.arp, IP(10, 0, 0, 9)));
	ck_assert_uint_eq(count(&h, "arp.not_for_us"), 2);
	harness_fini(&h);
}
END_TEST

START_TEST(test_merge_from_traffic_not_for_us)
{
	/* RFC 826: the merge happens before "am I the target?": an entry we
	 * already have is updated by any message from that sender. */
	struct harness h;
	struct arp_msg m;
	harness_init(&h, "10.0.0.2/24", NULL);
	send_ip(&h, IP_PEER, 1);
	expect_arp(&h, mac_bcast, &m);
	inject_request(&h, t_mac_peer, IP_PEER, IP(10, 0, 0, 3));
	expect_ip(&h, t_mac_peer, 1);
	expect_no_tx(&h);
	ck_assert_int_eq(state_of(&h, IP_PEER), ARP_REACHABLE);
	ck_assert_uint_eq(count(&h, "arp.not_for_us"), 1);
	ck_assert_uint_eq(count(&h, "arp.tx_reply"), 0);
	harness_fini(&h);
}
END_TEST

START_TEST(test_probe_answered_not_learned)
{
	/* RFC 5227 2.1.1: a probe (sender address 0) for our address; Linux
	 * answers it, to the prober's MAC, with target address 0. */
	struct harness h;
	struct arp_msg m;
	harness_init(&h, "10.0.0.2/24", NULL);
	inject_request(&h, t_mac_peer, 0, IP_HOST);
	expect_arp(&h, t_mac_peer, &m);
	ck_assert_uint_eq(m.op, ARP_OP_REPLY);
	ck_assert_mem_eq(m.sha, t_mac_host, 6);
	ck_assert_uint_eq(m.spa, IP_HOST);
	ck_assert_mem_eq(m.tha, t_mac_peer, 6);
	ck_assert_uint_eq(m.tpa, 0);
	expect_no_tx(&h);
	ck_assert_ptr_null(arp_cache_lookup(&h.s.arp, 0));
	ck_assert_uint_eq(count(&h, "arp.learned"), 0);
	harness_fini(&h);
}
END_TEST

START_TEST(test_bad_senders_dropped)
{
	struct harness h;
	uint8_t f[ETH_MIN_FRAME];
	harness_init(&h, "10.0.0.2/24", NULL);
	/* sender MAC is the broadcast address */
	inject(&h, f, arp_frame(f, mac_bcast, t_mac_peer, ARP_OP_REQUEST, mac_bcast, IP_PEER,
				mac_zero, IP_HOST));
	ck_assert_uint_eq(count(&h, "arp.bad_sender_mac"), 1);
	/* sender MAC is a multicast group */
	const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	inject(&h, f, arp_frame(f, mac_bcast, t_mac_peer, ARP_OP_REQUEST, mcast, IP_PEER,
				mac_zero, IP_HOST));
	ck_assert_uint_eq(count(&h, "arp.bad_sender_mac"), 2);
	/* sender address is a broadcast, the subnet broadcast, a group */
	inject_request(&h, t_mac_peer, IP4_BROADCAST, IP_HOST);
	inject_request(&h, t_mac_peer, IP(10, 0, 0, 255), IP_HOST);
	inject_request(&h, t_mac_peer, IP(224, 0, 0, 1), IP_HOST);
	/* address 0 is only for probes, never in a reply */
	inject_reply(&h, t_mac_peer, 0);
	ck_assert_uint_eq(count(&h, "arp.bad_sender"), 4);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "arp.learned"), 0);
	for (int i = 0; i < ARP_CACHE_SIZE; i++)
		ck_assert_int_eq(h.s.arp.e[i].state, ARP_FREE);
	harness_fini(&h);
}
END_TEST

START_TEST(test_address_conflict)
{
	/* RFC 5227 2.4: another MAC claims our address */
	struct harness h;
	uint8_t f[ETH_MIN_FRAME];
	harness_init(&h, "10.0.0.2/24", NULL);
	inject(&h, f, arp_frame(f, mac_bcast, mac_other, ARP_OP_REQUEST, mac_other, IP_HOST,
				mac_zero, IP_HOST));
	ck_assert_uint_eq(count(&h, "arp.address_conflict"), 1);
	inject(&h, f, arp_frame(f, t_mac_host, mac_other, ARP_OP_REPLY, mac_other, IP_HOST,
				t_mac_host, IP_HOST));
	ck_assert_uint_eq(count(&h, "arp.address_conflict"), 2);
	expect_no_tx(&h);
	ck_assert_ptr_null(arp_cache_lookup(&h.s.arp, IP_HOST));
	ck_assert_uint_eq(count(&h, "arp.learned"), 0);
	harness_fini(&h);
}
END_TEST

/* ---- Resolution and the pending queue ---- */

START_TEST(test_resolution_releases_queue_in_order)
{
	struct harness h;
	struct arp_msg m;
	harness_init(&h, "10.0.0.2/24", NULL);
	ck_assert_int_eq(send_ip(&h, IP_PEER, 1), 0);
	expect_arp(&h, mac_bcast, &m);
	check_request(&m, IP_PEER);
	ck_assert_int_eq(send_ip(&h, IP_PEER, 2), 0);
	expect_no_tx(&h); /* one request is enough */
	struct arp_entry *e = arp_cache_lookup(&h.s.arp, IP_PEER);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->state, ARP_INCOMPLETE);
	ck_assert_uint_eq(e->pending.count, 2);
	ck_assert_int_eq(arp_next_deadline(&h.s.arp), h.now + ARP_RETRY_US);

	h.now += 300000;
	inject_reply(&h, t_mac_peer, IP_PEER);
	expect_ip(&h, t_mac_peer, 1);
	expect_ip(&h, t_mac_peer, 2);
	expect_no_tx(&h); /* a reply is not answered */
	ck_assert_int_eq(e->state, ARP_REACHABLE);
	ck_assert_mem_eq(e->mac, t_mac_peer, 6);
	ck_assert_uint_eq(e->pending.count, 0);
	ck_assert_int_eq(e->timer, h.now + ARP_REACHABLE_US);
	/* the cache's deadline is a lower bound (an early wake-up costs one scan) */
	ck_assert_int_le(arp_next_deadline(&h.s.arp), e->timer);
	ck_assert_uint_eq(count(&h, "arp.resolved"), 1);
	ck_assert_uint_eq(count(&h, "arp.tx_request"), 1);
	/* from now on, at once */
	ck_assert_int_eq(send_ip(&h, IP_PEER, 3), 0);
	expect_ip(&h, t_mac_peer, 3);
	harness_fini(&h);
}
END_TEST

START_TEST(test_retries_then_give_up)
{
	struct harness h;
	struct arp_msg m;
	harness_init(&h, "10.0.0.2/24", NULL);
	send_ip(&h, IP(10, 0, 0, 9), 1);
	send_ip(&h, IP(10, 0, 0, 9), 2);
	expect_arp(&h, mac_bcast, &m);
	check_request(&m, IP(10, 0, 0, 9));
	for (int i = 1; i < ARP_MAX_RETRIES; i++) {
		advance(&h, ARP_RETRY_US - 1);
		expect_no_tx(&h);
		advance(&h, 1);
		struct pkt *p = testdev_take_sent(h.dev);
		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(p->time, (int64_t)i * ARP_RETRY_US); /* 1 s apart */
		ck_assert_ptr_null(arp_parse(p->data + ETH_HDR_LEN, p->len - ETH_HDR_LEN, &m));
		ck_assert_mem_eq(p->data, mac_bcast, 6);
		check_request(&m, IP(10, 0, 0, 9));
		pkt_free(p);
	}
	ck_assert_uint_eq(count(&h, "arp.tx_request"), ARP_MAX_RETRIES);
	ck_assert_int_eq(state_of(&h, IP(10, 0, 0, 9)), ARP_INCOMPLETE);
	advance(&h, ARP_RETRY_US);
	expect_no_tx(&h); /* no fourth request */
	ck_assert_int_eq(state_of(&h, IP(10, 0, 0, 9)), ARP_FREE);
	ck_assert_uint_eq(count(&h, "arp.unresolved"), 2); /* each queued packet */
	ck_assert_int_eq(arp_next_deadline(&h.s.arp), INT64_MAX);
	ck_assert_uint_eq(pkt_in_use(), 0);
	harness_fini(&h);
}
END_TEST

START_TEST(test_pending_queue_keeps_latest)
{
	struct harness h;
	struct arp_msg m;
	harness_init(&h, "10.0.0.2/24", NULL);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(send_ip(&h, IP_PEER, (uint8_t)i), 0);
	expect_arp(&h, mac_bcast, &m);
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h, "arp.pending_overflow"), 10 - ARP_PENDING_MAX);
	ck_assert_uint_eq(pkt_in_use(), ARP_PENDING_MAX);
	inject_reply(&h, t_mac_peer, IP_PEER);
	/* RFC 1122 2.3.2.2: the latest packets survive, in order */
	for (int i = 10 - ARP_PENDING_MAX; i < 10; i++)
		expect_ip(&h, t_mac_peer, (uint8_t)i);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_broadcast_nexthop_not_resolved)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	ck_assert_int_eq(send_ip(&h, IP4_BROADCAST, 1), 0);
	expect_ip(&h, mac_bcast, 1);
	ck_assert_int_eq(send_ip(&h, IP(10, 0, 0, 255), 2), 0);
	expect_ip(&h, mac_bcast, 2);
	expect_no_tx(&h);
	ck_assert_ptr_null(arp_cache_lookup(&h.s.arp, IP4_BROADCAST));
	ck_assert_ptr_null(arp_cache_lookup(&h.s.arp, IP(10, 0, 0, 255)));
	ck_assert_int_eq(send_ip(&h, 0, 3), -EHOSTUNREACH);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* ---- Timeouts ---- */

START_TEST(test_reachable_stale_unicast_poll)
{
	struct harness h;
	struct arp_msg m;
	harness_init(&h, "10.0.0.2/24", NULL);
	inject_request(&h, t_mac_peer, IP_PEER, IP_HOST);
	drain(&h);
	advance(&h, ARP_REACHABLE_US - 1);
	ck_assert_int_eq(state_of(&h, IP_PEER), ARP_REACHABLE);
	advance(&h, 1);
	ck_assert_int_eq(state_of(&h, IP_PEER), ARP_STALE);
	expect_no_tx(&h); /* nothing is sent for an unused entry */

	/* RFC 1122 2.3.2.1: a STALE entry is used, and polled unicast */
	ck_assert_int_eq(send_ip(&h, IP_PEER, 5), 0);
	expect_ip(&h, t_mac_peer, 5);
	expect_arp(&h, t_mac_peer, &m);
	check_request(&m, IP_PEER);
	ck_assert_int_eq(send_ip(&h, IP_PEER, 6), 0);
	expect_ip(&h, t_mac_peer, 6);
	expect_no_tx(&h); /* one poll per ARP_RETRY_US */
	ck_assert_uint_eq(count(&h, "arp.tx_request"), 1);

	advance(&h, 200000);
	inject_reply(&h, t_mac_peer, IP_PEER);
	expect_no_tx(&h);
	struct arp_entry *e = arp_cache_lookup(&h.s.arp, IP_PEER);
	ck_assert_int_eq(e->state, ARP_REACHABLE);
	ck_assert_int_eq(e->confirmed, h.now);
	harness_fini(&h);
}
END_TEST

START_TEST(test_stale_expires)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	inject_request(&h, t_mac_peer, IP_PEER, IP_HOST);
	drain(&h);
	advance(&h, ARP_REACHABLE_US);
	ck_assert_int_eq(state_of(&h, IP_PEER), ARP_STALE);
	advance(&h, ARP_STALE_US - 1);
	ck_assert_int_eq(state_of(&h, IP_PEER), ARP_STALE);
	ck_assert_uint_eq(count(&h, "arp.expired"), 0);
	advance(&h, 1);
	ck_assert_int_eq(state_of(&h, IP_PEER), ARP_FREE);
	ck_assert_uint_eq(count(&h, "arp.expired"), 1);
	ck_assert_int_eq(arp_next_deadline(&h.s.arp), INT64_MAX);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(test_stale_polls_unanswered_remove_entry)
{
	struct harness h;
	struct arp_msg m;
	harness_init(&h, "10.0.0.2/24", NULL);
	inject_request(&h, t_mac_peer, IP_PEER, IP_HOST);
	drain(&h);
	advance(&h, ARP_REACHABLE_US);
	for (int i = 0; i < ARP_MAX_RETRIES; i++) {
		send_ip(&h, IP_PEER, (uint8_t)i);
		expect_ip(&h, t_mac_peer, (uint8_t)i);
		expect_arp(&h, t_mac_peer, &m);
		advance(&h, ARP_RETRY_US - 1);
		ck_assert_int_eq(state_of(&h, IP_PEER), ARP_STALE);
		advance(&h, 1);
	}
	ck_assert_int_eq(state_of(&h, IP_PEER), ARP_FREE);
	ck_assert_uint_eq(count(&h, "arp.poll_unanswered"), 1);
	/* the next packet starts over with a broadcast request */
	send_ip(&h, IP_PEER, 9);
	expect_arp(&h, mac_bcast, &m);
	check_request(&m, IP_PEER);
	harness_fini(&h);
}
END_TEST

/* ---- A full cache ---- */

START_TEST(test_cache_full_evicts_lru)
{
	struct harness h;
	struct arp_msg m;
	harness_init(&h, "10.0.0.2/16", NULL);
	for (int i = 0; i < ARP_CACHE_SIZE; i++) {
		uint8_t mac[6] = { 0x02, 0, 0, 0, 1, (uint8_t)i };
		h.now += 10;
		inject_request(&h, mac, IP(10, 0, 1, i), IP_HOST);
		drain(&h);
	}
	ck_assert_uint_eq(count(&h, "arp.learned"), ARP_CACHE_SIZE);
	ck_assert_uint_eq(count(&h, "arp.cache_evict"), 0);
	/* 10.0.1.0 was learned first but is used now: 10.0.1.1 is the LRU */
	h.now += 10;
	send_ip(&h, IP(10, 0, 1, 0), 1);
	drain(&h);
	h.now += 10;
	send_ip(&h, IP(10, 0, 3, 1), 2);
	expect_arp(&h, mac_bcast, &m);
	check_request(&m, IP(10, 0, 3, 1));
	ck_assert_uint_eq(count(&h, "arp.cache_evict"), 1);
	ck_assert_int_eq(state_of(&h, IP(10, 0, 1, 1)), ARP_FREE);
	ck_assert_int_eq(state_of(&h, IP(10, 0, 1, 0)), ARP_REACHABLE);
	ck_assert_int_eq(state_of(&h, IP(10, 0, 1, 2)), ARP_REACHABLE);
	ck_assert_int_eq(state_of(&h, IP(10, 0, 3, 1)), ARP_INCOMPLETE);
	harness_fini(&h);
}
END_TEST

START_TEST(test_cache_full_of_incomplete_evicts_oldest)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/16", NULL);
	for (int i = 0; i < ARP_CACHE_SIZE; i++) {
		h.now += 10;
		send_ip(&h, IP(10, 0, 1, i), (uint8_t)i);
	}
	drain(&h);
	ck_assert_uint_eq(pkt_in_use(), ARP_CACHE_SIZE);
	h.now += 10;
	send_ip(&h, IP(10, 0, 3, 1), 1);
	drain(&h);
	ck_assert_uint_eq(count(&h, "arp.cache_evict"), 1);
	ck_assert_int_eq(state_of(&h, IP(10, 0, 1, 0)), ARP_FREE);
	ck_assert_int_eq(state_of(&h, IP(10, 0, 1, 1)), ARP_INCOMPLETE);
	ck_assert_int_eq(state_of(&h, IP(10, 0, 3, 1)), ARP_INCOMPLETE);
	ck_assert_uint_eq(count(&h, "arp.evicted_pending"), 1);
	ck_assert_uint_eq(pkt_in_use(), ARP_CACHE_SIZE);
	harness_fini(&h);
}
END_TEST

/* ---- Announcements, trace and dump ---- */

START_TEST(test_gratuitous_arp_at_start)
{
	struct stack s;
	stack_init(&s, "", 1);
	struct netdev *dev = testdev_new();
	struct netif *ifp = stack_add_netif(&s, dev, t_mac_host);
	ck_assert_int_eq(stack_set_ipv4(&s, ifp, IP_HOST, 24), 0);
	stack_start(&s, 0);
	struct pkt *p = testdev_take_sent(dev);
	ck_assert_ptr_nonnull(p);
	/* RFC 5227 3: a request with sender = target = our address, tha 0 */
	static const uint8_t want[60] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
		0x02, 0, 0, 0, 0, 0x02, 10, 0, 0, 2,
		0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
	};
	ck_assert_uint_eq(p->len, 60);
	ck_assert_mem_eq(p->data, want, 60);
	pkt_free(p);
	ck_assert_ptr_null(testdev_take_sent(dev));
	ck_assert_uint_eq(stats_get(&s.stats, "arp.tx_announce"), 1);
	/* RFC 5227 2.3: ANNOUNCE_NUM (2) announcements, ANNOUNCE_INTERVAL (2 s)
	 * apart: the second is the stack's next deadline, and comes then */
	ck_assert_int_eq(stack_next_deadline(&s), 2000000);
	stack_poll(&s, 1999999);
	ck_assert_ptr_null(testdev_take_sent(dev));
	stack_poll(&s, 2000000);
	p = testdev_take_sent(dev);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->len, 60);
	ck_assert_mem_eq(p->data, want, 60);
	pkt_free(p);
	ck_assert_uint_eq(stats_get(&s.stats, "arp.tx_announce"), 2);
	/* and no third */
	ck_assert_int_eq(stack_next_deadline(&s), STACK_NO_DEADLINE);
	stack_poll(&s, 60000000);
	ck_assert_ptr_null(testdev_take_sent(dev));
	ck_assert_uint_eq(stats_get(&s.stats, "arp.tx_announce"), 2);
	stack_fini(&s);
	netdev_close(dev);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(test_trace_lines)
{
	struct harness h;
	char *buf = NULL;
	size_t size = 0;
	const uint8_t mac5[6] = { 0x02, 0, 0, 0, 0, 0x05 };
	harness_init(&h, "10.0.0.2/24", NULL);
	FILE *tr = open_memstream(&buf, &size);
	ck_assert_ptr_nonnull(tr);
	FILE *saved = h.s.trace;
	h.s.trace = tr;

	inject_request(&h, t_mac_peer, IP_PEER, IP_HOST);
	send_ip(&h, IP(10, 0, 0, 5), 1);
	inject_reply(&h, mac5, IP(10, 0, 0, 5));
	fflush(tr);
	size_t before = size;
	inject_request(&h, t_mac_peer, IP_PEER, IP(10, 0, 0, 7));
	fflush(tr);
	h.s.trace = saved;
	fclose(tr);
	drain(&h);

	ck_assert_ptr_nonnull(strstr(buf, "rx ARP who-has 10.0.0.2 tell 10.0.0.1\n"));
	ck_assert_ptr_nonnull(strstr(buf, "tx ARP 10.0.0.2 is-at 02:00:00:00:00:02\n"));
	ck_assert_ptr_nonnull(strstr(buf, "tx ARP who-has 10.0.0.5 tell 10.0.0.2\n"));
	ck_assert_ptr_nonnull(strstr(buf, "rx ARP 10.0.0.5 is-at 02:00:00:00:00:05\n"));
	ck_assert_ptr_nonnull(
		strstr(buf, "arp 10.0.0.5 INCOMPLETE -> REACHABLE (queued 1 sent)\n"));
	/* traffic between other hosts: one line */
	const char *tail = buf + before;
	ck_assert_ptr_nonnull(strstr(tail, "arp.not_for_us who-has 10.0.0.7 tell 10.0.0.1"));
	ck_assert_ptr_null(strchr(strchr(tail, '\n') + 1, '\n'));
	free(buf);
	harness_fini(&h);
}
END_TEST

START_TEST(test_cache_dump)
{
	struct harness h;
	char *buf = NULL;
	size_t size = 0;
	harness_init(&h, "10.0.0.2/24", NULL);
	inject_request(&h, t_mac_peer, IP_PEER, IP_HOST);
	drain(&h);
	advance(&h, 1200000);
	send_ip(&h, IP(10, 0, 0, 9), 1);
	send_ip(&h, IP(10, 0, 0, 9), 2);
	drain(&h);
	advance(&h, 500000);
	FILE *out = open_memstream(&buf, &size);
	arp_cache_dump(&h.s.arp, h.now, out, NULL, NULL);
	fclose(out);
	ck_assert_str_eq(buf,
			 "10.0.0.1 dev if0 lladdr 02:00:00:00:00:01 REACHABLE age 1.7s queued 0\n"
			 "10.0.0.9 dev if0 INCOMPLETE age 0.5s queued 2\n");
	free(buf);
	ck_assert_str_eq(arp_state_name[ARP_STALE], "STALE");
	harness_fini(&h);
}
END_TEST

/* ARP has no checksum: a changed MAC right after a confirmation is not
 * believed (a bit flipped on the way, or a forger); later it is. */
START_TEST(test_mac_change_locktime)
{
	struct harness h;
	const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	harness_init(&h, "10.0.0.2/24", NULL);
	inject_request(&h, t_mac_peer, IP_PEER, IP_HOST);
	drain(&h);
	h.now += ARP_LOCKTIME_US - 1;
	inject_reply(&h, other, IP_PEER);
	struct arp_entry *e = arp_cache_lookup(&h.s.arp, IP_PEER);
	ck_assert_ptr_nonnull(e);
	ck_assert_mem_eq(e->mac, t_mac_peer, 6);
	ck_assert_uint_eq(count(&h, "arp.mac_change_locked"), 1);
	h.now += 2;
	inject_reply(&h, other, IP_PEER);
	ck_assert_mem_eq(e->mac, other, 6);
	ck_assert_uint_eq(count(&h, "arp.mac_changed"), 1);
	drain(&h);
	harness_fini(&h);
}
END_TEST

Suite *arp_suite(void)
{
	Suite *s = suite_create("arp");
	TCase *tc = tcase_create("codec");
	tcase_add_test(tc, test_codec_linux_frames);
	tcase_add_test(tc, test_codec_trailing_padding);
	int nmal = (int)(sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_loop_test(tc, test_malformed_dropped, 0, nmal);
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_add_test(tc, test_request_for_us_exact_reply);
	tcase_add_test(tc, test_learned_entry_used_without_asking);
	tcase_add_test(tc, test_request_for_other_not_learned);
	tcase_add_test(tc, test_merge_from_traffic_not_for_us);
	tcase_add_test(tc, test_probe_answered_not_learned);
	tcase_add_test(tc, test_bad_senders_dropped);
	tcase_add_test(tc, test_address_conflict);
	suite_add_tcase(s, tc);

	tcase_add_test(tc, test_mac_change_locktime);
	tc = tcase_create("resolve");
	tcase_add_test(tc, test_resolution_releases_queue_in_order);
	tcase_add_test(tc, test_retries_then_give_up);
	tcase_add_test(tc, test_pending_queue_keeps_latest);
	tcase_add_test(tc, test_broadcast_nexthop_not_resolved);
	suite_add_tcase(s, tc);

	tc = tcase_create("timers");
	tcase_add_test(tc, test_reachable_stale_unicast_poll);
	tcase_add_test(tc, test_stale_expires);
	tcase_add_test(tc, test_stale_polls_unanswered_remove_entry);
	tcase_add_test(tc, test_cache_full_evicts_lru);
	tcase_add_test(tc, test_cache_full_of_incomplete_evicts_oldest);
	suite_add_tcase(s, tc);

	tc = tcase_create("announce");
	tcase_add_test(tc, test_gratuitous_arp_at_start);
	tcase_add_test(tc, test_trace_lines);
	tcase_add_test(tc, test_cache_dump);
	suite_add_tcase(s, tc);
	return s;
}

/* The DHCP client (RFC 2131, RFC 2132) on virtual time, the test playing
 * the server 10.0.0.1: the whole exchange and the lease applied (address,
 * default route, DNS server, a ping answered at the address), lost OFFERs
 * and ACKs retransmitted with RFC 2131 4.1's backoff, a NAK back to INIT,
 * renewal at T1 (unicast), rebinding at T2 (broadcast), the lease's end,
 * the RELEASE, and wrong or malformed replies dropped under their
 * counters. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ip/dhcp.h"
#include "ip/ip.h"
#include "ip/ipv4.h"
#include "ip/udp.h"
#include "link/arp.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/net.h"
#include "tests/harness.h"

#define SRV 0x0a000001u   /* 10.0.0.1, the server and router */
#define YI 0x0a000002u    /* 10.0.0.2, the address it gives (the harness's) */
#define DNS 0x0a000035u   /* 10.0.0.53 */
#define S(x) ((int64_t)(x) * 1000000)

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint64_t count(struct harness *h, const char *name)
{
	return stats_get(&h->s.stats, name);
}

/* A host with no IPv4 address whose client is enabled (nothing sent yet). */
static void dh_init(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	ck_assert_int_eq(pkt_in_use(), 0);
	stack_init(&h->s, "", 1);
	if (getenv("TAPSTACK_TEST_TRACE"))
		h->s.trace = stderr;
	h->dev = testdev_new();
	h->ifp = stack_add_netif(&h->s, h->dev, t_mac_host);
	h->ifp->ip6.mld.off = true;
	stack_start(&h->s, 0);
	dhcp_enable(&h->s, h->ifp);
}

/* What the client sent, as the server sees it. */
struct sent {
	struct dhcp_msg m;
	uint8_t eth_dst[6];
	uint32_t src, dst;
	uint8_t raw[600];
	size_t len;
};

/* The peer's ARP request for 10.0.0.2 (icmp-echo.pcap frame 1): the host
 * learns its MAC, answers, and sends what waited for it. */
static void peer_arps(struct harness *h)
{
	uint8_t f[128];
	size_t n = vector_frame("icmp-echo.pcap", 1, f, sizeof(f));
	inject(h, f, n);
}

/* Takes frames until a DHCP one (ARP frames are freed, and an ARP request
 * the host sent last, for a unicast, is answered by the peer);
 * checks its IP header and UDP checksum. Fails if there is none. */
static void next_dhcp(struct harness *h, struct sent *o)
{
	for (;;) {
		struct pkt *p = expect_tx(h);
		if (be16_get(p->data + 12) == 0x0806) {
			bool request = be16_get(p->data + 14 + 6) == 1;
			pkt_free(p);
			if (request && testdev_sent_count(h->dev) == 0)
				peer_arps(h);
			continue;
		}
		ck_assert_uint_eq(be16_get(p->data + 12), 0x0800);
		const uint8_t *ip = p->data + 14;
		struct ipv4_hdr ih;
		ck_assert_ptr_null(ipv4_parse(ip, p->len - 14, &ih));
		ck_assert_uint_eq(ih.proto, IP_PROTO_UDP);
		const uint8_t *u = ip + 20;
		ck_assert_uint_eq(be16_get(u), 68);
		ck_assert_uint_eq(be16_get(u + 2), 67);
		size_t ulen = be16_get(u + 4);
		struct ipaddr a = ipaddr_v4(ih.src), b = ipaddr_v4(ih.dst);
		ck_assert_uint_eq(csum_fold(csum_partial(u, ulen, ip_pseudo_sum(&a, &b, IP_PROTO_UDP,
										  (uint32_t)ulen))), 0);
		memcpy(o->eth_dst, p->data, 6);
		o->src = ih.src;
		o->dst = ih.dst;
		o->len = ulen - 8;
		ck_assert_uint_le(o->len, sizeof(o->raw));
		memcpy(o->raw, u + 8, o->len);
		ck_assert_ptr_null(dhcp_parse(o->raw, o->len, &o->m));
		ck_assert_uint_eq(o->m.op, 1);
		ck_assert_mem_eq(o->m.chaddr, t_mac_host, 6);
		pkt_free(p);
		return;
	}
}

/* Fails if a DHCP message was sent (other frames are freed). */
static void expect_no_dhcp(struct harness *h)
{
	while (testdev_sent_count(h->dev)) {
		struct pkt *p = testdev_take_sent(h->dev);
		bool arp = be16_get(p->data + 12) == 0x0806;
		pkt_free(p);
		ck_assert_msg(arp, "the client sent a DHCP message");
	}
}

/* A reply from the server, options given raw (olen bytes, End added). */
struct reply {
	uint8_t b[600];
	size_t n;
};

static void reply_init(struct reply *r, uint8_t type, uint32_t xid, uint32_t yiaddr)
{
	memset(r, 0, sizeof(*r));
	r->b[0] = 2;
	r->b[1] = 1;
	r->b[2] = 6;
	be32_put(r->b + 4, xid);
	be16_put(r->b + 10, DHCP_FLAG_BROADCAST);
	be32_put(r->b + 16, yiaddr);
	memcpy(r->b + 28, t_mac_host, 6);
	be32_put(r->b + 236, DHCP_COOKIE);
	r->n = 240;
	r->b[r->n++] = 53;
	r->b[r->n++] = 1;
	r->b[r->n++] = type;
}

static void opt32(struct reply *r, uint8_t code, uint32_t v)
{
	r->b[r->n++] = code;
	r->b[r->n++] = 4;
	be32_put(r->b + r->n, v);
	r->n += 4;
}

/* The usual options: server id, mask /24, router, DNS, lease. */
static void reply_lease(struct reply *r, uint32_t lease)
{
	opt32(r, 54, SRV);
	opt32(r, 1, 0xffffff00u);
	opt32(r, 3, SRV);
	opt32(r, 6, DNS);
	opt32(r, 51, lease);
}

/* Sends r (End appended) from 10.0.0.1:67 to dst:68, at Ethernet dst. */
static void send_reply(struct harness *h, struct reply *r, uint32_t dst, const uint8_t *mac)
{
	uint8_t payload[700], f[800];
	r->b[r->n++] = 255;
	size_t ulen = 8 + (r->n < 300 ? 300 : r->n);
	memset(payload, 0, sizeof(payload));
	be16_put(payload, 67);
	be16_put(payload + 2, 68);
	be16_put(payload + 4, (uint16_t)ulen);
	memcpy(payload + 8, r->b, r->n);
	struct ipaddr a = ipaddr_v4(SRV), b = ipaddr_v4(dst);
	uint16_t sum = csum_fold(csum_partial(payload, ulen, ip_pseudo_sum(&a, &b, IP_PROTO_UDP,
									    (uint32_t)ulen)));
	be16_put(payload + 6, sum ? sum : 0xffff);
	size_t n = build_ipv4_frame(f, mac, t_mac_peer, SRV, dst, IP_PROTO_UDP, payload, ulen);
	inject(h, f, n);
}

/* RFC 5227 2.1.1: three ARP probes for the ACKed address (sender 0.0.0.0,
 * broadcast), the address not used meanwhile, then ANNOUNCE_WAIT: BOUND. */
static void expect_probes(struct harness *h)
{
	for (int i = 0; i < 3; i++) {
		int64_t guard = h->now + S(3);
		while (testdev_sent_count(h->dev) == 0 && h->now < guard)
			advance(h, 100000);
		struct pkt *p = expect_tx(h);
		ck_assert_uint_eq(be16_get(p->data + 12), 0x0806);
		ck_assert_mem_eq(p->data, bcast_mac, 6);
		struct arp_msg m;
		ck_assert_ptr_null(arp_parse(p->data + 14, p->len - 14, &m));
		ck_assert_uint_eq(m.op, ARP_OP_REQUEST);
		ck_assert_uint_eq(m.spa, 0);
		ck_assert_uint_eq(m.tpa, YI);
		ck_assert_mem_eq(m.sha, t_mac_host, 6);
		pkt_free(p);
		ck_assert_int_eq(h->ifp->dhcp.state, DHCP_PROBING);
		ck_assert_uint_eq(h->ifp->ip4, 0);
	}
	advance(h, S(2));
	ck_assert_int_eq(h->ifp->dhcp.state, DHCP_BOUND);
	ck_assert_uint_eq(count(h, "dhcp.arp_probes"), 3);
}

/* DISCOVER, OFFER, REQUEST, ACK with a lease of lease seconds, probes:
 * BOUND. Returns the time of the ACK. */
static int64_t dh_bind(struct harness *h, uint32_t lease)
{
	struct sent o;
	struct reply r;
	advance(h, 0);
	next_dhcp(h, &o);
	ck_assert_uint_eq(o.m.type, DHCPDISCOVER);
	reply_init(&r, DHCPOFFER, o.m.xid, YI);
	reply_lease(&r, lease);
	send_reply(h, &r, IP4_BROADCAST, bcast_mac);
	next_dhcp(h, &o);
	ck_assert_uint_eq(o.m.type, DHCPREQUEST);
	reply_init(&r, DHCPACK, o.m.xid, YI);
	reply_lease(&r, lease);
	send_reply(h, &r, IP4_BROADCAST, bcast_mac);
	int64_t ack_at = h->now;
	expect_probes(h);
	h->ifp->arp_announces_left = 0;
	expect_no_dhcp(h);
	return ack_at;
}

START_TEST(full_exchange)
{
	struct harness h;
	struct sent o;
	struct reply r;
	dh_init(&h);
	ck_assert_uint_eq(h.ifp->ip4, 0);
	advance(&h, 0);
	/* RFC 2131 4.4.1: DISCOVER from 0.0.0.0 to the broadcast, asking for
	 * broadcast replies */
	next_dhcp(&h, &o);
	ck_assert_uint_eq(o.m.type, DHCPDISCOVER);
	ck_assert_mem_eq(o.eth_dst, bcast_mac, 6);
	ck_assert_uint_eq(o.src, 0);
	ck_assert_uint_eq(o.dst, IP4_BROADCAST);
	ck_assert_uint_eq(o.m.flags, DHCP_FLAG_BROADCAST);
	ck_assert_uint_eq(o.m.ciaddr, 0);
	ck_assert_uint_ge(o.len, 300);
	uint32_t xid = o.m.xid;

	reply_init(&r, DHCPOFFER, xid, YI);
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	/* RFC 2131 4.3.2: REQUEST with the server id and the offered address */
	next_dhcp(&h, &o);
	ck_assert_uint_eq(o.m.type, DHCPREQUEST);
	ck_assert_uint_eq(o.m.xid, xid);
	ck_assert_uint_eq(o.m.requested, YI);
	ck_assert_uint_eq(o.m.server_id, SRV);
	ck_assert_uint_eq(o.m.ciaddr, 0);
	ck_assert_uint_eq(o.dst, IP4_BROADCAST);
	ck_assert_uint_eq(h.ifp->ip4, 0); /* not yet */

	reply_init(&r, DHCPACK, xid, YI);
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	int64_t ack_at = h.now;
	expect_probes(&h);
	ck_assert_uint_eq(h.ifp->ip4, YI);
	ck_assert_int_eq(h.ifp->ip4_prefix, 24);
	struct sockaddr_in gw, dns;
	ck_assert_int_eq(net_default_gateway(&h.s, &gw), 0);
	ck_assert_uint_eq(ntohl(gw.sin_addr.s_addr), SRV);
	ck_assert_int_eq(net_dns_server(&h.s, &dns), 0);
	ck_assert_uint_eq(ntohl(dns.sin_addr.s_addr), DNS);
	ck_assert_uint_eq(count(&h, "dhcp.bound"), 1);
	drop_tx(&h);

	/* the user's view: a ping to the leased address is answered */
	harness_learn_peer(&h);
	uint8_t f[200];
	size_t n = build_icmp_frame(f, 8, SRV, YI, 7, 1, 32);
	inject(&h, f, n);
	struct pkt *p = expect_tx(&h);
	ck_assert_uint_eq(p->data[14 + 20], 0); /* echo reply */
	ck_assert_uint_eq(be32_get(p->data + 14 + 12), YI);
	pkt_free(p);

	/* tapctl dhcp */
	char buf[512] = "";
	FILE *out = fmemopen(buf, sizeof(buf), "w");
	ck_assert_int_eq(stack_report(&h.s, "dhcp", out), 0);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(buf, "dhcp BOUND lease 10.0.0.2/24 server 10.0.0.1 router 10.0.0.1 dns 10.0.0.53"));
	ck_assert_ptr_nonnull(strstr(buf, "t1 1800s t2 3150s"));
	ck_assert_int_eq(h.ifp->dhcp.t1_at, ack_at + S(1800)); /* from the ACK, not the probes' end */
	harness_fini(&h);
}
END_TEST

/* The times of the next k DHCP messages (or of the ARP request before
 * one), advancing 100 ms at a time. */
static void times_of(struct harness *h, int k, int64_t *at, struct sent *last)
{
	for (int i = 0; i < k; i++) {
		expect_no_dhcp(h); /* ARP replies left from the last one */
		int64_t guard = h->now + S(2000);
		while (testdev_sent_count(h->dev) == 0 && h->now < guard)
			advance(h, 100000);
		at[i] = h->now;
		next_dhcp(h, last);
	}
}

START_TEST(lost_offer_backoff)
{
	struct harness h;
	struct sent o;
	int64_t at[8];
	dh_init(&h);
	advance(&h, 0);
	next_dhcp(&h, &o);
	uint32_t xid = o.m.xid;
	int64_t prev = h.now;
	times_of(&h, 7, at, &o);
	/* RFC 2131 4.1: 4 s doubled each time up to 64 s, each +-1 s */
	const int64_t want[7] = { 4, 8, 16, 32, 64, 64, 64 };
	for (int i = 0; i < 7; i++) {
		int64_t d = at[i] - prev;
		ck_assert_msg(d >= S(want[i] - 1) && d <= S(want[i] + 1) + 100000,
			      "retransmission %d after %lld us, want %lld s +- 1 s", i + 1,
			      (long long)d, (long long)want[i]);
		prev = at[i];
	}
	ck_assert_uint_eq(o.m.type, DHCPDISCOVER);
	ck_assert_uint_eq(o.m.xid, xid);
	ck_assert_uint_gt(o.m.secs, 200); /* RFC 2131 2: seconds since the start */
	ck_assert_uint_eq(count(&h, "dhcp.retransmits"), 7);
	harness_fini(&h);
}
END_TEST

START_TEST(first_retransmission_four_seconds)
{
	struct harness h;
	struct sent o;
	int64_t at[1];
	dh_init(&h);
	advance(&h, 0);
	next_dhcp(&h, &o);
	times_of(&h, 1, at, &o);
	ck_assert_int_ge(at[0], S(3));
	ck_assert_int_le(at[0], S(5) + 100000);
	harness_fini(&h);
}
END_TEST

START_TEST(lost_ack_retransmits_then_init)
{
	struct harness h;
	struct sent o;
	struct reply r;
	int64_t at[4];
	dh_init(&h);
	advance(&h, 0);
	next_dhcp(&h, &o);
	uint32_t xid = o.m.xid;
	reply_init(&r, DHCPOFFER, xid, YI);
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	next_dhcp(&h, &o);
	ck_assert_uint_eq(o.m.type, DHCPREQUEST);
	int64_t prev = h.now;
	times_of(&h, 3, at, &o);
	const int64_t want[3] = { 4, 8, 16 };
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(o.m.type, DHCPREQUEST);
		int64_t d = at[i] - prev;
		ck_assert_msg(d >= S(want[i] - 1) && d <= S(want[i] + 1) + 100000, "REQUEST %d after %lld us",
			      i + 2, (long long)d);
		prev = at[i];
	}
	ck_assert_uint_eq(o.m.requested, YI);
	/* four REQUESTs unanswered: a new DISCOVER, a new xid */
	times_of(&h, 1, at, &o);
	ck_assert_uint_eq(o.m.type, DHCPDISCOVER);
	ck_assert_uint_ne(o.m.xid, xid);
	ck_assert_uint_eq(count(&h, "dhcp.request_timeouts"), 1);
	ck_assert_uint_eq(h.ifp->ip4, 0);
	harness_fini(&h);
}
END_TEST

START_TEST(nak_back_to_init)
{
	struct harness h;
	struct sent o;
	struct reply r;
	dh_init(&h);
	advance(&h, 0);
	next_dhcp(&h, &o);
	reply_init(&r, DHCPOFFER, o.m.xid, YI);
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	next_dhcp(&h, &o);
	uint32_t xid = o.m.xid;
	reply_init(&r, DHCPNAK, xid, 0);
	opt32(&r, 54, SRV);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	ck_assert_uint_eq(count(&h, "dhcp.nak"), 1);
	advance(&h, 0);
	next_dhcp(&h, &o);
	ck_assert_uint_eq(o.m.type, DHCPDISCOVER);
	ck_assert_uint_ne(o.m.xid, xid);
	ck_assert_uint_eq(h.ifp->ip4, 0);
	harness_fini(&h);
}
END_TEST

START_TEST(renew_at_t1_unicast)
{
	struct harness h;
	struct sent o;
	struct reply r;
	int64_t at[1];
	dh_init(&h);
	int64_t bound = dh_bind(&h, 1000);
	harness_learn_peer(&h); /* the server's MAC, for the unicast */
	times_of(&h, 1, at, &o);
	/* RFC 2131 4.4.5: T1 = 0.5 lease; REQUEST unicast to the server */
	ck_assert_int_ge(at[0] - bound, S(500));
	ck_assert_int_le(at[0] - bound, S(500) + 100000);
	ck_assert_uint_eq(o.m.type, DHCPREQUEST);
	ck_assert_uint_eq(o.src, YI);
	ck_assert_uint_eq(o.dst, SRV);
	ck_assert_mem_eq(o.eth_dst, t_mac_peer, 6);
	ck_assert_uint_eq(o.m.ciaddr, YI);
	ck_assert_uint_eq(o.m.server_id, 0);
	ck_assert_uint_eq(o.m.requested, 0);
	ck_assert_int_eq(h.ifp->dhcp.state, DHCP_RENEWING);
	/* the ACK, unicast to the address: a new lease from now */
	reply_init(&r, DHCPACK, o.m.xid, YI);
	reply_lease(&r, 1000);
	send_reply(&h, &r, YI, t_mac_host);
	ck_assert_int_eq(h.ifp->dhcp.state, DHCP_BOUND);
	ck_assert_int_eq(h.ifp->dhcp.t1_at, h.now + S(500));
	ck_assert_uint_eq(h.ifp->ip4, YI);
	struct sockaddr_in gw;
	ck_assert_int_eq(net_default_gateway(&h.s, &gw), 0);
	harness_fini(&h);
}
END_TEST

START_TEST(rebind_at_t2_then_expiry)
{
	struct harness h;
	struct sent o;
	int64_t at[8];
	dh_init(&h);
	int64_t bound = dh_bind(&h, 1000);
	harness_learn_peer(&h);
	/* RFC 2131 4.4.5: at T1 (500 s), then each time half the time left
	 * to T2 but no less than 60 s, then at T2 = 875 s */
	times_of(&h, 5, at, &o);
	const int64_t renew[5] = { S(500), S(687) + 500000, S(781) + 250000, S(841) + 250000, S(875) };
	for (int i = 0; i < 5; i++)
		ck_assert_msg(at[i] - bound >= renew[i] && at[i] - bound <= renew[i] + 100000,
			      "REQUEST %d at %lld us, want %lld", i + 1, (long long)(at[i] - bound),
			      (long long)renew[i]);
	/* RFC 2131 4.4.5: REBINDING: the REQUEST is broadcast */
	ck_assert_int_eq(h.ifp->dhcp.state, DHCP_REBINDING);
	ck_assert_uint_eq(o.m.type, DHCPREQUEST);
	ck_assert_uint_eq(o.dst, IP4_BROADCAST);
	ck_assert_uint_eq(o.src, YI);
	ck_assert_mem_eq(o.eth_dst, bcast_mac, 6);
	ck_assert_uint_eq(o.m.ciaddr, YI);
	ck_assert_uint_eq(h.ifp->ip4, YI); /* still ours */
	/* 125 s left: again after half of it, then after 60 s (the floor),
	 * then the lease is over */
	times_of(&h, 3, at, &o);
	const int64_t rebind[3] = { S(937) + 500000, S(997) + 500000, S(1000) };
	for (int i = 0; i < 3; i++)
		ck_assert_msg(at[i] - bound >= rebind[i] && at[i] - bound <= rebind[i] + 100000,
			      "message %d at %lld us, want %lld", i + 1, (long long)(at[i] - bound),
			      (long long)rebind[i]);
	/* RFC 2131 4.4.5: at the lease's end the address goes, and INIT */
	ck_assert_uint_eq(o.m.type, DHCPDISCOVER);
	ck_assert_uint_eq(h.ifp->ip4, 0);
	struct sockaddr_in gw;
	ck_assert_int_eq(net_default_gateway(&h.s, &gw), -ENETUNREACH);
	ck_assert_uint_eq(count(&h, "dhcp.lease_expired"), 1);
	/* a ping to the old address is no longer ours */
	uint8_t f[200];
	size_t n = build_icmp_frame(f, 8, SRV, YI, 7, 1, 32);
	inject(&h, f, n);
	expect_no_dhcp(&h);
	ck_assert_uint_eq(count(&h, "ip.not_for_us"), 1);
	harness_fini(&h);
}
END_TEST

/* RFC 5227 2.1.1, RFC 2131 4.4.1: another host answers the probe: the
 * address is declined, never used, and INIT comes after 10 s. */
START_TEST(probe_conflict_declines)
{
	struct harness h;
	struct sent o;
	struct reply r;
	dh_init(&h);
	advance(&h, 0);
	next_dhcp(&h, &o);
	reply_init(&r, DHCPOFFER, o.m.xid, YI);
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	next_dhcp(&h, &o);
	uint32_t xid = o.m.xid;
	reply_init(&r, DHCPACK, xid, YI);
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	ck_assert_int_eq(h.ifp->dhcp.state, DHCP_PROBING);
	/* the owner's ARP reply: 10.0.0.2 is at 02:00:00:00:00:77 */
	uint8_t f[60] = { 0 };
	static const uint8_t other[6] = { 2, 0, 0, 0, 0, 0x77 };
	memcpy(f, t_mac_host, 6);
	memcpy(f + 6, other, 6);
	be16_put(f + 12, 0x0806);
	struct arp_msg m = { .htype = 1, .ptype = 0x0800, .hlen = 6, .plen = 4, .op = ARP_OP_REPLY,
			     .spa = YI, .tpa = 0 };
	memcpy(m.sha, other, 6);
	memcpy(m.tha, t_mac_host, 6);
	arp_emit(&m, f + 14);
	inject(&h, f, sizeof(f));
	ck_assert_uint_eq(count(&h, "arp.probe_conflict"), 1);
	next_dhcp(&h, &o);
	ck_assert_uint_eq(o.m.type, DHCPDECLINE);
	ck_assert_uint_eq(o.m.requested, YI);
	ck_assert_uint_eq(o.m.server_id, SRV);
	ck_assert_uint_eq(o.m.ciaddr, 0);
	ck_assert_uint_eq(o.dst, IP4_BROADCAST);
	ck_assert_uint_eq(count(&h, "dhcp.declined"), 1);
	ck_assert_uint_eq(h.ifp->ip4, 0);
	ck_assert_int_eq(h.ifp->dhcp.state, DHCP_INIT);
	/* no address, no route, no more probes; a DISCOVER 10 s later */
	struct sockaddr_in gw;
	ck_assert_int_eq(net_default_gateway(&h.s, &gw), -ENETUNREACH);
	advance(&h, S(10) - 1);
	expect_no_tx(&h);
	advance(&h, 1);
	next_dhcp(&h, &o);
	ck_assert_uint_eq(o.m.type, DHCPDISCOVER);
	ck_assert_uint_ne(o.m.xid, xid);
	harness_fini(&h);
}
END_TEST

START_TEST(release_on_shutdown)
{
	struct harness h;
	struct sent o;
	dh_init(&h);
	dh_bind(&h, 3600);
	harness_learn_peer(&h);
	dhcp_release(&h.s, h.ifp);
	next_dhcp(&h, &o);
	/* RFC 2131 4.4.6: RELEASE to the server, ciaddr and server id */
	ck_assert_uint_eq(o.m.type, DHCPRELEASE);
	ck_assert_uint_eq(o.dst, SRV);
	ck_assert_uint_eq(o.m.ciaddr, YI);
	ck_assert_uint_eq(o.m.server_id, SRV);
	ck_assert_mem_eq(o.eth_dst, t_mac_peer, 6);
	ck_assert_uint_eq(h.ifp->ip4, 0);
	ck_assert_int_eq(h.ifp->dhcp.state, DHCP_RELEASED);
	advance(&h, S(5000));
	expect_no_dhcp(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(wrong_xid_ignored)
{
	struct harness h;
	struct sent o;
	struct reply r;
	dh_init(&h);
	advance(&h, 0);
	next_dhcp(&h, &o);
	reply_init(&r, DHCPOFFER, o.m.xid + 1, YI);
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	expect_no_dhcp(&h);
	ck_assert_uint_eq(count(&h, "dhcp.wrong_xid"), 1);
	ck_assert_int_eq(h.ifp->dhcp.state, DHCP_SELECTING);
	/* another client's reply (its MAC in chaddr) */
	reply_init(&r, DHCPOFFER, o.m.xid, YI);
	r.b[28 + 5] ^= 1;
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	expect_no_dhcp(&h);
	ck_assert_uint_eq(count(&h, "dhcp.wrong_chaddr"), 1);
	/* an ACK while SELECTING */
	reply_init(&r, DHCPACK, o.m.xid, YI);
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	ck_assert_uint_eq(count(&h, "dhcp.unexpected"), 1);
	ck_assert_uint_eq(h.ifp->ip4, 0);
	harness_fini(&h);
}
END_TEST

/* Each malformed OFFER is dropped under its counter; none makes a REQUEST. */
START_TEST(malformed_dropped)
{
	struct harness h;
	struct sent o;
	struct reply r;
	dh_init(&h);
	advance(&h, 0);
	next_dhcp(&h, &o);
	uint32_t xid = o.m.xid;

	reply_init(&r, DHCPOFFER, xid, YI); /* bad cookie */
	reply_lease(&r, 3600);
	r.b[236] = 0;
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	ck_assert_uint_eq(count(&h, "dhcp.bad_cookie"), 1);

	reply_init(&r, DHCPOFFER, xid, YI); /* an option running past the end */
	reply_lease(&r, 3600);
	r.b[r.n++] = 6;
	r.b[r.n++] = 200;
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	ck_assert_uint_eq(count(&h, "dhcp.bad_option"), 1);

	reply_init(&r, DHCPOFFER, xid, YI); /* a lease of 3 bytes */
	r.b[r.n++] = 51;
	r.b[r.n++] = 3;
	r.n += 3;
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	ck_assert_uint_eq(count(&h, "dhcp.bad_option"), 2);

	reply_init(&r, DHCPOFFER, xid, YI); /* a mask with a hole */
	reply_lease(&r, 3600);
	opt32(&r, 1, 0xff00ff00u);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	ck_assert_uint_eq(count(&h, "dhcp.bad_mask"), 1);

	reply_init(&r, DHCPOFFER, xid, YI); /* no message type: BOOTP */
	r.n = 240;
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	ck_assert_uint_eq(count(&h, "dhcp.no_type"), 1);

	reply_init(&r, DHCPOFFER, xid, YI); /* no server identifier */
	opt32(&r, 51, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	ck_assert_uint_eq(count(&h, "dhcp.no_server_id"), 1);

	reply_init(&r, DHCPOFFER, xid, 0xffffffffu); /* the broadcast as an address */
	reply_lease(&r, 3600);
	send_reply(&h, &r, IP4_BROADCAST, bcast_mac);
	ck_assert_uint_eq(count(&h, "dhcp.bad_yiaddr"), 1);

	/* shorter than the header and cookie */
	uint8_t payload[8 + 100] = { 0, 67, 0, 68, 0, 108, 0, 0 };
	uint8_t f[300];
	size_t n = build_ipv4_frame(f, bcast_mac, t_mac_peer, SRV, IP4_BROADCAST, IP_PROTO_UDP,
				    payload, sizeof(payload));
	inject(&h, f, n);
	ck_assert_uint_eq(count(&h, "dhcp.short"), 1);

	expect_no_dhcp(&h);
	ck_assert_int_eq(h.ifp->dhcp.state, DHCP_SELECTING);
	ck_assert_uint_eq(count(&h, "dhcp.rx"), 2); /* the two that parsed, then failed a rule */
	harness_fini(&h);
}
END_TEST

/* RFC 2132 9.3: with overload 1, options in the file field count too. */
START_TEST(codec_overload)
{
	uint8_t b[300] = { 2, 1, 6 };
	be32_put(b + 236, DHCP_COOKIE);
	size_t n = 240;
	b[n++] = 52, b[n++] = 1, b[n++] = 3;  /* file and sname */
	b[n++] = 53, b[n++] = 1, b[n++] = DHCPACK;
	b[n++] = 255;
	/* file (108): the lease; sname (44): the server id */
	b[108] = 51, b[109] = 4;
	be32_put(b + 110, 7200);
	b[114] = 255;
	b[44] = 54, b[45] = 4;
	be32_put(b + 46, SRV);
	b[50] = 255;
	struct dhcp_msg m;
	ck_assert_ptr_null(dhcp_parse(b, n, &m));
	ck_assert_uint_eq(m.type, DHCPACK);
	ck_assert(m.has_lease);
	ck_assert_uint_eq(m.lease, 7200);
	ck_assert_uint_eq(m.server_id, SRV);
	/* an overload inside the overloaded file field is refused */
	b[115] = 52, b[116] = 1, b[117] = 1;
	b[114] = 0;
	b[118] = 255;
	ck_assert_str_eq(dhcp_parse(b, n, &m), "dhcp.bad_option");
	/* without the overload option, the file field is a file name */
	memset(b + 240, 0, 3);
	ck_assert_ptr_null(dhcp_parse(b, n, &m));
	ck_assert(!m.has_lease);
}
END_TEST

/* dhcp_emit's bytes read back by dhcp_parse (the options the client writes). */
START_TEST(codec_round_trip)
{
	struct dhcp_msg m = { .op = 1, .type = DHCPREQUEST, .xid = 0x01020304, .secs = 9,
			      .flags = DHCP_FLAG_BROADCAST, .requested = YI, .server_id = SRV };
	memcpy(m.chaddr, t_mac_host, 6);
	uint8_t b[DHCP_MSG_MAX];
	size_t n = dhcp_emit(&m, b, sizeof(b));
	ck_assert_uint_eq(n, 300);
	ck_assert_uint_eq(b[240], 53);
	struct dhcp_msg p;
	ck_assert_ptr_null(dhcp_parse(b, n, &p));
	ck_assert_uint_eq(p.xid, 0x01020304);
	ck_assert_uint_eq(p.secs, 9);
	ck_assert_uint_eq(p.flags, DHCP_FLAG_BROADCAST);
	ck_assert_uint_eq(p.type, DHCPREQUEST);
	ck_assert_uint_eq(p.requested, YI);
	ck_assert_uint_eq(p.server_id, SRV);
	ck_assert_uint_eq(dhcp_emit(&m, b, 100), 0);
}
END_TEST

/* Random bytes and random cuts of a good message: parse never reads past
 * len (ASan would say) and never crashes. */
START_TEST(codec_hostile_bytes)
{
	struct rng r;
	rng_seed(&r, 7);
	uint8_t b[600];
	struct dhcp_msg m;
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)rng_below(&r, sizeof(b) + 1);
		uint8_t *buf = malloc(n ? n : 1);
		rng_fill(&r, buf, n);
		if (n >= 240 && (i & 1))
			be32_put(buf + 236, DHCP_COOKIE), buf[1] = 1, buf[2] = 6;
		(void)dhcp_parse(buf, n, &m);
		free(buf);
	}
}
END_TEST

/* Replies with the client's xid and MAC but random types and options, in
 * whatever state they lead to: never a crash or a leaked buffer, and the
 * interface's address is always the lease's (or none). */
START_TEST(hostile_replies_any_state)
{
	struct harness h;
	struct rng r;
	rng_seed(&r, 11);
	dh_init(&h);
	dh_bind(&h, 600);
	for (int i = 0; i < 3000; i++) {
		struct reply rp;
		reply_init(&rp, (uint8_t)(1 + rng_below(&r, 8)), h.ifp->dhcp.xid,
			   rng_chance(&r, 0.5) ? YI : (uint32_t)rng_next(&r));
		if (rng_chance(&r, 0.5)) /* often well formed, so states move */
			reply_lease(&rp, (uint32_t)rng_below(&r, 2000));
		size_t n = rng_chance(&r, 0.5) ? 0 : (size_t)rng_below(&r, 60);
		for (size_t k = 0; k < n; k++) /* codes mostly among those read */
			rp.b[rp.n++] = rng_chance(&r, 0.5) ? (uint8_t)rng_below(&r, 60) : (uint8_t)rng_next(&r);
		send_reply(&h, &rp, IP4_BROADCAST, bcast_mac);
		advance(&h, (int64_t)rng_below(&r, S(20)));
		drop_tx(&h);
		const struct dhcp_client *c = &h.ifp->dhcp;
		if (c->state >= DHCP_BOUND && c->state <= DHCP_REBINDING)
			ck_assert_uint_eq(h.ifp->ip4, c->addr);
		else
			ck_assert_uint_eq(h.ifp->ip4, 0);
		ck_assert_int_ne(c->state, DHCP_OFF);
	}
	ck_assert_uint_gt(count(&h, "dhcp.rx"), 100);
	harness_fini(&h);
}
END_TEST

Suite *dhcp_suite(void)
{
	Suite *s = suite_create("dhcp");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, full_exchange);
	tcase_add_test(tc, first_retransmission_four_seconds);
	tcase_add_test(tc, lost_offer_backoff);
	tcase_add_test(tc, lost_ack_retransmits_then_init);
	tcase_add_test(tc, nak_back_to_init);
	tcase_add_test(tc, renew_at_t1_unicast);
	tcase_add_test(tc, rebind_at_t2_then_expiry);
	tcase_add_test(tc, probe_conflict_declines);
	tcase_add_test(tc, release_on_shutdown);
	tcase_add_test(tc, wrong_xid_ignored);
	tcase_add_test(tc, malformed_dropped);
	tcase_add_test(tc, codec_overload);
	tcase_add_test(tc, codec_round_trip);
	tcase_add_test(tc, codec_hostile_bytes);
	tcase_add_test(tc, hostile_replies_any_state);
	suite_add_tcase(s, tc);
	return s;
}

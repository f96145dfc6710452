/* SYN floods and blind attacks on TCP, driven segment by segment on
 * virtual time: the SYN queue apart from the accept backlog (RFC 4987 3.4),
 * SYN cookies (RFC 4987 3.6) with the options they carry, forged and stale
 * cookies, and the per-connection limits on challenge ACKs and ACKs to
 * out-of-window segments (RFC 5961 7, CVE-2016-5696). Each test checks
 * what a user sees: a handshake that completes, bytes that arrive,
 * segments on the wire, counters that move. */
#include <check.h>
#include <string.h>

#include "ip/ipv4.h"
#include "stack/host.h"
#include "stack/net.h"
#include "stack/rng.h"
#include "stack/socket.h"
#include "stack/stack.h"
#include "tests/tcp_harness.h"

/* SEG(...) gives defaults (ports, window) that a test overrides on purpose */
#pragma GCC diagnostic ignored "-Woverride-init"

#define SYN TCP_FLAG_SYN
#define ACK TCP_FLAG_ACK
#define RST TCP_FLAG_RST

#define FLOOD_NET 0xc6120000u /* 198.18.0.0/15 (RFC 2544's benchmark range), via the gateway */

static uint64_t count(struct tcp_harness *t, const char *name)
{
	return stats_get(&t->h.s.stats, name);
}

/* The host's connection to the peer 10.0.0.1:rport, or NULL. */
static struct tcb *conn(struct tcp_harness *t, uint16_t rport)
{
	struct ipaddr l = ipaddr_v4(TH_HOST_IP), r = ipaddr_v4(TH_PEER_IP);
	return tcp_lookup(&t->h.s, &l, TH_HOST_PORT, &r, rport);
}

/* Injects seg as if from src (any address: the frame comes from the
 * gateway's MAC, as a spoofed one would). */
static void inject_from(struct tcp_harness *t, uint32_t src, struct tcp_seg seg)
{
	uint8_t tcp[128], frame[256];
	size_t hl = tcp_emit(&seg, tcp);
	struct ipaddr s = ipaddr_v4(src), d = ipaddr_v4(TH_HOST_IP);
	tcp_set_checksum(&s, &d, tcp, hl);
	size_t n = build_ipv4_frame(frame, t_mac_host, t_mac_peer, src, TH_HOST_IP, IP_PROTO_TCP,
				    tcp, hl);
	inject(&t->h, frame, n);
}

/* A spoofed SYN flood: n SYNs to the listener from random addresses of
 * 198.18.0.0/15 and random ports, none ever answering; what the host
 * sends back is thrown away. */
static void flood(struct tcp_harness *t, int n, uint64_t seed)
{
	struct rng r;
	rng_seed(&r, seed);
	for (int i = 0; i < n; i++) {
		uint32_t src = FLOOD_NET | (uint32_t)rng_below(&r, 1u << 17);
		inject_from(t, src, SEG(.sport = (uint16_t)(1024 + rng_below(&r, 60000)), .flags = SYN,
					.seq = (uint32_t)rng_next(&r),
					.opt = { .mss_ok = true, .mss = 1460 }));
		if (i % 64 == 63)
			drop_tx(&t->h);
	}
	drop_tx(&t->h);
}

/* The peer's SYN from sport with options o; returns the SYN-ACK in *out. */
static void syn_synack(struct tcp_harness *t, uint16_t sport, struct tcp_opts o, struct tcp_seg *out)
{
	th_inject(t, SEG(.sport = sport, .flags = SYN, .seq = t->irs, .opt = o));
	th_expect(t, out);
	ck_assert_uint_eq(out->flags, SYN | ACK);
	ck_assert_uint_eq(out->dport, sport);
	ck_assert_uint_eq(out->ack, t->irs + 1);
}

/* A whole peer's SYN: MSS 1460, window scale 7, SACK-permitted, timestamps. */
static const struct tcp_opts full_opts = { .mss_ok = true, .mss = 1460, .ws_ok = true, .ws = 7,
					   .sack_perm = true, .ts_ok = true, .tsval = 777 };

/* ---- the SYN queue and cookies under a flood ---------------------------- */

/* Thousands of spoofed SYNs fill the SYN queue (never the accept backlog
 * of 8), then every further SYN gets a cookie; a real client's handshake
 * still completes through its cookie, its data arrives byte for byte, and
 * the host's answer reaches it. */
START_TEST(test_syn_flood_real_client_gets_through)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	flood(&t, 3000, 1);
	ck_assert_int_eq(lp->listen.naccept, 0);

	struct tcp_seg out;
	syn_synack(&t, TH_PEER_PORT, full_opts, &out);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT)); /* a cookie: no state kept */
	uint32_t iss = out.seq;
	ck_assert(out.opt.ts_ok);
	ck_assert_uint_eq(out.opt.tsecr, 777);
	static const uint8_t hello[] = "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n";
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = iss + 1, .wnd = 1000,
			  .data = hello, .len = sizeof(hello) - 1,
			  .opt = { .ts_ok = true, .tsval = 778, .tsecr = out.opt.tsval }));
	ck_assert_uint_eq(count(&t, "tcp.syncookies_ok"), 1);
	struct tcb *c = conn(&t, TH_PEER_PORT);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->state, TCP_ESTABLISHED);
	ck_assert_ptr_eq(tcp_accept_dequeue(lp), c);
	int fd = th_socket(&t, c);
	uint8_t buf[128];
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), (ssize_t)(sizeof(hello) - 1));
	ck_assert_mem_eq(buf, hello, sizeof(hello) - 1);
	drop_tx(&t.h); /* the ACK of the request */
	ck_assert_int_eq(net_send(fd, "HTTP/1.1 200 OK\r\n", 17, 0), 17);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.dport, TH_PEER_PORT);
	ck_assert_uint_eq(out.seq, iss + 1);
	ck_assert_uint_eq(out.ack, t.irs + 1 + sizeof(hello) - 1);
	ck_assert_uint_eq(out.len, 17);
	ck_assert_mem_eq(out.data, "HTTP/1.1 200 OK\r\n", 17);
	/* the listener, a full SYN queue, the client's connection */
	ck_assert_uint_eq(t.h.s.tcp.count, 1 + 1024 + 1);
	ck_assert_uint_ge(count(&t, "tcp.syn_queue_full"), 3000 - 1024 + 1);
	ck_assert_uint_eq(count(&t, "tcp.syncookies_sent"), count(&t, "tcp.syn_queue_full"));
	th_fini(&t);
}
END_TEST

/* A cookie gives the connection back the options of the SYN: the MSS as
 * the largest entry of its table not above the peer's, and with
 * timestamps the window scale and SACK-permitted; without timestamps the
 * SYN-ACK offers neither and the connection has neither (RFC 4987 3.6). */
START_TEST(test_syn_cookie_restores_options)
{
	static const struct {
		struct tcp_opts syn;
		uint16_t mss;
		bool ws, sack, ts;
		uint8_t snd_wscale;
	} cases[] = {
		{ { .mss_ok = true, .mss = 1460, .ws_ok = true, .ws = 7, .sack_perm = true,
		    .ts_ok = true, .tsval = 1 }, 1460, true, true, true, 7 },
		{ { .mss_ok = true, .mss = 1400, .ws_ok = true, .ws = 9, .sack_perm = true,
		    .ts_ok = true, .tsval = 1 }, 1220, true, true, true, 9 },
		{ { .mss_ok = true, .mss = 9000, .ws_ok = true, .ws = 20, .ts_ok = true,
		    .tsval = 1 }, 1460, true, false, true, 14 },
		{ { .mss_ok = true, .mss = 1440, .sack_perm = true, .ts_ok = true, .tsval = 1 },
		  1440, false, true, true, 0 },
		{ { .mss_ok = true, .mss = 1460, .ws_ok = true, .ws = 7, .sack_perm = true },
		  1460, false, false, false, 0 },
		{ { .ts_ok = true, .tsval = 1 }, 536, false, false, true, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tcp_harness t;
		th_init(&t);
		struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
		flood(&t, 1100, 2);
		struct tcp_seg out;
		syn_synack(&t, TH_PEER_PORT, cases[i].syn, &out);
		ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
		ck_assert_uint_eq(out.opt.ws_ok, cases[i].ws);
		ck_assert_uint_eq(out.opt.sack_perm, cases[i].sack);
		ck_assert_uint_eq(out.opt.ts_ok, cases[i].ts);
		struct tcp_seg ack = SEG(.flags = ACK, .seq = t.irs + 1, .ack = out.seq + 1);
		if (cases[i].ts)
			ack.opt = (struct tcp_opts){ .ts_ok = true, .tsval = 2, .tsecr = out.opt.tsval };
		th_advance(&t, 30000);
		th_inject(&t, ack);
		struct tcb *c = conn(&t, TH_PEER_PORT);
		ck_assert_msg(c != NULL, "case %zu: no connection from the cookie", i);
		ck_assert_int_eq(c->state, TCP_ESTABLISHED);
		ck_assert_uint_eq(c->opt.snd_mss, cases[i].mss);
		ck_assert_uint_eq(c->opt.ws_ok, cases[i].ws);
		ck_assert_uint_eq(c->opt.snd_wscale, cases[i].snd_wscale);
		ck_assert_uint_eq(c->opt.rcv_wscale, cases[i].ws ? out.opt.ws : 0);
		ck_assert_uint_eq(c->opt.sack_ok, cases[i].sack);
		ck_assert_uint_eq(c->opt.ts_ok, cases[i].ts);
		ck_assert_int_eq(c->rtt.valid, false); /* no RTT sample from the cookie's clock */
		ck_assert_ptr_eq(tcp_accept_dequeue(lp), c);
		th_fini(&t);
	}
}
END_TEST

/* A forged cookie (a wrong ACK number, or the right one for another ISN
 * of the peer) and a stale one (older than two 64-second periods) make no
 * connection: the ACK is answered with a RST, as any ACK to a listener. */
START_TEST(test_syn_cookie_forged_and_stale_rejected)
{
	struct tcp_harness t;
	th_init(&t);
	th_tcb_in_state(&t, TCP_LISTEN);
	t.h.s.tcp.syncookies = TCP_SYNCOOKIES_ALWAYS;
	struct tcp_seg out;
	syn_synack(&t, TH_PEER_PORT, full_opts, &out);
	uint32_t cookie = out.seq;
	ck_assert_uint_eq(t.h.s.tcp.count, 1);

	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = cookie + 2));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, RST);
	ck_assert_uint_eq(out.seq, cookie + 2);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 2, .ack = cookie + 1));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, RST);
	ck_assert_uint_eq(count(&t, "tcp.syncookies_failed"), 2);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));

	/* 130 s later (cookies still being sent to others) it is stale */
	th_advance(&t, 130 * 1000000LL);
	harness_learn_peer(&t.h); /* the peer's MAC again (its ARP entry expired) */
	syn_synack(&t, TH_PEER_PORT + 1, full_opts, &out);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = cookie + 1));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, RST);
	ck_assert_uint_eq(count(&t, "tcp.syncookies_failed"), 3);
	ck_assert_uint_eq(count(&t, "tcp.syncookies_ok"), 0);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	ck_assert_uint_eq(t.h.s.tcp.count, 1);
	th_fini(&t);
}
END_TEST

/* Without cookies (--syncookies never) a full SYN queue makes room by
 * freeing its oldest half-open connection (RFC 4987 3.4), so a new
 * client is still answered and completes. */
START_TEST(test_syn_queue_evicts_oldest)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	t.h.s.tcp.syncookies = TCP_SYNCOOKIES_NEVER;
	t.h.s.tcp.syn_backlog = 4;
	struct tcp_seg out;
	for (uint16_t i = 0; i < 4; i++) {
		syn_synack(&t, (uint16_t)(TH_PEER_PORT + 1 + i), full_opts, &out);
		th_advance(&t, 1000);
	}
	ck_assert_uint_eq(t.h.s.tcp.synq_len, 4);
	syn_synack(&t, TH_PEER_PORT, full_opts, &out);
	ck_assert_uint_eq(count(&t, "tcp.syn_queue_full"), 1);
	ck_assert_uint_eq(count(&t, "tcp.syn_evicted"), 1);
	ck_assert_uint_eq(count(&t, "tcp.syncookies_sent"), 0);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT + 1)); /* the oldest */
	ck_assert_ptr_nonnull(conn(&t, TH_PEER_PORT + 2));
	ck_assert_uint_eq(t.h.s.tcp.synq_len, 4);
	ck_assert_int_eq(lp->listen.nsyn, 4);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = out.seq + 1,
			  .opt = { .ts_ok = true, .tsval = 800, .tsecr = out.opt.tsval }));
	ck_assert_int_eq(conn(&t, TH_PEER_PORT)->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(t.h.s.tcp.synq_len, 3);
	ck_assert_int_eq(lp->listen.naccept, 1);
	th_fini(&t);
}
END_TEST

/* ---- RFC 5961 7: challenge ACKs, per connection ------------------------- */

/* CVE-2016-5696: spoofed RSTs on connection B must not spend the
 * challenge ACKs connection A needs, or the count tells a blind attacker
 * that B's 4-tuple exists. */
START_TEST(test_challenge_ack_not_spent_by_other_connection)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);
	struct tcb *a = th_tcb_in_state(&t, TCP_ESTABLISHED);
	th_tcb_in_state(&t, TCP_LISTEN);
	th_advance(&t, 5000000);
	uint16_t bport = TH_PEER_PORT + 1;
	syn_synack(&t, bport, (struct tcp_opts){ .mss_ok = true, .mss = 1460 }, &out);
	uint32_t biss = out.seq;
	th_inject(&t, SEG(.sport = bport, .flags = ACK, .seq = t.irs + 1, .ack = biss + 1));
	struct tcb *b = conn(&t, bport);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(b->state, TCP_ESTABLISHED);
	th_expect_none(&t);

	/* 50 RSTs in B's window, not at rcv.nxt: B answers the first */
	for (int i = 0; i < 50; i++)
		th_inject(&t, SEG(.sport = bport, .flags = RST, .seq = t.irs + 100 + (uint32_t)i));
	size_t acks_b = testdev_sent_count(t.h.dev);
	for (size_t i = 0; i < acks_b; i++) {
		th_expect(&t, &out);
		ck_assert_uint_eq(out.dport, bport);
		ck_assert_uint_eq(out.flags, ACK);
	}
	ck_assert_int_eq(b->state, TCP_ESTABLISHED);
	/* A's own challenge ACK still goes */
	th_inject(&t, SEG(.flags = RST, .seq = t.irs + 100));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.dport, TH_PEER_PORT);
	ck_assert_uint_eq(out.flags, ACK);
	ck_assert_uint_eq(out.seq, t.iss + 1);
	ck_assert_uint_eq(out.ack, t.irs + 1);
	ck_assert_int_eq(a->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(acks_b, 1); /* B's own limit: one per 500 ms */
	ck_assert_uint_eq(count(&t, "tcp.challenge_acks"), 2);
	th_fini(&t);
}
END_TEST

/* RFC 7323 5.3 and RFC 9293 3.10.7.4: the ACKs for PAWS-rejected segments
 * without data share the connection's limit (one per 500 ms); one that
 * carries data is always answered (a real sender retransmitting needs
 * it). */
START_TEST(test_paws_acks_limited_per_connection)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	tp->opt.ts_ok = true;
	tp->opt.ts_recent = 1000;
	th_advance(&t, 5000000);
	tp->opt.ts_recent_time = t.h.s.now;
	for (int i = 0; i < 20; i++)
		th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1,
				  .opt = { .ts_ok = true, .tsval = 900 }));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, ACK);
	th_expect_none(&t);
	ck_assert_uint_eq(count(&t, "tcp.paws_rejected"), 20);
	ck_assert_uint_eq(count(&t, "tcp.oow_ack_limited"), 19);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 10,
			  .opt = { .ts_ok = true, .tsval = 900 }));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.ack, t.irs + 1);
	th_advance(&t, TCP_OOW_ACK_INTERVAL_US);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1,
			  .opt = { .ts_ok = true, .tsval = 900 }));
	th_expect(&t, &out);
	th_expect_none(&t);
	th_fini(&t);
}
END_TEST

/* The flags: --syn-backlog, --syncookies and --challenge-acks parsed,
 * bad values refused, and applied to the host. */
START_TEST(test_syn_flags)
{
	struct host_opts o;
	char *argv[] = { "prog", "--syn-backlog", "16", "--syncookies", "never",
			 "--challenge-acks", "50", "--syn-backlog", "0", "--syncookies", "maybe",
			 "--challenge-acks", "x" };
	int argc = (int)(sizeof(argv) / sizeof(argv[0]));

	host_opts_init(&o);
	for (int i = 1; i < 7; i += 2) {
		int j = i;
		ck_assert_int_eq(host_opts_parse(&o, "prog", argc, argv, &j), 1);
		ck_assert_int_eq(j, i + 1);
	}
	for (int i = 7; i < argc; i += 2) {
		int j = i;
		ck_assert_int_eq(host_opts_parse(&o, "prog", argc, argv, &j), -1);
	}
	struct tcp_harness t;
	th_init(&t);
	ck_assert_uint_eq(t.h.s.tcp.syn_backlog, 1024);
	ck_assert_int_eq(t.h.s.tcp.syncookies, TCP_SYNCOOKIES_AUTO);
	host_opts_apply(&o, &t.h.s);
	ck_assert_uint_eq(t.h.s.tcp.syn_backlog, 16);
	ck_assert_int_eq(t.h.s.tcp.syncookies, TCP_SYNCOOKIES_NEVER);
	ck_assert_uint_eq(t.h.s.tcp.challenge_acks, 50);
	th_fini(&t);
}
END_TEST

Suite *tcp_syn_suite(void)
{
	Suite *s = suite_create("tcp_syn");
	TCase *tc = tcase_create("syn_flood");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_syn_flood_real_client_gets_through);
	tcase_add_test(tc, test_syn_cookie_restores_options);
	tcase_add_test(tc, test_syn_cookie_forged_and_stale_rejected);
	tcase_add_test(tc, test_syn_queue_evicts_oldest);
	tcase_add_test(tc, test_syn_flags);
	suite_add_tcase(s, tc);
	tc = tcase_create("challenge");
	tcase_add_test(tc, test_challenge_ack_not_spent_by_other_connection);
	tcase_add_test(tc, test_paws_acks_limited_per_connection);
	suite_add_tcase(s, tc);
	return s;
}

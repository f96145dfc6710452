/* TCP sending (tcp_output.c, tcp_ack.c, tcp_sack.c, tcp_cc.c), script style: a control block in a
 * state, bytes queued in its send ring, then the exact segments the host
 * sends. Segmentation at the MSS, the usable window min(snd_wnd, cwnd),
 * Nagle, sender and receiver SWS avoidance, the FIN after the data, the
 * options of our SYN (laid out as Linux's) and SYN-ACK, window scaling,
 * RFC 6298 RTT arithmetic, Karn, timestamps, the send ring freed by ACKs,
 * fast retransmit, RSTs, challenge ACK limits, Reno's arithmetic, and a
 * connection whose sequence numbers wrap around 2^32. */
#include <check.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <string.h>

#include "ip/ipv4.h"
#include "link/eth.h"
#include "stack/byteorder.h"
#include "stack/host.h"
#include "stack/net.h"
#include "stack/socket.h"
#include "tests/tcp_harness.h"

#define MSS 1460

static uint64_t counter(struct tcp_harness *t, const char *name)
{
	return stats_get(&t->h.s.stats, name);
}

/* ---- segmentation, windows, Nagle, SWS ------------------------------------ */

START_TEST(segments_at_mss_then_nagle_holds_the_tail)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	th_queue(tp, 4000);
	ck_assert_int_eq(tcp_output(tp), 0);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	ck_assert_uint_eq(out.ack, t.irs + 1);
	ck_assert_uint_eq(out.wnd, 65535);
	ck_assert_uint_eq(t.last_ip_frag, IPV4_FLAG_DF); /* RFC 1191 3: DF on TCP segments */
	th_expect_seg(&t, &out, 1 + MSS, MSS, TCP_FLAG_ACK);
	/* RFC 896: the 1080-byte tail waits while data is unacknowledged */
	th_expect_none(&t);
	ck_assert_uint_eq(tp->snd.nxt, t.iss + 1 + 2 * MSS);
	ck_assert_uint_eq(tp->snd.max, tp->snd.nxt);
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + 1000000); /* RFC 6298 5.1 */
	/* half acknowledged: still data in flight, still held */
	th_peer_ack(&t, tp, 1 + MSS, 65535);
	th_expect_none(&t);
	ck_assert_uint_eq(tp->sndbuf.len, 4000 - MSS);
	/* all acknowledged: the tail goes, with PSH as it empties the queue */
	th_peer_ack(&t, tp, 1 + 2 * MSS, 65535);
	th_expect_seg(&t, &out, 1 + 2 * MSS, 1080, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.retransmits"), 0);
	th_fini(&t);
}
END_TEST

START_TEST(nodelay_sends_small_segments_at_once)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	/* Nagle on: the first small write goes (nothing in flight), the second waits */
	th_queue(tp, 10);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, 10, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_queue(tp, 20);
	tcp_output(tp);
	th_expect_none(&t);
	th_peer_ack(&t, tp, 11, 65535);
	th_expect_seg(&t, &out, 11, 20, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_peer_ack(&t, tp, 31, 65535);
	/* TCP_NODELAY: each small write goes at once */
	tp->nodelay = true;
	th_queue(tp, 10);
	tcp_output(tp);
	th_expect_seg(&t, &out, 31, 10, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_queue(tp, 20);
	tcp_output(tp);
	th_expect_seg(&t, &out, 41, 20, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_expect_none(&t);
	th_fini(&t);
}
END_TEST

START_TEST(usable_window_is_min_of_snd_wnd_and_cwnd)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	/* cwnd limits: two segments */
	tp->cwnd = 2 * MSS;
	th_queue(tp, 10 * MSS);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + MSS, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	/* the peer's window limits: ACK of one segment, window 2000, cwnd
	 * grows to 3 MSS in slow start, but only 2000 - 1460 = 540 bytes are
	 * usable: a silly segment, held (SWS) while data is in flight */
	th_peer_ack(&t, tp, 1 + MSS, 2000);
	ck_assert_uint_eq(tp->cwnd, 3 * MSS);
	ck_assert_uint_eq(tp->snd.wnd, 2000);
	th_expect_none(&t);
	/* the window opens: the peer's window, not cwnd, held the flight to
	 * one segment, so cwnd stays 3 MSS (RFC 7661 4.3, RFC 9438 5.8: a flow
	 * that does not use its window does not grow it); 3 segments go */
	th_peer_ack(&t, tp, 1 + 2 * MSS, 65535);
	ck_assert_uint_eq(tp->cwnd, 3 * MSS);
	ck_assert_uint_eq(counter(&t, "tcp.cwnd_not_limited"), 1);
	for (uint32_t i = 0; i < 3; i++)
		th_expect_seg(&t, &out, 1 + (2 + i) * MSS, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	th_fini(&t);
}
END_TEST

START_TEST(sender_sws_half_the_max_window_and_override)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	/* a peer with a small buffer: 1000 bytes is all it offers; a segment of
	 * at least half its largest window may go (RFC 1122 4.2.3.4 (3)) */
	tp->snd.wnd = 1000;
	th_queue(tp, 5000);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, 1000, TCP_FLAG_ACK);
	th_expect_none(&t);
	/* it acknowledges and offers 300: less than half of 1000, not all the
	 * queued data: held, though nothing is in flight... */
	th_peer_ack(&t, tp, 1001, 300);
	th_expect_none(&t);
	ck_assert_int_eq(tp->timer.rexmt, TCP_NO_TIMER);
	/* ...until the override (persist) timer, one RTO later */
	ck_assert_int_eq(tp->timer.persist, t.h.now + 1000000);
	th_advance(&t, 999999);
	th_expect_none(&t);
	th_advance(&t, 1);
	th_expect_seg(&t, &out, 1001, 300, TCP_FLAG_ACK);
	th_expect_none(&t);
	ck_assert_int_eq(tp->timer.persist, TCP_NO_TIMER);
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + 1000000);
	/* a 500-byte window is half the largest one: sent at once */
	th_peer_ack(&t, tp, 1301, 500);
	th_expect_seg(&t, &out, 1301, 500, TCP_FLAG_ACK);
	th_fini(&t);
}
END_TEST

/* ---- FIN ------------------------------------------------------------------- */

START_TEST(fin_after_data_in_fin_wait_1_and_retransmitted)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	/* ESTABLISHED never sends a FIN, even with fin_queued */
	th_queue(tp, 100);
	tp->fin_queued = true;
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, 100, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_expect_none(&t);
	th_peer_ack(&t, tp, 101, 65535);
	/* the app closed: FIN-WAIT-1, more data then the FIN on the last segment */
	th_queue(tp, 2000);
	tcp_set_state(tp, TCP_FIN_WAIT_1);
	tcp_output(tp);
	th_expect_seg(&t, &out, 101, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 101 + MSS, 540, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN);
	th_expect_none(&t);
	ck_assert_uint_eq(tp->snd.max, t.iss + 2101 + 1); /* the FIN takes one number */
	/* the data is acknowledged, the FIN not: 540 + FIN are retransmitted */
	th_peer_ack(&t, tp, 101 + MSS, 65535);
	th_advance(&t, 1000000);
	th_expect_seg(&t, &out, 101 + MSS, 540, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN);
	th_expect_none(&t);
	/* all of it and the FIN acked: FIN-WAIT-2, ring empty, timer off */
	th_peer_ack(&t, tp, 2102, 65535);
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_2);
	ck_assert_uint_eq(tp->sndbuf.len, 0);
	ck_assert_int_eq(tp->timer.rexmt, TCP_NO_TIMER);
	ck_assert_uint_eq(tp->stat.bytes_acked, 2100);
	th_fini(&t);
}
END_TEST

START_TEST(fin_in_last_ack_alone_and_its_ack_frees)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_CLOSE_WAIT);
	struct tcp_seg out;

	ck_assert_uint_eq(t.h.s.tcp.count, 1);
	tp->fin_queued = true;
	tcp_set_state(tp, TCP_LAST_ACK);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, 0, TCP_FLAG_ACK | TCP_FLAG_FIN);
	ck_assert_uint_eq(out.ack, t.irs + 2); /* the peer's FIN acknowledged too */
	th_expect_none(&t);
	/* a second tcp_output does not send the FIN again */
	tcp_output(tp);
	th_expect_none(&t);
	/* lost: retransmitted after the RTO, then 2 s later */
	th_advance(&t, 1000000);
	th_expect_seg(&t, &out, 1, 0, TCP_FLAG_ACK | TCP_FLAG_FIN);
	th_advance(&t, 2000000);
	th_expect_seg(&t, &out, 1, 0, TCP_FLAG_ACK | TCP_FLAG_FIN);
	ck_assert_uint_eq(tp->stat.retransmits, 2);
	/* acknowledged: the connection is over and, with no socket, freed */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = t.irs + 2, .ack = t.iss + 2));
	th_expect_none(&t);
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	th_fini(&t);
}
END_TEST

/* ---- SYN, SYN-ACK and their options ----------------------------------------- */

START_TEST(syn_options_laid_out_like_linux)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	struct tcp_seg out;
	uint8_t frame[256];

	tcp_send_syn(tp);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_SYN);
	ck_assert_uint_eq(out.seq, t.iss);
	ck_assert_uint_eq(out.ack, 0);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_uint_eq(out.wnd, 65535); /* RFC 7323 2.2: not scaled in a SYN */
	ck_assert(out.opt.mss_ok && out.opt.sack_perm && out.opt.ts_ok && out.opt.ws_ok);
	ck_assert_uint_eq(out.opt.mss, 1460); /* MTU 1500 - 40 */
	ck_assert_uint_eq(out.opt.tsecr, 0);
	ck_assert_uint_eq(out.opt.ws, 7);     /* 4 MB buffer: 65535 << 7 covers it */
	/* byte for byte the layout of Linux's SYN (curl, frame 1): MSS,
	 * SACK-permitted, timestamps, NOP, window scale; only the timestamp
	 * values and the shift count differ */
	size_t n = vector_frame("tcp-http.pcap", 1, frame, sizeof(frame));
	const uint8_t *lx = frame + ETH_HDR_LEN + IPV4_HDR_LEN;
	ck_assert_uint_ge(n, ETH_HDR_LEN + IPV4_HDR_LEN + 40);
	ck_assert_uint_eq(out.hlen, 40);
	ck_assert_uint_eq(lx[12] >> 4, 10);
	const uint8_t *ours = t.last + TCP_HDR_LEN, *theirs = lx + TCP_HDR_LEN;
	for (int i = 0; i < 20; i++) {
		if ((i >= 8 && i <= 15) || i == 19)
			continue; /* TSval, TSecr, shift */
		ck_assert_msg(ours[i] == theirs[i], "option byte %d: ours %u, Linux %u", i, ours[i],
			      theirs[i]);
	}
	ck_assert_uint_eq(ours[19], 7);
	/* the SYN is timed, the retransmission timer runs */
	ck_assert_uint_eq(tp->snd.nxt, t.iss + 1);
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + 1000000);
	th_fini(&t);
}
END_TEST

/* The host's SYN-ACK to a SYN with these options. */
static void synack_for(struct tcp_harness *t, struct tcp_opts opt, struct tcp_seg *out)
{
	th_tcb_in_state(t, TCP_LISTEN);
	th_inject(t, SEG(.flags = TCP_FLAG_SYN, .seq = t->irs, .opt = opt));
	th_expect(t, out);
	ck_assert_uint_eq(out->flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	ck_assert_uint_eq(out->ack, t->irs + 1);
}

START_TEST(synack_offers_only_what_the_syn_offered)
{
	struct tcp_harness t;
	struct tcp_seg out;

	/* MSS only: MSS only back (RFC 7323 1.3, 2.2; RFC 2018 2) */
	th_init(&t);
	synack_for(&t, (struct tcp_opts){ .mss_ok = true, .mss = 1200 }, &out);
	ck_assert_uint_eq(out.hlen, 24);
	ck_assert(out.opt.mss_ok && !out.opt.ws_ok && !out.opt.ts_ok && !out.opt.sack_perm);
	ck_assert_uint_eq(out.opt.mss, 1460);
	th_fini(&t);

	/* timestamps: echoed (NOP NOP TS), nothing else */
	th_init(&t);
	synack_for(&t, (struct tcp_opts){ .mss_ok = true, .mss = 1460, .ts_ok = true,
					  .tsval = 777 }, &out);
	ck_assert_uint_eq(out.hlen, 36);
	ck_assert(out.opt.ts_ok && !out.opt.ws_ok && !out.opt.sack_perm);
	ck_assert_uint_eq(out.opt.tsecr, 777);
	th_fini(&t);

	/* everything: everything, the window scale of our buffer */
	th_init(&t);
	synack_for(&t, (struct tcp_opts){ .mss_ok = true, .mss = 1460, .ts_ok = true, .tsval = 9,
					  .sack_perm = true, .ws_ok = true, .ws = 7 }, &out);
	ck_assert_uint_eq(out.hlen, 40);
	ck_assert(out.opt.ts_ok && out.opt.ws_ok && out.opt.sack_perm);
	ck_assert_uint_eq(out.opt.ws, 7);
	ck_assert_uint_eq(out.wnd, 65535);
	th_fini(&t);

	/* no options: MSS alone, and we send at most 536 (RFC 9293 3.7.1) */
	th_init(&t);
	synack_for(&t, (struct tcp_opts){ 0 }, &out);
	ck_assert_uint_eq(out.hlen, 24);
	th_fini(&t);
}
END_TEST

START_TEST(negotiate_mss_scale_and_options)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);

	struct tcp_seg syn = SEG(.flags = TCP_FLAG_SYN);
	syn.wnd = 5000;
	tcp_negotiate(tp, &syn);
	ck_assert_uint_eq(tp->opt.snd_mss, 536);
	ck_assert_uint_eq(tp->opt.rcv_mss, 1460);
	ck_assert(!tp->opt.ws_ok && !tp->opt.ts_ok && !tp->opt.sack_ok);
	ck_assert_uint_eq(tp->opt.rcv_wscale, 0);
	ck_assert_uint_eq(tp->snd.wnd, 5000);

	syn = SEG(.flags = TCP_FLAG_SYN, .opt = { .mss_ok = true, .mss = 9000, .ws_ok = true,
						  .ws = 15, .ts_ok = true, .tsval = 42,
						  .sack_perm = true });
	syn.wnd = 1000;
	tcp_negotiate(tp, &syn);
	ck_assert_uint_eq(tp->opt.snd_mss, 1460);       /* our MTU bounds it */
	ck_assert(tp->opt.ws_ok && tp->opt.ts_ok && tp->opt.sack_ok);
	ck_assert_uint_eq(tp->opt.snd_wscale, 14);      /* RFC 7323 2.3: clamped */
	ck_assert_uint_eq(tp->opt.rcv_wscale, 7);        /* 65535 << 7 covers the 4 MB buffer */
	ck_assert_uint_eq(tp->snd.wnd, 1000);       /* a SYN's window is not scaled */
	ck_assert_uint_eq(tp->opt.ts_recent, 42);

	tcp_negotiate(tp, &SEG(.flags = TCP_FLAG_SYN, .opt = { .mss_ok = true, .mss = 1000 }));
	ck_assert_uint_eq(tp->opt.snd_mss, 1000);
	th_fini(&t);
}
END_TEST

START_TEST(window_scale_chosen_from_the_buffer)
{
	static const struct { size_t limit; uint8_t ws; } cases[] = {
		{ 65535, 0 }, { 65536, 1 }, { 131070, 1 }, { 262144, 3 }, { 1 << 20, 5 },
		{ (size_t)65535 << 14, 14 }, { (size_t)1 << 31, 14 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tcp_harness t;
		struct tcp_seg out;
		th_init(&t);
		struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
		ring_set_limit(&tp->rcvbuf, cases[i].limit);
		tcp_send_syn(tp);
		th_expect(&t, &out);
		ck_assert_msg(out.opt.ws == cases[i].ws, "buffer %zu: ws %u, want %u",
			      cases[i].limit, out.opt.ws, cases[i].ws);
		ck_assert_uint_eq(out.wnd, cases[i].limit < 65535 ? cases[i].limit : 65535);
		th_fini(&t);
	}
}
END_TEST

/* ---- RTT and RTO (RFC 6298) ----------------------------------------------- */

/* Sends 100 bytes now, and the peer acknowledges them rtt microseconds later. */
static void timed_exchange(struct tcp_harness *t, struct tcb *tp, int64_t rtt)
{
	struct tcp_seg out;
	uint32_t rel = tp->snd.nxt - t->iss;
	th_queue(tp, 100);
	tcp_output(tp);
	th_expect_seg(t, &out, rel, 100, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_advance(t, rtt);
	th_peer_ack(t, tp, rel + 100, 65535);
}

START_TEST(rfc6298_srtt_rttvar_rto_exact)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	th_advance(&t, 10000);

	ck_assert(!tp->rtt.valid);
	ck_assert_int_eq(tp->rtt.rto, 1000000);           /* 2.1 */
	timed_exchange(&t, tp, 100000);               /* 2.2: first sample */
	ck_assert(tp->rtt.valid);
	ck_assert_int_eq(tp->rtt.srtt, 100000);
	ck_assert_int_eq(tp->rtt.rttvar, 50000);
	ck_assert_int_eq(tp->rtt.rto, 100000 + 4 * 50000);
	timed_exchange(&t, tp, 60000);                /* 2.3 */
	ck_assert_int_eq(tp->rtt.rttvar, (3 * 50000 + 40000) / 4);
	ck_assert_int_eq(tp->rtt.srtt, (7 * 100000 + 60000) / 8);
	ck_assert_int_eq(tp->rtt.rto, 95000 + 4 * 47500);
	timed_exchange(&t, tp, 20000);
	ck_assert_int_eq(tp->rtt.rttvar, (3 * 47500 + 75000) / 4);
	ck_assert_int_eq(tp->rtt.srtt, (7 * 95000 + 20000) / 8);
	ck_assert_int_eq(tp->rtt.rto, 85625 + 4 * 54375);
	/* tiny RTTs: RTO clamped at the minimum (2.4, 200 ms here) */
	for (int i = 0; i < 30; i++)
		timed_exchange(&t, tp, 1000);
	ck_assert_int_lt(tp->rtt.srtt, 20000);
	ck_assert_int_eq(tp->rtt.rto, 200000);
	/* the minimum is per host */
	t.h.s.tcp.rto_min_us = 5000;
	timed_exchange(&t, tp, 1000);
	ck_assert_int_lt(tp->rtt.rto, 200000);
	ck_assert_int_ge(tp->rtt.rto, 5000);
	th_fini(&t);
}
END_TEST

START_TEST(karn_no_sample_from_a_retransmitted_segment)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	th_advance(&t, 5000);
	th_queue(tp, 100);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, 100, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_advance(&t, 1000000);
	th_expect_seg(&t, &out, 1, 100, TCP_FLAG_ACK | TCP_FLAG_PSH);
	ck_assert_int_eq(tp->rtt.rto, 2000000);
	/* the ACK comes 30 ms after the retransmission: ambiguous, no sample,
	 * and the backed-off RTO stays until a clean sample (Karn) */
	th_advance(&t, 30000);
	th_peer_ack(&t, tp, 101, 65535);
	ck_assert(!tp->rtt.valid);
	ck_assert_int_eq(tp->rtt.rto, 2000000);
	ck_assert_int_eq(tp->rtt.backoff, 0);
	ck_assert_int_eq(tp->timer.rexmt, TCP_NO_TIMER);
	/* the next segment, sent once, is measured */
	timed_exchange(&t, tp, 50000);
	ck_assert(tp->rtt.valid);
	ck_assert_int_eq(tp->rtt.srtt, 50000);
	ck_assert_int_eq(tp->rtt.rto, 200000); /* 50 + 4 * 25 = 150 ms, clamped */
	th_fini(&t);
}
END_TEST

START_TEST(timestamps_give_the_rtt_even_for_retransmissions)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	tp->opt.ts_ok = true;
	tp->opt.ts_recent = 5555;
	th_advance(&t, 7000);
	th_queue(tp, 3000);
	tp->nodelay = true;
	tcp_output(tp);
	/* segments carry the timestamps: 1448 bytes each (RFC 6691) */
	th_expect_seg(&t, &out, 1, 1448, TCP_FLAG_ACK);
	ck_assert(out.opt.ts_ok);
	ck_assert_uint_eq(out.opt.tsecr, 5555);
	uint32_t tsval = out.opt.tsval;
	ck_assert_uint_eq(out.hlen, 32);
	th_expect_seg(&t, &out, 1 + 1448, 1448, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + 2 * 1448, 104, TCP_FLAG_ACK | TCP_FLAG_PSH);
	ck_assert_uint_eq(out.opt.tsval, tsval);
	/* the peer echoes our TSval 40 ms later: a 40 ms sample */
	th_advance(&t, 40000);
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = t.irs + 1, .ack = t.iss + 1 + 1448,
			  .opt = { .ts_ok = true, .tsval = 6000, .tsecr = tsval }));
	ck_assert(tp->rtt.valid);
	ck_assert_int_eq(tp->rtt.srtt, 40000);
	ck_assert_int_eq(tp->rtt.rttvar, 20000);
	/* a timeout; the retransmission's TSval comes back 30 ms after it */
	th_advance(&t, tp->timer.rexmt - t.h.now);
	th_expect_seg(&t, &out, 1 + 1448, 1448, TCP_FLAG_ACK);
	uint32_t tsval2 = out.opt.tsval;
	ck_assert_uint_ne(tsval2, tsval);
	th_advance(&t, 30000);
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = t.irs + 1, .ack = t.iss + 1 + 2 * 1448,
			  .opt = { .ts_ok = true, .tsval = 6001, .tsecr = tsval2 }));
	ck_assert_int_eq(tp->rtt.rttvar, (3 * 20000 + 10000) / 4);
	ck_assert_int_eq(tp->rtt.srtt, (7 * 40000 + 30000) / 8);
	th_fini(&t);
}
END_TEST

START_TEST(ack_advance_frees_the_ring_and_restarts_or_stops_the_timer)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	th_advance(&t, 1000);
	tp->nodelay = true;
	th_queue(tp, 3000);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + MSS, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + 2 * MSS, 80, TCP_FLAG_ACK | TCP_FLAG_PSH);
	ck_assert_uint_eq(tp->sndbuf.len, 3000);
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + 1000000);
	th_advance(&t, 300000);
	th_peer_ack(&t, tp, 1 + MSS, 65535);
	ck_assert_uint_eq(tp->sndbuf.len, 3000 - MSS);
	ck_assert_uint_eq(tp->snd.una, t.iss + 1 + MSS);
	ck_assert_uint_eq(tp->stat.bytes_acked, MSS);
	/* RFC 6298 5.3: restarted from now, with the new RTO */
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + tp->rtt.rto);
	ck_assert_int_eq(tp->rtt.rto, 300000 + 4 * 150000);
	/* RFC 6298 5.2: all acknowledged, the timer stops */
	th_peer_ack(&t, tp, 3001, 65535);
	ck_assert_uint_eq(tp->sndbuf.len, 0);
	ck_assert_int_eq(tp->timer.rexmt, TCP_NO_TIMER);
	ck_assert_uint_eq(tp->stat.bytes_acked, 3000);
	th_expect_none(&t);
	th_fini(&t);
}
END_TEST

START_TEST(third_dupack_fast_retransmit_and_recovery)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	tp->cc = &tcp_cc_reno; /* plain Reno: recovery ends at the first new ACK */

	th_queue(tp, 5 * MSS + 500);
	tcp_output(tp);
	for (uint32_t i = 0; i < 5; i++)
		th_expect_seg(&t, &out, 1 + i * MSS, MSS, TCP_FLAG_ACK);
	th_expect_none(&t); /* 500 bytes held by Nagle */
	/* segment 1 lost; each later one brings a duplicate ACK */
	th_peer_ack(&t, tp, 1, 65535);
	th_peer_ack(&t, tp, 1, 65535);
	th_expect_none(&t);
	ck_assert_int_eq(tp->rec.dupacks, 2);
	ck_assert_uint_eq(tp->cwnd, 10 * MSS);
	th_peer_ack(&t, tp, 1, 65535);
	/* RFC 5681 3.2: the third: retransmit the oldest, the same bytes */
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	ck_assert_uint_eq(counter(&t, "tcp.fast_retransmit"), 1);
	ck_assert_uint_eq(tp->ssthresh, 5 * MSS / 2);
	ck_assert_uint_eq(tp->cwnd, 5 * MSS / 2 + 3 * MSS);
	ck_assert(tp->rec.in_recovery);
	/* the fourth inflates cwnd by one segment */
	th_peer_ack(&t, tp, 1, 65535);
	ck_assert_uint_eq(tp->cwnd, 5 * MSS / 2 + 4 * MSS);
	/* the ACK of everything ends recovery: cwnd = ssthresh, and the tail goes */
	th_peer_ack(&t, tp, 1 + 5 * MSS, 65535);
	ck_assert(!tp->rec.in_recovery);
	ck_assert_uint_eq(tp->cwnd, 5 * MSS / 2);
	ck_assert_int_eq(tp->rec.dupacks, 0);
	th_expect_seg(&t, &out, 1 + 5 * MSS, 500, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_fini(&t);
}
END_TEST

/* ---- ACKs, RSTs, windows ---------------------------------------------------- */

START_TEST(rst_reply_formula)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);

	/* with ACK: <SEQ=SEG.ACK><CTL=RST> */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = 123, .ack = 456789));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_RST);
	ck_assert_uint_eq(out.seq, 456789);
	ck_assert_uint_eq(out.sport, TH_HOST_PORT);
	ck_assert_uint_eq(out.dport, TH_PEER_PORT);
	/* without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; a SYN counts one */
	th_inject(&t, SEG(.flags = TCP_FLAG_SYN, .seq = 0xfffffffeu));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	ck_assert_uint_eq(out.seq, 0);
	ck_assert_uint_eq(out.ack, 0xffffffffu);
	/* data and FIN without ACK: their length */
	th_inject(&t, SEG(.flags = TCP_FLAG_FIN | TCP_FLAG_PSH, .seq = 0xfffffff0u, .len = 100));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	ck_assert_uint_eq(out.ack, 0xfffffff0u + 101);
	ck_assert_uint_eq(out.len, 0);
	/* never in reply to a RST */
	th_inject(&t, SEG(.flags = TCP_FLAG_RST, .seq = 1));
	th_inject(&t, SEG(.flags = TCP_FLAG_RST | TCP_FLAG_ACK, .seq = 1, .ack = 2));
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.tx_rst"), 3);
	th_fini(&t);
}
END_TEST

START_TEST(abort_rst_of_a_connection)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);

	tp->nodelay = true;
	th_queue(tp, 200);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, 200, TCP_FLAG_ACK | TCP_FLAG_PSH);
	tcp_send_rst(tp);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	ck_assert_uint_eq(out.seq, t.iss + 201);
	ck_assert_uint_eq(out.ack, t.irs + 1);
	/* nothing to reset before the peer knows us */
	struct tcb *ss = th_tcb_in_state(&t, TCP_SYN_SENT);
	tcp_send_rst(ss);
	th_expect_none(&t);
	th_fini(&t);
}
END_TEST

START_TEST(pure_ack_after_timeout_uses_snd_max)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);

	th_queue(tp, 3 * MSS);
	tcp_output(tp);
	for (int i = 0; i < 3; i++)
		th_expect(&t, &out);
	th_advance(&t, 1000000);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK); /* go back to snd_una */
	ck_assert_uint_eq(tp->snd.nxt, t.iss + 1 + MSS);
	/* an ACK we owe carries the highest sequence number sent, which the
	 * peer (that may hold all three segments) finds acceptable */
	tcp_send_ack(tp);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_ACK);
	ck_assert_uint_eq(out.seq, t.iss + 1 + 3 * MSS);
	th_fini(&t);
}
END_TEST

/* After an RTO, go-back-N resends in slow start (RFC 5681 3.1), where an
 * ACK of part of a segment grows cwnd by that part: no sliver of a
 * segment goes while more follows and data is in flight (RFC 1122
 * 4.2.3.4); the full segment that fits does. */
START_TEST(resends_after_timeout_send_no_slivers)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	tp->cc = &tcp_cc_newreno;

	th_queue(tp, 6 * MSS);
	tcp_output(tp);
	for (int i = 0; i < 6; i++)
		th_expect(&t, &out);
	th_advance(&t, 1000000);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK); /* cwnd one segment */
	ck_assert_uint_eq(tp->cwnd, MSS);
	/* 1000 of its 1460 bytes acknowledged: cwnd 2460, 460 in flight,
	 * 2000 usable: one whole segment, and the 540 after it wait */
	th_peer_ack(&t, tp, 1 + 1000, 65535);
	ck_assert_uint_eq(tp->cwnd, MSS + 1000);
	th_expect_seg(&t, &out, 1 + MSS, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	/* the rest of the first segment acknowledged: 1460 in flight, cwnd
	 * 2920, one more whole segment */
	th_peer_ack(&t, tp, 1 + MSS, 65535);
	th_expect_seg(&t, &out, 1 + 2 * MSS, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	th_fini(&t);
}
END_TEST

START_TEST(challenge_acks_rate_limited)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);

	/* RFC 5961 7, per connection: one challenge ACK per 500 ms */
	th_advance(&t, 5000000);
	for (int i = 0; i < 15; i++)
		tcp_send_challenge_ack(tp);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_ACK);
	ck_assert_uint_eq(out.seq, t.iss + 1);
	ck_assert_uint_eq(out.ack, t.irs + 1);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.challenge_acks"), 1);
	ck_assert_uint_eq(counter(&t, "tcp.challenge_ack_sock_limited"), 14);
	/* 499 ms later still none; at 500 ms one, not two */
	th_advance(&t, TCP_OOW_ACK_INTERVAL_US - 1000);
	tcp_send_challenge_ack(tp);
	th_expect_none(&t);
	th_advance(&t, 1000);
	tcp_send_challenge_ack(tp);
	tcp_send_challenge_ack(tp);
	th_expect(&t, &out);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.challenge_acks"), 2);
	ck_assert_uint_eq(counter(&t, "tcp.challenge_ack_limited"), 0);
	th_fini(&t);
}
END_TEST

/* RFC 5961 7 and CVE-2016-5696: above the connections' own limits, a
 * host-wide ceiling per second that is drawn again each second, so a
 * spoofer cannot learn from the count it sees what other connections
 * spent. Many connections' worth of challenges (the connection's own
 * limit forgotten each time, as if each came from another connection): a
 * second lets through between half and one and a half times
 * TCP_CHALLENGE_ACK_LIMIT, and not the same number every second. */
START_TEST(challenge_acks_host_ceiling_random)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	uint64_t sent[4];

	th_advance(&t, 5000000);
	for (int sec = 0; sec < 4; sec++) {
		uint64_t before = counter(&t, "tcp.challenge_acks");
		for (int i = 0; i < 2 * TCP_CHALLENGE_ACK_LIMIT; i++) {
			tp->oow_sent = false;
			tcp_send_challenge_ack(tp);
		}
		sent[sec] = counter(&t, "tcp.challenge_acks") - before;
		ck_assert_uint_ge(sent[sec], TCP_CHALLENGE_ACK_LIMIT / 2);
		ck_assert_uint_lt(sent[sec], TCP_CHALLENGE_ACK_LIMIT * 3 / 2);
		drop_tx(&t.h);
		th_advance(&t, 1000000);
	}
	ck_assert(sent[0] != sent[1] || sent[1] != sent[2] || sent[2] != sent[3]);
	ck_assert_uint_eq(counter(&t, "tcp.challenge_ack_limited"),
			  8 * TCP_CHALLENGE_ACK_LIMIT - sent[0] - sent[1] - sent[2] - sent[3]);
	th_fini(&t);
}
END_TEST

START_TEST(rcv_window_sws_and_never_shrinks)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	uint8_t junk[20000] = { 0 };

	ring_set_limit(&tp->rcvbuf, 20000);
	tp->rcv.adv = tp->rcv.nxt + 20000;
	ck_assert_uint_eq(tcp_rcv_window(tp), 20000);
	/* 10000 bytes arrive, unread: the offer shrinks with them, the edge stays */
	ck_assert_uint_eq(ring_write(&tp->rcvbuf, junk, 10000), 10000);
	tp->rcv.nxt += 10000;
	ck_assert_uint_eq(tcp_rcv_window(tp), 10000);
	/* the app reads 100: a silly increase, not offered (RFC 1122 4.2.3.3) */
	ring_drop(&tp->rcvbuf, 100);
	ck_assert_uint_eq(tcp_rcv_window(tp), 10000);
	/* 1360 more: the edge may move by an MSS (1460): it does */
	ring_drop(&tp->rcvbuf, 1360);
	ck_assert_uint_eq(tcp_rcv_window(tp), 11460);
	tcp_send_ack(tp);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.wnd, 11460);
	ck_assert_uint_eq(tp->rcv.adv, tp->rcv.nxt + 11460);
	/* the buffer shrinks below what was offered: the edge does not move left
	 * (RFC 9293 3.8.6.2.2) */
	ring_set_limit(&tp->rcvbuf, 12000);
	ck_assert_uint_eq(ring_space(&tp->rcvbuf), 12000 - 8540);
	ck_assert_uint_eq(tcp_rcv_window(tp), 11460);
	/* data fills what was offered: then it is 0, and stays 0 for a silly read */
	ck_assert_uint_eq(ring_write(&tp->rcvbuf, junk, 3460), 3460);
	tp->rcv.nxt += 11460; /* (as if 8000 more were in flight and arrived) */
	ck_assert_uint_eq(tcp_rcv_window(tp), 0);
	ring_drop(&tp->rcvbuf, 10);
	ck_assert_uint_eq(tcp_rcv_window(tp), 0);
	/* with a scale of 3, offers are multiples of 8, rounded up rather than
	 * moving the edge left */
	tp->opt.rcv_wscale = 3;
	ring_set_limit(&tp->rcvbuf, tp->rcvbuf.len + 5003);
	tp->rcv.adv = tp->rcv.nxt + 5001;
	uint32_t w = tcp_rcv_window(tp);
	ck_assert_uint_eq(w, 5008);
	tcp_send_ack(tp);
	th_expect(&t, &out);
	ck_assert_uint_eq((uint32_t)out.wnd << 3, w);
	th_fini(&t);
}
END_TEST

START_TEST(ack_clears_the_delayed_ack_state)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);

	tp->delack_segs = 1;
	tcp_timer_set(tp, &tp->timer.delack, t.h.now + 200000);
	tp->ack_now = true;
	tcp_output(tp);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_ACK);
	ck_assert(!tp->ack_now);
	ck_assert_int_eq(tp->delack_segs, 0);
	ck_assert_int_eq(tp->timer.delack, TCP_NO_TIMER);
	/* a data segment carries the ACK just as well */
	tcp_timer_set(tp, &tp->timer.delack, t.h.now + 200000);
	tp->ack_now = true;
	th_queue(tp, 10);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, 10, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_expect_none(&t);
	ck_assert_int_eq(tp->timer.delack, TCP_NO_TIMER);
	th_fini(&t);
}
END_TEST

/* ---- Reno (RFC 5681), unit level ----------------------------------------------- */

START_TEST(reno_initial_window_growth_and_halving)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	const struct tcp_cc_ops *cc = &tcp_cc_reno;

	ck_assert_ptr_eq(tp->cc, &tcp_cc_cubic); /* the host default */
	ck_assert_ptr_eq(tcp_cc_find("reno"), cc);
	ck_assert_ptr_eq(tcp_cc_find("newreno"), &tcp_cc_newreno);
	ck_assert_ptr_eq(tcp_cc_find("cubic"), &tcp_cc_cubic);
	ck_assert_ptr_null(tcp_cc_find("vegas"));
	ck_assert_str_eq(cc->name, "reno");
	/* RFC 6928: min(10 MSS, max(2 MSS, 14600)) */
	tp->opt.snd_mss = 1460;
	cc->init(tp);
	ck_assert_uint_eq(tp->cwnd, 14600);
	tp->opt.snd_mss = 536;
	cc->init(tp);
	ck_assert_uint_eq(tp->cwnd, 5360);
	tp->opt.snd_mss = 8960;
	cc->init(tp);
	ck_assert_uint_eq(tp->cwnd, 17920);
	tp->opt.snd_mss = 1460;
	tp->stat.retransmits = 1; /* the SYN was lost: one segment (RFC 5681 3.1) */
	cc->init(tp);
	ck_assert_uint_eq(tp->cwnd, 1460);
	tp->stat.retransmits = 0;
	cc->init(tp);
	ck_assert_uint_eq(tp->ssthresh, UINT32_MAX);
	/* slow start: + min(acked, 2 SMSS) per ACK (RFC 3465 2.2, L = 2 SMSS) */
	cc->on_ack(tp, 1460);
	ck_assert_uint_eq(tp->cwnd, 16060);
	cc->on_ack(tp, 5000);
	ck_assert_uint_eq(tp->cwnd, 18980);
	cc->on_ack(tp, 100);
	ck_assert_uint_eq(tp->cwnd, 19080);
	/* congestion avoidance: one SMSS per cwnd of acknowledged data */
	tp->cwnd = 14600;
	tp->ssthresh = 14600;
	for (int i = 0; i < 9; i++)
		cc->on_ack(tp, 1460);
	ck_assert_uint_eq(tp->cwnd, 14600);
	cc->on_ack(tp, 1460);
	ck_assert_uint_eq(tp->cwnd, 16060);
	/* loss by three duplicate ACKs: ssthresh = max(flight / 2, 2 SMSS),
	 * cwnd = ssthresh + 3 SMSS; dupacks inflate; recovery ends at ssthresh */
	tp->snd.max = tp->snd.una + 20000;
	cc->on_loss(tp);
	ck_assert_uint_eq(tp->ssthresh, 10000);
	ck_assert_uint_eq(tp->cwnd, 10000 + 3 * 1460);
	tp->rec.in_recovery = true;
	cc->on_dupack(tp);
	ck_assert_uint_eq(tp->cwnd, 10000 + 4 * 1460);
	tp->rec.in_recovery = false;
	cc->on_recovery_exit(tp);
	ck_assert_uint_eq(tp->cwnd, 10000);
	cc->on_dupack(tp); /* outside recovery: nothing */
	ck_assert_uint_eq(tp->cwnd, 10000);
	/* small flight: at least 2 SMSS */
	tp->snd.max = tp->snd.una + 1000;
	cc->on_loss(tp);
	ck_assert_uint_eq(tp->ssthresh, 2920);
	/* timeout: cwnd one segment; ssthresh halved on the first expiry only */
	tp->snd.max = tp->snd.una + 40000;
	tp->rtt.backoff = 0;
	cc->on_rto(tp);
	ck_assert_uint_eq(tp->cwnd, 1460);
	ck_assert_uint_eq(tp->ssthresh, 20000);
	tp->rtt.backoff = 1;
	tp->snd.max = tp->snd.una + 8000;
	cc->on_rto(tp);
	ck_assert_uint_eq(tp->ssthresh, 20000);
	tp->rtt.backoff = 0;
	tp->snd.max = tp->snd.una;
	th_fini(&t);
}
END_TEST

/* ---- sequence wrap ---------------------------------------------------------------- */

START_TEST(sequence_numbers_wrap_around)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);
	t.iss = 0xfffff000u;       /* our data crosses 2^32 after 4095 bytes */
	t.irs = 0xffffff00u;
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);

	th_queue(tp, 4 * MSS);
	tcp_output(tp);
	for (uint32_t i = 0; i < 3; i++)
		th_expect_seg(&t, &out, 1 + i * MSS, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + 3 * MSS, MSS, TCP_FLAG_ACK | TCP_FLAG_PSH); /* empties the queue */
	ck_assert_uint_lt(tp->snd.nxt, 0x2000u); /* wrapped */
	ck_assert(SEQ_GT(tp->snd.nxt, tp->snd.una));
	/* an ACK across the wrap frees what it covers */
	th_peer_ack(&t, tp, 1 + 3 * MSS, 65535);
	ck_assert_uint_eq(tp->sndbuf.len, MSS);
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + tp->rtt.rto);
	/* a timeout retransmits the right bytes past the wrap */
	th_advance(&t, tp->timer.rexmt - t.h.now);
	th_expect_seg(&t, &out, 1 + 3 * MSS, MSS, TCP_FLAG_ACK | TCP_FLAG_PSH);
	/* the peer's data also wraps: 300 bytes from irs + 1 */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK | TCP_FLAG_PSH, .seq = t.irs + 1,
			  .ack = t.iss + 1 + 4 * MSS, .len = 300));
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 301);
	ck_assert_uint_eq(tp->sndbuf.len, 0);
	ck_assert_int_eq(tp->timer.rexmt, TCP_NO_TIMER);
	tcp_send_ack(tp);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.ack, 0x2du);
	/* a FIN across it */
	tp->fin_queued = true;
	tcp_set_state(tp, TCP_FIN_WAIT_1);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1 + 4 * MSS, 0, TCP_FLAG_ACK | TCP_FLAG_FIN);
	th_peer_ack(&t, tp, 2 + 4 * MSS, 65535);
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_2);
	th_fini(&t);
}
END_TEST

START_TEST(send_through_the_socket_layer)
{
	struct tcp_harness t;
	struct tcp_seg out;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	uint8_t buf[3000];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = th_pat(t.iss + 1 + (uint32_t)i);
	ck_assert_int_eq(net_send(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + MSS, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	th_peer_ack(&t, tp, 1 + 2 * MSS, 65535);
	th_expect_seg(&t, &out, 1 + 2 * MSS, 80, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_peer_ack(&t, tp, 3001, 65535);
	ck_assert_uint_eq(tp->sndbuf.len, 0);
	th_fini(&t);
}
END_TEST

/* ---- loss recovery: NewReno (RFC 6582), limited transmit (RFC 3042), SACK
 * (RFC 2018, RFC 6675) -------------------------------------------------------- */

/* Takes every segment the host sent; returns how many started at rel_seq
 * (seq - iss) and, in *lens, their total payload. */
static int take_all(struct tcp_harness *t, uint32_t rel_seq, size_t *lens)
{
	int n = 0;
	if (lens)
		*lens = 0;
	while (testdev_sent_count(t->h.dev)) {
		struct tcp_seg out;
		th_expect(t, &out);
		if (out.seq - t->iss == rel_seq) {
			n++;
			if (lens)
				*lens += out.len;
		}
	}
	return n;
}

/* The peer's duplicate ACK of rel_ack, with SACK blocks [a, b) relative to iss. */
static void peer_sack(struct tcp_harness *t, struct tcb *tp, uint32_t rel_ack, int nblocks,
		      const uint32_t (*blocks)[2])
{
	struct tcp_seg seg = SEG(.flags = TCP_FLAG_ACK, .seq = tp->rcv.nxt, .ack = t->iss + rel_ack);
	seg.opt.nsack = (uint8_t)nblocks;
	for (int i = 0; i < nblocks; i++) {
		seg.opt.sack[i][0] = t->iss + blocks[i][0];
		seg.opt.sack[i][1] = t->iss + blocks[i][1];
	}
	th_inject(t, seg);
}

START_TEST(limited_transmit_one_new_segment_per_early_dupack)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	tp->cc = &tcp_cc_newreno; /* ssthresh below is Reno's half flight */
	tp->cwnd = 4 * MSS;
	th_queue(tp, 10 * MSS);
	tcp_output(tp);
	for (uint32_t i = 0; i < 4; i++)
		th_expect_seg(&t, &out, 1 + i * MSS, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	/* RFC 3042 2: each of the first two duplicate ACKs sends one new segment */
	th_peer_ack(&t, tp, 1, 65535);
	th_expect_seg(&t, &out, 1 + 4 * MSS, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	th_peer_ack(&t, tp, 1, 65535);
	th_expect_seg(&t, &out, 1 + 5 * MSS, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.limited_transmit"), 2);
	ck_assert_uint_eq(tp->cwnd, 4 * MSS); /* cwnd itself unchanged */
	ck_assert(!tp->rec.in_recovery);
	/* the third is fast retransmit; ssthresh from the flight (6 segments) */
	th_peer_ack(&t, tp, 1, 65535);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	ck_assert(tp->rec.in_recovery);
	ck_assert_uint_eq(tp->ssthresh, 3 * MSS);
	ck_assert_uint_eq(counter(&t, "tcp.limited_transmit"), 2);
	take_all(&t, 0, NULL);
	th_fini(&t);
}
END_TEST

START_TEST(newreno_partial_acks_recover_three_losses_without_rto)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	tp->cc = &tcp_cc_newreno;
	th_queue(tp, 20 * MSS);
	tcp_output(tp);
	ck_assert_int_eq(take_all(&t, 1, NULL), 1); /* 10 segments (cwnd) */
	ck_assert_uint_eq(tp->snd.max, t.iss + 1 + 10 * MSS);
	/* segments 0, 3 and 6 lost: the others bring duplicate ACKs of 1 */
	th_peer_ack(&t, tp, 1, 65535);
	th_peer_ack(&t, tp, 1, 65535);
	ck_assert_int_eq(take_all(&t, 0, NULL), 0);
	ck_assert_uint_eq(tp->snd.max, t.iss + 1 + 12 * MSS); /* limited transmit */
	th_peer_ack(&t, tp, 1, 65535);
	ck_assert_int_eq(take_all(&t, 1, NULL), 1); /* fast retransmit of segment 0 */
	ck_assert(tp->rec.in_recovery);
	ck_assert_uint_eq(tp->rec.recover, t.iss + 1 + 12 * MSS);
	ck_assert_uint_eq(tp->ssthresh, 6 * MSS);
	for (int i = 0; i < 6; i++) /* the rest of the window: cwnd inflates */
		th_peer_ack(&t, tp, 1, 65535);
	take_all(&t, 0, NULL);
	/* RFC 6582 3.2 step 3, partial ACK: the ACK of the retransmission reaches the next
	 * hole: it goes at once, recovery goes on, cwnd deflates */
	uint32_t cwnd = tp->cwnd;
	th_peer_ack(&t, tp, 1 + 3 * MSS, 65535);
	ck_assert_int_eq(take_all(&t, 1 + 3 * MSS, NULL), 1);
	ck_assert(tp->rec.in_recovery);
	ck_assert_uint_eq(counter(&t, "tcp.partial_ack"), 1);
	ck_assert_uint_eq(tp->cwnd, cwnd - 3 * MSS + MSS);
	th_peer_ack(&t, tp, 1 + 6 * MSS, 65535);
	ck_assert_int_eq(take_all(&t, 1 + 6 * MSS, NULL), 1);
	ck_assert(tp->rec.in_recovery);
	ck_assert_uint_eq(counter(&t, "tcp.partial_ack"), 2);
	/* the full ACK (recover reached) ends it: cwnd = min(ssthresh,
	 * max(FlightSize, SMSS) + SMSS) (RFC 6582 3.2 step 3, full ACK, option 1) */
	th_peer_ack(&t, tp, 1 + 12 * MSS, 65535);
	ck_assert(!tp->rec.in_recovery);
	uint32_t flight = tp->snd.max - tp->snd.una;
	uint32_t w = (flight > MSS ? flight : MSS) + MSS;
	ck_assert_uint_eq(tp->cwnd, w < 6 * MSS ? w : 6 * MSS);
	ck_assert_uint_eq(counter(&t, "tcp.fast_retransmit"), 1); /* one reduction */
	ck_assert_uint_eq(counter(&t, "tcp.rto"), 0);
	ck_assert_uint_eq(tp->stat.retransmits, 3);
	ck_assert_uint_eq(tp->ssthresh, 6 * MSS);
	take_all(&t, 0, NULL);
	(void)out;
	th_fini(&t);
}
END_TEST

START_TEST(reno_leaves_recovery_at_a_partial_ack_newreno_reduces_once)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);

	/* Reno: the partial ACK ends recovery and retransmits nothing */
	tp->cc = &tcp_cc_reno;
	th_queue(tp, 10 * MSS);
	tcp_output(tp);
	take_all(&t, 0, NULL);
	for (int i = 0; i < 3; i++)
		th_peer_ack(&t, tp, 1, 65535);
	ck_assert(tp->rec.in_recovery);
	take_all(&t, 0, NULL);
	th_peer_ack(&t, tp, 1 + 3 * MSS, 65535);
	ck_assert(!tp->rec.in_recovery);
	ck_assert_int_eq(take_all(&t, 1 + 3 * MSS, NULL), 0);
	ck_assert_uint_eq(counter(&t, "tcp.partial_ack"), 0);
	/* RFC 6582 3.2 step 2: duplicate ACKs below the recover point of the
	 * last recovery do not halve cwnd again */
	tp->cc = &tcp_cc_newreno;
	uint32_t ssthresh = tp->ssthresh;
	for (int i = 0; i < 4; i++)
		th_peer_ack(&t, tp, 1 + 3 * MSS, 65535);
	ck_assert(!tp->rec.in_recovery);
	ck_assert_uint_eq(tp->ssthresh, ssthresh);
	ck_assert_uint_eq(counter(&t, "tcp.fast_retransmit"), 1);
	ck_assert_uint_ge(counter(&t, "tcp.dupack_before_recover"), 1);
	take_all(&t, 0, NULL);
	th_fini(&t);
}
END_TEST

START_TEST(sack_blocks_sent_newest_first_exact_bytes)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;
	uint32_t r = t.irs + 1; /* rcv_nxt */

	tp->opt.sack_ok = true;
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 1000, .ack = t.iss + 1, .len = 100));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.ack, r);
	/* RFC 2018 3: NOP NOP kind 5 length 10, left edge, right edge */
	ck_assert_uint_eq(out.hlen, 32);
	ck_assert_uint_eq(t.last[20], 1);
	ck_assert_uint_eq(t.last[21], 1);
	ck_assert_uint_eq(t.last[22], 5);
	ck_assert_uint_eq(t.last[23], 10);
	ck_assert_uint_eq(be32_get(t.last + 24), r + 1000);
	ck_assert_uint_eq(be32_get(t.last + 28), r + 1100);
	/* a second range: reported first, the older one after it (RFC 2018 4) */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 3000, .ack = t.iss + 1, .len = 100));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.hlen, 40);
	ck_assert_uint_eq(t.last[22], 5);
	ck_assert_uint_eq(t.last[23], 18);
	ck_assert_uint_eq(be32_get(t.last + 24), r + 3000);
	ck_assert_uint_eq(be32_get(t.last + 28), r + 3100);
	ck_assert_uint_eq(be32_get(t.last + 32), r + 1000);
	ck_assert_uint_eq(be32_get(t.last + 36), r + 1100);
	/* extending the first range makes it the newest again */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 1100, .ack = t.iss + 1, .len = 100));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.opt.nsack, 2);
	ck_assert_uint_eq(out.opt.sack[0][0], r + 1000);
	ck_assert_uint_eq(out.opt.sack[0][1], r + 1200);
	ck_assert_uint_eq(out.opt.sack[1][0], r + 3000);
	/* with timestamps, at most three blocks fit (40 option bytes) */
	tp->opt.ts_ok = true; /* (then every segment must carry them: RFC 7323 3.2) */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 5000, .ack = t.iss + 1, .len = 100,
			  .opt = { .ts_ok = true, .tsval = 1 }));
	th_expect(&t, &out);
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 7000, .ack = t.iss + 1, .len = 100,
			  .opt = { .ts_ok = true, .tsval = 1 }));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.hlen, 60);
	ck_assert_uint_eq(out.opt.nsack, 3);
	ck_assert_uint_eq(out.opt.sack[0][0], r + 7000);
	ck_assert_uint_eq(out.opt.sack[1][0], r + 5000);
	ck_assert_uint_eq(out.opt.sack[2][0], r + 1000);
	/* filling the hole at rcv_nxt: the ACK moves and the rest stays SACKed */
	tp->opt.ts_ok = false;
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r, .ack = t.iss + 1, .len = 1200));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.ack, r + 1200);
	ck_assert_uint_eq(out.opt.nsack, 3);
	ck_assert_uint_eq(out.opt.sack[0][0], r + 7000);
	ck_assert_uint_eq(out.opt.sack[1][0], r + 5000);
	ck_assert_uint_eq(out.opt.sack[2][0], r + 3000);
	/* without SACK negotiated: no blocks */
	tp->opt.sack_ok = false;
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 9000, .ack = t.iss + 1, .len = 100));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.opt.nsack, 0);
	ck_assert_uint_eq(out.hlen, 20);
	th_fini(&t);
}
END_TEST

/* RFC 2883 4: a segment that arrives again is reported in the first SACK
 * block of the next ACK (a D-SACK), once: held out of order already
 * (4.1.2: the range holding it follows), all below rcv_nxt (4.1.1), or
 * partly below it (only the part seen before). */
START_TEST(dsack_reports_a_duplicate_in_the_first_block)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;
	uint32_t r = t.irs + 1; /* rcv_nxt */

	tp->opt.sack_ok = true;
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 1000, .ack = t.iss + 1, .len = 100));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.opt.nsack, 1);
	/* the same segment again: the D-SACK, then the range that holds it */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 1000, .ack = t.iss + 1, .len = 100));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.ack, r);
	ck_assert_uint_eq(out.opt.nsack, 2);
	ck_assert_uint_eq(out.opt.sack[0][0], r + 1000);
	ck_assert_uint_eq(out.opt.sack[0][1], r + 1100);
	ck_assert_uint_eq(out.opt.sack[1][0], r + 1000);
	ck_assert_uint_eq(out.opt.sack[1][1], r + 1100);
	ck_assert_uint_eq(counter(&t, "tcp.dsack_sent"), 1);
	/* the hole filled: no blocks left */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r, .ack = t.iss + 1, .len = 1000));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.ack, r + 1100);
	ck_assert_uint_eq(out.opt.nsack, 0);
	/* 500 bytes below rcv_nxt again: out of the window, answered with
	 * an ACK whose only block is the duplicate, below the ACK */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r, .ack = t.iss + 1, .len = 500));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.ack, r + 1100);
	ck_assert_uint_eq(out.opt.nsack, 1);
	ck_assert_uint_eq(out.opt.sack[0][0], r);
	ck_assert_uint_eq(out.opt.sack[0][1], r + 500);
	/* partly old: only the old part is reported */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 1000, .ack = t.iss + 1, .len = 200));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.ack, r + 1200);
	ck_assert_uint_eq(out.opt.nsack, 1);
	ck_assert_uint_eq(out.opt.sack[0][0], r + 1000);
	ck_assert_uint_eq(out.opt.sack[0][1], r + 1100);
	ck_assert_uint_eq(counter(&t, "tcp.dsack_sent"), 3);
	/* reported once: the next ACK has the usual blocks only */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 3000, .ack = t.iss + 1, .len = 100));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.opt.nsack, 1);
	ck_assert_uint_eq(out.opt.sack[0][0], r + 3000);
	/* without SACK: a duplicate is only ACKed */
	tp->opt.sack_ok = false;
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r, .ack = t.iss + 1, .len = 100));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.opt.nsack, 0);
	ck_assert_uint_eq(counter(&t, "tcp.dsack_sent"), 3);
	th_fini(&t);
}
END_TEST

/* The sender's side: a first block below the ACK, or inside the second
 * block, is a D-SACK (RFC 2883 5), counted, not put on the scoreboard.
 * When D-SACKs report every retransmission of a fast recovery, nothing was
 * lost (a segment was only late): the reduction is undone (RFC 3708, RFC
 * 9438 4.9), cwnd, ssthresh and CUBIC's state as they were before it. */
static void dsack_undo(const struct tcp_cc_ops *cc)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	const uint32_t M = MSS;

	tp->cc = cc;
	tp->opt.sack_ok = true;
	cc->init(tp);
	th_queue(tp, 10 * MSS);
	tcp_output(tp);
	take_all(&t, 0, NULL);
	uint32_t cwnd = tp->cwnd, ssthresh = tp->ssthresh;
	uint64_t priv[sizeof(tp->cc_priv) / sizeof(tp->cc_priv[0])];
	memcpy(priv, tp->cc_priv, sizeof(priv));
	/* 1..3 arrive before 0, which is late, not lost: a fast retransmit */
	for (uint32_t i = 2; i <= 4; i++)
		peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + i * M } });
	ck_assert(tp->rec.sack_recovery);
	ck_assert_uint_lt(tp->cwnd, cwnd);
	ck_assert_int_eq(take_all(&t, 1, NULL), 1);
	/* a D-SACK inside the second block, of data not retransmitted: counted only */
	const uint32_t inside[][2] = { { 1 + M, 1 + 2 * M }, { 1 + M, 1 + 4 * M } };
	peer_sack(&t, tp, 1, 2, inside);
	ck_assert_uint_eq(counter(&t, "tcp.dsack_received"), 1);
	ck_assert(tp->rec.sack_recovery);
	/* 0 arrives, then everything: the full ACK ends recovery */
	th_peer_ack(&t, tp, 1 + 10 * M, 65535);
	ck_assert(!tp->rec.in_recovery);
	ck_assert_uint_lt(tp->cwnd, cwnd);
	ck_assert_uint_eq(counter(&t, "tcp.dsack_undo"), 0);
	/* the retransmission arrives too: the peer D-SACKs it, below its ACK */
	peer_sack(&t, tp, 1 + 10 * M, 1, (const uint32_t[][2]){ { 1, 1 + M } });
	ck_assert_uint_eq(counter(&t, "tcp.dsack_received"), 2);
	ck_assert_uint_eq(counter(&t, "tcp.dsack_undo"), 1);
	ck_assert_uint_eq(tp->cwnd, cwnd);
	ck_assert_uint_eq(tp->ssthresh, ssthresh);
	ck_assert_mem_eq(tp->cc_priv, priv, sizeof(priv));
	ck_assert_int_eq(tp->sack.nscoreboard, 0);
	/* a second one changes nothing */
	peer_sack(&t, tp, 1 + 10 * M, 1, (const uint32_t[][2]){ { 1, 1 + M } });
	ck_assert_uint_eq(counter(&t, "tcp.dsack_undo"), 1);
	th_fini(&t);
}

START_TEST(dsack_undoes_a_spurious_fast_retransmit)
{
	dsack_undo(&tcp_cc_newreno);
	dsack_undo(&tcp_cc_cubic);
}
END_TEST

/* A connection in ESTABLISHED with SACK agreed and NewReno's arithmetic
 * (ssthresh half the flight) that has sent nseg full segments, taken off
 * the wire already: the start of the SACK recovery tests. */
static struct tcb *sack_flight(struct tcp_harness *t, uint32_t nseg)
{
	th_init(t);
	struct tcb *tp = th_tcb_in_state(t, TCP_ESTABLISHED);
	tp->cc = &tcp_cc_newreno;
	tp->opt.sack_ok = true;
	th_queue(tp, nseg * MSS);
	tcp_output(tp);
	take_all(t, 0, NULL);
	return tp;
}

/* Without every retransmission D-SACKed (one of two segments was really
 * lost), the reduction stays. */
START_TEST(dsack_no_undo_when_a_loss_was_real)
{
	struct tcp_harness t;
	struct tcb *tp = sack_flight(&t, 10);
	const uint32_t M = MSS;
	/* 0 and 4 missing */
	const uint32_t b1[][2] = { { 1 + 5 * M, 1 + 8 * M }, { 1 + M, 1 + 4 * M } };
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 2 * M } });
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 3 * M } });
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 4 * M } });
	peer_sack(&t, tp, 1, 2, b1);
	ck_assert_uint_eq(counter(&t, "tcp.sack_retransmits"), 1); /* 4 */
	take_all(&t, 0, NULL);
	uint32_t reduced = tp->ssthresh;
	th_peer_ack(&t, tp, 1 + 10 * M, 65535);
	ck_assert(!tp->rec.in_recovery);
	/* only the retransmission of 0 is reported twice */
	peer_sack(&t, tp, 1 + 10 * M, 1, (const uint32_t[][2]){ { 1, 1 + M } });
	ck_assert_uint_eq(counter(&t, "tcp.dsack_received"), 1);
	ck_assert_uint_eq(counter(&t, "tcp.dsack_undo"), 0);
	ck_assert_uint_eq(tp->ssthresh, reduced);
	th_fini(&t);
}
END_TEST

START_TEST(sack_scoreboard_and_hole_retransmission)
{
	struct tcp_harness t;
	struct tcb *tp = sack_flight(&t, 10);
	struct tcp_seg out;
	const uint32_t M = MSS;
	/* segments 0 and 4 lost; 1..3 arrive and are SACKed */
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 2 * M } });
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 3 * M } });
	ck_assert_int_eq(tp->sack.nscoreboard, 1);
	ck_assert(!tp->rec.in_recovery);
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 4 * M } });
	ck_assert_uint_eq(counter(&t, "tcp.sack_blocks_rx"), 3);
	ck_assert_int_eq(tp->sack.nscoreboard, 1);
	ck_assert_uint_eq(tp->sack.scoreboard[0].start, t.iss + 1 + M);
	ck_assert_uint_eq(tp->sack.scoreboard[0].end, t.iss + 1 + 4 * M);
	/* RFC 6675 5: recovery, cwnd = ssthresh = FlightSize / 2, segment 0 again */
	ck_assert(tp->rec.in_recovery && tp->rec.sack_recovery);
	ck_assert_uint_eq(counter(&t, "tcp.sack_recovery"), 1);
	ck_assert_uint_eq(tp->ssthresh, 5 * M);
	ck_assert_uint_eq(tp->cwnd, 5 * M);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	/* 5..7 arrive: segment 4 is lost by IsLost (3 segments SACKed above),
	 * and the pipe (1 retransmitted + 8..9 in flight = 3 MSS) leaves room */
	const uint32_t two[][2] = { { 1 + 5 * M, 1 + 8 * M }, { 1 + M, 1 + 4 * M } };
	peer_sack(&t, tp, 1, 2, two);
	ck_assert_int_eq(tp->sack.nscoreboard, 2);
	th_expect_seg(&t, &out, 1 + 4 * M, MSS, TCP_FLAG_ACK);
	ck_assert_uint_eq(counter(&t, "tcp.sack_retransmits"), 1);
	ck_assert_uint_eq(tp->rec.high_rxt, t.iss + 1 + 5 * M);
	/* the pipe is 4 MSS now (0 and 4 retransmitted, 8 and 9), one
	 * segment of room, no new data to send and no hole below the highest
	 * SACK left: NextSeg() rule 4, the rescue retransmission of the
	 * highest segment not SACKed (9); HighRxt stays (RFC 6675 4) */
	th_expect_seg(&t, &out, 1 + 9 * M, MSS, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.sack_rescue"), 1);
	ck_assert_uint_eq(tp->rec.high_rxt, t.iss + 1 + 5 * M);
	ck_assert(tp->rec.rescue_set);
	ck_assert_uint_eq(tp->rec.rescue_rxt, tp->rec.recover);
	/* the retransmission of 0 arrives: a partial ACK, still in recovery; the
	 * scoreboard loses what the ACK covers */
	const uint32_t one[][2] = { { 1 + 5 * M, 1 + 8 * M } };
	peer_sack(&t, tp, 1 + 4 * M, 1, one);
	ck_assert(tp->rec.in_recovery);
	ck_assert_uint_eq(counter(&t, "tcp.partial_ack"), 1);
	ck_assert_int_eq(tp->sack.nscoreboard, 1);
	th_expect_none(&t); /* room in the pipe, but one rescue per recovery */
	/* then everything: recovery ends; the two holes and the rescued tail
	 * went twice */
	th_peer_ack(&t, tp, 1 + 10 * M, 65535);
	ck_assert(!tp->rec.in_recovery && !tp->rec.sack_recovery);
	ck_assert_uint_eq(tp->cwnd, 5 * M); /* stays at ssthresh */
	ck_assert_int_eq(tp->sack.nscoreboard, 0);
	ck_assert_uint_eq(tp->stat.retransmits, 3);
	ck_assert_uint_eq(counter(&t, "tcp.retransmitted_bytes"), 3 * MSS);
	ck_assert_uint_eq(counter(&t, "tcp.rto"), 0);
	th_fini(&t);
}
END_TEST

/* RFC 6675 4 NextSeg() rule 3: with no new data to send and a hole
 * below the highest SACK that IsLost does not call lost yet (one segment
 * SACKed above it), the pipe's room goes to it anyway, HighRxt moving. */
START_TEST(sack_rule3_retransmits_holes_not_yet_lost)
{
	struct tcp_harness t;
	struct tcb *tp = sack_flight(&t, 10);
	struct tcp_seg out;
	const uint32_t M = MSS;
	/* 1..3 arrive: 0 is lost (IsLost), recovery */
	for (uint32_t i = 2; i <= 4; i++)
		peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + i * M } });
	ck_assert(tp->rec.sack_recovery);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	/* 8 arrives, 4..7 do not (yet): one segment above them is not enough
	 * for IsLost, so rule 1 has nothing; no unsent data (rule 2); with
	 * room for two segments rule 3 sends 4 and 5 */
	tp->cwnd = 8 * M;
	const uint32_t two[][2] = { { 1 + 8 * M, 1 + 9 * M }, { 1 + M, 1 + 4 * M } };
	peer_sack(&t, tp, 1, 2, two);
	th_expect_seg(&t, &out, 1 + 4 * M, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + 5 * M, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.sack_rule3"), 2);
	ck_assert_uint_eq(tp->rec.high_rxt, t.iss + 1 + 6 * M);
	ck_assert_uint_eq(counter(&t, "tcp.sack_rescue"), 0);
	th_peer_ack(&t, tp, 1 + 10 * M, 65535);
	ck_assert(!tp->rec.in_recovery);
	th_fini(&t);
}
END_TEST

/* RFC 6675 4 NextSeg() rule 4 at the end of the stream: the highest byte
 * not SACKed is our FIN, so the rescue retransmission carries the last
 * segment and the FIN (in FIN-WAIT-1 no tail loss probe would). */
START_TEST(sack_rescue_retransmission_carries_the_fin)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;
	const uint32_t M = MSS;

	tp->cc = &tcp_cc_newreno;
	tp->opt.sack_ok = true;
	th_queue(tp, 6 * MSS);
	tp->fin_queued = true;
	tcp_set_state(tp, TCP_FIN_WAIT_1);
	tcp_output(tp);
	ck_assert_int_eq(take_all(&t, 1 + 5 * M, NULL), 1);
	ck_assert_uint_eq(tp->snd.max, t.iss + 1 + 6 * M + 1);
	for (uint32_t i = 2; i <= 4; i++) /* 1..3 arrive; 0, 4, 5 and the FIN do not */
		peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + i * M } });
	ck_assert(tp->rec.sack_recovery);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	/* room for one more segment: nothing new, no hole below the SACK */
	tp->cwnd = 5 * M;
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 4 * M } });
	th_expect_seg(&t, &out, 1 + 5 * M, MSS, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.sack_rescue"), 1);
	ck_assert_uint_eq(tp->rec.high_rxt, t.iss + 1 + M);
	/* once per recovery */
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 4 * M } });
	th_expect_none(&t);
	/* all of it, the FIN too: FIN-WAIT-2 */
	th_peer_ack(&t, tp, 1 + 6 * M + 1, 65535);
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_2);
	ck_assert(!tp->rec.in_recovery);
	th_fini(&t);
}
END_TEST

/* A retransmission lost too: once the peer SACKs data first sent after
 * it, it goes again at once (Linux's tcp_mark_lost_retrans), before the
 * other holes and without waiting for the RTO, and no longer counts in
 * the pipe. */
/* The start of the lost-retransmission tests: 0..9 sent, 0 lost, its
 * fast retransmission, then 4..11 SACKed, so that with only the
 * retransmission in the pipe 12..16 go (taken off the wire). */
static struct tcb *retransmitted_then_more_sent(struct tcp_harness *t)
{
	struct tcp_seg out;
	const uint32_t M = MSS;
	th_init(t);
	struct tcb *tp = th_tcb_in_state(t, TCP_ESTABLISHED);
	tp->cc = &tcp_cc_newreno;
	tp->opt.sack_ok = true;
	th_queue(tp, 30 * MSS);
	tcp_output(tp);
	ck_assert_int_eq(take_all(t, 1 + 9 * M, NULL), 1); /* 0..9 */
	for (uint32_t i = 2; i <= 4; i++) /* limited transmit sends 10 and 11 */
		peer_sack(t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + i * M } });
	ck_assert(tp->rec.sack_recovery);
	ck_assert_uint_eq(tp->cwnd, 6 * M);
	ck_assert_int_eq(take_all(t, 1, NULL), 1); /* fast retransmit of 0 */
	peer_sack(t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 12 * M } });
	for (uint32_t i = 12; i < 17; i++)
		th_expect_seg(t, &out, 1 + i * M, MSS, TCP_FLAG_ACK);
	th_expect_none(t);
	ck_assert_uint_eq(counter(t, "tcp.lost_retransmit"), 0);
	return tp;
}

START_TEST(sack_lost_retransmission_sent_again_without_rto)
{
	struct tcp_harness t;
	struct tcb *tp = retransmitted_then_more_sent(&t);
	struct tcp_seg out;
	const uint32_t M = MSS;

	/* 12 arrives, sent after the retransmission of 0, which did not: it
	 * was lost, and goes again; the room left takes new data (17) */
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 13 * M } });
	ck_assert_uint_eq(counter(&t, "tcp.lost_retransmit"), 1);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + 17 * M, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.lost_retransmit_resent"), 1);
	/* more SACKs of data sent before the second retransmission: nothing
	 * is lost again, only new data goes */
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 14 * M } });
	ck_assert_uint_eq(counter(&t, "tcp.lost_retransmit"), 1);
	th_expect_seg(&t, &out, 1 + 18 * M, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	/* it arrives: all of 0..13 is acknowledged, no RTO was needed */
	th_peer_ack(&t, tp, 1 + 14 * M, 65535);
	ck_assert_uint_eq(counter(&t, "tcp.rto"), 0);
	ck_assert_uint_eq(tp->stat.retransmits, 2);
	take_all(&t, 0, NULL);
	th_fini(&t);
}
END_TEST

/* The ACK that brings the news of data sent after a retransmission may
 * acknowledge the retransmission itself: then it was not lost, and is
 * neither counted so nor sent again. */
START_TEST(sack_retransmission_acked_with_the_news_is_not_lost)
{
	struct tcp_harness t;
	struct tcb *tp = retransmitted_then_more_sent(&t);
	struct tcp_seg out;
	const uint32_t M = MSS;

	/* the retransmission arrived (ack 12) and so did 12 (SACKed) */
	peer_sack(&t, tp, 1 + 12 * M, 1, (const uint32_t[][2]){ { 1 + 12 * M, 1 + 13 * M } });
	ck_assert_uint_eq(counter(&t, "tcp.lost_retransmit"), 0);
	ck_assert_uint_eq(tp->stat.retransmits, 1);
	while (testdev_sent_count(t.h.dev)) { /* new data only, never 0 again */
		th_expect(&t, &out);
		ck_assert(SEQ_GEQ(out.seq, t.iss + 1 + 17 * M));
	}
	take_all(&t, 0, NULL);
	th_fini(&t);
}
END_TEST

/* RFC 6675 2: outside recovery, ACKs whose only block is a D-SACK (RFC
 * 2883: a segment that came twice) SACK nothing new and are no duplicate
 * ACKs: four of them start no fast retransmit. */
START_TEST(dsack_only_acks_are_not_duplicates)
{
	struct tcp_harness t;
	struct tcb *tp = sack_flight(&t, 10);
	const uint32_t M = MSS;
	for (int i = 0; i < 4; i++) /* 0 arrived twice */
		peer_sack(&t, tp, 1 + M, 1, (const uint32_t[][2]){ { 1, 1 + M } });
	take_all(&t, 0, NULL);
	ck_assert(!tp->rec.in_recovery && !tp->rec.sack_recovery);
	ck_assert_uint_eq(counter(&t, "tcp.dsack_received"), 4);
	ck_assert_uint_eq(counter(&t, "tcp.fast_retransmit"), 0);
	ck_assert_uint_eq(tp->stat.retransmits, 0);
	/* the same with an ordinary SACK of new data each time: the third is
	 * a fast retransmit */
	for (uint32_t i = 3; i <= 5; i++)
		peer_sack(&t, tp, 1 + M, 1, (const uint32_t[][2]){ { 1 + 2 * M, 1 + i * M } });
	ck_assert_uint_eq(counter(&t, "tcp.fast_retransmit"), 1);
	take_all(&t, 0, NULL);
	th_fini(&t);
}
END_TEST

START_TEST(sack_blocks_checked_and_rto_clears_the_scoreboard)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	const uint32_t M = MSS;

	th_queue(tp, 10 * MSS);
	tcp_output(tp);
	take_all(&t, 0, NULL);
	/* not negotiated: blocks are ignored */
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + M, 1 + 2 * M } });
	ck_assert_int_eq(tp->sack.nscoreboard, 0);
	tp->opt.sack_ok = true;
	/* past snd_max, reversed, or below the ACK (a D-SACK): ignored */
	const uint32_t bad[][2] = { { 1 + 9 * M, 1 + 11 * M }, { 1 + 3 * M, 1 + 2 * M }, { 0, 1 } };
	peer_sack(&t, tp, 1, 3, bad);
	ck_assert_int_eq(tp->sack.nscoreboard, 0);
	ck_assert_uint_eq(counter(&t, "tcp.sack_blocks_ignored"), 3);
	/* more disjoint ranges than the scoreboard holds: the highest go */
	for (uint32_t i = 1; i <= TCP_SACK_SCOREBOARD + 1; i++)
		peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + 200 * i, 1 + 200 * i + 100 } });
	ck_assert_int_eq(tp->sack.nscoreboard, TCP_SACK_SCOREBOARD);
	ck_assert_uint_eq(tp->sack.scoreboard[TCP_SACK_SCOREBOARD - 1].start,
			  t.iss + 1 + 200 * TCP_SACK_SCOREBOARD);
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + 100, 1 + 150 } });
	ck_assert_int_eq(tp->sack.nscoreboard, TCP_SACK_SCOREBOARD);
	ck_assert_uint_eq(tp->sack.scoreboard[0].start, t.iss + 1 + 100);
	ck_assert_uint_eq(tp->sack.scoreboard[TCP_SACK_SCOREBOARD - 1].start,
			  t.iss + 1 + 200 * (TCP_SACK_SCOREBOARD - 1));
	/* a block joining two ranges merges them */
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + 150, 1 + 250 } });
	ck_assert_int_eq(tp->sack.nscoreboard, TCP_SACK_SCOREBOARD - 1);
	ck_assert_uint_eq(tp->sack.scoreboard[0].end, t.iss + 1 + 300);
	ck_assert(tp->rec.in_recovery);
	/* RFC 6675 5.1: the timeout forgets the scoreboard */
	th_advance(&t, tp->rtt.rto);
	ck_assert_uint_eq(counter(&t, "tcp.rto"), 1);
	ck_assert_int_eq(tp->sack.nscoreboard, 0);
	ck_assert(!tp->rec.in_recovery && !tp->rec.sack_recovery);
	take_all(&t, 0, NULL);
	th_fini(&t);
}
END_TEST

START_TEST(tail_loss_probe_before_the_rto)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	tp->opt.sack_ok = true;
	tp->rtt.valid = true;
	tp->rtt.srtt = 20000;
	tp->rtt.rto = 200000;
	tp->cwnd = 2 * MSS;
	th_queue(tp, 3 * MSS);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + MSS, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	/* RFC 8985 7.2: PTO = 2 * SRTT, before the RTO */
	ck_assert(tp->tlp.armed);
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + 40000);
	th_advance(&t, 40000);
	/* 7.3: new data goes if the peer's window allows, past cwnd */
	th_expect_seg(&t, &out, 1 + 2 * MSS, MSS, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.tlp"), 1);
	ck_assert_uint_eq(counter(&t, "tcp.rto"), 0);
	ck_assert(!tp->tlp.armed && tp->tlp.out);
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + 200000); /* then the RTO */
	ck_assert_uint_eq(tp->cwnd, 2 * MSS);
	/* the ACK of everything ends the episode; with nothing new to send, a
	 * later probe sends the last segment again */
	th_peer_ack(&t, tp, 1 + 3 * MSS, 65535);
	ck_assert(!tp->tlp.out);
	th_queue(tp, 2 * MSS);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1 + 3 * MSS, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + 4 * MSS, MSS, TCP_FLAG_ACK | TCP_FLAG_PSH);
	ck_assert(tp->tlp.armed);
	th_advance(&t, tp->timer.rexmt - t.h.now);
	th_expect_seg(&t, &out, 1 + 4 * MSS, MSS, TCP_FLAG_ACK | TCP_FLAG_PSH);
	ck_assert_uint_eq(counter(&t, "tcp.tlp_retransmits"), 1);
	/* no second probe: the RTO comes next */
	th_advance(&t, tp->timer.rexmt - t.h.now);
	ck_assert_uint_eq(counter(&t, "tcp.rto"), 1);
	ck_assert_uint_eq(counter(&t, "tcp.tlp"), 2);
	while (testdev_sent_count(t.h.dev))
		th_expect(&t, &out);
	/* without SACK there is no probe: the RTO only */
	tp->opt.sack_ok = false;
	th_peer_ack(&t, tp, 1 + 5 * MSS, 65535);
	th_queue(tp, MSS);
	tcp_output(tp);
	th_expect(&t, &out);
	ck_assert(!tp->tlp.armed);
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + tp->rtt.rto);
	th_fini(&t);
}
END_TEST

/* --no-sack: the host's SYN offers no SACK-permitted option (RFC 2018 2),
 * the other options as before; without the flag it does. */
START_TEST(no_sack_flag_takes_sack_permitted_off_the_syn)
{
	for (int flag = 0; flag <= 1; flag++) {
		struct host_opts o;
		char *argv[] = { "prog", "--no-sack" };
		int i = 1;

		host_opts_init(&o);
		if (flag) {
			ck_assert_int_eq(host_opts_parse(&o, "prog", 2, argv, &i), 1);
			ck_assert_int_eq(i, 1);
			ck_assert(o.no_sack);
		}
		struct tcp_harness t;
		th_init(&t);
		host_opts_apply(&o, &t.h.s);
		struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
		struct tcp_seg out;
		tcp_send_syn(tp);
		th_expect(&t, &out);
		ck_assert_uint_eq(out.flags, TCP_FLAG_SYN);
		ck_assert(out.opt.mss_ok && out.opt.ts_ok && out.opt.ws_ok);
		ck_assert(out.opt.sack_perm == !flag);
		th_fini(&t);
	}
}
END_TEST

/* Found by packetdrill's fast_retransmit/fr-4pkt-sack.pkt: a fast
 * retransmit while a tail loss probe was scheduled cancels the probe (RFC
 * 8985 7.2: none in recovery), and the timer must then be the RTO (RFC 6298
 * 5.1), not fire as an RTO at the probe's earlier time. */
START_TEST(fast_retransmit_cancels_the_probe_and_keeps_the_rto)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	tp->opt.sack_ok = true;
	tp->rtt.valid = true;
	tp->rtt.srtt = 100000;
	tp->rtt.rto = 300000;
	tp->cwnd = 10 * MSS;
	th_queue(tp, 4 * MSS);
	tcp_output(tp);
	for (uint32_t i = 0; i < 4; i++)
		th_expect(&t, &out);
	ck_assert(tp->tlp.armed);
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + 200000); /* PTO = 2 * SRTT */
	th_advance(&t, 100000);
	/* the first segment is lost: three SACKs of the others */
	for (uint32_t i = 2; i <= 4; i++)
		peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + MSS, 1 + i * MSS } });
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	ck_assert(tp->rec.in_recovery && !tp->tlp.armed);
	int64_t fr = t.h.now;
	/* at the probe's time nothing goes, and no RTO is counted */
	th_advance(&t, 100000);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.rto"), 0);
	ck_assert_int_eq(tp->timer.rexmt, fr + tp->rtt.rto);
	th_advance(&t, tp->timer.rexmt - t.h.now);
	ck_assert_uint_eq(counter(&t, "tcp.rto"), 1);
	take_all(&t, 0, NULL);
	th_fini(&t);
}
END_TEST

/* Found by packetdrill's fast_recovery/prr-ss-ack-below-snd_una-cubic.pkt:
 * with all data sent, a partial ACK in SACK recovery sent nothing, though
 * it left room in the pipe, and the holes waited for the RTO. RFC 6675 5
 * (C): on each ACK in recovery, while cwnd - pipe >= 1 SMSS, send what
 * NextSeg() names (here rule 3, a hole below the highest SACKed byte). */
START_TEST(partial_ack_in_sack_recovery_fills_the_pipe)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	tp->opt.sack_ok = true;
	tp->cc = &tcp_cc_cubic; /* ssthresh = 0.7 of the flight: 7 segments */
	tp->cwnd = 10 * MSS;
	th_queue(tp, 10 * MSS);
	tcp_output(tp);
	take_all(&t, 0, NULL);
	/* segments 1-3 are lost (0-based 0, 3 to 6 not yet SACKed), 1-2 and 7 arrive */
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + MSS, 1 + 2 * MSS } });
	peer_sack(&t, tp, 1, 1, (const uint32_t[][2]){ { 1 + MSS, 1 + 3 * MSS } });
	peer_sack(&t, tp, 1, 2, (const uint32_t[][2]){ { 1 + MSS, 1 + 3 * MSS },
						       { 1 + 7 * MSS, 1 + 8 * MSS } });
	ck_assert(tp->rec.sack_recovery);
	ck_assert_int_eq(take_all(&t, 1, NULL), 1); /* the fast retransmit */
	ck_assert_uint_eq(tp->cwnd, 7 * MSS);
	/* the ACK of the first four segments: pipe 5 segments, room for 2 */
	peer_sack(&t, tp, 1 + 4 * MSS, 1, (const uint32_t[][2]){ { 1 + 7 * MSS, 1 + 8 * MSS } });
	th_expect_seg(&t, &out, 1 + 4 * MSS, MSS, TCP_FLAG_ACK);
	take_all(&t, 0, NULL);
	ck_assert_uint_eq(counter(&t, "tcp.rto"), 0);
	th_fini(&t);
}
END_TEST

START_TEST(rto_min_flag_and_r2_lasts_180_seconds)
{
	struct host_opts o;
	char *argv[] = { "prog", "--rto-min", "10", "--cc", "reno", "--rto-min", "0",
			 "--cc", "vegas" };
	int i = 1;

	host_opts_init(&o);
	ck_assert_int_eq(host_opts_parse(&o, "prog", 9, argv, &i), 1);
	ck_assert_int_eq(i, 2);
	ck_assert_int_eq(o.rto_min_us, 10000);
	i = 3;
	ck_assert_int_eq(host_opts_parse(&o, "prog", 9, argv, &i), 1);
	ck_assert_str_eq(o.cc, "reno");
	i = 5;
	ck_assert_int_eq(host_opts_parse(&o, "prog", 9, argv, &i), -1); /* 0 ms */
	i = 7;
	ck_assert_int_eq(host_opts_parse(&o, "prog", 9, argv, &i), -1); /* not one we have */

	struct tcp_harness t;
	th_init(&t);
	ck_assert_int_eq(t.h.s.tcp.rto_min_us, TCP_RTO_MIN_US); /* the default: 200 ms */
	host_opts_apply(&o, &t.h.s);
	ck_assert_int_eq(t.h.s.tcp.rto_min_us, 10000);
	ck_assert_ptr_eq(t.h.s.tcp.cc_default, &tcp_cc_reno);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp); /* keeps tp after the drop, in CLOSED */
	struct tcp_seg out;
	/* an RTT sample of 1 ms: the RTO is clamped at the new minimum */
	th_advance(&t, 1000);
	th_queue(tp, 100);
	tcp_output(tp);
	th_expect(&t, &out);
	th_advance(&t, 1000);
	th_peer_ack(&t, tp, 51, 65535);
	ck_assert_int_eq(tp->rtt.rto, 10000);
	/* the peer goes silent: eight doublings from 10 ms take 5 s, but R2
	 * lasts 180 s (RFC 1122 4.2.3.5: at least 100 s) */
	int64_t start = t.h.now;
	while (tp->state == TCP_ESTABLISHED && t.h.now - start < 400 * 1000000LL) {
		th_advance(&t, tp->timer.rexmt - t.h.now);
		while (testdev_sent_count(t.h.dev)) /* retransmissions, ARP probes */
			pkt_free(testdev_take_sent(t.h.dev));
	}
	ck_assert_int_eq(tp->state, TCP_CLOSED);
	ck_assert_int_ge(t.h.now - start, 180 * 1000000LL);
	ck_assert_int_gt(counter(&t, "tcp.rto"), TCP_MAX_RETRIES);
	char buf[8];
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -ETIMEDOUT);
	th_fini(&t);
}
END_TEST

START_TEST(congestion_control_by_socket_option)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	char name[16];
	socklen_t len = sizeof(name);

	ck_assert_int_eq(net_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	ck_assert_str_eq(name, "cubic");
	ck_assert_int_eq(net_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	ck_assert_ptr_eq(tp->cc, &tcp_cc_reno);
	len = sizeof(name);
	ck_assert_int_eq(net_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	ck_assert_str_eq(name, "reno");
	ck_assert_int_eq(net_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "vegas", 5), -ENOENT);
	ck_assert_ptr_eq(tp->cc, &tcp_cc_reno);
	th_fini(&t);
}
END_TEST

START_TEST(maxseg_by_socket_option)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	int v = 0;
	socklen_t len = sizeof(v);

	/* what goes in one segment: the peer's MSS, less the timestamps */
	tp->opt.snd_mss = 1100;
	tp->opt.ts_ok = false;
	ck_assert_int_eq(net_getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
	ck_assert_int_eq(v, 1100);
	ck_assert_int_eq(len, sizeof(int));
	tp->opt.ts_ok = true;
	ck_assert_int_eq(net_getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
	ck_assert_int_eq(v, 1100 - 12);
	/* not connected: the default, 536 */
	int fd2 = net_socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd2, 0);
	ck_assert_int_eq(net_getsockopt(fd2, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
	ck_assert_int_eq(v, 536);
	net_close(fd2);
	th_fini(&t);
}
END_TEST

/* net_ioctl FIONREAD (SIOCINQ): what packetdrill's
 * validate-established-no-flags.pkt and the ioctl scripts ask. */
START_TEST(fionread_counts_in_order_bytes)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	uint32_t r = t.irs + 1;
	int v = -1;
	char buf[300];

	ck_assert_int_eq(net_ioctl(fd, FIONREAD, &v), 0);
	ck_assert_int_eq(v, 0);
	/* out of order: not readable yet */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r + 100, .ack = t.iss + 1, .len = 100));
	ck_assert_int_eq(net_ioctl(fd, FIONREAD, &v), 0);
	ck_assert_int_eq(v, 0);
	/* the hole filled: both */
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = r, .ack = t.iss + 1, .len = 100));
	ck_assert_int_eq(net_ioctl(fd, FIONREAD, &v), 0);
	ck_assert_int_eq(v, 200);
	ck_assert_int_eq(net_recv(fd, buf, 150, 0), 150);
	ck_assert_int_eq(net_ioctl(fd, FIONREAD, &v), 0);
	ck_assert_int_eq(v, 50);
	ck_assert_int_eq(net_ioctl(fd, FIONREAD, NULL), -EFAULT);
	ck_assert_int_eq(net_ioctl(fd, 0x5432, &v), -ENOTTY);
	/* FIONBIO: non-blocking, so an empty receive says EAGAIN */
	ck_assert_int_eq(net_recv(fd, buf, 50, 0), 50);
	v = 1;
	ck_assert_int_eq(net_ioctl(fd, FIONBIO, &v), 0);
	ck_assert_int_eq(net_recv(fd, buf, 50, 0), -EAGAIN);
	/* a listener: EINVAL, as Linux */
	int l = net_socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9999) };
	ck_assert_int_eq(net_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(net_listen(l, 1), 0);
	ck_assert_int_eq(net_ioctl(l, FIONREAD, &v), -EINVAL);
	net_close(l);
	ck_assert_int_eq(net_ioctl(12345, FIONREAD, &v), -EBADF);
	drop_tx(&t.h);
	th_fini(&t);
}
END_TEST

Suite *tcp_output_suite(void)
{
	Suite *s = suite_create("tcp_output");
	TCase *tc = tcase_create("send");
	tcase_add_test(tc, segments_at_mss_then_nagle_holds_the_tail);
	tcase_add_test(tc, nodelay_sends_small_segments_at_once);
	tcase_add_test(tc, usable_window_is_min_of_snd_wnd_and_cwnd);
	tcase_add_test(tc, sender_sws_half_the_max_window_and_override);
	tcase_add_test(tc, fin_after_data_in_fin_wait_1_and_retransmitted);
	tcase_add_test(tc, fin_in_last_ack_alone_and_its_ack_frees);
	tcase_add_test(tc, send_through_the_socket_layer);
	tcase_add_test(tc, sequence_numbers_wrap_around);
	suite_add_tcase(s, tc);

	tc = tcase_create("syn");
	tcase_add_test(tc, syn_options_laid_out_like_linux);
	tcase_add_test(tc, synack_offers_only_what_the_syn_offered);
	tcase_add_test(tc, negotiate_mss_scale_and_options);
	tcase_add_test(tc, window_scale_chosen_from_the_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("rtt");
	tcase_add_test(tc, rfc6298_srtt_rttvar_rto_exact);
	tcase_add_test(tc, karn_no_sample_from_a_retransmitted_segment);
	tcase_add_test(tc, timestamps_give_the_rtt_even_for_retransmissions);
	tcase_add_test(tc, ack_advance_frees_the_ring_and_restarts_or_stops_the_timer);
	tcase_add_test(tc, third_dupack_fast_retransmit_and_recovery);
	suite_add_tcase(s, tc);

	tc = tcase_create("ack_rst_window");
	tcase_add_test(tc, rst_reply_formula);
	tcase_add_test(tc, abort_rst_of_a_connection);
	tcase_add_test(tc, pure_ack_after_timeout_uses_snd_max);
	tcase_add_test(tc, resends_after_timeout_send_no_slivers);
	tcase_add_test(tc, challenge_acks_rate_limited);
	tcase_add_test(tc, challenge_acks_host_ceiling_random);
	tcase_add_test(tc, rcv_window_sws_and_never_shrinks);
	tcase_add_test(tc, ack_clears_the_delayed_ack_state);
	suite_add_tcase(s, tc);

	tc = tcase_create("cc");
	tcase_add_test(tc, reno_initial_window_growth_and_halving);
	tcase_add_test(tc, limited_transmit_one_new_segment_per_early_dupack);
	tcase_add_test(tc, newreno_partial_acks_recover_three_losses_without_rto);
	tcase_add_test(tc, reno_leaves_recovery_at_a_partial_ack_newreno_reduces_once);
	tcase_add_test(tc, sack_blocks_sent_newest_first_exact_bytes);
	tcase_add_test(tc, sack_scoreboard_and_hole_retransmission);
	tcase_add_test(tc, dsack_reports_a_duplicate_in_the_first_block);
	tcase_add_test(tc, dsack_undoes_a_spurious_fast_retransmit);
	tcase_add_test(tc, dsack_no_undo_when_a_loss_was_real);
	tcase_add_test(tc, sack_blocks_checked_and_rto_clears_the_scoreboard);
	tcase_add_test(tc, sack_rule3_retransmits_holes_not_yet_lost);
	tcase_add_test(tc, sack_lost_retransmission_sent_again_without_rto);
	tcase_add_test(tc, sack_rescue_retransmission_carries_the_fin);
	tcase_add_test(tc, sack_retransmission_acked_with_the_news_is_not_lost);
	tcase_add_test(tc, dsack_only_acks_are_not_duplicates);
	tcase_add_test(tc, tail_loss_probe_before_the_rto);
	tcase_add_test(tc, fast_retransmit_cancels_the_probe_and_keeps_the_rto);
	tcase_add_test(tc, partial_ack_in_sack_recovery_fills_the_pipe);
	tcase_add_test(tc, congestion_control_by_socket_option);
	tcase_add_test(tc, maxseg_by_socket_option);
	tcase_add_test(tc, fionread_counts_in_order_bytes);
	tcase_add_test(tc, rto_min_flag_and_r2_lasts_180_seconds);
	tcase_add_test(tc, no_sack_flag_takes_sack_permitted_off_the_syn);
	suite_add_tcase(s, tc);
	return s;
}

/* TCP input, SEGMENT ARRIVES (RFC 9293 3.10.7), driven segment by segment:
 * a control block is put in a state, the peer's segment is injected, and
 * the test checks the exact reply (or silence), the new state, the bytes an
 * app can read and the counters. Every transition of the RFC's state
 * diagram that input drives, the acceptability table, RST/SYN/ACK
 * robustness (RFC 5961), windows, data in and out of order, FIN, PAWS,
 * sequence wrap, ICMP errors and malformed segments. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "ip/ipv4.h"
#include "stack/byteorder.h"
#include "stack/net.h"
#include "stack/socket.h"
#include "stack/stack.h"
#include "tests/tcp_harness.h"

/* SEG(...) gives defaults (ports, window) that a test overrides on purpose */
#pragma GCC diagnostic ignored "-Woverride-init"

#define HOST_BCAST 0x0a0000ffu /* 10.0.0.255 */

/* Flags, short as in the RFC's figures. */
#define SYN TCP_FLAG_SYN
#define ACK TCP_FLAG_ACK
#define FIN TCP_FLAG_FIN
#define RST TCP_FLAG_RST
#define PSH TCP_FLAG_PSH

static uint64_t count(struct tcp_harness *t, const char *name)
{
	return stats_get(&t->h.s.stats, name);
}

/* The host's connection to the peer's port rport, or NULL. */
static struct tcb *conn(struct tcp_harness *t, uint16_t rport)
{
	struct ipaddr l = ipaddr_v4(TH_HOST_IP), r = ipaddr_v4(TH_PEER_IP);
	return tcp_lookup(&t->h.s, &l, TH_HOST_PORT, &r, rport);
}

/* Expects a pure ACK <SEQ=seq><ACK=ack><CTL=ACK> from the host. */
static void expect_ack(struct tcp_harness *t, uint32_t seq, uint32_t ack)
{
	struct tcp_seg out;
	th_expect(t, &out);
	ck_assert_uint_eq(out.flags, ACK);
	ck_assert_uint_eq(out.seq, seq);
	ck_assert_uint_eq(out.ack, ack);
	ck_assert_uint_eq(out.len, 0);
}

/* Expects a reset with exactly these flags, seq and (if it has ACK) ack. */
static void expect_rst(struct tcp_harness *t, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct tcp_seg out;
	th_expect(t, &out);
	ck_assert_uint_eq(out.flags, flags);
	ck_assert_uint_eq(out.seq, seq);
	if (flags & ACK)
		ck_assert_uint_eq(out.ack, ack);
	ck_assert_uint_eq(out.len, 0);
}

/* Reads from fd and expects exactly len bytes of th_inject's pattern for
 * the peer's sequence numbers starting at seq. */
static void expect_read(int fd, uint32_t seq, size_t len)
{
	static uint8_t buf[65536];
	ssize_t n = net_recv(fd, buf, sizeof(buf), 0);
	ck_assert_int_eq(n, (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		ck_assert_uint_eq(buf[i], (uint8_t)(seq + i));
}

/* Builds the TCP bytes of seg (pattern payload) with a checksum for
 * peer -> dst into buf. Returns the length. */
static size_t build_seg(uint8_t *buf, struct tcp_seg seg, uint32_t dst)
{
	size_t hl = tcp_emit(&seg, buf);
	for (size_t i = 0; i < seg.len; i++)
		buf[hl + i] = (uint8_t)(seg.seq + i);
	struct ipaddr s = ipaddr_v4(TH_PEER_IP), d = ipaddr_v4(dst);
	tcp_set_checksum(&s, &d, buf, hl + seg.len);
	return hl + seg.len;
}

/* Injects len raw TCP bytes from the peer to dst. */
static void inject_raw(struct tcp_harness *t, uint32_t dst, const uint8_t *tcp, size_t len)
{
	uint8_t frame[2200];
	size_t n = build_ipv4_frame(frame, t_mac_host, t_mac_peer, TH_PEER_IP, dst, IP_PROTO_TCP,
				    tcp, len);
	inject(&t->h, frame, n);
}

/* A listener, the peer's SYN, the SYN-ACK checked: returns the child in
 * SYN-RECEIVED, its iss in *iss. */
static struct tcb *passive_syn(struct tcp_harness *t, struct tcb *lp, uint16_t sport, uint32_t *iss)
{
	th_inject(t, SEG(.sport = sport, .flags = SYN, .seq = t->irs,
			 .opt = { .mss_ok = true, .mss = 1460 }));
	struct tcp_seg out;
	th_expect(t, &out);
	ck_assert_uint_eq(out.flags, SYN | ACK);
	ck_assert_uint_eq(out.ack, t->irs + 1);
	ck_assert_uint_eq(out.sport, TH_HOST_PORT);
	ck_assert_uint_eq(out.dport, sport);
	struct tcb *c = conn(t, sport);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->state, TCP_SYN_RECEIVED);
	ck_assert_ptr_eq(c->listener, lp);
	ck_assert_uint_eq(c->iss, out.seq);
	*iss = out.seq;
	return c;
}

/* ---- LISTEN ------------------------------------------------------------- */

START_TEST(test_listen_handshake_accept_queue)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	uint32_t iss;
	struct tcb *c = passive_syn(&t, lp, TH_PEER_PORT, &iss);
	ck_assert_int_eq(lp->listen.nsyn, 1);
	ck_assert_int_eq(lp->listen.naccept, 0);
	ck_assert_uint_eq(c->rcv.nxt, t.irs + 1);
	ck_assert_uint_eq(c->snd.nxt, iss + 1);

	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = iss + 1, .wnd = 30000));
	th_expect_none(&t);
	ck_assert_int_eq(c->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(c->snd.una, iss + 1);
	ck_assert_uint_eq(c->snd.wnd, 30000);
	ck_assert_int_eq(lp->listen.nsyn, 0);
	ck_assert_int_eq(lp->listen.naccept, 1);
	ck_assert_ptr_eq(tcp_accept_dequeue(lp), c);
	ck_assert_ptr_null(c->listener);
	ck_assert_uint_eq(count(&t, "tcp.passive_opens"), 1);
	ck_assert_uint_eq(count(&t, "tcp.established"), 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_listen_rst_and_ack)
{
	struct tcp_harness t;
	th_init(&t);
	th_tcb_in_state(&t, TCP_LISTEN);
	/* RFC 9293 3.10.7.2 first: a RST is ignored */
	th_inject(&t, SEG(.flags = RST, .seq = 77));
	th_expect_none(&t);
	ck_assert_uint_eq(count(&t, "tcp.listen_rst"), 1);
	/* second: an ACK is answered with <SEQ=SEG.ACK><CTL=RST> */
	th_inject(&t, SEG(.flags = ACK, .seq = 77, .ack = 123456));
	expect_rst(&t, RST, 123456, 0);
	ck_assert_uint_eq(count(&t, "tcp.listen_ack"), 1);
	/* fourth: anything else without SYN is dropped */
	th_inject(&t, SEG(.flags = FIN, .seq = 77));
	th_expect_none(&t);
	ck_assert_uint_eq(count(&t, "tcp.listen_no_syn"), 1);
	ck_assert_uint_eq(t.h.s.tcp.count, 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_listen_backlog_overflow)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	lp->listen.backlog = 1;
	uint32_t iss, iss2;
	passive_syn(&t, lp, TH_PEER_PORT, &iss);
	/* a half-open connection waits in the SYN queue, not in the backlog
	 * (RFC 4987 3.2): a second SYN is answered too */
	passive_syn(&t, lp, TH_PEER_PORT + 1, &iss2);
	ck_assert_int_eq(lp->listen.nsyn, 2);
	ck_assert_uint_eq(t.h.s.tcp.synq_len, 2);
	/* the first completes: the accept queue (backlog 1) is full */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = iss + 1));
	th_expect_none(&t);
	ck_assert_int_eq(lp->listen.naccept, 1);
	ck_assert_uint_eq(t.h.s.tcp.synq_len, 1);
	th_inject(&t, SEG(.sport = TH_PEER_PORT + 2, .flags = SYN, .seq = 9));
	th_expect_none(&t);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT + 2));
	ck_assert_uint_eq(count(&t, "tcp.listen_overflow"), 1);
	ck_assert_int_eq(lp->listen.nsyn, 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_syn_received_rst_frees_child)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	uint32_t iss;
	passive_syn(&t, lp, TH_PEER_PORT, &iss);
	/* a RST not at rcv_nxt only gets a challenge ACK */
	th_inject(&t, SEG(.flags = RST, .seq = t.irs + 5));
	expect_ack(&t, iss + 1, t.irs + 1);
	ck_assert_ptr_nonnull(conn(&t, TH_PEER_PORT));
	/* the exact one sends the connection back to LISTEN: the child goes */
	th_inject(&t, SEG(.flags = RST, .seq = t.irs + 1));
	th_expect_none(&t);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	ck_assert_int_eq(lp->listen.nsyn, 0);
	ck_assert_int_eq(lp->state, TCP_LISTEN);
	ck_assert_uint_eq(t.h.s.tcp.count, 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_syn_received_syn_again_and_bad_ack)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	uint32_t iss;
	struct tcb *c = passive_syn(&t, lp, TH_PEER_PORT, &iss);
	/* our SYN-ACK was lost: the peer's SYN again gets it again */
	th_inject(&t, SEG(.flags = SYN, .seq = t.irs));
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, SYN | ACK);
	ck_assert_uint_eq(out.seq, iss);
	ck_assert_uint_eq(out.ack, t.irs + 1);
	/* an ACK of something else: <SEQ=SEG.ACK><CTL=RST>, stays */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = iss + 50));
	expect_rst(&t, RST, iss + 50, 0);
	ck_assert_int_eq(c->state, TCP_SYN_RECEIVED);
	ck_assert_uint_eq(count(&t, "tcp.ack_unacceptable"), 1);
	/* a different SYN in the window: back to LISTEN (RFC 9293 3.10.7.4 fourth) */
	th_inject(&t, SEG(.flags = SYN, .seq = t.irs + 10));
	th_expect_none(&t);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	ck_assert_int_eq(lp->listen.nsyn, 0);
	th_fini(&t);
}
END_TEST

/* ---- SYN-SENT ----------------------------------------------------------- */

START_TEST(test_syn_sent_to_established)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	th_inject(&t, SEG(.flags = SYN | ACK, .seq = t.irs, .ack = t.iss + 1,
			  .wnd = 20000, .opt = { .mss_ok = true, .mss = 1000 }));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(tp->snd.una, t.iss + 1);
	ck_assert_uint_eq(tp->irs, t.irs);
	ck_assert_uint_eq(tp->snd.wnd, 20000);
	ck_assert_uint_eq(tp->opt.snd_mss, 1000);
	ck_assert_int_eq(tp->timer.rexmt, TCP_NO_TIMER);
	th_fini(&t);
}
END_TEST

START_TEST(test_syn_sent_synack_with_data)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = SYN | ACK, .seq = t.irs, .ack = t.iss + 1,
			  .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 101);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	/* th_inject's pattern counts from the segment's seq, the SYN's */
	expect_read(fd, t.irs, 100);
	th_fini(&t);
}
END_TEST

START_TEST(test_syn_sent_bad_ack)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	/* SEG.ACK =< ISS: <SEQ=SEG.ACK><CTL=RST> */
	th_inject(&t, SEG(.flags = SYN | ACK, .seq = t.irs, .ack = t.iss));
	expect_rst(&t, RST, t.iss, 0);
	/* SEG.ACK > SND.NXT likewise */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs, .ack = t.iss + 2));
	expect_rst(&t, RST, t.iss + 2, 0);
	ck_assert_int_eq(tp->state, TCP_SYN_SENT);
	ck_assert_uint_eq(count(&t, "tcp.ack_unacceptable"), 2);
	/* neither SYN nor RST: dropped */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs, .ack = t.iss + 1));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_SYN_SENT);
	th_fini(&t);
}
END_TEST

START_TEST(test_syn_sent_rst)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	int fd = th_socket(&t, tp);
	/* RFC 5961 3.2 / RFC 9293 3.10.7.3: a RST counts only if it ACKs our SYN */
	th_inject(&t, SEG(.flags = RST | ACK, .seq = 0, .ack = t.iss + 7));
	th_expect_none(&t);
	th_inject(&t, SEG(.flags = RST, .seq = t.irs));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_SYN_SENT);
	ck_assert_uint_eq(count(&t, "tcp.rst_no_ack"), 1);
	th_inject(&t, SEG(.flags = RST | ACK, .seq = 0, .ack = t.iss + 1));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_CLOSED);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	uint8_t b[4];
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), -ECONNREFUSED);
	th_fini(&t);
}
END_TEST

START_TEST(test_simultaneous_open)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	/* figure 8 of RFC 9293: the peer's SYN crosses ours */
	th_inject(&t, SEG(.flags = SYN, .seq = t.irs));
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, SYN | ACK);
	ck_assert_uint_eq(out.seq, t.iss);
	ck_assert_uint_eq(out.ack, t.irs + 1);
	ck_assert_int_eq(tp->state, TCP_SYN_RECEIVED);
	ck_assert_ptr_null(tp->listener);
	/* then its SYN-ACK (line 6): established, nothing more to say */
	th_inject(&t, SEG(.flags = SYN | ACK, .seq = t.irs, .ack = t.iss + 1));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(tp->snd.una, t.iss + 1);
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_simultaneous_open_plain_ack)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	th_inject(&t, SEG(.flags = SYN, .seq = t.irs));
	struct tcp_seg out;
	th_expect(&t, &out);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	th_fini(&t);
}
END_TEST

/* RFC 9293 3.10.4 CLOSE in SYN-RECEIVED (nothing sent: a FIN, FIN-WAIT-1)
 * and 3.10.7.4 fifth (FIN-WAIT-1 moves on only when the ACK covers our
 * FIN): after a simultaneous open, shutdown(SHUT_WR) sends the FIN; the
 * peer's ACK of our SYN alone must not pass for the ACK of the FIN. */
START_TEST(test_simultaneous_open_shutdown_syn_ack_only)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = SYN, .seq = t.irs));
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, SYN | ACK);
	ck_assert_int_eq(tp->state, TCP_SYN_RECEIVED);
	ck_assert_int_eq(net_shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_1);
	while (testdev_sent_count(t.h.dev) > 0)
		th_expect(&t, &out);
	/* the peer acknowledges our SYN, not our FIN */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1));
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_1);
	ck_assert_uint_eq(tp->snd.una, t.iss + 1);
	ck_assert_uint_eq(tp->snd.max, t.iss + 2); /* the FIN, still outstanding */
	/* the FIN goes again on the RTO */
	th_advance(&t, 3000000);
	bool fin_again = false;
	while (testdev_sent_count(t.h.dev) > 0) {
		th_expect(&t, &out);
		if ((out.flags & FIN) && out.seq == t.iss + 1)
			fin_again = true;
	}
	ck_assert(fin_again);
	/* acknowledged at last: FIN-WAIT-2 */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 2));
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_2);
	th_fini(&t);
}
END_TEST

START_TEST(test_syn_received_active_rst_refused)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_RECEIVED);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = RST, .seq = t.irs + 1));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_CLOSED);
	uint8_t b[4];
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), -ECONNREFUSED);
	th_fini(&t);
}
END_TEST

/* ---- closing transitions ------------------------------------------------ */

START_TEST(test_established_fin_to_close_wait)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = FIN | ACK, .seq = t.irs + 1, .ack = t.iss + 1));
	expect_ack(&t, t.iss + 1, t.irs + 2);
	ck_assert_int_eq(tp->state, TCP_CLOSE_WAIT);
	ck_assert(tp->fin_rcvd);
	uint8_t b[4];
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), 0);
	th_fini(&t);
}
END_TEST

START_TEST(test_fin_wait_1_to_fin_wait_2)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_FIN_WAIT_1);
	th_socket(&t, tp);
	/* an ACK short of our FIN changes nothing */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_1);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 2));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_2);
	ck_assert_uint_eq(tp->snd.una, t.iss + 2);
	th_fini(&t);
}
END_TEST

START_TEST(test_fin_wait_1_to_closing_to_time_wait)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_FIN_WAIT_1);
	th_inject(&t, SEG(.flags = FIN | ACK, .seq = t.irs + 1, .ack = t.iss + 1));
	expect_ack(&t, t.iss + 2, t.irs + 2);
	ck_assert_int_eq(tp->state, TCP_CLOSING);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 2, .ack = t.iss + 2));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_TIME_WAIT);
	ck_assert_int_eq(tp->timer.twomsl, t.h.now + 2 * t.h.s.tcp.msl_us);
	th_fini(&t);
}
END_TEST

START_TEST(test_fin_wait_1_to_time_wait)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_FIN_WAIT_1);
	th_inject(&t, SEG(.flags = FIN | ACK, .seq = t.irs + 1, .ack = t.iss + 2));
	expect_ack(&t, t.iss + 2, t.irs + 2);
	ck_assert_int_eq(tp->state, TCP_TIME_WAIT);
	th_fini(&t);
}
END_TEST

START_TEST(test_fin_wait_2_to_time_wait_and_expiry)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_FIN_WAIT_2);
	th_inject(&t, SEG(.flags = FIN | ACK, .seq = t.irs + 1, .ack = t.iss + 2));
	expect_ack(&t, t.iss + 2, t.irs + 2);
	ck_assert_int_eq(tp->state, TCP_TIME_WAIT);
	ck_assert_int_eq(tp->timer.twomsl, t.h.now + 2 * t.h.s.tcp.msl_us);
	ck_assert_uint_eq(t.h.s.tcp.time_wait, 1); /* counted (tcpcat stops waiting on it) */
	th_advance(&t, 2 * t.h.s.tcp.msl_us - 1);
	ck_assert_ptr_nonnull(conn(&t, TH_PEER_PORT));
	th_advance(&t, 2);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	ck_assert_uint_eq(t.h.s.tcp.time_wait, 0);
	th_fini(&t);
}
END_TEST

START_TEST(test_last_ack_to_closed)
{
	struct tcp_harness t;
	th_init(&t);
	th_tcb_in_state(&t, TCP_LAST_ACK);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 2, .ack = t.iss + 1));
	ck_assert_ptr_nonnull(conn(&t, TH_PEER_PORT));
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 2, .ack = t.iss + 2));
	th_expect_none(&t);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	th_fini(&t);
}
END_TEST

START_TEST(test_last_ack_with_socket)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_LAST_ACK);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 2, .ack = t.iss + 2));
	ck_assert_int_eq(tp->state, TCP_CLOSED);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	uint8_t b[4];
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), 0);
	th_fini(&t);
}
END_TEST

START_TEST(test_time_wait_fin_retransmit)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_TIME_WAIT);
	th_advance(&t, 10 * 1000000);
	/* our last ACK was lost: the peer's FIN again is ACKed, 2MSL restarts */
	th_inject(&t, SEG(.flags = FIN | ACK, .seq = t.irs + 1, .ack = t.iss + 2));
	expect_ack(&t, t.iss + 2, t.irs + 2);
	ck_assert_int_eq(tp->state, TCP_TIME_WAIT);
	ck_assert_int_eq(tp->timer.twomsl, t.h.now + 2 * t.h.s.tcp.msl_us);
	th_fini(&t);
}
END_TEST

START_TEST(test_time_wait_new_syn)
{
	struct tcp_harness t;
	th_init(&t);
	th_tcb_in_state(&t, TCP_TIME_WAIT);
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	/* an old SYN: answered with an ACK, TIME-WAIT stays */
	th_inject(&t, SEG(.flags = SYN, .seq = t.irs));
	expect_ack(&t, t.iss + 2, t.irs + 2);
	ck_assert_int_eq(conn(&t, TH_PEER_PORT)->state, TCP_TIME_WAIT);
	/* RFC 1122 4.2.2.13: a SYN past the old sequence space opens anew */
	t.irs += 100000;
	uint32_t iss;
	struct tcb *c = passive_syn(&t, lp, TH_PEER_PORT, &iss);
	ck_assert_uint_eq(c->irs, t.irs);
	ck_assert_uint_eq(count(&t, "tcp.time_wait_reused"), 1);
	ck_assert_uint_eq(t.h.s.tcp.count, 2);
	th_fini(&t);
}
END_TEST

/* ---- first, check the sequence number: the acceptability table ---------- */

/* Makes tp's receive window zero: nothing offered, no space. */
static void close_window(struct tcb *tp)
{
	ring_set_limit(&tp->rcvbuf, 0);
	tp->rcv.adv = tp->rcv.nxt;
}

START_TEST(test_accept_len0_wnd0)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	close_window(tp);
	/* acceptable only if SEG.SEQ = RCV.NXT */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .wnd = 500));
	th_expect_none(&t);
	ck_assert_uint_eq(tp->snd.wnd, 500);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 2, .ack = t.iss + 1, .wnd = 600));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(tp->snd.wnd, 500);
	ck_assert_uint_eq(count(&t, "tcp.out_of_window"), 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_accept_len0_wnd)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	uint32_t wnd = tp->rcv.adv - tp->rcv.nxt;
	/* RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1 + wnd - 1, .ack = t.iss + 1));
	th_expect_none(&t);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1 + wnd, .ack = t.iss + 1));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	/* RFC 5961 7: the next one right away is not answered (one ACK per
	 * 500 ms per connection for segments without data), later it is */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs, .ack = t.iss + 1));
	th_expect_none(&t);
	ck_assert_uint_eq(count(&t, "tcp.oow_ack_limited"), 1);
	th_advance(&t, TCP_OOW_ACK_INTERVAL_US);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs, .ack = t.iss + 1));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(count(&t, "tcp.out_of_window"), 3);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	th_fini(&t);
}
END_TEST

START_TEST(test_accept_len_wnd0)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	close_window(tp);
	/* not acceptable: the data is not taken, the ACK says rcv_nxt */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 1));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 1);
	ck_assert_uint_eq(tp->rcvbuf.len, 0);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 2, .ack = t.iss + 1, .len = 10));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(tp->rcvbuf.len, 0);
	th_fini(&t);
}
END_TEST

START_TEST(test_accept_len_wnd)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	uint32_t right = tp->rcv.adv;
	/* wholly after the window: ACK */
	th_inject(&t, SEG(.flags = ACK, .seq = right, .ack = t.iss + 1, .len = 10));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	/* starts in the window: accepted */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 100));
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 101);
	/* wholly old: ACK at once */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 101);
	/* ends in the window (partly old): the new part is taken, ACK at once */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 51, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 151);
	ck_assert_uint_eq(count(&t, "tcp.out_of_window"), 2);
	expect_read(fd, t.irs + 1, 150);
	th_fini(&t);
}
END_TEST

START_TEST(test_zero_window_ack_still_processed)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	close_window(tp);
	ring_write(&tp->sndbuf, "0123456789", 10);
	tp->snd.nxt = tp->snd.max = t.iss + 11;
	/* RFC 9293 3.10.7.4: a zero window still takes valid ACKs */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 11, .len = 1));
	expect_ack(&t, t.iss + 11, t.irs + 1);
	ck_assert_uint_eq(tp->snd.una, t.iss + 11);
	ck_assert_uint_eq(tp->rcvbuf.len, 0);
	th_fini(&t);
}
END_TEST

/* ---- second, check the RST bit ---------------------------------------- */

START_TEST(test_rst_exact_resets)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = RST, .seq = t.irs + 1));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_CLOSED);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	uint8_t b[4];
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), -ECONNRESET);
	ck_assert_uint_eq(count(&t, "tcp.drop_reset"), 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_rst_in_window_challenged)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	th_inject(&t, SEG(.flags = RST, .seq = t.irs + 1000));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(count(&t, "tcp.rst_challenged"), 1);
	/* outside the window: dropped without a word */
	th_inject(&t, SEG(.flags = RST, .seq = t.irs));
	th_inject(&t, SEG(.flags = RST, .seq = tp->rcv.adv));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(count(&t, "tcp.out_of_window"), 2);
	th_fini(&t);
}
END_TEST

START_TEST(test_rst_zero_window_exact)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	close_window(tp);
	th_inject(&t, SEG(.flags = RST, .seq = t.irs + 2));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	th_inject(&t, SEG(.flags = RST, .seq = t.irs + 1));
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	th_fini(&t);
}
END_TEST

START_TEST(test_rst_in_closing_states)
{
	static const enum tcp_state states[] = { TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT,
						  TCP_FIN_WAIT_2, TCP_CLOSE_WAIT };
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct tcp_harness t;
		th_init(&t);
		struct tcb *tp = th_tcb_in_state(&t, states[i]);
		th_inject(&t, SEG(.flags = RST, .seq = tp->rcv.nxt));
		th_expect_none(&t);
		ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
		ck_assert_uint_eq(t.h.s.tcp.count, 0);
		th_fini(&t);
	}
}
END_TEST

/* ---- fourth, check the SYN bit ---------------------------------------- */

START_TEST(test_syn_in_established_challenged)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	th_inject(&t, SEG(.flags = SYN, .seq = t.irs + 100));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(count(&t, "tcp.syn_challenged"), 1);
	/* a SYN-ACK likewise (once the connection's challenge ACK budget,
	 * one per 500 ms, RFC 5961 7, allows another) */
	th_advance(&t, TCP_OOW_ACK_INTERVAL_US);
	th_inject(&t, SEG(.flags = SYN | ACK, .seq = t.irs + 1, .ack = t.iss + 1));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(count(&t, "tcp.syn_challenged"), 2);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	th_fini(&t);
}
END_TEST

/* ---- fifth, check the ACK field ---------------------------------------- */

START_TEST(test_no_ack_dropped)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	th_inject(&t, SEG(.seq = t.irs + 1, .len = 10));
	th_expect_none(&t);
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 1);
	ck_assert_uint_eq(count(&t, "tcp.no_ack"), 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_ack_unsent_data)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 11, .len = 50));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(tp->snd.una, t.iss + 1);
	ck_assert_uint_eq(tp->rcvbuf.len, 0);
	ck_assert_uint_eq(count(&t, "tcp.ack_unacceptable"), 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_ack_too_old_and_old)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	/* RFC 5961 5.2: below SND.UNA - MAX.SND.WND: challenge ACK, dropped */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1 - 70000, .len = 50));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(tp->rcvbuf.len, 0);
	ck_assert_uint_eq(count(&t, "tcp.ack_unacceptable"), 1);
	/* just old: the ACK is ignored, the data taken, the window kept */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss - 99, .len = 50,
			  .wnd = 1));
	ck_assert_uint_eq(tp->rcvbuf.len, 50);
	ck_assert_uint_eq(tp->snd.una, t.iss + 1);
	ck_assert_uint_eq(tp->snd.wnd, 65535);
	th_fini(&t);
}
END_TEST

START_TEST(test_ack_advances_and_window_update)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	static uint8_t data[1000];
	ring_write(&tp->sndbuf, data, sizeof(data));
	tp->snd.nxt = tp->snd.max = t.iss + 1001;
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 501, .wnd = 1000));
	ck_assert_uint_eq(tp->snd.una, t.iss + 501);
	ck_assert_uint_eq(tp->sndbuf.len, 500);
	ck_assert_uint_eq(tp->snd.wnd, 1000);
	ck_assert_uint_eq(tp->snd.wl1, t.irs + 1);
	ck_assert_uint_eq(tp->snd.wl2, t.iss + 501);
	/* an older ACK does not move the window (SND.UNA =< SEG.ACK fails) */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 301, .wnd = 5000));
	ck_assert_uint_eq(tp->snd.wnd, 1000);
	ck_assert_uint_eq(tp->snd.una, t.iss + 501);
	/* a later segment (SND.WL1 < SEG.SEQ) does */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 101, .ack = t.iss + 501, .wnd = 3000,
			  .len = 10));
	ck_assert_uint_eq(tp->snd.wnd, 3000);
	ck_assert_uint_eq(tp->snd.wl1, t.irs + 101);
	/* an earlier one arriving late does not (SND.WL1 > SEG.SEQ) */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 501, .wnd = 700,
			  .len = 10));
	ck_assert_uint_eq(tp->snd.wnd, 3000);
	ck_assert_uint_eq(tp->snd.wl1, t.irs + 101);
	/* same SEG.SEQ as SND.WL1 with SND.WL2 =< SEG.ACK: updates */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 101, .ack = t.iss + 501, .wnd = 2500));
	ck_assert_uint_eq(tp->snd.wnd, 2500);
	th_fini(&t);
}
END_TEST

START_TEST(test_dupacks_fast_retransmit)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	static uint8_t data[3000];
	ring_write(&tp->sndbuf, data, sizeof(data));
	tp->snd.nxt = tp->snd.max = t.iss + 3001;
	tp->cc->init(tp);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1));
	ck_assert_int_eq(tp->rec.dupacks, 1);
	/* a changed window is no duplicate, nor is a segment with data */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .wnd = 60000));
	ck_assert_int_eq(tp->rec.dupacks, 1);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .wnd = 60000,
			  .len = 10));
	ck_assert_int_eq(tp->rec.dupacks, 1);
	while (testdev_sent_count(t.h.dev))
		pkt_free(testdev_take_sent(t.h.dev));
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 11, .ack = t.iss + 1, .wnd = 60000));
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 11, .ack = t.iss + 1, .wnd = 60000));
	ck_assert_int_eq(tp->rec.dupacks, 3);
	ck_assert_uint_eq(count(&t, "tcp.fast_retransmit"), 1);
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.seq, t.iss + 1);
	ck_assert_uint_gt(out.len, 0);
	th_fini(&t);
}
END_TEST

/* ---- seventh, process the segment text -------------------------------- */

START_TEST(test_data_in_order_delayed_ack)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = ACK | PSH, .seq = t.irs + 1, .ack = t.iss + 1,
			  .len = 100));
	th_expect_none(&t);
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 101);
	th_advance(&t, TCP_DELACK_US - 1);
	th_expect_none(&t);
	th_advance(&t, 1);
	expect_ack(&t, t.iss + 1, t.irs + 101);
	expect_read(fd, t.irs + 1, 100);
	ck_assert_uint_eq(tp->stat.bytes_received, 100);
	th_fini(&t);
}
END_TEST

START_TEST(test_data_two_full_segments_ack_at_once)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 1460));
	th_expect_none(&t);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1461, .ack = t.iss + 1, .len = 1460));
	expect_ack(&t, t.iss + 1, t.irs + 2921);
	expect_read(fd, t.irs + 1, 2920);
	th_fini(&t);
}
END_TEST

START_TEST(test_data_out_of_order_then_fill)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	uint8_t b[16];
	/* two segments past a hole: held, each answered at once with rcv_nxt */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 101, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 301, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_int_eq(tp->nooo, 2);
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), -EAGAIN);
	/* the first hole filled: everything up to the second hole, ACK at once */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 201);
	ck_assert_int_eq(tp->nooo, 1);
	/* an overlapping duplicate of held data changes nothing */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 351, .ack = t.iss + 1, .len = 20));
	expect_ack(&t, t.iss + 1, t.irs + 201);
	ck_assert_int_eq(tp->nooo, 1);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 201, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 401);
	ck_assert_int_eq(tp->nooo, 0);
	expect_read(fd, t.irs + 1, 400);
	ck_assert_uint_eq(tp->stat.bytes_received, 400);
	th_fini(&t);
}
END_TEST

/* A segment whose bytes are all held out of order already is a duplicate
 * (tcp_reass_covers): counted as such, answered with the same ACK, and the
 * ranges held stay as they were; one that reaches past a range is not. */
START_TEST(test_data_out_of_order_duplicate)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 101, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 101, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(count(&t, "tcp.rcv_duplicate_bytes"), 100);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 151, .ack = t.iss + 1, .len = 30));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(count(&t, "tcp.rcv_duplicate_bytes"), 130);
	ck_assert_int_eq(tp->nooo, 1);
	/* 50 bytes of it new: kept, the range grows, not a duplicate */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 151, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(count(&t, "tcp.rcv_duplicate_bytes"), 130);
	ck_assert_int_eq(tp->nooo, 1);
	ck_assert_uint_eq(tp->ooo[0].start, t.irs + 101);
	ck_assert_uint_eq(tp->ooo[0].end, t.irs + 251);
	th_fini(&t);
}
END_TEST

START_TEST(test_data_out_of_order_merge_and_limit)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	/* TCP_OOO_MAX disjoint ranges are held, one more is not */
	for (int i = 0; i <= TCP_OOO_MAX; i++)
		th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1 + 200 * (i + 1),
				  .ack = t.iss + 1, .len = 10));
	ck_assert_int_eq(tp->nooo, TCP_OOO_MAX);
	ck_assert_uint_eq(count(&t, "tcp.ooo_full"), 1);
	/* bridging two ranges merges them into one */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 211, .ack = t.iss + 1, .len = 190));
	ck_assert_int_eq(tp->nooo, TCP_OOO_MAX - 1);
	ck_assert_uint_eq(tp->ooo[0].start, t.irs + 201);
	ck_assert_uint_eq(tp->ooo[0].end, t.irs + 411);
	/* the hole filled: rcv_nxt runs to the end of the merged range */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 200));
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 411);
	ck_assert_uint_eq(tp->rcvbuf.len, 410);
	th_fini(&t);
}
END_TEST

START_TEST(test_data_beyond_window_trimmed)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	ring_set_limit(&tp->rcvbuf, 100);
	tp->rcv.adv = tp->rcv.nxt + 100;
	th_inject(&t, SEG(.flags = ACK | FIN, .seq = t.irs + 1, .ack = t.iss + 1,
			  .len = 300));
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 101);
	ck_assert_uint_eq(count(&t, "tcp.rcv_beyond_window_bytes"), 200);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED); /* the FIN was past the window */
	expect_read(fd, t.irs + 1, 100);
	th_fini(&t);
}
END_TEST

START_TEST(test_data_beyond_buffer_trimmed)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	ring_set_limit(&tp->rcvbuf, 100); /* the app shrank the buffer after we offered more */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 300));
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 101);
	ck_assert_uint_eq(tp->rcvbuf.len, 100);
	ck_assert_uint_eq(count(&t, "tcp.rcv_buffer_full_bytes"), 200);
	th_fini(&t);
}
END_TEST

START_TEST(test_data_after_close_resets)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_FIN_WAIT_2);
	(void)tp;
	/* RFC 2525 2.17: nobody will read it (orphan): RST */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 2, .len = 10));
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert(out.flags & RST);
	ck_assert_uint_eq(out.seq, t.iss + 2);
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	ck_assert_uint_eq(count(&t, "tcp.data_after_close"), 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_data_in_fin_wait_1_half_close)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_FIN_WAIT_1);
	int fd = th_socket(&t, tp); /* shutdown(SHUT_WR): the app still reads */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 2, .len = 10));
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_2);
	expect_read(fd, t.irs + 1, 10);
	th_fini(&t);
}
END_TEST

START_TEST(test_data_rd_shut_discarded)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	tp->rd_shut = true;
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 100));
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 101);
	ck_assert_uint_eq(tp->rcvbuf.len, 0);
	th_advance(&t, TCP_DELACK_US);
	expect_ack(&t, t.iss + 1, t.irs + 101);
	th_fini(&t);
}
END_TEST

START_TEST(test_data_after_fin_ignored)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_CLOSE_WAIT);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 2, .ack = t.iss + 1, .len = 10));
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 2);
	ck_assert_uint_eq(tp->rcvbuf.len, 0);
	ck_assert_uint_eq(count(&t, "tcp.data_after_fin"), 1);
	th_fini(&t);
}
END_TEST

/* ---- eighth, check the FIN bit ---------------------------------------- */

START_TEST(test_fin_with_data)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = ACK | FIN, .seq = t.irs + 1, .ack = t.iss + 1,
			  .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 102);
	ck_assert_int_eq(tp->state, TCP_CLOSE_WAIT);
	expect_read(fd, t.irs + 1, 100);
	uint8_t b[4];
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), 0);
	th_fini(&t);
}
END_TEST

START_TEST(test_fin_out_of_order_held)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = ACK | FIN, .seq = t.irs + 101, .ack = t.iss + 1,
			  .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert(!tp->fin_rcvd);
	/* data past the held FIN cannot be */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 201, .ack = t.iss + 1, .len = 10));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	ck_assert_uint_eq(count(&t, "tcp.data_after_fin"), 1);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 202);
	ck_assert_int_eq(tp->state, TCP_CLOSE_WAIT);
	expect_read(fd, t.irs + 1, 200);
	uint8_t b[4];
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), 0);
	th_fini(&t);
}
END_TEST

/* RFC 9293 3.4, 3.10.7.4 eighth: nothing is valid past a FIN. A FIN that
 * lands inside data held out of order already: the held bytes past it are
 * thrown away (tcp.data_after_fin_bytes), and once the hole fills the FIN
 * counts at its own sequence number. */
START_TEST(test_fin_inside_held_data)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	/* [201, 401) held */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 201, .ack = t.iss + 1, .len = 200));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	/* [101, 251) with the FIN at 251, inside the held range */
	th_inject(&t, SEG(.flags = ACK | FIN, .seq = t.irs + 101, .ack = t.iss + 1,
			  .len = 150));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	/* the hole filled: the stream ends at 251, the FIN is acknowledged */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 252);
	ck_assert_int_eq(tp->state, TCP_CLOSE_WAIT);
	ck_assert(tp->fin_rcvd);
	expect_read(fd, t.irs + 1, 250);
	uint8_t b[4];
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), 0);
	ck_assert_uint_eq(count(&t, "tcp.data_after_fin_bytes"), 150);
	th_fini(&t);
}
END_TEST

/* The same with the FIN in order: held data past it never reaches the app. */
START_TEST(test_fin_in_order_before_held_data)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 101, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	th_inject(&t, SEG(.flags = ACK | FIN, .seq = t.irs + 1, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 102);
	ck_assert_int_eq(tp->state, TCP_CLOSE_WAIT);
	ck_assert_int_eq(tp->nooo, 0);
	expect_read(fd, t.irs + 1, 100);
	uint8_t b[4];
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), 0);
	ck_assert_uint_eq(count(&t, "tcp.data_after_fin_bytes"), 100);
	/* more data past the FIN: dropped, counted, never delivered */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 102, .ack = t.iss + 1, .len = 10));
	ck_assert_uint_eq(count(&t, "tcp.data_after_fin"), 1);
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), 0);
	th_fini(&t);
}
END_TEST

/* ---- 3.10.7.1 CLOSED ---------------------------------------------------- */

START_TEST(test_closed_port_rst_like_linux)
{
	struct tcp_harness t;
	th_init(&t);
	/* Linux's answer to a SYN to a closed port: seq 0, ack = SYN seq + 1,
	 * RST|ACK, window 0; the TCP header must match byte for byte */
	uint8_t syn[256], rst[256];
	size_t n = vector_frame("tcp-rst-closed-port.pcap", 2, syn, sizeof(syn));
	size_t m = vector_frame("tcp-rst-closed-port.pcap", 3, rst, sizeof(rst));
	ck_assert_uint_eq(m, ETH_HDR_LEN + IPV4_HDR_LEN + TCP_HDR_LEN);
	inject(&t.h, syn, n);
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, RST | ACK);
	ck_assert_uint_eq(out.seq, 0);
	ck_assert_uint_eq(out.wnd, 0);
	ck_assert_mem_eq(t.last, rst + ETH_HDR_LEN + IPV4_HDR_LEN, TCP_HDR_LEN);
	ck_assert_uint_eq(count(&t, "tcp.no_connection"), 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_closed_port_other_segments)
{
	struct tcp_harness t;
	th_init(&t);
	/* with ACK: <SEQ=SEG.ACK><CTL=RST> */
	th_inject(&t, SEG(.flags = ACK, .seq = 500, .ack = 9000, .len = 20));
	expect_rst(&t, RST, 9000, 0);
	/* without: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counted */
	th_inject(&t, SEG(.flags = FIN, .seq = 500, .len = 20));
	expect_rst(&t, RST | ACK, 0, 521);
	/* never a RST for a RST */
	th_inject(&t, SEG(.flags = RST | ACK, .seq = 500, .ack = 9000));
	th_expect_none(&t);
	ck_assert_uint_eq(count(&t, "tcp.no_connection"), 3);
	th_fini(&t);
}
END_TEST

START_TEST(test_broadcast_dropped)
{
	struct tcp_harness t;
	th_init(&t);
	th_tcb_in_state(&t, TCP_LISTEN);
	uint8_t b[128];
	size_t n = build_seg(b, SEG(.flags = SYN, .seq = 1), HOST_BCAST);
	inject_raw(&t, HOST_BCAST, b, n);
	th_expect_none(&t);
	ck_assert_uint_eq(count(&t, "tcp.broadcast"), 1);
	ck_assert_uint_eq(t.h.s.tcp.count, 1);
	th_fini(&t);
}
END_TEST

START_TEST(test_malformed_dropped)
{
	struct tcp_harness t;
	th_init(&t);
	uint8_t b[128];
	/* bad checksum */
	size_t n = build_seg(b, SEG(.flags = SYN, .seq = 1), TH_HOST_IP);
	b[16] ^= 0x01;
	inject_raw(&t, TH_HOST_IP, b, n);
	ck_assert_uint_eq(count(&t, "tcp.bad_checksum"), 1);
	/* shorter than a header */
	inject_raw(&t, TH_HOST_IP, b, 12);
	ck_assert_uint_eq(count(&t, "tcp.short"), 1);
	/* data offset past the segment, checksum right */
	n = build_seg(b, SEG(.flags = SYN, .seq = 1), TH_HOST_IP);
	b[12] = 0xf0;
	struct ipaddr s = ipaddr_v4(TH_PEER_IP), d = ipaddr_v4(TH_HOST_IP);
	be16_put(b + 16, 0);
	tcp_set_checksum(&s, &d, b, n);
	inject_raw(&t, TH_HOST_IP, b, n);
	ck_assert_uint_eq(count(&t, "tcp.bad_offset"), 1);
	/* an MSS option of length 3 */
	n = build_seg(b, SEG(.flags = SYN, .seq = 1, .opt = { .mss_ok = true, .mss = 1460 }),
		      TH_HOST_IP);
	ck_assert_uint_eq(b[20], TCP_OPT_MSS);
	b[21] = 3;
	be16_put(b + 16, 0);
	tcp_set_checksum(&s, &d, b, n);
	inject_raw(&t, TH_HOST_IP, b, n);
	ck_assert_uint_eq(count(&t, "tcp.bad_option"), 1);
	/* none of them reached the "no connection" answer */
	th_expect_none(&t);
	ck_assert_uint_eq(count(&t, "tcp.no_connection"), 0);
	ck_assert_uint_eq(count(&t, "tcp.rx_segments"), 4);
	th_fini(&t);
}
END_TEST

/* ---- sequence wrap, PAWS ---------------------------------------------- */

START_TEST(test_sequence_wrap)
{
	struct tcp_harness t;
	th_init(&t);
	t.iss = 0xfffffff6u;
	t.irs = 0xfffffff6u;
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	/* out of order across 0, then the hole: all in order */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 101, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 1);
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 100));
	expect_ack(&t, t.iss + 1, t.irs + 201);
	ck_assert_uint_eq(tp->rcv.nxt, 0xfffffff6u + 201);
	expect_read(fd, t.irs + 1, 200);
	/* our data across 0 acknowledged */
	static uint8_t data[100];
	ring_write(&tp->sndbuf, data, sizeof(data));
	tp->snd.nxt = tp->snd.max = t.iss + 101;
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 201, .ack = t.iss + 101));
	ck_assert_uint_eq(tp->snd.una, t.iss + 101);
	ck_assert_uint_eq(tp->sndbuf.len, 0);
	/* an old segment from before 0 is still old */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 101, .len = 10));
	expect_ack(&t, t.iss + 101, t.irs + 201);
	th_inject(&t, SEG(.flags = ACK | FIN, .seq = t.irs + 201, .ack = t.iss + 101));
	expect_ack(&t, t.iss + 101, t.irs + 202);
	ck_assert_int_eq(tp->state, TCP_CLOSE_WAIT);
	th_fini(&t);
}
END_TEST

START_TEST(test_paws)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	tp->opt.ts_ok = true;
	tp->opt.ts_recent = 1000;
	tp->opt.ts_recent_time = t.h.now;
	/* older timestamp: not acceptable, ACKed and dropped (RFC 7323 5.3 R1) */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 10,
			  .opt = { .ts_ok = true, .tsval = 999, .tsecr = 1 }));
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, ACK);
	ck_assert_uint_eq(out.ack, t.irs + 1);
	ck_assert(out.opt.ts_ok);
	ck_assert_uint_eq(out.opt.tsecr, 1000);
	ck_assert_uint_eq(tp->rcvbuf.len, 0);
	ck_assert_uint_eq(count(&t, "tcp.paws_rejected"), 1);
	/* newer: taken, TS.Recent follows (RFC 7323 4.3) */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 10,
			  .opt = { .ts_ok = true, .tsval = 1001, .tsecr = 1 }));
	ck_assert_uint_eq(tp->rcvbuf.len, 10);
	ck_assert_uint_eq(tp->opt.ts_recent, 1001);
	/* a RST is exempt */
	th_inject(&t, SEG(.flags = RST, .seq = t.irs + 11,
			  .opt = { .ts_ok = true, .tsval = 5, .tsecr = 1 }));
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	ck_assert_uint_eq(count(&t, "tcp.paws_rejected"), 1);
	th_fini(&t);
}
END_TEST

/* RFC 7323 3.2: on a connection that agreed to timestamps, a segment
 * without them is dropped silently (no ACK, no data taken, nothing
 * aborted), counted in tcp.ts_missing; a RST without them still counts. */
START_TEST(test_segment_without_timestamps_dropped)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	tp->opt.ts_ok = true;
	tp->opt.ts_recent = 1000;
	tp->opt.ts_recent_time = t.h.now;
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 10));
	th_expect_none(&t);
	ck_assert_uint_eq(tp->rcvbuf.len, 0);
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 1);
	ck_assert_uint_eq(count(&t, "tcp.ts_missing"), 1);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	/* a FIN without them: dropped too */
	th_inject(&t, SEG(.flags = ACK | FIN, .seq = t.irs + 1, .ack = t.iss + 1));
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(count(&t, "tcp.ts_missing"), 2);
	/* the same data with timestamps: taken */
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 10,
			  .opt = { .ts_ok = true, .tsval = 1001, .tsecr = 1 }));
	ck_assert_uint_eq(tp->rcvbuf.len, 10);
	/* without timestamps negotiated nothing is asked for */
	tp->opt.ts_ok = false;
	th_inject(&t, SEG(.flags = ACK, .seq = t.irs + 11, .ack = t.iss + 1, .len = 10));
	ck_assert_uint_eq(tp->rcvbuf.len, 20);
	tp->opt.ts_ok = true;
	/* a RST is exempt */
	th_inject(&t, SEG(.flags = RST, .seq = t.irs + 21));
	ck_assert_ptr_null(conn(&t, TH_PEER_PORT));
	ck_assert_uint_eq(count(&t, "tcp.ts_missing"), 2);
	th_fini(&t);
}
END_TEST

/* ---- ICMP errors -------------------------------------------------------- */

static void icmp_err(struct tcp_harness *t, uint32_t seq, int err, uint16_t mtu)
{
	struct ipaddr l = ipaddr_v4(TH_HOST_IP), r = ipaddr_v4(TH_PEER_IP);
	tcp_icmp_error(&t->h.s, &l, TH_HOST_PORT, &r, TH_PEER_PORT, seq, err, mtu);
}

START_TEST(test_icmp_syn_sent_hard_error)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	int fd = th_socket(&t, tp);
	/* a quoted seq we never sent is ignored (RFC 5927 4.1) */
	icmp_err(&t, t.iss + 5, ECONNREFUSED, 0);
	ck_assert_int_eq(tp->state, TCP_SYN_SENT);
	ck_assert_uint_eq(count(&t, "tcp.icmp_out_of_window"), 1);
	/* port unreachable about our SYN aborts the connect */
	icmp_err(&t, t.iss, ECONNREFUSED, 0);
	ck_assert_int_eq(tp->state, TCP_CLOSED);
	uint8_t b[4];
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), -ECONNREFUSED);
	th_fini(&t);
}
END_TEST

START_TEST(test_icmp_established_soft_and_frag_needed)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	static uint8_t data[2000];
	ring_write(&tp->sndbuf, data, sizeof(data));
	tp->snd.nxt = tp->snd.max = t.iss + 1461;
	/* hard errors are soft once established (RFC 5927 4.2) */
	icmp_err(&t, t.iss + 1, ECONNREFUSED, 0);
	icmp_err(&t, t.iss + 1, EHOSTUNREACH, 0);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(count(&t, "tcp.icmp_soft"), 2);
	th_expect_none(&t);
	/* fragmentation needed: smaller segments, the oldest sent again */
	icmp_err(&t, t.iss + 1, EMSGSIZE, 1000);
	ck_assert_uint_eq(tp->opt.snd_mss, 960);
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.seq, t.iss + 1);
	ck_assert_uint_eq(out.len, 960);
	/* a larger MTU does not raise it */
	icmp_err(&t, t.iss + 1, EMSGSIZE, 1400);
	ck_assert_uint_eq(tp->opt.snd_mss, 960);
	th_fini(&t);
}
END_TEST

Suite *tcp_input_suite(void)
{
	Suite *s = suite_create("tcp_input");
	TCase *tc = tcase_create("open");
	tcase_add_test(tc, test_listen_handshake_accept_queue);
	tcase_add_test(tc, test_listen_rst_and_ack);
	tcase_add_test(tc, test_listen_backlog_overflow);
	tcase_add_test(tc, test_syn_received_rst_frees_child);
	tcase_add_test(tc, test_syn_received_syn_again_and_bad_ack);
	tcase_add_test(tc, test_syn_sent_to_established);
	tcase_add_test(tc, test_syn_sent_synack_with_data);
	tcase_add_test(tc, test_syn_sent_bad_ack);
	tcase_add_test(tc, test_syn_sent_rst);
	tcase_add_test(tc, test_simultaneous_open);
	tcase_add_test(tc, test_simultaneous_open_plain_ack);
	tcase_add_test(tc, test_simultaneous_open_shutdown_syn_ack_only);
	tcase_add_test(tc, test_syn_received_active_rst_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_add_test(tc, test_established_fin_to_close_wait);
	tcase_add_test(tc, test_fin_wait_1_to_fin_wait_2);
	tcase_add_test(tc, test_fin_wait_1_to_closing_to_time_wait);
	tcase_add_test(tc, test_fin_wait_1_to_time_wait);
	tcase_add_test(tc, test_fin_wait_2_to_time_wait_and_expiry);
	tcase_add_test(tc, test_last_ack_to_closed);
	tcase_add_test(tc, test_last_ack_with_socket);
	tcase_add_test(tc, test_time_wait_fin_retransmit);
	tcase_add_test(tc, test_time_wait_new_syn);
	suite_add_tcase(s, tc);

	tc = tcase_create("checks");
	tcase_add_test(tc, test_accept_len0_wnd0);
	tcase_add_test(tc, test_accept_len0_wnd);
	tcase_add_test(tc, test_accept_len_wnd0);
	tcase_add_test(tc, test_accept_len_wnd);
	tcase_add_test(tc, test_zero_window_ack_still_processed);
	tcase_add_test(tc, test_rst_exact_resets);
	tcase_add_test(tc, test_rst_in_window_challenged);
	tcase_add_test(tc, test_rst_zero_window_exact);
	tcase_add_test(tc, test_rst_in_closing_states);
	tcase_add_test(tc, test_syn_in_established_challenged);
	tcase_add_test(tc, test_no_ack_dropped);
	tcase_add_test(tc, test_ack_unsent_data);
	tcase_add_test(tc, test_ack_too_old_and_old);
	tcase_add_test(tc, test_ack_advances_and_window_update);
	tcase_add_test(tc, test_dupacks_fast_retransmit);
	tcase_add_test(tc, test_paws);
	tcase_add_test(tc, test_segment_without_timestamps_dropped);
	tcase_add_test(tc, test_sequence_wrap);
	suite_add_tcase(s, tc);

	tc = tcase_create("data");
	tcase_add_test(tc, test_data_in_order_delayed_ack);
	tcase_add_test(tc, test_data_two_full_segments_ack_at_once);
	tcase_add_test(tc, test_data_out_of_order_then_fill);
	tcase_add_test(tc, test_data_out_of_order_merge_and_limit);
	tcase_add_test(tc, test_data_out_of_order_duplicate);
	tcase_add_test(tc, test_data_beyond_window_trimmed);
	tcase_add_test(tc, test_data_beyond_buffer_trimmed);
	tcase_add_test(tc, test_data_after_close_resets);
	tcase_add_test(tc, test_data_in_fin_wait_1_half_close);
	tcase_add_test(tc, test_data_rd_shut_discarded);
	tcase_add_test(tc, test_data_after_fin_ignored);
	tcase_add_test(tc, test_fin_with_data);
	tcase_add_test(tc, test_fin_out_of_order_held);
	tcase_add_test(tc, test_fin_inside_held_data);
	tcase_add_test(tc, test_fin_in_order_before_held_data);
	suite_add_tcase(s, tc);

	tc = tcase_create("no_connection");
	tcase_add_test(tc, test_closed_port_rst_like_linux);
	tcase_add_test(tc, test_closed_port_other_segments);
	tcase_add_test(tc, test_broadcast_dropped);
	tcase_add_test(tc, test_malformed_dropped);
	tcase_add_test(tc, test_icmp_syn_sent_hard_error);
	tcase_add_test(tc, test_icmp_established_soft_and_frag_needed);
	suite_add_tcase(s, tc);
	return s;
}

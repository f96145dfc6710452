/* TCP timers (tcp_timer.c) on virtual time: the heap against a brute-force
 * minimum under random changes, timers that fire in order, then each
 * timer's behaviour to the microsecond: retransmission with backoff up to
 * 60 s and ETIMEDOUT, go-back-N, SYN and SYN-ACK retries, zero-window
 * probes, delayed ACK, keep-alive, TIME-WAIT and the orphan FIN-WAIT-2. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "stack/net.h"
#include "stack/socket.h"
#include "tests/tcp_harness.h"

#define MSS 1460
#define SEC 1000000LL

/* Nothing for us - 1 microseconds, then (at us) a segment is due. The
 * peer's ARP entry is refreshed just before (after minutes of silence the
 * host would have to ask for it, and the test's peer does not answer). */
static void wait_exactly(struct tcp_harness *t, int64_t us)
{
	th_advance(t, us - 1);
	th_expect_none(t);
	harness_learn_peer(&t->h);
	th_advance(t, 1);
}

static uint64_t counter(struct tcp_harness *t, const char *name)
{
	return stats_get(&t->h.s.stats, name);
}

/* ---- the heap ------------------------------------------------------------- */

static uint64_t xs_state;

static uint64_t xs(void)
{
	xs_state ^= xs_state << 13;
	xs_state ^= xs_state >> 7;
	xs_state ^= xs_state << 17;
	return xs_state;
}

static int64_t *timer_field(struct tcb *tp, int k)
{
	int64_t *f[5] = { &tp->timer.rexmt, &tp->timer.persist, &tp->timer.delack, &tp->timer.keep, &tp->timer.twomsl };
	return f[k];
}

static int64_t min5(struct tcb *tp)
{
	int64_t m = TCP_NO_TIMER;
	for (int k = 0; k < 5; k++)
		if (*timer_field(tp, k) < m)
			m = *timer_field(tp, k);
	return m;
}

/* The heap's shape: indexes right, every parent no later than its
 * children, keys equal to the tcbs' earliest timers, len = tcbs in it. */
static void check_heap(struct stack *s, unsigned expect_len)
{
	struct tcp_table *t = &s->tcp;
	ck_assert_uint_eq(t->heap_len, expect_len);
	for (unsigned i = 0; i < t->heap_len; i++) {
		struct tcb *tp = t->heap[i];
		ck_assert_int_eq(tp->timer.heap_idx, (int)i);
		ck_assert_int_eq(tp->timer.when, min5(tp));
		ck_assert_int_ne(tp->timer.when, TCP_NO_TIMER);
		if (i > 0)
			ck_assert_int_le(t->heap[(i - 1) / 2]->timer.when, tp->timer.when);
	}
}

enum { HEAP_N = 300, HEAP_OPS = 30000 };

START_TEST(heap_matches_brute_force_min)
{
	struct tcp_harness t;
	th_init(&t);
	struct stack *s = &t.h.s;
	static struct tcb *tps[HEAP_N];
	static bool removed[HEAP_N];

	xs_state = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
	for (int i = 0; i < HEAP_N; i++) {
		tps[i] = tcb_new(s);
		ck_assert_ptr_nonnull(tps[i]);
		removed[i] = false;
	}
	for (int op = 0; op < HEAP_OPS; op++) {
		int i = (int)(xs() % HEAP_N);
		struct tcb *tp = tps[i];
		unsigned r = (unsigned)(xs() % 20);
		if (r < 15) {
			/* set one timer: often to few distinct values (ties), or off */
			int64_t when = xs() % 3 == 0 ? TCP_NO_TIMER
				     : xs() % 2 ? 1 + (int64_t)(xs() % 50)
						: 1 + (int64_t)(xs() % 100000000);
			tcp_timer_set(tp, timer_field(tp, (int)(xs() % 5)), when);
			removed[i] = false;
		} else if (r < 17) {
			tcp_timer_remove(tp);
			removed[i] = true;
		} else if (r < 18) {
			tcb_free(tp);
			tps[i] = tcb_new(s);
			ck_assert_ptr_nonnull(tps[i]);
			removed[i] = false;
		} else {
			/* re-set a timer to its own value: no change */
			int k = (int)(xs() % 5);
			tcp_timer_set(tp, timer_field(tp, k), *timer_field(tp, k));
			removed[i] = false;
		}
		int64_t want = INT64_MAX;
		unsigned in = 0;
		for (int j = 0; j < HEAP_N; j++) {
			if (removed[j]) {
				ck_assert_int_eq(tps[j]->timer.heap_idx, -1);
				continue;
			}
			int64_t m = min5(tps[j]);
			if (m != TCP_NO_TIMER)
				in++;
			else
				ck_assert_int_eq(tps[j]->timer.heap_idx, -1);
			if (m < want)
				want = m;
		}
		ck_assert_int_eq(tcp_next_deadline(s), want);
		if (op % 97 == 0 || op == HEAP_OPS - 1)
			check_heap(s, in);
	}
	for (int i = 0; i < HEAP_N; i++)
		tcb_free(tps[i]);
	ck_assert_uint_eq(s->tcp.heap_len, 0);
	ck_assert_int_eq(tcp_next_deadline(s), INT64_MAX);
	th_fini(&t);
}
END_TEST

START_TEST(timer_run_fires_everything_due_in_order)
{
	struct tcp_harness t;
	th_init(&t);
	struct stack *s = &t.h.s;
	static struct tcb *tps[HEAP_N];

	/* closed control blocks: their timers fire and do nothing */
	xs_state = 12345;
	for (int i = 0; i < HEAP_N; i++) {
		tps[i] = tcb_new(s);
		ck_assert_ptr_nonnull(tps[i]);
		for (int k = 0; k < 5; k++)
			if (xs() % 2)
				tcp_timer_set(tps[i], timer_field(tps[i], k),
					      t.h.now + 1 + (int64_t)(xs() % (10 * SEC)));
	}
	for (int step = 0; step < 40; step++) {
		th_advance(&t, 1 + (int64_t)(xs() % (SEC / 2)));
		unsigned in = 0;
		for (int i = 0; i < HEAP_N; i++) {
			for (int k = 0; k < 5; k++)
				ck_assert_int_gt(*timer_field(tps[i], k), t.h.now);
			in += min5(tps[i]) != TCP_NO_TIMER;
		}
		check_heap(s, in);
		ck_assert(tcp_next_deadline(s) > t.h.now);
	}
	th_advance(&t, 10 * SEC);
	ck_assert_uint_eq(s->tcp.heap_len, 0); /* all have fired */
	th_expect_none(&t);
	for (int i = 0; i < HEAP_N; i++)
		tcb_free(tps[i]);
	th_fini(&t);
}
END_TEST

START_TEST(idle_connections_cost_only_their_deadline)
{
	struct tcp_harness t;
	th_init(&t);
	struct stack *s = &t.h.s;
	enum { IDLE = 10000 };
	static struct tcb *idle[IDLE];

	for (int i = 0; i < IDLE; i++) {
		idle[i] = tcb_new(s);
		ck_assert_ptr_nonnull(idle[i]);
		tcp_timer_set(idle[i], &idle[i]->timer.keep, 2 * 3600 * SEC + i);
	}
	/* a busy connection among them: its deadline is the next one */
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;
	th_queue(tp, 100);
	tcp_output(tp);
	th_expect(&t, &out);
	ck_assert_int_eq(tcp_next_deadline(s), tp->timer.rexmt);
	ck_assert_uint_eq(s->tcp.heap_len, IDLE + 1);
	th_peer_ack(&t, tp, 101, 65535);
	ck_assert_int_eq(tcp_next_deadline(s), 2 * 3600 * SEC);
	/* an hour passes: nothing due, nothing done */
	th_advance(&t, 3600 * SEC);
	th_expect_none(&t);
	ck_assert_uint_eq(s->tcp.heap_len, IDLE);
	for (int i = 0; i < IDLE; i++)
		tcb_free(idle[i]);
	th_fini(&t);
}
END_TEST

/* ---- retransmission ---------------------------------------------------------- */

/* The RTO schedule of one segment from the first expiry: 1, 2, 4 ... s,
 * capped at 60 s (RFC 6298 2.1, 5.5, 2.5). */
static const int64_t rto_steps[TCP_MAX_RETRIES] = { 1, 2, 4, 8, 16, 32, 60, 60 };

START_TEST(rto_doubles_to_60s_then_etimedout)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	th_queue(tp, 1000);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, 1000, TCP_FLAG_ACK | TCP_FLAG_PSH);
	for (int i = 0; i < TCP_MAX_RETRIES; i++) {
		wait_exactly(&t, rto_steps[i] * SEC);
		/* the oldest segment again, the same bytes */
		th_expect_seg(&t, &out, 1, 1000, TCP_FLAG_ACK | TCP_FLAG_PSH);
		th_expect_none(&t);
		ck_assert_int_eq(tp->rtt.backoff, i + 1);
		ck_assert_int_eq(tp->cwnd, MSS); /* RFC 5681 3.1: loss window */
	}
	ck_assert_uint_eq(counter(&t, "tcp.rto"), TCP_MAX_RETRIES);
	ck_assert_uint_eq(counter(&t, "tcp.retransmits"), TCP_MAX_RETRIES);
	ck_assert_uint_eq(t.h.s.tcp.count, 1);
	/* RFC 1122 4.2.3.5 R2: then the connection is given up */
	th_advance(&t, 60 * SEC - 1);
	ck_assert_uint_eq(t.h.s.tcp.count, 1);
	th_advance(&t, 1);
	th_expect_none(&t);
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	ck_assert_uint_eq(counter(&t, "tcp.drop_timeout"), 1);
	th_fini(&t);
}
END_TEST

START_TEST(rto_etimedout_seen_by_the_socket)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	uint8_t buf[100] = { 0 };

	ck_assert_int_eq(net_send(fd, buf, sizeof(buf), 0), 100);
	int64_t total = 0;
	for (int i = 0; i < TCP_MAX_RETRIES; i++)
		total += rto_steps[i] * SEC;
	th_advance(&t, total + 60 * SEC - 1);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);
	th_advance(&t, 1);
	ck_assert_int_eq(tp->state, TCP_CLOSED);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -ETIMEDOUT);
	ck_assert_int_eq(net_close(fd), 0);
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	th_fini(&t);
}
END_TEST

START_TEST(rto_goes_back_to_snd_una)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	tp->cc = &tcp_cc_newreno; /* ssthresh below is Reno's half flight */
	th_queue(tp, 3 * MSS);
	tcp_output(tp);
	for (uint32_t i = 0; i < 3; i++)
		th_expect_seg(&t, &out, 1 + i * MSS, MSS,
			   i == 2 ? TCP_FLAG_ACK | TCP_FLAG_PSH : TCP_FLAG_ACK);
	/* all three lost: the timeout resends the first only (cwnd one segment) */
	th_advance(&t, SEC);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	th_expect_none(&t);
	ck_assert_uint_eq(tp->snd.nxt, t.iss + 1 + MSS);
	ck_assert_uint_eq(tp->snd.max, t.iss + 1 + 3 * MSS);
	ck_assert_uint_eq(tp->ssthresh, 3 * MSS / 2 > 2 * MSS ? 3 * MSS / 2 : 2 * MSS);
	/* its ACK: slow start from one segment, the next two follow (go-back-N) */
	th_peer_ack(&t, tp, 1 + MSS, 65535);
	ck_assert_uint_eq(tp->cwnd, 2 * MSS);
	th_expect_seg(&t, &out, 1 + MSS, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + 2 * MSS, MSS, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_expect_none(&t);
	ck_assert_uint_eq(tp->stat.retransmits, 3);
	/* the timer restarted with the backed-off RTO (no sample: Karn) */
	ck_assert_int_eq(tp->timer.rexmt, t.h.now + 2 * SEC);
	th_peer_ack(&t, tp, 1 + 3 * MSS, 65535);
	ck_assert_int_eq(tp->timer.rexmt, TCP_NO_TIMER);
	ck_assert_uint_eq(tp->sndbuf.len, 0);
	th_fini(&t);
}
END_TEST

START_TEST(fin_retransmitted_then_etimedout)
{
	struct tcp_harness t;
	th_init(&t);
	th_tcb_in_state(&t, TCP_FIN_WAIT_1); /* FIN sent at 0 */
	struct tcp_seg out;

	for (int i = 0; i < TCP_MAX_RETRIES; i++) {
		wait_exactly(&t, rto_steps[i] * SEC);
		th_expect_seg(&t, &out, 1, 0, TCP_FLAG_ACK | TCP_FLAG_FIN);
	}
	th_advance(&t, 60 * SEC);
	th_expect_none(&t);
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	th_fini(&t);
}
END_TEST

START_TEST(syn_retries_then_etimedout)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
	int fd = th_socket(&t, tp);
	struct tcp_seg out;
	uint8_t buf[8];

	tcp_send_syn(tp);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_SYN);
	for (int i = 0; i < TCP_SYN_RETRIES; i++) {
		wait_exactly(&t, rto_steps[i] * SEC);
		th_expect(&t, &out);
		ck_assert_uint_eq(out.flags, TCP_FLAG_SYN);
		ck_assert_uint_eq(out.seq, t.iss);
		ck_assert(out.opt.mss_ok && out.opt.ws_ok && out.opt.ts_ok && out.opt.sack_perm);
	}
	/* 1 + 2 + 4 + 8 + 16 = 31 s, then 32 s more: given up at 63 s */
	th_advance(&t, 32 * SEC - 1);
	ck_assert_int_eq(tp->state, TCP_SYN_SENT);
	th_advance(&t, 1);
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_CLOSED);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -ETIMEDOUT);
	ck_assert_uint_eq(counter(&t, "tcp.syn_timeout"), 1);
	th_fini(&t);
}
END_TEST

START_TEST(synack_retries_then_child_freed)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	struct tcp_seg out;

	th_inject(&t, SEG(.flags = TCP_FLAG_SYN, .seq = t.irs,
			  .opt = { .mss_ok = true, .mss = 1460 }));
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	uint32_t iss = out.seq;
	ck_assert_int_eq(lp->listen.nsyn, 1);
	ck_assert_uint_eq(t.h.s.tcp.count, 2);
	for (int i = 0; i < TCP_SYN_RETRIES; i++) {
		wait_exactly(&t, rto_steps[i] * SEC);
		th_expect(&t, &out);
		ck_assert_uint_eq(out.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
		ck_assert_uint_eq(out.seq, iss);
		ck_assert_uint_eq(out.ack, t.irs + 1);
	}
	th_advance(&t, 32 * SEC);
	th_expect_none(&t);
	ck_assert_int_eq(lp->listen.nsyn, 0);
	ck_assert_uint_eq(t.h.s.tcp.count, 1); /* the listener alone */
	th_fini(&t);
}
END_TEST

/* ---- persist ------------------------------------------------------------------ */

START_TEST(zero_window_probes_back_off_and_never_time_out)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	th_socket(&t, tp); /* an app holds it (an orphan would give up) */

	tp->snd.wnd = 0;
	th_queue(tp, 100);
	tcp_output(tp);
	th_expect_none(&t);
	ck_assert_int_eq(tp->timer.rexmt, TCP_NO_TIMER);
	/* RFC 9293 3.8.6.1: one new byte, at 1, 2, 4 ... s, up to 60 s */
	static const int64_t steps[] = { 1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		wait_exactly(&t, steps[i] * SEC);
		th_expect_seg(&t, &out, 1, 1, TCP_FLAG_ACK);
		th_expect_none(&t);
		/* the peer still has no room */
		th_peer_ack(&t, tp, 1, 0);
		th_expect_none(&t);
	}
	/* RFC 1122 4.2.2.17: held open as long as the peer answers */
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(counter(&t, "tcp.window_probes"), 12);
	ck_assert_uint_eq(counter(&t, "tcp.fast_retransmit"), 0);
	/* the window opens: the data goes, the probing stops; of its 100
	 * bytes only the probe's one was sent before (a retransmission of 1
	 * byte, not of the 100) */
	uint64_t rexmit_bytes = counter(&t, "tcp.retransmitted_bytes");
	th_peer_ack(&t, tp, 1, 65535);
	th_expect_seg(&t, &out, 1, 100, TCP_FLAG_ACK | TCP_FLAG_PSH);
	ck_assert_uint_eq(counter(&t, "tcp.retransmitted_bytes") - rexmit_bytes, 1);
	ck_assert_int_eq(tp->timer.persist, TCP_NO_TIMER);
	ck_assert_int_eq(tp->timer.persist_backoff, 0);
	th_peer_ack(&t, tp, 101, 65535);
	th_advance(&t, 120 * SEC);
	th_expect_none(&t);
	th_fini(&t);
}
END_TEST

/* RFC 1122 4.2.2.17 keeps probing while the receiver answers; one that
 * never answers is timed out as a retransmission would be (Linux counts
 * unanswered probes the same way): after TCP_MAX_RETRIES unanswered probes
 * the connection ends with ETIMEDOUT, an app holding the socket or not. */
START_TEST(zero_window_unanswered_probes_time_out)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;
	uint8_t buf[16];
	int fd = th_socket(&t, tp);

	tp->snd.wnd = 0;
	th_queue(tp, 100);
	tcp_output(tp);
	for (int i = 0; i < TCP_MAX_RETRIES; i++) {
		wait_exactly(&t, rto_steps[i] * SEC);
		th_expect_seg(&t, &out, 1, 1, TCP_FLAG_ACK);
		th_expect_none(&t);
	}
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	/* the next expiry: no answer to TCP_MAX_RETRIES probes */
	th_advance(&t, 60 * SEC);
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_CLOSED);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -ETIMEDOUT);
	ck_assert_uint_eq(counter(&t, "tcp.persist_timeout"), 1);
	ck_assert_int_eq(net_close(fd), 0);
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	th_fini(&t);
}
END_TEST

/* Any answer starts the count again: TCP_MAX_RETRIES - 1 unanswered
 * probes, one answered (the window still shut), and as many again
 * unanswered leave the connection open. */
START_TEST(zero_window_answer_resets_the_probe_count)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;
	th_socket(&t, tp);

	tp->snd.wnd = 0;
	th_queue(tp, 100);
	tcp_output(tp);
	int64_t iv = 1; /* seconds: 1, 2, 4 ... up to 60 (the backoff goes on) */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < TCP_MAX_RETRIES - 1; i++) {
			wait_exactly(&t, iv * SEC);
			iv = iv * 2 > 60 ? 60 : iv * 2;
			th_expect_seg(&t, &out, 1, 1, TCP_FLAG_ACK);
			th_expect_none(&t);
		}
		th_peer_ack(&t, tp, 1, 0);
		th_expect_none(&t);
	}
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(counter(&t, "tcp.window_probes"), 3 * (TCP_MAX_RETRIES - 1));
	ck_assert_uint_eq(counter(&t, "tcp.persist_timeout"), 0);
	th_fini(&t);
}
END_TEST

START_TEST(orphan_gives_up_probing_a_zero_window)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED); /* no socket: an orphan */
	struct tcp_seg out;

	tp->snd.wnd = 0;
	th_queue(tp, 100);
	tcp_output(tp);
	for (int i = 0; i < TCP_MAX_RETRIES; i++) {
		wait_exactly(&t, rto_steps[i] * SEC);
		th_expect_seg(&t, &out, 1, 1, TCP_FLAG_ACK);
		th_peer_ack(&t, tp, 1, 0);
	}
	th_advance(&t, 60 * SEC);
	th_expect_none(&t);
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	ck_assert_uint_eq(counter(&t, "tcp.orphan_persist_timeout"), 1);
	th_fini(&t);
}
END_TEST

START_TEST(zero_window_probe_byte_accepted)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	tp->snd.wnd = 0;
	th_queue(tp, 100);
	tcp_output(tp);
	wait_exactly(&t, SEC);
	th_expect_seg(&t, &out, 1, 1, TCP_FLAG_ACK);
	/* room for it and a bit more: the rest follows from the next byte */
	th_peer_ack(&t, tp, 2, 1000);
	th_expect_seg(&t, &out, 2, 99, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_peer_ack(&t, tp, 101, 1000);
	ck_assert_uint_eq(tp->sndbuf.len, 0);
	ck_assert_int_eq(tp->timer.persist, TCP_NO_TIMER);
	ck_assert_int_eq(tp->timer.rexmt, TCP_NO_TIMER);
	th_fini(&t);
}
END_TEST

START_TEST(window_closed_with_data_in_flight_turns_rto_into_persist)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	th_queue(tp, 2 * MSS);
	tcp_output(tp);
	th_expect_seg(&t, &out, 1, MSS, TCP_FLAG_ACK);
	th_expect_seg(&t, &out, 1 + MSS, MSS, TCP_FLAG_ACK | TCP_FLAG_PSH);
	/* the first is taken and the window closes: the second is beyond it */
	th_peer_ack(&t, tp, 1 + MSS, 0);
	ck_assert_uint_eq(tp->snd.wnd, 0);
	/* the timeout is no loss: no retransmission, no cwnd collapse, probes */
	wait_exactly(&t, SEC);
	th_expect_none(&t);
	ck_assert_uint_eq(counter(&t, "tcp.rto"), 0);
	/* (two segments of a window of ten: the ACK did not grow it, RFC 7661) */
	ck_assert_uint_eq(tp->cwnd, 10 * MSS);
	wait_exactly(&t, SEC);
	th_expect_seg(&t, &out, 1 + MSS, 1, TCP_FLAG_ACK);
	th_peer_ack(&t, tp, 1 + MSS, 65535);
	th_expect_seg(&t, &out, 1 + MSS, MSS, TCP_FLAG_ACK | TCP_FLAG_PSH);
	th_fini(&t);
}
END_TEST

/* ---- delayed ACK, keep-alive, TIME-WAIT ------------------------------------------ */

START_TEST(delayed_ack_fires_at_200ms)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	struct tcp_seg out;

	th_inject(&t, SEG(.flags = TCP_FLAG_ACK | TCP_FLAG_PSH, .seq = t.irs + 1, .ack = t.iss + 1,
			  .len = 100));
	ck_assert_int_eq(tp->timer.delack, t.h.now + TCP_DELACK_US);
	wait_exactly(&t, TCP_DELACK_US);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_ACK);
	ck_assert_uint_eq(out.ack, t.irs + 101);
	ck_assert_uint_eq(out.seq, t.iss + 1);
	ck_assert_int_eq(tp->timer.delack, TCP_NO_TIMER);
	th_advance(&t, SEC);
	th_expect_none(&t);
	th_fini(&t);
}
END_TEST

START_TEST(keepalive_off_by_default)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	th_socket(&t, tp);

	ck_assert(!tp->keepalive);
	th_advance(&t, 3 * 3600 * SEC);
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_int_eq(t.h.s.tcp.heap_len, 0);
	th_fini(&t);
}
END_TEST

START_TEST(keepalive_probes_then_etimedout)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	int fd = th_socket(&t, tp);
	struct tcp_seg out;
	int one = 1;
	uint8_t buf[8];

	ck_assert_int_eq(net_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
	/* RFC 1122 4.2.3.6: after two idle hours, an ACK with seq snd_una - 1 */
	wait_exactly(&t, TCP_KEEPALIVE_IDLE_US);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_ACK);
	ck_assert_uint_eq(out.seq, t.iss);
	ck_assert_uint_eq(out.ack, t.irs + 1);
	ck_assert_uint_eq(out.len, 0);
	/* the peer answers: the connection is alive, two idle hours again */
	th_peer_ack(&t, tp, 1, 65535);
	wait_exactly(&t, TCP_KEEPALIVE_INTVL_US + TCP_KEEPALIVE_IDLE_US);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.seq, t.iss);
	/* now silence: TCP_KEEPALIVE_PROBES probes 75 s apart, then ETIMEDOUT */
	for (int i = 1; i < TCP_KEEPALIVE_PROBES; i++) {
		wait_exactly(&t, TCP_KEEPALIVE_INTVL_US);
		th_expect(&t, &out);
		ck_assert_uint_eq(out.seq, t.iss);
	}
	th_advance(&t, TCP_KEEPALIVE_INTVL_US - 1);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	th_advance(&t, 1);
	th_expect_none(&t);
	ck_assert_int_eq(tp->state, TCP_CLOSED);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -ETIMEDOUT);
	ck_assert_uint_eq(counter(&t, "tcp.keepalive_probes"), 1 + TCP_KEEPALIVE_PROBES);
	th_fini(&t);
}
END_TEST

START_TEST(time_wait_ends_after_2msl)
{
	struct tcp_harness t;
	th_init(&t);
	th_tcb_in_state(&t, TCP_TIME_WAIT);
	ck_assert_uint_eq(t.h.s.tcp.count, 1);
	th_advance(&t, 2 * TCP_MSL_US - 1);
	ck_assert_uint_eq(t.h.s.tcp.count, 1);
	th_advance(&t, 1);
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	ck_assert_uint_eq(counter(&t, "tcp.time_wait_done"), 1);
	th_expect_none(&t);
	th_fini(&t);

	/* MSL is the host's to configure */
	th_init(&t);
	t.h.s.tcp.msl_us = SEC;
	th_tcb_in_state(&t, TCP_TIME_WAIT);
	th_advance(&t, 2 * SEC);
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	th_fini(&t);
}
END_TEST

START_TEST(orphan_fin_wait_2_times_out)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_FIN_WAIT_1);

	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = t.irs + 1, .ack = t.iss + 2));
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_2);
	ck_assert_int_eq(tp->timer.twomsl, t.h.now + TCP_FIN_WAIT_2_US);
	th_advance(&t, TCP_FIN_WAIT_2_US - 1);
	ck_assert_uint_eq(t.h.s.tcp.count, 1);
	th_advance(&t, 1);
	ck_assert_uint_eq(t.h.s.tcp.count, 0);
	th_expect_none(&t);
	th_fini(&t);

	/* with its socket it waits for the peer's FIN as long as it takes */
	th_init(&t);
	tp = th_tcb_in_state(&t, TCP_FIN_WAIT_1);
	th_socket(&t, tp);
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = t.irs + 1, .ack = t.iss + 2));
	th_advance(&t, 10 * TCP_FIN_WAIT_2_US);
	ck_assert_int_eq(tp->state, TCP_FIN_WAIT_2);
	th_fini(&t);
}
END_TEST

Suite *tcp_timer_suite(void)
{
	Suite *s = suite_create("tcp_timer");
	TCase *tc = tcase_create("heap");
	tcase_add_loop_test(tc, heap_matches_brute_force_min, 0, 4);
	tcase_add_test(tc, timer_run_fires_everything_due_in_order);
	tcase_add_test(tc, idle_connections_cost_only_their_deadline);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("rexmt");
	tcase_add_test(tc, rto_doubles_to_60s_then_etimedout);
	tcase_add_test(tc, rto_etimedout_seen_by_the_socket);
	tcase_add_test(tc, rto_goes_back_to_snd_una);
	tcase_add_test(tc, fin_retransmitted_then_etimedout);
	tcase_add_test(tc, syn_retries_then_etimedout);
	tcase_add_test(tc, synack_retries_then_child_freed);
	suite_add_tcase(s, tc);

	tc = tcase_create("persist");
	tcase_add_test(tc, zero_window_probes_back_off_and_never_time_out);
	tcase_add_test(tc, zero_window_unanswered_probes_time_out);
	tcase_add_test(tc, zero_window_answer_resets_the_probe_count);
	tcase_add_test(tc, zero_window_probe_byte_accepted);
	tcase_add_test(tc, orphan_gives_up_probing_a_zero_window);
	tcase_add_test(tc, window_closed_with_data_in_flight_turns_rto_into_persist);
	suite_add_tcase(s, tc);

	tc = tcase_create("others");
	tcase_add_test(tc, delayed_ack_fires_at_200ms);
	tcase_add_test(tc, keepalive_off_by_default);
	tcase_add_test(tc, keepalive_probes_then_etimedout);
	tcase_add_test(tc, time_wait_ends_after_2msl);
	tcase_add_test(tc, orphan_fin_wait_2_times_out);
	suite_add_tcase(s, tc);
	return s;
}

/* TCP timers: each control block keeps its five timers as absolute
 * deadlines (timer.rexmt, .persist, .delack, .keep, .twomsl) and sits in one
 * binary min-heap of the host, keyed by the earliest of them (tp->timer.when).
 * Changing a timer costs O(log n), finding the next deadline O(1), and an
 * idle connection costs nothing until its deadline: nothing scans the
 * connections. See tcp.h.
 *
 * The actions: retransmission (RFC 6298 5), persist (RFC 9293 3.8.6.1),
 * delayed ACK (RFC 1122 4.2.3.2), keep-alive (RFC 1122 4.2.3.6), and the
 * end of TIME-WAIT (RFC 9293 3.10.7.4) or of an orphan's FIN-WAIT-2. */
#include "tcp/tcp.h"
#include "tcp/tcp_trace.h"

#include <errno.h>
#include <stdlib.h>

#include "stack/stack.h"

/* ---- the heap ------------------------------------------------------------ */

/* The earliest of tp's five timers, or TCP_NO_TIMER. */
static int64_t tcb_earliest(const struct tcb *tp)
{
	int64_t w = tp->timer.rexmt;
	if (tp->timer.persist < w)
		w = tp->timer.persist;
	if (tp->timer.delack < w)
		w = tp->timer.delack;
	if (tp->timer.keep < w)
		w = tp->timer.keep;
	if (tp->timer.twomsl < w)
		w = tp->timer.twomsl;
	return w;
}

/* Puts tp at index i of the heap. */
static void heap_put(struct tcp_table *t, unsigned i, struct tcb *tp)
{
	t->heap[i] = tp;
	tp->timer.heap_idx = (int)i;
}

/* Moves the tcb at index i up while it is earlier than its parent. */
static void heap_up(struct tcp_table *t, unsigned i)
{
	struct tcb *tp = t->heap[i];
	while (i > 0) {
		unsigned parent = (i - 1) / 2;
		if (t->heap[parent]->timer.when <= tp->timer.when)
			break;
		heap_put(t, i, t->heap[parent]);
		i = parent;
	}
	heap_put(t, i, tp);
}

/* Moves the tcb at index i down while a child is earlier. */
static void heap_down(struct tcp_table *t, unsigned i)
{
	struct tcb *tp = t->heap[i];
	for (;;) {
		unsigned c = 2 * i + 1;
		if (c >= t->heap_len)
			break;
		if (c + 1 < t->heap_len && t->heap[c + 1]->timer.when < t->heap[c]->timer.when)
			c++;
		if (t->heap[c]->timer.when >= tp->timer.when)
			break;
		heap_put(t, i, t->heap[c]);
		i = c;
	}
	heap_put(t, i, tp);
}

/* Adds tp to the heap (growing it by doubling). False if out of memory. */
static bool heap_insert(struct tcp_table *t, struct tcb *tp)
{
	if (t->heap_len == t->heap_cap) {
		unsigned cap = t->heap_cap ? 2 * t->heap_cap : 64;
		struct tcb **h = realloc(t->heap, cap * sizeof(*h));
		if (!h)
			return false;
		t->heap = h;
		t->heap_cap = cap;
	}
	heap_put(t, t->heap_len++, tp);
	heap_up(t, t->heap_len - 1);
	return true;
}

/* Takes tp out of the heap: the last entry fills its place and moves up
 * or down to where it belongs. */
static void heap_delete(struct tcp_table *t, struct tcb *tp)
{
	unsigned i = (unsigned)tp->timer.heap_idx;
	struct tcb *last = t->heap[--t->heap_len];
	tp->timer.heap_idx = -1;
	if (i < t->heap_len) {
		heap_put(t, i, last);
		heap_up(t, i);
		heap_down(t, (unsigned)last->timer.heap_idx);
	}
}

/* Contract in tcp.h. */
void tcp_timer_set(struct tcb *tp, int64_t *timer, int64_t when)
{
	struct tcp_table *t = &tp->s->tcp;

	*timer = when;
	tp->timer.when = tcb_earliest(tp);
	if (tp->timer.when == TCP_NO_TIMER) {
		if (tp->timer.heap_idx >= 0)
			heap_delete(t, tp);
	} else if (tp->timer.heap_idx < 0) {
		if (!heap_insert(t, tp))
			stats_inc(&tp->s->stats, "tcp.timer_nomem");
	} else {
		heap_up(t, (unsigned)tp->timer.heap_idx);
		heap_down(t, (unsigned)tp->timer.heap_idx);
	}
}

/* Contract in tcp.h. The timers' values are left as they are. */
void tcp_timer_remove(struct tcb *tp)
{
	if (tp->timer.heap_idx >= 0)
		heap_delete(&tp->s->tcp, tp);
}

/* Contract in tcp.h. */
int64_t tcp_next_deadline(struct stack *s)
{
	return s->tcp.heap_len ? s->tcp.heap[0]->timer.when : INT64_MAX;
}

/* ---- the actions --------------------------------------------------------- */

/* RFC 6298 5.5: doubles the RTO, up to TCP_RTO_MAX_US. */
static void tcp_rto_backoff(struct tcb *tp)
{
	tp->rtt.backoff++;
	tp->rtt.rto = tp->rtt.rto * 2 > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : tp->rtt.rto * 2;
}

/* The SYN or SYN-ACK was not acknowledged in time: retransmit it with the
 * RTO backed off, or after TCP_SYN_RETRIES give up (RFC 1122 4.2.3.5 R2
 * for a SYN): an active open fails with ETIMEDOUT, a listener's child in
 * SYN-RECEIVED is simply freed. */
static void tcp_timer_syn(struct tcb *tp)
{
	char name[128];

	if (tp->rtt.retries >= TCP_SYN_RETRIES) {
		TRACE(tp->s, "tcp %s %s timed out after %d retransmissions",
		      tcb_str(tp, name, sizeof(name)),
		      tp->state == TCP_SYN_SENT ? "SYN" : "SYN-ACK", tp->rtt.retries);
		stats_inc(&tp->s->stats, "tcp.syn_timeout");
		if (tp->listener)
			tcb_free(tp);
		else
			tcp_drop(tp, ETIMEDOUT);
		return;
	}
	tp->rtt.retries++;
	tcp_rto_backoff(tp);
	stats_inc(&tp->s->stats, "tcp.rto");
	tcp_trace(tp, "rto");
	TRACE(tp->s, "tcp %s RTO fired: retransmit %s (backoff %d, rto %lld ms)",
	      tcb_str(tp, name, sizeof(name)), tp->state == TCP_SYN_SENT ? "SYN" : "SYN-ACK",
	      tp->rtt.backoff, (long long)(tp->rtt.rto / 1000));
	tcp_retransmit(tp);
}

/* The retransmission timer expired (RFC 6298 5.4-5.7): after
 * TCP_MAX_RETRIES retransmissions of the same segment, and at least
 * TCP_R2_MIN_US after the first (R2 counts time too: with a low rto_min
 * eight doublings are only seconds), the connection dies with ETIMEDOUT
 * (RFC 1122 4.2.3.5 R2); else the congestion control hears
 * of it (RFC 5681 3.1: cwnd to one segment), the RTO doubles, and sending
 * goes back to snd.una: the oldest segment now, the rest as ACKs come
 * (go-back-N). A zero window is not a loss: persist takes over. */
static void tcp_timer_rexmt(struct tcb *tp)
{
	char name[128];

	if (tcp_state_handshake(tp->state)) {
		tcp_timer_syn(tp);
		return;
	}
	if (tp->snd.una == tp->snd.max)
		return; /* everything was acknowledged meanwhile */
	if (tp->tlp.armed) {
		tcp_tlp_fire(tp); /* RFC 8985 7.3: a probe before the RTO */
		return;
	}
	if (tp->rtt.retries >= TCP_MAX_RETRIES && tp->s->now - tp->rtt.rexmt_first >= TCP_R2_MIN_US) {
		TRACE(tp->s, "tcp %s RTO: giving up after %d retransmissions",
		      tcb_str(tp, name, sizeof(name)), tp->rtt.retries);
		tcp_drop(tp, ETIMEDOUT);
		return;
	}
	if (tp->snd.wnd == 0 && tp->sndbuf.len > 0) {
		/* RFC 9293 3.8.6.1: the peer closed its window; probe it instead */
		TRACE(tp->s, "tcp %s RTO fired with the window closed: persist instead",
		      tcb_str(tp, name, sizeof(name)));
		tp->snd.nxt = tp->snd.una;
		tcp_output(tp);
		return;
	}
	if (tp->cc->on_rto)
		tp->cc->on_rto(tp); /* before the backoff: it looks at the first expiry */
	if (tp->rtt.retries++ == 0)
		tp->rtt.rexmt_first = tp->s->now;
	tcp_rto_backoff(tp);
	tp->snd.nxt = tp->snd.una;
	tp->rec.dupacks = 0;
	tp->rec.in_recovery = false;
	tp->rec.sack_recovery = false;
	tp->tlp.out = false;
	tcp_sack_clear(tp); /* RFC 6675 5.1, RFC 2018 8: the receiver may renege */
	tp->rec.recover = tp->snd.max; /* RFC 6582 4.1: no fast retransmit for this window */
	stats_inc(&tp->s->stats, "tcp.rto");
	tcp_trace(tp, "rto");
	TRACE(tp->s, "tcp %s RTO fired: retransmit seq %u (backoff %d, rto %lld ms, cwnd %u)",
	      tcb_str(tp, name, sizeof(name)), tp->snd.una - tp->iss, tp->rtt.backoff,
	      (long long)(tp->rtt.rto / 1000), tp->cwnd);
	tcp_retransmit(tp);
}

/* The delayed ACK is due (RFC 1122 4.2.3.2: at most 0.5 s, here 40 ms). */
static void tcp_timer_delack(struct tcb *tp)
{
	tcp_send_ack(tp);
}

/* The keep-alive timer (RFC 1122 4.2.3.6, only with SO_KEEPALIVE): if the
 * peer sent anything since it was armed (segs_in moved) or data is in
 * flight, wait another idle period; else send a probe every
 * TCP_KEEPALIVE_INTVL_US, and after TCP_KEEPALIVE_PROBES unanswered ones
 * the connection dies with ETIMEDOUT. */
static void tcp_timer_keep(struct tcb *tp)
{
	int64_t now = tp->s->now;
	bool alive = tcp_state_keepalive(tp->state);

	if (!tp->keepalive || !alive) {
		tp->timer.keep_probes = 0;
		return;
	}
	if (tp->stat.segs_in != tp->timer.keep_segs || tp->snd.una != tp->snd.max) {
		tp->timer.keep_probes = 0;
		tp->timer.keep_segs = tp->stat.segs_in;
		tcp_timer_set(tp, &tp->timer.keep, now + TCP_KEEPALIVE_IDLE_US);
		return;
	}
	if (tp->timer.keep_probes >= TCP_KEEPALIVE_PROBES) {
		char name[128];
		TRACE(tp->s, "tcp %s keep-alive: no answer to %d probes",
		      tcb_str(tp, name, sizeof(name)), tp->timer.keep_probes);
		stats_inc(&tp->s->stats, "tcp.keepalive_timeout");
		tcp_drop(tp, ETIMEDOUT);
		return;
	}
	tp->timer.keep_probes++;
	tcp_send_keepalive(tp);
	tp->timer.keep_segs = tp->stat.segs_in;
	tcp_timer_set(tp, &tp->timer.keep, now + TCP_KEEPALIVE_INTVL_US);
}

/* TIME-WAIT lasted 2*MSL (RFC 9293 3.10.7.4), or an orphan (no socket)
 * stayed TCP_FIN_WAIT_2_US in FIN-WAIT-2: the connection is over. A
 * FIN-WAIT-2 that still has its socket waits for the peer's FIN. */
static void tcp_timer_2msl(struct tcb *tp)
{
	if (tp->state == TCP_TIME_WAIT) {
		stats_inc(&tp->s->stats, "tcp.time_wait_done");
		tcp_close_done(tp);
	} else if (tp->state == TCP_FIN_WAIT_2 && !tp->so) {
		stats_inc(&tp->s->stats, "tcp.fin_wait_2_timeout");
		tcp_close_done(tp);
	}
}

/* Runs tp's earliest timer (it is due): clears it, then acts. The action
 * may free tp. */
static void tcp_timer_fire(struct tcb *tp)
{
	tcp_socket_wake(tp); /* a timeout may end the connection (epoll asks again) */
	if (tp->timer.rexmt == tp->timer.when) {
		tcp_timer_set(tp, &tp->timer.rexmt, TCP_NO_TIMER);
		tcp_timer_rexmt(tp);
	} else if (tp->timer.persist == tp->timer.when) {
		tcp_timer_set(tp, &tp->timer.persist, TCP_NO_TIMER);
		tcp_persist_probe(tp);
	} else if (tp->timer.delack == tp->timer.when) {
		tcp_timer_set(tp, &tp->timer.delack, TCP_NO_TIMER);
		tcp_timer_delack(tp);
	} else if (tp->timer.keep == tp->timer.when) {
		tcp_timer_set(tp, &tp->timer.keep, TCP_NO_TIMER);
		tcp_timer_keep(tp);
	} else {
		tcp_timer_set(tp, &tp->timer.twomsl, TCP_NO_TIMER);
		tcp_timer_2msl(tp);
	}
}

/* Contract in tcp.h. One timer at a time, earliest first, looking at the
 * heap's top again after each (an action may free its tcb or re-arm timers,
 * always later than now, so this ends). */
void tcp_timer_run(struct stack *s)
{
	struct tcp_table *t = &s->tcp;
	while (t->heap_len > 0 && t->heap[0]->timer.when <= s->now)
		tcp_timer_fire(t->heap[0]);
}

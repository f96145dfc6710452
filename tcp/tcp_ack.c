/* TCP, the sender's ACK processing: new acknowledgments and the send
 * ring freed, RTT samples and the retransmission timeout (RFC 6298, Karn's
 * algorithm, RFC 7323 timestamps), retransmission, tail loss probes (RFC
 * 8985 7), duplicate ACKs, fast retransmit and recovery (RFC 5681 3.2,
 * NewReno RFC 6582, SACK RFC 6675, limited transmit RFC 3042), and undoing
 * a reduction that D-SACKs show spurious (RFC 3708, RFC 9438 4.9). The
 * congestion control algorithms themselves are in tcp_cc.c. See tcp.h.
 *
 * Call map:
 *   tcp_ack_advance  <- tcp_input.c (ACK processing, RFC 9293 3.10.7.4)
 *                    -> tcp_cc ops (on_ack, on_partial_ack...), tcp_sack.c
 *   tcp_dupack       <- tcp_input.c -> fast retransmit, tcp_sack.c, tcp_output
 *   tcp_retransmit   <- tcp_timer.c (RTO), tcp_input.c
 *   tcp_tlp_fire     <- tcp_timer.c (tp->tlp.armed)
 *   tcp_dsack_received, tcp_count_rexmit... <- tcp_sack.c, tcp_output.c
 *                    -> tcp_output.c tcp_send_seg / tcp_send_data */

#include "tcp/tcp.h"
#include "tcp/tcp_internal.h"
#include "tcp/tcp_trace.h"

#include <errno.h>
#include <string.h>

#include "ip/ip.h"
#include "ip/ipv4.h"
#include "stack/stack.h"

#define TCP_CLOCK_G_US 1000             /* RFC 6298 2: clock granularity G (the timestamp clock) */
#define TCP_RTO_SYN_LOST_US 3000000     /* RFC 6298 5.7 */

/* ---- acknowledgments, RTT, retransmission ---------------------------------- */

static uint32_t tcp_resend_oldest(struct tcb *tp);

/* RFC 6298 2.2-2.4: folds one RTT measurement r (microseconds) into
 * SRTT / RTTVAR and recomputes RTO = SRTT + max(G, 4 * RTTVAR), clamped to
 * [rto_min, TCP_RTO_MAX_US] (2.4, 2.5). */
static void tcp_rtt_update(struct tcb *tp, int64_t r)
{
	tp->rtt.last = r;
	if (!tp->rtt.valid) {
		tp->rtt.srtt = r;
		tp->rtt.rttvar = r / 2;
		tp->rtt.valid = true;
	} else {
		int64_t delta = tp->rtt.srtt > r ? tp->rtt.srtt - r : r - tp->rtt.srtt;
		tp->rtt.rttvar = (3 * tp->rtt.rttvar + delta) / 4;
		tp->rtt.srtt = (7 * tp->rtt.srtt + r) / 8;
	}
	int64_t var = 4 * tp->rtt.rttvar;
	int64_t rto = tp->rtt.srtt + (var > TCP_CLOCK_G_US ? var : TCP_CLOCK_G_US);
	if (rto < tp->s->tcp.rto_min_us)
		rto = tp->s->tcp.rto_min_us;
	tp->rtt.rto = rto > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : rto;
}

/* Takes the RTT sample an ACK up to ack gives, if any: from the echoed
 * timestamp when timestamps are on (RFC 7323 4.1), else from the timed
 * segment if ack covers it (never retransmitted: Karn, RFC 6298 3).
 * Returns true if it took one. */
static bool tcp_rtt_sample(struct tcb *tp, uint32_t ack, const struct tcp_seg *seg)
{
	bool timed = tp->rtt.start != 0 && SEQ_GT(ack, tp->rtt.seq);
	int64_t r = -1;

	if (tp->opt.ts_ok && seg && seg->opt.ts_ok && seg->opt.tsecr != 0) {
		int32_t ms = (int32_t)(tcp_ts_now(tp) - seg->opt.tsecr);
		if (ms >= 0)
			r = (int64_t)ms * 1000;
	} else if (timed) {
		r = tp->s->now - tp->rtt.start;
	}
	if (timed || (tp->rtt.start != 0 && SEQ_LT(tp->rtt.seq, tp->snd.una)))
		tp->rtt.start = 0;
	if (r < 0)
		return false;
	tcp_rtt_update(tp, r);
	return true;
}

/* Leaves fast recovery (RFC 5681 3.2 step 6, RFC 6582 3.2 step 3 "full
 * acknowledgments", RFC 6675 5 step (A)): the algorithm sets cwnd, or
 * after SACK recovery cwnd stays at ssthresh. */
static void tcp_recovery_exit(struct tcb *tp)
{
	bool sack = tp->rec.sack_recovery;

	tp->rec.in_recovery = false;
	tp->rec.sack_recovery = false;
	tp->rec.nrxt = 0;
	tp->undo.end = tp->snd.max;
	if (sack) {
		/* RFC 6675 kept cwnd at ssthresh and the pipe under it all along,
		 * so there is no inflation to undo and no burst to fear: cwnd
		 * stays ssthresh (as Linux ends its recovery) */
		tp->cwnd = tp->ssthresh;
	} else if (tp->cc->on_recovery_exit) {
		tp->cc->on_recovery_exit(tp);
	}
	tcp_trace(tp, "recovery_exit");
	if (tp->s->trace) {
		char name[128];
		TRACE(tp->s, "tcp %s recovery done at ack %u (cwnd %u ssthresh %u)",
		      tcb_str(tp, name, sizeof(name)), tp->snd.una - tp->iss, tp->cwnd,
		      tp->ssthresh);
	}
}

/* An ACK of new data (acked bytes, snd.una already moved) during fast
 * recovery. At or past the recover point (a full ACK) recovery ends; so
 * does any new ACK with Reno (no on_partial_ack). A partial ACK (RFC 6582
 * 3.2 step 5) keeps it going: with SACK, RFC 6675's pipe decides what
 * tcp_output sends next; with NewReno, the next hole (the segment at the
 * new snd.una) is retransmitted now and cwnd deflates by what was acked. */
static void tcp_recovery_ack(struct tcb *tp, uint32_t acked)
{
	char name[128];

	if (SEQ_GEQ(tp->snd.una, tp->rec.recover) ||
	    (!tp->rec.sack_recovery && !tp->cc->on_partial_ack)) {
		tcp_recovery_exit(tp);
		return;
	}
	stats_inc(&tp->s->stats, "tcp.partial_ack");
	if (tp->rec.sack_recovery) {
		if (SEQ_LT(tp->rec.high_rxt, tp->snd.una))
			tp->rec.high_rxt = tp->snd.una;
		TRACE(tp->s, "tcp %s partial ACK %u in SACK recovery (recover %u, "
		      "%d ranges SACKed)", tcb_str(tp, name, sizeof(name)), tp->snd.una - tp->iss,
		      tp->rec.recover - tp->iss, tp->sack.nscoreboard);
		return;
	}
	tp->cc->on_partial_ack(tp, acked);
	TRACE(tp->s, "tcp %s partial ACK %u (recover %u): retransmit seq %u, cwnd %u",
	      tcb_str(tp, name, sizeof(name)), tp->snd.una - tp->iss, tp->rec.recover - tp->iss,
	      tp->snd.una - tp->iss, tp->cwnd);
	tcp_resend_oldest(tp);
}

/* RFC 7661 4.3, RFC 9438 5.8: was the sender using its window when
 * flight bytes were out (before this ACK)? In slow start when the flight
 * was at least half of cwnd (what Linux's tcp_is_cwnd_limited allows, and
 * RFC 7661's "validated" pipeACK >= cwnd / 2); in congestion avoidance
 * only if the window was full (less than a segment left). Else cwnd did
 * not limit it (the app or the peer's window did) and must not grow. */
static bool tcp_cwnd_limited(const struct tcb *tp, uint32_t flight)
{
	if (tp->cwnd < tp->ssthresh)
		return flight >= tp->cwnd / 2;
	return flight + tcp_seg_size(tp) > tp->cwnd;
}

/* New data acknowledged while cwnd did not limit the sender: cwnd stays
 * (RFC 9438 5.8: "CUBIC does not increase cwnd when the flow is
 * application-limited"; Reno and NewReno likewise), counted in
 * tcp.cwnd_not_limited; the algorithm may account for the time (CUBIC's t
 * does not run on). */
static void tcp_app_limited(struct tcb *tp, uint32_t data)
{
	stats_inc(&tp->s->stats, "tcp.cwnd_not_limited");
	if (tp->cc->on_app_limited)
		tp->cc->on_app_limited(tp, data);
}

/* Contract in tcp.h. The caller checked snd.una < ack <= snd.max. */
void tcp_ack_advance(struct tcb *tp, uint32_t ack, const struct tcp_seg *seg)
{
	uint32_t flight = tp->snd.max - tp->snd.una; /* before this ACK */
	uint32_t acked = ack - tp->snd.una;
	bool syn = tcp_syn_unacked(tp);
	uint32_t data = acked - (syn ? 1 : 0);
	if (data > tp->sndbuf.len)
		data = (uint32_t)tp->sndbuf.len; /* the rest is our FIN */
	bool fin_acked = tcp_fin_outstanding(tp) && ack == tp->snd.max;

	ring_drop(&tp->sndbuf, data); /* (writable: tcp_input woke the socket) */
	tp->stat.bytes_acked += data;
	tp->rtt.fresh = tcp_rtt_sample(tp, ack, seg);
	if (syn && tp->rtt.backoff > 0 && tp->rtt.rto < TCP_RTO_SYN_LOST_US)
		tp->rtt.rto = TCP_RTO_SYN_LOST_US; /* RFC 6298 5.7: the SYN timed out once */
	tp->snd.una = ack;
	if (SEQ_LT(tp->snd.nxt, ack))
		tp->snd.nxt = ack;
	tcp_sack_trim(tp);
	tcp_rxt_trim(tp);
	if (tp->undo.armed && !tp->rec.in_recovery && SEQ_GT(ack, tp->undo.end))
		tp->undo.armed = false; /* the D-SACKs of the recovery would have come by now */
	if (tp->rec.in_recovery)
		tcp_recovery_ack(tp, acked);
	else if (data > 0 && !tcp_cwnd_limited(tp, flight))
		tcp_app_limited(tp, data);
	else if (data > 0 && tp->cc->on_ack)
		tp->cc->on_ack(tp, data);
	tp->rec.dupacks = 0;
	tcp_trace(tp, "ack");
	tp->rtt.retries = 0;
	tp->rtt.backoff = 0;
	/* RFC 6298 5.2 / 5.3: stop the timer when all is acked, else restart it */
	if (tp->tlp.out && SEQ_GEQ(ack, tp->tlp.high))
		tp->tlp.out = false; /* RFC 8985 7.4: the probe's episode is over */
	if (tp->snd.una == tp->snd.max) {
		tp->tlp.armed = false;
		tcp_timer_set(tp, &tp->timer.rexmt, TCP_NO_TIMER);
	} else {
		tcp_rexmt_restart(tp);
	}
	if (fin_acked && !tp->so)
		tcp_timer_set(tp, &tp->timer.twomsl, tp->s->now + TCP_FIN_WAIT_2_US); /* orphan timeout */
}

/* Resends the oldest unacknowledged segment: the SYN in the handshake,
 * else up to one segment of data from snd.una, with the FIN if it follows.
 * snd.nxt moves past it if it was behind. Returns the sequence space sent. */
static uint32_t tcp_resend_oldest(struct tcb *tp)
{
	if (tcp_state_handshake(tp->state)) {
		tcp_send_syn(tp);
		return 1;
	}
	uint32_t sent = tp->snd.max - tcp_data_seq(tp);
	uint32_t data = sent < tp->sndbuf.len ? sent : (uint32_t)tp->sndbuf.len;
	uint32_t len = min_u32(data, tcp_seg_size(tp));
	bool fin = tcp_fin_outstanding(tp) && len == data;
	if (len == 0 && !fin)
		return 0;
	uint8_t flags = TCP_FLAG_ACK | (fin ? TCP_FLAG_FIN : 0) |
			(len && len == tp->sndbuf.len ? TCP_FLAG_PSH : 0);
	tcp_send_seg(tp, tp->snd.una, flags, len);
	tcp_count_rexmit(tp, len + (fin ? 1 : 0));
	uint32_t n = len + (fin ? 1 : 0);
	if (SEQ_LT(tp->snd.nxt, tp->snd.una + n))
		tp->snd.nxt = tp->snd.una + n;
	tcp_rexmt_arm(tp);
	return n;
}

/* Contract in tcp.h. The probe is one segment that asks for an ACK: with
 * SACK it tells a lost tail (which otherwise brings no duplicate ACKs, only
 * an RTO) and fast recovery starts. cwnd is left as it is (RFC 8985 7.4's
 * detection of a loss the probe alone repaired is not done here). */
void tcp_tlp_fire(struct tcb *tp)
{
	uint32_t off = tp->snd.nxt - tcp_data_seq(tp);
	uint32_t unsent = off < tp->sndbuf.len ? (uint32_t)tp->sndbuf.len - off : 0;
	uint32_t flight = tp->snd.nxt - tp->snd.una;
	uint32_t rwnd = tp->snd.wnd > flight ? tp->snd.wnd - flight : 0;
	uint32_t len = min_u32(min_u32(unsent, rwnd), tcp_seg_size(tp));
	char name[128];

	tp->tlp.armed = false;
	stats_inc(&tp->s->stats, "tcp.tlp");
	tp->tlp.out = true;
	tcp_trace(tp, "tlp");
	if (len > 0 && tp->snd.nxt == tp->snd.max) {
		TRACE(tp->s, "tcp %s tail loss probe: new data seq %u len %u (srtt %lld us)",
		      tcb_str(tp, name, sizeof(name)), tp->snd.nxt - tp->iss, len,
		      (long long)tp->rtt.srtt);
		tcp_send_data(tp, len, false);
	} else {
		uint32_t sent = tp->snd.max - tcp_data_seq(tp);
		len = min_u32(min_u32(sent, (uint32_t)tp->sndbuf.len), tcp_seg_size(tp));
		uint32_t seq = tcp_data_seq(tp) + min_u32(sent, (uint32_t)tp->sndbuf.len) - len;
		TRACE(tp->s, "tcp %s tail loss probe: last segment again seq %u len %u "
		      "(srtt %lld us)", tcb_str(tp, name, sizeof(name)), seq - tp->iss, len,
		      (long long)tp->rtt.srtt);
		bool last = seq + len == tcp_data_seq(tp) + (uint32_t)tp->sndbuf.len;
		if (len > 0) {
			tcp_send_seg(tp, seq, TCP_FLAG_ACK | (last ? TCP_FLAG_PSH : 0), len);
			tcp_count_rexmit(tp, len);
			stats_inc(&tp->s->stats, "tcp.tlp_retransmits");
		}
	}
	tp->tlp.high = tp->snd.max;
	/* RFC 8985 7.3: after the probe, the RTO */
	tcp_timer_set(tp, &tp->timer.rexmt, tp->s->now + tp->rtt.rto);
}

/* Contract in tcp.h. */
void tcp_retransmit(struct tcb *tp)
{
	tcp_resend_oldest(tp);
}

/* ---- undoing a spurious reduction (RFC 3708, RFC 9438 4.9) ------------ */

/* A fast retransmit with SACK: remembers cwnd, ssthresh and the
 * algorithm's state before the reduction (RFC 9438 4.9: cwnd_prior,
 * ssthresh_prior, W_max, K, epoch_start, W_est...), and counts from zero
 * the retransmissions of the recovery (tcp_count_rexmit). */
static void tcp_undo_arm(struct tcb *tp)
{
	_Static_assert(sizeof(tp->undo.priv) == sizeof(tp->cc_priv), "undo_priv mirrors cc_priv");
	tp->undo.armed = tp->opt.sack_ok;
	tp->undo.marker = tp->snd.una;
	tp->undo.cwnd = tp->cwnd;
	tp->undo.ssthresh = tp->ssthresh;
	tp->undo.retrans = 0;
	memcpy(tp->undo.priv, tp->cc_priv, sizeof(tp->undo.priv));
}

/* RFC 3708 3 (as Linux's tcp_try_undo_dsack): every retransmission since
 * the fast retransmit was reported by a D-SACK, so the original arrived
 * each time and nothing was lost: the reduction was spurious. cwnd,
 * ssthresh and the algorithm's state go back to what they were before it
 * (RFC 9438 4.9; cwnd never lower than now), and a recovery still running
 * ends (`tcp.dsack_undo`). */
static void tcp_undo(struct tcb *tp)
{
	char name[128];

	tp->undo.armed = false;
	if (tp->rec.in_recovery) {
		tp->rec.in_recovery = false;
		tp->rec.sack_recovery = false;
		tp->rec.nrxt = 0;
	}
	if (tp->cwnd < tp->undo.cwnd)
		tp->cwnd = tp->undo.cwnd;
	tp->ssthresh = tp->undo.ssthresh;
	memcpy(tp->cc_priv, tp->undo.priv, sizeof(tp->cc_priv));
	stats_inc(&tp->s->stats, "tcp.dsack_undo");
	tcp_trace(tp, "undo");
	TRACE(tp->s, "tcp %s D-SACKs reported every retransmission since seq %u: the reduction "
	      "was spurious, undone (cwnd %u ssthresh %u)", tcb_str(tp, name, sizeof(name)),
	      tp->undo.marker - tp->iss, tp->cwnd, tp->ssthresh);
}

/* True if [a, b) overlaps a retransmission recorded in this recovery. */
static bool tcp_rxt_overlaps(const struct tcb *tp, uint32_t a, uint32_t b)
{
	for (int i = 0; i < tp->rec.nrxt; i++)
		if (SEQ_LT(a, tp->rec.rxt[i].end) && SEQ_LT(tp->rec.rxt[i].start, b))
			return true;
	return false;
}

/* RFC 2883 5: the peer received [a, b) twice (a D-SACK). Counted
 * (`tcp.dsack_received`); one that reports a retransmission of the last
 * fast recovery takes one from undo_retrans, and when none is left the
 * reduction is undone. As Linux (tcp_check_dsack) a D-SACK below snd.una
 * counts if it lies in [undo_marker, recover) (what it covered is gone
 * from the send ring); one above must overlap a retransmission of the
 * recovery still running. */
void tcp_dsack_received(struct tcb *tp, uint32_t a, uint32_t b)
{
	stats_inc(&tp->s->stats, "tcp.dsack_received");
	if (tp->s->trace) {
		char name[128];
		TRACE(tp->s, "tcp %s D-SACK: seq %u to %u arrived twice", tcb_str(tp, name, sizeof(name)),
		      a - tp->iss, b - tp->iss);
	}
	if (!tp->undo.armed || tp->undo.retrans <= 0 || SEQ_LT(a, tp->undo.marker) ||
	    SEQ_GT(b, tp->rec.recover))
		return;
	if (SEQ_GT(b, tp->snd.una) && !tcp_rxt_overlaps(tp, a, b))
		return; /* a duplicate of data sent once: the network's, not ours */
	uint32_t seg = tcp_seg_size(tp);
	int n = (int)((b - a + seg - 1) / seg);
	tp->undo.retrans -= n < tp->undo.retrans ? n : tp->undo.retrans;
	if (tp->undo.retrans == 0)
		tcp_undo(tp);
}

/* RFC 6582 3.2 step 2 (and 4.1 after a timeout): duplicate ACKs start a
 * new recovery only once the ACK covers the recover point of the last one
 * (SND.UNA >= recover, recover kept as one past the highest byte sent
 * then), so one window of data halves cwnd once. A recover point past
 * snd.max was never set on this connection. */
static bool tcp_recover_passed(const struct tcb *tp)
{
	return SEQ_GEQ(tp->snd.una, tp->rec.recover) || SEQ_GT(tp->rec.recover, tp->snd.max);
}

/* Enters fast recovery (RFC 5681 3.2 steps 2-3, RFC 6582 3.2 step 2, RFC
 * 6675 5 step (4)): recover = the highest sequence sent, the algorithm
 * lowers ssthresh and cwnd (with SACK: cwnd = ssthresh, no inflation),
 * the oldest segment goes again, then with SACK what the pipe allows. */
static void tcp_enter_recovery(struct tcb *tp)
{
	bool probe_was_next = tp->tlp.armed;

	tp->rec.recover = tp->snd.max;
	tp->tlp.out = false;
	tp->tlp.armed = false;
	tcp_undo_arm(tp);
	if (tp->cc->on_loss)
		tp->cc->on_loss(tp);
	tp->rec.in_recovery = true;
	/* RFC 8985 7.2: no probe in recovery; the timer that was the probe's
	 * goes back to being the RTO (RFC 6298 5.1), or it would fire as an
	 * RTO at the probe's earlier time */
	if (probe_was_next)
		tcp_rexmt_restart(tp);
	tp->rec.sack_recovery = tp->opt.sack_ok;
	tp->rec.nrxt = 0;
	tp->rec.rescue_set = false; /* RFC 6675 4: RescueRxt undefined at the start */
	stats_inc(&tp->s->stats, "tcp.fast_retransmit");
	if (tp->rec.sack_recovery) {
		tp->cwnd = tp->ssthresh;
		stats_inc(&tp->s->stats, "tcp.sack_recovery");
	}
	tcp_trace(tp, "fast_retransmit");
	if (tp->s->trace) {
		char name[128];
		TRACE(tp->s, "tcp %s fast retransmit seq %u (%d duplicate ACKs, %s recovery to %u, "
		      "cwnd %u ssthresh %u)",
		      tcb_str(tp, name, sizeof(name)), tp->snd.una - tp->iss, tp->rec.dupacks,
		      tp->rec.sack_recovery ? "SACK" : tp->cc->name, tp->rec.recover - tp->iss, tp->cwnd,
		      tp->ssthresh);
	}
	tp->rec.high_rxt = tp->snd.una + tcp_resend_oldest(tp);
	tcp_rxt_note(tp, tp->snd.una, tp->rec.high_rxt);
	if (tp->rec.sack_recovery)
		tcp_output(tp);
}

/* RFC 3042 2, limited transmit: the first and second duplicate ACK each
 * let one new segment go (tcp_usable_window allows it), cwnd unchanged. */
static void tcp_limited_transmit(struct tcb *tp)
{
	uint32_t before = tp->snd.max;

	tcp_output(tp);
	if (tp->snd.max == before)
		return;
	stats_inc(&tp->s->stats, "tcp.limited_transmit");
	if (tp->s->trace) {
		char name[128];
		TRACE(tp->s, "tcp %s limited transmit after duplicate ACK %d: seq %u len %u",
		      tcb_str(tp, name, sizeof(name)), tp->rec.dupacks, before - tp->iss,
		      tp->snd.max - before);
	}
}

/* Contract in tcp.h. A duplicate only counts while data is outstanding
 * and the window is open (RFC 5681 2: a zero-window probe's answer is not
 * a loss signal). The first two bring limited transmit; the third (or,
 * with SACK, the oldest segment being lost by RFC 6675's IsLost) fast
 * retransmit and recovery, at most once per window; in recovery, later
 * ones inflate cwnd through the algorithm (RFC 5681 3.2 step 4) or, with
 * SACK, free room in the pipe (RFC 6675 5 step (C)). */
void tcp_dupack(struct tcb *tp, const struct tcp_seg *seg)
{
	(void)seg;
	if (tp->snd.wnd == 0 || tp->snd.max == tp->snd.una)
		return;
	tp->rec.dupacks++;
	stats_inc(&tp->s->stats, "tcp.dupacks");
	tcp_trace(tp, "dupack");
	if (tp->rec.in_recovery) {
		if (!tp->rec.sack_recovery && tp->cc->on_dupack)
			tp->cc->on_dupack(tp);
		tcp_output(tp);
		return;
	}
	bool lost = tp->opt.sack_ok && tcp_sack_is_lost(tp, tp->snd.una);
	if (tp->rec.dupacks < TCP_DUPTHRESH && !lost) {
		tcp_limited_transmit(tp);
		return;
	}
	if (!tcp_recover_passed(tp)) {
		stats_inc(&tp->s->stats, "tcp.dupack_before_recover");
		if (tp->s->trace && tp->rec.dupacks == TCP_DUPTHRESH) {
			char name[128];
			TRACE(tp->s, "tcp %s %d duplicate ACKs for data sent before recover %u: "
			      "no second reduction", tcb_str(tp, name, sizeof(name)), tp->rec.dupacks,
			      tp->rec.recover - tp->iss);
		}
		return;
	}
	tcp_enter_recovery(tp);
}

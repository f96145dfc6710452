/* TCP SACK, the sender's side (RFC 2018, RFC 6675): the scoreboard of
 * what the peer SACKed above snd.una, the pipe and NextSeg() of RFC 6675
 * with its rules 1-4 and the rescue retransmission, D-SACK reports (RFC
 * 2883), and the retransmissions of a SACK recovery watched for loss
 * (before RACK, as Linux's tcp_mark_lost_retrans). See tcp.h.
 *
 * Call map:
 *   tcp_sack_update  <- tcp_input.c (an acceptable ACK)
 *                    -> tcp_ack.c tcp_dsack_received (undo), lost retransmissions
 *   tcp_sack_clear   <- tcp_timer.c (RTO)
 *   tcp_sack_retransmit_holes, tcp_sack_send_rules_3_4, tcp_sack_skip,
 *   tcp_sack_pipe, tcp_rxt_* (tcp_internal.h)
 *                    <- tcp_output.c (tcp_output), tcp_ack.c (recovery)
 *                    -> tcp_output.c tcp_send_data / tcp_send_seg
 *   tcp_sack_pipe_walk <- tcp_sack_pipe with the host's sack_pipe_check (tests) */

#include "tcp/tcp.h"
#include "tcp/tcp_internal.h"
#include "tcp/tcp_trace.h"

#include <errno.h>
#include <string.h>

#include "ip/ip.h"
#include "ip/ipv4.h"
#include "stack/stack.h"

/* ---- the SACK scoreboard (RFC 2018, RFC 6675) ------------------------------ */

static void tcp_rxt_mark_lost(struct tcb *tp, uint32_t ack);

/* Contract in tcp.h. */
void tcp_sack_clear(struct tcb *tp)
{
	tp->sack.nscoreboard = 0;
	tp->rec.nrxt = 0;
	tp->undo.armed = false; /* a timeout is not undone by D-SACKs here */
}

/* Adds [a, b) to the scoreboard, merging with the ranges it touches; the
 * ranges stay sorted and disjoint. When all TCP_SACK_SCOREBOARD are in use
 * the highest range is forgotten (those bytes only count as not SACKed:
 * at worst sent again), counted in tcp.sack_scoreboard_full. */
static void tcp_sack_add(struct tcb *tp, uint32_t a, uint32_t b)
{
	int i = 0, j;

	while (i < tp->sack.nscoreboard && SEQ_LT(tp->sack.scoreboard[i].end, a))
		i++;
	for (j = i; j < tp->sack.nscoreboard && SEQ_LEQ(tp->sack.scoreboard[j].start, b); j++) {
		a = SEQ_MIN(a, tp->sack.scoreboard[j].start);
		b = SEQ_MAX(b, tp->sack.scoreboard[j].end);
	}
	if (j == i) { /* touches nothing: a new range at i */
		if (tp->sack.nscoreboard == TCP_SACK_SCOREBOARD) {
			/* the bound on what a peer's SACK blocks make us keep and
			 * walk per ACK */
			stats_inc(&tp->s->stats, "tcp.sack_scoreboard_full");
			if (i == tp->sack.nscoreboard)
				return;
			tp->sack.nscoreboard--;
		}
		memmove(&tp->sack.scoreboard[i + 1], &tp->sack.scoreboard[i],
			(size_t)(tp->sack.nscoreboard - i) * sizeof(tp->sack.scoreboard[0]));
		tp->sack.nscoreboard++;
	} else { /* ranges i..j-1 become one */
		memmove(&tp->sack.scoreboard[i + 1], &tp->sack.scoreboard[j],
			(size_t)(tp->sack.nscoreboard - j) * sizeof(tp->sack.scoreboard[0]));
		tp->sack.nscoreboard -= j - i - 1;
	}
	tp->sack.scoreboard[i].start = a;
	tp->sack.scoreboard[i].end = b;
}

/* Bytes the scoreboard holds. */
static uint32_t tcp_sack_bytes(const struct tcb *tp)
{
	uint32_t n = 0;
	for (int i = 0; i < tp->sack.nscoreboard; i++)
		n += tp->sack.scoreboard[i].end - tp->sack.scoreboard[i].start;
	return n;
}

/* RFC 2883 4 and 5: the first SACK block is a D-SACK (a duplicate the
 * peer received) if it lies at or below the cumulative ACK, or inside the
 * second block. */
static bool tcp_is_dsack(const struct tcp_seg *seg)
{
	const uint32_t (*b)[2] = seg->opt.sack;
	if (seg->opt.nsack == 0 || !SEQ_LT(b[0][0], b[0][1]))
		return false;
	return SEQ_LEQ(b[0][1], seg->ack) ||
	       (seg->opt.nsack > 1 && SEQ_GEQ(b[0][0], b[1][0]) && SEQ_LEQ(b[0][1], b[1][1]));
}

/* Contract in tcp.h. RFC 2018 3: each block is [left, right); one that
 * lies at or below snd.una (old news) or reaches past what we sent is
 * ignored. A D-SACK first (RFC 2883) is counted (`tcp.dsack_received`)
 * and adds nothing to the scoreboard. */
bool tcp_sack_update(struct tcb *tp, const struct tcp_seg *seg)
{
	if (!tp->opt.sack_ok || seg->opt.nsack == 0)
		return false;
	uint32_t before = tcp_sack_bytes(tp);
	for (int i = 0; i < seg->opt.nsack && i < TCP_MAX_SACK; i++) {
		uint32_t a = seg->opt.sack[i][0], b = seg->opt.sack[i][1];
		stats_inc(&tp->s->stats, "tcp.sack_blocks_rx");
		if (i == 0 && tcp_is_dsack(seg)) {
			tcp_dsack_received(tp, a, b);
			continue;
		}
		if (!SEQ_LT(a, b) || SEQ_LEQ(b, seg->ack) || SEQ_LEQ(b, tp->snd.una) ||
		    SEQ_GT(b, tp->snd.max)) {
			stats_inc(&tp->s->stats, "tcp.sack_blocks_ignored");
			continue;
		}
		tcp_sack_add(tp, SEQ_MAX(a, tp->snd.una), b);
	}
	bool news = tcp_sack_bytes(tp) != before;
	if (news && tp->rec.sack_recovery)
		tcp_rxt_mark_lost(tp, seg->ack);
	return news;
}

/* Drops what snd.una passed from the scoreboard (after an ACK of new data). */
void tcp_sack_trim(struct tcb *tp)
{
	int k = 0;
	for (int i = 0; i < tp->sack.nscoreboard; i++) {
		if (SEQ_LEQ(tp->sack.scoreboard[i].end, tp->snd.una))
			continue;
		tp->sack.scoreboard[k] = tp->sack.scoreboard[i];
		if (SEQ_LT(tp->sack.scoreboard[k].start, tp->snd.una))
			tp->sack.scoreboard[k].start = tp->snd.una;
		k++;
	}
	tp->sack.nscoreboard = k;
}

/* Drops from the retransmission records what snd.una passed. */
void tcp_rxt_trim(struct tcb *tp)
{
	int k = 0;
	for (int i = 0; i < tp->rec.nrxt; i++) {
		if (SEQ_LEQ(tp->rec.rxt[i].end, tp->snd.una))
			continue;
		tp->rec.rxt[k] = tp->rec.rxt[i];
		if (SEQ_LT(tp->rec.rxt[k].start, tp->snd.una))
			tp->rec.rxt[k].start = tp->snd.una;
		k++;
	}
	tp->rec.nrxt = k;
}

/* RFC 6675 4 IsLost(SeqNum): true if DupThresh SACKed ranges lie above
 * seq, or more than (DupThresh - 1) * SMSS bytes above it were SACKed. */
bool tcp_sack_is_lost(const struct tcb *tp, uint32_t seq)
{
	uint32_t bytes = 0;
	int ranges = 0;

	for (int i = tp->sack.nscoreboard - 1; i >= 0 && SEQ_GT(tp->sack.scoreboard[i].end, seq); i--) {
		uint32_t a = SEQ_MAX(tp->sack.scoreboard[i].start, seq + 1);
		bytes += tp->sack.scoreboard[i].end - a;
		ranges++;
	}
	return ranges >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1) * (uint32_t)tp->opt.snd_mss;
}

/* The hole (not SACKed) that starts at or after seq: its bounds in
 * [*a, *b), b at most snd.max. False if there is none. The holes visited
 * are added to *steps. */
static bool tcp_sack_hole_steps(const struct tcb *tp, uint32_t seq, uint32_t *a, uint32_t *b,
				uint64_t *steps)
{
	for (int i = 0; i <= tp->sack.nscoreboard; i++) {
		uint32_t h0 = i == 0 ? tp->snd.una : tp->sack.scoreboard[i - 1].end;
		uint32_t h1 = i == tp->sack.nscoreboard ? tp->snd.max : tp->sack.scoreboard[i].start;
		(*steps)++;
		if (SEQ_LT(seq, h0))
			seq = h0;
		if (SEQ_LT(seq, h1)) {
			*a = seq;
			*b = h1;
			return true;
		}
	}
	return false;
}

/* The same, the holes visited counted in tcp.sack_walk_steps (at most
 * TCP_SACK_SCOREBOARD + 1 a call). */
static bool tcp_sack_hole(const struct tcb *tp, uint32_t seq, uint32_t *a, uint32_t *b)
{
	uint64_t steps = 0;
	bool found = tcp_sack_hole_steps(tp, seq, a, b, &steps);
	stats_add(&tp->s->stats, "tcp.sack_walk_steps", steps);
	return found;
}

/* ---- lost retransmissions ------------------------------------------------
 *
 * RFC 6675 never chooses a byte below HighRxt again (NextSeg() rule 1 asks
 * for S2 > HighRxt), so a retransmission that is lost too waits for the
 * RTO. The scoreboard can tell sooner, as Linux did with
 * tcp_mark_lost_retrans() before RACK (RFC 8985 does the same with time):
 * each retransmission is recorded with snd.max when it went (its mark);
 * once the peer SACKs a byte at or past the mark, data sent after the
 * retransmission arrived and the retransmission did not, so, with no
 * reordering, it was lost. It no longer counts in the pipe and goes again
 * before any other hole. Only new data sent after a retransmission can
 * show it lost: a recovery that sends none still needs the RTO. */

/* The end of the highest SACKed range (snd.una with none). */
static uint32_t tcp_sack_high(const struct tcb *tp)
{
	return tp->sack.nscoreboard ? tp->sack.scoreboard[tp->sack.nscoreboard - 1].end : tp->snd.una;
}

/* Forgets retransmission record i. */
static void tcp_rxt_remove(struct tcb *tp, int i)
{
	memmove(&tp->rec.rxt[i], &tp->rec.rxt[i + 1], (size_t)(tp->rec.nrxt - i - 1) * sizeof(tp->rec.rxt[0]));
	tp->rec.nrxt--;
}

/* Records that [a, b) was retransmitted in SACK recovery, now. With the
 * table full it is not recorded (tcp.sack_rxt_records_full): if lost, the
 * RTO repairs it. */
void tcp_rxt_note(struct tcb *tp, uint32_t a, uint32_t b)
{
	if (!tp->rec.sack_recovery || !SEQ_LT(a, b))
		return;
	if (tp->rec.nrxt == TCP_RXT_RECORDS) {
		stats_inc(&tp->s->stats, "tcp.sack_rxt_records_full");
		return;
	}
	tp->rec.rxt[tp->rec.nrxt++] = (struct tcp_rxt){ .start = a, .end = b, .mark = tp->snd.max };
}

/* True if seq lies in a retransmission found lost and not sent again. */
static bool tcp_rxt_lost_at(const struct tcb *tp, uint32_t seq)
{
	for (int i = 0; i < tp->rec.nrxt; i++)
		if (tp->rec.rxt[i].lost && SEQ_IN(seq, tp->rec.rxt[i].start, tp->rec.rxt[i].end))
			return true;
	return false;
}

/* After new SACK information in SACK recovery (the ACK that brought it
 * acknowledges up to ack, which snd.una has not reached yet): a
 * retransmission whose mark the highest SACKed byte passed is lost if some
 * byte of it is neither acknowledged by that ACK nor SACKed (counted in
 * tcp.lost_retransmit), delivered if all are. */
static void tcp_rxt_mark_lost(struct tcb *tp, uint32_t ack)
{
	uint32_t high = tcp_sack_high(tp), a, b;

	for (int i = 0; i < tp->rec.nrxt; i++) {
		struct tcp_rxt *r = &tp->rec.rxt[i];
		if (r->lost || !SEQ_GT(high, r->mark))
			continue;
		uint32_t from = SEQ_GT(ack, r->start) ? ack : r->start;
		if (!SEQ_LT(from, r->end) || !tcp_sack_hole(tp, from, &a, &b) ||
		    !SEQ_LT(a, r->end)) {
			tcp_rxt_remove(tp, i--); /* all of it arrived */
			continue;
		}
		r->lost = true;
		stats_inc(&tp->s->stats, "tcp.lost_retransmit");
		if (tp->s->trace) {
			char name[128];
			TRACE(tp->s, "tcp %s retransmission seq %u len %u lost: data sent after it "
			      "(from %u) was SACKed up to %u", tcb_str(tp, name, sizeof(name)),
			      r->start - tp->iss, r->end - r->start, r->mark - tp->iss,
			      high - tp->iss);
		}
	}
}

/* The lost retransmission to send again first (the lowest): its next
 * bytes not SACKed, up to one segment, in *seq and *len, and its record
 * in *idx. False if there is none. */
static bool tcp_rxt_next(struct tcb *tp, uint32_t *seq, uint32_t *len, int *idx)
{
	uint32_t a, b;
	int best = -1;

	for (int i = 0; i < tp->rec.nrxt; i++) {
		struct tcp_rxt *r = &tp->rec.rxt[i];
		if (!r->lost)
			continue;
		if (!tcp_sack_hole(tp, r->start, &a, &b) || !SEQ_LT(a, r->end)) {
			tcp_rxt_remove(tp, i--); /* SACKed meanwhile */
			continue;
		}
		if (best < 0 || SEQ_LT(a, *seq)) {
			best = i;
			*seq = a;
			*len = min_u32(SEQ_MIN(b, r->end) - a, tcp_seg_size(tp));
		}
	}
	*idx = best;
	return best >= 0;
}

/* The lost retransmissions, sorted and merged into disjoint ranges in
 * out (at most TCP_RXT_RECORDS); their number. *steps counts the records
 * visited. */
static int tcp_rxt_lost_ranges(const struct tcb *tp, struct tcp_range *out, uint64_t *steps)
{
	int n = 0;

	for (int i = 0; i < tp->rec.nrxt; i++) {
		const struct tcp_rxt *r = &tp->rec.rxt[i];
		(*steps)++;
		if (!r->lost || !SEQ_LT(r->start, r->end))
			continue;
		int k = n++;
		for (; k > 0 && SEQ_GT(out[k - 1].start, r->start); k--)
			out[k] = out[k - 1];
		out[k] = (struct tcp_range){ .start = r->start, .end = r->end };
	}
	int m = 0;
	for (int i = 0; i < n; i++) {
		if (m > 0 && SEQ_LEQ(out[i].start, out[m - 1].end))
			out[m - 1].end = SEQ_MAX(out[m - 1].end, out[i].end);
		else
			out[m++] = out[i];
	}
	return m;
}

/* Contract in tcp_internal.h. RFC 6675 4 SetPipe(): the bytes estimated
 * in the network. Every octet of [snd.una, snd.max) not SACKed counts
 * once unless IsLost() holds for it, and once more if it was
 * retransmitted (below HighRxt) and that retransmission is not known lost
 * (see above). The RFC allows any way of counting that gives this sum:
 * instead of asking per segment over the whole flight (what
 * tcp_sack_pipe_walk does, the flight in segments per call, and once per
 * retransmission: quadratic in one ACK), it is counted per hole. IsLost()
 * is the same for every octet of a hole (the SACKed ranges above it are
 * the same), so a hole adds its length or nothing; its retransmitted part
 * adds its length less the lost retransmissions in it. The cost is the
 * scoreboard's holes and the retransmission records, at most
 * TCP_SACK_SCOREBOARD + 1 + 2 * TCP_RXT_RECORDS steps whatever the flight
 * and the MSS (counted in tcp.sack_walk_steps). */
static uint32_t tcp_sack_pipe_fast(const struct tcb *tp)
{
	struct tcp_range lost[TCP_RXT_RECORDS];
	uint64_t steps = 0;
	int nlost = tcp_rxt_lost_ranges(tp, lost, &steps);
	int n = tp->sack.nscoreboard, j = 0;
	uint32_t pipe = 0, above = tcp_sack_bytes(tp);

	for (int i = 0; i <= n; i++) {
		/* hole i: from the end of range i - 1 (snd.una) to the start of
		 * range i (snd.max); ranges i..n-1 lie above it */
		uint32_t h0 = i == 0 ? tp->snd.una : tp->sack.scoreboard[i - 1].end;
		uint32_t h1 = i == n ? tp->snd.max : tp->sack.scoreboard[i].start;
		if (i > 0)
			above -= tp->sack.scoreboard[i - 1].end - tp->sack.scoreboard[i - 1].start;
		steps++;
		if (!SEQ_LT(h0, h1))
			continue;
		/* tcp_sack_is_lost(tp, h0), from the ranges above the hole */
		bool is_lost = n - i >= TCP_DUPTHRESH ||
			       above > (TCP_DUPTHRESH - 1) * (uint32_t)tp->opt.snd_mss;
		if (!is_lost)
			pipe += h1 - h0;
		if (!SEQ_LT(h0, tp->rec.high_rxt))
			continue;
		uint32_t r1 = SEQ_MIN(h1, tp->rec.high_rxt);
		pipe += r1 - h0;
		while (j < nlost && SEQ_LEQ(lost[j].end, h0)) { /* holes ascend: a cursor */
			j++;
			steps++;
		}
		for (int k = j; k < nlost && SEQ_LT(lost[k].start, r1); k++) {
			steps++;
			pipe -= SEQ_MIN(lost[k].end, r1) - SEQ_MAX(lost[k].start, h0);
		}
	}
	stats_add(&tp->s->stats, "tcp.sack_walk_steps", steps);
	return pipe;
}

/* Contract in tcp_internal.h. The RFC's SetPipe() as written, for the
 * tests: the flight walked from snd.una to snd.max one piece at a time,
 * a piece being at most a segment, inside one hole and on one side of
 * every retransmission record's edges, so what is asked of its first
 * octet (IsLost, below HighRxt, in a lost retransmission) holds for all
 * its octets. Costs the flight in segments: never on the data path. */
uint32_t tcp_sack_pipe_walk(const struct tcb *tp)
{
	uint32_t pipe = 0, a, b, seq = tp->snd.una;
	uint32_t mss = tcp_seg_size(tp);
	uint64_t uncounted = 0;

	while (tcp_sack_hole_steps(tp, seq, &a, &b, &uncounted)) {
		uint32_t end = SEQ_LT(a + mss, b) ? a + mss : b;
		for (int i = 0; i < tp->rec.nrxt; i++) {
			if (SEQ_LT(a, tp->rec.rxt[i].start) && SEQ_LT(tp->rec.rxt[i].start, end))
				end = tp->rec.rxt[i].start;
			if (SEQ_LT(a, tp->rec.rxt[i].end) && SEQ_LT(tp->rec.rxt[i].end, end))
				end = tp->rec.rxt[i].end;
		}
		if (!tcp_sack_is_lost(tp, a))
			pipe += end - a;
		if (SEQ_LT(a, tp->rec.high_rxt) && !tcp_rxt_lost_at(tp, a))
			pipe += SEQ_MIN(end, tp->rec.high_rxt) - a;
		seq = end;
	}
	return pipe;
}

/* Contract in tcp_internal.h. With the host's sack_pipe_check on (tests
 * only), each pipe is recounted by tcp_sack_pipe_walk and a difference
 * counted (tcp.sack_pipe_mismatch). */
uint32_t tcp_sack_pipe(const struct tcb *tp)
{
	uint32_t pipe = tcp_sack_pipe_fast(tp);
	if (tp->s->tcp.sack_pipe_check) {
		uint32_t walked = tcp_sack_pipe_walk(tp);
		stats_inc(&tp->s->stats, "tcp.sack_pipe_checked");
		if (walked != pipe) {
			stats_inc(&tp->s->stats, "tcp.sack_pipe_mismatch");
			if (tp->s->trace) {
				char name[128];
				TRACE(tp->s, "tcp %s pipe %u but a full recount gives %u",
				      tcb_str(tp, name, sizeof(name)), pipe, walked);
			}
		}
	}
	return pipe;
}

/* RFC 6675 4 NextSeg() rules 1 and 3: the first bytes not SACKed, at or
 * above HighRxt and below the highest SACKed byte, up to one segment:
 * their start and length. Rule 1 (lost) also asks that they be lost
 * (IsLost); rule 3 takes them even if not. False if there are none (rule
 * 1 failing, new data goes, rule 2, by tcp_output's usual loop). */
static bool tcp_sack_next_seg(const struct tcb *tp, uint32_t *seq, uint32_t *len, bool lost)
{
	uint32_t a, b;

	if (tp->sack.nscoreboard == 0 || !tcp_sack_hole(tp, SEQ_MAX(tp->rec.high_rxt, tp->snd.una), &a, &b))
		return false;
	if (!SEQ_LT(a, tp->sack.scoreboard[tp->sack.nscoreboard - 1].start) || (lost && !tcp_sack_is_lost(tp, a)))
		return false;
	*seq = a;
	*len = min_u32(b - a, tcp_seg_size(tp));
	return true;
}

/* Traces a retransmission of SACK recovery (why: which rule). */
static void tcp_sack_trace_rexmit(const struct tcb *tp, const char *why, uint32_t seq,
				  uint32_t len, uint32_t pipe)
{
	if (tp->s->trace) {
		char name[128];
		TRACE(tp->s, "tcp %s SACK recovery: retransmit %s seq %u len %u (pipe %u cwnd %u)",
		      tcb_str(tp, name, sizeof(name)), why, seq - tp->iss, len, pipe, tp->cwnd);
	}
}

/* RFC 6675 5 step (C): while cwnd - pipe >= 1 SMSS, retransmit the holes
 * NextSeg() rule 1 names, moving HighRxt past each (C.2). Before them, a
 * retransmission found lost goes again (see above; HighRxt stays). Data
 * only: a hole below a SACKed range never holds our FIN. */
void tcp_sack_retransmit_holes(struct tcb *tp)
{
	uint32_t seq = 0, len = 0;
	uint32_t pipe = tcp_sack_pipe(tp);
	int k;

	while (pipe + tcp_seg_size(tp) <= tp->cwnd) {
		bool again = tcp_rxt_next(tp, &seq, &len, &k);
		if (!again && !tcp_sack_next_seg(tp, &seq, &len, true))
			break;
		uint32_t off = seq - tcp_data_seq(tp);
		if (off >= tp->sndbuf.len)
			break;
		len = min_u32(len, (uint32_t)tp->sndbuf.len - off);
		tcp_sack_trace_rexmit(tp, again ? "lost retransmission" : "hole", seq, len, pipe);
		if (tcp_send_seg(tp, seq, TCP_FLAG_ACK, len) == -ENOBUFS)
			break;
		tcp_count_rexmit(tp, len);
		stats_inc(&tp->s->stats, "tcp.sack_retransmits");
		if (again) {
			tp->rec.rxt[k].start = seq + len; /* the rest of it, if any, next */
			if (!SEQ_LT(tp->rec.rxt[k].start, tp->rec.rxt[k].end))
				tcp_rxt_remove(tp, k);
			stats_inc(&tp->s->stats, "tcp.lost_retransmit_resent");
		} else {
			tp->rec.high_rxt = seq + len;
		}
		tcp_rxt_note(tp, seq, seq + len);
		pipe = tcp_sack_pipe(tp);
	}
	tcp_rexmt_arm(tp);
}

/* RFC 6675 4 NextSeg() rule 4, the rescue retransmission: one segment
 * that holds the highest byte not SACKed (our FIN, if that is it), at
 * most once per recovery (HighACK > RescueRxt). Only if that byte is at
 * or past HighRxt (else rule 1 or 3 sent it already). Its start, length
 * and whether the FIN goes with it. */
static bool tcp_sack_rescue_seg(const struct tcb *tp, uint32_t *seq, uint32_t *len, bool *fin)
{
	uint32_t a, b, ha = 0, hb = 0, from = tp->snd.una;
	bool any = false;

	if (tp->rec.rescue_set && !SEQ_GT(tp->snd.una, tp->rec.rescue_rxt))
		return false;
	while (tcp_sack_hole(tp, from, &a, &b)) { /* the highest hole */
		ha = a;
		hb = b;
		any = true;
		from = b;
	}
	if (!any || !SEQ_GT(hb, tp->rec.high_rxt) || !SEQ_GT(hb, tp->snd.una))
		return false;
	*fin = tcp_fin_outstanding(tp) && hb == tp->snd.max;
	uint32_t dend = hb - (*fin ? 1 : 0);
	uint32_t dend_max = tcp_data_seq(tp) + (uint32_t)tp->sndbuf.len;
	if (SEQ_GT(dend, dend_max))
		dend = dend_max;
	uint32_t l = SEQ_GT(dend, ha) ? min_u32(dend - ha, tcp_seg_size(tp)) : 0;
	if (l == 0 && !*fin)
		return false;
	*seq = dend - l;
	*len = l;
	return true;
}

/* RFC 6675 5 step (C) once new data (rule 2) can go no further: while
 * cwnd - pipe >= 1 SMSS, NextSeg() rule 3 retransmits holes below the
 * highest SACKed byte not yet lost by IsLost (HighRxt moves), then rule 4
 * makes the one rescue retransmission (RescueRxt = RecoveryPoint, HighRxt
 * stays). */
void tcp_sack_send_rules_3_4(struct tcb *tp)
{
	uint32_t seq, len;
	uint32_t pipe = tcp_sack_pipe(tp);
	bool fin;

	while (pipe + tcp_seg_size(tp) <= tp->cwnd) {
		if (tcp_sack_next_seg(tp, &seq, &len, false)) {
			uint32_t off = seq - tcp_data_seq(tp);
			if (off >= tp->sndbuf.len)
				break;
			len = min_u32(len, (uint32_t)tp->sndbuf.len - off);
			tcp_sack_trace_rexmit(tp, "hole not yet lost (rule 3)", seq, len, pipe);
			if (tcp_send_seg(tp, seq, TCP_FLAG_ACK, len) == -ENOBUFS)
				break;
			tcp_count_rexmit(tp, len);
			stats_inc(&tp->s->stats, "tcp.sack_retransmits");
			stats_inc(&tp->s->stats, "tcp.sack_rule3");
			tp->rec.high_rxt = seq + len;
			tcp_rxt_note(tp, seq, seq + len);
			pipe = tcp_sack_pipe(tp);
			continue;
		}
		if (!tcp_sack_rescue_seg(tp, &seq, &len, &fin))
			break;
		bool last = seq + len == tcp_data_seq(tp) + (uint32_t)tp->sndbuf.len;
		tcp_sack_trace_rexmit(tp, fin ? "rescue (rule 4) with FIN" : "rescue (rule 4)", seq, len,
				      pipe);
		if (tcp_send_seg(tp, seq, TCP_FLAG_ACK | (fin ? TCP_FLAG_FIN : 0) |
			(len && last ? TCP_FLAG_PSH : 0), len) == -ENOBUFS)
			break;
		tcp_count_rexmit(tp, len + (fin ? 1 : 0));
		stats_inc(&tp->s->stats, "tcp.sack_rescue");
		tp->rec.rescue_rxt = tp->rec.recover;
		tp->rec.rescue_set = true;
		break;
	}
	tcp_rexmt_arm(tp);
}

/* RFC 6675 5.1: after a timeout sending goes back to snd.una (go-back-N)
 * with the scoreboard cleared, but the peer's ACKs since then rebuild it
 * from the out-of-order data it still holds, and what they SACK is not
 * sent again: snd.nxt jumps over a SACKed range it reaches. Returns the
 * bytes from snd.nxt to the next SACKed range (UINT32_MAX if none), the
 * most the next segment may carry. */
uint32_t tcp_sack_skip(struct tcb *tp)
{
	if (!SEQ_LT(tp->snd.nxt, tp->snd.max))
		return UINT32_MAX;
	for (int i = 0; i < tp->sack.nscoreboard; i++) {
		const struct tcp_range *r = &tp->sack.scoreboard[i];
		if (SEQ_LEQ(r->end, tp->snd.nxt))
			continue;
		if (SEQ_GT(r->start, tp->snd.nxt))
			return r->start - tp->snd.nxt;
		stats_add(&tp->s->stats, "tcp.sack_skipped_bytes", r->end - tp->snd.nxt);
		if (tp->s->trace) {
			char name[128];
			TRACE(tp->s, "tcp %s resending after timeout: skip SACKed seq %u to %u",
			      tcb_str(tp, name, sizeof(name)), tp->snd.nxt - tp->iss,
			      r->end - tp->iss);
		}
		tp->snd.nxt = r->end;
	}
	return UINT32_MAX;
}

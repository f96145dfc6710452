/* TCP, the receiver's data (RFC 9293 3.10.7.4 seventh step, "process
 * the segment text"), once tcp_input.c has trimmed a segment to the window:
 * in-order data into the receive ring, out-of-order data held for later
 * (the reassembler), the delayed ACK (RFC 1122 4.2.3.2, RFC 5681 4.2), and
 * the SACK blocks our ACKs report (RFC 2018, RFC 2883). See tcp.h.
 *
 * The reassembler: a segment that arrives past rcv.nxt is written into the
 * receive ring at its place, beyond the in-order bytes the app has not read
 * yet, and its range [start, end) is recorded in tp->ooo (sorted, disjoint,
 * at most TCP_OOO_MAX). When in-order data reaches a range, rcv.nxt jumps
 * over it: the bytes are in the ring already. A FIN that arrives out of
 * order is held too (fin_pending, fin_seq) until rcv.nxt reaches it, and
 * nothing past it is kept (RFC 9293 3.4: no data beyond a FIN). What
 * is held is reported to the sender in the SACK blocks of our ACKs (RFC
 * 2018 4), newest first, a duplicate first of all (a D-SACK, RFC 2883 4).
 *
 * Its interface is small (tcp_reass_*, tcp.h), so a lab can blank it: with
 * tcp_reass_insert returning false, tcp_reass_advance and tcp_reass_covers
 * false, a receiver keeps only in-order data, as RFC 9293 allows (3.10.7.4:
 * out-of-order segments "may be held for later processing"), and the
 * sender repeats the rest.
 *
 * Call map:
 *   tcp_data_in_order, tcp_data_out_of_order, tcp_data_discard
 *                          <- tcp_input.c tcp_segment_text (seventh step)
 *                          -> tcp_reass_*, ring_write, tcp_timer_set (delayed ACK)
 *   tcp_reass_note_fin     <- the three above (the eighth step counts the FIN)
 *   tcp_reass_dsack_note   <- tcp_input.c (tcp_trim_to_window, tcp_check_seq),
 *                             tcp_data_out_of_order
 *   tcp_reass_sack_blocks  <- tcp_output.c tcp_send_seg (every ACK we send)
 *                          -> tcp_opts_len (tcp_codec.h) */
#include "tcp/tcp.h"

#include <string.h>

#include "stack/stack.h"

/* ---- the seventh step's data: in order, out of order, delayed ACKs ------ */

/* RFC 1122 4.2.3.2, RFC 5681 4.2, RFC 9293 3.8.6.3: ACK at least every
 * second full-sized segment, and within TCP_DELACK_US of any other. A
 * segment counts as full when its data plus options fill the MSS we
 * announced (the sender leaves room for its options, RFC 6691).
 *
 * Two stretch ACKs, against RFC 5681 4.2's SHOULD, both as Linux's GRO
 * makes them (one ACK per merged segment of up to 64 KB):
 * - A segment that holds two full segments or more was put together by
 *   the device (GRO, link/tap.c: no sender sends more than our MSS).
 * - Full segments that waited in the device's queue while the host was
 *   behind: the poll before this one read a full burst (s->rx_backlog,
 *   stack_poll), so frames arrive faster than the host takes them.
 * Such segments read in one burst (stack_poll reads up to STACK_RX_BURST
 * frames, then runs the timers) share one ACK at the end of the burst:
 * the delayed-ACK timer is set to now. The sender's cost is per ACK (the
 * kernel's tcp_ack, and a TAP write here: without offload, 40% of the
 * host's time at one ACK per two frames), so a host that falls behind
 * sends fewer ACKs for the same bytes, and catches up. The ACKs it leaves
 * out would have left back to back, a few microseconds apart, so the
 * sender's ACK clock loses little (RFC 2525 2.13's worry, burstiness).
 * What it does cost: a sender that grows cwnd by at most L = 2 SMSS per
 * ACK (RFC 3465 2.3, tapstack's own) grows less in slow start while the
 * host is behind; as the receiver then sets the pace, more would not
 * help. RFC 5690 (informational) makes the same trade for a reverse path
 * short of capacity, with an ACK ratio above 2. The stretch never covers
 * more than one GRO segment could (TCP_ACK_STRETCH_MAX bytes of full
 * segments): beyond that, the ACK goes at once. A host that keeps up
 * (bursts shorter than STACK_RX_BURST) keeps RFC 5681's rule exactly for
 * segments of one MSS: the second full one is ACKed at once. */
#define TCP_ACK_STRETCH_MAX 65535
static void tcp_delay_ack(struct tcb *tp, const struct tcp_seg *seg, size_t len)
{
	size_t optlen = seg->hlen > TCP_HDR_LEN ? seg->hlen - TCP_HDR_LEN : 0;
	int segs = (int)((len + optlen) / tp->opt.rcv_mss);

	tp->delack_segs += segs;
	if (tp->delack_segs < 2) {
		if (tp->timer.delack == TCP_NO_TIMER)
			tcp_timer_set(tp, &tp->timer.delack, tp->s->now + TCP_DELACK_US);
	} else if ((segs >= 2 || tp->s->rx_backlog) &&
		   (size_t)tp->delack_segs * tp->opt.rcv_mss < TCP_ACK_STRETCH_MAX) {
		if (tp->timer.delack > tp->s->now)
			tcp_timer_set(tp, &tp->timer.delack, tp->s->now); /* at the end of the burst */
	} else {
		tp->ack_now = true;
	}
}

/* In-order data at rcv.nxt: into the ring (what fits), then any
 * out-of-order ranges it reaches. */
void tcp_data_in_order(struct tcb *tp, struct tcp_seg *seg)
{
	/* issue 20: over the host's hard memory limit the ring takes only
	 * what fits in the memory it has; the rest is dropped (the peer
	 * sends it again), as Linux drops what tcp_mem does not allow. The
	 * window offered is never shrunk (RFC 1122 4.2.2.16, RFC 9293
	 * 3.8.6); what arrives in it may still be dropped when it cannot be
	 * held */
	const char *why = NULL;
	size_t room = tcp_mem_rcv_room(tp, tp->rcvbuf.len, seg->len, true, &why);
	if (room < seg->len) {
		stats_add(&tp->s->stats, why, seg->len - room);
		seg->len = room;
		seg->flags &= (uint8_t)~TCP_FLAG_FIN;
		tp->ack_now = true; /* the peer learns where we are */
	}

	size_t n = ring_write(&tp->rcvbuf, seg->data, seg->len);
	if (n < seg->len) {
		/* the window promised more than the buffer holds now (its
		 * limit shrank): keep what fits, the peer sends the rest again */
		stats_add(&tp->s->stats, "tcp.rcv_buffer_full_bytes", seg->len - n);
		seg->len = n;
		seg->flags &= (uint8_t)~TCP_FLAG_FIN;
	}
	tp->rcv.nxt += (uint32_t)n;
	tp->stat.bytes_received += n;
	tcp_reass_note_fin(tp, seg);
	if (tcp_reass_advance(tp)) {
		/* RFC 5681 4.2: a segment that fills a hole is ACKed at once */
		tp->ack_now = true;
		if (tp->s->trace) {
			char name[128];
			TRACE(tp->s, "tcp %s hole filled: rcv_nxt %u, %d ranges still held",
			      tcb_str(tp, name, sizeof(name)), tp->rcv.nxt - tp->irs, tp->nooo);
		}
	} else if (n > 0) {
		tcp_delay_ack(tp, seg, n);
	}
}

/* Out-of-order data (past rcv.nxt): kept at its place in the ring and
 * answered at once with a duplicate ACK (RFC 5681 4.2, 3.2), which carries
 * SACK blocks when SACK was negotiated (RFC 2018 4). */
void tcp_data_out_of_order(struct tcb *tp, struct tcp_seg *seg)
{

	char name[128];

	tp->ack_now = true;
	if (seg->len > 0 && !(seg->flags & TCP_FLAG_FIN) &&
	    tcp_reass_covers(tp, seg->seq, seg->seq + (uint32_t)seg->len)) {
		/* RFC 2883 4.1.2: all of it is held already, a duplicate */
		tcp_reass_dsack_note(tp, seg->seq, seg->seq + (uint32_t)seg->len);
		stats_add(&tp->s->stats, "tcp.rcv_duplicate_bytes", seg->len);
		return;
	}
	/* issue 20: out-of-order data makes the ring grow only near what it
	 * holds (one byte at the right edge must not reserve the window), and
	 * not at all over the host's hard memory limit; RFC 9293 3.10.7.4
	 * seventh step: such segments "may be held", not must */
	size_t off = tp->rcvbuf.len + (seg->seq - tp->rcv.nxt);
	const char *why = NULL;
	if (seg->len > 0 && tcp_mem_rcv_room(tp, off, seg->len, false, &why) == 0) {
		stats_inc(&tp->s->stats, why);
		if (tp->s->trace)
			TRACE(tp->s, "tcp %s out of order seq %u len %zu not kept: %s",
			      tcb_str(tp, name, sizeof(name)), seg->seq - tp->irs, seg->len, why);
		return;
	}
	if (seg->len == 0 || tcp_reass_insert(tp, seg)) {
		if (seg->len > 0 && tp->opt.sack_ok)
			tcp_reass_sack_note(tp, seg->seq, seg->seq + (uint32_t)seg->len);
		tcp_reass_note_fin(tp, seg);
		stats_inc(&tp->s->stats, "tcp.rcv_out_of_order");
		if (tp->s->trace)
			TRACE(tp->s, "tcp %s out of order seq %u len %zu%s held "
			      "(rcv_nxt %u, %d ranges)",
			      tcb_str(tp, name, sizeof(name)), seg->seq - tp->irs, seg->len,
			      seg->flags & TCP_FLAG_FIN ? " +FIN" : "", tp->rcv.nxt - tp->irs,
			      tp->nooo);
		return;
	}
	stats_inc(&tp->s->stats, "tcp.ooo_full");
	if (tp->s->trace)
		TRACE(tp->s, "tcp %s out of order seq %u len %zu not kept: %d ranges held already",
		      tcb_str(tp, name, sizeof(name)), seg->seq - tp->irs, seg->len, tp->nooo);
}

/* Data nobody will read (shutdown(SHUT_RD)): acknowledged and thrown
 * away (RFC 9293 3.10.7.4 seventh: it is still acknowledged). */
void tcp_data_discard(struct tcb *tp, struct tcp_seg *seg)
{

	tp->nooo = 0;
	if (seg->seq != tp->rcv.nxt) {
		tp->ack_now = true;
		stats_add(&tp->s->stats, "tcp.rcv_discarded_bytes", seg->len);
		return;
	}
	tp->rcv.nxt += (uint32_t)seg->len;
	stats_add(&tp->s->stats, "tcp.rcv_discarded_bytes", seg->len);
	tcp_reass_note_fin(tp, seg);
	if (seg->len)
		tcp_delay_ack(tp, seg, seg->len);
}

/* ---- the out-of-order ranges held in the receive ring ------------------- */

/* Keeps out-of-order data [seg->seq, +len) in the receive ring at its
 * place and records its range, merging with neighbours; the ranges
 * (tp->ooo[0..nooo), each [start, end)) stay sorted and disjoint, and two
 * that touch or overlap become one. Its place in the ring: the ring holds
 * rcvbuf.len bytes up to rcv.nxt, so byte seq goes at offset rcvbuf.len +
 * (seq - rcv.nxt) (ring_write_at, which writes what fits and returns how
 * many). Returns false (nothing kept) if it would need a range beyond
 * TCP_OOO_MAX or no byte fits in the ring; when only part fits, seg is cut
 * to that part (and loses its FIN). */
bool tcp_reass_insert(struct tcb *tp, struct tcp_seg *seg)
{
	/* LAB check4 BEGIN stub: (void)tp; (void)seg; return false; */
	uint32_t a = seg->seq, b = seg->seq + (uint32_t)seg->len;
	int i = 0, j;

	while (i < tp->nooo && SEQ_LT(tp->ooo[i].end, a))
		i++;
	for (j = i; j < tp->nooo && SEQ_LEQ(tp->ooo[j].start, b); j++)
		;
	if (j == i && tp->nooo == TCP_OOO_MAX)
		return false;
	size_t off = tp->rcvbuf.len + (seg->seq - tp->rcv.nxt);
	size_t n = ring_write_at(&tp->rcvbuf, off, seg->data, seg->len);
	if (n == 0)
		return false;
	if (n < seg->len) {
		seg->len = n;
		seg->flags &= (uint8_t)~TCP_FLAG_FIN;
	}
	b = a + (uint32_t)n;
	/* ranges i..j-1 touch [a, b): they become one */
	for (int k = i; k < j; k++) {
		a = SEQ_MIN(a, tp->ooo[k].start);
		b = SEQ_MAX(b, tp->ooo[k].end);
	}
	if (j == i) {
		memmove(&tp->ooo[i + 1], &tp->ooo[i], (size_t)(tp->nooo - i) * sizeof(tp->ooo[0]));
		tp->nooo++;
	} else {
		memmove(&tp->ooo[i + 1], &tp->ooo[j], (size_t)(tp->nooo - j) * sizeof(tp->ooo[0]));
		tp->nooo -= j - i - 1;
	}
	tp->ooo[i].start = a;
	tp->ooo[i].end = b;
	return true;
	/* LAB check4 END */
}

/* Moves rcv.nxt over out-of-order ranges that now follow the in-order
 * data (the bytes are already in the ring, just past its end: ring_extend
 * makes them part of it; count them in tp->stat.bytes_received). A range
 * that starts at or before rcv.nxt is taken off tp->ooo whether or not it
 * reaches past rcv.nxt. Returns true if a range was taken (a hole was
 * filled). */
bool tcp_reass_advance(struct tcb *tp)
{
	/* LAB check4 BEGIN stub: (void)tp; return false; */
	bool filled = false;

	while (tp->nooo > 0 && SEQ_LEQ(tp->ooo[0].start, tp->rcv.nxt)) {
		if (SEQ_GT(tp->ooo[0].end, tp->rcv.nxt)) {
			uint32_t n = tp->ooo[0].end - tp->rcv.nxt;
			ring_extend(&tp->rcvbuf, n);
			tp->rcv.nxt += n;
			tp->stat.bytes_received += n;
		}
		memmove(&tp->ooo[0], &tp->ooo[1], (size_t)(tp->nooo - 1) * sizeof(tp->ooo[0]));
		tp->nooo--;
		filled = true;
	}
	return filled;
	/* LAB check4 END */
}

/* True if [a, b) lies within one range held out of order (tp->ooo[0..nooo),
 * sorted, disjoint, each [start, end)): the segment is a duplicate of bytes
 * we hold already, which tcp_data_out_of_order reports as a D-SACK (RFC
 * 2883 4.1.2). Compare sequence numbers with the SEQ_* macros of
 * tcp/tcp_seq.h: they wrap at 2^32. */
bool tcp_reass_covers(const struct tcb *tp, uint32_t a, uint32_t b)
{
	/* LAB check4 BEGIN stub: (void)tp; (void)a; (void)b; return false; */
	for (int i = 0; i < tp->nooo; i++)
		if (SEQ_IN(a, tp->ooo[i].start, tp->ooo[i].end) && SEQ_LEQ(b, tp->ooo[i].end))
			return true;
	return false;
	/* LAB check4 END */
}

/* RFC 9293 3.4, 3.10.7.4 eighth: no data beyond a FIN is valid. Ranges
 * held out of order past the FIN at fin_seq are cut off (their bytes
 * counted in tcp.data_after_fin_bytes), so tcp_reass_advance stops at the
 * FIN and the eighth step finds rcv.nxt == fin_seq. The bytes stay in the
 * ring past its end, unused, as after a range never filled. */
static void tcp_reass_cut_at_fin(struct tcb *tp)
{
	uint64_t cut = 0;
	int k = 0;

	for (int i = 0; i < tp->nooo; i++) {
		if (SEQ_GEQ(tp->ooo[i].start, tp->fin_seq)) {
			cut += tp->ooo[i].end - tp->ooo[i].start;
			continue;
		}
		if (SEQ_GT(tp->ooo[i].end, tp->fin_seq)) {
			cut += tp->ooo[i].end - tp->fin_seq;
			tp->ooo[i].end = tp->fin_seq;
		}
		tp->ooo[k++] = tp->ooo[i];
	}
	tp->nooo = k;
	if (cut > 0) {
		stats_add(&tp->s->stats, "tcp.data_after_fin_bytes", cut);
		tp->ack_now = true;
	}
}

/* Notes the segment's FIN at its sequence number; the eighth step counts
 * it when rcv.nxt gets there (at once if the segment was in order). What
 * is held past it goes (tcp_reass_cut_at_fin). */
void tcp_reass_note_fin(struct tcb *tp, const struct tcp_seg *seg)
{
	if (!(seg->flags & TCP_FLAG_FIN) || tp->fin_pending || tp->fin_rcvd)
		return;
	tp->fin_pending = true;
	tp->fin_seq = seg->seq + (uint32_t)seg->len;
	tcp_reass_cut_at_fin(tp);
}

/* ---- the SACK blocks we report (RFC 2018 4, RFC 2883 4) ----------------- */

/* RFC 2018 4: remembers that [a, b) arrived out of order, newest first,
 * for the SACK blocks of the next ACKs; older entries in the same held
 * range go (the range is reported once). */
void tcp_reass_sack_note(struct tcb *tp, uint32_t a, uint32_t b)
{
	uint32_t lo = a, hi = b;
	int k = 0;

	for (int i = 0; i < tp->nooo; i++)
		if (SEQ_IN(a, tp->ooo[i].start, tp->ooo[i].end)) {
			lo = tp->ooo[i].start;
			hi = tp->ooo[i].end;
		}
	for (int i = 0; i < tp->sack.nrecent; i++)
		if (!SEQ_IN(tp->sack.recent[i].start, lo, hi) && k < TCP_MAX_SACK - 1)
			tp->sack.recent[k++] = tp->sack.recent[i];
	memmove(&tp->sack.recent[1], &tp->sack.recent[0], (size_t)k * sizeof(tp->sack.recent[0]));
	tp->sack.recent[0].start = a;
	tp->sack.recent[0].end = b;
	tp->sack.nrecent = k + 1;
}

/* RFC 2883 4: data [a, b) arrived again (below rcv.nxt, or inside a range
 * held out of order): the next ACK reports it in its first SACK block (a
 * D-SACK), once. With SACK negotiated only (RFC 2883 has no option of its
 * own; Linux does the same). */
void tcp_reass_dsack_note(struct tcb *tp, uint32_t a, uint32_t b)
{
	if (!tp->opt.sack_ok || !SEQ_LT(a, b))
		return;
	tp->sack.dsack.start = a;
	tp->sack.dsack.end = b;
	tp->sack.dsack_pending = true;
	tp->ack_now = true;
}

/* The out-of-order range holding seq, or -1. */
static int tcp_ooo_find(const struct tcb *tp, uint32_t seq)
{
	for (int i = 0; i < tp->nooo; i++)
		if (SEQ_IN(seq, tp->ooo[i].start, tp->ooo[i].end))
			return i;
	return -1;
}

/* RFC 2018 4: the SACK blocks of a segment we send with ACK, when SACK was
 * negotiated and out-of-order data is held: first the range holding the
 * newest out-of-order segment, then those reported most recently, then the
 * others, as many as the header has room for (the codec keeps 4, or 3 with
 * timestamps). RFC 2883 4: a duplicate segment to report (a D-SACK) comes
 * before them all, and if it lies in a range held out of order, that
 * range right after it (4.1.2). A segment with data keeps its options and
 * data within snd_mss (RFC 6691), so a full-sized one carries none. */
void tcp_reass_sack_blocks(const struct tcb *tp, struct tcp_opts *o, size_t len)
{
	bool used[TCP_OOO_MAX] = { false };
	int n = 0;

	if (!tp->opt.sack_ok || (tp->nooo == 0 && !tp->sack.dsack_pending))
		return;
	if (tp->sack.dsack_pending) {
		o->sack[n][0] = tp->sack.dsack.start;
		o->sack[n][1] = tp->sack.dsack.end;
		n++;
		int k = tcp_ooo_find(tp, tp->sack.dsack.start);
		if (k >= 0) {
			used[k] = true;
			o->sack[n][0] = tp->ooo[k].start;
			o->sack[n][1] = tp->ooo[k].end;
			n++;
		}
	}
	for (int i = 0; i < tp->sack.nrecent + tp->nooo && n < TCP_MAX_SACK; i++) {
		int k = i < tp->sack.nrecent ? tcp_ooo_find(tp, tp->sack.recent[i].start)
					     : i - tp->sack.nrecent;
		if (k < 0 || used[k])
			continue;
		used[k] = true;
		o->sack[n][0] = tp->ooo[k].start;
		o->sack[n][1] = tp->ooo[k].end;
		n++;
	}
	o->nsack = (uint8_t)n;
	while (len > 0 && o->nsack > 0 && tcp_opts_len(o) - TCP_HDR_LEN + len > tp->opt.snd_mss)
		o->nsack--;
}

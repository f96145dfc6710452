/* TCP sending (RFC 9293 3.8): segments, windows, Nagle and SWS avoidance,
 * ACKs, resets, retransmission, round-trip time (RFC 6298), and the hooks
 * into congestion control (RFC 5681). Loss recovery: fast retransmit with
 * NewReno's partial ACKs (RFC 6582), limited transmit (RFC 3042), SACK
 * blocks sent (RFC 2018) and, when negotiated, a scoreboard of what the
 * peer SACKed with RFC 6675's pipe and NextSeg(), and tail loss probes
 * (RFC 8985 7). See tcp.h.
 *
 * The send ring tp->snd holds every byte from snd_una on, sent or not, so a
 * byte's place in it is (seq - snd_una), counted from the first data byte
 * (one past iss while our SYN is unacknowledged). Our FIN takes the sequence
 * number just after the last byte of the ring. */
#include "tcp/tcp.h"
#include "tcp/tcp_trace.h"

#include <errno.h>
#include <string.h>

#include "ip/ip.h"
#include "ip/ipv4.h"
#include "stack/stack.h"

#define TCP_MIN_MSS 64                  /* the smallest snd_mss we accept from a peer */
#define TCP_TS_OPT_SPACE 12             /* NOP NOP TS(10): what timestamps add to each segment */
#define TCP_CLOCK_G_US 1000             /* RFC 6298 2: clock granularity G (the timestamp clock) */
#define TCP_RTO_SYN_LOST_US 3000000     /* RFC 6298 5.7 */

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* "10.0.0.2:7 -> 10.0.0.1:40000" for traces. */
static const char *tcp_pair(const struct ipaddr *src, uint16_t sport, const struct ipaddr *dst,
			    uint16_t dport, char *buf, size_t len)
{
	char a[IPADDR_PORT_STRLEN], b[IPADDR_PORT_STRLEN];
	snprintf(buf, len, "%s -> %s", ipaddr_port_str(src, sport, a, sizeof(a)),
		 ipaddr_port_str(dst, dport, b, sizeof(b)));
	return buf;
}

/* ---- where things are in sequence space ---------------------------------- */

/* True while our SYN is unacknowledged: it holds iss, just before the first
 * byte of tp->snd. (bytes_acked counts data, so a connection that wrapped
 * around to iss after sending 4 GB is not taken for one in its handshake.) */
static bool tcp_syn_unacked(const struct tcb *tp)
{
	return tp->snd_una == tp->iss && tp->bytes_acked == 0;
}

/* Sequence number of the first byte in tp->snd. */
static uint32_t tcp_data_seq(const struct tcb *tp)
{
	return tp->snd_una + (tcp_syn_unacked(tp) ? 1 : 0);
}

/* The states that send a FIN once the data is out (the socket layer moves
 * ESTABLISHED / CLOSE-WAIT there when the app closes). */
static bool tcp_fin_state(const struct tcb *tp)
{
	return tp->state == TCP_FIN_WAIT_1 || tp->state == TCP_CLOSING || tp->state == TCP_LAST_ACK;
}

/* The states in which data (and the FIN) may be sent. */
static bool tcp_can_send(const struct tcb *tp)
{
	return tp->state == TCP_ESTABLISHED || tp->state == TCP_CLOSE_WAIT || tcp_fin_state(tp);
}

/* True if our FIN was sent and is not acknowledged yet: snd_max is one
 * past the last byte of the ring. */
static bool tcp_fin_outstanding(const struct tcb *tp)
{
	return tp->fin_queued && tcp_fin_state(tp) &&
	       tp->snd_max - tcp_data_seq(tp) == (uint32_t)tp->snd.len + 1;
}

/* Payload bytes per segment: snd_mss less the timestamp option every
 * segment carries once negotiated (RFC 6691 2: the MSS counts no options). */
static uint32_t tcp_seg_size(const struct tcb *tp)
{
	uint32_t mss = tp->snd_mss;
	if (tp->ts_ok && mss > TCP_MIN_MSS + TCP_TS_OPT_SPACE)
		mss -= TCP_TS_OPT_SPACE;
	return mss ? mss : 1;
}

/* Our timestamp clock (RFC 7323 5.4: milliseconds here), offset by iss so
 * each connection starts at an unpredictable value (RFC 7323 7). */
static uint32_t tcp_ts_now(const struct tcb *tp)
{
	return (uint32_t)(tp->s->now / 1000) + tp->iss;
}

/* Starts timing a segment; 0 in rtt_start means "not timing", so the
 * instant 0 of virtual time is recorded as 1 microsecond. */
static void tcp_rtt_start(struct tcb *tp, uint32_t seq)
{
	tp->rtt_seq = seq;
	tp->rtt_start = tp->s->now > 0 ? tp->s->now : 1;
}

/* RFC 8985 7.2: the probe timeout PTO for data in flight, or 0 when no
 * probe may be scheduled: only with SACK (the probe's ACK must tell what
 * is missing), an RTT measured, not in recovery, no probe outstanding, in
 * a state without our FIN, and shorter than the RTO. PTO = 2 * SRTT (at
 * least TCP_TLP_MIN_US), plus the peer's worst delayed ACK when a single
 * segment is in flight. */
static int64_t tcp_tlp_timeout(const struct tcb *tp)
{
	if (!tp->sack_ok || !tp->rtt_valid || tp->in_recovery || tp->tlp_out ||
	    tp->backoff > 0 || (tp->state != TCP_ESTABLISHED && tp->state != TCP_CLOSE_WAIT))
		return 0;
	int64_t pto = 2 * tp->srtt;
	if (pto < TCP_TLP_MIN_US)
		pto = TCP_TLP_MIN_US;
	if (tp->snd_max - tp->snd_una <= tcp_seg_size(tp))
		pto += TCP_DELACK_US;
	return pto < tp->rto ? pto : 0;
}

/* (Re)starts the retransmission timer from now: at the probe timeout when
 * a tail loss probe may go first (RFC 8985 7.2), else at the RTO (RFC
 * 6298 5.1, 5.3). */
static void tcp_rexmt_restart(struct tcb *tp)
{
	int64_t pto = tcp_tlp_timeout(tp);
	tp->tlp_armed = pto > 0;
	tcp_timer_set(tp, &tp->t_rexmt, tp->s->now + (pto > 0 ? pto : tp->rto));
}

/* Arms the retransmission timer if it is off (RFC 6298 5.1). */
static void tcp_rexmt_arm(struct tcb *tp)
{
	if (tp->t_rexmt == TCP_NO_TIMER)
		tcp_rexmt_restart(tp);
}

/* New data went out: RFC 8985 7.2 (re)starts the probe timer, never later
 * than the RTO already running; else the RTO is armed if it is off. */
static void tcp_rexmt_new_data(struct tcb *tp)
{
	int64_t pto = tcp_tlp_timeout(tp);
	int64_t when = tp->s->now + pto;

	if (pto > 0 && (tp->tlp_armed || tp->t_rexmt == TCP_NO_TIMER || when < tp->t_rexmt)) {
		tp->tlp_armed = true;
		tcp_timer_set(tp, &tp->t_rexmt, when);
	} else {
		tcp_rexmt_arm(tp);
	}
}

/* ---- the one place segments leave --------------------------------------- */

/* What the device that segments to dst leave by does for us (netdev.h
 * tso_max): 0 for nothing, else it completes checksums and cuts segments
 * up to that size. Looked up each time (a route lookup): routes change;
 * but when no device offloads (frame by frame: --no-offload, --pcap,
 * simlinks), the answer is 0 whatever the route, and the lookup (twice
 * per segment sent) is spared. */
static unsigned tcp_dev_tso_max(struct stack *s, const struct ipaddr *dst)
{
	bool any = false;
	for (int i = 0; i < s->nifs; i++)
		any |= s->ifs[i].dev->tso_max != 0;
	if (!any)
		return 0;
	const struct route *r = route_lookup(&s->routes, dst);
	struct netif *ifp = r ? stack_netif(s, r->ifindex) : NULL;
	return ifp ? ifp->dev->tso_max : 0;
}

/* Builds seg (header and options as given) with len payload bytes copied
 * from ring data at offset off, checksums it, counts and traces it, and
 * hands it to IP. Every TCP segment this host sends goes through here. tp
 * (may be NULL) names the connection so the trace shows relative sequence
 * numbers like tshark. Returns 0 or a negative errno. */
static int tcp_tx(struct stack *s, const struct ipaddr *src, const struct ipaddr *dst,
		  const struct tcp_seg *seg, const struct ring *data, size_t off, size_t len,
		  const struct tcb *tp)
{
	size_t hlen = tcp_opts_len(&seg->opt);
	struct pkt *p = pkt_alloc(hlen + len);
	if (!p) {
		stats_inc(&s->stats, "tcp.tx_nobufs");
		return -ENOBUFS;
	}
	uint8_t *b = pkt_put(p, hlen + len);
	tcp_emit(seg, b);
	if (len && ring_peek(data, off, b + hlen, len) != len) {
		pkt_free(p);
		stats_inc(&s->stats, "tcp.tx_ring_short");
		return -EIO;
	}
	if (tcp_dev_tso_max(s, dst)) {
		/* the device sums the segment (pkt.h), and cuts it into
		 * segments of tcp_seg_size when it is larger (TSO) */
		tcp_set_checksum_partial(src, dst, b, hlen + len);
		p->off.csum_start = (uint16_t)pkt_headroom(p);
		p->off.csum_offset = TCP_CSUM_OFFSET;
		if (tp && len > tcp_seg_size(tp)) {
			p->off.gso_size = (uint16_t)tcp_seg_size(tp);
			stats_inc(&s->stats, "tcp.tx_tso_segments");
		}
	} else {
		tcp_set_checksum(src, dst, b, hlen + len);
	}
	stats_inc(&s->stats, "tcp.tx_segments");
	if (s->trace) {
		char pair[128], fl[32];
		bool rel = tp != NULL;
		unsigned ws = tp && !(seg->flags & TCP_FLAG_SYN) ? tp->rcv_wscale : 0;
		TRACE(s, "tx TCP %s [%s] seq %u ack %u win %u len %zu",
		      tcp_pair(src, seg->sport, dst, seg->dport, pair, sizeof(pair)),
		      tcp_flags_str(seg->flags, fl), rel ? seg->seq - tp->iss : seg->seq,
		      rel && (seg->flags & TCP_FLAG_ACK) ? seg->ack - tp->irs : seg->ack,
		      (unsigned)seg->wnd << ws, len);
	}
	/* RFC 1191 3 (and 6.4 for TCP): Don't Fragment on every segment that
	 * fits the path MTU, so that a router with a smaller MTU answers
	 * "fragmentation needed" and the MSS comes down (tcp_input.c); one
	 * still larger (sent before the path MTU fell) leaves in fragments,
	 * as Linux's IP_PMTUDISC_WANT does. IPv6 has no DF: routers never
	 * fragment (RFC 8200 5) */
	return ip_output(s, p, src, dst, IP_PROTO_TCP, 0, IP_DF_WANT);
}

/* An ACK carrying window wnd went out: the peer now knows rcv_nxt, so no
 * ACK is owed any more (RFC 1122 4.2.3.2), and the right edge we offered
 * moves to rcv_nxt + wnd (never left: tcp_rcv_window kept it). */
static void tcp_ack_sent(struct tcb *tp, uint32_t wnd)
{
	tp->rcv_adv = tp->rcv_nxt + wnd;
	tp->ack_now = false;
	tp->delack_segs = 0;
	if (tp->t_delack != TCP_NO_TIMER)
		tcp_timer_set(tp, &tp->t_delack, TCP_NO_TIMER);
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
static void tcp_sack_blocks(const struct tcb *tp, struct tcp_opts *o, size_t len)
{
	bool used[TCP_OOO_MAX] = { false };
	int n = 0;

	if (!tp->sack_ok || (tp->nooo == 0 && !tp->dsack_pending))
		return;
	if (tp->dsack_pending) {
		o->sack[n][0] = tp->dsack.start;
		o->sack[n][1] = tp->dsack.end;
		n++;
		int k = tcp_ooo_find(tp, tp->dsack.start);
		if (k >= 0) {
			used[k] = true;
			o->sack[n][0] = tp->ooo[k].start;
			o->sack[n][1] = tp->ooo[k].end;
			n++;
		}
	}
	for (int i = 0; i < tp->nsack_recent + tp->nooo && n < TCP_MAX_SACK; i++) {
		int k = i < tp->nsack_recent ? tcp_ooo_find(tp, tp->sack_recent[i].start)
					     : i - tp->nsack_recent;
		if (k < 0 || used[k])
			continue;
		used[k] = true;
		o->sack[n][0] = tp->ooo[k].start;
		o->sack[n][1] = tp->ooo[k].end;
		n++;
	}
	o->nsack = (uint8_t)n;
	while (len > 0 && o->nsack > 0 && tcp_opts_len(o) - TCP_HDR_LEN + len > tp->snd_mss)
		o->nsack--;
}

/* Sends one segment of the connection: seq, flags, and len bytes of the
 * send ring starting at seq. Fills in the acknowledgment and our window
 * when ACK is set, and the timestamps option when negotiated (RFC 7323 3.2:
 * on every segment, echoing ts_recent). Returns 0 or a negative errno. */
static int tcp_send_seg(struct tcb *tp, uint32_t seq, uint8_t flags, size_t len)
{
	struct tcp_seg seg = { .sport = tp->lport, .dport = tp->rport, .seq = seq, .flags = flags };
	uint32_t wnd = 0;

	if (flags & TCP_FLAG_ACK) {
		wnd = tcp_rcv_window(tp);
		seg.ack = tp->rcv_nxt;
		seg.wnd = (uint16_t)(wnd >> tp->rcv_wscale);
	}
	if (tp->ts_ok) {
		seg.opt.ts_ok = true;
		seg.opt.tsval = tcp_ts_now(tp);
		seg.opt.tsecr = tp->ts_recent;
	}
	if (flags & TCP_FLAG_ACK)
		tcp_sack_blocks(tp, &seg.opt, len);
	int r = tcp_tx(tp->s, &tp->laddr, &tp->raddr, &seg, &tp->snd, seq - tcp_data_seq(tp), len,
		       tp);
	if (r == -ENOBUFS)
		return r;
	if (tp->dsack_pending && seg.opt.nsack > 0) {
		tp->dsack_pending = false; /* RFC 2883 4: in one ACK only */
		stats_inc(&tp->s->stats, "tcp.dsack_sent");
	}
	if (len > 0)
		tp->last_data_sent = tp->s->now > 0 ? tp->s->now : 1;
	tp->segs_out++;
	if (flags & TCP_FLAG_ACK)
		tcp_ack_sent(tp, wnd);
	return r;
}

/* Counts a retransmission of len bytes of sequence space and stops RTT
 * timing (Karn, RFC 6298 3: no sample from a segment that was sent more
 * than once). */
static void tcp_count_rexmit(struct tcb *tp, uint32_t len)
{
	if (tp->undo_armed && tp->in_recovery)
		tp->undo_retrans++;
	tp->retransmits++;
	stats_inc(&tp->s->stats, "tcp.retransmits");
	stats_add(&tp->s->stats, "tcp.retransmitted_bytes", len);
	tp->rtt_start = 0;
}

/* Sends len bytes at snd_nxt (and the FIN after them if fin), advances
 * snd_nxt / snd_max, times the segment if it is new data, and arms the
 * retransmission timer. Returns 0 or a negative errno. */
static int tcp_send_data(struct tcb *tp, uint32_t len, bool fin)
{
	uint32_t seq = tp->snd_nxt;
	uint32_t end = seq - tcp_data_seq(tp) + len;
	uint8_t flags = TCP_FLAG_ACK | (fin ? TCP_FLAG_FIN : 0);
	if (len && end == tp->snd.len)
		flags |= TCP_FLAG_PSH; /* the segment empties the queue (as BSD) */
	int r = tcp_send_seg(tp, seq, flags, len);
	if (r == -ENOBUFS)
		return r;
	bool resend = SEQ_LT(seq, tp->snd_max);
	if (resend)
		tcp_count_rexmit(tp, len + (fin ? 1 : 0));
	else if (len && tp->rtt_start == 0)
		tcp_rtt_start(tp, seq);
	tp->snd_nxt = seq + len + (fin ? 1 : 0);
	if (SEQ_GT(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	if (resend)
		tcp_rexmt_arm(tp);
	else
		tcp_rexmt_new_data(tp);
	return r;
}

/* ---- the SACK scoreboard (RFC 2018, RFC 6675) ------------------------------ */

static void tcp_rxt_mark_lost(struct tcb *tp, uint32_t ack);
static void tcp_dsack_received(struct tcb *tp, uint32_t a, uint32_t b);

/* Contract in tcp.h. */
void tcp_sack_clear(struct tcb *tp)
{
	tp->nsacked = 0;
	tp->nrxt = 0;
	tp->undo_armed = false; /* a timeout is not undone by D-SACKs here */
}

/* Adds [a, b) to the scoreboard, merging with the ranges it touches; the
 * ranges stay sorted and disjoint. When all TCP_SACK_SCOREBOARD are in use
 * the highest range is forgotten (those bytes only count as not SACKed:
 * at worst sent again). */
static void tcp_sack_add(struct tcb *tp, uint32_t a, uint32_t b)
{
	int i = 0, j;

	while (i < tp->nsacked && SEQ_LT(tp->sacked[i].end, a))
		i++;
	for (j = i; j < tp->nsacked && SEQ_LEQ(tp->sacked[j].start, b); j++) {
		a = SEQ_MIN(a, tp->sacked[j].start);
		b = SEQ_MAX(b, tp->sacked[j].end);
	}
	if (j == i) { /* touches nothing: a new range at i */
		if (tp->nsacked == TCP_SACK_SCOREBOARD) {
			if (i == tp->nsacked)
				return;
			tp->nsacked--;
		}
		memmove(&tp->sacked[i + 1], &tp->sacked[i],
			(size_t)(tp->nsacked - i) * sizeof(tp->sacked[0]));
		tp->nsacked++;
	} else { /* ranges i..j-1 become one */
		memmove(&tp->sacked[i + 1], &tp->sacked[j],
			(size_t)(tp->nsacked - j) * sizeof(tp->sacked[0]));
		tp->nsacked -= j - i - 1;
	}
	tp->sacked[i].start = a;
	tp->sacked[i].end = b;
}

/* Bytes the scoreboard holds. */
static uint32_t tcp_sack_bytes(const struct tcb *tp)
{
	uint32_t n = 0;
	for (int i = 0; i < tp->nsacked; i++)
		n += tp->sacked[i].end - tp->sacked[i].start;
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
 * lies at or below snd_una (old news) or reaches past what we sent is
 * ignored. A D-SACK first (RFC 2883) is counted (`tcp.dsack_received`)
 * and adds nothing to the scoreboard. */
bool tcp_sack_update(struct tcb *tp, const struct tcp_seg *seg)
{
	if (!tp->sack_ok || seg->opt.nsack == 0)
		return false;
	uint32_t before = tcp_sack_bytes(tp);
	for (int i = 0; i < seg->opt.nsack && i < TCP_MAX_SACK; i++) {
		uint32_t a = seg->opt.sack[i][0], b = seg->opt.sack[i][1];
		stats_inc(&tp->s->stats, "tcp.sack_blocks_rx");
		if (i == 0 && tcp_is_dsack(seg)) {
			tcp_dsack_received(tp, a, b);
			continue;
		}
		if (!SEQ_LT(a, b) || SEQ_LEQ(b, seg->ack) || SEQ_LEQ(b, tp->snd_una) ||
		    SEQ_GT(b, tp->snd_max)) {
			stats_inc(&tp->s->stats, "tcp.sack_blocks_ignored");
			continue;
		}
		tcp_sack_add(tp, SEQ_MAX(a, tp->snd_una), b);
	}
	bool news = tcp_sack_bytes(tp) != before;
	if (news && tp->sack_recovery)
		tcp_rxt_mark_lost(tp, seg->ack);
	return news;
}

/* Drops what snd_una passed from the scoreboard (after an ACK of new data). */
static void tcp_sack_trim(struct tcb *tp)
{
	int k = 0;
	for (int i = 0; i < tp->nsacked; i++) {
		if (SEQ_LEQ(tp->sacked[i].end, tp->snd_una))
			continue;
		tp->sacked[k] = tp->sacked[i];
		if (SEQ_LT(tp->sacked[k].start, tp->snd_una))
			tp->sacked[k].start = tp->snd_una;
		k++;
	}
	tp->nsacked = k;
}

/* Drops from the retransmission records what snd_una passed. */
static void tcp_rxt_trim(struct tcb *tp)
{
	int k = 0;
	for (int i = 0; i < tp->nrxt; i++) {
		if (SEQ_LEQ(tp->rxt[i].end, tp->snd_una))
			continue;
		tp->rxt[k] = tp->rxt[i];
		if (SEQ_LT(tp->rxt[k].start, tp->snd_una))
			tp->rxt[k].start = tp->snd_una;
		k++;
	}
	tp->nrxt = k;
}

/* RFC 6675 4 IsLost(SeqNum): true if DupThresh SACKed ranges lie above
 * seq, or more than (DupThresh - 1) * SMSS bytes above it were SACKed. */
static bool tcp_sack_is_lost(const struct tcb *tp, uint32_t seq)
{
	uint32_t bytes = 0;
	int ranges = 0;

	for (int i = tp->nsacked - 1; i >= 0 && SEQ_GT(tp->sacked[i].end, seq); i--) {
		uint32_t a = SEQ_MAX(tp->sacked[i].start, seq + 1);
		bytes += tp->sacked[i].end - a;
		ranges++;
	}
	return ranges >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1) * (uint32_t)tp->snd_mss;
}

/* The hole (not SACKed) that starts at or after seq: its bounds in
 * [*a, *b), b at most snd_max. False if there is none. */
static bool tcp_sack_hole(const struct tcb *tp, uint32_t seq, uint32_t *a, uint32_t *b)
{
	for (int i = 0; i <= tp->nsacked; i++) {
		uint32_t h0 = i == 0 ? tp->snd_una : tp->sacked[i - 1].end;
		uint32_t h1 = i == tp->nsacked ? tp->snd_max : tp->sacked[i].start;
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

/* ---- lost retransmissions ------------------------------------------------
 *
 * RFC 6675 never chooses a byte below HighRxt again (NextSeg() rule 1 asks
 * for S2 > HighRxt), so a retransmission that is lost too waits for the
 * RTO. The scoreboard can tell sooner, as Linux did with
 * tcp_mark_lost_retrans() before RACK (RFC 8985 does the same with time):
 * each retransmission is recorded with snd_max when it went (its mark);
 * once the peer SACKs a byte at or past the mark, data sent after the
 * retransmission arrived and the retransmission did not, so, with no
 * reordering, it was lost. It no longer counts in the pipe and goes again
 * before any other hole. Only new data sent after a retransmission can
 * show it lost: a recovery that sends none still needs the RTO. */

/* The end of the highest SACKed range (snd_una with none). */
static uint32_t tcp_sack_high(const struct tcb *tp)
{
	return tp->nsacked ? tp->sacked[tp->nsacked - 1].end : tp->snd_una;
}

/* Forgets retransmission record i. */
static void tcp_rxt_remove(struct tcb *tp, int i)
{
	memmove(&tp->rxt[i], &tp->rxt[i + 1], (size_t)(tp->nrxt - i - 1) * sizeof(tp->rxt[0]));
	tp->nrxt--;
}

/* Records that [a, b) was retransmitted in SACK recovery, now. With the
 * table full it is not recorded: if lost, the RTO repairs it. */
static void tcp_rxt_note(struct tcb *tp, uint32_t a, uint32_t b)
{
	if (!tp->sack_recovery || tp->nrxt == TCP_RXT_RECORDS || !SEQ_LT(a, b))
		return;
	tp->rxt[tp->nrxt++] = (struct tcp_rxt){ .start = a, .end = b, .mark = tp->snd_max };
}

/* True if seq lies in a retransmission found lost and not sent again. */
static bool tcp_rxt_lost_at(const struct tcb *tp, uint32_t seq)
{
	for (int i = 0; i < tp->nrxt; i++)
		if (tp->rxt[i].lost && SEQ_IN(seq, tp->rxt[i].start, tp->rxt[i].end))
			return true;
	return false;
}

/* After new SACK information in SACK recovery (the ACK that brought it
 * acknowledges up to ack, which snd_una has not reached yet): a
 * retransmission whose mark the highest SACKed byte passed is lost if some
 * byte of it is neither acknowledged by that ACK nor SACKed (counted in
 * tcp.lost_retransmit), delivered if all are. */
static void tcp_rxt_mark_lost(struct tcb *tp, uint32_t ack)
{
	uint32_t high = tcp_sack_high(tp), a, b;

	for (int i = 0; i < tp->nrxt; i++) {
		struct tcp_rxt *r = &tp->rxt[i];
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

	for (int i = 0; i < tp->nrxt; i++) {
		struct tcp_rxt *r = &tp->rxt[i];
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

/* RFC 6675 4 SetPipe(): the bytes estimated in the network. Every byte of
 * [snd_una, snd_max) not SACKed counts once unless it is lost, and once
 * more if it was retransmitted (below HighRxt) and that retransmission is
 * not known lost. Walked one segment at a time, as the RFC's IsLost is
 * asked per segment. */
static uint32_t tcp_sack_pipe(const struct tcb *tp)
{
	uint32_t pipe = 0, a, b, seq = tp->snd_una;
	uint32_t mss = tcp_seg_size(tp);

	while (tcp_sack_hole(tp, seq, &a, &b)) {
		uint32_t end = SEQ_LT(a + mss, b) ? a + mss : b;
		if (!tcp_sack_is_lost(tp, a))
			pipe += end - a;
		if (SEQ_LT(a, tp->high_rxt) && !tcp_rxt_lost_at(tp, a))
			pipe += SEQ_MIN(end, tp->high_rxt) - a;
		seq = end;
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

	if (tp->nsacked == 0 || !tcp_sack_hole(tp, SEQ_MAX(tp->high_rxt, tp->snd_una), &a, &b))
		return false;
	if (!SEQ_LT(a, tp->sacked[tp->nsacked - 1].start) || (lost && !tcp_sack_is_lost(tp, a)))
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
static void tcp_sack_retransmit_holes(struct tcb *tp)
{
	uint32_t seq = 0, len = 0;
	uint32_t pipe = tcp_sack_pipe(tp);
	int k;

	while (pipe + tcp_seg_size(tp) <= tp->cwnd) {
		bool again = tcp_rxt_next(tp, &seq, &len, &k);
		if (!again && !tcp_sack_next_seg(tp, &seq, &len, true))
			break;
		uint32_t off = seq - tcp_data_seq(tp);
		if (off >= tp->snd.len)
			break;
		len = min_u32(len, (uint32_t)tp->snd.len - off);
		tcp_sack_trace_rexmit(tp, again ? "lost retransmission" : "hole", seq, len, pipe);
		if (tcp_send_seg(tp, seq, TCP_FLAG_ACK, len) == -ENOBUFS)
			break;
		tcp_count_rexmit(tp, len);
		stats_inc(&tp->s->stats, "tcp.sack_retransmits");
		if (again) {
			tp->rxt[k].start = seq + len; /* the rest of it, if any, next */
			if (!SEQ_LT(tp->rxt[k].start, tp->rxt[k].end))
				tcp_rxt_remove(tp, k);
			stats_inc(&tp->s->stats, "tcp.lost_retransmit_resent");
		} else {
			tp->high_rxt = seq + len;
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
	uint32_t a, b, ha = 0, hb = 0, from = tp->snd_una;
	bool any = false;

	if (tp->rescue_set && !SEQ_GT(tp->snd_una, tp->rescue_rxt))
		return false;
	while (tcp_sack_hole(tp, from, &a, &b)) { /* the highest hole */
		ha = a;
		hb = b;
		any = true;
		from = b;
	}
	if (!any || !SEQ_GT(hb, tp->high_rxt) || !SEQ_GT(hb, tp->snd_una))
		return false;
	*fin = tcp_fin_outstanding(tp) && hb == tp->snd_max;
	uint32_t dend = hb - (*fin ? 1 : 0);
	uint32_t dend_max = tcp_data_seq(tp) + (uint32_t)tp->snd.len;
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
static void tcp_sack_send_rules_3_4(struct tcb *tp)
{
	uint32_t seq, len;
	uint32_t pipe = tcp_sack_pipe(tp);
	bool fin;

	while (pipe + tcp_seg_size(tp) <= tp->cwnd) {
		if (tcp_sack_next_seg(tp, &seq, &len, false)) {
			uint32_t off = seq - tcp_data_seq(tp);
			if (off >= tp->snd.len)
				break;
			len = min_u32(len, (uint32_t)tp->snd.len - off);
			tcp_sack_trace_rexmit(tp, "hole not yet lost (rule 3)", seq, len, pipe);
			if (tcp_send_seg(tp, seq, TCP_FLAG_ACK, len) == -ENOBUFS)
				break;
			tcp_count_rexmit(tp, len);
			stats_inc(&tp->s->stats, "tcp.sack_retransmits");
			stats_inc(&tp->s->stats, "tcp.sack_rule3");
			tp->high_rxt = seq + len;
			tcp_rxt_note(tp, seq, seq + len);
			pipe = tcp_sack_pipe(tp);
			continue;
		}
		if (!tcp_sack_rescue_seg(tp, &seq, &len, &fin))
			break;
		bool last = seq + len == tcp_data_seq(tp) + (uint32_t)tp->snd.len;
		tcp_sack_trace_rexmit(tp, fin ? "rescue (rule 4) with FIN" : "rescue (rule 4)", seq, len,
				      pipe);
		if (tcp_send_seg(tp, seq, TCP_FLAG_ACK | (fin ? TCP_FLAG_FIN : 0) |
			(len && last ? TCP_FLAG_PSH : 0), len) == -ENOBUFS)
			break;
		tcp_count_rexmit(tp, len + (fin ? 1 : 0));
		stats_inc(&tp->s->stats, "tcp.sack_rescue");
		tp->rescue_rxt = tp->recover;
		tp->rescue_set = true;
		break;
	}
	tcp_rexmt_arm(tp);
}

/* RFC 6675 5.1: after a timeout sending goes back to snd_una (go-back-N)
 * with the scoreboard cleared, but the peer's ACKs since then rebuild it
 * from the out-of-order data it still holds, and what they SACK is not
 * sent again: snd_nxt jumps over a SACKed range it reaches. Returns the
 * bytes from snd_nxt to the next SACKed range (UINT32_MAX if none), the
 * most the next segment may carry. */
static uint32_t tcp_sack_skip(struct tcb *tp)
{
	if (!SEQ_LT(tp->snd_nxt, tp->snd_max))
		return UINT32_MAX;
	for (int i = 0; i < tp->nsacked; i++) {
		const struct tcp_range *r = &tp->sacked[i];
		if (SEQ_LEQ(r->end, tp->snd_nxt))
			continue;
		if (SEQ_GT(r->start, tp->snd_nxt))
			return r->start - tp->snd_nxt;
		stats_add(&tp->s->stats, "tcp.sack_skipped_bytes", r->end - tp->snd_nxt);
		if (tp->s->trace) {
			char name[128];
			TRACE(tp->s, "tcp %s resending after timeout: skip SACKed seq %u to %u",
			      tcb_str(tp, name, sizeof(name)), tp->snd_nxt - tp->iss,
			      r->end - tp->iss);
		}
		tp->snd_nxt = r->end;
	}
	return UINT32_MAX;
}

/* ---- tcp_output ------------------------------------------------------------ */

/* RFC 1122 4.2.3.4 (sender SWS avoidance) with Nagle (RFC 896): may a
 * segment of len bytes go now, when unsent bytes are queued and fin says
 * the FIN would ride on it? True for a full segment; for everything queued
 * if nothing is in flight or TCP_NODELAY is set; for at least half the
 * largest window the peer offered; and for the last bytes before our FIN. */
static bool tcp_send_allowed(const struct tcb *tp, uint32_t len, uint32_t unsent, bool fin)
{
	if (len >= tcp_seg_size(tp))
		return true;
	if (fin)
		return true;
	if (len == unsent && (tp->snd_nxt == tp->snd_una || tp->nodelay))
		return true;
	return tp->max_sndwnd > 0 && len >= tp->max_sndwnd / 2;
}

/* RFC 1122 4.2.3.4 for a retransmission after a timeout: true if len
 * bytes are less than a full segment, more bytes follow them, and data is
 * in flight (its ACK will open the window), unless len is half the
 * largest window the peer offered. Then the sender waits. */
static bool tcp_resend_sliver(const struct tcb *tp, uint32_t len, uint32_t unsent)
{
	return len < tcp_seg_size(tp) && len < unsent && tp->snd_nxt != tp->snd_una &&
	       !(tp->max_sndwnd > 0 && len >= tp->max_sndwnd / 2);
}

/* Bytes the windows let us send past snd_nxt: SND.UNA + min(SND.WND, cwnd)
 * - SND.NXT (RFC 9293 3.8.6, RFC 5681 3), never negative. Limited
 * transmit (RFC 3042 2): the first two duplicate ACKs each allow one more
 * segment beyond cwnd. In SACK recovery cwnd limits the pipe (RFC 6675 5),
 * the peer's window still the sequence space past snd_una. */
static uint32_t tcp_usable_window(const struct tcb *tp)
{
	uint32_t flight = tp->snd_nxt - tp->snd_una;
	uint32_t rwnd = tp->snd_wnd > flight ? tp->snd_wnd - flight : 0;

	if (tp->sack_recovery) {
		uint32_t pipe = tcp_sack_pipe(tp);
		return min_u32(rwnd, tp->cwnd > pipe ? tp->cwnd - pipe : 0);
	}
	uint32_t cwnd = tp->cwnd;
	if (!tp->in_recovery && tp->dupacks > 0)
		cwnd += (uint32_t)(tp->dupacks < 2 ? tp->dupacks : 2) * tcp_seg_size(tp);
	uint32_t wnd = min_u32(tp->snd_wnd, cwnd);
	return wnd > flight ? wnd - flight : 0;
}

/* The persist interval: the RTO backed off by persist_backoff, within
 * [TCP_PERSIST_MIN_US, TCP_PERSIST_MAX_US] (RFC 9293 3.8.6.1: exponential
 * backoff of the probes). */
static int64_t tcp_persist_interval(const struct tcb *tp)
{
	int64_t iv = tp->rto;
	for (int i = 0; i < tp->persist_backoff && iv < TCP_PERSIST_MAX_US; i++)
		iv *= 2;
	if (iv < TCP_PERSIST_MIN_US)
		iv = TCP_PERSIST_MIN_US;
	return iv > TCP_PERSIST_MAX_US ? TCP_PERSIST_MAX_US : iv;
}

/* Arms the persist timer when data waits and nothing is in flight to bring
 * an ACK (a zero or silly window: RFC 9293 3.8.6.1, RFC 1122 4.2.3.4's
 * override timer), else stops it. */
static void tcp_persist_update(struct tcb *tp)
{
	uint32_t off = tp->snd_nxt - tcp_data_seq(tp);
	bool waiting = tcp_can_send(tp) && off < tp->snd.len && tp->t_rexmt == TCP_NO_TIMER;
	if (waiting) {
		if (tp->t_persist == TCP_NO_TIMER)
			tcp_timer_set(tp, &tp->t_persist, tp->s->now + tcp_persist_interval(tp));
	} else if (tp->t_persist != TCP_NO_TIMER || tp->persist_backoff) {
		tcp_timer_set(tp, &tp->t_persist, TCP_NO_TIMER);
		tp->persist_backoff = 0;
	}
}

/* True if our window grew enough since the last advertisement that the
 * peer should hear of it now: by two segments, by half the buffer, or from
 * zero (RFC 9293 3.8.6.2.2; the BSD rule). */
static bool tcp_window_update_due(struct tcb *tp)
{
	uint32_t cur = tp->rcv_adv - tp->rcv_nxt;
	if (SEQ_LT(tp->rcv_adv, tp->rcv_nxt))
		cur = 0;
	uint32_t win = tcp_rcv_window(tp);
	if (win <= cur)
		return false;
	uint32_t inc = win - cur;
	return cur == 0 || inc >= 2u * tp->rcv_mss || inc >= tp->rcv.limit / 2;
}

/* Starts the keep-alive timer of a connection that asked for it
 * (SO_KEEPALIVE, RFC 1122 4.2.3.6) and has none running. */
static void tcp_keepalive_start(struct tcb *tp)
{
	if (!tp->keepalive || tp->t_keep != TCP_NO_TIMER || tp->state != TCP_ESTABLISHED)
		return;
	tp->keep_probes = 0;
	tp->keep_segs = tp->segs_in;
	tcp_timer_set(tp, &tp->t_keep, tp->s->now + TCP_KEEPALIVE_IDLE_US);
}

/* With a device that cuts segments itself (TSO, netdev.h tso_max): the
 * most payload one segment handed to it may carry, a whole number of
 * tcp_seg_size segments; 0 without. IPv4 only (IPv6 output sends nothing
 * larger than the MTU). */
static uint32_t tcp_tso_payload(struct tcb *tp)
{
	if (tp->raddr.family != AF_INET)
		return 0;
	unsigned max = tcp_dev_tso_max(tp->s, &tp->raddr);
	uint32_t seg = tcp_seg_size(tp);
	if (max < IPV4_HDR_LEN + TCP_MAX_HDR_LEN + 2 * seg)
		return 0;
	return (max - IPV4_HDR_LEN - TCP_MAX_HDR_LEN) / seg * seg;
}

/* Data is about to go with nothing in flight. The algorithm hears how long
 * the sender was quiet (on_tx_start, as Linux's CA_EVENT_TX_START), and
 * RFC 5681 4.1: after no data was sent for longer than the RTO, cwnd is
 * no more than the restart window RW = min(IW, cwnd), so the sender does
 * not burst a window the path has forgotten (`tcp.cwnd_restart`, trace
 * event idle_restart). ssthresh stays: slow start climbs back to it. Only
 * when something will go now (unsent data and an open window). */
static void tcp_idle_restart(struct tcb *tp)
{
	uint32_t off = tp->snd_nxt - tcp_data_seq(tp);

	if (tp->snd_una != tp->snd_max || tp->last_data_sent == 0 || off >= tp->snd.len ||
	    tp->snd_wnd == 0 || tp->state < TCP_ESTABLISHED)
		return;
	int64_t idle = tp->s->now - tp->last_data_sent;
	if (idle <= 0)
		return;
	if (tp->cc->on_tx_start)
		tp->cc->on_tx_start(tp, idle);
	uint32_t rw = tcp_cc_restart_window(tp);
	if (idle > tp->rto && rw < tp->cwnd) {
		if (tp->s->trace) {
			char name[128];
			TRACE(tp->s, "tcp %s idle %lld ms (RTO %lld ms): cwnd %u -> restart window %u",
			      tcb_str(tp, name, sizeof(name)), (long long)(idle / 1000),
			      (long long)(tp->rto / 1000), tp->cwnd, rw);
		}
		tp->cwnd = rw;
		stats_inc(&tp->s->stats, "tcp.cwnd_restart");
		tcp_trace(tp, "idle_restart");
	}
	tp->last_data_sent = tp->s->now > 0 ? tp->s->now : 1; /* accounted once */
}

/* Sends whatever the windows, Nagle and SWS avoidance allow, the FIN once
 * all data is out, and a pure ACK if one is owed and nothing carried it.
 * Contract in tcp.h. */
int tcp_output(struct tcb *tp)
{
	int r = 0;

	if (tp->state < TCP_SYN_RECEIVED) {
		tp->ack_now = false; /* no peer to acknowledge yet */
		return 0;
	}
	tcp_keepalive_start(tp);
	if (tp->snd_wnd > tp->max_sndwnd)
		tp->max_sndwnd = tp->snd_wnd;
	if (tp->sack_recovery && tcp_can_send(tp))
		tcp_sack_retransmit_holes(tp); /* RFC 6675 NextSeg() rule 1 before new data */
	if (tcp_can_send(tp))
		tcp_idle_restart(tp);
	uint32_t tso = tcp_tso_payload(tp);
	while (tcp_can_send(tp)) {
		uint32_t gap = tcp_sack_skip(tp);
		uint32_t off = tp->snd_nxt - tcp_data_seq(tp);
		uint32_t unsent = off < tp->snd.len ? (uint32_t)tp->snd.len - off : 0;
		uint32_t can = min_u32(min_u32(unsent, tcp_usable_window(tp)), gap);
		uint32_t len = min_u32(can, tcp_seg_size(tp));
		/* TSO: every full segment the windows allow, in one for the
		 * device to cut (what is left over goes as before, next turn) */
		if (tso && len == tcp_seg_size(tp) && can > len)
			len = min_u32(can, tso) / len * len;
		/* the FIN follows the last byte, needs no window (it takes no buffer) */
		bool fin = tp->fin_queued && tcp_fin_state(tp) && off + len == tp->snd.len;
		if (len == 0 && !fin)
			break;
		/* Nagle and SWS hold back new data; sending again what a timeout
		 * took back is held only by SWS avoidance (RFC 1122 4.2.3.4):
		 * no sliver of a segment while more follows and an ACK is on
		 * its way to open the window (slow start after an RTO grows
		 * cwnd by parts of segments) */
		bool resend = SEQ_LT(tp->snd_nxt, tp->snd_max);
		if (len > 0 && !resend && !tcp_send_allowed(tp, len, unsent, fin))
			break;
		if (resend && tcp_resend_sliver(tp, len, unsent))
			break;
		r = tcp_send_data(tp, len, fin);
		if (r == -ENOBUFS)
			break;
	}
	if (tp->sack_recovery && tcp_can_send(tp))
		tcp_sack_send_rules_3_4(tp); /* RFC 6675 NextSeg() rules 3 and 4 after new data */
	/* an ACK owed (also SYN-RECEIVED's answer to an unacceptable segment,
	 * RFC 9293 3.10.7.4), or a window update while the peer may still send */
	bool update = tp->state >= TCP_ESTABLISHED && !tp->fin_rcvd && tcp_window_update_due(tp);
	if (tp->ack_now || update)
		tcp_send_ack(tp);
	tcp_persist_update(tp);
	return r < 0 ? r : 0;
}

/* Contract in tcp.h. */
void tcp_persist_probe(struct tcb *tp)
{
	uint32_t off = tp->snd_nxt - tcp_data_seq(tp);
	if (!tcp_can_send(tp) || off >= tp->snd.len || tp->t_rexmt != TCP_NO_TIMER) {
		tcp_persist_update(tp);
		return;
	}
	uint32_t usable = tcp_usable_window(tp);
	if (usable > 0) {
		/* RFC 1122 4.2.3.4: the override timer sends what the window allows */
		uint32_t len = min_u32((uint32_t)tp->snd.len - off, usable);
		len = min_u32(len, tcp_seg_size(tp));
		bool fin = tp->fin_queued && tcp_fin_state(tp) && off + len == tp->snd.len;
		tcp_send_data(tp, len, fin);
	} else {
		if (!tp->so && tp->persist_backoff >= TCP_MAX_RETRIES) {
			/* no app is left to wait for the window: give up on an
			 * orphan as Linux does (tcp_orphan_retries) */
			stats_inc(&tp->s->stats, "tcp.orphan_persist_timeout");
			tcp_drop(tp, ETIMEDOUT);
			return;
		}
		/* RFC 9293 3.8.6.1: probe a zero window with one new byte; snd_nxt
		 * stays, snd_max covers it so the peer's ACK of it is acceptable */
		if (tp->s->trace) {
			char name[128];
			TRACE(tp->s, "tcp %s zero window probe seq %u (backoff %d)",
			      tcb_str(tp, name, sizeof(name)), tp->snd_nxt - tp->iss,
			      tp->persist_backoff);
		}
		stats_inc(&tp->s->stats, "tcp.window_probes");
		tcp_send_seg(tp, tp->snd_nxt, TCP_FLAG_ACK, 1);
		if (SEQ_GT(tp->snd_nxt + 1, tp->snd_max))
			tp->snd_max = tp->snd_nxt + 1;
		if (tp->persist_backoff < 30)
			tp->persist_backoff++;
	}
	tcp_persist_update(tp);
}

/* ---- ACKs, SYNs, resets ---------------------------------------------------- */

/* Contract in tcp.h. Nothing is sent before the peer's SYN arrived. The
 * sequence number is snd_max, not snd_nxt: after a timeout snd_nxt is back
 * at snd_una, below what the peer may already hold, and an ACK with an old
 * sequence number is unacceptable to it (RFC 9293 3.10.7.4 first check) so
 * its acknowledgment would be lost (BSD does the same). */
void tcp_send_ack(struct tcb *tp)
{
	if (tp->state < TCP_SYN_RECEIVED)
		return;
	tcp_send_seg(tp, tp->snd_max, TCP_FLAG_ACK, 0);
}

/* Contract in tcp.h. */
void tcp_send_keepalive(struct tcb *tp)
{
	stats_inc(&tp->s->stats, "tcp.keepalive_probes");
	tcp_send_seg(tp, tp->snd_una - 1, TCP_FLAG_ACK, 0);
}

/* The MSS this host can receive: the interface MTU less the IP and TCP
 * headers (RFC 9293 3.7.1, RFC 6691), or 536 without a route. */
static uint16_t tcp_mtu_mss(struct tcb *tp)
{
	size_t m = ip_max_payload(tp->s, &tp->raddr);
	if (m <= TCP_HDR_LEN + TCP_MIN_MSS)
		return TCP_DEFAULT_MSS;
	m -= TCP_HDR_LEN;
	return m > 65535 ? 65535 : (uint16_t)m;
}

/* The smallest shift that lets the advertised window cover the receive
 * buffer's limit: 65535 << ws >= limit (RFC 7323 2.3), at most 14. */
static uint8_t tcp_choose_wscale(const struct tcb *tp)
{
	uint8_t ws = 0;
	while (ws < TCP_MAX_WSCALE && ((size_t)65535 << ws) < tp->rcv.limit)
		ws++;
	return ws;
}

/* The options of our SYN or SYN-ACK: MSS, SACK-permitted, timestamps and
 * window scale. A SYN offers them all; a SYN-ACK only those the peer's SYN
 * offered (RFC 7323 1.3 and 2.2, RFC 2018 2). */
static void tcp_syn_options(struct tcb *tp, struct tcp_opts *o)
{
	bool offer = tp->state == TCP_SYN_SENT;

	tp->rcv_mss = tcp_mtu_mss(tp);
	o->mss_ok = true;
	o->mss = tp->rcv_mss;
	if (offer || tp->ws_ok) {
		tp->rcv_wscale = tcp_choose_wscale(tp);
		o->ws_ok = true;
		o->ws = tp->rcv_wscale;
	}
	if ((offer && !tp->s->tcp.no_sack) || tp->sack_ok)
		o->sack_perm = true;
	if (offer || tp->ts_ok) {
		o->ts_ok = true;
		o->tsval = tcp_ts_now(tp);
		o->tsecr = offer ? 0 : tp->ts_recent;
	}
}

/* Contract in tcp.h. The SYN takes sequence number iss: snd_una = iss,
 * snd_nxt = snd_max = iss + 1; the retransmission timer runs; a first SYN
 * is timed for an RTT sample, a retransmitted one (retries > 0) not. */
void tcp_send_syn(struct tcb *tp)
{
	bool synack = tp->state == TCP_SYN_RECEIVED;
	struct tcp_seg seg = { .sport = tp->lport, .dport = tp->rport, .seq = tp->iss,
			       .flags = TCP_FLAG_SYN | (synack ? TCP_FLAG_ACK : 0) };
	/* RFC 7323 2.2: the window field of a SYN is never scaled */
	uint32_t wnd = (uint32_t)(ring_space(&tp->rcv) < 65535 ? ring_space(&tp->rcv) : 65535);

	tcp_syn_options(tp, &seg.opt);
	seg.wnd = (uint16_t)wnd;
	if (synack)
		seg.ack = tp->rcv_nxt;
	if (tcp_tx(tp->s, &tp->laddr, &tp->raddr, &seg, NULL, 0, 0, tp) != -ENOBUFS)
		tp->segs_out++;
	if (synack)
		tcp_ack_sent(tp, wnd);
	tp->snd_una = tp->iss;
	tp->snd_nxt = tp->snd_max = tp->iss + 1;
	tp->recover = tp->iss; /* RFC 6582 3.2 step 1: recover starts at the ISN */
	if (tp->retries > 0)
		tcp_count_rexmit(tp, 1);
	else
		tcp_rtt_start(tp, tp->iss);
	tcp_rexmt_arm(tp);
}

/* Contract in tcp.h: <SEQ=SND.NXT><CTL=RST> (RFC 9293 3.10.4 ABORT), with
 * ACK as Linux does; snd_max stands for SND.NXT (see tcp_send_ack) so the
 * peer finds it exactly at its RCV.NXT (RFC 5961 3.2). Nothing in CLOSED,
 * LISTEN or SYN-SENT (no peer state). */
void tcp_send_rst(struct tcb *tp)
{
	if (tp->state < TCP_SYN_RECEIVED)
		return;
	stats_inc(&tp->s->stats, "tcp.tx_rst");
	tcp_send_seg(tp, tp->snd_max, TCP_FLAG_RST | TCP_FLAG_ACK, 0);
}

/* Contract in tcp.h. Also never to a broadcast or multicast source
 * (RFC 1122 4.2.3.10). */
void tcp_send_rst_reply(struct stack *s, const struct ip_rx *ip, const struct tcp_seg *seg)
{
	if ((seg->flags & TCP_FLAG_RST) || ip->bcast)
		return;
	struct tcp_seg r = { .sport = seg->dport, .dport = seg->sport };
	if (seg->flags & TCP_FLAG_ACK) {
		r.seq = seg->ack;
		r.flags = TCP_FLAG_RST;
	} else {
		r.seq = 0;
		r.ack = seg->seq + tcp_seg_len(seg);
		r.flags = TCP_FLAG_RST | TCP_FLAG_ACK;
	}
	stats_inc(&s->stats, "tcp.tx_rst");
	tcp_tx(s, &ip->dst, &ip->src, &r, NULL, 0, 0, NULL);
}

/* Contract in tcp.h: a token bucket of TCP_CHALLENGE_ACK_LIMIT per second
 * for the whole host (RFC 5961 7); beyond it, counted and not sent. */
void tcp_send_challenge_ack(struct tcb *tp)
{
	struct tcp_table *t = &tp->s->tcp;
	int64_t now = tp->s->now;

	t->challenge_tokens += (double)(now - t->challenge_last) * TCP_CHALLENGE_ACK_LIMIT / 1e6;
	if (t->challenge_tokens > TCP_CHALLENGE_ACK_LIMIT)
		t->challenge_tokens = TCP_CHALLENGE_ACK_LIMIT;
	t->challenge_last = now;
	if (t->challenge_tokens < 1.0) {
		stats_inc(&tp->s->stats, "tcp.challenge_ack_limited");
		return;
	}
	t->challenge_tokens -= 1.0;
	stats_inc(&tp->s->stats, "tcp.challenge_acks");
	tcp_send_ack(tp);
}

/* ---- windows and options ---------------------------------------------------- */

/* Contract in tcp.h. The result is a multiple of 1 << rcv_wscale (what the
 * scaled field can say) and at most 65535 << rcv_wscale. It is kept at the
 * window still offered (rcv_adv - rcv_nxt) unless the free space is larger
 * by min(buffer / 2, MSS) (RFC 1122 4.2.3.3), and never smaller than it
 * (RFC 9293 3.8.6.2.2: the right edge does not move left). */
uint32_t tcp_rcv_window(struct tcb *tp)
{
	uint32_t unit = 1u << tp->rcv_wscale;
	uint32_t maxwin = 65535u << tp->rcv_wscale;
	size_t space = ring_space(&tp->rcv);
	uint32_t win = space < maxwin ? (uint32_t)space : maxwin;
	uint32_t cur = tp->rcv_adv - tp->rcv_nxt;
	if (SEQ_LT(tp->rcv_adv, tp->rcv_nxt) || cur > maxwin)
		cur = 0; /* nothing offered (or nothing advertised yet) */
	uint32_t thresh = min_u32((uint32_t)(tp->rcv.limit / 2), tp->rcv_mss);

	if (win < cur + thresh)
		win = cur;
	uint32_t down = win & ~(unit - 1);
	win = down >= cur ? down : (win + unit - 1) & ~(unit - 1);
	if (win > maxwin)
		win = maxwin;
	tp->rcv_wnd = win;
	return win;
}

/* Contract in tcp.h. snd_mss = min(the peer's MSS or 536, ours), at least
 * TCP_MIN_MSS; window scaling only if the SYN carried it (RFC 7323 2.2,
 * shift clamped at 14, 2.3), timestamps (ts_recent from the SYN, RFC 7323
 * 4.3) and SACK likewise; snd_wnd from the SYN's window, never scaled. */
void tcp_negotiate(struct tcb *tp, const struct tcp_seg *syn)
{
	const struct tcp_opts *o = &syn->opt;
	uint32_t ours = tcp_mtu_mss(tp);
	uint32_t peer = o->mss_ok ? o->mss : TCP_DEFAULT_MSS;
	uint32_t mss = peer < ours ? peer : ours;

	tp->rcv_mss = (uint16_t)ours;
	tp->snd_mss = (uint16_t)(mss < TCP_MIN_MSS ? TCP_MIN_MSS : mss);
	tp->ws_ok = o->ws_ok;
	tp->snd_wscale = o->ws_ok ? (o->ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->ws) : 0;
	tp->rcv_wscale = o->ws_ok ? tcp_choose_wscale(tp) : 0;
	tp->ts_ok = o->ts_ok;
	if (o->ts_ok) {
		tp->ts_recent = o->tsval;
		tp->ts_recent_time = tp->s->now;
	}
	tp->sack_ok = o->sack_perm && !tp->s->tcp.no_sack;
	tp->snd_wnd = syn->wnd;
	tp->max_sndwnd = syn->wnd;
}

/* ---- acknowledgments, RTT, retransmission ---------------------------------- */

static uint32_t tcp_resend_oldest(struct tcb *tp);

/* RFC 6298 2.2-2.4: folds one RTT measurement r (microseconds) into
 * SRTT / RTTVAR and recomputes RTO = SRTT + max(G, 4 * RTTVAR), clamped to
 * [rto_min, TCP_RTO_MAX_US] (2.4, 2.5). */
static void tcp_rtt_update(struct tcb *tp, int64_t r)
{
	tp->rtt_last = r;
	if (!tp->rtt_valid) {
		tp->srtt = r;
		tp->rttvar = r / 2;
		tp->rtt_valid = true;
	} else {
		int64_t delta = tp->srtt > r ? tp->srtt - r : r - tp->srtt;
		tp->rttvar = (3 * tp->rttvar + delta) / 4;
		tp->srtt = (7 * tp->srtt + r) / 8;
	}
	int64_t var = 4 * tp->rttvar;
	int64_t rto = tp->srtt + (var > TCP_CLOCK_G_US ? var : TCP_CLOCK_G_US);
	if (rto < tp->s->tcp.rto_min_us)
		rto = tp->s->tcp.rto_min_us;
	tp->rto = rto > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : rto;
}

/* Takes the RTT sample an ACK up to ack gives, if any: from the echoed
 * timestamp when timestamps are on (RFC 7323 4.1), else from the timed
 * segment if ack covers it (never retransmitted: Karn, RFC 6298 3).
 * Returns true if it took one. */
static bool tcp_rtt_sample(struct tcb *tp, uint32_t ack, const struct tcp_seg *seg)
{
	bool timed = tp->rtt_start != 0 && SEQ_GT(ack, tp->rtt_seq);
	int64_t r = -1;

	if (tp->ts_ok && seg && seg->opt.ts_ok && seg->opt.tsecr != 0) {
		int32_t ms = (int32_t)(tcp_ts_now(tp) - seg->opt.tsecr);
		if (ms >= 0)
			r = (int64_t)ms * 1000;
	} else if (timed) {
		r = tp->s->now - tp->rtt_start;
	}
	if (timed || (tp->rtt_start != 0 && SEQ_LT(tp->rtt_seq, tp->snd_una)))
		tp->rtt_start = 0;
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
	bool sack = tp->sack_recovery;

	tp->in_recovery = false;
	tp->sack_recovery = false;
	tp->nrxt = 0;
	tp->undo_end = tp->snd_max;
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
		      tcb_str(tp, name, sizeof(name)), tp->snd_una - tp->iss, tp->cwnd,
		      tp->ssthresh);
	}
}

/* An ACK of new data (acked bytes, snd_una already moved) during fast
 * recovery. At or past the recover point (a full ACK) recovery ends; so
 * does any new ACK with Reno (no on_partial_ack). A partial ACK (RFC 6582
 * 3.2 step 5) keeps it going: with SACK, RFC 6675's pipe decides what
 * tcp_output sends next; with NewReno, the next hole (the segment at the
 * new snd_una) is retransmitted now and cwnd deflates by what was acked. */
static void tcp_recovery_ack(struct tcb *tp, uint32_t acked)
{
	char name[128];

	if (SEQ_GEQ(tp->snd_una, tp->recover) ||
	    (!tp->sack_recovery && !tp->cc->on_partial_ack)) {
		tcp_recovery_exit(tp);
		return;
	}
	stats_inc(&tp->s->stats, "tcp.partial_ack");
	if (tp->sack_recovery) {
		if (SEQ_LT(tp->high_rxt, tp->snd_una))
			tp->high_rxt = tp->snd_una;
		TRACE(tp->s, "tcp %s partial ACK %u in SACK recovery (recover %u, "
		      "%d ranges SACKed)", tcb_str(tp, name, sizeof(name)), tp->snd_una - tp->iss,
		      tp->recover - tp->iss, tp->nsacked);
		return;
	}
	tp->cc->on_partial_ack(tp, acked);
	TRACE(tp->s, "tcp %s partial ACK %u (recover %u): retransmit seq %u, cwnd %u",
	      tcb_str(tp, name, sizeof(name)), tp->snd_una - tp->iss, tp->recover - tp->iss,
	      tp->snd_una - tp->iss, tp->cwnd);
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

/* Contract in tcp.h. The caller checked snd_una < ack <= snd_max. */
void tcp_ack_advance(struct tcb *tp, uint32_t ack, const struct tcp_seg *seg)
{
	uint32_t flight = tp->snd_max - tp->snd_una; /* before this ACK */
	uint32_t acked = ack - tp->snd_una;
	bool syn = tcp_syn_unacked(tp);
	uint32_t data = acked - (syn ? 1 : 0);
	if (data > tp->snd.len)
		data = (uint32_t)tp->snd.len; /* the rest is our FIN */
	bool fin_acked = tcp_fin_outstanding(tp) && ack == tp->snd_max;

	ring_drop(&tp->snd, data); /* (writable: tcp_input woke the socket) */
	tp->bytes_acked += data;
	tp->rtt_fresh = tcp_rtt_sample(tp, ack, seg);
	if (syn && tp->backoff > 0 && tp->rto < TCP_RTO_SYN_LOST_US)
		tp->rto = TCP_RTO_SYN_LOST_US; /* RFC 6298 5.7: the SYN timed out once */
	tp->snd_una = ack;
	if (SEQ_LT(tp->snd_nxt, ack))
		tp->snd_nxt = ack;
	tcp_sack_trim(tp);
	tcp_rxt_trim(tp);
	if (tp->undo_armed && !tp->in_recovery && SEQ_GT(ack, tp->undo_end))
		tp->undo_armed = false; /* the D-SACKs of the recovery would have come by now */
	if (tp->in_recovery)
		tcp_recovery_ack(tp, acked);
	else if (data > 0 && !tcp_cwnd_limited(tp, flight))
		tcp_app_limited(tp, data);
	else if (data > 0 && tp->cc->on_ack)
		tp->cc->on_ack(tp, data);
	tp->dupacks = 0;
	tcp_trace(tp, "ack");
	tp->retries = 0;
	tp->backoff = 0;
	/* RFC 6298 5.2 / 5.3: stop the timer when all is acked, else restart it */
	if (tp->tlp_out && SEQ_GEQ(ack, tp->tlp_high))
		tp->tlp_out = false; /* RFC 8985 7.4: the probe's episode is over */
	if (tp->snd_una == tp->snd_max) {
		tp->tlp_armed = false;
		tcp_timer_set(tp, &tp->t_rexmt, TCP_NO_TIMER);
	} else {
		tcp_rexmt_restart(tp);
	}
	if (fin_acked && !tp->so)
		tcp_timer_set(tp, &tp->t_2msl, tp->s->now + TCP_FIN_WAIT_2_US); /* orphan timeout */
}

/* Resends the oldest unacknowledged segment: the SYN in the handshake,
 * else up to one segment of data from snd_una, with the FIN if it follows.
 * snd_nxt moves past it if it was behind. Returns the sequence space sent. */
static uint32_t tcp_resend_oldest(struct tcb *tp)
{
	if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECEIVED) {
		tcp_send_syn(tp);
		return 1;
	}
	uint32_t sent = tp->snd_max - tcp_data_seq(tp);
	uint32_t data = sent < tp->snd.len ? sent : (uint32_t)tp->snd.len;
	uint32_t len = min_u32(data, tcp_seg_size(tp));
	bool fin = tcp_fin_outstanding(tp) && len == data;
	if (len == 0 && !fin)
		return 0;
	uint8_t flags = TCP_FLAG_ACK | (fin ? TCP_FLAG_FIN : 0) |
			(len && len == tp->snd.len ? TCP_FLAG_PSH : 0);
	tcp_send_seg(tp, tp->snd_una, flags, len);
	tcp_count_rexmit(tp, len + (fin ? 1 : 0));
	uint32_t n = len + (fin ? 1 : 0);
	if (SEQ_LT(tp->snd_nxt, tp->snd_una + n))
		tp->snd_nxt = tp->snd_una + n;
	tcp_rexmt_arm(tp);
	return n;
}

/* Contract in tcp.h. The probe is one segment that asks for an ACK: with
 * SACK it tells a lost tail (which otherwise brings no duplicate ACKs, only
 * an RTO) and fast recovery starts. cwnd is left as it is (RFC 8985 7.4's
 * detection of a loss the probe alone repaired is not done here). */
void tcp_tlp_fire(struct tcb *tp)
{
	uint32_t off = tp->snd_nxt - tcp_data_seq(tp);
	uint32_t unsent = off < tp->snd.len ? (uint32_t)tp->snd.len - off : 0;
	uint32_t flight = tp->snd_nxt - tp->snd_una;
	uint32_t rwnd = tp->snd_wnd > flight ? tp->snd_wnd - flight : 0;
	uint32_t len = min_u32(min_u32(unsent, rwnd), tcp_seg_size(tp));
	char name[128];

	tp->tlp_armed = false;
	stats_inc(&tp->s->stats, "tcp.tlp");
	tp->tlp_out = true;
	tcp_trace(tp, "tlp");
	if (len > 0 && tp->snd_nxt == tp->snd_max) {
		TRACE(tp->s, "tcp %s tail loss probe: new data seq %u len %u (srtt %lld us)",
		      tcb_str(tp, name, sizeof(name)), tp->snd_nxt - tp->iss, len,
		      (long long)tp->srtt);
		tcp_send_data(tp, len, false);
	} else {
		uint32_t sent = tp->snd_max - tcp_data_seq(tp);
		len = min_u32(min_u32(sent, (uint32_t)tp->snd.len), tcp_seg_size(tp));
		uint32_t seq = tcp_data_seq(tp) + min_u32(sent, (uint32_t)tp->snd.len) - len;
		TRACE(tp->s, "tcp %s tail loss probe: last segment again seq %u len %u "
		      "(srtt %lld us)", tcb_str(tp, name, sizeof(name)), seq - tp->iss, len,
		      (long long)tp->srtt);
		bool last = seq + len == tcp_data_seq(tp) + (uint32_t)tp->snd.len;
		if (len > 0) {
			tcp_send_seg(tp, seq, TCP_FLAG_ACK | (last ? TCP_FLAG_PSH : 0), len);
			tcp_count_rexmit(tp, len);
			stats_inc(&tp->s->stats, "tcp.tlp_retransmits");
		}
	}
	tp->tlp_high = tp->snd_max;
	/* RFC 8985 7.3: after the probe, the RTO */
	tcp_timer_set(tp, &tp->t_rexmt, tp->s->now + tp->rto);
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
	_Static_assert(sizeof(tp->undo_priv) == sizeof(tp->cc_priv), "undo_priv mirrors cc_priv");
	tp->undo_armed = tp->sack_ok;
	tp->undo_marker = tp->snd_una;
	tp->undo_cwnd = tp->cwnd;
	tp->undo_ssthresh = tp->ssthresh;
	tp->undo_retrans = 0;
	memcpy(tp->undo_priv, tp->cc_priv, sizeof(tp->undo_priv));
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

	tp->undo_armed = false;
	if (tp->in_recovery) {
		tp->in_recovery = false;
		tp->sack_recovery = false;
		tp->nrxt = 0;
	}
	if (tp->cwnd < tp->undo_cwnd)
		tp->cwnd = tp->undo_cwnd;
	tp->ssthresh = tp->undo_ssthresh;
	memcpy(tp->cc_priv, tp->undo_priv, sizeof(tp->cc_priv));
	stats_inc(&tp->s->stats, "tcp.dsack_undo");
	tcp_trace(tp, "undo");
	TRACE(tp->s, "tcp %s D-SACKs reported every retransmission since seq %u: the reduction "
	      "was spurious, undone (cwnd %u ssthresh %u)", tcb_str(tp, name, sizeof(name)),
	      tp->undo_marker - tp->iss, tp->cwnd, tp->ssthresh);
}

/* True if [a, b) overlaps a retransmission recorded in this recovery. */
static bool tcp_rxt_overlaps(const struct tcb *tp, uint32_t a, uint32_t b)
{
	for (int i = 0; i < tp->nrxt; i++)
		if (SEQ_LT(a, tp->rxt[i].end) && SEQ_LT(tp->rxt[i].start, b))
			return true;
	return false;
}

/* RFC 2883 5: the peer received [a, b) twice (a D-SACK). Counted
 * (`tcp.dsack_received`); one that reports a retransmission of the last
 * fast recovery takes one from undo_retrans, and when none is left the
 * reduction is undone. As Linux (tcp_check_dsack) a D-SACK below snd_una
 * counts if it lies in [undo_marker, recover) (what it covered is gone
 * from the send ring); one above must overlap a retransmission of the
 * recovery still running. */
static void tcp_dsack_received(struct tcb *tp, uint32_t a, uint32_t b)
{
	stats_inc(&tp->s->stats, "tcp.dsack_received");
	if (tp->s->trace) {
		char name[128];
		TRACE(tp->s, "tcp %s D-SACK: seq %u to %u arrived twice", tcb_str(tp, name, sizeof(name)),
		      a - tp->iss, b - tp->iss);
	}
	if (!tp->undo_armed || tp->undo_retrans <= 0 || SEQ_LT(a, tp->undo_marker) ||
	    SEQ_GT(b, tp->recover))
		return;
	if (SEQ_GT(b, tp->snd_una) && !tcp_rxt_overlaps(tp, a, b))
		return; /* a duplicate of data sent once: the network's, not ours */
	uint32_t seg = tcp_seg_size(tp);
	int n = (int)((b - a + seg - 1) / seg);
	tp->undo_retrans -= n < tp->undo_retrans ? n : tp->undo_retrans;
	if (tp->undo_retrans == 0)
		tcp_undo(tp);
}

/* RFC 6582 3.2 step 2 (and 4.1 after a timeout): duplicate ACKs start a
 * new recovery only once the ACK covers the recover point of the last one
 * (SND.UNA >= recover, recover kept as one past the highest byte sent
 * then), so one window of data halves cwnd once. A recover point past
 * snd_max was never set on this connection. */
static bool tcp_recover_passed(const struct tcb *tp)
{
	return SEQ_GEQ(tp->snd_una, tp->recover) || SEQ_GT(tp->recover, tp->snd_max);
}

/* Enters fast recovery (RFC 5681 3.2 steps 2-3, RFC 6582 3.2 step 2, RFC
 * 6675 5 step (4)): recover = the highest sequence sent, the algorithm
 * lowers ssthresh and cwnd (with SACK: cwnd = ssthresh, no inflation),
 * the oldest segment goes again, then with SACK what the pipe allows. */
static void tcp_enter_recovery(struct tcb *tp)
{
	tp->recover = tp->snd_max;
	tp->tlp_out = false;
	tp->tlp_armed = false;
	tcp_undo_arm(tp);
	if (tp->cc->on_loss)
		tp->cc->on_loss(tp);
	tp->in_recovery = true;
	tp->sack_recovery = tp->sack_ok;
	tp->nrxt = 0;
	tp->rescue_set = false; /* RFC 6675 4: RescueRxt undefined at the start */
	stats_inc(&tp->s->stats, "tcp.fast_retransmit");
	if (tp->sack_recovery) {
		tp->cwnd = tp->ssthresh;
		stats_inc(&tp->s->stats, "tcp.sack_recovery");
	}
	tcp_trace(tp, "fast_retransmit");
	if (tp->s->trace) {
		char name[128];
		TRACE(tp->s, "tcp %s fast retransmit seq %u (%d duplicate ACKs, %s recovery to %u, "
		      "cwnd %u ssthresh %u)",
		      tcb_str(tp, name, sizeof(name)), tp->snd_una - tp->iss, tp->dupacks,
		      tp->sack_recovery ? "SACK" : tp->cc->name, tp->recover - tp->iss, tp->cwnd,
		      tp->ssthresh);
	}
	tp->high_rxt = tp->snd_una + tcp_resend_oldest(tp);
	tcp_rxt_note(tp, tp->snd_una, tp->high_rxt);
	if (tp->sack_recovery)
		tcp_output(tp);
}

/* RFC 3042 2, limited transmit: the first and second duplicate ACK each
 * let one new segment go (tcp_usable_window allows it), cwnd unchanged. */
static void tcp_limited_transmit(struct tcb *tp)
{
	uint32_t before = tp->snd_max;

	tcp_output(tp);
	if (tp->snd_max == before)
		return;
	stats_inc(&tp->s->stats, "tcp.limited_transmit");
	if (tp->s->trace) {
		char name[128];
		TRACE(tp->s, "tcp %s limited transmit after duplicate ACK %d: seq %u len %u",
		      tcb_str(tp, name, sizeof(name)), tp->dupacks, before - tp->iss,
		      tp->snd_max - before);
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
	if (tp->snd_wnd == 0 || tp->snd_max == tp->snd_una)
		return;
	tp->dupacks++;
	stats_inc(&tp->s->stats, "tcp.dupacks");
	tcp_trace(tp, "dupack");
	if (tp->in_recovery) {
		if (!tp->sack_recovery && tp->cc->on_dupack)
			tp->cc->on_dupack(tp);
		tcp_output(tp);
		return;
	}
	bool lost = tp->sack_ok && tcp_sack_is_lost(tp, tp->snd_una);
	if (tp->dupacks < TCP_DUPTHRESH && !lost) {
		tcp_limited_transmit(tp);
		return;
	}
	if (!tcp_recover_passed(tp)) {
		stats_inc(&tp->s->stats, "tcp.dupack_before_recover");
		if (tp->s->trace && tp->dupacks == TCP_DUPTHRESH) {
			char name[128];
			TRACE(tp->s, "tcp %s %d duplicate ACKs for data sent before recover %u: "
			      "no second reduction", tcb_str(tp, name, sizeof(name)), tp->dupacks,
			      tp->recover - tp->iss);
		}
		return;
	}
	tcp_enter_recovery(tp);
}

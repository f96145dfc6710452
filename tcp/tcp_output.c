/* TCP sending (RFC 9293 3.8): segment emission. Where things are in
 * sequence space, the one place segments leave (tcp_tx), tcp_output with
 * Nagle (RFC 896) and SWS avoidance (RFC 1122 4.2.3.4, RFC 9293 3.8.6.2),
 * the persist timer's probes, ACKs, SYNs and resets (RFC 9293 3.10.7.1,
 * RFC 5961), the window we offer and the options we negotiate (RFC 7323,
 * RFC 2018 SACK-permitted, RFC 6691 MSS). See tcp.h.
 *
 * The send ring tp->sndbuf holds every byte from snd.una on, sent or not, so a
 * byte's place in it is (seq - snd.una), counted from the first data byte
 * (one past iss while our SYN is unacknowledged). Our FIN takes the sequence
 * number just after the last byte of the ring.
 *
 * Call map:
 *   tcp_output       <- tcp_input.c (end of SEGMENT ARRIVES), tcp_socket.c
 *                       (send, close, shutdown), tcp_ack.c, tcp_timer.c
 *                    -> tcp_sack.c (RFC 6675 rules 3-4, tcp_sack_skip),
 *                       tcp_send_data -> tcp_send_seg -> tcp_tx -> ip_output
 *   tcp_send_ack, tcp_send_syn, tcp_send_rst[_reply], tcp_send_challenge_ack,
 *   tcp_send_keepalive, tcp_persist_probe
 *                    <- tcp_input.c, tcp_socket.c, tcp_timer.c
 *   tcp_negotiate   <- tcp_input.c (SYN, SYN-ACK)
 *   tcp_rcv_window  <- tcp_socket.c (a read opens the window), tcp_send_seg
 *   tcp_send_seg, tcp_send_data, tcp_rexmt_*, sequence-space helpers
 *                    <- tcp_sack.c, tcp_ack.c (through tcp_internal.h) */

#include "tcp/tcp.h"
#include "tcp/tcp_internal.h"
#include "tcp/tcp_trace.h"

#include <errno.h>
#include <string.h>

#include "ip/ip.h"
#include "ip/ipv4.h"
#include "stack/stack.h"

#define TCP_MIN_MSS 64                  /* the smallest snd_mss we accept from a peer */
#define TCP_TS_OPT_SPACE 12             /* NOP NOP TS(10): what timestamps add to each segment */

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
 * byte of tp->sndbuf. (bytes_acked counts data, so a connection that wrapped
 * around to iss after sending 4 GB is not taken for one in its handshake.) */
bool tcp_syn_unacked(const struct tcb *tp)
{
	return tp->snd.una == tp->iss && tp->stat.bytes_acked == 0;
}

/* Sequence number of the first byte in tp->sndbuf. */
uint32_t tcp_data_seq(const struct tcb *tp)
{
	return tp->snd.una + (tcp_syn_unacked(tp) ? 1 : 0);
}

/* The states in which data (and the FIN) may be sent. */
static bool tcp_can_send(const struct tcb *tp)
{
	return tcp_state_can_send_data(tp->state) || tcp_state_fin_sent(tp->state);
}

/* True if our FIN was sent and is not acknowledged yet: snd.max is one
 * past the last byte of the ring. */
bool tcp_fin_outstanding(const struct tcb *tp)
{
	return tp->fin_queued && tcp_state_fin_sent(tp->state) &&
	       tp->snd.max - tcp_data_seq(tp) == (uint32_t)tp->sndbuf.len + 1;
}

/* Payload bytes per segment: snd_mss less the timestamp option every
 * segment carries once negotiated (RFC 6691 2: the MSS counts no options). */
uint32_t tcp_seg_size(const struct tcb *tp)
{
	uint32_t mss = tp->opt.snd_mss;
	if (tp->opt.ts_ok && mss > TCP_MIN_MSS + TCP_TS_OPT_SPACE)
		mss -= TCP_TS_OPT_SPACE;
	return mss ? mss : 1;
}

/* Our timestamp clock (RFC 7323 5.4: milliseconds here), offset by iss so
 * each connection starts at an unpredictable value (RFC 7323 7). */
uint32_t tcp_ts_now(const struct tcb *tp)
{
	return (uint32_t)(tp->s->now / 1000) + tp->iss;
}

/* Starts timing a segment; 0 in rtt_start means "not timing", so the
 * instant 0 of virtual time is recorded as 1 microsecond. */
static void tcp_rtt_start(struct tcb *tp, uint32_t seq)
{
	tp->rtt.seq = seq;
	tp->rtt.start = tp->s->now > 0 ? tp->s->now : 1;
}

/* RFC 8985 7.2: the probe timeout PTO for data in flight, or 0 when no
 * probe may be scheduled: only with SACK (the probe's ACK must tell what
 * is missing), an RTT measured, not in recovery, no probe outstanding, in
 * a state without our FIN, and shorter than the RTO. PTO = 2 * SRTT (at
 * least TCP_TLP_MIN_US), plus the peer's worst delayed ACK when a single
 * segment is in flight. */
static int64_t tcp_tlp_timeout(const struct tcb *tp)
{
	if (!tp->opt.sack_ok || !tp->rtt.valid || tp->rec.in_recovery || tp->tlp.out ||
	    tp->rtt.backoff > 0 || !tcp_state_can_send_data(tp->state))
		return 0;
	int64_t pto = 2 * tp->rtt.srtt;
	if (pto < TCP_TLP_MIN_US)
		pto = TCP_TLP_MIN_US;
	if (tp->snd.max - tp->snd.una <= tcp_seg_size(tp))
		pto += TCP_DELACK_US;
	return pto < tp->rtt.rto ? pto : 0;
}

/* (Re)starts the retransmission timer from now: at the probe timeout when
 * a tail loss probe may go first (RFC 8985 7.2), else at the RTO (RFC
 * 6298 5.1, 5.3). */
void tcp_rexmt_restart(struct tcb *tp)
{
	int64_t pto = tcp_tlp_timeout(tp);
	tp->tlp.armed = pto > 0;
	tcp_timer_set(tp, &tp->timer.rexmt, tp->s->now + (pto > 0 ? pto : tp->rtt.rto));
}

/* Arms the retransmission timer if it is off (RFC 6298 5.1). */
void tcp_rexmt_arm(struct tcb *tp)
{
	if (tp->timer.rexmt == TCP_NO_TIMER)
		tcp_rexmt_restart(tp);
}

/* New data went out: RFC 8985 7.2 (re)starts the probe timer, never later
 * than the RTO already running; else the RTO is armed if it is off. */
static void tcp_rexmt_new_data(struct tcb *tp)
{
	int64_t pto = tcp_tlp_timeout(tp);
	int64_t when = tp->s->now + pto;

	if (pto > 0 && (tp->tlp.armed || tp->timer.rexmt == TCP_NO_TIMER || when < tp->timer.rexmt)) {
		tp->tlp.armed = true;
		tcp_timer_set(tp, &tp->timer.rexmt, when);
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
		unsigned ws = tp && !(seg->flags & TCP_FLAG_SYN) ? tp->opt.rcv_wscale : 0;
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

/* An ACK carrying window wnd went out: the peer now knows rcv.nxt, so no
 * ACK is owed any more (RFC 1122 4.2.3.2), and the right edge we offered
 * moves to rcv.nxt + wnd (never left: tcp_rcv_window kept it). */
static void tcp_ack_sent(struct tcb *tp, uint32_t wnd)
{
	tp->rcv.adv = tp->rcv.nxt + wnd;
	tp->ack_now = false;
	tp->delack_segs = 0;
	if (tp->timer.delack != TCP_NO_TIMER)
		tcp_timer_set(tp, &tp->timer.delack, TCP_NO_TIMER);
}

/* Sends one segment of the connection: seq, flags, and len bytes of the
 * send ring starting at seq. Fills in the acknowledgment and our window
 * when ACK is set, and the timestamps option when negotiated (RFC 7323 3.2:
 * on every segment, echoing ts_recent). Returns 0 or a negative errno. */
int tcp_send_seg(struct tcb *tp, uint32_t seq, uint8_t flags, size_t len)
{
	struct tcp_seg seg = { .sport = tp->lport, .dport = tp->rport, .seq = seq, .flags = flags };
	uint32_t wnd = 0;

	if (flags & TCP_FLAG_ACK) {
		wnd = tcp_rcv_window(tp);
		seg.ack = tp->rcv.nxt;
		seg.wnd = (uint16_t)(wnd >> tp->opt.rcv_wscale);
	}
	if (tp->opt.ts_ok) {
		seg.opt.ts_ok = true;
		seg.opt.tsval = tcp_ts_now(tp);
		seg.opt.tsecr = tp->opt.ts_recent;
	}
	if (flags & TCP_FLAG_ACK)
		tcp_reass_sack_blocks(tp, &seg.opt, len);
	int r = tcp_tx(tp->s, &tp->laddr, &tp->raddr, &seg, &tp->sndbuf, seq - tcp_data_seq(tp), len,
		       tp);
	if (r == -ENOBUFS)
		return r;
	if (tp->sack.dsack_pending && seg.opt.nsack > 0) {
		tp->sack.dsack_pending = false; /* RFC 2883 4: in one ACK only */
		stats_inc(&tp->s->stats, "tcp.dsack_sent");
	}
	if (len > 0)
		tp->last_data_sent = tp->s->now > 0 ? tp->s->now : 1;
	tp->stat.segs_out++;
	if (flags & TCP_FLAG_ACK)
		tcp_ack_sent(tp, wnd);
	return r;
}

/* Counts a retransmission of len bytes of sequence space and stops RTT
 * timing (Karn, RFC 6298 3: no sample from a segment that was sent more
 * than once). */
void tcp_count_rexmit(struct tcb *tp, uint32_t len)
{
	if (tp->undo.armed && tp->rec.in_recovery)
		tp->undo.retrans++;
	tp->stat.retransmits++;
	stats_inc(&tp->s->stats, "tcp.retransmits");
	stats_add(&tp->s->stats, "tcp.retransmitted_bytes", len);
	tp->rtt.start = 0;
}

/* Sends len bytes at snd.nxt (and the FIN after them if fin), advances
 * snd.nxt / snd.max, times the segment if it is new data, and arms the
 * retransmission timer. Returns 0 or a negative errno. */
int tcp_send_data(struct tcb *tp, uint32_t len, bool fin)
{
	uint32_t seq = tp->snd.nxt;
	uint32_t end = seq - tcp_data_seq(tp) + len;
	uint8_t flags = TCP_FLAG_ACK | (fin ? TCP_FLAG_FIN : 0);
	if (len && end == tp->sndbuf.len)
		flags |= TCP_FLAG_PSH; /* the segment empties the queue (as BSD) */
	int r = tcp_send_seg(tp, seq, flags, len);
	if (r == -ENOBUFS)
		return r;
	bool resend = SEQ_LT(seq, tp->snd.max);
	if (resend) {
		/* only what was sent before counts: after a zero-window probe
		 * (one new byte, RFC 9293 3.8.6.1) the next segment resends that
		 * byte and carries new data after it */
		uint32_t total = len + (fin ? 1 : 0), before = tp->snd.max - seq;
		tcp_count_rexmit(tp, before < total ? before : total);
	} else if (len && tp->rtt.start == 0)
		tcp_rtt_start(tp, seq);
	tp->snd.nxt = seq + len + (fin ? 1 : 0);
	if (SEQ_GT(tp->snd.nxt, tp->snd.max))
		tp->snd.max = tp->snd.nxt;
	if (resend)
		tcp_rexmt_arm(tp);
	else
		tcp_rexmt_new_data(tp);
	return r;
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
	if (len == unsent && (tp->snd.nxt == tp->snd.una || tp->nodelay))
		return true;
	return tp->snd.max_wnd > 0 && len >= tp->snd.max_wnd / 2;
}

/* RFC 1122 4.2.3.4 for a retransmission after a timeout: true if len
 * bytes are less than a full segment, more bytes follow them, and data is
 * in flight (its ACK will open the window), unless len is half the
 * largest window the peer offered. Then the sender waits. */
static bool tcp_resend_sliver(const struct tcb *tp, uint32_t len, uint32_t unsent)
{
	return len < tcp_seg_size(tp) && len < unsent && tp->snd.nxt != tp->snd.una &&
	       !(tp->snd.max_wnd > 0 && len >= tp->snd.max_wnd / 2);
}

/* Bytes the windows let us send past snd.nxt: SND.UNA + min(SND.WND, cwnd)
 * - SND.NXT (RFC 9293 3.8.6, RFC 5681 3), never negative. Limited
 * transmit (RFC 3042 2): the first two duplicate ACKs each allow one more
 * segment beyond cwnd. In SACK recovery cwnd limits the pipe (RFC 6675 5),
 * the peer's window still the sequence space past snd.una. */
uint32_t tcp_usable_window(const struct tcb *tp)
{
	uint32_t flight = tp->snd.nxt - tp->snd.una;
	uint32_t rwnd = tp->snd.wnd > flight ? tp->snd.wnd - flight : 0;

	if (tp->rec.sack_recovery) {
		uint32_t pipe = tcp_sack_pipe(tp);
		return min_u32(rwnd, tp->cwnd > pipe ? tp->cwnd - pipe : 0);
	}
	uint32_t cwnd = tp->cwnd;
	if (!tp->rec.in_recovery && tp->rec.dupacks > 0)
		cwnd += (uint32_t)(tp->rec.dupacks < 2 ? tp->rec.dupacks : 2) * tcp_seg_size(tp);
	uint32_t wnd = min_u32(tp->snd.wnd, cwnd);
	return wnd > flight ? wnd - flight : 0;
}

/* The persist interval: the RTO backed off by persist_backoff, within
 * [TCP_PERSIST_MIN_US, TCP_PERSIST_MAX_US] (RFC 9293 3.8.6.1: exponential
 * backoff of the probes). */
static int64_t tcp_persist_interval(const struct tcb *tp)
{
	int64_t iv = tp->rtt.rto;
	for (int i = 0; i < tp->timer.persist_backoff && iv < TCP_PERSIST_MAX_US; i++)
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
	uint32_t off = tp->snd.nxt - tcp_data_seq(tp);
	bool waiting = tcp_can_send(tp) && off < tp->sndbuf.len && tp->timer.rexmt == TCP_NO_TIMER;
	if (waiting) {
		if (tp->timer.persist == TCP_NO_TIMER)
			tcp_timer_set(tp, &tp->timer.persist, tp->s->now + tcp_persist_interval(tp));
	} else if (tp->timer.persist != TCP_NO_TIMER || tp->timer.persist_backoff) {
		tcp_timer_set(tp, &tp->timer.persist, TCP_NO_TIMER);
		tp->timer.persist_backoff = 0;
		tp->timer.persist_probes = 0;
	}
}

static size_t tcp_rcv_space(struct tcb *tp);

/* True if our window grew enough since the last advertisement that the
 * peer should hear of it now: by two segments, by half the buffer, or from
 * zero (RFC 9293 3.8.6.2.2; the BSD rule). */
static bool tcp_window_update_due(struct tcb *tp)
{
	uint32_t cur = tp->rcv.adv - tp->rcv.nxt;
	if (SEQ_LT(tp->rcv.adv, tp->rcv.nxt))
		cur = 0;
	uint32_t win = tcp_rcv_window(tp);
	if (win <= cur)
		return false;
	uint32_t inc = win - cur;
	return cur == 0 || inc >= 2u * tp->opt.rcv_mss || inc >= tp->rcvbuf.limit / 2;
}

/* Starts the keep-alive timer of a connection that asked for it
 * (SO_KEEPALIVE, RFC 1122 4.2.3.6) and has none running. */
static void tcp_keepalive_start(struct tcb *tp)
{
	if (!tp->keepalive || tp->timer.keep != TCP_NO_TIMER || tp->state != TCP_ESTABLISHED)
		return;
	tp->timer.keep_probes = 0;
	tp->timer.keep_segs = tp->stat.segs_in;
	tcp_timer_set(tp, &tp->timer.keep, tp->s->now + TCP_KEEPALIVE_IDLE_US);
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
	uint32_t off = tp->snd.nxt - tcp_data_seq(tp);

	if (tp->snd.una != tp->snd.max || tp->last_data_sent == 0 || off >= tp->sndbuf.len ||
	    tp->snd.wnd == 0 || !tcp_state_have_established(tp->state))
		return;
	int64_t idle = tp->s->now - tp->last_data_sent;
	if (idle <= 0)
		return;
	if (tp->cc->on_tx_start)
		tp->cc->on_tx_start(tp, idle);
	uint32_t rw = tcp_cc_restart_window(tp);
	if (idle > tp->rtt.rto && rw < tp->cwnd) {
		if (tp->s->trace) {
			char name[128];
			TRACE(tp->s, "tcp %s idle %lld ms (RTO %lld ms): cwnd %u -> restart window %u",
			      tcb_str(tp, name, sizeof(name)), (long long)(idle / 1000),
			      (long long)(tp->rtt.rto / 1000), tp->cwnd, rw);
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

	if (!tcp_state_synced(tp->state)) {
		tp->ack_now = false; /* no peer to acknowledge yet */
		return 0;
	}
	tcp_keepalive_start(tp);
	if (tp->snd.wnd > tp->snd.max_wnd)
		tp->snd.max_wnd = tp->snd.wnd;
	if (tp->rec.sack_recovery && tcp_can_send(tp))
		tcp_sack_retransmit_holes(tp); /* RFC 6675 NextSeg() rule 1 before new data */
	if (tcp_can_send(tp))
		tcp_idle_restart(tp);
	uint32_t tso = tcp_tso_payload(tp);
	while (tcp_can_send(tp)) {
		uint32_t gap = tcp_sack_skip(tp);
		uint32_t off = tp->snd.nxt - tcp_data_seq(tp);
		uint32_t unsent = off < tp->sndbuf.len ? (uint32_t)tp->sndbuf.len - off : 0;
		uint32_t can = min_u32(min_u32(unsent, tcp_usable_window(tp)), gap);
		uint32_t len = min_u32(can, tcp_seg_size(tp));
		/* TSO: every full segment the windows allow, in one for the
		 * device to cut (what is left over goes as before, next turn) */
		if (tso && len == tcp_seg_size(tp) && can > len)
			len = min_u32(can, tso) / len * len;
		/* the FIN follows the last byte, needs no window (it takes no buffer) */
		bool fin = tp->fin_queued && tcp_state_fin_sent(tp->state) && off + len == tp->sndbuf.len;
		if (len == 0 && !fin)
			break;
		/* Nagle and SWS hold back new data; sending again what a timeout
		 * took back is held only by SWS avoidance (RFC 1122 4.2.3.4):
		 * no sliver of a segment while more follows and an ACK is on
		 * its way to open the window (slow start after an RTO grows
		 * cwnd by parts of segments) */
		bool resend = SEQ_LT(tp->snd.nxt, tp->snd.max);
		if (len > 0 && !resend && !tcp_send_allowed(tp, len, unsent, fin))
			break;
		if (resend && tcp_resend_sliver(tp, len, unsent))
			break;
		r = tcp_send_data(tp, len, fin);
		if (r == -ENOBUFS)
			break;
	}
	if (tp->rec.sack_recovery && tcp_can_send(tp))
		tcp_sack_send_rules_3_4(tp); /* RFC 6675 NextSeg() rules 3 and 4 after new data */
	/* an ACK owed (also SYN-RECEIVED's answer to an unacceptable segment,
	 * RFC 9293 3.10.7.4), or a window update while the peer may still send */
	bool update = tcp_state_have_established(tp->state) && !tp->fin_rcvd && tcp_window_update_due(tp);
	if (tp->ack_now || update)
		tcp_send_ack(tp);
	tcp_persist_update(tp);
	return r < 0 ? r : 0;
}

/* Contract in tcp.h. */
void tcp_persist_probe(struct tcb *tp)
{
	uint32_t off = tp->snd.nxt - tcp_data_seq(tp);
	if (!tcp_can_send(tp) || off >= tp->sndbuf.len || tp->timer.rexmt != TCP_NO_TIMER) {
		tcp_persist_update(tp);
		return;
	}
	uint32_t usable = tcp_usable_window(tp);
	if (usable > 0) {
		/* RFC 1122 4.2.3.4: the override timer sends what the window allows */
		uint32_t len = min_u32((uint32_t)tp->sndbuf.len - off, usable);
		len = min_u32(len, tcp_seg_size(tp));
		bool fin = tp->fin_queued && tcp_state_fin_sent(tp->state) && off + len == tp->sndbuf.len;
		tcp_send_data(tp, len, fin);
	} else {
		if (!tp->so && tp->timer.persist_backoff >= TCP_MAX_RETRIES) {
			/* no app is left to wait for the window: give up on an
			 * orphan as Linux does (tcp_orphan_retries) */
			stats_inc(&tp->s->stats, "tcp.orphan_persist_timeout");
			tcp_drop(tp, ETIMEDOUT);
			return;
		}
		/* RFC 1122 4.2.2.17: probing goes on while the receiver answers
		 * (tcp_input.c's fifth step clears persist_probes on any
		 * acceptable ACK); one that answered none of TCP_MAX_RETRIES
		 * probes is gone, and is timed out as a retransmission would be
		 * (RFC 1122 4.2.3.5 R2; Linux counts unanswered probes against
		 * tcp_retries2 the same way), an app holding the socket or not */
		if (tp->timer.persist_probes >= TCP_MAX_RETRIES) {
			if (tp->s->trace) {
				char name[128];
				TRACE(tp->s, "tcp %s zero window: no answer to %d probes",
				      tcb_str(tp, name, sizeof(name)), tp->timer.persist_probes);
			}
			stats_inc(&tp->s->stats, "tcp.persist_timeout");
			tcp_drop(tp, ETIMEDOUT);
			return;
		}
		/* RFC 9293 3.8.6.1: probe a zero window with one new byte; snd.nxt
		 * stays, snd.max covers it so the peer's ACK of it is acceptable */
		if (tp->s->trace) {
			char name[128];
			TRACE(tp->s, "tcp %s zero window probe seq %u (backoff %d)",
			      tcb_str(tp, name, sizeof(name)), tp->snd.nxt - tp->iss,
			      tp->timer.persist_backoff);
		}
		stats_inc(&tp->s->stats, "tcp.window_probes");
		tcp_send_seg(tp, tp->snd.nxt, TCP_FLAG_ACK, 1);
		if (SEQ_GT(tp->snd.nxt + 1, tp->snd.max))
			tp->snd.max = tp->snd.nxt + 1;
		if (tp->timer.persist_backoff < 30)
			tp->timer.persist_backoff++;
		tp->timer.persist_probes++;
	}
	tcp_persist_update(tp);
}

/* ---- ACKs, SYNs, resets ---------------------------------------------------- */

/* Contract in tcp.h. Nothing is sent before the peer's SYN arrived. The
 * sequence number is snd.max, not snd.nxt: after a timeout snd.nxt is back
 * at snd.una, below what the peer may already hold, and an ACK with an old
 * sequence number is unacceptable to it (RFC 9293 3.10.7.4 first check) so
 * its acknowledgment would be lost (BSD does the same). */
void tcp_send_ack(struct tcb *tp)
{
	if (!tcp_state_synced(tp->state))
		return;
	tcp_send_seg(tp, tp->snd.max, TCP_FLAG_ACK, 0);
}

/* Contract in tcp.h. */
void tcp_send_keepalive(struct tcb *tp)
{
	stats_inc(&tp->s->stats, "tcp.keepalive_probes");
	tcp_send_seg(tp, tp->snd.una - 1, TCP_FLAG_ACK, 0);
}

/* The MSS this host can receive: the interface MTU less the IP and TCP
 * headers (RFC 9293 3.7.1, RFC 6691), or 536 without a route. */
static uint16_t tcp_mtu_mss(struct tcb *tp)
{
	return tcp_mss_for(tp->s, &tp->raddr);
}

/* Contract in tcp.h. */
uint16_t tcp_mss_for(struct stack *s, const struct ipaddr *raddr)
{
	size_t m = ip_max_payload(s, raddr);
	if (m <= TCP_HDR_LEN + TCP_MIN_MSS)
		return TCP_DEFAULT_MSS;
	m -= TCP_HDR_LEN;
	return m > 65535 ? 65535 : (uint16_t)m;
}

/* The smallest shift that lets the advertised window cover the receive
 * buffer's limit: 65535 << ws >= limit (RFC 7323 2.3), at most 14. */
static uint8_t tcp_choose_wscale(const struct tcb *tp)
{
	return tcp_wscale_for(tp->rcvbuf.limit);
}

/* Contract in tcp.h. */
uint8_t tcp_wscale_for(size_t limit)
{
	uint8_t ws = 0;
	while (ws < TCP_MAX_WSCALE && ((size_t)65535 << ws) < limit)
		ws++;
	return ws;
}

/* The options of our SYN or SYN-ACK: MSS, SACK-permitted, timestamps and
 * window scale. A SYN offers them all; a SYN-ACK only those the peer's SYN
 * offered (RFC 7323 1.3 and 2.2, RFC 2018 2). */
static void tcp_syn_options(struct tcb *tp, struct tcp_opts *o)
{
	bool offer = tp->state == TCP_SYN_SENT;

	tp->opt.rcv_mss = tcp_mtu_mss(tp);
	o->mss_ok = true;
	o->mss = tp->opt.rcv_mss;
	if (offer || tp->opt.ws_ok) {
		tp->opt.rcv_wscale = tcp_choose_wscale(tp);
		o->ws_ok = true;
		o->ws = tp->opt.rcv_wscale;
	}
	if ((offer && !tp->s->tcp.no_sack) || tp->opt.sack_ok)
		o->sack_perm = true;
	if (offer || tp->opt.ts_ok) {
		o->ts_ok = true;
		o->tsval = tcp_ts_now(tp);
		o->tsecr = offer ? 0 : tp->opt.ts_recent;
	}
}

/* Contract in tcp.h. The SYN takes sequence number iss: snd.una = iss,
 * snd.nxt = snd.max = iss + 1; the retransmission timer runs; a first SYN
 * is timed for an RTT sample, a retransmitted one (retries > 0) not. */
void tcp_send_syn(struct tcb *tp)
{
	bool synack = tp->state == TCP_SYN_RECEIVED;
	struct tcp_seg seg = { .sport = tp->lport, .dport = tp->rport, .seq = tp->iss,
			       .flags = TCP_FLAG_SYN | (synack ? TCP_FLAG_ACK : 0) };
	/* RFC 7323 2.2: the window field of a SYN is never scaled */
	size_t space = tcp_rcv_space(tp);
	uint32_t wnd = (uint32_t)(space < 65535 ? space : 65535);

	tcp_syn_options(tp, &seg.opt);
	seg.wnd = (uint16_t)wnd;
	if (synack)
		seg.ack = tp->rcv.nxt;
	if (tcp_tx(tp->s, &tp->laddr, &tp->raddr, &seg, NULL, 0, 0, tp) != -ENOBUFS)
		tp->stat.segs_out++;
	if (synack)
		tcp_ack_sent(tp, wnd);
	tp->snd.una = tp->iss;
	tp->snd.nxt = tp->snd.max = tp->iss + 1;
	tp->rec.recover = tp->iss; /* RFC 6582 3.2 step 1: recover starts at the ISN */
	if (tp->rtt.retries > 0)
		tcp_count_rexmit(tp, 1);
	else
		tcp_rtt_start(tp, tp->iss);
	tcp_rexmt_arm(tp);
}

/* Contract in tcp.h: <SEQ=SND.NXT><CTL=RST> (RFC 9293 3.10.4 ABORT), with
 * ACK as Linux does; snd.max stands for SND.NXT (see tcp_send_ack) so the
 * peer finds it exactly at its RCV.NXT (RFC 5961 3.2). Nothing in CLOSED,
 * LISTEN or SYN-SENT (no peer state). */
void tcp_send_rst(struct tcb *tp)
{
	if (!tcp_state_synced(tp->state))
		return;
	stats_inc(&tp->s->stats, "tcp.tx_rst");
	tcp_send_seg(tp, tp->snd.max, TCP_FLAG_RST | TCP_FLAG_ACK, 0);
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

/* RFC 5961 7 (as Linux's tcp_oow_rate_limited since CVE-2016-5696):
 * true if tp sent a challenge ACK or an out-of-window ACK less than
 * TCP_OOW_ACK_INTERVAL_US ago; else notes now and returns false. Each
 * connection has its own budget, so what a spoofer spends on one tells it
 * nothing about another. */
static bool tcp_oow_limited(struct tcb *tp)
{
	int64_t now = tp->s->now;

	if (tp->oow_sent && now - tp->oow_last < TCP_OOW_ACK_INTERVAL_US)
		return true;
	tp->oow_sent = true;
	tp->oow_last = now;
	return false;
}

/* RFC 5961 7: the host-wide ceiling of challenge ACKs in the current
 * second, drawn again each second in [N / 2, N * 3 / 2) for the host's
 * --challenge-acks N (as Linux
 * since CVE-2016-5696: a fixed ceiling is a counter a spoofer can read).
 * True if this second's ceiling is reached; else counts one. */
static bool tcp_challenge_host_limited(struct stack *s)
{
	struct tcp_table *t = &s->tcp;
	int64_t second = s->now / 1000000;

	if (second != t->challenge_second) {
		t->challenge_second = second;
		t->challenge_count = 0;
		t->challenge_limit = t->challenge_acks / 2 +
				     (uint32_t)rng_below(&s->rng, t->challenge_acks);
	}
	if (t->challenge_count >= t->challenge_limit)
		return true;
	t->challenge_count++;
	return false;
}

/* Contract in tcp.h: first the connection's own limit, then the host's
 * randomized ceiling (RFC 5961 7); beyond either, counted and not sent. */
void tcp_send_challenge_ack(struct tcb *tp)
{
	if (tcp_oow_limited(tp)) {
		stats_inc(&tp->s->stats, "tcp.challenge_ack_sock_limited");
		return;
	}
	if (tcp_challenge_host_limited(tp->s)) {
		stats_inc(&tp->s->stats, "tcp.challenge_ack_limited");
		return;
	}
	stats_inc(&tp->s->stats, "tcp.challenge_acks");
	tcp_send_ack(tp);
}

/* Contract in tcp.h. A segment with data or a FIN is always answered (as
 * Linux): its ACK may carry a D-SACK, and a sender retransmitting needs
 * it; the rest, pure ACKs, SYNs and RSTs, share the connection's budget
 * with the challenge ACKs (RFC 5961 7 asks to limit both; an ACK war or a
 * spoofer cannot make us answer each one). */
void tcp_send_ack_oow(struct tcb *tp, const struct tcp_seg *seg)
{
	bool limited = seg->len == 0 && !(seg->flags & TCP_FLAG_FIN);
	if (limited && tcp_oow_limited(tp)) {
		stats_inc(&tp->s->stats, "tcp.oow_ack_limited");
		return;
	}
	tcp_send_ack(tp);
}

/* Contract in tcp.h: <SEQ=cookie><ACK=SEG.SEQ+1><CTL=SYN,ACK> from no
 * control block (RFC 4987 3.6); never to a broadcast source. */
void tcp_send_synack_cookie(struct stack *s, const struct ip_rx *ip, const struct tcp_seg *syn,
			    const struct tcp_opts *o, uint32_t iss, uint16_t wnd)
{
	if (ip->bcast)
		return;
	struct tcp_seg r = { .sport = syn->dport, .dport = syn->sport, .seq = iss,
			     .ack = syn->seq + 1, .flags = TCP_FLAG_SYN | TCP_FLAG_ACK,
			     .wnd = wnd, .opt = *o };
	tcp_tx(s, &ip->dst, &ip->src, &r, NULL, 0, 0, NULL);
}

/* ---- windows and options ---------------------------------------------------- */

/* Contract in tcp.h. The result is a multiple of 1 << rcv_wscale (what the
 * scaled field can say) and at most 65535 << rcv_wscale. It is kept at the
 * window still offered (rcv.adv - rcv.nxt) unless the free space is larger
 * by min(buffer / 2, MSS) (RFC 1122 4.2.3.3), and never smaller than it
 * (RFC 9293 3.8.6.2.2: the right edge does not move left). */
/* The receive buffer's room for new data. Issue 20, as Linux under
 * tcp_mem pressure: above the host's LOW mark the room counts only the
 * memory the ring has (at least RING_MIN_CAP, so a new connection starts
 * small), not what it could grow to; what was offered already stays
 * offered (tcp_rcv_window never moves the right edge left). */
static size_t tcp_rcv_space(struct tcb *tp)
{
	size_t space = ring_space(&tp->rcvbuf);
	if (tcp_mem_state(tp->s) != TCP_MEM_OK) {
		size_t have = tp->rcvbuf.cap > RING_MIN_CAP ? tp->rcvbuf.cap : RING_MIN_CAP;
		size_t room = have > tp->rcvbuf.len ? have - tp->rcvbuf.len : 0;
		if (room < space) {
			space = room;
			stats_inc(&tp->s->stats, "tcp.mem_window_clamped");
		}
	}
	return space;
}

uint32_t tcp_rcv_window(struct tcb *tp)
{
	uint32_t unit = 1u << tp->opt.rcv_wscale;
	uint32_t maxwin = 65535u << tp->opt.rcv_wscale;
	size_t space = tcp_rcv_space(tp);
	uint32_t win = space < maxwin ? (uint32_t)space : maxwin;
	uint32_t cur = tp->rcv.adv - tp->rcv.nxt;
	if (SEQ_LT(tp->rcv.adv, tp->rcv.nxt) || cur > maxwin)
		cur = 0; /* nothing offered (or nothing advertised yet) */
	uint32_t thresh = min_u32((uint32_t)(tp->rcvbuf.limit / 2), tp->opt.rcv_mss);

	if (win < cur + thresh)
		win = cur;
	uint32_t down = win & ~(unit - 1);
	win = down >= cur ? down : (win + unit - 1) & ~(unit - 1);
	if (win > maxwin)
		win = maxwin;
	tp->rcv.wnd = win;
	return win;
}

/* Contract in tcp.h. snd_mss = min(the peer's MSS or 536, ours), the
 * peer's raised to TCP_MIN_SND_MSS first (below); window scaling only if the SYN carried it (RFC 7323 2.2,
 * shift clamped at 14, 2.3), timestamps (ts_recent from the SYN, RFC 7323
 * 4.3) and SACK likewise; snd.wnd from the SYN's window, never scaled. */
void tcp_negotiate(struct tcb *tp, const struct tcp_seg *syn)
{
	const struct tcp_opts *o = &syn->opt;
	uint32_t ours = tcp_mtu_mss(tp);
	uint32_t peer = o->mss_ok ? o->mss : TCP_DEFAULT_MSS;
	if (peer < TCP_MIN_SND_MSS) {
		/* A floor under the peer's MSS option, as Linux's tcp_min_snd_mss
		 * since CVE-2019-11479 (a tiny MSS multiplies the segments, the
		 * ACKs and the SACK work per byte), but at RFC 9293 3.7.1's
		 * default send MSS, 536: what every IPv4 host takes (RFC 791
		 * 3.1, 576-byte datagrams; RFC 1122 3.3.3) and the smallest MSS
		 * a SYN cookie carries. Against 3.7.1's MUST for a peer that
		 * really asks for less: see the conformance table. */
		stats_inc(&tp->s->stats, "tcp.mss_raised");
		if (tp->s->trace) {
			char name[128];
			TRACE(tp->s, "tcp %s peer's MSS %u raised to %u", tcb_str(tp, name, sizeof(name)),
			      peer, TCP_MIN_SND_MSS);
		}
		peer = TCP_MIN_SND_MSS;
	}
	uint32_t mss = peer < ours ? peer : ours;

	tp->opt.rcv_mss = (uint16_t)ours;
	tp->opt.snd_mss = (uint16_t)(mss < TCP_MIN_MSS ? TCP_MIN_MSS : mss);
	tp->opt.ws_ok = o->ws_ok;
	tp->opt.snd_wscale = o->ws_ok ? (o->ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->ws) : 0;
	tp->opt.rcv_wscale = o->ws_ok ? tcp_choose_wscale(tp) : 0;
	tp->opt.ts_ok = o->ts_ok;
	if (o->ts_ok) {
		tp->opt.ts_recent = o->tsval;
		tp->opt.ts_recent_time = tp->s->now;
	}
	tp->opt.sack_ok = o->sack_perm && !tp->s->tcp.no_sack;
	tp->snd.wnd = syn->wnd;
	tp->snd.max_wnd = syn->wnd;
}

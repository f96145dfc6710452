/* TCP sending (RFC 9293 3.8): segments, windows, Nagle and SWS avoidance,
 * ACKs, resets, retransmission, round-trip time (RFC 6298), and the hooks
 * into congestion control (RFC 5681). See tcp.h.
 *
 * The send ring tp->snd holds every byte from snd_una on, sent or not, so a
 * byte's place in it is (seq - snd_una), counted from the first data byte
 * (one past iss while our SYN is unacknowledged). Our FIN takes the sequence
 * number just after the last byte of the ring. */
#include "tcp/tcp.h"

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
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	snprintf(buf, len, "%s:%u -> %s:%u", ipaddr_ntop(src, a, sizeof(a)), sport,
		 ipaddr_ntop(dst, b, sizeof(b)), dport);
	return buf;
}

/* "10.0.0.2:7 <- 10.0.0.1:40000": the connection's name in traces (as tcp.c). */
static const char *tcb_str(const struct tcb *tp, char *buf, size_t len)
{
	char l[IPADDR_STRLEN], r[IPADDR_STRLEN];
	snprintf(buf, len, "%s:%u <- %s:%u", ipaddr_ntop(&tp->laddr, l, sizeof(l)), tp->lport,
		 ipaddr_ntop(&tp->raddr, r, sizeof(r)), tp->rport);
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

/* Arms the retransmission timer if it is off (RFC 6298 5.1). */
static void tcp_rexmt_arm(struct tcb *tp)
{
	if (tp->t_rexmt == TCP_NO_TIMER)
		tcp_timer_set(tp, &tp->t_rexmt, tp->s->now + tp->rto);
}

/* ---- the one place segments leave --------------------------------------- */

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
	tcp_set_checksum(src, dst, b, hlen + len);
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
	return ip_output(s, p, src, dst, IP_PROTO_TCP, 0, false);
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
	int r = tcp_tx(tp->s, &tp->laddr, &tp->raddr, &seg, &tp->snd, seq - tcp_data_seq(tp), len,
		       tp);
	if (r == -ENOBUFS)
		return r;
	tp->segs_out++;
	if (flags & TCP_FLAG_ACK)
		tcp_ack_sent(tp, wnd);
	return r;
}

/* Counts a retransmission and stops RTT timing (Karn, RFC 6298 3: no
 * sample from a segment that was sent more than once). */
static void tcp_count_rexmit(struct tcb *tp)
{
	tp->retransmits++;
	stats_inc(&tp->s->stats, "tcp.retransmits");
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
	if (SEQ_LT(seq, tp->snd_max))
		tcp_count_rexmit(tp);
	else if (len && tp->rtt_start == 0)
		tcp_rtt_start(tp, seq);
	tp->snd_nxt = seq + len + (fin ? 1 : 0);
	if (SEQ_GT(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	tcp_rexmt_arm(tp);
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
	if (len == unsent && (tp->snd_nxt == tp->snd_una || tp->nodelay))
		return true;
	return tp->max_sndwnd > 0 && len >= tp->max_sndwnd / 2;
}

/* Bytes the windows let us send past snd_nxt: SND.UNA + min(SND.WND, cwnd)
 * - SND.NXT (RFC 9293 3.8.6, RFC 5681 3), never negative. */
static uint32_t tcp_usable_window(const struct tcb *tp)
{
	uint32_t wnd = min_u32(tp->snd_wnd, tp->cwnd);
	uint32_t flight = tp->snd_nxt - tp->snd_una;
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
	while (tcp_can_send(tp)) {
		uint32_t off = tp->snd_nxt - tcp_data_seq(tp);
		uint32_t unsent = off < tp->snd.len ? (uint32_t)tp->snd.len - off : 0;
		uint32_t len = min_u32(min_u32(unsent, tcp_usable_window(tp)), tcp_seg_size(tp));
		/* the FIN follows the last byte, needs no window (it takes no buffer) */
		bool fin = tp->fin_queued && tcp_fin_state(tp) && off + len == tp->snd.len;
		if (len == 0 && !fin)
			break;
		if (len > 0 && !tcp_send_allowed(tp, len, unsent, fin))
			break;
		r = tcp_send_data(tp, len, fin);
		if (r == -ENOBUFS)
			break;
	}
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
	if (offer || tp->sack_ok)
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
	if (tp->retries > 0)
		tcp_count_rexmit(tp);
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
	tp->sack_ok = o->sack_perm;
	tp->snd_wnd = syn->wnd;
	tp->max_sndwnd = syn->wnd;
}

/* ---- acknowledgments, RTT, retransmission ---------------------------------- */

/* RFC 6298 2.2-2.4: folds one RTT measurement r (microseconds) into
 * SRTT / RTTVAR and recomputes RTO = SRTT + max(G, 4 * RTTVAR), clamped to
 * [rto_min, TCP_RTO_MAX_US] (2.4, 2.5). */
static void tcp_rtt_update(struct tcb *tp, int64_t r)
{
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

/* Contract in tcp.h. The caller checked snd_una < ack <= snd_max. */
void tcp_ack_advance(struct tcb *tp, uint32_t ack, const struct tcp_seg *seg)
{
	uint32_t acked = ack - tp->snd_una;
	bool syn = tcp_syn_unacked(tp);
	uint32_t data = acked - (syn ? 1 : 0);
	if (data > tp->snd.len)
		data = (uint32_t)tp->snd.len; /* the rest is our FIN */
	bool fin_acked = tcp_fin_outstanding(tp) && ack == tp->snd_max;

	ring_drop(&tp->snd, data);
	tp->bytes_acked += data;
	tcp_rtt_sample(tp, ack, seg);
	if (syn && tp->backoff > 0 && tp->rto < TCP_RTO_SYN_LOST_US)
		tp->rto = TCP_RTO_SYN_LOST_US; /* RFC 6298 5.7: the SYN timed out once */
	tp->snd_una = ack;
	if (SEQ_LT(tp->snd_nxt, ack))
		tp->snd_nxt = ack;
	if (tp->in_recovery) {
		tp->in_recovery = false;
		if (tp->cc->on_recovery_exit)
			tp->cc->on_recovery_exit(tp);
	} else if (data > 0 && tp->cc->on_ack) {
		tp->cc->on_ack(tp, data);
	}
	tp->dupacks = 0;
	tp->retries = 0;
	tp->backoff = 0;
	/* RFC 6298 5.2 / 5.3: stop the timer when all is acked, else restart it */
	tcp_timer_set(tp, &tp->t_rexmt, tp->snd_una == tp->snd_max ? TCP_NO_TIMER
				       : tp->s->now + tp->rto);
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
	tcp_count_rexmit(tp);
	uint32_t n = len + (fin ? 1 : 0);
	if (SEQ_LT(tp->snd_nxt, tp->snd_una + n))
		tp->snd_nxt = tp->snd_una + n;
	tcp_rexmt_arm(tp);
	return n;
}

/* Contract in tcp.h. */
void tcp_retransmit(struct tcb *tp)
{
	tcp_resend_oldest(tp);
}

/* Contract in tcp.h. A duplicate only counts while data is outstanding
 * and the window is open (RFC 5681 2: a zero-window probe's answer is not
 * a loss signal). At the third: fast retransmit and recovery (RFC 5681
 * 3.2 steps 2-3); later ones inflate cwnd through the algorithm (step 4). */
void tcp_dupack(struct tcb *tp, const struct tcp_seg *seg)
{
	(void)seg;
	if (tp->snd_wnd == 0 || tp->snd_max == tp->snd_una)
		return;
	tp->dupacks++;
	stats_inc(&tp->s->stats, "tcp.dupacks");
	if (tp->dupacks == 3 && !tp->in_recovery) {
		stats_inc(&tp->s->stats, "tcp.fast_retransmit");
		tp->recover = tp->snd_max;
		if (tp->cc->on_loss)
			tp->cc->on_loss(tp);
		tp->in_recovery = true;
		if (tp->s->trace) {
			char name[128];
			TRACE(tp->s, "tcp %s fast retransmit seq %u (3 duplicate ACKs, cwnd %u "
			      "ssthresh %u)",
			      tcb_str(tp, name, sizeof(name)), tp->snd_una - tp->iss, tp->cwnd,
			      tp->ssthresh);
		}
		tcp_retransmit(tp);
		return;
	}
	if (tp->cc->on_dupack)
		tp->cc->on_dupack(tp);
}

/* TCP input: SEGMENT ARRIVES (RFC 9293 3.10.7), written step by step so it
 * can be read next to the RFC. See tcp.h.
 *
 *   tcp_input             checksum, parse, find the connection, dispatch
 *   tcp_input_closed      3.10.7.1 no connection: answer with a RST
 *   tcp_input_listen      3.10.7.2 LISTEN: a SYN makes a child connection
 *   tcp_input_syn_sent    3.10.7.3 SYN-SENT: our SYN is answered
 *   tcp_input_otherwise   3.10.7.4 every other state, in eight steps:
 *       tcp_check_seq     first, check the sequence number (and PAWS)
 *       tcp_check_rst     second, check the RST bit
 *                         third, check security (nothing to do)
 *       tcp_check_syn     fourth, check the SYN bit
 *       tcp_check_ack     fifth, check the ACK field
 *       tcp_check_urg     sixth, check the URG bit
 *       tcp_segment_text  seventh, process the segment text (the data: tcp_reass.c)
 *       tcp_check_fin     eighth, check the FIN bit
 *
 * Each step returns true to go on to the next one, or false when the
 * segment has been dealt with (dropped with a reason, or it ended the
 * connection). The robustness rules of RFC 5961 (challenge ACKs for RSTs,
 * SYNs and ACKs that are not quite right) and PAWS of RFC 7323 are folded in
 * where the RFCs put them. Sending (ACKs, RSTs, data) is tcp_output.c's. */
#include "tcp/tcp.h"
#include "tcp/tcp_internal.h"
#include "tcp/tcp_trace.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "ip/ipv4.h"
#include "ip/ipv6.h"
#include "stack/pkt.h"
#include "stack/socket.h"
#include "stack/stack.h"

/* RFC 7323 5.5: a TS.Recent older than 24 days is no longer valid. */
#define TCP_PAWS_IDLE_US (24LL * 24 * 3600 * 1000000)
/* The smallest path MTU an ICMP "fragmentation needed" may set (as Linux's
 * min_pmtu: 512 bytes of data + 40 of headers), so a forged ICMP cannot
 * shrink segments to nothing (RFC 5927 7.2). */
#define TCP_MIN_PMTU 552

/* One arriving segment while SEGMENT ARRIVES works on it. */
struct tcp_rx {
	struct stack *s;
	const struct ip_rx *ip;
	struct tcb *tp;          /* its connection; NULL once the connection is gone */
	struct tcp_seg seg;      /* the segment (the seventh step trims it to the window) */
	bool fin_acked;          /* the fifth step saw our FIN acknowledged */
	const char *reason;      /* why the segment was dropped, NULL if it was not */
	char detail[192];        /* the drop's trace text (only when tracing) */
};

/* "10.0.0.2:7 <- 10.0.0.1:40000": the segment's connection, for traces. */
static const char *rx_name(const struct tcp_rx *rx, char *buf, size_t len)
{
	char l[IPADDR_PORT_STRLEN], r[IPADDR_PORT_STRLEN];

	snprintf(buf, len, "%s <- %s", ipaddr_port_str(&rx->ip->dst, rx->seg.dport, l, sizeof(l)),
		 ipaddr_port_str(&rx->ip->src, rx->seg.sport, r, sizeof(r)));
	return buf;
}

/* Marks the segment dropped for reason, with a trace text like "out of
 * window seq 123 (rcv.nxt 456 wnd 0)". tcp_input counts and frees it.
 * Returns false, so a step can end with `return rx_drop(...)`. */
__attribute__((format(printf, 3, 4)))
static bool rx_drop(struct tcp_rx *rx, const char *reason, const char *fmt, ...)
{
	char name[128];
	va_list ap;

	rx->reason = reason;
	if (!rx->s->trace)
		return false;
	int n = snprintf(rx->detail, sizeof(rx->detail), "tcp %s: ",
			 rx_name(rx, name, sizeof(name)));
	if (n < 0 || (size_t)n >= sizeof(rx->detail))
		return false;
	va_start(ap, fmt);
	vsnprintf(rx->detail + n, sizeof(rx->detail) - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

/* The receive window we offered: up to the right edge of our last
 * advertisement, which never moves left (RFC 9293 3.8.6.2.2). */
static uint32_t rcv_window(const struct tcb *tp)
{
	return SEQ_GT(tp->rcv.adv, tp->rcv.nxt) ? tp->rcv.adv - tp->rcv.nxt : 0;
}

/* The window a SYN or SYN-ACK offers: never scaled (RFC 7323 2.2). */
static uint32_t syn_window(const struct tcb *tp)
{
	size_t space = ring_space(&tp->rcvbuf);
	return space < 65535 ? (uint32_t)space : 65535;
}

/* True if the app still has to see bytes or a FIN go out: queued data past
 * snd.nxt, or a FIN asked for and not yet sent. */
static bool tcp_has_unsent(const struct tcb *tp)
{
	uint32_t end = tp->snd.una + (uint32_t)tp->sndbuf.len + (tp->fin_queued ? 1 : 0);
	return SEQ_LT(tp->snd.nxt, end);
}

/* RFC 7323 4.3: remembers the peer's timestamp to echo, from a segment
 * that passed the sequence check and starts at or before what we ack. */
static void tcp_update_ts_recent(struct tcb *tp, const struct tcp_seg *seg)
{
	if (!tp->opt.ts_ok || !seg->opt.ts_ok || (seg->flags & TCP_FLAG_RST))
		return;
	if (SEQ_LEQ(seg->seq, tp->rcv.nxt) && SEQ_GEQ(seg->opt.tsval, tp->opt.ts_recent)) {
		tp->opt.ts_recent = seg->opt.tsval;
		tp->opt.ts_recent_time = tp->s->now;
	}
}

/* Enters TIME-WAIT: the other timers stop, the 2MSL one starts (RFC 9293
 * 3.10.7.4 eighth step). */
static void tcp_enter_time_wait(struct tcb *tp)
{
	tcp_set_state(tp, TCP_TIME_WAIT);
	tcp_timer_set(tp, &tp->timer.rexmt, TCP_NO_TIMER);
	tcp_timer_set(tp, &tp->timer.persist, TCP_NO_TIMER);
	tcp_timer_set(tp, &tp->timer.keep, TCP_NO_TIMER);
	tcp_timer_set(tp, &tp->timer.twomsl, tp->s->now + 2 * tp->s->tcp.msl_us);
}

/* ---- 3.10.7.1: CLOSED ------------------------------------------------- */

/* RFC 9293 3.10.7.1: no connection. Everything is discarded; anything but
 * a RST is answered with a RST the sender will accept (tcp_send_rst_reply
 * forms it). */
static void tcp_input_closed(struct tcp_rx *rx)
{
	if (rx->seg.flags & TCP_FLAG_RST) {
		rx_drop(rx, "tcp.no_connection", "RST for no connection (not answered)");
		return;
	}
	tcp_send_rst_reply(rx->s, rx->ip, &rx->seg);
	rx_drop(rx, "tcp.no_connection", "no connection: RST sent");
}

/* ---- 3.10.7.2: LISTEN ------------------------------------------------- */

static void tcp_input_otherwise(struct tcp_rx *rx);

/* A child of listener lp for the segment's 4-tuple in SYN-RECEIVED, from
 * the peer's SYN syn (or the one a cookie restored), with our ISN iss: it
 * inherits the listener's buffers and options, negotiates syn's, and
 * joins the SYN queue. NULL when no control block is left. */
static struct tcb *tcp_child_new(struct tcp_rx *rx, struct tcb *lp, const struct tcp_seg *syn,
				 uint32_t iss)
{
	struct stack *s = rx->s;
	struct tcb *tp = tcb_new(s);
	if (!tp)
		return NULL;
	tp->laddr = rx->ip->dst;
	tp->raddr = rx->ip->src;
	tp->rport = syn->sport;
	tp->family = lp->family;
	tcb_take_port(tp, lp->lport);
	/* the child inherits the listener's buffer sizes and options */
	ring_set_limit(&tp->rcvbuf, lp->rcvbuf.limit);
	ring_set_limit(&tp->sndbuf, lp->sndbuf.limit);
	tp->nodelay = lp->nodelay;
	tp->keepalive = lp->keepalive;
	if (lp->trace_path)
		tcp_trace_set_file(tp, lp->trace_path); /* TCP_TRACE_FILE (no file: none) */

	tp->iss = iss;
	tp->snd.una = tp->iss;
	tp->snd.nxt = tp->snd.max = tp->iss + 1;
	tp->irs = syn->seq;
	tp->rcv.nxt = syn->seq + 1;
	tcp_negotiate(tp, syn);
	tp->snd.wnd = syn->wnd;             /* RFC 7323 2.2: a SYN's window is not scaled */
	tp->snd.wl1 = syn->seq;
	tp->snd.wl2 = tp->iss;
	if (tp->opt.ts_ok && syn->opt.ts_ok) {
		tp->opt.ts_recent = syn->opt.tsval;
		tp->opt.ts_recent_time = s->now;
	}
	tp->rcv.wnd = syn_window(tp);
	tp->rcv.adv = tp->rcv.nxt + tp->rcv.wnd;

	tp->listener = lp;
	lp->listen.nsyn++;
	tcb_hash(tp);
	tcp_set_state(tp, TCP_SYN_RECEIVED);
	tcp_synq_add(tp);
	stats_inc(&s->stats, "tcp.passive_opens");
	return tp;
}

/* RFC 4987 3.6: the SYN gets a SYN-ACK whose ISN is a cookie, and no state
 * is kept (tcp_syncookie.c). */
static void tcp_listen_syncookie(struct tcp_rx *rx, struct tcb *lp)
{
	struct tcp_opts o;
	uint32_t iss;

	tcp_cookie_make(rx->s, &rx->ip->dst, &rx->ip->src, &rx->seg, lp->rcvbuf.limit, &o, &iss);
	stats_inc(&rx->s->stats, "tcp.syncookies_sent");
	tcp_send_synack_cookie(rx->s, rx->ip, &rx->seg, &o, iss, (uint16_t)syn_window(lp));
	if (rx->s->trace) {
		char name[128];
		TRACE(rx->s, "tcp %s SYN answered with a cookie (SYN queue %u of %u), no state kept",
		      rx_name(rx, name, sizeof(name)), rx->s->tcp.synq_len, rx->s->tcp.syn_backlog);
	}
}

/* RFC 9293 3.10.7.2 third: a SYN for listener lp makes a child connection
 * in SYN-RECEIVED and answers with a SYN-ACK. Data on the SYN is not kept
 * (the peer sends it again after the handshake); no TCP Fast Open. The
 * child waits in the host's SYN queue (RFC 4987 3.4), not in lp's backlog;
 * when that queue is full the SYN gets a cookie (RFC 4987 3.6), or with
 * --syncookies never the oldest half-open child makes room. */
static void tcp_listen_syn(struct tcp_rx *rx, struct tcb *lp)
{
	const struct tcp_seg *seg = &rx->seg;
	struct stack *s = rx->s;
	struct tcp_table *t = &s->tcp;

	/* RFC 9293 3.10.1: at most backlog connections wait for accept();
	 * beyond, the SYN is dropped without reply and the peer retries */
	if (lp->listen.naccept >= lp->listen.backlog) {
		rx_drop(rx, "tcp.listen_overflow", "SYN dropped: accept queue full (%d)",
			lp->listen.naccept);
		return;
	}
	bool full = t->synq_len >= t->syn_backlog;
	if (full)
		stats_inc(&s->stats, "tcp.syn_queue_full");
	if (t->syncookies == TCP_SYNCOOKIES_ALWAYS || (full && t->syncookies == TCP_SYNCOOKIES_AUTO)) {
		tcp_listen_syncookie(rx, lp);
		return;
	}
	if (full)
		tcp_synq_evict_oldest(s);
	struct tcb *tp = tcp_child_new(rx, lp, seg, tcp_isn(s, &rx->ip->dst, lp->lport, &rx->ip->src,
							     seg->sport));
	if (!tp) {
		rx_drop(rx, "tcp.tcb_limit", "SYN dropped: no control block left");
		return;
	}
	if (seg->len)
		stats_inc(&s->stats, "tcp.syn_data_ignored");
	tcp_send_syn(tp);
}

/* RFC 4987 3.6: an ACK for listener lp that may complete a handshake
 * answered with a cookie. Tried only while cookies were sent in the last
 * two periods (as Linux), so a listener that never needed them is not
 * open to cookie guessing. A good cookie makes the child as the SYN queue
 * would have (MSS, and with timestamps window scale and SACK, restored),
 * then the ACK goes through SEGMENT ARRIVES like any in SYN-RECEIVED: it
 * completes the handshake and its data is kept. True if the segment was
 * dealt with; false if it was no cookie (the caller resets). */
static bool tcp_listen_cookie_ack(struct tcp_rx *rx, struct tcb *lp)
{
	struct stack *s = rx->s;
	struct tcp_table *t = &s->tcp;
	struct tcp_seg syn;

	if (t->syncookies == TCP_SYNCOOKIES_NEVER || !t->cookies_sent ||
	    s->now - t->cookie_last_sent >= TCP_COOKIE_MAX_AGE * TCP_COOKIE_PERIOD_US)
		return false;
	if (!tcp_cookie_check(s, &rx->ip->dst, &rx->ip->src, &rx->seg, &syn)) {
		stats_inc(&s->stats, "tcp.syncookies_failed");
		return false;
	}
	if (lp->listen.naccept >= lp->listen.backlog) {
		rx_drop(rx, "tcp.listen_overflow", "cookie ACK dropped: accept queue full (%d)",
			lp->listen.naccept);
		return true;
	}
	struct tcb *tp = tcp_child_new(rx, lp, &syn, rx->seg.ack - 1);
	if (!tp) {
		rx_drop(rx, "tcp.tcb_limit", "cookie ACK dropped: no control block left");
		return true;
	}
	stats_inc(&s->stats, "tcp.syncookies_ok");
	tp->rec.recover = tp->iss; /* RFC 6582 3.2 step 1, as tcp_send_syn sets it */
	/* the echoed timestamp carries the options in its low bits: no RTT
	 * sample from it */
	rx->seg.opt.tsecr = 0;
	rx->tp = tp;
	tcp_input_otherwise(rx);
	if (rx->tp && rx->tp->state == TCP_SYN_RECEIVED) {
		/* the ACK did not complete the handshake (no timestamps where
		 * the cookie says they were agreed): no state stays behind */
		tcb_free(rx->tp);
		rx->tp = NULL;
	}
	return true;
}

/* RFC 9293 3.10.7.2: a segment for a listening connection lp. */
static void tcp_input_listen(struct tcp_rx *rx, struct tcb *lp)
{
	const struct tcp_seg *seg = &rx->seg;

	/* first, check for a RST: there is nothing to reset, ignore it */
	if (seg->flags & TCP_FLAG_RST) {
		rx_drop(rx, "tcp.listen_rst", "RST to a listener ignored");
		return;
	}
	/* second, check for an ACK: nothing was sent yet, any ACK is bad,
	 * unless it returns a SYN cookie (RFC 4987 3.6) */
	if (seg->flags & TCP_FLAG_ACK) {
		if (!(seg->flags & TCP_FLAG_SYN) && tcp_listen_cookie_ack(rx, lp))
			return;
		tcp_send_rst_reply(rx->s, rx->ip, seg);
		rx_drop(rx, "tcp.listen_ack", "ACK to a listener: RST sent");
		return;
	}
	/* third, check for a SYN (a SYN with FIN is nonsense: dropped as Linux does) */
	if ((seg->flags & TCP_FLAG_SYN) && !(seg->flags & TCP_FLAG_FIN)) {
		tcp_listen_syn(rx, lp);
		return;
	}
	/* fourth, other text or control: drop */
	rx_drop(rx, "tcp.listen_no_syn", "segment without SYN to a listener");
}

/* ---- 3.10.7.4 sixth to eighth steps, shared with SYN-SENT -------------- */

/* RFC 9293 3.10.7.4 sixth, check the URG bit. Urgent data is delivered
 * inline as ordinary data and the pointer is not tracked (RFC 6093 asks new
 * applications not to use it). */
static bool tcp_check_urg(struct tcp_rx *rx)
{
	if (rx->seg.flags & TCP_FLAG_URG)
		stats_inc(&rx->s->stats, "tcp.urg_ignored");
	return true;
}

/* Trims the segment to what is new and inside the window we offered (RFC
 * 9293 3.10.7.4: "the idealized segment that begins at RCV.NXT and does not
 * exceed the window"). A FIN past the window is cut off with the data. */
static void tcp_trim_to_window(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;
	struct tcp_seg *seg = &rx->seg;

	if (SEQ_LT(seg->seq, tp->rcv.nxt)) {
		uint32_t old = tp->rcv.nxt - seg->seq;
		size_t d = old < seg->len ? old : seg->len;
		/* RFC 2883 4.1.1: the part seen before goes in a D-SACK */
		tcp_reass_dsack_note(tp, seg->seq, seg->seq + (uint32_t)d);
		seg->data += d;
		seg->len -= d;
		seg->seq = tp->rcv.nxt;
		stats_add(&rx->s->stats, "tcp.rcv_duplicate_bytes", d);
		tp->ack_now = true; /* RFC 5681 4.2: tell a sender that repeats itself at once */
	}
	uint32_t right = tp->rcv.nxt + rcv_window(tp);
	if (SEQ_GT(seg->seq + (uint32_t)seg->len, right)) {
		size_t keep = SEQ_GT(right, seg->seq) ? right - seg->seq : 0;
		stats_add(&rx->s->stats, "tcp.rcv_beyond_window_bytes", seg->len - keep);
		seg->len = keep;
		seg->flags &= (uint8_t)~TCP_FLAG_FIN;
	}
	/* a FIN already seen ends the stream: nothing may follow it */
	if (tp->fin_pending && SEQ_GT(seg->seq + (uint32_t)seg->len, tp->fin_seq)) {
		size_t keep = SEQ_GT(tp->fin_seq, seg->seq) ? tp->fin_seq - seg->seq : 0;
		stats_inc(&rx->s->stats, "tcp.data_after_fin");
		seg->len = keep;
		seg->flags &= (uint8_t)~TCP_FLAG_FIN;
		tp->ack_now = true;
	}
}

/* RFC 9293 3.10.7.4 seventh, process the segment text. In ESTABLISHED,
 * FIN-WAIT-1 and FIN-WAIT-2 the data goes to the receive ring; in the
 * other states the peer's FIN came already and text is ignored.
 * RFC 2525 2.17, as Linux: new data for a connection the app has closed
 * (an orphan in FIN-WAIT-1/2) can never be read, so the connection is
 * reset rather than silently swallowing it. */
static bool tcp_segment_text(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;
	struct tcp_seg *seg = &rx->seg;

	if (!tcp_state_can_recv_data(tp->state)) {
		if (seg->len > 0 && SEQ_GEQ(seg->seq + (uint32_t)seg->len, tp->rcv.nxt))
			stats_inc(&rx->s->stats, "tcp.data_after_fin");
		return true;
	}
	tcp_trim_to_window(rx);
	if (seg->len == 0 && !(seg->flags & TCP_FLAG_FIN))
		return true;
	if (seg->len > 0 && !tp->so && !tp->listener && tp->state != TCP_ESTABLISHED) {
		tcp_send_rst(tp);
		tcp_drop(tp, ECONNRESET);
		rx->tp = NULL;
		return rx_drop(rx, "tcp.data_after_close", "data for a closed socket: RST sent");
	}
	if (tp->rd_shut)
		tcp_data_discard(tp, seg);
	else if (seg->seq == tp->rcv.nxt)
		tcp_data_in_order(tp, seg);
	else
		tcp_data_out_of_order(tp, seg);
	return true;
}

/* RFC 9293 3.10.7.4 eighth, check the FIN bit: once rcv.nxt reaches the
 * peer's FIN it counts one sequence number, is acknowledged at once, and
 * the state moves on. */
static bool tcp_check_fin(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;

	if (!tp->fin_pending || tp->fin_seq != tp->rcv.nxt)
		return true;
	tp->fin_pending = false;
	tp->fin_rcvd = true;
	tp->rcv.nxt++;
	tp->ack_now = true;
	stats_inc(&rx->s->stats, "tcp.rx_fin");
	if (rx->s->trace) {
		char name[128];
		TRACE(rx->s, "tcp %s FIN received: end of the peer's stream at seq %u",
		      tcb_str(tp, name, sizeof(name)), tp->fin_seq - tp->irs);
	}
	switch (tp->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tcp_set_state(tp, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		/* our FIN not acked yet: had it been, the fifth step would
		 * have moved us to FIN-WAIT-2 */
		tcp_set_state(tp, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		tcp_enter_time_wait(tp);
		break;
	default:
		break;
	}
	return true;
}

/* ---- 3.10.7.3: SYN-SENT ----------------------------------------------- */

/* RFC 9293 3.10.7.3 fourth: the peer's SYN, with an acceptable ACK of ours
 * (-> ESTABLISHED) or without (simultaneous open -> SYN-RECEIVED). */
static void tcp_syn_sent_syn(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;
	struct tcp_seg *seg = &rx->seg;

	tp->irs = seg->seq;
	tp->rcv.nxt = seg->seq + 1;
	tcp_negotiate(tp, seg);
	tp->snd.wnd = seg->wnd;             /* RFC 7323 2.2: a SYN's window is not scaled */
	tp->snd.wl1 = seg->seq;
	tp->snd.wl2 = seg->ack;
	if (tp->opt.ts_ok && seg->opt.ts_ok) {
		tp->opt.ts_recent = seg->opt.tsval;
		tp->opt.ts_recent_time = rx->s->now;
	}
	tp->rcv.wnd = syn_window(tp);
	tp->rcv.adv = tp->rcv.nxt + tp->rcv.wnd;

	if (!(seg->flags & TCP_FLAG_ACK)) {
		/* both ends sent a SYN at once: answer <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
		tcp_set_state(tp, TCP_SYN_RECEIVED);
		stats_inc(&rx->s->stats, "tcp.simultaneous_open");
		tcp_send_syn(tp);
		return;
	}
	tcp_ack_advance(tp, seg->ack, seg);  /* our SYN is acknowledged */
	tcp_set_state(tp, TCP_ESTABLISHED);
	if (tp->cc && tp->cc->init)
		tp->cc->init(tp);
	tp->ack_now = true;  /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
	/* data or a FIN on the SYN-ACK: continue at the sixth step, past the SYN */
	seg->seq++;
	seg->flags &= (uint8_t)~TCP_FLAG_SYN;
	if (tcp_check_urg(rx) && tcp_segment_text(rx))
		tcp_check_fin(rx);
}

/* RFC 9293 3.10.7.3: a segment while our SYN waits for an answer. */
static void tcp_input_syn_sent(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;
	const struct tcp_seg *seg = &rx->seg;
	bool ack = seg->flags & TCP_FLAG_ACK;

	/* first, check the ACK bit: it must acknowledge our SYN, nothing less or more */
	if (ack && (SEQ_LEQ(seg->ack, tp->iss) || SEQ_GT(seg->ack, tp->snd.max))) {
		if (!(seg->flags & TCP_FLAG_RST))
			tcp_send_rst_reply(rx->s, rx->ip, seg);
		rx_drop(rx, "tcp.ack_unacceptable", "SYN-SENT: ack %u does not cover our SYN",
			seg->ack - tp->iss);
		return;
	}
	/* second, check the RST bit: RFC 5961 3.2, acceptable only if its ACK
	 * acknowledges our SYN (checked above) */
	if (seg->flags & TCP_FLAG_RST) {
		if (!ack) {
			rx_drop(rx, "tcp.rst_no_ack", "SYN-SENT: RST without ACK ignored");
			return;
		}
		stats_inc(&rx->s->stats, "tcp.rx_rst");
		tcp_drop(tp, ECONNREFUSED);
		rx->tp = NULL;
		return;
	}
	/* third, check the security: nothing to check (no IP security options) */
	/* fourth, check the SYN bit */
	if (seg->flags & TCP_FLAG_SYN) {
		tcp_syn_sent_syn(rx);
		return;
	}
	/* fifth, neither SYN nor RST: drop */
	rx_drop(rx, "tcp.syn_sent_no_syn", "SYN-SENT: segment without SYN");
}

/* ---- 3.10.7.4: the other states ----------------------------------------- */

/* SYN-RECEIVED sees the peer's SYN again (seq = IRS), which the first step
 * would call old: either its SYN-ACK in a simultaneous open (RFC 9293
 * figure 8, line 6: strip the SYN already counted and go on, as Linux
 * does) or the SYN repeated because our SYN-ACK was lost (send it again).
 * Returns false if the segment was dealt with here. */
static bool tcp_syn_received_syn(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;
	struct tcp_seg *seg = &rx->seg;

	if (!(seg->flags & TCP_FLAG_SYN) || (seg->flags & TCP_FLAG_RST) || seg->seq != tp->irs)
		return true;
	if (seg->flags & TCP_FLAG_ACK) {
		if (tp->listener || seg->ack != tp->snd.max)
			return true;
		seg->seq++;
		seg->flags &= (uint8_t)~TCP_FLAG_SYN;
		return true;
	}
	tcp_send_syn(tp);
	return rx_drop(rx, "tcp.syn_repeated", "SYN again in SYN-RECEIVED: SYN-ACK sent again");
}

/* RFC 7323 5.3 R1 (PAWS): a segment whose timestamp is older than the
 * last one recorded is an old duplicate. RSTs are exempt, and a TS.Recent
 * idle for 24 days is no longer valid (RFC 7323 5.5). */
static bool tcp_paws_ok(const struct tcb *tp, const struct tcp_seg *seg, int64_t now)
{
	if (!tp->opt.ts_ok || !seg->opt.ts_ok || (seg->flags & TCP_FLAG_RST))
		return true;
	if (now - tp->opt.ts_recent_time > TCP_PAWS_IDLE_US)
		return true;
	return SEQ_GEQ(seg->opt.tsval, tp->opt.ts_recent);
}

/* RFC 9293 3.10.7.4 first: the acceptability test. The segment must
 * overlap the receive window (seg len 0 / > 0 x window 0 / > 0). */
static bool tcp_seq_acceptable(const struct tcb *tp, const struct tcp_seg *seg)
{
	uint32_t len = tcp_seg_len(seg), wnd = rcv_window(tp);

	if (len == 0 && wnd == 0)
		return seg->seq == tp->rcv.nxt;
	if (len == 0)
		return SEQ_IN(seg->seq, tp->rcv.nxt, tp->rcv.nxt + wnd);
	if (wnd == 0)
		return false;
	return SEQ_IN(seg->seq, tp->rcv.nxt, tp->rcv.nxt + wnd) ||
	       SEQ_IN(seg->seq + len - 1, tp->rcv.nxt, tp->rcv.nxt + wnd);
}

/* RFC 9293 3.10.7.4: first, check the sequence number. An unacceptable
 * segment is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (not a RST)
 * and dropped; so is one PAWS rejects. Special allowance for a zero window
 * (RFC 9293 3.10.7.4): a segment at rcv.nxt still brings its ACK and RST,
 * its data is dropped. In TIME-WAIT the peer's FIN repeated (our last ACK
 * was lost) restarts the 2MSL wait (eighth step, TIME-WAIT). */
static bool tcp_check_seq(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;
	struct tcp_seg *seg = &rx->seg;

	if (!tcp_paws_ok(tp, seg, rx->s->now)) {
		tcp_send_ack_oow(tp, seg);
		return rx_drop(rx, "tcp.paws_rejected", "old timestamp %u (recent %u) seq %u",
			       seg->opt.tsval, tp->opt.ts_recent, seg->seq - tp->irs);
	}
	if (rcv_window(tp) == 0 && seg->seq == tp->rcv.nxt && seg->len > 0) {
		stats_add(&rx->s->stats, "tcp.rcv_zero_window_bytes", seg->len);
		seg->len = 0;
		seg->flags &= (uint8_t)~TCP_FLAG_FIN;
		tp->ack_now = true;
	}
	if (tcp_seq_acceptable(tp, seg)) {
		tcp_update_ts_recent(tp, seg);
		return true;
	}
	if (seg->flags & TCP_FLAG_RST)
		return rx_drop(rx, "tcp.out_of_window",
			       "RST out of window seq %u (rcv_nxt %u wnd %u)", seg->seq - tp->irs,
			       tp->rcv.nxt - tp->irs, rcv_window(tp));
	if (tp->state == TCP_TIME_WAIT && (seg->flags & TCP_FLAG_FIN) &&
	    seg->seq + (uint32_t)seg->len + 1 == tp->rcv.nxt) {
		tcp_timer_set(tp, &tp->timer.twomsl, rx->s->now + 2 * rx->s->tcp.msl_us);
		stats_inc(&rx->s->stats, "tcp.time_wait_fin");
	}
	if (seg->len > 0 && SEQ_LEQ(seg->seq + (uint32_t)seg->len, tp->rcv.nxt)) {
		/* RFC 2883 4.1.1: all of it came before (a needless retransmission) */
		stats_add(&rx->s->stats, "tcp.rcv_duplicate_bytes", seg->len);
		tcp_reass_dsack_note(tp, seg->seq, seg->seq + (uint32_t)seg->len);
	}
	tcp_send_ack_oow(tp, seg);
	return rx_drop(rx, "tcp.out_of_window", "out of window seq %u len %zu (rcv_nxt %u wnd %u)",
		       seg->seq - tp->irs, seg->len, tp->rcv.nxt - tp->irs, rcv_window(tp));
}

/* RFC 9293 3.10.7.4: second, check the RST bit. RFC 5961 3.2: only a RST
 * at exactly rcv.nxt resets; one elsewhere in the window gets a challenge
 * ACK (a real peer answers it with the exact RST). */
static bool tcp_check_rst(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;
	const struct tcp_seg *seg = &rx->seg;

	if (!(seg->flags & TCP_FLAG_RST))
		return true;
	if (seg->seq != tp->rcv.nxt) {
		tcp_send_challenge_ack(tp);
		return rx_drop(rx, "tcp.rst_challenged", "RST in window but seq %u != rcv_nxt %u",
			       seg->seq - tp->irs, tp->rcv.nxt - tp->irs);
	}
	stats_inc(&rx->s->stats, "tcp.rx_rst");
	switch (tp->state) {
	case TCP_SYN_RECEIVED:
		if (tp->listener)
			tcb_free(tp);   /* passive open: back to LISTEN (the listener stays) */
		else
			tcp_drop(tp, ECONNREFUSED);
		break;
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
		tcp_drop(tp, ECONNRESET);
		break;
	default:            /* CLOSING, LAST-ACK, TIME-WAIT: the app is done with it */
		tcp_close_done(tp);
		break;
	}
	rx->tp = NULL;
	return false;
}

/* RFC 9293 3.10.7.4: fourth, check the SYN bit. In SYN-RECEIVED of a
 * passive open the connection goes back to LISTEN (the child is freed). In
 * a synchronized state, RFC 5961 4.2: whatever its sequence number, a SYN
 * gets a challenge ACK and is dropped (a peer that really restarted
 * answers with a RST). */
static bool tcp_check_syn(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;

	if (!(rx->seg.flags & TCP_FLAG_SYN))
		return true;
	if (tp->state == TCP_SYN_RECEIVED && tp->listener) {
		tcb_free(tp);
		rx->tp = NULL;
		return rx_drop(rx, "tcp.syn_in_syn_received", "new SYN: half-open child freed");
	}
	tcp_send_challenge_ack(tp);
	return rx_drop(rx, "tcp.syn_challenged", "SYN in %s", tcp_state_name[tp->state]);
}

/* RFC 9293 3.10.7.4 fifth, SYN-RECEIVED: an ACK of our SYN-ACK completes
 * the handshake (-> ESTABLISHED, into the listener's accept queue); any
 * other ACK is answered with <SEQ=SEG.ACK><CTL=RST>. */
static bool tcp_ack_syn_received(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;
	const struct tcp_seg *seg = &rx->seg;

	if (!SEQ_GT(seg->ack, tp->snd.una) || SEQ_GT(seg->ack, tp->snd.max)) {
		tcp_send_rst_reply(rx->s, rx->ip, seg);
		return rx_drop(rx, "tcp.ack_unacceptable", "SYN-RECEIVED: ack %u is not of our SYN",
			       seg->ack - tp->iss);
	}
	tcp_ack_advance(tp, seg->ack, seg);  /* our SYN is acknowledged */
	tp->snd.wnd = (uint32_t)seg->wnd << tp->opt.snd_wscale;
	tp->snd.wl1 = seg->seq;
	tp->snd.wl2 = seg->ack;
	tcp_set_state(tp, TCP_ESTABLISHED);
	if (tp->listener)
		tcp_accept_enqueue(tp);
	if (tp->cc && tp->cc->init)
		tp->cc->init(tp);
	return true;
}

/* RFC 5681 2: a duplicate ACK acknowledges nothing new while data is
 * outstanding, carries no data, no SYN or FIN, and leaves the window as it
 * was. */
static bool tcp_is_dupack(const struct tcb *tp, const struct tcp_seg *seg)
{
	return tp->snd.max != tp->snd.una && seg->len == 0 &&
	       !(seg->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) && seg->ack == tp->snd.una &&
	       ((uint32_t)seg->wnd << tp->opt.snd_wscale) == tp->snd.wnd;
}

/* RFC 9293 3.10.7.4 fifth, the window update: taken from the newest
 * segment only (snd.wl1 = its seq, snd.wl2 = its ack), so an old reordered
 * segment cannot shrink the window again. */
static void tcp_update_window(struct tcb *tp, const struct tcp_seg *seg)
{
	if (SEQ_LT(tp->snd.wl1, seg->seq) ||
	    (tp->snd.wl1 == seg->seq && SEQ_LEQ(tp->snd.wl2, seg->ack))) {
		tp->snd.wnd = (uint32_t)seg->wnd << tp->opt.snd_wscale;
		tp->snd.wl1 = seg->seq;
		tp->snd.wl2 = seg->ack;
	}
}

/* RFC 9293 3.10.7.4: fifth, check the ACK field. Without ACK the segment
 * is dropped. RFC 5961 5.2: an ACK is acceptable in
 * [SND.UNA - MAX.SND.WND, SND.NXT]; outside, a challenge ACK and the
 * segment is dropped (MAX.SND.WND: the largest window the peer offered).
 * New data acked moves snd.una;
 * the acknowledgment of our FIN moves the closing states on. */
static bool tcp_check_ack(struct tcp_rx *rx)
{
	struct tcb *tp = rx->tp;
	const struct tcp_seg *seg = &rx->seg;

	if (!(seg->flags & TCP_FLAG_ACK))
		return rx_drop(rx, "tcp.no_ack", "segment without ACK in %s",
			       tcp_state_name[tp->state]);
	if (tp->state == TCP_SYN_RECEIVED && !tcp_ack_syn_received(rx))
		return false;
	uint32_t max_wnd = tp->snd.max_wnd > tp->snd.wnd ? tp->snd.max_wnd : tp->snd.wnd;
	if (SEQ_GT(seg->ack, tp->snd.max) || SEQ_LT(seg->ack, tp->snd.una - max_wnd)) {
		tcp_send_challenge_ack(tp);
		return rx_drop(rx, "tcp.ack_unacceptable", "ack %u outside [%u, %u]",
			       seg->ack - tp->iss, tp->snd.una - max_wnd - tp->iss,
			       tp->snd.max - tp->iss);
	}
	/* RFC 1122 4.2.2.17: the peer answers, so zero-window probing may go on */
	tp->timer.persist_probes = 0;
	/* our FIN has the sequence number after the data still queued, which
	 * starts past our SYN while the SYN is unacknowledged (a CLOSE in
	 * SYN-RECEIVED, RFC 9293 3.10.4, moved us to FIN-WAIT-1 with it in
	 * flight): only an ACK beyond the FIN acknowledges it (3.10.7.4
	 * fifth, FIN-WAIT-1), never the ACK of the SYN alone */
	rx->fin_acked = tp->fin_queued &&
			SEQ_GT(seg->ack, tcp_data_seq(tp) + (uint32_t)tp->sndbuf.len);
	/* RFC 6675 2: with SACK, an ACK is a duplicate if it SACKs new data
	 * (even if the window moved). Outside recovery, one whose blocks
	 * SACK nothing new (a D-SACK of a segment that came twice, say) is
	 * not counted toward the third, or the copies of a go-back-N resend
	 * would start a spurious fast retransmit; in recovery it still lets
	 * the sender use the room it has (5 (C)). An ACK with no blocks at
	 * all keeps RFC 5681 2's definition. */
	bool sacked = SEQ_GEQ(seg->ack, tp->snd.una) && tcp_sack_update(tp, seg);
	bool stale_sack = tp->opt.sack_ok && seg->opt.nsack > 0 && !sacked &&
			  !tp->rec.in_recovery && !tp->rec.sack_recovery;
	bool dup = (tcp_is_dupack(tp, seg) && !stale_sack) ||
		   (sacked && seg->ack == tp->snd.una && seg->len == 0 &&
		    !(seg->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)));
	if (SEQ_GEQ(seg->ack, tp->snd.una))
		tcp_update_window(tp, seg);
	if (SEQ_GT(seg->ack, tp->snd.una))
		tcp_ack_advance(tp, seg->ack, seg);
	else if (dup)
		tcp_dupack(tp, seg);
	/* an older ACK (SEG.ACK < SND.UNA) is ignored; the text is still processed */

	switch (tp->state) {
	case TCP_FIN_WAIT_1:
		/* an orphan waits TCP_FIN_WAIT_2_US at most for the peer's FIN
		 * (tcp_ack_advance arms that timer) */
		if (rx->fin_acked)
			tcp_set_state(tp, TCP_FIN_WAIT_2);
		break;
	case TCP_CLOSING:
		if (rx->fin_acked)
			tcp_enter_time_wait(tp);
		break;
	case TCP_LAST_ACK:
		if (rx->fin_acked) {
			tcp_set_state(tp, TCP_CLOSED);
			tcp_close_done(tp);
			rx->tp = NULL;
			return false;
		}
		break;
	default:
		/* TIME-WAIT: only the peer's FIN can come again; the first
		 * step answers it */
		break;
	}
	return true;
}

/* RFC 7323 3.2: once both SYNs carried timestamps, "if a non-<RST> segment
 * is received without a TSopt, a TCP SHOULD silently drop the segment"
 * (and MUST NOT abort the connection for it). Done here: dropped, no ACK,
 * counted (`tcp.ts_missing`). A SYN is exempt as well, so RFC 5961 4.2
 * still answers one from a peer that restarted without timestamps. Linux
 * accepts such segments. */
static bool tcp_check_ts_present(struct tcp_rx *rx)
{
	const struct tcp_seg *seg = &rx->seg;

	if (!rx->tp->opt.ts_ok || seg->opt.ts_ok || (seg->flags & (TCP_FLAG_RST | TCP_FLAG_SYN)))
		return true;
	return rx_drop(rx, "tcp.ts_missing", "no timestamps on a connection that agreed to them "
		       "(seq %u len %zu)", seg->seq - rx->tp->irs, seg->len);
}

/* RFC 9293 3.10.7.4: a segment for a connection in SYN-RECEIVED,
 * ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT, CLOSING, LAST-ACK or TIME-WAIT:
 * the eight steps in order. */
static void tcp_input_otherwise(struct tcp_rx *rx)
{
	if (rx->tp->state == TCP_SYN_RECEIVED && !tcp_syn_received_syn(rx))
		return;
	if (!tcp_check_ts_present(rx))
		return;
	if (!tcp_check_seq(rx))      /* first, check the sequence number */
		return;
	if (!tcp_check_rst(rx))      /* second, check the RST bit */
		return;
	/* third, check security: there is no IP security option to compare */
	if (!tcp_check_syn(rx))      /* fourth, check the SYN bit */
		return;
	if (!tcp_check_ack(rx))      /* fifth, check the ACK field */
		return;
	if (!tcp_check_urg(rx))      /* sixth, check the URG bit */
		return;
	if (!tcp_segment_text(rx))   /* seventh, process the segment text */
		return;
	tcp_check_fin(rx);           /* eighth, check the FIN bit */
}

/* ---- tcp_input ---------------------------------------------------------- */

/* RFC 9293 3.10.7.4 fourth (TIME-WAIT), RFC 1122 4.2.2.13, RFC 6191: a new
 * SYN for a connection in TIME-WAIT may open a new connection if it is
 * newer (timestamp, or else sequence number, past the old connection's).
 * Returns the listener to give the SYN to (the old connection is gone),
 * or NULL. */
static struct tcb *tcp_time_wait_reuse(struct tcp_rx *rx, struct tcb *tp)
{
	const struct tcp_seg *seg = &rx->seg;

	if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) != TCP_FLAG_SYN)
		return NULL;
	bool newer = tp->opt.ts_ok && seg->opt.ts_ok ? SEQ_GT(seg->opt.tsval, tp->opt.ts_recent)
						 : SEQ_GT(seg->seq, tp->rcv.nxt);
	struct tcb *lp = tcp_lookup_listener(rx->s, &rx->ip->dst, seg->dport);
	if (!newer || !lp)
		return NULL;
	stats_inc(&rx->s->stats, "tcp.time_wait_reused");
	tcp_close_done(tp);
	return lp;
}

/* Traces the arriving segment like tshark: relative numbers once the
 * connection knows both initial sequence numbers. */
static void tcp_trace_rx(const struct tcp_rx *rx)
{
	const struct tcb *tp = rx->tp;
	const struct tcp_seg *seg = &rx->seg;
	char l[IPADDR_PORT_STRLEN], r[IPADDR_PORT_STRLEN], fl[32];
	bool rel = tp && tcp_state_synced(tp->state);
	bool ack = seg->flags & TCP_FLAG_ACK;

	TRACE(rx->s, "rx TCP %s -> %s [%s] seq %u ack %u win %u len %zu",
	      ipaddr_port_str(&rx->ip->src, seg->sport, r, sizeof(r)),
	      ipaddr_port_str(&rx->ip->dst, seg->dport, l, sizeof(l)), tcp_flags_str(seg->flags, fl),
	      rel ? seg->seq - tp->irs : seg->seq, !ack ? 0 : rel ? seg->ack - tp->iss : seg->ack,
	      seg->wnd,
	      seg->len);
}

/* Checks what every segment must pass before any connection sees it.
 * Returns NULL or the drop reason. */
static const char *tcp_validate(struct tcp_rx *rx, const struct pkt *p)
{
	/* RFC 1122 4.2.3.10: a SYN to a broadcast or multicast address is
	 * dropped; TCP is unicast, so any segment is, and never answered */
	if (rx->ip->bcast)
		return "tcp.broadcast";
	if (p->len < TCP_HDR_LEN)
		return "tcp.short";
	/* RFC 9293 3.1: verify the checksum, unless the device vouches for it
	 * (PKT_CSUM_OK: from this machine's kernel, where it may be partial) */
	if (!(p->flags & PKT_CSUM_OK) && !tcp_checksum_ok(&rx->ip->src, &rx->ip->dst, p->data, p->len))
		return "tcp.bad_checksum";
	return tcp_parse(p->data, p->len, &rx->seg);
}

/* Handles a segment for this host: checks it, finds its connection and
 * runs SEGMENT ARRIVES; then sends what the segment made due (an ACK, data
 * the window now allows). Consumes p. */
void tcp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *ip)
{
	struct tcp_rx rx = { .s = s, .ip = ip };
	char src[IPADDR_STRLEN];

	(void)ifp;
	stats_inc(&s->stats, "tcp.rx_segments");
	const char *reason = tcp_validate(&rx, p);
	if (reason) {
		stack_drop(s, p, reason, "from %s", ipaddr_ntop(&ip->src, src, sizeof(src)));
		return;
	}
	struct tcb *tp = tcp_lookup(s, &ip->dst, rx.seg.dport, &ip->src, rx.seg.sport);
	if (tp && tp->state == TCP_TIME_WAIT) {
		struct tcb *lp = tcp_time_wait_reuse(&rx, tp);
		if (lp)
			tp = lp;
	}
	if (!tp || tp->state == TCP_CLOSED)
		tp = tcp_lookup_listener(s, &ip->dst, rx.seg.dport);
	rx.tp = tp;
	tcp_trace_rx(&rx);
	if (tp) /* whatever the segment changes (data to read, send space freed
		 * by its ACK, a state, an error), epoll asks the socket again */
		socket_wake(tp->so);

	if (!tp) {
		tcp_input_closed(&rx);
	} else {
		tp->stat.segs_in++;
		if (tp->state == TCP_LISTEN) {
			rx.tp = NULL;
			tcp_input_listen(&rx, tp);
		} else if (tp->state == TCP_SYN_SENT) {
			tcp_input_syn_sent(&rx);
		} else {
			tcp_input_otherwise(&rx);
		}
	}
	/* send the ACK the segment called for, and data the ACK made room for;
	 * in SACK recovery also retransmissions, even with nothing new to send
	 * (RFC 6675 5 (C): on each ACK, while cwnd - pipe >= 1 SMSS) */
	tp = rx.tp;
	if (tp && tp->state != TCP_CLOSED &&
	    (tp->ack_now || tcp_has_unsent(tp) || tp->rec.sack_recovery))
		tcp_output(tp);
	if (tp)
		tcp_mem_sync(tp); /* the receive ring may have grown */
	if (rx.reason)
		stack_drop(s, p, rx.reason, "%s", rx.detail);
	else
		pkt_free(p);
}

/* ---- ICMP errors ---------------------------------------------------------- */

/* An ICMP error about a segment we sent (RFC 1122 4.2.3.9, RFC 5927).
 * The quoted sequence number must be one we have in flight, [snd.una,
 * snd.max), else it is a forgery or stale (RFC 5927 4.1): ignored, and
 * false returned so that ICMP does not lower the path MTU either (RFC
 * 5927 7: the blind performance-degrading attack); true for a valid
 * quote, whatever is done with it. Fragmentation needed lowers snd_mss
 * and resends what is in flight at the new size at once (RFC 1191 6.4; a
 * SYN, or in fast recovery the oldest segment, alone). A hard error
 * (port or protocol unreachable) aborts only a connection still opening
 * (RFC 5927 4.2 treats it as soft once established, as Linux); every
 * other error is soft: counted, nothing else (the connection times out on
 * its own if the path stays broken). */
bool tcp_icmp_error(struct stack *s, const struct ipaddr *local, uint16_t lport,
		    const struct ipaddr *remote, uint16_t rport, uint32_t seq, int err,
		    uint16_t mtu)
{
	struct tcb *tp = tcp_lookup(s, local, lport, remote, rport);

	if (!tp || tp->state == TCP_LISTEN) {
		stats_inc(&s->stats, "tcp.icmp_no_connection");
		return false;
	}
	if (!SEQ_IN(seq, tp->snd.una, tp->snd.max)) {
		stats_inc(&s->stats, "tcp.icmp_out_of_window");
		TRACE(s, "tcp ICMP error ignored: seq %u not in flight [%u, %u)", seq - tp->iss,
		      tp->snd.una - tp->iss, tp->snd.max - tp->iss);
		return false;
	}
	if (err == EMSGSIZE) {
		/* RFC 8201 4: an IPv6 path is never below 1280 bytes */
		bool v6 = remote->family == AF_INET6;
		unsigned floor = v6 ? IPV6_MIN_MTU : TCP_MIN_PMTU;
		unsigned pmtu = mtu < floor ? floor : mtu;
		uint16_t mss = (uint16_t)(pmtu - (v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN) - TCP_HDR_LEN);
		stats_inc(&s->stats, "tcp.icmp_frag_needed");
		if (mtu == 0 || mss >= tp->opt.snd_mss)
			return true;
		TRACE(s, "tcp path MTU %u: snd_mss %u -> %u, resending from seq %u", pmtu,
		      tp->opt.snd_mss, mss, tp->snd.una - tp->iss);
		tp->opt.snd_mss = mss;
		/* RFC 1191 6.4, RFC 8201 5.4: everything in flight was sent too
		 * big and is lost; send it again at once at the new size, as far
		 * as the windows allow (go-back-N, as Linux's
		 * tcp_simple_retransmit). Not a congestion signal: cwnd stays.
		 * A SYN, and data in fast recovery, go again alone. */
		if (tp->rec.in_recovery || !tcp_state_have_established(tp->state)) {
			tcp_retransmit(tp);
			return true;
		}
		tp->snd.nxt = tp->snd.una;
		tcp_output(tp);
		return true;
	}
	if (tp->state == TCP_SYN_SENT && (err == ECONNREFUSED || err == ENOPROTOOPT)) {
		stats_inc(&s->stats, "tcp.icmp_hard");
		tcp_drop(tp, err);
		return true;
	}
	stats_inc(&s->stats, "tcp.icmp_soft");
	return true;
}

/* The SYN queue and SYN cookies (RFC 4987, "TCP SYN Flooding Attacks and
 * Common Mitigations"). See tcp.h.
 *
 * A listener's half-open children (SYN-RECEIVED) wait in one host-wide
 * queue, apart from the accept queues (as Linux's tcp_max_syn_backlog
 * beside the listen backlog), so spoofed SYNs can no longer shut an
 * application's backlog. The queue holds at most --syn-backlog children;
 * when it is full, the SYN gets a cookie (RFC 4987 3.6, --syncookies auto,
 * the default), or with --syncookies never the oldest child is evicted
 * (RFC 4987 3.4) to make room. --syncookies always answers every SYN with
 * a cookie.
 *
 *   tcp_synq_add, tcp_synq_remove, tcp_synq_evict_oldest   the queue
 *   tcp_cookie_make     the cookie ISN (and TSval) of a SYN-ACK
 *   tcp_cookie_check    an ACK that finds no connection: is it a cookie?
 *
 * The cookie, in the way Linux builds it (the layout is ours):
 *
 *   ISN = H0(4-tuple) + SEG.SEQ + (count << 24)
 *         + ((H1(4-tuple, count, SEG.SEQ) + mss_index) mod 2^24)
 *
 * with H0, H1 SipHash-2-4 under a secret key drawn from the host's
 * generator, count the number of 64-second periods since the host started
 * (RFC 4987 3.6: "a slowly incrementing counter"), and mss_index the
 * largest entry of tcp_cookie_mss[] not above the peer's MSS. (H1 also
 * covers the peer's ISN, where Linux's does not, so that an ACK whose
 * sequence number is off by a little cannot pass with another MSS.) The ACK
 * brings ISN + 1 back: subtracting H0 and the peer's ISN gives count in the
 * top 8 bits (accepted if 0 or 1 period old) and, after H1, the index in
 * the low 24 (accepted if below the table's size: a forged ACK passes with
 * probability 4 / 2^24 per try). When the SYN had timestamps, the low 6
 * bits of our TSval carry the peer's window scale (4 bits, 15 for none) and
 * SACK-permitted (1 bit), and come back in the ACK's TSecr. */
#include "tcp/tcp.h"

#include <string.h>

#include "stack/siphash.h"
#include "stack/stack.h"

#define TCP_COOKIE_BITS 24
#define TCP_COOKIE_MASK ((1u << TCP_COOKIE_BITS) - 1)
#define TCP_COOKIE_TS_BITS 6                  /* low bits of our TSval for the options */
#define TCP_COOKIE_TS_MASK ((1u << TCP_COOKIE_TS_BITS) - 1)
#define TCP_COOKIE_NO_WS 0xf                  /* "the peer sent no window scale" */
#define TCP_COOKIE_SACK 0x10

/* The MSS values a cookie can say (RFC 4987 3.6: "a 3-bit encoding of the
 * MSS"; as Linux, 4 values that cover the usual paths). A peer's MSS
 * comes back as the largest one not above it. */
static const uint16_t tcp_cookie_mss[] = { 536, 1220, 1440, 1460 };
#define TCP_COOKIE_NMSS (sizeof(tcp_cookie_mss) / sizeof(tcp_cookie_mss[0]))

/* ---- the SYN queue ------------------------------------------------------ */

void tcp_synq_add(struct tcb *c)
{
	struct tcp_table *t = &c->s->tcp;

	if (c->in_synq)
		return;
	c->synq_next = NULL;
	c->synq_prev = t->synq_tail;
	if (t->synq_tail)
		t->synq_tail->synq_next = c;
	else
		t->synq_head = c;
	t->synq_tail = c;
	c->in_synq = true;
	t->synq_len++;
}

void tcp_synq_remove(struct tcb *tp)
{
	struct tcp_table *t = &tp->s->tcp;

	if (!tp->in_synq)
		return;
	if (tp->synq_prev)
		tp->synq_prev->synq_next = tp->synq_next;
	else
		t->synq_head = tp->synq_next;
	if (tp->synq_next)
		tp->synq_next->synq_prev = tp->synq_prev;
	else
		t->synq_tail = tp->synq_prev;
	tp->synq_prev = tp->synq_next = NULL;
	tp->in_synq = false;
	t->synq_len--;
}

/* RFC 4987 3.4 "Recycling the Oldest Half-Open TCB": the entry that has
 * waited longest is the likeliest to be spoofed (a real peer answers
 * within an RTT). */
bool tcp_synq_evict_oldest(struct stack *s)
{
	struct tcb *old = s->tcp.synq_head;
	char name[128];

	if (!old)
		return false;
	TRACE(s, "tcp %s half-open evicted: SYN queue full (%u)", tcb_str(old, name, sizeof(name)),
	      s->tcp.synq_len);
	stats_inc(&s->stats, "tcp.syn_evicted");
	tcb_free(old);
	return true;
}

/* ---- cookies ------------------------------------------------------------ */

/* SipHash-2-4 under the cookie key of the 4-tuple, then which (0 for H0,
 * 1 for H1), count and the peer's ISN sseq (both 0 for H0). The key is drawn from the host's generator when the first
 * cookie is made, so a host that never needs one draws nothing. */
static uint32_t tcp_cookie_hash(struct stack *s, const struct ipaddr *laddr, uint16_t lport,
				const struct ipaddr *raddr, uint16_t rport, uint32_t count,
				uint8_t which, uint32_t sseq)
{
	uint8_t m[TCP_TUPLE_BYTES + 9];

	tcp_tuple_bytes(m, laddr, lport, raddr, rport);
	m[36] = (uint8_t)(count >> 24);
	m[37] = (uint8_t)(count >> 16);
	m[38] = (uint8_t)(count >> 8);
	m[39] = (uint8_t)count;
	m[40] = (uint8_t)(sseq >> 24);
	m[41] = (uint8_t)(sseq >> 16);
	m[42] = (uint8_t)(sseq >> 8);
	m[43] = (uint8_t)sseq;
	m[44] = which;
	return (uint32_t)siphash24(s->tcp.cookie_key, m, sizeof(m));
}

/* The counter of RFC 4987 3.6: 64-second periods of the host's clock. */
static uint32_t tcp_cookie_count(const struct stack *s)
{
	return (uint32_t)(s->now / TCP_COOKIE_PERIOD_US);
}

/* Our timestamp clock as the connection will run it (tcp_ts_now: ms plus
 * the ISN as offset). */
static uint32_t tcp_cookie_ts_now(const struct stack *s, uint32_t iss)
{
	return (uint32_t)(s->now / 1000) + iss;
}

void tcp_cookie_make(struct stack *s, const struct ipaddr *laddr, const struct ipaddr *raddr,
		     const struct tcp_seg *syn, size_t rcvbuf_limit, struct tcp_opts *o,
		     uint32_t *iss)
{
	struct tcp_table *t = &s->tcp;
	uint16_t peer_mss = syn->opt.mss_ok ? syn->opt.mss : TCP_DEFAULT_MSS;
	uint32_t idx = 0, count = tcp_cookie_count(s);

	if (!t->cookies_sent)
		rng_fill(&s->rng, t->cookie_key, sizeof(t->cookie_key));
	t->cookies_sent = true;
	t->cookie_last_sent = s->now;
	for (uint32_t i = 0; i < TCP_COOKIE_NMSS; i++)
		if (tcp_cookie_mss[i] <= peer_mss)
			idx = i;
	*iss = tcp_cookie_hash(s, laddr, syn->dport, raddr, syn->sport, 0, 0, 0) + syn->seq +
	       (count << TCP_COOKIE_BITS) +
	       ((tcp_cookie_hash(s, laddr, syn->dport, raddr, syn->sport, count, 1, syn->seq) + idx) &
		TCP_COOKIE_MASK);

	memset(o, 0, sizeof(*o));
	o->mss_ok = true;
	o->mss = tcp_mss_for(s, raddr);
	/* RFC 4987 3.6: without timestamps there is nowhere to keep the
	 * window scale and SACK-permitted, so neither is offered */
	if (!syn->opt.ts_ok)
		return;
	uint32_t bits = TCP_COOKIE_NO_WS;
	if (syn->opt.ws_ok) {
		bits = syn->opt.ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : syn->opt.ws;
		o->ws_ok = true;
		o->ws = tcp_wscale_for(rcvbuf_limit);
	}
	if (syn->opt.sack_perm && !t->no_sack) {
		bits |= TCP_COOKIE_SACK;
		o->sack_perm = true;
	}
	/* the clock's low bits give way to the options, never ahead of it */
	uint32_t now = tcp_cookie_ts_now(s, *iss);
	uint32_t ts = (now & ~TCP_COOKIE_TS_MASK) | bits;
	if (SEQ_GT(ts, now))
		ts -= TCP_COOKIE_TS_MASK + 1;
	o->ts_ok = true;
	o->tsval = ts;
	o->tsecr = syn->opt.tsval;
}

bool tcp_cookie_check(struct stack *s, const struct ipaddr *laddr, const struct ipaddr *raddr,
		      const struct tcp_seg *ack, struct tcp_seg *syn)
{
	uint32_t iss = ack->ack - 1, irs = ack->seq - 1, count = tcp_cookie_count(s);
	uint32_t c = iss - tcp_cookie_hash(s, laddr, ack->dport, raddr, ack->sport, 0, 0, 0) - irs;
	uint32_t age = (count - (c >> TCP_COOKIE_BITS)) & 0xffu; /* the top 8 bits */

	if (!s->tcp.cookies_sent || age >= TCP_COOKIE_MAX_AGE)
		return false;
	uint32_t idx = (c - tcp_cookie_hash(s, laddr, ack->dport, raddr, ack->sport, count - age, 1, irs)) &
		       TCP_COOKIE_MASK;
	if (idx >= TCP_COOKIE_NMSS)
		return false;

	memset(syn, 0, sizeof(*syn));
	syn->sport = ack->sport;
	syn->dport = ack->dport;
	syn->seq = irs;
	syn->flags = TCP_FLAG_SYN;
	syn->wnd = ack->wnd;
	syn->opt.mss_ok = true;
	syn->opt.mss = tcp_cookie_mss[idx];
	/* the options come back only with the timestamp we sent echoed, and
	 * that timestamp cannot be from the future */
	if (!ack->opt.ts_ok || ack->opt.tsecr == 0 ||
	    SEQ_GT(ack->opt.tsecr, tcp_cookie_ts_now(s, iss)))
		return true;
	uint32_t bits = ack->opt.tsecr & TCP_COOKIE_TS_MASK, ws = bits & TCP_COOKIE_NO_WS;
	if (ws != TCP_COOKIE_NO_WS && ws > TCP_MAX_WSCALE)
		return false;
	syn->opt.ts_ok = true;
	syn->opt.tsval = ack->opt.tsval;
	syn->opt.ws_ok = ws != TCP_COOKIE_NO_WS;
	syn->opt.ws = syn->opt.ws_ok ? (uint8_t)ws : 0;
	syn->opt.sack_perm = (bits & TCP_COOKIE_SACK) != 0;
	return true;
}

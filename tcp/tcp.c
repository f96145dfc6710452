/* TCP control blocks: creation, the connection table, initial sequence
 * numbers, state changes, and the `ss`-like dump. See tcp.h. */
#include "tcp/tcp.h"
#include "tcp/tcp_trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stack/siphash.h"
#include "stack/socket.h"
#include "stack/stack.h"

const char *const tcp_state_name[TCP_NSTATES] = {
	[TCP_CLOSED] = "CLOSED",
	[TCP_LISTEN] = "LISTEN",
	[TCP_SYN_SENT] = "SYN-SENT",
	[TCP_SYN_RECEIVED] = "SYN-RECEIVED",
	[TCP_ESTABLISHED] = "ESTABLISHED",
	[TCP_FIN_WAIT_1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT_2] = "FIN-WAIT-2",
	[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_CLOSING] = "CLOSING",
	[TCP_LAST_ACK] = "LAST-ACK",
	[TCP_TIME_WAIT] = "TIME-WAIT",
};

static void tw_unlink(struct tcb *tp);
static void orphan_end(struct tcb *tp);

void tcp_init(struct stack *s)
{
	struct tcp_table *t = &s->tcp;
	memset(t, 0, sizeof(*t));
	rng_fill(&s->rng, t->isn_key, sizeof(t->isn_key));
	t->msl_us = TCP_MSL_US;
	t->rto_min_us = TCP_RTO_MIN_US;
	t->syn_backlog = TCP_SYN_BACKLOG;
	t->challenge_acks = TCP_CHALLENGE_ACK_LIMIT;
	t->challenge_second = -1; /* no ceiling drawn yet */
	t->syncookies = TCP_SYNCOOKIES_AUTO;
	t->cc_default = &tcp_cc_cubic; /* issue 5: CUBIC (RFC 9438) by default, as Linux */
	t->max_tw = TCP_MAX_TW_DEFAULT;
	t->max_tcbs = TCP_MAX_CONNECTIONS;
	t->max_orphans = TCP_MAX_ORPHANS_DEFAULT;
	t->mem_low = TCP_MEM_LOW_DEFAULT;
	t->mem_high = TCP_MEM_HIGH_DEFAULT;
}

void tcp_fini(struct stack *s)
{
	struct tcp_table *t = &s->tcp;
	for (int i = 0; i < TCP_HASH_SIZE; i++)
		while (t->hash[i])
			tcb_free(t->hash[i]);
	while (t->listeners)
		tcb_free(t->listeners);
	/* control blocks that are in no table (CLOSED, held by a socket) are
	 * freed with their sockets (net_close_all) */
	free(t->heap);
	t->heap = NULL;
	t->heap_len = t->heap_cap = 0;
}

struct tcb *tcb_new(struct stack *s)
{
	/* a full table makes room from TIME-WAIT before it refuses: clients
	 * closing first from many addresses must not lock new ones out
	 * (issue 20; RFC 6191 / RFC 1337 in tcp_tw_recycle_oldest) */
	while (s->tcp.count >= s->tcp.max_tcbs && tcp_tw_recycle_oldest(s))
		;
	if (s->tcp.count >= s->tcp.max_tcbs) {
		stats_inc(&s->stats, "tcp.table_full");
		return NULL;
	}
	struct tcb *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return NULL;
	tp->s = s;
	tp->state = TCP_CLOSED;
	tp->family = AF_INET;
	ring_init(&tp->sndbuf, TCP_DEFAULT_SNDBUF);
	ring_init(&tp->rcvbuf, TCP_DEFAULT_RCVBUF);
	tp->opt.snd_mss = TCP_DEFAULT_MSS;
	tp->opt.rcv_mss = TCP_DEFAULT_MSS;
	tp->rtt.rto = TCP_RTO_INITIAL_US;
	tp->cc = s->tcp.cc_default;
	tp->ssthresh = UINT32_MAX; /* RFC 5681 3.1: "arbitrarily high" at first */
	tp->timer.rexmt = tp->timer.persist = tp->timer.delack = tp->timer.keep = tp->timer.twomsl = TCP_NO_TIMER;
	tp->timer.when = TCP_NO_TIMER;
	tp->timer.heap_idx = -1;
	s->tcp.count++;
	stats_inc(&s->stats, "tcp.tcb_created");
	return tp;
}

/* Bucket of a 4-tuple: a keyed mix, so a peer cannot aim its connections
 * at one bucket (the key is the ISN secret). */
static unsigned tcp_bucket(const struct tcp_table *t, const struct ipaddr *laddr, uint16_t lport,
			   const struct ipaddr *raddr, uint16_t rport)
{
	uint64_t k;
	memcpy(&k, t->isn_key, 8);
	uint64_t h = k ^ ((uint64_t)lport << 16 | rport);
	for (int i = 0; i < 16; i += 4) {
		uint32_t a, b;
		memcpy(&a, laddr->a + i, 4);
		memcpy(&b, raddr->a + i, 4);
		h ^= (uint64_t)a << 32 | b;
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return (unsigned)(h % TCP_HASH_SIZE);
}

void tcb_take_port(struct tcb *tp, uint16_t lport)
{
	if (tp->port_held) {
		tp->s->tcp.port_refs[tp->lport]--;
		if (tp->family == AF_INET6)
			tp->s->tcp.port_refs6[tp->lport]--;
	}
	tp->lport = lport;
	tp->s->tcp.port_refs[lport]++;
	if (tp->family == AF_INET6)
		tp->s->tcp.port_refs6[lport]++;
	tp->port_held = true;
}

bool tcp_port_in_use(struct stack *s, uint16_t lport)
{
	return s->tcp.port_refs[lport] != 0;
}

bool tcp_port_in_use_family(struct stack *s, uint16_t lport, int family)
{
	uint16_t v6 = s->tcp.port_refs6[lport];
	return family == AF_INET6 ? v6 != 0 : s->tcp.port_refs[lport] != v6;
}

/* Links tp into its chain; *head is the bucket or the listener list. */
static void chain_add(struct tcb **head, struct tcb *tp)
{
	tp->hash_next = *head;
	*head = tp;
}

/* Unlinks tp from its chain; returns true if it was there. */
static bool chain_del(struct tcb **head, struct tcb *tp)
{
	for (struct tcb **pp = head; *pp; pp = &(*pp)->hash_next) {
		if (*pp == tp) {
			*pp = tp->hash_next;
			tp->hash_next = NULL;
			return true;
		}
	}
	return false;
}

/* The chain tp belongs in. */
static struct tcb **tcb_chain(struct tcb *tp)
{
	struct tcp_table *t = &tp->s->tcp;
	if (tp->state == TCP_LISTEN)
		return &t->listeners;
	return &t->hash[tcp_bucket(t, &tp->laddr, tp->lport, &tp->raddr, tp->rport)];
}

void tcb_hash(struct tcb *tp)
{
	chain_add(tcb_chain(tp), tp);
}

/* Takes tp out of whichever table holds it. */
static void tcb_unhash(struct tcb *tp)
{
	struct tcp_table *t = &tp->s->tcp;
	if (!chain_del(&t->listeners, tp))
		chain_del(&t->hash[tcp_bucket(t, &tp->laddr, tp->lport, &tp->raddr, tp->rport)], tp);
}

/* Removes child from its listener's accept queue, if it is on it. */
static void accept_unlink(struct tcb *lp, struct tcb *child)
{
	struct tcb *prev = NULL;
	for (struct tcb *c = lp->listen.accept_head; c; prev = c, c = c->listen.accept_next) {
		if (c != child)
			continue;
		if (prev)
			prev->listen.accept_next = c->listen.accept_next;
		else
			lp->listen.accept_head = c->listen.accept_next;
		if (lp->listen.accept_tail == c)
			lp->listen.accept_tail = prev;
		lp->listen.naccept--;
		c->listen.accept_next = NULL;
		return;
	}
}

void tcb_free(struct tcb *tp)
{
	struct stack *s = tp->s;
	tcb_unhash(tp);
	tcp_timer_remove(tp);
	tcp_synq_remove(tp);
	if (tp->listener) {
		if (tp->state == TCP_SYN_RECEIVED)
			tp->listener->listen.nsyn--;
		else
			accept_unlink(tp->listener, tp);
	}
	/* a listener's children that were never accepted go with it */
	if (tp->state == TCP_LISTEN) {
		while (tp->listen.accept_head) {
			struct tcb *c = tp->listen.accept_head;
			tp->listen.accept_head = c->listen.accept_next;
			c->listener = NULL;
			c->listen.accept_next = NULL;
			tcp_send_rst(c);
			tcb_free(c);
		}
		for (int i = 0; i < TCP_HASH_SIZE && tp->listen.nsyn > 0; i++) {
			for (struct tcb *c = s->tcp.hash[i], *next; c; c = next) {
				next = c->hash_next;
				if (c->listener == tp) {
					c->listener = NULL;
					tp->listen.nsyn--;
					tcb_free(c);
				}
			}
		}
	}
	if (tp->port_held) {
		s->tcp.port_refs[tp->lport]--;
		if (tp->family == AF_INET6)
			s->tcp.port_refs6[tp->lport]--;
	}
	ring_free(&tp->sndbuf);
	ring_free(&tp->rcvbuf);
	s->tcp.mem_bytes -= tp->mem_charged;
	tcp_trace_close(tp);
	if (tp->so)
		tp->so->proto = NULL;
	socket_wake(tp->so); /* a socket without its connection polls POLLHUP */
	s->tcp.count--;
	if (tp->state == TCP_TIME_WAIT)
		tw_unlink(tp);
	orphan_end(tp);
	stats_inc(&s->stats, "tcp.tcb_freed");
	free(tp);
}

/* ---- resource governance (issue 20) ------------------------------------ */

/* Puts tp, entering TIME-WAIT, at the tail of the host's TIME-WAIT list. */
static void tw_link(struct tcb *tp)
{
	struct tcp_table *t = &tp->s->tcp;
	tp->tw_next = NULL;
	tp->tw_prev = t->tw_tail;
	if (t->tw_tail)
		t->tw_tail->tw_next = tp;
	else
		t->tw_head = tp;
	t->tw_tail = tp;
	t->time_wait++;
}

/* Takes tp, leaving TIME-WAIT, off the list. */
static void tw_unlink(struct tcb *tp)
{
	struct tcp_table *t = &tp->s->tcp;
	if (tp->tw_prev)
		tp->tw_prev->tw_next = tp->tw_next;
	else
		t->tw_head = tp->tw_next;
	if (tp->tw_next)
		tp->tw_next->tw_prev = tp->tw_prev;
	else
		t->tw_tail = tp->tw_prev;
	tp->tw_prev = tp->tw_next = NULL;
	t->time_wait--;
}

/* An orphan stops being one (it is freed or enters TIME-WAIT, which has
 * its own limit, as Linux counts them apart). */
static void orphan_end(struct tcb *tp)
{
	if (tp->orphan) {
		tp->orphan = false;
		tp->s->tcp.orphans--;
	}
}

/* RFC 9293 3.4.2 keeps a closed connection in TIME-WAIT for 2 MSL so that
 * old duplicates die and the last ACK can be sent again; RFC 1337 shows
 * what is lost when it ends early (an old segment accepted by a new
 * incarnation, a reopened connection desynchronized). Ending the oldest
 * entry early is the least harm once the table is full: it is the one
 * closest to its natural end, and a new incarnation of its 4-tuple is
 * still guarded by RFC 6528's ISNs and, with timestamps, by PAWS and RFC
 * 6191's check (tcp_input.c:tcp_time_wait_reuse). As lwIP's oldest
 * TIME-WAIT PCB and Linux's tcp_max_tw_buckets (which closes the new one
 * at once instead). */
bool tcp_tw_recycle_oldest(struct stack *s)
{
	struct tcb *tp = s->tcp.tw_head;
	if (!tp)
		return false;
	stats_inc(&s->stats, "tcp.tw_recycled");
	tcp_close_done(tp);
	return true;
}

bool tcp_orphan_add(struct tcb *tp)
{
	struct tcp_table *t = &tp->s->tcp;
	if (t->orphans >= t->max_orphans)
		return false;
	tp->orphan = true;
	t->orphans++;
	return true;
}

enum tcp_mem_state tcp_mem_state(const struct stack *s)
{
	const struct tcp_table *t = &s->tcp;
	return t->mem_bytes > t->mem_high ? TCP_MEM_HARD
	     : t->mem_bytes > t->mem_low ? TCP_MEM_PRESSURE : TCP_MEM_OK;
}

void tcp_mem_sync(struct tcb *tp)
{
	struct stack *s = tp->s;
	struct tcp_table *t = &s->tcp;
	enum tcp_mem_state before = tcp_mem_state(s);
	if (before != TCP_MEM_OK) {
		/* under pressure an empty ring gives its memory back at once
		 * (as Linux's sk_mem_reclaim); it takes RING_MIN_CAP again at
		 * its next byte */
		if (tp->sndbuf.len == 0 && tp->sndbuf.cap > 0)
			ring_free(&tp->sndbuf);
		if (tp->rcvbuf.len == 0 && tp->nooo == 0 && tp->rcvbuf.cap > 0)
			ring_free(&tp->rcvbuf);
	}
	size_t now = tp->sndbuf.cap + tp->rcvbuf.cap;
	t->mem_bytes = t->mem_bytes - tp->mem_charged + now;
	tp->mem_charged = now;
	enum tcp_mem_state after = tcp_mem_state(s);
	if (after > before)
		stats_inc(&s->stats, after == TCP_MEM_HARD ? "tcp.mem_hard_entered"
							   : "tcp.mem_pressure_entered");
}

void tcp_mem_release(struct tcb *tp)
{
	if (tp->sndbuf.len == 0)
		ring_free(&tp->sndbuf);
	bool orphan = !tp->so && !tp->listener;
	if (orphan || (tp->rcvbuf.len == 0 && tp->nooo == 0)) {
		ring_free(&tp->rcvbuf);
		tp->nooo = 0;
	}
	tcp_mem_sync(tp);
}

/* True if ring r growing to hold need bytes would take the host's TCP
 * memory over its hard limit. */
static bool ring_growth_over(const struct tcb *tp, const struct ring *r, size_t need)
{
	if (need <= r->cap)
		return false; /* no growth: the memory is held already */
	/* what the ring would take (it doubles from RING_MIN_CAP, ring.h) */
	size_t cap = r->cap ? r->cap : RING_MIN_CAP;
	while (cap < need)
		cap *= 2;
	const struct tcp_table *t = &tp->s->tcp;
	return t->mem_bytes + (cap - r->cap) > t->mem_high;
}

/* The bytes past off that r may hold without growing, at least what
 * RING_MIN_CAP allows (every ring may have that much). */
static size_t ring_room_held(const struct ring *r, size_t off)
{
	size_t have = r->cap > RING_MIN_CAP ? r->cap : RING_MIN_CAP;
	return have > off ? have - off : 0;
}

size_t tcp_mem_snd_room(const struct tcb *tp, size_t len)
{
	const struct ring *r = &tp->sndbuf;
	size_t space = ring_space(r);
	if (len > space)
		len = space;
	if (!ring_growth_over(tp, r, r->len + len))
		return len;
	size_t room = ring_room_held(r, r->len);
	return room < len ? room : len;
}

size_t tcp_mem_rcv_room(const struct tcb *tp, size_t off, size_t len, bool in_order,
			const char **why)
{
	const struct ring *r = &tp->rcvbuf;
	size_t need = off + len;
	if (need <= r->cap)
		return len; /* no growth: the memory is held already */
	bool hard = ring_growth_over(tp, r, need);
	if (!in_order) {
		size_t held = r->len + len;
		for (int i = 0; i < tp->nooo; i++)
			held += tp->ooo[i].end - tp->ooo[i].start;
		if (hard)
			*why = "tcp.mem_ooo_dropped";
		else if (need > 2 * held + TCP_OOO_SLACK)
			*why = "tcp.ooo_sparse_dropped";
		else
			return len;
		return 0;
	}
	if (!hard)
		return len;
	*why = "tcp.mem_rcv_dropped_bytes";
	size_t room = ring_room_held(r, off);
	return room < len ? room : len;
}

/* Contract in tcp.h. */
const char *tcb_str(const struct tcb *tp, char *buf, size_t len)
{
	char l[IPADDR_STRLEN] = "*", r[IPADDR_STRLEN] = "*";
	if (tp->laddr.family)
		ipaddr_ntop(&tp->laddr, l, sizeof(l));
	if (tp->state == TCP_LISTEN || tp->raddr.family == 0) {
		/* a listener has no peer */
		if (tp->family == AF_INET6)
			snprintf(buf, len, "[%s]:%u", tp->laddr.family ? l : "::", tp->lport);
		else
			snprintf(buf, len, "%s:%u", l, tp->lport);
		return buf;
	}
	ipaddr_ntop(&tp->raddr, r, sizeof(r));
	bool v6 = tp->raddr.family == AF_INET6;
	snprintf(buf, len, "%s%s%s:%u <- %s%s%s:%u", v6 ? "[" : "", l, v6 ? "]" : "", tp->lport,
		 v6 ? "[" : "", r, v6 ? "]" : "", tp->rport);
	return buf;
}

void tcp_set_state(struct tcb *tp, enum tcp_state st)
{
	char name[128];
	if (tp->state == st)
		return;
	TRACE(tp->s, "tcp %s %s -> %s", tcb_str(tp, name, sizeof(name)), tcp_state_name[tp->state],
	      tcp_state_name[st]);
	if (st == TCP_ESTABLISHED)
		stats_inc(&tp->s->stats, "tcp.established");
	if (tp->state == TCP_SYN_RECEIVED)
		tcp_synq_remove(tp); /* half-open no more */
	if (tp->state == TCP_TIME_WAIT)
		tw_unlink(tp);
	if (st == TCP_TIME_WAIT) {
		/* at the TIME-WAIT limit the oldest entry makes room */
		if (tp->s->tcp.time_wait >= tp->s->tcp.max_tw)
			tcp_tw_recycle_oldest(tp->s);
		tw_link(tp);
		orphan_end(tp);
	}
	tp->state = st;
	/* all we sent is acknowledged: the rings go (a TIME-WAIT entry holds
	 * no buffer, nor an orphan that waits for the peer's FIN) */
	if (st == TCP_FIN_WAIT_2 || st == TCP_TIME_WAIT)
		tcp_mem_release(tp);
	socket_wake(tp->so); /* established, closing, closed: poll answers differ */
	tcp_trace(tp, "state");
}

struct tcb *tcp_lookup(struct stack *s, const struct ipaddr *laddr, uint16_t lport,
		       const struct ipaddr *raddr, uint16_t rport)
{
	struct tcp_table *t = &s->tcp;
	for (struct tcb *tp = t->hash[tcp_bucket(t, laddr, lport, raddr, rport)]; tp; tp = tp->hash_next)
		if (tp->lport == lport && tp->rport == rport && ipaddr_eq(&tp->laddr, laddr) &&
		    ipaddr_eq(&tp->raddr, raddr))
			return tp;
	return NULL;
}

struct tcb *tcp_lookup_listener(struct stack *s, const struct ipaddr *laddr, uint16_t lport)
{
	struct tcb *any = NULL;
	for (struct tcb *tp = s->tcp.listeners; tp; tp = tp->hash_next) {
		if (tp->lport != lport || tp->family != laddr->family)
			continue; /* IPV6_V6ONLY: a listener takes its own family only */
		if (tp->laddr.family == 0)
			any = tp;
		else if (ipaddr_eq(&tp->laddr, laddr))
			return tp;
	}
	return any;
}

void tcp_accept_enqueue(struct tcb *child)
{
	struct tcb *lp = child->listener;
	if (!lp)
		return;
	lp->listen.nsyn--;
	child->listen.accept_next = NULL;
	if (lp->listen.accept_tail)
		lp->listen.accept_tail->listen.accept_next = child;
	else
		lp->listen.accept_head = child;
	lp->listen.accept_tail = child;
	lp->listen.naccept++;
	socket_wake(lp->so); /* the listener is readable: a connection to accept */
}

struct tcb *tcp_accept_dequeue(struct tcb *lp)
{
	struct tcb *c = lp->listen.accept_head;
	if (!c)
		return NULL;
	lp->listen.accept_head = c->listen.accept_next;
	if (!lp->listen.accept_head)
		lp->listen.accept_tail = NULL;
	lp->listen.naccept--;
	c->listen.accept_next = NULL;
	c->listener = NULL;
	return c;
}

/* Writes the 4-tuple as the bytes a keyed hash takes (the ISN's F, the SYN
 * cookie's): local address (16 bytes, an IPv4 one as it is held), local
 * port, remote address, remote port, ports in network order. */
void tcp_tuple_bytes(uint8_t m[TCP_TUPLE_BYTES], const struct ipaddr *laddr, uint16_t lport,
		     const struct ipaddr *raddr, uint16_t rport)
{
	memcpy(m, laddr->a, 16);
	m[16] = (uint8_t)(lport >> 8);
	m[17] = (uint8_t)lport;
	memcpy(m + 18, raddr->a, 16);
	m[34] = (uint8_t)(rport >> 8);
	m[35] = (uint8_t)rport;
}

/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a timer ticking every 4 microseconds. */
uint32_t tcp_isn(struct stack *s, const struct ipaddr *laddr, uint16_t lport,
		 const struct ipaddr *raddr, uint16_t rport)
{
	uint8_t m[TCP_TUPLE_BYTES];
	tcp_tuple_bytes(m, laddr, lport, raddr, rport);
	uint32_t f = (uint32_t)siphash24(s->tcp.isn_key, m, sizeof(m));
	return (uint32_t)(s->now / 4) + f;
}

void tcp_drop(struct tcb *tp, int err)
{
	char name[128];
	TRACE(tp->s, "tcp %s dropped: %s", tcb_str(tp, name, sizeof(name)), strerror(err));
	stats_inc(&tp->s->stats, err == ETIMEDOUT ? "tcp.drop_timeout" : err == ECONNREFUSED
			   ? "tcp.drop_refused" : "tcp.drop_reset");
	if (!tp->so) {
		tcb_free(tp);
		return;
	}
	tp->so->error = err;
	socket_wake(tp->so); /* POLLERR */
	tcb_unhash(tp);
	tcp_timer_remove(tp);
	if (tp->state == TCP_TIME_WAIT)
		tw_unlink(tp);
	tp->state = TCP_CLOSED;
	ring_drop(&tp->sndbuf, tp->sndbuf.len);
	tp->nooo = 0;
	tcp_mem_release(tp); /* the unread data stays for the app */
}

void tcp_close_done(struct tcb *tp)
{
	if (!tp->so) {
		tcb_free(tp);
		return;
	}
	tcp_set_state(tp, TCP_CLOSED);
	tcb_unhash(tp);
	tcp_timer_remove(tp);
}

void tcp_dump(struct stack *s, FILE *out)
{
	char l[IPADDR_STRLEN + 8], r[IPADDR_STRLEN + 8], a[IPADDR_STRLEN];
	struct tcp_table *t = &s->tcp;
	fprintf(out, "%-12s %7s %7s %-21s %-21s details\n", "State", "Recv-Q", "Send-Q",
		"Local", "Peer");
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < (pass ? TCP_HASH_SIZE : 1); i++) {
			for (struct tcb *tp = pass ? t->hash[i] : t->listeners; tp; tp = tp->hash_next) {
				bool v6 = tp->family == AF_INET6;
				snprintf(l, sizeof(l), v6 ? "[%s]:%u" : "%s:%u", tp->laddr.family ?
					 ipaddr_ntop(&tp->laddr, a, sizeof(a)) : v6 ? "::" : "*", tp->lport);
				if (!tp->raddr.family) /* a listener: any peer, as ss shows it */
					snprintf(r, sizeof(r), v6 ? "[::]:*" : "*:*");
				else
					snprintf(r, sizeof(r), v6 ? "[%s]:%u" : "%s:%u",
						 ipaddr_ntop(&tp->raddr, a, sizeof(a)), tp->rport);
				fprintf(out, "%-12s %7zu %7zu %-21s %-21s", tcp_state_name[tp->state],
					tp->state == TCP_LISTEN ? (size_t)tp->listen.naccept : tp->rcvbuf.len,
					tp->state == TCP_LISTEN ? (size_t)tp->listen.backlog : tp->sndbuf.len, l, r);
				if (tp->state != TCP_LISTEN)
					fprintf(out, " snd_una %u snd_nxt %u rcv_nxt %u snd_wnd %u rcv_wnd %u"
						" mss %u rtt %.1f/%.1f ms rto %.0f ms retrans %" PRIu64
						" cwnd %u ssthresh %u%s",
						tp->snd.una - tp->iss, tp->snd.nxt - tp->iss,
						tp->rcv.nxt - tp->irs, tp->snd.wnd, tp->rcv.wnd, tp->opt.snd_mss,
						tp->rtt.srtt / 1000.0, tp->rtt.rttvar / 1000.0, tp->rtt.rto / 1000.0,
						tp->stat.retransmits, tp->cwnd,
						tp->ssthresh == UINT32_MAX ? 0 : tp->ssthresh,
						tp->so ? "" : " orphan");
				fputc('\n', out);
			}
		}
	}
}

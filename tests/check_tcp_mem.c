/* Resource governance for TCP (issue 20), driven segment by segment on
 * virtual time: a connection in TIME-WAIT holds no buffer; the TIME-WAIT
 * limit and a full connection table recycle the oldest TIME-WAIT entry;
 * orphans over their limit are reset; the host-wide memory budget shrinks
 * the windows offered, keeps the rings under the hard limit and lets data
 * flow again once the apps read; out-of-order data far past what a ring
 * holds does not make it grow. Each test checks what a user sees:
 * segments on the wire, counters, `tapctl memory` lines. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/host.h"
#include "stack/net.h"
#include "stack/socket.h"
#include "stack/stack.h"
#include "tests/tcp_harness.h"

/* SEG(...) gives defaults (ports, window) that a test overrides on purpose */
#pragma GCC diagnostic ignored "-Woverride-init"

#define SYN TCP_FLAG_SYN
#define ACK TCP_FLAG_ACK
#define FIN TCP_FLAG_FIN
#define RST TCP_FLAG_RST

static uint64_t count(struct tcp_harness *t, const char *name)
{
	return stats_get(&t->h.s.stats, name);
}

/* The host's connection to the peer 10.0.0.1:rport, or NULL. */
static struct tcb *conn(struct tcp_harness *t, uint16_t rport)
{
	struct ipaddr l = ipaddr_v4(TH_HOST_IP), r = ipaddr_v4(TH_PEER_IP);
	return tcp_lookup(&t->h.s, &l, TH_HOST_PORT, &r, rport);
}

/* The value of line `name N` of `tapctl memory`. */
static unsigned long long memory_line(struct tcp_harness *t, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_int_eq(stack_report(&t->h.s, "memory", f), 0);
	fclose(f);
	char key[64];
	snprintf(key, sizeof(key), "\n%s ", name);
	char *p = strstr(text, key);
	ck_assert_msg(p != NULL, "no line %s in tapctl memory", name);
	unsigned long long v = strtoull(p + strlen(key), NULL, 10);
	free(text);
	return v;
}

/* A connection from the peer's port sport to the listener lp, its
 * handshake done and accepted by the app: returns the app's descriptor;
 * *iss is the host's ISN, *wnd the window of its SYN-ACK. */
static int open_conn(struct tcp_harness *t, struct tcb *lp, uint16_t sport, uint32_t *iss,
		     uint16_t *wnd)
{
	struct tcp_seg out;
	th_inject(t, SEG(.sport = sport, .flags = SYN, .seq = t->irs,
			 .opt = { .mss_ok = true, .mss = 1460 }));
	th_expect(t, &out);
	ck_assert_uint_eq(out.flags, SYN | ACK);
	*iss = out.seq;
	if (wnd)
		*wnd = out.wnd;
	th_inject(t, SEG(.sport = sport, .flags = ACK, .seq = t->irs + 1, .ack = *iss + 1));
	struct tcb *c = conn(t, sport);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->state, TCP_ESTABLISHED);
	ck_assert_ptr_eq(tcp_accept_dequeue(lp), c);
	return th_socket(t, c);
}

/* The app of the connection from sport closes it first; the peer
 * acknowledges the FIN and sends its own: the host is in TIME-WAIT. */
static struct tcb *host_closes_first(struct tcp_harness *t, struct tcb *lp, uint16_t sport)
{
	uint32_t iss;
	struct tcp_seg out;
	int fd = open_conn(t, lp, sport, &iss, NULL);
	ck_assert_int_eq(net_close(fd), 0);
	th_expect(t, &out);
	ck_assert_uint_eq(out.flags, FIN | ACK);
	th_inject(t, SEG(.sport = sport, .flags = FIN | ACK, .seq = t->irs + 1, .ack = iss + 2));
	th_expect(t, &out);
	ck_assert_uint_eq(out.flags, ACK);
	struct tcb *c = conn(t, sport);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->state, TCP_TIME_WAIT);
	return c;
}

/* ---- TIME-WAIT --------------------------------------------------------- */

/* A connection that carried data both ways and closed holds no ring in
 * TIME-WAIT: `tapctl memory` shows the rings' bytes back to zero. */
START_TEST(test_time_wait_holds_no_rings)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	uint32_t iss;
	struct tcp_seg out;
	int fd = open_conn(&t, lp, 41000, &iss, NULL);
	struct tcb *c = conn(&t, 41000);
	th_inject(&t, SEG(.sport = 41000, .flags = ACK, .seq = t.irs + 1, .ack = iss + 1, .len = 1000));
	uint8_t buf[2000];
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 1000);
	ck_assert_int_eq(net_send(fd, buf, 100, 0), 100);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.len, 100);
	ck_assert_uint_gt(memory_line(&t, "tcp.rcv_ring_bytes"), 0);
	ck_assert_uint_gt(memory_line(&t, "tcp.snd_ring_bytes"), 0);
	ck_assert_uint_gt(memory_line(&t, "tcp.mem_bytes"), 0);
	th_inject(&t, SEG(.sport = 41000, .flags = ACK, .seq = t.irs + 1001, .ack = iss + 101));
	drop_tx(&t.h);
	/* the app half-closes and keeps its socket (so the TIME-WAIT entry
	 * still has one) */
	ck_assert_int_eq(net_shutdown(fd, SHUT_WR), 0);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, FIN | ACK);
	th_inject(&t, SEG(.sport = 41000, .flags = FIN | ACK, .seq = t.irs + 1001, .ack = iss + 102));
	th_expect(&t, &out);
	ck_assert_int_eq(c->state, TCP_TIME_WAIT);
	ck_assert_ptr_nonnull(c->so);
	ck_assert_uint_eq(c->sndbuf.cap + c->rcvbuf.cap, 0);
	ck_assert_uint_eq(memory_line(&t, "tcp.rcv_ring_bytes"), 0);
	ck_assert_uint_eq(memory_line(&t, "tcp.snd_ring_bytes"), 0);
	ck_assert_uint_eq(memory_line(&t, "tcp.mem_bytes"), 0);
	ck_assert_uint_eq(memory_line(&t, "tcp.time_wait"), 1);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 0); /* the peer's FIN: end of stream */
	ck_assert_int_eq(net_close(fd), 0);
	th_fini(&t);
}
END_TEST

/* --tcp-max-tw 2: a third connection entering TIME-WAIT ends the oldest
 * entry early; the two newest stay. */
START_TEST(test_time_wait_limit_recycles_oldest)
{
	struct tcp_harness t;
	th_init(&t);
	t.h.s.tcp.max_tw = 2;
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	for (uint16_t p = 41000; p < 41003; p++)
		host_closes_first(&t, lp, p);
	ck_assert_uint_eq(count(&t, "tcp.tw_recycled"), 1);
	ck_assert_uint_eq(memory_line(&t, "tcp.time_wait"), 2);
	ck_assert_ptr_null(conn(&t, 41000));
	ck_assert_int_eq(conn(&t, 41001)->state, TCP_TIME_WAIT);
	ck_assert_int_eq(conn(&t, 41002)->state, TCP_TIME_WAIT);
	th_fini(&t);
}
END_TEST

/* A connection table full of TIME-WAIT entries (the listener and three,
 * in a table of four) does not lock a new client out: its SYN recycles
 * the oldest entry and the handshake completes. */
START_TEST(test_full_table_recycles_time_wait)
{
	struct tcp_harness t;
	th_init(&t);
	t.h.s.tcp.max_tcbs = 4;
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	for (uint16_t p = 41000; p < 41003; p++)
		host_closes_first(&t, lp, p);
	ck_assert_uint_eq(t.h.s.tcp.count, 4);
	ck_assert_uint_eq(count(&t, "tcp.tw_recycled"), 0);
	uint32_t iss;
	int fd = open_conn(&t, lp, 42000, &iss, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(count(&t, "tcp.tw_recycled"), 1);
	ck_assert_uint_eq(count(&t, "tcp.table_full"), 0);
	ck_assert_ptr_null(conn(&t, 41000));
	ck_assert_int_eq(conn(&t, 41001)->state, TCP_TIME_WAIT);
	th_fini(&t);
}
END_TEST

/* ---- orphans ------------------------------------------------------------- */

/* --tcp-max-orphans 1: the first connection the app closes goes on
 * closing on its own; the second is reset (a RST on the wire, counted). */
START_TEST(test_orphans_over_limit_reset)
{
	struct tcp_harness t;
	th_init(&t);
	t.h.s.tcp.max_orphans = 1;
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	uint32_t iss1, iss2;
	struct tcp_seg out;
	int fd1 = open_conn(&t, lp, 41000, &iss1, NULL);
	int fd2 = open_conn(&t, lp, 41001, &iss2, NULL);
	ck_assert_int_eq(net_close(fd1), 0);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, FIN | ACK);
	ck_assert_uint_eq(memory_line(&t, "tcp.orphans"), 1);
	ck_assert_int_eq(net_close(fd2), 0);
	th_expect(&t, &out);
	ck_assert_uint_eq(out.dport, 41001);
	ck_assert(out.flags & RST);
	ck_assert_uint_eq(out.seq, iss2 + 1);
	ck_assert_uint_eq(count(&t, "tcp.orphans_killed"), 1);
	ck_assert_ptr_null(conn(&t, 41001));
	/* the orphan's close completes: it leaves the count for TIME-WAIT */
	th_inject(&t, SEG(.sport = 41000, .flags = FIN | ACK, .seq = t.irs + 1, .ack = iss1 + 2));
	th_expect(&t, &out);
	ck_assert_int_eq(conn(&t, 41000)->state, TCP_TIME_WAIT);
	ck_assert_uint_eq(memory_line(&t, "tcp.orphans"), 0);
	th_fini(&t);
}
END_TEST

/* ---- the memory budget ---------------------------------------------------- */

#define MEM_LOW (64 * 1024)
#define MEM_HIGH (160 * 1024)
#define NCONN 6
#define PEER_MAX (256 * 1024) /* what each peer tries to send */

struct peer {
	uint16_t port;
	int fd;
	uint32_t iss;
	uint32_t seq;   /* next byte to send */
	uint32_t ack;   /* what the host acknowledged last */
	uint32_t edge;  /* the right edge of the host's window */
	uint16_t wnd;   /* the last window the host offered */
};

/* Takes every segment the host sent (after its delayed ACKs are due) and
 * notes what it acknowledged and offered, per peer. */
static void peers_read(struct tcp_harness *t, struct peer *p, int n)
{
	th_advance(t, 50000);
	while (testdev_sent_count(t->h.dev) > 0) {
		struct tcp_seg out;
		th_expect(t, &out);
		for (int i = 0; i < n; i++) {
			if (out.dport != p[i].port || !(out.flags & ACK))
				continue;
			p[i].ack = out.ack;
			p[i].wnd = out.wnd;
			p[i].edge = out.ack + out.wnd;
		}
	}
}

/* The peer sends in order up to the host's window (and at most PEER_MAX
 * in all), one MSS a segment, until the host acknowledges nothing new. */
static void peer_fill(struct tcp_harness *t, struct peer *all, int n, struct peer *p)
{
	for (int round = 0; round < 300; round++) {
		uint32_t before = p->ack;
		p->seq = p->ack;
		while (SEQ_LT(p->seq, p->edge) && p->seq - (t->irs + 1) < PEER_MAX) {
			uint32_t len = p->edge - p->seq < 1460 ? p->edge - p->seq : 1460;
			th_inject(t, SEG(.sport = p->port, .flags = ACK, .seq = p->seq, .ack = p->iss + 1,
					 .len = len));
			p->seq += len;
		}
		peers_read(t, all, n);
		ck_assert_uint_le(t->h.s.tcp.mem_bytes, MEM_HIGH + NCONN * RING_MIN_CAP);
		if (p->ack == before)
			return;
	}
}

/* Six connections whose apps never read, their peers sending as fast as
 * the windows allow, against --tcp-mem 64K,160K: the windows offered stop
 * growing past LOW, the rings stay under HIGH (plus the RING_MIN_CAP every
 * connection may have), data past it is dropped and counted, a connection
 * opened under pressure is offered a small window; once an app reads, its
 * window opens again and data flows. */
START_TEST(test_memory_budget_pressure)
{
	struct tcp_harness t;
	th_init(&t);
	struct host_opts o;
	host_opts_init(&o);
	char *argv[] = { "prog", "--tcp-mem", "64K,160K" };
	int i = 1;
	ck_assert_int_eq(host_opts_parse(&o, "prog", 3, argv, &i), 1);
	host_opts_apply(&o, &t.h.s);
	ck_assert_uint_eq(memory_line(&t, "tcp.mem_low"), MEM_LOW);
	ck_assert_uint_eq(memory_line(&t, "tcp.mem_high"), MEM_HIGH);
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	struct peer p[NCONN + 1];
	memset(p, 0, sizeof(p));
	for (int k = 0; k < NCONN; k++) {
		p[k].port = (uint16_t)(41000 + k);
		p[k].fd = open_conn(&t, lp, p[k].port, &p[k].iss, &p[k].wnd);
		ck_assert_uint_eq(p[k].wnd, 65535);
		p[k].ack = t.irs + 1;
		p[k].edge = p[k].ack + p[k].wnd;
	}
	uint64_t total = 0;
	for (int k = 0; k < NCONN; k++) {
		peer_fill(&t, p, NCONN, &p[k]);
		total += p[k].ack - (t.irs + 1);
	}
	ck_assert_uint_le(total, MEM_HIGH + NCONN * RING_MIN_CAP);
	ck_assert_uint_le(memory_line(&t, "tcp.mem_bytes"), MEM_HIGH + NCONN * RING_MIN_CAP);
	ck_assert_uint_ge(count(&t, "tcp.mem_pressure_entered"), 1);
	ck_assert_uint_ge(count(&t, "tcp.mem_hard_entered"), 1);
	ck_assert_uint_gt(count(&t, "tcp.mem_rcv_dropped_bytes"), 0);
	ck_assert_uint_gt(count(&t, "tcp.mem_window_clamped"), 0);
	/* the first filled its ring once pressure came: its window is shut */
	ck_assert_uint_eq(p[0].wnd, 0);
	ck_assert_uint_gt(p[0].ack - (t.irs + 1), 65535);
	/* a connection opened now starts small */
	uint16_t wnd;
	uint32_t iss;
	p[NCONN].port = 41100;
	p[NCONN].fd = open_conn(&t, lp, p[NCONN].port, &iss, &wnd);
	ck_assert_uint_le(wnd, RING_MIN_CAP);
	drop_tx(&t.h);

	/* the first app reads everything: its window opens, data flows */
	static uint8_t buf[PEER_MAX];
	size_t want = p[0].ack - (t.irs + 1);
	ck_assert_int_eq(net_recv(p[0].fd, buf, sizeof(buf), 0), (ssize_t)want);
	peers_read(&t, p, NCONN);
	ck_assert_uint_gt(p[0].wnd, 0);
	uint32_t before = p[0].ack;
	peer_fill(&t, p, NCONN, &p[0]);
	ck_assert(SEQ_GT(p[0].ack, before));
	for (int k = 0; k <= NCONN; k++)
		net_close(p[k].fd);
	th_fini(&t);
}
END_TEST

/* Over the hard limit (--tcp-mem 4K,4K) an app's write puts on the send
 * ring only what fits in the memory every ring may have (4 KB): the rest
 * waits (POLLOUT off) until the peer's ACK frees it. */
START_TEST(test_send_limited_over_hard)
{
	struct tcp_harness t;
	th_init(&t);
	t.h.s.tcp.mem_low = t.h.s.tcp.mem_high = 4096;
	struct tcb *lp = th_tcb_in_state(&t, TCP_LISTEN);
	uint32_t iss;
	int fd = open_conn(&t, lp, 41000, &iss, NULL);
	static uint8_t buf[100000];
	ck_assert_int_eq(net_send(fd, buf, sizeof(buf), 0), 4096);
	ck_assert_uint_eq(count(&t, "tcp.mem_snd_limited"), 1);
	ck_assert_uint_le(memory_line(&t, "tcp.mem_bytes"), 4096);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ck_assert_int_eq(net_poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(net_send(fd, buf, sizeof(buf), 0), -EAGAIN);
	/* two full segments went (Nagle holds the rest); the peer ACKs them */
	drop_tx(&t.h);
	th_inject(&t, SEG(.sport = 41000, .flags = ACK, .seq = t.irs + 1, .ack = iss + 1 + 2920));
	ck_assert_int_eq(net_poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(net_send(fd, buf, sizeof(buf), 0), 2920);
	net_close(fd);
	th_fini(&t);
}
END_TEST

/* One out-of-order byte at the right edge of a 4 MB window (window scale
 * 7) does not make the receive ring reserve the window: it is not kept
 * (tcp.ooo_sparse_dropped) and the ring stays empty; a segment just past
 * a lost one is kept as before. */
START_TEST(test_ooo_byte_at_edge_reserves_nothing)
{
	struct tcp_harness t;
	th_init(&t);
	th_tcb_in_state(&t, TCP_LISTEN);
	struct tcp_seg out;
	th_inject(&t, SEG(.sport = 41000, .flags = SYN, .seq = t.irs,
			  .opt = { .mss_ok = true, .mss = 1460, .ws_ok = true, .ws = 7 }));
	th_expect(&t, &out);
	uint32_t iss = out.seq;
	th_inject(&t, SEG(.sport = 41000, .flags = ACK, .seq = t.irs + 1, .ack = iss + 1));
	struct tcb *c = conn(&t, 41000);
	ck_assert_ptr_nonnull(c);
	uint32_t wnd = (uint32_t)out.wnd << out.opt.ws;
	ck_assert_uint_gt(wnd, 65535);
	/* the host's first ACK (window scaled now) tells the window */
	th_inject(&t, SEG(.sport = 41000, .flags = ACK, .seq = t.irs + 1, .ack = iss + 1, .len = 1));
	th_advance(&t, 50000);
	th_expect(&t, &out);
	uint32_t edge = out.ack + ((uint32_t)out.wnd << c->opt.rcv_wscale);
	ck_assert_uint_ge(edge - out.ack, 1024 * 1024);
	size_t cap_before = c->rcvbuf.cap;
	th_inject(&t, SEG(.sport = 41000, .flags = ACK, .seq = edge - 1, .ack = iss + 1, .len = 1));
	th_expect(&t, &out); /* the duplicate ACK */
	ck_assert_uint_eq(out.ack, t.irs + 2);
	ck_assert_uint_eq(c->rcvbuf.cap, cap_before);
	ck_assert_int_eq(c->nooo, 0);
	ck_assert_uint_eq(count(&t, "tcp.ooo_sparse_dropped"), 1);
	/* one segment lost, the next kept */
	th_inject(&t, SEG(.sport = 41000, .flags = ACK, .seq = t.irs + 2 + 1460, .ack = iss + 1,
			  .len = 1460));
	th_expect(&t, &out);
	ck_assert_int_eq(c->nooo, 1);
	ck_assert_uint_eq(count(&t, "tcp.ooo_sparse_dropped"), 1);
	th_fini(&t);
}
END_TEST

Suite *tcp_mem_suite(void)
{
	Suite *s = suite_create("tcp_mem");
	TCase *tc = tcase_create("tcp_mem");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_time_wait_holds_no_rings);
	tcase_add_test(tc, test_time_wait_limit_recycles_oldest);
	tcase_add_test(tc, test_full_table_recycles_time_wait);
	tcase_add_test(tc, test_orphans_over_limit_reset);
	tcase_add_test(tc, test_memory_budget_pressure);
	tcase_add_test(tc, test_ooo_byte_at_edge_reserves_nothing);
	tcase_add_test(tc, test_send_limited_over_hard);
	suite_add_tcase(s, tc);
	return s;
}

/* Congestion control, by its shapes: bulk transfers from host A to host B
 * over a simlink on virtual time, with hand-picked drops (a simlink
 * filter) or a bottleneck (a rate limit and a bounded queue), A's TCP trace
 * (--tcp-trace rows) read back, and the cwnd per round trip checked
 * against what the RFCs draw: slow start doubles (RFC 5681 3.1, RFC 3465),
 * congestion avoidance adds one segment per RTT (Reno), three duplicate
 * ACKs halve cwnd (Reno) or scale it by 0.7 (CUBIC, RFC 9438 4.6), CUBIC
 * grows concave up to W_max and convex past it (4.4, 4.5), an RTO brings
 * one segment and slow start again, NewReno repairs several losses of one
 * window without an RTO (RFC 6582), SACK repairs them with fewer bytes
 * (RFC 6675), and flows sharing a bottleneck share it fairly (Jain's
 * index). */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/tcpplot_parse.h"
#include "stack/host.h"
#include "stack/net.h"
#include "stack/pkt.h"
#include "stack/socket.h"
#include "stack/stats.h"
#include "tcp/tcp.h"
#include "tests/sim.h"

#define CC_PORT 7000
#define CC_MSS 1460u          /* SMSS: the simlink's MTU 1500 less 40 */
#define CC_SEG 1448u          /* the data in a full segment: SMSS less the timestamps option */
#define CC_MAX_FLOWS 2
#define CC_MAX_DROPS 16
#define CC_STEP_US 1000       /* the apps read and write every millisecond */
#define CC_UNLIMITED UINT64_MAX

/* Byte i of flow f's stream: a byte in the wrong place is seen. */
static inline uint8_t cc_byte(int f, uint64_t i)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ull + (uint64_t)(f + 1) * 0x632be59bd9b4e019ull;
	return (uint8_t)(x >> 56 ^ i);
}

/* One bulk flow from A to B. */
struct cc_flow {
	int lfd, afd, bfd;
	uint64_t total;       /* bytes to send, CC_UNLIMITED = until the test stops */
	bool hold;            /* A writes nothing yet */
	uint64_t limit;       /* A writes no byte past this many (0: no limit) */
	uint64_t sent, got;
	bool shut, eof, bad;
	uint8_t out[16384];   /* out[off..len) is generated and waits for A's socket */
	size_t off, len;
};

/* Drops chosen by the test, on the frames A sends (the simlink filter). */
struct cc_drops {
	bool have_iss;
	uint32_t iss;                   /* A's ISS, from its SYN (one flow) */
	uint32_t seg[CC_MAX_DROPS];     /* data segments to drop once: their number from 0 */
	bool done[CC_MAX_DROPS];
	int n;
	bool rexmit_too;                /* also drop the first retransmission of each */
	bool rexmit_done[CC_MAX_DROPS];
	int64_t first_data;             /* when A sent its first data (-1: not yet) */
	int64_t blackout_from, blackout_to; /* after first_data: drop every frame (0, 0: none) */
	int64_t drop_one_after;         /* after first_data: drop the next data segment (0: none) */
	bool drop_syn;                  /* drop A's first SYN */
	int dropped;
};

struct cc_net {
	struct sim sim;
	struct cc_flow f[CC_MAX_FLOWS];
	int nflows;
	struct cc_drops drops;
	FILE *trace;
	char *tbuf;
	size_t tlen;
};

static struct cc_net net; /* big (two stacks): static, one test at a time */

/* The simlink filter: parses Ethernet + IPv4 + TCP and applies net.drops. */
static bool cc_filter(void *ctx, const struct pkt *p, int64_t now)
{
	struct cc_drops *d = ctx;
	const uint8_t *b = p->data;

	if (p->len < 14 + 20 || b[12] != 0x08 || b[13] != 0x00 || b[14 + 9] != 6)
		return false;
	size_t ihl = (size_t)(b[14] & 0xf) * 4;
	size_t ipl = (size_t)b[16] << 8 | b[17];
	if (p->len < 14 + ihl + 20)
		return false;
	const uint8_t *t = b + 14 + ihl;
	uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
	size_t doff = (size_t)(t[12] >> 4) * 4;
	size_t len = ipl > ihl + doff ? ipl - ihl - doff : 0;
	if (t[13] & 0x02) { /* SYN */
		if (d->drop_syn) {
			d->drop_syn = false;
			d->dropped++;
			return true;
		}
		d->iss = seq;
		d->have_iss = true;
		return false;
	}
	if (len == 0 || !d->have_iss)
		return false;
	if (d->first_data < 0)
		d->first_data = now;
	int64_t since = now - d->first_data;
	if (d->blackout_to > 0 && since >= d->blackout_from && since < d->blackout_to) {
		d->dropped++;
		return true;
	}
	if (d->drop_one_after > 0 && since >= d->drop_one_after) {
		d->drop_one_after = 0;
		d->dropped++;
		return true;
	}
	uint32_t rel = seq - d->iss - 1;
	if (rel % CC_SEG)
		return false;
	for (int i = 0; i < d->n; i++) {
		if (rel / CC_SEG != d->seg[i])
			continue;
		if (!d->done[i]) {
			d->done[i] = true;
			d->dropped++;
			return true;
		}
		if (d->rexmit_too && !d->rexmit_done[i]) {
			d->rexmit_done[i] = true;
			d->dropped++;
			return true;
		}
	}
	return false;
}

/* Builds the two hosts: fwd impairs A to B, rev B to A (NULL: perfect);
 * SACK on or off on both; A's trace into memory. */
static void cc_setup(const struct impair_cfg *fwd, const struct impair_cfg *rev, uint64_t seed,
		     bool sack)
{
	memset(&net.f, 0, sizeof(net.f));
	memset(&net.drops, 0, sizeof(net.drops));
	net.drops.first_data = -1;
	net.nflows = 0;
	sim_init(&net.sim, fwd, seed);
	simlink_set_cfg(net.sim.link, 1, rev);
	simlink_set_filter(net.sim.link, 0, cc_filter, &net.drops);
	net.sim.a.tcp.no_sack = net.sim.b.tcp.no_sack = !sack;
	net.tbuf = NULL;
	net.tlen = 0;
	net.trace = open_memstream(&net.tbuf, &net.tlen);
	ck_assert_ptr_nonnull(net.trace);
	net.sim.a.tcp.tcp_trace = net.trace;
}

/* Starts a flow of total bytes with congestion control cc on A (its
 * listener on B at CC_PORT + index). Returns its index. */
static int cc_flow_start(const char *cc, uint64_t total)
{
	int i = net.nflows++;
	struct cc_flow *f = &net.f[i];

	ck_assert_int_le(net.nflows, CC_MAX_FLOWS);
	f->total = total;
	f->bfd = -1;
	sim_attach(&net.sim, &net.sim.b);
	f->lfd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(CC_PORT + i) };
	ck_assert_int_eq(net_bind(f->lfd, (struct sockaddr *)&me, sizeof(me)), 0);
	ck_assert_int_eq(net_listen(f->lfd, 1), 0);
	sim_attach(&net.sim, &net.sim.a);
	f->afd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(net_setsockopt(f->afd, IPPROTO_TCP, TCP_CONGESTION, cc,
					(socklen_t)strlen(cc)), 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(CC_PORT + i),
				  .sin_addr.s_addr = htonl(SIM_B_IP) };
	ck_assert_int_eq(net_connect(f->afd, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
	return i;
}

/* A's control block of flow i. */
static struct tcb *cc_tcb(int i)
{
	struct socket *so = socket_get(net.f[i].afd);
	ck_assert_ptr_nonnull(so);
	return so->proto;
}

/* The apps' part of a step: A writes what its socket takes, B reads all
 * and checks every byte. */
static void cc_apps(void)
{
	static uint8_t buf[65536];

	for (int i = 0; i < net.nflows; i++) {
		struct cc_flow *f = &net.f[i];
		if (f->bfd < 0 && (f->bfd = net_accept(f->lfd, NULL, NULL)) >= 0) {
			int one = 1;
			net_setsockopt(f->bfd, SOL_SOCKET, SO_NONBLOCK, &one, sizeof(one));
		}
		uint64_t upto = f->limit && f->limit < f->total ? f->limit : f->total;
		while (!f->hold && !f->shut && f->sent < upto) {
			if (f->off == f->len) { /* the next piece of the stream */
				size_t n = sizeof(f->out);
				if (n > upto - f->sent)
					n = (size_t)(upto - f->sent);
				for (size_t k = 0; k < n; k++)
					f->out[k] = cc_byte(i, f->sent + k);
				f->off = 0;
				f->len = n;
			}
			ssize_t r = net_send(f->afd, f->out + f->off, f->len - f->off, 0);
			if (r <= 0)
				break;
			f->off += (size_t)r;
			f->sent += (uint64_t)r;
		}
		if (!f->shut && f->sent == f->total) {
			net_shutdown(f->afd, SHUT_WR);
			f->shut = true;
		}
		while (f->bfd >= 0 && !f->eof) {
			ssize_t r = net_recv(f->bfd, buf, sizeof(buf), 0);
			if (r == -EAGAIN)
				break;
			if (r <= 0) {
				f->eof = true;
				f->bad |= r < 0;
				break;
			}
			for (ssize_t k = 0; k < r; k++)
				f->bad |= buf[k] != cc_byte(i, f->got + (uint64_t)k);
			f->got += (uint64_t)r;
		}
	}
}

/* True when every flow with a total has delivered it all. */
static bool cc_all_done(void)
{
	for (int i = 0; i < net.nflows; i++)
		if (net.f[i].total == CC_UNLIMITED || !net.f[i].eof)
			return false;
	return true;
}

/* Runs the apps and both hosts for dur_us of virtual time, or until every
 * flow is done (if stop_when_done). */
static void cc_run(int64_t dur_us, bool stop_when_done)
{
	int64_t end = net.sim.now + dur_us;

	while (net.sim.now < end && !(stop_when_done && cc_all_done())) {
		cc_apps();
		sim_step(&net.sim, end - net.sim.now < CC_STEP_US ? end - net.sim.now : CC_STEP_US);
	}
}

/* Ends the test: closes the flows, lets the hosts finish (TIME-WAIT too),
 * frees everything, reads the trace back into *d (if d is not NULL). */
static void cc_finish(struct tcpplot_data *d)
{
	for (int i = 0; i < net.nflows; i++) {
		net_close(net.f[i].afd);
		if (net.f[i].bfd >= 0)
			net_close(net.f[i].bfd);
		net_close(net.f[i].lfd);
	}
	sim_run_until(&net.sim, net.sim.now + 5 * 60 * 1000000LL);
	sim_fini(&net.sim);
	fclose(net.trace);
	const char *keep = getenv("TAPSTACK_CC_TRACE"); /* a file to look at with tcpplot */
	if (keep) {
		FILE *out = fopen(keep, "w");
		if (out) {
			fwrite(net.tbuf, 1, net.tlen, out);
			fclose(out);
		}
	}
	if (d) {
		memset(d, 0, sizeof(*d));
		FILE *in = fmemopen(net.tbuf, net.tlen, "r");
		ck_assert_ptr_nonnull(in);
		ck_assert_int_eq(tcpplot_read(in, "trace", d, stderr), 0);
		fclose(in);
		ck_assert_uint_eq(d->bad, 0);
	}
	free(net.tbuf);
	net.tbuf = NULL;
}

static uint64_t cc_counter(const char *name)
{
	return stats_get(&net.sim.a.stats, name);
}

/* cwnd at the end of each round trip, from the trace: a round ends just
 * before the first ACK row whose snd_una passes the snd_nxt of the row
 * that began it (data sent after the round began), and its cwnd is that of
 * the last ACK row before. Rows from first on; at most max rounds; returns
 * how many. If stop_event is not NULL, the rounds stop at the first row
 * with that event. */
static int cc_rounds(const struct tcpplot_data *d, size_t first, const char *stop_event,
		     uint32_t *cwnd, double *when, int max)
{
	int n = 0;
	uint32_t end = 0, last_cwnd = 0;
	double last_t = 0;
	bool started = false;

	for (size_t i = first; i < d->n && n < max; i++) {
		const struct tcpplot_row *r = &d->rows[i];
		if (stop_event && !strcmp(r->event, stop_event))
			break;
		if (strcmp(r->event, "ack") || r->cwnd == 0) /* not the handshake's */
			continue;
		if (!started) {
			end = r->snd_nxt;
			started = true;
		} else if ((int32_t)(r->snd_una - end) > 0) {
			cwnd[n] = last_cwnd;
			when[n] = last_t;
			n++;
			end = r->snd_nxt;
		}
		last_cwnd = r->cwnd;
		last_t = r->t;
	}
	return n;
}

/* The index of the first row with this event at or after from, or d->n. */
static size_t cc_find(const struct tcpplot_data *d, size_t from, const char *event)
{
	for (size_t i = from; i < d->n; i++)
		if (!strcmp(d->rows[i].event, event))
			return i;
	return d->n;
}

/* RFC 2544-free, plain 50 ms of round trip: 25 ms each way. */
static const struct impair_cfg wan = { .delay_us = 25000 };

/* ---- slow start and congestion avoidance ----------------------------- */

/* RFC 5681 3.1 with RFC 3465's L = 2 SMSS: from an initial window of two
 * segments (--iw 2), cwnd doubles every round trip although B ACKs every
 * second segment. */
START_TEST(slow_start_doubles_cwnd_each_rtt)
{
	struct tcpplot_data d;
	uint32_t cwnd[16];
	double when[16];

	cc_setup(&wan, &wan, 1, true);
	net.sim.a.tcp.iw_segs = 2;
	cc_flow_start("cubic", 400 * 1024);
	cc_run(60 * 1000000LL, true);
	ck_assert(net.f[0].eof && !net.f[0].bad && net.f[0].got == 400 * 1024);
	ck_assert_uint_eq(cc_counter("tcp.retransmits"), 0);
	cc_finish(&d);

	size_t first = cc_find(&d, 0, "ack");
	ck_assert_uint_lt(first, d.n);
	int n = cc_rounds(&d, first, NULL, cwnd, when, 6);
	ck_assert_int_ge(n, 5);
	/* two segments, then four (IW 2 SMSS plus two full segments acked) */
	ck_assert_uint_eq(cwnd[0], 2 * CC_MSS + 2 * CC_SEG);
	for (int i = 1; i < 5; i++) {
		double ratio = (double)cwnd[i] / cwnd[i - 1];
		ck_assert_msg(ratio > 1.8 && ratio < 2.2, "round %d: cwnd %u after %u (x%.2f), "
			      "slow start should double it", i, cwnd[i], cwnd[i - 1], ratio);
		ck_assert_msg(when[i] - when[i - 1] > 0.045 && when[i] - when[i - 1] < 0.07,
			      "round %d took %.3f s, the RTT is 0.05", i, when[i] - when[i - 1]);
	}
	tcpplot_free(&d);
}
END_TEST

/* RFC 5681 3.1: in congestion avoidance Reno adds one SMSS per round trip
 * (ssthresh set to 10 segments before any data). */
START_TEST(reno_congestion_avoidance_one_mss_per_rtt)
{
	struct tcpplot_data d;
	uint32_t cwnd[32];
	double when[32];

	cc_setup(&wan, &wan, 2, true);
	cc_flow_start("reno", CC_UNLIMITED);
	net.f[0].hold = true;
	cc_run(200000, false); /* the handshake */
	ck_assert_int_eq(cc_tcb(0)->state, TCP_ESTABLISHED);
	cc_tcb(0)->ssthresh = 10 * CC_MSS;
	net.f[0].hold = false;
	cc_run(25 * 50000, false);
	ck_assert_uint_eq(cc_counter("tcp.retransmits"), 0);
	ck_assert(!net.f[0].bad);
	cc_finish(&d);

	int n = cc_rounds(&d, cc_find(&d, 0, "ack"), NULL, cwnd, when, 22);
	ck_assert_int_ge(n, 20);
	for (int i = 2; i < n; i++) {
		int32_t step = (int32_t)(cwnd[i] - cwnd[i - 1]);
		ck_assert_msg(step >= 0 && step <= 2 * (int32_t)CC_MSS,
			      "round %d: cwnd %u after %u: not one SMSS per RTT", i, cwnd[i],
			      cwnd[i - 1]);
	}
	double per_rtt = (double)(cwnd[n - 1] - cwnd[1]) / (n - 2) / CC_MSS;
	ck_assert_msg(per_rtt > 0.8 && per_rtt < 1.2,
		      "congestion avoidance added %.2f SMSS per RTT (expected 1)", per_rtt);
	tcpplot_free(&d);
}
END_TEST

/* RFC 6928 2 and RFC 5681 3.1: the initial window is min(10 SMSS,
 * max(2 SMSS, 14600)) = 10 segments here, --iw N makes it N segments, and
 * a SYN that had to be sent again makes it one. */
static uint32_t first_cwnd(uint32_t iw_segs, bool drop_syn)
{
	cc_setup(&wan, &wan, 7, true);
	net.sim.a.tcp.iw_segs = iw_segs;
	net.drops.drop_syn = drop_syn;
	cc_flow_start("cubic", 64 * 1024);
	net.f[0].hold = true;
	cc_run(5 * 1000000LL, false);
	struct tcb *tp = cc_tcb(0);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	uint32_t cwnd = tp->cwnd;
	ck_assert_int_eq(net.drops.dropped, drop_syn ? 1 : 0);
	net.f[0].hold = false;
	cc_run(60 * 1000000LL, true);
	ck_assert(net.f[0].eof && !net.f[0].bad);
	cc_finish(NULL);
	return cwnd;
}

START_TEST(initial_window_rfc6928_iw_flag_and_lost_syn)
{
	ck_assert_uint_eq(first_cwnd(0, false), 14600);
	ck_assert_uint_eq(first_cwnd(4, false), 4 * CC_MSS);
	ck_assert_uint_eq(first_cwnd(0, true), CC_MSS);

	struct host_opts o;
	char *argv[] = { "prog", "--iw", "4", "--iw", "0", "--iw", "x" };
	int i = 1;
	host_opts_init(&o);
	ck_assert_int_eq(host_opts_parse(&o, "prog", 7, argv, &i), 1);
	ck_assert_uint_eq(o.iw_segs, 4);
	i = 3;
	ck_assert_int_eq(host_opts_parse(&o, "prog", 7, argv, &i), -1);
	i = 5;
	ck_assert_int_eq(host_opts_parse(&o, "prog", 7, argv, &i), -1);
	static struct stack st;
	stack_init(&st, "iw", 1);
	host_opts_apply(&o, &st);
	ck_assert_uint_eq(st.tcp.iw_segs, 4);
	ck_assert_ptr_eq(st.tcp.cc_default, &tcp_cc_cubic); /* the default */
	stack_fini(&st);
}
END_TEST

/* ---- the reduction at three duplicate ACKs ------------------------------ */

/* One segment lost in slow start (segment 60, cwnd near 40-60 segments):
 * fast retransmit sets ssthresh from the flight: half with Reno (RFC
 * 5681 3.1 equation 4), 0.7 with CUBIC (RFC 9438 4.6); with SACK cwnd
 * is ssthresh when recovery ends. Returns ssthresh / cwnd before. */
static double loss_reduction(const char *cc, bool sack, double *vs_flight)
{
	struct tcpplot_data d;

	cc_setup(&wan, &wan, 3, sack);
	net.drops.seg[0] = 60;
	net.drops.n = 1;
	cc_flow_start(cc, 1024 * 1024);
	cc_run(60 * 1000000LL, true);
	ck_assert(net.f[0].eof && !net.f[0].bad && net.f[0].got == 1024 * 1024);
	ck_assert_int_eq(net.drops.dropped, 1);
	ck_assert_uint_eq(cc_counter("tcp.fast_retransmit"), 1);
	ck_assert_uint_eq(cc_counter("tcp.rto"), 0);
	cc_finish(&d);

	size_t fr = cc_find(&d, 0, "fast_retransmit");
	ck_assert_uint_lt(fr, d.n);
	ck_assert_uint_gt(fr, 0);
	const struct tcpplot_row *before = &d.rows[fr - 1], *at = &d.rows[fr];
	size_t ex = cc_find(&d, fr, "recovery_exit");
	ck_assert_uint_lt(ex, d.n);
	if (sack)
		ck_assert_uint_eq(d.rows[ex].cwnd, at->ssthresh);
	else
		ck_assert_uint_le(d.rows[ex].cwnd, at->ssthresh);
	*vs_flight = (double)at->ssthresh / at->inflight;
	double r = (double)at->ssthresh / before->cwnd;
	tcpplot_free(&d);
	return r;
}

START_TEST(three_dupacks_halve_reno)
{
	double vs_flight;
	double r = loss_reduction("reno", false, &vs_flight);
	ck_assert_msg(r > 0.45 && r < 0.58, "Reno: ssthresh %.3f of cwnd (expected 0.5)", r);
	ck_assert_msg(fabs(vs_flight - 0.5) < 0.01, "Reno: ssthresh %.3f of the flight", vs_flight);
}
END_TEST

START_TEST(three_dupacks_scale_cubic_by_0_7)
{
	double vs_flight;
	double r = loss_reduction("cubic", true, &vs_flight);
	ck_assert_msg(r > 0.65 && r < 0.77, "CUBIC: ssthresh %.3f of cwnd (expected 0.7)", r);
	ck_assert_msg(fabs(vs_flight - 0.7) < 0.01, "CUBIC: ssthresh %.3f of the flight", vs_flight);
	r = loss_reduction("newreno", true, &vs_flight);
	ck_assert_msg(r > 0.45 && r < 0.58, "NewReno with SACK: ssthresh %.3f of cwnd", r);
}
END_TEST

/* ---- CUBIC's curve ---------------------------------------------------- */

/* cwnd at time t (the last row at or before t) from row from on. */
static double cc_cwnd_at(const struct tcpplot_data *d, size_t from, double t)
{
	uint32_t c = d->rows[from].cwnd;
	for (size_t i = from; i < d->n && d->rows[i].t <= t; i++)
		c = d->rows[i].cwnd;
	return c;
}

/* RFC 9438 4.1-4.5 on a 100 ms path: after one loss at about 100
 * segments, cwnd climbs fast at first and flattens as it nears W_max
 * (concave), reaches W_max about K = cbrt(W_max (1 - beta) / C) seconds
 * after the reduction, then climbs faster and faster (convex). */
START_TEST(cubic_concave_then_convex)
{
	static const struct impair_cfg lfp = { .delay_us = 50000 };
	struct tcpplot_data d;

	cc_setup(&lfp, &lfp, 4, true);
	cc_flow_start("cubic", CC_UNLIMITED);
	net.f[0].hold = true;
	cc_run(300000, false);
	ck_assert_int_eq(cc_tcb(0)->state, TCP_ESTABLISHED);
	cc_tcb(0)->ssthresh = 100 * CC_MSS; /* slow start ends near 100 segments */
	net.f[0].hold = false;
	net.drops.drop_one_after = 2000000; /* then one loss, 2 s after the first data */
	cc_run(14 * 1000000LL, false);
	ck_assert(!net.f[0].bad);
	ck_assert_int_eq(net.drops.dropped, 1);
	ck_assert_uint_eq(cc_counter("tcp.fast_retransmit"), 1);
	ck_assert_uint_eq(cc_counter("tcp.rto"), 0);
	cc_finish(&d);

	size_t fr = cc_find(&d, 0, "fast_retransmit");
	ck_assert_uint_lt(fr, d.n);
	double w_max = d.rows[fr - 1].cwnd / (double)CC_MSS;
	ck_assert_msg(w_max > 90 && w_max < 130, "the loss came at %.1f segments", w_max);
	size_t ex = cc_find(&d, fr, "recovery_exit");
	ck_assert_uint_lt(ex, d.n);
	double t0 = d.rows[ex].t, k = cbrt(w_max * (1 - 0.7) / 0.4);
	double w0 = cc_cwnd_at(&d, ex, t0) / CC_MSS;
	double wh = cc_cwnd_at(&d, ex, t0 + k / 2) / CC_MSS;
	double wk = cc_cwnd_at(&d, ex, t0 + k) / CC_MSS;
	double w3h = cc_cwnd_at(&d, ex, t0 + 1.5 * k) / CC_MSS;
	double w2k = cc_cwnd_at(&d, ex, t0 + 2 * k) / CC_MSS;
	ck_assert_msg(d.rows[d.n - 1].t > t0 + 2 * k, "the trace ends before 2K");
	/* concave: most of the way back in the first half */
	ck_assert_msg(wh - w0 > 3 * (wk - wh), "not concave: %.1f -> %.1f -> %.1f segments "
		      "(K %.2f s)", w0, wh, wk, k);
	/* the plateau: W_max again near t = K */
	ck_assert_msg(fabs(wk - w_max) < 0.1 * w_max, "at K = %.2f s cwnd is %.1f segments, "
		      "W_max %.1f", k, wk, w_max);
	/* convex: faster and faster past W_max */
	ck_assert_msg(w2k - w3h > 2 * (w3h - wk) && w2k > w_max * 1.15,
		      "not convex: %.1f -> %.1f -> %.1f segments", wk, w3h, w2k);
	tcpplot_free(&d);
}
END_TEST

/* RFC 9438 4.3, the Reno-friendly region: on a 4 ms path with a small
 * window, W_cubic(t) hardly moves in the fraction of a second 100 round
 * trips take, so CUBIC follows W_est and grows like Reno, about one
 * segment per RTT (alpha_cubic is 1 before any reduction). */
START_TEST(cubic_reno_friendly_on_a_short_path)
{
	static const struct impair_cfg lan = { .delay_us = 2000 };
	struct tcpplot_data d;
	uint32_t cwnd[128];
	double when[128];

	cc_setup(&lan, &lan, 8, true);
	cc_flow_start("cubic", CC_UNLIMITED);
	net.f[0].hold = true;
	cc_run(20000, false);
	ck_assert_int_eq(cc_tcb(0)->state, TCP_ESTABLISHED);
	cc_tcb(0)->ssthresh = 10 * CC_MSS; /* congestion avoidance from the start */
	net.f[0].hold = false;
	cc_run(110 * 4000, false);
	ck_assert_uint_eq(cc_counter("tcp.retransmits"), 0);
	ck_assert(!net.f[0].bad);
	cc_finish(&d);

	int n = cc_rounds(&d, cc_find(&d, 0, "ack"), NULL, cwnd, when, 101);
	ck_assert_int_ge(n, 100);
	double per_rtt = (double)(cwnd[n - 1] - cwnd[1]) / (n - 2) / CC_MSS;
	double w_cubic = 0.4 * pow(when[n - 1] - when[0], 3) + 10; /* segments */
	ck_assert_msg(per_rtt > 0.8 && per_rtt < 1.2, "CUBIC added %.2f SMSS per RTT on a short "
		      "path (expected about 1, as Reno); W_cubic would be %.1f segments", per_rtt,
		      w_cubic);
	tcpplot_free(&d);
}
END_TEST

/* ---- timeouts --------------------------------------------------------- */

/* RFC 5681 3.1 (RFC 9438 4.8 for CUBIC): every frame A sends is lost for
 * 0.6 s; the RTO takes cwnd to one segment, ssthresh to half (Reno) or
 * 0.7 (CUBIC) of the flight once, and slow start begins again. */
static void rto_one_segment(const char *cc, double beta)
{
	struct tcpplot_data d;

	cc_setup(&wan, &wan, 5, true);
	net.drops.blackout_from = 300000;
	net.drops.blackout_to = 900000;
	cc_flow_start(cc, 1024 * 1024);
	cc_run(120 * 1000000LL, true);
	ck_assert(net.f[0].eof && !net.f[0].bad && net.f[0].got == 1024 * 1024);
	ck_assert_uint_ge(cc_counter("tcp.rto"), 1);
	cc_finish(&d);

	size_t rto = cc_find(&d, 0, "rto");
	ck_assert_uint_lt(rto, d.n);
	const struct tcpplot_row *r = &d.rows[rto];
	ck_assert_uint_eq(r->cwnd, CC_MSS);
	double flight = d.rows[rto - 1].inflight;
	ck_assert_msg(fabs(r->ssthresh - flight * beta) <= CC_MSS, "%s: ssthresh %u after a flight of "
		      "%.0f (expected x%.1f)", cc, r->ssthresh, flight, beta);
	uint32_t ssthresh = r->ssthresh;
	/* later expiries of the same segment keep ssthresh; the last one is
	 * followed by slow start from one segment */
	size_t last = rto;
	for (size_t i = cc_find(&d, rto + 1, "rto"); i < d.n; i = cc_find(&d, i + 1, "rto")) {
		ck_assert_uint_eq(d.rows[i].cwnd, CC_MSS);
		ck_assert_uint_eq(d.rows[i].ssthresh, ssthresh);
		last = i;
	}
	size_t ack = cc_find(&d, last, "ack");
	ck_assert_uint_lt(ack, d.n);
	ck_assert_uint_eq(d.rows[ack].cwnd, CC_MSS + CC_SEG); /* + one segment: slow start */
	ck_assert_uint_lt(d.rows[ack].cwnd, d.rows[ack].ssthresh);
	uint32_t cwnd[8];
	double when[8];
	int n = cc_rounds(&d, ack, "fast_retransmit", cwnd, when, 3);
	ck_assert_int_ge(n, 3);
	for (int i = 1; i < n && cwnd[i] < ssthresh; i++)
		ck_assert_msg(cwnd[i] >= cwnd[i - 1] * 3 / 2, "no slow start after the RTO: "
			      "%u then %u", cwnd[i - 1], cwnd[i]);
	tcpplot_free(&d);
}

START_TEST(rto_drops_reno_to_one_segment)
{
	rto_one_segment("reno", 0.5);
}
END_TEST

START_TEST(rto_drops_cubic_to_one_segment)
{
	rto_one_segment("cubic", 0.7);
}
END_TEST

/* ---- idle and application-limited flows -------------------------------- */

/* RFC 5681 4.1: a flow that sent nothing for longer than the RTO (2 s
 * here, the RTO about 200 ms) starts again with cwnd = min(IW, cwnd), and
 * slow start; a pause shorter than the RTO keeps cwnd. */
static void restart_after_idle(const char *cc)
{
	struct tcpplot_data d;

	cc_setup(&wan, &wan, 9, true);
	cc_flow_start(cc, 2 * 1024 * 1024);
	net.f[0].limit = 600 * 1024;
	cc_run(3 * 1000000LL, false);
	struct tcb *tp = cc_tcb(0);
	ck_assert_uint_eq(net.f[0].got, 600 * 1024);
	ck_assert_uint_eq(tp->snd.una, tp->snd.max);
	uint32_t before = tp->cwnd;
	ck_assert_uint_gt(before, 4 * 14600);
	/* the app writes again: the first flight is the initial window */
	net.f[0].limit = 1200 * 1024;
	cc_run(CC_STEP_US, false);
	ck_assert_uint_eq(cc_counter("tcp.cwnd_restart"), 1);
	ck_assert_uint_eq(tp->cwnd, 14600);
	ck_assert_uint_le(tp->snd.max - tp->snd.una, 14600);
	/* done again, then a pause of 100 ms, shorter than the RTO */
	while (net.f[0].got < 1200 * 1024 || tp->snd.una != tp->snd.max)
		cc_run(CC_STEP_US, false);
	ck_assert_int_gt(tp->rtt.rto, 150000);
	uint32_t kept = tp->cwnd;
	cc_run(100000, false);
	net.f[0].limit = 0;
	cc_run(CC_STEP_US, false);
	ck_assert_uint_eq(cc_counter("tcp.cwnd_restart"), 1);
	ck_assert_uint_ge(tp->cwnd, kept);
	cc_run(60 * 1000000LL, true);
	ck_assert(net.f[0].eof && !net.f[0].bad && net.f[0].got == 2 * 1024 * 1024);
	cc_finish(&d);

	/* the trace: the restart row, then slow start from it */
	size_t r = cc_find(&d, 0, "idle_restart");
	ck_assert_uint_lt(r, d.n);
	ck_assert_uint_eq(d.rows[r].cwnd, 14600);
	ck_assert_uint_eq(d.rows[r - 1].cwnd, before);
	ck_assert_uint_eq(cc_find(&d, r + 1, "idle_restart"), d.n);
	uint32_t cwnd[4];
	double when[4];
	int n = cc_rounds(&d, r + 1, NULL, cwnd, when, 3);
	ck_assert_int_ge(n, 3);
	for (int i = 1; i < n; i++)
		ck_assert_msg(cwnd[i] >= cwnd[i - 1] * 3 / 2, "%s: no slow start after the "
			      "restart: %u then %u", cc, cwnd[i - 1], cwnd[i]);
	tcpplot_free(&d);
}

START_TEST(idle_longer_than_rto_restarts_from_the_initial_window)
{
	restart_after_idle("reno");
	restart_after_idle("cubic");
}
END_TEST

/* RFC 9438 5.8 (and RFC 7661 for Reno): an app that writes two segments
 * every round trip never fills a window of ten; cwnd must not grow on
 * the ACKs of what it does send. Once the app writes without pause the
 * window is used and slow start doubles it again. */
static void app_limited_keeps_cwnd(const char *cc)
{
	cc_setup(&wan, &wan, 10, true);
	cc_flow_start(cc, CC_UNLIMITED);
	net.f[0].limit = 1;
	cc_run(200000, false); /* the handshake, and one byte */
	struct tcb *tp = cc_tcb(0);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	for (int i = 0; i < 100; i++) { /* 5 s: two segments per 50 ms */
		net.f[0].limit += 2 * CC_SEG;
		cc_run(50000, false);
	}
	ck_assert_uint_gt(net.f[0].got, 99 * 2 * CC_SEG);
	ck_assert_uint_eq(tp->cwnd, 14600);
	ck_assert_uint_gt(cc_counter("tcp.cwnd_not_limited"), 50);
	net.f[0].limit = 0;
	cc_run(500000, false);
	ck_assert_msg(tp->cwnd > 8 * 14600, "%s: cwnd %u after 10 round trips without limit", cc,
		      tp->cwnd);
	ck_assert(!net.f[0].bad);
	cc_finish(NULL);
}

START_TEST(app_limited_flow_does_not_grow_cwnd)
{
	app_limited_keeps_cwnd("reno");
	app_limited_keeps_cwnd("cubic");
}
END_TEST

/* RFC 9438 5.8: "t ... MUST NOT include these periods". CUBIC in
 * congestion avoidance from 15 segments, 1 s of full use (the stage
 * begins), 10 s held back by the app (two segments every period_us),
 * then full use again: with the 10 s
 * in t, W_cubic(t) would be 0.4 * 11^3 + 15 = 547 segments and cwnd would
 * climb 1.5 times per round trip; without them it is near W_max plus the
 * Reno-friendly segment per round trip. */
static void cubic_app_limited_for_10s(int64_t period_us)
{
	cc_setup(&wan, &wan, 14, true);
	/* RFC 6298's 1 s: B's delayed ACK (200 ms) of the last segment
	 * before the pause must not look like a loss */
	net.sim.a.tcp.rto_min_us = 1000000;
	cc_flow_start("cubic", CC_UNLIMITED);
	net.f[0].hold = true;
	cc_run(200000, false);
	struct tcb *tp = cc_tcb(0);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	tp->ssthresh = 15 * CC_MSS;
	tp->cwnd = 15 * CC_MSS;
	int sndbuf = 64 * 1024; /* little queued beyond the flight: the app's pause shows at once */
	ck_assert_int_eq(net_setsockopt(net.f[0].afd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
					sizeof(sndbuf)), 0);
	net.f[0].hold = false;
	cc_run(1000000, false);
	net.f[0].limit = net.f[0].sent;
	cc_run(300000, false); /* what was queued goes */
	ck_assert_uint_eq(tp->snd.una, tp->snd.max);
	uint32_t w1 = tp->cwnd;
	ck_assert_uint_gt(w1, 15 * CC_MSS);
	for (int64_t t = 0; t < 10 * 1000000LL; t += period_us) {
		net.f[0].limit += 2 * CC_SEG;
		cc_run(period_us, false);
	}
	ck_assert_uint_eq(tp->cwnd, w1);
	sndbuf = 4 * 1024 * 1024; /* the window, not the buffer, limits from now on */
	ck_assert_int_eq(net_setsockopt(net.f[0].afd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
					sizeof(sndbuf)), 0);
	net.f[0].limit = 0;
	cc_run(1000000, false);
	ck_assert_uint_eq(cc_counter("tcp.retransmits"), 0);
	double segs = (double)tp->cwnd / CC_MSS;
	printf("tcp_cc: CUBIC app-limited for 10 s (2 segments every %lld ms): cwnd %.1f segments "
	       "before, %.1f one second after it ends\n", (long long)(period_us / 1000),
	       (double)w1 / CC_MSS, segs);
	ck_assert_msg(segs < 3.0 * w1 / CC_MSS, "cwnd %.1f segments one second after 10 s of "
		      "app-limited sending (%.1f before): t ran on", segs, (double)w1 / CC_MSS);
	ck_assert_uint_gt(tp->cwnd, w1);
	ck_assert(!net.f[0].bad);
	cc_finish(NULL);
}

START_TEST(cubic_time_stops_while_app_limited)
{
	cubic_app_limited_for_10s(50000); /* the flight empties: on_tx_start */
	cubic_app_limited_for_10s(20000); /* it never does: on_app_limited */
}
END_TEST

/* ---- HyStart++ (RFC 9406) --------------------------------------------- */

/* A 10 Mbit/s bottleneck with 10 ms each way and a deep queue (300
 * frames, 15 times the path's 20 frames): standard slow start (Reno here)
 * doubles cwnd until the queue overflows and loses a large part of a
 * window; CUBIC's HyStart++ sees the round's lowest RTT rise as the queue
 * builds, goes to conservative slow start (CSS) and, five rounds later,
 * to congestion avoidance with ssthresh = cwnd, before any loss. */
static uint64_t deep_queue_run(const char *cc, struct tcpplot_data *d)
{
	const struct impair_cfg fwd = { .delay_us = 10000, .rate_bps = 10000000ull,
					.queue_limit = 300 };
	const struct impair_cfg rev = { .delay_us = 10000 };

	cc_setup(&fwd, &rev, 15, true);
	cc_flow_start(cc, 3 * 1024 * 1024);
	cc_run(60 * 1000000LL, true);
	ck_assert(net.f[0].eof && !net.f[0].bad && net.f[0].got == 3 * 1024 * 1024);
	uint64_t rexmit = cc_counter("tcp.retransmits");
	printf("tcp_cc: 3 MB through 10 Mbit/s, 20 ms, a 300-frame queue, %s: %llu retransmissions, "
	       "%llu queue drops, HyStart++ %llu CSS, %llu exits, %.2f s\n", cc,
	       (unsigned long long)rexmit,
	       (unsigned long long)stats_get(&net.sim.a.stats, "impair.queue_full"),
	       (unsigned long long)cc_counter("tcp.hystart_css"),
	       (unsigned long long)cc_counter("tcp.hystart_exit"), net.sim.now / 1e6);
	fflush(stdout);
	cc_finish(d);
	return rexmit;
}

START_TEST(hystart_leaves_slow_start_before_the_queue_overflows)
{
	struct tcpplot_data d;

	ck_assert_uint_gt(deep_queue_run("reno", NULL), 0);
	ck_assert_uint_eq(deep_queue_run("cubic", &d), 0);
	size_t css = cc_find(&d, 0, "hystart_css");
	ck_assert_uint_lt(css, d.n);
	size_t ex = cc_find(&d, css, "hystart_exit");
	ck_assert_uint_lt(ex, d.n);
	/* CSS began once the queue stood from one round to the next (the
	 * round's lowest RTT up by 4 ms or more); five rounds of CSS grow
	 * cwnd by a quarter of slow start's doubling each (x1.25, 3.05 in
	 * all, where slow start would have grown it 32 times); then ssthresh =
	 * cwnd, short of the 320 frames (path and queue) that overflow */
	double at_css = (double)d.rows[css].cwnd / CC_MSS, at_exit = (double)d.rows[ex].cwnd / CC_MSS;
	printf("tcp_cc: HyStart++: CSS from %.1f segments (srtt %.1f ms), congestion avoidance "
	       "from %.1f\n", at_css, d.rows[css].srtt_us / 1000.0, at_exit);
	ck_assert_uint_eq(d.rows[ex].ssthresh, d.rows[ex].cwnd);
	ck_assert_msg(at_css > 20 && at_css < 160, "CSS began at %.1f segments", at_css);
	ck_assert_msg(at_exit / at_css > 2.0 && at_exit / at_css < 4.5,
		      "CSS grew cwnd from %.1f to %.1f segments", at_css, at_exit);
	ck_assert_msg(at_exit < 300, "HyStart++ left CSS at %.1f segments", at_exit);
	ck_assert_uint_eq(cc_find(&d, 0, "fast_retransmit"), d.n);
	tcpplot_free(&d);
}
END_TEST

/* ---- several losses in one window -------------------------------------- */

/* Drops segments 60, 63, 66 and 69 (once each) of a 1 MB flow; returns A's
 * counters. */
struct loss_stats {
	uint64_t rto, fast_retransmit, partial_ack, retransmits, retransmitted_bytes;
	uint64_t lost_retransmit;
	int64_t done_us;
};

static struct loss_stats four_losses(const char *cc, bool sack, bool rexmit_too)
{
	struct loss_stats st;
	static const uint32_t segs[] = { 60, 63, 66, 69 };

	cc_setup(&wan, &wan, 6, sack);
	for (int i = 0; i < 4; i++)
		net.drops.seg[i] = segs[i];
	net.drops.n = 4;
	net.drops.rexmit_too = rexmit_too;
	cc_flow_start(cc, 1024 * 1024);
	cc_run(120 * 1000000LL, true);
	ck_assert(net.f[0].eof && !net.f[0].bad && net.f[0].got == 1024 * 1024);
	st.done_us = net.sim.now;
	st.rto = cc_counter("tcp.rto");
	st.fast_retransmit = cc_counter("tcp.fast_retransmit");
	st.partial_ack = cc_counter("tcp.partial_ack");
	st.retransmits = cc_counter("tcp.retransmits");
	st.retransmitted_bytes = cc_counter("tcp.retransmitted_bytes");
	st.lost_retransmit = cc_counter("tcp.lost_retransmit");
	cc_finish(NULL);
	return st;
}

/* RFC 6582: NewReno (no SACK) repairs the four holes in one recovery, one
 * per partial ACK, with no RTO and nothing sent twice that arrived. Reno
 * leaves recovery at the first partial ACK, so it needs more. */
START_TEST(newreno_repairs_four_losses_of_a_window_without_rto)
{
	struct loss_stats nr = four_losses("newreno", false, false);
	ck_assert_uint_eq(nr.rto, 0);
	ck_assert_uint_eq(nr.fast_retransmit, 1);
	ck_assert_uint_eq(nr.partial_ack, 3);
	ck_assert_uint_eq(nr.retransmits, 4);
	ck_assert_uint_eq(nr.retransmitted_bytes, 4 * CC_SEG);

	struct loss_stats reno = four_losses("reno", false, false);
	ck_assert_msg(reno.rto > 0 || reno.fast_retransmit > 1,
		      "Reno repaired four holes in one recovery (%llu fast retransmits)",
		      (unsigned long long)reno.fast_retransmit);
}
END_TEST

/* RFC 6675: the same four losses, and the first retransmission of each
 * lost too. Without SACK the sender learns of the holes one RTT at a time
 * and, when the timer fires, sends again what already arrived; with SACK
 * it knows what arrived and costs fewer retransmitted bytes, and the
 * SACKs of data sent after each lost retransmission show it lost (as
 * Linux's tcp_mark_lost_retrans), so it goes again without an RTO. */
START_TEST(sack_repairs_the_same_losses_with_fewer_bytes)
{
	struct loss_stats with = four_losses("newreno", true, true);
	struct loss_stats without = four_losses("newreno", false, true);

	printf("tcp_cc: 4 losses and their first retransmissions: %llu bytes retransmitted "
	       "(%llu segments, %llu RTOs, %llu lost retransmissions found) with SACK, %llu (%llu, "
	       "%llu RTOs) without\n",
	       (unsigned long long)with.retransmitted_bytes, (unsigned long long)with.retransmits,
	       (unsigned long long)with.rto, (unsigned long long)with.lost_retransmit,
	       (unsigned long long)without.retransmitted_bytes,
	       (unsigned long long)without.retransmits, (unsigned long long)without.rto);
	ck_assert_uint_lt(with.retransmitted_bytes, without.retransmitted_bytes);
	/* the scoreboard at work: each hole exactly twice, the four lost
	 * retransmissions found from the SACKs, no RTO */
	ck_assert_uint_eq(with.retransmitted_bytes, 8 * CC_SEG);
	ck_assert_uint_eq(with.retransmits, 8);
	ck_assert_uint_eq(with.lost_retransmit, 4);
	ck_assert_uint_eq(with.rto, 0);
}
END_TEST

/* ---- fairness ---------------------------------------------------------- */

#define FAIR_RATE_BPS 10000000ull /* the bottleneck: 10 Mbit/s A to B */
#define FAIR_SECONDS 60

/* Jain's fairness index of n throughputs: (sum x)^2 / (n sum x^2); 1 is
 * an even share, 1/n one flow taking all. */
static double jain_index(const double *x, int n)
{
	double sum = 0, sq = 0;
	for (int i = 0; i < n; i++) {
		sum += x[i];
		sq += x[i] * x[i];
	}
	return sq > 0 ? sum * sum / (n * sq) : 0;
}

/* Two unlimited flows from A to B (algorithms cc0 and cc1, the second
 * starting one second later) through a 10 Mbit/s bottleneck with 10 ms
 * each way and a queue of 50 frames (on the way, as netem counts), for
 * FAIR_SECONDS of virtual time. Returns Jain's index of the bytes each
 * delivered; got[] the bytes. */
static double fairness(const char *cc0, const char *cc1, uint64_t seed, double got[2])
{
	const struct impair_cfg fwd = { .delay_us = 10000, .rate_bps = FAIR_RATE_BPS,
					.queue_limit = 50 };
	const struct impair_cfg rev = { .delay_us = 10000 };

	cc_setup(&fwd, &rev, seed, true);
	net.sim.a.tcp.tcp_trace = NULL; /* a minute of rows is not needed */
	cc_flow_start(cc0, CC_UNLIMITED);
	cc_run(1000000, false);
	cc_flow_start(cc1, CC_UNLIMITED);
	cc_run((FAIR_SECONDS - 1) * 1000000LL, false);
	for (int i = 0; i < 2; i++) {
		ck_assert(!net.f[i].bad);
		got[i] = (double)net.f[i].got;
	}
	double j = jain_index(got, 2);
	double mbps = (got[0] + got[1]) * 8 / FAIR_SECONDS / 1e6;
	printf("tcp_cc: fairness %s vs %s over %d s at 10 Mbit/s, 20 ms RTT, 50-frame queue: "
	       "Jain's index %.3f (%.1f MB and %.1f MB, %.2f Mbit/s together, %llu queue drops)\n",
	       cc0, cc1, FAIR_SECONDS, j, got[0] / 1e6, got[1] / 1e6, mbps,
	       (unsigned long long)stats_get(&net.sim.a.stats, "impair.queue_full"));
	fflush(stdout);
	ck_assert_uint_gt(stats_get(&net.sim.a.stats, "impair.queue_full"), 0); /* a real bottleneck */
	cc_finish(NULL);
	return j;
}

/* Two flows of algorithm cc share the bottleneck fairly (Jain's index at
 * least 0.9) and keep it busy (at least 80% of its rate). */
static void expect_fair_pair(const char *cc, uint64_t seed)
{
	double got[2];
	double j = fairness(cc, cc, seed, got);
	ck_assert_msg(j >= 0.9, "two %s flows: Jain's index %.3f", cc, j);
	ck_assert_msg((got[0] + got[1]) * 8 / FAIR_SECONDS > 0.8 * FAIR_RATE_BPS,
		      "the link is not kept busy: %.0f bytes", got[0] + got[1]);
}

START_TEST(two_newreno_flows_share_fairly)
{
	expect_fair_pair("newreno", 11);
}
END_TEST

START_TEST(two_cubic_flows_share_fairly)
{
	expect_fair_pair("cubic", 12);
}
END_TEST

/* CUBIC against Reno: only measured (the figure is printed); both must
 * get somewhere. */
START_TEST(cubic_vs_reno_is_measured)
{
	double got[2];
	double j = fairness("cubic", "reno", 13, got);
	printf("tcp_cc: CUBIC vs Reno Jain's index = %.3f (CUBIC %.1f MB, Reno %.1f MB)\n", j,
	       got[0] / 1e6, got[1] / 1e6);
	ck_assert_msg(got[0] > 1e6 && got[1] > 1e6, "a flow starved: %.0f and %.0f bytes", got[0],
		      got[1]);
}
END_TEST

/* ---- buffers on a long fat path --------------------------------------- */

/* A 400 Mbit/s path with 20 ms each way holds 2 MB: with buffers of
 * 256 KB the flight could never pass 256 KB. The buffers (4 MB by
 * default, memory taken only as data fills them) and the window scale
 * chosen at SYN time (RFC 7323 2.3) let the flight and the window that B
 * advertises grow past 1 MB. */
START_TEST(long_fat_path_grows_the_window_past_256k)
{
	const struct impair_cfg fwd = { .delay_us = 20000, .rate_bps = 400000000ull,
					.queue_limit = 4000 };
	const struct impair_cfg rev = { .delay_us = 20000 };
	const uint64_t total = 40ull * 1024 * 1024;

	cc_setup(&fwd, &rev, 21, true);
	cc_flow_start("cubic", total);
	net.f[0].hold = true;
	cc_run(100000, false);
	/* established and idle: 4 MB limits, no memory yet */
	struct tcb *tp = cc_tcb(0);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(tp->sndbuf.limit, 4 * 1024 * 1024);
	ck_assert_uint_eq(tp->rcvbuf.limit, 4 * 1024 * 1024);
	ck_assert_uint_eq(tp->sndbuf.cap + tp->rcvbuf.cap, 0);
	net.f[0].hold = false;
	uint32_t max_wnd = 0, max_flight = 0;
	uint8_t ws = 0;
	size_t b_cap = 0;
	while (!cc_all_done() && net.sim.now < 60 * 1000000LL) {
		cc_run(1000, true);
		if (net.f[0].bfd >= 0) {
			struct tcb *bt = socket_get(net.f[0].bfd)->proto;
			b_cap = bt->rcvbuf.cap > b_cap ? bt->rcvbuf.cap : b_cap;
		}
		if (tp->state != TCP_ESTABLISHED)
			continue;
		ws = tp->opt.snd_wscale;
		max_wnd = tp->snd.wnd > max_wnd ? tp->snd.wnd : max_wnd;
		uint32_t flight = tp->snd.max - tp->snd.una;
		max_flight = flight > max_flight ? flight : max_flight;
	}
	ck_assert(net.f[0].eof && !net.f[0].bad && net.f[0].got == total);
	double secs = net.sim.now / 1e6;
	printf("tcp_cc: 40 MB over 400 Mbit/s, 40 ms RTT: window %u, flight %u bytes at most, "
	       "B's window scale %u, %.2f s of virtual time; memory: A's send ring %zu bytes, B's "
	       "receive ring %zu (B reads at every event)\n", max_wnd, max_flight, ws, secs,
	       tp->sndbuf.cap, b_cap);
	fflush(stdout);
	cc_finish(NULL);
	ck_assert_uint_ge(ws, 7); /* 65535 << 7 covers 4 MB */
	ck_assert_uint_gt(max_wnd, 1024 * 1024);
	ck_assert_uint_gt(max_flight, 1024 * 1024);
	ck_assert_uint_le(b_cap, 4 * 1024 * 1024);
}
END_TEST

/* SO_RCVBUF still bounds the window: 64 KB on B's listener before the
 * handshake gives a shift of 1 (65535 << 1 covers it) and a flight that
 * never passes 64 KB. */
START_TEST(so_rcvbuf_still_bounds_the_window)
{
	const uint64_t total = 2 * 1024 * 1024;
	int small = 64 * 1024;

	cc_setup(&wan, &wan, 22, true);
	cc_flow_start("cubic", total);
	ck_assert_int_eq(net_setsockopt(net.f[0].lfd, SOL_SOCKET, SO_RCVBUF, &small,
					sizeof(small)), 0);
	/* the SYN is on its way: B answers it with the listener's buffer */
	uint32_t max_flight = 0;
	struct tcb *tp = cc_tcb(0);
	while (!cc_all_done() && net.sim.now < 60 * 1000000LL) {
		cc_run(1000, true);
		uint32_t flight = tp->snd.max - tp->snd.una;
		max_flight = flight > max_flight ? flight : max_flight;
		if (tp->state == TCP_ESTABLISHED)
			ck_assert_uint_eq(tp->opt.snd_wscale, 1);
	}
	ck_assert(net.f[0].eof && !net.f[0].bad && net.f[0].got == total);
	cc_finish(NULL);
	ck_assert_uint_le(max_flight, 64 * 1024 + 1);
	ck_assert_uint_gt(max_flight, 32 * 1024);
}
END_TEST

/* One test case per shape, so CK_RUN_CASE=name runs one (with
 * TAPSTACK_CC_TRACE=FILE keeping its trace for tcpplot). */
static void cc_case(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

Suite *tcp_cc_suite(void)
{
	Suite *s = suite_create("tcp_cc");
	cc_case(s, "initial_window", initial_window_rfc6928_iw_flag_and_lost_syn);
	cc_case(s, "slow_start", slow_start_doubles_cwnd_each_rtt);
	cc_case(s, "reno_ca", reno_congestion_avoidance_one_mss_per_rtt);
	cc_case(s, "reno_halving", three_dupacks_halve_reno);
	cc_case(s, "cubic_beta", three_dupacks_scale_cubic_by_0_7);
	cc_case(s, "cubic_curve", cubic_concave_then_convex);
	cc_case(s, "cubic_reno_friendly", cubic_reno_friendly_on_a_short_path);
	cc_case(s, "rto_reno", rto_drops_reno_to_one_segment);
	cc_case(s, "rto_cubic", rto_drops_cubic_to_one_segment);
	cc_case(s, "idle_restart", idle_longer_than_rto_restarts_from_the_initial_window);
	cc_case(s, "app_limited", app_limited_flow_does_not_grow_cwnd);
	cc_case(s, "cubic_app_limited", cubic_time_stops_while_app_limited);
	cc_case(s, "hystart", hystart_leaves_slow_start_before_the_queue_overflows);
	cc_case(s, "newreno", newreno_repairs_four_losses_of_a_window_without_rto);
	cc_case(s, "sack", sack_repairs_the_same_losses_with_fewer_bytes);
	cc_case(s, "fair_newreno", two_newreno_flows_share_fairly);
	cc_case(s, "fair_cubic", two_cubic_flows_share_fairly);
	cc_case(s, "cubic_vs_reno", cubic_vs_reno_is_measured);
	cc_case(s, "long_fat_path", long_fat_path_grows_the_window_past_256k);
	cc_case(s, "so_rcvbuf", so_rcvbuf_still_bounds_the_window);
	return s;
}

/* The wall time of one ACK in SACK recovery (tcp_sack.c's pipe and
 * NextSeg()), with a 64-byte MSS and 512 KB or 4 MB in flight: a
 * micro-benchmark on one host and the test harness's device (no network,
 * no root). The ACK SACKs three single segments at the top of the flight,
 * so one hole of all the rest is lost and the host retransmits what cwnd
 * allows from its start. Prints, never fails. Built by
 * `make build/bench/sackwalk`; the figures measured are in the dated notes
 * beside it (2026-12-07-sack-walk.md). */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tcp/tcp.h"
#include "tests/tcp_harness.h"

#define SMALL_MSS 64

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One ACK over flight bytes in flight, cwnd cwnd_segs segments: its wall
 * time in seconds; its retransmissions and steps in *sent, *steps. */
static double one_ack(uint32_t flight, uint32_t cwnd_segs, uint64_t *sent, uint64_t *steps)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	tp->opt.snd_mss = SMALL_MSS; /* as a peer could make it before the MSS floor */
	tp->opt.sack_ok = true;
	tp->opt.ws_ok = true;
	tp->opt.snd_wscale = 7;
	tp->snd.wnd = tp->snd.max_wnd = 65535u << 7;
	ring_set_limit(&tp->sndbuf, flight);
	th_queue(tp, flight);
	tp->snd.nxt = tp->snd.max = tp->snd.una + flight; /* as if sent */
	tp->rec.in_recovery = tp->rec.sack_recovery = true;
	tp->rec.recover = tp->snd.max;
	tp->rec.high_rxt = tp->snd.una;
	tp->cwnd = tp->ssthresh = cwnd_segs * SMALL_MSS;

	struct tcp_seg seg = SEG(.flags = TCP_FLAG_ACK, .seq = tp->rcv.nxt, .ack = tp->snd.una);
	seg.opt.nsack = 3;
	for (uint32_t i = 0; i < 3; i++) {
		seg.opt.sack[i][0] = tp->snd.max - (2 * i + 1) * SMALL_MSS;
		seg.opt.sack[i][1] = tp->snd.max - 2 * i * SMALL_MSS;
	}
	uint64_t steps0 = stats_get(&t.h.s.stats, "tcp.sack_walk_steps");
	double t0 = now_s();
	th_inject(&t, seg);
	double dt = now_s() - t0;
	*sent = stats_get(&t.h.s.stats, "tcp.sack_retransmits");
	*steps = stats_get(&t.h.s.stats, "tcp.sack_walk_steps") - steps0;
	while (testdev_sent_count(t.h.dev))
		pkt_free(testdev_take_sent(t.h.dev));
	th_fini(&t);
	return dt;
}

#define REPEAT 5

/* One row: the median and the least of REPEAT runs, in ms. */
static void row(uint32_t flight, uint32_t cwnd_segs)
{
	double ms[REPEAT];
	uint64_t sent = 0, steps = 0;
	for (int i = 0; i < REPEAT; i++) {
		double v = one_ack(flight, cwnd_segs, &sent, &steps) * 1000;
		int k = i;
		for (; k > 0 && ms[k - 1] > v; k--)
			ms[k] = ms[k - 1];
		ms[k] = v;
	}
	printf("| %u KB | %u | %" PRIu64 " | %" PRIu64 " | %.3f | %.3f |\n", flight / 1024, cwnd_segs,
	       sent, steps, ms[REPEAT / 2], ms[0]);
	fflush(stdout);
}

static bool quick;

/* The harness asserts with Check, so the figures are taken in a test case
 * of Check's runner (not forked: one process, as timed). */
START_TEST(bench)
{
	printf("one ACK in SACK recovery, MSS %u\n\n", SMALL_MSS);
	printf("| in flight | cwnd (segments) | retransmitted | scoreboard steps | ms, median of %d | ms, least |\n",
	       REPEAT);
	printf("|---|---|---|---|---|---|\n");
	const uint32_t flights[] = { 512 * 1024, 4 * 1024 * 1024 };
	const uint32_t cwnds[] = { 64, 1024 };
	for (size_t f = 0; f < 2; f++)
		for (size_t c = 0; c < (quick ? 1 : 2); c++)
			row(flights[f], cwnds[c]);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argv;
	quick = argc > 1; /* any argument: leave out the cwnd of 1024 segments */
	Suite *s = suite_create("sackwalk");
	TCase *tc = tcase_create("bench");
	tcase_add_test(tc, bench);
	tcase_set_timeout(tc, 3600);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_SILENT);
	srunner_free(sr);
	return 0; /* a benchmark prints, never fails */
}

/* The SACK sender's cost and its floor (tcp_sack.c, tcp_output.c's
 * tcp_negotiate): one ACK in SACK recovery with 4 MB in flight and a
 * 64-byte MSS visits a bounded number of scoreboard entries (counted in
 * tcp.sack_walk_steps), whatever the flight; the pipe kept that way equals
 * a full recount over the flight after every ACK of lossy transfers on a
 * simlink, seed after seed; and a peer's MSS option below the floor is
 * raised to it (tcp.mss_raised). */
#include <check.h>
#include <string.h>

#include "stack/net.h"
#include "tcp/tcp_internal.h"
#include "tests/sim.h"
#include "tests/tcp_harness.h"

#define SMALL_MSS 64
#define FLIGHT (4u * 1024 * 1024)

static uint64_t counter(struct tcp_harness *t, const char *name)
{
	return stats_get(&t->h.s.stats, name);
}

/* A connection in SACK recovery with flight bytes sent (the send ring
 * holds them) in segments of SMALL_MSS, none acknowledged or SACKed yet,
 * nothing retransmitted, cwnd cwnd_segs segments. */
static struct tcb *in_sack_recovery(struct tcp_harness *t, uint32_t flight, uint32_t cwnd_segs)
{
	struct tcb *tp = th_tcb_in_state(t, TCP_ESTABLISHED);
	tp->opt.snd_mss = SMALL_MSS;
	tp->opt.sack_ok = true;
	tp->opt.ws_ok = true;
	tp->opt.snd_wscale = 7;
	tp->snd.wnd = tp->snd.max_wnd = 65535u << 7; /* what SEG's window says */
	ring_set_limit(&tp->sndbuf, flight);
	th_queue(tp, flight);
	tp->snd.nxt = tp->snd.max = tp->snd.una + flight; /* as if sent */
	tp->rec.in_recovery = tp->rec.sack_recovery = true;
	tp->rec.recover = tp->snd.max;
	tp->rec.high_rxt = tp->snd.una;
	tp->cwnd = tp->ssthresh = cwnd_segs * SMALL_MSS;
	return tp;
}

/* The peer's duplicate ACK of snd.una with SACK blocks relative to iss. */
static void peer_sack(struct tcp_harness *t, struct tcb *tp, int n, const uint32_t (*blocks)[2])
{
	struct tcp_seg seg = SEG(.flags = TCP_FLAG_ACK, .seq = tp->rcv.nxt, .ack = tp->snd.una);
	seg.opt.nsack = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		seg.opt.sack[i][0] = t->iss + blocks[i][0];
		seg.opt.sack[i][1] = t->iss + blocks[i][1];
	}
	th_inject(t, seg);
}

/* Takes every segment the host sent; returns how many. */
static int take_all(struct tcp_harness *t)
{
	int n = 0;
	while (testdev_sent_count(t->h.dev)) {
		struct tcp_seg out;
		th_expect(t, &out);
		n++;
	}
	return n;
}

/* Three SACK blocks of one segment each at the top of a flight of flight
 * bytes from iss + 1, two segments apart: [top - 5, top - 4), [top - 3,
 * top - 2), [top - 1, top) in segments. Below them, one big hole. */
static void tail_blocks(uint32_t flight, uint32_t blocks[3][2])
{
	uint32_t top = 1 + flight;
	for (uint32_t i = 0; i < 3; i++) {
		blocks[i][0] = top - (2 * i + 1) * SMALL_MSS;
		blocks[i][1] = top - 2 * i * SMALL_MSS;
	}
}

/* One ACK that SACKs the tail of a 4 MB flight leaves a hole of 65,000
 * segments of 64 bytes, all lost (RFC 6675 IsLost): the host retransmits
 * what cwnd allows from its start. The work of that ACK follows the SACK
 * blocks and the segments sent, not the flight: a bounded number of the
 * scoreboard's holes and retransmission records visited per segment sent
 * (below). The old SetPipe walked the whole hole segment
 * by segment for each retransmission (about 65,000 steps each). */
START_TEST(one_ack_at_4mb_in_flight_visits_a_bounded_scoreboard)
{
	struct tcp_harness t;
	th_init(&t);
	const uint32_t cwnd_segs = 32;
	struct tcb *tp = in_sack_recovery(&t, FLIGHT, cwnd_segs);
	uint32_t blocks[3][2];
	tail_blocks(FLIGHT, blocks);

	uint64_t steps0 = counter(&t, "tcp.sack_walk_steps");
	peer_sack(&t, tp, 3, (const uint32_t(*)[2])blocks);
	uint64_t steps = counter(&t, "tcp.sack_walk_steps") - steps0;
	uint64_t sent = counter(&t, "tcp.sack_retransmits");
	int frames = take_all(&t);

	/* the behaviour: the two small holes between the blocks are not lost
	 * yet (IsLost: fewer than DupThresh ranges and not more than 2 SMSS
	 * above them), so they count in the pipe; the big hole's first
	 * cwnd_segs - 2 segments go again, once each */
	ck_assert_uint_eq(sent, cwnd_segs - 2);
	ck_assert_int_eq(frames, (int)cwnd_segs - 2);
	ck_assert_uint_eq(tp->rec.high_rxt, tp->snd.una + (cwnd_segs - 2) * SMALL_MSS);
	ck_assert_uint_eq(tp->sack.nscoreboard, 3);
	/* the cost: bounded by the SACK state and the segments sent. Per
	 * segment sent: a pipe (the holes, twice the retransmission records),
	 * NextSeg's hole, a look for a lost retransmission to send again (a
	 * hole per record); once for the ACK: the lost retransmissions marked
	 * (a hole per record). The holes are at most TCP_SACK_SCOREBOARD + 1. */
	const uint64_t holes = TCP_SACK_SCOREBOARD + 1;
	uint64_t per_seg = holes + 2 * TCP_RXT_RECORDS + holes + TCP_RXT_RECORDS * holes;
	uint64_t bound = (sent + 2) * per_seg + TCP_RXT_RECORDS * holes;
	printf("one ACK, %u bytes in flight, MSS %u: %llu scoreboard steps for %llu "
	       "retransmissions (bound %llu)\n", FLIGHT, SMALL_MSS, (unsigned long long)steps,
	       (unsigned long long)sent, (unsigned long long)bound);
	ck_assert_uint_gt(steps, 0);
	ck_assert_uint_le(steps, bound);
	th_fini(&t);
}
END_TEST

START_TEST(walk_steps_do_not_grow_with_the_flight)
{
	/* the same ACK over 64 KB and over 4 MB in flight costs the same */
	uint64_t steps[2];
	const uint32_t flights[2] = { 64 * 1024, FLIGHT };
	for (int k = 0; k < 2; k++) {
		struct tcp_harness t;
		th_init(&t);
		struct tcb *tp = in_sack_recovery(&t, flights[k], 8);
		uint32_t blocks[3][2];
		tail_blocks(flights[k], blocks);
		peer_sack(&t, tp, 3, (const uint32_t(*)[2])blocks);
		steps[k] = counter(&t, "tcp.sack_walk_steps");
		ck_assert_int_eq(take_all(&t), 8 - 2);
		th_fini(&t);
	}
	ck_assert_uint_eq(steps[0], steps[1]);
}
END_TEST

/* ---- the pipe against a full recount, after every ACK ---------------------- */

#define PIPE_SEEDS 12
#define PIPE_BYTES (1024 * 1024)
#define PIPE_PORT 5001

/* One transfer of PIPE_BYTES each way over a lossy, reordering link with
 * the recount on in both hosts: every pipe the sender computes is compared
 * with tcp_sack_pipe_walk (tcp.sack_pipe_mismatch). */
static void pipe_run(uint64_t seed, uint64_t *checked, uint64_t *mismatch, uint64_t *recoveries)
{
	static struct sim sim;
	const struct impair_cfg cfg = { .loss = 0.08, .reorder = 0.05, .dup = 0.01,
					.delay_us = 5000, .jitter_us = 1000 };
	sim_init(&sim, &cfg, seed);
	sim.a.tcp.sack_pipe_check = sim.b.tcp.sack_pipe_check = true;
	sim_attach(&sim, &sim.b);
	int lfd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(PIPE_PORT) };
	ck_assert_int_eq(net_bind(lfd, (struct sockaddr *)&me, sizeof(me)), 0);
	ck_assert_int_eq(net_listen(lfd, 4), 0);
	sim_attach(&sim, &sim.a);
	static struct sim_side a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.total = b.total = PIPE_BYTES;
	b.who = 1;
	b.fd = -1;
	a.fd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PIPE_PORT),
				  .sin_addr.s_addr = htonl(SIM_B_IP) };
	net_connect(a.fd, (struct sockaddr *)&to, sizeof(to));
	while (!(a.closed && b.closed) && sim.now < 600LL * 1000000) {
		if (b.fd < 0 && (b.fd = sim_accept(lfd)) >= 0) {
			net_close(lfd);
			lfd = -1;
		}
		if (!a.closed)
			sim_side_step(&a);
		if (b.fd >= 0 && !b.closed)
			sim_side_step(&b);
		sim_step(&sim, 1000);
	}
	ck_assert_msg(a.closed && b.closed && !a.bad && !b.bad && a.received == PIPE_BYTES &&
		      b.received == PIPE_BYTES, "seed %llu: transfer incomplete", (unsigned long long)seed);
	*checked += stats_get(&sim.a.stats, "tcp.sack_pipe_checked") +
		    stats_get(&sim.b.stats, "tcp.sack_pipe_checked");
	*mismatch += stats_get(&sim.a.stats, "tcp.sack_pipe_mismatch") +
		     stats_get(&sim.b.stats, "tcp.sack_pipe_mismatch");
	*recoveries += stats_get(&sim.a.stats, "tcp.sack_recovery") +
		       stats_get(&sim.b.stats, "tcp.sack_recovery");
	if (lfd >= 0)
		net_close(lfd);
	sim_run_until(&sim, sim.now + 5 * 60 * 1000000LL);
	sim_fini(&sim);
}

START_TEST(pipe_equals_a_full_recount_after_every_ack)
{
	uint64_t checked = 0, mismatch = 0, recoveries = 0;
	for (uint64_t seed = 1; seed <= PIPE_SEEDS; seed++)
		pipe_run(seed, &checked, &mismatch, &recoveries);
	printf("pipe recount: %llu pipes checked in %llu SACK recoveries, %llu differ\n",
	       (unsigned long long)checked, (unsigned long long)recoveries,
	       (unsigned long long)mismatch);
	ck_assert_uint_gt(recoveries, 0);
	ck_assert_uint_gt(checked, 1000);
	ck_assert_uint_eq(mismatch, 0);
}
END_TEST

/* ---- the MSS floor ------------------------------------------------------------ */

START_TEST(peer_mss_below_the_floor_is_raised)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_RECEIVED);

	tcp_negotiate(tp, &SEG(.flags = TCP_FLAG_SYN, .opt = { .mss_ok = true, .mss = 64 }));
	ck_assert_uint_eq(tp->opt.snd_mss, TCP_MIN_SND_MSS);
	ck_assert_uint_eq(counter(&t, "tcp.mss_raised"), 1);
	tcp_negotiate(tp, &SEG(.flags = TCP_FLAG_SYN, .opt = { .mss_ok = true, .mss = 1 }));
	ck_assert_uint_eq(tp->opt.snd_mss, TCP_MIN_SND_MSS);
	ck_assert_uint_eq(counter(&t, "tcp.mss_raised"), 2);
	/* at the floor and above: the peer's value, not counted */
	tcp_negotiate(tp, &SEG(.flags = TCP_FLAG_SYN, .opt = { .mss_ok = true, .mss = TCP_MIN_SND_MSS }));
	ck_assert_uint_eq(tp->opt.snd_mss, TCP_MIN_SND_MSS);
	tcp_negotiate(tp, &SEG(.flags = TCP_FLAG_SYN, .opt = { .mss_ok = true, .mss = 1000 }));
	ck_assert_uint_eq(tp->opt.snd_mss, 1000);
	ck_assert_uint_eq(counter(&t, "tcp.mss_raised"), 2);
	th_fini(&t);
}
END_TEST

Suite *tcp_sack_suite(void)
{
	Suite *s = suite_create("tcp_sack");
	TCase *tc = tcase_create("bounded");
	tcase_add_test(tc, one_ack_at_4mb_in_flight_visits_a_bounded_scoreboard);
	tcase_add_test(tc, walk_steps_do_not_grow_with_the_flight);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tc = tcase_create("recount");
	tcase_add_test(tc, pipe_equals_a_full_recount_after_every_ack);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	tc = tcase_create("mss");
	tcase_add_test(tc, peer_mss_below_the_floor_is_raised);
	suite_add_tcase(s, tc);
	return s;
}

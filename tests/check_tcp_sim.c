/* Simulated TCP: two hosts on a simlink that loses, reorders, duplicates and
 * corrupts, each sending 10 MB to the other at once. Every byte must arrive
 * intact and in order, both sides must close cleanly, and nothing may be
 * left behind (pool, control blocks). A failing seed is run again with a
 * pcap of the link, to look at in Wireshark. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/pcapdev.h"
#include "stack/net.h"
#include "tests/sim.h"

#define XFER_BYTES (10 * 1024 * 1024)
/* bytes each host sends in the current run: xfer_bytes[0] A's, [1] B's */
static uint64_t xfer_bytes[2] = { XFER_BYTES, XFER_BYTES };
#define XFER_PORT 5000
#define XFER_SEEDS 100
#define XFER_MAX_VIRTUAL_US (3600LL * 1000000) /* an hour of virtual time at most */

/* What a transfer left in the hosts' counters, A's and B's added. */
struct xfer_stats {
	uint64_t retransmitted_bytes, rto, sack_recovery;
	uint64_t fast_retransmit, dsack_sent, dsack_received, dsack_undo;
};

/* The impairments of the transfer test: loss, reordering, duplicates,
 * corruption, 5 ms each way. */
static const struct impair_cfg xfer_rough = { .loss = 0.10, .reorder = 0.10, .dup = 0.01,
					      .corrupt = 0.01, .delay_us = 5000, .jitter_us = 1000 };

/* Runs one transfer (xfer_bytes from each host) over a link impaired as cfg
 * says, with this seed and SACK on or off on both hosts; returns NULL or
 * what went wrong, and the counters in *st (if not NULL). With pcap_path,
 * the link's frames are written there (seen from A). */
static const char *xfer_run_cfg(uint64_t seed, const char *pcap_path,
				const struct impair_cfg *impair, bool sack, struct xfer_stats *st)
{
	static struct sim sim;
	static char why[200];
	struct impair_cfg cfg = *impair;
	struct netdev *w = NULL, *inner = NULL;
	sim_init(&sim, &cfg, seed);
	sim.a.tcp.no_sack = sim.b.tcp.no_sack = !sack;
	inner = sim.a.ifs[0].dev;
	if (pcap_path) {
		char err[200];
		w = pcapdev_wrap(sim.a.ifs[0].dev, pcap_path, 0, err, sizeof(err));
		if (w) {
			w->stats = &sim.a.stats;
			sim.a.ifs[0].dev = w;
		}
	}
	sim_attach(&sim, &sim.b);
	int lfd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(XFER_PORT) };
	ck_assert_int_eq(net_bind(lfd, (struct sockaddr *)&me, sizeof(me)), 0);
	ck_assert_int_eq(net_listen(lfd, 4), 0);
	sim_attach(&sim, &sim.a);
	static struct sim_side a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.total = xfer_bytes[0];
	b.who = 1;
	b.total = xfer_bytes[1];
	b.fd = -1;
	a.fd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(XFER_PORT),
				  .sin_addr.s_addr = htonl(SIM_B_IP) };
	ck_assert_int_eq(net_connect(a.fd, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);

	const char *fail = NULL;
	while (!(a.closed && b.closed)) {
		if (sim.now > XFER_MAX_VIRTUAL_US) {
			snprintf(why, sizeof(why), "seed %llu: not finished after an hour of virtual time "
				 "(A sent %llu got %llu, B sent %llu got %llu)", (unsigned long long)seed,
				 (unsigned long long)a.sent, (unsigned long long)a.received,
				 (unsigned long long)b.sent, (unsigned long long)b.received);
			fail = why;
			break;
		}
		if (b.fd < 0) {
			b.fd = sim_accept(lfd);
			if (b.fd >= 0) {
				net_close(lfd);
				lfd = -1;
			}
		}
		if (!a.closed)
			sim_side_step(&a);
		if (b.fd >= 0 && !b.closed)
			sim_side_step(&b);
		if ((a.eof && (a.bad || a.received != xfer_bytes[1])) ||
		    (b.eof && (b.bad || b.received != xfer_bytes[0]))) {
			snprintf(why, sizeof(why), "seed %llu: stream damaged or cut short (A got %llu%s, "
				 "B got %llu%s)", (unsigned long long)seed, (unsigned long long)a.received,
				 a.bad ? " with bad bytes" : "", (unsigned long long)b.received,
				 b.bad ? " with bad bytes" : "");
			fail = why;
			break;
		}
		sim_step(&sim, 1000); /* to the next event of either host, or 1 ms */
	}
	if (!fail) {
		/* TIME-WAIT and the last retransmissions end: the tables empty */
		sim_run_until(&sim, sim.now + 5 * 60 * 1000000LL);
		if (sim.a.tcp.count || sim.b.tcp.count) {
			snprintf(why, sizeof(why), "seed %llu: %u and %u control blocks left after the close",
				 (unsigned long long)seed, sim.a.tcp.count, sim.b.tcp.count);
			fail = why;
		}
	}
	if (st) {
		st->retransmitted_bytes = stats_get(&sim.a.stats, "tcp.retransmitted_bytes") +
					  stats_get(&sim.b.stats, "tcp.retransmitted_bytes");
		st->rto = stats_get(&sim.a.stats, "tcp.rto") + stats_get(&sim.b.stats, "tcp.rto");
		st->sack_recovery = stats_get(&sim.a.stats, "tcp.sack_recovery") +
				    stats_get(&sim.b.stats, "tcp.sack_recovery");
		st->fast_retransmit = stats_get(&sim.a.stats, "tcp.fast_retransmit") +
				      stats_get(&sim.b.stats, "tcp.fast_retransmit");
		st->dsack_sent = stats_get(&sim.a.stats, "tcp.dsack_sent") +
				 stats_get(&sim.b.stats, "tcp.dsack_sent");
		st->dsack_received = stats_get(&sim.a.stats, "tcp.dsack_received") +
				     stats_get(&sim.b.stats, "tcp.dsack_received");
		st->dsack_undo = stats_get(&sim.a.stats, "tcp.dsack_undo") +
				 stats_get(&sim.b.stats, "tcp.dsack_undo");
	}
	if (lfd >= 0)
		net_close(lfd);
	if (w) {
		sim.a.ifs[0].dev = inner;
		netdev_close(w); /* flushes the pcap; the simlink end stays */
	}
	sim_fini(&sim);
	return fail;
}

/* The transfer test's run: 10 MB each way over the rough link, SACK on. */
static const char *xfer_run(uint64_t seed, const char *pcap_path)
{
	xfer_bytes[0] = xfer_bytes[1] = XFER_BYTES;
	return xfer_run_cfg(seed, pcap_path, &xfer_rough, true, NULL);
}

START_TEST(tcp_sim_transfer_both_ways)
{
	uint64_t seed = 1000 + (uint64_t)_i;
	const char *fail = xfer_run(seed, NULL);
	if (fail) {
		char path[128];
		snprintf(path, sizeof(path), "/tmp/tapstack-tcp-seed-%llu.pcap", (unsigned long long)seed);
		xfer_run(seed, path);
		ck_abort_msg("%s; the link's frames are in %s", fail, path);
	}
}
END_TEST

/* The same losses (same seeds, same link) cost fewer retransmitted bytes
 * with SACK (RFC 2018, RFC 6675: only the holes go again, several per
 * round trip) than without (NewReno: one hole per round trip, and more
 * timeouts with go-back-N after them). A sends 4 MB to B, B nothing. */
START_TEST(tcp_sim_sack_retransmits_fewer_bytes)
{
	const struct impair_cfg lossy = { .loss = 0.05, .delay_us = 5000 };
	struct xfer_stats with = { 0 }, without = { 0 };

	xfer_bytes[0] = 4 * 1024 * 1024;
	xfer_bytes[1] = 0;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		struct xfer_stats a, b;
		const char *fail = xfer_run_cfg(seed, NULL, &lossy, true, &a);
		ck_assert_msg(fail == NULL, "with SACK: %s", fail);
		fail = xfer_run_cfg(seed, NULL, &lossy, false, &b);
		ck_assert_msg(fail == NULL, "without SACK: %s", fail);
		with.retransmitted_bytes += a.retransmitted_bytes;
		with.rto += a.rto;
		with.sack_recovery += a.sack_recovery;
		without.retransmitted_bytes += b.retransmitted_bytes;
		without.rto += b.rto;
		without.sack_recovery += b.sack_recovery;
	}
	printf("tcp_sim: 3 x 4 MB, %.0f%% loss: retransmitted %llu bytes (%llu RTOs) with SACK, "
	       "%llu bytes (%llu RTOs) without\n", lossy.loss * 100,
	       (unsigned long long)with.retransmitted_bytes, (unsigned long long)with.rto,
	       (unsigned long long)without.retransmitted_bytes, (unsigned long long)without.rto);
	xfer_bytes[0] = xfer_bytes[1] = XFER_BYTES;
	ck_assert_uint_gt(with.sack_recovery, 0);
	ck_assert_uint_eq(without.sack_recovery, 0);
	ck_assert_uint_lt(with.retransmitted_bytes, without.retransmitted_bytes);
}
END_TEST

/* Reordering without loss (2% of the frames held back past those behind
 * them): fast retransmits that were not needed. B reports each needless
 * retransmission in a D-SACK (RFC 2883), and when all of a recovery's
 * retransmissions are reported A undoes its reduction (RFC 3708, RFC
 * 9438 4.9). A sends 4 MB, B nothing. */
START_TEST(tcp_sim_reordering_dsack_undoes_reductions)
{
	const struct impair_cfg reorder = { .reorder = 0.02, .delay_us = 5000 };
	struct xfer_stats st = { 0 };

	xfer_bytes[0] = 4 * 1024 * 1024;
	xfer_bytes[1] = 0;
	const char *fail = xfer_run_cfg(7, NULL, &reorder, true, &st);
	xfer_bytes[0] = xfer_bytes[1] = XFER_BYTES;
	ck_assert_msg(fail == NULL, "%s", fail);
	printf("tcp_sim: 4 MB, 2%% reordered, no loss: %llu fast retransmits, %llu bytes "
	       "retransmitted, %llu D-SACKs sent, %llu received, %llu reductions undone, %llu RTOs\n",
	       (unsigned long long)st.fast_retransmit, (unsigned long long)st.retransmitted_bytes,
	       (unsigned long long)st.dsack_sent, (unsigned long long)st.dsack_received,
	       (unsigned long long)st.dsack_undo, (unsigned long long)st.rto);
	ck_assert_uint_gt(st.fast_retransmit, 0);
	ck_assert_uint_gt(st.dsack_sent, 0);
	/* none is lost, but an ACK overtaken by a newer one is old news */
	ck_assert_uint_le(st.dsack_received, st.dsack_sent);
	ck_assert_uint_ge(st.dsack_received, st.dsack_sent * 9 / 10);
	ck_assert_uint_gt(st.dsack_undo, 0);
	ck_assert_uint_le(st.dsack_undo, st.fast_retransmit);
}
END_TEST

Suite *tcp_sim_suite(void)
{
	Suite *s = suite_create("tcp_sim");
	TCase *tc = tcase_create("transfer");
	tcase_set_timeout(tc, 600);
	int seeds = XFER_SEEDS;
	if (getenv("TAPSTACK_TCP_SIM_SEEDS"))
		seeds = atoi(getenv("TAPSTACK_TCP_SIM_SEEDS"));
	tcase_add_loop_test(tc, tcp_sim_transfer_both_ways, 0, seeds);
	suite_add_tcase(s, tc);
	tc = tcase_create("sack");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, tcp_sim_sack_retransmits_fewer_bytes);
	tcase_add_test(tc, tcp_sim_reordering_dsack_undoes_reductions);
	suite_add_tcase(s, tc);
	return s;
}

/* Simulated tests: two hosts joined by a simlink on virtual time. */
#include <check.h>
#include <errno.h>
#include <sys/time.h>
#include <stdlib.h>
#include <string.h>

#include "stack/net.h"
#include "stack/stack.h"
#include "tests/harness.h"
#include "tests/sim.h"

#define PINGS 1000
#define PING_DATA 56

/* A's view of a ping run: the sequence numbers of echo replies, in order. */
struct ping_run {
	struct sim sim;
	int replies[PINGS * 2];
	int nreplies;
	int bad_replies;   /* replies whose data differs from the request's */
};

/* The data of echo request seq: a pattern a reply must echo exactly. */
static void ping_data(int seq, uint8_t *d)
{
	for (int i = 0; i < PING_DATA; i++)
		d[i] = (uint8_t)(seq * 7 + i);
}

static void on_reply(void *ctx, uint32_t src, uint16_t id, uint16_t seq, const uint8_t *data, size_t len)
{
	struct ping_run *sim = ctx;
	uint8_t want[PING_DATA];
	ping_data(seq, want);
	if (src != SIM_B_IP || id != 0x4242 || len != PING_DATA || memcmp(data, want, len) != 0)
		sim->bad_replies++;
	if (sim->nreplies < PINGS * 2)
		sim->replies[sim->nreplies++] = seq;
}

/* Builds the two hosts, with A's echo replies going to the run. */
static void ping_init(struct ping_run *run, const struct impair_cfg *cfg, uint64_t seed)
{
	memset(run, 0, sizeof(*run));
	sim_init(&run->sim, cfg, seed);
	run->sim.a.icmp.on_echo_reply = on_reply;
	run->sim.a.icmp.ctx = run;
}

/* A pings B PINGS times, one every interval_us, then waits 5 s. */
static void sim_ping(struct ping_run *run, int64_t interval_us)
{
	uint8_t d[PING_DATA];
	for (int seq = 0; seq < PINGS; seq++) {
		sim_run_until(&run->sim, (int64_t)seq * interval_us + 1000);
		ping_data(seq, d);
		icmp_send_echo(&run->sim.a, SIM_B_IP, 0x4242, (uint16_t)seq, d, sizeof(d));
	}
	sim_run_until(&run->sim, (int64_t)PINGS * interval_us + 5000000);
}

START_TEST(sim_ping_perfect_wire)
{
	static struct ping_run sim;
	ping_init(&sim, NULL, 1);
	sim_ping(&sim, 10000);
	ck_assert_int_eq(sim.bad_replies, 0);
	ck_assert_int_eq(sim.nreplies, PINGS); /* every request answered, in order */
	for (int i = 0; i < PINGS; i++)
		ck_assert_int_eq(sim.replies[i], i);
	ck_assert_uint_eq(stats_get(&sim.sim.b.stats, "icmp.tx_echo_reply"), PINGS);
	sim_fini(&sim.sim);
}
END_TEST

/* The scenario: 1000 pings under 20% loss and 10% reordering. Each
 * reply must carry its request's exact data; the set of replies depends only
 * on the seed; and about (1 - 0.2)^2 of the pings come back. */
START_TEST(sim_ping_loss_and_reorder)
{
	static struct ping_run first, again, other;
	struct impair_cfg cfg = { .loss = 0.2, .reorder = 0.1, .delay_us = 2000, .jitter_us = 500 };

	ping_init(&first, &cfg, 1234);
	sim_ping(&first, 1000); /* 1 ms apart: a held-back frame gets overtaken */
	sim_fini(&first.sim);
	ck_assert_int_eq(first.bad_replies, 0);
	ck_assert_msg(first.nreplies > 560 && first.nreplies < 720,
		      "%d replies to 1000 pings at 20%% loss each way", first.nreplies);
	int in_order = 1, seen[PINGS] = { 0 };
	for (int i = 0; i < first.nreplies; i++) {
		ck_assert_int_eq(seen[first.replies[i]]++, 0); /* no duplicates */
		if (i && first.replies[i] < first.replies[i - 1])
			in_order = 0;
	}
	ck_assert_msg(!in_order, "10%% reordering should deliver some replies out of order");

	ping_init(&again, &cfg, 1234);
	sim_ping(&again, 1000);
	sim_fini(&again.sim);
	ck_assert_int_eq(again.nreplies, first.nreplies);
	ck_assert_mem_eq(again.replies, first.replies, sizeof(int) * (size_t)first.nreplies);

	ping_init(&other, &cfg, 999);
	sim_ping(&other, 1000);
	sim_fini(&other.sim);
	ck_assert_int_eq(other.bad_replies, 0);
	ck_assert(other.nreplies != first.nreplies ||
		  memcmp(other.replies, first.replies, sizeof(int) * (size_t)first.nreplies) != 0);
}
END_TEST

/* Corrupted frames are caught by the checksums and never answered wrongly. */
START_TEST(sim_ping_corruption_is_dropped)
{
	static struct ping_run sim;
	struct impair_cfg cfg = { .corrupt = 0.3 };
	ping_init(&sim, &cfg, 77);
	sim_ping(&sim, 10000);
	ck_assert_int_eq(sim.bad_replies, 0);
	ck_assert_int_gt(sim.nreplies, 300);
	ck_assert_int_lt(sim.nreplies, PINGS);
	uint64_t caught = 0;
	const char *reasons[] = { "ip.bad_checksum", "icmp.bad_checksum", "eth.not_for_us", "arp.bad_op",
				  "ip.not_for_us", "eth.unknown_type", "ip.bad_version" };
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		caught += stats_get(&sim.sim.a.stats, reasons[i]) + stats_get(&sim.sim.b.stats, reasons[i]);
	ck_assert_uint_gt(caught, 100);
	sim_fini(&sim.sim);
}
END_TEST


/* ---- UDP over the simulated link ---------------------------------------- */

#define DGRAMS 10000
#define DGRAM_MAX 60000
#define DGRAM_PORT 9000

/* The bytes of datagram seq of length len: its number, its length, then a
 * pattern that depends on both, so any mix-up of bytes is seen. */
static void dgram_fill(uint8_t *d, uint32_t seq, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		d[i] = (uint8_t)(seq * 31 + i * 7 + (i >> 8));
	if (len >= 8) {
		memcpy(d, &seq, 4);
		memcpy(d + 4, &len, 4);
	}
}

/* Reads every datagram waiting on fd, checking each against what was sent.
 * Returns how many arrived. */
static int dgram_drain(int fd, const uint32_t *sent_len, uint8_t *seen, uint8_t *buf, uint8_t *want)
{
	int n = 0;
	ssize_t r;
	while ((r = net_recv(fd, buf, DGRAM_MAX + 1, MSG_DONTWAIT)) >= 0) {
		uint32_t seq, len;
		ck_assert_int_ge(r, 8);
		memcpy(&seq, buf, 4);
		memcpy(&len, buf + 4, 4);
		ck_assert_uint_lt(seq, DGRAMS);
		ck_assert_uint_eq(len, sent_len[seq]);
		ck_assert_int_eq(r, (ssize_t)len);
		ck_assert_msg(!seen[seq], "datagram %u arrived twice", seq);
		seen[seq] = 1;
		dgram_fill(want, seq, len);
		ck_assert_msg(memcmp(buf, want, len) == 0, "datagram %u arrived damaged", seq);
		n++;
	}
	ck_assert_int_eq(r, -EAGAIN);
	return n;
}

/* The scenario: 10,000 datagrams of random sizes up to 60 KB (so
 * up to 41 fragments each) over a link with loss and reordering. What
 * arrives is exactly a subset of what was sent, byte for byte, each at most
 * once; and nothing is left in the packet pool afterwards. */
START_TEST(sim_udp_datagrams_loss_reorder)
{
	static struct sim sim;
	static uint32_t sent_len[DGRAMS];
	static uint8_t seen[DGRAMS], buf[DGRAM_MAX + 1], want[DGRAM_MAX];
	struct impair_cfg cfg = { .loss = 0.002, .reorder = 0.05, .delay_us = 1000, .jitter_us = 200 };
	struct rng r;
	rng_seed(&r, 5);
	memset(seen, 0, sizeof(seen));
	sim_init(&sim, &cfg, 42);

	sim_attach(&sim, &sim.b);
	int rx = net_socket(AF_INET, SOCK_DGRAM, 0);
	int big = 4 * 1024 * 1024;
	ck_assert_int_eq(net_setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(DGRAM_PORT) };
	ck_assert_int_eq(net_bind(rx, (struct sockaddr *)&me, sizeof(me)), 0);
	sim_attach(&sim, &sim.a);
	int tx = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(DGRAM_PORT),
				  .sin_addr.s_addr = htonl(SIM_B_IP) };

	int arrived = 0;
	for (uint32_t seq = 0; seq < DGRAMS; seq++) {
		uint32_t len = 8 + (uint32_t)rng_below(&r, DGRAM_MAX - 8 + 1);
		if (seq % 4 == 0)
			len = 8 + (uint32_t)rng_below(&r, 1400); /* plenty of small ones too */
		sent_len[seq] = len;
		dgram_fill(buf, seq, len);
		ck_assert_int_eq(net_sendto(tx, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
		/* 60 KB at most every 10 ms: the link is not the bottleneck */
		sim_run_until(&sim, sim.now + 10000);
		arrived += dgram_drain(rx, sent_len, seen, buf, want);
	}
	sim_run_until(&sim, sim.now + 1000000);
	arrived += dgram_drain(rx, sent_len, seen, buf, want);

	/* 0.2% loss on ~21 fragments (4 in 5 datagrams) and 1 fragment (the
	 * rest): about 96% should arrive whole */
	ck_assert_msg(arrived > DGRAMS * 90 / 100 && arrived < DGRAMS,
		      "%d of %d datagrams arrived", arrived, DGRAMS);
	ck_assert_uint_gt(stats_get(&sim.b.stats, "ip.reassembled"), DGRAMS / 2);
	ck_assert_uint_gt(stats_get(&sim.a.stats, "impair.reorder") +
			  stats_get(&sim.b.stats, "impair.reorder"), 100);
	sim_run_until(&sim, sim.now + 60000000); /* unfinished reassemblies time out */
	ck_assert_uint_eq(sim.b.reasm.count, 0);
	sim_fini(&sim); /* asserts the pool is empty */
}
END_TEST

/* A blocking receive waits in virtual time: SO_RCVTIMEO expires exactly,
 * and a datagram to a closed port comes back as ECONNREFUSED on a connected
 * socket (through the peer's ICMP port unreachable). */
START_TEST(sim_udp_blocking_calls)
{
	static struct sim sim;
	uint8_t b[64];
	sim_init(&sim, NULL, 3);
	sim_attach(&sim, &sim.a);
	int fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 500000 };
	ck_assert_int_eq(net_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(4000) };
	ck_assert_int_eq(net_bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	int64_t t0 = sim.now;
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), -EAGAIN);
	ck_assert_int_eq(sim.now - t0, 500000);

	struct sockaddr_in closed = { .sin_family = AF_INET, .sin_port = htons(9),
				      .sin_addr.s_addr = htonl(SIM_B_IP) };
	ck_assert_int_eq(net_connect(fd, (struct sockaddr *)&closed, sizeof(closed)), 0);
	ck_assert_int_eq(net_send(fd, "knock", 5, 0), 5);
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), 0), -ECONNREFUSED);
	ck_assert_uint_eq(stats_get(&sim.b.stats, "udp.no_port"), 1);
	/* the error is reported once */
	ck_assert_int_eq(net_recv(fd, b, sizeof(b), MSG_DONTWAIT), -EAGAIN);

	/* poll with a timeout also waits in virtual time */
	struct pollfd p = { .fd = fd, .events = POLLIN };
	t0 = sim.now;
	ck_assert_int_eq(net_poll(&p, 1, 250), 0);
	ck_assert_int_eq(sim.now - t0, 250000);
	sim_fini(&sim);
}
END_TEST

Suite *sim_suite(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("sim");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sim_ping_perfect_wire);
	tcase_add_test(tc, sim_ping_loss_and_reorder);
	tcase_add_test(tc, sim_ping_corruption_is_dropped);
	tcase_add_test(tc, sim_udp_datagrams_loss_reorder);
	tcase_add_test(tc, sim_udp_blocking_calls);
	suite_add_tcase(s, tc);
	return s;
}

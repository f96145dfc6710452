/* Simulated tests: two hosts joined by a simlink on virtual time. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "link/simlink.h"
#include "stack/stack.h"
#include "tests/harness.h"

#define SIM_A_IP 0x0a000001u /* 10.0.0.1 */
#define SIM_B_IP 0x0a000002u /* 10.0.0.2 */
#define PINGS 1000
#define PING_DATA 56

/* Two hosts, A and B, on one wire. */
struct sim {
	struct stack a, b;
	struct simlink *link;
	int64_t now;
	/* What A received: the sequence numbers of echo replies, in order. */
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
	struct sim *sim = ctx;
	uint8_t want[PING_DATA];
	ping_data(seq, want);
	if (src != SIM_B_IP || id != 0x4242 || len != PING_DATA || memcmp(data, want, len) != 0)
		sim->bad_replies++;
	if (sim->nreplies < PINGS * 2)
		sim->replies[sim->nreplies++] = seq;
}

static void sim_init(struct sim *sim, const struct impair_cfg *cfg, uint64_t seed)
{
	static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 }, mac_b[6] = { 2, 0, 0, 0, 0, 2 };
	memset(sim, 0, sizeof(*sim));
	sim->link = simlink_new(cfg, seed);
	ck_assert_ptr_nonnull(sim->link);
	stack_init(&sim->a, "A", seed);
	stack_init(&sim->b, "B", seed + 1);
	if (getenv("TAPSTACK_TEST_TRACE"))
		sim->a.trace = sim->b.trace = stderr;
	struct netif *ia = stack_add_netif(&sim->a, simlink_end(sim->link, 0), mac_a);
	struct netif *ib = stack_add_netif(&sim->b, simlink_end(sim->link, 1), mac_b);
	stack_set_ipv4(&sim->a, ia, SIM_A_IP, 24);
	stack_set_ipv4(&sim->b, ib, SIM_B_IP, 24);
	sim->a.icmp.on_echo_reply = on_reply;
	sim->a.icmp.ctx = sim;
	stack_start(&sim->a, 0);
	stack_start(&sim->b, 0);
}

static void sim_fini(struct sim *sim)
{
	stack_fini(&sim->a);
	stack_fini(&sim->b);
	simlink_free(sim->link);
	ck_assert_uint_eq(pkt_in_use(), 0);
}

/* Runs both hosts up to time t, waking them at every deadline on the way. */
static void sim_run_until(struct sim *sim, int64_t t)
{
	for (int guard = 0; guard < 10000000; guard++) {
		int64_t da = stack_next_deadline(&sim->a), db = stack_next_deadline(&sim->b);
		int64_t d = da < db ? da : db;
		if (d > t)
			break;
		sim->now = d > sim->now ? d : sim->now + 1;
		stack_poll(&sim->a, sim->now);
		stack_poll(&sim->b, sim->now);
	}
	sim->now = t;
	stack_poll(&sim->a, t);
	stack_poll(&sim->b, t);
}

/* A pings B PINGS times, one every interval_us, then waits 5 s. */
static void sim_ping(struct sim *sim, int64_t interval_us)
{
	uint8_t d[PING_DATA];
	for (int seq = 0; seq < PINGS; seq++) {
		sim_run_until(sim, (int64_t)seq * interval_us + 1000);
		ping_data(seq, d);
		icmp_send_echo(&sim->a, SIM_B_IP, 0x4242, (uint16_t)seq, d, sizeof(d));
	}
	sim_run_until(sim, (int64_t)PINGS * interval_us + 5000000);
}

START_TEST(sim_ping_perfect_wire)
{
	static struct sim sim;
	sim_init(&sim, NULL, 1);
	sim_ping(&sim, 10000);
	ck_assert_int_eq(sim.bad_replies, 0);
	ck_assert_int_eq(sim.nreplies, PINGS); /* every request answered, in order */
	for (int i = 0; i < PINGS; i++)
		ck_assert_int_eq(sim.replies[i], i);
	ck_assert_uint_eq(stats_get(&sim.b.stats, "icmp.tx_echo_reply"), PINGS);
	sim_fini(&sim);
}
END_TEST

/* The scenario: 1000 pings under 20% loss and 10% reordering. Each
 * reply must carry its request's exact data; the set of replies depends only
 * on the seed; and about (1 - 0.2)^2 of the pings come back. */
START_TEST(sim_ping_loss_and_reorder)
{
	static struct sim first, again, other;
	struct impair_cfg cfg = { .loss = 0.2, .reorder = 0.1, .delay_us = 2000, .jitter_us = 500 };

	sim_init(&first, &cfg, 1234);
	sim_ping(&first, 1000); /* 1 ms apart: a held-back frame gets overtaken */
	sim_fini(&first);
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

	sim_init(&again, &cfg, 1234);
	sim_ping(&again, 1000);
	sim_fini(&again);
	ck_assert_int_eq(again.nreplies, first.nreplies);
	ck_assert_mem_eq(again.replies, first.replies, sizeof(int) * (size_t)first.nreplies);

	sim_init(&other, &cfg, 999);
	sim_ping(&other, 1000);
	sim_fini(&other);
	ck_assert_int_eq(other.bad_replies, 0);
	ck_assert(other.nreplies != first.nreplies ||
		  memcmp(other.replies, first.replies, sizeof(int) * (size_t)first.nreplies) != 0);
}
END_TEST

/* Corrupted frames are caught by the checksums and never answered wrongly. */
START_TEST(sim_ping_corruption_is_dropped)
{
	static struct sim sim;
	struct impair_cfg cfg = { .corrupt = 0.3 };
	sim_init(&sim, &cfg, 77);
	sim_ping(&sim, 10000);
	ck_assert_int_eq(sim.bad_replies, 0);
	ck_assert_int_gt(sim.nreplies, 300);
	ck_assert_int_lt(sim.nreplies, PINGS);
	uint64_t caught = 0;
	const char *reasons[] = { "ip.bad_checksum", "icmp.bad_checksum", "eth.not_for_us", "arp.bad_op",
				  "ip.not_for_us", "eth.unknown_type", "ip.bad_version" };
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		caught += stats_get(&sim.a.stats, reasons[i]) + stats_get(&sim.b.stats, reasons[i]);
	ck_assert_uint_gt(caught, 100);
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
	suite_add_tcase(s, tc);
	return s;
}

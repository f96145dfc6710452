/* Unit tests of the devices in link/: the impairment spec parser, the delay
 * line dice on a simlink, the impair device around a simlink end, and the
 * pcap device (read back with libpcap). All on virtual time, no root.
 * The TAP device needs root and a namespace: the integration tests cover it. */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link/impair.h"
#include "link/netdev.h"
#include "link/pcapdev.h"
#include "link/simlink.h"
#include "stack/byteorder.h"
#include "stack/pkt.h"
#include "stack/stats.h"

#define MAX_LOG 20000

/* Frames received by a test: sequence number and arrival time of each. */
struct rxlog {
	size_t n;
	uint32_t seq[MAX_LOG];
	int64_t at[MAX_LOG];
};

/* Sequence number and content of a test frame: bytes 0..13 an Ethernet
 * header, 14..17 the sequence number, then a pattern derived from it. */
static uint8_t frame_byte(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 7 + i);
}

static void fill_frame(uint8_t *buf, uint32_t seq, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = frame_byte(seq, i);
	memset(buf, 0xff, 6);
	be16_put(buf + 12, 0x88b5);     /* IEEE "local experimental" EtherType */
	if (len >= 18)
		be32_put(buf + 14, seq);
}

static struct pkt *make_frame(uint32_t seq, size_t len)
{
	struct pkt *p = pkt_alloc(len);
	ck_assert_ptr_nonnull(p);
	fill_frame(pkt_put(p, len), seq, len);
	return p;
}

static uint32_t frame_seq(const struct pkt *p)
{
	ck_assert_uint_ge(p->len, 18);
	return be32_get(p->data + 14);
}

/* Sends n frames of len bytes on d, numbered from first, one every gap_us
 * starting at t0. */
static void send_frames(struct netdev *d, uint32_t first, int n, size_t len, int64_t t0,
			int64_t gap_us)
{
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(netdev_send(d, make_frame(first + (uint32_t)i, len),
					     t0 + i * gap_us), 0);
}

/* Receives everything d delivers from t0 on, calling recv at each deadline
 * the device reports (as a host's event loop would), and logs the frames. */
static void collect(struct netdev *d, int64_t t0, struct rxlog *log)
{
	int64_t t = t0;

	for (int rounds = 0; rounds < 1000000; rounds++) {
		struct pkt *p;
		while ((p = netdev_recv(d, t)) != NULL) {
			ck_assert_uint_lt(log->n, MAX_LOG);
			log->seq[log->n] = frame_seq(p);
			log->at[log->n] = t;
			log->n++;
			pkt_free(p);
		}
		int64_t next = netdev_next_deadline(d);
		if (next == NETDEV_NO_DEADLINE)
			return;
		ck_assert_int_gt(next, t);      /* a reported deadline is in the future */
		t = next;
	}
	ck_abort_msg("device kept reporting deadlines");
}

static struct rxlog *rxlog_new(void)
{
	struct rxlog *log = calloc(1, sizeof(*log));
	ck_assert_ptr_nonnull(log);
	return log;
}

/* ---- impair_parse ---------------------------------------------------- */

START_TEST(parse_good_specs)
{
	struct impair_cfg c;
	char err[256];

	ck_assert_int_eq(impair_parse("loss=0.2", &c, err, sizeof(err)), 0);
	ck_assert_double_eq_tol(c.loss, 0.2, 1e-12);
	ck_assert_int_eq(impair_parse("loss=20%", &c, err, sizeof(err)), 0);
	ck_assert_double_eq_tol(c.loss, 0.2, 1e-12);
	ck_assert_int_eq(impair_parse("dup=1%,reorder=0.5,corrupt=100%", &c, err, sizeof(err)), 0);
	ck_assert_double_eq_tol(c.dup, 0.01, 1e-12);
	ck_assert_double_eq_tol(c.reorder, 0.5, 1e-12);
	ck_assert_double_eq_tol(c.corrupt, 1.0, 1e-12);
	ck_assert_double_eq(c.loss, 0.0);       /* zeroed first */

	ck_assert_int_eq(impair_parse("delay=2.5,jitter=0.125", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.delay_us, 2500);
	ck_assert_int_eq(c.jitter_us, 125);
	ck_assert_int_eq(impair_parse("delay=20", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.delay_us, 20000);

	ck_assert_int_eq(impair_parse("rate=10M", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.rate_bps, 10000000);
	ck_assert_int_eq(impair_parse("rate=512k", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.rate_bps, 512000);
	ck_assert_int_eq(impair_parse("rate=1.5G", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.rate_bps, 1500000000);
	ck_assert_int_eq(impair_parse("rate=64000", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.rate_bps, 64000);

	ck_assert_int_eq(impair_parse("queue=50,rate=1M,jitter=1,delay=10,corrupt=0.001,"
				      "reorder=5%,dup=0,loss=0.5%", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.queue_limit, 50);
	ck_assert_uint_eq(c.rate_bps, 1000000);
	ck_assert_int_eq(c.jitter_us, 1000);
	ck_assert_int_eq(c.delay_us, 10000);
	ck_assert_double_eq_tol(c.corrupt, 0.001, 1e-12);
	ck_assert_double_eq_tol(c.reorder, 0.05, 1e-12);
	ck_assert_double_eq_tol(c.loss, 0.005, 1e-12);

	ck_assert_int_eq(impair_parse("", &c, err, sizeof(err)), 0);
	ck_assert(impair_is_none(&c));
	ck_assert_int_eq(impair_parse("none", &c, err, sizeof(err)), 0);
	ck_assert(impair_is_none(&c));
	ck_assert_int_eq(impair_parse("delay=0.001", &c, err, sizeof(err)), 0);
	ck_assert(!impair_is_none(&c));
}
END_TEST

START_TEST(parse_bad_specs)
{
	/* Each spec, and a piece of it the message must quote. */
	static const char *const bad[][2] = {
		{ "loss=1.5", "loss=1.5" },
		{ "loss=150%", "loss=150%" },
		{ "loss=-0.1", "loss=-0.1" },
		{ "loss=abc", "loss=abc" },
		{ "loss=0.2%%", "loss=0.2%%" },
		{ "loss=nan", "loss=nan" },
		{ "loss=", "loss=" },
		{ "loss", "loss" },
		{ "lose=0.1", "lose=0.1" },
		{ "delay=-5", "delay=-5" },
		{ "delay=1e3", "delay=1e3" },
		{ "delay=inf", "delay=inf" },
		{ "delay=20ms", "delay=20ms" },
		{ "jitter=0x10", "jitter=0x10" },
		{ "rate=10X", "rate=10X" },
		{ "rate=-1M", "rate=-1M" },
		{ "rate=M", "rate=M" },
		{ "queue=0", "queue=0" },
		{ "queue=1.5", "queue=1.5" },
		{ "queue=-3", "queue=-3" },
		{ "loss=0.1,,dup=0.1", "loss=0.1,,dup=0.1" },
		{ "loss=0.1,", "loss=0.1," },
		{ ",loss=0.1", ",loss=0.1" },
		{ "loss=0.1,loss=0.2", "loss=0.2" },
		{ " loss=0.1", " loss=0.1" },
		{ "delay=10,loss=2", "loss=2" },
	};
	struct impair_cfg c;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(impair_parse(bad[i][0], &c, err, sizeof(err)) == -1,
			      "\"%s\" was accepted", bad[i][0]);
		ck_assert_msg(strlen(err) > 0, "no message for \"%s\"", bad[i][0]);
		ck_assert_msg(strstr(err, bad[i][1]) != NULL, "\"%s\": message \"%s\" does not "
			      "quote \"%s\"", bad[i][0], err, bad[i][1]);
		ck_assert_msg(impair_is_none(&c), "\"%s\" left a half-parsed config", bad[i][0]);
	}
	/* The message says what is accepted. */
	impair_parse("lose=0.1", &c, err, sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "loss=P"));
	impair_parse("delay=-5", &c, err, sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "milliseconds"));
	impair_parse("loss=2", &c, err, sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "20%"));
}
END_TEST

/* ---- the dice, on a simlink ------------------------------------------ */

START_TEST(simlink_perfect_wire)
{
	struct simlink *l = simlink_new(NULL, 1);
	struct netdev *a = simlink_end(l, 0), *b = simlink_end(l, 1);
	struct rxlog *log = rxlog_new();

	ck_assert_ptr_null(a->ops->close);      /* the ends belong to the link */
	ck_assert_int_eq(netdev_fd(a), -1);
	ck_assert_int_eq(netdev_next_deadline(b), NETDEV_NO_DEADLINE);

	/* a -> b: every frame at the time it was sent, in order */
	send_frames(a, 0, 100, 60, 5000, 0);
	ck_assert_int_eq(netdev_next_deadline(b), 5000);
	ck_assert_int_eq(netdev_next_deadline(a), NETDEV_NO_DEADLINE);
	ck_assert_ptr_null(netdev_recv(a, 5000));       /* nothing comes back */
	collect(b, 5000, log);
	ck_assert_uint_eq(log->n, 100);
	for (uint32_t i = 0; i < 100; i++) {
		ck_assert_uint_eq(log->seq[i], i);
		ck_assert_int_eq(log->at[i], 5000);
	}

	/* b -> a, the other direction, byte for byte */
	struct pkt *p = make_frame(42, 1514);
	ck_assert_int_eq(netdev_send(b, p, 6000), 0);
	ck_assert_ptr_null(netdev_recv(a, 5999));
	p = netdev_recv(a, 6000);
	ck_assert_ptr_nonnull(p);
	uint8_t want[1514];
	fill_frame(want, 42, sizeof(want));
	ck_assert_uint_eq(p->len, sizeof(want));
	ck_assert_mem_eq(p->data, want, sizeof(want));
	pkt_free(p);

	free(log);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(delay_and_jitter_bound_delivery)
{
	struct impair_cfg cfg = { .delay_us = 10000, .jitter_us = 5000 };
	struct simlink *l = simlink_new(&cfg, 7);
	struct netdev *a = simlink_end(l, 0), *b = simlink_end(l, 1);
	struct rxlog *log = rxlog_new();
	int64_t lo = INT64_MAX, hi = 0;

	/* One frame every 20 ms: each takes 10 to 15 ms, spread over the range. */
	send_frames(a, 0, 1000, 100, 0, 20000);
	ck_assert_ptr_null(netdev_recv(b, 9999));
	collect(b, 0, log);
	ck_assert_uint_eq(log->n, 1000);
	for (size_t i = 0; i < log->n; i++) {
		ck_assert_uint_eq(log->seq[i], i);
		int64_t took = log->at[i] - (int64_t)i * 20000;
		ck_assert_int_ge(took, 10000);
		ck_assert_int_le(took, 15000);
		if (took < lo)
			lo = took;
		if (took > hi)
			hi = took;
	}
	ck_assert_int_lt(lo, 10100);
	ck_assert_int_gt(hi, 14900);

	/* One frame every 0.1 ms: still within the bounds, and jitter never
	 * lets a frame overtake the one before it. */
	log->n = 0;
	int64_t t0 = 100000000;
	send_frames(a, 0, 1000, 100, t0, 100);
	collect(b, t0, log);
	ck_assert_uint_eq(log->n, 1000);
	for (size_t i = 0; i < log->n; i++) {
		ck_assert_uint_eq(log->seq[i], i);
		int64_t took = log->at[i] - t0 - (int64_t)i * 100;
		ck_assert_int_ge(took, 10000);
		ck_assert_int_le(took, 15000);
	}

	free(log);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(loss_all)
{
	struct impair_cfg cfg = { .loss = 1.0 };
	struct simlink *l = simlink_new(&cfg, 1);
	struct stats st;
	struct rxlog *log = rxlog_new();

	stats_init(&st);
	simlink_end(l, 0)->stats = &st;         /* drops count on the sending end */
	send_frames(simlink_end(l, 0), 0, 100, 60, 0, 10);
	collect(simlink_end(l, 1), 0, log);
	ck_assert_uint_eq(log->n, 0);
	ck_assert_uint_eq(stats_get(&st, "impair.loss"), 100);
	ck_assert_uint_eq(pkt_in_use(), 0);     /* dropped frames were freed at once */

	free(log);
	simlink_free(l);
}
END_TEST

/* Sends 10,000 frames through a simlink with 20% loss seeded with seed;
 * marks in got[] which arrived. Returns how many did. */
static size_t run_loss(uint64_t seed, uint8_t *got, uint64_t *counted)
{
	struct impair_cfg cfg = { .loss = 0.2 };
	struct simlink *l = simlink_new(&cfg, seed);
	struct rxlog *log = rxlog_new();
	struct stats *st = malloc(sizeof(*st));

	ck_assert_ptr_nonnull(st);
	stats_init(st);
	simlink_end(l, 0)->stats = st;
	memset(got, 0, 10000);
	send_frames(simlink_end(l, 0), 0, 10000, 60, 0, 10);
	collect(simlink_end(l, 1), 0, log);
	for (size_t i = 0; i < log->n; i++) {
		ck_assert_uint_lt(log->seq[i], 10000);
		ck_assert_uint_eq(got[log->seq[i]], 0);
		got[log->seq[i]] = 1;
		if (i > 0)
			ck_assert_uint_gt(log->seq[i], log->seq[i - 1]);
	}
	size_t n = log->n;
	*counted = stats_get(st, "impair.loss");
	free(log);
	free(st);
	simlink_free(l);
	return n;
}

START_TEST(loss_rate_and_determinism)
{
	static uint8_t a[10000], b[10000], c[10000];
	uint64_t lost;

	size_t na = run_loss(1234, a, &lost);
	ck_assert_uint_ge(na, 7700);    /* expect 8000, sd 40 */
	ck_assert_uint_le(na, 8300);
	ck_assert_uint_eq(na + lost, 10000);

	size_t nb = run_loss(1234, b, &lost);
	ck_assert_uint_eq(nb, na);
	ck_assert_mem_eq(a, b, sizeof(a));      /* the same seed, the same frames lost */

	run_loss(1235, c, &lost);
	ck_assert(memcmp(a, c, sizeof(a)) != 0);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(dup_sends_copies)
{
	struct impair_cfg cfg = { .dup = 1.0 };
	struct simlink *l = simlink_new(&cfg, 3);
	struct netdev *a = simlink_end(l, 0), *b = simlink_end(l, 1);
	struct stats st;
	uint8_t want[200];

	stats_init(&st);
	a->stats = &st;
	send_frames(a, 0, 50, sizeof(want), 0, 10);
	ck_assert_uint_eq(stats_get(&st, "impair.dup"), 50);
	for (uint32_t i = 0; i < 50; i++) {
		fill_frame(want, i, sizeof(want));
		for (int copy = 0; copy < 2; copy++) {
			struct pkt *p = netdev_recv(b, 1000);
			ck_assert_ptr_nonnull(p);
			ck_assert_uint_eq(p->len, sizeof(want));
			ck_assert_mem_eq(p->data, want, sizeof(want));
			pkt_free(p);
		}
	}
	ck_assert_ptr_null(netdev_recv(b, 1000));

	/* Half the time: between the two extremes, and every original arrives. */
	cfg.dup = 0.5;
	simlink_set_cfg(l, 0, &cfg);
	struct rxlog *log = rxlog_new();
	send_frames(a, 0, 1000, 60, 2000, 10);
	collect(b, 2000, log);
	ck_assert_uint_ge(log->n, 1400);
	ck_assert_uint_le(log->n, 1600);
	ck_assert_uint_eq(log->n, 1000 + stats_get(&st, "impair.dup") - 50);

	free(log);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(reorder_delivers_all_out_of_order)
{
	struct impair_cfg cfg = { .reorder = 0.3 };
	struct simlink *l = simlink_new(&cfg, 11);
	struct stats st;
	struct rxlog *log = rxlog_new();
	static uint8_t seen[1000];
	int overtaken = 0;

	stats_init(&st);
	simlink_end(l, 0)->stats = &st;
	send_frames(simlink_end(l, 0), 0, 1000, 60, 0, 10);
	collect(simlink_end(l, 1), 0, log);
	ck_assert_uint_eq(log->n, 1000);
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < log->n; i++) {
		ck_assert_uint_eq(seen[log->seq[i]], 0);
		seen[log->seq[i]] = 1;
		if (i > 0 && log->seq[i] < log->seq[i - 1])
			overtaken++;
	}
	ck_assert_int_gt(overtaken, 100);
	ck_assert_uint_ge(stats_get(&st, "impair.reorder"), 200);
	ck_assert_uint_le(stats_get(&st, "impair.reorder"), 400);

	free(log);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

/* Number of bits that differ between a and b. */
static int bits_differ(const uint8_t *a, const uint8_t *b, size_t n, size_t *first_byte)
{
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i] && bits == 0)
			*first_byte = i;
		bits += __builtin_popcount((unsigned)(a[i] ^ b[i]));
	}
	return bits;
}

START_TEST(corrupt_flips_one_bit)
{
	struct impair_cfg cfg = { .corrupt = 1.0 };
	struct simlink *l = simlink_new(&cfg, 5);
	struct netdev *a = simlink_end(l, 0), *b = simlink_end(l, 1);
	struct stats st;
	uint8_t want[100];
	size_t where = 0;
	bool moved = false;
	size_t last = 0;

	stats_init(&st);
	a->stats = &st;
	for (uint32_t i = 0; i < 200; i++) {
		ck_assert_int_eq(netdev_send(a, make_frame(i, sizeof(want)), 0), 0);
		struct pkt *p = netdev_recv(b, 0);
		ck_assert_ptr_nonnull(p);
		fill_frame(want, i, sizeof(want));
		ck_assert_uint_eq(p->len, sizeof(want));
		ck_assert_int_eq(bits_differ(p->data, want, sizeof(want), &where), 1);
		ck_assert_uint_ge(where, 14);   /* the Ethernet header is spared */
		if (i > 0 && where != last)
			moved = true;
		last = where;
		pkt_free(p);
	}
	ck_assert(moved);                       /* not always the same bit */
	ck_assert_uint_eq(stats_get(&st, "impair.corrupt"), 200);

	/* A frame no longer than a header is hit anywhere. */
	uint8_t tiny[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct pkt *p = pkt_alloc(sizeof(tiny));
	memcpy(pkt_put(p, sizeof(tiny)), tiny, sizeof(tiny));
	netdev_send(a, p, 0);
	p = netdev_recv(b, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(bits_differ(p->data, tiny, sizeof(tiny), &where), 1);
	pkt_free(p);

	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(rate_limit_serializes_and_queue_drops)
{
	struct impair_cfg cfg = { .rate_bps = 10000000 };
	struct simlink *l = simlink_new(&cfg, 1);
	struct netdev *a = simlink_end(l, 0), *b = simlink_end(l, 1);
	struct stats st;
	struct rxlog *log = rxlog_new();

	stats_init(&st);
	a->stats = &st;
	/* 100 frames of 1250 bytes (10,000 bits) at 10 Mbit/s: 1 ms each */
	send_frames(a, 0, 100, 1250, 0, 0);
	collect(b, 0, log);
	ck_assert_uint_eq(log->n, 100);
	for (size_t i = 0; i < log->n; i++) {
		ck_assert_uint_eq(log->seq[i], i);
		ck_assert_int_eq(log->at[i], (int64_t)(i + 1) * 1000);
	}
	ck_assert_int_ge(log->at[99], 99000);
	ck_assert_int_le(log->at[99], 101000);

	/* An idle link starts the next frame at once. */
	send_frames(a, 500, 1, 1250, 200000, 0);
	ck_assert_int_eq(netdev_next_deadline(b), 201000);
	collect(b, 200000, log);

	/* A queue of 10: the rest of a burst of 100 is dropped. */
	cfg.queue_limit = 10;
	simlink_set_cfg(l, 0, &cfg);
	log->n = 0;
	send_frames(a, 0, 100, 1250, 300000, 0);
	ck_assert_uint_eq(stats_get(&st, "impair.queue_full"), 90);
	collect(b, 300000, log);
	ck_assert_uint_eq(log->n, 10);
	for (size_t i = 0; i < log->n; i++)
		ck_assert_uint_eq(log->seq[i], i);
	ck_assert_int_eq(log->at[9], 310000);

	free(log);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(simlink_set_cfg_one_direction)
{
	struct impair_cfg lossy = { .loss = 1.0 };
	struct simlink *l = simlink_new(NULL, 1);
	struct netdev *a = simlink_end(l, 0), *b = simlink_end(l, 1);

	simlink_set_cfg(l, 1, &lossy);          /* b -> a loses everything */
	send_frames(a, 0, 5, 60, 0, 0);
	send_frames(b, 0, 5, 60, 0, 0);
	for (int i = 0; i < 5; i++) {
		struct pkt *p = netdev_recv(b, 0);
		ck_assert_ptr_nonnull(p);
		pkt_free(p);
	}
	ck_assert_ptr_null(netdev_recv(b, 0));
	ck_assert_ptr_null(netdev_recv(a, 0));
	simlink_set_cfg(l, 1, NULL);            /* and back to a perfect wire */
	send_frames(b, 0, 1, 60, 0, 0);
	struct pkt *p = netdev_recv(a, 0);
	ck_assert_ptr_nonnull(p);
	pkt_free(p);

	/* frames still on the wire are freed with the link */
	struct impair_cfg slow = { .delay_us = 1000000 };
	simlink_set_cfg(l, 0, &slow);
	send_frames(a, 0, 5, 60, 0, 0);
	ck_assert_uint_eq(pkt_in_use(), 5);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

/* ---- the impair device around a simlink end -------------------------- */

START_TEST(impair_wrap_is_transparent_when_zero)
{
	struct impair_cfg zero = { 0 };
	struct simlink *l = simlink_new(NULL, 1);
	struct netdev *inner = simlink_end(l, 0), *b = simlink_end(l, 1);
	struct netdev *d = impair_wrap(inner, &zero, 9);
	struct stats st;

	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->name, inner->name);
	ck_assert_uint_eq(d->mtu, inner->mtu);
	ck_assert_int_eq(netdev_fd(d), -1);
	ck_assert_int_eq(netdev_next_deadline(d), NETDEV_NO_DEADLINE);
	stats_init(&st);
	d->stats = &st;

	for (uint32_t i = 0; i < 20; i++) {
		ck_assert_int_eq(netdev_send(d, make_frame(i, 60), 100), 0);
		ck_assert_int_eq(netdev_send(b, make_frame(1000 + i, 60), 100), 0);
	}
	ck_assert_int_eq(netdev_next_deadline(d), 100);  /* the inner end's frames */
	for (uint32_t i = 0; i < 20; i++) {
		struct pkt *p = netdev_recv(b, 100);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(frame_seq(p), i);
		pkt_free(p);
		p = netdev_recv(d, 100);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(frame_seq(p), 1000 + i);
		pkt_free(p);
	}
	ck_assert_ptr_null(netdev_recv(d, 100));
	ck_assert_ptr_null(netdev_recv(b, 100));
	ck_assert_int_eq(netdev_next_deadline(d), NETDEV_NO_DEADLINE);
	ck_assert_uint_eq(st.used, 0);          /* nothing counted */

	netdev_close(d);                        /* closes the wrap; the end stays the link's */
	d = impair_wrap(inner, NULL, 9);        /* NULL is no impairment too */
	ck_assert_int_eq(netdev_send(d, make_frame(7, 60), 200), 0);
	struct pkt *p = netdev_recv(b, 200);
	ck_assert_ptr_nonnull(p);
	pkt_free(p);
	netdev_close(d);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(impair_wrap_delays_both_ways)
{
	struct impair_cfg cfg = { .delay_us = 5000 };
	struct simlink *l = simlink_new(NULL, 1);
	struct netdev *b = simlink_end(l, 1);
	struct netdev *d = impair_wrap(simlink_end(l, 0), &cfg, 9);

	/* tx: held in the wrapper until 5 ms, pushed out by the wrapper's next call */
	ck_assert_int_eq(netdev_send(d, make_frame(1, 60), 0), 0);
	ck_assert_int_eq(netdev_next_deadline(d), 5000);
	ck_assert_ptr_null(netdev_recv(d, 4999));
	ck_assert_ptr_null(netdev_recv(b, 4999));
	ck_assert_ptr_null(netdev_recv(d, 5000));      /* sends the frame down */
	struct pkt *p = netdev_recv(b, 5000);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(frame_seq(p), 1);
	pkt_free(p);

	/* rx: read from the inner end at once, handed up 5 ms later */
	ck_assert_int_eq(netdev_send(b, make_frame(2, 60), 10000), 0);
	ck_assert_int_eq(netdev_next_deadline(d), 10000);
	ck_assert_ptr_null(netdev_recv(d, 10000));
	ck_assert_int_eq(netdev_next_deadline(d), 15000);
	p = netdev_recv(d, 15000);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(frame_seq(p), 2);
	pkt_free(p);
	ck_assert_int_eq(netdev_next_deadline(d), NETDEV_NO_DEADLINE);

	/* closing frees what is still held, both ways */
	netdev_send(d, make_frame(3, 60), 20000);
	netdev_send(b, make_frame(4, 60), 20000);
	ck_assert_ptr_null(netdev_recv(d, 20000));
	ck_assert_uint_eq(pkt_in_use(), 2);
	netdev_close(d);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(impair_wrap_rolls_the_same_dice)
{
	struct impair_cfg cfg = { .loss = 0.3, .jitter_us = 2000 };
	struct rxlog *direct = rxlog_new(), *wrapped = rxlog_new();
	struct stats st;

	/* direction 0 of a simlink with the dice ... */
	struct simlink *l1 = simlink_new(&cfg, 77);
	send_frames(simlink_end(l1, 0), 0, 1000, 60, 0, 100);
	collect(simlink_end(l1, 1), 0, direct);
	simlink_free(l1);

	/* ... and a perfect simlink behind an impair device seeded alike */
	struct simlink *l2 = simlink_new(NULL, 1);
	struct netdev *d = impair_wrap(simlink_end(l2, 0), &cfg, 77);
	stats_init(&st);
	d->stats = &st;
	send_frames(d, 0, 1000, 60, 0, 100);
	/* the receiver polls at the wrapper's deadlines (as one event loop
	 * running both hosts would), then takes what the far end has */
	for (int64_t t = 0; t != NETDEV_NO_DEADLINE; t = netdev_next_deadline(d)) {
		ck_assert_ptr_null(netdev_recv(d, t));
		collect(simlink_end(l2, 1), t, wrapped);
	}
	ck_assert_uint_eq(direct->n, wrapped->n);
	ck_assert_uint_eq(direct->n + stats_get(&st, "impair.loss"), 1000);
	ck_assert_mem_eq(direct->seq, wrapped->seq, direct->n * sizeof(direct->seq[0]));
	ck_assert_mem_eq(direct->at, wrapped->at, direct->n * sizeof(direct->at[0]));

	/* the rx side loses too, counted in the same table */
	struct impair_cfg all = { .loss = 1.0 };
	struct netdev *d2 = impair_wrap(simlink_end(l2, 0), &all, 1);
	stats_init(&st);
	d2->stats = &st;
	send_frames(simlink_end(l2, 1), 0, 10, 60, 0, 0);
	ck_assert_ptr_null(netdev_recv(d2, 0));
	ck_assert_uint_eq(stats_get(&st, "impair.loss"), 10);

	netdev_close(d2);
	netdev_close(d);
	simlink_free(l2);
	free(direct);
	free(wrapped);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

/* ---- the pcap device --------------------------------------------------- */

/* A fresh file name in the test's temporary directory. */
static void temp_path(char *buf, size_t len, const char *what)
{
	const char *dir = getenv("TMPDIR");
	snprintf(buf, len, "%s/check_link.%d.%s.pcap", dir ? dir : "/tmp", (int)getpid(), what);
}

/* Reads frame index (0-based) of the pcap at path; checks its time stamp
 * and that it is test frame seq of len bytes. */
static void expect_pcap_frame(pcap_t *pc, uint32_t seq, size_t len, time_t sec, long usec)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t want[1514];

	ck_assert_int_eq(pcap_next_ex(pc, &h, &data), 1);
	ck_assert_int_eq(h->ts.tv_sec, sec);
	ck_assert_int_eq(h->ts.tv_usec, usec);
	ck_assert_uint_eq(h->len, len);
	ck_assert_uint_eq(h->caplen, len);
	fill_frame(want, seq, len);
	ck_assert_mem_eq(data, want, len);
}

START_TEST(pcapdev_writes_both_ways)
{
	const int64_t epoch = 1700000000LL * 1000000;   /* 2023-11-14 22:13:20 UTC */
	struct simlink *l = simlink_new(NULL, 1);
	struct netdev *b = simlink_end(l, 1);
	char path[256], err[256] = "";
	char perr[PCAP_ERRBUF_SIZE];

	temp_path(path, sizeof(path), "both");
	struct netdev *d = pcapdev_wrap(simlink_end(l, 0), path, epoch, err, sizeof(err));
	ck_assert_msg(d != NULL, "%s", err);
	ck_assert_str_eq(d->name, simlink_end(l, 0)->name);

	ck_assert_int_eq(netdev_send(d, make_frame(1, 60), 1000), 0);          /* out */
	ck_assert_int_eq(netdev_send(b, make_frame(2, 1514), 1200), 0);
	ck_assert_ptr_null(netdev_recv(d, 1100));
	struct pkt *p = netdev_recv(d, 1500000);                                /* in */
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(frame_seq(p), 2);                     /* handed up unchanged */
	pkt_free(p);

	/* flush makes what was written so far readable */
	netdev_flush(d);
	pcap_t *pc = pcap_open_offline(path, perr);
	ck_assert_msg(pc != NULL, "%s", perr);
	ck_assert_int_eq(pcap_datalink(pc), DLT_EN10MB);
	expect_pcap_frame(pc, 1, 60, 1700000000, 1000);
	expect_pcap_frame(pc, 2, 1514, 1700000001, 500000);
	pcap_close(pc);

	ck_assert_int_eq(netdev_send(d, make_frame(3, 100), 2999999), 0);     /* out */
	netdev_close(d);        /* flushes and closes the file */

	pc = pcap_open_offline(path, perr);
	ck_assert_msg(pc != NULL, "%s", perr);
	expect_pcap_frame(pc, 1, 60, 1700000000, 1000);
	expect_pcap_frame(pc, 2, 1514, 1700000001, 500000);
	expect_pcap_frame(pc, 3, 100, 1700000002, 999999);
	struct pcap_pkthdr *h;
	const u_char *data;
	ck_assert_int_eq(pcap_next_ex(pc, &h, &data), PCAP_ERROR_BREAK);       /* end of file */
	pcap_close(pc);

	/* the frames themselves went through */
	p = netdev_recv(b, 3000000);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(frame_seq(p), 1);
	pkt_free(p);
	p = netdev_recv(b, 3000000);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(frame_seq(p), 3);
	pkt_free(p);

	unlink(path);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(pcapdev_open_error_names_the_path)
{
	struct simlink *l = simlink_new(NULL, 1);
	struct netdev *inner = simlink_end(l, 0);
	char err[256] = "";
	const char *path = "/nonexistent-tapstack-dir/x.pcap";

	ck_assert_ptr_null(pcapdev_wrap(inner, path, 0, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));

	/* inner is left open and working */
	ck_assert_int_eq(netdev_send(inner, make_frame(1, 60), 0), 0);
	struct pkt *p = netdev_recv(simlink_end(l, 1), 0);
	ck_assert_ptr_nonnull(p);
	pkt_free(p);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

START_TEST(pcapdev_wraps_impair)
{
	/* pcap(impair(simlink end)): the file shows frames as the host sees
	 * them, sent at once and received after the delay. */
	struct impair_cfg cfg = { .delay_us = 3000 };
	struct simlink *l = simlink_new(NULL, 1);
	struct netdev *b = simlink_end(l, 1);
	char path[256], err[256] = "", perr[PCAP_ERRBUF_SIZE];

	temp_path(path, sizeof(path), "impair");
	struct netdev *imp = impair_wrap(simlink_end(l, 0), &cfg, 1);
	struct netdev *d = pcapdev_wrap(imp, path, 0, err, sizeof(err));
	ck_assert_msg(d != NULL, "%s", err);

	netdev_send(d, make_frame(1, 60), 0);
	ck_assert_int_eq(netdev_next_deadline(d), 3000);
	netdev_send(b, make_frame(2, 60), 1000);
	struct pkt *p;
	int64_t t;
	int got = 0;
	for (t = netdev_next_deadline(d); t != NETDEV_NO_DEADLINE; t = netdev_next_deadline(d)) {
		while ((p = netdev_recv(d, t)) != NULL) {
			ck_assert_uint_eq(frame_seq(p), 2);
			ck_assert_int_eq(t, 4000);
			got++;
			pkt_free(p);
		}
	}
	ck_assert_int_eq(got, 1);
	p = netdev_recv(b, 3000);
	ck_assert_ptr_nonnull(p);
	pkt_free(p);
	netdev_close(d);        /* closes impair too */

	pcap_t *pc = pcap_open_offline(path, perr);
	ck_assert_msg(pc != NULL, "%s", perr);
	expect_pcap_frame(pc, 1, 60, 0, 0);
	expect_pcap_frame(pc, 2, 60, 0, 4000);
	pcap_close(pc);
	unlink(path);
	simlink_free(l);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

Suite *link_suite(void)
{
	Suite *s = suite_create("link");
	TCase *tc = tcase_create("link");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, parse_good_specs);
	tcase_add_test(tc, parse_bad_specs);
	tcase_add_test(tc, simlink_perfect_wire);
	tcase_add_test(tc, delay_and_jitter_bound_delivery);
	tcase_add_test(tc, loss_all);
	tcase_add_test(tc, loss_rate_and_determinism);
	tcase_add_test(tc, dup_sends_copies);
	tcase_add_test(tc, reorder_delivers_all_out_of_order);
	tcase_add_test(tc, corrupt_flips_one_bit);
	tcase_add_test(tc, rate_limit_serializes_and_queue_drops);
	tcase_add_test(tc, simlink_set_cfg_one_direction);
	tcase_add_test(tc, impair_wrap_is_transparent_when_zero);
	tcase_add_test(tc, impair_wrap_delays_both_ways);
	tcase_add_test(tc, impair_wrap_rolls_the_same_dice);
	tcase_add_test(tc, pcapdev_writes_both_ways);
	tcase_add_test(tc, pcapdev_open_error_names_the_path);
	tcase_add_test(tc, pcapdev_wraps_impair);
	suite_add_tcase(s, tc);
	return s;
}

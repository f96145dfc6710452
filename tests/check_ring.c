/* The growable byte ring behind TCP's send and receive buffers: write, peek,
 * read and drop with the data wrapped at every offset, growth that keeps
 * the order (out-of-order bytes included), the limit (also one that is not
 * a power of two), out-of-order writes and extend, set_limit, free and
 * reuse, running out of memory, and 10,000 random operations checked
 * against a plain linear model. And the stack's memory report (tapctl
 * memory), which counts the rings the control blocks have allocated. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/ring.h"
#include "stack/rng.h"
#include "stack/stack.h"
#include "tests/tcp_harness.h"

/* Byte i of a test pattern that does not repeat every power of two. */
static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

static void fill(uint8_t *buf, size_t start, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pat(start + i);
}

/* Fails unless the n bytes at offset off of the ring are the pattern from start. */
static void expect_pat(const struct ring *r, size_t off, size_t start, size_t n)
{
	static uint8_t got[1 << 16], want[1 << 16];

	ck_assert_uint_le(n, sizeof(got));
	ck_assert_uint_eq(ring_peek(r, off, got, n), n);
	fill(want, start, n);
	ck_assert_mem_eq(got, want, n);
}

static bool is_pow2(size_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

START_TEST(test_basic)
{
	struct ring r;
	uint8_t out[16];

	ring_init(&r, 10000);
	ck_assert_ptr_null(r.buf);       /* no memory until the first write */
	ck_assert_uint_eq(r.cap, 0);
	ck_assert_uint_eq(ring_space(&r), 10000);
	ck_assert_uint_eq(ring_read(&r, out, sizeof(out)), 0);
	ck_assert_uint_eq(ring_peek(&r, 0, out, sizeof(out)), 0);
	ck_assert_uint_eq(ring_drop(&r, 5), 0);
	ck_assert_uint_eq(ring_write(&r, "hello world", 0), 0);
	ck_assert_ptr_null(r.buf);

	ck_assert_uint_eq(ring_write(&r, "hello world", 11), 11);
	ck_assert_uint_eq(r.cap, RING_MIN_CAP);
	ck_assert_uint_eq(r.len, 11);
	ck_assert_uint_eq(ring_space(&r), 10000 - 11);
	/* peek leaves the bytes in place, at any offset */
	ck_assert_uint_eq(ring_peek(&r, 6, out, sizeof(out)), 5);
	ck_assert_mem_eq(out, "world", 5);
	ck_assert_uint_eq(ring_peek(&r, 0, out, 5), 5);
	ck_assert_mem_eq(out, "hello", 5);
	ck_assert_uint_eq(ring_peek(&r, 11, out, 1), 0);
	ck_assert_uint_eq(ring_peek(&r, 1000, out, 1), 0);
	ck_assert_uint_eq(r.len, 11);
	/* drop and read take from the front */
	ck_assert_uint_eq(ring_drop(&r, 6), 6);
	ck_assert_uint_eq(ring_read(&r, out, 3), 3);
	ck_assert_mem_eq(out, "wor", 3);
	ck_assert_uint_eq(ring_read(&r, out, sizeof(out)), 2);
	ck_assert_mem_eq(out, "ld", 2);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_uint_eq(ring_drop(&r, 1), 0);
	ring_free(&r);
}
END_TEST

/* With the first byte at every offset h of a 64-byte buffer and every
 * length n, the bytes come back in order whether or not they wrap. */
START_TEST(test_wrap_every_offset)
{
	uint8_t in[64], out[64];

	for (size_t h = 0; h < 64; h++) {
		for (size_t n = 1; n <= 64; n++) {
			struct ring r;
			ring_init(&r, 64);
			fill(in, 0, 64);
			ck_assert_uint_eq(ring_write(&r, in, h), h);
			ck_assert_uint_eq(ring_drop(&r, h), h);
			fill(in, 1000, n);
			ck_assert_uint_eq(ring_write(&r, in, n), n);
			ck_assert_uint_eq(r.cap, 64);
			ck_assert_uint_eq(r.head, h % 64);
			/* nothing more than the limit */
			ck_assert_uint_eq(ring_write(&r, in, 64), 64 - n);
			ck_assert_uint_eq(ring_space(&r), 0);
			ck_assert_uint_eq(r.len, 64);
			for (size_t o = 0; o < n; o++)
				expect_pat(&r, o, 1000 + o, n - o);
			ck_assert_uint_eq(ring_peek(&r, n - 1, out, 64), 64 - n + 1);
			/* read in odd chunks across the wrap */
			size_t got = 0;
			while (got < n) {
				size_t k = n - got < 7 ? n - got : 7;
				ck_assert_uint_eq(ring_read(&r, out, k), k);
				for (size_t i = 0; i < k; i++)
					ck_assert_uint_eq(out[i], pat(1000 + got + i));
				got += k;
			}
			ck_assert_uint_eq(r.len, 64 - n);
			ck_assert_uint_eq(ring_drop(&r, 1000), 64 - n);
			ck_assert_uint_eq(r.len, 0);
			ring_free(&r);
		}
	}
}
END_TEST

/* Growing a wrapped buffer keeps the bytes in order. */
START_TEST(test_growth_keeps_order)
{
	static uint8_t in[20000];
	struct ring r;

	ring_init(&r, 1 << 20);
	fill(in, 0, sizeof(in));
	ck_assert_uint_eq(ring_write(&r, in, 3000), 3000);
	ck_assert_uint_eq(ring_drop(&r, 2000), 2000);
	ck_assert_uint_eq(ring_write(&r, in + 3000, 3000), 3000);  /* wraps in 4096 */
	ck_assert_uint_eq(r.cap, 4096);
	ck_assert_uint_gt(r.head + r.len, r.cap);
	expect_pat(&r, 0, 2000, 4000);
	/* 9000 bytes: straight to 16384 */
	ck_assert_uint_eq(ring_write(&r, in + 6000, 5000), 5000);
	ck_assert_uint_eq(r.cap, 16384);
	expect_pat(&r, 0, 2000, 9000);
	/* wrap again, then grow by one byte past the capacity */
	ck_assert_uint_eq(ring_drop(&r, 8000), 8000);
	ck_assert_uint_eq(ring_write(&r, in + 11000, 9000), 9000);
	ck_assert_uint_eq(r.len, 10000);
	ck_assert_uint_eq(r.cap, 16384);
	ck_assert_uint_gt(r.head + r.len, r.cap);
	fill(in, 20000, 6385);
	ck_assert_uint_eq(ring_write(&r, in, 6385), 6385);
	ck_assert_uint_eq(r.cap, 32768);
	expect_pat(&r, 0, 10000, 16385);
	ring_free(&r);
}
END_TEST

/* The limit is never passed, and the buffer is the smallest power of two
 * that holds what is needed (or the limit). */
START_TEST(test_limit)
{
	static const struct { size_t limit, first_cap, full_cap; } cases[] = {
		{ 1, 1, 1 }, { 100, 128, 128 }, { 1000, 1024, 1024 }, { 4096, 4096, 4096 },
		{ 4097, 4096, 8192 }, { 5000, 4096, 8192 }, { 65536, 4096, 65536 },
	};
	static uint8_t in[70000];

	fill(in, 0, sizeof(in));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ring r;
		size_t limit = cases[i].limit;
		ring_init(&r, limit);
		ck_assert_uint_eq(ring_write(&r, in, 1), 1);
		ck_assert_uint_eq(r.cap, cases[i].first_cap);
		ck_assert_uint_eq(ring_write(&r, in + 1, limit + 100), limit - 1);
		ck_assert_uint_eq(r.len, limit);
		ck_assert_uint_eq(r.cap, cases[i].full_cap);
		ck_assert_uint_eq(ring_space(&r), 0);
		ck_assert_uint_eq(ring_write(&r, in, 1), 0);
		expect_pat(&r, 0, 0, limit);
		/* room comes back as bytes leave, and only that much */
		ck_assert_uint_eq(ring_drop(&r, 1), 1);
		ck_assert_uint_eq(ring_write(&r, in + limit, 10), 1);
		expect_pat(&r, 0, 1, limit);
		ck_assert_uint_eq(r.cap, cases[i].full_cap);
		ring_free(&r);
	}

	/* a limit of 0 takes nothing and allocates nothing */
	struct ring r;
	ring_init(&r, 0);
	ck_assert_uint_eq(ring_write(&r, in, 10), 0);
	ck_assert_uint_eq(ring_write_at(&r, 0, in, 1), 0);
	ck_assert_ptr_null(r.buf);
	ring_free(&r);
}
END_TEST

/* Out-of-order data goes in past the end, then extend makes it part of
 * the ring (what TCP's receive side does). */
START_TEST(test_write_at_extend)
{
	static uint8_t in[10000];
	struct ring r;

	fill(in, 0, sizeof(in));
	ring_init(&r, 10000);
	ck_assert_uint_eq(ring_write(&r, in, 100), 100);
	/* a hole [100, 300), then [300, 500) */
	ck_assert_uint_eq(ring_write_at(&r, 300, in + 300, 200), 200);
	ck_assert_uint_eq(r.len, 100);
	ck_assert_uint_eq(ring_space(&r), 9900);
	ck_assert_uint_eq(ring_peek(&r, 300, in, 1), 0);   /* not part of the ring yet */
	/* the hole fills, and both become readable */
	ck_assert_uint_eq(ring_write_at(&r, 100, in + 100, 200), 200);
	ring_extend(&r, 400);
	ck_assert_uint_eq(r.len, 500);
	expect_pat(&r, 0, 0, 500);
	/* an out-of-order write past the buffer grows it and keeps both parts */
	ck_assert_uint_eq(ring_drop(&r, 450), 450);            /* first byte now 450 */
	ck_assert_uint_eq(ring_write(&r, in + 500, 3900), 3900); /* wraps in 4096 */
	ck_assert_uint_eq(r.cap, 4096);
	ck_assert_uint_eq(ring_write_at(&r, 5550, in + 6000, 1000), 1000);
	ck_assert_uint_eq(r.cap, 8192);
	ck_assert_uint_eq(r.len, 3950);
	ck_assert_uint_eq(ring_write_at(&r, 3950, in + 4400, 1600), 1600);
	ring_extend(&r, 2600);
	ck_assert_uint_eq(r.len, 6550);
	expect_pat(&r, 0, 450, 6550);
	/* a write at the limit or running past it does not fit */
	ck_assert_uint_eq(ring_write_at(&r, 10000, in, 1), 0);
	ck_assert_uint_eq(ring_write_at(&r, 9000, in, 1001), 0);
	ck_assert_uint_eq(ring_write_at(&r, 9000, in, 0), 0);
	ck_assert_uint_eq(ring_write_at(&r, 9999, in + 7000, 1), 1);
	/* overwriting held bytes with the same bytes changes nothing */
	ck_assert_uint_eq(ring_write_at(&r, 10, in + 460, 100), 100);
	expect_pat(&r, 0, 450, 6550);
	/* extend stops at the limit */
	ring_extend(&r, 1000000);
	ck_assert_uint_eq(r.len, 10000);
	ck_assert_uint_eq(ring_space(&r), 0);
	ring_free(&r);

	/* ring_write after write_at overwrites the out-of-order bytes */
	ring_init(&r, 100);
	ck_assert_uint_eq(ring_write_at(&r, 0, "xyz", 3), 3);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_uint_eq(ring_write(&r, "ab", 2), 2);
	ring_extend(&r, 1);
	uint8_t out[4];
	ck_assert_uint_eq(ring_read(&r, out, sizeof(out)), 3);
	ck_assert_mem_eq(out, "abz", 3);
	ring_free(&r);
}
END_TEST

START_TEST(test_set_limit)
{
	static uint8_t in[20000];
	struct ring r;

	fill(in, 0, sizeof(in));
	ring_init(&r, 1000);
	ck_assert_uint_eq(ring_write(&r, in, 800), 800);
	/* never below what is held */
	ring_set_limit(&r, 100);
	ck_assert_uint_eq(r.limit, 800);
	ck_assert_uint_eq(ring_space(&r), 0);
	ck_assert_uint_eq(ring_write(&r, in, 1), 0);
	ck_assert_uint_eq(ring_write_at(&r, 800, in, 1), 0);
	expect_pat(&r, 0, 0, 800);
	/* a lower limit holds once bytes leave */
	ck_assert_uint_eq(ring_drop(&r, 750), 750);
	ck_assert_uint_eq(ring_write(&r, in + 800, 1000), 750);
	/* a higher one lets the buffer grow further */
	ring_set_limit(&r, 20000);
	ck_assert_uint_eq(ring_space(&r), 20000 - 800);
	ck_assert_uint_eq(ring_write(&r, in + 1550, 18450), 18450);
	ck_assert_uint_eq(r.cap, 32768);
	expect_pat(&r, 0, 750, 19250);
	ring_free(&r);
}
END_TEST

START_TEST(test_free_reuse)
{
	struct ring r;
	uint8_t out[8];

	ring_init(&r, 50);
	ck_assert_uint_eq(ring_write(&r, "abcdef", 6), 6);
	ring_drop(&r, 2);
	ring_free(&r);
	ck_assert_ptr_null(r.buf);
	ck_assert_uint_eq(r.cap, 0);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_uint_eq(r.limit, 50);
	ck_assert_uint_eq(ring_space(&r), 50);
	ck_assert_uint_eq(ring_read(&r, out, sizeof(out)), 0);
	ring_free(&r);                         /* twice is fine */
	ck_assert_uint_eq(ring_write(&r, "ghij", 4), 4);
	ck_assert_uint_eq(r.cap, 64);
	ck_assert_uint_eq(ring_read(&r, out, sizeof(out)), 4);
	ck_assert_mem_eq(out, "ghij", 4);
	ring_free(&r);
}
END_TEST

/* When the buffer cannot grow, writes do what fits in the one there is. */
START_TEST(test_no_memory)
{
	static uint8_t in[4096];
	struct ring r;

	fill(in, 0, sizeof(in));
	ring_init(&r, SIZE_MAX);
	ck_assert_uint_eq(ring_write(&r, in, 10), 10);
	ck_assert_uint_eq(r.cap, 4096);
	/* no buffer of that size can exist: nothing is written ... */
	ck_assert_uint_eq(ring_write_at(&r, SIZE_MAX / 2 + 10, in, 1), 0);
	/* ... or only the part that fits in the buffer already there */
	ck_assert_uint_eq(ring_write_at(&r, 4000, in + 4000, SIZE_MAX / 2), 96);
	ck_assert_uint_eq(ring_write(&r, in + 10, SIZE_MAX / 2 + 1), 4086);
	ck_assert_uint_eq(r.cap, 4096);
	ck_assert_uint_eq(r.len, 4096);
	expect_pat(&r, 0, 0, 4096);
	ring_extend(&r, 10);                    /* nothing past the buffer */
	ck_assert_uint_eq(r.len, 4096);
	ring_free(&r);
}
END_TEST

/* ---- Random operations against a linear model ---- */

#define MODEL_MAX 20000

/* The ring as a plain array: val[i] is the byte at offset i from the
 * first, known[i] whether it was ever written (in order or not). */
struct model {
	uint8_t val[MODEL_MAX];
	bool known[MODEL_MAX];
	size_t len, limit;
};

static void model_drop(struct model *m, size_t n)
{
	memmove(m->val, m->val + n, MODEL_MAX - n);
	memmove(m->known, m->known + n, MODEL_MAX - n);
	memset(m->known + MODEL_MAX - n, 0, n);
	m->len -= n;
}

static void model_put(struct model *m, size_t off, const uint8_t *data, size_t n)
{
	memcpy(m->val + off, data, n);
	memset(m->known + off, 1, n);
}

/* Fails unless the ring holds exactly what the model does. */
static void model_check(const struct ring *r, const struct model *m)
{
	static uint8_t got[MODEL_MAX];

	ck_assert_uint_eq(r->len, m->len);
	ck_assert_uint_eq(r->limit, m->limit);
	ck_assert_uint_eq(ring_space(r), m->limit - m->len);
	ck_assert(r->cap == 0 || is_pow2(r->cap));
	ck_assert_uint_ge(r->cap, r->len);
	ck_assert_uint_le(r->cap, 2 * MODEL_MAX);
	ck_assert_uint_eq(ring_peek(r, 0, got, sizeof(got)), m->len);
	ck_assert_mem_eq(got, m->val, m->len);
}

START_TEST(test_random_model)
{
	static struct model m;
	static uint8_t data[MODEL_MAX], out[MODEL_MAX];
	struct ring r;
	struct rng g;

	rng_seed(&g, 42);
	memset(&m, 0, sizeof(m));
	m.limit = 12345;
	ring_init(&r, m.limit);
	for (int op = 0; op < 10000; op++) {
		size_t n = (size_t)rng_below(&g, 3000), off, want;
		for (size_t i = 0; i < n; i++)
			data[i] = (uint8_t)rng_next(&g);
		switch (rng_below(&g, 16)) {
		case 0: case 1: case 2: case 3:         /* write */
			want = n < m.limit - m.len ? n : m.limit - m.len;
			ck_assert_uint_eq(ring_write(&r, data, n), want);
			model_put(&m, m.len, data, want);
			m.len += want;
			break;
		case 4: case 5:                         /* read */
			want = n < m.len ? n : m.len;
			ck_assert_uint_eq(ring_read(&r, out, n), want);
			ck_assert_mem_eq(out, m.val, want);
			model_drop(&m, want);
			break;
		case 6:                                 /* drop */
			want = n < m.len ? n : m.len;
			ck_assert_uint_eq(ring_drop(&r, n), want);
			model_drop(&m, want);
			break;
		case 7: case 8:                         /* peek anywhere */
			off = (size_t)rng_below(&g, m.len + 10);
			want = off >= m.len ? 0 : n < m.len - off ? n : m.len - off;
			ck_assert_uint_eq(ring_peek(&r, off, out, n), want);
			if (want)
				ck_assert_mem_eq(out, m.val + off, want);
			break;
		case 9: case 10: case 11:               /* out of order, sometimes too far */
			off = rng_chance(&g, 0.2) ? (size_t)rng_below(&g, m.len + 1)
						  : m.len + (size_t)rng_below(&g, m.limit - m.len + 100);
			want = off < m.limit && n <= m.limit - off ? n : 0;
			ck_assert_uint_eq(ring_write_at(&r, off, data, n), want);
			if (want)
				model_put(&m, off, data, want);
			break;
		case 12: case 13: {                     /* extend over bytes written */
			size_t k = 0;
			while (m.len + k < m.limit && m.known[m.len + k])
				k++;
			n = (size_t)rng_below(&g, k + 1);
			ring_extend(&r, n);
			m.len += n;
			break;
		}
		case 14:                                /* new limit */
			m.limit = 1 + (size_t)rng_below(&g, MODEL_MAX);
			if (m.limit < m.len)
				m.limit = m.len;
			memset(m.known + m.limit, 0, MODEL_MAX - m.limit);
			ring_set_limit(&r, m.limit);
			break;
		case 15:                                /* now and then, start again */
			if (!rng_chance(&g, 0.1))
				break;
			ring_free(&r);
			ck_assert_ptr_null(r.buf);
			m.len = 0;
			memset(m.known, 0, sizeof(m.known));
			break;
		}
		model_check(&r, &m);
	}
	ring_free(&r);
}
END_TEST


/* The value of "name N" in the host's memory report. */
static size_t memory_figure(struct tcp_harness *t, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(stack_report(&t->h.s, "memory", out), 0);
	fclose(out);
	size_t v = SIZE_MAX, n = strlen(name);
	for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, n) == 0 && l[n] == ' ')
			v = (size_t)strtoull(l + n + 1, NULL, 10);
	free(text);
	ck_assert_msg(v != SIZE_MAX, "no %s in the memory report", name);
	return v;
}

/* tapctl memory: a control block costs sizeof(struct tcb) and no ring
 * bytes until data comes; then the receive ring is RING_MIN_CAP, and 5000
 * bytes queued to send make a send ring of 8192 (grown by doubling). */
START_TEST(test_memory_report)
{
	struct tcp_harness t;
	th_init(&t);
	ck_assert_uint_eq(memory_figure(&t, "tcp.tcbs"), 0);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	th_socket(&t, tp);
	ck_assert_uint_eq(memory_figure(&t, "tcp.tcbs"), 1);
	ck_assert_uint_eq(memory_figure(&t, "tcp.sockets"), 1);
	ck_assert_uint_eq(memory_figure(&t, "tcp.tcb_size"), sizeof(struct tcb));
	ck_assert_uint_eq(memory_figure(&t, "tcp.rcv_ring_bytes"), 0);
	ck_assert_uint_eq(memory_figure(&t, "tcp.snd_ring_bytes"), 0);
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = t.irs + 1, .ack = t.iss + 1, .len = 100));
	ck_assert_uint_eq(tp->rcvbuf.len, 100);
	ck_assert_uint_eq(memory_figure(&t, "tcp.rcv_ring_bytes"), RING_MIN_CAP);
	th_queue(tp, 5000);
	ck_assert_uint_eq(memory_figure(&t, "tcp.snd_ring_bytes"), 8192);
	ck_assert_uint_eq(memory_figure(&t, "tcp.bytes_per_tcb"),
			  sizeof(struct tcb) + memory_figure(&t, "tcp.socket_size") + RING_MIN_CAP + 8192);
	th_fini(&t);
}
END_TEST

Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("ring");
	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_wrap_every_offset);
	tcase_add_test(tc, test_growth_keeps_order);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_write_at_extend);
	tcase_add_test(tc, test_set_limit);
	tcase_add_test(tc, test_free_reuse);
	tcase_add_test(tc, test_no_memory);
	tcase_add_test(tc, test_random_model);
	tcase_add_test(tc, test_memory_report);
	suite_add_tcase(s, tc);
	return s;
}

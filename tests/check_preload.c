/* The fd table of tapstack-run's shim (apps/preload/fdmap.h): a
 * placeholder fd maps to its socket; dups share it, as Linux's dups share
 * one open socket, and only the last close lets it go; fds out of range
 * are never the shim's; the list the loop mirrors holds every live socket
 * once. */
#include <check.h>
#include <stdlib.h>

#include "apps/preload/fdmap.h"

static struct fdmap *map_new(void)
{
	struct fdmap *m = malloc(sizeof(*m));
	ck_assert_ptr_nonnull(m);
	fdmap_init(m);
	return m;
}

static int list_len(const struct fdmap *m)
{
	int n = 0;
	for (struct tsock *t = m->all; t; t = t->next)
		n++;
	return n;
}

START_TEST(test_add_get)
{
	struct fdmap *m = map_new();
	ck_assert(!fdmap_peek(m, 7));
	struct tsock *ts = fdmap_add(m, 7, 3, 8, 9);
	ck_assert_ptr_nonnull(ts);
	ck_assert(fdmap_peek(m, 7));
	ck_assert_ptr_eq(fdmap_get(m, 7), ts);
	ck_assert_int_eq(ts->nfd, 3);
	ck_assert_int_eq(ts->own, 8);
	ck_assert_int_eq(ts->peer, 9);
	ck_assert_int_eq(ts->refs, 1);
	ck_assert(ts->mir_w && !ts->mir_r); /* a fresh placeholder: writable only */
	ck_assert_ptr_null(fdmap_get(m, 8));  /* the shim's own fds are not the program's */
	ck_assert_ptr_null(fdmap_add(m, 7, 4, 10, 11)); /* taken */
	ck_assert_int_eq(m->count, 1);
	fdmap_forget(m, ts);
	ck_assert_ptr_null(fdmap_get(m, 7));
	free(m);
}
END_TEST

START_TEST(test_out_of_range)
{
	struct fdmap *m = map_new();
	ck_assert_ptr_null(fdmap_add(m, -1, 3, 4, 5));
	ck_assert_ptr_null(fdmap_add(m, FDMAP_MAX, 3, 4, 5));
	ck_assert(!fdmap_peek(m, -1));
	ck_assert(!fdmap_peek(m, FDMAP_MAX));
	ck_assert_ptr_null(fdmap_get(m, FDMAP_MAX + 5));
	struct tsock *ts = fdmap_add(m, FDMAP_MAX - 1, 3, 4, 5);
	ck_assert_ptr_nonnull(ts);
	ck_assert(!fdmap_ref(m, FDMAP_MAX, ts));
	ck_assert_int_eq(ts->refs, 1);
	ck_assert(!fdmap_unref(m, 12)); /* not mapped: nothing to let go */
	fdmap_forget(m, ts);
	free(m);
}
END_TEST

/* dup: two fds, one socket; closing one keeps it, closing both lets go. */
START_TEST(test_dup_last_close)
{
	struct fdmap *m = map_new();
	struct tsock *ts = fdmap_add(m, 5, 3, 6, 7);
	ck_assert(fdmap_ref(m, 20, ts));
	ck_assert(!fdmap_ref(m, 20, ts)); /* already a name of it */
	ck_assert_int_eq(ts->refs, 2);
	ck_assert_ptr_eq(fdmap_get(m, 20), ts);
	ck_assert(!fdmap_unref(m, 5));    /* fd 20 still holds it */
	ck_assert_ptr_null(fdmap_get(m, 5));
	ck_assert_ptr_eq(fdmap_get(m, 20), ts);
	ck_assert(fdmap_unref(m, 20));    /* the last: the caller closes it */
	ck_assert_ptr_null(fdmap_get(m, 20));
	fdmap_forget(m, ts);
	ck_assert_int_eq(m->count, 0);
	ck_assert_ptr_null(m->all);
	free(m);
}
END_TEST

/* forget (the shim's exit) empties every slot still naming the socket,
 * and the mirror list keeps the others, in any order of removal. */
START_TEST(test_forget_and_list)
{
	struct fdmap *m = map_new();
	struct tsock *a = fdmap_add(m, 10, 3, 30, 31);
	struct tsock *b = fdmap_add(m, 11, 4, 32, 33);
	struct tsock *c = fdmap_add(m, 12, 5, 34, 35);
	ck_assert(fdmap_ref(m, 40, b));
	ck_assert(fdmap_ref(m, 41, b));
	ck_assert_int_eq(list_len(m), 3);
	fdmap_forget(m, b); /* the middle one, with three fds */
	ck_assert_ptr_null(fdmap_get(m, 11));
	ck_assert_ptr_null(fdmap_get(m, 40));
	ck_assert_ptr_null(fdmap_get(m, 41));
	ck_assert_int_eq(list_len(m), 2);
	ck_assert_ptr_eq(fdmap_get(m, 10), a);
	ck_assert_ptr_eq(fdmap_get(m, 12), c);
	fdmap_forget(m, c); /* the head */
	ck_assert_ptr_eq(m->all, a);
	fdmap_forget(m, a);
	ck_assert_int_eq(m->count, 0);
	ck_assert_int_eq(list_len(m), 0);
	/* the slots are free again */
	ck_assert_ptr_nonnull(fdmap_add(m, 11, 6, 7, 8));
	fdmap_forget(m, fdmap_get(m, 11));
	free(m);
}
END_TEST

Suite *preload_suite(void)
{
	Suite *s = suite_create("preload");
	TCase *tc = tcase_create("fdmap");
	tcase_add_test(tc, test_add_get);
	tcase_add_test(tc, test_out_of_range);
	tcase_add_test(tc, test_dup_last_close);
	tcase_add_test(tc, test_forget_and_list);
	suite_add_tcase(s, tc);
	return s;
}

/* Regression tests of the failalloc build (README.md): each fails one
 * chosen allocation of the library (fa_fail_nth) and checks that the stack
 * reports the failure and crashes and leaks nothing (ASan checks the rest). */
#include <check.h>

#include "stack/ring.h"
#include "tests/failalloc/failalloc.h"

/* The wrapper itself: the nth allocation fails, the others do not. */
START_TEST(test_fail_nth)
{
	struct ring r;
	ring_init(&r, 1 << 16);
	fa_fail_nth(1);
	unsigned long before = fa_failed();
	ck_assert_uint_eq(ring_write(&r, "abc", 3), 0);
	ck_assert_uint_eq(fa_failed(), before + 1);
	ck_assert_uint_eq(ring_write(&r, "abc", 3), 3);
	ring_free(&r);
}
END_TEST

Suite *failalloc_suite(void)
{
	Suite *s = suite_create("failalloc");
	TCase *tc = tcase_create("inject");
	tcase_add_test(tc, test_fail_nth);
	suite_add_tcase(s, tc);
	return s;
}

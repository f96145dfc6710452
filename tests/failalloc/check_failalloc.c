/* Regression tests of the failalloc build (README.md): each fails one
 * chosen allocation of the library (fa_fail_nth) and checks that the stack
 * reports the failure and crashes and leaks nothing (ASan checks the rest). */
#include <check.h>
#include <errno.h>
#include <sys/socket.h>

#include "stack/net.h"
#include "stack/ring.h"
#include "tests/harness.h"
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

/* Found by seed 1: a TCP socket whose control block cannot be allocated
 * (the 2nd allocation: the socket, then its tcb) is closed by net_socket
 * before it has ops; net_close followed the NULL ops. Now the call fails
 * with ENOBUFS, and the descriptor is free for the next socket. */
START_TEST(tcp_socket_without_a_tcb)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	net_use_stack(&h.s);
	unsigned long before = fa_failed();
	fa_fail_nth(2);
	ck_assert_int_eq(net_socket(AF_INET, SOCK_STREAM, 0), -ENOBUFS);
	ck_assert_uint_eq(fa_failed(), before + 1);
	int fd = net_socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(fd, NET_FD_BASE);
	ck_assert_int_eq(net_close(fd), 0);
	harness_fini(&h);
}
END_TEST

Suite *failalloc_suite(void)
{
	Suite *s = suite_create("failalloc");
	TCase *tc = tcase_create("inject");
	tcase_add_test(tc, test_fail_nth);
	tcase_add_test(tc, tcp_socket_without_a_tcb);
	suite_add_tcase(s, tc);
	return s;
}

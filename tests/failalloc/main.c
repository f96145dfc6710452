/* The failalloc build's test runner: every suite of tests/suites.h, after
 * failalloc_suite (the regression tests that fail one chosen allocation).
 * CK_RUN_SUITE and CK_RUN_CASE select, as in build/unit_tests. */
#include <check.h>
#include <stdlib.h>

#include "stack/pkt.h"
#include "tests/suites.h"

Suite *failalloc_suite(void);

int main(void)
{
	SRunner *sr = srunner_create(failalloc_suite());
#define SUITE(fn) srunner_add_suite(sr, fn());
#include "tests/suites.h"
#undef SUITE
	srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY, as run sets it */
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	pkt_pool_release();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

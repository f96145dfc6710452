/* Runs every unit and simulated test suite. Each suite lives in its own
 * tests/check_*.c file and is listed in tests/suites.h. */
#include <check.h>
#include <stdlib.h>

#include "stack/pkt.h"
#include "tests/suites.h"

int main(void)
{
	SRunner *sr = srunner_create(NULL);
#define SUITE(fn) srunner_add_suite(sr, fn());
#include "tests/suites.h"
#undef SUITE
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	pkt_pool_release();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

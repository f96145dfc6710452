/* libFuzzer target: the IPv4 header codec and its options (ip/ipv4.h,
 * ip/ipv4_opts.h): parse, the option walk, the receive-side check and the
 * echo-reply options built from a request's. */
#include <string.h>

#include "ip/ipv4.h"
#include "ip/ipv4_opts.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipv4_hdr h;
	if (ipv4_parse(data, size, &h) == NULL) {
		size_t hl = (size_t)h.ihl * 4;
		FUZZ_ASSERT(hl >= 20 && hl <= size, "ihl %zu, %zu bytes", hl, size);
		const uint8_t *opts = data + 20;
		size_t olen = hl - 20;
		size_t at = 0;
		int guard = 0;
		while (ipv4_opt_next(opts, olen, &at) >= 0)
			FUZZ_ASSERT(++guard <= 40, "the option walk does not end");
		if (ipv4_options_check(opts, olen) < 0) {
			uint8_t out[IPV4_OPT_MAX];
			int n = ipv4_echo_options(opts, olen, 0x0a000002, 12345, out);
			FUZZ_ASSERT(n <= IPV4_OPT_MAX, "echo options of %d bytes", n);
		}
	}
	/* the options area alone, at every length the bytes give */
	if (size <= IPV4_OPT_MAX) {
		(void)ipv4_options_check(data, size);
		uint8_t out[IPV4_OPT_MAX];
		(void)ipv4_echo_options(data, size, 0x0a000002, 1, out);
	}
	return 0;
}

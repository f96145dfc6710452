/* libFuzzer target: the UDP header codec (ip/udp.h): a parsed header emits
 * back to the same eight bytes (the checksum field included). */
#include <string.h>

#include "ip/udp.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct udp_hdr h;
	if (udp_parse(data, size, &h) == NULL) {
		uint8_t out[8];
		udp_emit(&h, out);
		FUZZ_ASSERT(memcmp(out, data, 8) == 0, "udp_emit differs from its input");
	}
	return 0;
}

/* libFuzzer target: the Ethernet header and ARP message codecs
 * (link/eth.h, link/arp.h), on any bytes: a parsed header emits back to the
 * same bytes. */
#include <string.h>

#include "link/arp.h"
#include "link/eth.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eth_hdr eh;
	if (eth_parse(data, size, &eh) == NULL) {
		uint8_t out[ETH_HDR_LEN];
		eth_emit(&eh, out);
		FUZZ_ASSERT(memcmp(out, data, ETH_HDR_LEN) == 0, "eth_emit differs from its input");
		struct arp_msg m;
		(void)arp_parse(data + ETH_HDR_LEN, size - ETH_HDR_LEN, &m);
	}
	struct arp_msg m;
	(void)arp_parse(data, size, &m);
	return 0;
}

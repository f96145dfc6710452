/* libFuzzer target: the DHCP codec (ip/dhcp.h): any bytes into dhcp_parse,
 * option overload included; what parses has sane fields, and a request
 * emitted from them parses back to the same ones. */
#include <string.h>

#include "ip/dhcp.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_msg m, back;
	if (dhcp_parse(data, size, &m) != NULL)
		return 0;
	FUZZ_ASSERT(m.type != 0, "parsed without a message type");
	FUZZ_ASSERT(!m.has_mask || (m.prefix >= 0 && m.prefix <= 32), "prefix %d", m.prefix);
	FUZZ_ASSERT(m.ndns >= 0 && m.ndns <= DHCP_MAX_DNS, "ndns %d", m.ndns);
	uint8_t out[DHCP_MSG_MAX];
	m.op = 1;
	size_t n = dhcp_emit(&m, out, sizeof(out));
	FUZZ_ASSERT(n >= 300 && n <= sizeof(out), "emitted %zu bytes", n);
	FUZZ_ASSERT(dhcp_parse(out, n, &back) == NULL, "its own request does not parse");
	FUZZ_ASSERT(back.xid == m.xid && back.type == m.type && back.flags == m.flags &&
			    back.ciaddr == m.ciaddr && back.server_id == m.server_id &&
			    back.requested == m.requested && memcmp(back.chaddr, m.chaddr, 6) == 0,
		    "the request parses to other fields");
	return 0;
}

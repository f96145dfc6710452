/* libFuzzer target: the IPv6 header codec and the extension header walk
 * (ip/ipv6.h): hop-by-hop and destination options, routing, fragment
 * headers, as a datagram's input path walks them. */
#include "ip/ipv6.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipv6_hdr h;
	if (ipv6_parse(data, size, &h) != NULL)
		return 0;
	size_t len = IPV6_HDR_LEN + (size_t)h.payload_len;
	if (len > size)
		len = size;
	struct ipv6_chain c;
	if (ipv6_walk_ext(data, len, h.next, &c) == NULL)
		FUZZ_ASSERT(c.off >= IPV6_HDR_LEN && c.off <= len, "upper layer at %zu of %zu",
			    c.off, len);
	else if (c.send_param_problem)
		/* RFC 4443 3.4: the pointer names a byte of the datagram
		 * (tests/fuzz/crashes/fuzz_ipv6-param-pointer-past-end was an
		 * option type as its header's last byte, pointed one past) */
		FUZZ_ASSERT(c.pointer < len, "parameter problem pointer %u of %zu",
			    (unsigned)c.pointer, len);
	return 0;
}

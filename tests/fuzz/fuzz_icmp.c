/* libFuzzer target: ICMP (ip/icmp.h), ICMPv6 (ip/icmpv6.h), NDP's
 * neighbor solicitation/advertisement body and options (ip/ndp.h) and MLD
 * queries and reports (ip/mld.h). The first byte picks the codec. */
#include "ip/icmp.h"
#include "ip/icmpv6.h"
#include "ip/mld.h"
#include "ip/ndp.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t which = data[0];
	data++, size--;
	switch (which % 4) {
	case 0: {
		struct icmp_hdr h;
		(void)icmp_parse(data, size, &h);
		break;
	}
	case 1: {
		struct ipaddr src, dst;
		ipaddr_pton("fe80::1", &src);
		ipaddr_pton("ff02::1", &dst);
		struct icmpv6_hdr h;
		(void)icmpv6_parse(data, size, &src, &dst, &h);
		break;
	}
	case 2: {
		/* NDP bodies start at the ICMPv6 header; the code is its second byte */
		struct ndp_msg m;
		(void)ndp_parse(data, size, size > 1 ? data[1] : 0, &m);
		break;
	}
	default: {
		struct mld_query q;
		int nrec;
		(void)mld_parse_query(data, size, &q);
		(void)mld_parse_report(data, size, &nrec);
		break;
	}
	}
	return 0;
}

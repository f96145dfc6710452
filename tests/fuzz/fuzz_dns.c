/* libFuzzer target: the DNS message codec (apps/lib/dns_msg.h). A message
 * that decodes is encoded again (compressed): that must decode, to a
 * message that encodes to the very same bytes (so the encoder never writes
 * a pointer the decoder refuses, bug 11), and every record prints. */
#include <string.h>

#include "apps/lib/dns_msg.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_msg m, m2;
	static uint8_t w1[DNS_MSG_MAX], w2[DNS_MSG_MAX];
	static char line[8192];
	if (dns_decode(&m, data, size) != NULL)
		return 0;
	for (int i = 0; i < m.an + m.ns + m.ar; i++)
		dns_rr_to_text(&m, &m.rr[i], line, sizeof(line));
	char name[DNS_NAME_TEXT];
	if (m.has_question)
		dns_name_to_text(m.qname, name);
	/* poison what the encoder has not written: it must never read it */
	memset(w1, 0xc0, sizeof(w1));
	int n1 = dns_encode(&m, w1, sizeof(w1));
	if (n1 < 0)
		return 0; /* names expanded: it may not fit any more */
	const char *why = dns_decode(&m2, w1, (size_t)n1);
	FUZZ_ASSERT(why == NULL, "our own encoding is rejected: %s", why);
	FUZZ_ASSERT(m2.an == m.an && m2.ns == m.ns && m2.ar == m.ar && m2.edns == m.edns,
		    "record counts changed");
	for (int i = 0; i < m.an + m.ns + m.ar; i++)
		FUZZ_ASSERT(dns_name_eq(m.rr[i].name, m2.rr[i].name) && m.rr[i].type == m2.rr[i].type,
			    "record %d changed", i);
	memset(w2, 0, sizeof(w2));
	int n2 = dns_encode(&m2, w2, sizeof(w2));
	FUZZ_ASSERT(n2 == n1 && memcmp(w1, w2, (size_t)n1) == 0, "encodings differ: %d, %d", n1, n2);
	return 0;
}

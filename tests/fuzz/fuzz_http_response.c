/* libFuzzer target: the HTTP client (apps/lib/http_client.h): the response
 * head parser, then the chunked decoder on the bytes after the head, fed
 * all at once and one byte at a time: the same data and the same end. */
#include <string.h>

#include "apps/lib/http_client.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response r;
	int h = http_parse_response((const char *)data, size, &r);
	size_t at = h > 0 ? (size_t)h : 0;
	if (h > 0)
		FUZZ_ASSERT((size_t)h <= size && r.status >= 100 && r.status <= 999 &&
				    r.content_length >= -1,
			    "head %d status %d length %lld", h, r.status, (long long)r.content_length);
	size_t n = size - at;
	uint8_t *a = malloc(n ? n : 1), *b = malloc(n ? n : 1);
	memcpy(a, data + at, n);
	struct http_chunked s1 = { 0 }, s2 = { 0 };
	size_t out1 = 0, used1 = 0;
	int r1 = http_chunked_decode(&s1, a, n, &out1, &used1);
	FUZZ_ASSERT(out1 <= n && used1 <= n, "out %zu used %zu of %zu", out1, used1, n);
	/* byte by byte, each in a buffer of its own (exact size) */
	size_t out2 = 0, used2 = 0;
	int r2 = 0;
	for (size_t i = 0; i < n && r2 == 0; i++) {
		uint8_t *one = malloc(1);
		one[0] = data[at + i];
		size_t o = 0, u = 0;
		r2 = http_chunked_decode(&s2, one, 1, &o, &u);
		if (r2 >= 0) {
			if (o)
				b[out2] = one[0];
			out2 += o;
			used2 += u;
		}
		free(one);
	}
	FUZZ_ASSERT(r1 == r2, "at once %d, byte by byte %d", r1, r2);
	if (r1 != -1) {
		FUZZ_ASSERT(out1 == out2 && memcmp(a, b, out1) == 0, "data differs: %zu, %zu", out1,
			    out2);
		if (r1 == 1)
			FUZZ_ASSERT(used1 == used2, "used %zu, %zu", used1, used2);
	}
	free(a);
	free(b);
	return 0;
}

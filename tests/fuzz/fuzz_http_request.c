/* libFuzzer target: the HTTP/1.1 request head parser of the web server
 * (apps/lib/http_parse.c, apps/lib/http.h), with the path normalizer and
 * the Range parser on what it found. */
#include "apps/lib/http.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	int r = http_parse_request((const char *)data, size, &req);
	if (r <= 0)
		return 0;
	FUZZ_ASSERT((size_t)r <= size && req.head_len == (size_t)r, "head %d of %zu", r, size);
	(void)http_request_keep_alive(&req);
	char path[4096];
	(void)http_path_normalize(req.path.p, req.path.n, path, sizeof(path));
	if (req.range.n) {
		uint64_t first, last;
		(void)http_range_parse(req.range, 1000, &first, &last);
	}
	time_t t;
	if (req.if_modified_since.n)
		(void)http_date_parse(req.if_modified_since, &t);
	return 0;
}

/* libFuzzer target: the TCP header and options codec (tcp/tcp_codec.h). A
 * parsed header, emitted again, parses to the same fields and options
 * (SACK blocks: those that fit in 40 bytes of options). */
#include <string.h>

#include "tcp/tcp_codec.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_seg a, b;
	if (tcp_parse(data, size, &a) != NULL)
		return 0;
	FUZZ_ASSERT(a.hlen >= TCP_HDR_LEN && a.hlen <= size && a.len == size - a.hlen,
		    "hlen %u len %zu of %zu", a.hlen, a.len, size);
	if (a.opt.nsack > TCP_MAX_SACK || tcp_opts_len(&a.opt) > TCP_MAX_HDR_LEN)
		return 0;
	uint8_t out[TCP_MAX_HDR_LEN];
	size_t n = tcp_emit(&a, out);
	FUZZ_ASSERT(n >= TCP_HDR_LEN && n <= TCP_MAX_HDR_LEN, "emitted %zu bytes", n);
	FUZZ_ASSERT(tcp_parse(out, n, &b) == NULL, "our own header does not parse");
	FUZZ_ASSERT(a.sport == b.sport && a.dport == b.dport && a.seq == b.seq && a.ack == b.ack &&
			    a.flags == b.flags && a.wnd == b.wnd,
		    "fixed fields changed");
	FUZZ_ASSERT(a.opt.mss_ok == b.opt.mss_ok && (!a.opt.mss_ok || a.opt.mss == b.opt.mss),
		    "MSS changed");
	FUZZ_ASSERT(a.opt.ws_ok == b.opt.ws_ok && (!a.opt.ws_ok || a.opt.ws == b.opt.ws),
		    "window scale changed");
	FUZZ_ASSERT(a.opt.sack_perm == b.opt.sack_perm, "SACK-permitted changed");
	FUZZ_ASSERT(a.opt.ts_ok == b.opt.ts_ok &&
			    (!a.opt.ts_ok || (a.opt.tsval == b.opt.tsval && a.opt.tsecr == b.opt.tsecr)),
		    "timestamps changed");
	/* The emitter writes as many SACK blocks as fit after the other
	 * options in their aligned layout (tcp_opts_nsack): a parsed header
	 * packed without NOPs (TS, WS and 3 blocks in 39 bytes) comes back with
	 * fewer blocks. Those it keeps are the first ones, unchanged, and it
	 * drops one only when one more block (8 bytes) would not fit. */
	FUZZ_ASSERT(b.opt.nsack <= a.opt.nsack &&
			    memcmp(a.opt.sack, b.opt.sack, sizeof(a.opt.sack[0]) * b.opt.nsack) == 0,
		    "SACK blocks changed");
	FUZZ_ASSERT(b.opt.nsack == a.opt.nsack || n + 8 > TCP_MAX_HDR_LEN,
		    "%u of %u SACK blocks emitted in %zu bytes", b.opt.nsack, a.opt.nsack, n);
	return 0;
}

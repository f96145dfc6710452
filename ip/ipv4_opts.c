/* IPv4 options returned in an echo reply (RFC 1122 3.2.2.6): Record Route
 * and Timestamp, laid out as RFC 791 3.1 says:
 *
 *   Record Route   type 7 | length | pointer | route data (addresses) ...
 *   Timestamp      type 68 | length | pointer | overflow:4 flag:4 | entries ...
 *
 * The pointer counts from the option's first byte (type = 1) and names the
 * byte where the next entry goes: 4 for an empty Record Route, 5 for an
 * empty Timestamp. An entry is written only if it fits whole. */
#include "ip/ipv4_opts.h"

#include <stdbool.h>
#include <string.h>

#include "stack/byteorder.h"

/* RFC 791 Record Route: writes self at the pointer and moves it on. A full
 * route (pointer past the length) is left as it is; a pointer that leaves
 * some room but not enough for an address is an error ("the original
 * datagram is considered to be in error and is discarded"), as is one
 * under 4. Returns 0 or -1. */
static int record_route(uint8_t *o, size_t len, uint32_t self)
{
	size_t ptr = o[2];
	if (ptr < 4)
		return -1;
	if (ptr > len)
		return 0; /* full */
	if (ptr + 3 > len)
		return -1;
	be32_put(o + ptr - 1, self);
	o[2] = (uint8_t)(ptr + 4);
	return 0;
}

/* RFC 791 Internet Timestamp: with flag 0 a timestamp, with flag 1 our
 * address and a timestamp, with flag 3 a timestamp only if the next
 * prespecified address is ours. When the option is full the overflow
 * count (the high 4 bits of the fourth byte) goes up by one; its own
 * overflow, a pointer under 5, room for part of an entry, or another flag
 * are errors. Returns 0 or -1. */
static int record_timestamp(uint8_t *o, size_t len, uint32_t self, uint32_t ts_ms)
{
	size_t ptr = o[2];
	unsigned oflw = o[3] >> 4, flag = o[3] & 0x0f;
	if (flag != IPV4_TS_ONLY && flag != IPV4_TS_ADDR && flag != IPV4_TS_PRESPEC)
		return -1;
	size_t entry = flag == IPV4_TS_ONLY ? 4 : 8;
	if (ptr < 5)
		return -1;
	if (ptr > len) {
		if (oflw == 15)
			return -1;
		o[3] = (uint8_t)((oflw + 1) << 4 | flag);
		return 0;
	}
	if (ptr + entry - 1 > len)
		return -1;
	if (flag == IPV4_TS_ONLY) {
		be32_put(o + ptr - 1, ts_ms);
	} else {
		if (flag == IPV4_TS_PRESPEC && be32_get(o + ptr - 1) != self)
			return 0; /* not ours: the next hop named fills it in */
		be32_put(o + ptr - 1, self);
		be32_put(o + ptr + 3, ts_ms);
	}
	o[2] = (uint8_t)(ptr + entry);
	return 0;
}

int ipv4_opt_next(const uint8_t *opts, size_t len, size_t *at)
{
	size_t i = *at;
	while (i < len && opts[i] == IPV4_OPT_NOP)
		i++;
	*at = i;
	if (i >= len || opts[i] == IPV4_OPT_EOL)
		return -1;
	if (i + 1 >= len || opts[i + 1] < 2 || i + opts[i + 1] > len)
		return -2;
	*at = i + opts[i + 1];
	return (int)i;
}

int ipv4_options_check(const uint8_t *opts, size_t len)
{
	size_t at = 0;
	int i;
	while ((i = ipv4_opt_next(opts, len, &at)) >= 0) {
		uint8_t type = opts[i];
		size_t olen = opts[i + 1];
		if (type != IPV4_OPT_RR && type != IPV4_OPT_TS)
			continue;
		size_t min_len = type == IPV4_OPT_RR ? 3 : 4, min_ptr = min_len + 1;
		if (olen < min_len)
			return i + 1;
		size_t ptr = opts[i + 2], entry = 4;
		if (ptr < min_ptr)
			return i + 2;
		if (type == IPV4_OPT_TS) {
			unsigned flag = opts[i + 3] & 0x0f;
			if (flag != IPV4_TS_ONLY && flag != IPV4_TS_ADDR && flag != IPV4_TS_PRESPEC)
				return i + 3;
			if (flag != IPV4_TS_ONLY)
				entry = 8; /* an address and a timestamp */
		}
		/* not full: the next entry must fit whole */
		if (ptr <= olen && ptr + entry - 1 > olen)
			return i + 2;
	}
	if (i == -2) /* a length missing, under 2 or past the end */
		return at + 1 < len ? (int)at + 1 : (int)at;
	return -1;
}

int ipv4_echo_options(const uint8_t *in, size_t inlen, uint32_t self, uint32_t ts_ms, uint8_t *out)
{
	size_t at = 0, n = 0;
	int i;
	if (inlen > IPV4_OPT_MAX)
		return -1;
	while ((i = ipv4_opt_next(in, inlen, &at)) >= 0) {
		uint8_t type = in[i];
		size_t olen = in[i + 1];
		if (type != IPV4_OPT_RR && type != IPV4_OPT_TS)
			continue; /* not returned */
		if (olen < (type == IPV4_OPT_RR ? 3u : 4u))
			return -1;
		uint8_t *o = out + n;
		memcpy(o, in + i, olen);
		/* RFC 1122 3.2.2.6: "updated to include the current host":
		 * once as the request's receiver, once as the reply's sender
		 * (so the route covers the round trip) */
		for (int k = 0; k < 2; k++) {
			int r = type == IPV4_OPT_RR ? record_route(o, olen, self)
						    : record_timestamp(o, olen, self, ts_ms);
			if (r < 0)
				return -1;
		}
		n += olen;
	}
	if (i == -2)
		return -1;
	while (n % 4)
		out[n++] = IPV4_OPT_EOL;
	return (int)n;
}

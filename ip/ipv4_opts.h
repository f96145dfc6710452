/* IPv4 options of an echo request, returned in its echo reply: Record Route
 * and Timestamp (RFC 791 3.1, RFC 1122 3.2.2.6). What `ping -R` and
 * `ping -T tsonly` ask for. A pure function on bytes: no stack state. */
#ifndef TAPSTACK_IPV4_OPTS_H
#define TAPSTACK_IPV4_OPTS_H

#include <stddef.h>
#include <stdint.h>

#define IPV4_OPT_MAX 40         /* RFC 791 3.1: IHL 15 leaves 40 bytes for options */
#define IPV4_OPT_EOL 0          /* end of option list */
#define IPV4_OPT_NOP 1          /* no operation (padding between options) */
#define IPV4_OPT_RR 7           /* record route */
#define IPV4_OPT_TS 68          /* internet timestamp */

#define IPV4_TS_ONLY 0          /* timestamp option flags: timestamps only */
#define IPV4_TS_ADDR 1          /* each timestamp preceded by the address */
#define IPV4_TS_PRESPEC 3       /* addresses given by the sender, filled in if ours */
#define IPV4_TS_NONSTANDARD 0x80000000u /* RFC 791: set when not ms since midnight UT */

/* Walks the options opts (len bytes) as RFC 791 3.1 lays them out: from
 * *at, skips no-operation bytes and returns the offset of the next option
 * (type opts[off], length opts[off + 1], counting both, at least 2, inside
 * len), moving *at past it; -1 at end-of-list or the end; -2 (*at left
 * at the bad option) if its length is missing, under 2 or runs past len. */
int ipv4_opt_next(const uint8_t *opts, size_t len, size_t *at);

/* Checks the options of a received datagram (opts, len bytes after the
 * fixed header) as RFC 791 3.1 lays them out: every option but end-of-list
 * and no-operation has a length of at least 2 that stays inside the
 * header; Record Route and Timestamp have their pointer where their rules
 * allow (as Linux's ip_options_compile checks them). Returns -1 if they are
 * good, else the offset from opts of the byte in error, for the pointer of
 * an ICMP Parameter Problem (RFC 792, RFC 1122 3.2.2.5). */
int ipv4_options_check(const uint8_t *opts, size_t len);

/* Builds the options of an echo reply from those of the request (in, inlen
 * bytes after the fixed header) into out (IPV4_OPT_MAX bytes): Record Route
 * and Timestamp options are kept and updated with self, our address, twice
 * (once as the host that received the request, once as the one that sends
 * the reply, as Linux does, so `ping -R` shows the whole round trip);
 * ts_ms is the timestamp to write (milliseconds since midnight UT, or a
 * value with IPV4_TS_NONSTANDARD set). Every other option is left out.
 * Returns the bytes written, padded with end-of-list to a multiple of 4 (0
 * if none is kept), or -1 if the options are malformed (an option running
 * past the end, a length under 2, a pointer out of place, the timestamp
 * overflow count overflowing): the request is then not answered. */
int ipv4_echo_options(const uint8_t *in, size_t inlen, uint32_t self, uint32_t ts_ms, uint8_t *out);

#endif

/* The TCP segment codec (RFC 9293 3.1; options RFC 9293 3.2, RFC 7323,
 * RFC 2018): parse a header with its options into a struct, and emit one. */
#ifndef TAPSTACK_TCP_CODEC_H
#define TAPSTACK_TCP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/addr.h"

#define TCP_HDR_LEN 20
#define TCP_MAX_HDR_LEN 60
#define TCP_CSUM_OFFSET 16      /* the checksum field's offset in the header */

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_CWR 0x80

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WSCALE 3
#define TCP_OPT_SACK_PERM 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TIMESTAMP 8

#define TCP_MAX_SACK 4

struct tcp_opts {
	bool mss_ok;      uint16_t mss;
	bool ws_ok;       uint8_t ws;          /* shift count as sent (may exceed 14: clamp when used) */
	bool sack_perm;
	uint8_t nsack;    uint32_t sack[TCP_MAX_SACK][2]; /* left, right edges */
	bool ts_ok;       uint32_t tsval, tsecr;
};

/* A parsed segment. data points into the buffer parsed. */
struct tcp_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hlen;            /* header length in bytes (data offset * 4) */
	uint8_t flags;           /* TCP_FLAG_* */
	uint16_t wnd;            /* the window field, unscaled */
	uint16_t checksum;
	uint16_t urp;
	struct tcp_opts opt;
	const uint8_t *data;
	size_t len;              /* payload bytes */
};

/* SEG.LEN of RFC 9293 3.4: payload plus one for SYN and one for FIN. */
static inline uint32_t tcp_seg_len(const struct tcp_seg *seg)
{
	return (uint32_t)seg->len + !!(seg->flags & TCP_FLAG_SYN) + !!(seg->flags & TCP_FLAG_FIN);
}

/* Parses the segment at buf (len bytes: the IP payload). Returns NULL or the
 * drop reason: "tcp.short" (< 20 bytes), "tcp.bad_offset" (data offset < 5
 * or past len), "tcp.bad_option" (an option whose length is < 2 or runs
 * past the header, or a known option with the wrong length). Unknown options
 * are skipped (RFC 9293 3.2: MUST ignore). Does not check the checksum. */
const char *tcp_parse(const uint8_t *buf, size_t len, struct tcp_seg *seg);

/* True if the checksum of the segment (len bytes at buf) with the
 * pseudo-header of src/dst is correct. */
bool tcp_checksum_ok(const struct ipaddr *src, const struct ipaddr *dst, const uint8_t *buf, size_t len);

/* Writes the header of seg (ports, seq, ack, flags, wnd, urp and the
 * options present in seg->opt, padded with NOPs/EOL to a multiple of 4) at
 * buf, with the checksum field 0. Returns the header length. buf must have
 * room for TCP_MAX_HDR_LEN bytes. */
size_t tcp_emit(const struct tcp_seg *seg, uint8_t *buf);

/* The header length tcp_emit would write for these options. */
size_t tcp_opts_len(const struct tcp_opts *opt);

/* Fills the checksum of the segment at buf (header + payload, len bytes). */
void tcp_set_checksum(const struct ipaddr *src, const struct ipaddr *dst, uint8_t *buf, size_t len);

/* Writes only the pseudo-header's sum (folded, not complemented) into the
 * checksum field of the segment at buf (len bytes), for a device with
 * checksum offload to add the rest: Linux's CHECKSUM_PARTIAL, virtio's
 * NEEDS_CSUM (link/vnet.h). Summing the whole segment then gives the
 * checksum tcp_set_checksum writes. */
void tcp_set_checksum_partial(const struct ipaddr *src, const struct ipaddr *dst, uint8_t *buf,
			      size_t len);

/* Flags as text for traces: "SYN,ACK" ("none" for 0). buf >= 32 bytes. */
const char *tcp_flags_str(uint8_t flags, char *buf);

#endif

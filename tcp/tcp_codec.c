/* The TCP segment codec: the header of RFC 9293 3.1 with its options (RFC
 * 9293 3.2; window scale and timestamps RFC 7323; SACK RFC 2018), parsed
 * into a struct tcp_seg and emitted from one, and the checksum. See
 * tcp_codec.h.
 *
 * The header, RFC 9293 3.1 (offsets in bytes):
 *
 *     0               1               2               3
 *     |          source port          |       destination port        |
 *     |                        sequence number                        |
 *     |                     acknowledgment number                     |
 *     | off  | rsvd  |     flags      |            window             |
 *     |           checksum            |        urgent pointer         |
 *     |                 options (0 to 40 bytes) ...                   |
 *     |                          data ...                             |
 *
 * "off" is the data offset: the header length in 32-bit words (5..15).
 * Each option is either one byte (EOL, NOP) or kind, length (counting both
 * of those bytes) and length - 2 bytes of value:
 *
 *     MSS             kind 2, len 4:   16-bit maximum segment size
 *     window scale    kind 3, len 3:   shift count
 *     SACK-permitted  kind 4, len 2
 *     SACK            kind 5, len 2 + 8n: n (left, right) edges, n 1..4
 *     timestamps      kind 8, len 10:  TSval, TSecr
 *
 * The checksum covers a pseudo-header (addresses, protocol, length:
 * ip_pseudo_sum), the header and the data. */
#include "tcp/tcp_codec.h"

#include <string.h>

#include "ip/ip.h"
#include "ip/ipv4.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"

/* Field offsets in the header. */
enum {
	TCP_OFF_SPORT = 0,
	TCP_OFF_DPORT = 2,
	TCP_OFF_SEQ = 4,
	TCP_OFF_ACK = 8,
	TCP_OFF_DOFF = 12,     /* data offset in the high 4 bits */
	TCP_OFF_FLAGS = 13,
	TCP_OFF_WND = 14,
	TCP_OFF_CHECKSUM = 16,
	TCP_OFF_URP = 18,
};

/* Option lengths (the length byte: kind and length included). */
enum {
	TCP_OLEN_MSS = 4,
	TCP_OLEN_WSCALE = 3,
	TCP_OLEN_SACK_PERM = 2,
	TCP_OLEN_SACK_BASE = 2,  /* plus 8 per block */
	TCP_OLEN_SACK_BLOCK = 8,
	TCP_OLEN_TIMESTAMP = 10,
};

#define TCP_MAX_OPT_LEN (TCP_MAX_HDR_LEN - TCP_HDR_LEN)

/* ---- Parsing ------------------------------------------------------------ */

/* Stores one option of kind with olen bytes (kind and length included) at
 * o. Returns false if a known option has the wrong length; unknown kinds
 * are ignored (RFC 9293 3.2: a TCP MUST ignore options it does not know). */
static bool tcp_parse_option(const uint8_t *o, uint8_t kind, size_t olen, struct tcp_opts *opt)
{
	switch (kind) {
	case TCP_OPT_MSS:
		if (olen != TCP_OLEN_MSS)
			return false;
		opt->mss_ok = true;
		opt->mss = be16_get(o + 2);
		return true;
	case TCP_OPT_WSCALE:
		if (olen != TCP_OLEN_WSCALE)
			return false;
		opt->ws_ok = true;
		opt->ws = o[2];
		return true;
	case TCP_OPT_SACK_PERM:
		if (olen != TCP_OLEN_SACK_PERM)
			return false;
		opt->sack_perm = true;
		return true;
	case TCP_OPT_SACK: {
		/* RFC 2018 3: 2 + 8n bytes, and at most 4 blocks fit in 40 bytes */
		size_t n = (olen - TCP_OLEN_SACK_BASE) / TCP_OLEN_SACK_BLOCK;
		if ((olen - TCP_OLEN_SACK_BASE) % TCP_OLEN_SACK_BLOCK != 0 || n < 1 ||
		    n > TCP_MAX_SACK)
			return false;
		opt->nsack = (uint8_t)n;
		for (size_t i = 0; i < n; i++) {
			const uint8_t *b = o + TCP_OLEN_SACK_BASE + i * TCP_OLEN_SACK_BLOCK;
			opt->sack[i][0] = be32_get(b);
			opt->sack[i][1] = be32_get(b + 4);
		}
		return true;
	}
	case TCP_OPT_TIMESTAMP:
		if (olen != TCP_OLEN_TIMESTAMP)
			return false;
		opt->ts_ok = true;
		opt->tsval = be32_get(o + 2);
		opt->tsecr = be32_get(o + 6);
		return true;
	default:
		return true;
	}
}

/* Parses the options in the len bytes at o (the header after its first 20
 * bytes) into opt. RFC 9293 3.2: EOL ends the list, NOP is a single byte,
 * every other option carries a length of at least 2 that must stay inside
 * the header. Returns NULL or "tcp.bad_option". */
static const char *tcp_parse_options(const uint8_t *o, size_t len, struct tcp_opts *opt)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = o[i];
		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return "tcp.bad_option";
		size_t olen = o[i + 1];
		if (olen < 2 || i + olen > len)
			return "tcp.bad_option";
		if (!tcp_parse_option(o + i, kind, olen, opt))
			return "tcp.bad_option";
		i += olen;
	}
	return NULL;
}

/* Parses the segment at buf (len bytes: the IP payload) into seg. Returns
 * NULL or the drop reason ("tcp.short", "tcp.bad_offset", "tcp.bad_option").
 * Does not check the checksum. */
const char *tcp_parse(const uint8_t *buf, size_t len, struct tcp_seg *seg)
{
	memset(seg, 0, sizeof(*seg));
	if (len < TCP_HDR_LEN)
		return "tcp.short";
	seg->sport = be16_get(buf + TCP_OFF_SPORT);
	seg->dport = be16_get(buf + TCP_OFF_DPORT);
	seg->seq = be32_get(buf + TCP_OFF_SEQ);
	seg->ack = be32_get(buf + TCP_OFF_ACK);
	seg->hlen = (uint8_t)((buf[TCP_OFF_DOFF] >> 4) * 4);
	seg->flags = buf[TCP_OFF_FLAGS];
	seg->wnd = be16_get(buf + TCP_OFF_WND);
	seg->checksum = be16_get(buf + TCP_OFF_CHECKSUM);
	seg->urp = be16_get(buf + TCP_OFF_URP);
	/* RFC 9293 3.1: the data offset counts 32-bit words, at least 5 */
	if (seg->hlen < TCP_HDR_LEN || seg->hlen > len)
		return "tcp.bad_offset";
	const char *reason = tcp_parse_options(buf + TCP_HDR_LEN, seg->hlen - TCP_HDR_LEN,
					       &seg->opt);
	if (reason)
		return reason;
	seg->data = buf + seg->hlen;
	seg->len = len - seg->hlen;
	return NULL;
}

/* ---- Checksum ----------------------------------------------------------- */

/* The checksum over the pseudo-header of src/dst and the len bytes at buf
 * (RFC 9293 3.1): 0 when the checksum field in buf is right, or, with the
 * field at 0, the value to write there. */
static uint16_t tcp_csum(const struct ipaddr *src, const struct ipaddr *dst, const uint8_t *buf,
			 size_t len)
{
	return csum_fold(csum_partial(buf, len, ip_pseudo_sum(src, dst, IP_PROTO_TCP,
							       (uint32_t)len)));
}

/* True if the checksum of the segment at buf (len bytes) from src to dst is
 * correct. */
bool tcp_checksum_ok(const struct ipaddr *src, const struct ipaddr *dst, const uint8_t *buf,
		     size_t len)
{
	return len >= TCP_HDR_LEN && tcp_csum(src, dst, buf, len) == 0;
}

/* Fills the checksum field of the segment at buf (header and data, len
 * bytes) from src to dst. */
void tcp_set_checksum(const struct ipaddr *src, const struct ipaddr *dst, uint8_t *buf, size_t len)
{
	be16_put(buf + TCP_OFF_CHECKSUM, 0);
	be16_put(buf + TCP_OFF_CHECKSUM, tcp_csum(src, dst, buf, len));
}

void tcp_set_checksum_partial(const struct ipaddr *src, const struct ipaddr *dst, uint8_t *buf,
			      size_t len)
{
	uint32_t sum = ip_pseudo_sum(src, dst, IP_PROTO_TCP, (uint32_t)len);
	be16_put(buf + TCP_OFF_CHECKSUM, (uint16_t)~csum_fold(sum));
}

/* ---- Emitting ----------------------------------------------------------- */

/* Option bytes used by everything but SACK blocks: MSS 4, timestamps 12 (with
 * SACK-permitted in the place of its two NOPs), SACK-permitted alone 4,
 * window scale 4. */
static size_t tcp_opts_fixed_len(const struct tcp_opts *opt)
{
	size_t n = 0;

	if (opt->mss_ok)
		n += TCP_OLEN_MSS;
	if (opt->ts_ok)
		n += 2 + TCP_OLEN_TIMESTAMP;
	else if (opt->sack_perm)
		n += 2 + TCP_OLEN_SACK_PERM;
	if (opt->ws_ok)
		n += 1 + TCP_OLEN_WSCALE;
	return n;
}

/* How many of the SACK blocks in opt fit after the other options: the
 * header holds at most 40 option bytes (3 blocks with timestamps, as Linux
 * sends). */
static size_t tcp_opts_nsack(const struct tcp_opts *opt)
{
	size_t fixed = tcp_opts_fixed_len(opt);
	size_t n = opt->nsack > TCP_MAX_SACK ? TCP_MAX_SACK : opt->nsack;

	if (n == 0 || fixed + 2 + TCP_OLEN_SACK_BASE + TCP_OLEN_SACK_BLOCK > TCP_MAX_OPT_LEN)
		return 0;
	size_t fit = (TCP_MAX_OPT_LEN - fixed - 2 - TCP_OLEN_SACK_BASE) / TCP_OLEN_SACK_BLOCK;
	return n < fit ? n : fit;
}

/* The header length tcp_emit would write for these options. */
size_t tcp_opts_len(const struct tcp_opts *opt)
{
	size_t n = tcp_opts_fixed_len(opt);
	size_t nsack = tcp_opts_nsack(opt);

	if (nsack)
		n += 2 + TCP_OLEN_SACK_BASE + nsack * TCP_OLEN_SACK_BLOCK;
	/* RFC 9293 3.1: the header is padded to a multiple of 32 bits */
	return TCP_HDR_LEN + (n + 3) / 4 * 4;
}

/* Writes the options of opt at o, in the order and layout Linux uses
 * (tcp_options_write), each one aligned on its natural boundary with NOPs:
 *
 *     MSS(4) SACKOK(2) TS(10) NOP WS(3)     a SYN with every option
 *     NOP NOP TS(10)                        timestamps without SACK-permitted
 *     NOP NOP SACKOK(2)                     SACK-permitted without timestamps
 *     NOP NOP SACK(2+8n)                    SACK blocks
 *
 * then EOL bytes up to a multiple of 4. Returns the bytes written. */
static size_t tcp_emit_options(const struct tcp_opts *opt, uint8_t *o)
{
	size_t i = 0;

	if (opt->mss_ok) {
		o[i++] = TCP_OPT_MSS;
		o[i++] = TCP_OLEN_MSS;
		be16_put(o + i, opt->mss);
		i += 2;
	}
	if (opt->ts_ok) {
		if (opt->sack_perm) {
			o[i++] = TCP_OPT_SACK_PERM;
			o[i++] = TCP_OLEN_SACK_PERM;
		} else {
			o[i++] = TCP_OPT_NOP;
			o[i++] = TCP_OPT_NOP;
		}
		o[i++] = TCP_OPT_TIMESTAMP;
		o[i++] = TCP_OLEN_TIMESTAMP;
		be32_put(o + i, opt->tsval);
		be32_put(o + i + 4, opt->tsecr);
		i += 8;
	} else if (opt->sack_perm) {
		o[i++] = TCP_OPT_NOP;
		o[i++] = TCP_OPT_NOP;
		o[i++] = TCP_OPT_SACK_PERM;
		o[i++] = TCP_OLEN_SACK_PERM;
	}
	if (opt->ws_ok) {
		o[i++] = TCP_OPT_NOP;
		o[i++] = TCP_OPT_WSCALE;
		o[i++] = TCP_OLEN_WSCALE;
		o[i++] = opt->ws;
	}
	size_t nsack = tcp_opts_nsack(opt);
	if (nsack) {
		o[i++] = TCP_OPT_NOP;
		o[i++] = TCP_OPT_NOP;
		o[i++] = TCP_OPT_SACK;
		o[i++] = (uint8_t)(TCP_OLEN_SACK_BASE + nsack * TCP_OLEN_SACK_BLOCK);
		for (size_t k = 0; k < nsack; k++) {
			be32_put(o + i, opt->sack[k][0]);
			be32_put(o + i + 4, opt->sack[k][1]);
			i += TCP_OLEN_SACK_BLOCK;
		}
	}
	/* RFC 9293 3.1: padding of zeros (an EOL) to a 32-bit boundary */
	while (i % 4 != 0)
		o[i++] = TCP_OPT_EOL;
	return i;
}

/* Writes the header of seg with its options at buf (room for
 * TCP_MAX_HDR_LEN bytes), checksum 0. Returns the header length. */
size_t tcp_emit(const struct tcp_seg *seg, uint8_t *buf)
{
	size_t hlen = TCP_HDR_LEN + tcp_emit_options(&seg->opt, buf + TCP_HDR_LEN);

	be16_put(buf + TCP_OFF_SPORT, seg->sport);
	be16_put(buf + TCP_OFF_DPORT, seg->dport);
	be32_put(buf + TCP_OFF_SEQ, seg->seq);
	be32_put(buf + TCP_OFF_ACK, seg->ack);
	buf[TCP_OFF_DOFF] = (uint8_t)(hlen / 4 << 4);
	buf[TCP_OFF_FLAGS] = seg->flags;
	be16_put(buf + TCP_OFF_WND, seg->wnd);
	be16_put(buf + TCP_OFF_CHECKSUM, 0);
	be16_put(buf + TCP_OFF_URP, seg->urp);
	return hlen;
}

/* Flags as text for traces, in bit order ("SYN,ACK"; "none" for 0), into
 * buf (at least 32 bytes). Returns buf. */
const char *tcp_flags_str(uint8_t flags, char *buf)
{
	static const char *const names[8] = { "FIN", "SYN", "RST", "PSH",
					      "ACK", "URG", "ECE", "CWR" };
	size_t n = 0;

	buf[0] = '\0';
	for (int bit = 0; bit < 8; bit++) {
		if (!(flags & (1u << bit)))
			continue;
		if (n > 0)
			buf[n++] = ',';
		memcpy(buf + n, names[bit], 4);  /* three letters and the NUL */
		n += 3;
	}
	return n ? buf : strcpy(buf, "none");
}

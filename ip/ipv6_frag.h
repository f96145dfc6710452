/* IPv6 fragmentation and reassembly (RFC 8200 4.5), with overlapping
 * fragments dropped whole (RFC 5722), atomic fragments kept out of it
 * (RFC 6946), first fragments that must carry the whole header chain
 * (RFC 7112) and unpredictable identifications (RFC 7739). The bookkeeping
 * of held fragments is shared with IPv4 (ip/ipv4_frag.h), and so are the
 * table of datagrams, its limits and the memory budget (ip/reasm.h). */
#ifndef TAPSTACK_IPV6_FRAG_H
#define TAPSTACK_IPV6_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/addr.h"
#include "ip/reasm.h"

struct stack;
struct netif;
struct pkt;
struct ipv6_hdr;

#define IP6_FRAG_HDR_LEN 8
#define REASM6_TIMEOUT_US 60000000   /* RFC 8200 4.5: 60 seconds */
#define REASM6_MAX_DATAGRAMS REASM_MAX_DATAGRAMS /* the shared table's size (ip/reasm.h) */
#define REASM6_MAX_FRAGMENTS REASM_MAX_FRAGMENTS /* fragments of one datagram */

/* The datagrams being reassembled are held in the table shared with IPv4
 * (struct reasm_table, ip/reasm.h), keyed (RFC 8200 4.5) by source,
 * destination and identification: the next header is not part of the key,
 * unlike IPv4's protocol, so the key's proto is 0. */

/* What a fragment header says (RFC 8200 4.5):
 *     | next header |   reserved  |  fragment offset (13) |res|M|
 *     |                     identification                      | */
struct ipv6_frag_hdr {
	uint8_t next;
	uint16_t offset;             /* in bytes (the field counts 8-byte units) */
	bool more;                   /* M */
	uint32_t id;
};

/* Parses the 8-byte fragment header at buf (the caller checked the length). */
void ipv6_frag_parse(const uint8_t *buf, struct ipv6_frag_hdr *f);

/* Writes f at buf (8 bytes). */
void ipv6_frag_emit(const struct ipv6_frag_hdr *f, uint8_t *buf);

/* Adds the fragment p (p->data at its IPv6 header, trimmed to 40 + payload
 * length, h parsed) whose fragment header is at byte frag_at and whose
 * previous header's next-header field is at byte nh_at. Returns the whole
 * datagram once the last hole is filled (a new packet: the first
 * fragment's unfragmentable part with the fragment header's next header
 * written at nh_at and the payload length set, then every fragment's data;
 * the caller owns it and walks it again), or NULL: the fragment was kept,
 * or dropped under a named reason, with an ICMPv6 parameter problem where
 * RFC 8200 4.5 or RFC 7112 asks for one. Consumes p.
 *
 * Reasons, per fragment: "ip6.frag_bad_length" (M set and data not a
 * multiple of 8, param problem code 0 at the payload length; or empty),
 * "ip6.frag_too_big" (reassembled payload over 65535, param problem code 0
 * at the fragment offset), "ip6.frag_incomplete_chain" (a first fragment
 * without the whole header chain, RFC 7112, param problem code 3),
 * "ip6.frag_memory_limit", "ip6.frag_duplicate", "ip6.frag_after_overlap".
 * Per datagram: "ip6.frag_overlap", "ip6.frag_inconsistent",
 * "ip6.frag_too_many", "ip6.frag_evicted", "ip6.frag_no_buffer" and
 * "ip6.frag_timeout" (in ipv6_reasm_timer). */
struct pkt *ipv6_reasm_input(struct stack *s, struct pkt *p, const struct ipv6_hdr *h,
			     size_t frag_at, size_t nh_at);

/* Gives up on datagrams whose time is over ("ip6.frag_timeout"), sending
 * ICMPv6 time exceeded code 1 to the source if the first fragment came
 * (RFC 8200 4.5). Runs at s->now. */
void ipv6_reasm_timer(struct stack *s);

/* The earliest reassembly deadline, or INT64_MAX. */
int64_t ipv6_reasm_next_deadline(const struct reasm_table *t);

/* Cuts the datagram p (p->data at its 40-byte IPv6 header, already
 * written with next header and payload length, no extension headers) into
 * fragments of at most mtu bytes (RFC 8200 4.5): each a copy of the fixed
 * header with next header 44, then a fragment header with one
 * identification from the stack's generator (RFC 7739), then a multiple of
 * 8 bytes of data but the last. Consumes p. Returns the fragments linked
 * by ->next, in order (the caller sends and owns them), or NULL after a
 * counted drop: "ip6.tx_too_big" (mtu too small for 8 bytes of data),
 * "ip6.frag_no_buffer". */
struct pkt *ipv6_fragment(struct stack *s, struct pkt *p, unsigned mtu);

#endif

/* IPv4 fragmentation and reassembly (RFC 791 3.2, RFC 815, RFC 1122
 * 3.3.2; overlapping fragments dropped whole, as RFC 5722 asks of IPv6). */
#ifndef TAPSTACK_IPV4_FRAG_H
#define TAPSTACK_IPV4_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/ipv4.h"
#include "ip/reasm.h"
#include "stack/pkt.h"

struct stack;

#define REASM_TIMEOUT_US 30000000    /* RFC 1122 3.3.2: 60 to 120 s recommended; 30 s like Linux */

/* The table of datagrams being reassembled (struct reasm_table, the limits
 * REASM_MAX_*) is shared with IPv6: ip/reasm.h. An IPv4 datagram is keyed
 * (RFC 791 3.2) by source, destination, protocol and identification. */

/* ---- Bookkeeping shared by IPv4 and IPv6 reassembly (ipv6_frag.c) ----
 *
 * A held fragment remembers in its p->cb where its data lies in the
 * original payload, so the sorted list, the overlap test and the "no hole
 * left" test below do not care which IP family the header is. */
struct frag_span {
	uint32_t start;              /* first payload byte the fragment covers */
	uint32_t end;                /* one past its last byte */
	uint16_t hlen;               /* bytes before its data (its headers) */
	bool mf;                     /* more fragments follow */
};

/* Records in p->cb that p's data (after hlen bytes of headers, up to
 * p->len) starts at payload byte start, with "more fragments" mf. */
void frag_span_set(struct pkt *p, size_t hlen, size_t start, bool mf);

/* The span recorded by frag_span_set(). */
struct frag_span frag_span_get(const struct pkt *p);

enum frag_insert_result { FRAG_INSERTED, FRAG_DUPLICATE, FRAG_OVERLAP };

/* The reassembly insert, for either family: links p (its span set) into
 * *list, which stays sorted by start and never overlapping. Returns
 * FRAG_INSERTED (the list owns p), or, leaving list and p untouched,
 * FRAG_DUPLICATE (an exact copy of a held fragment: same span, MF and data)
 * or FRAG_OVERLAP (p shares bytes with a held fragment otherwise). */
enum frag_insert_result frag_list_insert(struct pkt **list, struct pkt *p);

/* True if a fragment ending at end (mf: more follow) contradicts the list:
 * a second, different end (total_len is the known end, 0 if none yet), or
 * data past the end. */
bool frag_list_end_conflict(const struct pkt *list, size_t total_len, size_t end, bool mf);

/* RFC 815: the hole list is empty. True if total_len is known (nonzero),
 * received bytes equal it and the list covers [0, total_len) without gaps. */
bool frag_list_complete(const struct pkt *list, size_t total_len, size_t received);

/* Adds the fragment p (p->data at the IP header, trimmed to its total
 * length; h its parsed header). Returns the whole datagram once the last
 * hole is filled (one packet, p->data at an IP header with the total length
 * set, MF and offset cleared and a correct checksum; the caller owns it), or
 * NULL (the fragment was kept, or dropped with a named reason: duplicate
 * fragments are dropped as "ip.frag_duplicate", overlaps drop the whole
 * datagram as "ip.frag_overlap", a datagram over 65535 bytes as
 * "ip.frag_too_big", limits as "ip.frag_memory_limit"). Consumes p.
 *
 * Counted once per fragment: "ip.frag_bad_length" (data not a multiple of 8
 * with MF set, or empty), "ip.frag_too_big", "ip.frag_memory_limit",
 * "ip.frag_duplicate", "ip.frag_after_overlap" (a fragment of a datagram
 * abandoned for an overlap, before its deadline). Counted once per datagram
 * abandoned with all its fragments: "ip.frag_overlap", "ip.frag_inconsistent"
 * (two different ends, or data past the end), "ip.frag_too_many" (over
 * REASM_MAX_FRAGMENTS), "ip.frag_evicted" (the oldest, to make room),
 * "ip.frag_no_buffer", and "ip.frag_timeout" in ipv4_reasm_timer(). */
struct pkt *ipv4_reasm_input(struct stack *s, struct pkt *p, const struct ipv4_hdr *h);

/* The reassembly insert: links the fragment p (p->data at its IP header,
 * p->len its total length, data not empty) into e->frags, which stays
 * sorted by offset, and adds it to e->nfrags, e->received and e->bytes
 * (p->cap). Returns NULL when p was linked in (e owns it now), or, leaving
 * e and p untouched: "ip.frag_duplicate" (p is an exact copy of a held
 * fragment: same offset, length, MF flag and data) or "ip.frag_overlap" (p
 * shares bytes with a held fragment otherwise). */
const char *ipv4_reasm_insert(struct reasm_entry *e, struct pkt *p);

/* Gives up on datagrams whose time is over ("ip.frag_timeout"), sending ICMP
 * time exceeded, code 1, if the first fragment had come (RFC 792; RFC 1122
 * 3.3.2). Runs at s->now. */
void ipv4_reasm_timer(struct stack *s);

/* The earliest reassembly deadline, or INT64_MAX. */
int64_t ipv4_reasm_next_deadline(const struct reasm_table *t);

/* Sends the datagram p (p->data at a complete IP header with its total
 * length, checksum not yet needed) as fragments that fit mtu (RFC 791 3.2:
 * each fragment's data a multiple of 8 bytes but the last; options copied
 * only if their copy flag is set). Each fragment is handed to
 * arp_output(s, ifp, f, nexthop). Consumes p. Returns 0 or a negative errno. */
int ipv4_fragment_output(struct stack *s, struct netif *ifp, struct pkt *p, uint32_t nexthop, unsigned mtu);

#endif

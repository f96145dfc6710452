/* The reassembly table, for either IP family: the datagrams being put back
 * together, their limits (per datagram and one byte budget for both
 * families), eviction of the oldest and their deadlines. What a fragment
 * says and the rules of each family stay in ipv4_frag.c (RFC 791) and
 * ipv6_frag.c (RFC 8200 4.5); the held fragments' list is shared through
 * frag_list_insert() and friends (ipv4_frag.h). */
#ifndef TAPSTACK_REASM_H
#define TAPSTACK_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/addr.h"

struct stack;
struct pkt;

#define REASM_MAX_DATAGRAMS 64       /* datagrams being reassembled at once, per family */
#define REASM_MAX_BYTES (4 * 1024 * 1024) /* buffer bytes held by IPv4 and IPv6 reassembly together */
#define REASM_MAX_FRAGMENTS 256      /* fragments of one datagram */

/* What identifies a datagram: source, destination and identification, and
 * for IPv4 the protocol too (RFC 791 3.2). IPv6 keys on source,
 * destination and identification only (RFC 8200 4.5: not the next
 * header), so its proto is 0. */
struct reasm_key {
	struct ipaddr src, dst;
	uint32_t id;                 /* IPv4's 16 bits, IPv6's 32 */
	uint8_t proto;               /* IPv4's protocol; 0 for IPv6 */
};

/* One datagram being put back together. */
struct reasm_entry {
	struct ipaddr src, dst;      /* the key (struct reasm_key) */
	uint32_t id;
	uint8_t proto;
	struct pkt *frags;           /* received fragments sorted by offset, p->data at the IP
	                                header, the span in p->cb (frag_span_set) */
	unsigned nfrags;
	size_t bytes;                /* buffer bytes held (counted against REASM_MAX_BYTES) */
	size_t total_len;            /* payload (IPv6: fragmentable part) length, known once the
	                                last fragment (MF or M clear) came; 0 before */
	size_t received;             /* payload bytes received */
	int64_t deadline;            /* give up at this time */
	int ifindex;
	bool dead;                   /* abandoned after an overlap: later fragments are
	                                dropped until the deadline (RFC 5722 3) */
	size_t nh_at;                /* IPv6, from the first fragment: the next-header field
	                                naming the fragment header */
	uint8_t next_hdr;            /* IPv6: what the first fragment's fragment header names */
	struct reasm_entry *next;
};

struct reasm_table {
	struct reasm_entry *list;    /* oldest first */
	unsigned count;
	size_t bytes;
	struct reasm_entry *free;    /* unused slots, linked through ->next */
	struct reasm_entry slots[REASM_MAX_DATAGRAMS]; /* no malloc on the packet path */
};

/* Empties the table and puts every slot on the free list. */
void reasm_init(struct reasm_table *t);

/* Frees every datagram being reassembled. */
void reasm_flush(struct reasm_table *t);

/* Buffer bytes held by IPv4 and IPv6 reassembly together: the one budget,
 * REASM_MAX_BYTES, that both check before keeping a fragment. */
size_t reasm_bytes_held(const struct stack *s);

/* The datagram of key k in t, or a new empty one, the newest, arrived on
 * ifindex and due timeout microseconds from s->now. When all
 * REASM_MAX_DATAGRAMS are in use the oldest is dropped whole first, counted
 * under evicted ("ip.frag_evicted", "ip6.frag_evicted"). */
struct reasm_entry *reasm_get(struct stack *s, struct reasm_table *t, const struct reasm_key *k,
			      int ifindex, int64_t timeout, const char *evicted);

/* Unlinks e from t, frees its fragments and returns its slot. */
void reasm_remove(struct reasm_table *t, struct reasm_entry *e);

/* Gives up on datagram e of t: counts one drop under reason and frees its
 * fragments. With keep, the entry stays (empty, marked dead) until its
 * deadline so later fragments of it are dropped too; otherwise it goes. */
void reasm_abandon(struct stack *s, struct reasm_table *t, struct reasm_entry *e,
		   const char *reason, bool keep);

/* Finishes adding a fragment that the family's insert linked into e and
 * counted there (nfrags, received, bytes): counts its cap bytes in t, fixes
 * the end of the payload at end if no more fragments follow (!mf), and
 * gives up on the whole datagram under too_many once it holds more than
 * REASM_MAX_FRAGMENTS. Returns true when no hole is left (RFC 815) and e
 * can be built. */
bool reasm_added(struct stack *s, struct reasm_table *t, struct reasm_entry *e, size_t cap,
		 size_t end, bool mf, const char *too_many);

/* The datagram of the complete entry e of t in one new packet: the first
 * hlen bytes of the first fragment, then every fragment's data in order,
 * with e's interface and the link-broadcast flag of any fragment. The
 * caller owns the packet, fixes its header and removes e. Without a buffer
 * e is abandoned under no_buffer ("ip.frag_no_buffer",
 * "ip6.frag_no_buffer") and the result is NULL. */
struct pkt *reasm_gather(struct stack *s, struct reasm_table *t, struct reasm_entry *e,
			 size_t hlen, const char *no_buffer);

/* The oldest datagram of t whose deadline has come by now, still held so
 * the caller can report it and abandon it, or NULL. Datagrams already
 * abandoned for an overlap just go, without a second count. */
struct reasm_entry *reasm_next_expired(struct reasm_table *t, int64_t now);

/* The earliest deadline in t, or INT64_MAX. */
int64_t reasm_next_deadline(const struct reasm_table *t);

#endif

/* IPv6 fragmentation and reassembly (RFC 8200 4.5). See ipv6_frag.h.
 *
 * An IPv6 fragment is a datagram with a fragment header (next header 44):
 *
 *     | IPv6 header | ext headers (unfragmentable) | fragment hdr | data |
 *
 *     fragment header:
 *     | next header |   reserved  |  fragment offset (13 bits)  |res|M|
 *     |                       identification                        |
 *
 * The headers in front of the fragment header are the "unfragmentable
 * part", copied into every fragment; the data is a piece of the
 * "fragmentable part" (the headers after the fragment header and the
 * upper-layer message), at the byte offset the header gives.
 *
 * Reassembly keeps, per (source, destination, identification), the
 * fragments received sorted by offset and never overlapping: exactly the
 * bookkeeping IPv4 uses (ip/ipv4_frag.c, after RFC 815), shared through
 * frag_list_insert() and friends; only reading the header differs. The
 * first fragment (offset 0) gives the unfragmentable part of the result
 * and, in its fragment header, the next header of what follows it.
 *
 * Fragmentation cuts a datagram we send, which never carries extension
 * headers, into the fixed header + fragment header + data pieces of
 * floor((mtu - 48) / 8) * 8 bytes.
 */
#include "ip/ipv6_frag.h"

#include <errno.h>
#include <string.h>

#include "ip/icmpv6.h"
#include "ip/ipv4_frag.h"
#include "ip/ipv6.h"
#include "stack/byteorder.h"
#include "stack/pkt.h"
#include "stack/stack.h"

/* Field offsets in the fragment header and the fixed header. */
enum {
	FH_OFF_NEXT = 0,
	FH_OFF_OFFSET_M = 2,
	FH_OFF_ID = 4,
	IP6F_OFF_PAYLOAD_LEN = 4,
	IP6F_OFF_NEXT = 6,
};

#define FH_M 0x0001                /* more fragments */
#define FH_OFFSET_MASK 0xfff8      /* the offset in 8-byte units, shifted by 3 */
#define IPV6_MAX_PAYLOAD 65535     /* RFC 8200 3: the payload length has 16 bits */

/* Reads the fragment header at buf. */
void ipv6_frag_parse(const uint8_t *buf, struct ipv6_frag_hdr *f)
{
	uint16_t w = be16_get(buf + FH_OFF_OFFSET_M);

	f->next = buf[FH_OFF_NEXT];
	f->offset = w & FH_OFFSET_MASK; /* (w >> 3) units of 8 bytes */
	f->more = (w & FH_M) != 0;
	f->id = be32_get(buf + FH_OFF_ID);
}

/* Writes the fragment header f at buf (reserved fields zero). */
void ipv6_frag_emit(const struct ipv6_frag_hdr *f, uint8_t *buf)
{
	buf[FH_OFF_NEXT] = f->next;
	buf[1] = 0;
	be16_put(buf + FH_OFF_OFFSET_M, (uint16_t)((f->offset & FH_OFFSET_MASK) | (f->more ? FH_M : 0)));
	be32_put(buf + FH_OFF_ID, f->id);
}

/* ---- The table ---- */

/* Empties the table and puts every slot on the free list. */
void reasm6_init(struct reasm6_table *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = REASM6_MAX_DATAGRAMS - 1; i >= 0; i--) {
		t->slots[i].next = t->free;
		t->free = &t->slots[i];
	}
}

/* Frees every held fragment and empties the table. */
void reasm6_flush(struct reasm6_table *t)
{
	for (struct reasm6_entry *e = t->list; e; e = e->next)
		pkt_free_chain(e->frags);
	reasm6_init(t);
}

/* The datagram of (src, dst, id) (RFC 8200 4.5), or NULL. */
static struct reasm6_entry *reasm6_find(struct reasm6_table *t, const struct ipv6_hdr *h,
					uint32_t id)
{
	for (struct reasm6_entry *e = t->list; e; e = e->next)
		if (e->id == id && ipaddr_eq(&e->src, &h->src) && ipaddr_eq(&e->dst, &h->dst))
			return e;
	return NULL;
}

/* Unlinks e, frees its fragments and returns its slot to the free list. */
static void reasm6_remove(struct reasm6_table *t, struct reasm6_entry *e)
{
	struct reasm6_entry **pp = &t->list;
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	pkt_free_chain(e->frags);
	t->bytes -= e->bytes;
	t->count--;
	memset(e, 0, sizeof(*e));
	e->next = t->free;
	t->free = e;
}

/* Gives up on datagram e: one drop under reason, its fragments freed. With
 * keep the entry stays, empty and dead, until its deadline, so that later
 * fragments of it are dropped too (RFC 5722 3). */
static void reasm6_abandon(struct stack *s, struct reasm6_entry *e, const char *reason, bool keep)
{
	char src[IPADDR_STRLEN];

	stack_drop(s, NULL, reason, "datagram from %s id %u, %u fragments",
		   ipaddr_ntop(&e->src, src, sizeof(src)), e->id, e->nfrags);
	if (!keep) {
		reasm6_remove(&s->reasm6, e);
		return;
	}
	pkt_free_chain(e->frags);
	s->reasm6.bytes -= e->bytes;
	e->frags = NULL;
	e->nfrags = 0;
	e->bytes = 0;
	e->received = 0;
	e->dead = true;
}

/* A new, empty entry, the newest, due REASM6_TIMEOUT_US from now. When
 * every slot is taken the oldest datagram goes ("ip6.frag_evicted"). */
static struct reasm6_entry *reasm6_new(struct stack *s, const struct ipv6_hdr *h, uint32_t id,
				       int ifindex)
{
	struct reasm6_table *t = &s->reasm6;

	if (!t->free)
		reasm6_abandon(s, t->list, "ip6.frag_evicted", false);
	struct reasm6_entry *e = t->free;
	t->free = e->next;
	memset(e, 0, sizeof(*e));
	e->src = h->src;
	e->dst = h->dst;
	e->id = id;
	e->ifindex = ifindex;
	e->deadline = s->now + REASM6_TIMEOUT_US;

	struct reasm6_entry **pp = &t->list;
	while (*pp)
		pp = &(*pp)->next;
	*pp = e;
	t->count++;
	return e;
}

/* ---- Reassembly ---- */

/* RFC 7112 5: true if the first fragment (buf, len bytes) holds every
 * header of the chain that starts at off with next header nh, up to and
 * including the upper-layer header (its fixed part, for the protocols we
 * know). */
static bool ipv6_first_fragment_has_chain(const uint8_t *buf, size_t len, size_t off, uint8_t nh)
{
	for (int n = 0; n <= IPV6_MAX_EXT; n++) {
		size_t hlen;
		switch (nh) {
		case IP6_NH_HOPOPT:
		case IP6_NH_DSTOPTS:
		case IP6_NH_ROUTING:
			if (off + 2 > len)
				return false;
			hlen = ((size_t)buf[off + 1] + 1) * 8;
			break;
		case IP6_NH_FRAGMENT:
			hlen = IP6_FRAG_HDR_LEN;
			break;
		case IP6_NH_NONE:
			return true;
		case IP6_NH_TCP:
			return off + 20 <= len;
		case IP6_NH_UDP:
			return off + 8 <= len;
		case IP6_NH_ICMPV6:
			return off + ICMP6_HDR_LEN <= len;
		default:
			return true; /* a header we do not know: the walk decides later */
		}
		if (off + hlen > len)
			return false;
		nh = buf[off];
		off += hlen;
	}
	return true; /* too long a chain: the walk after reassembly drops it */
}

/* The checks one fragment must pass on its own (RFC 8200 4.5, RFC 7112),
 * before any datagram is looked at. p->data at the IPv6 header, the
 * fragment header f at frag_at. Returns the reason to drop it or NULL; sets
 * *code and *pointer when an ICMPv6 parameter problem is owed. */
static const char *ipv6_frag_check(const struct pkt *p, const struct ipv6_frag_hdr *f,
				   size_t frag_at, bool *icmp, uint8_t *code, uint32_t *pointer)
{
	size_t hlen = frag_at + IP6_FRAG_HDR_LEN;
	size_t len = p->len - hlen;

	*icmp = false;
	/* RFC 8200 4.5: a fragment with M set whose length is not a
	 * multiple of 8: parameter problem code 0 at the payload length */
	if (f->more && len % 8 != 0) {
		*icmp = true;
		*code = ICMP6_PARAM_HEADER;
		*pointer = IP6F_OFF_PAYLOAD_LEN;
		return "ip6.frag_bad_length";
	}
	/* an empty fragment fills nothing (Linux drops it too) */
	if (len == 0)
		return "ip6.frag_bad_length";
	/* RFC 8200 4.5: a fragment that would make the reassembled payload
	 * longer than 65535: parameter problem code 0 at the fragment offset */
	if (frag_at - IPV6_HDR_LEN + f->offset + len > IPV6_MAX_PAYLOAD) {
		*icmp = true;
		*code = ICMP6_PARAM_HEADER;
		*pointer = (uint32_t)(frag_at + FH_OFF_OFFSET_M);
		return "ip6.frag_too_big";
	}
	/* RFC 7112 5: the first fragment carries the whole header chain;
	 * otherwise parameter problem code 3, pointer 0 */
	if (f->offset == 0 && !ipv6_first_fragment_has_chain(p->data, p->len, hlen, f->next)) {
		*icmp = true;
		*code = ICMP6_PARAM_INCOMPLETE_CHAIN;
		*pointer = 0;
		return "ip6.frag_incomplete_chain";
	}
	return NULL;
}

/* Builds the whole datagram of the complete entry e (RFC 8200 4.5): the
 * first fragment's unfragmentable part, with the next-header field that
 * named the fragment header now naming what the fragment header named, the
 * payload length of the whole, then every fragment's data in order.
 * Removes e. Returns the packet (the caller owns it) or NULL after a
 * counted drop. */
static struct pkt *ipv6_reasm_build(struct stack *s, struct reasm6_entry *e)
{
	const struct pkt *first = e->frags;
	size_t unfrag = frag_span_get(first).hlen - IP6_FRAG_HDR_LEN;
	size_t total = unfrag + e->total_len;
	char src[IPADDR_STRLEN];

	/* the other fragments were checked with their own unfragmentable
	 * part; the first one's may be longer */
	if (total - IPV6_HDR_LEN > IPV6_MAX_PAYLOAD) {
		reasm6_abandon(s, e, "ip6.frag_too_big", false);
		return NULL;
	}
	struct pkt *q = pkt_alloc(total);
	if (!q) {
		reasm6_abandon(s, e, "ip6.frag_no_buffer", false);
		return NULL;
	}
	uint8_t *buf = pkt_put(q, total);
	memcpy(buf, first->data, unfrag);
	buf[e->nh_at] = e->next_hdr;
	be16_put(buf + IP6F_OFF_PAYLOAD_LEN, (uint16_t)(total - IPV6_HDR_LEN));
	size_t at = unfrag;
	for (const struct pkt *f = e->frags; f; f = f->next) {
		struct frag_span sp = frag_span_get(f);
		memcpy(buf + at, f->data + sp.hlen, sp.end - sp.start);
		at += sp.end - sp.start;
		q->flags |= f->flags & PKT_LINK_BCAST;
	}
	q->ifindex = e->ifindex;

	stats_inc(&s->stats, "ip6.reassembled");
	TRACE(s, "ip6 reassembled %s id %u: %u fragments, %zu bytes",
	      ipaddr_ntop(&e->src, src, sizeof(src)), e->id, e->nfrags, total);
	reasm6_remove(&s->reasm6, e);
	return q;
}

/* Adds one received fragment (see ipv6_frag.h). Consumes p. */
struct pkt *ipv6_reasm_input(struct stack *s, struct pkt *p, const struct ipv6_hdr *h,
			     size_t frag_at, size_t nh_at)
{
	struct reasm6_table *t = &s->reasm6;
	struct ipv6_frag_hdr f;
	const char *reason;
	char src[IPADDR_STRLEN], dst[IPADDR_STRLEN];
	bool icmp;
	uint8_t code = 0;
	uint32_t pointer = 0;

	ipv6_frag_parse(p->data + frag_at, &f);
	size_t hlen = frag_at + IP6_FRAG_HDR_LEN;
	size_t start = f.offset, end = start + p->len - hlen;

	stats_inc(&s->stats, "ip6.fragments_rx");
	TRACE(s, "rx IPv6 fragment %s -> %s id %u offset %zu len %zu%s",
	      ipaddr_ntop(&h->src, src, sizeof(src)), ipaddr_ntop(&h->dst, dst, sizeof(dst)), f.id,
	      start, end - start, f.more ? " M" : "");
	reason = ipv6_frag_check(p, &f, frag_at, &icmp, &code, &pointer);
	if (reason) {
		if (icmp)
			icmpv6_send_error(s, p->data, p->len, p->flags & PKT_LINK_BCAST,
					  ICMP6_PARAM_PROBLEM, code, pointer);
		goto drop;
	}
	/* one memory budget for IPv4 and IPv6 together (ipv4_frag.h) */
	if (reasm_bytes_held(s) + p->cap > REASM_MAX_BYTES) {
		reason = "ip6.frag_memory_limit";
		goto drop;
	}

	struct reasm6_entry *e = reasm6_find(t, h, f.id);
	if (!e)
		e = reasm6_new(s, h, f.id, p->ifindex);
	/* RFC 5722 3: after an overlap, the fragments still to come are
	 * discarded too */
	if (e->dead) {
		reason = "ip6.frag_after_overlap";
		goto drop;
	}
	if (frag_list_end_conflict(e->frags, e->total_len, end, f.more)) {
		pkt_free(p);
		reasm6_abandon(s, e, "ip6.frag_inconsistent", true);
		return NULL;
	}
	frag_span_set(p, hlen, start, f.more);
	switch (frag_list_insert(&e->frags, p)) {
	case FRAG_DUPLICATE:
		/* RFC 8200 4.5: exact duplicates may be dropped alone */
		reason = "ip6.frag_duplicate";
		goto drop;
	case FRAG_OVERLAP:
		/* RFC 5722 3 (RFC 8200 4.5): the whole datagram goes, silently */
		pkt_free(p);
		reasm6_abandon(s, e, "ip6.frag_overlap", true);
		return NULL;
	case FRAG_INSERTED:
		break;
	}
	e->nfrags++;
	e->received += end - start;
	e->bytes += p->cap;
	t->bytes += p->cap;
	if (start == 0) {
		/* RFC 8200 4.5: the unfragmentable part comes from the first
		 * fragment, the next header after it from its fragment header */
		e->nh_at = nh_at;
		e->next_hdr = f.next;
	}
	if (!f.more)
		e->total_len = end;
	if (e->nfrags > REASM6_MAX_FRAGMENTS) {
		reasm6_abandon(s, e, "ip6.frag_too_many", false);
		return NULL;
	}
	if (!frag_list_complete(e->frags, e->total_len, e->received))
		return NULL;
	return ipv6_reasm_build(s, e);

drop:
	stack_drop(s, p, reason, "fragment from %s id %u offset %zu",
		   ipaddr_ntop(&h->src, src, sizeof(src)), f.id, start);
	return NULL;
}

/* Gives up on datagram e, whose time is over. RFC 8200 4.5: if the first
 * fragment came, the source hears about it with ICMPv6 time exceeded code
 * 1 "fragment reassembly time exceeded", quoting that fragment. A datagram
 * abandoned for an overlap just goes, counted once already. */
static void ipv6_reasm_expire(struct stack *s, struct reasm6_entry *e)
{
	const struct pkt *first = e->frags;

	if (e->dead) {
		reasm6_remove(&s->reasm6, e);
		return;
	}
	if (first && frag_span_get(first).start == 0)
		icmpv6_send_error(s, first->data, first->len, first->flags & PKT_LINK_BCAST,
				  ICMP6_TIME_EXCEEDED, ICMP6_TIME_REASSEMBLY, 0);
	reasm6_abandon(s, e, "ip6.frag_timeout", false);
}

/* Gives up on every datagram whose deadline has come. */
void ipv6_reasm_timer(struct stack *s)
{
	struct reasm6_entry *e = s->reasm6.list;

	while (e) {
		struct reasm6_entry *next = e->next;
		if (e->deadline <= s->now)
			ipv6_reasm_expire(s, e);
		e = next;
	}
}

/* The earliest deadline in the table, or INT64_MAX. */
int64_t ipv6_reasm_next_deadline(const struct reasm6_table *t)
{
	int64_t d = INT64_MAX;

	for (const struct reasm6_entry *e = t->list; e; e = e->next)
		if (e->deadline < d)
			d = e->deadline;
	return d;
}

/* ---- Fragmentation ---- */

/* Cuts p into fragments (see ipv6_frag.h). RFC 8200 4.5: the
 * unfragmentable part (here the fixed header alone) is copied into each
 * fragment, whose payload length covers its own fragment header and data;
 * the pieces but the last are floor((mtu - 48) / 8) * 8 bytes; M is set on
 * all but the last. RFC 7739 (and RFC 8200 4.5): the identification must
 * not be predictable, so it comes from the seeded generator, one per
 * datagram. Consumes p. */
struct pkt *ipv6_fragment(struct stack *s, struct pkt *p, unsigned mtu)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	struct ipv6_hdr h;

	ipv6_parse(p->data, p->len, &h);
	if (mtu < IPV6_HDR_LEN + IP6_FRAG_HDR_LEN + 8) {
		stack_drop(s, p, "ip6.tx_too_big", "%zu bytes to %s, mtu %u", p->len,
			   ipaddr_ntop(&h.dst, a, sizeof(a)), mtu);
		return NULL;
	}
	const uint8_t *data = p->data + IPV6_HDR_LEN;
	size_t len = p->len - IPV6_HDR_LEN, at = 0;
	size_t room = (mtu - IPV6_HDR_LEN - IP6_FRAG_HDR_LEN) / 8 * 8;
	struct ipv6_frag_hdr f = { .next = h.next, .id = (uint32_t)rng_next(&s->rng) };
	struct pkt *chain = NULL, **tail = &chain;

	while (at < len) {
		size_t n = len - at < room ? len - at : room;
		struct pkt *fp = pkt_alloc(IPV6_HDR_LEN + IP6_FRAG_HDR_LEN + n);
		if (!fp) {
			pkt_free_chain(chain);
			stack_drop(s, p, "ip6.frag_no_buffer", "to %s: %zu bytes",
				   ipaddr_ntop(&h.dst, a, sizeof(a)), len);
			return NULL;
		}
		uint8_t *buf = pkt_put(fp, IPV6_HDR_LEN + IP6_FRAG_HDR_LEN + n);
		memcpy(buf, p->data, IPV6_HDR_LEN);
		buf[IP6F_OFF_NEXT] = IP6_NH_FRAGMENT;
		be16_put(buf + IP6F_OFF_PAYLOAD_LEN, (uint16_t)(IP6_FRAG_HDR_LEN + n));
		f.offset = (uint16_t)at;
		f.more = at + n < len;
		ipv6_frag_emit(&f, buf + IPV6_HDR_LEN);
		memcpy(buf + IPV6_HDR_LEN + IP6_FRAG_HDR_LEN, data + at, n);
		TRACE(s, "tx IPv6 fragment %s -> %s id %u offset %zu len %zu%s",
		      ipaddr_ntop(&h.src, a, sizeof(a)), ipaddr_ntop(&h.dst, b, sizeof(b)), f.id, at,
		      n, f.more ? " M" : "");
		stats_inc(&s->stats, "ip6.fragments_tx");
		*tail = fp;
		tail = &fp->next;
		at += n;
	}
	stats_inc(&s->stats, "ip6.fragmented");
	pkt_free(p);
	return chain;
}

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
 * frag_list_insert() and friends, in the table IPv4 uses too (ip/reasm.c);
 * only reading the header and the RFC 8200 rules differ. The
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
static struct pkt *ipv6_reasm_build(struct stack *s, struct reasm_entry *e)
{
	size_t unfrag = frag_span_get(e->frags).hlen - IP6_FRAG_HDR_LEN;
	size_t total = unfrag + e->total_len;
	char src[IPADDR_STRLEN];

	/* the other fragments were checked with their own unfragmentable
	 * part; the first one's may be longer */
	if (total - IPV6_HDR_LEN > IPV6_MAX_PAYLOAD) {
		reasm_abandon(s, &s->reasm6, e, "ip6.frag_too_big", false);
		return NULL;
	}
	struct pkt *q = reasm_gather(s, &s->reasm6, e, unfrag, "ip6.frag_no_buffer");
	if (!q)
		return NULL;
	q->data[e->nh_at] = e->next_hdr;
	be16_put(q->data + IP6F_OFF_PAYLOAD_LEN, (uint16_t)(total - IPV6_HDR_LEN));

	stats_inc(&s->stats, "ip6.reassembled");
	TRACE(s, "ip6 reassembled %s id %u: %u fragments, %zu bytes",
	      ipaddr_ntop(&e->src, src, sizeof(src)), e->id, e->nfrags, total);
	reasm_remove(&s->reasm6, e);
	return q;
}

/* Adds one received fragment (see ipv6_frag.h). Consumes p. */
struct pkt *ipv6_reasm_input(struct stack *s, struct pkt *p, const struct ipv6_hdr *h,
			     size_t frag_at, size_t nh_at)
{
	struct reasm_table *t = &s->reasm6;
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

	struct reasm_key k = { .src = h->src, .dst = h->dst, .id = f.id, .proto = 0 };
	struct reasm_entry *e = reasm_get(s, t, &k, p->ifindex, REASM6_TIMEOUT_US, "ip6.frag_evicted");
	/* RFC 5722 3: after an overlap, the fragments still to come are
	 * discarded too */
	if (e->dead) {
		reason = "ip6.frag_after_overlap";
		goto drop;
	}
	if (frag_list_end_conflict(e->frags, e->total_len, end, f.more)) {
		pkt_free(p);
		reasm_abandon(s, t, e, "ip6.frag_inconsistent", true);
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
		reasm_abandon(s, t, e, "ip6.frag_overlap", true);
		return NULL;
	case FRAG_INSERTED:
		break;
	}
	e->nfrags++;
	e->received += end - start;
	e->bytes += p->cap;
	if (start == 0) {
		/* RFC 8200 4.5: the unfragmentable part comes from the first
		 * fragment, the next header after it from its fragment header */
		e->nh_at = nh_at;
		e->next_hdr = f.next;
	}
	/* RFC 8200 4.5: the fragment with M clear fixes the fragmentable
	 * part's length; the datagram is built once no hole is left */
	if (!reasm_added(s, t, e, p->cap, end, f.more, "ip6.frag_too_many"))
		return NULL;
	return ipv6_reasm_build(s, e);

drop:
	stack_drop(s, p, reason, "fragment from %s id %u offset %zu",
		   ipaddr_ntop(&h->src, src, sizeof(src)), f.id, start);
	return NULL;
}

/* Gives up on every datagram whose deadline has come. RFC 8200 4.5: if the
 * first fragment came, the source hears about it with ICMPv6 time exceeded
 * code 1 "fragment reassembly time exceeded", quoting that fragment. */
void ipv6_reasm_timer(struct stack *s)
{
	struct reasm_entry *e;

	while ((e = reasm_next_expired(&s->reasm6, s->now)) != NULL) {
		const struct pkt *first = e->frags;
		if (first && frag_span_get(first).start == 0)
			icmpv6_send_error(s, first->data, first->len, first->flags & PKT_LINK_BCAST,
					  ICMP6_TIME_EXCEEDED, ICMP6_TIME_REASSEMBLY, 0);
		reasm_abandon(s, &s->reasm6, e, "ip6.frag_timeout", false);
	}
}

/* The earliest IPv6 reassembly deadline, or INT64_MAX. */
int64_t ipv6_reasm_next_deadline(const struct reasm_table *t)
{
	return reasm_next_deadline(t);
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

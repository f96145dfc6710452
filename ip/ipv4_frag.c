/* IPv4 fragmentation and reassembly (RFC 791 3.2, RFC 815, RFC 1122 3.3.2),
 * with overlapping fragments dropped whole as RFC 5722 asks of IPv6. See
 * ipv4_frag.h.
 *
 * A fragment is an ordinary IPv4 datagram whose flags/offset word says where
 * its data goes in the original (RFC 791 3.1):
 *
 *     |        identification         |0|DF|MF|  fragment offset (x 8)  |
 *
 * Reassembly. Fragments of one datagram share (source, destination,
 * protocol, identification). Each one covers the payload bytes
 * [offset * 8, offset * 8 + data length); the one with MF clear says where
 * the payload ends. RFC 815 keeps a list of "holes", the ranges still
 * missing, starting with the single hole [0, infinity). We keep the other
 * half of the picture: the fragments received, sorted by offset and never
 * overlapping. The holes are exactly the gaps between consecutive
 * fragments (and after the last one until the end is known), so:
 *   - RFC 815 step "find a hole the fragment falls in" is finding the
 *     fragment's place in the sorted list; a fragment that would cover
 *     bytes already received is not allowed to fill a hole partly: it is an
 *     overlap and the whole datagram is dropped (RFC 5722 3);
 *   - RFC 815 "the hole list is empty" is: the end is known and walking the
 *     list from offset 0, each fragment starts where the previous one ended
 *     and the last one ends at the end.
 * Because nothing overlaps, assembling is one copy of each fragment's data
 * into one buffer, in list order.
 *
 * This bookkeeping does not depend on the IP version: each held fragment
 * records its span (start, end, header length, MF) in p->cb, and
 * frag_list_insert(), frag_list_end_conflict() and frag_list_complete()
 * work on spans only. IPv6 reassembly (ipv6_frag.c) uses the same three,
 * and the same table of datagrams with its limits and deadlines
 * (ip/reasm.c); what is IPv4's own stays here.
 *
 * Fragmentation. A datagram larger than the interface MTU is cut into
 * pieces of floor((mtu - header) / 8) * 8 bytes of data, each sent with a
 * copy of the header, the same identification, its own offset and MF set
 * on all but the last one.
 */
#include "ip/ipv4_frag.h"

#include <errno.h>
#include <string.h>

#include "ip/addr.h"
#include "ip/icmp.h"
#include "ip/ipv4.h"
#include "ip/ipv4_opts.h"
#include "link/arp.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/pkt.h"
#include "stack/stack.h"

/* Field offsets in the IP header (see ipv4.c). */
enum {
	IPF_OFF_VER_IHL = 0,
	IPF_OFF_TOTAL_LEN = 2,
	IPF_OFF_ID = 4,
	IPF_OFF_FRAG = 6,
	IPF_OFF_CHECKSUM = 10,
	IPF_OFF_SRC = 12,
	IPF_OFF_DST = 16,
};

#define IPV4_MAX_TOTAL_LEN 65535   /* RFC 791 3.1: the total length has 16 bits */
#define IPV4_OPT_COPY 0x80         /* RFC 791 3.1: option type bit "copied on fragmentation" */

/* ---- Reading a held fragment's header (p->data at the IP header) ---- */

/* Header length in bytes. */
static size_t frag_hlen(const struct pkt *p)
{
	return (size_t)(p->data[IPF_OFF_VER_IHL] & 0x0f) * 4;
}

/* First payload byte the fragment covers. */
static size_t frag_start(const struct pkt *p)
{
	return (size_t)(be16_get(p->data + IPF_OFF_FRAG) & IPV4_FRAG_MASK) * 8;
}

/* One past the last payload byte the fragment covers. */
static size_t frag_end(const struct pkt *p)
{
	return frag_start(p) + p->len - frag_hlen(p);
}

/* True if More Fragments is set. */
static bool frag_mf(const struct pkt *p)
{
	return (be16_get(p->data + IPF_OFF_FRAG) & IPV4_FLAG_MF) != 0;
}

/* ---- Reassembly ---- */

/* The checks one fragment must pass on its own, before any datagram is
 * looked at: the reason to drop it, or NULL. */
static const char *ipv4_frag_check(const struct ipv4_hdr *h)
{
	size_t hlen = (size_t)h->ihl * 4;
	size_t len = h->total_len - hlen;
	size_t start = (size_t)(h->frag & IPV4_FRAG_MASK) * 8;

	/* RFC 791 3.2: every fragment but the last carries a multiple of 8
	 * bytes (the next one's offset counts in 8-byte units); an empty
	 * fragment fills nothing (Linux drops it too) */
	if (len == 0 || ((h->frag & IPV4_FLAG_MF) && len % 8 != 0))
		return "ip.frag_bad_length";
	/* RFC 791 3.1: a datagram is at most 65535 bytes; a fragment that
	 * reaches past that ("ping of death") can never be reassembled */
	if (start + h->total_len > IPV4_MAX_TOTAL_LEN)
		return "ip.frag_too_big";
	return NULL;
}

/* RFC 791 3.2: the fragment with MF clear fixes the end of the payload.
 * Returns "ip.frag_inconsistent" if a fragment ending at end disagrees
 * with what e already knows (a second, different end, or data past the
 * end), else NULL. */
static const char *ipv4_reasm_check_end(const struct reasm_entry *e, size_t end, bool mf)
{
	if (frag_list_end_conflict(e->frags, e->total_len, end, mf))
		return "ip.frag_inconsistent";
	return NULL;
}

/* ---- Bookkeeping shared with IPv6 (see ipv4_frag.h) ---- */

_Static_assert(sizeof(struct frag_span) <= sizeof(((struct pkt *)0)->cb),
	       "a fragment's span fits in its control block");

/* Records p's span in its control block (reassembly owns the packet). */
void frag_span_set(struct pkt *p, size_t hlen, size_t start, bool mf)
{
	struct frag_span sp = {
		.start = (uint32_t)start,
		.end = (uint32_t)(start + p->len - hlen),
		.hlen = (uint16_t)hlen,
		.mf = mf,
	};
	memcpy(p->cb, &sp, sizeof(sp));
}

/* The span frag_span_set() recorded. */
struct frag_span frag_span_get(const struct pkt *p)
{
	struct frag_span sp;
	memcpy(&sp, p->cb, sizeof(sp));
	return sp;
}

/* True if a and b are the same fragment: same span, MF flag and data
 * (RFC 5722 3 and RFC 8200 4.5 allow dropping exact duplicates alone). */
static bool frag_same(const struct pkt *a, const struct pkt *b)
{
	struct frag_span x = frag_span_get(a), y = frag_span_get(b);
	return x.start == y.start && x.end == y.end && x.mf == y.mf &&
	       memcmp(a->data + x.hlen, b->data + y.hlen, x.end - x.start) == 0;
}

/* The reassembly insert (see ipv4_frag.h). RFC 815's search for the hole a
 * fragment falls into is the walk to its place in the sorted list: prev is
 * the last fragment starting before p, next the first starting at or after
 * it. Since the held fragments never overlap, p can only collide with prev
 * (if prev ends after p starts) or next (if next starts before p ends); any
 * fragment further away would collide with one of these first. */
enum frag_insert_result frag_list_insert(struct pkt **list, struct pkt *p)
{
	struct frag_span sp = frag_span_get(p);
	struct pkt **pp = list;
	struct pkt *prev = NULL;

	while (*pp && frag_span_get(*pp).start < sp.start) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	struct pkt *next = *pp;
	if (next && frag_same(next, p))
		return FRAG_DUPLICATE;
	/* RFC 5722 3: any other overlap abandons the datagram */
	if ((prev && frag_span_get(prev).end > sp.start) ||
	    (next && frag_span_get(next).start < sp.end))
		return FRAG_OVERLAP;
	p->next = next;
	*pp = p;
	return FRAG_INSERTED;
}

/* See ipv4_frag.h: the end is fixed by the fragment with MF clear. */
bool frag_list_end_conflict(const struct pkt *list, size_t total_len, size_t end, bool mf)
{
	if (total_len && (mf ? end > total_len : end != total_len))
		return true;
	if (!mf) {
		for (const struct pkt *f = list; f; f = f->next)
			if (frag_span_get(f).end > end)
				return true;
	}
	return false;
}

/* RFC 815: the hole list is empty. True once the end is known and the
 * fragments, in order, cover [0, total_len) without a gap. */
bool frag_list_complete(const struct pkt *list, size_t total_len, size_t received)
{
	size_t expect = 0;

	if (total_len == 0 || received != total_len)
		return false;
	for (const struct pkt *f = list; f; f = f->next) {
		struct frag_span sp = frag_span_get(f);
		if (sp.start != expect)
			return false;
		expect = sp.end;
	}
	return expect == total_len;
}

/* The IPv4 face of the insert (see ipv4_frag.h): records p's span from its
 * header, then links it in with frag_list_insert() and counts it. */
const char *ipv4_reasm_insert(struct reasm_entry *e, struct pkt *p)
{
	frag_span_set(p, frag_hlen(p), frag_start(p), frag_mf(p));
	switch (frag_list_insert(&e->frags, p)) {
	case FRAG_DUPLICATE:
		return "ip.frag_duplicate";
	case FRAG_OVERLAP:
		return "ip.frag_overlap";
	default:
		break;
	}
	e->nfrags++;
	e->received += frag_end(p) - frag_start(p);
	e->bytes += p->cap;
	return NULL;
}

/* Builds the whole datagram of the complete entry e into one new packet
 * (RFC 791 3.2): the first fragment's header, options included, then every
 * fragment's data in order; total length set, MF and offset cleared, the
 * checksum computed again. Removes e from the table. Returns the packet
 * (the caller owns it) or NULL after a counted drop. */
static struct pkt *ipv4_reasm_build(struct stack *s, struct reasm_entry *e)
{
	size_t hlen = frag_hlen(e->frags);
	size_t total = hlen + e->total_len;
	char src[IPADDR_STRLEN];

	/* the last fragment was checked with its own header; the first one's
	 * may be longer (options) */
	if (total > IPV4_MAX_TOTAL_LEN) {
		reasm_abandon(s, &s->reasm, e, "ip.frag_too_big", false);
		return NULL;
	}
	struct pkt *q = reasm_gather(s, &s->reasm, e, hlen, "ip.frag_no_buffer");
	if (!q)
		return NULL;
	uint8_t *buf = q->data;
	be16_put(buf + IPF_OFF_TOTAL_LEN, (uint16_t)total);
	be16_put(buf + IPF_OFF_FRAG,
		 be16_get(buf + IPF_OFF_FRAG) & (uint16_t)~(IPV4_FLAG_MF | IPV4_FRAG_MASK));
	be16_put(buf + IPF_OFF_CHECKSUM, 0);
	be16_put(buf + IPF_OFF_CHECKSUM, inet_csum(buf, hlen));

	stats_inc(&s->stats, "ip.reassembled");
	TRACE(s, "ip reassembled %s id %u: %u fragments, %zu bytes",
	      ipaddr_ntop(&e->src, src, sizeof(src)), e->id, e->nfrags, total);
	reasm_remove(&s->reasm, e);
	return q;
}

/* Adds one received fragment (see ipv4_frag.h). Consumes p. */
struct pkt *ipv4_reasm_input(struct stack *s, struct pkt *p, const struct ipv4_hdr *h)
{
	struct reasm_table *t = &s->reasm;
	size_t start = (size_t)(h->frag & IPV4_FRAG_MASK) * 8;
	size_t end = start + h->total_len - (size_t)h->ihl * 4;
	bool mf = (h->frag & IPV4_FLAG_MF) != 0;
	const char *reason;
	char src[IP4_STRLEN], dst[IP4_STRLEN];

	stats_inc(&s->stats, "ip.fragments_rx");
	TRACE(s, "rx IP fragment %s -> %s id %u offset %zu len %zu%s", ip4_ntop(h->src, src),
	      ip4_ntop(h->dst, dst), h->id, start, end - start, mf ? " MF" : "");
	reason = ipv4_frag_check(h);
	if (reason)
		goto drop;
	/* a bound on memory, so fragments that never complete cannot take
	 * every buffer (RFC 1122 3.3.2 leaves the limits to the host) */
	if (reasm_bytes_held(s) + p->cap > REASM_MAX_BYTES) {
		reason = "ip.frag_memory_limit";
		goto drop;
	}

	struct reasm_key k = {
		.src = ipaddr_v4(h->src), .dst = ipaddr_v4(h->dst), .id = h->id, .proto = h->proto,
	};
	struct reasm_entry *e = reasm_get(s, t, &k, p->ifindex, REASM_TIMEOUT_US, "ip.frag_evicted");
	/* RFC 5722 3: after an overlap, fragments not yet received are
	 * discarded too */
	if (e->dead) {
		reason = "ip.frag_after_overlap";
		goto drop;
	}
	reason = ipv4_reasm_check_end(e, end, mf);
	if (reason) {
		pkt_free(p);
		reasm_abandon(s, t, e, reason, true);
		return NULL;
	}
	reason = ipv4_reasm_insert(e, p);
	if (reason && strcmp(reason, "ip.frag_duplicate") == 0)
		goto drop;
	if (reason) {
		pkt_free(p);
		reasm_abandon(s, t, e, reason, true);
		return NULL;
	}
	/* RFC 791 3.2: the fragment with MF clear fixes the end; RFC 815: the
	 * datagram is built once no hole is left */
	if (!reasm_added(s, t, e, p->cap, end, mf, "ip.frag_too_many"))
		return NULL;
	return ipv4_reasm_build(s, e);

drop:
	stack_drop(s, p, reason, "fragment from %s id %u offset %zu", ip4_ntop(h->src, src), h->id,
		   start);
	return NULL;
}

/* Gives up on every datagram whose deadline has come (see ipv4_frag.h).
 * RFC 1122 3.3.2: when the first fragment (offset 0) is there, the source
 * hears about it with ICMP time exceeded, code 1 "fragment reassembly time
 * exceeded" (RFC 792), quoting that fragment (not when it came as a link
 * broadcast: RFC 1122 3.2.2). */
void ipv4_reasm_timer(struct stack *s)
{
	struct reasm_entry *e;

	while ((e = reasm_next_expired(&s->reasm, s->now)) != NULL) {
		const struct pkt *first = e->frags;
		if (first && frag_start(first) == 0 && !(first->flags & PKT_LINK_BCAST))
			icmp_send_error(s, first->data, first->len, ICMP_TIME_EXCEEDED, 1);
		reasm_abandon(s, &s->reasm, e, "ip.frag_timeout", false);
	}
}

/* The earliest IPv4 reassembly deadline, or INT64_MAX. */
int64_t ipv4_reasm_next_deadline(const struct reasm_table *t)
{
	return reasm_next_deadline(t);
}

/* ---- Fragmentation ---- */

/* Copies the options of the header hdr (hlen bytes) that RFC 791 3.1 marks
 * "copied" (type bit 0x80) into out, padded with end-of-list bytes to a
 * multiple of 4. Stops at end-of-list or at an option whose length does not
 * fit (the rest is not copied). Returns the bytes written (0..40). */
static size_t ipv4_copy_options(const uint8_t *hdr, size_t hlen, uint8_t *out)
{
	size_t at = 0, n = 0;
	int i;
	const uint8_t *opts = hdr + IPV4_HDR_LEN;
	while ((i = ipv4_opt_next(opts, hlen - IPV4_HDR_LEN, &at)) >= 0) {
		size_t olen = opts[i + 1];
		if (opts[i] & IPV4_OPT_COPY) {
			memcpy(out + n, opts + i, olen);
			n += olen;
		}
	}
	while (n % 4)
		out[n++] = IPV4_OPT_EOL;
	return n;
}

/* Fills the empty packet f with one fragment: the fixed header of hdr,
 * then opts (optlen bytes), then len bytes of data, with the flags/offset
 * word frag, its own length and a fresh checksum. */
static void ipv4_fill_fragment(struct pkt *f, const uint8_t *hdr, const uint8_t *opts,
			       size_t optlen, const uint8_t *data, size_t len, uint16_t frag)
{
	size_t hlen = IPV4_HDR_LEN + optlen;
	uint8_t *buf = pkt_put(f, hlen + len);

	memcpy(buf, hdr, IPV4_HDR_LEN);
	memcpy(buf + IPV4_HDR_LEN, opts, optlen);
	memcpy(buf + hlen, data, len);
	buf[IPF_OFF_VER_IHL] = (uint8_t)(4 << 4 | hlen / 4);
	be16_put(buf + IPF_OFF_TOTAL_LEN, (uint16_t)(hlen + len));
	be16_put(buf + IPF_OFF_FRAG, frag);
	be16_put(buf + IPF_OFF_CHECKSUM, 0);
	be16_put(buf + IPF_OFF_CHECKSUM, inet_csum(buf, hlen));
}

/* Sends the datagram p as fragments (see ipv4_frag.h). RFC 791 3.2: the
 * first fragment keeps the whole header, later ones only the options with
 * the copy flag (of what ipv4_output sends, only echo replies carry
 * options, ip/icmp.c); each carries floor((mtu - its header) / 8) * 8 bytes
 * of data but the last; offsets count in 8-byte units from the original
 * offset (0 unless p is itself a fragment); MF is set on all but the last,
 * which keeps p's own MF. Consumes p. Returns 0, -EMSGSIZE (DF set, or an
 * MTU too small for 8 bytes of data), -EINVAL (a bad header), -ENOBUFS (no
 * buffer for a fragment: the rest are not sent, "ip.frag_no_buffer") or
 * the first error of arp_output. */
int ipv4_fragment_output(struct stack *s, struct netif *ifp, struct pkt *p, uint32_t nexthop,
			 unsigned mtu)
{
	char a[IP4_STRLEN], b[IP4_STRLEN];
	uint8_t copied[IPV4_MAX_HDR_LEN - IPV4_HDR_LEN];
	const uint8_t *hdr = p->data;
	size_t hlen = p->len >= IPV4_HDR_LEN ? frag_hlen(p) : 0;

	if (hlen < IPV4_HDR_LEN || hlen > p->len || be16_get(hdr + IPF_OFF_TOTAL_LEN) != p->len) {
		stack_drop(s, p, "ip.tx_bad_header", "len %zu", p->len);
		return -EINVAL;
	}
	uint16_t frag = be16_get(hdr + IPF_OFF_FRAG);
	uint32_t src = be32_get(hdr + IPF_OFF_SRC), dst = be32_get(hdr + IPF_OFF_DST);
	size_t ncopied = ipv4_copy_options(hdr, hlen, copied);
	/* RFC 791 3.2: a datagram with Don't Fragment set is not cut */
	if ((frag & IPV4_FLAG_DF) || mtu < hlen + 8) {
		stack_drop(s, p, "ip.tx_too_big", "%zu bytes to %s, mtu %u", p->len,
			   ip4_ntop(dst, a), mtu);
		return -EMSGSIZE;
	}

	const uint8_t *data = p->data + hlen;
	size_t len = p->len - hlen, at = 0;
	size_t base = (size_t)(frag & IPV4_FRAG_MASK) * 8;
	uint16_t keep = frag & (uint16_t)~(IPV4_FLAG_MF | IPV4_FRAG_MASK); /* the reserved bit */
	int err = 0;

	stats_inc(&s->stats, "ip.fragmented");
	while (at < len) {
		/* the first fragment carries every option, later ones the copied ones */
		bool first = base + at == 0;
		const uint8_t *opts = first ? hdr + IPV4_HDR_LEN : copied;
		size_t optlen = first ? hlen - IPV4_HDR_LEN : ncopied;
		size_t room = (mtu - IPV4_HDR_LEN - optlen) / 8 * 8;
		size_t n = len - at < room ? len - at : room;
		uint16_t f = keep | (uint16_t)((base + at) / 8);
		if (at + n < len || (frag & IPV4_FLAG_MF))
			f |= IPV4_FLAG_MF;

		struct pkt *fp = pkt_alloc(IPV4_HDR_LEN + optlen + n);
		if (!fp) {
			stack_drop(s, p, "ip.frag_no_buffer", "to %s: %zu of %zu bytes not sent",
				   ip4_ntop(dst, a), len - at, len);
			return -ENOBUFS;
		}
		ipv4_fill_fragment(fp, hdr, opts, optlen, data + at, n, f);
		stats_inc(&s->stats, "ip.fragments_tx");
		TRACE(s, "tx IP fragment %s -> %s id %u offset %zu len %zu%s", ip4_ntop(src, a),
		      ip4_ntop(dst, b), be16_get(hdr + IPF_OFF_ID), base + at, n,
		      (f & IPV4_FLAG_MF) ? " MF" : "");
		int r = arp_output(s, ifp, fp, nexthop);
		if (r < 0 && err == 0)
			err = r;
		at += n;
	}
	pkt_free(p);
	return err;
}

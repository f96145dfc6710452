/* The reassembly table, for either IP family. See reasm.h.
 *
 * A fixed array of slots, the ones in use linked oldest first, the others
 * on a free list: reassembly never allocates a table entry on the packet
 * path, and a flood of first fragments can only push out the oldest
 * datagram. Each family has its own table (s->reasm, s->reasm6) but both
 * count their buffers against one budget, REASM_MAX_BYTES.
 */
#include "ip/reasm.h"

#include <string.h>

#include "ip/ipv4_frag.h"
#include "stack/pkt.h"
#include "stack/stack.h"

/* Empties the table and puts every slot on the free list. */
void reasm_init(struct reasm_table *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = REASM_MAX_DATAGRAMS - 1; i >= 0; i--) {
		t->slots[i].next = t->free;
		t->free = &t->slots[i];
	}
}

/* Frees every held fragment and empties the table. */
void reasm_flush(struct reasm_table *t)
{
	for (struct reasm_entry *e = t->list; e; e = e->next)
		pkt_free_chain(e->frags);
	reasm_init(t);
}

/* Both families' reassembly buffers: one budget. */
size_t reasm_bytes_held(const struct stack *s)
{
	return s->reasm.bytes + s->reasm6.bytes;
}

/* The datagram of key k, or NULL. A linear search: there are at most
 * REASM_MAX_DATAGRAMS. */
static struct reasm_entry *reasm_find(struct reasm_table *t, const struct reasm_key *k)
{
	for (struct reasm_entry *e = t->list; e; e = e->next)
		if (e->id == k->id && e->proto == k->proto && ipaddr_eq(&e->src, &k->src) &&
		    ipaddr_eq(&e->dst, &k->dst))
			return e;
	return NULL;
}

/* Finds or makes the entry of k (see reasm.h). */
struct reasm_entry *reasm_get(struct stack *s, struct reasm_table *t, const struct reasm_key *k,
			      int ifindex, int64_t timeout, const char *evicted)
{
	struct reasm_entry *e = reasm_find(t, k);
	if (e)
		return e;
	if (!t->free)
		reasm_abandon(s, t, t->list, evicted, false);
	e = t->free;
	t->free = e->next;
	memset(e, 0, sizeof(*e));
	e->src = k->src;
	e->dst = k->dst;
	e->id = k->id;
	e->proto = k->proto;
	e->ifindex = ifindex;
	e->deadline = s->now + timeout;

	struct reasm_entry **pp = &t->list;
	while (*pp)
		pp = &(*pp)->next;
	*pp = e;
	t->count++;
	return e;
}

/* Unlinks e from the table, frees its fragments and returns its slot to
 * the free list. */
void reasm_remove(struct reasm_table *t, struct reasm_entry *e)
{
	struct reasm_entry **pp = &t->list;
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

/* Gives up on datagram e (see reasm.h). */
void reasm_abandon(struct stack *s, struct reasm_table *t, struct reasm_entry *e,
		   const char *reason, bool keep)
{
	char src[IPADDR_STRLEN];

	stack_drop(s, NULL, reason, "datagram from %s id %u, %u fragments",
		   ipaddr_ntop(&e->src, src, sizeof(src)), e->id, e->nfrags);
	if (!keep) {
		reasm_remove(t, e);
		return;
	}
	pkt_free_chain(e->frags);
	t->bytes -= e->bytes;
	e->frags = NULL;
	e->nfrags = 0;
	e->bytes = 0;
	e->received = 0;
	e->dead = true;
}

/* Counts a linked fragment in the table and applies the per-datagram
 * limit (see reasm.h). */
bool reasm_added(struct stack *s, struct reasm_table *t, struct reasm_entry *e, size_t cap,
		 size_t end, bool mf, const char *too_many)
{
	t->bytes += cap;
	if (!mf)
		e->total_len = end;
	if (e->nfrags > REASM_MAX_FRAGMENTS) {
		reasm_abandon(s, t, e, too_many, false);
		return false;
	}
	return frag_list_complete(e->frags, e->total_len, e->received);
}

/* Copies the held fragments into one packet (see reasm.h). Because they
 * never overlap, that is one copy of each fragment's data, in list order. */
struct pkt *reasm_gather(struct stack *s, struct reasm_table *t, struct reasm_entry *e,
			 size_t hlen, const char *no_buffer)
{
	size_t total = hlen + e->total_len;
	struct pkt *q = pkt_alloc(total);

	if (!q) {
		reasm_abandon(s, t, e, no_buffer, false);
		return NULL;
	}
	uint8_t *buf = pkt_put(q, total);
	memcpy(buf, e->frags->data, hlen);
	size_t at = hlen;
	for (const struct pkt *f = e->frags; f; f = f->next) {
		struct frag_span sp = frag_span_get(f);
		memcpy(buf + at, f->data + sp.hlen, sp.end - sp.start);
		at += sp.end - sp.start;
		q->flags |= f->flags & PKT_LINK_BCAST;
	}
	q->ifindex = e->ifindex;
	return q;
}

/* The next datagram to time out (see reasm.h). */
struct reasm_entry *reasm_next_expired(struct reasm_table *t, int64_t now)
{
	struct reasm_entry *e = t->list;

	while (e) {
		struct reasm_entry *next = e->next;
		if (e->deadline <= now) {
			if (!e->dead)
				return e;
			reasm_remove(t, e);
		}
		e = next;
	}
	return NULL;
}

/* The earliest deadline in the table, or INT64_MAX. */
int64_t reasm_next_deadline(const struct reasm_table *t)
{
	int64_t d = INT64_MAX;

	for (const struct reasm_entry *e = t->list; e; e = e->next)
		if (e->deadline < d)
			d = e->deadline;
	return d;
}

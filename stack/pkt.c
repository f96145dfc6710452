/* Packet buffers from a bounded pool with two size classes. See pkt.h. */
#include "stack/pkt.h"

#include <stdlib.h>
#include <string.h>

#include "stack/byteorder.h"
#include "stack/checksum.h"

/* Free buffers of each class, linked through ->next, ready for reuse. */
static struct pkt *free_list[2];
static size_t live[2];          /* buffers of each class that exist (free or in use) */
static size_t in_use;
static uint64_t failures;

static const size_t class_cap[2] = { PKT_SMALL_CAP, PKT_LARGE_CAP };
static const size_t class_max[2] = { PKT_POOL_SMALL_MAX, PKT_POOL_LARGE_MAX };

/* Allocates a buffer of at least size bytes after the headroom. */
struct pkt *pkt_alloc(size_t size)
{
	int c = size + PKT_HEADROOM <= PKT_SMALL_CAP ? 0 : 1;
	if (size + PKT_HEADROOM > PKT_LARGE_CAP) {
		failures++;
		return NULL;
	}
	struct pkt *p = free_list[c];
	if (p) {
		free_list[c] = p->next;
	} else {
		if (live[c] >= class_max[c]) {
			failures++;
			return NULL;
		}
		/* The descriptor and its bytes in one allocation. */
		p = malloc(sizeof(*p) + class_cap[c]);
		if (!p) {
			failures++;
			return NULL;
		}
		live[c]++;
		p->head = (uint8_t *)(p + 1);
		p->cap = class_cap[c];
		p->large = (uint8_t)c;
	}
	p->data = p->head + PKT_HEADROOM;
	p->len = 0;
	p->next = NULL;
	p->time = 0;
	p->ifindex = 0;
	p->flags = 0;
	p->off = (struct pkt_offload){ 0 };
	in_use++;
	return p;
}

/* Returns p to its class's free list. */
void pkt_free(struct pkt *p)
{
	if (!p)
		return;
	p->next = free_list[p->large];
	free_list[p->large] = p;
	in_use--;
}

void pkt_free_chain(struct pkt *p)
{
	while (p) {
		struct pkt *next = p->next;
		pkt_free(p);
		p = next;
	}
}

struct pkt *pkt_clone(const struct pkt *p)
{
	struct pkt *c = pkt_alloc(p->len);
	if (!c)
		return NULL;
	memcpy(pkt_put(c, p->len), p->data, p->len);
	c->time = p->time;
	c->ifindex = p->ifindex;
	c->flags = p->flags;
	c->off = p->off;
	if (p->off.csum_start) /* the same offset from the data in the copy */
		c->off.csum_start = (uint16_t)(p->off.csum_start - pkt_headroom(p) + pkt_headroom(c));
	return c;
}

uint8_t *pkt_push(struct pkt *p, size_t n)
{
	if (pkt_headroom(p) < n)
		return NULL;
	p->data -= n;
	p->len += n;
	return p->data;
}

uint8_t *pkt_pull(struct pkt *p, size_t n)
{
	if (p->len < n)
		return NULL;
	p->data += n;
	p->len -= n;
	return p->data;
}

uint8_t *pkt_put(struct pkt *p, size_t n)
{
	if (pkt_tailroom(p) < n)
		return NULL;
	uint8_t *tail = p->data + p->len;
	p->len += n;
	return tail;
}

void pkt_trim(struct pkt *p, size_t len)
{
	if (len < p->len)
		p->len = len;
}

void pkt_csum_complete(struct pkt *p)
{
	if (!p->off.csum_start)
		return;
	size_t start = (size_t)(p->head + p->off.csum_start - p->data);
	if (p->head + p->off.csum_start >= p->data && start + p->off.csum_offset + 2 <= p->len) {
		/* the field holds the pseudo-header sum: summing the whole
		 * segment with it in gives the checksum (RFC 1071) */
		uint8_t *field = p->data + start + p->off.csum_offset;
		be16_put(field, csum_fold(csum_partial(p->data + start, p->len - start, 0)));
	}
	p->off.csum_start = 0;
}

size_t pkt_headroom(const struct pkt *p)
{
	return (size_t)(p->data - p->head);
}

size_t pkt_tailroom(const struct pkt *p)
{
	return p->cap - pkt_headroom(p) - p->len;
}

size_t pkt_in_use(void)
{
	return in_use;
}

uint64_t pkt_alloc_failures(void)
{
	return failures;
}

void pkt_pool_release(void)
{
	for (int c = 0; c < 2; c++) {
		while (free_list[c]) {
			struct pkt *p = free_list[c];
			free_list[c] = p->next;
			live[c]--;
			free(p);
		}
	}
}

void pktq_push(struct pkt_queue *q, struct pkt *p)
{
	p->next = NULL;
	if (q->last)
		q->last->next = p;
	else
		q->first = p;
	q->last = p;
	q->count++;
	q->bytes += p->len;
	q->truesize += p->cap;
}

struct pkt *pktq_pop(struct pkt_queue *q)
{
	struct pkt *p = q->first;
	if (!p)
		return NULL;
	q->first = p->next;
	if (!q->first)
		q->last = NULL;
	p->next = NULL;
	q->count--;
	q->bytes -= p->len;
	q->truesize -= p->cap;
	return p;
}

void pktq_purge(struct pkt_queue *q)
{
	pkt_free_chain(q->first);
	q->first = q->last = NULL;
	q->count = 0;
	q->bytes = 0;
	q->truesize = 0;
}

/* A byte ring buffer that grows on demand up to a limit. See ring.h.
 *
 *     buf                head             head+len (mod cap)       buf+cap
 *      |.. more data ..|  |<- first bytes ->| free (or out-of-order) |
 *
 * The capacity is a power of two, so an offset wraps with a mask. It starts
 * at RING_MIN_CAP (or less, when the limit is smaller) on the first write
 * and doubles when a write needs more, up to the smallest power of two that
 * holds the limit. Growing copies the old buffer out in order from head, so
 * the new one starts at offset 0 with nothing wrapped. Bytes past len (the
 * out-of-order data ring_write_at put there) move with the rest. */
#include "stack/ring.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Prepares an empty ring that may hold up to limit bytes (no memory yet). */
void ring_init(struct ring *r, size_t limit)
{
	memset(r, 0, sizeof(*r));
	r->limit = limit;
}

/* Frees the memory; the ring is empty, keeps its limit and may be used again. */
void ring_free(struct ring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
	r->head = 0;
	r->len = 0;
}

/* Bytes that can still be written (limit - len). */
size_t ring_space(const struct ring *r)
{
	return r->limit > r->len ? r->limit - r->len : 0;
}

/* The first capacity to allocate: RING_MIN_CAP, or the smallest power of
 * two that holds the limit if that is smaller. */
static size_t ring_first_cap(const struct ring *r)
{
	size_t cap = RING_MIN_CAP;

	while (cap > 1 && cap / 2 >= r->limit)
		cap /= 2;
	return cap;
}

/* Makes the capacity at least need bytes (need <= limit), doubling it and
 * copying the old contents out in order from head. Returns false if memory
 * runs out (the ring is unchanged then). */
static bool ring_reserve(struct ring *r, size_t need)
{
	if (need <= r->cap)
		return true;
	if (need > SIZE_MAX / 2)
		return false;
	size_t cap = r->cap ? r->cap : ring_first_cap(r);
	while (cap < need)
		cap *= 2;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return false;
	if (r->buf) {
		/* the whole old buffer, in order from head: held and out-of-order bytes */
		size_t first = r->cap - r->head;
		memcpy(buf, r->buf + r->head, first);
		memcpy(buf + first, r->buf, r->head);
		free(r->buf);
	}
	r->buf = buf;
	r->cap = cap;
	r->head = 0;
	return true;
}

/* Copies n bytes from data to offset off from head (off + n <= cap): the
 * byte at offset k lives at buf[(head + k) & (cap - 1)] (cap is a power of
 * two), so a copy that runs past the end of buf goes on at buf[0]. */
static void ring_copy_in(struct ring *r, size_t off, const uint8_t *data, size_t n)
{
	/* LAB check0 BEGIN stub: (void)r; (void)off; (void)data; (void)n; */
	size_t pos = (r->head + off) & (r->cap - 1);
	size_t first = r->cap - pos < n ? r->cap - pos : n;

	memcpy(r->buf + pos, data, first);
	memcpy(r->buf, data + first, n - first);
	/* LAB check0 END */
}

/* Copies n bytes at offset off from head to out (off + n <= cap), the
 * mirror of ring_copy_in: a copy that runs past the end of buf goes on
 * from buf[0]. */
static void ring_copy_out(const struct ring *r, size_t off, uint8_t *out, size_t n)
{
	/* LAB check0 BEGIN stub: (void)r; (void)off; (void)out; (void)n; */
	size_t pos = (r->head + off) & (r->cap - 1);
	size_t first = r->cap - pos < n ? r->cap - pos : n;

	memcpy(out, r->buf + pos, first);
	memcpy(out + first, r->buf, n - first);
	/* LAB check0 END */
}

/* Appends up to len bytes from data after the r->len held. Returns the
 * number appended: fewer at the limit (ring_space), or, when memory runs
 * out (ring_reserve, which grows the buffer to a capacity, returns false),
 * only what the current buffer holds (cap - len). */
size_t ring_write(struct ring *r, const void *data, size_t len)
{
	/* LAB check0 BEGIN stub: (void)r; (void)data; (void)len; (void)ring_reserve; return 0; */
	size_t n = ring_space(r) < len ? ring_space(r) : len;

	if (n == 0)
		return 0;
	if (!ring_reserve(r, r->len + n))
		n = r->cap - r->len;
	if (n == 0)
		return 0;
	ring_copy_in(r, r->len, data, n);
	r->len += n;
	return n;
	/* LAB check0 END */
}

/* Copies up to len bytes starting offset bytes after the first into out,
 * leaving them in the ring. Returns the number copied. */
size_t ring_peek(const struct ring *r, size_t offset, void *out, size_t len)
{
	/* LAB check0 BEGIN stub: (void)r; (void)offset; (void)out; (void)len; (void)ring_copy_out; return 0; */
	if (offset >= r->len)
		return 0;
	size_t n = r->len - offset < len ? r->len - offset : len;
	ring_copy_out(r, offset, out, n);
	return n;
	/* LAB check0 END */
}

/* Removes up to n bytes from the front (head moves on, wrapping at cap).
 * Returns the number removed. */
size_t ring_drop(struct ring *r, size_t n)
{
	/* LAB check0 BEGIN stub: (void)r; (void)n; return 0; */
	if (n > r->len)
		n = r->len;
	if (n == 0)
		return 0;
	r->head = (r->head + n) & (r->cap - 1);
	r->len -= n;
	return n;
	/* LAB check0 END */
}

/* Copies up to len bytes from the front into out and removes them. */
size_t ring_read(struct ring *r, void *out, size_t len)
{
	return ring_drop(r, ring_peek(r, 0, out, len));
}

/* Writes len bytes at offset from the first byte, also past len into the
 * free space (out-of-order data), without changing len. Returns len, 0 if
 * offset + len passes the limit, or, when memory runs out, what fits in the
 * current buffer. */
size_t ring_write_at(struct ring *r, size_t offset, const void *data, size_t len)
{
	if (len == 0 || offset >= r->limit || len > r->limit - offset)
		return 0;
	size_t n = len;
	if (!ring_reserve(r, offset + len))
		n = offset < r->cap ? r->cap - offset : 0;
	if (n == 0)
		return 0;
	ring_copy_in(r, offset, data, n);
	return n;
}

/* Makes the n bytes that ring_write_at() put just after the held ones part
 * of the ring (len += n), at most up to the limit and the buffer. */
void ring_extend(struct ring *r, size_t n)
{
	size_t max = r->limit < r->cap ? r->limit : r->cap;

	if (r->len >= max)
		return;
	r->len += n < max - r->len ? n : max - r->len;
}

/* Changes the limit, never below the bytes held. The buffer is not shrunk. */
void ring_set_limit(struct ring *r, size_t limit)
{
	r->limit = limit > r->len ? limit : r->len;
}

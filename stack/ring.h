/* A byte ring buffer that grows on demand up to a limit: TCP's send and
 * receive buffers. An idle connection holds little memory; a busy one grows
 * its buffer up to the socket's SO_SNDBUF / SO_RCVBUF. */
#ifndef TAPSTACK_RING_H
#define TAPSTACK_RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_MIN_CAP 4096

struct ring {
	uint8_t *buf;        /* NULL until the first write */
	size_t cap;          /* allocated bytes (a power of two), 0 at first */
	size_t limit;        /* most bytes it may ever hold */
	size_t head;         /* offset of the first byte */
	size_t len;          /* bytes held */
};

/* Prepares an empty ring that may hold up to limit bytes (no memory yet). */
void ring_init(struct ring *r, size_t limit);

/* Frees the memory. The ring is empty afterwards (and may be used again). */
void ring_free(struct ring *r);

/* Bytes that can still be written (limit - len). */
size_t ring_space(const struct ring *r);

/* Appends up to len bytes from data, growing the buffer as needed. Returns
 * the number appended (less than len when the limit is reached or memory
 * runs out). */
size_t ring_write(struct ring *r, const void *data, size_t len);

/* Copies up to len bytes starting offset bytes after the first into out,
 * without removing them. Returns the number copied. */
size_t ring_peek(const struct ring *r, size_t offset, void *out, size_t len);

/* Removes up to n bytes from the front. Returns the number removed. */
size_t ring_drop(struct ring *r, size_t n);

/* Copies up to len bytes from the front into out and removes them. */
size_t ring_read(struct ring *r, void *out, size_t len);

/* Writes len bytes at offset (from the first byte), which must lie within
 * [0, limit): bytes beyond r->len are written into the free space without
 * changing len (TCP puts out-of-order data in place this way). Returns the
 * number written, 0 if it does not fit. */
size_t ring_write_at(struct ring *r, size_t offset, const void *data, size_t len);

/* Makes n more bytes that ring_write_at() put just after the end part of
 * the ring (len += n, at most the limit). */
void ring_extend(struct ring *r, size_t n);

/* Changes the limit (never below the bytes held). */
void ring_set_limit(struct ring *r, size_t limit);

#endif

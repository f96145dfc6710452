/* Packet buffers: one contiguous buffer per frame, with headroom so each
 * layer can prepend its header without copying (stack/README.md, decision 3).
 *
 *     head            data                 data+len          head+cap
 *      |<- headroom ->|<------ len ------->|<-- tailroom -->|
 *
 * Buffers come from a process-wide pool in two size classes (2 KB for
 * ordinary frames, 64 KB for reassembled datagrams and offloaded segments).
 * The pool is bounded: pkt_alloc() returns NULL when it is exhausted and the
 * caller counts a drop. pkt_in_use() lets every test assert that nothing
 * leaked. Ownership rule: whoever holds a struct pkt * forwards it or frees
 * it, exactly once. */
#ifndef TAPSTACK_PKT_H
#define TAPSTACK_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_HEADROOM 128          /* room for Ethernet + IP + TCP headers */
#define PKT_SMALL_CAP 2048        /* size class for ordinary frames */
#define PKT_LARGE_CAP (65536 + 256) /* size class for 64 KB datagrams */
#define PKT_POOL_SMALL_MAX 8192   /* most small buffers alive at once */
#define PKT_POOL_LARGE_MAX 256    /* most large buffers alive at once */

struct pkt {
	uint8_t *head;      /* start of the buffer */
	uint8_t *data;      /* first byte of valid data */
	size_t len;         /* bytes of valid data */
	size_t cap;         /* total size of the buffer */
	struct pkt *next;   /* link for whichever queue owns the packet */
	int64_t time;       /* owner's timestamp (e.g. a simlink's delivery time) */
	int ifindex;        /* interface the frame arrived on */
	uint8_t large;      /* size class: 0 small, 1 large */
	uint8_t flags;      /* PKT_LINK_BCAST, PKT_CSUM_OK */
	/* Offload-only state: what a device may do for us (a TAP with a
	 * virtio-net header, link/vnet.h), set by TCP on the way out; all 0
	 * on every other path, and a student reading a plain path can skip
	 * it. (On the way in, the one offload mark is PKT_CSUM_OK in flags.)
	 *   csum_start   the transport header's offset from head, whose
	 *                checksum field holds only the pseudo-header sum: the
	 *                device sums the rest (0: the checksum is complete)
	 *   csum_offset  the checksum field's offset in that header
	 *   gso_size     the device cuts the segment into segments of this
	 *                many payload bytes (TSO; 0: one frame as it is) */
	struct pkt_offload {
		uint16_t csum_start;
		uint16_t csum_offset;
		uint16_t gso_size;
	} off;
	/* Control block: a scratch area the layer that owns the packet may use
	 * for its own metadata (a UDP socket keeps each datagram's source
	 * address here). Access it with memcpy. */
	_Alignas(8) uint8_t cb[48];
};

#define PKT_LINK_BCAST 0x01 /* arrived as a link-layer broadcast or multicast */
#define PKT_CSUM_OK 0x02    /* arrived with a transport checksum the device vouches
			     * for (it came from this machine's kernel, never on a
			     * wire): TCP need not verify it, and must not when the
			     * device left it partial */

/* Allocates a buffer able to hold size bytes after PKT_HEADROOM bytes of
 * headroom; len starts at 0. Returns NULL if size is too large or the pool is
 * exhausted. The caller owns the packet. */
struct pkt *pkt_alloc(size_t size);

/* Returns p to the pool. NULL is ignored. */
void pkt_free(struct pkt *p);

/* Frees every packet on a ->next chain. */
void pkt_free_chain(struct pkt *p);

/* Returns a copy of p (data only, same headroom). NULL if the pool is out. */
struct pkt *pkt_clone(const struct pkt *p);

/* Prepends n bytes; returns a pointer to them, or NULL if headroom is short. */
uint8_t *pkt_push(struct pkt *p, size_t n);

/* Removes n bytes from the front; returns the new data pointer, or NULL if
 * the packet is shorter than n (and then leaves it unchanged). */
uint8_t *pkt_pull(struct pkt *p, size_t n);

/* Appends n bytes at the tail; returns a pointer to them, or NULL if the
 * tailroom is short. */
uint8_t *pkt_put(struct pkt *p, size_t n);

/* Shortens the packet to len bytes (no-op if already shorter or equal). */
void pkt_trim(struct pkt *p, size_t len);

/* Completes a partial transport checksum (off.csum_start set, see above)
 * in software, as a device with checksum offload would, and clears
 * off.csum_start: for a device that cannot. */
void pkt_csum_complete(struct pkt *p);

/* Bytes that can still be prepended / appended. */
size_t pkt_headroom(const struct pkt *p);
size_t pkt_tailroom(const struct pkt *p);

/* Pool accounting: buffers currently handed out, and allocations refused. */
size_t pkt_in_use(void);
uint64_t pkt_alloc_failures(void);

/* Releases the memory of every free buffer (tests call it at exit so leak
 * checkers see a clean heap). Buffers in use are not touched. */
void pkt_pool_release(void);

/* A FIFO of packets linked through ->next, with a length count. */
struct pkt_queue {
	struct pkt *first, *last;
	size_t count;
	size_t bytes;           /* sum of p->len */
	size_t truesize;        /* sum of p->cap: the memory the queue really holds */
};

void pktq_push(struct pkt_queue *q, struct pkt *p);
struct pkt *pktq_pop(struct pkt_queue *q);
void pktq_purge(struct pkt_queue *q);

#endif

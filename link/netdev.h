/* Network devices: a small ops table that moves whole Ethernet frames
 * (stack/README.md, decision 7). Devices compose: impair and pcap wrap any
 * other device, so a host can be tap, impair(tap), pcap(impair(tap)), and a
 * simulated host the same around a simlink end.
 *
 * Time is passed in: devices never read a clock. A device that holds frames
 * back (a delay line) reports when the next one is due. */
#ifndef TAPSTACK_NETDEV_H
#define TAPSTACK_NETDEV_H

#include <stdint.h>

#include "stack/pkt.h"
#include "stack/stats.h"

#define NETDEV_NO_DEADLINE INT64_MAX

struct netdev;

struct netdev_ops {
	/* Sends one Ethernet frame (p->data at the destination MAC, no FCS).
	 * Consumes p whatever happens. Returns 0, or a negative errno when the
	 * frame could not be sent (the device counts why). */
	int (*send)(struct netdev *d, struct pkt *p, int64_t now);
	/* Returns the next frame received and ready at time now, or NULL when
	 * there is none. The caller owns the frame. */
	struct pkt *(*recv)(struct netdev *d, int64_t now);
	/* The earliest time at which recv may return a frame held back now
	 * (NETDEV_NO_DEADLINE if none). May be NULL: never holds frames. */
	int64_t (*next_deadline)(struct netdev *d);
	/* A file descriptor to poll for readability, or -1. May be NULL. */
	int (*fd)(struct netdev *d);
	/* Releases the device and every device it wraps, and frees d. May be
	 * NULL for devices owned elsewhere (simlink ends). */
	void (*close)(struct netdev *d);
	/* Writes out anything buffered (the pcap file); wrappers pass it on to
	 * the device they wrap. May be NULL. */
	void (*flush)(struct netdev *d);
};

struct netdev {
	const struct netdev_ops *ops;
	char name[32];          /* e.g. "tap0", "sim0.a" */
	unsigned mtu;           /* largest IP datagram the link carries (1500) */
	/* Offload (only a TAP with a virtio-net header has it, link/tap_vnet.c):
	 * 0, or the largest IP datagram send() takes in one frame; then send()
	 * also completes partial checksums (pkt->off.csum_start) and cuts TCP
	 * segments larger than the MTU (pkt->off.gso_size), and recv() may return
	 * frames up to that size (PKT_CSUM_OK on those it vouches for). */
	unsigned tso_max;
	struct stats *stats;    /* where the device counts (set by the owner; may be NULL) */
};

/* Counts an event of the device in the owner's stats, if it has any. A
 * macro, so that each call site keeps its own name's id (stats.h). */
#define netdev_count(d, name)                          \
	do {                                           \
		struct netdev *netdev_count_d_ = (d);  \
		if (netdev_count_d_->stats)            \
			stats_inc(netdev_count_d_->stats, (name)); \
	} while (0)

static inline int netdev_send(struct netdev *d, struct pkt *p, int64_t now)
{
	return d->ops->send(d, p, now);
}

static inline struct pkt *netdev_recv(struct netdev *d, int64_t now)
{
	return d->ops->recv(d, now);
}

static inline int64_t netdev_next_deadline(struct netdev *d)
{
	return d->ops->next_deadline ? d->ops->next_deadline(d) : NETDEV_NO_DEADLINE;
}

static inline int netdev_fd(struct netdev *d)
{
	return d->ops->fd ? d->ops->fd(d) : -1;
}

static inline void netdev_flush(struct netdev *d)
{
	if (d->ops->flush)
		d->ops->flush(d);
}

static inline void netdev_close(struct netdev *d)
{
	if (d && d->ops->close)
		d->ops->close(d);
}

#endif

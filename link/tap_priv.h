/* The TAP device's insides, shared by its two halves: link/tap.c, the
 * plain device (one Ethernet frame per read() and write()), and
 * link/tap_vnet.c, the same device with virtio-net offload (a header in
 * front of every frame, 64 KB per system call). tap_open() (tap.c)
 * attaches and chooses the half; programs only use tap.h. */
#ifndef TAPSTACK_TAP_PRIV_H
#define TAPSTACK_TAP_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

#include "link/netdev.h"

struct tap {
	struct netdev dev;      /* first, so a struct netdev * is a struct tap * */
	int fd;
	size_t rx_size;         /* read() size: the largest frame (and header) + 1 to spot longer ones */
};

static inline struct tap *tap_dev(struct netdev *d)
{
	return (struct tap *)d;
}

/* tap.c: the steps both halves share. */

/* Reads one frame into p (len 0); returns read()'s answer (tap.c). */
ssize_t tap_read(struct tap *t, struct pkt *p);

/* True when read()'s answer n means no frame at all: the kernel has none
 * (EAGAIN), a signal came first (EINTR), or 0. Look at it before errno
 * changes. */
bool tap_rx_empty(ssize_t n);

/* The counter to drop a frame read() answered n for into p under, or NULL
 * when p holds a whole frame of n bytes. */
const char *tap_rx_drop(const struct tap *t, const struct pkt *p, ssize_t n);

/* Writes p out as one frame, counts, consumes p; tap_send's answer. */
int tap_write(struct tap *t, struct pkt *p);

/* netdev ops both halves use as they are. */
int tap_fd(struct netdev *d);
void tap_close(struct netdev *d);

/* tap_vnet.c: the offload half. */

/* A zeroed device with room for the offload half's own state (free()
 * frees it), or NULL. */
struct tap *tap_vnet_alloc(void);

/* Makes t, attached with IFF_VNET_HDR and set up as a plain device, the
 * offload device: its netdev ops, the offloads asked of the kernel, and
 * (if it says yes) dev.tso_max and a 64 KB rx_size. */
void tap_vnet_setup(struct tap *t);

#endif

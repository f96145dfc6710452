/* The TAP device: the only code that opens /dev/net/tun. */
#ifndef TAPSTACK_TAP_H
#define TAPSTACK_TAP_H

#include <stdbool.h>
#include <stddef.h>

#include "link/netdev.h"

/* Attaches to the existing TAP interface called name in the calling
 * process's network namespace (IFF_TAP | IFF_NO_PI), non-blocking.
 * recv() reads one frame per call until the kernel says EAGAIN; send()
 * writes one frame. With offload, frames carry a virtio-net header and the
 * device takes and gives TCP segments of up to 64 KB with partial
 * checksums (dev->tso_max, see tap_vnet.c); if the kernel refuses the offloads,
 * tso_max stays 0 and frames are ordinary. Returns NULL and a message that
 * says what to do in err when it cannot (no /dev/net/tun, not root, no
 * such TAP). */
struct netdev *tap_open(const char *name, bool offload, char *err, size_t errlen);

#endif

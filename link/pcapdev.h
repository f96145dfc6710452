/* The pcap device: wraps any device and writes every frame, both ways, to a
 * pcap file with libpcap (pcap_open_dead + pcap_dump), for tshark and
 * Wireshark. */
#ifndef TAPSTACK_PCAPDEV_H
#define TAPSTACK_PCAPDEV_H

#include <stddef.h>
#include <stdint.h>

#include "link/netdev.h"

/* Wraps inner; frames are stamped with now + epoch_offset_us (the event loop
 * passes the wall-clock offset of its monotonic clock; simulations pass 0
 * for virtual time). Closing the result flushes and closes the file, then
 * closes inner. Returns NULL with a message in err if the file cannot be
 * opened (inner is then left open). */
struct netdev *pcapdev_wrap(struct netdev *inner, const char *path, int64_t epoch_offset_us,
			    char *err, size_t errlen);

#endif

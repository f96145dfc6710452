/* The virtio-net header (virtio 1.x, 5.1.6 "Device Operation"; Linux's
 * struct virtio_net_hdr): the 10 bytes a TAP opened with IFF_VNET_HDR puts
 * in front of every frame, both ways. It says what the other side left
 * undone, so that 64 KB can cross the TAP in one system call:
 *
 *     0        1          2            4            6              8              10
 *     | flags  | gso_type | hdr_len    | gso_size   | csum_start   | csum_offset  |
 *
 * (16-bit fields little-endian.)
 *   flags NEEDS_CSUM  the transport checksum is partial: the field at
 *                     csum_start + csum_offset holds only the pseudo-header
 *                     sum; the rest is to be summed from csum_start to the
 *                     end of the frame (Linux's CHECKSUM_PARTIAL).
 *   flags DATA_VALID  the checksum was verified already (received only).
 *   gso_type TCPV4/6  the frame is one TCP segment larger than the MTU: cut
 *                     it into segments of gso_size payload bytes each, every
 *                     one with a copy of the first hdr_len bytes of headers
 *                     (TSO when we send, GRO'd when we receive).
 */
#ifndef TAPSTACK_VNET_H
#define TAPSTACK_VNET_H

#include <stddef.h>
#include <stdint.h>

#define VNET_HDR_LEN 10

#define VNET_F_NEEDS_CSUM 0x01
#define VNET_F_DATA_VALID 0x02

#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP 3
#define VNET_GSO_TCPV6 4
#define VNET_GSO_ECN 0x80     /* flag: the sender set CWR in the segments */

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;       /* bytes of Ethernet + IP + TCP headers */
	uint16_t gso_size;      /* payload bytes per segment */
	uint16_t csum_start;    /* from the start of the frame (the destination MAC) */
	uint16_t csum_offset;   /* of the checksum field, from csum_start */
};

/* Parses the header at buf for a frame of frame_len bytes after it.
 * Returns NULL, or the reason to drop the frame: "tap.vnet_short" (fewer
 * than 10 bytes), "tap.vnet_bad_csum" (the checksum field lies beyond the
 * frame), "tap.vnet_bad_gso" (a segmentation type we did not ask for). */
const char *vnet_parse(const uint8_t *buf, size_t len, size_t frame_len, struct vnet_hdr *h);

/* Writes the 10-byte header h at buf. */
void vnet_emit(const struct vnet_hdr *h, uint8_t *buf);

#endif

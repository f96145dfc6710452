/* The virtio-net header codec. See vnet.h. */
#include "link/vnet.h"

#include <string.h>

#include "stack/byteorder.h"

/* Field offsets in the header. */
enum {
	VNET_OFF_FLAGS = 0,
	VNET_OFF_GSO_TYPE = 1,
	VNET_OFF_HDR_LEN = 2,
	VNET_OFF_GSO_SIZE = 4,
	VNET_OFF_CSUM_START = 6,
	VNET_OFF_CSUM_OFFSET = 8,
};

const char *vnet_parse(const uint8_t *buf, size_t len, size_t frame_len, struct vnet_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < VNET_HDR_LEN)
		return "tap.vnet_short";
	h->flags = buf[VNET_OFF_FLAGS];
	h->gso_type = buf[VNET_OFF_GSO_TYPE];
	h->hdr_len = le16_get(buf + VNET_OFF_HDR_LEN);
	h->gso_size = le16_get(buf + VNET_OFF_GSO_SIZE);
	h->csum_start = le16_get(buf + VNET_OFF_CSUM_START);
	h->csum_offset = le16_get(buf + VNET_OFF_CSUM_OFFSET);
	/* the checksum field (2 bytes) must lie inside the frame */
	if ((h->flags & VNET_F_NEEDS_CSUM) &&
	    (size_t)h->csum_start + h->csum_offset + 2 > frame_len)
		return "tap.vnet_bad_csum";
	switch (h->gso_type & ~VNET_GSO_ECN) {
	case VNET_GSO_NONE:
		break;
	case VNET_GSO_TCPV4:
	case VNET_GSO_TCPV6:
		/* a segment to cut has a partial checksum and a size */
		if (!(h->flags & VNET_F_NEEDS_CSUM) || h->gso_size == 0)
			return "tap.vnet_bad_gso";
		break;
	default:
		return "tap.vnet_bad_gso"; /* UDP fragmentation: never asked for */
	}
	return NULL;
}

void vnet_emit(const struct vnet_hdr *h, uint8_t *buf)
{
	buf[VNET_OFF_FLAGS] = h->flags;
	buf[VNET_OFF_GSO_TYPE] = h->gso_type;
	le16_put(buf + VNET_OFF_HDR_LEN, h->hdr_len);
	le16_put(buf + VNET_OFF_GSO_SIZE, h->gso_size);
	le16_put(buf + VNET_OFF_CSUM_START, h->csum_start);
	le16_put(buf + VNET_OFF_CSUM_OFFSET, h->csum_offset);
}

/* The TAP device with offload: what tap_open(name, true, ...) makes. Read
 * link/tap.c first; this is the same device with one thing added, and
 * only for speed.
 *
 * Every frame in both directions has a virtio-net header in front
 * (IFF_VNET_HDR, link/vnet.h), and TUNSETOFFLOAD tells the kernel that we
 * complete partial checksums and take TCP segments of up to 64 KB
 * (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6). Then one read() can bring 64 KB
 * of a TCP stream that the kernel did not cut into 1500-byte segments
 * (GRO'd or never segmented), and one write() can take 64 KB that the
 * kernel cuts (TSO): far fewer system calls for the same bytes, the
 * biggest cost of a user-space stack. The device says so in dev->tso_max
 * (netdev.h); TCP sends large segments only then. */
#include <errno.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "link/eth.h"
#include "link/tap_priv.h"
#include "link/vnet.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"

#define TAP_TSO_MAX 65535       /* an IP datagram's largest size */
#define TAP_TCP_CSUM_OFFSET 16  /* where TCP's checksum field is in its header */

struct tap_vnet {
	struct tap tap;         /* first, so a struct netdev * is a struct tap_vnet * */
	struct pkt *rx_big;     /* the 64 KB buffer the next frame is read into */
};

static struct tap_vnet *tap_vnet(struct netdev *d)
{
	return (struct tap_vnet *)d;
}

/* The received frame's virtio-net header at p->data (n bytes in all):
 * what it says about the checksum goes into p->flags, the header is
 * pulled off. A partial checksum of TCP (its field at offset 16) is left
 * for TCP not to verify (PKT_CSUM_OK); any other (UDP's) is completed
 * here, as the kernel would, so that layers which know nothing of
 * offloads see a correct one. Returns NULL or the drop reason. */
static const char *tap_vnet_rx_hdr(struct netdev *d, struct pkt *p)
{
	struct vnet_hdr h;
	const char *reason = vnet_parse(p->data, p->len, p->len - VNET_HDR_LEN, &h);
	if (reason)
		return reason;
	pkt_pull(p, VNET_HDR_LEN);
	if (h.flags & VNET_F_NEEDS_CSUM) {
		if (h.csum_offset == TAP_TCP_CSUM_OFFSET) {
			p->flags |= PKT_CSUM_OK;
		} else {
			uint8_t *field = p->data + h.csum_start + h.csum_offset;
			be16_put(field, csum_fold(csum_partial(p->data + h.csum_start,
							       p->len - h.csum_start, 0)));
		}
	} else if (h.flags & VNET_F_DATA_VALID) {
		p->flags |= PKT_CSUM_OK;
	}
	if (h.gso_type != VNET_GSO_NONE)
		netdev_count(d, "tap.rx_gso_frames");
	return NULL;
}

/* Empties the read buffer p for the next frame. */
static void tap_vnet_rx_reset(struct pkt *p)
{
	p->len = 0;
	p->data = p->head + PKT_HEADROOM;
	p->flags = 0;
}

/* Reads one frame, as tap_recv (tap.c) does, and parses its header.
 * Returns it (the caller owns it), or NULL when the kernel has none
 * (EAGAIN) or the frame was dropped (tap_recv's counters, or a bad
 * virtio-net header's). Frames are read into one 64 KB buffer; a small
 * one is copied out into a small buffer (so that queues hold 2 KB per
 * frame, not 64) and the big one is kept for the next frame of the burst;
 * a large frame is handed on with the buffer, and a new one is taken next
 * time. */
static struct pkt *tap_vnet_recv(struct netdev *d, int64_t now)
{
	struct tap_vnet *v = tap_vnet(d);
	struct pkt *p = v->rx_big;
	const char *drop;
	ssize_t n;

	(void)now;
	if (!p)
		p = v->rx_big = pkt_alloc(v->tap.rx_size);
	n = tap_read(&v->tap, p);
	if (tap_rx_empty(n)) {
		/* the TAP is empty: the buffer goes back to the pool until the
		 * next burst (an idle host holds none) */
		pkt_free(p);
		v->rx_big = NULL;
		return NULL;
	}
	drop = tap_rx_drop(&v->tap, p, n);
	if (!drop) {
		pkt_put(p, (size_t)n);
		drop = tap_vnet_rx_hdr(d, p);
	}
	if (drop) {
		netdev_count(d, drop);
		if (p)
			tap_vnet_rx_reset(p); /* kept for the next frame */
		return NULL;
	}
	if (p->large && p->len <= PKT_SMALL_CAP - PKT_HEADROOM) {
		struct pkt *c = pkt_clone(p); /* copied out; the big one is kept */
		tap_vnet_rx_reset(p);
		if (!c) {
			netdev_count(d, "tap.rx_nomem");
			return NULL;
		}
		p = c;
	} else {
		v->rx_big = NULL; /* handed on */
	}
	netdev_count(d, "tap.rx_frames");
	return p;
}

/* The virtio-net header for sending p (p->data at the destination MAC):
 * a partial checksum to complete and a segment to cut, if TCP left them
 * to the device (p->off, pkt.h), else all zero. */
static void tap_vnet_tx_hdr(const struct pkt *p, struct vnet_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (!p->off.csum_start)
		return;
	size_t start = (size_t)(p->head + p->off.csum_start - p->data);
	h->flags = VNET_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)start;
	h->csum_offset = p->off.csum_offset;
	if (p->off.gso_size && p->len > ETH_HDR_LEN && start + 13 <= p->len) {
		uint16_t type = be16_get(p->data + 12);
		h->gso_type = type == ETH_TYPE_IPV6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4;
		h->gso_size = p->off.gso_size;
		/* Ethernet, IP and TCP headers: TCP's data offset, in words */
		h->hdr_len = (uint16_t)(start + (size_t)(p->data[start + 12] >> 4) * 4);
	}
}

/* Writes p to the kernel as one frame after its virtio-net header.
 * Consumes p. Returns what tap_send (tap.c) returns, or -ENOBUFS when
 * there is no headroom for the header ("tap.tx_error"). */
static int tap_vnet_send(struct netdev *d, struct pkt *p, int64_t now)
{
	struct vnet_hdr h;
	uint8_t *hdr;

	(void)now;
	tap_vnet_tx_hdr(p, &h);
	hdr = pkt_push(p, VNET_HDR_LEN);
	if (!hdr) {
		netdev_count(d, "tap.tx_error");
		pkt_free(p);
		return -ENOBUFS;
	}
	vnet_emit(&h, hdr);
	if (h.gso_type != VNET_GSO_NONE)
		netdev_count(d, "tap.tx_gso_frames");
	return tap_write(tap_dev(d), p);
}

/* Frees the kept buffer, then closes as the plain device does. */
static void tap_vnet_close(struct netdev *d)
{
	pkt_free(tap_vnet(d)->rx_big);
	tap_close(d);
}

static const struct netdev_ops tap_vnet_ops = {
	.send = tap_vnet_send,
	.recv = tap_vnet_recv,
	.next_deadline = NULL,  /* never holds frames back */
	.fd = tap_fd,
	.close = tap_vnet_close,
	.flush = NULL,
};

/* Asks the kernel for checksum and segmentation offload on fd (opened
 * with IFF_VNET_HDR). Returns 0, or -1 when it says no. */
static int tap_set_offload(int fd)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	/* the header's fields are little-endian (virtio 1.x); the kernel uses
	 * the host's order unless told */
	int le = 1;
	if (ioctl(fd, TUNSETVNETLE, &le) < 0)
		return -1;
#endif
	int sz = VNET_HDR_LEN;
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -1;
	return ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0 ? -1 : 0;
}

struct tap *tap_vnet_alloc(void)
{
	struct tap_vnet *v = calloc(1, sizeof(*v));
	return v ? &v->tap : NULL;
}

void tap_vnet_setup(struct tap *t)
{
	t->dev.ops = &tap_vnet_ops;
	if (tap_set_offload(t->fd) == 0) {
		t->dev.tso_max = TAP_TSO_MAX;
		t->rx_size = ETH_HDR_LEN + TAP_TSO_MAX;
	}
	t->rx_size += VNET_HDR_LEN;
}

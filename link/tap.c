/* The TAP device: the only code that opens /dev/net/tun. The kernel hands
 * us whole Ethernet frames (no FCS, no packet-info header: IFF_NO_PI), one
 * per read(), and takes one per write(). The interface itself is made and
 * set up by the lab script (`labs/net up`); we only attach to it.
 *
 * With offload (tap_open(name, true, ...)), every frame in both directions
 * has a virtio-net header in front (IFF_VNET_HDR, link/vnet.h), and
 * TUNSETOFFLOAD tells the kernel that we complete partial checksums and
 * take TCP segments of up to 64 KB (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6).
 * Then one read() can bring 64 KB of a TCP stream that the kernel did not
 * cut into 1500-byte segments (GRO'd or never segmented), and one write()
 * can take 64 KB that the kernel cuts (TSO): far fewer system calls for
 * the same bytes, the biggest cost of a user-space stack. The device says
 * so in dev->tso_max (netdev.h); TCP sends large segments only then. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link/eth.h"
#include "link/tap.h"
#include "link/vnet.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"

#define TAP_TSO_MAX 65535       /* an IP datagram's largest size */
#define TAP_TCP_CSUM_OFFSET 16  /* where TCP's checksum field is in its header */

struct tap {
	struct netdev dev;      /* first, so a struct netdev * is a struct tap * */
	int fd;
	bool vnet;              /* every frame has a virtio-net header in front */
	size_t rx_size;         /* read() size: the largest frame (and header) + 1 to spot longer ones */
	struct pkt *rx_big;     /* with offload: the 64 KB buffer the next frame is read into */
};

static struct tap *tap_dev(struct netdev *d)
{
	return (struct tap *)d;
}

/* Reads one frame into p (len 0) and returns read()'s answer: the byte
 * count, 0, or -1 with errno. With no buffer, reads into a byte anyway: the
 * frame is consumed (the rest of it is discarded by the kernel), so a full
 * pool cannot spin the loop. */
static ssize_t tap_read(struct tap *t, struct pkt *p)
{
	uint8_t scratch;
	return p ? read(t->fd, p->data, t->rx_size) : read(t->fd, &scratch, 1);
}

/* The received frame's virtio-net header at p->data (n bytes in all):
 * what it says about the checksum goes into p->flags, the header is
 * pulled off. A partial checksum of TCP (its field at offset 16) is left
 * for TCP not to verify (PKT_CSUM_OK); any other (UDP's) is completed
 * here, as the kernel would, so that layers which know nothing of
 * offloads see a correct one. Returns NULL or the drop reason. */
static const char *tap_rx_vnet(struct netdev *d, struct pkt *p)
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
static void tap_rx_reset(struct pkt *p)
{
	p->len = 0;
	p->data = p->head + PKT_HEADROOM;
	p->flags = 0;
}

/* Reads one frame. Returns it (the caller owns it), or NULL when the
 * kernel has none (EAGAIN) or the frame was dropped ("tap.rx_oversize",
 * "tap.rx_nomem", "tap.rx_error", a bad virtio-net header). With offload,
 * frames are read into one 64 KB buffer; a small one is copied out into a
 * small buffer (so that queues hold 2 KB per frame, not 64) and the big
 * one is kept for the next frame of the burst; a large frame is handed on
 * with the buffer, and a new one is taken next time. */
static struct pkt *tap_recv(struct netdev *d, int64_t now)
{
	struct tap *t = tap_dev(d);
	struct pkt *p = t->vnet ? t->rx_big : NULL;
	const char *reason = NULL;
	ssize_t n;

	(void)now;
	if (!p)
		p = pkt_alloc(t->rx_size);
	if (t->vnet)
		t->rx_big = p;
	n = tap_read(t, p);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		goto none;
	if (n == 0)
		goto none;
	if (!p)
		reason = "tap.rx_nomem";
	else if (n < 0)
		reason = "tap.rx_error";
	else if ((size_t)n >= t->rx_size)
		reason = "tap.rx_oversize"; /* the frame filled the buffer: it was longer, and cut short */
	if (reason)
		goto drop;
	pkt_put(p, (size_t)n);
	if (t->vnet) {
		reason = tap_rx_vnet(d, p);
		if (reason)
			goto drop;
		if (p->large && p->len <= PKT_SMALL_CAP - PKT_HEADROOM) {
			struct pkt *c = pkt_clone(p);
			tap_rx_reset(p);
			if (!c) {
				reason = "tap.rx_nomem";
				goto drop;
			}
			p = c;
		} else {
			t->rx_big = NULL; /* handed on */
		}
	}
	netdev_count(d, "tap.rx_frames");
	return p;
drop:
	netdev_count(d, reason);
	if (t->vnet && p) {
		tap_rx_reset(p); /* kept for the next frame */
		return NULL;
	}
	pkt_free(p);
	return NULL;
none:
	/* the TAP is empty: the buffer goes back to the pool until the next
	 * burst (an idle host holds none) */
	pkt_free(p);
	if (t->vnet)
		t->rx_big = NULL;
	return NULL;
}

/* The virtio-net header for sending p (p->data at the destination MAC):
 * a partial checksum to complete and a segment to cut, if TCP left them
 * to the device (pkt.h), else all zero. */
static void tap_tx_vnet(const struct pkt *p, struct vnet_hdr *h)
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

/* Writes p to the kernel as one frame (with offload: after its
 * virtio-net header). Consumes p. Returns 0, -EAGAIN when the kernel's
 * queue is full ("tap.tx_dropped"), or another negative errno
 * ("tap.tx_error"). */
static int tap_send(struct netdev *d, struct pkt *p, int64_t now)
{
	struct tap *t = tap_dev(d);
	int rc = 0;

	(void)now;
	if (t->vnet) {
		struct vnet_hdr h;
		tap_tx_vnet(p, &h);
		uint8_t *hdr = pkt_push(p, VNET_HDR_LEN);
		if (!hdr) {
			netdev_count(d, "tap.tx_error");
			pkt_free(p);
			return -ENOBUFS;
		}
		vnet_emit(&h, hdr);
		if (h.gso_type != VNET_GSO_NONE)
			netdev_count(d, "tap.tx_gso_frames");
	}
	ssize_t n = write(t->fd, p->data, p->len);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
		netdev_count(d, "tap.tx_dropped");
		rc = -EAGAIN;
	} else if (n < 0) {
		netdev_count(d, "tap.tx_error");    /* e.g. EIO: the interface is down */
		rc = -errno;
	} else if ((size_t)n != p->len) {
		netdev_count(d, "tap.tx_error");
		rc = -EIO;
	} else {
		netdev_count(d, "tap.tx_frames");
	}
	pkt_free(p);
	return rc;
}

/* The descriptor the event loop polls for readability. */
static int tap_fd(struct netdev *d)
{
	return tap_dev(d)->fd;
}

/* Detaches from the interface (which stays, for the lab script to remove) and frees d. */
static void tap_close(struct netdev *d)
{
	struct tap *t = tap_dev(d);

	close(t->fd);
	pkt_free(t->rx_big);
	free(t);
}

static const struct netdev_ops tap_ops = {
	.send = tap_send,
	.recv = tap_recv,
	.next_deadline = NULL,  /* never holds frames back */
	.fd = tap_fd,
	.close = tap_close,
	.flush = NULL,
};

/* The MTU of interface name, or 1500 if it cannot be read. An AF_INET
 * datagram socket is only a handle for the ioctl: nothing is sent. */
static unsigned tap_read_mtu(const char *name)
{
	struct ifreq ifr;
	unsigned mtu = 1500;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return mtu;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68)
		mtu = (unsigned)ifr.ifr_mtu;
	close(s);
	return mtu;
}

/* Writes the advice for a failed open of /dev/net/tun into err. */
static void tap_open_error(int e, char *err, size_t errlen)
{
	const char *hint;

	if (e == EACCES || e == EPERM)
		hint = "run as root";
	else if (e == ENOENT || e == ENODEV || e == ENXIO)
		hint = "load the tun module with `modprobe tun`";
	else
		hint = "is this Linux with TUN/TAP support?";
	snprintf(err, errlen, "cannot open /dev/net/tun: %s (%s)", strerror(e), hint);
}

/* Writes the advice for a failed TUNSETIFF on name into err. */
static void tap_attach_error(const char *name, int e, char *err, size_t errlen)
{
	if (e == EBUSY)
		snprintf(err, errlen, "TAP device %s is in use by another process "
			 "(stop the other host first, e.g. `labs/run-host --stop`)", name);
	else if (e == EPERM || e == EACCES)
		snprintf(err, errlen, "cannot attach to TAP device %s: %s (run as root, or "
			 "create it with `ip tuntap add dev %s mode tap user $USER`)",
			 name, strerror(e), name);
	else if (e == EINVAL)
		snprintf(err, errlen, "cannot attach to %s: %s (is it a TUN device, not TAP? "
			 "recreate it with `ip tuntap add dev %s mode tap`)",
			 name, strerror(e), name);
	else
		snprintf(err, errlen, "cannot attach to TAP device %s: %s", name, strerror(e));
}

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

/* Attaches to the existing TAP interface name (see tap.h). Returns the
 * device, or NULL with what to do in err. */
struct netdev *tap_open(const char *name, bool offload, char *err, size_t errlen)
{
	struct ifreq ifr;
	struct tap *t;
	int fd;

	if (strlen(name) == 0 || strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "bad TAP name \"%s\": 1 to %d characters, e.g. tap0",
			 name, IFNAMSIZ - 1);
		return NULL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		tap_open_error(errno, err, errlen);
		return NULL;
	}
	/* TUNSETIFF would create a missing interface (owned by us, and gone
	 * when we exit), so first make sure the lab made one. */
	if (if_nametoindex(name) == 0) {
		snprintf(err, errlen, "no TAP device named %s in this network namespace "
			 "(create the lab with `labs/net up` and start the host with "
			 "`labs/net exec ...`)", name);
		close(fd);
		return NULL;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		tap_attach_error(name, errno, err, errlen);
		close(fd);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "cannot attach to TAP device %s: out of memory", name);
		close(fd);
		return NULL;
	}
	t->dev.ops = &tap_ops;
	snprintf(t->dev.name, sizeof(t->dev.name), "%s", name);
	t->dev.mtu = tap_read_mtu(name);
	t->dev.stats = NULL;
	t->fd = fd;
	t->rx_size = t->dev.mtu + ETH_HDR_LEN;
	if (t->rx_size < ETH_MAX_FRAME)
		t->rx_size = ETH_MAX_FRAME;
	if (offload) {
		/* with the header in front of every frame, offloaded or not */
		t->vnet = true;
		if (tap_set_offload(fd) == 0) {
			t->dev.tso_max = TAP_TSO_MAX;
			t->rx_size = ETH_HDR_LEN + TAP_TSO_MAX;
		}
		t->rx_size += VNET_HDR_LEN;
	} else if (ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		/* The offloads are the interface's, not the descriptor's: a host
		 * that had them on before us leaves them on, and the kernel would
		 * then hand us frames with unfinished checksums and no header to
		 * say so. Turned off here, every frame comes complete. */
		snprintf(err, errlen, "cannot turn off the offloads of TAP device %s: %s", name,
			 strerror(errno));
		free(t);
		close(fd);
		return NULL;
	}
	t->rx_size += 1;
	return &t->dev;
}

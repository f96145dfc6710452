/* The TAP device: the only code that opens /dev/net/tun. The kernel hands
 * us whole Ethernet frames (no FCS, no packet-info header: IFF_NO_PI), one
 * per read(), and takes one per write(). The interface itself is made and
 * set up by the lab script (`labs/net up`); we only attach to it.
 *
 * This file is the plain device: read a frame, hand it on; write a frame.
 * With offload (tap_open(name, true, ...)), tap_open() hands the device to
 * link/tap_vnet.c instead, which puts a virtio-net header in front of every
 * frame and moves 64 KB per system call; it shares the steps below
 * (tap_priv.h). */
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
#include "link/tap_priv.h"

/* Reads one frame into p (len 0) and returns read()'s answer: the byte
 * count, 0, or -1 with errno. With no buffer, reads into a byte anyway: the
 * frame is consumed (the rest of it is discarded by the kernel), so a full
 * pool cannot spin the loop. */
ssize_t tap_read(struct tap *t, struct pkt *p)
{
	uint8_t scratch;
	return p ? read(t->fd, p->data, t->rx_size) : read(t->fd, &scratch, 1);
}

bool tap_rx_empty(ssize_t n)
{
	return n == 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

const char *tap_rx_drop(const struct tap *t, const struct pkt *p, ssize_t n)
{
	if (!p)
		return "tap.rx_nomem";          /* read into a byte: consumed, and gone */
	if (n < 0)
		return "tap.rx_error";
	if ((size_t)n >= t->rx_size)
		return "tap.rx_oversize";       /* the frame filled the buffer: it was longer, and cut short */
	return NULL;
}

/* Reads one frame. Returns it (the caller owns it), or NULL when the
 * kernel has none (EAGAIN) or the frame was dropped ("tap.rx_nomem",
 * "tap.rx_error", "tap.rx_oversize"). */
static struct pkt *tap_recv(struct netdev *d, int64_t now)
{
	struct tap *t = tap_dev(d);
	struct pkt *p = pkt_alloc(t->rx_size);
	ssize_t n = tap_read(t, p);
	const char *drop;

	(void)now;
	if (tap_rx_empty(n)) {
		pkt_free(p);
		return NULL;
	}
	drop = tap_rx_drop(t, p, n);
	if (drop) {
		netdev_count(d, drop);
		pkt_free(p);
		return NULL;
	}
	pkt_put(p, (size_t)n);
	netdev_count(d, "tap.rx_frames");
	return p;
}

int tap_write(struct tap *t, struct pkt *p)
{
	struct netdev *d = &t->dev;
	ssize_t n = write(t->fd, p->data, p->len);
	int rc = 0;

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

/* Writes p to the kernel as one frame. Consumes p. Returns 0, -EAGAIN
 * when the kernel's queue is full ("tap.tx_dropped"), or another negative
 * errno ("tap.tx_error"). */
static int tap_send(struct netdev *d, struct pkt *p, int64_t now)
{
	(void)now;
	return tap_write(tap_dev(d), p);
}

/* The descriptor the event loop polls for readability. */
int tap_fd(struct netdev *d)
{
	return tap_dev(d)->fd;
}

/* Detaches from the interface (which stays, for the lab script to remove) and frees d. */
void tap_close(struct netdev *d)
{
	struct tap *t = tap_dev(d);

	close(t->fd);
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
	t = offload ? tap_vnet_alloc() : calloc(1, sizeof(*t));
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
		tap_vnet_setup(t); /* the header in front of every frame, offloaded or not */
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

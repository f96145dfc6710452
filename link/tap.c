/* The TAP device: the only code that opens /dev/net/tun. The kernel hands
 * us whole Ethernet frames (no FCS, no packet-info header: IFF_NO_PI), one
 * per read(), and takes one per write(). The interface itself is made and
 * set up by the lab script (`labs/net up`); we only attach to it. */
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

struct tap {
	struct netdev dev;      /* first, so a struct netdev * is a struct tap * */
	int fd;
	size_t rx_size;         /* read() size: the largest frame + 1 to spot longer ones */
};

static struct tap *tap_dev(struct netdev *d)
{
	return (struct tap *)d;
}

/* Reads one frame. Returns it (the caller owns it), or NULL when the
 * kernel has none (EAGAIN) or the frame was dropped ("tap.rx_oversize",
 * "tap.rx_nomem", "tap.rx_error"). */
static struct pkt *tap_recv(struct netdev *d, int64_t now)
{
	struct tap *t = tap_dev(d);
	struct pkt *p = pkt_alloc(t->rx_size);
	const char *reason;
	ssize_t n;

	(void)now;
	if (!p) {
		/* Read into a byte anyway: the frame is consumed (the rest of it
		 * is discarded by the kernel), so a full pool cannot spin the loop. */
		uint8_t scratch;
		n = read(t->fd, &scratch, 1);
		if (n < 0)
			return NULL;
		reason = "tap.rx_nomem";
		goto drop;
	}
	n = read(t->fd, p->data, t->rx_size);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			pkt_free(p);
			return NULL;
		}
		reason = "tap.rx_error";
		goto drop;
	}
	if (n == 0) {
		pkt_free(p);
		return NULL;
	}
	if ((size_t)n >= t->rx_size) {
		/* The frame filled the buffer: it was longer, and cut short. */
		reason = "tap.rx_oversize";
		goto drop;
	}
	pkt_put(p, (size_t)n);
	netdev_count(d, "tap.rx_frames");
	return p;
drop:
	netdev_count(d, reason);
	pkt_free(p);
	return NULL;
}

/* Writes p to the kernel as one frame. Consumes p. Returns 0, -EAGAIN
 * when the kernel's queue is full ("tap.tx_dropped"), or another negative
 * errno ("tap.tx_error"). */
static int tap_send(struct netdev *d, struct pkt *p, int64_t now)
{
	struct tap *t = tap_dev(d);
	ssize_t n = write(t->fd, p->data, p->len);
	int rc = 0;

	(void)now;
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
struct netdev *tap_open(const char *name, char *err, size_t errlen)
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
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
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
	t->rx_size += 1;
	return &t->dev;
}

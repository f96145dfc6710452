/* The packetdrill shim: one tapstack host behind packetdrill's
 * --so_filename interface (struct packetdrill_interface, filled in by
 * packetdrill_interface_init), on a fake clock.
 *
 * Test equipment, not part of the stack: packetdrill dlopen()s this
 * library and drives the host through it. tests/packetdrill/README.md says
 * how it is built and run.
 *
 *   packetdrill main thread                 packetdrill syscall thread
 *   netdev_send  -> pd_inject (frame in)    socket calls -> net_* (stack/net.h)
 *   netdev_receive <- the host's next IP    a call that must wait parks on
 *       packet; none: the clock jumps to      pd->changed (pd_wait), and wakes
 *       the host's next deadline              whenever the host did something
 *   usleep/gettimeofday: the fake clock
 *
 * One lock (pd->lock) is held around every use of the host: the core is
 * single-threaded (stack/README.md, decision 1), the lock makes the two
 * threads take turns. Nothing spins: a waiting thread sleeps on pd->changed.
 *
 * The link: packetdrill speaks bare IP packets, the host Ethernet. The
 * shim's device (pddev) adds an Ethernet header to each packet injected and
 * strips it from each frame the host sends; it plays the link's other end
 * for ARP too, answering the host's requests with a made-up MAC, so the
 * host resolves its gateway as on a real LAN. The host is the packetdrill
 * "local" address (so_flags: "192.168.0.2" by default) on a /16 with
 * gateway 192.168.0.1, packetdrill's own defaults: the remote address
 * (192.0.2.1) is reached through the gateway. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "packetdrill.h"

#include "link/arp.h"
#include "link/eth.h"
#include "link/netdev.h"
#include "stack/byteorder.h"
#include "stack/net.h"
#include "stack/pkt.h"
#include "stack/stack.h"

#define EXPORT __attribute__((visibility("default")))

/* The fake clock starts at this wall time (any fixed value will do: a
 * run repeats). */
#define PD_EPOCH_US (1700000000LL * 1000000LL)
/* How far netdev_receive lets the clock run ahead looking for a packet
 * before it gives up and returns nothing (packetdrill then fails the
 * script): far beyond any script's timers, short of an endless wait. */
#define PD_RECV_HORIZON_US (900LL * 1000000LL)
/* How long (real time) a main-thread call waits for the syscall thread to
 * enter a blocking call it has just been handed, before moving the clock. */
#define PD_HANDOFF_NS (10 * 1000000L)
/* The Linux profile (README.md): a TCP socket's receive buffer may grow to
 * what the scripts' defaults.sh gives Linux (sysctl tcp_rmem's maximum,
 * 15 MB), and the window scale is chosen from it, as Linux does: 8. */
#define PD_LINUX_RMEM_MAX (15 * 1024 * 1024)
/* Largest placeholder fd number mapped. */
#define PD_MAX_FD 4096

static const uint8_t pd_host_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t pd_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

struct pddev {
	struct netdev dev;
	struct pkt_queue inbox;  /* frames for the host */
	struct pkt_queue out;    /* IP packets the host sent, p->time set */
};

struct pd {
	pthread_mutex_t lock;
	pthread_cond_t changed;  /* broadcast whenever the host did something */
	unsigned long gen;       /* counts those broadcasts */
	int parked;              /* calls waiting in pd_wait */
	int64_t wake_at;         /* the earliest time a parked call asked to be woken */
	bool closing;
	struct stack s;
	struct pddev *dev;
	int64_t now;             /* the host's clock (us since the epoch) */
	int netfd[PD_MAX_FD];    /* placeholder fd -> tapstack descriptor + 1 */
};

/* ---- the device -------------------------------------------------------- */

/* The host asks for a neighbor's MAC: answer as that neighbor. */
static void pddev_answer_arp(struct pddev *d, struct pkt *p)
{
	struct arp_msg m;
	if (arp_parse(p->data + ETH_HDR_LEN, p->len - ETH_HDR_LEN, &m) || m.op != ARP_OP_REQUEST ||
	    m.tpa == m.spa)
		return; /* not a question (a gratuitous ARP announces ourselves) */
	struct arp_msg r = { .htype = ARP_HTYPE_ETHERNET, .ptype = ETH_TYPE_IPV4, .hlen = 6,
			      .plen = 4, .op = ARP_OP_REPLY, .spa = m.tpa, .tpa = m.spa };
	memcpy(r.sha, pd_peer_mac, 6);
	memcpy(r.tha, m.sha, 6);
	struct pkt *q = pkt_alloc(ETH_MIN_FRAME);
	if (!q)
		return;
	uint8_t *f = pkt_put(q, ETH_MIN_FRAME);
	memset(f, 0, ETH_MIN_FRAME);
	memcpy(f, m.sha, 6);
	memcpy(f + 6, pd_peer_mac, 6);
	be16_put(f + 12, ETH_TYPE_ARP);
	arp_emit(&r, f + ETH_HDR_LEN);
	pktq_push(&d->inbox, q);
}

static int pddev_send(struct netdev *nd, struct pkt *p, int64_t now)
{
	struct pddev *d = (struct pddev *)nd;
	uint16_t type = p->len >= ETH_HDR_LEN ? be16_get(p->data + 12) : 0;
	if (type == ETH_TYPE_ARP) {
		pddev_answer_arp(d, p);
		pkt_free(p);
		return 0;
	}
	if (type != ETH_TYPE_IPV4 && type != ETH_TYPE_IPV6) {
		pkt_free(p);
		return 0;
	}
	pkt_pull(p, ETH_HDR_LEN);
	p->time = now;
	pktq_push(&d->out, p);
	return 0;
}

static struct pkt *pddev_recv(struct netdev *nd, int64_t now)
{
	(void)now;
	return pktq_pop(&((struct pddev *)nd)->inbox);
}

static void pddev_close(struct netdev *nd)
{
	struct pddev *d = (struct pddev *)nd;
	pktq_purge(&d->inbox);
	pktq_purge(&d->out);
	free(d);
}

static const struct netdev_ops pddev_ops = {
	.send = pddev_send,
	.recv = pddev_recv,
	.close = pddev_close,
};

/* ---- the clock ----------------------------------------------------------- */

static void pd_changed(struct pd *pd)
{
	pd->gen++;
	pthread_cond_broadcast(&pd->changed);
}

static void pd_handoff(struct pd *pd);

/* Moves the clock to t, running the host at each of its deadlines on the
 * way, in order, and stopping where a parked call's time is up (a poll's
 * timeout, SO_RCVTIMEO) to let it see so before the clock goes on. Lock
 * held. */
static void pd_run_until(struct pd *pd, int64_t t)
{
	for (int guard = 0; guard < 1000000; guard++) {
		int64_t d = stack_next_deadline(&pd->s);
		bool wake = pd->parked && pd->wake_at <= d;
		if (wake)
			d = pd->wake_at;
		if (d > t)
			break;
		if (d > pd->now)
			pd->now = d;
		stack_poll(&pd->s, pd->now);
		if (wake) {
			pd->wake_at = INT64_MAX; /* a call still waiting sets it again */
			pd_changed(pd);
			pd_handoff(pd);
			continue;
		}
		if (stack_next_deadline(&pd->s) <= pd->now)
			break; /* a timer that did not move: go on to t */
	}
	if (t > pd->now)
		pd->now = t;
	stack_poll(&pd->s, pd->now);
	pd_changed(pd);
}

/* Gives the syscall thread the chance to act before the clock moves on:
 * to enter a blocking call it has just been handed (packetdrill's main
 * thread goes on as soon as that thread starts), or to see that its time
 * is up. Waits, at most PD_HANDOFF_NS of real time, for any change.
 * Lock held. */
static void pd_handoff(struct pd *pd)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += PD_HANDOFF_NS;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	unsigned long gen = pd->gen;
	while (pd->gen == gen)
		if (pthread_cond_timedwait(&pd->changed, &pd->lock, &until) == ETIMEDOUT)
			break;
}

/* net_driver for blocking calls (from the syscall thread): sleep until the
 * host did something, the clock moved, or the shim closes. */
static void pd_wait(void *ctx, int64_t max_wait_us)
{
	struct pd *pd = ctx;
	/* the clock is the main thread's: it wakes us when it moves, and
	 * stops at our deadline (pd_run_until) */
	int64_t until = max_wait_us >= 0 && max_wait_us < INT64_MAX - pd->now ? pd->now + max_wait_us
									   : INT64_MAX;
	if (until < pd->wake_at)
		pd->wake_at = until;
	unsigned long gen = pd->gen;
	pd->parked++;
	pd_changed(pd); /* tell a main thread in pd_handoff that we are in */
	gen = pd->gen;
	while (pd->gen == gen && !pd->closing)
		pthread_cond_wait(&pd->changed, &pd->lock);
	if (--pd->parked == 0)
		pd->wake_at = INT64_MAX;
}

static int64_t pd_now(void *ctx)
{
	return ((struct pd *)ctx)->now;
}

static int pd_interrupted(void *ctx)
{
	return ((struct pd *)ctx)->closing;
}

/* ---- descriptors --------------------------------------------------------- */

/* A socket call's result the Linux way: -1 and errno. */
static long pd_ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* The tapstack descriptor behind placeholder fd, or -1. */
static int pd_net(struct pd *pd, int fd)
{
	if (fd < 0 || fd >= PD_MAX_FD || !pd->netfd[fd])
		return -1;
	return pd->netfd[fd] - 1;
}

/* A real descriptor for tapstack descriptor nfd (so packetdrill sees a
 * kernel fd number, unique in the process). Returns it, or -errno. */
static int pd_map(struct pd *pd, int nfd)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fd >= PD_MAX_FD) {
		close(fd);
		return -EMFILE;
	}
	pd->netfd[fd] = nfd + 1;
	return fd;
}

#define LOCKED(pd, expr)                                \
	({                                              \
		pthread_mutex_lock(&(pd)->lock);        \
		long r_ = (expr);                       \
		pd_changed(pd);                         \
		pthread_mutex_unlock(&(pd)->lock);      \
		pd_ret(r_);                             \
	})

#define NETFD(pd, fd)                                   \
	int nfd = pd_net(pd, fd);                       \
	if (nfd < 0) {                                  \
		errno = EBADF;                          \
		return -1;                              \
	}

/* ---- the socket calls ---------------------------------------------------- */

static long pd_socket_locked(struct pd *pd, int domain, int type, int protocol)
{
	int nfd = net_socket(domain, type & ~SOCK_CLOEXEC, protocol);
	if (nfd < 0)
		return nfd;
	if ((type & 0xf) == SOCK_STREAM) {
		int v = PD_LINUX_RMEM_MAX;
		net_setsockopt(nfd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	}
	int fd = pd_map(pd, nfd);
	if (fd < 0)
		net_close(nfd);
	return fd;
}

static int pd_socket(void *u, int domain, int type, int protocol)
{
	struct pd *pd = u;
	return (int)LOCKED(pd, pd_socket_locked(pd, domain, type, protocol));
}

static int pd_bind(void *u, int fd, const struct sockaddr *a, socklen_t len)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	return (int)LOCKED(pd, net_bind(nfd, a, len));
}

static int pd_listen(void *u, int fd, int backlog)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	return (int)LOCKED(pd, net_listen(nfd, backlog));
}

static long pd_accept_locked(struct pd *pd, int nfd, struct sockaddr *a, socklen_t *len)
{
	int c = net_accept(nfd, a, len);
	if (c < 0)
		return c;
	int fd = pd_map(pd, c);
	if (fd < 0)
		net_close(c);
	return fd;
}

static int pd_accept(void *u, int fd, struct sockaddr *a, socklen_t *len)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	return (int)LOCKED(pd, pd_accept_locked(pd, nfd, a, len));
}

static int pd_connect(void *u, int fd, const struct sockaddr *a, socklen_t len)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	return (int)LOCKED(pd, net_connect(nfd, a, len));
}

static ssize_t pd_recvfrom(void *u, int fd, void *buf, size_t len, int flags, struct sockaddr *a,
			   socklen_t *alen)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	return LOCKED(pd, net_recvfrom(nfd, buf, len, flags, a, alen));
}

static ssize_t pd_recv(void *u, int fd, void *buf, size_t len, int flags)
{
	return pd_recvfrom(u, fd, buf, len, flags, NULL, NULL);
}

static ssize_t pd_read(void *u, int fd, void *buf, size_t len)
{
	return pd_recvfrom(u, fd, buf, len, 0, NULL, NULL);
}

/* readv/recvmsg: into one bounce buffer, then scattered (one receive, as
 * the kernel does it). */
static ssize_t pd_recv_iov(void *u, int fd, const struct iovec *iov, int n, int flags,
			   struct sockaddr *a, socklen_t *alen)
{
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	char *b = malloc(total ? total : 1);
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	ssize_t r = pd_recvfrom(u, fd, b, total, flags, a, alen);
	for (ssize_t off = 0, i = 0; r > 0 && off < r && i < n; i++) {
		size_t k = (size_t)(r - off) < iov[i].iov_len ? (size_t)(r - off) : iov[i].iov_len;
		memcpy(iov[i].iov_base, b + off, k);
		off += (ssize_t)k;
	}
	free(b);
	return r;
}

static ssize_t pd_readv(void *u, int fd, const struct iovec *iov, int n)
{
	return pd_recv_iov(u, fd, iov, n, 0, NULL, NULL);
}

static ssize_t pd_recvmsg(void *u, int fd, struct msghdr *m, int flags)
{
	socklen_t alen = m->msg_namelen;
	ssize_t r = pd_recv_iov(u, fd, m->msg_iov, (int)m->msg_iovlen, flags, m->msg_name,
				m->msg_name ? &alen : NULL);
	if (r >= 0) {
		m->msg_namelen = m->msg_name ? alen : 0;
		m->msg_controllen = 0;
		m->msg_flags = 0;
	}
	return r;
}

static ssize_t pd_sendto(void *u, int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *a, socklen_t alen)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	/* MSG_NOSIGNAL: tapstack never raises SIGPIPE */
	return LOCKED(pd, net_sendto(nfd, buf, len, flags & ~MSG_NOSIGNAL, a, alen));
}

static ssize_t pd_send(void *u, int fd, const void *buf, size_t len, int flags)
{
	return pd_sendto(u, fd, buf, len, flags, NULL, 0);
}

static ssize_t pd_write(void *u, int fd, const void *buf, size_t len)
{
	return pd_sendto(u, fd, buf, len, 0, NULL, 0);
}

/* writev/sendmsg: gathered into one send, as one write(2) would be. */
static ssize_t pd_send_iov(void *u, int fd, const struct iovec *iov, int n, int flags,
			   const struct sockaddr *a, socklen_t alen)
{
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	char *b = malloc(total ? total : 1);
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t off = 0, i = 0; i < (size_t)n; i++) {
		memcpy(b + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	ssize_t r = pd_sendto(u, fd, b, total, flags, a, alen);
	free(b);
	return r;
}

static ssize_t pd_writev(void *u, int fd, const struct iovec *iov, int n)
{
	return pd_send_iov(u, fd, iov, n, 0, NULL, 0);
}

static ssize_t pd_sendmsg(void *u, int fd, const struct msghdr *m, int flags)
{
	if (m->msg_controllen) {
		errno = EINVAL; /* no ancillary data (cmsg) in tapstack */
		return -1;
	}
	return pd_send_iov(u, fd, m->msg_iov, (int)m->msg_iovlen, flags, m->msg_name,
			   m->msg_namelen);
}

static long pd_nonblock_get(int nfd)
{
	int v = 0;
	socklen_t len = sizeof(v);
	int r = net_getsockopt(nfd, SOL_SOCKET, SO_NONBLOCK, &v, &len);
	return r < 0 ? r : v;
}

/* fcntl: F_GETFL and F_SETFL's O_NONBLOCK (SO_NONBLOCK underneath). */
static int pd_fcntl(void *u, int fd, int cmd, ...)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	if (cmd == F_GETFL) {
		long v = LOCKED(pd, pd_nonblock_get(nfd));
		return v < 0 ? -1 : (O_RDWR | (v ? O_NONBLOCK : 0));
	}
	if (cmd == F_SETFL) {
		int v = (arg & O_NONBLOCK) != 0;
		return (int)LOCKED(pd, net_setsockopt(nfd, SOL_SOCKET, SO_NONBLOCK, &v, sizeof(v)));
	}
	errno = EINVAL;
	return -1;
}

/* ioctl: net_ioctl's FIONREAD (Linux's SIOCINQ, the same number) and
 * FIONBIO. */
static int pd_ioctl(void *u, int fd, unsigned long req, ...)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	va_list ap;
	va_start(ap, req);
	int *argp = va_arg(ap, int *);
	va_end(ap);
	return (int)LOCKED(pd, net_ioctl(nfd, req, argp));
}

static int pd_close(void *u, int fd)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	pd->netfd[fd] = 0;
	close(fd);
	return (int)LOCKED(pd, net_close(nfd));
}

static int pd_shutdown(void *u, int fd, int how)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	return (int)LOCKED(pd, net_shutdown(nfd, how));
}

static int pd_getsockopt(void *u, int fd, int level, int name, void *val, socklen_t *len)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	return (int)LOCKED(pd, net_getsockopt(nfd, level, name, val, len));
}

static int pd_setsockopt(void *u, int fd, int level, int name, const void *val, socklen_t len)
{
	struct pd *pd = u;
	NETFD(pd, fd);
	return (int)LOCKED(pd, net_setsockopt(nfd, level, name, val, len));
}

/* poll: the placeholder fds become tapstack's for the call. */
static long pd_poll_locked(struct pd *pd, struct pollfd *fds, nfds_t n, int timeout)
{
	struct pollfd *t = calloc(n ? n : 1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (nfds_t i = 0; i < n; i++) {
		t[i] = fds[i];
		t[i].fd = pd_net(pd, fds[i].fd);
		if (t[i].fd < 0)
			t[i].fd = fds[i].fd < 0 ? -1 : INT32_MAX; /* POLLNVAL */
	}
	long r = net_poll(t, n, timeout);
	for (nfds_t i = 0; i < n; i++)
		fds[i].revents = t[i].revents;
	free(t);
	return r;
}

static int pd_poll(void *u, struct pollfd *fds, nfds_t n, int timeout)
{
	struct pd *pd = u;
	return (int)LOCKED(pd, pd_poll_locked(pd, fds, n, timeout));
}

/* ---- the wire and the clock ---------------------------------------------- */

static int pd_netdev_send(void *u, const void *buf, size_t count)
{
	struct pd *pd = u;
	const uint8_t *ip = buf;
	if (count < 1 || count > PKT_LARGE_CAP - ETH_HDR_LEN)
		return -1;
	struct pkt *p = pkt_alloc(count + ETH_HDR_LEN);
	if (!p)
		return -1;
	uint8_t *f = pkt_put(p, count + ETH_HDR_LEN);
	memcpy(f, pd_host_mac, 6);
	memcpy(f + 6, pd_peer_mac, 6);
	be16_put(f + 12, (ip[0] >> 4) == 6 ? ETH_TYPE_IPV6 : ETH_TYPE_IPV4);
	memcpy(f + ETH_HDR_LEN, buf, count);
	pthread_mutex_lock(&pd->lock);
	pd_run_until(pd, pd->now); /* timers due first */
	pktq_push(&pd->dev->inbox, p);
	while (pd->dev->inbox.count)
		stack_poll(&pd->s, pd->now);
	pd_changed(pd);
	pthread_mutex_unlock(&pd->lock);
	return 0;
}

static int pd_netdev_receive(void *u, void *buf, size_t *count, long long *time_usecs)
{
	struct pd *pd = u;
	pthread_mutex_lock(&pd->lock);
	int64_t horizon = pd->now + PD_RECV_HORIZON_US;
	bool handed_off = false;
	for (;;) {
		struct pkt *p = pktq_pop(&pd->dev->out);
		if (p) {
			size_t n = p->len < *count ? p->len : *count;
			memcpy(buf, p->data, n);
			*count = n;
			*time_usecs = PD_EPOCH_US + p->time;
			pkt_free(p);
			break;
		}
		if (!handed_off) {
			pd_handoff(pd);
			handed_off = true;
			continue;
		}
		int64_t d = stack_next_deadline(&pd->s);
		if (d == STACK_NO_DEADLINE || d > horizon) {
			*count = 0; /* the host will send nothing: packetdrill fails the script */
			break;
		}
		pd_run_until(pd, d > pd->now ? d : pd->now + 1);
		handed_off = false;
	}
	pthread_mutex_unlock(&pd->lock);
	return 0;
}

static int pd_usleep(void *u, useconds_t us)
{
	struct pd *pd = u;
	pthread_mutex_lock(&pd->lock);
	pd_handoff(pd);
	pd_run_until(pd, pd->now + us);
	pthread_mutex_unlock(&pd->lock);
	return 0;
}

/* Each look at the clock costs a microsecond: packetdrill spins on
 * gettimeofday for the last few microseconds before an event. */
static int pd_gettimeofday(void *u, struct timeval *tv, struct timezone *tz)
{
	struct pd *pd = u;
	(void)tz;
	pthread_mutex_lock(&pd->lock);
	pd_run_until(pd, pd->now + 1);
	int64_t t = PD_EPOCH_US + pd->now;
	pthread_mutex_unlock(&pd->lock);
	tv->tv_sec = t / 1000000;
	tv->tv_usec = t % 1000000;
	return 0;
}

static int pd_enosys(void)
{
	errno = ENOSYS;
	return -1;
}

static int pd_epoll_create(void *u, int size)
{
	(void)u, (void)size;
	return pd_enosys();
}

static int pd_epoll_ctl(void *u, int epfd, int op, int fd, struct epoll_event *ev)
{
	(void)u, (void)epfd, (void)op, (void)fd, (void)ev;
	return pd_enosys();
}

static int pd_epoll_wait(void *u, int epfd, struct epoll_event *ev, int max, int timeout)
{
	(void)u, (void)epfd, (void)ev, (void)max, (void)timeout;
	return pd_enosys();
}

static int pd_pipe(void *u, int fds[2])
{
	(void)u, (void)fds;
	return pd_enosys();
}

static int pd_splice(void *u, int in, loff_t *oin, int out, loff_t *oout, size_t len,
		     unsigned int flags)
{
	(void)u, (void)in, (void)oin, (void)out, (void)oout, (void)len, (void)flags;
	return pd_enosys();
}

static void pd_free(void *u)
{
	struct pd *pd = u;
	pthread_mutex_lock(&pd->lock);
	pd->closing = true;
	pd_changed(pd);
	bool busy = pd->parked > 0;
	pthread_mutex_unlock(&pd->lock);
	if (busy)
		return; /* a call still blocked (the script ended during it):
			   leave the host to the process's exit */
	net_close_all(&pd->s);
	stack_fini(&pd->s);
	netdev_close(&pd->dev->dev);
	pthread_mutex_destroy(&pd->lock);
	pthread_cond_destroy(&pd->changed);
	free(pd);
}

EXPORT void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
	struct pd *pd = calloc(1, sizeof(*pd));
	if (!pd) {
		fprintf(stderr, "tapstack shim: out of memory\n");
		exit(1);
	}
	pthread_mutex_init(&pd->lock, NULL);
	pd->wake_at = INT64_MAX;
	pthread_cond_init(&pd->changed, NULL);

	struct in_addr local = { 0 }, gw = { 0 };
	inet_pton(AF_INET, "192.168.0.1", &gw);
	if (inet_pton(AF_INET, flags && *flags ? flags : "192.168.0.2", &local) != 1) {
		fprintf(stderr, "tapstack shim: so_flags must be the local IPv4 address, not '%s'\n",
			flags);
		exit(1);
	}
	stack_init(&pd->s, "pd", 1);
	if (getenv("TAPSTACK_PD_TRACE"))
		pd->s.trace = stderr;
	pd->dev = calloc(1, sizeof(*pd->dev));
	if (!pd->dev) {
		fprintf(stderr, "tapstack shim: out of memory\n");
		exit(1);
	}
	pd->dev->dev.ops = &pddev_ops;
	snprintf(pd->dev->dev.name, sizeof(pd->dev->dev.name), "pd0");
	pd->dev->dev.mtu = 1500;
	struct netif *ifp = stack_add_netif(&pd->s, &pd->dev->dev, pd_host_mac);
	ifp->ip6.mld.off = true;
	stack_set_ipv4(&pd->s, ifp, ntohl(local.s_addr), 16);
	stack_set_gateway4(&pd->s, ifp, ntohl(gw.s_addr));
	stack_start(&pd->s, pd->now);
	pktq_purge(&pd->dev->out);
	struct net_driver drv = {
		.wait = pd_wait, .now = pd_now, .interrupted = pd_interrupted, .ctx = pd,
	};
	net_attach(&pd->s, &drv);

	memset(ifc, 0, sizeof(*ifc));
	ifc->userdata = pd;
	ifc->free = pd_free;
	ifc->socket = pd_socket;
	ifc->bind = pd_bind;
	ifc->listen = pd_listen;
	ifc->accept = pd_accept;
	ifc->connect = pd_connect;
	ifc->read = pd_read;
	ifc->readv = pd_readv;
	ifc->recv = pd_recv;
	ifc->recvfrom = pd_recvfrom;
	ifc->recvmsg = pd_recvmsg;
	ifc->write = pd_write;
	ifc->writev = pd_writev;
	ifc->send = pd_send;
	ifc->sendto = pd_sendto;
	ifc->sendmsg = pd_sendmsg;
	ifc->fcntl = pd_fcntl;
	ifc->ioctl = pd_ioctl;
	ifc->close = pd_close;
	ifc->shutdown = pd_shutdown;
	ifc->getsockopt = pd_getsockopt;
	ifc->setsockopt = pd_setsockopt;
	ifc->poll = pd_poll;
	ifc->netdev_send = pd_netdev_send;
	ifc->netdev_receive = pd_netdev_receive;
	ifc->usleep = pd_usleep;
	ifc->gettimeofday = pd_gettimeofday;
	ifc->epoll_create = pd_epoll_create;
	ifc->epoll_ctl = pd_epoll_ctl;
	ifc->epoll_wait = pd_epoll_wait;
	ifc->pipe = pd_pipe;
	ifc->splice = pd_splice;
}

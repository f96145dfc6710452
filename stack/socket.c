/* The socket layer: descriptors and the calls, shared by every protocol.
 * A protocol (ip/udp.c, tcp/tcp_socket.c) implements struct sock_ops, whose
 * calls never wait; this file turns "would wait" (-EAGAIN) into a wait by
 * running the host's driver, the way a kernel puts a process to sleep.
 * net.h is the API, socket.h the pieces protocols share; readiness
 * (net_poll, epoll) is in socket_poll.c, options in socket_opt.c.
 *
 * Call map:
 *   apps -> net_socket, net_bind, net_connect, net_listen, net_accept,
 *           net_sendto, net_send, net_recvfrom, net_recv, net_shutdown,
 *           net_close, net_getsockname, net_getpeername, and the helpers
 *           for apps (net_sockaddr_pton, net_host_of, net_now...)
 *     each -> so->ops (ip/udp.c, tcp/tcp_socket.c): does the work or
 *             answers -EAGAIN, never waits
 *          -> socket_wait_once -> driver.wait (stack/loop.c; the tests'
 *             tests/sim.c): the host runs while the call waits
 *   net_socket -> udp_socket_init (ip/udp.c), tcp_socket_init (tcp/)
 *   host_open (stack/loop.c), tests -> net_attach, net_use_stack
 *   host_close (stack/host.c), tests -> net_close_all
 *   ip/udp.c, tcp/ -> socket_get, socket_alloc, socket_ephemeral_port,
 *           socket_ip_df
 *   socket_poll.c, socket_opt.c -> socket_get, socket_wait_*,
 *           socket_table (socket_internal.h) */
#include "stack/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip/dhcp.h"
#include "ip/ip.h"
#include "ip/ndp.h"
#include "ip/udp.h"
#include "tcp/tcp.h"
#include "stack/socket_internal.h"
#include "stack/stack.h"

struct socket *socket_table[NET_MAX_SOCKETS];
int socket_table_high;              /* no slot used at or above this index, ever */
static int lowest_free;             /* no free slot below this index */
static struct stack *current;       /* host for new sockets */
static struct net_driver driver;    /* how blocking calls wait; wait == NULL: they can't */

void net_attach(struct stack *s, const struct net_driver *d)
{
	current = s;
	if (d)
		driver = *d;
	else
		memset(&driver, 0, sizeof(driver));
}

void net_use_stack(struct stack *s)
{
	current = s;
}

struct stack *socket_current_host(void)
{
	return current;
}

struct socket *socket_get(int fd)
{
	int i = fd - NET_FD_BASE;
	if (i < 0 || i >= NET_MAX_SOCKETS)
		return NULL;
	return socket_table[i];
}

/* ---- addresses ---------------------------------------------------------- */

int sockaddr_to_ip(const struct sockaddr *sa, socklen_t len, int family, struct ipaddr *a,
		   uint16_t *port)
{
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family != family)
		return -EAFNOSUPPORT;
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in sin;
		if (len < (socklen_t)sizeof(sin))
			return -EINVAL;
		memcpy(&sin, sa, sizeof(sin));
		*a = ipaddr_v4(ntohl(sin.sin_addr.s_addr));
		if (sin.sin_addr.s_addr == INADDR_ANY)
			a->family = 0; /* "any address" */
		*port = ntohs(sin.sin_port);
		return 0;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 sin6;
		static const uint8_t any[16];
		if (len < (socklen_t)sizeof(sin6))
			return -EINVAL;
		memcpy(&sin6, sa, sizeof(sin6));
		/* IPV6_V6ONLY behaviour: an IPv4-mapped address (::ffff:0:0/96,
		 * RFC 4291 2.5.5.2) does not reach IPv4 through this socket */
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
		if (memcmp(&sin6.sin6_addr, mapped, sizeof(mapped)) == 0)
			return -EAFNOSUPPORT;
		a->family = AF_INET6;
		memcpy(a->a, &sin6.sin6_addr, 16);
		if (memcmp(a->a, any, 16) == 0)
			a->family = 0;
		*port = ntohs(sin6.sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

void ip_to_sockaddr(const struct ipaddr *a, uint16_t port, int family, struct sockaddr *sa,
		    socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t full;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (a->family == AF_INET6)
			memcpy(&sin6->sin6_addr, a->a, 16);
		full = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = a->family == AF_INET ? htonl(ipaddr_to_v4(a)) : INADDR_ANY;
		full = sizeof(*sin);
	}
	if (sa && len)
		memcpy(sa, &ss, *len < full ? *len : full);
	if (len)
		*len = full;
}

/* RFC 6056 3.3.1 (Algorithm 1, "simple port randomization"): start at a
 * random point of the ephemeral range 49152-65535 (RFC 6335 6) and take the
 * first port that is free. */
uint16_t socket_ephemeral_port(struct stack *s, bool (*in_use)(struct stack *s, uint16_t port))
{
	const uint32_t min = 49152, count = 65536 - 49152;
	uint32_t offset = (uint32_t)rng_below(&s->rng, count);
	for (uint32_t i = 0; i < count; i++) {
		uint16_t port = (uint16_t)(min + (offset + i) % count);
		if (!in_use(s, port))
			return port;
	}
	return 0;
}

enum ip_df socket_ip_df(const struct socket *so)
{
	switch (so->pmtudisc) {
	case IP_PMTUDISC_DONT:
		return IP_DF_DONT;
	case IP_PMTUDISC_DO:
		return IP_DF_DO;
	default:
		return IP_DF_WANT;
	}
}

/* ---- waiting ------------------------------------------------------------ */

/* The absolute deadline for a wait of timeo_us (0: none). */
int64_t socket_wait_deadline(int64_t timeo_us)
{
	if (timeo_us <= 0 || !driver.now)
		return INT64_MAX;
	return driver.now(driver.ctx) + timeo_us;
}

/* Waits once for something to happen, until deadline at most. Returns 0 to
 * try again, or the error to give the caller: -EAGAIN when the deadline has
 * passed (or nothing can make progress: no driver), -EINTR when the program
 * is asked to stop. */
int socket_wait_once(int64_t deadline)
{
	if (!driver.wait)
		return -EAGAIN;
	if (driver.interrupted && driver.interrupted(driver.ctx))
		return -EINTR;
	int64_t now = driver.now(driver.ctx);
	if (now >= deadline)
		return -EAGAIN;
	int64_t max = deadline == INT64_MAX ? 1000000 : deadline - now;
	driver.wait(driver.ctx, max);
	if (driver.interrupted && driver.interrupted(driver.ctx))
		return -EINTR;
	return 0;
}

/* True if a call on so with these flags must not wait. */
static bool no_wait(const struct socket *so, int flags)
{
	return so->nonblock || (flags & MSG_DONTWAIT);
}

/* RFC 4862 5.4: an address in duplicate address detection may not be a
 * source yet. A blocking call that is about to send to dst waits (running
 * the host) while the source it should have is still tentative: at most
 * NET_DAD_WAIT_MS, or SO_SNDTIMEO if shorter; then the call goes on with
 * whatever source there is (or fails with -ENETUNREACH, as a non-blocking
 * one does at once). Returns 0, or -EINTR. */
static int wait_source(struct socket *so, const struct ipaddr *dst, int flags)
{
	if (no_wait(so, flags) || !ip_source_tentative(so->s, dst))
		return 0;
	int64_t timeo = (int64_t)NET_DAD_WAIT_MS * 1000;
	if (so->sndtimeo_us > 0 && so->sndtimeo_us < timeo)
		timeo = so->sndtimeo_us;
	int64_t deadline = socket_wait_deadline(timeo);
	while (ip_source_tentative(so->s, dst)) {
		int w = socket_wait_once(deadline);
		if (w == -EINTR)
			return w;
		if (w < 0)
			break;
	}
	return 0;
}

/* ---- the calls ---------------------------------------------------------- */

/* Takes the lowest free descriptor for so. */
static int fd_alloc(struct socket *so)
{
	for (int i = lowest_free; i < NET_MAX_SOCKETS; i++) {
		if (!socket_table[i]) {
			socket_table[i] = so;
			lowest_free = i + 1;
			if (socket_table_high < i + 1)
				socket_table_high = i + 1;
			so->fd = i + NET_FD_BASE;
			return so->fd;
		}
	}
	return -EMFILE;
}

struct socket *socket_alloc(struct stack *s, int family, int type, int protocol)
{
	struct socket *so = calloc(1, sizeof(*so));
	if (!so)
		return NULL;
	so->family = family;
	so->type = type;
	so->protocol = protocol;
	so->s = s;
	so->linger = -1;
	so->pmtudisc = IP_PMTUDISC_WANT;
	if (fd_alloc(so) < 0) {
		free(so);
		return NULL;
	}
	stats_inc(&s->stats, "socket.opened");
	return so;
}

int socket_alloc_error(void)
{
	return lowest_free >= NET_MAX_SOCKETS ? -EMFILE : -ENOBUFS;
}

int net_socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!current)
		return -ENETDOWN; /* no host: host_open() (or net_attach) first */
	/* An AF_INET6 socket carries IPv6 only, as if IPV6_V6ONLY were set
	 * (RFC 3493 5.3): no IPv4-mapped addresses, so a service that wants
	 * both families opens one socket for each */
	if (domain != AF_INET && domain != AF_INET6)
		return -EAFNOSUPPORT;
	if (base != SOCK_DGRAM && base != SOCK_STREAM)
		return -EINVAL;
	int proto = base == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
	if (protocol != 0 && protocol != proto)
		return -EPROTONOSUPPORT;

	struct socket *so = socket_alloc(current, domain, base, proto);
	if (!so)
		return socket_alloc_error();
	so->nonblock = (type & SOCK_NONBLOCK) != 0;
	int r = base == SOCK_DGRAM ? udp_socket_init(so) : tcp_socket_init(so);
	if (r < 0) {
		net_close(so->fd);
		return r;
	}
	return so->fd;
}

int net_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct socket *so = socket_get(fd);
	struct ipaddr a;
	uint16_t port;
	if (!so)
		return -EBADF;
	int r = sockaddr_to_ip(addr, len, so->family, &a, &port);
	if (r < 0)
		return r;
	if (so->bound)
		return -EINVAL;
	if (!so->ops->bind)
		return -EOPNOTSUPP;
	return so->ops->bind(so, &a, port);
}

int net_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct socket *so = socket_get(fd);
	struct ipaddr a;
	uint16_t port = 0;
	if (!so)
		return -EBADF;
	if (!so->ops->connect)
		return -EOPNOTSUPP;
	if (addr && len >= (socklen_t)sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC) {
		memset(&a, 0, sizeof(a)); /* POSIX: AF_UNSPEC dissolves a UDP association */
	} else {
		int r = sockaddr_to_ip(addr, len, so->family, &a, &port);
		if (r < 0)
			return r;
		if (a.family == 0 || port == 0)
			return -EINVAL; /* nobody to connect to (any address or port 0) */
		int w = wait_source(so, &a, 0);
		if (w < 0)
			return w;
	}
	int r = so->ops->connect(so, &a, port);
	socket_wake(so); /* the calls below that change a socket's state wake it too */
	if (r != -EINPROGRESS || so->nonblock)
		return r;
	/* A blocking stream connect waits for the handshake to finish. */
	int64_t deadline = socket_wait_deadline(so->sndtimeo_us);
	for (;;) {
		short ev = so->ops->poll(so);
		if (so->error) {
			int e = so->error;
			so->error = 0;
			return -e;
		}
		if (ev & POLLOUT)
			return 0;
		if (ev & POLLHUP)
			return -ECONNREFUSED;
		int w = socket_wait_once(deadline);
		if (w < 0)
			return w == -EAGAIN ? -ETIMEDOUT : w;
	}
}

int net_listen(int fd, int backlog)
{
	struct socket *so = socket_get(fd);
	if (!so)
		return -EBADF;
	if (!so->ops->listen)
		return -EOPNOTSUPP;
	if (backlog < 1)
		backlog = 1;
	if (backlog > 4096)
		backlog = 4096;
	socket_wake(so);
	return so->ops->listen(so, backlog);
}

int net_accept(int fd, struct sockaddr *from, socklen_t *fromlen)
{
	struct socket *so = socket_get(fd);
	if (!so)
		return -EBADF;
	if (!so->ops->accept)
		return -EOPNOTSUPP;
	int64_t deadline = socket_wait_deadline(so->rcvtimeo_us);
	for (;;) {
		struct socket *child = NULL;
		int r = so->ops->accept(so, &child);
		if (r == 0) {
			if (from || fromlen)
				ip_to_sockaddr(&child->raddr, child->rport, child->family, from, fromlen);
			return child->fd;
		}
		if (r != -EAGAIN || so->nonblock)
			return r;
		int w = socket_wait_once(deadline);
		if (w < 0)
			return w;
	}
}

int net_shutdown(int fd, int how)
{
	struct socket *so = socket_get(fd);
	if (!so)
		return -EBADF;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (!so->ops->shutdown)
		return -EOPNOTSUPP;
	socket_wake(so); /* SHUT_RD makes it readable (end of stream) */
	return so->ops->shutdown(so, how);
}

int net_ioctl(int fd, unsigned long req, int *arg)
{
	struct socket *so = socket_get(fd);
	if (!so)
		return -EBADF;
	if (!arg)
		return -EFAULT;
	if (req == FIONBIO) {
		so->nonblock = *arg != 0;
		return 0;
	}
	if (req != FIONREAD || !so->ops->readable)
		return -ENOTTY;
	ssize_t n = so->ops->readable(so);
	if (n < 0)
		return (int)n;
	*arg = n > INT_MAX ? INT_MAX : (int)n;
	return 0;
}

ssize_t net_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		   socklen_t tolen)
{
	struct socket *so = socket_get(fd);
	struct ipaddr a;
	uint16_t port = 0;
	if (!so)
		return -EBADF;
	if (!buf && len)
		return -EFAULT;
	if (to) {
		int r = sockaddr_to_ip(to, tolen, so->family, &a, &port);
		if (r < 0)
			return r;
		if (a.family == 0 || port == 0)
			return -EINVAL;
		if (so->type != SOCK_STREAM) {
			int w = wait_source(so, &a, flags);
			if (w < 0)
				return w;
		}
	}
	int64_t deadline = socket_wait_deadline(so->sndtimeo_us);
	size_t done = 0;
	for (;;) {
		ssize_t r = so->ops->sendto(so, (const uint8_t *)buf + done, len - done, flags,
					    to ? &a : NULL, port);
		if (so->type != SOCK_STREAM) {
			if (r != -EAGAIN || no_wait(so, flags))
				return r;
		} else {
			/* A stream send returns once every byte is queued (or it
			 * cannot wait, or an error ends it: then what was queued). */
			if (r > 0)
				done += (size_t)r;
			if (done == len && (r >= 0 || len == 0))
				return (ssize_t)done;
			if (r < 0 && r != -EAGAIN)
				return done ? (ssize_t)done : r;
			if (no_wait(so, flags))
				return done ? (ssize_t)done : -EAGAIN;
		}
		int w = socket_wait_once(deadline);
		if (w < 0)
			return done ? (ssize_t)done : w;
	}
}

ssize_t net_send(int fd, const void *buf, size_t len, int flags)
{
	return net_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t net_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
		     socklen_t *fromlen)
{
	struct socket *so = socket_get(fd);
	if (!so)
		return -EBADF;
	if (!buf && len)
		return -EFAULT;
	int64_t deadline = socket_wait_deadline(so->rcvtimeo_us);
	for (;;) {
		struct ipaddr a;
		uint16_t port = 0;
		ssize_t r = so->ops->recvfrom(so, buf, len, flags, &a, &port);
		if (r >= 0) {
			if (from || fromlen)
				ip_to_sockaddr(&a, port, so->family, from, fromlen);
			return r;
		}
		if (r != -EAGAIN || no_wait(so, flags))
			return r;
		int w = socket_wait_once(deadline);
		if (w < 0)
			return w;
	}
}

ssize_t net_recv(int fd, void *buf, size_t len, int flags)
{
	return net_recvfrom(fd, buf, len, flags, NULL, NULL);
}

int net_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct socket *so = socket_get(fd);
	if (!so)
		return -EBADF;
	if (!len)
		return -EINVAL;
	ip_to_sockaddr(&so->laddr, so->lport, so->family, addr, len);
	return 0;
}

int net_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct socket *so = socket_get(fd);
	if (!so)
		return -EBADF;
	if (!so->connected)
		return -ENOTCONN;
	if (!len)
		return -EINVAL;
	ip_to_sockaddr(&so->raddr, so->rport, so->family, addr, len);
	return 0;
}

int net_close(int fd)
{
	struct socket *so = socket_get(fd);
	if (!so)
		return -EBADF;
	if (so->ep)
		socket_epoll_leave(so); /* closing takes it out of its set, as epoll(7) */
	/* no ops yet: net_socket closing a socket whose protocol could not
	 * set it up (its control block not allocated) */
	if (so->ops && so->ops->close)
		so->ops->close(so);
	pktq_purge(&so->rxq);
	stats_inc(&so->s->stats, "socket.closed");
	int i = fd - NET_FD_BASE;
	socket_table[i] = NULL;
	if (i < lowest_free)
		lowest_free = i;
	free(so);
	return 0;
}

void net_close_all(struct stack *s)
{
	for (int i = 0; i < NET_MAX_SOCKETS; i++)
		if (socket_table[i] && socket_table[i]->s == s)
			net_close(i + NET_FD_BASE);
	if (current == s)
		current = NULL;
}

/* ---- helpers for apps --------------------------------------------------- */

int net_family_available(int family)
{
	if (!current)
		return 0;
	for (int i = 0; i < current->nifs; i++) {
		if (family == AF_INET && current->ifs[i].ip4 != 0)
			return 1;
		if (family == AF_INET6 && current->ifs[i].ip6.on)
			return 1;
	}
	return 0;
}

/* True if an IPv6 address of the current host is still tentative. */
static bool ipv6_tentative(void)
{
	for (int i = 0; current && i < current->nifs; i++)
		for (int k = 0; current->ifs[i].ip6.on && k < NDP_IF_ADDRS; k++)
			if (current->ifs[i].ip6.addr[k].state == IP6_ADDR_TENTATIVE)
				return true;
	return false;
}

int net_wait_ipv6_ready(int timeout_ms)
{
	int64_t deadline = socket_wait_deadline((int64_t)timeout_ms * 1000);
	while (ipv6_tentative()) {
		int w = socket_wait_once(deadline);
		if (w < 0)
			return w == -EAGAIN ? -ETIMEDOUT : w;
	}
	return 0;
}

struct stack *net_host_of(int fd)
{
	struct socket *so = socket_get(fd);
	return so ? so->s : NULL;
}

int64_t net_now(const struct stack *s)
{
	return s->now;
}

uint32_t net_random(struct stack *s)
{
	return (uint32_t)rng_next(&s->rng);
}

void net_count(struct stack *s, const char *name)
{
	if (s)
		stats_inc(&s->stats, name);
}

int net_default_gateway(struct stack *s, struct sockaddr_in *gw)
{
	struct ipaddr any = ipaddr_v4(0);
	const struct route *r = route_lookup(&s->routes, &any);
	if (!r || r->len != 0 || r->gw.family != AF_INET)
		return -ENETUNREACH;
	*gw = (struct sockaddr_in){ .sin_family = AF_INET };
	memcpy(&gw->sin_addr, r->gw.a, 4); /* struct ipaddr holds it in network order */
	return 0;
}

int net_dns_server(struct stack *s, struct sockaddr_in *dns)
{
	uint32_t a = dhcp_dns_server(s);
	if (!a)
		return net_default_gateway(s, dns);
	*dns = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(a) };
	return 0;
}

int net_sockaddr_pton(const char *addr, uint16_t port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(addr);

	memset(ss, 0, sizeof(*ss));
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, addr + 1, n - 2);
		buf[n - 2] = 0;
		addr = buf;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (addr != buf && inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

const char *net_sockaddr_ntop(const struct sockaddr *sa, int with_port, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	const char *with = "%s:%u";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		port = ntohs(s6->sin6_port);
		with = "[%s]:%u"; /* RFC 3986 3.2.2: an IPv6 address in brackets */
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		port = ntohs(s4->sin_port);
	}
	if (with_port)
		snprintf(buf, len, with, ip, port);
	else
		snprintf(buf, len, "%s", ip);
	return buf;
}

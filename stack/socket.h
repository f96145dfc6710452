/* Inside the socket layer: the socket structure shared by the socket layer
 * (stack/socket.c: descriptors and blocking; socket_poll.c: poll and epoll;
 * socket_opt.c: options) and each protocol (ip/udp.c, tcp/). Apps use
 * stack/net.h, never this; what only the three socket files share is in
 * stack/socket_internal.h. */
#ifndef TAPSTACK_SOCKET_H
#define TAPSTACK_SOCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ip/addr.h"
#include "ip/ipv4.h" /* enum ip_df */
#include "stack/net.h"
#include "stack/pkt.h"

struct socket;
struct epoll_set;
struct stack;

/* What a protocol implements. Every operation is non-blocking: it returns
 * -EAGAIN when it would have to wait, and the socket layer waits (runs the
 * driver) and tries again, according to the socket's blocking mode and
 * timeouts. Addresses arrive already checked and converted. NULL means
 * -EOPNOTSUPP. */
struct sock_ops {
	/* Binds to laddr:lport (family 0 address = any; lport 0 = ephemeral). */
	int (*bind)(struct socket *so, const struct ipaddr *laddr, uint16_t lport);
	/* Connects to raddr:rport (raddr family 0 = dissolve, UDP only). */
	int (*connect)(struct socket *so, const struct ipaddr *raddr, uint16_t rport);
	/* Sends; to == NULL means the connected peer. Returns bytes or -errno. */
	ssize_t (*sendto)(struct socket *so, const uint8_t *buf, size_t len, int flags,
			  const struct ipaddr *to, uint16_t tport);
	/* Receives into buf; fills from/fport when not NULL. */
	ssize_t (*recvfrom)(struct socket *so, uint8_t *buf, size_t len, int flags,
			    struct ipaddr *from, uint16_t *fport);
	/* The events that are true now: POLLIN, POLLOUT, POLLERR, POLLHUP. */
	short (*poll)(struct socket *so);
	/* Releases the protocol's state (unhashes, frees queued data). */
	void (*close)(struct socket *so);
	/* Stream sockets. listen: start accepting (backlog >= 1). accept:
	 * take one established connection, returned as a new socket made with
	 * socket_alloc (-EAGAIN if none yet). shutdown: SHUT_RD, SHUT_WR or
	 * SHUT_RDWR. */
	int (*listen)(struct socket *so, int backlog);
	int (*accept)(struct socket *so, struct socket **child);
	int (*shutdown)(struct socket *so, int how);
	/* Options of the protocol (IPPROTO_TCP level, and SOL_SOCKET ones it
	 * handles itself: SO_KEEPALIVE, SO_LINGER). -ENOPROTOOPT: not its own,
	 * the socket layer handles it. NULL: none. */
	int (*setsockopt)(struct socket *so, int level, int name, const void *val, socklen_t len);
	int (*getsockopt)(struct socket *so, int level, int name, void *val, socklen_t *len);
	/* FIONREAD: the bytes a receive would return now (a stream's queued
	 * bytes, the next datagram's length), or -errno. NULL: -ENOTTY. */
	ssize_t (*readable)(struct socket *so);
};

struct socket {
	int fd;
	int family;               /* AF_INET or AF_INET6 */
	int type;                 /* SOCK_DGRAM or SOCK_STREAM */
	int protocol;             /* IPPROTO_UDP or IPPROTO_TCP */
	struct stack *s;          /* the host it lives on */
	const struct sock_ops *ops;

	struct ipaddr laddr;      /* local address; family 0 = any */
	uint16_t lport;           /* local port, host order; 0 = not bound */
	struct ipaddr raddr;      /* connected peer; family 0 = none */
	uint16_t rport;
	bool bound, connected;

	int error;                /* pending error (positive errno), for SO_ERROR */
	bool nonblock;
	bool reuseaddr;
	bool listening;           /* TCP: listen() was called */
	bool ep_listed;           /* on its epoll set's candidate list (below) */
	uint8_t pmtudisc;         /* IP_MTU_DISCOVER (UDP over IPv4): IP_PMTUDISC_DONT,
				     _WANT (the default, as Linux's) or _DO */
	int linger;               /* SO_LINGER: -1 off, else seconds (0 = abort with RST on close) */
	uint32_t ep_events;       /* epoll: the events it waits for (below) */
	int64_t rcvtimeo_us;      /* 0 = wait forever */
	int64_t sndtimeo_us;
	size_t rcvbuf, sndbuf;    /* bytes */

	struct pkt_queue rxq;     /* UDP: datagrams waiting, p->data at the payload */
	struct socket *hash_next; /* link in the protocol's demultiplexing table */
	void *proto;              /* the protocol's own state (TCP: its control block) */

	/* epoll (net_epoll_*): the set this socket is registered in (NULL:
	 * none), what it waits for and the caller's data; and its link in the
	 * set's list of candidates, the sockets to check at the next wait
	 * (ep_listed: it is on that list). An epoll set is itself a
	 * descriptor: a socket whose ops are the set's and proto the set. */
	struct epoll_set *ep;
	union net_epoll_data ep_data;
	struct socket *ep_prev, *ep_next;
};

/* Something happened to so that may change what its ops->poll answers:
 * data queued for reading, send space freed, a connection established,
 * closed or reset, an error set, a child ready on a listener. Protocols
 * call it at every such point; it costs next to nothing when so is in no
 * epoll set or already listed. A wake too many costs one poll check at
 * the next net_epoll_wait; a wake missed leaves an app waiting for an
 * event that came (a hung connection), so call it generously. */
void socket_wake_slow(struct socket *so);
static inline void socket_wake(struct socket *so)
{
	if (so && so->ep && !so->ep_listed)
		socket_wake_slow(so);
}

/* For tests: the sockets of set epfd that are ready (for what they are
 * registered) but not listed as candidates, so the next wait would miss
 * them: a wake that a protocol failed to make. 0 when all is well. Costs a
 * pass over every descriptor. -EINVAL if epfd is not a set. */
int socket_epoll_missed(int epfd);

/* The Don't Fragment choice for what the socket sends over IPv4
 * (ip/ipv4.h), from IP_MTU_DISCOVER. */
enum ip_df socket_ip_df(const struct socket *so);

/* The socket behind a descriptor, or NULL. */
struct socket *socket_get(int fd);

/* A new socket with a descriptor, on host s, with the defaults of
 * net_socket (the caller sets ops and state). NULL if no descriptor or
 * memory is left. TCP's accept makes its child sockets with it. */
struct socket *socket_alloc(struct stack *s, int family, int type, int protocol);

/* Picks an unused ephemeral port for proto on host s (RFC 6056 3.3.1,
 * "Algorithm 1": random start in 49152-65535, then the next free one), using
 * in_use(s, port) to test. Returns the port, or 0 if all are taken. */
uint16_t socket_ephemeral_port(struct stack *s, bool (*in_use)(struct stack *s, uint16_t port));

/* Converts a sockaddr of the socket's family to an address and a host-order
 * port. Returns 0, -EINVAL (too short), -EAFNOSUPPORT (another family). */
int sockaddr_to_ip(const struct sockaddr *sa, socklen_t len, int family, struct ipaddr *a,
		   uint16_t *port);

/* Writes a and port as a sockaddr_in/in6 into sa (at most *len bytes, as
 * getsockname(2) does) and sets *len to the full size. */
void ip_to_sockaddr(const struct ipaddr *a, uint16_t port, int family, struct sockaddr *sa,
		    socklen_t *len);

#endif

/* The socket API of tapstack: what an app includes.
 *
 * It works like BSD sockets (socket(2), bind(2), sendto(2), poll(2)...), with
 * three differences:
 *   - the calls are named net_*, and the descriptors they return are
 *     tapstack's own, not the kernel's (don't pass them to read() or close());
 *   - errors come back as negative errno values (-EAGAIN, -ECONNREFUSED...)
 *     instead of -1 and errno;
 *   - a call that has to wait (a blocking net_recvfrom, net_poll with a
 *     timeout) runs the host's event loop while it waits, so the stack keeps
 *     answering ARP and pings meanwhile. There are no threads.
 *
 * A UDP echo client, in full:
 *
 *     #include "stack/host.h"
 *     #include "stack/net.h"
 *
 *     int main(int argc, char **argv)
 *     {
 *             struct host h;  ... host_open(&h, &opts, err, sizeof err) ...
 *             int fd = net_socket(AF_INET, SOCK_DGRAM, 0);
 *             struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7) };
 *             inet_pton(AF_INET, "10.0.0.1", &to.sin_addr);
 *             net_sendto(fd, "hello", 5, 0, (struct sockaddr *)&to, sizeof to);
 *             char buf[100];
 *             ssize_t n = net_recv(fd, buf, sizeof buf, 0);  // waits, the stack runs
 *             if (n < 0) printf("error: %s\n", strerror((int)-n));
 *             net_close(fd);
 *             host_close(&h);
 *     }
 *
 * host_open() attaches the sockets to that host; apps/udpcat.c is a complete
 * example to read first.
 *
 * Addresses are the standard struct sockaddr_in / sockaddr_in6 with
 * socklen_t lengths, ports and addresses in network byte order, as usual.
 *
 * IPv6: an AF_INET6 socket takes struct sockaddr_in6 everywhere (in6addr_any
 * is the wildcard) and carries IPv6 only, as if IPV6_V6ONLY were 1 (RFC 3493
 * 5.3): it never sees IPv4 traffic, and IPv4-mapped addresses (::ffff:a.b.c.d)
 * give -EAFNOSUPPORT. A service that answers both families opens one socket
 * per family; both may bind the same port. sin6_scope_id and sin6_flowinfo
 * are ignored (a host has one link) and returned as 0. */
#ifndef TAPSTACK_NET_H
#define TAPSTACK_NET_H

#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct stack;

/* Largest number of sockets open at once in one process. */
#define NET_MAX_SOCKETS 16384
/* The first descriptor number (0-2 are left alone, so a descriptor is never
 * mistaken for stdin, stdout or stderr in a printout). */
#define NET_FD_BASE 3

/* TCP_NODELAY (level IPPROTO_TCP), as in <netinet/tcp.h>; defined here so
 * an app need not include that header. */
#ifndef TCP_NODELAY
#define TCP_NODELAY 1
#endif
#define TCP_TRACE_FILE 0x7470 /* char[]: tapstack's own: this connection's --tcp-trace rows go to that file */
#ifndef TCP_MAXSEG
#define TCP_MAXSEG 2         /* int, get: the payload bytes per segment sent (as Linux) */
#endif
#ifndef TCP_CONGESTION
#define TCP_CONGESTION 13    /* char[]: the congestion control, "cubic", "newreno" or "reno" */
#endif

/* Extra socket options at level SOL_SOCKET. */
#define SO_NONBLOCK 0x5401   /* int: 1 = calls never wait (as O_NONBLOCK with fcntl) */

/* Creates a socket: domain AF_INET or AF_INET6, type SOCK_DGRAM (UDP)
 * or SOCK_STREAM (TCP), optionally ORed with SOCK_NONBLOCK; protocol 0 or
 * the type's own (IPPROTO_UDP, IPPROTO_TCP). Returns the descriptor, or
 * -EAFNOSUPPORT, -EPROTONOSUPPORT, -EINVAL, -EMFILE, -ENOBUFS. */
int net_socket(int domain, int type, int protocol);

/* Gives the socket a local address and port. Port 0 picks an ephemeral
 * port (RFC 6056: random in 49152-65535); address 0.0.0.0 means any of the
 * host's. Returns 0, -EADDRINUSE (another socket has it and SO_REUSEADDR is
 * not set on both), -EADDRNOTAVAIL (not one of our addresses), -EINVAL
 * (already bound), -EBADF, -EAFNOSUPPORT. */
int net_bind(int fd, const struct sockaddr *addr, socklen_t len);

/* UDP: fixes the peer, so net_send/net_recv can be used, only datagrams from
 * it are received, and errors about it (port unreachable) are reported as
 * -ECONNREFUSED by the next call. Binds an ephemeral port first if needed.
 * AF_UNSPEC dissolves the association.
 * TCP: opens the connection (three-way handshake), waiting until it is
 * established unless non-blocking (then -EINPROGRESS; poll for POLLOUT and
 * read SO_ERROR). Errors: -ECONNREFUSED (RST), -ETIMEDOUT, -EISCONN,
 * -EALREADY. Returns 0 or a negative errno. */
int net_connect(int fd, const struct sockaddr *addr, socklen_t len);

/* UDP: sends one datagram of len bytes to the address to (or to the
 * connected peer when to is NULL). Returns len, or -EMSGSIZE (larger than a
 * UDP datagram can be, or DF and over the MTU), -EDESTADDRREQ, -EISCONN,
 * -ENETUNREACH, -ECONNREFUSED (pending error), -EAGAIN, -EBADF...
 * TCP: queues bytes for sending; a blocking call returns when all len bytes
 * are queued, a non-blocking one queues what fits (-EAGAIN if nothing).
 * -EPIPE after shutdown(SHUT_WR) or once the connection is gone,
 * -ECONNRESET, -ETIMEDOUT, -ENOTCONN. */
ssize_t net_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		   socklen_t tolen);
ssize_t net_send(int fd, const void *buf, size_t len, int flags);

/* UDP: receives one datagram into buf (at most len bytes: the rest of a
 * longer datagram is discarded, as recv(2) does; MSG_TRUNC in flags returns
 * the real length). from/fromlen get the sender (may be NULL). Waits unless
 * the socket is non-blocking or MSG_DONTWAIT is given (then -EAGAIN), up
 * to SO_RCVTIMEO (then -EAGAIN). MSG_PEEK leaves the datagram queued.
 * A pending error (-ECONNREFUSED) is returned once and cleared.
 * TCP: receives up to len bytes of the stream (waiting for at least one);
 * 0 means the peer closed its side (end of stream). -ECONNRESET,
 * -ETIMEDOUT when the connection died. */
ssize_t net_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
		     socklen_t *fromlen);
ssize_t net_recv(int fd, void *buf, size_t len, int flags);

/* Closes the socket. UDP: its queued data is freed. TCP: a graceful close
 * (the data still queued is sent, then FIN) that goes on after the call
 * returns; with SO_LINGER {1, 0} the connection is aborted with a RST
 * instead. Returns 0 or -EBADF. */
int net_close(int fd);

/* TCP: accept connections on a bound socket (port 0: an ephemeral one), at
 * most backlog waiting to be accepted. Returns 0, -EOPNOTSUPP (UDP),
 * -EINVAL, -EADDRINUSE. */
int net_listen(int fd, int backlog);

/* TCP: takes the next established connection from a listening socket,
 * waiting unless non-blocking (-EAGAIN). Returns the new descriptor and
 * fills from/fromlen with the peer. */
int net_accept(int fd, struct sockaddr *from, socklen_t *fromlen);

/* TCP: SHUT_WR sends FIN once the queued data is out (half-close); SHUT_RD
 * makes further receives return 0; SHUT_RDWR both. Returns 0, -ENOTCONN. */
int net_shutdown(int fd, int how);

/* Like ioctl(2) on a socket, for two requests of <sys/ioctl.h>: FIONREAD
 * (Linux's SIOCINQ) puts in *arg the bytes a receive would return now (TCP:
 * the bytes queued in order, 0 at end of stream; UDP: the next datagram's
 * length, 0 if none); FIONBIO sets non-blocking mode from *arg (as
 * SO_NONBLOCK). Returns 0, -EBADF, -EFAULT (arg NULL), -EINVAL (FIONREAD
 * on a listening socket, as Linux), -ENOTTY (another request). */
int net_ioctl(int fd, unsigned long req, int *arg);

/* Like poll(2) over tapstack descriptors: sets revents (POLLIN: a datagram,
 * stream data, the peer's FIN or a connection to accept is there; POLLOUT: a
 * send would not wait; POLLERR: a pending error; POLLHUP: the connection is
 * closed both ways; POLLNVAL: not a descriptor). timeout_ms < 0 waits forever,
 * 0 not at all. Returns the number of entries with events, 0 on timeout,
 * -EINTR if the program was asked to stop (SIGINT/SIGTERM) while waiting. */
int net_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);

/* ---- A readiness set, like Linux's epoll(7) ----------------------------
 *
 * net_poll asks every descriptor it is given whether it is ready, so a
 * server with 10,000 open connections pays 10,000 questions on every turn
 * of its loop even when one connection is busy and the rest are idle. An
 * epoll set turns that around: the descriptors are registered once, and
 * the stack itself notes a socket whenever something happens to it that
 * can change its poll answer (data queued, send space freed, a connection
 * established, closed or reset, a child waiting on a listener...).
 * net_epoll_wait then asks only the sockets noted since (and those still
 * ready from last time): its cost follows the activity, not the number
 * registered.
 *
 *     int ep = net_epoll_create();
 *     struct net_epoll_event ev = { .events = POLLIN, .data.fd = lfd };
 *     net_epoll_ctl(ep, NET_EPOLL_CTL_ADD, lfd, &ev);
 *     for (;;) {
 *             struct net_epoll_event got[64];
 *             int n = net_epoll_wait(ep, got, 64, -1);
 *             for (int i = 0; i < n; i++)
 *                     serve(got[i].data.fd, got[i].events);
 *     }
 *
 * Level-triggered, as epoll without EPOLLET: a descriptor is reported at
 * every wait while it is ready (data left unread is reported again). The
 * events are poll's (POLLIN, POLLOUT; POLLERR and POLLHUP are always
 * reported, asked or not). A socket belongs to one set at most (another
 * set's ADD gives -EBUSY; Linux allows several, tapstack keeps it simple).
 * Closing a socket takes it out of its set; closing the set (net_close)
 * lets go of its sockets. */
union net_epoll_data {
	void *ptr;
	int fd;
	uint32_t u32;
	uint64_t u64;
};

struct net_epoll_event {
	uint32_t events;           /* POLLIN, POLLOUT, POLLERR, POLLHUP */
	union net_epoll_data data; /* the caller's, given back as it was registered */
};

#define NET_EPOLL_CTL_ADD 1
#define NET_EPOLL_CTL_DEL 2
#define NET_EPOLL_CTL_MOD 3

/* A new empty set, as a descriptor (net_close closes it). Returns it, or
 * -EMFILE, -ENOBUFS, -ENETDOWN (no host). */
int net_epoll_create(void);

/* ADD registers fd with ev (events of interest and data), MOD changes
 * them, DEL takes fd out (ev may be NULL). After ADD and MOD the socket is
 * checked at the next wait, so one already ready is reported at once.
 * Returns 0, -EBADF (epfd or fd not a descriptor), -EINVAL (epfd not a
 * set, fd a set, or a bad op), -EEXIST (ADD: already in this set), -EBUSY
 * (ADD: in another set), -ENOENT (MOD, DEL: not in this set). */
int net_epoll_ctl(int epfd, int op, int fd, const struct net_epoll_event *ev);

/* Waits, at most timeout_ms (< 0 forever, 0 not at all), until some
 * registered descriptor is ready, and fills events with up to max of them
 * (the events that are true, masked by the interest, plus POLLERR and
 * POLLHUP). More than max ready: the rest come at the next call (those
 * reported go to the back of the line, so none is starved). Returns how
 * many, 0 on timeout, -EINTR (asked to stop), -EBADF, -EINVAL. */
int net_epoll_wait(int epfd, struct net_epoll_event *events, int max, int timeout_ms);

/* Socket options at level SOL_SOCKET: SO_RCVBUF, SO_SNDBUF (int, bytes),
 * SO_REUSEADDR (int), SO_NONBLOCK (int), SO_RCVTIMEO and SO_SNDTIMEO
 * (struct timeval; zero = wait forever), SO_ERROR (get: the pending error,
 * cleared), SO_TYPE (get); TCP also SO_KEEPALIVE (int), SO_LINGER (struct
 * linger). Level IPPROTO_TCP: TCP_NODELAY (int: 1 turns Nagle off),
 * TCP_MAXSEG (int, get only: the payload bytes per segment this side sends,
 * the peer's MSS less the timestamp option when it is on, as Linux; 536
 * before the connection is synchronized),
 * TCP_CONGESTION (the algorithm's name, as Linux: "cubic", "newreno", "reno";
 * -ENOENT for another); TCP_TRACE_FILE (tapstack's own, set only: a file
 * name; the --tcp-trace CSV rows of this connection, or of every
 * connection a listener accepts, are appended there, the header first if
 * the file is empty; an empty name stops them; -errno if it cannot be
 * opened). Level IPPROTO_IP on an AF_INET UDP socket: IP_MTU_DISCOVER
 * (int, as Linux's): IP_PMTUDISC_WANT (the default: Don't Fragment set on
 * a datagram that fits the path MTU, a larger one sent in fragments),
 * IP_PMTUDISC_DONT (never DF), IP_PMTUDISC_DO (always DF: a datagram
 * larger than the path MTU gives -EMSGSIZE); PROBE, INTERFACE and OMIT
 * give -EOPNOTSUPP, as does setting it on a TCP socket (TCP always sends
 * as WANT). Level IPPROTO_IPV6 on an AF_INET6 socket:
 * IPV6_V6ONLY (int) is always 1; setting 0 gives -EOPNOTSUPP.
 * Returns 0, -ENOPROTOOPT, -EINVAL, -EBADF. */
int net_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int net_getsockopt(int fd, int level, int name, void *val, socklen_t *len);

/* The socket's local address, and its connected peer (-ENOTCONN if none). */
int net_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int net_getpeername(int fd, struct sockaddr *addr, socklen_t *len);

/* ---- Helpers for apps that take either family ------------------------- */

/* 1 if the host that new sockets go to has family: AF_INET with an IPv4
 * address, AF_INET6 with IPv6 on (a service opens its AF_INET6 sockets only
 * then). 0 otherwise, or with no host. */
int net_family_available(int family);

/* A new IPv6 address is tentative for about a second (RFC 4862 5.4:
 * duplicate address detection, one probe and RetransTimer, 1 s) and may not
 * be a source until then; host_open returns at once all the same (it does
 * not wait: an IPv4 program or a server would pay that second at every
 * start for nothing, and a SLAAC address only comes later, with an RA).
 * Instead a blocking net_connect, net_sendto or UDP net_send to an IPv6
 * destination waits, as it waits for neighbor discovery, while the source
 * it should have is tentative: at most NET_DAD_WAIT_MS (or SO_SNDTIMEO if
 * shorter), then it goes on with the source there is. So a hand-written
 * blocking client needs nothing. A non-blocking socket (and
 * MSG_DONTWAIT) does not wait: while the only address is tentative its
 * connect or sendto fails with -ENETUNREACH (as Linux without optimistic
 * DAD, RFC 4429, which this stack does not do); such a program calls
 * net_wait_ipv6_ready first. */
#define NET_DAD_WAIT_MS 3000

/* Waits (running the host, at most timeout_ms) until none of its IPv6
 * addresses is still tentative (see above). Returns 0, or -ETIMEDOUT /
 * -EINTR. */
int net_wait_ipv6_ready(int timeout_ms);

/* Parses a literal address of either family ("10.0.0.2", "fd00::2", also
 * "[fd00::2]") with port into *ss and *len. Returns 0 or -EINVAL. */
int net_sockaddr_pton(const char *addr, uint16_t port, struct sockaddr_storage *ss,
		      socklen_t *len);

/* The text of sa: "10.0.0.1:5000", "[fd00::1]:5000" (IPv6 in brackets, as
 * in URLs, RFC 3986 3.2.2), or without the port when with_port is 0.
 * Returns buf. len NET_ADDRSTRLEN is always enough. */
#define NET_ADDRSTRLEN (INET6_ADDRSTRLEN + 8)
const char *net_sockaddr_ntop(const struct sockaddr *sa, int with_port, char *buf, size_t len);

/* ---- The host behind the sockets --------------------------------------
 *
 * An app reaches its host through its sockets only. A protocol written as
 * an app, like the DNS client (apps/lib/dns_query.c), needs a few things
 * more of that host: its clock, its random generator, its counters and its
 * default gateway. These calls give them, so such an app includes net.h
 * and nothing of the stack's insides. The host is a handle, struct stack *,
 * that the app passes back and never looks into. */

/* The host that descriptor fd's socket lives on, or NULL if fd is not a
 * descriptor. The handle stays valid after fd is closed (while the host
 * is open). */
struct stack *net_host_of(int fd);

/* The host's clock, in microseconds: the time of the work it is doing
 * now, the clock its own timers run on (virtual time in simulated tests).
 * An app's deadlines that go with the host's events are taken on it. */
int64_t net_now(const struct stack *s);

/* 32 bits from the host's random generator (seeded per host, so a
 * simulated run repeats): for values an attacker must not guess, such as
 * a DNS query's id (RFC 5452 9.2). */
uint32_t net_random(struct stack *s);

/* Adds 1 to the host's counter called name, shown among the stack's own
 * by the control socket's "stats". name must outlive the host: a string
 * literal. s NULL: nothing. */
void net_count(struct stack *s, const char *name);

/* The gateway of the host's IPv4 default route (0.0.0.0/0) into *gw
 * (sin_family AF_INET, port 0). Returns 0, or -ENETUNREACH when the route
 * that 0.0.0.0 matches is not a default route with a gateway. */
int net_default_gateway(struct stack *s, struct sockaddr_in *gw);

/* The IPv4 DNS server the host was told of (DHCP option 6, ip/dhcp.h) into
 * *dns (port 0), else its default gateway's address as
 * net_default_gateway gives it. Returns 0 or -ENETUNREACH. */
int net_dns_server(struct stack *s, struct sockaddr_in *dns);

/* ---- Connecting the sockets to a host -------------------------------- */

/* How a blocking call waits: wait() lets time pass and the host(s) work,
 * for at most max_wait_us (it may return early, e.g. when a frame came);
 * now() tells the current time. host_open() installs the real-time driver;
 * simulated tests install one that advances virtual time for two stacks.
 * interrupted() (may be NULL) says the program should stop. */
struct net_driver {
	void (*wait)(void *ctx, int64_t max_wait_us);
	int64_t (*now)(void *ctx);
	int (*interrupted)(void *ctx);
	void *ctx;
};

/* Makes s the host that net_socket() creates sockets on, and d the way
 * blocking calls wait (copied). Sockets already created keep their host. */
void net_attach(struct stack *s, const struct net_driver *d);

/* Changes only the host for new sockets (simulated tests with two hosts). */
void net_use_stack(struct stack *s);

/* Closes every socket of host s (host_close and tests call it). */
void net_close_all(struct stack *s);

#endif

/* Readiness: which sockets can be read or written without waiting.
 *
 *   net_poll       asks every descriptor it is given (ops->poll), waits
 *                  (running the host) until one is ready or the time is up;
 *   an epoll set   a readiness list: the protocols note each socket that
 *                  something happened to (socket_wake), and net_epoll_wait
 *                  asks only those (see "epoll: a readiness list" below).
 *
 * Call map:
 *   apps -> net_poll, net_epoll_create, net_epoll_ctl, net_epoll_wait
 *     each -> so->ops->poll (ip/udp.c, tcp/tcp_socket.c): what is true now
 *          -> socket_wait_once (socket.c): the host runs while it waits
 *   ip/udp.c, tcp/ -> socket_wake (socket.h) -> socket_wake_slow: lists a
 *           socket as a candidate of its set
 *   net_close (socket.c) -> socket_epoll_leave; closing a set -> epoll_so_close
 *   tests/check_epoll.c -> socket_epoll_missed */
#include <errno.h>
#include <stdlib.h>

#include "stack/socket.h"
#include "stack/socket_internal.h"
#include "stack/stack.h"

/* ---- poll ---------------------------------------------------------------- */

/* What so's poll answer holds of the events want, and POLLERR and POLLHUP
 * always, asked or not (poll(2), epoll(7)). */
static uint32_t poll_answer(struct socket *so, uint32_t want)
{
	return (uint16_t)so->ops->poll(so) & (want | POLLERR | POLLHUP);
}

/* Fills in revents for every entry; returns how many have any. */
static int poll_scan(struct pollfd *fds, nfds_t nfds)
{
	int ready = 0;
	for (nfds_t i = 0; i < nfds; i++) {
		struct socket *so = socket_get(fds[i].fd);
		if (fds[i].fd < 0) {
			fds[i].revents = 0; /* poll(2): negative descriptors are ignored */
			continue;
		}
		if (!so) {
			fds[i].revents = POLLNVAL;
		} else {
			fds[i].revents = (short)poll_answer(so, (uint16_t)fds[i].events);
		}
		if (fds[i].revents)
			ready++;
	}
	return ready;
}

int net_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	int64_t deadline =
		timeout_ms < 0 ? INT64_MAX : socket_wait_deadline((int64_t)timeout_ms * 1000);
	for (;;) {
		int ready = poll_scan(fds, nfds);
		if (ready || timeout_ms == 0)
			return ready;
		int w = socket_wait_once(deadline);
		if (w == -EAGAIN)
			return poll_scan(fds, nfds); /* the time is up: report what is true now */
		if (w < 0)
			return w;
	}
}

/* ---- epoll: a readiness list ------------------------------------------- */

/* An epoll set (net.h says what it offers). net_poll costs one ops->poll
 * per descriptor it is given, ready or not; a set costs one per socket
 * that something happened to. The means is the list of candidates:
 *
 *   - socket_wake(so), called by the protocols whenever so's poll answer
 *     may have changed (tcp/, ip/udp.c), appends so to its set's list,
 *     once (ep_listed says it is there);
 *   - net_epoll_wait takes the candidates in order and asks each one
 *     ops->poll: a ready one is reported and goes back on the list, at the
 *     end (level-triggered: it may still be ready at the next wait, with
 *     data left unread, and so must be asked again); one that is not ready
 *     leaves the list until its next wake.
 *
 * A socket nothing happens to is never asked, however many are
 * registered. What makes it right is one rule: every change that can make
 * a socket ready passes through socket_wake; a spurious wake only costs
 * one question. ADD and MOD list the socket at once, so one that is ready
 * already is reported at the next wait. */
struct epoll_set {
	struct socket *head, *tail; /* the candidates, in the order they were listed */
	int ncand;                  /* how many */
	int nmembers;               /* sockets registered */
	struct socket *self;        /* the set's own descriptor */
};

static const struct sock_ops epoll_ops;

/* The set behind descriptor socket so, or NULL if so is not a set. */
static struct epoll_set *set_of(const struct socket *so)
{
	return so && so->ops == &epoll_ops ? so->proto : NULL;
}

/* Appends so to the candidates of its set. */
static void cand_append(struct epoll_set *set, struct socket *so)
{
	so->ep_next = NULL;
	so->ep_prev = set->tail;
	if (set->tail)
		set->tail->ep_next = so;
	else
		set->head = so;
	set->tail = so;
	so->ep_listed = true;
	set->ncand++;
}

/* Takes so off the candidates of its set. */
static void cand_remove(struct epoll_set *set, struct socket *so)
{
	if (so->ep_prev)
		so->ep_prev->ep_next = so->ep_next;
	else
		set->head = so->ep_next;
	if (so->ep_next)
		so->ep_next->ep_prev = so->ep_prev;
	else
		set->tail = so->ep_prev;
	so->ep_prev = so->ep_next = NULL;
	so->ep_listed = false;
	set->ncand--;
}

void socket_wake_slow(struct socket *so)
{
	cand_append(so->ep, so);
	stats_inc(&so->s->stats, "socket.epoll_wakes");
}

/* Takes so out of its set. */
void socket_epoll_leave(struct socket *so)
{
	if (so->ep_listed)
		cand_remove(so->ep, so);
	so->ep->nmembers--;
	so->ep = NULL;
}

/* What so's poll answer holds of what its registration asks for. */
static uint32_t epoll_events_of(struct socket *so)
{
	return poll_answer(so, so->ep_events);
}

/* A set descriptor polled (net_poll on it): POLLIN when a candidate is
 * ready, as Linux's epoll descriptor. It only asks: the list stays. */
static short epoll_so_poll(struct socket *eso)
{
	for (struct socket *so = set_of(eso)->head; so; so = so->ep_next)
		if (epoll_events_of(so))
			return POLLIN;
	return 0;
}

/* Closing a set: its sockets are registered nowhere any more. */
static void epoll_so_close(struct socket *eso)
{
	struct epoll_set *set = set_of(eso);
	for (int i = 0; i < socket_table_high && set->nmembers > 0; i++)
		if (socket_table[i] && socket_table[i]->ep == set)
			socket_epoll_leave(socket_table[i]);
	free(set);
	eso->proto = NULL;
}

/* A set carries no data: read and write on it are invalid (as Linux). */
static ssize_t epoll_so_send(struct socket *so, const uint8_t *buf, size_t len, int flags,
			     const struct ipaddr *to, uint16_t tport)
{
	(void)so;
	(void)buf;
	(void)len;
	(void)flags;
	(void)to;
	(void)tport;
	return -EINVAL;
}

static ssize_t epoll_so_recv(struct socket *so, uint8_t *buf, size_t len, int flags,
			     struct ipaddr *from, uint16_t *fport)
{
	(void)so;
	(void)buf;
	(void)len;
	(void)flags;
	(void)from;
	(void)fport;
	return -EINVAL;
}

static const struct sock_ops epoll_ops = {
	.sendto = epoll_so_send,
	.recvfrom = epoll_so_recv,
	.poll = epoll_so_poll,
	.close = epoll_so_close,
};

int net_epoll_create(void)
{
	struct stack *current = socket_current_host();
	if (!current)
		return -ENETDOWN;
	struct epoll_set *set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOBUFS;
	struct socket *so = socket_alloc(current, AF_UNSPEC, 0, 0);
	if (!so) {
		free(set);
		return socket_alloc_error();
	}
	so->ops = &epoll_ops;
	so->proto = set;
	set->self = so;
	return so->fd;
}

int net_epoll_ctl(int epfd, int op, int fd, const struct net_epoll_event *ev)
{
	struct socket *eso = socket_get(epfd), *so = socket_get(fd);
	if (!eso || !so)
		return -EBADF;
	struct epoll_set *set = set_of(eso);
	if (!set || set_of(so))
		return -EINVAL; /* epfd is no set, or fd is one (sets do not nest here) */
	switch (op) {
	case NET_EPOLL_CTL_ADD:
		if (so->ep == set)
			return -EEXIST;
		if (so->ep)
			return -EBUSY; /* one set per socket: see net.h */
		if (!ev)
			return -EINVAL;
		so->ep = set;
		set->nmembers++;
		break;
	case NET_EPOLL_CTL_MOD:
		if (so->ep != set)
			return -ENOENT;
		if (!ev)
			return -EINVAL;
		break;
	case NET_EPOLL_CTL_DEL:
		if (so->ep != set)
			return -ENOENT;
		socket_epoll_leave(so);
		return 0;
	default:
		return -EINVAL;
	}
	so->ep_events = ev->events;
	so->ep_data = ev->data;
	socket_wake(so); /* asked at the next wait: one ready now is reported */
	return 0;
}

int socket_epoll_missed(int epfd)
{
	struct socket *eso = socket_get(epfd);
	struct epoll_set *set = set_of(eso);
	if (!set)
		return -EINVAL;
	int missed = 0;
	for (int i = 0; i < socket_table_high; i++)
		if (socket_table[i] && socket_table[i]->ep == set && !socket_table[i]->ep_listed &&
		    epoll_events_of(socket_table[i]))
			missed++;
	return missed;
}

/* One pass over the candidates there are now: each is asked once at most
 * (one reported goes to the back, behind those not yet asked), until max
 * are found. Returns how many. */
static int epoll_scan(struct epoll_set *set, struct net_epoll_event *events, int max)
{
	int n = 0, asked = 0;
	for (int k = set->ncand; k > 0 && n < max; k--) {
		struct socket *so = set->head;
		cand_remove(set, so);
		asked++;
		uint32_t ev = epoll_events_of(so);
		if (ev) {
			events[n].events = ev;
			events[n].data = so->ep_data;
			n++;
			cand_append(set, so); /* level-triggered: ask again next time */
		}
	}
	struct stats *st = &set->self->s->stats;
	stats_inc(st, "socket.epoll_waits");
	stats_add(st, "socket.epoll_checked", (uint64_t)asked);
	return n;
}

int net_epoll_wait(int epfd, struct net_epoll_event *events, int max, int timeout_ms)
{
	struct socket *eso = socket_get(epfd);
	if (!eso)
		return -EBADF;
	struct epoll_set *set = set_of(eso);
	if (!set || !events || max <= 0)
		return -EINVAL;
	int64_t deadline =
		timeout_ms < 0 ? INT64_MAX : socket_wait_deadline((int64_t)timeout_ms * 1000);
	for (;;) {
		/* the candidates are asked; the driver runs the host, whose
		 * protocols wake the sockets that something happened to */
		int ready = epoll_scan(set, events, max);
		if (ready || timeout_ms == 0)
			return ready;
		int w = socket_wait_once(deadline);
		if (w == -EAGAIN)
			return epoll_scan(set, events, max);
		if (w < 0)
			return w;
	}
}

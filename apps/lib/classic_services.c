/* The classic small services, each on UDP and TCP, each a few lines on the
 * socket API: echo (RFC 862), discard (RFC 863) and character generator
 * (RFC 864). They show the two ways of serving: one datagram at a time
 * (UDP), and many connections from one non-blocking loop (TCP), each
 * connection watched for what it waits for (service_watch). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/service.h"
#include "stack/net.h"

/* TCP connections per service at once. The array of them grows on demand
 * (each holds a 16 KB buffer), from CONNS_FIRST entries, doubling. */
#define MAX_CONNS 16000
#define CONNS_FIRST 64

enum kind { ECHO, DISCARD, CHARGEN };

static uint8_t dgram[65536];

static void conn_remove(struct service *sv, int i);

/* RFC 864: the 95 printable ASCII characters; line k of the pattern is 72
 * of them starting at character k, then CR LF. After 95 lines (7030 bytes)
 * it repeats, so one period is made once and copied from: one memcpy per
 * period instead of a division per byte (which made chargen, not TCP, the
 * limit of a bulk transfer). Fills out with the pattern from position pos
 * on. */
#define CHARGEN_LINE 74
#define CHARGEN_WIDTH 72
#define CHARGEN_PERIOD (95 * CHARGEN_LINE)

static void chargen_fill(uint8_t *out, size_t len, uint64_t pos)
{
	static uint8_t period[CHARGEN_PERIOD];
	static bool made;
	if (!made) {
		for (size_t i = 0; i < CHARGEN_PERIOD; i++) {
			size_t row = i / CHARGEN_LINE, col = i % CHARGEN_LINE;
			period[i] = col == CHARGEN_WIDTH ? '\r' : col == CHARGEN_WIDTH + 1 ? '\n'
				  : (uint8_t)(' ' + (row + col) % 95);
		}
		made = true;
	}
	size_t off = (size_t)(pos % CHARGEN_PERIOD);
	while (len > 0) {
		size_t n = CHARGEN_PERIOD - off < len ? CHARGEN_PERIOD - off : len;
		memcpy(out, period + off, n);
		out += n;
		len -= n;
		off = 0;
	}
}

static enum kind kind_of(const struct service *sv)
{
	return sv->name[0] == 'e' ? ECHO : sv->name[0] == 'd' ? DISCARD : CHARGEN;
}

static uint16_t port_of(enum kind k)
{
	return k == ECHO ? 7 : k == DISCARD ? 9 : 19;
}

/* Opens the service's UDP socket and TCP listener on its port, for IPv4
 * and, when the host has IPv6, for IPv6 too (sockets are IPv6-only). */
static int classic_start(struct service *sv, char *err, size_t errlen)
{
	uint16_t port = port_of(kind_of(sv));
	sv->fd6 = sv->lfd6 = -1;
	if ((sv->fd = service_socket(AF_INET, SOCK_DGRAM, port, 0, err, errlen)) < 0 ||
	    (sv->lfd = service_socket(AF_INET, SOCK_STREAM, port, 128, err, errlen)) < 0)
		return -1;
	if (service_want_ipv6() &&
	    ((sv->fd6 = service_socket(AF_INET6, SOCK_DGRAM, port, 0, err, errlen)) < 0 ||
	     (sv->lfd6 = service_socket(AF_INET6, SOCK_STREAM, port, 128, err, errlen)) < 0))
		return -1;
	sv->conns = calloc(CONNS_FIRST, sizeof(*sv->conns));
	sv->nconns = 0;
	if (!sv->conns) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int *fds[] = { &sv->fd, &sv->lfd, &sv->fd6, &sv->lfd6 };
	for (int i = 0; i < 4; i++)
		if (*fds[i] >= 0)
			service_watch(sv, *fds[i], POLLIN);
	sv->accepting = true;
	return 0;
}

static void classic_stop(struct service *sv)
{
	while (sv->nconns > 0)
		conn_remove(sv, sv->nconns - 1);
	free(sv->conns);
	sv->conns = NULL;
	sv->nconns = 0;
	int *fds[] = { &sv->fd, &sv->lfd, &sv->fd6, &sv->lfd6 };
	for (int i = 0; i < 4; i++) {
		if (*fds[i] >= 0)
			net_close(*fds[i]);
		*fds[i] = -1;
	}
}

/* What a TCP connection waits for: to read when it has nothing to write
 * (so a client that does not read cannot make echo buffer without bound),
 * to write when it has something (chargen always has, and reads too, to
 * notice the client closing). Tells the loop when that changes. */
static void conn_watch(struct service *sv, struct stream_conn *c)
{
	uint32_t ev = c->off < c->len || kind_of(sv) == CHARGEN ? POLLOUT : POLLIN;
	if (kind_of(sv) == CHARGEN)
		ev |= POLLIN;
	if (ev != c->watching) {
		service_watch(sv, c->fd, ev);
		c->watching = ev;
	}
}

/* The listeners are watched while there is room for a connection more
 * (else a waiting one would be reported at every turn, never taken). */
static void listeners_watch(struct service *sv)
{
	bool room = sv->nconns < MAX_CONNS;
	if (room == sv->accepting)
		return;
	int lfds[] = { sv->lfd, sv->lfd6 };
	for (int i = 0; i < 2; i++) {
		if (lfds[i] < 0)
			continue;
		if (room)
			service_watch(sv, lfds[i], POLLIN);
		else
			service_unwatch(sv, lfds[i]);
	}
	sv->accepting = room;
}

/* One datagram in, the answer out: RFC 862 sends it back, RFC 863 drops it,
 * RFC 864 answers with 0 to 512 characters of the pattern. */
static void classic_udp(struct service *sv, int fd)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n;
	while ((n = net_recvfrom(fd, dgram, sizeof(dgram), 0, (struct sockaddr *)&from, &flen)) >= 0) {
		sv->count++;
		if (kind_of(sv) == ECHO) {
			net_sendto(fd, dgram, (size_t)n, 0, (struct sockaddr *)&from, flen);
		} else if (kind_of(sv) == CHARGEN) {
			size_t len = (size_t)rng_below(&sv->rng, 513);
			chargen_fill(dgram, len, 0);
			net_sendto(fd, dgram, len, 0, (struct sockaddr *)&from, flen);
		}
		flen = sizeof(from);
	}
}

/* Where each descriptor's connection is in its service's conns, +1 (0:
 * none), by service kind: finding a ready connection costs one look-up,
 * not a search through them all. */
static int slot_of[3][NET_MAX_SOCKETS];

/* Makes room for one more connection: the array is CONNS_FIRST entries,
 * doubled each time nconns reaches a power of two from there. Returns false
 * when memory runs out. */
static bool conns_room(struct service *sv)
{
	int n = sv->nconns;
	if (n < CONNS_FIRST || (n & (n - 1)) != 0)
		return true;
	struct stream_conn *more = realloc(sv->conns, 2 * (size_t)n * sizeof(*more));
	if (!more)
		return false;
	sv->conns = more;
	return true;
}

/* Accepts every connection waiting, non-blocking. */
static void classic_accept(struct service *sv, int lfd)
{
	int fd, one = 1;
	while (sv->nconns < MAX_CONNS && conns_room(sv) && (fd = net_accept(lfd, NULL, NULL)) >= 0) {
		if (fd - NET_FD_BASE >= NET_MAX_SOCKETS) {
			net_close(fd);
			continue;
		}
		net_setsockopt(fd, SOL_SOCKET, SO_NONBLOCK, &one, sizeof(one));
		struct stream_conn *c = &sv->conns[sv->nconns++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		slot_of[kind_of(sv)][fd - NET_FD_BASE] = sv->nconns;
		sv->count++;
		conn_watch(sv, c);
	}
	listeners_watch(sv);
}

/* Closes connection i and moves the last one into its place. */
static void conn_remove(struct service *sv, int i)
{
	int k = kind_of(sv);
	slot_of[k][sv->conns[i].fd - NET_FD_BASE] = 0;
	net_close(sv->conns[i].fd);
	if (i != --sv->nconns) {
		sv->conns[i] = sv->conns[sv->nconns];
		slot_of[k][sv->conns[i].fd - NET_FD_BASE] = i + 1;
	}
}

/* Serves one connection; returns false when it is finished. */
static bool classic_conn(struct service *sv, struct stream_conn *c, short revents)
{
	enum kind k = kind_of(sv);
	ssize_t n;
	if (revents & POLLERR)
		return false;
	if (k == CHARGEN) {
		/* RFC 864 (TCP): send the pattern until the client closes; what
		 * it sends is thrown away */
		while ((n = net_recv(c->fd, c->buf, sizeof(c->buf), 0)) > 0)
			;
		if (n == 0 || (n < 0 && n != -EAGAIN))
			return false;
		for (int i = 0; i < 64; i++) {
			chargen_fill(c->buf, sizeof(c->buf), c->pos);
			n = net_send(c->fd, c->buf, sizeof(c->buf), 0);
			if (n <= 0)
				return n == -EAGAIN;
			c->pos += (uint64_t)n;
		}
		return true;
	}
	/* echo and discard: write out what is pending, then read more */
	for (;;) {
		while (c->off < c->len) {
			n = net_send(c->fd, c->buf + c->off, c->len - c->off, 0);
			if (n == -EAGAIN)
				return true;
			if (n < 0)
				return false;
			c->off += (size_t)n;
		}
		c->off = c->len = 0;
		if (c->eof)
			return false; /* all echoed: close (FIN goes after the data) */
		n = net_recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (n == -EAGAIN)
			return true;
		if (n <= 0) {
			if (n < 0)
				return false;
			c->eof = true;
			continue;
		}
		if (k == ECHO)
			c->len = (size_t)n;
	}
}

static void classic_handle(struct service *sv, int fd, uint32_t events)
{
	if (fd == sv->fd || fd == sv->fd6) {
		classic_udp(sv, fd);
		return;
	}
	if (fd == sv->lfd || fd == sv->lfd6) {
		classic_accept(sv, fd);
		return;
	}
	int k = fd - NET_FD_BASE;
	int i = k >= 0 && k < NET_MAX_SOCKETS ? slot_of[kind_of(sv)][k] - 1 : -1;
	if (i < 0 || i >= sv->nconns || sv->conns[i].fd != fd)
		return;
	if (classic_conn(sv, &sv->conns[i], (short)events)) {
		conn_watch(sv, &sv->conns[i]);
		return;
	}
	conn_remove(sv, i);
	listeners_watch(sv);
}

#define CLASSIC(n, text)                                                            \
	{ .name = n, .what = text, .start = classic_start, .handle = classic_handle, \
	  .stop = classic_stop, .fd = -1, .lfd = -1, .fd6 = -1, .lfd6 = -1 }

struct service service_echo = CLASSIC("echo", "port 7, UDP and TCP: sends everything back (RFC 862)");
struct service service_discard = CLASSIC("discard", "port 9, UDP and TCP: receives and drops (RFC 863)");
struct service service_chargen =
	CLASSIC("chargen", "port 19, UDP and TCP: sends the character pattern (RFC 864)");

/* The epoll sets of the socket layer (net_epoll_create, net_epoll_ctl,
 * net_epoll_wait) on two simulated hosts: B holds the set, A is the peer.
 * net_epoll_wait must report exactly the descriptors that are ready, with
 * the events that are true: data arriving makes POLLIN appear and reading
 * it all makes it go; a full send buffer acknowledged gives POLLOUT; a
 * listener is readable with a connection to accept; the peer's FIN, RST
 * and silence give POLLIN, POLLHUP, POLLERR. And the point of it all: with
 * 2000 idle connections registered, a wait asks only the few sockets that
 * something happened to (the counter socket.epoll_checked). */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "stack/net.h"
#include "stack/socket.h"
#include "stack/stack.h"
#include "tests/sim.h"

#define PORT 5000
#define MANY 2000
#define XFER_CONNS 4               /* connections of the lossy transfer test */
#define XFER_BYTES (256 * 1024)    /* each way, each */
#define LISTENER UINT32_MAX        /* the listener's data in that test */

static struct sim sim;

/* B listens on PORT (non-blocking). */
static int listen_b(void)
{
	net_use_stack(&sim.b);
	int lfd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(net_bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(net_listen(lfd, 4096), 0);
	return lfd;
}

/* A starts connecting to B:port, non-blocking; returns A's descriptor. */
static int connect_a(uint16_t port)
{
	net_use_stack(&sim.a);
	int fd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(SIM_B_IP) };
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(net_connect(fd, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
	net_use_stack(&sim.b);
	return fd;
}

/* A connection from A to B's listener lfd, accepted: A's end in *a, B's
 * in *b. */
static void pair(int lfd, int *a, int *b)
{
	*a = connect_a(PORT);
	*b = -1;
	for (int i = 0; i < 100 && *b < 0; i++) {
		sim_step(&sim, 10000);
		*b = sim_accept(lfd);
	}
	ck_assert_int_ge(*b, 0);
}

static void ep_ctl(int ep, int op, int fd, uint32_t events)
{
	struct net_epoll_event ev = { .events = events, .data.fd = fd };
	ck_assert_int_eq(net_epoll_ctl(ep, op, fd, &ev), 0);
}

/* A wait on the set that must report fd alone, with exactly events. */
static void expect_only(int ep, int timeout_ms, int fd, uint32_t events)
{
	struct net_epoll_event got[8];
	int n = net_epoll_wait(ep, got, 8, timeout_ms);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(got[0].data.fd, fd);
	ck_assert_uint_eq(got[0].events, events);
}

/* A wait on the set that must report nothing. */
static void expect_none(int ep, int timeout_ms)
{
	struct net_epoll_event got[8];
	int n = net_epoll_wait(ep, got, 8, timeout_ms);
	ck_assert_msg(n == 0, "%d reported: fd %d events %#x", n, got[0].data.fd, got[0].events);
}

static void setup(void)
{
	sim_init(&sim, NULL, 7);
	sim_attach(&sim, &sim.b);
}

static void teardown(void)
{
	sim_fini(&sim);
}

/* Data in, data read; POLLOUT after a full send buffer is acknowledged;
 * the peer's FIN, then both sides closed. */
START_TEST(epoll_stream_events)
{
	char buf[4096];
	int lfd = listen_b(), ep = net_epoll_create(), a, b;
	ck_assert_int_ge(ep, 0);
	ep_ctl(ep, NET_EPOLL_CTL_ADD, lfd, POLLIN);
	expect_none(ep, 0);

	/* a listener is readable when a connection waits to be accepted,
	 * and no longer once it is taken */
	a = connect_a(PORT);
	expect_only(ep, 1000, lfd, POLLIN);
	expect_only(ep, 0, lfd, POLLIN); /* level-triggered: still there */
	b = sim_accept(lfd);
	ck_assert_int_ge(b, 0);
	expect_none(ep, 0);

	/* data arriving: POLLIN, until all of it is read */
	ep_ctl(ep, NET_EPOLL_CTL_ADD, b, POLLIN);
	expect_none(ep, 100);
	ck_assert_int_eq(net_send(a, "hello, world", 12, 0), 12);
	expect_only(ep, 1000, b, POLLIN);
	ck_assert_int_eq(net_recv(b, buf, 5, 0), 5);
	expect_only(ep, 0, b, POLLIN);   /* 7 bytes still unread */
	ck_assert_int_eq(net_recv(b, buf, sizeof(buf), 0), 7);
	expect_none(ep, 0);
	expect_none(ep, 100);

	/* POLLOUT: at once while there is room; not while the buffer is full;
	 * again once the peer's ACK frees it */
	ep_ctl(ep, NET_EPOLL_CTL_MOD, b, POLLIN | POLLOUT);
	expect_only(ep, 0, b, POLLOUT);
	int small = 2048;
	ck_assert_int_eq(net_setsockopt(b, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	memset(buf, 'x', sizeof(buf));
	ssize_t n, sent = 0;
	while ((n = net_send(b, buf, sizeof(buf), 0)) > 0)
		sent += n;
	ck_assert_int_eq(n, -EAGAIN);
	ck_assert_int_gt(sent, 0);
	expect_none(ep, 0);
	expect_only(ep, 1000, b, POLLOUT);
	ck_assert_uint_gt(stats_get(&sim.b.stats, "socket.epoll_wakes"), 0);

	/* the peer's FIN: readable, recv says end of stream */
	ep_ctl(ep, NET_EPOLL_CTL_MOD, b, POLLIN);
	net_use_stack(&sim.a);
	while (net_recv(a, buf, sizeof(buf), 0) > 0)
		;
	ck_assert_int_eq(net_shutdown(a, SHUT_WR), 0);
	net_use_stack(&sim.b);
	expect_only(ep, 1000, b, POLLIN);
	ck_assert_int_eq(net_recv(b, buf, sizeof(buf), 0), 0);
	expect_only(ep, 0, b, POLLIN); /* the end of stream stays readable */

	/* our FIN too: closed both ways, POLLHUP */
	ck_assert_int_eq(net_shutdown(b, SHUT_WR), 0);
	struct net_epoll_event got[8];
	ck_assert_int_eq(net_epoll_wait(ep, got, 8, 1000), 1);
	ck_assert_uint_eq(got[0].events, POLLIN | POLLHUP);

	/* DEL: no longer reported, though still ready */
	ep_ctl(ep, NET_EPOLL_CTL_DEL, b, 0);
	expect_none(ep, 0);
	/* and close takes a socket out of the set: nothing reported, nothing
	 * touched (ASan would see a freed socket asked) */
	ep_ctl(ep, NET_EPOLL_CTL_ADD, b, POLLIN);
	expect_only(ep, 0, b, POLLIN | POLLHUP);
	ck_assert_int_eq(net_close(b), 0);
	expect_none(ep, 0);
	ck_assert_int_eq(net_close(ep), 0);
}
END_TEST

/* The peer resets the connection: POLLERR (with POLLIN and POLLHUP: the
 * next recv returns the error). */
START_TEST(epoll_reset_gives_pollerr)
{
	int lfd = listen_b(), ep = net_epoll_create(), a, b;
	pair(lfd, &a, &b);
	ep_ctl(ep, NET_EPOLL_CTL_ADD, b, POLLIN);
	expect_none(ep, 100);
	struct linger l = { 1, 0 };
	net_use_stack(&sim.a);
	ck_assert_int_eq(net_setsockopt(a, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	ck_assert_int_eq(net_close(a), 0); /* RST */
	net_use_stack(&sim.b);
	expect_only(ep, 1000, b, POLLIN | POLLERR | POLLHUP);
	char c;
	ck_assert_int_eq(net_recv(b, &c, 1, 0), -ECONNRESET);
}
END_TEST

/* The peer goes silent while we have data in flight: after the
 * retransmissions give up, POLLERR (ETIMEDOUT). And a connect refused:
 * POLLERR on the connecting socket (POLLOUT asked for, as a non-blocking
 * connect waits). */
START_TEST(epoll_timeout_and_refused)
{
	int lfd = listen_b(), ep = net_epoll_create(), a, b;
	pair(lfd, &a, &b);
	ep_ctl(ep, NET_EPOLL_CTL_ADD, b, POLLIN);
	struct impair_cfg dead = { .loss = 1.0 };
	simlink_set_cfg(sim.link, 0, &dead); /* A hears us, B hears nothing back */
	ck_assert_int_eq(net_send(b, "are you there?", 14, 0), 14);
	expect_none(ep, 10000);
	expect_only(ep, 600000, b, POLLIN | POLLERR | POLLHUP);
	char c;
	ck_assert_int_eq(net_recv(b, &c, 1, 0), -ETIMEDOUT);
	ck_assert_int_eq(net_close(b), 0);

	struct impair_cfg fine = { 0 };
	simlink_set_cfg(sim.link, 0, &fine);
	int r = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PORT + 1),
				  .sin_addr.s_addr = htonl(SIM_A_IP) };
	ck_assert_int_eq(net_connect(r, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
	ep_ctl(ep, NET_EPOLL_CTL_ADD, r, POLLOUT);
	expect_none(ep, 0); /* SYN-SENT: nothing yet */
	struct net_epoll_event got[8];
	ck_assert_int_eq(net_epoll_wait(ep, got, 8, 1000), 1);
	ck_assert_int_eq(got[0].data.fd, r);
	ck_assert(got[0].events & POLLERR);
	int err = 0;
	socklen_t el = sizeof(err);
	ck_assert_int_eq(net_getsockopt(r, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	ck_assert_int_eq(err, ECONNREFUSED);
}
END_TEST

/* UDP: a datagram makes POLLIN; reading it takes it away; an ICMP port
 * unreachable about a connected socket's datagram gives POLLERR. */
START_TEST(epoll_udp_events)
{
	int ep = net_epoll_create();
	int u = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(9000) };
	ck_assert_int_eq(net_bind(u, (struct sockaddr *)&me, sizeof(me)), 0);
	ep_ctl(ep, NET_EPOLL_CTL_ADD, u, POLLIN);
	expect_none(ep, 0);

	net_use_stack(&sim.a);
	int s = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9000),
				  .sin_addr.s_addr = htonl(SIM_B_IP) };
	ck_assert_int_eq(net_sendto(s, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
	net_use_stack(&sim.b);
	expect_only(ep, 1000, u, POLLIN);
	char buf[16];
	ck_assert_int_eq(net_recv(u, buf, sizeof(buf), 0), 4);
	expect_none(ep, 0);

	/* connected to A's port 9001, where nobody listens */
	int c = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in nobody = { .sin_family = AF_INET, .sin_port = htons(9001),
				      .sin_addr.s_addr = htonl(SIM_A_IP) };
	ck_assert_int_eq(net_connect(c, (struct sockaddr *)&nobody, sizeof(nobody)), 0);
	ep_ctl(ep, NET_EPOLL_CTL_ADD, c, POLLIN);
	ck_assert_int_eq(net_send(c, "x", 1, 0), 1);
	expect_only(ep, 1000, c, POLLIN | POLLERR);
	ck_assert_int_eq(net_recv(c, buf, sizeof(buf), 0), -ECONNREFUSED);
	expect_none(ep, 0);
}
END_TEST

/* The calls' errors, and more ready than max: none is starved. */
START_TEST(epoll_ctl_rules_and_fairness)
{
	int ep = net_epoll_create(), other = net_epoll_create();
	int u[3];
	for (int i = 0; i < 3; i++) {
		u[i] = net_socket(AF_INET, SOCK_DGRAM, 0);
		ep_ctl(ep, NET_EPOLL_CTL_ADD, u[i], POLLOUT); /* UDP: always writable */
	}
	struct net_epoll_event ev = { .events = POLLIN }, got[8];
	ck_assert_int_eq(net_epoll_ctl(ep, NET_EPOLL_CTL_ADD, u[0], &ev), -EEXIST);
	ck_assert_int_eq(net_epoll_ctl(other, NET_EPOLL_CTL_ADD, u[0], &ev), -EBUSY);
	ck_assert_int_eq(net_epoll_ctl(other, NET_EPOLL_CTL_MOD, u[0], &ev), -ENOENT);
	ck_assert_int_eq(net_epoll_ctl(other, NET_EPOLL_CTL_DEL, u[0], NULL), -ENOENT);
	ck_assert_int_eq(net_epoll_ctl(ep, NET_EPOLL_CTL_ADD, other, &ev), -EINVAL);
	ck_assert_int_eq(net_epoll_ctl(u[1], NET_EPOLL_CTL_ADD, u[0], &ev), -EINVAL);
	ck_assert_int_eq(net_epoll_ctl(ep, 99, u[0], &ev), -EINVAL);
	ck_assert_int_eq(net_epoll_ctl(ep, NET_EPOLL_CTL_ADD, 9999, &ev), -EBADF);
	ck_assert_int_eq(net_epoll_wait(u[0], got, 8, 0), -EINVAL);
	ck_assert_int_eq(net_epoll_wait(ep, got, 0, 0), -EINVAL);
	ck_assert_int_eq(net_send(ep, "x", 1, 0), -EINVAL);

	/* three ready, two at a time: the third comes in the next wait */
	int seen[3] = { 0 };
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(net_epoll_wait(ep, got, 2, 0), 2);
		for (int k = 0; k < 2; k++)
			for (int i = 0; i < 3; i++)
				if (got[k].data.fd == u[i])
					seen[i]++;
	}
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(seen[i], 2);

	/* net_poll on a set: POLLIN when something in it is ready */
	struct pollfd p = { .fd = ep, .events = POLLIN };
	ck_assert_int_eq(net_poll(&p, 1, 0), 1);
	ck_assert_int_eq(p.revents, POLLIN);

	/* closing the set lets its sockets go: another set may take them */
	ck_assert_int_eq(net_close(ep), 0);
	ep_ctl(other, NET_EPOLL_CTL_ADD, u[0], POLLOUT);
	expect_only(other, 0, u[0], POLLOUT);
}
END_TEST

/* 2000 idle connections in the set, and one busy: the busy one is
 * reported each time, and a wait asks a handful of sockets, not 2000. */
START_TEST(epoll_cost_follows_activity)
{
	static int a[MANY], b[MANY];
	int lfd = listen_b(), ep = net_epoll_create();
	pair(lfd, &a[0], &b[0]); /* the neighbors know each other from here on */
	ep_ctl(ep, NET_EPOLL_CTL_ADD, b[0], POLLIN);
	for (int i = 1; i < MANY; i++)
		a[i] = connect_a(PORT);
	for (int i = 1; i < MANY; i++) {
		b[i] = -1;
		for (int t = 0; t < 1000 && b[i] < 0; t++) {
			b[i] = sim_accept(lfd);
			if (b[i] < 0)
				sim_step(&sim, 10000);
		}
		ck_assert_int_ge(b[i], 0);
		ep_ctl(ep, NET_EPOLL_CTL_ADD, b[i], POLLIN);
	}
	ep_ctl(ep, NET_EPOLL_CTL_ADD, lfd, POLLIN);
	expect_none(ep, 0); /* the first wait asks every one just added */
	expect_none(ep, 500);

	uint64_t checked0 = stats_get(&sim.b.stats, "socket.epoll_checked");
	uint64_t waits0 = stats_get(&sim.b.stats, "socket.epoll_waits");
	char buf[256];
	for (int round = 0; round < 100; round++) {
		int k = (round * 37) % MANY; /* a different connection now and then */
		net_use_stack(&sim.a);
		ck_assert_int_eq(net_send(a[k], "0123456789", 10, 0), 10);
		net_use_stack(&sim.b);
		expect_only(ep, 1000, b[k], POLLIN);
		ck_assert_int_eq(net_recv(b[k], buf, sizeof(buf), 0), 10);
		expect_none(ep, 0);
	}
	uint64_t checked = stats_get(&sim.b.stats, "socket.epoll_checked") - checked0;
	uint64_t waits = stats_get(&sim.b.stats, "socket.epoll_waits") - waits0;
	/* a poll loop would ask MANY + 1 per wait */
	ck_assert_uint_ge(waits, 200);
	ck_assert_msg(checked <= 2 * waits, "%llu sockets asked in %llu waits",
		      (unsigned long long)checked, (unsigned long long)waits);

	/* a new connection among them: the listener is reported */
	int extra = connect_a(PORT);
	(void)extra;
	expect_only(ep, 1000, lfd, POLLIN);
}
END_TEST


/* Transfers driven by the set alone, both ways (and one way), on a lossy link: a side
 * acts only when the set reports it, so a wake missed would stall a
 * transfer. And after every step of the simulation no registered socket
 * may be ready without being a candidate (socket_epoll_missed): a wake
 * missed anywhere, in data, ACKs, FINs, retransmissions, is caught where
 * it happens. */
START_TEST(epoll_drives_lossy_transfers)
{
	static struct sim_side side[2 * XFER_CONNS];
	struct impair_cfg bad = { .loss = 0.02, .reorder = 0.05, .dup = 0.01, .delay_us = 2000,
				  .jitter_us = 500 };
	simlink_set_cfg(sim.link, 0, &bad);
	simlink_set_cfg(sim.link, 1, &bad);
	int lfd = listen_b(), ep = net_epoll_create(), nb = 0, open = 2 * XFER_CONNS;
	int small = 16384; /* the send buffers fill: POLLOUT comes and goes */
	struct net_epoll_event ev = { .events = POLLIN, .data.u32 = LISTENER }, got[16];
	ck_assert_int_eq(net_epoll_ctl(ep, NET_EPOLL_CTL_ADD, lfd, &ev), 0);
	for (int i = 0; i < XFER_CONNS; i++) {
		side[i] = (struct sim_side){ .fd = connect_a(PORT), .who = 0, .total = XFER_BYTES };
		ck_assert_int_eq(net_setsockopt(side[i].fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
		ev = (struct net_epoll_event){ .events = POLLIN | POLLOUT, .data.u32 = (uint32_t)i };
		ck_assert_int_eq(net_epoll_ctl(ep, NET_EPOLL_CTL_ADD, side[i].fd, &ev), 0);
	}
	while (open > 0 && sim.now < 600 * 1000000LL) {
		int n = net_epoll_wait(ep, got, 16, 0);
		ck_assert_int_ge(n, 0);
		for (int k = 0; k < n; k++) {
			uint32_t i = got[k].data.u32;
			if (i == LISTENER) {
				int fd;
				while (nb < XFER_CONNS && (fd = sim_accept(lfd)) >= 0) {
					int at = XFER_CONNS + nb++;
					/* every other connection one way only: its sender
					 * hears nothing but ACKs */
					uint64_t total = nb % 2 ? 0 : XFER_BYTES;
					side[at] = (struct sim_side){ .fd = fd, .who = 1, .total = total };
					net_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
					ev = (struct net_epoll_event){ .events = POLLIN | POLLOUT,
								       .data.u32 = (uint32_t)at };
					ck_assert_int_eq(net_epoll_ctl(ep, NET_EPOLL_CTL_ADD, fd, &ev), 0);
				}
				continue;
			}
			struct sim_side *sd = &side[i];
			bool was_shut = sd->shut_wr;
			sim_side_step(sd);
			ck_assert(!sd->bad);
			if (sd->closed) {
				open--; /* closed: out of the set by itself */
			} else if (sd->shut_wr && !was_shut) {
				ev = (struct net_epoll_event){ .events = POLLIN, .data.u32 = i };
				ck_assert_int_eq(net_epoll_ctl(ep, NET_EPOLL_CTL_MOD, sd->fd, &ev), 0);
			}
		}
		sim_step(&sim, 1000);
		ck_assert_int_eq(socket_epoll_missed(ep), 0);
	}
	ck_assert_int_eq(open, 0);
	for (int i = 0; i < 2 * XFER_CONNS; i++) {
		ck_assert_uint_eq(side[i].sent, side[i].total);
		ck_assert_uint_eq(side[i].received, i < XFER_CONNS ? side[XFER_CONNS + i].total
								 : XFER_BYTES);
	}
	ck_assert_uint_gt(stats_get(&sim.a.stats, "impair.loss") + stats_get(&sim.b.stats, "impair.loss"), 0);
}
END_TEST

Suite *epoll_suite(void)
{
	Suite *s = suite_create("epoll");
	TCase *tc = tcase_create("epoll");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, epoll_stream_events);
	tcase_add_test(tc, epoll_reset_gives_pollerr);
	tcase_add_test(tc, epoll_timeout_and_refused);
	tcase_add_test(tc, epoll_udp_events);
	tcase_add_test(tc, epoll_ctl_rules_and_fairness);
	tcase_add_test(tc, epoll_cost_follows_activity);
	tcase_add_test(tc, epoll_drives_lossy_transfers);
	suite_add_tcase(s, tc);
	return s;
}

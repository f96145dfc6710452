/* udpcat: the smallest useful program on the tapstack socket API. Read it
 * first: it opens a host, makes a UDP socket, sends datagrams and prints the
 * answers, the way a program does with the kernel's sockets.
 *
 *   udpcat --tap tap1 --ip 10.0.0.3/24 10.0.0.2 7 hello world
 *       sends "hello" and "world" to the echo service of 10.0.0.2 and
 *       prints each answer;
 *   udpcat --tap tap1 --ip 10.0.0.3/24 --ip6 fd00::3/64 fd00::2 7 hello
 *       the same over IPv6;
 *   udpcat --tap tap1 --ip 10.0.0.3/24 --listen 5000
 *       prints every datagram that arrives on port 5000 (over IPv6 too when
 *       the host has --ip6: one socket per family). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "stack/host.h"
#include "stack/net.h"

static void usage(FILE *out)
{
	fputs("usage: udpcat HOST-OPTIONS [--timeout MS] ADDR PORT [MESSAGE...]\n"
	      "       udpcat HOST-OPTIONS --listen PORT\n"
	      "\n"
	      "Sends each MESSAGE (default: hello) as one UDP datagram to ADDR:PORT (IPv4 or\n"
	      "IPv6, e.g. fd00::2 with --ip6) and prints\n"
	      "the answer to each, or listens on PORT and prints what arrives. A host of its\n"
	      "own runs inside: give it a free TAP of the lab (sudo labs/net up 2 makes tap1):\n"
	      "  sudo labs/net exec build/udpcat --tap tap1 --ip 10.0.0.3/24 10.0.0.2 7 hi\n"
	      "\n"
	      "  --timeout MS      how long to wait for each answer (default 2000: the first\n"
	      "                    answer may wait for an ARP retry)\n"
	      "  --listen PORT     print the datagrams that arrive on PORT until Ctrl-C\n"
	      "\n",
	      out);
	host_opts_usage(out);
}

/* Prints what arrives on port until the program is stopped: on an IPv4
 * socket, and on an IPv6 one too when the host has IPv6 (an AF_INET6
 * socket carries IPv6 only), both waited on with net_poll. */
static int listen_on(uint16_t port)
{
	struct pollfd fds[2];
	int nfds = 0;
	for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		if (family == AF_INET6 && !net_family_available(AF_INET6))
			break;
		struct sockaddr_storage me;
		socklen_t mlen;
		net_sockaddr_pton(family == AF_INET ? "0.0.0.0" : "::", port, &me, &mlen);
		int fd = net_socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		int r = fd < 0 ? fd : net_bind(fd, (struct sockaddr *)&me, mlen);
		if (r < 0) {
			fprintf(stderr, "udpcat: bind to port %u: %s\n", port, strerror(-r));
			return 1;
		}
		fds[nfds++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	printf("listening on UDP port %u%s (Ctrl-C to stop)\n", port,
	       nfds == 2 ? ", IPv4 and IPv6" : "");
	for (;;) {
		/* Blocks: the stack runs (answers ARP, pings...) while we wait. */
		if (net_poll(fds, (nfds_t)nfds, -1) < 0)
			break; /* -EINTR */
		for (int i = 0; i < nfds; i++) {
			char buf[65536], from[NET_ADDRSTRLEN];
			struct sockaddr_storage peer;
			socklen_t plen = sizeof(peer);
			if (!fds[i].revents)
				continue;
			ssize_t n = net_recvfrom(fds[i].fd, buf, sizeof(buf), 0,
						 (struct sockaddr *)&peer, &plen);
			if (n == -EAGAIN)
				continue;
			if (n < 0) {
				fprintf(stderr, "udpcat: receive: %s\n", strerror((int)-n));
				continue;
			}
			printf("%s sent %zd bytes: %.*s\n",
			       net_sockaddr_ntop((struct sockaddr *)&peer, 1, from, sizeof(from)), n,
			       (int)n, buf);
			fflush(stdout);
		}
	}
	for (int i = 0; i < nfds; i++)
		net_close(fds[i].fd);
	return 0;
}

/* Sends each message to addr:port and prints the answer. Returns the
 * number of messages left unanswered. */
static int send_all(const char *addr, uint16_t port, char **msgs, int nmsgs, int timeout_ms)
{
	struct sockaddr_storage to;
	socklen_t tolen;
	char name[NET_ADDRSTRLEN];
	if (net_sockaddr_pton(addr, port, &to, &tolen) < 0) {
		fprintf(stderr, "udpcat: '%s' is not an IPv4 or IPv6 address\n", addr);
		return nmsgs;
	}
	net_sockaddr_ntop((struct sockaddr *)&to, 1, name, sizeof(name));
	/* a blocking socket: connect waits for our IPv6 address's DAD (net.h) */
	int fd = net_socket(to.ss_family, SOCK_DGRAM, 0);
	/* connect() on UDP only fixes the peer: we then receive only from it,
	 * and an ICMP (or ICMPv6) port unreachable comes back as ECONNREFUSED. */
	int c = net_connect(fd, (struct sockaddr *)&to, tolen);
	if (c < 0) {
		fprintf(stderr, "udpcat: %s: %s\n", name, strerror(-c));
		net_close(fd);
		return nmsgs;
	}
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	net_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	int unanswered = 0;
	for (int i = 0; i < nmsgs; i++) {
		char buf[65536];
		int64_t t0 = host_clock_now();
		ssize_t r = net_send(fd, msgs[i], strlen(msgs[i]), 0);
		if (r >= 0)
			r = net_recv(fd, buf, sizeof(buf), 0);
		if (r == -EAGAIN) {
			printf("no answer to '%s' within %d ms\n", msgs[i], timeout_ms);
			unanswered++;
		} else if (r < 0) {
			printf("'%s': %s\n", msgs[i], strerror((int)-r));
			unanswered++;
			if (r == -EINTR)
				break;
		} else {
			printf("answer from %s, %zd bytes in %.3f ms: %.*s\n", name, r,
			       (double)(host_clock_now() - t0) / 1000, (int)r, buf);
		}
	}
	net_close(fd);
	return unanswered;
}

int main(int argc, char **argv)
{
	struct host_opts o;
	int timeout_ms = 2000, listen_port = -1;
	char *pos[64];
	int npos = 0;

	host_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		int r = host_opts_parse(&o, "udpcat", argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (host_std_flag("udpcat", argv[i], usage)) {
			return 0;
		} else if ((strcmp(argv[i], "--timeout") == 0 || strcmp(argv[i], "--listen") == 0) &&
			   i + 1 < argc) {
			char *end;
			long v = strtol(argv[i + 1], &end, 10);
			if (*end || v < 0 || v > 65535 || (argv[i][2] == 'l' && v == 0)) {
				fprintf(stderr, "udpcat: %s: '%s' is not a number in range\n", argv[i], argv[i + 1]);
				return 2;
			}
			if (argv[i][2] == 't')
				timeout_ms = (int)v;
			else
				listen_port = (int)v;
			i++;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "udpcat: unknown option '%s' (see udpcat --help)\n", argv[i]);
			return 2;
		} else if (npos < 64) {
			pos[npos++] = argv[i];
		}
	}
	if (listen_port < 0 && npos < 2) {
		fprintf(stderr, "udpcat: give ADDR PORT, or --listen PORT (see --help)\n");
		return 2;
	}
	long port = listen_port < 0 ? strtol(pos[1], NULL, 10) : listen_port;
	if (port < 1 || port > 65535) {
		fprintf(stderr, "udpcat: '%s' is not a port number (1-65535)\n", pos[1]);
		return 2;
	}
	if (host_opts_check(&o, "udpcat") < 0)
		return 2;

	struct host h;
	char err[256];
	if (host_open(&h, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "udpcat: %s\n", err);
		return 1;
	}
	int rc;
	if (listen_port >= 0) {
		rc = listen_on((uint16_t)port);
	} else {
		char *hello[] = { "hello" };
		char **msgs = npos > 2 ? pos + 2 : hello;
		rc = send_all(pos[0], (uint16_t)port, msgs, npos > 2 ? npos - 2 : 1, timeout_ms) ? 1 : 0;
	}
	host_close(&h);
	return rc;
}

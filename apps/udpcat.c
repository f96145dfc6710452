/* udpcat: the smallest useful program on the tapstack socket API. Read it
 * first: it opens a host, makes a UDP socket, sends datagrams and prints the
 * answers, the way a program does with the kernel's sockets.
 *
 *   udpcat --tap tap1 --ip 10.0.0.3/24 10.0.0.2 7 hello world
 *       sends "hello" and "world" to the echo service of 10.0.0.2 and
 *       prints each answer;
 *   udpcat --tap tap1 --ip 10.0.0.3/24 --listen 5000
 *       prints every datagram that arrives on port 5000. */
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
	      "Sends each MESSAGE (default: hello) as one UDP datagram to ADDR:PORT and prints\n"
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

/* Prints what arrives on port until the program is stopped. */
static int listen_on(uint16_t port)
{
	int fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(port) };
	int r = net_bind(fd, (struct sockaddr *)&me, sizeof(me));
	if (r < 0) {
		fprintf(stderr, "udpcat: bind to port %u: %s\n", port, strerror(-r));
		return 1;
	}
	printf("listening on UDP port %u (Ctrl-C to stop)\n", port);
	for (;;) {
		char buf[65536], from[INET_ADDRSTRLEN];
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		/* Blocks: the stack runs (answers ARP, pings...) while we wait. */
		ssize_t n = net_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
		if (n == -EINTR)
			break;
		if (n < 0) {
			fprintf(stderr, "udpcat: receive: %s\n", strerror((int)-n));
			continue;
		}
		inet_ntop(AF_INET, &peer.sin_addr, from, sizeof(from));
		printf("%s:%u sent %zd bytes: %.*s\n", from, ntohs(peer.sin_port), n, (int)n, buf);
		fflush(stdout);
	}
	net_close(fd);
	return 0;
}

/* Sends each message to addr:port and prints the answer. Returns the
 * number of messages left unanswered. */
static int send_all(const char *addr, uint16_t port, char **msgs, int nmsgs, int timeout_ms)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
		fprintf(stderr, "udpcat: '%s' is not an IPv4 address\n", addr);
		return nmsgs;
	}
	int fd = net_socket(AF_INET, SOCK_DGRAM, 0);
	/* connect() on UDP only fixes the peer: we then receive only from it,
	 * and an ICMP port unreachable comes back as ECONNREFUSED. */
	net_connect(fd, (struct sockaddr *)&to, sizeof(to));
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
			printf("answer from %s:%u, %zd bytes in %.3f ms: %.*s\n", addr, port, r,
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

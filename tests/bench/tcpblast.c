/* tcpblast: a bulk TCP sender and sink of the kernel's, for `make bench`.
 * nc writes 16 KB at a time, so on this machine the sender, not the
 * receiver, sets the pace of a transfer into the stack (README,
 * "Profile"). tcpblast writes CHUNK bytes per call (1 MiB by default) from
 * one buffer, so the kernel builds 64 KB segments and spends as little as
 * it can per byte; its sink reads as much per call. Run it only inside the
 * bench's own namespaces, at addresses there.
 *
 *   tcpblast send ADDR PORT BYTES [CHUNK]
 *       connects, writes BYTES, shuts down its side and waits for the
 *       peer to close; prints "sent N bytes in S s (G Gbit/s)", the time
 *       from the connect to the peer's close.
 *   tcpblast sink PORT COUNT
 *       takes COUNT connections on PORT, one after the other, reads each
 *       to its end and closes it; prints what each brought.
 *
 * Every call is bounded: the program ends itself after 120 s (alarm). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_DEFAULT (1u << 20)
#define CHUNK_MAX (16u << 20)
#define LIMIT_S 120

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: tcpblast send ADDR PORT BYTES [CHUNK]\n"
		     "       tcpblast sink PORT COUNT\n"
		     "A bulk TCP sender and sink of the kernel's for make bench (tests/bench/run).\n"
		     "send: writes BYTES to ADDR:PORT, CHUNK bytes per write (default 1048576),\n"
		     "      then waits for the peer to close; prints the rate.\n"
		     "sink: takes COUNT connections on PORT and reads each to its end.\n"
		     "Ends itself after %d s.\n", LIMIT_S);
}

/* A decimal count, or -1. */
static long long count_arg(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	return errno || *end || v < 0 ? -1 : v;
}

static int blast(const char *addr, int port, long long bytes, size_t chunk)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "tcpblast: '%s' is not an IPv4 address\n", addr);
		return 2;
	}
	char *buf = calloc(1, chunk);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!buf || fd < 0) {
		perror("tcpblast");
		return 1;
	}
	double t0 = now_s();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "tcpblast: connect %s:%d: %s\n", addr, port, strerror(errno));
		return 1;
	}
	long long left = bytes;
	while (left > 0) {
		size_t n = left < (long long)chunk ? (size_t)left : chunk;
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "tcpblast: write after %lld bytes: %s\n", bytes - left,
				strerror(errno));
			return 1;
		}
		left -= w;
	}
	shutdown(fd, SHUT_WR);
	/* the peer's close ends the transfer: everything has arrived */
	while (read(fd, buf, chunk) > 0)
		;
	double t = now_s() - t0;
	close(fd);
	free(buf);
	printf("sent %lld bytes in %.3f s (%.3f Gbit/s)\n", bytes, t, (double)bytes * 8 / t / 1e9);
	return 0;
}

static int sink(int port, long long count)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
	char *buf = malloc(CHUNK_DEFAULT);
	if (lfd < 0 || !buf) {
		perror("tcpblast");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0) {
		fprintf(stderr, "tcpblast: port %d: %s\n", port, strerror(errno));
		return 1;
	}
	printf("listening on %d\n", port);
	fflush(stdout);
	for (long long i = 0; i < count; i++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			perror("tcpblast: accept");
			return 1;
		}
		long long got = 0;
		ssize_t r;
		while ((r = read(fd, buf, CHUNK_DEFAULT)) > 0)
			got += r;
		close(fd);
		printf("connection %lld: %lld bytes\n", i + 1, got);
		fflush(stdout);
	}
	close(lfd);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	alarm(LIMIT_S);
	if (argc >= 5 && argc <= 6 && !strcmp(argv[1], "send")) {
		long long port = count_arg(argv[3]), bytes = count_arg(argv[4]);
		long long chunk = argc == 6 ? count_arg(argv[5]) : CHUNK_DEFAULT;
		if (port < 1 || port > 65535 || bytes < 0 || chunk < 1 || chunk > CHUNK_MAX) {
			usage(stderr);
			return 2;
		}
		return blast(argv[2], (int)port, bytes, (size_t)chunk);
	}
	if (argc == 4 && !strcmp(argv[1], "sink")) {
		long long port = count_arg(argv[2]), count = count_arg(argv[3]);
		if (port < 1 || port > 65535 || count < 1) {
			usage(stderr);
			return 2;
		}
		return sink((int)port, count);
	}
	usage(stderr);
	return 2;
}

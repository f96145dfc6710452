/* The classic small UDP services, each a few lines on the socket API:
 * echo (RFC 862), discard (RFC 863) and character generator (RFC 864). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apps/lib/service.h"
#include "stack/net.h"

#define UDP_SERVICE_BUF 65536

static uint8_t buf[UDP_SERVICE_BUF];

/* Opens a non-blocking UDP socket on port (any local address). */
static int udp_service_open(struct service *sv, uint16_t port, char *err, size_t errlen)
{
	int fd = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(-fd));
		return -1;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int r = net_bind(fd, (struct sockaddr *)&a, sizeof(a));
	if (r < 0) {
		snprintf(err, errlen, "bind to UDP port %u: %s", port, strerror(-r));
		net_close(fd);
		return -1;
	}
	sv->fd = fd;
	return 0;
}

static int udp_service_pollfds(struct service *sv, struct pollfd *fds, int max)
{
	if (max < 1)
		return 0;
	fds[0] = (struct pollfd){ .fd = sv->fd, .events = POLLIN };
	return 1;
}

static void udp_service_stop(struct service *sv)
{
	net_close(sv->fd);
	sv->fd = -1;
}

/* RFC 862: "any datagram received is sent back as the data of an answering
 * datagram". */
static void echo_handle(struct service *sv, const struct pollfd *pfd)
{
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n;
	while ((n = net_recvfrom(pfd->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen)) >= 0) {
		net_sendto(pfd->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
		sv->count++;
		flen = sizeof(from);
	}
}

/* RFC 863: datagrams are received and thrown away. */
static void discard_handle(struct service *sv, const struct pollfd *pfd)
{
	while (net_recv(pfd->fd, buf, sizeof(buf), 0) >= 0)
		sv->count++;
}

/* RFC 864: the characters are the 95 printable ASCII characters; line k of
 * the pattern is 72 of them starting at character k, then CR LF. A
 * datagram answer holds a random number (0 to 512) of pattern bytes. */
static size_t chargen_fill(uint8_t *out, size_t len, uint64_t start)
{
	const int line = 74, width = 72;
	for (size_t i = 0; i < len; i++) {
		uint64_t pos = start + i;
		uint64_t row = pos / line, col = pos % line;
		if (col == (uint64_t)width)
			out[i] = '\r';
		else if (col == (uint64_t)width + 1)
			out[i] = '\n';
		else
			out[i] = (uint8_t)(' ' + (row + col) % 95);
	}
	return len;
}

static void chargen_handle(struct service *sv, const struct pollfd *pfd)
{
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	while (net_recvfrom(pfd->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen) >= 0) {
		size_t len = chargen_fill(buf, rng_below(&sv->rng, 513), 0);
		net_sendto(pfd->fd, buf, len, 0, (struct sockaddr *)&from, flen);
		sv->count++;
		flen = sizeof(from);
	}
}

static int echo_start(struct service *sv, char *err, size_t errlen)
{
	return udp_service_open(sv, 7, err, errlen);
}

static int discard_start(struct service *sv, char *err, size_t errlen)
{
	return udp_service_open(sv, 9, err, errlen);
}

static int chargen_start(struct service *sv, char *err, size_t errlen)
{
	return udp_service_open(sv, 19, err, errlen);
}

struct service service_udp_echo = {
	.name = "echo", .what = "UDP port 7: sends every datagram back (RFC 862)",
	.start = echo_start, .pollfds = udp_service_pollfds, .handle = echo_handle,
	.stop = udp_service_stop, .fd = -1,
};

struct service service_udp_discard = {
	.name = "discard", .what = "UDP port 9: receives and drops (RFC 863)",
	.start = discard_start, .pollfds = udp_service_pollfds, .handle = discard_handle,
	.stop = udp_service_stop, .fd = -1,
};

struct service service_udp_chargen = {
	.name = "chargen", .what = "UDP port 19: answers with 0-512 pattern characters (RFC 864)",
	.start = chargen_start, .pollfds = udp_service_pollfds, .handle = chargen_handle,
	.stop = udp_service_stop, .fd = -1,
};

/* tapreflect: the TAP ceiling for `make bench`. It attaches to an existing
 * TAP (as link/tap.c does), reads frames in bursts and writes each one back
 * with its source and destination MAC addresses swapped. No protocol work
 * at all: whatever rate it reaches is the most any program can get through
 * this TAP on this machine, the limit the stack works against.
 *
 *   tapreflect [--sink | --source] TAP SECONDS
 *
 * --sink only reads (the ceiling of one direction, kernel to program);
 * --source only writes one fixed 1514-byte frame again and again, a UDP
 * datagram from 10.0.0.2:9 to the kernel's 10.0.0.1:9 at MAC
 * 02:00:00:00:00:01 (the other direction, program to kernel).
 * Runs until SIGINT or SIGTERM, or SECONDS have passed (a bound, so it can
 * never run on), then prints what it did on stdout:
 *   read N frames (B bytes), wrote M frames, K write errors, B bursts
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BURST 64                /* frames read before they are written back */
#define FRAME_MAX 1600          /* a 1514-byte frame and room to spot a longer one */

static volatile sig_atomic_t stop;

/* Asks the main loop to end (SIGINT, SIGTERM). */
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Seconds on the monotonic clock (a bench tool may read the clock). */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Attaches to the TAP called name (IFF_TAP | IFF_NO_PI), non-blocking.
 * Returns the descriptor, or -1 after saying why on stderr. */
static int tap_attach(const char *name)
{
	struct ifreq ifr;
	int fd;

	if (strlen(name) == 0 || strlen(name) >= IFNAMSIZ || if_nametoindex(name) == 0) {
		fprintf(stderr, "tapreflect: no TAP named \"%s\" in this namespace\n", name);
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		perror("tapreflect: /dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "tapreflect: cannot attach to %s: %s\n", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes into f the 1514-byte frame --source sends: Ethernet from
 * 02:00:00:00:00:02 to 02:00:00:00:00:01, IPv4 10.0.0.2 -> 10.0.0.1 (header
 * checksum computed, RFC 791), UDP 9 -> 9 with no checksum (allowed on IPv4,
 * RFC 768), 1472 bytes of 'x'. Returns its length. */
static size_t source_frame(uint8_t *f)
{
	static const uint8_t head[42] = {
		2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
		0x45, 0, 0x05, 0xdc, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
		0, 9, 0, 9, 0x05, 0xc8, 0, 0,
	};
	uint32_t sum = 0;
	int i;

	memcpy(f, head, sizeof(head));
	memset(f + sizeof(head), 'x', 1514 - sizeof(head));
	for (i = 14; i < 34; i += 2)
		sum += (uint32_t)(f[i] << 8 | f[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	f[24] = (uint8_t)(sum >> 8);
	f[25] = (uint8_t)sum;
	return 1514;
}

/* Swaps the destination (bytes 0-5) and source (bytes 6-11) MAC addresses. */
static void swap_macs(uint8_t *f)
{
	uint8_t t[6];

	memcpy(t, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, t, 6);
}

int main(int argc, char **argv)
{
	static uint8_t buf[BURST][FRAME_MAX];
	size_t len[BURST];
	uint64_t nread = 0, nwritten = 0, werr = 0, bursts = 0, bytes = 0;
	struct sigaction sa;
	double end;
	int fd, sink = 0, source = 0;

	if (argc == 4 && strcmp(argv[1], "--sink") == 0)
		sink = 1;
	else if (argc == 4 && strcmp(argv[1], "--source") == 0)
		source = 1;
	if (argc != 3 + sink + source || atof(argv[argc - 1]) <= 0) {
		fprintf(stderr, "usage: tapreflect [--sink | --source] TAP SECONDS\n");
		return 2;
	}
	argv += sink + source;
	fd = tap_attach(argv[1]);
	if (fd < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	end = now_s() + atof(argv[2]);

	if (source) {
		size_t n = source_frame(buf[0]);

		/* A write to a TAP never waits: the kernel takes the frame at once. */
		while (!stop && now_s() < end) {
			if (write(fd, buf[0], n) == (ssize_t)n)
				nwritten++;
			else
				werr++;
		}
	}
	while (!source && !stop && now_s() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = 0, i;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		/* A burst: read until the kernel has no more, or BURST frames. */
		while (n < BURST) {
			ssize_t r = read(fd, buf[n], FRAME_MAX);

			if (r < 14)
				break;          /* EAGAIN, an error, or a runt: end of burst */
			len[n++] = (size_t)r;
			bytes += (uint64_t)r;
		}
		if (n == 0)
			continue;
		bursts++;
		nread += (uint64_t)n;
		for (i = 0; i < n && !sink; i++) {
			swap_macs(buf[i]);
			if (write(fd, buf[i], len[i]) == (ssize_t)len[i])
				nwritten++;
			else
				werr++;
		}
	}
	printf("read %llu frames (%llu bytes), wrote %llu frames, %llu write errors, %llu bursts\n",
	       (unsigned long long)nread, (unsigned long long)bytes, (unsigned long long)nwritten,
	       (unsigned long long)werr, (unsigned long long)bursts);
	close(fd);
	return 0;
}

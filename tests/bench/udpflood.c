/* udpflood: the kernel side's load for the TAP ceiling in `make bench`. It
 * sends UDP datagrams of SIZE bytes to ADDR:PORT as fast as an ordinary
 * UDP socket can for SECONDS, then prints what it sent. Each call hands the
 * kernel many datagrams at once with UDP segmentation offload (UDP_SEGMENT:
 * one send of up to 64 KB, cut into SIZE-byte datagrams by the kernel on its
 * way to the device), so that the sender costs as little as the kernel
 * allows and the TAP, not the sender, runs out first. If the kernel has no
 * UDP_SEGMENT it falls back to sendmmsg() of 64 datagrams.
 * Run it only inside the bench's own namespace, at an address there.
 *
 *   udpflood ADDR PORT SIZE SECONDS
 *   -> sent N datagrams of SIZE bytes in S s (N/S per second), E send errors (gso|mmsg)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64                /* datagrams per sendmmsg() without UDP_SEGMENT */
#define SIZE_MAX_UDP 1472       /* one 1500-byte IP packet: no fragments */
#define GSO_BYTES 65000         /* at most one IP datagram's worth per send */

/* Seconds on the monotonic clock. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends datagrams of size bytes on the connected socket fd until end (a
 * monotonic time), one GSO send of segs datagrams at a time. */
static void flood_gso(int fd, const char *buf, int size, int segs, double end,
		      unsigned long long *sent, unsigned long long *errs)
{
	size_t len = (size_t)size * (size_t)segs;

	while (now_s() < end) {
		if (send(fd, buf, len, 0) == (ssize_t)len)
			*sent += (unsigned long long)segs;
		else
			(*errs)++;      /* e.g. ENOBUFS, or ECONNREFUSED from an ICMP error */
	}
}

/* Sends datagrams of size bytes on the connected socket fd until end, BATCH
 * per sendmmsg() call. */
static void flood_mmsg(int fd, char *buf, int size, double end,
		       unsigned long long *sent, unsigned long long *errs)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int i;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = (size_t)size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (now_s() < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			*sent += (unsigned long long)n;
		else
			(*errs)++;
	}
}

int main(int argc, char **argv)
{
	static char payload[GSO_BYTES];
	struct sockaddr_in to;
	unsigned long long sent = 0, errs = 0;
	double start, t;
	int fd, size, segs, gso;

	if (argc != 5) {
		fprintf(stderr, "usage: udpflood ADDR PORT SIZE SECONDS\n");
		return 2;
	}
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	size = atoi(argv[3]);
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || size < 1 || size > SIZE_MAX_UDP ||
	    atof(argv[4]) <= 0) {
		fprintf(stderr, "udpflood: bad ADDR, SIZE (1-%d) or SECONDS\n", SIZE_MAX_UDP);
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("udpflood");
		return 1;
	}
	memset(payload, 'x', sizeof(payload));
	segs = GSO_BYTES / size;
	if (segs > 64)
		segs = 64;      /* the kernel's limit on segments per GSO send */
	gso = setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &size, sizeof(size)) == 0;

	start = now_s();
	if (gso)
		flood_gso(fd, payload, size, segs, start + atof(argv[4]), &sent, &errs);
	else
		flood_mmsg(fd, payload, size, start + atof(argv[4]), &sent, &errs);
	t = now_s() - start;
	printf("sent %llu datagrams of %d bytes in %.3f s (%.0f per second), "
	       "%llu send errors (%s)\n",
	       sent, size, t, (double)sent / t, errs, gso ? "gso" : "mmsg");
	close(fd);
	return 0;
}

/* tcpcat: moves bytes over one TCP connection of tapstack's own, like a
 * small nc. It connects (or listens and takes one connection), sends a
 * file or a number of pattern bytes, closes its sending side, and receives
 * until the peer closes, then prints what it sent and received with a
 * checksum (FNV-1a 64) of each, so two ends can be compared.
 *
 *   tcpcat --tap tap1 --ip 10.0.0.3/24 --send-bytes 100000000 10.0.0.2 9
 *   tcpcat --tap tap2 --ip 10.0.0.4/24 --listen 5000 --recv out.bin
 *   tcpcat --tap tap1 --ip 10.0.0.3/24 --ip6 fd00::3/64 --send-bytes 1000 fd00::2 7
 *   tcpcat --tap tap1 --ip 10.0.0.3/24 --rcvbuf 8192 --read-rate 1000/250 --listen 5000
 *
 * A slow reader (--read-rate N/MS, Lab 9): the host is single-threaded and
 * its time is passed in (stack/README.md), so tcpcat never sleeps: it
 * leaves the socket unread and waits in net_poll, which runs the host (its
 * timers, the frames that arrive) until the next read is due. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/host.h"
#include "stack/net.h"

static void usage(FILE *out)
{
	fputs("usage: tcpcat HOST-OPTIONS [SEND] [--recv FILE] [--recv-max N] ADDR PORT\n"
	      "       tcpcat HOST-OPTIONS [SEND] [--recv FILE] --listen PORT\n"
	      "\n"
	      "Connects to ADDR:PORT (IPv4 or IPv6; or waits for one connection on PORT, over\n"
	      "IPv6 too when the host has --ip6), sends, closes its\n"
	      "sending side, receives until the peer closes, and prints a summary:\n"
	      "  sent N bytes fnv64 X, received M bytes fnv64 Y\n"
	      "\n"
	      "  --send FILE        send the bytes of FILE\n"
	      "  --send-bytes N     send N bytes of a fixed pattern (byte i is i mod 251)\n"
	      "  --recv FILE        write what arrives to FILE\n"
	      "  --recv-max N       stop (and close) after receiving N bytes\n"
	      "  --listen PORT      wait for a connection instead of connecting\n"
	      "  --nodelay          turn Nagle's algorithm off (TCP_NODELAY)\n"
	      "  --rcvbuf BYTES     the receive buffer (SO_RCVBUF, set before listen or\n"
	      "                     connect; the stack keeps it within 2048..16777216)\n"
	      "  --read-rate N/MS   a slow reader: read at most N bytes every MS milliseconds,\n"
	      "                     and print the rate reached (e.g. 1000/250: 4000 bytes/s)\n"
	      "\n",
	      out);
	host_opts_usage(out);
}

/* FNV-1a, 64 bits: a checksum to compare two ends by eye. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

struct job {
	FILE *src;                 /* --send FILE, or NULL */
	long long send_bytes;      /* --send-bytes, or -1 */
	FILE *dst;                 /* --recv FILE, or NULL */
	long long recv_max;        /* -1 = until EOF */
	long rate_bytes;           /* --read-rate N/MS: N, or 0 = read all at once */
	long rate_ms;              /* ... and MS */
};

#define PATTERN_PERIOD 251 /* --send-bytes: byte i is i mod 251 */

/* Runs the exchange on a connected descriptor. Returns 0 or 1. */
static int exchange(int fd, struct job *j)
{
	static uint8_t buf[65536];
	/* the pattern, one buffer and a period long, made once: each chunk is
	 * a copy from the right phase (a division per byte made tcpcat, not
	 * the stack, the limit of a transfer) */
	static uint8_t pattern[sizeof(buf) + PATTERN_PERIOD];
	if (!pattern[PATTERN_PERIOD + 1])
		for (size_t k = 0; k < sizeof(pattern); k++)
			pattern[k] = (uint8_t)(k % PATTERN_PERIOD);
	uint64_t hs = 0xcbf29ce484222325ull, hr = hs;
	long long sent = 0, got = 0;
	int rc = 0;
	int one = 1;
	net_setsockopt(fd, SOL_SOCKET, SO_NONBLOCK, &one, sizeof(one));
	bool sending = j->src || j->send_bytes > 0, eof = false;
	size_t pend = 0, off = 0; /* buf[off..pend) waits to be sent */
	static uint8_t rbuf[65536];
	/* --read-rate: the host's time (us) when the next read is due, and
	 * the first and last reads, for the rate reached */
	struct stack *host = net_host_of(fd);
	int64_t period = (int64_t)j->rate_ms * 1000, next_read = 0, first = -1, last = 0;
	while ((sending || !eof) && !host_stop_requested()) {
		if (sending && off == pend) {
			off = 0;
			if (j->src) {
				pend = fread(buf, 1, sizeof(buf), j->src);
			} else {
				long long left = j->send_bytes - sent;
				pend = left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf);
				memcpy(buf, pattern + sent % PATTERN_PERIOD, pend);
			}
			if (pend == 0) {
				net_shutdown(fd, SHUT_WR); /* our FIN: "that's all" */
				sending = false;
			}
		}
		/* a slow reader waits for its next turn in net_poll (the host
		 * runs meanwhile: ACKs, window probes), never in sleep(3) */
		int64_t now = net_now(host);
		bool may_read = !eof && (!j->rate_bytes || now >= next_read);
		int wait_ms = 1000;
		if (!eof && !may_read)
			wait_ms = (int)((next_read - now + 999) / 1000);
		short ev = (may_read ? POLLIN : 0) | (sending ? POLLOUT : 0);
		/* nothing to ask of the socket: a negative descriptor, so that a
		 * POLLHUP (reported whatever is asked) does not end the wait */
		struct pollfd p = { .fd = ev ? fd : -1, .events = ev };
		if (net_poll(&p, 1, wait_ms) < 0)
			break;
		now = net_now(host);
		may_read = !eof && (!j->rate_bytes || now >= next_read);
		if (sending && off < pend) {
			ssize_t n = net_send(fd, buf + off, pend - off, 0);
			if (n > 0) {
				hs = fnv(hs, buf + off, (size_t)n);
				off += (size_t)n;
				sent += n;
			} else if (n != -EAGAIN) {
				fprintf(stderr, "tcpcat: send: %s after %lld bytes\n", strerror((int)-n), sent);
				rc = 1;
				break;
			}
		}
		/* without --read-rate: everything there is; with it, N bytes a turn */
		long budget = j->rate_bytes ? j->rate_bytes : LONG_MAX;
		while (may_read && !eof && budget > 0) {
			size_t want = budget < (long)sizeof(rbuf) ? (size_t)budget : sizeof(rbuf);
			ssize_t n = net_recv(fd, rbuf, want, 0);
			if (n == -EAGAIN)
				break;
			if (j->rate_bytes && n > 0) {
				if (budget == j->rate_bytes) {
					/* this turn's first read: the next turn is one
					 * period after the one due, or after now if the
					 * data came late (no credit saved up while
					 * nothing arrived) */
					next_read = (now - next_read < period ? next_read : now) + period;
					if (first < 0)
						first = now;
					last = now;
				}
				budget -= (long)n;
			}
			if (n < 0) {
				fprintf(stderr, "tcpcat: receive: %s after %lld bytes\n", strerror((int)-n), got);
				rc = 1;
				eof = true;
				sending = false;
				break;
			}
			if (n == 0) {
				eof = true;
				break;
			}
			if (j->recv_max >= 0 && got + n > j->recv_max)
				n = (ssize_t)(j->recv_max - got); /* no more than asked for */
			hr = fnv(hr, rbuf, (size_t)n);
			if (j->dst)
				fwrite(rbuf, 1, (size_t)n, j->dst);
			got += n;
			if (j->recv_max >= 0 && got >= j->recv_max) {
				eof = true;
				sending = false;
			}
		}
	}
	printf("sent %lld bytes fnv64 %016llx, received %lld bytes fnv64 %016llx\n", sent,
	       (unsigned long long)hs, got, (unsigned long long)hr);
	if (j->rate_bytes && first >= 0) {
		/* the turns from the first read to the last: the rate the app
		 * read at (the last turn's bytes arrive at its end, so the span
		 * counts one period per turn) */
		double secs = (double)(last - first + period) / 1e6;
		printf("read %lld bytes in %.3f s: %.0f bytes/s (--read-rate %ld/%ld allows %.0f)\n", got,
		       secs, (double)got / secs, j->rate_bytes, j->rate_ms,
		       (double)j->rate_bytes * 1000.0 / (double)j->rate_ms);
	}
	fflush(stdout);
	net_close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct host_opts o;
	struct job j = { .send_bytes = -1, .recv_max = -1 };
	long listen_port = -1;
	int nodelay = 0;
	int rcvbuf = 0; /* --rcvbuf, or 0: the stack's default */
	char *pos[2];
	int npos = 0;
	host_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		int r = host_opts_parse(&o, "tcpcat", argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (host_std_flag("tcpcat", a, usage)) {
			return 0;
		} else if (!strcmp(a, "--nodelay")) {
			nodelay = 1;
		} else if (!strcmp(a, "--send") && v) {
			if (!(j.src = fopen(v, "rb"))) {
				fprintf(stderr, "tcpcat: cannot read %s: %s\n", v, strerror(errno));
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--recv") && v) {
			if (!(j.dst = fopen(v, "wb"))) {
				fprintf(stderr, "tcpcat: cannot write %s: %s\n", v, strerror(errno));
				return 2;
			}
			i++;
		} else if ((!strcmp(a, "--send-bytes") || !strcmp(a, "--recv-max") || !strcmp(a, "--listen")) && v) {
			char *end;
			long long n = strtoll(v, &end, 10);
			if (*end || n < 0 || (!strcmp(a, "--listen") && (n < 1 || n > 65535))) {
				fprintf(stderr, "tcpcat: %s: '%s' is not a number in range\n", a, v);
				return 2;
			}
			if (a[2] == 's')
				j.send_bytes = n;
			else if (a[2] == 'r')
				j.recv_max = n;
			else
				listen_port = (long)n;
			i++;
		} else if (!strcmp(a, "--rcvbuf") && v) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || end == v || n < 1 || n > INT_MAX) {
				fprintf(stderr, "tcpcat: --rcvbuf: '%s' is not a number of bytes\n", v);
				return 2;
			}
			rcvbuf = (int)n;
			i++;
		} else if (!strcmp(a, "--read-rate") && v) {
			char *end, *end2 = NULL;
			long n = strtol(v, &end, 10), ms = -1;
			if (*end == '/')
				ms = strtol(end + 1, &end2, 10);
			if (end == v || ms < 1 || !end2 || *end2 || end2 == end + 1 || n < 1 ||
			    n > 1000000000 || ms > 3600000) {
				fprintf(stderr, "tcpcat: --read-rate: '%s' is not N/MS (N bytes every MS ms, "
					"e.g. 1000/250)\n", v);
				return 2;
			}
			j.rate_bytes = n;
			j.rate_ms = ms;
			i++;
		} else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "tcpcat: unknown option '%s' (see tcpcat --help)\n", a);
			return 2;
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			fprintf(stderr, "tcpcat: too many arguments (see --help)\n");
			return 2;
		}
	}
	struct sockaddr_storage to;
	socklen_t tolen = 0;
	memset(&to, 0, sizeof(to));
	if (listen_port < 0) {
		long port = npos == 2 ? strtol(pos[1], NULL, 10) : 0;
		if (npos != 2 || port < 1 || port > 65535 ||
		    net_sockaddr_pton(pos[0], (uint16_t)port, &to, &tolen) < 0) {
			fprintf(stderr, "tcpcat: give ADDR PORT (an IPv4 or IPv6 address and a port), "
				"or --listen PORT\n");
			return 2;
		}
	}
	if (host_opts_check(&o, "tcpcat") < 0)
		return 2;
	struct host h;
	char err[256];
	if (host_open(&h, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "tcpcat: %s\n", err);
		return 1;
	}
	int fd = -1, r = 0;
	if (listen_port >= 0) {
		/* one listener per family (AF_INET6 sockets are IPv6-only); the
		 * first connection on either is the one */
		struct pollfd l[2];
		int nl = 0;
		for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
			if (family == AF_INET6 && !net_family_available(AF_INET6))
				break;
			struct sockaddr_storage me;
			socklen_t mlen;
			net_sockaddr_pton(family == AF_INET ? "0.0.0.0" : "::", (uint16_t)listen_port,
					  &me, &mlen);
			int lfd = net_socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (nodelay)
				net_setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay));
			/* before listen: the accepted connection takes the listener's
			 * buffer, and its SYN-ACK's window scale follows from it */
			if ((r = lfd) < 0 ||
			    (rcvbuf && (r = net_setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf))) < 0) ||
			    (r = net_bind(lfd, (struct sockaddr *)&me, mlen)) < 0 ||
			    (r = net_listen(lfd, 1)) < 0) {
				fprintf(stderr, "tcpcat: listen on port %ld: %s\n", listen_port, strerror(-r));
				host_close(&h);
				return 1;
			}
			l[nl++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		}
		while (fd < 0) {
			r = net_poll(l, (nfds_t)nl, -1);
			if (r < 0) {
				fd = r;
				break;
			}
			for (int i = 0; i < nl && fd < 0; i++)
				if (l[i].revents & POLLIN)
					fd = net_accept(l[i].fd, NULL, NULL);
			if (fd == -EAGAIN)
				fd = -1;
			else if (fd < -1)
				break;
		}
		for (int i = 0; i < nl; i++)
			net_close(l[i].fd);
		if (fd < 0) {
			fprintf(stderr, "tcpcat: accept: %s\n", strerror(-fd));
			host_close(&h);
			return 1;
		}
		int off = 0;
		net_setsockopt(fd, SOL_SOCKET, SO_NONBLOCK, &off, sizeof(off));
	} else if ((fd = net_socket(to.ss_family, SOCK_STREAM, 0)) < 0 ||
		   (nodelay && net_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay,
					      sizeof(nodelay)) < 0) ||
		   /* before connect: the SYN's window scale follows from it */
		   (rcvbuf && (r = net_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf))) < 0) ||
		   /* blocking: it waits for our IPv6 address's DAD too (net.h) */
		   (r = net_connect(fd, (struct sockaddr *)&to, tolen)) < 0) {
		if (fd < 0)
			r = fd;
		fprintf(stderr, "tcpcat: connect to %s:%s: %s\n", pos[0], pos[1], strerror(-r));
		host_close(&h);
		return 1;
	}
	int rc = exchange(fd, &j);
	if (j.src)
		fclose(j.src);
	if (j.dst)
		fclose(j.dst);
	/* let the connection finish closing before the host goes away, up to
	 * TIME-WAIT: there the close is complete, and staying 2 s more would
	 * only re-acknowledge a FIN retransmitted because our last ACK was
	 * lost (RFC 9293 3.6.1; the peer then ends its LAST-ACK by timeout) */
	for (int i = 0; i < 40 && h.s.tcp.count > h.s.tcp.time_wait && !host_stop_requested(); i++)
		host_loop_once(&h, 50000);
	host_close(&h);
	return rc;
}

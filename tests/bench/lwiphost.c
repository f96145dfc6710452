/* lwiphost: lwIP on a TAP, the reference stack for `make bench`. It is a
 * bench peer only: built by `make bench` against Debian's liblwip (2.1.3,
 * the contrib unix port), never by `make` or `make test`, and nothing of
 * tapstack links it.
 *
 *   lwiphost --tap TAP --ip A.B.C.D/LEN --gw A.B.C.D --mac XX:XX:XX:XX:XX:XX
 *
 * It serves, on TCP: echo (7, RFC 862), discard (9, RFC 863) and chargen
 * (19, RFC 864); pings are answered by lwIP's own ICMP. It runs until
 * SIGINT or SIGTERM.
 *
 * Which lwIP API: the raw (callback) API, run in lwIP's tcpip thread. Its
 * callbacks are called by the stack itself as segments arrive and are
 * acknowledged, with no message to another thread and no copy into a socket
 * buffer, so this is lwIP's best honest figure here (the socket and netconn
 * APIs add a mailbox hand-off per receive and per send). The setup (netif,
 * listeners) runs in the main thread under the core lock
 * (LWIP_TCPIP_CORE_LOCKING is 1 in Debian's build).
 *
 * lwIP as Debian builds it (/usr/include/lwip/lwipopts.h): NO_SYS 0, core
 * locking, TCP_MSS 1460, TCP_WND 0xFFFF with window scaling (TCP_RCV_SCALE
 * 1; the window stays at most 64 KB since TCP_WND is 0xFFFF), TCP_SND_BUF =
 * TCP_WND. None of that is tuned here: the figures are lwIP as Debian ships
 * it.
 *
 * The link: not lwIP's unix tapif (contrib/ports/unix/port/netif/tapif.c,
 * exported as tapif_init/tapif_poll, the TAP named by PRECONFIGURED_TAPIF).
 * In Debian's 2.1.3 build it corrupts the heap on the first full-sized frame:
 * it takes a PBUF_POOL buffer of 616 bytes (the pool is sized for a 536-byte
 * MSS, not lwipopts.h's 1460) and pbuf_take() writes the whole 1514-byte
 * frame into it (seen with valgrind: "invalid write ... 0 bytes after a block
 * of size 616", then glibc aborts; pings, being small, work). So this file
 * has its own netif driver, as a port of lwIP does: a thread reads the TAP
 * (IFF_TAP | IFF_NO_PI, like link/tap.c), copies each frame into a
 * PBUF_RAM pbuf of its size and gives it to ethernet_input under the core
 * lock, a burst of frames per lock (what tcpip_input does with
 * LWIP_TCPIP_CORE_LOCKING_INPUT, minus its mailbox hand-off); frames out are
 * written from linkoutput. lwIP's timers run in its own tcpip thread.
 *
 * --help, --version; a bad flag: one line on stderr, exit 2. No --trace
 * (lwIP's own debug output is compiled out in Debian's build). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#define PROG "lwiphost"
#define VERSION "0.1.0"

enum kind { ECHO, DISCARD, CHARGEN };

/* RFC 864: line k of the pattern is 72 printable characters starting at
 * character k (of 95), then CR LF; after 95 lines it repeats. The whole
 * period, twice over, so that any TCP_SND_BUF-sized piece from any offset is
 * one contiguous slice. */
#define CHARGEN_PERIOD (95 * 74)
static char pattern[2 * CHARGEN_PERIOD + 65536];

/* One connection: what it serves, and chargen's place in the pattern. */
struct conn {
	enum kind kind;
	size_t pos;
};

#define FRAME_MAX 1518 /* a 1514-byte frame and room to spot a longer one */
#define BURST 64       /* frames given to lwIP per taking of the core lock */

static struct netif netif;
static int tap_fd = -1;
static unsigned long frames_in, frames_out, frames_long, write_errors;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " --tap TAP --ip A.B.C.D/LEN --gw A.B.C.D --mac XX:XX:XX:XX:XX:XX\n"
		"lwIP (Debian's liblwip, raw API) on an existing TAP, a reference peer for make bench:\n"
		"TCP echo (7), discard (9) and chargen (19); lwIP's own ICMP answers pings.\n"
		"Runs until SIGINT or SIGTERM.\n"
		"  --tap TAP    the TAP to attach to (it must exist)\n"
		"  --ip A/LEN   the address and prefix length\n"
		"  --gw A       the default gateway\n"
		"  --mac M      the Ethernet address\n"
		"  --help, --version\n");
}

/* Fills the pattern buffer (RFC 864). */
static void pattern_fill(void)
{
	for (size_t i = 0; i < sizeof(pattern); i++) {
		size_t row = (i / 74) % 95, col = i % 74;
		pattern[i] = col == 72 ? '\r' : col == 73 ? '\n' : (char)(' ' + (row + col) % 95);
	}
}

/* chargen: queues as much of the pattern as lwIP's send buffer takes, then
 * sends. Called on accept and from the sent callback (tcpip thread). */
static void chargen_push(struct tcp_pcb *pcb, struct conn *c)
{
	u16_t room = tcp_sndbuf(pcb);
	u16_t mss = tcp_mss(pcb);
	while (room > 0) {
		u16_t n = room > mss ? mss : room;
		/* the buffer is static: no copy needed, lwIP refers to it */
		if (tcp_write(pcb, pattern + c->pos, n, TCP_WRITE_FLAG_MORE) != ERR_OK)
			break; /* ERR_MEM: the queue of segments is full */
		c->pos = (c->pos + n) % CHARGEN_PERIOD;
		room = tcp_sndbuf(pcb);
	}
	tcp_output(pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct conn *c = arg;
	(void)len;
	if (c && c->kind == CHARGEN)
		chargen_push(pcb, c);
	return ERR_OK;
}

/* The connection is gone (RST, or out of memory): lwIP has freed pcb. */
static void on_err(void *arg, err_t err)
{
	(void)err;
	free(arg);
}

/* Closes our side; the state goes with it. */
static void conn_close(struct tcp_pcb *pcb, struct conn *c)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	free(c);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
}

/* Data (or the peer's FIN, p == NULL) has come. discard and chargen drop
 * it; echo queues it back (if the send buffer has no room, returning
 * ERR_MEM makes lwIP keep the pbuf and offer it again later). */
static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;
	(void)err;
	if (!p) {
		conn_close(pcb, c);
		return ERR_OK;
	}
	if (c->kind == ECHO) {
		/* one tcp_write: it queues all or nothing, so ERR_MEM never
		 * leaves part of p queued (that part would go out twice) */
		static char buf[65536]; /* tot_len is a u16_t */
		if (tcp_sndbuf(pcb) < p->tot_len)
			return ERR_MEM;
		pbuf_copy_partial(p, buf, p->tot_len, 0);
		if (tcp_write(pcb, buf, p->tot_len, TCP_WRITE_FLAG_COPY) != ERR_OK)
			return ERR_MEM;
		tcp_output(pcb);
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->kind = (enum kind)(intptr_t)arg;
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_nagle_disable(pcb);
	if (c->kind == CHARGEN)
		chargen_push(pcb, c);
	return ERR_OK;
}

/* Opens a listener on port for kind (core lock held). */
static int listen_on(u16_t port, enum kind kind)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!pcb || tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
		fprintf(stderr, PROG ": cannot bind TCP port %u\n", port);
		return -1;
	}
	struct tcp_pcb *l = tcp_listen_with_backlog(pcb, 255);
	if (!l) {
		fprintf(stderr, PROG ": cannot listen on TCP port %u\n", port);
		return -1;
	}
	tcp_arg(l, (void *)(intptr_t)kind);
	tcp_accept(l, on_accept);
	return 0;
}

/* ---- the link: our own netif driver on the TAP ---- */

/* Attaches to the existing TAP called name. Returns the descriptor or -1. */
static int tap_attach(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, PROG ": /dev/net/tun: %s\n", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, PROG ": TUNSETIFF %s: %s\n", name, strerror(errno));
		close(fd);
		return -1;
	}
	/* The TAP's offloads belong to the interface and outlive the tapstack
	 * host that turned them on: off, or the kernel hands lwIP frames with
	 * unfinished checksums (and GRO'd ones past its MTU) */
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		fprintf(stderr, PROG ": TUNSETOFFLOAD %s: %s\n", name, strerror(errno));
		close(fd);
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return fd;
}

/* netif->linkoutput (called by lwIP with the core lock held): writes the
 * frame p to the TAP. */
static err_t link_output(struct netif *nif, struct pbuf *p)
{
	static u8_t frame[FRAME_MAX];
	(void)nif;
	if (p->tot_len > sizeof(frame)) {
		write_errors++;
		return ERR_IF;
	}
	u16_t n = pbuf_copy_partial(p, frame, p->tot_len, 0);
	for (int tries = 0; tries < 1000; tries++) {
		if (write(tap_fd, frame, n) == (ssize_t)n) {
			frames_out++;
			return ERR_OK;
		}
		if (errno != EAGAIN && errno != EINTR)
			break;
		struct pollfd pfd = { .fd = tap_fd, .events = POLLOUT };
		poll(&pfd, 1, 10);
	}
	write_errors++;
	return ERR_IF;
}

/* netif_add's init function: an Ethernet interface with ARP. */
static err_t link_init(struct netif *nif)
{
	nif->name[0] = 't';
	nif->name[1] = 'p';
	nif->output = etharp_output;
	nif->linkoutput = link_output;
	nif->mtu = 1500;
	nif->hwaddr_len = ETH_HWADDR_LEN;
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		     NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

/* The reader thread: waits for frames, then gives a burst of them to lwIP
 * under the core lock, each in a PBUF_RAM pbuf of its own size. */
static void *link_reader(void *arg)
{
	static u8_t frame[FRAME_MAX];
	(void)arg;
	for (;;) {
		struct pollfd pfd = { .fd = tap_fd, .events = POLLIN };
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return NULL;
		LOCK_TCPIP_CORE();
		for (int i = 0; i < BURST; i++) {
			ssize_t n = read(tap_fd, frame, sizeof(frame));
			if (n <= 0)
				break;
			if (n > 1514) {
				frames_long++;
				continue;
			}
			struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
			if (!p)
				break;
			pbuf_take(p, frame, (u16_t)n);
			frames_in++;
			if (netif.input(p, &netif) != ERR_OK)
				pbuf_free(p);
		}
		UNLOCK_TCPIP_CORE();
	}
}

/* A bad flag or value: one line, exit 2. */
static void bad(const char *what, const char *value)
{
	fprintf(stderr, PROG ": %s%s%s (see --help)\n", what, value ? " " : "", value ? value : "");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *tap = NULL, *ip = NULL, *gw = NULL, *mac = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--version") == 0) {
			printf(PROG " " VERSION " (lwIP %s)\n", LWIP_VERSION_STRING);
			return 0;
		}
		const char **slot = strcmp(a, "--tap") == 0 ? &tap : strcmp(a, "--ip") == 0 ? &ip :
				    strcmp(a, "--gw") == 0 ? &gw : strcmp(a, "--mac") == 0 ? &mac : NULL;
		if (!slot)
			bad("unknown flag", a);
		if (i + 1 >= argc)
			bad("missing value after", a);
		*slot = argv[++i];
	}
	if (!tap || !ip || !gw || !mac)
		bad("--tap, --ip, --gw and --mac are required", NULL);
	if (strlen(tap) >= IFNAMSIZ || if_nametoindex(tap) == 0)
		bad("no TAP of that name here:", tap);

	char addr[32];
	unsigned len = 0;
	const char *slash = strchr(ip, '/');
	struct in_addr in_ip, in_gw;
	if (!slash || (size_t)(slash - ip) >= sizeof(addr) || sscanf(slash + 1, "%u", &len) != 1 || len > 32)
		bad("--ip wants A.B.C.D/LEN, not", ip);
	memcpy(addr, ip, (size_t)(slash - ip));
	addr[slash - ip] = '\0';
	if (inet_pton(AF_INET, addr, &in_ip) != 1)
		bad("--ip wants A.B.C.D/LEN, not", ip);
	if (inet_pton(AF_INET, gw, &in_gw) != 1)
		bad("--gw wants A.B.C.D, not", gw);
	unsigned m[6];
	char extra;
	if (sscanf(mac, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &extra) != 6)
		bad("--mac wants XX:XX:XX:XX:XX:XX, not", mac);
	for (int k = 0; k < 6; k++)
		if (m[k] > 255)
			bad("--mac wants XX:XX:XX:XX:XX:XX, not", mac);

	tap_fd = tap_attach(tap);
	if (tap_fd < 0)
		return 1;
	pattern_fill();

	/* SIGINT and SIGTERM are blocked in every thread (lwIP's inherit the
	 * mask) and taken by sigwait below. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	tcpip_init(NULL, NULL);
	ip4_addr_t a, mask, g;
	a.addr = in_ip.s_addr;
	mask.addr = len ? htonl(0xffffffffu << (32 - len)) : 0;
	g.addr = in_gw.s_addr;
	LOCK_TCPIP_CORE();
	if (!netif_add(&netif, &a, &mask, &g, NULL, link_init, ethernet_input)) {
		UNLOCK_TCPIP_CORE();
		fprintf(stderr, PROG ": cannot attach to %s\n", tap);
		return 1;
	}
	for (int k = 0; k < 6; k++)
		netif.hwaddr[k] = (u8_t)m[k];
	netif_set_default(&netif);
	netif_set_up(&netif);
	int ok = listen_on(7, ECHO) == 0 && listen_on(9, DISCARD) == 0 && listen_on(19, CHARGEN) == 0;
	UNLOCK_TCPIP_CORE();
	if (!ok)
		return 1;
	pthread_t reader;
	if (pthread_create(&reader, NULL, link_reader, NULL) != 0) {
		fprintf(stderr, PROG ": cannot start the reader thread\n");
		return 1;
	}
	fprintf(stderr, PROG ": lwIP %s on %s, %s, serving echo discard chargen\n",
		LWIP_VERSION_STRING, tap, ip);

	int sig = 0;
	sigwait(&stop, &sig);
	LOCK_TCPIP_CORE();
	fprintf(stderr, PROG ": %lu frames in, %lu out, %lu too long, %lu write errors\n",
		frames_in, frames_out, frames_long, write_errors);
	UNLOCK_TCPIP_CORE();
	/* lwIP's threads have no way to stop: the process ends with them. */
	return 0;
}

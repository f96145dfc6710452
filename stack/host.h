/* A host on a real TAP: the common command-line flags every program takes,
 * and the setup that turns them into a running stack (device chain
 * pcap(impair(tap)), interface, address, gateway, control socket).
 *
 * An app's main() is:
 *
 *     struct host_opts o;
 *     host_opts_init(&o);
 *     for (int i = 1; i < argc; i++) {
 *             int r = host_opts_parse(&o, "myapp", argc, argv, &i);
 *             if (r < 0) return 2;           // message already printed
 *             if (r > 0) continue;           // a common flag
 *             ...                            // the app's own flags
 *     }
 *     struct host h;
 *     if (host_open(&h, &o, err, sizeof err) < 0) ...
 */
#ifndef TAPSTACK_HOST_H
#define TAPSTACK_HOST_H

#include <stdbool.h>
#include <stdio.h>

#include "link/impair.h"
#include "stack/stack.h"

#define HOST_CTL_DIR "/run/tapstack"
#define HOST_DHCP_WAIT_MS 30000   /* host_open waits this long for a --ip dhcp lease */

/* An interface after the first: a --tap given again, with the --ip, --ip6
 * and --mac that follow it (the first interface's are in struct host_opts
 * itself, so a one-interface command line reads as it always did). */
struct host_ifopts {
	const char *tap;
	uint32_t ip4;             /* host order */
	int ip4_prefix;
	bool has_ip4;
	bool dhcp4;               /* --ip dhcp: the address from a DHCP server (ip/dhcp.h) */
	struct ipaddr ip6;
	int ip6_prefix;
	bool has_ip6;
	uint8_t mac[ETH_ALEN];    /* default 02:00 + the IPv4 address, as the first */
	bool has_mac;
};

/* A static route, --route PREFIX via GW [dev TAP]. */
struct host_route {
	uint32_t prefix;          /* host order (IPv4) */
	int len;
	uint32_t gw;
	char dev[16];             /* a --tap's name; "": the interface whose subnet holds gw */
	bool v6;                  /* an IPv6 route: prefix6/len via gw6, not prefix and gw */
	struct ipaddr prefix6, gw6;
};

#define HOST_MAX_ROUTES 16

struct host_opts {
	const char *tap;          /* --tap NAME (required) */
	uint32_t ip4;             /* --ip ADDR/LEN (required), host order */
	int ip4_prefix;
	bool has_ip4;
	bool dhcp4;               /* --ip dhcp: the address, mask, gateway and DNS server
				     from a DHCP server (ip/dhcp.h); default MAC from the seed */
	uint32_t gw4;             /* --gw ADDR */
	bool has_gw4;
	struct ipaddr ip6;         /* --ip6 ADDR/LEN (a static IPv6 address) */
	int ip6_prefix;
	bool has_ip6;
	bool eui64;               /* --eui64: SLAAC identifiers from the MAC (RFC 4291) */
	uint8_t mac[ETH_ALEN];    /* --mac MAC; default 02:00 + the IPv4 address */
	bool has_mac;
	const char *pcap;         /* --pcap FILE */
	bool trace;               /* --trace */
	bool no_offload;          /* --no-offload: plain 1514-byte frames on the TAP */
	struct impair_cfg impair; /* --impair SPEC */
	uint64_t seed;            /* --seed N; default from getrandom() */
	bool has_seed;
	const char *ctl;          /* --ctl PATH; default /run/tapstack/TAP.ctl; "none" disables */
	char ctl_default[108];
	int64_t rto_min_us;       /* --rto-min MS: TCP's minimum RTO; 0 = the default (200 ms) */
	const char *cc;           /* --cc NAME: TCP congestion control; NULL = the default */
	const char *tcp_trace;    /* --tcp-trace FILE: CSV of TCP events (tcp/tcp_trace.h) */
	uint32_t iw_segs;         /* --iw N: TCP initial window in segments; 0 = RFC 6928's */
	const char *firewall;     /* --firewall RULES or the text of --firewall-file (ip/firewall.h) */
	unsigned fw_flows;        /* --firewall-flows N: its table's size; 0 = FW_FLOWS_DEFAULT */
	struct host_ifopts more[STACK_MAX_IFS - 1]; /* --tap again: the other interfaces */
	int nmore;
	bool forward;             /* --forward: route IPv4 and IPv6 between the interfaces (RFC 1812, 8200) */
	struct host_route routes[HOST_MAX_ROUTES]; /* --route, in the order given */
	int nroutes;
	unsigned syn_backlog;     /* --syn-backlog N: TCP half-open connections; 0 = 1024 */
	uint32_t challenge_acks;  /* --challenge-acks N: TCP challenge ACKs per second per host; 0 = 1000 */
	int syncookies;           /* --syncookies auto|always|never: enum tcp_syncookies (0 = auto) */
	bool no_sack;             /* --no-sack: TCP neither offers nor accepts SACK (RFC 2018) */
	unsigned max_tw;          /* --tcp-max-tw N: TCP TIME-WAIT entries; 0 = TCP_MAX_TW_DEFAULT */
	unsigned max_orphans;     /* --tcp-max-orphans N: TCP orphans; 0 = TCP_MAX_ORPHANS_DEFAULT */
	uint64_t tcp_mem_low, tcp_mem_high; /* --tcp-mem LOW,HIGH: bytes of TCP rings; 0 = the defaults */
};

void host_opts_init(struct host_opts *o);

/* Parses the common flag at argv[*i] (and its value, advancing *i).
 * Returns 1 if it was a common flag, 0 if it is not one (the caller handles
 * it), -1 after printing "PROG: what is wrong" on stderr. */
int host_opts_parse(struct host_opts *o, const char *prog, int argc, char **argv, int *i);

/* The flags every program answers the same way: --help and -h print
 * usage on stdout, --version prints "PROG VERSION". Returns 1 if arg was
 * one of them (the caller exits 0), 0 if not. */
int host_std_flag(const char *prog, const char *arg, void (*usage)(FILE *out));

/* Checks that the required flags are there; -1 after printing why. */
int host_opts_check(struct host_opts *o, const char *prog);

/* Prints the common flags' help. */
void host_opts_usage(FILE *out);

/* Applies the flags that tune a built stack (--rto-min, --cc, --iw, --no-sack) to s;
 * host_open calls it after stack_init. */
void host_opts_apply(const struct host_opts *o, struct stack *s);

struct host {
	struct stack s;
	struct netdev *dev;       /* the outermost device of the chain */
	struct netif *ifp;
	struct netdev *more[STACK_MAX_IFS - 1]; /* the other interfaces' TAPs (--tap again) */
	int nmore;
	int ctl_fd;               /* listening control socket, or -1 */
	char ctl_path[108];
};

/* Opens the TAP, wraps it, builds the stack and starts it. With --ip dhcp
 * it then runs the host until the lease is bound (at most
 * HOST_DHCP_WAIT_MS; after that it says so on stderr and goes on, the
 * client still asking), so a program's first packet has its address.
 * Returns 0, or -1 with a message that says what to do in err. */
int host_open(struct host *h, const struct host_opts *o, char *err, size_t errlen);

/* Stops the host: flushes the pcap, closes the devices and the control
 * socket (removing its file). */
void host_close(struct host *h);

/* Runs the host until a SIGINT or SIGTERM arrives. Returns 0. The loop
 * (stack/loop.c) is the only code that reads the real clock. */
int host_run(struct host *h);

/* One turn of the loop: waits at most max_wait_us for a frame, a control
 * client or the next deadline, then handles everything due. Blocking
 * socket calls turn it until they can complete. */
void host_loop_once(struct host *h, int64_t max_wait_us);

/* Makes SIGINT and SIGTERM ask the program to stop: blocking socket calls
 * then return -EINTR and host_run returns. host_open() calls it. */
void host_catch_signals(void);

/* True once SIGINT or SIGTERM has arrived. */
int host_stop_requested(void);

/* Makes h the host of the socket API (net.h), with blocking calls waiting
 * in its loop. host_open() calls it. */
void host_attach_sockets(struct host *h);

/* The real monotonic clock in microseconds (loop.c). */
int64_t host_clock_now(void);

/* Wall-clock time minus host_clock_now(), for pcap timestamps. */
int64_t host_clock_epoch_offset(void);

#endif

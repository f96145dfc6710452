/* One host: its interfaces, neighbor cache, routes, counters and trace.
 *
 * The core is single-threaded and never reads a clock (stack/README.md,
 * decision 1): stack_poll() is given the time, does all the work due, and
 * stack_next_deadline() says when it wants to be called again. The event
 * loop in stack/loop.c drives a host on real time; tests drive it on
 * virtual time. */
#ifndef TAPSTACK_STACK_H
#define TAPSTACK_STACK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ip/addr.h"
#include "ip/dhcp.h"
#include "ip/icmp.h"
#include "ip/icmpv6.h"
#include "ip/ipv4_frag.h"
#include "ip/ipv6_frag.h"
#include "ip/ndp.h"
#include "ip/pmtu.h"
#include "ip/route.h"
#include "ip/udp.h"
#include "link/arp.h"
#include "link/eth.h"
#include "link/netdev.h"
#include "tcp/tcp.h"
#include "stack/pkt.h"
#include "stack/rng.h"
#include "stack/stats.h"

struct fw;

#define TAPSTACK_VERSION "0.1.0"
#define STACK_MAX_IFS 4
#define STACK_RX_BURST 64          /* frames read from one device per poll */
#define STACK_NO_DEADLINE INT64_MAX

/* An interface: a device plus the addresses this host has on it. */
struct netif {
	int index;
	struct netdev *dev;
	uint8_t mac[ETH_ALEN];
	unsigned mtu;
	uint32_t ip4;              /* host order; 0 = none yet */
	int ip4_prefix;
	struct ndp_if ip6;          /* IPv6 addresses and state (ip/ndp.h) */
	struct eth_mcast mcast[ETH_MCAST_MAX]; /* multicast filter: group MACs accepted
						  (link/eth.c netif_mcast_add) */
	int arp_announces_left;     /* gratuitous ARPs still to send (link/arp.c) */
	int64_t arp_announce_at;    /* when the next one is due */
	uint32_t arp_probe_ip;      /* an address being probed before use (RFC 5227 2.1,
				       ip/dhcp.c); 0: none */
	bool arp_probe_conflict;    /* link/arp.c saw another host claim it */
	struct dhcp_client dhcp;    /* --ip dhcp: the lease (ip/dhcp.h); state DHCP_OFF: none */
};

struct stack {
	char name[16];             /* shown in trace lines; "" for none */
	int64_t now;               /* time of the current entry point, microseconds */
	int64_t started;           /* time of stack_start(): trace lines count from it */
	int64_t wall_offset;       /* the wall clock (us since 1970) minus now; 0: unknown
				      (simulations): only IPv4 timestamps use it */
	struct rng rng;
	struct stats stats;
	FILE *trace;               /* NULL: tracing off, and free of cost */
	struct netif ifs[STACK_MAX_IFS];
	int nifs;
	struct arp_cache arp;
	struct route_table routes;
	struct icmp_state icmp;
	struct ndp_cache ndp;      /* IPv6 neighbor cache (RFC 4861) */
	struct icmpv6_state icmp6;
	struct reasm_table reasm;  /* IPv4 datagrams being reassembled */
	struct reasm_table reasm6;  /* IPv6 datagrams being reassembled */
	struct pmtu_cache pmtu;    /* path MTUs learned (RFC 8201, RFC 1191) */
	struct udp_table udp;      /* bound UDP sockets */
	struct tcp_table tcp;      /* TCP connections and listeners */
	struct ipv4_ident ip_ident; /* IPv4 identifications, per destination (ip/ipv4.h) */
	struct fw *fw;             /* the stateful packet filter (ip/firewall.h); NULL: off */
	bool ip_forward;           /* --forward: IPv4 and IPv6 datagrams not for us are routed on
				      (ip/forward.c, forward6.c); off: a host (RFC 1122 3.3.1) */
	bool rx_backlog;           /* the last poll read a full burst from a device: frames
				      wait faster than the host takes them (tcp_delay_ack) */
};

/* Prepares a host named name (may be "") with its generator seeded. */
void stack_init(struct stack *s, const char *name, uint64_t seed);

/* Frees every packet the host still holds. Devices are not closed: they
 * belong to whoever attached them. */
void stack_fini(struct stack *s);

/* Attaches a device with this MAC address; sets dev->stats to the host's
 * counters. Returns the interface, or NULL when there are STACK_MAX_IFS. */
struct netif *stack_add_netif(struct stack *s, struct netdev *dev, const uint8_t mac[ETH_ALEN]);

/* Gives ifp the IPv4 address addr/prefix (host order) and adds the
 * connected route. Returns 0 or a negative errno. */
int stack_set_ipv4(struct stack *s, struct netif *ifp, uint32_t addr, int prefix);

/* Adds a default route via gw (host order) on ifp. */
int stack_set_gateway4(struct stack *s, struct netif *ifp, uint32_t gw);

/* Brings the host up at time now: announces its addresses (gratuitous ARP). */
void stack_start(struct stack *s, int64_t now);

/* Does everything due at time now: reads up to STACK_RX_BURST frames from
 * each device and handles them, then runs the timers. Returns the number of
 * frames read (a caller that got a full burst should poll again at once). */
int stack_poll(struct stack *s, int64_t now);

/* When the host next needs stack_poll() for a timer or a delayed frame,
 * or STACK_NO_DEADLINE. Devices with an fd are polled by the event loop. */
int64_t stack_next_deadline(struct stack *s);

/* The interface with this index, or NULL. */
struct netif *stack_netif(struct stack *s, int ifindex);

/* Finds the interface that owns the IPv4 address a (host order), or NULL. */
struct netif *stack_netif_by_ip4(struct stack *s, uint32_t a);

/* Counts a drop under reason, traces "drop REASON DETAIL" (detail is a
 * printf format, may be NULL), and frees p (p may be NULL). */
void stack_drop(struct stack *s, struct pkt *p, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Writes one trace line "TIME NAME text" when tracing is on. Use TRACE() so
 * the arguments cost nothing when it is off. */
void stack_tracef(struct stack *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define TRACE(s, ...)                                  \
	do {                                           \
		if ((s)->trace)                        \
			stack_tracef((s), __VA_ARGS__); \
	} while (0)

/* Answers a control command ("stats", "neigh", "addrs", "routes", "sockets",
 * "dhcp", "help") on out.
 * Returns 0, or -1 for an unknown command (after writing what is known). */
int stack_report(struct stack *s, const char *cmd, FILE *out);

#endif

/* Neighbor discovery (RFC 4861) for IPv6 over Ethernet: the neighbor
 * cache with its NUD states on virtual time, neighbor solicitation and
 * advertisement, router solicitation and advertisement (routes, hop limit,
 * MTU, timers), and the IPv6 side of an interface. The interface's
 * addresses (link-local, static, SLAAC, duplicate address detection) are
 * ip/slaac.h. */
#ifndef TAPSTACK_NDP_H
#define TAPSTACK_NDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ip/addr.h"
#include "ip/mld.h"
#include "ip/route.h"
#include "ip/slaac.h"
#include "stack/pkt.h"

struct stack;
struct netif;
struct ip_rx;

/* RFC 4861 10, protocol constants (host side). */
#define NDP_MAX_MULTICAST_SOLICIT 3
#define NDP_MAX_UNICAST_SOLICIT 3
#define NDP_RETRANS_US 1000000          /* RETRANS_TIMER */
#define NDP_REACHABLE_US 30000000       /* REACHABLE_TIME (not randomized: tests replay) */
#define NDP_DELAY_US 5000000            /* DELAY_FIRST_PROBE_TIME */
#define NDP_HOP_LIMIT 255               /* RFC 4861 7.1: every ND message, sent and received */

#define NDP_MAX_RTR_SOLICIT 3            /* RFC 4861 10 MAX_RTR_SOLICITATIONS */
#define NDP_RTR_SOLICIT_US 4000000      /* RTR_SOLICITATION_INTERVAL */
#define NDP_RA_ROUTES 8                 /* routes learned from advertisements */

#define NDP_CACHE_SIZE 64
#define NDP_PENDING_MAX 4               /* packets queued per unresolved neighbor */

#define NDP_MAX_REACHABLE_MS 3600000    /* RFC 4861 6.2.1 MAX of AdvReachableTime */
#define NDP_LIFETIME_INFINITE 0xffffffffu /* RFC 4861 4.6.2: a lifetime of all ones */

/* Neighbor advertisement flags (RFC 4861 4.4), in the first word. */
#define NDP_NA_ROUTER 0x80000000u
#define NDP_NA_SOLICITED 0x40000000u
#define NDP_NA_OVERRIDE 0x20000000u

/* Option types (RFC 4861 4.6). */
#define NDP_OPT_SLLA 1
#define NDP_OPT_TLLA 2
#define NDP_OPT_PREFIX 3
#define NDP_OPT_MTU 5
#define NDP_MTU_OPT_LEN 8
#define NDP_PREFIX_ONLINK 0x80
#define NDP_PREFIX_AUTO 0x40

/* The IPv6 side of an interface. */
struct ndp_if {
	bool on;                  /* IPv6 enabled (a link-local address exists) */
	struct ip6_ifaddr addr[NDP_IF_ADDRS];
	bool solicit_routers;     /* send router solicitations (RFC 4861 6.3.7) */
	int rs_sent;
	int64_t rs_next;          /* next router solicitation (INT64_MAX: none due) */
	bool eui64;               /* --eui64: SLAAC identifiers from the MAC, not RFC 7217 */
	bool no_slaac;            /* ignore the A flag (RFC 4862 5.5.3 a) */
	/* RFC 4861 6.3.2 host variables an advertisement sets (0: the default) */
	unsigned mtu;             /* LinkMTU from the MTU option (6.3.4) */
	uint8_t cur_hop_limit;    /* CurHopLimit */
	int64_t reachable_us;     /* ReachableTime (BaseReachableTime, not randomized) */
	int64_t retrans_us;       /* RetransTimer */
	struct mld_if mld;        /* groups and their reports (ip/mld.h) */
};

/* A route learned from a router advertisement, removed when its lifetime
 * runs out: the default route via the router (router lifetime) or an
 * on-link prefix (prefix information option, L flag, valid lifetime). */
struct ndp_ra_route {
	bool used;
	struct route r;
	int64_t expires;
};

enum ndp_state {
	NDP_FREE = 0,
	NDP_INCOMPLETE,           /* solicitation sent, no answer; packets wait */
	NDP_REACHABLE,            /* confirmed within NDP_REACHABLE_US */
	NDP_STALE,                /* not confirmed lately: used, checked on use */
	NDP_DELAY,                /* used while STALE: wait for an upper-layer hint */
	NDP_PROBE,                /* unicast solicitations sent */
};

extern const char *const ndp_state_name[];

struct ndp_entry {
	enum ndp_state state;
	struct ipaddr ip;
	uint8_t mac[6];
	bool router;
	int ifindex;
	int probes;               /* solicitations sent in this state */
	int64_t timer;            /* next deadline (INT64_MAX for none) */
	int64_t confirmed;        /* time of the last reachability confirmation */
	int64_t used;             /* time a packet last went through the entry */
	struct pkt_queue pending; /* packets (p->data at the IPv6 header) waiting */
};

struct ndp_cache {
	struct ndp_entry e[NDP_CACHE_SIZE];
	struct ndp_ra_route ra[NDP_RA_ROUTES];
	uint8_t iid_key[16];      /* RFC 7217 secret_key */
};

struct ndp_msg {
	uint8_t type;             /* ICMP6_NEIGHBOR_SOLICIT or _ADVERT */
	uint32_t flags;           /* NA: R, S, O */
	struct ipaddr target;
	bool has_lla;             /* a source (NS) or target (NA) link-layer option */
	uint8_t lla[6];
};

/* Parses the body of an NS or NA (buf at the ICMPv6 header, len the whole
 * message). RFC 4861 7.1.1 / 7.1.2 checks that need no state. Returns NULL or
 * "ndp.short", "ndp.bad_code", "ndp.target_multicast", "ndp.bad_option". */
const char *ndp_parse(const uint8_t *buf, size_t len, uint8_t code, struct ndp_msg *m);

void ndp_cache_init(struct ndp_cache *c);

void ndp_cache_flush(struct ndp_cache *c);

/* The entry for ip, or NULL. */
struct ndp_entry *ndp_cache_lookup(struct ndp_cache *c, const struct ipaddr *ip);

/* The IPv6 MTU of ifp: LinkMTU from an RA, else the device's. */
unsigned ndp_link_mtu(const struct netif *ifp);

/* The default hop limit of ifp: CurHopLimit from an RA, else 64. */
uint8_t ndp_hop_limit(const struct netif *ifp);

/* RetransTimer and ReachableTime of ifp (RFC 4861 6.3.2): from an RA, else
 * NDP_RETRANS_US and NDP_REACHABLE_US (ifp may be NULL). */
int64_t ndp_retrans_us(const struct netif *ifp);
int64_t ndp_reachable_us(const struct netif *ifp);

/* Sends a neighbor solicitation for target on ifp (RFC 4861 7.2.2): to its
 * solicited-node group, or to target itself when unicast (a NUD probe);
 * with dad, from :: and with no link-layer option (RFC 4862 5.4.2). */
void ndp_send_ns(struct stack *s, struct netif *ifp, const struct ipaddr *target, bool unicast,
		 bool dad);

/* Handles a received NS, NA or RA (p->data at the ICMPv6 header, checksum
 * already checked). Consumes p. */
void ndp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *rx);

/* Sends the IPv6 packet p (p->data at the IPv6 header) to the neighbor
 * nexthop on ifp, resolving it first if need be. Consumes p. Returns 0 or a
 * negative errno. */
int ndp_output(struct stack *s, struct netif *ifp, struct pkt *p, const struct ipaddr *nexthop);

/* Runs what is due at s->now: the addresses' lifetimes and DAD
 * (ip/slaac.c), MLD, router solicitations, RA routes, the cache. */
void ndp_timer(struct stack *s);

/* The earliest deadline of ndp_timer's work, or INT64_MAX. */
int64_t ndp_next_deadline(struct stack *s);

/* Writes one line per entry in the style of `ip -6 neigh`:
 * "fd00::1 dev tap0 lladdr 02:00:00:00:00:01 REACHABLE age 1.2s queued 0". */
void ndp_cache_dump(const struct ndp_cache *c, int64_t now, FILE *out, ifname_fn ifname,
		    void *ctx);

#endif

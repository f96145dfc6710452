/* Neighbor discovery (RFC 4861) and address autoconfiguration (RFC 4862)
 * for IPv6 over Ethernet: the neighbor cache with its NUD states on virtual
 * time, neighbor solicitation and advertisement, duplicate address
 * detection, router advertisements (routes, hop limit, MTU, timers), and
 * each interface's IPv6 addresses: a link-local one from the MAC, static
 * ones from --ip6, and SLAAC ones from advertised prefixes with stable,
 * opaque interface identifiers (RFC 7217) or, with --eui64, the MAC's
 * modified EUI-64 (RFC 4291 appendix A). */
#ifndef TAPSTACK_NDP_H
#define TAPSTACK_NDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ip/addr.h"
#include "ip/mld.h"
#include "ip/route.h"
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
#define NDP_DAD_TRANSMITS 1             /* RFC 4862 5.1 DupAddrDetectTransmits */
#define NDP_HOP_LIMIT 255               /* RFC 4861 7.1: every ND message, sent and received */

#define NDP_MAX_RTR_SOLICIT 3            /* RFC 4861 10 MAX_RTR_SOLICITATIONS */
#define NDP_RTR_SOLICIT_US 4000000      /* RTR_SOLICITATION_INTERVAL */
#define NDP_RA_ROUTES 8                 /* routes learned from advertisements */

#define NDP_CACHE_SIZE 64
#define NDP_PENDING_MAX 4               /* packets queued per unresolved neighbor */
#define NDP_IF_ADDRS 8                  /* IPv6 addresses per interface */

/* RFC 4862 5.5.3 e): a valid lifetime is not cut below two hours by an
 * unauthenticated advertisement. */
#define NDP_TWO_HOURS_US (7200 * (int64_t)1000000)
#define NDP_IDGEN_RETRIES 3             /* RFC 7217 6: new identifiers after a DAD conflict */
#define NDP_MAX_REACHABLE_MS 3600000    /* RFC 4861 6.2.1 MAX of AdvReachableTime */
#define NDP_LIFETIME_INFINITE 0xffffffffu

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

enum ip6_addr_state {
	IP6_ADDR_NONE = 0,
	IP6_ADDR_TENTATIVE,       /* duplicate address detection running */
	IP6_ADDR_PREFERRED,       /* usable */
	IP6_ADDR_DUPLICATE,       /* DAD found another owner: never used */
	IP6_ADDR_DEPRECATED,      /* preferred lifetime over: answers, new traffic avoids it */
};

extern const char *const ip6_addr_state_name[];

/* Where an address came from. */
enum ip6_addr_origin {
	IP6_ORIGIN_LINKLOCAL = 0, /* fe80::/64 + modified EUI-64, always there */
	IP6_ORIGIN_STATIC,        /* --ip6 or ndp_addr_add() */
	IP6_ORIGIN_SLAAC,         /* a prefix from a router advertisement (RFC 4862 5.5.3) */
};

extern const char *const ip6_addr_origin_name[];

struct ip6_ifaddr {
	enum ip6_addr_state state;
	enum ip6_addr_origin origin;
	struct ipaddr addr;
	int prefix;
	int dad_sent;             /* DAD solicitations sent */
	int64_t dad_next;         /* next DAD event (send or conclude) */
	/* SLAAC: the identifier's kind and the lifetimes (RFC 4862 5.5.3),
	 * absolute times; INT64_MAX for ever (static and link-local ones) */
	bool eui64;               /* modified EUI-64, else RFC 7217 stable and opaque */
	uint8_t dad_counter;      /* RFC 7217 DAD_Counter the identifier was made with */
	int64_t preferred_until;
	int64_t valid_until;
};

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

/* Draws the RFC 7217 secret key of c from a generator seeded with seed (its
 * own, so that the host's other random choices stay as they were). */
void ndp_secret_init(struct ndp_cache *c, uint64_t seed);
void ndp_cache_flush(struct ndp_cache *c);

/* The entry for ip, or NULL. */
struct ndp_entry *ndp_cache_lookup(struct ndp_cache *c, const struct ipaddr *ip);

/* Turns IPv6 on for ifp: the link-local address fe80::/64 with the
 * modified EUI-64 interface identifier of its MAC (RFC 4291 2.5.1, appendix
 * A), tentative until DAD passes. Returns 0 or a negative errno. */
int ndp_if_enable(struct stack *s, struct netif *ifp);

/* Adds the address a/prefix to ifp (turning IPv6 on) and its on-link route;
 * it is tentative until DAD passes (RFC 4862 5.4). 0, -EINVAL, -ENOSPC. */
int ndp_addr_add(struct stack *s, struct netif *ifp, const struct ipaddr *a, int prefix);

/* The address entry of ifp for a (any state), or NULL. */
struct ip6_ifaddr *ndp_addr_find(struct netif *ifp, const struct ipaddr *a);

/* The link-local address of a MAC: fe80::/64 + modified EUI-64. */
struct ipaddr ndp_linklocal(const uint8_t mac[6]);

/* The first 64 bits of prefix followed by the modified EUI-64 of mac
 * (RFC 4291 2.5.1 and appendix A: ff:fe in the middle, the
 * universal/local bit inverted). */
struct ipaddr ndp_addr_eui64(const struct ipaddr *prefix, const uint8_t mac[6]);

/* RFC 7217 5: the first 64 bits of prefix followed by the stable, opaque
 * identifier RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter,
 * secret_key), F = SipHash-2-4 keyed with key over the message
 *     prefix (8 bytes) | ifname (its bytes, no NUL) | dad_counter (1 byte)
 * (Network_ID is optional and left out). */
struct ipaddr ndp_addr_stable(const uint8_t key[16], const struct ipaddr *prefix,
			      const char *ifname, uint8_t dad_counter);

/* True if the interface identifier of a (its last 8 bytes) is one RFC 5453
 * reserves: all zeros (subnet-router anycast), fdff:ffff:ffff:ff80 and up
 * (subnet anycast), 0200:5eff:fe00:0000 to 0200:5eff:feff:ffff. */
bool ndp_iid_reserved(const struct ipaddr *a);

/* True if ia may be used as a source or destination (preferred or
 * deprecated, RFC 4862 5.5.4). */
bool ndp_addr_usable(const struct ip6_ifaddr *ia);

/* The IPv6 MTU of ifp: LinkMTU from an RA, else the device's. */
unsigned ndp_link_mtu(const struct netif *ifp);

/* The default hop limit of ifp: CurHopLimit from an RA, else 64. */
uint8_t ndp_hop_limit(const struct netif *ifp);

/* Processes one prefix information option of an RA for SLAAC (RFC 4862
 * 5.5.3): prefix/len with lifetimes in seconds. Exposed for tests. */
void ndp_slaac_prefix(struct stack *s, struct netif *ifp, const struct ipaddr *prefix, int len,
		      uint32_t valid, uint32_t preferred);

/* Writes the IPv6 side of each interface: its parameters, one line per
 * address with origin, state and lifetimes, and the groups it joined:
 * "tap0 fd00:1::a9c3:.../64 slaac stable preferred valid 86399s preferred 14399s". */
void ndp_addrs_dump(struct stack *s, FILE *out);

/* True if ifp listens to the IPv6 group g (all-nodes, or the solicited-node
 * group of one of its addresses). */
bool ndp_joined(const struct netif *ifp, const struct ipaddr *g);

/* True if ifp listens to the Ethernet group mac (33:33:...). */
bool ndp_joined_mac(const struct netif *ifp, const uint8_t mac[6]);

/* Handles a received NS, NA or RA (p->data at the ICMPv6 header, checksum
 * already checked). Consumes p. */
void ndp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *rx);

/* Sends the IPv6 packet p (p->data at the IPv6 header) to the neighbor
 * nexthop on ifp, resolving it first if need be. Consumes p. Returns 0 or a
 * negative errno. */
int ndp_output(struct stack *s, struct netif *ifp, struct pkt *p, const struct ipaddr *nexthop);

/* Runs DAD and the neighbor cache's timers at s->now. */
void ndp_timer(struct stack *s);

/* The earliest deadline of DAD or of any entry, or INT64_MAX. */
int64_t ndp_next_deadline(struct stack *s);

/* Writes one line per entry in the style of `ip -6 neigh`:
 * "fd00::1 dev tap0 lladdr 02:00:00:00:00:01 REACHABLE age 1.2s queued 0". */
void ndp_cache_dump(const struct ndp_cache *c, int64_t now, FILE *out, ifname_fn ifname,
		    void *ctx);

#endif

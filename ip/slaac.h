/* The IPv6 addresses of an interface (RFC 4862 stateless address
 * autoconfiguration): a link-local one from the MAC, static ones from
 * --ip6, and SLAAC ones from advertised prefixes with stable, opaque
 * interface identifiers (RFC 7217) or, with --eui64, the MAC's modified
 * EUI-64 (RFC 4291 appendix A); duplicate address detection (RFC 4862 5.4)
 * and lifetimes (RFC 4862 5.5.4). Neighbor discovery itself is ip/ndp.h. */
#ifndef TAPSTACK_SLAAC_H
#define TAPSTACK_SLAAC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ip/addr.h"

struct stack;
struct netif;
struct ndp_cache;

#define NDP_DAD_TRANSMITS 1             /* RFC 4862 5.1 DupAddrDetectTransmits */
#define NDP_IF_ADDRS 8                  /* IPv6 addresses per interface */

/* RFC 4862 5.5.3 e): a valid lifetime is not cut below two hours by an
 * unauthenticated advertisement. */
#define NDP_TWO_HOURS_US (7200 * (int64_t)1000000)
#define NDP_IDGEN_RETRIES 3             /* RFC 7217 6: new identifiers after a DAD conflict */

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

/* Draws the RFC 7217 secret key of c from a generator seeded with seed (its
 * own, so that the host's other random choices stay as they were). */
void ndp_secret_init(struct ndp_cache *c, uint64_t seed);

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

/* Processes one prefix information option of an RA for SLAAC (RFC 4862
 * 5.5.3): prefix/len with lifetimes in seconds. Exposed for tests. */
void ndp_slaac_prefix(struct stack *s, struct netif *ifp, const struct ipaddr *prefix, int len,
		      uint32_t valid, uint32_t preferred);

/* True if ifp listens to the IPv6 group g (all-nodes, or the solicited-node
 * group of one of its addresses). */
bool ndp_joined(const struct netif *ifp, const struct ipaddr *g);

/* RFC 4862 5.4.5: another node has the address of ia (a DAD probe for it
 * from :: or an advertisement of it, how says which): it is never used. An
 * RFC 7217 address is made again with the next DAD_Counter (RFC 7217 6). */
void ndp_dad_failed(struct stack *s, struct netif *ifp, struct ip6_ifaddr *ia, const char *how);

/* Runs the DAD of the tentative addresses of ifp that is due (RFC 4862
 * 5.4.2); a link-local address that passes starts router solicitation. */
void ndp_dad_timer(struct stack *s, struct netif *ifp);

/* Runs out the lifetimes of the addresses of ifp (RFC 4862 5.5.4). */
void ndp_lifetime_timer(struct stack *s, struct netif *ifp);

/* The earliest deadline of DAD or of a lifetime on ifp, or INT64_MAX. */
int64_t ndp_addr_next_deadline(const struct netif *ifp);

/* Writes the IPv6 side of each interface: its parameters, one line per
 * address with origin, state and lifetimes, and the groups it joined:
 * "tap0 fd00:1::a9c3:.../64 slaac stable preferred valid 86399s preferred 14399s". */
void ndp_addrs_dump(struct stack *s, FILE *out);

#endif

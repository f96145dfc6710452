/* The path MTU cache (RFC 8201 for IPv6, RFC 1191 for IPv4): what Packet
 * Too Big and "fragmentation needed" taught us about the largest datagram
 * that reaches a destination, per destination, forgotten after 10 minutes.
 * ip_max_payload(), ipv4_output and ipv6_output send no larger datagrams. */
#ifndef TAPSTACK_PMTU_H
#define TAPSTACK_PMTU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ip/addr.h"

struct stack;

#define PMTU_MAX_ENTRIES 64                   /* destinations remembered at once */
#define PMTU_AGE_US (10LL * 60 * 1000000)     /* RFC 8201 5.3, RFC 1191 6.3: 10 minutes */
#define PMTU_MIN_V6 1280                      /* RFC 8201 4: never below the IPv6 minimum MTU */
#define PMTU_MIN_V4 552                       /* RFC 1191 3 allows 68; Linux's min_pmtu is 552 */

struct pmtu_entry {
	struct ipaddr dst;        /* family 0: a free slot */
	unsigned mtu;
	int64_t expires;          /* forgotten at this time (virtual time, s->now) */
};

struct pmtu_cache {
	struct pmtu_entry e[PMTU_MAX_ENTRIES];
	unsigned used;            /* slots in use: 0 makes every lookup free */
};

void pmtu_init(struct pmtu_cache *c);

/* The path MTU to dst at s->now: the learned one if it is still fresh and
 * lower than link_mtu, else link_mtu. */
unsigned pmtu_get(struct stack *s, const struct ipaddr *dst, unsigned link_mtu);

/* Learns that datagrams of more than mtu bytes do not reach dst, which is
 * reached over a link of link_mtu bytes (RFC 8201 4, RFC 1191 6.1): mtu is
 * raised to the family's floor, and an mtu not below the current estimate
 * is ignored (RFC 8201 4: a Packet Too Big never raises it). The entry
 * lives PMTU_AGE_US; a full cache forgets the entry that expires first.
 * Returns the new estimate, or 0 if nothing changed. */
unsigned pmtu_update(struct stack *s, const struct ipaddr *dst, uint32_t mtu, unsigned link_mtu);

/* Writes one line per live entry, like the "cache" lines of `ip route
 * get`: "cache fd00::1 mtu 1400 expires 598s". */
void pmtu_dump(const struct pmtu_cache *c, int64_t now, FILE *out);

#endif

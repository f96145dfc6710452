/* A DNS cache on the time given by its caller (microseconds): answers are
 * kept as long as their TTLs say (RFC 1035 3.2.1, RFC 2181 8), negative
 * answers (NXDOMAIN, and NOERROR without data) as long as the SOA in their
 * authority section says (RFC 2308 5). Each entry is one response, stored as
 * its encoded message; on a hit every TTL is lowered by the time it has
 * spent in the cache. The number of entries is bounded. */
#ifndef TAPSTACK_DNS_CACHE_H
#define TAPSTACK_DNS_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/lib/dns_msg.h"
#include "stack/stats.h"

#define DNS_CACHE_MAX_TTL 86400u     /* RFC 8767 4 suggests a cap of 7 days; 1 day here */
#define DNS_CACHE_MAX_NEG_TTL 10800u /* RFC 2308 5: one to three hours at most */

struct dns_cache_entry {
	uint8_t key[DNS_NAME_MAX];   /* question name, lowercased */
	uint16_t type, cls;
	int64_t stored, expires;     /* microseconds */
	uint8_t *wire;               /* the response, encoded (NULL: slot free) */
	size_t len;
};

struct dns_cache {
	struct dns_cache_entry *e;
	int cap;
	struct stats *stats;         /* counters go here (may be NULL) */
};

/* Prepares a cache of at most cap entries. Returns 0 or -ENOMEM. */
int dns_cache_init(struct dns_cache *c, int cap, struct stats *stats);

void dns_cache_fini(struct dns_cache *c);

/* How long the response may be cached, in seconds (0: not at all):
 * NOERROR with answers: the smallest TTL of the answer records; NXDOMAIN or
 * NOERROR without answers: RFC 2308 5, the smaller of the SOA record's TTL
 * and its MINIMUM field (no SOA: not cached); anything else, or TC: 0. */
uint32_t dns_cache_ttl(const struct dns_msg *resp);

/* Stores resp (a response with its question) at time now, if it may be
 * cached; a negative answer's SOA gets the negative TTL. An older entry for
 * the same question is replaced; when the cache is full the entry nearest
 * its expiry goes. */
void dns_cache_put(struct dns_cache *c, const struct dns_msg *resp, int64_t now);

/* Looks the question up at time now. On a hit fills out with the stored
 * response, each TTL lowered by the whole seconds it spent in the cache,
 * and returns true. Expired entries are freed and miss. */
bool dns_cache_get(struct dns_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qclass,
		   int64_t now, struct dns_msg *out);

/* Number of live entries (for tests). */
int dns_cache_count(const struct dns_cache *c);

#endif

/* ARP (RFC 826) for IPv4 over Ethernet: the codec, the neighbor cache with
 * RFC 1122 2.3.2 timeouts, and the queue of packets waiting for an answer. */
#ifndef TAPSTACK_ARP_H
#define TAPSTACK_ARP_H

#include <stdint.h>
#include <stdio.h>

#include "link/eth.h"
#include "stack/pkt.h"

#define ARP_MSG_LEN 28            /* Ethernet/IPv4 ARP message */
#define ARP_HTYPE_ETHERNET 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

#define ARP_CACHE_SIZE 256        /* entries; the oldest unused one is recycled when full */
#define ARP_PENDING_MAX 4         /* packets queued per unresolved address */
#define ARP_RETRY_US 1000000      /* between requests for an INCOMPLETE entry */
#define ARP_MAX_RETRIES 3         /* requests before giving up */
#define ARP_ANNOUNCE_NUM 2        /* RFC 5227 1.1: announcements when an address comes up */
#define ARP_ANNOUNCE_INTERVAL_US 2000000 /* RFC 5227 1.1: ANNOUNCE_INTERVAL, 2 s between them */
#define ARP_REACHABLE_US 30000000 /* REACHABLE lasts this long after a confirmation */
#define ARP_STALE_US 60000000     /* a STALE entry not confirmed again is removed after this */
#define ARP_LOCKTIME_US 1000000   /* a new MAC this soon after a confirmation is ignored (Linux locktime) */

struct arp_msg {
	uint16_t htype;           /* hardware type, 1 = Ethernet */
	uint16_t ptype;           /* protocol type, 0x0800 = IPv4 */
	uint8_t hlen, plen;       /* 6 and 4 */
	uint16_t op;              /* ARP_OP_REQUEST or ARP_OP_REPLY */
	uint8_t sha[ETH_ALEN];    /* sender hardware address */
	uint32_t spa;             /* sender protocol address, host order */
	uint8_t tha[ETH_ALEN];    /* target hardware address */
	uint32_t tpa;             /* target protocol address, host order */
};

/* Parses an ARP message at buf (trailing padding is allowed). Returns NULL,
 * or the drop reason: "arp.short" (under 28 bytes), "arp.bad_htype",
 * "arp.bad_ptype", "arp.bad_hlen_plen", "arp.bad_op". */
const char *arp_parse(const uint8_t *buf, size_t len, struct arp_msg *m);

/* Writes the 28-byte message at buf. */
void arp_emit(const struct arp_msg *m, uint8_t *buf);

enum arp_state {
	ARP_FREE = 0,
	ARP_INCOMPLETE,           /* request sent, no answer yet; packets wait */
	ARP_REACHABLE,            /* confirmed recently: used without question */
	ARP_STALE,                /* not confirmed lately: still used, re-asked on use */
};

extern const char *const arp_state_name[];

struct arp_entry {
	enum arp_state state;
	uint32_t ip;              /* host order */
	uint8_t mac[ETH_ALEN];
	int ifindex;
	int64_t confirmed;        /* time of the last answer from this neighbor */
	int64_t used;             /* time a packet was last sent through the entry */
	int64_t asked;            /* time the last request for this entry was sent */
	int64_t timer;            /* next deadline of this entry (INT64_MAX if none) */
	int retries;              /* requests sent in this round */
	struct pkt_queue pending; /* packets (p->data at the IP header) waiting for the MAC */
};

struct arp_cache {
	struct arp_entry e[ARP_CACHE_SIZE];
	int64_t next;             /* no entry's deadline (nor an announcement's) is earlier
				   * than this: arp_timer looks only when it has come */
};

void arp_cache_init(struct arp_cache *c);

/* Frees every queued packet and empties the cache. */
void arp_cache_flush(struct arp_cache *c);

/* The entry for ip, or NULL. */
struct arp_entry *arp_cache_lookup(struct arp_cache *c, uint32_t ip);

/* Handles a received ARP message (p->data at the ARP header): RFC 826
 * merge, learning, and a reply when the request is for our address.
 * Consumes p. */
void arp_input(struct stack *s, struct netif *ifp, struct pkt *p);

/* Sends the IPv4 packet p (p->data at the IP header) to the neighbor
 * nexthop (host order) on ifp: at once when its MAC is known, otherwise
 * queued while ARP asks. Consumes p. Returns 0 or a negative errno. */
int arp_output(struct stack *s, struct netif *ifp, struct pkt *p, uint32_t nexthop);

/* Announces ifp's IPv4 address (RFC 5227 2.3): a gratuitous ARP request
 * now, and ARP_ANNOUNCE_NUM - 1 more, ARP_ANNOUNCE_INTERVAL_US apart, sent
 * by arp_timer(). */
void arp_announce(struct stack *s, struct netif *ifp);

/* Runs the cache's timers at s->now: retries, giving up, REACHABLE to
 * STALE, expiry. */
void arp_timer(struct stack *s);

/* A time no later than the earliest deadline of any entry (INT64_MAX when
 * none): kept as a lower bound that arp_timer() makes exact each time it
 * scans, so the per-packet path never scans the cache. */
int64_t arp_next_deadline(const struct arp_cache *c);

/* Writes one line per entry in the style of `ip neigh`:
 * "10.0.0.1 dev tap0 lladdr 02:00:00:00:00:01 REACHABLE age 1.2s queued 0".
 * ifname names interfaces (NULL: "if<N>"); it is an ifname_fn (ip/route.h),
 * spelled out here so that the link layer includes nothing from ip/. */
void arp_cache_dump(const struct arp_cache *c, int64_t now, FILE *out,
		    const char *(*ifname)(void *ctx, int ifindex), void *ctx);

#endif

/* Ethernet II (IEEE 802.3 frame, DIX type field): the codec, the input
 * and output functions that sit between devices and the network layer, and
 * the interface's multicast filter. */
#ifndef TAPSTACK_ETH_H
#define TAPSTACK_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack;
struct netif;
struct pkt;

#define ETH_ALEN 6
#define ETH_HDR_LEN 14
#define ETH_MIN_FRAME 60        /* shortest frame without the FCS; shorter ones are padded */
#define ETH_MAX_FRAME 1514      /* longest frame for a 1500-byte MTU, without the FCS */
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_IPV6 0x86dd
#define ETH_TYPE_VLAN 0x8100
#define ETH_MAC_STRLEN 18       /* "02:00:00:00:00:02" + NUL */
#define ETH_MCAST_MAX 16        /* group MACs an interface's filter holds */

extern const uint8_t eth_broadcast[ETH_ALEN];

struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;          /* EtherType; values below 0x0600 are 802.3 lengths */
};

/* One entry of an interface's multicast filter (struct netif, mcast): a
 * group MAC whose frames the interface accepts, as a NIC's filter holds
 * them. Entries count references: two IPv6 addresses can share one
 * solicited-node group, and two groups can share a MAC (RFC 2464 7 keeps
 * only the last 32 bits of the group). */
struct eth_mcast {
	uint8_t mac[ETH_ALEN];
	int refs;               /* 0: a free slot */
};

/* Parses the header at buf. Returns NULL, or the drop reason
 * ("eth.short_frame"). */
const char *eth_parse(const uint8_t *buf, size_t len, struct eth_hdr *h);

/* Writes the 14-byte header at buf. */
void eth_emit(const struct eth_hdr *h, uint8_t *buf);

/* Handles a received frame (p->data at the destination MAC): accepts our
 * unicast address, broadcast and the group MACs of ifp's multicast filter,
 * drops the rest with a named reason ("eth.not_for_us" for another
 * destination), and passes the payload to ARP, IPv4 or IPv6. Consumes p. */
void eth_input(struct stack *s, struct netif *ifp, struct pkt *p);

/* Prepends an Ethernet header (our MAC as source), pads the frame to
 * ETH_MIN_FRAME, and sends it on ifp's device. Consumes p. Returns 0 or a
 * negative errno. */
int eth_output(struct stack *s, struct netif *ifp, struct pkt *p, const uint8_t dst[ETH_ALEN], uint16_t type);

/* ifp's multicast filter accepts frames to the group MAC mac from now on
 * (one reference more if it did already). Whoever joins a group adds its
 * MAC (for IPv6, ip/slaac.c). Returns 0, or -ENOSPC when the filter is
 * full ("eth.mcast_filter_full" is counted; frames to mac stay dropped). */
int netif_mcast_add(struct stack *s, struct netif *ifp, const uint8_t mac[ETH_ALEN]);

/* Drops one reference to mac from ifp's filter; after the last, frames to
 * mac are dropped again. A MAC the filter does not hold is ignored. */
void netif_mcast_del(struct netif *ifp, const uint8_t mac[ETH_ALEN]);

/* True if ifp's multicast filter accepts mac. */
bool netif_mcast_has(const struct netif *ifp, const uint8_t mac[ETH_ALEN]);

/* "02:00:00:00:00:02" into buf (ETH_MAC_STRLEN). */
const char *mac_ntop(const uint8_t mac[ETH_ALEN], char *buf);

/* Parses "02:00:00:00:00:02". Returns 0 or -1. */
int mac_pton(const char *s, uint8_t mac[ETH_ALEN]);

static inline bool mac_is_broadcast(const uint8_t m[ETH_ALEN])
{
	return (m[0] & m[1] & m[2] & m[3] & m[4] & m[5]) == 0xff;
}

static inline bool mac_is_multicast(const uint8_t m[ETH_ALEN])
{
	return m[0] & 1;
}

#endif

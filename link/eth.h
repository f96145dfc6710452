/* Ethernet II (IEEE 802.3 frame, DIX type field): the codec, and the input
 * and output functions that sit between devices and the network layer. */
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

extern const uint8_t eth_broadcast[ETH_ALEN];

struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;          /* EtherType; values below 0x0600 are 802.3 lengths */
};

/* Parses the header at buf. Returns NULL, or the drop reason
 * ("eth.short_frame"). */
const char *eth_parse(const uint8_t *buf, size_t len, struct eth_hdr *h);

/* Writes the 14-byte header at buf. */
void eth_emit(const struct eth_hdr *h, uint8_t *buf);

/* Handles a received frame (p->data at the destination MAC): accepts our
 * unicast address and broadcast, drops the rest with a named reason, and
 * passes the payload to ARP or IPv4. Consumes p. */
void eth_input(struct stack *s, struct netif *ifp, struct pkt *p);

/* Prepends an Ethernet header (our MAC as source), pads the frame to
 * ETH_MIN_FRAME, and sends it on ifp's device. Consumes p. Returns 0 or a
 * negative errno. */
int eth_output(struct stack *s, struct netif *ifp, struct pkt *p, const uint8_t dst[ETH_ALEN], uint16_t type);

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

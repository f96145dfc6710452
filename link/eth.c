/* Ethernet II framing (RFC 894 for IPv4, RFC 2464 for IPv6 over Ethernet)
 * and the interface's multicast filter. See eth.h. */
#include "link/eth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ip/ipv4.h"
#include "ip/ipv6.h"
#include "link/arp.h"
#include "stack/byteorder.h"
#include "stack/stack.h"

const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Field offsets in the Ethernet header. */
#define ETH_OFF_DST 0
#define ETH_OFF_SRC 6
#define ETH_OFF_TYPE 12

/* ---- Codec ---- */

const char *eth_parse(const uint8_t *buf, size_t len, struct eth_hdr *h)
{
	if (len < ETH_HDR_LEN)
		return "eth.short_frame";
	memcpy(h->dst, buf + ETH_OFF_DST, ETH_ALEN);
	memcpy(h->src, buf + ETH_OFF_SRC, ETH_ALEN);
	h->type = be16_get(buf + ETH_OFF_TYPE);
	return NULL;
}

void eth_emit(const struct eth_hdr *h, uint8_t *buf)
{
	memcpy(buf + ETH_OFF_DST, h->dst, ETH_ALEN);
	memcpy(buf + ETH_OFF_SRC, h->src, ETH_ALEN);
	be16_put(buf + ETH_OFF_TYPE, h->type);
}

/* ---- The multicast filter ---- */

/* The slot of ifp's filter that holds mac, or -1. */
static int netif_mcast_slot(const struct netif *ifp, const uint8_t mac[ETH_ALEN])
{
	for (int i = 0; i < ETH_MCAST_MAX; i++)
		if (ifp->mcast[i].refs > 0 && memcmp(ifp->mcast[i].mac, mac, ETH_ALEN) == 0)
			return i;
	return -1;
}

/* See eth.h. */
int netif_mcast_add(struct stack *s, struct netif *ifp, const uint8_t mac[ETH_ALEN])
{
	char m[ETH_MAC_STRLEN];
	int i = netif_mcast_slot(ifp, mac);

	if (i >= 0) {
		ifp->mcast[i].refs++;
		return 0;
	}
	for (i = 0; i < ETH_MCAST_MAX; i++) {
		if (ifp->mcast[i].refs == 0) {
			memcpy(ifp->mcast[i].mac, mac, ETH_ALEN);
			ifp->mcast[i].refs = 1;
			return 0;
		}
	}
	stack_drop(s, NULL, "eth.mcast_filter_full", "%s", mac_ntop(mac, m));
	return -ENOSPC;
}

/* See eth.h. */
void netif_mcast_del(struct netif *ifp, const uint8_t mac[ETH_ALEN])
{
	int i = netif_mcast_slot(ifp, mac);

	if (i >= 0 && --ifp->mcast[i].refs == 0)
		memset(&ifp->mcast[i], 0, sizeof(ifp->mcast[i]));
}

/* See eth.h. */
bool netif_mcast_has(const struct netif *ifp, const uint8_t mac[ETH_ALEN])
{
	return netif_mcast_slot(ifp, mac) >= 0;
}

/* ---- Input and output ---- */

/* Accepts the frame if it is addressed to us: our unicast MAC, broadcast,
 * or a group MAC the interface's multicast filter holds (for IPv6, RFC
 * 2464 7: the 33:33:... MACs of all-nodes and of our solicited-node
 * groups, which ip/slaac.c adds and removes). */
static bool eth_for_us(const struct netif *ifp, const struct eth_hdr *h)
{
	return memcmp(h->dst, ifp->mac, ETH_ALEN) == 0 || mac_is_broadcast(h->dst) ||
	       (mac_is_multicast(h->dst) && netif_mcast_has(ifp, h->dst));
}

/* Receives one frame from ifp's device, counted "eth.rx_frames". Drops
 * (stack_drop, with the reason as counter): a frame shorter than the
 * header ("eth.short_frame"), one not for us (eth_for_us, "eth.not_for_us"),
 * one from a group source MAC (forged: no NIC sends with the group bit set
 * in the source, IEEE 802.3 3.2.3; "eth.bad_source"), a type below 0x0600
 * (an IEEE 802.3 length, "eth.802_3_length_frame") or unknown
 * ("eth.unknown_type"). Otherwise marks a frame to a group MAC with
 * PKT_LINK_BCAST, sets p->ifindex, pulls the header and hands the payload
 * to arp_input, ipv4_input or ipv6_input by type. Consumes p. */
void eth_input(struct stack *s, struct netif *ifp, struct pkt *p)
{
	/* LAB check1 BEGIN stub: (void)s; (void)ifp; (void)eth_for_us; pkt_free(p); */
	struct eth_hdr h;
	const char *reason = eth_parse(p->data, p->len, &h);
	char m1[ETH_MAC_STRLEN], m2[ETH_MAC_STRLEN];

	stats_inc(&s->stats, "eth.rx_frames");
	if (reason) {
		stack_drop(s, p, reason, "len %zu", p->len);
		return;
	}
	if (!eth_for_us(ifp, &h)) {
		reason = "eth.not_for_us";
		goto drop;
	}
	/* A frame claiming to come from a group address is forged: no NIC sends
	 * with the group bit set in the source (IEEE 802.3 3.2.3). */
	if (mac_is_multicast(h.src)) {
		reason = "eth.bad_source";
		goto drop;
	}
	if (mac_is_multicast(h.dst))
		p->flags |= PKT_LINK_BCAST;
	p->ifindex = ifp->index;
	pkt_pull(p, ETH_HDR_LEN);
	switch (h.type) {
	case ETH_TYPE_ARP:
		arp_input(s, ifp, p);
		return;
	case ETH_TYPE_IPV4:
		ipv4_input(s, ifp, p);
		return;
	case ETH_TYPE_IPV6:
		ipv6_input(s, ifp, p);
		return;
	default:
		reason = h.type < 0x0600 ? "eth.802_3_length_frame" : "eth.unknown_type";
		goto drop;
	}
drop:
	stack_drop(s, p, reason, "type 0x%04x %s -> %s", h.type, mac_ntop(h.src, m1), mac_ntop(h.dst, m2));
	/* LAB check1 END */
}

/* Frames p for dst and sends it on ifp. Consumes p. */
int eth_output(struct stack *s, struct netif *ifp, struct pkt *p, const uint8_t dst[ETH_ALEN], uint16_t type)
{
	uint8_t *hdr = pkt_push(p, ETH_HDR_LEN);
	if (!hdr) {
		stack_drop(s, p, "eth.no_headroom", NULL);
		return -ENOBUFS;
	}
	struct eth_hdr h = { .type = type };
	memcpy(h.dst, dst, ETH_ALEN);
	memcpy(h.src, ifp->mac, ETH_ALEN);
	eth_emit(&h, hdr);
	/* IEEE 802.3 minimum frame: pad with zeros (RFC 894 says the padding is
	 * not part of the IP datagram; receivers trim it by total length). */
	if (p->len < ETH_MIN_FRAME) {
		size_t pad = ETH_MIN_FRAME - p->len;
		uint8_t *tail = pkt_put(p, pad);
		if (!tail) {
			stack_drop(s, p, "eth.no_tailroom", NULL);
			return -ENOBUFS;
		}
		memset(tail, 0, pad);
	}
	/* a checksum left to the device (pkt.h) by one that does none */
	if (p->off.csum_start && !ifp->dev->tso_max)
		pkt_csum_complete(p);
	stats_inc(&s->stats, "eth.tx_frames");
	return netdev_send(ifp->dev, p, s->now);
}

const char *mac_ntop(const uint8_t mac[ETH_ALEN], char *buf)
{
	snprintf(buf, ETH_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}

int mac_pton(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned v[ETH_ALEN];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* The family-neutral face of the network layer: what UDP, TCP and ICMP
 * errors need to know about a received datagram, and one output call that
 * picks IPv4 or IPv6 by the destination's family. */
#ifndef TAPSTACK_IP_H
#define TAPSTACK_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/addr.h"
#include "ip/ipv4.h" /* enum ip_df */

struct stack;
struct netif;
struct pkt;

/* A received datagram, as the transport layer sees it. The IP header (hdr,
 * hdr_len bytes, options included) stays in the packet's headroom just in
 * front of the transport header, so an ICMP error can quote it. */
struct ip_rx {
	struct ipaddr src, dst;
	uint8_t proto;
	uint8_t ttl;
	bool bcast;              /* sent to a broadcast or multicast address (IP or link) */
	const uint8_t *hdr;      /* the IP header of the datagram */
	size_t hdr_len;
	size_t dgram_len;        /* IP header + payload, bytes */
};

/* Sends the transport payload p (p->data at the transport header) from src
 * (family 0 or an unspecified address: chosen by the route) to dst. ttl 0
 * means the default. Consumes p. Returns 0 or a negative errno:
 * -ENETUNREACH, -EMSGSIZE (IP_DF_DO and too big), -EAFNOSUPPORT. df: the
 * Don't Fragment choice for IPv4 (ip/ipv4.h). */
int ip_output(struct stack *s, struct pkt *p, const struct ipaddr *src, const struct ipaddr *dst,
	      uint8_t proto, uint8_t ttl, enum ip_df df);

/* The source address this host would use to reach dst: IPv4, the address
 * of the outgoing interface (RFC 1122 3.3.4.3); IPv6, RFC 6724's rules as
 * ipv6_select_source applies them (a simplified set, see ip/README.md). Returns 0 or
 * -ENETUNREACH. */
int ip_select_source(struct stack *s, const struct ipaddr *dst, struct ipaddr *src);

/* True while the source ip_select_source should pick for an IPv6 dst is
 * still tentative (RFC 4862 5.4: duplicate address detection runs, and
 * until it passes another address, or none, is chosen). Always false for
 * IPv4. */
bool ip_source_tentative(struct stack *s, const struct ipaddr *dst);

/* True if a is one of this host's own addresses. */
bool ip_is_local(struct stack *s, const struct ipaddr *a);

/* True if a is a broadcast or multicast destination for this host. */
bool ip_is_broadcast(struct stack *s, const struct ipaddr *a);

/* The largest transport payload that fits in one unfragmented datagram to
 * dst (the interface MTU minus the IP header), or 0 with no route. */
size_t ip_max_payload(struct stack *s, const struct ipaddr *dst);

/* The unfolded checksum sum of the pseudo-header that UDP and TCP cover
 * (RFC 768, RFC 9293 3.1; RFC 8200 8.1 for IPv6). */
uint32_t ip_pseudo_sum(const struct ipaddr *src, const struct ipaddr *dst, uint8_t proto, uint32_t len);

#endif

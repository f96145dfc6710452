/* ICMPv6 (RFC 4443): the message codec with its pseudo-header checksum,
 * echo reply, and error messages with the rules that keep them from making
 * storms. Neighbor discovery messages are handed to ip/ndp.c. */
#ifndef TAPSTACK_ICMPV6_H
#define TAPSTACK_ICMPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/addr.h"

struct stack;
struct netif;
struct pkt;
struct ip_rx;

#define ICMP6_HDR_LEN 8
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROBLEM 4
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_ROUTER_SOLICIT 133
#define ICMP6_ROUTER_ADVERT 134
#define ICMP6_NEIGHBOR_SOLICIT 135
#define ICMP6_NEIGHBOR_ADVERT 136
#define ICMP6_REDIRECT 137

#define ICMP6_UNREACH_PORT 4           /* destination unreachable codes */
#define ICMP6_PARAM_HEADER 0           /* erroneous header field */
#define ICMP6_PARAM_NEXT_HEADER 1      /* unrecognized next header */
#define ICMP6_PARAM_OPTION 2           /* unrecognized IPv6 option */
#define ICMP6_PARAM_INCOMPLETE_CHAIN 3 /* first fragment without the header chain (RFC 7112) */
#define ICMP6_TIME_HOP_LIMIT 0         /* time exceeded codes */
#define ICMP6_TIME_REASSEMBLY 1        /* fragment reassembly time exceeded */

/* Token bucket for errors (RFC 4443 2.4 (f)): this many per second, with a
 * burst of ICMP6_ERR_BURST. */
#define ICMP6_ERR_RATE 100
#define ICMP6_ERR_BURST 50

struct icmpv6_hdr {
	uint8_t type, code;
	uint16_t checksum;
	uint32_t rest;            /* id and sequence for echo; pointer or MTU for errors */
};

/* Parses the message at buf (len bytes, the whole ICMPv6 message) that came
 * from src to dst: RFC 4443 2.3, the checksum covers the IPv6 pseudo-header
 * too. Returns NULL, "icmp6.short" or "icmp6.bad_checksum". */
const char *icmpv6_parse(const uint8_t *buf, size_t len, const struct ipaddr *src,
			 const struct ipaddr *dst, struct icmpv6_hdr *h);

/* Writes the header h at the front of the len-byte message at buf (body
 * already in place) with the checksum for src -> dst. */
void icmpv6_emit(const struct icmpv6_hdr *h, uint8_t *buf, size_t len, const struct ipaddr *src,
		 const struct ipaddr *dst);

struct icmpv6_state {
	double err_tokens;
	int64_t err_last;
};

void icmpv6_init(struct icmpv6_state *st);

/* Handles a message for this host (p->data at the ICMPv6 header, p->len its
 * length, rx the datagram it came in). Consumes p. */
void icmpv6_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *rx);

/* Sends an error of this type and code (param: the pointer of a parameter
 * problem, the MTU of packet too big) about the datagram at dgram (len bytes,
 * from its IPv6 header), quoting as much as fits in 1280 bytes. link_mcast
 * says it came to a link-layer group. Sends nothing, counting why, when RFC
 * 4443 2.4 (e) forbids it or the rate limit says no. The caller keeps dgram. */
void icmpv6_send_error(struct stack *s, const uint8_t *dgram, size_t len, bool link_mcast,
		       uint8_t type, uint8_t code, uint32_t param);

#endif

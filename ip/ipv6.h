/* IPv6 (RFC 8200) for a host: the header codec, the extension-header walk,
 * input checks for our addresses and the groups we joined, and output
 * through the routing table and neighbor discovery (ip/ndp.h). */
#ifndef TAPSTACK_IPV6_H
#define TAPSTACK_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/addr.h"

struct stack;
struct netif;
struct pkt;

#define IPV6_HDR_LEN 40
#define IPV6_DEFAULT_HOPS 64      /* RFC 8200 3 leaves it to the node; Linux uses 64 */
#define IPV6_MIN_MTU 1280         /* RFC 8200 5 */
#define IPV6_MAX_EXT 8            /* extension headers walked before giving up */

/* Next-header values (IANA "Assigned Internet Protocol Numbers"). */
#define IP6_NH_HOPOPT 0
#define IP6_NH_TCP 6
#define IP6_NH_UDP 17
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_ICMPV6 58
#define IP6_NH_NONE 59
#define IP6_NH_DSTOPTS 60

struct ipv6_hdr {
	uint8_t version;          /* 6 */
	uint8_t tclass;           /* traffic class */
	uint32_t flow;            /* flow label, 20 bits */
	uint16_t payload_len;     /* bytes after the fixed header, extensions included */
	uint8_t next;             /* next header */
	uint8_t hop_limit;
	struct ipaddr src, dst;   /* AF_INET6 */
};

/* Parses the fixed header at buf (len bytes after the Ethernet header).
 * Returns NULL or the reason of the first failed check: "ip6.short_packet"
 * (len < 40), "ip6.bad_version", "ip6.truncated" (40 + payload length > len). */
const char *ipv6_parse(const uint8_t *buf, size_t len, struct ipv6_hdr *h);

/* Writes the 40-byte header h at buf. */
void ipv6_emit(const struct ipv6_hdr *h, uint8_t *buf);

/* What the walk over the extension headers found. */
struct ipv6_chain {
	uint8_t proto;            /* the upper-layer protocol */
	size_t off;               /* its offset from the start of the IPv6 header */
	size_t nh_at;             /* offset of the next-header field that names it */
	bool atomic_frag;         /* a fragment header with offset 0 and M clear (RFC 6946) */
	/* on failure: the ICMPv6 parameter problem to send, if any */
	bool send_param_problem;
	uint8_t code;             /* ICMP6_PARAM_* */
	uint32_t pointer;         /* offset of the offending byte in the packet */
	bool unless_multicast;    /* code 2 for an option whose top bits are 11 ... */
	bool multicast_ok;        /* ... or 10: sent even about a multicast destination */
};

/* Walks the extension headers of the datagram at buf (the IPv6 header, len
 * = 40 + payload length). Returns NULL with c->proto and c->off set, or the
 * drop reason: "ip6.ext_truncated", "ip6.hopopt_not_first",
 * "ip6.too_many_ext", "ip6.unknown_option", "ip6.bad_option_length",
 * "ip6.routing_type0", "ip6.routing_unsupported", "ip6.no_next_header".
 * An atomic fragment header (RFC 6946) is walked over; at any other
 * fragment header the walk stops with c->proto IP6_NH_FRAGMENT, c->off at
 * the fragment header and c->nh_at at the field that names it. */
const char *ipv6_walk_ext(const uint8_t *buf, size_t len, uint8_t first, struct ipv6_chain *c);

/* Receives one datagram on ifp (p->data at the IPv6 header; p->len may
 * include Ethernet padding). Consumes p. */
void ipv6_input(struct stack *s, struct netif *ifp, struct pkt *p);

/* Sends the upper-layer payload p (p->data at its header) from src (family 0
 * or :: = chosen here, RFC 6724 in short) to dst. hops 0 means the default.
 * A datagram larger than the path MTU (ip/pmtu.h) leaves in fragments
 * (ip/ipv6_frag.h). Consumes p. Returns 0, -ENETUNREACH, -EMSGSIZE (a
 * payload over 65535 bytes) or another negative errno. */
int ipv6_output(struct stack *s, struct pkt *p, const struct ipaddr *src, const struct ipaddr *dst,
		uint8_t proto, uint8_t hops);

/* The same on a given interface with the source taken as it is (:: is
 * allowed: duplicate address detection sends from it). Consumes p. */
int ipv6_output_if(struct stack *s, struct netif *ifp, struct pkt *p, const struct ipaddr *src,
		   const struct ipaddr *dst, uint8_t proto, uint8_t hops);

/* The source address for dst out of ifp: a usable address on ifp, the
 * link-local one for link-local and multicast destinations, otherwise the
 * one sharing the longest prefix with dst (RFC 6724 5, rules 2 and 8 in
 * short). Returns 0 or -ENETUNREACH. */
int ipv6_select_source(struct stack *s, struct netif *ifp, const struct ipaddr *dst,
		       struct ipaddr *src);

/* True if an address of ifp still in duplicate address detection would be
 * a better source for dst than every usable one (or none is usable): once
 * DAD passes (RFC 4862 5.4, about a second), ipv6_select_source picks it. */
bool ipv6_source_tentative(const struct netif *ifp, const struct ipaddr *dst);

/* Address classes (RFC 4291 2.4). */
bool ip6_is_multicast(const struct ipaddr *a);
bool ip6_is_linklocal(const struct ipaddr *a);
bool ip6_is_unspecified(const struct ipaddr *a);

/* The solicited-node group of a: ff02::1:ffXX:XXXX (RFC 4291 2.7.1). */
struct ipaddr ip6_solicited_node(const struct ipaddr *a);

/* The Ethernet group MAC of the IPv6 group g: 33:33 and its last 32 bits
 * (RFC 2464 7). */
void ip6_mcast_mac(const struct ipaddr *g, uint8_t mac[6]);

#endif

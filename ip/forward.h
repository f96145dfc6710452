/* IPv4 (RFC 1812) and IPv6 (RFC 8200) forwarding: what a host started with
 * --forward does with a datagram that is not addressed to it. Off by
 * default: a host does not forward (RFC 1122 3.3.1, RFC 8200 2). The IPv4
 * half is ip/forward.c, the IPv6 half ip/forward6.c. */
#ifndef TAPSTACK_FORWARD_H
#define TAPSTACK_FORWARD_H

struct stack;
struct netif;
struct pkt;
struct ipv4_hdr;
struct ipv6_hdr;

/* Called by ipv4_input, when s->ip_forward is on, for a datagram that
 * passed the host's checks but is not for the interface in it came in by
 * (p->data at the IP header, p->len its total length, h parsed).
 *
 * Returns the interface that owns h->dst when it is another of this host's
 * addresses (the caller delivers it as if it came in there; p is not
 * consumed). Otherwise consumes p and returns NULL: the datagram is
 * forwarded by the longest matching route (TTL decremented, fragmented
 * when the next link is smaller), or dropped under a named reason with
 * the ICMP error RFC 1812 asks for (time exceeded, net unreachable,
 * fragmentation needed). */
struct netif *ipv4_forward(struct stack *s, struct netif *in, struct pkt *p,
			   const struct ipv4_hdr *h);

/* Called by ipv6_input, when s->ip_forward is on, for a unicast datagram
 * that passed the host's checks but is for no address of the interface in
 * it came in by (p->data at the IPv6 header, p->len its length, h parsed).
 *
 * Returns the interface that owns h->dst when it is another of this host's
 * addresses (p is not consumed). Otherwise consumes p and returns NULL:
 * the datagram is forwarded by the longest matching route (hop limit
 * decremented; never fragmented, RFC 8200 5), or dropped under a named
 * reason with the ICMPv6 error RFC 4443 asks for (time exceeded, no route,
 * packet too big). */
struct netif *ipv6_forward(struct stack *s, struct netif *in, struct pkt *p,
			   const struct ipv6_hdr *h);

#endif

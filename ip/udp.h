/* UDP (RFC 768, RFC 1122 4.1): the codec, delivery to sockets by local
 * address and port, output, and the errors ICMP reports about UDP. */
#ifndef TAPSTACK_UDP_H
#define TAPSTACK_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "ip/ip.h"

struct stack;
struct netif;
struct pkt;
struct socket;

#define UDP_HDR_LEN 8
#define UDP_HASH_SIZE 256        /* buckets of the demultiplexing table, by local port */
#define UDP_DEFAULT_RCVBUF (256 * 1024) /* bytes of datagrams a socket may hold unread */
/* the most data one datagram carries: IPv4's total length counts its
 * 20-byte header (RFC 791), IPv6's payload length does not (RFC 8200 3;
 * no jumbograms, RFC 2675), so over IPv6 it is 65535 - 8 */
#define UDP_MAX_PAYLOAD (65535 - 20 - UDP_HDR_LEN)
#define UDP6_MAX_PAYLOAD (65535 - UDP_HDR_LEN)

struct udp_hdr {
	uint16_t sport, dport;
	uint16_t len;            /* header + data */
	uint16_t checksum;       /* as received; 0 = none (IPv4 only) */
};

/* Parses the header at buf, where len is the payload length IP gave.
 * Returns NULL or "udp.short" (len < 8), "udp.bad_length" (length field
 * < 8 or > len). The checksum is checked by udp_input (it needs the
 * pseudo-header). */
const char *udp_parse(const uint8_t *buf, size_t len, struct udp_hdr *h);

/* Writes the 8-byte header at buf; the checksum field as given. */
void udp_emit(const struct udp_hdr *h, uint8_t *buf);

/* The per-host UDP state: bound sockets hashed by local port. */
struct udp_table {
	struct socket *bucket[UDP_HASH_SIZE];
	unsigned count;
};

void udp_init(struct udp_table *t);

/* Handles a UDP datagram for this host (p->data at the UDP header, p->len
 * the IP payload length). Verifies the checksum, finds the socket (exact
 * connected match first, then bound address, then wildcard), queues the
 * data (p->data moved to the payload, the source kept in p->cb), or
 * answers port unreachable (RFC 1122 4.1.3.1) when no socket wants it.
 * Consumes p. */
void udp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *ip);

/* Called by ICMP for an error about a datagram we sent from local:lport to
 * remote:rport (taken from the quoted headers). err is a positive errno
 * (ECONNREFUSED for port unreachable, EHOSTUNREACH, EMSGSIZE...). A
 * connected socket gets it as its pending error (RFC 1122 4.1.3.3). */
void udp_error(struct stack *s, const struct ipaddr *local, uint16_t lport,
	       const struct ipaddr *remote, uint16_t rport, int err);

/* Makes so a UDP socket (sets its ops). Returns 0. */
int udp_socket_init(struct socket *so);

/* Where a queued datagram came from, kept in p->cb. */
struct udp_cb {
	struct ipaddr src;
	uint16_t sport;
	struct ipaddr dst;      /* the address it was sent to (ours or a broadcast) */
};

#endif

/* ICMP for IPv4 (RFC 792, RFC 1122 3.2.2): echo reply, echo requests for
 * tests and tools, error messages (protocol and port unreachable, time
 * exceeded), and errors received, passed to the socket they concern. */
#ifndef TAPSTACK_ICMP_H
#define TAPSTACK_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "ip/ipv4.h"

#define ICMP_HDR_LEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_REDIRECT 5
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12

#define ICMP_NET_UNREACH 0
#define ICMP_HOST_UNREACH 1
#define ICMP_PROTO_UNREACH 2
#define ICMP_PORT_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP_REDIRECT_HOST 1     /* redirect code: for the host (RFC 792) */

/* Token bucket for ICMP errors (RFC 1812 4.3.2.8): this many per second, with
 * a burst of ICMP_ERR_BURST. */
#define ICMP_ERR_RATE 100
#define ICMP_ERR_BURST 50

struct icmp_hdr {
	uint8_t type, code;
	uint16_t checksum;
	uint32_t rest;           /* id and sequence for echo; unused/pointer/MTU for errors */
};

/* Parses the ICMP message at buf, len bytes long (the whole message: the
 * checksum covers it all). Returns NULL or "icmp.short" / "icmp.bad_checksum". */
const char *icmp_parse(const uint8_t *buf, size_t len, struct icmp_hdr *h);

/* Called for each echo reply received (tests and a future ping tool). */
typedef void (*icmp_echo_cb)(void *ctx, uint32_t src, uint16_t id, uint16_t seq,
			     const uint8_t *data, size_t len);

struct icmp_state {
	icmp_echo_cb on_echo_reply;
	void *ctx;
	double err_tokens;       /* error rate limiter (RFC 1812 4.3.2.8) */
	int64_t err_last;
};

void icmp_init(struct icmp_state *st);

/* Handles an ICMP message for us (p->data at the ICMP header, p->len the
 * ICMP length; ip is the parsed header it came in). Answers echo requests
 * with the same identifier, sequence and data. Consumes p. */
void icmp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ipv4_hdr *ip);

/* Sends an echo request with this id, sequence number and data to dst.
 * Returns 0 or a negative errno. */
int icmp_send_echo(struct stack *s, uint32_t dst, uint16_t id, uint16_t seq, const uint8_t *data, size_t len);

/* Sends an ICMP error of this type and code about the datagram whose IP
 * header starts at dgram (len bytes available), quoting its header and the
 * first 8 bytes of its payload (RFC 792). Does nothing, counting why, when
 * RFC 1122 3.2.2 forbids an error (about an ICMP error, a broadcast or
 * multicast, a non-first fragment, a source that is not one host) or the rate
 * limit says no. The caller still owns dgram. */
void icmp_send_error(struct stack *s, const uint8_t *dgram, size_t len, uint8_t type, uint8_t code);

/* The same with the 32-bit word after the checksum given (RFC 792): the
 * next-hop MTU of "fragmentation needed" in its low 16 bits (RFC 1191 4),
 * the gateway of a redirect (host order). Used by forwarding (ip/forward.c). */
void icmp_send_error_rest(struct stack *s, const uint8_t *dgram, size_t len, uint8_t type,
			  uint8_t code, uint32_t rest);

/* The same for a Parameter Problem (type 12, code 0), pointer naming the
 * byte of dgram's header in error (RFC 792; RFC 1122 3.2.2.5). */
void icmp_send_param_problem(struct stack *s, const uint8_t *dgram, size_t len, uint8_t pointer);

#endif

/* IPv4 (RFC 791, RFC 1122 3.2.1): the header codec, input checks and
 * dispatch to the transport protocols, and output through the routing table
 * and ARP. */
#ifndef TAPSTACK_IPV4_H
#define TAPSTACK_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack;
struct netif;
struct pkt;

#define IPV4_HDR_LEN 20          /* without options */
#define IPV4_MAX_HDR_LEN 60
#define IPV4_DEFAULT_TTL 64      /* RFC 1700 / RFC 1122 3.2.1.7 */
#define IPV4_FLAG_DF 0x4000      /* the flags and fragment offset word */
#define IPV4_FLAG_MF 0x2000
#define IPV4_FRAG_MASK 0x1fff    /* fragment offset, in 8-byte units */

#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_PROTO_ICMPV6 58

struct ipv4_hdr {
	uint8_t version;         /* 4 */
	uint8_t ihl;             /* header length in 32-bit words, 5..15 */
	uint8_t tos;             /* DSCP and ECN */
	uint16_t total_len;      /* header + payload, bytes */
	uint16_t id;
	uint16_t frag;           /* flags (DF, MF) and fragment offset, as on the wire */
	uint8_t ttl;
	uint8_t proto;
	uint16_t checksum;       /* as received; ipv4_emit computes it */
	uint32_t src, dst;       /* host order */
};

/* The identifications of the datagrams a host sends (RFC 6864 4.1, RFC
 * 7739 5.3): not one global counter, whose steps anyone who talks to the
 * host can see (the idle scan), but one counter in IPV4_IDENT_BUCKETS,
 * picked by a keyed hash (SipHash) of source, destination and protocol,
 * plus an offset from the same hash. Two destinations see sequences that
 * do not move together (unless they share a bucket, one chance in 1024),
 * and nobody without the key can tell which bucket is whose. */
#define IPV4_IDENT_BUCKETS 1024
struct ipv4_ident {
	uint8_t key[16];
	uint16_t next[IPV4_IDENT_BUCKETS];
};

/* Sets the key from seed; every counter starts at 0 (the hash's offset
 * makes the first identifications unpredictable). */
void ipv4_ident_init(struct ipv4_ident *id, uint64_t seed);

/* The identification the next datagram src -> dst of protocol proto will
 * carry (ipv4_output takes it), without taking it. */
uint16_t ipv4_ident_peek(const struct ipv4_ident *id, uint32_t src, uint32_t dst, uint8_t proto);

/* Parses and checks the header at buf, where len is the number of bytes the
 * frame carries after the Ethernet header. Checks in this order and returns
 * the first failure's reason, or NULL: "ip.short_packet" (len < 20),
 * "ip.bad_version", "ip.short_header" (IHL < 5), "ip.header_exceeds_packet"
 * (IHL*4 > len), "ip.bad_total_length" (total length < IHL*4),
 * "ip.truncated" (total length > len), "ip.bad_checksum". Options are
 * skipped (their length is covered by IHL). */
const char *ipv4_parse(const uint8_t *buf, size_t len, struct ipv4_hdr *h);

/* Writes a 20-byte header (ihl is taken as 5) with a correct checksum. */
void ipv4_emit(const struct ipv4_hdr *h, uint8_t *buf);

/* Handles a received datagram (p->data at the IP header, p->len may include
 * Ethernet padding): checks, trims padding, accepts datagrams for our
 * addresses and broadcast, and passes the payload up. Consumes p. */
void ipv4_input(struct stack *s, struct netif *ifp, struct pkt *p);

/* Don't Fragment, chosen per datagram (the values of Linux's
 * IP_MTU_DISCOVER):
 *   IP_DF_DONT  never set: a datagram larger than the path MTU leaves in
 *               fragments (RFC 791 3.2);
 *   IP_DF_WANT  set when the datagram fits the path MTU, so that a router
 *               that cannot forward it whole says so with "fragmentation
 *               needed" (RFC 1191 3: path MTU discovery; TCP sends so);
 *               one that does not fit leaves in fragments without DF;
 *   IP_DF_DO    always set: one that does not fit is refused with
 *               -EMSGSIZE ("ip.tx_too_big"). */
enum ip_df { IP_DF_DONT, IP_DF_WANT, IP_DF_DO };

/* The header of one datagram to send, as a value (a "representation", in
 * the style of smoltcp's Ipv4Repr): what the sender chooses, with a zero
 * field meaning the default written beside it. So
 *     struct ipv4_tx h = { .dst = peer, .proto = IP_PROTO_UDP };
 * is an ordinary datagram, and the fields that are left (version, IHL,
 * total length, identification, checksum) ipv4_output() fills in. */
struct ipv4_tx {
	uint32_t src;            /* host order; 0: the outgoing interface's address */
	uint32_t dst;            /* host order; no default */
	uint8_t proto;           /* IP_PROTO_*; no default */
	uint8_t ttl;             /* 0: IPV4_DEFAULT_TTL (RFC 1122 3.2.1.7) */
	enum ip_df df;           /* 0 (IP_DF_DONT): Don't Fragment never set */
	const uint8_t *opts;     /* options after the fixed header, optlen bytes: a
				    multiple of 4, at most IPV4_OPT_MAX (40), padded
				    already; NULL and 0: none */
	size_t optlen;
};

/* Sends the transport payload p (p->data at the transport header) with the
 * header h: routes it, prepends the IP header and hands it to ARP, in
 * fragments if it is larger than the path MTU (see ipv4_frag.h; the first
 * fragment carries all the options, later ones those marked "copied", RFC
 * 791 3.2). Consumes p. Returns 0, -ENETUNREACH ("ip.no_route"), -EINVAL
 * ("ip.tx_bad_options"), -EMSGSIZE ("ip.tx_too_big": over 65535 bytes, or
 * over the path MTU with IP_DF_DO), -ENOBUFS or what fragmentation or ARP
 * returns. */
int ipv4_output(struct stack *s, struct pkt *p, const struct ipv4_tx *h);

/* Checksum sum of the IPv4 pseudo-header (RFC 793 3.1 / RFC 768), to be
 * passed to csum_partial() by TCP and UDP. */
uint32_t ipv4_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

#endif

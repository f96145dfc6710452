/* IP addresses of either family in one type, so routes, neighbor caches and
 * sockets hold IPv4 and IPv6 addresses without a second code path.
 * Bytes are in network order: an IPv4 address is in a[0..3]. IPv4 header
 * code works with host-order uint32_t values and converts at the edges. */
#ifndef TAPSTACK_ADDR_H
#define TAPSTACK_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ipaddr {
	uint8_t family;      /* AF_INET or AF_INET6; 0 = unset */
	uint8_t a[16];
};

#define IP4_BROADCAST 0xffffffffu
#define IP4_STRLEN 16        /* "255.255.255.255" + NUL */
#define IPADDR_STRLEN 46     /* INET6_ADDRSTRLEN */

/* Builds an IPv4 ipaddr from a host-order value. */
struct ipaddr ipaddr_v4(uint32_t host_order);

/* The host-order IPv4 value of a (a must be AF_INET). */
uint32_t ipaddr_to_v4(const struct ipaddr *a);

/* Bit length of an address of a's family: 32 or 128 (0 if unset). */
int ipaddr_bits(const struct ipaddr *a);

bool ipaddr_eq(const struct ipaddr *x, const struct ipaddr *y);

/* True if the first len bits of a equal those of prefix (same family). */
bool ipaddr_prefix_match(const struct ipaddr *a, const struct ipaddr *prefix, int len);

/* Zeroes every bit of a after the first len. */
void ipaddr_mask(struct ipaddr *a, int len);

/* Text form ("10.0.0.2", "fd00::2"); writes "-" for an unset address. */
const char *ipaddr_ntop(const struct ipaddr *a, char *buf, size_t len);

/* "10.0.0.2:80" or "[fd00::2]:80" (IPv6 in brackets, RFC 3986 3.2.2) into
 * buf (IPADDR_PORT_STRLEN is enough), for trace lines. Returns buf. */
#define IPADDR_PORT_STRLEN (IPADDR_STRLEN + 8)
const char *ipaddr_port_str(const struct ipaddr *a, uint16_t port, char *buf, size_t len);

/* Parses an address of either family. Returns 0 or -1. */
int ipaddr_pton(const char *s, struct ipaddr *a);

/* Parses "ADDR/LEN" ("10.0.0.2/24"); without "/LEN" len is the full width.
 * Returns 0 or -1 (bad address, or LEN out of range). */
int ipaddr_pton_prefix(const char *s, struct ipaddr *a, int *len);

/* Dotted-quad text of a host-order IPv4 address, into buf (IP4_STRLEN). */
const char *ip4_ntop(uint32_t a, char *buf);

/* Host-order netmask for a prefix length 0..32. */
uint32_t ip4_mask(int len);

#endif

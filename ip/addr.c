/* IP addresses of either family. See addr.h. */
#include "ip/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/byteorder.h"

struct ipaddr ipaddr_v4(uint32_t host_order)
{
	struct ipaddr a = { .family = AF_INET };
	be32_put(a.a, host_order);
	return a;
}

uint32_t ipaddr_to_v4(const struct ipaddr *a)
{
	return be32_get(a->a);
}

int ipaddr_bits(const struct ipaddr *a)
{
	return a->family == AF_INET ? 32 : a->family == AF_INET6 ? 128 : 0;
}

bool ipaddr_eq(const struct ipaddr *x, const struct ipaddr *y)
{
	return x->family == y->family && memcmp(x->a, y->a, (size_t)ipaddr_bits(x) / 8) == 0;
}

bool ipaddr_prefix_match(const struct ipaddr *a, const struct ipaddr *prefix, int len)
{
	if (a->family != prefix->family || len < 0 || len > ipaddr_bits(a))
		return false;
	/* byte by byte: a few bytes, cheaper than a call to memcmp (every
	 * route lookup, so every segment sent, comes here per route) */
	int i = 0;
	for (; len >= 8; i++, len -= 8)
		if (a->a[i] != prefix->a[i])
			return false;
	if (len == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - len));
	return ((a->a[i] ^ prefix->a[i]) & mask) == 0;
}

void ipaddr_mask(struct ipaddr *a, int len)
{
	int bits = ipaddr_bits(a);
	for (int i = 0; i < bits / 8; i++) {
		int keep = len - i * 8;
		if (keep >= 8)
			continue;
		a->a[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

const char *ipaddr_ntop(const struct ipaddr *a, char *buf, size_t len)
{
	if (a->family != AF_INET && a->family != AF_INET6) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (!inet_ntop(a->family, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

int ipaddr_pton(const char *s, struct ipaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

int ipaddr_pton_prefix(const char *s, struct ipaddr *a, int *len)
{
	char buf[IPADDR_STRLEN + 8];
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (ipaddr_pton(buf, a) < 0)
		return -1;
	*len = ipaddr_bits(a);
	if (slash) {
		char *end;
		long n = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || n < 0 || n > ipaddr_bits(a))
			return -1;
		*len = (int)n;
	}
	return 0;
}

const char *ip4_ntop(uint32_t a, char *buf)
{
	snprintf(buf, IP4_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

uint32_t ip4_mask(int len)
{
	if (len <= 0)
		return 0;
	if (len >= 32)
		return 0xffffffffu;
	return 0xffffffffu << (32 - len);
}

const char *ipaddr_port_str(const struct ipaddr *a, uint16_t port, char *buf, size_t len)
{
	char ip[IPADDR_STRLEN];

	ipaddr_ntop(a, ip, sizeof(ip));
	snprintf(buf, len, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	return buf;
}

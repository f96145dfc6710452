/* Name resolution for apps on tapstack (written with the DNS issue): the
 * stub resolver behind net_getaddrinfo(), in the spirit of getaddrinfo(3).
 * It asks the DNS server given with --dns (default: the host's gateway)
 * over the host's own UDP (TCP when an answer is truncated). */
#ifndef TAPSTACK_RESOLVER_H
#define TAPSTACK_RESOLVER_H

#include <netdb.h>

/* Resolves name (a host name or an address literal) and service (a port
 * number or NULL) into a list of addresses, as getaddrinfo(3) does: hints
 * may ask for a family (AF_INET, AF_INET6, AF_UNSPEC) and a socket type.
 * Returns 0 and *res (free with net_freeaddrinfo), or an EAI_* code
 * (EAI_NONAME: no such name; EAI_AGAIN: no answer in time; EAI_FAIL). */
int net_getaddrinfo(const char *name, const char *service, const struct addrinfo *hints,
		    struct addrinfo **res);

void net_freeaddrinfo(struct addrinfo *res);

/* The server net_getaddrinfo asks (IPv4, network order); 0 = the gateway. */
void net_resolver_set_server(uint32_t addr);

#endif

/* Name resolution for apps on tapstack (written with the DNS issue): the
 * stub resolver behind net_getaddrinfo(), in the spirit of getaddrinfo(3).
 * It asks the DNS server given with --dns (default: the host's gateway)
 * over the host's own UDP (TCP when an answer is truncated). */
#ifndef TAPSTACK_RESOLVER_H
#define TAPSTACK_RESOLVER_H

#include <netdb.h>
#include <sys/socket.h>

/* Resolves name (a host name or an address literal) and service (a port
 * number or NULL) into a list of addresses, as getaddrinfo(3) does: hints
 * may ask for a family (AF_INET, AF_INET6, AF_UNSPEC) and a socket type.
 * Returns 0 and *res (free with net_freeaddrinfo), or an EAI_* code
 * (EAI_NONAME: no such name; EAI_AGAIN: no answer in time; EAI_FAIL). */
int net_getaddrinfo(const char *name, const char *service, const struct addrinfo *hints,
		    struct addrinfo **res);

void net_freeaddrinfo(struct addrinfo *res);

/* The server net_getaddrinfo asks: an IPv4 (struct sockaddr_in) or IPv6
 * (struct sockaddr_in6) address, port 53 when its port is 0; NULL for the
 * host's IPv4 gateway (the default). Over IPv6, net_getaddrinfo first waits
 * for the host's new addresses to pass duplicate address detection (the
 * query's socket does not block, RFC 4862 5.4). Returns 0, or -EINVAL for
 * a length too short or another family. */
int net_resolver_set_server(const struct sockaddr *sa, socklen_t len);

#endif

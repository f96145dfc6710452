/* net_getaddrinfo(): the stub resolver apps call, in the spirit of
 * getaddrinfo(3), over the DNS query engine (dns_query.c). Address literals
 * are converted without asking anyone; names are looked up (A for AF_INET
 * and AF_UNSPEC, AAAA for AF_INET6), CNAMEs followed. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/dns_query.h"
#include "apps/lib/resolver.h"
#include "stack/net.h"

static union dns_server resolver_server; /* sa_family 0: the gateway */

int net_resolver_set_server(const struct sockaddr *sa, socklen_t len)
{
	union dns_server srv;
	memset(&srv, 0, sizeof(srv));
	if (sa) {
		if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(srv.v4))
			memcpy(&srv.v4, sa, sizeof(srv.v4));
		else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(srv.v6))
			memcpy(&srv.v6, sa, sizeof(srv.v6));
		else
			return -EINVAL;
		in_port_t *port = sa->sa_family == AF_INET ? &srv.v4.sin_port : &srv.v6.sin6_port;
		if (*port == 0)
			*port = htons(DNS_PORT);
	}
	resolver_server = srv;
	return 0;
}

/* Appends one address to the list *tail points at. Returns 0 or EAI_MEMORY. */
static int add_result(struct addrinfo ***tail, int family, const void *addr, uint16_t port,
		      const struct addrinfo *hints, const char *canon)
{
	struct addrinfo *ai = calloc(1, sizeof(*ai));
	struct sockaddr_storage *sa = calloc(1, sizeof(*sa));
	if (!ai || !sa) {
		free(ai);
		free(sa);
		return EAI_MEMORY;
	}
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, addr, 4);
		ai->ai_addrlen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, addr, 16);
		ai->ai_addrlen = sizeof(*s6);
	}
	ai->ai_family = family;
	ai->ai_socktype = hints ? hints->ai_socktype : 0;
	ai->ai_protocol = hints ? hints->ai_protocol : 0;
	ai->ai_addr = (struct sockaddr *)sa;
	if (canon && hints && (hints->ai_flags & AI_CANONNAME) &&
	    !(ai->ai_canonname = strdup(canon))) {
		net_freeaddrinfo(ai);
		return EAI_MEMORY;
	}
	**tail = ai;
	*tail = &ai->ai_next;
	return 0;
}

/* The port of service: a number, or 0 for NULL. -1 if it is not one. */
static int parse_service(const char *service)
{
	if (!service)
		return 0;
	char *end;
	long v = strtol(service, &end, 10);
	return *service && !*end && v >= 0 && v <= 65535 ? (int)v : -1;
}

/* Maps the outcome of a lookup to getaddrinfo's codes. */
static int lookup_error(enum dns_result r, int rcode)
{
	if (r == DNS_TIMEOUT)
		return EAI_AGAIN;
	if (r != DNS_OK)
		return EAI_FAIL;
	if (rcode == DNS_NXDOMAIN || rcode == DNS_NOERROR)
		return EAI_NONAME; /* no such name, or no address for it */
	return rcode == DNS_SERVFAIL ? EAI_AGAIN : EAI_FAIL;
}

int net_getaddrinfo(const char *name, const char *service, const struct addrinfo *hints,
		    struct addrinfo **res)
{
	static struct dns_msg ans;
	int family = hints ? hints->ai_family : AF_UNSPEC;
	int port = parse_service(service);
	uint8_t addr[16], qname[DNS_NAME_MAX], final[DNS_NAME_MAX];
	struct addrinfo *head = NULL, **tail = &head;
	*res = NULL;
	if (port < 0)
		return EAI_SERVICE;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return EAI_FAMILY;
	if (!name)
		return EAI_NONAME;
	/* address literals need no question */
	if (family != AF_INET6 && inet_pton(AF_INET, name, addr) == 1) {
		int r = add_result(&tail, AF_INET, addr, (uint16_t)port, hints, name);
		*res = head;
		return r;
	}
	if (family != AF_INET && inet_pton(AF_INET6, name, addr) == 1) {
		int r = add_result(&tail, AF_INET6, addr, (uint16_t)port, hints, name);
		*res = head;
		return r;
	}
	if ((hints && (hints->ai_flags & AI_NUMERICHOST)) || dns_name_from_text(name, qname))
		return EAI_NONAME;

	struct dns_query_cfg cfg = { .rd = true };
	if (resolver_server.sa.sa_family != 0) {
		cfg.server[0] = resolver_server;
		cfg.nservers = 1;
		/* the query's socket does not wait for our source address's
		 * DAD (stack/net.h): wait here, as a blocking call would */
		if (resolver_server.sa.sa_family == AF_INET6 &&
		    net_wait_ipv6_ready(NET_DAD_WAIT_MS) == -EINTR)
			return EAI_AGAIN;
	}
	/* AF_INET6 asks for AAAA, AF_INET for A; AF_UNSPEC for both when the
	 * host has IPv6 (AAAA first: RFC 6724 6 prefers IPv6 when both work,
	 * as glibc does), else A only, like getaddrinfo's AI_ADDRCONFIG */
	uint16_t qtypes[2];
	int nq = 0;
	if (family == AF_INET6 || (family == AF_UNSPEC && net_family_available(AF_INET6)))
		qtypes[nq++] = DNS_T_AAAA;
	if (family != AF_INET6)
		qtypes[nq++] = DNS_T_A;
	int err = 0;
	enum dns_result r = DNS_FAILED;
	uint16_t rcode = 0;
	for (int k = 0; k < nq && !err; k++) {
		uint16_t qtype = qtypes[k];
		const char *why;
		enum dns_result rk = dns_lookup(&cfg, qname, qtype, &ans, final, &why);
		if (k == 0 || rk == DNS_OK) {
			r = rk;
			rcode = DNS_RCODE(ans.flags);
		}
		char canon[DNS_NAME_TEXT];
		dns_name_to_text(final, canon);
		if (strlen(canon) > 1)
			canon[strlen(canon) - 1] = 0; /* no trailing dot, as getaddrinfo */
		for (int i = 0; rk == DNS_OK && i < ans.an && !err; i++) {
			const struct dns_rr *rr = &ans.rr[i];
			if (rr->type == qtype && rr->cls == DNS_C_IN && dns_name_eq(rr->name, final))
				err = add_result(&tail, qtype == DNS_T_A ? AF_INET : AF_INET6,
						 dns_rdata(&ans, rr), (uint16_t)port, hints,
						 head ? NULL : canon);
		}
	}
	if (!err && !head)
		err = lookup_error(r, rcode);
	if (err) {
		net_freeaddrinfo(head);
		return err;
	}
	*res = head;
	return 0;
}

void net_freeaddrinfo(struct addrinfo *res)
{
	while (res) {
		struct addrinfo *next = res->ai_next;
		free(res->ai_addr);
		free(res->ai_canonname);
		free(res);
		res = next;
	}
}

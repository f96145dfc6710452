/* The DNS query engine: one question asked of one or more servers over the
 * socket API, as a non-blocking state machine (so the dns service can run
 * many from its net_poll loop) with a blocking wrapper for apps.
 *
 *   - RFC 5452 9.2: a random 16-bit id and a random source port (a fresh
 *     UDP socket bound to an ephemeral port, RFC 6056) for each question;
 *   - retransmission: try k goes to server k % n and waits timeout_ms <<
 *     (k / n), `tries` rounds over the servers (RFC 1035 4.2.1, RFC 1536 1);
 *   - EDNS(0) with a 1232-byte UDP buffer (RFC 6891 6.2.5), and a retry
 *     without it when the server answers FORMERR without an OPT (RFC 6891 7);
 *   - answer validation (RFC 5452 9.1): from a server we asked, from port 53,
 *     the same id, QR set, the question echoed (case-insensitively); anything
 *     else is dropped and counted ("dns.wrong_id", "dns.wrong_source",
 *     "dns.wrong_question", "dns.not_response", or the decoder's reason);
 *   - TCP fallback when the answer has TC set (RFC 7766 5, two-byte length
 *     prefix, RFC 1035 4.2.2).
 *
 * Counters go to the host of the query's socket; time is that host's. */
#ifndef TAPSTACK_DNS_QUERY_H
#define TAPSTACK_DNS_QUERY_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "apps/lib/dns_msg.h"

#define DNS_MAX_SERVERS 3
#define DNS_TIMEOUT_MS 1000    /* first try */
#define DNS_TRIES 3            /* rounds over the servers: 1 s, 2 s, 4 s */
#define DNS_TCP_TIMEOUT_MS 5000
#define DNS_CNAME_MAX 8        /* CNAMEs followed for one lookup */

struct stack;

/* A server's address and port: IPv4 (v4) or IPv6 (v6), sa.sa_family says
 * which. The servers of one query are all of one family (the query has one
 * UDP socket). */
union dns_server {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/* The length of s's sockaddr, for the socket calls. */
socklen_t dns_server_len(const union dns_server *s);

struct dns_query_cfg {
	union dns_server server[DNS_MAX_SERVERS];
	int nservers;          /* 0: the host's default gateway, port 53 */
	int timeout_ms;        /* 0: DNS_TIMEOUT_MS */
	int tries;             /* 0: DNS_TRIES */
	bool no_edns;          /* leave the OPT record out */
	bool no_tcp;           /* take a truncated answer as it is */
	bool rd;               /* recursion desired */
	FILE *verbose;         /* prints each message sent and received (may be NULL) */
};

enum dns_qstate { DQ_UDP, DQ_TCP_CONNECT, DQ_TCP_SEND, DQ_TCP_RECV, DQ_DONE };
enum dns_result { DNS_PENDING, DNS_OK, DNS_TIMEOUT, DNS_FAILED };

struct dns_query {
	struct dns_query_cfg cfg;
	struct stack *s;       /* the host the sockets are on */
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype, qclass;
	uint16_t id;
	bool edns;
	enum dns_qstate state;
	enum dns_result result;
	int fd;                /* the UDP socket, then the TCP one */
	int try;               /* UDP tries made */
	unsigned asked;        /* bit i: server i was sent the question */
	int tcp_server;
	int64_t deadline;      /* microseconds, on the host's clock */
	uint8_t out[2 + DNS_UDP_MIN]; /* TCP's length, then the question */
	size_t outlen, outoff;
	uint8_t *in;           /* TCP: what has arrived (malloc'd) */
	size_t inlen;
	uint8_t *answer;       /* DNS_OK: the accepted response (malloc'd) */
	size_t answer_len;
	const char *error;     /* DNS_FAILED: why */
};

/* Starts asking (qname, qtype, IN): makes the socket on the current host
 * (net.h) and sends the first try. Returns 0 or a negative errno (q is
 * then finished, with result DNS_FAILED). */
int dns_query_start(struct dns_query *q, const struct dns_query_cfg *cfg, const uint8_t *qname,
		    uint16_t qtype);

/* The descriptor and events the query waits for; 0 when done. */
int dns_query_pollfd(const struct dns_query *q, struct pollfd *pfd);

/* Handles the query's descriptor having events revents. */
void dns_query_handle(struct dns_query *q, short revents);

/* Retransmits or gives up if the deadline has passed (call it now and
 * then); returns q->result. */
enum dns_result dns_query_tick(struct dns_query *q);

/* Milliseconds until the query's deadline (0 if passed, -1 when done). */
int dns_query_wait_ms(const struct dns_query *q);

/* Runs the query to its end, waiting in net_poll. Returns q->result. */
enum dns_result dns_query_run(struct dns_query *q);

/* Closes the socket and frees what the query holds. */
void dns_query_free(struct dns_query *q);

/* The host of a socket descriptor (for its counters, dice and clock):
 * net_host_of (stack/net.h), under the name dns_service.c knows. */
struct stack *dns_stack_of(int fd);

/* One lookup for an app, blocking: asks for (name, qtype), following CNAMEs
 * (at most DNS_CNAME_MAX, asking again for a target the answer leaves out).
 * Like the C library's stub resolver it keeps no cache. out gets every
 * answer record met on the way, in order, as an answer section; *final the
 * name at the end of the chain.
 * Returns DNS_OK with the last rcode in out's flags, DNS_TIMEOUT, or
 * DNS_FAILED (with a reason in *why). */
enum dns_result dns_lookup(const struct dns_query_cfg *cfg, const uint8_t *name, uint16_t qtype,
			   struct dns_msg *out, uint8_t final[DNS_NAME_MAX], const char **why);

#endif

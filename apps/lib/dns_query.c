/* The DNS query engine (see dns_query.h): one question, UDP with
 * retransmission over the servers, TCP when the answer is truncated. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/dns_query.h"
#include "stack/byteorder.h"
#include "stack/net.h"

static uint8_t rxbuf[DNS_MSG_MAX];
static struct dns_msg scratch; /* one message being checked at a time */

/* The host's sockets are the only way an app reaches its host: the socket
 * knows it, and net.h gives its clock, generator and counters. */
struct stack *dns_stack_of(int fd)
{
	return net_host_of(fd);
}

static void count(struct dns_query *q, const char *name)
{
	net_count(q->s, name); /* nothing before the query has a socket (q->s NULL) */
}

static int64_t now_of(const struct dns_query *q)
{
	return net_now(q->s);
}

socklen_t dns_server_len(const union dns_server *s)
{
	return s->sa.sa_family == AF_INET6 ? sizeof(s->v6) : sizeof(s->v4);
}

/* The port of s, host order. */
static uint16_t server_port(const union dns_server *s)
{
	return ntohs(s->sa.sa_family == AF_INET6 ? s->v6.sin6_port : s->v4.sin_port);
}

/* Prints a message the way dig's header lines do (for -v). */
static void print_msg(FILE *out, const char *dir, const union dns_server *peer, const char *proto,
		      const struct dns_msg *m, size_t len)
{
	char a[NET_ADDRSTRLEN], name[DNS_NAME_TEXT], tb[16], line[4200];
	uint16_t f = m->flags;
	net_sockaddr_ntop(&peer->sa, 0, a, sizeof(a));
	fprintf(out, ";; %s %s#%u (%s) %zu bytes\n", dir, a, server_port(peer), proto, len);
	fprintf(out, ";; ->>HEADER<<- opcode: %u, status: %s, id: %u\n", DNS_OPCODE(f),
		dns_rcode_name(DNS_RCODE(f)), m->id);
	fprintf(out, ";; flags:%s%s%s%s%s; QUERY: %d, ANSWER: %d, AUTHORITY: %d, ADDITIONAL: %d\n",
		f & DNS_F_QR ? " qr" : "", f & DNS_F_AA ? " aa" : "", f & DNS_F_TC ? " tc" : "",
		f & DNS_F_RD ? " rd" : "", f & DNS_F_RA ? " ra" : "", m->has_question, m->an, m->ns,
		m->ar + m->edns);
	if (m->edns)
		fprintf(out, ";; OPT: version %u, udp %u\n", m->edns_version, m->edns_size);
	if (m->has_question)
		fprintf(out, ";%s\t\tIN\t%s\n", dns_name_to_text(m->qname, name),
			dns_type_name(m->qtype, tb));
	for (int i = 0; i < m->an + m->ns + m->ar; i++)
		fprintf(out, "%s\n", dns_rr_to_text(m, &m->rr[i], line, sizeof(line)));
	fflush(out);
}

/* Ends the query with result r (why says what went wrong). */
static void finish(struct dns_query *q, enum dns_result r, const char *why)
{
	if (q->fd >= 0)
		net_close(q->fd);
	q->fd = -1;
	free(q->in);
	q->in = NULL;
	q->state = DQ_DONE;
	q->result = r;
	q->error = why;
	if (why)
		count(q, why);
}

/* Encodes the question into q->out (after room for TCP's length). */
static int build_query(struct dns_query *q)
{
	static struct dns_msg m;
	dns_msg_init(&m, q->id, q->cfg.rd ? DNS_F_RD : 0, q->qname, q->qtype, q->qclass);
	if (q->edns) {
		/* RFC 6891 6.2.5: a 1232-byte buffer avoids IP fragmentation */
		m.edns = true;
		m.edns_size = DNS_EDNS_SIZE;
	}
	int len = dns_encode(&m, q->out + 2, sizeof(q->out) - 2);
	if (len < 0)
		return len;
	be16_put(q->out, (uint16_t)len); /* RFC 1035 4.2.2: TCP's length prefix */
	q->outlen = (size_t)len;
	if (q->cfg.verbose)
		print_msg(q->cfg.verbose, "->", &q->cfg.server[q->try % q->cfg.nservers], "UDP", &m,
			  (size_t)len);
	return 0;
}

/* Sends try number q->try over UDP and sets its deadline: server try % n,
 * timeout doubled each round over the servers. */
static void send_try(struct dns_query *q)
{
	int n = q->cfg.nservers, i = q->try % n;
	int64_t timeout_us = (int64_t)q->cfg.timeout_ms * 1000 << (q->try / n);
	ssize_t r = net_sendto(q->fd, q->out + 2, q->outlen, 0,
			       &q->cfg.server[i].sa, dns_server_len(&q->cfg.server[i]));
	count(q, q->try == 0 ? "dns.tx_query" : "dns.tx_retransmit");
	if (r < 0)
		count(q, "dns.tx_error");
	q->asked |= 1u << i;
	q->try++;
	q->deadline = now_of(q) + timeout_us;
}

int dns_query_start(struct dns_query *q, const struct dns_query_cfg *cfg, const uint8_t *qname,
		    uint16_t qtype)
{
	memset(q, 0, offsetof(struct dns_query, out));
	q->in = q->answer = NULL;
	q->cfg = *cfg;
	if (q->cfg.timeout_ms <= 0)
		q->cfg.timeout_ms = DNS_TIMEOUT_MS;
	if (q->cfg.tries <= 0)
		q->cfg.tries = DNS_TRIES;
	memcpy(q->qname, qname, dns_name_len(qname));
	q->qtype = qtype;
	q->qclass = DNS_C_IN;
	q->edns = !cfg->no_edns;
	q->state = DQ_UDP;
	q->result = DNS_PENDING;
	int family = q->cfg.nservers && q->cfg.server[0].sa.sa_family == AF_INET6 ? AF_INET6 : AF_INET;
	q->fd = net_socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (q->fd < 0) {
		int err = q->fd;
		finish(q, DNS_FAILED, "dns.no_socket");
		return err;
	}
	q->s = dns_stack_of(q->fd);
	if (q->cfg.nservers == 0) {
		/* no server given: the one DHCP named, else the default gateway */
		if (net_dns_server(q->s, &q->cfg.server[0].v4) < 0) {
			finish(q, DNS_FAILED, "dns.no_server");
			return -EDESTADDRREQ;
		}
		q->cfg.server[0].v4.sin_port = htons(DNS_PORT);
		q->cfg.nservers = 1;
	}
	/* RFC 5452 9.2: a random source port (RFC 6056: binding port 0 picks
	 * one at random) and a random id from the host's generator */
	union dns_server any;
	memset(&any, 0, sizeof(any));
	any.sa.sa_family = (sa_family_t)family; /* the wildcard of the family, port 0 */
	int r = net_bind(q->fd, &any.sa, dns_server_len(&any));
	if (r < 0) {
		finish(q, DNS_FAILED, "dns.no_socket");
		return r;
	}
	q->id = (uint16_t)net_random(q->s);
	if ((r = build_query(q)) < 0) {
		finish(q, DNS_FAILED, "dns.name_too_long");
		return r;
	}
	send_try(q);
	return 0;
}

/* The index of the server at from (address and port) that was asked, or -1. */
static int server_index(const struct dns_query *q, const union dns_server *from)
{
	for (int i = 0; i < q->cfg.nservers; i++) {
		const union dns_server *s = &q->cfg.server[i];
		if (!(q->asked & (1u << i)) || s->sa.sa_family != from->sa.sa_family)
			continue;
		if (s->sa.sa_family == AF_INET6 ?
			    memcmp(&s->v6.sin6_addr, &from->v6.sin6_addr, 16) == 0 &&
				    s->v6.sin6_port == from->v6.sin6_port :
			    s->v4.sin_addr.s_addr == from->v4.sin_addr.s_addr &&
				    s->v4.sin_port == from->v4.sin_port)
			return i;
	}
	return -1;
}

/* RFC 5452 9.1: is buf[0..len) the answer to our question? Decodes it into
 * scratch. Returns NULL or why it is not. */
static const char *check_answer(const struct dns_query *q, const uint8_t *buf, size_t len)
{
	if (len < DNS_HDR_LEN)
		return "dns.short_header";
	if (be16_get(buf) != q->id)
		return "dns.wrong_id";
	if (!(be16_get(buf + 2) & DNS_F_QR))
		return "dns.not_response";
	const char *why = dns_decode(&scratch, buf, len);
	if (why)
		return why;
	/* the question echoed; RFC 4343: case does not matter */
	if (!scratch.has_question || scratch.qtype != q->qtype || scratch.qclass != q->qclass ||
	    !dns_name_eq(scratch.qname, q->qname))
		return "dns.wrong_question";
	return NULL;
}

/* Keeps the accepted answer and ends the query. */
static void accept_answer(struct dns_query *q, const uint8_t *buf, size_t len)
{
	q->answer = malloc(len);
	if (!q->answer) {
		finish(q, DNS_FAILED, "dns.no_memory");
		return;
	}
	memcpy(q->answer, buf, len);
	q->answer_len = len;
	count(q, "dns.rx_answer");
	finish(q, DNS_OK, NULL);
}

/* RFC 7766 5: the answer was truncated, ask again over TCP. */
static void start_tcp(struct dns_query *q, int server)
{
	net_close(q->fd);
	count(q, "dns.tcp_fallback");
	q->tcp_server = server;
	q->in = malloc(2 + DNS_MSG_MAX);
	q->fd = net_socket(q->cfg.server[server].sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (!q->in || q->fd < 0) {
		finish(q, DNS_FAILED, "dns.no_socket");
		return;
	}
	q->inlen = 0;
	q->outoff = 0;
	int r = net_connect(q->fd, &q->cfg.server[server].sa, dns_server_len(&q->cfg.server[server]));
	if (r < 0 && r != -EINPROGRESS) {
		finish(q, DNS_FAILED, "dns.tcp_failed");
		return;
	}
	q->state = DQ_TCP_CONNECT;
	q->deadline = now_of(q) + (int64_t)DNS_TCP_TIMEOUT_MS * 1000;
}

/* Reads every datagram waiting on the UDP socket and takes the first that
 * answers our question. */
static void query_udp_input(struct dns_query *q)
{
	union dns_server from;
	socklen_t flen = sizeof(from);
	ssize_t n;
	while (q->state == DQ_UDP && (n = net_recvfrom(q->fd, rxbuf, sizeof(rxbuf), MSG_DONTWAIT,
						       &from.sa, &flen)) >= 0) {
		flen = sizeof(from);
		int server = server_index(q, &from);
		const char *why =
			server < 0 ? "dns.wrong_source" : check_answer(q, rxbuf, (size_t)n);
		if (why) {
			char fa[NET_ADDRSTRLEN];
			count(q, why);
			if (q->cfg.verbose)
				fprintf(q->cfg.verbose, ";; ignored %zd bytes from %s: %s\n", n,
					net_sockaddr_ntop(&from.sa, 0, fa, sizeof(fa)), why);
			continue;
		}
		if (q->cfg.verbose)
			print_msg(q->cfg.verbose, "<-", &from, "UDP", &scratch, (size_t)n);
		if ((scratch.flags & DNS_F_TC) && !q->cfg.no_tcp) {
			start_tcp(q, server);
		} else if (DNS_RCODE(scratch.flags) == DNS_FORMERR && q->edns && !scratch.edns) {
			/* RFC 6891 7: a server that does not know EDNS; ask without */
			count(q, "dns.edns_fallback");
			q->edns = false;
			if (build_query(q) < 0 || q->try >= q->cfg.tries * q->cfg.nservers)
				finish(q, DNS_FAILED, "dns.edns_fallback_failed");
			else
				send_try(q);
		} else {
			accept_answer(q, rxbuf, (size_t)n);
		}
	}
}

/* TCP: connect, write the length-prefixed question, read the answer. */
static void query_tcp_io(struct dns_query *q, short revents)
{
	ssize_t n;
	if (q->state == DQ_TCP_CONNECT) {
		int err = 0;
		socklen_t el = sizeof(err);
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		net_getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			finish(q, DNS_FAILED, "dns.tcp_connect_failed");
			return;
		}
		q->state = DQ_TCP_SEND;
		if (q->cfg.verbose)
			fprintf(q->cfg.verbose, ";; truncated: asking again over TCP\n");
	}
	if (q->state == DQ_TCP_SEND) {
		while (q->outoff < q->outlen + 2) {
			n = net_send(q->fd, q->out + q->outoff, q->outlen + 2 - q->outoff, 0);
			if (n == -EAGAIN)
				return;
			if (n < 0) {
				finish(q, DNS_FAILED, "dns.tcp_failed");
				return;
			}
			q->outoff += (size_t)n;
		}
		q->state = DQ_TCP_RECV;
	}
	for (;;) {
		size_t want = q->inlen < 2 ? 2 : 2 + (size_t)be16_get(q->in);
		if (q->inlen == want)
			break;
		n = net_recv(q->fd, q->in + q->inlen, want - q->inlen, 0);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			finish(q, DNS_FAILED, n == 0 ? "dns.tcp_closed" : "dns.tcp_failed");
			return;
		}
		q->inlen += (size_t)n;
	}
	size_t len = q->inlen - 2;
	const char *why = check_answer(q, q->in + 2, len);
	if (why) {
		finish(q, DNS_FAILED, why);
		return;
	}
	if (q->cfg.verbose)
		print_msg(q->cfg.verbose, "<-", &q->cfg.server[q->tcp_server], "TCP", &scratch,
			  len);
	uint8_t *in = q->in;
	q->in = NULL;
	accept_answer(q, in + 2, len);
	free(in);
}

int dns_query_pollfd(const struct dns_query *q, struct pollfd *pfd)
{
	if (q->state == DQ_DONE)
		return 0;
	short ev = q->state == DQ_TCP_CONNECT || q->state == DQ_TCP_SEND ? POLLOUT : POLLIN;
	*pfd = (struct pollfd){ .fd = q->fd, .events = ev };
	return 1;
}

void dns_query_handle(struct dns_query *q, short revents)
{
	if (q->state == DQ_UDP)
		query_udp_input(q);
	else if (q->state != DQ_DONE)
		query_tcp_io(q, revents);
}

enum dns_result dns_query_tick(struct dns_query *q)
{
	if (q->state == DQ_DONE || now_of(q) < q->deadline)
		return q->result;
	if (q->state != DQ_UDP)
		finish(q, DNS_FAILED, "dns.tcp_timeout");
	else if (q->try < q->cfg.tries * q->cfg.nservers)
		send_try(q);
	else
		finish(q, DNS_TIMEOUT, "dns.query_timeout");
	return q->result;
}

int dns_query_wait_ms(const struct dns_query *q)
{
	if (q->state == DQ_DONE)
		return -1;
	int64_t left = q->deadline - now_of(q);
	return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

enum dns_result dns_query_run(struct dns_query *q)
{
	while (q->state != DQ_DONE) {
		struct pollfd pfd;
		dns_query_pollfd(q, &pfd);
		int r = net_poll(&pfd, 1, dns_query_wait_ms(q));
		if (r < 0) {
			finish(q, DNS_FAILED, "dns.interrupted");
			break;
		}
		if (r > 0)
			dns_query_handle(q, pfd.revents);
		dns_query_tick(q);
	}
	return q->result;
}

void dns_query_free(struct dns_query *q)
{
	if (q->state != DQ_DONE)
		finish(q, DNS_FAILED, NULL);
	free(q->answer);
	q->answer = NULL;
}

/* In the answer section of m, the record of type qtype owned by name, or
 * the CNAME owned by name (*cname set), or NULL. */
static const struct dns_rr *chain_step(const struct dns_msg *m, const uint8_t *name, uint16_t qtype,
				       bool *cname)
{
	const struct dns_rr *alias = NULL;
	for (int i = 0; i < m->an; i++) {
		const struct dns_rr *rr = &m->rr[i];
		if (!dns_name_eq(rr->name, name))
			continue;
		if (rr->type == qtype || qtype == DNS_T_ANY)
			return *cname = false, rr;
		if (rr->type == DNS_T_CNAME)
			alias = rr;
	}
	*cname = alias != NULL;
	return alias;
}

enum dns_result dns_lookup(const struct dns_query_cfg *cfg, const uint8_t *name, uint16_t qtype,
			   struct dns_msg *out, uint8_t final[DNS_NAME_MAX], const char **why)
{
	static struct dns_query q;
	static struct dns_msg resp;
	int cnames = 0;
	memcpy(final, name, dns_name_len(name));
	dns_msg_init(out, 0, DNS_F_QR, name, qtype, DNS_C_IN);
	*why = NULL;
	for (;;) {
		dns_query_start(&q, cfg, final, qtype);
		enum dns_result r = dns_query_run(&q);
		if (r != DNS_OK) {
			*why = q.error;
			dns_query_free(&q);
			return r;
		}
		dns_decode(&resp, q.answer, q.answer_len); /* checked already */
		dns_query_free(&q);
		out->flags = resp.flags;
		for (int i = 0; i < resp.an; i++)
			dns_msg_add(out, DNS_S_ANSWER, resp.rr[i].name, resp.rr[i].type,
				    resp.rr[i].cls, resp.rr[i].ttl, dns_rdata(&resp, &resp.rr[i]),
				    resp.rr[i].rdlen);
		/* RFC 1034 3.6.2: follow the CNAMEs this answer holds */
		bool moved = false, cname;
		const struct dns_rr *rr = NULL;
		while (qtype != DNS_T_CNAME && (rr = chain_step(&resp, final, qtype, &cname)) &&
		       cname) {
			if (++cnames > DNS_CNAME_MAX) {
				*why = "dns.cname_chain_too_long";
				return DNS_FAILED;
			}
			memcpy(final, dns_rdata(&resp, rr), dns_name_len(dns_rdata(&resp, rr)));
			moved = true;
		}
		/* data found, no such name, or a chain whose end is not here:
		 * then RFC 1034 5.3.3 step 4: ask again for the target */
		if (!moved || rr || DNS_RCODE(resp.flags) != DNS_NOERROR)
			return DNS_OK;
	}
}

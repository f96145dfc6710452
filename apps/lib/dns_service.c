/* The dns service: a caching forwarding resolver on UDP and TCP port 53
 * (`tapstack --serve dns --dns-upstream 10.0.0.1`). A question is answered
 * from the cache (dns_cache.c, TTLs lowered by the time spent there), or
 * asked of the upstream server (dns_query.c) while the loop serves others;
 * the answer is cached, then sent back. Like every service it runs from the
 * services' loop: the upstream queries' sockets are watched with the rest
 * (service_watch), and their timers are checked at each turn of the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/dns_cache.h"
#include "apps/lib/dns_query.h"
#include "apps/lib/service.h"
#include "stack/byteorder.h"
#include "stack/net.h"
#include "stack/stack.h"

#define SVC_PENDING 256          /* upstream questions in flight */
#define SVC_CONNS 64             /* TCP clients at once */
#define SVC_CACHE 1024           /* cache entries */
#define SVC_IDLE_US 10000000     /* RFC 7766 6.2.3: close idle TCP clients after 10 s */
#define SVC_OUT_MAX (1 << 20)    /* answers queued for a TCP client that does not read */
#define SVC_UDP_MAX 4096         /* the largest UDP answer we send (RFC 6891 6.2.5) */

/* What we need of a client's question to answer it. */
struct client_q {
	uint16_t id, flags;
	bool has_question;
	uint8_t qname[DNS_NAME_MAX]; /* as the client wrote it */
	uint16_t qtype, qclass;
	bool edns;
	uint16_t size;               /* its UDP buffer (512 without EDNS) */
	int conn;                    /* TCP connection, or -1 for UDP */
	uint32_t gen;                /* that connection's generation */
	struct sockaddr_storage from; /* a UDP client, IPv4 or IPv6 */
	socklen_t fromlen;
};

struct pending {
	bool used;
	struct client_q c;
	struct dns_query q;
	int wfd;                     /* the query's socket as last watched (-1: none) */
	uint32_t watching;
};

struct conn {
	int fd;                      /* -1: free */
	uint32_t gen;
	uint8_t in[2 + DNS_MSG_MAX];
	size_t inlen;
	uint8_t *out;
	size_t outlen, outoff, outcap;
	bool eof;
	int inflight;                /* its questions still upstream */
	int64_t last;                /* last activity */
	uint32_t watching;           /* the events it is watched for */
};

static struct {
	struct service *sv;
	struct stack *s;
	struct dns_query_cfg upstream;
	struct dns_cache cache;
	struct pending pend[SVC_PENDING];
	struct conn conns[SVC_CONNS];
	uint32_t gen;
	int npending, nconns;        /* of pend[] and conns[] in use: the timers need a
				      * look only when there are some */
} D;

static struct dns_msg msg; /* the message being worked on */
static uint8_t buf[DNS_MSG_MAX + 2];

static void count(const char *name)
{
	stats_inc(&D.s->stats, name);
}

/* A TCP client's socket is watched for reading until its end of stream,
 * and for writing while answers wait to go. */
static void conn_watch(struct conn *k)
{
	uint32_t ev = (k->eof ? 0 : POLLIN) | (k->outlen > k->outoff ? POLLOUT : 0);
	if (k->fd >= 0 && ev != k->watching) {
		service_watch(D.sv, k->fd, ev);
		k->watching = ev;
	}
}

/* An upstream query's socket is watched for what it waits for; the query
 * may have changed sockets (UDP, then TCP after a truncated answer), and a
 * new one may have the old one's number, so this always tells the loop. */
static void pending_watch(struct pending *p)
{
	struct pollfd pfd;
	if (!p->used || dns_query_pollfd(&p->q, &pfd) == 0)
		return; /* done: its socket is closed, so out of the set */
	service_watch(D.sv, pfd.fd, (uint32_t)pfd.events);
	p->wfd = pfd.fd;
	p->watching = (uint32_t)pfd.events;
}

/* --dns-upstream ADDR (up to DNS_MAX_SERVERS times). */
static int dns_option(struct service *sv, const char *flag, const char *value, int *used)
{
	(void)sv;
	if (strcmp(flag, "--dns-upstream") != 0)
		return 0;
	struct sockaddr_in *s = &D.upstream.server[D.upstream.nservers].v4;
	if (!value || D.upstream.nservers == DNS_MAX_SERVERS ||
	    inet_pton(AF_INET, value, &s->sin_addr) != 1) {
		fprintf(stderr,
			"tapstack: --dns-upstream: '%s' is not an IPv4 address (at most %d)\n",
			value ? value : "", DNS_MAX_SERVERS);
		return -1;
	}
	s->sin_family = AF_INET;
	s->sin_port = htons(DNS_PORT);
	D.upstream.nservers++;
	*used = 1;
	return 1;
}

/* Sends an encoded answer to the client: a datagram, or a length-prefixed
 * message queued on its TCP connection (RFC 1035 4.2.2). */
static void send_answer(const struct client_q *c, const uint8_t *ans, size_t len)
{
	if (c->conn < 0) {
		/* back through the socket of the client's family */
		net_sendto(c->from.ss_family == AF_INET6 ? D.sv->fd6 : D.sv->fd, ans, len, 0,
			   (const struct sockaddr *)&c->from, c->fromlen);
		count("dns.tx_answer_udp");
		return;
	}
	struct conn *k = &D.conns[c->conn];
	if (k->fd < 0 || k->gen != c->gen)
		return; /* the client has gone */
	if (k->outlen + len + 2 > k->outcap) {
		size_t cap = k->outcap ? k->outcap * 2 : 4096;
		while (cap < k->outlen + len + 2)
			cap *= 2;
		uint8_t *p = cap <= SVC_OUT_MAX ? realloc(k->out, cap) : NULL;
		if (!p) {
			count("dns.tcp_out_full");
			return;
		}
		k->out = p;
		k->outcap = cap;
	}
	be16_put(k->out + k->outlen, (uint16_t)len);
	memcpy(k->out + k->outlen + 2, ans, len);
	k->outlen += len + 2;
	conn_watch(k); /* to write it */
	count("dns.tx_answer_tcp");
}

/* Turns m (records from upstream or the cache, or none) into the answer to
 * c with rcode, and sends it. RFC 2181 9: an answer that does not fit the
 * client's UDP buffer goes with TC set and no records, so the client asks
 * again over TCP (RFC 7766 5). */
static void answer(struct dns_msg *m, const struct client_q *c, int rcode)
{
	size_t limit = DNS_MSG_MAX;
	if (c->conn < 0) {
		limit = c->size < DNS_UDP_MIN ? DNS_UDP_MIN : c->size;
		if (limit > SVC_UDP_MAX)
			limit = SVC_UDP_MAX;
	}
	/* RFC 1035 4.1.1: our id, opcode and RD are the client's; we are not
	 * authoritative (AA clear) and recursion is available (RA) */
	m->id = c->id;
	m->flags =
		(uint16_t)(DNS_F_QR | DNS_F_RA | (c->flags & (0x7800 | DNS_F_RD)) | (rcode & 0xf));
	m->has_question = c->has_question;
	if (c->has_question) {
		memcpy(m->qname, c->qname, dns_name_len(c->qname)); /* the client's own case */
		m->qtype = c->qtype;
		m->qclass = c->qclass;
	}
	/* RFC 6891 7: an OPT in the answer only if the question had one */
	m->edns = c->edns;
	m->edns_size = DNS_EDNS_SIZE;
	m->edns_version = 0;
	m->edns_flags = 0;
	m->edns_ext_rcode = (uint8_t)(rcode >> 4);
	int len = dns_encode(m, buf, limit);
	if (len == -EMSGSIZE) {
		count("dns.tx_truncated");
		m->flags |= DNS_F_TC;
		m->an = m->ns = m->ar = 0;
		len = dns_encode(m, buf, limit);
	}
	if (len > 0)
		send_answer(c, buf, (size_t)len);
}

/* An answer with no records (errors). */
static void answer_empty(const struct client_q *c, int rcode)
{
	dns_msg_init(&msg, 0, 0, NULL, 0, 0);
	answer(&msg, c, rcode);
}

/* A pending question is done: cache and forward the upstream's answer, or
 * SERVFAIL when there was none (RFC 2308 7.1 allows caching that briefly;
 * not done here). */
static void pending_done(struct pending *p)
{
	if (p->q.result == DNS_OK && dns_decode(&msg, p->q.answer, p->q.answer_len) == NULL) {
		dns_cache_put(&D.cache, &msg, D.s->now);
		answer(&msg, &p->c, DNS_RCODE(msg.flags));
	} else {
		count("dns.upstream_failed");
		answer_empty(&p->c, DNS_SERVFAIL);
	}
	if (p->c.conn >= 0 && D.conns[p->c.conn].gen == p->c.gen)
		D.conns[p->c.conn].inflight--;
	dns_query_free(&p->q);
	p->used = false;
	D.npending--;
}

/* Asks the upstream server c's question. */
static void forward(const struct client_q *c)
{
	struct pending *p = NULL;
	for (int i = 0; i < SVC_PENDING && !p; i++)
		if (!D.pend[i].used)
			p = &D.pend[i];
	if (!p) {
		count("dns.pending_full");
		answer_empty(c, DNS_SERVFAIL);
		return;
	}
	p->used = true;
	D.npending++;
	p->c = *c;
	if (c->conn >= 0)
		D.conns[c->conn].inflight++;
	count("dns.upstream_query");
	dns_query_start(&p->q, &D.upstream, c->qname, c->qtype);
	if (p->q.state == DQ_DONE)
		pending_done(p);
	else
		pending_watch(p);
}

/* One question from a client (UDP: conn -1). Answers it from the cache, or
 * forwards it; answers errors at once. */
static void serve_query(const uint8_t *q, size_t len, int conn,
			const struct sockaddr_storage *from, socklen_t fromlen)
{
	struct client_q c = { .conn = conn, .size = DNS_UDP_MIN };
	count(conn < 0 ? "dns.rx_query_udp" : "dns.rx_query_tcp");
	if (len < DNS_HDR_LEN) {
		count("dns.short_header");
		return;
	}
	c.id = be16_get(q);
	c.flags = be16_get(q + 2);
	if (from) {
		c.from = *from;
		c.fromlen = fromlen;
	}
	if (conn >= 0)
		c.gen = D.conns[conn].gen;
	if (c.flags & DNS_F_QR) {
		count("dns.query_is_response"); /* never answer an answer */
		return;
	}
	const char *why = dns_decode(&msg, q, len);
	if (why) {
		count(why);
		answer_empty(&c, DNS_FORMERR); /* RFC 1035 4.1.1 */
		return;
	}
	c.has_question = msg.has_question;
	memcpy(c.qname, msg.qname, sizeof(c.qname));
	c.qtype = msg.qtype;
	c.qclass = msg.qclass;
	c.edns = msg.edns;
	if (msg.edns)
		c.size = msg.edns_size;
	if (DNS_OPCODE(c.flags) != 0) {
		answer_empty(&c, DNS_NOTIMP);
	} else if (!c.has_question || msg.an || msg.ns) {
		answer_empty(&c, DNS_FORMERR);
	} else if (msg.edns && msg.edns_version != 0) {
		answer_empty(&c, 16); /* RFC 6891 6.1.3: BADVERS */
	} else if (c.qclass != DNS_C_IN) {
		answer_empty(&c, DNS_REFUSED);
	} else if (dns_cache_get(&D.cache, c.qname, c.qtype, c.qclass, D.s->now, &msg)) {
		answer(&msg, &c, DNS_RCODE(msg.flags));
	} else {
		forward(&c);
	}
}

/* Reads every datagram waiting on port 53 of socket fd and serves it. */
static void serve_udp(int fd)
{
	static uint8_t dgram[DNS_MSG_MAX];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n;
	for (int i = 0; i < 256; i++) {
		n = net_recvfrom(fd, dgram, sizeof(dgram), MSG_DONTWAIT,
				 (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		serve_query(dgram, (size_t)n, -1, &from, flen);
		flen = sizeof(from);
	}
}

static void conn_close(struct conn *k)
{
	net_close(k->fd); /* which takes it out of the loop's set */
	free(k->out);
	k->out = NULL;
	k->outlen = k->outoff = k->outcap = k->inlen = 0;
	k->fd = -1;
	D.nconns--;
}

/* Accepts the TCP clients waiting on listener lfd, as far as there is room. */
static void serve_accept(int lfd)
{
	for (int i = 0; i < SVC_CONNS; i++) {
		struct conn *k = &D.conns[i];
		if (k->fd >= 0)
			continue;
		int fd = net_accept(lfd, NULL, NULL);
		if (fd < 0)
			return;
		int one = 1;
		net_setsockopt(fd, SOL_SOCKET, SO_NONBLOCK, &one, sizeof(one));
		k->fd = fd;
		k->gen = ++D.gen;
		k->eof = false;
		k->inflight = 0;
		k->last = D.s->now;
		k->watching = 0;
		D.nconns++;
		conn_watch(k);
		count("dns.tcp_accept");
	}
}

/* TCP: writes what is queued, reads length-prefixed questions (several may
 * come on one connection, RFC 7766 6.2.1) and serves each. Returns false
 * when the connection is finished. */
static bool serve_conn(struct conn *k)
{
	for (int served = 0; served < 64; served++) {
		ssize_t n;
		while (k->outoff < k->outlen) {
			n = net_send(k->fd, k->out + k->outoff, k->outlen - k->outoff, 0);
			if (n == -EAGAIN)
				break;
			if (n < 0)
				return false;
			k->outoff += (size_t)n;
			k->last = D.s->now;
		}
		if (k->outoff == k->outlen)
			k->outoff = k->outlen = 0;
		bool whole = false;
		while (!k->eof && !whole) {
			size_t want = k->inlen < 2 ? 2 : 2 + (size_t)be16_get(k->in);
			n = net_recv(k->fd, k->in + k->inlen, want - k->inlen, 0);
			if (n == -EAGAIN)
				break;
			if (n < 0)
				return false;
			if (n == 0) {
				k->eof = true;
				break;
			}
			k->last = D.s->now;
			k->inlen += (size_t)n;
			whole = k->inlen >= 2 && k->inlen == 2 + (size_t)be16_get(k->in);
		}
		if (!whole)
			break;
		k->inlen = 0;
		serve_query(k->in + 2, (size_t)be16_get(k->in), (int)(k - D.conns), NULL, 0);
	}
	return !(k->eof && k->inflight == 0 && k->outlen == 0);
}

/* Finishes the upstream questions whose time is up and closes idle
 * clients; runs at every turn of the loop, and looks only when there are
 * questions or clients. Returns the milliseconds until the next of those
 * deadlines (-1: none). */
static int dns_tick(struct service *sv)
{
	(void)sv;
	if (D.npending == 0 && D.nconns == 0)
		return -1;
	int next = -1;
	for (int i = 0; i < SVC_PENDING; i++) {
		struct pending *p = &D.pend[i];
		if (!p->used)
			continue;
		if (dns_query_tick(&p->q) != DNS_PENDING) {
			pending_done(p);
			continue;
		}
		pending_watch(p); /* a retry may have changed its socket */
		int ms = dns_query_wait_ms(&p->q);
		if (next < 0 || ms < next)
			next = ms;
	}
	for (int i = 0; i < SVC_CONNS; i++) {
		struct conn *k = &D.conns[i];
		if (k->fd < 0 || k->inflight != 0)
			continue;
		if (D.s->now - k->last > SVC_IDLE_US) {
			count("dns.tcp_idle_close");
			conn_close(k);
			continue;
		}
		int ms = (int)((k->last + SVC_IDLE_US - D.s->now) / 1000 + 1);
		if (next < 0 || ms < next)
			next = ms;
	}
	return next;
}

static void dns_handle(struct service *sv, int fd, uint32_t events)
{
	if (fd == sv->fd || fd == sv->fd6) {
		serve_udp(fd);
		return;
	}
	if (fd == sv->lfd || fd == sv->lfd6) {
		serve_accept(fd);
		return;
	}
	for (int i = 0; i < SVC_PENDING; i++) {
		struct pending *p = &D.pend[i];
		if (p->used && p->q.state != DQ_DONE && p->q.fd == fd) {
			dns_query_handle(&p->q, (short)events);
			if (p->q.state == DQ_DONE)
				pending_done(p);
			else
				pending_watch(p);
			return;
		}
	}
	for (int i = 0; i < SVC_CONNS; i++) {
		struct conn *k = &D.conns[i];
		if (k->fd == fd) {
			if ((events & POLLERR) || !serve_conn(k))
				conn_close(k);
			else
				conn_watch(k);
			return;
		}
	}
}

/* Opens UDP and TCP port 53 (for IPv6 clients too when the host has IPv6;
 * the upstream stays whatever family --dns-upstream gave) and the cache. */
static int dns_start(struct service *sv, char *err, size_t errlen)
{
	D.sv = sv;
	D.upstream.rd = true;
	for (int i = 0; i < SVC_CONNS; i++)
		D.conns[i].fd = -1;
	sv->fd6 = sv->lfd6 = -1;
	if ((sv->fd = service_socket(AF_INET, SOCK_DGRAM, DNS_PORT, 0, err, errlen)) < 0 ||
	    (sv->lfd = service_socket(AF_INET, SOCK_STREAM, DNS_PORT, 128, err, errlen)) < 0)
		return -1;
	if (service_want_ipv6() &&
	    ((sv->fd6 = service_socket(AF_INET6, SOCK_DGRAM, DNS_PORT, 0, err, errlen)) < 0 ||
	     (sv->lfd6 = service_socket(AF_INET6, SOCK_STREAM, DNS_PORT, 128, err, errlen)) < 0))
		return -1;
	D.s = dns_stack_of(sv->fd);
	if (dns_cache_init(&D.cache, SVC_CACHE, &D.s->stats) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int *fds[] = { &sv->fd, &sv->lfd, &sv->fd6, &sv->lfd6 };
	for (int i = 0; i < 4; i++)
		if (*fds[i] >= 0)
			service_watch(sv, *fds[i], POLLIN);
	return 0;
}

static void dns_stop(struct service *sv)
{
	for (int i = 0; i < SVC_PENDING; i++)
		if (D.pend[i].used) {
			dns_query_free(&D.pend[i].q);
			D.pend[i].used = false;
		}
	for (int i = 0; i < SVC_CONNS; i++)
		if (D.conns[i].fd >= 0)
			conn_close(&D.conns[i]);
	dns_cache_fini(&D.cache);
	int *fds[] = { &sv->fd, &sv->lfd, &sv->fd6, &sv->lfd6 };
	for (int i = 0; i < 4; i++) {
		if (*fds[i] >= 0)
			net_close(*fds[i]);
		*fds[i] = -1;
	}
}

struct service service_dns = {
	.name = "dns",
	.what = "port 53, UDP and TCP: caching forwarding resolver (RFC 1035, 2308, 7766)",
	.start = dns_start,
	.handle = dns_handle,
	.tick = dns_tick,
	.stop = dns_stop,
	.option = dns_option,
	.options_help =
		"  --dns-upstream ADDR  the server the dns service asks (default: the gateway;\n"
		"                    give it up to 3 times)\n",
	.fd = -1,
	.lfd = -1,
	.fd6 = -1,
	.lfd6 = -1,
};

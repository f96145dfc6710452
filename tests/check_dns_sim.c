/* DNS over a simulated link: the query engine (dns_query.c) on host B asks
 * a tiny DNS responder written here, on host A, through both stacks on
 * virtual time. Under loss every question resolves or times out exactly
 * when the retry schedule says; the schedule goes round the servers with
 * doubling timeouts; ids and source ports are random; answers with a wrong
 * id, source, question or a malformed body are ignored and counted; a
 * truncated answer is asked again over TCP; net_getaddrinfo asks a server
 * over IPv6 once DAD has passed (webget --dns fd00::2). */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "apps/lib/dns_query.h"
#include "apps/lib/resolver.h"
#include "ip/ndp.h"
#include "stack/byteorder.h"
#include "tests/sim.h"

#define S 1000000
#define ALT_PORT 5353   /* a second server on the same host */
#define SPOOF_PORT 5300 /* where spoofed answers come from */

enum mode { NORMAL, SILENT, SPOOF, TRUNCATE };

struct responder {
	enum mode mode;
	int fd, alt, spoof, lfd, cfd;
	int nq;                     /* questions received over UDP */
	int family;                 /* of the last one's source */
	int64_t at[64];             /* when (the first 64) */
	uint16_t port_of[64];       /* on which of our ports */
	uint16_t ids[512], sports[512];
	uint8_t tcp[2 + 4096];
	size_t tcplen;
};

static struct sim sim;
static struct responder R;
static struct dns_msg qm, am;
static uint8_t buf[4096];

static int udp_on(uint16_t port)
{
	int fd = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	ck_assert_int_eq(net_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Both hosts up, the responder's sockets on A, new sockets then on B. */
static void setup(const struct impair_cfg *cfg, uint64_t seed, enum mode mode)
{
	sim_init(&sim, cfg, seed);
	sim_attach(&sim, &sim.a);
	memset(&R, 0, sizeof(R));
	R.mode = mode;
	R.fd = udp_on(DNS_PORT);
	R.alt = udp_on(ALT_PORT);
	R.spoof = udp_on(SPOOF_PORT);
	R.cfd = -1;
	R.lfd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DNS_PORT) };
	ck_assert_int_eq(net_bind(R.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(net_listen(R.lfd, 4), 0);
	net_use_stack(&sim.b);
}

/* The answer to qm: n A records 10.0.0.9 for its name (or, with TC, none). */
static int make_answer(int n, bool tc, uint8_t *out, size_t cap)
{
	uint8_t a[4] = { 10, 0, 0, 9 };
	dns_msg_init(&am, qm.id, DNS_F_QR | DNS_F_AA | (tc ? DNS_F_TC : 0), qm.qname, qm.qtype,
		     qm.qclass);
	for (int i = 0; i < n && !tc; i++) {
		a[3] = (uint8_t)(9 + i);
		dns_msg_add(&am, DNS_S_ANSWER, qm.qname, DNS_T_A, DNS_C_IN, 60, a, 4);
	}
	return dns_encode(&am, out, cap);
}

/* Sends len bytes of buf to the client (either family) from socket fd. */
static void reply(int fd, const struct sockaddr_storage *to, const void *b, size_t len)
{
	socklen_t tl = to->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						 : sizeof(struct sockaddr_in);
	ck_assert_int_eq(net_sendto(fd, b, len, 0, (const struct sockaddr *)to, tl),
			 (ssize_t)len);
}

/* The port of a client's address of either family. */
static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
					       : ((const struct sockaddr_in *)ss)->sin_port);
}

/* The spoofer's attempts, each one thing wrong, then the real answer. */
static void spoof_then_answer(int fd, const struct sockaddr_storage *to)
{
	uint8_t q[512];
	int len = make_answer(1, false, q, sizeof(q));
	uint8_t bad[512];
	memcpy(bad, q, (size_t)len);
	bad[24 + 20 - 1] = 0; /* (the A record's last byte, to be told apart) */
	/* 1. the wrong id */
	be16_put(bad, (uint16_t)(qm.id + 1));
	be32_put(bad + len - 4, 0x0a060606);
	reply(fd, to, bad, (size_t)len);
	/* 2. the right id, from the wrong port */
	be16_put(bad, qm.id);
	reply(R.spoof, to, bad, (size_t)len);
	/* 3. another question */
	bad[13] ^= 0x01;
	reply(fd, to, bad, (size_t)len);
	bad[13] ^= 0x01;
	/* 4. not a response (QR clear) */
	be16_put(bad + 2, 0);
	reply(fd, to, bad, (size_t)len);
	/* 5. right id and QR, a question whose name points at itself */
	uint8_t loop[] = { 0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
	be16_put(loop, qm.id);
	reply(fd, to, loop, sizeof(loop));
	/* and the real one */
	reply(fd, to, q, (size_t)len);
}

/* Serves what has arrived on the responder's sockets. */
static void responder_serve(void)
{
	int fds[2] = { R.fd, R.alt };
	for (int k = 0; k < 2; k++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n;
		while ((n = net_recvfrom(fds[k], buf, sizeof(buf), 0, (struct sockaddr *)&from,
					 &fl)) >= 0) {
			ck_assert_ptr_null(dns_decode(&qm, buf, (size_t)n));
			if (R.nq < 64) {
				R.at[R.nq] = sim.now;
				R.port_of[R.nq] = k ? ALT_PORT : DNS_PORT;
			}
			if (R.nq < 512) {
				R.ids[R.nq] = qm.id;
				R.sports[R.nq] = port_of(&from);
			}
			R.family = from.ss_family;
			R.nq++;
			ck_assert(qm.edns && qm.edns_size == DNS_EDNS_SIZE); /* RFC 6891 */
			static uint8_t out[4096];
			int len;
			switch (R.mode) {
			case NORMAL:
				len = make_answer(1, false, out, sizeof(out));
				reply(fds[k], &from, out, (size_t)len);
				break;
			case TRUNCATE:
				len = make_answer(0, true, out, sizeof(out));
				reply(fds[k], &from, out, (size_t)len);
				break;
			case SPOOF:
				spoof_then_answer(fds[k], &from);
				break;
			case SILENT:
				break;
			}
			fl = sizeof(from);
		}
	}
	/* TCP: one connection, one length-prefixed question, 40 records back */
	if (R.cfd < 0)
		R.cfd = net_accept(R.lfd, NULL, NULL);
	if (R.cfd < 0)
		return;
	ssize_t n = net_recv(R.cfd, R.tcp + R.tcplen, sizeof(R.tcp) - R.tcplen, MSG_DONTWAIT);
	if (n > 0)
		R.tcplen += (size_t)n;
	if (R.tcplen >= 2 && R.tcplen == 2 + (size_t)be16_get(R.tcp)) {
		ck_assert_ptr_null(dns_decode(&qm, R.tcp + 2, R.tcplen - 2));
		static uint8_t out[4096];
		int len = make_answer(40, false, out + 2, sizeof(out) - 2);
		be16_put(out, (uint16_t)len);
		ck_assert_int_eq(net_send(R.cfd, out, (size_t)len + 2, 0), len + 2);
		R.tcplen = 0;
	}
	if (n == 0) {
		net_close(R.cfd);
		R.cfd = -1;
	}
}

/* Runs q and the responder until q ends. */
static enum dns_result run(struct dns_query *q)
{
	for (int guard = 0; guard < 100000 && q->state != DQ_DONE; guard++) {
		struct pollfd p[8];
		int n = dns_query_pollfd(q, &p[0]);
		p[n++] = (struct pollfd){ .fd = R.fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = R.alt, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = R.cfd >= 0 ? R.cfd : R.lfd, .events = POLLIN };
		net_poll(p, (nfds_t)n, dns_query_wait_ms(q));
		if (p[0].revents && p[0].fd == q->fd)
			dns_query_handle(q, p[0].revents);
		responder_serve();
		dns_query_tick(q);
	}
	ck_assert_int_eq(q->state, DQ_DONE);
	return q->result;
}

static struct dns_query_cfg one_server(void)
{
	struct dns_query_cfg c = { .rd = true, .nservers = 1 };
	c.server[0].v4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(DNS_PORT),
					    .sin_addr.s_addr = htonl(SIM_A_IP) };
	return c;
}

/* Checks q's accepted answer: nrec A records for name, the first 10.0.0.9. */
static void expect_answer(struct dns_query *q, const uint8_t *name, int nrec)
{
	static struct dns_msg got;
	ck_assert_ptr_null(dns_decode(&got, q->answer, q->answer_len));
	ck_assert(dns_name_eq(got.qname, name));
	ck_assert_int_eq(got.an, nrec);
	ck_assert_uint_eq(be32_get(dns_rdata(&got, &got.rr[0])), 0x0a000009);
}

/* 300 questions over a link losing 20% of frames each way: each one is
 * answered correctly or times out exactly 1 + 2 + 4 s after it started. */
START_TEST(dns_sim_lossy_link)
{
	static struct dns_query q;
	struct impair_cfg cfg = { .loss = 0.2, .delay_us = 2000, .jitter_us = 500 };
	setup(&cfg, 11, NORMAL);
	struct dns_query_cfg c = one_server();
	int ok = 0, timeouts = 0;
	for (int i = 0; i < 300; i++) {
		char text[64];
		uint8_t name[DNS_NAME_MAX];
		snprintf(text, sizeof(text), "q%d.lab.test", i);
		dns_name_from_text(text, name);
		int64_t t0 = sim.now;
		ck_assert_int_eq(dns_query_start(&q, &c, name, DNS_T_A), 0);
		enum dns_result r = run(&q);
		if (r == DNS_OK) {
			expect_answer(&q, name, 1);
			ok++;
		} else {
			ck_assert_int_eq(r, DNS_TIMEOUT);
			int64_t took = sim.now - t0;
			ck_assert_msg(took >= 7 * S && took < 7 * S + 20000,
				      "timed out after %lld us", (long long)took);
			timeouts++;
		}
		dns_query_free(&q);
	}
	/* 0.8 * 0.8 per try: about 300 * 0.36^3 = 14 time out */
	ck_assert_int_eq(ok + timeouts, 300);
	ck_assert_msg(timeouts > 2 && timeouts < 40, "%d timeouts", timeouts);
	ck_assert_uint_eq(stats_get(&sim.b.stats, "dns.tx_query"), 300);
	ck_assert_uint_eq(stats_get(&sim.b.stats, "dns.query_timeout"), (uint64_t)timeouts);
	ck_assert_uint_eq(stats_get(&sim.b.stats, "dns.rx_answer"), (uint64_t)ok);
	ck_assert_uint_gt(stats_get(&sim.b.stats, "dns.tx_retransmit"), 100);
	/* RFC 5452: ids and source ports all over their ranges */
	int n = R.nq < 512 ? R.nq : 512, same_id = 0, same_port = 0;
	for (int i = 1; i < n; i++) {
		same_id += R.ids[i] == R.ids[i - 1];
		same_port += R.sports[i] == R.sports[i - 1];
		ck_assert_uint_ge(R.sports[i], 49152);
	}
	ck_assert_int_lt(same_id, n / 2); /* retransmissions repeat them, nothing else */
	ck_assert_int_lt(same_port, n / 2);
	sim_fini(&sim);
}
END_TEST

/* Two silent servers: tries alternate between them, the timeout doubling
 * each round: 0, 1, 2, 4, 6, 10 s; given up at 14 s. */
START_TEST(dns_sim_retry_schedule)
{
	static struct dns_query q;
	struct impair_cfg cfg = { .delay_us = 1000 };
	setup(&cfg, 3, SILENT);
	struct dns_query_cfg c = one_server();
	c.server[1] = c.server[0];
	c.server[1].v4.sin_port = htons(ALT_PORT);
	c.nservers = 2;
	int64_t t0 = sim.now;
	uint8_t name[DNS_NAME_MAX];
	dns_name_from_text("silent.lab.test", name);
	dns_query_start(&q, &c, name, DNS_T_A);
	ck_assert_int_eq(run(&q), DNS_TIMEOUT);
	ck_assert_int_eq(R.nq, 6);
	static const int64_t when[] = { 0, 1, 2, 4, 6, 10 };
	for (int i = 0; i < 6; i++) {
		int64_t d = R.at[i] - t0 - when[i] * S;
		ck_assert_msg(d >= 1000 && d < 20000, "try %d arrived %lld us late", i,
			      (long long)d);
		ck_assert_uint_eq(R.port_of[i], i % 2 ? ALT_PORT : DNS_PORT);
		ck_assert_uint_eq(R.ids[i], R.ids[0]);
	}
	ck_assert_int_ge(sim.now - t0, 14 * S);
	ck_assert_int_lt(sim.now - t0, 14 * S + 20000);
	ck_assert_ptr_nonnull(q.error);
	ck_assert_str_eq(q.error, "dns.query_timeout");
	dns_query_free(&q);
	sim_fini(&sim);
}
END_TEST

/* RFC 5452 9.1: answers from elsewhere, with another id or question, not
 * marked as answers, or malformed, are dropped and counted; the real one is
 * taken. */
START_TEST(dns_sim_spoofed_answers_ignored)
{
	static struct dns_query q;
	setup(NULL, 5, SPOOF);
	struct dns_query_cfg c = one_server();
	uint8_t name[DNS_NAME_MAX];
	dns_name_from_text("www.lab.test", name);
	dns_query_start(&q, &c, name, DNS_T_A);
	ck_assert_int_eq(run(&q), DNS_OK);
	expect_answer(&q, name, 1);
	const struct stats *st = &sim.b.stats;
	ck_assert_uint_eq(stats_get(st, "dns.wrong_id"), 1);
	ck_assert_uint_eq(stats_get(st, "dns.wrong_source"), 1);
	ck_assert_uint_eq(stats_get(st, "dns.wrong_question"), 1);
	ck_assert_uint_eq(stats_get(st, "dns.not_response"), 1);
	ck_assert_uint_eq(stats_get(st, "dns.pointer_loop"), 1);
	ck_assert_uint_eq(stats_get(st, "dns.tx_retransmit"), 0);
	dns_query_free(&q);
	sim_fini(&sim);
}
END_TEST

/* RFC 7766 5: TC set, so the question goes again over TCP (two-byte length
 * prefix) and the whole 40-record answer comes back; also over a lossy link. */
START_TEST(dns_sim_truncated_goes_tcp)
{
	static struct dns_query q;
	for (int lossy = 0; lossy < 2; lossy++) {
		struct impair_cfg cfg = { .loss = lossy ? 0.05 : 0, .delay_us = 1000 };
		setup(&cfg, 21 + (uint64_t)lossy, TRUNCATE);
		struct dns_query_cfg c = one_server();
		uint8_t name[DNS_NAME_MAX];
		dns_name_from_text("many.lab.test", name);
		dns_query_start(&q, &c, name, DNS_T_A);
		ck_assert_int_eq(run(&q), DNS_OK);
		expect_answer(&q, name, 40);
		ck_assert_uint_gt(q.answer_len, 512);
		ck_assert_uint_eq(stats_get(&sim.b.stats, "dns.tcp_fallback"), 1);
		dns_query_free(&q);
		/* let both sides finish closing before the pool is checked */
		for (int i = 0; i < 200; i++) {
			responder_serve();
			sim_run_until(&sim, sim.now + 100000);
		}
		sim_fini(&sim);
	}
}
END_TEST

/* A driver that runs the simulation (as sim_attach's) and lets the
 * responder answer after every step, for blocking calls such as
 * net_getaddrinfo that run the host themselves. */
static void serving_wait(void *ctx, int64_t max_wait_us)
{
	sim_step(ctx, max_wait_us);
	responder_serve();
}

static int64_t serving_now(void *ctx)
{
	return ((struct sim *)ctx)->now;
}

/* net_getaddrinfo (webget's resolver) with an IPv6 server set by
 * net_resolver_set_server (webget --dns fd00::1): right after both hosts
 * start, it waits for B's address to pass DAD (RFC 4862 5.4), asks A over
 * IPv6, once, and gives the A record; then back to the IPv4 gateway. */
START_TEST(dns_sim_resolver_over_ipv6)
{
	setup(NULL, 9, NORMAL);
	struct ipaddr a6, b6;
	ck_assert_int_eq(ipaddr_pton("fd00::1", &a6), 0);
	ck_assert_int_eq(ipaddr_pton("fd00::2", &b6), 0);
	ck_assert_int_eq(ndp_addr_add(&sim.a, &sim.a.ifs[0], &a6, 64), 0);
	ck_assert_int_eq(ndp_addr_add(&sim.b, &sim.b.ifs[0], &b6, 64), 0);
	net_use_stack(&sim.a);
	net_close(R.alt);
	R.alt = net_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_port = htons(DNS_PORT) };
	ck_assert_int_eq(net_bind(R.alt, (struct sockaddr *)&any6, sizeof(any6)), 0);
	struct net_driver d = { .wait = serving_wait, .now = serving_now, .ctx = &sim };
	net_attach(&sim.b, &d);

	struct sockaddr_in6 srv = { .sin6_family = AF_INET6 }; /* port 0: 53 */
	memcpy(&srv.sin6_addr, a6.a, 16);
	ck_assert_int_eq(net_resolver_set_server((struct sockaddr *)&srv, 4), -EINVAL);
	ck_assert_int_eq(net_resolver_set_server((struct sockaddr *)&srv, sizeof(srv)), 0);
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int64_t t0 = sim.now;
	ck_assert_int_eq(net_getaddrinfo("www.lab.test", "80", &hints, &res), 0);
	ck_assert_int_ge(sim.now - t0, NDP_RETRANS_US); /* DAD first */
	ck_assert_int_eq(R.nq, 1);
	ck_assert_int_eq(R.family, AF_INET6);
	ck_assert_uint_eq(stats_get(&sim.b.stats, "dns.tx_retransmit"), 0);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(res->ai_family, AF_INET);
	const struct sockaddr_in *got = (const struct sockaddr_in *)res->ai_addr;
	ck_assert_uint_eq(ntohl(got->sin_addr.s_addr), 0x0a000009);
	ck_assert_uint_eq(ntohs(got->sin_port), 80);
	ck_assert_ptr_null(res->ai_next);
	net_freeaddrinfo(res);
	/* NULL: the gateway again (none here, so no server) */
	ck_assert_int_eq(net_resolver_set_server(NULL, 0), 0);
	ck_assert_int_ne(net_getaddrinfo("www.lab.test", NULL, &hints, &res), 0);
	ck_assert_int_eq(R.nq, 1);
	sim_fini(&sim);
}
END_TEST

Suite *dns_sim_suite(void)
{
	Suite *s = suite_create("dns_sim");
	TCase *tc = tcase_create("dns_sim");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dns_sim_lossy_link);
	tcase_add_test(tc, dns_sim_retry_schedule);
	tcase_add_test(tc, dns_sim_spoofed_answers_ignored);
	tcase_add_test(tc, dns_sim_truncated_goes_tcp);
	tcase_add_test(tc, dns_sim_resolver_over_ipv6);
	suite_add_tcase(s, tc);
	return s;
}

/* The web server and a client as two hosts on a lossy simlink, on virtual
 * time: host B runs the server of apps/lib/http_server.c on a document root
 * in /tmp, host A a non-blocking client written here on the socket API (the
 * way webget reads responses, with apps/lib/http_client.c). A 20 MB file
 * must arrive byte for byte; 100 requests must be answered on one
 * kept-alive connection, one after the other and pipelined. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/lib/http_client.h"
#include "apps/lib/http_server.h"
#include "stack/net.h"
#include "tests/sim.h"

#define BIG_SIZE (20 * 1024 * 1024)
#define SMALL_SIZE 3000
#define MAX_VIRTUAL_US (1800LL * 1000000) /* half an hour of virtual time at most */

static struct sim sim;
static int ep = -1; /* host B's readiness set, the server's descriptors in it */
static char root[64];
static uint8_t *big, small[SMALL_SIZE];

static int64_t sim_clock(void)
{
	return sim.now;
}

/* Writes len pseudo-random bytes (from seed) to root/name and to mem. */
static void make_file(const char *name, uint8_t *mem, size_t len, uint64_t seed)
{
	char path[128];
	for (size_t i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		mem[i] = (uint8_t)(seed >> 56);
	}
	snprintf(path, sizeof(path), "%s/%s", root, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, mem, len), (ssize_t)len);
	close(fd);
}

static void make_root(void)
{
	strcpy(root, "/tmp/tapstack-http-sim.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	big = malloc(BIG_SIZE);
	ck_assert_ptr_nonnull(big);
	make_file("big.bin", big, BIG_SIZE, 1);
	make_file("small.txt", small, SMALL_SIZE, 2);
}

static void remove_root(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/big.bin", root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/small.txt", root);
	unlink(path);
	rmdir(root);
	free(big);
	big = NULL;
}

/* The server's watch hook: its descriptors into ep, as the services'
 * loop does it (apps/lib/services.c). */
static void sim_watch(void *ctx, int fd, uint32_t events)
{
	struct net_epoll_event ev = { .events = events, .data.fd = fd };
	(void)ctx;
	if (!events)
		net_epoll_ctl(ep, NET_EPOLL_CTL_DEL, fd, NULL);
	else if (net_epoll_ctl(ep, NET_EPOLL_CTL_MOD, fd, &ev) == -ENOENT)
		ck_assert_int_eq(net_epoll_ctl(ep, NET_EPOLL_CTL_ADD, fd, &ev), 0);
}

/* Host B serves www (NULL: no document root) on port 80, about its
 * services (NULL: none named); host A gets a socket connecting to it. */
static void start_www(struct http_server *srv, const struct impair_cfg *link, uint64_t seed,
		      int *cfd, const char *www, const char *about)
{
	char err[200];
	struct http_config cfg;
	sim_init(&sim, link, seed);
	sim_attach(&sim, &sim.b);
	http_config_init(&cfg);
	cfg.www = www;
	cfg.about = about;
	cfg.log = NULL;
	cfg.now = sim_clock;
	cfg.watch = sim_watch;
	ep = net_epoll_create();
	ck_assert_int_ge(ep, 0);
	ck_assert_msg(http_server_start(srv, &cfg, err, sizeof(err)) == 0, "%s", err);
	sim_attach(&sim, &sim.a);
	*cfd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(80),
				  .sin_addr.s_addr = htonl(SIM_B_IP) };
	ck_assert_int_eq(net_connect(*cfd, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);
}

/* Host B serves root on port 80; host A gets a socket connecting to it. */
static void start(struct http_server *srv, const struct impair_cfg *link, uint64_t seed, int *cfd)
{
	start_www(srv, link, seed, cfd, root, NULL);
}

/* One turn, as the services' loop: the server enforces its deadlines and
 * handles what the set reports, then time moves to the next event of
 * either host (at most 1 ms on). */
static void turn(struct http_server *srv)
{
	struct net_epoll_event got[64];
	http_server_tick(srv);
	int n = net_epoll_wait(ep, got, 64, 0);
	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++)
		http_server_handle(srv, got[i].data.fd, got[i].events);
	sim_step(&sim, 1000);
}

/* The client: what it sent and what came back. */
struct client {
	int fd;
	char *in;
	size_t len, cap;        /* received, not yet checked */
	size_t out_off, out_len;
	char out[16384];        /* requests still to send */
	int answered;
	bool closed;
};

/* Queues request text to send. */
static void client_queue(struct client *c, const char *text)
{
	size_t n = strlen(text);
	ck_assert(c->out_len + n <= sizeof(c->out));
	memcpy(c->out + c->out_len, text, n);
	c->out_len += n;
}

/* Sends what is queued, receives what came. */
static void client_step(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = net_send(c->fd, c->out + c->out_off, c->out_len - c->out_off, 0);
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	for (;;) {
		if (c->len == c->cap)
			break;
		ssize_t n = net_recv(c->fd, c->in + c->len, c->cap - c->len, 0);
		if (n == -EAGAIN || n == -ENOTCONN)
			break;
		if (n <= 0) {
			c->closed = true;
			break;
		}
		c->len += (size_t)n;
	}
}

/* The body request i of the keep-alive tests expects, its status and
 * method. */
static const char *const paths[] = { "/small.txt", "/bytes/1000", "/bytes/0",
				     "/missing",   "/small.txt",  "/bytes/70000" };

static void expected(int i, int *status, const uint8_t **body, size_t *len, bool *head)
{
	static uint8_t pat[70000];
	int k = i % 6;
	*head = i % 10 == 9;
	*status = k == 3 ? 404 : 200;
	*body = NULL;
	*len = 0;
	if (k == 0 || k == 4) {
		*body = small;
		*len = SMALL_SIZE;
	} else if (k == 1 || k == 5) {
		*len = k == 1 ? 1000 : 70000;
		http_pattern_fill(pat, *len, 0);
		*body = pat;
	}
}

static void request_text(int i, char *out, size_t outlen)
{
	int st;
	const uint8_t *b;
	size_t l;
	bool head;
	expected(i, &st, &b, &l, &head);
	snprintf(out, outlen, "%s %s HTTP/1.1\r\nHost: b\r\n\r\n", head ? "HEAD" : "GET",
		 paths[i % 6]);
}

/* Checks the response at the front of c->in if it is complete: the status
 * and body of request i. Returns true (and drops it) if it was there. */
static bool client_check(struct client *c, int i)
{
	struct http_response r;
	int h = http_parse_response(c->in, c->len, &r);
	ck_assert_int_ge(h, 0);
	if (h == 0)
		return false;
	int st;
	const uint8_t *body;
	size_t blen;
	bool head;
	expected(i, &st, &body, &blen, &head);
	ck_assert_msg(r.status == st, "request %d: status %d, want %d", i, r.status, st);
	if (st == 200)
		ck_assert_int_eq(r.content_length, (int64_t)blen);
	size_t have = head ? 0 : (size_t)r.content_length;
	if (c->len < (size_t)h + have)
		return false;
	if (st == 200 && !head && blen > 0)
		ck_assert_msg(memcmp(c->in + h, body, blen) == 0, "request %d: body differs", i);
	ck_assert(!r.conn_close);
	memmove(c->in, c->in + h + have, c->len - (size_t)h - have);
	c->len -= (size_t)h + have;
	c->answered++;
	return true;
}

static void finish(struct http_server *srv, struct client *c)
{
	net_close(c->fd);
	for (int i = 0; i < 200; i++)
		turn(srv);
	http_server_stop(srv);
	sim_fini(&sim);
	free(c->in);
}

/* The 20 MB file, byte for byte, over a link that loses 2% of the frames
 * and reorders some. */
START_TEST(http_sim_big_file)
{
	struct http_server srv;
	struct impair_cfg link = { .loss = 0.02, .reorder = 0.02, .dup = 0.005, .delay_us = 2000,
				   .jitter_us = 500 };
	struct client c = { .cap = BIG_SIZE + 4096 };
	c.in = malloc(c.cap);
	make_root();
	start(&srv, &link, 42, &c.fd);
	client_queue(&c, "GET /big.bin HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
	while (!c.closed && sim.now < MAX_VIRTUAL_US) {
		client_step(&c);
		turn(&srv);
	}
	struct http_response r;
	int h = http_parse_response(c.in, c.len, &r);
	ck_assert_msg(c.closed, "not finished after %lld s of virtual time: %zu bytes came",
		      (long long)(sim.now / 1000000), c.len);
	ck_assert_int_gt(h, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.content_length, BIG_SIZE);
	ck_assert_uint_eq(c.len - (size_t)h, BIG_SIZE);
	ck_assert_msg(memcmp(c.in + h, big, BIG_SIZE) == 0, "the 20 MB body differs");
	if (getenv("HTTP_SIM_DEBUG"))
		fprintf(stderr, "20 MB in %.1f s of virtual time, %llu segments received by A\n",
			sim.now / 1e6,
			(unsigned long long)stats_get(&sim.a.stats, "tcp.rx_segments"));
	ck_assert_uint_eq(srv.accepted, 1);
	finish(&srv, &c);
	remove_root();
}
END_TEST

/* 100 requests on one connection, each sent when the previous answer is
 * in (pipelined = false), or all at once (true). */
static void keep_alive_run(bool pipelined)
{
	struct http_server srv;
	struct impair_cfg link = { .loss = 0.01, .reorder = 0.01, .delay_us = 1000 };
	struct client c = { .cap = 1 << 20 };
	char req[128];
	c.in = malloc(c.cap);
	make_root();
	start(&srv, &link, pipelined ? 8 : 7, &c.fd);
	for (int i = 0; i < (pipelined ? 100 : 1); i++) {
		request_text(i, req, sizeof(req));
		client_queue(&c, req);
	}
	while (c.answered < 100 && !c.closed && sim.now < MAX_VIRTUAL_US) {
		client_step(&c);
		while (c.answered < 100 && client_check(&c, c.answered))
			if (!pipelined && c.answered < 100) {
				request_text(c.answered, req, sizeof(req));
				c.out_off = c.out_len = 0;
				client_queue(&c, req);
			}
		turn(&srv);
	}
	ck_assert_msg(c.answered == 100, "%d answers of 100 (closed: %d)", c.answered, c.closed);
	ck_assert_uint_eq(srv.accepted, 1);
	ck_assert_uint_eq(srv.requests, 100);
	/* kept alive and idle now: it holds no buffers (24 KB; they come back
	 * with the next request's first bytes) */
	for (int i = 0; i < 100; i++) {
		client_step(&c);
		turn(&srv);
	}
	ck_assert_int_eq(srv.nconns, 1);
	ck_assert_int_eq(srv.bufs_busy, 0);
	finish(&srv, &c);
	remove_root();
}

START_TEST(http_sim_keep_alive_100)
{
	keep_alive_run(false);
}
END_TEST

START_TEST(http_sim_pipelined_100)
{
	keep_alive_run(true);
}
END_TEST

/* A client that connects and never sends gets 408 after the request
 * timeout, and the connection closes. */
/* A download that takes longer than the send timeout (30 s) on a slow link
 * while the client reads all along is not cut: the timeout is for a client
 * that stopped reading, and every byte sent starts it again. 40 MB at
 * 8 Mbit/s is about 42 s, far more than the 4 MB send buffer holds. */
START_TEST(http_sim_slow_download_not_cut)
{
	struct http_server srv;
	const size_t body = 40 * 1000 * 1000;
	struct impair_cfg link = { .delay_us = 5000, .rate_bps = 8000000, .queue_limit = 50 };
	struct client c = { .cap = body + 4096 };
	c.in = malloc(c.cap);
	make_root();
	start(&srv, &link, 11, &c.fd);
	client_queue(&c, "GET /bytes/40000000 HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
	while (!c.closed && sim.now < MAX_VIRTUAL_US) {
		client_step(&c);
		turn(&srv);
	}
	ck_assert(c.closed);
	struct http_response r;
	int h = http_parse_response(c.in, c.len, &r);
	ck_assert_int_gt(h, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(c.len - (size_t)h == body, "%zu of %zu body bytes came in %.1f s",
		      c.len - (size_t)h, body, sim.now / 1e6);
	ck_assert_msg(sim.now > 35 * 1000000LL, "the link was faster than planned: %.1f s",
		      sim.now / 1e6);
	finish(&srv, &c);
	remove_root();
}
END_TEST

START_TEST(http_sim_timeout_408)
{
	struct http_server srv;
	struct client c = { .cap = 65536 };
	c.in = malloc(c.cap);
	make_root();
	start(&srv, NULL, 9, &c.fd);
	while (!c.closed && sim.now < 30 * 1000000LL) {
		client_step(&c);
		turn(&srv);
	}
	ck_assert(c.closed);
	ck_assert_int_ge(sim.now, 10 * 1000000LL);
	struct http_response r;
	ck_assert_int_gt(http_parse_response(c.in, c.len, &r), 0);
	ck_assert_int_eq(r.status, 408);
	ck_assert_uint_eq(srv.timeouts_408, 1);
	finish(&srv, &c);
	remove_root();
}
END_TEST

/* One request (closing the connection) to a server of www and about: its
 * status, and its body as a string in body. */
static int fetch(const char *www, const char *about, const char *target, const char *method,
		 char *body, size_t bodymax)
{
	struct http_server srv;
	struct client c = { .cap = 65536 };
	char req[256];
	c.in = malloc(c.cap);
	start_www(&srv, NULL, 5, &c.fd, www, about);
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n",
		 method, target);
	client_queue(&c, req);
	while (!c.closed && sim.now < 30 * 1000000LL) {
		client_step(&c);
		turn(&srv);
	}
	ck_assert_msg(c.closed, "%s %s: not answered", method, target);
	struct http_response r;
	int h = http_parse_response(c.in, c.len, &r);
	ck_assert_int_gt(h, 0);
	size_t n = c.len - (size_t)h;
	if (strcmp(method, "HEAD") != 0)
		ck_assert_int_eq(r.content_length, (int64_t)n);
	ck_assert_uint_lt(n, bodymax);
	memcpy(body, c.in + h, n);
	body[n] = '\0';
	int st = r.status;
	finish(&srv, &c);
	return st;
}

/* GET / with no document root: the welcome page, which lists the services
 * it was told of and links /bytes/N; /index.html too; HEAD / has the same
 * status and no body. Any other path is still 404. With a root, a file
 * answers first: / is the root's listing there, while /index.html, which
 * the root lacks, is the welcome page. */
START_TEST(http_sim_welcome_page)
{
	static char body[65536];
	const char *about = "echo\tport 7, UDP and TCP\nhttp\tport 80, <TCP>\n";
	ck_assert_int_eq(fetch(NULL, about, "/", "GET", body, sizeof(body)), 200);
	ck_assert_msg(strstr(body, "<h1>tapstack host</h1>"), "no title: %s", body);
	ck_assert_msg(strstr(body, "<li><b>echo</b>: port 7, UDP and TCP</li>"), "%s", body);
	ck_assert_msg(strstr(body, "<li><b>http</b>: port 80, &lt;TCP&gt;</li>"), "%s", body);
	ck_assert_msg(strstr(body, "<a href=\"/bytes/100\">"), "no /bytes link: %s", body);
	ck_assert_int_eq(fetch(NULL, about, "/index.html", "GET", body, sizeof(body)), 200);
	ck_assert_ptr_nonnull(strstr(body, "<h1>tapstack host</h1>"));
	ck_assert_int_eq(fetch(NULL, NULL, "/", "GET", body, sizeof(body)), 200);
	ck_assert_ptr_null(strstr(body, "What this host serves"));
	ck_assert_int_eq(fetch(NULL, about, "/", "HEAD", body, sizeof(body)), 200);
	ck_assert_str_eq(body, "");
	ck_assert_int_eq(fetch(NULL, about, "/nothing-here", "GET", body, sizeof(body)), 404);
	ck_assert_ptr_nonnull(strstr(body, "404 Not Found"));
	ck_assert_int_eq(fetch(NULL, about, "/index.htm", "GET", body, sizeof(body)), 404);
	ck_assert_int_eq(fetch(NULL, about, "/bytes/5", "GET", body, sizeof(body)), 200);
	ck_assert_str_eq(body, " !\"#$");

	make_root();
	ck_assert_int_eq(fetch(root, about, "/", "GET", body, sizeof(body)), 200);
	ck_assert_msg(strstr(body, "small.txt") && !strstr(body, "tapstack host</h1>"),
		      "/ of a root without index.html is its listing: %s", body);
	ck_assert_int_eq(fetch(root, about, "/index.html", "GET", body, sizeof(body)), 200);
	ck_assert_ptr_nonnull(strstr(body, "<h1>tapstack host</h1>"));
	ck_assert_int_eq(fetch(root, about, "/nothing-here", "GET", body, sizeof(body)), 404);
	remove_root();
}
END_TEST

Suite *http_sim_suite(void)
{
	Suite *s = suite_create("http_sim");
	TCase *tc = tcase_create("sim");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, http_sim_big_file);
	tcase_add_test(tc, http_sim_keep_alive_100);
	tcase_add_test(tc, http_sim_pipelined_100);
	tcase_add_test(tc, http_sim_timeout_408);
	tcase_add_test(tc, http_sim_slow_download_not_cut);
	tcase_add_test(tc, http_sim_welcome_page);
	suite_add_tcase(s, tc);
	return s;
}

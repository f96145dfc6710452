/* The TCP event trace (--tcp-trace): a short transfer over a lossy simlink
 * with host A's trace going to memory must give the header, ACK rows, at
 * least one loss event (fast retransmit or RTO) with cwnd lower than just
 * before it, and rows that tcpplot's parser reads back as written. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/lib/tcpplot_parse.h"
#include "stack/net.h"
#include "tcp/tcp_trace.h"
#include "tests/sim.h"

#define TRACE_PORT 6000
#define TRACE_BYTES (400 * 1024)
#define TRACE_MAX_VIRTUAL_US (600LL * 1000000)

/* When set, B's listener gets TCP_TRACE_FILE with this name before the
 * connection comes (B's host has no trace of its own). */
static const char *b_listener_trace;

/* Sends TRACE_BYTES from A to B over a link losing 5% of the frames, with
 * A's TCP trace written to *buf (open_memstream); the caller frees *buf. */
static void trace_transfer(uint64_t seed, char **buf, size_t *len)
{
	static struct sim sim;
	static uint8_t chunk[8192];
	const struct impair_cfg lossy = { .loss = 0.05, .delay_us = 10000 };
	FILE *f = open_memstream(buf, len);
	ck_assert_ptr_nonnull(f);
	sim_init(&sim, &lossy, seed);
	sim.a.tcp.tcp_trace = f;
	sim.a.tcp.cc_default = &tcp_cc_newreno; /* the counts below were taken with NewReno */

	sim_attach(&sim, &sim.b);
	int lfd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(TRACE_PORT) };
	ck_assert_int_eq(net_bind(lfd, (struct sockaddr *)&me, sizeof(me)), 0);
	ck_assert_int_eq(net_listen(lfd, 1), 0);
	if (b_listener_trace)
		ck_assert_int_eq(net_setsockopt(lfd, IPPROTO_TCP, TCP_TRACE_FILE, b_listener_trace,
						(socklen_t)strlen(b_listener_trace)), 0);
	sim_attach(&sim, &sim.a);
	int afd = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(TRACE_PORT),
				  .sin_addr.s_addr = htonl(SIM_B_IP) };
	ck_assert_int_eq(net_connect(afd, (struct sockaddr *)&to, sizeof(to)), -EINPROGRESS);

	int bfd = -1;
	size_t sent = 0, got = 0;
	bool eof = false;
	while (!eof && sim.now < TRACE_MAX_VIRTUAL_US) {
		if (bfd < 0)
			bfd = net_accept(lfd, NULL, NULL);
		if (bfd >= 0) {
			int one = 1;
			net_setsockopt(bfd, SOL_SOCKET, SO_NONBLOCK, &one, sizeof(one));
		}
		while (sent < TRACE_BYTES) {
			size_t n = TRACE_BYTES - sent;
			if (n > sizeof(chunk))
				n = sizeof(chunk);
			ssize_t r = net_send(afd, chunk, n, 0);
			if (r <= 0)
				break;
			sent += (size_t)r;
			if (sent == TRACE_BYTES)
				net_shutdown(afd, SHUT_WR);
		}
		while (bfd >= 0) {
			uint8_t in[8192];
			ssize_t r = net_recv(bfd, in, sizeof(in), 0);
			if (r == -EAGAIN)
				break;
			if (r <= 0) {
				eof = true;
				break;
			}
			got += (size_t)r;
		}
		sim_step(&sim, 1000);
	}
	ck_assert_msg(eof && got == TRACE_BYTES, "transfer did not finish: %zu of %d bytes", got,
		      TRACE_BYTES);
	net_close(afd);
	net_close(bfd);
	net_close(lfd);
	sim_run_until(&sim, sim.now + 5 * 60 * 1000000LL);
	sim_fini(&sim);
	fclose(f);
}

START_TEST(test_trace_rows)
{
	char *buf = NULL;
	size_t len = 0;
	trace_transfer(7, &buf, &len);

	ck_assert_msg(strncmp(buf, TCP_TRACE_HEADER "\n", strlen(TCP_TRACE_HEADER) + 1) == 0,
		      "the first line is not the header: %.80s", buf);
	FILE *in = fmemopen(buf, len, "r");
	struct tcpplot_data d = { 0 };
	ck_assert_int_eq(tcpplot_read(in, "trace", &d, stderr), 0);
	fclose(in);
	ck_assert_uint_eq(d.bad, 0);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	ck_assert_uint_eq(d.n, lines - 1); /* every row read back, the header skipped */

	const char *conn = "10.0.0.1:";
	size_t acks = 0, losses = 0, drops = 0;
	uint32_t prev_cwnd = 0;
	double prev_t = 0;
	for (size_t i = 0; i < d.n; i++) {
		const struct tcpplot_row *r = &d.rows[i];
		ck_assert_msg(strncmp(r->conn, conn, strlen(conn)) == 0 &&
			      strstr(r->conn, "-10.0.0.2:6000"),
			      "row %zu: connection %s", i, r->conn);
		ck_assert_msg(r->t >= prev_t, "row %zu: time goes back", i);
		ck_assert_msg(r->inflight <= r->snd_nxt || !strcmp(r->event, "rto"),
			      "row %zu: in flight %u past snd_nxt %u", i, r->inflight, r->snd_nxt);
		prev_t = r->t;
		if (!strcmp(r->event, "ack"))
			acks++;
		if (!strcmp(r->event, "fast_retransmit") || !strcmp(r->event, "rto")) {
			losses++;
			ck_assert_uint_ne(r->ssthresh, 0); /* set by the loss */
			if (r->cwnd < prev_cwnd)
				drops++;
		}
		prev_cwnd = r->cwnd;
	}
	/* 400 KB is 283 segments, ACKed every second one at most (some lost,
	 * some duplicated by losses; slow start that counts 2 SMSS per ACK and
	 * window updates only when the peer is held back send fewer) */
	ck_assert_uint_gt(acks, 50);
	ck_assert_uint_gt(losses, 0);
	ck_assert_msg(drops > 0, "cwnd never lower after any of %zu loss events", losses);
	/* the last ack covers the whole stream: SYN, data, FIN */
	ck_assert_uint_eq(d.rows[d.n - 1].snd_una, TRACE_BYTES + 2);
	tcpplot_free(&d);
	free(buf);
}
END_TEST

/* TCP_TRACE_FILE on B's listener: the connection it accepts writes its
 * own rows (header first) to that file, though B's host traces nothing,
 * while A's host trace goes on as before; a bad name is an error. */
START_TEST(test_trace_socket_option)
{
	char path[] = "/tmp/tapstack-trace-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	char *buf = NULL;
	size_t len = 0;
	b_listener_trace = path;
	trace_transfer(7, &buf, &len);
	b_listener_trace = NULL;

	FILE *in = fopen(path, "r");
	ck_assert_ptr_nonnull(in);
	struct tcpplot_data d = { 0 };
	ck_assert_int_eq(tcpplot_read(in, path, &d, stderr), 0);
	fclose(in);
	ck_assert_uint_ge(d.n, 3); /* B only receives: its state changes and the ACK of its FIN */
	for (size_t i = 0; i < d.n; i++)
		ck_assert_msg(strncmp(d.rows[i].conn, "10.0.0.2:6000-10.0.0.1:", 23) == 0,
			      "row %zu is not B's connection: %s", i, d.rows[i].conn);
	tcpplot_free(&d);
	ck_assert_ptr_nonnull(strstr(buf, "10.0.0.1:")); /* A's rows, in A's trace */
	ck_assert_ptr_null(strstr(buf, "10.0.0.2:6000-"));
	free(buf);
	unlink(path);

	struct sim sim;
	sim_init(&sim, NULL, 1);
	sim_attach(&sim, &sim.a);
	int s = net_socket(AF_INET, SOCK_STREAM, 0);
	const char *bad = "/nonexistent-dir/trace.csv";
	ck_assert_int_eq(net_setsockopt(s, IPPROTO_TCP, TCP_TRACE_FILE, bad, (socklen_t)strlen(bad)),
			 -ENOENT);
	ck_assert_int_eq(net_setsockopt(s, IPPROTO_TCP, TCP_TRACE_FILE, "", 0), 0);
	net_close(s);
	sim_fini(&sim);
}
END_TEST

START_TEST(test_parse_lines)
{
	struct tcpplot_row r;
	ck_assert_int_eq(tcpplot_parse_line(TCP_TRACE_HEADER "\n", &r), 0);
	ck_assert_int_eq(tcpplot_parse_line("\n", &r), 0);
	ck_assert_int_eq(tcpplot_parse_line("1.500000,10.0.0.2:7-10.0.0.1:40000,rto,1460,5840,"
					    "8760,30000,200000,1000,1001,ESTABLISHED\n", &r), 1);
	ck_assert(r.t == 1.5);
	ck_assert_str_eq(r.conn, "10.0.0.2:7-10.0.0.1:40000");
	ck_assert_str_eq(r.event, "rto");
	ck_assert_uint_eq(r.cwnd, 1460);
	ck_assert_uint_eq(r.ssthresh, 5840);
	ck_assert_uint_eq(r.inflight, 8760);
	ck_assert_int_eq(r.srtt_us, 30000);
	ck_assert_int_eq(r.rto_us, 200000);
	ck_assert_uint_eq(r.snd_una, 1000);
	ck_assert_uint_eq(r.snd_nxt, 1001);
	/* the ten columns without the state are enough */
	ck_assert_int_eq(tcpplot_parse_line("0.1,a-b,ack,1,0,0,0,0,0,0", &r), 1);
	ck_assert_int_eq(tcpplot_parse_line("0.1,a-b,ack,1,0,0,0,0,0", &r), -1);
	ck_assert_int_eq(tcpplot_parse_line("x,a-b,ack,1,0,0,0,0,0,0", &r), -1);
	ck_assert_int_eq(tcpplot_parse_line("0.1,a-b,ack,-1,0,0,0,0,0,0", &r), -1);
	ck_assert_int_eq(tcpplot_parse_line("0.1,a-b,ack,99999999999,0,0,0,0,0,0", &r), -1);
	ck_assert_int_eq(tcpplot_parse_line("0.1,,ack,1,0,0,0,0,0,0", &r), -1);

	char text[] = TCP_TRACE_HEADER "\n0.1,a-b,ack,1,0,0,0,0,0,0\ngarbage\n"
		      "0.2,a-b,rto,1,2,0,0,0,0,0\n";
	FILE *in = fmemopen(text, strlen(text), "r");
	struct tcpplot_data d = { 0 };
	ck_assert_int_eq(tcpplot_read(in, "text", &d, NULL), 0);
	fclose(in);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_uint_eq(d.bad, 1);
	ck_assert_str_eq(d.rows[1].event, "rto");
	tcpplot_free(&d);
}
END_TEST

Suite *tcp_trace_suite(void)
{
	Suite *s = suite_create("tcp_trace");
	TCase *tc = tcase_create("trace");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_lines);
	tcase_add_test(tc, test_trace_rows);
	tcase_add_test(tc, test_trace_socket_option);
	suite_add_tcase(s, tc);
	return s;
}

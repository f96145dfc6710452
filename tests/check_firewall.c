/* The stateful packet filter (ip/firewall.c): the rule language and its
 * advice; a SYN to an unlisted port dropped in silence (no RST) and
 * counted, to a listed one answered; a connection the host opens working
 * both ways on a simlink while the peer cannot connect in; a UDP reply
 * let in, an unsolicited datagram not; an ICMP error let in when it quotes
 * a tracked flow; flows expiring on virtual time; the table's bound under
 * a flood; IPv6, with neighbor discovery never filtered. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip/firewall.h"
#include "ip/icmp.h"
#include "ip/icmpv6.h"
#include "ip/ip.h"
#include "ip/ipv4.h"
#include "ip/ipv6.h"
#include "ip/udp.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/net.h"
#include "tests/harness.h"
#include "tests/sim.h"
#include "tests/tcp_harness.h"

/* SEG(.dport = 9, ...) overrides the harness's default port on purpose */
#pragma GCC diagnostic ignored "-Woverride-init"

#define PEER 0x0a000001u /* 10.0.0.1 */
#define HOST 0x0a000002u /* 10.0.0.2 */
#define L3 ETH_HDR_LEN
#define L4 (ETH_HDR_LEN + IPV4_HDR_LEN)

static uint64_t count(struct stack *s, const char *name)
{
	return stats_get(&s->stats, name);
}

static void enable(struct stack *s, const char *rules, unsigned flows)
{
	char err[320];
	int r = fw_enable(s, rules, flows, err, sizeof(err));
	ck_assert_msg(r == 0, "fw_enable: %s", err);
}

/* ---- The rule language ---- */

/* Rules as a student writes them, and how they are read back. */
START_TEST(test_rules_parse)
{
	static struct fw_rules r;
	char err[320];
	ck_assert_int_eq(fw_rules_parse("allow tcp 80,443; allow udp 53;allow icmp echo ;"
					"allow tcp 22 from 10.0.0.0/24; allow tcp 8000-8080 "
					"from fd00::/64; deny", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.n, 6);
	ck_assert_str_eq(r.rule[0].text, "allow tcp 80,443");
	ck_assert_str_eq(r.rule[1].text, "allow udp 53");
	ck_assert_str_eq(r.rule[2].text, "allow icmp echo");
	ck_assert_str_eq(r.rule[3].text, "allow tcp 22 from 10.0.0.0/24");
	ck_assert_str_eq(r.rule[4].text, "allow tcp 8000-8080 from fd00::/64");
	ck_assert_str_eq(r.rule[5].text, "deny");
	ck_assert(!r.rule[5].allow);
	/* a file: one rule a line, # comments, blank lines */
	ck_assert_int_eq(fw_rules_parse("# the web server\nallow tcp 80   # http\n\n"
					"  allow icmp\n", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.n, 2);
	ck_assert_str_eq(r.rule[1].text, "allow icmp");
}
END_TEST

/* Each mistake names the rule and says what to write instead. */
START_TEST(test_rules_advice)
{
	static struct fw_rules r;
	static const struct {
		const char *rules, *says;
	} bad[] = {
		{ "permit tcp 80", "begin with allow or deny" },
		{ "allow tpc 80", "'tpc' is not a protocol; write tcp, udp or icmp" },
		{ "allow 80", "'allow tcp 80' or 'allow udp 80'" },
		{ "allow tcp 80,", "write ports 1-65535" },
		{ "allow tcp 0", "write ports 1-65535" },
		{ "allow tcp 90-80", "a range 8000-8080" },
		{ "allow icmp 8", "icmp takes 'echo'" },
		{ "allow tcp 22 from", "'from' needs a prefix" },
		{ "allow tcp 22 from 10.0.0/24", "write e.g. 10.0.0.0/24" },
		{ "allow tcp 22 from 10.0.0.1/24", "write 10.0.0.0/24" },
		{ "allow tcp 22 to 10.0.0.1", "unexpected 'to'" },
		{ "allow tcp 80; deny; allow udp 53", "rule 3 'allow udp 53': can never match" },
		{ "  ;  # nothing\n", "no rules" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[320] = "";
		ck_assert_int_eq(fw_rules_parse(bad[i].rules, &r, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, bad[i].says), "'%s' gave '%s', not '%s'", bad[i].rules, err,
			      bad[i].says);
	}
}
END_TEST

/* ---- TCP, one segment at a time ---- */

/* A SYN to a port no rule lists is dropped in silence (without the filter
 * the host answers RST: a scanner would say "closed", now "filtered"),
 * counted under fw.denied and by its rule; a SYN to the listed port gets
 * its SYN-ACK, and the rest of the handshake passes as established. */
START_TEST(test_syn_unlisted_silent)
{
	struct tcp_harness t;
	th_init(&t);
	enable(&t.h.s, "allow tcp 7000; deny", 0);
	th_tcb_in_state(&t, TCP_LISTEN);

	th_inject(&t, SEG(.dport = 9, .flags = TCP_FLAG_SYN, .seq = t.irs));
	th_expect_none(&t);
	ck_assert_uint_eq(count(&t.h.s, "fw.denied"), 1);
	ck_assert_uint_eq(count(&t.h.s, "ip.delivered"), 0);
	ck_assert_uint_eq(t.h.s.fw->rules.rule[1].packets, 1);
	ck_assert_uint_eq(t.h.s.fw->rules.rule[0].packets, 0);

	th_inject(&t, SEG(.flags = TCP_FLAG_SYN, .seq = t.irs));
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	ck_assert_uint_eq(t.h.s.fw->rules.rule[0].packets, 1);
	ck_assert_uint_eq(fw_flow_count(&t.h.s), 1);
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = t.irs + 1, .ack = out.seq + 1));
	ck_assert_uint_eq(count(&t.h.s, "fw.established"), 1);
	ck_assert_uint_eq(t.h.s.fw->rules.rule[0].packets, 1); /* the flow, not the rule */
	ck_assert_uint_eq(t.h.s.fw->flows[0].tcp, FW_TCP_ESTABLISHED);

	/* an ACK to the unlisted port (nmap -sA) is dropped as well: no RST */
	th_inject(&t, SEG(.dport = 9, .flags = TCP_FLAG_ACK, .seq = 1, .ack = 1));
	th_expect_none(&t);
	ck_assert_uint_eq(count(&t.h.s, "fw.denied"), 2);

	/* tapctl firewall: the rules with their counts, then the flow */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	stack_report(&t.h.s, "firewall", f);
	fclose(f);
	ck_assert_msg(strstr(text, "allow tcp 7000") && strstr(text, "tcp 10.0.0.2:7000 <- 10.0.0.1:40000") &&
		      strstr(text, "established"), "%s", text);
	free(text);
	th_fini(&t);
}
END_TEST

/* The --trace line names the rule that decided; with no rule matching,
 * the implicit final deny decides, and says so. */
START_TEST(test_trace_names_rule)
{
	struct tcp_harness t;
	th_init(&t);
	enable(&t.h.s, "allow tcp 7000; deny tcp 1-1023", 0);
	char *trace = NULL;
	size_t len = 0;
	t.h.s.trace = open_memstream(&trace, &len);
	th_inject(&t, SEG(.dport = 22, .flags = TCP_FLAG_SYN, .seq = t.irs));
	th_inject(&t, SEG(.dport = 2222, .flags = TCP_FLAG_SYN, .seq = t.irs));
	fclose(t.h.s.trace);
	t.h.s.trace = NULL;
	ck_assert_msg(strstr(trace, "fw in TCP 10.0.0.1:40000 -> 10.0.0.2:22 SYN: deny, rule 2 "
			     "'deny tcp 1-1023'"), "%s", trace);
	ck_assert_msg(strstr(trace, "fw in TCP 10.0.0.1:40000 -> 10.0.0.2:2222 SYN: deny, no rule "
			     "matched (the default)"), "%s", trace);
	ck_assert_msg(strstr(trace, "drop fw.denied"), "%s", trace);
	ck_assert_uint_eq(t.h.s.fw->default_packets, 1);
	ck_assert_uint_eq(t.h.s.fw->rules.rule[1].packets, 1);
	free(trace);
	th_fini(&t);
}
END_TEST

/* A source prefix in a rule: the listed port is open to 10.0.0.0/24 only. */
START_TEST(test_rule_from_prefix)
{
	struct tcp_harness t;
	th_init(&t);
	enable(&t.h.s, "allow tcp 7000 from 10.0.1.0/24; deny", 0);
	th_tcb_in_state(&t, TCP_LISTEN);
	th_inject(&t, SEG(.flags = TCP_FLAG_SYN, .seq = t.irs));
	th_expect_none(&t);
	ck_assert_uint_eq(t.h.s.fw->rules.rule[1].packets, 1);
	th_fini(&t);

	th_init(&t);
	enable(&t.h.s, "allow tcp 7000 from 10.0.0.0/24; deny", 0);
	th_tcb_in_state(&t, TCP_LISTEN);
	th_inject(&t, SEG(.flags = TCP_FLAG_SYN, .seq = t.irs));
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	th_fini(&t);
}
END_TEST

/* ---- TCP, two hosts ---- */

/* B denies every inbound packet. The connection it opens to A carries
 * bytes both ways and closes; A's attempt to connect to B's listener
 * gets nothing back, not even a RST. */
START_TEST(test_outbound_connection_works)
{
	static struct sim sim;
	sim_init(&sim, NULL, 7);
	enable(&sim.b, "deny", 0);

	sim_attach(&sim, &sim.a);
	int l = net_socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5000) };
	ck_assert_int_eq(net_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(net_listen(l, 4), 0);

	sim_attach(&sim, &sim.b);
	int lb = net_socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in b80 = { .sin_family = AF_INET, .sin_port = htons(80) };
	ck_assert_int_eq(net_bind(lb, (struct sockaddr *)&b80, sizeof(b80)), 0);
	ck_assert_int_eq(net_listen(lb, 4), 0);
	int c = net_socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5000),
				  .sin_addr.s_addr = htonl(SIM_A_IP) };
	ck_assert_int_eq(net_connect(c, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(net_send(c, "from B", 6, 0), 6);
	sim_run_until(&sim, sim.now + 100000);

	sim_attach(&sim, &sim.a);
	int s = sim_accept(l);
	ck_assert_int_ge(s, 0);
	char buf[64];
	ck_assert_int_eq(net_recv(s, buf, sizeof(buf), 0), 6);
	ck_assert_mem_eq(buf, "from B", 6);
	ck_assert_int_eq(net_send(s, "from A, back", 12, 0), 12);
	sim_run_until(&sim, sim.now + 100000);
	sim_attach(&sim, &sim.b);
	ck_assert_int_eq(net_recv(c, buf, sizeof(buf), 0), 12);
	ck_assert_mem_eq(buf, "from A, back", 12);
	ck_assert_uint_ge(count(&sim.b, "fw.established"), 2);
	ck_assert_uint_eq(count(&sim.b, "fw.denied"), 0);

	/* A connects to B's listener on port 80: dropped, never answered */
	sim_attach(&sim, &sim.a);
	int in = net_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in tob = { .sin_family = AF_INET, .sin_port = htons(80),
				   .sin_addr.s_addr = htonl(SIM_B_IP) };
	ck_assert_int_eq(net_connect(in, (struct sockaddr *)&tob, sizeof(tob)), -EINPROGRESS);
	sim_run_until(&sim, sim.now + 5000000);
	ck_assert_uint_ge(count(&sim.b, "fw.denied"), 2); /* the SYN and its retransmissions */
	ck_assert_uint_eq(count(&sim.a, "tcp.rx_rst"), 0);
	ck_assert_uint_eq(count(&sim.b, "tcp.tx_rst"), 0);
	ck_assert_int_eq(net_recv(in, buf, sizeof(buf), 0), -EAGAIN); /* still trying */

	/* the connection B opened closes cleanly both ways */
	sim_attach(&sim, &sim.b);
	net_close(c);
	sim_attach(&sim, &sim.a);
	sim_run_until(&sim, sim.now + 100000);
	ck_assert_int_eq(net_recv(s, buf, sizeof(buf), 0), 0);
	net_close(s);
	sim_run_until(&sim, sim.now + 100000);
	ck_assert_uint_eq(sim.b.fw->flows[0].tcp, FW_TCP_CLOSED);
	net_close(in);
	/* FINs both ways: the flow goes after FW_TCP_CLOSED_US */
	sim_run_until(&sim, sim.now + FW_TCP_CLOSED_US);
	ck_assert_uint_eq(fw_flow_count(&sim.b), 0);
	sim_fini(&sim);
}
END_TEST

/* ---- UDP and ICMP, one datagram at a time ---- */

/* An Ethernet + IPv4 + UDP frame from PEER:sport to HOST:dport carrying
 * text, with a correct checksum. Returns its length. */
static size_t udp_frame(uint8_t *f, uint16_t sport, uint16_t dport, const char *text)
{
	uint8_t u[256];
	size_t len = strlen(text);
	struct udp_hdr h = { .sport = sport, .dport = dport, .len = (uint16_t)(UDP_HDR_LEN + len) };
	udp_emit(&h, u);
	memcpy(u + UDP_HDR_LEN, text, len);
	struct ipaddr src = ipaddr_v4(PEER), dst = ipaddr_v4(HOST);
	uint16_t c = csum_fold(csum_partial(u, UDP_HDR_LEN + len,
					    ip_pseudo_sum(&src, &dst, IP_PROTO_UDP,
							  (uint32_t)(UDP_HDR_LEN + len))));
	be16_put(u + 6, c == 0 ? 0xffff : c);
	return build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, IP_PROTO_UDP, u,
				UDP_HDR_LEN + len);
}

static void inject_udp(struct harness *h, uint16_t sport, uint16_t dport, const char *text)
{
	uint8_t f[512];
	inject(h, f, udp_frame(f, sport, dport, text));
}

/* A host with the filter on and a UDP socket that has sent "query" to
 * PEER:53; its port in *lport. Returns the socket; the datagram sent is
 * copied (IP header on) into dgram, its length in *dlen. */
static int udp_client(struct harness *h, const char *rules, unsigned flows, uint16_t *lport,
		      uint8_t *dgram, size_t *dlen)
{
	harness_init(h, "10.0.0.2/24", NULL);
	harness_learn_peer(h);
	enable(&h->s, rules, flows);
	net_use_stack(&h->s);
	int fd = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(53),
				  .sin_addr.s_addr = htonl(PEER) };
	ck_assert_int_eq(net_connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(net_send(fd, "query", 5, 0), 5);
	struct pkt *p = expect_tx(h);
	ck_assert_uint_eq(p->data[L3 + 9], IP_PROTO_UDP);
	*lport = be16_get(p->data + L4);
	if (dgram) {
		*dlen = p->len - L3;
		memcpy(dgram, p->data + L3, *dlen);
	}
	pkt_free(p);
	return fd;
}

/* The reply to a query the host sent comes in; a datagram from another
 * port of the same peer, or to a port the host never used, does not (and
 * no port unreachable answers it: the drop is silent). */
START_TEST(test_udp_reply_passes)
{
	struct harness h;
	uint16_t lport;
	char buf[64];
	int fd = udp_client(&h, "deny", 0, &lport, NULL, NULL);

	inject_udp(&h, 53, lport, "answer");
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 6);
	ck_assert_mem_eq(buf, "answer", 6);
	ck_assert_uint_eq(count(&h.s, "fw.established"), 1);

	inject_udp(&h, 54, lport, "forged");
	inject_udp(&h, 53, 9999, "stray");
	expect_no_tx(&h);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 2);
	ck_assert_uint_eq(h.s.fw->rules.rule[0].packets, 2);
	ck_assert_uint_eq(count(&h.s, "udp.no_port"), 0);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* An ICMP error about dgram from PEER to the host: type, code, the quote. */
static size_t icmp_error(uint8_t *f, uint8_t type, uint8_t code, const uint8_t *dgram, size_t qlen)
{
	uint8_t m[600];
	memset(m, 0, ICMP_HDR_LEN);
	m[0] = type;
	m[1] = code;
	memcpy(m + ICMP_HDR_LEN, dgram, qlen);
	be16_put(m + 2, inet_csum(m, ICMP_HDR_LEN + qlen));
	return build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, IP_PROTO_ICMP, m,
				ICMP_HDR_LEN + qlen);
}

/* A port unreachable quoting the query passes (related) and reaches the
 * socket; one quoting a datagram the host never sent (another port) is
 * dropped before ICMP sees it. */
START_TEST(test_icmp_error_related)
{
	struct harness h;
	uint16_t lport;
	uint8_t dgram[256], f[600];
	size_t dlen;
	char buf[16];
	int fd = udp_client(&h, "deny", 0, &lport, dgram, &dlen);

	uint8_t other[256];
	memcpy(other, dgram, dlen);
	be16_put(other + IPV4_HDR_LEN + 2, 54); /* to port 54: no such flow */
	inject(&h, f, icmp_error(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, other, dlen));
	ck_assert_uint_eq(count(&h.s, "icmp.rx"), 0);
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 1);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);
	/* a quote too short to name the ports is not related either */
	inject(&h, f, icmp_error(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, dgram, IPV4_HDR_LEN + 2));
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 2);

	inject(&h, f, icmp_error(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, dgram, dlen));
	ck_assert_uint_eq(count(&h.s, "fw.related"), 1);
	ck_assert_uint_eq(count(&h.s, "icmp.rx_error"), 1);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -ECONNREFUSED);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* Ping: answered when a rule allows echo, silent otherwise; the host's
 * own ping gets its replies back. */
START_TEST(test_icmp_echo)
{
	struct harness h;
	uint8_t f[256];
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	enable(&h.s, "allow tcp 80; deny", 0);
	inject(&h, f, build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, HOST, 77, 1, 8));
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 1);
	/* an echo reply nobody asked for */
	inject(&h, f, build_icmp_frame(f, ICMP_ECHO_REPLY, PEER, HOST, 78, 1, 8));
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 2);
	ck_assert_uint_eq(count(&h.s, "icmp.rx"), 0);
	/* the host pings: the reply with its identifier passes */
	ck_assert_int_eq(icmp_send_echo(&h.s, PEER, 78, 1, NULL, 0), 0);
	drop_tx(&h);
	inject(&h, f, build_icmp_frame(f, ICMP_ECHO_REPLY, PEER, HOST, 78, 1, 8));
	ck_assert_uint_eq(count(&h.s, "icmp.rx_echo_reply"), 1);
	ck_assert_uint_eq(count(&h.s, "fw.established"), 1);
	harness_fini(&h);

	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	enable(&h.s, "allow icmp echo; deny", 0);
	inject(&h, f, build_icmp_frame(f, ICMP_ECHO_REQUEST, PEER, HOST, 77, 1, 8));
	struct pkt *p = expect_tx(&h);
	ck_assert_uint_eq(p->data[L4], ICMP_ECHO_REPLY);
	pkt_free(p);
	ck_assert_uint_eq(h.s.fw->rules.rule[0].packets, 1);
	harness_fini(&h);
}
END_TEST

/* An error about the host's own ping is related by the echo identifier. */
START_TEST(test_icmp_error_about_echo)
{
	struct harness h;
	uint8_t f[600];
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	enable(&h.s, "deny", 0);
	ck_assert_int_eq(icmp_send_echo(&h.s, PEER, 78, 1, NULL, 0), 0);
	struct pkt *p = expect_tx(&h);
	uint8_t dgram[64];
	size_t dlen = p->len - L3;
	memcpy(dgram, p->data + L3, dlen);
	pkt_free(p);
	be16_put(dgram + IPV4_HDR_LEN + 4, 79); /* another identifier: nothing */
	inject(&h, f, icmp_error(f, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, dgram, dlen));
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 1);
	be16_put(dgram + IPV4_HDR_LEN + 4, 78);
	inject(&h, f, icmp_error(f, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, dgram, dlen));
	ck_assert_uint_eq(count(&h.s, "fw.related"), 1);
	ck_assert_uint_eq(count(&h.s, "icmp.rx_error"), 1);
	harness_fini(&h);
}
END_TEST

/* Hostile and malformed input: transport headers too short to read are
 * dropped under fw.short_header, quotes that lie about their lengths are
 * never related, and 3000 random datagrams of every protocol leave no
 * buffer behind (harness_fini checks; make asan checks every read). */
START_TEST(test_malformed_dropped)
{
	struct harness h;
	uint8_t f[600], b[128];
	harness_init(&h, "10.0.0.2/24", NULL);
	harness_learn_peer(&h);
	enable(&h.s, "allow", 0);
	memset(b, 0, sizeof(b));
	const uint8_t protos[] = { IP_PROTO_TCP, IP_PROTO_UDP, IP_PROTO_ICMP };
	for (size_t i = 0; i < 3; i++)
		inject(&h, f, build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, protos[i], b, 4));
	ck_assert_uint_eq(count(&h.s, "fw.short_header"), 3);
	ck_assert_uint_eq(count(&h.s, "ip.delivered"), 0);
	expect_no_tx(&h);
	fw_disable(&h.s);

	/* a UDP flow, then errors whose quote says more than it holds */
	harness_fini(&h);
	uint16_t lport;
	uint8_t dgram[256];
	size_t dlen;
	int fd = udp_client(&h, "deny", 0, &lport, dgram, &dlen);
	uint8_t q[256];
	memcpy(q, dgram, dlen);
	/* IHL 6: 24 bytes of header, and 4 bytes after it (the ports of
	 * the flow, where a reader that trusts IHL would find them): 8 are
	 * needed (RFC 792: the header and 64 bits of the datagram) */
	q[0] = 0x46;
	be16_put(q + 24, lport);
	be16_put(q + 26, 53);
	inject(&h, f, icmp_error(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, 28));
	memcpy(q, dgram, dlen);
	q[0] = 0x65; /* not IPv4 */
	inject(&h, f, icmp_error(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, dlen));
	inject(&h, f, icmp_error(f, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, dgram, 0));
	ck_assert_uint_eq(count(&h.s, "fw.related"), 0);
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 3);

	struct rng r;
	rng_seed(&r, 20);
	for (int i = 0; i < 3000; i++) {
		size_t len = (size_t)rng_below(&r, sizeof(b));
		rng_fill(&r, b, len);
		const uint8_t any[] = { IP_PROTO_TCP, IP_PROTO_UDP, IP_PROTO_ICMP, 2, 58 };
		uint8_t proto = any[rng_below(&r, sizeof(any))];
		if (proto == IP_PROTO_ICMP && len > 8 && (i & 1)) {
			/* an error quoting a mangled copy of the query */
			b[0] = ICMP_DEST_UNREACH;
			memcpy(b + 8, dgram, len - 8 < dlen ? len - 8 : dlen);
			b[8 + rng_below(&r, len - 8)] ^= (uint8_t)(1 + rng_below(&r, 255));
		}
		inject(&h, f, build_ipv4_frame(f, t_mac_host, t_mac_peer, PEER, HOST, proto, b, len));
		drop_tx(&h);
	}
	ck_assert_uint_le(h.s.fw->nflows, 1);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* ---- Time and the table's bound ---- */

/* A flow lives 30 s after a datagram nobody answered, 180 s once replies
 * were seen, each packet starting the clock again (virtual time). */
START_TEST(test_udp_flows_expire)
{
	struct harness h;
	uint16_t lport;
	char buf[64];
	int fd = udp_client(&h, "deny", 0, &lport, NULL, NULL);
	advance(&h, FW_UDP_US + 1);
	drop_tx(&h);
	inject_udp(&h, 53, lport, "late");
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 1);
	ck_assert_uint_eq(count(&h.s, "fw.flows_expired"), 1);
	ck_assert_uint_eq(fw_flow_count(&h.s), 0);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);

	/* asked again: answered within 30 s, then 179 s later, then 181 s later */
	ck_assert_int_eq(net_send(fd, "again", 5, 0), 5);
	drop_tx(&h);
	advance(&h, FW_UDP_US - 1);
	inject_udp(&h, 53, lport, "a1");
	advance(&h, FW_UDP_STREAM_US - 1000000);
	drop_tx(&h);
	inject_udp(&h, 53, lport, "a2");
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 2);
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 2);
	advance(&h, FW_UDP_STREAM_US + 1000000);
	drop_tx(&h);
	inject_udp(&h, 53, lport, "a3");
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 2);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* 1000 datagrams from distinct ports to a listed port, into a table of
 * 64: the table stays at 64, the flows no reply made assured are evicted
 * (counted), and the answered query of the host survives them. With
 * every flow assured, a new one finds no room: counted, and the packet the
 * rule allows still goes up, untracked. */
START_TEST(test_table_bound_under_flood)
{
	struct harness h;
	uint16_t lport;
	char buf[64];
	int fd = udp_client(&h, "allow udp 9; deny", 64, &lport, NULL, NULL);
	inject_udp(&h, 53, lport, "answer");
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 6);

	for (int i = 0; i < 1000; i++) {
		inject_udp(&h, (uint16_t)(10000 + i), 9, "x");
		drop_tx(&h); /* the port unreachable: nothing listens on 9 */
	}
	ck_assert_uint_eq(h.s.fw->nflows, 64);
	ck_assert_uint_eq(fw_flow_count(&h.s), 64);
	ck_assert_uint_eq(count(&h.s, "fw.flows_opened"), 1001);
	ck_assert_uint_eq(count(&h.s, "fw.flows_evicted"), 1001 - 64);
	ck_assert_uint_eq(count(&h.s, "fw.table_full"), 0);
	inject_udp(&h, 53, lport, "still here");
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 10);
	net_close(fd);
	harness_fini(&h);

	fd = udp_client(&h, "allow udp 9; deny", 1, &lport, NULL, NULL);
	inject_udp(&h, 53, lport, "answer");
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 6);
	inject_udp(&h, 10000, 9, "x");
	ck_assert_uint_eq(count(&h.s, "fw.table_full"), 1);
	ck_assert_uint_eq(count(&h.s, "udp.no_port"), 1); /* it went up */
	drop_tx(&h);
	net_close(fd);
	harness_fini(&h);
}
END_TEST

/* A SYN flood to the listed port, into a table of 8 flows: the half-open
 * flows evict each other, the established connection keeps its flow. */
START_TEST(test_syn_flood_keeps_established)
{
	struct tcp_harness t;
	th_init(&t);
	enable(&t.h.s, "allow tcp 7000; deny", 8);
	th_tcb_in_state(&t, TCP_LISTEN);
	th_inject(&t, SEG(.flags = TCP_FLAG_SYN, .seq = t.irs));
	struct tcp_seg out;
	th_expect(&t, &out);
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = t.irs + 1, .ack = out.seq + 1));
	ck_assert_uint_eq(count(&t.h.s, "fw.established"), 1);

	for (int i = 0; i < 100; i++) {
		th_inject(&t, SEG(.sport = (uint16_t)(41000 + i), .flags = TCP_FLAG_SYN, .seq = 1));
		drop_tx(&t.h);
	}
	ck_assert_uint_eq(t.h.s.fw->nflows, 8);
	ck_assert_uint_eq(count(&t.h.s, "fw.flows_evicted"), 101 - 8);
	th_inject(&t, SEG(.flags = TCP_FLAG_ACK, .seq = t.irs + 1, .ack = out.seq + 1,
			  .len = 5, .data = (const uint8_t *)"hello"));
	ck_assert_uint_eq(count(&t.h.s, "fw.established"), 2);
	drop_tx(&t.h);
	th_fini(&t);
}
END_TEST

/* ---- IPv6 ---- */

#define L4_6 (ETH_HDR_LEN + IPV6_HDR_LEN)
#define PCAP6 "ipv6-ndp-echo.pcap"

/* The harness host with IPv6 on and fd00::2/64, DAD done (as check_ipv6.c). */
static void harness6(struct harness *h)
{
	harness_init(h, "10.0.0.2/24", NULL);
	struct ipaddr a = v6("fd00::2");
	ck_assert_int_eq(ndp_addr_add(&h->s, h->ifp, &a, 64), 0);
	h->ifp->ip6.solicit_routers = false;
	advance(h, 0);
	drop_tx(h);
	advance(h, NDP_RETRANS_US);
	drop_tx(h);
}

/* A UDP datagram fd00::1:sport -> fd00::2:dport in a frame. */
static size_t udp6_frame(uint8_t *f, uint16_t sport, uint16_t dport, const char *text)
{
	uint8_t u[256];
	size_t len = strlen(text);
	struct udp_hdr uh = { .sport = sport, .dport = dport, .len = (uint16_t)(UDP_HDR_LEN + len) };
	udp_emit(&uh, u);
	memcpy(u + UDP_HDR_LEN, text, len);
	struct ipaddr src = v6("fd00::1"), dst = v6("fd00::2");
	uint16_t c = csum_fold(csum_partial(u, UDP_HDR_LEN + len,
					    ip_pseudo_sum(&src, &dst, IP_PROTO_UDP,
							  (uint32_t)(UDP_HDR_LEN + len))));
	be16_put(u + 6, c == 0 ? 0xffff : c);
	struct eth_hdr e = { .type = ETH_TYPE_IPV6 };
	memcpy(e.dst, t_mac_host, ETH_ALEN);
	memcpy(e.src, t_mac_peer, ETH_ALEN);
	eth_emit(&e, f);
	struct ipv6_hdr h = { .version = 6, .payload_len = (uint16_t)(UDP_HDR_LEN + len),
			      .next = IP6_NH_UDP, .hop_limit = 64, .src = src, .dst = dst };
	ipv6_emit(&h, f + ETH_HDR_LEN);
	memcpy(f + L4_6, u, UDP_HDR_LEN + len);
	return L4_6 + UDP_HDR_LEN + len;
}

/* Under 'deny', neighbor discovery still works (an NS is answered), a
 * ping -6 is not; a rule for an IPv4 prefix does not let it in, one for
 * fd00::/64 does. A UDP reply over IPv6 to the host's query passes, an
 * unsolicited datagram does not. */
START_TEST(test_ipv6)
{
	struct harness h;
	uint8_t f[256];
	harness6(&h);
	enable(&h.s, "allow icmp echo from 10.0.0.0/24; deny", 0);
	inject(&h, f, vector_frame(PCAP6, 1, f, sizeof(f))); /* NS */
	struct pkt *p = expect_tx(&h);
	ck_assert_uint_eq(p->data[L4_6], ICMP6_NEIGHBOR_ADVERT);
	pkt_free(p);
	ck_assert_uint_eq(count(&h.s, "fw.never_filtered"), 1);
	inject(&h, f, vector_frame(PCAP6, 3, f, sizeof(f))); /* echo request */
	expect_no_tx(&h);
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 1);
	ck_assert_uint_eq(h.s.fw->rules.rule[1].packets, 1);

	/* the host's own UDP query and its answer */
	net_use_stack(&h.s);
	int fd = net_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
	struct ipaddr peer = v6("fd00::1");
	memcpy(&to.sin6_addr, peer.a, 16);
	ck_assert_int_eq(net_connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(net_send(fd, "query", 5, 0), 5);
	p = expect_tx(&h);
	ck_assert_uint_eq(p->data[ETH_HDR_LEN + 6], IP6_NH_UDP);
	uint16_t lport = be16_get(p->data + L4_6);
	pkt_free(p);
	char buf[16];
	inject(&h, f, udp6_frame(f, 53, lport, "answer"));
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), 6);
	inject(&h, f, udp6_frame(f, 54, lport, "forged"));
	ck_assert_int_eq(net_recv(fd, buf, sizeof(buf), 0), -EAGAIN);
	ck_assert_uint_eq(count(&h.s, "fw.denied"), 2);
	net_close(fd);
	harness_fini(&h);

	harness6(&h);
	enable(&h.s, "allow icmp echo from fd00::/64; deny", 0);
	inject(&h, f, vector_frame(PCAP6, 1, f, sizeof(f)));
	pkt_free(expect_tx(&h));
	inject(&h, f, vector_frame(PCAP6, 3, f, sizeof(f)));
	p = expect_tx(&h);
	ck_assert_uint_eq(p->data[L4_6], ICMP6_ECHO_REPLY);
	pkt_free(p);
	harness_fini(&h);
}
END_TEST

Suite *firewall_suite(void)
{
	Suite *s = suite_create("firewall");
	TCase *tc = tcase_create("firewall");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rules_parse);
	tcase_add_test(tc, test_rules_advice);
	tcase_add_test(tc, test_syn_unlisted_silent);
	tcase_add_test(tc, test_trace_names_rule);
	tcase_add_test(tc, test_rule_from_prefix);
	tcase_add_test(tc, test_outbound_connection_works);
	tcase_add_test(tc, test_udp_reply_passes);
	tcase_add_test(tc, test_icmp_error_related);
	tcase_add_test(tc, test_icmp_echo);
	tcase_add_test(tc, test_icmp_error_about_echo);
	tcase_add_test(tc, test_malformed_dropped);
	tcase_add_test(tc, test_udp_flows_expire);
	tcase_add_test(tc, test_table_bound_under_flood);
	tcase_add_test(tc, test_syn_flood_keeps_established);
	tcase_add_test(tc, test_ipv6);
	suite_add_tcase(s, tc);
	return s;
}

/* libFuzzer target: one whole host, built as the unit tests build it
 * (tests/harness.c's harness_init: 10.0.0.2/24, gateway 10.0.0.1, seed 1,
 * on a device that keeps what it sends; here with fd00::2/64 too), running the services of tapstack --serve (echo, discard, http,
 * dns with the peer 10.0.0.1 as its upstream) in their own loop
 * (services_run), beside an application of the fuzzer's own: a TCP
 * listener on port 5000 whose every byte is checked, a UDP socket on port
 * 5001, and a connection out to the peer's port 6000.
 *
 * The input is a sequence of records (host_records.h): raw frames, time
 * steps, application calls, UDP datagrams, and TCP segments that a peer
 * model builds for a connection's 4-tuple with valid checksums and the
 * sequence and acknowledgment numbers it expects, the fuzzer choosing the
 * flags, offsets from them, the window, the options and the payload. So
 * the fuzzer reaches every TCP state, not only LISTEN.
 *
 * Oracles beyond the sanitizers: every frame the host sends parses (and
 * is at most 1514 bytes, from the host's MAC); every byte the application
 * reads on a connection to port 5000 is one the peer sent at that sequence
 * number (the connection's first, learned from the host's SYN-ACK), so
 * never more bytes than sent; and no packet buffer is left once the host
 * is torn down. Nothing leaves the process: the device only queues frames
 * (tests/harness.c's test device and its harness_init cannot be linked
 * here: their Check assertions report to a test runner even when they
 * pass, and there is none; so this file has the few lines of both it
 * needs). */
#include <errno.h>
#include <string.h>

#include "apps/lib/service.h"
#include "ip/icmpv6.h"
#include "ip/ipv4.h"
#include "ip/ipv6.h"
#include "ip/ndp.h"
#include "ip/udp.h"
#include "link/arp.h"
#include "link/eth.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/net.h"
#include "stack/stats.h"
#include "tcp/tcp_codec.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/host_records.h"
#include "stack/stack.h"

#define PEER_IP4 0x0a000001u
#define HOST_IP4 0x0a000002u
#define MAX_SEGS 2048 /* the peer's segments remembered for the oracle */
#define MAX_CONNS 64  /* connections the application accepted */

/* The input being played. */
static const uint8_t *in;
static size_t in_len, in_at;

static const uint8_t t_mac_peer[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t t_mac_host[6] = { 2, 0, 0, 0, 0, 2 };

/* ---- The device: frames injected wait in inbox, frames sent in sent */

struct fuzzdev {
	struct netdev dev;
	struct pkt_queue inbox, sent;
};

static int fuzzdev_send(struct netdev *d, struct pkt *p, int64_t now)
{
	p->time = now;
	pktq_push(&((struct fuzzdev *)d)->sent, p);
	return 0;
}

static struct pkt *fuzzdev_recv(struct netdev *d, int64_t now)
{
	(void)now;
	return pktq_pop(&((struct fuzzdev *)d)->inbox);
}

static void fuzzdev_close(struct netdev *d)
{
	struct fuzzdev *t = (struct fuzzdev *)d;
	pktq_purge(&t->inbox);
	pktq_purge(&t->sent);
	free(t);
}

static const struct netdev_ops fuzzdev_ops = {
	.send = fuzzdev_send,
	.recv = fuzzdev_recv,
	.close = fuzzdev_close,
};

/* The host and its virtual time. */
static struct {
	struct stack s;
	struct fuzzdev *dev;
	struct netif *ifp;
	int64_t now;
} h;
static struct ipaddr peer4, host4, peer6, host6;

/* Moves time on by us, polling the host at every deadline on the way (as
 * tests/harness.c's advance). */
static void advance(int64_t us)
{
	int64_t end = h.now + us;
	for (int guard = 0; guard < 100000; guard++) {
		int64_t d = stack_next_deadline(&h.s);
		if (d > end)
			break;
		if (d > h.now)
			h.now = d;
		stack_poll(&h.s, h.now);
		if (stack_next_deadline(&h.s) <= h.now)
			h.now++;
	}
	h.now = end;
	stack_poll(&h.s, h.now);
}

/* The peer's view of one of its connections (slot 0-4). */
struct peer_conn {
	uint32_t snd_nxt;     /* the peer's next sequence number */
	uint32_t rcv_nxt;     /* past the host's last byte seen */
	bool have_rcv;
	uint16_t host_port;   /* slot 4: the host's ephemeral port */
};
static struct peer_conn pc[5];

/* For the oracle, per slot and family on port 5000: the sequence number of
 * the first data byte (the host's SYN-ACK acknowledges it), and whether a
 * second, different one made the stream ambiguous. */
struct stream_ref {
	bool known, ambiguous;
	uint32_t first;
	uint64_t sent;        /* payload bytes the peer sent on it */
};
static struct stream_ref ref[5][2];

struct seg_log {
	uint8_t slot, v6;
	uint32_t seq;         /* of data[0] */
	uint32_t len;
	const uint8_t *data;  /* in the input */
};
static struct seg_log segs[MAX_SEGS];
static int nsegs;

/* The application. */
struct app_conn {
	int fd;
	int slot, v6;         /* the peer's, from getpeername; -1 if not ours */
	uint64_t got;         /* bytes read */
};
static struct app_conn conns[MAX_CONNS];
static int nconns;
static int lfd4 = -1, lfd6 = -1, ufd = -1, afd = -1;
static bool paused, done;
static uint64_t checked; /* bytes the oracle compared, for TAPSTACK_FUZZ_STATS */

/* The last DNS query the host sent upstream, to answer it. */
static uint16_t dns_qport, dns_qid;

/* ---- Reading the input */

static uint8_t get8(void)
{
	return in_at < in_len ? in[in_at++] : 0;
}

static uint16_t get16(void)
{
	uint16_t v = (uint16_t)(get8() << 8);
	return (uint16_t)(v | get8());
}

/* n bytes of the input (fewer at its end: *got says how many). */
static const uint8_t *take(size_t n, size_t *got)
{
	const uint8_t *p = in + in_at;
	*got = in_len - in_at < n ? in_len - in_at : n;
	in_at += *got;
	return p;
}

/* ---- Frames */

static void inject_frame(const uint8_t *f, size_t len)
{
	struct pkt *p = pkt_alloc(len);
	if (!p)
		return;
	memcpy(pkt_put(p, len), f, len);
	pktq_push(&h.dev->inbox, p);
	stack_poll(&h.s, h.now);
}

static uint32_t pseudo_sum(bool v6, uint8_t proto, size_t len)
{
	uint8_t ph[40];
	if (v6) {
		memcpy(ph, peer6.a, 16);
		memcpy(ph + 16, host6.a, 16);
		be32_put(ph + 32, (uint32_t)len);
		memset(ph + 36, 0, 3);
		ph[39] = proto;
		return csum_partial(ph, 40, 0);
	}
	be32_put(ph, PEER_IP4);
	be32_put(ph + 4, HOST_IP4);
	ph[8] = 0;
	ph[9] = proto;
	be16_put(ph + 10, (uint16_t)len);
	return csum_partial(ph, 12, 0);
}

/* Wraps the transport message l4 (len bytes, at f + 14 + 20 or 40) into
 * Ethernet and IP from the peer to the host, and injects it. */
static void send_ip(uint8_t *f, bool v6, uint8_t proto, size_t len)
{
	struct eth_hdr e = { .type = v6 ? ETH_TYPE_IPV6 : ETH_TYPE_IPV4 };
	memcpy(e.dst, t_mac_host, 6);
	memcpy(e.src, t_mac_peer, 6);
	eth_emit(&e, f);
	uint8_t *ip = f + ETH_HDR_LEN;
	size_t n;
	if (v6) {
		struct ipv6_hdr ih = { .version = 6, .hop_limit = 64, .src = peer6, .dst = host6,
				       .payload_len = (uint16_t)len, .next = proto };
		ipv6_emit(&ih, ip);
		n = ETH_HDR_LEN + IPV6_HDR_LEN + len;
	} else {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		be16_put(ip + 2, (uint16_t)(20 + len));
		be16_put(ip + 4, (uint16_t)in_at);
		ip[8] = 64;
		ip[9] = proto;
		be32_put(ip + 12, PEER_IP4);
		be32_put(ip + 16, HOST_IP4);
		be16_put(ip + 10, inet_csum(ip, 20));
		n = ETH_HDR_LEN + 20 + len;
	}
	inject_frame(f, n);
}

/* ---- What the host sends */

/* Checks one frame the host sent, and teaches the peer model from it. */
static void host_sent(const uint8_t *f, size_t len)
{
	struct eth_hdr eh;
	FUZZ_ASSERT(eth_parse(f, len, &eh) == NULL, "the host sent a frame that does not parse");
	FUZZ_ASSERT(len <= ETH_MAX_FRAME && len >= ETH_MIN_FRAME, "the host sent %zu bytes", len);
	FUZZ_ASSERT(memcmp(eh.src, t_mac_host, 6) == 0, "a frame from another MAC");
	const uint8_t *l3 = f + ETH_HDR_LEN, *l4;
	size_t l3len = len - ETH_HDR_LEN, l4len;
	uint8_t proto;
	bool v6;
	if (eh.type == ETH_TYPE_IPV4) {
		struct ipv4_hdr ih;
		FUZZ_ASSERT(ipv4_parse(l3, l3len, &ih) == NULL, "the host sent a bad IPv4 header");
		if ((ih.frag & 0x3fff) != 0)
			return; /* a fragment */
		l4 = l3 + ih.ihl * 4;
		l4len = ih.total_len - (size_t)ih.ihl * 4;
		proto = ih.proto;
		v6 = false;
	} else if (eh.type == ETH_TYPE_IPV6) {
		struct ipv6_hdr ih;
		FUZZ_ASSERT(ipv6_parse(l3, l3len, &ih) == NULL, "the host sent a bad IPv6 header");
		l4 = l3 + IPV6_HDR_LEN;
		l4len = ih.payload_len;
		proto = ih.next;
		v6 = true;
	} else {
		return;
	}
	if (proto == IP_PROTO_UDP) {
		struct udp_hdr uh;
		FUZZ_ASSERT(udp_parse(l4, l4len, &uh) == NULL, "the host sent a bad UDP header");
		if (uh.dport == 53 && uh.len >= 8 + 2) {
			dns_qport = uh.sport;
			dns_qid = be16_get(l4 + 8);
		}
		return;
	}
	if (proto != IP_PROTO_TCP)
		return;
	struct tcp_seg s;
	FUZZ_ASSERT(tcp_parse(l4, l4len, &s) == NULL, "the host sent a bad TCP header");
	int slot;
	if (s.dport >= HR_PEER_BASE && s.dport < HR_PEER_BASE + 4)
		slot = s.dport - HR_PEER_BASE;
	else if (s.dport == HR_PEER_ACTIVE)
		slot = 4;
	else
		return;
	struct peer_conn *c = &pc[slot];
	if (slot == 4 && (s.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN)
		c->host_port = s.sport;
	uint32_t end = s.seq + tcp_seg_len(&s);
	if (!c->have_rcv || (s.flags & TCP_FLAG_SYN) || (int32_t)(end - c->rcv_nxt) > 0) {
		c->rcv_nxt = end;
		c->have_rcv = true;
	}
	/* the first byte of the stream the host accepted on the app's port */
	if (slot < 4 && s.sport == HR_APP_PORT &&
	    (s.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == (TCP_FLAG_SYN | TCP_FLAG_ACK)) {
		struct stream_ref *r = &ref[slot][v6];
		if (r->known && r->first != s.ack)
			r->ambiguous = true;
		r->known = true;
		r->first = s.ack;
	}
}

static void drain_sent(void)
{
	struct pkt *p;
	while ((p = pktq_pop(&h.dev->sent)) != NULL) {
		host_sent(p->data, p->len);
		pkt_free(p);
	}
}

/* ---- Records */

static void rec_seg(void)
{
	uint8_t conn = get8(), flags = get8();
	int16_t seq_off = (int16_t)get16(), ack_off = (int16_t)get16();
	uint16_t wnd = get16();
	size_t optlen = get8() % 41, got;
	const uint8_t *opt = take(optlen, &got);
	size_t plen = get16() % 1461;
	const uint8_t *pay = take(plen, &plen);
	int slot = conn % 5;
	bool v6 = conn & 8;
	struct peer_conn *c = &pc[slot];
	uint16_t sport, dport;
	if (slot < 4) {
		sport = (uint16_t)(HR_PEER_BASE + slot);
		dport = hr_ports[(conn >> 4) % 5];
	} else {
		sport = HR_PEER_ACTIVE;
		dport = c->host_port ? c->host_port : 1;
	}
	static uint8_t f[ETH_HDR_LEN + IPV6_HDR_LEN + TCP_MAX_HDR_LEN + 1460];
	uint8_t *t = f + ETH_HDR_LEN + (v6 ? IPV6_HDR_LEN : 20);
	size_t hl = TCP_HDR_LEN + (got + 3) / 4 * 4;
	uint32_t seq = c->snd_nxt + (uint32_t)(int32_t)seq_off;
	memset(t, 0, hl);
	be16_put(t, sport);
	be16_put(t + 2, dport);
	be32_put(t + 4, seq);
	be32_put(t + 8, c->rcv_nxt + (uint32_t)(int32_t)ack_off);
	t[12] = (uint8_t)(hl / 4 << 4);
	t[13] = flags;
	be16_put(t + 14, wnd);
	memcpy(t + TCP_HDR_LEN, opt, got);
	memcpy(t + hl, pay, plen);
	tcp_set_checksum(v6 ? &peer6 : &peer4, v6 ? &host6 : &host4, t, hl + plen);
	uint32_t data_seq = seq + !!(flags & TCP_FLAG_SYN);
	if (slot < 4 && dport == HR_APP_PORT && plen) {
		if (nsegs < MAX_SEGS)
			segs[nsegs++] = (struct seg_log){ .slot = (uint8_t)slot, .v6 = v6, .seq = data_seq,
							  .len = (uint32_t)plen, .data = pay };
		else
			ref[slot][v6].ambiguous = true; /* can no longer tell */
		ref[slot][v6].sent += plen;
	}
	uint32_t end = data_seq + (uint32_t)plen + !!(flags & TCP_FLAG_FIN);
	if ((int32_t)(end - c->snd_nxt) > 0)
		c->snd_nxt = end;
	send_ip(f, v6, IP_PROTO_TCP, hl + plen);
}

static void rec_udp(void)
{
	uint8_t sel = get8();
	size_t len = get16() % 1473;
	const uint8_t *pay = take(len, &len);
	bool v6 = sel & 8;
	uint16_t dport = hr_udp_ports[sel % 5], sport = (uint16_t)(HR_PEER_BASE + 100);
	if (sel % 5 == 4) {
		if (!dns_qport)
			return;
		dport = dns_qport;
		sport = 53;
	}
	static uint8_t f[ETH_HDR_LEN + IPV6_HDR_LEN + 8 + 1472];
	uint8_t *u = f + ETH_HDR_LEN + (v6 ? IPV6_HDR_LEN : 20);
	struct udp_hdr uh = { .sport = sport, .dport = dport, .len = (uint16_t)(8 + len) };
	udp_emit(&uh, u);
	memcpy(u + 8, pay, len);
	if (sel % 5 == 4 && len >= 2)
		be16_put(u + 8, dns_qid);
	uint16_t sum = csum_fold(csum_partial(u, 8 + len, pseudo_sum(v6, IP_PROTO_UDP, 8 + len)));
	be16_put(u + 6, sum ? sum : 0xffff);
	send_ip(f, v6, IP_PROTO_UDP, 8 + len);
}

static int pick_conn(uint8_t arg)
{
	if (nconns == 0)
		return -1;
	return arg % nconns;
}

static void forget_conn(int k)
{
	conns[k] = conns[--nconns];
}

static void rec_app(void)
{
	uint8_t op = get8() % HR_OPS, arg = get8();
	static uint8_t buf[256];
	for (int i = 0; i < 256; i++)
		buf[i] = (uint8_t)(i * 7 + arg);
	int k = pick_conn(arg);
	switch (op) {
	case HR_OP_SEND:
		if (k >= 0)
			(void)net_send(conns[k].fd, buf, arg, 0);
		break;
	case HR_OP_SHUT_WR:
		if (k >= 0)
			(void)net_shutdown(conns[k].fd, SHUT_WR);
		break;
	case HR_OP_CLOSE:
	case HR_OP_ABORT:
		if (k >= 0) {
			if (op == HR_OP_ABORT) {
				struct linger l = { 1, 0 };
				net_setsockopt(conns[k].fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			}
			net_close(conns[k].fd);
			forget_conn(k);
		}
		break;
	case HR_OP_UDP_SEND: {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(HR_PEER_BASE + 100),
					  .sin_addr.s_addr = htonl(PEER_IP4) };
		(void)net_sendto(ufd, buf, arg, 0, (struct sockaddr *)&to, sizeof(to));
		break;
	}
	case HR_OP_CONNECT: {
		if (afd >= 0)
			net_close(afd);
		struct sockaddr_storage ss;
		socklen_t sl;
		afd = net_socket(arg & 1 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		net_sockaddr_pton(arg & 1 ? "fd00::1" : "10.0.0.1", HR_PEER_ACTIVE, &ss, &sl);
		if (afd >= 0)
			(void)net_connect(afd, (struct sockaddr *)&ss, sl);
		break;
	}
	case HR_OP_ACTIVE_SEND:
		if (afd >= 0)
			(void)net_send(afd, buf, arg, 0);
		break;
	default:
		paused = !paused;
		break;
	}
}

/* ---- The application's turn */

/* Checks that byte b, read at stream offset i of a connection of slot and
 * family v6, is one the peer sent at that sequence number. */
static void check_byte(int slot, int v6, uint64_t i, uint8_t b)
{
	const struct stream_ref *r = &ref[slot][v6];
	if (!r->known || r->ambiguous || i > 0xffffffffu)
		return;
	uint32_t seq = r->first + (uint32_t)i;
	bool sent = false;
	for (int k = 0; k < nsegs; k++) {
		const struct seg_log *s = &segs[k];
		if (s->slot != slot || s->v6 != v6 || seq - s->seq >= s->len)
			continue;
		sent = true;
		if (s->data[seq - s->seq] == b) {
			checked++;
			return;
		}
	}
	FUZZ_ASSERT(false, "the app read 0x%02x at stream offset %llu (seq %u) of slot %d%s: %s", b,
		    (unsigned long long)i, seq, slot, v6 ? " (IPv6)" : "",
		    sent ? "the peer sent other bytes there" : "the peer sent nothing there");
}

static void app_turn(void)
{
	int lfds[2] = { lfd4, lfd6 };
	for (int j = 0; j < 2; j++) {
		while (lfds[j] >= 0 && nconns < MAX_CONNS) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			int fd = net_accept(lfds[j], (struct sockaddr *)&ss, &sl);
			if (fd < 0)
				break;
			int one = 1;
			net_setsockopt(fd, SOL_SOCKET, SO_NONBLOCK, &one, sizeof(one));
			uint16_t port = ntohs(ss.ss_family == AF_INET6 ?
						      ((struct sockaddr_in6 *)&ss)->sin6_port :
						      ((struct sockaddr_in *)&ss)->sin_port);
			int slot = port >= HR_PEER_BASE && port < HR_PEER_BASE + 4 ? port - HR_PEER_BASE : -1;
			conns[nconns++] = (struct app_conn){ .fd = fd, .slot = slot,
							      .v6 = ss.ss_family == AF_INET6 };
		}
	}
	static uint8_t buf[4096];
	for (int k = 0; k < nconns && !paused; k++) {
		struct app_conn *c = &conns[k];
		for (;;) {
			ssize_t n = net_recv(c->fd, buf, sizeof(buf), 0);
			if (n <= 0)
				break;
			if (c->slot >= 0) {
				for (ssize_t i = 0; i < n; i++)
					check_byte(c->slot, c->v6, c->got + (uint64_t)i, buf[i]);
				const struct stream_ref *r = &ref[c->slot][c->v6];
				FUZZ_ASSERT(c->got + (uint64_t)n <= r->sent,
					    "the app read %llu bytes on slot %d, the peer sent %llu",
					    (unsigned long long)(c->got + (uint64_t)n), c->slot,
					    (unsigned long long)r->sent);
			}
			c->got += (uint64_t)n;
		}
	}
	while (ufd >= 0 && net_recv(ufd, buf, sizeof(buf), 0) > 0)
		;
	while (afd >= 0 && !paused && net_recv(afd, buf, sizeof(buf), 0) > 0)
		;
}

/* ---- The socket API's driver: each wait plays the next record */

static void play_wait(void *ctx, int64_t max_wait_us)
{
	(void)ctx;
	(void)max_wait_us;
	if (in_at >= in_len) {
		done = true;
		return;
	}
	switch (get8() % HR_KINDS) {
	case HR_FRAME: {
		size_t len = get16() % 1601;
		const uint8_t *f = take(len, &len);
		inject_frame(f, len);
		break;
	}
	case HR_TIME:
		advance(hr_steps[get8() % 8]);
		break;
	case HR_SEG:
		rec_seg();
		break;
	case HR_UDP:
		rec_udp();
		break;
	default:
		rec_app();
		break;
	}
	drain_sent();
	app_turn();
	stack_poll(&h.s, h.now);
	drain_sent();
}

static int64_t play_now(void *ctx)
{
	(void)ctx;
	return h.now;
}

static int play_interrupted(void *ctx)
{
	(void)ctx;
	return done;
}

/* ---- Setup */

static int listen_on(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = net_socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	net_sockaddr_pton(family == AF_INET ? "0.0.0.0" : "::", port, &ss, &sl);
	if (fd < 0 || net_bind(fd, (struct sockaddr *)&ss, sl) < 0 || net_listen(fd, 16) < 0)
		abort();
	return fd;
}

static void setup_once(void)
{
	static bool once;
	if (once)
		return;
	once = true;
	peer4 = ipaddr_v4(PEER_IP4);
	host4 = ipaddr_v4(HOST_IP4);
	ipaddr_pton("fd00::1", &peer6);
	ipaddr_pton("fd00::2", &host6);
	int used;
	services_option("--log", "none", &used);
	services_option("--dns-upstream", "10.0.0.1", &used);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_once();
	in = data;
	in_len = size;
	in_at = 0;
	done = paused = false;
	nsegs = nconns = 0;
	checked = 0;
	dns_qport = dns_qid = 0;
	memset(ref, 0, sizeof(ref));
	for (int i = 0; i < 5; i++)
		pc[i] = (struct peer_conn){ .snd_nxt = HR_PEER_ISS * (uint32_t)i + 1000 };

	/* as harness_init(&h, "10.0.0.2/24", "10.0.0.1") */
	FUZZ_ASSERT(pkt_in_use() == 0, "packet buffers in use before the host");
	memset(&h, 0, sizeof(h));
	stack_init(&h.s, "", 1);
	h.dev = calloc(1, sizeof(*h.dev));
	h.dev->dev.ops = &fuzzdev_ops;
	snprintf(h.dev->dev.name, sizeof(h.dev->dev.name), "fuzz0");
	h.dev->dev.mtu = 1500;
	h.ifp = stack_add_netif(&h.s, &h.dev->dev, t_mac_host);
	FUZZ_ASSERT(h.ifp && stack_set_ipv4(&h.s, h.ifp, HOST_IP4, 24) == 0 &&
			    stack_set_gateway4(&h.s, h.ifp, PEER_IP4) == 0,
		    "the host's setup failed");
	stack_start(&h.s, h.now);
	ndp_addr_add(&h.s, h.ifp, &host6, 64);
	/* the peer's MAC, from its ARP request */
	uint8_t f[64] = { 0 };
	struct eth_hdr e = { .type = ETH_TYPE_ARP };
	memset(e.dst, 0xff, 6);
	memcpy(e.src, t_mac_peer, 6);
	eth_emit(&e, f);
	struct arp_msg am = { .htype = 1, .ptype = ETH_TYPE_IPV4, .hlen = 6, .plen = 4,
			      .op = ARP_OP_REQUEST, .spa = PEER_IP4, .tpa = HOST_IP4 };
	memcpy(am.sha, t_mac_peer, 6);
	arp_emit(&am, f + ETH_HDR_LEN);
	inject_frame(f, 60);
	advance(1200000); /* duplicate address detection of fd00::2 */
	/* the peer's MAC for fd00::1, from its neighbor solicitation (RFC 4861
	 * 7.2.3: the host keeps the source link-layer address it carries) */
	uint8_t ns[ETH_HDR_LEN + IPV6_HDR_LEN + 32] = { 0 };
	struct ipaddr snm;
	ipaddr_pton("ff02::1:ff00:2", &snm);
	struct eth_hdr e6 = { .type = ETH_TYPE_IPV6, .dst = { 0x33, 0x33, 0xff, 0, 0, 2 } };
	memcpy(e6.src, t_mac_peer, 6);
	eth_emit(&e6, ns);
	struct ipv6_hdr i6 = { .version = 6, .hop_limit = 255, .src = peer6, .dst = snm,
			       .payload_len = 32, .next = IP6_NH_ICMPV6 };
	ipv6_emit(&i6, ns + ETH_HDR_LEN);
	uint8_t *m = ns + ETH_HDR_LEN + IPV6_HDR_LEN;
	memcpy(m + 8, host6.a, 16);
	m[24] = 1; /* source link-layer address */
	m[25] = 1;
	memcpy(m + 26, t_mac_peer, 6);
	struct icmpv6_hdr nh = { .type = ICMP6_NEIGHBOR_SOLICIT };
	icmpv6_emit(&nh, m, 32, &peer6, &snm);
	inject_frame(ns, sizeof(ns));
	drain_sent();

	struct net_driver d = { .wait = play_wait, .now = play_now, .interrupted = play_interrupted };
	net_attach(&h.s, &d);
	lfd4 = listen_on(AF_INET, HR_APP_PORT);
	lfd6 = listen_on(AF_INET6, HR_APP_PORT);
	ufd = net_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_storage ss;
	socklen_t sl;
	net_sockaddr_pton("0.0.0.0", HR_UDP_PORT, &ss, &sl);
	net_bind(ufd, (struct sockaddr *)&ss, sl);
	afd = -1;

	/* the services' loop plays the whole input (its waits are play_wait) */
	static struct service *sv[4];
	char err[200];
	int n = services_select("echo,discard,http,dns", sv, 4, err, sizeof(err));
	FUZZ_ASSERT(n == 4, "services: %s", err);
	FUZZ_ASSERT(services_run(sv, n, 1) == 0, "the services did not start");
	while (!done) /* if the services' loop ended early */
		play_wait(NULL, 0);

	if (getenv("TAPSTACK_FUZZ_STATS")) {
		/* what one input reached: the host's counters, the app's bytes */
		stats_dump(&h.s.stats, stderr);
		fprintf(stderr, "app: %llu bytes compared with the peer's\n", (unsigned long long)checked);
		for (int k = 0; k < nconns; k++)
			fprintf(stderr, "app conn %d: slot %d%s, %llu bytes read and checked\n", k,
				conns[k].slot, conns[k].v6 ? " (IPv6)" : "",
				(unsigned long long)conns[k].got);
	}
	net_close_all(&h.s);
	net_attach(NULL, NULL);
	lfd4 = lfd6 = ufd = afd = -1;
	drain_sent();
	stack_fini(&h.s);
	netdev_close(&h.dev->dev);
	FUZZ_ASSERT(pkt_in_use() == 0, "%d packet buffers left after the host's end",
		    (int)pkt_in_use());
	return 0;
}

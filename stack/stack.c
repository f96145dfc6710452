/* One host: setup, the poll entry point, deadlines, drops and tracing. */
#include "stack/stack.h"
#include "stack/socket.h"
#include "ip/firewall.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

void stack_init(struct stack *s, const char *name, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
	rng_seed(&s->rng, seed);
	stats_init(&s->stats);
	arp_cache_init(&s->arp);
	route_table_init(&s->routes);
	icmp_init(&s->icmp);
	ndp_cache_init(&s->ndp);
	ndp_secret_init(&s->ndp, seed);
	icmpv6_init(&s->icmp6);
	reasm_init(&s->reasm);
	reasm_init(&s->reasm6);
	pmtu_init(&s->pmtu);
	udp_init(&s->udp);
	tcp_init(s);
	ipv4_ident_init(&s->ip_ident, rng_next(&s->rng)); /* one draw, as before */
}

void stack_fini(struct stack *s)
{
	arp_cache_flush(&s->arp);
	ndp_cache_flush(&s->ndp);
	reasm_flush(&s->reasm);
	reasm_flush(&s->reasm6);
	tcp_fini(s);
	fw_disable(s);
	for (int i = 0; i < s->nifs; i++)
		s->ifs[i].dev->stats = NULL;
}

struct netif *stack_add_netif(struct stack *s, struct netdev *dev, const uint8_t mac[ETH_ALEN])
{
	if (s->nifs >= STACK_MAX_IFS)
		return NULL;
	struct netif *ifp = &s->ifs[s->nifs];
	memset(ifp, 0, sizeof(*ifp));
	ifp->index = s->nifs++;
	ifp->dev = dev;
	memcpy(ifp->mac, mac, ETH_ALEN);
	ifp->mtu = dev->mtu ? dev->mtu : 1500;
	dev->stats = &s->stats;
	return ifp;
}

int stack_set_ipv4(struct stack *s, struct netif *ifp, uint32_t addr, int prefix)
{
	if (prefix < 0 || prefix > 32)
		return -EINVAL;
	ifp->ip4 = addr;
	ifp->ip4_prefix = prefix;
	struct route r = {
		.prefix = ipaddr_v4(addr),
		.len = prefix,
		.ifindex = ifp->index,
		.origin = "connected",
	};
	return route_add(&s->routes, &r);
}

int stack_set_gateway4(struct stack *s, struct netif *ifp, uint32_t gw)
{
	struct route r = {
		.prefix = ipaddr_v4(0),
		.len = 0,
		.gw = ipaddr_v4(gw),
		.ifindex = ifp->index,
		.origin = "static",
	};
	return route_add(&s->routes, &r);
}

void stack_start(struct stack *s, int64_t now)
{
	s->now = now;
	s->started = now;
	for (int i = 0; i < s->nifs; i++) {
		struct netif *ifp = &s->ifs[i];
		char a[IP4_STRLEN], m[ETH_MAC_STRLEN];
		TRACE(s, "up %s lladdr %s inet %s/%d mtu %u", ifp->dev->name, mac_ntop(ifp->mac, m),
		      ip4_ntop(ifp->ip4, a), ifp->ip4_prefix, ifp->mtu);
		if (ifp->ip4)
			arp_announce(s, ifp);
	}
}

int stack_poll(struct stack *s, int64_t now)
{
	int total = 0;
	bool full = false;
	s->now = now;
	for (int i = 0; i < s->nifs; i++) {
		struct netif *ifp = &s->ifs[i];
		int n;
		for (n = 0; n < STACK_RX_BURST; n++) {
			struct pkt *p = netdev_recv(ifp->dev, now);
			if (!p)
				break;
			total++;
			eth_input(s, ifp, p);
		}
		full |= n == STACK_RX_BURST;
	}
	/* the timers run after the burst: an ACK that the segments of the
	 * burst made due goes now, once for all of them (tcp_delay_ack) */
	arp_timer(s);
	dhcp_timer(s);
	ndp_timer(s);
	ipv4_reasm_timer(s);
	ipv6_reasm_timer(s);
	tcp_timer_run(s);
	/* for the next burst: the device still held frames after this one,
	 * the host is behind its sender */
	s->rx_backlog = full;
	return total;
}

int64_t stack_next_deadline(struct stack *s)
{
	int64_t t = arp_next_deadline(&s->arp);
	int64_t r = ipv4_reasm_next_deadline(&s->reasm);
	if (r < t)
		t = r;
	r = ipv6_reasm_next_deadline(&s->reasm6);
	if (r < t)
		t = r;
	r = dhcp_next_deadline(s);
	if (r < t)
		t = r;
	r = ndp_next_deadline(s);
	if (r < t)
		t = r;
	r = tcp_next_deadline(s);
	if (r < t)
		t = r;
	for (int i = 0; i < s->nifs; i++) {
		int64_t d = netdev_next_deadline(s->ifs[i].dev);
		if (d < t)
			t = d;
	}
	return t;
}

struct netif *stack_netif(struct stack *s, int ifindex)
{
	return ifindex >= 0 && ifindex < s->nifs ? &s->ifs[ifindex] : NULL;
}

struct netif *stack_netif_by_ip4(struct stack *s, uint32_t a)
{
	for (int i = 0; i < s->nifs; i++)
		if (s->ifs[i].ip4 && s->ifs[i].ip4 == a)
			return &s->ifs[i];
	return NULL;
}

void stack_drop(struct stack *s, struct pkt *p, const char *reason, const char *fmt, ...)
{
	stats_inc(&s->stats, reason);
	if (s->trace) {
		char detail[160] = "";
		if (fmt) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(detail, sizeof(detail), fmt, ap);
			va_end(ap);
		}
		stack_tracef(s, "drop %s%s%s", reason, fmt ? " " : "", detail);
	}
	pkt_free(p);
}

void stack_tracef(struct stack *s, const char *fmt, ...)
{
	if (!s->trace)
		return;
	va_list ap;
	int64_t t = s->now - s->started;
	fprintf(s->trace, "%4" PRId64 ".%06" PRId64 " %s%s", t / 1000000, t % 1000000, s->name,
		s->name[0] ? " " : "");
	va_start(ap, fmt);
	vfprintf(s->trace, fmt, ap);
	va_end(ap);
	fputc('\n', s->trace);
}

/* Names interfaces for route_dump. */
static const char *stack_ifname(void *ctx, int ifindex)
{
	struct netif *ifp = stack_netif(ctx, ifindex);
	return ifp ? ifp->dev->name : "?";
}

/* The stack's own memory for TCP (tapctl memory), from what it holds, not
 * from the process's resident size: control blocks (every state, listeners
 * included), the send and receive rings they have allocated so far (a ring
 * takes memory at its first byte and grows by doubling, ring.h), their
 * sockets, the 4-tuple hash and the timer heap. Bytes asked of malloc; its
 * own overhead comes on top. */
static void memory_dump(struct stack *s, FILE *out)
{
	const struct tcp_table *t = &s->tcp;
	size_t tcbs = 0, socks = 0, snd = 0, rcv = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < (pass ? TCP_HASH_SIZE : 1); i++)
			for (const struct tcb *tp = pass ? t->hash[i] : t->listeners; tp; tp = tp->hash_next) {
				tcbs++;
				socks += tp->so != NULL;
				snd += tp->sndbuf.cap;
				rcv += tp->rcvbuf.cap;
			}
	size_t tcb_bytes = tcbs * sizeof(struct tcb), sock_bytes = socks * sizeof(struct socket);
	fprintf(out, "tcp.tcbs %zu\n", tcbs);
	fprintf(out, "tcp.tcb_size %zu\n", sizeof(struct tcb));
	fprintf(out, "tcp.tcb_bytes %zu\n", tcb_bytes);
	fprintf(out, "tcp.snd_ring_bytes %zu\n", snd);
	fprintf(out, "tcp.rcv_ring_bytes %zu\n", rcv);
	fprintf(out, "tcp.sockets %zu\n", socks);
	fprintf(out, "tcp.socket_size %zu\n", sizeof(struct socket));
	fprintf(out, "tcp.socket_bytes %zu\n", sock_bytes);
	fprintf(out, "tcp.hash_bytes %zu\n", sizeof(t->hash));
	fprintf(out, "tcp.timer_heap_bytes %zu\n", (size_t)t->heap_cap * sizeof(*t->heap));
	fprintf(out, "tcp.bytes_per_tcb %zu\n", tcbs ? (tcb_bytes + sock_bytes + snd + rcv) / tcbs : 0);
	/* issue 20: the limits and where the host stands against them */
	static const char *const mem_state[] = { "ok", "pressure", "hard" };
	fprintf(out, "tcp.mem_bytes %zu\n", t->mem_bytes);
	fprintf(out, "tcp.mem_low %zu\n", t->mem_low);
	fprintf(out, "tcp.mem_high %zu\n", t->mem_high);
	fprintf(out, "tcp.mem_state %s\n", mem_state[tcp_mem_state(s)]);
	fprintf(out, "tcp.time_wait %u\n", t->time_wait);
	fprintf(out, "tcp.max_tw %u\n", t->max_tw);
	fprintf(out, "tcp.orphans %u\n", t->orphans);
	fprintf(out, "tcp.max_orphans %u\n", t->max_orphans);
	fprintf(out, "pkt.in_use %zu\n", pkt_in_use());
}

/* tapctl routes of a host with several interfaces (a router): each
 * interface, its address and MTU, then the routes that leave by it. */
static void routes_by_interface(struct stack *s, FILE *out)
{
	static struct route_table one;
	fprintf(out, "forwarding %s\n", s->ip_forward ? "on" : "off");
	for (int i = 0; i < s->nifs; i++) {
		const struct netif *ifp = &s->ifs[i];
		char a[IP4_STRLEN];
		fprintf(out, "dev %s inet %s/%d mtu %u\n", ifp->dev->name, ip4_ntop(ifp->ip4, a),
			ifp->ip4_prefix, ifp->mtu);
		route_table_init(&one);
		for (int k = 0; k < s->routes.n; k++)
			if (s->routes.r[k].ifindex == ifp->index)
				one.r[one.n++] = s->routes.r[k];
		route_dump(&one, out, stack_ifname, s);
	}
}

int stack_report(struct stack *s, const char *cmd, FILE *out)
{
	if (strcmp(cmd, "stats") == 0) {
		/* The pool's figures join the host's counters in one sorted list. */
		static struct stats all;
		all = s->stats;
		stats_add(&all, "pkt.in_use", pkt_in_use());
		stats_add(&all, "pkt.alloc_failures", pkt_alloc_failures());
		/* TCP's SYN queue: half-open connections now, and the limit */
		stats_add(&all, "tcp.syn_queue", s->tcp.synq_len);
		stats_add(&all, "tcp.syn_queue_limit", s->tcp.syn_backlog);
		stats_dump(&all, out);
	} else if (strcmp(cmd, "neigh") == 0) {
		arp_cache_dump(&s->arp, s->now, out, stack_ifname, s);
		ndp_cache_dump(&s->ndp, s->now, out, stack_ifname, s);
	} else if (strcmp(cmd, "addrs") == 0) {
		ndp_addrs_dump(s, out);
	} else if (strcmp(cmd, "routes") == 0) {
		if (s->nifs > 1 || s->ip_forward)
			routes_by_interface(s, out);
		else
			route_dump(&s->routes, out, stack_ifname, s);
		pmtu_dump(&s->pmtu, s->now, out);
	} else if (strcmp(cmd, "sockets") == 0) {
		tcp_dump(s, out);
	} else if (strcmp(cmd, "memory") == 0) {
		memory_dump(s, out);
	} else if (strcmp(cmd, "firewall") == 0) {
		fw_dump(s, out);
	} else if (strcmp(cmd, "dhcp") == 0) {
		dhcp_dump(s, out);
	} else if (strcmp(cmd, "help") == 0) {
		fprintf(out, "commands: stats neigh addrs routes sockets memory firewall dhcp help\n");
	} else {
		fprintf(out, "unknown command '%s'; commands: stats neigh addrs routes sockets memory firewall dhcp help\n",
			cmd);
		return -1;
	}
	return 0;
}

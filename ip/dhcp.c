/* DHCP client (RFC 2131, RFC 2132): the codec and the state machine of
 * RFC 2131 4.4. See dhcp.h.
 *
 * The message, RFC 2131 2 (offsets in bytes):
 *
 *     0: op  1: htype  2: hlen  3: hops
 *     4: xid (4)        8: secs (2)   10: flags (2)
 *    12: ciaddr  16: yiaddr  20: siaddr  24: giaddr
 *    28: chaddr (16)   44: sname (64)  108: file (128)
 *   236: magic cookie 99.130.83.99, then the options (RFC 2132)
 */
#include "ip/dhcp.h"

#include <string.h>

#include "ip/addr.h"
#include "ip/ip.h"
#include "ip/ipv4.h"
#include "ip/route.h"
#include "ip/udp.h"
#include "link/arp.h"
#include "link/eth.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "stack/pkt.h"
#include "stack/rng.h"
#include "stack/stack.h"

enum {
	DH_OFF_OP = 0,
	DH_OFF_HTYPE = 1,
	DH_OFF_HLEN = 2,
	DH_OFF_XID = 4,
	DH_OFF_SECS = 8,
	DH_OFF_FLAGS = 10,
	DH_OFF_CIADDR = 12,
	DH_OFF_YIADDR = 16,
	DH_OFF_SIADDR = 20,
	DH_OFF_GIADDR = 24,
	DH_OFF_CHADDR = 28,
	DH_OFF_SNAME = 44,
	DH_OFF_FILE = 108,
	DH_OFF_COOKIE = 236,
	DH_OFF_OPTIONS = 240,
};

/* RFC 2132 option codes the client reads or writes. */
enum {
	OPT_PAD = 0,
	OPT_MASK = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_REQUESTED = 50,
	OPT_LEASE = 51,
	OPT_OVERLOAD = 52,
	OPT_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAMS = 55,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_CLIENT_ID = 61,
	OPT_END = 255,
};

#define DHCP_RTO_FIRST (4 * 1000000LL)  /* RFC 2131 4.1: 4 s, doubled... */
#define DHCP_RTO_MAX (64 * 1000000LL)   /* ... up to 64 s */
#define DHCP_JITTER 1000000LL           /* ... randomized by +-1 s */
#define DHCP_REQUEST_TRIES 4            /* REQUESTs before INIT again (RFC 2131 3.1 step 5) */
#define DHCP_RENEW_MIN (60 * 1000000LL) /* RFC 2131 4.4.5: retransmit no sooner than 60 s */
#define DHCP_LEASE_MIN 60               /* seconds: a shorter lease is taken as this */
#define DHCP_BOOTP_MIN 300              /* RFC 1542 2.1: pad what we send to 300 bytes */
#define US 1000000LL
/* RFC 5227 1.1: the probe's constants */
#define PROBE_WAIT (1 * US)             /* before the first: random, 0 to 1 s */
#define PROBE_NUM 3
#define PROBE_MIN (1 * US)              /* between probes: random, 1 to 2 s */
#define PROBE_MAX (2 * US)
#define ANNOUNCE_WAIT (2 * US)          /* after the last, before using it */
#define DHCP_DECLINE_WAIT (10 * US)     /* RFC 2131 3.1 step 5: INIT again after >= 10 s */

const char *const dhcp_state_name[] = {
	[DHCP_OFF] = "OFF",
	[DHCP_INIT] = "INIT",
	[DHCP_SELECTING] = "SELECTING",
	[DHCP_REQUESTING] = "REQUESTING",
	[DHCP_BOUND] = "BOUND",
	[DHCP_RENEWING] = "RENEWING",
	[DHCP_REBINDING] = "REBINDING",
	[DHCP_PROBING] = "PROBING",
	[DHCP_RELEASED] = "RELEASED",
};

static const char *const dhcp_type_name[] = {
	"?", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
};

static const char *type_name(uint8_t t)
{
	return t <= DHCPINFORM ? dhcp_type_name[t] : "?";
}

/* ---- The codec ---------------------------------------------------------- */

/* Reads the options in o (n bytes) into m. top: the options field itself,
 * where option 52 may say that sname and file hold more (*overload).
 * Returns NULL or the reason to drop. */
static const char *dhcp_options(const uint8_t *o, size_t n, struct dhcp_msg *m, int *overload,
				bool top)
{
	size_t i = 0;
	while (i < n) {
		uint8_t code = o[i];
		if (code == OPT_PAD) { /* RFC 2132 3.1: one byte, no length */
			i++;
			continue;
		}
		if (code == OPT_END) /* RFC 2132 3.2: the end of the field */
			return NULL;
		/* RFC 2132 2: code, length, then length bytes; all of it in the field */
		if (i + 2 > n || i + 2 + o[i + 1] > n)
			return "dhcp.bad_option";
		uint8_t l = o[i + 1];
		const uint8_t *v = o + i + 2;
		switch (code) {
		case OPT_MASK: /* RFC 2132 3.3: 4 bytes */
			if (l != 4)
				return "dhcp.bad_option";
			uint32_t mask = be32_get(v);
			/* RFC 950 2.1 allows holes; RFC 1878 and every host today
			 * do not: the mask must be a prefix */
			if ((~mask & (~mask + 1)) != 0)
				return "dhcp.bad_mask";
			m->prefix = __builtin_popcount(mask);
			m->has_mask = true;
			break;
		case OPT_ROUTER: /* RFC 2132 3.5: 4 bytes a router, first preferred */
			if (l < 4 || l % 4)
				return "dhcp.bad_option";
			m->router = be32_get(v);
			break;
		case OPT_DNS: /* RFC 2132 3.8: 4 bytes a server, in order of preference */
			if (l < 4 || l % 4)
				return "dhcp.bad_option";
			m->ndns = 0;
			for (int k = 0; k < l / 4 && m->ndns < DHCP_MAX_DNS; k++)
				m->dns[m->ndns++] = be32_get(v + 4 * k);
			break;
		case OPT_LEASE: /* RFC 2132 9.2 */
		case OPT_T1:    /* RFC 2132 9.11 */
		case OPT_T2:    /* RFC 2132 9.12 */
			if (l != 4)
				return "dhcp.bad_option";
			if (code == OPT_LEASE)
				m->lease = be32_get(v), m->has_lease = true;
			else if (code == OPT_T1)
				m->t1 = be32_get(v), m->has_t1 = true;
			else
				m->t2 = be32_get(v), m->has_t2 = true;
			break;
		case OPT_OVERLOAD: /* RFC 2132 9.3: only in the options field, 1 to 3 */
			if (!top || l != 1 || v[0] < 1 || v[0] > 3)
				return "dhcp.bad_option";
			*overload = v[0];
			break;
		case OPT_TYPE: /* RFC 2132 9.6 */
			if (l != 1)
				return "dhcp.bad_option";
			m->type = v[0];
			break;
		case OPT_REQUESTED: /* RFC 2132 9.1 (a client's; read for the tests and tools) */
			if (l != 4)
				return "dhcp.bad_option";
			m->requested = be32_get(v);
			break;
		case OPT_SERVER_ID: /* RFC 2132 9.7 */
			if (l != 4)
				return "dhcp.bad_option";
			m->server_id = be32_get(v);
			break;
		default: /* RFC 2132 2: an option we do not know is skipped */
			break;
		}
		i += 2 + (size_t)l;
	}
	return NULL;
}

const char *dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < DHCP_MIN_LEN)
		return "dhcp.short";
	m->op = buf[DH_OFF_OP];
	m->xid = be32_get(buf + DH_OFF_XID);
	m->secs = be16_get(buf + DH_OFF_SECS);
	m->flags = be16_get(buf + DH_OFF_FLAGS);
	m->ciaddr = be32_get(buf + DH_OFF_CIADDR);
	m->yiaddr = be32_get(buf + DH_OFF_YIADDR);
	m->siaddr = be32_get(buf + DH_OFF_SIADDR);
	m->giaddr = be32_get(buf + DH_OFF_GIADDR);
	memcpy(m->chaddr, buf + DH_OFF_CHADDR, 6);
	/* RFC 2131 3: the options begin with the magic cookie */
	if (be32_get(buf + DH_OFF_COOKIE) != DHCP_COOKIE)
		return "dhcp.bad_cookie";
	/* RFC 1700 / RFC 2131 2: htype 1, hlen 6 is Ethernet, all we speak */
	if (buf[DH_OFF_HTYPE] != 1 || buf[DH_OFF_HLEN] != 6)
		return "dhcp.bad_htype";
	int overload = 0;
	const char *r = dhcp_options(buf + DH_OFF_OPTIONS, len - DH_OFF_OPTIONS, m, &overload, true);
	/* RFC 2132 9.3: overload 1, the file field holds options; 2, sname;
	 * 3, both; RFC 2131 4.1: read file first, then sname */
	if (!r && (overload & 1))
		r = dhcp_options(buf + DH_OFF_FILE, 128, m, &overload, false);
	if (!r && (overload & 2))
		r = dhcp_options(buf + DH_OFF_SNAME, 64, m, &overload, false);
	if (r)
		return r;
	/* RFC 2131 3: every DHCP message has option 53 (without it, BOOTP) */
	if (m->type == 0)
		return "dhcp.no_type";
	return NULL;
}

/* Appends option code with l bytes of v at *n. */
static void opt_put(uint8_t *buf, size_t *n, uint8_t code, const void *v, uint8_t l)
{
	buf[(*n)++] = code;
	buf[(*n)++] = l;
	memcpy(buf + *n, v, l);
	*n += l;
}

static void opt_put32(uint8_t *buf, size_t *n, uint8_t code, uint32_t a)
{
	uint8_t v[4];
	be32_put(v, a);
	opt_put(buf, n, code, v, 4);
}

size_t dhcp_emit(const struct dhcp_msg *m, uint8_t *buf, size_t cap)
{
	if (cap < DHCP_MSG_MAX)
		return 0;
	memset(buf, 0, DHCP_MSG_MAX);
	buf[DH_OFF_OP] = m->op ? m->op : 1;
	buf[DH_OFF_HTYPE] = 1;
	buf[DH_OFF_HLEN] = 6;
	be32_put(buf + DH_OFF_XID, m->xid);
	be16_put(buf + DH_OFF_SECS, m->secs);
	be16_put(buf + DH_OFF_FLAGS, m->flags);
	be32_put(buf + DH_OFF_CIADDR, m->ciaddr);
	be32_put(buf + DH_OFF_YIADDR, m->yiaddr);
	be32_put(buf + DH_OFF_SIADDR, m->siaddr);
	be32_put(buf + DH_OFF_GIADDR, m->giaddr);
	memcpy(buf + DH_OFF_CHADDR, m->chaddr, 6);
	be32_put(buf + DH_OFF_COOKIE, DHCP_COOKIE);
	size_t n = DH_OFF_OPTIONS;
	opt_put(buf, &n, OPT_TYPE, &m->type, 1);
	/* RFC 2132 9.14: the client identifier, type 1 (Ethernet) and the MAC,
	 * the same in every message so the server knows the lease (RFC 2131 4.2) */
	uint8_t id[7] = { 1 };
	memcpy(id + 1, m->chaddr, 6);
	opt_put(buf, &n, OPT_CLIENT_ID, id, sizeof(id));
	if (m->requested)
		opt_put32(buf, &n, OPT_REQUESTED, m->requested);
	if (m->server_id)
		opt_put32(buf, &n, OPT_SERVER_ID, m->server_id);
	if (m->type == DHCPDISCOVER || m->type == DHCPREQUEST) {
		/* RFC 2132 9.8: what we want back */
		static const uint8_t want[] = { OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_LEASE, OPT_T1, OPT_T2 };
		opt_put(buf, &n, OPT_PARAMS, want, sizeof(want));
	}
	buf[n++] = OPT_END;
	return n < DHCP_BOOTP_MIN ? DHCP_BOOTP_MIN : n;
}

/* ---- Sending ------------------------------------------------------------ */

static const uint8_t eth_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* The UDP datagram 68 -> 67 holding msg (len bytes) from src to dst, with
 * its checksum (RFC 768). NULL when the pool is empty. */
static struct pkt *dhcp_udp(uint32_t src, uint32_t dst, const uint8_t *msg, size_t len)
{
	struct pkt *p = pkt_alloc(IPV4_HDR_LEN + UDP_HDR_LEN + len);
	if (!p)
		return NULL;
	uint8_t *u = pkt_put(p, UDP_HDR_LEN + len);
	struct udp_hdr h = { .sport = DHCP_CLIENT_PORT, .dport = DHCP_SERVER_PORT,
			     .len = (uint16_t)(UDP_HDR_LEN + len) };
	udp_emit(&h, u);
	memcpy(u + UDP_HDR_LEN, msg, len);
	struct ipaddr s4 = ipaddr_v4(src), d4 = ipaddr_v4(dst);
	uint16_t sum = csum_fold(csum_partial(u, UDP_HDR_LEN + len,
					      ip_pseudo_sum(&s4, &d4, IP_PROTO_UDP, (uint32_t)(UDP_HDR_LEN + len))));
	be16_put(u + 6, sum == 0 ? 0xffff : sum);
	return p;
}

/* Sends m from src to dst. Before the client has an address it cannot use
 * routes or ARP: the IP header is written here and the frame goes to the
 * Ethernet broadcast (or, for a unicast dst, to dst's MAC if ARP knows
 * it, else to the broadcast, so a RELEASE at shutdown need not wait for
 * ARP). A unicast while bound with ARP unknown (a renewal) goes through
 * ipv4_output, which asks ARP. */
static void dhcp_send(struct stack *s, struct netif *ifp, const struct dhcp_msg *m, uint32_t src,
		      uint32_t dst)
{
	uint8_t buf[DHCP_MSG_MAX];
	char a[IP4_STRLEN], b[IP4_STRLEN];
	size_t len = dhcp_emit(m, buf, sizeof(buf));
	struct pkt *p = dhcp_udp(src, dst, buf, len);
	if (!p) {
		stats_inc(&s->stats, "dhcp.tx_no_buffer");
		return;
	}
	stats_inc(&s->stats, "dhcp.tx");
	TRACE(s, "dhcp tx %s xid %08x from %s to %s on %s", type_name(m->type), m->xid,
	      ip4_ntop(src, a), ip4_ntop(dst, b), ifp->dev->name);
	const uint8_t *mac = eth_bcast;
	if (dst != IP4_BROADCAST) {
		struct arp_entry *e = arp_cache_lookup(&s->arp, dst);
		if (e && (e->state == ARP_REACHABLE || e->state == ARP_STALE))
			mac = e->mac;
		else if (ifp->ip4 && m->type != DHCPRELEASE) {
			struct ipv4_tx tx = { .src = src, .dst = dst, .proto = IP_PROTO_UDP };
			ipv4_output(s, p, &tx);
			return;
		}
	}
	uint8_t *ih = pkt_push(p, IPV4_HDR_LEN);
	struct ipv4_hdr h = { .tos = 0, .total_len = (uint16_t)p->len, .id = (uint16_t)rng_next(&s->rng),
			      .ttl = IPV4_DEFAULT_TTL, .proto = IP_PROTO_UDP, .src = src, .dst = dst };
	ipv4_emit(&h, ih);
	stats_inc(&s->stats, "ip.tx");
	eth_output(s, ifp, p, mac, ETH_TYPE_IPV4);
}

/* The delay before the next retransmission: RFC 2131 4.1, the present
 * delay randomized by +-1 s (uniform, from the host's generator). */
static int64_t dhcp_backoff(struct stack *s, const struct dhcp_client *c)
{
	return c->rto - DHCP_JITTER + (int64_t)rng_below(&s->rng, 2 * DHCP_JITTER + 1);
}

/* The message of the client's state: DISCOVER in SELECTING, REQUEST in
 * REQUESTING, RENEWING and REBINDING (RFC 2131 4.3.2 says which fields
 * each carries), then when to send it again. */
static void dhcp_transmit(struct stack *s, struct netif *ifp)
{
	struct dhcp_client *c = &ifp->dhcp;
	struct dhcp_msg m = { .op = 1, .xid = c->xid };
	memcpy(m.chaddr, ifp->mac, ETH_ALEN);
	/* RFC 2131 2: secs, the seconds since the client began the exchange */
	int64_t secs = (s->now - c->started) / US;
	m.secs = secs > 0xffff ? 0xffff : (uint16_t)secs;
	uint32_t src = 0, dst = IP4_BROADCAST;
	switch (c->state) {
	case DHCP_SELECTING:
		m.type = DHCPDISCOVER;
		/* RFC 2131 4.1: a client that cannot take unicast before it has
		 * an address sets BROADCAST, so the server broadcasts its reply */
		m.flags = DHCP_FLAG_BROADCAST;
		break;
	case DHCP_REQUESTING:
		/* RFC 2131 4.3.2, SELECTING: server identifier and requested
		 * address, ciaddr 0 */
		m.type = DHCPREQUEST;
		m.flags = DHCP_FLAG_BROADCAST;
		m.requested = c->offered;
		m.server_id = c->server;
		break;
	case DHCP_RENEWING:
		/* RFC 2131 4.3.2, RENEWING: ciaddr, no server identifier nor
		 * requested address, unicast to the server */
		m.type = DHCPREQUEST;
		m.ciaddr = c->addr;
		src = c->addr;
		dst = c->server;
		break;
	case DHCP_REBINDING:
		/* RFC 2131 4.3.2, REBINDING: the same, broadcast */
		m.type = DHCPREQUEST;
		m.ciaddr = c->addr;
		src = c->addr;
		break;
	default:
		return;
	}
	if (c->tries++ > 0)
		stats_inc(&s->stats, "dhcp.retransmits");
	dhcp_send(s, ifp, &m, src, dst);
}

static void dhcp_set_state(struct stack *s, struct netif *ifp, enum dhcp_state st)
{
	struct dhcp_client *c = &ifp->dhcp;
	if (c->state != st)
		TRACE(s, "dhcp %s %s -> %s", ifp->dev->name, dhcp_state_name[c->state],
		      dhcp_state_name[st]);
	c->state = st;
	c->tries = 0;
	c->rto = DHCP_RTO_FIRST;
}

/* Starts a new exchange: a fresh xid (RFC 2131 4.4.1: the client chooses
 * it at random) and 'secs' counted from now. */
static void dhcp_new_exchange(struct stack *s, struct dhcp_client *c)
{
	c->xid = (uint32_t)rng_next(&s->rng);
	c->started = s->now;
}

/* Takes the address, the routes and the client's lease off the interface. */
static void dhcp_unbind(struct stack *s, struct netif *ifp)
{
	struct dhcp_client *c = &ifp->dhcp;
	char a[IP4_STRLEN];
	if (c->addr && ifp->ip4 == c->addr) {
		struct ipaddr none = { 0 };
		struct ipaddr net = ipaddr_v4(c->addr & ip4_mask(c->prefix));
		route_del(&s->routes, &net, c->prefix, &none);
		if (c->router) {
			struct ipaddr any = ipaddr_v4(0), gw = ipaddr_v4(c->router);
			route_del(&s->routes, &any, 0, &gw);
		}
		ifp->ip4 = 0;
		ifp->ip4_prefix = 0;
		TRACE(s, "dhcp %s gives up %s/%d", ifp->dev->name, ip4_ntop(c->addr, a), c->prefix);
	}
	c->addr = 0;
	c->prefix = 0;
	c->router = 0;
	c->ndns = 0;
}

/* The network's natural prefix when no mask option came (RFC 791 3.2's
 * classes A, B and C). */
static int dhcp_class_prefix(uint32_t a)
{
	if ((a >> 31) == 0)
		return 8;
	if ((a >> 30) == 2)
		return 16;
	return 24;
}

/* The times of a lease granted at now (RFC 2131 4.4.5: T1 defaults to 0.5
 * and T2 to 0.875 of the lease; T1 <= T2 <= lease, else the defaults). */
static void dhcp_lease_times(struct stack *s, struct dhcp_client *c, const struct dhcp_msg *m,
			     int64_t since)
{
	uint32_t lease = m->lease;
	if (lease < DHCP_LEASE_MIN) {
		stats_inc(&s->stats, "dhcp.short_lease");
		lease = DHCP_LEASE_MIN;
	}
	c->lease = lease;
	c->bound_at = since;
	if (lease == DHCP_INFINITE) {
		c->t1 = c->t2 = DHCP_INFINITE;
		c->t1_at = c->t2_at = c->expire_at = INT64_MAX;
		return;
	}
	uint32_t t1 = m->has_t1 ? m->t1 : lease / 2;
	uint32_t t2 = m->has_t2 ? m->t2 : (uint32_t)((uint64_t)lease * 7 / 8);
	if (t2 > lease || t1 > t2) {
		t1 = lease / 2;
		t2 = (uint32_t)((uint64_t)lease * 7 / 8);
	}
	c->t1 = t1;
	c->t2 = t2;
	c->t1_at = since + (int64_t)t1 * US;
	c->t2_at = since + (int64_t)t2 * US;
	c->expire_at = since + (int64_t)lease * US;
}

/* An ACK: the lease is ours. Puts the address, its subnet's route and the
 * default route on the interface (replacing those of an earlier lease
 * that differ), keeps the DNS servers, and waits for T1. */
static void dhcp_bind(struct stack *s, struct netif *ifp, const struct dhcp_msg *m, int64_t since)
{
	struct dhcp_client *c = &ifp->dhcp;
	char a[IP4_STRLEN], r[IP4_STRLEN];
	int prefix = m->has_mask ? m->prefix : dhcp_class_prefix(m->yiaddr);
	/* RFC 2132 3.5: the first router is the default gateway; one off
	 * the subnet could not be reached, and is not used */
	uint32_t router = m->router;
	if (router && (prefix >= 32 || (router & ip4_mask(prefix)) != (m->yiaddr & ip4_mask(prefix)))) {
		stats_inc(&s->stats, "dhcp.router_off_link");
		router = 0;
	}
	bool fresh = ifp->ip4 != m->yiaddr || ifp->ip4_prefix != prefix || c->router != router;
	if (fresh) {
		dhcp_unbind(s, ifp);
		stack_set_ipv4(s, ifp, m->yiaddr, prefix);
		c->addr = m->yiaddr;
		c->prefix = prefix;
		if (router) {
			struct route rt = { .prefix = ipaddr_v4(0), .len = 0, .gw = ipaddr_v4(router),
					    .ifindex = ifp->index, .origin = "dhcp" };
			if (route_add(&s->routes, &rt) == 0)
				c->router = router;
		}
		arp_announce(s, ifp); /* RFC 5227 2.3: announce the address we took */
	}
	c->ndns = m->ndns;
	memcpy(c->dns, m->dns, sizeof(c->dns));
	if (m->server_id)
		c->server = m->server_id;
	dhcp_lease_times(s, c, m, since);
	dhcp_set_state(s, ifp, DHCP_BOUND);
	c->timer = c->t1_at;
	stats_inc(&s->stats, "dhcp.bound");
	TRACE(s, "dhcp %s bound %s/%d router %s lease %us from %s", ifp->dev->name,
	      ip4_ntop(c->addr, a), c->prefix, ip4_ntop(c->router, r), c->lease,
	      ip4_ntop(c->server, r));
}

/* RFC 5227 2.1.1: an ARP probe for a: a request from sender 0.0.0.0, our
 * MAC, target a, to the broadcast. */
static void dhcp_send_probe(struct stack *s, struct netif *ifp, uint32_t a)
{
	char t[IP4_STRLEN];
	struct arp_msg m = { .htype = ARP_HTYPE_ETHERNET, .ptype = ETH_TYPE_IPV4, .hlen = ETH_ALEN,
			     .plen = 4, .op = ARP_OP_REQUEST, .spa = 0, .tpa = a };
	memcpy(m.sha, ifp->mac, ETH_ALEN);
	struct pkt *p = pkt_alloc(ETH_MIN_FRAME);
	if (!p) {
		stats_inc(&s->stats, "dhcp.tx_no_buffer");
		return;
	}
	arp_emit(&m, pkt_put(p, ARP_MSG_LEN));
	stats_inc(&s->stats, "dhcp.arp_probes");
	TRACE(s, "dhcp tx ARP probe who-has %s tell 0.0.0.0", ip4_ntop(a, t));
	eth_output(s, ifp, p, eth_bcast, ETH_TYPE_ARP);
}

/* An ACK in REQUESTING: before the address is used, RFC 2131 4.4.1 says
 * the client SHOULD check it is free; RFC 5227 2.1.1 says how: probes
 * after a random wait, and the address is ours if no one answers. */
static void dhcp_probe_start(struct stack *s, struct netif *ifp, const struct dhcp_msg *m)
{
	struct dhcp_client *c = &ifp->dhcp;
	c->ack = *m;
	c->ack_at = s->now;
	dhcp_set_state(s, ifp, DHCP_PROBING);
	ifp->arp_probe_ip = m->yiaddr;
	ifp->arp_probe_conflict = false;
	c->timer = s->now + (int64_t)rng_below(&s->rng, PROBE_WAIT + 1);
}

/* RFC 2131 3.1 step 5 / 4.4.1: the address is in use: DHCPDECLINE to the
 * server (broadcast, requested address and server id), INIT again after
 * at least ten seconds. */
static void dhcp_decline(struct stack *s, struct netif *ifp)
{
	struct dhcp_client *c = &ifp->dhcp;
	char a[IP4_STRLEN];
	struct dhcp_msg m = { .op = 1, .type = DHCPDECLINE, .xid = c->xid,
			      .requested = c->ack.yiaddr, .server_id = c->server };
	memcpy(m.chaddr, ifp->mac, ETH_ALEN);
	TRACE(s, "dhcp %s: %s is in use by another host: decline", ifp->dev->name,
	      ip4_ntop(c->ack.yiaddr, a));
	dhcp_send(s, ifp, &m, 0, IP4_BROADCAST);
	stats_inc(&s->stats, "dhcp.declined");
	ifp->arp_probe_ip = 0;
	ifp->arp_probe_conflict = false;
	dhcp_set_state(s, ifp, DHCP_INIT);
	c->timer = s->now + DHCP_DECLINE_WAIT;
}

/* PROBING, when its timer is due: the next probe, or, ANNOUNCE_WAIT after
 * the last with no answer, the lease is bound. */
static void dhcp_probe_timer(struct stack *s, struct netif *ifp)
{
	struct dhcp_client *c = &ifp->dhcp;
	if (c->tries < PROBE_NUM) {
		dhcp_send_probe(s, ifp, c->ack.yiaddr);
		c->tries++;
		c->timer = s->now + (c->tries < PROBE_NUM
					     ? PROBE_MIN + (int64_t)rng_below(&s->rng, PROBE_MAX - PROBE_MIN + 1)
					     : ANNOUNCE_WAIT);
		return;
	}
	ifp->arp_probe_ip = 0;
	dhcp_bind(s, ifp, &c->ack, c->ack_at);
}

/* ---- The state machine -------------------------------------------------- */

void dhcp_enable(struct stack *s, struct netif *ifp)
{
	struct dhcp_client *c = &ifp->dhcp;
	memset(c, 0, sizeof(*c));
	c->state = DHCP_INIT;
	c->timer = s->now; /* RFC 2131 4.4.1 lets a client wait 1-10 s first; we do not */
	TRACE(s, "dhcp %s INIT", ifp->dev->name);
}

bool dhcp_wants(const struct netif *ifp)
{
	return ifp->dhcp.state >= DHCP_SELECTING && ifp->dhcp.state <= DHCP_REBINDING;
}

/* INIT: a new exchange, DISCOVER (RFC 2131 4.4.1). */
static void dhcp_discover(struct stack *s, struct netif *ifp)
{
	struct dhcp_client *c = &ifp->dhcp;
	dhcp_new_exchange(s, c);
	dhcp_set_state(s, ifp, DHCP_SELECTING);
	dhcp_transmit(s, ifp);
	c->timer = s->now + dhcp_backoff(s, c);
}

/* Renewal and rebinding retransmit at half the time left to T2 (or the
 * lease's end), no sooner than 60 s, no later than that end (RFC 2131
 * 4.4.5). */
static int64_t dhcp_half_to(int64_t now, int64_t end)
{
	int64_t t = now + (end - now) / 2;
	if (t < now + DHCP_RENEW_MIN)
		t = now + DHCP_RENEW_MIN;
	return t < end ? t : end;
}

/* What is due for one interface's client at s->now. */
static void dhcp_client_timer(struct stack *s, struct netif *ifp)
{
	struct dhcp_client *c = &ifp->dhcp;
	switch (c->state) {
	case DHCP_INIT:
		dhcp_discover(s, ifp);
		return;
	case DHCP_SELECTING:
		/* RFC 2131 4.1: no OFFER yet: again, after twice the delay, up to 64 s */
		c->rto = c->rto * 2 > DHCP_RTO_MAX ? DHCP_RTO_MAX : c->rto * 2;
		dhcp_transmit(s, ifp);
		c->timer = s->now + dhcp_backoff(s, c);
		return;
	case DHCP_REQUESTING:
		if (c->tries >= DHCP_REQUEST_TRIES) {
			/* RFC 2131 3.1 step 5: no ACK nor NAK: start over */
			stats_inc(&s->stats, "dhcp.request_timeouts");
			dhcp_set_state(s, ifp, DHCP_INIT);
			dhcp_discover(s, ifp);
			return;
		}
		c->rto = c->rto * 2 > DHCP_RTO_MAX ? DHCP_RTO_MAX : c->rto * 2;
		dhcp_transmit(s, ifp);
		c->timer = s->now + dhcp_backoff(s, c);
		return;
	case DHCP_BOUND:
		/* RFC 2131 4.4.5: at T1, RENEWING: ask the server that gave it */
		dhcp_new_exchange(s, c);
		dhcp_set_state(s, ifp, DHCP_RENEWING);
		/* fall through */
	case DHCP_RENEWING:
		if (s->now < c->t2_at) {
			dhcp_transmit(s, ifp);
			c->timer = dhcp_half_to(s->now, c->t2_at);
			return;
		}
		/* RFC 2131 4.4.5: at T2, REBINDING: ask any server */
		dhcp_new_exchange(s, c);
		dhcp_set_state(s, ifp, DHCP_REBINDING);
		/* fall through */
	case DHCP_REBINDING:
		if (s->now < c->expire_at) {
			dhcp_transmit(s, ifp);
			c->timer = dhcp_half_to(s->now, c->expire_at);
			return;
		}
		/* RFC 2131 4.4.5: the lease has expired: stop using the
		 * address, back to INIT */
		stats_inc(&s->stats, "dhcp.lease_expired");
		dhcp_unbind(s, ifp);
		dhcp_set_state(s, ifp, DHCP_INIT);
		dhcp_discover(s, ifp);
		return;
	case DHCP_PROBING:
		dhcp_probe_timer(s, ifp);
		return;
	default:
		c->timer = INT64_MAX;
		return;
	}
}

void dhcp_timer(struct stack *s)
{
	for (int i = 0; i < s->nifs; i++) {
		struct netif *ifp = &s->ifs[i];
		/* RFC 5227 2.1.1: link/arp.c saw the probed address in use */
		if (ifp->dhcp.state == DHCP_PROBING && ifp->arp_probe_conflict)
			dhcp_decline(s, ifp);
		/* bounded: each state sets a later timer, or INIT's DISCOVER does */
		for (int k = 0; k < 4 && ifp->dhcp.state != DHCP_OFF && ifp->dhcp.timer <= s->now; k++)
			dhcp_client_timer(s, ifp);
	}
}

int64_t dhcp_next_deadline(const struct stack *s)
{
	int64_t t = INT64_MAX;
	for (int i = 0; i < s->nifs; i++)
		if (s->ifs[i].dhcp.state != DHCP_OFF && s->ifs[i].dhcp.timer < t)
			t = s->ifs[i].dhcp.timer;
	return t;
}

void dhcp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *ip)
{
	struct dhcp_client *c = &ifp->dhcp;
	struct dhcp_msg m;
	char a[IP4_STRLEN], b[IP4_STRLEN];
	uint32_t from = ipaddr_to_v4(&ip->src);
	const char *reason = dhcp_parse(p->data, p->len, &m);
	if (reason)
		goto drop;
	stats_inc(&s->stats, "dhcp.rx");
	TRACE(s, "dhcp rx %s xid %08x from %s yiaddr %s in %s", type_name(m.type), m.xid,
	      ip4_ntop(from, a), ip4_ntop(m.yiaddr, b), dhcp_state_name[c->state]);
	/* RFC 2131 4.1: a client takes only replies to its own requests: a
	 * BOOTREPLY with its xid and its hardware address */
	if (m.op != 2) {
		reason = "dhcp.not_reply";
		goto drop;
	}
	if (m.xid != c->xid) {
		reason = "dhcp.wrong_xid";
		goto drop;
	}
	if (memcmp(m.chaddr, ifp->mac, ETH_ALEN) != 0) {
		reason = "dhcp.wrong_chaddr";
		goto drop;
	}
	switch (m.type) {
	case DHCPOFFER:
		if (c->state != DHCP_SELECTING)
			break; /* RFC 2131 4.4.1: later OFFERs are ignored */
		/* RFC 2131 table 3: an OFFER has yiaddr and a server identifier */
		if (m.yiaddr == 0 || m.yiaddr == IP4_BROADCAST || (m.yiaddr >> 28) >= 14 ||
		    (m.yiaddr >> 24) == 127) {
			reason = "dhcp.bad_yiaddr";
			goto drop;
		}
		if (m.server_id == 0) {
			reason = "dhcp.no_server_id";
			goto drop;
		}
		/* RFC 2131 4.4.1: we take the first OFFER and REQUEST it */
		c->offered = m.yiaddr;
		c->server = m.server_id;
		dhcp_set_state(s, ifp, DHCP_REQUESTING);
		dhcp_transmit(s, ifp);
		c->timer = s->now + dhcp_backoff(s, c);
		pkt_free(p);
		return;
	case DHCPACK:
		if (c->state < DHCP_REQUESTING || c->state > DHCP_REBINDING || c->state == DHCP_BOUND)
			break;
		/* RFC 2131 table 3: an ACK to a REQUEST carries the lease time */
		if (!m.has_lease) {
			reason = "dhcp.no_lease";
			goto drop;
		}
		if (m.yiaddr == 0 || m.yiaddr == IP4_BROADCAST || (m.yiaddr >> 28) >= 14 ||
		    (m.yiaddr >> 24) == 127) {
			reason = "dhcp.bad_yiaddr";
			goto drop;
		}
		if (c->state == DHCP_REQUESTING)
			dhcp_probe_start(s, ifp, &m);
		else
			dhcp_bind(s, ifp, &m, s->now); /* a renewal: the address is ours already */
		pkt_free(p);
		return;
	case DHCPNAK:
		if (c->state < DHCP_REQUESTING || c->state > DHCP_REBINDING || c->state == DHCP_BOUND)
			break;
		/* RFC 2131 4.4: a NAK sends the client back to INIT; 3.2 step
		 * 3: in REQUESTING, it stops using the address */
		stats_inc(&s->stats, "dhcp.nak");
		dhcp_unbind(s, ifp);
		dhcp_set_state(s, ifp, DHCP_INIT);
		c->timer = s->now;
		pkt_free(p);
		return;
	default:
		break;
	}
	reason = "dhcp.unexpected";
drop:
	stack_drop(s, p, reason, "from %s on %s in %s", ip4_ntop(from, a), ifp->dev->name,
		   dhcp_state_name[c->state]);
}

void dhcp_release(struct stack *s, struct netif *ifp)
{
	struct dhcp_client *c = &ifp->dhcp;
	if (c->state == DHCP_OFF || c->state == DHCP_RELEASED)
		return;
	if (c->state >= DHCP_BOUND && c->addr) {
		/* RFC 2131 4.4.6: DHCPRELEASE to the server, ciaddr our
		 * address, the server identifier, a new xid; no reply */
		struct dhcp_msg m = { .op = 1, .type = DHCPRELEASE, .xid = (uint32_t)rng_next(&s->rng),
				      .ciaddr = c->addr, .server_id = c->server };
		memcpy(m.chaddr, ifp->mac, ETH_ALEN);
		dhcp_send(s, ifp, &m, c->addr, c->server);
		stats_inc(&s->stats, "dhcp.released");
		dhcp_unbind(s, ifp);
	}
	ifp->arp_probe_ip = 0;
	dhcp_set_state(s, ifp, DHCP_RELEASED);
	c->timer = INT64_MAX;
}

bool dhcp_acquiring(const struct stack *s)
{
	for (int i = 0; i < s->nifs; i++) {
		enum dhcp_state st = s->ifs[i].dhcp.state;
		if (st == DHCP_INIT || st == DHCP_SELECTING || st == DHCP_REQUESTING || st == DHCP_PROBING)
			return true;
	}
	return false;
}

uint32_t dhcp_dns_server(const struct stack *s)
{
	for (int i = 0; i < s->nifs; i++)
		if (s->ifs[i].dhcp.state >= DHCP_BOUND && s->ifs[i].dhcp.state <= DHCP_REBINDING &&
		    s->ifs[i].dhcp.ndns > 0)
			return s->ifs[i].dhcp.dns[0];
	return 0;
}

/* Seconds from now to t, for the dump ("-" for never). */
static void dhcp_secs(char *buf, size_t n, int64_t now, int64_t t)
{
	if (t == INT64_MAX)
		snprintf(buf, n, "never");
	else
		snprintf(buf, n, "%llds", (long long)((t - now) / US));
}

void dhcp_dump(const struct stack *s, FILE *out)
{
	int shown = 0;
	for (int i = 0; i < s->nifs; i++) {
		const struct netif *ifp = &s->ifs[i];
		const struct dhcp_client *c = &ifp->dhcp;
		if (c->state == DHCP_OFF)
			continue;
		shown++;
		char a[IP4_STRLEN], sv[IP4_STRLEN], r[IP4_STRLEN], t1[24], t2[24], ex[24];
		fprintf(out, "%s dhcp %s", ifp->dev->name, dhcp_state_name[c->state]);
		if (c->state >= DHCP_BOUND && c->state <= DHCP_REBINDING) {
			dhcp_secs(t1, sizeof(t1), s->now, c->t1_at);
			dhcp_secs(t2, sizeof(t2), s->now, c->t2_at);
			dhcp_secs(ex, sizeof(ex), s->now, c->expire_at);
			fprintf(out, " lease %s/%d server %s router %s", ip4_ntop(c->addr, a), c->prefix,
				ip4_ntop(c->server, sv), c->router ? ip4_ntop(c->router, r) : "none");
			fprintf(out, " dns");
			for (int k = 0; k < c->ndns; k++)
				fprintf(out, "%s%s", k ? "," : " ", ip4_ntop(c->dns[k], a));
			if (c->ndns == 0)
				fprintf(out, " none");
			fprintf(out, " lease_time %us t1 %us t2 %us renew_in %s rebind_in %s expires_in %s",
				c->lease, c->t1, c->t2, t1, t2, ex);
		} else if (c->state == DHCP_SELECTING || c->state == DHCP_REQUESTING) {
			fprintf(out, " xid %08x tries %d", c->xid, c->tries);
			if (c->state == DHCP_REQUESTING)
				fprintf(out, " offered %s server %s", ip4_ntop(c->offered, a),
					ip4_ntop(c->server, sv));
		}
		fputc('\n', out);
	}
	if (!shown)
		fprintf(out, "no interface uses DHCP (start the host with --ip dhcp)\n");
}

/* Neighbor discovery (RFC 4861) and duplicate address detection (RFC 4862)
 * for IPv6 over Ethernet. See ndp.h.
 *
 * A neighbor solicitation (type 135) and advertisement (type 136) share one
 * layout (RFC 4861 4.3, 4.4):
 *
 *     |     type      |     code      |           checksum            |
 *     |  R S O reserved (NA flags; NS: reserved)                      |
 *     |                  target address (16 bytes) ...                |
 *     |  options: | type | length (8-byte units) | data ...           |
 *
 * A cache entry moves through the NUD states of RFC 4861 7.3.2 (appendix C):
 *
 *   (none) --packet to send--> INCOMPLETE --NA S=1--> REACHABLE --30 s--> STALE
 *          INCOMPLETE --NA S=0--> STALE     INCOMPLETE --3 NS unanswered--> (none)
 *          STALE --packet sent--> DELAY --5 s--> PROBE --3 NS unanswered--> (none)
 *          DELAY/PROBE --NA S=1--> REACHABLE
 *          any --NS/NA with a new link-layer address--> STALE
 */
#include "ip/ndp.h"

#include <errno.h>
#include <string.h>

#include "ip/icmpv6.h"
#include "ip/ip.h"
#include "ip/ipv6.h"
#include "link/eth.h"
#include "stack/byteorder.h"
#include "stack/pkt.h"
#include "stack/stack.h"

/* Offsets in an NS or NA. */
enum {
	ND_OFF_FLAGS = 4,
	ND_OFF_TARGET = 8,
	ND_OFF_OPTIONS = 24,
};

#define ND_LLA_OPT_LEN 8          /* type, length 1, MAC */
#define ND_MSG_LEN (ND_OFF_OPTIONS + ND_LLA_OPT_LEN)

const char *const ndp_state_name[] = {
	[NDP_FREE] = "FREE",
	[NDP_INCOMPLETE] = "INCOMPLETE",
	[NDP_REACHABLE] = "REACHABLE",
	[NDP_STALE] = "STALE",
	[NDP_DELAY] = "DELAY",
	[NDP_PROBE] = "PROBE",
};

const char *const ip6_addr_state_name[] = {
	[IP6_ADDR_NONE] = "none",
	[IP6_ADDR_TENTATIVE] = "tentative",
	[IP6_ADDR_PREFERRED] = "preferred",
	[IP6_ADDR_DUPLICATE] = "duplicate",
};

static const struct ipaddr ip6_all_nodes = {
	.family = AF_INET6,
	.a = { 0xff, 0x02, [15] = 0x01 },
};

static const struct ipaddr ip6_all_routers = {
	.family = AF_INET6,
	.a = { 0xff, 0x02, [15] = 0x02 },
};

static const struct ipaddr ip6_any = { .family = AF_INET6 };

/* ---- Codec ---- */

/* Parses an NS or NA at buf (len bytes from the ICMPv6 header). RFC 4861
 * 7.1.1 / 7.1.2: code 0, at least 24 bytes, a target that is not multicast,
 * every option with a nonzero length inside the message. The source (NS)
 * or target (NA) link-layer address option is kept. Returns NULL or the
 * reason. */
const char *ndp_parse(const uint8_t *buf, size_t len, uint8_t code, struct ndp_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < ND_OFF_OPTIONS)
		return "ndp.short";
	m->type = buf[0];
	m->flags = be32_get(buf + ND_OFF_FLAGS);
	m->target.family = AF_INET6;
	memcpy(m->target.a, buf + ND_OFF_TARGET, 16);
	if (code != 0)
		return "ndp.bad_code";
	if (ip6_is_multicast(&m->target))
		return "ndp.target_multicast";
	uint8_t want = m->type == ICMP6_NEIGHBOR_SOLICIT ? NDP_OPT_SLLA : NDP_OPT_TLLA;
	for (size_t off = ND_OFF_OPTIONS; off < len;) {
		if (off + 2 > len || buf[off + 1] == 0 || off + (size_t)buf[off + 1] * 8 > len)
			return "ndp.bad_option";
		if (buf[off] == want && buf[off + 1] == 1) {
			m->has_lla = true;
			memcpy(m->lla, buf + off + 2, ETH_ALEN);
		}
		off += (size_t)buf[off + 1] * 8;
	}
	return NULL;
}

/* Builds an NS or NA in a fresh packet: type, flags, target and, when lla
 * is given, the link-layer address option of the right type. The checksum
 * is filled in for src -> dst. Returns the packet or NULL. */
static struct pkt *ndp_build(uint8_t type, uint32_t flags, const struct ipaddr *target,
			     const uint8_t *lla, const struct ipaddr *src, const struct ipaddr *dst)
{
	size_t len = lla ? ND_MSG_LEN : ND_OFF_OPTIONS;
	struct pkt *p = pkt_alloc(len);

	if (!p)
		return NULL;
	uint8_t *buf = pkt_put(p, len);
	memset(buf, 0, len);
	memcpy(buf + ND_OFF_TARGET, target->a, 16);
	if (lla) {
		buf[ND_OFF_OPTIONS] = type == ICMP6_NEIGHBOR_SOLICIT ? NDP_OPT_SLLA : NDP_OPT_TLLA;
		buf[ND_OFF_OPTIONS + 1] = 1;
		memcpy(buf + ND_OFF_OPTIONS + 2, lla, ETH_ALEN);
	}
	struct icmpv6_hdr h = { .type = type, .code = 0, .rest = flags };
	icmpv6_emit(&h, buf, len, src, dst);
	return p;
}

/* ---- Addresses ---- */

/* RFC 4291 2.5.1 and appendix A: the modified EUI-64 of a MAC is its first
 * three bytes with the universal/local bit inverted, ff:fe, then its last
 * three; the link-local address is fe80::/64 followed by it. */
struct ipaddr ndp_linklocal(const uint8_t mac[6])
{
	struct ipaddr a = { .family = AF_INET6 };

	a.a[0] = 0xfe;
	a.a[1] = 0x80;
	a.a[8] = mac[0] ^ 0x02;
	a.a[9] = mac[1];
	a.a[10] = mac[2];
	a.a[11] = 0xff;
	a.a[12] = 0xfe;
	a.a[13] = mac[3];
	a.a[14] = mac[4];
	a.a[15] = mac[5];
	return a;
}

/* The address entry of ifp for a, in any state but NONE, or NULL. */
struct ip6_ifaddr *ndp_addr_find(struct netif *ifp, const struct ipaddr *a)
{
	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->state != IP6_ADDR_NONE && ipaddr_eq(&ia->addr, a))
			return ia;
	}
	return NULL;
}

/* Puts a/prefix on ifp as a tentative address whose DAD starts at once
 * (RFC 4862 5.4). Returns 0, -EEXIST or -ENOSPC. */
static int ndp_addr_insert(struct stack *s, struct netif *ifp, const struct ipaddr *a, int prefix)
{
	char t[IPADDR_STRLEN];

	if (ndp_addr_find(ifp, a))
		return -EEXIST;
	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->state != IP6_ADDR_NONE)
			continue;
		ia->state = IP6_ADDR_TENTATIVE;
		ia->addr = *a;
		ia->prefix = prefix;
		ia->dad_sent = 0;
		ia->dad_next = s->now;
		TRACE(s, "ip6 %s/%d tentative (duplicate address detection)",
		      ipaddr_ntop(a, t, sizeof(t)), prefix);
		return 0;
	}
	return -ENOSPC;
}

/* See ndp.h. */
int ndp_if_enable(struct stack *s, struct netif *ifp)
{
	if (ifp->ip6.on)
		return 0;
	ifp->ip6.on = true;
	ifp->ip6.solicit_routers = true;
	ifp->ip6.rs_sent = 0;
	ifp->ip6.rs_next = INT64_MAX;
	struct ipaddr ll = ndp_linklocal(ifp->mac);
	return ndp_addr_insert(s, ifp, &ll, 64);
}

/* See ndp.h. */
int ndp_addr_add(struct stack *s, struct netif *ifp, const struct ipaddr *a, int prefix)
{
	if (a->family != AF_INET6 || prefix < 0 || prefix > 128 || ip6_is_multicast(a) ||
	    ip6_is_unspecified(a))
		return -EINVAL;
	int err = ndp_if_enable(s, ifp);
	if (err < 0)
		return err;
	err = ndp_addr_insert(s, ifp, a, prefix);
	if (err < 0 || ip6_is_linklocal(a))
		return err;
	struct route r = {
		.prefix = *a, .len = prefix, .ifindex = ifp->index, .origin = "connected",
	};
	err = route_add(&s->routes, &r);
	return err == -EEXIST ? 0 : err;
}

/* See ndp.h: the all-nodes group and the solicited-node group of every
 * address, tentative ones included (RFC 4862 5.4.2). */
bool ndp_joined(const struct netif *ifp, const struct ipaddr *g)
{
	if (!ifp->ip6.on)
		return false;
	if (ipaddr_eq(g, &ip6_all_nodes))
		return true;
	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		const struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->state == IP6_ADDR_NONE)
			continue;
		struct ipaddr sn = ip6_solicited_node(&ia->addr);
		if (ipaddr_eq(g, &sn))
			return true;
	}
	return false;
}

/* See ndp.h: the group MACs of the groups ndp_joined() accepts. */
bool ndp_joined_mac(const struct netif *ifp, const uint8_t mac[6])
{
	uint8_t m[ETH_ALEN];

	if (!ifp->ip6.on)
		return false;
	ip6_mcast_mac(&ip6_all_nodes, m);
	if (memcmp(m, mac, ETH_ALEN) == 0)
		return true;
	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		const struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->state == IP6_ADDR_NONE)
			continue;
		struct ipaddr sn = ip6_solicited_node(&ia->addr);
		ip6_mcast_mac(&sn, m);
		if (memcmp(m, mac, ETH_ALEN) == 0)
			return true;
	}
	return false;
}

/* ---- The cache ---- */

/* Empties one slot, freeing what waits in it. */
static void ndp_entry_clear(struct ndp_entry *e)
{
	pktq_purge(&e->pending);
	memset(e, 0, sizeof(*e));
	e->state = NDP_FREE;
	e->timer = INT64_MAX;
}

void ndp_cache_init(struct ndp_cache *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < NDP_CACHE_SIZE; i++)
		ndp_entry_clear(&c->e[i]);
}

void ndp_cache_flush(struct ndp_cache *c)
{
	for (int i = 0; i < NDP_CACHE_SIZE; i++)
		ndp_entry_clear(&c->e[i]);
}

struct ndp_entry *ndp_cache_lookup(struct ndp_cache *c, const struct ipaddr *ip)
{
	for (int i = 0; i < NDP_CACHE_SIZE; i++)
		if (c->e[i].state != NDP_FREE && ipaddr_eq(&c->e[i].ip, ip))
			return &c->e[i];
	return NULL;
}

/* Sets e's state with its next deadline: INCOMPLETE and PROBE retransmit
 * after NDP_RETRANS_US, REACHABLE lasts NDP_REACHABLE_US, DELAY waits
 * NDP_DELAY_US, STALE has none (RFC 4861 7.3.2). Traces the change. */
static void ndp_set_state(struct stack *s, struct ndp_entry *e, enum ndp_state st)
{
	char a[IPADDR_STRLEN];

	if (e->state != st)
		TRACE(s, "ndp %s %s -> %s", ipaddr_ntop(&e->ip, a, sizeof(a)),
		      ndp_state_name[e->state], ndp_state_name[st]);
	e->state = st;
	switch (st) {
	case NDP_INCOMPLETE:
	case NDP_PROBE:
		e->timer = s->now + NDP_RETRANS_US;
		break;
	case NDP_REACHABLE:
		e->confirmed = s->now;
		e->timer = s->now + NDP_REACHABLE_US;
		break;
	case NDP_DELAY:
		e->timer = s->now + NDP_DELAY_US;
		break;
	default:
		e->timer = INT64_MAX;
		break;
	}
}

/* Frees e, dropping what waited in it under reason. */
static void ndp_entry_free(struct stack *s, struct ndp_entry *e, const char *reason)
{
	char a[IPADDR_STRLEN];
	struct pkt *q;

	while ((q = pktq_pop(&e->pending)) != NULL)
		stack_drop(s, q, reason, "waiting for %s", ipaddr_ntop(&e->ip, a, sizeof(a)));
	ndp_entry_clear(e);
}

/* A free slot for ip on ifp, recycling the least recently used entry when
 * the cache is full ("ndp.cache_evict"). Never fails; the entry is FREE. */
static struct ndp_entry *ndp_cache_alloc(struct stack *s, struct netif *ifp,
					 const struct ipaddr *ip)
{
	struct ndp_entry *lru = NULL;

	for (int i = 0; i < NDP_CACHE_SIZE; i++) {
		struct ndp_entry *e = &s->ndp.e[i];
		if (e->state == NDP_FREE) {
			lru = e;
			break;
		}
		if (!lru || e->used < lru->used)
			lru = e;
	}
	if (lru->state != NDP_FREE) {
		stats_inc(&s->stats, "ndp.cache_evict");
		ndp_entry_free(s, lru, "ndp.evicted_pending");
	}
	lru->ip = *ip;
	lru->ifindex = ifp->index;
	lru->used = s->now;
	return lru;
}

/* ---- Sending ---- */

/* Sends a neighbor solicitation for target on ifp (RFC 4861 7.2.2): to
 * its solicited-node group, or unicast when dst_mac is known (a NUD probe);
 * from :: with no link-layer option for DAD (RFC 4862 5.4.2), else from one
 * of our preferred addresses with our MAC as the source link-layer option.
 * Hop limit 255. */
static void ndp_send_ns(struct stack *s, struct netif *ifp, const struct ipaddr *target,
			bool unicast, bool dad)
{
	char a[IPADDR_STRLEN];
	struct ipaddr src = ip6_any, dst = unicast ? *target : ip6_solicited_node(target);

	if (!dad && ipv6_select_source(s, ifp, target, &src) < 0) {
		stack_drop(s, NULL, "ndp.no_source", "for NS to %s",
			   ipaddr_ntop(target, a, sizeof(a)));
		return;
	}
	struct pkt *p = ndp_build(ICMP6_NEIGHBOR_SOLICIT, 0, target, dad ? NULL : ifp->mac, &src,
				  &dst);
	if (!p) {
		stack_drop(s, NULL, "ndp.no_buffer", NULL);
		return;
	}
	stats_inc(&s->stats, dad ? "ndp.tx_dad" : "ndp.tx_ns");
	TRACE(s, "tx NS who-has %s%s%s", ipaddr_ntop(target, a, sizeof(a)),
	      dad ? " (DAD, from ::)" : "", unicast ? " (unicast probe)" : "");
	ipv6_output_if(s, ifp, p, &src, &dst, IP6_NH_ICMPV6, NDP_HOP_LIMIT);
}

/* Sends a neighbor advertisement for our address target to dst (RFC 4861
 * 7.2.4): S set when answering a unicast-sourced NS, O set (the address is
 * not anycast), R clear (a host), our MAC as target link-layer option. */
static void ndp_send_na(struct stack *s, struct netif *ifp, const struct ipaddr *target,
			const struct ipaddr *dst, bool solicited)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	uint32_t flags = NDP_NA_OVERRIDE | (solicited ? NDP_NA_SOLICITED : 0);
	struct pkt *p = ndp_build(ICMP6_NEIGHBOR_ADVERT, flags, target, ifp->mac, target, dst);

	if (!p) {
		stack_drop(s, NULL, "ndp.no_buffer", NULL);
		return;
	}
	stats_inc(&s->stats, "ndp.tx_na");
	TRACE(s, "tx NA %s is-at ours to %s%s", ipaddr_ntop(target, a, sizeof(a)),
	      ipaddr_ntop(dst, b, sizeof(b)), solicited ? " (solicited, override)" : " (override)");
	ipv6_output_if(s, ifp, p, target, dst, IP6_NH_ICMPV6, NDP_HOP_LIMIT);
}

/* Sends the packets waiting in e to its MAC, oldest first. */
static void ndp_send_pending(struct stack *s, struct netif *ifp, struct ndp_entry *e)
{
	struct pkt *q;

	while ((q = pktq_pop(&e->pending)) != NULL) {
		e->used = s->now;
		eth_output(s, ifp, q, e->mac, ETH_TYPE_IPV6);
	}
}

/* See ndp.h. RFC 4861 7.2.2: an unknown neighbor gets an INCOMPLETE entry,
 * p waits (at most NDP_PENDING_MAX packets, the oldest dropped first) and a
 * multicast NS goes out; RFC 4861 7.3.3: a STALE entry is used and moves to
 * DELAY. Consumes p. */
int ndp_output(struct stack *s, struct netif *ifp, struct pkt *p, const struct ipaddr *nexthop)
{
	char a[IPADDR_STRLEN];
	struct ndp_entry *e = ndp_cache_lookup(&s->ndp, nexthop);

	if (!e) {
		e = ndp_cache_alloc(s, ifp, nexthop);
		ndp_set_state(s, e, NDP_INCOMPLETE);
		pktq_push(&e->pending, p);
		e->probes = 1;
		ndp_send_ns(s, ifp, nexthop, false, false);
		return 0;
	}
	if (e->state == NDP_INCOMPLETE) {
		if (e->pending.count >= NDP_PENDING_MAX)
			stack_drop(s, pktq_pop(&e->pending), "ndp.pending_overflow",
				   "waiting for %s", ipaddr_ntop(nexthop, a, sizeof(a)));
		pktq_push(&e->pending, p);
		return 0;
	}
	if (e->state == NDP_STALE)
		ndp_set_state(s, e, NDP_DELAY);
	e->used = s->now;
	return eth_output(s, ifp, p, e->mac, ETH_TYPE_IPV6);
}

/* ---- Receiving ---- */

/* RFC 4862 5.4.5: another node owns ia's address; it is never used. */
static void ndp_dad_failed(struct stack *s, struct ip6_ifaddr *ia, const char *how)
{
	char a[IPADDR_STRLEN];

	ia->state = IP6_ADDR_DUPLICATE;
	ia->dad_next = INT64_MAX;
	stats_inc(&s->stats, "ndp.dad_duplicate");
	TRACE(s, "warning: ip6 %s is a duplicate (%s); not used",
	      ipaddr_ntop(&ia->addr, a, sizeof(a)), how);
}

/* RFC 4861 7.2.3: an NS with a source link-layer address creates a STALE
 * entry for its sender, or updates one whose address changed (to STALE). */
static void ndp_learn_from_ns(struct stack *s, struct netif *ifp, const struct ipaddr *ip,
			      const uint8_t mac[6])
{
	struct ndp_entry *e = ndp_cache_lookup(&s->ndp, ip);

	if (!e) {
		e = ndp_cache_alloc(s, ifp, ip);
		memcpy(e->mac, mac, ETH_ALEN);
		ndp_set_state(s, e, NDP_STALE);
		return;
	}
	if (e->state == NDP_INCOMPLETE) {
		memcpy(e->mac, mac, ETH_ALEN);
		ndp_set_state(s, e, NDP_STALE);
		ndp_send_pending(s, ifp, e);
	} else if (memcmp(e->mac, mac, ETH_ALEN) != 0) {
		memcpy(e->mac, mac, ETH_ALEN);
		ndp_set_state(s, e, NDP_STALE);
	}
}

/* Handles a valid NS (RFC 4861 7.2.3, RFC 4862 5.4.3). Consumes p. */
static void ndp_ns_input(struct stack *s, struct netif *ifp, struct pkt *p,
			 const struct ip_rx *rx, const struct ndp_msg *m)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	const char *reason;
	struct ip6_ifaddr *ia = ndp_addr_find(ifp, &m->target);
	bool from_any = ip6_is_unspecified(&rx->src);

	ipaddr_ntop(&m->target, a, sizeof(a));
	ipaddr_ntop(&rx->src, b, sizeof(b));
	stats_inc(&s->stats, "ndp.rx_ns");
	TRACE(s, "rx NS who-has %s from %s", a, b);
	if (!ia || ia->state == IP6_ADDR_DUPLICATE) {
		reason = "ndp.not_our_target";
		goto drop;
	}
	if (ia->state == IP6_ADDR_TENTATIVE) {
		/* RFC 4862 5.4.3: someone else is checking the same address */
		if (from_any) {
			ndp_dad_failed(s, ia, "another node probes it");
			pkt_free(p);
			return;
		}
		reason = "ndp.target_tentative";
		goto drop;
	}
	if (from_any) {
		/* RFC 4861 7.2.4: answer a DAD probe to all nodes, S clear */
		ndp_send_na(s, ifp, &m->target, &ip6_all_nodes, false);
	} else {
		if (m->has_lla)
			ndp_learn_from_ns(s, ifp, &rx->src, m->lla);
		ndp_send_na(s, ifp, &m->target, &rx->src, true);
	}
	pkt_free(p);
	return;
drop:
	stack_drop(s, p, reason, "target %s from %s", a, b);
}

/* Handles a valid NA (RFC 4861 7.2.5, RFC 4862 5.4.4). Consumes p. */
static void ndp_na_input(struct stack *s, struct netif *ifp, struct pkt *p,
			 const struct ip_rx *rx, const struct ndp_msg *m)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	const char *reason;
	struct ip6_ifaddr *ia = ndp_addr_find(ifp, &m->target);
	bool solicited = m->flags & NDP_NA_SOLICITED, override = m->flags & NDP_NA_OVERRIDE;

	ipaddr_ntop(&m->target, a, sizeof(a));
	ipaddr_ntop(&rx->src, b, sizeof(b));
	stats_inc(&s->stats, "ndp.rx_na");
	TRACE(s, "rx NA %s from %s%s%s%s", a, b, solicited ? " S" : "", override ? " O" : "",
	      m->flags & NDP_NA_ROUTER ? " R" : "");
	if (ia && ia->state == IP6_ADDR_TENTATIVE) {
		ndp_dad_failed(s, ia, "another node advertises it");
		pkt_free(p);
		return;
	}
	if (ia) {
		reason = "ndp.address_conflict";
		goto drop;
	}
	struct ndp_entry *e = ndp_cache_lookup(&s->ndp, &m->target);
	if (!e) {
		/* RFC 4861 7.2.5: no entry, the advertisement is unsolicited */
		reason = "ndp.unsolicited_na";
		goto drop;
	}
	if (e->state == NDP_INCOMPLETE) {
		if (!m->has_lla) {
			reason = "ndp.na_without_lla";
			goto drop;
		}
		memcpy(e->mac, m->lla, ETH_ALEN);
		e->router = m->flags & NDP_NA_ROUTER;
		ndp_set_state(s, e, solicited ? NDP_REACHABLE : NDP_STALE);
		ndp_send_pending(s, ifp, e);
		pkt_free(p);
		return;
	}
	bool changed = m->has_lla && memcmp(e->mac, m->lla, ETH_ALEN) != 0;
	if (!override && changed) {
		/* RFC 4861 7.2.5: keep the address we have; a REACHABLE
		 * entry becomes STALE */
		if (e->state == NDP_REACHABLE)
			ndp_set_state(s, e, NDP_STALE);
		reason = "ndp.na_not_override";
		goto drop;
	}
	if (m->has_lla)
		memcpy(e->mac, m->lla, ETH_ALEN);
	e->router = m->flags & NDP_NA_ROUTER;
	if (solicited)
		ndp_set_state(s, e, NDP_REACHABLE);
	else if (changed)
		ndp_set_state(s, e, NDP_STALE);
	pkt_free(p);
	return;
drop:
	stack_drop(s, p, reason, "target %s from %s", a, b);
}

/* Removes the route of the RA entry ra and frees the entry. */
static void ndp_ra_route_free(struct stack *s, struct ndp_ra_route *ra)
{
	char a[IPADDR_STRLEN];

	TRACE(s, "ndp route %s/%d from RA removed", ipaddr_ntop(&ra->r.prefix, a, sizeof(a)),
	      ra->r.len);
	route_del(&s->routes, &ra->r.prefix, ra->r.len, &ra->r.gw);
	memset(ra, 0, sizeof(*ra));
}

/* Offsets in a router advertisement (RFC 4861 4.2) and its prefix
 * information option (4.6.2). */
enum {
	RA_OFF_HOPS = 4,
	RA_OFF_FLAGS = 5,
	RA_OFF_LIFETIME = 6,
	RA_OFF_OPTIONS = 16,
	PI_OFF_LEN = 2,
	PI_OFF_FLAGS = 3,
	PI_OFF_VALID = 4,
	PI_OFF_PREFIX = 16,
	PI_SIZE = 32,
};

/* Learns, refreshes or (lifetime 0) forgets the route r from an RA, for
 * lifetime seconds (0xffffffff: for ever, RFC 4861 4.6.2). */
static void ndp_ra_route_set(struct stack *s, const struct route *r, uint32_t lifetime)
{
	char a[IPADDR_STRLEN];
	struct ndp_ra_route *ra = NULL, *free_ra = NULL;

	for (int i = 0; i < NDP_RA_ROUTES; i++) {
		struct ndp_ra_route *x = &s->ndp.ra[i];
		if (!x->used) {
			if (!free_ra)
				free_ra = x;
		} else if (x->r.len == r->len && ipaddr_eq(&x->r.prefix, &r->prefix) &&
			   ipaddr_eq(&x->r.gw, &r->gw)) {
			ra = x;
		}
	}
	if (lifetime == 0) {
		if (ra)
			ndp_ra_route_free(s, ra);
		return;
	}
	if (!ra) {
		if (!free_ra) {
			stack_drop(s, NULL, "ndp.ra_routes_full", NULL);
			return;
		}
		ra = free_ra;
		ra->used = true;
		ra->r = *r;
		ipaddr_mask(&ra->r.prefix, r->len);
		int err = route_add(&s->routes, &ra->r);
		if (err < 0 && err != -EEXIST) {
			memset(ra, 0, sizeof(*ra));
			stack_drop(s, NULL, "ndp.ra_route_refused", NULL);
			return;
		}
		TRACE(s, "ndp route %s/%d%s from RA", ipaddr_ntop(&ra->r.prefix, a, sizeof(a)),
		      ra->r.len, r->gw.family ? " via the router" : " on-link");
	}
	ra->expires = lifetime == 0xffffffffu ? INT64_MAX : s->now + (int64_t)lifetime * 1000000;
}

/* Handles a router advertisement (RFC 4861 6.1.2 validation, 6.3.4
 * processing): a router lifetime gives a default route via the router, a
 * prefix information option with L set an on-link route, a source
 * link-layer option a neighbor entry. Not yet: SLAAC from the A flag,
 * the MTU option, and the hop limit, reachable and retransmit times.
 * Consumes p. */
static void ndp_ra_input(struct stack *s, struct netif *ifp, struct pkt *p,
			 const struct ip_rx *rx)
{
	char a[IPADDR_STRLEN];
	const char *reason;
	const uint8_t *buf = p->data;
	size_t len = p->len;

	ipaddr_ntop(&rx->src, a, sizeof(a));
	stats_inc(&s->stats, "ndp.rx_ra");
	/* RFC 4861 6.1.2: from a link-local address, code 0, 16 bytes or more,
	 * options of nonzero length inside the message */
	if (!ip6_is_linklocal(&rx->src)) {
		reason = "ndp.ra_bad_source";
		goto drop;
	}
	if (len < RA_OFF_OPTIONS) {
		reason = "ndp.short";
		goto drop;
	}
	if (buf[1] != 0) {
		reason = "ndp.bad_code";
		goto drop;
	}
	for (size_t off = RA_OFF_OPTIONS; off < len; off += (size_t)buf[off + 1] * 8) {
		if (off + 2 > len || buf[off + 1] == 0 || off + (size_t)buf[off + 1] * 8 > len) {
			reason = "ndp.bad_option";
			goto drop;
		}
	}
	uint16_t lifetime = be16_get(buf + RA_OFF_LIFETIME);
	TRACE(s, "rx RA from %s router lifetime %us hop limit %u flags 0x%02x", a, lifetime,
	      buf[RA_OFF_HOPS], buf[RA_OFF_FLAGS]);
	ifp->ip6.rs_next = INT64_MAX; /* RFC 4861 6.3.7: an answer: stop asking */

	/* RFC 4861 6.3.4: the router lifetime says how long it is a default
	 * router (0: not one) */
	struct route def = { .prefix = ip6_any, .len = 0, .gw = rx->src, .ifindex = ifp->index,
			     .metric = 1024, .origin = "ra" };
	ndp_ra_route_set(s, &def, lifetime);

	for (size_t off = RA_OFF_OPTIONS; off < len; off += (size_t)buf[off + 1] * 8) {
		const uint8_t *o = buf + off;
		if (o[0] == NDP_OPT_SLLA && o[1] == 1) {
			ndp_learn_from_ns(s, ifp, &rx->src, o + 2);
			struct ndp_entry *e = ndp_cache_lookup(&s->ndp, &rx->src);
			if (e)
				e->router = true;
		} else if (o[0] == NDP_OPT_PREFIX && o[1] * 8 == PI_SIZE) {
			struct route r = { .prefix = { .family = AF_INET6 }, .len = o[PI_OFF_LEN],
					   .ifindex = ifp->index, .metric = 256, .origin = "ra" };
			memcpy(r.prefix.a, o + PI_OFF_PREFIX, 16);
			/* RFC 4861 6.3.4: a link-local prefix or L clear is
			 * not an on-link prefix; an invalid length is ignored */
			if (!(o[PI_OFF_FLAGS] & NDP_PREFIX_ONLINK) || ip6_is_linklocal(&r.prefix) ||
			    r.len > 128)
				continue;
			ndp_ra_route_set(s, &r, be32_get(o + PI_OFF_VALID));
			if (o[PI_OFF_FLAGS] & NDP_PREFIX_AUTO)
				TRACE(s, "ndp prefix %s/%d allows SLAAC (not yet done)",
				      ipaddr_ntop(&r.prefix, a, sizeof(a)), r.len);
		}
	}
	pkt_free(p);
	return;
drop:
	stack_drop(s, p, reason, "from %s", a);
}

/* See ndp.h. RFC 4861 7.1.1 / 7.1.2 validation, then the message's rules.
 * Consumes p. */
void ndp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *rx)
{
	struct ndp_msg m;
	const char *reason;
	char a[IPADDR_STRLEN];
	uint8_t code = p->len > 1 ? p->data[1] : 0;

	/* RFC 4861 7.1: hop limit 255 proves the message was not forwarded */
	if (rx->ttl != NDP_HOP_LIMIT) {
		reason = "ndp.bad_hop_limit";
		goto drop;
	}
	if (p->data[0] == ICMP6_ROUTER_ADVERT) {
		ndp_ra_input(s, ifp, p, rx);
		return;
	}
	reason = ndp_parse(p->data, p->len, code, &m);
	if (reason)
		goto drop;
	if (m.type == ICMP6_NEIGHBOR_SOLICIT) {
		/* RFC 4861 7.1.1: from :: only to a solicited-node group,
		 * and then without a source link-layer address */
		if (ip6_is_unspecified(&rx->src)) {
			struct ipaddr sn = ip6_solicited_node(&m.target);
			if (!ipaddr_eq(&rx->dst, &sn) || m.has_lla) {
				reason = "ndp.bad_dad_probe";
				goto drop;
			}
		}
		ndp_ns_input(s, ifp, p, rx, &m);
		return;
	}
	/* RFC 4861 7.1.2: to a group, the solicited flag must be clear */
	if (ip6_is_multicast(&rx->dst) && (m.flags & NDP_NA_SOLICITED)) {
		reason = "ndp.solicited_to_multicast";
		goto drop;
	}
	ndp_na_input(s, ifp, p, rx, &m);
	return;
drop:
	stack_drop(s, p, reason, "from %s", ipaddr_ntop(&rx->src, a, sizeof(a)));
}

/* ---- Timers ---- */

/* Runs one due deadline of e (RFC 4861 7.3.3 and appendix C). */
static void ndp_entry_expire(struct stack *s, struct ndp_entry *e)
{
	struct netif *ifp = stack_netif(s, e->ifindex);
	char a[IPADDR_STRLEN];

	switch (e->state) {
	case NDP_INCOMPLETE:
	case NDP_PROBE: {
		int max = e->state == NDP_INCOMPLETE ? NDP_MAX_MULTICAST_SOLICIT :
						       NDP_MAX_UNICAST_SOLICIT;
		if (e->probes < max && ifp) {
			e->probes++;
			e->timer = s->now + NDP_RETRANS_US;
			ndp_send_ns(s, ifp, &e->ip, e->state == NDP_PROBE, false);
			return;
		}
		stats_inc(&s->stats, "ndp.unreachable");
		TRACE(s, "ndp %s %s -> gone (%d solicitations unanswered)",
		      ipaddr_ntop(&e->ip, a, sizeof(a)), ndp_state_name[e->state], e->probes);
		ndp_entry_free(s, e, "ndp.unresolved");
		return;
	}
	case NDP_REACHABLE:
		ndp_set_state(s, e, NDP_STALE);
		return;
	case NDP_DELAY:
		/* RFC 4861 7.3.3: no upper-layer confirmation came: probe */
		ndp_set_state(s, e, NDP_PROBE);
		e->probes = 1;
		if (ifp)
			ndp_send_ns(s, ifp, &e->ip, true, false);
		return;
	default:
		e->timer = INT64_MAX;
		return;
	}
}

/* Runs the DAD of each tentative address of ifp that is due: a
 * solicitation from :: (RFC 4862 5.4.2) until NDP_DAD_TRANSMITS have gone,
 * then, one RetransTimer later with no answer, the address is preferred. */
static void ndp_dad_timer(struct stack *s, struct netif *ifp)
{
	char a[IPADDR_STRLEN];

	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->state != IP6_ADDR_TENTATIVE || ia->dad_next > s->now)
			continue;
		if (ia->dad_sent < NDP_DAD_TRANSMITS) {
			ia->dad_sent++;
			ia->dad_next = s->now + NDP_RETRANS_US;
			ndp_send_ns(s, ifp, &ia->addr, false, true);
			continue;
		}
		ia->state = IP6_ADDR_PREFERRED;
		ia->dad_next = INT64_MAX;
		stats_inc(&s->stats, "ndp.dad_ok");
		TRACE(s, "ip6 %s/%d preferred (no duplicate found)",
		      ipaddr_ntop(&ia->addr, a, sizeof(a)), ia->prefix);
		/* RFC 4861 6.3.7: with a usable link-local address, ask for
		 * routers (the DAD second stands for the random delay) */
		if (ip6_is_linklocal(&ia->addr) && ifp->ip6.solicit_routers &&
		    ifp->ip6.rs_sent == 0)
			ifp->ip6.rs_next = s->now;
	}
}

/* Sends a router solicitation from our link-local address to all routers
 * with our MAC as source link-layer option (RFC 4861 4.1, 6.3.7). */
static void ndp_send_rs(struct stack *s, struct netif *ifp)
{
	struct ipaddr src;
	const size_t len = ICMP6_HDR_LEN + ND_LLA_OPT_LEN;

	if (ipv6_select_source(s, ifp, &ip6_all_routers, &src) < 0) {
		stack_drop(s, NULL, "ndp.no_source", "for RS");
		return;
	}
	struct pkt *p = pkt_alloc(len);
	if (!p) {
		stack_drop(s, NULL, "ndp.no_buffer", NULL);
		return;
	}
	uint8_t *buf = pkt_put(p, len);
	buf[ICMP6_HDR_LEN] = NDP_OPT_SLLA;
	buf[ICMP6_HDR_LEN + 1] = 1;
	memcpy(buf + ICMP6_HDR_LEN + 2, ifp->mac, ETH_ALEN);
	struct icmpv6_hdr h = { .type = ICMP6_ROUTER_SOLICIT };
	icmpv6_emit(&h, buf, len, &src, &ip6_all_routers);
	stats_inc(&s->stats, "ndp.tx_rs");
	TRACE(s, "tx RS (router solicitation %d of %d)", ifp->ip6.rs_sent, NDP_MAX_RTR_SOLICIT);
	ipv6_output_if(s, ifp, p, &src, &ip6_all_routers, IP6_NH_ICMPV6, NDP_HOP_LIMIT);
}

/* Sends the router solicitation of ifp that is due: at most
 * NDP_MAX_RTR_SOLICIT, NDP_RTR_SOLICIT_US apart, until an RA comes. */
static void ndp_rs_timer(struct stack *s, struct netif *ifp)
{
	if (ifp->ip6.rs_next > s->now)
		return;
	ifp->ip6.rs_sent++;
	ifp->ip6.rs_next = ifp->ip6.rs_sent < NDP_MAX_RTR_SOLICIT ? s->now + NDP_RTR_SOLICIT_US :
								   INT64_MAX;
	ndp_send_rs(s, ifp);
}

/* Runs out the lifetimes of routes learned from RAs. */
static void ndp_ra_timer(struct stack *s)
{
	for (int i = 0; i < NDP_RA_ROUTES; i++) {
		struct ndp_ra_route *ra = &s->ndp.ra[i];
		if (ra->used && ra->expires <= s->now) {
			stats_inc(&s->stats, "ndp.ra_route_expired");
			ndp_ra_route_free(s, ra);
		}
	}
}

/* See ndp.h. */
void ndp_timer(struct stack *s)
{
	for (int i = 0; i < s->nifs; i++) {
		if (!s->ifs[i].ip6.on)
			continue;
		ndp_dad_timer(s, &s->ifs[i]);
		ndp_rs_timer(s, &s->ifs[i]);
	}
	ndp_ra_timer(s);
	for (int i = 0; i < NDP_CACHE_SIZE; i++) {
		struct ndp_entry *e = &s->ndp.e[i];
		for (int n = 0; n < 4 && e->state != NDP_FREE && e->timer <= s->now; n++)
			ndp_entry_expire(s, e);
	}
}

/* See ndp.h. One pass over the addresses and the cache. */
int64_t ndp_next_deadline(struct stack *s)
{
	int64_t t = INT64_MAX;

	for (int i = 0; i < s->nifs; i++) {
		if (!s->ifs[i].ip6.on)
			continue;
		for (int j = 0; j < NDP_IF_ADDRS; j++) {
			const struct ip6_ifaddr *ia = &s->ifs[i].ip6.addr[j];
			if (ia->state == IP6_ADDR_TENTATIVE && ia->dad_next < t)
				t = ia->dad_next;
		}
		if (s->ifs[i].ip6.rs_next < t)
			t = s->ifs[i].ip6.rs_next;
	}
	for (int i = 0; i < NDP_RA_ROUTES; i++)
		if (s->ndp.ra[i].used && s->ndp.ra[i].expires < t)
			t = s->ndp.ra[i].expires;
	for (int i = 0; i < NDP_CACHE_SIZE; i++)
		if (s->ndp.e[i].state != NDP_FREE && s->ndp.e[i].timer < t)
			t = s->ndp.e[i].timer;
	return t;
}

/* See ndp.h. Age counts from the last confirmation (from the last use for
 * an entry never confirmed). */
void ndp_cache_dump(const struct ndp_cache *c, int64_t now, FILE *out, ifname_fn ifname,
		    void *ctx)
{
	char a[IPADDR_STRLEN], mac[ETH_MAC_STRLEN], dev[16];

	for (int i = 0; i < NDP_CACHE_SIZE; i++) {
		const struct ndp_entry *e = &c->e[i];
		if (e->state == NDP_FREE)
			continue;
		if (ifname)
			snprintf(dev, sizeof(dev), "%s", ifname(ctx, e->ifindex));
		else
			snprintf(dev, sizeof(dev), "if%d", e->ifindex);
		fprintf(out, "%s dev %s ", ipaddr_ntop(&e->ip, a, sizeof(a)), dev);
		if (e->state != NDP_INCOMPLETE)
			fprintf(out, "lladdr %s ", mac_ntop(e->mac, mac));
		if (e->router)
			fprintf(out, "router ");
		int64_t since = e->confirmed ? e->confirmed : e->used;
		fprintf(out, "%s age %.1fs queued %zu\n", ndp_state_name[e->state],
			(double)(now - since) / 1e6, e->pending.count);
	}
}

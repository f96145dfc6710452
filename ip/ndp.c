/* Neighbor discovery (RFC 4861) for IPv6 over Ethernet: the message codec,
 * the neighbor cache with its NUD states on virtual time, sending and
 * receiving neighbor solicitations and advertisements, router solicitations
 * and advertisements (routes, hop limit, MTU, timers). See ndp.h. The
 * addresses themselves (link-local, static, SLAAC, DAD, lifetimes) are in
 * ip/slaac.c; redirects (RFC 4861 8) are ignored in ip/icmpv6.c.
 *
 * Call map:
 *   received  icmpv6_input -> ndp_input -> ndp_ns_input, ndp_na_input or
 *                                          ndp_ra_input
 *             ndp_ns_input -> ndp_learn_from_ns, ndp_send_na
 *             ndp_na_input -> the entry's new state, ndp_send_pending
 *             (both: a conflict with a tentative address of ours ->
 *              ndp_dad_failed, ip/slaac.c)
 *             ndp_ra_input -> ndp_ra_params, ndp_ra_mtu, ndp_ra_route_set,
 *                             ndp_slaac_prefix (ip/slaac.c)
 *   sent      ipv6_output -> ndp_output -> eth_output (a usable entry) or
 *                                          a queue and ndp_send_ns
 *   timers    stack_poll -> ndp_timer -> ndp_lifetime_timer (ip/slaac.c),
 *                           mld_timer, ndp_dad_timer (ip/slaac.c),
 *                           ndp_rs_timer, ndp_ra_timer, ndp_entry_expire
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
#include "ip/mld.h"
#include "ip/slaac.h"
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

/* ---- Interface parameters (RFC 4861 6.3.2, learned from RAs) ---- */

/* See ndp.h. */
unsigned ndp_link_mtu(const struct netif *ifp)
{
	return ifp->ip6.mtu ? ifp->ip6.mtu : ifp->mtu;
}

/* See ndp.h. */
uint8_t ndp_hop_limit(const struct netif *ifp)
{
	return ifp->ip6.cur_hop_limit ? ifp->ip6.cur_hop_limit : IPV6_DEFAULT_HOPS;
}

/* See ndp.h. */
int64_t ndp_retrans_us(const struct netif *ifp)
{
	return ifp && ifp->ip6.retrans_us ? ifp->ip6.retrans_us : NDP_RETRANS_US;
}

int64_t ndp_reachable_us(const struct netif *ifp)
{
	return ifp && ifp->ip6.reachable_us ? ifp->ip6.reachable_us : NDP_REACHABLE_US;
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
 * after RetransTimer, REACHABLE lasts ReachableTime (NDP_RETRANS_US and
 * NDP_REACHABLE_US unless an RA said otherwise), DELAY waits
 * NDP_DELAY_US, STALE has none (RFC 4861 7.3.2). Traces the change. */
static void ndp_set_state(struct stack *s, struct ndp_entry *e, enum ndp_state st)
{
	char a[IPADDR_STRLEN];

	if (e->state != st)
		TRACE(s, "ndp %s %s -> %s", ipaddr_ntop(&e->ip, a, sizeof(a)),
		      ndp_state_name[e->state], ndp_state_name[st]);
	struct netif *ifp = stack_netif(s, e->ifindex);

	e->state = st;
	switch (st) {
	case NDP_INCOMPLETE:
	case NDP_PROBE:
		e->timer = s->now + ndp_retrans_us(ifp);
		break;
	case NDP_REACHABLE:
		e->confirmed = s->now;
		e->timer = s->now + ndp_reachable_us(ifp);
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

/* See ndp.h. Sends a neighbor solicitation for target on ifp (RFC 4861
 * 7.2.2): to its solicited-node group, or unicast to target (a NUD probe);
 * from :: with no link-layer option for DAD (RFC 4862 5.4.2), else from one
 * of our preferred addresses with our MAC as the source link-layer option.
 * Hop limit 255. */
void ndp_send_ns(struct stack *s, struct netif *ifp, const struct ipaddr *target, bool unicast,
		 bool dad)
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
 * not anycast), R set on a router (--forward, RFC 4861 4.4) and clear on a
 * host, our MAC as target link-layer option. */
static void ndp_send_na(struct stack *s, struct netif *ifp, const struct ipaddr *target,
			const struct ipaddr *dst, bool solicited)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	uint32_t flags = NDP_NA_OVERRIDE | (solicited ? NDP_NA_SOLICITED : 0) |
			 (s->ip_forward ? NDP_NA_ROUTER : 0);
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
			ndp_dad_failed(s, ifp, ia, "another node probes it");
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
		ndp_dad_failed(s, ifp, ia, "another node advertises it");
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
	RA_OFF_REACHABLE = 8,
	RA_OFF_RETRANS = 12,
	RA_OFF_OPTIONS = 16,
	PI_OFF_LEN = 2,
	PI_OFF_FLAGS = 3,
	PI_OFF_VALID = 4,
	PI_OFF_PREFERRED = 8,
	PI_OFF_PREFIX = 16,
	PI_SIZE = 32,
	MTU_OFF_MTU = 4,
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

/* RFC 4861 6.3.4: the RA's Cur Hop Limit, Reachable Time and Retrans
 * Timer, each when nonzero (0: unspecified by this router). */
static void ndp_ra_params(struct stack *s, struct netif *ifp, const uint8_t *buf)
{
	uint8_t hops = buf[RA_OFF_HOPS];
	uint32_t reachable = be32_get(buf + RA_OFF_REACHABLE);
	uint32_t retrans = be32_get(buf + RA_OFF_RETRANS);

	if (hops && hops != ifp->ip6.cur_hop_limit) {
		ifp->ip6.cur_hop_limit = hops;
		TRACE(s, "ndp CurHopLimit %u from RA", hops);
	}
	if (reachable > NDP_MAX_REACHABLE_MS) {
		/* RFC 4861 6.2.1: no router may advertise more than an hour */
		stack_drop(s, NULL, "ndp.ra_bad_reachable", "%u ms", reachable);
	} else if (reachable && (int64_t)reachable * 1000 != ifp->ip6.reachable_us) {
		ifp->ip6.reachable_us = (int64_t)reachable * 1000;
		TRACE(s, "ndp ReachableTime %u ms from RA", reachable);
	}
	if (retrans && (int64_t)retrans * 1000 != ifp->ip6.retrans_us) {
		ifp->ip6.retrans_us = (int64_t)retrans * 1000;
		TRACE(s, "ndp RetransTimer %u ms from RA", retrans);
	}
}

/* RFC 4861 6.3.4 and 4.6.4: the MTU option sets LinkMTU when it is at least
 * the IPv6 minimum (1280, RFC 8200 5) and at most the link's own MTU;
 * otherwise it is ignored. o is the 8-byte option. */
static void ndp_ra_mtu(struct stack *s, struct netif *ifp, const uint8_t *o)
{
	uint32_t mtu = be32_get(o + MTU_OFF_MTU);

	if (mtu < IPV6_MIN_MTU || mtu > ifp->mtu) {
		stack_drop(s, NULL, "ndp.ra_bad_mtu", "MTU option %u outside %u..%u", mtu,
			   IPV6_MIN_MTU, ifp->mtu);
		return;
	}
	if (mtu != ndp_link_mtu(ifp))
		TRACE(s, "ndp LinkMTU %u from RA (was %u)", mtu, ndp_link_mtu(ifp));
	ifp->ip6.mtu = mtu;
}

/* Handles a router advertisement (RFC 4861 6.1.2 validation, 6.3.4
 * processing): a router lifetime gives a default route via the router, a
 * prefix information option with L set an on-link route and with A set a
 * SLAAC address (RFC 4862 5.5.3), a source link-layer option a neighbor
 * entry, the MTU option LinkMTU, and the header's hop limit, reachable and
 * retransmit times the host's. Consumes p. */
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
	/* RFC 4861 6.3.7: an answer: stop asking (and do not start, if it came
	 * before our first solicitation) */
	ifp->ip6.rs_next = INT64_MAX;
	ifp->ip6.rs_sent = NDP_MAX_RTR_SOLICIT;
	ndp_ra_params(s, ifp, buf);

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
		} else if (o[0] == NDP_OPT_MTU && o[1] * 8 == NDP_MTU_OPT_LEN) {
			ndp_ra_mtu(s, ifp, o);
		} else if (o[0] == NDP_OPT_PREFIX && o[1] * 8 == PI_SIZE) {
			struct route r = { .prefix = { .family = AF_INET6 }, .len = o[PI_OFF_LEN],
					   .ifindex = ifp->index, .metric = 256, .origin = "ra" };
			memcpy(r.prefix.a, o + PI_OFF_PREFIX, 16);
			uint32_t valid = be32_get(o + PI_OFF_VALID);
			if (r.len > 128) {
				stack_drop(s, NULL, "ndp.ra_bad_prefix_len", "%u", r.len);
				continue;
			}
			/* RFC 4861 6.3.4: a link-local prefix or L clear is
			 * not an on-link prefix */
			if ((o[PI_OFF_FLAGS] & NDP_PREFIX_ONLINK) && !ip6_is_linklocal(&r.prefix))
				ndp_ra_route_set(s, &r, valid);
			/* RFC 4862 5.5.3 a): A clear: no address from it */
			if (o[PI_OFF_FLAGS] & NDP_PREFIX_AUTO)
				ndp_slaac_prefix(s, ifp, &r.prefix, r.len, valid,
						 be32_get(o + PI_OFF_PREFERRED));
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
			e->timer = s->now + ndp_retrans_us(ifp);
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

/* See ndp.h. MLD first: RFC 4862 5.4.2 wants the group joined before the
 * DAD probe goes. */
void ndp_timer(struct stack *s)
{
	for (int i = 0; i < s->nifs; i++) {
		if (!s->ifs[i].ip6.on)
			continue;
		ndp_lifetime_timer(s, &s->ifs[i]);
		mld_timer(s, &s->ifs[i]);
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
		int64_t a = ndp_addr_next_deadline(&s->ifs[i]);
		if (a < t)
			t = a;
		int64_t m = mld_next_deadline(&s->ifs[i]);
		if (m < t)
			t = m;
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

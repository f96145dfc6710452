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
#include "ip/mld.h"
#include "stack/byteorder.h"
#include "stack/pkt.h"
#include "stack/rng.h"
#include "stack/siphash.h"
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
	[IP6_ADDR_DEPRECATED] = "deprecated",
};

const char *const ip6_addr_origin_name[] = {
	[IP6_ORIGIN_LINKLOCAL] = "link-local",
	[IP6_ORIGIN_STATIC] = "static",
	[IP6_ORIGIN_SLAAC] = "slaac",
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
 * three bytes with the universal/local bit (0x02 of the first) inverted,
 * ff:fe, then its last three. The address is the prefix's first 64 bits
 * followed by it. */
struct ipaddr ndp_addr_eui64(const struct ipaddr *prefix, const uint8_t mac[6])
{
	struct ipaddr a = { .family = AF_INET6 };

	memcpy(a.a, prefix->a, 8);
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

/* The link-local address is fe80::/64 followed by the modified EUI-64. */
struct ipaddr ndp_linklocal(const uint8_t mac[6])
{
	const struct ipaddr ll = { .family = AF_INET6, .a = { 0xfe, 0x80 } };

	return ndp_addr_eui64(&ll, mac);
}

/* See ndp.h. RFC 7217 5: the identifier is the low 64 bits of F(); the
 * input is laid out byte by byte so that a student can hash it by hand
 * (tests/check_slaac.c does). */
struct ipaddr ndp_addr_stable(const uint8_t key[16], const struct ipaddr *prefix,
			      const char *ifname, uint8_t dad_counter)
{
	uint8_t m[8 + 32 + 1];
	size_t n = strnlen(ifname, 32);
	struct ipaddr a = { .family = AF_INET6 };

	memcpy(m, prefix->a, 8);
	memcpy(m + 8, ifname, n);
	m[8 + n] = dad_counter;
	uint64_t rid = siphash24(key, m, 8 + n + 1);
	memcpy(a.a, prefix->a, 8);
	be32_put(a.a + 8, (uint32_t)(rid >> 32));
	be32_put(a.a + 12, (uint32_t)rid);
	return a;
}

/* See ndp.h (RFC 5453 and the IANA registry of reserved identifiers). */
bool ndp_iid_reserved(const struct ipaddr *a)
{
	static const uint8_t zero[8], anycast[7] = { 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t pmip[5] = { 0x02, 0x00, 0x5e, 0xff, 0xfe };

	if (memcmp(a->a + 8, zero, 8) == 0)
		return true;
	if (memcmp(a->a + 8, anycast, 7) == 0 && a->a[15] >= 0x80)
		return true;
	return memcmp(a->a + 8, pmip, 5) == 0;
}

/* See ndp.h. */
void ndp_secret_init(struct ndp_cache *c, uint64_t seed)
{
	struct rng r;

	rng_seed(&r, seed ^ 0x72177217deadbeefull);
	for (int i = 0; i < 16; i += 8) {
		uint64_t k = rng_next(&r);
		memcpy(c->iid_key + i, &k, 8);
	}
}

/* See ndp.h. */
bool ndp_addr_usable(const struct ip6_ifaddr *ia)
{
	return ia->state == IP6_ADDR_PREFERRED || ia->state == IP6_ADDR_DEPRECATED;
}

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

/* RetransTimer and ReachableTime of ifp (RFC 4861 6.3.2), learned from an
 * RA or the protocol constants. */
static int64_t ndp_retrans_us(const struct netif *ifp)
{
	return ifp && ifp->ip6.retrans_us ? ifp->ip6.retrans_us : NDP_RETRANS_US;
}

static int64_t ndp_reachable_us(const struct netif *ifp)
{
	return ifp && ifp->ip6.reachable_us ? ifp->ip6.reachable_us : NDP_REACHABLE_US;
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

/* Makes ia a tentative address a whose DAD starts at once (RFC 4862 5.4)
 * and joins its solicited-node group first (RFC 4862 5.4.2: before the
 * probe goes out). */
static void ndp_addr_start(struct stack *s, struct netif *ifp, struct ip6_ifaddr *ia,
			   const struct ipaddr *a)
{
	ia->state = IP6_ADDR_TENTATIVE;
	ia->addr = *a;
	ia->dad_sent = 0;
	ia->dad_next = s->now;
	struct ipaddr sn = ip6_solicited_node(a);
	mld_join(s, ifp, &sn);
}

/* Puts a/prefix on ifp as a tentative address of this origin, valid and
 * preferred for ever until said otherwise. Returns the entry, or NULL
 * with *err -EEXIST or -ENOSPC. */
static struct ip6_ifaddr *ndp_addr_insert(struct stack *s, struct netif *ifp,
					  const struct ipaddr *a, int prefix,
					  enum ip6_addr_origin origin, int *err)
{
	char t[IPADDR_STRLEN];

	if (ndp_addr_find(ifp, a)) {
		*err = -EEXIST;
		return NULL;
	}
	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->state != IP6_ADDR_NONE)
			continue;
		memset(ia, 0, sizeof(*ia));
		ia->origin = origin;
		ia->prefix = prefix;
		ia->preferred_until = INT64_MAX;
		ia->valid_until = INT64_MAX;
		ndp_addr_start(s, ifp, ia, a);
		if (origin != IP6_ORIGIN_SLAAC)
			TRACE(s, "ip6 %s/%d tentative (duplicate address detection)",
			      ipaddr_ntop(a, t, sizeof(t)), prefix);
		*err = 0;
		return ia;
	}
	*err = -ENOSPC;
	return NULL;
}

/* Takes ia off ifp (its lifetime is over), leaving its solicited-node
 * group (RFC 3810 6.1: a CHANGE_TO_INCLUDE {} report if no other address
 * needs it). */
static void ndp_addr_remove(struct stack *s, struct netif *ifp, struct ip6_ifaddr *ia)
{
	struct ipaddr sn = ip6_solicited_node(&ia->addr);

	if (ia->state != IP6_ADDR_DUPLICATE)
		mld_leave(s, ifp, &sn);
	memset(ia, 0, sizeof(*ia));
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
	int err;
	ndp_addr_insert(s, ifp, &ll, 64, IP6_ORIGIN_LINKLOCAL, &err);
	return err;
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
	ndp_addr_insert(s, ifp, a, prefix, IP6_ORIGIN_STATIC, &err);
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
		if (ia->state == IP6_ADDR_NONE || ia->state == IP6_ADDR_DUPLICATE)
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
		if (ia->state == IP6_ADDR_NONE || ia->state == IP6_ADDR_DUPLICATE)
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

/* The SLAAC address for prefix on ifp with this DAD_Counter: the modified
 * EUI-64 with --eui64, else RFC 7217's, the counter going up past reserved
 * identifiers (RFC 7217 5, RFC 5453). Returns false when the retries are
 * used up. */
static bool ndp_slaac_make(struct stack *s, struct netif *ifp, const struct ipaddr *prefix,
			   uint8_t *counter, struct ipaddr *out)
{
	if (ifp->ip6.eui64) {
		*out = ndp_addr_eui64(prefix, ifp->mac);
		return true;
	}
	for (; *counter <= NDP_IDGEN_RETRIES; ++*counter) {
		*out = ndp_addr_stable(s->ndp.iid_key, prefix, ifp->dev->name, *counter);
		if (!ndp_iid_reserved(out))
			return true;
		stats_inc(&s->stats, "slaac.iid_reserved");
	}
	return false;
}

/* RFC 4862 5.4.5: another node owns ia's address; it is never used. An
 * RFC 7217 address is made again with DAD_Counter + 1, at most
 * NDP_IDGEN_RETRIES times (RFC 7217 6); a modified EUI-64 one, a static
 * one or the link-local one stays DUPLICATE (RFC 4862 5.4.5: it needs a
 * person). */
static void ndp_dad_failed(struct stack *s, struct netif *ifp, struct ip6_ifaddr *ia,
			   const char *how)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	struct ipaddr sn = ip6_solicited_node(&ia->addr);

	stats_inc(&s->stats, "ndp.dad_duplicate");
	mld_leave(s, ifp, &sn);
	ipaddr_ntop(&ia->addr, a, sizeof(a));
	if (ia->origin == IP6_ORIGIN_SLAAC && !ia->eui64 && ia->dad_counter < NDP_IDGEN_RETRIES) {
		uint8_t counter = ia->dad_counter + 1;
		struct ipaddr next;
		if (ndp_slaac_make(s, ifp, &ia->addr, &counter, &next)) {
			stats_inc(&s->stats, "slaac.idgen_retry");
			ia->dad_counter = counter;
			ndp_addr_start(s, ifp, ia, &next);
			TRACE(s, "slaac %s is a duplicate (%s): DAD_Counter %u gives %s: tentative, DAD",
			      a, how, counter, ipaddr_ntop(&next, b, sizeof(b)));
			return;
		}
	}
	ia->state = IP6_ADDR_DUPLICATE;
	ia->dad_next = INT64_MAX;
	if (ia->origin == IP6_ORIGIN_SLAAC && !ia->eui64)
		stats_inc(&s->stats, "slaac.idgen_gave_up");
	TRACE(s, "warning: ip6 %s is a duplicate (%s); not used%s", a, how,
	      ia->origin == IP6_ORIGIN_SLAAC && !ia->eui64 ? " (IDGEN_RETRIES used up)" : "");
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

/* A lifetime in seconds from now as an absolute time (all ones: for ever,
 * RFC 4861 4.6.2). */
static int64_t ndp_lifetime_at(struct stack *s, uint32_t lifetime)
{
	return lifetime == NDP_LIFETIME_INFINITE ? INT64_MAX :
						   s->now + (int64_t)lifetime * 1000000;
}

/* Writes "86399s" or "forever" for the time left until t. */
static const char *ndp_left(char *buf, size_t cap, int64_t t, int64_t now)
{
	if (t == INT64_MAX)
		snprintf(buf, cap, "forever");
	else
		snprintf(buf, cap, "%llds", (long long)(t > now ? (t - now + 999999) / 1000000 : 0));
	return buf;
}

/* The SLAAC address of ifp made from the 64-bit prefix, or NULL. */
static struct ip6_ifaddr *ndp_slaac_find(struct netif *ifp, const struct ipaddr *prefix)
{
	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->state != IP6_ADDR_NONE && ia->origin == IP6_ORIGIN_SLAAC &&
		    memcmp(ia->addr.a, prefix->a, 8) == 0)
			return ia;
	}
	return NULL;
}

/* RFC 4862 5.5.3 e): a prefix we already made an address from: the
 * preferred lifetime is taken as advertised; the valid one too if it is
 * over two hours or longer than what is left, else it is not cut below two
 * hours (we never authenticate an RA), and with two hours or less left it
 * is not touched. */
static void ndp_slaac_refresh(struct stack *s, struct ip6_ifaddr *ia, uint32_t valid,
			      uint32_t preferred)
{
	char a[IPADDR_STRLEN], l[24];
	int64_t remaining = ia->valid_until == INT64_MAX ? INT64_MAX : ia->valid_until - s->now;
	int64_t valid_us = valid == NDP_LIFETIME_INFINITE ? INT64_MAX : (int64_t)valid * 1000000;

	ipaddr_ntop(&ia->addr, a, sizeof(a));
	ia->preferred_until = ndp_lifetime_at(s, preferred);
	if (valid_us > NDP_TWO_HOURS_US || valid_us > remaining) {
		ia->valid_until = ndp_lifetime_at(s, valid);
	} else if (remaining <= NDP_TWO_HOURS_US) {
		stats_inc(&s->stats, "slaac.two_hour_rule");
		TRACE(s, "slaac %s: valid lifetime %us ignored (2-hour rule, %s left)", a, valid,
		      ndp_left(l, sizeof(l), ia->valid_until, s->now));
	} else {
		stats_inc(&s->stats, "slaac.two_hour_rule");
		ia->valid_until = s->now + NDP_TWO_HOURS_US;
		TRACE(s, "slaac %s: valid lifetime %us raised to 7200s (2-hour rule)", a, valid);
	}
	if (ia->state == IP6_ADDR_DEPRECATED && ia->preferred_until > s->now) {
		ia->state = IP6_ADDR_PREFERRED;
		TRACE(s, "slaac %s preferred again", a);
	} else if (ia->state == IP6_ADDR_PREFERRED && ia->preferred_until <= s->now) {
		ia->state = IP6_ADDR_DEPRECATED;
		stats_inc(&s->stats, "slaac.deprecated");
		TRACE(s, "slaac %s deprecated (preferred lifetime 0)", a);
	}
}

/* See ndp.h. RFC 4862 5.5.3 a) to e) for one prefix information option
 * with the A flag. */
void ndp_slaac_prefix(struct stack *s, struct netif *ifp, const struct ipaddr *prefix, int len,
		      uint32_t valid, uint32_t preferred)
{
	char a[IPADDR_STRLEN], p[IPADDR_STRLEN], v[24], pr[24];

	ipaddr_ntop(prefix, p, sizeof(p));
	if (ifp->ip6.no_slaac)
		return;
	/* b) a link-local prefix is ignored */
	if (ip6_is_linklocal(prefix)) {
		stack_drop(s, NULL, "slaac.linklocal_prefix", "%s/%d", p, len);
		return;
	}
	/* c) a preferred lifetime over the valid one: the option is ignored */
	if (preferred > valid) {
		stack_drop(s, NULL, "slaac.preferred_over_valid", "%s/%d preferred %u valid %u", p,
			   len, preferred, valid);
		return;
	}
	struct ip6_ifaddr *ia = ndp_slaac_find(ifp, prefix);
	if (ia) {
		if (len == 64)
			ndp_slaac_refresh(s, ia, valid, preferred);
		return;
	}
	/* d) prefix length + 64-bit identifier (RFC 4291 2.5.1) must be 128 */
	if (len != 64) {
		stack_drop(s, NULL, "slaac.bad_prefix_len", "%s/%d: a /64 is needed", p, len);
		return;
	}
	if (valid == 0)
		return;
	uint8_t counter = 0;
	struct ipaddr addr;
	if (!ndp_slaac_make(s, ifp, prefix, &counter, &addr)) {
		stack_drop(s, NULL, "slaac.idgen_gave_up", "%s/%d: every identifier reserved", p,
			   len);
		return;
	}
	int err;
	ia = ndp_addr_insert(s, ifp, &addr, 64, IP6_ORIGIN_SLAAC, &err);
	if (!ia) {
		stack_drop(s, NULL, err == -EEXIST ? "slaac.address_exists" : "slaac.no_room",
			   "%s from %s/%d", ipaddr_ntop(&addr, a, sizeof(a)), p, len);
		return;
	}
	ia->eui64 = ifp->ip6.eui64;
	ia->dad_counter = counter;
	ia->preferred_until = ndp_lifetime_at(s, preferred);
	ia->valid_until = ndp_lifetime_at(s, valid);
	stats_inc(&s->stats, "slaac.formed");
	TRACE(s, "slaac %s from prefix %s/64: tentative, DAD (%s identifier; valid %s, preferred %s)",
	      ipaddr_ntop(&addr, a, sizeof(a)), p,
	      ia->eui64 ? "modified EUI-64" : "RFC 7217 stable",
	      ndp_left(v, sizeof(v), ia->valid_until, s->now),
	      ndp_left(pr, sizeof(pr), ia->preferred_until, s->now));
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

/* Runs the DAD of each tentative address of ifp that is due: a
 * solicitation from :: (RFC 4862 5.4.2) until NDP_DAD_TRANSMITS have gone,
 * then, one RetransTimer later with no answer, the address is preferred
 * (deprecated if its preferred lifetime is already over, RFC 4862 5.5.4). */
static void ndp_dad_timer(struct stack *s, struct netif *ifp)
{
	char a[IPADDR_STRLEN];

	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->state != IP6_ADDR_TENTATIVE || ia->dad_next > s->now)
			continue;
		if (ia->dad_sent < NDP_DAD_TRANSMITS) {
			ia->dad_sent++;
			ia->dad_next = s->now + ndp_retrans_us(ifp);
			ndp_send_ns(s, ifp, &ia->addr, false, true);
			continue;
		}
		ia->state = ia->preferred_until > s->now ? IP6_ADDR_PREFERRED : IP6_ADDR_DEPRECATED;
		ia->dad_next = INT64_MAX;
		stats_inc(&s->stats, "ndp.dad_ok");
		TRACE(s, "%s %s/%d %s (no duplicate found)",
		      ia->origin == IP6_ORIGIN_SLAAC ? "slaac" : "ip6",
		      ipaddr_ntop(&ia->addr, a, sizeof(a)), ia->prefix,
		      ip6_addr_state_name[ia->state]);
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

/* RFC 4862 5.5.4: an address whose preferred lifetime is over becomes
 * deprecated; one whose valid lifetime is over is removed. */
static void ndp_lifetime_timer(struct stack *s, struct netif *ifp)
{
	char a[IPADDR_STRLEN];

	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->state == IP6_ADDR_NONE)
			continue;
		if (ia->valid_until <= s->now) {
			stats_inc(&s->stats, "slaac.expired");
			TRACE(s, "slaac %s valid lifetime over: removed",
			      ipaddr_ntop(&ia->addr, a, sizeof(a)));
			ndp_addr_remove(s, ifp, ia);
		} else if (ia->state == IP6_ADDR_PREFERRED && ia->preferred_until <= s->now) {
			ia->state = IP6_ADDR_DEPRECATED;
			stats_inc(&s->stats, "slaac.deprecated");
			TRACE(s, "slaac %s preferred lifetime over: deprecated (still answers; new "
			      "traffic uses another source)", ipaddr_ntop(&ia->addr, a, sizeof(a)));
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
		for (int j = 0; j < NDP_IF_ADDRS; j++) {
			const struct ip6_ifaddr *ia = &s->ifs[i].ip6.addr[j];
			if (ia->state == IP6_ADDR_NONE)
				continue;
			if (ia->state == IP6_ADDR_TENTATIVE && ia->dad_next < t)
				t = ia->dad_next;
			if (ia->valid_until < t)
				t = ia->valid_until;
			if (ia->state == IP6_ADDR_PREFERRED && ia->preferred_until < t)
				t = ia->preferred_until;
		}
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

/* See ndp.h. */
void ndp_addrs_dump(struct stack *s, FILE *out)
{
	char a[IPADDR_STRLEN], v[24], p[24];

	for (int i = 0; i < s->nifs; i++) {
		struct netif *ifp = &s->ifs[i];
		if (!ifp->ip6.on)
			continue;
		fprintf(out, "%s ipv6 mtu %u hoplimit %u reachable %.1fs retrans %.1fs slaac %s\n",
			ifp->dev->name, ndp_link_mtu(ifp), ndp_hop_limit(ifp),
			(double)ndp_reachable_us(ifp) / 1e6, (double)ndp_retrans_us(ifp) / 1e6,
			ifp->ip6.no_slaac ? "off" : ifp->ip6.eui64 ? "eui64" : "stable (RFC 7217)");
		for (int j = 0; j < NDP_IF_ADDRS; j++) {
			const struct ip6_ifaddr *ia = &ifp->ip6.addr[j];
			if (ia->state == IP6_ADDR_NONE)
				continue;
			fprintf(out, "%s %s/%d %s", ifp->dev->name,
				ipaddr_ntop(&ia->addr, a, sizeof(a)), ia->prefix,
				ip6_addr_origin_name[ia->origin]);
			if (ia->origin == IP6_ORIGIN_SLAAC) {
				if (ia->eui64)
					fprintf(out, " eui64");
				else
					fprintf(out, " stable dad_counter %u", ia->dad_counter);
			}
			fprintf(out, " %s valid %s preferred %s\n", ip6_addr_state_name[ia->state],
				ndp_left(v, sizeof(v), ia->valid_until, s->now),
				ia->state == IP6_ADDR_DEPRECATED ? "0s" :
				ndp_left(p, sizeof(p), ia->preferred_until, s->now));
		}
		fprintf(out, "%s group ff02::1 (all nodes, never reported)\n", ifp->dev->name);
		mld_dump(ifp, s->now, out);
	}
}

/* The IPv6 addresses of an interface (RFC 4862, stateless address
 * autoconfiguration): the link-local one made from the MAC (RFC 4291 2.5.1
 * and appendix A, modified EUI-64), static ones (--ip6), and SLAAC ones
 * from the prefixes routers advertise (RFC 4862 5.5.3), with stable, opaque
 * identifiers (RFC 7217) or, with --eui64, the MAC's; duplicate address
 * detection (RFC 4862 5.4) before any is used; preferred and valid
 * lifetimes (RFC 4862 5.5.4) on virtual time. See slaac.h. Neighbor
 * discovery proper (the messages, the neighbor cache) is ip/ndp.c.
 *
 * Call map:
 *   made      host setup -> ndp_if_enable (link-local), ndp_addr_add (static)
 *             ndp_ra_input (ip/ndp.c) -> ndp_slaac_prefix -> ndp_slaac_make,
 *                                         ndp_slaac_refresh
 *             all of them -> ndp_addr_insert -> ndp_addr_start: the
 *                            solicited-node group joined (ndp_group_join:
 *                            the interface's multicast filter, link/eth.c,
 *                            and MLD, ip/mld.c)
 *   DAD       stack_poll -> ndp_timer (ip/ndp.c) -> ndp_dad_timer ->
 *                           ndp_send_ns (ip/ndp.c) from ::, then PREFERRED
 *             ndp_ns_input, ndp_na_input (ip/ndp.c) -> ndp_dad_failed ->
 *                           another identifier, or DUPLICATE
 *   lifetimes ndp_timer (ip/ndp.c) -> ndp_lifetime_timer -> DEPRECATED,
 *                           or ndp_addr_remove
 *   used by   ipv6_input (ndp_joined), source selection in ip/ipv6.c
 *             (ndp_addr_usable), ndp_ns_input (ndp_addr_find)
 *
 * An address moves through these states (enum ip6_addr_state):
 *
 *   (none) --added--> TENTATIVE --no answer to DAD--> PREFERRED
 *          TENTATIVE --NS from :: or NA for it--> DUPLICATE (or, RFC 7217,
 *                    TENTATIVE again with the next DAD_Counter)
 *          PREFERRED --preferred lifetime over--> DEPRECATED
 *          any --valid lifetime over--> (none)
 */
#include "ip/slaac.h"

#include <errno.h>
#include <string.h>

#include "ip/ipv6.h"
#include "ip/mld.h"
#include "ip/ndp.h"
#include "ip/route.h"
#include "link/eth.h"
#include "stack/byteorder.h"
#include "stack/rng.h"
#include "stack/siphash.h"
#include "stack/stack.h"

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

/* ---- Interface identifiers ---- */

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

/* See slaac.h. RFC 7217 5: the identifier is the low 64 bits of F(); the
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

/* See slaac.h (RFC 5453 and the IANA registry of reserved identifiers). */
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

/* See slaac.h. */
void ndp_secret_init(struct ndp_cache *c, uint64_t seed)
{
	struct rng r;

	rng_seed(&r, seed ^ 0x72177217deadbeefull);
	rng_fill(&r, c->iid_key, sizeof(c->iid_key));
}

/* ---- Groups ---- */

/* Every group ndp_group_join() adds fits the multicast filter: all-nodes
 * and one solicited-node group per address. */
_Static_assert(ETH_MCAST_MAX >= NDP_IF_ADDRS + 1, "the multicast filter is too small");

/* ifp joins the IPv6 group g: its MAC (33:33 and the group's last 32 bits,
 * RFC 2464 7) goes into the interface's multicast filter, so that frames to
 * it come in, and MLD tells the routers (RFC 3810 6.1; it never reports
 * all-nodes, RFC 3810 6). */
static void ndp_group_join(struct stack *s, struct netif *ifp, const struct ipaddr *g)
{
	uint8_t mac[ETH_ALEN];

	ip6_mcast_mac(g, mac);
	netif_mcast_add(s, ifp, mac);
	mld_join(s, ifp, g);
}

/* ifp leaves g: the filter drops one reference to its MAC, and MLD reports
 * the leave if no other address needs the group (RFC 3810 6.1). */
static void ndp_group_leave(struct stack *s, struct netif *ifp, const struct ipaddr *g)
{
	uint8_t mac[ETH_ALEN];

	ip6_mcast_mac(g, mac);
	netif_mcast_del(ifp, mac);
	mld_leave(s, ifp, g);
}

/* ---- Addresses ---- */

/* See slaac.h. */
bool ndp_addr_usable(const struct ip6_ifaddr *ia)
{
	return ia->state == IP6_ADDR_PREFERRED || ia->state == IP6_ADDR_DEPRECATED;
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
	ndp_group_join(s, ifp, &sn);
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
		ndp_group_leave(s, ifp, &sn);
	memset(ia, 0, sizeof(*ia));
}

/* See slaac.h. */
int ndp_if_enable(struct stack *s, struct netif *ifp)
{
	if (ifp->ip6.on)
		return 0;
	ifp->ip6.on = true;
	ifp->ip6.solicit_routers = true;
	ifp->ip6.rs_sent = 0;
	ifp->ip6.rs_next = INT64_MAX;
	/* RFC 4291 2.8: every node listens to all-nodes (ff02::1) */
	ndp_group_join(s, ifp, &ip6_all_nodes);
	struct ipaddr ll = ndp_linklocal(ifp->mac);
	int err;
	ndp_addr_insert(s, ifp, &ll, 64, IP6_ORIGIN_LINKLOCAL, &err);
	return err;
}

/* See slaac.h. */
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

/* See slaac.h: the all-nodes group and the solicited-node group of every
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

/* ---- SLAAC (RFC 4862 5.5.3) ---- */

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

/* See slaac.h. RFC 4862 5.5.3 a) to e) for one prefix information option
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

/* ---- Duplicate address detection (RFC 4862 5.4) ---- */

/* RFC 4862 5.4.5: another node owns ia's address; it is never used. An
 * RFC 7217 address is made again with DAD_Counter + 1, at most
 * NDP_IDGEN_RETRIES times (RFC 7217 6); a modified EUI-64 one, a static
 * one or the link-local one stays DUPLICATE (RFC 4862 5.4.5: it needs a
 * person). */
void ndp_dad_failed(struct stack *s, struct netif *ifp, struct ip6_ifaddr *ia, const char *how)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	struct ipaddr sn = ip6_solicited_node(&ia->addr);

	stats_inc(&s->stats, "ndp.dad_duplicate");
	ndp_group_leave(s, ifp, &sn);
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

/* Runs the DAD of each tentative address of ifp that is due: a
 * solicitation from :: (RFC 4862 5.4.2) until NDP_DAD_TRANSMITS have gone,
 * then, one RetransTimer later with no answer, the address is preferred
 * (deprecated if its preferred lifetime is already over, RFC 4862 5.5.4). */
void ndp_dad_timer(struct stack *s, struct netif *ifp)
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

/* ---- Lifetimes (RFC 4862 5.5.4) ---- */

/* RFC 4862 5.5.4: an address whose preferred lifetime is over becomes
 * deprecated; one whose valid lifetime is over is removed. */
void ndp_lifetime_timer(struct stack *s, struct netif *ifp)
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

/* See slaac.h. */
int64_t ndp_addr_next_deadline(const struct netif *ifp)
{
	int64_t t = INT64_MAX;

	for (int j = 0; j < NDP_IF_ADDRS; j++) {
		const struct ip6_ifaddr *ia = &ifp->ip6.addr[j];
		if (ia->state == IP6_ADDR_NONE)
			continue;
		if (ia->state == IP6_ADDR_TENTATIVE && ia->dad_next < t)
			t = ia->dad_next;
		if (ia->valid_until < t)
			t = ia->valid_until;
		if (ia->state == IP6_ADDR_PREFERRED && ia->preferred_until < t)
			t = ia->preferred_until;
	}
	return t;
}

/* See slaac.h. */
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

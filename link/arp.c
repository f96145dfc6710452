/* ARP (RFC 826) for IPv4 over Ethernet: the message codec, the neighbor
 * cache with the timeouts of RFC 1122 2.3.2.1, and the packets that wait in
 * an entry while the neighbor is being asked. See arp.h.
 *
 * An entry moves through these states (times in arp.h):
 *
 *   (none) --arp_output--> INCOMPLETE --answer--> REACHABLE --30 s--> STALE --60 s--> (none)
 *              INCOMPLETE --3 requests unanswered--> (none, queued packets dropped)
 *              STALE --answer--> REACHABLE       STALE --3 unicast polls unanswered--> (none)
 *
 * e->timer always holds the entry's next deadline, so arp_timer() only acts
 * on entries that are due and arp_next_deadline() is one pass over the table. */
#include "link/arp.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ip/addr.h"
#include "stack/byteorder.h"
#include "stack/stack.h"

/* Field offsets in the Ethernet/IPv4 ARP message (RFC 826 "Packet format"). */
#define ARP_OFF_HTYPE 0
#define ARP_OFF_PTYPE 2
#define ARP_OFF_HLEN 4
#define ARP_OFF_PLEN 5
#define ARP_OFF_OP 6
#define ARP_OFF_SHA 8
#define ARP_OFF_SPA 14
#define ARP_OFF_THA 18
#define ARP_OFF_TPA 24

#define ARP_DESC_LEN 64 /* "who-has 255.255.255.255 tell 255.255.255.255" */

const char *const arp_state_name[] = {
	[ARP_FREE] = "FREE",
	[ARP_INCOMPLETE] = "INCOMPLETE",
	[ARP_REACHABLE] = "REACHABLE",
	[ARP_STALE] = "STALE",
};

static const uint8_t mac_zero[ETH_ALEN];

/* Parses the 28-byte Ethernet/IPv4 message at buf; padding after it is
 * ignored. Returns NULL or the drop reason (see arp.h). */
const char *arp_parse(const uint8_t *buf, size_t len, struct arp_msg *m)
{
	if (len < ARP_MSG_LEN)
		return "arp.short";
	m->htype = be16_get(buf + ARP_OFF_HTYPE);
	m->ptype = be16_get(buf + ARP_OFF_PTYPE);
	m->hlen = buf[ARP_OFF_HLEN];
	m->plen = buf[ARP_OFF_PLEN];
	m->op = be16_get(buf + ARP_OFF_OP);
	memcpy(m->sha, buf + ARP_OFF_SHA, ETH_ALEN);
	m->spa = be32_get(buf + ARP_OFF_SPA);
	memcpy(m->tha, buf + ARP_OFF_THA, ETH_ALEN);
	m->tpa = be32_get(buf + ARP_OFF_TPA);
	/* RFC 826: ?Do I have the hardware type in ar$hrd? */
	if (m->htype != ARP_HTYPE_ETHERNET)
		return "arp.bad_htype";
	/* RFC 826: ?Do I speak the protocol in ar$pro? */
	if (m->ptype != ETH_TYPE_IPV4)
		return "arp.bad_ptype";
	/* Only the lengths of Ethernet and IPv4 addresses fit the 28 bytes read. */
	if (m->hlen != ETH_ALEN || m->plen != 4)
		return "arp.bad_hlen_plen";
	if (m->op != ARP_OP_REQUEST && m->op != ARP_OP_REPLY)
		return "arp.bad_op";
	return NULL;
}

/* Writes the 28-byte message m at buf. */
void arp_emit(const struct arp_msg *m, uint8_t *buf)
{
	be16_put(buf + ARP_OFF_HTYPE, m->htype);
	be16_put(buf + ARP_OFF_PTYPE, m->ptype);
	buf[ARP_OFF_HLEN] = m->hlen;
	buf[ARP_OFF_PLEN] = m->plen;
	be16_put(buf + ARP_OFF_OP, m->op);
	memcpy(buf + ARP_OFF_SHA, m->sha, ETH_ALEN);
	be32_put(buf + ARP_OFF_SPA, m->spa);
	memcpy(buf + ARP_OFF_THA, m->tha, ETH_ALEN);
	be32_put(buf + ARP_OFF_TPA, m->tpa);
}

/* Text of a message for trace lines: "who-has A tell B" or "A is-at MAC". */
static const char *arp_describe(const struct arp_msg *m, char *buf)
{
	char a[IP4_STRLEN], b[IP4_STRLEN], mac[ETH_MAC_STRLEN];

	if (m->op == ARP_OP_REQUEST)
		snprintf(buf, ARP_DESC_LEN, "who-has %s tell %s", ip4_ntop(m->tpa, a),
			 ip4_ntop(m->spa, b));
	else
		snprintf(buf, ARP_DESC_LEN, "%s is-at %s", ip4_ntop(m->spa, a),
			 mac_ntop(m->sha, mac));
	return buf;
}

/* ---- The cache ---- */

/* Empties one slot (its queue must already be empty or is freed here). */
static void arp_entry_clear(struct arp_entry *e)
{
	pktq_purge(&e->pending);
	memset(e, 0, sizeof(*e));
	e->state = ARP_FREE;
	e->timer = INT64_MAX;
}

/* Makes every slot free. */
void arp_cache_init(struct arp_cache *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < ARP_CACHE_SIZE; i++)
		arp_entry_clear(&c->e[i]);
	c->next = INT64_MAX;
}

/* Frees every queued packet and empties the cache. */
void arp_cache_flush(struct arp_cache *c)
{
	for (int i = 0; i < ARP_CACHE_SIZE; i++)
		arp_entry_clear(&c->e[i]);
}

/* The entry for ip in any state but FREE, or NULL. One pass over the table:
 * 256 comparisons cost less than the frame they serve. */
struct arp_entry *arp_cache_lookup(struct arp_cache *c, uint32_t ip)
{
	for (int i = 0; i < ARP_CACHE_SIZE; i++) {
		if (c->e[i].state != ARP_FREE && c->e[i].ip == ip)
			return &c->e[i];
	}
	return NULL;
}

/* When e next needs arp_timer(), from its state and times:
 * INCOMPLETE: the next request (or giving up) one retry interval after the
 * last request; REACHABLE: turning STALE ARP_REACHABLE_US after the last
 * confirmation; STALE: removal ARP_STALE_US after it turned STALE, or
 * earlier once its unicast polls have all gone unanswered. */
static int64_t arp_entry_deadline(const struct arp_entry *e)
{
	int64_t t;

	switch (e->state) {
	case ARP_INCOMPLETE:
		return e->asked + ARP_RETRY_US;
	case ARP_REACHABLE:
		return e->confirmed + ARP_REACHABLE_US;
	case ARP_STALE:
		t = e->confirmed + ARP_REACHABLE_US + ARP_STALE_US;
		if (e->retries >= ARP_MAX_RETRIES && e->asked + ARP_RETRY_US < t)
			t = e->asked + ARP_RETRY_US;
		return t;
	default:
		return INT64_MAX;
	}
}

/* Recomputes e's deadline, keeping the cache's earliest deadline a lower
 * bound of every entry's. */
static void arp_entry_rearm(struct stack *s, struct arp_entry *e)
{
	e->timer = arp_entry_deadline(e);
	if (e->timer < s->arp.next)
		s->arp.next = e->timer;
}

/* Sets e's state and recomputes its deadline. */
static void arp_entry_set_state(struct stack *s, struct arp_entry *e, enum arp_state state)
{
	e->state = state;
	arp_entry_rearm(s, e);
}

/* Frees e and drops the packets still waiting in it, each under reason. */
static void arp_entry_free(struct stack *s, struct arp_entry *e, const char *reason)
{
	char a[IP4_STRLEN];
	struct pkt *q;

	while ((q = pktq_pop(&e->pending)) != NULL)
		stack_drop(s, q, reason, "waiting for %s", ip4_ntop(e->ip, a));
	arp_entry_clear(e);
}

/* A slot for a new entry: a free one, else the least recently used entry
 * that is not INCOMPLETE, else the oldest INCOMPLETE one (its queued
 * packets are dropped). The slot is returned FREE. Counts "arp.cache_evict". */
static struct arp_entry *arp_cache_alloc(struct stack *s)
{
	struct arp_cache *c = &s->arp;
	struct arp_entry *lru = NULL, *oldest = NULL;
	char a[IP4_STRLEN];

	for (int i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &c->e[i];
		if (e->state == ARP_FREE)
			return e;
		if (e->state != ARP_INCOMPLETE) {
			if (!lru || e->used < lru->used)
				lru = e;
		} else if (!oldest || e->used < oldest->used) {
			oldest = e;
		}
	}
	struct arp_entry *victim = lru ? lru : oldest;
	stats_inc(&s->stats, "arp.cache_evict");
	TRACE(s, "arp %s %s evicted (cache full)", ip4_ntop(victim->ip, a),
	      arp_state_name[victim->state]);
	arp_entry_free(s, victim, "arp.evicted_pending");
	return victim;
}

/* Creates the entry for ip on ifp in state (INCOMPLETE, or REACHABLE with
 * mac), recycling a slot if the cache is full. Never fails. */
static struct arp_entry *arp_cache_add(struct stack *s, struct netif *ifp, uint32_t ip,
				       const uint8_t *mac, enum arp_state state)
{
	struct arp_entry *e = arp_cache_alloc(s);

	e->ip = ip;
	e->ifindex = ifp->index;
	memcpy(e->mac, mac ? mac : mac_zero, ETH_ALEN);
	e->used = s->now;
	e->confirmed = state == ARP_REACHABLE ? s->now : 0;
	e->asked = s->now;
	e->retries = 0;
	arp_entry_set_state(s, e, state);
	return e;
}

/* The earliest deadline of any entry, or INT64_MAX. */
int64_t arp_next_deadline(const struct arp_cache *c)
{
	return c->next;
}

/* ---- Sending ARP messages ---- */

/* Builds a message from ifp (our MAC and address as sender) in a fresh
 * buffer and sends it in an Ethernet frame to dst. Returns 0 or a negative
 * errno (the buffer pool is empty: counted "arp.no_buffer"). */
static int arp_send(struct stack *s, struct netif *ifp, uint16_t op, const uint8_t dst[ETH_ALEN],
		    const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
	struct arp_msg m = {
		.htype = ARP_HTYPE_ETHERNET,
		.ptype = ETH_TYPE_IPV4,
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = op,
		.spa = ifp->ip4,
		.tpa = tpa,
	};
	struct pkt *p = pkt_alloc(ETH_MIN_FRAME);

	if (!p) {
		stack_drop(s, NULL, "arp.no_buffer", NULL);
		return -ENOBUFS;
	}
	memcpy(m.sha, ifp->mac, ETH_ALEN);
	memcpy(m.tha, tha, ETH_ALEN);
	arp_emit(&m, pkt_put(p, ARP_MSG_LEN));
	return eth_output(s, ifp, p, dst, ETH_TYPE_ARP);
}

/* Asks who has ip: broadcast, or unicast to dst when given (the RFC 1122
 * 2.3.2.1 poll of a cached neighbor). The target MAC is zero, as Linux
 * sends it. Returns 0 or a negative errno. */
static int arp_request(struct stack *s, struct netif *ifp, uint32_t ip, const uint8_t *dst)
{
	char a[IP4_STRLEN], b[IP4_STRLEN], mac[ETH_MAC_STRLEN];

	stats_inc(&s->stats, "arp.tx_request");
	if (dst)
		TRACE(s, "tx ARP who-has %s tell %s (unicast to %s)", ip4_ntop(ip, a),
		      ip4_ntop(ifp->ip4, b), mac_ntop(dst, mac));
	else
		TRACE(s, "tx ARP who-has %s tell %s", ip4_ntop(ip, a), ip4_ntop(ifp->ip4, b));
	return arp_send(s, ifp, ARP_OP_REQUEST, dst ? dst : eth_broadcast, mac_zero, ip);
}

/* RFC 826: answers the request m for our address: swaps sender and target,
 * puts our MAC as sender, sets op REPLY and sends it unicast to the asker. */
static void arp_reply(struct stack *s, struct netif *ifp, const struct arp_msg *m)
{
	/* LAB check1 BEGIN stub: (void)s; (void)ifp; (void)m; */
	char a[IP4_STRLEN], mac[ETH_MAC_STRLEN];

	stats_inc(&s->stats, "arp.tx_reply");
	TRACE(s, "tx ARP %s is-at %s", ip4_ntop(ifp->ip4, a), mac_ntop(ifp->mac, mac));
	arp_send(s, ifp, ARP_OP_REPLY, m->sha, m->sha, m->spa);
	/* LAB check1 END */
}

/* Sends a gratuitous ARP request announcing ifp's IPv4 address (RFC 5227 3):
 * sender and target address both ours, target MAC zero, to broadcast. */
static void arp_send_announce(struct stack *s, struct netif *ifp)
{
	char a[IP4_STRLEN], mac[ETH_MAC_STRLEN];

	stats_inc(&s->stats, "arp.tx_announce");
	TRACE(s, "tx ARP announce %s is-at %s", ip4_ntop(ifp->ip4, a), mac_ntop(ifp->mac, mac));
	arp_send(s, ifp, ARP_OP_REQUEST, eth_broadcast, mac_zero, ifp->ip4);
}

/* RFC 5227 2.3: "the host MUST ... announce ... by sending ANNOUNCE_NUM
 * ARP Announcements, spaced ANNOUNCE_INTERVAL seconds apart": one now, the
 * rest from arp_timer(). (The probes of 2.1 that should come first are not
 * sent: see the README's conformance table.) */
void arp_announce(struct stack *s, struct netif *ifp)
{
	if (!ifp->ip4)
		return;
	arp_send_announce(s, ifp);
	ifp->arp_announces_left = ARP_ANNOUNCE_NUM - 1;
	ifp->arp_announce_at = s->now + ARP_ANNOUNCE_INTERVAL_US;
	if (ifp->arp_announces_left > 0 && ifp->arp_announce_at < s->arp.next)
		s->arp.next = ifp->arp_announce_at;
}

/* ---- Receiving ---- */

/* Sends the packets that waited in e for its MAC, oldest first, on ifp.
 * Returns how many were sent. */
static size_t arp_send_pending(struct stack *s, struct netif *ifp, struct arp_entry *e)
{
	size_t n = 0;
	struct pkt *q;

	while ((q = pktq_pop(&e->pending)) != NULL) {
		e->used = s->now;
		eth_output(s, ifp, q, e->mac, ETH_TYPE_IPV4);
		n++;
	}
	return n;
}

/* RFC 826 merge step: if the sender is in the table, updates its MAC,
 * confirms it (REACHABLE, confirmed = now) and, if it was INCOMPLETE, sends
 * the packets waiting for it. Returns true if it was in the table
 * (Merge_flag). */
static bool arp_merge(struct stack *s, struct netif *ifp, const struct arp_msg *m)
{
	/* LAB check1 BEGIN stub: (void)s; (void)ifp; (void)m; (void)arp_send_pending; return false; */
	struct arp_entry *e = arp_cache_lookup(&s->arp, m->spa);
	char a[IP4_STRLEN], m1[ETH_MAC_STRLEN], m2[ETH_MAC_STRLEN];

	if (!e)
		return false;
	enum arp_state was = e->state;
	if (was != ARP_INCOMPLETE && memcmp(e->mac, m->sha, ETH_ALEN) != 0 &&
	    s->now - e->confirmed < ARP_LOCKTIME_US) {
		/* ARP has no checksum: a damaged or forged answer would re-point
		 * a neighbor confirmed a moment ago. Like Linux's "locktime",
		 * a new MAC within ARP_LOCKTIME_US of the last confirmation is
		 * not believed; the entry keeps its MAC (the sender still counts
		 * as merged, so no second entry is made). */
		stats_inc(&s->stats, "arp.mac_change_locked");
		TRACE(s, "arp %s lladdr %s kept: %s claimed it %.3f s after a confirmation",
		      ip4_ntop(e->ip, a), mac_ntop(e->mac, m1), mac_ntop(m->sha, m2),
		      (double)(s->now - e->confirmed) / 1e6);
		return true;
	}
	if (was != ARP_INCOMPLETE && memcmp(e->mac, m->sha, ETH_ALEN) != 0) {
		stats_inc(&s->stats, "arp.mac_changed");
		TRACE(s, "arp %s lladdr %s -> %s", ip4_ntop(e->ip, a), mac_ntop(e->mac, m1),
		      mac_ntop(m->sha, m2));
	}
	memcpy(e->mac, m->sha, ETH_ALEN);
	e->ifindex = ifp->index;
	e->confirmed = s->now;
	e->retries = 0;
	arp_entry_set_state(s, e, ARP_REACHABLE);
	if (was == ARP_INCOMPLETE) {
		stats_inc(&s->stats, "arp.resolved");
		TRACE(s, "arp %s INCOMPLETE -> REACHABLE (queued %zu sent)", ip4_ntop(e->ip, a),
		      e->pending.count);
		arp_send_pending(s, ifp, e);
	} else if (was == ARP_STALE) {
		TRACE(s, "arp %s STALE -> REACHABLE", ip4_ntop(e->ip, a));
	}
	return true;
	/* LAB check1 END */
}

/* RFC 826: adds the triplet <ptype, spa, sha> for a sender that addressed us
 * and was not in the table. */
static void arp_learn(struct stack *s, struct netif *ifp, const struct arp_msg *m)
{
	char a[IP4_STRLEN], mac[ETH_MAC_STRLEN];

	arp_cache_add(s, ifp, m->spa, m->sha, ARP_REACHABLE);
	stats_inc(&s->stats, "arp.learned");
	TRACE(s, "arp %s learned %s REACHABLE", ip4_ntop(m->spa, a), mac_ntop(m->sha, mac));
}

/* True if a is a broadcast address on ifp: the limited broadcast or the
 * subnet's directed broadcast (RFC 919, RFC 922; none for /31 and /32). */
static bool arp_is_broadcast(const struct netif *ifp, uint32_t a)
{
	if (a == IP4_BROADCAST)
		return true;
	if (ifp->ip4 == 0 || ifp->ip4_prefix > 30)
		return false;
	return a == (ifp->ip4 | ~ip4_mask(ifp->ip4_prefix));
}

/* True if a is an address no host can have as its own: a broadcast or a
 * multicast group (RFC 1122 3.2.1.3). 0 is handled by the caller (RFC 5227
 * probes use it). */
static bool arp_bad_sender_ip(const struct netif *ifp, uint32_t a)
{
	return arp_is_broadcast(ifp, a) || (a >> 28) == 0xe;
}

/* Handles a received ARP message (p->data at the ARP header, p->len may
 * include Ethernet padding) on ifp, following RFC 826's packet reception
 * algorithm: merge the sender into the table if it is there; if we are the
 * target, learn the sender and answer a request. RFC 5227 probes (sender
 * address 0) for our address are answered but not learned; a sender
 * claiming our own address from another MAC is an address conflict (RFC
 * 5227 2.4), counted and not learned. Consumes p. */
void arp_input(struct stack *s, struct netif *ifp, struct pkt *p)
{
	struct arp_msg m;
	const char *reason;
	char desc[ARP_DESC_LEN] = "";
	char mac[ETH_MAC_STRLEN];

	stats_inc(&s->stats, "arp.rx");
	/* RFC 826: check the hardware type, protocol type, lengths and op. */
	reason = arp_parse(p->data, p->len, &m);
	if (reason) {
		stack_drop(s, p, reason, "len %zu", p->len);
		return;
	}
	if (s->trace)
		arp_describe(&m, desc);
	/* RFC 826: ?Am I the target protocol address? Asked first only to keep
	 * the trace short for the ordinary traffic between other hosts. */
	bool for_us = ifp->ip4 != 0 && m.tpa == ifp->ip4;
	if (for_us)
		TRACE(s, "rx ARP %s", desc);

	/* Sanity of the sender before it goes near the table. A group or
	 * broadcast MAC is no host's address. */
	if (mac_is_multicast(m.sha)) {
		reason = "arp.bad_sender_mac";
		goto drop;
	}
	/* RFC 5227 2.1.1: a probe has sender address 0; only a request may. */
	if ((m.spa == 0 && m.op != ARP_OP_REQUEST) || arp_bad_sender_ip(ifp, m.spa)) {
		reason = "arp.bad_sender";
		goto drop;
	}
	/* RFC 5227 2.1.1: while an address is probed before use (ip/dhcp.c),
	 * another host that sends from it, or probes for it too, has it */
	if (ifp->arp_probe_ip && memcmp(m.sha, ifp->mac, ETH_ALEN) != 0 &&
	    (m.spa == ifp->arp_probe_ip ||
	     (m.spa == 0 && m.op == ARP_OP_REQUEST && m.tpa == ifp->arp_probe_ip))) {
		ifp->arp_probe_conflict = true;
		reason = "arp.probe_conflict";
		goto drop;
	}
	/* RFC 5227 2.4: another host using our address is a conflict. */
	if (ifp->ip4 != 0 && m.spa == ifp->ip4) {
		if (memcmp(m.sha, ifp->mac, ETH_ALEN) == 0) {
			reason = "arp.own_message";
			goto drop;
		}
		TRACE(s, "warning: address conflict: %s is also used by %s", desc,
		      mac_ntop(m.sha, mac));
		reason = "arp.address_conflict";
		goto drop;
	}

	/* RFC 826: Merge_flag := false; if <ptype, spa> is already in the table,
	 * update its hardware address and set Merge_flag. A probe (spa 0) says
	 * nothing about any address, so it is never merged or learned. */
	bool merged = m.spa != 0 && arp_merge(s, ifp, &m);

	/* RFC 826: ?Am I the target protocol address? If not, we are done: the
	 * sender is not learned from traffic between other hosts. */
	if (!for_us) {
		reason = "arp.not_for_us";
		goto drop;
	}
	/* RFC 826: if Merge_flag is false, add <ptype, spa, sha> to the table. */
	if (!merged && m.spa != 0)
		arp_learn(s, ifp, &m);
	/* RFC 826: ?Is the opcode REQUEST? Swap, put our MAC, send a REPLY. */
	if (m.op == ARP_OP_REQUEST)
		arp_reply(s, ifp, &m);
	pkt_free(p);
	return;
drop:
	stack_drop(s, p, reason, "%s", desc);
}

/* ---- Sending IP packets through the cache ---- */

/* Queues p in the INCOMPLETE entry e. RFC 1122 2.3.2.2: keep at least the
 * latest packet; when the queue is full the oldest one is dropped. */
static void arp_enqueue(struct stack *s, struct arp_entry *e, struct pkt *p)
{
	/* LAB check1 BEGIN stub: (void)s; (void)e; pkt_free(p); */
	char a[IP4_STRLEN];

	if (e->pending.count >= ARP_PENDING_MAX)
		stack_drop(s, pktq_pop(&e->pending), "arp.pending_overflow", "waiting for %s",
			   ip4_ntop(e->ip, a));
	pktq_push(&e->pending, p);
	/* LAB check1 END */
}

/* Sends the IPv4 packet p (p->data at the IP header) to the neighbor
 * nexthop (host order) on ifp. Broadcast goes out at once; a REACHABLE or
 * STALE neighbor gets it at once (a STALE one is also polled with a unicast
 * request, RFC 1122 2.3.2.1, at most once per ARP_RETRY_US and
 * ARP_MAX_RETRIES times); for an unknown neighbor an INCOMPLETE entry is
 * made, p waits in it and a broadcast request goes out; an INCOMPLETE one
 * just queues p. Consumes p. Returns 0 (sent or queued), -EHOSTUNREACH
 * (nexthop 0, or no address of ours to ask from) or the error of
 * eth_output. */
int arp_output(struct stack *s, struct netif *ifp, struct pkt *p, uint32_t nexthop)
{
	/* LAB check1 BEGIN stub: (void)s; (void)ifp; (void)nexthop; (void)arp_enqueue; pkt_free(p); return -EHOSTUNREACH; */
	char a[IP4_STRLEN];

	if (arp_is_broadcast(ifp, nexthop))
		return eth_output(s, ifp, p, eth_broadcast, ETH_TYPE_IPV4);
	if (nexthop == 0 || ifp->ip4 == 0) {
		stack_drop(s, p, "arp.no_address", "to %s", ip4_ntop(nexthop, a));
		return -EHOSTUNREACH;
	}
	struct arp_entry *e = arp_cache_lookup(&s->arp, nexthop);
	if (!e) {
		/* Unknown: make an INCOMPLETE entry, park p, ask everyone. */
		e = arp_cache_add(s, ifp, nexthop, NULL, ARP_INCOMPLETE);
		TRACE(s, "arp %s INCOMPLETE (resolving)", ip4_ntop(nexthop, a));
		arp_enqueue(s, e, p);
		e->retries = 1;
		arp_request(s, ifp, nexthop, NULL);
		return 0;
	}
	switch (e->state) {
	case ARP_INCOMPLETE:
		arp_enqueue(s, e, p);
		return 0;
	case ARP_STALE:
		/* RFC 1122 2.3.2.1: use the cached MAC, and poll it with a
		 * unicast request; an answer makes the entry REACHABLE again. */
		if (e->retries < ARP_MAX_RETRIES && s->now - e->asked >= ARP_RETRY_US) {
			e->used = s->now;
			int err = eth_output(s, ifp, p, e->mac, ETH_TYPE_IPV4);
			e->retries++;
			e->asked = s->now;
			arp_entry_rearm(s, e);
			arp_request(s, ifp, e->ip, e->mac);
			return err;
		}
		/* fall through */
	default:
		e->used = s->now;
		return eth_output(s, ifp, p, e->mac, ETH_TYPE_IPV4);
	}
	/* LAB check1 END */
}

/* ---- Timers ---- */

/* Runs one due deadline of entry e at s->now (see arp_entry_deadline). */
static void arp_entry_expire(struct stack *s, struct arp_entry *e)
{
	char a[IP4_STRLEN];
	struct netif *ifp;

	ip4_ntop(e->ip, a);
	switch (e->state) {
	case ARP_INCOMPLETE:
		ifp = stack_netif(s, e->ifindex);
		if (e->retries < ARP_MAX_RETRIES && ifp) {
			e->retries++;
			e->asked = s->now;
			arp_entry_rearm(s, e);
			arp_request(s, ifp, e->ip, NULL);
			return;
		}
		/* RFC 1122 2.3.2.2: give up, and drop what was waiting. */
		TRACE(s, "arp %s INCOMPLETE -> gone (unanswered after %d requests, %zu dropped)", a,
		      e->retries, e->pending.count);
		arp_entry_free(s, e, "arp.unresolved");
		return;
	case ARP_REACHABLE:
		TRACE(s, "arp %s REACHABLE -> STALE", a);
		e->retries = 0;
		arp_entry_set_state(s, e, ARP_STALE);
		return;
	case ARP_STALE:
		if (s->now >= e->confirmed + ARP_REACHABLE_US + ARP_STALE_US) {
			stats_inc(&s->stats, "arp.expired");
			TRACE(s, "arp %s STALE -> gone (expired)", a);
		} else {
			/* RFC 1122 2.3.2.1: no answer to successive unicast polls. */
			stats_inc(&s->stats, "arp.poll_unanswered");
			TRACE(s, "arp %s STALE -> gone (%d polls unanswered)", a, e->retries);
		}
		arp_entry_free(s, e, "arp.expired");
		return;
	default:
		e->timer = INT64_MAX;
		return;
	}
}

/* Runs the cache's timers at s->now: INCOMPLETE retries and giving up,
 * REACHABLE to STALE, STALE expiry. One pass over the table; an entry with
 * several deadlines already past runs them in order. */
void arp_timer(struct stack *s)
{
	if (s->now < s->arp.next)
		return; /* nothing is due: the per-packet path costs one comparison */
	s->arp.next = INT64_MAX;
	for (int i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &s->arp.e[i];
		for (int n = 0; n < 4 && e->state != ARP_FREE && e->timer <= s->now; n++)
			arp_entry_expire(s, e);
		if (e->state != ARP_FREE && e->timer < s->arp.next)
			s->arp.next = e->timer;
	}
	for (int i = 0; i < s->nifs; i++) {
		struct netif *ifp = &s->ifs[i];
		if (ifp->arp_announces_left <= 0)
			continue;
		if (!ifp->ip4) {
			ifp->arp_announces_left = 0; /* the address went away */
			continue;
		}
		if (ifp->arp_announce_at <= s->now) {
			arp_send_announce(s, ifp);
			ifp->arp_announces_left--;
			ifp->arp_announce_at = s->now + ARP_ANNOUNCE_INTERVAL_US;
		}
		if (ifp->arp_announces_left > 0 && ifp->arp_announce_at < s->arp.next)
			s->arp.next = ifp->arp_announce_at;
	}
}

/* Writes one line per entry in the style of `ip neigh`:
 * "10.0.0.1 dev 0 lladdr 02:00:00:00:00:01 REACHABLE age 1.2s queued 0".
 * Age counts from the last confirmation (from the first request while
 * INCOMPLETE, which has no lladdr yet). */
void arp_cache_dump(const struct arp_cache *c, int64_t now, FILE *out,
		    const char *(*ifname)(void *ctx, int ifindex), void *ctx)
{
	char a[IP4_STRLEN], mac[ETH_MAC_STRLEN], dev[16];

	for (int i = 0; i < ARP_CACHE_SIZE; i++) {
		const struct arp_entry *e = &c->e[i];
		if (e->state == ARP_FREE)
			continue;
		if (ifname)
			snprintf(dev, sizeof(dev), "%s", ifname(ctx, e->ifindex));
		else
			snprintf(dev, sizeof(dev), "if%d", e->ifindex);
		fprintf(out, "%s dev %s ", ip4_ntop(e->ip, a), dev);
		if (e->state != ARP_INCOMPLETE)
			fprintf(out, "lladdr %s ", mac_ntop(e->mac, mac));
		int64_t since = e->state == ARP_INCOMPLETE ? e->used : e->confirmed;
		fprintf(out, "%s age %.1fs queued %zu\n", arp_state_name[e->state],
			(double)(now - since) / 1e6, e->pending.count);
	}
}

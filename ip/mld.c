/* Multicast Listener Discovery version 2 (RFC 3810), host side. See mld.h.
 *
 * A query (type 130, RFC 3810 5.1), 28 bytes and more:
 *
 *     |  type = 130   |     code      |           checksum            |
 *     |    Maximum Response Code      |           reserved            |
 *     |              multicast address (16 bytes; :: = general)       |
 *     | resv  |S| QRV |     QQIC      |     number of sources (N)     |
 *     |              N source addresses (16 bytes each)               |
 *
 * A report (type 143, RFC 3810 5.2), sent to ff02::16 with hop limit 1 and
 * a Router Alert option in a hop-by-hop header:
 *
 *     |  type = 143   |   reserved    |           checksum            |
 *     |           reserved            |  number of address records M  |
 *     | M records:  | type | aux data len | number of sources |
 *     |             | multicast address (16 bytes) | sources | aux data |
 *
 * A group we join is reported CHANGE_TO_EXCLUDE {} ("every source"), a
 * group we leave CHANGE_TO_INCLUDE {} ("no source"), each MLD_ROBUSTNESS
 * times; a query is answered MODE_IS_EXCLUDE {} after a random delay. */
#include "ip/mld.h"

#include <string.h>

#include "ip/icmpv6.h"
#include "ip/ip.h"
#include "ip/ipv6.h"
#include "ip/ndp.h"
#include "stack/byteorder.h"
#include "stack/pkt.h"
#include "stack/stack.h"

/* Offsets in a query. */
enum {
	Q_OFF_MAXRESP = 4,
	Q_OFF_GROUP = 8,
	Q_OFF_FLAGS = 24,
	Q_OFF_QQIC = 25,
	Q_OFF_NSRC = 26,
};

/* Offsets in a report and in one of its records. */
enum {
	R_OFF_NREC = 6,
	REC_OFF_TYPE = 0,
	REC_OFF_AUXLEN = 1,
	REC_OFF_NSRC = 2,
	REC_OFF_GROUP = 4,
};

/* The hop-by-hop option types (RFC 8200 4.2, RFC 2711). */
#define HBH_PAD1 0
#define HBH_PADN 1
#define HBH_ROUTER_ALERT 5
#define ROUTER_ALERT_MLD 0

static const struct ipaddr mld_all_routers = {
	.family = AF_INET6,
	.a = { 0xff, 0x02, [15] = 0x16 },
};

static const struct ipaddr mld_all_nodes = {
	.family = AF_INET6,
	.a = { 0xff, 0x02, [15] = 0x01 },
};

static const char *const mld_record_name[] = {
	[MLD_MODE_IS_INCLUDE] = "MODE_IS_INCLUDE",
	[MLD_MODE_IS_EXCLUDE] = "MODE_IS_EXCLUDE",
	[MLD_CHANGE_TO_INCLUDE] = "CHANGE_TO_INCLUDE",
	[MLD_CHANGE_TO_EXCLUDE] = "CHANGE_TO_EXCLUDE",
	[MLD_ALLOW_NEW_SOURCES] = "ALLOW_NEW_SOURCES",
	[MLD_BLOCK_OLD_SOURCES] = "BLOCK_OLD_SOURCES",
};

/* ---- Codec ---- */

/* See mld.h. RFC 3810 5.1.3. */
uint32_t mld_max_resp_ms(uint16_t code)
{
	if (code < 32768)
		return code;
	uint32_t mant = code & 0xfff, exp = (code >> 12) & 7;
	return (mant | 0x1000) << (exp + 3);
}

/* See mld.h. RFC 3810 5.1: every field is read after the length is known
 * to cover it. */
const char *mld_parse_query(const uint8_t *buf, size_t len, struct mld_query *q)
{
	memset(q, 0, sizeof(*q));
	if (len < MLD_QUERY_V1_LEN)
		return "mld.short";
	q->max_resp_ms = mld_max_resp_ms(be16_get(buf + Q_OFF_MAXRESP));
	q->group.family = AF_INET6;
	memcpy(q->group.a, buf + Q_OFF_GROUP, 16);
	/* RFC 3810 8.1: a 24-byte query comes from an MLDv1 router */
	if (len < MLD_QUERY_MIN_LEN)
		return "mld.v1_query";
	q->s_flag = (buf[Q_OFF_FLAGS] >> 3) & 1;
	q->qrv = buf[Q_OFF_FLAGS] & 7;
	q->qqic = buf[Q_OFF_QQIC];
	q->nsrc = be16_get(buf + Q_OFF_NSRC);
	if ((size_t)MLD_QUERY_MIN_LEN + (size_t)q->nsrc * 16 > len)
		return "mld.bad_sources";
	/* RFC 3810 5.1.5: :: for a general query, else the group asked about */
	if (!ip6_is_unspecified(&q->group) && !ip6_is_multicast(&q->group))
		return "mld.bad_group";
	return NULL;
}

/* See mld.h. RFC 3810 5.2: each record's sources and aux data inside the
 * message, a type from 1 to 6 (5.2.12), a multicast address. */
const char *mld_parse_report(const uint8_t *buf, size_t len, int *nrec)
{
	*nrec = 0;
	if (len < MLD_REPORT_HDR_LEN)
		return "mld.short";
	uint16_t n = be16_get(buf + R_OFF_NREC);
	size_t off = MLD_REPORT_HDR_LEN;
	for (uint16_t i = 0; i < n; i++) {
		if (off + MLD_RECORD_LEN > len)
			return "mld.bad_record";
		uint8_t type = buf[off + REC_OFF_TYPE];
		size_t size = MLD_RECORD_LEN + (size_t)be16_get(buf + off + REC_OFF_NSRC) * 16 +
			      (size_t)buf[off + REC_OFF_AUXLEN] * 4;
		struct ipaddr g = { .family = AF_INET6 };
		memcpy(g.a, buf + off + REC_OFF_GROUP, 16);
		if (type < MLD_MODE_IS_INCLUDE || type > MLD_BLOCK_OLD_SOURCES ||
		    !ip6_is_multicast(&g) || off + size > len)
			return "mld.bad_record";
		off += size;
	}
	*nrec = n;
	return NULL;
}

/* See mld.h. The hop-by-hop header: next header 58, length 0 (8 bytes),
 * Router Alert (type 5, length 2, value 0), PadN of 0 bytes. */
size_t mld_build_report(uint8_t *buf, size_t cap, const struct mld_record *r, int n,
			const struct ipaddr *src)
{
	size_t mlen = MLD_REPORT_HDR_LEN + (size_t)n * MLD_RECORD_LEN;

	if (n < 0 || cap < MLD_HBH_LEN + mlen)
		return 0;
	memset(buf, 0, MLD_HBH_LEN + mlen);
	buf[0] = IP6_NH_ICMPV6;
	buf[1] = 0;
	buf[2] = HBH_ROUTER_ALERT;
	buf[3] = 2;
	be16_put(buf + 4, ROUTER_ALERT_MLD);
	buf[6] = HBH_PADN;
	buf[7] = 0;
	uint8_t *m = buf + MLD_HBH_LEN;
	for (int i = 0; i < n; i++) {
		uint8_t *rec = m + MLD_REPORT_HDR_LEN + (size_t)i * MLD_RECORD_LEN;
		rec[REC_OFF_TYPE] = r[i].type;
		memcpy(rec + REC_OFF_GROUP, r[i].group.a, 16);
	}
	struct icmpv6_hdr h = { .type = MLD_V2_REPORT, .code = 0, .rest = (uint32_t)n };
	icmpv6_emit(&h, m, mlen, src, &mld_all_routers);
	return MLD_HBH_LEN + mlen;
}

/* See mld.h. Walks the options of the hop-by-hop header (RFC 8200 4.3),
 * bounds first. */
bool mld_has_router_alert(const uint8_t *ip6, size_t hdr_len)
{
	if (hdr_len < IPV6_HDR_LEN + 8 || ip6[6] != IP6_NH_HOPOPT)
		return false;
	size_t end = IPV6_HDR_LEN + ((size_t)ip6[IPV6_HDR_LEN + 1] + 1) * 8;
	if (end > hdr_len)
		return false;
	for (size_t i = IPV6_HDR_LEN + 2; i < end;) {
		if (ip6[i] == HBH_PAD1) {
			i++;
			continue;
		}
		if (i + 2 > end || i + 2 + ip6[i + 1] > end)
			return false;
		if (ip6[i] == HBH_ROUTER_ALERT && ip6[i + 1] == 2 &&
		    be16_get(ip6 + i + 2) == ROUTER_ALERT_MLD)
			return true;
		i += 2 + (size_t)ip6[i + 1];
	}
	return false;
}

/* ---- Groups ---- */

/* The slot of g on m, or NULL. */
static struct mld_group *mld_find(struct mld_if *m, const struct ipaddr *g)
{
	for (int i = 0; i < MLD_GROUPS; i++)
		if (m->g[i].g.family && ipaddr_eq(&m->g[i].g, g))
			return &m->g[i];
	return NULL;
}

/* RFC 3810 6: the link-scope all-nodes group is never reported, nor a
 * group of reserved (0) or interface-local (1) scope. */
static bool mld_reportable(const struct ipaddr *g)
{
	uint8_t scope = g->a[1] & 0x0f;
	return ip6_is_multicast(g) && !ipaddr_eq(g, &mld_all_nodes) && scope > 1;
}

/* Starts a state-change report of type change for grp: now and
 * MLD_ROBUSTNESS - 1 more times (RFC 3810 6.1). */
static void mld_change(struct stack *s, struct mld_group *grp, uint8_t change)
{
	grp->change = change;
	grp->retrans = MLD_ROBUSTNESS;
	grp->change_at = s->now;
	grp->answer_at = 0;
}

/* See mld.h. */
void mld_join(struct stack *s, struct netif *ifp, const struct ipaddr *g)
{
	char a[IPADDR_STRLEN];
	struct mld_if *m = &ifp->ip6.mld;

	if (!mld_reportable(g))
		return;
	struct mld_group *grp = mld_find(m, g);
	if (grp && grp->refs > 0) {
		grp->refs++;
		return;
	}
	for (int i = 0; !grp && i < MLD_GROUPS; i++)
		if (!m->g[i].g.family)
			grp = &m->g[i];
	if (!grp) {
		stack_drop(s, NULL, "mld.groups_full", "%s", ipaddr_ntop(g, a, sizeof(a)));
		return;
	}
	grp->g = *g;
	grp->refs = 1;
	stats_inc(&s->stats, "mld.join");
	if (m->off) {
		grp->retrans = 0;
		return;
	}
	mld_change(s, grp, MLD_CHANGE_TO_EXCLUDE);
	TRACE(s, "mld join %s: CHANGE_TO_EXCLUDE {} report now and %d more within %d ms",
	      ipaddr_ntop(g, a, sizeof(a)), MLD_ROBUSTNESS - 1, MLD_UNSOLICITED_US / 1000);
}

/* See mld.h. */
void mld_leave(struct stack *s, struct netif *ifp, const struct ipaddr *g)
{
	char a[IPADDR_STRLEN];
	struct mld_if *m = &ifp->ip6.mld;
	struct mld_group *grp = mld_find(m, g);

	if (!grp || grp->refs == 0 || --grp->refs > 0)
		return;
	stats_inc(&s->stats, "mld.leave");
	if (m->off) {
		memset(grp, 0, sizeof(*grp));
		return;
	}
	mld_change(s, grp, MLD_CHANGE_TO_INCLUDE);
	TRACE(s, "mld leave %s: CHANGE_TO_INCLUDE {} report now and %d more within %d ms",
	      ipaddr_ntop(g, a, sizeof(a)), MLD_ROBUSTNESS - 1, MLD_UNSOLICITED_US / 1000);
}

/* See mld.h. */
bool mld_listening(const struct netif *ifp, const struct ipaddr *g)
{
	const struct mld_if *m = &ifp->ip6.mld;

	for (int i = 0; i < MLD_GROUPS; i++)
		if (m->g[i].g.family && m->g[i].refs > 0 && ipaddr_eq(&m->g[i].g, g))
			return true;
	return false;
}

/* ---- Sending ---- */

/* RFC 3810 5.2.13: a report comes from the link-local address, or from ::
 * while that one is still tentative (RFC 4862 5.4.2 joins before DAD). */
static struct ipaddr mld_source(const struct netif *ifp)
{
	struct ipaddr any = { .family = AF_INET6 };

	for (int i = 0; i < NDP_IF_ADDRS; i++) {
		const struct ip6_ifaddr *ia = &ifp->ip6.addr[i];
		if (ia->origin == IP6_ORIGIN_LINKLOCAL && ndp_addr_usable(ia))
			return ia->addr;
	}
	return any;
}

/* Sends one version 2 report with the n records r, why naming the
 * occasion in the trace. */
static void mld_send(struct stack *s, struct netif *ifp, const struct mld_record *r, int n,
		     const char *why)
{
	char a[IPADDR_STRLEN], line[160];
	struct ipaddr src = mld_source(ifp);
	size_t len = MLD_HBH_LEN + MLD_REPORT_HDR_LEN + (size_t)n * MLD_RECORD_LEN;
	struct pkt *p = pkt_alloc(len);

	if (!p) {
		stack_drop(s, NULL, "mld.no_buffer", NULL);
		return;
	}
	mld_build_report(pkt_put(p, len), len, r, n, &src);
	stats_inc(&s->stats, "mld.tx_report");
	if (s->trace) {
		size_t at = 0;
		line[0] = '\0';
		for (int i = 0; i < n && at < sizeof(line); i++)
			at += (size_t)snprintf(line + at, sizeof(line) - at, " %s %s {}",
					       mld_record_name[r[i].type],
					       ipaddr_ntop(&r[i].group, a, sizeof(a)));
		TRACE(s, "tx MLDv2 report (%s) from %s to ff02::16:%s", why,
		      ipaddr_ntop(&src, a, sizeof(a)), line);
	}
	/* RFC 3810 5: hop limit 1, Router Alert in a hop-by-hop header */
	ipv6_output_if(s, ifp, p, &src, &mld_all_routers, IP6_NH_HOPOPT, 1);
}

/* See mld.h: the state-change reports that are due (one report for all of
 * them), then the answer to a general query, then those to specific
 * ones. */
void mld_timer(struct stack *s, struct netif *ifp)
{
	struct mld_if *m = &ifp->ip6.mld;
	struct mld_record r[MLD_GROUPS];
	int n = 0;

	if (m->off)
		return;
	for (int i = 0; i < MLD_GROUPS; i++) {
		struct mld_group *grp = &m->g[i];
		if (!grp->g.family || grp->retrans == 0 || grp->change_at > s->now)
			continue;
		r[n++] = (struct mld_record){ .type = grp->change, .group = grp->g };
		if (--grp->retrans > 0)
			/* RFC 3810 6.1: random within the Unsolicited Report Interval */
			grp->change_at = s->now + 1 + (int64_t)rng_below(&s->rng, MLD_UNSOLICITED_US);
		else if (grp->refs == 0)
			memset(grp, 0, sizeof(*grp));
		else
			grp->change = 0;
	}
	if (n)
		mld_send(s, ifp, r, n, "state change");

	n = 0;
	bool general = m->general_at && m->general_at <= s->now;
	for (int i = 0; i < MLD_GROUPS; i++) {
		struct mld_group *grp = &m->g[i];
		bool asked = grp->answer_at && grp->answer_at <= s->now;
		if (asked || general)
			grp->answer_at = 0;
		if (grp->g.family && grp->refs > 0 && (asked || general))
			r[n++] = (struct mld_record){ .type = MLD_MODE_IS_EXCLUDE, .group = grp->g };
	}
	if (general)
		m->general_at = 0;
	if (n)
		mld_send(s, ifp, r, n, general ? "answer to a general query" :
						 "answer to a multicast-address-specific query");
}

/* See mld.h. */
int64_t mld_next_deadline(const struct netif *ifp)
{
	const struct mld_if *m = &ifp->ip6.mld;
	int64_t t = INT64_MAX;

	if (m->off)
		return t;
	if (m->general_at && m->general_at < t)
		t = m->general_at;
	for (int i = 0; i < MLD_GROUPS; i++) {
		const struct mld_group *grp = &m->g[i];
		if (!grp->g.family)
			continue;
		if (grp->retrans > 0 && grp->change_at < t)
			t = grp->change_at;
		if (grp->answer_at && grp->answer_at < t)
			t = grp->answer_at;
	}
	return t;
}

/* ---- Receiving ---- */

/* RFC 3810 6.2: schedules the answer to a valid query q at a random delay
 * in [0, Maximum Response Delay). An answer to a general query already due
 * sooner covers it (rule 1); a specific one keeps the earlier of its two
 * times (rules 3, 4). A query for a group we do not listen to is ignored. */
static void mld_query(struct stack *s, struct netif *ifp, const struct mld_query *q,
		      const struct ipaddr *from)
{
	char a[IPADDR_STRLEN], g[IPADDR_STRLEN];
	struct mld_if *m = &ifp->ip6.mld;
	int64_t at = s->now + (q->max_resp_ms ? (int64_t)rng_below(&s->rng,
				(uint64_t)q->max_resp_ms * 1000) : 0);
	bool general = ip6_is_unspecified(&q->group);

	ipaddr_ntop(from, a, sizeof(a));
	ipaddr_ntop(&q->group, g, sizeof(g));
	if (m->general_at && m->general_at <= at) {
		TRACE(s, "rx MLD query %s from %s: the answer to a general query comes sooner",
		      general ? "general" : g, a);
		return;
	}
	if (general) {
		m->general_at = at ? at : 1;
		TRACE(s, "rx MLD general query from %s max response %u ms: answer in %.3f s", a,
		      q->max_resp_ms, (double)(at - s->now) / 1e6);
		return;
	}
	struct mld_group *grp = mld_find(m, &q->group);
	if (!grp || grp->refs == 0) {
		stats_inc(&s->stats, "mld.query_other_group");
		TRACE(s, "rx MLD query for %s from %s: not a group of ours", g, a);
		return;
	}
	if (!grp->answer_at || at < grp->answer_at)
		grp->answer_at = at ? at : 1;
	TRACE(s, "rx MLD query for %s from %s max response %u ms%s: answer in %.3f s", g, a,
	      q->max_resp_ms, q->nsrc ? " (source-specific, answered for every source)" : "",
	      (double)(grp->answer_at - s->now) / 1e6);
}

/* See mld.h. RFC 3810 5.1.14: a query from anything but a link-local
 * address is discarded; RFC 3810 5: hop limit 1 and a Router Alert. A
 * report from another listener changes nothing for a version 2 host (6:
 * no suppression). Consumes p. */
void mld_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *rx)
{
	char a[IPADDR_STRLEN];
	const char *reason;
	struct mld_query q;
	int nrec;

	ipaddr_ntop(&rx->src, a, sizeof(a));
	switch (p->data[0]) {
	case MLD_QUERY:
		stats_inc(&s->stats, "mld.rx_query");
		if (!ip6_is_linklocal(&rx->src)) {
			reason = "mld.bad_source";
			goto drop;
		}
		if (rx->ttl != 1) {
			reason = "mld.bad_hop_limit";
			goto drop;
		}
		if (!mld_has_router_alert(rx->hdr, rx->hdr_len)) {
			reason = "mld.no_router_alert";
			goto drop;
		}
		reason = mld_parse_query(p->data, p->len, &q);
		if (reason)
			goto drop;
		if (!ifp->ip6.mld.off)
			mld_query(s, ifp, &q, &rx->src);
		pkt_free(p);
		return;
	case MLD_V2_REPORT:
		stats_inc(&s->stats, "mld.rx_report");
		reason = mld_parse_report(p->data, p->len, &nrec);
		if (!reason)
			reason = "mld.report_ignored";
		goto drop;
	default:
		/* RFC 3810 8: MLDv1 compatibility is not spoken */
		reason = "mld.v1_ignored";
		goto drop;
	}
drop:
	stack_drop(s, p, reason, "type %u from %s", p->data[0], a);
}

/* See mld.h. */
void mld_dump(const struct netif *ifp, int64_t now, FILE *out)
{
	char a[IPADDR_STRLEN];
	const struct mld_if *m = &ifp->ip6.mld;

	for (int i = 0; i < MLD_GROUPS; i++) {
		const struct mld_group *grp = &m->g[i];
		if (!grp->g.family)
			continue;
		fprintf(out, "%s group %s %s", ifp->dev->name, ipaddr_ntop(&grp->g, a, sizeof(a)),
			grp->refs > 0 ? "joined" : "leaving");
		if (grp->refs > 1)
			fprintf(out, " (%d addresses)", grp->refs);
		if (m->off)
			fprintf(out, " mld off");
		else if (grp->retrans > 0)
			fprintf(out, " reports pending %d, next in %.3fs", grp->retrans,
				(double)(grp->change_at > now ? grp->change_at - now : 0) / 1e6);
		fputc('\n', out);
	}
}

/* The stateful packet filter: rules, connection tracking, the two hooks.
 * See firewall.h; ip/README.md ("The firewall") tells the story.
 *
 * The filter reads the packets itself, the way netfilter's conntrack does:
 * the addresses from the IP header, the ports and flags from the first
 * bytes of the transport header, the type and the quote of an ICMP
 * message. It keeps a flow for each conversation it has seen open, and
 * never asks TCP or UDP what they hold: a layer of its own.
 *
 * Order of the questions asked of an inbound packet:
 *   1. neighbor discovery or MLD (ICMPv6)?    never filtered
 *   2. part of a tracked flow?                 established: passes
 *   3. an ICMP error quoting a tracked flow?   related: passes
 *   4. the rules, in order, first match wins; no match: denied
 * A packet a rule allows opens a flow when it starts one (a TCP SYN, a
 * UDP datagram, an echo request). Every packet the host sends opens or
 * refreshes its flow (fw_output). Denied packets are dropped silently: no
 * RST, no port unreachable, so a scanner sees "filtered". */
#include "ip/firewall.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ip/icmp.h"
#include "ip/icmpv6.h"
#include "ip/ipv4.h"
#include "stack/byteorder.h"
#include "stack/pkt.h"
#include "stack/rng.h"
#include "stack/siphash.h"
#include "stack/stack.h"

/* RFC 9293 3.1: the control bits at byte 13 of the TCP header (read here,
 * not through tcp/: the filter parses what it needs by itself). */
#define FW_TCP_FIN 0x01
#define FW_TCP_SYN 0x02
#define FW_TCP_RST 0x04
#define FW_TCP_ACK 0x10

/* ICMPv6 types of neighbor discovery (RFC 4861 4) and MLD (RFC 3810 5,
 * RFC 2710 3): never filtered. */
#define ICMP6_MLD_QUERY 130
#define ICMP6_MLD_REPORT 131
#define ICMP6_MLD_DONE 132
#define ICMP6_MLD2_REPORT 143

/* What the filter knows of one packet, from its side of the wire. */
struct fw_pkt {
	struct ipaddr src, dst;
	uint8_t proto;           /* as on the wire: 1, 6, 17, 58... */
	bool icmp;               /* ICMP or ICMPv6 */
	uint16_t sport, dport;   /* TCP, UDP; ICMP echo: the identifier in both */
	uint8_t flags;           /* TCP control bits */
	uint8_t type, code;      /* ICMP */
	const uint8_t *l4;       /* the transport header */
	size_t l4len;
	size_t len;              /* the whole datagram */
};

/* The key of a flow, from the host's side. */
struct fw_key {
	uint8_t proto;
	struct ipaddr local, remote;
	uint16_t lport, rport;
};

/* ---- Rules ---- */

/* Writes "rule N 'TEXT': " + the message into err. Returns -1. */
static int fw_err(char *err, size_t errlen, int n, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fw_err(char *err, size_t errlen, int n, const char *rule, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "rule %d '%s': %s", n, rule, msg);
	return -1;
}

#define FW_GRAMMAR "a rule is: allow|deny [tcp|udp|icmp] [PORTS|echo] [from PREFIX], " \
		   "e.g. 'allow tcp 22 from 10.0.0.0/24'"

/* Parses "80", "80,443", "8000-8080,22" into r. Returns 0 or -1. */
static int fw_parse_ports(const char *tok, struct fw_rule *r)
{
	const char *c = tok;
	while (*c) {
		if (r->nports == FW_MAX_PORTS)
			return -1;
		char *end;
		if (!isdigit((unsigned char)*c))
			return -1;
		long lo = strtol(c, &end, 10), hi = lo;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -1;
			hi = strtol(end + 1, &end, 10);
		}
		if (lo < 1 || hi > 65535 || hi < lo || (*end && *end != ','))
			return -1;
		r->lo[r->nports] = (uint16_t)lo;
		r->hi[r->nports] = (uint16_t)hi;
		r->nports++;
		c = *end == ',' ? end + 1 : end;
		if (*end == ',' && !*c)
			return -1;
	}
	return 0;
}

/* Parses one rule (its text in line, number n) into r. */
static int fw_parse_rule(char *line, int n, struct fw_rule *r, char *err, size_t errlen)
{
	char copy[256];
	char *tok[8] = { 0 };
	int ntok = 0;
	char *save = NULL;

	snprintf(copy, sizeof(copy), "%s", line);
	for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (ntok == 8)
			return fw_err(err, errlen, n, copy, "too many words; " FW_GRAMMAR);
		tok[ntok++] = t;
	}
	memset(r, 0, sizeof(*r));
	if (ntok == 0)
		return fw_err(err, errlen, n, copy, "empty; " FW_GRAMMAR);
	int i = 0;
	if (strcmp(tok[i], "allow") == 0 || strcmp(tok[i], "accept") == 0)
		r->allow = true;
	else if (strcmp(tok[i], "deny") == 0 || strcmp(tok[i], "drop") == 0)
		r->allow = false;
	else
		return fw_err(err, errlen, n, copy, "begins with '%s'; begin with allow or deny, e.g. "
			      "'allow tcp 80' or 'deny'", tok[i]);
	i++;
	if (i < ntok && strcmp(tok[i], "from") != 0) {
		if (strcmp(tok[i], "tcp") == 0)
			r->proto = IP_PROTO_TCP;
		else if (strcmp(tok[i], "udp") == 0)
			r->proto = IP_PROTO_UDP;
		else if (strcmp(tok[i], "icmp") == 0 || strcmp(tok[i], "icmp6") == 0 ||
			 strcmp(tok[i], "icmpv6") == 0)
			r->proto = IP_PROTO_ICMP;
		else if (isdigit((unsigned char)tok[i][0]))
			return fw_err(err, errlen, n, copy, "say which protocol the port is for, e.g. "
				      "'%s tcp %s' or '%s udp %s'", tok[0], tok[i], tok[0], tok[i]);
		else
			return fw_err(err, errlen, n, copy, "'%s' is not a protocol; write tcp, udp or "
				      "icmp (icmp is ICMP and ICMPv6)", tok[i]);
		i++;
	}
	if (i < ntok && strcmp(tok[i], "from") != 0) {
		if (r->proto == IP_PROTO_ICMP) {
			if (strcmp(tok[i], "echo") != 0)
				return fw_err(err, errlen, n, copy, "icmp takes 'echo' (ping) or nothing "
					      "(every type), e.g. 'allow icmp echo'; not '%s'", tok[i]);
			r->echo = true;
		} else if (fw_parse_ports(tok[i], r) < 0) {
			return fw_err(err, errlen, n, copy, "'%s' is not a list of ports; write ports "
				      "1-65535, a list 80,443 or a range 8000-8080 (at most %d)",
				      tok[i], FW_MAX_PORTS);
		}
		i++;
	}
	if (i < ntok && strcmp(tok[i], "from") == 0) {
		if (i + 1 >= ntok)
			return fw_err(err, errlen, n, copy, "'from' needs a prefix, e.g. 'from 10.0.0.0/24' "
				      "or 'from fd00::/64'");
		if (ipaddr_pton_prefix(tok[i + 1], &r->from, &r->from_len) < 0)
			return fw_err(err, errlen, n, copy, "'%s' is not an address or prefix; write e.g. "
				      "10.0.0.0/24, 10.0.0.1 or fd00::/64", tok[i + 1]);
		struct ipaddr m = r->from;
		ipaddr_mask(&m, r->from_len);
		if (!ipaddr_eq(&m, &r->from)) {
			char a[IPADDR_STRLEN];
			return fw_err(err, errlen, n, copy, "'%s' has bits set past its length; "
				      "write %s/%d", tok[i + 1], ipaddr_ntop(&m, a, sizeof(a)),
				      r->from_len);
		}
		r->has_from = true;
		i += 2;
	}
	if (i < ntok)
		return fw_err(err, errlen, n, copy, "unexpected '%s'; " FW_GRAMMAR, tok[i]);

	/* the rule written back in one form, for tapctl and --trace */
	int w = snprintf(r->text, sizeof(r->text), "%s", r->allow ? "allow" : "deny");
	if (r->proto)
		w += snprintf(r->text + w, sizeof(r->text) - (size_t)w, " %s",
			      r->proto == IP_PROTO_TCP ? "tcp" : r->proto == IP_PROTO_UDP ? "udp" : "icmp");
	if (r->echo)
		w += snprintf(r->text + w, sizeof(r->text) - (size_t)w, " echo");
	for (int k = 0; k < r->nports; k++) {
		w += snprintf(r->text + w, sizeof(r->text) - (size_t)w, "%s%u", k ? "," : " ", r->lo[k]);
		if (r->hi[k] != r->lo[k])
			w += snprintf(r->text + w, sizeof(r->text) - (size_t)w, "-%u", r->hi[k]);
	}
	if (r->has_from) {
		char a[IPADDR_STRLEN];
		snprintf(r->text + w, sizeof(r->text) - (size_t)w, " from %s/%d",
			 ipaddr_ntop(&r->from, a, sizeof(a)), r->from_len);
	}
	return 0;
}

/* A rule that matches every packet: nothing after it can match. */
static bool fw_rule_catch_all(const struct fw_rule *r)
{
	return !r->proto && !r->nports && !r->has_from;
}

/* See firewall.h. */
int fw_rules_parse(const char *text, struct fw_rules *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	char *buf = strdup(text);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* '#' to the end of its line is a comment */
	for (char *c = buf; (c = strchr(c, '#'));) {
		size_t k = strcspn(c, "\n");
		memset(c, ' ', k);
		c += k;
	}
	int n = 0, rc = 0;
	char *save = NULL;
	for (char *line = strtok_r(buf, ";\n", &save); line; line = strtok_r(NULL, ";\n", &save)) {
		if (strspn(line, " \t\r") == strlen(line))
			continue;
		n++;
		char shown[256];
		snprintf(shown, sizeof(shown), "%s", line + strspn(line, " \t"));
		if (r->n == FW_MAX_RULES) {
			rc = fw_err(err, errlen, n, shown, "more than %d rules; join ports into one "
				    "rule, e.g. 'allow tcp 80,443,8000-8080'", FW_MAX_RULES);
			break;
		}
		if (r->n > 0 && fw_rule_catch_all(&r->rule[r->n - 1])) {
			rc = fw_err(err, errlen, n, shown, "can never match: rule %d '%s' before it "
				    "matches every packet; put it last", n - 1, r->rule[r->n - 1].text);
			break;
		}
		if (fw_parse_rule(line, n, &r->rule[r->n], err, errlen) < 0) {
			rc = -1;
			break;
		}
		r->n++;
	}
	free(buf);
	if (rc == 0 && r->n == 0) {
		snprintf(err, errlen, "no rules; write e.g. 'allow tcp 80; allow icmp echo; deny'");
		rc = -1;
	}
	return rc;
}

/* ---- Packets ---- */

/* ICMP error types (RFC 792; RFC 4443 3) whose body quotes a datagram. */
static bool fw_icmp_is_error(const struct fw_pkt *pk)
{
	if (pk->proto == IP_PROTO_ICMP)
		return pk->type == ICMP_DEST_UNREACH || pk->type == 4 /* source quench */ ||
		       pk->type == 5 /* redirect */ || pk->type == ICMP_TIME_EXCEEDED ||
		       pk->type == ICMP_PARAM_PROBLEM;
	return pk->type >= ICMP6_DEST_UNREACH && pk->type <= ICMP6_PARAM_PROBLEM;
}

static bool fw_icmp_is_echo_request(const struct fw_pkt *pk)
{
	return pk->type == (pk->proto == IP_PROTO_ICMP ? ICMP_ECHO_REQUEST : ICMP6_ECHO_REQUEST);
}

static bool fw_icmp_is_echo_reply(const struct fw_pkt *pk)
{
	return pk->type == (pk->proto == IP_PROTO_ICMP ? ICMP_ECHO_REPLY : ICMP6_ECHO_REPLY);
}

/* Reads the transport fields of the datagram at buf (len bytes, the
 * transport header at l4off) into pk. Returns NULL or a drop reason. */
static const char *fw_parse(const uint8_t *buf, size_t len, uint8_t proto, size_t l4off,
			    struct fw_pkt *pk)
{
	memset(pk, 0, sizeof(*pk));
	if ((buf[0] >> 4) == 4) {
		pk->src = ipaddr_v4(be32_get(buf + 12));
		pk->dst = ipaddr_v4(be32_get(buf + 16));
	} else {
		pk->src.family = pk->dst.family = AF_INET6;
		memcpy(pk->src.a, buf + 8, 16);
		memcpy(pk->dst.a, buf + 24, 16);
	}
	pk->proto = proto;
	pk->icmp = proto == IP_PROTO_ICMP || proto == IP_PROTO_ICMPV6;
	pk->len = len;
	pk->l4 = buf + l4off;
	pk->l4len = len > l4off ? len - l4off : 0;
	switch (proto) {
	case IP_PROTO_TCP:
		/* RFC 9293 3.1: 20 bytes at least; ports, then flags at 13 */
		if (pk->l4len < 20)
			return "fw.short_header";
		pk->flags = pk->l4[13];
		break;
	case IP_PROTO_UDP:
		if (pk->l4len < 8) /* RFC 768 */
			return "fw.short_header";
		break;
	case IP_PROTO_ICMP:
	case IP_PROTO_ICMPV6:
		/* RFC 792, RFC 4443 2.1: type, code, checksum, then 4 bytes
		 * (the echo identifier and sequence, RFC 792 echo) */
		if (pk->l4len < 8)
			return "fw.short_header";
		pk->type = pk->l4[0];
		pk->code = pk->l4[1];
		if (fw_icmp_is_echo_request(pk) || fw_icmp_is_echo_reply(pk))
			pk->sport = pk->dport = be16_get(pk->l4 + 4);
		return NULL;
	default:
		return NULL;
	}
	pk->sport = be16_get(pk->l4);
	pk->dport = be16_get(pk->l4 + 2);
	return NULL;
}

/* The key of pk's flow: inbound, the host is the destination. ICMP echo
 * flows are keyed by the identifier alone (RFC 792: it matches replies to
 * requests). */
static struct fw_key fw_key_of(const struct fw_pkt *pk, bool in)
{
	struct fw_key k = { .proto = pk->proto };
	k.local = in ? pk->dst : pk->src;
	k.remote = in ? pk->src : pk->dst;
	k.lport = in ? pk->dport : pk->sport;
	k.rport = pk->icmp ? 0 : in ? pk->sport : pk->dport;
	return k;
}

/* "TCP 10.0.0.1:40000 -> 10.0.0.2:80 SYN" and the like, for trace lines. */
static const char *fw_describe(const struct fw_pkt *pk, char *buf, size_t len)
{
	char a[IPADDR_PORT_STRLEN], b[IPADDR_PORT_STRLEN];
	if (pk->proto == IP_PROTO_TCP) {
		snprintf(buf, len, "TCP %s -> %s%s%s%s%s",
			 ipaddr_port_str(&pk->src, pk->sport, a, sizeof(a)),
			 ipaddr_port_str(&pk->dst, pk->dport, b, sizeof(b)),
			 pk->flags & FW_TCP_SYN ? " SYN" : "", pk->flags & FW_TCP_ACK ? " ACK" : "",
			 pk->flags & FW_TCP_FIN ? " FIN" : "", pk->flags & FW_TCP_RST ? " RST" : "");
	} else if (pk->proto == IP_PROTO_UDP) {
		snprintf(buf, len, "UDP %s -> %s", ipaddr_port_str(&pk->src, pk->sport, a, sizeof(a)),
			 ipaddr_port_str(&pk->dst, pk->dport, b, sizeof(b)));
	} else if (pk->icmp) {
		snprintf(buf, len, "%s %s -> %s type %u code %u", pk->proto == IP_PROTO_ICMP ?
			 "ICMP" : "ICMPv6", ipaddr_ntop(&pk->src, a, sizeof(a)),
			 ipaddr_ntop(&pk->dst, b, sizeof(b)), pk->type, pk->code);
		if (fw_icmp_is_echo_request(pk) || fw_icmp_is_echo_reply(pk)) {
			size_t w = strlen(buf);
			snprintf(buf + w, len - w, " (echo %s id %u)",
				 fw_icmp_is_echo_request(pk) ? "request" : "reply", pk->sport);
		}
	} else {
		snprintf(buf, len, "proto %u %s -> %s", pk->proto, ipaddr_ntop(&pk->src, a, sizeof(a)),
			 ipaddr_ntop(&pk->dst, b, sizeof(b)));
	}
	return buf;
}

/* ---- The flow table ---- */

static const char *fw_proto_name(uint8_t proto)
{
	switch (proto) {
	case IP_PROTO_TCP: return "tcp";
	case IP_PROTO_UDP: return "udp";
	case IP_PROTO_ICMP: return "icmp";
	case IP_PROTO_ICMPV6: return "icmp6";
	default: return "?";
	}
}

/* The bucket of k: SipHash under a key from the host's generator, so a
 * peer cannot aim many flows at one chain. */
static unsigned fw_hash(const struct fw *fw, const struct fw_key *k)
{
	uint8_t m[40];
	m[0] = k->proto;
	m[1] = k->local.family;
	memcpy(m + 2, k->local.a, 16);
	memcpy(m + 18, k->remote.a, 16);
	be16_put(m + 34, k->lport);
	be16_put(m + 36, k->rport);
	m[38] = m[39] = 0;
	return (unsigned)(siphash24(fw->key, m, sizeof(m)) & (fw->nbuckets - 1));
}

static bool fw_key_eq(const struct fw_flow *f, const struct fw_key *k)
{
	return f->proto == k->proto && f->lport == k->lport && f->rport == k->rport &&
	       ipaddr_eq(&f->local, &k->local) && ipaddr_eq(&f->remote, &k->remote);
}

static struct fw_key fw_flow_key(const struct fw_flow *f)
{
	return (struct fw_key){ .proto = f->proto, .local = f->local, .remote = f->remote,
				.lport = f->lport, .rport = f->rport };
}

/* "tcp 10.0.0.2:80 <- 10.0.0.1:41000": the arrow points away from who
 * opened it; an echo flow shows its identifier. */
static const char *fw_flow_str(const struct fw_flow *f, char *buf, size_t len)
{
	char l[IPADDR_PORT_STRLEN + 12], r[IPADDR_PORT_STRLEN];
	if (f->proto == IP_PROTO_ICMP || f->proto == IP_PROTO_ICMPV6) {
		char t[IPADDR_STRLEN];
		snprintf(l, sizeof(l), "%s id %u", ipaddr_ntop(&f->local, t, sizeof(t)), f->lport);
		ipaddr_ntop(&f->remote, r, sizeof(r));
	} else {
		ipaddr_port_str(&f->local, f->lport, l, sizeof(l));
		ipaddr_port_str(&f->remote, f->rport, r, sizeof(r));
	}
	snprintf(buf, len, "%s %s %s %s", fw_proto_name(f->proto), l, f->inbound ? "<-" : "->", r);
	return buf;
}

/* Unlinks flow idx from its chain and puts it on the free list. */
static void fw_flow_remove(struct fw *fw, int32_t idx)
{
	struct fw_flow *f = &fw->flows[idx];
	struct fw_key k = fw_flow_key(f);
	int32_t *link = &fw->bucket[fw_hash(fw, &k)];
	while (*link != idx)
		link = &fw->flows[*link].next;
	*link = f->next;
	f->used = false;
	f->next = fw->free;
	fw->free = idx;
	fw->nflows--;
}

/* Forgets flows whose time is up. Returns how many. */
static unsigned fw_reap(struct stack *s)
{
	struct fw *fw = s->fw;
	unsigned n = 0;
	char d[160];
	for (unsigned i = 0; i < fw->max_flows; i++) {
		struct fw_flow *f = &fw->flows[i];
		if (f->used && f->expires <= s->now) {
			TRACE(s, "fw flow %s expired", fw_flow_str(f, d, sizeof(d)));
			fw_flow_remove(fw, (int32_t)i);
			stats_inc(&s->stats, "fw.flows_expired");
			n++;
		}
	}
	return n;
}

/* The live flow with key k, or NULL. One found expired is forgotten on
 * the spot: expiry needs no timer, only the stack's time. */
static struct fw_flow *fw_lookup(struct stack *s, const struct fw_key *k)
{
	struct fw *fw = s->fw;
	for (int32_t i = fw->bucket[fw_hash(fw, k)]; i >= 0; i = fw->flows[i].next) {
		struct fw_flow *f = &fw->flows[i];
		if (!fw_key_eq(f, k))
			continue;
		if (f->expires <= s->now) {
			char d[160];
			TRACE(s, "fw flow %s expired", fw_flow_str(f, d, sizeof(d)));
			fw_flow_remove(fw, i);
			stats_inc(&s->stats, "fw.flows_expired");
			return NULL;
		}
		return f;
	}
	return NULL;
}

/* A free slot for a new flow. When the table is full: the expired flows
 * are reaped; if none was, the least recently seen flow that is not
 * assured (a TCP handshake never completed, a UDP datagram never answered,
 * an echo) is evicted, as Linux's early_drop does; if every flow is
 * assured, there is no slot (fw.table_full) and the packet goes untracked. */
static int32_t fw_slot(struct stack *s)
{
	struct fw *fw = s->fw;
	if (fw->free < 0 && fw_reap(s) == 0) {
		int32_t victim = -1;
		for (unsigned i = 0; i < fw->max_flows; i++) {
			const struct fw_flow *f = &fw->flows[i];
			if (f->used && !f->assured && (victim < 0 || f->last < fw->flows[victim].last))
				victim = (int32_t)i;
		}
		if (victim < 0) {
			stats_inc(&s->stats, "fw.table_full");
			return -1;
		}
		char d[160];
		TRACE(s, "fw table full: evicting flow %s", fw_flow_str(&fw->flows[victim], d, sizeof(d)));
		fw_flow_remove(fw, victim);
		stats_inc(&s->stats, "fw.flows_evicted");
	}
	int32_t i = fw->free;
	fw->free = fw->flows[i].next;
	return i;
}

/* Opens a flow for k, opened by an inbound packet or by the host. Returns
 * it, or NULL when the table has no room. */
static struct fw_flow *fw_open(struct stack *s, const struct fw_key *k, bool inbound)
{
	struct fw *fw = s->fw;
	int32_t i = fw_slot(s);
	if (i < 0)
		return NULL;
	struct fw_flow *f = &fw->flows[i];
	memset(f, 0, sizeof(*f));
	f->used = true;
	f->proto = k->proto;
	f->local = k->local;
	f->remote = k->remote;
	f->lport = k->lport;
	f->rport = k->rport;
	f->inbound = inbound;
	f->created = s->now;
	unsigned b = fw_hash(fw, k);
	f->next = fw->bucket[b];
	fw->bucket[b] = i;
	fw->nflows++;
	stats_inc(&s->stats, "fw.flows_opened");
	char d[160];
	TRACE(s, "fw new flow %s", fw_flow_str(f, d, sizeof(d)));
	return f;
}

/* Moves flow f on with packet pk (in: it came in) and sets its next
 * deadline: a packet seen the other way from the opener's makes it
 * replied; TCP follows the control bits (RFC 9293 3.5, 3.6: FIN each way
 * closes, a RST ends it), UDP and ICMP only time out. */
static void fw_flow_update(struct stack *s, struct fw_flow *f, const struct fw_pkt *pk, bool in)
{
	bool from_opener = in == f->inbound;
	int64_t timeout;

	f->last = s->now;
	if (in)
		f->pkts_in++;
	else
		f->pkts_out++;
	if (!from_opener)
		f->replied = true;
	switch (f->proto) {
	case IP_PROTO_TCP:
		if (pk->flags & FW_TCP_RST) {
			f->tcp = FW_TCP_CLOSED;
		} else if (f->tcp != FW_TCP_CLOSED) {
			if (pk->flags & FW_TCP_FIN)
				f->fin |= in ? 2 : 1;
			if (f->fin == 3)
				f->tcp = FW_TCP_CLOSED;
			else if (f->fin)
				f->tcp = FW_TCP_HALF_CLOSED;
			else if (f->tcp == FW_TCP_NEW && f->replied && from_opener &&
				 (pk->flags & (FW_TCP_SYN | FW_TCP_ACK)) == FW_TCP_ACK)
				/* RFC 9293 3.5: the opener's ACK of the SYN-ACK
				 * completes the three-way handshake */
				f->tcp = FW_TCP_ESTABLISHED;
		}
		if (f->tcp != FW_TCP_NEW)
			f->assured = true;
		timeout = f->tcp == FW_TCP_NEW ? FW_TCP_NEW_US :
			  f->tcp == FW_TCP_ESTABLISHED ? FW_TCP_ESTABLISHED_US :
			  f->tcp == FW_TCP_HALF_CLOSED ? FW_TCP_HALF_CLOSED_US : FW_TCP_CLOSED_US;
		/* a closed flow is not worth keeping over a live one */
		if (f->tcp == FW_TCP_CLOSED)
			f->assured = false;
		break;
	case IP_PROTO_UDP:
		f->assured = f->replied;
		timeout = f->replied ? FW_UDP_STREAM_US : FW_UDP_US;
		break;
	default:
		timeout = FW_ICMP_US;
		break;
	}
	f->expires = s->now + timeout;
}

/* True if pk may open a flow: a TCP SYN without ACK (RFC 9293 3.5, the
 * first segment of a handshake), any UDP datagram, an echo request. */
static bool fw_opens(const struct fw_pkt *pk)
{
	if (pk->proto == IP_PROTO_TCP)
		return (pk->flags & (FW_TCP_SYN | FW_TCP_ACK | FW_TCP_RST)) == FW_TCP_SYN;
	if (pk->proto == IP_PROTO_UDP)
		return true;
	return pk->icmp && fw_icmp_is_echo_request(pk);
}

/* The tracked flow pk (inbound) belongs to, or NULL. An echo flow takes
 * replies when the host opened it, requests when the peer did; a TCP flow
 * that is closed takes no new SYN (that is a new connection: the rules
 * decide, as for the first). */
static struct fw_flow *fw_established(struct stack *s, const struct fw_pkt *pk)
{
	if (pk->icmp && !fw_icmp_is_echo_request(pk) && !fw_icmp_is_echo_reply(pk))
		return NULL;
	if (!pk->icmp && pk->proto != IP_PROTO_TCP && pk->proto != IP_PROTO_UDP)
		return NULL;
	struct fw_key k = fw_key_of(pk, true);
	struct fw_flow *f = fw_lookup(s, &k);
	if (!f)
		return NULL;
	if (pk->icmp && fw_icmp_is_echo_request(pk) != f->inbound)
		return NULL;
	if (pk->proto == IP_PROTO_TCP && f->tcp == FW_TCP_CLOSED &&
	    (pk->flags & (FW_TCP_SYN | FW_TCP_ACK)) == FW_TCP_SYN) {
		fw_flow_remove(s->fw, (int32_t)(f - s->fw->flows));
		return NULL;
	}
	return f;
}

/* For an inbound ICMP error: the tracked flow of the datagram it quotes
 * (RFC 792, RFC 1122 3.2.2: the quote is the IP header of a datagram the
 * host sent and at least 8 bytes of what followed; RFC 4443 2.4 (c) for
 * ICMPv6), or NULL. The quote is from the host's side: its source is the
 * host. A quoted IPv6 datagram must carry its transport header right after
 * the fixed header (no extension headers are walked in a quote). */
static struct fw_flow *fw_related(struct stack *s, const struct fw_pkt *pk)
{
	const uint8_t *q = pk->l4 + 8;
	size_t qlen = pk->l4len - 8;
	struct fw_pkt in;
	size_t qhl;
	uint8_t qproto;

	if (pk->proto == IP_PROTO_ICMP) {
		if (qlen < 20 || (q[0] >> 4) != 4)
			return NULL;
		qhl = (size_t)(q[0] & 0x0f) * 4;
		qproto = q[9];
		if (qhl < 20)
			return NULL;
	} else {
		if (qlen < 40 || (q[0] >> 4) != 6)
			return NULL;
		qhl = 40;
		qproto = q[6];
	}
	if (qlen < qhl + 8)
		return NULL;
	/* the quoted datagram, read as if the host were sending it: parsed
	 * with only its first 8 transport bytes (enough for the ports) */
	memset(&in, 0, sizeof(in));
	if (qproto == IP_PROTO_TCP || qproto == IP_PROTO_UDP) {
		fw_parse(q, qhl + 20 > qlen ? qlen : qhl + 20, qproto, qhl, &in);
		in.sport = be16_get(q + qhl);
		in.dport = be16_get(q + qhl + 2);
	} else if (qproto == IP_PROTO_ICMP || qproto == IP_PROTO_ICMPV6) {
		if (fw_parse(q, qlen, qproto, qhl, &in) || !fw_icmp_is_echo_request(&in))
			return NULL;
	} else {
		return NULL;
	}
	struct fw_key k = fw_key_of(&in, false);
	return fw_lookup(s, &k);
}

/* True if rule r matches the inbound packet pk. */
static bool fw_rule_match(const struct fw_rule *r, const struct fw_pkt *pk)
{
	if (r->proto == IP_PROTO_ICMP) {
		if (!pk->icmp || (r->echo && !fw_icmp_is_echo_request(pk)))
			return false;
	} else if (r->proto && r->proto != pk->proto) {
		return false;
	}
	if (r->nports) {
		int k;
		for (k = 0; k < r->nports; k++)
			if (pk->dport >= r->lo[k] && pk->dport <= r->hi[k])
				break;
		if (k == r->nports)
			return false;
	}
	if (r->has_from && (r->from.family != pk->src.family ||
			    !ipaddr_prefix_match(&pk->src, &r->from, r->from_len)))
		return false;
	return true;
}

/* See firewall.h. */
bool fw_input(struct stack *s, struct pkt *p, uint8_t proto, size_t l4off)
{
	struct fw *fw = s->fw;
	struct fw_pkt pk;
	char d[200];

	const char *reason = fw_parse(p->data, p->len, proto, l4off, &pk);
	if (reason) {
		stack_drop(s, p, reason, "%s", fw_describe(&pk, d, sizeof(d)));
		return false;
	}
	/* 1. RFC 4890 4.4.1 (traffic for the host itself that must not be
	 *    dropped), RFC 4861 and RFC 3810: neighbor discovery and MLD hold the link
	 *    together (without them there is no IPv6 at all, as there is no
	 *    IPv4 without ARP, which never comes here); never filtered */
	if (proto == IP_PROTO_ICMPV6 &&
	    ((pk.type >= ICMP6_ROUTER_SOLICIT && pk.type <= ICMP6_REDIRECT) ||
	     (pk.type >= ICMP6_MLD_QUERY && pk.type <= ICMP6_MLD_DONE) || pk.type == ICMP6_MLD2_REPORT)) {
		stats_inc(&s->stats, "fw.never_filtered");
		return true;
	}
	/* 2. established: a packet of a flow the host or a rule opened */
	struct fw_flow *f = fw_established(s, &pk);
	if (f) {
		fw_flow_update(s, f, &pk, true);
		stats_inc(&s->stats, "fw.established");
		TRACE(s, "fw in %s: established", fw_describe(&pk, d, sizeof(d)));
		return true;
	}
	/* 3. related: an ICMP error about a datagram of a tracked flow */
	if (pk.icmp && fw_icmp_is_error(&pk) && (f = fw_related(s, &pk))) {
		char fl[160];
		stats_inc(&s->stats, "fw.related");
		TRACE(s, "fw in %s: related to flow %s", fw_describe(&pk, d, sizeof(d)),
		      fw_flow_str(f, fl, sizeof(fl)));
		return true;
	}
	/* 4. the rules, in order; the first that matches decides */
	for (int i = 0; i < fw->rules.n; i++) {
		struct fw_rule *r = &fw->rules.rule[i];
		if (!fw_rule_match(r, &pk))
			continue;
		r->packets++;
		r->bytes += p->len;
		if (!r->allow) {
			TRACE(s, "fw in %s: deny, rule %d '%s'", fw_describe(&pk, d, sizeof(d)), i + 1,
			      r->text);
			stack_drop(s, p, "fw.denied", "by rule %d", i + 1);
			return false;
		}
		stats_inc(&s->stats, "fw.allowed");
		TRACE(s, "fw in %s: allow, rule %d '%s'", fw_describe(&pk, d, sizeof(d)), i + 1,
		      r->text);
		if (fw_opens(&pk)) {
			struct fw_key k = fw_key_of(&pk, true);
			f = fw_lookup(s, &k);
			if (!f)
				f = fw_open(s, &k, true);
			if (f)
				fw_flow_update(s, f, &pk, true);
		}
		return true;
	}
	fw->default_packets++;
	fw->default_bytes += p->len;
	TRACE(s, "fw in %s: deny, no rule matched (the default)", fw_describe(&pk, d, sizeof(d)));
	stack_drop(s, p, "fw.denied", "by the default");
	return false;
}

/* See firewall.h. */
void fw_output(struct stack *s, const struct pkt *p, uint8_t proto, size_t l4off)
{
	struct fw_pkt pk;

	if (fw_parse(p->data, p->len, proto, l4off, &pk))
		return;
	/* ICMP errors and the messages of neighbor discovery and MLD open
	 * nothing; an echo reply refreshes the flow its request opened */
	if (pk.icmp && !fw_icmp_is_echo_request(&pk) && !fw_icmp_is_echo_reply(&pk))
		return;
	if (!pk.icmp && proto != IP_PROTO_TCP && proto != IP_PROTO_UDP)
		return;
	struct fw_key k = fw_key_of(&pk, false);
	struct fw_flow *f = fw_lookup(s, &k);
	if (f && proto == IP_PROTO_TCP && f->tcp == FW_TCP_CLOSED &&
	    (pk.flags & (FW_TCP_SYN | FW_TCP_ACK)) == FW_TCP_SYN) {
		/* the host opens a new connection on a closed flow's ports */
		fw_flow_remove(s->fw, (int32_t)(f - s->fw->flows));
		f = NULL;
	}
	/* Whatever the host sends opens its flow (TCP: any segment but a
	 * RST, so a connection whose flow was evicted is picked up again,
	 * as Linux's nf_conntrack_tcp_loose does), except an echo reply */
	if (!f && (pk.proto == IP_PROTO_TCP ? !(pk.flags & FW_TCP_RST) :
		   pk.icmp ? fw_icmp_is_echo_request(&pk) : true))
		f = fw_open(s, &k, false);
	if (f)
		fw_flow_update(s, f, &pk, false);
}

/* ---- Setup and the dump ---- */

/* See firewall.h. */
int fw_enable(struct stack *s, const char *rules, unsigned max_flows, char *err, size_t errlen)
{
	if (max_flows == 0)
		max_flows = FW_FLOWS_DEFAULT;
	if (max_flows > FW_FLOWS_MAX) {
		snprintf(err, errlen, "at most %d flows", FW_FLOWS_MAX);
		return -1;
	}
	struct fw *fw = calloc(1, sizeof(*fw));
	if (!fw) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (fw_rules_parse(rules, &fw->rules, err, errlen) < 0) {
		free(fw);
		return -1;
	}
	fw->max_flows = max_flows;
	fw->nbuckets = 1;
	while (fw->nbuckets < max_flows)
		fw->nbuckets <<= 1;
	fw->flows = calloc(max_flows, sizeof(*fw->flows));
	fw->bucket = malloc(fw->nbuckets * sizeof(*fw->bucket));
	if (!fw->flows || !fw->bucket) {
		free(fw->flows);
		free(fw->bucket);
		free(fw);
		snprintf(err, errlen, "out of memory for %u flows", max_flows);
		return -1;
	}
	for (unsigned i = 0; i < fw->nbuckets; i++)
		fw->bucket[i] = -1;
	for (unsigned i = 0; i < max_flows; i++)
		fw->flows[i].next = i + 1 < max_flows ? (int32_t)(i + 1) : -1;
	fw->free = 0;
	rng_fill(&s->rng, fw->key, sizeof(fw->key));
	fw_disable(s);
	s->fw = fw;
	return 0;
}

/* See firewall.h. */
void fw_disable(struct stack *s)
{
	if (!s->fw)
		return;
	free(s->fw->flows);
	free(s->fw->bucket);
	free(s->fw);
	s->fw = NULL;
}

/* See firewall.h. */
unsigned fw_flow_count(struct stack *s)
{
	if (!s->fw)
		return 0;
	unsigned n = 0;
	for (unsigned i = 0; i < s->fw->max_flows; i++)
		n += s->fw->flows[i].used && s->fw->flows[i].expires > s->now;
	return n;
}

static const char *fw_state_name(const struct fw_flow *f)
{
	if (f->proto == IP_PROTO_TCP) {
		static const char *names[] = { "new", "established", "half-closed", "closed" };
		return names[f->tcp];
	}
	return f->replied ? "replied" : "unreplied";
}

/* See firewall.h. */
void fw_dump(struct stack *s, FILE *out)
{
	struct fw *fw = s->fw;
	if (!fw) {
		fprintf(out, "firewall off (start the host with --firewall 'allow tcp 80; deny')\n");
		return;
	}
	fprintf(out, "firewall: %d rules, then deny; inbound packets of tracked flows pass first\n",
		fw->rules.n);
	fprintf(out, "%-4s %-44s %10s %12s\n", "rule", "", "packets", "bytes");
	for (int i = 0; i < fw->rules.n; i++)
		fprintf(out, "%-4d %-44s %10" PRIu64 " %12" PRIu64 "\n", i + 1, fw->rules.rule[i].text,
			fw->rules.rule[i].packets, fw->rules.rule[i].bytes);
	fprintf(out, "%-4s %-44s %10" PRIu64 " %12" PRIu64 "\n", "-", "deny (the default)",
		fw->default_packets, fw->default_bytes);
	fprintf(out, "flows %u of %u (--firewall-flows), established %" PRIu64 ", related %" PRIu64
		", evicted %" PRIu64 ", table full %" PRIu64 "\n", fw_flow_count(s), fw->max_flows,
		stats_get(&s->stats, "fw.established"), stats_get(&s->stats, "fw.related"),
		stats_get(&s->stats, "fw.flows_evicted"), stats_get(&s->stats, "fw.table_full"));
	for (unsigned i = 0; i < fw->max_flows; i++) {
		const struct fw_flow *f = &fw->flows[i];
		if (!f->used || f->expires <= s->now)
			continue;
		char d[160];
		fprintf(out, "  %-60s %-11s age %" PRId64 "s idle %" PRId64 "s expires %" PRId64
			"s in %" PRIu64 " out %" PRIu64 "%s\n", fw_flow_str(f, d, sizeof(d)),
			fw_state_name(f), (s->now - f->created) / 1000000, (s->now - f->last) / 1000000,
			(f->expires - s->now + 999999) / 1000000, f->pkts_in, f->pkts_out,
			f->assured ? " assured" : "");
	}
}

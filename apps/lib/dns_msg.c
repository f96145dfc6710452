/* DNS message codec (RFC 1035 4.1), with name compression both ways
 * (RFC 1035 4.1.4), the OPT pseudo-record (RFC 6891), and hardened
 * decoding: every read is checked against the message's length first. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apps/lib/dns_msg.h"
#include "stack/byteorder.h"

/* Header field offsets (RFC 1035 4.1.1). */
#define H_ID 0
#define H_FLAGS 2
#define H_QDCOUNT 4
#define H_ANCOUNT 6
#define H_NSCOUNT 8
#define H_ARCOUNT 10

/* A record's fixed fields after its owner name (RFC 1035 4.1.3). */
#define RR_FIXED 10
/* The smallest record: root owner name (1 byte) and the fixed fields. */
#define RR_MIN (1 + RR_FIXED)
#define SOA_FIXED 20 /* serial, refresh, retry, expire, minimum */

/* ---- Names */

size_t dns_name_len(const uint8_t *name)
{
	size_t n = 0;
	while (name[n] && n < DNS_NAME_MAX)
		n += 1 + name[n];
	return n + 1;
}

bool dns_name_eq(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		if (*a == 0)
			return true;
		for (int i = 1; i <= *a; i++)
			if (tolower(a[i]) != tolower(b[i]))
				return false;
		a += 1 + *a;
		b += 1 + *b;
	}
}

void dns_name_lower(uint8_t *out, const uint8_t *name)
{
	size_t n = dns_name_len(name);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)tolower(name[i]);
	/* label lengths are below 64, so tolower left them alone */
}

/* Reads a name that may be compressed, starting at *pos in buf[0..len), into
 * out, expanded. *pos moves past the name as it sits at *pos (a pointer
 * counts two bytes). RFC 1035 4.1.4: a pointer refers to a prior occurrence
 * of a name; here every pointer must point before the place the current run
 * of labels started, so pointers go strictly backwards and cannot loop.
 * Returns NULL or the reason the name is rejected. */
static const char *read_name(const uint8_t *buf, size_t len, size_t *pos, uint8_t *out)
{
	size_t p = *pos, run = *pos, n = 0;
	bool jumped = false;
	for (;;) {
		if (p >= len)
			return "dns.truncated_name";
		uint8_t c = buf[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return "dns.truncated_name";
			size_t t = (size_t)(c & 0x3f) << 8 | buf[p + 1];
			if (t < DNS_HDR_LEN || t >= len)
				return "dns.bad_pointer";
			if (t > p)
				return "dns.pointer_forward";
			if (t >= run)
				return "dns.pointer_loop";
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = run = t;
			continue;
		}
		/* 0x40-0xbf: not a label of at most 63 bytes (and not a pointer) */
		if (c > DNS_LABEL_MAX)
			return "dns.label_too_long";
		if (p + 1 + c > len)
			return "dns.truncated_name";
		/* RFC 1035 2.3.4: 255 bytes at most, the root label included */
		if (n + 1 + c + (c ? 1 : 0) > DNS_NAME_MAX)
			return "dns.name_too_long";
		memcpy(out + n, buf + p, 1 + (size_t)c);
		n += 1 + (size_t)c;
		p += 1 + (size_t)c;
		if (c == 0)
			break;
	}
	if (!jumped)
		*pos = p;
	return NULL;
}

const char *dns_name_from_text(const char *text, uint8_t out[DNS_NAME_MAX])
{
	size_t n = 0;
	const char *s = text;
	if (strcmp(s, ".") == 0)
		s++;
	while (*s) {
		size_t lab = n++; /* room for the length byte */
		uint8_t l = 0;
		while (*s && *s != '.') {
			int c = (unsigned char)*s++;
			if (c == '\\' && isdigit((unsigned char)s[0]) &&
			    isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2])) {
				c = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
				s += 3;
				if (c > 255)
					return "dns.bad_escape";
			} else if (c == '\\' && *s) {
				c = (unsigned char)*s++;
			}
			if (l == DNS_LABEL_MAX)
				return "dns.label_too_long";
			if (n + 2 > DNS_NAME_MAX)
				return "dns.name_too_long";
			out[n++] = (uint8_t)c;
			l++;
		}
		if (l == 0)
			return "dns.empty_label";
		out[lab] = l;
		if (*s == '.')
			s++;
	}
	out[n] = 0;
	return NULL;
}

char *dns_name_to_text(const uint8_t *name, char *out)
{
	size_t o = 0;
	if (*name == 0) {
		strcpy(out, ".");
		return out;
	}
	while (*name) {
		for (int i = 1; i <= *name; i++) {
			int c = name[i];
			if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' ||
			    c == '@' || c == '$') {
				out[o++] = '\\';
				out[o++] = (char)c;
			} else if (c <= ' ' || c >= 0x7f) {
				o += (size_t)sprintf(out + o, "\\%03d", c);
			} else {
				out[o++] = (char)c;
			}
		}
		out[o++] = '.';
		name += 1 + *name;
	}
	out[o] = 0;
	return out;
}

/* ---- Decoding */

/* Copies len bytes of rdata into m's arena; returns its offset or -1. */
static long arena_put(struct dns_msg *m, const uint8_t *p, size_t len)
{
	if (m->arena_used + len > DNS_ARENA)
		return -1;
	memcpy(m->arena + m->arena_used, p, len);
	m->arena_used += len;
	return (long)(m->arena_used - len);
}

/* Reads a name inside rdata that ends at end; appends it, expanded, to the
 * arena. Returns NULL or the reason. */
static const char *rdata_name(struct dns_msg *m, const uint8_t *buf, size_t len, size_t *pos,
			      size_t end)
{
	uint8_t name[DNS_NAME_MAX];
	const char *why = read_name(buf, len, pos, name);
	if (why)
		return why;
	if (*pos > end)
		return "dns.bad_rdata";
	if (arena_put(m, name, dns_name_len(name)) < 0)
		return "dns.too_many_records";
	return NULL;
}

/* Decodes the rdata of rr at buf[pos..pos+rdlen) into the arena, names
 * expanded, after checking its shape for the types we know. Returns NULL or
 * the reason. */
static const char *read_rdata(struct dns_msg *m, struct dns_rr *rr, const uint8_t *buf, size_t len,
			      size_t pos, size_t rdlen)
{
	size_t end = pos + rdlen, start = m->arena_used;
	const char *why = NULL;
	rr->rdoff = (uint32_t)start;
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (rdlen != (rr->type == DNS_T_A ? 4u : 16u))
			return "dns.bad_rdata";
		break;
	case DNS_T_CNAME:
	case DNS_T_NS:
	case DNS_T_PTR:
		why = rdata_name(m, buf, len, &pos, end);
		goto names_done;
	case DNS_T_MX:
		if (rdlen < 3)
			return "dns.bad_rdata";
		if (arena_put(m, buf + pos, 2) < 0) /* preference */
			return "dns.too_many_records";
		pos += 2;
		why = rdata_name(m, buf, len, &pos, end);
		goto names_done;
	case DNS_T_SOA:
		why = rdata_name(m, buf, len, &pos, end);
		if (!why)
			why = rdata_name(m, buf, len, &pos, end);
		if (!why && pos + SOA_FIXED != end)
			why = "dns.bad_rdata";
		if (!why && arena_put(m, buf + pos, SOA_FIXED) < 0)
			why = "dns.too_many_records";
		pos += SOA_FIXED;
		goto names_done;
	case DNS_T_TXT:
		/* RFC 1035 3.3.14: one or more <character-string>s filling rdata */
		for (size_t p = pos; p < end; p += 1 + buf[p])
			if (p + 1 + buf[p] > end)
				return "dns.bad_rdata";
		if (rdlen == 0)
			return "dns.bad_rdata";
		break;
	default:
		break; /* RFC 3597: opaque */
	}
	if (arena_put(m, buf + pos, rdlen) < 0)
		return "dns.too_many_records";
	rr->rdlen = (uint16_t)rdlen;
	return NULL;
names_done:
	if (why)
		return why;
	if (pos != end)
		return "dns.bad_rdata";
	if (m->arena_used - start > 0xffff)
		return "dns.bad_rdata";
	rr->rdlen = (uint16_t)(m->arena_used - start);
	return NULL;
}

/* RFC 6891 6.1.2-6.1.3: the OPT record, at most one, root owner, in the
 * additional section only. Fills m's edns fields. */
static const char *read_opt(struct dns_msg *m, const struct dns_rr *rr, bool additional)
{
	if (!additional || m->edns || rr->name[0] != 0)
		return "dns.bad_opt";
	m->edns = true;
	m->edns_size = rr->cls;
	m->edns_ext_rcode = (uint8_t)(rr->ttl >> 24);
	m->edns_version = (uint8_t)(rr->ttl >> 16);
	m->edns_flags = (uint16_t)rr->ttl;
	return NULL;
}

/* Reads one record at *pos into rr. Returns NULL or the reason. */
static const char *read_rr(struct dns_msg *m, struct dns_rr *rr, const uint8_t *buf, size_t len,
			   size_t *pos)
{
	/* the count promised a record, but the message has ended */
	if (*pos >= len)
		return "dns.count_overrun";
	const char *why = read_name(buf, len, pos, rr->name);
	if (why)
		return why;
	if (*pos + RR_FIXED > len)
		return "dns.truncated_record";
	rr->type = be16_get(buf + *pos);
	rr->cls = be16_get(buf + *pos + 2);
	rr->ttl = be32_get(buf + *pos + 4);
	size_t rdlen = be16_get(buf + *pos + 8);
	*pos += RR_FIXED;
	if (*pos + rdlen > len)
		return "dns.truncated_record";
	why = read_rdata(m, rr, buf, len, *pos, rdlen);
	*pos += rdlen;
	return why;
}

const char *dns_decode(struct dns_msg *m, const uint8_t *buf, size_t len)
{
	if (len < DNS_HDR_LEN)
		return "dns.short_header";
	m->id = be16_get(buf + H_ID);
	m->flags = be16_get(buf + H_FLAGS);
	unsigned qd = be16_get(buf + H_QDCOUNT);
	unsigned count[3] = { be16_get(buf + H_ANCOUNT), be16_get(buf + H_NSCOUNT),
			      be16_get(buf + H_ARCOUNT) };
	m->an = m->ns = m->ar = 0;
	m->edns = false;
	m->arena_used = 0;
	m->has_question = false;
	size_t pos = DNS_HDR_LEN;

	/* Counts first: each question takes 5 bytes at least, each record 11. */
	size_t total = (size_t)count[0] + count[1] + count[2];
	if ((size_t)qd * 5 + total * RR_MIN > len - DNS_HDR_LEN)
		return "dns.count_overrun";
	/* RFC 1035 4.1.2 allows several questions; no server answers them */
	if (qd > 1)
		return "dns.too_many_questions";
	if (total > DNS_MAX_RR)
		return "dns.too_many_records";
	if (qd == 1) {
		const char *why = read_name(buf, len, &pos, m->qname);
		if (why)
			return why;
		if (pos + 4 > len)
			return "dns.truncated_record";
		m->qtype = be16_get(buf + pos);
		m->qclass = be16_get(buf + pos + 2);
		pos += 4;
		m->has_question = true;
	}
	int n = 0;
	int *sec_count[3] = { &m->an, &m->ns, &m->ar };
	for (int sec = 0; sec < 3; sec++) {
		for (unsigned i = 0; i < count[sec]; i++) {
			struct dns_rr *rr = &m->rr[n];
			const char *why = read_rr(m, rr, buf, len, &pos);
			if (why)
				return why;
			if (rr->type == DNS_T_OPT) {
				why = read_opt(m, rr, sec == DNS_S_ADDITIONAL);
				if (why)
					return why;
				continue; /* kept apart, not as a record */
			}
			n++;
			(*sec_count[sec])++;
		}
	}
	return NULL;
}

/* ---- Encoding */

#define COMP_MAX 128 /* names remembered for compression */

struct enc {
	uint8_t *buf;
	size_t cap, len;
	bool full;
	uint16_t off[COMP_MAX]; /* where earlier names' label runs start */
	int noff;
};

static void put(struct enc *e, const void *p, size_t n)
{
	if (e->full || e->len + n > e->cap) {
		e->full = true;
		return;
	}
	memcpy(e->buf + e->len, p, n);
	e->len += n;
}

static void put16(struct enc *e, uint16_t v)
{
	uint8_t b[2];
	be16_put(b, v);
	put(e, b, 2);
}

static void put32(struct enc *e, uint32_t v)
{
	uint8_t b[4];
	be32_put(b, v);
	put(e, b, 4);
}

/* True if the name written at e->buf[off] (maybe compressed: we wrote it)
 * is the wire-form name, byte for byte: RFC 4343 4.1 asks that case be kept,
 * so a name is only replaced by a pointer to the same spelling. Reads only
 * bytes already written (below e->len), and follows pointers only
 * backwards, so it ends even on a buffer it did not write. */
static bool written_eq(const struct enc *e, size_t off, const uint8_t *name)
{
	for (;;) {
		while (off + 1 < e->len && (e->buf[off] & 0xc0) == 0xc0) {
			size_t t = (size_t)(e->buf[off] & 0x3f) << 8 | e->buf[off + 1];
			if (t >= off)
				return false;
			off = t;
		}
		if (off >= e->len)
			return false;
		uint8_t l = e->buf[off];
		if (l != *name)
			return false;
		if (l == 0)
			return true;
		if (l > DNS_LABEL_MAX || off + 1 + l > e->len ||
		    memcmp(e->buf + off + 1, name + 1, l) != 0)
			return false;
		off += 1 + (size_t)l;
		name += 1 + l;
	}
}

/* Writes a name, replacing its longest suffix already in the message with a
 * pointer to it (RFC 1035 4.1.4). Bug 11: the offsets of this name's own
 * labels become candidates only once the whole name is written; before,
 * a name whose last labels repeat ("a.a.") matched its own unwritten tail
 * and became a pointer into itself (01 61 c0 0c). */
static void put_name(struct enc *e, const uint8_t *name)
{
	uint16_t mine[DNS_NAME_MAX / 2];
	int nmine = 0;
	while (*name) {
		for (int i = 0; i < e->noff && !e->full; i++) {
			if (written_eq(e, e->off[i], name)) {
				put16(e, (uint16_t)(0xc000 | e->off[i]));
				goto remember;
			}
		}
		/* a pointer has 14 bits of offset */
		if (!e->full && e->len < 0x4000)
			mine[nmine++] = (uint16_t)e->len;
		put(e, name, 1 + (size_t)*name);
		name += 1 + *name;
	}
	put(e, "", 1);
remember:
	for (int i = 0; i < nmine && !e->full && e->noff < COMP_MAX; i++)
		e->off[e->noff++] = mine[i];
}

/* Writes rdata; the names in the types of RFC 1035 are compressed, those of
 * other types never are (RFC 3597 4). */
static void put_rdata(struct enc *e, const struct dns_msg *m, const struct dns_rr *rr)
{
	const uint8_t *d = dns_rdata(m, rr);
	switch (rr->type) {
	case DNS_T_CNAME:
	case DNS_T_NS:
	case DNS_T_PTR:
		put_name(e, d);
		return;
	case DNS_T_MX:
		put(e, d, 2);
		put_name(e, d + 2);
		return;
	case DNS_T_SOA: {
		size_t l1 = dns_name_len(d);
		put_name(e, d);
		put_name(e, d + l1);
		put(e, d + l1 + dns_name_len(d + l1), SOA_FIXED);
		return;
	}
	default:
		put(e, d, rr->rdlen);
	}
}

static void put_rr(struct enc *e, const struct dns_msg *m, const struct dns_rr *rr)
{
	put_name(e, rr->name);
	put16(e, rr->type);
	put16(e, rr->cls);
	put32(e, rr->ttl);
	size_t at = e->len;
	put16(e, 0); /* rdlength, filled in below */
	put_rdata(e, m, rr);
	if (!e->full)
		be16_put(e->buf + at, (uint16_t)(e->len - at - 2));
}

int dns_encode(const struct dns_msg *m, uint8_t *buf, size_t cap)
{
	struct enc e = { .buf = buf, .cap = cap };
	put16(&e, m->id);
	put16(&e, m->flags);
	put16(&e, m->has_question ? 1 : 0);
	put16(&e, (uint16_t)m->an);
	put16(&e, (uint16_t)m->ns);
	put16(&e, (uint16_t)(m->ar + (m->edns ? 1 : 0)));
	if (m->has_question) {
		put_name(&e, m->qname);
		put16(&e, m->qtype);
		put16(&e, m->qclass);
	}
	for (int i = 0; i < m->an + m->ns + m->ar; i++)
		put_rr(&e, m, &m->rr[i]);
	if (m->edns) {
		/* RFC 6891 6.1.2: root owner, class = UDP size, TTL = extended
		 * rcode, version, flags; no options */
		put(&e, "", 1);
		put16(&e, DNS_T_OPT);
		put16(&e, m->edns_size);
		put32(&e, (uint32_t)m->edns_ext_rcode << 24 | (uint32_t)m->edns_version << 16 |
				  m->edns_flags);
		put16(&e, 0);
	}
	return e.full ? -EMSGSIZE : (int)e.len;
}

/* ---- Building */

void dns_msg_init(struct dns_msg *m, uint16_t id, uint16_t flags, const uint8_t *qname,
		  uint16_t qtype, uint16_t qclass)
{
	m->id = id;
	m->flags = flags;
	m->has_question = qname != NULL;
	if (qname)
		memcpy(m->qname, qname, dns_name_len(qname));
	m->qtype = qtype;
	m->qclass = qclass;
	m->an = m->ns = m->ar = 0;
	m->edns = false;
	m->edns_size = 0;
	m->edns_version = m->edns_ext_rcode = 0;
	m->edns_flags = 0;
	m->arena_used = 0;
}

int dns_msg_add(struct dns_msg *m, enum dns_section sec, const uint8_t *name, uint16_t type,
		uint16_t cls, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	int total = m->an + m->ns + m->ar;
	if (total >= DNS_MAX_RR || m->arena_used + rdlen > DNS_ARENA)
		return -ENOSPC;
	/* the record goes at the end of its section: later sections move up */
	int at = sec == DNS_S_ANSWER ? m->an : sec == DNS_S_AUTHORITY ? m->an + m->ns : total;
	memmove(&m->rr[at + 1], &m->rr[at], (size_t)(total - at) * sizeof(m->rr[0]));
	struct dns_rr *rr = &m->rr[at];
	memcpy(rr->name, name, dns_name_len(name));
	rr->type = type;
	rr->cls = cls;
	rr->ttl = ttl;
	rr->rdlen = rdlen;
	rr->rdoff = (uint32_t)arena_put(m, rdata, rdlen);
	if (sec == DNS_S_ANSWER)
		m->an++;
	else if (sec == DNS_S_AUTHORITY)
		m->ns++;
	else
		m->ar++;
	return 0;
}

/* ---- Text */

static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
	{ DNS_T_A, "A" },     { DNS_T_NS, "NS" },     { DNS_T_CNAME, "CNAME" },
	{ DNS_T_SOA, "SOA" }, { DNS_T_PTR, "PTR" },   { DNS_T_MX, "MX" },
	{ DNS_T_TXT, "TXT" }, { DNS_T_AAAA, "AAAA" }, { DNS_T_OPT, "OPT" },
	{ DNS_T_ANY, "ANY" },
};

const char *dns_type_name(uint16_t type, char *buf)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	sprintf(buf, "TYPE%u", type);
	return buf;
}

int dns_type_from_text(const char *text)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcasecmp(type_names[i].name, text) == 0)
			return type_names[i].type;
	if (strncasecmp(text, "TYPE", 4) == 0 && isdigit((unsigned char)text[4])) {
		char *end;
		long v = strtol(text + 4, &end, 10);
		if (*end == 0 && v >= 0 && v <= 65535)
			return (int)v;
	}
	return -1;
}

const char *dns_rcode_name(int rcode)
{
	static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
				       "REFUSED" };
	return rcode >= 0 && rcode < 6 ? names[rcode] : "RCODE?";
}

/* Appends a TXT record's strings in quotes, as dig does. */
static size_t txt_to_text(const uint8_t *d, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t p = 0; p < len && o + 8 < cap; p += 1 + d[p]) {
		if (p)
			out[o++] = ' ';
		out[o++] = '"';
		for (int i = 1; i <= d[p] && o + 6 < cap; i++) {
			int c = d[p + (size_t)i];
			if (c == '"' || c == '\\')
				o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
			else if (c < ' ' || c >= 0x7f)
				o += (size_t)snprintf(out + o, cap - o, "\\%03d", c);
			else
				out[o++] = (char)c;
		}
		out[o++] = '"';
	}
	out[o] = 0;
	return o;
}

/* Writes the rdata of rr as text (the presentation format of its type). */
static void rdata_to_text(const struct dns_msg *m, const struct dns_rr *rr, char *out, size_t cap)
{
	const uint8_t *d = dns_rdata(m, rr);
	char a[DNS_NAME_TEXT], b[DNS_NAME_TEXT];
	switch (rr->type) {
	case DNS_T_A:
		inet_ntop(AF_INET, d, out, (socklen_t)cap);
		return;
	case DNS_T_AAAA:
		inet_ntop(AF_INET6, d, out, (socklen_t)cap);
		return;
	case DNS_T_CNAME:
	case DNS_T_NS:
	case DNS_T_PTR:
		snprintf(out, cap, "%s", dns_name_to_text(d, a));
		return;
	case DNS_T_MX:
		snprintf(out, cap, "%u %s", be16_get(d), dns_name_to_text(d + 2, a));
		return;
	case DNS_T_SOA: {
		size_t l1 = dns_name_len(d), l2 = dns_name_len(d + l1);
		const uint8_t *f = d + l1 + l2;
		snprintf(out, cap, "%s %s %u %u %u %u %u", dns_name_to_text(d, a),
			 dns_name_to_text(d + l1, b), be32_get(f), be32_get(f + 4), be32_get(f + 8),
			 be32_get(f + 12), be32_get(f + 16));
		return;
	}
	case DNS_T_TXT:
		txt_to_text(d, rr->rdlen, out, cap);
		return;
	default: {
		/* RFC 3597 5: \# length hex */
		size_t o = (size_t)snprintf(out, cap, "\\# %u ", rr->rdlen);
		for (size_t i = 0; i < rr->rdlen && o + 3 < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, "%02X", d[i]);
	}
	}
}

char *dns_rr_to_text(const struct dns_msg *m, const struct dns_rr *rr, char *out, size_t cap)
{
	char name[DNS_NAME_TEXT], tb[16], cb[16], data[4096];
	dns_name_to_text(rr->name, name);
	/* dig pads the owner with tabs to column 24 */
	size_t col = strlen(name);
	char tabs[8] = "\t";
	int nt = 1;
	for (col = (col / 8 + 1) * 8; col < 24 && nt < 7; col += 8)
		tabs[nt++] = '\t';
	tabs[nt] = 0;
	if (rr->cls == DNS_C_IN)
		strcpy(cb, "IN");
	else
		snprintf(cb, sizeof(cb), "CLASS%u", rr->cls);
	rdata_to_text(m, rr, data, sizeof(data));
	snprintf(out, cap, "%s%s%u\t%s\t%s\t%s", name, tabs, rr->ttl, cb,
		 dns_type_name(rr->type, tb), data);
	return out;
}

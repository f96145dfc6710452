/* The DNS cache: responses kept for their TTL (RFC 1035, RFC 2181 8) and
 * negative responses for their SOA's negative TTL (RFC 2308). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/dns_cache.h"
#include "stack/byteorder.h"

#define US_PER_S 1000000

static void count(struct dns_cache *c, const char *name)
{
	if (c->stats)
		stats_inc(c->stats, name);
}

int dns_cache_init(struct dns_cache *c, int cap, struct stats *stats)
{
	c->e = calloc((size_t)cap, sizeof(*c->e));
	c->cap = c->e ? cap : 0;
	c->stats = stats;
	return c->e ? 0 : -ENOMEM;
}

static void entry_free(struct dns_cache_entry *e)
{
	free(e->wire);
	e->wire = NULL;
}

void dns_cache_fini(struct dns_cache *c)
{
	for (int i = 0; i < c->cap; i++)
		entry_free(&c->e[i]);
	free(c->e);
	c->e = NULL;
	c->cap = 0;
}

/* The SOA of the authority section, or NULL. */
static const struct dns_rr *find_soa(const struct dns_msg *m)
{
	for (int i = m->an; i < m->an + m->ns; i++)
		if (m->rr[i].type == DNS_T_SOA)
			return &m->rr[i];
	return NULL;
}

/* RFC 2308 5: the negative TTL is the smaller of the SOA's TTL and its
 * MINIMUM field (the last 32 bits of its rdata). */
static uint32_t soa_negative_ttl(const struct dns_msg *m, const struct dns_rr *soa)
{
	uint32_t min = be32_get(dns_rdata(m, soa) + soa->rdlen - 4);
	uint32_t ttl = soa->ttl < min ? soa->ttl : min;
	return ttl > DNS_CACHE_MAX_NEG_TTL ? DNS_CACHE_MAX_NEG_TTL : ttl;
}

uint32_t dns_cache_ttl(const struct dns_msg *resp)
{
	int rcode = DNS_RCODE(resp->flags);
	if (!resp->has_question || (resp->flags & DNS_F_TC))
		return 0;
	if (rcode == DNS_NOERROR && resp->an > 0) {
		uint32_t ttl = DNS_CACHE_MAX_TTL;
		for (int i = 0; i < resp->an; i++)
			if (resp->rr[i].ttl < ttl)
				ttl = resp->rr[i].ttl;
		return ttl;
	}
	if (rcode == DNS_NXDOMAIN || rcode == DNS_NOERROR) {
		const struct dns_rr *soa = find_soa(resp);
		return soa ? soa_negative_ttl(resp, soa) : 0;
	}
	return 0; /* SERVFAIL and the rest are not cached here */
}

/* The entry for the question, or NULL. */
static struct dns_cache_entry *lookup(struct dns_cache *c, const uint8_t *qname, uint16_t qtype,
				      uint16_t qclass)
{
	for (int i = 0; i < c->cap; i++) {
		struct dns_cache_entry *e = &c->e[i];
		if (e->wire && e->type == qtype && e->cls == qclass && dns_name_eq(e->key, qname))
			return e;
	}
	return NULL;
}

/* A slot for a new entry: a free one, an expired one, or the one nearest
 * its expiry (evicted). */
static struct dns_cache_entry *victim(struct dns_cache *c, int64_t now)
{
	struct dns_cache_entry *best = NULL;
	for (int i = 0; i < c->cap; i++) {
		struct dns_cache_entry *e = &c->e[i];
		if (!e->wire || e->expires <= now)
			return e;
		if (!best || e->expires < best->expires)
			best = e;
	}
	if (best) {
		count(c, "dns.cache_evict");
		entry_free(best);
	}
	return best;
}

void dns_cache_put(struct dns_cache *c, const struct dns_msg *resp, int64_t now)
{
	static struct dns_msg copy;
	static uint8_t buf[DNS_MSG_MAX];
	uint32_t ttl = dns_cache_ttl(resp);
	if (ttl == 0 || c->cap == 0)
		return;
	/* RFC 2308 5: a negative answer is served with the SOA's TTL set to the
	 * negative TTL, then counting down */
	copy = *resp;
	copy.id = 0;
	copy.edns = false;
	if (resp->an == 0 || DNS_RCODE(resp->flags) == DNS_NXDOMAIN) {
		for (int i = copy.an; i < copy.an + copy.ns; i++)
			if (copy.rr[i].type == DNS_T_SOA)
				copy.rr[i].ttl = ttl;
	}
	int len = dns_encode(&copy, buf, sizeof(buf));
	if (len < 0)
		return;
	struct dns_cache_entry *e = lookup(c, resp->qname, resp->qtype, resp->qclass);
	if (e)
		entry_free(e);
	else
		e = victim(c, now);
	if (!e)
		return;
	e->wire = malloc((size_t)len);
	if (!e->wire)
		return;
	memcpy(e->wire, buf, (size_t)len);
	e->len = (size_t)len;
	dns_name_lower(e->key, resp->qname);
	e->type = resp->qtype;
	e->cls = resp->qclass;
	e->stored = now;
	e->expires = now + (int64_t)ttl * US_PER_S;
	count(c, "dns.cache_insert");
}

bool dns_cache_get(struct dns_cache *c, const uint8_t *qname, uint16_t qtype, uint16_t qclass,
		   int64_t now, struct dns_msg *out)
{
	struct dns_cache_entry *e = lookup(c, qname, qtype, qclass);
	if (e && e->expires <= now) {
		count(c, "dns.cache_expired");
		entry_free(e);
		e = NULL;
	}
	if (!e || dns_decode(out, e->wire, e->len) != NULL) {
		count(c, "dns.cache_miss");
		return false;
	}
	/* RFC 1035 3.2.1: the TTL is what is left of it */
	uint32_t age = (uint32_t)((now - e->stored) / US_PER_S);
	for (int i = 0; i < out->an + out->ns + out->ar; i++)
		out->rr[i].ttl = out->rr[i].ttl > age ? out->rr[i].ttl - age : 0;
	count(c, "dns.cache_hit");
	return true;
}

int dns_cache_count(const struct dns_cache *c)
{
	int n = 0;
	for (int i = 0; i < c->cap; i++)
		n += c->e[i].wire != NULL;
	return n;
}

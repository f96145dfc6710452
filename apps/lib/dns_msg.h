/* DNS messages (RFC 1035 4.1): the codec shared by the stub resolver, the
 * resolve tool and the dns service.
 *
 * A decoded message holds names in wire form, uncompressed: a sequence of
 * labels <len><bytes>... ending with the root label 0 (www.lab.test is
 * 3www3lab4test0). Record data (rdata) is kept in the message's own arena,
 * with the names inside it (CNAME, NS, PTR, MX, SOA) expanded too, so a
 * record can be copied, cached and encoded again without the message it came
 * from. Unknown types are carried as opaque bytes (RFC 3597).
 *
 * Decoding is hardened: dns_decode() checks every length before reading and
 * returns a reason such as "dns.bad_pointer" for the first thing wrong. */
#ifndef TAPSTACK_DNS_MSG_H
#define TAPSTACK_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_PORT 53
#define DNS_HDR_LEN 12
#define DNS_NAME_MAX 255     /* RFC 1035 2.3.4: a name is at most 255 bytes on the wire */
#define DNS_LABEL_MAX 63     /* RFC 1035 2.3.4: a label is at most 63 bytes */
#define DNS_NAME_TEXT 1024   /* room for a name as text, with \DDD escapes */
#define DNS_MSG_MAX 65535    /* the largest message (TCP: two-byte length) */
#define DNS_UDP_MIN 512      /* RFC 1035 4.2.1: UDP messages without EDNS */
#define DNS_EDNS_SIZE 1232   /* RFC 6891 6.2.5 (and DNS flag day 2020): our UDP buffer */
#define DNS_MAX_RR 256       /* records kept from one message */
#define DNS_ARENA 131072     /* rdata bytes of one message, names expanded */

/* Record types (RFC 1035 3.2.2, RFC 3596, RFC 6891). */
enum {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_OPT = 41,
	DNS_T_ANY = 255,
};

#define DNS_C_IN 1

/* Response codes (RFC 1035 4.1.1). */
enum {
	DNS_NOERROR = 0,
	DNS_FORMERR = 1,
	DNS_SERVFAIL = 2,
	DNS_NXDOMAIN = 3,
	DNS_NOTIMP = 4,
	DNS_REFUSED = 5,
};

/* Header flag bits (RFC 1035 4.1.1). */
#define DNS_F_QR 0x8000
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)
#define DNS_RCODE(f) ((f) & 0xf)

/* Sections a record can be in. */
enum dns_section { DNS_S_ANSWER, DNS_S_AUTHORITY, DNS_S_ADDITIONAL };

struct dns_rr {
	uint8_t name[DNS_NAME_MAX];  /* owner, wire form */
	uint16_t type, cls;
	uint32_t ttl;
	uint16_t rdlen;              /* rdata length, names expanded */
	uint32_t rdoff;              /* rdata at msg->arena + rdoff */
};

struct dns_msg {
	uint16_t id;
	uint16_t flags;              /* QR, opcode, AA, TC, RD, RA, rcode */
	bool has_question;           /* qdcount is 0 or 1 */
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype, qclass;
	int an, ns, ar;              /* rr[0..an) answers, then ns authority, then ar additional */
	struct dns_rr rr[DNS_MAX_RR];
	/* RFC 6891 6.1: the OPT pseudo-record, kept apart from the records */
	bool edns;
	uint16_t edns_size;          /* requestor's UDP payload size */
	uint8_t edns_version;
	uint8_t edns_ext_rcode;
	uint16_t edns_flags;         /* DO bit and Z */
	size_t arena_used;
	uint8_t arena[DNS_ARENA];
};

/* Decodes the message buf[0..len) into m. Returns NULL, or the reason it is
 * rejected ("dns.short_header", "dns.bad_pointer", "dns.pointer_forward",
 * "dns.pointer_loop", "dns.label_too_long", "dns.name_too_long",
 * "dns.truncated_name", "dns.count_overrun", "dns.truncated_record",
 * "dns.bad_rdata", "dns.bad_opt", "dns.too_many_questions",
 * "dns.too_many_records"). m's contents are undefined after a rejection. */
const char *dns_decode(struct dns_msg *m, const uint8_t *buf, size_t len);

/* Encodes m into buf (at most cap bytes), compressing names (RFC 1035
 * 4.1.4). Returns the length, or -EMSGSIZE if it does not fit. */
int dns_encode(const struct dns_msg *m, uint8_t *buf, size_t cap);

/* Starts a message: id, flags, and the question qname/qtype/qclass (qname
 * NULL: no question); no records, no EDNS. */
void dns_msg_init(struct dns_msg *m, uint16_t id, uint16_t flags, const uint8_t *qname,
		  uint16_t qtype, uint16_t qclass);

/* Adds a record at the end of section sec, copying name and rdata (names in
 * rdata expanded). Returns 0, or -ENOSPC when the message is full. */
int dns_msg_add(struct dns_msg *m, enum dns_section sec, const uint8_t *name, uint16_t type,
		uint16_t cls, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

/* The rdata of record rr of m. */
static inline const uint8_t *dns_rdata(const struct dns_msg *m, const struct dns_rr *rr)
{
	return m->arena + rr->rdoff;
}

/* Sets the response code (the low four bits of the header's flags). */
static inline void dns_set_rcode(struct dns_msg *m, int rcode)
{
	m->flags = (uint16_t)((m->flags & ~0xf) | (rcode & 0xf));
}

/* ---- Names */

/* Length in bytes of the wire-form name (root label included). */
size_t dns_name_len(const uint8_t *name);

/* True if a and b are the same name; ASCII case does not matter (RFC 4343). */
bool dns_name_eq(const uint8_t *a, const uint8_t *b);

/* Copies a name, lowercased (for cache keys). */
void dns_name_lower(uint8_t *out, const uint8_t *name);

/* Converts text ("www.lab.test" or "www.lab.test.", \. and \DDD escapes)
 * into wire form. Returns NULL or the reason ("dns.label_too_long",
 * "dns.name_too_long", "dns.empty_label"). */
const char *dns_name_from_text(const char *text, uint8_t out[DNS_NAME_MAX]);

/* Writes name as text with the trailing dot, the way dig does ("." for the
 * root; dots and backslashes in labels escaped, other unprintable bytes as
 * \DDD). out needs DNS_NAME_TEXT bytes. Returns out. */
char *dns_name_to_text(const uint8_t *name, char *out);

/* ---- Text */

/* "A", "AAAA"..., or "TYPE123" (RFC 3597 5) in buf (16 bytes). */
const char *dns_type_name(uint16_t type, char *buf);

/* The type named by text ("a", "MX", "TYPE99"), or -1. */
int dns_type_from_text(const char *text);

/* "NOERROR", "NXDOMAIN"... */
const char *dns_rcode_name(int rcode);

/* Writes one record in dig's format ("www.lab.test.\t\t300\tIN\tA\t10.0.0.1")
 * into out (cap bytes, truncated if need be). Returns out. */
char *dns_rr_to_text(const struct dns_msg *m, const struct dns_rr *rr, char *out, size_t cap);

#endif

/* DNS: the message codec (round trips, compression both ways, the captured
 * messages of dig and dnsmasq in tests/vectors/dns*.pcap), every hostile
 * message rejected under its named reason without a crash or a leak (and a
 * fuzz run under the sanitizers), names as text, and the cache on virtual
 * time: TTLs counting down, expiry, negative caching per RFC 2308,
 * eviction. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/dns_cache.h"
#include "apps/lib/dns_msg.h"
#include "stack/byteorder.h"
#include "stack/rng.h"
#include "stack/stats.h"
#include "tests/harness.h"

#define S 1000000 /* one second in microseconds */

static struct dns_msg m, m2;
static uint8_t wire[DNS_MSG_MAX];

/* The wire form of a text name (fails the test if it is not one). */
static const uint8_t *N(const char *text)
{
	static uint8_t names[8][DNS_NAME_MAX];
	static int k;
	uint8_t *out = names[k++ % 8];
	ck_assert_ptr_null(dns_name_from_text(text, out));
	return out;
}

/* The DNS message in frame index of a capture: after the UDP header, or
 * after the TCP header and the two-byte length. Returns its length. */
static size_t vector_dns(const char *file, int index, uint8_t *out)
{
	uint8_t f[2048];
	size_t len = vector_frame(file, index, f, sizeof(f));
	size_t ip = 14, ihl = (size_t)(f[ip] & 0xf) * 4, l4 = ip + ihl;
	size_t off = f[ip + 9] == 17 ? l4 + 8 : l4 + (size_t)(f[l4 + 12] >> 4) * 4 + 2;
	ck_assert_uint_gt(len, off);
	memcpy(out, f + off, len - off);
	return len - off;
}

/* The text of record i of msg, as dig prints it. */
static const char *rr_text(const struct dns_msg *msg, int i)
{
	static char line[4200];
	return dns_rr_to_text(msg, &msg->rr[i], line, sizeof(line));
}

/* ---- Round trips */

/* Builds a response with one record of each type we know and one we don't. */
static void build_all_types(struct dns_msg *msg)
{
	uint8_t a[4] = { 10, 0, 0, 2 }, aaaa[16] = { 0xfd, 0, [15] = 2 }, mx[64], soa[128],
		txt[] = "\x05hello\x05world", unk[] = { 1, 2, 3 };
	dns_msg_init(msg, 0x1234, DNS_F_QR | DNS_F_AA | DNS_F_RD, N("www.lab.test"), DNS_T_A,
		     DNS_C_IN);
	be16_put(mx, 10);
	memcpy(mx + 2, N("mail.lab.test"), 15);
	size_t l1 = dns_name_len(N("ns.lab.test")), l2 = dns_name_len(N("hostmaster.lab.test"));
	memcpy(soa, N("ns.lab.test"), l1);
	memcpy(soa + l1, N("hostmaster.lab.test"), l2);
	for (int i = 0; i < 5; i++)
		be32_put(soa + l1 + l2 + 4 * i, (uint32_t)(100 + i));
	ck_assert_int_eq(dns_msg_add(msg, DNS_S_ANSWER, N("www.lab.test"), DNS_T_A, 1, 300, a, 4),
			 0);
	dns_msg_add(msg, DNS_S_ANSWER, N("six.lab.test"), DNS_T_AAAA, 1, 300, aaaa, 16);
	dns_msg_add(msg, DNS_S_ANSWER, N("alias.lab.test"), DNS_T_CNAME, 1, 60, N("www.lab.test"),
		    14);
	dns_msg_add(msg, DNS_S_ANSWER, N("lab.test"), DNS_T_MX, 1, 300, mx, 17);
	dns_msg_add(msg, DNS_S_ANSWER, N("lab.test"), DNS_T_TXT, 1, 300, txt, 12);
	dns_msg_add(msg, DNS_S_ANSWER, N("2.0.0.10.in-addr.arpa"), DNS_T_PTR, 1, 300,
		    N("www.lab.test"), 14);
	dns_msg_add(msg, DNS_S_ANSWER, N("lab.test"), 99, 1, 300, unk, 3);
	/* additional added before authority: it must still land after it */
	dns_msg_add(msg, DNS_S_ADDITIONAL, N("ns.lab.test"), DNS_T_A, 1, 300, a, 4);
	dns_msg_add(msg, DNS_S_AUTHORITY, N("lab.test"), DNS_T_NS, 1, 300, N("ns.lab.test"), 13);
	dns_msg_add(msg, DNS_S_AUTHORITY, N("lab.test"), DNS_T_SOA, 1, 300, soa,
		    (uint16_t)(l1 + l2 + 20));
	msg->edns = true;
	msg->edns_size = DNS_EDNS_SIZE;
}

START_TEST(dns_round_trip_every_type)
{
	build_all_types(&m);
	int len = dns_encode(&m, wire, sizeof(wire));
	ck_assert_int_gt(len, 0);
	ck_assert_ptr_null(dns_decode(&m2, wire, (size_t)len));
	ck_assert_uint_eq(m2.id, 0x1234);
	ck_assert_uint_eq(m2.flags, DNS_F_QR | DNS_F_AA | DNS_F_RD);
	ck_assert(m2.has_question && dns_name_eq(m2.qname, N("www.lab.test")));
	ck_assert_int_eq(m2.an, 7);
	ck_assert_int_eq(m2.ns, 2);
	ck_assert_int_eq(m2.ar, 1);
	ck_assert(m2.edns);
	ck_assert_uint_eq(m2.edns_size, 1232);
	const char *want[] = {
		"www.lab.test.\t\t300\tIN\tA\t10.0.0.2",
		"six.lab.test.\t\t300\tIN\tAAAA\tfd00::2",
		"alias.lab.test.\t\t60\tIN\tCNAME\twww.lab.test.",
		"lab.test.\t\t300\tIN\tMX\t10 mail.lab.test.",
		"lab.test.\t\t300\tIN\tTXT\t\"hello\" \"world\"",
		"2.0.0.10.in-addr.arpa.\t300\tIN\tPTR\twww.lab.test.",
		"lab.test.\t\t300\tIN\tTYPE99\t\\# 3 010203",
		"lab.test.\t\t300\tIN\tNS\tns.lab.test.",
		"lab.test.\t\t300\tIN\tSOA\tns.lab.test. hostmaster.lab.test. 100 101 102 103 104",
		"ns.lab.test.\t\t300\tIN\tA\t10.0.0.2",
	};
	for (int i = 0; i < 10; i++)
		ck_assert_str_eq(rr_text(&m2, i), want[i]);
	/* the same message encodes to the same bytes again */
	static uint8_t again[DNS_MSG_MAX];
	ck_assert_int_eq(dns_encode(&m2, again, sizeof(again)), len);
	ck_assert_mem_eq(again, wire, (size_t)len);
}
END_TEST

/* RFC 1035 4.1.4: names already in the message become two-byte pointers,
 * case-insensitively; names in unknown types are never compressed. */
START_TEST(dns_encoder_compresses)
{
	build_all_types(&m);
	int len = dns_encode(&m, wire, sizeof(wire));
	/* the first answer's owner "www.lab.test" is the question's: 0xc00c */
	size_t q_end = DNS_HDR_LEN + 14 + 4;
	ck_assert_uint_eq(be16_get(wire + q_end), 0xc00c);
	/* uncompressed, the 11 names of the records alone would take far more */
	ck_assert_int_lt(len, 300);
	/* the decoder follows them back */
	ck_assert_ptr_null(dns_decode(&m2, wire, (size_t)len));
	ck_assert(dns_name_eq(m2.rr[2].name, N("alias.lab.test")));
	ck_assert(dns_name_eq(dns_rdata(&m2, &m2.rr[2]), N("www.lab.test")));
	/* RFC 4343 4.1: case is kept, so a name differing only in case is not
	 * replaced by a pointer to the other */
	dns_msg_init(&m2, 1, 0, N("WWW.lab.test"), DNS_T_A, 1);
	uint8_t a[4] = { 1, 2, 3, 4 };
	dns_msg_add(&m2, DNS_S_ANSWER, N("www.lab.test"), DNS_T_A, 1, 1, a, 4);
	int l2 = dns_encode(&m2, wire, sizeof(wire));
	ck_assert_ptr_null(dns_decode(&m2, wire, (size_t)l2));
	ck_assert_str_eq(rr_text(&m2, 0), "www.lab.test.\t\t1\tIN\tA\t1.2.3.4");
	len = dns_encode(&m, wire, sizeof(wire));
	/* a message that does not fit says so */
	ck_assert_int_eq(dns_encode(&m, wire, (size_t)len - 1), -EMSGSIZE);
	ck_assert_int_eq(dns_encode(&m, wire, 11), -EMSGSIZE);
}
END_TEST

/* Bug 11: the compression match must only see names already written. A
 * name whose last labels repeat ("a.a.") was matched against the bytes the
 * encoder had not written yet and came out as 01 61 c0 0c, a pointer into
 * itself that dns_decode rejects as a loop. RFC 1035 4.1.4: a pointer
 * points to a prior occurrence. Each name is encoded as the question, as
 * an answer's owner and as CNAME rdata, into a buffer that is zeroed and
 * into one that already holds the name's own uncompressed bytes (so bytes
 * not yet written look like a match either way), and must decode back to
 * itself with every pointer going backwards. */
static void check_pointers_backwards(const uint8_t *w, size_t len, size_t from)
{
	/* walks the names of a one-question, one-record message */
	size_t p = from;
	for (int name = 0; name < 3 && p < len; name++) {
		size_t start = p;
		while (p < len && w[p] != 0 && (w[p] & 0xc0) != 0xc0)
			p += 1 + w[p];
		if (p + 1 < len && (w[p] & 0xc0) == 0xc0) {
			size_t t = (size_t)(w[p] & 0x3f) << 8 | w[p + 1];
			ck_assert_msg(t < start, "pointer at %zu to %zu: not before the name at %zu",
				      p, t, start);
			p += 2;
		} else {
			p++;
		}
		/* question: type and class; record: type, class, ttl, rdlength */
		p += name == 0 ? 4 : name == 1 ? 10 : 0;
	}
}

START_TEST(dns_encoder_no_self_pointer)
{
	static const char *names[] = { "a.a.", "a.a.a.", "x.y.x.y.", "www.lab.www.lab.",
				       "b.a.b.a.b.", "lab.test.lab.test.", "a.b.c.a.b.c." };
	static uint8_t buf[DNS_MSG_MAX];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const uint8_t *n = N(names[i]);
		size_t nl = dns_name_len(n);
		for (int fill = 0; fill < 2; fill++) {
			/* the question alone */
			memset(buf, 0, sizeof(buf));
			if (fill)
				for (size_t k = DNS_HDR_LEN; k + nl < sizeof(buf); k += nl)
					memcpy(buf + k, n, nl);
			dns_msg_init(&m, 7, DNS_F_QR, n, DNS_T_A, DNS_C_IN);
			int len = dns_encode(&m, buf, sizeof(buf));
			ck_assert_int_gt(len, 0);
			const char *why = dns_decode(&m2, buf, (size_t)len);
			ck_assert_msg(why == NULL, "%s (fill %d): %s", names[i], fill, why);
			ck_assert(dns_name_eq(m2.qname, n));
			/* nothing of the name's first occurrence may be a pointer */
			ck_assert_int_eq(len, DNS_HDR_LEN + (int)nl + 4);
			ck_assert_mem_eq(buf + DNS_HDR_LEN, n, nl);
			/* with a record owned by it and a CNAME to it */
			memset(buf, 0, sizeof(buf));
			if (fill)
				for (size_t k = DNS_HDR_LEN; k + nl < sizeof(buf); k += nl)
					memcpy(buf + k, n, nl);
			dns_msg_init(&m, 8, DNS_F_QR, N("q.test"), DNS_T_CNAME, DNS_C_IN);
			ck_assert_int_eq(dns_msg_add(&m, DNS_S_ANSWER, n, DNS_T_CNAME, DNS_C_IN, 60, n,
						     (uint16_t)nl), 0);
			len = dns_encode(&m, buf, sizeof(buf));
			ck_assert_int_gt(len, 0);
			why = dns_decode(&m2, buf, (size_t)len);
			ck_assert_msg(why == NULL, "%s as a record (fill %d): %s", names[i], fill, why);
			ck_assert_int_eq(m2.an, 1);
			ck_assert(dns_name_eq(m2.rr[0].name, n));
			ck_assert(dns_name_eq(dns_rdata(&m2, &m2.rr[0]), n));
			check_pointers_backwards(buf, (size_t)len, DNS_HDR_LEN);
			/* the rdata is all one pointer to the owner */
			ck_assert_uint_eq(be16_get(buf + len - 2), 0xc000 | (DNS_HDR_LEN + 8 + 4));
		}
	}
}
END_TEST

/* ---- Captured messages */

START_TEST(dns_vectors_dig_and_dnsmasq)
{
	static const struct {
		int frame;
		const char *qname;
		uint16_t qtype;
		int rcode, an;
		const char *first;
	} v[] = {
		{ 3, "www.lab.test", DNS_T_A, 0, 0, NULL },
		{ 4, "www.lab.test", DNS_T_A, 0, 1, "www.lab.test.\t\t300\tIN\tA\t10.0.0.2" },
		{ 6, "six.lab.test", DNS_T_AAAA, 0, 1, "six.lab.test.\t\t300\tIN\tAAAA\tfd00::2" },
		{ 8, "lab.test", DNS_T_MX, 0, 1, "lab.test.\t\t300\tIN\tMX\t10 mail.lab.test." },
		{ 10, "lab.test", DNS_T_TXT, 0, 1, NULL },
		{ 12, "alias.lab.test", DNS_T_A, 0, 1,
		  "alias.lab.test.\t\t300\tIN\tCNAME\twww.lab.test." },
		{ 14, "nope.lab.test", DNS_T_A, DNS_NXDOMAIN, 0, NULL },
	};
	uint8_t b[2048];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = vector_dns("dns.pcap", v[i].frame, b);
		ck_assert_ptr_null(dns_decode(&m, b, len));
		ck_assert(m.has_question && dns_name_eq(m.qname, N(v[i].qname)));
		ck_assert_uint_eq(m.qtype, v[i].qtype);
		ck_assert_int_eq(!!(m.flags & DNS_F_QR), v[i].frame % 2 == 0);
		ck_assert_int_eq(DNS_RCODE(m.flags), v[i].rcode);
		ck_assert_int_eq(m.an, v[i].an);
		ck_assert(m.edns);
		if (v[i].first)
			ck_assert_str_eq(rr_text(&m, 0), v[i].first);
		/* encoded again and decoded again: the same records */
		int l2 = dns_encode(&m, wire, sizeof(wire));
		ck_assert_int_gt(l2, 0);
		ck_assert_ptr_null(dns_decode(&m2, wire, (size_t)l2));
		ck_assert_int_eq(m2.an + m2.ns + m2.ar, m.an + m.ns + m.ar);
		for (int k = 0; k < m.an + m.ns + m.ar; k++) {
			char t1[4200];
			strcpy(t1, rr_text(&m, k));
			ck_assert_str_eq(rr_text(&m2, k), t1);
		}
	}
}
END_TEST

/* The 40-record answer: over UDP without room it comes with TC and what
 * fits; over TCP (two-byte length prefix) whole. */
START_TEST(dns_vectors_truncated_and_tcp)
{
	uint8_t b[2048];
	size_t len = vector_dns("dns-truncated-tcp.pcap", 2, b);
	ck_assert_ptr_null(dns_decode(&m, b, len));
	ck_assert(m.flags & DNS_F_TC);
	ck_assert_int_lt(m.an, 40);
	len = vector_dns("dns-tcp.pcap", 6, b);
	ck_assert_ptr_null(dns_decode(&m, b, len));
	ck_assert(!(m.flags & DNS_F_TC));
	ck_assert_int_eq(m.an, 40);
	ck_assert_uint_gt(len, 512);
	for (int i = 0; i < 40; i++) {
		ck_assert_uint_eq(m.rr[i].type, DNS_T_A);
		ck_assert(dns_name_eq(m.rr[i].name, N("MANY.lab.test")));
	}
}
END_TEST

/* ---- Hostile messages */

/* A header with the given counts, then the bytes of body. Returns length. */
static size_t hostile(uint8_t *b, unsigned qd, unsigned an, unsigned ns, unsigned ar,
		      const void *body, size_t blen)
{
	memset(b, 0, DNS_HDR_LEN);
	be16_put(b, 0x4242);
	be16_put(b + 2, DNS_F_QR);
	be16_put(b + 4, (uint16_t)qd);
	be16_put(b + 6, (uint16_t)an);
	be16_put(b + 8, (uint16_t)ns);
	be16_put(b + 10, (uint16_t)ar);
	memcpy(b + DNS_HDR_LEN, body, blen);
	return DNS_HDR_LEN + blen;
}

#define REJECT(why, qd, an, ns, ar, ...)                                          \
	do {                                                                      \
		static const uint8_t body[] = { __VA_ARGS__ };                    \
		size_t l = hostile(wire, qd, an, ns, ar, body, sizeof(body));     \
		ck_assert_str_eq(dns_decode(&m, wire, l) ?: "accepted", why);     \
	} while (0)

/* A question for "a" type A (7 bytes), and an A record owned by it. */
#define QA 1, 'a', 0, 0, 1, 0, 1
#define RR_A(rdlen) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, rdlen

START_TEST(dns_hostile_names)
{
	ck_assert_str_eq(dns_decode(&m, wire, 11), "dns.short_header");
	/* a pointer to itself */
	REJECT("dns.pointer_loop", 1, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1);
	/* a label run that leads back to its own pointer */
	REJECT("dns.pointer_loop", 1, 1, 0, 0, QA, 1, 'b', 0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0);
	/* two names pointing at each other: the second is forward of the first */
	REJECT("dns.pointer_forward", 1, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1);
	REJECT("dns.bad_pointer", 1, 0, 0, 0, 0xc3, 0xff, 0, 1, 0, 1);
	REJECT("dns.bad_pointer", 1, 0, 0, 0, 0xc0, 2, 0, 1, 0, 1); /* into the header */
	REJECT("dns.truncated_name", 1, 0, 0, 0, 1, 'a', 1, 'b', 0xc0);
	REJECT("dns.truncated_name", 1, 0, 0, 0, 5, 'a', 'b', 'c', 'd');
	REJECT("dns.truncated_name", 1, 0, 0, 0, 4, 'a', 'b', 'c', 'd');
	/* a length byte of 64 (and the reserved 0x80 type) */
	uint8_t b[400];
	b[0] = 64;
	memset(b + 1, 'x', 64);
	memcpy(b + 65, "\0\0\1\0\1", 5);
	size_t l = hostile(wire, 1, 0, 0, 0, b, 70);
	ck_assert_str_eq(dns_decode(&m, wire, l), "dns.label_too_long");
	REJECT("dns.label_too_long", 1, 0, 0, 0, 0x80, 'a', 0, 0, 1, 0, 1);
	/* 5 labels of 63: 320 bytes */
	for (int i = 0; i < 5; i++) {
		b[64 * i] = 63;
		memset(b + 64 * i + 1, 'y', 63);
	}
	memcpy(b + 320, "\0\0\1\0\1", 5);
	l = hostile(wire, 1, 0, 0, 0, b, 325);
	ck_assert_str_eq(dns_decode(&m, wire, l), "dns.name_too_long");
	/* 254 bytes is fine, 256 is not, also when built through pointers */
	for (int i = 0; i < 3; i++) {
		b[64 * i] = 63;
		memset(b + 64 * i + 1, 'z', 63);
	}
	b[192] = 60; /* 3 * 64 + 61 + root = 254 bytes */
	memset(b + 193, 'w', 60);
	memcpy(b + 253, "\0\0\1\0\1", 5);
	l = hostile(wire, 1, 0, 0, 0, b, 258);
	ck_assert_ptr_null(dns_decode(&m, wire, l));
	ck_assert_uint_eq(dns_name_len(m.qname), 254);
	/* answer owner "ab" + pointer to the question: 254 + 3 bytes */
	memcpy(b + 258, "\2ab\xc0\x0c\0\1\0\1\0\0\0\1\0\0", 15);
	l = hostile(wire, 1, 1, 0, 0, b, 273);
	ck_assert_str_eq(dns_decode(&m, wire, l), "dns.name_too_long");
}
END_TEST

START_TEST(dns_hostile_counts_and_records)
{
	/* counts far beyond what the message holds */
	REJECT("dns.count_overrun", 1, 65535, 0, 0, QA);
	REJECT("dns.count_overrun", 0, 0, 0, 1);
	/* two answers promised, one there, and room for the minimum of two */
	REJECT("dns.count_overrun", 1, 2, 0, 0, QA, 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 20, 19,
	       'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
	       'x', 'x');
	REJECT("dns.too_many_questions", 2, 0, 0, 0, QA, QA);
	REJECT("dns.truncated_record", 1, 0, 0, 0, 1, 'a', 0, 0, 1);
	REJECT("dns.truncated_record", 1, 1, 0, 0, QA, 3, 'a', 'b', 'c', 0, 0, 1, 0, 1, 0, 0);
	REJECT("dns.truncated_record", 1, 1, 0, 0, QA, RR_A(4), 10, 0);
	REJECT("dns.bad_rdata", 1, 1, 0, 0, QA, RR_A(5), 10, 0, 0, 1, 9);
	/* a CNAME whose name runs past its rdata, and one with bytes left over */
	REJECT("dns.bad_rdata", 1, 1, 0, 0, QA, 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 1, 1, 'b', 0);
	REJECT("dns.bad_rdata", 1, 1, 0, 0, QA, 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 3, 0xc0, 12,
	       7);
	/* a TXT string longer than its rdata; an MX too short */
	REJECT("dns.bad_rdata", 1, 1, 0, 0, QA, 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 'x');
	REJECT("dns.bad_rdata", 1, 1, 0, 0, QA, 0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 1, 0, 2, 0, 1);
	/* an SOA whose fixed fields are short */
	REJECT("dns.bad_rdata", 1, 1, 0, 0, QA, 0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 1, 0, 6, 0xc0, 12,
	       0xc0, 12, 0, 0);
	/* OPT in the answer section, and two of them */
	REJECT("dns.bad_opt", 1, 1, 0, 0, QA, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0);
	REJECT("dns.bad_opt", 1, 0, 0, 2, QA, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0, 0, 0, 41, 4,
	       0xd0, 0, 0, 0, 0, 0, 0);
	/* an OPT with an owner name */
	REJECT("dns.bad_opt", 1, 0, 0, 1, QA, 0xc0, 12, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0);
	/* more records than we keep: 300 of the smallest kind */
	static uint8_t many[300 * 11];
	for (int i = 0; i < 300; i++)
		memcpy(many + 11 * i, "\0\0\1\0\1\0\0\0\0\0\0", 11);
	size_t l = hostile(wire, 0, 300, 0, 0, many, sizeof(many));
	ck_assert_str_eq(dns_decode(&m, wire, l), "dns.too_many_records");
	/* and the legitimate shape of the same bytes passes */
	REJECT("accepted", 1, 1, 0, 1, QA, RR_A(4), 10, 0, 0, 1, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0,
	       0);
	ck_assert(m.edns);
	ck_assert_uint_eq(m.edns_size, 1232);
}
END_TEST

/* Random damage to real messages: every outcome is a clean accept or a
 * named reason, and never a read out of bounds (the sanitizer build). */
START_TEST(dns_fuzz_decoder)
{
	struct rng r;
	rng_seed(&r, 7);
	static uint8_t base[3][2048];
	size_t blen[3] = { vector_dns("dns.pcap", 8, base[0]),
			   vector_dns("dns-tcp.pcap", 6, base[1]), 0 };
	build_all_types(&m);
	blen[2] = (size_t)dns_encode(&m, base[2], sizeof(base[2]));
	for (int i = 0; i < 30000; i++) {
		int k = i % 3;
		size_t len = blen[k];
		static uint8_t b[2048];
		memcpy(b, base[k], len);
		int flips = 1 + (int)rng_below(&r, 4);
		for (int f = 0; f < flips; f++)
			b[rng_below(&r, len)] = (uint8_t)rng_next(&r);
		if (rng_chance(&r, 0.3))
			len = (size_t)rng_below(&r, len + 1);
		uint8_t *heap = malloc(len ? len : 1); /* exact size: ASan sees any overread */
		memcpy(heap, b, len);
		const char *why = dns_decode(&m, heap, len);
		if (why)
			ck_assert_int_eq(strncmp(why, "dns.", 4), 0);
		else
			ck_assert_int_ge(dns_encode(&m, wire, sizeof(wire)), DNS_HDR_LEN);
		free(heap);
	}
}
END_TEST

/* ---- Names as text */

START_TEST(dns_names_text)
{
	uint8_t n[DNS_NAME_MAX];
	char t[DNS_NAME_TEXT];
	ck_assert_ptr_null(dns_name_from_text("www.lab.test.", n));
	ck_assert_mem_eq(n, "\3www\3lab\4test", 14);
	ck_assert_str_eq(dns_name_to_text(n, t), "www.lab.test.");
	ck_assert_ptr_null(dns_name_from_text(".", n));
	ck_assert_str_eq(dns_name_to_text(n, t), ".");
	ck_assert_ptr_null(dns_name_from_text("a\\.b.c\\032d\\\\", n));
	ck_assert_mem_eq(n, "\3a.b\4c d\\", 10);
	ck_assert_str_eq(dns_name_to_text(n, t), "a\\.b.c\\032d\\\\.");
	ck_assert(dns_name_eq(N("WWW.lab.TEST"), N("www.LAB.test")));
	ck_assert(!dns_name_eq(N("www.lab.test"), N("ww.lab.test")));
	char big[300];
	memset(big, 'x', 64);
	big[64] = 0;
	ck_assert_str_eq(dns_name_from_text(big, n), "dns.label_too_long");
	for (int i = 0; i < 299; i++)
		big[i] = i % 10 == 9 ? '.' : 'x';
	big[299] = 0;
	ck_assert_str_eq(dns_name_from_text(big, n), "dns.name_too_long");
	ck_assert_str_eq(dns_name_from_text("a..b", n), "dns.empty_label");
	ck_assert_int_eq(dns_type_from_text("mx"), DNS_T_MX);
	ck_assert_int_eq(dns_type_from_text("TYPE65"), 65);
	ck_assert_int_eq(dns_type_from_text("nosuch"), -1);
}
END_TEST

/* ---- The cache, on virtual time */

/* A response to (name, qtype): an A record with ttl, or none (then rcode
 * with an SOA of TTL soa_ttl and MINIMUM soa_min when soa_ttl > 0). */
static void response(struct dns_msg *msg, const char *name, uint32_t ttl, int rcode,
		     uint32_t soa_ttl, uint32_t soa_min)
{
	uint8_t a[4] = { 10, 0, 0, 7 }, soa[64];
	dns_msg_init(msg, 99, DNS_F_QR | (uint16_t)rcode, N(name), DNS_T_A, DNS_C_IN);
	if (ttl)
		dns_msg_add(msg, DNS_S_ANSWER, N(name), DNS_T_A, 1, ttl, a, 4);
	if (soa_ttl) {
		memcpy(soa, "\2ns\0\2hm\0", 8);
		for (int i = 0; i < 5; i++)
			be32_put(soa + 8 + 4 * i, i == 4 ? soa_min : 1000);
		dns_msg_add(msg, DNS_S_AUTHORITY, N("lab.test"), DNS_T_SOA, 1, soa_ttl, soa, 28);
	}
}

START_TEST(dns_cache_ttl_counts_down_and_expires)
{
	struct stats st;
	struct dns_cache c;
	stats_init(&st);
	ck_assert_int_eq(dns_cache_init(&c, 8, &st), 0);
	response(&m, "www.lab.test", 300, 0, 0, 0);
	dns_cache_put(&c, &m, 5 * S);
	ck_assert(dns_cache_get(&c, N("WWW.lab.test"), DNS_T_A, 1, 5 * S, &m2));
	ck_assert_uint_eq(m2.rr[0].ttl, 300);
	ck_assert_int_eq(m2.an, 1);
	/* 100.9 s later: 100 whole seconds have gone */
	ck_assert(dns_cache_get(&c, N("www.lab.test"), DNS_T_A, 1, 105 * S + 900000, &m2));
	ck_assert_uint_eq(m2.rr[0].ttl, 200);
	ck_assert(!dns_cache_get(&c, N("www.lab.test"), DNS_T_AAAA, 1, 106 * S, &m2));
	ck_assert(dns_cache_get(&c, N("www.lab.test"), DNS_T_A, 1, 305 * S - 1, &m2));
	ck_assert_uint_eq(m2.rr[0].ttl, 1);
	ck_assert(!dns_cache_get(&c, N("www.lab.test"), DNS_T_A, 1, 305 * S, &m2));
	ck_assert_uint_eq(stats_get(&st, "dns.cache_expired"), 1);
	ck_assert_uint_eq(stats_get(&st, "dns.cache_hit"), 3);
	ck_assert_uint_eq(stats_get(&st, "dns.cache_miss"), 2);
	ck_assert_int_eq(dns_cache_count(&c), 0);
	/* TTL 0: not cached at all */
	response(&m, "zero.lab.test", 0, 0, 0, 0);
	m.an = 0;
	uint8_t a[4] = { 1, 2, 3, 4 };
	dns_msg_add(&m, DNS_S_ANSWER, N("zero.lab.test"), DNS_T_A, 1, 0, a, 4);
	dns_cache_put(&c, &m, 0);
	ck_assert_int_eq(dns_cache_count(&c), 0);
	dns_cache_fini(&c);
}
END_TEST

/* RFC 2308 5: NXDOMAIN and NODATA are kept for min(SOA TTL, SOA MINIMUM),
 * and served with the SOA's TTL counting down from it; without an SOA they
 * are not kept; SERVFAIL and truncated answers are never kept. */
START_TEST(dns_cache_negative)
{
	struct stats st;
	struct dns_cache c;
	stats_init(&st);
	dns_cache_init(&c, 8, &st);
	response(&m, "nope.lab.test", 0, DNS_NXDOMAIN, 3600, 60);
	ck_assert_uint_eq(dns_cache_ttl(&m), 60);
	dns_cache_put(&c, &m, 0);
	ck_assert(dns_cache_get(&c, N("nope.lab.test"), DNS_T_A, 1, 59 * S, &m2));
	ck_assert_int_eq(DNS_RCODE(m2.flags), DNS_NXDOMAIN);
	ck_assert_int_eq(m2.an, 0);
	ck_assert_int_eq(m2.ns, 1);
	ck_assert_uint_eq(m2.rr[0].ttl, 1);
	ck_assert(!dns_cache_get(&c, N("nope.lab.test"), DNS_T_A, 1, 60 * S, &m2));
	/* NODATA, SOA TTL smaller than MINIMUM */
	response(&m, "www.lab.test", 0, DNS_NOERROR, 30, 300);
	ck_assert_uint_eq(dns_cache_ttl(&m), 30);
	/* no SOA, SERVFAIL, TC: not cached */
	response(&m, "x.lab.test", 0, DNS_NXDOMAIN, 0, 0);
	ck_assert_uint_eq(dns_cache_ttl(&m), 0);
	response(&m, "x.lab.test", 0, DNS_SERVFAIL, 300, 300);
	ck_assert_uint_eq(dns_cache_ttl(&m), 0);
	response(&m, "x.lab.test", 300, 0, 0, 0);
	m.flags |= DNS_F_TC;
	ck_assert_uint_eq(dns_cache_ttl(&m), 0);
	/* a huge negative TTL is capped at 3 hours */
	response(&m, "far.lab.test", 0, DNS_NXDOMAIN, 999999, 999999);
	ck_assert_uint_eq(dns_cache_ttl(&m), DNS_CACHE_MAX_NEG_TTL);
	dns_cache_fini(&c);
}
END_TEST

START_TEST(dns_cache_bounded)
{
	struct stats st;
	struct dns_cache c;
	stats_init(&st);
	dns_cache_init(&c, 2, &st);
	response(&m, "a.lab.test", 100, 0, 0, 0);
	dns_cache_put(&c, &m, 0);
	response(&m, "b.lab.test", 50, 0, 0, 0);
	dns_cache_put(&c, &m, 0);
	response(&m, "a.lab.test", 200, 0, 0, 0); /* replaces a */
	dns_cache_put(&c, &m, 0);
	ck_assert_int_eq(dns_cache_count(&c), 2);
	response(&m, "c.lab.test", 300, 0, 0, 0); /* b goes: nearest its end */
	dns_cache_put(&c, &m, 0);
	ck_assert_int_eq(dns_cache_count(&c), 2);
	ck_assert_uint_eq(stats_get(&st, "dns.cache_evict"), 1);
	ck_assert(!dns_cache_get(&c, N("b.lab.test"), DNS_T_A, 1, 1, &m2));
	ck_assert(dns_cache_get(&c, N("a.lab.test"), DNS_T_A, 1, 1, &m2));
	ck_assert_uint_eq(m2.rr[0].ttl, 200);
	ck_assert(dns_cache_get(&c, N("c.lab.test"), DNS_T_A, 1, 1, &m2));
	dns_cache_fini(&c);
}
END_TEST

Suite *dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("dns");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, dns_round_trip_every_type);
	tcase_add_test(tc, dns_encoder_compresses);
	tcase_add_test(tc, dns_encoder_no_self_pointer);
	tcase_add_test(tc, dns_vectors_dig_and_dnsmasq);
	tcase_add_test(tc, dns_vectors_truncated_and_tcp);
	tcase_add_test(tc, dns_hostile_names);
	tcase_add_test(tc, dns_hostile_counts_and_records);
	tcase_add_test(tc, dns_fuzz_decoder);
	tcase_add_test(tc, dns_names_text);
	tcase_add_test(tc, dns_cache_ttl_counts_down_and_expires);
	tcase_add_test(tc, dns_cache_negative);
	tcase_add_test(tc, dns_cache_bounded);
	suite_add_tcase(s, tc);
	return s;
}

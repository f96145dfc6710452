/* The HTTP building blocks on tables of good and hostile inputs: the request
 * parser (every error status it can give), paths that try to escape the
 * root, ranges, dates, the MIME table, the response parser and the chunked
 * decoder of the client side. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/http.h"
#include "apps/lib/http_client.h"
#include "apps/lib/http_server.h"

/* ---- the request parser ----------------------------------------------- */

struct parse_case {
	const char *in;
	int want; /* > 0: the head's length is strlen(in) ; 0: need more; < 0: -status */
};

#define OK 1
static const struct parse_case parse_cases[] = {
	/* good ones */
	{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", OK },
	{ "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", OK },
	{ "GET / HTTP/1.0\r\n\r\n", OK },                       /* 1.0 needs no Host */
	{ "GET / HTTP/1.1\nHost: a\n\n", OK },                  /* bare LF (RFC 9112 2.2) */
	{ "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", OK },        /* a leading empty line */
	{ "GET http://a.test/x?y HTTP/1.1\r\nHost: b\r\n\r\n", OK }, /* absolute-form */
	{ "GET / HTTP/1.9\r\nHost: a\r\n\r\n", OK },            /* higher minor: as 1.1 */
	{ "GET /?a=b&c=%20 HTTP/1.1\r\nHost: a:8080\r\nX-Empty:\r\n\r\n", OK },
	{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", OK },
	/* incomplete */
	{ "", 0 },
	{ "GET / HT", 0 },
	{ "GET / HTTP/1.1\r\nHost: a\r\n", 0 },
	{ "GET / HTTP/1.1\r\nHost: a\r\n\r", 0 },
	/* 400: malformed */
	{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", -400 },         /* two spaces */
	{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", -400 },
	{ "GET /\r\n\r\n", -400 },                               /* HTTP/0.9 */
	{ "GET / http/1.1\r\nHost: a\r\n\r\n", -400 },
	{ "GET / HTTP/1.10\r\nHost: a\r\n\r\n", -400 },
	{ "GET / HTTP/1.1\r\n\r\n", -400 },                     /* no Host in 1.1 */
	{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400 },
	{ "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", -400 },
	{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", -400 },         /* space before the colon */
	{ "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", -400 }, /* obs-fold */
	{ "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", -400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", -400 }, /* a control character */
	{ "GET / HTTP/1.1\rHost: a\r\n\r\n", -400 },            /* bare CR */
	{ "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
	{ "GET /<script> HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
	{ "GET a HTTP/1.1\r\nHost: a\r\n\r\n", -400 },          /* not origin-form */
	{ "GET http:// HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
	{ "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", -400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", -400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", -400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -400 },
	/* 501 and 505 */
	{ "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", -501 },
	{ "get / HTTP/1.1\r\nHost: a\r\n\r\n", -501 },           /* methods are case-sensitive */
	{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", -501 },
	{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", -505 },
	{ "GET / HTTP/0.9\r\nHost: a\r\n\r\n", -505 },
	/* 413 */
	{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n", -413 },
};

START_TEST(http_parse_table)
{
	const struct parse_case *c = &parse_cases[_i];
	struct http_request req;
	int r = http_parse_request(c->in, strlen(c->in), &req);
	int want = c->want == OK ? (int)strlen(c->in) : c->want;
	ck_assert_msg(r == want, "case %d \"%s\": got %d, want %d", _i, c->in, r, want);
}
END_TEST

/* A request over each limit, built long; returns the parser's answer to
 * its first len bytes. */
static int parse_long(const char *pre, char fill, size_t n, const char *post, size_t *len)
{
	static char buf[200000];
	size_t p = strlen(pre);
	memcpy(buf, pre, p);
	memset(buf + p, fill, n);
	strcpy(buf + p + n, post);
	*len = strlen(buf);
	struct http_request req;
	return http_parse_request(buf, *len, &req);
}

START_TEST(http_parse_limits)
{
	size_t len;
	struct http_request req;
	/* 414: a target past HTTP_TARGET_MAX, complete or still coming */
	const char *tail = " HTTP/1.1\r\nHost: a\r\n\r\n";
	const char *fields = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	ck_assert_int_eq(parse_long("GET /", 'a', HTTP_TARGET_MAX, tail, &len), -414);
	ck_assert_int_eq(parse_long("GET /", 'a', HTTP_TARGET_MAX + 10, "", &len), -414);
	ck_assert_int_gt(parse_long("GET /", 'a', HTTP_TARGET_MAX - 2, tail, &len), 0);
	/* 431: one field line too long (even before its end), too many
	 * fields, the whole head too big */
	ck_assert_int_eq(parse_long(fields, 'b', HTTP_LINE_MAX, "\r\n\r\n", &len), -431);
	ck_assert_int_eq(parse_long(fields, 'b', HTTP_LINE_MAX + 5, "", &len), -431);
	char many[HTTP_FIELDS_MAX * 8 + 64] = "GET / HTTP/1.1\r\nHost: a\r\n";
	for (int i = 0; i < HTTP_FIELDS_MAX; i++)
		strcat(many, "X: y\r\n");
	strcat(many, "\r\n");
	ck_assert_int_eq(http_parse_request(many, strlen(many), &req), -431);
	static char big[HTTP_HEAD_MAX + 200];
	strcpy(big, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; strlen(big) < HTTP_HEAD_MAX; i++)
		strcat(big, "X-Long: 01234567890123456789012345678901234567890123456789\r\n");
	ck_assert_int_eq(http_parse_request(big, strlen(big), &req), -431);
	/* an endless request line with no space */
	ck_assert_int_eq(parse_long("", 'A', HTTP_LINE_MAX + 1, "", &len), -400);
}
END_TEST

START_TEST(http_parse_fields)
{
	const char *in = "GET http://www.a.test:8080/dir/f.txt?q=1 HTTP/1.0\r\n"
			 "host:  www.b.test  \r\nConnection: Keep-Alive\r\nRange: bytes=0-9\r\n"
			 "If-None-Match: \"x\"\r\n"
			 "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
			 "Content-Length: 3\r\n\r\nabc";
	struct http_request r;
	int n = http_parse_request(in, strlen(in), &r);
	ck_assert_int_eq(n, (int)strlen(in) - 3);
	ck_assert_int_eq(r.method, HTTP_GET);
	ck_assert_int_eq(r.minor, 0);
	ck_assert(http_str_eq(r.authority, "www.a.test:8080"));
	ck_assert(http_str_eq(r.path, "/dir/f.txt"));
	ck_assert(http_str_eq(r.host, "www.b.test"));
	ck_assert(http_str_eq(r.range, "bytes=0-9"));
	ck_assert(http_str_eq(r.if_none_match, "\"x\""));
	ck_assert_uint_eq(r.content_length, 3);
	ck_assert(r.conn_keep_alive && !r.conn_close);
	ck_assert(http_request_keep_alive(&r));
	ck_assert(http_str_eq(r.line, "GET http://www.a.test:8080/dir/f.txt?q=1 HTTP/1.0"));
	/* RFC 9112 9.3: 1.1 keeps by default, close ends; 1.0 closes by default */
	const char *a = "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n";
	ck_assert_int_gt(http_parse_request(a, strlen(a), &r), 0);
	ck_assert(!http_request_keep_alive(&r));
	const char *b = "GET / HTTP/1.0\r\n\r\n";
	ck_assert_int_gt(http_parse_request(b, strlen(b), &r), 0);
	ck_assert(!http_request_keep_alive(&r));
	/* a defined method we do not serve parses, for a 405 */
	const char *c = "DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n";
	ck_assert_int_gt(http_parse_request(c, strlen(c), &r), 0);
	ck_assert_int_eq(r.method, HTTP_OTHER_KNOWN);
	/* pipelined: the first head's length only */
	const char *p = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	ck_assert_int_eq(http_parse_request(p, strlen(p), &r), (int)strlen(p) / 2);
}
END_TEST

/* Every prefix of a good request asks for more, never fails. */
START_TEST(http_parse_prefixes)
{
	const char *in = "GET /a/b?c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nRange: bytes=1-\r\n\r\n";
	struct http_request r;
	for (size_t n = 0; n < strlen(in); n++)
		ck_assert_msg(http_parse_request(in, n, &r) == 0, "prefix %zu", n);
	ck_assert_int_eq(http_parse_request(in, strlen(in), &r), (int)strlen(in));
}
END_TEST

/* Random bytes and random mutations of a good request never crash the
 * parser (ASan watches), and its answer is always in range. */
START_TEST(http_parse_fuzz)
{
	static char buf[4096];
	const char *good = "GET /x HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n";
	uint64_t x = 12345;
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = strlen(good);
		memcpy(buf, good, n);
		for (int k = 0; k < 1 + iter % 8; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			buf[(x >> 33) % n] = (char)(x >> 13);
		}
		struct http_request r;
		int v = http_parse_request(buf, n, &r);
		ck_assert(v == 0 || (v > 0 && (size_t)v <= n) || v == -400 || v == -414 ||
			  v == -431 || v == -501 || v == -505 || v == -413);
	}
}
END_TEST

/* ---- paths ------------------------------------------------------------ */

struct path_case {
	const char *in, *want; /* want NULL: refused */
};

static const struct path_case path_cases[] = {
	{ "/", "/" },
	{ "/a/b.txt", "/a/b.txt" },
	{ "/a/", "/a/" },
	{ "//a///b", "/a/b" },
	{ "/a/./b", "/a/b" },
	{ "/a/.", "/a/" },
	{ "/a/b/../c", "/a/c" },
	{ "/a/..", "/" },
	{ "/a/%41%62", "/a/Ab" },
	{ "/%7euser/", "/~user/" },
	{ "/a/%2e%2e/b", "/b" },           /* encoded dots are dots, still inside */
	{ "/..", NULL },
	{ "/../etc/passwd", NULL },
	{ "/a/../../etc/passwd", NULL },
	{ "/%2e%2e/etc/passwd", NULL },
	{ "/%2E%2E/%2e%2e/etc", NULL },
	{ "/.%2e/x", NULL },
	{ "/a/%2f..%2f..%2fetc", NULL },   /* an encoded slash */
	{ "/a%2Fb", NULL },
	{ "/a%5c..%5cb", NULL },           /* an encoded backslash */
	{ "/a%00.txt", NULL },             /* an encoded NUL */
	{ "/a%zz", NULL },
	{ "/a%4", NULL },
	{ "/a%", NULL },
	{ "a/b", NULL },
	{ "", NULL },
	{ "/...", "/..." },                /* three dots is a name */
	{ "/a/..b", "/a/..b" },
};

START_TEST(http_path_table)
{
	const struct path_case *c = &path_cases[_i];
	char out[256];
	int n = http_path_normalize(c->in, strlen(c->in), out, sizeof(out));
	if (!c->want) {
		ck_assert_msg(n < 0, "\"%s\" gave \"%s\", want refused", c->in, n >= 0 ? out : "");
	} else {
		ck_assert_msg(n >= 0, "\"%s\" refused, want \"%s\"", c->in, c->want);
		ck_assert_str_eq(out, c->want);
		ck_assert_int_eq(n, (int)strlen(c->want));
	}
}
END_TEST

/* ---- ranges ----------------------------------------------------------- */

struct range_case {
	const char *in;
	uint64_t size;
	enum http_range_result want;
	uint64_t first, last;
};

static const struct range_case range_cases[] = {
	{ "bytes=0-9", 100, HTTP_RANGE_OK, 0, 9 },
	{ "bytes=10-", 100, HTTP_RANGE_OK, 10, 99 },
	{ "bytes=-10", 100, HTTP_RANGE_OK, 90, 99 },
	{ "bytes=-1000", 100, HTTP_RANGE_OK, 0, 99 },
	{ "bytes=50-1000", 100, HTTP_RANGE_OK, 50, 99 },
	{ "bytes=99-99", 100, HTTP_RANGE_OK, 99, 99 },
	{ "Bytes=0-0", 100, HTTP_RANGE_OK, 0, 0 },
	{ "bytes=100-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=200-300", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=-0", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=0-", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=9-0", 100, HTTP_RANGE_NONE, 0, 0 },     /* invalid: ignored */
	{ "bytes=0-1,5-6", 100, HTTP_RANGE_NONE, 0, 0 }, /* several: ignored */
	{ "items=0-1", 100, HTTP_RANGE_NONE, 0, 0 },
	{ "bytes=", 100, HTTP_RANGE_NONE, 0, 0 },
	{ "bytes=-", 100, HTTP_RANGE_NONE, 0, 0 },
	{ "bytes=a-b", 100, HTTP_RANGE_NONE, 0, 0 },
	{ "bytes=99999999999999999999-", 100, HTTP_RANGE_NONE, 0, 0 },
	{ "bytes=1073741823-", 1073741824ULL, HTTP_RANGE_OK, 1073741823ULL, 1073741823ULL },
};

START_TEST(http_range_table)
{
	const struct range_case *c = &range_cases[_i];
	uint64_t a = 0, b = 0;
	struct http_str v = { c->in, strlen(c->in) };
	enum http_range_result r = http_range_parse(v, c->size, &a, &b);
	ck_assert_msg(r == c->want, "\"%s\" of %llu: got %d want %d", c->in,
		      (unsigned long long)c->size, r, c->want);
	if (r == HTTP_RANGE_OK) {
		ck_assert_uint_eq(a, c->first);
		ck_assert_uint_eq(b, c->last);
	}
}
END_TEST

/* ---- dates, MIME, escaping, pattern ----------------------------------- */

START_TEST(http_dates)
{
	char out[32];
	ck_assert_str_eq(http_date_format(784111777, out), "Sun, 06 Nov 1994 08:49:37 GMT");
	const char *forms[] = { "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
				"Sun Nov  6 08:49:37 1994" };
	for (int i = 0; i < 3; i++) {
		time_t t = 0;
		struct http_str f = { forms[i], strlen(forms[i]) };
		ck_assert_int_eq(http_date_parse(f, &t), 0);
		ck_assert_int_eq((long)t, 784111777L);
	}
	const char *bad[] = { "", "yesterday", "Sun, 06 Nov 1994 08:49:37 PST",
			      "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
			      "Sun, 06 Nov 1994 08:49:37 GMT junk" };
	for (int i = 0; i < 6; i++) {
		time_t t;
		ck_assert_msg(http_date_parse((struct http_str){ bad[i], strlen(bad[i]) }, &t) < 0,
			      "\"%s\" accepted", bad[i]);
	}
}
END_TEST

START_TEST(http_mime)
{
	static const char *const t[][2] = {
		{ "index.html", "text/html; charset=utf-8" },
		{ "a/b/style.css", "text/css; charset=utf-8" },
		{ "app.js", "text/javascript; charset=utf-8" }, { "d.json", "application/json" },
		{ "r.txt", "text/plain; charset=utf-8" }, { "I.PNG", "image/png" },
		{ "p.jpg", "image/jpeg" }, { "p.jpeg", "image/jpeg" }, { "g.gif", "image/gif" },
		{ "v.svg", "image/svg+xml" }, { "favicon.ico", "image/x-icon" },
		{ "doc.pdf", "application/pdf" }, { "m.wasm", "application/wasm" },
		{ "noext", "application/octet-stream" }, { ".html", "application/octet-stream" },
		{ "a.tar.gz", "application/octet-stream" },
		{ "dir.html/file", "application/octet-stream" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_str_eq(http_mime_type(t[i][0]), t[i][1]);
}
END_TEST

START_TEST(http_escapes_and_pages)
{
	char out[256];
	http_html_escape("<a href=\"x\">&'</a>", out, sizeof(out));
	ck_assert_str_eq(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	http_url_escape("a b/c%d\"é", out, sizeof(out));
	ck_assert_str_eq(out, "a%20b/c%25d%22%C3%A9");
	int codes[] = { 400, 403, 404, 405, 408, 413, 414, 416, 431, 501, 503, 505 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char page[512], want[64];
		size_t n = http_error_body(codes[i], page, sizeof(page));
		ck_assert_uint_eq(n, strlen(page));
		snprintf(want, sizeof(want), "<h1>%d %s</h1>", codes[i], http_reason(codes[i]));
		ck_assert_ptr_nonnull(strstr(page, want));
		ck_assert_str_ne(http_reason(codes[i]), "Unknown");
	}
}
END_TEST

START_TEST(http_pattern)
{
	/* RFC 864: line 0 starts with ' ', line 1 with '!', each 72 + CR LF;
	 * filling from any offset gives the same bytes */
	static uint8_t all[20000], part[5000];
	http_pattern_fill(all, sizeof(all), 0);
	ck_assert_int_eq(all[0], ' ');
	ck_assert_int_eq(all[72], '\r');
	ck_assert_int_eq(all[73], '\n');
	ck_assert_int_eq(all[74], '!');
	ck_assert_int_eq(all[7030], ' '); /* the period: 95 lines */
	http_pattern_fill(part, sizeof(part), 12345);
	ck_assert(memcmp(part, all + 12345, sizeof(part)) == 0);
}
END_TEST

/* ---- the client side -------------------------------------------------- */

START_TEST(http_response_heads)
{
	struct http_response r;
	const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nbody";
	ck_assert_int_eq(http_parse_response(a, strlen(a), &r), (int)strlen(a) - 4);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.content_length, 12);
	ck_assert(r.conn_close && !r.chunked);
	const char *b = "HTTP/1.1 301 Moved\nLocation: /x/ \nTransfer-Encoding: gzip, chunked\n\n";
	ck_assert_int_eq(http_parse_response(b, strlen(b), &r), (int)strlen(b));
	ck_assert_str_eq(r.location, "/x/");
	ck_assert(r.chunked);
	ck_assert_int_eq(http_parse_response(b, 10, &r), 0);
	ck_assert_int_eq(http_parse_response("SSH-2.0-x\r\n\r\n", 13, &r), -1);
	const char *c = "HTTP/1.0 200 OK\r\n\r\n";
	ck_assert_int_gt(http_parse_response(c, strlen(c), &r), 0);
	ck_assert(r.conn_close);
	ck_assert(http_response_no_body(&r, true));
	r.status = 304;
	ck_assert(http_response_no_body(&r, false));
}
END_TEST

/* Bug 12: Content-Length was read with strtoll on a value that is not
 * NUL-terminated: an empty value skipped the CRLFs after it (strtoll takes
 * them for spaces) and read the body or whatever followed the buffer.
 * RFC 9110 8.6: Content-Length = 1*DIGIT; RFC 9112 6.3 rule 5: a response
 * with an invalid one is not read (-1). Each head sits in a buffer of its
 * exact size, so ASan sees a read past it. */
static const struct {
	const char *value; /* the field line's value, NULL: no such line */
	long long want;    /* content_length, or -2 for "the head is rejected" */
} clen_cases[] = {
	{ "12", 12 },
	{ " 12 ", 12 },
	{ "\t0\t", 0 },
	{ "9223372036854775807", 9223372036854775807LL },
	{ "12, 12", 12 },             /* RFC 9110 8.6: a list of one value repeated */
	{ "", -2 },
	{ " ", -2 },
	{ "12abc", -2 },
	{ "-1", -2 },
	{ "+5", -2 },
	{ "0x10", -2 },
	{ "1 2", -2 },
	{ "12, 13", -2 },
	{ ",", -2 },
	{ "9223372036854775808", -2 }, /* past int64_t */
	{ "99999999999999999999999", -2 },
};

START_TEST(http_response_content_length)
{
	char head[256];
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length:%s\r\n\r\n",
		 clen_cases[_i].value);
	size_t n = strlen(head);
	char *exact = malloc(n);
	memcpy(exact, head, n);
	struct http_response r;
	int got = http_parse_response(exact, n, &r);
	if (clen_cases[_i].want == -2) {
		ck_assert_msg(got == -1, "Content-Length:\"%s\": %d, length %lld", clen_cases[_i].value,
			      got, (long long)r.content_length);
	} else {
		ck_assert_int_eq(got, (int)n);
		ck_assert_int_eq(r.content_length, clen_cases[_i].want);
	}
	free(exact);
}
END_TEST

START_TEST(http_response_hostile_heads)
{
	struct http_response r;
	/* an empty Content-Length and a body of digits: once taken for 42 */
	const char *a = "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n42";
	ck_assert_int_eq(http_parse_response(a, strlen(a), &r), -1);
	/* two Content-Length fields that differ (RFC 9110 8.6), and that agree */
	const char *b = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
	ck_assert_int_eq(http_parse_response(b, strlen(b), &r), -1);
	const char *c = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n";
	ck_assert_int_eq(http_parse_response(c, strlen(c), &r), (int)strlen(c));
	ck_assert_int_eq(r.content_length, 5);
	/* RFC 9112 4: status-code = 3DIGIT; spaces were skipped by atoi into the
	 * next lines and past the buffer */
	static const char *bad[] = { "HTTP/1.1    \n", "HTTP/1.1  200 OK\r\n\r\n",
				     "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n",
				     "HTTP/1.x 200 OK\r\n\r\n", "HTTP/1.1 099 OK\r\n\r\n",
				     "HTTP/1.1 \n\n\n\n200\n\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);
		char *exact = malloc(n);
		memcpy(exact, bad[i], n);
		ck_assert_msg(http_parse_response(exact, n, &r) == -1, "accepted \"%s\"", bad[i]);
		free(exact);
	}
	/* a reason phrase may be empty (RFC 9112 4: SP still required) */
	const char *d = "HTTP/1.1 204 \r\n\r\n";
	ck_assert_int_eq(http_parse_response(d, strlen(d), &r), (int)strlen(d));
	ck_assert_int_eq(r.status, 204);
	const char *e = "HTTP/1.1 204\r\n\r\n"; /* no SP: common, and taken */
	ck_assert_int_eq(http_parse_response(e, strlen(e), &r), (int)strlen(e));
}
END_TEST

START_TEST(http_chunked)
{
	const char *enc = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
	/* all at once, then one byte at a time: the same data, the same end */
	for (int mode = 0; mode < 2; mode++) {
		struct http_chunked st = { 0 };
		char got[64] = "";
		size_t gl = 0, total = 0;
		int r = 0;
		size_t len = strlen(enc);
		for (size_t i = 0; i < len && r == 0;) {
			uint8_t buf[64];
			size_t n = mode == 0 ? len : 1, outn, used;
			memcpy(buf, enc + i, n);
			r = http_chunked_decode(&st, buf, n, &outn, &used);
			ck_assert_int_ge(r, 0);
			memcpy(got + gl, buf, outn);
			gl += outn;
			total += used;
			i += n;
		}
		ck_assert_int_eq(r, 1);
		got[gl] = '\0';
		ck_assert_str_eq(got, "hello, world");
		ck_assert_uint_eq(total, len - 4); /* "NEXT" is not the body's */
	}
	struct http_chunked st = { 0 };
	uint8_t bad[] = "zz\r\n";
	size_t o, u;
	ck_assert_int_eq(http_chunked_decode(&st, bad, 4, &o, &u), -1);
	struct http_chunked st2 = { 0 };
	uint8_t bad2[] = "2\r\nabX\r\n";
	ck_assert_int_eq(http_chunked_decode(&st2, bad2, 8, &o, &u), -1);
}
END_TEST

Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, http_parse_table, 0, sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_test(tc, http_parse_limits);
	tcase_add_test(tc, http_parse_fields);
	tcase_add_test(tc, http_parse_prefixes);
	tcase_add_test(tc, http_parse_fuzz);
	suite_add_tcase(s, tc);
	tc = tcase_create("helpers");
	tcase_add_loop_test(tc, http_path_table, 0, sizeof(path_cases) / sizeof(path_cases[0]));
	tcase_add_loop_test(tc, http_range_table, 0, sizeof(range_cases) / sizeof(range_cases[0]));
	tcase_add_test(tc, http_dates);
	tcase_add_test(tc, http_mime);
	tcase_add_test(tc, http_escapes_and_pages);
	tcase_add_test(tc, http_pattern);
	suite_add_tcase(s, tc);
	tc = tcase_create("client");
	tcase_add_test(tc, http_response_heads);
	tcase_add_loop_test(tc, http_response_content_length, 0,
			    sizeof(clen_cases) / sizeof(clen_cases[0]));
	tcase_add_test(tc, http_response_hostile_heads);
	tcase_add_test(tc, http_chunked);
	suite_add_tcase(s, tc);
	return s;
}

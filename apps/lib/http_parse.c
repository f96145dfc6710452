/* The HTTP/1.1 request head parser (RFC 9112 2-6): a pure function on the
 * bytes received so far. It says "done" (the head's length), "need more"
 * (0) or "answer with this error" (minus the status), and checks every
 * limit on the bytes already there, so that a client sending an endless
 * line is stopped at the limit. See http.h. */
#include <string.h>
#include <strings.h>

#include "apps/lib/http.h"

/* RFC 9110 5.6.2: tchar, the characters of a token (methods, field names). */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 3986 3.3: characters a request target may hold (unreserved,
 * sub-delims, ':', '@', '/', '?', and '%' of an escape). */
static bool is_target_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-._~!$&'()*+,;=:@/?%[]", c) != NULL;
}

/* RFC 9110 5.5: a field value holds VCHAR, obs-text, SP and HTAB; no CTL. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

bool http_str_eq(struct http_str s, const char *word)
{
	return strlen(word) == s.n && strncasecmp(s.p, word, s.n) == 0;
}

/* Finds the end of the line that starts at buf[pos]: returns the index of
 * its '\n', or -1 if it is not complete yet. */
static long line_end(const char *buf, size_t len, size_t pos)
{
	const char *nl = memchr(buf + pos, '\n', len - pos);
	return nl ? (long)(nl - buf) : -1;
}

/* The line buf[start..nl) without a CR before the LF (RFC 9112 2.2: a bare
 * LF may end a line). Returns -1 if a CR is anywhere else (bare CR). */
static int line_trim(const char *buf, size_t start, size_t nl, size_t *n)
{
	size_t end = nl;
	if (end > start && buf[end - 1] == '\r')
		end--;
	if (memchr(buf + start, '\r', end - start))
		return -1;
	*n = end - start;
	return 0;
}

/* RFC 9110 9: the methods we know. GET and HEAD are served; the others are
 * defined methods this server does not allow (405); any other is 501. */
static int method_kind(struct http_str m)
{
	static const char *const known[] = { "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
					     "TRACE", "PATCH", NULL };
	if (m.n == 3 && memcmp(m.p, "GET", 3) == 0) /* RFC 9110 9.1: case-sensitive */
		return HTTP_GET;
	if (m.n == 4 && memcmp(m.p, "HEAD", 4) == 0)
		return HTTP_HEAD;
	for (int i = 0; known[i]; i++)
		if (m.n == strlen(known[i]) && memcmp(m.p, known[i], m.n) == 0)
			return HTTP_OTHER_KNOWN;
	return -1;
}

/* RFC 9112 3.2: splits the target into path (and the authority of an
 * absolute-form). Returns 0 or -400. */
static int parse_target(struct http_request *r)
{
	const char *t = r->target.p;
	size_t n = r->target.n, i;
	for (i = 0; i < n; i++)
		if (!is_target_char((unsigned char)t[i]))
			return -400;
	if (r->method == HTTP_OTHER_KNOWN)
		return 0; /* answered 405 whatever the form (CONNECT, OPTIONS *) */
	if (n >= 7 && strncasecmp(t, "http://", 7) == 0) {
		/* RFC 9112 3.2.2: absolute-form, which a server MUST accept */
		size_t a = 7, e = 7;
		while (e < n && t[e] != '/' && t[e] != '?')
			e++;
		if (e == a)
			return -400;
		r->authority = (struct http_str){ t + a, e - a };
		t += e;
		n -= e;
		if (n == 0 || t[0] == '?') {
			r->path = (struct http_str){ "/", 1 };
			return 0;
		}
	} else if (t[0] != '/') {
		return -400; /* RFC 9112 3.2.1: origin-form starts with '/' */
	}
	const char *q = memchr(t, '?', n);
	r->path = (struct http_str){ t, q ? (size_t)(q - t) : n };
	return 0;
}

/* RFC 9112 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT. Returns 0 (minor
 * in r), -400 for a malformed one, -505 for a major version other than 1. */
static int parse_version(struct http_str v, struct http_request *r)
{
	if (v.n != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[6] != '.' || v.p[5] < '0' ||
	    v.p[5] > '9' || v.p[7] < '0' || v.p[7] > '9')
		return -400;
	if (v.p[5] != '1')
		return -505;
	/* RFC 9110 6.2: a higher minor version is answered as the highest we
	 * speak, 1.1 */
	r->minor = v.p[7] == '0' ? 0 : 1;
	return 0;
}

/* RFC 9112 3: request-line = method SP request-target SP HTTP-version.
 * line[0..n) without its end. Returns 0 or minus a status. */
static int parse_request_line(const char *line, size_t n, struct http_request *r)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i >= n || line[i] != ' ')
		return -400;
	r->method_name = (struct http_str){ line, i };
	size_t t = ++i;
	while (i < n && line[i] != ' ')
		i++;
	if (i - t > HTTP_TARGET_MAX)
		return -414;
	if (i == t || i >= n)
		return -400;
	r->target = (struct http_str){ line + t, i - t };
	int v = parse_version((struct http_str){ line + i + 1, n - i - 1 }, r);
	if (v < 0)
		return v;
	int kind = method_kind(r->method_name);
	if (kind < 0)
		return -501; /* RFC 9110 9.1: a method we do not recognise */
	r->method = (enum http_method)kind;
	return parse_target(r);
}

/* Checks a partial request line (no end yet) against the limits. */
static int check_partial_request_line(const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n);
	if (sp) {
		size_t t = (size_t)(sp - line) + 1;
		const char *sp2 = memchr(line + t, ' ', n - t);
		size_t tn = sp2 ? (size_t)(sp2 - line) - t : n - t;
		if (tn > HTTP_TARGET_MAX)
			return -414;
	}
	return n > HTTP_LINE_MAX ? -400 : 0;
}

/* RFC 9112 6.3: Content-Length = 1*DIGIT; a repeat must say the same. */
static int parse_content_length(struct http_str v, struct http_request *r, bool *seen)
{
	uint64_t x = 0;
	if (v.n == 0 || v.n > 18)
		return -400;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -400;
		x = x * 10 + (uint64_t)(v.p[i] - '0');
	}
	if (*seen && x != r->content_length)
		return -400;
	*seen = true;
	r->content_length = x;
	return 0;
}

/* RFC 9110 7.6.1: Connection is a list of options; "close" and
 * "keep-alive" matter here. */
static void parse_connection(struct http_str v, struct http_request *r)
{
	size_t i = 0;
	while (i < v.n) {
		while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		size_t s = i;
		while (i < v.n && v.p[i] != ',' && v.p[i] != ' ' && v.p[i] != '\t')
			i++;
		struct http_str tok = { v.p + s, i - s };
		if (http_str_eq(tok, "close"))
			r->conn_close = true;
		else if (http_str_eq(tok, "keep-alive"))
			r->conn_keep_alive = true;
	}
}

/* RFC 9110 7.2: Host = uri-host [ ":" port ]: letters, digits, '-', '.',
 * '_', and ':' '[' ']' for a port or an IPv6 literal. Empty is allowed. */
static bool host_valid(struct http_str v)
{
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-._:[]", c)))
			return false;
	}
	return true;
}

/* Takes one field line (line[0..n), no end). Returns 0 or minus a status. */
static int parse_field(const char *line, size_t n, struct http_request *r, bool *cl_seen)
{
	if (line[0] == ' ' || line[0] == '\t')
		return -400; /* RFC 9112 5.2: obs-fold, rejected with 400 */
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)line[i]))
		i++;
	/* RFC 9112 5.1: no whitespace between the name and the colon */
	if (i == 0 || i >= n || line[i] != ':')
		return -400;
	struct http_str name = { line, i };
	size_t s = i + 1, e = n;
	while (s < e && (line[s] == ' ' || line[s] == '\t'))
		s++;
	while (e > s && (line[e - 1] == ' ' || line[e - 1] == '\t'))
		e--;
	for (size_t k = s; k < e; k++)
		if (!is_field_char((unsigned char)line[k]))
			return -400;
	struct http_str v = { line + s, e - s };
	if (http_str_eq(name, "Host")) {
		if (r->has_host || !host_valid(v))
			return -400; /* RFC 9112 3.2: more than one Host is a 400 */
		r->host = v;
		r->has_host = true;
	} else if (http_str_eq(name, "Connection")) {
		parse_connection(v, r);
	} else if (http_str_eq(name, "Content-Length")) {
		return parse_content_length(v, r, cl_seen);
	} else if (http_str_eq(name, "Transfer-Encoding")) {
		return -501; /* RFC 9112 6.1: we decode no coding of a request body */
	} else if (http_str_eq(name, "If-None-Match")) {
		r->if_none_match = v;
	} else if (http_str_eq(name, "If-Modified-Since")) {
		r->if_modified_since = v;
	} else if (http_str_eq(name, "Range")) {
		r->range = v;
	} else if (http_str_eq(name, "If-Range")) {
		r->if_range = v;
	}
	return 0;
}

/* Reads the field lines from buf[pos] on, up to the empty line. Returns the
 * head's length, 0 for more, or minus a status. */
static int parse_fields(const char *buf, size_t len, size_t pos, struct http_request *r)
{
	bool cl_seen = false;
	for (int count = 0;; count++) {
		long nl = line_end(buf, len, pos);
		if (nl < 0) {
			if (len - pos > HTTP_LINE_MAX || len > HTTP_HEAD_MAX)
				return -431; /* RFC 6585 5: fields too large */
			return 0;
		}
		size_t n;
		if ((size_t)nl - pos > HTTP_LINE_MAX || (size_t)nl + 1 > HTTP_HEAD_MAX)
			return -431;
		if (line_trim(buf, pos, (size_t)nl, &n) < 0)
			return -400;
		if (n == 0) {
			r->head_len = (size_t)nl + 1;
			return (int)r->head_len;
		}
		if (count >= HTTP_FIELDS_MAX)
			return -431;
		int e = parse_field(buf + pos, n, r, &cl_seen);
		if (e < 0)
			return e;
		pos = (size_t)nl + 1;
	}
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	size_t pos = 0;
	/* RFC 9112 2.2: SHOULD ignore empty lines before the request line */
	while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n')) {
		if (buf[pos] == '\r' && pos + 1 < len && buf[pos + 1] != '\n')
			return -400;
		pos++;
	}
	if (pos > HTTP_LINE_MAX)
		return -400;
	long nl = line_end(buf, len, pos);
	if (nl < 0)
		return check_partial_request_line(buf + pos, len - pos);
	size_t n;
	if (line_trim(buf, pos, (size_t)nl, &n) < 0)
		return -400;
	int e = check_partial_request_line(buf + pos, n);
	if (e < 0)
		return e;
	req->line = (struct http_str){ buf + pos, n };
	e = parse_request_line(buf + pos, n, req);
	if (e < 0)
		return e;
	int r = parse_fields(buf, len, (size_t)nl + 1, req);
	if (r <= 0)
		return r;
	/* RFC 9112 3.2: an HTTP/1.1 request without Host is a 400 */
	if (req->minor == 1 && !req->has_host)
		return -400;
	if (req->content_length > HTTP_BODY_MAX)
		return -413;
	return r;
}

bool http_request_keep_alive(const struct http_request *req)
{
	if (req->conn_close)
		return false;
	return req->minor >= 1 || req->conn_keep_alive;
}

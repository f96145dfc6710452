/* HTTP/1.1 for a client: reading a response head and a chunked body. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "apps/lib/http_client.h"

#define RESPONSE_HEAD_MAX 65536

/* Does the comma-separated list v[0..n) end with the token word? */
static bool list_ends_with(const char *v, size_t n, const char *word)
{
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	size_t w = strlen(word);
	return n >= w && strncasecmp(v + n - w, word, w) == 0 &&
	       (n == w || v[n - w - 1] == ',' || v[n - w - 1] == ' ');
}

/* RFC 9110 8.6: Content-Length = 1*DIGIT, read from v[0..n) only (it is not
 * NUL-terminated: bug 12 was strtoll reading on past it), with optional
 * whitespace around it. A comma-separated list of one value repeated
 * ("5, 5") is taken as that value, as 8.6 allows. Returns the value, or -1
 * if it is empty, has anything but digits, differs or overflows int64_t. */
static int64_t content_length_parse(const char *v, size_t n)
{
	int64_t value = -1;
	size_t i = 0;
	for (;;) {
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i == n || v[i] < '0' || v[i] > '9')
			return -1;
		int64_t x = 0;
		while (i < n && v[i] >= '0' && v[i] <= '9') {
			int d = v[i++] - '0';
			if (x > (INT64_MAX - d) / 10)
				return -1;
			x = x * 10 + d;
		}
		if (value >= 0 && x != value)
			return -1;
		value = x;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i == n)
			return value;
		if (v[i++] != ',')
			return -1;
	}
}

/* Takes one field line name: value (line[0..n), no end). Returns -1 if the
 * field makes the response unreadable (an invalid or conflicting
 * Content-Length, RFC 9112 6.3 rule 5), else 0. */
static int response_field(const char *line, size_t n, struct http_response *r, bool *ka)
{
	const char *colon = memchr(line, ':', n);
	if (!colon)
		return 0;
	size_t nl = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vn = n - nl - 1;
	while (vn && (*v == ' ' || *v == '\t'))
		v++, vn--;
	if (nl == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		int64_t cl = content_length_parse(v, vn);
		/* two fields must agree, like the values of one list */
		if (cl < 0 || (r->content_length >= 0 && cl != r->content_length))
			return -1;
		r->content_length = cl;
	} else if (nl == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
		r->chunked = list_ends_with(v, vn, "chunked");
	} else if (nl == 10 && strncasecmp(line, "Connection", 10) == 0) {
		if (memmem(v, vn, "close", 5))
			r->conn_close = true;
		if (memmem(v, vn, "keep-alive", 10))
			*ka = true;
	} else if (nl == 8 && strncasecmp(line, "Location", 8) == 0) {
		size_t k = vn < sizeof(r->location) - 1 ? vn : sizeof(r->location) - 1;
		while (k && (v[k - 1] == ' ' || v[k - 1] == '\t' || v[k - 1] == '\r'))
			k--;
		memcpy(r->location, v, k);
		r->location[k] = '\0';
	}
	return 0;
}

int http_parse_response(const char *buf, size_t len, struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	size_t pos = 0;
	bool ka = false;
	for (int line_no = 0;; line_no++) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			return len > RESPONSE_HEAD_MAX ? -1 : 0;
		size_t end = (size_t)(nl - buf), n = end - pos;
		if (n && buf[end - 1] == '\r')
			n--;
		if (line_no == 0) {
			/* RFC 9112 4: status-line = HTTP-version SP status-code SP
			 * [reason], status-code = 3DIGIT, read inside the line (atoi
			 * skipped spaces and line ends past it); a line that ends
			 * right after the code, without the SP, is taken too */
			if (n < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[7] < '0' ||
			    buf[7] > '9' || buf[8] != ' ' || (n > 12 && buf[12] != ' '))
				return -1;
			r->minor = buf[7] - '0';
			r->status = 0;
			for (int k = 9; k < 12; k++) {
				if (buf[k] < '0' || buf[k] > '9')
					return -1;
				r->status = r->status * 10 + (buf[k] - '0');
			}
			if (r->status < 100)
				return -1;
		} else if (n == 0) {
			r->head_len = end + 1;
			if (r->minor == 0 && !ka)
				r->conn_close = true;
			return (int)r->head_len;
		} else {
			if (response_field(buf + pos, n, r, &ka) < 0)
				return -1;
		}
		pos = end + 1;
	}
}

bool http_response_no_body(const struct http_response *r, bool is_head)
{
	/* RFC 9112 6.3 rule 1: HEAD, 1xx, 204 and 304 have no content */
	return is_head || r->status < 200 || r->status == 204 || r->status == 304;
}

enum { CH_SIZE, CH_EXT, CH_DATA, CH_DATA_END, CH_TRAILER, CH_TRAILER_LINE, CH_DONE };

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 9112 7.1: chunk = chunk-size [chunk-ext] CRLF chunk-data CRLF;
 * last-chunk = 1*"0" [chunk-ext] CRLF; then trailer fields and CRLF. A bare
 * LF is taken for CRLF. */
int http_chunked_decode(struct http_chunked *st, uint8_t *buf, size_t len, size_t *out_len,
			size_t *used)
{
	size_t i = 0, o = 0;
	while (i < len && st->state != CH_DONE) {
		uint8_t c = buf[i];
		switch (st->state) {
		case CH_SIZE:
			if (hexval(c) >= 0) {
				if (++st->digits > 15)
					return -1;
				st->left = st->left * 16 + (uint64_t)hexval(c);
				i++;
				break;
			}
			if (st->digits == 0)
				return -1;
			st->state = CH_EXT;
			break;
		case CH_EXT: /* extensions are ignored up to the end of the line */
			i++;
			if (c == '\n')
				st->state = st->left ? CH_DATA : CH_TRAILER;
			break;
		case CH_DATA: {
			size_t n = len - i < st->left ? len - i : (size_t)st->left;
			memmove(buf + o, buf + i, n);
			o += n;
			i += n;
			st->left -= n;
			if (st->left == 0)
				st->state = CH_DATA_END;
			break;
		}
		case CH_DATA_END:
			i++;
			if (c == '\n') {
				st->state = CH_SIZE;
				st->digits = 0;
			} else if (c != '\r') {
				return -1;
			}
			break;
		case CH_TRAILER: /* a line start: empty means the end */
			i++;
			if (c == '\n')
				st->state = CH_DONE;
			else if (c != '\r')
				st->state = CH_TRAILER_LINE;
			break;
		case CH_TRAILER_LINE:
			i++;
			if (c == '\n')
				st->state = CH_TRAILER;
			break;
		}
	}
	*out_len = o;
	*used = i;
	return st->state == CH_DONE ? 1 : 0;
}

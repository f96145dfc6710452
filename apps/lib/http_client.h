/* The client side of HTTP/1.1 (RFC 9112), for webget and the tests: a
 * response head parser and a chunked body decoder, both pure and
 * incremental (fed the bytes as they come). */
#ifndef TAPSTACK_HTTP_CLIENT_H
#define TAPSTACK_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_response {
	int status;               /* 100-999 */
	int minor;                /* HTTP/1.minor */
	int64_t content_length;   /* -1: none */
	bool chunked;             /* Transfer-Encoding ends with chunked */
	bool conn_close;          /* Connection: close (or HTTP/1.0 without keep-alive) */
	char location[2048];      /* the Location field, "" if none */
	size_t head_len;          /* bytes of the head, empty line included */
};

/* Parses a response head at the start of buf[0..len). Returns its length
 * once complete, 0 if more bytes are needed, -1 if it is not HTTP, is
 * longer than 64 KiB, or has an invalid or conflicting Content-Length
 * (RFC 9110 8.6, RFC 9112 6.3 rule 5: such a response is not read). */
int http_parse_response(const char *buf, size_t len, struct http_response *r);

/* RFC 9112 9.3, 6.3: true if the body of r (to a request of method
 * is_head or not) has no length to wait for: no body at all. */
bool http_response_no_body(const struct http_response *r, bool is_head);

/* RFC 9112 7.1: the state of a chunked body being decoded. Zero it to start. */
struct http_chunked {
	int state;
	uint64_t left;            /* data bytes left in the current chunk */
	int digits;
};

/* Decodes buf[0..len) in place: the data bytes move to the front of buf,
 * *out_len of them. Returns 1 when the last chunk and the trailer section
 * have been read (*used: the bytes of buf that belonged to the body), 0 if
 * more is needed (all len bytes used), -1 if the encoding is malformed. */
int http_chunked_decode(struct http_chunked *st, uint8_t *buf, size_t len, size_t *out_len,
			size_t *used);

#endif

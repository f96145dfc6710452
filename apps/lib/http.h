/* HTTP/1.1 building blocks for the web server (apps/lib/http_*.c), each a
 * pure function on bytes so the tests can feed it tables of good and hostile
 * inputs:
 *   - http_parse.c     the request head: request line and header fields
 *                      (RFC 9112 2-5), with size limits;
 *   - http_path.c      the request target's path: percent-decoding and dot
 *                      segments (RFC 3986 2.1, 5.2.4), refusing escapes;
 *   - http_range.c     a Range header field: one byte range (RFC 9110 14);
 *   - http_date.c      HTTP dates (RFC 9110 5.6.7);
 *   - http_mime.c      a Content-Type per file extension;
 *   - http_response.c  status lines, response heads and error pages.
 * The server that puts them together is apps/lib/http_server.c. */
#ifndef TAPSTACK_HTTP_H
#define TAPSTACK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Limits on what a client may send (the server answers 414 or 431 past them,
 * as soon as the limit is crossed, without waiting for the rest). */
#define HTTP_TARGET_MAX 4096     /* request target: past it, 414 */
#define HTTP_LINE_MAX 8192       /* request line or one field line */
#define HTTP_HEAD_MAX 16384      /* the whole head, request line to empty line */
#define HTTP_FIELDS_MAX 100      /* field lines in a head */
#define HTTP_BODY_MAX (1 << 20)  /* a request body (read and dropped): past it, 413 */

/* A piece of the parsed buffer (not NUL-terminated). */
struct http_str {
	const char *p;
	size_t n;
};

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER_KNOWN };

/* One request head, as http_parse_request() found it. The strings point into
 * the buffer that was parsed, so they live as long as it does. */
struct http_request {
	enum http_method method;
	struct http_str method_name;
	struct http_str target;         /* as sent: "/a/b?q" or "http://h/a" */
	struct http_str path;           /* the target's path, still encoded */
	struct http_str authority;      /* host[:port] of an absolute-form target */
	int minor;                      /* HTTP/1.minor: 0 or 1 */
	struct http_str host;           /* the Host field (empty if none) */
	bool has_host;
	bool conn_close;                /* Connection: close */
	bool conn_keep_alive;           /* Connection: keep-alive (HTTP/1.0) */
	uint64_t content_length;        /* of a request body (0 if none) */
	struct http_str if_none_match;
	struct http_str if_modified_since;
	struct http_str range;
	struct http_str if_range;
	size_t head_len;                /* bytes of the head, empty line included */
	struct http_str line;           /* the request line, without its end (for the log) */
};

/* Parses the request head at the start of buf[0..len). Returns the head's
 * length (> 0) once the empty line that ends it is there, 0 if more bytes
 * are needed, or minus the status to answer with: -400 (malformed), -414
 * (target too long), -431 (a field line, the head or the field count over
 * its limit), -501 (a method we do not know, or a Transfer-Encoding), -505
 * (a version other than HTTP/1.x), -413 (a Content-Length over
 * HTTP_BODY_MAX). A limit is checked on the bytes already there, so an
 * oversized head is refused without waiting for its end. Empty lines before
 * the request line are skipped (RFC 9112 2.2); *req holds what was read. */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

/* True if the request asks to keep the connection open after the response
 * (RFC 9112 9.3: HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive"). */
bool http_request_keep_alive(const struct http_request *req);

/* Case-insensitive comparison of s with the NUL-terminated word. */
bool http_str_eq(struct http_str s, const char *word);

/* Decodes and normalises an encoded path ("/a/%41/../b") into out (size
 * outlen): percent-escapes decoded (RFC 3986 2.1), "." and ".." segments
 * removed (RFC 3986 5.2.4), repeated slashes made one. The result starts
 * with '/' and ends with '/' only if the path did. Returns its length, or
 * -1 if the path is not acceptable: not starting with '/', a bad escape, an
 * encoded '/', '\\' or NUL, a ".." above the root, or longer than outlen-1. */
int http_path_normalize(const char *path, size_t len, char *out, size_t outlen);

/* What a Range header field asks of a representation of size bytes. */
enum http_range_result {
	HTTP_RANGE_NONE,          /* no range, or one we ignore: answer 200 with all */
	HTTP_RANGE_OK,            /* answer 206 with bytes [*first, *last] */
	HTTP_RANGE_UNSATISFIABLE, /* answer 416 */
};

/* RFC 9110 14.1.2: parses "bytes=A-B", "bytes=A-" or "bytes=-N" for a
 * representation of size bytes. Several ranges, another unit or a syntax
 * error give NONE (14.2: a server MAY ignore Range); a valid range that
 * starts at or after the end gives UNSATISFIABLE. */
enum http_range_result http_range_parse(struct http_str value, uint64_t size, uint64_t *first,
					uint64_t *last);

/* Writes t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110
 * 5.6.7) into out (at least 30 bytes). Returns out. */
char *http_date_format(time_t t, char *out);

/* Parses an HTTP date in any of the three formats RFC 9110 5.6.7 says a
 * recipient must accept. Returns 0 and *t, or -1. */
int http_date_parse(struct http_str s, time_t *t);

/* The Content-Type for a file name, from its extension (case-insensitive);
 * "application/octet-stream" if unknown. */
const char *http_mime_type(const char *name);

/* The reason phrase of a status code ("Not Found"), "Unknown" if none. */
const char *http_reason(int status);

/* Writes a short HTML page that explains status into out (size outlen).
 * Returns its length. */
size_t http_error_body(int status, char *out, size_t outlen);

/* The page served at / and /index.html when no document root file answers
 * them: what the host serves. about: one line per service the host runs,
 * "name<TAB>what it is" (NULL or "": the list is left out). Writes it into
 * out (size outlen, 4096 is plenty for the host's five services). Returns
 * its length (truncated to fit, always NUL-terminated). */
size_t http_welcome_body(const char *about, char *out, size_t outlen);

/* Escapes s for HTML text or an attribute (&, <, >, ", ') into out. Returns
 * the length written (truncated to fit, always NUL-terminated). */
size_t http_html_escape(const char *s, char *out, size_t outlen);

/* Percent-encodes s for use in a path (everything but unreserved
 * characters and '/') into out. Returns the length (truncated to fit). */
size_t http_url_escape(const char *s, char *out, size_t outlen);

#endif

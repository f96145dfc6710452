/* The path of a request target, made safe to look up under a document root:
 * decoded and stripped of dot segments, and refused when it tries to climb
 * out. See http.h. */
#include <string.h>

#include "apps/lib/http.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 2.1: decodes the escapes of path[0..len) into out. Refuses a bad
 * escape, and an encoded '/', '\\' or NUL: they would make one segment look
 * like two (or cut the name short), the oldest trick to slip past a check.
 * Returns the decoded length or -1. */
static int percent_decode(const char *path, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = path[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int h = hex_value(path[i + 1]), l = hex_value(path[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = (char)(h * 16 + l);
			if (c == '/' || c == '\\' || c == '\0')
				return -1;
			i += 2;
		} else if (c == '\0') {
			return -1;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

/* RFC 3986 5.2.4 (remove_dot_segments), on a decoded absolute path: copies
 * it segment by segment into out, dropping "." and empty segments and
 * letting ".." take back the last one. A ".." with nothing left to take
 * back would climb above the root: -1. Returns the length. */
static int remove_dot_segments(const char *in, size_t len, char *out)
{
	size_t o = 0, i = 0;
	bool trailing = len > 0 && in[len - 1] == '/';
	while (i < len) {
		while (i < len && in[i] == '/')
			i++;
		size_t s = i;
		while (i < len && in[i] != '/')
			i++;
		size_t n = i - s;
		if (n == 0 || (n == 1 && in[s] == '.')) {
			if (n == 1 && i == len)
				trailing = true; /* "/a/." names the directory /a/ */
			continue;
		}
		if (n == 2 && in[s] == '.' && in[s + 1] == '.') {
			if (o == 0)
				return -1;
			while (o > 0 && out[o - 1] != '/')
				o--;
			o--; /* the '/' before the segment */
			if (i == len)
				trailing = true;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, in + s, n);
		o += n;
	}
	if (o == 0 || trailing)
		out[o++] = '/';
	out[o] = '\0';
	return (int)o;
}

int http_path_normalize(const char *path, size_t len, char *out, size_t outlen)
{
	char dec[HTTP_TARGET_MAX + 1];
	if (len == 0 || path[0] != '/' || outlen < 2)
		return -1;
	int n = percent_decode(path, len, dec, sizeof(dec));
	if (n < 0 || (size_t)n + 2 > outlen)
		return -1; /* the result is never longer than the decoded path + "/" */
	return remove_dot_segments(dec, (size_t)n, out);
}

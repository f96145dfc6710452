/* Status codes (RFC 9110 15), the short pages that explain an error, the
 * welcome page at /, and the escaping a generated page needs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apps/lib/http.h"

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* One sentence per error, for people reading the page. */
static const char *error_text(int status)
{
	switch (status) {
	case 301: return "The resource is at the address given in Location.";
	case 400: return "The request could not be understood.";
	case 403: return "You may not see this resource.";
	case 404: return "There is nothing here by that name.";
	case 405: return "This server only answers GET and HEAD.";
	case 408: return "The request took too long to arrive.";
	case 413: return "The request body is too large.";
	case 414: return "The request target is too long.";
	case 416: return "The range asked for is outside the resource.";
	case 431: return "The request header fields are too large.";
	case 501: return "This server does not implement that.";
	case 503: return "Too many connections; try again later.";
	case 505: return "This server speaks HTTP/1.0 and HTTP/1.1.";
	default: return "Something went wrong.";
	}
}

size_t http_error_body(int status, char *out, size_t outlen)
{
	int n = snprintf(out, outlen,
			 "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
			 "<body><h1>%d %s</h1>\n<p>%s</p>\n<hr><address>tapstack httpd</address>"
			 "</body></html>\n",
			 status, http_reason(status), status, http_reason(status),
			 error_text(status));
	if (n < 0)
		return 0;
	return (size_t)n < outlen ? (size_t)n : outlen - 1;
}

/* Appends to out[*o..outlen) (truncated to fit, NUL-terminated). */
static void page_add(char *out, size_t outlen, size_t *o, const char *fmt, ...)
{
	va_list ap;
	if (*o + 1 >= outlen)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(out + *o, outlen - *o, fmt, ap);
	va_end(ap);
	if (n > 0)
		*o += (size_t)n < outlen - *o ? (size_t)n : outlen - *o - 1;
}

size_t http_welcome_body(const char *about, char *out, size_t outlen)
{
	size_t o = 0;
	if (!outlen)
		return 0;
	out[0] = '\0';
	page_add(out, outlen, &o,
		 "<!DOCTYPE html>\n<html><head><title>tapstack host</title></head>\n"
		 "<body><h1>tapstack host</h1>\n"
		 "<p>This is the web server of a tapstack host, a TCP/IP stack that runs in "
		 "user space on a Linux TAP device. No file of a document root answers "
		 "<code>/</code>, so it shows this page.</p>\n");
	if (about && *about) {
		page_add(out, outlen, &o, "<h2>What this host serves</h2>\n<ul>\n");
		while (*about) {
			const char *nl = strchr(about, '\n');
			size_t len = nl ? (size_t)(nl - about) : strlen(about);
			char line[256], name[256], what[512];
			snprintf(line, sizeof(line), "%.*s", (int)len, about);
			char *tab = strchr(line, '\t');
			if (tab)
				*tab = '\0';
			http_html_escape(line, name, sizeof(name));
			http_html_escape(tab ? tab + 1 : "", what, sizeof(what));
			if (name[0])
				page_add(out, outlen, &o, "<li><b>%s</b>%s%s</li>\n", name,
					 what[0] ? ": " : "", what);
			about += len + (nl ? 1 : 0);
		}
		page_add(out, outlen, &o, "</ul>\n");
	}
	page_add(out, outlen, &o,
		 "<h2>What this web server answers</h2>\n<ul>\n"
		 "<li><a href=\"/\">/</a> and <a href=\"/index.html\">/index.html</a>: this page "
		 "(or the document root's index.html, if it has one)</li>\n"
		 "<li>/bytes/N: N bytes (at most 2^40) of the RFC 864 character pattern, "
		 "made as they are sent, with ranges and an ETag: "
		 "<a href=\"/bytes/100\">/bytes/100</a>, "
		 "<a href=\"/bytes/100000\">/bytes/100000</a>, "
		 "<a href=\"/bytes/10000000\">/bytes/10000000</a></li>\n"
		 "<li>any other path: a file under the document root "
		 "(<code>--www DIR</code>, or <code>--vhost NAME=DIR</code> by Host), "
		 "else 404</li>\n</ul>\n"
		 "<p>Methods: GET and HEAD, over HTTP/1.0 and HTTP/1.1 "
		 "(RFC 9110, RFC 9112), IPv4 and IPv6.</p>\n"
		 "<hr><address>tapstack httpd</address></body></html>\n");
	return o;
}

size_t http_html_escape(const char *s, char *out, size_t outlen)
{
	size_t o = 0;
	for (; *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		}
		size_t n = rep ? strlen(rep) : 1;
		if (o + n >= outlen)
			break;
		if (rep)
			memcpy(out + o, rep, n);
		else
			out[o] = *s;
		o += n;
	}
	out[o] = '\0';
	return o;
}

size_t http_url_escape(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		/* RFC 3986 2.3: unreserved characters stay as they are */
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || strchr("-._~/", c);
		size_t n = keep ? 1 : 3;
		if (o + n >= outlen)
			break;
		if (keep) {
			out[o] = (char)c;
		} else {
			out[o] = '%';
			out[o + 1] = hex[c >> 4];
			out[o + 2] = hex[c & 15];
		}
		o += n;
	}
	out[o] = '\0';
	return o;
}

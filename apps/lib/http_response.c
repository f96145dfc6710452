/* Status codes (RFC 9110 15), the short pages that explain an error, and the
 * escaping a generated page needs. */
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

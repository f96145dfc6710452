/* Content-Type by file extension (RFC 9110 8.3): a small built-in table. */
#include <string.h>
#include <strings.h>

#include "apps/lib/http.h"

static const struct {
	const char *ext;
	const char *type;
} mime_table[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "svg", "image/svg+xml" },
	{ "ico", "image/x-icon" },
	{ "pdf", "application/pdf" },
	{ "wasm", "application/wasm" },
};

const char *http_mime_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	if (dot && dot != base)
		for (size_t i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++)
			if (strcasecmp(dot + 1, mime_table[i].ext) == 0)
				return mime_table[i].type;
	return "application/octet-stream";
}

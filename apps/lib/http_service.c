/* The service "http" of a tapstack host (--serve http --www DIR): the web
 * server of http_server.c, with its flags. apps/httpd.c runs it alone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/http_server.h"
#include "apps/lib/service.h"

static struct http_config http_cfg;
static bool http_cfg_ready;
static struct http_server http_srv;
static char http_about[2048]; /* the host's services, for the page at / */

/* The defaults, once, before the first flag or the start. */
static struct http_config *cfg(void)
{
	if (!http_cfg_ready) {
		http_config_init(&http_cfg);
		http_cfg_ready = true;
	}
	return &http_cfg;
}

/* Reads a number between lo and hi for flag. Returns 0 or -1 (printed). */
static int number(const char *flag, const char *value, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = value ? strtol(value, &end, 10) : 0;
	if (!value || errno || *end || v < lo || v > hi) {
		fprintf(stderr, "tapstack: %s needs a number from %ld to %ld\n", flag, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* --vhost NAME=DIR */
static int add_vhost(const char *value)
{
	struct http_config *c = cfg();
	const char *eq = value ? strchr(value, '=') : NULL;
	if (!eq || eq == value || !eq[1] || (size_t)(eq - value) >= 256) {
		fprintf(stderr, "tapstack: --vhost needs NAME=DIR (--vhost www.a.test=/srv/a)\n");
		return -1;
	}
	if (c->nvhosts >= HTTP_VHOSTS_MAX) {
		fprintf(stderr, "tapstack: at most %d --vhost\n", HTTP_VHOSTS_MAX);
		return -1;
	}
	char *name = strndup(value, (size_t)(eq - value));
	c->vhosts[c->nvhosts].name = name;
	c->vhosts[c->nvhosts].dir = eq + 1;
	c->nvhosts++;
	return 0;
}

/* --log FILE ("-" for stderr, "none" for no log) */
static int set_log(const char *value)
{
	if (!value) {
		fprintf(stderr, "tapstack: --log needs a file, - (stderr) or none\n");
		return -1;
	}
	if (strcmp(value, "-") == 0) {
		cfg()->log = stderr;
	} else if (strcmp(value, "none") == 0) {
		cfg()->log = NULL;
	} else if (!(cfg()->log = fopen(value, "a"))) {
		fprintf(stderr, "tapstack: --log %s: %s\n", value, strerror(errno));
		return -1;
	}
	return 0;
}

static int http_option(struct service *sv, const char *flag, const char *value, int *used)
{
	(void)sv;
	struct http_config *c = cfg();
	long v;
	*used = 1;
	if (strcmp(flag, "--www") == 0) {
		if (!value) {
			fprintf(stderr, "tapstack: --www needs a directory\n");
			return -1;
		}
		c->www = value;
		return 1;
	}
	if (strcmp(flag, "--vhost") == 0)
		return add_vhost(value) < 0 ? -1 : 1;
	if (strcmp(flag, "--log") == 0)
		return set_log(value) < 0 ? -1 : 1;
	if (strcmp(flag, "--http-port") == 0) {
		if (number(flag, value, 1, 65535, &v) < 0)
			return -1;
		c->port = (uint16_t)v;
		return 1;
	}
	if (strcmp(flag, "--max-conns") == 0) {
		/* at most what the descriptor table holds, less the 503 slots
		 * and room for the other services' sockets */
		if (number(flag, value, 1, HTTP_MAX_CONNS_LIMIT, &v) < 0)
			return -1;
		c->max_conns = (int)v;
		return 1;
	}
	if (strcmp(flag, "--request-timeout") == 0 || strcmp(flag, "--idle-timeout") == 0) {
		if (number(flag, value, 1, 3600000, &v) < 0)
			return -1;
		*(flag[2] == 'r' ? &c->request_timeout_ms : &c->idle_timeout_ms) = (int)v;
		return 1;
	}
	*used = 0;
	return 0;
}

/* The server's descriptors go into the services' set (events 0: out). */
static void http_watch(void *ctx, int fd, uint32_t events)
{
	if (events)
		service_watch(ctx, fd, events);
	else
		service_unwatch(ctx, fd);
}

static int http_start(struct service *sv, char *err, size_t errlen)
{
	services_about(http_about, sizeof(http_about));
	cfg()->about = http_about;
	cfg()->watch = http_watch;
	cfg()->watch_ctx = sv;
	return http_server_start(&http_srv, cfg(), err, errlen);
}

static int http_tick(struct service *sv)
{
	(void)sv;
	return http_server_tick(&http_srv);
}

static void http_handle(struct service *sv, int fd, uint32_t events)
{
	sv->count = http_srv.requests;
	http_server_handle(&http_srv, fd, events);
}

static void http_stop(struct service *sv)
{
	(void)sv;
	http_server_stop(&http_srv);
	if (http_cfg.log && http_cfg.log != stderr)
		fclose(http_cfg.log);
	http_cfg.log = NULL;
}

struct service service_http = {
	.name = "http",
	.what = "port 80, TCP: a web server, HTTP/1.1 (RFC 9110, 9112): --www DIR, /bytes/N, a page at /",
	.start = http_start,
	.handle = http_handle,
	.tick = http_tick,
	.stop = http_stop,
	.option = http_option,
	.options_help =
		"  --www DIR          http: the document root\n"
		"  --vhost NAME=DIR   http: the root for Host NAME (repeatable)\n"
		"  --http-port N      http: the port (default 80)\n"
		"  --max-conns N      http: connections at once, then 503 (default 1500, at most 16000)\n"
		"  --request-timeout MS\n"
		"                     http: a request must come within (default 10000), or 408\n"
		"  --idle-timeout MS  http: a kept-alive connection may stay idle (default 5000)\n"
		"  --log FILE         http: the access log (default -, stderr; none for none)\n",
	.fd = -1,
	.lfd = -1,
	.fd6 = -1,
	.lfd6 = -1,
};

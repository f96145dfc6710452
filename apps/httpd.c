/* httpd: a small web server on tapstack, a host of its own.
 *
 *   httpd --tap tap1 --ip 10.0.0.3/24 --www /srv/www
 *   httpd --tap tap1 --ip 10.0.0.3/24 --vhost www.a.test=/srv/a --vhost www.b.test=/srv/b
 *
 * It is the "http" service of tapstack (apps/lib/http_service.c, on the
 * server of apps/lib/http_server.c) run alone: one net_poll loop serves
 * every connection, no threads. The same server runs in the tapstack host
 * with --serve http --www DIR. */
#include <stdio.h>
#include <string.h>

#include "apps/lib/service.h"
#include "stack/host.h"

extern struct service service_http;

static void usage(FILE *out)
{
	fputs("usage: httpd HOST-OPTIONS [--www DIR] [--vhost NAME=DIR]... [--port N] [options]\n"
	      "\n"
	      "Serves files over HTTP/1.1 on tapstack's TCP until SIGINT or SIGTERM. GET and\n"
	      "HEAD, keep-alive and pipelining, ranges, ETag and Last-Modified, directory\n"
	      "listings, virtual hosts by Host, and /bytes/N: N bytes of the chargen pattern,\n"
	      "made on the fly.\n"
	      "One access log line per request (Common Log Format) on stderr or --log FILE.\n"
	      "  sudo labs/net up 2\n"
	      "  sudo labs/net exec build/httpd --tap tap1 --ip 10.0.0.3/24 --www .\n"
	      "  sudo labs/net exec curl -v http://10.0.0.3/\n"
	      "\n"
	      "  --port N          the port (default 80; the same as --http-port)\n",
	      out);
	fputs(service_http.options_help, out);
	fputc('\n', out);
	host_opts_usage(out);
}

int main(int argc, char **argv)
{
	struct host_opts o;
	host_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		int r = host_opts_parse(&o, "httpd", argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (host_std_flag("httpd", argv[i], usage))
			return 0;
		const char *flag = strcmp(argv[i], "--port") == 0 ? "--http-port" : argv[i];
		int used = 0;
		int sr = service_http.option(&service_http, flag, i + 1 < argc ? argv[i + 1] : NULL,
					     &used);
		if (sr < 0)
			return 2;
		if (sr == 0) {
			fprintf(stderr, "httpd: unknown option '%s' (see httpd --help)\n", argv[i]);
			return 2;
		}
		i += used;
	}
	if (host_opts_check(&o, "httpd") < 0)
		return 2;
	struct host h;
	char err[256];
	if (host_open(&h, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "httpd: %s\n", err);
		return 1;
	}
	char a[IP4_STRLEN];
	fprintf(stderr, "httpd: serving on %s/%d (%s)\n", ip4_ntop(o.ip4, a), o.ip4_prefix, o.tap);
	struct service *sv = &service_http;
	int rc = services_run(&sv, 1, o.seed) < 0 ? 1 : 0;
	host_close(&h);
	return rc;
}

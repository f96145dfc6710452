/* webget: fetches a web page over tapstack's own TCP, like a tiny curl.
 *
 *   webget --tap tap1 --ip 10.0.0.3/24 http://10.0.0.1/index.html
 *
 * It opens a host, connects to the server, sends an HTTP/1.1 GET, and writes
 * the body of the answer to stdout (or -o FILE). The request and the
 * response headers go to stderr with -v. Names are not resolved yet: the
 * server is given by its IPv4 address. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stack/host.h"
#include "stack/net.h"

#define HEADER_MAX 16384

static void usage(FILE *out)
{
	fputs("usage: webget HOST-OPTIONS [-o FILE] [-v] http://ADDR[:PORT]/PATH\n"
	      "\n"
	      "Fetches the URL over tapstack's TCP and writes the body to stdout (or FILE).\n"
	      "The host needs a free TAP of the lab (sudo labs/net up 2 makes tap1):\n"
	      "  sudo labs/net exec build/webget --tap tap1 --ip 10.0.0.3/24 http://10.0.0.1/\n"
	      "\n"
	      "  -o FILE     write the body to FILE\n"
	      "  -v          show the request and the response headers on stderr\n"
	      "\n",
	      out);
	host_opts_usage(out);
}

struct url {
	char host[64];
	uint16_t port;
	const char *path;
};

/* Splits "http://10.0.0.1:8080/a/b" into its parts. Returns 0 or -1. */
static int url_parse(const char *s, struct url *u)
{
	if (strncmp(s, "http://", 7) != 0)
		return -1;
	s += 7;
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(u->host))
		return -1;
	memcpy(u->host, s, hl);
	u->host[hl] = '\0';
	u->path = slash ? slash : "/";
	u->port = 80;
	char *colon = strchr(u->host, ':');
	if (colon) {
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if (*end || p < 1 || p > 65535)
			return -1;
		u->port = (uint16_t)p;
		*colon = '\0';
	}
	return 0;
}

/* Sends all of buf. */
static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t n = net_send(fd, buf, len, 0);
	return n == (ssize_t)len ? 0 : (int)(n < 0 ? n : -EIO);
}

/* Fetches u, writing the body to out. Returns 0, or 1 after printing why. */
static int fetch(const struct url *u, FILE *out, int verbose)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(u->port) };
	if (inet_pton(AF_INET, u->host, &to.sin_addr) != 1) {
		fprintf(stderr, "webget: '%s' is not an IPv4 address (names come with the DNS resolver)\n",
			u->host);
		return 1;
	}
	int fd = net_socket(AF_INET, SOCK_STREAM, 0);
	int r = net_connect(fd, (struct sockaddr *)&to, sizeof(to));
	if (r < 0) {
		fprintf(stderr, "webget: connect to %s:%u: %s\n", u->host, u->port, strerror(-r));
		net_close(fd);
		return 1;
	}
	char req[1024];
	int len = snprintf(req, sizeof(req),
			   "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: webget/%s\r\n"
			   "Accept: */*\r\nConnection: close\r\n\r\n",
			   u->path, u->host, TAPSTACK_VERSION);
	if (verbose)
		fprintf(stderr, "> %.*s", len, req);
	if ((r = send_all(fd, req, (size_t)len)) < 0) {
		fprintf(stderr, "webget: send: %s\n", strerror(-r));
		net_close(fd);
		return 1;
	}

	/* The headers end at the first empty line; the body follows. */
	static char buf[65536];
	size_t have = 0;
	char *body = NULL;
	while (!body) {
		ssize_t n = net_recv(fd, buf + have, HEADER_MAX - have, 0);
		if (n <= 0) {
			fprintf(stderr, "webget: %s before the end of the headers\n",
				n == 0 ? "connection closed" : strerror((int)-n));
			net_close(fd);
			return 1;
		}
		have += (size_t)n;
		buf[have] = '\0';
		body = strstr(buf, "\r\n\r\n");
		if (!body && have >= HEADER_MAX) {
			fprintf(stderr, "webget: headers longer than %d bytes\n", HEADER_MAX);
			net_close(fd);
			return 1;
		}
	}
	body += 4;
	size_t hlen = (size_t)(body - buf);
	if (verbose)
		fprintf(stderr, "< %.*s", (int)hlen, buf);
	int status = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
		fprintf(stderr, "webget: not an HTTP response\n");
		net_close(fd);
		return 1;
	}
	long long clen = -1;
	for (char *h = strstr(buf, "\r\n"); h && h < body; h = strstr(h + 2, "\r\n"))
		if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
			clen = atoll(h + 17);

	/* The body: what came with the headers, then the rest until the
	 * length is reached or the server closes. */
	long long got = (long long)(have - hlen);
	fwrite(body, 1, have - hlen, out);
	while (clen < 0 || got < clen) {
		ssize_t n = net_recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0) {
			fprintf(stderr, "webget: receive: %s after %lld bytes\n", strerror((int)-n), got);
			net_close(fd);
			return 1;
		}
		fwrite(buf, 1, (size_t)n, out);
		got += n;
	}
	net_close(fd);
	if (clen >= 0 && got < clen) {
		fprintf(stderr, "webget: body cut short: %lld of %lld bytes\n", got, clen);
		return 1;
	}
	if (verbose)
		fprintf(stderr, "webget: status %d, %lld bytes of body\n", status, got);
	return status >= 200 && status < 400 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct host_opts o;
	const char *outfile = NULL, *urlarg = NULL;
	int verbose = 0;
	host_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		int r = host_opts_parse(&o, "webget", argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("webget %s\n", TAPSTACK_VERSION);
			return 0;
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			outfile = argv[++i];
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "webget: unknown option '%s' (see webget --help)\n", argv[i]);
			return 2;
		} else if (!urlarg) {
			urlarg = argv[i];
		} else {
			fprintf(stderr, "webget: one URL at a time\n");
			return 2;
		}
	}
	struct url u;
	if (!urlarg || url_parse(urlarg, &u) < 0) {
		fprintf(stderr, "webget: give a URL such as http://10.0.0.1/ (see --help)\n");
		return 2;
	}
	if (host_opts_check(&o, "webget") < 0)
		return 2;
	FILE *out = stdout;
	if (outfile && !(out = fopen(outfile, "wb"))) {
		fprintf(stderr, "webget: cannot write %s: %s\n", outfile, strerror(errno));
		return 1;
	}
	struct host h;
	char err[256];
	if (host_open(&h, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "webget: %s\n", err);
		return 1;
	}
	int rc = fetch(&u, out, verbose);
	if (out != stdout)
		fclose(out);
	else
		fflush(stdout);
	/* Let the close finish (FIN exchanged) before the host goes away. */
	for (int i = 0; i < 20 && h.s.tcp.count > 0 && !host_stop_requested(); i++)
		host_loop_once(&h, 50000);
	host_close(&h);
	return rc;
}

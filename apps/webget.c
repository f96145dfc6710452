/* webget: fetches a web page over tapstack's own TCP, like a tiny curl.
 *
 *   webget --tap tap1 --ip 10.0.0.3/24 http://10.0.0.1/index.html
 *   webget --tap tap1 --ip 10.0.0.3/24 -o big.bin -v http://www.a.test:8080/big.bin
 *
 * It opens a host, resolves the server's name (apps/lib/resolver.c: the DNS
 * server of --dns, by default the gateway), connects, sends an HTTP/1.1 GET
 * (HEAD with -I), and writes the body to stdout (or -o FILE). It reads a
 * body of a Content-Length, a chunked one, or one that ends when the server
 * closes (RFC 9112 6.3), and follows redirects (301, 302, 303, 307, 308) up
 * to --max-redirs. -v shows the request and the response head on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apps/lib/dns_msg.h"
#include "apps/lib/http_client.h"
#include "apps/lib/resolver.h"
#include "stack/host.h"
#include "stack/net.h"

#define BUF_SIZE 65536

static void usage(FILE *out)
{
	fputs("usage: webget HOST-OPTIONS [-o FILE] [-I] [-v] [--max-redirs N] [--dns ADDR]\n"
	      "              http://HOST[:PORT]/PATH\n"
	      "\n"
	      "Fetches the URL over tapstack's TCP and writes the body to stdout (or FILE).\n"
	      "HOST is a name (resolved over DNS), an IPv4 address or an IPv6 one in brackets.\n"
	      "The host needs a free TAP of the lab (sudo labs/net up 2 makes tap1):\n"
	      "  sudo labs/net exec build/webget --tap tap1 --ip 10.0.0.3/24 http://10.0.0.2/\n"
	      "  ... --ip6 fd00::3/64 'http://[fd00::2]/'   (an IPv6 literal in brackets)\n"
	      "\n"
	      "  -o FILE          write the body to FILE\n"
	      "  -I               HEAD: print the response head on stdout, no body\n"
	      "  -v               show the requests and the response heads on stderr\n"
	      "  --max-redirs N   follow at most N redirects (default 5; 0: none)\n"
	      "  --dns ADDR       the DNS server that resolves names, IPv4 or IPv6 (fd00::2\n"
	      "                   needs --ip6; default: the gateway)\n"
	      "\n"
	      "Exit status: 0 for a final 2xx or 3xx answer, 1 otherwise, 2 for a usage error.\n\n",
	      out);
	host_opts_usage(out);
}

struct url {
	char host[256];            /* a name or an address, without brackets */
	bool v6;                   /* host is an IPv6 literal ([fd00::2] in the URL) */
	uint16_t port;
	char path[2048];
};

/* Splits "http://host:8080/a/b" (or "http://[fd00::2]:8080/a/b", RFC 3986
 * 3.2.2: an IPv6 literal goes in brackets) into its parts. Returns 0 or -1. */
static int url_parse(const char *s, struct url *u)
{
	if (strncasecmp(s, "http://", 7) != 0)
		return -1;
	s += 7;
	size_t hl = strcspn(s, "/?#");
	if (hl == 0 || hl >= sizeof(u->host))
		return -1;
	memcpy(u->host, s, hl);
	u->host[hl] = '\0';
	const char *rest = s + hl;
	size_t pl = strcspn(rest, "#"); /* the fragment is not sent (RFC 9110 7.1) */
	if (pl + 2 > sizeof(u->path))
		return -1;
	snprintf(u->path, sizeof(u->path), "%s%.*s", rest[0] == '/' ? "" : "/", (int)pl, rest);
	u->port = 80;
	u->v6 = false;
	char *colon = strchr(u->host, ':');
	if (u->host[0] == '[') {
		char *close = strchr(u->host, ']');
		if (!close || (close[1] != '\0' && close[1] != ':'))
			return -1;
		colon = close[1] == ':' ? close + 1 : NULL;
		*close = '\0';
		/* the address moves one to the left; ":PORT" stays where it is */
		memmove(u->host, u->host + 1, strlen(u->host + 1) + 1);
		u->v6 = true;
		struct in6_addr a6;
		if (inet_pton(AF_INET6, u->host, &a6) != 1)
			return -1;
	}
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

/* RFC 9110 10.2.2: the redirect target loc, relative to the current URL u,
 * becomes the new u. Returns 0 or -1. */
static int url_follow(struct url *u, const char *loc)
{
	if (strncasecmp(loc, "http://", 7) == 0)
		return url_parse(loc, u);
	if (strncasecmp(loc, "https://", 8) == 0 || loc[0] == '\0')
		return -1;
	char path[sizeof(u->path)];
	if (loc[0] == '/') {
		if (strlen(loc) >= sizeof(path))
			return -1;
		memcpy(path, loc, strlen(loc) + 1);
	} else {
		/* RFC 3986 5.2.3: relative to the current path's directory */
		const char *slash = strrchr(u->path, '/');
		int dir = slash ? (int)(slash - u->path) + 1 : 1;
		if ((size_t)dir + strlen(loc) + 1 > sizeof(path))
			return -1;
		memcpy(path, u->path, (size_t)dir);
		memcpy(path + dir, loc, strlen(loc) + 1);
	}
	memcpy(u->path, path, sizeof(path));
	return 0;
}

/* Prints text[0..len) on stderr, each line after prefix. */
static void show_lines(const char *prefix, const char *text, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) + 1 : len - i;
		fprintf(stderr, "%s%.*s", prefix, (int)n, text + i);
		i += n;
	}
}

/* Resolves u's host and connects to it: to each address net_getaddrinfo
 * gives in turn (IPv6 first on a host with IPv6, then IPv4) until one
 * answers, as RFC 6724 2 asks of an application. Returns the connected
 * descriptor, or -1 after printing why. */
static int connect_host(const struct url *u)
{
	struct addrinfo hints = { .ai_family = u->v6 ? AF_INET6 : AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM }, *res = NULL;
	char name[NET_ADDRSTRLEN];
	int r = net_getaddrinfo(u->host, NULL, &hints, &res);
	if (r != 0 || !res) {
		fprintf(stderr, "webget: cannot resolve %s: %s\n", u->host, gai_strerror(r));
		return -1;
	}
	int fd = -1; /* blocking sockets: connect waits for our IPv6 address's DAD */
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		struct sockaddr_storage to;
		memset(&to, 0, sizeof(to));
		memcpy(&to, ai->ai_addr, ai->ai_addrlen);
		if (to.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&to)->sin6_port = htons(u->port);
		else
			((struct sockaddr_in *)&to)->sin_port = htons(u->port);
		fd = net_socket(to.ss_family, SOCK_STREAM, 0);
		r = fd < 0 ? fd : net_connect(fd, (struct sockaddr *)&to, ai->ai_addrlen);
		if (r < 0) {
			fprintf(stderr, "webget: connect to %s: %s\n",
				net_sockaddr_ntop((struct sockaddr *)&to, 1, name, sizeof(name)),
				strerror(-r));
			if (fd >= 0)
				net_close(fd);
			fd = -1;
		}
	}
	net_freeaddrinfo(res);
	return fd;
}

/* One exchange on a connection: where the body goes, what came back. */
struct fetch {
	int fd;
	FILE *out;                 /* the body, or NULL to drop it */
	bool head;                 /* -I */
	bool follow;               /* a redirect will be followed: its body is dropped */
	int verbose;
	struct http_response resp;
	long long body_bytes;
};

/* RFC 9110 15.4: the redirections webget follows (with a Location). */
static bool is_redirect(const struct http_response *r)
{
	int st = r->status;
	return (st == 301 || st == 302 || st == 303 || st == 307 || st == 308) && r->location[0];
}

/* Reads the response head into buf; the bytes after it are left at buf
 * [0..*have). Returns 0, or -1 after printing why. */
static int read_head(struct fetch *f, char *buf, size_t *have)
{
	*have = 0;
	for (;;) {
		int r = http_parse_response(buf, *have, &f->resp);
		if (r < 0) {
			fprintf(stderr, "webget: the answer is not an HTTP/1.x response\n");
			return -1;
		}
		if (r > 0) {
			if (f->verbose)
				show_lines("< ", buf, (size_t)r);
			if (f->head && f->out)
				fwrite(buf, 1, (size_t)r, f->out);
			memmove(buf, buf + r, *have - (size_t)r);
			*have -= (size_t)r;
			return 0;
		}
		if (*have == BUF_SIZE) {
			fprintf(stderr, "webget: response head longer than %d bytes\n", BUF_SIZE);
			return -1;
		}
		ssize_t n = net_recv(f->fd, buf + *have, BUF_SIZE - *have, 0);
		if (n <= 0) {
			fprintf(stderr, "webget: %s before the end of the response head\n",
				n == 0 ? "connection closed" : strerror((int)-n));
			return -1;
		}
		*have += (size_t)n;
	}
}

/* Delivers n body bytes. */
static void body_out(struct fetch *f, const void *p, size_t n)
{
	if (f->out && !f->head)
		fwrite(p, 1, n, f->out);
	f->body_bytes += (long long)n;
}

/* RFC 9112 6.3: reads the body, whichever way its end is marked; buf holds
 * have bytes already received. Returns 0, or -1 after printing why. */
static int read_body(struct fetch *f, char *buf, size_t have)
{
	struct http_chunked ch = { 0 };
	long long want = f->resp.content_length;
	bool chunked = f->resp.chunked;
	if (http_response_no_body(&f->resp, f->head))
		return 0;
	for (;;) {
		if (chunked) {
			size_t outn, used;
			int r = http_chunked_decode(&ch, (uint8_t *)buf, have, &outn, &used);
			if (r < 0) {
				fprintf(stderr, "webget: malformed chunked body\n");
				return -1;
			}
			body_out(f, buf, outn);
			if (r == 1)
				return 0;
		} else {
			size_t n = have;
			if (want >= 0 && (long long)n > want - f->body_bytes)
				n = (size_t)(want - f->body_bytes);
			body_out(f, buf, n);
			if (want >= 0 && f->body_bytes >= want)
				return 0;
		}
		ssize_t n = net_recv(f->fd, buf, BUF_SIZE, 0);
		if (n == 0 && !chunked && want < 0)
			return 0; /* RFC 9112 6.3 rule 8: the close ends the body */
		if (n <= 0) {
			fprintf(stderr, "webget: body cut short after %lld bytes%s%s\n",
				f->body_bytes, n < 0 ? ": " : "", n < 0 ? strerror((int)-n) : "");
			return -1;
		}
		have = (size_t)n;
	}
}

/* Sends the request for u and reads the answer. Returns 0, or 1 after
 * printing why. */
static int exchange(const struct url *u, struct fetch *f)
{
	static char buf[BUF_SIZE];
	f->fd = connect_host(u);
	if (f->fd < 0)
		return 1;
	/* RFC 9112 3.2: Host carries the port when it is not the default, and
	 * an IPv6 literal in its brackets (RFC 3986 3.2.2) */
	char hostport[300];
	snprintf(hostport, sizeof(hostport), u->port == 80 ? "%s%s%s" : "%s%s%s:%u",
		 u->v6 ? "[" : "", u->host, u->v6 ? "]" : "", u->port);
	char req[3072];
	int len = snprintf(req, sizeof(req),
			   "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: webget/%s\r\n"
			   "Accept: */*\r\nConnection: close\r\n\r\n",
			   f->head ? "HEAD" : "GET", u->path, hostport, TAPSTACK_VERSION);
	if (f->verbose)
		show_lines("> ", req, (size_t)len);
	ssize_t n = net_send(f->fd, req, (size_t)len, 0);
	size_t have;
	int rc = 1;
	if (n != len)
		fprintf(stderr, "webget: send: %s\n", strerror(n < 0 ? (int)-n : EIO));
	else if (read_head(f, buf, &have) == 0) {
		if (f->follow && is_redirect(&f->resp))
			f->out = NULL;
		rc = read_body(f, buf, have) == 0 ? 0 : 1;
	}
	net_close(f->fd);
	return rc;
}

/* Fetches u, following redirects. Returns the exit status. */
static int fetch(struct url *u, FILE *out, bool head, int verbose, int max_redirs)
{
	for (int hop = 0;; hop++) {
		struct fetch f = { .out = out, .head = head, .verbose = verbose,
				   .follow = hop < max_redirs };
		if (exchange(u, &f) != 0)
			return 1;
		int st = f.resp.status;
		bool redirect = is_redirect(&f.resp);
		if (redirect && hop < max_redirs) {
			if (verbose)
				fprintf(stderr, "webget: %d, following %s\n", st, f.resp.location);
			if (url_follow(u, f.resp.location) < 0) {
				fprintf(stderr, "webget: cannot follow '%s'\n", f.resp.location);
				return 1;
			}
			continue;
		}
		if (redirect && max_redirs > 0) {
			fprintf(stderr, "webget: more than %d redirects\n", max_redirs);
			return 1;
		}
		if (verbose)
			fprintf(stderr, "webget: status %d, %lld bytes of body\n", st,
				f.body_bytes);
		return st >= 200 && st < 400 ? 0 : 1;
	}
}

int main(int argc, char **argv)
{
	struct host_opts o;
	const char *outfile = NULL, *urlarg = NULL;
	int verbose = 0, max_redirs = 5;
	bool head = false;
	host_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		int r = host_opts_parse(&o, "webget", argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (host_std_flag("webget", a, usage)) {
			return 0;
		} else if (strcmp(a, "-o") == 0 && next) {
			outfile = argv[++i];
		} else if (strcmp(a, "-I") == 0) {
			head = true;
		} else if (strcmp(a, "-v") == 0) {
			verbose = 1;
		} else if (strcmp(a, "--max-redirs") == 0 && next) {
			max_redirs = atoi(argv[++i]);
		} else if (strcmp(a, "--dns") == 0 && next) {
			struct sockaddr_storage d;
			socklen_t dl;
			if (net_sockaddr_pton(argv[++i], DNS_PORT, &d, &dl) < 0) {
				fprintf(stderr, "webget: --dns needs an IPv4 or IPv6 address\n");
				return 2;
			}
			net_resolver_set_server((struct sockaddr *)&d, dl);
		} else if (a[0] == '-') {
			fprintf(stderr, "webget: unknown option '%s' (see webget --help)\n", a);
			return 2;
		} else if (!urlarg) {
			urlarg = a;
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
	int rc = fetch(&u, out, head, verbose, max_redirs);
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

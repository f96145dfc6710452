/* The HTTP/1.1 server: connections as state machines on non-blocking
 * sockets, driven by the events of one readiness set (see http_server.h
 * for the picture).
 * The request parsing, paths, ranges and dates are pure functions in
 * http_parse.c, http_path.c, http_range.c, http_date.c; this file decides
 * what to answer and moves the bytes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "apps/lib/http_files.h"
#include "apps/lib/http_server.h"
#include "stack/host.h"
#include "stack/net.h"

#define HTTP_REJECT_SLOTS 64   /* connections past max_conns that still get their 503 */
_Static_assert(HTTP_MAX_CONNS_LIMIT + HTTP_REJECT_SLOTS < NET_MAX_SOCKETS,
	       "--max-conns must fit in the descriptor table");
#define HTTP_LINGER_MS 2000    /* how long a closing connection's input is drained */
#define HTTP_SCRATCH 65536     /* bytes read from a file (or made) per send */
#define HTTP_PIPELINE_MAX 64   /* pipelined requests answered per event, for fairness */
#define HTTP_HEAD_OUT 8192     /* a response head */

enum conn_state { CONN_READ, CONN_WRITE, CONN_LINGER, CONN_DEAD };
enum body_kind { BODY_NONE, BODY_MEM, BODY_FILE, BODY_PATTERN };

struct http_conn {
	int fd;
	int idx;                      /* its place in srv->conns */
	enum conn_state state;
	char peer[INET6_ADDRSTRLEN]; /* the client's address, as text */
	int64_t deadline;             /* of the current state, microseconds */
	int tq;                       /* the deadline queue it is on (TQ_*), -1: none */
	struct http_conn *tq_prev, *tq_next;
	uint32_t watching;            /* the events its descriptor is watched for (0: none yet) */
	bool req_started;             /* bytes of a new request have come */
	bool served_one;              /* a response went out already */
	uint64_t discard_left;        /* request body bytes still to drop */
	/* the buffers (struct http_bufs), only while a request is on its way
	 * or a response head is: NULL while a kept-alive connection waits, so
	 * that an idle connection costs its 1 KB of stack state and this
	 * struct, not 24 KB more */
	struct http_bufs *bufs;
	char *in;                     /* bufs->in: received, not yet parsed */
	size_t in_len;
	/* the response being written: the head (bufs->head), then the body */
	char *head;
	size_t head_len, head_off;
	enum body_kind body;
	char *mem;                    /* BODY_MEM (malloc'ed) */
	int file_fd;                  /* BODY_FILE */
	uint64_t body_off, body_end;  /* what is left: [body_off, body_end) */
	bool close_after;
	/* for the access log */
	char reqline[256];
	int status;
	uint64_t body_sent;
	time_t req_time;
};

/* A connection's buffers while it is busy; kept on the server's spare
 * list when it goes idle (HTTP_SPARE_BUFS at most, the rest freed). */
struct http_bufs {
	struct http_bufs *next;
	char in[HTTP_HEAD_MAX + 1];
	char head[HTTP_HEAD_OUT];
};

#define HTTP_SPARE_BUFS 32

/* Gives c its buffers, if it has none. Returns false if there is no
 * memory for them. */
static bool conn_bufs_get(struct http_server *srv, struct http_conn *c)
{
	if (c->bufs)
		return true;
	struct http_bufs *b = srv->spare;
	if (b) {
		srv->spare = b->next;
		srv->nspare--;
	} else if (!(b = malloc(sizeof(*b)))) {
		return false;
	}
	c->bufs = b;
	srv->bufs_busy++;
	c->in = b->in;
	c->head = b->head;
	return true;
}

/* Takes c's buffers back (it must hold nothing in them). */
static void conn_bufs_put(struct http_server *srv, struct http_conn *c)
{
	struct http_bufs *b = c->bufs;
	if (!b)
		return;
	c->bufs = NULL;
	srv->bufs_busy--;
	c->in = c->head = NULL;
	c->in_len = c->head_len = c->head_off = 0;
	if (srv->nspare < HTTP_SPARE_BUFS) {
		b->next = srv->spare;
		srv->spare = b;
		srv->nspare++;
	} else {
		free(b);
	}
}

/* What a successful response carries besides its body. */
struct reply {
	int status;
	const char *ctype;
	uint64_t size;                /* the whole representation */
	uint64_t first, last;         /* 206: the part sent */
	const char *etag;             /* NULL: none */
	time_t mtime;                 /* 0: no Last-Modified */
};

static uint8_t scratch[HTTP_SCRATCH];

static int64_t srv_now(const struct http_server *srv)
{
	return srv->cfg.now ? srv->cfg.now() : host_clock_now();
}

/* ---- deadlines ------------------------------------------------------------
 *
 * Every state has a deadline, now + one of four timeouts, each a constant
 * of the server. So within the queue of one timeout, a connection whose
 * deadline was set later expires later: appending at the back keeps each
 * queue in deadline order by itself, and the next deadline to pass is at
 * the front of one of four queues. Setting a deadline is an unlink and an
 * append; enforcing them looks at the fronts. (A pass over every
 * connection at every turn, as before, was what 10,000 idle ones cost a
 * busy one: issue 5.) */
enum { TQ_REQUEST, TQ_IDLE, TQ_SEND, TQ_LINGER, TQ_KINDS };

static int64_t tq_timeout_us(const struct http_server *srv, int q)
{
	switch (q) {
	case TQ_REQUEST: return (int64_t)srv->cfg.request_timeout_ms * 1000;
	case TQ_IDLE: return (int64_t)srv->cfg.idle_timeout_ms * 1000;
	case TQ_SEND: return (int64_t)srv->cfg.send_timeout_ms * 1000;
	default: return HTTP_LINGER_MS * 1000LL;
	}
}

/* Takes c off its deadline queue, if it is on one. */
static void tq_unlink(struct http_server *srv, struct http_conn *c)
{
	if (c->tq < 0)
		return;
	if (c->tq_prev)
		c->tq_prev->tq_next = c->tq_next;
	else
		srv->tq_head[c->tq] = c->tq_next;
	if (c->tq_next)
		c->tq_next->tq_prev = c->tq_prev;
	else
		srv->tq_tail[c->tq] = c->tq_prev;
	c->tq_prev = c->tq_next = NULL;
	c->tq = -1;
}

/* c's deadline is now + the timeout of kind q: it goes to the back of q. */
static void conn_deadline(struct http_server *srv, struct http_conn *c, int q)
{
	tq_unlink(srv, c);
	c->deadline = srv_now(srv) + tq_timeout_us(srv, q);
	c->tq = q;
	c->tq_prev = srv->tq_tail[q];
	if (srv->tq_tail[q])
		srv->tq_tail[q]->tq_next = c;
	else
		srv->tq_head[q] = c;
	srv->tq_tail[q] = c;
}

/* ---- what the loop watches ----------------------------------------------- */

/* Asks the loop for events on fd (0: none any more). */
static void watch(const struct http_server *srv, int fd, uint32_t events)
{
	if (srv->cfg.watch)
		srv->cfg.watch(srv->cfg.watch_ctx, fd, events);
}

/* A connection waits to write in WRITE, else to read (a request, or the
 * client's close in LINGER). Tells the loop when that changes. */
static void conn_watch(const struct http_server *srv, struct http_conn *c)
{
	uint32_t want = c->state == CONN_WRITE ? POLLOUT : POLLIN;
	if (c->watching != want) {
		watch(srv, c->fd, want);
		c->watching = want;
	}
}

/* The listeners are watched while there is room for a connection more
 * (else one waiting would be reported at every turn and never taken). */
static void listeners_watch(struct http_server *srv)
{
	bool room = srv->nconns < srv->cap;
	if (room == srv->accepting)
		return;
	if (srv->lfd >= 0)
		watch(srv, srv->lfd, room ? POLLIN : 0);
	if (srv->lfd6 >= 0)
		watch(srv, srv->lfd6, room ? POLLIN : 0);
	srv->accepting = room;
}

void http_config_init(struct http_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = 80;
	cfg->max_conns = 1500;
	cfg->request_timeout_ms = 10000;
	cfg->idle_timeout_ms = 5000;
	cfg->send_timeout_ms = 30000;
	cfg->log = stderr;
}

/* ---- /bytes/N bodies ---------------------------------------------------- */

void http_pattern_fill(uint8_t *out, size_t len, uint64_t pos)
{
	/* RFC 864: 95 lines of 74 bytes, then it repeats; made once */
	enum { LINE = 74, WIDTH = 72, PERIOD = 95 * LINE };
	static uint8_t period[PERIOD];
	if (!period[0])
		for (int i = 0; i < PERIOD; i++) {
			int row = i / LINE, col = i % LINE;
			period[i] = col == WIDTH ? '\r' : col == WIDTH + 1 ? '\n'
					     : (uint8_t)(' ' + (row + col) % 95);
		}
	size_t off = (size_t)(pos % PERIOD);
	while (len > 0) {
		size_t n = PERIOD - off < len ? PERIOD - off : len;
		memcpy(out, period + off, n);
		out += n;
		len -= n;
		off = 0;
	}
}

/* ---- the access log ----------------------------------------------------- */

/* Writes one line in Common Log Format:
 *   10.0.0.1 - - [10/Oct/2025:13:55:36 +0000] "GET / HTTP/1.1" 200 2326
 * (an IPv6 client as fd00::1, the way Apache and nginx write it) */
static void access_log(const struct http_server *srv, const struct http_conn *c)
{
	if (!srv->cfg.log)
		return;
	char when[64];
	const char *ip = c->peer;
	struct tm tm;
	localtime_r(&c->req_time, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
	if (c->body_sent)
		fprintf(srv->cfg.log, "%s - - [%s] \"%s\" %d %llu\n", ip, when, c->reqline,
			c->status, (unsigned long long)c->body_sent);
	else
		fprintf(srv->cfg.log, "%s - - [%s] \"%s\" %d -\n", ip, when, c->reqline, c->status);
	fflush(srv->cfg.log);
}

/* Keeps the request line for the log, made printable. */
static void remember_request_line(struct http_conn *c, struct http_str line)
{
	size_t n = line.n < sizeof(c->reqline) - 1 ? line.n : sizeof(c->reqline) - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)line.p[i];
		c->reqline[i] = ch < 0x20 || ch >= 0x7f || ch == '"' ? '?' : (char)ch;
	}
	c->reqline[n] = '\0';
	if (n == 0)
		strcpy(c->reqline, "-");
}

/* ---- writing a response head -------------------------------------------- */

/* Appends a formatted line to the response head (truncated if it overflows,
 * which the fixed fields never do). */
static void head_add(struct http_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!c->head) { /* head_begin found no memory for it */
		va_end(ap);
		return;
	}
	size_t room = HTTP_HEAD_OUT - c->head_len;
	int n = vsnprintf(c->head + c->head_len, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->head_len += (size_t)n < room ? (size_t)n : room - 1;
}

/* RFC 9112 4 and RFC 9110 6.6.1: the status line and the fields every
 * response carries: Date, Server, and how the connection goes on (RFC 9112
 * 9.3: "close" when we will close; "keep-alive" to an HTTP/1.0 client that
 * asked for it). The head is written but not sent. */
static void head_begin(struct http_server *srv, struct http_conn *c, int status, int minor)
{
	char date[32];
	if (!conn_bufs_get(srv, c)) {
		c->state = CONN_DEAD; /* no memory even for the head: closed */
		return;
	}
	c->head_len = c->head_off = 0;
	c->status = status;
	/* RFC 9110 6.2: we answer with our own version, HTTP/1.1 */
	head_add(c, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
	head_add(c, "Date: %s\r\nServer: tapstack-httpd\r\n", http_date_format(time(NULL), date));
	if (c->close_after)
		head_add(c, "Connection: close\r\n");
	else if (minor == 0)
		head_add(c, "Connection: keep-alive\r\n");
}

/* Starts sending the head and the body set up in c. */
static void conn_start_write(struct http_server *srv, struct http_conn *c)
{
	if (!c->head)
		return; /* head_begin found no memory: CONN_DEAD, closed */
	head_add(c, "\r\n");
	c->state = CONN_WRITE;
	c->body_sent = 0;
	conn_deadline(srv, c, TQ_SEND);
}

/* Answers with an error status and a short HTML page (none for HEAD). The
 * statuses after which the request's framing is lost, or that say the
 * server gives up on the connection, close it. */
static void reply_error(struct http_server *srv, struct http_conn *c, int status,
			bool head_only, int minor)
{
	char body[512];
	size_t n = http_error_body(status, body, sizeof(body));
	if (status == 400 || status == 408 || status == 413 || status == 414 || status == 431 ||
	    status == 501 || status == 503 || status == 505)
		c->close_after = true;
	head_begin(srv, c, status, minor);
	if (status == 405)
		head_add(c, "Allow: GET, HEAD\r\n"); /* RFC 9110 15.5.6: MUST send Allow */
	head_add(c, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n", n);
	c->body = BODY_NONE;
	if (!head_only && (c->mem = malloc(n))) {
		memcpy(c->mem, body, n);
		c->body = BODY_MEM;
		c->body_off = 0;
		c->body_end = n;
	}
	conn_start_write(srv, c);
}

/* ---- validators: RFC 9110 8.8 and 13 ------------------------------------ */

/* RFC 9110 13.1.2: does the If-None-Match list hold etag (weak comparison:
 * a W/ prefix is ignored), or "*"? */
static bool etag_list_matches(struct http_str list, const char *etag)
{
	size_t i = 0, elen = strlen(etag);
	while (i < list.n) {
		while (i < list.n && (list.p[i] == ' ' || list.p[i] == '\t' || list.p[i] == ','))
			i++;
		size_t s = i;
		while (i < list.n && list.p[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (list.p[e - 1] == ' ' || list.p[e - 1] == '\t'))
			e--;
		if (e - s == 1 && list.p[s] == '*')
			return true;
		if (e - s > 2 && list.p[s] == 'W' && list.p[s + 1] == '/')
			s += 2;
		if (e - s == elen && memcmp(list.p + s, etag, elen) == 0)
			return true;
	}
	return false;
}

/* RFC 9110 13.2.2 steps 3 and 4: true if the client's copy is current, so
 * the answer is 304. If-None-Match, when present, decides alone. */
static bool not_modified(const struct http_request *req, const struct reply *r)
{
	if (req->if_none_match.n)
		return r->etag && etag_list_matches(req->if_none_match, r->etag);
	time_t since;
	if (req->if_modified_since.n && r->mtime &&
	    http_date_parse(req->if_modified_since, &since) == 0)
		return r->mtime <= since;
	return false;
}

/* RFC 9110 13.1.5: a Range is honoured only if If-Range (when present)
 * names the current representation: the same strong ETag, or exactly its
 * Last-Modified date. */
static bool if_range_holds(const struct http_request *req, const struct reply *r)
{
	struct http_str v = req->if_range;
	if (!v.n)
		return true;
	if (v.p[0] == '"')
		return r->etag && http_str_eq(v, r->etag) && memcmp(v.p, r->etag, v.n) == 0;
	time_t t;
	return r->mtime && http_date_parse(v, &t) == 0 && t == r->mtime;
}

/* ---- successful answers ------------------------------------------------- */

/* Answers with a representation of r->size bytes whose body comes from
 * c->body (already set up, offsets from 0): 304 if the client has it, 206
 * or 416 for a range (GET only: RFC 9110 14.2), else 200. */
static void reply_representation(struct http_server *srv, struct http_conn *c,
				 const struct http_request *req, struct reply *r)
{
	bool head_only = req->method == HTTP_HEAD;
	char date[32];
	r->status = 200;
	if (not_modified(req, r)) {
		r->status = 304;
	} else if (req->method == HTTP_GET && req->range.n && if_range_holds(req, r)) {
		switch (http_range_parse(req->range, r->size, &r->first, &r->last)) {
		case HTTP_RANGE_OK:
			r->status = 206;
			break;
		case HTTP_RANGE_UNSATISFIABLE:
			reply_error(srv, c, 416, false, req->minor);
			/* RFC 9110 15.5.17: say how long the representation is; the
			 * field goes before the empty line conn_start_write added */
			if (c->head_len >= 2)
				c->head_len -= 2;
			head_add(c, "Content-Range: bytes */%llu\r\n\r\n",
				 (unsigned long long)r->size);
			return;
		case HTTP_RANGE_NONE:
			break;
		}
	}
	head_begin(srv, c, r->status, req->minor);
	if (r->etag)
		head_add(c, "ETag: %s\r\n", r->etag);
	if (r->mtime)
		head_add(c, "Last-Modified: %s\r\n", http_date_format(r->mtime, date));
	if (r->status == 304) {
		c->body = BODY_NONE; /* RFC 9110 15.4.5: no content */
		conn_start_write(srv, c);
		return;
	}
	head_add(c, "Content-Type: %s\r\nAccept-Ranges: bytes\r\n", r->ctype);
	c->body_off = 0;
	c->body_end = r->size;
	if (r->status == 206) {
		head_add(c, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)r->first,
			 (unsigned long long)r->last, (unsigned long long)r->size);
		c->body_off = r->first;
		c->body_end = r->last + 1;
	}
	head_add(c, "Content-Length: %llu\r\n", (unsigned long long)(c->body_end - c->body_off));
	if (head_only)
		c->body_off = c->body_end; /* RFC 9110 9.3.2: the same head, no body */
	conn_start_write(srv, c);
}

/* GET /bytes/N: N bytes of the chargen pattern, made as they are sent. */
static void serve_bytes(struct http_server *srv, struct http_conn *c,
			const struct http_request *req, const char *path)
{
	const char *d = path + 7;
	uint64_t n = 0;
	size_t len = strlen(d);
	if (len == 0 || len > 13 || strspn(d, "0123456789") != len ||
	    (n = strtoull(d, NULL, 10)) > HTTP_BYTES_MAX) {
		reply_error(srv, c, 404, req->method == HTTP_HEAD, req->minor);
		return;
	}
	char etag[40];
	snprintf(etag, sizeof(etag), "\"bytes-%llu\"", (unsigned long long)n);
	struct reply r = { .ctype = "application/octet-stream", .size = n, .etag = etag };
	c->body = BODY_PATTERN;
	reply_representation(srv, c, req, &r);
}

/* A directory without index.html: its listing. */
static void serve_listing(struct http_server *srv, struct http_conn *c,
			  const struct http_request *req, const struct http_file *f,
			  const char *path)
{
	size_t len;
	char *page = http_listing(f->real, path, &len);
	if (!page) {
		reply_error(srv, c, 403, req->method == HTTP_HEAD, req->minor);
		return;
	}
	c->mem = page;
	c->body = BODY_MEM;
	struct reply r = { .ctype = "text/html; charset=utf-8", .size = len };
	reply_representation(srv, c, req, &r);
}

/* A directory named without its '/': RFC 9110 15.4.2, 301 to the name
 * with it, so that the relative links of its page work. */
static void serve_add_slash(struct http_server *srv, struct http_conn *c,
			    const struct http_request *req, const char *path)
{
	char loc[3 * HTTP_TARGET_MAX + 2];
	http_url_escape(path, loc, sizeof(loc) - 1);
	strcat(loc, "/");
	reply_error(srv, c, 301, req->method == HTTP_HEAD, req->minor);
	if (c->head_len >= 2)
		c->head_len -= 2; /* before the empty line */
	head_add(c, "Location: %s\r\n\r\n", loc);
}

/* True for the paths of the welcome page. */
static bool welcome_path(const char *path)
{
	return strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0;
}

/* GET / (or /index.html) with no file to answer it: a page that says what
 * the host serves (http_welcome_body), so that the first curl a student
 * types gets something better than a 404. */
static void serve_welcome(struct http_server *srv, struct http_conn *c,
			  const struct http_request *req)
{
	enum { PAGE_MAX = 4096 };
	char *page = malloc(PAGE_MAX);
	if (!page) {
		reply_error(srv, c, 503, req->method == HTTP_HEAD, req->minor);
		return;
	}
	size_t len = http_welcome_body(srv->cfg.about, page, PAGE_MAX);
	c->mem = page;
	c->body = BODY_MEM;
	struct reply r = { .ctype = "text/html; charset=utf-8", .size = len };
	reply_representation(srv, c, req, &r);
}

/* A file (or a directory's index) under root. */
static void serve_file(struct http_server *srv, struct http_conn *c,
		       const struct http_request *req, const char *root, const char *path)
{
	struct http_file f;
	int st = http_file_open(root, path, &f);
	if (st == 404 && welcome_path(path)) {
		serve_welcome(srv, c, req);
		return;
	}
	if (st) {
		reply_error(srv, c, st, req->method == HTTP_HEAD, req->minor);
		return;
	}
	if (f.kind == HTTP_FILE_ADD_SLASH) {
		serve_add_slash(srv, c, req, path);
		return;
	}
	if (f.kind == HTTP_FILE_LISTING) {
		serve_listing(srv, c, req, &f, path);
		return;
	}
	/* RFC 9110 8.8.3: an ETag that changes when the file does */
	char etag[64];
	snprintf(etag, sizeof(etag), "\"%llx-%llx-%lx\"", (unsigned long long)f.st.st_size,
		 (unsigned long long)f.st.st_mtim.tv_sec, (unsigned long)f.st.st_mtim.tv_nsec);
	struct reply r = { .ctype = http_mime_type(f.real), .size = (uint64_t)f.st.st_size,
			   .etag = etag, .mtime = f.st.st_mtim.tv_sec };
	c->file_fd = f.fd;
	c->body = BODY_FILE;
	reply_representation(srv, c, req, &r);
}

/* RFC 9110 7.2, RFC 9112 3.2.2: the host the request is for (the target's
 * authority if absolute, else Host), without its port: picks the document
 * root. Unknown hosts get the default one (--www, else the first vhost);
 * NULL if there is no root at all (only /bytes/ and / are served then). */
static const char *pick_root(const struct http_server *srv, const struct http_request *req)
{
	struct http_str h = req->authority.n ? req->authority : req->host;
	size_t n = h.n;
	const char *from = memchr(h.p, ']', h.n); /* the port follows an IPv6 literal */
	if (!from)
		from = h.p;
	const char *colon = memchr(from, ':', h.n - (size_t)(from - h.p));
	if (colon)
		n = (size_t)(colon - h.p);
	for (int i = 0; i < srv->nvhosts; i++) {
		const char *name = srv->vhosts[i].name;
		if (strlen(name) == n && strncasecmp(name, h.p, n) == 0)
			return srv->vhosts[i].root;
	}
	if (srv->root[0])
		return srv->root;
	return srv->nvhosts ? srv->vhosts[0].root : NULL;
}

/* Answers one parsed request (sets c up to write the response). */
static void conn_request(struct http_server *srv, struct http_conn *c,
			 const struct http_request *req)
{
	bool head_only = req->method == HTTP_HEAD;
	c->close_after = !http_request_keep_alive(req);
	if (req->method == HTTP_OTHER_KNOWN) {
		reply_error(srv, c, 405, false, req->minor);
		return;
	}
	char path[HTTP_TARGET_MAX + 2];
	if (http_path_normalize(req->path.p, req->path.n, path, sizeof(path)) < 0) {
		reply_error(srv, c, 400, head_only, req->minor);
		return;
	}
	const char *root = pick_root(srv, req);
	if (strncmp(path, "/bytes/", 7) == 0)
		serve_bytes(srv, c, req, path);
	else if (!root && welcome_path(path))
		serve_welcome(srv, c, req);
	else if (!root)
		reply_error(srv, c, 404, head_only, req->minor);
	else
		serve_file(srv, c, req, root, path);
}

/* ---- the connection state machine --------------------------------------- */

/* Drops request-body bytes still owed from the front of the input. */
static void conn_discard(struct http_conn *c)
{
	if (!c->in_len)
		return;
	size_t n = c->discard_left < c->in_len ? (size_t)c->discard_left : c->in_len;
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	c->discard_left -= n;
}

/* READ: reads and parses until a request head is complete, then answers it
 * (state WRITE). Returns false when it must wait for more bytes, or the
 * connection ended (CONN_DEAD). */
static bool conn_next_request(struct http_server *srv, struct http_conn *c)
{
	for (;;) {
		conn_discard(c);
		struct http_request req;
		int r = 0;
		if (c->in_len && !c->discard_left)
			r = http_parse_request(c->in, c->in_len, &req);
		if (r != 0) {
			c->req_time = time(NULL);
			remember_request_line(c, req.line);
			srv->requests++;
			if (r < 0) {
				c->close_after = true;
				reply_error(srv, c, -r, false, 1);
				return true;
			}
			conn_request(srv, c, &req);
			c->discard_left = req.content_length;
			memmove(c->in, c->in + r, c->in_len - (size_t)r);
			c->in_len -= (size_t)r;
			c->req_started = false;
			return true;
		}
		if (c->in_len && !c->req_started) {
			/* the first bytes of a request: it has a while to arrive */
			c->req_started = true;
			conn_deadline(srv, c, TQ_REQUEST);
		}
		if (!conn_bufs_get(srv, c)) {
			c->state = CONN_DEAD; /* no memory to read into */
			return false;
		}
		size_t room = HTTP_HEAD_MAX + 1 - c->in_len;
		ssize_t n = net_recv(c->fd, c->in + c->in_len, room, 0);
		if (n == -EAGAIN) {
			if (c->in_len == 0)
				conn_bufs_put(srv, c); /* idle between requests */
			return false;
		}
		if (n <= 0) {
			c->state = CONN_DEAD; /* closed (mid-request or not) or reset */
			return false;
		}
		c->in_len += (size_t)n;
	}
}

/* WRITE: sends what the socket takes. Returns 1 when the whole response is
 * out, 0 when the socket is full, -1 when the connection failed. */
static int conn_send(struct http_conn *c)
{
	while (c->head_off < c->head_len) {
		ssize_t n = net_send(c->fd, c->head + c->head_off, c->head_len - c->head_off, 0);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		c->head_off += (size_t)n;
	}
	while (c->body_off < c->body_end) {
		uint64_t left = c->body_end - c->body_off;
		size_t want = left < HTTP_SCRATCH ? (size_t)left : HTTP_SCRATCH;
		const void *p = scratch;
		if (c->body == BODY_MEM) {
			p = c->mem + c->body_off;
		} else if (c->body == BODY_FILE) {
			ssize_t got = pread(c->file_fd, scratch, want, (off_t)c->body_off);
			if (got <= 0)
				return -1; /* the file shrank under us: cut the connection */
			want = (size_t)got;
		} else {
			http_pattern_fill(scratch, want, c->body_off);
		}
		ssize_t n = net_send(c->fd, p, want, 0);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		c->body_off += (uint64_t)n;
		c->body_sent += (uint64_t)n;
	}
	return 1;
}

/* Frees what the response held. */
static void conn_release_body(struct http_conn *c)
{
	free(c->mem);
	c->mem = NULL;
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->file_fd = -1;
	c->body = BODY_NONE;
}

/* The response is out: log it, then keep the connection for the next
 * request (RFC 9112 9.3) or close our side and drain theirs (RFC 9112 9.6:
 * closing at once could reset the connection before the client read the
 * response). */
static void conn_finish_response(struct http_server *srv, struct http_conn *c)
{
	access_log(srv, c);
	conn_release_body(c);
	c->served_one = true;
	if (c->close_after) {
		net_shutdown(c->fd, SHUT_WR);
		c->state = CONN_LINGER;
		conn_deadline(srv, c, TQ_LINGER);
		return;
	}
	c->state = CONN_READ;
	c->req_started = false;
	conn_deadline(srv, c, TQ_IDLE);
}

/* LINGER: reads and drops until the client closes too. */
static void conn_linger(struct http_conn *c)
{
	ssize_t n;
	while ((n = net_recv(c->fd, scratch, sizeof(scratch), 0)) > 0)
		;
	if (n != -EAGAIN)
		c->state = CONN_DEAD;
}

/* Does everything the connection can do now without waiting: read,
 * answer, write, and go on with pipelined requests already received. */
static void conn_run(struct http_server *srv, struct http_conn *c)
{
	for (int i = 0; i < HTTP_PIPELINE_MAX; i++) {
		if (c->state == CONN_READ && !conn_next_request(srv, c))
			return;
		if (c->state == CONN_LINGER) {
			conn_linger(c);
			return;
		}
		if (c->state != CONN_WRITE)
			return;
		size_t head_before = c->head_off;
		uint64_t body_before = c->body_off;
		int r = conn_send(c);
		/* the send timeout is for a client that stopped reading: any
		 * progress starts it again, so a long download on a slow link
		 * is not cut at 30 s */
		if (c->head_off != head_before || c->body_off != body_before)
			conn_deadline(srv, c, TQ_SEND);
		if (r <= 0) {
			if (r < 0)
				c->state = CONN_DEAD;
			return;
		}
		conn_finish_response(srv, c);
	}
}

/* Closes the connection (with a RST if abort) and forgets it. */
static void conn_close(struct http_server *srv, struct http_conn *c, bool abort)
{
	if (abort) {
		struct linger l = { 1, 0 };
		net_setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		srv->aborted++;
	}
	net_close(c->fd); /* which takes it out of the loop's set */
	conn_release_body(c);
	conn_bufs_put(srv, c);
	tq_unlink(srv, c);
	srv->byfd[c->fd - NET_FD_BASE] = NULL;
	struct http_conn *last = srv->conns[--srv->nconns];
	srv->conns[c->idx] = last;
	last->idx = c->idx;
	free(c);
}

/* Takes every connection waiting on the listener. Past max_conns, a new
 * one is answered 503 and closed (RFC 9110 15.6.4). */
static void server_accept(struct http_server *srv, int lfd)
{
	while (srv->nconns < srv->cap) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = net_accept(lfd, (struct sockaddr *)&peer, &plen);
		if (fd < 0)
			return;
		struct http_conn *c = calloc(1, sizeof(*c));
		if (!c || fd - NET_FD_BASE >= NET_MAX_SOCKETS) {
			free(c);
			net_close(fd);
			continue;
		}
		int one = 1;
		net_setsockopt(fd, SOL_SOCKET, SO_NONBLOCK, &one, sizeof(one));
		/* a response goes out in two sends (head, body): Nagle would hold
		 * the second until the first is acknowledged */
		net_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->file_fd = -1;
		c->tq = -1;
		net_sockaddr_ntop((struct sockaddr *)&peer, 0, c->peer, sizeof(c->peer));
		c->state = CONN_READ;
		conn_deadline(srv, c, TQ_REQUEST);
		c->idx = srv->nconns;
		srv->conns[srv->nconns++] = c;
		srv->byfd[fd - NET_FD_BASE] = c;
		srv->accepted++;
		if (srv->nconns > srv->cfg.max_conns) {
			srv->rejected_503++;
			c->req_time = time(NULL);
			strcpy(c->reqline, "-");
			reply_error(srv, c, 503, false, 1);
			conn_run(srv, c);
			if (c->state == CONN_DEAD) {
				conn_close(srv, c, true);
				continue;
			}
		}
		conn_watch(srv, c);
	}
}

/* A deadline passed: 408 for a request that did not come in time, a quiet
 * close for an idle kept-alive connection (RFC 9112 9.5), an abort for a
 * client that stopped reading, the end of a linger. */
static void conn_expire(struct http_server *srv, struct http_conn *c)
{
	if (c->state == CONN_READ) {
		if (c->served_one && c->in_len == 0 && !c->discard_left) {
			srv->idle_closed++;
			conn_close(srv, c, false);
			return;
		}
		srv->timeouts_408++;
		c->req_time = time(NULL);
		strcpy(c->reqline, "-");
		reply_error(srv, c, 408, false, 1);
		conn_run(srv, c);
		if (c->state != CONN_DEAD) {
			conn_watch(srv, c);
			return;
		}
	}
	conn_close(srv, c, c->state == CONN_WRITE || c->state == CONN_DEAD);
}

int http_server_tick(struct http_server *srv)
{
	int64_t now = srv_now(srv), next = INT64_MAX;
	for (int q = 0; q < TQ_KINDS; q++) {
		/* conn_expire closes the connection or moves it to another
		 * queue (a 408 to send); the bound is only a guard */
		for (int guard = srv->nconns; guard > 0 && srv->tq_head[q] &&
					       now >= srv->tq_head[q]->deadline; guard--)
			conn_expire(srv, srv->tq_head[q]);
	}
	for (int q = 0; q < TQ_KINDS; q++)
		if (srv->tq_head[q] && srv->tq_head[q]->deadline < next)
			next = srv->tq_head[q]->deadline;
	listeners_watch(srv);
	if (next == INT64_MAX)
		return -1;
	int64_t ms = next <= now ? 0 : (next - now + 999) / 1000;
	return ms > 1000000 ? 1000000 : (int)ms;
}

void http_server_handle(struct http_server *srv, int fd, uint32_t events)
{
	if (fd == srv->lfd || (srv->lfd6 >= 0 && fd == srv->lfd6)) {
		server_accept(srv, fd);
		listeners_watch(srv);
		return;
	}
	int k = fd - NET_FD_BASE;
	struct http_conn *c = k >= 0 && k < NET_MAX_SOCKETS ? srv->byfd[k] : NULL;
	if (!c)
		return;
	if (events & POLLERR)
		c->state = CONN_DEAD;
	else
		conn_run(srv, c);
	if (c->state == CONN_DEAD) {
		conn_close(srv, c, c->body_off < c->body_end);
		listeners_watch(srv);
	} else {
		conn_watch(srv, c);
	}
}

/* Resolves a document root with realpath. Returns 0 or -1 with err. */
static int resolve_root(const char *dir, char *out, char *err, size_t errlen)
{
	struct stat st;
	if (!realpath(dir, out) || stat(out, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "document root %s: %s", dir,
			 errno ? strerror(errno) : "not a directory");
		return -1;
	}
	return 0;
}

/* Opens one non-blocking listening socket of family on the port into *fd. */
static int open_listener_family(struct http_server *srv, int family, int *fd, char *err,
				size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, r;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		*a = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(srv->cfg.port),
					    .sin6_addr = IN6ADDR_ANY_INIT };
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		*a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(srv->cfg.port) };
		len = sizeof(*a);
	}
	*fd = net_socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (*fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(-*fd));
		*fd = -1;
		return -1;
	}
	net_setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((r = net_bind(*fd, (struct sockaddr *)&ss, len)) < 0 || (r = net_listen(*fd, 1024)) < 0) {
		snprintf(err, errlen, "port %u (%s): %s", srv->cfg.port,
			 family == AF_INET6 ? "IPv6" : "IPv4", strerror(-r));
		net_close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

/* Opens the listening sockets on the port: IPv4, and IPv6 when the host
 * has it (an AF_INET6 socket is IPv6-only, see stack/net.h). */
static int open_listener(struct http_server *srv, char *err, size_t errlen)
{
	if (open_listener_family(srv, AF_INET, &srv->lfd, err, errlen) < 0)
		return -1;
	if (net_family_available(AF_INET6))
		return open_listener_family(srv, AF_INET6, &srv->lfd6, err, errlen);
	return 0;
}

int http_server_start(struct http_server *srv, const struct http_config *cfg, char *err,
		      size_t errlen)
{
	memset(srv, 0, sizeof(*srv));
	srv->cfg = *cfg;
	srv->lfd = srv->lfd6 = -1;
	if (cfg->www && resolve_root(cfg->www, srv->root, err, errlen) < 0)
		return -1;
	for (int i = 0; i < cfg->nvhosts; i++) {
		struct http_vhost *v = &srv->vhosts[i];
		snprintf(v->name, sizeof(v->name), "%s", cfg->vhosts[i].name);
		if (resolve_root(cfg->vhosts[i].dir, srv->vhosts[i].root, err, errlen) < 0)
			return -1;
	}
	srv->nvhosts = cfg->nvhosts;
	srv->cap = cfg->max_conns + HTTP_REJECT_SLOTS;
	srv->conns = calloc((size_t)srv->cap, sizeof(*srv->conns));
	srv->byfd = calloc(NET_MAX_SOCKETS, sizeof(*srv->byfd));
	if (!srv->conns || !srv->byfd) {
		snprintf(err, errlen, "out of memory");
		http_server_stop(srv);
		return -1;
	}
	if (open_listener(srv, err, errlen) < 0) {
		http_server_stop(srv);
		return -1;
	}
	srv->accepting = false;
	listeners_watch(srv);
	return 0;
}

void http_server_stop(struct http_server *srv)
{
	while (srv->nconns > 0)
		conn_close(srv, srv->conns[srv->nconns - 1], false);
	if (srv->lfd >= 0)
		net_close(srv->lfd);
	if (srv->lfd6 >= 0)
		net_close(srv->lfd6);
	srv->lfd = srv->lfd6 = -1;
	free(srv->conns);
	free(srv->byfd);
	srv->conns = NULL;
	srv->byfd = NULL;
	while (srv->spare) {
		struct http_bufs *b = srv->spare;
		srv->spare = b->next;
		free(b);
	}
	srv->nspare = 0;
}

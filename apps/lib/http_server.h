/* A small HTTP/1.1 origin server (RFC 9110, RFC 9112) on tapstack's socket
 * API: static files, generated /bytes/N bodies, virtual hosts, a welcome
 * page at / when no file answers it, one event
 * loop, no threads. Each connection is a state machine driven by the
 * events of its socket (the loop's readiness set, net_epoll_wait):
 *
 *   READ ──request head──> WRITE ──response sent──> READ   (keep-alive)
 *                                                 └> LINGER ──EOF or 2 s──> closed
 *
 * Nothing ever waits: sockets are non-blocking, and every state has a
 * deadline (408 for a request that does not arrive, a quiet close for an
 * idle keep-alive connection, an abort for a client that stops reading). The
 * service "http" (http_service.c) and apps/httpd.c run it. */
#ifndef TAPSTACK_HTTP_SERVER_H
#define TAPSTACK_HTTP_SERVER_H

#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "apps/lib/http.h"

#define HTTP_VHOSTS_MAX 16
#define HTTP_BYTES_MAX (1ULL << 40) /* the largest /bytes/N */
/* The most --max-conns may be: connections at once, plus the 503 slots and
 * the other services' sockets, fit in a host's NET_MAX_SOCKETS (16384). */
#define HTTP_MAX_CONNS_LIMIT 16000

struct http_vhost {
	char name[256];           /* as in the Host header, without the port */
	char root[PATH_MAX];      /* the document root (realpath'ed at start) */
};

struct http_config {
	uint16_t port;            /* default 80 */
	const char *www;          /* the default document root (NULL: the first vhost, or none:
	                             only /bytes/N is served) */
	struct {
		const char *name, *dir;
	} vhosts[HTTP_VHOSTS_MAX];
	int nvhosts;
	int max_conns;            /* beyond it a new connection gets 503; default 1500,
	                           * at most HTTP_MAX_CONNS_LIMIT */
	int request_timeout_ms;   /* a request head must arrive within; default 10 s */
	int idle_timeout_ms;      /* a kept-alive connection may stay idle; default 5 s */
	int send_timeout_ms;      /* a client may stop reading; default 30 s */
	const char *about;        /* what the host serves, for the page at / when no
	                             file answers it (see http_welcome_body); NULL: no list */
	FILE *log;                /* the access log (Common Log Format), NULL: none */
	int64_t (*now)(void);     /* a clock in microseconds; NULL: host_clock_now */
	/* How the server says which events it waits for on a descriptor:
	 * watch(watch_ctx, fd, POLLIN or POLLOUT), or events 0 to stop (the
	 * loop's readiness set; the service "http" passes service_watch).
	 * Closing a descriptor needs no call. */
	void (*watch)(void *ctx, int fd, uint32_t events);
	void *watch_ctx;
};

struct http_conn;

struct http_server {
	struct http_config cfg;
	char root[PATH_MAX];      /* the default root, resolved ("" if none) */
	struct http_vhost vhosts[HTTP_VHOSTS_MAX];
	int nvhosts;
	int lfd;                  /* the listening socket */
	int lfd6;                 /* the IPv6 one, when the host has IPv6 (else -1) */
	struct http_conn **conns; /* the open connections, nconns of them */
	int nconns, cap;
	struct http_conn **byfd;  /* descriptor -> connection */
	/* the connections by deadline, one queue per kind of timeout (see
	 * conn_deadline in http_server.c) */
	struct http_conn *tq_head[4], *tq_tail[4];
	bool accepting;           /* the listeners are watched (below the connection cap) */
	struct http_bufs *spare;  /* buffers of connections gone idle, for the next busy ones */
	int nspare;
	int bufs_busy;            /* connections holding buffers now (a request or head on its way) */
	/* counters, for tests and for the curious */
	uint64_t accepted, requests, rejected_503, timeouts_408, idle_closed, aborted;
};

/* Fills cfg with the defaults. */
void http_config_init(struct http_config *cfg);

/* Resolves the roots and opens the listening socket. Returns 0, or -1 with
 * the reason in err. */
int http_server_start(struct http_server *srv, const struct http_config *cfg, char *err,
		      size_t errlen);

/* Enforces the deadlines that have passed (408, idle close, send timeout,
 * end of a linger): a look at the earliest of each kind, not a pass over
 * the connections. Returns the milliseconds until the next deadline, or
 * -1 if there is none. Call it at every turn of the loop. */
int http_server_tick(struct http_server *srv);

/* Handles the events (POLLIN, POLLOUT, POLLERR, POLLHUP) the loop
 * reported on fd, one of the server's descriptors. */
void http_server_handle(struct http_server *srv, int fd, uint32_t events);

/* Closes every connection and the listeners, frees everything. */
void http_server_stop(struct http_server *srv);

/* Byte i of every /bytes/N body: the RFC 864 character generator stream
 * (lines of 72 printable characters, then CR LF, each line starting one
 * character further). Fills out[0..len) with the stream from offset pos. */
void http_pattern_fill(uint8_t *out, size_t len, uint64_t pos);

#endif

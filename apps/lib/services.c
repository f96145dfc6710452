/* Choosing services and serving them from one loop on a readiness set. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apps/lib/service.h"
#include "stack/host.h"
#include "stack/net.h"

extern struct service service_echo, service_discard, service_chargen;
extern struct service service_http;
extern struct service service_dns;

struct service *const service_table[] = {
	&service_echo,
	&service_discard,
	&service_chargen,
	&service_http,
	&service_dns,
	NULL,
};

int service_socket(int family, int type, uint16_t port, int backlog, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, r;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_any;
		a->sin6_port = htons(port);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		len = sizeof(*a);
	}
	int fd = net_socket(family, type | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(-fd));
		return -1;
	}
	net_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((r = net_bind(fd, (struct sockaddr *)&ss, len)) < 0 ||
	    (type == SOCK_STREAM && (r = net_listen(fd, backlog)) < 0)) {
		snprintf(err, errlen, "%s port %u (%s): %s", type == SOCK_STREAM ? "TCP" : "UDP",
			 port, family == AF_INET6 ? "IPv6" : "IPv4", strerror(-r));
		net_close(fd);
		return -1;
	}
	return fd;
}

int service_want_ipv6(void)
{
	return net_family_available(AF_INET6);
}

int services_select(const char *list, struct service **out, int max, char *err, size_t errlen)
{
	int n = 0;
	if (strcmp(list, "none") == 0)
		return 0;
	if (strcmp(list, "all") == 0) {
		for (int i = 0; service_table[i] && n < max; i++)
			out[n++] = service_table[i];
		return n;
	}
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		int i;
		for (i = 0; service_table[i]; i++)
			if (strcmp(service_table[i]->name, name) == 0)
				break;
		if (!service_table[i]) {
			snprintf(err, errlen, "unknown service '%s' (known: see --help)", name);
			return -1;
		}
		for (int k = 0; k < n; k++)
			if (out[k] == service_table[i])
				goto next;
		if (n < max)
			out[n++] = service_table[i];
	next:;
	}
	return n;
}

void services_usage(FILE *out)
{
	for (int i = 0; service_table[i]; i++)
		fprintf(out, "                    %-8s %s\n", service_table[i]->name, service_table[i]->what);
	for (int i = 0; service_table[i]; i++)
		if (service_table[i]->options_help)
			fputs(service_table[i]->options_help, out);
}

int services_option(const char *flag, const char *value, int *used_value)
{
	*used_value = 0;
	for (int i = 0; service_table[i]; i++) {
		struct service *sv = service_table[i];
		if (!sv->option)
			continue;
		int r = sv->option(sv, flag, value, used_value);
		if (r != 0)
			return r;
	}
	return 0;
}

/* ---- the loop -------------------------------------------------------------
 *
 * One readiness set for every service (stack/net.h, net_epoll_*). A
 * descriptor is registered with its own number as data; owner[] says which
 * service watches it, so an event goes to its service in one look-up.
 * A turn of the loop: each service does its timed work (tick), then one
 * wait hands out whatever is ready. The stack wakes a socket in the set
 * when something happens to it; a wait asks only those, so its cost is
 * the number of sockets with something going on, whatever the number of
 * open connections. (A net_poll() loop over every descriptor cost a busy
 * transfer 2.5x the CPU beside 10,000 idle connections: issue 5.) */
#define SERVICES_BATCH 256 /* events handed out per wait */

static int epfd = -1;                            /* the set, while services_run runs */
static struct service **running;                /* what services_run runs (services_about) */
static int nrunning;
static struct service *owner[NET_MAX_SOCKETS];  /* by descriptor: who watches it */

void service_watch(struct service *sv, int fd, uint32_t events)
{
	int k = fd - NET_FD_BASE;
	if (epfd < 0 || k < 0 || k >= NET_MAX_SOCKETS)
		return;
	struct net_epoll_event ev = { .events = events, .data.fd = fd };
	owner[k] = sv;
	/* MOD if the set has it; ADD if not (new, or a number a closed socket
	 * left, which the set let go of at its close) */
	if (net_epoll_ctl(epfd, NET_EPOLL_CTL_MOD, fd, &ev) == -ENOENT)
		net_epoll_ctl(epfd, NET_EPOLL_CTL_ADD, fd, &ev);
}

void service_unwatch(struct service *sv, int fd)
{
	int k = fd - NET_FD_BASE;
	if (epfd < 0 || k < 0 || k >= NET_MAX_SOCKETS || owner[k] != sv)
		return;
	owner[k] = NULL;
	net_epoll_ctl(epfd, NET_EPOLL_CTL_DEL, fd, NULL);
}

size_t services_about(char *out, size_t outlen)
{
	size_t o = 0;
	if (!outlen)
		return 0;
	out[0] = '\0';
	for (int i = 0; i < nrunning && o + 1 < outlen; i++) {
		int k = snprintf(out + o, outlen - o, "%s\t%s\n", running[i]->name, running[i]->what);
		if (k < 0)
			break;
		o += (size_t)k < outlen - o ? (size_t)k : outlen - o - 1;
	}
	return o;
}

int services_run(struct service **sv, int n, uint64_t seed)
{
	char err[200];
	running = sv;
	nrunning = n;
	epfd = net_epoll_create();
	if (epfd < 0) {
		fprintf(stderr, "tapstack: cannot serve: %s\n", strerror(-epfd));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		rng_seed(&sv[i]->rng, seed + (uint64_t)i);
		if (sv[i]->start(sv[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "tapstack: cannot start %s: %s\n", sv[i]->name, err);
			while (--i >= 0)
				sv[i]->stop(sv[i]);
			net_close(epfd);
			epfd = -1;
			running = NULL;
			nrunning = 0;
			return -1;
		}
	}
	static struct net_epoll_event ev[SERVICES_BATCH];
	while (!host_stop_requested()) {
		int timeout = 1000; /* at least once a second, for host_stop_requested */
		for (int i = 0; i < n; i++) {
			int t = sv[i]->tick ? sv[i]->tick(sv[i]) : -1;
			if (t >= 0 && t < timeout)
				timeout = t;
		}
		int r = net_epoll_wait(epfd, ev, SERVICES_BATCH, timeout);
		if (r < 0)
			break; /* -EINTR: asked to stop */
		for (int j = 0; j < r; j++) {
			int fd = ev[j].data.fd;
			struct service *o = owner[fd - NET_FD_BASE];
			if (o)
				o->handle(o, fd, ev[j].events);
		}
	}
	for (int i = 0; i < n; i++)
		sv[i]->stop(sv[i]);
	net_close(epfd);
	epfd = -1;
	running = NULL;
	nrunning = 0;
	return 0;
}

/* Choosing services and serving them from one net_poll() loop. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apps/lib/service.h"
#include "stack/host.h"
#include "stack/net.h"

#define SERVICES_MAX_FDS NET_MAX_SOCKETS /* every descriptor a host can have */

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

/* Many idle connections must not slow the busy ones (issue 5): polling a
 * descriptor costs the same whether it is ready or not, so with more than
 * SERVICES_HOT_MIN of them, the ones not ready for SERVICES_COLD_AFTER_US
 * are "cold" and polled only every SERVICES_COLD_EVERY_US (a cold one's
 * next event waits that long at most); the rest, "hot" (ready lately, or
 * new), are polled on every turn. With fewer descriptors every one is
 * polled every turn, as before. */
#define SERVICES_HOT_MIN 256
#define SERVICES_COLD_AFTER_US 1000000
#define SERVICES_COLD_EVERY_US 10000

static int64_t last_ready[SERVICES_MAX_FDS]; /* by descriptor: when it was last ready (or new) */
static uint32_t listed[SERVICES_MAX_FDS];    /* by descriptor: the turn it was last listed in, + 1 */
static uint32_t turn;                        /* turns of the loop */

static void mark_ready(int fd, int64_t now)
{
	int k = fd - NET_FD_BASE;
	if (k >= 0 && k < SERVICES_MAX_FDS)
		last_ready[k] = now;
}

/* Copies the hot entries of fds into hot (hot_at[i]: the entry's index in
 * fds); returns how many. A descriptor not listed on the turn before is
 * new, so hot. (A descriptor number closed and given to a new connection
 * between two turns keeps the old one's record: if that was cold, the new
 * one's first event waits SERVICES_COLD_EVERY_US at most.) */
static int pick_hot(const struct pollfd *fds, int nfds, struct pollfd *hot, int *hot_at, int64_t now)
{
	int nhot = 0;
	for (int j = 0; j < nfds; j++) {
		int k = fds[j].fd - NET_FD_BASE;
		if (k < 0 || k >= SERVICES_MAX_FDS) {
			hot_at[nhot] = j; /* not ours to judge: poll it (POLLNVAL) */
			hot[nhot++] = fds[j];
			continue;
		}
		if (listed[k] != turn) /* turn + 1 would mean listed this turn already */
			last_ready[k] = now;
		listed[k] = turn + 1;
		if (now - last_ready[k] < SERVICES_COLD_AFTER_US) {
			hot_at[nhot] = j;
			hot[nhot++] = fds[j];
		}
	}
	return nhot;
}

int services_run(struct service **sv, int n, uint64_t seed)
{
	char err[200];
	for (int i = 0; i < n; i++) {
		rng_seed(&sv[i]->rng, seed + (uint64_t)i);
		if (sv[i]->start(sv[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "tapstack: cannot start %s: %s\n", sv[i]->name, err);
			while (--i >= 0)
				sv[i]->stop(sv[i]);
			return -1;
		}
	}
	static struct pollfd fds[SERVICES_MAX_FDS], hot[SERVICES_MAX_FDS];
	static int owner[SERVICES_MAX_FDS], hot_at[SERVICES_MAX_FDS];
	int64_t cold_due = 0;
	while (!host_stop_requested()) {
		int nfds = 0;
		for (int i = 0; i < n; i++) {
			int k = sv[i]->pollfds(sv[i], fds + nfds, SERVICES_MAX_FDS - nfds);
			for (int j = 0; j < k; j++)
				owner[nfds + j] = i;
			nfds += k;
		}
		int64_t now = host_clock_now();
		struct pollfd *use = fds;
		int nuse = nfds, timeout = 1000, *at = NULL;
		if (nfds > SERVICES_HOT_MIN) {
			int nhot = pick_hot(fds, nfds, hot, hot_at, now);
			if (now >= cold_due) {
				timeout = 0; /* every descriptor, without waiting */
				cold_due = now + SERVICES_COLD_EVERY_US;
			} else {
				use = hot, at = hot_at, nuse = nhot;
				timeout = (int)((cold_due - now + 999) / 1000);
			}
		}
		int r = net_poll(use, (nfds_t)nuse, timeout);
		if (r < 0)
			break; /* -EINTR: asked to stop */
		now = host_clock_now();
		for (int j = 0; j < nuse && r > 0; j++) {
			if (!use[j].revents)
				continue;
			int e = at ? at[j] : j;
			mark_ready(fds[e].fd, now);
			fds[e].revents = use[j].revents;
			sv[owner[e]]->handle(sv[owner[e]], &fds[e]);
		}
		turn++;
	}
	for (int i = 0; i < n; i++)
		sv[i]->stop(sv[i]);
	return 0;
}

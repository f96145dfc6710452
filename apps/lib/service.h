/* Services a tapstack host can run (--serve echo,discard,chargen,...), each
 * written on the socket API like any app. One loop serves them all, on one
 * readiness set (net_epoll_wait, stack/net.h): each service registers the
 * descriptors it waits on, with the events it waits for (service_watch),
 * changes them when that changes (POLLOUT while it has output pending),
 * and handles the events the loop hands it. No threads, and no pass over
 * every connection per turn: 10,000 idle connections cost a busy one
 * nothing (issue 5). */
#ifndef TAPSTACK_SERVICE_H
#define TAPSTACK_SERVICE_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stack/rng.h"

struct service {
	const char *name;         /* as given to --serve */
	const char *what;         /* one line for --help */
	/* Opens the service's sockets. Returns 0 or -1 with a message in err. */
	int (*start)(struct service *sv, char *err, size_t errlen);
	/* Handles events (POLLIN, POLLOUT, POLLERR, POLLHUP) on fd, one of
	 * the descriptors it watches. It may close fd, and only fd: an event
	 * for another descriptor may follow in the same turn. */
	void (*handle)(struct service *sv, int fd, uint32_t events);
	/* Its timed work (deadlines, retries), run at every turn of the loop
	 * before it waits, so it must cost next to nothing when nothing is
	 * due. Returns the milliseconds until it must run again at the
	 * latest, or -1 for no deadline. NULL: none. */
	int (*tick)(struct service *sv);
	/* Closes everything. */
	void (*stop)(struct service *sv);
	/* Takes one of the service's own command-line flags (e.g. --www DIR):
	 * returns 1 if flag is its own (*used_value = 1 if it consumed value,
	 * which may be NULL at the end of the line), 0 if not, -1 after
	 * printing "tapstack: what is wrong". May be NULL. */
	int (*option)(struct service *sv, const char *flag, const char *value, int *used_value);
	const char *options_help; /* its flags for --help, lines of "  --flag ARG  text\n" */
	int fd;                   /* the UDP socket, for the classic services */
	int lfd;                  /* the TCP listening socket */
	int fd6, lfd6;            /* the same for IPv6 (-1 when the host has none):
				     sockets are IPv6-only, so one of each per family */
	struct stream_conn *conns; /* TCP connections being served */
	int nconns;
	bool accepting;           /* the listeners are watched (not at the connection limit) */
	struct rng rng;           /* for services that need dice (chargen) */
	uint64_t count;           /* requests (datagrams, connections) served */
};

/* One TCP connection of a classic service: what is waiting to be written. */
struct stream_conn {
	int fd;
	uint8_t buf[16384];
	size_t len, off;          /* buf[off..len) still to send */
	uint64_t pos;             /* chargen: position in the pattern */
	bool eof;                 /* the peer closed its side */
	uint32_t watching;        /* the events it is watched for (0: not yet) */
};

/* Opens a non-blocking socket of family and type (SOCK_DGRAM or
 * SOCK_STREAM, then listening with backlog) bound to the wildcard address
 * of that family on port, SO_REUSEADDR set. Returns the descriptor, or -1
 * with a message in err. */
int service_socket(int family, int type, uint16_t port, int backlog, char *err, size_t errlen);

/* Watches fd for sv: from now on the loop hands sv the events of fd
 * (events: POLLIN and/or POLLOUT; 0 still reports POLLERR and POLLHUP),
 * until sv calls service_unwatch or closes fd (closing is enough: the set
 * lets a closed socket go). Called again, it changes the events. */
void service_watch(struct service *sv, int fd, uint32_t events);

/* Stops watching fd (a listener at the connection limit, say). */
void service_unwatch(struct service *sv, int fd);

/* True if the host has IPv6, so services open their AF_INET6 sockets too. */
int service_want_ipv6(void);

/* The services this program knows, NULL-terminated. */
extern struct service *const service_table[];

/* Picks the services named in list ("echo,discard", "all" or "none") into
 * out (at most max). Returns how many, or -1 with a message in err. */
int services_select(const char *list, struct service **out, int max, char *err, size_t errlen);

/* Writes one line per known service for --help, then the services' flags. */
void services_usage(FILE *out);

/* Offers a command-line flag to every known service (see service.option).
 * Returns 1 if one took it, 0 if none did, -1 on an error (printed). */
int services_option(const char *flag, const char *value, int *used_value);

/* Writes one line per service services_run runs, "name<TAB>what\n", into
 * out (the welcome page of the http service lists them). Returns the length
 * (truncated to fit, always NUL-terminated; "" before services_run). */
size_t services_about(char *out, size_t outlen);

/* Starts the services, then serves them until SIGINT/SIGTERM. Returns 0, or
 * -1 after printing why a service could not start. */
int services_run(struct service **sv, int n, uint64_t seed);

#endif

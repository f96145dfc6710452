/* Services a tapstack host can run (--serve echo,discard,chargen,...), each
 * written on the socket API like any app. One loop over net_poll() serves
 * them all: each service lists the descriptors it waits on and handles the
 * ones that are ready. No threads. */
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
	/* Adds the descriptors to wait on (up to max); returns how many. */
	int (*pollfds)(struct service *sv, struct pollfd *fds, int max);
	/* Handles one of its descriptors that has events. */
	void (*handle)(struct service *sv, const struct pollfd *pfd);
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
};

/* Opens a non-blocking socket of family and type (SOCK_DGRAM or
 * SOCK_STREAM, then listening with backlog) bound to the wildcard address
 * of that family on port, SO_REUSEADDR set. Returns the descriptor, or -1
 * with a message in err. */
int service_socket(int family, int type, uint16_t port, int backlog, char *err, size_t errlen);

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

/* Starts the services, then serves them until SIGINT/SIGTERM. Returns 0, or
 * -1 after printing why a service could not start. */
int services_run(struct service **sv, int n, uint64_t seed);

#endif

/* Services a tapstack host can run (--serve echo,discard,chargen,...), each
 * written on the socket API like any app. One loop over net_poll() serves
 * them all: each service lists the descriptors it waits on and handles the
 * ones that are ready. No threads. */
#ifndef TAPSTACK_SERVICE_H
#define TAPSTACK_SERVICE_H

#include <poll.h>
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
	int fd;                   /* the listening socket, for simple services */
	struct rng rng;           /* for services that need dice (chargen) */
	uint64_t count;           /* requests served */
};

/* The services this program knows, NULL-terminated. */
extern struct service *const service_table[];

/* Picks the services named in list ("echo,discard", "all" or "none") into
 * out (at most max). Returns how many, or -1 with a message in err. */
int services_select(const char *list, struct service **out, int max, char *err, size_t errlen);

/* Writes one line per known service for --help. */
void services_usage(FILE *out);

/* Starts the services, then serves them until SIGINT/SIGTERM. Returns 0, or
 * -1 after printing why a service could not start. */
int services_run(struct service **sv, int n, uint64_t seed);

#endif

/* The shim's table (apps/preload/shim.c): which of the program's fds are
 * tapstack sockets. Each such fd is a placeholder (one end of a Unix
 * datagram socketpair) and maps to a struct tsock that holds the net_*
 * descriptor; fds made by dup, dup2, dup3 and F_DUPFD share one tsock, as
 * Linux's share one open socket, and the last close closes it.
 *
 * Pure bookkeeping (no system call), so tests/check_preload.c tests it
 * alone. Not thread-safe by itself: the shim holds its lock around every
 * call except fdmap_peek. */
#ifndef TAPSTACK_FDMAP_H
#define TAPSTACK_FDMAP_H

#include <stdbool.h>
#include <stdint.h>

/* fds at or above this are never placeholders (the shim refuses them
 * with EMFILE). */
#define FDMAP_MAX 65536
/* The datagram that makes a placeholder not writable (shim.c, the top). */
#define FDMAP_BLOCK_BYTES 2048

struct tsock {
	int nfd;                  /* the net_* descriptor */
	int own;                  /* the shim's own dup of the placeholder end */
	int peer;                 /* the socketpair's other end */
	int refs;                 /* program fds that map here */
	int domain, type;         /* AF_INET or AF_INET6; SOCK_STREAM or SOCK_DGRAM */
	bool nonblock;            /* O_NONBLOCK, shared by dups as in Linux */
	bool listening;
	bool mir_r, mir_w;        /* what the placeholder shows now */
	int reuseport;            /* SO_REUSEPORT as set (no effect) */
	int64_t rcvtimeo_ms, sndtimeo_ms; /* SO_RCVTIMEO, SO_SNDTIMEO; 0: forever */
	struct tsock *next, *prev; /* every live tsock, for the loop's mirroring */
};

struct fdmap {
	struct tsock *slot[FDMAP_MAX];
	struct tsock *all;
	int count;                /* live tsocks */
};

void fdmap_init(struct fdmap *m);

/* Whether fd may be a tapstack socket, without the lock (an atomic read):
 * a false answer is final for fds the program owns. */
bool fdmap_peek(const struct fdmap *m, int fd);

/* The tsock of fd, or NULL. */
struct tsock *fdmap_get(const struct fdmap *m, int fd);

/* A new tsock for placeholder fd (refs 1, blocking, mirror: not readable,
 * writable). NULL if fd is out of range, already mapped, or no memory. */
struct tsock *fdmap_add(struct fdmap *m, int fd, int nfd, int own, int peer);

/* fd becomes one more name of ts (dup). false if fd is out of range or
 * already mapped. */
bool fdmap_ref(struct fdmap *m, int fd, struct tsock *ts);

/* fd is closed: its slot is emptied. Returns true when that was the last
 * fd of its tsock (the caller closes the socket, then fdmap_forget). */
bool fdmap_unref(struct fdmap *m, int fd);

/* Frees ts, emptying every slot still naming it. */
void fdmap_forget(struct fdmap *m, struct tsock *ts);

#endif

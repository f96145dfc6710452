/* The shim that tapstack-run preloads (LD_PRELOAD) into an unmodified
 * program, so that the program's AF_INET and AF_INET6 sockets are tapstack
 * sockets on a host of its own (apps/README.md, "Run your own programs over
 * tapstack", says what is interposed and the limits).
 *
 * The design, in four parts:
 *
 *   the host    opened at the process's first IPv4/IPv6 socket or name
 *               lookup (shim_start), from the host flags tapstack-run left
 *               in TAPSTACK_RUN_FLAGS (the same parser every app uses,
 *               stack/host.c), and driven by one background thread
 *               (shim_loop) that sleeps in ppoll on the TAP, the control
 *               socket and a wake-up eventfd, then runs the stack;
 *   one lock    every call into the stack, from the program's threads or
 *               from the loop thread, holds shim_mu: the core stays
 *               single-threaded (stack/README.md, decision 1);
 *   placeholders every tapstack socket is also a real fd, one end of a
 *               Unix datagram socketpair, so its number never collides with
 *               the program's files; a table maps it to the net_* descriptor;
 *   mirroring   the placeholder is made readable and writable exactly when
 *               the tapstack socket is (shim_mirror, after every call and
 *               every turn of the loop), so the kernel's own poll, select and
 *               epoll work on sets that mix both kinds of fds, and a blocking
 *               call waits by polling its placeholder (never spinning).
 *
 * Readable: one byte sits in the placeholder's receive queue. Not writable:
 * a 2 KB datagram sent from the placeholder waits unread at the other end,
 * more than a quarter of the placeholder's (minimum) send buffer, which is
 * when Linux stops calling a Unix datagram socket writable. Every net_*
 * socket is non-blocking underneath; the program's own O_NONBLOCK decides
 * whether the shim waits. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "apps/lib/resolver.h"
#include "apps/preload/fdmap.h"
#include "stack/ctl.h"
#include "stack/host.h"
#include "stack/net.h"

#define EXPORT __attribute__((visibility("default")))

/* Linux's TCP keepalive options (<netinet/tcp.h> clashes with tcp/tcp_fsm.h). */
#ifndef TCP_KEEPIDLE
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#endif

/* ---- The real functions (the next definition after ours: libc's) ------ */

#define REAL(name) real_##name
#define DECLARE_REAL(ret, name, ...) static ret (*real_##name)(__VA_ARGS__)
DECLARE_REAL(int, socket, int, int, int);
DECLARE_REAL(int, bind, int, const struct sockaddr *, socklen_t);
DECLARE_REAL(int, listen, int, int);
DECLARE_REAL(int, accept, int, struct sockaddr *, socklen_t *);
DECLARE_REAL(int, accept4, int, struct sockaddr *, socklen_t *, int);
DECLARE_REAL(int, connect, int, const struct sockaddr *, socklen_t);
DECLARE_REAL(ssize_t, read, int, void *, size_t);
DECLARE_REAL(ssize_t, write, int, const void *, size_t);
DECLARE_REAL(ssize_t, readv, int, const struct iovec *, int);
DECLARE_REAL(ssize_t, writev, int, const struct iovec *, int);
DECLARE_REAL(ssize_t, send, int, const void *, size_t, int);
DECLARE_REAL(ssize_t, recv, int, void *, size_t, int);
DECLARE_REAL(ssize_t, sendto, int, const void *, size_t, int, const struct sockaddr *, socklen_t);
DECLARE_REAL(ssize_t, recvfrom, int, void *, size_t, int, struct sockaddr *, socklen_t *);
DECLARE_REAL(ssize_t, sendmsg, int, const struct msghdr *, int);
DECLARE_REAL(ssize_t, recvmsg, int, struct msghdr *, int);
DECLARE_REAL(long, syscall, long, ...);
DECLARE_REAL(int, sendmmsg, int, struct mmsghdr *, unsigned int, int);
DECLARE_REAL(int, recvmmsg, int, struct mmsghdr *, unsigned int, int, struct timespec *);
DECLARE_REAL(int, close, int);
DECLARE_REAL(int, shutdown, int, int);
DECLARE_REAL(int, getsockname, int, struct sockaddr *, socklen_t *);
DECLARE_REAL(int, getpeername, int, struct sockaddr *, socklen_t *);
DECLARE_REAL(int, getsockopt, int, int, int, void *, socklen_t *);
DECLARE_REAL(int, setsockopt, int, int, int, const void *, socklen_t);
DECLARE_REAL(int, fcntl, int, int, ...);
DECLARE_REAL(int, ioctl, int, unsigned long, ...);
DECLARE_REAL(int, dup, int);
DECLARE_REAL(int, dup2, int, int);
DECLARE_REAL(int, dup3, int, int, int);
DECLARE_REAL(int, getaddrinfo, const char *, const char *, const struct addrinfo *,
	     struct addrinfo **);
DECLARE_REAL(void, freeaddrinfo, struct addrinfo *);

static void *next_symbol(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p) {
		fprintf(stderr, "tapstack-run: cannot find %s in libc\n", name);
		abort();
	}
	return p;
}

#define RESOLVE(name) (real_##name = next_symbol(#name))

static void resolve_all(void)
{
	RESOLVE(socket); RESOLVE(bind); RESOLVE(listen); RESOLVE(accept); RESOLVE(accept4);
	RESOLVE(connect); RESOLVE(read); RESOLVE(write); RESOLVE(readv); RESOLVE(writev);
	RESOLVE(send); RESOLVE(recv); RESOLVE(sendto); RESOLVE(recvfrom); RESOLVE(sendmsg);
	RESOLVE(recvmsg); RESOLVE(syscall); RESOLVE(sendmmsg); RESOLVE(recvmmsg); RESOLVE(close); RESOLVE(shutdown); RESOLVE(getsockname);
	RESOLVE(getpeername); RESOLVE(getsockopt); RESOLVE(setsockopt); RESOLVE(fcntl);
	RESOLVE(ioctl); RESOLVE(dup); RESOLVE(dup2); RESOLVE(dup3); RESOLVE(getaddrinfo);
	RESOLVE(freeaddrinfo);
}

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
#define ENSURE() pthread_once(&resolve_once, resolve_all)

/* ---- The host and its loop thread ---------------------------------------- */

static struct host shim_host;
static bool shim_up;                 /* the host is open */
static pthread_mutex_t shim_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t shim_turned;   /* broadcast after each turn of the loop */
static pthread_t shim_thread;
static int shim_wakefd = -1;         /* eventfd: wakes the loop early */
static int64_t shim_sleep_until;     /* when the loop's current sleep ends */
static bool shim_stopping;
static bool shim_dead;              /* in a forked child */
static bool shim_wanted;            /* started by tapstack-run */
static struct fdmap shim_map;

/* Set in a thread while it runs the stack (it holds shim_mu, or opens the
 * host, or is the loop thread): the library's own socket, read, write and
 * close calls (the TAP, the control socket, the pcap) then go straight to
 * libc, not back into the shim. */
static __thread int shim_inside;

static void mu_lock(void)
{
	pthread_mutex_lock(&shim_mu);
	shim_inside = 1;
}

static void mu_unlock(void)
{
	shim_inside = 0;
	pthread_mutex_unlock(&shim_mu);
}

/* The loop slept on a deadline that a call may have moved earlier (a SYN
 * sent, a timer armed): wake it so it sleeps again on the new one. Called
 * with shim_mu held. */
static void shim_maybe_wake(void)
{
	int64_t d = stack_next_deadline(&shim_host.s);
	if (d != STACK_NO_DEADLINE && d < shim_sleep_until) {
		uint64_t one = 1;
		if (REAL(write)(shim_wakefd, &one, sizeof(one)) < 0)
			return; /* already signalled: the counter is non-zero */
		shim_sleep_until = d;
	}
}

/* Makes the placeholder's readiness equal the tapstack socket's (see the
 * top of the file). Called with shim_mu held. */
static void shim_mirror(struct tsock *ts)
{
	struct pollfd p = { .fd = ts->nfd, .events = POLLIN | POLLOUT };
	net_poll(&p, 1, 0);
	/* An error or a hang-up makes a call return at once: both ways ready,
	 * so a program that polls calls it (and reads SO_ERROR). */
	bool r = p.revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL);
	bool w = p.revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL);
	char buf[FDMAP_BLOCK_BYTES];
	if (r != ts->mir_r) {
		if (r)
			REAL(send)(ts->peer, "r", 1, MSG_DONTWAIT);
		else
			while (REAL(recv)(ts->own, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
		ts->mir_r = r;
	}
	if (w != ts->mir_w) {
		if (w) {
			while (REAL(recv)(ts->peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
		} else {
			memset(buf, 0, sizeof(buf));
			REAL(send)(ts->own, buf, sizeof(buf), MSG_DONTWAIT);
		}
		ts->mir_w = w;
	}
}

static void shim_mirror_all(void)
{
	for (struct tsock *ts = shim_map.all; ts; ts = ts->next)
		shim_mirror(ts);
}

/* The loop thread: host_loop_once (stack/loop.c) with one more fd to wake
 * on, and the lock taken while the stack runs. */
static void *shim_loop(void *arg)
{
	(void)arg;
	struct host *h = &shim_host;
	mu_lock();
	shim_inside = 1; /* for good: this thread only runs the stack */
	while (!shim_stopping) {
		int64_t now = host_clock_now();
		int64_t wait = 1000000;
		int64_t d = stack_next_deadline(&h->s);
		if (d != STACK_NO_DEADLINE && d - now < wait)
			wait = d - now < 0 ? 0 : d - now;
		if (wait > 0)
			netdev_flush(h->dev);
		shim_sleep_until = now + wait;
		struct pollfd pfd[3] = {
			{ .fd = netdev_fd(h->dev), .events = POLLIN },
			{ .fd = shim_wakefd, .events = POLLIN },
			{ .fd = h->ctl_fd, .events = POLLIN },
		};
		mu_unlock();
		struct timespec ts = { .tv_sec = wait / 1000000, .tv_nsec = (wait % 1000000) * 1000 };
		int r = ppoll(pfd, h->ctl_fd >= 0 ? 3 : 2, &ts, NULL);
		mu_lock();
		if (r > 0 && (pfd[1].revents & POLLIN)) {
			uint64_t v;
			if (REAL(read)(shim_wakefd, &v, sizeof(v)) < 0)
				v = 0;
		}
		stack_poll(&h->s, host_clock_now());
		if (r > 0 && h->ctl_fd >= 0 && (pfd[2].revents & POLLIN))
			ctl_serve(&h->s, h->ctl_fd);
		shim_mirror_all();
		pthread_cond_broadcast(&shim_turned);
	}
	mu_unlock();
	return NULL;
}

/* How a net_* call that waits inside the stack (the resolver's queries,
 * an IPv6 source in duplicate address detection) waits: on the loop's
 * turns, the lock let go meanwhile. Called with shim_mu held. */
static void shim_driver_wait(void *ctx, int64_t max_wait_us)
{
	(void)ctx;
	shim_maybe_wake();
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = ts.tv_nsec + (max_wait_us % 1000000) * 1000;
	ts.tv_sec += max_wait_us / 1000000 + ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	pthread_cond_timedwait(&shim_turned, &shim_mu, &ts);
}

static int64_t shim_driver_now(void *ctx)
{
	(void)ctx;
	return host_clock_now();
}

/* The host flags, as tapstack-run left them: one string, the flags
 * separated by the ASCII unit separator (0x1f). */
#define SHIM_FLAGS_ENV "TAPSTACK_RUN_FLAGS"
#define SHIM_MAX_FLAGS 64

static void shim_die(const char *what)
{
	fprintf(stderr, "tapstack-run: %s\n", what);
	_exit(125);
}

/* Opens the host, at the process's first IPv4 or IPv6 socket or name
 * lookup (not before main: a wrapper script, a shell, or a process that
 * never talks over IP opens none, and the program a shell starts next
 * gets the TAP in its turn), and starts the loop thread. A failure is
 * said on stderr and ends the process: the program asked for tapstack's
 * network, and the kernel's is not the one it was promised. */
static void shim_start(void)
{
	const char *env = getenv(SHIM_FLAGS_ENV);
	if (!env || shim_dead)
		return; /* preloaded by hand, not by tapstack-run: stay out of the way */
	static char flags[4096];
	if (strlen(env) >= sizeof(flags))
		shim_die("the host flags are too long");
	strcpy(flags, env);
	char *argv[SHIM_MAX_FLAGS + 2];
	int argc = 0;
	argv[argc++] = "tapstack-run";
	for (char *p = flags; *p && argc < SHIM_MAX_FLAGS + 1;) {
		argv[argc++] = p;
		char *sep = strchr(p, '\x1f');
		if (!sep)
			break;
		*sep = '\0';
		p = sep + 1;
	}
	argv[argc] = NULL;

	struct host_opts o;
	host_opts_init(&o);
	for (int i = 1; i < argc; i++)
		if (host_opts_parse(&o, "tapstack-run", argc, argv, &i) != 1)
			_exit(2); /* tapstack-run checked them; printed already */
	if (host_opts_check(&o, "tapstack-run") < 0)
		_exit(2);

	/* host_open takes SIGINT and SIGTERM for the stack's own programs
	 * (blocked, to be caught in its loop): give them back to the program. */
	struct sigaction old_int, old_term;
	sigset_t old_mask;
	sigaction(SIGINT, NULL, &old_int);
	sigaction(SIGTERM, NULL, &old_term);
	pthread_sigmask(SIG_SETMASK, NULL, &old_mask);
	char err[256];
	shim_inside = 1;
	int opened = host_open(&shim_host, &o, err, sizeof(err));
	shim_inside = 0;
	if (opened < 0)
		shim_die(err); /* e.g. another program has the TAP: host_open says so */
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);

	struct net_driver d = { .wait = shim_driver_wait, .now = shim_driver_now };
	net_attach(&shim_host.s, &d);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&shim_turned, &ca);
	shim_wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (shim_wakefd < 0)
		shim_die("eventfd failed");
	fdmap_init(&shim_map);

	/* The loop thread takes no signal: they are the program's. */
	sigset_t all, prev;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &prev);
	if (pthread_create(&shim_thread, NULL, shim_loop, NULL) != 0)
		shim_die("cannot start the stack's thread");
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	__atomic_store_n(&shim_up, true, __ATOMIC_RELEASE);
}

static pthread_once_t start_once = PTHREAD_ONCE_INIT;

/* A forked child has the table but not the loop thread (and maybe a lock
 * another thread held): its inherited tapstack sockets are dead, and its
 * new ones are the kernel's (apps/README.md, the limits). */
static void shim_after_fork(void)
{
	shim_dead = true;
	shim_up = false;
}

__attribute__((constructor)) static void shim_init(void)
{
	ENSURE();
	shim_wanted = getenv(SHIM_FLAGS_ENV) != NULL;
	pthread_atfork(NULL, NULL, shim_after_fork);
}

/* How long the host lingers at exit for its connections to finish: data a
 * program wrote just before it exited is still in the send buffer, and the
 * kernel would go on sending it after the process is gone. */
#define SHIM_LINGER_MS 10000

/* At exit (return from main or exit()): closes the program's sockets
 * gracefully, waits (bounded) until their data and FIN are acknowledged,
 * then stops the loop and closes the host (the pcap flushed, the control
 * socket removed). */
__attribute__((destructor)) static void shim_fini(void)
{
	if (!shim_up || shim_dead)
		return;
	mu_lock();
	struct tsock *ts;
	while ((ts = shim_map.all) != NULL) {
		net_close(ts->nfd);
		fdmap_forget(&shim_map, ts);
	}
	shim_maybe_wake();
	int64_t end = host_clock_now() + (int64_t)SHIM_LINGER_MS * 1000;
	struct tcp_table *t = &shim_host.s.tcp;
	while (t->count > t->time_wait && host_clock_now() < end)
		shim_driver_wait(NULL, 100000);
	shim_stopping = true;
	uint64_t one = 1;
	if (REAL(write)(shim_wakefd, &one, sizeof(one)) < 0)
		one = 0;
	mu_unlock();
	pthread_join(shim_thread, NULL);
	shim_up = false;
	shim_inside = 1;
	host_close(&shim_host);
}

/* ---- The socket table ------------------------------------------------------ */

/* The tapstack socket behind fd, with shim_mu taken; NULL (and the lock not
 * taken) if fd is the kernel's. The first look is without the lock: the
 * library's own read() on the TAP, from the loop thread, passes straight. */
static struct tsock *shim_lock(int fd)
{
	if (shim_inside || !shim_up || !fdmap_peek(&shim_map, fd))
		return NULL;
	mu_lock();
	struct tsock *ts = fdmap_get(&shim_map, fd);
	if (!ts)
		mu_unlock();
	return ts;
}

/* Ends a call: mirrors the socket's new readiness, wakes the loop if a
 * timer moved, lets go of the lock, and turns a net_* result (a negative
 * errno) into libc's (-1 and errno). */
static long shim_done(struct tsock *ts, long r)
{
	if (ts)
		shim_mirror(ts);
	shim_maybe_wake();
	mu_unlock();
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* Waits until the placeholder of ts shows events (or timeout_ms passes,
 * < 0: forever), the lock let go. Returns 0, -EAGAIN on timeout, -EINTR. */
static int shim_wait(struct tsock *ts, short events, int timeout_ms)
{
	struct pollfd p = { .fd = ts->own, .events = events };
	mu_unlock();
	int r = poll(&p, 1, timeout_ms);
	int e = errno;
	mu_lock();
	if (r < 0)
		return e == EINTR ? -EINTR : -e;
	return r == 0 ? -EAGAIN : 0;
}

/* A new placeholder for net descriptor nfd; returns the program's fd or a
 * negative errno (the net socket is closed then). */
static int shim_adopt_fd(int nfd, int domain, int type, bool nonblock, bool cloexec)
{
	int one = 1;
	net_setsockopt(nfd, SOL_SOCKET, SO_NONBLOCK, &one, sizeof(one));
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		int e = errno;
		net_close(nfd);
		return -e;
	}
	int small = 1; /* the kernel's minimum send buffer (see the top) */
	REAL(setsockopt)(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	int own = REAL(fcntl)(sv[0], F_DUPFD_CLOEXEC, 0);
	if (own < 0 || sv[0] >= FDMAP_MAX) {
		int e = own < 0 ? errno : EMFILE;
		if (own >= 0)
			REAL(close)(own);
		REAL(close)(sv[0]);
		REAL(close)(sv[1]);
		net_close(nfd);
		return -e;
	}
	if (!cloexec)
		REAL(fcntl)(sv[0], F_SETFD, 0);
	if (nonblock)
		REAL(fcntl)(sv[0], F_SETFL, O_NONBLOCK);
	struct tsock *ts = fdmap_add(&shim_map, sv[0], nfd, own, sv[1]);
	if (!ts) {
		REAL(close)(own);
		REAL(close)(sv[0]);
		REAL(close)(sv[1]);
		net_close(nfd);
		return -ENOMEM;
	}
	ts->domain = domain;
	ts->type = type;
	ts->nonblock = nonblock;
	shim_mirror(ts);
	return sv[0];
}

/* shim_adopt_fd, counted. */
static int shim_adopt(int nfd, int domain, int type, bool nonblock, bool cloexec)
{
	int r = shim_adopt_fd(nfd, domain, type, nonblock, cloexec);
	/* Counted in tapctl stats: a peer's connections each cost the program
	 * three fds here (the placeholder, its dup, the other end); when the
	 * process has none left (RLIMIT_NOFILE, or FDMAP_MAX), the socket is
	 * closed and the call fails with EMFILE, as Linux's accept does. */
	net_count(&shim_host.s, r >= 0 ? "preload.sockets" : "preload.no_placeholder");
	return r;
}

/* Drops one program fd of ts; the last one closes the tapstack socket and
 * the placeholder's other fds. Called with shim_mu held; fd is already
 * closed (or reused) in the kernel. */
static void shim_release(int fd)
{
	struct tsock *ts = fdmap_get(&shim_map, fd);
	if (!ts)
		return;
	if (fdmap_unref(&shim_map, fd)) {
		net_close(ts->nfd);
		REAL(close)(ts->own);
		REAL(close)(ts->peer);
		fdmap_forget(&shim_map, ts);
	}
}

/* ---- The calls ----------------------------------------------------------- */

static bool shim_family(int domain)
{
	return domain == AF_INET || domain == AF_INET6;
}

EXPORT int socket(int domain, int type, int protocol)
{
	ENSURE();
	if (shim_inside)
		return REAL(socket)(domain, type, protocol);
	if (shim_family(domain))
		pthread_once(&start_once, shim_start);
	if (!shim_up || !shim_family(domain))
		return REAL(socket)(domain, type, protocol);
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (base == SOCK_RAW) {
		fprintf(stderr, "tapstack-run: raw sockets are not supported (only TCP and UDP)\n");
		errno = EPROTONOSUPPORT;
		return -1;
	}
	mu_lock();
	int nfd = net_socket(domain, base, protocol);
	long r = nfd < 0 ? nfd
			 : shim_adopt(nfd, domain, base, type & SOCK_NONBLOCK, type & SOCK_CLOEXEC);
	return (int)shim_done(NULL, r);
}

EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(bind)(fd, addr, len);
	return (int)shim_done(ts, net_bind(ts->nfd, addr, len));
}

EXPORT int listen(int fd, int backlog)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(listen)(fd, backlog);
	int r = net_listen(ts->nfd, backlog);
	if (r == 0)
		ts->listening = true;
	return (int)shim_done(ts, r);
}

/* The wait of a blocking call: SO_RCVTIMEO or SO_SNDTIMEO (0: forever). */
static int shim_timeout_ms(int64_t timeo_ms)
{
	return timeo_ms > 0 ? (int)timeo_ms : -1;
}

EXPORT int accept4(int fd, struct sockaddr *from, socklen_t *fromlen, int flags)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(accept4)(fd, from, fromlen, flags);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return (int)shim_done(ts, -EINVAL);
	for (;;) {
		int r = net_accept(ts->nfd, from, fromlen);
		if (r >= 0) {
			r = shim_adopt(r, ts->domain, ts->type, flags & SOCK_NONBLOCK,
				       flags & SOCK_CLOEXEC);
			return (int)shim_done(ts, r);
		}
		if (r != -EAGAIN || ts->nonblock)
			return (int)shim_done(ts, r);
		shim_mirror(ts);
		if ((r = shim_wait(ts, POLLIN, shim_timeout_ms(ts->rcvtimeo_ms))) < 0)
			return (int)shim_done(ts, r);
		if (!(ts = fdmap_get(&shim_map, fd)))
			return (int)shim_done(NULL, -EBADF);
	}
}

EXPORT int accept(int fd, struct sockaddr *from, socklen_t *fromlen)
{
	return accept4(fd, from, fromlen, 0);
}

/* Before a connect or a send over IPv6: lets duplicate address detection
 * of the host's new addresses end (net.h, net_wait_ipv6_ready; at most
 * NET_DAD_WAIT_MS, once in a host's life). The host is as new as the
 * program, so without this every IPv6 client would fail at start: its
 * socket underneath does not block, and gets -ENETUNREACH while the only
 * source is tentative. A non-blocking program's first call waits too,
 * which it would not on Linux (apps/README.md, the limits). */
static void shim_ipv6_ready(struct tsock *ts)
{
	static bool ready;
	if (ts->domain == AF_INET6 && !ready && net_wait_ipv6_ready(NET_DAD_WAIT_MS) == 0)
		ready = true;
}

EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(connect)(fd, addr, len);
	shim_ipv6_ready(ts);
	int r = net_connect(ts->nfd, addr, len);
	if (r != -EINPROGRESS || ts->nonblock)
		return (int)shim_done(ts, r);
	/* Blocking: wait for the handshake's end, as connect(2) does. */
	for (;;) {
		shim_mirror(ts);
		int w = shim_wait(ts, POLLOUT, shim_timeout_ms(ts->sndtimeo_ms));
		if (!(ts = fdmap_get(&shim_map, fd)))
			return (int)shim_done(NULL, -EBADF);
		if (w == -EAGAIN)
			return (int)shim_done(ts, -EINPROGRESS); /* Linux: timed out */
		if (w < 0)
			return (int)shim_done(ts, w);
		int e = 0;
		socklen_t el = sizeof(e);
		net_getsockopt(ts->nfd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e)
			return (int)shim_done(ts, -e);
		/* No error pending: asking again says where the handshake is
		 * (-EISCONN: done; -EALREADY: still going; else how it ended). */
		int again = net_connect(ts->nfd, addr, len);
		if (again == -EISCONN)
			return (int)shim_done(ts, 0);
		if (again != -EALREADY && again != -EINPROGRESS)
			return (int)shim_done(ts, again);
	}
}

/* The flags net_* takes; MSG_NOSIGNAL is the shim's (no SIGPIPE), and
 * MSG_WAITALL too (a loop here). */
#define SHIM_NET_FLAGS (MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC)

/* recv(2) on a tapstack socket, every receive call's common part. */
static ssize_t shim_recvfrom(struct tsock *ts, int fd, void *buf, size_t len, int flags,
			     struct sockaddr *from, socklen_t *fromlen)
{
	size_t got = 0;
	bool waitall = (flags & MSG_WAITALL) && ts->type == SOCK_STREAM && !(flags & MSG_PEEK);
	for (;;) {
		ssize_t r = net_recvfrom(ts->nfd, (char *)buf + got, len - got,
					 flags & SHIM_NET_FLAGS, from, fromlen);
		if (r > 0 && waitall && got + (size_t)r < len) {
			got += (size_t)r;
			continue;
		}
		if (r >= 0)
			return shim_done(ts, (long)(got + (size_t)r));
		if (r != -EAGAIN || ts->nonblock || (flags & MSG_DONTWAIT))
			return shim_done(ts, got ? (long)got : r);
		shim_mirror(ts);
		int w = shim_wait(ts, POLLIN, shim_timeout_ms(ts->rcvtimeo_ms));
		if (!(ts = fdmap_get(&shim_map, fd)))
			return shim_done(NULL, got ? (long)got : -EBADF);
		if (w < 0)
			return shim_done(ts, got ? (long)got : w);
	}
}

/* send(2) on a tapstack socket: a blocking TCP send returns when all of
 * buf is queued, as Linux's. -EPIPE raises SIGPIPE unless MSG_NOSIGNAL. */
static ssize_t shim_sendto(struct tsock *ts, int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *to, socklen_t tolen)
{
	size_t sent = 0;
	if (ts->type == SOCK_STREAM)
		to = NULL, tolen = 0; /* Linux's TCP ignores a destination */
	shim_ipv6_ready(ts);
	for (;;) {
		ssize_t r = net_sendto(ts->nfd, (const char *)buf + sent, len - sent,
				       flags & SHIM_NET_FLAGS, to, tolen);
		if (r >= 0) {
			sent += (size_t)r;
			if (sent == len || ts->type != SOCK_STREAM || ts->nonblock ||
			    (flags & MSG_DONTWAIT))
				return shim_done(ts, (long)sent);
			r = -EAGAIN;
		}
		if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
			pthread_kill(pthread_self(), SIGPIPE);
		if (r != -EAGAIN || ts->nonblock || (flags & MSG_DONTWAIT))
			return shim_done(ts, sent ? (long)sent : r);
		shim_mirror(ts);
		int w = shim_wait(ts, POLLOUT, shim_timeout_ms(ts->sndtimeo_ms));
		if (!(ts = fdmap_get(&shim_map, fd)))
			return shim_done(NULL, sent ? (long)sent : -EBADF);
		if (w < 0)
			return shim_done(ts, sent ? (long)sent : w);
	}
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
			socklen_t *fromlen)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(recvfrom)(fd, buf, len, flags, from, fromlen);
	return shim_recvfrom(ts, fd, buf, len, flags, from, fromlen);
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(recv)(fd, buf, len, flags);
	return shim_recvfrom(ts, fd, buf, len, flags, NULL, NULL);
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(read)(fd, buf, len);
	return shim_recvfrom(ts, fd, buf, len, 0, NULL, NULL);
}

/* The fortified variants (_FORTIFY_SOURCE programs call these). */
EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
			      struct sockaddr *from, socklen_t *fromlen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		      socklen_t tolen)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(sendto)(fd, buf, len, flags, to, tolen);
	return shim_sendto(ts, fd, buf, len, flags, to, tolen);
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(send)(fd, buf, len, flags);
	return shim_sendto(ts, fd, buf, len, flags, NULL, 0);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(write)(fd, buf, len);
	return shim_sendto(ts, fd, buf, len, 0, NULL, 0);
}

/* Scatter and gather: gathered into one buffer (a datagram must stay
 * one), scattered back. Small and plain rather than fast. */
#define SHIM_IOV_MAX_BYTES (256 * 1024)

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;
	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

static ssize_t shim_sendmsg_iov(struct tsock *ts, int fd, const struct iovec *iov, int n,
				int flags, const struct sockaddr *to, socklen_t tolen)
{
	size_t total = iov_total(iov, n);
	if (n < 0 || n > IOV_MAX)
		return shim_done(ts, -EINVAL);
	if (total > SHIM_IOV_MAX_BYTES)
		total = SHIM_IOV_MAX_BYTES; /* a short write, as a stream allows */
	char *buf = malloc(total ? total : 1);
	if (!buf)
		return shim_done(ts, -ENOBUFS);
	size_t off = 0;
	for (int i = 0; i < n && off < total; i++) {
		size_t c = iov[i].iov_len < total - off ? iov[i].iov_len : total - off;
		memcpy(buf + off, iov[i].iov_base, c);
		off += c;
	}
	ssize_t r = shim_sendto(ts, fd, buf, total, flags, to, tolen);
	free(buf);
	return r;
}

static ssize_t shim_recvmsg_iov(struct tsock *ts, int fd, const struct iovec *iov, int n,
				int flags, struct sockaddr *from, socklen_t *fromlen)
{
	if (n < 0 || n > IOV_MAX)
		return shim_done(ts, -EINVAL);
	size_t total = iov_total(iov, n);
	if (total > SHIM_IOV_MAX_BYTES)
		total = SHIM_IOV_MAX_BYTES;
	char *buf = malloc(total ? total : 1);
	if (!buf)
		return shim_done(ts, -ENOBUFS);
	ssize_t r = shim_recvfrom(ts, fd, buf, total, flags, from, fromlen);
	size_t off = 0, have = r > 0 ? (size_t)r : 0;
	if (have > total)
		have = total; /* MSG_TRUNC: the datagram's real length */
	for (int i = 0; i < n && off < have; i++) {
		size_t c = iov[i].iov_len < have - off ? iov[i].iov_len : have - off;
		memcpy(iov[i].iov_base, buf + off, c);
		off += c;
	}
	int e = errno;
	free(buf);
	errno = e;
	return r;
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(writev)(fd, iov, n);
	return shim_sendmsg_iov(ts, fd, iov, n, 0, NULL, 0);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(readv)(fd, iov, n);
	return shim_recvmsg_iov(ts, fd, iov, n, 0, NULL, NULL);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(sendmsg)(fd, m, flags);
	if (m->msg_controllen) /* ancillary data: none is supported */
		return shim_done(ts, -EOPNOTSUPP);
	return shim_sendmsg_iov(ts, fd, m->msg_iov, (int)m->msg_iovlen, flags, m->msg_name,
				m->msg_namelen);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(recvmsg)(fd, m, flags);
	socklen_t nl = m->msg_name ? m->msg_namelen : 0;
	ssize_t r = shim_recvmsg_iov(ts, fd, m->msg_iov, (int)m->msg_iovlen, flags,
				     m->msg_name ? m->msg_name : NULL, m->msg_name ? &nl : NULL);
	if (r >= 0) {
		m->msg_namelen = nl;
		m->msg_controllen = 0; /* no ancillary data */
		m->msg_flags = 0;
		if (ts->type == SOCK_DGRAM && (size_t)r > iov_total(m->msg_iov, (int)m->msg_iovlen))
			m->msg_flags |= MSG_TRUNC;
	}
	return r;
}

/* sendmmsg and recvmmsg (libuv's UDP, so dig): one message at a time
 * through sendmsg and recvmsg; after the first, the rest do not wait.
 * recvmmsg's timeout is not supported (NULL only, as libuv passes). */
EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	ENSURE();
	if (shim_inside || !shim_up || !fdmap_peek(&shim_map, fd))
		return REAL(sendmmsg)(fd, v, n, flags);
	unsigned int i;
	for (i = 0; i < n; i++) {
		ssize_t r = sendmsg(fd, &v[i].msg_hdr, i ? flags | MSG_DONTWAIT : flags);
		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
	}
	return (int)i;
}

EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *t)
{
	ENSURE();
	if (shim_inside || !shim_up || !fdmap_peek(&shim_map, fd))
		return REAL(recvmmsg)(fd, v, n, flags, t);
	if (t) {
		errno = EOPNOTSUPP;
		return -1;
	}
	unsigned int i;
	for (i = 0; i < n; i++) {
		ssize_t r = recvmsg(fd, &v[i].msg_hdr, i ? flags | MSG_DONTWAIT : flags);
		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
	}
	return (int)i;
}

/* libuv (so dig) calls sendmmsg and recvmmsg through syscall(2): those
 * two, on a tapstack socket, come here; every other call goes on to the
 * kernel with its six argument words as they were. */
EXPORT long syscall(long nr, ...)
{
	ENSURE();
	va_list ap;
	va_start(ap, nr);
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if ((nr == SYS_sendmmsg || nr == SYS_recvmmsg) && !shim_inside && shim_up &&
	    fdmap_peek(&shim_map, (int)a[0])) {
		if (nr == SYS_sendmmsg)
			return sendmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3]);
		return recvmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3],
				(struct timespec *)a[4]);
	}
	return REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

EXPORT int shutdown(int fd, int how)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(shutdown)(fd, how);
	return (int)shim_done(ts, net_shutdown(ts->nfd, how));
}

EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(getsockname)(fd, addr, len);
	return (int)shim_done(ts, net_getsockname(ts->nfd, addr, len));
}

EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(getpeername)(fd, addr, len);
	return (int)shim_done(ts, net_getpeername(ts->nfd, addr, len));
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len || *len < sizeof(int))
		return -EINVAL;
	memcpy(val, &v, sizeof(v));
	*len = sizeof(int);
	return 0;
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(getsockopt)(fd, level, name, val, len);
	/* What the shim knows itself (Linux answers these for any socket). */
	if (level == SOL_SOCKET && name == SO_DOMAIN)
		return (int)shim_done(ts, put_int(val, len, ts->domain));
	if (level == SOL_SOCKET && name == SO_PROTOCOL)
		return (int)shim_done(ts, put_int(val, len, ts->type == SOCK_STREAM ? IPPROTO_TCP
										    : IPPROTO_UDP));
	if (level == SOL_SOCKET && name == SO_ACCEPTCONN)
		return (int)shim_done(ts, put_int(val, len, ts->listening));
	if (level == SOL_SOCKET && name == SO_REUSEPORT)
		return (int)shim_done(ts, put_int(val, len, ts->reuseport));
	return (int)shim_done(ts, net_getsockopt(ts->nfd, level, name, val, len));
}

static int64_t timeval_ms(const void *val, socklen_t len)
{
	struct timeval tv;
	if (len < sizeof(tv))
		return -1;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -1;
	int64_t ms = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
	return ms > INT32_MAX ? INT32_MAX : ms;
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(setsockopt)(fd, level, name, val, len);
	if (level == SOL_SOCKET && name == SO_NONBLOCK)
		return (int)shim_done(ts, -ENOPROTOOPT); /* tapstack's own number, not Linux's */
	/* SO_REUSEPORT: remembered and answered, not acted on (tapstack has
	 * no load balancing across sockets): netcat sets it on every listener. */
	if (level == SOL_SOCKET && name == SO_REUSEPORT) {
		if (!val || len < sizeof(int))
			return (int)shim_done(ts, -EINVAL);
		memcpy(&ts->reuseport, val, sizeof(int));
		return (int)shim_done(ts, 0);
	}
	/* The keepalive timing: tapstack's is fixed (tcp/README.md); accepted
	 * so curl and others that tune it go on. */
	if (level == IPPROTO_TCP && (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL ||
				     name == TCP_KEEPCNT) && ts->type == SOCK_STREAM)
		return (int)shim_done(ts, val && len >= sizeof(int) ? 0 : -EINVAL);
	int r = net_setsockopt(ts->nfd, level, name, val, len);
	if (r == 0 && level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
		int64_t ms = timeval_ms(val, len);
		if (name == SO_RCVTIMEO)
			ts->rcvtimeo_ms = ms;
		else
			ts->sndtimeo_ms = ms;
	}
	return (int)shim_done(ts, r);
}

EXPORT int close(int fd)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(close)(fd);
	int r = REAL(close)(fd);
	int e = errno;
	shim_release(fd);
	shim_maybe_wake();
	mu_unlock();
	errno = e;
	return r;
}

/* A new fd newfd for the socket behind fd (after the kernel's dup made it):
 * one more reference. Called with shim_mu held. */
static void shim_dup_ref(struct tsock *ts, int newfd)
{
	if (newfd >= 0 && !fdmap_ref(&shim_map, newfd, ts)) {
		REAL(close)(newfd); /* beyond the table: as if no fd were left */
		errno = EMFILE;
	}
}

EXPORT int dup(int fd)
{
	ENSURE();
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(dup)(fd);
	int r = REAL(dup)(fd);
	int e = errno;
	shim_dup_ref(ts, r);
	if (r >= 0 && !fdmap_get(&shim_map, r))
		r = -1, e = EMFILE;
	mu_unlock();
	errno = e;
	return r;
}

/* dup2 and dup3: newfd may itself be a tapstack socket, which the kernel
 * closes silently: the shim lets go of it too. */
static int shim_dup3(int fd, int newfd, int flags, bool is_dup2)
{
	ENSURE();
	if (shim_inside || !shim_up ||
	    (!fdmap_peek(&shim_map, fd) && !fdmap_peek(&shim_map, newfd)))
		return is_dup2 ? REAL(dup2)(fd, newfd) : REAL(dup3)(fd, newfd, flags);
	mu_lock();
	struct tsock *ts = fdmap_get(&shim_map, fd);
	int r = is_dup2 ? REAL(dup2)(fd, newfd) : REAL(dup3)(fd, newfd, flags);
	int e = errno;
	if (r >= 0 && fd != newfd) {
		shim_release(newfd);
		if (ts)
			shim_dup_ref(ts, newfd);
	}
	shim_maybe_wake();
	mu_unlock();
	errno = e;
	return r;
}

EXPORT int dup2(int fd, int newfd)
{
	return shim_dup3(fd, newfd, 0, true);
}

EXPORT int dup3(int fd, int newfd, int flags)
{
	return shim_dup3(fd, newfd, flags, false);
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	ENSURE();
	va_list ap;
	va_start(ap, cmd);
	/* Every fcntl command takes an int, a pointer or nothing; a long holds
	 * either on Linux's ABIs. */
	long arg = va_arg(ap, long);
	va_end(ap);
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(fcntl)(fd, cmd, arg);
	int r = REAL(fcntl)(fd, cmd, arg);
	int e = errno;
	if (r >= 0 && cmd == F_SETFL)
		ts->nonblock = (arg & O_NONBLOCK) != 0;
	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {
		shim_dup_ref(ts, r);
		if (!fdmap_get(&shim_map, r))
			r = -1, e = EMFILE;
	}
	mu_unlock();
	errno = e;
	return r;
}

EXPORT int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

/* Linux's FIONREAD: bytes waiting on a stream (here up to what one peek
 * shows), the next datagram's length on UDP. */
#define SHIM_FIONREAD_PEEK (256 * 1024)

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	ENSURE();
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	struct tsock *ts = shim_lock(fd);
	if (!ts)
		return REAL(ioctl)(fd, req, arg);
	if (req == FIONBIO) {
		int r = REAL(ioctl)(fd, req, arg); /* the placeholder's flag too, for F_GETFL */
		if (r == 0)
			ts->nonblock = *(int *)arg != 0;
		return (int)shim_done(ts, r < 0 ? -errno : 0);
	}
	if (req == FIONREAD) {
		static char peek[SHIM_FIONREAD_PEEK];
		ssize_t n = net_recvfrom(ts->nfd, peek, sizeof(peek),
					 MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC, NULL, NULL);
		if (n == -EAGAIN || n == -ENOTCONN)
			n = 0;
		if (n >= 0)
			*(int *)arg = (int)n;
		return (int)shim_done(ts, n < 0 ? n : 0);
	}
	return (int)shim_done(ts, -ENOTTY);
}

/* ---- Names: getaddrinfo through tapstack's resolver --------------------- */

/* The lists net_getaddrinfo made (freed by net_freeaddrinfo), told from
 * libc's by their first node. */
#define SHIM_GAI_MAX 64
static struct addrinfo *shim_gai[SHIM_GAI_MAX];

static bool is_literal(const char *name)
{
	struct in6_addr a;
	return inet_pton(AF_INET, name, &a) == 1 || inet_pton(AF_INET6, name, &a) == 1;
}

EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	ENSURE();
	struct addrinfo h = { 0 };
	if (hints)
		h = *hints;
	if (!shim_wanted || shim_dead || shim_inside)
		return REAL(getaddrinfo)(node, service, hints, res);
	if (!node || !is_literal(node))
		pthread_once(&start_once, shim_start);
	if (!shim_up || (node && is_literal(node))) {
		/* A literal: libc parses it; AI_ADDRCONFIG would ask the
		 * kernel's interfaces, which are not this host's. */
		h.ai_flags &= ~AI_ADDRCONFIG;
		return REAL(getaddrinfo)(node, service, &h, res);
	}
	if (!node) {
		/* The wildcard or the loopback: IPv4 first, so that a server
		 * that binds the first answer (python -m http.server) is
		 * reachable over IPv4; tapstack's IPv6 sockets are IPv6-only. */
		h.ai_flags &= ~AI_ADDRCONFIG;
		if (h.ai_family != AF_UNSPEC)
			return REAL(getaddrinfo)(node, service, &h, res);
		h.ai_family = AF_INET;
		int r = REAL(getaddrinfo)(node, service, &h, res);
		if (r != 0)
			return r;
		mu_lock();
		int v6 = net_family_available(AF_INET6);
		mu_unlock();
		struct addrinfo *more = NULL;
		h.ai_family = AF_INET6;
		if (v6 && REAL(getaddrinfo)(node, service, &h, &more) == 0) {
			struct addrinfo *last = *res;
			while (last->ai_next)
				last = last->ai_next;
			last->ai_next = more; /* libc frees node by node */
		}
		return 0;
	}
	if (h.ai_flags & AI_NUMERICHOST)
		return EAI_NONAME;
	mu_lock();
	int r = net_getaddrinfo(node, service, &h, res);
	if (r == 0) {
		int i = 0;
		while (i < SHIM_GAI_MAX && shim_gai[i])
			i++;
		if (i == SHIM_GAI_MAX) {
			net_freeaddrinfo(*res);
			r = EAI_MEMORY;
		} else {
			shim_gai[i] = *res;
		}
	}
	mu_unlock();
	return r;
}

EXPORT void freeaddrinfo(struct addrinfo *ai)
{
	ENSURE();
	if (shim_up && ai && !shim_inside) {
		mu_lock();
		for (int i = 0; i < SHIM_GAI_MAX; i++) {
			if (shim_gai[i] == ai) {
				shim_gai[i] = NULL;
				net_freeaddrinfo(ai);
				mu_unlock();
				return;
			}
		}
		mu_unlock();
	}
	REAL(freeaddrinfo)(ai);
}

/* The event loop of a host on a real TAP: the only code that reads the
 * clock. It waits in ppoll() on the device and the control socket until the
 * next deadline, then gives the stack the time (stack/README.md, decision 1).
 * Blocking socket calls wait through the same loop (the "driver"). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "stack/ctl.h"
#include "stack/host.h"
#include "stack/net.h"

#define LOOP_MAX_WAIT_US 1000000 /* wake at least once a second */

int64_t host_clock_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t host_clock_epoch_offset(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - host_clock_now();
}

/* Set by SIGINT and SIGTERM. They are blocked except while the loop sleeps
 * in ppoll(), so a signal always ends a wait instead of being missed. */
static volatile sig_atomic_t stop_requested;
static sigset_t wait_mask;
static int signals_installed;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void host_catch_signals(void)
{
	if (signals_installed)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	signals_installed = 1;
}

int host_stop_requested(void)
{
	return stop_requested;
}

/* One turn: sleep until a frame, a control client or the next deadline
 * (max_wait_us at most), then give the stack the time. */
void host_loop_once(struct host *h, int64_t max_wait_us)
{
	int64_t now = host_clock_now();
	int64_t wait = max_wait_us;
	int64_t deadline = stack_next_deadline(&h->s);
	if (deadline != STACK_NO_DEADLINE && deadline - now < wait)
		wait = deadline - now < 0 ? 0 : deadline - now;
	if (wait > 0)
		netdev_flush(h->dev); /* about to sleep: write the pcap out */

	struct pollfd pfd[STACK_MAX_IFS + 1];
	int n = 0, ci = -1;
	int dfd = netdev_fd(h->dev);
	if (dfd >= 0)
		pfd[n++] = (struct pollfd){ .fd = dfd, .events = POLLIN };
	for (int i = 0; i < h->nmore; i++) /* a router's other interfaces (--tap again) */
		if ((dfd = netdev_fd(h->more[i])) >= 0)
			pfd[n++] = (struct pollfd){ .fd = dfd, .events = POLLIN };
	if (h->ctl_fd >= 0) {
		ci = n;
		pfd[n++] = (struct pollfd){ .fd = h->ctl_fd, .events = POLLIN };
	}
	struct timespec ts = { .tv_sec = wait / 1000000, .tv_nsec = (wait % 1000000) * 1000 };
	int r = ppoll(pfd, (nfds_t)n, &ts, signals_installed ? &wait_mask : NULL);

	/* Frames first, then timers: stack_poll reads a burst from the device
	 * (if the TAP still holds more, the next ppoll returns at once). */
	stack_poll(&h->s, host_clock_now());
	if (r > 0 && ci >= 0 && (pfd[ci].revents & POLLIN))
		ctl_serve(&h->s, h->ctl_fd);
}

int host_run(struct host *h)
{
	host_catch_signals();
	while (!stop_requested)
		host_loop_once(h, LOOP_MAX_WAIT_US);
	TRACE(&h->s, "stopping on a signal");
	return 0;
}

/* The driver that blocking socket calls wait with (see net.h). */
static void driver_wait(void *ctx, int64_t max_wait_us)
{
	host_loop_once(ctx, max_wait_us);
}

static int64_t driver_now(void *ctx)
{
	(void)ctx;
	return host_clock_now();
}

static int driver_interrupted(void *ctx)
{
	(void)ctx;
	return stop_requested;
}

void host_attach_sockets(struct host *h)
{
	struct net_driver d = {
		.wait = driver_wait,
		.now = driver_now,
		.interrupted = driver_interrupted,
		.ctx = h,
	};
	net_attach(&h->s, &d);
}

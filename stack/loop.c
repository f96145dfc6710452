/* The event loop of a host on a real TAP: the only code that reads the
 * clock. It waits in ppoll() on the device and the control socket until the
 * next deadline, then gives the stack the time (ARCHITECTURE.md decision 1). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "stack/ctl.h"
#include "stack/host.h"

#define LOOP_MAX_WAIT_US 1000000 /* wake at least once a second (pcap flush) */

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

/* The signal mask ppoll() waits with: the caller's, so that SIGINT and
 * SIGTERM (blocked everywhere else by host_run) interrupt only the wait. */
static sigset_t wait_mask;
static int wait_mask_set;

void host_loop_once(struct host *h, int64_t max_wait_us)
{
	int64_t now = host_clock_now();
	int got = stack_poll(&h->s, now);

	int64_t wait = max_wait_us;
	if (got >= STACK_RX_BURST)
		wait = 0; /* the device may hold more frames: read them first */
	int64_t deadline = stack_next_deadline(&h->s);
	if (deadline != STACK_NO_DEADLINE) {
		int64_t until = deadline - now;
		if (until < wait)
			wait = until < 0 ? 0 : until;
	}
	if (wait > 0)
		netdev_flush(h->dev); /* about to sleep: write the pcap out */

	struct pollfd pfd[2];
	int n = 0;
	int dfd = netdev_fd(h->dev);
	if (dfd >= 0)
		pfd[n++] = (struct pollfd){ .fd = dfd, .events = POLLIN };
	int ci = -1;
	if (h->ctl_fd >= 0) {
		ci = n;
		pfd[n++] = (struct pollfd){ .fd = h->ctl_fd, .events = POLLIN };
	}
	struct timespec ts = { .tv_sec = wait / 1000000, .tv_nsec = (wait % 1000000) * 1000 };
	int r = ppoll(pfd, (nfds_t)n, &ts, wait_mask_set ? &wait_mask : NULL);
	if (r > 0 && ci >= 0 && (pfd[ci].revents & POLLIN)) {
		h->s.now = host_clock_now();
		ctl_serve(&h->s, h->ctl_fd);
	}
}

static volatile sig_atomic_t *stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	if (stop_flag)
		*stop_flag = 1;
}

int host_run(struct host *h, volatile sig_atomic_t *stop)
{
	sigset_t block;
	stop_flag = stop;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	wait_mask_set = 1;
	while (!*stop)
		host_loop_once(h, LOOP_MAX_WAIT_US);
	TRACE(&h->s, "stopping on a signal");
	return 0;
}

/* Two hosts on a simlink, on virtual time. See sim.h. */
#include "tests/sim.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sim_init(struct sim *sim, const struct impair_cfg *cfg, uint64_t seed)
{
	static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 }, mac_b[6] = { 2, 0, 0, 0, 0, 2 };
	memset(sim, 0, sizeof(*sim));
	ck_assert_uint_eq(pkt_in_use(), 0);
	sim->link = simlink_new(cfg, seed);
	ck_assert_ptr_nonnull(sim->link);
	stack_init(&sim->a, "A", seed);
	stack_init(&sim->b, "B", seed + 1);
	if (getenv("TAPSTACK_TEST_TRACE"))
		sim->a.trace = sim->b.trace = stderr;
	struct netif *ia = stack_add_netif(&sim->a, simlink_end(sim->link, 0), mac_a);
	struct netif *ib = stack_add_netif(&sim->b, simlink_end(sim->link, 1), mac_b);
	stack_set_ipv4(&sim->a, ia, SIM_A_IP, 24);
	stack_set_ipv4(&sim->b, ib, SIM_B_IP, 24);
	stack_start(&sim->a, 0);
	stack_start(&sim->b, 0);
}

void sim_fini(struct sim *sim)
{
	net_close_all(&sim->a);
	net_close_all(&sim->b);
	net_attach(NULL, NULL);
	stack_fini(&sim->a);
	stack_fini(&sim->b);
	simlink_free(sim->link);
	ck_assert_uint_eq(pkt_in_use(), 0);
}

void sim_run_until(struct sim *sim, int64_t t)
{
	for (int guard = 0; guard < 10000000; guard++) {
		int64_t da = stack_next_deadline(&sim->a), db = stack_next_deadline(&sim->b);
		int64_t d = da < db ? da : db;
		if (d > t)
			break;
		sim->now = d > sim->now ? d : sim->now + 1;
		stack_poll(&sim->a, sim->now);
		stack_poll(&sim->b, sim->now);
	}
	if (t > sim->now)
		sim->now = t;
	stack_poll(&sim->a, sim->now);
	stack_poll(&sim->b, sim->now);
}

/* The next event of either host, or max_us on (see sim.h). */
void sim_step(struct sim *sim, int64_t max_us)
{
	int64_t da = stack_next_deadline(&sim->a), db = stack_next_deadline(&sim->b);
	int64_t d = da < db ? da : db;
	int64_t t = sim->now + max_us;
	if (d < t)
		t = d > sim->now ? d : sim->now + 1;
	sim_run_until(sim, t);
}

/* A wait of the socket API: time moves to the next event (a frame due, a
 * timer), or by max_wait_us if nothing is due before. */
static void sim_wait(void *ctx, int64_t max_wait_us)
{
	sim_step(ctx, max_wait_us);
}

static int64_t sim_now(void *ctx)
{
	return ((struct sim *)ctx)->now;
}

void sim_attach(struct sim *sim, struct stack *s)
{
	struct net_driver d = { .wait = sim_wait, .now = sim_now, .ctx = sim };
	net_attach(s, &d);
}

int sim_accept(int lfd)
{
	int fd = net_accept(lfd, NULL, NULL);
	if (fd >= 0) {
		int one = 1;
		net_setsockopt(fd, SOL_SOCKET, SO_NONBLOCK, &one, sizeof(one));
	}
	return fd;
}

/* One side of a transfer (see sim.h). */
void sim_side_step(struct sim_side *sd)
{
	uint8_t buf[16384];
	uint64_t total = sd->total;
	while (!sd->shut_wr && sd->sent < total) {
		if (sd->off == sd->len) { /* the next piece of the stream */
			size_t n = sizeof(sd->out);
			if (n > total - sd->sent)
				n = total - sd->sent;
			for (size_t k = 0; k < n; k++)
				sd->out[k] = sim_stream_byte(sd->who, sd->sent + k);
			sd->off = 0;
			sd->len = n;
		}
		ssize_t r = net_send(sd->fd, sd->out + sd->off, sd->len - sd->off, 0);
		if (r <= 0)
			break;
		sd->off += (size_t)r;
		sd->sent += (uint64_t)r;
	}
	if (!sd->shut_wr && sd->sent == total) {
		net_shutdown(sd->fd, SHUT_WR);
		sd->shut_wr = true;
	}
	while (!sd->eof) {
		ssize_t r = net_recv(sd->fd, buf, sizeof(buf), 0);
		if (r == -EAGAIN)
			break;
		if (r <= 0) {
			sd->eof = true;
			if (r < 0)
				sd->bad = true;
			break;
		}
		for (ssize_t k = 0; k < r; k++)
			if (buf[k] != sim_stream_byte(!sd->who, sd->received + (uint64_t)k))
				sd->bad = true;
		sd->received += (uint64_t)r;
	}
	if (sd->eof && sd->shut_wr && !sd->closed) {
		net_close(sd->fd);
		sd->closed = true;
	}
}

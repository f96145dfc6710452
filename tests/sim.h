/* Two hosts, A (10.0.0.1, 02:00:00:00:00:01) and B (10.0.0.2,
 * 02:00:00:00:00:02), joined by a simlink on virtual time, for the
 * simulated tests. The socket API can run on them: sim_attach() installs a
 * driver whose waits advance virtual time for both hosts. */
#ifndef TAPSTACK_TEST_SIM_H
#define TAPSTACK_TEST_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "link/simlink.h"
#include "stack/net.h"
#include "stack/stack.h"

#define SIM_A_IP 0x0a000001u /* 10.0.0.1 */
#define SIM_B_IP 0x0a000002u /* 10.0.0.2 */

struct sim {
	struct stack a, b;
	struct simlink *link;
	int64_t now;
};

/* Builds both hosts on a link with cfg (NULL: a perfect wire), seeded. */
void sim_init(struct sim *sim, const struct impair_cfg *cfg, uint64_t seed);

/* Closes both hosts' sockets, frees everything, asserts the pool is empty. */
void sim_fini(struct sim *sim);

/* Runs both hosts up to time t, waking them at every deadline on the way. */
void sim_run_until(struct sim *sim, int64_t t);

/* Makes the socket API create sockets on host s (sim->a or sim->b), with
 * blocking calls advancing the simulation. */
void sim_attach(struct sim *sim, struct stack *s);

/* Runs both hosts to the next deadline of either, or max_us on, whichever
 * comes first (and at least 1 us on). */
void sim_step(struct sim *sim, int64_t max_us);

/* A connection accepted on the listening socket lfd, made non-blocking, or
 * -1 if none is waiting. */
int sim_accept(int lfd);

/* Byte i of the stream that host `who` sends in a two-way transfer:
 * depends on both, so a byte delivered to the wrong place or the wrong host
 * is seen. */
static inline uint8_t sim_stream_byte(int who, uint64_t i)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ull + (uint64_t)who * 0x632be59bd9b4e019ull;
	return (uint8_t)(x >> 56 ^ i);
}

/* One end of a two-way transfer over the socket API: sends total bytes of
 * its own stream, reads the other one's and checks every byte. */
struct sim_side {
	int fd;
	int who;            /* 0 = A, 1 = B: whose stream it sends */
	uint64_t total;     /* bytes it sends */
	uint64_t sent, received;
	bool shut_wr, eof, closed, bad;
	uint8_t out[16384]; /* out[off..len) is generated and waits for the socket */
	size_t off, len;
};

/* Moves whatever the socket can take and whatever it holds; shuts down its
 * sending side once total bytes are sent, closes once both ways are done.
 * Sets bad on a wrong byte or a receive error. */
void sim_side_step(struct sim_side *sd);

#endif

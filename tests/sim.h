/* Two hosts, A (10.0.0.1, 02:00:00:00:00:01) and B (10.0.0.2,
 * 02:00:00:00:00:02), joined by a simlink on virtual time, for the
 * simulated tests. The socket API can run on them: sim_attach() installs a
 * driver whose waits advance virtual time for both hosts. */
#ifndef TAPSTACK_TEST_SIM_H
#define TAPSTACK_TEST_SIM_H

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

#endif

/* Inside the socket layer itself: what its three files share and nobody
 * else uses (protocols use socket.h, apps net.h).
 *
 *   socket.c       owns the descriptor table, the current host and the
 *                  driver; the calls (net_socket ... net_close) and waiting
 *   socket_poll.c  readiness: net_poll and the epoll sets
 *   socket_opt.c   options: net_setsockopt, net_getsockopt
 */
#ifndef TAPSTACK_SOCKET_INTERNAL_H
#define TAPSTACK_SOCKET_INTERNAL_H

#include <stdint.h>

#include "stack/net.h"
#include "stack/socket.h"

/* The descriptor table (socket.c): descriptor NET_FD_BASE + i is
 * socket_table[i] (NULL: free); no slot at or above socket_table_high was
 * ever used, so a pass over every socket stops there. */
extern struct socket *socket_table[NET_MAX_SOCKETS];
extern int socket_table_high;

/* The host new sockets go to (net_attach), or NULL. */
struct stack *socket_current_host(void);

/* Why socket_alloc just failed: -EMFILE (no descriptor left) or -ENOBUFS. */
int socket_alloc_error(void);

/* Waiting, by running the driver (socket.c). socket_wait_deadline: the
 * absolute deadline of a wait of timeo_us (0: none, INT64_MAX).
 * socket_wait_once: waits once, until deadline at most; returns 0 to try
 * again, -EAGAIN when the deadline has passed (or there is no driver),
 * -EINTR when the program is asked to stop. */
int64_t socket_wait_deadline(int64_t timeo_us);
int socket_wait_once(int64_t deadline);

/* Takes so out of its epoll set (socket_poll.c); net_close calls it. */
void socket_epoll_leave(struct socket *so);

#endif

/* The control socket: a Unix stream socket on which a host answers one
 * command per connection ("stats", "neigh", "addrs", "routes",
 * "sockets", "memory", "firewall", "help": stack_report in stack/stack.c) with text,
 * for tapctl. */
#ifndef TAPSTACK_CTL_H
#define TAPSTACK_CTL_H

#include <stddef.h>

struct stack;

/* Creates the listening socket at path (replacing a stale file). Returns
 * the fd, or -1 with the reason in err. */
int ctl_listen(const char *path, char *err, size_t errlen);

/* Accepts one client on lfd, reads its command line, writes the answer
 * (stack_report) and closes the connection. Never blocks for long: a
 * client gets CTL_CLIENT_TIMEOUT_MS to send its command. */
void ctl_serve(struct stack *s, int lfd);

#define CTL_CLIENT_TIMEOUT_MS 200
#define CTL_MAX_COMMAND 64

#endif

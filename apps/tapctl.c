/* tapctl: looks inside a running tapstack host through its control socket,
 * in the spirit of `ip neigh`, `ip route` and `nstat`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "stack/host.h"

static void usage(FILE *out)
{
	fputs("usage: tapctl [--ctl PATH] COMMAND\n"
	      "\n"
	      "Asks a running tapstack host for its state.\n"
	      "\n"
	      "Commands:\n"
	      "  stats    every counter, drop reasons by name (e.g. ip.bad_checksum 3)\n"
	      "  neigh    the ARP and NDP caches: address, MAC, state, age, packets waiting\n"
	      "  addrs    the IPv6 addresses: origin (link-local, static, slaac), state\n"
	      "           (tentative, preferred, deprecated, duplicate), lifetimes, and the\n"
	      "           multicast groups joined (MLDv2); the RA's MTU and hop limit\n"
	      "  routes   the routing table, then the path MTU cache (RFC 8201, RFC 1191)\n"
	      "  sockets  TCP connections like ss -tanoi: state, queues, sequence numbers,\n"
	      "           windows, RTT, RTO, retransmissions, cwnd\n"
	      "  memory   the stack's own bytes for TCP: control blocks, the ring buffers\n"
	      "           they have allocated, sockets; bytes per control block\n"
	      "  firewall the filter's rules with the packets and bytes each decided,\n"
	      "           then the flows it tracks: state, age, idle, expiry, packets\n"
	      "  dhcp     the DHCP client of a host started with --ip dhcp: state, lease,\n"
	      "           server, router, DNS, T1, T2 and the seconds left to each\n"
	      "\n"
	      "Options:\n"
	      "  --ctl PATH   the host's control socket (default: that of the host labs/run-host\n"
	      "               started in namespace $TAPSTACK_NS, " HOST_CTL_DIR "-$TAPSTACK_NS/tap0.ctl;\n"
	      "               without $TAPSTACK_NS, or with \"tapstack\", " HOST_CTL_DIR "/tap0.ctl)\n"
	      "  --help       this text\n"
	      "  --version    the version\n",
	      out);
}

/* The control socket of the host labs/run-host starts in the lab namespace
 * $TAPSTACK_NS: each namespace has its own run directory, /run/tapstack for
 * the default one, /run/tapstack-NS for another (labs/net, labs/run-host). */
static const char *default_ctl(void)
{
	static char path[108];
	const char *ns = getenv("TAPSTACK_NS");
	if (!ns || !*ns || strcmp(ns, "tapstack") == 0 || strlen(ns) > 64 ||
	    strspn(ns, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
		    strlen(ns))
		return HOST_CTL_DIR "/tap0.ctl";
	snprintf(path, sizeof(path), HOST_CTL_DIR "-%s/tap0.ctl", ns);
	return path;
}

int main(int argc, char **argv)
{
	const char *path = default_ctl();
	const char *cmd = NULL;
	for (int i = 1; i < argc; i++) {
		if (host_std_flag("tapctl", argv[i], usage)) {
			return 0;
		} else if (strcmp(argv[i], "--ctl") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tapctl: --ctl needs a path (see --help)\n");
				return 2;
			}
			path = argv[++i];
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "tapctl: unknown option '%s' (see tapctl --help)\n", argv[i]);
			return 2;
		} else if (cmd) {
			fprintf(stderr, "tapctl: one command at a time (got '%s' and '%s')\n", cmd, argv[i]);
			return 2;
		} else {
			cmd = argv[i];
		}
	}
	if (!cmd) {
		fprintf(stderr, "tapctl: which command? stats, neigh, addrs, routes, sockets, memory, firewall or dhcp (see --help)\n");
		return 2;
	}
	if (strcmp(cmd, "stats") && strcmp(cmd, "neigh") && strcmp(cmd, "addrs") && strcmp(cmd, "routes") &&
	    strcmp(cmd, "sockets") && strcmp(cmd, "memory") && strcmp(cmd, "firewall") &&
	    strcmp(cmd, "dhcp")) {
		fprintf(stderr, "tapctl: unknown command '%s'; use stats, neigh, addrs, routes, sockets, memory, firewall or dhcp\n",
			cmd);
		return 2;
	}

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "tapctl: path too long: %s\n", path);
		return 2;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "tapctl: cannot reach a host at %s: %s (is tapstack running? start it with "
			"'sudo make run', or pass --ctl with the path it was given%s%s)\n",
			path, strerror(errno), getenv("TAPSTACK_NS") ? "; TAPSTACK_NS is " : "",
			getenv("TAPSTACK_NS") ? getenv("TAPSTACK_NS") : "");
		return 1;
	}
	dprintf(fd, "%s\n", cmd);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}

/* tapstack: one stack host on one TAP device.
 *
 * It answers ARP and ping on its address, writes a pcap if asked, traces
 * every decision with --trace, and serves a control socket for tapctl.
 * Run it inside the lab namespace: labs/net exec build/tapstack --tap tap0 ... */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "apps/lib/service.h"
#include "stack/host.h"

static void usage(FILE *out)
{
	fputs("usage: tapstack --tap NAME --ip ADDR/LEN [options]\n"
	      "\n"
	      "Runs one host of the tapstack TCP/IP stack on an existing TAP device until\n"
	      "SIGINT or SIGTERM. It answers ARP and ICMP echo (ping) on its address, and\n"
	      "runs the services chosen with --serve.\n"
	      "The TAP must exist in the namespace it runs in; the lab makes one:\n"
	      "  labs/net up && labs/net exec build/tapstack --tap tap0 --ip 10.0.0.2/24 --gw 10.0.0.1\n"
	      "\n",
	      out);
	host_opts_usage(out);
	fputs("\nServices:\n"
	      "  --serve LIST      comma-separated services to run (default: all), or none:\n",
	      out);
	services_usage(out);
	fputs("\nOther options:\n"
	      "  --help            this text\n"
	      "  --version         the version\n"
	      "\nLook inside a running host with: tapctl --ctl PATH stats|neigh|addrs|routes|sockets|memory|firewall\n",
	      out);
}

int main(int argc, char **argv)
{
	struct host_opts o;
	const char *serve = "all";
	host_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		int r = host_opts_parse(&o, "tapstack", argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (host_std_flag("tapstack", argv[i], usage))
			return 0;
		if (strcmp(argv[i], "--serve") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tapstack: --serve needs a list, e.g. --serve echo,discard (see --help)\n");
				return 2;
			}
			serve = argv[++i];
			continue;
		}
		int used = 0;
		int sr = services_option(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &used);
		if (sr < 0)
			return 2;
		if (sr > 0) {
			i += used;
			continue;
		}
		fprintf(stderr, "tapstack: unknown option '%s' (see tapstack --help)\n", argv[i]);
		return 2;
	}
	if (host_opts_check(&o, "tapstack") < 0)
		return 2;
	struct service *services[16];
	char err[256];
	int nserv = services_select(serve, services, 16, err, sizeof(err));
	if (nserv < 0) {
		fprintf(stderr, "tapstack: --serve: %s\n", err);
		return 2;
	}

	struct host h;
	if (host_open(&h, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "tapstack: %s\n", err);
		return 1;
	}
	char a[IP4_STRLEN], m[ETH_MAC_STRLEN], a6[IPADDR_STRLEN + 16] = "";
	if (o.has_ip6) {
		char t[IPADDR_STRLEN];
		snprintf(a6, sizeof(a6), " and %s/%d", ipaddr_ntop(&o.ip6, t, sizeof(t)), o.ip6_prefix);
	}
	fprintf(stderr, "tapstack: host %s/%d%s lladdr %s on %s%s%s%s%s, seed %llu\n",
		ip4_ntop(o.ip4, a), o.ip4_prefix, a6, mac_ntop(o.mac, m), o.tap,
		o.pcap ? ", pcap " : "", o.pcap ? o.pcap : "", h.ctl_fd >= 0 ? ", control " : "",
		h.ctl_fd >= 0 ? h.ctl_path : "", (unsigned long long)o.seed);

	for (int i = 0; i < o.nmore; i++) /* --tap again: the other interfaces */
		fprintf(stderr, "tapstack: and %s/%d lladdr %s on %s\n", ip4_ntop(o.more[i].ip4, a),
			o.more[i].ip4_prefix, mac_ntop(o.more[i].mac, m), o.more[i].tap);
	if (o.forward)
		fprintf(stderr, "tapstack: forwarding IPv4 between its %d interfaces (--forward)\n",
			o.nmore + 1);
	for (int i = 0; i < nserv; i++)
		fprintf(stderr, "tapstack: serving %s (%s)\n", services[i]->name, services[i]->what);
	int rc = services_run(services, nserv, o.seed) < 0 ? 1 : 0;
	host_close(&h);
	fprintf(stderr, "tapstack: stopped\n");
	return rc;
}

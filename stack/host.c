/* The common host flags and the setup of a host on a TAP. See host.h. */
#include "stack/host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "link/pcapdev.h"
#include "link/tap.h"
#include "ip/ipv6.h"
#include "stack/ctl.h"
#include "stack/net.h"
#include "tcp/tcp.h"

void host_opts_init(struct host_opts *o)
{
	memset(o, 0, sizeof(*o));
}

void host_opts_usage(FILE *out)
{
	fputs("Host options (every tapstack program takes these):\n"
	      "  --tap NAME        the TAP device to use, e.g. tap0 (required; run inside the lab\n"
	      "                    namespace: labs/net exec PROGRAM ...)\n"
	      "  --ip ADDR/LEN     this host's IPv4 address and prefix, e.g. 10.0.0.2/24 (required)\n"
	      "  --gw ADDR         default gateway, e.g. 10.0.0.1\n"
	      "  --ip6 ADDR/LEN    a static IPv6 address, e.g. fd00::2/64 (a link-local address\n"
	      "                    fe80::/64 + EUI-64 of the MAC is always there)\n"
	      "  --eui64           SLAAC addresses from router advertisements end in the MAC's\n"
	      "                    modified EUI-64 (RFC 4291), e.g. fd00:1::ff:fe00:2, instead\n"
	      "                    of a stable, opaque identifier (RFC 7217, the default)\n"
	      "  --mac MAC         Ethernet address, e.g. 02:00:00:00:00:02\n"
	      "                    (default: 02:00 followed by the four bytes of the IPv4 address)\n"
	      "  --pcap FILE       write every frame in and out to FILE (open with tshark -r or Wireshark)\n"
	      "  --trace           print one line per frame and per decision on stderr\n"
	      "  --no-offload      no checksum or segmentation offload on the TAP: every frame\n"
	      "                    is at most 1514 bytes (--pcap and --impair imply it)\n"
	      "  --impair SPEC     impair the link in both directions, e.g.\n"
	      "                    loss=5%,dup=1%,reorder=2%,corrupt=0.1%,delay=20,jitter=5,rate=10M\n"
	      "                    (delay and jitter in ms, rate in bit/s with k/M/G)\n"
	      "  --seed N          seed of the random generator (default: random); the same seed\n"
	      "                    replays the same ISNs, ports and impairment dice\n"
	      "  --ctl PATH        control socket for tapctl (default " HOST_CTL_DIR "/TAP.ctl;\n"
	      "                    'none' for no socket)\n"
	      "  --rto-min MS      TCP's minimum retransmission timeout in ms (default 200, as\n"
	      "                    Linux; RFC 6298 2.4 says 1000)\n"
	      "  --cc NAME         TCP congestion control of new connections: cubic (RFC 9438),\n"
	      "                    newreno (RFC 6582) or reno (RFC 5681) (default cubic)\n"
	      "  --iw N            TCP initial window in segments, 1 to 100 (default: RFC 6928's,\n"
	      "                    min(10 * MSS, max(2 * MSS, 14600 bytes)))\n"
	      "  --tcp-trace FILE  write one CSV row per TCP event (ACK, loss, RTO, state) to FILE;\n"
	      "                    plot it with tcpplot FILE > plot.svg\n",
	      out);
}

/* Returns the value of flag argv[*i], advancing *i, or NULL after an error. */
static const char *flag_value(const char *prog, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: %s needs a value (see --help)\n", prog, argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

int host_opts_parse(struct host_opts *o, const char *prog, int argc, char **argv, int *i)
{
	const char *f = argv[*i], *v;
	char err[160];
	struct ipaddr a;
	int len;

	if (strcmp(f, "--trace") == 0) {
		o->trace = true;
		return 1;
	}
	if (strcmp(f, "--eui64") == 0) {
		o->eui64 = true;
		return 1;
	}
	if (strcmp(f, "--no-offload") == 0) {
		o->no_offload = true;
		return 1;
	}
	if (strcmp(f, "--tap") && strcmp(f, "--ip") && strcmp(f, "--ip6") && strcmp(f, "--gw") &&
	    strcmp(f, "--mac") && strcmp(f, "--pcap") && strcmp(f, "--impair") &&
	    strcmp(f, "--seed") && strcmp(f, "--ctl") && strcmp(f, "--rto-min") && strcmp(f, "--cc") &&
	    strcmp(f, "--tcp-trace") && strcmp(f, "--iw"))
		return 0;
	if (!(v = flag_value(prog, argc, argv, i)))
		return -1;
	if (strcmp(f, "--tap") == 0) {
		if (!*v || strlen(v) >= 16) {
			fprintf(stderr, "%s: --tap: '%s' is not an interface name (1-15 characters)\n", prog, v);
			return -1;
		}
		o->tap = v;
	} else if (strcmp(f, "--ip") == 0) {
		if (ipaddr_pton_prefix(v, &a, &len) < 0 || a.family != AF_INET || !strchr(v, '/')) {
			fprintf(stderr, "%s: --ip: '%s' is not an IPv4 address with a prefix length, such as 10.0.0.2/24\n",
				prog, v);
			return -1;
		}
		o->ip4 = ipaddr_to_v4(&a);
		o->ip4_prefix = len;
		o->has_ip4 = true;
	} else if (strcmp(f, "--ip6") == 0) {
		if (ipaddr_pton_prefix(v, &a, &len) < 0 || a.family != AF_INET6 ||
		    !strchr(v, '/') || ip6_is_multicast(&a) || ip6_is_unspecified(&a)) {
			fprintf(stderr, "%s: --ip6: '%s' is not a unicast IPv6 address with a prefix "
				"length, such as fd00::2/64\n", prog, v);
			return -1;
		}
		o->ip6 = a;
		o->ip6_prefix = len;
		o->has_ip6 = true;
	} else if (strcmp(f, "--gw") == 0) {
		if (ipaddr_pton(v, &a) < 0 || a.family != AF_INET) {
			fprintf(stderr, "%s: --gw: '%s' is not an IPv4 address, such as 10.0.0.1\n", prog, v);
			return -1;
		}
		o->gw4 = ipaddr_to_v4(&a);
		o->has_gw4 = true;
	} else if (strcmp(f, "--mac") == 0) {
		if (mac_pton(v, o->mac) < 0) {
			fprintf(stderr, "%s: --mac: '%s' is not a MAC address, such as 02:00:00:00:00:02\n", prog, v);
			return -1;
		}
		if (mac_is_multicast(o->mac)) {
			fprintf(stderr, "%s: --mac: '%s' is a group address (lowest bit of the first byte set); "
				"use a unicast one such as 02:00:00:00:00:02\n", prog, v);
			return -1;
		}
		o->has_mac = true;
	} else if (strcmp(f, "--pcap") == 0) {
		o->pcap = v;
	} else if (strcmp(f, "--impair") == 0) {
		if (impair_parse(v, &o->impair, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: --impair: %s\n", prog, err);
			return -1;
		}
	} else if (strcmp(f, "--seed") == 0) {
		char *end;
		errno = 0;
		o->seed = strtoull(v, &end, 0);
		if (errno || !*v || *end || *v == '-') {
			fprintf(stderr, "%s: --seed: '%s' is not a non-negative whole number\n", prog, v);
			return -1;
		}
		o->has_seed = true;
	} else if (strcmp(f, "--rto-min") == 0) {
		char *end;
		errno = 0;
		long ms = strtol(v, &end, 10);
		if (errno || !*v || *end || ms < 1 || ms > TCP_RTO_MAX_US / 1000) {
			fprintf(stderr, "%s: --rto-min: '%s' is not a number of milliseconds from 1 to %d\n",
				prog, v, TCP_RTO_MAX_US / 1000);
			return -1;
		}
		o->rto_min_us = (int64_t)ms * 1000;
	} else if (strcmp(f, "--cc") == 0) {
		if (!tcp_cc_find(v)) {
			fprintf(stderr, "%s: --cc: '%s' is not a congestion control (cubic, newreno, reno)\n",
				prog, v);
			return -1;
		}
		o->cc = v;
	} else if (strcmp(f, "--tcp-trace") == 0) {
		o->tcp_trace = v;
	} else if (strcmp(f, "--iw") == 0) {
		char *end;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (errno || !*v || *end || n < 1 || n > 100) {
			fprintf(stderr, "%s: --iw: '%s' is not a number of segments from 1 to 100\n",
				prog, v);
			return -1;
		}
		o->iw_segs = (uint32_t)n;
	} else {
		o->ctl = v;
	}
	return 1;
}

void host_opts_apply(const struct host_opts *o, struct stack *s)
{
	if (o->rto_min_us > 0)
		s->tcp.rto_min_us = o->rto_min_us;
	if (o->cc && tcp_cc_find(o->cc))
		s->tcp.cc_default = tcp_cc_find(o->cc);
	if (o->iw_segs > 0)
		s->tcp.iw_segs = o->iw_segs;
}

int host_std_flag(const char *prog, const char *arg, void (*usage)(FILE *out))
{
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		usage(stdout);
		return 1;
	}
	if (strcmp(arg, "--version") == 0) {
		printf("%s %s\n", prog, TAPSTACK_VERSION);
		return 1;
	}
	return 0;
}

int host_opts_check(struct host_opts *o, const char *prog)
{
	if (!o->tap) {
		fprintf(stderr, "%s: --tap NAME is required, e.g. --tap tap0 (see --help)\n", prog);
		return -1;
	}
	if (!o->has_ip4) {
		fprintf(stderr, "%s: --ip ADDR/LEN is required, e.g. --ip 10.0.0.2/24 (see --help)\n", prog);
		return -1;
	}
	if (o->has_gw4 && (o->gw4 & ip4_mask(o->ip4_prefix)) != (o->ip4 & ip4_mask(o->ip4_prefix))) {
		fprintf(stderr, "%s: --gw: the gateway must be on the host's own subnet\n", prog);
		return -1;
	}
	if (!o->has_mac) {
		uint8_t m[ETH_ALEN] = { 0x02, 0x00, (uint8_t)(o->ip4 >> 24), (uint8_t)(o->ip4 >> 16),
					(uint8_t)(o->ip4 >> 8), (uint8_t)o->ip4 };
		memcpy(o->mac, m, ETH_ALEN);
	}
	if (!o->ctl) {
		snprintf(o->ctl_default, sizeof(o->ctl_default), "%s/%s.ctl", HOST_CTL_DIR, o->tap);
		o->ctl = o->ctl_default;
	}
	if (!o->has_seed && getrandom(&o->seed, sizeof(o->seed), 0) != sizeof(o->seed))
		o->seed = (uint64_t)getpid() ^ (uint64_t)host_clock_now();
	return 0;
}

int host_open(struct host *h, const struct host_opts *o, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->ctl_fd = -1;
	stack_init(&h->s, "", o->seed);
	host_opts_apply(o, &h->s);
	if (o->trace)
		h->s.trace = stderr;

	/* Offload moves 64 KB per system call (link/tap_vnet.c), but the frames
	 * are then not those of a wire: impair would lose or corrupt 45
	 * segments at once (and a corrupted one could pass unverified), and a
	 * capture would show 64 KB frames with checksums left partial. So a
	 * host with --impair or --pcap sees ordinary frames. */
	bool offload = !o->no_offload && impair_is_none(&o->impair) && !o->pcap;
	struct netdev *dev = tap_open(o->tap, offload, err, errlen);
	if (!dev)
		return -1;
	if (!impair_is_none(&o->impair)) {
		struct netdev *w = impair_wrap(dev, &o->impair, o->seed ^ 0x1badc0deull);
		if (!w) {
			netdev_close(dev);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		dev = w;
	}
	if (o->pcap) {
		struct netdev *w = pcapdev_wrap(dev, o->pcap, host_clock_epoch_offset(), err, errlen);
		if (!w) {
			netdev_close(dev);
			return -1;
		}
		dev = w;
	}
	h->dev = dev;
	h->ifp = stack_add_netif(&h->s, dev, o->mac);
	stack_set_ipv4(&h->s, h->ifp, o->ip4, o->ip4_prefix);
	if (o->has_gw4)
		stack_set_gateway4(&h->s, h->ifp, o->gw4);
	/* IPv6: the link-local address always, the static one when given; both
	 * go through duplicate address detection first (RFC 4862 5.4) */
	h->ifp->ip6.eui64 = o->eui64;
	ndp_if_enable(&h->s, h->ifp);
	if (o->has_ip6)
		ndp_addr_add(&h->s, h->ifp, &o->ip6, o->ip6_prefix); /* checked when parsed */

	if (o->ctl && strcmp(o->ctl, "none") != 0) {
		if (strncmp(o->ctl, HOST_CTL_DIR "/", strlen(HOST_CTL_DIR) + 1) == 0)
			mkdir(HOST_CTL_DIR, 0755);
		h->ctl_fd = ctl_listen(o->ctl, err, errlen);
		if (h->ctl_fd < 0) {
			host_close(h);
			return -1;
		}
		snprintf(h->ctl_path, sizeof(h->ctl_path), "%s", o->ctl);
	}
	if (o->tcp_trace && !(h->s.tcp.tcp_trace = fopen(o->tcp_trace, "w"))) {
		snprintf(err, errlen, "--tcp-trace: cannot write %s: %s", o->tcp_trace,
			 strerror(errno));
		host_close(h);
		return -1;
	}
	if (h->s.tcp.tcp_trace)
		setvbuf(h->s.tcp.tcp_trace, NULL, _IOLBF, 0); /* rows readable while it runs */
	h->s.wall_offset = host_clock_epoch_offset();
	stack_start(&h->s, host_clock_now());
	host_catch_signals();
	host_attach_sockets(h);
	return 0;
}

void host_close(struct host *h)
{
	FILE *tcp_trace = h->s.tcp.tcp_trace;

	net_close_all(&h->s);
	stack_fini(&h->s);
	if (tcp_trace)
		fclose(tcp_trace); /* after the last connection's rows */
	if (h->dev) {
		netdev_flush(h->dev);
		netdev_close(h->dev);
		h->dev = NULL;
	}
	if (h->ctl_fd >= 0) {
		close(h->ctl_fd);
		unlink(h->ctl_path);
		h->ctl_fd = -1;
	}
}

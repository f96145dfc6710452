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

/* One parser per flag: v is the flag's value (NULL for a flag that takes
 * none). Returns 0, or -1 after printing "PROG: --flag: what is wrong". */
typedef int host_flag_parser(struct host_opts *o, const char *prog, const char *v);

static int parse_tap(struct host_opts *o, const char *prog, const char *v)
{
	if (!*v || strlen(v) >= 16) {
		fprintf(stderr, "%s: --tap: '%s' is not an interface name (1-15 characters)\n", prog, v);
		return -1;
	}
	o->tap = v;
	return 0;
}

static int parse_ip(struct host_opts *o, const char *prog, const char *v)
{
	struct ipaddr a;
	int len;

	if (ipaddr_pton_prefix(v, &a, &len) < 0 || a.family != AF_INET || !strchr(v, '/')) {
		fprintf(stderr, "%s: --ip: '%s' is not an IPv4 address with a prefix length, such as 10.0.0.2/24\n",
			prog, v);
		return -1;
	}
	o->ip4 = ipaddr_to_v4(&a);
	o->ip4_prefix = len;
	o->has_ip4 = true;
	return 0;
}

static int parse_gw(struct host_opts *o, const char *prog, const char *v)
{
	struct ipaddr a;

	if (ipaddr_pton(v, &a) < 0 || a.family != AF_INET) {
		fprintf(stderr, "%s: --gw: '%s' is not an IPv4 address, such as 10.0.0.1\n", prog, v);
		return -1;
	}
	o->gw4 = ipaddr_to_v4(&a);
	o->has_gw4 = true;
	return 0;
}

static int parse_ip6(struct host_opts *o, const char *prog, const char *v)
{
	struct ipaddr a;
	int len;

	if (ipaddr_pton_prefix(v, &a, &len) < 0 || a.family != AF_INET6 ||
	    !strchr(v, '/') || ip6_is_multicast(&a) || ip6_is_unspecified(&a)) {
		fprintf(stderr, "%s: --ip6: '%s' is not a unicast IPv6 address with a prefix "
			"length, such as fd00::2/64\n", prog, v);
		return -1;
	}
	o->ip6 = a;
	o->ip6_prefix = len;
	o->has_ip6 = true;
	return 0;
}

static int parse_eui64(struct host_opts *o, const char *prog, const char *v)
{
	(void)prog, (void)v;
	o->eui64 = true;
	return 0;
}

static int parse_mac(struct host_opts *o, const char *prog, const char *v)
{
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
	return 0;
}

static int parse_pcap(struct host_opts *o, const char *prog, const char *v)
{
	(void)prog;
	o->pcap = v;
	return 0;
}

static int parse_trace(struct host_opts *o, const char *prog, const char *v)
{
	(void)prog, (void)v;
	o->trace = true;
	return 0;
}

static int parse_no_offload(struct host_opts *o, const char *prog, const char *v)
{
	(void)prog, (void)v;
	o->no_offload = true;
	return 0;
}

static int parse_impair(struct host_opts *o, const char *prog, const char *v)
{
	char err[160];

	if (impair_parse(v, &o->impair, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: --impair: %s\n", prog, err);
		return -1;
	}
	return 0;
}

static int parse_seed(struct host_opts *o, const char *prog, const char *v)
{
	char *end;

	errno = 0;
	o->seed = strtoull(v, &end, 0);
	if (errno || !*v || *end || *v == '-') {
		fprintf(stderr, "%s: --seed: '%s' is not a non-negative whole number\n", prog, v);
		return -1;
	}
	o->has_seed = true;
	return 0;
}

static int parse_ctl(struct host_opts *o, const char *prog, const char *v)
{
	(void)prog;
	o->ctl = v;
	return 0;
}

static int parse_rto_min(struct host_opts *o, const char *prog, const char *v)
{
	char *end;

	errno = 0;
	long ms = strtol(v, &end, 10);
	if (errno || !*v || *end || ms < 1 || ms > TCP_RTO_MAX_US / 1000) {
		fprintf(stderr, "%s: --rto-min: '%s' is not a number of milliseconds from 1 to %d\n",
			prog, v, TCP_RTO_MAX_US / 1000);
		return -1;
	}
	o->rto_min_us = (int64_t)ms * 1000;
	return 0;
}

static int parse_cc(struct host_opts *o, const char *prog, const char *v)
{
	if (!tcp_cc_find(v)) {
		fprintf(stderr, "%s: --cc: '%s' is not a congestion control (cubic, newreno, reno)\n",
			prog, v);
		return -1;
	}
	o->cc = v;
	return 0;
}

static int parse_iw(struct host_opts *o, const char *prog, const char *v)
{
	char *end;

	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || !*v || *end || n < 1 || n > 100) {
		fprintf(stderr, "%s: --iw: '%s' is not a number of segments from 1 to 100\n",
			prog, v);
		return -1;
	}
	o->iw_segs = (uint32_t)n;
	return 0;
}

static int parse_no_sack(struct host_opts *o, const char *prog, const char *v)
{
	(void)prog;
	(void)v;
	o->no_sack = true;
	return 0;
}

static int parse_tcp_trace(struct host_opts *o, const char *prog, const char *v)
{
	(void)prog;
	o->tcp_trace = v;
	return 0;
}

/* Every common flag, in the order --help lists them: the one table both
 * host_opts_parse and host_opts_usage read, so the help cannot drift from
 * what is parsed. A help text's further lines (after a \n) are indented
 * under its first. */
static const struct host_flag {
	const char *name;               /* "--tap" */
	const char *arg;                /* the value's name in the help, or NULL: takes none */
	host_flag_parser *parse;
	const char *help;
} host_flags[] = {
	{ "--tap", "NAME", parse_tap,
	  "the TAP device to use, e.g. tap0 (required; run inside the lab\n"
	  "namespace: labs/net exec PROGRAM ...)" },
	{ "--ip", "ADDR/LEN", parse_ip,
	  "this host's IPv4 address and prefix, e.g. 10.0.0.2/24 (required)" },
	{ "--gw", "ADDR", parse_gw,
	  "default gateway, e.g. 10.0.0.1" },
	{ "--ip6", "ADDR/LEN", parse_ip6,
	  "a static IPv6 address, e.g. fd00::2/64 (a link-local address\n"
	  "fe80::/64 + EUI-64 of the MAC is always there)" },
	{ "--eui64", NULL, parse_eui64,
	  "SLAAC addresses from router advertisements end in the MAC's\n"
	  "modified EUI-64 (RFC 4291), e.g. fd00:1::ff:fe00:2, instead\n"
	  "of a stable, opaque identifier (RFC 7217, the default)" },
	{ "--mac", "MAC", parse_mac,
	  "Ethernet address, e.g. 02:00:00:00:00:02\n"
	  "(default: 02:00 followed by the four bytes of the IPv4 address)" },
	{ "--pcap", "FILE", parse_pcap,
	  "write every frame in and out to FILE (open with tshark -r or Wireshark)" },
	{ "--trace", NULL, parse_trace,
	  "print one line per frame and per decision on stderr" },
	{ "--no-offload", NULL, parse_no_offload,
	  "no checksum or segmentation offload on the TAP: every frame\n"
	  "is at most 1514 bytes (--pcap and --impair imply it)" },
	{ "--impair", "SPEC", parse_impair,
	  "impair the link in both directions, e.g.\n"
	  "loss=5%,dup=1%,reorder=2%,corrupt=0.1%,delay=20,jitter=5,rate=10M\n"
	  "(delay and jitter in ms, rate in bit/s with k/M/G)" },
	{ "--seed", "N", parse_seed,
	  "seed of the random generator (default: random); the same seed\n"
	  "replays the same ISNs, ports and impairment dice" },
	{ "--ctl", "PATH", parse_ctl,
	  "control socket for tapctl (default " HOST_CTL_DIR "/TAP.ctl;\n"
	  "'none' for no socket)" },
	{ "--rto-min", "MS", parse_rto_min,
	  "TCP's minimum retransmission timeout in ms (default 200, as\n"
	  "Linux; RFC 6298 2.4 says 1000)" },
	{ "--cc", "NAME", parse_cc,
	  "TCP congestion control of new connections: cubic (RFC 9438),\n"
	  "newreno (RFC 6582) or reno (RFC 5681) (default cubic)" },
	{ "--iw", "N", parse_iw,
	  "TCP initial window in segments, 1 to 100 (default: RFC 6928's,\n"
	  "min(10 * MSS, max(2 * MSS, 14600 bytes)))" },
	{ "--no-sack", NULL, parse_no_sack,
	  "TCP neither offers nor accepts selective acknowledgments\n"
	  "(RFC 2018), as sysctl net.ipv4.tcp_sack=0: recovery without\n"
	  "SACK (NewReno, RFC 6582), for comparing the two" },
	{ "--tcp-trace", "FILE", parse_tcp_trace,
	  "write one CSV row per TCP event (ACK, loss, RTO, state) to FILE;\n"
	  "plot it with tcpplot FILE > plot.svg" },
};

#define HOST_FLAG_COUNT (sizeof(host_flags) / sizeof(host_flags[0]))
#define HOST_HELP_NAME_WIDTH 16 /* "--tcp-trace FILE", the longest */

void host_opts_usage(FILE *out)
{
	fputs("Host options (every tapstack program takes these):\n", out);
	for (size_t f = 0; f < HOST_FLAG_COUNT; f++) {
		const struct host_flag *hf = &host_flags[f];
		char name[40];
		snprintf(name, sizeof(name), "%s%s%s", hf->name, hf->arg ? " " : "",
			 hf->arg ? hf->arg : "");
		fprintf(out, "  %-*s  ", HOST_HELP_NAME_WIDTH, name);
		for (const char *c = hf->help; *c; c++) {
			fputc(*c, out);
			if (*c == '\n')
				fprintf(out, "%*s", HOST_HELP_NAME_WIDTH + 4, "");
		}
		fputc('\n', out);
	}
}

int host_opts_parse(struct host_opts *o, const char *prog, int argc, char **argv, int *i)
{
	const struct host_flag *hf = NULL;
	const char *v = NULL;

	for (size_t f = 0; f < HOST_FLAG_COUNT && !hf; f++)
		if (strcmp(argv[*i], host_flags[f].name) == 0)
			hf = &host_flags[f];
	if (!hf)
		return 0;
	if (hf->arg) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "%s: %s needs a value (see --help)\n", prog, argv[*i]);
			return -1;
		}
		v = argv[++*i];
	}
	return hf->parse(o, prog, v) < 0 ? -1 : 1;
}

void host_opts_apply(const struct host_opts *o, struct stack *s)
{
	if (o->rto_min_us > 0)
		s->tcp.rto_min_us = o->rto_min_us;
	if (o->cc && tcp_cc_find(o->cc))
		s->tcp.cc_default = tcp_cc_find(o->cc);
	if (o->iw_segs > 0)
		s->tcp.iw_segs = o->iw_segs;
	if (o->no_sack)
		s->tcp.no_sack = true;
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

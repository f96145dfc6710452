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
#include "ip/dhcp.h"
#include "ip/firewall.h"
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

/* The interface that --ip, --ip6 and --mac now describe: the last --tap
 * given after the first, or NULL for the first (struct host_opts itself). */
static struct host_ifopts *cur_if(struct host_opts *o)
{
	return o->nmore ? &o->more[o->nmore - 1] : NULL;
}

/* The first --tap names the first interface; each one after it starts
 * another (a router), which the --ip, --ip6 and --mac after it describe. */
static int parse_tap(struct host_opts *o, const char *prog, const char *v)
{
	if (!*v || strlen(v) >= 16) {
		fprintf(stderr, "%s: --tap: '%s' is not an interface name (1-15 characters)\n", prog, v);
		return -1;
	}
	if (!o->tap) {
		o->tap = v;
		return 0;
	}
	if (o->nmore >= STACK_MAX_IFS - 1) {
		fprintf(stderr, "%s: --tap: at most %d interfaces\n", prog, STACK_MAX_IFS);
		return -1;
	}
	bool dup = strcmp(o->tap, v) == 0;
	for (int i = 0; i < o->nmore; i++)
		dup |= strcmp(o->more[i].tap, v) == 0;
	if (dup) {
		fprintf(stderr, "%s: --tap: '%s' is given twice\n", prog, v);
		return -1;
	}
	memset(&o->more[o->nmore], 0, sizeof(o->more[0]));
	o->more[o->nmore++].tap = v;
	return 0;
}

static int parse_ip(struct host_opts *o, const char *prog, const char *v)
{
	struct ipaddr a;
	int len;

	if (strcmp(v, "dhcp") == 0) { /* RFC 2131: leased, ip/dhcp.c */
		struct host_ifopts *c = cur_if(o);
		*(c ? &c->dhcp4 : &o->dhcp4) = true;
		*(c ? &c->has_ip4 : &o->has_ip4) = true;
		return 0;
	}
	if (ipaddr_pton_prefix(v, &a, &len) < 0 || a.family != AF_INET || !strchr(v, '/')) {
		fprintf(stderr, "%s: --ip: '%s' is not an IPv4 address with a prefix length, such as 10.0.0.2/24, nor dhcp\n",
			prog, v);
		return -1;
	}
	struct host_ifopts *c = cur_if(o);
	*(c ? &c->ip4 : &o->ip4) = ipaddr_to_v4(&a);
	*(c ? &c->ip4_prefix : &o->ip4_prefix) = len;
	*(c ? &c->has_ip4 : &o->has_ip4) = true;
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
	struct host_ifopts *c = cur_if(o);
	*(c ? &c->ip6 : &o->ip6) = a;
	*(c ? &c->ip6_prefix : &o->ip6_prefix) = len;
	*(c ? &c->has_ip6 : &o->has_ip6) = true;
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
	struct host_ifopts *c = cur_if(o);
	uint8_t *mac = c ? c->mac : o->mac;
	if (mac_pton(v, mac) < 0) {
		fprintf(stderr, "%s: --mac: '%s' is not a MAC address, such as 02:00:00:00:00:02\n", prog, v);
		return -1;
	}
	if (mac_is_multicast(mac)) {
		fprintf(stderr, "%s: --mac: '%s' is a group address (lowest bit of the first byte set); "
			"use a unicast one such as 02:00:00:00:00:02\n", prog, v);
		return -1;
	}
	*(c ? &c->has_mac : &o->has_mac) = true;
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

/* A whole number from 1 to max for flag, into *out; what names its unit in
 * the message ("segments"), or NULL. */
static int parse_count(const char *prog, const char *flag, const char *v, long max,
		       const char *what, long *out)
{
	char *end;

	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || !*v || *end || n < 1 || n > max) {
		fprintf(stderr, "%s: %s: '%s' is not a number%s%s from 1 to %ld\n", prog, flag, v,
			what ? " of " : "", what ? what : "", max);
		return -1;
	}
	*out = n;
	return 0;
}

static int parse_rto_min(struct host_opts *o, const char *prog, const char *v)
{
	long ms;

	if (parse_count(prog, "--rto-min", v, TCP_RTO_MAX_US / 1000, "milliseconds", &ms) < 0)
		return -1;
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
	long n;

	if (parse_count(prog, "--iw", v, 100, "segments", &n) < 0)
		return -1;
	o->iw_segs = (uint32_t)n;
	return 0;
}

static int parse_syn_backlog(struct host_opts *o, const char *prog, const char *v)
{
	long n;

	if (parse_count(prog, "--syn-backlog", v, TCP_SYN_BACKLOG_MAX, NULL, &n) < 0)
		return -1;
	o->syn_backlog = (unsigned)n;
	return 0;
}

static int parse_syncookies(struct host_opts *o, const char *prog, const char *v)
{
	if (strcmp(v, "auto") == 0)
		o->syncookies = TCP_SYNCOOKIES_AUTO;
	else if (strcmp(v, "always") == 0)
		o->syncookies = TCP_SYNCOOKIES_ALWAYS;
	else if (strcmp(v, "never") == 0)
		o->syncookies = TCP_SYNCOOKIES_NEVER;
	else {
		fprintf(stderr, "%s: --syncookies: '%s' is not auto, always or never\n", prog, v);
		return -1;
	}
	return 0;
}

static int parse_challenge_acks(struct host_opts *o, const char *prog, const char *v)
{
	long n;

	if (parse_count(prog, "--challenge-acks", v, TCP_CHALLENGE_ACK_LIMIT_MAX, NULL, &n) < 0)
		return -1;
	o->challenge_acks = (uint32_t)n;
	return 0;
}

static int parse_max_tw(struct host_opts *o, const char *prog, const char *v)
{
	long n;

	if (parse_count(prog, "--tcp-max-tw", v, TCP_MAX_CONNECTIONS, NULL, &n) < 0)
		return -1;
	o->max_tw = (unsigned)n;
	return 0;
}

static int parse_max_orphans(struct host_opts *o, const char *prog, const char *v)
{
	long n;

	if (parse_count(prog, "--tcp-max-orphans", v, TCP_MAX_CONNECTIONS, NULL, &n) < 0)
		return -1;
	o->max_orphans = (unsigned)n;
	return 0;
}

/* A size in bytes with an optional K, M or G (powers of 1024). */
static bool parse_bytes(const char *v, char **end, uint64_t *out)
{
	errno = 0;
	if (*v < '0' || *v > '9')
		return false;
	unsigned long long n = strtoull(v, end, 10);
	unsigned long long mul = 1;
	switch (**end) {
	case 'K': case 'k': mul = 1ull << 10; (*end)++; break;
	case 'M': case 'm': mul = 1ull << 20; (*end)++; break;
	case 'G': case 'g': mul = 1ull << 30; (*end)++; break;
	default: break;
	}
	if (errno || n == 0 || n > (1ull << 50) / mul)
		return false;
	*out = n * mul;
	return true;
}

static int parse_tcp_mem(struct host_opts *o, const char *prog, const char *v)
{
	char *end;
	uint64_t low, high;

	if (!parse_bytes(v, &end, &low) || *end != ',' || !parse_bytes(end + 1, &end, &high) ||
	    *end || high < low) {
		fprintf(stderr, "%s: --tcp-mem: '%s' is not LOW,HIGH in bytes (K, M, G), "
			"LOW <= HIGH, e.g. 512M,1G\n", prog, v);
		return -1;
	}
	o->tcp_mem_low = low;
	o->tcp_mem_high = high;
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

/* The rules of --firewall or --firewall-file (flag): checked now, so a
 * typo stops the program with the parser's advice (ip/firewall.c);
 * host_open applies them. */
static int firewall_rules(struct host_opts *o, const char *prog, const char *flag, const char *v)
{
	static struct fw_rules check; /* static: 12 KB, not on the stack */
	char err[320];

	if (o->firewall) {
		fprintf(stderr, "%s: give the rules once, with --firewall or --firewall-file\n", prog);
		return -1;
	}
	if (fw_rules_parse(v, &check, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, flag, err);
		return -1;
	}
	o->firewall = v;
	return 0;
}

static int parse_firewall(struct host_opts *o, const char *prog, const char *v)
{
	return firewall_rules(o, prog, "--firewall", v);
}

/* --firewall-file FILE: the rules, one a line, '#' comments. The text
 * lives as long as the process, as the other flags' values do. */
static int parse_firewall_file(struct host_opts *o, const char *prog, const char *v)
{
	FILE *f = fopen(v, "r");
	if (!f) {
		fprintf(stderr, "%s: --firewall-file: cannot read %s: %s\n", prog, v, strerror(errno));
		return -1;
	}
	static char text[65536];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	bool more = fgetc(f) != EOF;
	fclose(f);
	if (more) {
		fprintf(stderr, "%s: --firewall-file: %s is larger than %zu bytes\n", prog, v,
			sizeof(text) - 1);
		return -1;
	}
	text[n] = '\0';
	char flag[160];
	snprintf(flag, sizeof(flag), "--firewall-file %s", v);
	return firewall_rules(o, prog, flag, text);
}

static int parse_firewall_flows(struct host_opts *o, const char *prog, const char *v)
{
	long n;

	if (parse_count(prog, "--firewall-flows", v, FW_FLOWS_MAX, "flows", &n) < 0)
		return -1;
	o->fw_flows = (unsigned)n;
	return 0;
}

static int parse_forward(struct host_opts *o, const char *prog, const char *v)
{
	(void)prog, (void)v;
	o->forward = true;
	return 0;
}

/* --route PREFIX via GW [dev TAP]: its words are the arguments after the
 * flag, as `ip route add` takes them (or one argument holding them all,
 * words apart by spaces). The gateway is checked against the interfaces by
 * host_opts_check, once every --tap and --ip is known. */
static int parse_route_words(struct host_opts *o, const char *prog, char **w, int n)
{
	struct ipaddr a;
	int len;

	if (o->nroutes >= HOST_MAX_ROUTES) {
		fprintf(stderr, "%s: --route: at most %d routes\n", prog, HOST_MAX_ROUTES);
		return -1;
	}
	if ((n != 3 && n != 5) || strcmp(w[1], "via") != 0 || (n == 5 && strcmp(w[3], "dev") != 0)) {
		fprintf(stderr, "%s: --route: say PREFIX via GW [dev TAP], e.g. --route 10.3.0.0/24 via 10.2.0.2\n",
			prog);
		return -1;
	}
	struct host_route *r = &o->routes[o->nroutes];
	memset(r, 0, sizeof(*r));
	/* the gateway's family says the route's: IPv4, or IPv6 (issue 15) */
	struct ipaddr gw;
	if (ipaddr_pton(w[2], &gw) < 0) {
		fprintf(stderr, "%s: --route: '%s' is not an IPv4 or IPv6 address, such as 10.2.0.2 or fd00:2::2\n",
			prog, w[2]);
		return -1;
	}
	r->v6 = gw.family == AF_INET6;
	if (strcmp(w[0], "default") == 0) {
		a = r->v6 ? gw : ipaddr_v4(0);
		len = 0;
	} else if (ipaddr_pton_prefix(w[0], &a, &len) < 0 || a.family != gw.family ||
		   !strchr(w[0], '/')) {
		fprintf(stderr, "%s: --route: '%s' is not an %s prefix, such as %s, or default\n", prog,
			w[0], r->v6 ? "IPv6" : "IPv4", r->v6 ? "fd00:3::/64" : "10.3.0.0/24");
		return -1;
	}
	ipaddr_mask(&a, len);
	r->len = len;
	if (r->v6) {
		r->prefix6 = a;
		r->gw6 = gw;
	} else {
		r->prefix = ipaddr_to_v4(&a);
		r->gw = ipaddr_to_v4(&gw);
	}
	if (n == 5 && (!*w[4] || strlen(w[4]) >= sizeof(r->dev))) {
		fprintf(stderr, "%s: --route: dev '%s' is not an interface name (1-15 characters)\n",
			prog, w[4]);
		return -1;
	}
	snprintf(r->dev, sizeof(r->dev), "%s", n == 5 ? w[4] : "");
	o->nroutes++;
	return 0;
}

/* Takes --route's words from argv after *i (advancing *i past them). */
static int parse_route_argv(struct host_opts *o, const char *prog, int argc, char **argv, int *i)
{
	char split[128], *w[6];
	int n = 0;

	if (*i + 1 < argc && strchr(argv[*i + 1], ' ')) {
		/* one argument with the words in it: "10.3.0.0/24 via 10.2.0.2" */
		char *save = NULL;
		snprintf(split, sizeof(split), "%s", argv[++*i]);
		for (char *t = strtok_r(split, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
			w[n++] = t;
		return parse_route_words(o, prog, w, n);
	}
	if (*i + 3 >= argc) {
		fprintf(stderr, "%s: --route needs PREFIX via GW [dev TAP] (see --help)\n", prog);
		return -1;
	}
	for (n = 0; n < 3; n++)
		w[n] = argv[*i + 1 + n];
	*i += 3;
	if (*i + 2 < argc && strcmp(argv[*i + 1], "dev") == 0) {
		w[n++] = argv[*i + 1];
		w[n++] = argv[*i + 2];
		*i += 2;
	}
	return parse_route_words(o, prog, w, n);
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
	  "namespace: labs/net exec PROGRAM ...). Given again, another\n"
	  "interface: the --ip, --ip6 and --mac after it are its own" },
	{ "--ip", "ADDR/LEN", parse_ip,
	  "this host's IPv4 address and prefix, e.g. 10.0.0.2/24 (required),\n"
	  "or dhcp: lease one, with gateway and DNS server (RFC 2131;\n"
	  "tapctl dhcp shows the lease, SIGTERM releases it)" },
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
	{ "--syn-backlog", "N", parse_syn_backlog,
	  "TCP connections half-open (SYN received) the host keeps, all\n"
	  "listeners together, apart from each listen backlog (default 1024)" },
	{ "--syncookies", "MODE", parse_syncookies,
	  "TCP SYN cookies (RFC 4987): auto (when the SYN queue is full,\n"
	  "the default), always, or never (the oldest half-open goes)" },
	{ "--challenge-acks", "N", parse_challenge_acks,
	  "TCP challenge ACKs (RFC 5961) the host sends per second, all\n"
	  "connections together: a ceiling drawn each second between N/2\n"
	  "and 3N/2 (default 1000); each connection sends one per 500 ms" },
	{ "--tcp-max-tw", "N", parse_max_tw,
	  "TCP connections in TIME-WAIT the host keeps (default 32768);\n"
	  "beyond, the oldest ends early (tcp.tw_recycled), as when the\n"
	  "connection table (65536) is full and a new one comes" },
	{ "--tcp-max-orphans", "N", parse_max_orphans,
	  "TCP connections closed by their apps and still closing the host\n"
	  "keeps (default 16384); beyond, a close resets (tcp.orphans_killed)" },
	{ "--tcp-mem", "LOW,HIGH", parse_tcp_mem,
	  "the bytes all TCP send and receive buffers may hold (default\n"
	  "512M,1G): above LOW windows stop growing, above HIGH data that\n"
	  "needs more buffer is dropped (tapctl memory)" },
	{ "--no-sack", NULL, parse_no_sack,
	  "TCP neither offers nor accepts selective acknowledgments\n"
	  "(RFC 2018), as sysctl net.ipv4.tcp_sack=0: recovery without\n"
	  "SACK (NewReno, RFC 6582), for comparing the two" },
	{ "--tcp-trace", "FILE", parse_tcp_trace,
	  "write one CSV row per TCP event (ACK, loss, RTO, state) to FILE;\n"
	  "plot it with tcpplot FILE > plot.svg" },
	{ "--firewall", "RULES", parse_firewall,
	  "a stateful packet filter: inbound packets pass when they belong\n"
	  "to a flow the host opened (or a rule let in), or as the rules say,\n"
	  "in order, first match; the rest are dropped silently. E.g.\n"
	  "'allow tcp 80,443; allow udp 53; allow icmp echo;\n"
	  " allow tcp 22 from 10.0.0.0/24; deny' (tapctl firewall)" },
	{ "--firewall-file", "FILE", parse_firewall_file,
	  "the same rules from FILE, one a line, # comments" },
	{ "--firewall-flows", "N", parse_firewall_flows,
	  "flows the firewall tracks at most (default 4096); when full,\n"
	  "the oldest not established is forgotten (fw.flows_evicted)" },
	{ "--forward", NULL, parse_forward,
	  "be a router: forward IPv4 and IPv6 datagrams between the interfaces\n"
	  "(RFC 1812, RFC 8200; the TAPs then carry plain frames, as --no-offload)" },
	{ "--route", "PREFIX via GW [dev TAP]", NULL,
	  "a static route, e.g. --route 10.3.0.0/24 via 10.2.0.2\n"
	  "or --route fd00:3::/64 via fd00:2::2 (IPv6: the gateway on an --ip6 prefix)\n"
	  "(repeatable; without dev, by the interface whose subnet holds GW)" },
};

#define HOST_FLAG_COUNT (sizeof(host_flags) / sizeof(host_flags[0]))
#define HOST_HELP_NAME_WIDTH 20 /* "--firewall-file FILE", the longest */

void host_opts_usage(FILE *out)
{
	fputs("Host options (every tapstack program takes these):\n", out);
	for (size_t f = 0; f < HOST_FLAG_COUNT; f++) {
		const struct host_flag *hf = &host_flags[f];
		char name[40];
		snprintf(name, sizeof(name), "%s%s%s", hf->name, hf->arg ? " " : "",
			 hf->arg ? hf->arg : "");
		if (strlen(name) > HOST_HELP_NAME_WIDTH) /* --route: its help on the next line */
			fprintf(out, "  %s\n%*s", name, HOST_HELP_NAME_WIDTH + 4, "");
		else
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
	if (!hf->parse) /* --route: several words */
		return parse_route_argv(o, prog, argc, argv, i) < 0 ? -1 : 1;
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
	if (o->challenge_acks > 0)
		s->tcp.challenge_acks = o->challenge_acks;
	if (o->syn_backlog > 0)
		s->tcp.syn_backlog = o->syn_backlog;
	if (o->syncookies != TCP_SYNCOOKIES_AUTO)
		s->tcp.syncookies = (enum tcp_syncookies)o->syncookies;
	if (o->no_sack)
		s->tcp.no_sack = true;
	if (o->max_tw > 0)
		s->tcp.max_tw = o->max_tw;
	if (o->max_orphans > 0)
		s->tcp.max_orphans = o->max_orphans;
	if (o->tcp_mem_high > 0) {
		s->tcp.mem_low = (size_t)o->tcp_mem_low;
		s->tcp.mem_high = (size_t)o->tcp_mem_high;
	}
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

/* The index the interface whose subnet holds a will have (0 the first
 * --tap), or -1. */
static int host_opts_ifindex_for(const struct host_opts *o, uint32_t a)
{
	/* an interface with --ip dhcp has no subnet yet: it holds nothing */
	if (!o->dhcp4 && (a & ip4_mask(o->ip4_prefix)) == (o->ip4 & ip4_mask(o->ip4_prefix)))
		return 0;
	for (int i = 0; i < o->nmore; i++) {
		const struct host_ifopts *m = &o->more[i];
		if (!m->dhcp4 && (a & ip4_mask(m->ip4_prefix)) == (m->ip4 & ip4_mask(m->ip4_prefix)))
			return i + 1;
	}
	return -1;
}

/* The index of the interface whose static IPv6 prefix (--ip6) holds a, or -1. */
static int host_opts_ifindex_for6(const struct host_opts *o, const struct ipaddr *a)
{
	if (o->has_ip6 && ipaddr_prefix_match(a, &o->ip6, o->ip6_prefix))
		return 0;
	for (int i = 0; i < o->nmore; i++) {
		const struct host_ifopts *m = &o->more[i];
		if (m->has_ip6 && ipaddr_prefix_match(a, &m->ip6, m->ip6_prefix))
			return i + 1;
	}
	return -1;
}

/* The index the interface on TAP name will have, or -1. */
static int host_opts_ifindex_by_name(const struct host_opts *o, const char *name)
{
	if (strcmp(o->tap, name) == 0)
		return 0;
	for (int i = 0; i < o->nmore; i++)
		if (strcmp(o->more[i].tap, name) == 0)
			return i + 1;
	return -1;
}

/* Unless --mac gave one: 02:00 followed by the four bytes of the address. */
static void host_default_mac(uint8_t mac[ETH_ALEN], bool given, uint32_t ip4)
{
	if (given)
		return;
	uint8_t m[ETH_ALEN] = { 0x02, 0x00, (uint8_t)(ip4 >> 24), (uint8_t)(ip4 >> 16),
				(uint8_t)(ip4 >> 8), (uint8_t)ip4 };
	memcpy(mac, m, ETH_ALEN);
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
	for (int i = 0; i < o->nmore; i++) {
		if (!o->more[i].has_ip4) {
			fprintf(stderr, "%s: --tap %s needs its --ip ADDR/LEN after it (see --help)\n", prog,
				o->more[i].tap);
			return -1;
		}
	}
	if (o->has_gw4 && host_opts_ifindex_for(o, o->gw4) < 0) {
		fprintf(stderr, "%s: --gw: the gateway must be on the host's own subnet%s\n", prog,
			o->dhcp4 ? " (with --ip dhcp, the DHCP server names the router)" : "");
		return -1;
	}
	for (int i = 0; i < o->nroutes; i++) {
		const struct host_route *r = &o->routes[i];
		/* an IPv6 gateway: on an --ip6 prefix, or link-local with its dev */
		int k = !r->v6 ? host_opts_ifindex_for(o, r->gw) :
			ip6_is_linklocal(&r->gw6) ? host_opts_ifindex_by_name(o, r->dev) :
						    host_opts_ifindex_for6(o, &r->gw6);
		if (r->dev[0] && host_opts_ifindex_by_name(o, r->dev) < 0) {
			fprintf(stderr, "%s: --route: dev %s is not one of the --tap given\n", prog, r->dev);
			return -1;
		}
		if (r->dev[0] && k != host_opts_ifindex_by_name(o, r->dev))
			k = -1;
		if (k < 0) {
			char a[IPADDR_STRLEN];
			struct ipaddr g = r->v6 ? r->gw6 : ipaddr_v4(r->gw);
			fprintf(stderr, "%s: --route: the gateway %s is on no interface's subnet%s\n", prog,
				ipaddr_ntop(&g, a, sizeof(a)), r->dev[0] ? " (of that dev)" : "");
			return -1;
		}
	}
	if (!o->has_seed && getrandom(&o->seed, sizeof(o->seed), 0) != sizeof(o->seed))
		o->seed = (uint64_t)getpid() ^ (uint64_t)host_clock_now();
	/* an interface with --ip dhcp has no address yet: its default MAC
	 * takes four bytes from the seed instead */
	host_default_mac(o->mac, o->has_mac, o->dhcp4 ? (uint32_t)(o->seed >> 32) : o->ip4);
	for (int i = 0; i < o->nmore; i++)
		host_default_mac(o->more[i].mac, o->more[i].has_mac,
				 o->more[i].dhcp4 ? (uint32_t)(o->seed >> 32) + (uint32_t)i + 1
						  : o->more[i].ip4);
	if (!o->ctl) {
		snprintf(o->ctl_default, sizeof(o->ctl_default), "%s/%s.ctl", HOST_CTL_DIR, o->tap);
		o->ctl = o->ctl_default;
	}
	return 0;
}

/* Opens the TAPs of the interfaces after the first (--tap again), each a
 * plain device (no impair, no pcap: those wrap the first), with its
 * addresses. Returns 0 or -1 with err set. */
static int host_open_more(struct host *h, const struct host_opts *o, bool offload, char *err,
			  size_t errlen)
{
	for (int i = 0; i < o->nmore; i++) {
		const struct host_ifopts *m = &o->more[i];
		struct netdev *dev = tap_open(m->tap, offload, err, errlen);
		if (!dev)
			return -1;
		h->more[h->nmore++] = dev;
		struct netif *ifp = stack_add_netif(&h->s, dev, m->mac);
		if (!ifp) {
			snprintf(err, errlen, "--tap %s: too many interfaces", m->tap);
			return -1;
		}
		if (m->dhcp4)
			dhcp_enable(&h->s, ifp);
		else
			stack_set_ipv4(&h->s, ifp, m->ip4, m->ip4_prefix);
		ifp->ip6.eui64 = o->eui64;
		ndp_if_enable(&h->s, ifp);
		if (m->has_ip6)
			ndp_addr_add(&h->s, ifp, &m->ip6, m->ip6_prefix);
	}
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
	if (o->firewall && fw_enable(&h->s, o->firewall, o->fw_flows, err, errlen) < 0)
		return -1;

	/* Offload moves 64 KB per system call (link/tap_vnet.c), but the frames
	 * are then not those of a wire: impair would lose or corrupt 45
	 * segments at once (and a corrupted one could pass unverified), and a
	 * capture would show 64 KB frames with checksums left partial. So a
	 * host with --impair or --pcap sees ordinary frames. */
	bool offload = !o->no_offload && impair_is_none(&o->impair) && !o->pcap;
	/* A router passes frames on as they came: a 64 KB GRO'd segment with
	 * its checksum left partial would need cutting and summing first. So
	 * with --forward every TAP carries plain frames. */
	offload &= !o->forward;
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
	if (o->dhcp4)
		dhcp_enable(&h->s, h->ifp); /* the first DISCOVER at the first poll */
	else
		stack_set_ipv4(&h->s, h->ifp, o->ip4, o->ip4_prefix);
	/* IPv6: the link-local address always, the static one when given; both
	 * go through duplicate address detection first (RFC 4862 5.4) */
	h->ifp->ip6.eui64 = o->eui64;
	ndp_if_enable(&h->s, h->ifp);
	if (o->has_ip6)
		ndp_addr_add(&h->s, h->ifp, &o->ip6, o->ip6_prefix); /* checked when parsed */
	if (host_open_more(h, o, offload, err, errlen) < 0) {
		host_close(h);
		return -1;
	}
	/* the gateway and the static routes by the interface whose subnet
	 * holds their next hop (host_opts_check made sure there is one) */
	struct netif *gw_if = o->has_gw4 ? stack_netif(&h->s, host_opts_ifindex_for(o, o->gw4)) : NULL;
	if (gw_if)
		stack_set_gateway4(&h->s, gw_if, o->gw4);
	for (int i = 0; i < o->nroutes; i++) {
		const struct host_route *hr = &o->routes[i];
		struct route r = {
			.prefix = ipaddr_v4(hr->prefix),
			.len = hr->len,
			.gw = ipaddr_v4(hr->gw),
			.ifindex = host_opts_ifindex_for(o, hr->gw),
			.origin = "static",
		};
		if (hr->v6) {
			r.prefix = hr->prefix6;
			r.gw = hr->gw6;
			r.ifindex = ip6_is_linklocal(&hr->gw6) ? host_opts_ifindex_by_name(o, hr->dev) :
								 host_opts_ifindex_for6(o, &hr->gw6);
		}
		int e = route_add(&h->s.routes, &r);
		if (e < 0 && e != -EEXIST) {
			snprintf(err, errlen, "--route %d: %s", i + 1, strerror(-e));
			host_close(h);
			return -1;
		}
	}
	h->s.ip_forward = o->forward;

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
	/* --ip dhcp: wait for the lease, running the host (tapctl answers,
	 * a signal ends the wait), bounded */
	int64_t until = host_clock_now() + (int64_t)HOST_DHCP_WAIT_MS * 1000;
	while (dhcp_acquiring(&h->s) && !host_stop_requested() && host_clock_now() < until)
		host_loop_once(h, 100000);
	if (dhcp_acquiring(&h->s) && !host_stop_requested())
		fprintf(stderr, "%s: no DHCP lease after %d s; still asking (tapctl dhcp)\n",
			o->tap, HOST_DHCP_WAIT_MS / 1000);
	return 0;
}

void host_close(struct host *h)
{
	FILE *tcp_trace = h->s.tcp.tcp_trace;

	/* RFC 2131 4.4.6: a client that stops gives its leases back */
	h->s.now = host_clock_now();
	for (int i = 0; i < h->s.nifs; i++)
		dhcp_release(&h->s, &h->s.ifs[i]);
	net_close_all(&h->s);
	stack_fini(&h->s);
	if (tcp_trace)
		fclose(tcp_trace); /* after the last connection's rows */
	if (h->dev) {
		netdev_flush(h->dev);
		netdev_close(h->dev);
		h->dev = NULL;
	}
	for (int i = 0; i < h->nmore; i++)
		netdev_close(h->more[i]);
	h->nmore = 0;
	if (h->ctl_fd >= 0) {
		close(h->ctl_fd);
		unlink(h->ctl_path);
		h->ctl_fd = -1;
	}
}

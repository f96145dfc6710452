/* resolve: asks a DNS server about names and prints the answers the way
 * `dig +noall +answer` does, from a host of its own on the lab network.
 *
 *   resolve --tap tap1 --ip 10.0.0.3/24 --gw 10.0.0.1 www.lab.test
 *       www.lab.test.		300	IN	A	10.0.0.2
 *   resolve ... -t MX lab.test        another type
 *   resolve ... --server 10.0.0.2 -v www.lab.test   another server, and the
 *       messages exchanged
 *   resolve ... --ip6 fd00::3/64 --server fd00::2 www.lab.test   over IPv6 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/dns_query.h"
#include "stack/host.h"
#include "stack/net.h"

static void usage(FILE *out)
{
	fputs("usage: resolve HOST-OPTIONS [-t TYPE] [--server ADDR] [-v] NAME...\n"
	      "\n"
	      "Asks a DNS server for each NAME (following CNAMEs) and prints the answers as\n"
	      "dig +noall +answer does. A host of its own runs inside: give it a free TAP of\n"
	      "the lab (sudo labs/net up 2 makes tap1):\n"
	      "  sudo labs/net exec build/resolve --tap tap1 --ip 10.0.0.3/24 --gw 10.0.0.1 "
	      "www.lab.test\n"
	      "\n"
	      "  -t TYPE           A (default), AAAA, CNAME, MX, NS, PTR, SOA, TXT, ANY or "
	      "TYPEnnn\n"
	      "  --server ADDR     the server to ask, IPv4 or IPv6 (fd00::2 needs --ip6)\n"
	      "                    (default: the gateway); up to 3 times, one family\n"
	      "  --dns ADDR        the same as --server (webget's name for it)\n"
	      "  --port PORT       its port (default 53)\n"
	      "  --timeout MS      the first try's timeout, doubled at each round (default 1000)\n"
	      "  --tries N         rounds over the servers (default 3)\n"
	      "  --no-edns         leave EDNS(0) out (answers over 512 bytes then come over TCP)\n"
	      "  --no-tcp          do not ask again over TCP when the answer is truncated\n"
	      "  -v                print the messages exchanged\n"
	      "\n"
	      "Exit status: 0 if every name had an answer, 1 if one did not (NXDOMAIN, no data,\n"
	      "no answer in time), 2 for a bad flag.\n\n",
	      out);
	host_opts_usage(out);
}

/* Resolves one name and prints its answers. Returns 0 if it has some. */
static int resolve_one(const struct dns_query_cfg *cfg, const char *text, uint16_t qtype)
{
	static struct dns_msg ans;
	uint8_t name[DNS_NAME_MAX], final[DNS_NAME_MAX];
	char line[4200];
	const char *why = dns_name_from_text(text, name);
	if (why) {
		fprintf(stderr, "resolve: '%s' is not a domain name (%s)\n", text, why);
		return 1;
	}
	enum dns_result r = dns_lookup(cfg, name, qtype, &ans, final, &why);
	if (r == DNS_TIMEOUT) {
		fprintf(stderr, "resolve: %s: no answer (timed out)\n", text);
		return 1;
	}
	if (r != DNS_OK) {
		fprintf(stderr, "resolve: %s: failed (%s)\n", text, why ? why : "?");
		return 1;
	}
	for (int i = 0; i < ans.an; i++)
		printf("%s\n", dns_rr_to_text(&ans, &ans.rr[i], line, sizeof(line)));
	fflush(stdout);
	int rcode = DNS_RCODE(ans.flags);
	if (rcode != DNS_NOERROR) {
		fprintf(stderr, "resolve: %s: %s\n", text, dns_rcode_name(rcode));
		return 1;
	}
	if (ans.an == 0) {
		fprintf(stderr, "resolve: %s: no data\n", text);
		return 1;
	}
	return 0;
}

/* Parses a number flag's value in [lo, hi]; -1 if it is not one. */
static long number(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *s && !*end && v >= lo && v <= hi ? v : -1;
}

int main(int argc, char **argv)
{
	struct host_opts o;
	struct dns_query_cfg cfg = { .rd = true };
	int qtype = DNS_T_A, port = DNS_PORT;
	char *names[64];
	int nnames = 0;

	host_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		int r = host_opts_parse(&o, "resolve", argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (host_std_flag("resolve", a, usage)) {
			return 0;
		} else if (strcmp(a, "-v") == 0) {
			cfg.verbose = stdout;
		} else if (strcmp(a, "--no-edns") == 0) {
			cfg.no_edns = true;
		} else if (strcmp(a, "--no-tcp") == 0) {
			cfg.no_tcp = true;
		} else if (strcmp(a, "-t") == 0 || strcmp(a, "--server") == 0 ||
			   strcmp(a, "--dns") == 0 || /* webget's name for it */
			   strcmp(a, "--port") == 0 || strcmp(a, "--timeout") == 0 ||
			   strcmp(a, "--tries") == 0) {
			if (!v) {
				fprintf(stderr, "resolve: %s needs a value (see resolve --help)\n",
					a);
				return 2;
			}
			i++;
			if (a[1] == 't') {
				if ((qtype = dns_type_from_text(v)) < 0) {
					fprintf(stderr, "resolve: -t: unknown type '%s'\n", v);
					return 2;
				}
			} else if (a[2] == 's' || a[2] == 'd') {
				struct sockaddr_storage ss;
				socklen_t sl;
				if (cfg.nservers == DNS_MAX_SERVERS ||
				    net_sockaddr_pton(v, DNS_PORT, &ss, &sl) < 0 ||
				    (cfg.nservers &&
				     ss.ss_family != cfg.server[0].sa.sa_family)) {
					fprintf(stderr,
						"resolve: --server: '%s' is not an IPv4 or IPv6 "
						"address (at most %d, all of one family)\n",
						v, DNS_MAX_SERVERS);
					return 2;
				}
				memcpy(&cfg.server[cfg.nservers], &ss, sl);
				cfg.nservers++;
			} else {
				long n = number(v, 1,
						a[2] == 'p'   ? 65535
						: a[3] == 'i' ? 60000
							      : 10);
				if (n < 0) {
					fprintf(stderr,
						"resolve: %s: '%s' is not a number in range\n", a,
						v);
					return 2;
				}
				if (a[2] == 'p')
					port = (int)n;
				else if (a[3] == 'i')
					cfg.timeout_ms = (int)n;
				else
					cfg.tries = (int)n;
			}
		} else if (a[0] == '-') {
			fprintf(stderr, "resolve: unknown option '%s' (see resolve --help)\n", a);
			return 2;
		} else if (nnames < 64) {
			names[nnames++] = argv[i];
		}
	}
	if (nnames == 0) {
		fprintf(stderr, "resolve: which name? (see resolve --help)\n");
		return 2;
	}
	if (host_opts_check(&o, "resolve") < 0)
		return 2;
	for (int k = 0; k < cfg.nservers; k++)
		if (cfg.server[k].sa.sa_family == AF_INET6)
			cfg.server[k].v6.sin6_port = htons((uint16_t)port);
		else
			cfg.server[k].v4.sin_port = htons((uint16_t)port);

	struct host h;
	char err[256];
	if (host_open(&h, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "resolve: %s\n", err);
		return 1;
	}
	if (cfg.nservers == 0 && !o.has_gw4 && !o.dhcp4) { /* with dhcp: the lease's DNS server */
		fprintf(stderr, "resolve: no server: give --server ADDR, --gw ADDR or --ip dhcp\n");
		host_close(&h);
		return 2;
	}
	/* the query engine does not block, so our address passes DAD first
	 * here (RFC 4862 5.4, stack/net.h) */
	if (cfg.nservers && cfg.server[0].sa.sa_family == AF_INET6)
		net_wait_ipv6_ready(NET_DAD_WAIT_MS);
	int failed = 0;
	for (int k = 0; k < nnames && !host_stop_requested(); k++)
		failed += resolve_one(&cfg, names[k], (uint16_t)qtype);
	host_close(&h);
	return failed ? 1 : 0;
}

/* A stateful packet filter for the host (issue 20): "deny all inbound
 * unless related or established", with a short list of ports let in.
 *
 * It is a layer of its own, as Linux's netfilter and its conntrack are:
 * IPv4 and IPv6 call it once on the way in (fw_input, after reassembly,
 * before the datagram goes up) and once on the way out (fw_output, after
 * the header is written); it keeps its own table of flows and never asks
 * TCP or UDP what they hold. Rules are text a student types:
 *
 *     allow tcp 80,443; allow udp 53; allow icmp echo; allow tcp 22 from 10.0.0.0/24; deny
 *
 * matched in order, the first match wins, and a packet no rule matches is
 * denied. Packets of a tracked flow pass before any rule (established), and
 * so do ICMP errors that quote one (related). ARP never comes here, and
 * neighbor discovery and MLD are never filtered (ip/README.md says why).
 * The table is bounded (--firewall-flows) and its time is the stack's. */
#ifndef TAPSTACK_FIREWALL_H
#define TAPSTACK_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ip/addr.h"

struct stack;
struct pkt;

#define FW_MAX_RULES 32
#define FW_MAX_PORTS 8           /* ports or ranges in one rule */
#define FW_RULE_TEXT 96
#define FW_FLOWS_DEFAULT 4096    /* --firewall-flows */
#define FW_FLOWS_MAX 262144

/* Timeouts of a flow after its last packet, in microseconds of the
 * stack's time (Linux's nf_conntrack defaults where it has one). */
#define FW_TCP_NEW_US (60LL * 1000000)          /* before the handshake completes (syn_recv) */
#define FW_TCP_ESTABLISHED_US (432000LL * 1000000) /* 5 days, as Linux */
#define FW_TCP_HALF_CLOSED_US (120LL * 1000000) /* a FIN one way (fin_wait) */
#define FW_TCP_CLOSED_US (10LL * 1000000)       /* FINs both ways, or a RST */
#define FW_UDP_US (30LL * 1000000)              /* udp_timeout */
#define FW_UDP_STREAM_US (180LL * 1000000)      /* udp_timeout_stream: replies seen */
#define FW_ICMP_US (30LL * 1000000)             /* icmp_timeout */

/* One rule: "allow|deny [tcp|udp|icmp] [PORTS|echo] [from PREFIX]". */
struct fw_rule {
	bool allow;
	uint8_t proto;           /* 0: any; IP_PROTO_TCP, IP_PROTO_UDP, IP_PROTO_ICMP (and ICMPv6) */
	bool echo;               /* icmp: echo requests only */
	int nports;              /* 0: every port */
	uint16_t lo[FW_MAX_PORTS], hi[FW_MAX_PORTS];
	bool has_from;
	struct ipaddr from;
	int from_len;
	char text[FW_RULE_TEXT]; /* the rule written back, for tapctl and --trace */
	uint64_t packets, bytes; /* inbound packets it decided */
};

struct fw_rules {
	struct fw_rule rule[FW_MAX_RULES];
	int n;
};

enum fw_tcp_state { FW_TCP_NEW, FW_TCP_ESTABLISHED, FW_TCP_HALF_CLOSED, FW_TCP_CLOSED };

/* A tracked flow, keyed from the host's side: local and remote address
 * and port (for ICMP echo: the identifier as the local port, 0 remote). */
struct fw_flow {
	uint8_t proto;           /* IP_PROTO_TCP, IP_PROTO_UDP, IP_PROTO_ICMP (ICMPv6 too) */
	bool used;
	bool inbound;            /* opened by a packet that came in (a rule let it) */
	bool replied;            /* a packet seen the other way */
	bool assured;            /* TCP established, UDP replied: never evicted */
	uint8_t tcp;             /* enum fw_tcp_state */
	uint8_t fin;             /* FIN seen: bit 0 from the host, bit 1 from the peer */
	struct ipaddr local, remote;
	uint16_t lport, rport;
	int64_t created, last, expires;
	uint64_t pkts_in, pkts_out;
	int32_t next;            /* hash chain, or the free list */
};

struct fw {
	struct fw_rules rules;
	uint64_t default_packets, default_bytes; /* the implicit final deny */
	struct fw_flow *flows;
	int32_t *bucket;
	unsigned max_flows, nbuckets, nflows;
	int32_t free;
	uint8_t key[16];         /* SipHash key of the flow hash (from the host's generator) */
};

/* Parses rules text into r: rules separated by ';' or new lines, '#' to
 * the end of a line is a comment. Returns 0, or -1 with a message in err
 * that names the rule and says what to write instead. */
int fw_rules_parse(const char *text, struct fw_rules *r, char *err, size_t errlen);

/* Turns the filter on for s with these rules and a table of max_flows
 * flows (0: FW_FLOWS_DEFAULT). Returns 0, or -1 with the reason in err. */
int fw_enable(struct stack *s, const char *rules, unsigned max_flows, char *err, size_t errlen);

/* Turns it off and frees the table (stack_fini calls it). */
void fw_disable(struct stack *s);

/* The inbound hook. p->data is at the IP header of a whole datagram (after
 * reassembly) for this host; proto and l4off are its upper-layer protocol
 * and where that header starts. Returns true if it may go up; false after
 * dropping it (consumed). */
bool fw_input(struct stack *s, struct pkt *p, uint8_t proto, size_t l4off);

/* The outbound hook: p->data at the IP header the host just wrote. Opens
 * or refreshes the flow; never drops. */
void fw_output(struct stack *s, const struct pkt *p, uint8_t proto, size_t l4off);

/* Writes the rules with their counters and the live flows (tapctl firewall). */
void fw_dump(struct stack *s, FILE *out);

/* The live flows in the table (expired ones not yet reaped are left out). */
unsigned fw_flow_count(struct stack *s);

#endif

/* Multicast Listener Discovery version 2 (RFC 3810), the host side: the
 * interface tells the routers on the link which groups it listens to (the
 * solicited-node group of each of its addresses), with unsolicited reports
 * when it joins or leaves one and answers to the routers' queries.
 *
 * The codec (query parse, report parse and build, the Router Alert check)
 * is pure and works on byte arrays; the rest keeps one small table of
 * groups per interface, on virtual time. */
#ifndef TAPSTACK_MLD_H
#define TAPSTACK_MLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ip/addr.h"

struct stack;
struct netif;
struct pkt;
struct ip_rx;

/* ICMPv6 types (RFC 3810 5, RFC 2710 3). */
#define MLD_QUERY 130
#define MLD_V1_REPORT 131
#define MLD_V1_DONE 132
#define MLD_V2_REPORT 143

/* Multicast address record types (RFC 3810 5.2.12). */
#define MLD_MODE_IS_INCLUDE 1
#define MLD_MODE_IS_EXCLUDE 2
#define MLD_CHANGE_TO_INCLUDE 3
#define MLD_CHANGE_TO_EXCLUDE 4
#define MLD_ALLOW_NEW_SOURCES 5
#define MLD_BLOCK_OLD_SOURCES 6

#define MLD_ROBUSTNESS 2                /* RFC 3810 9.1 Robustness Variable */
#define MLD_UNSOLICITED_US 1000000      /* RFC 3810 9.11 Unsolicited Report Interval */
#define MLD_GROUPS 12                   /* groups per interface */

#define MLD_QUERY_V1_LEN 24             /* RFC 2710 3: an MLDv1 query */
#define MLD_QUERY_MIN_LEN 28            /* RFC 3810 5.1: an MLDv2 query with no source */
#define MLD_REPORT_HDR_LEN 8            /* type, code, checksum, reserved, record count */
#define MLD_RECORD_LEN 20               /* a record with no source and no aux data */
#define MLD_HBH_LEN 8                   /* the hop-by-hop header that carries Router Alert */

/* A query, parsed (RFC 3810 5.1). */
struct mld_query {
	uint32_t max_resp_ms;     /* Maximum Response Delay, from the code (5.1.3) */
	struct ipaddr group;      /* :: for a general query */
	bool s_flag;              /* suppress router-side processing */
	uint8_t qrv;              /* querier's robustness variable */
	uint8_t qqic;             /* querier's query interval code */
	uint16_t nsrc;            /* sources listed (a source-specific query) */
};

/* One record of a report we send: no sources, no aux data. */
struct mld_record {
	uint8_t type;             /* MLD_* record type */
	struct ipaddr group;
};

/* RFC 3810 5.1.3: the Maximum Response Delay in ms of a Maximum Response
 * Code: the code itself below 32768, else (mant | 0x1000) << (exp + 3). */
uint32_t mld_max_resp_ms(uint16_t code);

/* Parses a query (buf at the ICMPv6 header, len the whole message). Returns
 * NULL or "mld.short", "mld.v1_query" (24 bytes: an MLDv1 querier, not
 * spoken here), "mld.bad_sources" (the source list does not fit),
 * "mld.bad_group" (a specific query for an address that is not multicast). */
const char *mld_parse_query(const uint8_t *buf, size_t len, struct mld_query *q);

/* Checks a report (buf at the ICMPv6 header): every record inside the
 * message, of a known type, for a multicast address. Returns NULL with
 * *nrec set, or "mld.short", "mld.bad_record". */
const char *mld_parse_report(const uint8_t *buf, size_t len, int *nrec);

/* Writes at buf (cap bytes) the hop-by-hop header with Router Alert (RFC
 * 2711, value 0: MLD) followed by a version 2 report with the n records r,
 * checksummed for src -> ff02::16. Returns the bytes written (MLD_HBH_LEN +
 * 8 + 20 n), or 0 if cap is too small. */
size_t mld_build_report(uint8_t *buf, size_t cap, const struct mld_record *r, int n,
			const struct ipaddr *src);

/* True if the datagram whose IPv6 header is at ip6 (hdr_len bytes up to the
 * upper-layer header) carries a hop-by-hop header with a Router Alert
 * option of value 0 (MLD), as RFC 3810 5 asks of every MLD message. */
bool mld_has_router_alert(const uint8_t *ip6, size_t hdr_len);

/* One group the interface listens to, or leaves. */
struct mld_group {
	struct ipaddr g;          /* family 0: a free slot */
	int refs;                 /* addresses that need it; 0 while the leave is reported */
	uint8_t change;           /* record type of the pending state-change report, or 0 */
	int retrans;              /* state-change reports still to send */
	int64_t change_at;        /* when the next one goes */
	int64_t answer_at;        /* answer to a group-specific query, or 0 */
};

/* The MLD side of an interface. All zeros is a valid start: times of 0
 * mean "nothing pending". */
struct mld_if {
	bool off;                 /* send nothing (unit harnesses that test other things) */
	struct mld_group g[MLD_GROUPS];
	int64_t general_at;       /* answer to a general query, or 0 */
};

/* ifp starts listening to g (a reference more if it already does); the
 * first reference sends a state-change report (CHANGE_TO_EXCLUDE {}) at
 * once and MLD_ROBUSTNESS - 1 more at random within MLD_UNSOLICITED_US
 * (RFC 3810 6.1). ff02::1 is never reported (RFC 3810 6). */
void mld_join(struct stack *s, struct netif *ifp, const struct ipaddr *g);

/* Drops one reference to g; the last sends CHANGE_TO_INCLUDE {} the same
 * way (RFC 3810 6.1), and the slot is freed once they have gone. */
void mld_leave(struct stack *s, struct netif *ifp, const struct ipaddr *g);

/* True if ifp listens to g (a reference is held). */
bool mld_listening(const struct netif *ifp, const struct ipaddr *g);

/* Handles a query, report or MLDv1 message (p->data at the ICMPv6 header,
 * checksum checked). Consumes p. */
void mld_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *rx);

/* Sends what is due at s->now on ifp. */
void mld_timer(struct stack *s, struct netif *ifp);

/* The earliest MLD deadline of ifp, or INT64_MAX. */
int64_t mld_next_deadline(const struct netif *ifp);

/* One line per group: "ff02::1:ff00:2 listening (reports pending 1)". */
void mld_dump(const struct netif *ifp, int64_t now, FILE *out);

#endif

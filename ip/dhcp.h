/* DHCP client (RFC 2131, options RFC 2132): the message codec, pure on
 * (buf, len), and the client's state machine of RFC 2131 4.4, one per
 * interface started with --ip dhcp, run on the time the host is given
 * (stack/README.md, decision 1). It lives in the core beside SLAAC, not
 * as an app on sockets: until it is bound the interface has no address,
 * and it must send from 0.0.0.0 to the limited broadcast and set the
 * interface's address, routes and DNS server, which no socket can. */
#ifndef TAPSTACK_DHCP_H
#define TAPSTACK_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct stack;
struct netif;
struct pkt;
struct ip_rx;

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_FIXED_LEN 236      /* the BOOTP header, RFC 2131 2 (figure 1) */
#define DHCP_MIN_LEN 240        /* the header and the magic cookie */
#define DHCP_MSG_MAX 576        /* RFC 2131 2: a client must accept 576-byte messages;
				   what we send fits in it */
#define DHCP_MAX_DNS 3          /* DNS servers kept from option 6 */
#define DHCP_COOKIE 0x63825363u /* RFC 2131 3: 99.130.83.99 */
#define DHCP_FLAG_BROADCAST 0x8000
#define DHCP_INFINITE 0xffffffffu

/* RFC 2132 9.6: the DHCP message type (option 53). */
enum dhcp_type {
	DHCPDISCOVER = 1,
	DHCPOFFER = 2,
	DHCPREQUEST = 3,
	DHCPDECLINE = 4,
	DHCPACK = 5,
	DHCPNAK = 6,
	DHCPRELEASE = 7,
	DHCPINFORM = 8,
};

/* A message, parsed or to emit (addresses in host order). Only the
 * options the client reads or writes have fields. */
struct dhcp_msg {
	uint8_t op;              /* 1 BOOTREQUEST, 2 BOOTREPLY */
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[6];       /* Ethernet only: htype 1, hlen 6 */
	uint8_t type;            /* option 53; 0: none */
	uint32_t server_id;      /* option 54; 0: none */
	uint32_t requested;      /* option 50; 0: none */
	bool has_lease, has_t1, has_t2, has_mask;
	uint32_t lease, t1, t2;  /* options 51, 58, 59, seconds */
	int prefix;              /* option 1, as a prefix length (has_mask) */
	uint32_t router;         /* option 3, the first router; 0: none */
	uint32_t dns[DHCP_MAX_DNS]; /* option 6 */
	int ndns;
};

/* Parses a DHCP message (a UDP payload of len bytes). Checks every length
 * before it reads, follows option overload (RFC 2132 9.3) into the file
 * and sname fields. Returns NULL, or the reason to drop it:
 * "dhcp.short", "dhcp.bad_cookie", "dhcp.bad_htype", "dhcp.bad_option"
 * (an option that runs past its field, a bad length for its code, or an
 * overload inside an overloaded field), "dhcp.bad_mask" (not contiguous),
 * "dhcp.no_type". */
const char *dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *m);

/* Writes m (a BOOTREQUEST) at buf, cap bytes at least DHCP_MSG_MAX: the
 * header, the cookie, options 53, 61, 50, 54, 55 as m has them, End, and
 * zero padding to 300 bytes (the minimum BOOTP message, RFC 1542 2.1).
 * Returns its length. */
size_t dhcp_emit(const struct dhcp_msg *m, uint8_t *buf, size_t cap);

/* RFC 2131 4.4, figure 5. */
enum dhcp_state {
	DHCP_OFF = 0,           /* not enabled on this interface */
	DHCP_INIT,
	DHCP_SELECTING,
	DHCP_REQUESTING,
	DHCP_BOUND,
	DHCP_RENEWING,
	DHCP_REBINDING,
	DHCP_PROBING,           /* ACKed, the address probed with ARP before use
				   (RFC 2131 4.4.1, RFC 5227 2.1) */
	DHCP_RELEASED,          /* shut down: the lease given back */
};

extern const char *const dhcp_state_name[];

/* One interface's client. Times are the host's microseconds. */
struct dhcp_client {
	enum dhcp_state state;
	uint32_t xid;            /* of the exchange in progress */
	int64_t timer;           /* next thing due (a send or a lease time); INT64_MAX: none */
	int64_t rto;             /* the present retransmission delay, before +-1 s */
	int64_t started;         /* first DISCOVER/REQUEST of the exchange: 'secs' */
	int tries;               /* messages sent in this state */
	uint32_t offered;        /* yiaddr of the chosen OFFER */
	uint32_t server;         /* its server identifier */
	/* the lease once bound */
	uint32_t addr;
	int prefix;
	uint32_t router;
	uint32_t dns[DHCP_MAX_DNS];
	int ndns;
	uint32_t lease, t1, t2;  /* seconds, as granted (or defaulted) */
	int64_t bound_at, t1_at, t2_at, expire_at; /* INT64_MAX: infinite lease */
	struct dhcp_msg ack;     /* PROBING: the ACK, applied when no one answers */
	int64_t ack_at;          /* when it came: the lease counts from then */
};

/* Starts the client on ifp (which should have no IPv4 address): INIT, the
 * first DISCOVER at the next poll. */
void dhcp_enable(struct stack *s, struct netif *ifp);

/* A DHCP message for ifp's client (p->data at the UDP payload, from the
 * server port to the client port). Consumes p. */
void dhcp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *ip);

/* True if ifp runs a client that wants a datagram to the client port. */
bool dhcp_wants(const struct netif *ifp);

/* Runs what is due on every interface's client (stack_poll). */
void dhcp_timer(struct stack *s);

/* The earliest time a client needs dhcp_timer, or INT64_MAX. */
int64_t dhcp_next_deadline(const struct stack *s);

/* RFC 2131 4.4.6: gives the lease back (DHCPRELEASE to the server) and
 * removes the address; the client stops. For a host that shuts down. */
void dhcp_release(struct stack *s, struct netif *ifp);

/* True while a client on some interface is still getting its first lease
 * (INIT, SELECTING, REQUESTING, PROBING). */
bool dhcp_acquiring(const struct stack *s);

/* The first DNS server a client learned (option 6), host order, or 0. */
uint32_t dhcp_dns_server(const struct stack *s);

/* tapctl dhcp: one line per interface with a client: state, lease,
 * server, router, DNS, T1, T2 and expiry as seconds from now. */
void dhcp_dump(const struct stack *s, FILE *out);

#endif

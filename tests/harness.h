/* Test helpers shared by the unit and simulated tests.
 *
 * A "testdev" is a device that keeps every frame the stack sends and hands
 * the stack frames the test injects, so a test can drive one host frame by
 * frame on virtual time:
 *
 *     struct harness h;
 *     harness_init(&h, "10.0.0.2/24", "10.0.0.1");
 *     inject(&h, frame, len);              // the host receives it at h.now
 *     struct pkt *out = expect_tx(&h);     // the first frame it sent
 *     ...
 *     harness_fini(&h);                    // frees all, asserts no leak
 */
#ifndef TAPSTACK_TEST_HARNESS_H
#define TAPSTACK_TEST_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/stack.h"

/* The addresses tests use (the same as the reference captures). */
#define T_MAC_PEER "02:00:00:00:00:01"   /* 10.0.0.1 */
#define T_MAC_HOST "02:00:00:00:00:02"   /* 10.0.0.2 */

extern const uint8_t t_mac_peer[6];
extern const uint8_t t_mac_host[6];

/* A device that records what is sent and returns what is injected. */
struct netdev *testdev_new(void);
void testdev_inject(struct netdev *d, const uint8_t *frame, size_t len);
/* The oldest frame sent and not yet taken, or NULL. The caller owns it. */
struct pkt *testdev_take_sent(struct netdev *d);
size_t testdev_sent_count(struct netdev *d);

struct harness {
	struct stack s;
	struct netdev *dev;
	struct netif *ifp;
	int64_t now;
};

/* A host 10.0.0.2 (MAC t_mac_host) with address addr_prefix and optional
 * gateway gw (NULL for none) on a testdev, seed 1, at time 0, started (so
 * the gratuitous ARP has been sent and is taken off the sent queue). */
void harness_init(struct harness *h, const char *addr_prefix, const char *gw);

/* Frees the host and asserts that no packet buffer is left in use. */
void harness_fini(struct harness *h);

/* Injects one frame and polls the host at h->now. */
void inject(struct harness *h, const uint8_t *frame, size_t len);

/* Moves time forward by us microseconds, polling the host at each deadline
 * on the way (so timers fire in order). */
void advance(struct harness *h, int64_t us);

/* The next frame the host sent; fails the test if there is none. */
struct pkt *expect_tx(struct harness *h);

/* Fails the test if the host sent a frame. */
void expect_no_tx(struct harness *h);

/* Frees every frame the host sent that the test has not taken. */
void drop_tx(struct harness *h);

/* The IPv6 address text (fails the test if it is not one). */
struct ipaddr v6(const char *text);

/* Loads frame number index (1-based, as tshark numbers them) from a pcap
 * in tests/vectors/ into buf. Returns its length; fails the test if the
 * file or frame is missing. */
size_t vector_frame(const char *file, int index, uint8_t *buf, size_t cap);

/* Builds an Ethernet + IPv4 frame into buf: header fields from the
 * arguments, a correct header checksum, payload copied after it. Returns
 * the frame length. */
size_t build_ipv4_frame(uint8_t *buf, const uint8_t dst_mac[6], const uint8_t src_mac[6],
			uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *payload, size_t plen);

/* Builds an Ethernet + IPv4 + ICMP frame from the peer to the host: type,
 * id and seq, then datalen bytes of the pattern (i * 13 + 1), with correct
 * checksums. Returns the frame length. */
size_t build_icmp_frame(uint8_t *buf, uint8_t type, uint32_t src, uint32_t dst, uint16_t id,
			uint16_t seq, size_t datalen);

/* Lets the host learn 10.0.0.1's MAC from the captured ARP request (frame 1
 * of icmp-echo.pcap) and throws away its ARP reply. */
void harness_learn_peer(struct harness *h);

#endif

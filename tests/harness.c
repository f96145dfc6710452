/* Test helpers: a recording device, a host on it, and frame builders. */
#include "tests/harness.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "stack/byteorder.h"
#include "ip/icmp.h"
#include "stack/checksum.h"

const uint8_t t_mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t t_mac_host[6] = { 0x02, 0, 0, 0, 0, 0x02 };

struct testdev {
	struct netdev dev;
	struct pkt_queue inbox;   /* frames the test injected, for recv */
	struct pkt_queue sent;    /* frames the stack sent */
};

static int testdev_send(struct netdev *d, struct pkt *p, int64_t now)
{
	struct testdev *t = (struct testdev *)d;
	p->time = now;
	pktq_push(&t->sent, p);
	return 0;
}

static struct pkt *testdev_recv(struct netdev *d, int64_t now)
{
	(void)now;
	return pktq_pop(&((struct testdev *)d)->inbox);
}

static void testdev_close(struct netdev *d)
{
	struct testdev *t = (struct testdev *)d;
	pktq_purge(&t->inbox);
	pktq_purge(&t->sent);
	free(t);
}

static const struct netdev_ops testdev_ops = {
	.send = testdev_send,
	.recv = testdev_recv,
	.close = testdev_close,
};

struct netdev *testdev_new(void)
{
	struct testdev *t = calloc(1, sizeof(*t));
	ck_assert_ptr_nonnull(t);
	t->dev.ops = &testdev_ops;
	snprintf(t->dev.name, sizeof(t->dev.name), "test0");
	t->dev.mtu = 1500;
	return &t->dev;
}

void testdev_inject(struct netdev *d, const uint8_t *frame, size_t len)
{
	struct pkt *p = pkt_alloc(len);
	ck_assert_ptr_nonnull(p);
	memcpy(pkt_put(p, len), frame, len);
	pktq_push(&((struct testdev *)d)->inbox, p);
}

struct pkt *testdev_take_sent(struct netdev *d)
{
	return pktq_pop(&((struct testdev *)d)->sent);
}

size_t testdev_sent_count(struct netdev *d)
{
	return ((struct testdev *)d)->sent.count;
}

void harness_init(struct harness *h, const char *addr_prefix, const char *gw)
{
	struct ipaddr a;
	int len;
	memset(h, 0, sizeof(*h));
	ck_assert_int_eq(pkt_in_use(), 0);
	stack_init(&h->s, "", 1);
	if (getenv("TAPSTACK_TEST_TRACE"))
		h->s.trace = stderr;
	h->dev = testdev_new();
	h->ifp = stack_add_netif(&h->s, h->dev, t_mac_host);
	ck_assert_ptr_nonnull(h->ifp);
	/* MLD reports would come before every DAD probe; tests/check_slaac.c
	 * turns them back on where it tests them */
	h->ifp->ip6.mld.off = true;
	ck_assert_int_eq(ipaddr_pton_prefix(addr_prefix, &a, &len), 0);
	ck_assert_int_eq(stack_set_ipv4(&h->s, h->ifp, ipaddr_to_v4(&a), len), 0);
	if (gw) {
		ck_assert_int_eq(ipaddr_pton(gw, &a), 0);
		ck_assert_int_eq(stack_set_gateway4(&h->s, h->ifp, ipaddr_to_v4(&a)), 0);
	}
	stack_start(&h->s, h->now);
	pkt_free(testdev_take_sent(h->dev)); /* the gratuitous ARP */
	/* and not the second one, 2 s later, in every test that waits that long
	 * (tests/check_arp.c tests both) */
	h->ifp->arp_announces_left = 0;
}

void harness_fini(struct harness *h)
{
	stack_fini(&h->s);
	netdev_close(h->dev);
	ck_assert_int_eq(pkt_in_use(), 0);
}

void inject(struct harness *h, const uint8_t *frame, size_t len)
{
	testdev_inject(h->dev, frame, len);
	stack_poll(&h->s, h->now);
}

void advance(struct harness *h, int64_t us)
{
	int64_t end = h->now + us;
	for (int guard = 0; guard < 1000000; guard++) {
		int64_t d = stack_next_deadline(&h->s);
		if (d > end)
			break;
		if (d > h->now)
			h->now = d;
		stack_poll(&h->s, h->now);
		if (stack_next_deadline(&h->s) <= h->now)
			h->now++; /* a timer that did not move: step past it */
	}
	h->now = end;
	stack_poll(&h->s, h->now);
}

struct pkt *expect_tx(struct harness *h)
{
	struct pkt *p = testdev_take_sent(h->dev);
	ck_assert_msg(p != NULL, "expected the host to send a frame, it sent none");
	return p;
}

void expect_no_tx(struct harness *h)
{
	struct pkt *p = testdev_take_sent(h->dev);
	size_t len = p ? p->len : 0;
	pkt_free(p);
	ck_assert_msg(p == NULL, "expected silence, the host sent a %zu-byte frame", len);
}

void drop_tx(struct harness *h)
{
	while (testdev_sent_count(h->dev))
		pkt_free(testdev_take_sent(h->dev));
}

struct ipaddr v6(const char *text)
{
	struct ipaddr a;
	ck_assert_int_eq(ipaddr_pton(text, &a), 0);
	ck_assert_int_eq(a.family, AF_INET6);
	return a;
}

size_t vector_frame(const char *file, int index, uint8_t *buf, size_t cap)
{
	char path[512], err[PCAP_ERRBUF_SIZE];
	const char *dir = getenv("TAPSTACK_VECTORS");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/vectors", file);
	pcap_t *pc = pcap_open_offline(path, err);
	ck_assert_msg(pc != NULL, "cannot open %s: %s (run the tests from the top of the tree)", path, err);
	struct pcap_pkthdr *ph;
	const u_char *data;
	size_t len = 0;
	int found = 0;
	for (int i = 1; pcap_next_ex(pc, &ph, &data) == 1; i++) {
		if (i == index) {
			ck_assert_uint_le(ph->caplen, cap);
			memcpy(buf, data, ph->caplen);
			len = ph->caplen;
			found = 1;
			break;
		}
	}
	pcap_close(pc);
	ck_assert_msg(found, "%s has no frame %d", path, index);
	return len;
}

size_t build_ipv4_frame(uint8_t *buf, const uint8_t dst_mac[6], const uint8_t src_mac[6], uint32_t src,
			uint32_t dst, uint8_t proto, const uint8_t *payload, size_t plen)
{
	memcpy(buf, dst_mac, 6);
	memcpy(buf + 6, src_mac, 6);
	be16_put(buf + 12, 0x0800);
	uint8_t *ip = buf + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	be16_put(ip + 2, (uint16_t)(20 + plen));
	be16_put(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = proto;
	be32_put(ip + 12, src);
	be32_put(ip + 16, dst);
	be16_put(ip + 10, inet_csum(ip, 20));
	if (plen)
		memcpy(ip + 20, payload, plen);
	return 14 + 20 + plen;
}

size_t build_icmp_frame(uint8_t *buf, uint8_t type, uint32_t src, uint32_t dst, uint16_t id,
			uint16_t seq, size_t datalen)
{
	uint8_t icmp[1600];
	ck_assert_uint_le(datalen, sizeof(icmp) - ICMP_HDR_LEN);
	icmp[0] = type;
	icmp[1] = 0;
	be16_put(icmp + 2, 0);
	be16_put(icmp + 4, id);
	be16_put(icmp + 6, seq);
	for (size_t i = 0; i < datalen; i++)
		icmp[ICMP_HDR_LEN + i] = (uint8_t)(i * 13 + 1);
	be16_put(icmp + 2, inet_csum(icmp, ICMP_HDR_LEN + datalen));
	return build_ipv4_frame(buf, t_mac_host, t_mac_peer, src, dst, IP_PROTO_ICMP, icmp,
				ICMP_HDR_LEN + datalen);
}

void harness_learn_peer(struct harness *h)
{
	uint8_t f[128];
	size_t n = vector_frame("icmp-echo.pcap", 1, f, sizeof(f));
	inject(h, f, n);
	pkt_free(expect_tx(h));
	ck_assert_ptr_nonnull(arp_cache_lookup(&h->s.arp, 0x0a000001));
}

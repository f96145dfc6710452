/* Unit tests of the Ethernet codec, of eth_input / eth_output and of the
 * interface's multicast filter. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "link/eth.h"
#include "stack/byteorder.h"
#include "tests/harness.h"

START_TEST(eth_codec_round_trip_on_capture)
{
	uint8_t f[128];
	size_t len = vector_frame("arp.pcap", 4, f, sizeof(f)); /* ARP who-has from 02:..:01 */
	struct eth_hdr h;
	ck_assert_ptr_null(eth_parse(f, len, &h));
	ck_assert(mac_is_broadcast(h.dst));
	ck_assert_mem_eq(h.src, t_mac_peer, 6);
	ck_assert_uint_eq(h.type, ETH_TYPE_ARP);
	uint8_t out[ETH_HDR_LEN];
	eth_emit(&h, out);
	ck_assert_mem_eq(out, f, ETH_HDR_LEN);
	ck_assert_str_eq(eth_parse(f, 13, &h), "eth.short_frame");
}
END_TEST

START_TEST(mac_text)
{
	uint8_t m[6];
	char buf[ETH_MAC_STRLEN];
	ck_assert_int_eq(mac_pton("02:00:0a:00:00:FF", m), 0);
	ck_assert_str_eq(mac_ntop(m, buf), "02:00:0a:00:00:ff");
	ck_assert_int_eq(mac_pton("02:00:0a:00:00", m), -1);
	ck_assert_int_eq(mac_pton("02:00:0a:00:00:ff:11", m), -1);
	ck_assert_int_eq(mac_pton("02-00-0a-00-00-ff", m), -1);
	ck_assert_int_eq(mac_pton("", m), -1);
}
END_TEST

/* Builds a minimal frame with this destination, source and type. */
static size_t frame(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memset(f, 0, 60);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	be16_put(f + 12, type);
	return 60;
}

START_TEST(eth_input_drops_with_reasons)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	uint8_t f[60];
	const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	const uint8_t group[6] = { 0x01, 0, 0x5e, 0, 0, 0x01 };
	const uint8_t v6mcast[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };

	inject(&h, f, frame(f, other, t_mac_peer, ETH_TYPE_IPV4));
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.not_for_us"), 1);
	inject(&h, f, frame(f, v6mcast, t_mac_peer, ETH_TYPE_IPV6));
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.not_for_us"), 2);
	inject(&h, f, frame(f, t_mac_host, group, ETH_TYPE_IPV4));
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.bad_source"), 1);
	inject(&h, f, frame(f, t_mac_host, t_mac_peer, ETH_TYPE_IPV6));
	ck_assert_uint_eq(stats_get(&h.s.stats, "ip6.rx"), 1); /* handed to IPv6 */
	inject(&h, f, frame(f, t_mac_host, t_mac_peer, 0x88cc)); /* LLDP */
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.unknown_type"), 1);
	inject(&h, f, frame(f, eth_broadcast, t_mac_peer, 0x0040)); /* an 802.3 length */
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.802_3_length_frame"), 1);
	inject(&h, f, 10);
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.short_frame"), 1);
	inject(&h, f, 0);
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.short_frame"), 2);
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.rx_frames"), 8);
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

/* The multicast filter (netif_mcast_add / _del): a frame to a group MAC it
 * holds is accepted, to another group MAC dropped as "eth.not_for_us", and
 * after the last reference is gone dropped again; when full, the add is
 * refused under "eth.mcast_filter_full". */
START_TEST(eth_mcast_filter)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	uint8_t f[60];
	const uint8_t joined[6] = { 0x33, 0x33, 0xff, 0, 0, 0x42 };
	const uint8_t other[6] = { 0x33, 0x33, 0xff, 0, 0, 0x43 };

	inject(&h, f, frame(f, joined, t_mac_peer, ETH_TYPE_IPV6));
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.not_for_us"), 1);
	ck_assert_int_eq(netif_mcast_add(&h.s, h.ifp, joined), 0);
	ck_assert(netif_mcast_has(h.ifp, joined));
	inject(&h, f, frame(f, joined, t_mac_peer, ETH_TYPE_IPV6));
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.not_for_us"), 1);
	ck_assert_uint_eq(stats_get(&h.s.stats, "ip6.rx"), 1); /* accepted, handed to IPv6 */
	inject(&h, f, frame(f, other, t_mac_peer, ETH_TYPE_IPV6));
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.not_for_us"), 2);
	ck_assert_uint_eq(stats_get(&h.s.stats, "ip6.rx"), 1);

	/* two references (two addresses with one solicited-node group): the
	 * first leave keeps the MAC, the second removes it */
	ck_assert_int_eq(netif_mcast_add(&h.s, h.ifp, joined), 0);
	netif_mcast_del(h.ifp, joined);
	inject(&h, f, frame(f, joined, t_mac_peer, ETH_TYPE_IPV6));
	ck_assert_uint_eq(stats_get(&h.s.stats, "ip6.rx"), 2);
	netif_mcast_del(h.ifp, joined);
	ck_assert(!netif_mcast_has(h.ifp, joined));
	inject(&h, f, frame(f, joined, t_mac_peer, ETH_TYPE_IPV6));
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.not_for_us"), 3);
	ck_assert_uint_eq(stats_get(&h.s.stats, "ip6.rx"), 2);
	netif_mcast_del(h.ifp, joined); /* not held: ignored */
	ck_assert(!netif_mcast_has(h.ifp, joined));

	/* a bounded table: ETH_MCAST_MAX MACs, then a counted refusal */
	uint8_t m[6] = { 0x33, 0x33, 0xff, 0, 1, 0 };
	for (int i = 0; i < ETH_MCAST_MAX; i++) {
		m[5] = (uint8_t)i;
		ck_assert_int_eq(netif_mcast_add(&h.s, h.ifp, m), 0);
	}
	m[5] = ETH_MCAST_MAX;
	ck_assert_int_eq(netif_mcast_add(&h.s, h.ifp, m), -ENOSPC);
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.mcast_filter_full"), 1);
	ck_assert(!netif_mcast_has(h.ifp, m));
	m[5] = 0;
	ck_assert_int_eq(netif_mcast_add(&h.s, h.ifp, m), 0); /* one held: a reference more */
	expect_no_tx(&h);
	harness_fini(&h);
}
END_TEST

START_TEST(eth_output_frames_and_pads)
{
	struct harness h;
	harness_init(&h, "10.0.0.2/24", NULL);
	uint64_t sent_before = stats_get(&h.s.stats, "eth.tx_frames"); /* the gratuitous ARP */
	struct pkt *p = pkt_alloc(10);
	memcpy(pkt_put(p, 5), "hello", 5);
	ck_assert_int_eq(eth_output(&h.s, h.ifp, p, t_mac_peer, ETH_TYPE_IPV4), 0);
	struct pkt *out = expect_tx(&h);
	ck_assert_uint_eq(out->len, ETH_MIN_FRAME);
	ck_assert_mem_eq(out->data, t_mac_peer, 6);
	ck_assert_mem_eq(out->data + 6, t_mac_host, 6);
	ck_assert_uint_eq(be16_get(out->data + 12), ETH_TYPE_IPV4);
	ck_assert_mem_eq(out->data + 14, "hello", 5);
	for (size_t i = 19; i < ETH_MIN_FRAME; i++)
		ck_assert_uint_eq(out->data[i], 0);
	pkt_free(out);

	/* A full-size frame is not padded. */
	p = pkt_alloc(1500);
	memset(pkt_put(p, 1500), 0xab, 1500);
	eth_output(&h.s, h.ifp, p, t_mac_peer, ETH_TYPE_IPV4);
	out = expect_tx(&h);
	ck_assert_uint_eq(out->len, ETH_MAX_FRAME);
	pkt_free(out);
	ck_assert_uint_eq(stats_get(&h.s.stats, "eth.tx_frames"), sent_before + 2);
	harness_fini(&h);
}
END_TEST

Suite *eth_suite(void)
{
	Suite *s = suite_create("eth");
	TCase *tc = tcase_create("eth");
	tcase_add_test(tc, eth_codec_round_trip_on_capture);
	tcase_add_test(tc, mac_text);
	tcase_add_test(tc, eth_input_drops_with_reasons);
	tcase_add_test(tc, eth_mcast_filter);
	tcase_add_test(tc, eth_output_frames_and_pads);
	suite_add_tcase(s, tc);
	return s;
}

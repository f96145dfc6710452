/* The list of test suites: one SUITE(name_suite) line per tests/check_*.c.
 * Included twice by check_main.c: once for declarations, once to run. */
#ifndef SUITE
#include <check.h>
#define SUITE(fn) Suite *fn(void);
#define TAPSTACK_SUITES_UNDEF
#endif

SUITE(core_suite)      /* tests/check_core.c: pkt, checksum, rng, stats, addr */
SUITE(eth_suite)       /* tests/check_eth.c: Ethernet codec and input */
SUITE(link_suite)      /* tests/check_link.c: simlink, impair, pcap devices */
SUITE(arp_suite)       /* tests/check_arp.c: ARP codec and cache on virtual time */
SUITE(ipv4_suite)      /* tests/check_ipv4.c: IPv4 codec, input, output, routes */
SUITE(icmp_suite)      /* tests/check_icmp.c: ICMP echo and errors */
SUITE(frag_suite)      /* tests/check_frag.c: IPv4 fragmentation and reassembly */
SUITE(udp_suite)       /* tests/check_udp.c: UDP codec, demultiplexing, sockets over UDP */
SUITE(sim_suite)       /* tests/check_sim.c: two hosts on a simlink */
SUITE(fuzz_suite)      /* tests/check_fuzz.c: hostile frames into a host and the codecs */

#ifdef TAPSTACK_SUITES_UNDEF
#undef SUITE
#undef TAPSTACK_SUITES_UNDEF
#endif

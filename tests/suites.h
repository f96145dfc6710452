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
SUITE(offload_suite)   /* tests/check_offload.c: virtio-net header, TSO out, GRO in */
SUITE(arp_suite)       /* tests/check_arp.c: ARP codec and cache on virtual time */
SUITE(ipv4_suite)      /* tests/check_ipv4.c: IPv4 codec, input, output, routes */
SUITE(icmp_suite)      /* tests/check_icmp.c: ICMP echo and errors */
SUITE(ipv6_suite)      /* tests/check_ipv6.c: IPv6 codec and extension headers, ICMPv6, NDP, DAD */
SUITE(ipv6_sock_suite) /* tests/check_ipv6_sock.c: AF_INET6 UDP and TCP sockets, ICMPv6 errors, 10 MB over TCP/IPv6 on a simlink */
SUITE(slaac_suite)     /* tests/check_slaac.c: SLAAC, RFC 7217 and EUI-64 identifiers, RA parameters, MLDv2 */
SUITE(dhcp_suite)      /* tests/check_dhcp.c: the DHCP client: exchange, backoff, NAK, T1/T2, expiry, RELEASE, hostile replies */
SUITE(forward_suite)   /* tests/check_forward.c: IPv4 forwarding: TTL, ICMP errors, fragments, martians (RFC 1812) */
SUITE(frag_suite)      /* tests/check_frag.c: IPv4 fragmentation and reassembly */
SUITE(ipv6_frag_suite) /* tests/check_ipv6_frag.c: IPv6 fragmentation and reassembly, path MTU */
SUITE(udp_suite)       /* tests/check_udp.c: UDP codec, demultiplexing, sockets over UDP */
SUITE(ring_suite)      /* tests/check_ring.c: the growable byte ring of TCP's buffers */
SUITE(tcp_codec_suite) /* tests/check_tcp_codec.c: TCP segment codec, options, SEQ_* */
SUITE(tcp_input_suite) /* tests/check_tcp_input.c: SEGMENT ARRIVES, state by state (RFC 9293 3.10.7) */
SUITE(tcp_output_suite) /* tests/check_tcp_output.c: sending, windows, Nagle, SWS, RTT, RSTs, Reno */
SUITE(tcp_syn_suite)    /* tests/check_tcp_syn.c: SYN floods, the SYN queue, SYN cookies, challenge ACK limits per connection */
SUITE(tcp_sack_suite)   /* tests/check_tcp_sack.c: one ACK's SACK work bounded at 4 MB in flight, the pipe against a recount, the MSS floor */
SUITE(tcp_timer_suite)  /* tests/check_tcp_timer.c: the timer heap, RTO, persist, delayed ACK, keep-alive, TIME-WAIT */
SUITE(tcp_mem_suite)    /* tests/check_tcp_mem.c: TIME-WAIT without buffers and its limit, orphans, the TCP memory budget (issue 20) */
SUITE(sim_suite)       /* tests/check_sim.c: two hosts on a simlink */
SUITE(epoll_suite)     /* tests/check_epoll.c: net_epoll_* reports exactly the ready sockets, at a cost that follows activity */
SUITE(fuzz_suite)      /* tests/check_fuzz.c: hostile frames into a host and the codecs */
SUITE(tcp_sim_suite)   /* tests/check_tcp_sim.c: two hosts, 10 MB each way over a bad link, 100 seeds */
SUITE(tcp_trace_suite) /* tests/check_tcp_trace.c: --tcp-trace rows on a lossy simlink, tcpplot's parser */
SUITE(tcp_cc_suite)    /* tests/check_tcp_cc.c: congestion control shapes per RTT, CUBIC curve, RTO, NewReno, SACK, fairness */
SUITE(http_suite)      /* tests/check_http.c: HTTP request parser, paths, ranges, dates, MIME, client side */
SUITE(http_sim_suite)  /* tests/check_http_sim.c: httpd and a client on a lossy simlink: 20 MB, 100 keep-alive requests */
SUITE(dns_suite)       /* tests/check_dns.c: DNS codec, hostile messages, cache on virtual time */
SUITE(firewall_suite)  /* tests/check_firewall.c: the stateful packet filter: rules, flows, related ICMP, expiry, the table's bound */
SUITE(dns_sim_suite)   /* tests/check_dns_sim.c: DNS queries over a lossy simlink, retries, spoofing */
SUITE(preload_suite)   /* tests/check_preload.c: the fd table of tapstack-run's shim (dups, last close) */

#ifdef TAPSTACK_SUITES_UNDEF
#undef SUITE
#undef TAPSTACK_SUITES_UNDEF
#endif

#!/usr/bin/env bash
# ping -6 from the kernel (fd00::1 on br0) to the stack (--ip6 fd00::2/64):
# the stack passes duplicate address detection, answers the kernel's
# neighbor solicitation and 5 echo requests, and 3 more to its link-local
# address fe80::ff:fe00:2 (EUI-64 of its MAC); the kernel's neighbor cache
# holds the stack's MAC, the stack's holds the kernel's; the pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

HOST_IP6=fd00::2

host_start --ip6 "$HOST_IP6/64"

dad_done() { [ "$(stat_get ndp.dad_ok)" -ge 2 ]; }
wait_until 5 dad_done || fail "DAD did not finish for fe80::ff:fe00:2 and $HOST_IP6"
ok "duplicate address detection passed for the link-local and the static address"

out=$(nsx ping -6 -n -c 5 -i 0.2 -W 2 -w 20 "$HOST_IP6") || true
echo "$out" | tail -n 2
echo "$out" | grep -q "5 packets transmitted, 5 received, 0% packet loss" ||
	fail "ping -6 -c 5: want 5 replies and 0% loss"
ok "5 echo requests over IPv6, 5 replies"

out=$(nsx ping -6 -n -c 3 -i 0.2 -W 2 -w 20 "fe80::ff:fe00:2%br0") || true
echo "$out" | tail -n 2
echo "$out" | grep -q "3 packets transmitted, 3 received, 0% packet loss" ||
	fail "ping -6 fe80::ff:fe00:2%br0: want 3 replies from the link-local address"
ok "the link-local address fe80::ff:fe00:2 (EUI-64 of $HOST_MAC) answers"

neigh=$(nsx ip -6 neigh show "$HOST_IP6" dev br0)
echo "$neigh"
echo "$neigh" | grep -q "lladdr $HOST_MAC" || fail "ip -6 neigh: no entry with lladdr $HOST_MAC"
ok "the kernel's neighbor cache: $HOST_IP6 is at $HOST_MAC"

mine=$("$TAPCTL" --ctl "$CTL" neigh)
echo "$mine"
echo "$mine" | grep -q "^fd00::1 dev tap0 lladdr 02:00:00:00:00:01 " ||
	fail "tapctl neigh: no NDP entry for fd00::1"
ok "tapctl neigh shows fd00::1"

host_stop
check_pcap "$PCAP"
n=$(tshark -n -r "$PCAP" -Y 'icmpv6.checksum.status == 0' 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "$n ICMPv6 frame(s) with a bad checksum"
ok "no bad ICMPv6 checksum"

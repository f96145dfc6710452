#!/usr/bin/env bash
# ARP: arping gets one reply per request from the stack's MAC, and the
# kernel's neighbor table learns 02:00:00:00:00:02 for 10.0.0.2.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

host_start

# Debian has two arpings: iputils-arping (the Makefile's) and Thomas Habets'
# arping. Both are handled; their options and output differ.
if arping -V 2>&1 | grep -qi iputils; then
	# -w: wait until 3 replies came (or 10 s), not only until 3 were sent.
	out=$(nsx arping -c 3 -w 10 -I br0 "$HOST_IP" 2>&1) || true
	echo "$out"
	n=$(echo "$out" | grep -ci "reply from $HOST_IP \[$HOST_MAC\]" || true)
	echo "$out" | grep -q "Received 3 response" || fail "arping: want 'Received 3 response(s)'"
else
	out=$(nsx arping -c 3 -w 10 -i br0 "$HOST_IP" 2>&1) || true
	echo "$out"
	n=$(echo "$out" | grep -ci "bytes from $HOST_MAC ($HOST_IP)" || true)
	echo "$out" | grep -q "3 packets received" || fail "arping: want '3 packets received'"
fi
[ "$n" -eq 3 ] || fail "arping: want 3 replies from $HOST_IP at $HOST_MAC, got $n"
ok "arping: 3 requests, 3 replies from $HOST_MAC"

# arping uses a raw socket; the kernel's own ARP cache fills when it talks.
nsx ping -n -c 1 -W 2 "$HOST_IP" >/dev/null || fail "ping -c 1 got no reply"
neigh=$(nsx ip neigh show "$HOST_IP" dev br0)
echo "ip neigh: $neigh"
echo "$neigh" | grep -qi "lladdr $HOST_MAC" || fail "ip neigh does not show $HOST_MAC for $HOST_IP"
ok "the kernel's neighbor table has $HOST_IP at $HOST_MAC"

host_stop
check_pcap "$PCAP"

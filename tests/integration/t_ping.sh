#!/usr/bin/env bash
# ping from the kernel to the stack: 50 quick echoes with no loss, then
# 1472-byte payloads (1500-byte IP datagrams, the largest without fragments)
# answered in full; the stack's pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

host_start

out=$(nsx ping -n -c 50 -i 0.05 -W 2 -w 30 "$HOST_IP") || true
echo "$out" | tail -n 2
echo "$out" | grep -q "50 packets transmitted, 50 received, 0% packet loss" ||
	fail "ping -c 50: want 50 replies and 0% loss"
ok "50 echo requests, 50 replies"

out=$(nsx ping -n -c 5 -i 0.2 -s 1472 -W 2 -w 20 "$HOST_IP") || true
echo "$out"
n=$(echo "$out" | grep -c "^1480 bytes from $HOST_IP: icmp_seq=" || true)
[ "$n" -eq 5 ] || fail "ping -s 1472: want 5 replies of 1480 bytes, got $n"
echo "$out" | grep -q "5 packets transmitted, 5 received" || fail "ping -s 1472: lost replies"
# A reply with the wrong payload makes ping print "wrong data byte".
echo "$out" | grep -qi "wrong data" && fail "ping -s 1472: reply payload differs from the request"
ok "5 echoes of 1472 bytes answered in full"

host_stop
check_pcap "$PCAP"

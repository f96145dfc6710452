#!/usr/bin/env bash
# ping from the kernel to the stack: 50 quick echoes with no loss, then
# 1472-byte payloads (1500-byte IP datagrams, the largest without fragments)
# answered in full; ping -R and ping -T get their Record Route and Timestamp
# options back with the host in them (RFC 1122 3.2.2.6), as from Linux; the
# stack's pcap is clean.
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

# ping -R: the route of the round trip, the host in it twice (it received
# the request, it sent the reply), as a Linux host answers
out=$(nsx ping -n -R -c 1 -W 2 "$HOST_IP") || true
echo "$out" | head -n 7
rr=$(echo "$out" | sed -n '/^RR:/,/^$/p' | grep -oE '[0-9]+(\.[0-9]+){3}' | tr '\n' ' ')
[ "$rr" = "$GW_IP $HOST_IP $HOST_IP $GW_IP " ] ||
	fail "ping -R: route '$rr', want '$GW_IP $HOST_IP $HOST_IP $GW_IP'"
ok "ping -R: RR $rr"
# ping -T tsandaddr: the host's address with its timestamps (a standard
# one: milliseconds since midnight UT, so ping prints no "not-standard")
out=$(nsx ping -n -T tsandaddr -c 1 -W 2 "$HOST_IP") || true
echo "$out" | head -n 7
ts=$(echo "$out" | sed -n '/^TS:/,/^$/p')
[ "$(echo "$ts" | grep -c "$HOST_IP")" -eq 2 ] || fail "ping -T tsandaddr: the host is not in the timestamps twice"
echo "$ts" | grep -qi "not-standard\|absolute not" && fail "ping -T: a non-standard timestamp"
ok "ping -T tsandaddr: the host's two timestamps returned"
[ "$(stat_get icmp.echo_options_returned)" -eq 2 ] || fail "icmp.echo_options_returned is not 2"

host_stop
check_pcap "$PCAP"

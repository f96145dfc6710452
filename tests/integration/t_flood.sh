#!/usr/bin/env bash
# A flood ping: 2000 echo requests sent as fast as replies come back, every
# one answered, and the stack's counters agree.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

# No --trace here: a trace line per packet is not what this measures.
"$NET" up 1 >/dev/null
host_spawn --tap tap0 --ip "$HOST_IP/24" --gw "$GW_IP" --mac "$HOST_MAC" \
	--pcap "$PCAP" --ctl "$CTL" --seed 1

before=$(stat_get icmp.rx_echo_request)
out=$(nsx ping -n -f -c 2000 -w 60 "$HOST_IP" 2>&1) || true
echo "$out" | tail -n 2
echo "$out" | grep -q "2000 packets transmitted, 2000 received" ||
	fail "flood ping: want 2000 transmitted, 2000 received"
ok "flood: 2000 echo requests, 2000 replies ($(echo "$out" | grep -o 'rtt.*'))"

after=$(stat_get icmp.rx_echo_request)
echo "icmp.rx_echo_request: $before -> $after"
"$TAPCTL" --ctl "$CTL" stats | grep -Ei 'drop|bad|full|err' || true

host_stop
check_pcap "$PCAP"
n=$(tshark -n -r "$PCAP" -Y "icmp.type == 0" 2>/dev/null | wc -l)
[ "$n" -ge 2000 ] || fail "the pcap holds $n echo replies, want 2000"
ok "the pcap holds $n echo replies"

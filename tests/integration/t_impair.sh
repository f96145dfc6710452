#!/usr/bin/env bash
# --impair on a real TAP: with loss=30% some pings go unanswered but not all,
# the dice are counted as impair.loss, and with delay=20 every reply is late.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

host_start --impair loss=30%
out=$(nsx timeout 20 ping -n -c 40 -i 0.02 -W 1 "$HOST_IP") || true
echo "$out" | tail -n 2
rx=$(echo "$out" | sed -n "s/^40 packets transmitted, \([0-9]*\) received.*/\1/p")
[ -n "$rx" ] || fail "cannot read ping's summary"
# Either direction may drop: P(reply) = 0.7 * 0.7 = 0.49, so 40 pings give
# 8..32 replies with a probability far above 0.9999.
[ "$rx" -ge 8 ] && [ "$rx" -le 32 ] || fail "loss=30%: $rx of 40 replies, want 8..32"
lost=$(stat_get impair.loss)
[ "$lost" -gt 0 ] || fail "impair.loss did not move"
ok "loss=30%: $rx of 40 replies, impair.loss $lost"
host_stop

host_start --impair delay=20
out=$(nsx ping -n -c 5 -i 0.1 -W 2 -w 20 "$HOST_IP") || true
echo "$out" | tail -n 2
echo "$out" | grep -q "5 packets transmitted, 5 received" || fail "delay=20: lost replies"
min=$(echo "$out" | sed -n 's|^rtt min/avg/max/mdev = \([0-9]*\)\..*|\1|p')
[ -n "$min" ] && [ "$min" -ge 20 ] || fail "delay=20: smallest RTT ${min:-?} ms, want >= 20 ms"
ok "delay=20: every RTT >= 20 ms (min $min ms)"
host_stop
check_pcap "$PCAP"

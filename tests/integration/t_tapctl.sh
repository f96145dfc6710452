#!/usr/bin/env bash
# tapctl looks inside a running host: counters that move with traffic, the
# ARP cache with the gateway, the routes with the default route.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

host_start

# Which counter counts the echo requests answered: icmp.rx_echo_request if
# the host has it, else the first icmp.*echo*req* name, else icmp.tx_echo_reply.
nsx ping -n -c 1 -W 2 "$HOST_IP" >/dev/null || fail "ping -c 1 got no reply"
stats=$("$TAPCTL" --ctl "$CTL" stats) || fail "tapctl stats failed"
echo "$stats"
name=icmp.rx_echo_request
echo "$stats" | grep -q "^$name " ||
	name=$(echo "$stats" | awk '$1 ~ /^icmp\..*echo.*req/ { print $1; exit }')
[ -n "$name" ] || ! echo "$stats" | grep -q "^icmp.tx_echo_reply " || name=icmp.tx_echo_reply
[ -n "$name" ] || fail "tapctl stats shows no icmp echo request counter"
echo "$stats" | awk '{ exit !(NF == 2 && $2 ~ /^[0-9]+$/) }' ||
	fail "tapctl stats: want 'name value' lines"

before=$(stat_get "$name")
nsx ping -n -c 5 -i 0.1 -W 2 "$HOST_IP" >/dev/null || fail "ping -c 5 lost replies"
after=$(stat_get "$name")
echo "$name: $before -> $after"
[ "$((after - before))" -eq 5 ] || fail "$name moved by $((after - before)), want 5"
ok "tapctl stats: $name moved by 5 for 5 echo requests"

neigh=$("$TAPCTL" --ctl "$CTL" neigh) || fail "tapctl neigh failed"
echo "$neigh"
echo "$neigh" | grep -Eq "^$GW_IP .*lladdr 02:00:00:00:00:01" ||
	fail "tapctl neigh does not show $GW_IP at the bridge's MAC 02:00:00:00:00:01"
ok "tapctl neigh shows $GW_IP"

routes=$("$TAPCTL" --ctl "$CTL" routes) || fail "tapctl routes failed"
echo "$routes"
echo "$routes" | grep -Eq "^(default|0\.0\.0\.0/0).*$GW_IP" ||
	fail "tapctl routes shows no default route via $GW_IP"
echo "$routes" | grep -q "10.0.0.0/24" || fail "tapctl routes shows no route to 10.0.0.0/24"
ok "tapctl routes shows the default route via $GW_IP and 10.0.0.0/24"

"$TAPCTL" --ctl "$TMP/no-such.ctl" stats >/dev/null 2>&1 &&
	fail "tapctl exits 0 although nothing listens on its socket"
ok "tapctl exits non-zero when it cannot connect"

# Last, so that the checks above run even if this one fails.
names=$(echo "$stats" | awk '{print $1}')
[ "$names" = "$(echo "$names" | LC_ALL=C sort)" ] ||
	fail "tapctl stats: names not sorted: $(echo "$names" | tr '\n' ' ')"
ok "tapctl stats: names sorted"

host_stop
check_pcap "$PCAP"

#!/usr/bin/env bash
# --ip dhcp against dnsmasq's DHCP server in the test's namespace: the host
# leases an address (DISCOVER, OFFER, REQUEST, ACK), answers ping at it,
# tapctl dhcp shows the lease, router and DNS server, its DNS service asks
# the DNS server the lease named (the lab's dnsmasq at 10.0.0.1), not the
# router (10.0.0.254, which nobody answers for), and on SIGTERM the host
# sends a RELEASE that makes dnsmasq drop the lease from its file. Then
# resolve, another program, with --ip dhcp: it waits for its lease, asks
# the lease's DNS server, and gives the lease back when it exits.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

MAC=02:00:00:00:00:42
ROUTER=10.0.0.254

"$NET" up 1 >/dev/null
dhcpd_start "$ROUTER" "$GW_IP"

host_spawn --tap tap0 --ip dhcp --mac "$MAC" --pcap "$PCAP" --ctl "$CTL" --trace --seed 1

bound() { "$TAPCTL" --ctl "$CTL" dhcp | grep -q " dhcp BOUND "; }
wait_until 20 bound || {
	"$TAPCTL" --ctl "$CTL" dhcp >&2
	tail -n 20 "$TRACE" >&2
	fail "no lease after 20 s"
}
line=$("$TAPCTL" --ctl "$CTL" dhcp)
echo "$line"
addr=$(echo "$line" | sed -n 's/.* lease \(10\.0\.0\.[0-9]*\)\/24 .*/\1/p')
[ -n "$addr" ] || fail "tapctl dhcp shows no lease in 10.0.0.0/24"
echo "$line" | grep -q "server $GW_IP router $ROUTER dns $GW_IP lease_time 120s t1 60s t2 105s" ||
	fail "tapctl dhcp: want server and dns $GW_IP, router $ROUTER, lease 120 s, T1 60 s, T2 105 s"
ok "leased $addr; tapctl dhcp shows server, router, DNS, lease, T1 and T2"

grep -qi "$MAC" "$LEASES" || fail "dnsmasq's lease file does not list $MAC"
nsx ping -n -c 3 -i 0.2 -W 2 "$addr" >/dev/null || fail "no ping reply from $addr"
ok "the host answers ping at its leased address $addr"

"$TAPCTL" --ctl "$CTL" routes | grep -Eq "^(default|0\.0\.0\.0/0).*$ROUTER" ||
	fail "tapctl routes shows no default route via $ROUTER"
ok "the default route goes via the router option's $ROUTER"

# The host's DNS service has no --dns-upstream: it must ask the server the
# lease named, which knows the lab's zone
ans=$(nsx dig @"$addr" +short +time=3 +tries=2 www.lab.test A) || true
[ "$ans" = 10.0.0.2 ] || fail "dig @$addr www.lab.test gave '$ans', want 10.0.0.2 (asked of the DHCP DNS server)"
ok "the host's DNS service asks the DHCP-given server $GW_IP"

host_stop
gone() { ! grep -qi "$MAC" "$LEASES"; }
wait_until 5 gone || {
	cat "$LEASES" "$TMP/dnsmasq-dhcp.log" >&2
	fail "dnsmasq still lists $MAC after the host stopped: no RELEASE"
}
grep -q "DHCPRELEASE(br0) $addr" "$TMP/dnsmasq-dhcp.log" || fail "dnsmasq logged no DHCPRELEASE"
ok "on SIGTERM the host released $addr (dnsmasq's lease file no longer lists it)"

# Any program takes --ip dhcp: resolve's host_open waits for the lease,
# then it asks the DNS server the lease named (the router answers nothing)
MAC2=02:00:00:00:00:44
out=$(nsx timeout 60 "$BUILD/resolve" --tap tap0 --ip dhcp --mac "$MAC2" --ctl none --seed 3 \
	www.lab.test 2>&1) || fail "resolve --ip dhcp failed: $out"
echo "$out"
echo "$out" | grep -Eq "^www\.lab\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.0\.0\.2$" ||
	fail "resolve --ip dhcp: no A record 10.0.0.2 for www.lab.test"
grep -qi "DHCPACK(br0) [0-9.]* $MAC2" "$TMP/dnsmasq-dhcp.log" || fail "dnsmasq leased nothing to resolve's $MAC2"
wait_until 5 bash -c "! grep -qi '$MAC2' '$LEASES'" || fail "resolve did not release its lease on exit"
ok "resolve --ip dhcp waited for its lease, asked the DHCP DNS server, released on exit"
stop_dhcpd
check_pcap "$PCAP"

#!/usr/bin/env bash
# --ip dhcp renews at T1 against dnsmasq (its shortest lease, 2 minutes, so
# T1 comes after 60 s: this test waits that long): the REQUEST goes unicast
# to the server (RFC 2131 4.4.5), dnsmasq ACKs it, and the host is BOUND
# again with the same address and a fresh lease, still answering ping.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v dnsmasq >/dev/null || fail "dnsmasq is not installed (apt-get install dnsmasq-base)"

MAC=02:00:00:00:00:43
LEASES=$TMP/dhcp.leases
DHCPD_PID=

"$NET" up 1 >/dev/null
nsx dnsmasq --conf-file=/dev/null --port=0 --interface=br0 --bind-interfaces \
	--dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0,2m \
	--dhcp-option=option:router,"$GW_IP" --dhcp-option=option:dns-server,"$GW_IP" \
	--dhcp-leasefile="$LEASES" --pid-file="$TMP/dhcpd.pid" \
	--log-facility="$TMP/dnsmasq-dhcp.log" --log-dhcp ||
	fail "dnsmasq (DHCP) did not start"
wait_until 5 test -s "$TMP/dhcpd.pid" || fail "dnsmasq wrote no PID file"
DHCPD_PID=$(cat "$TMP/dhcpd.pid")
[ "$(cat "/proc/$DHCPD_PID/comm" 2>/dev/null)" = dnsmasq ] || fail "PID $DHCPD_PID is not dnsmasq"
stop_dhcpd() {
	if [ -n "$DHCPD_PID" ]; then
		kill -TERM "$DHCPD_PID" 2>/dev/null
		DHCPD_PID=
	fi
}
# dnsmasq first, by its PID; then lib.sh's cleanup, given the test's status
trap 'rc=$?; stop_dhcpd; (exit "$rc"); cleanup' EXIT

host_spawn --tap tap0 --ip dhcp --mac "$MAC" --pcap "$PCAP" --ctl "$CTL" --trace --seed 2

bound() { "$TAPCTL" --ctl "$CTL" dhcp | grep -q " dhcp BOUND "; }
wait_until 20 bound || fail "no lease after 20 s"
addr=$("$TAPCTL" --ctl "$CTL" dhcp | sed -n 's/.* lease \(10\.0\.0\.[0-9]*\)\/24 .*/\1/p')
[ -n "$addr" ] || fail "tapctl dhcp shows no lease"
ok "leased $addr"

# T1 is 60 s after the ACK; renewed: dnsmasq has logged a second ACK
acks() { grep -c "DHCPACK(br0) $addr" "$TMP/dnsmasq-dhcp.log" || true; }
renewed() { [ "$(acks)" -ge 2 ] && bound; }
wait_until 90 renewed || {
	"$TAPCTL" --ctl "$CTL" dhcp >&2
	grep -i dhcp "$TRACE" | tail -n 10 >&2
	fail "no renewal 90 s after the lease"
}
line=$("$TAPCTL" --ctl "$CTL" dhcp)
echo "$line"
echo "$line" | grep -q "lease $addr/24 " || fail "the address changed on renewal"
grep -q "dhcp tx REQUEST .* from $addr to $GW_IP " "$TRACE" ||
	fail "the renewal REQUEST was not unicast from $addr to the server $GW_IP"
ok "renewed at T1 by a unicast REQUEST to $GW_IP; BOUND again with $addr"
nsx ping -n -c 2 -i 0.2 -W 2 "$addr" >/dev/null || fail "no ping reply from $addr after the renewal"
ok "ping still answered at $addr"

host_stop
stop_dhcpd
check_pcap "$PCAP"

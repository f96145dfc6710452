#!/usr/bin/env bash
# --ip dhcp renews at T1 against dnsmasq (its shortest lease, 2 minutes, so
# T1 comes after 60 s: this test waits that long): the REQUEST goes unicast
# to the server (RFC 2131 4.4.5), dnsmasq ACKs it, and the host is BOUND
# again with the same address and a fresh lease, still answering ping.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

MAC=02:00:00:00:00:43

"$NET" up 1 >/dev/null
dhcpd_start "$GW_IP" "$GW_IP"

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

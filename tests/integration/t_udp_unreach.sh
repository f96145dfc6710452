#!/usr/bin/env bash
# A UDP datagram to a port nobody listens on: the stack answers with an ICMP
# port unreachable (RFC 792, RFC 1122 4.1.3.1) that quotes the datagram,
# counts udp.no_port, and the kernel's connected socket reports "Connection
# refused". Never for a datagram sent to the broadcast address (RFC 1122
# 3.2.2); errors are rate limited (RFC 1812 4.3.2.8); a service left out
# with --serve is a closed port too.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"

host_start

# count FILTER: how many frames of the pcap match the display filter.
count() {
	tshark -n -r "$PCAP" -Y "$1" 2>/dev/null | wc -l
}
# The port unreachables from the stack that quote a datagram to port $1.
UNREACH='ip.src == '$HOST_IP' && icmp.type == 3 && icmp.code == 3'

# --- one datagram to a closed port, one ICMP port unreachable
# bash's /dev/udp opens a connected UDP socket and sends one datagram.
before=$(stat_get udp.no_port)
nsx timeout 5 bash -c "printf 'anyone there?' >/dev/udp/$HOST_IP/9991" ||
	fail "cannot send a datagram to $HOST_IP:9991"
sleep 0.3
no_port=$(($(stat_get udp.no_port) - before))
[ "$no_port" -eq 1 ] || fail "udp.no_port moved by $no_port for one datagram, want 1"
ok "udp.no_port moved by 1"

# --- a connected socket hears of it: the send after the error fails.
# The kernel keeps the ICMP error on the socket; the next call returns it.
out=$(nsx timeout 5 bash -c "exec 3<>/dev/udp/$HOST_IP/9992
	printf one >&3 && sleep 0.5 && printf two >&3 && echo 'second send worked'" 2>&1) || true
echo "$out"
echo "$out" | grep -q "Connection refused" ||
	fail "a connected socket to $HOST_IP:9992 did not get 'Connection refused'"
ok "a connected kernel socket gets 'Connection refused'"

# --- netcat sees it too, as an error instead of an answer
printf 'x' | nsx timeout 5 nc -u -n -w 2 -W 1 "$HOST_IP" 9993 >"$TMP/nc.out" 2>&1 && rc=0 || rc=$?
[ ! -s "$TMP/nc.out" ] || fail "nc got an answer from a closed port: $(cat "$TMP/nc.out")"
ok "nc -u to a closed port: no answer (status $rc)"

# --- a datagram to the subnet's broadcast address: no error (RFC 1122 3.2.2)
printf 'x' | nsx timeout 5 nc -u -b -n -w 1 10.0.0.255 9994 >/dev/null 2>&1 || true
sleep 0.3

# --- many at once: the rate limit (100 per second, bursts of 50) holds some back
limited_before=$(stat_get icmp.error_rate_limited)
no_port_before=$(stat_get udp.no_port)
t0=$(date +%s%N)
nsx timeout 20 bash -c "for i in \$(seq 300); do printf x >/dev/udp/$HOST_IP/9995; done" ||
	fail "cannot send 300 datagrams"
ms=$((($(date +%s%N) - t0) / 1000000))
sleep 0.3
limited=$(($(stat_get icmp.error_rate_limited) - limited_before))
arrived=$(($(stat_get udp.no_port) - no_port_before))
echo "300 datagrams to a closed port in $ms ms: udp.no_port +$arrived," \
	"icmp.error_rate_limited +$limited"
[ "$arrived" -eq 300 ] || fail "udp.no_port moved by $arrived for 300 datagrams, want 300"
# At 100 errors per second after a burst of 50, 300 datagrams sent within
# 1.5 s get at most 50 + 150 errors: some must be held back.
if [ "$ms" -lt 1500 ]; then
	[ "$limited" -gt 0 ] ||
		fail "300 datagrams in $ms ms: no ICMP error held back by the rate limit"
	ok "rate limit: $limited of 300 port unreachables held back"
else
	echo "note: sending took $ms ms, too slow to reach the rate limit; not checked"
fi

host_stop
# The test's datagrams come from random ephemeral ports, one of which may
# be a port tshark knows (37008 is TZSP's, say): taken for that protocol
# they look malformed. Their payload is test bytes: decoded as data.
check_pcap "$PCAP" -d udp.port==9991,data -d udp.port==9992,data -d udp.port==9994,data \
	-d udp.port==9995,data

n=$(count "$UNREACH && udp.dstport == 9991")
[ "$n" -eq 1 ] || fail "the pcap holds $n port unreachables about port 9991, want 1"
# The quote holds the datagram's IP header and at least its 8-byte UDP header.
n=$(count "$UNREACH && udp.dstport == 9991 && ip.dst == $HOST_IP && ip.dst == $GW_IP")
[ "$n" -eq 1 ] || fail "the port unreachable does not quote the datagram's IP and UDP headers"
ok "tshark sees one port unreachable about 10.0.0.1 -> $HOST_IP:9991, quoting it"
n=$(count "$UNREACH && udp.dstport == 9992")
[ "$n" -ge 1 ] || fail "no port unreachable about port 9992 in the pcap"
n=$(count "ip.src == $GW_IP && ip.dst == 10.0.0.255 && udp.dstport == 9994")
[ "$n" -eq 1 ] || fail "the broadcast datagram to port 9994 is not in the stack's pcap"
n=$(count "$UNREACH && udp.dstport == 9994")
[ "$n" -eq 0 ] || fail "$n port unreachables about a datagram to the broadcast address, want 0"
ok "no port unreachable about a datagram to 10.0.0.255"
n=$(count "$UNREACH && udp.dstport == 9995")
echo "port unreachables about the 300 datagrams: $n"
[ "$n" -eq $((arrived - limited)) ] ||
	fail "$n port unreachables in the pcap, want $arrived arrived - $limited rate limited"
ok "$n port unreachables for 300 datagrams, the rest rate limited"

# --- a service left out by --serve is a closed port: only echo here
rm -f "$PCAP"
host_start --serve echo
out=$(printf 'hi' | nsx timeout 5 nc -u -n -w 2 -W 1 "$HOST_IP" 7 2>&1) || true
[ "$out" = hi ] || fail "--serve echo: echo answered '$out', want 'hi'"
out=$(nsx timeout 5 bash -c "exec 3<>/dev/udp/$HOST_IP/19
	printf one >&3 && sleep 0.5 && printf two >&3 && echo 'second send worked'" 2>&1) || true
echo "$out" | grep -q "Connection refused" ||
	fail "--serve echo: chargen (port 19) still answers: $out"
ok "--serve echo: echo answers, chargen's port 19 is closed"
host_stop
# The test's datagrams come from random ephemeral ports, one of which may
# be a port tshark knows (37008 is TZSP's, say): taken for that protocol
# they look malformed. Their payload is test bytes: decoded as data.
check_pcap "$PCAP" -d udp.port==9991,data -d udp.port==9992,data -d udp.port==9994,data \
	-d udp.port==9995,data

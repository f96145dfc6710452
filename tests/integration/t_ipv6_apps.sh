#!/usr/bin/env bash
# The host's services over IPv6 (fd00::1 on br0, the host --ip6 fd00::2/64,
# no static neighbor entry: the kernel finds it by NDP): curl -g
# 'http://[fd00::2]/bytes/100000' byte for byte against the chargen pattern,
# with the access log naming fd00::1; nc -6 to TCP echo 1 MB back byte for
# byte; nc -6 -u to UDP echo, 8000 bytes too (in six fragments each way);
# dig @fd00::2 answered (upstream dnsmasq over IPv4); a closed UDP port
# answered with ICMPv6 port unreachable (RFC 4443 3.1 code 4); the kernel's
# neighbor cache holds the stack's MAC, not FAILED; IPv4 still works next to
# it; then the apps, each a second stack host on tap1 at fd00::3: udpcat,
# tcpcat, webget 'http://[fd00::2]/...' (and webget --dns fd00::2 of a
# name) and resolve --server fd00::2 reach the first host over IPv6; the
# pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

for t in nc curl dig tshark; do
	command -v "$t" >/dev/null || fail "$t is missing (sudo make deps installs it)"
done
HOST_IP6=fd00::2
KERNEL_IP6=fd00::1

"$NET" up 2 >/dev/null # tap1 for the apps' own hosts
host_start --ip6 "$HOST_IP6/64" --log "$TMP/access.log"

dad_done() { [ "$(stat_get ndp.dad_ok)" -ge 2 ]; }
wait_until 5 dad_done || fail "DAD did not finish for $HOST_IP6"

# --- HTTP: 100000 bytes of the pattern, by an IPv6 literal URL
chargen_ref 100000 >"$TMP/want.bin"
nsx curl -g -s --max-time 20 -o "$TMP/got.bin" -w '%{http_code}' "http://[$HOST_IP6]/bytes/100000" \
	>"$TMP/code" || { show_host; fail "curl -g http://[$HOST_IP6]/bytes/100000 failed"; }
[ "$(cat "$TMP/code")" = 200 ] || fail "curl over IPv6: status $(cat "$TMP/code"), want 200"
cmp -s "$TMP/want.bin" "$TMP/got.bin" ||
	fail "curl over IPv6: $(stat -c %s "$TMP/got.bin") bytes that differ from the pattern"
ok "curl -g 'http://[$HOST_IP6]/bytes/100000': 200, 100000 bytes equal to the pattern"
grep -q "^$KERNEL_IP6 - - \[.*\] \"GET /bytes/100000 HTTP/1.1\" 200 100000\$" "$TMP/access.log" ||
	fail "the access log has no line for $KERNEL_IP6: $(tail -n 2 "$TMP/access.log")"
ok "the access log names the client as $KERNEL_IP6"

# --- TCP echo: 1 MB back byte for byte
head -c 1M /dev/urandom >"$TMP/1m.in"
start=$(now_ms)
nsx timeout 30 nc -6 -N -n "$HOST_IP6" 7 <"$TMP/1m.in" >"$TMP/1m.out" 2>"$TMP/nc.err" && rc=0 || rc=$?
ms=$(($(now_ms) - start))
[ "$rc" -eq 0 ] || { show_host; fail "nc -6 to echo exits $rc ($(cat "$TMP/nc.err"))"; }
cmp -s "$TMP/1m.in" "$TMP/1m.out" ||
	fail "TCP echo over IPv6: got $(stat -c %s "$TMP/1m.out") bytes that differ from the 1 MB sent"
ok "nc -6 to TCP echo: 1 MB of random bytes came back byte for byte ($(rate 1048576 "$ms"))"

# --- UDP echo
out=$(echo "hello over six" | nsx timeout 5 nc -6 -u -n -w 1 "$HOST_IP6" 7) || true
[ "$out" = "hello over six" ] || fail "nc -6 -u to UDP echo got '$out'"
ok "nc -6 -u to UDP echo: the datagram came back"
# 8000 bytes: six fragments each way (RFC 8200 4.5); nc reads the file in one
# read() and sends it as one datagram, -W 1 quits after one answer
head -c 8000 /dev/urandom >"$TMP/8k.in"
nsx timeout 10 nc -6 -u -n -w 3 -W 1 "$HOST_IP6" 7 <"$TMP/8k.in" >"$TMP/8k.out" 2>/dev/null || true
cmp -s "$TMP/8k.in" "$TMP/8k.out" ||
	fail "nc -6 -u to UDP echo: sent 8000 bytes, got $(stat -c %s "$TMP/8k.out") that differ"
ok "nc -6 -u to UDP echo: an 8000-byte datagram came back byte for byte"

# --- DNS over IPv6 (the host asks dnsmasq on $GW_IP over IPv4)
nsx dig @"$HOST_IP6" +time=3 +tries=2 www.lab.test >"$TMP/dig.out" 2>&1 ||
	fail "dig @$HOST_IP6 failed: $(cat "$TMP/dig.out")"
grep -q "status: NOERROR" "$TMP/dig.out" || fail "dig @$HOST_IP6: $(cat "$TMP/dig.out")"
grep -Eq "^www\.lab\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]" "$TMP/dig.out" ||
	fail "dig @$HOST_IP6 www.lab.test: no A record in $(cat "$TMP/dig.out")"
grep -q "SERVER: $HOST_IP6#53" "$TMP/dig.out" || fail "dig's answer did not come from $HOST_IP6#53"
ok "dig @$HOST_IP6 www.lab.test: answered over IPv6"

# --- a closed UDP port: ICMPv6 port unreachable
echo probe | nsx timeout 5 nc -6 -u -n -w 1 "$HOST_IP6" 9999 >/dev/null 2>&1 || true
unreach() { [ "$(stat_get icmp6.tx_error)" -ge 1 ]; }
wait_until 3 unreach || fail "no ICMPv6 error counted after a datagram to closed port 9999"

# --- IPv4 still answers next to IPv6
out=$(echo "hello over four" | nsx timeout 5 nc -u -n -w 1 "$HOST_IP" 7) || true
[ "$out" = "hello over four" ] || fail "nc -u to UDP echo over IPv4 got '$out'"
ok "IPv4 UDP echo still answers (one socket per family)"

# --- the apps, as a second stack host at fd00::3 on tap1 (the first frames
# of a new TAP may be lost while the bridge port comes up: generous timeouts)
APP=(--tap tap1 --ip 10.0.0.3/24 --gw "$GW_IP" --mac 02:00:00:00:00:03 --ip6 fd00::3/64
	--ctl none --seed 7)
nsx timeout 20 "$BUILD/udpcat" "${APP[@]}" --timeout 3000 "$HOST_IP6" 7 six >"$TMP/out" 2>&1 ||
	fail "udpcat to $HOST_IP6 7: $(cat "$TMP/out")"
grep -Eq "^answer from \[$HOST_IP6\]:7, 3 bytes in [0-9.]+ ms: six\$" "$TMP/out" ||
	fail "udpcat printed: $(cat "$TMP/out")"
ok "udpcat (stack to stack) over IPv6: $(cat "$TMP/out")"
nsx timeout 30 "$BUILD/tcpcat" "${APP[@]}" --send-bytes 200000 "$HOST_IP6" 7 >"$TMP/out" 2>&1 ||
	fail "tcpcat to $HOST_IP6 7: $(cat "$TMP/out")"
sum=$(grep -Eo 'sent 200000 bytes fnv64 [0-9a-f]+' "$TMP/out" | awk '{print $NF}')
if [ -z "$sum" ] || ! grep -q "received 200000 bytes fnv64 $sum" "$TMP/out"; then
	fail "tcpcat: echo did not give back the 200000 bytes sent: $(cat "$TMP/out")"
fi
ok "tcpcat (stack to stack) over IPv6: 200000 bytes echoed, same fnv64"
nsx timeout 30 "$BUILD/webget" "${APP[@]}" -o "$TMP/web.bin" "http://[$HOST_IP6]/bytes/100000" \
	>"$TMP/out" 2>&1 || fail "webget http://[$HOST_IP6]/bytes/100000: $(cat "$TMP/out")"
cmp -s "$TMP/want.bin" "$TMP/web.bin" || fail "webget over IPv6: the body differs from the pattern"
ok "webget 'http://[$HOST_IP6]/bytes/100000': the body is the pattern"
# the name over IPv6 too: six.lab.test is fd00::2 (AAAA, labs/dns/dnsmasq.conf)
nsx timeout 30 "$BUILD/webget" "${APP[@]}" --dns "$HOST_IP6" -o "$TMP/six.bin" \
	"http://six.lab.test/bytes/1000" >"$TMP/out" 2>&1 ||
	fail "webget --dns $HOST_IP6 http://six.lab.test/bytes/1000: $(cat "$TMP/out")"
cmp -s <(head -c 1000 "$TMP/want.bin") "$TMP/six.bin" ||
	fail "webget --dns $HOST_IP6: the body differs from the pattern"
ok "webget --dns $HOST_IP6 'http://six.lab.test/bytes/1000': resolved and fetched over IPv6"
nsx timeout 30 "$BUILD/resolve" "${APP[@]}" --server "$HOST_IP6" www.lab.test >"$TMP/out" 2>&1 ||
	fail "resolve --server $HOST_IP6: $(cat "$TMP/out")"
grep -Eq "^www\.lab\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]" "$TMP/out" ||
	fail "resolve --server $HOST_IP6 printed: $(cat "$TMP/out")"
ok "resolve --server $HOST_IP6: $(head -n 1 "$TMP/out")"

# --- the kernel found the host by NDP
neigh=$(nsx ip -6 neigh show "$HOST_IP6" dev br0)
echo "$neigh"
echo "$neigh" | grep -q "lladdr $HOST_MAC" || fail "ip -6 neigh: no entry for $HOST_IP6 with lladdr $HOST_MAC"
echo "$neigh" | grep -q FAILED && fail "ip -6 neigh: $HOST_IP6 is FAILED"
ok "the kernel's neighbor cache: $HOST_IP6 at $HOST_MAC ($(echo "$neigh" | awk '{print $NF}'))"

host_stop
n=$(tshark -n -r "$PCAP" -Y "icmpv6.type == 1 && icmpv6.code == 4 && ipv6.src == $HOST_IP6 && udp.dstport == 9999" 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || fail "tshark finds no ICMPv6 port unreachable from $HOST_IP6 about port 9999"
ok "tshark: ICMPv6 destination unreachable, port unreachable (code 4) for port 9999"
n=$(tshark -n -r "$PCAP" -Y "ipv6.src == $HOST_IP6 && ipv6.fraghdr.more == 1" 2>/dev/null | wc -l)
[ "$n" -eq 5 ] || fail "the host sent $n IPv6 fragments with M set, want 5 (the 8000-byte echo)"
n=$(tshark -n -r "$PCAP" -Y "ipv6.src == $HOST_IP6 && udp.srcport == 7 && udp.length == 8008" \
	2>/dev/null | wc -l)
[ "$n" -eq 1 ] || fail "tshark reassembles $n 8000-byte echo answers from $HOST_IP6, want 1"
ok "tshark: the 8000-byte answer left in 6 IPv6 fragments and reassembles"
n=$(tshark -n -r "$PCAP" -Y "ipv6 && (tcp || udp)" 2>/dev/null | wc -l)
[ "$n" -gt 100 ] || fail "the pcap holds only $n TCP/UDP frames over IPv6"
# as for IPv4 in lib.sh: Linux's own 0xffff TCP checksums are not the stack's
PCAP_BAD_FILTER="($PCAP_BAD_FILTER) && !(ipv6.src == $KERNEL_IP6 && tcp.checksum.ffff)"
check_pcap "$PCAP"
ok "the pcap ($n TCP/UDP frames over IPv6) has no malformed frame and no bad checksum"

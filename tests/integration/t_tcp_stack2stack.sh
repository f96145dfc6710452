#!/usr/bin/env bash
# TCP between two stacks of ours on the bridge, the kernel only forwarding:
# tcpcat (10.0.0.3 on tap1) sends 50 MB through the tapstack host's echo
# (10.0.0.2) and gets back bytes with the same FNV-1a hash, sends 50 MB into
# discard, and reads 20 MB of chargen that match the RFC 864 pattern; then
# tcpcat --listen on 10.0.0.3 takes 20 MB from a tcpcat on 10.0.0.4, both
# printing the same hash. The listener's and sender's pcaps are clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

TCPCAT=$BUILD/tcpcat
[ -x "$TCPCAT" ] || fail "$TCPCAT is not built (make apps)"
BIG=${TCP_S2S_BYTES:-50000000}
PAIR=20000000

"$NET" up 3 >/dev/null
host_start_bulk # 10.0.0.2 on tap0, no pcap or trace: 100 MB would go through it

# tcpcat on tap N (no pcap: 50 MB each way); prints its summary line.
# shellcheck disable=SC2046 # split on purpose
tcpcat() {
	nsx timeout 120 "$TCPCAT" $(host_flags "$1") "${@:2}"
}
# summary FILE: "SENT SENTHASH RECEIVED RECEIVEDHASH" from the line tcpcat
# printed in FILE; fails if there is none.
summary() {
	local s
	s=$(sed -nE 's/^sent ([0-9]+) bytes fnv64 ([0-9a-f]+), received ([0-9]+) bytes fnv64 ([0-9a-f]+)$/\1 \2 \3 \4/p' "$1")
	[ -n "$s" ] || fail "no summary line from tcpcat in $(basename "$1")"
	echo "$s"
}

# --- echo: what comes back hashes like what went
start=$(now_ms)
tcpcat 1 --send-bytes "$BIG" "$HOST_IP" 7 >"$TMP/echo.out" 2>"$TMP/echo.err" && rc=0 || rc=$?
ms=$(($(now_ms) - start))
cat "$TMP/echo.out" "$TMP/echo.err"
[ "$rc" -eq 0 ] || { show_host; fail "tcpcat through echo exits $rc, want 0"; }
read -r sent shash got ghash <<<"$(summary "$TMP/echo.out")"
[ "$sent" -eq "$BIG" ] || fail "tcpcat sent $sent bytes, want $BIG"
[ "$got" -eq "$BIG" ] || fail "tcpcat got $got bytes back from echo, want $BIG"
[ "$shash" = "$ghash" ] || fail "echo: sent fnv64 $shash, received fnv64 $ghash"
ok "stack to stack through echo: $BIG bytes each way, fnv64 $shash both ($(rate "$BIG" "$ms"), host start included)"

# --- discard: all sent, nothing back, closed after our FIN
start=$(now_ms)
tcpcat 1 --send-bytes "$BIG" "$HOST_IP" 9 >"$TMP/discard.out" 2>"$TMP/discard.err" && rc=0 || rc=$?
ms=$(($(now_ms) - start))
cat "$TMP/discard.out" "$TMP/discard.err"
[ "$rc" -eq 0 ] || { show_host; fail "tcpcat into discard exits $rc, want 0"; }
read -r sent shash got ghash <<<"$(summary "$TMP/discard.out")"
[ "$sent" -eq "$BIG" ] && [ "$got" -eq 0 ] || fail "discard: sent $sent, received $got; want $BIG and 0"
ok "stack to stack into discard: $BIG bytes ($(rate "$BIG" "$ms"), host start included)"

# --- chargen: the first PAIR bytes (or a little more) are the pattern
tcpcat 1 --recv-max "$PAIR" --recv "$TMP/chargen.bin" "$HOST_IP" 19 \
	>"$TMP/chargen.out" 2>"$TMP/chargen.err" && rc=0 || rc=$?
cat "$TMP/chargen.out" "$TMP/chargen.err"
[ "$rc" -eq 0 ] || { show_host; fail "tcpcat from chargen exits $rc, want 0"; }
size=$(stat -c %s "$TMP/chargen.bin")
[ "$size" -ge "$PAIR" ] || fail "chargen: got $size bytes, want at least $PAIR"
why=$(chargen_cmp "$TMP/chargen.bin")
[ -z "$why" ] || fail "chargen to a stack: not the RFC 864 pattern: $why"
ok "stack to stack from chargen: $size bytes of the pattern"
rm -f "$TMP/chargen.bin"

peer_lines() {
	sockets | grep -F " 10.0.0.3:" || true
}
no_connections() {
	[ -z "$(peer_lines)" ]
}
wait_until 10 no_connections || { show_host; fail "the host still lists tcpcat's connections after 10 s"; }
ok "the tapstack host lists no connection of tcpcat's any more"

# --- tcpcat --listen on 10.0.0.3, tcpcat on 10.0.0.4 sends to it; both with
# pcap and trace this time (20 MB).
# shellcheck disable=SC2046
ip netns exec "$NS" timeout 120 "$TCPCAT" $(host_flags 1) --pcap "$TMP/tap1.pcap" --trace \
	--listen 5001 >"$TMP/listen.out" 2>"$TMP/listen.log" &
LISTEN_PID=$!
listening() {
	"$TAPCTL" --ctl "$TMP/tap1.ctl" sockets 2>/dev/null | grep -Eq "^LISTEN .* [*0-9.]+:5001 "
}
wait_until 5 listening || { tail -n 20 "$TMP/listen.log"; fail "tcpcat --listen 5001 is not listening"; }
start=$(now_ms)
tcpcat 2 --pcap "$TMP/tap2.pcap" --trace --send-bytes "$PAIR" 10.0.0.3 5001 \
	>"$TMP/send.out" 2>"$TMP/send.log" && rc=0 || rc=$?
ms=$(($(now_ms) - start))
cat "$TMP/send.out"
[ "$rc" -eq 0 ] || { tail -n 30 "$TMP/send.log"; fail "tcpcat sending to the listener exits $rc"; }
for ((i = 0; i < 100; i++)); do
	kill -0 "$LISTEN_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$LISTEN_PID" 2>/dev/null && { tail -n 30 "$TMP/listen.log"; fail "tcpcat --listen runs on 10 s after the sender ended"; }
wait "$LISTEN_PID" && rc=0 || rc=$?
cat "$TMP/listen.out"
[ "$rc" -eq 0 ] || { tail -n 30 "$TMP/listen.log"; fail "tcpcat --listen exits $rc"; }
read -r sent shash _ _ <<<"$(summary "$TMP/send.out")"
read -r _ _ got ghash <<<"$(summary "$TMP/listen.out")"
[ "$sent" -eq "$PAIR" ] || fail "the sender sent $sent bytes, want $PAIR"
[ "$got" -eq "$PAIR" ] || fail "the listener received $got bytes, want $PAIR"
[ "$shash" = "$ghash" ] || fail "sent fnv64 $shash, the listener received fnv64 $ghash"
ok "tcpcat 10.0.0.4 -> tcpcat --listen 10.0.0.3: $PAIR bytes, fnv64 $shash on both ends ($(rate "$PAIR" "$ms"))"

check_pcap "$TMP/tap1.pcap" -d tcp.port==5001,data
check_pcap "$TMP/tap2.pcap" -d tcp.port==5001,data
show_host
host_stop

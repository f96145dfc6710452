#!/usr/bin/env bash
# A kernel client that stops reading: nc connects to chargen with a small
# receive buffer, and what reads nc's output sleeps 10 s first. The kernel's
# window closes; the host keeps the connection ESTABLISHED and probes the
# zero window (RFC 9293 3.8.6.1), its probe counter moving; after the reader
# wakes it takes 10 MB, which must be the RFC 864 pattern from its very
# first byte (nothing lost or doubled over the stall). Then the client goes
# and the host lets the connection go. The pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"

STALL=10
SIZE=10000000

host_start
chargen_ref 0

# Zero-window probes sent by the persist timer.
probes() {
	stat_get tcp.window_probes
}
conn_line() {
	sockets | grep -E "^[A-Z-]+ +[0-9]+ +[0-9]+ +$HOST_IP:19 +$GW_IP:[0-9]+" || true
}

# nc -I 8192 asks for a small receive buffer (the kernel doubles it); the
# 64 KB pipe fills too, then the kernel's window closes.
t0=$(now_ms)
nsx timeout 60 nc -d -n -I 8192 "$HOST_IP" 19 2>"$TMP/nc.err" |
	{ sleep "$STALL"; head -c "$SIZE"; } >"$TMP/zw.out" &
READER_PID=$!

# The window closes within a few seconds: the host's send queue stays full
# and its view of the peer's window is 0.
zero_window() {
	conn_line | grep -Eq "^ESTABLISHED .* snd_wnd 0 "
}
wait_until 4 zero_window || { show_host; fail "no ESTABLISHED chargen connection with snd_wnd 0 after 4 s"; }
p0=$(probes)
conn_line
ok "the kernel's window is closed after $(($(now_ms) - t0)) ms: snd_wnd 0, ESTABLISHED"

# Until the reader wakes: the connection stays, and probes go out.
sleep $((STALL - 2 - ($(now_ms) - t0) / 1000))
line=$(conn_line)
echo "$line"
[[ "$line" == ESTABLISHED* ]] || { show_host; fail "the stalled connection is not ESTABLISHED any more"; }
p1=$(probes)
"$TAPCTL" --ctl "$CTL" stats | grep -Ei 'persist|probe' || true
[ "$p1" -gt "$p0" ] ||
	{ show_host; fail "no zero-window probe counted over $((STALL - 4)) s of closed window ($p0 -> $p1)"; }
ok "zero-window probes: the counter moved from $p0 to $p1 during the stall, the connection alive"

# The reader wakes, takes SIZE bytes and goes.
for ((i = 0; i < 300; i++)); do
	kill -0 "$READER_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$READER_PID" 2>/dev/null && { show_host; fail "the reader is still not done 30 s after waking"; }
wait "$READER_PID" || true
size=$(stat -c %s "$TMP/zw.out")
[ "$size" -eq "$SIZE" ] || { show_host; fail "after the stall the client got $size bytes, want $SIZE ($(cat "$TMP/nc.err"))"; }
why=$(chargen_cmp "$TMP/zw.out")
[ -z "$why" ] || fail "after the stall the data is not the pattern: $why"
ok "after $STALL s of zero window: $SIZE bytes, the pattern from its first byte"

gone() {
	[ -z "$(conn_line)" ]
}
wait_until 10 gone || { show_host; fail "the connection is listed 10 s after the client went"; }
ok "the host let the connection go after the client closed"

show_host
host_stop
check_pcap "$PCAP"
n=$(tshark -n -r "$PCAP" -Y "ip.src == $GW_IP && tcp.window_size == 0 && tcp.srcport != 19" 2>/dev/null | wc -l)
m=$(tshark -n -r "$PCAP" -Y "tcp.analysis.zero_window_probe" 2>/dev/null | wc -l)
echo "pcap: $n zero-window advertisements from the kernel, $m segments tshark calls zero-window probes"
[ "$n" -gt 0 ] || fail "the pcap holds no zero window from the kernel"

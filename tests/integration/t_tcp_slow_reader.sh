#!/usr/bin/env bash
# tcpcat's slow reader (--rcvbuf, --read-rate; Lab 9). A tcpcat on 10.0.0.3
# with a 4096-byte buffer that reads 1000 bytes every 100 ms connects to a
# tcpcat on 10.0.0.4 that sends 20000 bytes: both print the same fnv64, the
# receiver's SYN offers 4096 (the buffer was set before connect), it never
# read faster than its rate, and it answers pings while it waits for its
# next read (it waits in the event loop, not in sleep). Then the kernel's nc
# sends 10000 bytes to a tcpcat --listen with the same options: intact, its
# SYN-ACK offers 4096 (set before listen), and its window closes (the kernel
# fills every window it is offered). Bad option values are refused. The
# pcaps are clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

TCPCAT=$BUILD/tcpcat
[ -x "$TCPCAT" ] || fail "$TCPCAT is not built (make apps)"
command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"

"$NET" up 3 >/dev/null

# summary FILE: "SENT SENTHASH RECEIVED RECEIVEDHASH" from tcpcat's line.
summary() {
	local s
	s=$(sed -nE 's/^sent ([0-9]+) bytes fnv64 ([0-9a-f]+), received ([0-9]+) bytes fnv64 ([0-9a-f]+)$/\1 \2 \3 \4/p' "$1")
	[ -n "$s" ] || fail "no summary line from tcpcat in $(basename "$1")"
	echo "$s"
}
# rate FILE N MS: fails unless tcpcat read no faster than N bytes per MS ms
# (its turns are at least MS apart by construction: a bound, not a timing).
rate_ok() {
	local r
	r=$(sed -nE "s/^read [0-9]+ bytes in [0-9.]+ s: ([0-9]+) bytes\/s \(--read-rate $2\/$3 allows [0-9]+\)$/\1/p" "$1")
	[ -n "$r" ] || fail "no 'read ... bytes/s' line from tcpcat --read-rate $2/$3 in $(basename "$1")"
	[ "$r" -le $(($2 * 1000 / $3 + 1)) ] || fail "tcpcat read at $r bytes/s, faster than --read-rate $2/$3"
	echo "$r"
}

# --- bad values: exit 2, before any host is made
for bad in "--read-rate 1000" "--read-rate 0/100" "--read-rate 1000/0" "--read-rate 10/x" \
	"--rcvbuf 0" "--rcvbuf 12k"; do
	# shellcheck disable=SC2086 # split on purpose
	nsx "$TCPCAT" --tap tap1 --ip 10.0.0.3/24 --ctl none $bad 10.0.0.4 5001 >/dev/null 2>"$TMP/bad.err" && rc=0 || rc=$?
	[ "$rc" -eq 2 ] || fail "tcpcat $bad exits $rc, want 2 ($(cat "$TMP/bad.err"))"
done
ok "tcpcat refuses bad --read-rate and --rcvbuf values (exit 2)"

# --- tapstack to a slow tapstack reader
SIZE=20000
# shellcheck disable=SC2046 # split on purpose
nsx timeout -k 5 60 "$TCPCAT" $(host_flags 2) --trace --send-bytes "$SIZE" --listen 5001 \
	>"$TMP/send.out" 2>"$TMP/send.log" &
SEND_PID=$!
listening() {
	timeout 5 "$TAPCTL" --ctl "$TMP/tap2.ctl" sockets 2>/dev/null | grep -Eq "^LISTEN .* [*0-9.]+:5001 "
}
wait_until 5 listening || { tail -n 20 "$TMP/send.log"; fail "the sender is not listening on 5001"; }
# shellcheck disable=SC2046
nsx timeout -k 5 60 "$TCPCAT" $(host_flags 1) --trace --pcap "$TMP/tap1.pcap" --rcvbuf 4096 \
	--read-rate 1000/100 10.0.0.4 5001 >"$TMP/recv.out" 2>"$TMP/recv.log" &
RECV_PID=$!
connected() {
	timeout 5 "$TAPCTL" --ctl "$TMP/tap1.ctl" sockets 2>/dev/null | grep -Eq "^ESTABLISHED .* 10\.0\.0\.3:[0-9]+ +10\.0\.0\.4:5001 "
}
wait_until 5 connected || { tail -n 20 "$TMP/recv.log"; fail "the slow reader did not connect"; }
# it answers while it waits between reads: the host's loop runs
nsx ping -c 3 -i 0.2 -W 2 10.0.0.3 >"$TMP/ping.out" 2>&1 || true
grep -q '3 received' "$TMP/ping.out" || { cat "$TMP/ping.out"; fail "the slow reader's host did not answer 3 pings while it read"; }
ok "the slow reader's host answers pings while its reader waits"
wait "$RECV_PID" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$TMP/recv.log"; fail "the slow reader exits $rc"; }
wait "$SEND_PID" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$TMP/send.log"; fail "the sender exits $rc"; }
cat "$TMP/send.out" "$TMP/recv.out"
read -r sent shash _ _ <<<"$(summary "$TMP/send.out")"
read -r _ _ got ghash <<<"$(summary "$TMP/recv.out")"
[ "$sent" -eq "$SIZE" ] && [ "$got" -eq "$SIZE" ] || fail "sent $sent, received $got; want $SIZE both"
[ "$shash" = "$ghash" ] || fail "sent fnv64 $shash, the slow reader received fnv64 $ghash"
r=$(rate_ok "$TMP/recv.out" 1000 100)
ok "tcpcat 10.0.0.4 -> a slow reader on 10.0.0.3: $SIZE bytes, fnv64 $shash on both ends, read at $r bytes/s (at most 10000)"
grep -Eq 'tx TCP 10\.0\.0\.3:[0-9]+ -> 10\.0\.0\.4:5001 \[SYN\] seq 0 ack 0 win 4096 len 0$' "$TMP/recv.log" ||
	fail "the slow reader's SYN does not offer 4096 (--rcvbuf before connect)"
ok "the slow reader's SYN offers 4096 bytes"

# --- the kernel's nc to a slow tcpcat --listen
head -c 10000 /dev/urandom >"$TMP/in.bin"
# shellcheck disable=SC2046
nsx timeout -k 5 60 "$TCPCAT" $(host_flags 1) --trace --pcap "$TMP/tap1b.pcap" --rcvbuf 4096 \
	--read-rate 1000/100 --listen 5002 --recv "$TMP/out.bin" >"$TMP/recv2.out" 2>"$TMP/recv2.log" &
RECV_PID=$!
listening2() {
	timeout 5 "$TAPCTL" --ctl "$TMP/tap1.ctl" sockets 2>/dev/null | grep -Eq "^LISTEN .* [*0-9.]+:5002 "
}
wait_until 5 listening2 || { tail -n 20 "$TMP/recv2.log"; fail "tcpcat --listen 5002 is not listening"; }
nsx timeout 60 nc -N 10.0.0.3 5002 <"$TMP/in.bin" >/dev/null 2>"$TMP/nc.err" || true
wait "$RECV_PID" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$TMP/recv2.log"; fail "tcpcat --listen exits $rc"; }
cat "$TMP/recv2.out"
cmp -s "$TMP/in.bin" "$TMP/out.bin" || fail "the kernel's 10000 bytes did not arrive intact ($(stat -c %s "$TMP/out.bin") bytes)"
r=$(rate_ok "$TMP/recv2.out" 1000 100)
grep -Eq 'tx TCP 10\.0\.0\.3:5002 -> 10\.0\.0\.1:[0-9]+ \[SYN,ACK\] seq 0 ack 1 win 4096 len 0$' "$TMP/recv2.log" ||
	fail "tcpcat --listen's SYN-ACK does not offer 4096 (--rcvbuf before listen)"
grep -Eq 'tx TCP 10\.0\.0\.3:5002 -> 10\.0\.0\.1:[0-9]+ \[ACK\] .* win 0 len 0$' "$TMP/recv2.log" ||
	fail "the slow tcpcat --listen's window never closed"
ok "nc -> a slow tcpcat --listen: 10000 bytes intact, read at $r bytes/s (at most 10000), its SYN-ACK offers 4096, its window closes"

check_pcap "$TMP/tap1.pcap" -d tcp.port==5001,data
check_pcap "$TMP/tap1b.pcap" -d tcp.port==5002,data

#!/usr/bin/env bash
# udpcat, the example app on the socket API, as a second host (10.0.0.3 on
# tap1) beside a tapstack host (10.0.0.2 on tap0): it gets its messages
# echoed by the other stack, hears "Connection refused" from a closed port,
# and with --listen prints a datagram the kernel sends it with nc and one a
# third host sends. Its command line: --help exits 0, bad flags exit 2.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

UDPCAT=$BUILD/udpcat
[ -x "$UDPCAT" ] || fail "$UDPCAT is not built (make apps)"
command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"

# Three TAPs: tap0 for tapstack, tap1 and tap2 for udpcat hosts.
"$NET" up 3 >/dev/null

# --- the command line, inside the namespace all the same
nsx timeout 5 "$UDPCAT" --help >"$TMP/out" 2>&1 && rc=0 || rc=$?
[ "$rc" -eq 0 ] || fail "udpcat --help exits $rc, want 0"
grep -q "usage: udpcat" "$TMP/out" || fail "udpcat --help prints no usage line"
ok "udpcat --help exits 0"
bad=(
	"--no-such-flag"
	"--tap tap1 --ip 10.0.0.3/24"
	"--tap tap1 --ip 10.0.0.3/24 --listen 0"
	"--tap tap1 --ip 10.0.0.3/24 --listen"
	"--tap tap1 --ip 10.0.0.3/24 10.0.0.2 70000"
	"--tap tap1 --ip 10.0.0.3/24 --timeout x 10.0.0.2 7"
	"--tap tap1 --ip 10.0.0.300/24 10.0.0.2 7"
)
for args in "${bad[@]}"; do
	# shellcheck disable=SC2086 # split on purpose
	nsx timeout 5 "$UDPCAT" $args </dev/null >"$TMP/out" 2>"$TMP/err" && rc=0 || rc=$?
	lines=$(wc -l <"$TMP/err")
	echo "udpcat $args -> status $rc: $(cat "$TMP/err")"
	[ "$rc" -eq 2 ] || fail "udpcat $args exits $rc, want 2"
	[ "$lines" -eq 1 ] || fail "udpcat $args prints $lines lines on stderr, want 1"
done
ok "${#bad[@]} bad command lines: exit 2 with one line each"

host_start

# Host flags for udpcat on tap N (N = 1, 2): address 10.0.0.(N+2), files in $TMP.
udpcat_flags() {
	local n=$1
	echo "--tap tap$n --ip 10.0.0.$((n + 2))/24 --gw $GW_IP --mac 02:00:00:00:00:0$((n + 2))" \
		"--ctl $TMP/tap$n.ctl --pcap $TMP/tap$n.pcap --trace --seed $((n + 1))"
}

# A TAP's bridge port starts forwarding only once the kernel has noticed that
# the TAP was opened (its carrier came up), which can take up to a second:
# the first frames a new host sends may be lost, its first ARP request with
# them. The ARP retry a second later gets through, so each answer is given
# 3 s (--timeout 3000), not udpcat's default of 1 s.

# --- echo from one stack to another
# shellcheck disable=SC2046 # split on purpose
nsx timeout 20 "$UDPCAT" $(udpcat_flags 1) --timeout 3000 "$HOST_IP" 7 hello world \
	>"$TMP/out" 2>"$TMP/udpcat.log" && rc=0 || rc=$?
cat "$TMP/out"
[ "$rc" -eq 0 ] || fail "udpcat to $HOST_IP 7 exits $rc, want 0 ($(tail -n 3 "$TMP/udpcat.log"))"
for word in hello world; do
	grep -Eq "^answer from $HOST_IP:7, 5 bytes in [0-9.]+ ms: $word\$" "$TMP/out" ||
		fail "udpcat printed no answer '$word' from $HOST_IP:7"
done
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "udpcat printed $(wc -l <"$TMP/out") lines, want 2"
ok "udpcat: 'hello' and 'world' echoed by the tapstack host"
check_pcap "$TMP/tap1.pcap"

# --- a closed port: the ICMP port unreachable comes back as ECONNREFUSED
# shellcheck disable=SC2046
nsx timeout 20 "$UDPCAT" $(udpcat_flags 1) --timeout 3000 "$HOST_IP" 9991 hi \
	>"$TMP/out" 2>"$TMP/udpcat.log" && rc=0 || rc=$?
cat "$TMP/out"
[ "$rc" -eq 1 ] || fail "udpcat to a closed port exits $rc, want 1"
grep -q "^'hi': Connection refused" "$TMP/out" ||
	fail "udpcat to a closed port: want \"'hi': Connection refused\""
ok "udpcat to a closed port: Connection refused"

# --- listen: udpcat on tap1 prints what the kernel and a third host send
# ip netns exec execs timeout, so $! is timeout's PID; timeout passes our
# SIGTERM on to udpcat and exits with udpcat's status.
# shellcheck disable=SC2046
ip netns exec "$NS" timeout 30 "$UDPCAT" $(udpcat_flags 1) --listen 6000 \
	</dev/null >"$TMP/listen.out" 2>"$TMP/udpcat.log" &
LISTEN_PID=$!
for ((i = 0; i < 50; i++)); do
	"$TAPCTL" --ctl "$TMP/tap1.ctl" stats >/dev/null 2>&1 && break
	kill -0 "$LISTEN_PID" 2>/dev/null || fail "udpcat --listen exited at start"
	sleep 0.1
done
# The socket is bound right after the host answers; if a datagram comes
# first it gets a port unreachable, so try a few times.
for ((i = 0; i < 10; i++)); do
	printf 'hello from the kernel' |
		nsx timeout 5 nc -u -n -w 1 10.0.0.3 6000 >/dev/null 2>&1 || true
	grep -q "sent 21 bytes" "$TMP/listen.out" && break
	sleep 0.3
done
# The listener sends no answer: udpcat on tap2 waits 3 s for none, which is
# also long enough for its ARP retry.
# shellcheck disable=SC2046
nsx timeout 10 "$UDPCAT" $(udpcat_flags 2) --timeout 3000 10.0.0.3 6000 from-tap2 \
	>"$TMP/out" 2>"$TMP/udpcat2.log" || true
cat "$TMP/out"
sleep 0.3
kill -TERM "$LISTEN_PID"
for ((i = 0; i < 50; i++)); do kill -0 "$LISTEN_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LISTEN_PID" 2>/dev/null && fail "udpcat --listen still runs 5 s after SIGTERM"
wait "$LISTEN_PID" && rc=0 || rc=$?
cat "$TMP/listen.out"
grep -Eq "^$GW_IP:[0-9]+ sent 21 bytes: hello from the kernel\$" "$TMP/listen.out" ||
	fail "udpcat --listen 6000 did not print the kernel's datagram"
ok "udpcat --listen: the kernel's datagram from nc arrived"
# An ephemeral port: 49152-65535 (RFC 6056).
EPHEMERAL='(49(15[2-9]|1[6-9][0-9]|[2-9][0-9][0-9])|5[0-9]{4}|6[0-5][0-9]{3})'
grep -Eq "^10\.0\.0\.4:$EPHEMERAL sent 9 bytes: from-tap2\$" "$TMP/listen.out" ||
	fail "udpcat --listen 6000 did not print the datagram of 10.0.0.4 from an ephemeral port"
ok "udpcat --listen: a datagram from the third host, from an ephemeral port (49152-65535)"
[ "$rc" -eq 0 ] || fail "udpcat --listen exits $rc on SIGTERM, want 0"
ok "udpcat --listen exits 0 on SIGTERM"

host_stop
check_pcap "$PCAP"
check_pcap "$TMP/tap1.pcap"
check_pcap "$TMP/tap2.pcap"

#!/usr/bin/env bash
# A kernel peer killed (SIGKILL) mid-transfer; the stack's side must notice
# within a bounded time, never hang:
#  (a1) tcpcat on 10.0.0.3 receives from a kernel `nc -l`; nc is killed: the
#       kernel sends what it had queued and a FIN, and tcpcat ends with a
#       short count.
#  (a2) tcpcat sends to a kernel `nc -l` that does not read; nc is killed
#       with data unread, so the kernel answers with a RST: tcpcat reports
#       the reset as an error (status 1).
#  (b1) a kernel nc sends to the host's echo and reads nothing; killed, the
#       kernel resets the connection: the host's tapctl sockets drops it.
#  (b2) a kernel nc sends to echo and reads everything; killed mid-stream:
#       the host drops the connection too (FIN then RST, or RST).
# The tapstack host's pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

TCPCAT=$BUILD/tcpcat
[ -x "$TCPCAT" ] || fail "$TCPCAT is not built (make apps)"
command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"

BOUND=20 # seconds the stack's side may take to notice

"$NET" up 2 >/dev/null
host_start

# size FILE: its size in bytes (0 if it does not exist yet).
size() {
	stat -c %s "$1" 2>/dev/null || echo 0
}
# grown FILE N: FILE holds at least N bytes.
grown() {
	[ "$(size "$1")" -ge "$2" ]
}
# ended PID: the process is gone.
ended() {
	! kill -0 "$1" 2>/dev/null
}
# kernel_listening PORT
kernel_listening() {
	[ -n "$(nsx ss -tlnH "sport = :$1")" ]
}
# A tcpcat host on tap1 (no pcap: it may move hundreds of MB), in the
# background, with a seed of its own; its PID in TCPCAT_PID (ip netns exec execs timeout, which
# passes on its child's status).
# shellcheck disable=SC2046 # split on purpose
tcpcat_bg() {
	local name=$1 seed=$2
	shift 2
	ip netns exec "$NS" timeout 120 "$TCPCAT" $(host_flags 1) --seed "$seed" "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	TCPCAT_PID=$!
}
# finish NAME PID KILLED_AT: waits (bounded) for tcpcat to end; sets RC.
finish() {
	if ! wait_until "$BOUND" ended "$2"; then
		cat "$TMP/$1.out" "$TMP/$1.err"
		fail "$1: tcpcat still runs $BOUND s after its peer was killed"
	fi
	wait "$2" && RC=0 || RC=$?
	echo "$1: tcpcat ended $(($(now_ms) - $3)) ms after the kill, status $RC:"
	cat "$TMP/$1.out" "$TMP/$1.err"
}

# --- (a1) the kernel sends 1 GB of zeros, killed after 5 MB arrived
head -c 1G /dev/zero | ip netns exec "$NS" nc -n -l "$GW_IP" 6001 2>/dev/null &
NC_PID=$!
wait_until 5 kernel_listening 6001 || fail "(a1) nc -l 6001 does not listen"
tcpcat_bg a1 11 --recv "$TMP/a1.bin" "$GW_IP" 6001
wait_until 20 grown "$TMP/a1.bin" 5000000 ||
	{ cat "$TMP/a1.err"; fail "(a1) tcpcat received $(size "$TMP/a1.bin") bytes in 20 s, want 5 MB"; }
kill -KILL "$NC_PID"
killed=$(now_ms)
{ wait "$NC_PID"; } 2>/dev/null || true # (quietly: bash would announce the kill)
finish a1 "$TCPCAT_PID" "$killed"
[ "$RC" -ne 124 ] || fail "(a1) tcpcat was ended by its time limit"
got=$(sed -nE 's/.*received ([0-9]+) bytes.*/\1/p' "$TMP/a1.out")
[ -n "$got" ] && [ "$got" -lt 1073741824 ] || fail "(a1) tcpcat does not report a short count ($got)"
ok "(a1) sender killed: tcpcat ended with a short count ($got bytes), status $RC"
rm -f "$TMP/a1.bin"

# --- (a2) the kernel does not read (its output goes to a FIFO nobody reads):
# killed with data unread, it resets the connection.
mkfifo "$TMP/stuck.fifo"
exec 7<>"$TMP/stuck.fifo" # a reader that never reads, so opening it does not block
ip netns exec "$NS" nc -n -d -l "$GW_IP" 6002 >"$TMP/stuck.fifo" 2>/dev/null &
NC_PID=$!
wait_until 5 kernel_listening 6002 || fail "(a2) nc -l 6002 does not listen"
tcpcat_bg a2 12 --send-bytes 1000000000 "$GW_IP" 6002
# Stalled once the kernel's receive buffer is full; give it 3 s to get there.
sleep 3
nsx ss -tnH "sport = :6002" || true
kill -KILL "$NC_PID"
killed=$(now_ms)
{ wait "$NC_PID"; } 2>/dev/null || true # (quietly: bash would announce the kill)
finish a2 "$TCPCAT_PID" "$killed"
[ "$RC" -ne 124 ] || fail "(a2) tcpcat was ended by its time limit"
[ "$RC" -eq 1 ] || fail "(a2) tcpcat exits $RC after a reset, want 1 (an error)"
grep -Eiq "reset|broken pipe" "$TMP/a2.err" || fail "(a2) tcpcat does not say the connection was reset"
ok "(a2) receiver killed with data unread: tcpcat saw '$(head -n 1 "$TMP/a2.err")'"
exec 7<&-

# --- (b) kernel clients of the host's echo, killed
conn_lines() {
	sockets | grep -E " $GW_IP:[0-9]+( |\$)" || true
}
gone() {
	[ -z "$(conn_lines)" ]
}
# kill_and_watch NAME PID: kills the client, then waits (bounded) until the
# host lists no connection of the kernel's.
kill_and_watch() {
	echo "$1: before the kill:"
	conn_lines
	kill -KILL "$2"
	{ wait "$2"; } 2>/dev/null || true
	local t
	t=$(now_ms)
	wait_until "$BOUND" gone ||
		{ show_host; fail "$1: the host still lists the connection $BOUND s after the client was killed"; }
	ok "$1: client killed; the host dropped the connection within $(($(now_ms) - t)) ms"
}

# (b1) sends, reads nothing: the echo stalls on the kernel's closed window
mkfifo "$TMP/b1.fifo"
exec 8<>"$TMP/b1.fifo"
head -c 100M /dev/urandom | ip netns exec "$NS" nc -N -n "$HOST_IP" 7 >"$TMP/b1.fifo" 2>/dev/null &
NC_PID=$!
established() {
	conn_lines | grep -q '^ESTABLISHED'
}
wait_until 5 established || { show_host; fail "(b1) no ESTABLISHED connection from the kernel"; }
sleep 2
kill_and_watch "(b1) a client that stopped reading" "$NC_PID"
exec 8<&-
rst=$(stat_get tcp.drop_reset)
echo "tcp.drop_reset: $rst"

# (b2) sends and reads; killed once 2 MB came back
head -c 100M /dev/urandom | ip netns exec "$NS" nc -N -n "$HOST_IP" 7 >"$TMP/b2.out" 2>/dev/null &
NC_PID=$!
wait_until 20 grown "$TMP/b2.out" 2000000 ||
	{ show_host; fail "(b2) the client got $(size "$TMP/b2.out") bytes back in 20 s, want 2 MB"; }
kill_and_watch "(b2) a client reading the echo" "$NC_PID"

show_host
host_stop
check_pcap "$PCAP"

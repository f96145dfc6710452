# Shared by the integration tests (sourced, not run). Each test gets its own
# lab network in its own namespace, its own host, its own temp dir, and
# removes all three on exit, whether it passed or not.
#
#   source "$(dirname "$0")/lib.sh"
#   host_start [EXTRA TAPSTACK FLAGS]   lab network up, host 10.0.0.2 on tap0
#   nsx CMD...                          run CMD inside the test's namespace
#   host_stop                           SIGTERM; fails unless the host exits 0
#   check_pcap FILE                     fails on a malformed frame or bad checksum
#   fail MSG / ok MSG                   say what happened

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TAPSTACK=$BUILD/tapstack
TAPCTL=$BUILD/tapctl
NET=$ROOT/labs/net

TEST_NAME=$(basename "$0" .sh)
TEST_NAME=${TEST_NAME#t_}
# A namespace of its own, named after the test and this shell's PID.
export TAPSTACK_NS="tst-$$-$TEST_NAME"
NS=$TAPSTACK_NS

HOST_IP=10.0.0.2
HOST_MAC=02:00:00:00:00:02
GW_IP=10.0.0.1

TMP=$(mktemp -d "/tmp/tapstack-$TEST_NAME.XXXXXX")
PCAP=$TMP/tap0.pcap
CTL=$TMP/tap0.ctl
TRACE=$TMP/trace.log
HOST_PID=

# Says why the test fails, and ends it (the EXIT trap cleans up).
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	echo "ok: $*"
}

# Runs a command inside the test's namespace.
nsx() {
	ip netns exec "$NS" "$@"
}

# Removes everything the test made: the host (by its PID), the namespace, the
# temp dir. On failure it first keeps the trace, the log and the pcap in
# $TST_ARTIFACTS (set by tests/integration/run) for the report.
cleanup() {
	local rc=$?
	set +e
	if [ -n "$HOST_PID" ] && kill -0 "$HOST_PID" 2>/dev/null; then
		kill -TERM "$HOST_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$HOST_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$HOST_PID" 2>/dev/null
	fi
	# Anything still running inside the test's own namespace was started by
	# the test: stop it before the namespace goes.
	for p in $(ip netns pids "$NS" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ -n "${TST_ARTIFACTS:-}" ]; then
		mkdir -p "$TST_ARTIFACTS"
		cp -f "$TMP"/*.log "$TMP"/*.pcap "$TST_ARTIFACTS"/ 2>/dev/null
	fi
	"$NET" down >/dev/null 2>&1
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

[ -x "$TAPSTACK" ] || fail "$TAPSTACK is not built (make apps)"
[ -x "$TAPCTL" ] || fail "$TAPCTL is not built (make apps)"

# Waits (bounded) until the host answers on its control socket.
host_wait_ready() {
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$HOST_PID" 2>/dev/null || {
			wait "$HOST_PID" 2>/dev/null && rc=0 || rc=$?
			HOST_PID=
			echo "--- trace:" >&2
			tail -n 20 "$TRACE" >&2
			fail "tapstack exited at start (status $rc)"
		}
		"$TAPCTL" --ctl "$CTL" stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "tapstack does not answer on its control socket after 5 s"
}

# Starts build/tapstack ARGS... on tap0 in the background, stderr to $TRACE,
# and waits until it answers. `ip netns exec` execs (no fork), so $! is the
# host's own PID; a shell function would not be (it runs in a subshell).
host_spawn() {
	ip netns exec "$NS" "$TAPSTACK" "$@" </dev/null >"$TMP/stdout.log" 2>"$TRACE" &
	HOST_PID=$!
	host_wait_ready
	[ "$(cat "/proc/$HOST_PID/comm" 2>/dev/null)" = tapstack ] ||
		fail "PID $HOST_PID is not tapstack"
}

# Creates the lab network and starts one host on tap0 with --trace.
host_start() {
	"$NET" up 1 >/dev/null
	host_spawn --tap tap0 --ip "$HOST_IP/24" --gw "$GW_IP" --mac "$HOST_MAC" \
		--pcap "$PCAP" --ctl "$CTL" --trace --seed 1 "$@"
}

# Stops the host with SIGTERM; fails unless it exits with status 0 within 5 s.
host_stop() {
	local i rc
	kill -TERM "$HOST_PID"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$HOST_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$HOST_PID" 2>/dev/null && fail "tapstack still runs 5 s after SIGTERM"
	wait "$HOST_PID" && rc=0 || rc=$?
	HOST_PID=
	[ "$rc" -eq 0 ] || fail "tapstack exited with status $rc on SIGTERM (want 0)"
}

# The display filter that finds what must never be in a capture: a frame
# tshark calls malformed, any error, anything in the checksum expert group,
# and a bad IPv4, ICMP, UDP or TCP checksum.
PCAP_BAD_FILTER='_ws.malformed || _ws.expert.severity >= error || _ws.expert.group == 0x01000000
 || ip.checksum.status == 0 || icmp.checksum.status == 0
 || udp.checksum.status == 0 || tcp.checksum.status == 0'
# tshark validates ICMP checksums always; IPv4, UDP and TCP only when asked.
TSHARK_CHECK=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE)

# Prints the frames of FILE that fail the checks (nothing if it is clean);
# returns non-zero if tshark cannot read the file.
pcap_bad_frames() {
	tshark -n -r "$1" "${TSHARK_CHECK[@]}" -Y "$PCAP_BAD_FILTER" 2>"$TMP/tshark.err" ||
		{ cat "$TMP/tshark.err" >&2; return 1; }
}

# Fails if FILE is unreadable, empty, or holds a malformed frame or a bad checksum.
check_pcap() {
	local bad frames
	frames=$(tshark -n -r "$1" 2>/dev/null | wc -l) || fail "tshark cannot read $1"
	[ "$frames" -gt 0 ] || fail "$1 holds no frame"
	bad=$(pcap_bad_frames "$1") || fail "tshark cannot read $1"
	if [ -n "$bad" ]; then
		echo "$bad" >&2
		fail "$1: $(echo "$bad" | wc -l) frame(s) malformed or with a bad checksum"
	fi
	ok "pcap: $frames frames, none malformed, every checksum good"
}

# One counter's value from tapctl stats (0 if absent).
stat_get() {
	"$TAPCTL" --ctl "$CTL" stats | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}

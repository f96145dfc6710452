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
#   host_start_bulk, host_flags N, sockets, wait_until, chargen_ref N,
#   chargen_cmp FILE, echo_hashed SIZE LIMIT, show_host: for the TCP tests

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TAPSTACK=$BUILD/tapstack
TAPCTL=$BUILD/tapctl
NET=$ROOT/labs/net

TEST_NAME=$(basename "$0" .sh)
TEST_NAME=${TEST_NAME#t_}
TEST_NAME=${TEST_NAME#soak_}
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
	# And the test's own background jobs outside it (hashers, FIFO readers).
	for p in $(jobs -p); do
		kill -TERM "$p" 2>/dev/null
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
# One exception: a TCP checksum of 0xffff where 0x0000 is meant (the same
# number in one's complement; RFC 1624 explains why a full computation never
# gives 0xffff) in a frame the host under test received: Linux now and then
# sends one, and so does a second stack host with TAP offload, whose partial
# checksums the kernel completes (skb_checksum_help writes 0 as 0xffff);
# tshark marks it bad, but it is not the host's doing. From the host
# (source MAC $HOST_MAC, which never offloads while it writes a pcap), it is.
PCAP_BAD_FILTER="($PCAP_BAD_FILTER) && !(eth.src != $HOST_MAC && tcp.checksum.ffff)"
# And a second: an ICMP destination unreachable from Linux (its own checksum
# good) that quotes the start of a long TCP segment (RFC 1812 4.3.2.3: as
# much as fits in 576 bytes): tshark checks the quoted TCP checksum over the
# part it has, which cannot match.
PCAP_BAD_FILTER="($PCAP_BAD_FILTER) && !(eth.src != $HOST_MAC && icmp.type == 3 && icmp.checksum.status == 1)"
# tshark validates ICMP checksums always; IPv4, UDP and TCP only when asked.
TSHARK_CHECK=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE)

# Prints the frames of FILE that fail the checks (nothing if it is clean);
# returns non-zero if tshark cannot read the file. More tshark options may
# follow FILE, e.g. -d tcp.port==5001,data so that a payload of test bytes is
# not taken for a protocol that happens to be registered on that port.
pcap_bad_frames() {
	tshark -n -r "$1" "${TSHARK_CHECK[@]}" "${@:2}" -Y "$PCAP_BAD_FILTER" 2>"$TMP/tshark.err" ||
		{ cat "$TMP/tshark.err" >&2; return 1; }
}

# Fails if FILE is unreadable, empty, or holds a malformed frame or a bad
# checksum. More tshark options may follow FILE (see pcap_bad_frames).
check_pcap() {
	local bad frames
	frames=$(tshark -n -r "$1" 2>/dev/null | wc -l) || fail "tshark cannot read $1"
	[ "$frames" -gt 0 ] || fail "$1 holds no frame"
	bad=$(pcap_bad_frames "$@") || fail "tshark cannot read $1"
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

# ---- TCP helpers

# Host flags for a stack host on tap N of the lab: address 10.0.0.(N+2), its
# MAC, its control socket $TMP/tapN.ctl, a seed of its own. Add --pcap and
# --trace as needed.
host_flags() {
	local n=$1
	printf -- '--tap tap%d --ip 10.0.0.%d/24 --gw %s --mac 02:00:00:00:00:%02x --ctl %s --seed %d' \
		"$n" $((n + 2)) "$GW_IP" $((n + 2)) "$TMP/tap$n.ctl" $((n + 1))
}

# Like host_start but without --pcap and --trace, for transfers too big to
# capture or trace (a 1 GB transfer writes gigabytes of both).
host_start_bulk() {
	"$NET" up 1 >/dev/null
	host_spawn --tap tap0 --ip "$HOST_IP/24" --gw "$GW_IP" --mac "$HOST_MAC" \
		--ctl "$CTL" --seed 1 "$@"
}

# The host's TCP connections, as tapctl sockets prints them (CTL defaults to the host's).
sockets() {
	"$TAPCTL" --ctl "${1:-$CTL}" sockets
}

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds (0) or the
# time is up (1).
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# now_ms: a clock in milliseconds, to time transfers.
now_ms() {
	date +%s%3N
}

# rate BYTES MS: "N.N s, M MB/s" for a transfer of BYTES in MS milliseconds.
rate() {
	awk -v b="$1" -v ms="$2" 'BEGIN {
		if (ms < 1) ms = 1
		printf "%.1f s, %.1f MB/s", ms / 1000, b / 1e6 / (ms / 1000) }'
}

# chargen_ref N: writes the first N bytes of the RFC 864 stream a TCP chargen
# connection sends: line k is the 72 printable characters (' ' to '~') from
# character k on, wrapping, then CR LF. The pattern repeats every 95 lines
# (7030 bytes): one block of 150 periods is made once and written again and
# again until N bytes are out.
CHARGEN_BLOCK=$TMP/chargen.block
chargen_ref() {
	if [ ! -s "$CHARGEN_BLOCK" ]; then
		LC_ALL=C awk 'BEGIN {
			for (r = 0; r < 95; r++) {
				s = ""
				for (c = 0; c < 72; c++)
					s = s sprintf("%c", 32 + (r + c) % 95)
				line[r] = s "\r\n"
			}
			for (k = 0; k < 150; k++)
				for (r = 0; r < 95; r++)
					printf "%s", line[r]
		}' >"$CHARGEN_BLOCK"
	fi
	# cat fails once head has all it wants (SIGPIPE), which ends the loop.
	{ while cat "$CHARGEN_BLOCK"; do :; done; } 2>/dev/null | head -c "$1" || true
}

# chargen_cmp FILE: checks that FILE holds the start of the chargen stream;
# prints nothing if so, else cmp's word on where it differs.
chargen_cmp() {
	local n
	n=$(stat -c %s "$1")
	cmp "$1" <(chargen_ref "$n") 2>&1 || true
}

# Prints the host's log on failure-worthy evidence: the counters and the sockets.
show_host() {
	echo "--- tapctl sockets (${1:-$CTL}):"
	"$TAPCTL" --ctl "${1:-$CTL}" sockets 2>&1 || true
	echo "--- tapctl stats (tcp.*):"
	"$TAPCTL" --ctl "${1:-$CTL}" stats 2>&1 | grep -E '^tcp\.' || true
}

# echo_hashed SIZE LIMIT: sends SIZE random bytes to the host's TCP echo
# with nc (which half-closes at the end of its input) and fails unless the
# SIZE bytes that come back within LIMIT seconds hash (sha256) like those
# sent. Nothing lands on the disk: the source is hashed on its way out (tee
# into a FIFO read by sha256sum), the answer counted and hashed on its way
# in. Sets XFER_MS to the time it took.
echo_hashed() {
	local size=$1 limit=$2 start rc got
	rm -f "$TMP/in.fifo" "$TMP/out.fifo"
	mkfifo "$TMP/in.fifo" "$TMP/out.fifo"
	sha256sum <"$TMP/in.fifo" >"$TMP/in.sum" &
	local in_pid=$!
	wc -c <"$TMP/out.fifo" >"$TMP/out.count" &
	local count_pid=$!
	start=$(now_ms)
	head -c "$size" /dev/urandom | tee "$TMP/in.fifo" |
		nsx timeout "$limit" nc -N -n "$HOST_IP" 7 2>"$TMP/nc.err" |
		tee "$TMP/out.fifo" | sha256sum >"$TMP/out.sum" && rc=0 || rc=$?
	XFER_MS=$(($(now_ms) - start))
	wait "$in_pid" "$count_pid" || true
	got=$(cat "$TMP/out.count" 2>/dev/null || true)
	got=${got:-0}
	if [ "$rc" -ne 0 ] || [ "$got" -ne "$size" ]; then
		show_host
		fail "echo: sent $size bytes, got $got back in $((XFER_MS / 1000)) s" \
			"(pipeline status $rc, limit $limit s) $(cat "$TMP/nc.err")"
	fi
	[ "$(cut -d' ' -f1 "$TMP/in.sum")" = "$(cut -d' ' -f1 "$TMP/out.sum")" ] ||
		fail "echo: $size bytes came back but their sha256 differs from what was sent"
}

# dhcpd_start ROUTER DNS: dnsmasq as a DHCP server only (--port=0: no DNS)
# on the lab's bridge, inside the namespace, leases of 2 minutes from
# 10.0.0.100-150 naming ROUTER and DNS; its files in $TMP (the leases in
# $LEASES, its log in $TMP/dnsmasq-dhcp.log). It daemonizes and writes its
# PID, which the EXIT trap stops first, then runs cleanup with the test's
# status. Needs the lab network up.
dhcpd_start() {
	command -v dnsmasq >/dev/null || fail "dnsmasq is not installed (apt-get install dnsmasq-base)"
	LEASES=$TMP/dhcp.leases
	DHCPD_PID=
	nsx dnsmasq --conf-file=/dev/null --port=0 --interface=br0 --bind-interfaces \
		--dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0,2m \
		--dhcp-option=option:router,"$1" --dhcp-option=option:dns-server,"$2" \
		--dhcp-leasefile="$LEASES" --pid-file="$TMP/dhcpd.pid" \
		--log-facility="$TMP/dnsmasq-dhcp.log" --log-dhcp ||
		fail "dnsmasq (DHCP) did not start"
	wait_until 5 test -s "$TMP/dhcpd.pid" || fail "dnsmasq wrote no PID file"
	DHCPD_PID=$(cat "$TMP/dhcpd.pid")
	[ "$(cat "/proc/$DHCPD_PID/comm" 2>/dev/null)" = dnsmasq ] || fail "PID $DHCPD_PID is not dnsmasq"
	trap 'rc=$?; stop_dhcpd; (exit "$rc"); cleanup' EXIT
}

# Stops the dnsmasq of dhcpd_start (the test may call it itself, e.g. to
# read the lease file after the host's RELEASE).
stop_dhcpd() {
	if [ -n "${DHCPD_PID:-}" ]; then
		kill -TERM "$DHCPD_PID" 2>/dev/null
		DHCPD_PID=
	fi
}

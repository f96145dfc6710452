# shellcheck shell=bash
# labs/smoke/lib.sh: shared by the labs' smoke scripts (sourced, not run).
#
# A smoke script runs a lab's commands headless, in a lab network of its
# own (namespace smoke-LAB-PID, removed on exit whatever happens), and
# checks the facts the handout's questions rely on. Each check prints
# "ok:" or "FAIL:" with what it wanted and what it saw; the script ends
# with "LAB: N passed, N failed" and fails if one did.
#
#   source "$(dirname "$0")/lib.sh"
#   host_up [TAPSTACK FLAGS]   labs/run-host in the smoke's namespace
#   host_down                  labs/run-host --stop
#   nsx CMD...                 CMD inside the namespace (at most 60 s)
#   check DESC COND...         ok if the command COND succeeds
#   check_eq DESC WANT SEEN    ok if WANT = SEEN
#   check_grep DESC RE FILE    ok if the extended regex RE matches a line of FILE
#   check_in_order DESC FILE RE...  ok if lines matching each RE come in this order
#   check_cites DESC FILE NAME...   ok if FILE has every NAME the handout cites
#   counter NAME               a counter from tapctl stats (0 if absent)
#   trace_mark / trace_since   the trace from a mark on (into $SMOKE_TMP/trace.now)
#   finish                     the summary line; the exit status

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
LAB=$(basename "$0" .sh)
export TAPSTACK_NS="smoke-$LAB-$$"
NS=$TAPSTACK_NS
# labs/net and labs/run-host put a namespace's files here (not /run/tapstack,
# which belongs to the default namespace `make run` uses)
RUN=/run/tapstack-$NS
TRACE=$RUN/tap0.log
PCAP=$RUN/tap0.pcap
TAPCTL=$BUILD/tapctl
# shellcheck disable=SC2034 # for the labs' scripts
HOST_IP=10.0.0.2
PASSED=0
FAILED=0
TRACE_MARK=0

say() {
	echo "$LAB: $*"
}

# Without root or a TUN device nothing can run: say so (exit 77, which is
# not a pass), before anything is made.
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then
	say "SKIPPED: needs root and /dev/net/tun"
	exit 77
fi

# Stops the host (by its PID file, labs/run-host --stop), removes the lab
# network and the namespace's files, on any exit.
smoke_cleanup() {
	local rc=$?
	set +e
	timeout -k 5 30 labs/run-host --stop >/dev/null 2>&1
	# anything left inside the namespace (or its far ones) was started here
	local n p
	for n in "$NS" "$NS-mid" "$NS-far"; do
		[ -e "/run/netns/$n" ] || continue
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	timeout -k 5 30 labs/net down >/dev/null 2>&1
	if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		cp -f "$RUN"/*.log "$RUN"/*.pcap "$RUN"/*.csv "$SMOKE_TMP/" 2>/dev/null
		echo "$LAB: the trace, the pcap and the commands' output are kept in $SMOKE_TMP"
	else
		rm -rf "$SMOKE_TMP"
	fi
	rm -rf "$RUN"
	exit "$rc"
}
SMOKE_TMP=$(mktemp -d "/tmp/tapstack-smoke-$LAB.XXXXXX")
trap smoke_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

for p in tapstack tapctl; do
	[ -x "$BUILD/$p" ] || { say "FAIL: $BUILD/$p is not built (make all)"; exit 1; }
done
for c in tshark ping nc ip; do
	command -v "$c" >/dev/null || { say "FAIL: $c is missing (sudo make deps)"; exit 1; }
done

ok() {
	PASSED=$((PASSED + 1))
	echo "ok: $*"
}

bad() {
	FAILED=$((FAILED + 1))
	echo "FAIL: $*"
}

# check DESC CMD...: ok if CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$desc"; else bad "$desc (the command failed: $*)"; fi
}

# check_eq DESC WANT SEEN
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1: $3"; else bad "$1: want '$2', saw '$3'"; fi
}

# check_grep DESC REGEX FILE: a line of FILE matches REGEX (grep -E).
check_grep() {
	local line
	if line=$(grep -E -m 1 -- "$2" "$3" 2>/dev/null); then
		ok "$1: $line"
	else
		bad "$1: no line of $(basename "$3") matches /$2/"
	fi
}

# check_in_order DESC FILE RE...: lines matching each RE, in that order.
check_in_order() {
	local desc=$1 file=$2 from=0 re n
	shift 2
	for re in "$@"; do
		n=$(tail -n "+$((from + 1))" "$file" | grep -E -n -m 1 -- "$re" | cut -d: -f1)
		if [ -z "$n" ]; then
			bad "$desc: no line matching /$re/ after line $from of $(basename "$file")"
			return
		fi
		from=$((from + n))
	done
	ok "$desc (in order, to line $from)"
}

# check_cites DESC FILE NAME...: each NAME (a function, a constant) is a
# word of FILE, as the handout that cites it says.
check_cites() {
	local desc=$1 file=$2 name missing=""
	shift 2
	for name in "$@"; do
		grep -qw -- "$name" "$file" 2>/dev/null || missing="$missing $name"
	done
	if [ -z "$missing" ]; then ok "$desc: $file has $*"; else bad "$desc: $file lacks$missing"; fi
}

# Runs CMD inside the lab namespace, at most 60 s.
nsx() {
	timeout -k 5 60 ip netns exec "$NS" "$@"
}

# One counter from tapctl stats (0 if absent). tapctl finds the host of
# $TAPSTACK_NS without --ctl, as the handouts type it.
counter() {
	"$TAPCTL" stats 2>/dev/null | awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}

# Starts the host as `make run TAPSTACK_ARGS="FLAGS"` does, in the smoke's
# namespace. Fails the script (nothing more to check) if it does not start.
host_up() {
	if ! TAPSTACK_ARGS="$*" timeout -k 5 60 labs/run-host >"$SMOKE_TMP/run-host.out" 2>&1; then
		cat "$SMOKE_TMP/run-host.out"
		bad "labs/run-host $* did not start the host"
		finish
	fi
	ok "labs/run-host started the host in namespace $NS (files in $RUN)"
	TRACE_MARK=0
}

host_down() {
	timeout -k 5 30 labs/run-host --stop >"$SMOKE_TMP/stop.out" 2>&1 ||
		bad "labs/run-host --stop failed: $(tail -n 3 "$SMOKE_TMP/stop.out")"
}

# trace_mark: remember where the trace is now; trace_since: the lines after
# the mark, into $SMOKE_TMP/trace.now (the host writes them as it goes).
trace_mark() {
	TRACE_MARK=$(wc -l <"$TRACE" 2>/dev/null || echo 0)
}
trace_since() {
	tail -n "+$((TRACE_MARK + 1))" "$TRACE" >"$SMOKE_TMP/trace.now" 2>/dev/null
}

# wait_for FILE REGEX TENTHS: until a line of FILE matches (bounded).
wait_for() {
	local i
	for ((i = 0; i < $3; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# tshark on the host's pcap (reading it while the host writes it is fine:
# tshark reads what is there).
pcap_fields() {
	timeout -k 5 60 tshark -r "$PCAP" -n "$@" 2>/dev/null
}

finish() {
	echo "$LAB: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && exit 0
	exit 1
}

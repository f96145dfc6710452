#!/usr/bin/env bash
# The command line: --help and --version exit 0; a bad flag exits 2 with one
# line saying what is wrong, before touching any device.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

# Inside a namespace all the same: if a flag were wrongly accepted, a TAP
# would be made there, not in the machine's own namespace.
"$NET" up 1 >/dev/null

for flag in --help --version; do
	nsx timeout 5 "$TAPSTACK" "$flag" >"$TMP/out" 2>&1 && rc=0 || rc=$?
	[ "$rc" -eq 0 ] || fail "tapstack $flag exits $rc, want 0"
	[ -s "$TMP/out" ] || fail "tapstack $flag prints nothing"
	ok "tapstack $flag exits 0 ($(head -n 1 "$TMP/out"))"
done
# --help names every service --serve can choose.
nsx timeout 5 "$TAPSTACK" --help >"$TMP/out" 2>&1
for service in echo discard chargen; do
	grep -Eq "^ +$service " "$TMP/out" ||
		fail "tapstack --help does not list the service $service"
done
ok "tapstack --help lists the services echo, discard, chargen"
"$TAPCTL" --help >/dev/null 2>&1 || fail "tapctl --help does not exit 0"
ok "tapctl --help exits 0"

# Each line: the flags, all bad in one way.
bad=(
	"--no-such-flag"
	"--tap"
	"--tap tap0 --ip 10.0.0.300/24"
	"--tap tap0 --ip 10.0.0.2/33"
	"--tap tap0 --ip 10.0.0.2/24 --mac 02:00:00:00:00"
	"--tap tap0 --ip 10.0.0.2/24 --gw nowhere"
	"--tap tap0 --ip 10.0.0.2/24 --impair loss=2"
	"--tap tap0 --ip 10.0.0.2/24 --impair bogus=1"
	"--tap tap0 --ip 10.0.0.2/24 --seed x"
	"--tap tap0 --ip 10.0.0.2/24 --serve nosuch"
	"--tap tap0 --ip 10.0.0.2/24 --serve echo,nosuch"
	"--tap tap0 --ip 10.0.0.2/24 --serve"
)
for args in "${bad[@]}"; do
	# shellcheck disable=SC2086 # split on purpose
	nsx timeout 5 "$TAPSTACK" $args </dev/null >"$TMP/out" 2>"$TMP/err" && rc=0 || rc=$?
	lines=$(wc -l <"$TMP/err")
	echo "tapstack $args -> status $rc: $(cat "$TMP/err")"
	[ "$rc" -eq 2 ] || fail "tapstack $args exits $rc, want 2"
	[ "$lines" -eq 1 ] || fail "tapstack $args prints $lines lines on stderr, want 1"
done
ok "${#bad[@]} bad command lines: exit 2 with one line each"

#!/usr/bin/env bash
# The tapstack host's web server under load tools: `ab -n 20000 -c 100 -k`
# and `wrk -c 200` with zero failed requests, then 1,000 connections held
# open at once (idle, never sending) while a fresh request still gets its
# 200. Rates are printed, never judged.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is missing (sudo make deps installs it)"
command -v ab >/dev/null || fail "ab is missing (apt-get install apache2-utils)"
command -v wrk >/dev/null || fail "wrk is missing (apt-get install wrk)"

WWW=$TMP/www
mkdir -p "$WWW"
head -c 1024 /dev/urandom >"$WWW/small.bin"
URL=http://$HOST_IP

host_start_bulk --serve http --www "$WWW" --log none --request-timeout 60000 --idle-timeout 60000

# --- ab: 20,000 requests, 100 at a time, keep-alive
nsx timeout 120 ab -q -n 20000 -c 100 -k "$URL/small.bin" >"$TMP/ab.out" 2>&1 ||
	{ tail -n 20 "$TMP/ab.out"; show_host; fail "ab failed"; }
grep -Eq '^Complete requests: +20000$' "$TMP/ab.out" || { cat "$TMP/ab.out"; fail "ab: not 20000 complete requests"; }
grep -Eq '^Failed requests: +0$' "$TMP/ab.out" || { cat "$TMP/ab.out"; fail "ab: failed requests"; }
grep -q 'Non-2xx' "$TMP/ab.out" && { cat "$TMP/ab.out"; fail "ab: non-2xx responses"; }
ok "ab -n 20000 -c 100 -k: 0 failed, $(awk '/^Requests per second/ {print $4}' "$TMP/ab.out") requests/s"

# --- wrk: 200 connections for 5 s
nsx timeout 60 wrk -t 4 -c 200 -d 5s "$URL/small.bin" >"$TMP/wrk.out" 2>&1 ||
	{ cat "$TMP/wrk.out"; show_host; fail "wrk failed"; }
grep -q 'Socket errors' "$TMP/wrk.out" && { cat "$TMP/wrk.out"; fail "wrk: socket errors"; }
grep -q 'Non-2xx' "$TMP/wrk.out" && { cat "$TMP/wrk.out"; fail "wrk: non-2xx responses"; }
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
[ "${reqs:-0}" -gt 0 ] || { cat "$TMP/wrk.out"; fail "wrk made no request"; }
ok "wrk -c 200 -d 5s: $reqs requests, no error, $(awk '/^Requests\/sec/ {print $2}' "$TMP/wrk.out") requests/s"

# --- 1,000 connections held open by one shell, then a fresh request
HOLD=$TMP/hold.sh
cat >"$HOLD" <<HOLDEOF
ulimit -n 4096
for i in \$(seq 1000); do
	exec {fd}<>/dev/tcp/$HOST_IP/80 || exit 1
done
echo open
sleep 30
HOLDEOF
nsx bash "$HOLD" >"$TMP/hold.out" 2>&1 &
established() {
	[ "$(sockets | grep -c ESTAB || true)" -ge 1000 ]
}
wait_until 30 established || { tail -n 3 "$TMP/hold.out"; fail "1000 connections not established ($(sockets | grep -c ESTAB || true))"; }
code=$(nsx curl -s --max-time 5 -o "$TMP/fresh.bin" -w '%{http_code}' "$URL/small.bin" || true)
[ "$code" = 200 ] && cmp -s "$TMP/fresh.bin" "$WWW/small.bin" || fail "a fresh request with 1000 held open: '$code'"
ok "1000 connections held open, a fresh request still gets its 200"
host_stop

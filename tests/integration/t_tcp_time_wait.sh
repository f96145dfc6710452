#!/usr/bin/env bash
# Issue 20: the web server closes first, so each connection ends in
# TIME-WAIT on the host. ab opens and closes 4,000 connections, 20 at a
# time, against --tcp-max-tw 200: every request is answered (no lock-out),
# the host never holds more than 200 TIME-WAIT entries (the oldest are
# recycled, tcp.tw_recycled), and once the clients are done `tapctl
# memory` shows the TCP rings back to their baseline: TIME-WAIT holds none.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
command -v ab >/dev/null || fail "ab is missing (apt-get install apache2-utils)"

N=4000
MAX_TW=200
WWW=$TMP/www
mkdir -p "$WWW"
head -c 3000 /dev/urandom >"$WWW/page.bin"

host_start_bulk --serve http --www "$WWW" --log none --tcp-max-tw "$MAX_TW"

mem() {
	"$TAPCTL" --ctl "$CTL" memory | awk -v n="$1" '$1 == n { print $2 }'
}
base=$(mem tcp.mem_bytes)
[ -n "$base" ] || fail "tapctl memory has no tcp.mem_bytes line"
[ "$(mem tcp.max_tw)" = "$MAX_TW" ] || fail "tapctl memory: tcp.max_tw is not $MAX_TW"

# HTTP/1.0 without keep-alive: the server closes each connection first
nsx timeout 120 ab -q -n "$N" -c 20 "http://$HOST_IP/page.bin" >"$TMP/ab.out" 2>&1 ||
	{ tail -n 20 "$TMP/ab.out"; show_host; fail "ab failed"; }
grep -Eq "^Complete requests: +$N\$" "$TMP/ab.out" || { cat "$TMP/ab.out"; fail "ab: not $N complete requests"; }
grep -Eq '^Failed requests: +0$' "$TMP/ab.out" || { cat "$TMP/ab.out"; fail "ab: failed requests"; }
ok "ab -n $N -c 20: every request answered ($(awk '/^Requests per second/ {print $4}' "$TMP/ab.out") requests/s)"

settled() {
	[ "$(mem tcp.orphans)" = 0 ] && [ "$(sockets | grep -Ec '^(ESTABLISHED|FIN-WAIT|CLOSING|LAST-ACK|SYN-RECEIVED)')" = 0 ]
}
wait_until 10 settled || { sockets | head; fail "connections still closing 10 s after ab"; }
tw=$(mem tcp.time_wait)
recycled=$(stat_get tcp.tw_recycled)
[ "$tw" -le "$MAX_TW" ] || fail "$tw connections in TIME-WAIT, the limit is $MAX_TW"
[ "$tw" -gt 0 ] || fail "no connection in TIME-WAIT: did the server close first?"
[ "$recycled" -ge $((N / 2)) ] || fail "tcp.tw_recycled is $recycled, want at least $((N / 2))"
ok "$tw connections in TIME-WAIT (limit $MAX_TW), $recycled oldest ones recycled"
now=$(mem tcp.mem_bytes)
[ "$now" = "$base" ] || { "$TAPCTL" --ctl "$CTL" memory; fail "TCP rings hold $now bytes, $base before"; }
[ "$(mem tcp.rcv_ring_bytes)" = 0 ] && [ "$(mem tcp.snd_ring_bytes)" = 0 ] ||
	{ "$TAPCTL" --ctl "$CTL" memory; fail "TIME-WAIT entries still hold ring memory"; }
ok "tapctl memory: the TCP rings back to $base bytes, TIME-WAIT holds none"
host_stop

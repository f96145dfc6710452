#!/usr/bin/env bash
# Persistent connections and friends on the tapstack host's web server:
# curl -v reuses one connection for two files ("Re-using existing
# connection"), three pipelined requests sent at once are answered in order
# on one connection, an idle connection is closed after --idle-timeout,
# `curl -C -` resumes a half-downloaded file byte for byte, and two virtual
# hosts share one address, chosen by Host (curl -H and --resolve). Slow
# clients (a byte a second, or nothing) do not hold up a request beside them.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is missing (sudo make deps installs it)"

WWW=$TMP/www
mkdir -p "$WWW" "$TMP/a" "$TMP/b"
printf 'first file\n' >"$WWW/one.txt"
printf 'second file\n' >"$WWW/two.txt"
head -c 3000000 /dev/urandom >"$WWW/big.bin"
printf 'site A\n' >"$TMP/a/index.html"
printf 'site B\n' >"$TMP/b/index.html"
URL=http://$HOST_IP

host_start --serve http --www "$WWW" --vhost www.a.test="$TMP/a" --vhost www.b.test="$TMP/b" \
	--idle-timeout 1500 --log "$TMP/access.log"

# --- two files on one connection
nsx curl -sv --max-time 10 "$URL/one.txt" "$URL/two.txt" >"$TMP/both.out" 2>"$TMP/curl.err" ||
	fail "curl of two files failed: $(tail -n 3 "$TMP/curl.err")"
[ "$(cat "$TMP/both.out")" = "$(printf 'first file\nsecond file')" ] || fail "two files: '$(cat "$TMP/both.out")'"
grep -aq "Re-using existing connection" "$TMP/curl.err" || { cat "$TMP/curl.err"; fail "curl did not reuse the connection"; }
[ "$(grep -ac "Connected to" "$TMP/curl.err")" -eq 1 ] || fail "curl connected more than once"
ok "keep-alive: two files, one connection (curl -v: Re-using existing connection)"

# --- pipelining: three requests in one write, three answers in order
printf 'GET /one.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /two.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /one.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
	nsx timeout 10 nc -n "$HOST_IP" 80 >"$TMP/pipe.out" 2>/dev/null || true
[ "$(grep -ac '^HTTP/1.1 200 OK' "$TMP/pipe.out")" -eq 3 ] || { cat "$TMP/pipe.out"; fail "pipelining: not three 200s"; }
[ "$(grep -a 'file$' "$TMP/pipe.out" | tr '\n' ,)" = "first file,second file,first file," ] ||
	fail "pipelining: the bodies are not in order: $(grep -a 'file$' "$TMP/pipe.out" | tr '\n' ,)"
ok "pipelining: three requests in one write, answered in order on one connection"

# --- the idle timeout: a kept connection that stays silent is closed
start=$(now_ms)
(printf 'GET /one.txt HTTP/1.1\r\nHost: a\r\n\r\n'; sleep 8) | nsx timeout 6 nc -n "$HOST_IP" 80 >"$TMP/idle.out" 2>/dev/null || true
grep -aq '^HTTP/1.1 200' "$TMP/idle.out" || fail "idle: no answer"
grep -aq '408' "$TMP/idle.out" && fail "idle: an idle kept-alive connection got a 408"
sleep 0.5
[ "$(sockets | grep -c ESTAB || true)" -eq 0 ] || { sockets; fail "an idle connection is still open after 1.5 s + margin"; }
ok "an idle kept-alive connection is closed quietly after --idle-timeout"

# --- resume: half the file first, then curl -C - asks for the rest
head -c 1234567 "$WWW/big.bin" >"$TMP/resume.bin"
nsx curl -sv --max-time 30 -C - -o "$TMP/resume.bin" "$URL/big.bin" 2>"$TMP/curl.err" ||
	fail "curl -C - failed: $(tail -n 3 "$TMP/curl.err")"
grep -aq '^> Range: bytes=1234567-' "$TMP/curl.err" || fail "curl -C - sent no Range"
grep -aq '^< HTTP/1.1 206' "$TMP/curl.err" || fail "curl -C -: no 206"
grep -aq "^< Content-Range: bytes 1234567-2999999/3000000" "$TMP/curl.err" || fail "curl -C -: Content-Range"
cmp "$TMP/resume.bin" "$WWW/big.bin" || fail "the resumed file differs"
ok "curl -C - resumes at byte 1234567 (206), the file is whole and equal"

# --- virtual hosts: one address, two sites
[ "$(nsx curl -s -H 'Host: www.a.test' "$URL/")" = "site A" ] || fail "Host: www.a.test did not get site A"
[ "$(nsx curl -s -H 'Host: WWW.B.TEST:80' "$URL/")" = "site B" ] || fail "Host: WWW.B.TEST:80 did not get site B"
[ "$(nsx curl -s --resolve "www.a.test:80:$HOST_IP" http://www.a.test/)" = "site A" ] || fail "--resolve www.a.test"
[ "$(nsx curl -s --resolve "www.b.test:80:$HOST_IP" http://www.b.test/)" = "site B" ] || fail "--resolve www.b.test"
[ "$(nsx curl -s -H 'Host: other.test' "$URL/one.txt")" = "first file" ] || fail "an unknown host did not get --www"
[ "$(nsx curl -s -o /dev/null -w '%{http_code}' -H 'Host: www.a.test' "$URL/one.txt")" = 404 ] ||
	fail "www.a.test served a file of the default root"
ok "virtual hosts: www.a.test and www.b.test on one address (Host, --resolve), others get --www"

# --- slow clients block no one: one sends a byte a second, one never sends
(for c in G E T ' ' / ' ' H T T P; do printf '%s' "$c"; sleep 1; done) |
	nsx timeout 15 nc -n "$HOST_IP" 80 >/dev/null 2>&1 &
nsx timeout 15 nc -n -d "$HOST_IP" 80 >/dev/null 2>&1 &
sleep 1.5
start=$(now_ms)
[ "$(nsx curl -s --max-time 5 "$URL/one.txt")" = "first file" ] || fail "a request beside two slow clients failed"
ms=$(($(now_ms) - start))
[ "$ms" -lt 1000 ] || fail "a request beside two slow clients took $ms ms"
ok "beside a client sending a byte a second and one that never sends, a request takes $ms ms"
host_stop
check_pcap "$PCAP"

#!/usr/bin/env bash
# webget against the web server of another tapstack host, stack to stack:
# httpd (build/httpd, 10.0.0.2 on tap0) serves, webget (10.0.0.3 on tap1)
# fetches a 20 MB file byte for byte (sha256), follows a 301 (a directory
# named without its '/'), shows a head with -I, exits non-zero on a 404,
# and decodes a chunked body from a server of the kernel's (nc on
# 10.0.0.1 with a canned answer).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
HTTPD=$BUILD/httpd
WEBGET=$BUILD/webget
[ -x "$HTTPD" ] && [ -x "$WEBGET" ] || fail "httpd or webget is not built (make apps)"
command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"

WWW=$TMP/www
mkdir -p "$WWW/dir"
head -c 20M /dev/urandom >"$WWW/big.bin"
printf 'in the directory\n' >"$WWW/dir/index.html"
"$NET" up 2 >/dev/null

# httpd is a host of its own on tap0 (the address tapstack would have)
ip netns exec "$NS" "$HTTPD" --tap tap0 --ip "$HOST_IP/24" --gw "$GW_IP" --mac "$HOST_MAC" \
	--ctl "$CTL" --seed 1 --www "$WWW" --log "$TMP/access.log" </dev/null 2>"$TRACE" &
HOST_PID=$!
host_wait_ready

# shellcheck disable=SC2046 # split on purpose
webget() {
	nsx timeout 60 "$WEBGET" $(host_flags 1) "$@"
}

start=$(now_ms)
webget -o "$TMP/big.out" "http://$HOST_IP/big.bin" 2>"$TMP/webget.log" ||
	{ tail -n 5 "$TMP/webget.log"; fail "webget of 20 MB failed"; }
ms=$(($(now_ms) - start))
cmp -s "$WWW/big.bin" "$TMP/big.out" || fail "20 MB: the body differs ($(stat -c %s "$TMP/big.out") bytes)"
ok "webget fetched 20 MB from httpd, stack to stack, equal ($(rate 20971520 "$ms"), starts included)"

webget -v "http://$HOST_IP/dir" >"$TMP/dir.out" 2>"$TMP/webget.log" ||
	{ cat "$TMP/webget.log"; fail "webget of /dir failed"; }
grep -q '^< HTTP/1.1 301' "$TMP/webget.log" || fail "no 301 seen for /dir"
grep -q '^> GET /dir/ HTTP/1.1' "$TMP/webget.log" || fail "webget did not follow to /dir/"
[ "$(cat "$TMP/dir.out")" = "in the directory" ] || fail "after the redirect: '$(cat "$TMP/dir.out")'"
ok "webget follows 301 /dir -> /dir/ and prints only the final body"

webget -v --max-redirs 0 "http://$HOST_IP/dir" >/dev/null 2>"$TMP/webget.log" || true
[ "$(grep -c '^> GET' "$TMP/webget.log")" -eq 1 ] && grep -q '^webget: status 301' "$TMP/webget.log" ||
	{ cat "$TMP/webget.log"; fail "--max-redirs 0 followed the 301"; }
ok "webget --max-redirs 0 stops at the 301"
webget -I "http://$HOST_IP/big.bin" >"$TMP/head.out" 2>"$TMP/webget.log" || fail "webget -I failed"
grep -q '^HTTP/1.1 200 OK' "$TMP/head.out" && grep -q '^Content-Length: 20971520' "$TMP/head.out" ||
	{ cat "$TMP/head.out"; fail "webget -I: no 200 with Content-Length"; }
[ "$(wc -c <"$TMP/head.out")" -lt 1000 ] || fail "webget -I printed a body"
ok "webget -I prints the head only"

webget "http://$HOST_IP/missing" >/dev/null 2>&1 && rc=0 || rc=$?
[ "$rc" -eq 1 ] || fail "webget of a 404 exits $rc, want 1"
ok "webget exits 1 on a 404"
grep -q '"GET /big.bin HTTP/1.1" 200 20971520' "$TMP/access.log" || fail "httpd's log lacks the 20 MB GET"

# a chunked answer from the kernel's side
printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nhello \r\n7;x=y\r\nchunked\r\n1\r\n\n\r\n0\r\nX-Trailer: 1\r\n\r\n' >"$TMP/chunked.http"
nsx timeout 20 nc -n -l "$GW_IP" 8080 <"$TMP/chunked.http" >/dev/null 2>&1 &
sleep 0.3
webget "http://$GW_IP:8080/c" >"$TMP/chunked.out" 2>"$TMP/webget.log" ||
	{ cat "$TMP/webget.log"; fail "webget of a chunked body failed"; }
[ "$(cat "$TMP/chunked.out")" = "hello chunked" ] || fail "chunked: '$(cat "$TMP/chunked.out")'"
ok "webget decodes a chunked body (with an extension and a trailer)"
host_stop

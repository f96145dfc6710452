#!/usr/bin/env bash
# webget, a host of its own (10.0.0.3 on tap1), fetches pages over its TCP
# from a web server of the kernel's (busybox httpd on 10.0.0.1:80): a 5 MB
# random file arrives byte for byte (sha256), -v shows the request and a
# "200 OK", the index comes to stdout, and a missing page (404) makes webget
# exit non-zero. webget's pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

WEBGET=$BUILD/webget
[ -x "$WEBGET" ] || fail "$WEBGET is not built (make apps)"
command -v busybox >/dev/null && busybox --list | grep -x httpd >/dev/null ||
	fail "busybox with its httpd applet is missing (sudo make deps installs busybox)"

"$NET" up 2 >/dev/null

# The kernel's web server, in the namespace, on the bridge's address.
mkdir "$TMP/www"
head -c 5M /dev/urandom >"$TMP/www/big.bin"
printf '<html><body>hello from the kernel</body></html>\n' >"$TMP/www/index.html"
: >"$TMP/httpd.conf"
ip netns exec "$NS" busybox httpd -f -vv -p "$GW_IP:80" -h "$TMP/www" -c "$TMP/httpd.conf" \
	2>"$TMP/httpd.log" &
HTTPD_PID=$!
listening() {
	[ -n "$(nsx ss -tlnH "sport = :80")" ]
}
wait_until 5 listening || fail "busybox httpd does not listen on $GW_IP:80 ($(cat "$TMP/httpd.log"))"

# webget on tap1 with its pcap and trace; the trace and -v go to stderr.
# shellcheck disable=SC2046 # split on purpose
webget() {
	nsx timeout 60 "$WEBGET" $(host_flags 1) --pcap "$TMP/tap1-$1.pcap" --trace "${@:2}"
}

# --- 5 MB, byte for byte
start=$(now_ms)
webget big -v -o "$TMP/big.out" "http://$GW_IP/big.bin" 2>"$TMP/webget.log" && rc=0 || rc=$?
ms=$(($(now_ms) - start))
if [ "$rc" -ne 0 ]; then
	echo "--- webget trace (end):"
	tail -n 30 "$TMP/webget.log"
	fail "webget of a 5 MB file exits $rc, want 0"
fi
want=$(sha256sum <"$TMP/www/big.bin")
got=$(sha256sum <"$TMP/big.out")
[ "$want" = "$got" ] ||
	fail "webget: the body ($(stat -c %s "$TMP/big.out") bytes) differs from the 5 MB file" \
		"$(cmp "$TMP/www/big.bin" "$TMP/big.out" 2>&1)"
ok "webget: 5 MB fetched over the stack's TCP, sha256 equal ($(rate 5242880 "$ms"), host start included)"
grep -q "^> GET /big.bin HTTP/1.1" "$TMP/webget.log" || fail "webget -v shows no request line"
grep -q "^< HTTP/1.[01] 200 OK" "$TMP/webget.log" || fail "webget -v shows no '200 OK' status line"
grep -Eq "^webget: status 200, 5242880 bytes of body" "$TMP/webget.log" ||
	fail "webget -v does not say 'status 200, 5242880 bytes of body'"
ok "webget -v: the request, '200 OK', and 'status 200, 5242880 bytes of body'"
grep -q "url:/big.bin" "$TMP/httpd.log" || fail "httpd logged no request for /big.bin"
check_pcap "$TMP/tap1-big.pcap"

# --- the index, to stdout
webget index "http://$GW_IP/" >"$TMP/index.out" 2>"$TMP/webget.log" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || { tail -n 20 "$TMP/webget.log"; fail "webget of the index exits $rc, want 0"; }
cmp -s "$TMP/www/index.html" "$TMP/index.out" ||
	fail "webget of the index printed '$(cat "$TMP/index.out")'"
ok "webget: the index page on stdout"

# --- a missing page: 404, webget fails
webget missing -v "http://$GW_IP/no-such-page" >"$TMP/404.out" 2>"$TMP/webget.log" && rc=0 || rc=$?
grep -q "^< HTTP/1.[01] 404" "$TMP/webget.log" ||
	{ tail -n 20 "$TMP/webget.log"; fail "webget -v of a missing page shows no 404 status line"; }
[ "$rc" -ne 0 ] || fail "webget of a missing page (404) exits 0, want non-zero"
[ "$rc" -ne 124 ] || fail "webget of a missing page hung until its time limit"
ok "webget: a missing page answers 404 and webget exits $rc"
check_pcap "$TMP/tap1-missing.pcap"

kill "$HTTPD_PID"

#!/usr/bin/env bash
# The tapstack host's web server (--serve http --www DIR) answers real curl
# with every status code it knows, each seen in `curl -v`: 200 (with the
# right Content-Type, ETag, Last-Modified), 206, 301, 304 (If-None-Match
# and If-Modified-Since), 400, 403, 404, 405 (with Allow), 408, 413, 414,
# 416, 431, 501, 503, 505. No path escapes the root: "..", %2e%2e, %2f and
# a symbolic link out of it. HEAD, HTTP/1.0, index.html, the generated
# listing, the welcome page, and one Common Log Format line per request.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is missing (sudo make deps installs it)"
command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"

WWW=$TMP/www
mkdir -p "$WWW/docs" "$WWW/site" "$TMP/outside"
printf 'hello, web\n' >"$WWW/hello.txt"
printf '<html><body>site index</body></html>\n' >"$WWW/site/index.html"
printf '{"a": 1}\n' >"$WWW/docs/data.json"
printf 'body{}\n' >"$WWW/docs/style.css"
printf 'secret\n' >"$TMP/outside/secret.txt"
ln -s "$TMP/outside" "$WWW/escape"
ln -s hello.txt "$WWW/inside-link.txt"
URL=http://$HOST_IP

host_start --serve http --www "$WWW" --request-timeout 2000 --log "$TMP/access.log"

# status URL [CURL ARGS]: curl -v, and the status line it saw (the last one).
status() {
	local url=$1
	shift
	rm -f "$TMP/body"
	nsx curl -sv --max-time 10 -o "$TMP/body" "$@" "$url" 2>"$TMP/curl.err" || true
	grep -a '^< HTTP/' "$TMP/curl.err" | tail -n 1 | awk '{print $3}'
}
# expect CODE URL [CURL ARGS]: fails unless curl -v shows that status.
expect() {
	local want=$1 got
	shift
	got=$(status "$@")
	[ "$got" = "$want" ] || { cat "$TMP/curl.err" >&2; fail "$* answered '$got', want $want"; }
}
# header NAME: the value of a response field in the last curl -v.
header() {
	grep -ai "^< $1:" "$TMP/curl.err" | head -n 1 | cut -d' ' -f3- | tr -d '\r'
}
# raw TEXT: sends TEXT as it is with nc; prints the status code answered.
raw() {
	printf '%b' "$1" | nsx timeout 10 nc -n -w 3 "$HOST_IP" 80 >"$TMP/raw.out" 2>/dev/null || true
	head -n 1 "$TMP/raw.out" | awk '{print $2}'
}
expect_raw() {
	local got
	got=$(raw "$2")
	[ "$got" = "$1" ] || fail "raw request '$2' answered '$got', want $1"
}

# --- 200 with its fields
expect 200 "$URL/hello.txt"
cmp -s "$TMP/body" "$WWW/hello.txt" || fail "GET /hello.txt: the body differs"
[ "$(header Content-Type)" = "text/plain; charset=utf-8" ] || fail "Content-Type '$(header Content-Type)'"
[ "$(header Content-Length)" = 11 ] || fail "Content-Length '$(header Content-Length)'"
etag=$(header ETag)
lastmod=$(header Last-Modified)
[ -n "$etag" ] && [ -n "$lastmod" ] || fail "no ETag or Last-Modified"
expect 200 "$URL/docs/data.json"
[ "$(header Content-Type)" = "application/json" ] || fail "data.json: Content-Type '$(header Content-Type)'"
expect 200 "$URL/docs/style.css"
[ "$(header Content-Type)" = "text/css; charset=utf-8" ] || fail "style.css: Content-Type"
expect 200 "$URL/inside-link.txt"
ok "200: bodies, Content-Type, Content-Length, ETag $etag, Last-Modified $lastmod"

# HEAD: the same head, no body; HTTP/1.0
expect 200 "$URL/hello.txt" -I
[ "$(header Content-Length)" = 11 ] || fail "HEAD: Content-Length '$(header Content-Length)'"
expect 200 "$URL/hello.txt" --http1.0
grep -aq '^> GET /hello.txt HTTP/1.0' "$TMP/curl.err" || fail "curl --http1.0 sent no HTTP/1.0 request"
grep -aqi '^< Connection: close' "$TMP/curl.err" || fail "HTTP/1.0 without keep-alive: no Connection: close"
cmp -s "$TMP/body" "$WWW/hello.txt" || fail "HTTP/1.0: the body differs"
ok "HEAD and HTTP/1.0 (closed after the answer)"

# directories: 301 to the name with '/', index.html, a listing
expect 301 "$URL/site"
[ "$(header Location)" = "/site/" ] || fail "301 Location '$(header Location)'"
expect 200 "$URL/site" -L
grep -q "site index" "$TMP/body" || fail "/site/ did not serve index.html"
expect 200 "$URL/docs/"
grep -q 'href="data.json"' "$TMP/body" && grep -q 'href="style.css"' "$TMP/body" ||
	fail "/docs/ listing: $(cat "$TMP/body")"
ok "301 to /site/, its index.html, and a listing of /docs/"

# / is the root's listing (no index.html there); /index.html, which no file
# answers, is the welcome page: the host's services and the paths it serves
expect 200 "$URL/"
grep -q 'href="hello.txt"' "$TMP/body" || fail "/ of a root without index.html: $(cat "$TMP/body")"
expect 200 "$URL/index.html"
grep -q '<h1>tapstack host</h1>' "$TMP/body" && grep -q '<li><b>http</b>: port 80' "$TMP/body" &&
	grep -q 'href="/bytes/100"' "$TMP/body" || fail "/index.html is not the welcome page: $(cat "$TMP/body")"
[ "$(header Content-Type)" = "text/html; charset=utf-8" ] || fail "welcome page: Content-Type '$(header Content-Type)'"
ok "/ is the root's listing; /index.html, which the root lacks, the welcome page"

# validators: 304
expect 304 "$URL/hello.txt" -H "If-None-Match: $etag"
[ ! -s "$TMP/body" ] || fail "304 with a body"
expect 200 "$URL/hello.txt" -H 'If-None-Match: "other"'
expect 304 "$URL/hello.txt" -H "If-Modified-Since: $lastmod"
expect 200 "$URL/hello.txt" -H "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"
ok "304 for If-None-Match and If-Modified-Since, 200 when changed"

# ranges: 206, 416
expect 206 "$URL/hello.txt" -r 0-4
[ "$(cat "$TMP/body")" = hello ] || fail "206 body '$(cat "$TMP/body")'"
[ "$(header Content-Range)" = "bytes 0-4/11" ] || fail "Content-Range '$(header Content-Range)'"
expect 416 "$URL/hello.txt" -r 100-200
[ "$(header Content-Range)" = "bytes */11" ] || fail "416 Content-Range '$(header Content-Range)'"
ok "206 with Content-Range, 416 with bytes */11"

# errors
expect 404 "$URL/nothing-here"
grep -q "404 Not Found" "$TMP/body" || fail "404 without its page"
expect 405 "$URL/hello.txt" -X POST -d x=1
[ "$(header Allow)" = "GET, HEAD" ] || fail "405 Allow '$(header Allow)'"
expect 501 "$URL/" -X BREW
expect 414 "$URL/$(head -c 5000 /dev/zero | tr '\0' a)"
expect 431 "$URL/" -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' b)"
expect_raw 505 'GET / HTTP/2.0\r\nHost: a\r\n\r\n'
expect_raw 400 'GET / HTTP/1.1\r\n\r\n'
expect_raw 400 'GET / HTTP/1.1\r\nHost: a\r\n folded: x\r\n\r\n'
expect_raw 413 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000000\r\n\r\n'
ok "404, 405 with Allow, 501, 414, 431, 505, 400 (no Host, obs-fold), 413"

# escapes: none leaves the root
expect 400 "$URL/../../etc/passwd" --path-as-is
expect 400 "$URL/%2e%2e/%2e%2e/etc/passwd" --path-as-is
expect 400 "$URL/docs/..%2f..%2fetc%2fpasswd" --path-as-is
expect 403 "$URL/escape/secret.txt"
grep -q secret "$TMP/body" && fail "the secret outside the root was served"
expect 200 "$URL/docs/../hello.txt" --path-as-is
ok "'..', %2e%2e and %2f refused (400), a symlink out of the root 403, '..' inside allowed"

# 408: a request that does not finish in time (2 s here); nc is stopped
# after 4 s, so the 408 must have come before
(printf 'GET / HTTP/1.1\r\nHost: a\r\n'; sleep 6) | nsx timeout 4 nc -n "$HOST_IP" 80 >"$TMP/slow.out" 2>/dev/null || true
head -n 1 "$TMP/slow.out" | grep -q '^HTTP/1.1 408 ' || fail "slow request: '$(head -n 1 "$TMP/slow.out")', want 408 within 4 s"
grep -aqi '^Connection: close' "$TMP/slow.out" || fail "408 without Connection: close"
ok "408 for a request still incomplete after 2 s"

# the access log: Common Log Format
sleep 0.3
grep -Eq '^10\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} [+-][0-9]{4}\] "GET /hello.txt HTTP/1.1" 200 11$' \
	"$TMP/access.log" || { head -n 5 "$TMP/access.log"; fail "no CLF line for GET /hello.txt"; }
grep -q '" 404 ' "$TMP/access.log" && grep -q '"-" 408 ' "$TMP/access.log" || fail "404 or 408 missing from the log"
ok "access log: $(wc -l <"$TMP/access.log") lines in Common Log Format"
host_stop
check_pcap "$PCAP"

# 503: a second host that takes two connections at most
host_start --serve http --www "$WWW" --max-conns 2
for i in 1 2; do
	nsx sleep 8 | nsx nc -n "$HOST_IP" 80 >/dev/null 2>&1 &
done
wait_until 5 bash -c "[ \$('$TAPCTL' --ctl '$CTL' sockets | grep -c ESTAB) -ge 2 ]" ||
	fail "the two holding connections are not established"
expect 503 "$URL/hello.txt"
grep -aqi '^< Connection: close' "$TMP/curl.err" || fail "503 without Connection: close"
ok "503 past --max-conns 2, with Connection: close"

#!/usr/bin/env bash
# A 1 GB body from the tapstack host's web server: GET /bytes/1073741824
# with curl, checked by size and sha256 against the RFC 864 chargen
# pattern the server makes on the fly (no file is read), then a range of it
# (206) and the same 1 GB by HEAD (only the head comes back).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is missing (sudo make deps installs it)"
SIZE=1073741824
URL=http://$HOST_IP

host_start_bulk --serve http --log none

# The reference hash, made while the download runs.
chargen_ref "$SIZE" | sha256sum >"$TMP/want.sum" &
REF_PID=$!

start=$(now_ms)
nsx curl -s --max-time 180 -D "$TMP/head.txt" "$URL/bytes/$SIZE" |
	tee >(wc -c >"$TMP/got.count") | sha256sum >"$TMP/got.sum" || true
ms=$(($(now_ms) - start))
wait "$REF_PID"
sleep 0.2
got=$(cat "$TMP/got.count")
[ "$got" -eq "$SIZE" ] || { show_host; fail "1 GB: got $got bytes in $ms ms"; }
grep -q "^Content-Length: $SIZE" "$TMP/head.txt" || fail "no Content-Length: $SIZE"
[ "$(cut -d' ' -f1 "$TMP/got.sum")" = "$(cut -d' ' -f1 "$TMP/want.sum")" ] ||
	fail "1 GB: the sha256 differs from the chargen pattern's"
ok "GET /bytes/$SIZE: $SIZE bytes, sha256 equal to the pattern ($(rate "$SIZE" "$ms"))"

# A range near the end: the same bytes as the pattern there
nsx curl -s -r 1073741000-1073741823 "$URL/bytes/$SIZE" >"$TMP/tail.bin"
[ "$(stat -c %s "$TMP/tail.bin")" -eq 824 ] || fail "range: $(stat -c %s "$TMP/tail.bin") bytes, want 824"
# the pattern repeats every 7030 bytes (95 lines of 74)
off=$((1073741000 % 7030))
chargen_ref $((off + 824)) | tail -c 824 | cmp -s - "$TMP/tail.bin" || fail "range: the bytes differ from the pattern"
ok "bytes 1073741000-1073741823 (206) equal the pattern's last 824"

code=$(nsx curl -s -I -o "$TMP/head2.txt" -w '%{http_code} %{size_download}' "$URL/bytes/$SIZE")
[ "$code" = "200 0" ] || fail "HEAD /bytes/$SIZE: '$code'"
grep -q "^Content-Length: $SIZE" "$TMP/head2.txt" || fail "HEAD: no Content-Length: $SIZE"
ok "HEAD /bytes/$SIZE: the head with its Content-Length, no body"
host_stop

#!/usr/bin/env bash
# Bulk TCP between the kernel and the host, 1 GB each way (TCP_BULK_MB sets
# another size), checked by hash: random bytes through echo (both directions
# at once: what comes back hashes like what went), the same amount into
# discard (nc ends cleanly: the host read it all up to our FIN, then closed),
# and the same amount out of chargen, compared with the RFC 864 pattern made
# here. The host runs without --pcap and --trace (they would be gigabytes);
# the smaller TCP tests check the captures. Speeds are printed, never judged.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"

MB=${TCP_BULK_MB:-1024}
SIZE=$((MB * 1024 * 1024))
# Each transfer must end within this (a stall fails instead of hanging).
LIMIT=${TCP_BULK_LIMIT:-150}

host_start_bulk
chargen_ref 0 # makes the reference block once

peer_lines() {
	sockets | grep -F " $GW_IP:" || true
}
no_connections() {
	[ -z "$(peer_lines)" ]
}

# --- echo: random bytes there and back at once, hashed both ways.
echo_hashed "$SIZE" "$LIMIT"
ms=$XFER_MS
ok "echo: $MB MB of random bytes each way at once, sha256 equal ($(rate "$SIZE" "$ms"), each way)"
wait_until 10 no_connections || { show_host; fail "echo: the connection is listed 10 s after closing"; }

# --- discard: the kernel sends, the host reads until our FIN and closes.
start=$(now_ms)
head -c "$SIZE" /dev/zero |
	nsx timeout "$LIMIT" nc -N -n "$HOST_IP" 9 >"$TMP/discard.out" 2>"$TMP/nc.err" && rc=0 || rc=$?
ms=$(($(now_ms) - start))
[ "$rc" -eq 0 ] || { show_host; fail "discard: nc exits $rc after $((ms / 1000)) s ($(cat "$TMP/nc.err"))"; }
[ ! -s "$TMP/discard.out" ] || fail "discard answered $(stat -c %s "$TMP/discard.out") bytes"
ok "discard: $MB MB taken, then closed after our FIN ($(rate "$SIZE" "$ms"))"
wait_until 10 no_connections || { show_host; fail "discard: the connection is listed 10 s after closing"; }

# --- chargen: the first SIZE bytes equal the pattern made here (cmp reports
# the first byte that differs, or where the stream ended short).
start=$(now_ms)
why=$(cmp <(chargen_ref "$SIZE") \
	<(nsx timeout "$LIMIT" nc -d -n "$HOST_IP" 19 2>"$TMP/nc.err" | head -c "$SIZE") 2>&1) || true
ms=$(($(now_ms) - start))
[ -z "$why" ] || { show_host; fail "chargen: $why ($(cat "$TMP/nc.err"))"; }
ok "chargen: $MB MB equal to the RFC 864 pattern ($(rate "$SIZE" "$ms"))"
wait_until 10 no_connections ||
	{ show_host; fail "chargen: the connection is listed 10 s after the client went"; }

show_host
host_stop

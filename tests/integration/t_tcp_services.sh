#!/usr/bin/env bash
# The TCP services of the host, reached from the kernel with nc and curl:
# echo (port 7, RFC 862) sends back 1 MB of random bytes byte for byte and
# closes after the client's FIN; discard (9, RFC 863) takes 1 MB and answers
# nothing; chargen (19, RFC 864) sends its pattern of 72-character lines
# until the client goes. While a connection is open, tapctl sockets lists it
# ESTABLISHED with the kernel's address and port; once closed, it is gone.
# The pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"
command -v curl >/dev/null || fail "curl is missing (sudo make deps installs it)"

host_start

# No connection of the kernel's is left in the host's table: only listeners
# (prints the ones that are left).
peer_lines() {
	sockets | grep -F " $GW_IP:" || true
}
no_connections() {
	[ -z "$(peer_lines)" ]
}

# --- echo: 1 MB of random bytes, back byte for byte. nc -N shuts its
# sending side down at the end of its input (our FIN), then reads until the
# service has echoed everything and closed.
head -c 1M /dev/urandom >"$TMP/1m.in"
start=$(now_ms)
nsx timeout 30 nc -N -n "$HOST_IP" 7 <"$TMP/1m.in" >"$TMP/1m.out" 2>"$TMP/nc.err" && rc=0 || rc=$?
ms=$(($(now_ms) - start))
got=$(stat -c %s "$TMP/1m.out")
[ "$rc" -eq 0 ] || { show_host; fail "nc to echo exits $rc after receiving $got bytes ($(cat "$TMP/nc.err"))"; }
cmp -s "$TMP/1m.in" "$TMP/1m.out" ||
	{ show_host; fail "echo: sent 1048576 bytes, got $got bytes that differ: $(cmp "$TMP/1m.in" "$TMP/1m.out" 2>&1)"; }
ok "echo: 1 MB of random bytes came back byte for byte ($(rate 1048576 "$ms"))"
wait_until 5 no_connections || { show_host; fail "echo: the connection is still listed 5 s after closing"; }
ok "echo: the closed connection left the host's table"

# --- tapctl sockets during a connection: nc holds one open for 4 s.
{ printf 'hello, tcp\n'; sleep 4; } |
	nsx timeout 20 nc -N -n "$HOST_IP" 7 >"$TMP/hello.out" 2>"$TMP/nc.err" &
HELLO_PID=$!
# The kernel's end: its local port, from ss.
kernel_port() {
	nsx ss -tnH state established "( dst $HOST_IP and dport = :7 )" |
		awk '{ n = split($(NF - 1), a, ":"); print a[n]; exit }'
}
has_kernel_port() {
	[ -n "$(kernel_port)" ]
}
wait_until 5 has_kernel_port || fail "ss shows no kernel connection to $HOST_IP:7"
port=$(kernel_port)
established() {
	sockets | grep -Eq "^ESTABLISHED +[0-9]+ +[0-9]+ +$HOST_IP:7 +$GW_IP:$port( |\$)"
}
wait_until 3 established ||
	{ show_host; fail "tapctl sockets shows no ESTABLISHED $HOST_IP:7 <-> $GW_IP:$port"; }
sockets | grep -E "^State|$GW_IP:$port"
ok "tapctl sockets: ESTABLISHED $HOST_IP:7 with peer $GW_IP:$port (the kernel's nc)"
wait "$HELLO_PID" || fail "nc holding a connection to echo failed ($(cat "$TMP/nc.err"))"
[ "$(cat "$TMP/hello.out")" = "hello, tcp" ] || fail "echo answered '$(cat "$TMP/hello.out")', want 'hello, tcp'"
ok "echo: 'hello, tcp' came back after 4 s of an open connection"
wait_until 5 no_connections || { show_host; fail "the connection is still listed 5 s after closing"; }

# --- curl's telnet client to echo: what it sends comes back. curl does not
# half-close; --max-time ends it (status 28), the answer printed by then.
printf 'hi from curl\n' |
	nsx timeout 10 curl -s --max-time 2 "telnet://$HOST_IP:7" >"$TMP/curl.out" && rc=0 || rc=$?
[ "$rc" -eq 28 ] || fail "curl telnet://$HOST_IP:7 exits $rc, want 28 (its time limit)"
[ "$(cat "$TMP/curl.out")" = "hi from curl" ] ||
	fail "curl to echo got '$(cat "$TMP/curl.out")', want 'hi from curl'"
ok "echo: curl telnet:// got its line back"

# --- discard: 1 MB accepted, nothing comes back, closed after our FIN.
nsx timeout 30 nc -N -n "$HOST_IP" 9 <"$TMP/1m.in" >"$TMP/discard.out" 2>"$TMP/nc.err" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || { show_host; fail "nc to discard exits $rc ($(cat "$TMP/nc.err"))"; }
[ ! -s "$TMP/discard.out" ] || fail "discard: got $(stat -c %s "$TMP/discard.out") bytes back, want none"
ok "discard: 1 MB taken, nothing answered, the connection closed after our FIN"
# curl: connected (not 7, "could not connect"), nothing answered in 2 s.
printf 'into the void\n' |
	nsx timeout 10 curl -s --max-time 2 "telnet://$HOST_IP:9" >"$TMP/curl.out" && rc=0 || rc=$?
[ "$rc" -eq 28 ] || fail "curl telnet://$HOST_IP:9 exits $rc, want 28 (connected, then its time limit)"
[ ! -s "$TMP/curl.out" ] || fail "discard answered curl with $(stat -c %s "$TMP/curl.out") bytes"
ok "discard: curl connected and got nothing"
wait_until 5 no_connections || { show_host; fail "discard: a connection is still listed 5 s after closing"; }

# --- chargen: the first 100 KB are the RFC 864 pattern from its start; then
# the client goes (head has enough, nc dies of SIGPIPE and the kernel closes
# its end) and the host forgets the connection.
nsx timeout 30 nc -d -n "$HOST_IP" 19 2>"$TMP/nc.err" | head -c 100000 >"$TMP/chargen.out" || true
size=$(stat -c %s "$TMP/chargen.out")
[ "$size" -eq 100000 ] || { show_host; fail "chargen: got $size bytes, want 100000 ($(cat "$TMP/nc.err"))"; }
why=$(chargen_cmp "$TMP/chargen.out")
[ -z "$why" ] || { head -c 300 "$TMP/chargen.out"; echo; fail "chargen: not the RFC 864 pattern: $why"; }
# every whole line: 72 characters and CR LF (awk keeps the CR)
awk 'NR > 1 && length(prev) != 73 { bad++ } { prev = $0 } END { exit bad > 0 }' "$TMP/chargen.out" ||
	fail "chargen: a line is not 72 characters and CR LF"
ok "chargen: 100000 bytes of the pattern ($(head -c 20 "$TMP/chargen.out")...), lines of 72"
wait_until 10 no_connections ||
	{ show_host; fail "chargen: the connection is still listed 10 s after the client closed"; }
ok "chargen: the host let the connection go after the client closed"

show_host
host_stop
check_pcap "$PCAP"

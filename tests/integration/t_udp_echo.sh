#!/usr/bin/env bash
# The UDP services of the host, reached with netcat from the kernel:
# echo (port 7, RFC 862) sends back a small datagram, one of 1473 bytes (two
# fragments) and one of 8 KB (six fragments) byte for byte; discard (9, RFC
# 863) answers nothing; chargen (19, RFC 864) answers 0 to 512 characters of
# its pattern. The pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"

host_start

# udp_ask PORT IN OUT: sends the file IN as one datagram to the host's PORT
# and writes the first datagram that comes back to OUT (nothing if none).
# netcat-openbsd reads IN with one read() (it holds up to 16 KB), so one
# datagram carries all of it; -W 1 quits after one datagram received, -w 3
# after 3 s without one, and timeout bounds it all.
udp_ask() {
	nsx timeout 10 nc -u -n -w 3 -W 1 "$HOST_IP" "$1" <"$2" >"$3" 2>"$TMP/nc.err" || true
}

# --- echo: byte-exact, small and large
printf 'hello, tapstack\n' >"$TMP/small.in"
head -c 1473 /dev/urandom >"$TMP/1473.in"
head -c 8192 /dev/urandom >"$TMP/8k.in"
delivered_before=$(stat_get udp.delivered)
for f in small 1473 8k; do
	in=$TMP/$f.in
	size=$(stat -c %s "$in")
	udp_ask 7 "$in" "$TMP/$f.out"
	got=$(stat -c %s "$TMP/$f.out")
	cmp -s "$in" "$TMP/$f.out" ||
		fail "echo: sent $size bytes, got $got bytes that differ ($(cat "$TMP/nc.err"))"
	ok "echo: a datagram of $size bytes came back byte for byte"
done

# --- discard: nothing comes back, but the datagram was delivered
udp_ask 9 "$TMP/small.in" "$TMP/discard.out"
[ ! -s "$TMP/discard.out" ] ||
	fail "discard: got $(stat -c %s "$TMP/discard.out") bytes back, want none"
ok "discard: no answer"

# --- chargen: each answer holds 0 to 512 characters of the RFC 864 pattern:
# lines of 72 printable characters (' ' to '~'), each character the one after
# the previous (wrapping '~' to ' '), each line starting one character later
# than the line before, lines ended by CR LF.
# chargen_check FILE: prints what is wrong with FILE, nothing if it is right.
chargen_check() {
	LC_ALL=C od -An -v -t u1 "$1" | LC_ALL=C awk '
	function next_char(c) { return (c - 32 + 1) % 95 + 32 }
	{ for (i = 1; i <= NF; i++) b[n++] = $i }
	END {
		col = 0; prev = -1; first = -1
		for (k = 0; k < n && why == ""; k++) {
			c = b[k]
			if (col == 72) {
				if (c != 13) why = "want CR after 72 characters"
				col = 73
			} else if (col == 73) {
				if (c != 10) why = "want LF after CR"
				col = 0; prev = -1
			} else if (c < 32 || c > 126) {
				why = c " is not printable"
			} else if (prev >= 0 && c != next_char(prev)) {
				why = c " does not follow " prev
			} else if (col == 0 && first >= 0 && c != next_char(first)) {
				why = "a line starts with " c " after one starting with " first
			} else {
				if (col == 0) first = c
				prev = c; col++
			}
		}
		if (why != "") print "byte " k - 1 ": " why
	}'
}
for i in 1 2 3; do
	udp_ask 19 "$TMP/small.in" "$TMP/chargen$i.out"
	size=$(stat -c %s "$TMP/chargen$i.out")
	[ "$size" -le 512 ] || fail "chargen: an answer of $size bytes, want at most 512"
	why=$(chargen_check "$TMP/chargen$i.out")
	[ -z "$why" ] || { head -c 200 "$TMP/chargen$i.out"; echo; fail "chargen: $why"; }
	ok "chargen: $size bytes of the RFC 864 pattern ($(head -c 20 "$TMP/chargen$i.out"))"
done

# 3 echo + 1 discard + 3 chargen datagrams reached a socket.
delivered=$(($(stat_get udp.delivered) - delivered_before))
[ "$delivered" -eq 7 ] || fail "udp.delivered moved by $delivered, want 7"
ok "udp.delivered moved by 7"
no_port=$(stat_get udp.no_port)
[ "$no_port" -eq 0 ] || fail "udp.no_port is $no_port: a datagram found no socket"

host_stop
check_pcap "$PCAP"

# count FILTER: how many frames of the pcap match the display filter.
count() {
	tshark -n -r "$PCAP" -Y "$1" 2>/dev/null | wc -l
}
# The 8 KB echo goes out as 6 fragments (5 with More Fragments), and so does
# the 1473-byte one as 2 (1 with MF): 6 in all from the stack.
n=$(count "ip.src == $HOST_IP && ip.flags.mf == 1")
[ "$n" -eq 6 ] || fail "the stack sent $n fragments with More Fragments set, want 6"
n=$(count "ip.src == $HOST_IP && ip.len > 1500")
[ "$n" -eq 0 ] || fail "$n IP datagrams from the stack exceed the 1500-byte MTU"
n=$(count "ip.src == $HOST_IP && udp.srcport == 7 && udp.length == $((8192 + 8))")
[ "$n" -eq 1 ] || fail "tshark finds $n reassembled 8 KB echo answers from the stack, want 1"
ok "the 8 KB answer left in fragments of at most 1500 bytes that tshark reassembles"
n=$(count "ip.src == $HOST_IP && udp.srcport == 19")
[ "$n" -eq 3 ] || fail "the pcap holds $n chargen answers, want 3"
n=$(count "ip.src == $HOST_IP && (udp.srcport == 9 || icmp)")
[ "$n" -eq 0 ] || fail "the stack answered $n times from discard or with ICMP, want never"
ok "3 chargen answers, nothing from discard, no ICMP error"

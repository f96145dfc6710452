#!/usr/bin/env bash
# SLAAC on the lab network: dnsmasq (started by labs/net with enable-ra and
# dhcp-range=fd00:1::,ra-only) advertises fd00:1::/64 on br0; the stack
# host makes an address in it (RFC 4862 5.5.3) with a stable, opaque
# identifier (RFC 7217), says so in tapctl addrs and in its trace, passes
# DAD, and answers ping -6 on it; curl -g, nc -6 (TCP echo) and nc -6 -u
# (UDP echo) reach the services at it, and every answer leaves from it
# though the host has fd00::2 too (tshark ipv6.src). Started again with --eui64, the address
# is the one a student computes by hand from the MAC (RFC 4291 appendix A).
# tshark sees the MLDv2 report for the address's solicited-node group, and
# no malformed frame in either capture.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v dnsmasq >/dev/null || { echo "SKIPPED: dnsmasq is not installed"; exit 0; }

# The SLAAC address of the host once it is preferred, or nothing.
slaac_addr() {
	"$TAPCTL" --ctl "$CTL" addrs | awk '$2 ~ /^fd00:1:/ && $3 == "slaac" && / preferred valid / {
		sub("/64", "", $2); print $2 }'
}

has_slaac() {
	[ -n "$(slaac_addr)" ]
}

# canon G1 .. G8: the text form of RFC 5952 (lowercase, no leading zeros,
# the longest run of two or more zero groups as ::) of eight groups in hex.
canon() {
	echo "$@" | awk '{
		best = 0; at = 0
		for (i = 1; i <= 8; i++) {
			g[i] = tolower($i); sub(/^0+/, "", g[i]); if (g[i] == "") g[i] = "0"
			if (g[i] == "0") { n = (i > 1 && g[i - 1] == "0") ? n + 1 : 1
				if (n > best) { best = n; at = i - n + 1 } }
		}
		s = ""
		for (i = 1; i <= 8; i++) {
			if (best >= 2 && i == at) { s = s "::"; i += best - 1; continue }
			s = s ((s == "" || s ~ /:$/) ? "" : ":") g[i]
		}
		print s
	}'
}

# solicited_node ADDR: ff02::1:ff + the last 24 bits of ADDR (RFC 4291 2.7.1).
solicited_node() {
	local g7 g8
	g7=$(echo "$1" | awk -F: '{ print $(NF - 1) }')
	g8=$(echo "$1" | awk -F: '{ print $NF }')
	g7=$(printf '%04x' "0x${g7:-0}")
	g8=$(printf '%04x' "0x${g8:-0}")
	echo "ff02::1:ff${g7:2:2}:$g8"
}

# check_services: the services answer at $ADDR: HTTP (curl -g) byte for
# byte, TCP echo (nc -6) and UDP echo (nc -6 -u, which only takes an answer
# from the address it sent to).
check_services() {
	local code out
	chargen_ref 1000 >"$TMP/want.bin"
	code=$(nsx curl -g -s --max-time 10 -o "$TMP/got.bin" -w '%{http_code}' \
		"http://[$ADDR]/bytes/1000") || fail "curl -g http://[$ADDR]/bytes/1000 failed"
	if [ "$code" != 200 ] || ! cmp -s "$TMP/want.bin" "$TMP/got.bin"; then
		fail "curl http://[$ADDR]/bytes/1000: status $code, $(stat -c %s "$TMP/got.bin") bytes"
	fi
	ok "curl -g 'http://[$ADDR]/bytes/1000': 200, the 1000 bytes of the pattern"
	head -c 100000 /dev/urandom >"$TMP/echo.in"
	nsx timeout 10 nc -6 -N -n "$ADDR" 7 <"$TMP/echo.in" >"$TMP/echo.out" 2>/dev/null || true
	cmp -s "$TMP/echo.in" "$TMP/echo.out" ||
		fail "nc -6 $ADDR 7: got $(stat -c %s "$TMP/echo.out") of 100000 bytes back"
	ok "nc -6 to TCP echo at $ADDR: 100000 bytes back byte for byte"
	out=$(echo "to the slaac address" | nsx timeout 5 nc -6 -u -n -w 1 "$ADDR" 7) || true
	[ "$out" = "to the slaac address" ] || fail "nc -6 -u $ADDR 7 got '$out'"
	ok "nc -6 -u to UDP echo at $ADDR: the datagram came back"
}

# check_slaac WANT_KIND [services]: waits for the address, pings it (and
# with services, reaches the services on it), checks the trace and the
# MLDv2 report; sets ADDR.
check_slaac() {
	local kind=$1 out group
	wait_until 20 has_slaac || true
	ADDR=$(slaac_addr)
	if [ -z "$ADDR" ]; then
		"$TAPCTL" --ctl "$CTL" addrs >&2
		grep -E 'RA|slaac' "$TRACE" | tail -n 10 >&2
		fail "no preferred SLAAC address in fd00:1::/64 within 20 s"
	fi
	"$TAPCTL" --ctl "$CTL" addrs | grep -F "$ADDR/64 slaac $kind" ||
		fail "tapctl addrs: $ADDR is not a '$kind' SLAAC address"
	grep -qF "slaac $ADDR from prefix fd00:1::/64: tentative, DAD" "$TRACE" ||
		fail "the trace does not explain where $ADDR came from"
	grep -qF "slaac $ADDR/64 preferred (no duplicate found)" "$TRACE" ||
		fail "the trace does not show $ADDR passing DAD"
	ok "SLAAC address $ADDR ($kind), DAD passed"

	out=$(nsx ping -6 -n -c 3 -i 0.2 -W 2 -w 20 "$ADDR") || true
	echo "$out" | tail -n 2
	echo "$out" | grep -q "3 packets transmitted, 3 received, 0% packet loss" ||
		fail "ping -6 $ADDR: want 3 replies"
	ok "ping -6 $ADDR: 3 replies"
	[ "${2:-}" = services ] && check_services

	host_stop
	check_pcap "$PCAP"
	if [ "${2:-}" = services ]; then
		# RFC 6724 5 rule 8: the host also has fd00::2, but every answer to
		# the kernel (at fd00:1::1, on the prefix) leaves from $ADDR
		out=$(tshark -n -r "$PCAP" -T fields -e ipv6.src -Y "eth.src == $HOST_MAC &&
			ipv6 && (tcp.srcport == 80 || tcp.srcport == 7 || udp.srcport == 7)" \
			2>/dev/null | sort | uniq -c)
		echo "$out"
		[ -n "$out" ] || fail "tshark finds no answer from the services in the capture"
		[ "$(echo "$out" | awk '{print $2}')" = "$ADDR" ] ||
			fail "the services answered from $(echo "$out" | awk '{print $2}' | xargs), want $ADDR only"
		ok "tshark: HTTP, TCP and UDP echo answers all from ipv6.src $ADDR"
	fi
	group=$(solicited_node "$ADDR")
	out=$(tshark -n -r "$PCAP" -Y "icmpv6.type == 143 && ipv6.hlim == 1 &&
		ipv6.hopopts && icmpv6.mldr.mar.record_type == 4 &&
		icmpv6.mldr.mar.multicast_address == $group" 2>/dev/null)
	[ -n "$out" ] || fail "no MLDv2 report (CHANGE_TO_EXCLUDE) for $group in the capture"
	ok "MLDv2 report for $group: $(echo "$out" | wc -l) frame(s)"
}

host_start --ip6 fd00::2/64
check_slaac "stable dad_counter 0" services

# The same host with --eui64: MAC 02:00:00:00:00:02 -> 02 xor 02 = 00,
# 00:00:00 ff:fe 00:00:02 -> fd00:1::ff:fe00:2.
mac=$HOST_MAC
IFS=: read -r m0 m1 m2 m3 m4 m5 <<<"$mac"
want=$(canon fd00 1 0 0 "$(printf '%x' $(((0x$m0 ^ 2) << 8 | 0x$m1)))" \
	"$(printf '%x' $((0x$m2 << 8 | 0xff)))" "$(printf '%x' $((0xfe << 8 | 0x$m3)))" \
	"$(printf '%x' $((0x$m4 << 8 | 0x$m5)))")
PCAP=$TMP/eui64.pcap
: >"$TRACE"
host_spawn --tap tap0 --ip "$HOST_IP/24" --gw "$GW_IP" --mac "$HOST_MAC" \
	--pcap "$PCAP" --ctl "$CTL" --trace --seed 1 --eui64
check_slaac "eui64"
[ "$ADDR" = "$want" ] || fail "--eui64: got $ADDR, want $want (from $mac)"
ok "--eui64: $ADDR is the modified EUI-64 of $mac"

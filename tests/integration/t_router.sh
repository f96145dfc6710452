#!/usr/bin/env bash
# tapstack as a router (ip/forward.c, RFC 1812; ip/forward6.c, RFC 8200):
# `labs/net chain 2` joins two Linux hosts by two tapstack routers, each one
# process with two TAPs and --forward:
#
#   A 10.1.0.1 --lan1-- R1 10.1.0.2|10.2.0.1 --lan2-- R2 10.2.0.2|10.3.0.1 --lan3-- B 10.3.0.2
#     fd00:1::1           fd00:1::2|fd00:2::1         fd00:2::2|fd00:3::1           fd00:3::2
#
# traceroute (UDP and TCP SYN probes) from A shows R1, R2 and B, each
# router answering the probe whose TTL runs out with ICMP time exceeded;
# ping and curl from A reach B through both; a destination no router knows
# gets "net unreachable" from R1; the counters of both routers moved.
# The same over IPv6: ping -6, traceroute -6 (UDP and TCP), curl -6, no
# route (destination unreachable from R1), hop limit counters.
# Then again with the link between R1 and R2 narrowed to 1000 bytes
# (CHAIN_MTU): path MTU discovery through R2's "fragmentation needed",
# ping with DF told the MTU by R1, and ping without DF fragmented by both;
# ping -6 too big for that link told "packet too big" by R1.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
command -v traceroute >/dev/null || fail "traceroute is missing (sudo make deps installs it)"
command -v busybox >/dev/null || fail "busybox is missing (sudo make deps installs it)"
command -v curl >/dev/null || fail "curl is missing (sudo make deps installs it)"

# A router's command line is checked before any TAP is opened: exit 2
"$TAPSTACK" --tap r1a --ip 10.1.0.2/24 --tap r1b --ip 10.2.0.1/24 --forward \
	--route 10.3.0.0/24 via 10.9.9.9 >/dev/null 2>"$TMP/bad.txt" && rc=0 || rc=$?
[ "$rc" -eq 2 ] && grep -q "on no interface's subnet" "$TMP/bad.txt" ||
	fail "a --route via a gateway on no subnet: exit $rc, $(cat "$TMP/bad.txt")"
"$TAPSTACK" --tap r1a --ip 10.1.0.2/24 --tap r1b >/dev/null 2>"$TMP/bad.txt" && rc=0 || rc=$?
[ "$rc" -eq 2 ] && grep -q "needs its --ip" "$TMP/bad.txt" ||
	fail "a second --tap without --ip: exit $rc, $(cat "$TMP/bad.txt")"
ok "bad router command lines exit 2 with a message"

# labs/net down, in lib.sh's cleanup, stops the routers and removes the
# hosts' namespaces with whatever runs in them
"$NET" chain 2 >/dev/null || fail "labs/net chain 2 failed"
RUNDIR=/run/tapstack-$NS
a() { "$NET" chainexec a "$@"; }
b() { "$NET" chainexec b "$@"; }
router_stat() { # ROUTER COUNTER
	"$TAPCTL" --ctl "$RUNDIR/r$1.ctl" stats | awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }'
}
show_routers() {
	local k
	for k in 1 2; do
		echo "--- R$k routes and counters:" >&2
		"$TAPCTL" --ctl "$RUNDIR/r$k.ctl" routes >&2
		"$TAPCTL" --ctl "$RUNDIR/r$k.ctl" stats | grep -E '^(ip|icmp)\.' >&2
		echo "--- R$k trace (last lines):" >&2
		tail -n 15 "$RUNDIR/r$k.log" >&2
	done
}

# Each router lists its interfaces and their routes, forwarding on.
"$TAPCTL" --ctl "$RUNDIR/r1.ctl" routes >"$TMP/r1.routes"
grep -q "^forwarding on" "$TMP/r1.routes" && grep -q "^dev r1b inet 10.2.0.1/24" "$TMP/r1.routes" &&
	grep -q "^10.3.0.0/24 via 10.2.0.2 dev r1b" "$TMP/r1.routes" ||
	{ cat "$TMP/r1.routes" >&2; fail "tapctl routes of R1 lacks its interfaces or the route to 10.3.0.0/24"; }
ok "tapctl routes: R1 forwards, 10.3.0.0/24 via 10.2.0.2 dev r1b"

a ping -c 3 -i 0.2 -W 2 10.3.0.2 >"$TMP/ping.txt" ||
	{ cat "$TMP/ping.txt" >&2; show_routers; fail "A cannot ping B through R1 and R2"; }
grep -q "ttl=62" "$TMP/ping.txt" ||
	{ cat "$TMP/ping.txt" >&2; fail "B's replies did not come through two routers (want ttl=62)"; }
ok "ping A -> B: 3 replies, ttl 62 (two hops took one each)"

# traceroute: one probe per hop, 1 s each at most, 5 hops at most
trace_hops() { # the addresses of hops 1, 2, 3, one line
	awk '$1 ~ /^[0-9]+$/ { printf "%s ", $2 }' "$1"
}
timeout 30 "$NET" chainexec a traceroute -n -q 1 -w 1 -m 5 10.3.0.2 >"$TMP/tr.txt" 2>&1 ||
	{ cat "$TMP/tr.txt" >&2; fail "traceroute did not finish"; }
hops=$(trace_hops "$TMP/tr.txt")
[ "$hops" = "10.1.0.2 10.2.0.2 10.3.0.2 " ] ||
	{ cat "$TMP/tr.txt" >&2; show_routers; fail "traceroute shows '$hops', want R1 R2 B"; }
ok "traceroute (UDP): $hops"

# mtr (its report mode, 2 rounds), when installed
if command -v mtr >/dev/null; then
	timeout 30 "$NET" chainexec a mtr -n -r -c 2 -m 5 10.3.0.2 >"$TMP/mtr.txt" 2>&1 ||
		{ cat "$TMP/mtr.txt" >&2; fail "mtr did not finish"; }
	hops=$(awk '$1 ~ /^[0-9]+\.\|--$/ { printf "%s ", $2 }' "$TMP/mtr.txt")
	[ "$hops" = "10.1.0.2 10.2.0.2 10.3.0.2 " ] ||
		{ cat "$TMP/mtr.txt" >&2; fail "mtr shows '$hops', want R1 R2 B"; }
	ok "mtr: $hops"
else
	echo "skipped: mtr is not installed (apt-get install mtr-tiny)"
fi

b busybox httpd -f -p 10.3.0.2:8080 -h "$TMP" &
for _ in $(seq 50); do
	a curl -s --max-time 1 -o /dev/null "http://10.3.0.2:8080/" && break
	sleep 0.1
done
timeout 30 "$NET" chainexec a traceroute -n -T -p 8080 -q 1 -w 1 -m 5 10.3.0.2 >"$TMP/trt.txt" 2>&1 ||
	{ cat "$TMP/trt.txt" >&2; fail "traceroute -T did not finish"; }
hops=$(trace_hops "$TMP/trt.txt")
[ "$hops" = "10.1.0.2 10.2.0.2 10.3.0.2 " ] ||
	{ cat "$TMP/trt.txt" >&2; show_routers; fail "traceroute -T shows '$hops', want R1 R2 B"; }
ok "traceroute -T (TCP SYN to 8080): $hops"

# 1 MB through both routers, byte for byte
head -c 1048576 /dev/urandom >"$TMP/big.bin"
a curl -s --max-time 30 -o "$TMP/got.bin" "http://10.3.0.2:8080/big.bin" ||
	{ show_routers; fail "curl A -> B did not finish ($(stat -c %s "$TMP/got.bin" 2>/dev/null) bytes)"; }
cmp -s "$TMP/big.bin" "$TMP/got.bin" || fail "the 1 MB file came through changed"
ok "curl A -> B: 1 MB through R1 and R2, byte for byte"

# A destination no router has a route to: R1 says net unreachable
a ping -c 1 -W 2 10.9.9.9 >"$TMP/unreach.txt" 2>&1 || true
grep -qi "from 10.1.0.2.*Destination Net Unreachable" "$TMP/unreach.txt" ||
	{ cat "$TMP/unreach.txt" >&2; show_routers; fail "no net unreachable from R1 for 10.9.9.9"; }
ok "ping 10.9.9.9: Destination Net Unreachable from R1"

for k in 1 2; do
	fwd=$(router_stat "$k" ip.forwarded)
	ttl=$(router_stat "$k" ip.fwd_ttl_exceeded)
	[ "$fwd" -gt 700 ] || { show_routers; fail "R$k forwarded only $fwd datagrams"; }
	[ "$ttl" -ge 2 ] || { show_routers; fail "R$k: ip.fwd_ttl_exceeded is $ttl (want one per traceroute)"; }
	ok "R$k: ip.forwarded $fwd, ip.fwd_ttl_exceeded $ttl"
done
[ "$(router_stat 1 ip.fwd_no_route)" -ge 1 ] || fail "R1 did not count ip.fwd_no_route"
ok "R1: ip.fwd_no_route $(router_stat 1 ip.fwd_no_route)"

# ---- IPv6 through the same chain (ip/forward6.c) ----
# the routers' addresses pass duplicate address detection about a second
# after they start: the first ping -6 may wait for it (3 s at most)
for _ in $(seq 15); do
	a ping -6 -c 1 -W 1 fd00:3::2 >/dev/null 2>&1 && break
	sleep 0.2
done
a ping -6 -c 3 -i 0.2 -W 2 fd00:3::2 >"$TMP/ping6.txt" ||
	{ cat "$TMP/ping6.txt" >&2; show_routers; fail "A cannot ping -6 B through R1 and R2"; }
grep -q "ttl=62" "$TMP/ping6.txt" ||
	{ cat "$TMP/ping6.txt" >&2; fail "B's IPv6 replies did not come through two routers (want hop limit 62)"; }
ok "ping -6 A -> B: 3 replies, hop limit 62 (two hops took one each)"

timeout 30 "$NET" chainexec a traceroute -6 -n -q 1 -w 1 -m 5 fd00:3::2 >"$TMP/tr6.txt" 2>&1 ||
	{ cat "$TMP/tr6.txt" >&2; fail "traceroute -6 did not finish"; }
hops=$(trace_hops "$TMP/tr6.txt")
[ "$hops" = "fd00:1::2 fd00:2::2 fd00:3::2 " ] ||
	{ cat "$TMP/tr6.txt" >&2; show_routers; fail "traceroute -6 shows '$hops', want R1 R2 B"; }
ok "traceroute -6 (UDP): $hops"

b busybox httpd -f -p "[fd00:3::2]:8080" -h "$TMP" &
for _ in $(seq 50); do
	a curl -6 -s --max-time 1 -o /dev/null "http://[fd00:3::2]:8080/" && break
	sleep 0.1
done
timeout 30 "$NET" chainexec a traceroute -6 -n -T -p 8080 -q 1 -w 1 -m 5 fd00:3::2 >"$TMP/trt6.txt" 2>&1 ||
	{ cat "$TMP/trt6.txt" >&2; fail "traceroute -6 -T did not finish"; }
hops=$(trace_hops "$TMP/trt6.txt")
[ "$hops" = "fd00:1::2 fd00:2::2 fd00:3::2 " ] ||
	{ cat "$TMP/trt6.txt" >&2; show_routers; fail "traceroute -6 -T shows '$hops', want R1 R2 B"; }
ok "traceroute -6 -T (TCP SYN to 8080): $hops"

rm -f "$TMP/got6.bin"
a curl -6 -s --max-time 30 -o "$TMP/got6.bin" "http://[fd00:3::2]:8080/big.bin" ||
	{ show_routers; fail "curl -6 A -> B did not finish ($(stat -c %s "$TMP/got6.bin" 2>/dev/null) bytes)"; }
cmp -s "$TMP/big.bin" "$TMP/got6.bin" || fail "the 1 MB file came through IPv6 changed"
ok "curl -6 A -> B: 1 MB through R1 and R2, byte for byte"

a ping -6 -c 1 -W 2 fd00:9::1 >"$TMP/unreach6.txt" 2>&1 || true
grep -qi "from fd00:1::2.*Destination unreachable: No route" "$TMP/unreach6.txt" ||
	{ cat "$TMP/unreach6.txt" >&2; show_routers; fail "no destination unreachable (no route) from R1 for fd00:9::1"; }
ok "ping -6 fd00:9::1: Destination unreachable: No route, from R1"

for k in 1 2; do
	fwd=$(router_stat "$k" ip6.forwarded)
	hl=$(router_stat "$k" ip6.fwd_hop_limit_exceeded)
	[ "$fwd" -gt 700 ] || { show_routers; fail "R$k forwarded only $fwd IPv6 datagrams"; }
	[ "$hl" -ge 2 ] || { show_routers; fail "R$k: ip6.fwd_hop_limit_exceeded is $hl (want one per traceroute -6)"; }
	ok "R$k: ip6.forwarded $fwd, ip6.fwd_hop_limit_exceeded $hl"
done
[ "$(router_stat 1 ip6.fwd_no_route)" -ge 1 ] || fail "R1 did not count ip6.fwd_no_route"
ok "R1: ip6.fwd_no_route $(router_stat 1 ip6.fwd_no_route)"

# The same chain with lan2, between R1 and R2, narrowed to 1000 bytes
"$NET" down >/dev/null
CHAIN_MTU=1000 "$NET" chain 2 >/dev/null || fail "CHAIN_MTU=1000 labs/net chain 2 failed"
# ping without DF, first (neither host has learned the path MTU yet): R1
# cuts the request, R2 the reply; both come whole
a ping -c 2 -i 0.3 -W 2 -M dont -s 1400 10.3.0.2 >"$TMP/frag.txt" 2>&1 ||
	{ cat "$TMP/frag.txt" >&2; show_routers; fail "ping -s 1400 without DF did not come back"; }
[ "$(router_stat 1 ip.fwd_fragmented)" -ge 2 ] && [ "$(router_stat 2 ip.fwd_fragmented)" -ge 2 ] ||
	{ show_routers; fail "R1 and R2 did not fragment the 1428-byte datagrams"; }
ok "ping -M dont -s 1400: fragmented by R1 ($(router_stat 1 ip.fwd_fragmented)) and R2 ($(router_stat 2 ip.fwd_fragmented)), answered"

b busybox httpd -f -p 10.3.0.2:8080 -h "$TMP" &
for _ in $(seq 50); do
	a curl -s --max-time 1 -o /dev/null "http://10.3.0.2:8080/" && break
	sleep 0.1
done
# B's 1500-byte segments carry DF: R2 answers "fragmentation needed, MTU
# 1000" (RFC 1191), B lowers its path MTU, and the file still comes whole
a curl -s --max-time 30 -o "$TMP/got.bin" "http://10.3.0.2:8080/big.bin" ||
	{ show_routers; fail "curl A -> B over the narrow link did not finish"; }
cmp -s "$TMP/big.bin" "$TMP/got.bin" || fail "the 1 MB file came through the narrow link changed"
[ "$(router_stat 2 ip.fwd_frag_needed)" -ge 1 ] ||
	{ show_routers; fail "R2 sent no fragmentation needed to B"; }
b ip route get 10.1.0.1 | grep -q "mtu 1000" ||
	{ b ip route get 10.1.0.1 >&2; fail "B did not learn the path MTU 1000 from R2"; }
ok "curl over a 1000-byte link: R2's fragmentation needed ($(router_stat 2 ip.fwd_frag_needed)) taught B MTU 1000, 1 MB whole"

# ping with DF and 1228 bytes: R1 says how much fits
a ping -c 1 -W 2 -M "do" -s 1200 10.3.0.2 >"$TMP/df.txt" 2>&1 || true
grep -q "From 10.1.0.2.*Frag needed and DF set (mtu = 1000)" "$TMP/df.txt" ||
	{ cat "$TMP/df.txt" >&2; show_routers; fail "no fragmentation needed (mtu 1000) from R1"; }
ok "ping -M do -s 1200: Frag needed and DF set (mtu = 1000) from R1"

# IPv6: routers never fragment (RFC 8200 5); 1248 bytes do not fit the
# 1000-byte link and R1 says so with packet too big, MTU 1000 (RFC 4443
# 3.2; a link under the IPv6 minimum of 1280 bytes exists only in the lab)
for _ in $(seq 15); do
	a ping -6 -c 1 -W 1 fd00:3::2 >/dev/null 2>&1 && break
	sleep 0.2
done
a ping -6 -c 1 -W 2 -M "do" -s 1200 fd00:3::2 >"$TMP/ptb6.txt" 2>&1 || true
grep -q "From fd00:1::2.*Packet too big: mtu=1000" "$TMP/ptb6.txt" ||
	{ cat "$TMP/ptb6.txt" >&2; show_routers; fail "no packet too big (mtu 1000) from R1"; }
[ "$(router_stat 1 ip6.fwd_packet_too_big)" -ge 1 ] || fail "R1 did not count ip6.fwd_packet_too_big"
ok "ping -6 -M do -s 1200: Packet too big: mtu=1000 from R1"

# tracepath, when installed: each hop, and the path MTU R1 told it
if command -v tracepath >/dev/null; then
	timeout 30 "$NET" chainexec a tracepath -n -m 5 10.3.0.2 >"$TMP/tp.txt" 2>&1 ||
		{ cat "$TMP/tp.txt" >&2; fail "tracepath did not finish"; }
	grep -q " 10.2.0.2 " "$TMP/tp.txt" && grep -q "Resume: pmtu 1000 hops 3" "$TMP/tp.txt" ||
		{ cat "$TMP/tp.txt" >&2; fail "tracepath does not show R2 and pmtu 1000 in 3 hops"; }
	ok "tracepath: $(grep Resume "$TMP/tp.txt" | sed 's/^ *//')"
else
	echo "skipped: tracepath is not installed (apt-get install iputils-tracepath)"
fi

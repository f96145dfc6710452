#!/usr/bin/env bash
# labs/smoke/lab12.sh: Lab 12 (labs/lab12-routing.md) headless. Runs the
# handout's commands in a chain of its own (labs/net chain 2) and checks
# the facts its questions rely on: both routers' tables; ping's TTL to R1,
# R2 and B (64, 63, 62); A's and B's captures of one echo request, its
# TTL 64 then 62 and its checksum, which RFC 1624's equation 3 applied
# twice (computed here) turns from A's into B's; the routers' fwd lines;
# traceroute (UDP and -T) and tracepath finding R1, R2, B; R1's time
# exceeded (its trace, the quote with TTL 1, R2's arriving with TTL 63,
# B's port unreachable); net unreachable from R1; and with CHAIN_MTU=1000
# tracepath's pmtu 1000 from R1, Linux's cached MTU, "Frag needed" from R1
# and a datagram without DF cut by R1 into two fragments; the Q6 sum; and
# that the functions the handout cites are there.
# Needs root and /dev/net/tun (make labs-smoke runs it), traceroute and
# tracepath. About 40 s.
# shellcheck source=labs/smoke/lib.sh
source "$(dirname "$0")/lib.sh"

for c in traceroute tracepath; do
	command -v "$c" >/dev/null || { say "FAIL: $c is missing (sudo make deps)"; exit 1; }
done

R1_CTL=$RUN/r1.ctl
R2_CTL=$RUN/r2.ctl
R1_LOG=$RUN/r1.log
R2_LOG=$RUN/r2.log
a() { timeout -k 2 30 ip netns exec "$NS-a" "$@"; }
r1_stat() {
	"$TAPCTL" --ctl "$R1_CTL" stats 2>/dev/null | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}
# cap SIDE NAME SECONDS: tshark on SIDE's eth0 into $SMOKE_TMP/NAME.pcap for
# SECONDS, in the background; returns once it captures (at most 10 s)
cap() {
	timeout -k 2 $(($3 + 10)) ip netns exec "$NS-$1" tshark -i eth0 -a "duration:$3" \
		-w "$SMOKE_TMP/$2.pcap" >"$SMOKE_TMP/$2.err" 2>&1 &
	wait_for "$SMOKE_TMP/$2.err" "Capturing on 'eth0'" 100 || bad "tshark on $1 did not start"
	sleep 0.5
}
fields() { # PCAP FILTER FIELD...
	local f=$1 y=$2
	shift 2
	local args=()
	for x in "$@"; do args+=(-e "$x"); done
	timeout -k 2 30 tshark -r "$f" -n -Y "$y" -T fields "${args[@]}" 2>/dev/null
}
# RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), on hex words (bash arithmetic,
# the carries folded back in)
eqn3() {
	local s=$(((0xffff ^ $1) + (0xffff ^ $2) + $3))
	while ((s > 0xffff)); do s=$(((s & 0xffff) + (s >> 16))); done
	printf '0x%04x\n' $((0xffff ^ s))
}

# ---- 0. Start the lab
timeout -k 5 60 labs/net chain 2 >"$SMOKE_TMP/chain.out" 2>&1 || bad "labs/net chain 2 failed: $(cat "$SMOKE_TMP/chain.out")"
check_grep "0: labs/net chain 2" "^chain up: $NS-a 10\.1\.0\.1 fd00:1::1, 2 tapstack router\(s\) .*, $NS-b 10\.3\.0\.2 fd00:3::2$" \
	"$SMOKE_TMP/chain.out"

# ---- 1. The routing tables
"$TAPCTL" --ctl "$R1_CTL" routes >"$SMOKE_TMP/r1.routes" 2>&1
"$TAPCTL" --ctl "$R2_CTL" routes >"$SMOKE_TMP/r2.routes" 2>&1
check_in_order "1: R1's table, as quoted" "$SMOKE_TMP/r1.routes" '^forwarding on$' \
	'^dev r1a inet 10\.1\.0\.2/24 mtu 1500$' '^10\.1\.0\.0/24 dev r1a metric 0 connected$' \
	'^dev r1b inet 10\.2\.0\.1/24 mtu 1500$' '^10\.2\.0\.0/24 dev r1b metric 0 connected$' \
	'^10\.3\.0\.0/24 via 10\.2\.0\.2 dev r1b metric 0 static$'
check_in_order "Q2: R2's table, the route back to 10.1.0.0/24 included" "$SMOKE_TMP/r2.routes" \
	'^forwarding on$' '^10\.2\.0\.0/24 dev r2a metric 0 connected$' \
	'^10\.1\.0\.0/24 via 10\.2\.0\.1 dev r2a metric 0 static$' '^10\.3\.0\.0/24 dev r2b metric 0 connected$'
a ip route >"$SMOKE_TMP/a.routes" 2>&1
check_grep "1: A's default route is R1" '^default via 10\.1\.0\.2 dev eth0' "$SMOKE_TMP/a.routes"
check_cites "Q1, Q3: ip/forward.c routes by Lab 7's functions" ip/forward.c ipv4_forward route_lookup \
	route_nexthop stack_netif_by_ip4
check_grep "Q3: ipv4_forward's first step cites RFC 1812 5.2.3" 'RFC 1812 5\.2\.3' ip/forward.c

# ---- 2. The TTL, hop by hop, and the checksum
a ping -c 3 -i 0.3 -W 2 10.3.0.2 >"$SMOKE_TMP/pingB" 2>&1
check_grep "Q4: ping B: ttl=62" '^64 bytes from 10\.3\.0\.2: icmp_seq=1 ttl=62 ' "$SMOKE_TMP/pingB"
a ping -c 1 -W 2 10.1.0.2 >"$SMOKE_TMP/pingR1" 2>&1
check_grep "Q4: ping R1: ttl=64" 'from 10\.1\.0\.2: icmp_seq=1 ttl=64 ' "$SMOKE_TMP/pingR1"
a ping -c 1 -W 2 10.2.0.2 >"$SMOKE_TMP/pingR2" 2>&1
check_grep "Q4: ping R2: ttl=63" 'from 10\.2\.0\.2: icmp_seq=1 ttl=63 ' "$SMOKE_TMP/pingR2"

cap a a 6
cap b b 5
a ping -c 1 -W 2 10.3.0.2 >/dev/null 2>&1
# ---- 3 (in the same capture on A): the UDP traceroute
a traceroute -n -q 1 -w 1 10.3.0.2 >"$SMOKE_TMP/tr.udp" 2>&1
wait
fields "$SMOKE_TMP/a.pcap" 'icmp.type == 8' ip.ttl ip.checksum ip.id | head -n 1 >"$SMOKE_TMP/a.req"
fields "$SMOKE_TMP/b.pcap" 'icmp.type == 8' ip.ttl ip.checksum ip.id | head -n 1 >"$SMOKE_TMP/b.req"
read -r ttl_a ck_a id_a <"$SMOKE_TMP/a.req"
read -r ttl_b ck_b id_b <"$SMOKE_TMP/b.req"
check_eq "Q4: the request leaves A with TTL 64" 64 "${ttl_a:-none}"
check_eq "Q4: the request reaches B with TTL 62" 62 "${ttl_b:-none}"
check_eq "Q4: the identification is not changed" "${id_a:-none}" "${id_b:-none}"
if [ -n "${ck_a:-}" ]; then
	ck_r1=$(eqn3 "$ck_a" 0x4001 0x3f01)
	ck_r2=$(eqn3 "$ck_r1" 0x3f01 0x3e01)
	check_eq "Q5: RFC 1624 eqn. 3 twice ($ck_a -> $ck_r1 -> ?) gives B's checksum" "$ck_r2" "${ck_b:-none}"
else
	bad "Q5: no echo request in A's capture"
fi
check_eq "Q5: the handout's numbers: 0x0e5a -> 0x0f5a -> 0x105a" "0x0f5a 0x105a" \
	"$(eqn3 0x0e5a 0x4001 0x3f01) $(eqn3 0x0f5a 0x3f01 0x3e01)"
check_eq "Q6: a TCP header, checksum 0xfeff, TTL 64 -> 63 (eqn. 3)" 0x0000 "$(eqn3 0xfeff 0x4006 0x3f06)"
check_grep "Q5: forward.c updates the checksum by RFC 1624" 'csum_update16\(' ip/forward.c
check_grep "Q5: csum_update16 is RFC 1624 eqn. 3" "RFC 1624 eqn\. 3: HC' = ~\(~HC \+ ~m \+ m'\)" stack/checksum.c
check_grep "2: R1's trace: fwd ... ttl 63 via 10.2.0.2 dev r1b" \
	'fwd 10\.1\.0\.1 -> 10\.3\.0\.2 ttl 63 via 10\.2\.0\.2 dev r1b$' "$R1_LOG"
check_grep "2: R2's trace: fwd ... ttl 62 via 10.3.0.2 dev r2b" \
	'fwd 10\.1\.0\.1 -> 10\.3\.0\.2 ttl 62 via 10\.3\.0\.2 dev r2b$' "$R2_LOG"

# ---- 3. traceroute, traceroute -T, tracepath
check_in_order "Q7: traceroute (UDP): R1, R2, B" "$SMOKE_TMP/tr.udp" \
	'^ 1  10\.1\.0\.2  ' '^ 2  10\.2\.0\.2  ' '^ 3  10\.3\.0\.2  '
fields "$SMOKE_TMP/a.pcap" 'icmp.type == 11 || icmp.type == 3' ip.src ip.ttl udp.dstport icmp.type icmp.code \
	>"$SMOKE_TMP/a.errors"
check_grep "Q7: R1's time exceeded quotes the probe with TTL 1" \
	'^10\.1\.0\.2,10\.1\.0\.1	64,1	33434	11	0$' "$SMOKE_TMP/a.errors"
check_grep "Q7: R2's time exceeded arrives with TTL 63, quoting TTL 1" \
	'^10\.2\.0\.2,10\.1\.0\.1	63,1	33435	11	0$' "$SMOKE_TMP/a.errors"
check_grep "Q8: B answers the third probe with port unreachable" \
	'^10\.3\.0\.2,10\.1\.0\.1	62,1	33436	3	3$' "$SMOKE_TMP/a.errors"
check_in_order "Q7, Q10: R1's trace: time exceeded, 88 bytes, the drop" "$R1_LOG" \
	'tx ICMP time exceeded to 10\.1\.0\.1 \(proto 17\)$' \
	'tx IP 10\.1\.0\.2 -> 10\.1\.0\.1 proto 1 len 88$' \
	'drop ip\.fwd_ttl_exceeded from 10\.1\.0\.1 to 10\.3\.0\.2 ttl 1$'
check_grep "Q7: ipv4_forward's TTL step cites RFC 1812 5.3.1" 'RFC 1812 5\.3\.1: a datagram whose TTL' ip/forward.c
a traceroute -n -T -p 80 -q 1 -w 1 10.3.0.2 >"$SMOKE_TMP/tr.tcp" 2>&1
check_in_order "Q8: traceroute -T: R1, R2, B" "$SMOKE_TMP/tr.tcp" \
	'^ 1  10\.1\.0\.2  ' '^ 2  10\.2\.0\.2  ' '^ 3  10\.3\.0\.2  '
a tracepath -n 10.3.0.2 >"$SMOKE_TMP/tp" 2>&1
check_in_order "Q8: tracepath: R1, R2, B reached, pmtu 1500" "$SMOKE_TMP/tp" \
	'^ 1:  10\.1\.0\.2 ' '^ 2:  10\.2\.0\.2 ' '^ 3:  10\.3\.0\.2 .*reached' \
	'Resume: pmtu 1500 hops 3 back 3'

# ---- 4. No route
a ping -c 1 -W 2 10.9.9.9 >"$SMOKE_TMP/ping9" 2>&1
check_grep "Q11: net unreachable from R1" '^From 10\.1\.0\.2 icmp_seq=1 Destination Net Unreachable$' \
	"$SMOKE_TMP/ping9"
check_in_order "Q11: R1's trace: net unreachable, the drop" "$R1_LOG" \
	'tx ICMP net unreachable to 10\.1\.0\.1 \(proto 1\)$' \
	'drop ip\.fwd_no_route from 10\.1\.0\.1 to 10\.9\.9\.9 ttl 64$'
check_grep "Q11: ipv4_forward cites RFC 1812 5.2.7.1 for it" '5\.2\.7\.1\)' ip/forward.c
check_eq "Q11: ip.fwd_no_route" 1 "$(r1_stat ip.fwd_no_route)"
n=$(r1_stat ip.fwd_ttl_exceeded)
if [ "$n" -ge 2 ]; then ok "Q7: R1's ip.fwd_ttl_exceeded: $n"; else bad "Q7: R1's ip.fwd_ttl_exceeded is $n"; fi

# ---- 5. A narrow link
timeout -k 5 60 labs/net down >/dev/null 2>&1 || bad "labs/net down failed"
CHAIN_MTU=1000 timeout -k 5 60 labs/net chain 2 >"$SMOKE_TMP/chain2.out" 2>&1 || bad "CHAIN_MTU=1000 labs/net chain 2 failed"
"$TAPCTL" --ctl "$R1_CTL" routes >"$SMOKE_TMP/r1.routes2" 2>&1
check_grep "5: R1's r1b has MTU 1000" '^dev r1b inet 10\.2\.0\.1/24 mtu 1000$' "$SMOKE_TMP/r1.routes2"
a ping -c 1 -W 2 10.3.0.2 >/dev/null 2>&1
a tracepath -n 10.3.0.2 >"$SMOKE_TMP/tp2" 2>&1
check_grep "Q12: tracepath: pmtu 1000 from R1 at hop 2" '^ 2:  10\.1\.0\.2 .*pmtu 1000' "$SMOKE_TMP/tp2"
check_grep "Q12: tracepath: Resume: pmtu 1000 hops 3 back 3" 'Resume: pmtu 1000 hops 3 back 3' "$SMOKE_TMP/tp2"
check_in_order "Q12: R1's trace: fragmentation needed, next mtu 1000" "$R1_LOG" \
	'tx ICMP fragmentation needed to 10\.1\.0\.1 \(proto 17\)$' \
	'fwd 10\.1\.0\.1 -> 10\.3\.0\.2: 1500 bytes with DF, next mtu 1000$' \
	'drop ip\.fwd_frag_needed from 10\.1\.0\.1 to 10\.3\.0\.2 ttl 2$'
a ip route get 10.3.0.2 >"$SMOKE_TMP/rget" 2>&1
check_grep "Q13: Linux cached the MTU" 'cache expires [0-9]+sec mtu 1000' "$SMOKE_TMP/rget"
a ping -c 1 -M "do" -s 1400 10.3.0.2 >"$SMOKE_TMP/pingdf0" 2>&1
check_grep "Q13: with the MTU cached, ping -M do fails at once" 'message too long, mtu=1000' "$SMOKE_TMP/pingdf0"
a ip route flush cache
a ping -c 1 -W 2 -M "do" -s 1400 10.3.0.2 >"$SMOKE_TMP/pingdf" 2>&1
check_grep "Q12: ping -M do: Frag needed from R1" '^From 10\.1\.0\.2 icmp_seq=1 Frag needed and DF set \(mtu = 1000\)$' \
	"$SMOKE_TMP/pingdf"
a ip route flush cache
cap b frag 3
a ping -c 1 -W 2 -M dont -s 1400 10.3.0.2 >"$SMOKE_TMP/pingnodf" 2>&1
wait
check_grep "Q14: ping -M dont: answered" '^1408 bytes from 10\.3\.0\.2: icmp_seq=1 ttl=62 ' "$SMOKE_TMP/pingnodf"
check_grep "Q14: R1's trace: fragmented" 'fwd 10\.1\.0\.1 -> 10\.3\.0\.2 ttl 63 via 10\.2\.0\.2 dev r1b \(fragmented\)$' \
	"$R1_LOG"
fields "$SMOKE_TMP/frag.pcap" 'ip.src == 10.1.0.1' ip.len ip.frag_offset ip.flags.mf | tr '\t\n' ' ,' \
	>"$SMOKE_TMP/frags"
check_eq "Q14: B gets two fragments: 996 bytes (MF), 452 at offset 122 (x 8 = 976)" "996 0 1,452 122 0," \
	"$(cat "$SMOKE_TMP/frags")"
check_eq "Q14: ip.fwd_fragmented" 1 "$(r1_stat ip.fwd_fragmented)"

finish

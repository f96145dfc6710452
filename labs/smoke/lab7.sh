#!/usr/bin/env bash
# labs/smoke/lab7.sh: Lab 7 (labs/lab7-subnets.md) headless. Runs the
# handout's commands in a lab network of its own and checks the facts its
# questions rely on: host A's two IPv4 routes, a host B with /23 that ARPs
# for the router behind the lab (10.0.1.2) and gets no answer while the far
# host (10.0.2.9) is answered, the same B with /24 answered, B with /25
# answering a local host outside its prefix through the router (the
# redirect, the answer still arriving), and nothing arriving once the
# router does not forward; the /22 split of the teacher notes, computed
# here; and that the functions the handout cites are there.
# Needs root and /dev/net/tun (make labs-smoke runs it). About 25 s.
# shellcheck source=labs/smoke/lib.sh
source "$(dirname "$0")/lib.sh"

B_CTL=$RUN/tap1.ctl
B_PID=""
# start_b PREFIX [FLAGS]: host B, 10.0.0.3/PREFIX on tap1, serving echo,
# its trace in $SMOKE_TMP/bPREFIX.log (at most 60 s; stop_b stops it)
start_b() {
	local len=$1 i
	shift
	rm -f "$B_CTL"
	timeout -k 2 60 ip netns exec "$NS" "$BUILD/tapstack" --tap tap1 --ip "10.0.0.3/$len" \
		--gw 10.0.0.1 --serve echo --trace --ctl "$B_CTL" "$@" </dev/null \
		>"$SMOKE_TMP/b$len.log" 2>&1 &
	B_PID=$!
	for ((i = 0; i < 50; i++)); do
		"$TAPCTL" --ctl "$B_CTL" stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	bad "host B (10.0.0.3/$len) did not answer on $B_CTL"
}
stop_b() {
	[ -n "$B_PID" ] || return 0
	kill "$B_PID" 2>/dev/null
	wait "$B_PID" 2>/dev/null
	B_PID=""
}
mid_ping() {
	timeout -k 2 20 ip netns exec "$NS-mid" ping -c 2 -W 1 10.0.0.3 2>&1
}

# ---- 0. Start the lab
host_up --trace
timeout -k 5 30 labs/net up 3 >/dev/null 2>&1 || bad "labs/net up 3 failed"
timeout -k 5 30 labs/net far 1500 >"$SMOKE_TMP/far.out" 2>&1 || bad "labs/net far 1500 failed"
check_grep "0: labs/net far puts 10.0.2.9 behind 10.0.0.1 and 10.0.1.2" \
	'10\.0\.2\.9 in namespace .*through 10\.0\.0\.1 and 10\.0\.1\.2' "$SMOKE_TMP/far.out"

# ---- 1. On paper: the /22 split, largest first, computed here
split=$(awk 'BEGIN {
	n = split("260 200 110 60 25 17", h, " "); base = 152 * 2^24 + 78 * 2^16 + 64 * 2^8
	for (i = 1; i <= n; i++) {
		for (b = 0; 2^b - 2 < h[i]; b++);
		size = 2^b; net = base + off; bc = net + size - 1; off += size
		printf "%s/%d-%s ", ip(net), 32 - b, ip(bc)
	}
	printf "left %d", 1024 - off
}
function ip(x) { return int(x / 2^24) "." int(x / 2^16) % 256 "." int(x / 2^8) % 256 "." x % 256 }')
check_eq "Q2: the /22 split (largest first)" \
	"152.78.64.0/23-152.78.65.255 152.78.66.0/24-152.78.66.255 152.78.67.0/25-152.78.67.127 152.78.67.128/26-152.78.67.191 152.78.67.192/27-152.78.67.223 152.78.67.224/27-152.78.67.255 left 0" \
	"$split"
for net in 152.78.64.0/23 152.78.66.0/24 152.78.67.0/25 152.78.67.128/26 152.78.67.192/27 152.78.67.224/27; do
	grep -q -- "$net" labs/teacher/lab7-subnets.md || bad "Q2: the teacher notes lack $net"
done

# ---- 2. Longest-prefix match: host A's table
"$TAPCTL" routes >"$SMOKE_TMP/routesA" 2>&1
check_grep "2: host A's connected route" '^10\.0\.0\.0/24 dev tap0 metric 0 connected$' "$SMOKE_TMP/routesA"
check_grep "2: host A's default route" '^default via 10\.0\.0\.1 dev tap0 metric 0 static$' "$SMOKE_TMP/routesA"
check_grep "Q4: route_lookup is in ip/route.c" '^const struct route \*route_lookup\(' ip/route.c
check_grep "Q4: route_nexthop is in ip/route.c, citing RFC 1122 3.3.1.1" 'RFC 1122 3\.3\.1\.1' ip/route.c
check_grep "Q5: the longest prefix wins, then the lowest metric" 'r->len > best->len' ip/route.c
check_cites "Q4: ipv4_output routes through ipv4_route" ip/ipv4.c ipv4_route ipv4_output route_lookup route_nexthop

# ---- 3. A mask too short: B with /23
start_b 23
"$TAPCTL" --ctl "$B_CTL" routes >"$SMOKE_TMP/routesB23" 2>&1
check_grep "3: B's connected route is 10.0.0.0/23" '^10\.0\.0\.0/23 dev tap1 metric 0 connected$' "$SMOKE_TMP/routesB23"
mid_ping >"$SMOKE_TMP/mid23.out"
check_grep "3: ping from 10.0.1.2 to the /23 host: nothing back" ' 0 received' "$SMOKE_TMP/mid23.out"
timeout -k 2 20 ip netns exec "$NS-far" ping -c 2 -W 1 10.0.0.3 >"$SMOKE_TMP/far23.out" 2>&1
check_grep "3: ping from 10.0.2.9 to the /23 host: answered" ' 2 received' "$SMOKE_TMP/far23.out"
wait_for "$SMOKE_TMP/b23.log" 'arp 10\.0\.1\.2 INCOMPLETE -> gone' 60
check_in_order "Q6: B answers 10.0.1.2 on-link: ARP for it, 3 requests, gone" "$SMOKE_TMP/b23.log" \
	'rx ICMP echo request from 10\.0\.1\.2 ' \
	'tx ICMP echo reply to 10\.0\.1\.2 ' \
	'arp 10\.0\.1\.2 INCOMPLETE \(resolving\)$' \
	'tx ARP who-has 10\.0\.1\.2 tell 10\.0\.0\.3$' \
	'arp 10\.0\.1\.2 INCOMPLETE -> gone \(unanswered after 3 requests, [0-9]+ dropped\)$' \
	'drop arp\.unresolved waiting for 10\.0\.1\.2$'
n=$(grep -c 'rx ARP 10\.0\.1\.2 is-at' "$SMOKE_TMP/b23.log")
check_eq "Q7: nobody answered who-has 10.0.1.2" 0 "$n"
check_grep "Q6: B answered 10.0.2.9 (outside the /23: via the router)" 'tx ICMP echo reply to 10\.0\.2\.9 ' "$SMOKE_TMP/b23.log"
"$TAPCTL" --ctl "$B_CTL" stats >"$SMOKE_TMP/statsB23" 2>&1
check_grep "Q7: arp.unresolved counts the lost replies" '^arp\.unresolved +[1-9]' "$SMOKE_TMP/statsB23"
"$TAPCTL" --ctl "$B_CTL" neigh >"$SMOKE_TMP/neighB23" 2>&1
check_eq "3: B's neigh has no entry for 10.0.1.2" 0 "$(grep -c '^10\.0\.1\.2 ' "$SMOKE_TMP/neighB23")"
check_grep "3: B's neigh has the router" '^10\.0\.0\.1 dev tap1 lladdr 02:00:00:00:00:01 REACHABLE' "$SMOKE_TMP/neighB23"
stop_b

# ---- Q8: the same with /24
start_b 24
mid_ping >"$SMOKE_TMP/mid24.out"
check_grep "Q8: ping from 10.0.1.2 to the /24 host: answered" ' 2 received' "$SMOKE_TMP/mid24.out"
check_eq "Q8: the /24 host never ARPs for 10.0.1.2" 0 "$(grep -c 'who-has 10\.0\.1\.2' "$SMOKE_TMP/b24.log")"
stop_b

# ---- 4. A mask too long: B with /25, C at 10.0.0.200/24 on tap2
start_b 25 --pcap "$RUN/tap1.pcap"
"$TAPCTL" --ctl "$B_CTL" routes >"$SMOKE_TMP/routesB25" 2>&1
check_grep "4: B's connected route is 10.0.0.0/25" '^10\.0\.0\.0/25 dev tap1 metric 0 connected$' "$SMOKE_TMP/routesB25"
nsx "$BUILD/udpcat" --tap tap2 --ip 10.0.0.200/24 --ctl none 10.0.0.3 7 hello >"$SMOKE_TMP/c25.out" 2>&1
check_grep "4: C's datagram is answered" "^answer from 10\.0\.0\.3:7, 5 bytes in [0-9.]+ ms: hello$" "$SMOKE_TMP/c25.out"
wait_for "$SMOKE_TMP/b25.log" 'rx ICMP .* from 10\.0\.0\.1 about UDP 10\.0\.0\.3:7 -> 10\.0\.0\.200:' 30
check_in_order "Q9: B learns C, answers via the router, hears the redirect" "$SMOKE_TMP/b25.log" \
	'arp 10\.0\.0\.200 learned 02:00:0a:00:00:c8 REACHABLE$' \
	'tx UDP 10\.0\.0\.3:7 -> 10\.0\.0\.200:[0-9]+ len 5$' \
	'rx ICMP error from 10\.0\.0\.1 about UDP 10\.0\.0\.3:7 -> 10\.0\.0\.200:[0-9]+$'
check_eq "Q9: B never ARPs for 10.0.0.200" 0 "$(grep -c 'tx ARP who-has 10\.0\.0\.200' "$SMOKE_TMP/b25.log")"
"$TAPCTL" --ctl "$B_CTL" neigh >"$SMOKE_TMP/neighB25" 2>&1
check_grep "Q9: B's neigh still has C, REACHABLE" '^10\.0\.0\.200 dev tap1 lladdr 02:00:0a:00:00:c8 REACHABLE' "$SMOKE_TMP/neighB25"
sleep 0.3
timeout -k 5 60 tshark -r "$RUN/tap1.pcap" -n -Y 'ip' -T fields -e eth.dst -e ip.src -e ip.dst -e icmp.type \
	-e icmp.code -e icmp.redir_gw 2>/dev/null >"$SMOKE_TMP/b25.tsv"
check_eq "Q9: B's answer to 10.0.0.200 goes to the router's MAC" "02:00:00:00:00:01" \
	"$(awk -F'\t' '$2 == "10.0.0.3" && $3 == "10.0.0.200" { print $1; exit }' "$SMOKE_TMP/b25.tsv")"
check_eq "Q11: the router's redirect: type 5 code 1, gateway 10.0.0.200" "5 1 10.0.0.200" \
	"$(awk -F'\t' '$4 == 5 { print $4, $5, $6; exit }' "$SMOKE_TMP/b25.tsv")"
check_grep "Q11: ip/README.md says redirects are counted and ignored" 'redirects and source quench are counted and ignored' ip/README.md

# ---- 5. Q12: the router does not forward
nsx sysctl -qw net.ipv4.ip_forward=0
sleep 1.1
nsx "$BUILD/udpcat" --tap tap2 --ip 10.0.0.200/24 --ctl none --timeout 1000 10.0.0.3 7 hello >"$SMOKE_TMP/c25b.out" 2>&1
check_grep "Q12: without forwarding C gets no answer" "^no answer to 'hello' within 1000 ms$" "$SMOKE_TMP/c25b.out"
stop_b
nsx sysctl -qw net.ipv4.ip_forward=1

finish

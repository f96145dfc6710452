#!/usr/bin/env bash
# labs/smoke/lab2.sh: Lab 2 (labs/lab2-ipv6.md) headless. Runs the
# handout's commands in a lab network of its own and checks the facts its
# questions rely on: the first second (MLD join, DAD from ::, RS after the
# link-local address is preferred, the RA and the RFC 7217 address of
# --seed 1), neighbor solicitation to the solicited-node group, the cache's
# STALE, DELAY, PROBE and REACHABLE, tapctl addrs and routes, fragment
# headers, HTTP over IPv6, the --eui64 address, and duplicates (a static
# address given up, an RFC 7217 one retried); and that the files, functions
# and constants the handout cites are there. Needs root and /dev/net/tun.
# About 40 s.
# shellcheck source=labs/smoke/lib.sh
source "$(dirname "$0")/lib.sh"

SLAAC1=fd00:1::8263:1274:6268:929e # the RFC 7217 address of --seed 1 (section 4)
SLAAC1_RE=${SLAAC1//./\\.}

# The time (first field) of the first trace line matching RE in FILE.
t_of() {
	grep -E -m 1 -- "$2" "$1" | awk '{ print $1 }'
}

# ---- 0 and 4. Start the lab with a trace, and --seed 1 (section 4's run)
host_up --trace --seed 1
wait_for "$TRACE" "slaac $SLAAC1_RE/64 preferred" 60

# ---- 1. The first second: a link-local address and DAD
check_in_order "1: the first second, as quoted: join, DAD from ::, preferred" "$TRACE" \
	'mld join ff02::1:ff00:2: CHANGE_TO_EXCLUDE \{\} report now and 1 more within 1000 ms$' \
	'ip6 fe80::ff:fe00:2/64 tentative \(duplicate address detection\)$' \
	'ip6 fd00::2/64 tentative \(duplicate address detection\)$' \
	'tx MLDv2 report \(state change\) from :: to ff02::16: CHANGE_TO_EXCLUDE ff02::1:ff00:2 \{\}$' \
	'tx NS who-has fe80::ff:fe00:2 \(DAD, from ::\)$' \
	'tx IPv6 :: -> ff02::1:ff00:2 next 58 len 24$' \
	'ip6 fe80::ff:fe00:2/64 preferred \(no duplicate found\)$'
check_in_order "4: the RA, its prefix and the RFC 7217 address of --seed 1, as quoted" "$TRACE" \
	'rx RA from fe80::ff:fe00:1 router lifetime 1800s hop limit 64 flags 0x00$' \
	'ndp route fd00:1::/64 on-link from RA$' \
	"slaac $SLAAC1_RE from prefix fd00:1::/64: tentative, DAD \(RFC 7217 stable identifier; valid 3600s, preferred 3600s\)$" \
	"slaac $SLAAC1_RE/64 preferred \(no duplicate found\)$"
# Q3: the RS waits until the link-local address is preferred. dnsmasq,
# started just before the host, also sends a few RAs of its own at once: if
# one comes before the RS would go, the host has its router and sends none
# (the handout's run had the RS, then the RA that answered it).
n_pref=$(grep -n -m 1 'ip6 fe80::ff:fe00:2/64 preferred' "$TRACE" | cut -d: -f1)
n_rs=$(grep -n -m 1 -E 'tx RS \(router solicitation 1 of 3\)$' "$TRACE" | cut -d: -f1)
n_ra=$(grep -n -m 1 'rx RA from fe80::ff:fe00:1' "$TRACE" | cut -d: -f1)
if [ -n "$n_rs" ] && [ -n "$n_pref" ] && [ "$n_rs" -gt "$n_pref" ] &&
	sed -n "$((n_rs + 1))p" "$TRACE" | grep -q 'tx IPv6 fe80::ff:fe00:2 -> ff02::2 next 58 len 16$'; then
	ok "Q3: the RS went after the link-local address was preferred (trace lines $n_pref, $n_rs), from fe80::ff:fe00:2 to ff02::2"
elif [ -z "$n_rs" ] && [ -n "$n_ra" ] && [ -n "$n_pref" ] && [ "$n_ra" -lt "$n_pref" ]; then
	ok "Q3: no RS: dnsmasq's own RA came first (line $n_ra), before the link-local address was preferred (line $n_pref)"
else
	bad "Q3: want an RS after the link-local address is preferred (or none, after an early RA); lines: preferred '$n_pref', RS '$n_rs', RA '$n_ra'"
fi
t0=$(t_of "$TRACE" 'tx NS who-has fe80::ff:fe00:2 \(DAD')
t1=$(t_of "$TRACE" 'ip6 fe80::ff:fe00:2/64 preferred')
if [ -n "$t0" ] && [ -n "$t1" ] && awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 0.9 && b - a <= 1.3) }'; then
	ok "Q2: one second from the DAD probe to preferred ($t0 -> $t1)"
else
	bad "Q2: want about 1 s from the DAD probe to preferred; saw '$t0' -> '$t1'"
fi
pcap_fields -Y 'icmpv6.type == 135 && ipv6.src == ::' -T fields -e eth.dst -e ipv6.dst \
	-e icmpv6.nd.ns.target_address >"$SMOKE_TMP/dad"
check_grep "Q1, Q4: the DAD probes come from :: to ff02::1:ff00:2 (33:33:ff:00:00:02)" \
	'^33:33:ff:00:00:02	ff02::1:ff00:2	fe80::ff:fe00:2$' "$SMOKE_TMP/dad"
check_grep "Q4: ... and fd00::2's probe to the same group" '^33:33:ff:00:00:02	ff02::1:ff00:2	fd00::2$' "$SMOKE_TMP/dad"
pcap_fields -Y 'icmpv6.type == 143' -T fields -e ipv6.src -e ipv6.hlim -e ipv6.nxt >"$SMOKE_TMP/mld"
check_grep "Q21, Q22: an MLDv2 report from ::, hop limit 1, in a hop-by-hop header" '^::	1	0$' "$SMOKE_TMP/mld"
check_cites "Q1-Q5, Q7-Q19: ip/ndp.c's functions" ip/ndp.c ndp_send_ns ndp_na_input \
	ndp_learn_from_ns ndp_output ndp_send_na ndp_set_state ndp_ra_params \
	ndp_entry_expire ndp_ra_input
check_cites "Q2-Q5, Q15-Q19: ip/slaac.c's functions" ip/slaac.c ndp_dad_timer ndp_dad_failed \
	ndp_addr_eui64 ndp_addr_stable ndp_slaac_prefix ndp_slaac_refresh
check_cites "Q2, Q9, Q10: ip/ndp.h's constants" ip/ndp.h NDP_RETRANS_US \
	NDP_HOP_LIMIT NDP_REACHABLE_US NDP_DELAY_US
check_cites "Q2, Q17: ip/slaac.h's constants" ip/slaac.h NDP_DAD_TRANSMITS NDP_IDGEN_RETRIES
check_grep "Q10: 30 s REACHABLE" '#define NDP_REACHABLE_US 30000000' ip/ndp.h
check_grep "Q10: 5 s DELAY" '#define NDP_DELAY_US 5000000' ip/ndp.h
check_cites "Q6: ip/ipv6.c's functions" ip/ipv6.c ip6_solicited_node ip6_mcast_mac
check_cites "Q20-Q23: ip/mld.c's functions" ip/mld.c mld_reportable mld_source mld_build_report mld_input mld_query
check_cites "Q23: ip/mld.h's constants" ip/mld.h MLD_ROBUSTNESS MLD_UNSOLICITED_US

# ---- 2. Who has fd00::2? Neighbor solicitation
trace_mark
nsx ip -6 neigh flush dev br0
nsx ping -6 -c 1 -W 3 fd00::2 >"$SMOKE_TMP/ping6.out" 2>&1
check_grep "2: ping -6 -c 1 fd00::2 answered" '1 received' "$SMOKE_TMP/ping6.out"
sleep 0.2
trace_since
check_in_order "2: NS, the entry STALE, the NA, DELAY, the echo, as quoted" "$SMOKE_TMP/trace.now" \
	'rx NS who-has fd00::2 from fd00::1$' \
	'ndp fd00::1 FREE -> STALE$' \
	'tx NA fd00::2 is-at ours to fd00::1 \(solicited, override\)$' \
	'tx IPv6 fd00::2 -> fd00::1 next 58 len 32$' \
	'ndp fd00::1 STALE -> DELAY$' \
	'rx ICMPv6 echo request from fd00::1 id [0-9]+ seq 1 len 56$' \
	'tx ICMPv6 echo reply to fd00::1 id [0-9]+ seq 1$'
pcap_fields -Y 'icmpv6.type == 135 && ipv6.src == fd00::1' -T fields -e eth.dst -e ipv6.dst >"$SMOKE_TMP/ns"
check_grep "Q6: the kernel's NS goes to ff02::1:ff00:2, Ethernet 33:33:ff:00:00:02" \
	'^33:33:ff:00:00:02	ff02::1:ff00:2$' "$SMOKE_TMP/ns"
pcap_fields -Y 'icmpv6.type == 136 && ipv6.src == fd00::2' -T fields -e ipv6.hlim \
	-e icmpv6.nd.na.flag.r -e icmpv6.nd.na.flag.s -e icmpv6.nd.na.flag.o >"$SMOKE_TMP/na"
na=$(head -n 1 "$SMOKE_TMP/na" | tr '\t' ' ' | sed -E 's/True/1/g; s/False/0/g')
check_eq "Q9: the host's NA: hop limit 255, R clear, S and O set" "255 0 1 1" "$na"

# ---- 3. The neighbor cache: DELAY, then a unicast probe 5 s later
"$TAPCTL" neigh >"$SMOKE_TMP/neigh1" 2>&1
check_grep "3: tapctl neigh right after the ping: fd00::1 DELAY" \
	'^fd00::1 dev tap0 lladdr 02:00:00:00:00:01 .*DELAY' "$SMOKE_TMP/neigh1"
wait_for "$TRACE" 'ndp fd00::1 PROBE -> REACHABLE' 80
trace_since
check_in_order "3: DELAY -> PROBE, a unicast NS, the NA, REACHABLE" "$SMOKE_TMP/trace.now" \
	'ndp fd00::1 STALE -> DELAY$' \
	'ndp fd00::1 DELAY -> PROBE$' \
	'tx NS who-has fd00::1 \(unicast probe\)$' \
	'tx IPv6 fd00::2 -> fd00::1 next 58 len 32$' \
	'rx NA fd00::1 from fd00::1 S R$' \
	'ndp fd00::1 PROBE -> REACHABLE$'
t0=$(t_of "$SMOKE_TMP/trace.now" 'ndp fd00::1 STALE -> DELAY')
t1=$(t_of "$SMOKE_TMP/trace.now" 'ndp fd00::1 DELAY -> PROBE')
if [ -n "$t0" ] && [ -n "$t1" ] && awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 4.9 && b - a <= 5.5) }'; then
	ok "Q10: five seconds in DELAY ($t0 -> $t1)"
else
	bad "Q10: want 5 s from DELAY to PROBE; saw '$t0' -> '$t1'"
fi
"$TAPCTL" neigh >"$SMOKE_TMP/neigh2" 2>&1
check_grep "3, Q14: fd00::1 is a router, REACHABLE" \
	'^fd00::1 dev tap0 lladdr 02:00:00:00:00:01 router REACHABLE' "$SMOKE_TMP/neigh2"

# ---- 4. What the host made of the RA (--seed 1)
"$TAPCTL" addrs >"$SMOKE_TMP/addrs" 2>&1
check_grep "4: tapctl addrs: the interface" \
	'^tap0 ipv6 mtu 1500 hoplimit 64 reachable 30\.0s retrans 1\.0s slaac stable \(RFC 7217\)$' "$SMOKE_TMP/addrs"
check_grep "4: the link-local address" '^tap0 fe80::ff:fe00:2/64 link-local preferred valid forever preferred forever$' "$SMOKE_TMP/addrs"
check_grep "4: fd00::2" '^tap0 fd00::2/64 static preferred valid forever preferred forever$' "$SMOKE_TMP/addrs"
check_grep "4: the RFC 7217 address of --seed 1 is $SLAAC1, as quoted" \
	"^tap0 $SLAAC1_RE/64 slaac stable dad_counter 0 preferred valid [0-9]+s preferred [0-9]+s$" "$SMOKE_TMP/addrs"
check_grep "4: the groups" '^tap0 group ff02::1:ff00:2 joined \(2 addresses\)$' "$SMOKE_TMP/addrs"
check_grep "4: the SLAAC address's group" '^tap0 group ff02::1:ff68:929e joined$' "$SMOKE_TMP/addrs"
"$TAPCTL" routes >"$SMOKE_TMP/routes" 2>&1
check_grep "4: tapctl routes: the default route from the RA" '^default via fe80::ff:fe00:1 dev tap0 metric 1024 ra$' "$SMOKE_TMP/routes"
check_grep "4: tapctl routes: the prefix from the RA" '^fd00:1::/64 dev tap0 metric 256 ra$' "$SMOKE_TMP/routes"

# ---- 6. Big pings and the fragment header
declare -A before
for k in ip6.fragmented ip6.fragments_rx ip6.fragments_tx ip6.reassembled; do before[$k]=$(counter "$k"); done
trace_mark
nsx ping -6 -c 2 -i 0.3 -W 3 -s 8000 fd00::2 >"$SMOKE_TMP/ping8000.out" 2>&1
check_grep "6: ping -6 -s 8000: 2 answered" '2 received' "$SMOKE_TMP/ping8000.out"
sleep 0.3
trace_since
moved=""
for k in ip6.fragmented ip6.fragments_rx ip6.fragments_tx ip6.reassembled; do
	moved="$moved$k $(($(counter "$k") - ${before[$k]})) "
done
check_eq "6: the counters moved as quoted" \
	"ip6.fragmented 2 ip6.fragments_rx 12 ip6.fragments_tx 12 ip6.reassembled 2 " "$moved"
frags=$(sed -nE 's/.*rx IPv6 fragment fd00::1 -> fd00::2 id ([0-9]+) offset ([0-9]+) len ([0-9]+).*/\1 \2+\3/p' "$SMOKE_TMP/trace.now")
id1=$(echo "$frags" | head -n 1 | cut -d' ' -f1)
one=$(echo "$frags" | awk -v id="$id1" '$1 == id { printf "%s ", $2 }')
check_eq "Q25, Q26: one request's fragments (offset+len)" \
	"0+1448 1448+1448 2896+1448 4344+1448 5792+1448 7240+768 " "$one"
check_grep "Q26: reassembled into 8048 bytes" 'ip6 reassembled fd00::1 id [0-9]+: 6 fragments, 8048 bytes$' "$SMOKE_TMP/trace.now"
trace_mark
nsx ping -6 -c 1 -W 3 -s 1452 fd00::2 >/dev/null 2>&1
nsx ping -6 -c 1 -W 3 -s 1453 fd00::2 >"$SMOKE_TMP/ping1453.out" 2>&1
check_grep "Q26: ping -s 1453 answered" '1 received' "$SMOKE_TMP/ping1453.out"
sleep 0.2
trace_since
frags=$(sed -nE 's/.*rx IPv6 fragment fd00::1 -> fd00::2 id [0-9]+ offset ([0-9]+) len ([0-9]+).*/\1+\2/p' "$SMOKE_TMP/trace.now" | tr '\n' ' ')
check_eq "Q26: -s 1452 goes whole, -s 1453 in two fragments" "0+1448 1448+13 " "$frags"
check_cites "Q25, Q29: ip/ipv6_frag.c" ip/ipv6_frag.c ipv6_fragment ipv6_reasm_input room
check_cites "Q25: ip/ipv4_frag.c" ip/ipv4_frag.c ipv4_fragment_output room
check_cites "Q28: ip/pmtu.c" ip/pmtu.c pmtu_update
check_cites "Q27: stack/rng.h" stack/rng.h rng_next

# ---- 7. TCP and HTTP over IPv6
trace_mark
got=$(nsx curl -g -s --max-time 10 -o "$SMOKE_TMP/body" -D "$SMOKE_TMP/head" \
	-w '%{http_code} %{size_download}' 'http://[fd00::2]/bytes/100')
check_eq "7: curl -g 'http://[fd00::2]/bytes/100'" "200 100" "$got"
check_grep "7: Server: tapstack-httpd" '^Server: tapstack-httpd' "$SMOKE_TMP/head"
wait_for "$TRACE" 'tcp \[fd00::2\]:80 <- \[fd00::1\]:[0-9]+ LAST-ACK -> CLOSED' 30
trace_since
check_in_order "7: the connection in the trace, as quoted" "$SMOKE_TMP/trace.now" \
	'rx TCP \[fd00::1\]:[0-9]+ -> \[fd00::2\]:80 \[SYN\] seq [0-9]+ ack 0 win [0-9]+ len 0$' \
	'tcp \[fd00::2\]:80 <- \[fd00::1\]:[0-9]+ CLOSED -> SYN-RECEIVED$' \
	'tx TCP \[fd00::2\]:80 -> \[fd00::1\]:[0-9]+ \[SYN,ACK\] seq 0 ack 1 win 65535 len 0$' \
	'tx IPv6 fd00::2 -> fd00::1 next 6 len 40$' \
	'tcp \[fd00::2\]:80 <- \[fd00::1\]:[0-9]+ SYN-RECEIVED -> ESTABLISHED$' \
	'tx TCP \[fd00::2\]:80 -> \[fd00::1\]:[0-9]+ \[PSH,ACK\] seq 1 ack [0-9]+ win [0-9]+ len [0-9]+$' \
	'tx TCP \[fd00::2\]:80 -> \[fd00::1\]:[0-9]+ \[PSH,ACK\] seq [0-9]+ ack [0-9]+ win [0-9]+ len 100$' \
	'fd00::1 - - \[.*\] "GET /bytes/100 HTTP/1.1" 200 100$' \
	'tcp \[fd00::2\]:80 <- \[fd00::1\]:[0-9]+ ESTABLISHED -> CLOSE-WAIT$' \
	'tcp \[fd00::2\]:80 <- \[fd00::1\]:[0-9]+ LAST-ACK -> CLOSED$'
mss=$(pcap_fields -Y 'ipv6 && tcp.flags.syn == 1 && tcp.port == 80' -T fields -e tcp.options.mss_val | sort -u | tr '\n' ' ')
check_eq "Q30: both SYNs offer MSS 1440" "1440 " "$mss"
check_cites "Q30: tcp/tcp_output.c" tcp/tcp_output.c tcp_mtu_mss
check_cites "Q30, Q32: ip/ip.c" ip/ip.c ip_max_payload ip_pseudo_sum
got=$(nsx curl -g -s --max-time 10 -o "$SMOKE_TMP/welcome" -w '%{http_code}' 'http://[fd00::2]/')
check_eq "7: the README's curl of http://[fd00::2]/ (the welcome page)" 200 "$got"

# ---- 4 again: the modified EUI-64 address (--eui64)
host_down
host_up --trace --eui64
wait_for "$TRACE" 'slaac fd00:1::ff:fe00:2/64 preferred' 60
check_in_order "4: --eui64 makes fd00:1::ff:fe00:2, as computed by hand" "$TRACE" \
	'slaac fd00:1::ff:fe00:2 from prefix fd00:1::/64: tentative, DAD \(modified EUI-64 identifier; valid 3600s, preferred 3600s\)$' \
	'tx NS who-has fd00:1::ff:fe00:2 \(DAD, from ::\)$' \
	'slaac fd00:1::ff:fe00:2/64 preferred \(no duplicate found\)$'
"$TAPCTL" addrs >"$SMOKE_TMP/addrs-eui64" 2>&1
check_grep "4: tapctl addrs --eui64: the interface" 'slaac eui64$' "$SMOKE_TMP/addrs-eui64"
check_grep "4: tapctl addrs --eui64: the address" '^tap0 fd00:1::ff:fe00:2/64 slaac eui64 preferred valid [0-9]+s preferred [0-9]+s$' "$SMOKE_TMP/addrs-eui64"
check_grep "Q16: one group for three addresses" '^tap0 group ff02::1:ff00:2 joined \(3 addresses\)$' "$SMOKE_TMP/addrs-eui64"
nsx ping -6 -c 1 -W 3 fd00:1::ff:fe00:2 >"$SMOKE_TMP/pingeui.out" 2>&1
check_grep "4: ping -6 fd00:1::ff:fe00:2 answered" '1 received' "$SMOKE_TMP/pingeui.out"
nsx ip -6 neigh show fd00:1::ff:fe00:2 >"$SMOKE_TMP/kneigh6" 2>&1
check_grep "4: the kernel's ip -6 neigh" '^fd00:1::ff:fe00:2 dev br0 lladdr 02:00:00:00:00:02' "$SMOKE_TMP/kneigh6"

# ---- Q5 and Q17: duplicates. The kernel holds fd00::2 and --seed 1's
# RFC 7217 address before the host starts.
host_down
timeout -k 5 30 labs/net up >/dev/null 2>&1 || bad "labs/net up failed"
nsx ip addr add fd00::2/64 dev br0 nodad
nsx ip addr add "$SLAAC1/64" dev br0 nodad
host_up --trace --seed 1
wait_for "$TRACE" 'slaac fd00:1::f3e9:5752:93a8:c540/64 preferred' 60
check_in_order "Q5: the kernel defends fd00::2; the host gives it up" "$TRACE" \
	'tx NS who-has fd00::2 \(DAD, from ::\)$' \
	'rx NA fd00::2 from fd00::2 O R$' \
	'warning: ip6 fd00::2 is a duplicate \(another node advertises it\); not used$'
check_in_order "Q17: the RFC 7217 address taken: DAD_Counter 1 gives another, as quoted" "$TRACE" \
	"slaac $SLAAC1_RE from prefix fd00:1::/64: tentative, DAD" \
	"rx NA $SLAAC1_RE from $SLAAC1_RE O R$" \
	'mld leave ff02::1:ff68:929e: CHANGE_TO_INCLUDE \{\} report now and 1 more within 1000 ms$' \
	'mld join ff02::1:ffa8:c540: CHANGE_TO_EXCLUDE \{\} report now and 1 more within 1000 ms$' \
	"slaac $SLAAC1_RE is a duplicate \(another node advertises it\): DAD_Counter 1 gives fd00:1::f3e9:5752:93a8:c540: tentative, DAD$" \
	'slaac fd00:1::f3e9:5752:93a8:c540/64 preferred \(no duplicate found\)$'
"$TAPCTL" addrs >"$SMOKE_TMP/addrs-dup" 2>&1
check_grep "Q5: tapctl addrs says duplicate" '^tap0 fd00::2/64 static duplicate valid forever preferred forever$' "$SMOKE_TMP/addrs-dup"
check_eq "Q17: slaac.idgen_retry" 1 "$(counter slaac.idgen_retry)"

finish

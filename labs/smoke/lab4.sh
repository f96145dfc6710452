#!/usr/bin/env bash
# labs/smoke/lab4.sh: Lab 4 (labs/lab4-path-mtu.md) headless. A host, the
# far network behind a 1000-byte link (labs/net far), and the handout's
# commands: the first full-sized segments, the router's "fragmentation
# needed", the path MTU and MSS lowered once, the cache in tapctl routes, a
# narrower link, Linux's own path MTU discovery, fragments both ways, and
# the black hole when the ICMP is filtered; and the files, functions and
# constants the handout cites. Section 3 starts a fresh host first, as the
# handout does (the cache of section 2 would cut question 9's reply).
# Needs root and /dev/net/tun. About 30 s.
# shellcheck source=labs/smoke/lib.sh
source "$(dirname "$0")/lib.sh"

# labs/net farexec, bounded
farx() {
	timeout -k 5 60 labs/net farexec "$@"
}

# ---- 0. Start the lab and the far network
host_up --trace
if timeout -k 5 30 labs/net far >"$SMOKE_TMP/far.out" 2>&1; then
	ok "labs/net far: $(tail -n 1 "$SMOKE_TMP/far.out")"
else
	bad "labs/net far failed: $(tail -n 3 "$SMOKE_TMP/far.out")"
	finish
fi
farx ping -c 2 -i 0.3 -W 3 "$HOST_IP" >"$SMOKE_TMP/ping.out" 2>&1
check_grep "Q1: the far host's ping is answered, with TTL 62 (two routers)" \
	'bytes from 10\.0\.0\.2: icmp_seq=1 ttl=62 ' "$SMOKE_TMP/ping.out"

# ---- 1. A download through the narrow link
trace_mark
got=$(farx curl -s --max-time 30 -o /dev/null -w '%{http_code} %{size_download} bytes' \
	"http://$HOST_IP/bytes/1000000")
check_eq "1: curl of /bytes/1000000 from the far host" "200 1000000 bytes" "$got"
trace_since
check_in_order "1: full-sized segments, the ICMP, the lowered path MTU and MSS, smaller segments" \
	"$SMOKE_TMP/trace.now" \
	'tx TCP 10\.0\.0\.2:80 -> 10\.0\.2\.9:[0-9]+ \[ACK\] seq [0-9]+ ack [0-9]+ win [0-9]+ len 1448$' \
	'tx IP 10\.0\.0\.2 -> 10\.0\.2\.9 proto 6 len 1500$' \
	'rx ICMP fragmentation needed from 10\.0\.0\.1 about TCP 10\.0\.0\.2:80 -> 10\.0\.2\.9:[0-9]+$' \
	'tcp path MTU 1000: snd_mss 1460 -> 960, resending from seq [0-9]+$' \
	'tx TCP 10\.0\.0\.2:80 -> 10\.0\.2\.9:[0-9]+ \[ACK\] seq [0-9]+ ack [0-9]+ win [0-9]+ len 948$' \
	'tx IP 10\.0\.0\.2 -> 10\.0\.2\.9 proto 6 len 1000$'
# the cache is lowered once TCP has found the quote valid (ip/icmp.c asks
# tcp_icmp_error first, RFC 5927)
check_in_order "1: the ICMP, TCP's check of the quote, then the cache" "$SMOKE_TMP/trace.now" \
	'rx ICMP fragmentation needed from 10\.0\.0\.1 about TCP 10\.0\.0\.2:80 -> 10\.0\.2\.9:[0-9]+$' \
	'tcp path MTU 1000: snd_mss 1460 -> 960, resending from seq [0-9]+$' \
	'pmtu 10\.0\.2\.9: 1500 -> 1000$'
# Q2: the data segments by size: some of 1500, the rest at most 1000
pcap_fields -Y 'ip.dst==10.0.2.9 && tcp.len>0' -T fields -e ip.len >"$SMOKE_TMP/sizes"
big=$(awk '$1 == 1500 { n++ } END { print n + 0 }' "$SMOKE_TMP/sizes")
small=$(awk '$1 <= 1000 { n++ } END { print n + 0 }' "$SMOKE_TMP/sizes")
other=$(awk '$1 > 1000 && $1 != 1500 { n++ } END { print n + 0 }' "$SMOKE_TMP/sizes")
if [ "$big" -ge 1 ] && [ "$big" -le 10 ] && [ "$small" -ge 900 ] && [ "$other" -eq 0 ]; then
	ok "Q2: data segments: $big of 1500 bytes (the handout: ten), $small of at most 1000"
else
	bad "Q2: want 1 to 10 segments of 1500 and about a thousand of at most 1000; saw $big, $small, and $other other"
fi
# Q4: one ICMP per segment that did not fit; the path MTU lowered once
fn=$(counter tcp.icmp_frag_needed)
low=$(counter pmtu.lowered)
notl=$(counter pmtu.not_lower)
check_eq "Q4: tcp.icmp_frag_needed = the 1500-byte segments" "$big" "$fn"
check_eq "Q4: pmtu.lowered" 1 "$low"
check_eq "Q4: pmtu.not_lower = the other ICMP messages" "$((fn - 1))" "$notl"
check_grep "Q3: ip_max_payload is in ip/ip.c" 'ip_max_payload\(' ip/ip.c
check "Q3: tcp_seg_size is in tcp/" grep -rq 'tcp_seg_size(' tcp/
check "Q4: ip/pmtu.c is there" test -s ip/pmtu.c
check_grep "Q4: tcp/tcp_input.c says \"resending\"" 'resending' tcp/tcp_input.c
check_grep "Q5: IP_DF_WANT is in tcp/tcp_output.c" 'IP_DF_WANT' tcp/tcp_output.c
check_grep "Q5: ipv4_output reads the df field in ip/ipv4.c" 'tx->df' ip/ipv4.c

# ---- 2. The cache
"$TAPCTL" routes >"$SMOKE_TMP/routes" 2>&1
check_grep "2: tapctl routes shows the cached path MTU" 'cache 10\.0\.2\.9 mtu 1000 expires [0-9]+s' "$SMOKE_TMP/routes"
check_grep "2: ip/pmtu.h keeps it 10 minutes" 'PMTU_AGE_US \(10LL \* 60 \* 1000000\)' ip/pmtu.h
timeout -k 5 30 labs/net far 576 >/dev/null 2>&1 || bad "labs/net far 576 failed"
trace_mark
got=$(farx curl -s --max-time 30 -o /dev/null -w '%{http_code} %{size_download}' "http://$HOST_IP/bytes/1000000")
check_eq "2: the download through the 576-byte link" "200 1000000" "$got"
trace_since
check_in_order "Q6: the new connection starts at MSS 960 and goes down to 536" "$SMOKE_TMP/trace.now" \
	'tcp path MTU 576: snd_mss 960 -> 536, resending from seq [0-9]+$' \
	'pmtu 10\.0\.2\.9: 1000 -> 576$'
check_grep "Q7: ip/pmtu.h's floor for IPv4 is 552" '#define PMTU_MIN_V4 552' ip/pmtu.h

# ---- 3. The same from Linux's side: first a fresh host (its cache still
# holds 576 for 10.0.2.9) and the far network back at 1000, as the handout says
host_down
host_up --trace
timeout -k 5 30 labs/net far >/dev/null 2>&1 || bad "labs/net far failed"
"$TAPCTL" routes >"$SMOKE_TMP/routes3" 2>&1
if grep -q '^cache ' "$SMOKE_TMP/routes3"; then
	bad "3: the fresh host has a path MTU cached already: $(grep '^cache ' "$SMOKE_TMP/routes3")"
else
	ok "3: the fresh host's tapctl routes has no cache line"
fi
farx ping -M "do" -s 1400 -c 3 -i 0.3 -W 2 "$HOST_IP" >"$SMOKE_TMP/pingdo.out" 2>&1
check_grep "Q8: the router 10.0.2.1 answers: Frag needed, mtu 1000" \
	'From 10\.0\.2\.1 icmp_seq=1 Frag needed and DF set \(mtu = 1000\)' "$SMOKE_TMP/pingdo.out"
check_grep "Q8: then Linux does not send: local error" 'local error: message too long, mtu=1000' "$SMOKE_TMP/pingdo.out"
farx ip route get "$HOST_IP" >"$SMOKE_TMP/routeget" 2>&1
check_grep "Q8: ip route get 10.0.0.2 on the far host shows the learned MTU" 'mtu 1000' "$SMOKE_TMP/routeget"
frag0=$(nsx nstat -az IpFragCreates | awk '$1 == "IpFragCreates" { print $2 }')
ffrag0=$(farx nstat -az IpFragCreates | awk '$1 == "IpFragCreates" { print $2 }')
trace_mark
farx ping -M dont -s 1400 -c 1 -W 3 "$HOST_IP" >"$SMOKE_TMP/pingdont.out" 2>&1
check_grep "Q9: ping -M dont -s 1400 is answered" '1 received' "$SMOKE_TMP/pingdont.out"
sleep 0.3
trace_since
check_in_order "Q9: the request comes in two fragments, is reassembled, the reply leaves whole" \
	"$SMOKE_TMP/trace.now" \
	'rx IP fragment 10\.0\.2\.9 -> 10\.0\.0\.2 id [0-9]+ offset 0 len 976 MF$' \
	'rx IP fragment 10\.0\.2\.9 -> 10\.0\.0\.2 id [0-9]+ offset 976 len 432$' \
	'ip reassembled 10\.0\.2\.9 id [0-9]+: 2 fragments, 1428 bytes$' \
	'tx IP 10\.0\.0\.2 -> 10\.0\.2\.9 proto 1 len 1428$'
n=$(grep -c 'tx IP fragment 10\.0\.0\.2 -> 10\.0\.2\.9' "$SMOKE_TMP/trace.now")
check_eq "Q9: the fresh host does not cut its reply (tx IP fragment lines)" 0 "$n"
frag1=$(nsx nstat -az IpFragCreates | awk '$1 == "IpFragCreates" { print $2 }')
check_eq "Q9: the lab router 10.0.0.1 cut the reply in two (IpFragCreates moved by)" 2 "$((${frag1:-0} - ${frag0:-0}))"
ffrag1=$(farx nstat -az IpFragCreates | awk '$1 == "IpFragCreates" { print $2 }')
check_eq "Q9: the far host cut its request itself, to the MTU it learned in Q8 (IpFragCreates moved by)" 2 "$((${ffrag1:-0} - ${ffrag0:-0}))"
# the echo reply's struct ipv4_tx in ip/icmp.c sets no .df: 0 is IP_DF_DONT
check_eq "Q9: ip/icmp.c sets no .df (lines)" 0 "$(grep -c '\.df' ip/icmp.c)"
check_grep "Q9: ip/ipv4.h: df 0 is IP_DF_DONT" 'enum ip_df \{ IP_DF_DONT' ip/ipv4.h
df=$(pcap_fields -Y 'icmp.type == 0 && ip.dst == 10.0.2.9 && ip.len == 1428' -T fields -e ip.flags.df | tail -n 1)
case $df in 0 | False) df=0 ;; 1 | True) df=1 ;; *) df="no such reply ('$df')" ;; esac
check_eq "Q9: the DF flag of the host's 1428-byte echo reply in the pcap" 0 "$df"

# ---- 4. A black hole: a fresh host, the lab router's ICMP filtered
host_down
host_up
timeout -k 5 30 labs/net far >/dev/null 2>&1 || bad "labs/net far failed"
nsx nft add table ip f &&
	nsx nft add chain ip f out '{ type filter hook output priority 0; }' &&
	nsx nft add rule ip f out icmp type destination-unreachable drop
check "10: the nft filter is in place" nsx nft list chain ip f out
got=$(farx curl -s --max-time 12 -o /dev/null -w '%{http_code} %{size_download}' "http://$HOST_IP/bytes/1000000")
code=${got% *}
size=${got#* }
if [ "$code" = 200 ] && [ "${size:-0}" -lt 1000000 ]; then
	ok "10: through the black hole the status line came, the body did not: $got bytes"
else
	bad "10: want status 200 and less than 1000000 bytes within 12 s; saw '$got'"
fi
rto=$(counter tcp.rto)
if [ "$rto" -ge 1 ]; then ok "10: tcp.rto $rto: the host retransmitted on timeouts"; else bad "10: tcp.rto is $rto, want some"; fi
fn=$(counter tcp.icmp_frag_needed)
check_eq "10: no fragmentation needed reached the host" 0 "$fn"

finish

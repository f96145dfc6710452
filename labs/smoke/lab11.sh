#!/usr/bin/env bash
# labs/smoke/lab11.sh: Lab 11 (labs/lab11-firewall.md) headless. Runs the
# handout's commands in a lab network of its own and checks the facts its
# questions rely on: without a firewall nmap -sS finds 7, 9, 80 open and 81
# closed (a RST in the trace); with 'allow tcp 80; allow udp 53; deny' 80
# is open and 7, 9, 81 filtered (no RST, the trace names rule 3, each SYN
# sent twice); curl and dig through the host work, the rule counters are
# 2 and 1 and dnsmasq's answer to the host passes as established; the
# kernel's port unreachable about the host's answer to hping3 passes as
# related; ping is denied, then allowed by 'allow icmp echo' (the second
# request established); a bounded SYN flood fills a 64-flow table, flows
# are evicted, and a download in progress keeps its (assured) flow and
# completes; 30 s later every flow has expired; and that the functions
# and constants the handout cites are there.
# Needs root and /dev/net/tun (make labs-smoke runs it), nmap, hping3,
# curl and dig. About 60 s (30 of them waiting for the flows to expire).
# shellcheck source=labs/smoke/lib.sh
source "$(dirname "$0")/lib.sh"

for c in nmap hping3 curl dig; do
	command -v "$c" >/dev/null || { say "FAIL: $c is missing (sudo make deps)"; exit 1; }
done

fwdump() {
	"$TAPCTL" firewall 2>&1
}
# The packets column of rule N in tapctl firewall.
rule_packets() {
	fwdump | awk -v n="$1" '$1 == n { print $(NF - 1) }'
}
scan() { # OUT: nmap -sS of the four ports, as the handout types it
	nsx nmap -n -Pn -sS -p 7,9,80,81 "$HOST_IP" >"$1" 2>&1
}

# ---- 0. Without a firewall: 81 closed, a RST
host_up --trace
scan "$SMOKE_TMP/nmap0"
check_grep "Q1: no firewall: 80 open" '^80/tcp +open ' "$SMOKE_TMP/nmap0"
check_grep "Q1: no firewall: 7 open" '^7/tcp +open ' "$SMOKE_TMP/nmap0"
check_grep "Q1: no firewall: 81 closed" '^81/tcp +closed ' "$SMOKE_TMP/nmap0"
check_in_order "Q1: the SYN to 81 is answered by a RST, seq 0, ACK the SYN's + 1" "$TRACE" \
	'rx TCP 10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.2:81 \[SYN\]' \
	'tx TCP 10\.0\.0\.2:81 -> 10\.0\.0\.1:[0-9]+ \[RST,ACK\] seq 0 ack [0-9]+ win 0 len 0$' \
	'drop tcp\.no_connection tcp 10\.0\.0\.2:81 <- 10\.0\.0\.1:[0-9]+: no connection: RST sent$'
check_grep "Q1: tcp_input.c cites RFC 9293 3.10.7.1" '3\.10\.7\.1' tcp/tcp_input.c
host_down

# ---- 1. Deny all inbound, except
printf 'allow tcp 80\nallow udp 53\ndeny\n' >"$SMOKE_TMP/fw.rules"
host_up --trace --firewall-file "$SMOKE_TMP/fw.rules"
scan "$SMOKE_TMP/nmap1"
check_grep "1: firewall: 80 open" '^80/tcp +open ' "$SMOKE_TMP/nmap1"
for p in 7 9 81; do
	check_grep "Q2: firewall: $p filtered" "^$p/tcp +filtered " "$SMOKE_TMP/nmap1"
done
check_grep "1: the trace names rule 3 for the SYN to 7" \
	"fw in TCP 10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.2:7 SYN: deny, rule 3 'deny'$" "$TRACE"
check_grep "1: the trace: rule 1 allows the SYN to 80, a flow opens" \
	"fw in TCP 10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.2:80 SYN: allow, rule 1 'allow tcp 80'$" "$TRACE"
n=$(grep -cE "fw in TCP 10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.2:7 SYN: deny" "$TRACE")
if [ "$n" -ge 2 ]; then
	ok "Q2: nmap sent its SYN to 7 $n times (no answer: it tries again)"
else
	bad "Q2: want nmap's SYN to 7 twice or more (it tries again), saw $n"
fi
check_eq "Q2: the host sent nothing from 7, 9 or 81" 0 \
	"$(grep -cE 'tx TCP 10\.0\.0\.2:(7|9|81) ' "$TRACE")"
check_grep "Q4: the scan's RST for 80 passes as established" \
	'fw in TCP 10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.2:80 RST: established$' "$TRACE"
check_cites "Q4: ip/firewall.c has the functions the handout cites" ip/firewall.c \
	fw_input fw_output fw_rule_match fw_opens fw_related fw_flow_update fw_lookup fw_reap \
	fw_flow_count fw_slot
check_cites "Q7: ip/firewall.h has the timeouts" ip/firewall.h FW_TCP_CLOSED_US FW_UDP_STREAM_US

# ---- 2. The rule counters and the flow table
nsx curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "http://$HOST_IP/" >"$SMOKE_TMP/curl" 2>&1
check_grep "2: curl gets the page" '^200 [0-9]+$' "$SMOKE_TMP/curl"
trace_mark
nsx dig @"$HOST_IP" +time=3 +tries=2 +short www.lab.test >"$SMOKE_TMP/dig" 2>&1
check_grep "2: dig through the host answers" '^10\.0\.0\.2$' "$SMOKE_TMP/dig"
wait_for "$TRACE" 'fw in UDP 10\.0\.0\.1:53 -> 10\.0\.0\.2:[0-9]+: established' 30
trace_since
check_in_order "Q6: the query allowed by rule 2, the host's own question, dnsmasq's answer established" \
	"$SMOKE_TMP/trace.now" \
	"fw in UDP 10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.2:53: allow, rule 2 'allow udp 53'$" \
	'fw new flow udp 10\.0\.0\.2:53 <- 10\.0\.0\.1:[0-9]+$' \
	'fw new flow udp 10\.0\.0\.2:[0-9]+ -> 10\.0\.0\.1:53$' \
	'fw in UDP 10\.0\.0\.1:53 -> 10\.0\.0\.2:[0-9]+: established$' \
	'tx UDP 10\.0\.0\.2:53 -> 10\.0\.0\.1:[0-9]+ len '
fwdump >"$SMOKE_TMP/fw2"
check_eq "Q5: rule 1 counted 2 packets (nmap's SYN and curl's)" 2 "$(rule_packets 1)"
check_eq "Q5: rule 2 counted 1 packet (dig's query)" 1 "$(rule_packets 2)"
check_grep "Q6: the host's flow to dnsmasq, replied and assured" \
	'^  udp 10\.0\.0\.2:[0-9]+ -> 10\.0\.0\.1:53 +replied +age [0-9]+s idle [0-9]+s expires 1[78][0-9]s in 1 out 1 assured$' \
	"$SMOKE_TMP/fw2"
check_grep "Q7: curl's flow is closed, 10 s at most" \
	'^  tcp 10\.0\.0\.2:80 <- 10\.0\.0\.1:[0-9]+ +closed +age [0-9]+s idle [0-9]+s expires ([0-9]|10)s in 8 out 7$' \
	"$SMOKE_TMP/fw2"

# ---- 3. Related: the kernel's port unreachable about the host's answer
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x03lab\x04test\x00\x00\x01\x00\x01' \
	>"$SMOKE_TMP/q.bin"
check_eq "3: the DNS query is 30 bytes (hping3 -d 30)" 30 "$(wc -c <"$SMOKE_TMP/q.bin")"
nsx hping3 -2 -p 53 -s 40000 -k -c 1 -d 30 -E "$SMOKE_TMP/q.bin" "$HOST_IP" >"$SMOKE_TMP/hping" 2>&1
wait_for "$TRACE" 'related to flow udp 10\.0\.0\.2:53 <- 10\.0\.0\.1:40000$' 30
check_grep "Q8: the port unreachable passes as related" \
	'fw in ICMP 10\.0\.0\.1 -> 10\.0\.0\.2 type 3 code 3: related to flow udp 10\.0\.0\.2:53 <- 10\.0\.0\.1:40000$' \
	"$TRACE"
check_eq "Q8: fw.related" 1 "$(counter fw.related)"
check_grep "Q8: tapctl firewall says related 1" '^flows .* related 1,' <(fwdump)

# ---- 4. Ping: denied
nsx ping -c 2 -W 1 "$HOST_IP" >"$SMOKE_TMP/ping0" 2>&1
check_grep "4: ping through 'deny': nothing back" ' 0 received' "$SMOKE_TMP/ping0"
check_grep "4: the echo request is denied by rule 3" \
	"fw in ICMP 10\.0\.0\.1 -> 10\.0\.0\.2 type 8 code 0 \(echo request id [0-9]+\): deny, rule 3 'deny'$" "$TRACE"
host_down

# ---- 4. Ping allowed; 6. the flood, with 64 flows; 5. then every flow expires
printf 'allow tcp 80\nallow udp 53\nallow icmp echo\ndeny\n' >"$SMOKE_TMP/fw.rules"
host_up --trace --firewall-file "$SMOKE_TMP/fw.rules" --firewall-flows 64
nsx ping -c 2 -W 1 "$HOST_IP" >"$SMOKE_TMP/ping1" 2>&1
t_ping=$SECONDS
check_grep "4: with 'allow icmp echo': both answered" ' 2 received' "$SMOKE_TMP/ping1"
check_in_order "Q10: the first request by rule 3, the second established" "$TRACE" \
	"type 8 code 0 \(echo request id [0-9]+\): allow, rule 3 'allow icmp echo'$" \
	'fw new flow icmp 10\.0\.0\.2 id [0-9]+ <- 10\.0\.0\.1$' \
	'type 8 code 0 \(echo request id [0-9]+\): established$'
check_eq "Q10: rule 3 counted 1 packet" 1 "$(rule_packets 3)"
check_grep "Q10: the echo flow expires in 30 s" \
	'^  icmp 10\.0\.0\.2 id [0-9]+ <- 10\.0\.0\.1 +replied +age [0-9]+s idle [0-9]+s expires (29|30)s in 2 out 2$' <(fwdump)

timeout -k 2 50 ip netns exec "$NS" curl -s --limit-rate 20k -o "$SMOKE_TMP/body" \
	-w '%{http_code} %{size_download}\n' "http://$HOST_IP/bytes/400000" >"$SMOKE_TMP/curl6" 2>&1 &
curl_pid=$!
sleep 1
timeout -k 2 5 ip netns exec "$NS" hping3 -S -p 80 -i u1000 -c 4000 "$HOST_IP" >/dev/null 2>&1
fwdump >"$SMOKE_TMP/fw6"
check_grep "6: the table is full" '^flows 64 of 64 \(--firewall-flows\)' "$SMOKE_TMP/fw6"
ev=$(counter fw.flows_evicted)
if [ "$ev" -ge 100 ]; then ok "Q14: flows evicted: $ev"; else bad "Q14: want 100 flows evicted or more, saw $ev"; fi
check_eq "Q14: no table full (there was always a flow to evict)" 0 "$(counter fw.table_full)"
check_grep "Q13: a flood flow: closed, 2 in, 1 out" \
	'^  tcp 10\.0\.0\.2:80 <- 10\.0\.0\.1:[0-9]+ +closed +age [0-9]+s idle [0-9]+s expires ([0-9]|10)s in 2 out 1$' \
	"$SMOKE_TMP/fw6"
check_grep "Q14: the download's flow is still there, assured" \
	'^  tcp 10\.0\.0\.2:80 <- 10\.0\.0\.1:[0-9]+ +(established|half-closed) .* assured$' "$SMOKE_TMP/fw6"
wait "$curl_pid"
check_grep "Q14: the download completes through the flood" '^200 400000$' "$SMOKE_TMP/curl6"

# Section 5: 30 s after the ping and 10 s after the download's last
# segment (its flow closed), with nothing sent, no flow is left
left=$((31 - (SECONDS - t_ping)))
[ "$left" -lt 11 ] && left=11
sleep "$left"
check_grep "Q12: 30 s later every flow has expired" '^flows 0 of 64 ' <(fwdump)
finish

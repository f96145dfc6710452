#!/usr/bin/env bash
# labs/smoke/lab8.sh: Lab 8 (labs/lab8-udp-dns.md) headless. Runs the
# handout's commands in a lab network of its own and checks the facts its
# questions rely on: a question forwarded upstream from another port with
# another id, the second one answered from the cache with a lower TTL,
# NXDOMAIN cached with the SOA counting down, a 40-record answer
# truncated without EDNS and asked again over TCP, ICMP port unreachable
# for a closed UDP port, the four forgeries of section 7 (three refused and
# counted, one believed), and a retransmission 1 s after a question under
# loss; and that the functions and constants the handout cites are there.
# Needs root, /dev/net/tun, dig, python3 and nft (make labs-smoke runs it).
# About 30 s.
# shellcheck source=labs/smoke/lib.sh
source "$(dirname "$0")/lib.sh"

PY=$(command -v /usr/bin/python3 python3 | head -n 1)
for c in dig nft; do
	command -v "$c" >/dev/null || { bad "$c is missing (sudo make deps)"; finish; }
done
[ -n "$PY" ] || { bad "python3 is missing: forge.py cannot run"; finish; }
ddig() {
	nsx dig @"$HOST_IP" "$@" 2>&1
}

# forge.py, as the handout has it
cat >"$SMOKE_TMP/forge.py" <<'EOF'
# forge.py PORT ID NAME ADDR [SPORT]: sends one DNS answer "NAME A ADDR" with
# id ID from 10.0.0.1:SPORT (default 53) to 10.0.0.2:PORT, as if it came from
# dnsmasq (a raw socket: dnsmasq holds port 53)
import socket, struct, sys
port, qid, name, addr = int(sys.argv[1]), int(sys.argv[2], 0), sys.argv[3], sys.argv[4]
sport = int(sys.argv[5]) if len(sys.argv) > 5 else 53
q = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
dns = struct.pack(">HHHHHH", qid, 0x8580, 1, 1, 0, 0) + q + struct.pack(">HH", 1, 1)
dns += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + socket.inet_aton(addr)
udp = struct.pack(">HHHH", sport, port, 8 + len(dns), 0) + dns   # checksum 0: none (RFC 768)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.bind(("10.0.0.1", 0))
s.sendto(udp, ("10.0.0.2", 0))
EOF

# ---- 0. Start the lab with a trace
host_up --trace

# ---- 1. One question, four datagrams
trace_mark
ddig www.lab.test >"$SMOKE_TMP/dig1.out"
check_grep "1: status NOERROR" 'status: NOERROR' "$SMOKE_TMP/dig1.out"
check_grep "1: the answer, TTL 300" '^www\.lab\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.0\.0\.2$' "$SMOKE_TMP/dig1.out"
check_grep "Q4: the host's flags: qr rd ra, no aa" '^;; flags: qr rd ra;' "$SMOKE_TMP/dig1.out"
sleep 0.2
trace_since
check_in_order "Q2: asked upstream from another port, answered back" "$SMOKE_TMP/trace.now" \
	'rx UDP 10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.2:53 len [0-9]+$' \
	'tx UDP 10\.0\.0\.2:[0-9]+ -> 10\.0\.0\.1:53 len [0-9]+$' \
	'rx UDP 10\.0\.0\.1:53 -> 10\.0\.0\.2:[0-9]+ len [0-9]+$' \
	'tx UDP 10\.0\.0\.2:53 -> 10\.0\.0\.1:[0-9]+ len [0-9]+$'
up=$(sed -nE 's/.*tx UDP 10\.0\.0\.2:([0-9]+) -> 10\.0\.0\.1:53 .*/\1/p' "$SMOKE_TMP/trace.now" | head -n 1)
if [ -n "$up" ] && [ "$up" -ge 49152 ]; then ok "Q2: the upstream question's source port $up is ephemeral (49152-65535)"; else bad "Q2: upstream source port '$up'"; fi
dig2=$(ddig +noall +answer +tcp a.lab.test)
check_eq "1: dig +tcp a.lab.test" "a.lab.test.		300	IN	A	10.0.0.3" "$dig2"
check_grep "Q2: dns_query_start cites RFC 5452 9.2" 'RFC 5452 9\.2' apps/lib/dns_query.c

# ---- 2. The cache and its TTLs
hit0=$(counter dns.cache_hit)
sleep 2
ttl=$(ddig +noall +answer www.lab.test | awk '{ print $2 }')
if [ -n "$ttl" ] && [ "$ttl" -ge 295 ] && [ "$ttl" -le 299 ]; then ok "Q3: 2 s later the cache says TTL $ttl"; else bad "Q3: want a TTL of 295-299 from the cache, saw '$ttl'"; fi
check_eq "Q3: ... from the cache (dns.cache_hit +1)" 1 $(($(counter dns.cache_hit) - hit0))
ttl=$(nsx dig @10.0.0.1 +noall +answer www.lab.test 2>&1 | awk '{ print $2 }')
check_eq "Q3: dnsmasq always says 300" 300 "$ttl"
check_grep "Q4: dnsmasq's answer has aa" '^;; flags: qr aa rd;' <(nsx dig @10.0.0.1 www.lab.test 2>&1)
check_grep "Q3: dns_cache_get lowers the TTLs (RFC 1035 3.2.1)" 'RFC 1035 3\.2\.1: the TTL is what is left of it' apps/lib/dns_cache.c

# ---- 3. No such name
ddig nope.lab.test >"$SMOKE_TMP/nx1.out"
check_grep "5: status NXDOMAIN" 'status: NXDOMAIN' "$SMOKE_TMP/nx1.out"
check_grep "5: the SOA, MINIMUM 300" '^lab\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+SOA[[:space:]]+ns\.lab\.test\. hostmaster\.lab\.test\. 2024010101 1200 180 1209600 300$' "$SMOKE_TMP/nx1.out"
hit0=$(counter dns.cache_hit)
sleep 2
ttl=$(ddig +noall +authority nope.lab.test | awk '$4 == "SOA" { print $2 }')
if [ -n "$ttl" ] && [ "$ttl" -ge 295 ] && [ "$ttl" -le 299 ]; then ok "Q5: 2 s later the cached SOA says $ttl"; else bad "Q5: want 295-299, saw '$ttl'"; fi
check_eq "Q5: ... from the cache" 1 $(($(counter dns.cache_hit) - hit0))
check_cites "Q5: negative caching" apps/lib/dns_cache.c soa_negative_ttl dns_cache_ttl DNS_CACHE_MAX_NEG_TTL
check_grep "Q5: RFC 2308 5 in dns_cache.c" 'RFC 2308 5' apps/lib/dns_cache.c

# ---- 4. Too big for a datagram
tr0=$(counter dns.tx_truncated)
ddig +noedns many.lab.test >"$SMOKE_TMP/many1.out"
check_grep "6: +noedns: truncated, retried over TCP" '^;; Truncated, retrying in TCP mode\.$' "$SMOKE_TMP/many1.out"
check_grep "6: ... 40 records over TCP" 'ANSWER: 40,' "$SMOKE_TMP/many1.out"
check_grep "6: ... from the host over TCP" '^;; SERVER: 10\.0\.0\.2#53\(10\.0\.0\.2\) \(TCP\)$' "$SMOKE_TMP/many1.out"
ddig +noedns +ignore many.lab.test >"$SMOKE_TMP/many2.out"
check_grep "6: +ignore: tc set, no records" '^;; flags: qr tc rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0$' "$SMOKE_TMP/many2.out"
check_grep "6: ... 31 bytes" 'MSG SIZE  rcvd: 31$' "$SMOKE_TMP/many2.out"
ddig many.lab.test >"$SMOKE_TMP/many3.out"
check_grep "6: with EDNS the 40 records come over UDP" '^;; SERVER: 10\.0\.0\.2#53\(10\.0\.0\.2\) \(UDP\)$' "$SMOKE_TMP/many3.out"
check_grep "6: ... all 40" 'ANSWER: 40,' "$SMOKE_TMP/many3.out"
n=$(($(counter dns.tx_truncated) - tr0))
check_eq "Q6: dns.tx_truncated moved by 2" 2 "$n"
check_cites "Q6: answer's limits" apps/lib/dns_service.c DNS_UDP_MIN SVC_UDP_MAX dns.tx_truncated
check_grep "Q7: DNS_EDNS_SIZE is 1232" '#define DNS_EDNS_SIZE 1232 ' apps/lib/dns_msg.h
check_cites "Q7: the query's EDNS and TCP" apps/lib/dns_query.c build_query start_tcp dns.tcp_fallback

# ---- 5. Nobody is listening
np0=$(counter udp.no_port)
trace_mark
nsx nc -u -w 1 "$HOST_IP" 5555 <<<hello >/dev/null 2>&1
sleep 0.2
trace_since
check_in_order "8: the trace: no socket, port unreachable, dropped" "$SMOKE_TMP/trace.now" \
	'rx UDP 10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.2:5555 len 6$' \
	'udp no socket for port 5555: port unreachable$' \
	'drop udp\.no_port port 5555 from 10\.0\.0\.1:[0-9]+$'
check_eq "Q8: udp.no_port moved by 1" 1 $(($(counter udp.no_port) - np0))
check_eq "Q8: the host's ICMP: type 3 code 3, quoting port 5555" "3 3 5555" \
	"$(pcap_fields -Y 'icmp.type == 3 && udp.dstport == 5555' -T fields -e icmp.type -e icmp.code -e udp.dstport | head -n 1 | tr '\t' ' ')"
check_cites "Q8: udp.c" ip/udp.c udp_input udp_error

# ---- 7. A forged answer (the handout's block)
nsx nft add table ip lab8
nsx nft add chain ip lab8 in '{ type filter hook input priority 0; }'
nsx nft add rule ip lab8 in ip saddr 10.0.0.2 udp dport 53 drop
nsx dig @10.0.0.2 +tries=1 +timeout=10 b.lab.test >"$SMOKE_TMP/forge-dig.out" 2>&1 &
dig_pid=$!
sleep 0.5
port=$(grep -o 'tx UDP 10\.0\.0\.2:[0-9]* -> 10\.0\.0\.1:53 ' "$TRACE" | tail -1 | sed 's/.*2:\([0-9]*\) .*/\1/')
id=$(timeout -k 5 30 tshark -r "$PCAP" -Y "udp.srcport == $port" -T fields -e dns.id 2>/dev/null | tail -1)
if [ -n "$port" ] && [ -n "$id" ]; then
	ok "11: the handout's block finds the question: port $port id $id"
	nsx "$PY" "$SMOKE_TMP/forge.py" "$port" $((id ^ 1)) b.lab.test 6.6.6.6
	nsx "$PY" "$SMOKE_TMP/forge.py" "$port" "$id" b.lab.test 6.6.6.6 5353
	nsx "$PY" "$SMOKE_TMP/forge.py" "$port" "$id" a.lab.test 6.6.6.6
	nsx "$PY" "$SMOKE_TMP/forge.py" "$port" "$id" b.lab.test 6.6.6.6
else
	bad "11: the handout's block found no port ('$port') or id ('$id')"
fi
wait "$dig_pid"
check_grep "11: dig believed the fourth: 6.6.6.6" '^b\.lab\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A[[:space:]]+6\.6\.6\.6$' "$SMOKE_TMP/forge-dig.out"
for c in dns.wrong_id dns.wrong_source dns.wrong_question; do
	check_eq "Q11: $c" 1 "$(counter "$c")"
done
check_cites "Q11: the checks" apps/lib/dns_query.c check_answer server_index
check_cites "Q11: the ephemeral port" stack/socket.c socket_ephemeral_port
ttl=$(nsx dig @10.0.0.2 +noall +answer b.lab.test 2>&1 | awk '$5 == "6.6.6.6" { print "cached" }')
check_eq "Q12: the forged address is in the cache" cached "$ttl"
nsx nft delete table ip lab8

# ---- 6. Loss: the resolver asks again (a fresh host with 30% loss)
host_down
host_up --trace --impair loss=30%
found=""
for i in $(seq 1 12); do
	ddig +timeout=2 +tries=1 +noall +comments "n$i.lab.test" >/dev/null
	for p in $(sed -nE 's/.*tx UDP 10\.0\.0\.2:([0-9]+) -> 10\.0\.0\.1:53 .*/\1/p' "$TRACE" | sort | uniq -d); do
		found=$(grep "tx UDP 10\.0\.0\.2:$p -> 10\.0\.0\.1:53 " "$TRACE" | awk '{ print $1 }' | head -n 2 | tr '\n' ' ')
		break
	done
	[ -n "$found" ] && break
done
gap=$(echo "$found" | awk '{ if (NF == 2) printf "%.3f", $2 - $1 }')
if awk -v g="$gap" 'BEGIN { exit !(g != "" && g >= 0.95 && g <= 1.3) }'; then
	ok "Q9: a question sent again ${gap} s later, same port (after $i digs)"
else
	bad "Q9: want a question retransmitted about 1 s later; saw '$found' after $i digs"
fi
n=$(counter dns.tx_retransmit)
if [ "$n" -ge 1 ]; then ok "Q9: dns.tx_retransmit $n"; else bad "Q9: dns.tx_retransmit did not move"; fi
check_grep "Q9: DNS_TIMEOUT_MS is 1000" '#define DNS_TIMEOUT_MS 1000 ' apps/lib/dns_query.h
check_grep "Q9: DNS_TRIES is 3" '#define DNS_TRIES 3 ' apps/lib/dns_query.h
check_grep "Q9: send_try doubles each round" 'timeout_ms \* 1000 << \(q->try / n\)' apps/lib/dns_query.c
check_grep "Q9: pending_done answers SERVFAIL" 'answer_empty\(&p->c, DNS_SERVFAIL\)' apps/lib/dns_service.c

finish

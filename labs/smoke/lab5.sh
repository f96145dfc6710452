#!/usr/bin/env bash
# labs/smoke/lab5.sh: Lab 5 (labs/lab5-ethernet.md) headless. Runs the
# handout's commands in a lab network of its own, with the second host on
# tap1, and checks the facts its questions rely on: the EtherTypes in the
# pcap, the padding to 60 bytes, the bridge's table (learning, flushing,
# ageing_time), a broadcast seen by both hosts and a unicast by one, a
# flooded unicast dropped as eth.not_for_us, the frames of the handout's
# frame.py (unknown type, 802.3 length, another MAC); and that the
# functions and constants the handout cites are there.
# Needs root, /dev/net/tun and python3 (make labs-smoke runs it). About 25 s.
# shellcheck source=labs/smoke/lib.sh
source "$(dirname "$0")/lib.sh"

B_LOG=$RUN/tap1.log
B_PCAP=$RUN/tap1.pcap
B_CTL=$RUN/tap1.ctl
B_MAC=02:00:0a:00:00:03
A_MAC=02:00:00:00:00:02
# Debian's python3 first: a version manager's shim may take a second to start
PY=$(command -v /usr/bin/python3 python3 | head -n 1)

# b_mark / b_since PATTERN: how many lines of host B's trace, after the
# mark, match PATTERN (its other traffic moves its counters too)
B_MARK=0
b_mark() {
	B_MARK=$(wc -l <"$B_LOG")
}
b_since() {
	tail -n "+$((B_MARK + 1))" "$B_LOG" | grep -c -E -- "$1"
}

# counter_of CTL NAME: a counter of the host whose control socket is CTL
counter_of() {
	"$TAPCTL" --ctl "$1" stats 2>/dev/null | awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}

# frame.py, as the handout has it: one frame from br0's MAC to DST, type TYPE
cat >"$SMOKE_TMP/frame.py" <<'EOF'
# frame.py DST TYPE: sends one Ethernet frame on br0, from br0's MAC
import socket, sys
dst = bytes.fromhex(sys.argv[1].replace(":", ""))
etype = int(sys.argv[2], 16).to_bytes(2, "big")
src = bytes.fromhex("020000000001")             # br0's MAC
data = b"tapstack lab 5".ljust(46, b"\0")         # 46 bytes: a 60-byte frame
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("br0", 0))
s.send(dst + src + etype + data)
EOF
frame() {
	nsx "$PY" "$SMOKE_TMP/frame.py" "$@"
}

# dump PCAP OUT: the fields the checks read, one frame a line, tab-separated
# (tshark takes a second to start on a loaded machine: one run per look)
# 1 eth.type, 2 frame.len, 3 eth.padding, 4 eth.len, 5 arp.opcode,
# 6 arp.src.proto_ipv4, 7 icmp.type, 8 ip.len, 9 ip.src, 10 ip.dst
dump() {
	timeout -k 5 60 tshark -r "$1" -n -T fields -E occurrence=f -e eth.type -e frame.len -e eth.padding \
		-e eth.len -e arp.opcode -e arp.src.proto_ipv4 -e icmp.type -e ip.len -e ip.src -e ip.dst \
		2>/dev/null >"$2"
}

# ---- 0. Two hosts: 10.0.0.2 on tap0 (make run), 10.0.0.3 on tap1
host_up --trace
timeout -k 5 30 labs/net up 2 >"$SMOKE_TMP/up2.out" 2>&1 || bad "labs/net up 2 failed: $(tail -n 2 "$SMOKE_TMP/up2.out")"
timeout -k 5 60 ip netns exec "$NS" "$BUILD/tapstack" --tap tap1 --ip 10.0.0.3/24 --gw 10.0.0.1 \
	--pcap "$B_PCAP" --ctl "$B_CTL" --trace </dev/null >"$B_LOG" 2>&1 &
B_PID=$!
for ((i = 0; i < 50; i++)); do
	"$TAPCTL" --ctl "$B_CTL" stats >/dev/null 2>&1 && break
	sleep 0.1
done
check "0: the second host answers on $B_CTL" "$TAPCTL" --ctl "$B_CTL" stats
check_grep "0: the second host's MAC is made from its address" "up tap1 lladdr $B_MAC inet 10\.0\.0\.3/24" "$B_LOG"

# ---- 1. One wire, three protocols: the EtherType
nsx ping -c 1 -W 3 "$HOST_IP" >"$SMOKE_TMP/ping.out" 2>&1
check_grep "1: ping 10.0.0.2 answered" '1 received' "$SMOKE_TMP/ping.out"
check_grep "Q1: eth_input is in link/eth.c" '^void eth_input\(' link/eth.c
check_cites "Q1: eth_input's switch" link/eth.c ETH_TYPE_ARP ETH_TYPE_IPV4 ETH_TYPE_IPV6 arp_input ipv4_input ipv6_input
check_grep "Q1: eth.h has 0x0800" '#define ETH_TYPE_IPV4 0x0800' link/eth.h
check_grep "Q1: eth.h has 0x0806" '#define ETH_TYPE_ARP 0x0806' link/eth.h
check_grep "Q1: eth.h has 0x86dd" '#define ETH_TYPE_IPV6 0x86dd' link/eth.h
check_cites "Q2: the drop reasons of eth_input" link/eth.c eth.unknown_type eth.802_3_length_frame eth.not_for_us eth.bad_source

# ---- 2. The shortest frame: 60 bytes
nsx ping -c 1 -s 0 -W 3 "$HOST_IP" >"$SMOKE_TMP/ping0.out" 2>&1
check_grep "2: ping -s 0 answered" '1 received' "$SMOKE_TMP/ping0.out"
check_grep "Q3: ETH_MIN_FRAME is 60" '#define ETH_MIN_FRAME 60' link/eth.h
check_grep "Q3: eth_output pads" 'if \(p->len < ETH_MIN_FRAME\)' link/eth.c
check_grep "Q4: ipv4_input trims the padding by the total length" 'pkt_trim\(p, h\.total_len\)' ip/ipv4.c

# ---- 3. The bridge's table
nsx bridge fdb show br br0 >"$SMOKE_TMP/fdb" 2>&1
check_grep "5: the bridge learned the host on tap0" "^$A_MAC dev tap0 master br0 *$" "$SMOKE_TMP/fdb"
check_grep "5: the bridge learned the second host on tap1" "^$B_MAC dev tap1 master br0 *$" "$SMOKE_TMP/fdb"
check_grep "5: br0's own MAC is permanent" '^02:00:00:00:00:01 dev br0 master br0 permanent' "$SMOKE_TMP/fdb"
nsx ip -d link show br0 | grep -o ' ageing_time [0-9]* ' >"$SMOKE_TMP/br0" 2>&1
check_grep "6: ageing_time is 30000 (hundredths of a second: 300 s)" '^ ageing_time 30000 $' "$SMOKE_TMP/br0"
nsx bridge fdb flush dev br0 dynamic
# (host B may speak again at once: its entry may come back, host A's not)
n=$(nsx bridge fdb show br br0 dynamic | grep -c "^$A_MAC ")
check_eq "5: bridge fdb flush dev br0 dynamic: host A's entry is gone" 0 "$n"
nsx ping -c 1 -W 3 "$HOST_IP" >/dev/null 2>&1
nsx bridge fdb show br br0 dynamic >"$SMOKE_TMP/fdb2" 2>&1
check_grep "5: one frame from the host and the bridge knows it again" "^$A_MAC dev tap0 master br0" "$SMOKE_TMP/fdb2"
# ageing: 10 s in the handout, 2 s here; the host is silent, its entry goes
nsx ip link set br0 type bridge ageing_time 200
aged=no
for ((i = 0; i < 80; i++)); do
	nsx bridge fdb show br br0 dynamic | grep -q "^$A_MAC " || { aged=yes; break; }
	sleep 0.1
done
check_eq "6: with ageing_time 200 the silent host's entry goes (after $((i / 10)).$((i % 10)) s)" yes "$aged"
nsx ip link set br0 type bridge ageing_time 30000

# ---- 4. Broadcast and unicast: who sees what
b_arp0=$(counter_of "$B_CTL" arp.tx_reply)
trace_mark
nsx ip neigh flush dev br0
nsx ping -c 1 -W 3 10.0.0.3 >"$SMOKE_TMP/pingB.out" 2>&1
check_grep "7: ping 10.0.0.3 (the second host) answered" '1 received' "$SMOKE_TMP/pingB.out"
sleep 0.3
trace_since
check_grep "7: the host on tap0 got the broadcast request and dropped it as arp.not_for_us" \
	'drop arp\.not_for_us who-has 10\.0\.0\.3 tell 10\.0\.0\.1$' "$SMOKE_TMP/trace.now"
check_eq "7: the second host sent one ARP reply" 1 $(($(counter_of "$B_CTL" arp.tx_reply) - b_arp0))
dump "$PCAP" "$SMOKE_TMP/a.tsv"
dump "$B_PCAP" "$SMOKE_TMP/b.tsv"
# the pcap checks of sections 1, 2 and 4, from these two dumps
types=$(cut -f 1 "$SMOKE_TMP/a.tsv" | sort -u | grep -E '^0x(0800|0806|86dd)$' | tr '\n' ' ')
check_eq "Q1: the pcap has the three EtherTypes" "0x0800 0x0806 0x86dd " "$types"
check_eq "Q3: the kernel's 28-byte echo request arrives in 42 bytes, unpadded" "42 -" \
	"$(awk -F'\t' '$7 == 8 && $8 == 28 { print $2, ($3 == "" ? "-" : $3); exit }' "$SMOKE_TMP/a.tsv")"
check_eq "Q3: the host's 28-byte reply is padded to 60 bytes (18 zero bytes)" \
	"60 000000000000000000000000000000000000" \
	"$(awk -F'\t' '$7 == 0 && $8 == 28 { print $2, $3; exit }' "$SMOKE_TMP/a.tsv")"
check_eq "Q3: the host's ARP reply (14 + 28 bytes) is 60 bytes" 60 \
	"$(awk -F'\t' '$5 == 2 && $6 == "10.0.0.2" { print $2; exit }' "$SMOKE_TMP/a.tsv")"
a_seen=$(awk -F'\t' '($5 == 2 && $6 == "10.0.0.3") || ($7 != "" && ($9 == "10.0.0.3" || $10 == "10.0.0.3"))' "$SMOKE_TMP/a.tsv" | grep -c .)
b_seen=$(awk -F'\t' '($5 == 2 && $6 == "10.0.0.3") || ($7 != "" && ($9 == "10.0.0.3" || $10 == "10.0.0.3"))' "$SMOKE_TMP/b.tsv" | grep -c .)
a_seen=$(pcap_fields -Y '(arp.opcode == 2 && arp.src.proto_ipv4 == 10.0.0.3) || (icmp && ip.addr == 10.0.0.3)' | grep -c .)
check_eq "7: tap0's pcap has neither the reply nor the echo of 10.0.0.3" 0 "$a_seen"
check_eq "7: tap1's pcap has the reply, the request and the echo reply" 3 "$b_seen"
check_grep "Q8: arp_input's for-us test" 'reason = "arp\.not_for_us"' link/arp.c

# ---- 5. Frames for another MAC: eth.not_for_us
# a unicast to a MAC the bridge does not know (it was flushed) is flooded
nsx bridge fdb flush dev br0 dynamic
trace_mark
nsx ping -c 3 -i 0.3 -W 3 10.0.0.3 >"$SMOKE_TMP/pingB3.out" 2>&1
check_grep "9: ping -c 3 10.0.0.3 after the flush answered" '3 received' "$SMOKE_TMP/pingB3.out"
sleep 0.3
trace_since
n=$(grep -c "drop eth\.not_for_us type 0x0800 02:00:00:00:00:01 -> $B_MAC\$" "$SMOKE_TMP/trace.now")
check_eq "9: the host on tap0 dropped the first echo to 10.0.0.3 only (flooded, then learned)" 1 "$n"
check_grep "Q10: eth_for_us is in link/eth.c" '^static bool eth_for_us\(' link/eth.c
check_cites "Q10: eth_for_us's three tests" link/eth.c mac_is_broadcast netif_mcast_has
# multicast for groups the host did not join (the other host's MLD and NS)
check_grep "11: the host on tap0 dropped a 33:33 frame of a group it did not join" \
	'drop eth\.not_for_us type 0x86dd [0-9a-f:]+ -> 33:33:' "$TRACE"

if [ -z "$PY" ]; then
	bad "12: python3 is missing, frame.py cannot run"
else
	u0=$(counter eth.unknown_type)
	l0=$(counter eth.802_3_length_frame)
	nb0=$(counter_of "$B_CTL" eth.not_for_us)
	trace_mark
	b_mark
	frame "$A_MAC" 88b5
	frame "$A_MAC" 002e
	frame 02:00:00:00:00:99 88b5
	sleep 0.3
	trace_since
	check_eq "12: frame.py $A_MAC 88b5: eth.unknown_type moved by 1" 1 $(($(counter eth.unknown_type) - u0))
	check_eq "12: frame.py $A_MAC 002e: eth.802_3_length_frame moved by 1" 1 $(($(counter eth.802_3_length_frame) - l0))
	check_grep "12: the trace names the unknown type" \
		"drop eth\.unknown_type type 0x88b5 02:00:00:00:00:01 -> $A_MAC\$" "$SMOKE_TMP/trace.now"
	check_grep "12: a frame to 02:00:00:00:00:99 is flooded and dropped on tap0" \
		'drop eth\.not_for_us type 0x88b5 02:00:00:00:00:01 -> 02:00:00:00:00:99$' "$SMOKE_TMP/trace.now"
	nb=$(($(counter_of "$B_CTL" eth.not_for_us) - nb0))
	if [ "$nb" -ge 3 ]; then ok "12: the second host's eth.not_for_us moved by $nb"; else bad "12: the second host's eth.not_for_us moved by $nb, want 3 or more"; fi
	n=$(b_since 'drop eth\.not_for_us type 0x(88b5|002e) 02:00:00:00:00:01 -> 02:00:00:00:00:(02|99)$')
	check_eq "Q12: the bridge had forgotten host A: the second host dropped all three frames" 3 "$n"
	# host A speaks once, the bridge learns it: only the third is flooded now
	nsx ping -c 1 -W 3 "$HOST_IP" >/dev/null 2>&1
	b_mark
	frame "$A_MAC" 88b5
	frame "$A_MAC" 002e
	frame 02:00:00:00:00:99 88b5
	sleep 0.3
	n=$(b_since 'drop eth\.not_for_us type 0x(88b5|002e) 02:00:00:00:00:01 -> 02:00:00:00:00:02$')
	check_eq "Q12: after a ping of host A the second host gets no frame for host A" 0 "$n"
	n=$(b_since 'drop eth\.not_for_us type 0x88b5 02:00:00:00:00:01 -> 02:00:00:00:00:99$')
	check_eq "Q12: ... and still the one to :99" 1 "$n"
	dump "$PCAP" "$SMOKE_TMP/a.tsv"
	len=$(awk -F'\t' '$4 == 46 { print $2; exit }' "$SMOKE_TMP/a.tsv")
	check_eq "12: tshark reads type 0x002e as an 802.3 length (eth.len 46), 60-byte frame" 60 "$len"
fi

kill "$B_PID" 2>/dev/null
wait "$B_PID" 2>/dev/null
finish

#!/usr/bin/env bash
# labs/smoke/lab6.sh: Lab 6 (labs/lab6-arp.md) headless. Runs the handout's
# commands in a lab network of its own and checks the facts its questions
# rely on: the two announcements 2 s apart, a request with a zero target MAC
# and its unicast reply, arping's requests, arping -D, a second host that
# claims the host's address, a forged reply kept out by the lock and then
# believed, the queue of an unresolved neighbor, and an entry that turns
# STALE after 30 s and is polled with a unicast request; and that the
# functions and constants the handout cites are there.
# The handout watches 10.0.0.1 go STALE; here a second address of the
# kernel's side, 10.0.0.5, learned at the start, does (the forged replies
# confirm 10.0.0.1 on the way). Needs root, /dev/net/tun, python3, arping
# and nft (make labs-smoke runs it). About 40 s, most of it waiting for the
# 30 s of REACHABLE.
# shellcheck source=labs/smoke/lib.sh
source "$(dirname "$0")/lib.sh"

A_MAC=02:00:00:00:00:02
BR_MAC=02:00:00:00:00:01
PY=$(command -v /usr/bin/python3 python3 | head -n 1)
for c in arping nft; do
	command -v "$c" >/dev/null || { bad "$c is missing (sudo make deps)"; finish; }
done
[ -n "$PY" ] || { bad "python3 is missing: arp.py cannot run"; finish; }

# arp.py, as the handout has it
cat >"$SMOKE_TMP/arp.py" <<'EOF'
# arp.py OP SENDER_IP SENDER_MAC TARGET_IP TARGET_MAC: sends one ARP message
# (OP is request or reply) on br0, in a frame from SENDER_MAC; a reply goes
# to TARGET_MAC, a request to ff:ff:ff:ff:ff:ff
import socket, sys
op, sip, smac, tip, tmac = sys.argv[1:6]
mac = lambda m: bytes.fromhex(m.replace(":", ""))
code = 1 if op == "request" else 2
dst = mac("ff:ff:ff:ff:ff:ff") if code == 1 else mac(tmac)
arp = bytes.fromhex("000108000604") + code.to_bytes(2, "big")
arp += mac(smac) + socket.inet_aton(sip) + mac(tmac) + socket.inet_aton(tip)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("br0", 0))
s.send(dst + mac(smac) + bytes.fromhex("0806") + arp)
EOF
arp_py() {
	nsx "$PY" "$SMOKE_TMP/arp.py" "$@"
}
# trace time (seconds) of the first line of FILE matching RE
ttime() {
	grep -E -m 1 -- "$2" "$1" | awk '{ print $1 }'
}
# between LO HI X: LO <= X <= HI (decimals)
between() {
	awk -v lo="$1" -v hi="$2" -v x="$3" 'BEGIN { exit !(x != "" && x >= lo && x <= hi) }'
}

# ---- 0. Start the lab with a trace
host_up --trace
nsx ip neigh show "$HOST_IP" >"$SMOKE_TMP/kneigh0" 2>&1

# the smoke's own STALE witness: 10.0.0.5 on br0, learned now (see the top)
nsx ip addr add 10.0.0.5/32 dev br0
nsx ip neigh flush dev br0
nsx ping -I 10.0.0.5 -c 1 -W 3 "$HOST_IP" >"$SMOKE_TMP/ping5.out" 2>&1
check_grep "3: ping -I 10.0.0.5 answered" '1 received' "$SMOKE_TMP/ping5.out"
wait_for "$TRACE" 'arp 10\.0\.0\.5 learned 02:00:00:00:00:01 REACHABLE$' 20
t5=$(ttime "$TRACE" 'arp 10\.0\.0\.5 learned')


# ---- 1. Two announcements, 2 s apart
check_eq "Q2: the kernel made no entry for 10.0.0.2 from the announcements" "" "$(cat "$SMOKE_TMP/kneigh0")"
for ((i = 0; i < 50; i++)); do
	[ "$(grep -c 'tx ARP announce 10\.0\.0\.2 is-at 02:00:00:00:00:02$' "$TRACE")" -ge 2 ] && break
	sleep 0.1
done
t1=$(grep 'tx ARP announce 10\.0\.0\.2' "$TRACE" | sed -n 1p | awk '{ print $1 }')
t2=$(grep 'tx ARP announce 10\.0\.0\.2' "$TRACE" | sed -n 2p | awk '{ print $1 }')
gap=$(awk -v a="$t1" -v b="$t2" 'BEGIN { if (b != "") printf "%.3f", b - a }')
if between 1.9 2.6 "$gap"; then ok "Q1: two announcements, $gap s apart"; else bad "Q1: want two announcements about 2 s apart; saw '$t1' and '$t2'"; fi
check_eq "Q1: arp.tx_announce" 2 "$(counter arp.tx_announce)"
check_grep "Q1: ARP_ANNOUNCE_NUM is 2" '#define ARP_ANNOUNCE_NUM 2 ' link/arp.h
check_grep "Q1: ARP_ANNOUNCE_INTERVAL_US is 2 s" '#define ARP_ANNOUNCE_INTERVAL_US 2000000 ' link/arp.h
check_cites "Q1: the announcements' code" link/arp.c arp_announce arp_send_announce arp_timer
check_grep "Q1: link/arp.c cites RFC 5227 2.3" 'RFC 5227 2\.3' link/arp.c

# ---- 2. A request and its reply
trace_mark
nsx ip neigh flush dev br0
nsx ping -c 1 -W 3 "$HOST_IP" >"$SMOKE_TMP/ping1.out" 2>&1
check_grep "2: ping -c 1 answered" '1 received' "$SMOKE_TMP/ping1.out"
wait_for "$TRACE" 'tx ARP 10\.0\.0\.2 is-at' 20
trace_since
check_in_order "2: the trace shows the request, the learning, the reply" "$SMOKE_TMP/trace.now" \
	'rx ARP who-has 10\.0\.0\.2 tell 10\.0\.0\.1$' \
	'arp 10\.0\.0\.1 learned 02:00:00:00:00:01 REACHABLE$' \
	'tx ARP 10\.0\.0\.2 is-at 02:00:00:00:00:02$'
nsx arping -c 2 -I br0 "$HOST_IP" >"$SMOKE_TMP/arping.out" 2>&1
check_grep "2: arping -c 2 got two replies" 'Received 2 response' "$SMOKE_TMP/arping.out"
check_grep "2: arping's first request is broadcast, the next unicast" 'Sent 2 probes \(1 broadcast' "$SMOKE_TMP/arping.out"
check_grep "Q4: arp_reply swaps and sends to the asker" 'arp_send\(s, ifp, ARP_OP_REPLY, m->sha, m->sha, m->spa\)' link/arp.c
check_grep "Q3: arp_request sends a zero target MAC" 'mac_zero, ip\)' link/arp.c

# ---- 4. Is the address free? arping -D, and a second host that claims it
learned0=$(counter arp.learned)
trace_mark
nsx arping -D -c 1 -w 2 -I br0 "$HOST_IP" >"$SMOKE_TMP/dad.out" 2>&1
rc=$?
check_eq "8: arping -D 10.0.0.2 exits 1 (a reply: the address is taken)" 1 "$rc"
check_grep "8: ... Received 1 response" 'Received 1 response' "$SMOKE_TMP/dad.out"
nsx arping -D -c 1 -w 1 -I br0 10.0.0.9 >"$SMOKE_TMP/dad9.out" 2>&1
rc=$?
check_eq "8: arping -D 10.0.0.9 exits 0 (no reply: free)" 0 "$rc"
sleep 0.2
trace_since
check_grep "8: the host answers the probe from 0.0.0.0" 'rx ARP who-has 10\.0\.0\.2 tell 0\.0\.0\.0$' "$SMOKE_TMP/trace.now"
check_eq "Q8: the probe taught the host nothing (arp.learned)" "$learned0" "$(counter arp.learned)"
check_grep "Q8: arp_input does not learn from sender 0" 'if \(!merged && m\.spa != 0\)' link/arp.c

timeout -k 5 30 labs/net up 2 >/dev/null 2>&1
nsx ping -c 1 -W 3 "$HOST_IP" >/dev/null 2>&1
conf0=$(counter arp.address_conflict)
trace_mark
timeout -k 2 3 ip netns exec "$NS" "$BUILD/tapstack" --tap tap1 --ip 10.0.0.2/24 --ctl none \
	</dev/null >"$SMOKE_TMP/b.out" 2>&1
check_grep "9: the second host came up as 10.0.0.2 with its own MAC" 'host 10\.0\.0\.2/24 lladdr 02:00:0a:00:00:02 on tap1' "$SMOKE_TMP/b.out"
trace_since
n=$(($(counter arp.address_conflict) - conf0))
if [ "$n" -ge 1 ]; then ok "9: arp.address_conflict moved by $n"; else bad "9: arp.address_conflict did not move"; fi
check_grep "9: the trace warns" \
	'warning: address conflict: who-has 10\.0\.0\.2 tell 10\.0\.0\.2 is also used by 02:00:0a:00:00:02$' "$SMOKE_TMP/trace.now"
nsx ip neigh show "$HOST_IP" >"$SMOKE_TMP/kneigh1" 2>&1
check_grep "Q10: the kernel's entry for 10.0.0.2 now has the second host's MAC" 'lladdr 02:00:0a:00:00:02' "$SMOKE_TMP/kneigh1"
check_grep "Q10: arp_input counts the conflict (RFC 5227 2.4)" 'reason = "arp\.address_conflict"' link/arp.c

# ---- 5. Spoofing, and the lock
lock0=$(counter arp.mac_change_locked)
chg0=$(counter arp.mac_changed)
trace_mark
nsx ip neigh flush dev br0
nsx ping -c 1 -W 3 "$HOST_IP" >/dev/null 2>&1
arp_py reply 10.0.0.1 02:00:00:00:00:66 "$HOST_IP" "$A_MAC"
sleep 0.2
check_eq "11: a forged reply right after a confirmation: arp.mac_change_locked moved by 1" 1 \
	$(($(counter arp.mac_change_locked) - lock0))
trace_since
check_grep "11: the trace says the MAC was kept" \
	'arp 10\.0\.0\.1 lladdr 02:00:00:00:00:01 kept: 02:00:00:00:00:66 claimed it 0\.[0-9]+ s after a confirmation$' "$SMOKE_TMP/trace.now"
sleep 1.2
arp_py reply 10.0.0.1 02:00:00:00:00:66 "$HOST_IP" "$A_MAC"
sleep 0.2
check_eq "11: the same, 1.2 s later: arp.mac_changed moved by 1" 1 $(($(counter arp.mac_changed) - chg0))
"$TAPCTL" neigh >"$SMOKE_TMP/neigh66" 2>&1
check_grep "11: tapctl neigh: 10.0.0.1 is at the forged MAC" '^10\.0\.0\.1 dev tap0 lladdr 02:00:00:00:00:66 REACHABLE' "$SMOKE_TMP/neigh66"
nsx ping -c 1 -W 1 "$HOST_IP" >"$SMOKE_TMP/ping66.out" 2>&1
check_grep "11: the kernel's ping is not answered now" '0 received' "$SMOKE_TMP/ping66.out"
check_grep "Q11: ARP_LOCKTIME_US is 1 s" '#define ARP_LOCKTIME_US 1000000 ' link/arp.h
check_grep "Q11: arp_merge has the lock" 's->now - e->confirmed < ARP_LOCKTIME_US' link/arp.c
# a broadcast request for somebody else does it too (merge before the for-us test)
sleep 1.1
trace_mark
arp_py request 10.0.0.1 02:00:00:00:00:77 10.0.0.99 00:00:00:00:00:00
sleep 0.2
trace_since
check_in_order "Q12: a request for 10.0.0.99 re-points 10.0.0.1, then is dropped as not for us" "$SMOKE_TMP/trace.now" \
	'arp 10\.0\.0\.1 lladdr 02:00:00:00:00:66 -> 02:00:00:00:00:77$' \
	'drop arp\.not_for_us who-has 10\.0\.0\.99 tell 10\.0\.0\.1$'
# the repair: the kernel asks again
sleep 1.1
trace_mark
nsx ip neigh flush dev br0
nsx ping -c 1 -W 3 "$HOST_IP" >"$SMOKE_TMP/pingfix.out" 2>&1
check_grep "11: after ip neigh flush the kernel's ping is answered again" '1 received' "$SMOKE_TMP/pingfix.out"
trace_since
check_grep "11: the kernel's request put the right MAC back" \
	'arp 10\.0\.0\.1 lladdr 02:00:00:00:00:77 -> 02:00:00:00:00:01$' "$SMOKE_TMP/trace.now"

# ---- 6. The queue
nsx ip addr add 10.0.0.6/32 dev br0
nsx ip neigh replace "$HOST_IP" lladdr "$A_MAC" dev br0 nud permanent
nsx nft add table arp lab6
nsx nft add chain arp lab6 out '{ type filter hook output priority 0; }'
nsx nft add rule arp lab6 out arp operation reply drop
ovf0=$(counter arp.pending_overflow)
unr0=$(counter arp.unresolved)
trace_mark
nsx ping -I 10.0.0.6 -c 6 -i 0.2 -W 1 "$HOST_IP" >"$SMOKE_TMP/ping6.out" 2>&1 &
ping_pid=$!
sleep 1.6
"$TAPCTL" neigh >"$SMOKE_TMP/neigh6" 2>&1
check_grep "13: tapctl neigh: 10.0.0.6 INCOMPLETE with 4 queued" '^10\.0\.0\.6 dev tap0 INCOMPLETE age [0-9.]+s queued 4$' "$SMOKE_TMP/neigh6"
wait "$ping_pid"
wait_for "$TRACE" 'arp 10\.0\.0\.6 INCOMPLETE -> gone' 40
trace_since
check_grep "13: no echo reply came" '0 received' "$SMOKE_TMP/ping6.out"
check_eq "13: arp.pending_overflow moved by 2" 2 $(($(counter arp.pending_overflow) - ovf0))
check_eq "13: arp.unresolved moved by 4" 4 $(($(counter arp.unresolved) - unr0))
check_grep "13: the trace gives up after 3 requests" \
	'arp 10\.0\.0\.6 INCOMPLETE -> gone \(unanswered after 3 requests, 4 dropped\)$' "$SMOKE_TMP/trace.now"
grep 'tx ARP who-has 10\.0\.0\.6 tell 10\.0\.0\.2$' "$SMOKE_TMP/trace.now" | awk '{ print $1 }' >"$SMOKE_TMP/req6"
n=$(grep -c . "$SMOKE_TMP/req6")
gaps=$(awk 'NR > 1 { printf "%.2f ", $1 - p } { p = $1 }' "$SMOKE_TMP/req6")
ok1=$(awk 'NR > 1 { d = $1 - p; if (d < 0.9 || d > 1.3) bad = 1 } { p = $1 } END { print bad ? "no" : "yes" }' "$SMOKE_TMP/req6")
if [ "$n" -eq 3 ] && [ "$ok1" = yes ]; then ok "Q13: 3 broadcast requests, about 1 s apart (gaps $gaps)"; else bad "Q13: want 3 requests 1 s apart; saw $n, gaps $gaps"; fi
check_grep "Q13: ARP_PENDING_MAX is 4" '#define ARP_PENDING_MAX 4 ' link/arp.h
check_grep "Q13: ARP_RETRY_US is 1 s" '#define ARP_RETRY_US 1000000 ' link/arp.h
check_grep "Q13: ARP_MAX_RETRIES is 3" '#define ARP_MAX_RETRIES 3 ' link/arp.h
check_grep "Q13: arp_enqueue drops the oldest" 'stack_drop\(s, pktq_pop\(&e->pending\), "arp\.pending_overflow"' link/arp.c
nsx nft delete table arp lab6
trace_mark
nsx ping -I 10.0.0.6 -c 1 -W 3 "$HOST_IP" >"$SMOKE_TMP/ping6b.out" 2>&1
check_grep "14: without the filter the ping from 10.0.0.6 is answered" '1 received' "$SMOKE_TMP/ping6b.out"
trace_since
check_grep "14: the waiting reply leaves once the answer is in" \
	'arp 10\.0\.0\.6 INCOMPLETE -> REACHABLE \(queued 1 sent\)$' "$SMOKE_TMP/trace.now"

# ---- 3. The cache over time: REACHABLE for 30 s, then STALE, then a poll
if [ -z "$t5" ]; then
	bad "3: the host never learned 10.0.0.5"
else
	wait_for "$TRACE" 'arp 10\.0\.0\.5 REACHABLE -> STALE$' 400
	ts=$(ttime "$TRACE" 'arp 10\.0\.0\.5 REACHABLE -> STALE$')
	d=$(awk -v a="$t5" -v b="$ts" 'BEGIN { if (b != "") printf "%.3f", b - a }')
	if between 29.9 30.6 "$d"; then ok "Q5: 10.0.0.5 turned STALE $d s after it was learned"; else bad "Q5: want STALE 30 s after learning; saw '$d'"; fi
	"$TAPCTL" neigh >"$SMOKE_TMP/neigh5" 2>&1
	check_grep "5: tapctl neigh shows STALE" '^10\.0\.0\.5 dev tap0 lladdr 02:00:00:00:00:01 STALE age 3[0-9]\.[0-9]s' "$SMOKE_TMP/neigh5"
	trace_mark
	nsx ping -I 10.0.0.5 -c 1 -W 3 "$HOST_IP" >"$SMOKE_TMP/ping5b.out" 2>&1
	wait_for "$TRACE" 'arp 10\.0\.0\.5 STALE -> REACHABLE' 20
	trace_since
	check_in_order "Q6: a reply through the STALE entry goes at once, then a unicast poll confirms it" "$SMOKE_TMP/trace.now" \
		'tx ICMP echo reply to 10\.0\.0\.5' \
		'tx ARP who-has 10\.0\.0\.5 tell 10\.0\.0\.2 \(unicast to 02:00:00:00:00:01\)$' \
		'arp 10\.0\.0\.5 STALE -> REACHABLE$'
fi
check_grep "Q5: ARP_REACHABLE_US is 30 s" '#define ARP_REACHABLE_US 30000000 ' link/arp.h
check_grep "Q7: ARP_STALE_US is 60 s" '#define ARP_STALE_US 60000000 ' link/arp.h
check_cites "Q7: the timers" link/arp.c arp_entry_deadline arp_entry_expire arp_timer arp_output

# ---- the pcap, once (tshark is slow to start)
timeout -k 5 60 tshark -r "$PCAP" -n -Y arp -T fields -E occurrence=f -e frame.len -e eth.dst -e arp.opcode \
	-e arp.src.proto_ipv4 -e arp.dst.hw_mac -e arp.dst.proto_ipv4 -e arp.isannouncement \
	2>/dev/null >"$SMOKE_TMP/arp.tsv"
check_eq "Q1: the host's two announcements: broadcast, 10.0.0.2 to 10.0.0.2, target MAC zero" \
	"60 ff:ff:ff:ff:ff:ff 1 10.0.0.2 00:00:00:00:00:00 10.0.0.2 1|60 ff:ff:ff:ff:ff:ff 1 10.0.0.2 00:00:00:00:00:00 10.0.0.2 1|" \
	"$(awk -F'\t' '$7 == 1 && $2 == "ff:ff:ff:ff:ff:ff" && $4 == "10.0.0.2"' "$SMOKE_TMP/arp.tsv" | head -n 2 | tr '\t' ' ' | tr '\n' '|')"
check_eq "Q3: the kernel's request has target MAC zero and goes to broadcast" "ff:ff:ff:ff:ff:ff 00:00:00:00:00:00" \
	"$(awk -F'\t' '$3 == 1 && $4 == "10.0.0.1" && $6 == "10.0.0.2" { print $2, $5; exit }' "$SMOKE_TMP/arp.tsv")"
check_eq "Q3: arping's first request has target MAC ff:ff:ff:ff:ff:ff" yes \
	"$(awk -F'\t' '$3 == 1 && $4 == "10.0.0.1" && $5 == "ff:ff:ff:ff:ff:ff" { print "yes"; exit }' "$SMOKE_TMP/arp.tsv")"
check_eq "Q3: arping's next request goes unicast to the host" yes \
	"$(awk -F'\t' -v m="$A_MAC" '$3 == 1 && $2 == m && $5 == m { print "yes"; exit }' "$SMOKE_TMP/arp.tsv")"
check_eq "Q4: the host's reply goes unicast to the asker, with the asker as target" "$BR_MAC $BR_MAC 10.0.0.1" \
	"$(awk -F'\t' '$3 == 2 && $4 == "10.0.0.2" && $6 == "10.0.0.1" { print $2, $5, $6; exit }' "$SMOKE_TMP/arp.tsv")"
check_eq "Q8: the host's reply to the probe has target address 0.0.0.0" "$BR_MAC" \
	"$(awk -F'\t' '$3 == 2 && $4 == "10.0.0.2" && $6 == "0.0.0.0" { print $2; exit }' "$SMOKE_TMP/arp.tsv")"

finish

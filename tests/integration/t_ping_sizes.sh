#!/usr/bin/env bash
# Big and small pings: payloads of 0, 1472 (the largest unfragmented), 1473
# (the smallest fragmented), 8000 and 65000 bytes, every reply complete and
# identical. The kernel cuts the large requests into fragments that the stack
# reassembles (RFC 791 3.2, RFC 815), and the stack cuts its large replies
# into fragments of at most 1500 bytes that the kernel reassembles; tshark
# sees both, and the pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

host_start

# ping_size N COUNT WAIT: COUNT echoes of N bytes, each reply N+8 bytes long
# (ICMP header included), none missing, short, different or duplicated.
ping_size() {
	local size=$1 count=$2 wait=$3 out n
	out=$(nsx ping -n -c "$count" -i 0.2 -s "$size" -W "$wait" -w $((count * wait + 10)) \
		"$HOST_IP" 2>&1) || true
	echo "$out"
	n=$(echo "$out" | grep -c "^$((size + 8)) bytes from $HOST_IP: icmp_seq=" || true)
	# ping marks a short reply "(truncated)", a changed one "wrong data byte",
	# a second reply to one request "(DUP!)".
	echo "$out" | grep -qi "truncated" && fail "ping -s $size: a reply was truncated"
	echo "$out" | grep -qi "wrong data" &&
		fail "ping -s $size: a reply's data differs from the request"
	echo "$out" | grep -q "DUP!" && fail "ping -s $size: duplicate replies"
	[ "$n" -eq "$count" ] ||
		fail "ping -s $size: want $count replies of $((size + 8)) bytes, got $n"
	echo "$out" | grep -q "$count packets transmitted, $count received" ||
		fail "ping -s $size: lost replies"
	ok "ping -s $size: $count replies of $((size + 8)) bytes, data identical" \
		"($(echo "$out" | grep -o 'rtt.*' || echo 'no rtt'))"
}

reasm_before=$(stat_get ip.reassembled)
frag_before=$(stat_get ip.fragmented)

ping_size 0 3 2
ping_size 1472 3 2
ping_size 1473 3 2
ping_size 8000 3 3
ping_size 65000 2 5

# 3 + 3 + 2 requests were fragmented, and so were their replies.
reasm=$(($(stat_get ip.reassembled) - reasm_before))
frag=$(($(stat_get ip.fragmented) - frag_before))
echo "ip.reassembled +$reasm, ip.fragmented +$frag"
stats=$("$TAPCTL" --ctl "$CTL" stats)
echo "$stats" | grep -E '^ip\.(frag|reass)' || true
[ "$reasm" -eq 8 ] || fail "ip.reassembled moved by $reasm, want 8 (one per fragmented request)"
[ "$frag" -eq 8 ] || fail "ip.fragmented moved by $frag, want 8 (one per fragmented reply)"
ok "counters: 8 datagrams reassembled, 8 fragmented"
# No fragment was dropped (ip.frag_timeout, ip.frag_overlap, ip.frag_memory_limit...).
dropped=$(echo "$stats" | awk '$1 ~ /^ip\.frag_/ && $2 > 0')
[ -z "$dropped" ] || fail "fragments were dropped: $dropped"
ok "no fragment dropped"

host_stop
check_pcap "$PCAP"

# count FILTER: how many frames of the pcap match the display filter.
count() {
	tshark -n -r "$PCAP" -Y "$1" 2>/dev/null | wc -l
}

# Fragments in both directions: the requests of 1473 bytes make 1 frame with
# More Fragments each (2 fragments), of 8000 bytes 5 (of 6) and of 65000 bytes
# 43 (of 44, 1480 data bytes each); so do the replies.
for dir in "$GW_IP $HOST_IP" "$HOST_IP $GW_IP"; do
	read -r src dst <<<"$dir"
	n=$(count "ip.src == $src && ip.dst == $dst && ip.flags.mf == 1")
	want=$((3 * 1 + 3 * 5 + 2 * 43))
	[ "$n" -eq "$want" ] || fail "$src -> $dst: $n fragments with MF set, want $want"
	ok "$src -> $dst: $n fragments with More Fragments set"
done

# Never more than the MTU: each frame from the stack holds at most 1500 bytes of IP.
n=$(count "ip.src == $HOST_IP && ip.len > 1500")
[ "$n" -eq 0 ] || fail "$n IP datagrams from the stack exceed the 1500-byte MTU"
ok "no datagram from the stack exceeds 1500 bytes"

# tshark reassembles the stack's replies too: each fragmented reply is whole
# and of the right length (ICMP header + data).
for size in 1473 8000 65000; do
	n=$(count "ip.src == $HOST_IP && icmp.type == 0 && ip.reassembled.length == $((size + 8))")
	want=3
	[ "$size" -eq 65000 ] && want=2
	[ "$n" -eq "$want" ] ||
		fail "tshark reassembles $n replies of $((size + 8)) bytes, want $want"
	ok "tshark reassembles $n replies of $((size + 8)) bytes from the stack's fragments"
done

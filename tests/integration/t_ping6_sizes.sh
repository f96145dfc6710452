#!/usr/bin/env bash
# Big and small pings over IPv6, to the global address fd00::2 and to the
# link-local fe80::ff:fe00:2%br0: payloads of 0, 1452 (the largest
# unfragmented: 40 + 8 + 1452 = 1500), 1453 (the smallest fragmented), 8000
# and 65000 bytes, every reply complete and identical. The kernel cuts the
# large requests into fragments that the stack reassembles (RFC 8200 4.5),
# and the stack cuts its large replies into fragments of at most 1500 bytes
# that the kernel reassembles; tshark sees both, and the pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

HOST_IP6=fd00::2
HOST_LL=fe80::ff:fe00:2

host_start --ip6 "$HOST_IP6/64"

dad_done() { [ "$(stat_get ndp.dad_ok)" -ge 2 ]; }
wait_until 5 dad_done || fail "DAD did not finish for $HOST_LL and $HOST_IP6"

# ping_size ADDR N COUNT WAIT: COUNT echoes of N bytes to ADDR, each reply
# N+8 bytes long (ICMPv6 header included), none missing, short, different or
# duplicated.
ping_size() {
	local addr=$1 size=$2 count=$3 wait=$4 out n
	out=$(nsx ping -6 -n -c "$count" -i 0.2 -s "$size" -W "$wait" -w $((count * wait + 10)) \
		"$addr" 2>&1) || true
	echo "$out"
	n=$(echo "$out" | grep -c "^$((size + 8)) bytes from ${addr%%%*}[%a-z0-9]*: icmp_seq=" || true)
	echo "$out" | grep -qi "truncated" && fail "ping -6 -s $size $addr: a reply was truncated"
	echo "$out" | grep -qi "wrong data" &&
		fail "ping -6 -s $size $addr: a reply's data differs from the request"
	echo "$out" | grep -q "DUP!" && fail "ping -6 -s $size $addr: duplicate replies"
	[ "$n" -eq "$count" ] ||
		fail "ping -6 -s $size $addr: want $count replies of $((size + 8)) bytes, got $n"
	echo "$out" | grep -q "$count packets transmitted, $count received" ||
		fail "ping -6 -s $size $addr: lost replies"
	ok "ping -6 -s $size $addr: $count replies of $((size + 8)) bytes, data identical" \
		"($(echo "$out" | grep -o 'rtt.*' || echo 'no rtt'))"
}

reasm_before=$(stat_get ip6.reassembled)
frag_before=$(stat_get ip6.fragmented)

for addr in "$HOST_IP6" "$HOST_LL%br0"; do
	ping_size "$addr" 0 2 2
	ping_size "$addr" 1452 2 2
	ping_size "$addr" 1453 2 2
	ping_size "$addr" 8000 2 3
	ping_size "$addr" 65000 2 5
done

# 2 + 2 + 2 requests per address were fragmented, and so were their replies.
reasm=$(($(stat_get ip6.reassembled) - reasm_before))
frag=$(($(stat_get ip6.fragmented) - frag_before))
stats=$("$TAPCTL" --ctl "$CTL" stats)
echo "$stats" | grep -E '^ip6\.(frag|reass)' || true
[ "$reasm" -eq 12 ] || fail "ip6.reassembled moved by $reasm, want 12 (one per fragmented request)"
[ "$frag" -eq 12 ] || fail "ip6.fragmented moved by $frag, want 12 (one per fragmented reply)"
ok "counters: 12 datagrams reassembled, 12 fragmented"
dropped=$(echo "$stats" | awk '$1 ~ /^ip6\.frag_/ && $2 > 0')
[ -z "$dropped" ] || fail "fragments were dropped: $dropped"
ok "no fragment dropped"

host_stop
check_pcap "$PCAP"
n=$(tshark -n -r "$PCAP" -Y 'icmpv6.checksum.status == 0' 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "$n ICMPv6 frame(s) with a bad checksum"
ok "no bad ICMPv6 checksum"

count() {
	tshark -n -r "$PCAP" -Y "$1" 2>/dev/null | wc -l
}

# Fragments both ways: 1461 bytes of ICMPv6 make 2 fragments (1 with M set),
# 8008 make 6 (5), 65008 make 45 (44) of 1448 data bytes; 2 of each per
# address.
want=$((2 * 2 * (1 + 5 + 44)))
n=$(count "(ipv6.dst == $HOST_IP6 || ipv6.dst == $HOST_LL) && ipv6.fraghdr.more == 1")
[ "$n" -eq "$want" ] || fail "to the stack: $n fragments with M set, want $want"
ok "to the stack: $n fragments with M set"
n=$(count "(ipv6.src == $HOST_IP6 || ipv6.src == $HOST_LL) && ipv6.fraghdr.more == 1")
[ "$n" -eq "$want" ] || fail "from the stack: $n fragments with M set, want $want"
ok "from the stack: $n fragments with M set"

n=$(count "(ipv6.src == $HOST_IP6 || ipv6.src == $HOST_LL) && ipv6.plen > 1460")
[ "$n" -eq 0 ] || fail "$n IPv6 datagrams from the stack exceed the 1500-byte MTU"
ok "no datagram from the stack exceeds 1500 bytes"

# tshark reassembles the stack's replies: each whole, of the right length.
for size in 1453 8000 65000; do
	n=$(count "(ipv6.src == $HOST_IP6 || ipv6.src == $HOST_LL) && icmpv6.type == 129 && ipv6.reassembled.length == $((size + 8))")
	[ "$n" -eq 4 ] ||
		fail "tshark reassembles $n replies of $((size + 8)) bytes, want 4"
	ok "tshark reassembles $n replies of $((size + 8)) bytes from the stack's fragments"
done

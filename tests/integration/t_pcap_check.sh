#!/usr/bin/env bash
# The pcap check itself: on copies of a capture with one byte changed (an IPv4
# header checksum, an ICMP checksum, an IPv4 total length) check_pcap's filter
# must find the frame; on the untouched capture it must find nothing. Done on
# a reference capture from Linux and on one the stack wrote.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

# Prints the file offset of frame N's first byte (classic pcap: a 24-byte
# file header, then per frame a 16-byte record header whose third 32-bit word
# is the captured length, in the writer's byte order: little endian here).
pcap_frame_offset() {
	local file=$1 want=$2 off=24 k len
	for ((k = 1; k < want; k++)); do
		len=$(od -An -t u4 -j $((off + 8)) -N 4 "$file" | tr -d ' ')
		[ -n "$len" ] || fail "$file has fewer than $want frames"
		off=$((off + 16 + len))
	done
	echo $((off + 16))
}

# Writes byte value $3 (hex, e.g. de) at offset $2 of file $1.
poke() {
	printf "\\x$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# Checks the filter on FILE: clean as it is, each corruption of frame N found.
prove() {
	local file=$1 frame=$2 base bad
	bad=$(pcap_bad_frames "$file") || fail "tshark cannot read $file"
	[ -z "$bad" ] || { echo "$bad"; fail "$file is not clean to begin with"; }
	base=$(pcap_frame_offset "$file" "$frame")
	# Ethernet header 14 bytes; IPv4 checksum at 10, total length at 2; ICMP
	# checksum at 20 + 2 (no IP options in these frames).
	local what off val
	for what in "ip-checksum 24 de" "icmp-checksum 36 de" "ip-total-length 16 7f"; do
		read -r what off val <<<"$what"
		cp "$file" "$TMP/bad.pcap"
		poke "$TMP/bad.pcap" $((base + off)) "$val"
		cmp -s "$file" "$TMP/bad.pcap" && poke "$TMP/bad.pcap" $((base + off)) 00
		bad=$(pcap_bad_frames "$TMP/bad.pcap") || fail "tshark cannot read the corrupted copy"
		echo "$bad" | grep -Eq "^ *$frame " ||
			fail "$(basename "$file"): a corrupted $what in frame $frame was not found"
		ok "$(basename "$file"): corrupted $what in frame $frame is found"
	done
}

prove "$ROOT/tests/vectors/icmp-echo.pcap" 4

host_start
nsx ping -n -c 3 -i 0.1 -W 2 "$HOST_IP" >/dev/null || fail "ping -c 3 lost replies"
host_stop
frame=$(tshark -n -r "$PCAP" -Y "icmp.type == 0 && !ip.opt.type" -T fields -e frame.number \
	2>/dev/null | head -n 1)
[ -n "$frame" ] || fail "no echo reply in the stack's pcap"
prove "$PCAP" "$frame"

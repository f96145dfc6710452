#!/usr/bin/env bash
# Path MTU discovery (RFC 1191) with real Linux routers: the lab network
# and `labs/net far 1000`, three namespaces:
#
#   lab  ($NS)      br0 10.0.0.1, the host 10.0.0.2 on tap0; routes
#                   10.0.2.0/24 over a veth of MTU 1000 (10.0.1.1 -> 10.0.1.2)
#   mid  ($NS-mid)  a second router: 10.0.1.2 (MTU 1000), 10.0.2.1 (MTU 1500)
#   far  ($NS-far)  the client, 10.0.2.9 (MTU 1500), so its SYN offers MSS 1460
#
# curl in "far" fetches 4 MB from the host. The host's first full-sized
# segments (1500 bytes, DF set) do not fit the 1000-byte link, so the lab's
# kernel answers "fragmentation needed, next-hop MTU 1000"; the host must
# lower its path MTU and MSS and deliver every byte in segments of at most
# 1000 bytes, all with DF, none fragmented. Checked on the body, on the
# counters, on `tapctl routes` and on tap0's capture.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is missing (sudo make deps installs it)"
command -v tshark >/dev/null || fail "tshark is missing (sudo make deps installs it)"
SIZE=4194304

host_start --serve http --log none
# labs/net far: 10.0.2.9 behind two Linux routers and a 1000-byte link
# (labs/net down, in lib.sh's cleanup, removes its namespaces too)
"$NET" far 1000 >/dev/null
far() { "$NET" farexec "$@"; }

# The path works end to end before anything large is sent.
far ping -c 1 -W 2 "$HOST_IP" >/dev/null ||
	fail "10.0.2.9 cannot ping the host through two routers"
ok "10.0.2.9 reaches the host through 10.0.0.1 and 10.0.1.2"

far curl -s --max-time 60 "http://$HOST_IP/bytes/$SIZE" >"$TMP/body" ||
	{ show_host; fail "curl from 10.0.2.9 did not finish ($(stat -c %s "$TMP/body") bytes)"; }
chargen_ref "$SIZE" | cmp -s - "$TMP/body" ||
	fail "the body differs from the chargen pattern ($(stat -c %s "$TMP/body") bytes)"
ok "4 MB through the 1000-byte link, byte for byte"

lowered=$(stat_get pmtu.lowered)
frag_needed=$(stat_get tcp.icmp_frag_needed)
[ "$lowered" -ge 1 ] || fail "pmtu.lowered is $lowered: the host did not learn the path MTU"
[ "$frag_needed" -ge 1 ] || fail "tcp.icmp_frag_needed is $frag_needed"
ok "pmtu.lowered $lowered, tcp.icmp_frag_needed $frag_needed"
"$TAPCTL" --ctl "$CTL" routes >"$TMP/routes.txt"
grep -E "10\.0\.2\.9.* 1000( |$)" "$TMP/routes.txt" >/dev/null ||
	{ cat "$TMP/routes.txt" >&2; fail "tapctl routes shows no path MTU 1000 for 10.0.2.9"; }
ok "tapctl routes: $(grep -E '10\.0\.2\.9' "$TMP/routes.txt" | head -1)"

host_stop
check_pcap "$PCAP"
# The host's data segments to 10.0.2.9: every one with DF, none a fragment;
# the first ones 1500 bytes, then none over 1000 after the ICMP came.
tshark -r "$PCAP" -Y "ip.src==$HOST_IP && ip.dst==10.0.2.9 && tcp.len>0" \
	-T fields -e frame.number -e ip.len -e ip.flags.df -e ip.flags.mf -e ip.frag_offset \
	>"$TMP/segs.txt" 2>/dev/null || fail "tshark cannot read the capture"
icmp=$(tshark -r "$PCAP" -Y "icmp.type==3 && icmp.code==4 && icmp.mtu==1000" -T fields -e frame.number \
	2>/dev/null | head -1)
[ -n "$icmp" ] || fail "no ICMP fragmentation needed (MTU 1000) in the capture"
awk -v icmp="$icmp" '
	$3 != 1 || $4 != 0 || $5 != 0 { print "frame " $1 ": DF " $3 " MF " $4 " offset " $5; bad = 1 }
	$1 < icmp && $2 == 1500 { big++ }
	$1 > icmp && $2 > 1000 { print "frame " $1 ": " $2 " bytes after the ICMP"; bad = 1 }
	END { if (!big) { print "no 1500-byte segment before the ICMP"; bad = 1 } exit bad }
' "$TMP/segs.txt" >"$TMP/bad.txt" || { head "$TMP/bad.txt" >&2; fail "the capture shows the wrong segments"; }
ok "capture: $(wc -l <"$TMP/segs.txt") data segments, all DF, none fragmented, 1500 bytes before the ICMP (frame $icmp) and at most 1000 after"

# Again with the TAP offload (no --pcap): the host hands the kernel large
# segments to cut (TSO), each with DF, and the kernel's forwarding must
# find them too large for the narrow link just the same.
host_start_bulk --serve http --log none
BIG=67108864
far curl -s --max-time 60 "http://$HOST_IP/bytes/$BIG" | sha256sum >"$TMP/got.sum" || true
chargen_ref "$BIG" | sha256sum | cmp -s - "$TMP/got.sum" ||
	{ show_host; fail "with offload: 64 MB through the 1000-byte link differ from the pattern"; }
lowered=$(stat_get pmtu.lowered)
tso=$(stat_get tcp.tx_tso_segments)
[ "$lowered" -ge 1 ] || fail "with offload: pmtu.lowered is $lowered"
[ "$tso" -ge 1 ] || fail "with offload: tcp.tx_tso_segments is $tso, so TSO was not tried"
ok "with offload: 64 MB byte for byte, $tso TSO segments, pmtu.lowered $lowered"
host_stop

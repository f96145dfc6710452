#!/usr/bin/env bash
# TCP options with Linux, read back from the pcaps with tshark, and a
# transfer through 1% loss each way (nftables in the test's namespace):
#   Linux -> stack: nc's SYN to the host's echo (10.0.0.2:7) and the host's
#     SYN-ACK both carry window scale (the host's shift 7: 4 MB buffers),
#     SACK-permitted and timestamps; the SYN-ACK echoes Linux's TSval; every
#     data segment of the host has timestamps; TCP_OPTIONS_MB (default 8) of
#     random bytes go to echo and come back with the same sha256 while nft
#     drops 1% of the frames each way; SACK blocks flow both ways; the window
#     the host offers (scaled) passes 64 KB.
#   stack -> Linux: tcpcat on a second host (10.0.0.3) connects to nc -l on
#     the kernel; its SYN and Linux's SYN-ACK negotiate the same three.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"
command -v nft >/dev/null || fail "nft is missing (sudo make deps installs nftables)"
command -v tshark >/dev/null || fail "tshark is missing (sudo make deps installs tshark)"
TCPCAT=$BUILD/tcpcat
[ -x "$TCPCAT" ] || fail "$TCPCAT is not built (make apps)"

MB=${TCP_OPTIONS_MB:-8}
SIZE=$((MB * 1024 * 1024))
LOSS=1 # percent, each way
LIMIT=${TCP_OPTIONS_LIMIT:-45}

"$NET" up 2 >/dev/null
host_start_bulk --pcap "$PCAP"
# One segment per skb on the kernel's side: without this its TCP hands the
# bridge 64 KB GSO packets (cut into frames only at tap0), nft's 1% dice
# fall on skbs, and about one run in four dropped no data towards the host
# at all, so the host had nothing to SACK.
nsx ip link set dev br0 gso_max_segs 1

nsx nft -f - <<NFT || fail "nft refused the loss rules"
table bridge tst_opts {
	chain to_kernel {
		type filter hook input priority 0; policy accept;
		iifname "tap0" tcp sport 7 numgen random mod 100 < $LOSS counter drop
	}
	chain to_stack {
		type filter hook output priority 0; policy accept;
		oifname "tap0" tcp dport 7 numgen random mod 100 < $LOSS counter drop
	}
}
NFT
dropped() {
	nsx nft list chain bridge tst_opts "$1" | sed -nE 's/.*counter packets ([0-9]+) .*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}

# --- Linux -> stack, through the loss
echo_hashed "$SIZE" "$LIMIT"
ok "echo through $LOSS% loss each way: $MB MB, sha256 equal ($(rate "$SIZE" "$XFER_MS"))"
to_kernel=$(dropped to_kernel)
to_stack=$(dropped to_stack)
echo "frames dropped by nft: $to_kernel from the host, $to_stack to it"
[ "$to_kernel" -gt 0 ] && [ "$to_stack" -gt 0 ] || fail "nft dropped $to_kernel and $to_stack frames: no loss"
nsx nft delete table bridge tst_opts
retrans=$(stat_get tcp.retransmits)
sackrec=$(stat_get tcp.sack_recovery)
echo "host: tcp.retransmits $retrans, tcp.sack_recovery $sackrec"
[ "$retrans" -gt 0 ] || fail "the host lost frames but tcp.retransmits is $retrans"
host_stop

# count FILTER: how many frames of $PCAP FILTER picks.
count() {
	tshark -n -r "$PCAP" -d tcp.port==7,data -Y "$1" 2>/dev/null | wc -l
}

# fields FILTER FIELD...: tshark's fields (tab-separated) of the frames FILTER picks in $PCAP.
fields() {
	local filter=$1
	shift
	local args=() f
	for f in "$@"; do
		args+=(-e "$f")
	done
	tshark -n -r "$PCAP" -d tcp.port==7,data -Y "$filter" -T fields "${args[@]}" 2>/dev/null
}

L_SYN="ip.src == $GW_IP && tcp.dstport == 7 && tcp.flags.syn == 1 && tcp.flags.ack == 0"
H_SYNACK="ip.src == $HOST_IP && tcp.srcport == 7 && tcp.flags.syn == 1 && tcp.flags.ack == 1"
syn=$(fields "$L_SYN" tcp.options.wscale.shift tcp.options.timestamp.tsval | head -n 1)
synack=$(fields "$H_SYNACK" tcp.options.wscale.shift tcp.options.timestamp.tsval \
	tcp.options.timestamp.tsecr | head -n 1)
echo "Linux SYN: shift, tsval = $syn; host SYN-ACK: shift, tsval, tsecr = $synack"
read -r l_shift l_tsval <<<"$syn"
read -r h_shift h_tsval h_tsecr <<<"$synack"
[ -n "${l_shift:-}" ] && [ -n "${l_tsval:-}" ] && [ "$(count "$L_SYN && tcp.options.sack_perm")" -gt 0 ] ||
	fail "Linux's SYN lacks an option: '$syn'"
[ "${h_shift:-}" = 7 ] || fail "the host's SYN-ACK offers window scale '${h_shift:-}', want 7 (4 MB)"
[ "$(count "$H_SYNACK && tcp.options.sack_perm")" -gt 0 ] || fail "the host's SYN-ACK is not SACK-permitted"
[ -n "${h_tsval:-}" ] || fail "the host's SYN-ACK has no timestamps"
[ "${h_tsecr:-}" = "$l_tsval" ] || fail "the SYN-ACK echoes TSecr $h_tsecr, Linux sent TSval $l_tsval"
ok "SYN and SYN-ACK negotiate window scale (Linux $l_shift, host 7), SACK-permitted, timestamps"

no_ts=$(count "ip.src == $HOST_IP && tcp.srcport == 7 && tcp.len > 0 && !tcp.options.timestamp.tsval")
with_ts=$(count "ip.src == $HOST_IP && tcp.srcport == 7 && tcp.len > 0 && tcp.options.timestamp.tsval")
[ "$with_ts" -gt 0 ] && [ "$no_ts" -eq 0 ] ||
	fail "host data segments: $with_ts with timestamps, $no_ts without"
sack_from_linux=$(count "ip.src == $GW_IP && tcp.dstport == 7 && tcp.options.sack_le")
sack_from_host=$(count "ip.src == $HOST_IP && tcp.srcport == 7 && tcp.options.sack_le")
[ "$sack_from_linux" -gt 0 ] && [ "$sack_from_host" -gt 0 ] ||
	fail "SACK blocks: $sack_from_linux from Linux, $sack_from_host from the host (want both > 0)"
ok "$with_ts host data segments, all with timestamps; SACK blocks: $sack_from_linux from Linux, $sack_from_host from the host"
max_win=$(fields "ip.src == $HOST_IP && tcp.srcport == 7 && tcp.flags.syn == 0" tcp.window_size |
	sort -n | tail -n 1)
[ "${max_win:-0}" -gt 65535 ] || fail "the host never offered more than ${max_win:-0} bytes (scaled)"
ok "the host offers up to $max_win bytes of window (scaled by 2^7)"

# --- stack -> Linux: the stack's SYN, Linux's SYN-ACK
nsx timeout 20 nc -l -n "$GW_IP" 5001 >"$TMP/nc_l.out" 2>"$TMP/nc_l.err" &
NC_PID=$!
sleep 0.3
PCAP1=$TMP/tap1.pcap
# shellcheck disable=SC2046 # split on purpose
ip netns exec "$NS" timeout 20 "$TCPCAT" $(host_flags 1) --pcap "$PCAP1" --send-bytes 100000 \
	"$GW_IP" 5001 >"$TMP/tcpcat.out" 2>"$TMP/tcpcat.err" ||
	{ cat "$TMP/tcpcat.err"; fail "tcpcat to nc -l failed"; }
wait "$NC_PID" || true
got=$(stat -c %s "$TMP/nc_l.out")
[ "$got" -eq 100000 ] || fail "nc -l received $got of 100000 bytes"
PCAP=$PCAP1
H_SYN="ip.src == 10.0.0.3 && tcp.dstport == 5001 && tcp.flags.syn == 1 && tcp.flags.ack == 0"
L_SYNACK="ip.src == $GW_IP && tcp.srcport == 5001 && tcp.flags.syn == 1 && tcp.flags.ack == 1"
syn=$(fields "$H_SYN" tcp.options.wscale.shift tcp.options.timestamp.tsval | head -n 1)
synack=$(fields "$L_SYNACK" tcp.options.wscale.shift tcp.options.timestamp.tsval | head -n 1)
echo "host SYN: shift, tsval = $syn; Linux SYN-ACK: shift, tsval = $synack"
read -r h_shift h_tsval <<<"$syn"
read -r l_shift l_tsval <<<"$synack"
[ "${h_shift:-}" = 7 ] && [ -n "${h_tsval:-}" ] && [ "$(count "$H_SYN && tcp.options.sack_perm")" -gt 0 ] ||
	fail "the host's SYN does not offer window scale 7, SACK-permitted and timestamps: '$syn'"
[ -n "${l_shift:-}" ] && [ -n "${l_tsval:-}" ] && [ "$(count "$L_SYNACK && tcp.options.sack_perm")" -gt 0 ] ||
	fail "Linux's SYN-ACK does not accept all three: '$synack'"
ok "the host's SYN and Linux's SYN-ACK negotiate window scale (host 7, Linux $l_shift), SACK-permitted, timestamps"

#!/usr/bin/env bash
# labs/smoke/lab10.sh: Lab 10 (labs/lab10-sack.md) headless. Runs the
# handout's two downloads of 2 MB over --impair loss=5%,delay=10 --seed 2,
# with SACK and with --no-sack, and checks the facts its questions rely on:
# the same 2000000 bytes both times; with SACK, SACK-permitted in the
# SYN-ACK, SACK blocks in the kernel's ACKs, counted by the host, and the
# trace's SACK recovery retransmitting holes; without, no SACK-permitted in
# the SYN-ACK though the kernel's SYN offered it, not one SACK block, NewReno's
# partial ACKs; whole segments retransmitted; and that the functions the
# handout cites are there. It prints the two runs' numbers (not a check:
# one run of each says little, the handout's section 4).
# Needs root and /dev/net/tun (make labs-smoke runs it). About 30 s.
# shellcheck source=labs/smoke/lib.sh
source "$(dirname "$0")/lib.sh"

HANDOUT=labs/lab10-sack.md
command -v curl >/dev/null || { bad "curl is missing (sudo make deps)"; finish; }

# run MODE FLAGS...: a host with FLAGS, the download, its counters and files
run() {
	local mode=$1
	shift
	host_up --trace --impair loss=5%,delay=10 --seed 2 "$@"
	nsx curl -s -m 50 -o "$SMOKE_TMP/got-$mode.bin" -w '%{time_total}\n' http://10.0.0.2/bytes/2000000 \
		>"$SMOKE_TMP/curl-$mode" 2>&1
	"$TAPCTL" stats >"$SMOKE_TMP/stats-$mode" 2>&1
	cp -f "$TRACE" "$SMOKE_TMP/$mode.log"
	cp -f "$PCAP" "$SMOKE_TMP/$mode.pcap"
	host_down
}
stat_of() {
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$SMOKE_TMP/stats-$1"
}
tf() {
	local f=$1
	shift
	timeout -k 5 60 tshark -r "$SMOKE_TMP/$f.pcap" -n "$@" 2>/dev/null
}

# ---- 0. With SACK; 1. without
run sack
run nosack --no-sack
for m in sack nosack; do
	size=$(stat -c %s "$SMOKE_TMP/got-$m.bin" 2>/dev/null || echo 0)
	check_eq "0, 1: curl got 2000000 bytes ($m)" 2000000 "$size"
done
check "0, 1: the same bytes both times" cmp "$SMOKE_TMP/got-sack.bin" "$SMOKE_TMP/got-nosack.bin"

# ---- 0. With SACK
n=$(tf sack -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 1 && ip.src == 10.0.0.2 && tcp.option_kind == 4' | wc -l)
check_eq "Q1: the SYN-ACK carries SACK-permitted" 1 "$n"
n=$(tf sack -Y 'tcp.options.sack_le && ip.src == 10.0.0.1' | wc -l)
if [ "$n" -ge 10 ]; then ok "Q1: $n of the kernel's ACKs carry SACK blocks (the handout: 238)"; else bad "Q1: want SACK blocks in the kernel's ACKs, saw $n"; fi
n=$(tf sack -Y 'tcp.options.sack.count >= 2 && ip.src == 10.0.0.1' | wc -l)
if [ "$n" -ge 1 ]; then ok "Q1: $n ACKs carry two blocks or more"; else bad "Q1: no ACK with two SACK blocks"; fi
n=$(stat_of sack tcp.sack_blocks_rx)
if [ "$n" -ge 10 ]; then ok "Q8: tcp.sack_blocks_rx $n (the handout: 257)"; else bad "Q8: tcp.sack_blocks_rx is $n"; fi
check_grep "Q2: the trace's SACK recovery retransmits a hole" \
	'SACK recovery: retransmit hole seq [0-9]+ len [0-9]+ \(pipe [0-9]+ cwnd [0-9]+\)$' "$SMOKE_TMP/sack.log"
check_grep "Q2: fast retransmit enters SACK recovery" 'fast retransmit seq [0-9]+ \(.*SACK recovery to [0-9]+' "$SMOKE_TMP/sack.log"

# ---- 1. Without SACK
n=$(tf nosack -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == 10.0.0.1 && tcp.option_kind == 4' | wc -l)
check_eq "Q3: the kernel's SYN offers SACK-permitted" 1 "$n"
n=$(tf nosack -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 1 && ip.src == 10.0.0.2 && tcp.option_kind == 4' | wc -l)
check_eq "Q3: --no-sack: the SYN-ACK does not" 0 "$n"
n=$(tf nosack -Y 'tcp.options.sack_le' | wc -l)
check_eq "Q3: no SACK block in any segment" 0 "$n"
check_eq "Q3: tcp.sack_blocks_rx" 0 "$(stat_of nosack tcp.sack_blocks_rx)"
n=$(grep -c 'SACK recovery' "$SMOKE_TMP/nosack.log")
check_eq "Q3: no SACK recovery in the trace" 0 "$n"
check_grep "Q3: NewReno's partial ACK retransmits the next hole" \
	'partial ACK [0-9]+ \(recover [0-9]+\): retransmit seq [0-9]+, cwnd [0-9]+$' "$SMOKE_TMP/nosack.log"

# ---- 2. Compare: whole segments; the numbers
for m in sack nosack; do
	r=$(stat_of $m tcp.retransmits) b=$(stat_of $m tcp.retransmitted_bytes)
	if [ "$r" -ge 1 ] && [ "$b" -le $((r * 1449)) ] && [ "$b" -ge $((r * 1000)) ]; then
		ok "Q5: $m: $r retransmissions, $b bytes: whole segments (1448 each, a FIN 1)"
	else
		bad "Q5: $m: $r retransmissions of $b bytes, want about 1448 bytes each"
	fi
done
say "the two runs (not checked): with SACK $(cat "$SMOKE_TMP/curl-sack") s, $(stat_of sack tcp.retransmits) retransmissions, $(stat_of sack tcp.rto) RTOs, $(stat_of sack impair.loss) frames lost;" \
	"without $(cat "$SMOKE_TMP/curl-nosack") s, $(stat_of nosack tcp.retransmits), $(stat_of nosack tcp.rto), $(stat_of nosack impair.loss)"
check_grep "Q6: an RTO goes back to snd.una (go-back-N)" 'tp->snd\.nxt = tp->snd\.una;' tcp/tcp_timer.c
check_grep "Q3: --no-sack is a host flag" '"--no-sack", NULL, parse_no_sack' stack/host.c

# Every `file.c:function` the handout cites exists (check_tours.sh's rule).
missing=""
for ref in $(grep -oE '`[a-z0-9_]+(/[a-z0-9_]+)+\.[ch]:[A-Za-z_][A-Za-z0-9_]*`' "$HANDOUT" | tr -d '`' | sort -u); do
	file=${ref%%:*} fn=${ref##*:}
	grep -qE "^([a-z_][^;(]*[^A-Za-z0-9_])?$fn\(" "$file" 2>/dev/null || missing="$missing $ref"
done
n=$(grep -oE '`[a-z0-9_]+(/[a-z0-9_]+)+\.[ch]:[A-Za-z_][A-Za-z0-9_]*`' "$HANDOUT" | sort -u | wc -l)
if [ -z "$missing" ] && [ "$n" -ge 8 ]; then ok "the handout's $n file:function citations exist"; else bad "the handout cites what is not there:$missing ($n citations)"; fi

finish

#!/usr/bin/env bash
# labs/smoke/lab9.sh: Lab 9 (labs/lab9-flow-control.md) headless. Runs the
# handout's two transfers in a lab network of its own and checks the facts
# its questions rely on: the kernel's 40000 bytes reach a tapstack tcpcat
# that reads 1000 bytes every 250 ms intact (cmp, and the fnv64 the
# handout quotes), at the read rate; the SYNs' window scales (10 or so for
# the kernel, 0 for an 8192-byte buffer); the window shrinking to zero
# before it ever grows; the kernel's zero-window probes answered and
# counted; every window update at least min(MSS, buffer/2) (receiver SWS
# avoidance); then tapstack sending to tapstack: the same bytes at both
# ends, zero-window probes of one byte from the persist timer (in the
# sender's trace and tshark's analysis) and the probe bytes the receiver
# dropped; and that the functions and constants the handout cites are
# there. This tests tcpcat's --rcvbuf and --read-rate too.
# Needs root and /dev/net/tun (make labs-smoke runs it). About 30 s.
# shellcheck source=labs/smoke/lib.sh
source "$(dirname "$0")/lib.sh"

HANDOUT=labs/lab9-flow-control.md
PORT=5001

# The counters of a tcpcat host, by its control socket.
ccounter() {
	"$TAPCTL" --ctl "$1" stats 2>/dev/null | awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}

# ---- 0. Start the lab network (sudo labs/net up 3)
if timeout -k 5 60 labs/net up 3 >"$SMOKE_TMP/net-up.out" 2>&1; then
	ok "labs/net up 3 made namespace $NS"
else
	cat "$SMOKE_TMP/net-up.out"
	bad "labs/net up 3 failed"
	finish
fi

# ---- 1. A slow reader: the kernel's nc sends 40000 bytes
yes 0123456789abcdef | head -c 40000 >"$SMOKE_TMP/in.txt"
nsx "$BUILD/tcpcat" --tap tap1 --ip 10.0.0.3/24 --ctl "$RUN/tap1.ctl" --trace --pcap "$SMOKE_TMP/recv.pcap" \
	--rcvbuf 8192 --read-rate 1000/250 --listen "$PORT" --recv "$SMOKE_TMP/out.txt" \
	>"$SMOKE_TMP/recv.out" 2>"$SMOKE_TMP/recv.log" &
recv_pid=$!
wait_for "$SMOKE_TMP/recv.log" "tcp \*:$PORT CLOSED -> LISTEN" 50 || bad "1: tcpcat is not listening on $PORT"
nsx nc -N -w 30 10.0.0.3 "$PORT" <"$SMOKE_TMP/in.txt" >/dev/null 2>"$SMOKE_TMP/nc.err" &
nc_pid=$!
# the counters while the connection lives (the window closes in the first
# few ms; the probes come every 216 ms or so: give it 3 s)
sleep 3
oow=$(ccounter "$RUN/tap1.ctl" tcp.out_of_window)
"$TAPCTL" --ctl "$RUN/tap1.ctl" sockets >"$SMOKE_TMP/sockets1" 2>&1
wait "$nc_pid"
wait "$recv_pid"
check "1: the 40000 bytes arrive intact (cmp)" cmp "$SMOKE_TMP/in.txt" "$SMOKE_TMP/out.txt"
check_grep "1: tcpcat's fnv64 is the handout's" \
	'^sent 0 bytes fnv64 cbf29ce484222325, received 40000 bytes fnv64 b886c912e3f52f7d$' "$SMOKE_TMP/recv.out"
check_grep "Q1: tapctl sockets shows the connection, rcv_wnd in its details" \
	"^ESTABLISHED +[0-9]+ +0 +10\.0\.0\.3:$PORT .* rcv_wnd [0-9]+ " "$SMOKE_TMP/sockets1"
rate=$(sed -nE 's/^read 40000 bytes in [0-9.]+ s: ([0-9]+) bytes\/s \(--read-rate 1000\/250 allows 4000\)$/\1/p' "$SMOKE_TMP/recv.out")
# the reader never reads faster than its rate; the window keeps it busy,
# so it reads at that rate (turns are scheduled on the host's clock: a late
# turn only lowers it)
if [ -n "$rate" ] && [ "$rate" -le 4040 ] && [ "$rate" -ge 3600 ]; then
	ok "Q8: tcpcat read at $rate bytes/s (the handout: 4000)"
else
	bad "Q8: want tcpcat's 'read 40000 bytes in ... 4000 bytes/s' (3600-4040); saw '$(tail -n 1 "$SMOKE_TMP/recv.out")'"
fi

# ---- 2. The window in the handshake
tf() {
	timeout -k 5 60 tshark -r "$SMOKE_TMP/recv.pcap" -n "$@" 2>/dev/null
}
k_shift=$(tf -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == 10.0.0.1" -T fields -e tcp.options.wscale.shift | head -n 1)
t_syn=$(tf -Y "tcp.flags.syn == 1 && tcp.flags.ack == 1 && ip.src == 10.0.0.3" -T fields \
	-e tcp.window_size_value -e tcp.options.wscale.shift | head -n 1 | tr '\t' ' ')
if [ -n "$k_shift" ] && [ "$k_shift" -gt 0 ]; then ok "Q2: the kernel's SYN offers window scale $k_shift (the handout's run: 10)"; else bad "Q2: the kernel's SYN has no window scale: '$k_shift'"; fi
check_eq "Q2: tapstack's SYN-ACK: window 8192, scale 0" "8192 0" "$t_syn"
# frame 11: the kernel's raw window times 2^shift is the scaled one
raw_scaled=$(tf -Y "ip.src == 10.0.0.1 && tcp.flags.syn == 0" -T fields -e tcp.window_size_value -e tcp.window_size | head -n 1)
raw=${raw_scaled%%	*}
scaled=${raw_scaled##*	}
if [ -n "$raw" ] && [ -n "$k_shift" ] && [ "$scaled" = $((raw << k_shift)) ] && [ "$raw" -lt 65535 ]; then
	ok "Q2: the kernel's first ACK: raw $raw, scaled $scaled (raw << $k_shift)"
else
	bad "Q2: want the kernel's window raw << shift = scaled; saw '$raw_scaled' shift '$k_shift'"
fi
check_cites "Q2: tcp_choose_wscale, tcp_tx" tcp/tcp_output.c tcp_choose_wscale tcp_tx
check_grep "Q2: TCP_DEFAULT_RCVBUF is 4 MB" '#define TCP_DEFAULT_RCVBUF \(4 \* 1024 \* 1024\)' tcp/tcp.h

# ---- 3. The window closes
grep -E "tx TCP 10\.0\.0\.3:$PORT -> " "$SMOKE_TMP/recv.log" | sed -nE 's/.* win ([0-9]+) len .*/\1/p' >"$SMOKE_TMP/wins"
# after the SYN-ACK's 8192: down to 0 without growing
shrink=$(awk 'NR == 1 { next } { print; if ($1 == 0) exit }' "$SMOKE_TMP/wins" | tr '\n' ' ')
if awk -v s="$shrink" 'BEGIN { n = split(s, w, " "); if (n < 2 || w[n] != 0) exit 1
	for (i = 2; i <= n; i++) if (w[i] > w[i - 1]) exit 1; exit 0 }'; then
	ok "Q3: the window shrinks to zero before it grows: $shrink(the handout: 5296 2400 0)"
else
	bad "Q3: want the windows after the SYN-ACK to fall to 0 without growing; saw '$shrink'"
fi
n=$(tf -Y "tcp.analysis.zero_window && ip.src == 10.0.0.3" | wc -l)
if [ "$n" -ge 5 ]; then ok "Q3: tshark's TCP ZeroWindow from the receiver: $n (the handout: 32)"; else bad "Q3: tshark finds $n zero windows from the receiver"; fi
n=$(tf -Y "tcp.analysis.window_full && ip.src == 10.0.0.1" | wc -l)
if [ "$n" -ge 1 ]; then ok "Q4: tshark's TCP Window Full from the kernel: $n"; else bad "Q4: no TCP Window Full from the kernel"; fi
check_cites "Q3: tcp_rcv_window" tcp/tcp_output.c tcp_rcv_window
check_cites "Q4: tcp_delay_ack" tcp/tcp_reass.c tcp_delay_ack
check_grep "Q4: TCP_DELACK_US is 40 ms" '#define TCP_DELACK_US 40000 ' tcp/tcp.h

# ---- 4. The kernel's zero-window probes
n=$(tf -Y "tcp.analysis.keep_alive && ip.src == 10.0.0.1 && tcp.len == 0" | wc -l)
if [ "$n" -ge 3 ]; then ok "Q5: the kernel probes the zero window ($n segments tshark calls keep-alives)"; else bad "Q5: want the kernel's probes (keep-alives to tshark), saw $n"; fi
line=$(grep -E -m 1 'drop tcp\.out_of_window .* len 0 \(rcv_nxt [0-9]+ wnd 0\)$' "$SMOKE_TMP/recv.log")
seq=$(echo "$line" | sed -nE 's/.* seq ([0-9]+) len 0 \(rcv_nxt ([0-9]+) wnd 0\)$/\1 \2/p')
if [ -n "$seq" ] && [ $((${seq#* } - ${seq% *})) -eq 1 ]; then
	ok "Q5: a probe is one below rcv_nxt, empty, dropped and answered: ${line#* }"
else
	bad "Q5: want a 'drop tcp.out_of_window ... seq N-1 len 0 (rcv_nxt N wnd 0)' line; saw '$line'"
fi
if [ "$oow" -ge 1 ]; then ok "Q5: tcp.out_of_window counted $oow in 3 s"; else bad "Q5: tcp.out_of_window did not move"; fi
check_cites "Q5: tcp_check_seq" tcp/tcp_input.c tcp_check_seq
check_cites "Q5: tcp_send_keepalive" tcp/tcp_output.c tcp_send_keepalive

# ---- 5. The window opens: receiver SWS avoidance, min(MSS, buffer/2)
ups=$(tf -Y "tcp.analysis.window_update && ip.src == 10.0.0.3" -T fields -e tcp.window_size | sort -n | uniq -c |
	awk '{ printf "%s x %s, ", $1, $2 }')
small=$(tf -Y "tcp.analysis.window_update && ip.src == 10.0.0.3 && tcp.window_size < 1460" | wc -l)
if [ -n "$ups" ] && [ "$small" -eq 0 ]; then
	ok "Q7: every window update opens by at least min(1460, 4096): $ups"
else
	bad "Q7: window updates under 1460 bytes: $small ($ups)"
fi
check_grep "Q7: the handout's updates of 2000 are there" 'tx TCP .* win 2000 len 0$' "$SMOKE_TMP/recv.log"
check_cites "Q7: tcp_window_update" tcp/tcp_socket.c tcp_window_update

# ---- 6. tapstack sends to tapstack: sender SWS, the persist timer's probes
nsx "$BUILD/tcpcat" --tap tap2 --ip 10.0.0.4/24 --ctl "$RUN/tap2.ctl" --trace --send-bytes 20000 \
	--listen "$PORT" >"$SMOKE_TMP/send.out" 2>"$SMOKE_TMP/send.log" &
send_pid=$!
wait_for "$SMOKE_TMP/send.log" "tcp \*:$PORT CLOSED -> LISTEN" 50 || bad "6: the sender is not listening on $PORT"
nsx "$BUILD/tcpcat" --tap tap1 --ip 10.0.0.3/24 --ctl "$RUN/tap1.ctl" --trace --pcap "$SMOKE_TMP/recv2.pcap" \
	--rcvbuf 8192 --read-rate 4000/2000 10.0.0.4 "$PORT" >"$SMOKE_TMP/recv2.out" 2>"$SMOKE_TMP/recv2.log" &
recv_pid=$!
# the counters while both run: the first probes go about 1 s after the start
for ((i = 0; i < 60; i++)); do
	grep -q 'zero window probe' "$SMOKE_TMP/send.log" 2>/dev/null && break
	sleep 0.1
done
sleep 0.3
probes=$(ccounter "$RUN/tap2.ctl" tcp.window_probes)
zwb=$(ccounter "$RUN/tap1.ctl" tcp.rcv_zero_window_bytes)
wait "$recv_pid"
wait "$send_pid"
s=$(sed -nE 's/^sent 20000 bytes fnv64 ([0-9a-f]+), received 0 bytes.*/\1/p' "$SMOKE_TMP/send.out")
r=$(sed -nE 's/^sent 0 bytes fnv64 [0-9a-f]+, received 20000 bytes fnv64 ([0-9a-f]+)$/\1/p' "$SMOKE_TMP/recv2.out")
check_eq "6: 20000 bytes, the same fnv64 at both ends (the handout's)" "5029f3aeea396fa5 5029f3aeea396fa5" "$s $r"
check_grep "Q12: the reader read at 2000 bytes/s" \
	'^read 20000 bytes in [0-9.]+ s: (19[89][0-9]|20[0-1][0-9]) bytes/s \(--read-rate 4000/2000 allows 2000\)$' "$SMOKE_TMP/recv2.out"
n=$(grep -cE 'zero window probe seq [0-9]+ \(backoff [0-9]+\)$' "$SMOKE_TMP/send.log")
if [ "$n" -ge 2 ]; then ok "Q11: the sender's trace has $n zero window probes (the handout: 4)"; else bad "Q11: want zero window probes in the sender's trace, saw $n"; fi
check_in_order "Q11: a probe is one byte, answered with window 0" "$SMOKE_TMP/send.log" \
	'zero window probe seq [0-9]+ \(backoff 0\)$' \
	"tx TCP 10\.0\.0\.4:$PORT -> 10\.0\.0\.3:[0-9]+ \[ACK\] seq [0-9]+ ack 1 win [0-9]+ len 1$" \
	"rx TCP 10\.0\.0\.3:[0-9]+ -> 10\.0\.0\.4:$PORT \[ACK\] seq 1 ack [0-9]+ win 0 len 0$"
n=$(timeout -k 5 60 tshark -r "$SMOKE_TMP/recv2.pcap" -n -Y 'tcp.analysis.zero_window_probe && tcp.len == 1' 2>/dev/null | wc -l)
if [ "$n" -ge 2 ]; then ok "Q11: tshark calls $n of the sender's segments TCP ZeroWindowProbe"; else bad "Q11: tshark finds $n zero-window probes"; fi
if [ "$probes" -ge 1 ]; then ok "6: tcp.window_probes on the sender: $probes"; else bad "6: tcp.window_probes on the sender is $probes"; fi
if [ "$zwb" -ge 1 ]; then ok "Q11: tcp.rcv_zero_window_bytes on the receiver: $zwb"; else bad "Q11: tcp.rcv_zero_window_bytes on the receiver is $zwb"; fi
# Q10: a window smaller than a segment is held until the persist timer's override
line=$(grep -E "tx TCP 10\.0\.0\.4:$PORT -> .* len ([1-9]|[1-9][0-9]|[1-9][0-9][0-9]|1[0-3][0-9][0-9]|14[0-3][0-9])$" "$SMOKE_TMP/send.log" |
	grep -v ' len 1$' | grep -v FIN | head -n 1)
if [ -n "$line" ]; then ok "Q10: a part of a segment, sent when the persist timer fired: ${line# *}"; else bad "Q10: no segment shorter than 1440 bytes from the sender"; fi
check_cites "Q10, Q11: the sender's rules and timers" tcp/tcp_output.c tcp_send_allowed tcp_persist_probe tcp_persist_interval
check_cites "Q11: the timer" tcp/tcp_timer.c tcp_timer_fire
check_grep "Q11: TCP_PERSIST_MIN_US is 0.5 s" '#define TCP_PERSIST_MIN_US 500000 ' tcp/tcp.h
check_grep "Q11: TCP_PERSIST_MAX_US is 60 s" '#define TCP_PERSIST_MAX_US 60000000' tcp/tcp.h
check_grep "Q11: tcp.persist_timeout" 'tcp\.persist_timeout' tcp/tcp_output.c

# Every `file.c:function` the handout cites exists (check_tours.sh's rule).
missing=""
for ref in $(grep -oE '`[a-z0-9_]+(/[a-z0-9_]+)+\.[ch]:[A-Za-z_][A-Za-z0-9_]*`' "$HANDOUT" | tr -d '`' | sort -u); do
	file=${ref%%:*} fn=${ref##*:}
	grep -qE "^([a-z_][^;(]*[^A-Za-z0-9_])?$fn\(" "$file" 2>/dev/null || missing="$missing $ref"
done
n=$(grep -oE '`[a-z0-9_]+(/[a-z0-9_]+)+\.[ch]:[A-Za-z_][A-Za-z0-9_]*`' "$HANDOUT" | sort -u | wc -l)
if [ -z "$missing" ] && [ "$n" -ge 10 ]; then ok "the handout's $n file:function citations exist"; else bad "the handout cites what is not there:$missing ($n citations)"; fi

finish

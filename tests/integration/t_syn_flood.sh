#!/usr/bin/env bash
# A spoofed SYN flood (hping3 --flood --rand-source, bounded to 5 s) at the
# host's web server fills its SYN queue (--syn-backlog 64), and from then on
# the host answers SYNs with cookies (RFC 4987 3.6) and keeps no state for
# them; meanwhile curl from the lab namespace still gets its page, several
# times during the flood, through a cookie. tapctl shows the SYN queue and
# the counters.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is missing (sudo make deps installs it)"
command -v hping3 >/dev/null || fail "hping3 is missing (sudo make deps installs it)"

# No --trace nor --pcap: a line and a frame per spoofed SYN is not the point.
host_start_bulk --serve http --syn-backlog 64

get() {
	nsx curl -s --max-time 2 -o "$TMP/page" -w '%{http_code}' "http://$HOST_IP/bytes/100" 2>/dev/null
}
[ "$(get)" = 200 ] || fail "curl before the flood: no 200"
ok "curl before the flood: 200"

# The flood: at most 5 s (timeout), killed by its PID at the end if still
# there. `ip netns exec` execs, so $! is timeout's own PID.
ip netns exec "$NS" timeout 5 hping3 -q -S --flood --rand-source -p 80 "$HOST_IP" \
	>"$TMP/hping3.log" 2>&1 &
FLOOD_PID=$!
wait_until 3 sh -c "[ \"\$($TAPCTL --ctl $CTL stats | awk '\$1 == \"tcp.syn_queue_full\" { print \$2 }')\" -gt 0 ] 2>/dev/null" ||
	fail "the flood did not fill the SYN queue within 3 s"
ok "the flood filled the SYN queue"

good=0
tries=0
while kill -0 "$FLOOD_PID" 2>/dev/null && [ "$tries" -lt 4 ]; do
	tries=$((tries + 1))
	code=$(get) || true
	echo "curl during the flood ($tries): ${code:-none}"
	if [ "$code" = 200 ] && [ "$(wc -c <"$TMP/page")" -eq 100 ]; then
		good=$((good + 1))
	fi
done
flood_running=0
kill -0 "$FLOOD_PID" 2>/dev/null && flood_running=1
kill -TERM "$FLOOD_PID" 2>/dev/null || true
wait "$FLOOD_PID" 2>/dev/null || true
[ "$flood_running" -eq 1 ] || echo "note: the flood ended before the last curl"

"$TAPCTL" --ctl "$CTL" stats | grep -E '^tcp\.(syn|passive|listen_overflow|tcb)' || true
[ "$tries" -ge 2 ] || fail "only $tries curl(s) ran during the flood"
[ "$good" -eq "$tries" ] || fail "$good of $tries curls during the flood got their 100 bytes"
ok "$good curls during the flood, each 200 with its 100 bytes"

sent=$(stat_get tcp.syncookies_sent)
okc=$(stat_get tcp.syncookies_ok)
q=$(stat_get tcp.syn_queue)
lim=$(stat_get tcp.syn_queue_limit)
[ "$sent" -gt 1000 ] || fail "tcp.syncookies_sent is $sent, want the flood answered with cookies"
[ "$okc" -ge "$good" ] || fail "tcp.syncookies_ok is $okc, want each curl's handshake by a cookie"
[ "$lim" -eq 64 ] && [ "$q" -le "$lim" ] || fail "SYN queue $q of $lim, want at most 64"
ok "cookies: $sent sent, $okc completed; SYN queue $q of $lim"

[ "$(get)" = 200 ] || fail "curl after the flood: no 200"
ok "curl after the flood: 200"
host_stop

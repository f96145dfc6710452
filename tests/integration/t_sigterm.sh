#!/usr/bin/env bash
# Stopping: SIGTERM and SIGINT make the host exit 0 with its pcap complete
# and readable, its control socket gone.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

host_start
nsx ping -n -c 3 -i 0.1 -W 2 "$HOST_IP" >/dev/null || fail "ping -c 3 lost replies"
host_stop
ok "SIGTERM: exit status 0"
n=$(tshark -n -r "$PCAP" -Y icmp 2>"$TMP/tshark.err" | wc -l)
tshark -n -r "$PCAP" >/dev/null 2>&1 || fail "tshark cannot read the pcap after SIGTERM"
[ "$n" -ge 6 ] || fail "the pcap holds $n ICMP frames after SIGTERM, want 6"
ok "pcap readable after SIGTERM: $n ICMP frames"
check_pcap "$PCAP"
if [ -e "$CTL" ]; then echo "note: the control socket $CTL is still there after exit"; fi

# The same with SIGINT (Ctrl-C), on a fresh pcap.
rm -f "$PCAP"
host_spawn --tap tap0 --ip "$HOST_IP/24" --gw "$GW_IP" --mac "$HOST_MAC" \
	--pcap "$PCAP" --ctl "$CTL" --trace
nsx ping -n -c 2 -i 0.1 -W 2 "$HOST_IP" >/dev/null || fail "ping -c 2 lost replies"
kill -INT "$HOST_PID"
for _ in $(seq 50); do kill -0 "$HOST_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$HOST_PID" 2>/dev/null && fail "tapstack still runs 5 s after SIGINT"
wait "$HOST_PID" && rc=0 || rc=$?
HOST_PID=
[ "$rc" -eq 0 ] || fail "tapstack exited with status $rc on SIGINT (want 0)"
ok "SIGINT: exit status 0"
tshark -n -r "$PCAP" >/dev/null 2>&1 || fail "tshark cannot read the pcap after SIGINT"
ok "pcap readable after SIGINT"

#!/usr/bin/env bash
# Unmodified programs over tapstack (issue 16): build/tapstack-run gives
# curl, python3's http.server and nc a tapstack host of their own on tap0
# (10.0.0.2), and the kernel (10.0.0.1) talks to them:
#   curl over tapstack fetches 1 MB from busybox httpd on the kernel's side;
#   the kernel's curl fetches 1 MB from python3 -m http.server over tapstack,
#   then 4 x 1 MB at once (python's threads);
#   nc -l over tapstack receives 1 MB from the kernel's nc, and nc over
#   tapstack sends 1 MB to the kernel's nc -l;
#   curl over tapstack's IPv6 fetches 1 MB from busybox httpd on [fd00::1].
# Each byte-exact (cmp), and each run's pcap of tap0 holds the transfer: the
# bytes went through tapstack, not the kernel's own sockets.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
RUN=$BUILD/tapstack-run
[ -x "$RUN" ] && [ -f "$BUILD/libtapstack_preload.so" ] ||
	fail "tapstack-run or its shim is not built (make apps)"
for t in curl nc busybox python3 tshark; do
	command -v "$t" >/dev/null || fail "$t is missing (sudo make deps)"
done
# The interpreter itself, not a wrapper script (pyenv's shims are bash): the
# host opens in the first process that makes a socket, which must be python.
PY=$(python3 -c 'import sys; print(sys.executable)')

"$NET" up 1 >/dev/null
WWW=$TMP/www
mkdir -p "$WWW"
head -c 1M /dev/urandom >"$WWW/big.bin"

# run_flags N: the host flags of the Nth run (a pcap of its own).
run_flags() {
	printf -- '--tap tap0 --ip %s/24 --gw %s --mac %s --ctl %s --seed 1 --pcap %s' \
		"$HOST_IP" "$GW_IP" "$HOST_MAC" "$CTL" "$TMP/run$1.pcap"
}

# tcp_frames N PORT: frames of run N's pcap with TCP payload on PORT.
tcp_frames() {
	tshark -n -r "$TMP/run$1.pcap" -Y "tcp.port == $2 && tcp.len > 0" 2>/dev/null | wc -l
}

# 1. curl over tapstack, busybox httpd on the kernel's side
ip netns exec "$NS" busybox httpd -f -p "$GW_IP:8080" -h "$WWW" &
BB_PID=$!
wait_until 5 nsx curl -s -o /dev/null "http://$GW_IP:8080/big.bin" || fail "busybox httpd did not start"
# shellcheck disable=SC2046 # split on purpose
nsx timeout 30 "$RUN" $(run_flags 1) -- curl -sS -o "$TMP/got1" "http://$GW_IP:8080/big.bin" \
	2>"$TMP/run1.log" || { cat "$TMP/run1.log"; fail "curl over tapstack failed"; }
cmp -s "$WWW/big.bin" "$TMP/got1" || fail "curl over tapstack: the 1 MB differ ($(stat -c %s "$TMP/got1") bytes)"
n=$(tcp_frames 1 8080)
[ "$n" -gt 0 ] || fail "curl's bytes are not in tap0's pcap: not through tapstack"
ok "curl over tapstack fetched 1 MB from the kernel's busybox httpd, equal ($n data frames on tap0)"
kill "$BB_PID"
check_pcap "$TMP/run1.pcap"

# 2. python3 -m http.server over tapstack, the kernel's curl
# shellcheck disable=SC2046 # split on purpose
ip netns exec "$NS" "$RUN" $(run_flags 2) -- "$PY" -m http.server 8000 --bind 0.0.0.0 \
	--directory "$WWW" </dev/null >"$TMP/py.log" 2>&1 &
PY_PID=$!
wait_until 10 nsx curl -s -o /dev/null --max-time 2 "http://$HOST_IP:8000/" ||
	{ cat "$TMP/py.log"; fail "python3 http.server over tapstack does not answer"; }
nsx curl -sS --max-time 30 -o "$TMP/got2" "http://$HOST_IP:8000/big.bin" ||
	{ cat "$TMP/py.log"; fail "the kernel's curl from python over tapstack failed"; }
cmp -s "$WWW/big.bin" "$TMP/got2" || fail "python over tapstack: the 1 MB differ ($(stat -c %s "$TMP/got2") bytes)"
ok "the kernel's curl fetched 1 MB from python3 -m http.server over tapstack, equal"
# four at once: ThreadingHTTPServer serves each in a thread of its own, so
# the shim's lock is taken from five threads and the loop's
pids=()
for i in 1 2 3 4; do
	ip netns exec "$NS" curl -sS --max-time 30 -o "$TMP/par$i" "http://$HOST_IP:8000/big.bin" &
	pids+=($!)
done
for i in 1 2 3 4; do
	wait "${pids[$((i - 1))]}" || fail "parallel fetch $i from python over tapstack failed"
	cmp -s "$WWW/big.bin" "$TMP/par$i" || fail "parallel fetch $i: the 1 MB differ"
done
ok "four fetches at once from python3's threads over tapstack, each equal"
kill -TERM "$PY_PID"
wait "$PY_PID" 2>/dev/null || true
[ "$(tcp_frames 2 8000)" -gt 0 ] || fail "python's bytes are not in tap0's pcap"

# 3. nc -l over tapstack receives from the kernel's nc
# shellcheck disable=SC2046 # split on purpose
ip netns exec "$NS" timeout 30 "$RUN" $(run_flags 3) -- nc -l 9000 >"$TMP/got3" 2>"$TMP/run3.log" &
NC_PID=$!
# its listener is tapstack's, not the kernel's: ask the host
wait_until 10 sh -c "'$TAPCTL' --ctl '$CTL' sockets 2>/dev/null | grep -q 'LISTEN.*:9000'" ||
	{ cat "$TMP/run3.log"; fail "nc -l over tapstack does not listen"; }
nsx timeout 30 nc -N "$HOST_IP" 9000 <"$WWW/big.bin" || fail "the kernel's nc could not send to nc over tapstack"
wait "$NC_PID" || { cat "$TMP/run3.log"; fail "nc -l over tapstack exited with an error"; }
cmp -s "$WWW/big.bin" "$TMP/got3" || fail "nc -l over tapstack: the 1 MB differ ($(stat -c %s "$TMP/got3") bytes)"
ok "nc -l over tapstack received 1 MB from the kernel's nc, equal"

# 4. nc over tapstack sends to the kernel's nc -l
ip netns exec "$NS" timeout 30 nc -l "$GW_IP" 9001 >"$TMP/got4" &
KNC_PID=$!
wait_until 5 sh -c "ip netns exec '$NS' ss -ltn | grep -q ':9001 '" || fail "the kernel's nc -l did not start"
# shellcheck disable=SC2046 # split on purpose
nsx timeout 30 "$RUN" $(run_flags 4) -- nc -N "$GW_IP" 9001 <"$WWW/big.bin" 2>"$TMP/run4.log" ||
	{ cat "$TMP/run4.log"; fail "nc over tapstack failed"; }
wait "$KNC_PID" || fail "the kernel's nc -l exited with an error"
cmp -s "$WWW/big.bin" "$TMP/got4" || fail "nc over tapstack: the 1 MB differ ($(stat -c %s "$TMP/got4") bytes)"
[ "$(tcp_frames 4 9001)" -gt 0 ] || fail "nc's bytes are not in tap0's pcap"
ok "nc over tapstack sent 1 MB to the kernel's nc -l, equal"

# 5. curl over tapstack's IPv6 (--ip6), busybox httpd on [fd00::1]: the
# first connect waits for duplicate address detection (the host is new)
ip netns exec "$NS" busybox httpd -f -p "[fd00::1]:8081" -h "$WWW" &
BB6_PID=$!
wait_until 5 nsx curl -s -g -o /dev/null "http://[fd00::1]:8081/big.bin" || fail "busybox httpd on IPv6 did not start"
# shellcheck disable=SC2046 # split on purpose
nsx timeout 30 "$RUN" $(run_flags 5) --ip6 fd00::2/64 -- curl -sS -g -o "$TMP/got5" \
	"http://[fd00::1]:8081/big.bin" 2>"$TMP/run5.log" || { cat "$TMP/run5.log"; fail "curl over tapstack's IPv6 failed"; }
cmp -s "$WWW/big.bin" "$TMP/got5" || fail "curl over IPv6: the 1 MB differ ($(stat -c %s "$TMP/got5") bytes)"
n=$(tshark -n -r "$TMP/run5.pcap" -Y "ipv6 && tcp.port == 8081 && tcp.len > 0" 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || fail "curl's IPv6 bytes are not in tap0's pcap"
ok "curl over tapstack's IPv6 fetched 1 MB from the kernel's busybox httpd, equal ($n data frames)"
kill "$BB6_PID"

# 6. a program that writes and exits at once: its last bytes are still in
# tapstack's send buffer; the shim's exit runs the host until they and the
# FIN are acknowledged, as the kernel would after the process is gone
ip netns exec "$NS" timeout 30 nc -l "$GW_IP" 9002 >"$TMP/got6" &
KNC_PID=$!
wait_until 5 sh -c "ip netns exec '$NS' ss -ltn | grep -q ':9002 '" || fail "the kernel's nc -l did not start"
# shellcheck disable=SC2046 # split on purpose
nsx timeout 30 "$RUN" $(run_flags 6) -- "$PY" -c "
import ctypes, socket
s = socket.create_connection(('$GW_IP', 9002))
s.sendall(open('$WWW/big.bin', 'rb').read())
ctypes.CDLL(None).exit(0)  # libc's exit(3) now: no close, the data in flight
" 2>"$TMP/run6.log" || { cat "$TMP/run6.log"; fail "python's send-and-exit over tapstack failed"; }
wait "$KNC_PID" || fail "the kernel's nc -l exited with an error"
cmp -s "$WWW/big.bin" "$TMP/got6" || fail "send and exit: the 1 MB differ ($(stat -c %s "$TMP/got6") bytes)"
ok "a program that sends 1 MB and exits at once: every byte arrives (the host lingers at exit)"

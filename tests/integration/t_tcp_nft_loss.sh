#!/usr/bin/env bash
# TCP through a lossy link: nftables rules inside the test's namespace drop
# 5% of the IPv4 frames between the kernel and the stack hosts, each way, at
# random (bridge family: frames from tap0/tap1 to the kernel, and from the
# kernel to them). Meanwhile 100 MB must arrive byte-exact each way:
#   stack -> kernel: 100 MB of the host's chargen (10.0.0.2), compared with
#                    the RFC 864 pattern made here;
#   kernel -> stack: 100 MB of random bytes from nc to tcpcat --listen
#                    (10.0.0.3), sha256 of what tcpcat wrote = of what nc read.
# Each direction has TCP_LOSS_LIMIT seconds (default 120); both are run even
# if the first fails. The rules' counters prove frames were dropped, the
# hosts' counters that they recovered. No pcap or trace (hundreds of MB).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"
command -v nft >/dev/null || fail "nft is missing (sudo make deps installs nftables)"
TCPCAT=$BUILD/tcpcat
[ -x "$TCPCAT" ] || fail "$TCPCAT is not built (make apps)"

MB=${TCP_LOSS_MB:-100}
SIZE=$((MB * 1024 * 1024))
LOSS=5 # percent, each way
LIMIT=${TCP_LOSS_LIMIT:-120}
# Extra flags for the stack hosts, e.g. a lower minimum RTO once there is one.
# shellcheck disable=SC2206 # split on purpose
EXTRA=(${TCP_LOSS_HOST_FLAGS:-})

"$NET" up 2 >/dev/null
host_start_bulk "${EXTRA[@]}"
chargen_ref 0

# The rules: only IPv4 (ARP goes through), only on the stack hosts' ports.
nsx nft -f - <<NFT || fail "nft refused the loss rules"
table bridge tst_loss {
	chain to_kernel {
		type filter hook input priority 0; policy accept;
		iifname { "tap0", "tap1" } ether type ip numgen random mod 100 < $LOSS counter drop
	}
	chain to_stack {
		type filter hook output priority 0; policy accept;
		oifname { "tap0", "tap1" } ether type ip numgen random mod 100 < $LOSS counter drop
	}
}
NFT

# dropped CHAIN: packets the chain's rule dropped so far.
dropped() {
	nsx nft list chain bridge tst_loss "$1" | sed -nE 's/.*counter packets ([0-9]+) .*/\1/p'
}
failures=()

# --- stack -> kernel: chargen, cmp with the pattern (cmp names the first
# byte that differs, or where the stream ended short).
start=$(now_ms)
why=$(cmp <(chargen_ref "$SIZE") \
	<(nsx timeout "$LIMIT" nc -d -n "$HOST_IP" 19 2>"$TMP/nc.err" | head -c "$SIZE") 2>&1) || true
ms=$(($(now_ms) - start))
show_host
if [ -z "$why" ]; then
	ok "stack -> kernel through $LOSS% loss: $MB MB of chargen, byte-exact ($(rate "$SIZE" "$ms"))"
	retrans=$(stat_get tcp.retransmits)
	[ "$retrans" -gt 0 ] || failures+=("the host lost frames but tcp.retransmits is $retrans")
else
	echo "FAIL (stack -> kernel): $why, after $((ms / 1000)) s (limit $LIMIT s)"
	failures+=("stack -> kernel: $MB MB of chargen not received byte-exact within $LIMIT s: $why")
fi
echo "frames dropped by nft so far: $(dropped to_kernel) from the stacks, $(dropped to_stack) to them"

# --- kernel -> stack: nc sends random bytes to tcpcat --listen, which writes
# them into a FIFO that sha256sum reads; the source is hashed on its way out.
mkfifo "$TMP/in.fifo" "$TMP/recv.fifo"
sha256sum <"$TMP/recv.fifo" >"$TMP/recv.sum" &
RECV_SUM_PID=$!
# shellcheck disable=SC2046 # split on purpose
ip netns exec "$NS" timeout $((LIMIT + 10)) "$TCPCAT" $(host_flags 1) "${EXTRA[@]}" \
	--listen 5001 --recv "$TMP/recv.fifo" >"$TMP/listen.out" 2>"$TMP/listen.err" &
LISTEN_PID=$!
listening() {
	"$TAPCTL" --ctl "$TMP/tap1.ctl" sockets 2>/dev/null | grep -Eq "^LISTEN .*:5001 "
}
wait_until 5 listening || fail "tcpcat --listen 5001 is not listening ($(cat "$TMP/listen.err"))"
sha256sum <"$TMP/in.fifo" >"$TMP/in.sum" &
IN_SUM_PID=$!
start=$(now_ms)
head -c "$SIZE" /dev/urandom | tee "$TMP/in.fifo" |
	nsx timeout "$LIMIT" nc -N -n 10.0.0.3 5001 >/dev/null 2>"$TMP/nc.err" && rc=0 || rc=$?
ms=$(($(now_ms) - start))
wait "$IN_SUM_PID" || true
listener_gone() {
	! kill -0 "$LISTEN_PID" 2>/dev/null
}
wait_until 10 listener_gone || kill -TERM "$LISTEN_PID" 2>/dev/null || true
wait "$LISTEN_PID" && lrc=0 || lrc=$?
wait "$RECV_SUM_PID" || true
cat "$TMP/listen.out" "$TMP/listen.err"
got=$(sed -nE 's/.*received ([0-9]+) bytes.*/\1/p' "$TMP/listen.out")
got=${got:-0}
sent_sum=$(cut -d' ' -f1 "$TMP/in.sum")
recv_sum=$(cut -d' ' -f1 "$TMP/recv.sum")
if [ "$rc" -eq 0 ] && [ "$lrc" -eq 0 ] && [ "$got" -eq "$SIZE" ] && [ "$sent_sum" = "$recv_sum" ]; then
	ok "kernel -> stack through $LOSS% loss: $MB MB to tcpcat, sha256 equal ($(rate "$SIZE" "$ms"))"
else
	echo "FAIL (kernel -> stack): nc status $rc, tcpcat status $lrc, $got of $SIZE bytes," \
		"after $((ms / 1000)) s (limit $LIMIT s) $(cat "$TMP/nc.err")"
	failures+=("kernel -> stack: $got of $SIZE bytes, sha256 ${recv_sum:0:12} vs ${sent_sum:0:12}")
fi

to_kernel=$(dropped to_kernel)
to_stack=$(dropped to_stack)
echo "frames dropped by nft: $to_kernel from the stacks, $to_stack to them"
[ "$to_kernel" -gt 0 ] && [ "$to_stack" -gt 0 ] ||
	failures+=("nft dropped $to_kernel frames from the stacks and $to_stack to them: no loss happened")

if [ "${#failures[@]}" -gt 0 ]; then
	printf 'FAIL: %s\n' "${failures[@]}" >&2
	fail "${#failures[@]} of the checks above failed"
fi
ok "both directions byte-exact through $LOSS% loss; the rules dropped $to_kernel + $to_stack frames"

gone() {
	[ -z "$(sockets | grep -F " $GW_IP:" || true)" ]
}
# The rules are still on: the close may take a retransmission.
wait_until 15 gone || { show_host; fail "the host lists the connection 15 s after the transfer"; }
nsx nft delete table bridge tst_loss
host_stop

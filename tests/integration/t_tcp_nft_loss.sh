#!/usr/bin/env bash
# TCP through a lossy link: nftables rules inside the test's namespace drop
# 5% of the IPv4 frames between the kernel and the host, each way, at
# random (bridge family: frames from tap0 to the kernel, and from the kernel
# to tap0), while 100 MB of random bytes go through the host's echo and come
# back byte-exact (sha256). The rules' counters prove that frames were
# dropped, the host's counters that it retransmitted. No pcap or trace:
# hundreds of MB; the smaller tests check the captures.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"
command -v nft >/dev/null || fail "nft is missing (sudo make deps installs nftables)"

MB=${TCP_LOSS_MB:-100}
SIZE=$((MB * 1024 * 1024))
LOSS=5 # percent, each way
LIMIT=${TCP_LOSS_LIMIT:-240}

host_start_bulk

# The rules: only IPv4 (ARP goes through), only on tap0's port of the bridge.
nsx nft -f - <<NFT || fail "nft refused the loss rules"
table bridge tst_loss {
	chain to_kernel {
		type filter hook input priority 0; policy accept;
		iifname "tap0" ether type ip numgen random mod 100 < $LOSS counter drop
	}
	chain to_stack {
		type filter hook output priority 0; policy accept;
		oifname "tap0" ether type ip numgen random mod 100 < $LOSS counter drop
	}
}
NFT
nsx nft list table bridge tst_loss

# dropped CHAIN: packets the chain's rule dropped so far.
dropped() {
	nsx nft list chain bridge tst_loss "$1" |
		sed -nE 's/.*counter packets ([0-9]+) .*/\1/p'
}

echo_hashed "$SIZE" "$LIMIT"
ms=$XFER_MS
to_kernel=$(dropped to_kernel)
to_stack=$(dropped to_stack)
ok "echo through a link losing $LOSS% each way: $MB MB each way, sha256 equal ($(rate "$SIZE" "$ms"))"
echo "frames dropped by nft: $to_kernel from the stack, $to_stack to the stack"
[ "$to_kernel" -gt 0 ] && [ "$to_stack" -gt 0 ] ||
	fail "nft dropped $to_kernel frames from the stack and $to_stack to it: the loss did not happen"
ok "the rules did drop: $to_kernel frames from the stack, $to_stack to it"

retrans=$(stat_get tcp.retransmits)
echo "host counters:"
"$TAPCTL" --ctl "$CTL" stats | grep -E '^tcp\.' || true
[ "$retrans" -gt 0 ] || fail "tcp.retransmits is $retrans after $to_kernel of the host's frames were lost"
ok "the host retransmitted ($retrans segments)"

gone() {
	[ -z "$(sockets | grep -F " $GW_IP:" || true)" ]
}
# The rules are still on: closing through loss may take a retransmission.
wait_until 15 gone || { show_host; fail "the connection is listed 15 s after the transfer"; }
nsx nft delete table bridge tst_loss
host_stop

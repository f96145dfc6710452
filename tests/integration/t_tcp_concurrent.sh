#!/usr/bin/env bash
# 200 kernel clients (nc) on the host's echo service at once, each holding
# its connection open for a few seconds and sending a message of its own:
# tapctl sockets lists all 200 ESTABLISHED at the same time, each client
# gets exactly its own message back, and afterwards no connection is left
# in the host's table. The pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || fail "nc is missing (sudo make deps installs netcat-openbsd)"

N=${TCP_CONCURRENT:-200}
HOLD=30 # seconds at most that a client keeps its connection before its FIN

host_start

established_count() {
	sockets | grep -Ec "^ESTABLISHED +[0-9]+ +[0-9]+ +$HOST_IP:7 +$GW_IP:[0-9]+" || true
}
peer_lines() {
	sockets | grep -F " $GW_IP:" || true
}

# Client i sends "client i of N: <16 random hex digits>" at once, keeps the
# connection until the test has seen all N established (the file release;
# HOLD s at most, so a loaded machine that starts 200 nc slowly cannot close
# the first before the last opens), then half-closes (nc -N) and reads the
# echo to the end. Its status, answer and errors go to files of its own.
mkdir "$TMP/c"
start=$(now_ms)
pids=()
for ((i = 1; i <= N; i++)); do
	msg="client $i of $N: $(od -An -tx8 -N8 /dev/urandom | tr -d ' ')"
	echo "$msg" >"$TMP/c/$i.want"
	(
		{
			echo "$msg"
			for ((w = 0; w < HOLD; w++)); do
				[ -e "$TMP/release" ] && break
				sleep 1
			done
		} |
			ip netns exec "$NS" timeout $((HOLD + 30)) nc -N -n "$HOST_IP" 7 >"$TMP/c/$i.out" 2>"$TMP/c/$i.err"
		echo $? >"$TMP/c/$i.rc"
	) &
	pids+=($!)
done
ok "$N clients started in $(($(now_ms) - start)) ms"

# All of them established at once, well before the first one closes.
max=0
all_there() {
	local n
	n=$(established_count)
	[ "$n" -gt "$max" ] && max=$n
	[ "$n" -ge "$N" ]
}
if ! wait_until $((HOLD - 5)) all_there; then
	touch "$TMP/release"
	sockets | sed -n 1,20p
	show_host | tail -n 40
	fail "tapctl sockets shows at most $max of $N connections ESTABLISHED at once"
fi
sockets | sed -n '1,5p'
echo "... ($(established_count) ESTABLISHED lines in all)"
ok "tapctl sockets: all $N connections ESTABLISHED at once, each with the kernel's address"
ports=$(sockets | awk -v h="$HOST_IP:7" '$1 == "ESTABLISHED" && $4 == h { print $5 }' | sort -u | wc -l)
touch "$TMP/release"
[ "$ports" -eq "$N" ] || fail "the $N connections show $ports distinct peer ports"

# Every client ends (nc's timeout bounds each), each with its own message.
for p in "${pids[@]}"; do
	wait "$p" || true
done
ms=$(($(now_ms) - start))
bad=0
for ((i = 1; i <= N; i++)); do
	rc=$(cat "$TMP/c/$i.rc" 2>/dev/null || echo none)
	if [ "$rc" != 0 ] || ! cmp -s "$TMP/c/$i.want" "$TMP/c/$i.out"; then
		bad=$((bad + 1))
		[ "$bad" -le 5 ] && echo "client $i: status $rc, want '$(cat "$TMP/c/$i.want")'," \
			"got '$(cat "$TMP/c/$i.out")' $(cat "$TMP/c/$i.err")"
	fi
done
[ "$bad" -eq 0 ] || { show_host | tail -n 40; fail "$bad of $N clients did not get their own message back"; }
ok "all $N clients got their own message back and ended cleanly (${ms} ms in all)"

no_connections() {
	[ -z "$(peer_lines)" ]
}
wait_until 10 no_connections ||
	{ peer_lines | sed -n 1,10p; fail "$(peer_lines | wc -l) connections still listed 10 s after the clients closed"; }
ok "no connection left in the host's table"
established=$(stat_get tcp.established)
echo "tcp.established: $established"

show_host | tail -n 40
host_stop
check_pcap "$PCAP"

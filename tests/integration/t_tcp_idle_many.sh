#!/usr/bin/env bash
# 400 idle connections to the host's echo service, then, after 2 s of
# silence, a line on each one in turn: every one gets its own line back.
# The services wait on a readiness set (apps/lib/services.c), which asks a
# socket only when the stack woke it: a connection whose wake was missed
# would never be served, and would time out here.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

N=400
host_start --serve echo

cat >"$TMP/idle.sh" <<EOS
ulimit -n $((N + 100))
fds=()
for ((i = 0; i < $N; i++)); do
	exec {fd}<>/dev/tcp/$HOST_IP/7 || { echo "opened only \$i"; exit 1; }
	fds+=(\$fd)
done
echo "opened $N"
# wait for the host to list them all, then let them sit idle
for ((i = 0; i < 100; i++)); do
	[ -e "$TMP/listed" ] && break
	sleep 0.1
done
sleep 2
for ((i = 0; i < $N; i++)); do
	echo "line \$i of $N" >&\${fds[i]}
	got=
	read -r -t 3 -u \${fds[i]} got
	[ "\$got" = "line \$i of $N" ] || { echo "connection \$i: got '\$got'"; exit 1; }
done
echo "all $N echoed"
EOS
ip netns exec "$NS" timeout 60 bash "$TMP/idle.sh" >"$TMP/idle.out" 2>&1 &
CLIENT=$!

established() {
	[ "$(sockets | grep -Ec "^ESTABLISHED +[0-9]+ +[0-9]+ +$HOST_IP:7 ")" -ge "$N" ]
}
wait_until 20 established || { cat "$TMP/idle.out"; fail "the host does not list $N connections"; }
touch "$TMP/listed"
ok "$N idle connections ESTABLISHED"
start=$(now_ms)
wait "$CLIENT" || { cat "$TMP/idle.out"; show_host | tail -n 20; fail "not every idle connection was served"; }
grep -q "all $N echoed" "$TMP/idle.out" || fail "the client did not finish: $(tail -n 1 "$TMP/idle.out")"
ok "after 2 s idle, each of the $N connections echoed its own line ($(($(now_ms) - start)) ms in all)"
host_stop

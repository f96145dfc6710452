#!/usr/bin/env bash
# resolve, the DNS tool, as a host of its own (10.0.0.3 on tap1) asking the
# lab's dnsmasq (10.0.0.1, started by labs/net up): every record type printed
# as dig +noall +answer prints it, a CNAME chain followed, the 40-record
# answer truncated over UDP and fetched again over TCP, NXDOMAIN and no data
# reported with exit status 1, a silent server timing out on schedule, bad
# flags exiting 2.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

RESOLVE=$BUILD/resolve
[ -x "$RESOLVE" ] || fail "$RESOLVE is not built (make apps)"
command -v dnsmasq >/dev/null || fail "dnsmasq is missing (apt-get install dnsmasq-base)"
command -v dig >/dev/null || fail "dig is missing (sudo make deps installs dnsutils)"

"$NET" up 2 >/dev/null
nsx dig @10.0.0.1 +short +time=2 www.lab.test | grep -qx 10.0.0.2 ||
	fail "the lab's dnsmasq does not answer on 10.0.0.1"

RPCAP=$TMP/resolve.pcap
R=("$RESOLVE" --tap tap1 --ip 10.0.0.3/24 --gw "$GW_IP" --ctl none --seed 7)

# resolve [FLAGS] NAME...: its stdout in $TMP/out, stderr in $TMP/err, status in $rc.
resolve() {
	nsx timeout 20 "${R[@]}" "$@" >"$TMP/out" 2>"$TMP/err" && rc=0 || rc=$?
}

# --- each type, line for line what dig prints
for q in "www.lab.test" "a.lab.test" "b.lab.test" "-t AAAA six.lab.test" "-t MX lab.test" \
	"-t TXT lab.test" "-t TXT info.lab.test" "-t SOA lab.test" "-t NS lab.test" \
	"-t CNAME alias.lab.test"; do
	# shellcheck disable=SC2086 # split on purpose
	resolve $q
	[ "$rc" -eq 0 ] || fail "resolve $q exits $rc: $(cat "$TMP/err")"
	# shellcheck disable=SC2086
	nsx dig @10.0.0.1 +noall +answer ${q/-t /} >"$TMP/dig"
	diff "$TMP/dig" "$TMP/out" >&2 || fail "resolve $q differs from dig (above)"
	ok "resolve $q: $(head -1 "$TMP/out" | tr '\t' ' ' | tr -s ' ')"
done

# --- a chain of two CNAMEs: dnsmasq (authoritative) gives one step at a time,
# so resolve asks again for each target (RFC 1034 5.3.3)
resolve alias2.lab.test
[ "$rc" -eq 0 ] || fail "resolve alias2.lab.test exits $rc"
[ "$(wc -l <"$TMP/out")" -eq 3 ] || { cat "$TMP/out" >&2; fail "alias2: want 3 answer lines"; }
grep -qP '^alias2\.lab\.test\.\t+300\tIN\tCNAME\talias\.lab\.test\.$' "$TMP/out" || fail "alias2: no first CNAME"
grep -qP '^www\.lab\.test\.\t+300\tIN\tA\t10\.0\.0\.2$' "$TMP/out" || fail "alias2: no final A"
ok "CNAME chain alias2 -> alias -> www followed"

# --- more than 512 bytes: without EDNS the answer comes truncated (TC),
# resolve asks again over TCP and gets all 40 records
nsx timeout 20 "${R[@]}" --pcap "$RPCAP" --no-edns -v many.lab.test >"$TMP/out" 2>"$TMP/err" &&
	rc=0 || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/out" >&2; fail "resolve --no-edns many.lab.test exits $rc: $(cat "$TMP/err")"; }
grep -q "flags: qr aa tc" "$TMP/out" || fail "many: the UDP answer was not truncated"
grep -q "(TCP)" "$TMP/out" || fail "many: no answer over TCP"
resolve --no-edns many.lab.test
n=$(grep -cP '^many\.lab\.test\.\t+300\tIN\tA\t10\.0\.1\.' "$TMP/out")
[ "$n" -eq 40 ] || fail "many: $n A records, want 40"
tcp=$(tshark -n -r "$RPCAP" -Y 'tcp.port == 53 && dns.flags.response == 1' 2>/dev/null | wc -l)
[ "$tcp" -ge 1 ] || fail "many: tshark sees no DNS answer over TCP in $RPCAP"
check_pcap "$RPCAP"
ok "many.lab.test: TC over UDP, then 40 records over TCP"
# with EDNS(0) (1232 bytes) the same answer fits in one datagram
resolve many.lab.test
[ "$rc" -eq 0 ] && [ "$(wc -l <"$TMP/out")" -eq 40 ] || fail "many with EDNS: status $rc"
ok "many.lab.test with EDNS(0): 40 records over UDP"

# --- names that do not exist, and names without that type
resolve nope.lab.test
[ "$rc" -eq 1 ] || fail "resolve nope.lab.test exits $rc, want 1"
grep -q NXDOMAIN "$TMP/err" || fail "nope: no NXDOMAIN on stderr: $(cat "$TMP/err")"
[ ! -s "$TMP/out" ] || fail "nope: printed answers"
ok "nope.lab.test: NXDOMAIN, exit 1"
resolve -t AAAA www.lab.test
[ "$rc" -eq 1 ] && grep -q "no data" "$TMP/err" || fail "www AAAA: status $rc, $(cat "$TMP/err")"
ok "www.lab.test AAAA: no data, exit 1"

# --- a server that never answers: 2 tries of 300 ms then 600 ms
start=$(now_ms)
resolve --server 10.0.0.1 --port 5399 --timeout 300 --tries 2 www.lab.test
took=$(($(now_ms) - start))
[ "$rc" -eq 1 ] && grep -q "timed out" "$TMP/err" || fail "silent server: status $rc, $(cat "$TMP/err")"
[ "$took" -ge 900 ] && [ "$took" -lt 5000 ] || fail "silent server: gave up after $took ms, want ~900"
ok "silent server: timed out after $took ms (300 + 600)"

# --- the command line
nsx timeout 5 "$RESOLVE" --help >"$TMP/out" 2>&1 || fail "resolve --help fails"
grep -q "usage: resolve" "$TMP/out" || fail "resolve --help prints no usage"
for args in "--no-such-flag x" "--tap tap1 --ip 10.0.0.3/24" "--tap tap1 --ip 10.0.0.3/24 -t BOGUS x" \
	"--tap tap1 --ip 10.0.0.3/24 --server nope x" "--tap tap1 --ip 10.0.0.3/24 --tries 0 x"; do
	# shellcheck disable=SC2086
	nsx timeout 5 "$RESOLVE" $args </dev/null >/dev/null 2>"$TMP/err" && rc=0 || rc=$?
	[ "$rc" -eq 2 ] || fail "resolve $args exits $rc, want 2"
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "resolve $args: want one line on stderr"
done
ok "bad command lines exit 2 with one line"

#!/usr/bin/env bash
# The dns service (tapstack --serve dns --dns-upstream 10.0.0.1), asked by
# the kernel's dig: UDP, TCP, AAAA, a CNAME, NXDOMAIN; the second question is
# answered from the cache with a lower TTL, and tshark sees one upstream
# question only; NXDOMAIN is cached too (RFC 2308); an answer over 512 bytes
# goes with TC to a client without EDNS, which dig then asks over TCP.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v dnsmasq >/dev/null || fail "dnsmasq is missing (apt-get install dnsmasq-base)"
command -v dig >/dev/null || fail "dig is missing (sudo make deps installs dnsutils)"

host_start --serve dns --dns-upstream "$GW_IP"

# dig [ARGS]: asks the host; output in $TMP/out.
D() {
	nsx dig @"$HOST_IP" +time=3 +tries=2 "$@" >"$TMP/out" 2>&1 || fail "dig $* failed: $(cat "$TMP/out")"
}
# The TTL of the first answer line in $TMP/out.
ttl_of() {
	awk '!/^;/ && NF >= 5 { print $2; exit }' "$TMP/out"
}

D +noall +answer +comments www.lab.test
grep -q "status: NOERROR" "$TMP/out" || fail "www: $(cat "$TMP/out")"
grep -q "flags: qr rd ra;" "$TMP/out" || fail "www: flags should be qr rd ra: $(grep flags "$TMP/out")"
grep -qP '^www\.lab\.test\.\t+300\tIN\tA\t10\.0\.0\.2$' "$TMP/out" || fail "www: $(cat "$TMP/out")"
ok "dig @$HOST_IP www.lab.test: 300 IN A 10.0.0.2 (from upstream)"
sleep 2.2
D +noall +answer www.lab.test
t=$(ttl_of)
[ -n "$t" ] && [ "$t" -lt 300 ] && [ "$t" -ge 290 ] || fail "www again: TTL '$t', want below 300: $(cat "$TMP/out")"
ok "dig again 2 s later: TTL $t (from the cache)"
D +tcp +noall +answer www.lab.test
grep -qP '\tA\t10\.0\.0\.2$' "$TMP/out" || fail "www over TCP: $(cat "$TMP/out")"
ok "dig +tcp www.lab.test: answered over TCP"

D +noall +answer AAAA six.lab.test
grep -qP '^six\.lab\.test\.\t+\d+\tIN\tAAAA\tfd00::2$' "$TMP/out" || fail "six AAAA: $(cat "$TMP/out")"
ok "dig AAAA six.lab.test: fd00::2"
D +noall +answer MX lab.test
grep -qP '\tMX\t10 mail\.lab\.test\.$' "$TMP/out" || fail "MX: $(cat "$TMP/out")"
D +noall +answer TXT lab.test
grep -q '"tapstack lab network"' "$TMP/out" || fail "TXT: $(cat "$TMP/out")"
D +tcp +noall +answer alias.lab.test
grep -qP '^alias\.lab\.test\.\t+\d+\tIN\tCNAME\twww\.lab\.test\.$' "$TMP/out" || fail "alias: $(cat "$TMP/out")"
ok "MX, TXT, and a CNAME over TCP"

# --- NXDOMAIN, then the same from the cache, with the SOA's TTL going down
D +noall +comments +authority nope.lab.test
grep -q "status: NXDOMAIN" "$TMP/out" || fail "nope: $(cat "$TMP/out")"
grep -qP '\tSOA\t' "$TMP/out" || fail "nope: no SOA in the authority section"
sleep 1.2
D +noall +comments +authority nope.lab.test
grep -q "status: NXDOMAIN" "$TMP/out" || fail "nope again: $(cat "$TMP/out")"
t=$(ttl_of)
[ -n "$t" ] && [ "$t" -lt 300 ] || fail "nope again: SOA TTL '$t', want below 300"
ok "nope.lab.test: NXDOMAIN, then from the negative cache (SOA TTL $t)"

# --- more than 512 bytes: TC for a client without EDNS, then TCP
D +noedns +ignore +noall +comments many.lab.test
grep -q "flags: qr tc rd ra;" "$TMP/out" || fail "many without EDNS: not truncated: $(grep flags "$TMP/out")"
D +noedns +noall +answer many.lab.test
n=$(grep -cP '\tIN\tA\t10\.0\.1\.' "$TMP/out")
[ "$n" -eq 40 ] || fail "many: $n records after dig's TCP retry, want 40"
D +noall +answer many.lab.test
n=$(grep -cP '\tIN\tA\t10\.0\.1\.' "$TMP/out")
[ "$n" -eq 40 ] || fail "many with EDNS: $n records, want 40"
ok "many.lab.test: TC without EDNS, 40 records over TCP, 40 over UDP with EDNS"

# --- a malformed question gets FORMERR and is counted
printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01' |
	nsx timeout 3 nc -u -w 1 "$HOST_IP" 53 >"$TMP/formerr" || true
[ "$(od -An -tx1 -j3 -N1 "$TMP/formerr" | tr -d ' ')" = 81 ] || fail "bad question: no FORMERR ($(od -An -tx1 "$TMP/formerr"))"
[ "$(stat_get dns.pointer_loop)" -eq 1 ] || fail "dns.pointer_loop is $(stat_get dns.pointer_loop), want 1"
ok "a question whose name points at itself: FORMERR, dns.pointer_loop 1"

host_stop
# --- what went upstream: one question for www.lab.test A, one for nope
up() {
	tshark -n -r "$PCAP" -Y "ip.src == $HOST_IP && ip.dst == $GW_IP && dns.flags.response == 0 && $1" \
		2>/dev/null | wc -l
}
n=$(up 'dns.qry.name == "www.lab.test" && dns.qry.type == 1')
[ "$n" -eq 1 ] || fail "tshark: $n upstream questions for www.lab.test A, want 1"
n=$(up 'dns.qry.name == "nope.lab.test"')
[ "$n" -eq 1 ] || fail "tshark: $n upstream questions for nope.lab.test, want 1"
ok "tshark: one upstream question each for www and nope, the rest from the cache"
check_pcap "$PCAP"

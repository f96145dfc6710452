#!/usr/bin/env bash
# Load on the dns service: a batch of 3000 dig questions (1000 distinct names
# that miss the cache and go upstream, the rest answered from it), then, when
# dnsperf is installed, 20,000 questions from 8 clients at once. Not one may
# fail or go unanswered; the rate is printed, never judged.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v dnsmasq >/dev/null || fail "dnsmasq is missing (apt-get install dnsmasq-base)"
command -v dig >/dev/null || fail "dig is missing (sudo make deps installs dnsutils)"

host_start_bulk --serve dns --dns-upstream "$GW_IP"
nsx dig @"$HOST_IP" +short +time=3 www.lab.test | grep -qx 10.0.0.2 || fail "the service does not answer"

# --- dig -f: one dig process, 3000 questions one after another
for i in $(seq 1000); do
	echo "@$HOST_IP +noall +comments +time=2 +tries=1 nx$i.lab.test"
	echo "@$HOST_IP +noall +comments +time=2 +tries=1 www.lab.test"
	echo "@$HOST_IP +noall +comments +time=2 +tries=1 AAAA six.lab.test"
done >"$TMP/batch"
start=$(now_ms)
nsx timeout 120 dig -f "$TMP/batch" >"$TMP/out" 2>&1 || true
ms=$(($(now_ms) - start))
nx=$(grep -c "status: NXDOMAIN" "$TMP/out" || true)
noerr=$(grep -c "status: NOERROR" "$TMP/out" || true)
[ "$nx" -eq 1000 ] && [ "$noerr" -eq 2000 ] ||
	fail "dig -f: $nx NXDOMAIN (want 1000) and $noerr NOERROR (want 2000); $(grep -c 'timed out' "$TMP/out") timed out"
ok "dig -f: 3000 answers in $ms ms ($((3000000 / (ms > 0 ? ms : 1))) per second), 1000 of them upstream"
[ "$(stat_get dns.upstream_query)" -ge 1000 ] || fail "dns.upstream_query is $(stat_get dns.upstream_query)"
[ "$(stat_get dns.upstream_failed)" -eq 0 ] || fail "dns.upstream_failed is $(stat_get dns.upstream_failed)"

# --- dnsperf: 8 clients, up to 64 questions outstanding
if command -v dnsperf >/dev/null; then
	printf '%s\n' "www.lab.test A" "a.lab.test A" "b.lab.test A" "six.lab.test AAAA" \
		"lab.test MX" "lab.test TXT" "nope.lab.test A" "alias.lab.test A" >"$TMP/queries"
	nsx timeout 120 dnsperf -s "$HOST_IP" -d "$TMP/queries" -n 2500 -c 8 -q 64 -t 5 \
		>"$TMP/perf" 2>&1 || { cat "$TMP/perf" >&2; fail "dnsperf failed"; }
	grep -q "Queries completed: *20000 (100.00%)" "$TMP/perf" || { cat "$TMP/perf" >&2; fail "dnsperf: not all completed"; }
	grep -q "Queries lost: *0 " "$TMP/perf" || { cat "$TMP/perf" >&2; fail "dnsperf: queries lost"; }
	ok "dnsperf: 20000 of 20000 answered, $(awk '/Queries per second/ { print $4 }' "$TMP/perf") per second"
else
	echo "note: dnsperf is not installed (apt-get install dnsperf): its part is left out"
fi
host_stop

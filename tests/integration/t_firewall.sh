#!/usr/bin/env bash
# The stateful packet filter (--firewall, ip/firewall.c) seen from the
# kernel: with 'allow tcp 80; allow udp 53; deny', nmap -sS finds port 80
# open and 7 and 9 filtered (the host's echo and discard services listen
# there, but the SYNs are dropped in silence: no RST in the capture); curl
# gets a page from port 80, over IPv4 and IPv6 (neighbor discovery is
# never filtered); ping and ping -6 get no answer; the host's own question
# to the lab's dnsmasq gets its answer back (established: dig through the
# host's DNS service works); tapctl firewall shows the counts of the rules
# moved and the flows; the pcap is clean.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v nmap >/dev/null || fail "nmap is missing (sudo make deps installs it)"
command -v curl >/dev/null || fail "curl is missing (sudo make deps installs it)"

host_start --firewall 'allow tcp 80; allow udp 53; deny' --dns-upstream "$GW_IP" \
	--ip6 fd00::2/64
dad_done() { [ "$(stat_get ndp.dad_ok)" -ge 2 ]; }
wait_until 5 dad_done || fail "DAD did not finish under the firewall"

fwdump() {
	"$TAPCTL" --ctl "$CTL" firewall
}
# The packets column of the rule whose text is $1 in tapctl firewall.
rule_packets() {
	fwdump | awk -v r="$1" 'substr($0, 6, 44) ~ "^" r " *$" { print $(NF - 1) }'
}

# --- nmap -sS: a SYN to each port; 80 answers SYN-ACK, 7 and 9 nothing
nsx timeout 120 nmap -n -Pn -sS -p 7,9,80 --max-retries 1 --host-timeout 100s \
	-oG "$TMP/nmap.txt" "$HOST_IP" >"$TMP/nmap.log" 2>&1 || fail "nmap failed: $(cat "$TMP/nmap.log")"
grep -q "80/open/tcp" "$TMP/nmap.txt" || fail "nmap: port 80 not open: $(cat "$TMP/nmap.log")"
grep -q "7/filtered/tcp" "$TMP/nmap.txt" || fail "nmap: port 7 not filtered: $(cat "$TMP/nmap.log")"
grep -q "9/filtered/tcp" "$TMP/nmap.txt" || fail "nmap: port 9 not filtered: $(cat "$TMP/nmap.log")"
ok "nmap -sS -p 7,9,80: 80 open, 7 and 9 filtered"

# --- curl: a connection to the listed port works both ways
nsx timeout 10 curl -sS -o "$TMP/body" "http://$HOST_IP/bytes/100000" ||
	fail "curl http://$HOST_IP/bytes/100000 failed"
[ "$(stat -c %s "$TMP/body")" -eq 100000 ] || fail "curl: $(stat -c %s "$TMP/body") bytes, want 100000"
ok "curl: 100000 bytes from port 80"

# --- ping: no rule lets echo in
if nsx ping -c 2 -W 1 "$HOST_IP" >"$TMP/ping.log" 2>&1; then
	fail "ping got an answer through 'deny': $(cat "$TMP/ping.log")"
fi
ok "ping: no answer"

# --- IPv6: neighbor discovery is never filtered, so curl reaches port 80
# over IPv6 (the kernel has to learn the host's MAC by NDP first); ping -6
# is dropped like ping
nsx timeout 10 curl -sS -g -o "$TMP/body6" "http://[fd00::2]/bytes/1000" ||
	fail "curl http://[fd00::2]/bytes/1000 failed"
[ "$(stat -c %s "$TMP/body6")" -eq 1000 ] || fail "curl -6: $(stat -c %s "$TMP/body6") bytes, want 1000"
if nsx ping -6 -c 2 -W 1 fd00::2 >"$TMP/ping6.log" 2>&1; then
	fail "ping -6 got an answer through 'deny': $(cat "$TMP/ping6.log")"
fi
[ "$(stat_get fw.never_filtered)" -ge 1 ] || fail "fw.never_filtered did not move"
ok "IPv6: curl over NDP works (fw.never_filtered $(stat_get fw.never_filtered)), ping -6 no answer"

# --- established: the host's DNS service asks dnsmasq on 10.0.0.1 (a flow
# the host opens); the answer comes back through the filter
if command -v dnsmasq >/dev/null && command -v dig >/dev/null; then
	nsx dig @"$HOST_IP" +time=3 +tries=2 +short www.lab.test >"$TMP/dig.log" 2>&1 ||
		fail "dig through the host failed: $(cat "$TMP/dig.log")"
	grep -qx "10.0.0.2" "$TMP/dig.log" || fail "dig: $(cat "$TMP/dig.log")"
	ok "dig @$HOST_IP www.lab.test: the upstream's answer came in as established"
else
	echo "note: dnsmasq or dig missing, the DNS part is not tested"
fi

# --- tapctl firewall: the counts moved
fwdump >"$TMP/fw.txt"
a=$(rule_packets "allow tcp 80")
d=$(rule_packets "deny")
[ "${a:-0}" -ge 2 ] || fail "rule 'allow tcp 80' counted '$a' packets: $(cat "$TMP/fw.txt")"
[ "${d:-0}" -ge 6 ] || fail "rule 'deny' counted '$d' packets (2 SYNs, 4 pings at least): $(cat "$TMP/fw.txt")"
[ "$(stat_get fw.denied)" -ge 4 ] || fail "fw.denied is $(stat_get fw.denied)"
[ "$(stat_get fw.established)" -ge 1 ] || fail "fw.established is $(stat_get fw.established)"
ok "tapctl firewall: 'allow tcp 80' $a packets, 'deny' $d packets; fw.denied $(stat_get fw.denied)"
sed 's/^/    /' "$TMP/fw.txt"
grep -q "fw in TCP 10.0.0.1:[0-9]* -> 10.0.0.2:7 SYN: deny, rule 3 'deny'" "$TRACE" ||
	fail "no trace line names the rule that dropped the SYN to port 7"
ok "--trace names the rule: $(grep -m1 "10.0.0.2:7 SYN: deny" "$TRACE" | cut -c1-90)"

# --- the capture: SYN-ACKs from 80, never a RST or an echo reply from 7 or 9
host_stop
n=$(tshark -r "$PCAP" -Y "ip.src == $HOST_IP && (tcp.srcport == 7 || tcp.srcport == 9)" 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "the host sent $n segments from ports 7 or 9"
n=$(tshark -r "$PCAP" -Y "(ip.src == $HOST_IP && icmp.type == 0) || (ipv6.src == fd00::2 && icmpv6.type == 129)" 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "the host sent $n echo replies"
ok "pcap: nothing from ports 7 or 9, no echo reply"
check_pcap "$PCAP"

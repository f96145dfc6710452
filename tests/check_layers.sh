#!/bin/sh
# The layers of tapstack, checked on the #include lines (issue 13).
#
# A packet climbs link/ -> ip/ -> tcp/ -> stack/ (the sockets) -> apps/, and
# the includes should say the same: a layer knows the ones below it, not the
# ones above. Two kinds of rule:
#
#   the floor   stack/'s packet buffers (pkt), checksum, byteorder, ring, rng,
#               siphash and stats sit under every layer: they include only
#               libc/POSIX headers and each other, so any layer can use them
#               (and a student can read them first, alone);
#   no upward   link/ includes nothing from tcp/ or apps/, ip/ and tcp/
#               nothing from apps/; link/ takes from ip/ only the ties on
#               the allow-list below, each with its reason.
#
# Ties that stay, by design and not listed: every layer takes the host,
# struct stack * (stack/stack.h); ip/ hands segments to tcp_input.
#
# Prints each violation as "file: includes X (rule)"; exits 1 if there is
# any, 0 otherwise. Run from anywhere: make unit and make test run it.
set -u
cd "$(dirname "$0")/.." || exit 2

FLOOR_HEADERS="stack/byteorder.h stack/checksum.h stack/pkt.h stack/ring.h stack/rng.h
	stack/siphash.h stack/stats.h"
FLOOR_FILES="$FLOOR_HEADERS stack/checksum.c stack/pkt.c stack/ring.c stack/rng.c
	stack/siphash.c stack/stats.c"

# The accepted upward ties from link/ to ip/: "file include".
link_ip_allowed() {
	case "$1 $2" in
	# input demultiplexing by direct calls: eth_input hands each frame's
	# payload to ipv4_input or ipv6_input by its EtherType
	"link/eth.c ip/ipv4.h" | "link/eth.c ip/ipv6.h") return 0 ;;
	# ARP maps IPv4 addresses: it prints them with ip4_ntop, and
	# ip/addr.h includes nothing but libc
	"link/arp.c ip/addr.h") return 0 ;;
	esac
	return 1
}

# The files $1 includes, one a line, as written: stack/pkt.h or <stdio.h>.
includes_of() {
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1/p' "$1" |
		tr -d '"'
}

fail=0
violation() {
	echo "$1: includes $2 ($3)"
	fail=1
}

is_floor_header() {
	case " $(echo $FLOOR_HEADERS) " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# (a) the floor: libc/POSIX (<...>, but not the two libraries, libpcap and
# Check) and floor headers only
for f in $FLOOR_FILES; do
	for inc in $(includes_of "$f"); do
		case "$inc" in
		"<pcap"* | "<check.h>")
			violation "$f" "$inc" "floor: libc/POSIX and floor headers only" ;;
		"<"*) ;;
		*) is_floor_header "$inc" ||
			violation "$f" "$inc" "floor: libc/POSIX and floor headers only" ;;
		esac
	done
done

# (b) no upward includes
for f in link/*.[ch] ip/*.[ch] tcp/*.[ch]; do
	layer=${f%%/*}
	for inc in $(includes_of "$f"); do
		case "$layer:$inc" in
		link:tcp/* | link:apps/*)
			violation "$f" "$inc" "link/ must not include tcp/ or apps/" ;;
		link:ip/*)
			link_ip_allowed "$f" "$inc" ||
				violation "$f" "$inc" "link/ takes from ip/ only the allow-list's ties" ;;
		ip:apps/* | tcp:apps/*)
			violation "$f" "$inc" "$layer/ must not include apps/" ;;
		esac
	done
done

[ "$fail" -eq 0 ] && echo "check_layers: the layers hold"
exit "$fail"

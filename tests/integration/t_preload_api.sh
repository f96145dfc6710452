#!/usr/bin/env bash
# The calls tapstack-run's shim interposes (issue 16), from an unmodified
# python3 on a tapstack host (tap0, 10.0.0.2) against the kernel's echo
# (10.0.0.1: UDP 7777, TCP 7778): UDP sendto/recvfrom, select and epoll on
# sets that mix a pipe and a tapstack socket, FIONREAD, dup and dup2,
# sendmsg/recvmsg and readv/writev, ECONNREFUSED from a port unreachable,
# a non-blocking connect (EINPROGRESS, POLLOUT, SO_ERROR), EAGAIN, 100 KB
# over TCP, shutdown, a refused blocking connect, getaddrinfo through
# tapstack's resolver (EAI_NONAME too), a raw socket refused; then dig
# over tapstack (libuv's sendmmsg through syscall(2)). The pcap shows the
# DNS went over tap0. Then the fd limit (EMFILE, counted), and
# tapstack-run's own errors: a bad flag, no program, a static program, a
# TAP another program holds.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
RUN=$BUILD/tapstack-run
[ -x "$RUN" ] && [ -f "$BUILD/libtapstack_preload.so" ] ||
	fail "tapstack-run or its shim is not built (make apps)"
for t in python3 dig tshark; do
	command -v "$t" >/dev/null || fail "$t is missing (sudo make deps)"
done
# The interpreter itself, not a wrapper script (pyenv's shims are bash).
PY=$(python3 -c 'import sys; print(sys.executable)')
"$NET" up 1 >/dev/null

cat >"$TMP/echo.py" <<'PYEOF'
import socket, threading
K = "10.0.0.1"
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((K, 7777))
    while True:
        d, a = s.recvfrom(65536); s.sendto(d, a)
def conn(c):
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d)
    c.close()
def tcp():
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((K, 7778)); l.listen(8)
    while True:
        c, _ = l.accept(); threading.Thread(target=conn, args=(c,), daemon=True).start()
threading.Thread(target=udp, daemon=True).start()
tcp()
PYEOF
cat >"$TMP/api.py" <<'PYEOF'
# Run under tapstack-run as 10.0.0.2; the kernel's echo (UDP 7777, TCP 7778)
# is at 10.0.0.1, and TCP 7779 and UDP 7780 are closed there.
import errno, fcntl, os, select, socket, struct, sys, termios
K = "10.0.0.1"
def check(cond, what):
    if not cond:
        print("FAIL:", what); sys.exit(1)
    print("ok:", what)

# UDP: sendto/recvfrom, getsockname
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
u.sendto(b"hello", (K, 7777))
d, a = u.recvfrom(100)
check(d == b"hello" and a == (K, 7777), "UDP sendto/recvfrom through the kernel's echo")
me = u.getsockname()
check(me[0] in ("0.0.0.0", "10.0.0.2") and 49152 <= me[1] <= 65535, "getsockname: an ephemeral port %r" % (me,))

# select on a pipe and a tapstack socket together; FIONREAD
r, w = os.pipe()
check(select.select([r, u], [], [], 0.2)[0] == [], "select: nothing ready on a pipe and an idle socket")
u.sendto(b"x" * 300, (K, 7777))
check(select.select([r, u], [], [], 5)[0] == [u], "select: the socket alone is ready when its echo is in")
n = struct.unpack("i", fcntl.ioctl(u, termios.FIONREAD, b"\0\0\0\0"))[0]
check(n == 300, "ioctl FIONREAD gives the next datagram's length (%d)" % n)
os.write(w, b"p")
check(sorted(select.select([r, u], [], [], 5)[0], key=id) == sorted([r, u], key=id),
      "select: the pipe and the socket both ready")
check(u.recv(1000) == b"x" * 300 and os.read(r, 1) == b"p", "both read")
check(select.select([u], [], [], 0.1)[0] == [], "select: not ready once read")

# epoll over both
ep = select.epoll()
ep.register(r, select.EPOLLIN)
ep.register(u.fileno(), select.EPOLLIN)
check(ep.poll(0.2) == [], "epoll: nothing ready")
u.sendto(b"e", (K, 7777))
ev = ep.poll(5)
check([fd for fd, _ in ev] == [u.fileno()], "epoll: the socket ready when its echo is in")
os.write(w, b"q")
ev = ep.poll(5)
check(sorted(fd for fd, _ in ev) == sorted([r, u.fileno()]), "epoll: the pipe and the socket both ready")
os.read(r, 1)

# dup: the same socket under two fds, it lives until the last close
u2 = u.dup()
check(u2.recv(10) == b"e", "dup: the duplicate reads the datagram")
u.close()
u2.sendto(b"again", (K, 7777))
check(u2.recv(10) == b"again", "dup: the socket lives on after the first fd is closed")
fd3 = os.dup2(u2.fileno(), 100)
u2.close()
s3 = socket.socket(fileno=fd3)
s3.settimeout(5)  # O_NONBLOCK is shared by dups (Python set it for the timeout)
s3.sendto(b"dup2", (K, 7777))
check(s3.recv(10) == b"dup2", "dup2: fd 100 is the same socket")
s3.close()

# readv / writev and sendmsg / recvmsg on UDP
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(5)
c.connect((K, 7777))
check(c.sendmsg([b"ab", b"cd", b"ef"]) == 6, "sendmsg gathers three buffers into one datagram")
b1, b2 = bytearray(3), bytearray(10)
nb, anc, fl, ad = c.recvmsg_into([b1, b2])
check(nb == 6 and bytes(b1) == b"abc" and bytes(b2[:3]) == b"def", "recvmsg scatters it")
os.writev(c.fileno(), [b"12", b"34"])
select.select([c], [], [], 5)  # the timeout made c O_NONBLOCK: os.readv does not wait
b1, b2 = bytearray(1), bytearray(5)
check(os.readv(c.fileno(), [b1, b2]) == 4 and bytes(b1) + bytes(b2[:3]) == b"1234", "writev and readv")

# a connected UDP socket learns of the closed port (ICMP port unreachable)
z = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
z.settimeout(5)
z.connect((K, 7780))
z.send(b"anyone?")
try:
    z.recv(10); check(False, "recv on a closed port")
except ConnectionRefusedError:
    check(True, "UDP: ECONNREFUSED after the kernel's port unreachable")

# TCP: non-blocking connect, EINPROGRESS, then POLLOUT and SO_ERROR 0
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setblocking(False)
e = t.connect_ex((K, 7778))
check(e == errno.EINPROGRESS, "non-blocking connect: EINPROGRESS (%s)" % errno.errorcode.get(e, e))
p = select.poll()
p.register(t, select.POLLOUT)
check(p.poll(5000) != [], "poll: POLLOUT once connected")
check(t.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0, "SO_ERROR 0")
check(t.getpeername() == (K, 7778), "getpeername")
try:
    t.recv(10); check(False, "recv with nothing there")
except BlockingIOError:
    check(True, "non-blocking recv with nothing: EAGAIN")
t.setblocking(True)
t.settimeout(10)
data = bytes(range(256)) * 400
t.sendall(data)
got = b""
while len(got) < len(data):
    got += t.recv(65536)
check(got == data, "TCP: 100 KB echoed intact")
t.send(b"abc")
select.select([t], [], [], 5)  # the 3 bytes go and come back in one segment
ioctl_n = struct.unpack("i", fcntl.ioctl(t, termios.FIONREAD, b"\0\0\0\0"))[0]
check(ioctl_n == 3, "FIONREAD on TCP: 3 bytes waiting")
check(t.recv(10) == b"abc", "and they read")
t.shutdown(socket.SHUT_WR)
check(t.recv(10) == b"", "shutdown(SHUT_WR): the echo closes too, recv gives end of stream")
t.close()

# a blocking connect to a closed port
q = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    q.connect((K, 7779)); check(False, "connect to a closed port")
except ConnectionRefusedError:
    check(True, "blocking connect to a closed port: ECONNREFUSED")
q.close()

# a name, through tapstack's resolver (the lab's dnsmasq, over tapstack's UDP)
ai = socket.getaddrinfo("www.lab.test", 80, socket.AF_INET, socket.SOCK_STREAM)
check(ai[0][4] == ("10.0.0.2", 80), "getaddrinfo(www.lab.test): %r" % (ai[0][4],))
try:
    socket.getaddrinfo("nosuch.lab.test", 80, socket.AF_INET)
    check(False, "a name that does not exist")
except socket.gaierror as e:
    check(e.errno == socket.EAI_NONAME, "getaddrinfo(nosuch.lab.test): EAI_NONAME")

# unsupported: raw sockets say so
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    check(False, "a raw socket")
except OSError as e:
    check(e.errno == errno.EPROTONOSUPPORT, "raw socket: EPROTONOSUPPORT")
print("all done")
PYEOF

ip netns exec "$NS" "$PY" "$TMP/echo.py" </dev/null >"$TMP/echo.log" 2>&1 &
ECHO_PID=$!
wait_until 5 sh -c "ip netns exec '$NS' ss -ltn | grep -q ':7778 '" || fail "the kernel's echo did not start"

FLAGS=(--tap tap0 --ip "$HOST_IP/24" --gw "$GW_IP" --mac "$HOST_MAC" --ctl "$CTL" --seed 1)
nsx timeout 60 "$RUN" "${FLAGS[@]}" --pcap "$TMP/api.pcap" -- "$PY" "$TMP/api.py" >"$TMP/api.out" 2>"$TMP/api.log" &&
	rc=0 || rc=$?
sed 's/^/  /' "$TMP/api.out"
[ "$rc" -eq 0 ] && grep -qx 'all done' "$TMP/api.out" ||
	{ cat "$TMP/api.log"; fail "the python checks over tapstack failed (status $rc)"; }
grep -q 'raw sockets are not supported' "$TMP/api.log" || fail "no message for the raw socket"
ok "every python check passed over tapstack, the raw socket refused with a message"
n=$(tshark -n -r "$TMP/api.pcap" -Y 'dns.qry.name == "www.lab.test"' 2>/dev/null | wc -l)
[ "$n" -ge 2 ] || fail "getaddrinfo's query and answer are not on tap0 ($n frames)"
ok "getaddrinfo asked over tap0 ($n DNS frames)"
kill "$ECHO_PID"

# The limit on sockets is the process's fds (three each: ulimit -n): past
# it socket() fails with EMFILE, and the host counts preload.no_placeholder.
cat >"$TMP/limit.py" <<'PYEOF'
import errno, socket, subprocess, sys
held = []
try:
    for _ in range(1000):
        held.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    print("FAIL: 1000 sockets under ulimit -n 64"); sys.exit(1)
except OSError as e:
    if e.errno != errno.EMFILE:
        print("FAIL: errno", e.errno); sys.exit(1)
made = len(held)
for _ in range(3):
    held.pop().close()  # fds for subprocess's pipes
stats = subprocess.run([sys.argv[1], "--ctl", sys.argv[2], "stats"], capture_output=True, text=True).stdout
print(made, "sockets, then EMFILE;", " ".join(l.split()[0] + "=" + l.split()[1] for l in stats.splitlines() if l.startswith("preload.")))
PYEOF
out=$(nsx timeout 30 sh -c 'ulimit -n 64 && exec "$@"' sh "$RUN" "${FLAGS[@]}" -- "$PY" "$TMP/limit.py" \
	"$TAPCTL" "$CTL" 2>&1) || { echo "$out"; fail "the fd limit check failed"; }
echo "$out" | grep -q 'EMFILE; .*preload.no_placeholder=1' || { echo "$out"; fail "no EMFILE, or not counted"; }
ok "the fd limit: $out"

out=$(nsx timeout 20 "$RUN" "${FLAGS[@]}" --pcap "$TMP/dig.pcap" -- dig @"$GW_IP" +short +time=2 +tries=2 \
	www.lab.test 2>"$TMP/dig.log") || { cat "$TMP/dig.log"; fail "dig over tapstack failed"; }
[ "$out" = "$HOST_IP" ] || fail "dig over tapstack: '$out', want $HOST_IP"
n=$(tshark -n -r "$TMP/dig.pcap" -Y 'dns.qry.name == "www.lab.test"' 2>/dev/null | wc -l)
[ "$n" -ge 2 ] || fail "dig's query and answer are not on tap0 ($n frames)"
ok "dig over tapstack: www.lab.test is $out ($n DNS frames on tap0)"

# tapstack-run's own errors: a bad flag, no program, a static program, a TAP
# another program holds
"$RUN" --tap tap0 --bogus -- true 2>"$TMP/e1" && rc=0 || rc=$?
[ "$rc" -eq 2 ] && grep -q "unknown option '--bogus'" "$TMP/e1" || fail "a bad flag: status $rc, $(cat "$TMP/e1")"
"$RUN" "${FLAGS[@]}" 2>"$TMP/e2" && rc=0 || rc=$?
[ "$rc" -eq 2 ] && grep -q "give the program after --" "$TMP/e2" || fail "no program: status $rc, $(cat "$TMP/e2")"
ok "tapstack-run: a bad flag and a missing program exit 2 with a message"
if LC_ALL=C readelf -l /sbin/ldconfig 2>/dev/null | grep -q 'Requesting program interpreter'; then
	echo "SKIPPED (part): /sbin/ldconfig is not static here: no static program to refuse"
else
	"$RUN" "${FLAGS[@]}" -- /sbin/ldconfig --version >/dev/null 2>"$TMP/e3" && rc=0 || rc=$?
	[ "$rc" -eq 126 ] && grep -q "statically linked" "$TMP/e3" ||
		fail "a static program: status $rc, $(cat "$TMP/e3")"
	ok "tapstack-run refuses a static program (exit 126): $(cat "$TMP/e3")"
fi
ip netns exec "$NS" timeout 20 "$RUN" "${FLAGS[@]}" -- "$PY" -c \
	'import socket, sys; s = socket.socket(); s.bind(("0.0.0.0", 5555)); s.listen(1); s.accept()' \
	</dev/null >/dev/null 2>&1 &
HOLDER=$!
wait_until 10 sh -c "'$TAPCTL' --ctl '$CTL' sockets 2>/dev/null | grep -q 'LISTEN.*:5555'" || fail "the first program did not start"
nsx timeout 20 "$RUN" --tap tap0 --ip 10.0.0.9/24 --ctl none -- curl -s "http://$GW_IP/" >/dev/null 2>"$TMP/e4" && rc=0 || rc=$?
[ "$rc" -eq 125 ] && grep -q "in use" "$TMP/e4" || fail "a second program on tap0: status $rc, $(cat "$TMP/e4")"
ok "a second program on the same TAP stops with exit 125: $(cat "$TMP/e4")"
kill "$HOLDER"

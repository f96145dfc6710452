# tapstack: an educational TCP/IP stack in user space on a Linux TAP device.
#
#   make            build the library, the programs and the tests into build/
#   make run        (root) install what is missing, build, start the lab network and one host
#   make stop       (root) stop that host and remove the lab network
#   make test       (root for the integration part) every test: unit, simulated,
#                   sanitizers, integration in a private namespace
#   make soak       (root) longer runs than make test: 200 MB at 1% and 5% loss, a DHCP renewal
#   make bench      (root) the benchmark: figures, never a failure
#   make labs-smoke (root) the labs' commands, headless: fails if a lab's facts changed
#   make lab-tree CHECK=N DIR=PATH  a student tree for the build-it checkpoints 0..N;
#                   make checkN grades one, make lab-selftest proves the grader
#                   (labs/grade/README.md)
#   make deps       (root) apt-get the Debian packages the build, tests and labs use
#   make fuzz       coverage-guided fuzzing with clang's libFuzzer, FUZZ_SECONDS=N
#                   (default 60) per target, in build-fuzz/ (tests/fuzz/README.md)
#   make failalloc  the unit and simulated tests with a failing allocator under
#                   ASan, several seeds, in build-failalloc/ (tests/failalloc/README.md)
#   make packetdrill  Google's packetdrill TCP scripts against tapstack, on a fake
#                   clock (PACKETDRILL_TARBALL=path; tests/packetdrill/README.md)
#
# Variables: BUILD=dir (default build), SAN=1 builds with AddressSanitizer and
# UndefinedBehaviorSanitizer (make test does that in build-asan/), FUZZ=1 (with
# CC=clang) instruments for libFuzzer (make fuzz does that in build-fuzz/).

CC      ?= gcc
BUILD   ?= build
SAN     ?=
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -I. -MMD -MP
LDLIBS  += -lpcap -lm
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
# FUZZ=1 (with CC=clang, BUILD=build-fuzz: what make fuzz passes): every
# object instrumented for libFuzzer's coverage and the sanitizers; only the
# targets themselves link libFuzzer's main.
ifeq ($(FUZZ),1)
CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=fuzzer,address,undefined
endif
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

LIB_SRCS  := $(wildcard stack/*.c link/*.c ip/*.c tcp/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
APPLIB_SRCS := $(wildcard apps/lib/*.c)
APPLIB_OBJS := $(APPLIB_SRCS:%.c=$(BUILD)/%.o)
APPS      := $(basename $(notdir $(wildcard apps/*.c)))
APP_BINS  := $(APPS:%=$(BUILD)/%)
# The shim tapstack-run preloads (apps/preload/): the library compiled a
# second time, position-independent, into $(BUILD)/pic/, with every symbol
# hidden but the interposed calls, so the program's own names never meet
# the stack's.
PRELOAD_SRCS := $(wildcard apps/preload/*.c)
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(BUILD)/pic/%.o) $(LIB_SRCS:%.c=$(BUILD)/pic/%.o) \
	$(APPLIB_SRCS:%.c=$(BUILD)/pic/%.o)
PRELOAD_SO   := $(BUILD)/libtapstack_preload.so
TEST_SRCS := $(wildcard tests/*.c)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(basename $(notdir $(FUZZ_SRCS)))
FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60

DEB_PACKAGES := build-essential pkg-config libpcap-dev check iproute2 iputils-ping \
	iputils-arping tshark curl dnsutils netcat-openbsd nftables procps psmisc \
	apache2-utils wrk dnsmasq-base dnsperf busybox python3 clang libclang-rt-dev \
	hping3 nmap traceroute iputils-tracepath mtr-tiny bison flex

.PHONY: all lib apps tests test unit asan integration soak bench run stop deps clean help \
	labs-smoke fuzz fuzz-bins failalloc

all: lib apps tests

lib: $(BUILD)/libtapstack.a
apps: $(APP_BINS) $(PRELOAD_SO)
tests: $(BUILD)/unit_tests

$(BUILD)/libtapstack.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

$(BUILD)/libapps.a: $(APPLIB_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BUILD)/%: $(BUILD)/apps/%.o $(BUILD)/libapps.a $(BUILD)/libtapstack.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(PRELOAD_SO): $(PRELOAD_OBJS)
	$(CC) $(LDFLAGS) -shared -o $@ $^ $(LDLIBS) -ldl -lpthread

$(BUILD)/unit_tests: $(TEST_OBJS) $(BUILD)/apps/preload/fdmap.o $(BUILD)/libapps.a $(BUILD)/libtapstack.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

# Unit and simulated tests (no root needed).
unit: tests
	tests/check_tours.sh
	tests/check_layers.sh
	$(BUILD)/unit_tests

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (the
# simulated TCP transfer with 20 of its 100 seeds: the sanitizers are slow;
# the plain build runs all 100). Check's per-test time limits are tripled
# here (CK_TIMEOUT_MULTIPLIER), as the sanitizers make every test 2-3 times
# slower: a limit is a hang detector, not a speed test.
asan:
	$(MAKE) BUILD=build-asan SAN=1 tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		CK_TIMEOUT_MULTIPLIER=$${CK_TIMEOUT_MULTIPLIER:-3} TAPSTACK_TCP_SIM_SEEDS=20 build-asan/unit_tests

# Coverage-guided fuzzing (tests/fuzz/README.md): every target of
# tests/fuzz/fuzz_*.c built with clang, libFuzzer, ASan and UBSan against
# the library built the same way in build-fuzz/, seeded from tests/vectors
# and tests/fuzz/seeds, then run FUZZ_SECONDS each. Fails on any crash,
# sanitizer report or oracle failure (the input's path is printed). Sends
# nothing to any network: every target runs the stack in-process.
fuzz:
	@if ! command -v clang >/dev/null 2>&1; then \
		echo "fuzz: SKIPPED: clang is not installed (make deps installs it)"; \
		if [ -n "$$CI" ]; then echo "fuzz: FAILED: CI needs clang"; exit 1; fi; \
		exit 0; \
	fi
	$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang FUZZ=1 fuzz-bins
	tests/fuzz/run build-fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-bins: $(FUZZ_BINS) $(BUILD)/fuzz/seeds

$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/libapps.a $(BUILD)/libtapstack.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The seed extractor: frames of tests/vectors/*.pcap cut for each target.
# Built without the fuzzer (it has its own main).
$(BUILD)/fuzz/seeds: tests/fuzz/seeds.c
	@mkdir -p $(@D)
	$(CC) -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -I. -o $@ $< -lpcap

# The failing allocator (tests/failalloc/README.md): the library's objects
# copied with malloc, calloc, realloc and strdup renamed to the fa_* of
# tests/failalloc/failalloc.c, which fail by a seeded rule; the unit and
# simulated suites linked against that copy, under ASan, then run by
# tests/failalloc/run for FAILALLOC_SEEDS (default 1 2, both at once). Fails on a
# crash, a sanitizer report or a leak, never on a test's assertion.
FA_SRCS := $(wildcard tests/failalloc/*.c)
FA_OBJS := $(FA_SRCS:%.c=$(BUILD)/%.o)
FAILALLOC_SEEDS ?= 1 2
failalloc:
	$(MAKE) --no-print-directory BUILD=build-failalloc SAN=1 build-failalloc/failalloc_tests
	tests/failalloc/run build-failalloc $(FAILALLOC_SEEDS)

$(BUILD)/fa/%.o: $(BUILD)/%.o
	@mkdir -p $(@D)
	objcopy --redefine-sym malloc=fa_malloc --redefine-sym calloc=fa_calloc \
		--redefine-sym realloc=fa_realloc --redefine-sym strdup=fa_strdup $< $@

$(BUILD)/libtapstack-fa.a: $(LIB_OBJS:$(BUILD)/%=$(BUILD)/fa/%)
	$(AR) rcs $@ $^

$(BUILD)/failalloc_tests: $(filter-out $(BUILD)/tests/check_main.o,$(TEST_OBJS)) $(FA_OBJS) \
		$(BUILD)/apps/preload/fdmap.o $(BUILD)/libapps.a $(BUILD)/libtapstack-fa.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

# Real ping, arping and tshark against a host on a TAP, in a namespace the
# test makes and removes. Needs root and /dev/net/tun; says SKIPPED otherwise.
integration: apps
	BUILD=$(BUILD) tests/integration/run

# Longer runs than make test affords (root, like integration; about 6 minutes):
# 200 MB through echo with nft dropping 1% each way and SYN options checked
# (t_tcp_options), 200 MB each way through 5% drops (t_tcp_nft_loss), and a
# DHCP lease renewed at T1 against dnsmasq (soak_dhcp_renew, 70 s: the
# integration runner's soak_*.sh are run here, not by make integration).
soak: apps
	BUILD=$(BUILD) TCP_OPTIONS_MB=200 TCP_OPTIONS_LIMIT=300 TCP_LOSS_MB=200 TCP_LOSS_LIMIT=300 \
		TEST_TIMEOUT=900 tests/integration/run t_tcp_options t_tcp_nft_loss soak_dhcp_renew

# The benchmark: figures printed and written to $(BUILD)/bench.csv and
# $(BUILD)/bench.md, never a failure on speed, in namespaces of its own.
# Needs root; installs nginx-light (never started system-wide, see
# tests/bench/nginx-install) as the reference web server, and liblwip-dev
# (tests/bench/lwip-install) for lwIP on the same TAP: tests/bench/lwiphost,
# the only program that links lwIP, built here and nowhere else (without
# lwIP the bench leaves its rows out). At most 15 minutes.
bench: apps $(BUILD)/bench/tapreflect $(BUILD)/bench/udpflood $(BUILD)/bench/tcpblast
	tests/bench/nginx-install
	tests/bench/lwip-install
	@if pkg-config --exists lwip; then $(MAKE) --no-print-directory $(BUILD)/bench/lwiphost; \
	else echo "bench: lwIP is not installed: no lwIP figures"; fi
	BUILD=$(BUILD) timeout -k 10 900 tests/bench/run

# The bench's own small tools: the TAP reflector and the UDP flooder.
$(BUILD)/bench/%: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# The SACK micro-benchmark: one ACK's wall time on the test harness's host
# (tests/bench/sackwalk.c; no root, not part of make bench).
$(BUILD)/bench/sackwalk: tests/bench/sackwalk.c $(BUILD)/tests/harness.o $(BUILD)/tests/tcp_harness.o \
		$(BUILD)/libtapstack.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

# lwIP as a bench peer (Debian's liblwip, found by pkg-config).
$(BUILD)/bench/lwiphost: tests/bench/lwiphost.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags lwip) $(LDFLAGS) -o $@ $< \
		$(shell pkg-config --libs lwip) -lpthread

# Every test. Ends with Check's summary of the unit and simulated tests.
# The ASan/UBSan run overlaps the integration tests (tests/run-all).
test: all
	tests/check_tours.sh
	tests/check_layers.sh
	BUILD=$(BUILD) MAKE="$(MAKE)" tests/run-all

# The labs' commands run headless (labs/smoke/lab*.sh, each in a lab
# network of its own), checking the facts the handouts' questions rely on:
# a change that breaks a lab fails here. Needs root and /dev/net/tun, and
# says SKIPPED (not passed) without them. About two minutes.
labs-smoke: apps
	@if [ "$$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then \
		echo "labs-smoke: SKIPPED, NOT PASSED: it needs root and /dev/net/tun"; exit 0; fi; \
	failed=""; for t in labs/smoke/lab*.sh; do \
		echo "==> $$t"; \
		BUILD=$(BUILD) timeout -k 10 300 bash "$$t" </dev/null || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "labs-smoke: FAILED:$$failed"; exit 1; fi; \
	echo "labs-smoke: every lab's smoke passed"

# Build it yourself: graded checkpoints (labs/grade/README.md).
#   make lab-tree CHECK=N DIR=PATH   a student tree: checkpoints 0..N blanked
#                                    (ONLY=func blanks that function alone)
#   make checkN                      grade checkpoint N (and those before it)
#   make lab-selftest                prove the grader: each blank fails a test
LAB_CHECKS := 0 1 2 3 4

.PHONY: lab-tree lab-selftest $(LAB_CHECKS:%=check%)

lab-tree:
	@if [ -z "$(CHECK)" ] || [ -z "$(DIR)" ]; then echo "usage: make lab-tree CHECK=N DIR=PATH [ONLY=func]"; exit 2; fi
	labs/grade/mktree --check $(CHECK) $(if $(ONLY),--only $(ONLY)) $(DIR)
	@echo "lab-tree: checkpoints 0..$(CHECK) to write in $(DIR); then: cd $(DIR) && make check$(CHECK)"

$(LAB_CHECKS:%=check%):
	@labs/grade/check $(@:check%=%)

lab-selftest:
	@labs/grade/selftest $(LAB_CHECKS)

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	else echo "all Debian packages present"; fi

# sudo make run builds as root; the build tree then goes back to the user
# who ran sudo (SUDO_UID, SUDO_GID), so that their own `make` later can
# still write there. -h: symbolic links themselves, never what they point to.
run: deps
	@$(MAKE) --no-print-directory all; rc=$$?; \
	if [ -n "$${SUDO_UID:-}" ] && [ "$$SUDO_UID" != 0 ] && [ -d "$(BUILD)" ]; then \
		chown -hR "$$SUDO_UID:$${SUDO_GID:-$$SUDO_UID}" "$(BUILD)"; \
	fi; \
	exit $$rc
	labs/run-host

stop:
	labs/run-host --stop

clean:
	rm -rf build build-asan build-fuzz build-failalloc

# packetdrill: test equipment built from its tarball in $(BUILD)/packetdrill,
# never linked into the stack; the shim is the one library packetdrill loads.
PACKETDRILL_TARBALL ?= /work/shared/vendor/packetdrill-2c4001c.tar.gz
PD_BUILD := $(BUILD)/packetdrill
PD_SRC   := $(PD_BUILD)/src/packetdrill/gtests/net/packetdrill
PD_SO    := $(PD_BUILD)/libtapstack_pd.so

.PHONY: packetdrill
packetdrill:
	@if [ ! -f "$(PACKETDRILL_TARBALL)" ]; then \
		echo "packetdrill: SKIPPED: no tarball at $(PACKETDRILL_TARBALL) (set PACKETDRILL_TARBALL)"; \
	elif ! command -v bison >/dev/null || ! command -v flex >/dev/null; then \
		echo "packetdrill: SKIPPED: bison and flex are needed to build it (apt-get install bison flex)"; \
	else \
		$(MAKE) --no-print-directory $(PD_BUILD)/packetdrill $(PD_SO) && \
		PD_BUILD=$(PD_BUILD) tests/packetdrill/run --selftest && \
		{ PD_BUILD=$(PD_BUILD) tests/packetdrill/run --upstream; true; }; \
	fi

$(PD_BUILD)/packetdrill:
	rm -rf $(PD_BUILD)/src && mkdir -p $(PD_BUILD)/src
	tar -xzf "$(PACKETDRILL_TARBALL)" -C $(PD_BUILD)/src
	cd $(PD_SRC) && ./configure >$(abspath $(PD_BUILD))/configure.log 2>&1 && $(MAKE) packetdrill >$(abspath $(PD_BUILD))/make.log 2>&1 \
		|| { echo "packetdrill: build failed, see $(PD_BUILD)/make.log"; exit 1; }
	cp $(PD_SRC)/packetdrill $@

$(BUILD)/pic/tests/packetdrill/shim.o: tests/packetdrill/shim.c | $(PD_BUILD)/packetdrill
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -I$(PD_SRC) -fPIC -fvisibility=hidden -c -o $@ $<

$(PD_SO): $(BUILD)/pic/tests/packetdrill/shim.o $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
	$(CC) $(LDFLAGS) -shared -o $@ $^ $(LDLIBS) -lpthread

help:
	@sed -n '/^$$/q;2,$$p' Makefile

-include $(PRELOAD_OBJS:.o=.d) $(BUILD)/apps/preload/fdmap.d $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(FA_OBJS:.o=.d) $(FUZZ_SRCS:%.c=$(BUILD)/%.d) $(APPLIB_OBJS:.o=.d) $(APPS:%=$(BUILD)/apps/%.d) \
	$(wildcard $(BUILD)/pic/tests/packetdrill/shim.d)
.SECONDARY:
